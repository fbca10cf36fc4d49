"""The CLI as CI and weekly reports use it: the gate says why it failed even with --quiet, a compact summary
for GitHub's step summary, --interactive HTML, parallel sweeps equal to serial, compare, reconstructions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_verdicts import _rebuild_sums, config, write_run
from typer.testing import CliRunner
from writers import radiodiff_curves, write_radiodiff_run

from vae_report.cli import app
from vae_report.sweep import analyze_sweep, find_runs, sweep_summary

runner = CliRunner()


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    folder = tmp_path_factory.mktemp("failing")
    curves = radiodiff_curves(4000, disc_start=50_001, total_steps=150_000)
    late = curves.steps >= 3800
    curves.values["rec_loss"][late] *= np.exp(np.linspace(0, np.log(100), int(late.sum())))
    _rebuild_sums(curves)
    return write_run(folder, curves, 10, config(disc_start=50_001, total=150_000))


def test_a_failing_gate_says_why_even_when_quiet(failing, tmp_path):
    result = runner.invoke(app, ["analyze", str(failing), "--out", str(tmp_path / "r.md"), "--fail-on", "error",
                                 "--quiet"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines and all(line.startswith("vae-report: error: ") for line in lines)
    assert "loss-now at step 3,8" in lines[0]


def test_github_summary_is_compact_and_has_no_image_links(failing, tmp_path, monkeypatch):
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step's summary\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = runner.invoke(app, ["analyze", str(failing), "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 0, result.output
    text = summary.read_text()
    assert text.startswith("earlier step's summary\n")  # appended, as GitHub expects
    assert "— error" in text and "`loss-now`" in text and "| rec_loss |" in text and "![" not in text


def test_interactive_html(failing, tmp_path):
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["analyze", str(failing), "--out", str(out), "--interactive"])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert 'class="vae-chart"' in page and out.stat().st_size < 5_000_000
    plain = tmp_path / "p.html"
    assert runner.invoke(app, ["analyze", str(failing), "--out", str(plain)]).exit_code == 0
    assert "<script" not in plain.read_text().lower()  # the default HTML stays script-free
    md = runner.invoke(app, ["analyze", str(failing), "--out", str(tmp_path / "r.md"), "--interactive"])
    assert md.exit_code == 2 and "HTML" in md.output


def test_a_parallel_sweep_equals_a_serial_one(tmp_path):
    for name, last in (("a", 2_000), ("b", 3_000), ("c", 1_500)):
        write_radiodiff_run(tmp_path / name, last_step=last, disc_start=1_001, total_steps=5_000, tb_every=20)
    runs = find_runs(tmp_path)

    def summary(jobs):
        data = sweep_summary(analyze_sweep(runs, jobs=jobs, report_clock=2e9))  # one clock, as generated_at
        for run in data["runs"]:
            run.pop("generated_at")
        return json.dumps(data, sort_keys=True, default=str)

    assert summary(1) == summary(2)


def test_compare_two_runs_from_the_cli(tmp_path):
    for name, last in (("a", 2_000), ("b", 3_000)):
        write_radiodiff_run(tmp_path / name, last_step=last, disc_start=1_001, total_steps=5_000, tb_every=20)
    out = tmp_path / "compare.html"
    result = runner.invoke(app, ["compare", f"base={tmp_path / 'a'}", f"longer={tmp_path / 'b'}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "base" in page and "longer" in page and page.count("data:image/png;base64,") >= 4
    one = runner.invoke(app, ["compare", str(tmp_path / "a"), "--out", str(out)])
    assert one.exit_code == 2


def test_reconstructions_from_tensorboard_images_and_radiodiff_pngs(tmp_path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    from PIL import Image

    tb_run = tmp_path / "tb"
    writer = torch_tb.SummaryWriter(str(tb_run))
    for step in range(0, 601, 10):
        writer.add_scalar("train/rec_loss", 1.0 / (step + 1), step)
        writer.add_scalar("train/disc_factor", float(step >= 301), step)
        if step % 100 == 0:
            writer.add_image("train/reconstructions", np.full((3, 8, 16), step // 3, dtype=np.uint8), step)
    writer.close()
    out = tmp_path / "tb.md"
    assert runner.invoke(app, ["analyze", str(tb_run), "--out", str(out), "--disc-start", "301"]).exit_code == 0
    text = out.read_text()
    assert "train/reconstructions at step 300: last before the discriminator started" in text
    assert (tmp_path / "tb_files" / "reconstruction_0.png").is_file()
    png_run = tmp_path / "radiodiff"
    write_radiodiff_run(png_run, last_step=12_000, disc_start=10_001, total_steps=20_000, tb_every=100)
    for milestone in (1, 2, 3):  # save_and_sample_every 5,000: sample-n.png is step n x 5,000
        Image.fromarray(np.full((8, 16), milestone * 60, dtype=np.uint8)).save(png_run / f"sample-{milestone}.png")
    html = tmp_path / "radiodiff.html"
    assert runner.invoke(app, ["analyze", str(png_run), "--out", str(html)]).exit_code == 0
    page = html.read_text()
    assert "sample at step 10,000: last before the discriminator started" in page
    assert "sample at step 15,000: latest" in page
    nothing = tmp_path / "nothing"
    write_radiodiff_run(nothing, last_step=2_000, disc_start=1_001, total_steps=5_000, tb_every=20)
    runner.invoke(app, ["analyze", str(nothing), "--out", str(tmp_path / "n.md")])
    assert "The run holds no reconstruction images" in (tmp_path / "n.md").read_text()


def test_the_sweep_report_lays_the_runs_over_each_other(tmp_path):
    write_radiodiff_run(tmp_path / "sweep" / "early", last_step=2_000, disc_start=1_001, total_steps=5_000,
                        tb_every=20)
    write_radiodiff_run(tmp_path / "sweep" / "late", last_step=2_000, disc_start=1_501, total_steps=5_000,
                        tb_every=20)
    out = tmp_path / "sweep.md"
    result = runner.invoke(app, ["analyze", str(tmp_path / "sweep"), "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "## Runs compared" in text and "| `model.lossconfig.disc_start` | 1,001 | 1,501 |" in text
    # the runs stand at one step: which is lowest now is said where one is ahead beyond noise, else that none is
    compared = text.split("## Runs compared")[1].split("![")[0]
    assert "Lowest first, lower is better" in compared or "No run is apart from another" in compared
    assert (tmp_path / "sweep_files" / "compare_rec_loss.png").is_file()


def test_a_sweep_ranks_runs_level_with_each_other_together_below_the_rest(tmp_path):
    """Two runs level with each other and both well below a third (the BN sweep of the review): named together,
    then the third; both in bold in the levels; a run diverged to NaN is named as not ranked, with its action.
    Was: "No run is ahead of the others", since only a single overall winner was looked for."""
    from writers import write_scalars

    rng = np.random.default_rng(3)
    steps = np.arange(0, 4_000, 10)
    for name, level in (("bn_a", 0.050), ("bn_b", 0.0502), ("plain", 0.080), ("diverged", 0.05)):
        rec = level + 0.2 * np.exp(-steps / 600) + 0.001 * rng.standard_normal(len(steps))
        kl = 900 + 0.05 * steps + 5 * rng.standard_normal(len(steps))
        if name == "diverged":
            rec[steps >= 3_000] = np.nan
        points = [(int(s), tag, float(v)) for s, r, k in zip(steps, rec, kl, strict=True)
                  for tag, v in (("rec_loss", r), ("kl_loss", k))]
        write_scalars(tmp_path / "sweep" / name, points)
    out = tmp_path / "sweep.md"
    result = runner.invoke(app, ["analyze", str(tmp_path / "sweep"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    compared = out.read_text().split("## Runs compared")[1].split("![")[0]
    line = next(ln for ln in compared.splitlines() if ln.startswith("- rec_loss:"))
    lead, rest = line.split("; then ")
    assert "bn_a" in lead and "bn_b" in lead and "plain" in rest and "plain" not in lead
    assert "diverged: not finite now, not ranked." in compared
    diverged = out.read_text().split("## Run: diverged")[1]
    assert "Fix first: NaN or Inf" in diverged and "resume from the last checkpoint" in diverged


def test_a_sweep_run_at_another_step_is_set_aside_not_a_stop_to_the_ranking(tmp_path):
    """Three runs at step 4,000 and one started later (at 1,500): the three are ranked, the late one named as
    standing elsewhere. Was: "The runs stand at different steps ...: their current levels are not ranked"."""
    from writers import write_scalars

    rng = np.random.default_rng(5)
    for name, level, last in (("a", 0.050, 4_000), ("b", 0.0502, 4_000), ("c", 0.080, 4_000), ("late", 0.05, 1_500)):
        steps = np.arange(0, last, 10)
        rec = level + 0.2 * np.exp(-steps / 600) + 0.001 * rng.standard_normal(len(steps))
        write_scalars(tmp_path / "sweep" / name, [(int(s), "rec_loss", float(r)) for s, r in zip(steps, rec,
                                                                                                 strict=True)])
    out = tmp_path / "sweep.md"
    result = runner.invoke(app, ["analyze", str(tmp_path / "sweep"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    compared = out.read_text().split("## Runs compared")[1].split("![")[0]
    line = next(ln for ln in compared.splitlines() if ln.startswith("- rec_loss:"))
    lead, rest = line.split("; then ")
    assert "a (" in lead and "b (" in lead and "c (" in rest and "late" not in line
    assert "late (step 1,490): stands at another step than the runs ranked (step 3,990), not ranked against them." \
        in compared
