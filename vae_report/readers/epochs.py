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


def logged_epoch_length(steps: np.ndarray, epochs: np.ndarray) -> tuple[int, int] | None:
    """(steps an epoch holds, how far either way it may be off), from a log that writes the epoch beside a global
    step (Lightning's ``epoch`` column or tag, mmengine's ``epoch`` beside ``step``). Each boundary between two
    epochs is only known to lie between an epoch's last logged step and the next one's first; the lengths that put
    every boundary inside its gap are the candidates. None unless two epochs are whole in the log, the epoch never
    goes back, and the candidates agree to within 1% (epochs of varying size have none; a log every few epochs
    leaves too many): their middle is taken."""
    known = np.isfinite(steps) & np.isfinite(epochs)
    s, e = steps[known].astype(np.float64), np.round(epochs[known]).astype(np.int64)
    if len(s) < 3 or (np.diff(e) < 0).any() or (np.diff(s) < 0).any():
        return None
    values = np.unique(e)
    if len(values) == len(e) and (np.diff(e) == 1).all():
        # one point an epoch, each at the same place in its epoch (Lightning's epoch-end row): the steps between
        # them are the epoch's length, exactly where they never vary
        spacing = np.diff(s)
        if spacing[0] > 0 and (spacing == spacing[0]).all():
            return int(spacing[0]), 0
    firsts = dict(zip(values.tolist(), s[np.searchsorted(e, values, side="left")].tolist(), strict=True))
    lasts = dict(zip(values.tolist(), s[np.searchsorted(e, values, side="right") - 1].tolist(), strict=True))
    # the boundary before epoch v + 1: lasts[v] < boundary <= firsts[v + 1]
    gaps = [(v + 1, lasts[v], firsts[v + 1]) for v in values.tolist() if v + 1 in firsts]
    if len(gaps) < 2:
        return None
    (e0, low0, high0), (e1, low1, high1) = gaps[0], gaps[-1]
    apart = e1 - e0
    lowest, highest = max(1, math.floor((low1 - high0) / apart)), math.ceil((high1 - low0) / apart)
    if highest - lowest > 10_000:
        return None  # a handful of points an epoch: far too loose to count candidates
    fits = [length for length in range(lowest, highest + 1)
            if max(low - (v - e0) * length for v, low, _ in gaps)
            < min(high - (v - e0) * length for v, _, high in gaps)]
    if not fits or fits[-1] - fits[0] > 0.01 * fits[0]:
        return None
    middle = (fits[0] + fits[-1]) // 2
    return middle, max(middle - fits[0], fits[-1] - middle)
