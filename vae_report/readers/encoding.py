"""The one decoding path of every text input (console and RadioDiff logs, CSV, JSON lines, YAML and JSON
configs): the encoding is found by its byte-order mark (or, without one, by the NUL bytes UTF-16 puts beside
every ASCII character), so a log PowerShell's Tee-Object wrote (UTF-16LE, a BOM, CRLF) is read as a UTF-8 one."""

from __future__ import annotations

import codecs
from pathlib import Path

_BOMS = [(codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]


def encoding_of(head: bytes) -> tuple[str, int]:
    """(codec, length of its byte-order mark) of a text file from its first bytes; UTF-8 when nothing says
    otherwise. UTF-16 without a mark is recognised by NULs at every other byte of ASCII text."""
    for bom, name in _BOMS:  # UTF-32 LE's mark begins with UTF-16 LE's: longest first
        if head.startswith(bom) and (name == "utf-8-sig" or len(head) < len(bom) + 8 or 0 in head[len(bom):]):
            return name, len(bom)  # a log's digits and spaces put NULs in UTF-16/32: without them, a stray mark
    sample = head[:512]
    if len(sample) >= 8:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
            return "utf-16-le", 0
        if even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
            return "utf-16-be", 0
    return "utf-8", 0


def decoded(data: bytes) -> str:
    """Bytes of a text log as text, in the encoding its start names (undecodable bytes as U+FFFD)."""
    name, skip = encoding_of(data[:512])
    return data[skip:].decode(name if name != "utf-8-sig" else "utf-8", errors="replace")


def utf8_bytes(data: bytes) -> bytes:
    """Bytes of a text file as UTF-8 without a byte-order mark, for the readers that scan bytes (the RadioDiff
    log's column-wise parse): UTF-8 as it is (no copy), any other encoding decoded and encoded again."""
    name, skip = encoding_of(data[:512])
    if name == "utf-8":
        return data
    return data[skip:] if name == "utf-8-sig" else decoded(data).encode("utf-8")


def read_text(path: Path, limit: int | None = None) -> str:
    """A text file (or its first ``limit`` bytes) decoded as :func:`decoded` does; OSError as open raises it."""
    with path.open("rb") as handle:
        data = handle.read() if limit is None else handle.read(limit)
    return decoded(data).lstrip("\ufeff")


def encoding_note(data: bytes) -> str | None:
    """For a file's sources notes: the encoding it was read in, where that is not UTF-8."""
    name = encoding_of(data[:512])[0]
    if name in ("utf-8", "utf-8-sig"):
        return None
    return f"read as {name.upper()} (its byte-order mark or its NUL bytes say so)"


BINARY_SHARE = 0.1  # undecodable bytes or control characters beyond this share of a file's start: not text


def is_binary(text: str) -> bool:
    """Does decoded text look like binary data (an image, a checkpoint, random bytes) rather than a log? Its
    start is mostly undecodable bytes or control characters other than tabs and line ends."""
    head = text[:4096]
    if not head:
        return False
    odd = sum(ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f") for ch in head)
    return odd > BINARY_SHARE * len(head)
