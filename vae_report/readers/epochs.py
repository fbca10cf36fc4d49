"""A step counter that starts over at every epoch (mmcv's ``iter``, a CSV's ``epoch,step`` with ``step`` the batch
in the epoch), continued across epochs. Shared by the JSON and CSV readers: without it the epochs' points land on
the same few steps and all but the last epoch's are lost."""

from __future__ import annotations

import math

import numpy as np


def epoch_length(counter: np.ndarray) -> int:
    """An epoch's length in counter units: the counter's span within an epoch rounded up to its logging interval
    (0..990 by 10 and 10..1000 by 10 are both 1,000: the next epoch begins one interval after the last value)."""
    rises = np.diff(counter)[np.diff(counter) > 0]
    every = float(np.median(rises)) if len(rises) else 1.0
    low, high = float(np.nanmin(counter)), float(np.nanmax(counter))
    return int(math.ceil((high - low + 1) / every) * every)


def continued_across_epochs(steps: np.ndarray, epochs: np.ndarray) -> tuple[np.ndarray, int] | None:
    """(steps continued across epochs, the epoch's length), or None when the counter does not restart with the
    epoch: it must fall back at least once, every fall must come with a rise of the epoch, and the epoch must
    never go back (a relaunch appended to the file is another case: a launch, not an epoch)."""
    known = np.isfinite(steps) & np.isfinite(epochs)
    s, e = steps[known], epochs[known]
    if len(s) < 2:
        return None
    falls = np.diff(s) < 0
    if not falls.any() or (np.diff(e) < 0).any() or not (np.diff(e)[falls] > 0).all():
        return None
    length = epoch_length(s)
    out = np.full(len(steps), np.nan)
    out[known] = (e - float(np.nanmin(e))) * length + s
    return out, length


def continued_note(counter: str, length: int) -> str:
    """The sources' note for a counter continued across epochs."""
    return (f"{counter} restarts at every epoch: continued across epochs ({length:,} per epoch: its span within an "
            "epoch, rounded up to the logging interval)")
