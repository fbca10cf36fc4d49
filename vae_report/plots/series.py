"""The series the plots draw, prepared once per report: each metric's finite points (huge outliers clipped), its
axis scale and, when long, its envelope.

A long series is drawn as its envelope: for each of a fixed number of columns narrower than a pixel, the lowest
and the highest of every point in it, filled as one polygon. A line through all the points covers exactly that
band, so every spike and extreme stays visible, while the cost of drawing stays flat however long or noisy the
run (Agg strokes a zigzag through a noisy series' extremes for up to 30 ms a line; the band fills in 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..marks import run_marks
from ..rules import Metrics
from ..rules.losses import divergence_onset
from ..schedule import Schedule

MAX_POINTS = 1200  # a comparison's lines (downsample): two per pixel column of its axes (~550 px)
COLUMNS = 800  # envelope columns: more than the pixel columns any figure gives a series (at most ~550)
LIMIT = 1e150  # beyond this matplotlib's axis arithmetic overflows (a range of 2e308 is inf)


def clipped(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """Values as they can be drawn: huge outliers (a diverged run's 1e308) clipped to a band around the bulk
    of the points, so the plot shows the data and says it was clipped instead of failing."""
    if not len(values):
        return values, False
    with np.errstate(all="ignore"):
        lo, hi = np.percentile(values, [1, 99])
        # a bulk at one value has no spread to measure outliers by: only what would overflow is clipped (a
        # spread of 0 clipped every point off the constant, a discriminator's first nonzero loss among them)
        span = (hi - lo) if np.isfinite(hi - lo) and hi > lo else LIMIT
        low, high = max(lo - 10 * span, -LIMIT), min(hi + 10 * span, LIMIT)
    if values.min() >= low and values.max() <= high:
        return values, False
    return np.clip(values, low, high), True


def downsample(steps: np.ndarray, values: np.ndarray, n_out: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n_out`` finite points, keeping each bucket's extremes (MinMaxLTTB); huge outliers clipped."""
    good = np.isfinite(values)
    return _reduce(steps[good], clipped(values[good])[0], n_out)


def _reduce(steps: np.ndarray, values: np.ndarray, n_out: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n_out`` of these finite points (MinMaxLTTB)."""
    if len(steps) <= n_out:
        return steps, values
    from tsdownsample import MinMaxLTTBDownsampler

    idx = MinMaxLTTBDownsampler().downsample(steps.astype(np.float64), values, n_out=n_out)
    return steps[idx], values[idx]


def _scale_of(good: np.ndarray) -> tuple[str, float]:
    """Log when positive and spanning orders of magnitude; symmetric log when the values cross zero and span
    orders of magnitude (a total that goes negative once the GAN term switches on); else linear."""
    if len(good) < 2:
        return "linear", 0.0
    with np.errstate(all="ignore"):
        if good.min() > 0 and good.max() / good.min() > 100:
            return "log", 0.0
        size = np.abs(good[good != 0])
        if good.min() < 0 < good.max() and len(size) and size.max() / np.median(size) > 100:
            return "symlog", float(np.percentile(size, 10)) or 1e-12
    return "linear", 0.0


@dataclass(frozen=True)
class Drawn:
    """One metric as the plots draw it, prepared once per report (several figures show the same series)."""

    x: np.ndarray  # every finite point (huge values clipped), or the envelope's outline when ``band``
    y: np.ndarray
    band: bool
    clipped: bool
    first_bad: int | None  # step of the first NaN/Inf
    scale: str  # "log", "symlog" or "linear", from every finite value
    linthresh: float
    lo: float  # smallest and largest finite value (after clipping)
    hi: float


class Series:
    """The metrics of a frame, each downsampled and measured once, on demand, with what every figure marks:
    the schedule's phases and the last report's step (``baseline``: marked, and the stretch since hatched)."""

    def __init__(self, m: Metrics, schedule: Schedule, baseline: int | None = None):
        self.m = m
        self.schedule = schedule
        self.baseline = baseline
        self.last = m.last_step()
        self.marks = run_marks(m, schedule, baseline)  # with the findings once known (PlotsInFlight.result)
        self.cut = divergence_onset(m)  # the normalized figure scales each loss over the points before it
        self._done: dict[str, Drawn] = {}

    def __getitem__(self, name: str) -> Drawn:
        if name not in self._done:
            self._done[name] = prepare(self.m.steps(name), self.m.values(name))
        return self._done[name]


def envelope(steps: np.ndarray, values: np.ndarray, columns: int = COLUMNS) -> tuple[np.ndarray, np.ndarray]:
    """The outline of what a line through these points (steps ascending) covers: the range split into
    ``columns`` of equal width, each holding its lowest and highest value from its first point's step to its
    last's; the top edge left to right, then the bottom edge back. Empty columns are bridged as the line would."""
    edges = np.linspace(float(steps[0]), float(steps[-1]), columns + 1)[:-1]
    starts = np.unique(np.searchsorted(steps, edges, side="left"))
    ends = np.r_[starts[1:], len(steps)] - 1
    top, bottom = np.maximum.reduceat(values, starts), np.minimum.reduceat(values, starts)
    x = np.column_stack([steps[starts], steps[ends]]).ravel().astype(np.float64)
    return np.r_[x, x[::-1]], np.r_[np.repeat(top, 2), np.repeat(bottom, 2)[::-1]]


def prepare(steps: np.ndarray, values: np.ndarray) -> Drawn:
    bad = ~np.isfinite(values)
    any_bad = bool(bad.any())
    finite, finite_steps = (values[~bad], steps[~bad]) if any_bad else (values, steps)  # no copies when all finite
    good, was_clipped = clipped(finite)
    kind, linthresh = _scale_of(good)
    band = len(good) > 2 * COLUMNS
    x, y = envelope(finite_steps, good) if band else (finite_steps, good)
    lo, hi = (float(good.min()), float(good.max())) if len(good) else (float("nan"), float("nan"))
    return Drawn(x, y, band, was_clipped, int(steps[bad][0]) if any_bad else None, kind, linthresh, lo, hi)
