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
    headings_js = "Array.from(document.querySelectorAll('h2')).map(h => h.textContent)"
    images, fetched, headings = _load_in_browser(out, headings_js)
    assert len(images) == 9 and all(done and width > 0 for done, width, _ in images), images
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


def _load_in_browser(path, extra_js: str | None = None):
    """Open a file in headless Chromium: its images (loaded?, width, alt), the requests that left the file, and
    ``extra_js``'s value when given."""
    sync_api = _browser()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        page = browser.new_page()
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
        extra = page.evaluate(extra_js) if extra_js else None
        browser.close()
    fetched = [url for url in requests if not url.startswith(("file:", "data:"))]
    return (images, fetched, extra) if extra_js else (images, fetched)


def test_reconstructions_and_a_comparison_load_in_a_real_browser(tmp_path):
    import numpy as np

    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    for name, shade in (("a", 40), ("b", 120)):
        writer = torch_tb.SummaryWriter(str(tmp_path / name))
        for step in range(0, 401, 10):
            writer.add_scalar("train/rec_loss", 1.0 / (step + 1) + shade * 1e-4, step)
            writer.add_scalar("train/disc_factor", float(step >= 201), step)
            if step % 100 == 0:
                writer.add_image("train/reconstructions", np.full((3, 8, 16), shade, dtype=np.uint8), step)
        writer.close()
    report = tmp_path / "a.html"
    assert CliRunner().invoke(app, ["analyze", str(tmp_path / "a"), "--out", str(report)]).exit_code == 0
    images, fetched = _load_in_browser(report)
    reconstructions = [alt for _, _, alt in images if "reconstructions" in alt]
    assert len(reconstructions) == 3 and all(done and width > 0 for done, width, _ in images) and fetched == []
    compare = tmp_path / "compare.html"
    result = CliRunner().invoke(app, ["compare", f"A={tmp_path / 'a'}", f"B={tmp_path / 'b'}", "--out", str(compare)])
    assert result.exit_code == 0, result.output
    images, fetched = _load_in_browser(compare)
    assert images and all(done and width > 0 for done, width, _ in images) and fetched == []
