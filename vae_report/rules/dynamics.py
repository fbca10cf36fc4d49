"""How the curves move: sustained growth (divergence), liveness, stalls and resumes (transient spikes:
spikes.py)."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

from .. import position as pos
from ..checkpoints import latest_checkpoint
from ..numbers import counted, describe_change, fmt, pct
from ..schedule import Schedule
from ..stats import robust_noise
from .base import Case, Metrics, finite
from .losses import lasting_break
from .said import Said
from .untrained import lr_disputed, rate_before, resume_from, summary, untrained

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
                f"(since {pos.at(s, start)}): it {describe_change(levels[0], levels[-1])}. "
                "Sustained growth, unlike a spike, means training is diverging.",
                name, start, {"levels": levels}, severity="warning",
            ))
    return out


def divergence_short(f: Said) -> str | None:
    levels = f.n.get("levels")
    if not levels:
        return None
    return f"{f.metric} {describe_change(levels[0], levels[-1])} over the latest half, since {f.at()}"


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


# No VAE-GAN step (encoder, decoder, a perceptual network and a discriminator: hundreds of GPU kernels, each
# microseconds at least) runs a thousand times a second; wall times that say so were stamped when the logs were
# written or converted, not while training ran.
MAX_STEPS_PER_SECOND = 1000.0


def implausible_clock(steps: np.ndarray, walls: np.ndarray, s: Schedule) -> str | None:
    """Why the wall times are no training clock (the whole run, or its latest quarter, faster than
    MAX_STEPS_PER_SECOND), in words; None when they are one."""
    n = max(1, len(steps) // 4)
    for a, b in ((0, len(steps) - 1), (len(steps) - 1 - n, len(steps) - 1)):
        gained, wall = float(steps[b] - steps[a]), float(walls[b] - walls[a])
        if gained > 0 and wall > 0 and gained / wall > MAX_STEPS_PER_SECOND:
            which = "" if a == 0 else f" of the latest {pos.count(s, gained)}"
            return (f"the wall times{which} span {duration(wall / 3600)} for {pos.count(s, gained)} "
                    f"({fmt(round(gained / wall))} {pos.units(s)} per second, where no VAE training step runs more "
                    f"than about {fmt(round(MAX_STEPS_PER_SECOND))} times a second): they record when the logs were "
                    "written or converted, not when training ran")
    return None


def stalled_words(s: Schedule, since: int, case: str | None = None) -> str:
    """Why a stalled run has no time estimate: one wording for the liveness finding and the report's answers
    (``case``: run-stalled's, "lr-zero" for an lr of 0 under losses that still vary with the batches)."""
    if case == "lr-zero":
        return f"training has stalled: nothing has trained since {pos.at(s, since)} (the learning rate is 0)"
    if case == "scale-collapsed":
        return (f"training has stalled: every step has been skipped since {pos.at(s, since)} (the mixed-precision "
                "loss scale collapsed)")
    return f"training has stalled: its losses have not changed since {pos.at(s, since)}"


def cannot_go_on(findings: list, s: Schedule) -> str | None:
    """Why the run cannot go on as it is (a loss NaN/Inf at its latest point, headline or cited; training stalled
    to the end), or None: the one gate every place that names a next milestone, an ETA or a switch-on still to
    come reads (the status line, the overview, the conclusion, the answers, the JSON summary)."""
    for f in findings:
        if f.skipped or f.severity != "error":
            continue
        for one in f.told():
            if one["rule"] == "non-finite" and (one.get("numbers") or {}).get("last_finite") is False:
                return f"{one['metric']} is NaN/Inf at the latest {pos.unit(s)}: the run cannot go on as it is"
    stalled = next((f for f in findings if f.rule == "run-stalled" and not f.skipped and f.case != "lr-disputed"
                    and f.severity in ("warning", "error") and f.step is not None), None)
    return None if stalled is None else stalled_words(s, stalled.step, stalled.case)


def _no_eta(m: Metrics, s: Schedule, old: float | None) -> str | None:
    """Why the run gets no time estimate (NaN/Inf losses at the end, losses frozen, logs older than the stale
    limit at the report's clock), or None: the liveness finding and every answer that gives an ETA read this."""
    # a NaN the optimized loss did not take in (the KL logged apart while the total stayed finite) stops nothing
    broken = [n for n in ("total_loss", "rec_loss", "nll_loss", "kl_loss") if m.has(n)
              and lasting_break(m, n, ~np.isfinite(m.values(n))) is not None]
    if broken:  # a run whose losses are NaN/Inf will not reach its milestones as it is
        return f"{broken[0]} is NaN/Inf at the latest {pos.unit(s)}"
    # stretches up to the end only: one the lr came back from (info) stops nothing
    stalled = [c for c in run_stalled(m, s, STALL_LIMITS) if c.severity != "info" and c.case != "lr-disputed"]
    if stalled:
        return stalled_words(s, stalled[0].step, stalled[0].case)
    if old is not None:
        return (f"the last log is {duration(old)} old, so whether the run is still going, and when it would reach "
                "its next milestone, cannot be told from its logs (judge a live run with --now now, or give --now "
                "the time to judge it at)")
    return None


def liveness(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    found = _training_wall_times(m)
    if found is None:
        if t.get("now"):  # the user asked whether it still runs: say why that cannot be answered, not nothing
            return [Case("--now was given, but no training loss here carries wall times (a console copy or a CSV "
                         "without a clock), so whether the run has stopped cannot be judged from its logs; look at "
                         "the process, or the log file's modification time.", None, None, {"no_wall_times": True},
                         severity="info")]
        return []
    steps, walls = found
    k = min(len(steps) - 1, max(2, int(t["window"])))
    ds, dw = np.diff(steps[-k - 1:]), np.diff(walls[-k - 1:])
    ok = (ds > 0) & (dw > 0)
    if not ok.any():
        return []
    bogus = implausible_clock(steps, walls, s)
    if bogus is not None:
        return [Case(f"No training speed or time estimate: {bogus}.", None, int(steps[-1]),
                     {"implausible_clock": True}, severity="info")]
    running = float(np.median(ds[ok] / dw[ok]) * 3600)  # between pauses: what the slowdown check compares
    interval = float(np.median(dw[ok]))
    reference = t.get("now") or newest_wall_time(m)
    age = max(0.0, reference - float(walls[-1]))
    limit = max(t["stale_intervals"] * interval, t["stale_seconds"])
    clock = t.get("report_clock")
    if not t.get("now") and clock is not None and 0 < clock - float(walls[-1]) <= limit:
        age = clock - float(walls[-1])  # logs as fresh as a live run's: the time since the last one is gone too
    pace = recent_pace(steps, walls, k, interval, limit, s)
    if pace is None:
        return []
    rate = pace["steps_per_hour"]
    numbers = {"steps_per_hour": rate, "steps_per_hour_between_pauses": running, "seconds_between_logs": interval,
               "seconds_since_last_log": age} | {k_: v for k_, v in pace.items() if k_ != "steps_per_hour"}
    step = int(steps[-1])
    stamp = dt.datetime.fromtimestamp(float(walls[-1]), dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"{fmt(round(rate))} {pos.units(s)} per hour over the latest {pos.count(s, pace['over_steps'])}' "
             "wall time"
             f"{pace['pauses_text']}, the last log at {stamp} ({pos.at(s, step)})"]
    # a last log later than the clock judging it (--now, else the report's own): times without a zone (logging's
    # asctime is the training machine's local time) read as UTC from a machine ahead of UTC, or a clock set wrong;
    # neither the log's age nor the ETA's date can be judged against it
    clock = t.get("now") or t.get("report_clock")
    if clock is not None and float(walls[-1]) - clock > 300:
        ahead = float(walls[-1]) - clock
        numbers.update(clock_ahead_hours=ahead / 3600, no_eta="the logs' clock is ahead of this report's")
        said = parts[0].replace(f"the last log at {stamp}", f"the last log stamped {stamp.removesuffix(' UTC')}")
        return [Case(
            f"Training speed: {said}; the last log is {duration(ahead / 3600)} later than "
            f"{'--now' if t.get('now') else 'the time of this report'}: its times carry no zone (local time of "
            "the training machine, read as UTC) or come from a clock set wrong, so how long ago it logged, and "
            "when it would reach its next milestone, cannot be told (give --now in the logs' own time).",
            None, step, numbers, severity="info")]
    # logs older than the stale limit at the report's clock (no --now): a copy analysed later or a run that
    # stopped; an ETA counted from a log that old would be a future in the past, so there is none
    old = _age_at_report(t, float(walls[-1]), limit) if age <= limit else None
    if old is not None:
        numbers["log_age_at_report_hours"] = old
    # the run's logging interval as the report's other parts take it (Analysis.finished): the data's, so that
    # "training has finished" is said by one rule only (a config's log_freq of another log would put the end early)
    every = log_interval(m) or s.log_every or (int(np.median(np.diff(steps))) if len(steps) > 1 else 1)
    if s.finished(step, every):
        parts = [f"{fmt(round(rate))} {pos.units(s)} per hour; the last logged {pos.unit(s)} is the run's last "
                 f"({fmt(step)} of "
                 f"{pos.count(s, s.total_steps)}, logged every {pos.count(s, every)}): training has finished"]
        numbers["finished"] = True
        return [Case("Training speed: " + "; ".join(parts) + ".", None, step, numbers, severity="info")]
    if age > limit and not t.get("ended"):  # one the user says has ended is not asked about
        return [Case(
            f"The run may have stopped: its last log ({pos.at(s, step)}) is {duration(age / 3600)} older than "
            f"{'--now' if t.get('now') else 'the newest log of the run'}, while it logged every "
            f"{duration(interval / 3600)} before ({parts[0]}); while it is stopped there is no time estimate.",
            None, step, numbers,
        )]
    no_eta = f"the run has ended ({t['ended']})" if t.get("ended") else _no_eta(m, s, old)
    if no_eta is not None:
        numbers["no_eta"] = no_eta
        parts.append("no time estimate: " + no_eta)
    else:
        parts += _etas(m, s, step, rate, numbers)
    slow = _slowdown(steps, walls, k, running, t)
    if slow is not None:
        before, since = slow
        numbers.update(steps_per_hour_before=before, slowdown_since=since)
        return [Case(
            f"Training slowed down: {fmt(round(running))} {pos.units(s)} per hour between pauses in the latest logs "
            f"against {fmt(round(before))} before {pos.at(s, since)} ({fmt(round(before / running, 1))} times "
            f"slower); the time estimates use the recent pace, {fmt(round(rate))} per hour with its pauses. Look "
            "for what changed then: data loading (a slow disk or "
            "fewer workers), a GPU shared with another job, throttling, or a validation or logging step that grew. "
            "Training speed: " + "; ".join(parts) + ".",
            None, since, numbers)]
    return [Case("Training speed: " + "; ".join(parts) + ".", None, step, numbers, severity="info")]


def liveness_short(f: Said) -> str | None:
    n = f.n
    if n.get("implausible_clock"):
        return "no training speed: the logs' wall times are no training clock"
    rate = n.get("steps_per_hour")
    if rate is None:
        return None
    speed = f"{fmt(round(rate))} {pos.units(f.unit)} per hour"
    if "slowdown_since" in n and "steps_per_hour_before" in n:
        return (f"{speed} since {f.at(n['slowdown_since'])}, against {fmt(round(n['steps_per_hour_before']))} "
                "before")
    if f.severity == "warning" and "seconds_since_last_log" in n:
        hours = n["seconds_since_last_log"] / 3600
        return f"the last log ({f.at()}) is {fmt(round(hours, 1))} h old, at a pace of {speed}"
    return speed + ("; training has finished" if n.get("finished") else "")


def _etas(m: Metrics, s: Schedule, step: int, rate: float, numbers: dict) -> list[str]:
    """The time to the next milestone and to the end at ``rate`` (kept in ``numbers``), as clauses."""
    out = []
    elapsed = numbers.get("seconds_since_last_log", 0.0) / 3600  # the time already gone since the last log
    milestone = s.next_milestone(m.last_step())
    if milestone is not None:
        hours = (milestone.step - max(step, m.last_step())) / rate
        numbers["hours_to_next_milestone"] = hours
        out.append(f"{pos.at(s, milestone.step)} ({milestone.name}) {time_left(hours, elapsed)}")
    if s.total_steps and step < s.total_steps:
        numbers["hours_to_end"] = (s.total_steps - step) / rate
        if milestone is None or milestone.step != s.total_steps:
            out.append(f"the end ({pos.at(s, s.total_steps)}) {time_left(numbers['hours_to_end'], elapsed)}")
    return out


def time_left(hours: float, elapsed: float) -> str:
    """"in about 5 s" for a step ``hours`` past the last log at the recent pace, counted from the report's clock
    (``elapsed`` hours after that log); "overdue ..." once that time has passed without a log of it."""
    left = hours - max(elapsed, 0.0)
    if left > 0:
        return f"in about {duration(left)}"
    return (f"overdue: due about {duration(-left)} ago at the recent pace, and no log of it yet (judge whether the "
            "run still goes by the process, or re-run this report)")


def _age_at_report(t: dict, last_wall: float, limit: float) -> float | None:
    """Hours from the last log to the report's clock when no --now was given and the logs are older than the
    stale limit (a copy analysed later, or a run that stopped); None otherwise."""
    clock = t.get("report_clock")
    if t.get("now") or clock is None or not np.isfinite(last_wall) or clock - last_wall <= limit:
        return None
    return (clock - last_wall) / 3600


def recent_pace(steps: np.ndarray, walls: np.ndarray, k: int, interval: float, stop: float,
                s: Schedule) -> dict | None:
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
        out["pauses_text"] = (f", including {counted(int(paused.sum()), 'pause')} of {duration(out['pause_hours'])} in "
                              f"all ({pct(out['pause_hours'] * 3600 / wall, 0)} of it; the longest "
                              f"{duration(float(dw[longest]) / 3600)} after {pos.at(s, out['longest_pause_step'])})")
    if stopped.any():
        out["stopped_hours"] = float(dw[stopped].sum() / 3600)
        out["pauses_text"] += (f"; {counted(int(stopped.sum()), 'stop')} of {duration(out['stopped_hours'])} in all "
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


STALL_LIMITS = {"window": 0.1}  # the run-stalled rule's: liveness asks it whether a time estimate means anything


def run_stalled(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """The stretches that trained nothing (rules.untrained): losses that no longer change at all (to float
    noise), every one of them named, or a logged learning rate of exactly 0; with what that cost (steps, share of
    the run, phases) and the checkpoint to resume from."""
    out = []
    for u in untrained(m, s, t["window"]):
        words, numbers = summary(u, m, s, cause=not u.frozen)
        resume = resume_from(u, m, s)
        numbers["keep_checkpoint"] = latest_checkpoint(s, m.last_step())
        # the checkpoint restores the scheduler as saved: at 0, unless it is fixed before the resume
        fixed = (f"Fix the learning-rate scheduler (it set the lr to 0){rate_before(u, m, s)}; then "
                 f"{resume[:1].lower()}{resume[1:]}")
        if u.frozen:
            zero = u.reason == "lr"
            lr_text = " The learning rate is 0 over the same stretch." if zero else ""
            # a frozen loss is constant and a frozen reconstruction does not learn: one cause, cited under this
            numbers["explains"] = {"loss-constant": "any", "rec-trend": "any"}
            _, rates = m.window("lr", lo=u.start) if m.has("lr") else (None, np.zeros(0))
            moving = len(finite(rates)) > 0 and bool(np.all(finite(rates) > 0))  # the logs show an lr above 0
            causes = ("parameters not given to the optimizer, gradients that never reach them, the same batch over "
                      "and over" if moving else
                      "an lr of 0, parameters not given to the optimizer, the same batch over and over")
            out.append(Case(
                f"Training has stalled: {', '.join(u.frozen)} have not changed at all (to float precision) since "
                f"{pos.at(s, u.start)}.{lr_text} A model that is still learning never logs the same loss twice. "
                f"{words} The checks of trends and of the GAN's balance over that stretch are not judged.",
                u.frozen[0], u.start, numbers | {"flat_metrics": list(u.frozen), "since_step": u.start,
                                                 "lr_zero": zero},
                case="frozen",
                action=(f"{fixed}." if zero else
                        (f"Find what froze the model ({causes}), then {resume[:1].lower()}{resume[1:]}."
                         if resume.startswith("Restart") else
                         f"{resume}, once what froze the model is found ({causes})."))))
            continue
        if u.reason == "scale":  # every step skipped by the mixed-precision scaler: no weight moves
            out.append(Case(
                f"{words} The losses logged there vary with the batches only; the checks of trends and of the "
                "GAN's balance over that stretch are not judged.",
                u.metric, u.start,
                numbers | {"lr_zero": False, "scale_collapsed": True}, case="scale-collapsed",
                action=f"Find what makes every step's gradients overflow (a NaN/Inf in the forward pass or the loss, "
                       f"a rate too high for fp16; bf16 has the range fp32 has), then {resume[:1].lower()}"
                       f"{resume[1:]}."))
            continue
        # the losses still vary with the batches, but no weight moves: nothing trained all the same
        out.append(Case(
            f"{words} The losses logged there vary with the batches only; the checks of trends and of the GAN's "
            "balance over that stretch are not judged.",
            "lr", u.start, numbers | {"lr_zero": True}, case="lr-zero",
            severity=None if u.to_end else "info",
            action=f"{fixed}."))
    return out + lr_disputed(m, s)


def run_stalled_short(f: Said) -> str | None:
    n = f.n
    if "fell_metric" in n:  # the lr log disputed by the losses (lr_disputed)
        return (f"the logged lr 0 from {f.at(n.get('lr_zero_from', f.step))} while {n['fell_metric']} kept "
                "falling: likely not the optimizer's lr")
    if "untrained_steps" not in n:
        return None
    cost = f"{f.count(n['untrained_steps'])}, {pct(n.get('untrained_share'), 0)} of the logged run"
    if f.case == "frozen":
        frozen = ", ".join(n.get("flat_metrics") or [f.metric])
        return (f"{frozen} unchanged since {f.at(n.get('since_step', f.step))}"
                + (" with the lr at 0" if n.get("lr_zero") else "") + f": {cost} trained nothing")
    if f.case == "scale-collapsed":
        return (f"every step skipped from {f.at(n.get('untrained_from', f.step))} (the mixed-precision loss scale "
                f"collapsed): {cost} trained nothing")
    return f"the lr exactly 0 from {f.at(n.get('untrained_from', f.step))}: {cost} trained nothing"


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
                f"later log began at {pos.at(s, step)}. Only the later one's points are read from there on; "
                f"{counted(r['points'], 'point')} of the other run at those steps are not in this report. A job "
                "launched twice, or two runs sharing a results folder: give each run its own.",
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
                    f"The run was started again from {pos.at(s, step)} with trained weights: {name} begins at "
                    f"{fmt(now)}, where the earlier log ({r['file']}) began at {fmt(before['first'])} and had reached "
                    f"{fmt(before['last'])}. The step counter was reset while the weights were not, so the model has "
                    "more training behind it than the current step says, and progress, the ETA, the lr schedule and "
                    "disc_start all count from 0 again. If a resume was meant, resume with the trainer's own resume "
                    "(its step and optimizer state), not by loading the weights into a new run.",
                    name, step, {**r, "new_first_level": now}))
                continue
            out.append(Case(
                f"The run was started again from {pos.at(s, step)}: a later log replaces "
                f"{counted(r['points'], 'point')} of {r['file']} from that {pos.unit(s)} on, so this report shows "
                "the latest start only. If the new start loaded trained weights, its losses begin low and its lr "
                "schedule and disc_start count from 0 again.",
                None, step, dict(r), severity="info"))
            continue
        found = _jump(steps[good], values[good], step, s, t)
        if found is None:  # a resume that went on where it was: said, so the redone steps are not a surprise
            k = min(int((steps[good] < step).sum()), int((steps[good] >= step).sum()))
            out.append(Case(_resumed(r, s, name if k >= 5 else None), None, step, dict(r), severity="info"))
        else:
            before, after, k = found
            out.append(Case(
                f"{name} jumped where the run was resumed at {pos.at(s, step)}: {fmt(before)} over the last {k} points "
                f"before, {fmt(after)} over the first {k} after ({describe_change(before, after)}). A resumed run "
                "goes on from where it stopped; this one did not: it resumed from other weights than those it had "
                "reached (an older checkpoint, another run's, or an optimizer state that was reset).",
                name, step, {**r, "before_level": before, "after_level": after}))
    return out


def resumes_short(f: Said) -> str | None:
    n = f.n
    if n.get("concurrent"):
        return (f"two processes wrote at once from {f.at()}, {counted(n.get('points', 0), 'point')} of the other "
                "left out")
    if "new_first_level" in n:
        return f"started again at {f.at()} with trained weights ({f.metric} begins at {fmt(n['new_first_level'])})"
    if "before_level" in n and "after_level" in n:
        return (f"{f.metric} jumped where the run was resumed at {f.at()}: "
                f"{describe_change(n['before_level'], n['after_level'])}")
    if f.step is None:
        return None
    redone = (n.get("reached") or f.step) - f.step
    return f"resumed at {f.at()}" + (f", {f.count(redone)} trained again" if redone > 0 else "")


def _logged_steps(r: dict, s: Schedule, since: str) -> str:
    """The logged steps a restart replaced ("51 logged steps from step 35,000 on, 11 metrics each"), never the
    points of all metrics together as if they were steps."""
    steps = r.get("logged_steps")
    if steps is None:
        return f"{counted(r['points'], 'point')} from {since} on"
    metrics = r.get("metrics") or 1
    each = (f", {fmt(metrics)} metrics each," if r["points"] == steps * metrics else
            f", {counted(r['points'], 'value')} over {fmt(metrics)} metrics,") if metrics > 1 else ""
    return f"{fmt(steps)} logged {pos.unit(s) if steps == 1 else pos.units(s)} from {since} on{each}"


def _resumed(r: dict, s: Schedule, judged: str | None) -> str:
    if r.get("continued"):
        return _continued(r, s, judged)
    step, reached = r["step"], r.get("reached")
    redone = (f" The earlier log had reached {pos.at(s, reached)}: {pos.count(s, reached - step)} were trained again "
              f"(its {_logged_steps(r, s, pos.at(s, step))} are replaced by the later log's, as TensorBoard does)."
              if reached is not None and reached >= step else "")
    pause = r.get("pause_s")
    after = f" after a pause of {duration(pause / 3600)}" if pause is not None and pause >= 60 else ""
    level = (f" {judged} went on at the level it had reached, as a resume from the run's own checkpoint does."
             if judged else " Too few points either side to tell whether the losses went on where they were.")
    return (f"The run was resumed at {pos.at(s, step)}{after} ({r['file']} stopped, a later log took over)."
            f"{redone}{level}{_abandoned_branch(r, s)}")


def _continued(r: dict, s: Schedule, judged: str | None) -> str:
    """A resume that redid nothing: where, from which checkpoint (the run's own file of that step, when found),
    after what pause, and which file goes on from which."""
    step, reached = r["step"], r["reached"]
    saved = [path for k, path in s.checkpoints if reached < k <= step]
    source = f" from {saved[-1]}" if saved else ""
    pause = r.get("pause_s")
    after = f" after a pause of {duration(pause / 3600)}" if pause is not None and pause >= 60 else ""
    level = (f" {judged} went on at the level it had reached." if judged else "")
    return (f"The run was resumed at {pos.at(s, step)}{source}{after}; no {pos.units(s)} redone: {r['file']} ends at "
            f"{pos.at(s, reached)} and {r['next_file']} goes on from {pos.at(s, step)}.{level}")


def _abandoned_branch(r: dict, s: Schedule) -> str:
    """What the replaced points held when they went bad (a climb, a NaN/Inf): why the run was taken back to an
    earlier step; nothing when they held neither."""
    gone = r.get("abandoned") or {}
    climb, bad = gone.get("climb"), gone.get("nonfinite")
    if not climb and not bad:
        return ""
    said = []
    if climb:
        ratio = climb["ratio"]
        change = f"x{ratio:.0f}" if ratio >= 10 else describe_change(climb["from"], climb["to"])
        said.append(f"{climb['metric']} climbed from {fmt(climb['from'])} at {pos.at(s, climb['from_step'])} to "
                    f"{fmt(climb['to'])} at {pos.at(s, climb['to_step'])} ({change})")
    if bad:
        names = bad["metrics"]
        which = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        said.append(f"{which} {'was' if len(names) == 1 else 'were'} NaN/Inf from {pos.at(s, bad['step'])}")
    return (f" The replaced points held a branch that went bad: {' and '.join(said)}; the later log went back to a "
            "step before that and trained on from there: this report shows the later log's points, not the replaced "
            "ones.")


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


# a reason that names an exception or a kill: the run crashed (an error), not one stopped on purpose (a warning)
_CRASHED = re.compile(r"Error|Exception|Traceback|out of memory|\bOOM\b|[Kk]illed|SIG[A-Z]+|[Ss]egmentation fault")


def run_ended(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """The run ended before the end of its schedule, as ``--ended`` says (the in-loop reporters pass the exception
    a fit raised) or as its newest text log shows (a Python traceback after its last step line)."""
    reason = t.get("ended")
    if not reason:
        return []
    last = m.last_step()
    if s.finished(last):
        return []
    crashed = bool(_CRASHED.search(reason))
    total = f" of {pos.count(s, s.total_steps)}" if s.total_steps else ""
    return [Case(
        f"The run ended at {pos.at(s, last)}{total}, before the end of its schedule: {reason}. "
        + ("It crashed: nothing after that step trained." if crashed else "Nothing after that step trained."),
        None, last, {"ended": reason, "crashed": crashed}, severity="error" if crashed else "warning",
        action=f"Fix what ended it, then resume from {latest_checkpoint(s, last)}.")]


def run_ended_short(f: Said) -> str | None:
    return f"ended at {f.at()}: {f.n['ended']}" if f.n.get("ended") else None


def log_interval(m: Metrics) -> int | None:
    """The run's logging interval: the densest training loss's (median step between its points). A loop that logs
    rec_loss every step and total_loss every 10 logs every step; the total's interval is that metric's own.
    Computed once per metrics view (the liveness rule, the analysis and the schedule's checks all read it)."""
    if "log_interval" not in m.memo:
        m.memo["log_interval"] = _log_interval(m)
    return m.memo["log_interval"]


def _log_interval(m: Metrics) -> int | None:
    def every(validation: bool) -> list[int]:
        found = [int(np.median(np.diff(m.steps(name)))) for name in m.names()
                 if name.startswith("val/") == validation and (name.endswith("loss") or name == "aeloss")
                 and len(m.steps(name)) > 1]
        return [i for i in found if i > 0]  # repeated steps (ranks, a resumed run) are no interval

    # a run that logs only validation logs at its validation's interval
    intervals = every(False) or every(True)
    return min(intervals) if intervals else None
