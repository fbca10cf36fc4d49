"""A loss that climbs slowly and steadily: where the climb began and from what level.

A drift whose per-point change is far below the noise clears the noise only long after it began, so the best of
the latest stretch (what ``loss-now`` compares with) is already part of the climb: measured against it, the rise
is understated and dated where the stretch begins. Here the climb is traced back on the smoothed level (moving
medians of the latest tail's width): its bottom is the lowest window from which the level never fell back by more
than half the rise (a climb, not a bump that came back), its basin the windows around it within a tenth of the
rise, reaching back no further than where the level was last as high as now. The onset is where a fit of two
joined lines over the basin and the climb turns (a level or a still-falling loss, then the climb; in log or in
linear units, whichever fits better: a climb linear in the loss is concave in its logarithm), and the level it
began at is the median of the basin's points before the onset (the lowest of many window medians is biased low
by their noise). A level that steps up (a step fits better) or a climb over in a few points, each changing more
than the noise, is no drift: those keep loss-now's own dating.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..stats import window_medians
from .base import ramp_onset, step_onset

MEDIAN_NOISE = 1.2533  # the noise of a median of k points is this x sigma / sqrt(k)
FALLBACK = 0.5  # the level may fall back by at most this share of the rise during the climb
BASIN = 0.1  # the bottom's basin: within this share of the rise (or 2 median noises) of the lowest level
MIN_SPAN = 2  # a drift spans at least this many tails' worth of points


@dataclass(frozen=True)
class Climb:
    """A steady climb of a binned series: its lowest level before the climb (``baseline``, in the units the
    series is judged in), the step where that level's window is centred, and the step the climb began."""

    baseline: float
    baseline_step: int
    onset: int


def _smoothed(z: np.ndarray, m: int) -> np.ndarray:
    """Medians of ``m`` consecutive points: entry i covers points i .. i + m - 1."""
    return window_medians(z, m)


def _bottom(s: np.ndarray, end: int, latest: float, noise: float) -> tuple[int, int] | None:
    """(window of the lowest level before the climb, the first window of its basin): the lowest window from
    which the level never fell back by more than ``FALLBACK`` of the rise to ``latest`` (a bump that came back
    moves the search past its peak: the climb began after it); its basin reaches back to where the level was
    last as high as it is now. None when there is no climb."""
    left = 0
    while left < end:
        at = left + int(np.argmin(s[left:end]))
        rise = latest - s[at]
        if rise <= 0:
            return None
        after = s[at:]
        fallen = np.maximum.accumulate(after) - after
        deepest = int(np.argmax(fallen))
        if fallen[deepest] <= max(FALLBACK * rise, 4 * noise):
            above = np.flatnonzero(s[left:at] >= latest)
            return at, left + (int(above[-1]) + 1 if len(above) else 0)
        left = at + int(np.argmax(after[:deepest + 1])) + 1  # the climb began after the peak it fell from
    return None


def steady_climb(z: np.ndarray, steps: np.ndarray, m: int, latest: float, sigma: float,
                 min_rise: float = 0.0) -> Climb | None:
    """The steady climb that ends in ``latest`` (the current level) of the binned series ``z`` (log units of a
    positive quantity; positions ``steps``, ``m`` points a tail, ``sigma`` the point noise), or None when the
    series does not end in one: no room before the tail, a bump that came back, a level that stepped up, a
    climb of a few points, or one of ``min_rise`` or less above the bottom."""
    n = len(z)
    if n < 6 * m or not math.isfinite(latest):
        return None
    s = _smoothed(z, m)
    noise = MEDIAN_NOISE * sigma / math.sqrt(m)
    end = n - 2 * m + 1  # windows wholly before the latest tail
    found = _bottom(s, end, latest, noise)
    if found is None:
        return None
    at, left = found
    if latest - s[at] <= min_rise:  # too small to be worth a word from any level of the bottom: no fits
        return None
    band = max(BASIN * (latest - s[at]), 2 * noise)
    first = at
    while first > left and s[first - 1] <= s[at] + band:
        first -= 1
    onset, unexplained = ramp_onset(steps[first:], z[first:], falling_first=True)
    # a climb linear in the quantity itself is concave in log units, where the fit's break leans early: the
    # units the two lines fit better date it
    linear = ramp_onset(steps[first:], np.exp(z[first:] - s[at]), falling_first=True)
    if linear[1] < unexplained:
        onset, unexplained = linear
    if unexplained >= 0.8:  # the fit says little: the climb began where its lowest window is
        onset = int(steps[at + m // 2])
    # the level it began at: the median of the bottom's points before the climb (the lowest of many window
    # medians is biased low by their noise), or the lowest window where the bottom is shorter than one
    before = z[first:int(np.searchsorted(steps, onset))]
    baseline = float(np.median(before)) if len(before) >= m else float(s[at])
    _, step_unexplained = step_onset(steps[first:], z[first:])
    if step_unexplained < unexplained:
        return None  # a level that stepped up: not a drift
    climbing = int(np.sum(steps >= onset))
    if climbing < MIN_SPAN * m or (latest - baseline) / max(climbing, 1) >= sigma:
        return None  # over in a few points (each step's change above the noise): a sudden rise, dated as one
    return Climb(min(baseline, latest), int(steps[at + m // 2]), int(onset))
