"""RadioDiff's text log: ``<date time,ms> [Train Step] <step>/<total>: key: value, key: value, ``.

The file log has a timestamp on every line and the config dict's repr as its first record; the console copy
(stderr, nohup) has no timestamps and is interleaved with tqdm bars (``\\r``) that repeat the same text.
Two lines are written per logged step (autoencoder, then discriminator); both carry ``lr``.
"""

from __future__ import annotations

import ast
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import canonical_name, drop_repeats, make_frame

_STEP = re.compile(r"\[Train Step\] (\d+)/(\d+): ")
_STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) ")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+|nan|inf|infinity)$", re.IGNORECASE)
MARKER = b"[Train Step]"


@dataclass
class TextLogRead:
    frame: pd.DataFrame
    config: dict | None  # the config repr on the first record, if any
    total_steps: int | None  # the <total> of the last step line
    lines: int
    skipped: int  # lines that looked like step lines but did not parse


def read_text_log(path: Path, source: str) -> TextLogRead:
    """Read every ``[Train Step]`` line of a RadioDiff text log (file or console copy)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read text log ({exc.strerror}); check the path and permissions") from exc
    text = raw.decode("utf-8", errors="replace")
    config = None
    total = None
    steps: list[int] = []
    keys: list[str] = []
    values: list[float] = []
    walls: list[float] = []
    skipped = 0
    lines = 0
    stamp_cache: dict[str, float] = {}
    for line in re.split(r"[\r\n]+", text):
        if not line:
            continue
        lines += 1
        if config is None and "{" in line[:40]:
            config = _config_repr(line)
            if config is not None:
                continue
        match = _STEP.search(line)
        if match is None:
            continue
        stamp = _STAMP.match(line)
        wall = _wall_time(stamp, stamp_cache) if stamp else np.nan
        step, total = int(match.group(1)), int(match.group(2))
        pairs = _pairs(line[match.end():])
        if not pairs:
            skipped += 1
            continue
        for key, value in pairs:
            steps.append(step)
            keys.append(key)
            values.append(value)
            walls.append(wall)
    frame = make_frame(steps, [canonical_name(k) for k in keys], values, walls, source)
    # The console copy repeats each step line inside progress bars: keep one point per step and metric.
    frame = drop_repeats(frame)
    return TextLogRead(frame, config, total, lines, skipped)


def _pairs(body: str) -> list[tuple[str, float]]:
    out = []
    for item in body.split(", "):
        key, sep, value = item.partition(": ")
        if not sep:
            continue
        value = value.strip()
        if not _NUMBER.match(value) or not re.fullmatch(r"[\w/.-]+", key):
            continue  # the tail of a progress bar, or a cut line
        out.append((key, float(value)))
    return out


def _wall_time(stamp: re.Match, cache: dict[str, float]) -> float:
    # The logger writes local time without a zone: read it as this machine's local time.
    second = stamp.group(1)
    base = cache.get(second)
    if base is None:
        base = time.mktime(time.strptime(second, "%Y-%m-%d %H:%M:%S"))
        cache[second] = base
    return base + int(stamp.group(2)) / 1000.0


def _config_repr(line: str) -> dict | None:
    start = line.find("{")
    try:
        value = ast.literal_eval(line[start:].strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
