"""TensorBoard event files, every point, fast.

Each record of an event file holds one ``Event`` protobuf. Writers emit the same few byte layouts over and
over (one per tag and step width): records are grouped by length, the layout of the first of a group is
parsed once, and every record that shares its constant bytes is decoded column-wise with numpy. Both CRCs
of every record are checked. Records of any other layout go through tensorboard's own protobuf classes.
Nothing is sampled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..frame import sorted_by_step
from . import tfrecord


@dataclass
class EventFileRead:
    """The scalar points of one event file, per tag sorted by step (a step written twice: the later one), and
    what went wrong on the way."""

    path: Path
    series: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # tag -> (steps, values, wall times)
    records: int = 0
    bad_crc: int = 0
    truncated_at: int | None = None  # byte offset of an incomplete last record
    corrupt_at: int | None = None  # byte offset of a record header whose CRC fails (reading stops there)
    non_scalar_tags: set[str] = field(default_factory=set)


def read_event_file(path: Path) -> EventFileRead:
    """Read every scalar point of one event file; a bad CRC skips a record, a truncated tail is noted."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read event file ({exc.strerror}); check the path and permissions") from exc
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, lengths, truncated_at = tfrecord.frame_records(data)
    corrupt_at = None
    first_bad = tfrecord.first_bad_header(buf, starts)
    if first_bad is not None:
        corrupt_at = int(starts[first_bad])
        starts, lengths = starts[:first_bad], lengths[:first_bad]
        truncated_at = None
    decoder = _Decoder(data, buf)
    small = lengths.astype(np.uint16) if len(lengths) and lengths.max() < 65536 else lengths
    order = np.argsort(small, kind="stable")  # radix sort for small integers
    bounds = np.flatnonzero(np.diff(lengths[order])) + 1
    for group in np.split(order, bounds) if len(order) else []:
        decoder.decode_group(starts[group] + 12, int(lengths[group[0]]))
    out = decoder.result(path)
    out.records = len(starts)
    out.truncated_at = truncated_at
    out.corrupt_at = corrupt_at
    return out


# --- decoding -------------------------------------------------------------------------------------------

_VECTOR_MAX_LEN = 512  # longer payloads (images, histograms) are rare: one by one
_VECTOR_MIN_ROWS = 16
_MAX_LAYOUTS_PER_GROUP = 64


@dataclass
class _Layout:
    """Byte positions of the varying fields of a scalar event; every other byte is constant."""

    tag: str
    wall_pos: int | None
    step_pos: int | None
    step_len: int
    value_pos: int
    value_dtype: str  # "<f4" or "<f8"

    def varying(self) -> list[int]:
        """Byte positions that differ from record to record."""
        out: list[int] = []
        if self.wall_pos is not None:
            out += range(self.wall_pos, self.wall_pos + 8)
        if self.step_pos is not None:
            out += range(self.step_pos, self.step_pos + self.step_len)
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
    """The layout of an Event holding exactly one scalar Value, or None for anything else."""
    wall_pos = step_pos = None
    step_len = 0
    summary = None
    for number, wire, a, b in _fields(data, start, end):
        if number == 1 and wire == 1:
            wall_pos = a
        elif number == 2 and wire == 0:
            step_pos, step_len = a, b - a
        elif number == 5 and wire == 2 and summary is None:
            summary = (a, b)
        else:
            return None
    if summary is None:
        return None
    values = list(_fields(data, *summary))
    if len(values) != 1 or values[0][:2] != (1, 2):
        return None
    tag = None
    value = None
    for number, wire, a, b in _fields(data, values[0][2], values[0][3]):
        if number == 1 and wire == 2:
            tag = data[a:b].decode("utf-8")
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
        self.bad_crc = 0
        self.non_scalar_tags: set[str] = set()

    def decode_group(self, pending: np.ndarray, length: int) -> None:
        """Decode records of one payload length, starting at ``pending`` offsets."""
        if length > _VECTOR_MAX_LEN or len(pending) < _VECTOR_MIN_ROWS:
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
        if not n:
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
            self.bad_crc += 1
            return
        from tensorboard.compat.proto import event_pb2
        from tensorboard.util import tensor_util

        event = event_pb2.Event()
        try:
            event.ParseFromString(data[start : start + length])
        except Exception:  # a record with a good CRC that is no Event: count it with the damaged ones
            self.bad_crc += 1
            return
        for value in event.summary.value:
            kind = value.WhichOneof("value")
            plugin = value.metadata.plugin_data.plugin_name
            if kind == "simple_value":
                number = value.simple_value
            elif kind == "tensor" and plugin in ("", "scalars"):
                array = tensor_util.make_ndarray(value.tensor)
                if array.size != 1 or array.dtype.kind not in "fiu":
                    self.non_scalar_tags.add(value.tag)
                    continue
                number = float(array.reshape(()))
            else:
                self.non_scalar_tags.add(value.tag)
                continue
            self.cols.append((np.array([start]), np.array([event.step], dtype=np.int64), self._code(value.tag),
                              np.array([number]), np.array([event.wall_time])))

    def result(self, path: Path) -> EventFileRead:
        names = list(self.tags)
        by_tag: dict[int, list] = {}
        for batch in self.cols:
            by_tag.setdefault(batch[2], []).append(batch)
        series = {}
        for code, batches in by_tag.items():
            batches.sort(key=lambda b: int(b[0][0]))
            offsets, steps, _, values, walls = (
                np.concatenate([b[i] for b in batches]) if i != 2 else None for i in range(5))
            if len(batches) > 1 and np.any(np.diff(offsets) < 0):  # batches interleave: back to file order
                order = np.argsort(offsets, kind="stable")
                steps, values, walls = steps[order], values[order], walls[order]
            series[names[code]] = sorted_by_step(steps, values, walls)
        return EventFileRead(path, series, bad_crc=self.bad_crc, non_scalar_tags=self.non_scalar_tags)


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
        layout.value_pos - start,
        layout.value_dtype,
    )
