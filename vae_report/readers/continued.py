"""A resume that redid no step: a later file of one kind that begins after the earlier one's last step (the
bundled trainer's ``--max-steps`` then ``--resume``), which no point replaced and so no restart records. Said as
a resume, so that a report on two files never leaves the reader to guess why there are two."""

from __future__ import annotations

import numpy as np

OVERLAP_SECONDS = 60  # an earlier file written this long after a later one began: both were being written


def continuations(rank: np.ndarray, codes: np.ndarray, steps: np.ndarray, paths: list[str],
                  spans: list[tuple[float, float]], restarted: set[int]) -> list[dict]:
    """The restart records (merge.replaced_points' shape, ``continued`` True, no point replaced) of each file
    the next one (in written order) goes on from: they share a metric, the next begins after this one's last
    step, and this one was no longer written when the next began."""
    out = []
    for i in range(len(paths) - 1):
        if i in restarted:
            continue
        mine, theirs = rank == i, rank == i + 1
        shared = np.intersect1d(codes[mine], codes[theirs])
        if not len(shared):
            continue  # another series (a split, a tag of its own): not a continuation of this file
        reached = int(steps[mine & np.isin(codes, shared)].max())
        begins = int(steps[theirs & np.isin(codes, shared)].min())
        overlap = spans[i][1] - spans[i + 1][0]
        if begins <= reached or overlap > OVERLAP_SECONDS:
            continue
        gap = spans[i + 1][0] - spans[i][1]
        out.append({"step": begins, "file": paths[i], "next_file": paths[i + 1], "points": 0, "logged_steps": 0,
                    "metrics": 0, "concurrent": False, "replaced": {}, "abandoned": {}, "reached": reached,
                    "pause_s": float(gap) if np.isfinite(gap) and gap >= 0 else None, "continued": True})
    return out
