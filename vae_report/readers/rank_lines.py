"""Several processes' lines in one console file, each line prefixed with its rank by the launcher.

torchrun (``--tee``, ``--log-dir``, ``--local-ranks-filter``) writes every worker's line behind a header,
``[default0]:`` by default (``[${role_name}${local_rank}]:``), ``[rank1]:`` or ``[1]:`` with another role or
``TORCHELASTIC_LOG_LINE_PREFIX_TEMPLATE``; PyTorch's own C++ warnings carry ``[rank0]:``; ``mpirun --tag-output``
writes ``[1,0]<stdout>:``. A script without a main-process guard then logs every step once per rank, each rank the
loss of its own batch: read as one series, each step would be written twice and the last rank's value would win.
The lines are told apart by their prefix: each rank is read as the log of one process (ranks.py), the lowest
rank's is the run's; a file with one rank's prefix is read as if it had none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# at a line's start: torchrun's ``[<role><index>]:`` (the role a name, or none), mpirun's ``[<job>,<rank>]<stdout>:``
_PREFIX = re.compile(rb"\[(?P<role>[A-Za-z_][A-Za-z_-]{0,30})?(?P<rank>\d{1,5})\]:"
                     rb"|\[\d{1,5},(?P<mpi>\d{1,5})\]<std(?:out|err)>:")
_AT_LINE_START = re.compile(rb"(?m)^(?:" + _PREFIX.pattern + rb")")
# a bracketed counter at a line's start is the log's own (``[Epoch3]: loss=...``), not a process
_COUNTER_ROLES = {b"epoch", b"ep", b"e", b"step", b"iter", b"iteration", b"it", b"batch", b"b", b"n"}
HEAD = 1 << 20  # bytes looked at for a prefix before the whole file is split: a launcher's lines start the file


@dataclass
class RankLines:
    """A console file's lines by rank, each without its prefix."""

    texts: dict[int, bytes]  # rank -> its lines (lines without a prefix, the launcher's own, go with the lowest)
    shown: str  # the prefixes as written, for a note: ``[rank0]:, [rank1]:``


def rank_lines(path: Path) -> RankLines | None:
    """The file's lines by the rank that wrote them, or None when no line starts with a rank's prefix."""
    with path.open("rb") as handle:
        head = handle.read(HEAD)
    if not any(_is_rank(m) for m in _AT_LINE_START.finditer(head)):
        return None
    pieces = path.read_bytes().split(b"\n")
    # each line with its end; the last without one is a line being written (the reader says so), kept as it is
    lines = [p + b"\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    ranks: list[int] = []  # each line's rank, -1 for a line without a prefix (the launcher's own)
    prefixes: dict[int, bytes] = {}
    for k, line in enumerate(lines):
        match = _PREFIX.match(line)
        if match is None or not _is_rank(match):
            ranks.append(-1)
            continue
        rank = int(match.group("rank") or match.group("mpi"))
        prefixes.setdefault(rank, match.group(0))
        ranks.append(rank)
        lines[k] = line[match.end():]
    if not prefixes:
        return None
    lowest = min(prefixes)
    texts: dict[int, list[bytes]] = {rank: [] for rank in sorted(prefixes)}
    for rank, line in zip(ranks, lines, strict=True):
        texts[lowest if rank < 0 else rank].append(line)
    shown = ", ".join(prefixes[r].decode("utf-8", errors="replace") for r in sorted(prefixes)[:4])
    return RankLines({rank: b"".join(part) for rank, part in texts.items()},
                     shown + (", ..." if len(prefixes) > 4 else ""))


def _is_rank(match: re.Match) -> bool:
    role = match.group("role")
    return role is None or role.lower() not in _COUNTER_ROLES
