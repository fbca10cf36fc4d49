"""Validation that jumps in one evaluation and stays, training unchanged, is a step in validation only (a change
in what validation measures), dated at the evaluation after the jump; validation that climbs over many
evaluations is still overfitting. Logs written with the csv module in Lightning's sparse metrics.csv layout."""

from __future__ import annotations

import csv

import numpy as np

from vae_report import analyze_run


def _run(folder, val_shape: str):
    rng = np.random.default_rng(5)
    folder.mkdir()
    with open(folder / "metrics.csv", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["epoch", "step", "train/rec_loss", "val/rec_loss"])
        for epoch, step in enumerate(range(999, 60_000, 1_000)):
            for s in range(step - 900, step + 1, 100):  # training rows every 100 steps
                out.writerow([epoch, s, 0.06 + 0.2 * np.exp(-s / 8_000) + 0.002 * rng.standard_normal(), ""])
            val = 0.065 + 0.2 * np.exp(-step / 8_000) + 0.002 * rng.standard_normal()
            if val_shape == "step" and step >= 40_999:
                val *= 2.2
            if val_shape == "ramp" and step >= 30_000:
                val *= 1 + (step - 30_000) / 25_000
            out.writerow([epoch, step, "", val])
    return folder


def test_a_jump_in_one_evaluation_is_a_step_in_validation_not_overfitting(tmp_path):
    a = analyze_run(_run(tmp_path / "step", "step"))
    (f,) = [f for f in a.active_findings() if f.rule == "val-overfitting"]
    assert (f.severity, f.case, f.step) == ("warning", "val-step", 40_999)
    assert f.message.startswith("A step in validation only") and "memoris" not in f.message
    assert f.numbers["step_before"] == 39_999
    ramp = analyze_run(_run(tmp_path / "ramp", "ramp"))
    (f,) = [f for f in ramp.active_findings() if f.rule == "val-overfitting"]
    assert f.case != "val-step" and f.message.startswith("Overfitting since")
