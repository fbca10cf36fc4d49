"""What the report tells the engineer to do follows the case's own numbers and the config it read (review 5,
defect classes 5, 7 and 10): a remedy never advises a check the report has already answered, the next check
considers every warning and error, and the KL's fall is judged with its weight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_verdicts import _rebuild_sums, config, verdict, write_run
from writers import radiodiff_curves

from vae_report.narrative import questions_and_answers
from vae_report.numbers import fmt


def _kl_falls(rec_rises: bool):
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    late = curves.steps >= 10_000
    curves.values["kl_loss"][late] *= np.exp(-(curves.steps[late] - 10_000) / 500)
    if rec_rises:
        curves.values["rec_loss"][late] *= 1 + 0.5 * np.minimum(1, (curves.steps[late] - 10_000) / 3000)
    _rebuild_sums(curves)
    return curves


@pytest.mark.parametrize("kl_weight", [1.0, 1e-6])
def test_a_kl_fall_with_improving_reconstruction_is_judged_by_its_weight(tmp_path, kl_weight):
    folder = write_run(tmp_path, _kl_falls(rec_rises=False), 10,
                       config(disc_start=50_001, total=150_000, kl_weight=kl_weight))
    a, _ = verdict(folder)
    (f,) = [f for f in a.findings if f.rule == "kl-collapse"]
    why = next(q.answer for q in questions_and_answers(a) if q.question.startswith("Why") and f.title in q.question)
    if kl_weight == 1.0:  # the weight pulls the posterior to the prior: the textbook collapse, whatever rec did
        assert f.title == "Posterior collapse" and "textbook posterior collapse" in f.message
        assert "kl_weight 1 (config.yaml)" in f.message and "likely no collapse" not in f.message
        assert "annealed from 0 up to 1" in f.action.lower() and "free bits" in f.action
        # a KL warm-up from 0 begins with untrained weights: a fresh start, never called a resume (review 6 #12)
        warm_up = f.action.split(", or ")[0]
        assert "retrain from the start" in warm_up and "resum" not in warm_up.replace("no resume", ""), f.action
        assert "collapsed posterior" in why.lower()
    else:  # too light to pull it there, and rec kept improving: the logged KL is what to check; one verdict
        assert f.title != "Posterior collapse" and "collapse" not in f.title.lower()
        assert "likely no collapse" in f.message and "kl_weight 1e-06 (config.yaml)" in f.message
        assert "check how kl_loss is computed and logged" in f.action.lower() and "anneal" not in f.action
        assert "collapsed posterior" not in why.lower()


def _recommendations(a) -> str:
    return "\n".join(a.recommendations)


def test_a_discriminator_kept_off_by_the_configs_disc_factor_is_told_to_set_it(tmp_path):
    curves = radiodiff_curves(20_000, disc_start=10_001, total_steps=150_000)
    curves.values["disc_factor"][:] = 0.0  # adopt_weight x disc_factor 0: never on
    curves.values["disc_loss"][:] = 0.0
    _rebuild_sums(curves)
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=10_001, total=150_000, disc_factor=0.0)))
    (f,) = [f for f in a.findings if f.rule == "disc-inactive-after-start"]
    # off by the config: a warning (it may be meant), not a discriminator that failed to switch on
    assert f.severity == "warning" and "config sets disc_factor: 0 (config.yaml: model.lossconfig.disc_factor)" \
        in f.message
    # the action is the fix the config shows, never "check that disc_factor is not 0"
    assert f.action.startswith("Set disc_factor to 1 (config.yaml: model.lossconfig.disc_factor")
    assert "not 0" not in f.action and "step 20,000" in f.action  # the latest checkpoint, every 5,000 steps
    assert f.action.endswith("if the GAN was meant to train.")
    from vae_report.view import status_parts
    assert "phase: autoencoder only (the config's disc_factor is 0)" in status_parts(a)


def test_a_discriminator_off_under_a_non_zero_disc_factor_is_not_told_to_check_it(tmp_path):
    curves = radiodiff_curves(20_000, disc_start=10_001, total_steps=150_000)
    curves.values["disc_factor"][:] = 0.0
    curves.values["disc_loss"][:] = 0.0
    _rebuild_sums(curves)
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=10_001, total=150_000, disc_factor=1.0)))
    (f,) = [f for f in a.findings if f.rule == "disc-inactive-after-start"]
    assert "disc_factor is not 0" not in f.action and "global step" in f.action
    assert "disc_factor is 1 (config.yaml: model.lossconfig.disc_factor)" in f.action


def _nan_at(tmp_path, lr_jump: bool, files: bool):
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=40_000)
    if lr_jump:  # the lr x10 from step 14,000: the logs point at it
        curves.values["lr"] = np.where(curves.steps >= 14_000, 5e-5, 5e-6)
    else:
        curves.values["lr"] = np.full(len(curves.steps), 5e-6)
    bad = curves.steps >= 16_000
    for name in ("rec_loss", "kl_loss"):
        curves.values[name][bad] = np.nan
    _rebuild_sums(curves)
    folder = write_run(tmp_path, curves, 10, config(disc_start=50_001, total=40_000))
    if files:  # RadioDiff's results folder: model-<step // save_and_sample_every>.pt
        import torch

        for milestone in (1, 2, 3, 4):
            torch.save({"step": milestone * 5000}, folder / f"model-{milestone}.pt")
    return verdict(folder)[0]


@pytest.mark.parametrize("lr_jump,files", [(False, False), (False, True), (True, False)])
def test_a_nan_names_the_checkpoint_before_it_and_blames_the_lr_only_on_evidence(tmp_path, lr_jump, files):
    a = _nan_at(tmp_path, lr_jump, files)
    f = next(f for f in a.findings if f.rule == "non-finite" and f.severity == "error")
    assert f.step == 16_000
    if files:  # the file on disk, by the step its name gives
        assert "model-3.pt (step 15,000)" in f.action and "model-4.pt" not in f.action
    else:  # the step the config's save interval saved it at, and RadioDiff's name for it
        assert "the checkpoint saved at step 15,000" in f.action and "model-3.pt" in f.action
    if lr_jump:
        assert "lower learning rate (the learning rate rose from 5e-06 to 5e-05" in f.action, f.action
    else:
        assert "lower learning rate" not in f.action and "held at 5e-06" in f.action, f.action


def _battery(tmp_path, name):
    from test_balance_onsets import CASES, analyze_run, ensure

    return analyze_run(ensure(CASES[name], tmp_path))


def test_a_reconstruction_cost_that_has_persisted_is_acted_on_with_the_config_path(tmp_path):
    # rec +51% from step 50,800 (disc_start 50,001) to step 90,000 of 150,000
    a = _battery(tmp_path, "rec_worse_after_disc")
    (f,) = [f for f in a.active_findings() if f.rule == "rec-after-disc"]
    # the term's small value is said not to be its pull: the adaptive d_weight scales its gradient
    assert "its value is not its pull" in f.message and "The cause is the discriminator's weight" not in f.message
    lasted = a.step - f.step
    assert f.action.startswith(f"The rise has persisted since step {f.step:,} ({lasted:,} steps")
    assert "lower disc_weight (0.5 in first_radio.yaml: model.lossconfig.disc_weight)" in f.action
    assert "if it persists" not in f.action.lower()
    # eval13 b6_train_strong_disc: resumed from the latest checkpoint, it kept the weights that paid for the rise
    assert f"resume from the checkpoint saved at step {(f.step - 1) // 5000 * 5000:,}, the last before step " \
        f"{f.step:,}" in f.action and "latest checkpoint" not in f.action, f.action
    # a warning about the training itself: the next look is at the next checkpoint, not at the end of training
    said = _recommendations(a)
    assert f"Next check: step {(a.step // 5000 + 1) * 5000:,} (the next checkpoint" in said
    assert "Next check: step 150,000" not in said


def test_a_finished_run_that_logs_validation_once_per_epoch_is_finished(tmp_path):
    # Lightning, max_epochs 100 in hparams.yaml, validation only, logged at each epoch's end (500 steps each)
    import yaml
    from writers import write_scalars

    steps = np.arange(500, 50_001, 500)
    rec = 0.015 + 0.06 * np.exp(-steps / 8000)
    write_scalars(tmp_path / "tb", [(int(s), "val/rec_loss", float(v)) for s, v in zip(steps, rec, strict=True)])
    (tmp_path / "hparams.yaml").write_text(yaml.safe_dump({"max_epochs": 100, "kl_weight": 1e-4, "lr": 1e-4}))
    a, _ = verdict(tmp_path)
    assert a.schedule.total_steps == 50_000 and a.finished
    assert "500 steps per epoch" in a.schedule.origins["total_steps"]
    said = _recommendations(a)
    assert "continue training" not in said and "No validation metric was logged" not in said
    assert "Training has finished" in said
    # stopped at epoch 60: not finished, the total still known
    b, _ = verdict(_shorter(tmp_path / "b", steps[:60], rec[:60]))
    assert b.schedule.total_steps == 50_000 and not b.finished


def _shorter(folder, steps, rec):
    import yaml
    from writers import write_scalars

    write_scalars(folder / "tb", [(int(s), "val/rec_loss", float(v)) for s, v in zip(steps, rec, strict=True)])
    (folder / "hparams.yaml").write_text(yaml.safe_dump({"max_epochs": 100, "kl_weight": 1e-4}))
    return folder


def test_a_stretch_that_trained_nothing_resumes_from_the_newest_checkpoint_a_nan_from_before_it(tmp_path):
    # lr exactly 0 from step 4,000 to the end (20,000), a checkpoint every 5,000 steps: every checkpoint from
    # step 5,000 on holds step 4,000's weights, so the newest one loses nothing (review 6 #2)
    a = _battery(tmp_path, "lr_zero_at_20pct")
    (f,) = [f for f in a.active_findings() if f.rule == "run-stalled"]
    every = a.schedule.checkpoint_every
    newest = a.step // every * every
    assert newest > f.step  # the checkpoints after the onset are the ones a stall keeps good
    assert f"resume from the latest checkpoint (saved at step {newest:,}, every {every:,} steps): it holds the " \
           f"weights of step {f.step:,}" in f.action, f.action
    assert "from the start" not in f.action and "before step" not in f.action
    # the scheduler restarts where it stopped: the rate logged just before the stretch
    import pandas as pd

    logged = pd.read_csv(Path(a.run) / "metrics.csv")
    lr = logged[(logged.step < f.step) & (logged["train/lr"] > 0)].iloc[-1]
    assert f"so that it restarts at the rate it had at step {int(lr.step):,} ({fmt(lr['train/lr'])})" in f.action
    # a NaN that stays damaged the weights from its onset: the checkpoint before it, not the newest
    nan = _battery(tmp_path, "nan_to_the_end")
    g = next(g for g in nan.active_findings() if g.rule == "non-finite" and g.severity == "error")
    before = (g.step - 1) // every * every
    assert f"the checkpoint saved at step {before:,}, the last before step {g.step:,}" in g.action, g.action
    assert "latest checkpoint" not in g.action


def test_a_measured_shift_names_the_checkpoint_to_keep_without_a_hedge(tmp_path):
    # a finished run whose rec_loss stepped up x2.5 at step 20,000 and stayed (review 6 #12: "if the model is worse
    # for it" after a measured x2.7, and "which checkpoint to keep" promised and never given)
    curves = radiodiff_curves(40_000, disc_start=30_001, total_steps=40_000)
    up = curves.steps >= 20_000
    curves.values["rec_loss"][up] *= 2.5
    _rebuild_sums(curves)
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=30_001, total=40_000)))
    assert a.finished
    (f,) = [f for f in a.active_findings() if f.rule == "loss-shift" and f.severity == "warning"]
    every = a.schedule.checkpoint_every
    keep = f"the checkpoint saved at step {(f.step - 1) // every * every:,}, the last before step {f.step:,}"
    assert "if the model is worse" not in f.action and f"the checkpoint to keep is {keep}" in f.action, f.action
    size = f"x{fmt(round(f.numbers['ratio'], 1))}"  # the size the finding measured, said the same in both
    assert f"({size}, far beyond its noise)" in f.message and f"({size}) and never came back" in f.action, f.action
    finished = next(r for r in a.recommendations if r.startswith("Training has finished"))
    assert f"the checkpoint to keep is {keep}" in finished and f"as \"{f.title}\" says" in finished, finished


def test_a_rise_dated_before_the_gradient_growth_it_is_linked_to_says_so(tmp_path):
    # review 6 #12: rec's rise dated 19,050 and the grad norm's growth 20,150 were told as one story ("treat the
    # rise as the gradient norm's growth"), the effect before its cause
    a = _battery(tmp_path, "rec_drift_under_clipping")
    (g,) = [g for g in a.active_findings() if g.rule == "grad-norm"]
    linked = [f for f in a.active_findings() if f.numbers.get("gradient_norm_finding")]
    assert linked
    for f in linked:
        if g.step - f.step > 0.01 * a.step:
            ahead = f"{g.step - f.step:,} steps before that growth began"
            assert ahead in f.message and "did not start it" in f.message, f.message
            assert "Treat the rise as" not in f.action and f"Look at what changed at step {f.step:,}" in f.action
        else:
            assert f.action.startswith("Treat the rise as the gradient norm's growth")
    assert any(g.step - f.step > 0.01 * a.step for f in linked)  # this run's rise is dated before the growth


def test_a_won_discriminator_is_weakened_by_its_own_knobs_and_disc_weight_follows_the_reconstruction(tmp_path):
    # review 6 #3: "weaken the discriminator: lower disc_weight" is wrong by the loss (disc_weight scales only the
    # generator's term); whether disc_weight should come down is read from what reconstruction did
    a = _battery(tmp_path, "d_overpowering")
    (f,) = [f for f in a.active_findings() if f.rule == "disc-overpowering"]
    (rec,) = [r for r in a.findings if r.rule == "rec-after-disc"]
    weaken = f.action.split(". ")[0]
    assert weaken.startswith("Weaken the discriminator itself: lower its learning rate") and "disc_weight" not in \
        weaken and "later" not in weaken  # the run is past disc_start: no resume can start it later
    assert "5e-06 in config.yaml: trainer.lr" in weaken  # RadioDiff's opt_disc shares the autoencoder's lr
    # what reconstruction paid is read from where the discriminator began to win (review 8), to the one Now
    before, now = f.numbers["rec_before_win"], f.numbers["rec_now"]
    assert now == rec.numbers["now"]["rec_loss"] and now < before
    assert f"since the discriminator began to win (step {f.step:,}), rec_loss fell from {fmt(before)} to " \
           f"{fmt(now)}" in f.action, (f.numbers, f.action)
    assert "disc_weight (0.5 in config.yaml: model.lossconfig.disc_weight), which scales only the generator's " \
           "adversarial term" in f.action and f.action.endswith("can stay.")


# the imperatives a KL finding may give: each names one lever, and a report gives one per finding (review 7 #2)
_LEVERS = ("lower the learning rate", "raise kl_weight", "lower kl_weight", "check the encoder's log-variance")


def _levers(text: str) -> set[str]:
    return {lever for lever in _LEVERS if lever in text.lower()}


def test_a_kl_far_above_radiodiffs_level_gets_one_action_from_finding_recommendation_and_answers(tmp_path):
    """A KL rising to ~150 nats per latent dimension under kl_weight 1e-6 costs the loss nothing: no lr problem.
    The finding's action, the Recommendation, the "act on first" answer and the "why it matters" answer say one
    thing, from one place (the finding's action and its case's rationale)."""
    curves = radiodiff_curves(20_000, disc_start=10_001, total_steps=20_000)
    curves.values["kl_loss"] *= 15
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 20, config(disc_start=10_001, total=20_000)))
    (f,) = [f for f in bad if f.rule == "kl-rising"]
    assert f.severity == "warning" and "nats per dimension" in f.message
    assert _levers(f.action) == {"raise kl_weight", "check the encoder's log-variance"}, f.action
    assert not _levers(f.message), f.message  # the finding's words carry no second, different action
    (rec,) = [r for r in a.recommendations if f.title in r]
    assert _levers(rec) == _levers(f.action), rec
    qa = {q.question: q.answer for q in questions_and_answers(a)}
    first = next(v for k, v in qa.items() if k.endswith("need attention?"))
    # the answer names the finding and points to its Recommendation (said once), with no other lever of its own
    assert f.title in first and "Recommendations" in first and _levers(first) <= _levers(f.action), first
    why = next(v for k, v in qa.items() if k.startswith("Why") and f.title in k)
    # not the rule's "matters only if the weighted term becomes a real share": at 0.1% it never will
    assert "real share" not in why and "scale" in why, why


def test_a_run_stopped_days_ago_is_acted_on_before_a_kl_drift(tmp_path):
    """What to act on first follows the harm of waiting, not the rules' order (review 7 #6): a process that
    stopped 3 days ago comes before a KL drifting under a tiny weight, in the Recommendations and in the answer."""
    curves = radiodiff_curves(7_000, disc_start=10_001, total_steps=20_000)
    curves.values["kl_loss"] *= 15
    _rebuild_sums(curves)
    folder = write_run(tmp_path, curves, 20, config(disc_start=10_001, total=20_000))
    now = 1.7e9 + 7_000 * 0.5 + 3 * 86_400  # write_scalars' clock: 0.5 s a step from 1.7e9
    a, bad = verdict(folder, now=now)
    assert {"liveness", "kl-rising"} <= {f.rule for f in bad}, [f.rule for f in bad]
    assert a.recommendations[0].startswith("Look into: Training speed and liveness"), a.recommendations
    answer = next(q.answer for q in questions_and_answers(a) if q.question.startswith("Should I intervene"))
    assert answer.startswith('Yes, act on the warning "Training speed and liveness"'), answer


def test_a_rise_that_begins_at_the_switch_on_is_the_gans_not_the_lrs(tmp_path):
    """A short run whose adversarial phase is too young to judge alone (review 7 #2, r06): the reconstruction is
    at its lowest just before the discriminator switches on and rises from its first step on. The rise is dated no
    earlier than that low, given to disc_weight (not to an lr 40 times RadioDiff's that trained well before it),
    and said once, under the switch-on's finding."""
    rng = np.random.default_rng(1)
    steps = np.arange(0, 300, 10)
    rec = 0.3 + 0.8 * np.exp(-steps / 40) + 0.03 * rng.standard_normal(len(steps))
    rec[8] = rec[9] + 0.05  # a bump two points before the low: a rise dated from it would precede the low
    on = steps >= 101
    rec[on] = np.minimum(0.3 * 1.6 ** ((steps[on] - 100) / 10), 1.45) + 0.03 * rng.standard_normal(on.sum())
    curves = radiodiff_curves(290, disc_start=101, total_steps=300, every=10, seed=1, lr=2e-4)
    curves.values["rec_loss"] = np.abs(rec)
    _rebuild_sums(curves)
    cfg = config(disc_start=101, total=300, disc_weight=50.0)
    cfg["trainer"]["lr"] = 2e-4
    a, bad = verdict(write_run(tmp_path, curves, 10, cfg))
    low = int(steps[:on.argmax()][np.argmin(rec[:on.argmax()])])
    for f in bad:
        assert "learning rate" not in f.action.lower() and "likely cause" not in f.message, (f.rule, f.message)
        assert f.step is None or f.step >= low, (f.rule, f.step, low)
    heads = [f for f in bad if f.metric in ("rec_loss", "nll_loss", "total_loss")]
    assert len(heads) == 1, [(f.rule, f.metric, f.step) for f in heads]  # one cause: one headline
    assert "disc_weight" in heads[0].action and "disc_weight" in heads[0].message, heads[0].message
    assert "rec-after-disc" in {heads[0].rule} | {r["rule"] for r in heads[0].related}


def test_an_lr_jump_before_a_divergence_is_said_as_a_jump_and_named_as_its_cause(tmp_path):
    """The logged lr jumps x1,000 at step 12,900 and holds; the reconstruction diverges from 13,180 into Inf
    (review 7 #2, s08). The jump is said as a jump (not "frozen"), the NaN error names it as the likely cause, and
    the GAN, on since 10,001 with the reconstruction holding, is not blamed for the rise."""
    curves = radiodiff_curves(20_000, disc_start=10_001, total_steps=20_000, every=20)
    steps, v = curves.steps, curves.values
    jump = steps >= 12_900
    v["lr"][jump] = v["lr"][jump][0] * 1000
    climb = steps >= 13_180
    v["rec_loss"][climb] *= np.exp((steps[climb] - 13_180) / 100.0)
    v["rec_loss"][steps >= 14_500] = np.inf
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 20, config(disc_start=10_001, total=20_000)))
    (lr,) = [f for f in a.findings if f.rule == "lr-schedule"]
    assert "jumps at step 12,900" in lr.message and "frozen" not in lr.message, lr.message
    assert "set to 0" not in lr.message
    (nan,) = [f for f in a.findings if f.rule == "non-finite" and f.severity == "error"]
    assert "jumped from" in nan.message and "at step 12,900" in nan.message and "likely cause" in nan.message
    answer = next(q.answer for q in questions_and_answers(a) if q.question.startswith("Did reconstruction get worse"))
    assert not answer.startswith("Yes") and "rose from step 13," in answer, answer


def test_a_kl_falling_back_from_a_runaway_is_no_posterior_collapse(tmp_path):
    """KL runs away from an untrained encoder's 60 to 4e8 and falls back to 1e7 (review 7 #2, r07: thousands of
    nats per latent dimension): no rule calls that a collapse, which needs a KL near 0 per dimension."""
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000, every=20)
    steps = curves.steps
    rise = 60 * np.exp(steps / 2000 * np.log(4e8 / 60))
    fall = 4e8 * np.exp(-(steps - 6000) / 3000 * np.log(40))
    curves.values["kl_loss"] = np.where(steps <= 2000, rise, np.where(steps <= 6000, 4e8, np.maximum(fall, 1e7)))
    _rebuild_sums(curves)
    a, _ = verdict(write_run(tmp_path, curves, 20, config(disc_start=50_001, total=150_000)))
    (f,) = [f for f in a.findings if f.rule == "kl-collapse"]
    assert f.severity == "info" and "collapse" not in f.title.lower(), (f.title, f.message)
    assert "nats per dimension" in f.message and "no posterior collapse" in f.message
    assert not any("collapse" in f.title.lower() for f in a.active_findings() if f.severity != "ok")


def test_a_kl_rising_from_an_untrained_encoders_first_points_to_radiodiffs_level_is_no_runaway(tmp_path):
    """KL from an untrained encoder's ~60 nats to ~11 nats per latent dimension (x2,000; review 7 #2, r12): the
    ratio from the first points says nothing, the level per dimension is RadioDiff's own ~10.4: no warning."""
    curves = radiodiff_curves(290, disc_start=50_001, total_steps=150_000, every=10)  # 30 points: a short run
    steps = curves.steps
    curves.values["kl_loss"] = 60 * (135_000 / 60) ** np.minimum(1, steps / 200)
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    (f,) = [f for f in a.findings if f.rule == "kl-rising"]
    assert f.severity in ("ok", "info") and "running away" not in f.message, f.message
    assert "nats per dimension" in f.message and "10.4" in f.message, f.message
    assert not [g for g in bad if g.metric == "kl_loss"], [(g.rule, g.message) for g in bad]
