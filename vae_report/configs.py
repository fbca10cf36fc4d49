"""Training configs as plain nested mappings: the one way they are flattened to dotted keys, shared by the
schedule loader, the store readers' configs and ``compare``'s config diff."""

from __future__ import annotations

from typing import Any

# where a config says how many optimizer steps an epoch holds
STEPS_PER_EPOCH = ("steps_per_epoch", "iters_per_epoch", "iterations_per_epoch", "num_iters_per_epoch",
                   "batches_per_epoch", "num_steps_per_epoch", "epoch_length", "len_epoch")
# where a config gives the run's length in epochs
EPOCHS = ("max_epochs", "epochs", "num_epochs", "n_epochs", "train_epochs", "nepochs")


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings and lists as dotted paths: ``{"model": {"lossconfig": {"disc_weight": 0.5}}}`` ->
    ``{"model.lossconfig.disc_weight": 0.5}``."""
    if isinstance(config, dict):
        out: dict[str, Any] = {}
        for key, value in config.items():
            out.update(flatten(value, f"{prefix}{key}." if prefix or key else ""))
        return out if out or not prefix else {prefix[:-1]: {}}
    return {prefix[:-1] if prefix.endswith(".") else prefix: config}
