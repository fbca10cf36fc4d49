"""Find a run's logs, read each with its reader, and merge them into one metric frame.

discovery.py finds the files and their kinds, each reader (tfevents, csvlog, console, textlog, jsonlog, wandb,
mlflow) turns one into a frame, events.py decodes many event files together, merge.py merges files of one kind
(restart rules) and then the kinds (agreement, precision, authority); this module runs them in that order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, NoLogsYet
from ..frame import (
    COUNTERS,
    KNOWN_METRICS,
    adopted_names,
    concat,
    empty_frame,
    frame_from_series,
    make_frame,
    without_impossible,
)
from ..numbers import counted
from ..writer import private_copy
from . import mlflow
from .compressed import expanded, inner_name
from .console import COUNTER_NAMES, read_console_log, sniff_text_log
from .conventions import read_negative_kl
from .crash import crash_at_end
from .csvlog import read_csv_log
from .discovery import (
    JSON_SUFFIXES,
    damaged_files,
    discover,
    files_under,
    foreign_encoding,
    in_split,
    kind_of,
    leads_inside,
    nothing_read,
    relative,
    relative_to,
    split_folders,
)
from .epochs import logged_epoch_length
from .events import event_notes, read_event_files, unread_share
from .jsonlog import read_json_log, sniff_json_log
from .keras import keras_series
from .merge import merge_files, merge_kinds, metrics_in, used_categories
from .names import named_apart
from .rank_lines import RankLines, rank_lines
from .ranks import ranks_in_file_note
from .scalars import scalars_name, scalars_note
from .sources import KINDS, TORN_LINE, RunLogs, SourceFile, step_range
from .tb_epochs import continue_parts, epochs_note, in_file_launches
from .textlog import read_text_log
from .tfevents import UndecodedFile, read_event_file, undecoded
from .wandb import read_wandb_run, read_wandb_summary

__all__ = ["KINDS", "JSON_SUFFIXES", "MAX_METRICS", "RunLogs", "SourceFile", "discover", "files_under",
           "leads_inside", "load_run", "mlflow", "read_run"]


def load_run(root: Path | str, include: list[Path] | None = None, pattern: str | None = None,
             run: str | None = None, tail: object | None = None) -> RunLogs:
    """Read and merge every log under a run directory (or a single log file); ``include`` limits the folders
    read (one attempt of a folder of Lightning versions); ``tail``: a ``tail.TailCache`` kept between calls, to
    parse only what event files and CSVs gained since (watch mode)."""
    root = Path(root)
    if not root.exists():
        raise NoLogsYet(f"{root}: no such file or directory; pass the run's results folder")
    skipped: list[str] = []  # files and folders under the run that could not be opened, with the reason
    configs: list[tuple[Path, dict]] = []  # config records of text logs with no step line (launches that logged none)
    if root.is_file():
        files = {kind: [] for kind in KINDS}
        probe = expanded(root) if inner_name(root) is not None else root
        kind = kind_of(probe, pattern) or ("mlflow" if mlflow.is_database(probe) else "json"
                                           if probe.suffix in JSON_SUFFIXES or sniff_json_log(probe) else "text log")
        files[kind].append(root)
        base = root.parent
    else:
        files = discover(root, include, pattern, skipped, configs)
        base = root
    if not any(files.values()):
        raise NoLogsYet(nothing_read(root, skipped))
    if run is not None and not files["mlflow"]:
        raise InputError(f"{root}: --run {run[:60]!r} names a run of an MLflow store, and this folder holds none "
                         "(mlflow.db or mlruns/); leave --run out")
    logs = RunLogs(base, empty_frame(), [], [], {})
    if configs:  # the newest launch's (names are start times); a text log with step lines read below overrides it
        logs.text_config = max(configs, key=lambda found: found[0].name)[1]
    if not root.is_file():
        logs.notes.extend(relative_to(note, root) for note in skipped[:20])
        if len(skipped) > 20:
            logs.notes.append(f"and {counted(len(skipped) - 20, 'more file or folder', 'more files or folders')} "
                              "not read")
    per_kind = {}
    single = root.is_file()
    logs.pattern, logs.store_run, logs.tail = pattern, run, tail
    logs.split_of = split_folders(files["tensorboard"])
    for folder in sorted({p.parent for p in logs.split_of}):
        logs.notes.append(f"{relative([folder], base)[0]}/: the validation split of the same run (a split's "
                          "folder beside train/), its tags read as val/*")
    for kind, paths in files.items():
        if kind == "tensorboard" and len(paths) > 1 and tail is None:  # many event files: decoded together
            frame = read_event_files(paths, base, logs, single)
            if frame is not None:
                per_kind[kind] = frame
            continue
        counted_in = []  # each file's parts with the unit it counts (a reader says it in logs.units)
        for path in paths:
            got = _read_one_or_note(kind, path, base, logs, single)
            unit = logs.units.pop(kind, "step")
            counted_in.extend((part, unit) for part in got)
        parts = _one_unit(kind, counted_in, logs)
        if parts:
            per_kind[kind] = merge_files(kind, parts, logs)
    if "tensorboard" in per_kind:
        per_kind["tensorboard"] = keras_series(per_kind["tensorboard"], logs)
    _one_axis(per_kind, logs)
    merged = _without_placeholders(merge_kinds(per_kind, logs), logs)
    logs.frame = read_negative_kl(_adopt_names(_bounded(merged, logs), logs), logs.notes)
    _refuse_diffusion(root, logs.frame)
    if logs.frame.empty:  # files that could not be read are named with the reason, apart from files with no records
        unread = [f"{s.path}: {s.notes[0][len('not read: '):]}" for s in logs.sources
                  if s.notes and s.notes[0].startswith("not read: ")]
        unread += [relative_to(note, root) for note in damaged_files(skipped)]
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


def _adopt_names(frame: pd.DataFrame, logs: RunLogs) -> pd.DataFrame:
    """Terms logged under another trainer's names (``recons_loss``, ``kld``, ``d_loss``) read as the rules'
    names, each said in a note; a canonical name the run logs itself is never overwritten."""
    if frame.empty:
        return frame
    renames = adopted_names(frame["metric"].cat.categories, logs.notes)
    if not renames:
        return frame
    metric = frame["metric"].cat.rename_categories(renames)
    logs.metric_sources = {renames.get(k, k): v for k, v in logs.metric_sources.items()}
    logs.notes.append("read under the names the checks use: "
                      + ", ".join(f"{old} as {new}" for old, new in renames.items()))
    return make_frame(frame["step"].to_numpy(), metric.array, frame["value"].to_numpy(),
                      frame["wall_time"].to_numpy(), frame["source"].array)


def _one_unit(kind: str, parts: list[tuple[tuple[SourceFile, pd.DataFrame], str]], logs: RunLogs) -> list:
    """The files of one kind on one axis: where they count different units (a Lightning metrics.csv in steps
    beside a CSV without a counter, counted by its rows), the unit holding most points wins (steps on a tie), as
    between kinds (``_one_axis``); each file left out says so in its sources."""
    points: dict[str, int] = {}
    for (_, frame), unit in parts:
        points[unit] = points.get(unit, 0) + len(frame)
    if not points:
        return []
    chosen = max(points, key=lambda unit: (points[unit], unit == "step"))
    if chosen != "step":
        logs.units[kind] = chosen
    for (source, frame), unit in parts:
        if unit != chosen:
            source.notes.append(f"counts {unit}s while the run's other {kind} logs count {chosen}s: its "
                                f"{counted(len(frame), 'point')} are on another axis, left out")
    return [part for part, unit in parts if unit == chosen]


def _one_axis(per_kind: dict[str, pd.DataFrame], logs: RunLogs) -> None:
    """One step axis for the run. Where some kinds count optimizer steps and others epochs, samples or lines
    (W&B's history in steps beside a console copy counted by line order), the unit holding most points wins
    (steps on a tie) and the others' points are left out, said. A W&B summary (each metric's last value at
    W&B's step) follows the others."""
    units = {kind: logs.units.get(kind, "step") for kind in per_kind if kind != "wandb summary"}
    if not units:
        return
    points: dict[str, int] = {}
    for kind, unit in units.items():
        points[unit] = points.get(unit, 0) + len(per_kind[kind])
    chosen = max(points, key=lambda unit: (points[unit], unit == "step"))
    logs.counts = chosen
    for kind in list(per_kind):
        unit = units.get(kind, "step")
        if unit != chosen and (kind != "wandb summary" or chosen != "step"):
            left = len(per_kind.pop(kind))
            logs.notes.append(f"the {kind} logs count {unit}s while the run's other logs count {chosen}s: their "
                              f"{counted(left, 'point')} are on another axis, left out")


def _without_placeholders(frame: pd.DataFrame, logs: RunLogs) -> pd.DataFrame:
    """Without Lightning's ``hp_metric`` when it only holds the -1 its TensorBoardLogger writes with the
    hyperparameters (``default_hp_metric``): a placeholder, not something training measured. A run that logs a
    value of its own under that name keeps it."""
    if frame.empty or "hp_metric" not in frame["metric"].cat.categories:
        return frame
    mine = (frame["metric"] == "hp_metric").to_numpy()
    if not np.all(frame["value"].to_numpy()[mine] == -1):
        return frame
    logs.notes.append("hp_metric: Lightning's placeholder (-1, written with the hyperparameters), not a metric; "
                      "left out")
    logs.metric_sources.pop("hp_metric", None)
    part = frame[~mine]
    return make_frame(part["step"].to_numpy(), used_categories(part["metric"].array), part["value"].to_numpy(),
                      part["wall_time"].to_numpy(), used_categories(part["source"].array))


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
    return make_frame(part["step"].to_numpy(), used_categories(part["metric"].array), part["value"].to_numpy(),
                      part["wall_time"].to_numpy(), used_categories(part["source"].array))


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
        got = [] if read is None else read if isinstance(read, list) else [read]
        if kind == "text log" and got:  # a log whose process died after its last step line: said by analysis
            crash = crash_at_end(path)
            frames = [part[1] for part in got if len(part) > 1 and len(part[1])]
            if crash is not None and frames:
                rel = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
                logs.crashes.append((rel, crash, max(int(f["step"].max()) for f in frames)))
        return got
    except (InputError, OSError) as exc:
        if single:
            raise
        rel = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
        reason = str(exc).split(": ", 1)[-1] if isinstance(exc, InputError) else exc.strerror or str(exc)
        # a file none of which decoded may have held the run's points: it weighs on confidence as a file lost
        logs.sources.append(SourceFile(rel, kind, 0, [], [f"not read: {reason}"],
                                       unread=1.0 if isinstance(exc, UndecodedFile) else 0.0))
        return []


def _tag_epoch_length(read) -> tuple[int, int] | None:
    """Steps per epoch from an event file's ``epoch`` tag (Lightning logs the epoch at every logged step)."""
    pieces = [(steps, values) for tag, steps, values, _ in read.parts if tag.strip().lower() == "epoch"]
    if not pieces:
        return None
    steps = np.concatenate([p[0] for p in pieces]).astype(np.float64)
    order = np.argsort(steps, kind="stable")
    return logged_epoch_length(steps[order], np.concatenate([p[1] for p in pieces]).astype(np.float64)[order])


def _epoch_indexed(read) -> bool:
    """An event file whose step is the epoch's index: its ``epoch`` tag equals its step at every point, and its
    steps run 0 (or 1) to N-1 with none missing (three epochs at least)."""
    pieces = [(steps, values) for tag, steps, values, _ in read.parts if tag.strip().lower() == "epoch"]
    if len(pieces) != 1 or len(pieces[0][0]) < 3:
        return False
    steps, values = (np.asarray(x, dtype=np.float64) for x in pieces[0])
    return bool(np.array_equal(steps, values) and steps[0] in (0, 1) and np.all(np.diff(steps) == 1))


def _epoch_length(logs: RunLogs, length: tuple[int, int] | None, origin: str) -> None:
    """The first source that shows how many steps an epoch holds gives it (a config in epochs needs it)."""
    if length is not None and logs.steps_per_epoch is None:
        logs.steps_per_epoch = (length[0], f"±{length[1]:,}, as {origin} shows" if length[1] else f"as {origin} shows")


def _read_one(kind: str, path: Path, base: Path, logs: RunLogs):
    """(SourceFile, frame), a list of them (a text log holding several launches), or None (nothing to read)."""
    if inner_name(path) is None:
        return _read_plain(kind, path, base, logs, [])
    copy = expanded(path)  # a gzipped log: its decompressed copy read under the compressed file's name
    try:
        return _read_plain(kind, copy, base, logs, ["gzip-compressed: read decompressed"],
                           path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path))
    except InputError as exc:
        raise InputError(str(exc).replace(str(copy), str(path))) from None


def _read_plain(kind: str, path: Path, base: Path, logs: RunLogs, notes: list[str], rel: str | None = None,
                split_by_rank: bool = False):
    if rel is None:
        rel = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
    if path.stat().st_size == 0:
        logs.sources.append(SourceFile(rel, kind, 0, [], ["empty file, skipped"]))
        return None
    if kind == "text log" and not split_by_rank and (by_rank := rank_lines(path)) is not None:
        return _read_ranks(path, base, logs, notes, rel, by_rank)
    if kind in ("json", "text log") and foreign_encoding(path):  # decoded as the CSV reader decodes: said
        notes.append(f"read as {foreign_encoding(path)} (its byte-order mark or its NUL bytes say so)")
    unread, left_out = 0.0, {}
    if kind == "tensorboard":
        # read a block at a time and taken into the frame metric by metric, the file's pieces released as they are
        # copied, so the peak stays near the frame's own size
        read = logs.tail.events(path) if logs.tail is not None else read_event_file(path)
        damage = undecoded(read)
        if damage is not None:  # listed as not read, with what is wrong (a folder), or the run's error (alone)
            raise UndecodedFile(f"{path}: {damage}")
        renamed = scalars_name(path, read.tags)
        if renamed:  # one key of add_scalars, in its own sub-folder (scalars.py)
            read.parts = [(renamed.get(tag, tag), *cols) for tag, *cols in read.parts]
            notes.append(scalars_note({path.parent.name: next(iter(renamed.values()))}))
        counters = sorted(tag for tag in read.tags if tag.strip().lower() in COUNTERS)
        if _epoch_indexed(read):  # a plain script's add_scalar(tag, v, epoch) beside add_scalar("epoch", epoch, epoch)
            logs.units[kind] = "epoch"
            notes.append("counted in epochs: its step is the epoch's index (its epoch tag equals its step at every "
                         "point)")
        else:
            _epoch_length(logs, _tag_epoch_length(read), f"{rel}'s epoch tag")
        read.parts, per_epoch = continue_parts(read.parts)  # step=batch_idx: continued before repeats replace
        if per_epoch is not None:
            notes.append(epochs_note(per_epoch))
            _epoch_length(logs, (per_epoch, 0), f"{rel}'s step starting over each epoch")
        split = logs.split_of.get(path)
        notes.extend(event_notes(read, counters))
        unread = unread_share(read)
        launches = in_file_launches(read.parts) if per_epoch is None else None
        if launches:  # a resume inside the file: its launches merged and judged as a resumed run's files are
            return _launches(rel, kind, [(f"from step {int(min(p[1].min() for p in launch)):,}", frame_from_series(
                ((in_split(name, split), *cols) for name, *cols in named_apart(launch, notes if k == 0 else [])),
                rel)) for k, launch in enumerate(launches)], notes, logs)
        frame = frame_from_series(((in_split(name, split), *cols)
                                   for name, *cols in named_apart(_scalars(read, counters), notes)), rel)
    elif kind == "csv" and path.name == "meta_tags.csv":
        logs.sources.append(SourceFile(rel, kind, 0, [], ["test-tube's hyperparameters (key, value), not metrics"]))
        return None
    elif kind == "csv":
        read = logs.tail.csv(path, rel) if logs.tail is not None else read_csv_log(path, rel)
        frame = read.frame
        notes.append(f"{read.layout} layout")
        notes.extend(read.notes)
        if read.bad_cells:
            bad = counted(read.bad_cells, "non-numeric cell or unusable row", "non-numeric cells or unusable rows")
            notes.append(f"{bad} skipped")
        if read.total_steps is not None and logs.text_total_steps is None:
            logs.text_total_steps = read.total_steps
            logs.total_steps_origin = f"{rel} (its constant total_steps column)"
        if read.unit != "step":
            logs.units[kind] = read.unit
        _epoch_length(logs, read.epoch_length, f"{rel}'s epoch column")
        if read.launches:
            return _launches(rel, kind, [(f"from line {line:,}", part) for line, part in read.launches], notes,
                             logs)
    elif kind in ("wandb", "mlflow"):
        frame, launches = _read_store(kind, path, rel, logs, notes)
        if launches:
            return _launches(rel, kind, launches, notes, logs)
    elif kind == "wandb summary":
        frame, step = read_wandb_summary(path, rel)
        notes.append(f"the W&B run's summary: each metric's last value, at step {step:,} (used where the "
                     "history does not reach it)")
    elif kind == "json":
        read = read_json_log(path, rel)
        frame = read.frame
        counter = f"{read.unit}: {read.counter}" if read.unit != "record" else "counted by position (no counter)"
        notes.append(f"{read.layout}, {counted(read.records, 'record')}, {counter}")
        notes.extend(read.notes)
        if read.total_steps is not None and logs.text_total_steps is None:
            logs.text_total_steps = read.total_steps
            logs.total_steps_origin = f"{rel} (its max_steps)"
        if read.unit != "step":
            logs.units[kind] = read.unit
        _epoch_length(logs, read.epoch_length, f"{rel}'s epoch key")
    elif logs.pattern or sniff_text_log(path) != "radiodiff":
        read = read_console_log(path, rel, logs.pattern)
        frame = read.frame
        notes.append(f"console log (step counter: {COUNTER_NAMES.get(read.kind, read.kind)}), "
                     f"{counted(read.lines, 'step line')}")
        notes.extend(read.notes)
        if read.total_steps is not None and logs.text_total_steps is None:
            logs.text_total_steps = read.total_steps
            logs.total_steps_origin = f"{rel} ({read.total_from or read.unit + '/total in its lines'})"
        if read.unit != "step":
            logs.units[kind] = read.unit
        if read.launches:
            return _launches(rel, kind, [(f"from line {line:,}", part) for line, part in read.launches], notes,
                             logs)
    else:
        read = read_text_log(path, rel)
        frame = read.frame
        logs.radiodiff_log = True
        if read.config is not None:  # the newest log's (names are start times): the config now in effect
            logs.text_config = read.config
        if read.total_steps is not None:
            logs.text_total_steps = read.total_steps
        if read.skipped:
            notes.append(f"{counted(read.skipped, 'step line')} without readable values skipped")
        if read.torn:
            notes.append(TORN_LINE)
        for key, (low, high) in read.coarse.items():  # RadioDiff's "{:.5f}": 0.00001 at step 0, 0.00000 after
            printed = f"{low:.5f}" if low == high else f"{low:.5f} to {high:.5f}"
            left_out[key] = "printed to 5 decimals, too coarse to read"
            notes.append(f"{key} printed to 5 decimals (here {printed}) left out: too coarse to be read as a rate; "
                         "RadioDiff's TensorBoard log (Learning_Rate) holds it")
        if read.launches:
            return _launches(rel, kind, read.launches, notes, logs, left_out)
    frame, dropped = without_impossible(frame)
    notes.extend(dropped)
    walls = frame["wall_time"].to_numpy()
    # fmin skips NaN without nanmin's copy of the column (millions of points, read again each watch pass)
    source = SourceFile(rel, kind, len(frame), metrics_in(frame), notes,
                        float(np.fmin.reduce(walls)) if len(walls) else float("nan"), steps=step_range(frame),
                        unread=unread, left_out=left_out)
    logs.sources.append(source)
    return source, frame


def _read_ranks(path: Path, base: Path, logs: RunLogs, notes: list[str], rel: str, by_rank: RankLines):
    """A console file holding several processes' lines, each prefixed with its rank (rank_lines.py): the lowest
    rank whose lines hold step lines is read as the file, the others said in its notes as ranks.py says another
    rank's file; one rank's prefix alone is read as if it were not there."""
    copies = {rank: private_copy(path.name, iter([text])) for rank, text in by_rank.texts.items()}
    logged = [rank for rank, copy in copies.items() if sniff_text_log(copy, logs.pattern)]
    kept = min(logged, default=min(copies))
    try:
        got = _read_plain("text log", copies[kept], base, logs, notes, rel, split_by_rank=True)
    except InputError as exc:
        raise InputError(str(exc).replace(str(copies[kept]), str(path))) from None
    others = [(rank, frame) for rank in logged if rank != kept
              and not (frame := _rank_frame(copies[rank], rel, logs.pattern)).empty]
    if got is None or not others:
        return got
    parts = got if isinstance(got, list) else [got]
    parts[0][0].notes.append(ranks_in_file_note(kept, concat([f for _, f in parts]), others, by_rank.shown))
    return got


def _rank_frame(copy: Path, rel: str, pattern: str | None) -> pd.DataFrame:
    """Another rank's points (nothing where its lines do not read: a rank that printed only warnings)."""
    try:
        read = read_text_log(copy, rel) if not pattern and sniff_text_log(copy) == "radiodiff" else \
            read_console_log(copy, rel, pattern)
    except InputError:
        return empty_frame()
    return without_impossible(read.frame)[0]


def _launches(rel: str, kind: str, launches: list[tuple[str, pd.DataFrame]], notes: list[str],
              logs: RunLogs, left_out: dict[str, str] | None = None) -> list[tuple[SourceFile, pd.DataFrame]]:
    """A text log whose counter goes back: each launch appended to it is a part of its own, merged (and judged:
    resume, start over, other weights) as separate files of one run are."""
    out = []
    for k, (where, frame) in enumerate(launches, 1):
        frame, dropped = without_impossible(frame)
        walls = frame["wall_time"].to_numpy()
        source = SourceFile(f"{rel} (launch {k} of {len(launches)}, {where})", kind, len(frame),
                            metrics_in(frame), (notes if k == 1 else []) + dropped,
                            float(np.fmin.reduce(walls)) if len(walls) else float("nan"), rel, k,
                            step_range(frame), left_out=dict(left_out or {}))
        logs.sources.append(source)
        out.append((source, frame))
    why = f"its header is written {counted(len(launches) - 1, 'more time')}" if kind == "csv" else \
        f"its counter goes back {counted(len(launches) - 1, 'time')}"
    logs.notes.append(f"{rel} holds {len(launches)} launches ({why}): each "
                      "launch is read as a file of its own, and they are merged as the files of a resumed run are")
    return out


def _scalars(read, counters: list[str]) -> list[tuple]:
    """An event file's (tag, steps, values, wall times) pieces but its counters', taken from the read (so that the
    frame holds the only reference once it has copied them)."""
    parts, read.parts = read.parts, []
    return [p for p in parts if p[0] not in counters]


def _read_store(kind: str, path: Path, rel: str, logs: RunLogs, notes: list[str]) -> tuple[pd.DataFrame, list]:
    """A W&B run file or an MLflow store: its metrics (and a W&B run's launches where its step key goes back),
    and its config for the schedule."""
    if kind == "wandb":
        read = read_wandb_run(path, rel)
        if read.bad:
            notes.append(f"{counted(read.bad, 'record')} failed their CRC or did not parse, skipped")
        if read.truncated:
            notes.append("ends mid-record (the run is still writing it); everything before was read")
        if read.step_note:
            notes.append(read.step_note)
        notes.extend(read.notes)
        config, origin = read.config, f"{rel} (the W&B run's config)"
        frame, launches = read.frame, read.launches
    else:
        chosen, count = mlflow.read_run(path, rel, logs.store_run)
        notes.append(f"MLflow run {chosen.name} ({chosen.run_id})" + (f", one of {count}" if count > 1 else ""))
        config, origin = chosen.config, f"{rel} (MLflow params of run {chosen.name})"
        frame, launches = chosen.frame, []
    if config and logs.store_config is None:
        logs.store_config, logs.store_config_origin = config, origin
    return frame, launches


