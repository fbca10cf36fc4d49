"""How everything vae-report writes reaches the disk, and the only module (with outputs.py, which checks and
records the outputs) that writes at all: tests/test_writes.py walks the package for a write anywhere else.

- a report or summary: one file written to a temporary beside it and moved into place (never half-written),
  onto nothing or onto a file of ours, checked again just before the move;
- a Markdown report's images: a ``<stem>_files/`` folder swapped in whole, only over a folder all of whose
  files we wrote (``outputs.foreign_entry``);
- GitHub's step summary: appended to, our partial text cut off again when the append fails;
- a private copy of an input (a decompressed ``.gz``): in a temporary folder of the process, never beside the run.

Links and data URIs for the images are here too. Used by the run, sweep and compare reports alike."""

from __future__ import annotations

import atexit
import base64
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from markupsafe import Markup

from .errors import OutputError
from .outputs import MARKER, marker_text, refuse_foreign, refuse_foreign_folder, remember, stage


def link(files_dir_name: str, name: str) -> str:
    """A relative link CommonMark renders whatever the folder's name (spaces, unicode): percent-encoded."""
    return Markup(quote(f"{files_dir_name}/{name}"))  # made for Markdown: not escaped again

def data_uri(data: bytes, mime: str = "image/png") -> str:
    return Markup(f"data:{mime};base64," + base64.b64encode(data).decode("ascii"))


def is_html(out: Path) -> bool:
    """True for .html/.htm, False for .md/.markdown; anything else is refused."""
    suffix = out.suffix.lower()
    if suffix not in (".md", ".markdown", ".html", ".htm"):
        raise OutputError(f"{out}: unknown report format; end --out with .md or .html")
    return suffix in (".html", ".htm")

def write_markdown(out: Path, text: str, files_dir: Path, images: dict[str, bytes]) -> list[Path]:
    """The images into a fresh folder swapped in whole, then the Markdown: never a half-written report."""
    staging = Path(tempfile.mkdtemp(prefix=f".{files_dir.name}.", dir=files_dir.parent))
    try:
        os.chmod(staging, 0o777 & ~_umask())
        for name, png in images.items():
            (staging / name).write_bytes(png)
        (staging / MARKER).write_text(marker_text(images), encoding="utf-8")
    except BaseException as exc:  # an interruption too: no hidden folder left behind
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{files_dir}: cannot write the plots ({exc.strerror}); choose another --out") from exc
        raise

    def swap() -> None:
        try:
            _swap_dir(staging, files_dir)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(f"{files_dir}: cannot write the plots ({exc.strerror}); choose another --out") from exc

    stage(swap, lambda: shutil.rmtree(staging, ignore_errors=True))
    atomic_write(out, text.encode("utf-8"))
    return [out, files_dir]


def ready_parent(out: Path) -> Path:
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the folder {parent} ({exc.strerror}); choose another --out") from exc
    if out.is_dir():
        raise OutputError(f"{out}: is a folder; give a file name such as {out / 'report.md'}")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{out}: the folder {parent} is not writable; choose another --out")
    return parent


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and move it into place (at the end of an open commit). A link
    given as ``path`` is written through (its target is what the outputs were checked as)."""
    path = Path(path).resolve()
    refuse_foreign(path)  # before the bytes are written, and again before the move
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is as readable as any new file
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write ({exc.strerror}); choose another --out") from exc
        raise
    digest = hashlib.sha256(data).hexdigest()
    stage(lambda: _replace(tmp, path, digest), lambda: Path(tmp).unlink(missing_ok=True))


def _replace(tmp: str, path: Path, digest: str) -> None:
    try:
        _move(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror}); choose another --out") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
    remember(path, digest)


def _move(tmp: str, path: Path) -> None:
    """Onto nothing, a hard link (it fails, where a rename would not, if a file appeared there since the check);
    onto an existing file only after it is checked again as ours. A file system without hard links falls back
    to the checked rename."""
    if not path.exists() and not path.is_symlink():
        try:
            os.link(tmp, path)
            return
        except FileExistsError:
            pass  # someone's file appeared meanwhile: judged below
        except OSError:
            pass  # no hard links here (some network and FUSE file systems)
    refuse_foreign(path)
    os.replace(tmp, path)


def append_text(path: Path, text: str) -> None:
    """Append to a file the user named for that (GitHub's step summary); when the append fails (a full disk)
    what was added is cut off again, so the file is left as it was."""
    path, data = Path(path), text.encode("utf-8")
    try:
        with path.open("ab", buffering=0) as handle:  # unbuffered: what failed to go out is never flushed later
            size = handle.seek(0, os.SEEK_END)
            try:
                done = 0
                while done < len(data):
                    done += handle.write(data[done:])
            except BaseException:
                handle.truncate(size)
                raise
    except OSError as exc:
        raise OutputError(f"{path}: cannot append the summary ({exc.strerror}); check --github-summary") from exc


_PRIVATE: list[Path] = []  # this process's temporary folder, removed at exit


def private_copy(name: str, chunks: Iterator[bytes]) -> Path:
    """The bytes of ``chunks`` as a new file ``name`` in a fresh sub-folder of this process's own temporary
    folder (never beside the run: an input's copy is read, never written over it). The sub-folder is removed
    if the copy fails or is interrupted, the whole folder when the process exits."""
    if not _PRIVATE:
        _PRIVATE.append(Path(tempfile.mkdtemp(prefix="vae-report-")))
        atexit.register(shutil.rmtree, _PRIVATE[0], True)
    _PRIVATE[0].mkdir(parents=True, exist_ok=True)  # a tmp cleaner may have removed it since
    folder = Path(tempfile.mkdtemp(prefix="copy-", dir=_PRIVATE[0]))
    target = folder / name
    try:
        with target.open("xb") as sink:
            for chunk in chunks:
                sink.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap_dir(staging: Path, target: Path) -> None:
    """Put the staged folder in place of ours; the old one is moved aside under a fresh name of its own (never
    onto, nor deleting, a folder someone else named ``.<name>.old``) and then removed."""
    try:
        refuse_foreign_folder(target)  # again now: a file of the user's may have been put in it since the check
    except OutputError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    try:
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            target.rename(old)  # onto the empty folder just made: a rename cannot clobber anything else
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and not target.exists():
            old.rename(target)
        raise OutputError(f"{target}: cannot replace the plots ({exc.strerror}); choose another --out") from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
