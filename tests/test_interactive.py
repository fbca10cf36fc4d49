"""--interactive charts: drawn by the browser from the page alone, small whatever the run's length."""

from __future__ import annotations

import shutil

import pytest
from writers import radiodiff_curves, radiodiff_tb_points, write_scalars

from vae_report import read_run
from vae_report.interactive import POINTS, block
from vae_report.schedule import Schedule

pytest.importorskip("plotly")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    # more points per series than the charts keep, so the page is as large as a 150k-step run's would be
    folder = tmp_path_factory.mktemp("long")
    curves = radiodiff_curves(4 * POINTS, disc_start=2001, total_steps=8000)
    write_scalars(folder, radiodiff_tb_points(curves))
    return folder


def test_charts_are_capped_and_the_page_stays_small(long_run):
    snippet = block(read_run(long_run), Schedule(disc_start=2001))
    assert snippet.count('class="vae-chart"') == 2 * 9  # a chart per static figure, a div and a spec each
    assert len(snippet.encode()) < 2_500_000  # plotly.js gzipped + capped data: far under 5 MB


def test_charts_render_offline_in_a_real_browser(long_run, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    page_file = tmp_path / "charts.html"
    snippet = block(read_run(long_run), Schedule(disc_start=2001))
    page_file.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{snippet}</body></html>")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        page = browser.new_page()
        requests, errors = [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri())
        page.wait_for_function("document.querySelectorAll('div.vae-chart .main-svg').length >= 9", timeout=60_000)
        traces = [page.evaluate(f"document.getElementById('vae-chart-{i}').data.length") for i in (2, 4)]
        browser.close()
    assert errors == [] and traces == [1, 4]  # rec_loss's figure; the overview's four panels
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []


def test_charts_mark_what_the_static_plots_mark_from_the_same_marks(tmp_path):
    """The zoomable charts draw the plots' own marks (one object for both): the lr 0 line and the phases in the
    legend, each series' first NaN/Inf, the warning and error findings on their metrics; the report's key is
    said above the charts too."""
    import json

    import numpy as np
    from test_plots import _diverging_run, _lr_to_zero_run

    from vae_report.analysis import examine_run
    from vae_report.figures import draw
    from vae_report.interactive import figures
    from vae_report.marks import run_marks
    from vae_report.rules import Metrics

    run = examine_run(_lr_to_zero_run(tmp_path / "zero", 2_000))
    marks = run_marks(Metrics(run.frame), run.analysis.schedule)
    charts = {c.title: json.loads(c.spec) for c in figures(run.frame, run.analysis.schedule, marks)}
    rates = next(spec for title, spec in charts.items() if title.startswith("Learning rate"))
    names = {s.get("name") for s in rates["layout"]["shapes"]}
    assert "lr 0 from 2,000" in names and "disc_start 1,000" in names
    run = examine_run(_diverging_run(tmp_path / "diverge"), disc_start=5_001)
    shown = draw(run, interactive=True)
    assert "x1,000 at step 6,400" in shown.key and "Triangle" in shown.key
    import re

    specs = [json.loads(s.replace("<\\/", "</")) for s in
             re.findall(r'<script type="application/json" class="vae-chart"[^>]*>(.*?)</script>',
                        "".join(shown.charts.values()), re.S)]
    spec = next(s for s in specs if s["layout"]["title"]["text"] == "rec_loss")
    shapes = {s.get("name") for s in spec["layout"]["shapes"]}
    assert {"first NaN/Inf in rec_loss", "lr 5e-06 to 0.005 at 6,400", "error finding (rule id beside it)"} <= shapes
    assert any("non-finite" in a["text"] for a in spec["layout"]["annotations"])
    assert np.isfinite([s["x0"] for s in spec["layout"]["shapes"]]).all()
