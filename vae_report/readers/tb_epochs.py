"""An event file whose step starts over at every epoch (``writer.add_scalar(tag, v, batch_idx)``), continued
across epochs as the CSV and JSON readers do for a per-epoch counter (epochs.py). Read as TensorBoard reads it,
each epoch would overwrite the last and all but the last epoch's points would be lost.

Within one file a step that falls back is either a new epoch or a restart. It is an epoch where the file's
``epoch`` tag rises at each fall, or, without one, where the clock runs on and the counter falls back, every time,
to where it began after the same span (one fall only where the second epoch ends where the first did: a resume
goes on past it or falls back to a checkpoint's step). Anything else is a resume inside the file, read as the
launches of a text log are (readers/__init__.py): the later launch replaces the earlier one from its first step on,
as TensorBoard purges the orphaned points.
"""

from __future__ import annotations

import numpy as np

from ..frame import COUNTERS
from .epochs import continued_across_epochs, epoch_length


def continue_epochs(file: np.ndarray, tag: np.ndarray, steps: np.ndarray, walls: np.ndarray, values: np.ndarray,
                    tags: list[str], counter: np.ndarray) -> tuple[np.ndarray, dict[int, int]]:
    """(steps with each per-epoch counter continued across epochs, {file: steps an epoch holds} for the files
    continued). Rows are each file's points in its record order per tag (``counter``: which tags are counters)."""
    if len(steps) < 3:
        return steps, {}
    key = file.astype(np.int64) * (len(tags) + 1) + tag
    order = np.argsort(key, kind="stable")
    k, s = key[order], steps[order]
    falls = (np.diff(s) < 0) & (k[1:] == k[:-1])
    if not falls.any():
        return steps, {}
    epoch_tag = [i for i, t in enumerate(tags) if t.strip().lower() == "epoch"]
    starts = np.flatnonzero(np.diff(k, prepend=-1))
    bounds = list(zip(starts.tolist(), [*starts[1:].tolist(), len(k)], strict=True))
    falling = {int(k[i + 1]) for i in np.flatnonzero(falls)}
    out = steps.copy()
    continued: dict[int, dict[int, tuple[np.ndarray, np.ndarray]]] = {}  # file -> {rows: (epochs, batch steps)}
    for lo, hi in bounds:
        group = int(k[lo])
        f, t = divmod(group, len(tags) + 1)
        if group not in falling or counter[t]:
            continue
        rows = order[lo:hi]
        epochs = _epochs_from_tag(file, tag, steps, walls, values, f, epoch_tag, walls[rows])
        found = _epochs(steps[rows].astype(np.float64), walls[rows], epochs)
        if found is not None:
            continued.setdefault(f, {})[t] = (rows, found)
    lengths: dict[int, int] = {}
    for f, groups in continued.items():
        # one epoch length for the file, so its metrics stay on one axis (a tag logged every batch, one every 10)
        length = max(epoch_length(steps[rows].astype(np.float64)) for rows, _ in groups.values())
        if not epoch_tag:
            _aligned(groups, walls)
        first = min(float(epochs.min()) for _, epochs in groups.values())
        for rows, epochs in groups.values():
            out[rows] = ((epochs - first) * length + steps[rows]).astype(np.int64)
        lengths[f] = length
    return out, lengths


def _aligned(groups: dict[int, tuple[np.ndarray, np.ndarray]], walls: np.ndarray) -> None:
    """Epochs counted per tag from its own first fall (no epoch tag) put on the file's epochs: a tag first
    logged in a later epoch (a discriminator's loss from its start) begins at the epoch its first point's wall
    time falls in, by the tag logged longest."""
    rows, epochs = max(groups.values(), key=lambda g: len(g[0]))
    starts = np.flatnonzero(np.diff(epochs, prepend=-1))
    start_walls, start_epochs = walls[rows][starts], epochs[starts]
    for t, (mine, own) in list(groups.items()):
        if mine is rows:
            continue
        place = int(np.searchsorted(start_walls, walls[mine][0], side="right")) - 1
        if place > 0:
            groups[t] = (mine, own + start_epochs[place])


def _epochs_from_tag(file, tag, steps, walls, values, f: int, epoch_tag: list[int],
                     at: np.ndarray) -> np.ndarray | None:
    """Each point's epoch from the file's ``epoch`` tag: the last epoch written at or before its wall time."""
    if not epoch_tag or not np.isfinite(at).all():
        return None
    mine = (file == f) & np.isin(tag, epoch_tag) & np.isfinite(walls) & np.isfinite(values)
    if not mine.any():
        return None
    order = np.argsort(walls[mine], kind="stable")
    when, epoch = walls[mine][order], values[mine][order]
    place = np.searchsorted(when, at, side="right") - 1
    return epoch[np.maximum(place, 0)]


def _epochs(steps: np.ndarray, walls: np.ndarray, tagged: np.ndarray | None) -> np.ndarray | None:
    """Each point's epoch (0, 1, ...) where its counter starts over with the epoch, else None."""
    if tagged is not None:
        found = continued_across_epochs(steps, tagged)
        if found is not None:
            return np.round(tagged) + 0.0
    return per_epoch_counter(steps, walls)


def per_epoch_counter(steps: np.ndarray, walls: np.ndarray) -> np.ndarray | None:
    """Each point's epoch (0, 1, ...) where a counter with no epoch beside it starts over at every epoch, else
    None: the clock runs on and the counter falls back, every time, to where it began, each epoch spanning the
    same steps. One fall is an epoch only where the epoch after it ends where the first ended: a resume falls
    back to a checkpoint's step, not to the start, or goes on past where the first launch had got to."""
    falls = np.flatnonzero(np.diff(steps) < 0) + 1  # first row of each later epoch
    if not len(falls) or not np.isfinite(walls).all() or (np.diff(walls) < 0).any():
        return None
    rises = np.diff(steps)[np.diff(steps) > 0]
    every = float(np.median(rises)) if len(rises) else 1.0
    low = float(steps.min())
    if (steps[falls] > low + every).any() or steps[0] > low + every:
        return None  # it falls back somewhere else than where it began: a resume from a checkpoint
    segments = np.split(steps, falls)
    # the last epoch may be under way, unless it is the only one after a fall: then it must be whole
    highs = np.array([seg.max() for seg in (segments if len(falls) == 1 else segments[:-1])])
    if highs.max() - highs.min() > every:
        return None  # epochs of one length; a run relaunched after crashes at different steps is not
    return np.repeat(np.arange(len(segments), dtype=np.float64), [len(seg) for seg in segments])


def epochs_note(length: int) -> str:
    """The sources' note for an event file whose step was continued across epochs."""
    return (f"the step starts over at every epoch (the batch in the epoch, as step=batch_idx writes it): continued "
            f"across epochs ({length:,} steps per epoch: its span within an epoch, rounded up to the logging "
            "interval), not read as a restart")


def continue_parts(parts: list[tuple]) -> tuple[list[tuple], int | None]:
    """One event file's (tag, steps, values, wall times) pieces with a per-epoch step continued across epochs,
    and the steps an epoch holds (None: left as they were). Only a file whose step falls back pays for it."""
    if not any(len(p[1]) > 1 and (np.diff(p[1]) < 0).any() for p in parts):
        return parts, None
    tags = list(dict.fromkeys(p[0] for p in parts))
    index = {t: i for i, t in enumerate(tags)}
    tag = np.concatenate([np.full(len(p[1]), index[p[0]], dtype=np.int64) for p in parts])
    steps = np.concatenate([p[1] for p in parts]).astype(np.int64)
    values = np.concatenate([p[2] for p in parts]).astype(np.float64)
    walls = np.concatenate([p[3] for p in parts]).astype(np.float64)
    counter = np.array([t.strip().lower() in COUNTERS for t in tags], dtype=bool)
    out, lengths = continue_epochs(np.zeros(len(steps), dtype=np.int64), tag, steps, walls, values, tags, counter)
    if not lengths:
        return parts, None
    at = np.cumsum([0, *(len(p[1]) for p in parts)])
    return [(p[0], out[at[i]:at[i + 1]], *p[2:]) for i, p in enumerate(parts)], lengths[0]


def in_file_launches(parts: list[tuple]) -> list[list[tuple]] | None:
    """One event file's pieces but its counters', split where its step falls back other than at an epoch (a run
    that went back to a checkpoint and wrote on into the same file): the pieces of each launch (``launch_rows``),
    None where the step never falls back."""
    if not any(len(p[1]) > 1 and (np.diff(p[1]) < 0).any() for p in parts):
        return None
    tags = list(dict.fromkeys(p[0] for p in parts))
    index = {t: i for i, t in enumerate(tags)}
    tag = np.concatenate([np.full(len(p[1]), index[p[0]], dtype=np.int64) for p in parts])
    steps, walls = (np.concatenate([p[i] for p in parts]) for i in (1, 3))
    counter = np.array([t.strip().lower() in COUNTERS for t in tags], dtype=bool)
    launch = launch_rows(np.zeros(len(steps), dtype=np.int64), tag, steps, walls, tags, counter)
    if not launch.any():
        return None
    at = np.cumsum([0, *(len(p[1]) for p in parts)])
    out: list[list[tuple]] = [[] for _ in range(int(launch.max()) + 1)]
    for i, (name, *cols) in enumerate(parts):
        mine = launch[at[i]:at[i + 1]]
        for k in np.unique(mine).tolist():
            if not counter[index[name]]:
                out[k].append((name, *(c[mine == k] for c in cols)))
    return [pieces for pieces in out if pieces]


def launch_rows(file: np.ndarray, tag: np.ndarray, steps: np.ndarray, walls: np.ndarray, tags: list[str],
                counter: np.ndarray) -> np.ndarray:
    """Each point's launch within its file (0 where its file's step never falls back, after the epochs were
    continued): a launch begins at the wall time of the first point after a fall of the tag logged most, and a
    point belongs to the launch it was written in (a tag logged now and then too). Rows are each file's points
    in its record order per tag; a file without a clock that runs on keeps TensorBoard's rule."""
    out = np.zeros(len(steps), dtype=np.int64)
    if len(steps) < 2:
        return out
    key = file.astype(np.int64) * (len(tags) + 1) + tag
    order = np.argsort(key, kind="stable")
    k, s = key[order], steps[order]
    falls = (np.diff(s) < 0) & (k[1:] == k[:-1]) & ~counter[tag[order][1:]]
    for f in np.unique(file[order][1:][falls]).tolist():
        groups = [g for g in np.unique(k[1:][falls]).tolist() if g // (len(tags) + 1) == f]
        rows = order[k == max(groups, key=lambda g: int(np.count_nonzero(k == g)))]  # the tag logged most
        w = walls[rows]
        if not np.isfinite(w).all() or (np.diff(w) < 0).any():
            continue  # without a clock that runs on: TensorBoard's rule, the later point replaces the earlier
        starts = w[np.flatnonzero(np.diff(steps[rows]) < 0) + 1]
        mine = file == f
        out[mine] = np.searchsorted(starts, walls[mine], side="right")
    return out
