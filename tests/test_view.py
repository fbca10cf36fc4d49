"""One view, two formats: the report is built once as plain data (vae_report/view.py) and the Markdown and HTML
printers only print it; the Analysis under it is plain data, and the report is drawn from the frame, never from
the run folder again. Runs are written by the real writers (tests/writers.py)."""

from __future__ import annotations

import dataclasses
import pickle
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt
from writers import write_radiodiff_run

from vae_report import Analysis, examine_run, render
from vae_report.figures import Figures, figures_of
from vae_report.report_view import report_view
from vae_report.text import html_spans, markdown_spans
from vae_report.view import Span, code, text


@pytest.fixture(scope="module")
def examined(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    write_radiodiff_run(run, last_step=3_000, tb_every=20, disc_start=1_501, total_steps=6_000)
    return run, examine_run(run)


def test_both_formats_print_the_same_sections_in_the_same_order(examined):
    _, got = examined
    view = report_view(got.analysis, Figures())
    markdown = render.markdown_page(view)
    page = render.html_page(view)
    titles = [s.title for s in view.sections]
    assert titles[0] == "Findings" and {"Training overview", "Forecast", "Conclusion", "Sources"} <= set(titles)
    assert re.findall(r"^## (.+)$", markdown, re.M) == titles
    assert re.findall(r"<h2[^>]*>(.+?)</h2>", page) == titles
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.sections[0].title = "changed"  # type: ignore[misc]


def _held(value, seen: set[int]) -> list[type]:
    """The types of everything an object holds, walked through dataclasses, dicts, lists and tuples."""
    if id(value) in seen:
        return []
    seen.add(id(value))
    out = [type(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            out += _held(getattr(value, f.name), seen)
    elif isinstance(value, dict):
        for k, v in value.items():
            out += _held(k, seen) + _held(v, seen)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            out += _held(v, seen)
    return out


def test_the_analysis_is_plain_data(examined):
    _, got = examined
    held = set(_held(got.analysis, set()))
    assert not [t for t in held if issubclass(t, (pd.DataFrame, pd.Series, np.ndarray, bytes))], held
    assert not [t for t in held if t.__module__.startswith(("multiprocessing", "concurrent"))], held
    assert len(pickle.dumps(got.analysis)) < 200_000  # a summary's worth, not a frame's
    assert not {"frame", "plots_in_flight", "overview_png"} & {f.name for f in dataclasses.fields(Analysis)}


def test_the_report_is_drawn_from_the_frame_without_reading_the_run_again(examined, tmp_path):
    from PIL import Image

    run, _ = examined
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    for milestone in (1, 2):  # RadioDiff's sample-n.png, saved every save_and_sample_every steps
        Image.fromarray(np.full((8, 16), milestone * 90, dtype=np.uint8)).save(copy / f"sample-{milestone}.png")
    got = examine_run(copy, draw_plots=True)
    shutil.rmtree(copy)  # the run is gone: plots come from the kept frame, the grids were chosen in the same pass
    out = tmp_path / "report.md"
    render.write_report(got, out)
    text_ = out.read_text()
    images = sorted(p.name for p in (tmp_path / "report_files").glob("*.png"))
    assert len(images) >= 6 and all(f"](report_files/{name})" in text_ for name in images)
    assert "reconstruction_0.png" in images and "The run holds no reconstruction images" not in text_
    alone = tmp_path / "alone.md"
    render.write_report(got.analysis, alone)  # the analysis alone: text and tables, and it says what is missing
    assert "Not included: this report was written from the analysis alone" in alone.read_text()


def _rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


@pytest.mark.parametrize("hostile", ["a`b|c", "``x``", "# heading", "- item", "*e* _u_ [l](x) <b>t</b>", "1. one"])
def test_a_span_of_any_style_renders_as_its_text(hostile):
    for spans in (text(hostile), text(code(hostile)), text(Span(hostile, "bold")), text("say ", code(hostile), ".")):
        line = markdown_spans(spans)
        cell = _rendered(f"| h |\n|---|\n| {line} |\n").split("<td>", 1)[1].split("</td>", 1)[0]
        shown = re.sub(r"<[^>]+>", "", cell).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        assert shown.replace("&quot;", '"') == "".join(s.text for s in spans).strip(), (spans, line, cell)
        assert "<b>t</b>" not in html_spans(spans)


def test_figures_name_their_files_and_keep_the_bytes_out_of_the_view(examined):
    _, got = examined
    from vae_report.plots import make_plots

    plots = make_plots(got.frame, got.analysis.schedule)[:2]
    figures = figures_of(plots)
    view = report_view(got.analysis, figures)
    names = [image.name for image in view.images()]
    assert names == [f"{p.name}.png" for p in plots] and set(names) == set(figures.files)
    assert not [t for t in _held(view, set()) if issubclass(t, bytes)]
    page = render.html_page(view, figures.files)
    assert page.count('src="data:image/png;base64,') == 2


def test_a_refused_output_stops_the_drawing_processes(examined, tmp_path):
    run, _ = examined
    from vae_report.errors import OutputError

    got = examine_run(run, draw_plots=True)
    assert got.plots is not None
    with pytest.raises(OutputError, match="--interactive makes an HTML report"):
        render.write_report(got, tmp_path / "r.md", interactive=True)
    assert got.plots is None and not (tmp_path / "r.md").exists()
