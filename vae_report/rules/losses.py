"""Checks of the loss curves: non-finite values, losses unknown or no longer logged, trends (the loss's own
bookkeeping is rules.bookkeeping)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .. import position as pos
from ..checkpoints import checkpoint_before
from ..frame import canonical_name, gradient_norms
from ..levels import Level, current_level, difference_noise, movement, start_level
from ..numbers import counted, describe_change, fmt, listed, relative_change
from ..schedule import Schedule
from ..stats import robust_noise, rolling_median
from .base import Case, Metrics, departure, finite, median_of, see
from .bookkeeping import bookkeeping
from .discriminator import phase_start
from .evidence import jump_said, lr_across, lr_blamed, lr_jump_before
from .knobs import chase_less
from .said import Said
from .untrained import scale_metrics

OVERFLOW = 1e30  # no loss of a working run is this large: a float that has overflowed in all but name


def _broken(values: np.ndarray) -> np.ndarray:
    """Which points are NaN, Inf or overflowed."""
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(values) | (np.abs(values) >= OVERFLOW)


def _share_bad(bad: np.ndarray) -> str:
    """"(1 of 300 points is NaN, ...)": how many of a metric's points are not finite (or overflowed)."""
    n = int(bad.sum())
    return f"({fmt(n)} of {fmt(len(bad))} points {'is' if n == 1 else 'are'} NaN, Inf or beyond {OVERFLOW:.0e})"


# why a NaN/Inf that did not derail training matters (the rule's rationale is for one that did)
_PASSING = ("a NaN or Inf is where numerics broke; isolated ones the loss recovered from, ones in validation only, or "
            "ones in a metric the optimized loss did not take in did not derail training, but they say where to look.")

def non_finite(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    out = []
    bads = {}
    for name in m.names():
        bad = _broken(m.values(name))
        if bad.any():
            bads[name] = bad
    recovered_at = {name: _recovered(m.values(name), bad) for name, bad in bads.items()}
    # the steps some loss clearly recovered from: a signed or noisy term that broke at the same steps and is
    # finite again did too (its own level is too jumpy to tell)
    healed = set().union(*(set(m.steps(n)[bads[n]].tolist()) for n, r in recovered_at.items() if r is not None)) \
        if any(r is not None for r in recovered_at.values()) else set()
    for name, bad in bads.items():
        values = m.values(name)
        first = int(m.steps(name)[bad][0])
        value = values[bad][0]
        kind = "NaN" if np.isnan(value) else "Inf" if np.isinf(value) else f"{value:.3g} (overflowing)"
        recovered = recovered_at[name]
        if recovered is None and healed and not bad[-1] and set(m.steps(name)[bad].tolist()) <= healed \
                and (~bad).sum() >= 10:
            recovered = _levels_around(values, np.flatnonzero(bad))
        if recovered is not None and amp_skipped(m, name, bad) is None:  # the scaler's own skips: said below
            before, after = recovered
            numbers = {"first_bad_step": first, "bad_points": int(bad.sum()), "points": len(values),
                       "last_finite": True, "recovered": True}
            shift = shift_at_nonfinite(m, name)
            if shift is not None:
                numbers.update(level_before=shift[1], level_after=shift[2], level_shift_step=shift[0])
                what = (f"each an isolated point, and finite again after it, but not back where it was: "
                        f"{describe_change(shift[1], shift[2])} across the one at {pos.at(s, shift[0])} (medians "
                        "of the points either side) and it has stayed there. That NaN/Inf damaged the weights.")
                todo = (f"Resume from the checkpoint before {pos.at(s, shift[0])}, and check the inputs of that "
                        "batch.")
            else:
                one = bad.sum() == 1
                what = (f"{'an isolated point' if one else 'each an isolated point'}: the run recovered, its points "
                        f"since {'it' if one else 'the last one'} are finite (median {fmt(after)}; {fmt(before)} just "
                        f"before {'it' if one else 'the first'}). A warning because the logs do not show why: "
                        "fp16 with a gradient scaler skips a step whose gradients overflow and logs it so, which "
                        "is normal, but without one a NaN/Inf is a bad batch or broken numerics.")
                batches = "that batch" if one else "those batches"
                todo = f"Unless the run uses mixed precision, check the inputs of {batches}."
                if s.mixed_precision is not None:  # the config says which: said, never asked
                    half, where = s.mixed_precision
                    todo = (f"The run trains in mixed precision ({where}): a gradient scaler skips a step that "
                            f"overflows, which {'this point' if one else 'these points'} may be; if they recur, "
                            f"check the inputs of {batches}." if half else
                            f"The run trains in full precision ({where}): check the inputs of {batches}.")
            out.append(Case(
                f"{name} is {kind} at {pos.at(s, first)} {_share_bad(bad)}, {what}",
                name, first, numbers, severity="warning", action=todo, case="recovered", rationale=_PASSING,
            ))
            continue
        skipped = amp_skipped(m, name, bad)
        if skipped is not None:  # GradScaler's overflow steps: skipped, as mixed precision is meant to work
            scale, count = skipped
            out.append(Case(
                f"{name} is {kind} at {fmt(count)} logged {pos.units(s)} from {pos.at(s, first)} {_share_bad(bad)}, "
                f"and the mixed-precision loss scale ({scale}) dropped at each of them: GradScaler found the "
                "gradients overflowing there and skipped those steps, as fp16 training does; the weights were not "
                "touched and training went on.", name, first,
                {"first_bad_step": first, "bad_points": int(bad.sum()), "points": len(values), "scale_metric": scale,
                 "last_finite": bool(not bad[-1])}, severity="info", case="amp-skipped", rationale=_PASSING))
            continue
        held = not_taken_in(m, name, first)
        if held is not None:  # the NaN never reached a loss an optimizer stepped on: its weights are not harmed
            case, why, todo = held
            out.append(Case(
                f"{name} is {kind} at {pos.at(s, first)} {_share_bad(bad)}, {why}",
                name, first, {"first_bad_step": first, "bad_points": int(bad.sum()), "points": len(values),
                              "last_finite": bool(not bad[-1]), "not_in_loss": True,
                              **({"validation_only": True} if case == "validation-only" else {})},
                severity="warning", case=case, rationale=_PASSING, action=todo))
            continue
        since = (" from its first logged point, so the logs do not show when it began" if bad[0] else "")
        numbers = {"first_bad_step": first, "bad_points": int(bad.sum()), "points": len(values),
                   "last_finite": bool(not bad[-1])}
        climbs = climb_before(m, first)
        if climbs:
            onset = min(c["onset"] for c in climbs.values())
            numbers.update(divergence_onset=onset, climbs=climbs)
            # a gradient norm's growth whose climb starts the divergence is its first sign, cited under it
            numbers["explains"] = {"grad-norm": "climb"}
            order = sorted(climbs.items(), key=lambda kv: kv[1]["onset"])
            led = "; ".join(f"{n} climbed from {fmt(c['from'])} to {fmt(c['to'])} from {pos.at(s, c['onset'])}"
                            for n, c in order)
            what = f". It did not start there: {led}. The run was diverging from {pos.at(s, onset)}."
            jump = lr_jump_before(m, onset)
            if jump is not None:  # a jump of the rate just before the climb: said as its likely cause
                numbers["lr_jump"] = {"step": jump[0], "from": jump[1], "to": jump[2]}
                said = jump_said(jump, pos.at(s, jump[0]))
                what += (f" {said[:1].upper()}{said[1:]}, {fmt(onset - jump[0])} {pos.units(s)} before: the likely "
                         "cause.")
            lr = said if jump is not None else lr_blamed(m, s, onset)
            todo = (f"Resume from {checkpoint_before(s, min(onset, jump[0]) if jump else onset)}, not from one just "
                    "before the NaN, with a lower learning rate or gradient clipping" + (f": {lr}." if lr else "."))
        else:
            what = ". Training diverged or a term overflowed " + ("before it." if bad[0] else "there.")
            todo = _one_step_failure(m, s, first)
        numbers["keep_checkpoint"] = checkpoint_before(s, numbers.get("divergence_onset", first))
        out.append(Case(
            f"{name} is {kind} at {pos.at(s, first)}{since} {_share_bad(bad)}{what}", name, first, numbers,
            action=todo))
    return out


def non_finite_short(f: Said) -> str | None:
    n = f.n
    if "first_bad_step" not in n:
        return None
    if n.get("last_finite") is True and "bad_points" in n:  # isolated: the run went on
        return (f"{f.metric} NaN/Inf at {fmt(n['bad_points'])} of {fmt(n.get('points'))} points from "
                f"{f.at(n['first_bad_step'])}, finite again after")
    said = f"{f.metric} NaN/Inf from {f.at(n['first_bad_step'])}"
    if "divergence_onset" in n:
        said += f", diverging from {f.at(n['divergence_onset'])}"
    return said



def _one_step_failure(m: Metrics, s: Schedule, first: int) -> str:
    """What to do about a NaN that stays and that nothing climbed toward: a lower learning rate only where the
    logs point at it (the lr rose before it, or runs far above the config's); else the batch and the numerics of
    that one step, which is where such a failure comes from."""
    back = f"Resume from {checkpoint_before(s, first)}"
    lr = lr_blamed(m, s, first)
    if lr:
        return f"{back} with a lower learning rate ({lr}), and check the inputs of that batch."
    held = lr_across(m, s, first)
    why = (f"; {held.said()} and no loss climbed toward it, so nothing points at the learning rate" if held
           is not None else "; no loss climbed toward it, so nothing in the logs points at the learning rate")
    return (f"{back}, and check the inputs of that batch and the loss's numerics at that step (a log or a division "
            f"of 0, an fp16 overflow){why}.")


def climb_before(m: Metrics, first_bad: int) -> dict[str, dict]:
    """The positive training series (losses, the gradient norm) that climbed out of their level in the stretch
    before ``first_bad``, the first non-finite step: {name: {onset, from, to}}, the onset where each left its
    level (on a log scale: a climb that ends in a NaN is geometric). A loss that was flat up to the NaN is not
    in it: the failure came in one step there."""
    key = ("climb_before", first_bad)
    if key in m.memo:
        return m.memo[key]
    out = {}
    # beside the losses, the gradient norm before clipping (frame.gradient_norms): what diverges first
    norms = [name for name, when in gradient_norms(m.names()).items() if when == "pre"]
    for name in (*JUDGED_LOSSES, *norms):
        if not m.has(name):
            continue
        steps, values = m.steps(name), m.values(name)
        keep = (steps < first_bad) & np.isfinite(values)
        steps, values = steps[keep], values[keep]
        k = max(5, len(values) // 20)
        if len(values) < 6 * k or values.min() <= 0:
            continue
        base_values = values[-4 * k:-2 * k]  # the level a little before the end, clear of the final climb
        base, last = float(np.median(base_values)), float(np.median(values[-3:]))
        noise = robust_noise(np.log(base_values))
        if not (last > 1.5 * base and np.log(last / base) > 6 * noise):
            continue
        # quoted as the table's Start (or the level just before the switch-on) where that is the same level
        left = Level(base, base * 1.2533 * noise / math.sqrt(len(base_values)), len(base_values),
                     int(steps[-4 * k]), int(steps[-2 * k - 1]))
        base = m.reference(name, left).value
        onset = departure(steps, np.log(values), np.log(base), np.log(last), since=int(steps[-4 * k]),
                          fraction=0.1, noise_margin=3.0)
        out[name] = {"onset": onset, "from": base, "to": last}
    m.memo[key] = out
    return out


def climb_into_nonfinite(m: Metrics, name: str) -> dict | None:
    """{onset, from, to} of ``name``'s climb into a NaN/Inf that stays, as the non-finite finding tells it
    (climb_before at the first step a series turned NaN/Inf for good, the earliest that saw this one climb): the
    one onset, baseline and peak every finding quotes for that climb. None when it did not climb into one."""
    return next((climbs[name] for first in _ends(m) if name in (climbs := climb_before(m, first))), None)


def _ends(m: Metrics) -> list[int]:
    """The first steps of the training series' NaN/Inf that stay to the last point, earliest first."""
    bads = {n: _broken(m.values(n)) for n in m.names() if not n.startswith("val")}
    return sorted({first for n, bad in bads.items() if (first := lasting_break(m, n, bad)) is not None})


def lasting_break(m: Metrics, name: str, bad: np.ndarray) -> int | None:
    """The first step of ``name``'s broken points (``bad``, a mask of its points) when it is broken at its last
    point and the optimized loss took that in (not_taken_in): a break training cannot go on from; else None."""
    if not (len(bad) and bad[-1]):
        return None
    first = int(m.steps(name)[bad][0])
    return first if not_taken_in(m, name, first) is None else None


def divergence_onset(m: Metrics) -> int | None:
    """Where the run began to fail into a NaN/Inf that stays, as the non-finite finding dates it: the earliest
    onset of a climb into it (climb_before), else its first step; None when no NaN/Inf stays."""
    ends = _ends(m)
    if not ends:
        return None
    climbs = climb_before(m, ends[0])
    return min(c["onset"] for c in climbs.values()) if climbs else ends[0]


def shift_at_nonfinite(m: Metrics, name: str, lo: int | None = None, jump: float = 0.2
                       ) -> tuple[int, float, float] | None:
    """(step, level before, level after) when ``name`` went on at a level ``jump`` or more above the one it had
    (and beyond the two medians' noise) across an isolated NaN/Inf point of any training loss at or after
    ``lo``: a level shift the bad step caused, not a trend. None when there is none."""
    key = ("shift_at_nonfinite", name, lo, jump)
    if key in m.memo:
        return m.memo[key]
    found = None
    if m.has(name):
        bad_steps = sorted({int(x) for n in m.names() if n in JUDGED_LOSSES
                            for x in m.steps(n)[~np.isfinite(m.values(n))]})
        steps, values = m.steps(name), m.values(name)
        for step in bad_steps:
            if lo is not None and step < lo:
                continue
            i = int(np.searchsorted(steps, step))
            before, after = finite(values[max(0, i - 50):i]), finite(values[i + 1:i + 51])
            if len(before) < 10 or len(after) < 10 or np.median(before) <= 0:
                continue
            b, a = float(np.median(before)), float(np.median(after))
            noise = 1.25 * (robust_noise(before) / np.sqrt(len(before)) + robust_noise(after) / np.sqrt(len(after)))
            # it stayed there: the last points are nearer the new level than the old one
            tail = float(np.median(finite(values[-max(10, len(values) // 20):])))
            if a > b * (1 + jump) and a - b > 4 * noise and abs(tail - a) < abs(tail - b) \
                    and (found is None or a / b > found[2] / found[1]):
                found = (step, b, a)
    m.memo[key] = found
    return found


JUDGED_LOSSES = ("total_loss", "rec_loss", "nll_loss", "kl_loss", "quant_loss", "g_loss", "disc_loss", "aeloss")


def losses_unknown(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """No logged metric is a loss the checks know: only NaN/Inf were checked, and an "ok" would vouch for nothing."""
    names = m.names()

    def read(name: str) -> bool:  # a name the checks read: the loss itself, or its val/ (val_ema/) split
        prefix, _, base = name.rpartition("/")
        return base.removesuffix("_epoch") in JUDGED_LOSSES and prefix in ("", "val", "val_ema")

    if not names or any(read(n) for n in names):
        return []
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    # a known loss under a group and not read as it: kept apart from another series that would read as the same
    # loss (exp_a/rec_loss, exp_b/rec_loss), or under a split's level below another group (gan/val/rec_loss)
    grouped = [n for n in names if n.rpartition("/")[2].removesuffix("_epoch") in JUDGED_LOSSES]
    apart = [n for n in grouped if canonical_name(n) != n]
    split = [n for n in grouped if n not in apart]
    under = (f" {listed(apart[:4])} would read as one loss but differ where both are logged: kept apart under "
             "their own names, none taken as the loss (see Sources); log the loss once under its own name."
             if apart else "")
    under += (f" {listed(split[:4])} {'is' if len(split) == 1 else 'are'} under a split's level below another "
              "group, which the checks do not read as the split: log it as val/ and the loss's own name."
              if split else "")
    return [Case(
        f"None of the {counted(len(names), 'logged metric')} ({shown}) is a loss these checks read "
        f"({', '.join(JUDGED_LOSSES[:7])}, or another trainer's name for one, such as recons_loss or kld): "
        f"only NaN and Inf were checked, no trend, phase or GAN check ran. The run has not been judged.{under}",
        None, None, {"metrics": len(names), "grouped": grouped},
    )]


def losses_unknown_short(f: Said) -> str:
    return f"none of the {fmt(f.n.get('metrics'))} logged metrics is a loss the checks know"


def loss_stopped(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """A training loss whose logging stopped well before the others': its "latest" value is stale, and every
    check of it describes the run as it was then."""
    losses, last = _loss_ends(m)
    out = []
    for name in losses:
        steps = m.steps(name)
        every = float(np.median(np.diff(steps)))
        end = int(steps[-1])
        if stale(m, name, t["intervals"], t["share"]):
            out.append(Case(
                f"{name} was last logged at {pos.at(s, end)}, {pos.count(s, last - end)} before the other losses "
                f"(to {pos.at(s, last)}; it was logged every {pos.count(s, every)} before): its latest value is from "
                "then, and nothing here says what it did since. A resume that dropped it from the logged keys, or a "
                "logger that stopped, is the usual cause.",
                name, end, {"last_logged_step": end, "run_last_step": last, "interval": every},
            ))
    return out


def loss_stopped_short(f: Said) -> str | None:
    n = f.n
    if "last_logged_step" not in n:
        return None
    behind = n.get("run_last_step", n["last_logged_step"]) - n["last_logged_step"]
    return f"{f.metric} last logged at {f.at(n['last_logged_step'])}, {f.count(behind)} before the other losses"


def stale(m: Metrics, name: str, intervals: float = 20, share: float = 0.1) -> bool:
    """A loss last logged far behind the furthest-logged loss (``intervals`` of its own logging intervals and
    ``share`` of its span): what it says is about then, not now."""
    key = ("stale", name, intervals, share)  # asked by several rules of every loss
    if key not in m.memo:
        losses, last = _loss_ends(m)
        steps = m.steps(name) if name in losses else None
        m.memo[key] = steps is not None and last - int(steps[-1]) > max(
            intervals * float(np.median(np.diff(steps))), share * (last - int(steps[0])))
    return m.memo[key]


def _loss_ends(m: Metrics) -> tuple[list[str], int]:
    """The training losses with points enough to have a logging interval, and the furthest step any of them
    reached; no losses when fewer than two (nothing to be behind)."""
    losses = [n for n in m.names() if n in JUDGED_LOSSES and len(m.steps(n)) >= 10]
    if len(losses) < 2:
        return [], 0
    return losses, max(int(m.steps(n)[-1]) for n in losses)


def _training_finite(m: Metrics, name: str) -> bool:
    """Every training loss finite at its latest point (a validation metric's NaN is then validation's own)."""
    train = [n for n in m.names() if "/" not in n and n in JUDGED_LOSSES]
    return bool(train) and all(np.isfinite(m.values(n)[-1]) for n in train)


# the loss the autoencoder's optimizer steps on, first logged of these (the total, else the reconstruction);
# the discriminator's own loss is the other optimized one
OPTIMIZED = ("total_loss", "aeloss", "nll_loss", "rec_loss")


def optimized_loss(m: Metrics) -> str | None:
    """The logged loss the autoencoder's optimizer steps on (OPTIMIZED), or None."""
    return next((n for n in OPTIMIZED if m.has(n)), None)


def amp_skipped(m: Metrics, name: str, bad: np.ndarray) -> tuple[str, int] | None:
    """(the loss-scale metric, the bad points) where a gradient norm is NaN/Inf only at steps where a logged
    mixed-precision loss scale dropped (GradScaler halves it at each overflowed step, which it skips), at most a
    tenth of the points, the norm finite at the last one: the scaler doing its job, not a fault."""
    scale = next(iter(scale_metrics(m)), None)
    if scale is None or "grad" not in name.split("/")[-1] or bad[-1] or bad.sum() > 0.1 * len(bad):
        return None
    steps = m.steps(name)[bad]
    s_steps, s_values = m.steps(scale), m.values(scale)
    at = np.searchsorted(s_steps, steps)
    ok = (at > 0) & (at < len(s_steps))
    if not ok.all() or not np.array_equal(s_steps[at[ok]], steps[ok]):
        return None  # the scale not logged at those steps: nothing ties them
    dropped = s_values[at] < s_values[at - 1]
    return (scale, int(bad.sum())) if dropped.all() else None


def not_taken_in(m: Metrics, name: str, first: int) -> tuple[str, str, str] | None:
    """(case, why, action) for a NaN/Inf that no optimizer stepped on: a validation metric while the training
    losses stay finite; a training metric (a loss term, a diagnostic) while the optimized loss stayed finite at
    every point from ``first`` on and went on being logged (the run did not stop there). None otherwise: a NaN
    in the optimized loss itself, or in the discriminator's, or one the logs cannot clear, is a divergence."""
    if "/" in name:  # validation steps no optimizer: the training run is not harmed, its monitoring is
        if not _training_finite(m, name):
            return None
        return ("validation-only", "while the training losses stay finite: validation went wrong, not training (it "
                "steps no optimizer); until it is fixed validation cannot show overfitting.",
                "Check the validation batches and eval-mode numerics (fp16 in eval, an empty batch, a division by a "
                "zero count).")
    loss = optimized_loss(m)
    if loss is None or name in (*OPTIMIZED, "disc_loss"):
        return None
    steps, values = m.steps(loss), m.values(loss)
    after = steps >= first
    if (steps > first).sum() < 3 or _broken(values[after]).any():
        return None
    return ("not-in-loss", f"while the optimized loss ({loss}) stayed finite at all {fmt(int(after.sum()))} of its "
            "points since: the NaN/Inf did not enter it, so the weights were not damaged and training went on. The "
            f"logged {name} is likely not the term the loss took in (computed apart for the log, or weighted out).",
            f"Check how {name} is computed for the log (a separate pass, fp16, a division by a zero count); the "
            "run needs no resume for it.")


def _recovered(values: np.ndarray, bad: np.ndarray) -> tuple[float, float] | None:
    """(median before the first bad point, median after the last) when the bad points are isolated (rare, none
    next to another) and the loss went on at its level after them, else None."""
    where = np.flatnonzero(bad)
    # isolated ones, each followed by the loss at its level: a dozen in a thousand points recurring every few
    # thousand steps is a batch going bad now and then (up to 5% of the points), not a run that diverged
    if bad[-1] or len(where) > max(3, 0.05 * len(values)) or np.any(np.diff(where) == 1) or where[0] < 5 \
            or len(values) - where[-1] <= 5:
        return None
    good = values[np.isfinite(values)]
    spread = float(np.subtract(*np.percentile(good, [75, 25]))) if len(good) >= 4 else 0.0
    for i in where:  # each one: the loss goes on at the level it had just before
        before, after = np.median(values[max(0, i - 5):i]), np.median(values[i + 1:i + 6])
        # within half its size, or its spread for a signed loss near 0 (g_loss)
        if not np.isfinite(after) or abs(after - before) > max(0.5 * abs(before), spread, 1e-12):
            return None
    return _levels_around(values, where)


def _levels_around(values: np.ndarray, where: np.ndarray) -> tuple[float, float]:
    """The level just before the first bad point and the level after the last one (medians, NaN-aware)."""
    return (float(np.nanmedian(values[max(0, where[0] - 20):where[0]])),
            float(np.nanmedian(values[where[-1] + 1:])))


def _adversarial_rise(m: Metrics, s: Schedule | None, lo: int | None, hi: int | None, rise: float) -> str | None:
    """What the total's rise is made of, when the adversarial term d_weight x g_loss grew by most of it."""
    found = bookkeeping(m, s) if s is not None else None
    if found is None:
        return None
    keep = (found.steps >= (lo if lo is not None else found.steps[0])) & (found.steps < (hi if hi is not None
                                                                                            else found.steps[-1] + 1))
    adv = found.terms["adversarial"][keep]
    if len(adv) < 20:
        return None
    k = max(3, len(adv) // 10)
    grew = float(np.median(adv[-k:]) - np.median(adv[:k]))
    if not grew >= 0.5 * rise > 0:
        return None
    return (f"Most of it is the adversarial term d_weight x g_loss, which rose by {fmt(grew)} over the same "
            "stretch (see the findings on the GAN's balance), not the reconstruction.")


SINCE_SWITCH = "since the discriminator started"


def _across_switch(m: Metrics, s: Schedule, name: str, first: Level, level: Level, noise: float
                   ) -> tuple[str, str, str, dict] | None:
    """How a trend over the adversarial phase is told where the metric's change since the switch-on has its own
    baseline (rec: the level just before it, which rec-after-disc quotes) and the phase's first points are
    another level: (the baseline's name, the move from it, the numbers). The phase's own start still judges the
    trend (a cost that came with the switch-on is no trend) and is said in words (the last part), so that the
    report quotes one baseline and one percentage for the change since the switch-on. None when the two are one
    level."""
    before = m.before_switch(name)
    if before is None or first is before:
        return None
    within = movement(first.value, level.value, noise if math.isfinite(noise) else None).word
    return (f"its level just before the discriminator started ({median_of(before, 'last')} there)",
            describe_change(before.value, level.value, noise=difference_noise(before, level),
                            points=min(before.points, level.points)),
            f"; within the phase, against its first points (from {pos.at(s, first.first_step)}), it {within}",
            {"before_switch": {name: before.value}})


def _trend(m: Metrics, s: Schedule, name: str, lo: int | None, t: dict, where: str,
           hi: int | None = None, across: bool = False) -> list[Case]:
    steps, values = m.window(name, lo=lo, hi=hi)
    if len(finite(values)) < 6 or (hi is None and not np.isfinite(values[-1])):
        return []  # NaN/Inf now: no level to judge a trend by (the non-finite finding says where it broke)
    # one level per window, the ones the Metrics view defines for every rule (levels.py): over the run or before
    # the discriminator the statistics table's Start, in the adversarial phase its start; up to now the table's
    # Now, before the switch-on the level just before it
    # the phase's start is quoted as the level just before the switch-on (or the table's Start) where that is
    # the same level (Metrics.reference): one baseline per metric in the report
    first = (m.start(name) if lo is None else m.reference(name, m.phase_first(name)) if lo == m.phase_start
             else None) or start_level(steps, values)
    start_name = f"its start level ({median_of(first, 'first')})" if first is m.start(name) else \
        f"its level just before the discriminator started ({median_of(first, 'last')} there)" \
        if first is m.before_switch(name) else \
        f"its level at the start of the phase ({median_of(first, 'first')} from {pos.at(s, first.first_step)})"
    level = m.level(name) if hi is None else m.before_switch(name) if hi == m.phase_start else None
    end_name = "its current level"  # judged up to now: the one current level every sentence quotes
    if hi is not None:
        end_name = f"its level just before the discriminator started ({median_of(level, 'last')} there)" \
            if level is not None else end_name
    if level is None or level.first_step < int(steps[0]):
        level = current_level(steps, values)  # a stretch that ended before now: its end
        end_name = f"its level at the end of that stretch ({median_of(level, 'last')})"
    start, end = first.value, level.value
    noise = difference_noise(first, level)
    noise = math.nan if noise is None else noise
    # a change against the larger magnitude: right for negative totals and across zero
    scale = max(abs(start), abs(end), 1e-12)
    change = (end - start) / scale
    good = finite(values)
    signed = bool(good.min() < 0 < good.max())  # a total the GAN term took below 0: differences, not percentages
    numbers = {"start_level": start, "start_points": first.points, "end_level": end,
               "change": None if signed else relative_change(start, end), "difference": end - start,
               "from_step": int(steps[0])}
    # the levels of the one set every sentence quotes (tests/test_battery.py holds them to the table)
    if first is m.start(name):
        numbers["start"] = {name: start}
    elif first is m.before_switch(name):
        numbers["before_switch"] = {name: start}
    if hi is not None and level is m.before_switch(name):
        numbers["before_switch"] = {name: end}
    moved = describe_change(start, end, noise=noise, signed=signed, points=min(first.points, level.points))
    told = _across_switch(m, s, name, first, level, noise) if across and lo == m.phase_start and not signed \
        else None
    tail = ""
    if told is not None:
        start_name, moved, tail, quoted = told
        numbers.update(quoted)
    if change > t["worse"] and (not np.isfinite(noise) or end - start > 2 * noise):
        shift = shift_at_nonfinite(m, name, lo=lo)
        adversarial = _adversarial_rise(m, s, lo, hi, end - start) if name == "total_loss" else None
        said = adversarial or "" if shift is None else (
                  f"It did not drift there: it stepped up across the NaN/Inf at {pos.at(s, shift[0])} "
                  f"({describe_change(shift[1], shift[2])}; see {see('non-finite')}).")
        todo = (f"If the adversarial term keeps growing, {chase_less(s)}." if adversarial
                else "Check the learning rate and the data where it began to rise." if shift is None
                else f"Resume from the checkpoint before {pos.at(s, shift[0])}.")
        return [Case(
            f"{name} got worse {where}: comparing {start_name} with {end_name}, it {moved}{tail}."
            + (f" {said}" if said else ""),
            name, int(steps[-1]) if shift is None else shift[0], numbers, action=todo,
            look="what got worse" if shift is None and not adversarial else "",
            # a rise in the adversarial phase is cited under a GAN finding that explains it (the discriminator
            # winning, the adversarial term taking over), when one warns
            case="adversarial-rise" if shift is None and (adversarial or where == SINCE_SWITCH) else None,
        )]
    if lo is not None:  # judged within the phase: a change older than it is no doubt on it (grouping.qualify_ok)
        numbers["judged_from"] = int(steps[0])
    return [Case(f"Comparing {start_name} with {end_name}, {name} {moved} {where}{tail}.", name, int(steps[-1]),
                 numbers, severity="ok")]


def rec_trend(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    found = _rec_trend(m, s, t)
    if any(f.severity != "ok" for f in found):  # getting worse says more than "not learning"
        return found
    stuck = None if s.init_checkpoint else _not_learning(m, s, t)  # a fine-tune starts converged
    return [stuck] if stuck is not None else found


def _rec_trend(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    # Across the switch-on, the adversarial term's cost is rec-after-disc's to judge: here each phase is judged
    # on its own (its start level against its end), so that a steady GAN cost does not read as a worsening run.
    switch = phase_start(m, s)
    if switch is not None and len(m.window("rec_loss", hi=switch)[0]) >= 20 \
            and len(m.window("rec_loss", lo=switch)[0]) >= 20:
        parts = (_trend(m, s, "rec_loss", None, t, "before the discriminator started", hi=switch)
                 + _trend(m, s, "rec_loss", switch, t, SINCE_SWITCH, across=True))
        worst = [f for f in parts if f.severity != "ok"] or parts[-1:]
        if len(parts) == 2 and worst[0].severity == "ok":
            whole = {k: v for k, v in parts[1].numbers.items() if k != "judged_from"}  # it speaks of both phases
            return [replace(parts[1], message=parts[0].message.rstrip(".") + "; " + parts[1].message[0].lower()
                            + parts[1].message[1:], numbers=whole)]
        return worst[:1]
    return _trend(m, s, "rec_loss", None, t, "over the run")


SHORT_POINTS, SHORT_STEPS = 10, 100  # the shortest run judged for not learning at all


def _not_learning(m: Metrics, s: Schedule, t: dict) -> Case | None:
    """A reconstruction loss logged from the run's first steps that never fell below its starting level: every
    working autoencoder's error drops steeply in its first thousands of steps, so the model is not learning
    (a learning rate of ~0, frozen weights, an optimizer over the wrong parameters, inputs that do not match)."""
    steps, values = m.steps("rec_loss"), m.values("rec_loss")
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    # a short run too (SHORT_POINTS or more, over SHORT_STEPS or more): one that has not fallen at all is never ok
    if len(values) < SHORT_POINTS or steps[0] > max(100, 0.02 * steps[-1]) or steps[-1] - steps[0] < SHORT_STEPS:
        return None
    start = float(np.median(values[:3]))  # its very first points: a fall may be over within a hundred steps
    window = max(3 if len(values) < 50 else 5, len(values) // 20)
    lowest = float(np.nanmin(rolling_median(values, window)))
    if start <= 0 or lowest < (1 - t["flat"] * 5) * start:
        return None
    short = len(values) < 50 or steps[-1] - steps[0] < t["min_steps"]
    over = (f" ({counted(len(values), 'point')}). An autoencoder that learns lowers its reconstruction error "
            "from its first steps on" if short else
            ". A working autoencoder's reconstruction error drops steeply in its first thousands of steps")
    return Case(
        # the window and the first points named as computed: a short run's window is no twentieth of it
        f"rec_loss has not fallen since the run began: its moving median (over {counted(window, 'point')}) never "
        f"went below {fmt(lowest)}, against {fmt(start)}, the median of its first 3 points, from "
        f"{pos.at(s, int(steps[0]))} to "
        f"{fmt(int(steps[-1]))}{over}: this one is not learning.",
        "rec_loss", int(steps[0]), {"start_level": start, "lowest_level": lowest, "from_step": int(steps[0])},
        case="not-learning", title="Reconstruction not learning",
        action="Check the learning rate actually applied, that the optimizer holds the autoencoder's parameters and "
               "that they require gradients, and the inputs' range.")


def total_trend(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    # The GAN term changes the total's level when the discriminator starts: compare within the current phase
    # (from where the data show it on), and not before the phase has points enough to compare.
    lo = phase_start(m, s)
    if lo is not None and len(m.window("total_loss", lo=lo)[0]) < 20:
        count = len(m.window("total_loss", lo=lo)[0])
        return [Case(
                        f"total_loss is not judged yet: {counted(count, 'point')} since the discriminator switched "
                        "on at "
                        f"{pos.at(s, lo)}, where the adversarial term moves the total by design.", "total_loss",
                        m.last_step(), {"points_in_phase": count, "from_step": lo}, severity="ok")]
    return _trend(m, s, "total_loss", lo, t, SINCE_SWITCH if lo is not None else "over the run")


def trend_short(f: Said) -> str | None:
    n = f.n
    if "lowest_level" in n and "start_level" in n:  # not learning: it never fell
        return (f"{f.metric} never below {fmt(n['lowest_level'])} since {f.at(n.get('from_step', f.step))}, against "
                f"{fmt(n['start_level'])} at its first points")
    if "start_level" in n and "end_level" in n:
        since = f"from {f.at(n['from_step'])} to now" if n.get("from_step") else "over the run"
        return f"{f.metric} {describe_change(n['start_level'], n['end_level'])} {since}"
    if "points_in_phase" in n:
        return (f"{f.metric} not judged yet: {counted(n['points_in_phase'], 'point')} since the switch-on at "
                f"{f.at(n.get('from_step', f.step))}")
    return None
