"""Reading only what a log gained since the last read (watch mode).

Per file: where the last read stopped (just past the last complete event record or CSV line), a few bytes
before that point to recognise the same file, and the points parsed so far. The next read parses from there
to the end: a record or line still being written is left for the pass after. A file replaced (a new inode),
cut shorter, rewritten in place (the bytes before the offset changed; Lightning's CSVLogger rewrites its
file when a new column appears) or with another CSV header is read again from its start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..frame import frame_from_series
from .csvlog import CsvRead, preamble_bytes, read_csv_bytes
from .encoding import encoding_of
from .tfevents import EventFileRead, read_event_file

GUARD = 64  # bytes before the offset compared on each read: the same file, not one rewritten in place
COMPACT = 8  # pieces per series pooled into one when there are more
_BYTE_LINES = ("utf-8", "utf-8-sig")  # encodings whose lines end at the byte "\n": a tail can start after one


@dataclass
class _FileState:
    ident: tuple[int, int]
    offset: int
    guard: bytes
    series: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = field(default_factory=dict)
    records: int = 0
    bad: int = 0
    rows: int = 0
    non_scalar: set[str] = field(default_factory=set)
    header: bytes = b""
    layout: str = ""
    notes: list[str] = field(default_factory=list)
    total_steps: int | None = None
    unit: str = "step"
    lines: int = 0  # lines of a CSV read so far (its header included): the file's line numbers in notes

    def add(self, name: str, columns: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        pieces = self.series.setdefault(name, [])
        pieces.append(columns)
        if len(pieces) > COMPACT:  # keeps the pieces few; in step order already, so pooling keeps the order
            self.series[name] = [tuple(np.concatenate([p[i] for p in pieces]) for i in range(3))]

    def parts(self) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
        return [(name, *piece) for name, pieces in self.series.items() for piece in pieces]


class TailCache:
    """What was read of each file, kept between passes; ``bytes_read`` and ``full_reads`` count the work."""

    def __init__(self) -> None:
        self.files: dict[str, _FileState] = {}
        self.bytes_read = 0
        self.full_reads = 0

    def _resume(self, path: Path) -> tuple[_FileState | None, tuple[int, int]]:
        """The file's state when it is the file read last time, grown or unchanged; else None."""
        info = path.stat()
        ident = (info.st_dev, info.st_ino)
        state = self.files.get(str(path))
        if state is None or state.ident != ident or info.st_size < state.offset:
            return None, ident
        with path.open("rb") as handle:
            handle.seek(max(0, state.offset - GUARD))
            before = handle.read(min(GUARD, state.offset))
            if state.header:
                handle.seek(0)
                same_header = handle.read(len(state.header)) == state.header
            else:
                same_header = True
        return (state if before == state.guard and same_header else None), ident

    def _keep(self, path: Path, state: _FileState, offset: int) -> None:
        with path.open("rb") as handle:
            handle.seek(max(0, offset - GUARD))
            state.guard = handle.read(min(GUARD, offset))
        state.offset = offset
        self.files[str(path)] = state

    def events(self, path: Path) -> EventFileRead:
        """The event file's points so far: its earlier points and the records appended since."""
        state, ident = self._resume(path)
        if state is None:
            state = _FileState(ident, 0, b"")
            self.full_reads += 1
        read = read_event_file(path, start=state.offset)
        self.bytes_read += read.end - state.offset
        for tag, *columns in read.parts:
            state.add(tag, tuple(columns))
        state.records += read.records
        state.bad += read.bad_crc
        state.non_scalar |= read.non_scalar_tags
        self._keep(path, state, read.end)
        return EventFileRead(path, state.parts(), state.records, state.bad, read.truncated_at, read.corrupt_at,
                             read.end, set(state.non_scalar), read.gaps, read.size)

    def csv(self, path: Path, source: str) -> CsvRead:
        """The CSV log's points so far: its earlier rows and the complete lines appended since."""
        state, ident = self._resume(path)
        notes: list[str] = []
        if state is not None and (not state.header or encoding_of(state.header)[0] not in _BYTE_LINES):
            # no complete header line yet (rows cannot be read without it), or a text encoding whose line end is
            # not the byte "\n" (UTF-16/32: a cut there splits a character): the file is read whole again
            state = None
        if state is None:
            data = path.read_bytes()
            begin = preamble_bytes(data)  # comment lines above the header go with it
            header = data[: data.find(b"\n", begin) + 1] if b"\n" in data[begin:] else b""
            state, start, chunk = _FileState(ident, 0, b"", header=header), 0, data
            self.full_reads += 1
        else:
            with path.open("rb") as handle:
                handle.seek(state.offset)
                chunk = handle.read()
            start = state.offset
        self.bytes_read += len(chunk)
        whole = start == 0 and encoding_of(chunk[:512])[0] not in _BYTE_LINES  # its reader finds the lines
        complete = chunk if whole else chunk[: chunk.rfind(b"\n") + 1]
        if len(complete) < len(chunk) and (start or complete):
            notes.append("last line has no end (the file is still being written, or was cut): read next time")
        if start == 0 or complete:
            read = read_csv_bytes(complete if start == 0 else state.header + complete, path, source,
                                  0 if start == 0 else state.lines - 1) \
                if complete else read_csv_bytes(chunk, path, source)
            state.lines += complete.count(b"\n")
            if read.launches:  # a header written again: the parts are launches, read whole each pass
                self.files.pop(str(path), None)
                return read_csv_bytes(path.read_bytes(), path, source)
            frame = read.frame
            codes = frame["metric"].cat.codes.to_numpy()
            bounds = np.flatnonzero(np.diff(codes)) + 1
            columns = [frame[c].to_numpy() for c in ("step", "value", "wall_time")]
            for part in np.split(np.arange(len(frame)), bounds) if len(frame) else []:
                state.add(frame["metric"].cat.categories[codes[part[0]]], tuple(c[part] for c in columns))
            state.rows += read.rows
            state.bad += read.bad_cells
            state.layout = state.layout or read.layout
            state.unit = read.unit if start == 0 else state.unit
            state.total_steps = state.total_steps if state.total_steps is not None else read.total_steps
            state.notes = list(dict.fromkeys([*state.notes, *(n for n in read.notes if whole or "no end" not in n)]))
        self._keep(path, state, start + len(complete))
        return CsvRead(frame_from_series(state.parts(), source), state.layout, state.rows, state.bad,
                       [*state.notes, *notes], state.total_steps, state.unit)

    def points(self) -> int:
        """Points read so far, over every file."""
        return sum(len(piece[0]) for state in self.files.values() for pieces in state.series.values()
                   for piece in pieces)

    def forget_missing(self) -> None:
        """Drop the state of files that are gone (a log rotated away)."""
        for name in [n for n in self.files if not os.path.exists(n)]:
            del self.files[name]
