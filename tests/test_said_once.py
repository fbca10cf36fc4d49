"""Each long sentence of a report is written once (review of session 10: 16-21 sentences repeated per report):
a finding is told in the findings table and named elsewhere (its title and rule id), the plots' key is said once
above them, an answer points to the Recommendations and to the liveness finding rather than copying them. Counted
in the Markdown and in the HTML of real reports: the trainer's example run and runs written by the tests."""

from __future__ import annotations

import html
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_prose import _runs
from test_verdicts import config, stalled_curves, write_run
from writers import write_radiodiff_run

from vae_report.analysis import examine_run
from vae_report.figures import draw
from vae_report.render import write_report, write_view
from vae_report.report_view import report_view

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tiny_run"
LONG = 12  # words: a sentence this long said twice is a repeat a reader notices
# Repeats allowed, each with why. None: every long sentence has one home.
ALLOWED: tuple[str, ...] = ()


def sentences(lines: list[str]) -> list[str]:
    """The sentences of the report's text lines, its marks stripped, split at a full stop, ! or ? before a
    space."""
    out = []
    for line in lines:
        line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)  # a link: its text
        line = " ".join(re.sub(r"[*`]|\\(?=\S)", "", line).split())
        out += [s for s in re.split(r"(?<=[.!?])\s+", line) if s]
    return out


def markdown_lines(page: str) -> list[str]:
    """The Markdown's text: paragraphs, list items and table cells; not headings, a table's header or its rule."""
    out = []
    lines = page.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#") or re.fullmatch(r"\|?[-:| ]+\|?", line.strip() or "x"):
            continue
        if line.startswith("|"):
            if i + 1 < len(lines) and re.fullmatch(r"\|[-:| ]+\|", lines[i + 1].strip()):
                continue  # a table's header
            out += [c.strip() for c in re.split(r"(?<!\\)\|", line) if c.strip()]
        else:
            out.append(re.sub(r"^\s*(?:[-*]|\d+\.)\s+", "", line))
    return out


class _Text(HTMLParser):
    """The HTML's text by element: paragraphs, list items, cells and captions; not headings nor a header row."""

    SKIP = {"h1", "h2", "h3", "th", "script", "style", "title"}
    BREAK = {"p", "li", "td", "figcaption", "div", "tr", "br"}

    def __init__(self) -> None:
        super().__init__()
        self.lines, self.now, self.skipping = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        if tag in self.BREAK:
            self._flush()

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping -= 1
        if tag in self.BREAK or tag in self.SKIP:
            self._flush()

    def handle_data(self, data):
        if not self.skipping:
            self.now.append(data)

    def _flush(self):
        self.lines.append(html.unescape("".join(self.now)))
        self.now = []


def html_lines(page: str) -> list[str]:
    parser = _Text()
    parser.feed(page)
    parser._flush()
    return parser.lines


def repeats(lines: list[str]) -> list[tuple[int, str]]:
    counted = Counter(s for s in sentences(lines) if len(s.split()) >= LONG)
    return [(n, s) for s, n in counted.items() if n > 1 and not any(s.startswith(a) for a in ALLOWED)]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """(Markdown, HTML) of each run: the trainer's example run, a healthy, a finished, an exploding, a
    KL-dominated and a clamped-d_weight run, and the seed-shaped run whose logs are years old."""
    root = tmp_path_factory.mktemp("said_once")
    runs = {"example": EXAMPLE, **_runs(root)}
    write_radiodiff_run(root / "seed", last_step=18_300)
    runs["seed"] = root / "seed"
    out = {}
    for name, folder in runs.items():
        run = examine_run(folder, draw_plots=True)
        figures = draw(run)  # drawn once, both formats written from it (as two analyze commands would write)
        view = report_view(run.analysis, figures)
        md, page = root / f"{name}.md", root / f"{name}.html"
        for out_file in (md, page):
            write_view(view, out_file, figures.files, [folder])
        out[name] = (md.read_text(), page.read_text())
    return out


def test_no_long_sentence_is_printed_twice_in_the_markdown(reports):
    found = {name: repeats(markdown_lines(md)) for name, (md, _) in reports.items()}
    assert not {name: r for name, r in found.items() if r}, found


def test_no_long_sentence_is_printed_twice_in_the_html(reports):
    found = {name: repeats(html_lines(page)) for name, (_, page) in reports.items()}
    assert not {name: r for name, r in found.items() if r}, found


def test_a_metric_s_section_names_its_findings_and_links_to_the_table(reports):
    md, page = reports["example"]
    section = md.split("## Key training metrics analysis")[1].split("\n## ")[0]
    assert "[Findings](#findings): ✅ ok **Reconstruction after the discriminator starts** (`rec-after-disc`)" \
        in section
    assert "Reconstruction did not get worse" not in section and md.count("Reconstruction did not get worse") == 1
    assert 'id="findings"' in page and '<a href="#findings">Findings</a>' in page


def test_a_halted_run_says_why_once_and_its_answers_point_there(tmp_path):
    # trust8: the answer on the switch-on of a stalled run repeated the liveness finding's reason word for word,
    # and the conclusion its "Next milestone" line from the overview
    folder = write_run(tmp_path / "stalled", stalled_curves(), 10, config(disc_start=5_001, total=10_000))
    md = tmp_path / "stalled.md"
    write_report(examine_run(folder, draw_plots=False), md)
    page = md.read_text()
    assert repeats(markdown_lines(page)) == []
    reason = "training has stalled: its losses have not changed since step 2,000"
    live = next(line for line in page.splitlines() if "`liveness`" in line)
    assert reason in live
    answer = page.split("become active?", 1)[1].split("###", 1)[0]
    assert reason not in answer and 'it cannot go on as it is (see "Training speed and liveness")' in answer
