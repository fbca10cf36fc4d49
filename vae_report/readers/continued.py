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
    # each file's points, taken once (a comparison of every point's rank per file would cost files x points)
    order = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[order], np.arange(len(paths) + 1))
    ranked_codes, ranked_steps = codes[order], steps[order]

    def points_of(i: int) -> tuple[np.ndarray, np.ndarray]:
        return ranked_codes[bounds[i]:bounds[i + 1]], ranked_steps[bounds[i]:bounds[i + 1]]

    for i in range(len(paths) - 1):
        if i in restarted:
            continue
        (my_codes, my_steps), (their_codes, their_steps) = points_of(i), points_of(i + 1)
        shared = _shared(my_codes, their_codes)
        if not shared:
            continue  # another series (a split, a tag of its own): not a continuation of this file
        reached = _steps_of(my_codes, my_steps, shared, max)
        begins = _steps_of(their_codes, their_steps, shared, min)
        overlap = spans[i][1] - spans[i + 1][0]
        if begins <= reached or overlap > OVERLAP_SECONDS:
            continue
        gap = spans[i + 1][0] - spans[i][1]
        out.append({"step": begins, "file": paths[i], "next_file": paths[i + 1], "points": 0, "logged_steps": 0,
                    "metrics": 0, "concurrent": False, "replaced": {}, "abandoned": {}, "reached": reached,
                    "pause_s": float(gap) if np.isfinite(gap) and gap >= 0 else None, "continued": True})
    return out


def _shared(a: np.ndarray, b: np.ndarray) -> set[int]:
    """The metric codes two files share (empty when none): a set test, as most files are small and numpy's set
    routines cost more than the points they look at."""
    return set(np.unique(a).tolist()) & set(np.unique(b).tolist()) if len(a) > SMALL or len(b) > SMALL \
        else set(a.tolist()) & set(b.tolist())


SMALL = 256  # points up to which a file's points are looked at in Python rather than with numpy's array calls


def _steps_of(codes: np.ndarray, steps: np.ndarray, shared: set[int], pick) -> int:
    """``pick`` (min or max) of the steps of a file's points of the shared metrics."""
    if len(codes) <= SMALL:
        return int(pick(s for c, s in zip(codes.tolist(), steps.tolist(), strict=True) if c in shared))
    return int(pick(steps[np.isin(codes, np.fromiter(shared, dtype=codes.dtype, count=len(shared)))]))
