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


@pytest.mark.parametrize("key", ["model.base_learning_rate", None])
def test_a_named_scheduler_is_judged_with_its_base_rate_under_ldm_s_key_or_with_none(tmp_path, key):
    """eval13 b1_cosine_not_stepped: a cosine named in the config, its base rate at model.base_learning_rate (LDM's
    key), the logged lr constant: no lr-schedule finding at all ('lr n/a, not set'), where trainer.lr gave the
    warning. Read from LDM's key; with no base rate at all, the cosine's shape is judged from the first logged."""
    folder = ensure(CASES["lr_cosine_named_never_decays"], tmp_path / "source")
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_bytes((folder / "metrics.csv").read_bytes())
    config = yaml.safe_load((folder / "train_config.yaml").read_text())
    rate = config["optim"].pop("learning_rate")
    if key is not None:
        config["model"] = {"base_learning_rate": rate}
    (run / "train_config.yaml").write_text(yaml.safe_dump(config))
    a, f = lr_finding(run)
    assert f.severity == "warning" and "never stepped" in f.message
    assert a.schedule.lr == (rate if key else None)


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
    # eval13 b1_warmup_only_too_long: a warm-up ten times the config's, 'as the config says ... at it by step 1,000'
    def longer(steps, v, shape):
        v["lr"] = np.minimum(1e-4, 1e-4 * steps / 10_000)
        return {"config_patch": {"optim": {"warmup_steps": 1_000}}}
    _, h = lr_finding(_other_run(tmp_path, "warmup_longer", longer))
    assert h.severity == "warning" and h.step == 1_000 and "warm-up is as the config says" not in h.message
    assert "reaches only at step 9,900" in h.message and "about 9.9 times as long" in h.message


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


def _per_epoch_log(folder: Path, config: dict, lr_at) -> Path:
    """A loop logging once an epoch (an ``epoch`` column, no step) with csv.writer, its lr from ``lr_at(step)``
    of a scheduler stepped every optimizer step (400 an epoch)."""
    import csv
    import json

    folder.mkdir()
    (folder / "args.json").write_text(json.dumps(config))
    with (folder / "metrics.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", "lr", "rec_loss", "kl_loss", "total_loss"])
        for epoch in range(50):
            rec = 0.1 / (1 + epoch / 10)
            writer.writerow([epoch, lr_at((epoch + 1) * 400), rec, 5.0 + epoch / 50, rec + 5e-4])
    return folder


def test_a_per_step_schedule_against_logs_counted_in_epochs_is_described_in_both_units(tmp_path):
    # diffusers-style args: a 500-step warm-up, then a cosine; the logs count 50 epochs of 400 steps
    def lr_at(step):
        return 1e-4 * (step / 500 if step < 500 else 0.5 * (1 + np.cos(np.pi * (step - 500) / 19_500)))
    a, f = lr_finding(_per_epoch_log(tmp_path / "run", {"learning_rate": 1e-4, "lr_scheduler": "cosine",
                                                        "lr_warmup_steps": 500, "max_train_steps": 20_000}, lr_at))
    assert a.schedule.counts == "epoch" and f.severity == "info" and a.status == "ok"
    assert "a 500-step warm-up, then a cosine decay, counted in the scheduler's steps, while these logs count " \
           "epochs (to epoch 49)" in f.message and "described, not judged" in f.message
    assert "epoch 500" not in f.message  # a warm-up in steps is never placed on the epoch axis


def test_sgdr_whose_first_cycle_is_an_epoch_count_is_described_as_stepped_once_an_epoch(tmp_path):
    # CosineAnnealingWarmRestarts with T_0 = 5 (epochs), stepped once an epoch of 500 steps, logged every 10 steps
    import csv

    folder = tmp_path / "sgdr_epochs"
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump({"optimizer": {"lr": 2e-4}, "max_steps": 10_000,
                                                        "scheduler": {"name": "CosineAnnealingWarmRestarts",
                                                                      "T_0": 5, "eta_min": 1e-6}}))
    with (folder / "metrics.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "lr", "rec_loss", "kl_loss", "total_loss"])
        for step in range(0, 10_000, 10):
            lr = 1e-6 + (2e-4 - 1e-6) * 0.5 * (1 + np.cos(np.pi * ((step // 500) % 5) / 5))
            rec = 0.1 / (1 + step / 2000)
            writer.writerow([step, lr, rec, 5.0 + step / 10_000, rec + 5e-4])
    a, f = lr_finding(folder)
    assert f.severity == "info" and a.status == "ok", f.message
    assert "to 1e-06, restarting every 5 steps, sized at 5 of its scheduler's steps against 9,990 logged " \
           "steps: it is most likely stepped once an epoch" in f.message
    assert "not how many steps" not in f.message
    # the logged curve is read with its restarts, not as one decay over the run
    assert "decays from 0.0002 to 2e-05 and restarts 3 times, each back to about 0.0002 (the first at step 2,500, " \
           "the last at step 7,500)" in f.message


def test_a_stalled_run_gets_no_forecast_and_no_milestone_to_wait_for(tmp_path):
    # lr dropped to 0 at step 9,000 and the losses froze: nothing a later step would change
    a = analyze_run(ensure(CASES["stalled_lr0_flat"], tmp_path))
    assert a.forecast.rows() == [] and all("training has stalled since step" in why
                                           for _, why in a.forecast.declined())
    assert not [r for r in a.recommendations if r.startswith("Next check")]
    # the milestone the status line names is named here too: waiting for it is what is advised against
    m = a.next_milestone
    ahead = f"the next milestone (step {m.step:,}, {m.name})" if m else "a milestone"
    assert f"Waiting for {ahead} would change nothing: training has stalled: its losses have not changed since " \
        "step " in " ".join(a.recommendations)


def test_the_configuration_table_says_what_the_config_gave_in_steps_for_logs_counted_in_epochs(tmp_path):
    from vae_report.report_view import configuration

    a = analyze_run(ensure(CASES["healthy_epoch_console"], tmp_path))
    def plain(cells):
        return "".join(span.text for span in cells)

    rows = {plain(r.cells[0]): (plain(r.cells[1]), plain(r.cells[2])) for r in configuration(a).blocks[1].rows}
    assert rows["disc_start"] == ("n/a", "config: 50,001 optimizer steps, not converted (the logs count epochs)")
    assert rows["total_steps"][0].endswith(" epochs")  # a total in the logs' unit says its unit


def test_when_the_discriminator_switched_on_is_answered_with_disc_start_and_the_first_logged_step(tmp_path):
    a = analyze_run(ensure(CASES["healthy_long_hinge_equilibrium"], tmp_path))
    (qa,) = [q for q in a.qa if q.question == "When did the discriminator become active?"]
    d = a.schedule.disc_start
    assert qa.answer.startswith(f"At step {d:,}, as scheduled (disc_start, from "), qa.answer
    first = next(f for f in a.findings if f.rule == "disc-inactive-after-start").step
    assert first == d or f"the first step logged after it, {first:,}, shows it on" in qa.answer


def _torch_run(folder: Path, scheduler: dict, make, steps_per_epoch: int = 500, stepped: bool = True,
               every: int = 20, last: int = 6_000) -> Path:
    """A plain loop driving a torch scheduler (``make(opt)``; ``scheduler``'s ``interval`` says when it is stepped:
    once an epoch of ``steps_per_epoch`` or once a step), its lr and losses written with csv.writer."""
    import csv

    import torch

    folder.mkdir()
    config = {"train": {"lr": 2e-4, "max_steps": last, "steps_per_epoch": steps_per_epoch, "scheduler": scheduler},
              "loss": {"kl_weight": 1e-4}}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=2e-4)
    sched = make(opt)
    per_epoch = scheduler.get("interval") == "epoch"
    with (folder / "metrics.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "lr", "rec_loss", "kl_loss", "total_loss"])
        for step in range(last):
            if step % every == 0:
                rec = 0.1 / (1 + step / 2000)
                writer.writerow([step, opt.param_groups[0]["lr"], rec, 5.0, rec + 5e-4])
            opt.step()
            if stepped and (not per_epoch or (step + 1) % steps_per_epoch == 0):
                if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    sched.step(1.0)
                else:
                    sched.step()
    return folder


TORCH_SCHEDULERS = {
    "StepLR": ({"type": "StepLR", "step_size": 3, "gamma": 0.5, "interval": "epoch"},
               lambda o: __import__("torch").optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
               "a step decay (StepLR): x0.5 every 3 epochs (1,500 steps)"),
    "MultiStepLR": ({"name": "MultiStepLR", "milestones": [2000, 4500], "gamma": 0.1, "interval": "step"},
                    lambda o: __import__("torch").optim.lr_scheduler.MultiStepLR(o, milestones=[2000, 4500],
                                                                                gamma=0.1),
                    "a decay at milestones (MultiStepLR): x0.1 at steps 2,000, 4,500"),
    "ExponentialLR": ({"type": "ExponentialLR", "gamma": 0.8, "interval": "epoch"},
                      lambda o: __import__("torch").optim.lr_scheduler.ExponentialLR(o, gamma=0.8),
                      "an exponential decay (ExponentialLR): x0.8 every epoch (500 steps each)"),
}


@pytest.mark.parametrize("name", list(TORCH_SCHEDULERS))
def test_torchs_step_wise_schedulers_are_held_to_their_formulas(tmp_path, name):
    pytest.importorskip("torch")
    scheduler, make, words = TORCH_SCHEDULERS[name]
    a, f = lr_finding(_torch_run(tmp_path / "run", scheduler, make))
    assert f.severity == "ok" and "follows the config at every stretch" in f.message, f.message
    assert words in f.message and "names no scheduler" not in f.message
    a, f = lr_finding(_torch_run(tmp_path / "never_stepped", scheduler, make, stepped=False))
    assert f.severity == "warning" and "follows the config" not in f.message, f.message


@pytest.mark.parametrize("scheduler, make, words", [
    ({"type": "OneCycleLR", "max_lr": 2e-4, "total_steps": 6000},
     lambda o: __import__("torch").optim.lr_scheduler.OneCycleLR(o, max_lr=2e-4, total_steps=6000),
     "torch's OneCycleLR"),
    ({"type": "ReduceLROnPlateau", "factor": 0.5, "patience": 2, "interval": "epoch"},
     lambda o: __import__("torch").optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=2),
     "torch's ReduceLROnPlateau"),
    ({"type": "PolynomialLRDecayWithRestarts", "power": 2.0},
     lambda o: __import__("torch").optim.lr_scheduler.PolynomialLR(o, total_iters=6000, power=2.0),
     "a scheduler 'PolynomialLRDecayWithRestarts'"),
])
def test_a_scheduler_the_report_does_not_model_is_described_never_called_absent(tmp_path, scheduler, make, words):
    pytest.importorskip("torch")
    _, f = lr_finding(_torch_run(tmp_path / "run", scheduler, make))
    assert f.severity == "info" and words in f.message and "does not model" in f.message, f.message
    assert "names no scheduler" not in f.message


def test_trainer_max_steps_beside_model_lossconfig_is_the_total(tmp_path):
    # RadioDiff's layout (model.lossconfig) with Lightning's trainer.max_steps in place of train_num_steps
    import csv

    (tmp_path / "config.yaml").write_text(yaml.safe_dump(
        {"model": {"lossconfig": {"disc_start": 5001, "kl_weight": 1e-6}}, "trainer": {"max_steps": 6000}}))
    with (tmp_path / "m.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "rec_loss"])
        writer.writerows([s, 0.3 / (1 + s / 500)] for s in range(0, 3000, 10))
    a = analyze_run(tmp_path)
    assert a.schedule.total_steps == 6000 and a.schedule.origins["total_steps"] == "config.yaml: trainer.max_steps"


def test_a_total_given_as_epochs_times_steps_per_epoch(tmp_path):
    import csv

    (tmp_path / "config.yaml").write_text(yaml.safe_dump(
        {"loss": {"disc_start": 40001, "kl_weight": 1e-6}, "trainer": {"max_epochs": 60, "iters_per_epoch": 1000}}))
    with (tmp_path / "m.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "rec_loss"])
        writer.writerows([s, 0.3 / (1 + s / 500)] for s in range(0, 30_000, 50))
    a = analyze_run(tmp_path)
    assert a.schedule.total_steps == 60_000
    assert "trainer.max_epochs 60 x trainer.iters_per_epoch 1,000" in a.schedule.origins["total_steps"]
