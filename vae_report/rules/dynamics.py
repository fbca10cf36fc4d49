"""How the curves move: sustained growth (divergence), transient spikes, liveness and the learning rate."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..numbers import fmt, pct
from ..schedule import Schedule
from .base import Finding, Metrics

WATCHED = ("total_loss", "rec_loss", "nll_loss", "kl_loss")


def divergence(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    out = []
    last = m.last_step()
    lo = s.disc_start if s.disc_start is not None and last >= s.disc_start else None
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
        rising = all(b > a * (1 + t["step_growth"]) for a, b in zip(levels, levels[1:], strict=False))
        if rising and levels[-1] > levels[0] * (1 + t["total_growth"]) and levels[0] > 0:
            start = int(steps[-half])
            out.append(Finding(
                "divergence", "warning",
                f"{name} is growing steadily: its median rose in each quarter of the latest half of the run, from "
                f"{fmt(levels[0])} to {fmt(levels[-1])} since step {fmt(start)} "
                f"({pct(levels[-1] / levels[0] - 1)} up). "
                "Sustained growth, unlike a spike, means training is diverging: lower the learning rate or resume "
                "from an earlier checkpoint.",
                name, start, {"levels": levels},
            ))
    return out


def spikes(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    out = []
    w = int(t["window"])
    for name in WATCHED + ("disc_loss", "g_loss"):
        if not m.has(name):
            continue
        steps, values = m.steps(name), m.values(name)
        good = np.isfinite(values)
        steps, values = steps[good], values[good]
        if len(values) < 3 * w:
            continue
        series = pd.Series(values)
        median = series.rolling(w, center=True, min_periods=w).median()
        # Noise scale from first differences (trend-free), so a steep but smooth stretch is no outlier.
        step = series.diff()
        scale = (step - step.rolling(4 * w, center=True, min_periods=w).median()).abs() \
            .rolling(4 * w, center=True, min_periods=w).median() * 1.4826 / np.sqrt(2)
        score = ((series - median).abs() / scale.where(scale > 0)).to_numpy()
        idx = np.flatnonzero(np.nan_to_num(score) > t["mad_factor"])
        if not len(idx):
            continue
        base = median.to_numpy()
        # transient: the level after the spike is back where it was before
        before = np.array([np.median(values[max(0, i - w):i]) if i else values[0] for i in idx])
        after = np.array([np.median(values[i + 1:i + 1 + w]) if i + 1 < len(values) else values[-1] for i in idx])
        transient = np.abs(after - before) <= t["recovery"] * np.maximum(np.abs(before), 1e-12)
        if not transient.any():
            continue
        spike_idx = idx[transient]
        worst = spike_idx[int(np.argmax(score[spike_idx]))]
        out.append(Finding(
            "spikes", "info",
            f"{name} has {len(spike_idx)} transient spike(s), each back to its level within {w} points; the largest "
            f"at step {fmt(int(steps[worst]))}: {fmt(float(values[worst]))} against a local median of "
            f"{fmt(float(base[worst]))}. Isolated spikes from hard batches are harmless; check the batch if they grow.",
            name, int(steps[spike_idx[0]]),
            {"count": int(len(spike_idx)), "largest_step": int(steps[worst]), "largest_value": float(values[worst])},
        ))
    return out


def _training_wall_times(m: Metrics) -> tuple[np.ndarray, np.ndarray] | None:
    for name in ("total_loss", "rec_loss", "kl_loss"):
        if m.has(name):
            walls = m.wall_times(name)
            good = np.isfinite(walls)
            if good.sum() >= 3:
                return m.steps(name)[good], walls[good]
    return None


def newest_wall_time(m: Metrics) -> float | None:
    newest = [np.nanmax(m.wall_times(n)) for n in m.names() if np.isfinite(m.wall_times(n)).any()]
    return float(max(newest)) if newest else None


def liveness(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    found = _training_wall_times(m)
    if found is None:
        return []
    steps, walls = found
    k = min(len(steps) - 1, max(2, int(t["window"])))
    ds, dw = np.diff(steps[-k - 1:]), np.diff(walls[-k - 1:])
    ok = (ds > 0) & (dw > 0)
    if not ok.any():
        return []
    rate = float(np.median(ds[ok] / dw[ok]) * 3600)  # median of intervals: a restart's gap does not count
    interval = float(np.median(dw[ok]))
    reference = t.get("now") or newest_wall_time(m)
    age = max(0.0, reference - float(walls[-1]))
    numbers = {"steps_per_hour": rate, "seconds_between_logs": interval, "seconds_since_last_log": age}
    step = int(steps[-1])
    parts = [f"{fmt(round(rate))} steps per hour over the latest logs"]
    milestone = s.next_milestone(step)
    if milestone is not None:
        hours = (milestone.step - step) / rate
        numbers["hours_to_next_milestone"] = hours
        parts.append(f"step {fmt(milestone.step)} ({milestone.name}) in about {duration(hours)}")
    if s.total_steps and step + (s.log_every or 1) >= s.total_steps:
        parts = [f"{fmt(round(rate))} steps per hour; the last logged step is the run's last ({fmt(step)} of "
                 f"{fmt(s.total_steps)} steps, logged every {fmt(s.log_every or 1)}): training has finished"]
        numbers["finished"] = True
    elif s.total_steps and step < s.total_steps:
        numbers["hours_to_end"] = (s.total_steps - step) / rate
        if milestone is None or milestone.step != s.total_steps:
            parts.append(f"the end (step {fmt(s.total_steps)}) in about {duration(numbers['hours_to_end'])}")
    limit = max(t["stale_intervals"] * interval, t["stale_seconds"])
    if age > limit:
        return [Finding(
            "liveness", "warning",
            f"The run may have stopped: its last log (step {fmt(step)}) is {duration(age / 3600)} older than "
            f"{'--now' if t.get('now') else 'the newest log of the run'}, while it logged every "
            f"{duration(interval / 3600)} before. Check the process; at its last pace: " + "; ".join(parts) + ".",
            None, step, numbers,
        )]
    return [Finding("liveness", "info", "Training speed: " + "; ".join(parts) + ".", None, step, numbers)]


def duration(hours: float) -> str:
    """Hours as a person says them: 40 s, 12 min, 4.4 hours, 3.2 days."""
    if hours < 1 / 60:
        return f"{hours * 3600:.0f} s"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} hours"
    return f"{hours / 24:.1f} days"


def lr_schedule(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    steps, lr = m.steps("lr"), m.values("lr")
    good = np.isfinite(lr)
    steps, lr = steps[good], lr[good]
    if len(lr) < 3:
        return []
    candidates = {"constant at the config's lr": lambda x: np.full(len(x), s.lr)}
    if s.total_steps:
        total, floor = s.total_steps, s.min_lr or 0.0
        candidates["RadioDiff's decay, lr x max((1 - step/total)^0.95, min_lr) (min_lr floors the multiplier)"] = (
            lambda x: s.lr * np.maximum(np.clip(1 - x / total, 0, None) ** 0.95, floor))
        candidates["decay lr x (1 - step/total)^0.95 floored at min_lr"] = (
            lambda x: s.lr * np.maximum(np.clip(1 - x / total, 0, None) ** 0.95, floor / s.lr))
    best = None
    for name, expected in candidates.items():
        for shift in (0, 1):  # RadioDiff's TensorBoard shows the rate of the next step
            relative = np.abs(lr - expected(steps + shift)) / expected(steps + shift)
            # judged on the median (a few odd points are fine), ranked on the mean (the floors differ only late)
            err, rank = float(np.median(relative)), float(np.mean(relative))
            if best is None or rank < best[0]:
                best = (rank, err, name, shift, expected(steps + shift))
    _, err, name, shift, expected = best
    numbers = {"median_relative_error": err, "schedule": name, "shifted_by_one_step": bool(shift)}
    if err <= t["tolerance"]:
        shift_text = " (the value logged at each step is the next step's rate, as RadioDiff logs it)" if shift else ""
        return [Finding("lr-schedule", "ok", f"The logged learning rate follows the config: {name}, from "
                        f"{fmt(s.lr)}{shift_text}; latest {fmt(float(lr[-1]))}.", "lr", int(steps[-1]), numbers)]
    ratio = float(np.median(lr / s.lr))
    if np.ptp(lr) <= 0.01 * abs(lr).max() and ratio > 1:
        return [Finding(
            "lr-schedule", "info",
            f"The learning rate is constant at {fmt(float(lr[-1]))}, {fmt(round(ratio, 3))} x the config's "
            f"{fmt(s.lr)}: LDM's main.py scales base_learning_rate by accumulate_grad_batches x GPUs x batch size.",
            "lr", int(steps[-1]), numbers | {"ratio": ratio})]
    worst = int(np.argmax(np.abs(lr - expected) / expected))
    return [Finding(
        "lr-schedule", "warning",
        f"The logged learning rate does not follow the config's schedule: at step {fmt(int(steps[worst]))} it is "
        f"{fmt(float(lr[worst]))} where {name} gives {fmt(float(expected[worst]))} (median error {pct(err)}). The "
        "run may use another config, a scheduler that was not restored on resume, or a different lr.",
        "lr", int(steps[worst]), numbers,
    )]
