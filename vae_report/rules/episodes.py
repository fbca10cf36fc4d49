"""Past episodes: a training loss that went up for a while, within a phase, and came back.

Every other shape rule judges a phase by its ends (start level against end or current level, the latest level
against the recent best), so a rise that happened and recovered in the middle of a phase (an lr spike, a bad data
shard, a regularizer pulling the reconstruction) leaves no trace in the report. This rule finds such episodes.

Method (linear in the number of points): each phase's finite points of a loss that stays positive are reduced to
at most 400 bin medians (loss-now's bins) and judged in log units (a rise is a ratio); a centred moving median of
``SMOOTH`` bins removes spikes of a few points (the spikes rule's). The excess over the running best level is where the
loss stands above the best it had reached; an episode is a stretch whose excess rises above ``rise`` and
``noise_factor`` times the noise of the smoothed level, for at least ``min_points`` logged points, and then comes
back to within a quarter of its rise of the level it left. The noise is as levels.py takes it: the bins'
point-to-point noise (MAD of first differences), or how much block medians wander when that is larger (here from
second differences, which a descent or the episode's own climb does not inflate). The onset is where a
level-then-ramp fit turns, the size is against the points just before it. A rise that has not come back is the
current rise or a level shift (loss-now, rec-after-disc, loss-shift own it); one from a phase's first points has
no level before it (the switch-on's move, KL's growth); one that began at a NaN/Inf point, a resume or with
d_weight at its clamp is the finding's that names those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import position as pos
from ..numbers import above, counted, fmt, pct, signed_pct
from ..schedule import Schedule
from ..stats import MAD_TO_SIGMA, SIDE_POINTS, level_changed, robust_noise, rolling_median
from .adversarial import clamp_bursts
from .base import Case, Metrics, ramp_onset
from .current import binned
from .discriminator import phase_start
from .grouping import CHAIN
from .losses import JUDGED_LOSSES, stale
from .said import Said
from .trend_gap import SHIFT_LOSSES, held_step

SMOOTH = 7  # bins: a moving median this wide removes a burst of up to 3 points (spikes), keeps a longer rise
WITH_SWITCH = 0.05  # an episode beginning within this share of the adversarial phase is its switch-on's
# how a level wanders is measured over blocks of WANDER_BLOCK bins (twice the smoothing: neighbouring blocks of
# correlated noise would otherwise look alike), of which it needs WANDER_BLOCKS
WANDER_BLOCK = 2 * SMOOTH
WANDER_BLOCKS = 20
MIN_POINTS = 40  # finite points a phase needs to be searched
SWITCH_ON = "at the discriminator's switch-on"
KEEP = 2  # episodes reported per loss, the largest
# the losses that should fall or hold within a phase; the GAN terms move with the adversarial balance and are
# judged by the balance rules. KL rises by design under a small weight: an episode of it is a rise of at least
# ``kl_rise`` above its recent best (not its first level) that came back.
EPISODE_LOSSES = ("rec_loss", "nll_loss", "total_loss", "aeloss", "p_loss", "quant_loss", "kl_loss")
RISES_BY_DESIGN = ("kl_loss",)


@dataclass(frozen=True)
class Episode:
    """One rise and recovery of a loss: where it left its level, peaked and came back, and the levels there
    (medians of the smoothed bins), with the logged points it spans."""

    metric: str
    onset: int
    peak_step: int
    recovered: int
    before: float
    peak: float
    after: float
    points: int

    @property
    def ratio(self) -> float:
        return self.peak / self.before

    def overlaps(self, other: Episode) -> bool:
        return self.onset <= other.recovered and other.onset <= self.recovered


def _wander(z: np.ndarray, block: int) -> float:
    """How much medians of ``block`` consecutive points move from one block to the next (0 with fewer than
    WANDER_BLOCKS blocks), from the MAD of their second differences: a descent or a climb in straight stretches
    (a loss still falling, an episode itself) cancels there, as it does not in first differences."""
    blocks = len(z) // block
    if blocks < WANDER_BLOCKS:
        return 0.0
    second = np.diff(np.median(z[:blocks * block].reshape(blocks, block), axis=1), 2)
    return float(MAD_TO_SIGMA * np.median(np.abs(second - np.median(second))) / math.sqrt(6))


def judged(values: np.ndarray) -> bool:
    """Whether a phase of a loss can be searched for episodes: enough finite points, all positive (a signed
    loss has no ratio to rise by)."""
    good = values[np.isfinite(values)]
    return len(good) >= MIN_POINTS and bool(np.all(good > 0))


def find_episodes(name: str, steps: np.ndarray, values: np.ndarray, rise: float, t: dict,
                  context: np.ndarray | None = None) -> list[Episode]:
    """The recovered episodes of one loss within one phase (steps and values of that phase, ``judged``), oldest
    first; a rise still going at the phase's end is not one. ``context``: the loss's values over the whole run,
    whose wander stands in for a phase too short to measure its own. A loss that should fall or hold is judged
    against the best level it had reached; one that rises by design (KL) against its best of the latest
    quarter of the phase, so that its growth is not taken for the level it must come back to."""
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    z = np.log(values)
    b_steps, zb = binned(steps, z)  # at most 400 medians of k points each
    k = len(z) // len(zb)
    if len(zb) < 3 * SMOOTH:
        return []
    zs = rolling_median(zb, SMOOTH, SMOOTH // 2 + 1)
    noise = smoothed_noise(zb, k, context)
    if not math.isfinite(noise):
        return []
    band = max(math.log1p(rise), t["noise_factor"] * noise)
    trailing = max(4 * SMOOTH, len(zb) // 4) if name in RISES_BY_DESIGN else None
    out: list[Episode] = []
    i = 0
    while i < len(zs):
        span = next_rise(zs, i, band, noise, trailing)
        if span is None:
            break
        low_at, peak_at, end = span
        if end is None:  # still up at the phase's end: the current rise (loss-now), or one the switch-on cut
            if trailing is None:
                break
            # a loss rising by design: its growth is no episode; look on from where its recent best caught up
            i = _caught_up(zs, peak_at, band, trailing)  # peak_at: where it first stood out
            continue
        i = end + 1
        if name in SHIFT_LOSSES and next_rise(zs, i, band, noise, None) is None \
                and held_step(steps, values, b_steps, zs, SMOOTH, k, span, band) is not None:
            break  # the last rise held against the course the loss was on: a shift (loss-shift), not over
        # where the level turned into the climb (a level-then-ramp fit from the best level to the top): a rise
        # is dated where it starts, not where it clears the noise
        a, b = int(np.searchsorted(steps, b_steps[low_at])), int(np.searchsorted(steps, b_steps[peak_at])) + k
        onset = ramp_onset(steps[a:b], z[a:b])[0]
        # a rise from the phase's first points has no level before it to come back to (KL's growth under a
        # small weight, a warm-up): no episode
        points = int(np.sum(zs[low_at:end + 1] > (zs[low_at] + zs[peak_at]) / 2)) * k
        if points < t["min_points"] or onset <= b_steps[SMOOTH]:
            continue
        # the levels it left and came back to: the points just before the onset and just after it came back
        # (the smoothed running best and the first bin back sit low by the noise's lowest excursions); the rise
        # must stand out against the former too
        at, back = int(np.searchsorted(steps, onset)), int(np.searchsorted(steps, b_steps[end]))
        # the level it left over SIDE_POINTS or more, and the stretch it stood raised for, told apart by their
        # medians against the points' own scatter: a noisy plateau's highest few points are no episode
        w = max(SMOOTH * k, SIDE_POINTS)
        if not level_changed(z[max(0, at - w):at], z[at:back]):
            continue
        before, after = values[max(0, at - w):at], values[back:back + SMOOTH * k]
        level = float(np.median(before))
        if float(zs[peak_at]) - math.log(level) >= band:
            out.append(Episode(name, onset, int(b_steps[peak_at]), int(b_steps[end]), level,
                               math.exp(float(zs[peak_at])), float(np.median(after)), points))
    return out


def _caught_up(zs: np.ndarray, j: int, band: float, trailing: int) -> int:
    """The first bin from ``j`` on where the best of the ``trailing`` bins before is within ``band`` of the
    level: a loss rising by design has settled there (len(zs) when it never does)."""
    import bottleneck

    settled = np.flatnonzero(zs[j:] - bottleneck.move_min(zs, trailing, min_count=1)[j:] <= band / 2)
    return j + int(settled[0]) if len(settled) else len(zs)


def smoothed_noise(zb: np.ndarray, k: int, context: np.ndarray | None) -> float:
    """The noise of a median of SMOOTH bins: from the bins' point noise, or how much medians of blocks move from
    one to the next when that is larger (a level that wanders: correlated noise), as levels.py takes it. The
    latter needs WANDER_BLOCKS blocks, where the descent and an episode are a minority of the differences its
    MAD is robust to; a shorter phase takes it from the whole run (``context``)."""
    noise = 1.2533 * robust_noise(zb) / math.sqrt(SMOOTH)
    if len(zb) >= WANDER_BLOCKS * WANDER_BLOCK:
        return max(noise, _wander(zb, WANDER_BLOCK))
    if context is not None:
        context = context[np.isfinite(context) & (context > 0)]
        return max(noise, _wander(np.log(context), WANDER_BLOCK * k))
    return noise


def next_rise(zs: np.ndarray, i: int, band: float, noise: float, trailing: int | None
               ) -> tuple[int, int, int | None] | None:
    """(the best level's bin, the top's, the bin where it came back) of the first rise from ``i`` on whose excess
    over the best level exceeds ``band``, coming back to within a quarter of its rise (or 2 noises) of that
    best; when it did not come back, (the best's bin, the bin where the excess first exceeded ``band``, None).
    The best is the running best from ``i`` on, or for a loss that rises by design (``trailing``) the best of
    that many bins before; None when there is no such rise."""
    if trailing is None:
        floor = np.minimum.accumulate(zs[i:])
    else:
        import bottleneck

        floor = bottleneck.move_min(zs, trailing, min_count=1)[i:]
    above = np.flatnonzero(zs[i:] - floor > band)
    if not len(above):
        return None
    first = i + int(above[0])
    start = i if trailing is None else max(i, first - trailing + 1)
    low_at = start + int(np.argmin(zs[start:first + 1]))
    base, peak_at = float(zs[low_at]), first
    for j in range(first, len(zs)):
        if zs[j] > zs[peak_at]:
            peak_at = j
        if zs[j] <= base + max(0.25 * (zs[peak_at] - base), 2 * noise):
            return low_at, peak_at, j
    return low_at, first, None


def phases(m: Metrics, s: Schedule) -> list[tuple[int | None, int | None, str]]:
    """(first step, end step, name) of each phase the run has logged: "" for a run still before its switch-on
    (or without one)."""
    start = phase_start(m, s)
    if start is None:
        return [(None, None, "")]
    return [(None, start, "before discriminator"), (start, None, "adversarial")]


def owned_elsewhere(onset: int, peak: int, until: int, m: Metrics, s: Schedule, phase_first: int | None,
                    every: int) -> str | None:
    """What explains a rise (from ``onset``, at its top by ``peak``, lasting until ``until``) another finding
    tells, or None: it began at the switch-on, at a NaN/Inf point, at a resume, or while d_weight sat at its
    clamp."""
    if phase_first is not None:
        span = max(m.last_step() - phase_first, 1)
        if onset - phase_first <= max(WITH_SWITCH * span, 5 * every):
            return SWITCH_ON
    bad = [int(x) for n in m.names() if n in JUDGED_LOSSES for x in m.steps(n)[~np.isfinite(m.values(n))]]
    if any(onset - 3 * every <= x <= peak for x in bad):
        return "at a NaN/Inf point"
    if any(onset - 3 * every <= int(r["step"]) <= peak for r in m.restarts):
        return "at a resume"
    if any(a <= until and onset <= b + every for a, b in clamp_bursts(m, s)):
        return "with d_weight at its clamp"
    return None


def loss_episode(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    found: list[tuple[Episode, str]] = []
    checked: list[str] = []
    owned: dict[str, list[str]] = {}  # episodes other findings explain, by what explains them
    for name in EPISODE_LOSSES:
        if not m.has(name) or stale(m, name):
            continue  # no longer logged: loss-stopped says so
        steps = m.steps(name)
        every = int(np.median(np.diff(steps[-1000:]))) if len(steps) > 1 else 1  # the logging interval
        rise = t["kl_rise"] if name == "kl_loss" else t["rise"]
        for lo, hi, phase in phases(m, s):
            w_steps, w_values = m.window(name, lo, hi)
            if not judged(w_values):
                continue
            checked += [name] if name not in checked else []
            for e in find_episodes(name, w_steps, w_values, rise, t, m.values(name)):
                reason = owned_elsewhere(e.onset, e.peak_step, e.recovered, m, s, lo, every)
                if reason is None:
                    found.append((e, phase))
                else:
                    owned.setdefault(reason, []).append(name)
    if not found:
        return [_none(checked, owned, m.last_step(), t)] if checked else []
    # one cause, one finding: an episode of the reconstruction chain is told on its root (rec, then nll, the
    # total), the others that moved with it named there
    told: list[tuple[Episode, str, list[Episode]]] = []
    for e, phase in sorted(found, key=lambda f: _root(f[0].metric)):
        head = next((h for h in told if h[0].metric in CHAIN and e.metric in CHAIN and h[0].overlaps(e)), None)
        if head is not None:
            head[2].append(e)
        else:
            told.append((e, phase, []))
    kept = [h for name in EPISODE_LOSSES
            for h in sorted((h for h in told if h[0].metric == name), key=lambda h: -h[0].ratio)[:KEEP]]
    return [_case(e, phase, moved, [h[0] for h in kept if h[0] is not e and h[0].overlaps(e)], m, s, t)
            for e, phase, moved in sorted(kept, key=lambda h: h[0].onset)]


def loss_episode_short(f: Said) -> str | None:
    n = f.n
    if "peak_level" in n and "level_before" in n:
        return (f"{f.metric} went up from {fmt(n['level_before'])} to {fmt(n['peak_level'])} at "
                f"{f.at(n.get('peak_step', f.step))} and was back to {fmt(n.get('level_after'))} by "
                f"{f.at(n.get('recovered_step', f.step))}")
    if "checked" in n:
        return f"no recovered episode ({counted(len(n['checked']), 'loss', 'losses')} checked)"
    return None


def _none(checked: list[str], owned: dict[str, list[str]], last: int, t: dict) -> Case:
    """The case of a run whose losses had no episode of their own: which were looked at, what would have
    counted, and the rises left to the findings that explain them."""
    kl = (f" (KL, which rises by design: {pct(t['kl_rise'], 0)} or more above its best of the latest quarter of "
          "the phase)") if "kl_loss" in checked else ""
    switch = owned.get(SWITCH_ON)
    told = "; ".join(f"{', '.join(dict.fromkeys(names))} {reason}" for reason, names in owned.items()
                     if reason != SWITCH_ON)
    but = "".join([f", apart from the move at the discriminator's switch-on ({', '.join(dict.fromkeys(switch))}: "
                   "expected, its term joins the objective)" if switch else "",
                   f", apart from rises other findings tell ({told})" if told else ""])
    return Case(f"No recovered episode: no training loss had a stretch {pct(t['rise'], 0)} or more above the best "
                f"level it had reached in its phase{kl}, beyond its noise and longer than a spike, that later "
                f"returned to that level{but}; checked: {', '.join(checked)}.",
                None, last, {"checked": checked, "left_to_other_findings": owned}, severity="ok", case="none")


def _root(metric: str) -> int:
    return CHAIN.index(metric) if metric in CHAIN else len(CHAIN)


def _case(e: Episode, phase: str, moved: list[Episode], beside: list[Episode], m: Metrics, s: Schedule,
          t: dict) -> Case:
    """The finding of one episode: where it began, peaked and came back, its size, the level now, the losses
    that moved with it, and what to look at."""
    now = m.now(e.metric)
    now = e.after if math.isnan(now) and math.isfinite(m.values(e.metric)[-1]) else now
    gap = e.after / e.before - 1
    back = f"{pct(abs(gap))} {'above' if gap > 0 else 'below'} its level before it ({fmt(e.before)})"
    names = list(dict.fromkeys(x.metric for x in moved))
    with_it = f" ({' and '.join(names)} moved with it)" if names else ""
    also = "".join(f" {x.metric} went up in the same stretch (its own finding)." for x in beside)
    where = {"before discriminator": " It happened before the discriminator started, so it is not the "
                                     "adversarial term's doing.",
             "adversarial": " It happened in the adversarial phase, after its switch-on."}.get(phase, "")
    last = m.last_step()
    span = max(last - int(m.steps(e.metric)[0]), 1)  # the logged run (logs that begin late included)
    loud = e.ratio >= 1 + t["large"] and last - e.recovered <= t["recent"] * span
    look = f"look at what changed near {pos.at(s, e.onset)} (the learning rate, the data{_terms(m, e)})"
    advice = (f" A rise that large, so recently over, can come again: {look} before it does." if loud
              else f" Nothing to do now; if it recurs, {look}.")
    # over when the loss is back at its level (within 5%) now; else it came most of the way back, and one still
    # a whole rise above it has not made up the ground it lost
    left = now / e.before - 1 if e.before > 0 else 0.0
    head = "had an episode that is over" if left <= 0.05 else "had an episode it came most of the way back from"
    still = f", still {above(left)} its level before it ({fmt(e.before)})" if left > 0.05 else ""
    still = still if math.isfinite(now) else ", diverged"
    if left >= t["rise"]:
        advice = (f" It has not made up the ground it lost: if it does not, resume from a checkpoint before "
                  f"{pos.at(s, e.onset)} and {look}.")
    message = (f"{e.metric} {head}: from {pos.at(s, e.onset)} its level went up from "
               f"{fmt(e.before)} to {fmt(e.peak)} at {pos.at(s, e.peak_step)} ({signed_pct(e.ratio - 1)}, far "
               f"beyond its noise), and by {pos.at(s, e.recovered)} it was back to {fmt(e.after)}, {back}; it is "
               f"{fmt(now)} now{still}{with_it}.{lr_then(m, s, e.onset, e.peak_step)}{also}{where}{advice}")
    numbers = {"onset_step": e.onset, "peak_step": e.peak_step, "recovered_step": e.recovered,
               "level_before": e.before, "peak_level": e.peak, "level_after": e.after, "level_now": now,
               "rise": e.ratio - 1, "points": e.points, "phase": phase or None, "moved_with": names}
    return Case(message, e.metric, e.onset, numbers, severity=None if loud else "info")


def lr_then(m: Metrics, s: Schedule, onset: int, peak: int) -> str:
    """The learning rate named when it jumped as a rise began (``onset``; at its top by ``peak``): at least 1.5
    times its level just before, between a little before the onset and the top."""
    if not m.has("lr"):
        return ""
    steps, lr = m.window("lr", hi=onset)
    before = lr[np.isfinite(lr)][-2 * SMOOTH:]
    steps, lr = m.window("lr", onset - max(1, (peak - onset) // 4), peak + 1)
    good = np.isfinite(lr)
    steps, lr = steps[good], lr[good]
    if not len(before) or not len(lr) or np.median(before) <= 0:  # none, or printed as 0.00000
        return ""
    level, top = float(np.median(before)), int(np.argmax(lr))
    if lr[top] < 1.5 * level:
        return ""
    return (f" The learning rate went from {fmt(level)} to {fmt(float(lr[top]))} (at {pos.at(s, int(steps[top]))}) "
            "as it began: a likely cause.")


def _terms(m: Metrics, e: Episode) -> str:
    """The other terms of the objective worth a look beside a reconstruction episode (never one not logged)."""
    if e.metric in ("kl_loss", "quant_loss"):
        return ""
    if m.has("kl_loss"):
        return ", the KL term"
    return ", the codebook term" if m.has("quant_loss") else ""
