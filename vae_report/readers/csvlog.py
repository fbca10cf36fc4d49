"""CSV metric logs: long (``step,tag,value[,wall_time]``), wide (one column per metric, e.g. Lightning's
sparse ``metrics.csv`` with one row per log call and empty cells elsewhere), and TensorBoard's own per-tag
export (``Wall time,Step,Value``)."""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import KNOWN_METRICS, canonical_name, concat, frame_from_series
from ..numbers import counted
from .counters import STEP_NAMES, global_name, is_counter, once_per_record
from .delimiters import NAMES, comma_cells, delimiter_of
from .encoding import decoded, encoding_of, is_binary
from .epochs import continued_across_epochs, continued_note, logged_epoch_length
from .names import named_apart
from .sources import TORN_LINE

STEP_COLUMNS = STEP_NAMES
TAG_COLUMNS = ("tag", "metric", "name", "key")
WALL_COLUMNS = ("wall_time", "wall time", "walltime", "time", "timestamp", "created_at", "datetime", "date",
                "_timestamp")
# bookkeeping columns of a wide log: counters and clocks, not metrics; a constant total_steps is schedule
NOT_METRICS = {"epoch", "created_at", "datetime", "date", "total_steps", "_runtime", "_timestamp", "time", "timestamp",
               "wall_time", *STEP_NAMES}
MAX_STEP = 2**53  # beyond this a float step is no longer an integer
_NAN_WORDS = {"nan", "inf", "-inf", "+inf", "infinity", "-infinity"}


@dataclass
class CsvRead:
    frame: pd.DataFrame
    layout: str  # "long", "wide", "tensorboard-export" or "wandb-export"
    rows: int
    bad_cells: int  # non-numeric cells and unusable rows, skipped
    notes: list[str] = field(default_factory=list)  # what was done to the rows, for the sources section
    total_steps: int | None = None  # a constant total_steps column (a parsed text log): schedule, not a metric
    unit: str = "step"  # what the step column counts: step, or epoch (Keras' CSVLogger: a row per epoch)
    # a resumed run appending to the same file writes its header again: (first line, points) of each part, judged
    # as launches of one run (resume, start over) as a text log's are; empty for a file of one header
    launches: list[tuple[int, pd.DataFrame]] = field(default_factory=list)
    # steps an epoch holds and how far off that may be, where an epoch column sits beside the step
    epoch_length: tuple[int, int] | None = None


def read_csv_log(path: Path, source: str) -> CsvRead:
    """Read a CSV metric log in any of its layouts; a file without a step column is an error."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read CSV ({exc.strerror}); check the path and permissions") from exc
    return read_csv_bytes(data, path, source)


_ZEROED = re.compile("\x00{16,}")


def _without_zeroed_blocks(text: str, notes: list[str], lines_before: int) -> str:
    """The text without blocks of NUL bytes (a file zeroed where it was being written when the machine lost power
    or crashed: the rows there are gone) and the partial lines on either side of each, each block said with its
    line and about how many rows it overwrote."""
    if "\x00" not in text:
        return text
    kept, at, said = [], 0, []
    row = max(1, round(len(text) / max(text.count("\n"), 1)))  # the file's mean row length
    for block in _ZEROED.finditer(text):
        start = text.rfind("\n", 0, block.start()) + 1
        end = text.find("\n", block.end())
        end = len(text) if end == -1 else end + 1
        if start < at:
            continue
        line = text.count("\n", 0, start) + 1 + lines_before
        kept.append(text[at:start])
        at = end
        said.append(f"at line {line:,} (about {counted(max(1, round((end - start) / row)), 'row')})")
    if not said:
        return text
    kept.append(text[at:])
    notes.append(f"{counted(len(said), 'block')} of NUL bytes where rows were, {'; '.join(said)}: the file was "
                 "zeroed there, as a crash or a power loss leaves a file being written; those rows are lost")
    return "".join(kept)


def read_csv_bytes(data: bytes, path: Path, source: str, lines_before: int = 0) -> CsvRead:
    """A CSV log's bytes (a whole file, or its header line and the rows appended since a last read, which
    follow ``lines_before`` lines of the file not in ``data``: line numbers in the notes are the file's)."""
    notes: list[str] = []
    encoding = encoding_of(data[:512])[0]
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"read as {encoding.upper()} (its byte-order mark or its NUL bytes say so)")
    if is_binary(decoded(data[:4096])):
        raise InputError(f"{path}: binary data, not a CSV (its first bytes are not text); remove it or point "
                         "vae-report at the training log")
    text = _drop_torn_tail(decoded(data), notes)
    text = _without_zeroed_blocks(text, notes, lines_before)
    text, preamble = _without_preamble(text)
    if preamble:
        notes.append(f"{counted(preamble, 'comment line')} (#) above the header skipped")
        lines_before += preamble if not lines_before else 0
    if not text.strip():
        raise InputError(f"{path}: the CSV file is empty; remove it or point vae-report at the finished log")
    delimiter = delimiter_of(text)
    text, decimals = comma_cells(text, delimiter)
    if decimals:
        notes.append(decimals)
    elif delimiter != ",":
        notes.append(f"{NAMES[delimiter]}-separated")
    again = _headers_again(text, delimiter)
    if again:
        return _appended(text, again, path, source, lines_before, notes)
    text, open_quotes = _drop_open_quotes(text)
    if open_quotes:
        notes.append(f"{counted(len(open_quotes), 'line')} with a quote that never closes skipped "
                     f"({_lines(open_quotes, lines_before)}); the rows after each were read")
    text, short = _drop_misshapen_rows(text, delimiter)
    short = _renumbered(short, open_quotes)
    if short:
        notes.append(f"{counted(len(short), 'row')} whose field count does not match the header skipped "
                     f"({_lines(short, lines_before)}: an unquoted {NAMES[delimiter]} in a value, or a cut line)")
    try:
        # Let the C parser convert numbers; only columns with text in them take the slow path below.
        usecols = _columns_read(text, notes, delimiter)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            table = pd.read_csv(io.StringIO(text), sep=delimiter, keep_default_na=False, na_values=[""],
                                on_bad_lines="warn", engine="c", skipinitialspace=True, low_memory=False,
                                usecols=usecols)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc}); check the file") from exc
    extra = sum(str(w.message).count("Skipping line") for w in caught)
    if extra:  # a quoted file: the parser, not _drop_misshapen_rows, finds the rows with too many fields
        notes.append(f"{counted(extra, 'row')} with more fields than the header skipped")
    table = _first_of_each_name(table, notes)
    # An empty cell and a logged "nan" both parse as NaN; only when the file has such words is it worth telling
    # them apart by re-reading the affected columns as text.
    nan_words = any(word in text for word in ("nan", "NaN", "NAN", "inf", "Inf", "INF"))
    columns = {c.lower(): c for c in table.columns}
    epochs = table[columns["epoch"]] if "epoch" in columns else None
    names = [c for c in STEP_COLUMNS if c in columns] + [c for c in columns if c not in STEP_COLUMNS and global_name(c)]
    step_col = _step_column(table, [columns[c] for c in names if is_counter(
        c, pd.to_numeric(table[columns[c]], errors="coerce").to_numpy(dtype=np.float64), epochs)])
    if step_col is None and "created_at" in columns:
        raise InputError(
            f"{path}: no step column: test-tube's metrics.csv (latent-diffusion's and taming's default logger) "
            "records only when each row was written; test-tube writes the steps to the tf/ event files beside it, "
            "which are read instead when present"
        )
    unit = "step"
    if step_col is None and "epoch" in columns and once_per_record(
            pd.to_numeric(table[columns["epoch"]], errors="coerce").to_numpy(dtype=np.float64)):
        # Keras' CSVLogger (history.csv): one row per epoch, the epoch its only counter
        step_col, unit = columns["epoch"], "epoch"
        notes.append("counted in epochs: one row per epoch (the epoch column is the step)")
    if step_col is None and len(table.columns) == 1 and _UNSPLIT.search(str(table.columns[0]).strip()):
        raise InputError(
            f"{path}: its header was read as one cell ({_names(table.columns)}): the delimiter was not recognised "
            "(read: comma, semicolon, tab or vertical bar between the columns); save it with one of those")
    if step_col is None and _counterless_log(table):
        # a log written a row at a time with no counter (print to CSV, a hand-rolled logger): the rows' order is
        # the only clock, as for a JSON log without one; the schedule's steps are then not compared with it
        step_col, unit = _ROW, "record"
        table = table.assign(**{_ROW: np.arange(len(table))})
        notes.append("no step column: each row counted by its position (record 0 is the first row)")
    if step_col is None:
        raise InputError(
            f"{path}: no step column (looked for {', '.join(STEP_COLUMNS)}; found {_names(table.columns)}); add "
            "one or export the log with its steps (CSV layouts read: long step,tag,value; wide one column per "
            "metric as Lightning's metrics.csv; TensorBoard's or W&B's chart export; an epoch column of one row "
            "per epoch, as Keras' CSVLogger writes)"
        )
    steps, bad = _steps(table[step_col], notes)
    keep = ~np.isnan(steps)
    table, steps = table[keep], steps[keep]
    epoch_length = None
    if unit == "step" and "epoch" in columns:
        steps = _across_epochs(steps, table[columns["epoch"]], step_col, notes)
        epoch_length = logged_epoch_length(steps, pd.to_numeric(table[columns["epoch"]], errors="coerce")
                                           .to_numpy(dtype=np.float64))
    steps = steps.astype(np.int64)
    wall_col = next((columns[c] for c in WALL_COLUMNS if c in columns), None)
    # test-tube stamps created_at with datetime.utcnow(): UTC without a zone
    walls = _wall_column(table[wall_col], utc=wall_col.lower() == "created_at") if wall_col \
        else np.full(len(table), np.nan)
    tag_col = next((columns[c] for c in TAG_COLUMNS if c in columns), None)
    value_col = columns.get("value")
    if tag_col and value_col:
        values, present, bad_v = _column(table[value_col], nan_words)
        ok = present & ~bad_v
        tags = table[tag_col].astype(str).str.strip().to_numpy()[ok]
        steps, values, walls = steps[ok], values[ok], walls[ok]
        # one pass over the rows however many tags (a mask per tag would be tags x rows)
        groups = pd.Series(np.arange(len(tags))).groupby(tags, sort=False).indices
        series = named_apart([(tag, steps[rows], values[rows], walls[rows]) for tag, rows in groups.items()], notes)
        return CsvRead(frame_from_series(series, source), "long", len(table), bad + int(bad_v.sum()), notes)
    if value_col and len(table.columns) <= 3:
        values, present, bad_v = _column(table[value_col], nan_words)
        ok = present & ~bad_v
        series = [(canonical_name(_export_tag(path)), steps[ok], values[ok], walls[ok])]
        return CsvRead(frame_from_series(series, source), "tensorboard-export", len(table), bad + int(bad_v.sum()),
                       notes)
    read = _wide(table, path, source, steps, walls, {step_col, wall_col}, bad, notes, nan_words)
    read.unit, read.epoch_length = unit, epoch_length
    return read


_ROW = "\0row"  # the column of row positions added to a log without a counter (a name no header can hold)


# a comment line above a CSV's header: a run's name, its command, the columns' meaning (pandas reads such files
# with comment="#"); blank lines between them go with them
_PREAMBLE = re.compile(r"\A(?:\ufeff?[ \t]*(?:#[^\n]*)?\r?\n)*")


def _without_preamble(text: str) -> tuple[str, int]:
    """The CSV text without the comment lines (and blank ones) above its header, and how many comment lines."""
    found = _PREAMBLE.match(text)
    if not found or not found.end():
        return text, 0
    head = found.group(0)
    return text[found.end():], sum(line.lstrip("\ufeff \t").startswith("#") for line in head.splitlines())


def preamble_bytes(data: bytes) -> int:
    """How many bytes of a CSV's start are its comment preamble (``_without_preamble``): its header follows."""
    found = re.match(rb"\A(?:(?:\xef\xbb\xbf)?[ \t]*(?:#[^\n]*)?\r?\n)*", data)
    return found.end() if found else 0


def _counterless_log(table: pd.DataFrame) -> bool:
    """A log without a step column that is still a training log: two rows or more, one column or more that names
    a loss or a metric the checks know (a data table beside the run, e.g. a split's features, is none)."""
    if len(table) < 2:
        return False
    names = [str(c) for c in table.columns]
    return any(canonical_name(n) in KNOWN_METRICS or "loss" in n.lower() for n in names
               if n.lower() not in ("epoch", "created_at"))


def _step_column(table: pd.DataFrame, candidates: list[str]) -> str | None:
    """The step column: of several (``step`` beside ``global_step``), the first that never goes back, so a
    counter within the epoch is not taken where a global one is written too."""
    if len(candidates) > 1:
        for col in candidates:
            values = pd.to_numeric(table[col], errors="coerce").dropna().to_numpy(dtype=np.float64)
            if len(values) and not (np.diff(values) < 0).any():
                return col
    return candidates[0] if candidates else None


def _across_epochs(steps: np.ndarray, epochs: pd.Series, step_col: str, notes: list[str]) -> np.ndarray:
    """A step column that restarts at every epoch (``epoch,step`` with the batch in the epoch) continued across
    epochs; otherwise the epochs' rows would share a few steps and only the last epoch's would be kept."""
    # a row without an epoch (an epoch-end row written sparsely) is in the epoch of the row before it
    epoch = pd.to_numeric(epochs, errors="coerce").ffill().to_numpy(dtype=np.float64)
    found = continued_across_epochs(steps, epoch)
    if found is None:
        return steps
    out, length = found
    notes.append(continued_note(step_col, length))
    return np.where(np.isfinite(out), out, steps)


def _headers_again(text: str, delimiter: str = ",") -> list[int]:
    """0-based numbers of the lines after the first that are a header again (the same line, or text cells only
    opening with the header's first name: a resume that logs another set of columns)."""
    lines = text.split("\n")
    header = lines[0].rstrip("\r").lstrip("\ufeff")
    first = header.split(delimiter, 1)[0]
    out = []
    for i in range(1, len(lines)):
        line = lines[i].rstrip("\r")
        if not line.startswith(first) or (line != header and not _all_text(line, delimiter)):
            continue
        out.append(i)
    return out


def _all_text(line: str, delimiter: str) -> bool:
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # a lone carriage return or NUL inside the line: not a header written again
        return False
    return len(cells) > 1 and not any(_NUMBER.fullmatch(c.strip()) for c in cells if c.strip())


# a header read as one cell that holds a separator of another kind (spaces, colons...): not a column's name
_UNSPLIT = re.compile(r"[\w)\]]\s*[ :;|\t]+\s*[\w(\[]")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|(?i:[-+]?(?:nan|inf|infinity))")


def _appended(text: str, again: list[int], path: Path, source: str, lines_before: int,
              notes: list[str]) -> CsvRead:
    """A file holding its header more than once: each part from a header on is read as a file of its own and
    handed on as a launch of one run (a resumed run that appended to the file it had written)."""
    lines = text.split("\n")
    bounds = [0, *again, len(lines)]
    reads = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        part = "\n".join(lines[start:end]).strip("\n")
        if part.count("\n") < 1:
            continue  # a header with no row under it: a launch that logged nothing
        reads.append((start + 1, read_csv_bytes((part + "\n").encode("utf-8"), path, source,
                                                lines_before + start)))
    shown = ", ".join(f"{lines_before + n + 1:,}" for n in again[:5]) + (" ..." if len(again) > 5 else "")
    notes.append(f"its header is written again at line{'s' if len(again) > 1 else ''} {shown}: a resumed run "
                 f"appending to the file it had written; "
                 + ("each part read as a launch of one run" if len(reads) > 1 else "the header read as such"))
    if not reads:
        raise InputError(f"{path}: the CSV holds headers and no row; point vae-report at the finished log")
    first = reads[0][1]
    for _, read in reads:
        notes.extend(n for n in read.notes if n not in notes)
    frame = concat([read.frame for _, read in reads]) if len(reads) > 1 else first.frame
    return CsvRead(frame, first.layout, sum(r.rows for _, r in reads), sum(r.bad_cells for _, r in reads), notes,
                   first.total_steps, first.unit,
                   [(lines_before + line, read.frame) for line, read in reads] if len(reads) > 1 else [],
                   first.epoch_length)


def _wide(table, path, source, steps, walls, skip, bad, notes, nan_words) -> CsvRead:
    wandb = _wandb_export(table.columns)
    total_steps = _constant_total(table)
    series, nameless = [], []
    for col in table.columns:
        if col.startswith("Unnamed:") and not _row_index(table[col]):
            nameless.append(str(table.columns.get_loc(col) + 1))
        if col in skip or col.lower() in NOT_METRICS or col.startswith("Unnamed:"):
            continue
        name = col
        if wandb is not None:
            if col.endswith(("__MIN", "__MAX")) or not col.startswith(wandb + " - "):
                continue
            name = col[len(wandb) + 3:]
        values, present, bad_v = _column(table[col], nan_words)
        bad += int(bad_v.sum())
        ok = present & ~bad_v
        if ok.any():
            series.append((name, steps[ok], values[ok], walls[ok]))
    series = named_apart(series, notes)
    if nameless:  # a blank header cell: its values have no metric to be read as
        notes.append(f"{counted(len(nameless), 'column')} without a name in the header not read (column "
                     f"{', '.join(nameless)}): name {'it' if len(nameless) == 1 else 'them'} to have "
                     f"{'it' if len(nameless) == 1 else 'them'} read")
    layout = "wide"
    if wandb is not None:
        layout = "wandb-export"
        others = sorted({c.split(" - ", 1)[0] for c in table.columns if " - " in c} - {wandb})
        notes.append(f"W&B chart export of run {wandb!r}" + (
            f"; other runs in it not read ({', '.join(others)}): export one run per file" if others else ""))
    if total_steps is not None:
        notes.append(f"total_steps column (constant {total_steps:,}) taken as the schedule's total, not a metric")
    return CsvRead(frame_from_series(series, source), layout, len(table), bad, notes, total_steps)


def _row_index(cells: pd.Series) -> bool:
    """A pandas index written by to_csv(index=True) under a blank header: 0, 1, 2, ... (no metric)."""
    values = pd.to_numeric(cells, errors="coerce").to_numpy()
    return len(values) > 0 and bool(np.array_equal(values, np.arange(len(values))))


def _names(columns) -> str:
    # a column name is quoted as far as it is printable, and short (a damaged file's header can be anything)
    names = ["".join(ch if ch.isprintable() else "?" for ch in str(c))[:40] for c in columns][:8]
    return ", ".join(names) + (" ..." if len(columns) > 8 else "")


def _drop_torn_tail(data: str, notes: list[str]) -> str:
    """A file still being written ends mid-line: ``600,4`` of ``600,400.5`` would read as data."""
    if not data or data.endswith("\n"):
        return data
    cut = data.rfind("\n")
    if cut < 0:
        return data  # a one-line file without a newline: its header, or nothing to lose
    notes.append(TORN_LINE)
    return data[: cut + 1]


MAX_COLUMNS = 2_000  # a training log has tens of metrics, hundreds at most; each costs time in every rule


def _columns_read(text: str, notes: list[str], delimiter: str) -> list[int] | None:
    """The columns worth reading of a very wide file (None: all): the step, time, tag and value columns and the
    metrics the checks know, then the others in file order, MAX_COLUMNS in all; the note says how many were left."""
    first = text[: text.find("\n") + 1 if "\n" in text else len(text)]
    if first.count(delimiter) < MAX_COLUMNS:
        return None
    try:
        header = [c.strip() for c in next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter), [])]
    except csv.Error:
        return None  # a header the csv module cannot split: read whole, the parser says what is wrong
    wanted = set(STEP_COLUMNS) | set(WALL_COLUMNS) | set(TAG_COLUMNS) | {"value"}
    known = [i for i, c in enumerate(header) if c.lower() in wanted or canonical_name(c) in KNOWN_METRICS]
    taken = set(known)
    rest = [i for i in range(len(header)) if i not in taken]
    chosen = sorted(known[:MAX_COLUMNS] + rest[: max(0, MAX_COLUMNS - len(known))])
    notes.append(f"{len(header):,} columns: {len(chosen):,} read (the checks' own metrics first), "
                 f"{len(header) - len(chosen):,} left out")
    return chosen


def _first_of_each_name(table: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Columns by their names as written (pandas renames a repeated ``loss`` to ``loss.1``): of a name given
    twice only the first column is read, and the note names it."""
    header = [str(c).strip() for c in table.columns]
    seen: set[str] = set()
    keep, twice = [], []
    for i, name in enumerate(header):
        base = _MANGLED.sub("", name)
        if base != name and base in seen:
            twice.append(base)
            continue
        seen.add(name)
        keep.append(i)
    if twice:
        twice = sorted(set(twice))
        notes.append(f"{'column name' if len(twice) == 1 else 'column names'} given more than once, only the first "
                     f"of each read: {', '.join(twice[:5])}"
                     + (f" and {len(twice) - 5} more" if len(twice) > 5 else ""))
        table = table.iloc[:, keep]
    table.columns = [header[i] for i in keep]
    return table


_MANGLED = re.compile(r"\.\d+$")


def _per_line(text: str, byte: int) -> tuple[np.ndarray, np.ndarray]:
    """(count of ``byte`` per complete line, each line's length with its end) of a text."""
    buf = np.frombuffer(text.encode("utf-8", errors="replace"), dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    hits = np.flatnonzero(buf == byte)
    return np.diff(np.searchsorted(hits, np.concatenate(([0], ends + 1)))), np.diff(np.concatenate(([-1], ends)))


def _without_lines(text: str, bad: np.ndarray) -> tuple[str, list[int]]:
    """The text without the flagged lines, and their 1-based numbers."""
    lines = text.split("\n")
    kept = [line for line, drop in zip(lines, np.append(bad, False), strict=False) if not drop]
    return "\n".join(kept), [int(i) + 1 for i in np.flatnonzero(bad)]


def _lines(numbers: list[int], lines_before: int) -> str:
    shown = [f"{n + (lines_before if n > 1 else 0):,}" for n in numbers[:5]]
    return ("line " if len(numbers) == 1 else "lines ") + ", ".join(shown) + (" ..." if len(numbers) > 5 else "")


def _renumbered(numbers: list[int], dropped: list[int]) -> list[int]:
    """Line numbers of a text that lost the ``dropped`` lines, as numbers of the text before."""
    out = []
    for n in numbers:
        for gone in dropped:  # both ascending
            n += gone <= n
        out.append(n)
    return out


def _drop_open_quotes(text: str) -> tuple[str, list[int]]:
    """Lines with an odd number of quotes, dropped: a metric log's cells never span lines, and one quote that
    never closes would otherwise swallow every row after it into one cell (or the whole file into an error)."""
    if '"' not in text:
        return text, []
    quotes, _ = _per_line(text, 34)
    bad = (quotes % 2) == 1
    return _without_lines(text, bad) if bad.any() else (text, [])


def _drop_misshapen_rows(text: str, delimiter: str = ",") -> tuple[str, list[int]]:
    """Rows with another field count than the header, dropped, with their line numbers; in a quoted file, the
    short ones (the parser skips the long ones). A short row is a line cut (a crash mid-write, a copy cut short):
    its last cell may be a number's first digits."""
    quoted = '"' in text
    if quoted:  # quoted cells may hold the delimiter: the csv module counts the fields (no cell spans lines)
        per_line = np.array([len(row) for row in csv.reader(text.split("\n")[:-1], delimiter=delimiter)])
        lengths = _per_line(text, ord(delimiter))[1]
    else:
        per_line, lengths = _per_line(text, ord(delimiter))
    if not len(per_line):
        return text, []
    blank = lengths <= 2  # "\n" or "\r\n"
    bad = ((per_line < per_line[0]) if quoted else (per_line != per_line[0])) & ~blank
    return _without_lines(text, bad) if bad.any() else (text, [])


def _steps(cells: pd.Series, notes: list[str]) -> tuple[np.ndarray, int]:
    """Step per row (NaN: the row is refused). A row without a step (TestTube's and Lightning's validation and
    epoch-end rows) takes the training step in effect, the last one before it in the file."""
    values, present, not_number = _column(cells)
    absurd = present & ~not_number & (~np.isfinite(values) | (values < 0) | (values > MAX_STEP)
                                      | (values != np.round(values)))
    refused = int((absurd | not_number).sum())
    values = np.where(absurd | not_number, np.nan, values)
    if refused:
        notes.append(f"{counted(refused, 'row')} with an impossible step (negative, not a whole number, beyond 2^53 or "
                     "not a number) refused")
    missing = ~present
    if missing.any() and present.any():
        filled = pd.Series(np.where(missing, np.nan, values)).ffill().to_numpy()
        gained = int((missing & ~np.isnan(filled)).sum())
        values = np.where(missing, filled, values)
        if gained:
            notes.append(f"{counted(gained, 'row')} without a step (validation or epoch-end metrics) given the "
                         "training "
                         "step in effect, the last one before them")
    return values, refused


def _wall_column(cells: pd.Series, utc: bool = False) -> np.ndarray:
    """Wall times in epoch seconds, from numbers or date-time text (a time without a zone is local time, or UTC
    where the writer is known to write UTC)."""
    if pd.api.types.is_numeric_dtype(cells.dtype):
        return cells.to_numpy(dtype=np.float64)
    text = cells.astype(object).where(cells.notna(), None)
    stamps = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if stamps.dt.tz is None:
        import datetime as dt

        zone = dt.timezone.utc if utc else dt.datetime.now().astimezone().tzinfo
        stamps = stamps.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    # the stamps' unit varies with pandas' version (ns, us): subtract the epoch instead of reading the integers
    seconds = (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=np.float64)
    return np.where(stamps.isna().to_numpy(), np.nan, seconds)


def _constant_total(table: pd.DataFrame) -> int | None:
    col = next((c for c in table.columns if c.lower() == "total_steps"), None)
    if col is None:
        return None
    values = pd.to_numeric(table[col], errors="coerce").dropna().unique()
    return int(values[0]) if len(values) == 1 and values[0] > 0 and values[0] == int(values[0]) else None


def _wandb_export(columns) -> str | None:
    """The run name of a W&B chart export (``Step``, ``<run> - <metric>``, ``... __MIN``, ``... __MAX``)."""
    if not any(c.endswith(("__MIN", "__MAX")) for c in columns):
        return None
    runs = [c.split(" - ", 1)[0] for c in columns if " - " in c and not c.endswith(("__MIN", "__MAX"))]
    return runs[0] if runs else None


def _column(cells: pd.Series, nan_words: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, present, not-a-number) of one column: present cells are non-empty; ``nan``/``inf`` are numbers."""
    if pd.api.types.is_numeric_dtype(cells.dtype) and not pd.api.types.is_bool_dtype(cells.dtype):
        values = cells.to_numpy(dtype=np.float64)
        if not nan_words or not np.isnan(values).any():
            return values, ~np.isnan(values), np.zeros(len(values), dtype=bool)
        text = cells.astype(object).where(cells.notna(), "")  # NaN cells: empty unless the text said nan
        return _parse_text(text)
    return _parse_text(cells.astype(object).where(cells.notna(), ""))


def _parse_text(cells: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    text = cells.astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    present = (text != "").to_numpy()
    bad = np.isnan(values) & present & ~text.str.lower().isin(_NAN_WORDS).to_numpy()
    return values, present, bad


def _export_tag(path: Path) -> str:
    # TensorBoard names its download "run-<run>-tag-<tag with / as _>.csv"
    stem = path.stem
    return stem.split("-tag-", 1)[1] if "-tag-" in stem else stem
