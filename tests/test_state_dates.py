"""A state (the discriminator at chance, a KL held at the prior) is dated from the first step from which it holds,
not from where its latest noisy stretch last strayed, nor from a first stray point that did not last. Logs written
with json.dumps and the csv module, configs with yaml, as a user's run folder holds them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from writers import radiodiff_config

from vae_report import analyze_run


def epoch_history(root: Path, seed: int, rec_noise: float = 0.03) -> Path:
    """JSONL, one record per epoch (100), steps_per_epoch 500, disc_start 25,001 (epoch 50): the D loss 0 before,
    then at its chance level 1.0 with 4% noise from its first epoch on; rec with ``rec_noise`` relative noise."""
    rng = np.random.default_rng(seed)
    root.mkdir()
    (root / "config.yaml").write_text(yaml.safe_dump({"model": {"lossconfig": {"disc_start": 25_001}},
                                                      "train": {"max_epochs": 100, "steps_per_epoch": 500}}))
    with open(root / "history.jsonl", "w") as fh:
        for epoch in range(100):
            on = epoch * 500 + 250 >= 25_001
            fh.write(json.dumps({"epoch": epoch, "train_rec_loss": 0.03 + 0.3 * np.exp(-epoch / 10)
                                 * (1 + rec_noise * rng.standard_normal()),
                                 "train_kl_loss": 20_000 + 100 * rng.standard_normal(),
                                 "train_g_loss": 0.3 + 0.05 * rng.standard_normal(),
                                 "train_disc_loss": 1.0 + 0.04 * rng.standard_normal() if on else 0.0}) + "\n")
    return root


@pytest.mark.parametrize("seed", [1, 6, 9])  # noise draws whose latest chunks stray from the phase's level
def test_a_discriminator_at_chance_from_its_switch_on_is_dated_at_the_switch_on(tmp_path, seed):
    a = analyze_run(epoch_history(tmp_path / "epochs", seed))
    (f,) = [f for f in a.active_findings() if f.rule == "disc-at-chance"]
    assert f.step == 50 and "49 epochs, since epoch 50" in f.message, f.message  # its first epoch on, to the last


def test_a_kl_held_at_the_prior_is_dated_where_it_began_to_hold_not_at_a_stray_dip(tmp_path):
    """KL at ~220 nats (0.011 per latent dimension of 19,200) with two single-point dips to the prior (steps
    1,000 and 2,000), then at the prior from 3,000 on: the posterior is the prior since 3,000, not since the first
    dip."""
    root = tmp_path / "kl"
    root.mkdir()
    config = radiodiff_config(disc_start=50_001, total_steps=150_000)  # 3 x 64 x 64 latents from 256 x 256
    config["model"]["lossconfig"]["kl_weight"] = 1.0
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    rng = np.random.default_rng(0)
    with open(root / "metrics.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["step", "train/rec_loss", "train/kl_loss"])
        for step in range(0, 8_000, 10):
            prior = step >= 3_000 or step in (1_000, 2_000)
            kl = 24.0 + rng.normal(0, 1) if prior else 220.0 * (1 + 0.02 * rng.standard_normal())
            out.writerow([step, (0.03 + 0.3 * np.exp(-step / 2000)) * (1 + 0.02 * rng.standard_normal()), kl])
    a = analyze_run(root)
    (f,) = [f for f in a.active_findings() if f.rule == "kl-collapse"]
    assert f.step == 3_000 and "since step 3,000" in f.message, f.message


def test_a_discriminator_at_chance_for_most_of_an_epoch_logged_run_is_long(tmp_path):
    """49 epochs at chance of the 50 after the switch-on: long in the log's own unit (was: 49 compared with
    min_steps 10,000 as if epochs were steps, so never long, ok)."""
    a = analyze_run(epoch_history(tmp_path / "epochs", seed=1))
    (f,) = [f for f in a.active_findings() if f.rule == "disc-at-chance"]
    assert a.schedule.counts == "epoch" and f.severity == "info", (f.severity, f.message)
    assert "for 49 epochs, since epoch 50" in f.message and "Two readings" in f.message, f.message
