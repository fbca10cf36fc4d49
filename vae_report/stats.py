"""Robust levels and noise of a series, shared by rules, prose and the weekly deltas."""

from __future__ import annotations

import numpy as np

MAD_TO_SIGMA = 1.4826
# a change of level is measured between medians of at least this many points on each side: fewer are a spike's or
# the noise's, whatever their ratio
SIDE_POINTS = 20
# ... and must stand this many of its own standard errors clear: the candidates are the largest excursions a scan
# found, so a two-sided 5% test would pass noise
LEVEL_Z = 5.0


def rolling_median(values: np.ndarray, window: int, min_count: int | None = None) -> np.ndarray:
    """Centred moving median (the same windows as pandas' ``rolling(window, center=True)``), NaN where fewer
    than ``min_count`` (default: ``window``) finite points fall in the window. bottleneck's double heap:
    O(n log window), ~15x pandas' skip list."""
    import bottleneck

    values = np.asarray(values, dtype=np.float64)
    offset = (window - 1) // 2
    padded = np.concatenate([values, np.full(offset, np.nan)]) if offset else values
    return bottleneck.move_median(padded, window, min_count=window if min_count is None else min_count)[offset:]


def window_medians(values: np.ndarray, window: int) -> np.ndarray:
    """The median of every ``window`` consecutive points: entry i covers points i .. i + window - 1 (numpy's
    ``median(sliding_window_view(values, window), axis=1)``, NaN where a window holds one), by bottleneck's
    double heap in O(n log window) time and O(n) memory: the numpy form copies every window, n x window values
    (3.8 GB for a 100,000-point phase judged over 5,000-point windows)."""
    import bottleneck

    values = np.asarray(values, dtype=np.float64)
    if window < 1 or len(values) < window:
        return np.zeros(0)
    return bottleneck.move_median(values, window, min_count=window)[window - 1:]


def block_mad(values: np.ndarray, block: int, min_count: int) -> np.ndarray:
    """A slowly varying spread per point: the median absolute deviation from the median of consecutive
    ``block``-point blocks (a last part of fewer than ``min_count`` points joins the block before it; NaN
    ignored), interpolated linearly between the blocks' centres. Where the spread changes over many blocks this
    follows the moving medians of ``block`` points it replaces, at a fraction of their cost (two sorts per
    block instead of two heap steps per point)."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    full = max(1, n // block)
    if n - full * block < min_count:  # too few left for a block of their own: the last block takes them
        full -= 1
    parts = [values[:full * block].reshape(full, block)] if full > 0 else []
    parts.append(values[full * block:][None, :])
    mads = [_row_medians(np.abs(p - _row_medians(p)[:, None])) for p in parts]
    centres = np.append(np.arange(full) * block + (block - 1) / 2, full * block + (parts[-1].shape[1] - 1) / 2)
    return np.interp(np.arange(n), centres, np.concatenate(mads))


def _row_medians(rows: np.ndarray) -> np.ndarray:
    """Each row's median, NaN ignored (NaN for a row of NaN only); sorting short rows is ~5x np.median's path."""
    if np.isnan(rows).any():
        import warnings

        with warnings.catch_warnings():  # a row of NaN only has no median: NaN there, as intended
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(rows, axis=1)
    ordered = np.sort(rows, axis=1)
    k = rows.shape[1]
    return (ordered[:, (k - 1) // 2] + ordered[:, k // 2]) / 2


def shared_steps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The steps in both sorted, repeat-free step arrays (a metric's steps in the frame), in order; O(n log n)
    without the sort and hash of ``np.intersect1d``."""
    return a[contains(b, a)]


def contains(sorted_steps: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """For each of ``steps``, is it in the sorted array ``sorted_steps``?"""
    if not len(sorted_steps):
        return np.zeros(len(steps), dtype=bool)
    if len(sorted_steps) == len(steps) and np.array_equal(sorted_steps, steps):  # metrics logged together
        return np.ones(len(steps), dtype=bool)
    idx = np.minimum(np.searchsorted(sorted_steps, steps), len(sorted_steps) - 1)
    return sorted_steps[idx] == steps


def robust_noise(values: np.ndarray) -> float:
    """The point-to-point noise of a series (sigma), from the MAD of first differences: a trend does not
    inflate it, and a few spikes do not either. NaN with fewer than 3 finite points."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) < 3:
        return float("nan")
    diffs = np.diff(values)
    return float(MAD_TO_SIGMA * np.median(np.abs(diffs - np.median(diffs))) / np.sqrt(2))


def level_at(steps: np.ndarray, values: np.ndarray, step: int, points: int = 20) -> tuple[float, float] | None:
    """(median, noise of that median) of the ``points`` finite points logged at or before ``step``."""
    end = int(np.searchsorted(steps, step, side="right"))
    window = values[max(0, end - points):end]
    window = window[np.isfinite(window)]
    if not len(window):
        return None
    noise = robust_noise(window) if len(window) >= 3 else float("nan")
    # the median of k points is about 1.25 sigma / sqrt(k) uncertain
    return float(np.median(window)), float(1.2533 * noise / np.sqrt(len(window)))


def median_gap(before: np.ndarray, after: np.ndarray) -> float:
    """How many standard errors the median of ``after`` stands above the median of ``before`` (negative below):
    each median is 1.25 sigma/sqrt(n) uncertain, sigma the window's own point scatter (robust_noise: blind to a
    trend within it), so a noisy stretch is judged by its own noise, not by a quieter one elsewhere in the run.
    NaN when either window has fewer than SIDE_POINTS finite points."""
    a = np.asarray(before, dtype=np.float64)
    b = np.asarray(after, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < SIDE_POINTS or len(b) < SIDE_POINTS:
        return float("nan")
    error = 1.2533 * np.sqrt(robust_noise(a) ** 2 / len(a) + robust_noise(b) ** 2 / len(b))
    gap = float(np.median(b) - np.median(a))
    if error <= 0:  # values that do not vary (printed to a few decimals): any change is one
        return float("inf") * np.sign(gap) if gap else 0.0
    return gap / float(error)


def level_changed(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether the median of ``after`` stands LEVEL_Z standard errors above that of ``before`` (median_gap)."""
    return bool(median_gap(before, after) >= LEVEL_Z)
