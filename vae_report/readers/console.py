"""Console logs of any trainer: lines that carry a counter and ``key: value`` or ``key=value`` pairs.

Found by looking at the lines, no format flag needed: ``step 1600, total_loss: 2.73, disc_loss: 0.41`` (a JAX
VQGAN), ``Epoch [3/100] Step 200: loss=0.12 kl=3.4``, ``it 300 | rec 0.05``-style ``key=value`` lines, tqdm bars
with a postfix (``100/5000 [00:10<08:00, 9.6it/s, loss=0.123, kl=4.5]``, redrawn with ``\\r``). RadioDiff's
``[Train Step]`` log is one case of it, read by its own faster reader (textlog.py). A format it cannot guess is
read with a user regex (``--text-pattern``) whose named group ``step`` is the step; other named groups are
metrics, and ``key: value`` pairs after the match are read too.

Coarser logs are read too, each said in the report: an epoch counter alone (``Epoch [3/100], Total Loss: 0.51``,
``epoch 3 | loss 0.5``: the step unit is the epoch), per-epoch tqdm bars (one point per bar, its last redraw;
validation bars as ``val/...``), and lines with losses but no counter at all (``{'loss': 0.5, 'kl': 2.1}`` each
iteration: the step is the line's order). A record spread over several lines is one point (records.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frame import COUNTERS, canonical_name, concat, frame_from_series
from ..numbers import counted
from . import records
from .crash import crash_in
from .decimals import comma_numbers, grouped_numbers
from .encoding import decoded, encoding_of, is_binary
from .escapes import SOURCE_SUFFIXES, without_callers, without_escapes
from .pattern import UserPattern
from .records import VALIDATION, Record
from .sources import TORN_LINE
from .textlog import MARKER

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"
# a name, with a call's parentheses where a GAN log names the discriminator's outputs: ``D(x)``, ``D(G(z))``
# (at most 100 characters: no metric is named longer, and a key that may run on costs each start of a long word
# the rest of the word, quadratic in a minified JSON or hex line)
_KEY = r"[A-Za-z_][\w./-]{0,99}(?:\((?:[^()\s]|\([^()\s]*\))+\))?"
# a metric and its value: ``key: v``, ``key=v``, ``key = v``, a key of a few words (``gen loss=v``), a dict's
# ``'key': v``, a bracketed ``[Key] v`` (loguru-style trainers); the value is a whole number, not a date or a path
PAIR = re.compile(rf"(?:(?P<quote>['\"])(?P<qkey>{_KEY})(?P=quote)\s*:\s*|\[(?P<bkey>{_KEY})\]\s*"
                  rf"|(?<![A-Za-z_])(?P<key>{_KEY}(?: [A-Za-z_][\w-]{{0,99}}){{0,2}})\s*[:=]\s*)"
                  rf"(?P<value>{_NUMBER})(?![\w:/]|%\|)",
                  re.IGNORECASE)
# ``loss 0.5 kl 2.1``: a key and its value with only a space between, read where a line has no other pair and
# only for the names of losses and their kin (a free-text line's "package 4" or "devices 8" is not a metric)
_SPACED = re.compile(rf"(?<![\w./-])(?P<skey>{_KEY})\s+(?P<value>{_NUMBER})(?![\w:/.])", re.IGNORECASE)
# ``total 2674.1 | nll 2403.2 | d_weight 1346.7``: a line cut by ``|``, ``;`` or tabs into fields that are each one name
# and one number is a table of metrics, whatever the names (a free-text line has fields of other shapes)
_FIELD = re.compile(rf"\s*(?P<skey>{_KEY})\s+(?P<value>{_NUMBER})\s*", re.IGNORECASE)
_FIELDS = re.compile(r"[|;\t]")
_METRIC_WORDS = re.compile(r"loss|kl|kld|rec|mse|bce|nll|elbo|disc|gen|lr|vq|commit|perplex|psnr|ssim|lpips",
                           re.IGNORECASE)
# A logging record's head, up to the message: ``... | INFO | module:function:line - `` (loguru), ``INFO:root:``,
# ``(INFO) (train.py) (date) #``; what precedes the message is not metrics (a line number is not a value).
_RECORD_HEAD = re.compile(r"^.*?\b(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\b[\s|:\])-]*"
                          r"(?:[\w.<>-]+:[\w<>-]+:\d+\s*-\s*)?")
# after an epoch's n/N: what n counts, when it is samples (``(2%)``: pytorch/examples prints samples seen)
_SAMPLES = r"(?P<samples>\s*\(\d+(?:\.\d+)?%\)|\s+(?:samples?|images?|imgs|examples?|particles|sequences)\b)?"
# step counters, most specific first (a tie goes to the first: a global step beats a per-epoch iteration)
STEPS = {
    # the optimizer's step beside a micro-batch counter (``it 119960 | opt_step 29990``, fairseq's num_updates):
    # the unit a schedule counts (gradient accumulation runs several micro-batches per step), so it comes first
    "opt_step": re.compile(r"\b(?:(?:opt(?:imi[sz]er)?|optim)[_ ]?steps?|(?:num_)?updates?)\b"
                           r"\]?\s*[:=#]?\s*\[?\s*(?P<step>\d{1,3}(?:,\d{3})+|\d+)(?:\s*/\s*(?P<total>\d+))?",
                           re.IGNORECASE),
    "tqdm": re.compile(r"(?<!\d)(?P<step>\d+)/(?P<total>\d+) \[[^\]\n]*?(?:it/s|s/it)"),
    # (and the word in other languages a localized loop prints: Schritt, étape, paso, passo, krok, шаг)
    "step": re.compile(r"\b(?:global[_ ]?)?(?:step|schritt|[ée]tape|paso|passo|krok|шаг)\b"
                       r"\]?\s*[:=#]?\s*\[?\s*(?P<step>\d{1,3}(?:,\d{3})+|\d+)"
                       r"(?:\s*/\s*(?P<total>\d+))?", re.IGNORECASE),
    # "[Epoch 3/50] [Batch 120/1250]" (PyTorch-GAN's print), "[Train Epoch: 18/50] [2804000/2830676 particles]":
    # a counter that starts over each epoch, beside the epoch: continued across epochs by its total
    # mmengine's "Epoch(train) [1][ 100/1563]"; pytorch/examples' "Train Epoch: 3 [1280/60000 (2%)]", whose n
    # counts samples (``batch_idx * len(data)``), as "[... images]" or "[... samples]" say
    "epoch_batch": re.compile(r"\bepoch\b(?:\((?:train|training)\))?\W*(?P<epoch>\d+)(?:\s*/\s*(?P<epochs>\d+))?\W+"
                              r"(?:[A-Za-z]+\W*)?(?P<step>\d+)\s*/\s*(?P<total>\d+)" + _SAMPLES, re.IGNORECASE),
    # DCGAN's print: "[3/25][100/782] Loss_D: ..." (epoch of epochs, then batch of batches)
    "epoch_batch_brackets": re.compile(r"^\W*\[(?P<epoch>\d+)/(?P<epochs>\d+)\]\s*\[(?P<step>\d+)/(?P<total>\d+)\]"),
    # mmengine's "Iter(train) [  50/200000]" too
    "iter": re.compile(r"\b(?:iter(?:ation)?|it)\b(?:\((?:train|training)\))?\]?\s*[:=#]?\s*\[?\s*"
                       r"(?P<step>\d{1,3}(?:,\d{3})+|\d+)(?:\s*/\s*(?P<total>\d+))?", re.IGNORECASE),
    # Keras: ``n/N [=====>....] - ETA: 0s - loss: ...``, drawn again every epoch after an ``Epoch e/E`` line
    "keras": re.compile(r"(?<!\d)(?P<step>\d+)/(?P<total>\d+) \[[=>.]*\]"),
    # ``1920/191900 (epoch 1) loss: 8.2``: a bare n/total opening the line (not a bar: no ``[`` after it)
    "fraction": re.compile(r"^\s*(?P<step>\d+)\s*/\s*(?P<total>\d+)\b(?!\s*\[)"),
    # coarser: an epoch counter alone (``Epoch [3/100]``, ``epoch 3 |``, ``====> Epoch: 3``), chosen only where
    # none of the finer counters above is found
    "epoch": re.compile(r"\bepoch\b\s*[:=#]?\s*\[?\s*(?P<step>\d+)(?:\s*/\s*(?P<total>\d+))?", re.IGNORECASE),
}
FINE = ("opt_step", "tqdm", "step", "epoch_batch", "epoch_batch_brackets", "iter", "keras", "fraction")
NOT_METRICS = {c.lower() for c in COUNTERS} | {"iter", "iteration", "it", "batch", "eta", "time", "data_time",
                                               "opt_step", "optimizer_step", "optim_step", "num_updates",
                                               "micro_step", "micro_batch",
                                               "v_num", "best", "memory", "max_mem", "eta_seconds"}
# ("[best] 0" in loguru trainers: an eval marker; best_val=0.07: a running best, not a measurement)
# how each step counter is named in the sources list
COUNTER_NAMES = {"opt_step": "the optimizer step (opt_step, optimizer_step, num_updates N)",
                 "tqdm": "a tqdm bar's n/total", "step": "step N", "iter": "iter N",
                 "epoch_batch": "epoch and batch-in-epoch, continued across epochs",
                 "epoch_batch_brackets": "[epoch/epochs][batch/batches], continued across epochs",
                 "epoch_samples": "epoch and samples-in-epoch: samples seen, continued across epochs",
                 "epoch_global": "epoch beside a global iteration count (the step)",
                 "keras": "Keras bars, continued across epochs", "fraction": "n/total opening the line",
                 "pattern": "--text-pattern",
                 "epoch": "the epoch alone", "epoch bars": "one progress bar per epoch",
                 "line": "none: the lines' order"}
SAMPLE = 1 << 16  # bytes per sampled chunk when sniffing a file
# characters of a line looked at, when sniffing and when reading: a step counter and its metrics open a line;
# a minified JSON, base64 or a console dump on one line is no metric line, and is not scanned to its end
LINE_PREFIX = 4096
TEXT_SUFFIXES = (".log", ".out", ".txt")


@dataclass
class ConsoleRead:
    frame: pd.DataFrame  # every launch's points (later launches replace nothing here: see ``launches``)
    total_steps: int | None
    lines: int  # lines with a step and at least one value
    kind: str  # which step counter was recognised
    unit: str = "step"  # what one step of the frame counts: step | epoch | line
    notes: list[str] = field(default_factory=list)
    # the frame of each launch when the counter went back in the file (several launches appended to one log):
    # (first line number, frame); empty for a single launch
    launches: list[tuple[int, pd.DataFrame]] = field(default_factory=list)
    # how the total was read, where not from an n/total on the lines: "its epoch counter (Epoch 30/30) x the
    # 547 steps of each epoch's bar"
    total_from: str = ""


def _samples(path: Path) -> list[str]:
    """The file's head and chunks spread through it (a long preamble, a nohup.out of MBs, must not hide it)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(512)
        handle.seek(0)
        if size <= 8 * SAMPLE or encoding_of(head)[0] not in ("utf-8", "utf-8-sig"):
            # UTF-16/32: a chunk at any byte offset may split a character; such logs (Windows consoles) are small
            text = without_callers(without_escapes(decoded(handle.read())).replace("\r", "\n"))
            return [text] if size <= 8 * SAMPLE else [text[i:i + SAMPLE] for i in range(0, len(text), SAMPLE)]
        out = []
        for offset in np.linspace(0, size - SAMPLE, 8).astype(int):
            handle.seek(int(offset))
            chunk = without_escapes(handle.read(SAMPLE).decode("utf-8", errors="replace")).replace("\r", "\n")
            out.append(without_callers(chunk))
        return out


def _kind(lines: list[str], pattern: UserPattern | None = None) -> str | None:
    """The step counter most lines with values use (at least 3 such lines), or None."""
    if pattern is not None:  # the user's regex: its matches are the step lines
        return "pattern" if sum(1 for line in lines if pattern.search(line)) >= 1 else None
    counts = _step_line_counts(lines)
    name, count = max(((k, v) for k, v in counts.items() if k in FINE), key=lambda kv: kv[1])
    if name in ("step", "iter") and counts["epoch_batch"] >= count and _starts_over(lines, STEPS[name]):
        # "Epoch [2/15], Step [100/600]": a step that starts over each epoch is a count within the epoch
        return "epoch_batch"
    if count >= MIN_STEP_LINES:
        return name
    if counts["epoch"] >= MIN_STEP_LINES:
        return "epoch"
    return "line" if _counterless_lines(lines) >= MIN_STEP_LINES else None


def _starts_over(lines: list[str], regex: re.Pattern) -> bool:
    """The counter goes back somewhere in the lines (a count within an epoch, or a relaunch)."""
    found = [regex.search(_message(line)) for line in lines]
    steps = [int(m.group("step").replace(",", "")) for m in found if m]
    return any(b < a for a, b in zip(steps, steps[1:], strict=False))


def _step_line_counts(lines: list[str]) -> dict[str, int]:
    """Per step counter, the lines it finds with at least one value beside it, or on the lines right under it
    (a record spread over several lines: ``Epoch 21/2000`` then ``  kl: 2.1``)."""
    messages = [_message(line) for line in lines]
    out = {}
    for name, regex in STEPS.items():
        found = [regex.search(line) for line in messages]
        out[name] = sum(1 for i, m in enumerate(found) if m and (
            _has_pair(messages[i], m) or (i + 1 < len(messages) and not found[i + 1]
                                          and bool(metric_pairs(messages[i + 1])))))
    return out


def _counterless_lines(lines: list[str]) -> int:
    """Lines with a loss among their values and no counter (a dict printed each iteration, timestamped losses):
    the most lines any one such key is on. A log repeats its keys; a hyperparameter dump (``lr: 0.001``,
    ``kl_weight: 1e-6``, one a line) names each once and is no log."""
    seen: dict[str, int] = {}
    for line in map(_message, lines):
        for key in {k.lower() for k, _ in metric_pairs(line) if _METRIC_WORDS.search(k)}:
            seen[key] = seen.get(key, 0) + 1
    return max(seen.values(), default=0)


def metric_pairs(text: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of a line that are metrics (not counters or clocks); ``loss 0.5 kl 2.1`` where
    the line has no ``key: value`` pair."""
    found = [(_key(m), m.group("value")) for m in PAIR.finditer(text) if not _COUNT_WORDS.search(m.group(0))]
    if not found:
        fields = [f for f in _FIELDS.split(text) if f.strip()]
        table = [m for f in fields if (m := _FIELD.fullmatch(f))]
        # every field one name and one number, but for a head before them (the counter ``Schritt 0/150.000``,
        # ``Epoch [3/100]``, a timestamp): a table of fields whatever their names
        headed = len(fields) > 2 and not _FIELD.fullmatch(fields[0]) and len(table) == len(fields) - 1
        if len(table) >= 2 and (len(table) == len(fields) or headed):
            found = [(m.group("skey"), m.group("value")) for m in table]
        else:
            found = [(m.group("skey"), m.group("value")) for m in _SPACED.finditer(text)
                     if _METRIC_WORDS.search(m.group("skey"))]
    return [(k, v) for k, v in found if k.lower() not in NOT_METRICS and not k.lower().startswith("best_")
            and not _CLOCK.search(k) and not _SOURCE_FILE.search(k)]


# a logging record's caller, ``train.py:212`` (rich's path column, ``%(filename)s:%(lineno)d``): a place in the
# code, not a metric
_SOURCE_FILE = re.compile(rf"\.(?:{SOURCE_SUFFIXES})$", re.IGNORECASE)
# a clock beside the metrics (detectron2's last_time, data_time; iter_time, batch_time): not a training metric
_CLOCK = re.compile(r"(?:^|_)time$", re.IGNORECASE)
# words ending in a counter before the value: "time elapse for current epoch: 3.2", "number of steps: 100"
_COUNT_WORDS = re.compile(r"^\w+(?: \w+)* (?:epochs?|steps?|iters?|iterations?|batch(?:es)?)\s*[:=]", re.IGNORECASE)


MIN_STEP_LINES = 3  # fewer is a quoted excerpt, not a log to judge


def step_lines_found(path: Path) -> int:
    """How many lines of a text file look like step lines (a step counter and a value), for the message
    that says why a short excerpt was not read."""
    try:
        lines = [line[:LINE_PREFIX] for chunk in _samples(path) for line in chunk.split("\n")]
    except OSError:
        return 0
    return max(max(_step_line_counts(lines).values()), _counterless_lines(lines))


def long_lines_note(count: int) -> list[str]:
    """What the sources say of the lines cut to LINE_PREFIX characters (none: nothing)."""
    if not count:
        return []
    return [f"{counted(count, 'line')} longer than {LINE_PREFIX:,} characters read only to there, the value the "
            "cut fell in not read (cut) (a step counter and its values open a line; a minified JSON or base64 "
            "line is not one)"]


# what ends a value on a log line: a value touching the cut at LINE_PREFIX may go on past it
_CUT_TOKEN = re.compile(r"[^\s,;|]+$")


def cut_line(line: str) -> str:
    """A line to its first LINE_PREFIX characters, without the token the cut falls in: ``0.0`` of
    ``0.0123456`` or 4,083 of a number's digits would be read as a value it never was."""
    if len(line) <= LINE_PREFIX:
        return line
    head = line[:LINE_PREFIX]
    return head if line[LINE_PREFIX] in " \t,;|" else _CUT_TOKEN.sub("", head)


def has_long_lines(path: Path) -> bool:
    """A line over LINE_PREFIX characters in the sampled chunks of a text file, for the note on a file not read."""
    try:
        return any(len(line) > LINE_PREFIX for chunk in _samples(path) for line in chunk.split("\n"))
    except OSError:
        return False


def _message(line: str) -> str:
    """A line without its logging record's head (time, level, source location)."""
    head = _RECORD_HEAD.match(line)
    return line[head.end():] if head else line


def _outside(line: str, found: re.Match) -> str:
    """A step line without its step counter: the metrics may stand before it or after it."""
    return f"{line[:found.start()]} | {line[found.end():]}"


def _has_pair(line: str, found: re.Match) -> bool:
    return bool(metric_pairs(_outside(line, found)))


def _key(match: re.Match) -> str:
    key = match.group("key") or match.group("qkey") or match.group("bkey")
    return "_".join(key.split())


def _holds(path: Path, marker: bytes, chunk: int = 1 << 20) -> bool:
    """Whether the file holds ``marker``, read a megabyte at a time, the chunks' seams checked too (not mapped: a
    log truncated by its writer while mapped kills the reader with SIGBUS; no copy of a chunk is made)."""
    keep = len(marker) - 1
    with path.open("rb") as handle:
        tail = b""
        while block := handle.read(chunk):
            if marker in block or marker in tail + block[:keep]:
                return True
            tail = (tail + block)[-keep:] if len(block) < keep else block[-keep:]
    return False


def sniff_text_log(path: Path, pattern: str | None = None) -> str | None:
    """"radiodiff", "console" or None: is this text file a metric log? Looks through the whole file for
    RadioDiff's marker and at chunks spread through it for step lines."""
    try:
        if path.stat().st_size == 0:
            return None
        if pattern is None and _holds(path, MARKER):
            return "radiodiff"
        samples = _samples(path)
    except (OSError, ValueError):
        return None
    if pattern is None and any(MARKER.decode() in chunk for chunk in samples):
        return "radiodiff"  # its marker coloured in parts (rich styles the brackets): found once they are gone
    lines = [line[:LINE_PREFIX] for chunk in samples for line in chunk.split("\n")]
    return "console" if _kind(lines, UserPattern(pattern) if pattern else None) else None


def first_lines(path: Path, count: int = 3) -> str:
    """What a file starts with, for an error message."""
    try:
        with path.open("rb") as handle:
            raw = decoded(handle.read(4096)).lstrip("\ufeff")
    except OSError:
        return "(unreadable)"
    if not raw:
        return "(an empty file, 0 bytes)"
    if is_binary(raw):
        return "(binary data, not text)"
    head = without_escapes(raw).replace("\r", "\n")
    lines = [_shortened(" ".join(line.split())) for line in head.split("\n") if line.strip()][:count]
    return " | ".join(lines) or "(no text)"


def crash_note(path: Path) -> str | None:
    """Why a text log with no step lines (or fewer than a run needs) is not read, where it holds a Python
    traceback: the run crashed, quoting the exception (no --text-pattern reads steps a run never logged)."""
    crash = crash_in(path)
    if crash is None:
        return None
    try:  # lines with a step counter (a config's repr logged at launch, counted by no counter, is not a step)
        lines = [line[:LINE_PREFIX] for chunk in _samples(path) for line in chunk.split("\n")]
    except OSError:
        return None
    few = max(_step_line_counts(lines).values())
    if few >= MIN_STEP_LINES:
        return None
    if not few:
        return f"holds no step line but a Python traceback: the run crashed before its first logged step ({crash})"
    return (f"has only {counted(few, 'step line')} (a counter and values) and a Python traceback: the run crashed "
            f"after them ({crash}), too early to judge (at least {MIN_STEP_LINES} step lines are needed)")


def _shortened(line: str, size: int = 200) -> str:
    """A long line as its start and its end, enough of it for a --text-pattern to be written from the message."""
    return line if len(line) <= size else f"{line[:150]} ... {line[-(size - 155):]}"


def read_console_log(path: Path, source: str, pattern: str | None = None) -> ConsoleRead:
    """Every record's values; an InputError naming the file and its first lines when no records are found."""
    try:
        text = without_callers(without_escapes(decoded(path.read_bytes())).lstrip("\ufeff"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the log ({exc.strerror}); check the path and permissions") from exc
    torn = bool(text) and not text.endswith(("\n", "\r"))
    if torn:  # a torn last line of a log being written
        text = text[: max(text.rfind("\n"), text.rfind("\r")) + 1]
    text, grouped = grouped_numbers(text)
    text, commas = comma_numbers(text)
    commas = "; ".join(n for n in (grouped, commas) if n) or None
    raw = text.replace("\r", "\n").split("\n")
    cut = sum(len(line) > LINE_PREFIX for line in raw)
    lines = pd.Series([cut_line(line) for line in raw] if cut else raw)
    user = UserPattern(pattern) if pattern else None
    kind = _kind(lines.tolist()[:20000] if len(lines) > 20000 else lines.tolist(), user) or \
        _kind(lines.iloc[:: max(1, len(lines) // 20000)].tolist(), user)
    if kind is None:
        few = 0 if user else step_lines_found(path)
        crashed = crash_note(path)
        if crashed:
            raise InputError(f"{path}: {crashed}")
        if 0 < few < MIN_STEP_LINES:
            raise InputError(f"{path}: has only {counted(few, 'step line')} (a counter and values): at least "
                             f"{MIN_STEP_LINES} are needed to judge a run (an excerpt?); first lines: "
                             f"{first_lines(path)}")
        raise InputError(f"{path}: format not recognised: first lines look like: {first_lines(path)}; expected "
                         "lines with a step counter and key: value pairs, or pass --text-pattern REGEX with a "
                         "(?P<step>...) group")
    if kind == "pattern":
        read = _read_pattern(lines, user, source)
        read.notes.extend(long_lines_note(cut) + ([TORN_LINE] if torn else []))
        return read
    messages = pd.Series([_message(line) for line in lines], dtype=object)
    if kind == "line":
        found = pd.DataFrame({"step": pd.Series(np.nan, index=lines.index)})
    else:
        found = messages.str.extract(STEPS[kind])
    numbers = pd.to_numeric(found["step"].astype("string").str.replace(",", "", regex=False), errors="coerce")
    has_step = (numbers.notna() & (numbers >= 0)).to_numpy()
    steps = numbers[has_step].to_numpy(dtype=np.int64)
    totals = pd.to_numeric(found.loc[has_step, "total"], errors="coerce").to_numpy() if "total" in found else None
    unit, notes = ("epoch" if kind == "epoch" else "line" if kind == "line" else "step"), [commas] if commas else []
    notes.extend(long_lines_note(cut) + ([TORN_LINE] if torn else []))
    regex = STEPS.get(kind)
    tails = [_outside(m_, f) for m_, f in zip(messages[has_step], map(regex.search, messages[has_step]),
                                              strict=True)] if regex is not None else []
    steps, total, unit, kind = _counted(path, kind, found.loc[has_step], lines[has_step], tails, steps, totals,
                                        unit, notes)
    if total is None and kind == "keras":
        found_epochs = lines.str.extract(_KERAS_EPOCH).dropna()
        if len(found_epochs):
            total = _epochs_total(pd.to_numeric(found_epochs["epoch"]).to_numpy(dtype=np.int64),
                                  pd.to_numeric(found_epochs["epochs"]).to_numpy(dtype=np.int64), totals, steps,
                                  notes)
    if kind == "opt_step":
        notes.extend(micro_counter_note(tails, steps))
    with_step = np.flatnonzero(has_step)
    recs = _records(messages, with_step, steps, tails, kind, unit == "epoch" and kind == "tqdm")
    recs = _without_redraws(recs, notes)
    if kind == "line":
        notes.append("no step counter in the lines: each step is a line's order (the n-th line with values), "
                     "not a training step")
    elif unit == "epoch":
        notes.append("counted in epochs: each step here is an epoch (the last value of each)")
    elif unit == "sample":
        notes.append("counted in samples seen: each line's n of N is the samples of the epoch so far (as "
                     "pytorch/examples prints batch_idx * len(data)), continued across epochs")
    if any(r.epoch_summary for r in recs):
        notes.append("epoch summary lines beside the per-batch lines read as *_epoch series")
    read = _assembled(recs, lines, source, kind, total, unit, notes)
    said = [n for n in notes if n.startswith(TOTAL_FROM_EPOCHS.split(" (")[0])]
    read.total_from = said[-1].split(": the run's total")[0] if said and total is not None else ""
    return read


def _counted(path: Path, kind: str, found: pd.DataFrame, rows: pd.Series, tails: list[str], steps: np.ndarray,
             totals: np.ndarray | None, unit: str, notes: list[str]) -> tuple[np.ndarray, int | None, str, str]:
    """(steps, the run's total or None, unit, counter) of the counted lines, as their counter means them: a bar
    or a count within an epoch continued across epochs, bars per epoch, a total never behind the last step."""
    total: int | None = None
    if kind == "keras":  # the bar starts over every epoch: each epoch continues where the last one ended
        steps = records.continued(steps, totals.astype(np.int64))
    elif kind in ("epoch_batch", "epoch_batch_brackets"):
        epochs = pd.to_numeric(found["epoch"]).to_numpy(dtype=np.int64)
        samples = found["samples"].notna().mean() > 0.5 if "samples" in found else False
        steps, kind = _epoch_and_batch(epochs, steps, totals.astype(np.int64), kind, samples)
        unit = "sample" if kind == "epoch_samples" else unit
        if kind == "epoch_global" and np.isfinite(totals).any():
            total = int(totals[np.isfinite(totals)][-1])
        elif "epochs" in found and found["epochs"].notna().all():
            total = _epochs_total(epochs, pd.to_numeric(found["epochs"]).to_numpy(dtype=np.int64), totals, steps,
                                  notes)
    elif kind == "tqdm":
        steps, total, unit = _bars(path, rows, tails, steps, totals, notes)
    elif kind in ("step", "epoch", "fraction", "iter") and totals is not None and np.isfinite(totals).any() \
            and (kind != "iter" or not (np.diff(steps) < 0).any()):  # an iter/N starting over: N is an epoch's
        total = int(totals[np.isfinite(totals)][-1])
    if total is not None and len(steps) and int(steps.max()) > total:
        # an n/N whose N is not the run's total in the step's unit (a bar's batches per epoch, a count that
        # starts over): no step can be past the total
        notes.append(f"the lines' total {total:,} is below their last {unit} {int(steps.max()):,}: not the run's "
                     "total, left out")
        total = None
    return steps, total, unit, kind


TOTAL_FROM_EPOCHS = "its epoch counter ({count:,} epochs) x the {n:,} steps of each epoch's bar"
# Keras' "Epoch 3/30" line, above the epoch's bars
_KERAS_EPOCH = re.compile(r"^\s*Epoch\s+(?P<epoch>\d+)/(?P<epochs>\d+)\s*$")


def _epochs_total(epochs: np.ndarray, of: np.ndarray, per_epoch: np.ndarray | None, steps: np.ndarray,
                  notes: list[str]) -> int | None:
    """The run's total in the log's continued count, from an epoch counter "e/E" and a per-epoch bar total N:
    the E epochs (from the first logged, counted from 0 or 1) of N each, as Keras' "Epoch 30/30" over "547/547"
    bars gives 30 x 547; None where E or N varies, or the log does not begin at the first epoch (a resumed log
    counts from where it began)."""
    if per_epoch is None or not len(epochs) or not np.isfinite(per_epoch).all() or np.ptp(per_epoch) \
            or np.ptp(of) or int(epochs.min()) not in (0, 1):
        return None
    count, n = int(of[0]), int(per_epoch[0])
    # epochs counted from 0 run 0..E-1, from 1 run 1..E: E epochs either way
    total = count * n
    if len(steps) and int(steps.max()) > total:
        return None
    notes.append(f"{TOTAL_FROM_EPOCHS.format(count=count, n=n)}: the run's total is {total:,}")
    return total


# a counter of micro-batches (or of loop iterations) beside the optimizer step on the same line
_MICRO = re.compile(r"\b(?P<name>it|iter(?:ation)?|batch(?:_idx)?|micro[_ ]?(?:step|batch)|step)\b\s*[:=#]?\s*\[?\s*"
                    r"(?P<n>\d+)(?!\s*/)", re.IGNORECASE)


def micro_counter_note(tails: list[str], steps: np.ndarray) -> list[str]:
    """The sources' note when the lines count micro-batches beside the optimizer step: which one is the step,
    and how many of the other make one step (the accumulation a config's ``gradient_accumulation_steps`` names)."""
    found = [_MICRO.search(t) for t in tails[:5000]]
    pairs = [(int(m["n"]), int(s)) for m, s in zip(found, steps[:5000].tolist(), strict=True) if m and s > 0]
    if not pairs:
        return []
    name = next(m["name"] for m in found if m)
    ratio = float(np.median([n / s for n, s in pairs]))
    per = f", which counts {ratio:.3g} per optimizer step (micro-batches of gradient accumulation)" \
        if ratio >= 1.5 else ""
    return [f"the step is the optimizer step (the unit a schedule counts), not the line's {name}{per}"]


def _epoch_and_batch(epochs: np.ndarray, steps: np.ndarray, totals: np.ndarray, kind: str,
                     samples: bool) -> tuple[np.ndarray, str]:
    """An epoch beside a count within it: continued across epochs ((epoch - first) x per-epoch total + n) when
    the count starts over as the epoch changes; the step itself when it runs on across epochs (``epoch 2 |
    iter 1200/20000``: a global iteration of the run's total)."""
    changes = np.flatnonzero(epochs[1:] > epochs[:-1]) + 1  # a new epoch (an epoch going back is a relaunch)
    if len(changes) and (steps[changes] > steps[changes - 1]).all():  # (a batch index repeated each epoch is not)
        return steps, "epoch_global"
    return (epochs - epochs.min()) * totals + steps, "epoch_samples" if samples else kind


def _read_pattern(lines: pd.Series, user: UserPattern, source: str) -> ConsoleRead:
    """The user's regex: its ``step`` group is the step, its other named groups and the pairs on the line are
    metrics."""
    found = user.extract(lines)
    # a step the user's pattern captured as something else than digits ("28,500", "n/a") is read or dropped
    numbers = pd.to_numeric(found["step"].astype("string").str.replace(",", "", regex=False), errors="coerce")
    has_step = numbers.notna() & (numbers >= 0)
    rows = lines[has_step]
    steps = numbers[has_step].to_numpy(dtype=np.int64)
    recs = [Record(int(i), int(s), line) for i, s, line in zip(np.flatnonzero(has_step), steps, rows, strict=True)]
    unparsed = found["step"].notna() & ~has_step
    notes = [f"{counted(int(unparsed.sum()), 'line')} matched --text-pattern but their step is not a whole number >= 0 "
             f"(first: {str(found.loc[unparsed, 'step'].iloc[0])[:40]!r}): left out"] if unparsed.any() else []
    read = _assembled(recs, lines, source, "pattern", None, "step", notes)
    extra = _named_groups(found.loc[has_step], steps, records.walls(rows))
    if extra:
        read.frame = concat([read.frame, frame_from_series(extra, source)])
        read.lines = max(read.lines, len(rows))
    return read


def _records(messages: pd.Series, counted: np.ndarray, steps: np.ndarray, tails: list[str], kind: str,
             bars: bool) -> list[Record]:
    """Counted lines and the lines that belong to them: a valued line right under a record (a multi-line
    record, a test-set line after an epoch's) and, in a log counted finer than epochs, an epoch summary line."""
    if kind == "line":
        out, n = [], 0
        for i, text in enumerate(messages):
            if metric_pairs(text):
                n += 1
                out.append(Record(i, n, text))
        return out
    step_at = dict(zip(counted.tolist(), range(len(counted)), strict=True))
    out: list[Record] = []
    last: Record | None = None
    attached = False  # the line above is part of a record
    epoch = STEPS["epoch"]
    for i, text in enumerate(messages):
        k = step_at.get(i)
        if k is not None:
            tail = tails[k]
            split = "val" if bars and VALIDATION.search(_before_values(tail)) else ""
            last = Record(i, int(steps[k]), tail, split)
            out.append(last)
            attached = True
            continue
        if last is None or not text.strip():
            attached = False
            continue
        summary = kind != "epoch" and epoch.search(text)
        if summary and metric_pairs(_outside(text, summary)):
            if bars:  # a log counted in epochs: the epoch's summary line is that epoch's point, not an *_epoch one
                out.append(Record(i, int(summary.group("step")), _outside(text, summary)))
            else:
                out.append(Record(i, last.step, _outside(text, summary), epoch_summary=True))
            attached = True
        elif (attached or _validation_line(text)) and metric_pairs(text):
            # a line under a record, or a validation line anywhere after one (mmengine's "Iter(val) [500/500]
            # psnr: 25.1", "Validation: loss=0.3"): at the training step it follows
            words = _before_values(text) + " " + " ".join(k for k, _ in metric_pairs(text)).replace("_", " ")
            split = "val" if VALIDATION.search(words) or (attached and last.split) else ""
            out.append(Record(i, last.step, text, split))
        else:
            attached = False
    return out


def _without_redraws(recs: list[Record], notes: list[str]) -> list[Record]:
    """The records less a progress bar's redraws (records.redraws: each value set once, at the step it first
    appeared), said in the notes."""
    drop = records.redraws(recs, [tuple(metric_pairs(r.tail)) for r in recs]) if len(recs) >= 20 else None
    if drop is None or not drop.any():
        return recs
    notes.append(f"{counted(int(drop.sum()), 'line')} repeat every value of the line before at a later step (a "
                 "progress bar redrawn between updates of its values): each value set is read once, at the step "
                 "it first appeared")
    return [r for r, d in zip(recs, drop, strict=True) if not d]


def _validation_line(text: str) -> bool:
    """A line that names validation before its values and has a loss or quality metric among them."""
    return bool(VALIDATION.search(_before_values(text))) and any(_METRIC_WORDS.search(k) for k, _ in metric_pairs(text))


def _before_values(text: str) -> str:
    """A line's words before its first pair (a bar's description, ``Test set`` in ``Test set loss: 0.1``)."""
    first = PAIR.search(text)
    return text[: first.start()] if first else text


def _bars(path: Path, rows: pd.Series, tails: list[str], steps: np.ndarray, totals: np.ndarray,
          notes: list[str]) -> tuple[np.ndarray, int | None, str]:
    """tqdm bars: one bar for the run (its n/total the step), or a bar per epoch. A bar drawn again each epoch
    with the epoch in its description gives one point per bar, at the epoch (Lightning's ``Epoch 3:`` bar, whose
    total mixes training and validation batches, or ``Epoch 3/10 - Validation``); one that starts over after
    reaching its total, without an epoch, continues from where the last ended. A bar cut short and drawn again
    from 0 is a new launch."""
    epochs = pd.to_numeric(pd.Series(tails, dtype=object).str.extract(_EPOCH_OF_BAR)["epoch"], errors="coerce")
    known = epochs.notna().to_numpy()
    restart = np.flatnonzero(steps[1:] < steps[:-1]) + 1
    if known.mean() > 0.5 and epochs[known].nunique() >= 2 and len(restart):
        e = epochs.ffill().bfill().to_numpy(dtype=np.int64)
        counts = pd.Series(tails, dtype=object).str.extract(_EPOCH_OF_BAR)["of"].dropna()
        notes.append("one point per epoch's progress bar (its last redraw); validation bars as val/...")
        return e, (int(counts.iloc[-1]) if len(counts) else None), "epoch"
    complete = restart[steps[restart - 1] >= totals[restart - 1]]
    added = np.zeros(len(steps), dtype=np.int64)
    added[complete] = totals[complete - 1].astype(np.int64)
    steps = steps + np.cumsum(added)
    total = int(totals[-1]) if len(totals) and not len(complete) else None  # per-epoch bars: not the run's total
    if len(complete):
        notes.append("a bar per epoch, continued across epochs")
    if total is not None and any(_EPOCH_BAR.search(row) for row in rows):
        total = None  # "Epoch N: n/total": the total is one epoch's batches, not the run's steps
    return steps, total, "step"


_EPOCH_BAR = re.compile(r"\bEpoch\s+(\d+)\s*:")
_EPOCH_OF_BAR = re.compile(r"\bepoch\b\W*(?P<epoch>\d+)(?:\s*/\s*(?P<of>\d+))?", re.IGNORECASE)


def _assembled(recs: list[Record], lines: pd.Series, source: str, kind: str, total: int | None, unit: str,
               notes: list[str]) -> ConsoleRead:
    """The records' values as a frame, and one frame per launch when the counter went back in the file."""
    steps = np.array([r.step for r in recs], dtype=np.int64)
    launch = records.launches(steps)
    wall = records.walls(lines.iloc[[r.line for r in recs]]) if recs else np.zeros(0)
    series = _pairs(recs, steps, wall)
    valued = np.unique(np.concatenate([part[4] for part in series])) if series else []
    frame = frame_from_series([part[:4] for part in series], source)
    parts = []
    if len(launch) and launch[-1] > 0:
        for k in range(int(launch[-1]) + 1):
            member = launch == k
            sub = [(n, s[member[r]], v[member[r]], w[member[r]]) for n, s, v, w, r in series]
            parts.append((recs[int(np.argmax(member))].line + 1, frame_from_series(sub, source)))
    return ConsoleRead(frame, total, len(valued), kind, unit, notes, parts)


def _pairs(recs: list[Record], steps: np.ndarray, walls: np.ndarray) -> list:
    """(metric, steps, values, wall times, record indices) per metric, in file order."""
    keys, values, index = [], [], []
    for i, rec in enumerate(recs):
        for key, value in metric_pairs(rec.tail):
            keys.append(records.metric_name(key, rec) if rec.split or rec.epoch_summary else canonical_name(key))
            values.append(float(value))
            index.append(i)
    if not keys:
        return []
    table = pd.DataFrame({"key": keys, "value": values, "row": index})
    out = []
    for key, part in table.groupby("key", sort=False):
        rows = part["row"].to_numpy()
        out.append((str(key), steps[rows].astype(np.int64), part["value"].to_numpy(), walls[rows], rows))
    return out


def _named_groups(found: pd.DataFrame, steps: np.ndarray, walls: np.ndarray) -> list:
    out = []
    for name in found.columns:
        if name in ("step", "total") or not isinstance(name, str):
            continue
        values = pd.to_numeric(found[name], errors="coerce").to_numpy()
        ok = np.isfinite(values) | found[name].astype(str).str.lower().isin(["nan", "inf", "-inf"]).to_numpy()
        out.append((canonical_name(name), steps[ok].astype(np.int64), values[ok], walls[ok]))
    return out
