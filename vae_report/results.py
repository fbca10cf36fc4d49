"""The plain values an analysis is made of (per-metric statistics, Q&A entries): a leaf module that the
analysis, the narrative and the renderers all import, so that none of them imports another for a type."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .numbers import by_difference, change_said, describe_change, fmt, relative_change


def json_number(value: float) -> float | str | None:
    """A float as the summary writes it."""
    # JSON has no NaN/Inf: write them as strings so a reader sees them rather than a parse error.
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


@dataclass(frozen=True)
class MetricStats:
    name: str
    first: float
    latest: float
    min: float
    max: float
    count: int
    first_step: int
    latest_step: int
    non_finite: int
    source: str
    recent_median: float = math.nan  # the current level (levels.current_level): the one "now" of this metric
    recent_noise: float = math.nan  # how uncertain that level is
    level_points: int = 0  # how many latest points it is the median of (1: the last point of a sparse metric)
    level_since: int | None = None  # the first step of its window
    start_median: float = math.nan  # the same window at the start of its first phase: the one Start
    start_noise: float = math.nan
    start_points: int = 0  # how many first points of its first phase Start is the median of

    @property
    def change(self) -> float:
        return self.latest - self.first

    @property
    def signed(self) -> bool:
        """A quantity whose zero is not special (logits, g_loss), or one that took both signs (a total once the
        GAN term outweighs the rest): its changes are differences, never percentages."""
        # also one that is negative throughout (a signed nll, a KL with a sign error): "-13,591%" says nothing
        return by_difference(self.name) or self.min < 0 < self.max or self.max < 0

    @property
    def change_fraction(self) -> float | None:
        """Relative change, None where a percentage would mislead (across a sign change, signed quantities)."""
        if self.signed:
            return None
        return relative_change(self.first, self.latest)

    @property
    def now(self) -> float:
        """The current level (the last point when none could be computed); NaN/Inf when the latest point is: the
        median of the finite points before it is not where the metric is now."""
        if not math.isfinite(self.latest):
            return self.latest
        return self.recent_median if math.isfinite(self.recent_median) else self.latest

    @property
    def start(self) -> float:
        return self.start_median if math.isfinite(self.start_median) else self.first

    def level_change(self) -> dict[str, float | None]:
        """From the start level to the current one, as the statistics table's Change column shows it."""
        change = self.now - self.start
        return {"change": change if math.isfinite(change) else None,
                "change_fraction": None if self.signed else relative_change(self.start, self.now)}

    def describe(self) -> str:
        """From the start level to the current one, in the words levels.movement gives their noise."""
        if not math.isfinite(self.now):
            return f"went from {fmt(self.start)} to {fmt(self.now)}"
        if fmt(self.start) == fmt(self.now) and self.min < self.max:
            return f"ended where it started, at {fmt(self.now)}"
        noise = math.hypot(self.start_noise, self.recent_noise) \
            if math.isfinite(self.start_noise) and math.isfinite(self.recent_noise) else None
        return describe_change(self.start, self.now, noise=noise, signed=self.signed)

    def to_dict(self) -> dict[str, Any]:
        return {"first": json_number(self.first), "latest": json_number(self.latest), "min": json_number(self.min),
                "max": json_number(self.max), "count": self.count, "first_step": self.first_step,
                "latest_step": self.latest_step, "latest_minus_first": json_number(self.change), "source": self.source,
                "recent_median": json_number(self.recent_median), "recent_noise": json_number(self.recent_noise),
                "level_points": self.level_points, "level_since": self.level_since,
                "start_median": json_number(self.start_median), "start_points": self.start_points,
                # the levels the report quotes (its Start, Now and Change columns), with their fallbacks: the
                # summary and the report print one set of numbers, under the names a CI step reads first
                "start": json_number(self.start), "now": json_number(self.now), **self._change_dict()}

    def _change_dict(self) -> dict[str, Any]:
        moved = self.level_change()
        return {"change": json_number(moved["change"]), "change_fraction": json_number(moved["change_fraction"]),
                "change_said": change_said(moved["change_fraction"], moved["change"])}


@dataclass(frozen=True)
class QA:
    question: str
    answer: str
    rule: str | None = None
