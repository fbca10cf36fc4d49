"""RadioDiff's text log: ``<date time,ms> [Train Step] <step>/<total>: key: value, key: value, ``.

The file log has a timestamp on every line and the config dict's repr as its first record; the console copy
(stderr, nohup) has no timestamps and is interleaved with tqdm bars (``\\r``) that repeat the same text.
Two lines are written per logged step (autoencoder, then discriminator); both carry ``lr``.
"""

from __future__ import annotations

import ast
import io
import re
import time
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import canonical_name, frame_from_series, make_frame
from .encoding import utf8_bytes
from .escapes import bytes_without_escapes
from .records import launches

_MARK = "[Train Step] "
# "%(asctime)s": YYYY-MM-DD HH:MM:SS,mmm
_SEPARATOR_COLUMNS = [4, 7, 10, 13, 16, 19]
_SEPARATORS = np.frombuffer(b"-- ::,", dtype=np.uint8)
_DIGIT_COLUMNS = [i for i in range(23) if i not in _SEPARATOR_COLUMNS]
_NUM = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf)"
# "key: value, " pairs; a progress bar's tail (":  33%|##") does not match
_NUMBER_CHARS = set("0123456789.+-")
_KEY_BYTES = bytes(b for b in range(256) if chr(b) not in "0123456789.+-, \n")
_PAIR = re.compile(rf"([\w/.-]+): ({_NUM})(?=, |,?\s*$)", re.IGNORECASE)
MARKER = b"[Train Step]"
# RadioDiff prints lr with "{:.5f}": 0.00001 at step 0, 0.00000 ever after. Not data: TensorBoard has the rate.
PRINTED_TOO_COARSE = {"lr"}


@dataclass
class TextLogRead:
    frame: pd.DataFrame
    config: dict | None  # the config repr on the first record, if any
    total_steps: int | None  # the <total> of the last step line
    lines: int
    skipped: int  # lines that looked like step lines but did not parse
    # the frame of each launch when the step counter goes back in the file (``>> nohup.out`` twice): (where it
    # begins, frame); empty for a single launch. ``frame`` then holds every launch's points.
    launches: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    torn: bool = False  # its last line had no end (a log being written, or cut): not read
    # keys printed too coarsely to be data (lr at 5 decimals), left out: key -> (lowest, highest) printed
    coarse: dict[str, tuple[float, float]] = field(default_factory=dict)


def read_text_log(path: Path, source: str) -> TextLogRead:
    """Read every ``[Train Step]`` line of a RadioDiff text log (file or console copy).

    Lines come in a few shapes (the autoencoder's keys, the discriminator's): lines are grouped by their key
    sequence and each group's numbers are parsed in one pass by pandas' C parser. Lines of any other shape (a
    cut line, a progress bar's tail) are read pair by pair.
    """
    try:
        raw = bytes_without_escapes(utf8_bytes(path.read_bytes()))  # colour codes split a key from its value
    except OSError as exc:
        raise InputError(f"{path}: cannot read text log ({exc.strerror}); check the path and permissions") from exc
    torn = bool(raw) and not raw.endswith((b"\n", b"\r"))
    if torn:  # the line being written: ``rec_loss: 0.0`` of ``rec_loss: 0.0123`` would read as a value
        raw = raw[: max(raw.rfind(b"\n"), raw.rfind(b"\r")) + 1]
    config = last_config(raw)
    lines = raw.count(b"\n") + 1
    found = _file_log_lines(raw)
    if found is None:  # not the plain file log (a console copy, odd lines): the general path
        text = raw.decode("utf-8", errors="replace")
        if "\r" in text:  # the console copy: progress-bar redraws end with \r, not \n
            text = text.replace("\r", "\n")
        found = _step_lines(text)
        if found is None:
            return TextLogRead(make_frame([], [], [], [], source), config, None, lines, 0, torn=torn)
        prefixes, steps, totals, bodies = found
        walls = _wall_times(prefixes)
        bodies = [b.encode("utf-8", errors="replace") for b in bodies]
        total = int(totals[-1])
    else:
        steps, total, walls, bodies = found
    # A line's shape: its text without digits and signs (bytes.translate runs at memory speed).
    joined = b"\n".join(bodies)
    shapes, kinds = pd.factorize(pd.Series(joined.translate(None, b"0123456789.+-").split(b"\n")))
    found_values: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}  # metric -> (line indices, values)
    coarse: dict[str, list[float]] = {}  # keys printed too coarsely to read (PRINTED_TOO_COARSE): their values
    skipped = 0
    for kind in range(len(kinds)):
        rows = np.flatnonzero(shapes == kind)
        table = _numbers_of_group([bodies[i] for i in rows])
        if table is not None:
            keys, values = table
            for j, key in enumerate(keys):
                if key in PRINTED_TOO_COARSE:
                    coarse.setdefault(key, []).extend((float(np.nanmin(values[:, j])), float(np.nanmax(values[:, j]))))
                else:
                    found_values.setdefault(canonical_name(key), []).append((rows, values[:, j]))
            continue
        for i in rows:
            pairs = _PAIR.findall(bodies[i].decode("utf-8", errors="replace"))
            skipped += not pairs
            for k, v in pairs:
                if k in PRINTED_TOO_COARSE:
                    coarse.setdefault(k, []).append(float(v))
                else:
                    found_values.setdefault(canonical_name(k), []).append((np.array([i]), np.array([float(v)])))
    launch = launches(steps)  # the counter going back: a new launch
    series, per_launch = [], {}
    for name, parts in found_values.items():
        rows = np.concatenate([p[0] for p in parts])
        values = np.concatenate([p[1] for p in parts])
        order = np.argsort(rows, kind="stable")  # back to file order, whatever line shape each came in
        rows, values = rows[order], values[order]
        series.append((name, steps[rows], values, walls[rows]))
        if len(launch) and launch[-1] > 0:  # merged (and judged) later as separate files of one run are
            for k in np.unique(launch[rows]).tolist():
                member = launch[rows] == k
                per_launch.setdefault(k, []).append((name, steps[rows][member], values[member], walls[rows][member]))
    parts = [(f"from step {int(steps[launch == k].min()):,}", frame_from_series(per_launch[k], source))
             for k in sorted(per_launch)]
    return TextLogRead(frame_from_series(series, source), config, total, lines, skipped, parts, torn,
                       {k: (min(v), max(v)) for k, v in sorted(coarse.items()) if v})


def last_config(raw: bytes) -> dict | None:
    """The config repr RadioDiff logs when a launch starts: the last one in the file (the launch in effect)."""
    found = None
    at = raw.find(b"{'")  # bytes.find runs at memory speed; step lines hold no "{'"
    while at != -1:
        start = raw.rfind(b"\n", 0, at) + 1
        end = raw.find(b"\n", at)
        end = len(raw) if end == -1 else end
        if at - start <= 40 and MARKER not in raw[start:at]:
            config = _config_repr(raw[start:end].decode("utf-8", errors="replace"))
            if config is not None:
                found = config
        at = raw.find(b"{'", end)
    return found


def _file_log_lines(raw: bytes) -> tuple[np.ndarray, int, np.ndarray, list[bytes]] | None:
    """(steps, total, wall times, bodies) when every step line is ``<23-char asctime> [Train Step] S/T: body``,
    decoded column-wise on the bytes; None for anything else (then the general path reads the file)."""
    if b"\r" in raw:
        return None
    buf = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    if not len(raw) or raw[-1] != 10:
        ends = np.append(ends, len(raw))
    starts = np.concatenate(([0], ends[:-1] + 1))
    width = 64  # stamp, marker and the two step counters fit in this window
    candidates = (ends - starts) > 40
    starts, ends = starts[candidates], ends[candidates]
    padded = np.concatenate((buf, np.zeros(width, dtype=np.uint8)))
    window = np.lib.stride_tricks.sliding_window_view(padded, width)[starts]
    marker = np.frombuffer(b" [Train Step] ", dtype=np.uint8)
    ok = np.all(window[:, 23:37] == marker, axis=1)
    if int(ok.sum()) != raw.count(_MARK.encode()) or not ok.any():
        return None  # some step line has another layout
    window, starts, ends = window[ok], starts[ok], ends[ok]
    counters = window[:, 37:]
    digit = (counters >= 48) & (counters <= 57)
    slash = np.argmax(counters == 47, axis=1)
    cols = np.arange(counters.shape[1])
    after = cols[None, :] > slash[:, None]
    colon = np.argmax((counters == 58) & after, axis=1)
    space = counters[np.arange(len(counters)), np.minimum(colon + 1, counters.shape[1] - 1)]
    step_part = cols[None, :] < slash[:, None]
    total_part = after & (cols[None, :] < colon[:, None])
    valid = ((slash > 0) & (slash <= 18) & (colon > slash + 1) & (colon - slash <= 19) & (space == 32)
             & np.all(digit | ~(step_part | total_part), axis=1))
    if not valid.all():
        return None
    steps = _place_value(counters, step_part)
    totals = _place_value(counters, total_part)
    body_starts = starts + 37 + colon + 2
    walls = _stamps_to_seconds(window[:, :23])
    bodies = list(map(raw.__getitem__, map(slice, body_starts.tolist(), ends.tolist())))
    return steps, int(totals[-1]), walls, bodies


def _place_value(chars: np.ndarray, part: np.ndarray) -> np.ndarray:
    """The integer written by the ``part`` digit columns of each row (Horner's rule, column by column)."""
    value = np.zeros(len(chars), dtype=np.int64)
    for k in np.flatnonzero(part.any(axis=0)):
        value = np.where(part[:, k], value * 10 + (chars[:, k].astype(np.int64) - 48), value)
    return value


def _step_lines(text: str) -> tuple[list[str], np.ndarray, list[str], list[str]] | None:
    """(prefixes, steps, totals, bodies) of every ``<prefix>[Train Step] <step>/<total>: <body>`` line.

    Splitting the whole text at the marker (one C call) and cutting each piece at its newline, with ``map``
    doing the per-line work in C, is several times faster than matching a line pattern 300,000 times.
    """
    chunks = text.split(_MARK)
    if len(chunks) < 2:
        return None
    prefixes = [c.rpartition("\n")[2] for c in chunks[:-1]]
    lines = [c.partition("\n")[0] for c in chunks[1:]]
    heads = list(map(str.partition, lines, repeat(": ")))
    counters = list(map(str.partition, map(_first, heads), repeat("/")))
    steps_text = list(map(_first, counters))
    try:
        if not (all(map(_second, heads)) and all(map(_second, counters))):
            raise ValueError
        steps = np.asarray(steps_text, dtype=np.int64)
        if not all(map(str.isdigit, steps_text)) or not all(map(str.isdigit, map(_third, counters))):
            raise ValueError  # a step or a total that is not a plain number: a damaged line
    except (ValueError, OverflowError):  # a damaged or cut line somewhere: check line by line
        keep = [bool(h[1]) and c[1] == "/" and c[0].isdigit() and c[2].isdigit() and len(c[0]) <= 18
                for h, c in zip(heads, counters, strict=True)]
        prefixes, heads, counters = ([x for x, k in zip(seq, keep, strict=True) if k]
                                     for seq in (prefixes, heads, counters))
        if not heads:
            return None
        steps = np.asarray([c[0] for c in counters], dtype=np.int64)
    return prefixes, steps, list(map(_third, counters)), list(map(_third, heads))


_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)


def _numbers_of_group(bodies: list[bytes]) -> tuple[list[str], np.ndarray] | None:
    """Keys and a (lines x keys) array for lines of one shape, or None if they are not all clean
    ``key: number, `` sequences with the first line's keys."""
    first = bodies[0].decode("utf-8", errors="replace")
    pairs = _PAIR.findall(first)
    keys = [k for k, _ in pairs]
    if not keys or "".join(f"{k}: {v}, " for k, v in pairs) != first:
        return None
    joined = b"\n".join(bodies)
    if any(c in _NUMBER_CHARS for key in keys for c in key) or any(v.isalpha() for _, v in pairs):
        text = joined.decode("utf-8", errors="replace")
        for key in sorted(set(keys), key=len, reverse=True):
            text = text.replace(key + ": ", "")
        numbers = io.StringIO(text)
    else:  # keys share no character with numbers: delete every key character at memory speed
        numbers = io.BytesIO(joined.translate(None, _KEY_BYTES))
    try:
        table = pd.read_csv(numbers, header=None, skipinitialspace=True, engine="c",
                            keep_default_na=False, na_values=["nan", "NaN", "-nan"])
    except (ValueError, pd.errors.ParserError):
        return None
    values = table.iloc[:, : len(keys)]
    if table.shape[1] != len(keys) + 1 or not all(pd.api.types.is_float_dtype(t) for t in values.dtypes):
        return None  # a line with other keys or a non-number: let the pair-by-pair path read the group
    return keys, values.to_numpy(dtype=np.float64)


def _wall_times(prefixes: list[str]) -> np.ndarray:
    """Epoch seconds from ``%(asctime)`` prefixes, ``YYYY-MM-DD HH:MM:SS,mmm `` (NaN where a line has none, as
    in the console copy), decoded column-wise.

    The logger writes local time without a zone; it is read as this machine's local time, with the offset of
    the first stamp (a daylight-saving change during the run shifts later times by an hour).
    """
    n = len(prefixes)
    if n and min(map(len, prefixes)) >= 23:
        raw = "".join(map(itemgetter(slice(0, 23)), prefixes)).encode("ascii", errors="replace")
    else:
        raw = "".join(f"{p[:23]:<23}" for p in prefixes).encode("ascii", errors="replace")
    chars = np.frombuffer(raw, dtype=np.uint8).reshape(n, 23) if n else np.zeros((0, 23), np.uint8)
    return _stamps_to_seconds(chars)


def _stamps_to_seconds(chars: np.ndarray) -> np.ndarray:
    """Epoch seconds from rows of 23 bytes ``YYYY-MM-DD HH:MM:SS,mmm`` (NaN for rows of another shape)."""
    n = len(chars)
    digits = chars - np.uint8(48)  # non-digits wrap around to > 9
    shape_ok = np.all(chars[:, _SEPARATOR_COLUMNS] == _SEPARATORS, axis=1)
    shape_ok &= np.all(digits[:, _DIGIT_COLUMNS] <= 9, axis=1)
    seconds = np.full(n, np.nan)
    if not shape_ok.any():
        return seconds
    rows = digits if shape_ok.all() else digits[shape_ok]
    d = [rows[:, k].astype(np.int32) for k in range(23)]  # one column at a time: no n x 23 int64 copy
    date_key = (d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]) * 10_000 + (d[5] * 10 + d[6]) * 100 + d[8] * 10 + d[9]
    if np.all(date_key == date_key[0]):  # most logs fit in a day or a few
        day_keys, day_index = date_key[:1], np.zeros(len(date_key), dtype=np.intp)
    else:
        day_keys, day_index = np.unique(date_key, return_inverse=True)
    try:
        days = np.array([np.datetime64(f"{k // 10000:04d}-{k // 100 % 100:02d}-{k % 100:02d}", "D").astype(np.int64)
                         for k in day_keys])
    except ValueError:
        return seconds
    clock = (d[11] * 10 + d[12]) * 3600 + (d[14] * 10 + d[15]) * 60 + d[17] * 10 + d[18]
    naive = days[day_index] * 86400.0 + clock + (d[20] * 100 + d[21] * 10 + d[22]) / 1000.0
    first = float(naive[0])
    offset = time.mktime(time.struct_time((*time.gmtime(first)[:8], -1))) - first
    seconds[shape_ok] = naive + offset
    return seconds


def _config_repr(line: str) -> dict | None:
    start = line.find("{")
    try:
        value = ast.literal_eval(line[start:].strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
