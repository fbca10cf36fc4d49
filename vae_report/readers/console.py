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
from .pattern import UserPattern
from .textlog import MARKER

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"
_KEY = r"[A-Za-z_][\w./-]*"
# a metric and its value: ``key: v``, ``key=v``, ``key = v``, a key of a few words (``gen loss=v``), a dict's
# ``'key': v``, a bracketed ``[Key] v`` (loguru-style trainers); the value is a whole number, not a date or a path
PAIR = re.compile(rf"(?:(?P<quote>['\"])(?P<qkey>{_KEY})(?P=quote)\s*:\s*|\[(?P<bkey>{_KEY})\]\s*"
                  rf"|(?P<key>{_KEY}(?: [A-Za-z_][\w-]*){{0,2}})\s*[:=]\s*)(?P<value>{_NUMBER})(?![\w:/])",
                  re.IGNORECASE)
# A logging record's head, up to the message: ``... | INFO | module:function:line - `` (loguru), ``INFO:root:``,
# ``(INFO) (train.py) (date) #``; what precedes the message is not metrics (a line number is not a value).
_RECORD_HEAD = re.compile(r"^.*?\b(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\b[\s|:\])-]*"
                          r"(?:[\w.<>-]+:[\w<>-]+:\d+\s*-\s*)?")
# step counters, most specific first (a tie goes to the first: a global step beats a per-epoch iteration)
STEPS = {
    "tqdm": re.compile(r"(?P<step>\d+)/(?P<total>\d+) \[[^\]\n]*?(?:it/s|s/it)"),
    "step": re.compile(r"\b(?:global[_ ]?)?step\b\]?\s*[:=#]?\s*\[?\s*(?P<step>\d{1,3}(?:,\d{3})+|\d+)"
                       r"(?:\s*/\s*(?P<total>\d+))?", re.IGNORECASE),
    # "[Epoch 3/50] [Batch 120/1250]" (PyTorch-GAN's print), "[Train Epoch: 18/50] [2804000/2830676 particles]":
    # a counter that starts over each epoch, beside the epoch: continued across epochs by its total
    "epoch_batch": re.compile(r"\bepoch\b\W*(?P<epoch>\d+)\s*/\s*\d+\W+(?:[A-Za-z]+\W*)?(?P<step>\d+)\s*/\s*"
                              r"(?P<total>\d+)", re.IGNORECASE),
    "iter": re.compile(r"\b(?:iter(?:ation)?|it)\b\]?\s*[:=#]?\s*\[?\s*(?P<step>\d{1,3}(?:,\d{3})+|\d+)"
                       r"(?:\s*/\s*(?P<total>\d+))?", re.IGNORECASE),
    # Keras: ``n/N [=====>....] - ETA: 0s - loss: ...``, drawn again every epoch after an ``Epoch e/E`` line
    "keras": re.compile(r"(?P<step>\d+)/(?P<total>\d+) \[[=>.]*\]"),
}
_STAMP = re.compile(r"^\[?(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?)")
NOT_METRICS = {c.lower() for c in COUNTERS} | {"iter", "iteration", "it", "batch", "eta", "time", "data_time",
                                               "v_num", "best"}  # loguru trainers' "[best] 0": an eval marker
# how each step counter is named in the sources list
COUNTER_NAMES = {"tqdm": "a tqdm bar's n/total", "step": "step N", "iter": "iter N",
                 "epoch_batch": "epoch and batch-in-epoch, continued across epochs",
                 "keras": "Keras bars, continued across epochs", "pattern": "--text-pattern"}
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


def _kind(lines: list[str], pattern: UserPattern | None = None) -> str | None:
    """The step counter most lines with values use (at least 3 such lines), or None."""
    if pattern is not None:  # the user's regex: its matches are the step lines
        return "pattern" if sum(1 for line in lines if pattern.search(line)) >= 1 else None
    name, count = max(_step_line_counts(lines).items(), key=lambda kv: kv[1])
    return name if count >= MIN_STEP_LINES else None


def _step_line_counts(lines: list[str]) -> dict[str, int]:
    """Per step counter, the lines it finds with at least one value beside it."""
    messages = [_message(line) for line in lines]
    return {name: sum(1 for line in messages if (found := regex.search(line)) and _has_pair(line, found))
            for name, regex in STEPS.items()}


MIN_STEP_LINES = 3  # fewer is a quoted excerpt, not a log to judge


def step_lines_found(path: Path) -> int:
    """How many lines of a text file look like step lines (a step counter and a value), for the message
    that says why a short excerpt was not read."""
    try:
        lines = [line for chunk in _samples(path) for line in chunk.split("\n")]
    except OSError:
        return 0
    return max(_step_line_counts(lines).values())


def _message(line: str) -> str:
    """A line without its logging record's head (time, level, source location)."""
    head = _RECORD_HEAD.match(line)
    return line[head.end():] if head else line


def _outside(line: str, found: re.Match) -> str:
    """A step line without its step counter: the metrics may stand before it or after it."""
    return f"{line[:found.start()]} | {line[found.end():]}"


def _has_pair(line: str, found: re.Match) -> bool:
    return any(_key(m).lower() not in NOT_METRICS for m in PAIR.finditer(_outside(line, found)))


def _key(match: re.Match) -> str:
    key = match.group("key") or match.group("qkey") or match.group("bkey")
    return "_".join(key.split())


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
    return "console" if _kind(lines, UserPattern(pattern) if pattern else None) else None


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
    user = UserPattern(pattern) if pattern else None
    kind = _kind(lines.tolist()[:20000] if len(lines) > 20000 else lines.tolist(), user) or \
        _kind(lines.iloc[:: max(1, len(lines) // 20000)].tolist(), user)
    if kind is None:
        raise InputError(f"{path}: format not recognised: first lines look like: {first_lines(path)}; expected "
                         "lines with a step counter and key: value pairs, or pass --text-pattern REGEX with a "
                         "(?P<step>...) group")
    regex = user if kind == "pattern" else STEPS[kind]
    messages = lines if kind == "pattern" else pd.Series([_message(line) for line in lines], dtype=object)
    found = user.extract(messages) if kind == "pattern" else messages.str.extract(regex)
    # a step the user's pattern captured as something else than digits ("28,500", "n/a") is read or dropped
    numbers = pd.to_numeric(found["step"].astype("string").str.replace(",", "", regex=False), errors="coerce")
    has_step = numbers.notna() & (numbers >= 0)
    rows = lines[has_step]
    steps = numbers[has_step].astype(np.int64)
    if kind == "tqdm":
        _refuse_epoch_bars(path, rows, steps)
    if kind == "pattern":
        tails = list(rows)
    else:
        tails = [_outside(line, m) if m else line for line, m in zip(messages[has_step], map(regex.search,
                                                                                            messages[has_step]),
                                                                      strict=True)]
    step_values = steps.to_numpy()
    if kind == "keras":  # the bar starts over every epoch: each epoch continues where the last one ended
        step_values = _continued(step_values, pd.to_numeric(found.loc[has_step, "total"]).to_numpy())
    elif kind == "epoch_batch":  # (epoch - first epoch) x batches per epoch + batch
        epochs = pd.to_numeric(found.loc[has_step, "epoch"]).to_numpy(dtype=np.int64)
        per_epoch = pd.to_numeric(found.loc[has_step, "total"]).to_numpy(dtype=np.int64)
        step_values = (epochs - epochs.min()) * per_epoch + step_values
    series = _pairs(tails, step_values, _walls(rows))
    if kind == "pattern":
        series += _named_groups(found.loc[has_step], steps.to_numpy(), _walls(rows))
    totals = pd.to_numeric(found.loc[has_step, "total"], errors="coerce").dropna() if "total" in found else []
    total = int(totals.iloc[-1]) if len(totals) and kind not in ("iter", "keras", "epoch_batch") else None  # per epoch
    if kind == "tqdm" and any(_EPOCH_BAR.search(row) for row in rows):
        total = None  # "Epoch N: n/total": the total is one epoch's batches, not the run's steps
    valued = np.unique(np.concatenate([part[4] for part in series])) if series else []
    frame = frame_from_series([part[:4] for part in series], source)
    return ConsoleRead(frame, total, len(valued), kind)


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


def _continued(steps: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """A counter that starts over (a new epoch's bar) continued from the previous bar's total."""
    restarts = np.flatnonzero(steps[1:] < steps[:-1]) + 1
    added = np.zeros(len(steps), dtype=np.int64)
    added[restarts] = totals[restarts - 1]
    return steps.astype(np.int64) + np.cumsum(added)


def _pairs(tails: list[str], steps: np.ndarray, walls: np.ndarray) -> list:
    keys, values, index = [], [], []
    for i, tail in enumerate(tails):
        for match in PAIR.finditer(tail):
            key = _key(match)
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
        out.append((canonical_name(str(key)), steps[rows].astype(np.int64), part["value"].to_numpy(), walls[rows],
                    rows))
    return out


def _named_groups(found: pd.DataFrame, steps: np.ndarray, walls: np.ndarray) -> list:
    out = []
    for name in found.columns:
        if name in ("step", "total") or not isinstance(name, str):
            continue
        values = pd.to_numeric(found[name], errors="coerce").to_numpy()
        ok = np.isfinite(values) | found[name].astype(str).str.lower().isin(["nan", "inf", "-inf"]).to_numpy()
        out.append((canonical_name(name), steps[ok].astype(np.int64), values[ok], walls[ok], np.flatnonzero(ok)))
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
