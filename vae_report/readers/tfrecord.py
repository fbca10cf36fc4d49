"""TFRecord framing and its masked CRC32C, vectorized with numpy.

A record is ``uint64 length | uint32 masked_crc(length bytes) | payload | uint32 masked_crc(payload)``.
Walking the framing is inherently sequential, but writers repeat a short cycle of record lengths (one per
tag), so the walk predicts the next stretch of offsets from that cycle and checks the prediction in bulk.
"""

from __future__ import annotations

import struct
from functools import lru_cache

import numpy as np

_U64 = struct.Struct("<Q")
MASK_DELTA = 0xA282EAD8
_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected


def _table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table[i] = crc
    return table


TABLE = _table()


def mask(crc: np.ndarray) -> np.ndarray:
    return ((crc >> 15) | (crc << 17)) + np.uint32(MASK_DELTA)


def unmask(masked: np.ndarray) -> np.ndarray:
    x = masked - np.uint32(MASK_DELTA)
    return (x << 15) | (x >> 17)


def masked_crc_rows(rows: np.ndarray) -> np.ndarray:
    """Masked CRC32C of each row of a 2-D uint8 array."""
    crc = np.full(rows.shape[0], 0xFFFFFFFF, dtype=np.uint32)
    for j in range(rows.shape[1]):
        crc = TABLE[(crc ^ rows[:, j]) & 0xFF] ^ (crc >> 8)
    return mask(crc ^ np.uint32(0xFFFFFFFF))


def crc(buf) -> int:
    """Plain CRC32C of one buffer (the crc32c package: hardware-accelerated where it can be)."""
    import crc32c

    return crc32c.crc32c(buf)


def masked_crc(buf) -> int:
    """Masked CRC32C of one buffer, as stored in a record."""
    value = crc(buf)
    return (((value >> 15) | (value << 17)) + MASK_DELTA) & 0xFFFFFFFF


@lru_cache(maxsize=4096)
def byte_effect(zeros_after: int) -> np.ndarray:
    """CRC contribution (zero init, no final xor) of each byte value followed by ``zeros_after`` zero bytes.

    CRC is linear: two messages of one length that differ only in some bytes have CRCs that differ by the XOR
    of these contributions, which lets a whole group of same-layout records be checked from a few columns.
    """
    crc = TABLE[np.arange(256)]
    for _ in range(zeros_after):
        crc = TABLE[crc & 0xFF] ^ (crc >> 8)
    crc.flags.writeable = False
    return crc


@lru_cache(maxsize=4096)
def pair_effect(zeros_after: int) -> np.ndarray:
    """Like ``byte_effect`` for two adjacent bytes read as one little-endian uint16."""
    value = np.arange(65536, dtype=np.uint32)
    table = byte_effect(zeros_after + 1)[value & 0xFF] ^ byte_effect(zeros_after)[value >> 8]
    table.flags.writeable = False
    return table


def frame_records(data: bytes, pos: int = 0) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Start offset and payload length of every complete record from ``pos`` on, and the offset of an incomplete
    tail."""
    n = len(data)
    buf = np.frombuffer(data, dtype=np.uint8)
    starts: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    while True:
        walked_s, walked_l, pos, truncated = _walk(data, pos, 64)
        starts.append(walked_s)
        lengths.append(walked_l)
        if truncated is not None or pos >= n:
            return np.concatenate(starts), np.concatenate(lengths), truncated
        cycle = _cycle(walked_l)
        if cycle is None:
            continue
        pred_s, pred_l, pos = _predict(buf, pos, cycle, n)
        starts.append(pred_s)
        lengths.append(pred_l)


def _walk(data: bytes, pos: int, count: int):
    """Follow the length fields one record at a time."""
    starts, lengths, pos, truncated = walk_list(data, pos, count)
    return np.asarray(starts, dtype=np.int64), np.asarray(lengths, dtype=np.int64), pos, truncated


def walk_list(data: bytes, pos: int = 0, count: int = 1 << 62) -> tuple[list[int], list[int], int, int | None]:
    """Follow the length fields one record at a time, as Python lists (a tiny file costs no array set-up)."""
    n = len(data)
    unpack = _U64.unpack_from
    starts, lengths = [], []
    truncated = None
    for _ in range(count):
        if pos >= n:
            break
        if pos + 12 > n:
            truncated = pos
            break
        length = unpack(data, pos)[0]
        if pos + 16 + length > n:
            truncated = pos
            break
        starts.append(pos)
        lengths.append(length)
        pos += 16 + length
    return starts, lengths, pos, truncated


def _cycle(lengths: np.ndarray) -> np.ndarray | None:
    """The shortest cycle (up to 32 records) that the last walked lengths repeat, starting after them."""
    for period in range(1, 33):
        if len(lengths) < 2 * period:
            return None
        tail = lengths[-2 * period :]
        if np.array_equal(tail[:period], tail[period:]):
            return tail[period:]
    return None


def _predict(buf: np.ndarray, pos: int, cycle: np.ndarray, n: int):
    """Predict a long stretch of records from the cycle and keep the prefix whose length fields agree."""
    size = int((cycle + 16).sum())
    reps = max(1, min((n - pos) // size, 1 << 16))
    pred_l = np.tile(cycle, reps)
    pred_s = pos + np.concatenate(([0], np.cumsum(pred_l + 16)[:-1]))
    fits = pred_s + 16 + pred_l <= n
    pred_s, pred_l = pred_s[fits], pred_l[fits]
    if not len(pred_s):
        return pred_s, pred_l, pos
    found = np.zeros(len(pred_s), dtype=np.uint64)
    for k in range(8):
        found |= buf[pred_s + k].astype(np.uint64) << np.uint64(8 * k)
    ok = found == pred_l.astype(np.uint64)
    keep = len(ok) if ok.all() else int(np.argmin(ok))
    pred_s, pred_l = pred_s[:keep], pred_l[:keep]
    if keep:
        pos = int(pred_s[-1] + 16 + pred_l[-1])
    return pred_s, pred_l, pos


def bad_headers(buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """For each record start, does its length field fail its CRC?"""
    heads = np.empty((len(starts), 12), dtype=np.uint8)
    for k in range(12):
        heads[:, k] = buf[starts + k]
    stored = heads[:, 8:12].copy().view("<u4").ravel()
    return masked_crc_rows(heads[:, :8]) != stored


def first_bad_header(buf: np.ndarray, starts: np.ndarray) -> int | None:
    """Index of the first record whose length CRC fails: its length, and everything after it, are untrusted."""
    if not len(starts):
        return None
    bad = np.flatnonzero(bad_headers(buf, starts))
    return int(bad[0]) if len(bad) else None


_SCAN = 1 << 20  # bytes scanned at a time for the next header whose CRC checks


def next_header(buf: np.ndarray, pos: int) -> int | None:
    """The first offset from ``pos`` whose 8-byte length field matches the masked CRC stored after it: where
    the records go on after a corrupt header (a chance match is one in 2**32 offsets; the payload's own CRC is
    still checked when it is decoded). None: no such offset before the end."""
    while pos + 12 <= len(buf):
        window = np.lib.stride_tricks.sliding_window_view(buf[pos: pos + _SCAN + 11], 12)
        stored = np.zeros(len(window), dtype=np.uint32)
        for k in range(4):
            stored |= window[:, 8 + k].astype(np.uint32) << np.uint32(8 * k)
        hits = np.flatnonzero(masked_crc_rows(window[:, :8]) == stored)
        if len(hits):
            return pos + int(hits[0])
        pos += len(window)
    return None


def resynced(data: bytes, bad: int) -> tuple[np.ndarray, np.ndarray, int | None, list[tuple[int, int | None]]]:
    """The records after a record header whose CRC fails at ``bad``: framing goes on at the next offset whose
    header checks, each further corrupt header skipped alike. (starts, lengths, incomplete tail or None, gaps:
    each (corrupt header's offset, offset the read went on at, None: nothing after it checks))."""
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, lengths, gaps, tail = [], [], [], None
    at: int | None = bad
    while at is not None:
        found = next_header(buf, at + 1)
        gaps.append((at, found))
        if found is None:
            break
        s, n, tail = frame_records(data, found)
        first = first_bad_header(buf, s)
        keep = len(s) if first is None else first
        starts.append(s[:keep])
        lengths.append(n[:keep])
        at = None if first is None else int(s[first])
        if at is None and tail is not None and tail + 12 <= len(data) and bad_headers(buf, np.array([tail]))[0]:
            at, tail = tail, None  # the incomplete last record's header is corrupt too: scan on past it
    empty = np.zeros(0, dtype=np.int64)
    return (np.concatenate(starts) if starts else empty, np.concatenate(lengths) if lengths else empty, tail, gaps)
