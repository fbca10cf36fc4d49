"""Find a run's logs, read each with its reader, and merge them into one metric frame.

Merging, in two stages:
1. Files of one kind (several event files, text logs or CSVs of a restarted run) are taken in the order they
   were written. As TensorBoard does on a restart, a later file replaces, per metric, every earlier point at
   or after its own first step.
2. Kinds that log the same metric are compared on the steps they share. If they agree (to the
   digits the less precise one prints) the points are pooled, the more precise source winning on shared steps
   (TensorBoard > CSV > text log). If they disagree, they measure different things under one name
   (RadioDiff's TensorBoard ``total_loss`` is (AE loss + disc loss) / 2, its text log's is the AE loss), and
   the trainer's own loss dict wins: text log > CSV > TensorBoard. The report names the source of each metric.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, NoLogsYet
from ..frame import (
    COUNTERS,
    KNOWN_METRICS,
    adopted_names,
    canonical_name,
    concat,
    empty_frame,
    frame_from_series,
    impossible,
    impossible_notes,
    is_sorted,
    make_frame,
    without_impossible,
)
from . import mlflow
from .console import (
    COUNTER_NAMES,
    MIN_STEP_LINES,
    TEXT_SUFFIXES,
    first_lines,
    read_console_log,
    sniff_text_log,
    step_lines_found,
)
from .conventions import read_negative_kl
from .copies import close_values, copies_of, same_values
from .csvlog import read_csv_log
from .encoding import encoding_of
from .jsonlog import read_json_log, sniff_json_log
from .textlog import read_text_log
from .tfevents import read_event_batch, read_event_file
from .wandb import SUMMARY_NAME, read_wandb_run, read_wandb_summary

KINDS = ("tensorboard", "csv", "text log", "json", "wandb", "mlflow", "wandb summary")
# who wins when they agree (a W&B summary only adds the last point a short or absent history lacks)
_PRECISION_ORDER = {"tensorboard": 0, "wandb": 1, "mlflow": 1, "csv": 1, "json": 1, "text log": 2,
                    "wandb summary": 3}
# ... when they disagree
_AUTHORITY_ORDER = {"text log": 0, "csv": 1, "json": 1, "wandb": 1, "mlflow": 1, "tensorboard": 2,
                    "wandb summary": 3}


@dataclass
class SourceFile:
    """One file read, with what was found in it and anything that went wrong."""

    path: str  # relative to the run directory
    kind: str
    points: int
    metrics: list[str]
    notes: list[str] = field(default_factory=list)
    first_wall_time: float = float("nan")
    file: str | None = None  # the file a launch was read from, when one text log holds several launches
    launch: int = 0  # ... and which launch it is (1, 2, ... in the file's order)


@dataclass
class RunLogs:
    """Everything read from a run directory."""

    root: Path
    frame: pd.DataFrame
    sources: list[SourceFile]
    notes: list[str]  # how files and sources were merged
    metric_sources: dict[str, str]  # metric -> kind(s) its points came from
    text_config: dict | None = None
    text_total_steps: int | None = None
    total_steps_origin: str = "text log ([Train Step] step/total)"
    pattern: str | None = None  # the user's step-line regex for text logs
    store_run: str | None = None  # the MLflow run to read (name or id), when a store holds several
    store_config: dict | None = None  # the config a W&B run or an MLflow run carries
    store_config_origin: str = ""
    tail: object | None = None  # a tail.TailCache: only what each event file and CSV gained since the last read
    # where a later file took over (a resume or restart): {"step", "file", "points", "concurrent"}; concurrent
    # when the earlier file was still being written after the later one began (two processes, one folder)
    restarts: list[dict] = field(default_factory=list)
    counts: str = "step"  # what the step axis counts: step | epoch | sample | line (a log without a step counter)


JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


def discover(root: Path, include: list[Path] | None = None, pattern: str | None = None,
             skipped: list[str] | None = None) -> dict[str, list[Path]]:
    """Log files under ``root`` by kind: event files, CSVs, and text logs (RadioDiff's ``[Train Step]`` lines or
    any console log with a step counter and key/value pairs; ``pattern``: the user's step-line regex)
    (``include``: only files under these folders, e.g. the Lightning versions of one attempt; ``skipped``
    collects the folders not walked, with the reason)."""
    found: dict[str, list[Path]] = {kind: [] for kind in KINDS}
    folders = [root] if include is None else include
    paths, stores = files_under([Path(f) for f in folders], skipped)
    for path in paths:
        name = path.name
        if "tfevents" in name:
            found["tensorboard"].append(path)
        elif name.endswith(".csv"):
            found["csv"].append(path)
        elif name == SUMMARY_NAME:
            found["wandb summary"].append(path)
        elif path.suffix in (*JSON_SUFFIXES, *TEXT_SUFFIXES) and sniff_json_log(path):
            found["json"].append(path)
        elif (path.suffix in TEXT_SUFFIXES and (sniff_text_log(path, pattern) or _foreign_encoding(path))) \
                or (path.suffix in JSON_SUFFIXES and _foreign_json_log(path)):
            found["text log"].append(path)
        elif name.endswith(".wandb"):
            found["wandb"].append(path)
        elif path.suffix in (".db", ".sqlite", ".sqlite3") and mlflow.is_database(path):
            found["mlflow"].append(path)
        elif skipped is not None and (path.suffix in TEXT_SUFFIXES or path.name == "mlflow.db"):
            skipped.append(f"{path}: not read (" + ("not an MLflow database it can open" if path.suffix == ".db"
                                                    else "no step lines recognised; --text-pattern reads any "
                                                    "format") + ")")
    for store in [*map(Path, folders), *stores]:
        if mlflow.is_file_store(store):
            found["mlflow"].append(store)
    return found


def _foreign_json_log(path: Path) -> bool:
    """A JSON-lines log in another encoding than UTF-8 (UTF-16 from a Windows tool): refused naming its encoding
    rather than passed over as "no metric logs found". A config in such an encoding is not one."""
    name = _foreign_encoding(path)
    if name is None:
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).decode(name.lower(), errors="ignore").lstrip("\ufeff")
    except (OSError, LookupError):
        return False
    lines = [line.strip() for line in head.splitlines() if line.strip()][:5]
    return len(lines) >= 2 and all(line.startswith("{") for line in lines)


def _foreign_encoding(path: Path) -> str | None:
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
                skipped.append(f"{folder}: not read ({exc.strerror or exc})")
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
                    if entry.is_symlink():
                        target = entry.stat()
                        key = (target.st_dev, target.st_ino)
                    else:
                        key = (info.st_dev, entry.inode())
                    files.setdefault(key, Path(entry.path))
            except OSError:
                continue
        pending = linked + pending  # popped from the end: real sub-folders first, links last
    return sorted(files.values()), stores


def leads_inside(link: str, roots: list[str]) -> bool:
    target = os.path.realpath(link)
    return any(target == root or target.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def load_run(root: Path | str, include: list[Path] | None = None, pattern: str | None = None,
             run: str | None = None, tail: object | None = None) -> RunLogs:
    """Read and merge every log under a run directory (or a single log file); ``include`` limits the folders
    read (one attempt of a folder of Lightning versions); ``tail``: a ``tail.TailCache`` kept between calls, to
    parse only what event files and CSVs gained since (watch mode)."""
    root = Path(root)
    if not root.exists():
        raise NoLogsYet(f"{root}: no such file or directory; pass the run's results folder")
    if root.is_file():
        files = {kind: [] for kind in KINDS}
        kind = ("tensorboard" if "tfevents" in root.name else "csv" if root.suffix == ".csv"
                else "wandb" if root.suffix == ".wandb" else "wandb summary" if root.name == SUMMARY_NAME
                else "mlflow" if mlflow.is_database(root)
                else "json" if root.suffix in JSON_SUFFIXES or sniff_json_log(root) else "text log")
        files[kind].append(root)
        base = root.parent
    else:
        skipped: list[str] = []
        files = discover(root, include, pattern, skipped)
        base = root
    if not any(files.values()):
        raise NoLogsYet(_nothing_read(root))
    if run is not None and not files["mlflow"]:
        raise InputError(f"{root}: --run {run[:60]!r} names a run of an MLflow store, and this folder holds none "
                         "(mlflow.db or mlruns/); leave --run out")
    logs = RunLogs(base, empty_frame(), [], [], {})
    if not root.is_file():
        logs.notes.extend(_relative_to(note, root) for note in skipped[:20])
        if len(skipped) > 20:
            logs.notes.append(f"and {len(skipped) - 20:,} more file(s) or folder(s) not read")
    per_kind = {}
    single = root.is_file()
    logs.pattern, logs.store_run, logs.tail = pattern, run, tail
    for kind, paths in files.items():
        if kind == "tensorboard" and len(paths) > 1 and tail is None:  # many event files: decoded together
            frame = _read_event_files(paths, base, logs, single)
            if frame is not None:
                per_kind[kind] = frame
            continue
        parts = [p for path in paths for p in _read_one_or_note(kind, path, base, logs, single)]
        if parts:
            per_kind[kind] = _merge_files(kind, parts, logs)
    logs.frame = read_negative_kl(_adopt_names(_bounded(_merge_kinds(per_kind, logs), logs), logs), logs.notes)
    _refuse_diffusion(root, logs.frame)
    if logs.frame.empty:
        unread = [f"{s.path}: {s.notes[0][len('not read: '):]}" for s in logs.sources
                  if s.notes and s.notes[0].startswith("not read: ")]
        if unread:
            raise InputError(f"{root}: no readable metric log; " + "; ".join(unread[:3])
                             + (f" (and {len(unread) - 3} more)" if len(unread) > 3 else ""))
        raise InputError(f"{root}: the logs hold no scalar metrics; check that training has logged anything")
    last = int(logs.frame["step"].max())
    if logs.text_total_steps is not None and logs.text_total_steps < last:
        # a total the logs give is in their own unit and never behind them (a bar's or an epoch's N is not it)
        logs.notes.append(f"{logs.total_steps_origin} gives a total of {logs.text_total_steps:,}, below the last "
                          f"{logs.counts} read ({last:,}): not the run's total, left out")
        logs.text_total_steps = None
    return logs


def _nothing_read(root: Path) -> str:
    """Why a folder gave no metric log: what it holds, the first lines of a text file it could not read, and
    what to do instead (an empty folder: not the one the trainer writes to, or nothing logged yet)."""
    read = ("read: TensorBoard *tfevents*, *.csv, *.jsonl/*.json metric logs, *.log/*.out/*.txt with a step "
            "counter and key: value pairs")
    held = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
    if not held:
        return (f"{root}: no metric logs found: the folder holds no files ({read}); pass the folder the trainer "
                "writes to, or wait until it has logged")
    names = ", ".join(p.relative_to(root).as_posix() for p in held[:5]) + (
        f" and {len(held) - 5:,} more" if len(held) > 5 else "")
    texts = [p for p in held if p.suffix in TEXT_SUFFIXES][:1]
    if not texts:
        return (f"{root}: no metric logs found among its {len(held):,} file(s) ({names}; {read}); if the metrics "
                "are in one of them, export them as CSV (step,tag,value) or point vae-report at the trainer's log")
    few = step_lines_found(texts[0])
    what = (f"{texts[0].name} has only {few} step line(s) (a step counter and values): at least {MIN_STEP_LINES} "
            "are needed to judge a run (an excerpt?)" if few else
            f"{texts[0].name} is a text file whose format was not recognised: first lines look like: "
            f"{first_lines(texts[0])}")
    return (f"{root}: no metric logs found among its {len(held):,} file(s) ({names}; {read}); {what}; if it is "
            "the training log, pass --text-pattern REGEX with a (?P<step>...) group and named groups for its values")


def _adopt_names(frame: pd.DataFrame, logs: RunLogs) -> pd.DataFrame:
    """Terms logged under another trainer's names (``recons_loss``, ``kld``, ``d_loss``) read as the rules'
    names, each said in a note; a canonical name the run logs itself is never overwritten."""
    if frame.empty:
        return frame
    renames = adopted_names(frame["metric"].cat.categories)
    if not renames:
        return frame
    metric = frame["metric"].cat.rename_categories(renames)
    logs.metric_sources = {renames.get(k, k): v for k, v in logs.metric_sources.items()}
    logs.notes.append("read under the names the checks use: "
                      + ", ".join(f"{old} as {new}" for old, new in renames.items()))
    return make_frame(frame["step"].to_numpy(), metric.array, frame["value"].to_numpy(),
                      frame["wall_time"].to_numpy(), frame["source"].array)


MAX_METRICS = 2_000  # a training run logs tens of metrics, hundreds at most; every rule and table costs per metric


def _bounded(frame: pd.DataFrame, logs: RunLogs) -> pd.DataFrame:
    """At most MAX_METRICS metrics (the checks' own first, then the others by name), the rest said in a note:
    thousands of tags are a log of something else, and would cost minutes in every rule."""
    names = list(frame["metric"].cat.categories) if len(frame) else []
    if len(names) <= MAX_METRICS:
        return frame
    known = [n for n in names if str(n).split("/", 1)[-1].removesuffix("_epoch") in KNOWN_METRICS]
    taken = set(known[:MAX_METRICS])
    taken.update([n for n in names if n not in taken][: MAX_METRICS - len(taken)])
    logs.notes.append(f"{len(names):,} metrics logged: {len(taken):,} read (the checks' own first), "
                      f"{len(names) - len(taken):,} left out")
    keep = np.isin(frame["metric"].cat.codes.to_numpy(), [i for i, n in enumerate(names) if n in taken])
    part = frame[keep]
    return make_frame(part["step"].to_numpy(), _used_categories(part["metric"].array), part["value"].to_numpy(),
                      part["wall_time"].to_numpy(), _used_categories(part["source"].array))


AUTOENCODER_TERMS = {"rec_loss", "nll_loss", "kl_loss", "quant_loss", "disc_loss", "g_loss", "d_weight", "aeloss",
                     "p_loss", "logvar"}


def _refuse_diffusion(root: Path, frame: pd.DataFrame) -> None:
    """A diffusion model's logs (the second stage: loss_simple, loss_vlb) with no autoencoder term: the schedule
    and every rule here are the first stage's, so a report would call a run it cannot judge "ok"."""
    if frame.empty:
        return
    names = {str(m).split("/", 1)[-1].removesuffix("_epoch") for m in frame["metric"].cat.categories}
    if not names & AUTOENCODER_TERMS and names & {"loss_simple", "loss_vlb", "loss_gamma"}:
        raise InputError(f"{root}: these look like a diffusion model's logs (loss_simple / loss_vlb, no "
                         "reconstruction, KL or discriminator term); vae-report reads first-stage autoencoder "
                         "(VAE-GAN, VQGAN) runs: point it at the autoencoder's results folder")


def read_run(root: Path | str) -> pd.DataFrame:
    """The merged metric frame of a run directory (columns step, metric, value, wall_time, source)."""
    return load_run(root).frame


def _read_one_or_note(kind: str, path: Path, base: Path, logs: RunLogs, single: bool):
    """Read one file; in a folder, a file that is not a readable log is listed in the sources with the reason
    (the run may still have others), never dropped silently. Given alone, its error is the run's."""
    try:
        read = _read_one(kind, path, base, logs)
        return [] if read is None else read if isinstance(read, list) else [read]
    except (InputError, OSError) as exc:
        if single:
            raise
        rel = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
        reason = str(exc).split(": ", 1)[-1] if isinstance(exc, InputError) else exc.strerror or str(exc)
        logs.sources.append(SourceFile(rel, kind, 0, [], [f"not read: {reason}"]))
        return []


def _read_one(kind: str, path: Path, base: Path, logs: RunLogs):
    """(SourceFile, frame), a list of them (a text log holding several launches), or None (nothing to read)."""
    rel = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
    notes: list[str] = []
    if path.stat().st_size == 0:
        logs.sources.append(SourceFile(rel, kind, 0, [], ["empty file, skipped"]))
        return None
    if kind == "tensorboard":
        # read a block at a time and taken into the frame metric by metric, the file's pieces released as they are
        # copied, so the peak stays near the frame's own size
        read = logs.tail.events(path) if logs.tail is not None else read_event_file(path)
        counters = sorted(tag for tag in read.tags if tag.strip().lower() in COUNTERS)
        frame = frame_from_series(_handed_over(read, counters), rel)
        notes = _event_notes(read, counters)
    elif kind == "csv" and path.name == "meta_tags.csv":
        logs.sources.append(SourceFile(rel, kind, 0, [], ["test-tube's hyperparameters (key, value), not metrics"]))
        return None
    elif kind == "csv":
        read = logs.tail.csv(path, rel) if logs.tail is not None else read_csv_log(path, rel)
        frame = read.frame
        notes.append(f"{read.layout} layout")
        notes.extend(read.notes)
        if read.bad_cells:
            notes.append(f"{read.bad_cells:,} non-numeric cell(s) or unusable row(s) skipped")
        if read.total_steps is not None and logs.text_total_steps is None:
            logs.text_total_steps = read.total_steps
            logs.total_steps_origin = f"{rel} (its constant total_steps column)"
        if read.unit != "step":
            logs.counts = read.unit
    elif kind in ("wandb", "mlflow"):
        frame = _read_store(kind, path, rel, logs, notes)
    elif kind == "wandb summary":
        frame, step = read_wandb_summary(path, rel)
        notes.append(f"the W&B run's summary: each metric's last value, at step {step:,} (used where the "
                     "history does not reach it)")
    elif kind == "json":
        read = read_json_log(path, rel)
        frame = read.frame
        notes.append(f"{read.layout}, {read.records:,} record(s), step: {read.counter}")
        notes.extend(read.notes)
        if read.total_steps is not None and logs.text_total_steps is None:
            logs.text_total_steps = read.total_steps
            logs.total_steps_origin = f"{rel} (its max_steps)"
    elif _foreign_encoding(path):  # the text readers work on UTF-8 bytes: said, not read as garbage
        encoding = _foreign_encoding(path)
        raise InputError(f"{path}: a text log in {encoding}, not UTF-8; convert it first, e.g. iconv -f "
                         f"{encoding.removesuffix('-LE').removesuffix('-BE')} -t UTF-8 {path.name} > "
                         f"{path.stem}.utf8{path.suffix}")
    elif logs.pattern or sniff_text_log(path) != "radiodiff":
        read = read_console_log(path, rel, logs.pattern)
        frame = read.frame
        notes.append(f"console log (step counter: {COUNTER_NAMES.get(read.kind, read.kind)}), {read.lines:,} step "
                     "line(s)")
        notes.extend(read.notes)
        if read.total_steps is not None and logs.text_total_steps is None:
            logs.text_total_steps = read.total_steps
            logs.total_steps_origin = f"{rel} ({read.unit}/total in its lines)"
        if read.unit != "step":
            logs.counts = read.unit
        if read.launches:
            return _launches(rel, kind, [(f"from line {line:,}", part) for line, part in read.launches], notes,
                             logs)
    else:
        read = read_text_log(path, rel)
        frame = read.frame
        if read.config is not None:  # the newest log's (names are start times): the config now in effect
            logs.text_config = read.config
        if read.total_steps is not None:
            logs.text_total_steps = read.total_steps
        if read.skipped:
            notes.append(f"{read.skipped:,} step line(s) without readable values skipped")
        if read.launches:
            return _launches(rel, kind, read.launches, notes, logs)
    frame, dropped = without_impossible(frame)
    notes.extend(dropped)
    walls = frame["wall_time"].to_numpy()
    # fmin skips NaN without nanmin's copy of the column (millions of points, read again each watch pass)
    source = SourceFile(rel, kind, len(frame), _metrics_in(frame), notes,
                        float(np.fmin.reduce(walls)) if len(walls) else float("nan"))
    logs.sources.append(source)
    return source, frame


def _launches(rel: str, kind: str, launches: list[tuple[str, pd.DataFrame]], notes: list[str],
              logs: RunLogs) -> list[tuple[SourceFile, pd.DataFrame]]:
    """A text log whose counter goes back: each launch appended to it is a part of its own, merged (and judged:
    resume, start over, other weights) as separate files of one run are."""
    out = []
    for k, (where, frame) in enumerate(launches, 1):
        frame, dropped = without_impossible(frame)
        walls = frame["wall_time"].to_numpy()
        source = SourceFile(f"{rel} (launch {k} of {len(launches)}, {where})", kind, len(frame),
                            _metrics_in(frame), (notes if k == 1 else []) + dropped,
                            float(np.fmin.reduce(walls)) if len(walls) else float("nan"), rel, k)
        logs.sources.append(source)
        out.append((source, frame))
    logs.notes.append(f"{rel} holds {len(launches)} launches (its counter goes back {len(launches) - 1} time(s)): "
                      "read as separate files of one run are")
    return out


def _read_store(kind: str, path: Path, rel: str, logs: RunLogs, notes: list[str]) -> pd.DataFrame:
    """A W&B run file or an MLflow store: its metrics, and its config for the schedule."""
    if kind == "wandb":
        read = read_wandb_run(path, rel)
        if read.bad:
            notes.append(f"{read.bad:,} record(s) failed their CRC or did not parse, skipped")
        if read.truncated:
            notes.append("ends mid-record (the run is still writing it); everything before was read")
        config, origin = read.config, f"{rel} (the W&B run's config)"
        frame = read.frame
    else:
        chosen, count = mlflow.read_run(path, rel, logs.store_run)
        notes.append(f"MLflow run {chosen.name} ({chosen.run_id})" + (f", one of {count}" if count > 1 else ""))
        config, origin = chosen.config, f"{rel} (MLflow params of run {chosen.name})"
        frame = chosen.frame
    if config and logs.store_config is None:
        logs.store_config, logs.store_config_origin = config, origin
    return frame


def _written_order(part: tuple[SourceFile, pd.DataFrame]) -> tuple:
    """When a file was written: its first wall time; without one, what the logs hold (the first step, then the
    path's numbers compared as numbers: version_10 after version_2), never the path's spelling alone."""
    source, frame = part
    first_step = int(frame["step"].min()) if len(frame) else 0
    return (np.nan_to_num(source.first_wall_time, nan=np.inf), first_step, _natural(source.path))


def _in_file_order(parts: list[tuple[SourceFile, pd.DataFrame]]) -> list[tuple[SourceFile, pd.DataFrame]]:
    """Launches of one text log in the order the file holds them, whatever their first steps (a fresh start
    from step 1 after a resume at step 500), in the places the sort gave that file's launches."""
    out = list(parts)
    for file in {p[0].file for p in parts if p[0].file is not None}:
        places = [i for i, p in enumerate(parts) if p[0].file == file]
        for i, part in zip(places, sorted((parts[i] for i in places), key=lambda p: p[0].launch), strict=True):
            out[i] = part
    return out


def _merge_files(kind: str, parts: list[tuple[SourceFile, pd.DataFrame]], logs: RunLogs) -> pd.DataFrame:
    """Merge files of one kind in the order they were written; a later file replaces, per metric, every earlier
    point at or after its own first step (TensorBoard's restart semantics)."""
    parts = _without_copies(_in_file_order(sorted(parts, key=_written_order)), logs)
    if len(parts) == 1:
        return parts[0][1]
    merged = concat([p[1] for p in parts])
    rank = np.repeat(np.arange(len(parts)), [len(p[1]) for p in parts])
    drop = _restarts(rank, merged["metric"].cat.codes.to_numpy().astype(np.int64), merged["step"].to_numpy(),
                     [p[0].path for p in parts], list(merged["metric"].cat.categories), logs,
                     merged["value"].to_numpy(), merged["wall_time"].to_numpy(), copies_possible=kind == "text log")
    _note_merged(kind, [p[0].path for p in parts], logs)
    return merged[~drop].reset_index(drop=True)


def _without_copies(parts: list[tuple[SourceFile, pd.DataFrame]], logs: RunLogs) -> list:
    """The parts without those that only repeat another's points (mmengine's two JSON files, a Hugging Face
    checkpoint's trainer_state.json), each said in its source; launches of one text log are never copies."""
    if len(parts) < 2:
        return parts
    merged = concat([p[1] for p in parts])
    rank = np.repeat(np.arange(len(parts)), [len(p[1]) for p in parts])
    found = copies_of(rank, merged["metric"].cat.codes.to_numpy().astype(np.int64), merged["step"].to_numpy(),
                      merged["value"].to_numpy(), len(parts), merged["wall_time"].to_numpy(dtype=np.float64))
    found = {i: j for i, j in found.items() if parts[i][0].file is None or parts[i][0].file != parts[j][0].file}
    for i, j in found.items():
        _note_copy(parts[i][0], parts[j][0].path, len(parts[i][1]), logs)
    return [p for i, p in enumerate(parts) if i not in found]


def _note_copy(source: SourceFile, of: str, points: int, logs: RunLogs) -> None:
    logs.notes.append(f"{source.path}: every one of its {points:,} point(s) is in {of} with the same value: a copy "
                      "of the same log (not a restart), read once")


OVERLAP_SECONDS = 60  # an earlier file written this long after a later one began: both were being written


def _restarts(rank: np.ndarray, codes: np.ndarray, steps: np.ndarray, paths: list[str], names: list[str],
              logs: RunLogs, values: np.ndarray | None = None, walls: np.ndarray | None = None,
              copies_possible: bool = False) -> np.ndarray:
    """Points replaced by a later file (``rank``: each point's file in written order): each file's first step
    per metric, a reverse cumulative minimum over the files after it, one comparison per point."""
    files, metrics = len(paths), len(names)
    firsts = np.full(files * metrics, np.inf)
    first_of = pd.Series(steps, dtype=np.float64).groupby(rank * metrics + codes).min()
    firsts[first_of.index.to_numpy()] = first_of.to_numpy()
    firsts = firsts.reshape(files, metrics)
    # for file i: the earliest first step of its metric in any later file
    later = np.vstack([np.minimum.accumulate(firsts[::-1], axis=0)[::-1][1:], np.full((1, metrics), np.inf)])
    cut = later[rank, codes]
    drop = steps >= cut
    if drop.any():
        # a console copy of a file log (nohup.out) holds the same points; two CSVs or event files never are
        copies = _copies(rank, codes, steps, values, drop) if values is not None and copies_possible else set()
        replaced = pd.Series(cut[drop]).groupby(rank[drop]).agg(["min", "size"])
        spans = _wall_spans(rank, walls, files)
        levels = _replaced_levels(rank, codes, steps, values, drop, names, [int(i) for i in replaced.index])
        for i, (restart, count) in replaced.iterrows():
            i = int(i)
            if i in copies:
                logs.notes.append(f"{paths[i]} holds the same {int(count):,} point(s) as a later file at those "
                                  "steps (a copy of the same log, as a console's nohup.out of a file log): read once")
                continue
            overlap = spans[i][1] - spans[i + 1][0] if i + 1 < files else np.nan
            concurrent = bool(overlap > OVERLAP_SECONDS)
            logs.restarts.append({"step": int(restart), "file": paths[i], "points": int(count),
                                  "concurrent": concurrent,
                                  "replaced": levels[i]})
            if concurrent:
                logs.notes.append(f"{paths[i]} was still being written {overlap / 3600:.1f} hours after "
                                  f"{paths[i + 1]} began: two processes wrote into this folder at once; from step "
                                  f"{int(restart):,} on, the later one's points replace {int(count):,} of its points")
                continue
            logs.notes.append(f"a later file restarts at step {int(restart):,}: it replaces {int(count):,} "
                              f"point(s) of {paths[i]} at or after that step, as TensorBoard does")
    return drop


def _replaced_levels(rank, codes, steps, values, drop, names: list[str], replaced: list[int]) -> dict[int, dict]:
    """For each replaced file, its loss levels where its points begin and where its replaced points end (median
    of 5 points each): what the run had reached before the later file took over. One sort per loss, however
    many files."""
    out: dict[int, dict] = {i: {} for i in replaced}
    if values is None:
        return out
    wanted = set(replaced)
    for name in ("rec_loss", "nll_loss", "total_loss"):
        if name not in names:
            continue
        sub = np.flatnonzero(codes == names.index(name))
        sub = sub[np.lexsort((steps[sub], rank[sub]))]
        bounds = np.flatnonzero(np.diff(rank[sub])) + 1
        for part in np.split(sub, bounds):
            i = int(rank[part[0]])
            gone = part[drop[part]]
            if i in wanted and len(gone) >= 5:
                out[i][name] = {"first": float(np.nanmedian(values[part[:5]])),
                                "last": float(np.nanmedian(values[gone[-5:]]))}
    return out


def _wall_spans(rank: np.ndarray, walls: np.ndarray | None, files: int) -> list[tuple[float, float]]:
    """Each file's first and last wall time (NaN without any)."""
    if walls is None or not len(walls):
        return [(np.nan, np.nan)] * files
    known = np.isfinite(walls)
    first, last = np.full(files, np.nan), np.full(files, np.nan)
    if known.any():
        by = pd.Series(walls[known]).groupby(rank[known])
        lows, highs = by.min(), by.max()
        first[lows.index.to_numpy()] = lows.to_numpy()
        last[highs.index.to_numpy()] = highs.to_numpy()
    return list(zip(first.tolist(), last.tolist(), strict=True))


def _copies(rank: np.ndarray, codes: np.ndarray, steps: np.ndarray, values: np.ndarray, drop: np.ndarray) -> set:
    """Files whose every replaced point equals (to a text log's printed precision) the point that replaces it."""
    gone = pd.DataFrame({"rank": rank[drop], "code": codes[drop], "step": steps[drop], "value": values[drop]})
    kept = pd.DataFrame({"code": codes[~drop], "step": steps[~drop], "new": values[~drop]})
    pairs = gone.merge(kept, on=["code", "step"], how="left", indicator=True)
    both = (pairs["_merge"] == "both").to_numpy()
    same = close_values(pairs["value"].to_numpy(), pairs["new"].to_numpy()) & both
    return {int(r) for r, ok in pd.Series(same).groupby(pairs["rank"].to_numpy()).all().items() if ok}


def _note_merged(kind: str, paths: list[str], logs: RunLogs) -> None:
    if len(paths) > 1:
        names = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        logs.notes.append(f"{len(paths)} {kind} files merged in the order they were written: {names}")


def _read_event_files(paths: list[Path], base: Path, logs: RunLogs, single: bool) -> pd.DataFrame | None:
    """Several event files of the run read together (a folder of thousands costs little more than one file),
    each listed in the sources with what went wrong, and merged by TensorBoard's restart semantics."""
    batch = read_event_batch(paths)
    rels = _relative(paths, base)
    counter = np.array([tag.strip().lower() in COUNTERS for tag in batch.tags], dtype=bool)
    names = [canonical_name(tag) for tag in batch.tags]
    metrics = sorted({n for n, c in zip(names, counter, strict=True) if not c})
    code_of = np.array([-1 if c else metrics.index(n) for n, c in zip(names, counter, strict=True)], dtype=np.int64)
    counters: dict[int, list[str]] = {}  # file -> counter tags (epoch, global_step) it holds
    if counter.any():
        rows = counter[batch.tag]
        for pair in np.unique(batch.file[rows].astype(np.int64) * len(batch.tags) + batch.tag[rows]).tolist():
            counters.setdefault(pair // len(batch.tags), []).append(batch.tags[pair % len(batch.tags)])
    # in one file, a step written twice keeps its later point (rows are in each file's record order); the
    # columns are taken one at a time, each reordered copy replacing its original, to keep the peak low
    keep = ~counter[batch.tag] if len(batch.tags) else np.zeros(0, dtype=bool)
    file, code = batch.file.astype(np.int64), code_of[batch.tag]
    order = np.lexsort((batch.steps, code, file))
    if not keep.all():
        order = order[keep[order]]
    file, code = file[order], code[order]
    steps = batch.steps[order]
    batch.steps = None
    values = batch.values[order]
    batch.values = None
    walls = batch.walls[order]
    batch.walls = None
    del order, keep
    possible, fixed, _ = impossible(steps, walls)
    dropped = np.bincount(file[~possible], minlength=len(paths))
    bad_walls = np.bincount(file[possible & np.isnan(fixed) & ~np.isnan(walls)], minlength=len(paths))
    walls = fixed
    if not possible.all():
        file, code, steps, values, walls = (a[possible] for a in (file, code, steps, values, walls))
    if len(steps) > 1:
        repeated = (file[1:] == file[:-1]) & (code[1:] == code[:-1]) & (steps[1:] == steps[:-1])
        if repeated.any():
            last = np.append(~repeated, True)
            file, code, steps, values, walls = file[last], code[last], steps[last], values[last], walls[last]
    points = np.bincount(file, minlength=len(paths))
    heads = np.flatnonzero(np.diff(file, prepend=-1))  # first row of each file holding points
    first_wall = np.full(len(paths), np.nan)
    first_step = np.zeros(len(paths), dtype=np.int64)
    if len(heads):
        first_wall[file[heads]] = np.fmin.reduceat(walls, heads)
        first_step[file[heads]] = np.minimum.reduceat(steps, heads)
    pairs = np.flatnonzero(np.diff(file * (len(metrics) + 1) + code, prepend=-1))
    per_file: dict[int, list[str]] = {}
    for f, c in zip(file[pairs].tolist(), code[pairs].tolist(), strict=True):
        per_file.setdefault(f, []).append(metrics[c])
    read_ok = []
    for i, rel in enumerate(rels):
        error = batch.errors[i]
        if error is not None:
            if single:
                raise InputError(f"{paths[i]}: {error}")
            logs.sources.append(SourceFile(rel, "tensorboard", 0, [], [f"not read: {error}"]))
            continue
        if batch.sizes[i] == 0:
            logs.sources.append(SourceFile(rel, "tensorboard", 0, [], ["empty file, skipped"]))
            continue
        read_ok.append(i)
        logs.sources.append(SourceFile(rel, "tensorboard", int(points[i]), sorted(per_file.get(i, [])),
                                       _event_notes(batch.reads[i], counters.get(i, []))
                                       + impossible_notes(int(dropped[i]), int(bad_walls[i])), float(first_wall[i])))
    if not read_ok:
        return None
    # files in the order they were written: first wall time, then first step, then the path's numbers
    keys = list(zip(np.nan_to_num(first_wall, nan=np.inf).tolist(), first_step.tolist(), strict=True))
    tied = {key for key, count in Counter(keys[i] for i in read_ok).items() if count > 1}
    # the path's numbers break ties only (files with no wall time and the same first step)
    written = sorted(read_ok, key=lambda i: (*keys[i], _natural(rels[i]) if keys[i] in tied else ()))
    if len(written) > 1:  # a copy of another event file (a backup beside it) holds no point of its own
        found = copies_of(file, code, steps, values, len(paths), walls)
        if found:
            sources = {s.path: s for s in logs.sources}
            for i, j in found.items():
                _note_copy(sources[rels[i]], rels[j], int(points[i]), logs)
            own = ~np.isin(file, list(found))
            file, code, steps, values, walls = (a[own] for a in (file, code, steps, values, walls))
            written = [i for i in written if i not in found]
    rank_of = np.zeros(len(paths), dtype=np.int64)
    rank_of[written] = np.arange(len(written))
    if len(written) > 1:
        drop = _restarts(rank_of[file], code, steps, [rels[i] for i in written], list(metrics), logs,
                         values=values, walls=walls)
        if drop.any():
            file, code, steps, values, walls = (a[~drop] for a in (file, code, steps, values, walls))
        _note_merged("tensorboard", [rels[i] for i in written], logs)
    order = np.lexsort((steps, code))
    holding = np.unique(file).tolist()
    used = sorted(rels[i] for i in holding)
    source_code = np.full(len(paths), -1, dtype=np.int32)
    position = {rel: k for k, rel in enumerate(used)}
    source_code[holding] = [position[rels[i]] for i in holding]
    return make_frame(steps[order], pd.Categorical.from_codes(code[order], categories=metrics), values[order],
                      walls[order], pd.Categorical.from_codes(source_code[file[order]], categories=used))


def _relative_to(note: str, root: Path) -> str:
    prefix = str(root).rstrip("/") + "/"
    return note[len(prefix):] if note.startswith(prefix) else note


def _relative(paths: list[Path], base: Path) -> list[str]:
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


def _handed_over(read, skip: list[str]):
    """The file's pieces as (metric, steps, values, wall times), each removed from the read as it is taken, so
    that the frame holds the only reference and frees each metric's pieces once it has copied them."""
    from collections import deque

    pending, read.parts = deque(read.parts), []
    while pending:
        tag, *cols = pending.popleft()
        if tag not in skip:
            yield (canonical_name(tag), *cols)


def _event_notes(read, counters: list[str]) -> list[str]:
    notes = []
    if counters:
        notes.append(f"counter tag(s) not metrics: {', '.join(sorted(counters))}")
    if read.records == 0 and read.truncated_at is None and read.corrupt_at is None:
        notes.append("not an event file (no records), skipped")
    if read.truncated_at is not None:
        notes.append(f"ends mid-record at byte {read.truncated_at:,} (still being written, or cut); "
                     "everything before it was read")
    if read.corrupt_at is not None:
        notes.append(f"record header corrupt at byte {read.corrupt_at:,}; the rest of the file was not read")
    if read.bad_crc:
        notes.append(f"{read.bad_crc:,} record(s) failed their CRC check (or did not parse as events) and were "
                     "skipped")
    if read.non_scalar_tags:
        tags = sorted(read.non_scalar_tags)
        notes.append(f"{len(tags)} non-scalar tag(s), not metrics (images are shown under Reconstructions; "
                     "text and histograms are not read): " + ", ".join(tags[:5]) + (" ..." if len(tags) > 5 else ""))
    return notes


def _natural(path: str) -> tuple:
    """A path's numbers compared as numbers: version_10 after version_2."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path))


def _agree(a: pd.DataFrame, b: pd.DataFrame) -> tuple[int, int]:
    """(shared steps, shared steps whose values differ beyond print precision) of one metric in two sources."""
    joined = a[["step", "value"]].merge(b[["step", "value"]], on="step", suffixes=("_a", "_b"))
    if joined.empty:
        return 0, 0
    x, y = joined["value_a"].to_numpy(), joined["value_b"].to_numpy()
    same = same_values(x, y)  # to the precision the less precise prints (mmengine's {:.4f}, detectron2's {:.4g})
    return len(joined), int((~same).sum())


def _merge_kinds(per_kind: dict[str, pd.DataFrame], logs: RunLogs) -> pd.DataFrame:
    if not per_kind:
        return empty_frame()
    if len(per_kind) == 1:
        kind, frame = next(iter(per_kind.items()))
        logs.metric_sources = {m: kind for m in _metrics_in(frame)}
        return _finish(frame)
    by_metric: dict[str, dict[str, pd.DataFrame]] = {}
    for kind, frame in per_kind.items():
        for metric, part in frame.groupby("metric", sort=False, observed=True):
            by_metric.setdefault(str(metric), {})[kind] = part
    out = []
    for metric, kinds in by_metric.items():
        if len(kinds) == 1:
            kind, part = next(iter(kinds.items()))
            logs.metric_sources[metric] = kind
            out.append(part)
            continue
        ranked = sorted(kinds, key=_AUTHORITY_ORDER.get)
        keep = [ranked[0]]
        for other in ranked[1:]:
            shared, differ = _agree(kinds[ranked[0]], kinds[other])
            if shared and differ > max(1, 0.01 * shared):
                by_design = (" (by design in RadioDiff: its TensorBoard total_loss is (AE loss + disc loss) / 2, "
                             "its text log's the AE loss)") if metric == "total_loss" and \
                    {other, ranked[0]} == {"tensorboard", "text log"} else ""
                logs.notes.append(
                    f"{metric}: {other} and {ranked[0]} disagree at {differ:,} of {shared:,} shared steps "
                    f"(median ratio {_median_ratio(kinds[ranked[0]], kinds[other]):.3g}){by_design}; {ranked[0]} "
                    "values used"
                )
            else:
                keep.append(other)
        keep.sort(key=_PRECISION_ORDER.get)
        pooled = concat([kinds[k] for k in keep])
        out.append(_with_walls(pooled.drop_duplicates("step", keep="first"), pooled))
        logs.metric_sources[metric] = " + ".join(keep)
    return _finish(concat(out))


def _with_walls(kept: pd.DataFrame, pooled: pd.DataFrame) -> pd.DataFrame:
    """The kept points' wall times, taken from a pooled source at the same step where the kept one has none
    (detectron2's metrics.json has no clock; its log.txt stamps every line)."""
    missing = kept["wall_time"].isna().to_numpy()
    if not missing.any():
        return kept
    timed = pooled.dropna(subset=["wall_time"]).drop_duplicates("step").set_index("step")["wall_time"]
    if timed.empty:
        return kept
    kept = kept.copy()
    kept.loc[missing, "wall_time"] = kept.loc[missing, "step"].map(timed).to_numpy()
    return kept


def _median_ratio(a: pd.DataFrame, b: pd.DataFrame) -> float:
    joined = a[["step", "value"]].merge(b[["step", "value"]], on="step")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = joined["value_y"].to_numpy() / joined["value_x"].to_numpy()
    ratio = ratio[np.isfinite(ratio)]
    return float(np.median(ratio)) if len(ratio) else float("nan")


def _used_categories(values: pd.Categorical) -> pd.Categorical:
    """The categorical without categories no row uses (pandas' own way sorts every code: a copy per row)."""
    codes = values.codes
    used = _codes_used(codes, len(values.categories))
    if used.all():
        return values
    remap = np.cumsum(used, dtype=codes.dtype) - 1
    return pd.Categorical.from_codes(np.where(codes >= 0, remap[codes], -1).astype(codes.dtype),
                                     categories=values.categories[used])


def _codes_used(codes: np.ndarray, categories: int) -> np.ndarray:
    """Which categories the codes use, without a hash or sort of millions of rows: a few categories by one
    comparison each on the small codes (no copy of the column), many by a count per category."""
    if not len(codes):
        return np.zeros(categories, dtype=bool)
    if categories <= 64:
        return np.array([bool((codes == k).any()) for k in range(categories)], dtype=bool)
    valid = codes if codes.min() >= 0 else codes[codes >= 0]
    return np.bincount(valid.astype(np.intp, copy=False), minlength=categories)[:categories] > 0


def _metrics_in(frame: pd.DataFrame) -> list[str]:
    """The metrics a frame holds points of, sorted."""
    metric = frame["metric"].array
    return sorted(str(c) for c in metric.categories[_codes_used(metric.codes, len(metric.categories))])


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    # a new frame over the same columns (setting a column on a frame that shares its data would copy them all)
    frame = make_frame(frame["step"].to_numpy(), _used_categories(frame["metric"].array),
                       frame["value"].to_numpy(), frame["wall_time"].to_numpy(),
                       _used_categories(frame["source"].array))
    if is_sorted(frame):
        return frame
    order = np.lexsort((frame["step"].to_numpy(), frame["metric"].cat.codes.to_numpy()))
    return frame.iloc[order].reset_index(drop=True)
