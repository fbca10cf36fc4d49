"""A text log that holds a Python traceback: the run crashed (a CUDA out-of-memory error, a missing file, a bad
config key) and its log says so. Where no step line came before it, the log is no unknown format a
``--text-pattern`` would read: the run crashed before its first logged step, and the message quotes the exception.
"""

from __future__ import annotations

import re
from pathlib import Path

from .encoding import decoded
from .escapes import without_escapes

_TRACEBACK = "Traceback (most recent call last):"
# the exception a traceback ends in: ``RuntimeError: CUDA out of memory.``, ``torch.OutOfMemoryError: ...``,
# ``KeyboardInterrupt``
_EXCEPTION = re.compile(r"[A-Za-z_][\w.]*(?::(?:\s.*)?)?$")
# a launcher's own exception after its worker's traceback (torchrun's ChildFailedError, accelerate's
# CalledProcessError): the worker's is the cause
_LAUNCHER_ERRORS = ("ChildFailedError", "CalledProcessError")
_EDGE = 1 << 20  # bytes read from each end of a long file: a crash is at its end, a launcher's summary may follow
SHOWN = 200  # characters of the exception quoted


def crash_in(path: Path) -> str | None:
    """The exception line of the last Python traceback in a text file (a worker's before its launcher's), or None
    when it holds none."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_EDGE)
            handle.seek(0, 2)
            size = handle.tell()
            tail = b""
            if size > 2 * _EDGE:
                handle.seek(size - _EDGE)
                tail = handle.read()
    except OSError:
        return None
    found = [e for text in (head, tail) if _TRACEBACK.encode() in text
             for e in exceptions(without_escapes(decoded(text)).replace("\r", "\n"))]
    return _cause(found)


def _cause(found: list[str]) -> str | None:
    """Of the exception lines of a log's tracebacks, the one it died of: the last worker's before its launcher's
    own (torchrun's ChildFailedError, accelerate's CalledProcessError), shortened to SHOWN characters."""
    causes = [e for e in found if not e.split(":", 1)[0].endswith(_LAUNCHER_ERRORS)] or found
    if not causes:
        return None
    line = causes[-1].rstrip(": ")
    return line if len(line) <= SHOWN else line[: SHOWN - 4] + " ..."


def exceptions(text: str) -> list[str]:
    """The exception line ending each traceback of ``text``, in order. A traceback's lines may carry what a
    logger or a launcher puts before each line (``2026-12-04 10:00:00,123 ``, ``[rank0]:``): the text before
    ``Traceback`` on its line is taken off the lines after it."""
    lines = text.split("\n")
    out = []
    for at, line in enumerate(lines):
        where = line.find(_TRACEBACK)
        if where < 0:
            continue
        prefix = line[:where]
        for later in lines[at + 1:at + 400]:
            body = later[len(prefix):] if prefix and later.startswith(prefix) else later
            if not body.strip() or body[:1].isspace() or body.startswith(("During handling", "The above exception")):
                continue  # a frame, its code line, a caret line; a chained traceback's own Traceback line follows
            if body.startswith(_TRACEBACK):
                break
            if _EXCEPTION.match(body.strip()):
                out.append(" ".join(body.split()))
            break
    return out


_AFTER = 30  # lines after a traceback's exception a log may still hold when it ended there (a launcher's summary)


def crash_at_end(path: Path) -> str | None:
    """The exception line of a Python traceback that ends a text log (no more than a launcher's summary after it):
    the process that wrote the log died there; None when the log holds none, or went on logging after it (a
    traceback a trainer caught and printed)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - _EDGE))
            tail = handle.read()
    except OSError:
        return None
    if _TRACEBACK.encode() not in tail:
        return None
    text = without_escapes(decoded(tail)).replace("\r", "\n")
    lines = text.rstrip("\n").split("\n")
    last = max(i for i, line in enumerate(lines) if _TRACEBACK in line)
    after = [line for line in lines[last + 1:] if line.strip()]
    # the traceback's own frame lines are indented; what follows its exception line is the rest of the log
    rest = [line for line in after if not line[:1].isspace() and not line.lstrip().startswith("File ")]
    if len(rest) > _AFTER:
        return None
    return _cause(exceptions(text))  # a worker's, before its launcher's own (torchrun's ends the log)
