"""One log per process of a distributed run (DDP, accelerate, torchrun): ``train_rank0.log`` ... ``train_rank3.log``,
``log_gpu1.txt``, ``node0_local_rank1.csv``, torchelastic's ``attempt_0/<local_rank>/stdout.log``.

Files whose paths differ only by a rank or process index, written at the same time over the same steps, are the
ranks of one run: rank 0 (the lowest index) is read as the run's logs, the others are said in a note with their
points and whether their values agree with rank 0's within its step-to-step noise (each rank sees its own batch).
Read as separate files they would be two processes writing one folder at once. Files with such names written one
after the other, or over other steps, are left to the usual merge (a resume, or unrelated runs).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..numbers import counted
from .sources import RunLogs, SourceFile

# a rank or process index in a name: rank0, rank_1, local_rank-2, global_rank3, proc1, process_2, gpu3, cuda1,
# device0, worker2, node1, _r2 / -p1 (a single letter only after a separator); torchelastic's attempt_N/<rank>/
_RANK = re.compile(r"(?i)(?<![a-z0-9])(?P<label>(?:local|global|node|world)?[_-]?rank|proc(?:ess)?|gpu|cuda|device"
                   r"|worker|node|r|p)[_-]?(?P<index>\d{1,4})(?![0-9])|(?<=attempt_)(?P<attempt>\d+)/(?P<local>\d+)(?=/)")
SHARED_STEPS = 0.5  # of the smaller file's steps: ranks log the same steps


def rank_key(path: str) -> tuple[str, tuple[int, ...]] | None:
    """(the path with its rank indices blanked, the indices), or None for a path that names no rank."""
    indices: list[int] = []
    if "tfevents" in path.rsplit("/", 1)[-1]:  # an event file's name holds its time, host and pid: its folder counts
        path = path.rsplit("/", 1)[0] + "/tfevents" if "/" in path else "tfevents"

    def blank(match: re.Match) -> str:
        if match.group("local") is not None:
            indices.append(int(match.group("local")))
            return f"{match.group('attempt')}/#"
        indices.append(int(match.group("index")))
        return match.group("label").lower() + "#"

    key = _RANK.sub(blank, path)
    return (key, tuple(indices)) if indices else None


def rank_groups(paths: list[str | None]) -> list[list[int]]:
    """Indices of the paths that differ only by rank indices, lowest rank first, in groups of two or more
    (None: a path not to group, such as a launch of a text log)."""
    groups: dict[str, list[tuple[tuple[int, ...], int]]] = {}
    for i, path in enumerate(paths):
        found = rank_key(path) if path is not None else None
        if found is not None:
            groups.setdefault(found[0], []).append((found[1], i))
    return [[i for _, i in sorted(members)] for members in groups.values()
            if len(members) >= 2 and len({index for index, _ in members}) == len(members)]


def ranks_of_one_run(paths: list[str | None], frame_of) -> list[tuple[int, list[int]]]:
    """(kept, other ranks) for each group of rank-named files written at the same time over the same steps;
    ``frame_of(i)``: the i-th file's points."""
    out = []
    for group in rank_groups(paths):
        first = frame_of(group[0])
        others = [i for i in group[1:] if _same_time_and_steps(first, frame_of(i))]
        if others:
            out.append((group[0], others))
    return out


def other_ranks(parts: list[tuple[SourceFile, pd.DataFrame]], logs: RunLogs) -> list[tuple[SourceFile, pd.DataFrame]]:
    """``parts`` without the files that are other ranks of a file kept (see the module's doc), each said."""
    dropped: set[int] = set()
    for first, ranks in ranks_of_one_run([s.path if s.file is None else None for s, _ in parts],
                                         lambda i: parts[i][1]):
        dropped.update(ranks)
        note_ranks([s for s, _ in parts], [f for _, f in parts], first, ranks, logs)
    return [p for i, p in enumerate(parts) if i not in dropped]


def _span(frame: pd.DataFrame) -> tuple[float, float]:
    walls = frame["wall_time"].to_numpy()
    walls = walls[np.isfinite(walls)]
    return (float(walls.min()), float(walls.max())) if len(walls) else (np.nan, np.nan)


def _same_time_and_steps(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Written over the same steps, and at the same time where both have wall times."""
    steps_a, steps_b = np.unique(a["step"].to_numpy()), np.unique(b["step"].to_numpy())
    if not len(steps_a) or not len(steps_b):
        return False
    shared = len(np.intersect1d(steps_a, steps_b, assume_unique=True))
    if shared < SHARED_STEPS * min(len(steps_a), len(steps_b)):
        return False
    (a0, a1), (b0, b1) = _span(a), _span(b)
    if np.isnan(a0) or np.isnan(b0):
        return True
    overlap = min(a1, b1) - max(a0, b0)
    return overlap >= 0.5 * min(a1 - a0, b1 - b0)


def note_ranks(sources: list[SourceFile], frames: list[pd.DataFrame], first: int, ranks: list[int],
               logs: RunLogs) -> None:
    """The note that says which files are other ranks, how many points, and whether they agree."""
    kept = sources[first]
    points = sum(len(frames[i]) for i in ranks)
    names = ", ".join(sources[i].path for i in ranks[:4]) + (f" and {len(ranks) - 4} more" if len(ranks) > 4 else "")
    agree = _agreement(frames[first], [frames[i] for i in ranks])
    logs.notes.append(f"{names}: {'another rank' if len(ranks) == 1 else f'{len(ranks)} other ranks'} of the same "
                      f"run (one log per process, written at the same time over the same steps; "
                      f"{counted(points, 'point')}): the report reads the lowest rank's, {kept.path}{agree}")
    for i in ranks:
        sources[i].notes.append(f"another rank of the same run as {kept.path} (read instead): not in the curves")


def ranks_in_file_note(kept: int, frame: pd.DataFrame, others: list[tuple[int, pd.DataFrame]], shown: str) -> str:
    """What a console file holding several ranks' prefixed lines says of them (rank_lines.py): which rank is read,
    the others' points, and whether their values agree with it."""
    ranks = [rank for rank, _ in others]
    named = (f"rank {ranks[0]}'s lines are another rank" if len(ranks) == 1 else
             f"ranks {', '.join(map(str, ranks[:-1]))} and {ranks[-1]}'s lines are {len(ranks)} other ranks")
    points = sum(len(f) for _, f in others)
    return (f"holds the lines of {len(others) + 1} processes, each line prefixed with its rank ({shown}), as a "
            f"launcher writes one console for every process (torchrun's --tee): the report reads the lowest "
            f"rank's, rank {kept}; {named} of the same run ({counted(points, 'point')}), not in the curves"
            f"{_agreement(frame, [f for _, f in others])}")


def _agreement(kept: pd.DataFrame, others: list[pd.DataFrame]) -> str:
    """Whether the other ranks' values agree with the kept rank's within its step-to-step noise, on the losses
    they share (each rank logs the loss of its own batch: they differ by about that noise)."""
    ratios = []
    for metric, mine in kept.groupby("metric", observed=True, sort=False):
        values = mine.sort_values("step")
        noise = np.nanmedian(np.abs(np.diff(values["value"].to_numpy()))) if len(values) > 2 else np.nan
        if not np.isfinite(noise) or noise <= 0:
            continue
        for other in others:
            theirs = other[other["metric"] == metric]
            joined = values[["step", "value"]].merge(theirs[["step", "value"]], on="step")
            if len(joined):
                ratios.append(float(np.nanmedian(np.abs(joined["value_x"] - joined["value_y"]))) / noise)
    if not ratios:
        return ""
    worst = max(ratios)
    if worst <= 3:
        return ("; their values agree with it within its step-to-step noise (median difference "
                f"{worst:.2g}x that noise at most)")
    return (f"; their values differ from it beyond its step-to-step noise (median difference up to {worst:.2g}x "
            "that noise): the ranks may not see the same data or weights")
