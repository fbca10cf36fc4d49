"""A rise of a reconstruction loss said by what the data show of its start: dated no earlier than the lowest level
it rose from, and given to the discriminator when it began at the switch-on (REFERENCE §1c: the adversarial term
joins the autoencoder's loss there; its lever is disc_weight, not the learning rate a run had healthy before)."""

from __future__ import annotations

import numpy as np

from .. import position as pos
from ..checkpoints import checkpoint_before
from ..schedule import Schedule
from .knobs import chase_less, sentence, suggested_weight, weight_named


def not_before_minimum(steps: np.ndarray, values: np.ndarray, onset: int) -> int:
    """``onset`` moved to the lowest point between it and the peak after it, when that point lies below the one at
    the onset: a loss that went lower after it had not begun to rise there; else ``onset`` as dated."""
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    after = np.flatnonzero(steps >= onset)
    if len(after) < 3:
        return onset
    peak = after[0] + int(np.argmax(values[after]))
    low = after[0] + int(np.argmin(values[after[0]:peak + 1]))
    if low > after[0] and values[low] < values[after[0]]:
        return int(steps[low])
    return onset


def at_switch_on(onset: int, switch: int | None, every: int) -> bool:
    """A rise that began at the discriminator's switch-on (within one logging interval before its first logged
    step on): the adversarial term's, whatever else the run's config says."""
    return switch is not None and onset >= switch - every


def gan_cause(s: Schedule, switch: int) -> str:
    """The sentence that gives a rise begun at the switch-on to the adversarial term."""
    return (f" It began as the discriminator switched on (its first logged step on: {pos.at(s, switch)}), where "
            f"the adversarial term joins the loss: the lever is {weight_named(s)}, not the learning rate the run "
            "trained with before it.")


def gan_action(s: Schedule, switch: int) -> str:
    """Lower disc_weight, resuming from the checkpoint before the switch-on."""
    return f"{sentence(chase_less(s, suggested_weight(s)))}, resuming from {checkpoint_before(s, switch)}."
