"""JSON metric logs: one object a line (``json.dumps`` per logging call: mmcv/mmengine's ``*.log.json`` and
``scalars.json``, detectron2's ``metrics.json``, W&B's ``wandb-history.jsonl``, plain loops), a list of such
objects, Hugging Face's ``trainer_state.json`` (``log_history``), Sacred's ``metrics.json`` (sacred.py), and a file
of lists per key
(``{"loss": [...], "kl": [...]}``, the index as the step unless a ``step`` list is there).

The step is the counter the records carry (counters.py: ``step``, ``global_step``, ``iteration``, ``total_iters``...);
``epoch`` is the step unit only when it is the only counter and written once per record (the reader says so); an
epoch repeated over records without a counter leaves the records counted by their order. mmcv's epoch-based runner
restarts ``iter`` at every epoch: such a counter is continued across epochs. Nested objects are flattened to
``a/b``; a record's ``mode`` of ``val``/``eval``/``test`` and Hugging Face's ``eval_`` prefix mark validation.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import MAX_STEP, frame_from_series
from ..numbers import counted
from .counters import EPOCHS, STEP_NAMES, global_name, is_counter, once_per_record
from .encoding import decoded, read_text
from .epochs import continued_across_epochs, continued_note, logged_epoch_length
from .names import named_apart
from .sacred import LAYOUT as SACRED
from .sacred import is_sacred_metrics, sacred_series

STEP_KEYS = STEP_NAMES
EPOCH_KEYS = EPOCHS
WALL_KEYS = ("_timestamp", "timestamp", "time", "wall_time", "walltime")
# bookkeeping a trainer writes beside its losses: clocks, throughput, memory, not metrics
NOT_METRICS = {"_runtime", "data_time", "eta_seconds", "eta", "memory", "rank_data_time", "time", "timestamp",
               "_timestamp", "wall_time", "walltime", "total_flos", "train_runtime", "train_samples_per_second",
               "train_steps_per_second", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "seed",
               "total_steps", "max_steps", "num_input_tokens_seen"}
VAL_MODES = {"val", "valid", "validation", "eval", "test"}
_VAL_PREFIXES = ("eval_", "val_", "valid_", "validation_", "test_")
SNIFF_BYTES = 1 << 16
MAX_WHOLE = 32 << 20  # a JSON document larger than this (a dataset's annotations) is not parsed while sniffing
MIN_RECORDS = 2  # fewer is a summary or a config, not a log to judge


@dataclass
class JsonRead:
    frame: pd.DataFrame
    layout: str  # "json lines", "json records", "trainer_state log_history", "json lists" or Sacred's
    records: int
    counter: str  # the key the steps come from ("record order" without one)
    notes: list[str] = field(default_factory=list)
    total_steps: int | None = None  # a trainer_state's max_steps
    unit: str = "step"  # what its steps count: step, epoch (its only counter) or record (no counter: record order)
    # steps an epoch holds and how far off that may be, where the records carry the epoch beside the step
    epoch_length: tuple[int, int] | None = None


def _head(path: Path, size: int = SNIFF_BYTES) -> str:
    return read_text(path, size)


def _lines_are_objects(text: str, complete: bool) -> bool:
    """Do the text's first lines parse as JSON objects (the last one may be cut by the sniffing window)?"""
    lines = [line for line in text.splitlines() if line.strip()]
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    if len(lines) < MIN_RECORDS:
        return False
    checked = lines[:20]
    good = 0
    for line in checked:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        good += isinstance(record, dict) and not _structured_log(record) and _has_metric(flatten(record))
    return good >= max(MIN_RECORDS, len(checked) - 1)


def _structured_log(record: dict) -> bool:
    """A program's own structured log line (wandb's debug-core.log, structlog, loguru's serialize): a level and
    a message, not a metric record."""
    keys = {str(k).lower() for k in record}
    return "level" in keys and bool(keys & {"msg", "message", "event"})


def _has_metric(record: dict) -> bool:
    return any((_is_number(v) or isinstance(v, str) and v.strip().lower() in NON_FINITE)
               and str(k).lower() not in NOT_METRICS and k not in STEP_KEYS and k not in EPOCH_KEYS
               for k, v in record.items())


def sniff_json_log(path: Path) -> bool:
    """Is this file a JSON metric log (JSON lines, a log_history, records or lists per key), not a config?"""
    try:
        size = path.stat().st_size
        if size == 0:
            return False
        head = _head(path)
    except OSError:
        return False
    start = head.lstrip()[:1]
    if start not in ("{", "["):
        return False
    if _lines_are_objects(head, size <= SNIFF_BYTES):
        return True
    if path.suffix.lower() not in (".json", ".jsonl") or size > MAX_WHOLE:
        return False
    try:
        document = json.loads(read_text(path))
    except (ValueError, OSError, RecursionError):
        return False
    return _document_layout(document) is not None


def _document_layout(document) -> str | None:
    if isinstance(document, dict) and document.get("tool") == "vae-report":
        return None  # our own summary, written beside a run: never one of its logs
    if isinstance(document, dict) and isinstance(document.get("log_history"), list):
        return "trainer_state log_history"
    if is_sacred_metrics(document):
        return SACRED
    if isinstance(document, list) and sum(isinstance(r, dict) and _numbers(r) for r in document[:50]) >= \
            min(MIN_RECORDS, len(document)) and len(document) >= MIN_RECORDS:
        return "json records"
    if isinstance(document, dict):
        lists = [v for v in document.values() if isinstance(v, list) and len(v) >= MIN_RECORDS
                 and sum(_is_number(x) for x in v[:50]) >= 0.9 * min(len(v), 50)]
        if lists:
            return "json lists"
    return None


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(record: dict) -> bool:
    return any(_is_number(v) for v in record.values())


def flatten(record: dict, prefix: str = "") -> dict:
    """Nested objects as ``a/b`` keys."""
    out = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "/"))
        else:
            out[name] = value
    return out


def read_json_log(path: Path, source: str) -> JsonRead:
    """Every record's numbers as metrics; a file that is no JSON metric log is refused naming its first lines."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the JSON log ({exc.strerror}); check the path") from exc
    text = decoded(data).lstrip("\ufeff")
    if not text.strip():
        raise InputError(f"{path}: the JSON log is empty; point vae-report at the finished log")
    notes: list[str] = []
    document = _whole(text)
    layout = _document_layout(document) if document is not None else None
    if layout == "json lists":
        return _lists(document, source, notes)
    if layout == SACRED:
        frame, longest, notes = sacred_series(document, source)
        return JsonRead(frame, SACRED, longest, "steps", notes)
    if layout == "trainer_state log_history":
        records = [r for r in document["log_history"] if isinstance(r, dict)]
        summary = [r for r in records if "train_runtime" in r]  # the closing summary: whole-run averages
        if summary:
            notes.append("the closing summary record (train_runtime, the run's mean train_loss) is not a point")
        records = [r for r in records if "train_runtime" not in r]
        total = document.get("max_steps")
        read = _records(records, source, layout, notes, path)
        read.total_steps = int(total) if _is_number(total) and total > 0 else None
        return read
    if layout == "json records":
        return _records([r for r in document if isinstance(r, dict)], source, layout, notes, path)
    return _records(_json_lines(text, path, notes), source, "json lines", notes, path)


def _whole(text: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _json_lines(text: str, path: Path, notes: list[str]) -> list[dict]:
    """The objects of a JSON-lines file. A last line cut mid-write is dropped and counted; a file most of whose
    lines do not parse is not a JSON log and is refused, naming the first of them."""
    lines = text.split("\n")
    records, bad = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if isinstance(value, dict):
            records.append(value)
        else:
            bad.append((number, line))
    torn = bool(bad) and bad[-1][0] == max(i for i, line in enumerate(lines, 1) if line.strip()) \
        and not text.endswith("\n")
    if torn:
        bad.pop()
        notes.append("its last line is cut mid-write (the run is still writing it): dropped")
    if bad and (len(bad) > 0.1 * (len(records) + len(bad)) or not records):
        shown = " | ".join(f"line {n}: {_short(line)}" for n, line in bad[:2])
        raise InputError(f"{path}: not a readable JSON-lines log: {len(bad):,} of {len(records) + len(bad):,} "
                         f"lines are not JSON objects ({shown}); fix or remove the file")
    if bad:
        notes.append(f"{counted(len(bad), 'line')} that are not JSON objects skipped (first: line {bad[0][0]})")
    return records


def _short(line: str, size: int = 120) -> str:
    line = " ".join(line.split())
    return line if len(line) <= size else line[:size] + " ..."


def _split(record: dict) -> str:
    """"val/" for a validation record (mmcv's ``mode``), else ""."""
    mode = record.get("mode") or record.get("split") or record.get("phase")
    return "val/" if isinstance(mode, str) and mode.strip().lower() in VAL_MODES else ""


def _written_name(key: str, split: str) -> str:
    """A key's name with its split said as a level (``eval_loss`` -> ``val/loss``), before it is read as a
    metric (names.py, which keeps two keys apart where they would read as one metric and differ)."""
    low = key.lower()
    if not split:
        for prefix in _VAL_PREFIXES:
            if low.startswith(prefix) and len(key) > len(prefix):
                return "val/" + key[len(prefix):]
    return split + key


def _counter(records: list[dict]) -> str | None:
    """The step key: a counter (counters.py) present in at least half the records, the first that never goes
    back where there are several; else ``epoch`` where it is written once per record; else None (record order)."""
    def column(key: str) -> np.ndarray:
        return np.array([r.get(key) if _is_number(r.get(key)) else np.nan for r in records], dtype=float)

    has_epoch = any(_is_number(r.get("epoch")) for r in records)
    found = []
    nested = [k for k in dict.fromkeys(k for r in records[:50] for k in r) if "/" in k and global_name(k)]
    for key in (*STEP_KEYS, *nested):
        if sum(_is_number(r.get(key)) for r in records) >= 0.5 * len(records):
            values = column(key)
            if is_counter(key, values, epochs=True if has_epoch else None):
                found.append((key, values))
    if found:
        training = np.array([not _split(r) for r in records], dtype=bool)
        return next((key for key, values in found
                     if not (np.diff(values[training & np.isfinite(values)]) < 0).any()), found[0][0])
    for key in EPOCH_KEYS:
        values = column(key)
        if np.isfinite(values).sum() >= 0.5 * len(records) and once_per_record(values[np.isfinite(values)]):
            return key
    return None


def _wall(record: dict) -> float:
    for key in WALL_KEYS:
        value = record.get(key)
        if _is_number(value) and value > 1e8:  # a Unix clock; detectron2's "time" is seconds per iteration
            return float(value)
        if isinstance(value, str):
            stamp = pd.to_datetime(value, errors="coerce", utc=True)
            if stamp is not pd.NaT and not pd.isna(stamp):
                return stamp.timestamp()
    return math.nan


def _records(records: list[dict], source: str, layout: str, notes: list[str], path: Path) -> JsonRead:
    records = [flatten(r) for r in records]
    counter = _counter(records)
    skip = {counter, *STEP_KEYS, *EPOCH_KEYS, *NOT_METRICS, "mode", "split", "phase"}  # keys that are no metric
    # each record's epoch, read once: it continues a counter that restarts every epoch, and gives the epoch's
    # length in steps; a log counted in epochs (or not counted) needs neither
    epochs = None if counter is None or counter in EPOCH_KEYS else np.array(
        [r.get("epoch") if _is_number(r.get("epoch")) else np.nan for r in records], dtype=float)
    if counter is None:
        steps = np.arange(len(records), dtype=np.float64)
        notes.append("no step counter in its records: steps are record numbers (0, 1, 2, ...)")
        keep = np.ones(len(records), dtype=bool)
    else:
        steps = np.array([r.get(counter) if _is_number(r.get(counter)) else np.nan for r in records], dtype=float)
        with np.errstate(invalid="ignore"):
            keep = np.isfinite(steps) & (steps >= 0) & (steps <= MAX_STEP)
            if counter not in EPOCH_KEYS:  # an epoch counter may count fractions of an epoch; a step may not
                keep &= np.where(keep, steps, 0) % 1 == 0
        if (~keep).any():
            notes.extend(_unplaced(records, np.flatnonzero(~keep), counter, skip))
        steps = np.where(keep, steps, np.nan)
        steps = _continued(steps, records, epochs, counter, notes)
        keep &= np.isfinite(steps)  # a validation record before any training one has no step in effect
        if counter in EPOCH_KEYS:
            notes.append("epoch is its only counter: steps are epochs")
    kept = [r for r, k in zip(records, keep, strict=True) if k]
    steps = steps[keep]
    if not kept:
        raise InputError(f"{path}: no record of this JSON log carries a number; first lines: "
                         f"{_short(json.dumps(records[0]) if records else '(none)')}")
    series = _series(steps.astype(np.int64).tolist(), kept, skip, notes)
    frame = frame_from_series(series, source)
    if frame.empty:
        raise InputError(f"{path}: its JSON records hold no numeric metric (keys: "
                         f"{', '.join(list(kept[0])[:8])}); point vae-report at the training log")
    unit = "record" if counter is None else "epoch" if counter in EPOCH_KEYS else "step"
    length = logged_epoch_length(steps, epochs[keep]) if unit == "step" else None
    return JsonRead(frame, layout, len(kept), counter or "record order", notes, unit=unit, epoch_length=length)


# keys of a record that describes the run rather than measures it (mmcv's first line: env_info, config, seed)
META_KEYS = {"env_info", "config", "cfg", "seed", "exp_name", "hparams", "hyperparameters", "args", "meta",
             "git_hash", "mmcv_version", "mmengine_version", "version"}
MESSAGE_KEYS = {"msg", "message", "event", "text"}


def _unplaced(records: list[dict], rows: np.ndarray, counter: str, skip: set) -> list[str]:
    """What the records without a usable step are, each kind said apart: records with metric values whose step
    is missing, not a number, not finite, negative, beyond 2^53 or not whole are points with an impossible step
    (dropped and counted, their steps shown); records with no metric are a program's messages or the run's
    metadata, not points."""
    measured = [i for i in rows.tolist() if _points(records[i], skip)]
    other = [i for i in rows.tolist() if i not in set(measured)]
    messages = [i for i in other if MESSAGE_KEYS & {str(k).lower() for k in records[i]}]
    meta = [i for i in other if i not in set(messages) and META_KEYS & {str(k).lower() for k in records[i]}]
    rest = [i for i in other if i not in set(messages) | set(meta)]
    notes = []
    if measured:
        shown = list(dict.fromkeys(_step_shown(records[i].get(counter, _MISSING)) for i in measured))
        notes.append(f"{counted(sum(_points(records[i], skip) for i in measured), 'point')} with an impossible step "
                     f"dropped: {counted(len(measured), 'record')} with metric values whose {counter} is "
                     f"{_listed(shown[:6])}{' ...' if len(shown) > 6 else ''} (a step is a whole number from 0 to "
                     "2^53)")
    if messages:
        first = next(str(records[messages[0]][k]) for k in records[messages[0]] if str(k).lower() in MESSAGE_KEYS)
        notes.append(f"{counted(len(messages), 'program message')} without {counter} or a metric skipped "
                     f"(first: \"{_short(first, 60)}\")")
    if meta:
        notes.append(f"{counted(len(meta), 'record')} of run metadata ({_keys(records[meta[0]])}) skipped")
    if rest:
        notes.append(f"{counted(len(rest), 'record')} without {counter} or a metric value skipped "
                     f"({_keys(records[rest[0]])})")
    return notes


_MISSING = object()


def _step_shown(value) -> str:
    """A step as the log wrote it: missing, ``NaN``, ``Infinity``, ``-1``, ``2000.5``, ``"2500"``."""
    if value is _MISSING:
        return "missing"
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _listed(items: list[str]) -> str:
    return " or ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} or {items[-1]}"


def _keys(record: dict) -> str:
    keys = list(record)
    return "keys " + ", ".join(keys[:5]) + (" ..." if len(keys) > 5 else "")


def _points(record: dict, skip: set) -> int:
    """How many metric values a record holds (what ``_series`` reads: numbers, and non-finite numbers as text)."""
    return sum(1 for key, value in record.items()
               if key not in skip and not key.startswith("_") and key.lower() not in NOT_METRICS
               and (_is_number(value) or isinstance(value, str) and value.strip().lower() in NON_FINITE))


# how writers spell a value that is not finite when they cannot write json.dumps' bare NaN (a str() of the float,
# JavaScript, a logger that formats before it serialises)
NON_FINITE = {"nan": math.nan, "-nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf,
              "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf}
DENSE_RUN = 3  # a key a number in this many records in a row before its first null is logged every record


def _series(steps: list[int], records: list[dict], skip: set, notes: list[str]) -> list[tuple]:
    """Each metric's (steps, values, wall times). A non-finite value written as text ("nan", "Infinity") is that
    number; a null where a key logged every record is its NaN (pandas' to_json and JavaScript write NaN as
    null), while a null in a key logged now and then (validation every 500 steps in a table's rows) is no point.
    Text in a metric's place is skipped and counted."""
    series: dict[str, tuple[list, list, list]] = {}
    run: dict[str, int] = {}  # numbers in a row so far; -1 once a null was read as NaN, -2 once it was not
    texts = nulls = skipped = 0
    for step, record in zip(steps, records, strict=True):
        split, wall = _split(record), _wall(record)
        for key, value in record.items():
            # W&B's and others' underscored keys (_runtime, _wandb/runtime) are bookkeeping, not metrics
            if key in skip or key.startswith("_") or key.lower() in NOT_METRICS:
                continue
            if _is_number(value):
                number = float(value)
                if run.get(key, 0) >= 0:
                    run[key] = run.get(key, 0) + 1
            elif isinstance(value, str) and value.strip().lower() in NON_FINITE:
                number = NON_FINITE[value.strip().lower()]
                texts += 1
            elif value is None and key in run:
                if run[key] >= DENSE_RUN:
                    run[key] = -1
                elif run[key] >= 0:
                    run[key] = -2
                if run[key] == -2:
                    continue
                number = math.nan
                nulls += 1
            else:
                skipped += isinstance(value, str) and key in run
                continue
            s, v, w = series.setdefault(_written_name(key, split), ([], [], []))
            s.append(step)
            v.append(number)
            w.append(wall)
    if texts:
        notes.append(f"{counted(texts, 'value')} written as text (\"nan\", \"inf\", \"Infinity\") read as the "
                     "non-finite numbers they name")
    if nulls:
        notes.append(f"{counted(nulls, 'null')} in keys logged every record read as NaN (how pandas' to_json and "
                     "JavaScript write a NaN)")
    if skipped:
        notes.append(f"{counted(skipped, 'value')} that are text where a number was logged skipped")
    return named_apart([(name, np.asarray(s, dtype=np.int64), np.asarray(v, dtype=float), np.asarray(w, dtype=float))
                        for name, (s, v, w) in series.items()], notes)


def _continued(steps: np.ndarray, records: list[dict], epochs: np.ndarray | None, counter: str,
               notes: list[str]) -> np.ndarray:
    """mmcv's epoch-based runner logs ``iter`` within the epoch: where the training records' counter falls back
    as the epoch goes up (``epochs``: each record's, None for a log counted in epochs), it is continued across
    epochs; a validation record then takes the training step in effect when it was written."""
    if epochs is None:
        return steps
    training = np.array([not _split(r) for r in records], dtype=bool)
    found = continued_across_epochs(np.where(training, steps, np.nan), epochs)
    if found is None:
        return steps
    out, length = found
    out[~training] = np.nan
    # the training step in effect at each record, for validation records
    last = pd.Series(out).ffill().to_numpy()
    later = np.isfinite(steps) & ~training
    out[later] = last[later]
    notes.append(continued_note(counter, length))
    return out


def _lists(document: dict, source: str, notes: list[str]) -> JsonRead:
    """``{"loss": [...], "kl": [...]}``: each list's index is its step, unless a step list of its length is
    there (a shorter list, logged less often, is said to be)."""
    lists = {k: v for k, v in flatten(document).items() if isinstance(v, list) and v}
    counter = next((k for k in (*STEP_KEYS, *EPOCH_KEYS) if k in lists), None)
    steps_of = np.asarray(lists[counter], dtype=float) if counter else None
    longest = max(len(v) for v in lists.values())
    series, short = [], []
    for key, values in lists.items():
        if key == counter or key in STEP_KEYS or key in EPOCH_KEYS or key.lower() in NOT_METRICS:
            continue
        numbers = np.array([float(x) if _is_number(x) else np.nan for x in values])
        if not np.isfinite(numbers).any() and not any(_is_number(x) for x in values):
            continue
        if steps_of is not None and len(steps_of) == len(numbers):
            steps = steps_of
        else:
            steps = np.arange(len(numbers), dtype=float)
            if len(numbers) < longest:
                short.append(f"{key} ({len(numbers):,})")
        ok = np.isfinite(steps)
        series.append((_written_name(key, ""), steps[ok].astype(np.int64), numbers[ok], np.full(ok.sum(), np.nan)))
    unit = "step" if counter in STEP_KEYS else "epoch" if counter in EPOCH_KEYS or _history(lists) else "record"
    if counter is None:
        notes.append("lists per key without a step list: each value's position in its list is its "
                     + ("epoch (a Keras History: each loss beside its val_ list of the same length, one value an "
                        "epoch)" if unit == "epoch" else "record number (0, 1, 2, ...), not a training step"))
    elif counter in EPOCH_KEYS:
        notes.append("epoch is its only counter: steps are epochs")
    if short:
        notes.append(f"lists shorter than the longest ({longest:,}) read with their own index as the {unit}: "
                     + ", ".join(short))
    frame = frame_from_series(named_apart(series, notes), source)
    return JsonRead(frame, "json lists", longest, counter or "list index", notes, unit=unit)


def _history(lists: dict[str, list]) -> bool:
    """Keras' ``History.history`` (``json.dump(model.fit(...).history)``): one value an epoch, each training
    metric beside a ``val_`` list of the same length (validation runs once an epoch, so a per-step list has
    none of its length)."""
    paired = [k for k in lists if f"val_{k}" in lists and len(lists[f"val_{k}"]) == len(lists[k])]
    return bool(paired) and all(k.startswith("val_") or k in paired or len(lists[k]) == len(lists[paired[0]])
                                for k in lists)
