"""Console logs of any trainer: lines that carry a step counter and ``key: value`` or ``key=value`` pairs.

Found by looking at the lines, no format flag needed: ``step 1600, total_loss: 2.73, disc_loss: 0.41`` (a JAX
VQGAN), ``Epoch [3/100] Step 200: loss=0.12 kl=3.4``, ``it 300 | rec 0.05``-style ``key=value`` lines, tqdm bars
with a postfix (``100/5000 [00:10<08:00, 9.6it/s, loss=0.123, kl=4.5]``, redrawn with ``\\r``). RadioDiff's
``[Train Step]`` log is one case of it, read by its own faster reader (textlog.py). A format it cannot guess is
read with a user regex (``--text-pattern``) whose named group ``step`` is the step; other named groups are
metrics, and ``key: value`` pairs after the match are read too.
"""

from __future__ import annotations

import datetime as dt
import mmap
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import COUNTERS, canonical_name, frame_from_series
from .textlog import MARKER

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"
PAIR = re.compile(rf"(?P<key>[A-Za-z_][\w./-]*)\s*[:=]\s*(?P<value>{_NUMBER})(?![\w:/])", re.IGNORECASE)
# step counters, most specific first
STEPS = {
    "tqdm": re.compile(r"(?P<step>\d+)/(?P<total>\d+) \[[^\]\n]*?(?:it/s|s/it)"),
    "step": re.compile(r"\b(?:global[_ ]?)?(?:step|iter(?:ation)?)\b\s*[:=#]?\s*\[?\s*(?P<step>\d+)"
                       r"(?:\s*/\s*(?P<total>\d+))?", re.IGNORECASE),
}
_STAMP = re.compile(r"^\[?(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?)")
NOT_METRICS = {c.lower() for c in COUNTERS} | {"iter", "iteration", "it", "batch", "eta", "time", "data_time",
                                               "v_num"}
SAMPLE = 1 << 16  # bytes per sampled chunk when sniffing a file
TEXT_SUFFIXES = (".log", ".out", ".txt")


@dataclass
class ConsoleRead:
    frame: pd.DataFrame
    total_steps: int | None
    lines: int  # lines with a step and at least one value
    kind: str  # which step counter was recognised


def _samples(path: Path) -> list[str]:
    """The file's head and chunks spread through it (a long preamble, a nohup.out of MBs, must not hide it)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size <= 8 * SAMPLE:
            return [handle.read().decode("utf-8", errors="replace").replace("\r", "\n")]
        out = []
        for offset in np.linspace(0, size - SAMPLE, 8).astype(int):
            handle.seek(int(offset))
            out.append(handle.read(SAMPLE).decode("utf-8", errors="replace").replace("\r", "\n"))
        return out


def _kind(lines: list[str], pattern: re.Pattern | None = None) -> str | None:
    """The step counter most lines with values use (at least 3 such lines), or None."""
    if pattern is not None:  # the user's regex: its matches are the step lines
        return "pattern" if sum(1 for line in lines if pattern.search(line)) >= 1 else None
    counts = {}
    for name, regex in STEPS.items():
        matches = (regex.search(line) for line in lines)
        counts[name] = sum(1 for line, found in zip(lines, matches, strict=True)
                           if found and PAIR.search(line, found.end()))
    name, count = max(counts.items(), key=lambda kv: kv[1])
    return name if count >= 3 else None


def sniff_text_log(path: Path, pattern: str | None = None) -> str | None:
    """"radiodiff", "console" or None: is this text file a metric log? Looks through the whole file for
    RadioDiff's marker and at chunks spread through it for step lines."""
    try:
        if path.stat().st_size == 0:
            return None
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if pattern is None and data.find(MARKER) >= 0:
                return "radiodiff"
        lines = [line for chunk in _samples(path) for line in chunk.split("\n")]
    except (OSError, ValueError):
        return None
    return "console" if _kind(lines, re.compile(pattern) if pattern else None) else None


def first_lines(path: Path, count: int = 2) -> str:
    """What a file starts with, for an error message."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).decode("utf-8", errors="replace").replace("\r", "\n")
    except OSError:
        return "(unreadable)"
    lines = [_shortened(" ".join(line.split())) for line in head.split("\n") if line.strip()][:count]
    return " | ".join(lines) or "(no text)"


def _shortened(line: str, size: int = 200) -> str:
    """A long line as its start and its end, enough of it for a --text-pattern to be written from the message."""
    return line if len(line) <= size else f"{line[:150]} ... {line[-(size - 155):]}"


def read_console_log(path: Path, source: str, pattern: str | None = None) -> ConsoleRead:
    """Every step line's values; an InputError when no step lines are found."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the log ({exc.strerror}); check the path and permissions") from exc
    if text and not text.endswith(("\n", "\r")):
        text = text[: max(text.rfind("\n"), text.rfind("\r")) + 1]  # a torn last line of a log being written
    lines = pd.Series(text.replace("\r", "\n").split("\n"))
    user = re.compile(pattern) if pattern else None
    kind = _kind(lines.tolist()[:20000] if len(lines) > 20000 else lines.tolist(), user) or \
        _kind(lines.iloc[:: max(1, len(lines) // 20000)].tolist(), user)
    if kind is None:
        raise InputError(f"{path}: format not recognised: first lines look like: {first_lines(path)}; expected "
                         "lines with a step counter and key: value pairs, or pass --text-pattern REGEX with a "
                         "(?P<step>...) group")
    regex = user if kind == "pattern" else STEPS[kind]
    found = lines.str.extract(regex)
    has_step = found["step"].notna()
    rows = lines[has_step]
    steps = pd.to_numeric(found.loc[has_step, "step"], errors="coerce")
    if kind == "tqdm":
        _refuse_epoch_bars(path, rows, steps)
    ends = [m.end() if m else 0 for m in map(regex.search, rows)] if kind != "pattern" else [0] * len(rows)
    tails = [line[end:] for line, end in zip(rows, ends, strict=True)]
    series = _pairs(tails, steps.to_numpy(), _walls(rows))
    if kind == "pattern":
        series += _named_groups(found.loc[has_step], steps.to_numpy(), _walls(rows))
    totals = pd.to_numeric(found.loc[has_step, "total"], errors="coerce").dropna() if "total" in found else []
    total = int(totals.iloc[-1]) if len(totals) else None
    if kind == "tqdm" and rows.str.contains(_EPOCH_BAR).any():
        total = None  # "Epoch N: n/total": the total is one epoch's batches, not the run's steps
    frame = frame_from_series(series, source)
    return ConsoleRead(frame, total, int(has_step.sum()), kind)


_EPOCH_BAR = re.compile(r"\bEpoch\s+(\d+)\s*:")


def _refuse_epoch_bars(path: Path, rows: pd.Series, steps: pd.Series) -> None:
    """A bar that starts over every epoch (Lightning's ``Epoch N: n/total``) counts batches of that epoch, and its
    total mixes training and validation batches: no global step can be recovered from it, so it is not read
    rather than read with every epoch laid over the first."""
    epochs = pd.to_numeric(rows.str.extract(_EPOCH_BAR)[0], errors="coerce")
    known = epochs.notna()
    if epochs[known].nunique() < 2:
        return
    e, n = epochs[known].to_numpy(), steps[known].to_numpy()
    if np.any((e[1:] > e[:-1]) & (n[1:] < n[:-1])):
        raise InputError(f"{path}: a progress-bar log whose counter starts over every epoch (\"Epoch N: n/total\", "
                         "as Lightning draws it): the global step cannot be recovered from it; read the run's "
                         "metrics.csv or TensorBoard logs instead")


def _pairs(tails: list[str], steps: np.ndarray, walls: np.ndarray) -> list:
    keys, values, index = [], [], []
    for i, tail in enumerate(tails):
        for match in PAIR.finditer(tail):
            key = match.group("key")
            if key.lower() in NOT_METRICS:
                continue
            keys.append(key)
            values.append(float(match.group("value")))
            index.append(i)
    if not keys:
        return []
    table = pd.DataFrame({"key": keys, "value": values, "row": index})
    out = []
    for key, part in table.groupby("key", sort=False):
        rows = part["row"].to_numpy()
        out.append((canonical_name(str(key)), steps[rows].astype(np.int64), part["value"].to_numpy(), walls[rows]))
    return out


def _named_groups(found: pd.DataFrame, steps: np.ndarray, walls: np.ndarray) -> list:
    out = []
    for name in found.columns:
        if name in ("step", "total") or not isinstance(name, str):
            continue
        values = pd.to_numeric(found[name], errors="coerce").to_numpy()
        ok = np.isfinite(values) | found[name].astype(str).str.lower().isin(["nan", "inf", "-inf"]).to_numpy()
        out.append((canonical_name(name), steps[ok].astype(np.int64), values[ok], walls[ok]))
    return out


def _walls(rows: pd.Series) -> np.ndarray:
    """A leading date-time stamp on a line, as local epoch seconds (NaN where a line has none)."""
    stamps = rows.str.extract(_STAMP)[0]
    if stamps.isna().all():
        return np.full(len(rows), np.nan)
    parsed = pd.to_datetime(stamps.str.replace(",", ".", regex=False), errors="coerce", format="ISO8601")
    local = dt.datetime.now().astimezone().tzinfo
    parsed = parsed.dt.tz_localize(local, ambiguous="NaT", nonexistent="shift_forward")
    seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=np.float64)
    return np.where(parsed.isna().to_numpy(), np.nan, seconds)
