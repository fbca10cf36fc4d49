"""A step in a loss judged against the course it was on (the trend before it, extrapolated), not only against the
level just before it: a loss that falls, steps up, then falls again at its old pace ends near its pre-step level
while the step's cost stands. A bump that returns to its course stays a recovered episode. Logs written with the
csv module, configs with yaml, as a user's run folder holds them."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import yaml

from vae_report import analyze_run

PIXELS = 196_608


def _run(root: Path, lift, last: int = 35_000, tau: float = 8_000, noise: float = 0.05, seed: int = 0) -> Path:
    """An LDM run logged every 50 steps to ``last`` (disc_start 60,001: one phase): rec decaying from 0.35 to 0.035
    (time constant ``tau``) times ``lift(steps)``, with ``noise`` multiplicative noise; nll and the total from it."""
    rng = np.random.default_rng(seed)
    root.mkdir()
    (root / "config.yaml").write_text(yaml.safe_dump({"model": {"base_learning_rate": 4.5e-6, "params": {
        "lossconfig": {"target": "ldm.modules.losses.LPIPSWithDiscriminator",
                       "params": {"disc_start": 60_001, "kl_weight": 1e-6, "disc_weight": 0.5}}}},
        "lightning": {"trainer": {"max_steps": 120_000}}}))
    steps = np.arange(0, last, 50)
    rec = (0.035 + 0.315 * np.exp(-steps / tau)) * np.exp(noise * rng.standard_normal(len(steps))) * lift(steps)
    kl = 20_000 + 90_000 * (1 - np.exp(-steps / 12_000)) * np.exp(0.02 * rng.standard_normal(len(steps)))
    with open(root / "metrics.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["step", "rec_loss", "nll_loss", "kl_loss", "total_loss"])
        for i, step in enumerate(steps):
            out.writerow([int(step), rec[i], PIXELS * rec[i], kl[i], PIXELS * rec[i] + 1e-6 * kl[i]])
    return root


def _active(root: Path, rule: str) -> list:
    return [f for f in analyze_run(root).active_findings() if f.rule == rule and f.severity != "ok"]


def test_a_step_that_decays_back_toward_its_old_level_is_a_shift_against_its_course(tmp_path):
    # x1.8 at 20,000 on a decay: 15,000 steps later only ~15% above the pre-step level, ~x1.8 above its course
    root = _run(tmp_path / "h23", lambda s: np.where(s >= 20_000, 1.8, 1.0))
    (f,) = _active(root, "loss-shift")
    assert f.severity == "warning" and f.metric == "rec_loss" and abs(f.step - 20_000) <= 200
    held = f.numbers["against_trend"]
    assert held["trend"] < f.numbers["level_before"] < held["level_at_phase_end"]
    assert held["level"] / held["trend"] > 1.5 and "stayed above the course it was on" in f.message
    assert not _active(root, "loss-episode")  # one rise, one finding: not also "came most of the way back"


def test_a_modest_step_late_in_a_still_falling_run_is_found(tmp_path):
    # a slow decay (time constant 100,000): x1.4 at 30,000 nets about +18% over its pre-step level by 50,000
    root = _run(tmp_path / "late", lambda s: np.where(s >= 30_000, 1.4, 1.0), last=50_000, tau=100_000, noise=0.03)
    (f,) = _active(root, "loss-shift")
    assert f.metric == "rec_loss" and abs(f.step - 30_000) <= 200
    assert 1.1 < f.numbers["against_trend"]["level_at_phase_end"] / f.numbers["level_before"] < 1.25


@pytest.mark.parametrize("after", [1.0, 1.08])
def test_a_bump_back_on_its_course_is_a_recovered_episode_not_a_shift(tmp_path, after):
    # x1.6 from 12,000 to 14,000, back by 18,000 to its course (or 8% above it): over, whatever the trend says
    root = _run(tmp_path / f"bump{after}", lambda s: np.interp(s, [12_000, 14_000, 18_000], [1.0, 1.6, after]))
    assert not _active(root, "loss-shift")
    assert [f.metric for f in _active(root, "loss-episode")] == ["rec_loss"]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_noisy_healthy_decay_has_no_shift(tmp_path, seed):
    root = _run(tmp_path / f"noisy{seed}", lambda s: np.ones(len(s)), noise=0.25, seed=seed)
    assert not _active(root, "loss-shift") and not _active(root, "loss-episode")
