"""A loss that drifts up slowly and steadily (each point's change far below the noise) is dated where the climb
began and measured from the level it began at, in the logs' own unit; a growing gradient norm under clipping is
said with its numbers. Logs written by real writers: torch's SummaryWriter, Lightning's CSVLogger, a console loop
printing through ``logging``."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import yaml

from vae_report import analyze_run
from vae_report.config_keys import clip_norm

SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter


def drift(points: int, onset: float, factor: float, noise: float, seed: int, floor: float = 0.03,
          decay: float | None = None) -> np.ndarray:
    """rec at ``floor`` (after a fall with time constant ``decay`` x the run, if given), rising linearly by
    ``factor`` - 1 from ``onset`` (a share of the run) to the end; log-normal noise of ``noise``."""
    rng = np.random.default_rng(seed)
    x = np.arange(points) / (points - 1)
    level = floor * (1 + (4 * np.exp(-x / decay) if decay else 0))
    ramp = 1 + (factor - 1) * np.clip((x - onset) / (1 - onset), 0, None)
    return level * ramp * np.exp(noise * rng.standard_normal(points))


def kl_curve(points: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 100)
    return (200 + 100 * (1 - np.exp(-np.arange(points) / (points / 10)))) * np.exp(0.02 * rng.standard_normal(points))


def write_tensorboard(folder, steps, rec, extra=None, config=None):
    writer = SummaryWriter(str(folder / "tb"))
    kl = kl_curve(len(steps), 0)
    for i, step in enumerate(steps.tolist()):
        wall = 1.7e9 + step * 0.3
        writer.add_scalar("train/rec_loss", rec[i], step, wall)
        writer.add_scalar("train/kl_loss", kl[i], step, wall)
        writer.add_scalar("train/total_loss", rec[i] + 1e-6 * kl[i], step, wall)
        for tag, values in (extra or {}).items():
            writer.add_scalar(tag, values[i], step, wall)
    writer.close()
    if config is not None:
        (folder / "config.yaml").write_text(yaml.safe_dump(config))


def write_csvlogger(folder, steps, rec):
    loggers = pytest.importorskip("pytorch_lightning.loggers")
    logger = loggers.CSVLogger(str(folder), name="lightning_logs", version=0)
    kl = kl_curve(len(steps), 1)
    for i, step in enumerate(steps.tolist()):
        logger.log_metrics({"train/rec_loss_step": float(rec[i]), "train/kl_loss_step": float(kl[i])}, step=step)
    logger.save()
    logger.finalize("success")


def write_epoch_console(folder, epochs, rec):
    folder.mkdir(parents=True, exist_ok=True)
    log = logging.getLogger(f"drift_{folder.name}")
    log.propagate = False
    handler = logging.FileHandler(folder / "train.log", mode="w")
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    kl = kl_curve(len(epochs), 2)
    for i, epoch in enumerate(epochs.tolist()):
        log.info(f"Epoch [{epoch}/{epochs[-1]}], Total Loss: {rec[i] + 1e-3 * kl[i]:.5f}, Recon: {rec[i]:.5f}, "
                 f"KL: {kl[i]:.3f}")
    handler.close()
    log.removeHandler(handler)


def the_drift(analysis, metric="rec_loss"):
    (f,) = [f for f in analysis.findings if f.rule == "loss-now" and f.metric == metric
            and f.severity in ("warning", "error")]
    return f


# (writer, unit, positions, onset share, factor, noise, fall before it): steps and epochs, several noise levels,
# drifts beginning early and late, on a plateau and after a fall
CASES = {
    "tensorboard_plateau_early": ("tb", "step", np.arange(0, 50_000, 50), 0.3, 1.4, 0.04, None),
    "tensorboard_after_a_fall": ("tb", "step", np.arange(0, 40_000, 40), 0.45, 1.5, 0.02, 0.04),
    "csvlogger_late_quiet": ("csv", "step", np.arange(9, 30_000, 30), 0.6, 1.3, 0.01, None),
    "console_epochs_noisy": ("log", "epoch", np.arange(1, 401), 0.4, 1.6, 0.06, None),
}


@pytest.mark.parametrize("name", CASES)
def test_a_slow_drift_is_dated_where_it_began_and_measured_from_that_level(tmp_path, name):
    writer, unit, positions, onset, factor, noise, decay = CASES[name]
    rec = drift(len(positions), onset, factor, noise, seed=len(name), decay=decay)
    {"tb": write_tensorboard, "csv": write_csvlogger, "log": write_epoch_console}[writer](tmp_path, positions, rec)
    a = analyze_run(tmp_path)
    f = the_drift(a)
    began = positions[int(onset * (len(positions) - 1))]
    span = positions[-1] - positions[0]
    assert abs(f.step - began) <= 0.06 * span, (f.step, began)
    # measured from the level the climb began at (the floor), not from the best of the latest stretch
    assert f.numbers["recent_best"] == pytest.approx(0.03, rel=0.04)
    ratio = f.numbers["latest"] / f.numbers["recent_best"]
    expected = 1 + (factor - 1) * (0.975 - onset) / (1 - onset)  # at the middle of the latest 5%, the level's window
    from vae_report.numbers import pct

    assert ratio == pytest.approx(expected, rel=0.05) and f"{pct(ratio - 1, 0)} above that level" in f.message
    assert "rising slowly" in f.message and "lowest level before this steady climb" in f.message
    assert f"the rise began at {unit} {f.step:,}" in f.message
    # "now" is the level every rule and table quotes
    assert f.numbers["latest"] == a.metrics["rec_loss"].recent_median
    assert a.status == "warning"


@pytest.mark.parametrize("noise", [0.02, 0.1, 0.3])
def test_a_noisy_plateau_with_a_slow_wander_does_not_warn(tmp_path, noise):
    steps = np.arange(0, 30_000, 30)
    rng = np.random.default_rng(int(noise * 100))
    wander = 1 + 0.04 * np.sin(np.arange(len(steps)) / len(steps) * 3 * np.pi)  # +-4%, never a climb to speak of
    rec = drift(len(steps), 0.5, 1.0, noise, seed=3, decay=0.05) * wander
    rec *= np.exp(0.02 * rng.standard_normal(len(steps)))
    write_tensorboard(tmp_path, steps, rec)
    a = analyze_run(tmp_path)
    assert not [f for f in a.findings if f.rule == "loss-now" and f.severity in ("warning", "error")]
    assert a.status == "ok"


def clipped_run(tmp_path, clip_config, grows=True, pinned_log=False):
    steps = np.arange(0, 40_000, 40)
    x = steps / steps[-1]
    rng = np.random.default_rng(5)
    norm = (1.5 + np.where(x > 0.35, (x - 0.35) * 20, 0) if grows else np.full(len(x), 1.5)) \
        * np.exp(0.1 * rng.standard_normal(len(x)))
    extra = {"train/grad_norm": norm}
    if pinned_log:
        extra = {"grad_norm_preclip": norm, "grad_norm_clipped": np.minimum(norm, 1.0)}
    config = {"model": {"kl_weight": 1e-6}, "trainer": {"max_steps": 40_000, **clip_config}}
    write_tensorboard(tmp_path, steps, drift(len(steps), 0.35, 1.5, 0.03, seed=7), extra, config)
    return analyze_run(tmp_path), steps


@pytest.mark.parametrize("clip_config,pinned_log", [
    ({"gradient_clip_val": 1.0}, False),  # Lightning's key
    ({"optimizer": {"clip_grad": {"max_norm": 1.0, "norm_type": 2}}}, False),  # mmengine's section
    ({}, True),  # no clip in the config: the logged clipped norm sits at it
])
def test_a_gradient_norm_growing_under_clipping_is_said_with_its_numbers(tmp_path, clip_config, pinned_log):
    a, steps = clipped_run(tmp_path, clip_config, pinned_log=pinned_log)
    (g,) = [f for f in a.findings if f.rule == "grad-norm"]
    assert g.severity == "warning" and g.metric == ("grad_norm_preclip" if pinned_log else "grad_norm")
    assert abs(g.step - 14_000) <= 0.06 * steps[-1], g.step
    assert g.numbers["from"] == pytest.approx(1.5, rel=0.1) and g.numbers["to"] == pytest.approx(14.5, rel=0.1)
    assert g.numbers["clip"] == 1.0 and g.numbers["share_clipped"] == 1.0
    assert f"grew from {g.numbers['from']:.3g}"[:12] in g.message and f"since step {g.step:,}" in g.message
    assert "clipping at 1 (" in g.message
    # the drifting loss points to it
    f = the_drift(a)
    assert f"see the warning \"{g.title}\", {g.metric}, step {g.step:,}" in f.message
    # and its action acts on that cause, not on a list of suspects the row beside it has settled
    assert g.title in f.action and "Look at what changed" not in f.action, f.action


def test_a_growing_norm_the_clip_does_not_reach_is_info_and_a_steady_one_is_not_named(tmp_path):
    a, _ = clipped_run(tmp_path / "far", {"max_grad_norm": 100.0})
    (g,) = [f for f in a.findings if f.rule == "grad-norm"]
    assert g.severity == "info" and "does not bind" in g.message
    b, _ = clipped_run(tmp_path / "steady", {"max_grad_norm": 1.0}, grows=False)
    # a steady norm is no growth; at 1.5 above a clip of 1 at every step it is the clip binding (eval15 e_f3), info
    assert [(f.severity, f.case) for f in b.findings if f.rule == "grad-norm"] == [("info", "binding-steady")]
    assert not any("gradient norm" in f.message for f in b.findings if f.rule == "loss-now")


def test_the_clip_is_read_from_any_layout_and_only_when_it_clips_the_norm():
    lightning = {"lightning": {"trainer": {"gradient_clip_val": 0.5}}}
    assert clip_norm(lightning) == (0.5, "lightning.trainer.gradient_clip_val")
    assert clip_norm({"max_grad_norm": 1.0}) == (1.0, "max_grad_norm")
    assert clip_norm({"trainer": {"grad_clip": {"max_norm": 1.0}}}) == (1.0, "trainer.grad_clip.max_norm")
    assert clip_norm({"lightning": {"trainer": {"gradient_clip_val": 0.5, "gradient_clip_algorithm": "value"}}}) is None
    assert clip_norm({"trainer": {"gradient_clip_val": 0}}) is None  # 0: clipping off
    assert clip_norm({"model": {"max_norm": 3.0}}) is None  # a max_norm outside a clipping section
    assert clip_norm({"a": {"max_grad_norm": 1.0}, "b": {"max_grad_norm": 2.0}}) is None  # which one is not ours
