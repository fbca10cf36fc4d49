"""What the logs say about a fault's usual suspects, for an action that advises only what the evidence points
to: did the learning rate change where a fault began, was there a NaN near it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..numbers import fmt
from ..schedule import Schedule
from .base import Metrics
from .lr_shape import lr_jumps

RISE = 1.5  # the lr this many times its earlier level at a fault's onset: a likely cause


@dataclass(frozen=True)
class LrAcross:
    """The logged learning rate around a fault's onset: its level before (the stretch before the onset) and at it."""

    before: float
    at: float

    @property
    def rose(self) -> bool:
        return self.before > 0 and self.at >= RISE * self.before or self.before == 0 < self.at

    def said(self) -> str:
        if self.rose:
            return f"the learning rate rose from {fmt(self.before)} to {fmt(self.at)} just before it"
        if self.at < self.before / RISE:
            return f"the learning rate fell from {fmt(self.before)} to {fmt(self.at)} there"
        return f"the learning rate held at {fmt(self.at)} across it"


def lr_across(m: Metrics, s: Schedule, onset: int) -> LrAcross | None:
    """The logged lr just before ``onset`` (its last tenth of points there, at least 3) against its level over
    the stretch before that (as long again); None when lr is not logged or has too few points before it."""
    if not m.has("lr"):
        return None
    steps, values = m.window("lr", hi=onset + 1)
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    if len(values) < 6:
        return None
    k = max(3, len(values) // 10)
    at = float(np.median(values[-k:]))
    before = float(np.median(values[-3 * k:-k]))
    return LrAcross(before, at)


def lr_blamed(m: Metrics, s: Schedule, onset: int) -> str | None:
    """Why a lower learning rate would help with a fault that began at ``onset``, from the logs: the lr rose just
    before it, or runs far above the config's; None when nothing points at the lr."""
    found = lr_across(m, s, onset)
    if found is not None and found.rose:
        return found.said()
    if found is not None and s.lr and found.at > 2 * s.lr:
        times = fmt(round(found.at / s.lr, 1))
        return f"the learning rate there, {fmt(found.at)}, is {times} times the config's {fmt(s.lr)}"
    return None


def lr_jump_before(m: Metrics, onset: int, factor: float = 2.0) -> tuple[int, float, float] | None:
    """(step, from, to) of the largest rise of the logged lr from one logged point to the next, ``factor``-fold or
    more (lr_shape.lr_jumps, the figures' jumps at their own factor), within the stretch before ``onset`` (5% of
    the run, at least 20 of its logging intervals): a jump of the rate just before a fault is its likely cause,
    whatever the lr's level over longer stretches."""
    if not m.has("lr"):
        return None
    steps, values = m.steps("lr"), m.values("lr")
    good = np.isfinite(values)
    if good.sum() < 3:
        return None
    every = float(np.median(np.diff(steps[good])))
    lo = onset - max(0.05 * m.last_step(), 20 * every)
    rises = [j for j in lr_jumps(steps, values, factor) if lo <= j[0] <= onset and j[2] > j[1] > 0]
    return max(rises, key=lambda j: j[2] / j[1], default=None)


def jump_said(jump: tuple[int, float, float], unit_at: str) -> str:
    """"the logged learning rate jumped from 1.87e-06 to 0.005 (x2,700) at step 12,900"."""
    _, before, after = jump
    return (f"the logged learning rate jumped from {fmt(before)} to {fmt(after)} "
            f"(x{fmt(float(f'{after / before:.2g}'))}) at {unit_at}")

