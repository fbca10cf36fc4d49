"""Numbers said as a reader expects them (review of session 10): a share is one number with its range as its
uncertainty, a check's threshold is said as the check's, an all-clear's Step is a step it is about, and no
percentage is taken of a negative or near-zero base. Checked on real reports: the trainer's example run and runs
written by the tests with tensorboard's writer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_prose import _runs

from vae_report import analyze_run
from vae_report.numbers import part_of
from vae_report.render import write_report
from vae_report.rules.decomposition import share_range

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tiny_run"
SHARE = r"(?:less than |over )?[\d.]+%"


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """(analysis, Markdown) of the example run and of a healthy, a finished, an exploding, a KL-dominated and a
    clamped-d_weight run."""
    root = tmp_path_factory.mktemp("words")
    out = {}
    for name, folder in {"example": EXAMPLE, **_runs(root)}.items():
        a = analyze_run(folder)
        write_report(a, root / f"{name}.md")
        out[name] = (a, (root / f"{name}.md").read_text())
    return out


def test_a_share_is_one_number_with_its_range_as_its_uncertainty(reports):
    ranged = 0
    for name, (_, md) in reports.items():
        bare = re.findall(rf"{SHARE} to {SHARE}", md)
        told = re.findall(rf"{SHARE} \((?:{SHARE} to|up to) {SHARE}\)", md)
        assert len(bare) == len(re.findall(rf"{SHARE} \({SHARE} to {SHARE}\)", md)), (name, bare)
        ranged += len(told)
        if told:  # the breakdown says once what the range is
            assert "a range after a share is what the terms' noise allows it" in md
    assert ranged  # some run has a share the noise leaves a range
    assert share_range(0.019, 0.012, 0.026) == "1.9% (1.2% to 2.6%)"
    assert share_range(5e-7, 2e-7, 1.5e-6) == "less than 0.0001% (up to 0.00015%)"


def test_a_threshold_is_said_as_the_check_s(reports):
    said = [q.answer for a, _ in reports.values() for q in a.qa]
    assert not [t for t in said if "dominates from" in t or "outweighs the nll from" in t]
    ranges = [t for a, _ in reports.values() for q in a.qa if q.question == "Are the loss values in the right ranges?"
              for t in [q.answer]]
    assert any("below the check's 10% threshold" in t for t in ranges)
    watch = [t for t in said if t.startswith("From step 50,001")]
    assert watch and all(t.startswith("From step 50,001, the checks warn at: ") for t in watch)
    assert not [t for t in watch if "means the discriminator has won" in t or "is a regression" in t]


def test_an_all_clear_is_placed_at_a_step_it_is_about_not_where_its_window_starts(reports):
    """A finding on the level now ("over steps 550-590") is at 590 in the Step column, not at 550."""
    placed = []
    for name, (a, _) in reports.items():
        for f in a.active_findings():
            if f.severity in ("ok", "info") and f.step is not None:
                starts = [int(x.replace(",", "")) for x, _ in re.findall(r"steps ([\d,]+)-([\d,]+)", f.message)]
                placed += [(name, f.rule, f.step)] if f.step in starts else []
    assert not placed, placed
    example = reports["example"][0]
    (rec,) = [f for f in example.active_findings() if f.rule == "rec-after-disc"]
    assert rec.step == example.step


def test_no_percentage_of_a_negative_or_near_zero_base():
    assert part_of(1.0, 8.0) == "12.5%" and part_of(16.0, 8.0) == "200.0%"
    # beside a near-zero nll (learned-logvar parts cancelling) or a negative one: the two numbers, no "+4000%"
    assert part_of(6.67, 0.16) is None and part_of(1.0, -3.0) is None and part_of(1.0, 0.0) is None
    assert part_of(-1.0, 3.0) is None and part_of(float("nan"), 1.0) is None
