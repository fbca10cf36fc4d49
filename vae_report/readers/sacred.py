"""Sacred's FileStorageObserver: a run's folder ``<basedir>/<id>/`` holds ``metrics.json`` (every
``_run.log_scalar(name, value, step)`` as ``{name: {"steps": [...], "values": [...], "timestamps": [...]}}``),
beside ``config.json`` (the run's config, read as a flat config where it names the loss's settings),
``run.json`` and ``cout.txt``. Values are json's numbers or ``NaN``/``Infinity``, timestamps ISO text in UTC
(Sacred stamps with ``datetime.utcnow()``); a name's dots are its levels (``train.rec_loss`` is train/rec_loss).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..frame import canonical_name, frame_from_series

LAYOUT = "Sacred metrics.json"


def is_sacred_metrics(document) -> bool:
    """A mapping whose values are ``{"steps": [...], "values": [...]}`` series (Sacred's metrics.json)."""
    if not isinstance(document, dict) or not document:
        return False
    series = [v for v in document.values() if isinstance(v, dict)]
    return len(series) == len(document) and all(
        isinstance(s.get("steps"), list) and isinstance(s.get("values"), list) for s in series)


def sacred_series(document: dict, source: str) -> tuple[pd.DataFrame, int, list[str]]:
    """(the frame, the longest series' length, notes) of a Sacred metrics.json."""
    series, notes, longest, uneven = [], [], 0, []
    for name, entry in document.items():
        steps = pd.to_numeric(pd.Series(entry["steps"], dtype=object), errors="coerce").to_numpy(dtype=np.float64)
        values = pd.to_numeric(pd.Series(entry["values"], dtype=object), errors="coerce").to_numpy(dtype=np.float64)
        stamps = entry.get("timestamps")
        walls = _walls(stamps) if isinstance(stamps, list) and len(stamps) == len(values) else \
            np.full(len(values), np.nan)
        n = min(len(steps), len(values))
        if len(steps) != len(values):
            uneven.append(str(name))
        ok = np.isfinite(steps[:n]) & (steps[:n] >= 0)
        longest = max(longest, n)
        series.append((canonical_name(str(name).replace(".", "/")), steps[:n][ok].astype(np.int64), values[:n][ok],
                       walls[:n][ok]))
    if uneven:
        notes.append(f"steps and values of unequal length, read up to the shorter: {', '.join(uneven[:5])}")
    return frame_from_series(series, source), longest, notes


def _walls(stamps: list) -> np.ndarray:
    parsed = pd.to_datetime(pd.Series(stamps, dtype=object), errors="coerce", utc=True, format="ISO8601")
    seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=np.float64)
    return np.where(parsed.isna().to_numpy(), np.nan, seconds)
