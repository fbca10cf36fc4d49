"""One metric, one baseline: every change of a metric a Markdown report quotes (findings, the cells that cite
findings under a headline, the Q&A, the statistics table) measures it from one level per window, with one
percentage and one onset, however many rules look at it (review 5 #4). The runs are the diagnosis battery's,
written by real writers: a reconstruction that rose after the switch-on, a d_weight that ran away, a gradient
norm that grew under clipping, a divergence into NaN."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # appended: a vae_report given on PYTHONPATH (another checkout) stays the one judged
    sys.path.append(_ROOT)

from benchmarks.diagnosis.catalog import all_cases  # noqa: E402
from benchmarks.diagnosis.run import analyses_of, ensure  # noqa: E402
from vae_report import render  # noqa: E402

NUM = r"-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?"
CHANGE = r"[+\-][\d.,]+%|x[\d.,]+|÷[\d.,]+"
# "rose from A to B (+P%)", "grew from A to B (x8.3) since step S", "climbed from A to B from step S"
REST = r"((?:[^;|\n.]|\.(?=\d))*)"  # the rest of the clause: up to its end, a sentence's or a cell's
MOVED = re.compile(rf"\b(?:rose|fell|grew|climbed|went|ran away) from ({NUM}) to ({NUM})(?: \(({CHANGE})\))?"
                   + REST)
# loss-now's "0.14 over its latest finite points against 0.037, its best level ...; the rise began at step S"
AGAINST = re.compile(rf"({NUM}) over its latest (?:finite )?points against ({NUM})({REST[1:-1]}(?:; the rise began "
                     r"at step [\d,]+)?)")
# a growth said without its levels: "grew x8.3 under clipping"
FACTOR = re.compile(rf"\bgrew ({CHANGE})")
ONSET = re.compile(r"\b(?:from|since|began at) step ([\d,]+)")
BOUNDARY = re.compile(r"[;|\n]|\.\s")  # where a clause ends: a sentence, a clause, a table cell


@dataclass(frozen=True)
class Quote:
    metric: str
    start: float | None
    end: float | None
    change: str | None
    onset: int | None
    text: str


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def statistics(report: str) -> dict[str, tuple[float, str, str]]:
    """The statistics table: metric -> (Start, Now as printed, Change as printed)."""
    section = report.split("## Training statistics\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split(" | ") for line in section.splitlines() if line.startswith("| ")][1:]
    return {row[0].strip(): (_number(row[1]), row[2].split(" ± ")[0].strip(), row[6].strip()) for row in rows
            if re.fullmatch(NUM, row[1].strip())}


def quotes(report: str, metrics: list[str]) -> list[Quote]:
    """Every change of a metric the report's prose quotes, given to the metric the clause last names before it
    ("rec_loss got worse ...: comparing ..., it rose from A to B" is rec_loss's)."""
    body = report.split("## Training statistics\n", 1)[0] + report.split("## Questions and answers", 1)[-1]
    names = re.compile("|".join(rf"(?<![\w/]){re.escape(n)}(?![\w/])" for n in sorted(metrics, key=len,
                                                                                    reverse=True)))
    out = []
    for pattern in (MOVED, AGAINST, FACTOR):
        for found in pattern.finditer(body):
            named = names.findall(_clause(body[:found.start()]))
            if not named:
                continue
            if pattern is MOVED:
                onset = ONSET.search(found[4])
                out.append(Quote(named[-1], _number(found[1]), _number(found[2]), found[3],
                                 _number(onset[1]) if onset else None, found[0]))
            elif pattern is AGAINST:
                onset = ONSET.search(found[3])
                out.append(Quote(named[-1], _number(found[2]), _number(found[1]), None,
                                 _number(onset[1]) if onset else None, found[0]))
            else:
                out.append(Quote(named[-1], None, None, found[1], None, found[0]))
    return out


def _clause(head: str) -> str:
    """The text of the clause a match is in, up to the match."""
    ends = [b.end() for b in BOUNDARY.finditer(head)]
    return head[ends[-1]:] if ends else head


def same_change(a: str, b: str) -> bool:
    """One change in two notations: a sentence's ``-39.8%`` and the table's factor ``÷1.66``, up to rounding."""
    if a == b:
        return True
    if not all(re.fullmatch(CHANGE, x) for x in (a, b)):
        return False
    (a0, a1), (b0, b1) = _ratios(a), _ratios(b)
    return a0 <= b1 * (1 + 1e-9) and b0 <= a1 * (1 + 1e-9)


def _ratios(said: str) -> tuple[float, float]:
    digits = said.strip("+-x÷%").replace(",", "")
    half = 0.5 * 10.0 ** -(len(digits.split(".")[1]) if "." in digits else 0)
    lo, hi = float(digits) - half, float(digits) + half
    if said.endswith("%"):
        sign = -1 if said.startswith("-") else 1
        return tuple(sorted((1 + sign * lo / 100, 1 + sign * hi / 100)))  # type: ignore[return-value]
    return (lo, hi) if said.startswith("x") else (1 / hi, 1 / lo)


def one_baseline_failures(report: str, metric: str) -> list[str]:
    """Where the report quotes one metric's change with two baselines for one level, two percentages for one
    change, or two onsets for one climb: the baselines it measures from (the table's Start among them) are
    distinct levels (more than 5% apart: levels.HELD_MAX), at most one besides the table's Start; every change
    to its current level (the table's Now) has one percentage, the table's Change where it is from the Start;
    every onset quoted with its change is one step."""
    table = statistics(report)
    start, now, table_change = table[metric]
    said = [q for q in quotes(report, list(table)) if q.metric == metric]
    out = []
    bases = sorted({q.start for q in said if q.start is not None} | {start})
    for a, b in zip(bases, bases[1:], strict=False):
        if abs(b - a) <= 0.05 * max(abs(a), abs(b)):
            out.append(f"{metric}: two numbers for one baseline, {a} and {b}")
    others = [b for b in bases if b != start]
    if len(others) > 1:
        out.append(f"{metric}: {len(others)} baselines besides the table's Start {start}: {others}")
    level = _number(now) if re.fullmatch(NUM, now) else None  # NaN now: no change to now but a bare factor
    to_now = {q.change for q in said if q.change and (q.end is None or q.end == level)}
    if len({c for c in to_now if not same_change(c, table_change)}) > 1:
        out.append(f"{metric}: its change to now quoted as {sorted(to_now)} (the table: {table_change})")
    from_start = {q.change for q in said if q.start == start and q.end == level and q.change}
    if {c for c in from_start if not same_change(c, table_change)}:
        out.append(f"{metric}: from its Start {start} quoted as {sorted(from_start)}, the table {table_change}")
    pairs: dict[tuple, set[str]] = {}
    for q in said:
        if q.start is not None and q.change:
            pairs.setdefault((q.start, q.end), set()).add(q.change)
    out += [f"{metric}: from {a} to {b} quoted as {sorted(c)}" for (a, b), c in pairs.items() if len(c) > 1]
    onsets = {q.onset for q in said if q.onset is not None}
    if len(onsets) > 1:
        out.append(f"{metric}: one change dated at {sorted(onsets)}")
    return out


CASES = {case.name: case for case in all_cases()}
# (the battery's run, the metric whose change several rules and the table quote)
CLASSES = [("rec_worse_after_disc", "rec_loss"), ("generator_wins", "d_weight"),
           ("rec_drift_under_clipping", "grad_norm"), ("diverges_into_nan_grad_norm", "grad_norm"),
           ("diverges_into_nan_grad_norm", "rec_loss")]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, str]:
    cache = tmp_path_factory.mktemp("baseline")
    out = {}
    for name in dict.fromkeys(name for name, _ in CLASSES):
        (analysis,) = analyses_of(ensure(CASES[name], cache))
        out[name] = render.render_markdown(analysis)
    return out


@pytest.mark.parametrize(("run", "metric"), CLASSES, ids=[f"{r}-{m}" for r, m in CLASSES])
def test_one_metric_has_one_baseline_one_percentage_one_onset(reports, run, metric) -> None:
    report = reports[run]
    said = [q for q in quotes(report, list(statistics(report))) if q.metric == metric]
    assert said, f"the report quotes no change of {metric}: the check reads nothing"
    assert one_baseline_failures(report, metric) == []


def test_the_check_sees_two_baselines() -> None:
    """The parser and the check, on the sentences review 5 quoted."""
    table = ("## Training statistics\n\n| Metric | Start | Now (± noise) | Min | Max | Points | Change | Source |\n"
             "|---|---|---|---|---|---|---|---|\n| d_weight | 144.6 | 13,588 ± 587.9 | 1 | 2 | 3 | x93.9 | tb |\n"
             "| rec_loss | 0.322 | 0.0546 ± 0.00075 | 1 | 2 | 3 | -83.0% | tb |\n\n## Questions and answers\n")
    two_windows = ("| warning | x | rec_loss | 1 | rec_loss rose from 0.0361 to 0.0546 (+51.1%); **Same cause:** "
                   "rec_loss got worse: comparing its level at the start of the phase, it rose from 0.0407 to "
                   "0.0546 (+34.0%). |\n")
    assert one_baseline_failures(two_windows + table, "rec_loss")
    one_level = "| warning | x | disc_loss | 1 | d_weight rose from 145.6 to 13,588 (x93.3) since the start. |\n"
    assert one_baseline_failures(one_level + table, "d_weight")
    onsets = ("| error | x | rec_loss | 1 | rec_loss climbed from 0.0383 to 0.656 from step 31,660. |\n"
              "| info | y | rec_loss | 2 | rec_loss rose from 0.0383 to 0.656 since step 31,580. |\n")
    assert one_baseline_failures(onsets + table, "rec_loss")
    same = "| warning | x | disc_loss | 1 | d_weight rose from 144.6 to 13,588 (x93.9); it grew x93.9. |\n"
    assert one_baseline_failures(same + table, "d_weight") == []
