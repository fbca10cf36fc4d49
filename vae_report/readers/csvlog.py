"""CSV metric logs: long (``step,tag,value[,wall_time]``), wide (one column per metric, e.g. Lightning's
sparse ``metrics.csv`` with one row per log call and empty cells elsewhere), and TensorBoard's own per-tag
export (``Wall time,Step,Value``)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import canonical_name, concat, drop_repeats, make_frame

STEP_COLUMNS = ("step", "global_step", "iteration", "iter", "it")
TAG_COLUMNS = ("tag", "metric", "name", "key")
WALL_COLUMNS = ("wall_time", "wall time", "walltime", "time", "timestamp")
NOT_METRICS = {"epoch", "created_at", "datetime"}  # bookkeeping columns of a wide log
_NAN_WORDS = {"nan", "inf", "-inf", "+inf", "infinity", "-infinity"}


@dataclass
class CsvRead:
    frame: pd.DataFrame
    layout: str  # "long", "wide" or "tensorboard-export"
    rows: int
    bad_cells: int  # non-numeric cells and unusable rows, skipped


def read_csv_log(path: Path, source: str) -> CsvRead:
    """Read a CSV metric log in any of the three layouts; a file without a step column is an error."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"{path}: cannot read CSV ({exc.strerror}); check the path and permissions") from exc
    if not text.strip():
        raise InputError(f"{path}: the CSV file is empty; remove it or point vae-report at the finished log")
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, on_bad_lines="skip",
                            engine="c", skipinitialspace=True)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc}); check the file") from exc
    columns = {c.strip().lower(): c for c in table.columns}
    step_col = next((columns[c] for c in STEP_COLUMNS if c in columns), None)
    if step_col is None:
        raise InputError(
            f"{path}: no step column (looked for {', '.join(STEP_COLUMNS)}); "
            "add one or export the log with its steps"
        )
    steps, bad_rows = _numbers(table[step_col])
    keep = np.isfinite(steps) & (steps == np.round(steps))
    bad = int((~keep).sum())
    table = table[keep]
    steps = steps[keep].astype(np.int64)
    wall_col = next((columns[c] for c in WALL_COLUMNS if c in columns), None)
    walls = _numbers(table[wall_col])[0] if wall_col else np.full(len(table), np.nan)
    tag_col = next((columns[c] for c in TAG_COLUMNS if c in columns), None)
    value_col = columns.get("value")
    if tag_col and value_col:
        values, bad_v = _numbers(table[value_col])
        ok = ~bad_v
        tags = table[tag_col].str.strip().to_numpy()
        metrics = [canonical_name(t) for t in tags[ok]]
        frame = make_frame(steps[ok], metrics, values[ok], walls[ok], source)
        return CsvRead(_dedupe(frame), "long", len(table), bad + int(bad_v.sum()))
    if value_col and len(table.columns) <= 3:
        metric = canonical_name(_export_tag(path))
        values, bad_v = _numbers(table[value_col])
        ok = ~bad_v
        frame = make_frame(steps[ok], [metric] * int(ok.sum()), values[ok], walls[ok], source)
        return CsvRead(_dedupe(frame), "tensorboard-export", len(table), bad + int(bad_v.sum()))
    skip = {step_col, wall_col} | {c for c in table.columns if c.strip().lower() in NOT_METRICS}
    parts = []
    for col in table.columns:
        if col in skip or str(col).startswith("Unnamed:"):
            continue
        cells = table[col].str.strip()
        present = (cells != "").to_numpy()
        values, bad_v = _numbers(cells)
        bad += int((bad_v & present).sum())
        ok = present & ~bad_v
        if ok.any():
            metric = canonical_name(str(col))
            parts.append(make_frame(steps[ok], [metric] * int(ok.sum()), values[ok], walls[ok], source))
    frame = concat(parts) if parts else make_frame([], [], [], [], source)
    return CsvRead(_dedupe(frame), "wide", len(table), bad)


def _numbers(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse cells as floats; also return which non-empty cells were not numbers (``nan``/``inf`` are)."""
    text = cells.astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & ~text.str.lower().isin(_NAN_WORDS).to_numpy()
    return values, bad


def _export_tag(path: Path) -> str:
    # TensorBoard names its download "run-<run>-tag-<tag with / as _>.csv"
    stem = path.stem
    return stem.split("-tag-", 1)[1] if "-tag-" in stem else stem


def _dedupe(frame: pd.DataFrame) -> pd.DataFrame:
    return drop_repeats(frame)
