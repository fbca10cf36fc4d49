"""Issue 18, items 3-5: the GAN balance read from all its signals, onsets dated at the evidence, and a learning
rate judged only against a schedule the config names. Each run is one of the diagnosis battery's, written by
real writers (the bundled trainer's CSV layout, RadioDiff's TensorBoard and text log, another trainer's CSV)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from benchmarks.diagnosis.catalog import all_cases  # noqa: E402
from benchmarks.diagnosis.run import ensure  # noqa: E402
from vae_report import analyze_run  # noqa: E402
from vae_report.numbers import fmt  # noqa: E402
from vae_report.rules.decomposition import share_text  # noqa: E402

CASES = {case.name: case for case in all_cases()}


def run(tmp_path, name):
    analysis = analyze_run(ensure(CASES[name], tmp_path))
    loud = [f for f in analysis.findings if f.severity in ("warning", "error") and not f.skipped]
    return analysis, loud


def test_a_discriminator_pulling_ahead_is_named_from_all_its_signals_with_its_onset(tmp_path):
    # disc_loss 1.09 -> 0.42 (not yet near 0), logit gap 2.6, g_loss 0.13 -> 1.15, from step 18,000
    a, loud = run(tmp_path, "d_pulls_ahead")
    (f,) = [f for f in loud if f.rule == "disc-overpowering"]
    assert f.metric == "disc_loss" and 18_000 <= f.step <= 19_500
    for words in ("pulling ahead", "disc_loss fell from 1.09", "to 0.42", "logits_real - logits_fake is now 2.",
                  "g_loss rose from 0.1", "adversarial term"):
        assert words in f.message, words
    # the total's rise is the adversarial term's: one cause, cited under the finding that explains it
    assert not [x for x in loud if x.rule == "total-trend"]
    assert [(r["rule"], r["metric"]) for r in f.related] == [("total-trend", "total_loss")]
    # it has not won: the question answered is not why its loss goes to 0
    asked = {q.question: q.answer for q in a.qa}
    assert "Why is the discriminator loss going to 0?" not in asked
    # the answer points to the finding (said once, in the findings list)
    answer = asked["Is the discriminator pulling ahead?"]
    assert answer.startswith(f"Yes: disc_loss {fmt(f.numbers['now']['disc_loss'])} now")  # the answer, its number
    assert f'see the warning "{f.title}" (disc_loss, step {f.step:,}) above' in answer


def test_training_rec_rising_with_validation_is_a_strong_discriminator_not_overfitting(tmp_path):
    # disc_weight 5: training rec x4.6 and validation x10 once the discriminator is on
    a, loud = run(tmp_path, "strong_disc_not_overfitting")
    assert not [f for f in loud if f.rule == "val-overfitting"]
    text = " ".join(f.message for f in a.findings)
    assert "add data" not in text and "Overfitting since" not in text
    (val,) = [f for f in a.findings if f.rule == "val-overfitting"]
    assert val.message.startswith("Not overfitting") and "disc_weight 5" in val.message
    (cause,) = [f for f in loud if f.rule == "rec-after-disc"]
    assert "disc_weight 5 (config.yaml: model.lossconfig.disc_weight), 10 times the 0.5" in cause.message
    assert 10_001 <= cause.step <= 11_000


def test_a_slow_rise_is_detected_and_dated_where_it_left_its_level(tmp_path):
    # rec +24% over the last 30% of the run (from step 28,000): neither an explosion nor a whole-run trend
    a, loud = run(tmp_path, "rec_slow_rise")
    (f,) = [f for f in loud if f.rule == "loss-now"]
    assert f.metric == "rec_loss" and "rising slowly" in f.message
    assert 25_000 <= f.step <= 30_000  # where it began, not where the median of the last tenth shows it
    assert a.status == "warning"
    # nothing else calls rec at its best or holding
    others = [x.message for x in a.findings if x is not f and "rec_loss" in x.message]
    assert not any("at or near" in m or "held near" in m for m in others), others


def test_d_weight_at_its_clamp_in_recurring_bursts_with_rec_rising_each_time_is_no_harmless_spike(tmp_path):
    # five bursts of d_weight at 1e4 x disc_weight, rec x3 in each
    a, loud = run(tmp_path, "d_weight_clamp_bursts")
    (f,) = [f for f in loud if f.rule == "d-weight-pinned"]
    assert f.step == 15_000 and "5 recurring bursts" in f.message and "rec_loss rises 2.9 times" in f.message
    assert not [x for x in a.findings if x.rule == "spikes" and x.metric in ("rec_loss", "nll_loss", "total_loss")]
    assert "harmless" not in " ".join(x.message for x in a.findings if "15,000" in x.message)


def test_a_level_shift_after_a_nan_is_linked_to_the_nan_not_to_a_discriminator_started_long_before(tmp_path):
    # one NaN step at 90,000 (the discriminator on since 50,001), rec 40% worse from there on
    a, loud = run(tmp_path, "nan_then_level_shift")
    assert not [f for f in loud if f.rule == "rec-after-disc"]
    (nan,) = [f for f in loud if f.rule == "non-finite"]
    assert nan.step == 90_000 and "not back where it was" in nan.message
    assert "Resume from the checkpoint before step 90,000" in nan.action
    # one cause: the rise the latest logs see is cited under the NaN that caused it
    (now,) = [r for r in nan.related if r["rule"] == "loss-now" and r["metric"] == "rec_loss"]
    assert now["step"] == 90_000 and "NaN/Inf" in now["message"] and "slowly" not in now["message"]
    (after,) = [f for f in a.findings if f.rule == "rec-after-disc"]
    assert "not with the discriminator" in after.message and "step 90,000" in after.message
    for f in loud:  # nothing that names the rise blames the discriminator's start for it
        assert "once the discriminator started" not in f.message
    (answer,) = [q.answer for q in a.qa if q.question == "Did reconstruction get worse once the GAN started?"]
    assert answer.startswith("Not with the discriminator. rec_loss was ") and "since the NaN/Inf step there" in answer \
        and "step 90,000" in answer, answer[:200]


def test_an_lr_that_never_decays_is_dated_where_the_schedule_parts_from_it(tmp_path):
    a, loud = run(tmp_path, "lr_never_decays")
    (f,) = [f for f in loud if f.rule == "lr-schedule"]
    # RadioDiff's decay over 150,000 steps is 2% below the constant from ~step 3,100: not step 0
    assert 2_900 <= f.step <= 3_300 and "from step 3,100 on" in f.message


def test_a_schedule_no_config_names_is_described_not_judged(tmp_path):
    # another trainer's config (optim.learning_rate, no scheduler), its lr decaying linearly 1e-4 -> 1e-6
    a, loud = run(tmp_path, "healthy_lr_linear_unnamed_schedule")
    assert loud == [], [f.message for f in loud]
    (f,) = [f for f in a.findings if f.rule == "lr-schedule"]
    assert f.severity == "info" and "decays linearly from 0.0001 to 1e-06 over steps 0-20,000" in f.message
    assert "jump" not in f.message and "bug" not in f.message and "RadioDiff" not in f.message


def test_an_lr_at_zero_for_the_rest_of_the_run_is_a_fault_under_any_schedule_named_or_not(tmp_path):
    # the same trainer and unnamed linear decay, but the lr 0 from step 8,000 (40%) to the end
    a, loud = run(tmp_path, "lr_zero_unnamed_schedule")
    # cited under "Training stalled" (nothing trained from there), the one cause's headline
    (f,) = [d for g in loud for d in (g.to_dict(), *g.related) if d["rule"] == "lr-schedule"]
    assert f["step"] == 8_000 and "exactly 0 from step 8,000 on (60% of its logged points)" in f["message"]
    assert "decays linearly from 0.0001 to" in f["message"]  # what it did before, still described
    (head,) = [g for g in loud if g.rule == "run-stalled"]
    assert head.step == 8_000 and "Nothing trained from step 8,000 to the last log" in head.message


@pytest.mark.parametrize("shape", ["cosine", "linear"])
def test_an_ldm_config_is_never_judged_against_radiodiffs_decay(tmp_path, shape):
    import numpy as np
    import yaml
    from test_schedule import LDM
    from writers import radiodiff_curves, write_scalars

    curves = radiodiff_curves(5000, disc_start=50_001, total_steps=10_000, every=10)
    x = curves.steps / 10_000
    curves.values["lr"] = 4.5e-6 * (0.5 * (1 + np.cos(np.pi * x)) if shape == "cosine" else 1 - x)
    config = yaml.safe_load(LDM) if isinstance(LDM, str) else LDM
    config.setdefault("lightning", {}).setdefault("trainer", {})["max_steps"] = 10_000
    points = [(int(s), f"train/{k}", float(v[i])) for i, s in enumerate(curves.steps) for k, v in curves.values.items()]
    write_scalars(tmp_path, points)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    (f,) = [f for f in analyze_run(tmp_path).findings if f.rule == "lr-schedule"]
    assert "RadioDiff" not in f.message and f.severity == "info", f.message


def test_the_adversarial_term_taking_over_the_objective_is_named_with_its_drivers(tmp_path):
    # d_weight 800 -> 8,000 and g_loss 0.05 -> 0.6 from step 16,000: d_weight x g_loss ends at ~70% of the terms
    a, loud = run(tmp_path, "gan_term_dominates")
    (f,) = [f for f in loud if f.rule == "gan-term-dominant"]
    assert 16_000 <= f.step <= 19_000 and "dominates the objective" in f.message
    assert "d_weight rose from" in f.message and "g_loss rose from" in f.message and "disc_weight (2 in" in f.action
    # the total's rise is that term's: cited under it (one cause), never a headline of its own
    (trend,) = [r for r in f.related if r["rule"] == "total-trend"]
    assert "adversarial term" in trend["message"] and "Check the learning rate" not in trend["message"]
    assert not [x for x in loud if x.rule == "total-trend"]
    (now,) = [f for f in a.findings if f.rule == "loss-now"]
    assert "g_loss" not in now.message.split("at or near")[0]  # g_loss is not called at its best


def test_a_large_but_steady_gan_term_is_described_not_faulted(tmp_path):
    # the published RadioDiff shape: d_weight ~5,000 x g_loss ~-0.5 outweighs nll from the switch-on, steadily
    a, loud = run(tmp_path, "healthy_negative_total")
    assert loud == []
    (f,) = [f for f in a.findings if f.rule == "gan-term-dominant"]
    assert f.severity == "info" and "did not grow" in f.message
    # one share of the term in the whole report: the breakdown's, of the measure it names
    adversarial = a.decomposition.term("adversarial")
    assert f.numbers["adversarial_share"] == adversarial.share
    said = f"{share_text(adversarial.share)} of the loss's size, {fmt(a.decomposition.size)}"
    assert said in f.message and f"({share_text(adversarial.share)})" in a.decomposition.sentence()


def test_a_kl_far_above_the_reference_per_latent_dimension_is_not_called_expected(tmp_path):
    a, loud = run(tmp_path, "kl_per_dim_far_above")
    (f,) = [f for f in loud if f.rule == "kl-rising"]
    assert "expected" not in f.message and "nats per dimension of RadioDiff" in f.message
    assert f.numbers["kl_per_latent_dim"] > 100


def test_a_config_lr_far_off_the_trainers_documented_one_is_named_beside_a_degrading_loss(tmp_path):
    # RadioDiff's layout with lr 5e-4 (its first_radio.yaml has 5e-6), rec +30% over the last 30%
    a, loud = run(tmp_path, "lr_100x_default_slow_rise")
    (f,) = [f for f in loud if f.rule == "loss-now" and f.metric == "rec_loss"]
    assert "lr 0.0005" in f.message and "100 times the 5e-06 of RadioDiff's published first_radio.yaml" in f.message
    # and not said of a run at the documented rate
    b, loud_b = run(tmp_path, "rec_slow_rise")
    assert not any("times the 5e-06" in x.message for x in b.findings)


def test_d_weight_at_its_clamp_on_and_off_is_dated_at_the_first_burst_not_the_latest_stretch(tmp_path):
    # from step 90,000 d_weight sits at its clamp at ~60% of the points, in runs of 1-8 points: most recent
    # points are at the clamp (the pinned case), but the regime began at 90,000, not at its latest stretch
    a, loud = run(tmp_path, "d_weight_clamp_regime")
    (f,) = [f for f in loud if f.rule == "d-weight-pinned"]
    assert 90_000 <= f.step <= 91_000 and f"in recurring bursts since step {f.step:,}" in f.message
    assert 0.5 <= f.numbers["share_since_onset"] <= 0.7


def test_an_explosion_that_levels_off_is_dated_where_it_left_its_noise_band(tmp_path):
    # rec flat, then x40 from step 28,000 (geometric, then levelling off; no NaN): a level-then-line fit leans
    # thousands of steps early on such a curve; the onset is where the level left its noise band
    a, loud = run(tmp_path, "rec_explodes_saturating")
    (f,) = [f for f in loud if f.rule == "loss-now" and f.metric == "rec_loss"]
    assert f.severity == "error" and 28_000 <= f.step <= 28_600
    assert f"the rise began at step {f.step:,}" in f.message


@pytest.mark.parametrize("name", ["d_overpowering", "rec_worse_after_disc", "d_weight_clamp_regime", "val_overfitting",
                                  "lr_cosine_named_never_decays", "rec_explodes_saturating"])
def test_a_findings_step_is_the_step_its_sentence_dates_it_at(tmp_path, name):
    # a table's "Step 54,099" beside "its current level (since step 58,599)" reads as two onsets; so does
    # "Overfitting since step 3,199" with its best at 3,799: every "since step N" of a loud finding is its step
    a, loud = run(tmp_path, name)
    assert loud
    for f in loud:
        since = {int(n.replace(",", "")) for n in re.findall(r"since step ([\d,]+)", f.message)}
        assert since <= {f.step}, (f.rule, f.step, since, f.message[:200])
        if f.rule == "val-overfitting":
            assert f.step >= f.numbers["val_best_step"]


def test_a_rec_rise_inside_the_phase_the_discriminator_won_is_one_cause_and_never_called_ok(tmp_path):
    # D wins from 18,000; rec held after the switch-on, then rose 60% from 22,000: one headline (the balance),
    # the reconstruction's rise cited under it, and no finding calling the same rec "not worse"
    a, loud = run(tmp_path, "d_wins_rec_rises_in_phase")
    assert [f.rule for f in loud] == ["disc-overpowering"], [(f.rule, f.message) for f in loud]
    cited = {r["rule"]: r for r in loud[0].related}
    assert {"rec-after-disc", "rec-trend"} <= set(cited), cited.keys()
    assert 21_000 <= cited["rec-after-disc"]["step"] <= 26_000
    assert "during the adversarial phase, not when the discriminator started" in cited["rec-after-disc"]["message"]
    for f in a.findings:
        if f.rule in ("rec-after-disc", "rec-trend", "loss-now") and f.severity == "ok":
            assert "did not get worse" not in f.message and "a little worse" not in f.message, f.message
    # eval15 f_nan_late: "Yes: it held after the switch-on ... and rose from step N" answered the question of a
    # rise at the switch-on with a yes that its own words deny
    answer = next(q.answer for q in a.qa if q.question == "Did reconstruction get worse once the GAN started?")
    if "held after the switch-on" in answer:
        assert answer.startswith("Yes, but not at the switch-on: it held after the switch-on"), answer


def test_what_reconstruction_paid_for_a_discriminator_win_is_counted_from_where_the_win_began(tmp_path):
    # review8 class 2: rec still falling after the switch-on, then D wins from 20,000 and rec rises x1.35 from
    # there. Against the switch-on level rec "fell"; against its level where D began to win it rose: the advice
    # reads the latter, lowers disc_weight too, and no all-clear on rec stands beside it
    a, loud = run(tmp_path, "d_wins_late_rec_pays")
    (f,) = [f for f in loud if f.rule == "disc-overpowering"]
    said = f"since the discriminator began to win (step {f.step:,}), rec_loss rose from "
    assert "Reconstruction has paid for it: " + said in f.action, f.action
    assert "has not paid" not in f.action and "lower disc_weight" in f.action
    before, now = f.numbers["rec_before_win"], f.numbers["rec_now"]
    assert 1.1 < now / before < 1.4 and f"{fmt(before)} to {fmt(now)}" in f.action
    rec_ok = [x for x in a.findings if x.metric == "rec_loss" and x.severity == "ok" and not x.skipped]
    assert not rec_ok, [x.message for x in rec_ok]


def test_a_win_that_is_over_is_dated_as_info_and_no_answer_calls_it_current(tmp_path):
    # eval11: a hinge discriminator at 0 for ~17,000 steps, then back to chance, was told only as 22 "transient
    # spikes" of a few hundredths above a local median of 0, and no sentence dated the win
    a, loud = run(tmp_path, "d_won_then_back_to_chance")
    assert a.status == "ok" and not loud
    (f,) = [f for f in a.findings if f.rule == "disc-overpowering"]
    assert f.severity == "info" and f.case == "past-win" and f.title == "A past win of the discriminator"
    n = f.numbers
    assert 55_000 <= n["case_start"] <= 57_000 and 72_000 <= n["case_end"] <= 75_000 and n["logit_gap_during"] > 3
    assert n["now"]["disc_loss"] > 0.9 and n["rec_win_peak"] > 1.1 * n["rec_before_win"]
    assert f"from step {n['case_start']:,} to step {n['case_end']:,}" in f.message
    assert "is at " + fmt(n["now"]["disc_loss"]) + " now" in f.message
    assert not [x for x in a.findings if x.rule == "spikes" and x.metric == "disc_loss"]  # its jitter above 0
    asked = {q.question: q.answer for q in a.qa}
    assert "Why is the discriminator loss going to 0?" not in asked  # not going to 0 now
    near = asked["Is a discriminator loss near 1 fine?"]
    assert near.startswith("Yes.") and f"from step {n['case_start']:,} to {n['case_end']:,}, and came back" in near
    # reconstruction paid +15% across the win and came back: not a plain "No" over the whole phase
    worse = asked["Did reconstruction get worse once the GAN started?"]
    assert worse.startswith("Not now.") and f"to {fmt(n['rec_win_peak'])} at its highest across it" in worse


def test_an_ldm_learning_rate_is_said_as_main_py_trains_at_it(tmp_path):
    # eval11: the Configuration table and the advice to lower the discriminator's rate quoted base_learning_rate
    # (4.5e-06) as the rate run; LDM's main.py multiplies it by accumulate_grad_batches x GPUs x batch_size
    from vae_report.report_view import configuration
    from vae_report.rules.knobs import weaken_discriminator

    a, _ = run(tmp_path, "healthy_long_vanilla_equilibrium")  # batch_size 12, accumulate_grad_batches 2
    s = a.schedule
    assert s.layout == "ldm" and s.lr == 4.5e-6 and s.lr_scale == 24
    effective = "which main.py multiplies by accumulate_grad_batches x batch_size = 24 and by the GPUs: 0.000108 " \
                "on one GPU"
    def words(t):
        return "".join(span.text for span in t)

    rows = {words(row.cells[0]): words(row.cells[1]) for row in configuration(a).blocks[1].rows}
    assert rows["lr"] == f"4.5e-06 (base_learning_rate, {effective})"
    said = weaken_discriminator(s, a.step)
    clause = said.split("lower its learning rate (", 1)[1].split(")", 1)[0]  # one pair: it sits in a list
    assert clause.endswith(f"model.base_learning_rate, {effective}; give it its own") and "(" not in clause


def test_a_discriminator_leading_short_of_pulling_ahead_is_said_not_left_silent(tmp_path):
    # eval12 r5_disc_pulling_ahead: disc_loss 0.48 (chance 1), logits 1.1 apart, g_loss up 0.45 (pulling ahead
    # takes 0.5): no finding on the balance at all, while the total's warning pointed to "the findings on the
    # GAN's balance"
    a, loud = run(tmp_path, "d_leads_short_of_pulling_ahead")
    assert a.status == "ok" and not loud
    (f,) = [f for f in a.findings if f.rule == "disc-overpowering"]
    assert f.severity == "info" and f.case == "leads" and f.title == "Discriminator leading"
    assert f"disc_loss {fmt(f.numbers['now']['disc_loss'])} now" in f.message and "has not won" in f.message
    assert "short of the +0.5 that would show it pulling ahead" in f.message
    asked = {q.question: q.answer for q in a.qa}
    assert "Why is the discriminator loss going to 0?" not in asked
    (level,) = [answer for question, answer in asked.items() if question.startswith("Is a discriminator loss")]
    assert level.startswith("Yes, for now: a lead to watch.") and '"Discriminator leading"' in level
