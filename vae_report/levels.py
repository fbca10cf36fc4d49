"""A metric's current level and the words for how it moved, defined once.

Every rule, table, sentence, weekly delta and comparison that says where a metric is *now* takes this level, so
that one report never shows two "current" values of one metric; every "held", "rose" or "fell" comes from
``movement`` below, so that the words follow the numbers (README, "Levels and words").

The current level is the median of the metric's latest finite points inside the current phase (the discriminator's
switch-on moves several losses by design, so a window straddling it mixes two regimes): its latest 5% of points, at
least ``MIN_WINDOW``. Every other level is the same window of its own phase: the start level (the statistics
table's Start) is the first 5% of the first phase's points, a phase's start its first 5%, the level just before the
switch-on the last 5% of the phase before it; so "start" names one number per metric, and a sentence comparing
another window names that phase. A sparse metric (fewer than ``SPARSE`` points in the phase, typically a validation
loss) is its last point, so that two reports compare points, not medians over a whole history. Its noise is the
uncertainty of that median: the point-to-point noise of the latest points (MAD of first differences, blind to a
trend and to a few spikes) times 1.25/sqrt(window) for a median, or how much neighbouring window medians move about
their local course when that is larger (a level that wanders; second differences, so a trend and its bend are not
noise), or the point noise itself for a single point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .stats import MAD_TO_SIGMA, robust_noise

TAIL = 0.05  # the share of the phase's points the current level is the median of
MIN_WINDOW = 5  # ... at least this many
SPARSE = 20  # fewer points than this in the phase: the level is the last point
NOISE_POINTS = 20  # the point noise is measured over at least this many latest points
BLOCKS = 10  # ... and the wander of window medians over this many windows
BAND = 2.0  # a move within this many noises of the difference is not told apart from noise
HELD_MAX = 0.05  # a move larger than this fraction of the level is never "held", whatever the noise


@dataclass(frozen=True)
class Level:
    """A metric's level over a window of its latest points: ``value`` (median), ``noise`` (sigma of that
    median), ``points`` (the window's size) and the steps the window spans."""

    value: float
    noise: float
    points: int
    first_step: int
    last_step: int

    def to_dict(self) -> dict[str, float | int | None]:
        return {"value": _plain(self.value), "noise": _plain(self.noise), "points": self.points,
                "first_step": self.first_step, "last_step": self.last_step}


def _plain(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def window_size(points: int) -> int:
    """How many latest points the current level is the median of, for a phase of ``points`` finite points."""
    if points < SPARSE:
        return 1
    return max(MIN_WINDOW, int(round(TAIL * points)))


def current_level(steps: np.ndarray, values: np.ndarray, since: int | None = None) -> Level | None:
    """The current level of a series sorted by step: its finite points at or after ``since`` (the current
    phase's first step) when there are any there, else all of them; None without a finite point."""
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=np.float64)
    good = np.isfinite(values)
    if since is not None and (good & (steps >= since)).any():
        good &= steps >= since
    steps, values = steps[good], values[good]
    if not len(values):
        return None
    k = window_size(len(values))
    return Level(float(np.median(values[-k:])), _noise(values[::-1], k), k, int(steps[-k]), int(steps[-1]))


def start_level(steps: np.ndarray, values: np.ndarray, until: int | None = None) -> Level | None:
    """The same window at the start of a series: where "over the run" starts from. ``until``: the first step of
    the next phase; the window is then 5% of the first phase's points (when it has any), as the current level is
    5% of the current phase's, so that a phase's start and the run's start are one level."""
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=np.float64)
    good = np.isfinite(values)
    if until is not None and (good & (steps < until)).any():
        good &= steps < until
    steps, values = steps[good], values[good]
    if not len(values):
        return None
    k = window_size(len(values))
    return Level(float(np.median(values[:k])), _noise(values, k), k, int(steps[0]), int(steps[k - 1]))


def _noise(values: np.ndarray, k: int) -> float:
    """The noise of the median of ``values[:k]``: from the point-to-point noise (1.25 sigma / sqrt(k)), or from
    how much medians of ``k`` consecutive points move from one block to the next (up to ``BLOCKS`` blocks), when
    that is larger: a loss that wanders (the adversarial balance, a total carrying the GAN term) is noisier over
    a window than its independent point noise says; differences of neighbouring blocks keep a trend out."""
    sigma = robust_noise(values[:max(NOISE_POINTS, 4 * k)])
    if k == 1:
        return sigma
    noise = 1.2533 * sigma / math.sqrt(k)
    blocks = min(len(values) // k, BLOCKS)
    if blocks >= 5:
        medians = np.median(values[:blocks * k].reshape(blocks, k), axis=1)
        noise = max(noise, _wander(medians))
    return float(noise)


def _wander(medians: np.ndarray) -> float:
    """How much neighbouring window medians move about their local course: the robust sigma of their second
    differences (6 sigma^2 for independent medians), so that neither a trend nor its bend counts as noise (a loss
    still falling steeply before the switch made first differences of its medians 25 x the noise)."""
    second = np.diff(medians, 2)
    return float(MAD_TO_SIGMA * np.median(np.abs(second - np.median(second))) / math.sqrt(6))


@dataclass(frozen=True)
class Movement:
    """How a level moved between two windows: ``word`` is "held", "rose" or "fell"; ``beyond_noise`` whether
    the change exceeds ``BAND`` noises of the difference (None when the noise is unknown)."""

    word: str
    change: float
    fraction: float | None
    band: float | None
    beyond_noise: bool | None


def movement(before: float, after: float, noise: float | None = None, signed: bool = False) -> Movement:
    """The word for a move from ``before`` to ``after``: "held" only when it is within ``BAND`` x ``noise`` (the
    noise of the difference) and within ``HELD_MAX`` of the level (of ``before`` for a quantity whose zero is
    meaningful, ``signed`` False, else of the larger magnitude); otherwise "rose" or "fell"."""
    change = after - before
    fraction = None
    if not signed and before != 0 and (before > 0) == (after > 0) and math.isfinite(change):
        fraction = change / abs(before)
    band = BAND * noise if noise is not None and math.isfinite(noise) else None
    beyond = None if band is None else abs(change) > band
    # "held" never names a move over HELD_MAX of the level, whatever the noise: against ``before`` where the
    # percentage is quoted, else (a signed quantity, or one that crossed 0) against the larger magnitude, so a
    # total that once dipped below 0 and went from 0.183 to 0.234 "rose", not "held near 0.234"
    scale = abs(before) if fraction is not None else max(abs(before), abs(after))
    small = math.isfinite(change) and abs(change) <= HELD_MAX * scale
    held = change == 0 or (beyond is False and small)
    word = "held" if held else "rose" if change > 0 else "fell"
    return Movement(word, change, fraction, band, beyond)


def difference_noise(a: Level | None, b: Level | None) -> float | None:
    """The noise of the difference of two levels (None when either is unknown)."""
    if a is None or b is None or not (math.isfinite(a.noise) and math.isfinite(b.noise)):
        return None
    return math.hypot(a.noise, b.noise)


def same_level(a: Level, b: Level) -> bool:
    """Whether two windows measure one level: the move between them "held" (within ``BAND`` noises of the
    difference and within ``HELD_MAX`` of the level). Two such windows are one baseline, quoted as one number."""
    return movement(a.value, b.value, difference_noise(a, b)).word == "held"
