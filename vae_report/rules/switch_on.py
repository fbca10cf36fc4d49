"""A rise of a reconstruction loss said by what the data show of its start: dated no earlier than the lowest level
it rose from, and given to the discriminator when it began at the switch-on (REFERENCE §1c: the adversarial term
joins the autoencoder's loss there; its lever is disc_weight, not the learning rate a run had healthy before)."""

from __future__ import annotations

import numpy as np

from .. import position as pos
from ..checkpoints import checkpoint_before
from ..schedule import Schedule
from ..stats import SIDE_POINTS, level_changed
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


# logging intervals before the discriminator's first logged step on that a rise dated there may begin and still be
# the switch-on's: the last point off, and the two by which the departure from the best level (current.departure,
# on the points smoothed over 5) can date a step up early
EARLY = 3


def at_switch_on(steps: np.ndarray, values: np.ndarray, onset: int, switch: int | None, every: int) -> bool:
    """Whether a rise dated at ``onset`` began at the discriminator's switch-on, and is the adversarial term's
    whatever else the run's config says: dated within EARLY logging intervals before its first logged step on, or
    dated earlier while the level had not changed before the switch-on (the points from the onset to it against
    as many before the onset: stats.level_changed, a difference of medians over SIDE_POINTS or more a side; a
    best level that was the noise's lowest excursion dates the departure from it early)."""
    if switch is None:
        return False
    if onset >= switch - EARLY * every:
        return True
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    since = values[(steps >= onset) & (steps < switch)]
    prior = values[steps < onset][-max(len(since), SIDE_POINTS):]
    return not level_changed(prior, since)


def gan_cause(s: Schedule, switch: int) -> str:
    """The sentence that gives a rise begun at the switch-on to the adversarial term."""
    return (f" It began as the discriminator switched on (its first logged step on: {pos.at(s, switch)}), where "
            f"the adversarial term joins the loss: the lever is {weight_named(s)}, not the learning rate the run "
            "trained with before it.")


def gan_action(s: Schedule, switch: int) -> str:
    """Lower disc_weight, resuming from the checkpoint before the switch-on."""
    return f"{sentence(chase_less(s, suggested_weight(s)))}, resuming from {checkpoint_before(s, switch)}."
