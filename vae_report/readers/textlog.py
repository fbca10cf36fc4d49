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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import canonical_name, frame_from_series, make_frame

_HEAD = re.compile(r"^([^\n]*?)\[Train Step\] (\d{1,18})/(\d{1,18}): ([^\n]*)$", re.MULTILINE)
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


def read_text_log(path: Path, source: str) -> TextLogRead:
    """Read every ``[Train Step]`` line of a RadioDiff text log (file or console copy).

    Lines come in a few shapes (the autoencoder's keys, the discriminator's): lines are grouped by their key
    sequence and each group's numbers are parsed in one pass by pandas' C parser. Lines of any other shape (a
    cut line, a progress bar's tail) are read pair by pair.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read text log ({exc.strerror}); check the path and permissions") from exc
    text = raw.decode("utf-8", errors="replace")
    if "\r" in text:  # the console copy: progress-bar redraws end with \r, not \n
        text = text.replace("\r", "\n")
    head_lines = text[:1 << 20].split("\n", 5)[:5]
    config = next((c for c in map(_config_repr, (ln for ln in head_lines if "{" in ln[:40])) if c is not None), None)
    lines = text.count("\n") + 1
    heads = _HEAD.findall(text)
    if not heads:
        return TextLogRead(make_frame([], [], [], [], source), config, None, lines, 0)
    prefixes, step_text, totals, bodies = zip(*heads, strict=True)
    steps = np.asarray(step_text, dtype=np.int64)
    walls = _wall_times(list(prefixes))
    # A line's shape: its text without digits and signs (bytes.translate runs at memory speed).
    joined = "\n".join(bodies).encode("utf-8", errors="replace")
    shapes, kinds = pd.factorize(pd.Series(joined.translate(None, b"0123456789.+-").split(b"\n")))
    series = []
    skipped = 0
    for kind in range(len(kinds)):
        rows = np.flatnonzero(shapes == kind)
        table = _numbers_of_group([bodies[i] for i in rows])
        if table is not None:
            keys, values = table
            series += [(canonical_name(key), steps[rows], values[:, j], walls[rows]) for j, key in enumerate(keys)
                       if key not in PRINTED_TOO_COARSE]
            continue
        for i in rows:
            pairs = _PAIR.findall(bodies[i])
            skipped += not pairs
            series += [(canonical_name(k), steps[i : i + 1], np.array([float(v)]), walls[i : i + 1]) for k, v in pairs
                       if k not in PRINTED_TOO_COARSE]
    return TextLogRead(frame_from_series(series, source), config, int(totals[-1]), lines, skipped)


def _numbers_of_group(bodies: list[str]) -> tuple[list[str], np.ndarray] | None:
    """Keys and a (lines x keys) array for lines of one shape, or None if they are not all clean
    ``key: number, `` sequences with the first line's keys."""
    pairs = _PAIR.findall(bodies[0])
    keys = [k for k, _ in pairs]
    if not keys or "".join(f"{k}: {v}, " for k, v in pairs) != bodies[0]:
        return None
    joined = "\n".join(bodies)
    if any(c in _NUMBER_CHARS for key in keys for c in key) or any(v.isalpha() for _, v in pairs):
        for key in sorted(set(keys), key=len, reverse=True):
            joined = joined.replace(key + ": ", "")
        numbers = io.StringIO(joined)
    else:  # keys share no character with numbers: delete every key character at memory speed
        numbers = io.BytesIO(joined.encode("utf-8", errors="replace").translate(None, _KEY_BYTES))
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
    raw = "".join(f"{p[:23]:<23}" for p in prefixes).encode("ascii", errors="replace")
    chars = np.frombuffer(raw, dtype=np.uint8).reshape(n, 23) if n else np.zeros((0, 23), np.uint8)
    digits = chars.astype(np.int64) - 48
    shape_ok = np.all(chars[:, [4, 7, 10, 13, 16, 19]] == np.frombuffer(b"-- ::,", dtype=np.uint8), axis=1)
    number_cols = [i for i in range(23) if i not in (4, 7, 10, 13, 16, 19)]
    shape_ok &= np.all((digits[:, number_cols] >= 0) & (digits[:, number_cols] <= 9), axis=1)
    seconds = np.full(n, np.nan)
    if not shape_ok.any():
        return seconds
    d = digits[shape_ok]
    date_key = (d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]) * 10_000 + \
        (d[:, 5] * 10 + d[:, 6]) * 100 + d[:, 8] * 10 + d[:, 9]
    day_keys, day_index = np.unique(date_key, return_inverse=True)
    try:
        days = np.array([np.datetime64(f"{k // 10000:04d}-{k // 100 % 100:02d}-{k % 100:02d}", "D").astype(np.int64)
                         for k in day_keys])
    except ValueError:
        return seconds
    clock = (d[:, 11] * 10 + d[:, 12]) * 3600 + (d[:, 14] * 10 + d[:, 15]) * 60 + d[:, 17] * 10 + d[:, 18]
    naive = days[day_index] * 86400.0 + clock + (d[:, 20] * 100 + d[:, 21] * 10 + d[:, 22]) / 1000.0
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
