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
    assert snippet.count('class="vae-chart"') == 2 * 7  # seven groups logged, a div and a spec each
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
        page.wait_for_function("document.querySelectorAll('div.vae-chart .main-svg').length >= 7", timeout=60_000)
        traces = page.evaluate("document.getElementById('vae-chart-1').data.length")
        browser.close()
    assert errors == [] and traces == 1  # rec_loss (no val/rec_loss in this run)
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []
