"""Logs and configs as the field publishes them (issue 17, items 7-10), each written by its real writer:
configs of other layouts given with --config, other trainers' names and sign conventions, nested Lightning
versions and sweeps of event folders (SummaryWriter, CSVLogger), W&B run folders (the wandb package)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import yaml
from writers import radiodiff_curves, radiodiff_tb_points, write_scalars

from vae_report import analyze_run, examine_run


def _tb_run(folder, last_step=3_000, disc_start=1_001):
    curves = radiodiff_curves(last_step, disc_start=disc_start, total_steps=6_000, every=10)
    write_scalars(folder, radiodiff_tb_points(curves))
    return curves


def test_config_of_another_layout_given_is_read_for_the_keys_it_names(tmp_path):
    run = tmp_path / "run"
    _tb_run(run)
    other = tmp_path / "train_args.yaml"  # a trainer's own nesting, no loss setting: read for what it names
    other.write_text(yaml.safe_dump({"optim": {"learning_rate": 5e-6}, "schedule": {"max_steps": 6_000,
                                                                                   "warmup": -1}}))
    analysis = analyze_run(run, config=other)
    assert analysis.schedule.total_steps == 6_000 and analysis.schedule.layout == "flat"
    assert "max_steps" in analysis.schedule.origins["total_steps"]
    hf = tmp_path / "training_args.json"  # Hugging Face's sentinel max_steps -1 (train by epochs) is no schedule
    hf.write_text(json.dumps({"max_steps": -1, "learning_rate": 4.5e-6, "kl_weight": 1e-6}))
    analysis = analyze_run(run, config=hf)
    assert analysis.schedule.kl_weight == 1e-6 and analysis.schedule.total_steps is None
    nothing = tmp_path / "unrelated.yaml"
    nothing.write_text(yaml.safe_dump({"dataset": {"root": "/data", "size": 256}}))
    analysis = analyze_run(run, config=nothing)
    assert any("names none of the settings" in n for n in analysis.merge_notes)
    out = tmp_path / "r.md"
    result = subprocess.run([sys.executable, "-m", "vae_report.cli", "analyze", str(run), "--config", str(nothing),
                             "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "--config" not in result.stderr and "with --config" not in out.read_text().replace(
        "found in the run folder or given with `--config`", "")


def test_broken_config_given_is_refused_without_asking_for_config(tmp_path):
    run = tmp_path / "run"
    _tb_run(run)
    broken = tmp_path / "cfg.yaml"
    broken.write_text("model: [unclosed\n")
    result = subprocess.run([sys.executable, "-m", "vae_report.cli", "analyze", str(run), "--config", str(broken),
                             "--out", str(tmp_path / "r.md")], capture_output=True, text=True)
    assert result.returncode == 2 and "cfg.yaml" in result.stderr and "--config" not in result.stderr
    assert np.all([line.strip() for line in result.stderr.strip().splitlines()][:1])


def _vae_loop(path, steps=200, kld_sign=-1.0, w=0.5, names=None, extra=None, seed=0):
    """A plain PyTorch-style loop's log via json.dumps: MSE falling, KL rising, loss = MSE + w x KL, and
    ``KLD`` logged as the code computes it (sign ``kld_sign``: -1 is 0.5 x sum(1 + logvar - mu^2 - e^logvar))."""
    rng = np.random.default_rng(seed)
    names = names or {"rec": "MSE", "kl": "KLD", "total": "loss", "val": "Val Loss"}
    with path.open("w") as handle:
        for step in range(steps):
            mse = 0.5 * np.exp(-step / 60) + 0.05 + 0.002 * rng.standard_normal()
            kl = 20 + 10 * (1 - np.exp(-step / 50)) + 0.3 * rng.standard_normal()
            record = {"step": step, names["rec"]: mse, names["kl"]: kld_sign * kl, names["total"]: mse + w * kl}
            if step % 20 == 19:
                record[names["val"]] = 1.05 * (mse + w * kl)
            record.update({k: f(step) for k, f in (extra or {}).items()})
            handle.write(json.dumps(record) + "\n")


def _rules(analysis, rule):
    return [f for f in analysis.findings if f.rule == rule and not f.skipped]


def test_kld_logged_with_a_minus_sign_is_a_convention_read_from_the_bookkeeping(tmp_path):
    _vae_loop(tmp_path / "log.jsonl")
    examined = examine_run(tmp_path)
    analysis, frame = examined.analysis, examined.frame
    kl = frame.loc[frame["metric"] == "kl_loss", "value"].to_numpy()
    assert len(kl) == 200 and (kl > 0).all()  # read as the KL itself
    assert not _rules(analysis, "kl-negative")
    assert any("minus sign" in n and "convention" in n for n in analysis.merge_notes)
    assert {"rec_loss", "total_loss", "val/total_loss"} <= set(frame["metric"])  # MSE, loss, Val Loss
    other = tmp_path / "unexplained"  # a negative KL the total does not show is still the error
    other.mkdir()
    _vae_loop(other / "log.jsonl", names={"rec": "MSE", "kl": "KLD", "total": "loss", "val": "val_loss"}, w=0.0)
    assert _rules(analyze_run(other), "kl-negative")[0].severity == "error"


def test_other_trainers_names_and_validation_names(tmp_path):
    for name, (rec, kl, total, val) in {
            "a": ("recons_loss", "kld_loss", "loss", "avg_val_loss"),
            "b": ("train_reconstruction_loss", "kl", "train_loss", "val_loss")}.items():
        folder = tmp_path / name
        folder.mkdir()
        _vae_loop(folder / "log.jsonl", kld_sign=1.0, names={"rec": rec, "kl": kl, "total": total, "val": val})
        metrics = set(examine_run(folder).frame["metric"])
        assert {"rec_loss", "kl_loss", "total_loss", "val/total_loss"} <= metrics, (name, metrics)
    vq = tmp_path / "vq"
    vq.mkdir()
    with (vq / "log.jsonl").open("w") as handle:
        for step in range(100):
            handle.write(json.dumps({"iteration": step, "recon_loss": 1 / (step + 1), "quantized_loss": 0.1,
                                     "commitment_loss": 0.02 + step / 1e4, "loss": 1.0}) + "\n")
    metrics = set(examine_run(vq).frame["metric"])
    # one adopted as the VQ term, the other kept under its own name
    assert "quant_loss" in metrics and len({"quantized_loss", "commitment_loss"} & metrics) == 1


def test_a_loss_constant_for_the_whole_run_is_a_warning_that_it_never_learned(tmp_path):
    # a discriminator whose BCE (un-halved) sits at 2 ln 2 to four decimals from start to end
    _vae_loop(tmp_path / "log.jsonl", kld_sign=1.0, extra={"D_loss": lambda s: round(2 * np.log(2), 4)})
    analysis = analyze_run(tmp_path)
    (finding,) = _rules(analysis, "loss-constant")
    assert finding.metric == "disc_loss" and finding.severity == "warning" and finding.step == 0
    assert "2 ln 2" in finding.message
    moving = tmp_path / "moving"
    moving.mkdir()
    _vae_loop(moving / "log.jsonl", kld_sign=1.0, extra={"D_loss": lambda s: 1.3863 + 0.01 * np.sin(s)})
    assert not _rules(analyze_run(moving), "loss-constant")


def _summary_writer(folder, seed, steps=range(0, 300, 10), offset=0.0, tag_prefix=""):
    """torch's SummaryWriter, as a plain training script uses it."""
    from torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(seed)
    writer = SummaryWriter(str(folder))
    for step in steps:
        writer.add_scalar(f"{tag_prefix}rec_loss", 0.5 * np.exp(-step / 100) + offset + 0.01 * rng.random(), step)
        writer.add_scalar(f"{tag_prefix}kl_loss", 50 + step / 10 + rng.random(), step)
    writer.close()


def test_sibling_event_folders_each_from_step_0_are_a_sweep_not_restarts(tmp_path):
    from vae_report.sweep import find_runs

    sweep = tmp_path / "runs"
    _summary_writer(sweep / "BN_0.01", seed=1)
    _summary_writer(sweep / "no_BN_0.05", seed=2, offset=0.1)
    assert [r.name for r in find_runs(sweep)] == ["BN_0.01", "no_BN_0.05"]
    from typer.testing import CliRunner

    from vae_report.cli import app

    out = tmp_path / "r.md"
    result = CliRunner().invoke(app, ["analyze", str(sweep), "--out", str(out), "--jobs", "1"])
    assert result.exit_code in (0, 1), result.output
    text = out.read_text()
    assert "## Run: BN_0.01" in text and "## Run: no_BN_0.05" in text and "restart" not in text.lower()
    # neither run has a config: said as such, never "do not differ (or none was found)"
    assert "No training config was found in any run" in text and "or none was found" not in text
    # parts of one run stay one run: Keras' train/ and validation/, a resume in a later folder, two copies
    for name, parts in {"keras": [("train", 0, 1), ("validation", 0, 2)],
                        "resumed": [("first", 0, 3), ("second", 150, 4)],
                        "copies": [("tb_a", 0, 5), ("tb_b", 0, 5)]}.items():
        for part, start, seed in parts:
            _summary_writer(tmp_path / name / part, seed=seed, steps=range(start, 300, 10))
        assert find_runs(tmp_path / name) is None, name


def test_nested_lightning_versions_from_the_repository_root_are_attempts(tmp_path):
    import pytest

    loggers = pytest.importorskip("pytorch_lightning.loggers")
    from vae_report.sweep import find_runs

    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "train.py").write_text("# the trainer\n")
    for version, (logger_class, seed) in enumerate([(loggers.CSVLogger, 1), (loggers.TensorBoardLogger, 2)]):
        logger = logger_class(str(repo / "logs"), name="vae", version=version)
        rng = np.random.default_rng(seed)
        for step in range(9, 300, 10):  # each fit() starts over from step 0
            logger.log_metrics({"train/rec_loss_step": float(0.5 / (1 + step / 50) + 0.01 * rng.random()),
                                "train/kl_loss_step": float(100 + step + rng.random())}, step=step)
        if hasattr(logger, "save"):
            logger.save()
        logger.finalize("success")
    runs = find_runs(repo)
    assert [r.name for r in runs] == ["version_1", "version_0"]  # newest first, as one level down
    assert all(r.include and r.include[0].parent == repo / "logs" / "vae" for r in runs)


def test_wandb_run_uses_output_log_and_summary_when_the_history_is_short_or_absent(tmp_path, monkeypatch):
    import shutil

    import pytest

    wandb = pytest.importorskip("wandb")
    from vae_report import load_run

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.chdir(tmp_path)
    run = wandb.init(project="vae", dir=str(tmp_path), config={"kl_weight": 1e-6})
    for step in range(0, 200, 10):  # the history holds the first half; the console shows every step
        if step < 100:
            run.log({"rec_loss": 1 / (step + 1), "kl_loss": 10.0 + step}, step=step)
        print(f"step {step}, rec_loss: {1 / (step + 1):.5f}, kl_loss: {10.0 + step:.3f}", flush=True)
    run.finish()
    (folder,) = (tmp_path / "wandb").glob("offline-run-*")
    files = folder / "files"
    assert (files / "output.log").exists()
    (files / "wandb-summary.json").write_text(json.dumps(  # as a synced run's summary: last values at _step
        {"rec_loss": 1 / 250, "kl_loss": 259.0, "_step": 249, "_runtime": 12.5, "_timestamp": 1.7e9,
         "samples": {"_type": "image-file", "path": "media/x.png"}, "_wandb": {"runtime": 12}}))
    logs = load_run(folder)
    steps = logs.frame.loc[logs.frame["metric"] == "kl_loss", "step"].to_numpy()
    assert steps.max() == 249 and set(range(0, 200, 10)) <= set(steps.tolist())
    assert "wandb" in logs.metric_sources["kl_loss"] and "text log" in logs.metric_sources["kl_loss"]
    assert "samples" not in set(logs.frame["metric"])
    absent = tmp_path / "absent"  # the .wandb file gone: the console log and the summary are the run
    shutil.copytree(folder, absent)
    for path in absent.glob("*.wandb"):
        path.unlink()
    logs = load_run(absent)
    assert logs.frame.loc[logs.frame["metric"] == "rec_loss", "step"].max() == 249
    assert not [s for s in logs.sources if s.path.startswith("logs/")]  # wandb's own debug logs are no metrics


def test_a_wandb_summary_is_placed_at_the_run_s_own_step_not_at_wandb_s_call_count(tmp_path, monkeypatch):
    # eval12: Lightning's WandbLogger logs trainer/global_step in every call, two calls a step; the summary's
    # _step (1,601 calls) was taken as a step of the history's axis, and its disc_factor 1 there read as the
    # discriminator on 48,000 steps before disc_start
    import pytest

    wandb = pytest.importorskip("wandb")
    from vae_report import load_run

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.chdir(tmp_path)
    run = wandb.init(project="vae", dir=str(tmp_path))
    for step in range(0, 4000, 100):
        run.log({"train/rec_loss": 1 / (step + 1), "trainer/global_step": step})
        run.log({"train/disc_factor": float(step >= 2001), "trainer/global_step": step})
    run.finish()
    (folder,) = (tmp_path / "wandb").glob("offline-run-*")
    (folder / "files" / "wandb-summary.json").write_text(json.dumps(
        {"train/rec_loss": 1 / 3901, "train/disc_factor": 1.0, "trainer/global_step": 3900, "_step": 79,
         "_timestamp": 1.7e9}))
    logs = load_run(folder)
    on = logs.frame[(logs.frame["metric"] == "disc_factor") & (logs.frame["value"] > 0)]
    assert on["step"].min() == 2100 and 79 not in set(logs.frame["step"].tolist())
