"""The learning rate against the schedule the config names: RadioDiff's decay only for its own layout, LDM's
constant (scaled) rate, a drop to 0, a freeze, a jump or a drift dated where it parts from it; a schedule no
config names (another trainer's, or a scheduler LDM's keys do not describe) is described, never judged."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import position as pos
from ..lr_plans import STEPWISE
from ..numbers import counted, describe_change, factor, fmt, pct
from ..schedule import Schedule
from .base import HARM, Case, Metrics
from .lr_range import LOW
from .lr_shape import describe_lr, may_be_printed, printed_decimals
from .said import Said


def _candidates(s: Schedule) -> dict:
    """The schedules the config can mean: RadioDiff's trainer always decays (constant is not one of them);
    latent-diffusion's and sgm's trainers keep the rate constant unless a scheduler shapes it (their decay is
    not RadioDiff's), so RadioDiff's LambdaLR is a candidate only for its own layout (and a config read without
    one, as the library allows). A scheduler the config names is the one candidate: that is the schedule."""
    if s.lr_plan is not None and not s.lr_plan.warmup_only:
        plan = s.lr_plan
        return {plan.describe(s.total_steps, unit=s.counts): lambda x: plan.expected(x, s.lr, s.total_steps)}
    decays = s.layout in ("radiodiff", "text log") and bool(s.total_steps)
    out = {} if decays else {"the config's constant lr": lambda x: np.full(len(x), s.lr)}
    if s.total_steps and s.layout not in ("ldm", "sgm"):
        total, floor = s.total_steps, s.min_lr or 0.0
        out["RadioDiff's decay, lr x max((1 - step/total)^0.95, min_lr) (min_lr floors the multiplier)"] = (
            lambda x: s.lr * np.maximum(np.clip(1 - x / total, 0, None) ** 0.95, floor))
        out["decay lr x (1 - step/total)^0.95 floored at min_lr"] = (
            lambda x: s.lr * np.maximum(np.clip(1 - x / total, 0, None) ** 0.95, floor / s.lr))
    return out


def _best_fit(steps: np.ndarray, lr: np.ndarray, s: Schedule, tolerance: float):
    """The candidate schedule that fits the longest stretch from the start, then the smallest worst window: a
    schedule that holds for 20% of a run and then breaks is still the schedule, broken at that point; and one
    that breaks late must not pass on its mean."""
    windows = np.array_split(np.arange(len(lr)), max(1, min(20, len(lr) // 3)))
    best = None
    for name, schedule in _candidates(s).items():
        for shift in (0, 1):  # RadioDiff's TensorBoard shows the rate of the next step
            expected = schedule(steps + shift)
            relative = np.abs(lr - expected) / np.maximum(np.abs(expected), 1e-30)
            errors = [float(np.median(relative[w])) for w in windows]
            fitting = next((i for i, e in enumerate(errors) if e > tolerance), len(errors))
            rank = (-fitting, max(errors), float(np.mean(relative)))
            if best is None or rank < best[0]:
                best = (rank, name, shift, expected, relative, fitting == len(errors), fitting > 0)
    return best


def _departure(steps, lr, expected, relative, tolerance, s: Schedule) -> tuple[int, str]:
    """Where and how the logged lr leaves the schedule: drops to 0, freezes, or jumps."""
    bad = relative > tolerance
    # the first point from which the error stays above tolerance for most of the following points
    idx = np.flatnonzero(bad)
    start = int(idx[0])
    for i in idx:
        if np.mean(bad[i:i + 10]) >= 0.7:
            start = int(i)
            break
    if np.all(lr[start:] == lr[start]):  # a frozen (or zeroed) rate: it froze where the constant stretch began
        while start > 0 and lr[start - 1] == lr[start]:
            start -= 1
    after, want = lr[start:], expected[start:]
    # a jump leaves the schedule from one logged point to the next; a drift parts from it a little at a time
    jumped = start == 0 or relative[start] > 3 * tolerance + relative[start - 1]
    if np.all(after == 0):
        how = f"drops to 0 at {pos.at(s, int(steps[start]))} and stays there"
    elif len(after) >= 3 and np.ptp(after) == 0 and np.ptp(want) > 0 and start > 0 and jumped and lr[start - 1] > 0:
        # a constant it jumped to from the point before is a jump that held, not a rate that froze where it was
        ratio = float(after[0]) / float(lr[start - 1])
        times = f"x{fmt(float(f'{ratio:.2g}'))}" if ratio >= 1 else f"x1/{fmt(float(f'{1 / ratio:.2g}'))}"
        how = (f"jumps at {pos.at(s, int(steps[start]))} from {fmt(float(lr[start - 1]))} to {fmt(float(after[0]))} "
               f"({times}) and holds there")
    elif len(after) >= 3 and np.ptp(after) == 0 and np.ptp(want) > 0:
        how = f"stops changing at {pos.at(s, int(steps[start]))}, frozen at {fmt(float(after[0]))}"
    elif not jumped:
        how = (f"parts from it gradually: more than {pct(tolerance, 0)} off from {pos.at(s, int(steps[start]))}, "
               f"ending at {fmt(float(lr[-1]))} where the schedule gives {fmt(float(expected[-1]))} (the logged lr "
               f"{describe_lr(steps, lr, s)})")
    else:
        ratio = float(np.median(after / np.maximum(want, 1e-30)))
        how = (f"jumps at {pos.at(s, int(steps[start]))} to {fmt(float(after[0]))} where the schedule gives "
               f"{fmt(float(want[0]))} ({fmt(round(ratio, 3))} times the scheduled rate from there on)")
    return int(steps[start]), how


def lr_schedule(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """The logged rate against the config's schedule (``_against_config``); whatever that says, a rate that has sat
    far below the range any autoencoder trains at over a long latest stretch is a warning of its own."""
    cases = _against_config(m, s, t)
    if any(c.severity in ("warning", "error") for c in cases):
        return cases
    low = _below_range_now(m, s, t)
    return cases if low is None else [low]


def _below_range_now(m: Metrics, s: Schedule, t: dict) -> Case | None:
    """The rate above 0 and below LOW (lr_range: 1e-7) at every point of its latest stretch, that stretch a tenth
    of the logged run or more (5 points at least) and not the end of a known total that a decay reaches by design
    (RadioDiff's, a cosine to 0: their last few percent): Adam barely moves the weights there, whatever scheduler
    (ReduceLROnPlateau without a floor) put it there."""
    steps, lr = m.steps("lr"), m.values("lr")
    good = np.isfinite(lr)
    steps, lr = steps[good], lr[good]
    if len(lr) < 10 or not 0 < float(lr[-1]) < LOW or float(np.max(lr)) < LOW:
        return None  # a rate below the range throughout is lr_range's: named as the cause where a loss failed
    above = np.flatnonzero(~((lr > 0) & (lr < LOW)))
    first = int(above[-1]) + 1 if len(above) else 0
    span = float(steps[-1] - steps[0]) or 1.0
    since = int(steps[first])
    if len(lr) - first < 5 or (steps[-1] - since) < 0.1 * span:
        return None
    if s.total_steps and since >= 0.9 * s.total_steps:
        return None
    plan = s.lr_plan.describe(s.total_steps, unit=s.counts) if s.lr_plan is not None else None
    named = f" The config's scheduler: {plan}." if plan else ""
    return Case(
        f"The learning rate has been below {fmt(LOW)} since {pos.at(s, since)} ({fmt(float(lr[-1]))} now, "
        f"{pct((steps[-1] - since) / span, 0)} of the logged run): an Adam step moves each weight by about that "
        f"much, so the run has barely trained since.{named}", "lr", since,
        {"lr_now": float(lr[-1]), "below_since": since, "low": LOW}, case="below-range", harm=HARM["lr"],
        title="Learning rate far below the range",
        action=f"Give the rate a floor (the scheduler's min_lr or eta_min, 1e-6 or above) or restore the rate it "
               f"had before {pos.at(s, since)}, and resume from the checkpoint saved there.")


def _against_config(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    steps, lr = m.steps("lr"), m.values("lr")
    good = np.isfinite(lr)
    steps, lr = steps[good], lr[good]
    if len(lr) < 3:
        return []
    if s.lr is None and s.lr_plan is not None and s.lr_plan.modelled and float(lr[0]) > 0:
        # a scheduler named without its base rate: its shape is relative, so the first logged rate is its base
        s = replace(s, lr=float(lr[0]), origins={**s.origins, "lr": "the first logged rate (the config names its "
                                                               "scheduler, not a base rate)"})
    decimals = printed_decimals(lr, m.kinds.get("lr", ""))
    # RadioDiff prints lr with five decimals (a CSV parsed from its log keeps them); a rate logged exactly, as
    # Lightning's CSV or a JSON config's value, is the rate, however round
    radiodiff_print = decimals == 5 or s.layout in ("radiodiff", "text log")
    exact = s.lr is not None and np.any(np.abs(np.unique(lr) - s.lr) <= 0.01 * s.lr)
    if decimals is not None and decimals >= 3 and radiodiff_print and not exact \
            and (s.lr is None or s.lr < 5 * 10.0**-decimals):
        return [Case(
            f"The logged lr only takes the values {', '.join(fmt(float(v)) for v in np.unique(lr))}: it was printed "
            f"with {decimals} decimals (as RadioDiff's text log prints it), too few for a rate of "
            f"{fmt(s.lr) if s.lr else 'this size'}. A precision artefact, not the schedule: read the lr from "
            "TensorBoard (Learning_Rate) to check the schedule.",
            "lr", int(steps[-1]), {"printed_decimals": decimals}, severity="info")]
    plan = s.lr_plan if s.lr else None
    if s.lr_plan is not None and not s.lr_plan.modelled:
        return [_plan_not_modelled(steps, lr, s)]
    off_axis = _off_axis(steps, lr, s) if plan is not None else None
    if off_axis is not None:
        return [off_axis]
    if plan is not None and (plan.warmup_only or plan.expected(steps, s.lr, s.total_steps) is None):
        planned = plan.expected(steps, s.lr, s.total_steps) if plan.warmup_only else None
        far = _far_off(m, steps, lr, planned, s, t, plan.describe(s.total_steps, unit=s.counts)) \
            if planned is not None else None
        # a warm-up and nothing after it (or a decay of unknown length); one stuck far below it said as such
        return [far or _warmup_only(steps, lr, s, t)]
    if s.layout == "flat" and plan is None:  # another trainer's config, no schedule it names: describe it
        zero = _zero_from(steps, lr)  # ... unless it went to 0 and stayed there, a fault under any schedule
        return [_described(steps, lr, s) if zero is None else _zero_unnamed(steps, lr, zero, s)]
    if s.lr is None:
        return []
    if np.all(lr == 0) and s.lr > 0 and (s.lr <= 5e-6 or s.layout in ("radiodiff", "text log")) \
            and may_be_printed(m.kinds.get("lr", "")):
        return [Case(
            f"Every logged lr is 0, and a rate of {fmt(s.lr)} (the config's) or below, as RadioDiff's decay makes "
            "it, reads 0.00000 when printed with five decimals as RadioDiff's text log prints it (and a CSV parsed "
            "from that log keeps): most likely a precision artefact; the TensorBoard Learning_Rate tag holds the "
            "real rate.", "lr", int(steps[-1]), {"printed_decimals": 5}, severity="info")]
    if s.layout in ("radiodiff", "text log") and not s.total_steps and plan is None:
        # RadioDiff's trainer always decays over its total: with that total unknown (not given, or the config's
        # is not this run's) there is no schedule to hold the logged rate against, least of all a constant one
        zero = _zero_from(steps, lr)
        if zero is not None:
            return [_zero_unnamed(steps, lr, zero, s)]
        return [Case(
            f"The logged learning rate {describe_lr(steps, lr, s)}. RadioDiff's trainer decays it over the run's "
            "total steps, which this report does not have (see the overview), so the rate is described, not "
            "judged against the config.", "lr", int(steps[-1]), {"not_judged": "total unknown"}, severity="info")]
    s, scaling = _scaled_base(steps, lr, s, t["tolerance"])
    (_, worst, _), name, shift, expected, relative, fits_all, fits_start = _best_fit(steps, lr, s, t["tolerance"])
    numbers = {"worst_window_relative_error": worst, "median_relative_error": float(np.median(relative)),
               "schedule": name, "shifted_by_one_step": bool(shift)}
    if fits_all:
        shift_text = " (the value logged at each step is the next step's rate, as RadioDiff logs it)" if shift else ""
        return [Case(f"The logged learning rate follows the config at every stretch of the "
                        f"run: {name}, from {fmt(s.lr)}{scaling}{shift_text}; its last logged value "
                        f"{fmt(float(lr[-1]))}, at {pos.at(s, int(steps[-1]))}.", "lr",
                        int(steps[-1]), numbers, severity="ok")]
    ratio = float(np.median(lr / s.lr))
    worst_i = int(np.argmax(relative))
    if np.ptp(lr) == 0 and np.ptp(expected) > 0 and abs(ratio - 1) <= t["tolerance"]:
        # dated where the schedule first parts from the constant (where it starts to decay), not at step 0
        parted = int(steps[np.flatnonzero(relative > t["tolerance"])[0]])
        numbers["departure_step"] = parted
        away = "below" if float(expected[np.flatnonzero(relative > t["tolerance"])[0]]) < float(lr[0]) else "above"
        return [Case(
            f"The learning rate is constant at {fmt(float(lr[0]))} over the whole run, where the config's schedule "
            f"({name}) is more than {pct(t['tolerance'], 0)} {away} it from {pos.at(s, parted)} on and gives "
            f"{fmt(float(expected[worst_i]))} by {pos.at(s, int(steps[worst_i]))}: the scheduler never stepped (not "
            "created, not stepped, or its state not restored on resume).",
            "lr", parted, numbers)]
    scaled = lr / np.maximum(expected, 1e-30)
    if not fits_start and np.ptp(expected) > 0 and float(np.median(scaled)) > 0 \
            and np.ptp(scaled) <= t["tolerance"] * abs(float(np.median(scaled))):
        numbers["ratio"] = float(np.median(scaled))
        return [Case(
            f"The logged learning rate follows the shape of {name} at {fmt(round(numbers['ratio'], 3))} times the "
            f"config's lr ({fmt(float(lr[0]))} at {pos.at(s, int(steps[0]))} against {fmt(float(expected[0]))}): "
            "the run used another base rate than this config says (another config, or a changed lr).",
            "lr", int(steps[0]), numbers)]
    if np.ptp(lr) <= 0.01 * abs(lr).max() and ratio > 1:
        gpus = ratio / s.lr_scale if s.lr_scale else None
        if s.layout in ("ldm", "sgm") and (gpus is None or (round(gpus) >= 1 and abs(gpus - round(gpus))
                                                             <= t["tolerance"] * gpus)):
            scale = (f" ({s.lr_scale} from accumulate_grad_batches x batch_size in the config, so "
                     f"{counted(round(gpus), 'GPU')})") if gpus is not None else ""
            return [Case(
                f"The learning rate is constant at {fmt(float(lr[-1]))}, {fmt(round(ratio, 3))} x the config's "
                f"{fmt(s.lr)}: LDM's main.py scales base_learning_rate by accumulate_grad_batches x GPUs x batch "
                f"size{scale}.", "lr", int(steps[-1]), numbers | {"ratio": ratio}, severity="info")]
        why = (f"main.py's scaling gives {s.lr_scale} (accumulate_grad_batches x batch_size) x the GPUs, and "
               f"{fmt(round(ratio, 3))} is not a whole multiple of it" if s.layout in ("ldm", "sgm")
               else "the config has no scaling that gives it")
        return [Case(
            f"The learning rate is constant at {fmt(float(lr[-1]))}, {fmt(round(ratio, 3))} x the config's "
            f"{fmt(s.lr)}: {why}. The run used another rate than this config says (a hard-coded lr, another "
            "config, or a changed scaling).", "lr", int(steps[0]), numbers | {"ratio": ratio})]
    if fits_start:
        step, how = _departure(steps, lr, expected, relative, t["tolerance"], s)
        numbers["departure_step"] = step
        # the rates there, logged and scheduled: the numbers a one-line answer quotes (at the last point, where a
        # departure shows most: frozen, jumped or at 0 for the rest of the run)
        numbers.update(lr_logged=float(lr[-1]), lr_expected=float(expected[-1]), lr_at_step=int(steps[-1]))
        if s.layout in ("ldm", "sgm") and plan is None and how.startswith("parts from it gradually"):
            return [_unmodelled(steps, lr, s, numbers)]  # a scheduler its config keys do not describe
        return [Case(
            f"The logged learning rate follows {name} and then {how}. Nothing in the config does that: a scheduler "
            "not restored on resume, a manual change" + (", or an lr set to 0 by a bug." if how.startswith("drops to 0")
                                                          else ", or a bug in the code that sets it."),
            "lr", step, numbers, case="lr-to-zero" if how.startswith("drops to 0") else None,
        )]
    bad = relative > t["tolerance"]
    if bad[0] and not bad[-max(3, len(bad) // 2):].any() and float(lr[0]) < float(expected[0]) \
            and s.layout not in ("ldm", "sgm") and plan is None:
        # below the schedule at first, then on it: a warm-up the config does not have
        joined = int(steps[np.flatnonzero(bad)[-1] + 1])
        numbers["warmup_until_step"] = joined
        return [Case(
            f"The logged learning rate starts below the config's schedule ({fmt(float(lr[0]))} at "
            f"{pos.at(s, int(steps[0]))} where {name} gives {fmt(float(expected[0]))}) and joins it at "
            f"{pos.at(s, joined)}, "
            "following it from there: a warm-up that this config (and RadioDiff's trainer) does not have. The run may "
            "use another trainer or config.", "lr", int(steps[0]), numbers)]
    if s.layout in ("ldm", "sgm") and plan is None and np.ptp(lr) <= 0.01 * abs(lr).max() \
            and float(lr[-1]) < t["far_below"] * s.lr:
        # constant, orders of magnitude under the base rate (which main.py only ever scales up): a warm-up
        # stuck at its first value, or a rate that cannot train anything
        return [Case(
            f"The learning rate is constant at {fmt(float(lr[-1]))} from {pos.at(s, int(steps[0]))} to "
            f"{fmt(int(steps[-1]))}, {fmt(float(lr[-1]) / s.lr)} x the config's base_learning_rate {fmt(s.lr)}: "
            "main.py only scales that up, so something holds the rate down, typically a warm-up scheduler stuck at "
            "its starting factor (f_start) or never stepped. At this rate the model barely trains.",
            "lr", int(steps[0]), numbers, rationale=off_rate_matters(float(lr[-1]) / s.lr))]
    if s.layout in ("ldm", "sgm") and plan is None:
        return [_unmodelled(steps, lr, s, numbers)]
    far = _far_off(m, steps, lr, expected, s, t, name)
    if far is not None:
        return [far]
    # dated where the logged and the scheduled rate first differ beyond the tolerance
    first = int(np.flatnonzero(relative > t["tolerance"])[0])
    numbers["departure_step"] = int(steps[first])
    numbers.update(lr_logged=float(lr[first]), lr_expected=float(expected[first]), lr_at_step=int(steps[first]))
    return [Case(
        f"The logged learning rate does not follow the config's schedule: they first differ by more than "
        f"{pct(t['tolerance'], 0)} at {pos.at(s, int(steps[first]))} ({fmt(float(lr[first]))} where {name} gives "
        f"{fmt(float(expected[first]))}); at {pos.at(s, int(steps[worst_i]))} it is {fmt(float(lr[worst_i]))} against "
        f"{fmt(float(expected[worst_i]))} (over the run the logged rate is typically "
        f"{_times(float(np.median(lr / np.maximum(expected, 1e-30))), t['tolerance'])} the scheduled one). The run "
        "may use another config or a different lr.",
        "lr", int(steps[first]), numbers,
    )]


def lr_schedule_short(f: Said) -> str | None:
    n = f.n
    if "printed_decimals" in n:
        return f"the lr printed with {fmt(n['printed_decimals'])} decimals, too few to check its schedule"
    if f.severity == "ok" and "worst_window_relative_error" in n:
        return f"the logged lr within {pct(n['worst_window_relative_error'])} of the config's schedule throughout"
    if f.case == "below-range" and "below_since" in n:
        return f"the lr below {fmt(n['low'])} since {f.at(n['below_since'])} ({fmt(n['lr_now'])} now)"
    if f.case == "lr-to-zero" and "departure_step" in n:
        return f"the lr exactly 0 from {f.at(n['departure_step'])}" + (
            f" ({pct(n['zero_share'], 0)} of its points)" if "zero_share" in n else "")
    if "stuck_at" in n:
        return (f"the lr stuck at {fmt(n['stuck_at'])} from {f.at(n.get('stuck_from', f.step))}, "
                f"x{factor(1 / n['ratio'])} below the configured rate" if n.get("ratio") else
                f"the lr stuck at {fmt(n['stuck_at'])} from {f.at(n.get('stuck_from', f.step))}")
    if "lr_logged" in n and "lr_expected" in n:
        return (f"the logged lr parts from the config's schedule at {f.at(n.get('departure_step', f.step))}: "
                f"{fmt(n['lr_logged'])} at {f.at(n.get('lr_at_step', f.step))} where it gives "
                f"{fmt(n['lr_expected'])}")
    if "ratio" in n:
        return f"the logged lr {fmt(round(n['ratio'], 3))} x the config's"
    if "warmup_until_step" in n:
        return f"the lr below the config's schedule until {f.at(n['warmup_until_step'])}"
    if "departure_step" in n:
        return f"the logged lr parts from the config's schedule at {f.at(n['departure_step'])}"
    if n.get("described"):
        return "the lr described, its schedule not modelled (not judged)"
    return None


def _times(ratio: float, tolerance: float) -> str:
    """A logged rate against the planned one, in words: "1,000 x below", "2.5 x above", "at"."""
    if not np.isfinite(ratio) or ratio <= 0:
        return "far below"
    if abs(ratio - 1) <= tolerance:
        return "at"
    if ratio < 1:
        return f"{fmt(round(1 / ratio, 1 if ratio > 0.1 else None))} x below"
    return f"{fmt(round(ratio, 1 if ratio < 10 else None))} x above"


def _far_off(m: Metrics, steps: np.ndarray, lr: np.ndarray, expected: np.ndarray, s: Schedule, t: dict,
             name: str) -> Case | None:
    """The logged lr a clear factor (``clear``) off the configured schedule from some step to the last log (a
    tenth of the points or more): dated where the two part by that factor for good, said as how far off from
    where the schedule has reached its rate (a warm-up's end), and, when the rate is held at one value (a warm-up
    stuck at its start, a scheduler never stepped), as "stuck at"."""
    valid = (lr > 0) & (expected > 0)
    if not valid.all():
        return None  # a rate of 0 is a drop to 0, said elsewhere
    factor = expected / lr
    off = (factor >= t["clear"]) | (factor * t["clear"] <= 1)  # a factor either way (no division: it may be 0)
    on = np.flatnonzero(~off)
    start = int(on[-1]) + 1 if len(on) else 0
    if len(lr) - start < max(3, 0.1 * len(lr)):
        return None
    plan = s.lr_plan
    reached = max(start, int(np.searchsorted(steps, plan.warmup))) if plan is not None else start
    reached = min(reached, len(lr) - 1)
    ratio = float(np.median(lr[reached:] / expected[reached:]))
    how = _times(ratio, t["tolerance"])
    numbers = {"departure_step": int(steps[start]), "ratio": ratio, "schedule": name,
               "full_factor_from": int(steps[reached])}
    held = float(np.ptp(lr[start:])) <= 0.01 * float(np.max(lr[start:]))
    configured = f"{how} the configured {fmt(float(expected[-1]))} from {pos.at(s, int(steps[reached]))} on"
    action = None
    if held:
        value = float(np.median(lr[start:]))
        first = start
        while first > 0 and abs(float(lr[first - 1]) - value) <= 0.01 * value:
            first -= 1
        numbers["stuck_at"], numbers["stuck_from"] = value, int(steps[first])
        said = f"The learning rate is stuck at {fmt(value)} from {pos.at(s, int(steps[first]))} to the last log " \
               f"({pos.at(s, int(steps[-1]))})"
        warm = plan is not None and plan.warmup > 0 and first == 0 and int(steps[start]) < plan.warmup
        if warm:
            at_start = abs(plan.start_factor(s.lr) * s.lr - value) <= 0.02 * value
            said += (f": the config's warm-up{plan.warmup_start(s.lr) if at_start else ''} to {fmt(s.lr)} over "
                     f"{pos.count(s, plan.warmup)} never ran, so the rate is {configured}")
            action = ("Check that the warm-up scheduler is stepped once per optimizer step (scheduler.step() after "
                      "optimizer.step(), or Lightning's interval: step), then resume from the latest checkpoint with "
                      "it fixed.")
        else:
            said += (f", {configured}: the scheduler stopped moving it (not stepped, or its state not restored on "
                     "resume)")
    else:
        said = (f"The logged learning rate is {configured} to the last log ({pos.at(s, int(steps[-1]))}), where "
                f"it is {fmt(float(lr[-1]))}: the run used another rate than this config says (another config, a "
                "changed lr, or a scheduler not restored on resume)")
    slow, implicates = _losses_since(m, s, int(steps[reached]), ratio)
    if implicates:  # the loss it names as learning slowly: no all-clear on it elsewhere (grouping.loud_metrics)
        numbers["implicates"] = implicates
    return Case(f"{said}.{slow} The config's schedule: {name}.", "lr", int(steps[start]), numbers, action=action,
                rationale=off_rate_matters(ratio))


def off_rate_matters(ratio: float) -> str:
    """Why a rate that far off its plan matters, for the case found (the Q&A's "why does it matter"): a rate N
    times below moves the weights N times less per step, one N times above takes steps N times larger."""
    if ratio < 1:
        times = fmt(round(1 / ratio, 1 if ratio > 0.1 else None))
        return (f"At {times} x below its planned rate every update moves the weights about {times} times less than "
                f"planned: the model learns that much slower, so the steps this run spends give it about 1/{times}"
                " of the training they were planned to, and a loss that looks settled may only be crawling.")
    times = fmt(round(ratio, 1 if ratio < 10 else None))
    return (f"At {times} x above its planned rate every update is about {times} times larger than planned: the "
            "run risks diverging, and where it does not, it may never settle into a minimum.")


def _losses_since(m: Metrics, s: Schedule, since: int, ratio: float) -> tuple[str, dict[str, str]]:
    """What the reconstruction did while the rate was that far below its plan: its level at ``since`` and now,
    so a plateau is seen as the low rate's doing; with the loss it names as learning slowly (``implicates``)."""
    name = next((n for n in ("rec_loss", "nll_loss", "total_loss") if m.has(n)), None)
    if name is None or ratio >= 1:
        return "", {}
    steps, values = m.window(name, lo=since)
    good = np.isfinite(values)
    if good.sum() < 10:
        return "", {}
    k = max(3, int(good.sum() * 0.05))
    first, now = float(np.median(values[good][:k])), float(np.median(values[good][-k:]))
    return (f" Over {pos.span(s, since, int(steps[good][-1]))} {name} {describe_change(first, now)}: at this "
            "rate the model learns slowly, if at all.", {name: "slow"})


def _off_axis(steps: np.ndarray, lr: np.ndarray, s: Schedule) -> Case | None:
    """The config's scheduler when its lengths cannot be on the logged axis, described, never held to it: logs
    counting epochs (records, lines) against a warm-up or decay in optimizer steps longer than the whole logged
    run; or logs counting steps against a decay (a first cycle) so short that it is an epoch count (T_max: 100
    for 100 epochs, stepped once an epoch)."""
    plan, last = s.lr_plan, float(steps[-1])
    own = max(plan.warmup, plan.length or 0, plan.period or 0)
    said = f"The logged learning rate {describe_lr(steps, lr, s)}. The config ({plan.source}) names " \
           f"{plan.describe(s.total_steps, source=False, unit=s.counts)}"
    numbers = {"described": True, "schedule_length": own}
    if s.counts != "step" and own > 1.5 * last:
        return Case(f"{said}, counted in the scheduler's steps, while these logs count {s.counts}s (to "
                    f"{pos.at(s, int(last))}): the two axes cannot be compared, so the schedule is described, not "
                    "judged.", "lr", int(last), numbers, severity="info")
    if s.counts == "step" and np.ptp(lr) > 0 and (plan.too_many_restarts(last) or (
            plan.length and plan.length < 0.5 * last)):
        size = plan.length or plan.period
        return Case(f"{said}, sized at {fmt(size)} of its scheduler's steps against {fmt(int(last))} logged steps: "
                    "it is most likely stepped once an epoch, so the schedule is described, not judged on this "
                    "axis.", "lr", int(last), numbers | {"schedule_length": size}, severity="info")
    return None


def _scaled_base(steps: np.ndarray, lr: np.ndarray, s: Schedule, tolerance: float) -> tuple[Schedule, str]:
    """For LDM/sgm with a named scheduler: main.py multiplies base_learning_rate by accumulate_grad_batches x
    batch_size x GPUs before the scheduler's factor applies, so the plan is held to that rate when the logged lr
    is a whole multiple of the config's part of it (the GPUs being the whole number); else to the config's."""
    if s.lr_plan is None or s.layout not in ("ldm", "sgm") or not s.lr_scale:
        return s, ""
    expected = s.lr_plan.expected(steps, s.lr, s.total_steps)
    if expected is None or not (expected > 0).any():
        return s, ""
    usable = expected > 0
    gpus = float(np.median(lr[usable] / expected[usable])) / s.lr_scale
    if round(gpus) < 1 or abs(gpus - round(gpus)) > tolerance * gpus:
        return s, ""
    factor = s.lr_scale * round(gpus)
    return replace(s, lr=s.lr * factor), (f" (base_learning_rate {fmt(s.lr)} x {factor}: main.py's scaling by "
                                           f"accumulate_grad_batches x batch_size, {counted(round(gpus), 'GPU')})")


def _warmup_only(steps: np.ndarray, lr: np.ndarray, s: Schedule, t: dict) -> Case:
    """A config that names a warm-up and no decay (or a decay of no known length): the warm-up is judged (below
    the config's lr at first, at it once the warm-up is over), the rest described."""
    plan = s.lr_plan
    w, tol = plan.warmup, t["tolerance"]
    inside, after = steps < w, steps >= w
    if w == 0:  # a decay of no known length and no warm-up: nothing to hold the curve to
        named = plan.describe(s.total_steps, source=False, unit=s.counts)
        missing = ("its gamma or how many optimizer steps an epoch holds (steps_per_epoch)"
                   if plan.kind in STEPWISE else "how many steps it runs (no length, no total)")
        return Case(f"The logged learning rate {describe_lr(steps, lr, s)}. The config ({plan.source}) names "
                    f"{named} but not {missing}, so it is described, not judged.",
                    "lr", int(steps[-1]), {"described": True}, severity="info")
    shape = f"The logged learning rate {describe_lr(steps, lr, s)}"
    numbers = {"warmup_steps": w, "schedule": plan.describe(s.total_steps, unit=s.counts)}
    what = (f"the config ({plan.source}) names {plan.describe(s.total_steps, source=False, unit=s.counts)}"
            + ("" if plan.warmup_only else ", but not how many steps its decay runs (no length or total)"))
    if inside.any() and float(lr[inside][0]) >= (1 - tol) * s.lr:
        numbers["departure_step"] = int(steps[0])
        return Case(
            f"{shape}: {what}, yet at {pos.at(s, int(steps[0]))} it is already {fmt(float(lr[0]))}, the config's lr "
            f"{fmt(s.lr)}: the warm-up did not run (the scheduler not created or not stepped).",
            "lr", int(steps[0]), numbers)
    reached = after & (np.abs(lr - s.lr) <= tol * s.lr)
    if after.any() and not reached[after][:3].any() and reached.any():  # it gets there, later than it should
        top = after & (lr >= 0.99 * s.lr)  # where it is at the rate, as the warm-up's description dates it
        first, late = int(steps[after][0]), int(steps[top][0] if top.any() else steps[reached][0])
        numbers.update(departure_step=first, reached_step=late)
        return Case(
            f"{shape}: {what}, yet once it is over ({pos.at(s, first)}) the rate is {fmt(float(lr[after][0]))}, "
            f"{fmt(float(lr[after][0]) / s.lr)} x the config's lr {fmt(s.lr)}, which it reaches only at "
            f"{pos.at(s, late)}: the warm-up runs about {fmt(round(late / w, 1))} times as long as the config says "
            "(its length given in other steps, epochs or micro-batches, or another scheduler's).", "lr", first,
            numbers, action=f"Make the warm-up's length the config's {fmt(w)} {pos.units(s)} (check the unit the "
                            "scheduler is stepped in), or give the config the length you meant.")
    if after.any() and not reached[after][:3].any() and float(np.max(lr[after])) < (1 - tol) * s.lr:
        first = int(steps[after][0])
        numbers["departure_step"] = first
        return Case(
            f"{shape}: {what}, yet once it is over ({pos.at(s, first)}) the rate is {fmt(float(lr[after][0]))}, below "
            f"the config's lr {fmt(s.lr)}, and never reaches it: the warm-up is longer than the config says, or the "
            "base rate is another.", "lr", first, numbers)
    return Case(
        f"{shape}. {what[0].upper()}{what[1:]}: the warm-up is as the config says (below {fmt(s.lr)} at first, at it "
        f"by {pos.at(s, w)}); what follows is described, not judged.",
        "lr", int(steps[-1]), numbers | {"described": True}, severity="info")


def _unmodelled(steps: np.ndarray, lr: np.ndarray, s: Schedule, numbers: dict) -> Case:
    """An LDM/sgm rate shaped by a scheduler the config keys read do not describe: described, not a fault."""
    return Case(
        f"The logged learning rate {describe_lr(steps, lr, s)}: the config's base_learning_rate ({fmt(s.lr)}) alone "
        "does not describe that, and latent-diffusion's trainer keeps it constant unless a scheduler shapes it, so "
        "this is a scheduler the report does not model, described here, not judged. It is checked for a drop to 0 "
        "or a freeze only once it starts as the config says.",
        "lr", int(steps[0]), numbers | {"described": True}, severity="info")


def _zero_from(steps: np.ndarray, lr: np.ndarray) -> int | None:
    """The step from which a logged lr that was not 0 is exactly 0 to the end, when that stretch holds a tenth of
    the points or more (at least 3); None otherwise (a decay that reaches 0 at its last step is no fault)."""
    nonzero = np.flatnonzero(lr != 0)
    if not len(nonzero):
        return None
    first = int(nonzero[-1]) + 1
    return int(steps[first]) if len(lr) - first >= max(3, 0.1 * len(lr)) else None


def _zero_unnamed(steps: np.ndarray, lr: np.ndarray, zero: int, s: Schedule) -> Case:
    """A learning rate at 0 for the rest of the run, under a schedule no config names: a fault whatever it was."""
    before = steps < zero
    share = float(np.mean(~before))
    return Case(
        f"The learning rate {describe_lr(steps[before], lr[before], s)}, and is exactly 0 from {pos.at(s, zero)} on "
        f"({pct(share, 0)} of its logged points): whatever schedule this trainer follows (its config names none), "
        "nothing trains at lr 0. A scheduler sized for fewer steps than the run, a manual change, or a bug.",
        "lr", zero, {"departure_step": zero, "zero_share": share}, case="lr-to-zero")


def _plan_not_modelled(steps: np.ndarray, lr: np.ndarray, s: Schedule) -> Case:
    """A scheduler the config names that the report does not model (OneCycleLR, ReduceLROnPlateau, a name it
    does not know): the logged lr described, never said to follow no scheduler."""
    plan = s.lr_plan
    return Case(
        f"The learning rate {describe_lr(steps, lr, s)}. The config ({plan.source}) names "
        f"{plan.describe(s.total_steps, source=False)}, a scheduler the report does not model, so this schedule is "
        "described, not judged.", "lr", int(steps[-1]), {"described": True, "schedule": plan.describe(None)},
        severity="info")


def _described(steps: np.ndarray, lr: np.ndarray, s: Schedule) -> Case:
    """The logged lr put into words, for a config that names no schedule (another trainer's): nothing to judge
    it against, so it is described, with where it starts against the config's lr."""
    start = ""
    if s.lr:
        where = s.origins.get("lr", "the config")
        start = (f" It starts at the config's lr ({where})." if abs(float(lr[0]) - s.lr) <= 0.02 * s.lr
                 else f" It starts at {fmt(float(lr[0]))}, {fmt(round(float(lr[0]) / s.lr, 3))} x the config's lr "
                      f"{fmt(s.lr)} ({where}).")
    return Case(
        f"The learning rate {describe_lr(steps, lr, s)}.{start} The config names no scheduler and comes from a trainer "
        "the report does not know, so this schedule is described, not judged.",
        "lr", int(steps[-1]), {"described": True}, severity="info")
