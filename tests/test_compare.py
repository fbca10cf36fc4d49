"""Comparing runs: two real trainer runs with different disc_weight, and a TensorBoard run against a CSV run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

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
    assert "**" not in text.split("## Latest levels")[1].split("## Curves")[0].replace("**bold**", "")


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
