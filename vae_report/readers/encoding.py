"""Text logs in another encoding than UTF-8: found by their byte-order mark (or, without one, by the NUL bytes
UTF-16 puts beside every ASCII character), then decoded, or refused naming the encoding."""

from __future__ import annotations

import codecs

_BOMS = [(codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]


def encoding_of(head: bytes) -> tuple[str, int]:
    """(codec, length of its byte-order mark) of a text file from its first bytes; UTF-8 when nothing says
    otherwise. UTF-16 without a mark is recognised by NULs at every other byte of ASCII text."""
    for bom, name in _BOMS:  # UTF-32 LE's mark begins with UTF-16 LE's: longest first
        if head.startswith(bom):
            return name, len(bom)
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


BINARY_SHARE = 0.1  # undecodable bytes or control characters beyond this share of a file's start: not text


def is_binary(text: str) -> bool:
    """Does decoded text look like binary data (an image, a checkpoint, random bytes) rather than a log? Its
    start is mostly undecodable bytes or control characters other than tabs and line ends."""
    head = text[:4096]
    if not head:
        return False
    odd = sum(ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f") for ch in head)
    return odd > BINARY_SHARE * len(head)
