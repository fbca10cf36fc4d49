"""A step in a loss judged against the course it was on: the trend before the step, extrapolated.

A loss that falls, steps up and then falls again at its old pace can end close to the level it had just before
the step, while the run has lost the ground the step cost it: measured against that level alone the step "came
most of the way back" (h04/h23: x1.8 at 20,000, +14.5% over its pre-step level 15,000 steps later, about x1.8
over where its decay was heading). The counterfactual is the pre-step trend: the forecast's power law (log level
against log step, which slows down by itself as a decay flattens) fitted to the latter half of the phase before
the step, extrapolated no further than the forecast's reach (``forecast.REACH`` times the phase's age at the
step). A step has held when, there, the loss is still ``band`` above that trend (the trend never taken above the
level just before the step), and at the phase's end it is still half of ``band`` above the level just before
the step: a rise that fell back to or below its old level is an episode that is over (``loss-episode``), whatever
a trend says, and a flat or rising trend adds nothing to the level just before. Shared by ``loss-episode``
(which leaves such a rise to ``loss-shift``) and ``loss-shift`` (which tells it), so that one rise is told once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..forecast import REACH, fit_trend
from ..stats import LEVEL_Z, SIDE_POINTS, level_changed
from .base import turn_onset
from .grouping import CHAIN

# the terms of the reconstruction a run may log apart from their sum (LPIPS, the pixel term)
COMPONENTS = ("p_loss", "l1_loss", "l2_loss", "mse_loss", "pixel_loss")
# the reconstruction's chain and its parts, which loss-shift judges; not the regularizers, whose level moves by
# design (KL's growth under a small weight, a VQ commitment term that grows with the encoder's outputs): kl-rising
# and loss-now judge those, and loss-episode keeps their rises
SHIFT_LOSSES = (*CHAIN, *[c for c in COMPONENTS if c not in CHAIN])


@dataclass(frozen=True)
class Held:
    """A step that held against the course before it: where it turned (and how), reached its top, the levels
    just before and at the top, at the phase's end, and where it was judged against the trend (the level there,
    the trend's there, the stretch the trend was fitted over)."""

    onset: int
    reached: int
    how: str
    before: float
    top: float
    end: float
    judged_at: int
    level: float
    trend: float
    fitted: tuple[int, int]
    at_end: bool  # judged over the phase's latest points (the trend reaches that far)


def held_step(steps: np.ndarray, values: np.ndarray, b_steps: np.ndarray, zs: np.ndarray, smooth: int, k: int,
              span: tuple[int, int, int | None], band: float) -> Held | None:
    """Whether the rise ``span`` (next_rise's bins: its best level, its top, where it came back or None) of one
    phase's finite positive points is a step that held against the trend before it, or None. ``zs``: the
    phase's bin medians (log units) smoothed over ``smooth`` bins of ``k`` points each."""
    low_at, _, back = span
    last = back if back is not None else len(zs) - 1
    top_at = low_at + int(np.argmax(zs[low_at:last + 1]))
    base, top = float(zs[low_at]), float(zs[top_at])
    z = np.log(values)
    a = int(np.searchsorted(steps, b_steps[low_at]))
    turned = turn_onset(steps[a:], z[a:], base, base + 0.5 * (top - base))  # dated where it turned up
    if turned is None:
        return None
    onset, how = turned
    at, w = int(np.searchsorted(steps, onset)), max(smooth * k, SIDE_POINTS)
    if onset <= b_steps[smooth] or len(z) - at < 2 * w:  # from the phase's first points, or too late to have held
        return None
    # the step, and the level at the phase's end, against the level just before it: medians of SIDE_POINTS or
    # more, clear of the points' own scatter (two extremes of a noisy plateau are no step)
    ahead = z[max(0, at - w):at]
    if not (level_changed(ahead, z[at:at + w]) and level_changed(ahead, z[-w:])):
        return None
    before = math.exp(float(np.median(ahead)))
    end = float(np.median(values[-w:]))
    if math.log(end) - math.log(before) < band / 2:  # back at (or below) its old level: over, not held
        return None
    first = int(steps[0])
    trend, _, fit = fit_trend(steps, values, first + (onset - first) // 2, onset - 1)
    if trend is None or not trend.log_space or not _falling(trend.coef[1], fit):  # no falling course to have left
        return None
    judge = int(np.searchsorted(steps, onset + REACH * (onset - first), side="right")) - 1
    window = slice(max(at + w, judge - w + 1), judge + 1)  # past the step's own points
    if window.stop - window.start < max(3, w // 2):
        return None
    level, where = float(np.median(values[window])), int(np.median(steps[window]))
    expected = min(trend.at(where), before)
    if math.log(level) - math.log(expected) < band:
        return None
    near = np.flatnonzero(zs[low_at:] >= top - 0.1 * (top - base))
    reached = max(int(b_steps[low_at + int(near[0])]) if len(near) else onset, onset)
    return Held(onset, reached, how, before, math.exp(top), end, where, level, expected,
                (int(trend.since_step), int(steps[at - 1])), judge == len(steps) - 1)


def _falling(slope: float, fit: dict) -> bool:
    """Whether a fitted trend falls beyond the scatter of the windows it was fitted to (its slope LEVEL_Z
    standard errors below 0): a plateau's noise fits some slope, and extrapolated that slope takes the
    counterfactual below the level the loss has settled at."""
    xs, resid = fit.get("xs"), fit.get("resid")
    if slope >= 0 or xs is None or resid is None or len(xs) < 3:
        return False
    spread = float(np.sqrt(np.sum((xs - xs.mean()) ** 2)))
    error = float(np.std(resid, ddof=2)) / spread if spread > 0 else math.inf
    return slope < -LEVEL_Z * error
