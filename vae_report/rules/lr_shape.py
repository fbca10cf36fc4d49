"""A logged learning-rate curve read as it is: put into words ("linear decay from 1e-04 to 1e-06 over steps
0-20,000") for a schedule no config names (described, never judged against one the run was not given), and the
decimals it was printed with (a precision artefact is no schedule)."""

from __future__ import annotations

import numpy as np

from .. import position as pos
from ..numbers import counted, fmt
from ..schedule import Schedule

VERBS = {"linear": "decays linearly", "cosine": "follows a cosine decay", "exponential": "decays exponentially",
         "step": "decays in steps"}


def _fit_error(y: np.ndarray, model: np.ndarray) -> float:
    """The largest deviation of ``model`` from ``y``, relative to the curve's range."""
    span = float(np.ptp(y)) or 1.0
    return float(np.max(np.abs(y - model))) / span


def _decay_kind(x: np.ndarray, y: np.ndarray) -> str:
    """linear, cosine, exponential, step or "" (none of them), for a falling stretch from y[0] to y[-1]."""
    top, bottom = float(y[0]), float(y[-1])
    u = (x - x[0]) / max(1.0, float(x[-1] - x[0]))
    shapes = {"linear": top + (bottom - top) * u,
              "cosine": bottom + (top - bottom) * 0.5 * (1 + np.cos(np.pi * u))}
    if bottom > 0 and top > 0:
        shapes["exponential"] = top * (bottom / top) ** u
    errors = {name: _fit_error(y, model) for name, model in shapes.items()}
    name = min(errors, key=errors.get)
    if errors[name] <= 0.03:
        return name
    levels = np.unique(np.round(y / max(abs(top), 1e-300), 6))
    return "step" if len(levels) <= 12 else ""


def describe_lr(steps: np.ndarray, lr: np.ndarray, s: Schedule | str, tolerance: float = 0.01) -> str:
    """The shape of a logged learning rate in one clause: constant, a warm-up, a decay (and its kind), a rise."""
    if not len(lr):
        return "is not logged"
    top = float(np.max(np.abs(lr))) or 1.0
    if float(np.ptp(lr)) <= tolerance * top:
        return f"is constant at {fmt(float(np.median(lr)))} from {pos.at(s, int(steps[0]))} to {fmt(int(steps[-1]))}"
    parts = []
    peak = int(np.argmax(lr))
    if peak > 0 and lr[0] < (1 - tolerance) * lr[peak]:
        # where the warm-up reaches its top: the first point within tolerance of the peak
        reached = int(np.flatnonzero(lr >= (1 - tolerance) * lr[peak])[0])
        if lr[reached - 1] <= (1 + tolerance) * lr[0]:  # held, then one jump: a step up, no warm-up
            parts.append(f"holds {fmt(float(lr[0]))} to {pos.at(s, int(steps[reached - 1]))}")
            parts.append(f"steps up x{fmt(round(float(lr[reached] / lr[0]), 2))} to {fmt(float(lr[reached]))} at "
                         f"{pos.at(s, int(steps[reached]))}" if lr[0] > 0 else
                         f"steps up to {fmt(float(lr[reached]))} at {pos.at(s, int(steps[reached]))}")
        else:
            parts.append(f"warms up from {fmt(float(lr[0]))} to {fmt(float(lr[peak]))} over "
                         f"{pos.span(s, int(steps[0]), int(steps[reached]))}")
        peak = reached
    rest_steps, rest = steps[peak:], lr[peak:]
    # warm restarts (SGDR, a cyclic schedule): the rate climbs back more than half its range from one point to
    # the next, again and again; a decay read over the whole run would hide them
    restarts = np.flatnonzero(np.diff(rest) > 0.5 * float(np.ptp(rest))) + 1 if len(rest) >= 3 else []
    if len(restarts) >= 2:
        first, last = int(rest_steps[restarts[0]]), int(rest_steps[restarts[-1]])
        parts.append(f"decays from {fmt(float(rest[0]))} to {fmt(float(rest[:restarts[0]].min()))} and restarts "
                     f"{counted(len(restarts), 'time')}, each back to about {fmt(float(np.median(rest[restarts])))} "
                     f"(the first at {pos.at(s, first)}, the last at {pos.at(s, last)}), ending at "
                     f"{fmt(float(rest[-1]))}")
    elif len(rest) >= 3 and float(np.ptp(rest)) > tolerance * top:
        falling = np.flatnonzero(rest < (1 - tolerance) * rest[0])
        if len(falling) and rest[-1] < rest[0]:
            # a decay from the top on, or a hold and then a decay from where it first falls
            kind = _decay_kind(rest_steps.astype(float), rest)
            # the last point still at the top (a logged lr is exact: the first that is below it begins the decay)
            begin = 0 if kind else max(0, int(np.flatnonzero(rest < rest[0] * (1 - 1e-6))[0]) - 1)
            if begin > 0:
                parts.append(f"holds {fmt(float(rest[0]))} to {pos.at(s, int(rest_steps[begin]))}")
                kind = _decay_kind(rest_steps[begin:].astype(float), rest[begin:])
            parts.append(f"{VERBS.get(kind, 'decays')} from {fmt(float(rest[begin]))} to {fmt(float(rest[-1]))} over "
                         f"{pos.span(s, int(rest_steps[begin]), int(rest_steps[-1]))}")
        else:
            parts.append(f"moves between {fmt(float(rest.min()))} and {fmt(float(rest.max()))} after "
                         f"{pos.at(s, int(rest_steps[0]))}, ending at {fmt(float(rest[-1]))}")
    elif parts:
        parts.append(f"holds {fmt(float(np.median(rest)))}")
    return ", then ".join(parts) if parts else (f"moves between {fmt(float(lr.min()))} and {fmt(float(lr.max()))}")


# readers that store a float as the trainer held it: nothing they read was printed with a few decimals
BINARY = ("tensorboard", "wandb", "mlflow")


def may_be_printed(kind: str) -> bool:
    """Whether a metric read by ``kind`` (Metrics.kinds; "" unknown) can have been printed as text."""
    return not any(part in BINARY for part in kind.split(" + "))


def printed_decimals(lr: np.ndarray, kind: str = "") -> int | None:
    """The decimals an lr was printed with, when its values are a few multiples of 10^-d (d <= 6) that a real
    rate's decay would not give: RadioDiff's text log prints lr with ``{:.5f}`` (0.00001, then 0.00000). None
    where ``kind``, the reader that read it (Metrics.kinds), stores floats (BINARY): its 0 and 1e-4 are the
    values the trainer logged, not a print's rounding."""
    values = np.unique(lr)
    if len(values) > 3 or not may_be_printed(kind):
        return None
    for d in range(0, 7):
        scaled = values * 10**d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6) and np.all(np.round(scaled) <= 9):
            return d
    return None


JUMP = 10.0  # a change of the logged lr by this factor or more from one logged point to the next is a jump


def lr_jumps(steps: np.ndarray, lr: np.ndarray, factor: float = JUMP) -> list[tuple[int, float, float]]:
    """(step, before, after) wherever the logged lr changes by ``factor`` or more, up or down, from one finite
    logged point to the next; a move to or from 0 is none (a warm-up from 0, or the drop to 0 said as its own)."""
    good = np.isfinite(lr)
    steps, lr = steps[good], lr[good]
    if len(lr) < 2:
        return []
    a, b = lr[:-1], lr[1:]
    with np.errstate(all="ignore"):
        ratio = np.abs(b / a)
    # a float32 rate (TensorBoard's scalars) puts gamma 0.1's x10 at 9.99999977: a relative tolerance of 1e-6
    hit = (a != 0) & (b != 0) & ((ratio >= factor * (1 - 1e-6)) | (ratio <= (1 + 1e-6) / factor))
    return [(int(steps[i + 1]), float(a[i]), float(b[i])) for i in np.flatnonzero(hit)]
