"""Comparing runs: two real trainer runs with different disc_weight, and a TensorBoard run against a CSV run."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from vae_report.compare import analyze_runs, config_differences, parse_run_argument
from vae_report.configs import flatten
from vae_report.render import write_comparison

ROOT = Path(__file__).resolve().parents[1]


def _micro(tmp_path: Path, name: str, disc_weight: float) -> Path:
    config = yaml.safe_load((ROOT / "trainer/configs/tiny.yaml").read_text())
    config["model"]["ddconfig"].update(resolution=16, ch=32, ch_mult=[1, 2], num_res_blocks=1)
    config["model"]["lossconfig"].update(disc_start=6, disc_num_layers=2, disc_weight=disc_weight)
    config["data"].update(batch_size=2, num_samples=16)
    config["trainer"].update(train_num_steps=12, log_freq=2, save_and_sample_every=6)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_two_trainer_runs_with_different_disc_weight(tmp_path):
    pytest.importorskip("torch")
    from trainer.main import run_training

    for name, weight in (("base", 0.5), ("strong_d", 5.0)):
        run_training(_micro(tmp_path, name, weight), tmp_path / name)
    runs = analyze_runs([f"A={tmp_path / 'base'}", f"B={tmp_path / 'strong_d'}"])
    assert [r.name for r in runs] == ["A", "B"] and all(r.analysis is not None for r in runs)
    out = tmp_path / "report" / "compare.md"
    write_comparison(runs, out)
    text = out.read_text()
    diff = re.search(r"\| `model\.lossconfig\.disc_weight` \| (.+) \|", text)
    assert diff is not None and diff.group(1) == "0.5 | 5"
    assert "`model.lossconfig.kl_weight`" not in text  # equal keys are not listed
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert "compare_total_loss.png" in " ".join(images)
    for src in images:
        assert (out.parent / src).is_file()
    html = tmp_path / "compare.html"
    write_comparison(runs, html)
    page = html.read_text()
    assert page.count('src="data:image/png;base64,') == len(images) and "<script" not in page


def test_a_tensorboard_run_against_a_csv_run(tmp_path):
    from writers import radiodiff_curves, radiodiff_tb_points, write_lightning_metrics_csv, write_scalars

    curves = radiodiff_curves(600, disc_start=301, total_steps=1000)
    write_scalars(tmp_path / "tb", radiodiff_tb_points(curves, every=10))
    write_lightning_metrics_csv(tmp_path / "csv" / "metrics.csv", curves, every=10)
    runs = analyze_runs([str(tmp_path / "tb"), str(tmp_path / "csv")], disc_start=301)
    assert [r.name for r in runs] == ["tb", "csv"]
    out = tmp_path / "c.md"
    write_comparison(runs, out)
    text = out.read_text()
    assert "| rec_loss |" in text and "compare_rec_loss.png" in text
    assert "No training config was found in any run" in text
    assert "**" not in text.split("## Current levels")[1].split("## Curves")[0].replace("**bold**", "")


def test_unreadable_run_is_listed_and_names_must_differ(tmp_path):
    (tmp_path / "empty").mkdir()
    runs = analyze_runs([str(tmp_path / "empty")])
    assert runs[0].analysis is None and "no metric logs" in runs[0].error
    from vae_report.errors import InputError

    with pytest.raises(InputError, match="named the same"):
        analyze_runs([f"x={tmp_path}", f"x={tmp_path / 'empty'}"])


def test_config_differences_use_dotted_paths():
    a = {"model": {"lossconfig": {"disc_weight": 0.5, "kl_weight": 1e-6}}, "data": {"batch_size": 2}}
    b = {"model": {"lossconfig": {"disc_weight": 5.0, "kl_weight": 1e-6}}}
    assert flatten(a)["model.lossconfig.kl_weight"] == 1e-6
    assert config_differences([a, b]) == [("data.batch_size", ["2", "—"]), ("model.lossconfig.disc_weight",
                                                                             ["0.5", "5"])]
    assert parse_run_argument("name=some/path") == ("name", Path("some/path"))


def _summary_run(folder: Path, rec: np.ndarray, every: int = 10, kl_weight: float = 1e-6, disc_weight: float = 0.5,
                 seed: int = 0, val_every: int | None = None) -> None:
    """A run logged by torch's SummaryWriter (rec, kl, nll and a total of RadioDiff's bookkeeping) with its config."""
    import yaml
    from torch.utils.tensorboard import SummaryWriter
    from writers import radiodiff_config

    rng = np.random.default_rng(seed)
    config = radiodiff_config(disc_start=10**6, kl_weight=kl_weight, total_steps=10_000)
    config["model"]["lossconfig"]["disc_weight"] = disc_weight
    config["model"]["ddconfig"]["resolution"] = [16, 16]
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    writer = SummaryWriter(str(folder))
    for i, step in enumerate(range(0, len(rec) * every, every)):
        r = float(rec[i] * (1 + 0.05 * rng.standard_normal()))
        kl = 500.0 + step * 0.01
        writer.add_scalar("train/rec_loss", r, step)
        writer.add_scalar("train/kl_loss", kl, step)
        writer.add_scalar("train/nll_loss", 256 * r, step)
        writer.add_scalar("train/total_loss", 256 * r + kl_weight * kl, step)
        if val_every and step % val_every == 0:
            writer.add_scalar("val/rec_loss", float(rec[i] * 1.1), step)
    writer.close()


def _falling(n: int, end: float, start: float = 0.5) -> np.ndarray:
    return end + (start - end) * np.exp(-np.arange(n) / (n / 8))


def test_compare_names_the_better_run_at_matched_steps_not_by_last_points(tmp_path):
    """B ran longer and its last points are lowest, but where both runs were (A's last step) A is clearly lower:
    A is better on rec_loss there, the config difference is named, and no single last point decides."""
    pytest.importorskip("torch")
    _summary_run(tmp_path / "a", _falling(200, 0.03), seed=1)
    b = _falling(300, 0.05, start=0.5)
    b[220:] = np.linspace(0.05, 0.01, 80)  # falls below A only after A stopped
    _summary_run(tmp_path / "b", b, disc_weight=5.0, seed=2)
    runs = analyze_runs([f"A={tmp_path / 'a'}", f"B={tmp_path / 'b'}"])
    out = tmp_path / "c.md"
    write_comparison(runs, out, "rec_loss")
    text = out.read_text()
    verdict = text.split("## Verdict")[1].split("##")[0]
    assert "A is better on rec_loss at step 1,990, the last step both runs reached" in verdict
    assert "model.lossconfig.disc_weight (A 0.5, B 5)" in verdict
    level = re.search(r"A (0\.0\d+) ± ([\d.e-]+) \(median of (\d+) points\); B (0\.0\d+)", verdict)
    assert level and float(level.group(1)) < float(level.group(4)) and int(level.group(3)) >= 5


def test_compare_says_no_clear_difference_within_noise(tmp_path):
    pytest.importorskip("torch")
    for name, seed in (("a", 3), ("b", 4)):
        _summary_run(tmp_path / name, _falling(200, 0.03), seed=seed)
    runs = analyze_runs([str(tmp_path / "a"), str(tmp_path / "b")])
    out = tmp_path / "c.md"
    write_comparison(runs, out)  # default target: rec_loss (no validation logged)
    verdict = out.read_text().split("## Verdict")[1].split("##")[0]
    assert verdict.strip().startswith("No clear difference on rec_loss at step 1,990")
    assert "within 2 × their combined noise" in verdict and "The configs found do not differ" in verdict
    levels = out.read_text().split("## Current levels")[1].split("## Curves")[0]
    assert "**" not in levels.replace("**bold**", "")  # nothing bolded when the runs are level


def test_compare_does_not_rank_totals_of_different_weights(tmp_path):
    """Totals summed with different kl_weight are different sums: not ranked, nor bolded, whatever their size."""
    pytest.importorskip("torch")
    _summary_run(tmp_path / "a", _falling(200, 0.03), seed=5)
    _summary_run(tmp_path / "b", _falling(200, 0.03), kl_weight=1.0, seed=6)
    runs = analyze_runs([str(tmp_path / "a"), str(tmp_path / "b")])
    out = tmp_path / "c.html"
    write_comparison(runs, out, "total_loss")
    page = out.read_text()
    assert "Not ranked: totals of different bookkeeping (kl_weight 1e-06 vs 1)" in page
    levels = page.split("<h2>Current levels</h2>")[1].split("<h2>Curves</h2>")[0]
    row = re.search(r"<td>total_loss</td>(.*?)</tr>", levels)
    assert row and "best" not in row.group(1)
    # eval13 a2_hydra_multirun: the sweep's ranking said no run was 'apart from another on a loss beyond the levels'
    # noise (... total_loss ...)' of totals 26% apart: not ranked is not level
    from vae_report.cli import app

    sweep = tmp_path / "sweep"
    sweep.mkdir()
    for name in ("a", "b"):
        (tmp_path / name).rename(sweep / name)
    result = CliRunner().invoke(app, ["analyze", str(sweep), "--out", str(tmp_path / "s.md"), "--quiet"])
    assert result.exit_code == 0, result.output
    ranking = (tmp_path / "s.md").read_text()
    assert "total_loss: not ranked, totals of different bookkeeping (kl_weight 1e-06 vs 1)" in ranking
    assert not re.search(r"beyond the levels' noise \(losses lower is better:[^)]*total_loss", ranking)


def test_compare_on_the_validation_target_from_the_command_line(tmp_path):
    pytest.importorskip("torch")
    from typer.testing import CliRunner

    from vae_report.cli import app

    _summary_run(tmp_path / "a", _falling(200, 0.05), seed=7, val_every=50)
    _summary_run(tmp_path / "b", _falling(200, 0.02), seed=8, val_every=50)
    out = tmp_path / "c.md"
    result = CliRunner().invoke(app, ["compare", f"A={tmp_path / 'a'}", f"B={tmp_path / 'b'}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    verdict = out.read_text().split("## Verdict")[1].split("##")[0]
    assert "B is better on val/rec_loss at step 1,950" in verdict  # the default: validation, where logged
    result = CliRunner().invoke(app, ["compare", f"A={tmp_path / 'a'}", f"B={tmp_path / 'b'}", "--out", str(out),
                                      "--target", "psnr"])
    assert result.exit_code == 0 and "Not compared on psnr: A and B do not log it" in out.read_text()


def test_the_overlay_title_names_dashed_lines_only_where_a_run_has_a_disc_start(tmp_path, monkeypatch):
    """Two runs of a model without a discriminator: no dashed line is drawn, so no title says "dashed: each run's
    disc_start"; with one, it is named."""
    import sys

    import vae_report.compare as compare

    sys.path.insert(0, str(ROOT / "tests"))
    from writers import write_scalars

    for name in ("a", "b"):
        write_scalars(tmp_path / name, [(s, k, 0.1 + 1.0 / (s + 1)) for s in range(0, 400, 2)
                                        for k in ("rec_loss", "kl_loss", "total_loss")])
    titles = []
    real_png = compare.figure_png

    def capture(fig, **kwargs):
        titles.append(fig.axes[0].get_title())
        return real_png(fig, **kwargs)

    monkeypatch.setattr(compare, "figure_png", capture)
    runs = analyze_runs([f"A={tmp_path / 'a'}", f"B={tmp_path / 'b'}"], jobs=1)
    assert all(r.analysis.schedule.disc_start is None for r in runs)
    compare.overlay_plots([r.analysis for r in runs], [r.frame for r in runs], ["A", "B"])
    assert titles and not [t for t in titles if "dashed" in t], titles


def test_compare_does_not_rank_runs_in_different_phases_or_at_different_steps(tmp_path):
    """At the last shared step A's discriminator is on and B's is not: a level with the GAN term against one
    without is not ranked, what B raises past the shared steps is named, and the current levels of runs standing
    9,000 and 3,000 steps in are not bolded against each other."""
    from writers import write_radiodiff_run

    write_radiodiff_run(tmp_path / "a", last_step=3_000, disc_start=2_001, total_steps=10_000)
    b = tmp_path / "b"
    curves = write_radiodiff_run(b, last_step=9_000, disc_start=5_001, total_steps=10_000)
    del curves
    runs = analyze_runs([f"A={tmp_path / 'a'}", f"B={b}"])
    out = tmp_path / "c.md"
    write_comparison(runs, out, "rec_loss")
    text = out.read_text()
    verdict = text.split("## Verdict")[1].split("##")[0]
    assert "Not ranked: at step 3,000 A is in its adversarial phase (from step 2,001) and B is before its " \
           "discriminator (from step 5,001)" in verdict
    levels = text.split("## Current levels")[1].split("## Curves")[0]
    assert "the runs stand at different steps (A 3,000, B 9,000), so none is ranked here" in levels
    assert "**" not in levels.replace("**bold**", "")


def test_a_per_pixel_loss_is_ranked_across_kinds_of_source_and_a_total_is_not(tmp_path):
    """eval13 b4_compare_csv_tb_differ: a CSV run reconstructing 15% worse than a TensorBoard run of the same
    config (16 noises apart) was 'Not ranked: ... different kinds of source; RadioDiff's TensorBoard total is ...':
    a reason about totals, for rec_loss, which is the same quantity whoever wrote it down."""
    from writers import radiodiff_curves, radiodiff_tb_points, write_lightning_metrics_csv, write_scalars

    curves = radiodiff_curves(600, disc_start=301, total_steps=1000)
    write_scalars(tmp_path / "tb", radiodiff_tb_points(curves, every=10))
    curves.values["rec_loss"] = curves.values["rec_loss"] * 1.15
    write_lightning_metrics_csv(tmp_path / "csv" / "metrics.csv", curves, every=10)
    runs = analyze_runs([str(tmp_path / "tb"), str(tmp_path / "csv")], disc_start=301)
    for target, ranked in (("rec_loss", True), ("total_loss", False)):
        out = tmp_path / f"{target}.md"
        write_comparison(runs, out, target)
        verdict = out.read_text().split("## Verdict")[1].split("##")[0]
        assert (f"tb is better on {target}" in verdict) == ranked, verdict
        assert ("different kinds of source" in verdict) == (not ranked), verdict


def test_a_run_nan_at_the_compared_step_is_not_ranked_by_its_finite_points_before(tmp_path):
    """c's rec_loss is NaN from step 1,500 to its end: the median of its finite points before ranked it first
    ("c is better on rec_loss"), while its Current levels row said NaN."""
    pytest.importorskip("torch")
    _summary_run(tmp_path / "a", _falling(200, 0.03), seed=1)
    _summary_run(tmp_path / "b", _falling(200, 0.03), seed=2)
    c = _falling(200, 0.01)
    c[150:] = np.nan
    _summary_run(tmp_path / "c", c, seed=3)
    runs = analyze_runs([f"a={tmp_path / 'a'}", f"b={tmp_path / 'b'}", f"c={tmp_path / 'c'}"])
    out = tmp_path / "c.md"
    write_comparison(runs, out, "rec_loss")
    verdict = out.read_text().split("## Verdict")[1].split("##")[0]
    assert "better on" not in verdict
    assert "c NaN/Inf since step 1,500" in verdict
    assert "Not ranked: c has no level there (rec_loss NaN/Inf up to that step)" in verdict


def test_configs_of_two_layouts_are_compared_by_the_schedules_meaning(tmp_path):
    """A RadioDiff config (model.lossconfig.disc_start) against an LDM one (model.params.lossconfig.params): the
    same settings under other keys are not differences; a setting that differs is named once, with each run's value
    and where it came from; no key path of either layout is diffed against the other."""
    from writers import radiodiff_curves, radiodiff_tb_points, write_radiodiff_run, write_scalars

    write_radiodiff_run(tmp_path / "radiodiff", last_step=2_000, tb_every=20, disc_start=1_001, total_steps=4_000)
    write_scalars(tmp_path / "ldm", radiodiff_tb_points(radiodiff_curves(2_000, disc_start=1_001), 20))
    ldm = {"model": {"base_learning_rate": 5e-6, "target": "ldm.models.autoencoder.AutoencoderKL",
                     "params": {"embed_dim": 3, "lossconfig": {
                         "target": "ldm.modules.losses.LPIPSWithDiscriminator",
                         "params": {"disc_start": 1_001, "kl_weight": 1e-6, "disc_weight": 0.5}}}},
           "lightning": {"trainer": {"max_steps": 6_000}}}
    (tmp_path / "ldm" / "config.yaml").write_text(yaml.safe_dump(ldm))
    runs = analyze_runs([str(tmp_path / "radiodiff"), str(tmp_path / "ldm")])
    out = tmp_path / "c.md"
    write_comparison(runs, out)
    text = out.read_text()
    said = text.split("## Config differences")[1].split("## Current levels")[0]
    assert "laid out differently (radiodiff radiodiff, ldm ldm)" in said
    assert "| `total_steps` | 4,000 from first_radio.yaml | 6,000 from config.yaml |" in said
    for same in ("kl_weight", "disc_weight", "disc_start"):  # both set 1e-06, 0.5 and 1,001: not a difference
        assert f"`{same}`" not in said and f" {same} (" not in text.split("## Verdict")[1].split("##")[0]
    assert "model.lossconfig" not in text and "model.params" not in text and "ddconfig" not in text
