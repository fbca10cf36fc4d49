"""A CSV metric log under another name: Keras' ``CSVLogger`` writes to whatever file it is given (its own
documentation uses ``training.log``), a script's ``csv.writer`` to ``metrics.txt`` or ``progress``. Such a file is
read as CSV by its content, whatever its suffix: a header of names, then rows of numbers with exactly as many
fields. A text log is never taken for one: its lines are not rows of one width under a header of names, and
its ``key: value`` pairs are not names.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from ..frame import KNOWN_METRICS, canonical_name
from .delimiters import CANDIDATES, delimiter_of
from .encoding import decoded, is_binary

SAMPLE_BYTES = 65_536
SAMPLE_ROWS = 20
MIN_ROWS = 2  # a header and one row can be anything; Keras' EarlyStopping leaves at least a few epochs
# a column name: words, a path of words (``train/rec_loss``), a W&B export's ``run - key``, a unit in brackets
_NAME = re.compile(r"[A-Za-z_][\w .\-/()\[\]@]{0,79}")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|[-+]?(nan|inf|infinity)", re.I)
_COUNTERS = ("epoch", "step", "global_step", "iteration", "iter", "it", "_step", "trainer/global_step", "wall time")


def sniff_csv_log(path: Path) -> bool:
    """Whether a file not named ``*.csv`` holds a CSV metric log (a header naming a counter or a loss, then
    rows of numbers of the header's width)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(4096)  # a binary file (a checkpoint, an image without a suffix) costs one block
            if not raw or is_binary(decoded(raw)):
                return False
            raw += handle.read(SAMPLE_BYTES - len(raw))
    except OSError:
        return False
    text = decoded(raw).lstrip("\ufeff")
    if not text.strip():
        return False
    lines = [line for line in text.split("\n")[: SAMPLE_ROWS + 2] if line.strip()]
    if len(raw) == SAMPLE_BYTES or not text.endswith("\n"):
        lines = lines[:-1]  # the last line may be cut by the sample or by a writer still at work
    if len(lines) < MIN_ROWS + 1:
        return False
    delimiter = delimiter_of("\n".join(lines))
    if delimiter not in lines[0] or delimiter not in CANDIDATES:
        return False
    try:
        rows = list(csv.reader((line.rstrip("\r") for line in lines), delimiter=delimiter, skipinitialspace=True))
    except csv.Error:  # a carriage return inside a line: a console's progress bar redrawn, not a CSV
        return False
    names = [n.strip() for n in rows[0]]
    if len(names) < 2 or not all(_NAME.fullmatch(n) for n in names):
        return False
    if any(len(row) != len(names) for row in rows[1:]):
        return False
    cells = [c.strip() for row in rows[1:] for c in row if c.strip()]
    numbers = sum(bool(_NUMBER.fullmatch(c)) for c in cells)
    if not cells or numbers < 0.5 * len(cells):
        return False
    return any(n.lower() in _COUNTERS or canonical_name(n) in KNOWN_METRICS or "loss" in n.lower() for n in names)
