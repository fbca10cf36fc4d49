"""One excursion, one finding: losses that spike in the same steps (rec with the nll and the total built from it,
the discriminator's loss with the generator's term read off it) are told once, on the loss that leads them, the
others cited; a loss's spikes of its own are still told. Logs written with the csv module, configs with yaml."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import yaml

from vae_report import analyze_run

PIXELS = 65_536


def _run(root: Path, rec_at: tuple[int, ...] = (), total_at: tuple[int, ...] = (), gan_at: tuple[int, ...] = ()
         ) -> Path:
    """An LDM run logged every 50 steps to 40,000 (disc_start 20,001): x4 excursions of 6 points in rec (so in
    nll and the total) at ``rec_at``, in the total alone at ``total_at``, in the fake logits (so in disc_loss and
    in g_loss, which sits near 0) at ``gan_at``."""
    rng = np.random.default_rng(4)
    root.mkdir()
    (root / "config.yaml").write_text(yaml.safe_dump({"model": {"params": {"lossconfig": {
        "target": "ldm.modules.losses.LPIPSWithDiscriminator",
        "params": {"disc_start": 20_001, "kl_weight": 1e-6, "disc_weight": 0.5}}}},
        "lightning": {"trainer": {"max_steps": 40_000}}}))

    def bump(step: int, at: tuple[int, ...]) -> float:
        return 4.0 if any(a <= step < a + 300 for a in at) else 1.0

    with open(root / "metrics.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["step", "rec_loss", "nll_loss", "kl_loss", "total_loss", "disc_loss", "g_loss"])
        for step in range(0, 40_000, 50):
            on = step >= 20_001
            rec = (0.03 + 0.3 * np.exp(-step / 4000)) * (1 + 0.02 * rng.standard_normal()) * bump(step, rec_at)
            kl = 20_000 + 100 * rng.standard_normal()
            # LDM's halved hinge D loss and g_loss = -mean fake logit, read off the same logits (g near 0)
            real = 0.05 + 0.08 * rng.standard_normal()
            fake = -0.05 + 0.08 * rng.standard_normal() + (3.0 if bump(step, gan_at) > 1 and on else 0.0)
            disc = 0.5 * (max(0.0, 1 - real) + max(0.0, 1 + fake)) if on else 0.0
            g = -fake
            total = (PIXELS * rec + 1e-6 * kl) * bump(step, total_at) + (0.5 * g if on else 0.0)
            out.writerow([step, rec, PIXELS * rec, kl, total, disc, g])
    return root


def _spikes(root: Path) -> dict:
    return {f.metric: f for f in analyze_run(root).active_findings() if f.rule == "spikes"}


def test_one_excursion_of_rec_nll_and_total_is_one_finding_citing_the_sums(tmp_path):
    found = _spikes(_run(tmp_path / "one", rec_at=(15_000,)))
    assert set(found) == {"rec_loss"}
    f = found["rec_loss"]
    assert f.numbers["count"] == 1 and f.numbers["moved_with"] == {"nll_loss": 1, "total_loss": 1}
    assert "nll_loss and total_loss spiked with it in the same steps" in f.message
    assert "total_loss sums the terms" in f.message


def test_the_gan_losses_spiking_together_are_told_on_the_discriminators_loss(tmp_path):
    found = _spikes(_run(tmp_path / "gan", rec_at=(8_000,), gan_at=(30_000,)))
    assert set(found) == {"rec_loss", "disc_loss"}
    assert found["disc_loss"].numbers["moved_with"] == {"g_loss": 1}
    assert "g_loss spiked with it" in found["disc_loss"].message
    assert "g_loss" not in found["rec_loss"].numbers["moved_with"]


def test_a_sums_spike_of_its_own_is_still_told_and_shared_ones_are_counted(tmp_path):
    found = _spikes(_run(tmp_path / "mixed", rec_at=(8_000, 15_000), total_at=(30_000,)))
    assert set(found) == {"rec_loss", "total_loss"}
    assert found["rec_loss"].numbers["count"] == 2 and found["rec_loss"].numbers["moved_with"] == {
        "nll_loss": 2, "total_loss": 2}
    assert "in the same steps each time" in found["rec_loss"].message
    total = found["total_loss"]  # its own excursion, at 30,000, not the two it shared with rec
    assert total.numbers["count"] == 1 and total.step == 30_000 and not total.numbers["moved_with"]
