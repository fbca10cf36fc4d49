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
from ..frame import canonical_name, frame_from_series

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
        # Let the C parser convert numbers; only columns with text in them take the slow path below.
        table = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""], on_bad_lines="skip",
                            engine="c", skipinitialspace=True, low_memory=False)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc}); check the file") from exc
    table.columns = [str(c).strip() for c in table.columns]
    # An empty cell and a logged "nan" both parse as NaN; only when the file has such words is it worth telling
    # them apart by re-reading the affected columns as text.
    nan_words = any(word in text for word in ("nan", "NaN", "NAN", "inf", "Inf", "INF"))
    columns = {c.lower(): c for c in table.columns}
    step_col = next((columns[c] for c in STEP_COLUMNS if c in columns), None)
    if step_col is None:
        raise InputError(
            f"{path}: no step column (looked for {', '.join(STEP_COLUMNS)}); "
            "add one or export the log with its steps"
        )
    steps = _column(table[step_col])[0]
    keep = np.isfinite(steps) & (steps == np.round(steps))
    bad = int((~keep).sum())
    table = table[keep]
    steps = steps[keep].astype(np.int64)
    wall_col = next((columns[c] for c in WALL_COLUMNS if c in columns), None)
    walls = _column(table[wall_col])[0] if wall_col else np.full(len(table), np.nan)
    tag_col = next((columns[c] for c in TAG_COLUMNS if c in columns), None)
    value_col = columns.get("value")
    if tag_col and value_col:
        values, present, bad_v = _column(table[value_col], nan_words)
        ok = present & ~bad_v
        tags = table[tag_col].astype(str).str.strip().to_numpy()[ok]
        steps, values, walls = steps[ok], values[ok], walls[ok]
        series = [(canonical_name(tag), steps[tags == tag], values[tags == tag], walls[tags == tag])
                  for tag in dict.fromkeys(tags)]
        return CsvRead(frame_from_series(series, source), "long", len(table), bad + int(bad_v.sum()))
    if value_col and len(table.columns) <= 3:
        values, present, bad_v = _column(table[value_col], nan_words)
        ok = present & ~bad_v
        series = [(canonical_name(_export_tag(path)), steps[ok], values[ok], walls[ok])]
        return CsvRead(frame_from_series(series, source), "tensorboard-export", len(table), bad + int(bad_v.sum()))
    skip = {step_col, wall_col} | {c for c in table.columns if c.lower() in NOT_METRICS}
    series = []
    for col in table.columns:
        if col in skip or col.startswith("Unnamed:"):
            continue
        values, present, bad_v = _column(table[col], nan_words)
        bad += int(bad_v.sum())
        ok = present & ~bad_v
        if ok.any():
            series.append((canonical_name(col), steps[ok], values[ok], walls[ok]))
    return CsvRead(frame_from_series(series, source), "wide", len(table), bad)


def _column(cells: pd.Series, nan_words: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, present, not-a-number) of one column: present cells are non-empty; ``nan``/``inf`` are numbers."""
    if pd.api.types.is_numeric_dtype(cells.dtype) and not pd.api.types.is_bool_dtype(cells.dtype):
        values = cells.to_numpy(dtype=np.float64)
        if not nan_words or not np.isnan(values).any():
            return values, ~np.isnan(values), np.zeros(len(values), dtype=bool)
        text = cells.astype(object).where(cells.notna(), "")  # NaN cells: empty unless the text said nan
        return _parse_text(text)
    return _parse_text(cells.astype(object).where(cells.notna(), ""))


def _parse_text(cells: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    text = cells.astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    present = (text != "").to_numpy()
    bad = np.isnan(values) & present & ~text.str.lower().isin(_NAN_WORDS).to_numpy()
    return values, present, bad


def _export_tag(path: Path) -> str:
    # TensorBoard names its download "run-<run>-tag-<tag with / as _>.csv"
    stem = path.stem
    return stem.split("-tag-", 1)[1] if "-tag-" in stem else stem
