"""Files that hold no point of their own: a copy of another log, whole or in part.

Trainers write the same scalars more than once: mmengine to ``vis_data/scalars.json`` and ``<timestamp>.json``,
Hugging Face's Trainer a ``checkpoint-N/trainer_state.json`` at each save that is a prefix of the final one, a
user a backup of an event file. Merged as a restart, such a file would make the report say the run started
again; its points are the other file's, so it is read once. A file is a copy of another when every one of its
points (metric, step) is in the other with the same value (to a printed log's precision) and, where both
carry a wall time, written at the same time: two processes of one seed write the same values hours apart, and
that is not a copy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_POINTS = 5  # a few equal points can be chance (a loss exactly 0 before the discriminator starts)
SAME_TIME = 120.0  # seconds: one logging event written to two files (mmengine's two JSONs) or a backup's own times
MAX_FILES = 40  # beyond that, pairs cost more than they can find; thousands of event files are shards of a run


def close_values(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The same number written twice (a copy of a log: the same writer, the same digits); NaN equals NaN."""
    with np.errstate(invalid="ignore"):
        return (np.abs(x - y) <= 5.1e-6 + 1e-5 * np.abs(y)) | (np.isnan(x) & np.isnan(y))


def same_values(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Equal values, as far as the less precise of the two was printed (``0.0309`` from ``{:.4f}`` equals
    0.030912..., ``81.53`` from ``{:.4g}`` equals 81.5285); NaN equals NaN."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    # at least five printed decimals' worth (a 0.00000 shows none of the digits it was printed with)
    tolerance = np.maximum(np.maximum(half_unit(x), half_unit(y)) * 1.02, 5.1e-6 + 1e-5 * np.abs(y))
    with np.errstate(invalid="ignore"):
        return (np.abs(x - y) <= tolerance) | (np.isnan(x) & np.isnan(y)) | (x == y)


def half_unit(values: np.ndarray) -> np.ndarray:
    """Half a unit of the last digit each value shows when written shortest (``repr``): how far the number a
    log printed can be from the one it was printed from."""
    unique, inverse = np.unique(values, return_inverse=True)
    return np.array([_half_unit(float(v)) for v in unique], dtype=np.float64)[inverse.reshape(-1)] \
        if len(values) else np.zeros(0)


def _half_unit(value: float) -> float:
    if not np.isfinite(value) or value == 0:
        return 0.0
    mantissa, _, exponent = repr(value).partition("e")
    decimals = len(mantissa.partition(".")[2].rstrip("0")) - int(exponent or 0)
    return 0.5 * 10.0 ** -decimals


def copies_of(rank: np.ndarray, codes: np.ndarray, steps: np.ndarray, values: np.ndarray,
              files: int, walls: np.ndarray | None = None) -> dict[int, int]:
    """{file: the file it is a copy of} (``rank``: each point's file). Of files that hold the same points, the
    one with more points, else the later one, is kept."""
    if files < 2 or files > MAX_FILES or not len(steps):
        return {}
    table = pd.DataFrame({"file": rank, "code": codes, "step": steps, "value": values,
                          "wall": np.full(len(steps), np.nan) if walls is None else walls})
    table = table.drop_duplicates(["file", "code", "step"], keep="last")
    by_file = {int(f): part.drop(columns="file") for f, part in table.groupby("file", sort=True)}
    sizes = {f: len(part) for f, part in by_file.items()}
    out: dict[int, int] = {}
    for i in sorted(by_file, key=lambda f: (sizes[f], f)):
        if sizes[i] < MIN_POINTS:
            continue
        mine = by_file[i]
        for j in sorted(by_file, key=lambda f: (-sizes[f], -f)):
            if j == i or j in out or sizes[j] < sizes[i] or (sizes[j] == sizes[i] and j < i):
                continue
            if _inside(mine.iloc[:: max(1, sizes[i] // 8)], by_file[j]) and _inside(mine, by_file[j]):
                out[i] = j
                break
    return out


def _inside(mine: pd.DataFrame, other: pd.DataFrame) -> bool:
    """Every point of ``mine`` is in ``other`` with the same value."""
    joined = mine.merge(other, on=["code", "step"], how="inner", suffixes=("", "_other"))
    if len(joined) != len(mine) or not close_values(joined["value"].to_numpy(),
                                                    joined["value_other"].to_numpy()).all():
        return False
    gap = np.abs(joined["wall"].to_numpy(dtype=np.float64) - joined["wall_other"].to_numpy(dtype=np.float64))
    return not bool((gap > SAME_TIME).any())  # NaN (a side without wall times) says nothing
