"""The schedule's settings as a report states them: which it shows, each value as the run means it (a milestone in
the logs' unit, LDM's base_learning_rate named as such) and where it came from. One run's Configuration table and a
comparison of runs whose configs are laid out differently say them alike."""

from __future__ import annotations

from .numbers import fmt
from .rules.knobs import ldm_scaling

CONFIG_KEYS = ("disc_start", "kl_weight", "codebook_weight", "disc_weight", "disc_factor", "total_steps", "lr",
               "min_lr", "log_every", "checkpoint_every", "val_every", "grad_clip")


def config_keys(schedule) -> list[str]:
    """The schedule values the configuration table shows, in order: the regularizer's weight that this model has,
    val_every only when the config runs validation, grad_clip only when it clips the gradient's norm."""
    skip = {"codebook_weight" if schedule.regularizer != "vq" else "kl_weight"}
    if schedule.val_every is None:
        skip.add("val_every")
    if schedule.grad_clip is None:
        skip.add("grad_clip")
    return [key for key in CONFIG_KEYS if key not in skip]


def setting_value(s, key: str) -> str:
    """A setting's value as the run means it: a milestone in the logs' unit says so where that is not steps; LDM's
    lr is the config's base_learning_rate, not the rate run."""
    shown = fmt(getattr(s, key))
    if key == "lr" and s.lr is not None and s.layout in ("ldm", "sgm"):
        return f"{shown} (base_learning_rate, {ldm_scaling(s)})"
    return f"{shown} {s.counts}s" if key in ("disc_start", "total_steps") and getattr(s, key) is not None \
        and s.counts != "step" else shown


def setting_origin(s, key: str) -> str:
    """Where a setting's value came from: its config file (with a unit conversion made), a loss's default, the
    command line or the data; "not set" where nothing gave it."""
    return s.origins.get(key, "not set")
