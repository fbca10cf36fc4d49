"""Every key loss's forecast and the goals' results for one run: the trends (forecast.py) fitted after the run's
own change points (forecast_limits.py), a total from its parts, and the goals (forecast_goals.py)."""

from __future__ import annotations

from typing import Any

from .forecast import KEY_LOSSES, Forecast, Trend, forecast_metric
from .forecast_goals import goal_result, logged_name, trend_for
from .forecast_limits import change_points, latest_change, total_from_parts
from .numbers import fmt


def forecast_run(m: Any, schedule: Any, now: int, finished: bool, goals: list[tuple[str, float]] | None = None,
                 last_wall: float | None = None, steps_per_hour: float | None = None,
                 findings: list[Any] | None = None) -> Forecast:
    """Every key loss's forecast, and the goals' results, for a run analyzed at step ``now``; ``steps_per_hour``:
    the liveness rule's speed (None where it gives none), which dates the goals; ``findings``: the rules', whose
    change points no trend is fitted across."""
    out = Forecast(finished=finished)
    changes = change_points(findings or [], m, schedule.counts)
    # a config whose adversarial phase never runs (disc_factor 0, disc_start past the end) has one phase
    switch = schedule.switch_step if schedule.adversarial_off is None else None
    before_d = switch is not None and now < switch
    phase_start = switch if switch is not None and now >= switch else 0
    end = schedule.total_steps if schedule.total_steps and not finished else None
    milestone = (switch, "discriminator starts") if before_d else None
    for name in KEY_LOSSES:
        if not m.has(name):
            continue
        if finished:
            out.trends[name] = Trend(name, reason="the run is finished: its last level is its final one")
            continue
        level = m.level(name)
        trend = forecast_metric(name, m.steps(name), m.values(name), now, phase_start,
                                None if before_d else end, milestone, schedule.counts,
                                level.value if level is not None else None, latest_change(changes, name))
        if before_d and trend.milestone is not None and end is not None:
            trend.reason = (f"no end-of-training forecast: the discriminator switches on at {schedule.counts} "
                            f"{fmt(switch)}, "
                            "and this phase's trend does not carry across it")
        out.trends[name] = trend
    if not finished:
        total_from_parts(out, m, schedule)
    rate = steps_per_hour / 3600 if steps_per_hour else None  # the one speed the report states
    # a goal is forecast up to where the current phase's trend holds: the switch, else the end of training
    horizon = (switch, "before the discriminator switches on") if before_d else (end, "by the end of training")
    for given, target in goals or []:
        metric = logged_name(m, given)
        trend = out.trends.get(metric) or trend_for(m, metric, now, phase_start, horizon[0])
        out.goals.append(goal_result(metric, target, m, trend, now, horizon, rate, last_wall, schedule.counts))
    return out
