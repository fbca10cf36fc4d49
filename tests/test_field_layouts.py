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

from vae_report import analyze_run


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
    analysis = analyze_run(tmp_path)
    frame = analysis.frame
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
        metrics = set(analyze_run(folder).frame["metric"])
        assert {"rec_loss", "kl_loss", "total_loss", "val/total_loss"} <= metrics, (name, metrics)
    vq = tmp_path / "vq"
    vq.mkdir()
    with (vq / "log.jsonl").open("w") as handle:
        for step in range(100):
            handle.write(json.dumps({"iteration": step, "recon_loss": 1 / (step + 1), "quantized_loss": 0.1,
                                     "commitment_loss": 0.02 + step / 1e4, "loss": 1.0}) + "\n")
    metrics = set(analyze_run(vq).frame["metric"])
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
