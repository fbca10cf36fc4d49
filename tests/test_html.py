"""The HTML report is one self-contained file: a real browser loads every image and fetches nothing."""

import os
import shutil

import pytest
from typer.testing import CliRunner

from vae_report.cli import app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; the README's test command installs it")
        pytest.skip("chromium not installed (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    return playwright


def test_html_report_is_self_contained_in_a_real_browser(seed_run, tmp_path):
    folder, _ = seed_run
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["analyze", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "report_files").exists()  # nothing beside it
    sync_api = _browser()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        context = browser.new_context(java_script_enabled=True)
        page = context.new_page()
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(out.as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
        headings = page.evaluate("Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
        browser.close()
    assert len(images) == 9 and all(done and width > 0 for done, width, _ in images), images
    fetched = [url for url in requests if not url.startswith(("file:", "data:"))]
    assert fetched == []
    assert headings[0] == "Findings"  # the findings come first
    for section in ("Training overview", "Key training metrics analysis", "Configuration analysis",
                    "Progress assessment", "Recommendations", "Training statistics", "Training visualizations",
                    "Questions and answers", "Conclusion"):
        assert section in headings


def test_html_escapes_tag_names_and_messages(tmp_path):
    from writers import write_scalars

    run = tmp_path / "run"
    write_scalars(run, [(s, "<script>alert(1)</script>", float(s)) for s in range(30)]
                  + [(s, "rec_loss", 1.0 / (s + 1)) for s in range(30)])
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["analyze", str(run), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()  # no script of ours either
