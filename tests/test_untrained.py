"""Stretches that trained nothing (a logged lr of exactly 0, losses frozen to float precision): said plainly once
(how many steps, what share, which phases, the weights the run ends with), and never judged by the trend, level
and GAN checks as if something trained there. Logs written by torch's SummaryWriter and Lightning's CSVLogger."""

from __future__ import annotations

import numpy as np
import yaml
from torch.utils.tensorboard import SummaryWriter
from typer.testing import CliRunner
from writers import radiodiff_config, radiodiff_curves

from vae_report import analyze_run
from vae_report.cli import app

GAN_RULES = ("disc-at-chance", "rec-after-disc", "generator-winning", "disc-overpowering", "d-weight-pinned",
             "gan-term-dominant")


def _curves(last: int, disc_start: int, zero_from: int, zero_to: int | None = None, frozen: bool = False):
    """Healthy RadioDiff curves whose lr is 0 from ``zero_from`` (to ``zero_to``, else the end): the losses then
    hold the level they had (batch noise only), or, ``frozen``, repeat their last value exactly."""
    c = radiodiff_curves(last, disc_start=disc_start, total_steps=last, every=10, lr=4.5e-6)
    v, steps = c.values, c.steps
    idle = (steps >= zero_from) & (steps < (zero_to if zero_to is not None else last + 1))
    v["lr"][idle] = 0.0
    i = int(np.argmax(idle))
    rng = np.random.default_rng(3)
    for key in ("rec_loss", "kl_loss"):
        noise = np.exp(0.02 * rng.standard_normal(int(idle.sum())))
        v[key][idle] = v[key][i] if frozen else v[key][max(0, i - 5):i + 1].mean() * noise
    v["nll_loss"] = v["rec_loss"] * 65_536
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"] + v["d_weight"] * v["disc_factor"] * v["g_loss"]
    return c


def _tensorboard_run(folder, c, disc_start: int):
    """The bundled trainer's layout: SummaryWriter's train/ tags, the config beside them."""
    writer = SummaryWriter(str(folder))
    for i, step in enumerate(c.steps):
        for key, values in c.values.items():
            writer.add_scalar(f"train/{key}", float(values[i]), int(step), walltime=1.7e9 + 0.5 * int(step))
    writer.close()
    config = radiodiff_config(disc_start=disc_start, total_steps=int(c.steps[-1]), log_freq=10)
    config["trainer"]["save_and_sample_every"] = 1000
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return folder


def test_lr_zero_over_the_whole_adversarial_phase_is_said_and_gan_checks_are_not_judged(tmp_path):
    c = _curves(6000, disc_start=3001, zero_from=3010)
    a = analyze_run(_tensorboard_run(tmp_path / "run", c, 3001))
    (stalled,) = [f for f in a.active_findings() if f.rule == "run-stalled"]
    assert stalled.severity == "warning" and stalled.step == 3010
    for words in ("Nothing trained from step 3,010 to the last log (step 6,000), where the learning rate is 0",
                  "2,990 steps, 50% of the logged run: the whole adversarial phase",
                  "The weights are still those of step 3,010"):
        assert words in stalled.message, stalled.message
    # lr 0 moves no weight: the newest checkpoint (step 6,000) holds step 3,010's, so it is the one to resume from
    assert stalled.action.startswith("Fix the learning-rate scheduler (it set the lr to 0), so that it restarts at "
                                     "the rate it had at step 3,000"), stalled.action
    assert "resume from the latest checkpoint (saved at step 6,000, every 1,000 steps): it holds the weights of " \
           "step 3,010" in stalled.action
    # the discriminator "at chance" and reconstruction "not worse" would be all-clears of a phase that never trained
    gan = [f for f in a.findings if f.rule in GAN_RULES]
    assert gan and not [f for f in gan if f.severity == "ok" and not f.skipped]
    for f in gan:
        if f.skipped:
            assert f.numbers["not_judged"] == "nothing trained from step 3,010 on: the learning rate is 0"
    out = tmp_path / "report.md"
    assert CliRunner().invoke(app, ["analyze", str(tmp_path / "run"), "--out", str(out)]).exit_code == 0
    text = out.read_text()
    assert "(nothing trained from step 3,010 on: the learning rate is 0)" in text
    assert "`disc-at-chance`" in text.split("Not checked:")[1].split("\n")[0]


def test_a_stretch_of_lr_zero_the_run_came_back_from_is_info_and_leaves_the_latest_level_judged(tmp_path):
    c = _curves(6000, disc_start=50_001, zero_from=1000, zero_to=2000)
    a = analyze_run(_tensorboard_run(tmp_path / "run", c, 50_001))
    (stalled,) = [f for f in a.findings if f.rule == "run-stalled"]
    assert stalled.severity == "info" and "Nothing trained from step 1,000 to step 2,000" in stalled.message
    assert "The weights left step 1,000 unchanged until step 2,000" in stalled.message
    (trend,) = [f for f in a.findings if f.rule == "rec-trend"]
    assert not trend.skipped and "Not judged" not in trend.message


def test_frozen_losses_without_a_logged_lr_are_all_named_and_not_judged(tmp_path):
    from pytorch_lightning.loggers import CSVLogger

    c = _curves(6000, disc_start=50_001, zero_from=2500, frozen=True)
    c.values["g_loss"][c.steps >= 2500] = c.values["g_loss"][c.steps == 2500][0]
    run = tmp_path / "run"
    logger = CSVLogger(str(run), name="", version="")
    for i, step in enumerate(c.steps):
        logger.log_metrics({f"train/{k}": float(v[i]) for k, v in c.values.items() if k != "lr"}, int(step))
    logger.save()
    (run / "config.yaml").write_text(yaml.safe_dump(radiodiff_config(disc_start=50_001, total_steps=6000,
                                                                      log_freq=10)))
    a = analyze_run(run)
    (stalled,) = [f for f in a.active_findings() if f.rule == "run-stalled"]
    assert {"rec_loss", "total_loss", "nll_loss", "kl_loss", "g_loss"} <= set(stalled.numbers["flat_metrics"])
    assert "kl_loss" in stalled.message and "The learning rate is 0" not in stalled.message
    (kl,) = [f for f in a.findings if f.rule == "kl-rising"]
    assert kl.skipped and kl.severity == "info" and "the losses are frozen to float precision" in kl.message
    (qa,) = [q for q in a.qa if q.question.startswith("Is the KL loss")]
    assert qa.answer.startswith("Not judged:") and "nothing trained from step 2,500 on" in qa.answer


def test_losses_that_move_at_any_scale_are_not_frozen(tmp_path):
    """Healthy losses scaled by 1e-20 (they still move many-fold) are not "frozen to float precision" (an absolute
    floor of 1e-12 said so; losses repeating their last value exactly are, as the test above shows)."""
    moving = _curves(6000, disc_start=50_001, zero_from=10**9)
    for key in ("rec_loss", "nll_loss", "total_loss", "kl_loss", "g_loss", "disc_loss"):
        moving.values[key] = moving.values[key] * 1e-20
    a = analyze_run(_tensorboard_run(tmp_path / "tiny", moving, 50_001))
    assert not [f for f in a.active_findings() if f.rule == "run-stalled"]
