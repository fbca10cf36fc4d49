"""A lightning_logs/ folder of version_N folders written by Lightning's own loggers: two loggers of one run
merge, a resume merges, attempts that start over are a sweep of attempts (numeric order, newest first)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from vae_report.cli import app
from vae_report.sweep import analyze_sweep, find_runs

loggers = pytest.importorskip("pytorch_lightning.loggers")
warnings.filterwarnings("ignore", category=DeprecationWarning)


def _log(logger, steps, seed):
    rng = np.random.default_rng(seed)
    for step in steps:
        logger.log_metrics({"train/rec_loss_step": float(0.5 / (1 + step / 50) + 0.01 * rng.random()),
                            "train/kl_loss_step": float(100 + step + rng.random())}, step=int(step))
    if hasattr(logger, "save"):
        logger.save()
    logger.finalize("success")


def _lightning_logs(root):
    steps = np.arange(9, 300, 10)
    # version_0 (TensorBoard) and version_1 (CSV): one run, two loggers, the same values
    _log(loggers.TensorBoardLogger(str(root), name="lightning_logs", version=0), steps, seed=1)
    _log(loggers.CSVLogger(str(root), name="lightning_logs", version=1), steps, seed=1)
    # version_2 starts over with other values; version_3 resumes it from step 200
    _log(loggers.TensorBoardLogger(str(root), name="lightning_logs", version=2), np.arange(9, 200, 10), seed=2)
    _log(loggers.TensorBoardLogger(str(root), name="lightning_logs", version=3), np.arange(209, 400, 10), seed=3)
    # version_10: a third attempt from the start (by name it would sort before version_2)
    _log(loggers.TensorBoardLogger(str(root), name="lightning_logs", version=10), np.arange(9, 120, 10), seed=4)
    return root / "lightning_logs"


def test_versions_are_grouped_into_attempts_newest_first(tmp_path):
    folder = _lightning_logs(tmp_path)
    runs = find_runs(folder)
    assert [r.name for r in runs] == ["version_10", "version_2+version_3", "version_0+version_1"]
    results = analyze_sweep(runs)
    assert [r.analysis.step for r in results] == [119, 399, 299]
    # the resumed attempt holds both versions' points; the two loggers' run is not doubled
    assert results[1].analysis.metrics["rec_loss"].count == 40
    assert results[2].analysis.metrics["rec_loss"].count == 30


def test_the_cli_reports_a_folder_of_attempts_as_a_sweep(tmp_path):
    folder = _lightning_logs(tmp_path)
    out = tmp_path / "report.md"
    result = CliRunner().invoke(app, ["analyze", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 runs" in result.output and out.read_text().count("## Run: version_") == 3


def test_one_run_logged_by_two_loggers_is_one_run(tmp_path):
    steps = np.arange(9, 300, 10)
    _log(loggers.TensorBoardLogger(str(tmp_path), name="lightning_logs", version=0), steps, seed=1)
    _log(loggers.CSVLogger(str(tmp_path), name="lightning_logs", version=1), steps, seed=1)
    assert find_runs(tmp_path / "lightning_logs") is None and find_runs(tmp_path) is None


def test_a_resume_from_last_ckpt_redoing_steps_with_other_values_is_one_run(tmp_path):
    # version_0 stops at step 299; the checkpoint was at 200: version_1 redoes 209..299, then goes on to 399
    _log(loggers.TensorBoardLogger(str(tmp_path), name="lightning_logs", version=0), np.arange(9, 300, 10), seed=1)
    _log(loggers.TensorBoardLogger(str(tmp_path), name="lightning_logs", version=1), np.arange(209, 400, 10), seed=2)
    assert find_runs(tmp_path / "lightning_logs") is None
    out, summary = tmp_path / "r.md", tmp_path / "s.json"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "lightning_logs"), "--out", str(out),
                                      "--json", str(summary)])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(summary.read_text())
    assert data["step"] == 399 and data["metrics"]["rec_loss"]["count"] == 40
    assert any("restarts at step 209" in note for note in data["merge_notes"])


def test_lightnings_hp_metric_placeholder_is_not_a_training_metric(tmp_path):
    from vae_report import load_run

    logger = loggers.TensorBoardLogger(str(tmp_path), name="lightning_logs", version=0)
    logger.log_hyperparams({"lr": 1e-4, "kl_weight": 1e-6})  # writes hp_metric = -1 (default_hp_metric)
    _log(logger, np.arange(9, 300, 10), seed=1)
    logs = load_run(tmp_path)
    assert "hp_metric" not in set(logs.frame["metric"].astype(str)) and "rec_loss" in set(logs.frame["metric"])
    assert any("hp_metric: Lightning's placeholder" in n for n in logs.notes)


def test_a_total_in_epochs_is_named_as_the_reason_the_total_in_steps_is_unknown(tmp_path):
    from vae_report import analyze_run

    # max_epochs 10 in hparams.yaml, the logs counted in steps with no word of how many an epoch holds
    logger = loggers.CSVLogger(str(tmp_path), name="lightning_logs", version=0)
    logger.log_hyperparams({"max_epochs": 10, "kl_weight": 1e-6})
    for step in range(9, 2_500, 10):
        logger.log_metrics({"train/rec_loss_step": 0.5 / (1 + step / 50), "train/kl_loss_step": 100.0 + step},
                           step=step)
    logger.save()
    logger.finalize("success")
    a = analyze_run(tmp_path / "lightning_logs" / "version_0")
    assert a.schedule.total_steps is None  # said, not guessed
    assert a.schedule.total_note == ("the config gives max_epochs: 10 (in epochs), and neither it nor the logs say "
                                     "how many steps an epoch holds")


@pytest.mark.parametrize("logger_class", ["CSVLogger", "TensorBoardLogger"])
def test_one_metric_under_two_names_and_the_epoch_on_every_row_replace_no_points(tmp_path, logger_class):
    # latent-diffusion's training_step logs discloss (self.log) and train/disc_loss (log_dict) at one step, and
    # Lightning adds the epoch to every row (G row, D row): one point under two names, a counter repeated
    from vae_report import load_run

    logger = getattr(loggers, logger_class)(str(tmp_path), name="lightning_logs", version=0)
    for step in range(9, 400, 10):
        disc = 0.0 if step < 200 else 1.0 + step / 1000
        logger.log_metrics({"train/rec_loss": 0.5 / (1 + step / 50), "aeloss_step": 2.0, "epoch": step // 100},
                           step=step)
        logger.log_metrics({"discloss_step": disc, "train/disc_loss": disc, "epoch": step // 100}, step=step)
    logger.save()
    logger.finalize("success")
    logs = load_run(tmp_path)
    disc = logs.frame[logs.frame["metric"] == "disc_loss"]
    assert disc["step"].tolist() == list(range(9, 400, 10))
    notes = [n for s in logs.sources for n in s.notes]
    assert not any("again later" in n for n in notes), notes
