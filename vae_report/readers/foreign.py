"""Another experiment's logs in a sub-folder of a run (``run/debug_lr1e-4/events...`` beside the run's own event
file): they start again at the beginning, at other levels, so they are no resume and no restart of this run.

TensorBoard's rule (a later file replaces every earlier point at or after its first step) would let such a
folder replace the run's own losses from step 0. A resume continues near where the run had got to; a restart
of the same run from scratch starts again at the levels the run started at. A file in a deeper folder that
starts at the beginning of the run's steps at other levels on the steps both log is another experiment: left
out of the merge and said, with how to read it on its own.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..numbers import counted
from .sources import RunLogs, SourceFile

START_SHARE = 0.02  # begins within this share of the run's steps of the run's first step: starts again
OTHER_LEVEL = 1.25  # a loss term's median ratio between the two on shared steps beyond this (or its inverse)
MIN_SHARED = 5  # shared points of a metric needed to compare levels


def _depth(path: str) -> int:
    return path.count("/")


def without_foreign(parts: list[tuple[SourceFile, pd.DataFrame]], logs: RunLogs) -> list:
    """The parts without those of another experiment in a deeper folder, each said in the merge notes."""
    gone = foreign_files([p[0].file or p[0].path for p in parts], lambda i: parts[i][1], logs,
                         [p[0].path for p in parts])
    return [p for i, p in enumerate(parts) if i not in gone]


def foreign_files(paths: list[str], frame_of: Callable[[int], pd.DataFrame], logs: RunLogs,
                  shown: list[str] | None = None) -> set[int]:
    """Which of the files (paths relative to the run folder; ``frame_of(i)``: file i's points, ``metric`` its
    names) are another experiment's in a deeper folder; each is said in the merge notes. Frames are asked for
    only where the files lie at different depths."""
    if len(paths) < 2:
        return set()
    home = min(_depth(p) for p in paths)
    own = [i for i, p in enumerate(paths) if _depth(p) == home]
    if len(own) == len(paths):
        return set()
    reference = pd.concat([frame_of(i) for i in own], ignore_index=True)
    reference = reference[~reference["metric"].astype(str).str.startswith(("val/", "val_ema/"))]
    if reference.empty:
        return set()
    first, last = int(reference["step"].min()), int(reference["step"].max())
    gone = set()
    for i, path in enumerate(paths):
        if _depth(path) == home:
            continue
        frame = frame_of(i)
        ratio = _foreign_ratio(frame, reference, first, last)
        if ratio is None:
            continue
        gone.add(i)
        metric, ratio = ratio
        folder = path.rsplit("/", 1)[0]
        logs.notes.append(
            f"{(shown or paths)[i]}: another experiment, not merged: it starts again at step "
            f"{int(frame['step'].min()):,} in a folder of its own while the run's own logs went on to step "
            f"{last:,}" + (f", {metric} at {ratio:.3g} times the run's own on the steps both hold"
                           if ratio > OTHER_LEVEL or ratio < 1 / OTHER_LEVEL else
                           ", both written at the same time" if _concurrent(frame, reference) else
                           ", and ends where they end: two complete runs of one length (another seed?), not a "
                           "restart") +
            f"; its {counted(len(frame), 'point')} are left out (analyze its folder {folder}/ on its own to read it)")
    return gone


LEVEL_TERMS = ("rec_loss", "nll_loss", "kl_loss")  # positive terms whose levels a restart of this run repeats
CONCURRENT_SECONDS = 60  # the run's own logs still written this long after the other began: two processes


def _foreign_ratio(frame: pd.DataFrame, reference: pd.DataFrame, first: int,
                   last: int) -> tuple[str, float] | None:
    """(the loss term, its median ratio to the run's own on shared steps) furthest from 1, when ``frame`` starts
    again at the beginning of the run's steps while the run's own logs were still being written, or at another
    level of a loss term; else None (a resume, or a restart of this run: merged as TensorBoard does)."""
    start = int(frame["step"].min()) if len(frame) else last
    if start > first + START_SHARE * max(last - first, 1) or start >= last:
        return None
    joined = frame[["metric", "step", "value"]].astype({"metric": str}).merge(
        reference[["metric", "step", "value"]].astype({"metric": str}), on=["metric", "step"], suffixes=("", "_own"))
    with np.errstate(divide="ignore", invalid="ignore"):
        joined["ratio"] = np.abs(joined["value"] / joined["value_own"])
    joined = joined[np.isfinite(joined["ratio"]) & (joined["ratio"] > 0) & joined["metric"].isin(LEVEL_TERMS)]
    ratios = {m: float(np.median(g["ratio"])) for m, g in joined.groupby("metric") if len(g) >= MIN_SHARED}
    if not ratios:
        return None
    other = [r for r in ratios.values() if r > OTHER_LEVEL or r < 1 / OTHER_LEVEL]
    concurrent = _concurrent(frame, reference)
    if not other and not concurrent and not _same_end(frame, reference, last):
        return None
    return max(ratios.items(), key=lambda item: abs(np.log(item[1])))


def _concurrent(frame: pd.DataFrame, reference: pd.DataFrame) -> bool:
    """The run's own logs still written a minute after the other began: two processes at once."""
    walls = frame["wall_time"].to_numpy(dtype=np.float64) if "wall_time" in frame else np.array([np.nan])
    own_walls = reference["wall_time"].to_numpy(dtype=np.float64) if "wall_time" in reference else np.array([np.nan])
    return bool(np.fmax.reduce(own_walls) > np.fmin.reduce(walls) + CONCURRENT_SECONDS) \
        if len(walls) and len(own_walls) else False


def _same_end(frame: pd.DataFrame, reference: pd.DataFrame, last: int) -> bool:
    """Both logs run from the beginning to the same last step (within a logging interval): two complete runs of
    one length (a second seed in a folder of its own), not a restart, which picks up where a run that stopped
    could not go on and goes past where it ended."""
    own = np.unique(reference["step"].to_numpy())
    every = int(np.median(np.diff(own))) if len(own) > 2 else 0
    end = int(frame["step"].max()) if len(frame) else -1
    return every > 0 and abs(end - last) <= every
