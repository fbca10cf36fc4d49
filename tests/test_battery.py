"""The diagnosis battery (benchmarks/diagnosis): every synthetic run gets the verdict an expert gives it, and its
rendered report never contradicts its own summary. Runs are written by real writers into a temporary folder."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # appended: a vae_report given on PYTHONPATH (another checkout) stays the one judged
    sys.path.append(_ROOT)

import vae_report  # noqa: E402
from benchmarks.diagnosis.catalog import all_cases  # noqa: E402
from benchmarks.diagnosis.expect import Expect, Fault, judge  # noqa: E402
from benchmarks.diagnosis.run import ensure  # noqa: E402
from vae_report import render  # noqa: E402

CASES = all_cases()
STATUS_LINE = re.compile(r"\*\*Status(?::\*\*|\*\*:) (ok|info|warning|error)")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("battery")


@pytest.fixture(scope="module")
def analyses(cache) -> dict:
    return {case.name: vae_report.analyze_run(ensure(case, cache)) for case in CASES}


def test_battery_is_broad() -> None:
    healthy = [c for c in CASES if c.expect.status == "ok"]
    faults = [c for c in CASES if c.expect.status != "ok"]
    assert len(CASES) >= 30 and len(healthy) >= 8 and len(faults) >= 20
    assert {c.layout for c in CASES} >= {"radiodiff", "radiodiff_text", "trainer_csv", "lightning", "lightning_tb",
                                         "vq_tb", "sgm_tb"}
    assert {c.shape.disc_loss for c in healthy} == {"hinge", "vanilla"}
    assert {c.shape.every for c in CASES} >= {1, 100}


def test_judge_is_strict() -> None:
    """Status, metric, onset window and rule pattern all count; a healthy run tolerates no warning."""
    lr_fault = Expect("warning", (Fault(("lr",), 4_000, 200, ("lr-*",)),))
    finding = {"rule": "lr-schedule", "severity": "warning", "metric": "lr", "step": 4_100}
    assert judge(lr_fault, {"status": "warning", "findings": [finding]})[0]
    assert not judge(lr_fault, {"status": "warning", "findings": [finding | {"step": 4_300}]})[0]
    assert not judge(lr_fault, {"status": "warning", "findings": [finding | {"metric": "rec_loss"}]})[0]
    assert not judge(lr_fault, {"status": "warning", "findings": [finding | {"rule": "rec-trend"}]})[0]
    assert not judge(lr_fault, {"status": "error", "findings": [finding]})[0]
    cited = {"rule": "total-trend", "severity": "ok", "related": [finding]}
    assert judge(lr_fault, {"status": "warning", "findings": [cited]})[0]
    assert not judge(Expect("ok"), {"status": "ok", "findings": [finding]})[0]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case, analyses) -> None:
    good, problems = judge(case.expect, analyses[case.name].to_summary())
    assert good, f"{case.name} ({case.klass}): " + "; ".join(problems)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_report_agrees_with_summary(case, analyses, cache, monkeypatch) -> None:
    monkeypatch.setattr(render, "make_plots", lambda *args, **kwargs: [])  # plots carry no verdict; keep it fast
    analysis = analyses[case.name]
    status = analysis.to_summary()["status"]
    out = cache / "reports" / f"{case.name}.md"
    render.write_report(analysis, out)
    text = out.read_text()
    said = STATUS_LINE.findall(text)
    assert said and set(said) == {status}, f"report says {said}, summary {status}"
    if status != "ok":
        assert "training behaves as its schedule says it should" not in text
    for finding in analysis.to_summary()["findings"]:
        if finding["severity"] in ("warning", "error"):
            assert f"`{finding['rule']}`" in text, f"{finding['rule']} missing from the report"


NO = re.compile(r"^(no[.,:;]|probably not\b(?! yet, but look))", re.I)
YES = re.compile(r"^yes[.,:;]", re.I)
YES_NO = re.compile(r"^(is|are|should|did|does|do|has|have|can|will)\b|should i be worried", re.I)
ALL_IS_WELL = ("fine", "right range", "normal", "healthy")  # questions where "yes" means no problem


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answers_agree_with_findings(case, analyses) -> None:
    """A Q&A answer tied to a rule never calls fine what that rule warns about; "intervene?" follows the status."""
    analysis = analyses[case.name]
    summary = analysis.to_summary()
    loud = {f["rule"] for f in summary["findings"] if f["severity"] in ("warning", "error")}
    for qa in analysis.qa:
        answer = qa.answer.strip()
        reassuring = YES if any(word in qa.question.lower() for word in ALL_IS_WELL) else NO
        if qa.rule in loud and YES_NO.search(qa.question):
            assert not reassuring.match(answer), f"{qa.question!r} answers {answer[:80]!r} while {qa.rule} warns"
        if qa.question.startswith("Should I intervene"):
            quiet = summary["status"] in ("ok", "info")
            assert bool(NO.match(answer)) == quiet, f"status {summary['status']}, intervene? {answer[:80]!r}"
