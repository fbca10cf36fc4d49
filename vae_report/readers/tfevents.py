"""TensorBoard event files, every point, fast.

Each record of an event file holds one ``Event`` protobuf. Writers emit the same few byte layouts over and
over (one per tag and step width): records are grouped by length, the layout of the first of a group is
parsed once, and every record that shares its constant bytes is decoded column-wise with numpy. Both CRCs
of every record are checked. Records of any other layout go through tensorboard's own protobuf classes.
Nothing is sampled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..frame import sorted_by_step
from . import tfrecord


@dataclass
class EventFileRead:
    """The scalar points of one event file, and what went wrong on the way. ``parts`` holds (tag, steps, values,
    wall times) pieces in file order, several per tag for a long file (one per block read): pooled per tag,
    sorted by step and a step written twice keeping its later point, they are the file's series."""

    path: Path
    parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]
    records: int = 0
    bad_crc: int = 0
    truncated_at: int | None = None  # byte offset of an incomplete last record
    corrupt_at: int | None = None  # byte offset of the first record header whose CRC fails
    end: int = 0  # byte offset just past the last complete record read: where a later read of the tail begins
    non_scalar_tags: set[str] = field(default_factory=set)
    # each corrupt header: (its offset, the offset the read went on at: the next header whose CRC checks; None:
    # none did, the rest of the file was not read)
    gaps: list[tuple[int, int | None]] = field(default_factory=list)
    size: int = 0  # the file's size in bytes, for the share a corrupt header left unread

    @property
    def tags(self) -> set[str]:
        return {part[0] for part in self.parts}

    @property
    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """tag -> (steps, values, wall times), sorted by step, a step written twice keeping its later point."""
        pooled: dict[str, list] = {}
        for tag, *columns in self.parts:
            pooled.setdefault(tag, []).append(columns)
        return {tag: sorted_by_step(*(np.concatenate([c[i] for c in cols]) for i in range(3)))
                for tag, cols in pooled.items()}


class UndecodedFile(InputError):
    """An event file of which no record could be read: named as not read, and (beside a run's other logs) as a
    file the report could not read at all, as one read only in part is."""


def undecoded(read: EventFileRead) -> str | None:
    """What is wrong with an event file of which no record could be read (random bytes or another file under an
    event file's name, a file damaged from its start), or None: a file that holds no records yet is not damaged."""
    if read.records == 0 and read.corrupt_at == 0:
        return ("not a TensorBoard event file: its first record's header fails its checksum and no later header "
                f"checks (none of its {read.size:,} bytes read)")
    if read.records and read.bad_crc >= read.records:
        return (f"a damaged TensorBoard event file: all of its {read.records:,} records fail their data checksum "
                "(none could be read)")
    return None


BLOCK = 32 << 20  # bytes read at a time: memory stays near the decoded columns, not the file's size


def read_event_file(path: Path, block: int = BLOCK, start: int = 0) -> EventFileRead:
    """Read every scalar point of one event file, a block at a time; a bad CRC skips a record, a truncated
    tail is noted, a record header whose CRC fails is skipped to the next header whose CRC checks (its length
    cannot be trusted; none in the block: the read ends there). ``start``: the
    offset of a record to begin at (the ``end`` of an earlier read: only what was appended since)."""
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            return _read_blocks(path, handle, block, start)
    except OSError as exc:
        raise InputError(f"{path}: cannot read event file ({exc.strerror}); check the path and permissions") from exc


def _read_blocks(path: Path, handle, block: int, start: int = 0) -> EventFileRead:
    size = os.fstat(handle.fileno()).st_size
    out = EventFileRead(path, [], end=start, size=size)
    carry, base, need = b"", start, 0  # an incomplete record from the last block, its file offset, its full size
    while True:
        fresh = handle.read(max(block, need - len(carry)))
        at_end = handle.tell() >= size or not fresh
        data = carry + fresh if carry else fresh
        starts, lengths, tail = tfrecord.frame_records(data)
        buf = np.frombuffer(data, dtype=np.uint8)
        bad = _corrupt_header(buf, starts, tail)
        if bad is not None:  # read on at the next header whose CRC checks, in this block
            keep = int(np.searchsorted(starts, bad))
            more_starts, more_lengths, tail, gaps = tfrecord.resynced(data, bad)
            starts, lengths = np.concatenate((starts[:keep], more_starts)), np.concatenate((lengths[:keep],
                                                                                             more_lengths))
            out.corrupt_at = base + bad if out.corrupt_at is None else out.corrupt_at
            out.gaps += [(base + a, None if b is None else base + b) for a, b in gaps]
        _decode_block(out, data, buf, starts, lengths)
        out.records += len(starts)
        if out.gaps and out.gaps[-1][1] is None:
            out.end = out.gaps[-1][0]
            return out
        if tail is None:
            carry, need = b"", 0
            base += len(data)
        else:
            carry = data[tail:]
            base += tail
            need = 16 + int.from_bytes(carry[:8], "little") if len(carry) >= 8 else 0
            need = min(need, len(carry) + size - handle.tell())  # never more than the file still holds
        if at_end:
            if carry:
                out.truncated_at = base
            out.end = base
            return out


def _decode_groups(decoder: _Decoder, starts: np.ndarray, lengths: np.ndarray) -> None:
    """Decode records grouped by length: same-length records of one tag share a byte layout."""
    small = lengths.astype(np.uint16) if len(lengths) and lengths.max() < 65536 else lengths
    order = np.argsort(small, kind="stable")  # radix sort for small integers
    bounds = np.flatnonzero(np.diff(lengths[order])) + 1
    for group in np.split(order, bounds) if len(order) else []:
        decoder.decode_group(starts[group] + 12, int(lengths[group[0]]))


def _corrupt_header(buf: np.ndarray, starts: np.ndarray, tail: int | None) -> int | None:
    """Offset (in the block) of the first record whose length field fails its CRC, the incomplete last record
    included: its length cannot be trusted, so nothing after it is read."""
    first_bad = tfrecord.first_bad_header(buf, starts)
    if first_bad is not None:
        return int(starts[first_bad])
    if tail is not None and tail + 12 <= len(buf) and tfrecord.first_bad_header(buf, np.array([tail])) is not None:
        return tail
    return None


def _decode_block(out: EventFileRead, data: bytes, buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
    """Decode the complete records of one block into ``out``, records grouped by length."""
    decoder = _Decoder(data, buf)
    _decode_groups(decoder, starts, lengths)
    out.parts.extend(decoder.parts())
    out.bad_crc += len(decoder.bad)
    out.non_scalar_tags |= {tag for _, tag in decoder.non_scalar}


# --- many files at once ------------------------------------------------------------------------------

SMALL_FILE = 1 << 20  # files up to this size are read whole and decoded together with the other small ones
TINY_FILE = 1 << 14  # framed record by record in Python: cheaper than setting up arrays for a few records


@dataclass
class EventBatch:
    """The scalar points of several event files, one row per point in each file's record order, and per file
    what was read (``reads[i]``: counts and what went wrong, its ``parts`` empty) or why not (``errors[i]``)."""

    reads: list[EventFileRead]
    errors: list[str | None]
    sizes: list[int]
    tags: list[str]
    file: np.ndarray  # index into reads of each point
    tag: np.ndarray  # index into tags
    steps: np.ndarray
    values: np.ndarray
    walls: np.ndarray


def read_event_batch(paths: list[Path]) -> EventBatch:
    """Read many event files: small ones (a restart-heavy job's or per-rank writers' thousands) joined and
    decoded in one pass, so that a file costs little more than opening it; large ones a block at a time."""
    reads = [EventFileRead(Path(p), []) for p in paths]
    errors: list[str | None] = [None] * len(paths)
    sizes = [0] * len(paths)
    small: list[tuple[int, bytes]] = []
    large: list[int] = []
    for i, path in enumerate(paths):
        try:
            data = _read_small(path)
        except OSError as exc:
            errors[i] = f"cannot read event file ({exc.strerror or exc}); check the path and permissions"
            continue
        if data is None:
            large.append(i)
            continue
        sizes[i] = len(data)
        if data:
            small.append((i, data))
    tags: dict[str, int] = {}
    columns = [_decode_small(small, reads, tags)] if small else []
    for i in large:
        try:
            read = read_event_file(Path(paths[i]))
        except InputError as exc:
            errors[i] = str(exc).split(": ", 1)[-1]
            continue
        sizes[i] = os.path.getsize(paths[i])
        parts, read.parts = read.parts, []
        reads[i] = read
        for tag, steps, values, walls in parts:
            n = len(steps)
            columns.append((np.full(n, i, dtype=np.int32), np.full(n, tags.setdefault(tag, len(tags)), np.int32),
                            steps, values, walls))
    joined = [np.concatenate([c[k] for c in columns]) if columns else np.zeros(0, dtype) for k, dtype in
              enumerate((np.int32, np.int32, np.int64, np.float64, np.float64))]
    return EventBatch(reads, errors, sizes, list(tags), *joined)


def _read_small(path: Path) -> bytes | None:
    """The whole file if it is small, else None."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size > SMALL_FILE:
            return None
        chunks = []
        while chunk := os.read(fd, SMALL_FILE + 1):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _decode_small(small: list[tuple[int, bytes]], reads: list[EventFileRead], tags: dict[str, int]):
    """Frame each file, check every length field at once, decode every record of every file together."""
    joined = b"".join(data for _, data in small)
    buf = np.frombuffer(joined, dtype=np.uint8)
    bases = np.cumsum([0] + [len(data) for _, data in small[:-1]])
    pieces: list[tuple[np.ndarray, np.ndarray]] = []
    run_starts: list[int] = []  # records of consecutive tiny files, made one array at the next large one
    run_lengths: list[int] = []
    counts, tails = [], []
    for (_, data), base in zip(small, bases.tolist(), strict=True):
        if len(data) <= TINY_FILE:
            s, n, _, tail = tfrecord.walk_list(data)
            run_starts += [x + base for x in s]
            run_lengths += n
        else:
            pieces.append((np.asarray(run_starts, dtype=np.int64), np.asarray(run_lengths, dtype=np.int64)))
            run_starts, run_lengths = [], []
            s, n, tail = tfrecord.frame_records(data)
            pieces.append((s + base, n))
        counts.append(len(s))
        tails.append(-1 if tail is None else base + tail)
    pieces.append((np.asarray(run_starts, dtype=np.int64), np.asarray(run_lengths, dtype=np.int64)))
    starts = np.concatenate([p[0] for p in pieces])
    lengths = np.concatenate([p[1] for p in pieces])
    owner = np.repeat(np.arange(len(small)), counts)
    tails = np.array(tails)
    # a length field that fails its CRC ends its file's read there (an incomplete last record's too)
    cut = np.full(len(small), np.iinfo(np.int64).max)
    bad = np.flatnonzero(tfrecord.bad_headers(buf, starts)) if len(starts) else np.zeros(0, dtype=np.int64)
    if len(bad):
        files, first = np.unique(owner[bad], return_index=True)
        cut[files] = starts[bad[first]]
    ends = bases + np.array([len(data) for _, data in small])
    torn = np.flatnonzero((tails >= 0) & (tails + 12 <= ends))
    if len(torn):
        broken = tfrecord.bad_headers(buf, tails[torn])
        cut[torn[broken]] = np.minimum(cut[torn[broken]], tails[torn[broken]])
    keep = starts < cut[owner]
    starts, lengths, owner = starts[keep], lengths[keep], owner[keep]
    gaps: dict[int, list] = {}
    for k in np.flatnonzero(cut != np.iinfo(np.int64).max).tolist():  # read on at the next header that checks
        s, n, tail, gaps[k] = tfrecord.resynced(small[k][1], int(cut[k] - bases[k]))
        starts, lengths = np.concatenate((starts, s + bases[k])), np.concatenate((lengths, n))
        owner = np.concatenate((owner, np.full(len(s), k, dtype=owner.dtype)))
        tails[k] = -1 if tail is None else bases[k] + tail
    decoder = _Decoder(joined, buf)
    decoder.tags = tags
    _decode_groups(decoder, starts, lengths)
    counts = np.bincount(owner, minlength=len(small)).tolist()
    for k, (i, _) in enumerate(small):
        read = reads[i]
        read.records = counts[k]
        read.size = len(small[k][1])
        if cut[k] != np.iinfo(np.int64).max:
            read.corrupt_at, read.gaps = int(cut[k] - bases[k]), gaps[k]
        if tails[k] >= 0:
            read.truncated_at = int(tails[k] - bases[k])
    index = np.array([i for i, _ in small], dtype=np.int32)
    for offset in decoder.bad:
        reads[small[int(np.searchsorted(bases, offset, "right")) - 1][0]].bad_crc += 1
    for offset, tag in decoder.non_scalar:
        reads[small[int(np.searchsorted(bases, offset, "right")) - 1][0]].non_scalar_tags.add(tag)
    if not decoder.cols:
        empty = np.zeros(0)
        return np.zeros(0, np.int32), np.zeros(0, np.int32), empty.astype(np.int64), empty, empty
    offsets, steps, values, walls = (np.concatenate([c[k] for c in decoder.cols]) for k in (0, 1, 3, 4))
    codes = np.concatenate([np.full(len(c[0]), c[2], dtype=np.int32) for c in decoder.cols])
    order = np.argsort(offsets, kind="stable")  # back to each file's record order
    offsets = offsets[order]
    return (index[np.searchsorted(bases, offsets, "right") - 1], codes[order], steps[order], values[order],
            walls[order])


# --- decoding -------------------------------------------------------------------------------------------

_VECTOR_MAX_LEN = 512  # longer payloads (images, histograms) are rare: one by one
_MAX_LAYOUTS_PER_GROUP = 64


@dataclass
class _Layout:
    """Byte positions of the varying fields of a scalar event; every other byte is constant."""

    tag: str | None  # None: an event that holds no value (the file_version record that opens every file)
    wall_pos: int | None
    step_pos: int | None
    step_len: int
    value_pos: int | None
    value_dtype: str  # "<f4" or "<f8"

    def varying(self) -> list[int]:
        """Byte positions that differ from record to record."""
        out: list[int] = []
        if self.wall_pos is not None:
            out += range(self.wall_pos, self.wall_pos + 8)
        if self.step_pos is not None:
            out += range(self.step_pos, self.step_pos + self.step_len)
        if self.value_pos is None:
            return out
        width = 4 if self.value_dtype == "<f4" else 8
        return out + list(range(self.value_pos, self.value_pos + width))


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("varint runs past the end")
        byte = data[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(data: bytes, start: int, end: int):
    """Yield (field number, wire type, value start, value end) of a protobuf message slice."""
    pos = start
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, after = _varint(data, pos)
        elif wire == 1:
            after = pos + 8
        elif wire == 2:
            size, pos = _varint(data, pos)
            after = pos + size
        elif wire == 5:
            after = pos + 4
        else:
            raise ValueError("unsupported wire type")
        if after > end:
            raise ValueError("field runs past the end")
        yield number, wire, pos, after
        pos = after


def _scalar_layout(data: bytes, start: int, end: int) -> _Layout | None:
    """The layout of an Event holding exactly one scalar Value, or of a file_version event (no value), or None
    for anything else."""
    wall_pos = step_pos = None
    step_len = 0
    summary = version = None
    for number, wire, a, b in _fields(data, start, end):
        if number == 1 and wire == 1:
            wall_pos = a
        elif number == 2 and wire == 0:
            step_pos, step_len = a, b - a
        elif number == 3 and wire == 2 and version is None:
            version = (a, b)
        elif number == 10 and wire == 2 and version is not None and summary is None:
            pass  # the writer's source_metadata, beside file_version: constant bytes
        elif number == 5 and wire == 2 and summary is None:
            summary = (a, b)
        else:
            return None
    if summary is None:
        return None if version is None else _Layout(None, wall_pos, step_pos, step_len, None, "<f4")
    if version is not None:
        return None
    values = list(_fields(data, *summary))
    if len(values) != 1 or values[0][:2] != (1, 2):
        return None
    tag = None
    value = None
    for number, wire, a, b in _fields(data, values[0][2], values[0][3]):
        if number == 1 and wire == 2:
            # a tag whose bytes are not UTF-8 (a writer's bug; protobuf refuses the whole record): read under
            # its bytes spelled out (train/tot\\xffl), so the report names it instead of losing its points
            tag = data[a:b].decode("utf-8", errors="backslashreplace")
        elif number == 2 and wire == 5:
            value = (a, "<f4")
        elif number == 8 and wire == 2:
            value = _scalar_tensor(data, a, b)
            if value is None:
                return None
        elif number == 9 and wire == 2:
            if not _is_scalar_metadata(data, a, b):
                return None
        else:
            return None
    if tag is None or value is None:
        return None
    return _Layout(tag, wall_pos, step_pos, step_len, value[0], value[1])


def _scalar_tensor(data: bytes, start: int, end: int) -> tuple[int, str] | None:
    """Position and dtype of the single value of a rank-0 float or double TensorProto."""
    dtype = None
    value = None
    for number, wire, a, b in _fields(data, start, end):
        if number == 1 and wire == 0:
            dtype = _varint(data, a)[0]
        elif number == 2 and wire == 2:
            if b != a:  # a non-empty TensorShapeProto: not a scalar
                return None
        elif number == 4 and wire == 2:  # tensor_content
            value = (a, b - a)
        elif number == 5 and wire == 2:  # packed float_val
            value = (a, b - a)
        elif number == 5 and wire == 5:
            value = (a, 4)
        elif number == 6 and wire == 2:  # packed double_val
            value = (a, b - a)
        elif number == 6 and wire == 1:
            value = (a, 8)
        else:
            return None
    if value is None:
        return None
    if dtype == 1 and value[1] == 4:
        return value[0], "<f4"
    if dtype == 2 and value[1] == 8:
        return value[0], "<f8"
    return None


def _is_scalar_metadata(data: bytes, start: int, end: int) -> bool:
    for number, wire, a, b in _fields(data, start, end):
        if number == 1 and wire == 2:  # plugin_data
            for n2, w2, a2, b2 in _fields(data, a, b):
                if n2 == 1 and w2 == 2:
                    return data[a2:b2] == b"scalars"
    return True


class _Decoder:
    """Collects decoded columns from groups of same-length records."""

    def __init__(self, data: bytes, buf: np.ndarray):
        self.data = data
        self.buf = buf
        self.tags: dict[str, int] = {}
        # per decoded batch: (file offsets, steps, tag code, values, wall times)
        self.cols: list[tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]] = []
        self.bad: list[int] = []  # offsets of records that fail their CRC or do not parse
        self.non_scalar: list[tuple[int, str]] = []  # (offset, tag) of values that are not scalars

    def decode_group(self, pending: np.ndarray, length: int) -> None:
        """Decode records of one payload length, starting at ``pending`` offsets."""
        if length > _VECTOR_MAX_LEN:
            for start in pending:
                self._decode_one(int(start), length)
            return
        width = length + 4  # payload and its CRC, copied out in one gather
        rows = np.ndarray((len(self.data) - width + 1,), dtype=f"V{width}", buffer=self.data, strides=(1,))[pending]
        rows = rows.view(np.uint8).reshape(-1, width)
        for _ in range(_MAX_LAYOUTS_PER_GROUP):
            if not len(pending):
                return
            first = int(pending[0])
            layout = _safe_layout(self.data, first, first + length)
            if layout is None:
                self._decode_one(first, length)
                pending, rows = pending[1:], rows[1:]
                continue
            ok = _same_layout(rows, length, layout)
            if not ok[0]:  # the first record itself is damaged: the slow path counts it
                self._decode_one(first, length)
            self._take(pending[ok], rows[ok], layout)
            ok[0] = True
            pending, rows = pending[~ok], rows[~ok]
        for start in pending:
            self._decode_one(int(start), length)

    def _take(self, offsets: np.ndarray, rows: np.ndarray, layout: _Layout) -> None:
        n = len(rows)
        if not n or layout.tag is None:
            return
        wall = np.zeros(n)
        if layout.wall_pos is not None:
            wall = _column(rows, layout.wall_pos, "<f8").copy()
        step = np.zeros(n, dtype=np.int64)
        if layout.step_pos is not None:
            for k in range(layout.step_len):
                step |= (rows[:, layout.step_pos + k].astype(np.int64) & 0x7F) << (7 * k)
        value = _column(rows, layout.value_pos, layout.value_dtype).astype(np.float64)
        self.cols.append((offsets, step, self._code(layout.tag), value, wall))

    def _code(self, tag: str) -> int:
        return self.tags.setdefault(tag, len(self.tags))

    def _decode_one(self, start: int, length: int) -> None:
        data = self.data
        expected = int.from_bytes(data[start + length : start + length + 4], "little")
        if tfrecord.masked_crc(memoryview(data)[start : start + length]) != expected:
            self.bad.append(start)
            return
        from tensorboard.compat.proto import event_pb2
        from tensorboard.util import tensor_util

        event = event_pb2.Event()
        try:
            event.ParseFromString(data[start : start + length])
        except Exception:  # a record with a good CRC that is no Event: count it with the damaged ones
            self.bad.append(start)
            return
        for value in event.summary.value:
            kind = value.WhichOneof("value")
            plugin = value.metadata.plugin_data.plugin_name
            if kind == "simple_value":
                number = value.simple_value
            elif kind == "tensor" and plugin in ("", "scalars"):
                array = tensor_util.make_ndarray(value.tensor)
                if array.size != 1 or array.dtype.kind not in "fiu":
                    self.non_scalar.append((start, value.tag))
                    continue
                number = float(array.reshape(()))
            else:
                self.non_scalar.append((start, value.tag))
                continue
            self.cols.append((np.array([start]), np.array([event.step], dtype=np.int64), self._code(value.tag),
                              np.array([number]), np.array([event.wall_time])))

    def parts(self) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
        """(tag, steps, values, wall times) per tag, in the block's record order."""
        names = list(self.tags)
        by_tag: dict[int, list] = {}
        for batch in self.cols:
            by_tag.setdefault(batch[2], []).append(batch)
        self.cols = []
        out = []
        for code, batches in by_tag.items():
            batches.sort(key=lambda b: int(b[0][0]))
            offsets, steps, _, values, walls = (
                np.concatenate([b[i] for b in batches]) if i != 2 else None for i in range(5))
            if len(batches) > 1 and np.any(np.diff(offsets) < 0):  # batches interleave: back to file order
                order = np.argsort(offsets, kind="stable")
                steps, values, walls = steps[order], values[order], walls[order]
            out.append((names[code], steps, values, walls))
        return out


def _column(rows: np.ndarray, pos: int, dtype: str) -> np.ndarray:
    """Bytes ``pos..`` of every row read as one ``dtype`` value (a strided view, no copy)."""
    return np.ndarray((rows.shape[0],), dtype=dtype, buffer=rows, offset=pos, strides=(rows.shape[1],))


def _same_layout(rows: np.ndarray, length: int, layout: _Layout) -> np.ndarray:
    """Rows whose CRC equals the first row's CRC corrected for their varying bytes share its layout."""
    first = rows[0]
    predicted = np.full(len(rows), tfrecord.crc(first[:length].tobytes()), dtype=np.uint32)
    for p, width in _chunks(layout.varying()):
        if width == 2:
            col = _column(rows, p, "<u2")
            predicted ^= tfrecord.pair_effect(length - p - 2)[col ^ col[0]]
        else:
            col = rows[:, p]
            predicted ^= tfrecord.byte_effect(length - p - 1)[col ^ col[0]]
    ok = predicted == tfrecord.unmask(_column(rows, length, "<u4"))
    if layout.step_pos is not None:  # the same bytes must still read as a varint of the same width
        for k in range(layout.step_len):
            more = (rows[:, layout.step_pos + k] & 0x80) != 0
            ok &= more if k < layout.step_len - 1 else ~more
    return ok


def _chunks(positions: list[int]) -> list[tuple[int, int]]:
    """Split sorted byte positions into (start, width) pieces of two adjacent bytes where possible."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(positions):
        if i + 1 < len(positions) and positions[i + 1] == positions[i] + 1:
            out.append((positions[i], 2))
            i += 2
        else:
            out.append((positions[i], 1))
            i += 1
    return out


def _safe_layout(data: bytes, start: int, end: int) -> _Layout | None:
    try:
        layout = _scalar_layout(data, start, end)
    except (ValueError, UnicodeDecodeError):
        return None
    if layout is None:
        return None
    # positions relative to the payload's first byte
    return _Layout(
        layout.tag,
        None if layout.wall_pos is None else layout.wall_pos - start,
        None if layout.step_pos is None else layout.step_pos - start,
        layout.step_len,
        None if layout.value_pos is None else layout.value_pos - start,
        layout.value_dtype,
    )
