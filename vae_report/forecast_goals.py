"""Whether a level the user aims at (``--goal rec_loss=0.01``) is reached: when it was, or when the current trend
reaches it (and the date, from the run's speed), or why it does not."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from . import position as pos
from .forecast import KEY_LOSSES, Goal, Trend, forecast_metric, higher_is_better
from .frame import logged_apart, written_as
from .numbers import fmt


def logged_name(m: Any, given: str) -> str:
    """The run's name for a goal's metric: as given when logged so, else as the readers name that tag
    (``train/rec_loss`` is read as ``rec_loss``)."""
    from .frame import canonical_name

    return given if m.has(given) or not m.has(canonical_name(given)) else canonical_name(given)


def trend_for(m: Any, metric: str, now: int, phase_start: int, end: int | None) -> Trend | None:
    """A goal on a metric that is not a key loss (val/psnr): its own trend, fitted the same way."""
    if not m.has(metric):
        return None
    return forecast_metric(metric, m.steps(metric), m.values(metric), now, phase_start, end, None)


def goal_result(metric: str, target: float, m: Any, trend: Trend | None, now: int, horizon: tuple[int | None, str],
          rate: float | None, last_wall: float | None, unit: str = "step") -> Goal:
    goal = Goal(metric, target)
    if not m.has(metric):
        logged = [name for name in KEY_LOSSES if m.has(name)]
        apart = written_as(metric, m.names())
        goal.note = f"{metric} is not logged in this run" if not apart else \
            f"{metric} is {logged_apart(apart)}"
        goal.note += f" (its key losses: {', '.join(logged)})" if logged else ""
        return goal
    up = higher_is_better(metric)
    steps, values = m.steps(metric), m.values(metric)
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    # a level is reached when a moving median gets there (5 points, or 2% of the run's: one lucky stretch of
    # noise is not a level)
    window = max(5, len(values) // 50)
    touched = ""
    if len(values) >= window:
        levels = _moving_median(values, window)
        hit = np.flatnonzero(levels >= target if up else levels <= target)
        # reached where it got there and holds there now: the current level (the one the report quotes) at the
        # goal; a dip that came back is said, and the goal forecast as if not reached
        level = m.level(metric)
        holds = level is None or not math.isfinite(level.value) or \
            (level.value >= target if up else level.value <= target)
        if len(hit) and holds:
            end_of = hit[0] + window - 1
            goal.reached, goal.step = True, int(steps[end_of])
            walls = m.wall_times(metric)[good]
            if np.isfinite(walls[end_of]):
                goal.date = _date(float(walls[end_of]))
            goal.note = f"reached at {pos.at(unit, goal.step)}" + (f" ({goal.date})" if goal.date else "")
            return goal
        if len(hit):
            touched = (f"touched at {pos.at(unit, int(steps[hit[0] + window - 1]))} but not held ({metric} is "
                       f"{fmt(level.value)} now); ")
    goal.note = touched
    return _forecast_goal(goal, metric, target, up, trend, now, horizon, rate, last_wall, unit)


def _forecast_goal(goal: Goal, metric: str, target: float, up: bool, trend: Trend | None, now: int,
                   horizon: tuple[int | None, str], rate: float | None, last_wall: float | None, unit: str) -> Goal:
    """The goal not reached (or not held): when the current trend gets there, or why it does not; the note after
    what ``goal.note`` already says."""
    said = goal.note
    if trend is None or trend.coef is None:
        goal.note = said + "no forecast: " + ((trend.reason or "").rstrip(".") if trend else "no trend").lower()
        return goal
    at = trend.shape.step_at(target)
    toward = trend.shape.direction() == (1 if up else -1)
    if at is None or not toward:
        goal.note = said + (f"not on the current trend ({metric} levels off near {fmt(trend.shape.coef[0])})"
                            if toward and trend.shape.model == "floor"
                            else f"not on the current trend ({metric} is moving away from {fmt(target)} or is flat)")
        return goal
    end, where = horizon
    if end is not None and at > end:
        goal.note = said + (f"not {where} ({pos.at(unit, end)}) on the current trend (forecast there: "
                            f"{fmt(trend.at(end))})")
        return goal
    if at > 100 * max(now, 1):
        goal.note = said + f"not within a hundred times the {pos.units(unit)} run so far on the current trend"
        return goal
    goal.step = int(max(at, now))
    if rate and last_wall is not None and math.isfinite(last_wall):
        goal.date = _date(last_wall + (goal.step - now) / rate)
    goal.note = said + f"forecast at {pos.at(unit, goal.step)}" + (f", around {goal.date}" if goal.date else "")
    return goal


def _moving_median(values: np.ndarray, window: int) -> np.ndarray:
    """The median of each ``window`` consecutive points (trailing: entry i ends at point i + window - 1)."""
    import bottleneck

    return bottleneck.move_median(values, window)[window - 1:]


def _date(stamp: float) -> str | None:
    """A UTC date, or None for a moment no calendar of training logs holds (a goal ages away at a crawl)."""
    from .frame import WALL_RANGE

    if not WALL_RANGE[0] < stamp < WALL_RANGE[1]:
        return None
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
