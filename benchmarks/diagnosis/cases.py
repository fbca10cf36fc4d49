"""The synthetic runs of the battery: a healthy shape, an optional fault edit, a layout, and the verdict an
expert gives (see README.md for the reasoning behind each)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .curves import Shape, d_loss, healthy, ramp, recompute
from .expect import Expect
from .layouts import emit

LOSSES = ("total_loss", "nll_loss", "rec_loss")


@dataclass(frozen=True)
class Case:
    name: str
    klass: str  # the issue-8 class it exercises
    layout: str
    shape: Shape
    expect: Expect
    fault: Callable | None = None  # (steps, v, shape) -> extra emit kwargs or None
    source: str = "synthetic"

    def build(self, folder: Path) -> None:
        steps, v = healthy(self.shape)
        extra = self.fault(steps, v, self.shape) if self.fault else None
        recompute(self.shape, v)
        if self.fault is not None and hasattr(self.fault, "after"):
            self.fault.after(steps, v, self.shape)
        emit(folder, self.layout, self.shape, steps, v, **(extra or {}))


def tol(shape: Shape, frac: float = 0.05) -> int:
    return max(3 * shape.every, int(frac * shape.last_step))


# --- fault edits (each changes only what the fault changes; nll/total are recomputed from the parts) ---

def explode(metric: str, onset: int, factor: float) -> Callable:
    def edit(steps, v, shape):
        v[metric] = v[metric] * ramp(steps, onset, shape.last_step, factor)
    return edit


def lr_edit(kind: str, at: int, factor: float = 100.0) -> Callable:
    def edit(steps, v, shape):
        after = steps >= at
        i = int(np.argmax(after))
        if kind == "zero":
            v["lr"] = np.where(after, 0.0, v["lr"])
        elif kind == "freeze":
            v["lr"] = np.where(after, v["lr"][i], v["lr"])
        else:
            v["lr"] = np.where(after, v["lr"] * factor, v["lr"])
        if kind == "zero":  # nothing learns: rec stops falling at its level, batch noise stays
            level = v["rec_loss"][max(0, i - 5):i + 1].mean()
            noise = np.exp(0.04 * np.random.default_rng(1).standard_normal(len(steps)))
            v["rec_loss"] = np.where(after, level * noise, v["rec_loss"])
    return edit


def stall(at: int) -> Callable:
    """lr 0 and every metric frozen to the value it had (a run that repeats its last state)."""
    def edit(steps, v, shape):
        v["lr"] = np.where(steps >= at, 0.0, v["lr"])

    def after(steps, v, shape):
        i = int(np.argmax(steps >= at))
        for key in v:
            if key != "lr":
                v[key] = np.where(steps >= at, v[key][i], v[key])
    edit.after = after
    return edit


def d_frozen(lr_disc_zero: bool = False) -> Callable:
    """D never updates: real and fake logits identical and constant, hinge loss exactly 1."""
    def edit(steps, v, shape):
        on = steps >= shape.disc_start
        v["logits_real"] = np.where(on, 0.0123, v["logits_real"])
        v["logits_fake"] = np.where(on, 0.0123, v["logits_fake"])
        v["disc_loss"] = np.where(on, 1.0, 0.0)
        if lr_disc_zero:
            v["lr_disc"] = np.zeros(len(steps))
    return edit


def generator_wins(onset: int) -> Callable:
    def edit(steps, v, shape):
        x = np.clip((steps - onset) / max(1, shape.last_step - onset), 0, 1)
        rng = np.random.default_rng(7)
        v["d_weight"] = np.where(steps >= onset, 150 * (17_000 / 150) ** x, 150) * np.exp(
            0.1 * rng.standard_normal(len(steps)))
        v["logits_fake"] = np.where(steps >= onset, v["logits_fake"] + 0.9 * x, v["logits_fake"])
        v["logits_real"] = np.where(steps >= onset, v["logits_real"] - 0.55 * x, v["logits_real"])
        d = d_loss(shape.disc_loss, v["logits_real"], v["logits_fake"])  # hinge -> ~1.8, above chance
        v["disc_loss"] = np.where(steps >= onset, d, v["disc_loss"])
        v["g_loss"] = np.where(steps >= onset, -v["logits_fake"], v["g_loss"])
    return edit


def d_overpowers(onset: int, spread: float = 2.2) -> Callable:
    def edit(steps, v, shape):
        x = np.clip((steps - onset) / max(1, (shape.last_step - onset) // 3), 0, 1)
        after = steps >= onset
        v["logits_real"] = np.where(after, v["logits_real"] + spread * x, v["logits_real"])
        v["logits_fake"] = np.where(after, v["logits_fake"] - spread * x, v["logits_fake"])
        v["disc_loss"] = np.where(after, d_loss(shape.disc_loss, v["logits_real"], v["logits_fake"]), v["disc_loss"])
        v["g_loss"] = np.where(after, -v["logits_fake"], v["g_loss"])
    return edit


def pin_d_weight(onset: int) -> Callable:
    def edit(steps, v, shape):
        v["d_weight"] = np.where(steps >= onset, 1e4 * shape.disc_weight, v["d_weight"])
    return edit


def kl_collapse(onset: int) -> Callable:
    def edit(steps, v, shape):
        v["kl_loss"] = v["kl_loss"] * np.where(steps >= onset, np.maximum(1e-4, ramp(steps, onset, onset + (
            shape.last_step - onset) // 4, 1e-4)), 1)
    return edit


def lr_constant(steps, v, shape):
    """A scheduler that never stepped: the config's lr at every step."""
    v["lr"] = np.full(len(steps), shape.lr)


def lr_scaled(factor: float) -> Callable:
    def edit(steps, v, shape):
        v["lr"] = v["lr"] * factor
    return edit


def collapse_with_worse_rec(onset: int) -> Callable:
    """Posterior collapse at ``onset``, reconstruction ~3x worse from there on, for the rest of the run."""
    def edit(steps, v, shape):
        v["kl_loss"] = v["kl_loss"] * np.where(steps >= onset, np.maximum(1e-3, ramp(steps, onset, onset + (
            shape.last_step - onset) // 20, 1e-3)), 1)
        v["rec_loss"] = v["rec_loss"] * ramp(steps, onset, onset + (shape.last_step - onset) // 20, 3.0)
    return edit


def zero(metric: str, since: int = 0) -> Callable:
    """A term exactly 0 from ``since`` on (KL not computed; the adaptive weight's eval-mode 0)."""
    def edit(steps, v, shape):
        v[metric] = np.where(steps >= since, 0.0, v[metric])
    return edit


def nan_at(step: int) -> Callable:
    def after(steps, v, shape):
        i = int(np.argmax(steps >= step))
        for key in ("total_loss", "nll_loss", "rec_loss", "kl_loss", "g_loss"):
            if key in v:
                v[key][i] = math.nan

    def edit(steps, v, shape):
        return None
    edit.after = after
    return edit


def disc_never_on(steps, v, shape):
    v["disc_factor"] = np.zeros(len(steps))
    v["disc_loss"] = np.zeros(len(steps))
    v["g_loss"] = 0.25 + 0.05 * np.random.default_rng(3).standard_normal(len(steps))


def validation(overfit_at: int | None, every_val: int) -> Callable:
    """val/rec_loss every ``every_val`` steps: train x 1.1, or rising from ``overfit_at`` while train falls."""
    def edit(steps, v, shape):
        val = v["rec_loss"] * 1.1
        if overfit_at is not None:
            val = val * ramp(steps, overfit_at, shape.last_step, 3.0)
        val = np.where(steps % every_val == 0, val, np.nan)
        return {"val": {"val/rec_loss": val}, "val_check_interval": every_val}
    return edit


def no_validation(every_val: int) -> Callable:
    def edit(steps, v, shape):
        return {"val_check_interval": every_val}
    return edit


def round_lr(steps, v, shape):
    """lr as RadioDiff's text log prints it ({:.5f}), then parsed back into a CSV."""
    v["lr"] = np.array([float(f"{x:.5f}") for x in v["lr"]])


def half_step_unit(steps, v, shape):
    return {"step_scale": 2}
