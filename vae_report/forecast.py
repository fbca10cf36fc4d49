"""Where the key losses will be at the end of the schedule (and at the next milestone), from the current phase's
trend, with an interval; and when a level the user aims at (``--goal rec_loss=0.01``) is reached.

The fit (justified in the README by a held-out truncation test on the battery's healthy runs,
``benchmarks/forecast.py``): the latest half of the current phase is cut into equal-step windows, each window's
median is its level (spikes do not move it), and two shapes are fitted to those levels by least squares
(forecast_models): a power law, a straight line in log level against log step, which slows down by itself as a
decay flattens; and an exponential to a floor, which levels off at it. The one carried forward is the one that,
fitted on all but the latest windows, predicts those better. The interval is the hull of the trend's band (a
residual bootstrap of that fit plus the scatter of one window's level), the other shape's forecast, and the level
now's (the trend stopping), the latter only as wide as that level's scatter; no bound goes below 0 for a loss
never negative. A forecast is declined, with the reason, when the phase (or the stretch since a change the
report found: forecast_limits.change_points) is young against the distance to forecast, has too few points, or
its levels scatter too much about a power law; a point a few logging intervals ahead is the level now.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError
from .forecast_models import MODELS, Shape, choose, fit_shape, regression
from .levels import current_level
from .numbers import counted, fmt, interval

KEY_LOSSES = ("rec_loss", "kl_loss", "total_loss", "nll_loss", "val/rec_loss")
WINDOWS = 12  # equal-step windows over the fitted stretch
MIN_POINTS = 30  # logged points in the fitted stretch
REACH = 3.0  # forecast at most this many times the phase's age ahead
MAX_SCATTER = 0.25  # window levels' residual spread about the trend (log units, ~28%) beyond which: too noisy
TESTED_COVERAGE = 0.83  # benchmarks/forecast.py: final levels inside the interval, 223/268 (the README's table)
WIDEN = 1.0  # the trend band's half-widths scaled by this (the runner-up's forecast widens it where it matters)
NOW_WIDEN = 2.0  # the band about the level now (the flat bound), scaled by this: its scatter, not the trend's distance
QUANTILES = (5.0, 95.0)  # a 90% interval
BOOTSTRAP = 400
FLAT_BOUND = True  # the interval reaches from the trend's forecast to the level now (see predict)
NEAR = 5  # a forecast point under this many logging intervals ahead is the level now
CANDIDATES = ("power", "floor")  # a flat level is the interval's other bound, not a candidate (README)
RUNNER_UP = True  # the interval holds the runner-up shape's forecast too: the shapes' disagreement is uncertainty
MODEL = "held-out"  # the shape carried forward: chosen by held-out fit, or one of forecast_models.MODELS (compared)


def _x(step: Any) -> Any:
    """The regressor of the power law the stretch is screened with (its scatter, a step in level): log step."""
    return np.log(np.maximum(np.asarray(step, dtype=np.float64), 1.0))


@dataclass
class Prediction:
    at_step: int
    level: float
    low: float
    high: float
    label: str  # "end of training", "discriminator starts"
    now: bool = False  # a few logging intervals away: the level now, no trend carried forward

    def phrase(self, metric: str, unit: str, step: int) -> str:
        """How the report says it: ``rec_loss about 0.081 at step 40,001 (...), 90% interval 0.053 to 0.128``, or
        ``rec_loss: step 40,001 (...) is 51 steps away: the level now, 0.071``."""
        if self.now:
            return (f"{metric}: {unit} {fmt(self.at_step)} ({self.label}) is {fmt(self.at_step - step)} {unit}s "
                    f"away: the level now, {fmt(self.level)}")
        level, low, high = interval(self.level, self.low, self.high)
        return f"{metric} about {level} at {unit} {fmt(self.at_step)} ({self.label}), 90% interval {low} to {high}"

    def to_dict(self) -> dict[str, Any]:
        return {"at_step": self.at_step, "level": _finite(self.level), "low": _finite(self.low),
                "high": _finite(self.high), "label": self.label} | ({"level_now": True} if self.now else {})


@dataclass
class Trend:
    """A fitted trend of one metric, or why none was fitted (``reason``)."""

    metric: str
    end: Prediction | None = None
    milestone: Prediction | None = None
    reason: str | None = None  # why there is no forecast (or none at the end): a clause, lower case, no stop
    since_step: int | None = None  # the fitted stretch begins here
    shape: Shape | None = None  # the trend carried forward (forecast_models): power law, floor or flat
    floor: float | None = None  # no forecast goes below this (0 for a loss never negative)
    from_parts: bool = False  # the total's forecast is the sum of its terms' (forecast_limits.total_from_parts)
    after: str | None = None  # the change the report found that the fit starts after, in words
    now_level: float | None = None  # the latest fitted window's median (the benchmark's; the report's "now" is
    # levels.current_level, so that one report shows one current value per metric)

    @property
    def coef(self) -> tuple[float, float] | None:
        return None if self.shape is None else self.shape.coef

    @property
    def log_space(self) -> bool:
        return self.shape is None or self.shape.log_space

    def at(self, step: float) -> float:
        level = float(self.shape.at(step))
        return level if self.floor is None else max(level, self.floor)

    def to_dict(self) -> dict[str, Any]:
        main = self.end or self.milestone
        out = main.to_dict() if main else {"at_step": None, "level": None, "low": None, "high": None}
        out["since_step"] = None if self.from_parts else self.since_step
        if self.from_parts:
            out["from_parts"] = True
        if self.end and self.milestone:
            out["next_milestone"] = self.milestone.to_dict()
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class Goal:
    metric: str
    target: float
    reached: bool = False
    step: int | None = None
    date: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "target": self.target, "reached": self.reached, "step": self.step,
                "date": self.date, "note": self.note}


@dataclass
class Forecast:
    trends: dict[str, Trend] = field(default_factory=dict)
    goals: list[Goal] = field(default_factory=list)
    finished: bool = False
    tested_coverage: float = TESTED_COVERAGE

    def to_dict(self) -> dict[str, Any]:
        return {name: t.to_dict() for name, t in self.trends.items()}

    def rows(self) -> list[dict[str, Any]]:
        """The report's table: one row per forecast level (metric, step, what is there, level, interval)."""
        return [{"metric": t.metric, "at_step": p.at_step, "label": p.label, "level": p.level, "low": p.low,
                 "high": p.high, "since": t.since_step, "now": p.now, "from_parts": t.from_parts, "after": t.after,
                 "prediction": p}
                for t in self.trends.values() for p in (t.milestone, t.end) if p is not None]

    def declined(self) -> list[tuple[str, str]]:
        """(metrics, why) for the key losses without a forecast, or without one at the end of training; losses
        declined for the same reason share one line."""
        grouped: dict[str, list[str]] = {}
        for t in self.trends.values():
            if t.reason and not self.finished:
                grouped.setdefault(t.reason, []).append(t.metric)
        return [(", ".join(names), why) for why, names in grouped.items()]

    def stop(self, metric: str, reason: str) -> None:
        """No forecast for ``metric`` (its trend does not go on: ``reason``), nor a forecast step for a goal on it
        not yet reached: the report and the summary print what is left, so they cannot disagree."""
        if metric in self.trends:
            self.trends[metric] = Trend(metric, reason=reason)
        for goal in self.goals:
            if goal.metric == metric and not goal.reached:
                goal.step, goal.date, goal.note = None, None, f"no forecast: {reason}"

    def goal_lines(self) -> list[str]:
        return [f"{g.metric} {'≥' if higher_is_better(g.metric) else '≤'} {fmt(g.target)}: {g.note}"
                for g in self.goals]


def higher_is_better(metric: str) -> bool:
    """A score a goal is reached by rising to (PSNR, SSIM, accuracy); every loss falls to its goal."""
    return any(word in metric.lower() for word in ("psnr", "ssim", "acc"))


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def parse_goals(texts: list[str] | None) -> list[tuple[str, float]]:
    """``["rec_loss=0.01", ...]`` -> ``[("rec_loss", 0.01), ...]``; a bad one is an InputError."""
    out = []
    for text in texts or []:
        found = re.fullmatch(r"\s*([\w./-]+)\s*=\s*([-+0-9.eE]+)\s*", text)
        try:
            value = float(found.group(2)) if found else math.nan
        except ValueError:
            value = math.nan
        non_finite = re.fullmatch(r"\s*[\w./-]+\s*=\s*[-+]?(?:nan|inf|infinity)\s*", text, re.IGNORECASE)
        if non_finite or (found and math.isinf(value)):  # the form is right, the level is not
            raise InputError(f"--goal {text!r}: the level must be a finite number, such as rec_loss=0.01")
        if not found or not math.isfinite(value):
            raise InputError(f"--goal {text!r}: give METRIC=LEVEL, such as rec_loss=0.01")
        out.append((found.group(1), value))
    return out


def _window_of(s: np.ndarray) -> np.ndarray:
    """Each point's window: ``WINDOWS`` equal-step windows over the stretch's steps (sorted)."""
    edges = np.linspace(s[0], s[-1] + 1, WINDOWS + 1)
    return np.clip(np.searchsorted(edges, s, side="right") - 1, 0, WINDOWS - 1)


def fit_trend(steps: np.ndarray, values: np.ndarray, since: int, now: int, unit: str = "step"
              ) -> tuple[Trend | None, str | None, dict]:
    """The power-law fit on window levels of ``since..now``; (None, reason) when the stretch cannot carry one
    (``unit``: what the logs' step axis counts, for that reason)."""
    keep = (steps >= since) & (steps <= now) & np.isfinite(values)
    s, v = steps[keep], values[keep]
    shift = _last_shift(s, v)
    if shift is not None:  # a trend fitted across a step in level extrapolates the step: fit what came after
        keep &= steps >= shift
        s, v = steps[keep], values[keep]
        if len(s) < MIN_POINTS:
            return None, (f"its level shifted at {unit} {fmt(shift)}, and only {counted(len(s), 'point')} "
                          f"{'was' if len(s) == 1 else 'were'} logged since (a trend needs {MIN_POINTS})"), {}
        since = shift
    if len(s) < MIN_POINTS:
        logged = f"only {counted(len(s), 'point')}" if len(s) else "no point"
        return None, f"{logged} logged since {unit} {fmt(since)} (a trend needs {MIN_POINTS})", {}
    which = _window_of(s)
    centres, ys = [], []
    for k in range(WINDOWS):
        inside = which == k
        if inside.sum() >= 2:
            centres.append(float(np.median(s[inside])))
            ys.append(float(np.median(v[inside])))
    centres, ys = np.array(centres), np.array(ys)
    xs = _x(centres)
    log_space = bool(np.all(ys > 0))
    y = np.log(ys) if log_space else ys
    if len(xs) < 6 or np.ptp(xs) == 0:
        return None, "the latest stretch has too few distinct windows for a trend", {}
    b, a = np.polyfit(xs, y, 1)
    resid = y - (a + b * xs)
    scale = float(np.std(resid, ddof=2))
    spread = scale if log_space else scale / max(float(np.median(np.abs(ys))), 1e-300)
    if spread > MAX_SCATTER:
        return None, (f"its window levels scatter {spread:.0%} about the trend since {unit} {fmt(since)}: too noisy "
                      "for a forecast"), {}
    trend = Trend("", since_step=int(since), shape=Shape("power", (float(a), float(b)), log_space),
                  now_level=float(ys[-1]))
    return trend, None, {"xs": xs, "y": y, "resid": resid, "x_now": float(_x(now)), "t": centres, "levels": ys,
                         "now": now}


def reshape(trend: Trend, fit: dict, floor: float | None) -> dict:
    """The shape carried forward (``MODEL``: by held-out fit, else the one named), set on ``trend``, and the fit
    the interval's bootstrap refits in its space."""
    t, levels = fit["t"], fit["levels"]
    if MODEL in MODELS:
        ranked = [fit_shape(MODEL, t, levels, floor) or trend.shape]
    else:
        ranked = choose(t, levels, floor, CANDIDATES)
    trend.shape, trend.floor = ranked[0], floor
    other = ranked[1] if RUNNER_UP and len(ranked) > 1 else None
    return fit | regression(ranked[0], t, levels, fit["now"]) | {"other": other}


SHIFT = math.log(1.2)  # a step in level this large (20%) between neighbouring windows, clear of their noise


def _last_shift(s: np.ndarray, v: np.ndarray) -> int | None:
    """Where the level after a persistent step in level begins, or None. The stretch's window levels (log units)
    are fitted two ways: the trend the forecast uses, and two flat levels with one window of transition between
    them; a step is where the two levels explain the windows five times better than the trend, they stand apart
    by 20% and by 8 standard errors of a window's level, and every later window is on the new side. A smooth
    decay fits the trend; a spike that came back, or noise, has no second level."""
    if len(s) < 2 * MIN_POINTS or not np.all(v > 0):
        return None
    y = np.log(v)
    which = _window_of(s)
    levels, errors, starts, centres = [], [], [], []
    for k in range(WINDOWS):
        inside = which == k
        if inside.sum() < 3:
            return None
        levels.append(float(np.median(y[inside])))
        errors.append(1.4826 * float(np.median(np.abs(y[inside] - levels[-1]))) / math.sqrt(inside.sum()))
        starts.append(int(s[inside][0]))
        centres.append(float(np.median(s[inside])))
    lv, x, error = np.array(levels), _x(np.array(centres)), float(np.median(errors))
    best = None
    for k in range(2, WINDOWS - 2):  # window k is the transition: two or more flat windows on each side
        before, after = lv[:k], lv[k + 1:]
        rest = np.delete(np.arange(WINDOWS), k)
        coef = np.polyfit(x[rest], lv[rest], 1)
        rss_trend = float(((lv[rest] - np.polyval(coef, x[rest])) ** 2).sum())
        rss_step = float(((before - before.mean()) ** 2).sum() + ((after - after.mean()) ** 2).sum())
        jump = after.mean() - before.mean()
        if abs(jump) > max(SHIFT, 8 * error) and rss_step * 5 < rss_trend \
                and np.all(np.sign(after - before.mean()) == np.sign(jump)) and (best is None or rss_step < best[0]):
            best = (rss_step, starts[k + 1])
    return None if best is None else best[1]


def predict(trend: Trend, fit: dict, at_step: int, label: str, seed: int = 0,
            level_now: float | None = None) -> Prediction:
    """The level at ``at_step`` with a 90% interval: residual bootstrap of the fit, plus one window's scatter,
    reaching to the level now (``level_now``: the report's, else the fit's own)."""
    xs, resid = fit["xs"], fit["resid"]
    a, b = trend.coef
    x = float(trend.shape.x(at_step))
    centre = a + b * x
    rng = np.random.default_rng(seed)
    # every bootstrap refit at once: least squares in closed form on centred x (a flat level has no slope)
    samples = (a + b * xs) + rng.choice(resid, (BOOTSTRAP, len(resid)))
    xc = xs - xs.mean()
    spread = float(xc @ xc)
    slopes = (samples - samples.mean(axis=1, keepdims=True)) @ xc / spread if spread > 0 else np.zeros(BOOTSTRAP)
    draws = samples.mean(axis=1) + slopes * (x - xs.mean()) + rng.choice(resid, BOOTSTRAP)
    lo, hi = (float(v) for v in np.percentile(draws, QUANTILES))
    # the trend's own band is widened (decays that speed up or slow down), the side toward the level now is not
    wide_lo, wide_hi = centre - WIDEN * (centre - lo), centre + WIDEN * (hi - centre)
    if FLAT_BOUND:
        # the other bound: the level stays where it is now (progress stops); curves that flatten sooner than a
        # power law land between the two (the truncation test's misses were all of that kind). It ends at the
        # level now and its scatter: widening it past them would have the loss turn back, which no fit here says
        now_draws = samples.mean(axis=1) + slopes * (fit["x_now"] - xs.mean()) + rng.choice(resid, BOOTSTRAP)
        middle = float(np.median(now_draws))
        ends = [middle + NOW_WIDEN * (float(v) - middle) for v in np.percentile(now_draws, QUANTILES)]
        if level_now is not None and math.isfinite(level_now) and (level_now > 0 or not trend.log_space):
            ends.append(math.log(level_now) if trend.log_space else level_now)
        if fit.get("other") is not None:  # the runner-up shape's forecast
            other = float(fit["other"].at(at_step))
            if other > 0 or not trend.log_space:
                ends.append(math.log(other) if trend.log_space else other)
        # the hull of the two bands, each widened about its own middle
        lo, hi = min(wide_lo, *ends), max(wide_hi, *ends)
    else:
        lo, hi = wide_lo, wide_hi
    back = np.exp if trend.log_space else (lambda v: v)
    # never below the level the loss cannot go under (a floor's bootstrap can reach past 0)
    bound = -math.inf if trend.floor is None else trend.floor
    level, low, high = (max(float(back(v)), bound) for v in (centre, min(lo, centre), max(hi, centre)))
    return Prediction(int(at_step), level, low, high, label)


def forecast_metric(name: str, steps: np.ndarray, values: np.ndarray, now: int, phase_start: int,
                    end: int | None, milestone: tuple[int, str] | None, unit: str = "step",
                    level_now: float | None = None, after: tuple[int, str] | None = None) -> Trend:
    """One metric's forecast at the end of the schedule (``end``) and at the next milestone, or why none.
    ``level_now``: the metric's current level as the report states it (default: levels.current_level);
    ``after``: (step, what) of the latest change the report found in it (a step in level, a collapse, a NaN): the
    fit starts there, never across it."""
    if level_now is None:
        found = current_level(steps[steps <= now], values[steps <= now], phase_start)
        level_now = found.value if found is not None else None
    start = phase_start
    if after is not None and phase_start < after[0] <= now:
        start = after[0]
    since = max(phase_start + (now - phase_start) // 2, start)  # the latest half of the phase, after any change
    targets = []
    if milestone is not None:
        targets.append(("milestone", *milestone))
    if end is not None and (milestone is None or end != milestone[0]):
        targets.append(("end", end, "end of training"))
    elif end is not None:
        targets = [("end", end, "end of training")]
    trend, reason, fit = fit_trend(steps, values, since, now, unit)
    if trend is not None:
        fit = reshape(trend, fit, _floor(values[steps <= now]))
    if trend is None:
        trend = Trend(name, reason=(f"fitted only after {after[1]} (a trend across it would carry the change "
                                    f"forward), and {reason}") if after and start > phase_start and since == start
                     else reason)
    trend.metric = name
    trend.after = after[1] if after and start > phase_start and since == start else None  # it moved the fit
    age = max(now - start, 1)
    notes = [] if trend.reason is None else [trend.reason]
    for kind, at, label in targets:
        near = _near(steps, at - now)
        if near and level_now is not None and math.isfinite(level_now):
            # a few logging intervals away: no trend moves a level measurably there, the level now is the answer
            setattr(trend, kind, Prediction(int(at), level_now, level_now, level_now, label, now=True))
        elif trend.coef is None:
            continue
        elif at - now > REACH * age:
            notes.append(f"the {label} ({unit} {fmt(at)}) is {fmt(at - now)} {unit}s ahead, over {REACH:g} times the "
                         f"{fmt(age)} {unit}s the current {'stretch' if start > phase_start else 'phase'} has run"
                         + (f" (since {after[1]})" if start > phase_start and after else "")
                         + ": too young to forecast that far")
        else:
            setattr(trend, kind, predict(trend, fit, at, label, level_now=level_now))
    if end is None:
        notes.append(f"no end-of-training forecast: the schedule's total {unit}s are unknown")
    trend.reason = notes[0] if notes and trend.end is None else None
    if trend.end is None and trend.milestone is None:
        return Trend(name, reason=trend.reason)
    return trend


def _floor(values: np.ndarray) -> float | None:
    """0 for a loss never negative in its logs (no forecast goes below it), else None."""
    finite = values[np.isfinite(values)]
    return 0.0 if len(finite) and float(finite.min()) >= 0 else None


def _near(steps: np.ndarray, ahead: int) -> bool:
    """Whether a point ``ahead`` steps on is within a few of the metric's logging intervals."""
    if len(steps) < 2:
        return False
    every = float(np.median(np.diff(steps[-100:])))
    return every > 0 and ahead < NEAR * every
