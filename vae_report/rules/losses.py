"""Checks of the loss curves: non-finite values, trends, the KL term, and the loss's own bookkeeping."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .. import position as pos
from ..checkpoints import checkpoint_before
from ..frame import gradient_norms
from ..levels import Level, current_level, difference_noise, movement, start_level
from ..numbers import counted, describe_change, fmt, pct, relative_change
from ..schedule import Schedule
from ..stats import contains, robust_noise, rolling_median, shared_steps
from .base import Case, Metrics, departure, finite, median_of, see
from .discriminator import phase_start
from .evidence import lr_across, lr_blamed
from .knobs import chase_less
from .said import Said

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
_PASSING = ("a NaN or Inf is where numerics broke; isolated ones the loss recovered from, or ones in validation only, "
            "did not derail training, but they say where to look.")

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
        if recovered is not None:
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
                        f"before {'it' if one else 'the first'}). Under mixed precision (fp16 with a gradient scaler) "
                        "a skipped step logs Inf and is routine.")
                batches = "that batch" if one else "those batches"
                todo = f"Unless the run uses mixed precision, check the inputs of {batches}."
            out.append(Case(
                f"{name} is {kind} at {pos.at(s, first)} {_share_bad(bad)}, {what}",
                name, first, numbers, severity="warning", action=todo, case="recovered", rationale=_PASSING,
            ))
            continue
        if "/" in name and _training_finite(m, name):
            # validation steps no optimizer: the training run is not harmed, its monitoring is
            out.append(Case(
                f"{name} is {kind} at {pos.at(s, first)} {_share_bad(bad)}, while the training losses stay finite: "
                "validation went wrong, not training (it steps no optimizer); until it is fixed validation cannot "
                "show overfitting.",
                name, first, {"first_bad_step": first, "bad_points": int(bad.sum()), "points": len(values),
                              "last_finite": bool(not bad[-1]), "validation_only": True}, severity="warning",
                case="validation-only", rationale=_PASSING,
                action="Check the validation batches and eval-mode numerics (fp16 in eval, an empty batch, a division "
                       "by a zero count)."))
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
            lr = lr_blamed(m, s, onset)
            todo = (f"Resume from {checkpoint_before(s, onset)}, not from one just before the NaN, with a lower "
                    "learning rate or gradient clipping" + (f" ({lr})." if lr else "."))
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
    bads = {n: _broken(m.values(n)) for n in m.names() if not n.startswith("val")}
    ends = sorted({int(m.steps(n)[bad][0]) for n, bad in bads.items() if len(bad) and bad[-1]})
    return next((climbs[name] for first in ends if name in (climbs := climb_before(m, first))), None)


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
    # a known loss under a group the checks do not read (losses/rec_loss): named, it is the likely fix
    grouped = [n for n in names if n.rpartition("/")[2].removesuffix("_epoch") in JUDGED_LOSSES]
    under = (f" {', '.join(grouped[:4])} {'is' if len(grouped) == 1 else 'are'} under a group name the checks do "
             "not read (only the loss itself or its val/ split is): log it without the group, or rename it."
             if grouped else "")
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


def _error(residual: float) -> str:
    """How closely the sum matches the logged total, in words: at half of the steps or more it is within this."""
    if residual < 1e-6:
        return "to float precision: within a millionth of the logged total at half of the steps or more"
    return f"within {residual:.1e} of the logged total, relatively, at half of the steps or more"


def _recovered(values: np.ndarray, bad: np.ndarray) -> tuple[float, float] | None:
    """(median before the first bad point, median after the last) when the bad points are isolated (rare, none
    next to another) and the loss went on at its level after them, else None."""
    where = np.flatnonzero(bad)
    if bad[-1] or len(where) > max(3, 0.01 * len(values)) or np.any(np.diff(where) == 1) or where[0] < 5 \
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
            describe_change(before.value, level.value, noise=difference_noise(before, level)),
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
    moved = describe_change(start, end, noise=noise, signed=signed)
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


def _not_learning(m: Metrics, s: Schedule, t: dict) -> Case | None:
    """A reconstruction loss logged from the run's first steps that never fell below its starting level: every
    working autoencoder's error drops steeply in its first thousands of steps, so the model is not learning
    (a learning rate of ~0, frozen weights, an optimizer over the wrong parameters, inputs that do not match)."""
    steps, values = m.steps("rec_loss"), m.values("rec_loss")
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    if len(values) < 50 or steps[0] > max(100, 0.02 * steps[-1]) or steps[-1] - steps[0] < t["min_steps"]:
        return None
    start = float(np.median(values[:3]))  # its very first points: a fall may be over within a hundred steps
    lowest = float(np.nanmin(rolling_median(values, max(5, len(values) // 20))))
    if start <= 0 or lowest < (1 - t["flat"] * 5) * start:
        return None
    return Case(
        f"rec_loss has not fallen since the run began: its moving median (over a twentieth of its points) never "
        f"went below {fmt(lowest)}, against {fmt(start)} at its first points, from {pos.at(s, int(steps[0]))} to "
        f"{fmt(int(steps[-1]))}. A working autoencoder's reconstruction error drops steeply in its first thousands "
        "of steps: this one is not learning.",
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


@dataclass(frozen=True)
class Bookkeeping:
    """The loss's terms aligned on shared steps, and what they say about the pixels per sample."""

    steps: np.ndarray
    total: np.ndarray
    expected: np.ndarray  # the total the terms add up to
    rec: np.ndarray
    reg: np.ndarray  # the regularizer: kl_loss, or quant_loss for a VQ model
    pixels: float
    averaged: bool  # RadioDiff's TensorBoard total, (AE loss + disc loss) / 2
    terms: dict[str, np.ndarray]  # nll, regularizer (weighted), adversarial: what the total is made of
    logged: frozenset = frozenset()  # the metrics the check read (a term not logged is not in the formula)
    learned_logvar: bool = False  # logvar moved off 0: nll is rec / exp(logvar) + logvar, not the plain rec


def regularizer(s: Schedule) -> tuple[str, float | None]:
    """The regularizer's metric and weight: (kl_loss, kl_weight), or (quant_loss, codebook_weight) for VQ."""
    if s.regularizer == "vq":
        return "quant_loss", 1.0 if s.codebook_weight is None else s.codebook_weight
    return "kl_loss", s.kl_weight


def bookkeeping(m: Metrics, s: Schedule) -> Bookkeeping | None:
    """total = nll + weight*regularizer + d_weight*disc_factor*g, nll = N*rec with N the pixels per sample
    inferred (computed once per metrics view and weight: loss-bookkeeping and kl-rising both read it)."""
    key = ("bookkeeping", regularizer(s))
    if key not in m.memo:
        m.memo[key] = _bookkeeping(m, s)
    return m.memo[key]


def _bookkeeping(m: Metrics, s: Schedule) -> Bookkeeping | None:
    if s.layout == "flat":  # another trainer's config: its loss is not LDM's sum, nothing to check it against
        return None
    if m.has("kl_loss") and np.nanmin(m.values("kl_loss")) < 0:
        return None  # not a KL (kl-negative): a sum built on it proves nothing
    reg_name, weight = regularizer(s)
    joined = _aligned(m, ["total_loss", "rec_loss", reg_name, "nll_loss", "d_weight", "disc_factor", "g_loss",
                          "disc_loss", "logvar"], reg_name)
    if joined is None or weight is None:
        return None
    steps, col = joined
    rec, reg, total = col["rec_loss"], col[reg_name], col["total_loss"]
    adv = col["d_weight"] * col["disc_factor"] * col["g_loss"] if {"d_weight", "disc_factor", "g_loss"} <= set(col) \
        else np.zeros_like(total)
    # nll sums rec / exp(logvar) + logvar over the pixels of a sample (just N x rec while logvar is 0)
    per_pixel = rec * np.exp(-col["logvar"]) + col["logvar"] if "logvar" in col else rec
    if "nll_loss" in col:
        pixels = _median_ratio(col["nll_loss"], per_pixel)
        nll = col["nll_loss"]
    else:
        pixels = _median_ratio(total - weight * reg - adv, per_pixel)
        nll = pixels * per_pixel
    averaged = False
    if "disc_loss" in col and "nll_loss" not in col and not square_image(pixels):
        # RadioDiff's TensorBoard total_loss is (AE loss + disc loss) / 2
        alt = _median_ratio(2 * total - col["disc_loss"] - weight * reg - adv, per_pixel)
        if square_image(alt):
            pixels, averaged = alt, True
            nll = pixels * per_pixel
    expected = nll + weight * reg + adv
    if averaged:
        expected = (expected + col["disc_loss"]) / 2
    terms = {"nll": nll, "regularizer": weight * reg, "adversarial": adv}
    learned = "logvar" in col and bool(np.nanmax(np.abs(col["logvar"])) > 1e-3)
    return Bookkeeping(steps, total, expected, rec, reg, pixels, averaged, terms, frozenset(col), learned)


def loss_bookkeeping(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    b = bookkeeping(m, s)
    if b is None:
        return []
    reg_name, weight = regularizer(s)
    weight_name = "codebook_weight" if reg_name == "quant_loss" else "kl_weight"
    residual = float(np.median(np.abs(b.total - b.expected) / np.maximum(np.abs(b.total), 1e-12)))
    recent = slice(-min(len(b.steps), 10), None)
    numbers: dict = {"steps_checked": int(len(b.steps)), "pixels_per_sample": round(b.pixels, 1),
                     "median_relative_residual": residual, "total_is_average_with_disc": b.averaged,
                     "total": float(np.median(b.total[recent]))}
    numbers.update({f"{k}_term": float(np.median(v[recent])) for k, v in b.terms.items()})
    config_note = ""
    if s.pixels_per_sample and abs(b.pixels / s.pixels_per_sample - 1) > 0.01 and b.pixels > 1.5:
        numbers["config_pixels_per_sample"] = s.pixels_per_sample
        config_note = _config_pixels_note(b.pixels, s)
    formula, nll_text = _formula(b, weight_name, reg_name)
    if residual <= t["tolerance"]:
        return [Case(
                        f"{formula} holds at {pos.count(s, len(b.steps))} ({_error(residual)})."
                        f"{nll_text}{config_note}", "total_loss", int(b.steps[-1]), numbers, severity="ok")]
    # where it stopped adding up, when it did at first (a term that joins later, e.g. at the switch-on)
    relative = np.abs(b.total - b.expected) / np.maximum(np.abs(b.total), 1e-12)
    bad = relative > t["tolerance"]
    onset, since = int(b.steps[-1]), ""
    head = max(3, len(bad) // 20)
    if bad.any() and not bad[:head].any():
        first = int(np.flatnonzero(bad)[0])
        onset = numbers["onset_step"] = int(b.steps[first])
        since = f" from {pos.at(s, onset)} on (it held before)"
        if m.has("disc_loss"):
            # the gap equal to the discriminator's loss: a total that adds the D loss in
            gap = (b.total - b.expected)[first:]
            _, d = m.window("disc_loss", lo=onset)
            if len(d) and len(gap) and abs(float(np.median(gap)) - float(np.nanmedian(d))) <= \
                    0.1 * max(abs(float(np.nanmedian(d))), 1e-12):
                since += ", by about disc_loss: the logged total adds the discriminator's loss in"
    return [Case(
        f"total_loss does not add up{since}: {formula} is off by a median {pct(residual)} over "
        f"{pos.count(s, len(b.steps))}. The logged terms may come from different batches or sources, or the "
        f"trainer weights them differently from the config ({weight_name} {fmt(weight)}).{config_note}",
        "total_loss", onset, numbers,
    )]


def loss_bookkeeping_short(f: Said) -> str | None:
    n = f.n
    if "steps_checked" not in n:
        return None
    if f.severity == "ok":
        return f"total_loss adds up from its logged terms at {f.count(n['steps_checked'])}"
    return (f"total_loss off the sum of its logged terms by a median {pct(n.get('median_relative_residual'))}"
            + (f" from {f.at(n['onset_step'])}" if "onset_step" in n else ""))


def _formula(b: Bookkeeping, weight_name: str, reg_name: str) -> tuple[str, str]:
    """The sum as the logs show it, with only the terms they carry (a run without a discriminator logs no g_loss),
    and how the reconstruction enters it: summed over the pixels (LDM's nll) or as the per-pixel mean."""
    adversarial = {"d_weight", "disc_factor", "g_loss"} <= b.logged
    summed = b.pixels > 1.5
    learned = "logvar" in b.logged and b.learned_logvar
    if "nll_loss" in b.logged:
        nll = "nll_loss"
        per_pixel = "rec_loss / exp(logvar) + logvar (the learned log-variance)" if learned else "the per-pixel loss"
        what = (f" nll_loss is {per_pixel} summed over {fmt(pixel_count(b.pixels))} pixels per sample"
                f"{_shape_text(b.pixels)}, not averaged." if summed else
                " nll_loss is the per-pixel loss averaged over the pixels (as taming's VQ loss does).")
    else:
        per_pixel = "(rec_loss / exp(logvar) + logvar)" if learned else "rec_loss"
        nll = f"N x {per_pixel}" if summed else per_pixel
        what = (f" nll is not logged: N = {fmt(pixel_count(b.pixels))} pixels per sample{_shape_text(b.pixels)}, "
                "the per-pixel loss summed over them, not averaged." if summed else
                " The reconstruction term enters as the per-pixel mean, not summed over the pixels as LDM's nll is.")
    if b.averaged:
        return (f"total_loss = (AE loss + disc_loss) / 2, the AE loss being {nll} + {weight_name} x {reg_name}"
                + (" + the adversarial term" if adversarial else ""), what)
    return (f"total_loss = {nll} + {weight_name} x {reg_name}"
            + (" + d_weight x disc_factor x g_loss" if adversarial else ""), what)


def _config_pixels_note(pixels: float, s: Schedule) -> str:
    """Why the sum's pixel count differs from the config's channels x H x W: the same image side with another
    channel count (one-channel data, or a rec_loss averaged over the channels), or another image side."""
    shape = f"{s.in_channels} x {s.resolution[0]} x {s.resolution[1]}" if s.in_channels and s.resolution else ""
    said = f" The config's ddconfig gives {fmt(s.pixels_per_sample)} pixels per sample" + (f" (= {shape})" if shape
                                                                                          else "")
    if s.resolution and s.in_channels:
        area = s.resolution[0] * s.resolution[1]
        channels = pixels / area
        if round(channels) >= 1 and abs(channels / round(channels) - 1) < 1e-3 and round(channels) != s.in_channels:
            return (f"{said}: the same {s.resolution[0]} x {s.resolution[1]} images, summed over "
                    f"{counted(round(channels), 'channel')} where the config names {s.in_channels}: the data has "
                    f"{round(channels)} (the config's in_channels does not change what the data loader gives), "
                    "or rec_loss is averaged over the channels "
                    "before the sum.")
    return (f"{said}: the data was not trained at the config's resolution ("
            + ("RadioDiff's ddconfig.resolution resizes nothing)." if s.layout in ("radiodiff", "text log")
               else "the data loader's size decides the image size, not ddconfig.resolution)."))


def _aligned(m: Metrics, names: list[str], reg_name: str = "kl_loss"):
    """Steps where total, rec and the regularizer are all logged and finite, with every other named metric
    there too."""
    core = ["total_loss", "rec_loss", reg_name]
    if not all(m.has(n) for n in core):
        return None
    steps = m.steps("total_loss")
    for name in core[1:]:
        steps = shared_steps(steps, m.steps(name))
    optional = [n for n in names if n not in core and m.has(n) and contains(m.steps(n), steps).all()]
    cols = {}
    for name in core + optional:
        own = m.steps(name)
        same = len(own) == len(steps) and np.array_equal(own, steps)  # logged together: no search
        cols[name] = m.values(name) if same else m.values(name)[np.searchsorted(own, steps)]
    ok = np.all([np.isfinite(c) for c in cols.values()], axis=0) & (cols["rec_loss"] != 0)
    if ok.sum() < 3:
        return None
    return steps[ok], {k: v[ok] for k, v in cols.items()}


def _median_ratio(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.median(a / b))


def pixel_count(n: float) -> int:
    """The pixels per sample a ratio stands for: the square image it is within 0.1% of (printed decimals put
    it a little off), else the ratio rounded."""
    shape = _square_side(n)
    return shape[0] * shape[1] ** 2 if shape else round(n)


def square_image(n: float) -> bool:
    """Is ``n`` a plausible pixel count, channels x H x W with a square image side a multiple of 8?"""
    return _square_side(n) is not None


def _square_side(n: float) -> tuple[int, int] | None:
    if not math.isfinite(n) or n < 4:
        return None
    # Image sides are multiples of 8 in practice; the tolerance covers five printed decimals of rec_loss.
    for channels in (1, 3, 4):
        side = round(math.sqrt(n / channels))
        if side >= 8 and side % 8 == 0 and abs(channels * side * side / n - 1) < 1e-3:
            return channels, side
    return None


def _shape_text(pixels: float) -> str:
    found = _square_side(pixels)
    return "" if found is None else f" (= {found[0]} x {found[1]} x {found[1]})"
