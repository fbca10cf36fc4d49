"""The shapes a forecast's trend can take, and the choice between them by held-out fit.

Three shapes, each fitted to a stretch's window levels: a power law (log level linear in log step: a decay that
slows by itself), an exponential to a floor (level = floor + b x exp(-step / tau): a decay that levels off at a
floor, or a rise that saturates), and a flat level. The shape carried forward is the one that, fitted on the
earlier windows of the stretch, best predicts its later ones (``choose``); it is then refitted on every window.
Each shape is linear in its two coefficients given its regressor (``Shape.x``), so the forecast's bootstrap
refits any of them in closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

MODELS = ("power", "floor", "flat")
HELD_OUT = 4  # the latest windows the earlier ones are scored on
TAUS = np.geomspace(0.05, 20.0, 40)  # the floor's time constant, in lengths of the fitted stretch


@dataclass(frozen=True)
class Shape:
    """level = a + b x(step) (in log level where ``log_space``)."""

    model: str
    coef: tuple[float, float]
    log_space: bool
    tau: float = 1.0  # "floor": the time constant in steps
    origin: float = 0.0  # "floor": the step the exponential is counted from (exp(0) there: no overflow)

    def x(self, step: Any) -> Any:
        step = np.asarray(step, dtype=np.float64)
        if self.model == "power":
            return np.log(np.maximum(step, 1.0))
        if self.model == "floor":
            return np.exp(-np.maximum(step - self.origin, -50 * self.tau) / self.tau)
        return np.zeros_like(step)

    def y(self, step: Any) -> Any:
        """The fitted value in the fit's space (log level or level)."""
        return self.coef[0] + self.coef[1] * self.x(step)

    def at(self, step: Any) -> Any:
        y = self.y(step)
        return np.exp(y) if self.log_space else y

    def direction(self) -> int:
        """1 rising, -1 falling, 0 flat."""
        sign = int(np.sign(self.coef[1]))
        return -sign if self.model == "floor" else 0 if self.model == "flat" else sign

    def step_at(self, target: float) -> float | None:
        """The step at which the trend reaches ``target``, or None where it never does."""
        a, b = self.coef
        if self.log_space and not target > 0:
            return None
        level = math.log(target) if self.log_space else target
        if b == 0 or self.model == "flat":
            return None
        x = (level - a) / b
        if self.model == "power":
            return math.exp(min(x, 700.0))
        if not 0 < x:  # beyond the floor the curve levels off at
            return None
        return self.origin - self.tau * math.log(x)


def fit_shape(model: str, t: np.ndarray, levels: np.ndarray, floor: float | None) -> Shape | None:
    """``model`` fitted by least squares to window levels ``levels`` at steps ``t``; ``floor``: the level no loss
    here goes below (0 for a loss never negative), which the floor model's asymptote must respect."""
    positive = bool(np.all(levels > 0))
    if model == "power":
        x = np.log(np.maximum(t, 1.0))
        y = np.log(levels) if positive else levels
        if np.ptp(x) == 0:
            return None
        b, a = np.polyfit(x, y, 1)
        return Shape("power", (float(a), float(b)), positive)
    if model == "flat":
        y = np.log(levels) if positive else levels
        return Shape("flat", (float(np.mean(y)), 0.0), positive)
    span = float(t[-1] - t[0])
    if span <= 0:
        return None
    # every time constant of the grid at once: least squares of the levels on exp(-(t - t0) / tau), in closed form
    taus = TAUS * span
    g = np.exp(-(t - t[0])[None, :] / taus[:, None])
    gc = g - g.mean(axis=1, keepdims=True)
    spread = (gc * gc).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = gc @ (levels - levels.mean()) / spread
    a = levels.mean() - b * g.mean(axis=1)
    rss = ((levels[None, :] - a[:, None] - b[:, None] * g) ** 2).sum(axis=1)
    # no asymptote below what the loss can reach
    rss[~(spread > 0) | ~np.isfinite(rss) | ((a < floor) if floor is not None else False)] = np.inf
    best = int(np.argmin(rss))
    if not np.isfinite(rss[best]):
        return None
    return Shape("floor", (float(a[best]), float(b[best])), False, tau=float(taus[best]), origin=float(t[0]))


def regression(shape: Shape, t: np.ndarray, levels: np.ndarray, now: float) -> dict[str, Any]:
    """What the interval's bootstrap refits: the regressor at the windows (``xs``) and now, the levels in the fit's
    space (``y``), the residuals."""
    y = np.log(levels) if shape.log_space else levels
    return {"xs": shape.x(t), "y": y, "resid": y - shape.y(t), "x_now": float(shape.x(now))}


def held_out_error(shape: Shape, t: np.ndarray, levels: np.ndarray) -> float:
    """The mean relative error of ``shape``'s prediction of the windows ``levels`` at ``t``."""
    predicted = shape.at(t)
    if np.all(levels > 0):
        if not np.all(predicted > 0):
            return math.inf
        return float(np.mean(np.abs(np.log(predicted / levels))))
    return float(np.mean(np.abs(predicted - levels))) / max(float(np.median(np.abs(levels))), 1e-300)


def choose(t: np.ndarray, levels: np.ndarray, floor: float | None, models: tuple[str, ...] = MODELS
           ) -> list[Shape]:
    """Every shape, refitted on every window, best first: ranked by how well each, fitted on all but the latest
    ``HELD_OUT`` windows, predicts those (the first listed wins a tie)."""
    k = len(t) - HELD_OUT
    errors: dict[str, float] = {}
    for model in models:
        shape = fit_shape(model, t[:k], levels[:k], floor) if k >= 3 else None
        errors[model] = held_out_error(shape, t[k:], levels[k:]) if shape is not None else math.inf
    ranked = [fit_shape(model, t, levels, floor) for model in sorted(models, key=lambda name: errors[name])]
    return [shape for shape in ranked if shape is not None] or [Shape("flat", (float(np.mean(levels)), 0.0), False)]
