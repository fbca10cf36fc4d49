"""Before anything is written: every output resolved, checked against every input and each other, and its
folder proven writable. Nothing the user gave is ever overwritten, and a failure is found before the analysis
runs, not after half the outputs are written. While the outputs are made they are staged beside their
targets; ``committed()`` moves them into place together at the end, or removes them all on any failure or
interruption (Ctrl-C, SIGTERM): never a report without its JSON, never a stray temporary file or folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

# names the log readers pick up in a run folder: an output by such a name there would be read as a log
LOG_SUFFIXES = (".csv", ".tsv", ".tab", ".log", ".out", ".txt", ".json", ".jsonl", ".ndjson", ".wandb", ".db",
                ".sqlite", ".sqlite3", ".yaml", ".yml")
MARKER = ".vae-report"  # written in every <stem>_files/ folder we make: only such a folder is ever replaced

RECORD_LIMIT = 2000  # outputs remembered (the newest); an older one is refused inside a run folder like a user's file
_HASHED_BYTES = 64 << 20  # a bigger file in the run folder is not hashed (never one of our reports)
_RECORD_BYTES = RECORD_LIMIT * 8192  # the record file's bound: RECORD_LIMIT entries of the longest paths
_WRITTEN: dict[str, str] = {}  # what this process wrote: known even when the record file cannot be written

# (move into place, remove the staged copy) per staged output of the open commit; None: no commit open
_STAGED: list[tuple[Callable[[], None], Callable[[], None]]] | None = None


@contextmanager
def committed() -> Iterator[None]:
    """Outputs written inside this block are staged, then moved into place together when it ends without an
    error; on an error or an interruption every staged copy is removed and no target is touched."""
    global _STAGED
    outer, mine = _STAGED, []
    _STAGED = mine
    try:
        yield
    except BaseException:
        _discard(mine)
        raise
    finally:
        _STAGED = outer
    # the moves are quick renames: a signal arriving meanwhile is delivered after the last one
    blocked = hasattr(signal, "pthread_sigmask")
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) if blocked else None
    try:
        for done, (move, _) in enumerate(mine):
            try:
                move()
            except BaseException:
                _discard(mine[done:])
                raise
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def _discard(staged: list) -> None:
    for _, remove in staged:
        remove()


def stage(move: Callable[[], None], remove: Callable[[], None], first: bool = False) -> None:
    """Move a fully written output into place now, or at the end of the open ``committed()`` block; ``first``:
    before the others (an append, which can fail on a full disk where a rename cannot: nothing is replaced then)."""
    if _STAGED is None:
        move()
    elif first:
        _STAGED.insert(0, (move, remove))
    else:
        _STAGED.append((move, remove))


def files_dir(out: Path) -> Path:
    """The folder of a Markdown report's images: ``<stem>_files/`` beside it (beside the file a link given as
    ``out`` leads to, where the report is written)."""
    out = out.resolve()
    return out.parent / f"{out.stem}_files"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_outputs(run: Path, inputs: list[Path], outputs: dict[str, Path], markdown: bool,
                  appended: tuple[str, ...] = ()) -> None:
    """Refuse (OutputError) an output that is an input, lies inside the run folder (whatever a file there
    holds, it is the user's, and a new file there would be read with the run next time), or clashes with another
    output; an images folder we did not make; a folder we cannot write to. ``appended`` outputs (GitHub's step
    summary) are added to, not replaced, so an existing file of someone else's outside the run is fine there."""
    run = run.resolve()
    given = [p.resolve() for p in inputs if p is not None]
    resolved = {name: path.resolve() for name, path in outputs.items() if path is not None}
    if markdown and "--out" in resolved:
        resolved["the report's images folder"] = files_dir(outputs["--out"])
    names = list(resolved)
    for i, name in enumerate(names):
        for other in names[i + 1:]:
            if resolved[name] == resolved[other]:
                raise OutputError(f"{outputs.get(name, resolved[name])}: {name} and {other} are the same path; "
                                  "give each output its own name")
    for name, path in resolved.items():
        if name in appended:
            for source in given:
                if path == source:
                    raise OutputError(f"{path}: {name} would write into an input; choose another path")
            _refuse_run_folder(name, path, run)
            _check_writable(name, path, create=True)  # appended where it is: its folder must exist
            continue
        _refuse_inputs(name, path, run, given)
        if name == "the report's images folder":
            _check_images_folder(path, run)
        else:
            _check_writable(name, path)
            refuse_foreign(path, name)


def _refuse_inputs(name: str, path: Path, run: Path, given: list[Path]) -> None:
    for source in given:
        if path == source or (source.is_file() and _inside(path, source)):
            raise OutputError(f"{path}: {name} would overwrite an input ({source}); choose another path")
        if source.is_dir() and _inside(source, path):
            raise OutputError(f"{path}: {name} would replace a folder holding the input {source}; choose another "
                              "path")
    _refuse_run_folder(name, path, run)


def _refuse_run_folder(name: str, path: Path, run: Path) -> None:
    """Inside the run folder only a new file is written: an existing one is the user's whatever it holds (a
    file quoting our header included: content proves nothing), and a new one must not be read as a log of the
    run next time. Our images folder is known by its marker file, not by what it holds."""
    # a run folder that does not exist yet (watch mode, before the trainer starts) is one all the same
    if not ((run.is_dir() or not run.exists()) and _inside(path, run)) or name == "the report's images folder":
        return
    if path.exists() or path.is_symlink():
        if written_by_us(path):
            return  # byte for byte what we last wrote there: replacing it loses nothing of the user's
        if _run_input(path):  # a log or the config: the run's own data, which no advice may send to the bin
            raise OutputError(f"{path}: {name} would replace one of the run's inputs (a log or config it is read "
                              "from, never written); write elsewhere")
        raise OutputError(f"{path}: {name} would replace a file inside the run folder {run} that is not what "
                          "vae-report last wrote there (a file of yours, or a report edited since): it is kept; "
                          "write elsewhere")
    if path.suffix.lower() in LOG_SUFFIXES or "tfevents" in path.name:
        raise OutputError(f"{path}: {name} inside the run folder would be read as one of the run's logs next "
                          "time; give it another name or write it elsewhere")


def _run_input(path: Path) -> bool:
    """A file the run is read from: a log or a config, by its suffix or an event file's name (the link's or its
    target's)."""
    return any(p.suffix.lower() in LOG_SUFFIXES or "tfevents" in p.name for p in (path, path.resolve()))


FOOTER = b"Generated by vae-report"  # the last line of every Markdown and HTML report we write
_TAIL_BYTES = 1 << 16  # where the footer is looked for: the end of the file
# a report's seal, its last line: the SHA-256 of every byte before it. A report whose seal checks is one we wrote and
# nobody edited since (wherever it was copied, whatever the record of what we wrote says); one whose seal fails was
# edited, and is the user's now
_SEAL = re.compile(rb"\n<!-- vae-report sha256:([0-9a-f]{64}) -->\n\Z")
_SEALED_BYTES = 1 << 28  # a report beyond this is not hashed to check its seal (an HTML report is a few MB)


def sealed(text: str) -> bytes:
    """A Markdown or HTML report's bytes with its seal appended (an HTML comment, invisible when rendered)."""
    data = text.encode("utf-8")
    if not data.endswith(b"\n"):
        data += b"\n"
    return data + b"<!-- vae-report sha256:" + hashlib.sha256(data).hexdigest().encode() + b" -->\n"


def refuse_foreign(path: Path, name: str | None = None) -> None:
    """An existing file is replaced only if it is one of ours: what we last wrote there, or a report (our footer
    at its end) or a JSON summary of ours (``"tool": "vae-report"``). Anything else is the user's: notes.md,
    someone's data.json, a folder, a pipe, a link to elsewhere. Checked when the outputs are checked and again
    just before each one is moved into place (a file may have appeared there while the run was analyzed)."""
    what = f"{path} ({name})" if name else str(path)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise OutputError(f"{what} exists and is not a file vae-report wrote (a folder, a link or a device): choose "
                          "another path or remove it first")
    if path.is_file() and not (written_by_us(path) or _looks_ours(path)):
        if _signed(path):  # our footer or seal, and not the bytes we wrote: edited since, the user's now
            raise OutputError(f"{what} is a vae-report output changed since it was written (edited by hand?): it "
                              "is kept; choose another path or remove it first")
        raise OutputError(f"{what} exists and was not written by vae-report: choose another path or remove "
                          "it first")


def marker_text(files: dict[str, bytes]) -> str:
    """The images folder's marker: what it is, then the SHA-256 and name of every file we put in it, so that a
    file added to the folder afterwards (the user's) is known as not ours and the folder is not replaced."""
    listing = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))
    return f"made by vae-report: replaced by the next report of the same name\n{listing}"


def foreign_entry(folder: Path) -> Path | None:
    """The first entry of an images folder that we did not write there (None: all of it is ours). A folder
    without our marker is wholly the user's; a marker that lists files (every version since it did) vouches for
    exactly those bytes; an older marker without a list, for the images alone."""
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file():
        return folder
    try:
        with marker.open("rb") as handle:
            lines = handle.read(_RECORD_BYTES).decode("utf-8", "replace").splitlines()[1:]
        listed = dict(reversed(line.split("  ", 1)) for line in lines if "  " in line)
        for entry in folder.iterdir():
            if entry.name == MARKER:
                continue
            if entry.is_symlink() or not entry.is_file():
                return entry
            if not listed:
                if entry.suffix.lower() != ".png":
                    return entry
            elif listed.get(entry.name) != hashlib.sha256(entry.read_bytes()).hexdigest():
                return entry
    except OSError:
        return folder
    return None


def _looks_ours(path: Path) -> bool:
    """A report of ours nobody edited since (its seal checks; a report from before seals: our footer, and no
    record of ours that its bytes contradict), or a JSON summary of ours that no such record contradicts."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read()
            seal = _SEAL.search(tail)
            if seal is not None:
                if size > _SEALED_BYTES:
                    return False
                handle.seek(0)
                body = handle.read(size - (len(tail) - seal.start()) + 1)  # every byte before the seal's line
                return hashlib.sha256(body).hexdigest() == seal.group(1).decode()
            if FOOTER in tail:
                return not _edited_since(path)
            if size > _HASHED_BYTES:
                return False
            handle.seek(0)
            raw = handle.read()
        data = json.loads(raw) if raw.lstrip().startswith(b"{") else None
        return isinstance(data, dict) and data.get("tool") == "vae-report" and not _edited_since(path)
    except (OSError, ValueError, RecursionError):
        return False


def _signed(path: Path) -> bool:
    """Does the file end with our footer or seal (a report we wrote, perhaps edited since)?"""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read()
        return FOOTER in tail or _SEAL.search(tail) is not None
    except OSError:
        return False


def _edited_since(path: Path) -> bool:
    """We wrote this path and kept a record of its bytes, and the file no longer holds them: edited since."""
    try:
        expected = _recorded(path)
        if not expected or path.stat().st_size > _HASHED_BYTES:
            return False
        return hashlib.sha256(path.read_bytes()).hexdigest() not in expected
    except OSError:
        return False


def _check_images_folder(folder: Path, run: Path) -> None:
    refuse_foreign_folder(folder)
    _check_writable("the report's images folder", folder)


def refuse_foreign_folder(folder: Path) -> None:
    """The report's images folder is replaced whole: only when it, and everything in it, is ours."""
    if not folder.exists() and not folder.is_symlink():
        return
    entry = foreign_entry(folder) if folder.is_dir() and not folder.is_symlink() else folder
    if entry == folder:
        raise OutputError(f"{folder}: exists and was not made by vae-report (no {MARKER} in it); it would be "
                          "replaced by the report's images: move it or choose another --out")
    if entry is not None:
        raise OutputError(f"{entry}: in the report's images folder but not written by vae-report; the folder would "
                          "be replaced with it: move the file out or choose another --out")


def _check_writable(name: str, path: Path, create: bool = False) -> None:
    """The output's folder, or the nearest one that exists (the report makes the rest when it is written: a
    run that fails leaves no folder behind), takes a new file."""
    if path.is_dir() and name != "the report's images folder":
        example = path / ("summary.json" if name == "--json" else "report.md")
        raise OutputError(f"{path}: {name} is a folder; give a file name such as {example}")
    if path.exists() and not path.is_file() and not path.is_dir():
        raise OutputError(f"{path}: {name} is not a regular file (a device or a pipe); give a file path")
    parent = path.parent
    try:
        if create:
            parent.mkdir(parents=True, exist_ok=True)
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise OutputError(f"{path}: {parent} is a file, not a folder; choose another path for {name}")
        handle, probe = tempfile.mkstemp(prefix=".vae-report-probe.", dir=parent)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write {name} in {parent} ({exc.strerror or exc}); choose another "
                          "path") from None


def _record_file() -> Path:
    """Where the digests of the files we wrote are kept: outside every run folder, in the user's cache."""
    base = os.environ.get("VAE_REPORT_CACHE") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vae-report" / "written.json"


def _records() -> dict[str, str]:
    """The record, bounded: a file far beyond RECORD_LIMIT entries (damaged, or not ours) is not parsed."""
    try:
        if not _record_file().is_file():  # a FIFO or a device put there would block or never end
            return {}
        with _record_file().open("rb") as handle:
            raw = handle.read(_RECORD_BYTES + 1)
        data = json.loads(raw) if len(raw) <= _RECORD_BYTES else {}
    except (OSError, ValueError, RecursionError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def remember(path: Path, digest: str) -> None:
    """Record that ``path`` now holds exactly what we wrote (its SHA-256), so that the next report of the same
    name may replace it even inside a run folder. A record that cannot be written only costs that convenience."""
    record = _record_file()
    _WRITTEN[str(path.resolve())] = digest
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        with _locked(record.parent / "written.lock"):  # two reports finishing at once: neither record lost
            known = _records()
            key = str(path.resolve())
            known.pop(key, None)
            known[key] = digest
            kept = dict(list(known.items())[-RECORD_LIMIT:])
            handle, tmp = tempfile.mkstemp(prefix=".written.", dir=record.parent)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(kept, stream)
            os.replace(tmp, record)
    except OSError:
        return


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (where the platform has one) for the record's read-modify-write."""
    try:
        import fcntl
    except ImportError:  # Windows: the last writer wins, which only costs a record
        yield
        return
    handle = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        for _ in range(100):  # at most ~2 s: a holder that hangs costs a record, never the report
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                time.sleep(0.02)
        yield
    finally:
        os.close(handle)


def _recorded(path: Path) -> set[str]:
    """The SHA-256 of the bytes we last wrote at this path, as the record file and this process remember them."""
    key = str(path.resolve())
    return {_records().get(key), _WRITTEN.get(key)} - {None}


def written_by_us(path: Path) -> bool:
    """A regular file whose bytes are what we last wrote at this path (content proves nothing by itself: a
    file quoting our header is still the user's; an unchanged file we wrote is ours)."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _HASHED_BYTES:
            return False
        expected = _recorded(path)
        return bool(expected) and hashlib.sha256(path.read_bytes()).hexdigest() in expected
    except OSError:
        return False
