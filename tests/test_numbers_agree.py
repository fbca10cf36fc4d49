"""Numbers that agree inside one report (review 7, class 3): every percentage or factor printed beside the two
numbers it compares ("from A to B (+x%)", "A by its latest logs, still x% above its level before the step (B)")
is re-derived from those two printed numbers, up to their rounding; a threshold beside a value ("by less than
10%") holds for the value printed; the statistics table's Change agrees with its own Start and Now and with the
JSON summary's ``change_said``/``change_fraction``. The runs are the diagnosis battery's and the bundled trainer's
shipped example, written by real writers."""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # appended: a vae_report given on PYTHONPATH (another checkout) stays the one judged
    sys.path.append(_ROOT)

from benchmarks.diagnosis.catalog import all_cases  # noqa: E402
from benchmarks.diagnosis.run import analyses_of, ensure  # noqa: E402
from vae_report import analyze_run, render  # noqa: E402

NUM = r"-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?"
CHANGE = r"[+\-][\d.,]+%|x[\d.,]+|÷[\d.,]+"
MOVED = re.compile(rf"\bfrom ({NUM}) to ({NUM}) \(({CHANGE})[,)]")
STILL = re.compile(rf"({NUM})[^(),;\d]*, (?:still )?(?:([\d.,]+)% (above|below)|x([\d.,]+))(?: its level before "
                   rf"(?:the step|it)| the level before (?:the step|it)) \(({NUM})\)")
LESS = re.compile(r"by less than ([\d.]+)%(?:[^.|\n]|\.(?=\d))*?\(\+([\d.]+)%")


def number_range(text: str) -> tuple[float, float]:
    """The values a printed number stands for: ``0.0268`` is 0.02675 to 0.02685."""
    plain = text.replace(",", "")
    mantissa = plain.split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(plain.split("e")[1]) if "e" in plain else 0
    half = 0.5 * 10.0 ** (exponent - decimals)
    if "." not in mantissa and "e" not in plain and "," in text:
        half = 0.5  # "1,963" is a whole number
    value = float(plain)
    return value - half, value + half


def ratio_range(said: str) -> tuple[float, float]:
    """The ratios (after / before) a printed change stands for: ``+21.5%``, ``x8.3``, ``÷1.29``."""
    if said.endswith("%"):
        lo, hi = number_range(said[1:-1])
        sign = -1 if said.startswith("-") else 1
        a, b = 1 + sign * lo / 100, 1 + sign * hi / 100
        return min(a, b), max(a, b)
    lo, hi = number_range(said[1:])
    return (lo, hi) if said.startswith("x") else (1 / hi, 1 / lo)


def quotient(after: str, before: str) -> tuple[float, float]:
    (a0, a1), (b0, b1) = number_range(after), number_range(before)
    ends = [a / b for a in (a0, a1) for b in (b0, b1)]
    return min(ends), max(ends)


def overlap(x: tuple[float, float], y: tuple[float, float]) -> bool:
    slack = 1e-9 * max(abs(v) for v in (*x, *y))
    return x[0] <= y[1] + slack and y[0] <= x[1] + slack


def disagreements(report: str) -> list[str]:
    """Every printed change that its two printed numbers do not give, and every threshold its value breaks."""
    out = []
    for found in MOVED.finditer(report):
        before, after, said = found[1], found[2], found[3]
        if float(before.replace(",", "")) <= 0 or float(after.replace(",", "")) <= 0:
            continue  # a change of a signed quantity is a difference, no ratio
        if not overlap(quotient(after, before), ratio_range(said)):
            out.append(f"{found[0]!r}: {after}/{before} is not {said}")
    for found in STILL.finditer(report):
        now, pct_said, side, times, before = found[1], found[2], found[3], found[4], found[5]
        said = f"{'+' if side == 'above' else '-'}{pct_said}%" if pct_said else f"x{times}"
        if not overlap(quotient(now, before), ratio_range(said)):
            out.append(f"{found[0]!r}: {now}/{before} is not {said}")
    for sentence in re.split(r"(?<=[.|])\s", report):
        if re.search(r"(above|below|x[\d.,]+) (?:its|the) level before", sentence) and not STILL.search(sentence):
            out.append(f"a percentage above a level without the two numbers it compares: {sentence[:200]!r}")
    for found in re.finditer(r"(\d[\d,]*(?:\.\d+)?)%", report):  # beyond x10 a factor reads, "906391.6%" does not
        if float(found[1].replace(",", "")) >= 1000:
            out.append(f"a change beyond x10 said as a percentage: {found[0]}")
    for found in LESS.finditer(report):
        if float(found[2]) >= float(found[1]):
            out.append(f"{found[0]!r}: +{found[2]}% is not less than {found[1]}%")
    return out


def table(report: str) -> dict[str, tuple[str, str, str]]:
    """The statistics table: metric -> (Start, Now, Change) as printed."""
    section = report.split("## Training statistics\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split(" | ") for line in section.splitlines() if line.startswith("| ")][1:]
    return {r[0].strip().replace("\\", ""): (r[1].strip(), r[2].split(" ± ")[0].strip(), r[6].strip()) for r in rows}


def table_disagreements(report: str, summary: dict) -> list[str]:
    """The table's Change against its own Start and Now, and against the JSON a CI step reads."""
    out = []
    for name, (start, now, said) in table(report).items():
        row = summary["metrics"][name]
        if row["change_said"] != said:
            out.append(f"{name}: the JSON's change_said {row['change_said']!r}, the table {said!r}")
        if said[:1] in "x÷" and re.fullmatch(NUM, start) and re.fullmatch(NUM, now) \
                and float(start.replace(",", "")) > 0:
            if not overlap(quotient(now, start), ratio_range(said)):
                out.append(f"{name}: Start {start}, Now {now}, Change {said}")
            fraction = row["change_fraction"]
            if not (isinstance(fraction, float) and math.isclose(1 + fraction, row["now"] / row["start"])):
                out.append(f"{name}: the JSON's change_fraction {fraction} is not now/start - 1")
        if said.endswith("%"):
            out.append(f"{name}: a percentage in a column of factors ({said})")
    return out


CASES = {case.name: case for case in all_cases()}
RUNS = ["shift_rec_before_disc_stayed", "shift_rec_decays_back_toward_level", "rec_episode_before_disc_recovered",
        "rec_worse_after_disc", "explodes_now_phase1", "healthy_short_both_phases_every1", "kl_collapse"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, tuple[str, dict]]:
    cache = tmp_path_factory.mktemp("agree")
    out = {}
    for name in RUNS:
        (analysis,) = analyses_of(ensure(CASES[name], cache))
        out[name] = (render.render_markdown(analysis), analysis.to_summary())
    example = analyze_run(Path(__file__).resolve().parents[1] / "examples" / "tiny_run")
    out["example"] = (render.render_markdown(example), example.to_summary())
    return out


@pytest.mark.parametrize("run", [*RUNS, "example"])
def test_every_printed_change_is_the_one_its_two_numbers_give(reports, run) -> None:
    report, summary = reports[run]
    assert MOVED.search(report), "the report quotes no change: the check reads nothing"
    assert disagreements(report) == []
    assert table_disagreements(report, json.loads(json.dumps(summary))) == []


def test_a_level_still_above_its_old_one_is_said_beside_both(reports) -> None:
    # a step that has fallen back part of the way: its percentage beside the level it is of and the level before
    for run in ("shift_rec_decays_back_toward_level", "rec_episode_before_disc_recovered"):
        assert STILL.search(reports[run][0]), f"{run}: no '... above its level before' to check"


def test_the_check_sees_what_review_7_quoted() -> None:
    s03 = ("it has fallen since, to 0.0326 by the end of the phase before the discriminator, and 0.079 now, in the "
           "adversarial phase, still 21.5% above its level before the step, while ...")
    assert disagreements(s03)
    r01 = ("Reconstruction got a little worse once the discriminator started, by less than 10%: comparing its level "
           "just before step 151 (its last point there) with its current level, rec_loss went from 0.256 to 0.283 "
           "(+10.2%), a change within its noise.")
    assert disagreements(r01)
    wrong = "rec_loss went from 0.864 to 0.67 (-12.4%)"
    assert disagreements(wrong) and not disagreements("rec_loss went from 0.864 to 0.67 (-22.4%)")
    assert not disagreements("to 0.0326 by the end of the phase before the discriminator, still 21.6% above its "
                             "level before the step (0.0268), while")
    assert disagreements("it is 318.1 now, still 906391.6% above its level before it (0.0351).")


# sentences review 7 could not parse (#7), each now said in plain words at its one source
UNPARSED = ("the median there, the table's Now", "each over 5% of the points", "what it judges, is",
            "this report shows that branch", "of the data's image size", "of the config's resolution)",
            "the GAN checks judge the balance")


@pytest.mark.parametrize("run", [*RUNS, "example"])
def test_no_sentence_review_7_could_not_parse(reports, run) -> None:
    report = reports[run][0]
    assert [p for p in UNPARSED if p in report] == []
    # the latent size as a shape: "768 latent dimensions (3 x 16 x 16 latents from 16 x 16 images, no downsampling)"
    for found in re.finditer(r"latent dimensions \(([^)]*)\)", report):
        assert re.fullmatch(r"\d+ x \d+ x \d+ latents from \d+ x \d+ images(?: of the config's resolution)?, "
                            r"(?:no downsampling|downsampled by \d+)", found[1]), found[1]


def test_a_loss_still_climbing_is_quoted_at_the_one_now_of_the_statistics_table(tmp_path):
    """eval14 c_weekly_same: "kl_loss is still climbing through its latest quarter, from 123,597 ... to 126,501
    now" beside the statistics table's Now of 126,611 (the median of the last eighth, against the current level)."""
    import re

    import numpy as np
    from writers import write_scalars

    from vae_report import analyze_run

    rng = np.random.default_rng(3)
    steps = range(0, 30_000, 50)
    write_scalars(tmp_path, [(s, tag, v) for s in steps for tag, v in (
        ("train/rec_loss", 0.04 + 0.2 * np.exp(-s / 3_000) + 0.001 * rng.standard_normal()),
        ("train/kl_loss", 100_000 + 1.0 * s + 300 * rng.standard_normal()))])
    a = analyze_run(tmp_path)
    said = " ".join(f.message for f in a.findings)
    found = re.search(r"kl_loss is still climbing through its latest quarter, from [\d,.]+ \(from step [\d,]+\) "
                      r"to ([\d,.]+) now", said)
    assert found, said
    from vae_report.numbers import fmt

    assert found.group(1) == fmt(a.metrics["kl_loss"].now)
