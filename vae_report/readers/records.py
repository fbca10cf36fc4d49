"""From a console log's counted lines to points: the lines a record spans, its step, its split, its launch.

A record is a line with the step counter the log uses, plus what belongs to it without a counter of its own:
the indented ``  kl: 2.1`` lines under an ``Epoch 21/2000`` header, the ``====> Test set loss: 0.13`` line right
after ``====> Epoch: 3 Average loss: 0.12``, and, in a log counted in steps or batches, an epoch's summary line
(``Epoch 3 Average gen loss = nan``: an ``*_epoch`` series at the epoch's last step). A log whose counter goes
back (``>> train.log`` twice, or a resume from an older checkpoint) holds several launches; each is handed to
the merge as its own part, to be judged as separate files are.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..frame import canonical_name

# a line about validation or test data: its metrics are val/... (the bar's description, the record's words)
VALIDATION = re.compile(r"\b(?:val|valid|validation|validating|test|testing|eval|evaluation|evaluating)\b",
                        re.IGNORECASE)
_SPLIT_WORDS = {"val", "valid", "validation", "test", "eval", "evaluation", "set", "data"}
# an epoch's summary words before a metric's name: "Average loss", "avg gen loss", "mean kl"
_SUMMARY_WORDS = {"average", "avg", "mean", "epoch"}
# a line's leading date and time: ISO or mmengine's "2026/01/05 09:30:41"; detectron2's "[01/07 00:00:04 d2...]"
# leaves the year out
_STAMP = re.compile(r"^\[?(?:(?P<date>\d{4}[-/]\d\d[-/]\d\d)|(?P<month_day>\d\d/\d\d))[ T]"
                    r"(?P<clock>\d\d:\d\d:\d\d(?:[.,]\d+)?)")


@dataclass
class Record:
    """One counted line (or a line that belongs to one): where it is, its step and how its keys are named."""

    line: int
    step: int
    tail: str  # the text holding its pairs
    split: str = ""  # "val" for a validation or test line
    epoch_summary: bool = False  # an epoch-level line beside per-batch lines: its series are *_epoch


def metric_name(key: str, record: Record) -> str:
    """A key as the frame names it: ``val/`` for a validation line's terms (``Test set loss`` -> ``val/loss``),
    ``_epoch`` for an epoch summary's (``Average gen loss`` -> ``gen_loss_epoch``)."""
    named = canonical_name(key)
    if record.split and named.split("/", 1)[0] in ("val", "val_ema") and "/" in named:
        return named + ("_epoch" if record.epoch_summary else "")  # "val/rec_loss" under a record: already split
    words = key.replace("_", " ").split() if record.split or record.epoch_summary else [key]
    if record.epoch_summary:
        kept = [w for w in words if w.lower() not in _SUMMARY_WORDS]
        words = kept or words
    if record.split:
        kept = [w for w in words if w.lower() not in _SPLIT_WORDS]
        words = kept or words
    name = "_".join(words)
    if record.epoch_summary:
        name += "_epoch"
    return canonical_name(f"val/{name}" if record.split else name)


def launches(steps: np.ndarray) -> np.ndarray:
    """Each record's launch: a new one begins where the counter goes back (a relaunch appended to the same file,
    a resume from an older checkpoint)."""
    if not len(steps):
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(([0], np.cumsum(steps[1:] < steps[:-1])))


def continued(steps: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """A counter that starts over (a new epoch's bar) continued from the previous bar's total."""
    restarts = np.flatnonzero(steps[1:] < steps[:-1]) + 1
    added = np.zeros(len(steps), dtype=np.int64)
    added[restarts] = totals[restarts - 1]
    return steps.astype(np.int64) + np.cumsum(added)


def walls(lines: pd.Series) -> np.ndarray:
    """A leading date-time stamp on a line, as local epoch seconds (NaN where a line has none)."""
    found = lines.str.extract(_STAMP)
    if found["clock"].isna().all():
        return np.full(len(lines), np.nan)
    dates = found["date"].str.replace("/", "-", regex=False)
    if dates.isna().all():  # month and day only: the latest year that puts them no later than now
        now = dt.datetime.now()
        year = now.year - int(str(found["month_day"].dropna().iloc[-1]) > now.strftime("%m/%d"))
        dates = str(year) + "-" + found["month_day"].str.replace("/", "-", regex=False)
    stamps = dates + " " + found["clock"]
    parsed = pd.to_datetime(stamps.str.replace(",", ".", regex=False), errors="coerce", format="ISO8601")
    local = dt.datetime.now().astimezone().tzinfo
    parsed = parsed.dt.tz_localize(local, ambiguous="NaT", nonexistent="shift_forward")
    seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=np.float64)
    return np.where(parsed.isna().to_numpy(), np.nan, seconds)


# a progress bar redrawn between postfix updates repeats every value of its last update at each new step: where
# this share of a kind of record or more repeats the one before it, in this many held stretches or more, the
# repeats are redraws (a log that prints at distinct events rarely repeats every value exactly; a stalled run
# repeats them in one stretch, at its end)
REDRAWN_SHARE = 0.5
REDRAWN_STRETCHES = 10


def redraws(recs: list[Record], signatures: list[tuple]) -> np.ndarray:
    """Which records are redraws to drop: a record whose every (key, printed value) pair, ``signatures[i]``, is
    that of the record of its kind before it (same keys, split and summary flag), at a later step, in a kind of
    record that does so for REDRAWN_SHARE of its records over REDRAWN_STRETCHES held stretches or more. A value set
    is kept at the step it first appeared; one held far longer than the log's update period (twice the median
    stretch: a run stalled under a bar) is kept again every two periods, so a value that really held still shows."""
    drop = np.zeros(len(recs), dtype=bool)
    groups: dict[tuple, list[int]] = {}
    for i, (rec, sig) in enumerate(zip(recs, signatures, strict=True)):
        if sig:
            groups.setdefault((rec.split, rec.epoch_summary, tuple(k for k, _ in sig)), []).append(i)
    for members in groups.values():
        steps = np.array([recs[i].step for i in members])
        same = np.array([j > 0 and signatures[members[j]] == signatures[members[j - 1]] and steps[j] > steps[j - 1]
                         for j in range(len(members))], dtype=bool)
        starts = np.flatnonzero(~same)
        held = int(np.sum(np.diff(np.append(starts, len(members))) > 1))
        if same.mean() < REDRAWN_SHARE or held < REDRAWN_STRETCHES:
            continue
        period = float(np.median(np.diff(steps[starts]))) if len(starts) > 1 else np.inf
        kept = steps[0]
        for j in range(len(members)):
            if not same[j] or steps[j] >= kept + 2 * period:
                kept = steps[j]
            else:
                drop[members[j]] = True
    return drop
