"""How the curves move: sustained growth (divergence), transient spikes, liveness and the learning rate."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..numbers import describe_change, fmt, pct
from ..schedule import Schedule
from ..stats import MAD_TO_SIGMA, robust_noise, rolling_median
from .base import Case, Metrics
from .gan import clamp_bursts
from .lr_shape import describe_lr

WATCHED = ("total_loss", "rec_loss", "nll_loss", "kl_loss")


def divergence(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    out = []
    last = m.last_step()
    lo = s.switch_step if s.switch_step is not None and last >= s.switch_step else None
    for name in ("total_loss", "rec_loss", "nll_loss"):
        if not m.has(name):
            continue
        steps, values = m.window(name, lo=lo)  # the GAN term's switch-on is not growth
        good = np.isfinite(values)
        steps, values = steps[good], values[good]
        half = len(values) // 2
        if half < 4 * t["min_points"]:
            continue
        windows = np.array_split(values[-half:], 4)
        levels = [float(np.median(w)) for w in windows]
        # growth against the level's magnitude: right for negative totals and across zero
        rising = all(b - a > t["step_growth"] * max(abs(a), 1e-12) for a, b in zip(levels, levels[1:], strict=False))
        if rising and levels[-1] - levels[0] > t["total_growth"] * max(abs(levels[0]), 1e-12):
            start = int(steps[-half])
            out.append(Case(
                f"{name} is growing steadily: its median rose in each quarter of the latest half of the run "
                f"(since step {fmt(start)}): it {describe_change(levels[0], levels[-1])}. "
                "Sustained growth, unlike a spike, means training is diverging: lower the learning rate or resume "
                "from an earlier checkpoint.",
                name, start, {"levels": levels},
            ))
    return out


def spikes(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    out = []
    w = int(t["window"])
    bursts = clamp_bursts(m, s)
    for name in WATCHED + ("disc_loss", "g_loss"):
        if not m.has(name):
            continue
        steps, values = m.steps(name), m.values(name)
        good = np.isfinite(values)
        steps, values = steps[good], values[good]
        if len(values) < 3 * w:
            continue
        median = rolling_median(values, w)
        # Noise scale from first differences (trend-free), so a steep but smooth stretch is no outlier.
        with np.errstate(all="ignore"):  # a diverged run's 1e308 overflows the differences: no score there
            step = np.diff(values, prepend=np.nan)
            scale = rolling_median(np.abs(step - rolling_median(step, 4 * w, w)), 4 * w, w) * MAD_TO_SIGMA / np.sqrt(2)
            score = np.abs(values - median) / np.where(scale > 0, scale, np.nan)
        outlier = np.nan_to_num(score) > t["mad_factor"]
        if name in WATCHED:  # a loss's spike is a jump up; a dip below its level is no hard batch
            outlier &= values > median
        idx = np.flatnonzero(outlier)
        if not len(idx):
            continue
        base = median
        # transient: the level after the spike is back where it was before
        before = np.array([np.median(values[max(0, i - w):i]) if i else values[0] for i in idx])
        after = np.array([np.median(values[i + 1:i + 1 + w]) if i + 1 < len(values) else values[-1] for i in idx])
        transient = np.abs(after - before) <= t["recovery"] * np.maximum(np.abs(before), 1e-12)
        if not transient.any():
            continue
        every = int(np.median(np.diff(steps))) if len(steps) > 1 else 1
        spike_idx = idx[transient]
        # points where d_weight sat at its clamp are no hard batches: the d-weight-pinned finding names them
        in_burst = _in_bursts(steps[spike_idx], bursts, every)
        spike_idx, clamped = spike_idx[~in_burst], int(in_burst.sum())
        if not len(spike_idx):
            continue
        worst = spike_idx[int(np.argmax(score[spike_idx]))]
        also = (f" ({clamped} more coincide with d_weight at its clamp: see the d_weight finding)" if clamped else "")
        out.append(Case(
            f"{name} has {len(spike_idx)} transient spike(s) from step {fmt(int(steps[spike_idx[0]]))} on, each back "
            f"to its level within {w} points; the largest at step {fmt(int(steps[worst]))}: "
            f"{fmt(float(values[worst]))} against a local median of "
            f"{fmt(float(base[worst]))}{also}. Isolated spikes from hard batches are harmless; check the batch if they "
            "grow.",
            name, int(steps[spike_idx[0]]),
            {"count": int(len(spike_idx)), "largest_step": int(steps[worst]), "largest_value": float(values[worst]),
             "at_d_weight_clamp": clamped},
        ))
    return out


def _in_bursts(steps: np.ndarray, bursts: list[tuple[int, int]], every: int) -> np.ndarray:
    """Which steps fall in (or a logging interval either side of) a stretch of d_weight at its clamp."""
    inside = np.zeros(len(steps), dtype=bool)
    for a, b in bursts:
        inside |= (steps >= a - every) & (steps <= b + every)
    return inside


def _training_wall_times(m: Metrics) -> tuple[np.ndarray, np.ndarray] | None:
    """Steps and wall times of the training loss logged furthest (a text log every 100 steps beside an event
    file of every step must not make the run look older than it is)."""
    best = None
    for name in ("total_loss", "rec_loss", "kl_loss", "nll_loss", "quant_loss"):
        if m.has(name):
            walls = m.wall_times(name)
            good = np.isfinite(walls)
            if good.sum() >= 3:
                steps = m.steps(name)[good]
                if best is None or (steps[-1], len(steps)) > (best[0][-1], len(best[0])):
                    best = (steps, walls[good])
    return best


def newest_wall_time(m: Metrics) -> float | None:
    newest = [np.nanmax(m.wall_times(n)) for n in m.names() if np.isfinite(m.wall_times(n)).any()]
    return float(max(newest)) if newest else None


def liveness(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    found = _training_wall_times(m)
    if found is None:
        return []
    steps, walls = found
    k = min(len(steps) - 1, max(2, int(t["window"])))
    ds, dw = np.diff(steps[-k - 1:]), np.diff(walls[-k - 1:])
    ok = (ds > 0) & (dw > 0)
    if not ok.any():
        return []
    running = float(np.median(ds[ok] / dw[ok]) * 3600)  # between pauses: what the slowdown check compares
    interval = float(np.median(dw[ok]))
    reference = t.get("now") or newest_wall_time(m)
    age = max(0.0, reference - float(walls[-1]))
    pace = recent_pace(steps, walls, k, interval, max(t["stale_intervals"] * interval, t["stale_seconds"]))
    if pace is None:
        return []
    rate = pace["steps_per_hour"]
    numbers = {"steps_per_hour": rate, "steps_per_hour_between_pauses": running, "seconds_between_logs": interval,
               "seconds_since_last_log": age} | {k_: v for k_, v in pace.items() if k_ != "steps_per_hour"}
    step = int(steps[-1])
    stamp = dt.datetime.fromtimestamp(float(walls[-1]), dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"{fmt(round(rate))} steps per hour over the latest {fmt(pace['over_steps'])} steps' wall time"
             f"{pace['pauses_text']}, the last log at {stamp} (step {fmt(step)})"]
    milestone = s.next_milestone(m.last_step())
    broken = [n for n in ("total_loss", "rec_loss", "nll_loss", "kl_loss") if m.has(n)
              and not np.isfinite(m.values(n)[-1])]
    if broken:  # a run whose losses are NaN/Inf will not reach its milestones as it is
        milestone = None
        parts.append(f"no time estimate: {broken[0]} is NaN/Inf at the latest step")
    if milestone is not None:
        hours = (milestone.step - max(step, m.last_step())) / rate
        numbers["hours_to_next_milestone"] = hours
        parts.append(f"step {fmt(milestone.step)} ({milestone.name}) in about {duration(hours)}")
    every = s.log_every or (int(np.median(np.diff(steps))) if len(steps) > 1 else 1)
    if s.finished(step, every):
        parts = [f"{fmt(round(rate))} steps per hour; the last logged step is the run's last ({fmt(step)} of "
                 f"{fmt(s.total_steps)} steps, logged every {fmt(every)}): training has finished"]
        numbers["finished"] = True
        return [Case("Training speed: " + "; ".join(parts) + ".", None, step, numbers, severity="info")]
    elif s.total_steps and step < s.total_steps and not broken:
        numbers["hours_to_end"] = (s.total_steps - step) / rate
        if milestone is None or milestone.step != s.total_steps:
            parts.append(f"the end (step {fmt(s.total_steps)}) in about {duration(numbers['hours_to_end'])}")
    limit = max(t["stale_intervals"] * interval, t["stale_seconds"])
    if age > limit:
        return [Case(
            f"The run may have stopped: its last log (step {fmt(step)}) is {duration(age / 3600)} older than "
            f"{'--now' if t.get('now') else 'the newest log of the run'}, while it logged every "
            f"{duration(interval / 3600)} before ({parts[0]}). Check the process; while it is stopped there is "
            "no time estimate.",
            None, step, numbers,
        )]
    slow = _slowdown(steps, walls, k, running, t)
    if slow is not None:
        before, since = slow
        numbers.update(steps_per_hour_before=before, slowdown_since=since)
        return [Case(
            f"Training slowed down: {fmt(round(running))} steps per hour between pauses in the latest logs against "
            f"{fmt(round(before))} before step {fmt(since)} ({fmt(round(before / rate, 1))} times slower), and the "
            "time estimates use the current speed. Look for what changed then: data loading (a slow disk or "
            "fewer workers), a GPU shared with another job, throttling, or a validation or logging step that grew. "
            "Training speed: " + "; ".join(parts) + ".",
            None, since, numbers)]
    return [Case("Training speed: " + "; ".join(parts) + ".", None, step, numbers, severity="info")]


def recent_pace(steps: np.ndarray, walls: np.ndarray, k: int, interval: float, stop: float) -> dict | None:
    """Steps per hour over the wall time of the latest stretch (at least ``k`` intervals and a quarter of the
    points), pauses included: validation, checkpointing and stalls recur, so the ETA must count them (the median
    log interval does not). A gap longer than ``stop`` is the process not running (a crash, a resume) and is left
    out; pauses (gaps over 5 intervals and 30 s) are counted and named."""
    n = max(k, len(steps) // 4)  # several cycles of a recurring pause (validation every N steps)
    a = max(0, len(steps) - 1 - n)
    ds, dw = np.diff(steps[a:]), np.diff(walls[a:])
    good = np.isfinite(dw) & (dw >= 0) & (ds > 0)
    stopped = good & (dw > stop)
    paused = good & ~stopped & (dw > max(5 * interval, 30.0))
    wall = float(dw[good & ~stopped].sum())
    gained = int(ds[good & ~stopped].sum())
    if wall <= 0 or gained <= 0:
        return None
    out = {"steps_per_hour": gained / wall * 3600, "over_steps": int(steps[-1] - steps[a]),
           "pauses": int(paused.sum()), "pause_hours": float(dw[paused].sum() / 3600), "pauses_text": ""}
    if paused.any():
        longest = int(np.argmax(np.where(paused, dw, -1)))
        out["longest_pause_step"] = int(steps[a + longest])
        out["pauses_text"] = (f", including {fmt(int(paused.sum()))} pause(s) of {duration(out['pause_hours'])} in "
                              f"all ({pct(out['pause_hours'] * 3600 / wall, 0)} of it; the longest "
                              f"{duration(float(dw[longest]) / 3600)} after step {fmt(out['longest_pause_step'])})")
    if stopped.any():
        out["stopped_hours"] = float(dw[stopped].sum() / 3600)
        out["pauses_text"] += (f"; {fmt(int(stopped.sum()))} stop(s) of {duration(out['stopped_hours'])} in all "
                               "left out (the process was not running)")
    return out


def _slowdown(steps: np.ndarray, walls: np.ndarray, k: int, rate: float, t: dict) -> tuple[float, int] | None:
    """(steps per hour before, the step it slowed at) when the latest speed is ``slowdown`` times below the
    run's speed before it (medians of intervals, so a restart's gap does not count)."""
    ds, dw = np.diff(steps), np.diff(walls)
    ok = (ds > 0) & (dw > 0)
    speeds = np.where(ok, ds / np.where(dw > 0, dw, 1) * 3600, np.nan)
    earlier = speeds[: -k]
    if np.isfinite(earlier).sum() < 2 * k:
        return None
    before = float(np.nanmedian(earlier))
    if not rate * t["slowdown"] < before:
        return None
    fast = np.flatnonzero(np.isfinite(speeds) & (speeds > before / np.sqrt(t["slowdown"])))
    return before, int(steps[fast[-1] + 1]) if len(fast) else int(steps[0])


def duration(hours: float) -> str:
    """Hours as a person says them: 40 s, 12 min, 4.4 hours, 3.2 days."""
    if hours < 1 / 60:
        seconds = hours * 3600
        return f"{seconds:.2g} s" if seconds < 1 else f"{seconds:.0f} s"  # "every 0 s" says nothing
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} hours"
    days = hours / 24
    return f"{days:.1f} days" if days < 100 else f"{fmt(round(days))} days"


def printed_decimals(lr: np.ndarray) -> int | None:
    """The decimals an lr was printed with, when its values are a few multiples of 10^-d (d <= 6) that a real
    rate's decay would not give: RadioDiff's text log prints lr with ``{:.5f}`` (0.00001, then 0.00000)."""
    values = np.unique(lr)
    if len(values) > 3:
        return None
    for d in range(0, 7):
        scaled = values * 10**d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6) and np.all(np.round(scaled) <= 9):
            return d
    return None


def _candidates(s: Schedule) -> dict:
    """The schedules the config can mean: RadioDiff's trainer always decays (constant is not one of them);
    latent-diffusion's and sgm's trainers keep the rate constant unless a scheduler shapes it (their decay is
    not RadioDiff's), so RadioDiff's LambdaLR is a candidate only for its own layout (and a config read without
    one, as the library allows)."""
    decays = s.layout in ("radiodiff", "text log") and bool(s.total_steps)
    out = {} if decays else {"constant at the config's lr": lambda x: np.full(len(x), s.lr)}
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


def _departure(steps, lr, expected, relative, tolerance) -> tuple[int, str]:
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
        how = f"drops to 0 at step {fmt(int(steps[start]))} and stays there"
    elif len(after) >= 3 and np.ptp(after) == 0 and np.ptp(want) > 0:
        how = f"stops changing at step {fmt(int(steps[start]))}, frozen at {fmt(float(after[0]))}"
    elif not jumped:
        how = (f"parts from it gradually: more than {pct(tolerance, 0)} off from step {fmt(int(steps[start]))}, "
               f"ending at {fmt(float(lr[-1]))} where the schedule gives {fmt(float(expected[-1]))} (the logged lr "
               f"{describe_lr(steps, lr)})")
    else:
        ratio = float(np.median(after / np.maximum(want, 1e-30)))
        how = (f"jumps at step {fmt(int(steps[start]))} to {fmt(float(after[0]))} where the schedule gives "
               f"{fmt(float(want[0]))} ({fmt(round(ratio, 3))} times the scheduled rate from there on)")
    return int(steps[start]), how


def lr_schedule(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    steps, lr = m.steps("lr"), m.values("lr")
    good = np.isfinite(lr)
    steps, lr = steps[good], lr[good]
    if len(lr) < 3:
        return []
    decimals = printed_decimals(lr)
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
    if s.layout == "flat":  # another trainer's config, no schedule it names: describe, do not judge
        return [_described(steps, lr, s)]
    if s.lr is None:
        return []
    if np.all(lr == 0) and s.lr > 0 and (s.lr <= 5e-6 or s.layout in ("radiodiff", "text log")):
        return [Case(
            f"Every logged lr is 0, and a rate of {fmt(s.lr)} (the config's) or below, as RadioDiff's decay makes "
            "it, reads 0.00000 when printed with five decimals as RadioDiff's text log prints it (and a CSV parsed "
            "from that log keeps): most likely a precision artefact; the TensorBoard Learning_Rate tag holds the "
            "real rate.", "lr", int(steps[-1]), {"printed_decimals": 5}, severity="info")]
    (_, worst, _), name, shift, expected, relative, fits_all, fits_start = _best_fit(steps, lr, s, t["tolerance"])
    numbers = {"worst_window_relative_error": worst, "median_relative_error": float(np.median(relative)),
               "schedule": name, "shifted_by_one_step": bool(shift)}
    if fits_all:
        shift_text = " (the value logged at each step is the next step's rate, as RadioDiff logs it)" if shift else ""
        return [Case(f"The logged learning rate follows the config at every stretch of the "
                        f"run: {name}, from {fmt(s.lr)}{shift_text}; latest {fmt(float(lr[-1]))}.", "lr",
                        int(steps[-1]), numbers, severity="ok")]
    ratio = float(np.median(lr / s.lr))
    worst_i = int(np.argmax(relative))
    if np.ptp(lr) == 0 and np.ptp(expected) > 0 and abs(ratio - 1) <= t["tolerance"]:
        # dated where the schedule first parts from the constant (where it starts to decay), not at step 0
        parted = int(steps[np.flatnonzero(relative > t["tolerance"])[0]])
        numbers["departure_step"] = parted
        return [Case(
            f"The learning rate is constant at {fmt(float(lr[0]))} over the whole run, where the config's schedule "
            f"({name}) has decayed more than {pct(t['tolerance'], 0)} below it from step {fmt(parted)} on and gives "
            f"{fmt(float(expected[worst_i]))} by step {fmt(int(steps[worst_i]))}: the scheduler never stepped (not "
            "created, not stepped, or its state not restored on resume).",
            "lr", parted, numbers)]
    scaled = lr / np.maximum(expected, 1e-30)
    if not fits_start and np.ptp(expected) > 0 and float(np.median(scaled)) > 0 \
            and np.ptp(scaled) <= t["tolerance"] * abs(float(np.median(scaled))):
        numbers["ratio"] = float(np.median(scaled))
        return [Case(
            f"The logged learning rate follows the shape of {name} at {fmt(round(numbers['ratio'], 3))} times the "
            f"config's lr ({fmt(float(lr[0]))} at step {fmt(int(steps[0]))} against {fmt(float(expected[0]))}): "
            "the run used another base rate than this config says (another config, or a changed lr).",
            "lr", int(steps[0]), numbers)]
    if np.ptp(lr) <= 0.01 * abs(lr).max() and ratio > 1:
        gpus = ratio / s.lr_scale if s.lr_scale else None
        if s.layout in ("ldm", "sgm") and (gpus is None or (round(gpus) >= 1 and abs(gpus - round(gpus))
                                                             <= t["tolerance"] * gpus)):
            scale = (f" ({s.lr_scale} from accumulate_grad_batches x batch_size in the config, so {round(gpus)} "
                     "GPU(s))") if gpus is not None else ""
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
        step, how = _departure(steps, lr, expected, relative, t["tolerance"])
        numbers["departure_step"] = step
        if s.layout in ("ldm", "sgm") and how.startswith("parts from it gradually"):
            return [_unmodelled(steps, lr, s, numbers)]  # a scheduler its config keys do not describe
        return [Case(
            f"The logged learning rate follows {name} and then {how}. Nothing in the config does that: a scheduler "
            "not restored on resume, a manual change, or an lr set to 0 by a bug.",
            "lr", step, numbers,
        )]
    bad = relative > t["tolerance"]
    if bad[0] and not bad[-max(3, len(bad) // 2):].any() and float(lr[0]) < float(expected[0]) \
            and s.layout not in ("ldm", "sgm"):
        # below the schedule at first, then on it: a warm-up the config does not have
        joined = int(steps[np.flatnonzero(bad)[-1] + 1])
        numbers["warmup_until_step"] = joined
        return [Case(
            f"The logged learning rate starts below the config's schedule ({fmt(float(lr[0]))} at step "
            f"{fmt(int(steps[0]))} where {name} gives {fmt(float(expected[0]))}) and joins it at step {fmt(joined)}, "
            "following it from there: a warm-up that this config (and RadioDiff's trainer) does not have. The run may "
            "use another trainer or config.", "lr", int(steps[0]), numbers)]
    if s.layout in ("ldm", "sgm") and np.ptp(lr) <= 0.01 * abs(lr).max() and float(lr[-1]) < t["far_below"] * s.lr:
        # constant, orders of magnitude under the base rate (which main.py only ever scales up): a warm-up
        # stuck at its first value, or a rate that cannot train anything
        return [Case(
            f"The learning rate is constant at {fmt(float(lr[-1]))} from step {fmt(int(steps[0]))} to "
            f"{fmt(int(steps[-1]))}, {fmt(float(lr[-1]) / s.lr)} x the config's base_learning_rate {fmt(s.lr)}: "
            "main.py only scales that up, so something holds the rate down, typically a warm-up scheduler stuck at "
            "its starting factor (f_start) or never stepped. At this rate the model barely trains.",
            "lr", int(steps[0]), numbers)]
    if s.layout in ("ldm", "sgm"):
        return [_unmodelled(steps, lr, s, numbers)]
    return [Case(
        f"The logged learning rate does not follow the config's schedule: at step {fmt(int(steps[worst_i]))} it is "
        f"{fmt(float(lr[worst_i]))} where {name} gives {fmt(float(expected[worst_i]))} (median error "
        f"{pct(numbers['median_relative_error'])}). The run may use another config or a different lr.",
        "lr", int(steps[0]), numbers,
    )]


def _unmodelled(steps: np.ndarray, lr: np.ndarray, s: Schedule, numbers: dict) -> Case:
    """An LDM/sgm rate shaped by a scheduler the config keys read do not describe: described, not a fault."""
    return Case(
        f"The logged learning rate {describe_lr(steps, lr)}: the config's base_learning_rate ({fmt(s.lr)}) alone "
        "does not describe that, and latent-diffusion's trainer keeps it constant unless a scheduler shapes it, so "
        "this is a scheduler the report does not model, described here, not judged. It is checked for a drop to 0 "
        "or a freeze only once it starts as the config says.",
        "lr", int(steps[0]), numbers | {"described": True}, severity="info")


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
        f"The learning rate {describe_lr(steps, lr)}.{start} The config names no scheduler and comes from a trainer "
        "the report does not know, so this schedule is described, not judged.",
        "lr", int(steps[-1]), {"described": True}, severity="info")


def run_stalled(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """Losses that no longer change at all (to float noise): an optimizer with lr 0 or a frozen model."""
    flat, since = [], None
    for name in ("rec_loss", "total_loss", "nll_loss"):
        if not m.has(name):
            continue
        steps, values = m.steps(name), m.values(name)
        good = np.isfinite(values)
        steps, values = steps[good], values[good]
        if len(values) < 20:
            continue
        k = max(5, int(len(values) * t["window"]))
        tail = values[-k:]
        if float(np.ptp(tail)) <= 1e-6 * max(1e-12, float(np.max(np.abs(tail)))):
            # how far back it has been flat
            moving = np.flatnonzero(np.abs(values - tail[-1]) > 1e-6 * max(1e-12, abs(float(tail[-1]))))
            start = int(steps[moving[-1] + 1]) if len(moving) else int(steps[0])
            flat.append(name)
            since = start if since is None else min(since, start)
    if not flat:
        return []
    lr_text, numbers = "", {"flat_metrics": flat, "since_step": since}
    if m.has("lr"):
        _, lr = m.window("lr", lo=since)
        lr = lr[np.isfinite(lr)]
        if len(lr) and np.all(lr == 0) and printed_decimals(m.values("lr")) is None:
            lr_text = " The learning rate is 0 over the same stretch."
            numbers["lr_zero"] = True
    return [Case(
        f"Training has stalled: {', '.join(flat)} have not changed at all (to float precision) since step "
        f"{fmt(since)}.{lr_text} A model that is still learning never logs the same loss twice; check the "
        "optimizer's learning rate and that the batches change.",
        flat[0], since, numbers,
    )]


def resumes(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """What the merge of a resumed or restarted run's files says about the run: two processes writing at once,
    a start over from the first step, or a loss level that jumped where a later file took over (a resume from
    weights other than those the run had reached)."""
    out = []
    name = next((n for n in ("rec_loss", "nll_loss", "total_loss") if m.has(n)), None)
    seen: set = set()
    for r in m.restarts:
        if (r["step"], r["concurrent"]) in seen:  # the same restart seen in another kind of log (events, text)
            continue
        seen.add((r["step"], r["concurrent"]))
        step = r["step"]
        if r["concurrent"]:
            out.append(Case(
                f"Two processes wrote into this run's folder at once: {r['file']} was still being written after a "
                f"later log began at step {fmt(step)}. Only the later one's points are read from there on; "
                f"{fmt(r['points'])} point(s) of the other run at those steps are not in this report. A job launched "
                "twice, or two runs sharing a results folder: give each run its own.",
                None, step, dict(r)))
            continue
        if name is None:
            continue
        steps, values = m.steps(name), m.values(name)
        good = np.isfinite(values)
        if step <= int(steps[good][0]) if good.any() else True:
            before = r.get("replaced", {}).get(name)
            now = float(np.median(values[good][:5])) if good.sum() >= 5 else None
            if before and now is not None and now < t["trained"] * before["first"] and now <= 2 * before["last"]:
                out.append(Case(
                    f"The run was started again from step {fmt(step)} with trained weights: {name} begins at "
                    f"{fmt(now)}, where the earlier log ({r['file']}) began at {fmt(before['first'])} and had reached "
                    f"{fmt(before['last'])}. The step counter was reset while the weights were not, so the model has "
                    "more training behind it than the current step says, and progress, the ETA, the lr schedule and "
                    "disc_start all count from 0 again. If a resume was meant, resume with the trainer's own resume "
                    "(its step and optimizer state), not by loading the weights into a new run.",
                    name, step, {**r, "new_first_level": now}))
                continue
            out.append(Case(
                f"The run was started again from step {fmt(step)}: a later log replaces {fmt(r['points'])} point(s) "
                f"of {r['file']} from that step on, so this report shows the latest start only. If the new start "
                "loaded trained weights, its losses begin low and its lr schedule and disc_start count from 0 again.",
                None, step, dict(r), severity="info"))
            continue
        found = _jump(steps[good], values[good], step, s, t)
        if found is not None:
            before, after, k = found
            out.append(Case(
                f"{name} jumped where the run was resumed at step {fmt(step)}: {fmt(before)} over the last {k} points "
                f"before, {fmt(after)} over the first {k} after ({describe_change(before, after)}). A resumed run "
                "goes on from where it stopped; this one did not: it resumed from other weights than those it had "
                "reached (an older checkpoint, another run's, or an optimizer state that was reset).",
                name, step, {**r, "before_level": before, "after_level": after}))
    return out


def _jump(steps: np.ndarray, values: np.ndarray, step: int, s: Schedule, t: dict) -> tuple[float, float, int] | None:
    before, after = values[steps < step], values[steps >= step]
    k = int(min(20, len(before), len(after)))
    if k < 5:
        return None
    switch = s.switch_step
    if switch is not None and steps[steps < step][-k] <= switch <= steps[steps >= step][k - 1]:
        return None  # the discriminator switching on moves the losses by design
    level_before, level_after = float(np.median(before[-k:])), float(np.median(after[:k]))
    noise = robust_noise(before[-3 * k:])
    if level_after > level_before * (1 + t["jump"]) and level_after - level_before > 4 * noise:
        return level_before, level_after, k
    return None
