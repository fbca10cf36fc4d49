"""A loss that stepped up and stayed up: a level shift older than the latest logs.

``loss-now`` judges the latest level against the best of the recent stretch (and, within the current phase, a rise
of +50% against the phase's best); ``loss-episode`` tells rises that came back. A loss that stepped up in an
earlier phase and stayed there, or by less than loss-now's minimum long before its recent stretch, is told by
neither: its latest level is its recent best. This rule finds such shifts.

Method: each phase of a loss that stays positive is searched as ``loss-episode`` searches it (at most 400 bin
medians in log units, a moving median of ``SMOOTH`` bins, the same noise and the same band: ``rise`` and
``noise_factor`` noises above the running best); a rise that never came back to within a quarter of its size by
the phase's end is a shift when its level at the phase's end is still ``rise`` above the level just before it, the
medians of every point it held for and of as many before it (up to LONG windows of SIDE_POINTS) stand
stats.LEVEL_Z standard errors apart, and the loss's current level (the run's latest logs, in a later phase too) is
still half ``rise`` above it. It is dated where
it turned (base.turn_onset: a step's first point, a climb's start). Not a shift: one from a phase's first points
(a warm-up, KL's growth) or at the discriminator's switch-on (rec-after-disc tells that), the GAN terms, a total
in the adversarial phase (it carries the adversarial term), the regularizers (KL rises by design under a small
weight: see kl-rising; a VQ commitment term grows with the encoder's outputs), one that began at a NaN/Inf, a
resume or d_weight's clamp (their findings), and a loss NaN/Inf now. One whose learning rate jumped as it began
is the schedule's doing: info, naming it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .. import position as pos
from ..checkpoints import checkpoint_before
from ..numbers import above, counted, describe_change, fmt, pct, signed_pct
from ..schedule import Schedule
from ..stats import SIDE_POINTS, level_changed, rolling_median
from .base import Case, Finding, Metrics, turn_onset
from .current import binned
from .episodes import SMOOTH, judged, lr_then, next_rise, owned_elsewhere, phases, smoothed_noise
from .losses import stale
from .said import Said
from .trend_gap import COMPONENTS, SHIFT_LOSSES, Held, held_step

CARRY_GAN = ("total_loss", "aeloss")  # in the adversarial phase they carry d_weight x g_loss
LONG = 5  # a step is judged over up to this many quoted-level windows before it (100 points or more)


@dataclass(frozen=True)
class Shift:
    """A loss's level that went up at ``onset`` (reaching its new level by ``reached``) and stayed up: the
    levels just before, at the end of the phase it happened in, and now."""

    onset: int
    reached: int
    before: float
    after: float
    now: float
    how: str  # "step" or "ramp"
    before_span: tuple[int, int]  # the steps the levels before and after are medians over
    after_span: tuple[int, int]
    metric: str = ""
    phase: str = ""
    held: Held | None = None  # judged against the trend before it (trend_gap), not against the level alone

    @property
    def ratio(self) -> float:
        return self.after / self.before

    def near(self, other: Shift, tolerance: int) -> bool:
        return abs(self.onset - other.onset) <= tolerance


def find_shift(steps: np.ndarray, values: np.ndarray, rise: float, t: dict,
               context: np.ndarray | None = None) -> Shift | None:
    """The rise of one loss within one phase (``judged`` points) that did not come back by the phase's end, its
    level then (``after``, also ``now``) against the level just before it; or, failing that, its last rise when
    it held against the trend before it (``held``: ``after`` its top, ``now`` its level at the phase's end);
    or None."""
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    z = np.log(values)
    b_steps, zb = binned(steps, z)
    k = len(z) // len(zb)
    if len(zb) < 3 * SMOOTH:
        return None
    zs = rolling_median(zb, SMOOTH, SMOOTH // 2 + 1)
    noise = smoothed_noise(zb, k, context)
    if not math.isfinite(noise):
        return None
    band = max(math.log1p(rise), t["noise_factor"] * noise)
    span = last_rise(zs, band, noise)
    if span is None:
        return None
    # a rise that came back against the level just before it, or that stands less than ``band`` above it, may
    # still have held against the course the loss was on (trend_gap): judged so
    shift = _standing(steps, values, b_steps, zs, k, span, math.log1p(rise)) if span[2] is None else None
    if shift is not None:
        return shift
    held = held_step(steps, values, b_steps, zs, SMOOTH, k, span, band)
    if held is None:
        return None
    w = SMOOTH * k
    at = int(np.searchsorted(steps, held.onset))
    return Shift(held.onset, held.reached, held.before, held.top, held.end, held.how,
                 (int(steps[max(0, at - w)]), held.onset), (int(steps[-w]), int(steps[-1]) + 1), held=held)


def last_rise(zs: np.ndarray, band: float, noise: float) -> tuple[int, int, int | None] | None:
    """The last rise of a phase (next_rise's bins), past the rises that came back before it; None when none."""
    i, last = 0, None
    while (span := next_rise(zs, i, band, noise, None)) is not None:
        last = span
        if span[2] is None:
            break
        i = span[2] + 1
    return last


def _standing(steps: np.ndarray, values: np.ndarray, b_steps: np.ndarray, zs: np.ndarray, k: int,
              span: tuple[int, int, int | None], least: float) -> Shift | None:
    """A rise still standing at the phase's end, ``least`` (log units) or more above the level just before it
    and clear of the points' own scatter, or None."""
    z = np.log(values)
    low_at = span[0]
    end_level = float(np.median(z[-SMOOTH * k:]))
    # fitted from the best level it left; failing that, from a few smoothing widths before it cleared the band:
    # on a noisy plateau the best level can lie far before the step, and the fit over all that scatter explains
    # too little of it
    for start in dict.fromkeys((low_at, max(low_at, span[1] - 4 * SMOOTH))):
        a = int(np.searchsorted(steps, b_steps[start]))
        if (turned := turn_onset(steps[a:], z[a:], float(zs[low_at]), end_level)) is not None:
            break
    if turned is None:
        return None
    onset, how = turned
    at = int(np.searchsorted(steps, onset))
    # a shift holds a level: it began before the phase's latest stretch and not in its first points
    if onset <= b_steps[SMOOTH] or len(z) - at < 2 * SMOOTH * k:
        return None
    # the levels quoted: medians of SIDE_POINTS or more just before it and at the phase's end
    w = max(SMOOTH * k, SIDE_POINTS)
    level = math.exp(float(np.median(z[max(0, at - w):at])))
    end_level = float(np.median(z[-w:]))
    reached = np.flatnonzero(zs[low_at:] >= end_level - 0.1 * (end_level - math.log(level)))
    top = max(int(b_steps[low_at + int(reached[0])]) if len(reached) else onset, onset)
    # the step judged by a sustained difference of medians, clear of the points' own scatter (not two extremes
    # of a noisy plateau): every point from where it got up to the phase's end (that it held is the claim)
    # against as many just before it, up to LONG windows (a loss still falling long before it would lift the
    # level it left). A hundred points a side put a step of a few point noises many standard errors clear, as
    # SIDE_POINTS a side would not; the band of the scan that found it (the excursions of a 7-bin median above
    # its running best) is no measure of its size: the rule's minimum rise is
    held = z[int(np.searchsorted(steps, top)):]
    held = held if len(held) >= w else z[-w:]
    if not level_changed(z[max(0, at - min(len(held), LONG * w)):at], held) or end_level - math.log(level) < least:
        return None
    after = math.exp(end_level)
    return Shift(onset, top, level, after, after, how, (int(steps[max(0, at - w)]), onset),
                 (int(steps[-w]), int(steps[-1]) + 1))


def _shifts(m: Metrics, s: Schedule, t: dict) -> tuple[list[Shift], list[str], dict[str, list[str]]]:
    """The shifts of every loss that held to its latest logs; the losses searched; those other findings tell."""
    found: list[Shift] = []
    checked: list[str] = []
    owned: dict[str, list[str]] = {}
    for name in SHIFT_LOSSES:
        if not m.has(name) or stale(m, name) or not np.isfinite(m.values(name)[-1]):
            continue  # no longer logged (loss-stopped), or NaN/Inf now (non-finite): no level to have held
        every = int(np.median(np.diff(m.steps(name)[-1000:]))) if len(m.steps(name)) > 1 else 1
        level = m.level(name)
        for lo, hi, phase in phases(m, s):
            if phase == "adversarial" and name in CARRY_GAN:
                continue
            w_steps, w_values = m.window(name, lo, hi)
            if not judged(w_values):
                continue
            checked += [name] if name not in checked else []
            shift = find_shift(w_steps, w_values, t["rise"], t, m.values(name))
            if shift is None:
                continue
            now = level.value if level is not None else shift.after
            # held to the latest logs: the current level (in a later phase too) is still half the threshold above
            # the level just before it and, for a step that stood up, at least half its way up (in log units);
            # the step itself was judged against the points' own scatter (stats.level_changed), so a loss that
            # went on falling at its old pace after the step has not made up its cost
            if not (math.isfinite(now) and now >= shift.before * (1 + t["rise"] / 2)):
                continue
            if shift.held is None and now < math.sqrt(shift.before * shift.after):
                continue
            reason = owned_elsewhere(shift.onset, shift.reached, m.last_step(), m, s, lo, every)
            if reason is None:  # its level before the step quoted as the shared one where it is that level
                found.append(replace(shift, now=now, metric=name, phase=phase, before=m.baseline(name, shift.before)))
            else:
                owned.setdefault(reason, []).append(name)
    return found, checked, owned


def _none(checked: list[str], owned: dict[str, list[str]], named: dict[str, str], rise: float, last: int) -> Case:
    """The case of no step that stayed up: what was checked, the rises left to the findings that explain them
    (``owned``), and the losses another finding reports (``named``: metric -> its title), which this all-clear
    does not cover."""
    told = "; ".join(f"{', '.join(dict.fromkeys(names))} {reason}" for reason, names in owned.items())
    by_title: dict[str, list[str]] = {}
    for name, title in named.items():
        by_title.setdefault(title, []).append(name)
    other = "; ".join(f"{', '.join(names)}: see \"{title}\"" for title, names in by_title.items())
    return Case(f"No loss stepped up and stayed up{f' other than as other findings report ({other})' if other else ''}"
                f": no training loss rose {pct(rise, 0)} or more (and far beyond its noise) above its level within "
                "a phase without coming back by the latest logs"
                f"{f', apart from rises other findings tell ({told})' if told else ''}; checked: "
                f"{', '.join(checked)}.", None, last,
                {"checked": checked, "left_to_other_findings": owned, "threshold": rise,
                 **({"named_elsewhere": sorted(named)} if named else {})}, severity="ok", case="none")


def shift_ok_without(finding: Finding, named: dict[str, Finding]) -> Finding:
    """loss-shift's all-clear with the losses another finding reports (``named``: metric -> that finding, as
    grouping.loud_metrics gives them) said as that finding's, not as steady: no ok sentence says a loss did not
    step up beside a warning that it rose and stayed up."""
    numbers = finding.numbers
    if finding.case != "none" or "threshold" not in numbers or not named.keys() & set(numbers["checked"]):
        return finding
    mine = {name: named[name].title or named[name].rule for name in numbers["checked"] if name in named}
    case = _none(numbers["checked"], numbers["left_to_other_findings"], mine, numbers["threshold"],
                 finding.step or 0)
    return replace(finding, message=case.message, numbers=case.numbers)


def loss_shift(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    found, checked, owned = _shifts(m, s, t)
    if not checked:
        return []
    last = m.last_step()
    if not found:
        return [_none(checked, owned, {}, t["rise"], last)]
    # one cause, one finding: shifts of the reconstruction's chain at about the same step are told on its root
    # (rec, then nll, the total), the components logged apart named with their own size
    tolerance = max(int(0.05 * max(last, 1)), 1)
    groups: list[list[Shift]] = []
    for shift in sorted(found, key=lambda f: SHIFT_LOSSES.index(f.metric)):
        group = next((g for g in groups if g[0].near(shift, tolerance)), None)
        if group is not None:
            group.append(shift)
        else:
            groups.append([shift])
    return [_case(group, m, s) for group in sorted(groups, key=lambda g: g[0].onset)]


def loss_shift_short(f: Said) -> str | None:
    n = f.n
    if "level_before" in n and "level_after" in n:  # the message's numbers: the level it stepped up to
        return (f"{f.metric} stepped up at {f.at(n.get('onset_step', f.step))} and stayed: "
                f"{describe_change(n['level_before'], (n.get('now') or {}).get(f.metric, n['level_after']))}")
    if "checked" in n:
        return f"no loss stepped up and stayed up ({counted(len(n['checked']), 'loss', 'losses')} checked)"
    return None


def _case(group: list[Shift], m: Metrics, s: Schedule) -> Case:
    """The finding of one shift: where it happened, the levels before, after and now, the losses that moved
    with it, the component logged apart that drives it (or, told alone, the sum it is part of), and what to
    look at."""
    head, others = group[0], group[1:]
    parts = [x for x in others if x.metric in COMPONENTS]
    moved = [x.metric for x in others if x.metric not in COMPONENTS]
    earlier = head.phase == "before discriminator"
    until = "by the end of the phase before the discriminator" if earlier else "by its latest logs"
    now = f", and {fmt(head.now)} now, in the adversarial phase" if earlier else ""
    with_it = f" {' and '.join(moved)} moved with it." if moved else ""
    driven = "".join(f" {x.metric}, logged apart, {_when(x, s)} too: {fmt(x.before)} to {fmt(x.after)} "
                     f"({_size(x.ratio)}{', more than the sum it is part of' if x.ratio > head.ratio else ''})."
                     for x in parts)
    sum_text, sum_numbers = _sum(head, m, s) if head.metric in COMPONENTS else ("", {})
    where = (" It happened before the discriminator started, so it is not the adversarial term's doing."
             if earlier else " It happened in the adversarial phase, well after its switch-on." if head.phase else "")
    lr = lr_then(m, s, head.onset, head.reached)
    after = (" The adversarial phase started from the higher level, so the checks within it (the latest logs "
             "against their recent best, the level since the switch-on) do not show it." if earlier else "")
    # in the current phase the level it is at now is the one current level (the statistics table's Now): the
    # step is told from just before it to there, one size for the message, the action and the findings cited
    current = not earlier and head.held is None and math.isfinite(head.now) and head.before > 0
    to, ratio = (head.now, head.now / head.before) if current else (head.after, head.ratio)
    told = (f"and never came back: from {fmt(head.before)} just before to {fmt(to)} ({_size(ratio)}, far"
            f" beyond its noise) {until}{now}." if head.held is None else _held_text(head, s, until, now))
    message = f"{head.metric} {_when(head, s)} {told}{with_it}{driven}{sum_text}{where}{lr}{after}"
    held = head.held
    against = {} if held is None else {"against_trend": {
        "at_step": held.judged_at, "level": held.level, "trend": held.trend, "fitted": list(held.fitted),
        "level_at_phase_end": held.end}}
    numbers = {"onset_step": head.onset, "reached_step": head.reached, "level_before": head.before,
               "level_after": head.after, "level_now": head.now, "ratio": head.ratio, "shape": head.how,
               "phase": head.phase or None, "moved_with": moved, **sum_numbers,
               # the losses this finding names as risen, so that no "at its best" elsewhere lists them
               "rising_terms": [x.metric for x in others],
               "components": {x.metric: {"onset_step": x.onset, "level_before": x.before, "level_after": x.after,
                                         "ratio": x.ratio} for x in parts}, **against,
               **({"now": {head.metric: head.now}, "ratio_now": ratio} if current else {})}
    # the shift is measured (far beyond the noise, never back): no "if the model is worse for it"; the checkpoint
    # before it holds the better weights, whichever the cause
    keep = checkpoint_before(s, head.onset)
    numbers["keep_checkpoint"] = keep
    kept = f"no checkpoint precedes it ({keep})" if keep.startswith("the beginning") else \
        f"the checkpoint to keep is {keep}"
    came = "never came back" if held is None else "has stayed above the course it was on"
    action = (f"{head.metric} {_when(head, s)} ({_size(ratio)}) and {came}, so {kept}. Look at "
              "what changed there (the learning rate, the data, a loss weight, a resume from another checkpoint), "
              "and train again from there once it is fixed.")
    return Case(message, head.metric, head.onset, numbers, severity="info" if lr else None, action=action)


def _held_text(x: Shift, s: Schedule, until: str, now: str) -> str:
    """A step that fell again at its old pace, judged against the course it was on: the step, where it stands
    against the trend before it, and against the level just before it."""
    h = x.held
    # the one current level of the metric (the statistics table's Now) where the phase is the current one
    end = x.now if until == "by its latest logs" and math.isfinite(x.now) else h.end
    # each percentage beside the two numbers it is computed from; the level in a later phase after them
    later = f" (it is {fmt(x.now)} now, in the adversarial phase)" if now else ""
    return (f"and has stayed above the course it was on: from {fmt(x.before)} just before to {fmt(x.after)} "
            f"({_size(x.ratio)}, far beyond its noise); it has fallen since, to {fmt(end)} {until}, still "
            f"{above(end / x.before - 1)} its level before the step ({fmt(x.before)}), while its trend before the "
            f"step (a power law fitted over {pos.span(s, *h.fitted)}) would have had it at about {fmt(h.trend)} "
            + (f"there ({_size(end / h.trend)})" if h.at_end else
               f"by {pos.at(s, h.judged_at)}, where it was {fmt(h.level)} ({_size(h.level / h.trend)})")
            + f": it did not make up the ground the step cost it{later}.")


def _when(x: Shift, s: Schedule) -> str:
    if x.how == "step" or x.reached <= x.onset:
        return f"stepped up at {pos.at(s, x.onset)}"
    return f"climbed from {pos.at(s, x.onset)} to a higher level by about {pos.at(s, x.reached)}"


def _sum(part: Shift, m: Metrics, s: Schedule) -> tuple[str, dict]:
    """The reconstruction sum a component told alone is part of, over the same stretches: it rose less (else
    it would head the finding)."""
    whole = "rec_loss"
    if not m.has(whole):
        return "", {}
    before = m.window(whole, *part.before_span)[1]
    after = m.window(whole, *part.after_span)[1]
    before, after = before[np.isfinite(before)], after[np.isfinite(after)]
    if len(before) < 3 or len(after) < 3:
        return "", {}
    a, b = float(np.median(before)), float(np.median(after))
    if a <= 0:
        return "", {}
    numbers: dict = {"sum": {whole: {"level_before": a, "level_after": b}}}
    if b > a:  # the sum rose with its component: no all-clear on it elsewhere (grouping.loud_metrics)
        numbers["implicates"] = {whole: "risen"}
    return (f" {whole}, the sum it is part of, went from {fmt(a)} to {fmt(b)} over the same stretches "
            f"({signed_pct(b / a - 1)}): the component says where the reconstruction got worse.", numbers)


def _size(ratio: float) -> str:
    return signed_pct(ratio - 1) if ratio < 2 else f"x{fmt(round(ratio, 1))}"


