"""Several TensorBoard event files of one run, decoded together and merged by TensorBoard's restart rules."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import COUNTERS, impossible, impossible_notes, make_frame
from ..numbers import counted
from .copies import copies_of
from .discovery import in_split, relative, split_folders
from .foreign import foreign_files
from .merge import natural, note_copy, note_merged, replaced_points
from .names import names_apart
from .ranks import note_ranks, ranks_of_one_run
from .scalars import scalars_name, scalars_note
from .sources import RunLogs, SourceFile
from .tb_epochs import continue_epochs, epochs_note, launch_rows
from .tfevents import read_event_batch, undecoded


def read_event_files(paths: list[Path], base: Path, logs: RunLogs, single: bool) -> pd.DataFrame | None:
    """Several event files of the run read together (a folder of thousands costs little more than one file),
    each listed in the sources with what went wrong, and merged by TensorBoard's restart semantics."""
    batch = read_event_batch(paths)
    rels = relative(paths, base)
    siblings = _name_scalars_files(batch, paths, logs)
    counter = np.array([tag.strip().lower() in COUNTERS for tag in batch.tags], dtype=bool)
    # a step that starts over at every epoch (step=batch_idx) is continued before a repeat can replace it
    batch.steps, epoch_lengths = continue_epochs(batch.file, batch.tag, batch.steps, batch.walls, batch.values,
                                                 batch.tags, counter)
    for i, length in epoch_lengths.items():  # a config in epochs is then a total in steps
        if logs.steps_per_epoch is None:
            logs.steps_per_epoch = (length, f"as {rels[i]}'s step starting over each epoch shows")
    # a step that falls back otherwise is a resume inside the file: each launch read as a file of its own
    paths, rels = _in_file_launches(batch, list(paths), rels, counter, logs)
    # a tag's name in a plain file (row 0) and in a split's folder beside train/ (row 1: Keras' validation/)
    splits = split_folders(paths)
    split = next(iter(splits.values()), None)
    in_folder = np.array([p in splits for p in paths], dtype=np.int64)
    # two tags read as one metric that differ where both are logged are two series, each kept (frame.names_apart)
    # add_scalars' keys each live in a file of their own, written at once by one process: compared by step across
    # their files (two groups' d_weight), where other tags are compared within a file (a restart may rename one)
    named = names_apart(batch.tags, lambda t: _tag_points(batch, batch.tags.index(t), across=t in siblings),
                        logs.notes)
    names = [[named[tag] for tag in batch.tags]]
    names.append([in_split(n, split) for n in names[0]] if splits else names[0])
    metrics = sorted({n for row in names for n, c in zip(row, counter, strict=True) if not c})
    index = {n: i for i, n in enumerate(metrics)}
    code_of = np.array([[-1 if c else index[n] for n, c in zip(row, counter, strict=True)] for row in names],
                       dtype=np.int64).reshape(2, len(batch.tags))
    counters: dict[int, list[str]] = {}  # file -> counter tags (epoch, global_step) it holds
    if counter.any():
        rows = counter[batch.tag]
        for pair in np.unique(batch.file[rows].astype(np.int64) * len(batch.tags) + batch.tag[rows]).tolist():
            counters.setdefault(pair // len(batch.tags), []).append(batch.tags[pair % len(batch.tags)])
    # in one file, a step written twice keeps its later point (rows are in each file's record order); the
    # columns are taken one at a time, each reordered copy replacing its original, to keep the peak low
    keep = ~counter[batch.tag] if len(batch.tags) else np.zeros(0, dtype=bool)
    file = batch.file.astype(np.int64)
    code = code_of[in_folder[file], batch.tag] if len(file) else np.zeros(0, dtype=np.int64)
    order = np.lexsort((batch.steps, code, file))
    if not keep.all():
        order = order[keep[order]]
    file, code = file[order], code[order]
    tag = batch.tag[order]  # the tag as written: two tags read as one metric are not a step written twice
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
        file, code, steps, values, walls, tag = (a[possible] for a in (file, code, steps, values, walls, tag))
    twice = np.zeros(len(paths), dtype=np.int64)  # points of a step the same file writes again, per file
    if len(steps) > 1:
        repeated = (file[1:] == file[:-1]) & (code[1:] == code[:-1]) & (steps[1:] == steps[:-1])
        if repeated.any():
            with np.errstate(invalid="ignore"):
                alias = (tag[1:] != tag[:-1]) & ((values[1:] == values[:-1])
                                                 | (np.isnan(values[1:]) & np.isnan(values[:-1])))
            twice = np.bincount(file[:-1][repeated & ~alias], minlength=len(paths))
            last = np.append(~repeated, True)
            file, code, steps, values, walls = file[last], code[last], steps[last], values[last], walls[last]
    points = np.bincount(file, minlength=len(paths))
    heads = np.flatnonzero(np.diff(file, prepend=-1))  # first row of each file holding points
    first_wall = np.full(len(paths), np.nan)
    first_step = np.zeros(len(paths), dtype=np.int64)
    last_step = np.zeros(len(paths), dtype=np.int64)
    if len(heads):
        first_wall[file[heads]] = np.fmin.reduceat(walls, heads)
        first_step[file[heads]] = np.minimum.reduceat(steps, heads)
        last_step[file[heads]] = np.maximum.reduceat(steps, heads)
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
        damage = undecoded(batch.reads[i])
        if damage is not None:  # no record could be read: named as damaged, never as a file with nothing logged
            if single:
                raise InputError(f"{paths[i]}: {damage}")
            logs.sources.append(SourceFile(rel, "tensorboard", 0, [], [f"not read: {damage}"], unread=1.0))
            continue
        read_ok.append(i)
        logs.sources.append(SourceFile(rel, "tensorboard", int(points[i]), sorted(per_file.get(i, [])),
                                       event_notes(batch.reads[i], counters.get(i, []))
                                       + ([epochs_note(epoch_lengths[i])] if i in epoch_lengths else [])
                                       + impossible_notes(int(dropped[i]), int(bad_walls[i]), int(twice[i])),
                                       float(first_wall[i]),
                                       steps=(int(first_step[i]), int(last_step[i])) if points[i] else None,
                                       unread=unread_share(batch.reads[i])))
    if not read_ok:
        return None
    # files in the order they were written: first wall time, then first step, then the path's numbers
    keys = list(zip(np.nan_to_num(first_wall, nan=np.inf).tolist(), first_step.tolist(), strict=True))
    tied = {key for key, count in Counter(keys[i] for i in read_ok).items() if count > 1}
    # the path's numbers break ties only (files with no wall time and the same first step)
    written = sorted(read_ok, key=lambda i: (*keys[i], natural(rels[i]) if keys[i] in tied else ()))
    if len(written) > 1:  # a copy of another event file (a backup beside it) holds no point of its own
        found = copies_of(file, code, steps, values, len(paths), walls)
        if found:
            sources = {s.path: s for s in logs.sources}
            for i, j in found.items():
                note_copy(sources[rels[i]], rels[j], int(points[i]), logs)
            own = ~np.isin(file, list(found))
            file, code, steps, values, walls = (a[own] for a in (file, code, steps, values, walls))
            written = [i for i in written if i not in found]
    if len(written) > 1:  # one event file per process of a distributed run: the lowest rank's is the run's
        file, code, steps, values, walls, written = _other_ranks(file, code, steps, values, walls, written, rels, logs)
    if len(written) > 1:  # another experiment's event files in a sub-folder: not this run's (foreign.py)
        gone = foreign_files([rels[i] for i in written],
                             lambda k: _points_of(written[k], file, code, steps, values, walls, metrics), logs)
        if gone:
            own = ~np.isin(file, [written[k] for k in gone])
            file, code, steps, values, walls = (a[own] for a in (file, code, steps, values, walls))
            written = [i for k, i in enumerate(written) if k not in gone]
    rank_of = np.zeros(len(paths), dtype=np.int64)
    rank_of[written] = np.arange(len(written))
    if len(written) > 1:
        drop = replaced_points(rank_of[file], code, steps, [rels[i] for i in written], list(metrics), logs,
                         values=values, walls=walls)
        if drop.any():
            file, code, steps, values, walls = (a[~drop] for a in (file, code, steps, values, walls))
        shared = Counter(m for i in written for m in set(per_file.get(i, [])))
        if any(count > 1 for count in shared.values()):  # files of one run's life, merged by the restart rules
            note_merged("tensorboard", [rels[i] for i in written], logs)
    order = np.lexsort((steps, code))
    holding = np.unique(file).tolist()
    used = sorted(rels[i] for i in holding)
    source_code = np.full(len(paths), -1, dtype=np.int32)
    position = {rel: k for k, rel in enumerate(used)}
    source_code[holding] = [position[rels[i]] for i in holding]
    return make_frame(steps[order], pd.Categorical.from_codes(code[order], categories=metrics), values[order],
                      walls[order], pd.Categorical.from_codes(source_code[file[order]], categories=used))


def _name_scalars_files(batch, paths: list[Path], logs: RunLogs) -> set[str]:
    """The tag of each file ``add_scalars`` wrote in a sub-folder of its own, renamed in place to the metric its
    folder names (scalars.py): otherwise every key's file would be one metric, each replacing the last."""
    if not len(batch.tag):
        return set()
    pairs = np.unique(batch.file.astype(np.int64) * len(batch.tags) + batch.tag)
    held: dict[int, set[str]] = {}
    for pair in pairs.tolist():
        held.setdefault(pair // len(batch.tags), set()).add(batch.tags[pair % len(batch.tags)])
    renamed: dict[str, str] = {}
    for i, tags in held.items():
        names = scalars_name(paths[i], tags)
        if not names:
            continue
        (tag, name), = names.items()
        mine = batch.file == i
        batch.tag[mine] = len(batch.tags)
        batch.tags.append(name)
        renamed[Path(paths[i]).parent.name] = name
    if renamed:
        logs.notes.append(scalars_note(renamed))
    return set(renamed.values())


def _points_of(i: int, file, code, steps, values, walls, metrics: list[str]) -> pd.DataFrame:
    mine = file == i
    return pd.DataFrame({"step": steps[mine], "metric": np.asarray(metrics, dtype=object)[code[mine]],
                         "value": values[mine], "wall_time": walls[mine]})


def _other_ranks(file, code, steps, values, walls, written: list[int], rels: list[str], logs: RunLogs):
    """The points and files without those of other ranks of a run (ranks.py), each said."""
    taken = set(written)

    def frame_of(i: int) -> pd.DataFrame:
        mine = file == i
        return pd.DataFrame({"step": steps[mine], "metric": code[mine], "value": values[mine],
                             "wall_time": walls[mine]})

    found = ranks_of_one_run([rels[i] if i in taken else None for i in range(len(rels))], frame_of)
    if not found:
        return file, code, steps, values, walls, written
    sources = {s.path: s for s in logs.sources}
    dropped = []
    for first, ranks in found:
        frames = {i: frame_of(i) for i in (first, *ranks)}
        note_ranks(_sources(sources, rels),
                   [frames.get(i, pd.DataFrame()) for i in range(len(rels))], first, ranks, logs)
        dropped.extend(ranks)
    own = ~np.isin(file, dropped)
    return (*(a[own] for a in (file, code, steps, values, walls)), [i for i in written if i not in dropped])


def _sources(by_path: dict[str, SourceFile], rels: list[str]) -> list[SourceFile]:
    return [by_path.get(rel) or SourceFile(rel, "tensorboard", 0, []) for rel in rels]


def _in_file_launches(batch, paths: list[Path], rels: list[str], counter: np.ndarray,
                      logs: RunLogs) -> tuple[list[Path], list[str]]:
    """The files whose step falls back other than at an epoch split into their launches, each a file of its own
    (the same path, a name saying which launch) merged and judged as a resumed run's files are."""
    launch = launch_rows(batch.file, batch.tag, batch.steps, batch.walls, batch.tags, counter)
    for f in np.unique(batch.file[launch > 0]).tolist():
        mine = batch.file == f
        count = int(launch[mine].max()) + 1
        firsts = [int(batch.steps[mine & (launch == k)].min()) for k in range(count)]
        name = rels[f]
        rels[f] = f"{name} (launch 1 of {count}, from step {firsts[0]:,})"
        for k in range(1, count):
            batch.file[mine & (launch == k)] = len(paths)
            paths.append(paths[f])
            rels.append(f"{name} (launch {k + 1} of {count}, from step {firsts[k]:,})")
            batch.reads.append(batch.reads[f])
            batch.errors.append(batch.errors[f])
            batch.sizes.append(batch.sizes[f])
        logs.notes.append(f"{name} holds {count} launches (its step goes back {counted(count - 1, 'time')}): each "
                          "launch is read as a file of its own, and they are merged as the files of a resumed run are")
    return paths, rels


def _tag_points(batch, tag: int, across: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A tag's (file and step, value) pairs: two tags are compared within a file (a restart may rename one);
    ``across``: by step alone, whatever the file (add_scalars' keys, each in a file of its own)."""
    mine = batch.tag == tag
    if across:
        return batch.steps[mine] + 0j, batch.values[mine]
    return batch.file[mine] + 1j * batch.steps[mine], batch.values[mine]


def event_notes(read, counters: list[str]) -> list[str]:
    notes = []
    if counters:
        notes.append(f"{'counter tag' if len(counters) == 1 else 'counter tags'} not metrics: "
                     f"{', '.join(sorted(counters))}")
    if read.records == 0 and read.truncated_at is None and read.corrupt_at is None:
        notes.append("not an event file (no records), skipped")
    if read.truncated_at is not None:
        notes.append(f"ends mid-record at byte {read.truncated_at:,} (still being written, or cut); "
                     "everything before it was read")
    notes.extend(gap_notes(read))
    if read.bad_crc:
        notes.append(f"{counted(read.bad_crc, 'record')} failed their CRC check (or did not parse as events) and were "
                     "skipped")
    if read.non_scalar_tags:
        tags = sorted(read.non_scalar_tags)
        notes.append(f"{counted(len(tags), 'non-scalar tag')}, not metrics (images are shown under Reconstructions; "
                     "text and histograms are not read): " + ", ".join(tags[:5]) + (" ..." if len(tags) > 5 else ""))
    return notes




def unread_share(read) -> float:
    """The share of an event file's bytes its corrupt record headers left unread (0: none)."""
    gaps = getattr(read, "gaps", None) or ([(read.corrupt_at, None)] if read.corrupt_at is not None else [])
    size = max(read.size, 1)
    return sum((size if b is None else b) - a for a, b in gaps) / size


def gap_notes(read) -> list[str]:
    """What the sources say of an event file's corrupt record headers: where, and what the read skipped."""
    if read.corrupt_at is None:
        return []
    gaps = read.gaps or [(read.corrupt_at, None)]
    skipped = [f"byte {a:,} (read on at byte {b:,})" for a, b in gaps if b is not None]
    out = [f"{counted(len(skipped), 'corrupt record header')} skipped to the next record whose header checks: "
           + ", ".join(skipped[:3]) + (" ..." if len(skipped) > 3 else "")] if skipped else []
    if gaps[-1][1] is None:
        out.append(f"record header corrupt at byte {gaps[-1][0]:,} and none after it checks; the rest of the file "
                   f"was not read ({unread_share(read):.0%} of its bytes)")
    return out
