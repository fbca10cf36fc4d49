"""Logs compressed with gzip (a logrotate'd ``train.log.gz``, a ``metrics.csv.gz`` or ``history.jsonl.gz`` kept
small): read as the file they hold. Each is stream-decompressed once into a private temporary folder (never next
to the run: nothing in it is written) and the readers read that copy under the compressed file's name."""

from __future__ import annotations

import atexit
import gzip
import os
import shutil
import tempfile
import zlib
from pathlib import Path

from ..errors import InputError

SUFFIX = ".gz"
MAX_BYTES = 4 << 30  # decompressed: a training log of gigabytes is possible, a gzip bomb is refused
_CHUNK = 1 << 20
_COPIES: dict[tuple[str, int, int], Path] = {}  # (path, size, mtime) -> its decompressed copy, in this process
_FOLDER: list[str] = []


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
    folder = Path(tempfile.mkdtemp(prefix="gz-", dir=_folder()))
    target = folder / (inner_name(path) or path.stem)
    written = 0
    try:
        with gzip.open(path, "rb") as source, target.open("wb") as sink:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > MAX_BYTES:
                    raise InputError(f"{path}: decompresses to over {MAX_BYTES >> 30} GB, far more than a training "
                                     f"log; decompress what you need by hand (gunzip -k {path.name})")
                sink.write(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise InputError(f"{path}: a gzip-compressed file that does not decompress ({exc}); check it with "
                         f"gunzip -t {path.name}, or decompress it by hand (gunzip -k {path.name})") from None
    except InputError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _COPIES[key] = target
    return target


def _folder() -> str:
    if not _FOLDER:
        _FOLDER.append(tempfile.mkdtemp(prefix="vae-report-"))
        atexit.register(shutil.rmtree, _FOLDER[0], True)
    if not os.path.isdir(_FOLDER[0]):
        os.makedirs(_FOLDER[0], exist_ok=True)
    return _FOLDER[0]
