"""Terminal escape sequences removed from a text log before any reader looks at it.

A log written through a terminal library (rich's RichHandler, coloredlogs, loguru, tqdm's colour, Keras'
progress bars) holds ANSI/VT sequences: SGR colours around the level and often around every number
(``rec_loss: \\x1b[1;36m0.12011\\x1b[0m``), OSC-8 hyperlinks to the caller (``\\x1b]8;id=1;file://train.py\\x1b\\\\``),
cursor moves and charset switches. Left in, they split a key from its value and their payload reads as text;
removed whole (never the ESC alone, which would leave ``]8;id=...`` behind), the line is what the terminal showed.
"""

from __future__ import annotations

import re

# ECMA-48: CSI (ESC [ params intermediates final, or its 8-bit form), the string commands OSC/DCS/SOS/PM/APC up
# to their terminator (BEL or ST) or the line's end, nF sequences (ESC intermediates final: a charset choice
# such as ESC ( B), then any other two-byte escape (ESC 7, ESC =, ESC c), and an ESC left alone at the end
_PATTERN = (r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
            r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
            r"|\x1b[ -/]+[0-~]|\x1b[0-~]|\x1b")
_TEXT = re.compile(_PATTERN)
# the bytes form reads UTF-8 bytes: the 8-bit C1 introducers are continuation bytes there, not controls
_BYTES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b\n]*(?:\x07|\x1b\\)?"
                    rb"|\x1b[ -/]+[0-~]|\x1b[0-~]|\x1b")


def without_escapes(text: str) -> str:
    """``text`` without any terminal escape sequence (the check for ESC first keeps plain logs free)."""
    if "\x1b" not in text and "\x9b" not in text and "\x9d" not in text:
        return text
    return _TEXT.sub("", text)


def bytes_without_escapes(raw: bytes) -> bytes:
    """The same for a log's raw UTF-8 bytes."""
    return _BYTES.sub(b"", raw) if b"\x1b" in raw else raw


# a logging record's caller at a line's end, where a logger puts it: rich's path column (``train.py:212``, right-
# aligned), ``(%(filename)s:%(lineno)d)`` or ``[%(pathname)s:%(lineno)d]`` last in a logging format
SOURCE_SUFFIXES = r"py|pyx|ipynb|c|cc|cpp|cu|h|hpp|rs|go|java|jl|lua|js|ts|sh"
_CALLER = re.compile(rf"[ \t]+[(\[]?(?:[\w.\-]+[/\\])*[\w.\-]+\.(?:{SOURCE_SUFFIXES}):\d+[)\]]?[ \t]*$", re.MULTILINE)
_CALLER_HINT = re.compile(rf"\.(?:{SOURCE_SUFFIXES}):\d")


def without_callers(text: str) -> str:
    """``text`` without the caller a logger writes at the end of a record's line: a place in the code, not a
    metric, and it would leave the last field of a ``|``-cut table of metrics no name-and-number field."""
    return _CALLER.sub("", text) if _CALLER_HINT.search(text) else text
