"""Logs compressed with gzip (a logrotate'd ``train.log.gz``, a ``metrics.csv.gz`` or ``history.jsonl.gz`` kept
small): read as the file they hold. Each is stream-decompressed once into a private temporary folder (never next
to the run: nothing in it is written) and the readers read that copy under the compressed file's name."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError
from ..writer import private_copy

SUFFIX = ".gz"
MAX_BYTES = 4 << 30  # decompressed: a training log of gigabytes is possible, a gzip bomb is refused
_CHUNK = 1 << 20
_COPIES: dict[tuple[str, int, int], Path] = {}  # (path, size, mtime) -> its decompressed copy, in this process


def inner_name(path: Path) -> str | None:
    """The name of the file a ``.gz`` holds (``train.log`` of ``train.log.gz``); None for another file or an
    archive of many (``.tar.gz``: a folder, not a log)."""
    name = path.name
    if not name.lower().endswith(SUFFIX) or name.lower().endswith(".tar.gz") or len(name) <= len(SUFFIX):
        return None
    return name[: -len(SUFFIX)]


def expanded(path: Path) -> Path:
    """The decompressed copy of a gzip file (made once per process and file version), named as the file it
    holds; InputError (naming the file and how to decompress it by hand) when it does not decompress."""
    info = path.stat()
    key = (str(path), info.st_size, info.st_mtime_ns)
    if key in _COPIES and _COPIES[key].exists():
        return _COPIES[key]
    with path.open("rb") as handle:
        magic = handle.read(2)
    if magic != b"\x1f\x8b":  # named .gz, not gzip: no gunzip will read it
        plain = inner_name(path) or path.stem
        raise InputError(f"{path}: named .gz but not gzip-compressed (its first bytes are not gzip's); if it is the "
                         f"plain log, rename it without .gz (mv {path.name} {plain})")
    written = 0

    def chunks() -> Iterator[bytes]:
        nonlocal written
        with gzip.open(path, "rb") as source:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > MAX_BYTES:
                    raise InputError(f"{path}: decompresses to over {MAX_BYTES >> 30} GB, far more than a training "
                                     f"log; decompress what you need by hand (gunzip -k {path.name})")
                yield chunk

    try:
        target = private_copy(inner_name(path) or path.stem, chunks())
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: a gzip-compressed file that does not decompress ({exc}); check it with "
                         f"gunzip -t {path.name}, or decompress it by hand (gunzip -k {path.name})") from None
    _COPIES[key] = target
    return target
