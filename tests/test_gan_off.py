"""Runs whose adversarial phase never runs (the config's disc_factor 0, disc_start past the end of training) and a
GAN phase whose term is weighted by 0: what fired is named as what it is, and no GAN rule judges a GAN that never
ran. Logs written with the csv module, configs with yaml, as a user's run folder holds them."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import yaml
from test_state_dates import epoch_history

from vae_report import analyze_run
from vae_report.analysis import examine_run
from vae_report.render import render_markdown, write_report

PIXELS = 196_608


def _run(root: Path, disc_start: int, last: int, max_steps: int, disc_factor: float = 1.0,
         zero_weight: bool = False, on_from: int | None = None, raw_disc: bool = False) -> Path:
    """An LDM run (config.yaml + metrics.csv) logged every 50 steps to ``last``; ``disc_factor`` 0: the GAN terms
    are multiplied by it (all 0); ``zero_weight``: d_weight 0 after disc_start while the discriminator wins;
    ``on_from``: the step the loss actually switched on at (another counter than the logged one); ``raw_disc``:
    disc_loss logged unweighted (about 1 before the switch)."""
    config_start, disc_start = disc_start, on_from if on_from is not None else disc_start
    rng = np.random.default_rng(0)
    root.mkdir()
    loss = {"disc_start": config_start, "kl_weight": 1e-6, "disc_weight": 0.5, "disc_factor": disc_factor}
    config = {"model": {"base_learning_rate": 4.5e-6, "target": "ldm.models.autoencoder.AutoencoderKL",
                        "params": {"embed_dim": 4, "lossconfig": {
                            "target": "ldm.modules.losses.LPIPSWithDiscriminator", "params": loss}}},
              "lightning": {"trainer": {"max_steps": max_steps}}}
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    with open(root / "metrics.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["step", "train/rec_loss", "train/nll_loss", "train/kl_loss", "train/total_loss",
                      "train/disc_loss", "train/disc_factor", "train/d_weight", "train/g_loss",
                      "train/logits_real", "train/logits_fake"])
        for step in range(0, last + 1, 50):
            rec = 0.03 + 0.3 * np.exp(-step / 4000) * (1 + 0.02 * rng.standard_normal())
            kl = 20_000 + 80_000 * (1 - np.exp(-step / 8000)) + 300 * rng.standard_normal()
            factor = disc_factor if step >= disc_start else 0.0
            won = min(1.0, (step - disc_start) / 3000) if step >= disc_start else 0.0
            weight = 0.0 if zero_weight and step >= disc_start else 300 + 50 * rng.random()
            g = 0.1 + 2.3 * won + 0.05 * rng.standard_normal()
            disc = (1.0 if raw_disc else factor) * (1.0 - 0.93 * won + 0.01 * rng.standard_normal())
            real, fake = 0.1 + 2.3 * won, -0.1 - 2.3 * won
            total = PIXELS * rec + 1e-6 * kl + weight * factor * g
            out.writerow([step, rec, PIXELS * rec, kl, total, disc, factor, weight, g, real, fake])
    return root


def _active(a, rule: str):
    return [f for f in a.active_findings() if f.rule == rule]


def test_a_config_that_sets_disc_factor_0_is_a_warning_naming_it_and_no_gan_rule_judges(tmp_path):
    a = analyze_run(_run(tmp_path / "off", 20_001, 39_950, 40_000, disc_factor=0.0))
    assert a.status == "warning"
    (f,) = _active(a, "disc-inactive-after-start")
    assert (f.severity, f.case, f.title) == ("warning", "disabled", "Adversarial term disabled by the config")
    assert "config.yaml: model.params.lossconfig.params.disc_factor" in f.message
    assert "never switched on" not in f.message
    judged = [f.rule for f in a.active_findings() if f.rule in ("disc-overpowering", "disc-at-chance",
                                                                "generator-winning", "gan-term-dominant")]
    assert judged == []
    text = render_markdown(a)
    assert "the adversarial phase ran from" not in text and "is winning" not in text
    assert "has been on since" not in text and "separates every real input" not in text  # Q: why is D loss 0?
    assert "disc_factor 0" in text  # the phase and progress say why there is no adversarial phase


def test_a_disc_start_past_the_end_is_said_from_the_config_and_the_phases_follow(tmp_path):
    run = _run(tmp_path / "beyond", 50_001, 39_950, 40_000)
    a = analyze_run(run)
    unfinished = analyze_run(_run(tmp_path / "going", 50_001, 20_000, 40_000))
    assert "monitor when the discriminator activates" not in render_markdown(unfinished)
    assert "discriminator starts" not in render_markdown(unfinished)
    assert "check that the discriminator switched on" not in render_markdown(unfinished)
    (f,) = _active(a, "disc-start-past-end")
    assert f.severity == "warning"
    for said in ("50,001", "40,000", "lossconfig.params.disc_start", "config.yaml: lightning.trainer.max_steps"):
        assert said in f.message
    assert all(m.name != "discriminator starts" for m in a.schedule.milestones())
    out = tmp_path / "report.md"
    write_report(examine_run(run), out)
    text = out.read_text()
    assert "50,001–39,999" not in text and "not reached yet" not in text
    assert "never reached" in text and "past the end of training" in text


def test_a_disc_start_far_past_the_end_is_the_usual_switch_off_and_only_info(tmp_path):
    a = analyze_run(_run(tmp_path / "sentinel", 1_000_001, 19_950, 20_000))
    (f,) = _active(a, "disc-start-past-end")
    assert f.severity == "info" and "on purpose" in f.message


def test_a_zero_d_weight_is_named_as_such_in_its_title_why_and_in_the_findings_that_cite_it(tmp_path):
    a = analyze_run(_run(tmp_path / "zero", 20_001, 39_950, 50_000, zero_weight=True))
    (f,) = _active(a, "d-weight-pinned")
    assert f.case == "zero" and "clamp" not in f.title
    text = render_markdown(a)
    assert "clamp" not in text and "1e4" not in text and "keeps growing" not in text
    # one cause, one headline: the discriminator winning unopposed is cited under d_weight 0, its cause
    (won,) = [r for r in f.related if r["rule"] == "disc-overpowering"]
    assert not _active(a, "disc-overpowering")
    assert f'"{f.title}"' in won["message"] and "keeps pushing" not in won["message"]


def _spiky(root: Path) -> Path:
    """A healthy CSV run (disc_start 20,001) with one x4 rec excursion of 6 consecutive points at 15,000."""
    rng = np.random.default_rng(1)
    root.mkdir()
    (root / "config.yaml").write_text(yaml.safe_dump({"model": {"params": {"lossconfig": {
        "target": "ldm.modules.losses.LPIPSWithDiscriminator", "params": {"disc_start": 20_001}}}}}))
    with open(root / "metrics.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["step", "rec_loss", "disc_loss"])
        for step in range(0, 40_000, 50):
            rec = (0.03 + 0.3 * np.exp(-step / 4000)) * (1 + 0.01 * rng.standard_normal())
            rec *= 4 if 15_000 <= step <= 15_250 else 1
            out.writerow([step, rec, 1.0 + 0.04 * rng.standard_normal() if step >= 20_001 else 0.0])
    return root


def test_consecutive_outliers_are_one_spike(tmp_path):
    a = analyze_run(_spiky(tmp_path / "spiky"))
    spikes = {f.metric: f for f in _active(a, "spikes")}
    assert set(spikes) == {"rec_loss"}
    assert spikes["rec_loss"].numbers["count"] == 1 and spikes["rec_loss"].numbers["points"] == 6
    assert "one transient spike, steps 15,000-15,250 (6 consecutive points)" in spikes["rec_loss"].message


def test_noise_after_a_silent_stretch_is_no_spike(tmp_path):
    a = analyze_run(epoch_history(tmp_path / "epochs", seed=8, rec_noise=0.01))
    assert [f.metric for f in _active(a, "spikes")] == []


def test_a_discriminator_on_well_after_disc_start_is_late_and_the_phases_follow_the_data(tmp_path):
    """Off at every logged step from disc_start 10,001 to 33,000, on from 33,050: a warning that dates it (was: "on
    from step 33,050 ... as scheduled", status ok); a switch-on at 4 x disc_start names the counter it suggests."""
    a = analyze_run(_run(tmp_path / "late", 10_001, 59_950, 60_000, on_from=33_001))
    (f,) = _active(a, "disc-inactive-after-start")
    assert (f.severity, f.case, f.step) == ("warning", "late", 33_050)
    assert f.numbers["points_off_after_start"] == 460 and "as scheduled" not in f.message
    assert a.schedule.switch_step == 33_050
    text = render_markdown(a)
    assert "**Phase 2, adversarial** (steps 33,050" in text and "as scheduled" not in text
    assert "23,049 steps after the config's disc_start 10,001" in text
    four = analyze_run(_run(tmp_path / "four", 10_001, 59_950, 60_000, on_from=40_004))
    (f,) = _active(four, "disc-inactive-after-start")
    assert f.case == "late" and "about 4 x disc_start" in f.message
    on_time = analyze_run(_run(tmp_path / "on_time", 10_001, 39_950, 40_000))
    assert [f.severity for f in _active(on_time, "disc-inactive-after-start")] == ["ok"]
    # eval13 a2_tsv_disc_never: never on was an error titled as the all-clear, "Discriminator on from disc_start"
    never = analyze_run(_run(tmp_path / "never", 10_001, 39_950, 40_000, on_from=90_000))
    (f,) = _active(never, "disc-inactive-after-start")
    assert (f.severity, f.case, f.title) == ("error", "never-on", "Discriminator never switched on")
    assert "Discriminator never switched on" in render_markdown(never)
    # its 0 is the fault, not a size that fits; a logged disc_factor of 0 is adopt_weight's, not the optimizer's
    ranges = next(q.answer for q in never.qa if q.question.startswith("Are the loss values"))
    assert "disc_loss" not in ranges
    assert (f.metric == "disc_factor") == ("optimizer" not in f.action), f.action


def test_a_disc_loss_not_0_while_disc_factor_is_0_is_never_said_to_be_0(tmp_path):
    """The LDM loss logs disc_factor x the hinge: a disc_loss about 1 where disc_factor is 0 is logged unweighted
    (or on another counter): an info that says so, and no answer claims "it was 0 while the discriminator was off"
    (was said of 399 points all near 1)."""
    a = analyze_run(_run(tmp_path / "raw", 20_001, 39_950, 40_000, raw_disc=True))
    (f,) = _active(a, "disc-off-before-start")
    assert (f.severity, f.case) == ("info", "unweighted") and 0.95 < f.numbers["disc_loss_before_start"] < 1.05
    text = render_markdown(a)
    assert "it was 0 while" not in text and "while disc_factor was 0" in text
    weighted = analyze_run(_run(tmp_path / "weighted", 20_001, 39_950, 40_000))
    (f,) = _active(weighted, "disc-off-before-start")
    assert f.severity == "ok" and "disc_loss is 0 there too" in f.message
