"""W&B run files (``wandb/offline-run-*/run-<id>.wandb``, ``wandb/run-*/``): the history and the run's config.

The file is a ``:W&B`` header (7 bytes) followed by LevelDB-log framing: 32 KiB blocks, each record a 7-byte
header (checksum, little-endian length, type FULL/FIRST/MIDDLE/LAST) around a protobuf
``Record`` of wandb's own schema, decoded with the classes of the ``wandb`` package (optional extra
``vae-report[wandb]``: wandb no longer ships a reader for this file). ``history`` records hold one logged step:
items ``_step``, ``_timestamp`` and every metric as JSON; ``run``/``config`` records hold the config.
Unlike LevelDB, whose checksum is a masked CRC32C, wandb writes a plain CRC-32 (zlib's) of the type byte and the
payload: measured on files the wandb library wrote.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..configs import flatten
from ..errors import InputError
from ..frame import COUNTERS, canonical_name, frame_from_series, step_column
from .encoding import read_text
from .epochs import continued_note, epoch_length
from .names import named_apart
from .records import launches
from .tb_epochs import per_epoch_counter

HEADER = b":W&B"
BLOCK = 32 * 1024
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


@dataclass
class WandbRead:
    frame: pd.DataFrame
    config: dict = field(default_factory=dict)
    records: int = 0
    bad: int = 0  # records whose CRC failed or that did not parse
    truncated: bool = False
    step_note: str = ""  # what its _step counts, said in the sources
    # where the run's own step key goes back (a resume from a checkpoint inside one run): (where the launch
    # begins, its frame), merged and judged as the files of a resumed run are; empty for one launch
    launches: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def records(data: bytes) -> tuple[list[bytes], int, bool]:
    """The payloads of a LevelDB-framed log after the W&B header, the count of records failing their CRC, and
    whether the file ends mid-record (still being written)."""
    out, bad, pending, pos = [], 0, None, 7
    while pos + 7 <= len(data):
        left = BLOCK - pos % BLOCK
        if left < 7:  # a block's tail too short for a header is padding
            pos += left
            continue
        crc, length, kind = struct.unpack_from("<IHB", data, pos)
        start, end = pos + 7, pos + 7 + length
        if kind == 0 and length == 0:
            pos += left  # zero padding to the block's end
            continue
        if end > len(data):
            return out, bad, True
        payload = data[start:end]
        pos = end
        if zlib.crc32(payload, zlib.crc32(bytes([kind]))) != crc:
            bad, pending = bad + 1, None
            continue
        if kind == FULL:
            out.append(payload)
        elif kind == FIRST:
            pending = payload
        elif kind == MIDDLE and pending is not None:
            pending += payload
        elif kind == LAST and pending is not None:
            out.append(pending + payload)
            pending = None
    return out, bad, False


def _record_class():
    try:
        from wandb.proto import wandb_internal_pb2
    except ImportError:
        raise InputError("reading a W&B run file needs the wandb package: pip install 'vae-report[wandb]'") from None
    return wandb_internal_pb2.Record


def _key(item) -> str:
    return "/".join(item.nested_key) if len(item.nested_key) else item.key


def _number(text: str) -> float | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, str) and value.lower() in ("nan", "inf", "-inf", "infinity", "-infinity"):
        return float(value.lower().replace("infinity", "inf"))
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _config_items(update, config: dict) -> None:
    for item in update:
        try:
            value = json.loads(item.value_json)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict) and set(value) <= {"value", "desc"} and "value" in value:
            value = value["value"]  # W&B wraps config values as {"value": ..., "desc": ...}
        node = config
        path = list(item.nested_key) or [item.key]
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):  # records that clash (a: 1, then a.b: 2): the later wins
                node[part] = {}
            node = node[part]
        node[path[-1]] = value


def read_wandb_run(path: Path, source: str) -> WandbRead:
    """Every logged step's scalars (step ``_step``, wall time ``_timestamp``) and the run's config."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the W&B run file ({exc.strerror})") from exc
    if not data.startswith(HEADER):
        raise InputError(f"{path}: not a W&B run file (no :W&B header); pass the run's wandb/ folder")
    record_class = _record_class()
    payloads, bad, truncated = records(data)
    history: list[dict[str, str]] = []
    config: dict = {}
    for payload in payloads:
        record = record_class()
        try:
            record.ParseFromString(payload)
        except Exception:  # a record of a newer schema or damaged: counted, the rest is read
            bad += 1
            continue
        kind = record.WhichOneof("record_type")
        if kind == "history":
            history.append({_key(item): item.value_json for item in record.history.item})
        elif kind == "config":
            _config_items(record.config.update, config)
        elif kind == "run":
            _config_items(record.run.config.update, config)
    counter = own_step_key(history)
    steps, launch, per_epoch = _counter_steps(history, counter)
    names: list[str] = []  # two names read as one metric that differ: said in the sources
    frame = _frame(history, counter, steps, source, names)
    if counter is None:
        note = step_meaning(frame["step"].to_numpy(), config)
    else:
        note = _own_step_note(counter, steps, launch)
        if per_epoch:
            note += "; " + continued_note(counter, per_epoch)
    read = WandbRead(frame, config, len(payloads), bad, truncated, note, notes=names)
    if launch is not None and launch[-1] > 0:  # merged (and judged: resume, start over) as the files of one run
        read.launches = [(f"from {counter} {int(np.nanmin(steps[launch == k])):,}",
                          _frame(history, counter, steps, source, [], launch == k)) for k in range(int(launch[-1]) + 1)]
    return read


def _frame(history: list[dict[str, str]], counter: str | None, steps: np.ndarray, source: str, notes: list[str],
           rows: np.ndarray | None = None) -> pd.DataFrame:
    """The history's scalars at ``steps`` (one per record; only the ``rows`` chosen)."""
    out: dict[str, tuple[list, list, list]] = {}
    for k, values in enumerate(history):
        if rows is None or rows[k]:
            _history(values, out, counter or "_step", steps[k])
    # a _step of NaN, inf or 1e300 becomes an impossible step, dropped and counted where the frame is built
    series = [(k, step_column(s), np.asarray(v, dtype=np.float64), np.asarray(w, dtype=np.float64))
              for k, (s, v, w) in out.items()]
    return frame_from_series(named_apart(series, notes), source)


# a step key that would make more launches than this is no run's counter (an index of something else): _step is read
MAX_LAUNCHES = 5


def _counter_steps(history: list[dict[str, str]], counter: str | None) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Each record's step: its own step key (continued across epochs where it starts over at each one, the steps
    an epoch holds returned), else _step; and each record's launch where the key goes back otherwise (a resume
    from a checkpoint inside one run), None where it never does."""
    key = counter or "_step"
    steps = np.array([math.nan if (v := _number(r.get(key, "null"))) is None else v for r in history])
    if counter is None:
        return steps, None, 0
    known = np.isfinite(steps)
    walls = _walls(history)
    epochs = per_epoch_counter(steps[known], walls[known])
    if epochs is not None:
        length = epoch_length(steps[known])
        out = steps.copy()
        out[known] = (epochs - epochs.min()) * length + steps[known]
        return out, None, length
    launch = np.zeros(len(steps), dtype=np.int64)
    launch[known] = launches(steps[known])
    launch = np.maximum.accumulate(launch)  # a record without the key stays in the launch it was logged in
    return steps, launch, 0


# a step the run logs itself (Lightning's WandbLogger adds trainer/global_step to every call, Hugging Face's
# Trainer train/global_step; scripts global_step or step), in the order one is preferred to another
STEP_KEYS = ("trainer/global_step", "train/global_step", "global_step", "step", "iteration", "iter")


def own_step_key(history: list[dict[str, str]]) -> str | None:
    """The step key the run logs in every ``wandb.log`` call that logs a scalar, as a whole number that goes back
    only where the run resumed from a checkpoint (a few times) or where it starts over each epoch; W&B's ``_step``
    counts the calls (two calls per iteration, a G dict and a D dict, make it twice the step), so such a key is
    the run's step. None where no key is logged so."""
    logging = [v for v in history if any(not k.startswith("_") and k not in STEP_KEYS and k not in COUNTERS for k in v)]
    for key in STEP_KEYS:
        if not logging or any(key not in v for v in logging):
            continue
        steps = [_number(v[key]) for v in logging]
        if any(s is None or not math.isfinite(s) or s < 0 or s != int(s) for s in steps):
            continue
        falls = int((np.diff(np.asarray(steps, dtype=np.float64)) < 0).sum())
        if falls < MAX_LAUNCHES or per_epoch_counter(np.asarray(steps, dtype=np.float64), _walls(logging)) is not None:
            return key
    return None


def _walls(history: list[dict[str, str]]) -> np.ndarray:
    return np.array([math.nan if (v := _number(r.get("_timestamp", "null"))) is None else v for r in history])


def _own_step_note(counter: str, steps: np.ndarray, launch: np.ndarray | None) -> str:
    """What the sources say of the counter used: its name, and how many wandb.log calls a step took (a launch's
    steps counted apart: a resume logs some steps again)."""
    known = np.isfinite(steps)
    pairs = steps[known] if launch is None else steps[known] + 1j * launch[known]
    unique, calls = len(np.unique(pairs)), int(known.sum())
    per = f"; W&B's _step counts the wandb.log calls, {calls / unique:.3g} per step" if unique and calls > unique \
        else ""
    return f"step: the run's own {counter}, logged in every wandb.log call (not W&B's _step){per}"


# where a script's config gives its total in optimizer steps
_TOTALS = ("max_steps", "total_steps", "train_num_steps", "num_train_steps", "max_iter", "max_iters", "num_steps")


def _total_in_config(config: dict) -> tuple[str, int] | None:
    for path, value in flatten(config).items():
        if path.rsplit(".", 1)[-1] in _TOTALS and isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return path, value
    return None


def step_meaning(steps: np.ndarray, config: dict | None = None) -> str:
    """What W&B's ``_step`` counts here: the step given to ``wandb.log(..., step=s)`` (gaps between logged steps
    show it), or W&B's own count of ``wandb.log`` calls (0, 1, 2, ...: the training step only where the run logs
    every step; read as steps, and said)."""
    unique = np.unique(steps)
    if len(unique) < 2:
        return ""
    gaps = np.diff(unique)
    if gaps.max() > 1:
        every = int(np.median(gaps))
        return (f"step: W&B's _step, the step the run passed to wandb.log (logged every {every:,} steps)"
                if every > 1 else "step: W&B's _step, the step the run passed to wandb.log (it skips values)")
    total = _total_in_config(config or {})
    if total is not None and 0.5 * total[1] <= unique[-1] <= total[1]:
        return (f"step: W&B's _step, consecutive from {int(unique[0]):,} to {int(unique[-1]):,}, which the config's "
                f"{total[0]} ({total[1]:,} steps) fits: read as optimizer steps")
    return (f"step: W&B's _step, consecutive from {int(unique[0]):,}: the step the run passed, or W&B's count of "
            "wandb.log calls where it passed none; read as optimizer steps (true when the run logs every step)")


def _history(values: dict[str, str], rows: dict, counter: str, step: float) -> None:
    # a step that is no number is NaN: its points are dropped and counted where the frame is built
    wall = _number(values.get("_timestamp", "null"))
    for key, text in values.items():
        if key in COUNTERS or key.startswith("_") or key == counter:
            continue
        number = _number(text)
        if number is None:
            continue  # images, tables and histograms are JSON objects, not scalars
        steps, nums, walls = rows.setdefault(key, ([], [], []))
        steps.append(step)
        nums.append(number)
        walls.append(np.nan if wall is None else wall)


SUMMARY_NAME = "wandb-summary.json"


def _summary_value(summary: dict, key: str) -> float | None:
    """A number of the summary under ``key`` ("trainer/global_step"), written flat or nested; None otherwise."""
    node: object = summary.get(key)
    if node is None and "/" in key:
        node = summary
        for part in key.split("/"):
            node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, (int, float)) and not isinstance(node, bool) and np.isfinite(node) else None


def read_wandb_summary(path: Path, source: str) -> tuple[pd.DataFrame, int | None]:
    """A W&B run's ``files/wandb-summary.json``: the last value of each scalar, at the run's last step
    (``_step``, wall time ``_timestamp``). Media and tables (objects with a ``_type``) are not scalars."""
    try:
        summary = json.loads(read_text(path))
    except (OSError, ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not a readable W&B summary ({exc}); remove the file or re-sync the run") from None
    if not isinstance(summary, dict):
        raise InputError(f"{path}: not a W&B summary (no JSON object at the top); remove the file")
    # the run's own step where it logs one (Lightning's trainer/global_step in every call): the history is read
    # on that axis, and W&B's _step (its count of wandb.log calls) would put the last values at another step
    step = next((v for v in (_summary_value(summary, key) for key in STEP_KEYS) if v is not None),
                summary.get("_step"))
    if not isinstance(step, (int, float)) or isinstance(step, bool):
        raise InputError(f"{path}: the W&B summary has no _step, so its values have no step; read the run's "
                         "history (its .wandb file) instead")
    wall = summary.get("_timestamp")
    wall = float(wall) if isinstance(wall, (int, float)) and not isinstance(wall, bool) else np.nan
    series = []

    def scalars(node: dict, prefix: str) -> None:
        for key, value in node.items():
            if str(key).startswith("_") or key in COUNTERS:
                continue
            if isinstance(value, dict) and "_type" not in value:
                scalars(value, f"{prefix}{key}/")
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                series.append((canonical_name(prefix + key), np.array([int(step)]), np.array([float(value)]),
                               np.array([wall])))

    scalars(summary, "")
    return frame_from_series(series, source), int(step)
