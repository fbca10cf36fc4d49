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
