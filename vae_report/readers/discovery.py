"""Which files under a run folder are logs, and of which kind; what to say when none is."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import InputError
from ..numbers import counted
from . import mlflow
from .compressed import expanded, inner_name
from .console import (
    LINE_PREFIX,
    MIN_STEP_LINES,
    TEXT_SUFFIXES,
    crash_note,
    first_lines,
    has_long_lines,
    sniff_text_log,
    step_lines_found,
)
from .crash import crash_in
from .csvsniff import sniff_csv_log
from .encoding import encoding_of
from .jsonlog import sniff_json_log
from .sources import KINDS
from .textlog import last_config
from .wandb import SUMMARY_NAME

JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv", ".tsv", ".tab")  # delimited by commas, semicolons or tabs (delimiters.py)


def discover(root: Path, include: list[Path] | None = None, pattern: str | None = None,
             skipped: list[str] | None = None, configs: list[tuple[Path, dict]] | None = None) -> dict[str, list[Path]]:
    """Log files under ``root`` by kind: event files, CSVs, and text logs (RadioDiff's ``[Train Step]`` lines or
    any console log with a step counter and key/value pairs; ``pattern``: the user's step-line regex)
    (``include``: only files under these folders, e.g. the Lightning versions of one attempt; ``skipped``
    collects the folders not walked, with the reason; ``configs``: the config records of RadioDiff text logs that
    hold no step line, a launch that logged none: its config is the run's schedule all the same)."""
    found: dict[str, list[Path]] = {kind: [] for kind in KINDS}
    folders = [root] if include is None else include
    paths, stores = files_under([Path(f) for f in folders], skipped)
    tool_files = 0
    for path in paths:
        if _wandb_own_file(path, root):
            tool_files += 1
            continue
        probe = path
        inner = inner_name(path)
        if inner is not None and Path(inner).suffix.lower() in (*CSV_SUFFIXES, *JSON_SUFFIXES, *TEXT_SUFFIXES):
            try:  # a gzipped log: its kind is the kind of the file it holds
                probe = expanded(path)
            except InputError:  # listed with its reader's kind, whose error names it and how to decompress it
                suffix = Path(inner).suffix.lower()
                found["csv" if suffix in CSV_SUFFIXES else "json" if suffix in JSON_SUFFIXES else "text log"].append(
                    path)
                continue
        kind = kind_of(probe, pattern)
        if kind is not None:
            found[kind].append(path)
        elif skipped is not None and (probe.suffix in TEXT_SUFFIXES or path.name == "mlflow.db"):
            record = config_record(probe) if configs is not None and path.suffix != ".db" else None
            if record is not None:  # the launch's config, written before any step: read for the schedule
                configs.append((path, record))
                why = _why_not_read(probe)  # a launch that crashed is said as one all the same
                said = f"not read ({why})" if CRASHED_LAUNCH in why else "no step lines"
                skipped.append(f"{path}: {said}; its config record (RadioDiff's, written at launch) is read for "
                               "the schedule")
                continue
            skipped.append(f"{path}: not read (" + ("not an MLflow database it can open" if path.suffix == ".db"
                                                    else _why_not_read(probe)) + _long_lines(probe) + ")")
    if tool_files and skipped is not None:
        skipped.append(f"{counted(tool_files, 'file')} W&B writes about itself (debug logs, requirements): not the "
                       "run's "
                       "metrics, not read")
    for store in [*map(Path, folders), *stores]:
        if mlflow.is_file_store(store):
            found["mlflow"].append(store)
    return found


def config_record(path: Path) -> dict | None:
    """The config repr a RadioDiff text log starts with, from a text file of no step line (a few MB at most)."""
    try:
        if path.stat().st_size > 8 << 20:
            return None
        return last_config(path.read_bytes())
    except OSError:
        return None


BINARY_TEXT = "binary data, not text"
CRASHED_LAUNCH = "a launch that crashed before its first logged step"


def _why_not_read(path: Path) -> str:
    """Why a text file beside a run's logs is not read: binary data under a log's name, a launch that crashed (its
    traceback quoted), else no step lines in a format read here."""
    if path.suffix not in TEXT_SUFFIXES:
        return "no step lines recognised; --text-pattern reads any format"
    if first_lines(path).startswith(f"({BINARY_TEXT}"):
        return f"{BINARY_TEXT}: not a training log"
    crash = crash_in(path)
    if crash is not None:
        return f"no step lines; {CRASHED_LAUNCH}, its Python traceback ending in {crash}"
    return "no step lines recognised; --text-pattern reads any format"


def damaged_files(skipped: list[str]) -> list[str]:
    """Of the notes on files not read, those of a log that is damaged or crashed: where nothing was read, they are
    the reason, as a file of no records yet is not."""
    return [note.replace(": not read (", ": ", 1).removesuffix(")") for note in skipped
            if f": not read ({BINARY_TEXT}" in note or CRASHED_LAUNCH in note]


def kind_of(path: Path, pattern: str | None) -> str | None:
    """Which kind of log a file is, by its name and its first lines (None: not a log read here)."""
    name = path.name
    if "tfevents" in name:
        return "tensorboard"
    if path.suffix.lower() in CSV_SUFFIXES:
        return "csv"
    if name == SUMMARY_NAME:
        return "wandb summary"
    if path.suffix in (*JSON_SUFFIXES, *TEXT_SUFFIXES) and sniff_json_log(path):
        return "json"
    if (path.suffix in TEXT_SUFFIXES or not path.suffix) and sniff_csv_log(path):
        return "csv"  # Keras' CSVLogger('training.log'), a csv.writer to metrics.txt: CSV by content
    if path.suffix in TEXT_SUFFIXES and sniff_text_log(path, pattern):
        return "text log"
    if name.endswith(".wandb"):
        return "wandb"
    if path.suffix in (".db", ".sqlite", ".sqlite3") and mlflow.is_database(path):
        return "mlflow"
    return None


# what the wandb library writes about itself beside a run's history (its own debug logs count their lines)
_WANDB_OWN = ("debug.log", "debug-internal.log", "debug-core.log", "debug-cli.log", "requirements.txt",
              "wandb-metadata.json", "conda-environment.yaml")


def _long_lines(path: Path) -> str:
    if path.suffix not in TEXT_SUFFIXES or not has_long_lines(path):
        return ""
    return (f"; its lines over {LINE_PREFIX:,} characters were looked at only to there: a step counter and its "
            "values open a line")


def _wandb_own_file(path: Path, root: Path) -> bool:
    """A W&B folder's own log or environment file (under ``wandb/``): read as a metric log, its line order would
    become the run's step axis. ``files/output.log``, the run's console, is not one of them."""
    if path.name not in _WANDB_OWN and not (path.name.startswith("debug") and path.suffix == ".log"):
        return False
    parts = path.relative_to(root).parts[:-1] if path.is_relative_to(root) else path.parts[:-1]
    return "wandb" in parts or root.name == "wandb" or any(p.startswith(("offline-run-", "run-")) for p in parts)


def foreign_encoding(path: Path) -> str | None:
    """The encoding of a text file that is not UTF-8 (UTF-16 or UTF-32 by its byte-order mark or its NULs)."""
    try:
        with path.open("rb") as handle:
            name = encoding_of(handle.read(512))[0]
    except OSError:
        return None
    return None if name in ("utf-8", "utf-8-sig") else name.upper()


def files_under(folders: list[Path], skipped: list[str] | None = None) -> tuple[list[Path], list[Path]]:
    """Every regular file under the folders, sorted, each once (a symlinked folder such as W&B's latest-run, or
    a link to a file, does not make a file count twice: real folders are walked before linked ones), and the
    folders named ``mlruns``. One directory listing per folder, no stat per file (thousands of event files).
    A linked folder is walked only if it leads back inside the folders (a link to ``/`` or to a home folder is
    not a sweep of the machine); a folder that cannot be listed, or a link left out, is added to ``skipped``."""
    files: dict[tuple[int, int], Path] = {}
    stores: list[Path] = []
    seen: set[tuple[int, int]] = set()
    roots = [os.path.realpath(f) for f in folders]
    pending = [str(f) for f in folders]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: (e.is_symlink(), e.name))
            info = os.stat(folder)
        except OSError as exc:
            if skipped is not None:
                skipped.append(f"{folder}: not read ({_reason(exc)})")
            continue
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        linked = []
        for entry in entries:
            try:
                if entry.is_dir():
                    if entry.is_symlink() and not leads_inside(entry.path, roots):
                        if skipped is not None:
                            skipped.append(f"{entry.path}: a link to a folder outside the run "
                                           f"({os.path.realpath(entry.path)}), not followed")
                        continue
                    (linked if entry.is_symlink() else pending).append(entry.path)
                    if entry.name == "mlruns":
                        stores.append(Path(entry.path))
                elif entry.is_file():
                    if skipped is not None and _candidate(entry.name) and (why := _unopenable(entry.path)):
                        skipped.append(f"{entry.path}: not read ({why})")
                        continue
                    if entry.is_symlink():
                        target = entry.stat()
                        key = (target.st_dev, target.st_ino)
                    else:
                        key = (info.st_dev, entry.inode())
                    files.setdefault(key, Path(entry.path))
                elif skipped is not None and _candidate(entry.name):
                    skipped.append(f"{entry.path}: not read ({_not_a_file(entry.path)})")
            except OSError:  # a link that loops, a file gone meanwhile
                if skipped is not None and _candidate(entry.name):
                    skipped.append(f"{entry.path}: not read ({_not_a_file(entry.path)})")
                continue
        pending = linked + pending  # popped from the end: real sub-folders first, links last
    return sorted(files.values()), stores


# names a reader would pick up: one that cannot be read is said in the sources, not passed over
_CANDIDATE_SUFFIXES = (*CSV_SUFFIXES, *TEXT_SUFFIXES, *JSON_SUFFIXES, ".wandb", ".db", ".sqlite", ".sqlite3", ".gz")


def _candidate(name: str) -> bool:
    return "tfevents" in name or os.path.splitext(name)[1].lower() in _CANDIDATE_SUFFIXES


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _unopenable(path: str) -> str | None:
    """Why a regular file cannot be opened for reading by this process (None: it can). Opened, not asked of
    ``os.access``, which judges by the real user, not the effective one (a set-uid or capability-limited run)."""
    try:
        os.close(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)))
    except OSError as exc:
        return _reason(exc)
    return None


def _not_a_file(path: str) -> str:
    """Why a log-like name under the run is not a regular file to read (no read is tried: a pipe would block)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if os.path.islink(path):
            return ("a link that loops" if exc.errno == errno.ELOOP
                    else f"a link to {os.readlink(path)}, which does not exist")
        return exc.strerror or str(exc)
    if stat.S_ISFIFO(mode):
        return "a named pipe, not a file: reading it would wait for a writer"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file" + (f" (a link to {os.path.realpath(path)})" if os.path.islink(path) else "")
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    return "not a regular file"


def leads_inside(link: str, roots: list[str]) -> bool:
    target = os.path.realpath(link)
    return any(target == root or target.startswith(root.rstrip(os.sep) + os.sep) for root in roots)



def nothing_read(root: Path, unread: list[str] = ()) -> str:
    """Why a folder gave no metric log: the files and folders that could not be opened (``unread``, with their
    reasons: a log the user cannot read is the likely cause), what it holds, the first lines of a text file it
    could not read, and what to do instead (an empty folder: not the one the trainer writes to, or nothing
    logged yet)."""
    read = ("read: TensorBoard *tfevents*, *.csv/*.tsv, *.jsonl/*.json metric logs, *.log/*.out/*.txt with a step "
            "counter and key: value pairs, each also gzipped (.gz)")
    if root.exists() and not root.is_dir() and not root.is_file():
        return (f"{root}: not a folder or a log file (a device, a pipe or a socket); pass the folder the trainer "
                "writes to, or one of its log files")
    # files that could not be opened (permissions, a device, a broken link): not those read and not recognised
    unopened = [relative_to(note, root) for note in unread if ": not read (" in note
                and not note.split(": not read (", 1)[1].startswith(("no step lines", "not an MLflow", BINARY_TEXT))]
    if unopened:
        blocked = unopened[:3]
        more = f" and {len(unopened) - 3} more" if len(unopened) > 3 else ""
        fix = ("make them readable by the user running vae-report (chmod a+r for a file, a+rx for a folder)"
               if any("permission denied" in note for note in blocked) else "each log must be a regular file")
        return f"{root}: no metric log could be read: {'; '.join(blocked)}{more}; {fix}"
    held = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
    if not held:
        return (f"{root}: no metric logs found: the folder holds no files ({read}); pass the folder the trainer "
                "writes to, or wait until it has logged")
    names = ", ".join(p.relative_to(root).as_posix() for p in held[:5]) + (
        f" and {len(held) - 5:,} more" if len(held) > 5 else "")
    texts = [p for p in held if p.suffix in TEXT_SUFFIXES][:1]
    if not texts:
        return (f"{root}: no metric logs found among its {counted(len(held), 'file')} ({names}; {read}); if the "
                "metrics are in one of them, export them as CSV (step,tag,value) or point vae-report at the "
                "trainer's log")
    for text in [p for p in held if p.suffix in TEXT_SUFFIXES][:5]:  # a crash's log, whichever text file it is
        crashed = crash_note(text)
        if crashed:  # said first: the one line a terminal shows is cut at its end
            return f"{root}: no metric log; {text.relative_to(root).as_posix()} {crashed}"
    found = f"{root}: no metric logs found among its {counted(len(held), 'file')} ({names}; {read})"
    few = step_lines_found(texts[0])
    head = first_lines(texts[0])
    if head.startswith("(an empty file"):  # no pattern reads an empty or binary file: none is suggested
        return f"{found}; {texts[0].name} is an empty file (0 bytes): nothing was logged to it yet, or not the log"
    if head.startswith("(binary data"):
        return f"{found}; {texts[0].name} holds {BINARY_TEXT}: not a training log"
    what = (f"{texts[0].name} has only {counted(few, 'step line')} (a step counter and values): at least "
            f"{MIN_STEP_LINES} are needed to judge a run (an excerpt?)" if 0 < few < MIN_STEP_LINES else
            f"{texts[0].name} is a text file whose format was not recognised: first lines look like: {head}")
    return (f"{found}; {what}; if it is the training log, pass --text-pattern REGEX with a (?P<step>...) group and "
            "named groups for its values")


def relative_to(note: str, root: Path) -> str:
    prefix = str(root).rstrip("/") + "/"
    return note[len(prefix):] if note.startswith(prefix) else note


def relative(paths: list[Path], base: Path) -> list[str]:
    """Each path relative to the run folder, as text (string work: thousands of files)."""
    prefix = str(base).rstrip("/") + "/"
    out = []
    for path in paths:
        text = str(path)
        if text.startswith(prefix) and os.sep == "/":
            out.append(text[len(prefix):])
        else:
            out.append(path.relative_to(base).as_posix() if path.is_relative_to(base) else text)
    return out


# a split's own folder beside ``train/`` (Keras' TensorBoard callback writes ``train/`` and ``validation/``, and
# many PyTorch scripts open one SummaryWriter per split): the same tags, another split of the same run
SPLIT_FOLDERS = {"validation": "val", "val": "val", "valid": "val", "eval": "val", "evaluation": "val",
                 "test": "val"}
TRAIN_FOLDERS = ("train", "training")


def split_folders(paths: list[Path]) -> dict[Path, str]:
    """{event file: split} for the files in a split's folder whose sibling ``train/`` folder holds event files
    too: their tags are that split's (``epoch_loss`` in ``validation/`` is ``val/epoch_loss``)."""
    parents = {p.parent for p in paths}
    out = {}
    for path in paths:
        split = SPLIT_FOLDERS.get(path.parent.name.lower())
        if split and any(path.parent.parent / name in parents for name in TRAIN_FOLDERS):
            out[path] = split
    return out


def in_split(name: str, split: str | None) -> str:
    """A metric's name in a split's folder: ``val/`` before it, unless its tag already names a split."""
    if not split or name.split("/", 1)[0] in ("val", "val_ema"):
        return name
    return f"{split}/{name}"

