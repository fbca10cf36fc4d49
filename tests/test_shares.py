"""One share per term (review 4, items 7 and 13): the weighted KL term's share is said once, of a named whole,
the same number in kl-rising, kl-dominant and the breakdown of the total. Logs written with the csv module."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from vae_report import analyze_run
from vae_report.rules.decomposition import share_text


def _run(path: Path, unlogged: bool) -> None:
    """rec, a KL rising under kl_weight 1e-5 and the total; ``unlogged``: another trainer's, whose total also
    holds a perceptual term that is not logged (no breakdown): the share is then of the total itself."""
    rng = np.random.default_rng(5)
    # another trainer's flat config without the terms' names: its loss is not LDM's sum, so no breakdown is
    # claimed when a term is not logged
    config = "kl_weight: 1.0e-5\n" if unlogged else "model:\n  lossconfig:\n    kl_weight: 1.0e-5\n"
    (path / "config.yaml").write_text(config)
    with (path / "metrics.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "rec_loss", "kl_loss", "total_loss"])
        for step in range(0, 10_000, 20):
            rec = 0.03 + 0.2 * np.exp(-step / 800) + 0.0005 * rng.standard_normal()
            kl = 50 + 250 * (1 - np.exp(-step / 2_000)) + 2 * rng.standard_normal()
            extra = 0.01 + 0.005 * rng.random() if unlogged else 0.0
            writer.writerow([step, f"{rec:.6f}", f"{kl:.3f}", f"{rec + 1e-5 * kl + extra:.6f}"])


def test_without_a_breakdown_the_kl_share_is_of_the_total_it_is_part_of(tmp_path):
    _run(tmp_path, unlogged=True)
    a = analyze_run(tmp_path)
    assert a.decomposition is None
    (f,) = [f for f in a.findings if f.rule == "kl-rising"]
    term, total = 1e-5 * a.metrics["kl_loss"].now, a.metrics["total_loss"].now
    # the KL term is part of the total: not counted a second time in the denominator (7.5%, not 7.0%)
    assert f.numbers["kl_term_share"] == term / total
    assert f"{share_text(term / total)} of the total loss's current level" in f.message, f.message
    assert share_text(term / (total + term)) not in f.message


def test_with_a_breakdown_every_sentence_gives_the_kl_term_the_breakdowns_share(tmp_path):
    _run(tmp_path, unlogged=False)
    a = analyze_run(tmp_path)
    kl = a.decomposition.term("regularizer")
    said = f"({share_text(kl.share)})"
    assert said in a.decomposition.sentence()
    for f in [f for f in a.findings if f.rule in ("kl-rising", "kl-dominant")]:
        assert f.numbers["kl_term_share"] == kl.share and f"{share_text(kl.share)} of the loss's size" in f.message
