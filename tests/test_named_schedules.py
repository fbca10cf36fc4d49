"""Issue 18, item 5 (a scheduler the config names is judged) and the KL share (item 2): a learning rate held to
the schedule its config names, in each way configs name one, and a KL weight that applies to another scale
than the logged KL. Runs written by real writers: the battery's (another trainer's CSV and YAML), and
TensorBoard event files with an LDM config for latent-diffusion's LambdaLinearScheduler."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from benchmarks.diagnosis.cases import Case, lr_named  # noqa: E402
from benchmarks.diagnosis.catalog import NO_GAN, all_cases  # noqa: E402
from benchmarks.diagnosis.curves import Shape  # noqa: E402
from benchmarks.diagnosis.expect import Expect  # noqa: E402
from benchmarks.diagnosis.run import ensure  # noqa: E402
from vae_report import analyze_run  # noqa: E402

CASES = {case.name: case for case in all_cases()}


def lr_finding(folder: Path):
    a = analyze_run(folder)
    (f,) = [f for f in a.findings if f.rule == "lr-schedule"]
    return a, f


def test_a_constant_lr_against_a_named_cosine_is_a_warning_dated_where_they_first_differ(tmp_path):
    # optim.scheduler: cosine, min_lr 1e-6, over max_steps 20,000; the logged lr stays 1e-4 (never stepped)
    a, f = lr_finding(ensure(CASES["lr_cosine_named_never_decays"], tmp_path))
    assert f.severity == "warning" and a.status == "warning"
    # the cosine is 2% below 1e-4 from ~step 1,816: dated there, not at step 0 and not at the end
    assert 1_700 <= f.step <= 1_900 and f"from step {f.step:,} on" in f.message
    assert "a cosine decay over 20,000 steps to 1e-06, named by train_config.yaml: optim.scheduler" in f.message
    assert "never stepped" in f.message and "follows the config" not in f.message


@pytest.mark.parametrize("name, words", [
    ("healthy_hf_linear_warmup", "a 1,000-step warm-up, then a linear decay over 20,000 steps"),
    ("healthy_cosine_annealing_followed",
     "a cosine decay over 20,000 steps to 1e-06, named by train_config.yaml: lr_scheduler"),
])
def test_a_logged_lr_that_follows_the_named_schedule_passes_it(tmp_path, name, words):
    a, f = lr_finding(ensure(CASES[name], tmp_path))
    assert f.severity == "ok" and "follows the config at every stretch" in f.message and words in f.message
    assert "described" not in f.message and a.status == "ok"


def _other_run(tmp_path: Path, name: str, edit) -> Path:
    shape = Shape(last_step=10_000, total_steps=10_000, disc_start=NO_GAN, every=20, lr=1e-4, lr_kind="constant",
                  seed=97)
    return ensure(Case(name, "test", "other_csv", shape, Expect("ok"), fault=edit), tmp_path)


def test_a_config_that_names_only_a_warm_up_has_the_warm_up_judged_and_the_rest_described(tmp_path):
    # warmup_steps 1,000 and nothing else: the warm-up followed, then a decay nobody named
    def followed(steps, v, shape):
        v["lr"] = np.where(steps < 1_000, 1e-4 * steps / 1_000, 1e-4 * (1 - 0.5 * (steps - 1_000) / 9_000))
        return {"config_patch": {"optim": {"warmup_steps": 1_000}}}
    _, f = lr_finding(_other_run(tmp_path, "warmup_followed", followed))
    assert f.severity == "info" and "warm-up is as the config says" in f.message and "described" in f.message
    # the same config, the lr at its base rate from step 0: the warm-up never ran
    _, g = lr_finding(_other_run(tmp_path, "warmup_skipped", lr_named("constant", 1e-4, patch={
        "optim": {"warmup_steps": 1_000}})))
    assert g.severity == "warning" and g.step == 0 and "warm-up did not run" in g.message


def test_a_warm_up_of_another_schedule_is_not_the_learning_rates(tmp_path):
    # a KL annealing section's warmup_steps and cosine beside lr_scheduler_type: linear with its own 500-step
    # warm-up
    patch = {"optim": {"lr_scheduler_type": "linear", "warmup_steps": 500},
             "kl_anneal": {"warmup_steps": 4_000, "schedule_type": "cosine"}}
    _, f = lr_finding(_other_run(tmp_path, "beta_warmup", lr_named("linear", 1e-4, warmup=500, patch=patch)))
    assert f.severity == "ok" and "a 500-step warm-up, then a linear decay" in f.message
    assert "4,000" not in f.message and "cosine" not in f.message


@pytest.mark.parametrize("stuck, scale", [(False, 1), (False, 12), (True, 12)])
def test_ldms_lambda_linear_scheduler_is_held_to_its_warm_up(tmp_path, stuck, scale):
    # latent-diffusion's scheduler_config: LambdaLinearScheduler, f_start 1e-6 -> f_max 1 over 2,000 steps,
    # then f_min = f_max = 1 (constant): the logged lr-Adam follows it, or stays at f_start (stuck); main.py
    # scales base_learning_rate by batch_size 12 (scale 12, one GPU) unless told not to (scale 1)
    from writers import radiodiff_curves, write_scalars

    curves = radiodiff_curves(8_000, disc_start=50_001, total_steps=10_000, every=20)
    base, x = 4.5e-6 * scale, curves.steps.astype(float)
    factor = np.full(len(x), 1e-6) if stuck else np.where(x < 2_000, 1e-6 + (1 - 1e-6) * x / 2_000, 1.0)
    curves.values["lr"] = base * factor
    from benchmarks.diagnosis.writers import ldm_config

    config = ldm_config(50_001)  # an LDM config as latent-diffusion's main.py saves it
    config["model"]["params"]["scheduler_config"] = {
        "target": "ldm.lr_scheduler.LambdaLinearScheduler",
        "params": {"warm_up_steps": [2_000], "cycle_lengths": [10_000_000_000_000], "f_start": [1e-6],
                   "f_max": [1.0], "f_min": [1.0]}}
    points = [(int(s), "lr-Adam" if k == "lr" else f"train/{k}", float(v[i]))
              for i, s in enumerate(curves.steps) for k, v in curves.values.items()]
    write_scalars(tmp_path, points)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    _, f = lr_finding(tmp_path)
    assert "LambdaLinearScheduler" in f.message and "RadioDiff" not in f.message, f.message
    if stuck:  # the scheduled rate leaves f_start at once: dated at the first step they differ, by 2%
        assert f.severity == "warning" and f.step <= 60, f.message
    else:
        assert f.severity == "ok", f.message
        assert ("main.py's scaling" in f.message) == (scale > 1), f.message


def test_a_kl_weight_on_another_scale_than_the_logged_kl_claims_no_share_and_no_dominance(tmp_path):
    # kl_weight 1e-3 multiplies the KL's mean over 768 latent dims; the KL is logged summed, the total is
    # rec + kl_weight x kl / 768: kl_weight x kl_loss alone is far above the logged total
    a = analyze_run(ensure(CASES["healthy_kl_weight_other_scale"], tmp_path))
    assert a.status == "ok"
    assert not [f for f in a.findings if f.severity in ("warning", "error")]
    (dominant,) = [f for f in a.findings if f.rule == "kl-dominant"]
    assert dominant.severity == "info" and "another scale" in dominant.message
    assert "more than the whole logged total" in dominant.message
    assert dominant.numbers["kl_term"] > dominant.numbers["total"]
    # no sentence anywhere claims a share of the total for the KL term
    assert not any("of the loss's size" in f.message or "of the total loss's" in f.message for f in a.findings)


def test_a_schedule_sized_in_epochs_is_described_not_held_to_the_step_axis(tmp_path):
    # CosineAnnealingLR with T_max 40, stepped once an epoch of 500 steps; the lr logged every 20 steps
    def per_epoch(steps, v, shape):
        epoch = steps // 500
        v["lr"] = 1e-6 + (1e-4 - 1e-6) * 0.5 * (1 + np.cos(np.pi * np.clip(epoch / 40, 0, 1)))
        return {"config_patch": {"lr_scheduler": {"type": "CosineAnnealingLR", "T_max": 40, "eta_min": 1e-6}}}
    a, f = lr_finding(_other_run(tmp_path, "epoch_cosine", per_epoch))
    assert f.severity == "info" and "stepped once an epoch" in f.message and a.status == "ok"
    # the same config with the lr never stepped: a constant rate is no schedule in any unit
    _, g = lr_finding(_other_run(tmp_path, "epoch_cosine_constant", lr_named("constant", 1e-4, patch={
        "lr_scheduler": {"type": "CosineAnnealingLR", "T_max": 40, "eta_min": 1e-6}})))
    assert g.severity == "warning" and "never stepped" in g.message


def test_hugging_faces_warmup_ratio_is_a_share_of_the_runs_steps(tmp_path):
    # lr_scheduler_type: cosine, warmup_ratio 0.1 of max_steps 10,000: a 1,000-step warm-up, then the cosine
    patch = {"optim": {"lr_scheduler_type": "cosine", "warmup_ratio": 0.1, "warmup_steps": 0}}
    _, f = lr_finding(_other_run(tmp_path, "warmup_ratio", lr_named("cosine", 1e-4, warmup=1_000, patch=patch)))
    assert f.severity == "ok" and "a 1,000-step warm-up, then a cosine decay over 10,000 steps" in f.message


def test_ldms_warm_up_cosine_scheduler_is_held_to_its_formula(tmp_path):
    # LambdaWarmUpCosineScheduler: lr_start 0.01 -> lr_max 1 over 1,000 steps, cosine to lr_min 0.1 by step 8,000
    # (factors of base_learning_rate); the logged lr follows it, and main.py did not scale (scale_lr false)
    from writers import radiodiff_curves, write_scalars

    from benchmarks.diagnosis.writers import ldm_config

    curves = radiodiff_curves(8_000, disc_start=50_001, total_steps=10_000, every=20)
    x = curves.steps.astype(float)
    t = np.clip((x - 1_000) / 7_000, 0, 1)
    factor = np.where(x < 1_000, 0.01 + 0.99 * x / 1_000, 0.1 + 0.45 * (1 + np.cos(np.pi * t)))
    curves.values["lr"] = 4.5e-6 * factor
    config = ldm_config(50_001)
    config["model"]["params"]["scheduler_config"] = {
        "target": "ldm.lr_scheduler.LambdaWarmUpCosineScheduler",
        "params": {"warm_up_steps": 1_000, "lr_start": 0.01, "lr_max": 1.0, "lr_min": 0.1, "max_decay_steps": 8_000}}
    points = [(int(s), "lr-Adam" if k == "lr" else f"train/{k}", float(v[i]))
              for i, s in enumerate(curves.steps) for k, v in curves.values.items()]
    write_scalars(tmp_path, points)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    _, f = lr_finding(tmp_path)
    assert f.severity == "ok" and "LambdaWarmUpCosineScheduler" in f.message, f.message


def _sgdr_run(folder: Path, t_mult: int, restarts: bool) -> Path:
    """A plain loop stepping torch's CosineAnnealingWarmRestarts once a step, its lr and losses written with
    csv.writer; ``restarts=False`` logs a run whose scheduler was swapped for one cosine that never restarts."""
    import csv

    import torch

    folder.mkdir()
    config = {"optimizer": {"name": "Adam", "lr": 2e-4}, "max_steps": 7000, "kl_weight": 1e-4,
              "scheduler": {"name": "CosineAnnealingWarmRestarts", "T_0": 1000, "T_mult": t_mult, "eta_min": 1e-6}}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=2e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=1000, T_mult=t_mult, eta_min=1e-6) \
        if restarts else torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7000, eta_min=1e-6)
    with (folder / "metrics.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "lr", "rec_loss", "kl_loss", "total_loss"])
        for step in range(7000):
            if step % 20 == 0:
                rec = 0.1 / (1 + step / 2000)
                writer.writerow([step, opt.param_groups[0]["lr"], rec, 5.0, rec + 5e-4])
            opt.step()
            sched.step()
    return folder


@pytest.mark.parametrize("t_mult", [1, 2])
def test_cosine_annealing_warm_restarts_named_under_scheduler_is_held_to_torchs_formula(tmp_path, t_mult):
    a, f = lr_finding(_sgdr_run(tmp_path / "run", t_mult, restarts=True))
    assert f.severity == "ok" and "follows the config at every stretch" in f.message, f.message
    assert "warm restarts" in f.message and "1,000 steps" in f.message
    a, f = lr_finding(_sgdr_run(tmp_path / "broken", t_mult, restarts=False))
    assert f.severity == "warning" and "follows the config" not in f.message, f.message
