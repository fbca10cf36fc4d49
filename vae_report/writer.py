"""How everything vae-report writes reaches the disk, and the only module (with outputs.py, which checks and
records the outputs) that writes at all: tests/test_writes.py walks the package for a write anywhere else.

- a report or summary: one file written in a staging folder beside it and moved into place (never half-written),
  onto nothing or onto a file of ours, checked again just before the move;
- a Markdown report's images: a ``<stem>_files/`` folder swapped in whole, only over a folder all of whose
  files we wrote (``outputs.foreign_entry``); on Linux in one atomic exchange (``renameat2``), so that at every
  instant the old folder or the new one is in place, even when the process is killed;
- GitHub's step summary: appended to, our partial text cut off again when the append fails;
- a private copy of an input (a decompressed ``.gz``): in a temporary folder of the process, never beside the run.

Every staging folder is named with our pid and holds an owner file saying so (pid and host): what a killed
process left is removed by the next write into that folder once that process is gone, and nothing else ever is.
Links and data URIs for the images are here too. Used by the run, sweep and compare reports alike."""

from __future__ import annotations

import atexit
import base64
import ctypes
import errno
import hashlib
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from markupsafe import Markup

from .errors import OutputError
from .outputs import (
    MARKER,
    foreign_entry,
    marker_text,
    refuse_foreign,
    refuse_foreign_folder,
    remember,
    sealed,
    stage,
)


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
    try:
        staging = _staging_folder(files_dir)
    except OSError as exc:
        raise OutputError(f"{files_dir}: cannot write the plots ({exc.strerror}); choose another --out") from exc
    try:
        (staging / "files").mkdir()
        for name, png in images.items():
            (staging / "files" / name).write_bytes(png)
        (staging / "files" / MARKER).write_text(marker_text(images), encoding="utf-8")
    except BaseException as exc:  # an interruption too: no hidden folder left behind
        _remove_staging(staging)
        if isinstance(exc, OSError):
            raise OutputError(f"{files_dir}: cannot write the plots ({exc.strerror}); choose another --out") from exc
        raise

    def swap() -> None:
        try:
            _swap_dir(staging, files_dir)
        except OSError as exc:
            _remove_staging(staging)
            raise OutputError(f"{files_dir}: cannot write the plots ({exc.strerror}); choose another --out") from exc

    stage(swap, lambda: _remove_staging(staging))
    atomic_write(out, sealed(text))
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
    if not parent.stat().st_mode & 0o222:  # marked read-only for everyone: root may write there, but is not asked to
        raise OutputError(f"{out}: the folder {parent} is marked read-only (no write permission for anyone); choose "
                          "another --out, or make it writable first if the report belongs there")
    return parent


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and move it into place (at the end of an open commit). A link
    given as ``path`` is written through (its target is what the outputs were checked as)."""
    path = Path(path).resolve()
    refuse_foreign(path)  # before the bytes are written, and again before the move
    try:
        staging = _staging_folder(path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror}); choose another --out") from exc
    tmp = staging / "report"
    try:
        with tmp.open("xb") as stream:
            stream.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # as readable as any new file
    except BaseException as exc:
        _remove_staging(staging)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write ({exc.strerror}); choose another --out") from exc
        raise
    digest = hashlib.sha256(data).hexdigest()
    stage(lambda: _replace(staging, path, digest), lambda: _remove_staging(staging))


def _replace(staging: Path, path: Path, digest: str) -> None:
    try:
        _move(str(staging / "report"), path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror}); choose another --out") from exc
    finally:
        _remove_staging(staging)
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
        raise OutputError(f"{path}: cannot append the summary ({exc.strerror}); check --github-summary or "
                          "$GITHUB_STEP_SUMMARY") from exc


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """A path to write ``target``'s new bytes to, in a staging folder beside it named with our pid; moved onto
    ``target`` when the block ends without an error, removed otherwise. For a writer replacing its own file (the
    bundled trainer's checkpoints, samples and CSV): the guarded report writes use ``atomic_write``."""
    target = Path(target)
    staging = _staging_folder(target)
    try:
        yield staging / "report"
        os.replace(staging / "report", target)
    finally:
        _remove_staging(staging)


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
    """Put the staged folder (``staging/files``) in place of ours: on Linux one atomic exchange, so the old folder
    or the new one is there at every instant; elsewhere the old one is moved aside into the staging folder first.
    The old one is removed only if it is still wholly ours: a file the user put in it since the check sends it
    back where it was."""
    try:
        refuse_foreign_folder(target)  # again now: a file of the user's may have been put in it since the check
    except OutputError:
        _remove_staging(staging)
        raise
    new = staging / "files"
    if not target.exists() and not target.is_symlink():
        if not _rename2(new, target, _RENAME_NOREPLACE):
            new.rename(target)
        _remove_staging(staging)
        return
    with (staging / OWNER).open("a", encoding="utf-8") as owner:
        owner.write("swapped\n")  # from here the staging folder may hold the old folder: checked before removal
    aside = new if _rename2(new, target, _RENAME_EXCHANGE) else staging / "old"
    if aside != new:
        target.rename(aside)
        new.rename(target)
    entry = foreign_entry(aside)
    if entry is not None:  # put the user's folder back as it was, ours out of the way
        if not (aside == new and _rename2(new, target, _RENAME_EXCHANGE)):
            target.rename(new)
            aside.rename(target)
        _remove_staging(staging)
        raise OutputError(f"{target / entry.name if entry != aside else target}: in the report's images folder but "
                          "not written by vae-report; the folder would be replaced with it: move the file out or "
                          "choose another --out")
    _remove_staging(staging)


# --- staging folders: named with our pid, an owner file inside, removed by a later run once we are gone --------

OWNER = ".vae-report-staging"  # the owner file of a staging folder: what made it, the pid and the host
_HOST = socket.gethostname()  # a pid is only known gone on the machine that ran it
_FRESH = 60.0  # seconds an empty staging folder (no owner file yet: no host to tell) is left to its maker
_OWNER_HEAD = "made by vae-report while writing a report beside it; removed by the next one once process"
_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2  # renameat2(2) flags (linux/fs.h)
_AT_FDCWD = -100


def _libc_renameat2():
    """libc's renameat2 (Linux, glibc 2.28+ and musl); None elsewhere: the moves fall back to plain renames."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


_RENAMEAT2 = _libc_renameat2()


def _rename2(source: Path, target: Path, flags: int) -> bool:
    """renameat2 with ``flags``: True when done, False where the system or its file system lacks it (the caller
    falls back to plain renames); any other failure is an OSError, as a rename's."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(target))


def _staging_folder(target: Path) -> Path:
    """A fresh hidden folder beside ``target`` named with our pid, its owner file written first; what earlier
    processes of this machine that are gone staged in that folder is removed before (``remove_debris``)."""
    remove_debris(target)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.vae-report-{os.getpid()}.", dir=target.parent))
    try:
        (folder / OWNER).write_text(f"{_OWNER_HEAD} {os.getpid()} has ended\npid {os.getpid()}\nhost {_HOST}\n",
                                    encoding="utf-8")
    except BaseException:
        os.rmdir(folder)
        raise
    return folder


def remove_debris(target: Path) -> list[Path]:
    """Remove the staging folders killed processes left beside ``target``, for it or for any other output in its
    folder (a checkpoint of another step): those named as ours with a pid no longer running, whose owner file
    names that pid and this machine, holding only what we write there; anything else is left alone. Returns what
    was removed."""
    pattern = re.compile(r"\..+\.vae-report-(\d+)\.[a-z0-9_]{8}")
    removed = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if found is None or _alive(int(found.group(1))):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink() and not any(entry.iterdir()):
                if time.time() - entry.stat().st_mtime < _FRESH:
                    continue  # maybe another machine's process, between making it and writing its owner file
                entry.rmdir()  # killed between making it and writing its owner file: empty, nothing to lose
            elif _ours(entry, int(found.group(1))):
                shutil.rmtree(entry)
            else:
                continue
            removed.append(entry)
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    """True unless ``pid`` is surely not running (a pid we cannot ask about counts as running)."""
    if os.name != "posix":
        return True  # os.kill on Windows would end the process, not ask about it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):
        return True
    return True


def _ours(folder: Path, pid: int) -> bool:
    """A staging folder holding only what we write there, its owner file naming ``pid``; once it was swapped,
    the folder it holds (the previous images) still wholly ours."""
    owner = folder / OWNER
    try:
        if folder.is_symlink() or not folder.is_dir() or owner.is_symlink() or not owner.is_file():
            return False
        lines = owner.read_text(encoding="utf-8", errors="replace").splitlines()
        if len(lines) < 3 or not lines[0].startswith(_OWNER_HEAD) or lines[1:3] != [f"pid {pid}", f"host {_HOST}"]:
            return False  # another machine's process (a shared file system): its pid means nothing here
        for entry in folder.iterdir():
            if entry.name == OWNER:
                continue
            if entry.is_symlink() or entry.name not in ("files", "old", "report"):
                return False
            if entry.name == "report" and not entry.is_file():
                return False
            if entry.name != "report" and (not entry.is_dir() or ("swapped" in lines and foreign_entry(entry))):
                return False
    except OSError:
        return False
    return True


def _remove_staging(folder: Path) -> None:
    """Our own staging folder, once done with: removed unless it holds something we did not write."""
    if _ours(folder, os.getpid()):
        shutil.rmtree(folder, ignore_errors=True)
