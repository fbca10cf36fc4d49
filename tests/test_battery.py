"""The diagnosis battery (benchmarks/diagnosis): every synthetic run gets the verdict an expert gives it, and its
rendered report never contradicts its own summary. Runs are written by real writers into a temporary folder."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # appended: a vae_report given on PYTHONPATH (another checkout) stays the one judged
    sys.path.append(_ROOT)

from benchmarks.diagnosis.catalog import all_cases  # noqa: E402
from benchmarks.diagnosis.expect import Expect, Fault, judge  # noqa: E402
from benchmarks.diagnosis.run import analyses_of, combined, ensure  # noqa: E402
from vae_report import analyze_run, render  # noqa: E402

CASES = all_cases()
STATUS_LINE = re.compile(r"\*\*Status(?::\*\*|\*\*:) (ok|info|warning|error)")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("battery")


@pytest.fixture(scope="module")
def analyses(cache) -> dict:
    # as `vae-report analyze` sees the folder: one run, or each run of a sweep (sibling runs, attempts)
    return {case.name: analyses_of(ensure(case, cache)) for case in CASES}


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
    good, problems = judge(case.expect, combined([a.to_summary() for a in analyses[case.name]]))
    assert good, f"{case.name} ({case.klass}): " + "; ".join(problems)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_report_agrees_with_summary(case, analyses, cache, monkeypatch) -> None:
    monkeypatch.setattr(render, "make_plots", lambda *args, **kwargs: [])  # plots carry no verdict; keep it fast
    for index, analysis in enumerate(analyses[case.name]):
        status = analysis.to_summary()["status"]
        out = cache / "reports" / f"{case.name}-{index}.md"
        render.write_report(analysis, out)
        text = out.read_text()
        said = STATUS_LINE.findall(text)
        assert said and set(said) == {status}, f"report says {said}, summary {status}"
        if status != "ok":
            assert "training behaves as its schedule says it should" not in text
        for finding in analysis.to_summary()["findings"]:
            if finding["severity"] in ("warning", "error"):
                assert f"`{finding['rule']}`" in text, f"{finding['rule']} missing from the report"


# Markdown markup and the severity icons (the HTML page says the severity in words)
_MD_MARKUP = re.compile(r"\*\*|`|<sub>|</sub>|✅|ℹ️|⚠️|❌|✱|^#+ |^> |^- |^\d+\. |!\[[^\]]*\]\([^)]*\)"
                        r"|\[([^\]]*)\]\([^)]*\)", re.M)
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?%?")


def _plain_markdown(text: str) -> str:
    text = _MD_MARKUP.sub(lambda m: m.group(1) or "", text)
    # a backslash before ASCII punctuation is CommonMark's escape: the reader sees the character
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text))


def _plain_html(text: str) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def report_parity(markdown: str, page: str) -> list[str]:
    """What the Markdown report says that the HTML one does not: section titles, sentences, numbers."""
    plain = _plain_html(page)
    squeezed = plain.replace(" ", "")
    missing = []
    for line in _plain_markdown(markdown).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")] if line.startswith("|") else [line]
        for cell in cells:
            for sentence in re.split(r"(?<=[.:;!?])\s+", cell):
                sentence = " ".join(sentence.split()).strip(" .;:")
                if len(sentence) > 3 and not set(sentence) <= set("-|: ") and \
                        sentence.replace(" ", "") not in squeezed:
                    missing.append(sentence)
    numbers = set(_NUMBER.findall(_plain_markdown(markdown))) - set(_NUMBER.findall(plain))
    return missing + sorted(f"number {n}" for n in numbers)


# a few runs of different layouts and verdicts (the whole battery costs a second each)
PARITY_CASES = [c for c in CASES if c.name in ("healthy_ldm_with_validation", "healthy_vqgan_both_phases",
                                               "kl_dominant", "nan_injected", "lr_never_decays", "val_overfitting")]


@pytest.mark.parametrize("case", PARITY_CASES, ids=[c.name for c in PARITY_CASES])
def test_the_html_report_says_what_the_markdown_one_says(case, analyses, monkeypatch) -> None:
    """Every section, sentence and number of the Markdown report is in the HTML one (the two formats print one
    analysis; they must not drift apart)."""
    monkeypatch.setattr(render, "make_plots", lambda *args, **kwargs: [])
    analysis = analyses[case.name][0]
    markdown = render.render_markdown(analysis, [], "files")
    page = render.render_html(analysis, [])
    assert report_parity(markdown, page) == []


def test_the_example_html_report_says_what_its_markdown_says() -> None:
    example = Path(_ROOT) / "examples" / "tiny_run"
    analysis = analyze_run(example)
    samples = render.reconstructions(analysis)
    markdown = render.render_markdown(analysis, [], "files", samples)
    page = render.render_html(analysis, [], samples)
    assert "What it is made of" in markdown and report_parity(markdown, page) == []
