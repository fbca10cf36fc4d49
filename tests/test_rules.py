"""Each rule on a frame where it must fire and on one where it must stay silent."""

import numpy as np
import pytest
from writers import PIXELS, radiodiff_curves

from vae_report.frame import concat, make_frame
from vae_report.numbers import fmt
from vae_report.rules import Metrics, run_rules, worst
from vae_report.schedule import Schedule

SCHEDULE = Schedule(disc_start=1000, kl_weight=1e-6, disc_weight=0.5, disc_factor=1.0, total_steps=5000)


def frame_of(curves, keys=None, every=10, seconds_per_step=None):
    keep = curves.steps % every == 0
    walls = np.nan if seconds_per_step is None else 1.7e9 + curves.steps[keep] * seconds_per_step
    parts = [make_frame(curves.steps[keep], [k] * int(keep.sum()), curves.values[k][keep], walls, "test")
             for k in (keys or curves.values)]
    return concat(parts).sort_values(["metric", "step"], ignore_index=True)


def findings(frame, schedule=SCHEDULE, rule=None, thresholds=None):
    out = run_rules(Metrics(frame), schedule, thresholds)
    return [f for f in out if rule is None or f.rule == rule]


def one(frame, rule, schedule=SCHEDULE, thresholds=None):
    (finding,) = [f for f in findings(frame, schedule, rule, thresholds) if not f.skipped]
    return finding


def said(found, rule):
    """A rule's findings as dicts, headlines and those cited under another's headline (one cause, one headline)."""
    return [f.to_dict() for f in found if f.rule == rule] + [r for f in found for r in f.related if r["rule"] == rule]


HEALTHY = Schedule(disc_start=1000, kl_weight=1e-6, disc_weight=0.5, disc_factor=1.0, total_steps=5000, lr=5e-6,
                   min_lr=5e-7)


def test_healthy_run_has_no_warning_or_error_in_either_phase():
    for last in (800, 3000, 4999):
        frame = frame_of(radiodiff_curves(last, disc_start=1000, total_steps=5000), seconds_per_step=0.5)
        out = findings(frame, HEALTHY)
        assert worst(out) == "ok", [f.message for f in out if f.severity in ("warning", "error")]
        checked = {f.rule for f in out if not f.skipped}
        assert {"liveness", "lr-schedule", "loss-bookkeeping", "kl-rising"} <= checked


def test_disc_off_before_start_is_expected():
    f = one(frame_of(radiodiff_curves(800, disc_start=1000)), "disc-off-before-start")
    assert f.severity == "ok" and f.numbers["points_before_start"] == 81


def test_disc_never_starting_is_an_error_at_first_step_after_start():
    frame = frame_of(radiodiff_curves(3000, disc_start=1000, disc_never_starts=True))
    f = one(frame, "disc-inactive-after-start")
    assert f.severity == "error" and f.step == 1000 and f.metric == "disc_factor"
    ok = one(frame_of(radiodiff_curves(3000, disc_start=1000)), "disc-inactive-after-start")
    assert ok.severity == "ok" and ok.step == 1000


def test_disc_active_early_at_half_is_a_step_unit_mismatch():
    # Lightning counts both optimizers' steps: logged step s carries global step 2s
    curves = radiodiff_curves(4000, disc_start=1001)
    half = radiodiff_curves(2000, disc_start=1001)
    for key in half.values:
        half.values[key] = curves.values[key][::2]
    f = one(frame_of(half), "disc-active-before-start", Schedule(disc_start=1001, kl_weight=1e-6))
    assert f.severity == "info" and "step-unit" in f.message and f.step == 510


def test_disc_active_early_elsewhere_is_a_warning():
    frame = frame_of(radiodiff_curves(3000, disc_start=200))
    f = one(frame, "disc-active-before-start")
    assert f.severity == "warning" and f.step == 200
    # and the "silent before disc_start, as expected" finding must not claim otherwise
    assert not [x for x in findings(frame, rule="disc-off-before-start") if not x.skipped]
    assert not [x for x in findings(frame_of(radiodiff_curves(3000)), rule="disc-active-before-start")]


def test_kl_rising_is_expected_under_tiny_weight():
    frame = frame_of(radiodiff_curves(3000, disc_start=5000))
    assert one(frame, "kl-rising").severity == "ok"
    flat = frame_of(radiodiff_curves(3000, disc_start=5000, kl_rises=False))
    assert not [x for x in findings(flat, rule="kl-rising") if not x.skipped]


def test_kl_dominating_the_total_is_a_warning():
    frame = frame_of(radiodiff_curves(3000, disc_start=5000))
    assert not [x for x in findings(frame, rule="kl-dominant") if not x.skipped]
    big = Schedule(disc_start=5000, kl_weight=0.5, total_steps=5000)
    f = one(frame, "kl-dominant", big)
    assert f.severity == "warning" and f.numbers["kl_term_share"] > 0.5


def test_posterior_collapse():
    curves = radiodiff_curves(3000, disc_start=5000)
    assert not [x for x in findings(frame_of(curves), rule="kl-collapse") if not x.skipped]
    falling = curves.steps >= 1500
    curves.values["kl_loss"][falling] = np.maximum(50.0, 40_000 - (curves.steps[falling] - 1500) * 80.0)
    f = one(frame_of(curves), "kl-collapse")
    assert f.severity == "warning" and f.numbers["recent_level"] < 0.1 * f.numbers["peak_level"]


def test_non_finite_reports_first_bad_step():
    curves = radiodiff_curves(3000)
    curves.values["kl_loss"][1230:] = np.nan
    # the KL alone NaN while the total it is a term of stays finite: the NaN never entered the optimized loss
    f = one(frame_of(curves), "non-finite")
    assert f.severity == "warning" and f.step == 1230 and f.metric == "kl_loss" and f.case == "not-in-loss"
    curves.values["total_loss"][1230:] = np.nan  # the total NaN with it: the divergence
    found = [f for f in findings(frame_of(curves), SCHEDULE, "non-finite") if not f.skipped]
    told = [(f.severity, f.step, f.metric) for f in found] + [(r["severity"], r["step"], r["metric"])
                                                               for f in found for r in f.related]
    assert sorted(told) == [("error", 1230, "kl_loss"), ("error", 1230, "total_loss")], told
    assert not [x for x in findings(frame_of(radiodiff_curves(3000)), rule="non-finite")]


def test_a_nan_the_optimized_loss_never_took_in_leaves_the_run_its_time_estimate():
    """kl_loss NaN for the latest points while the total it is a term of stays finite: training goes on, so the run
    keeps its ETA (liveness gives no 'no time estimate'); the total NaN with it is a run that cannot go on."""
    curves = radiodiff_curves(3000, total_steps=5000)
    curves.values["kl_loss"][2900:] = np.nan
    live = one(frame_of(curves, seconds_per_step=0.5), "liveness")
    assert "no_eta" not in live.numbers and live.numbers["hours_to_end"] > 0, live
    assert "NaN" not in live.message and "(end of training) in about" in live.message
    curves.values["total_loss"][2900:] = np.nan
    live = one(frame_of(curves, seconds_per_step=0.5), "liveness")
    assert "NaN/Inf at the latest" in live.numbers["no_eta"]


def test_a_discriminator_loss_pinned_near_0_with_moving_separated_logits_has_won_not_stopped():
    """disc_loss exactly 0.001 from the switch-on while the logits keep moving 5.5 apart: the discriminator has won
    (one headline, disc-overpowering, the constant loss cited under it), not "not learning: nothing it outputs
    changes" beside it; with the logits frozen too it is the frozen discriminator."""
    curves = radiodiff_curves(3000, disc_start=1000, total_steps=5000)
    on = curves.steps >= 1000
    wiggle = 0.03 * np.sin(curves.steps[on] / 37.0)
    curves.values["disc_loss"][on] = 0.001
    curves.values["logits_real"][on] = 2.5 + wiggle
    curves.values["logits_fake"][on] = -3.0 - wiggle
    found = [f for f in findings(frame_of(curves), HEALTHY) if not f.skipped]
    assert [f.rule for f in found if f.severity in ("warning", "error") and f.metric == "disc_loss"] == \
        ["disc-overpowering"], [(f.rule, f.severity, f.message[:80]) for f in found]
    assert ("loss-constant", "disc_loss") in {(r["rule"], r["metric"]) for f in found for r in f.related}
    curves.values["logits_real"][on], curves.values["logits_fake"][on] = 2.5, -3.0
    frozen = [f for f in findings(frame_of(curves), HEALTHY) if f.rule == "disc-at-chance" and not f.skipped]
    assert frozen and "nothing it outputs changes" in frozen[0].message


def test_rec_getting_worse_is_a_warning():
    curves = radiodiff_curves(3000, disc_start=5000)
    curves.values["rec_loss"] = np.linspace(0.03, 0.09, len(curves.steps))
    before_disc = Schedule(disc_start=5000, kl_weight=1e-6, disc_weight=0.5, disc_factor=1.0, total_steps=10_000)
    found = findings(frame_of(curves), before_disc)
    # a rise several rules see is one cause: rec-trend is the headline, or cited under the one that dates it
    trend = said(found, "rec-trend")
    assert len(trend) == 1
    assert trend[0]["severity"] == "warning" and trend[0]["metric"] == "rec_loss"
    assert trend[0]["numbers"]["change"] > 0.1
    assert one(frame_of(radiodiff_curves(3000, disc_start=5000)), "rec-trend", before_disc).severity == "ok"


def test_a_trend_over_the_phase_before_does_not_call_its_end_the_current_level():
    schedule = Schedule(disc_start=4000, kl_weight=1e-6, disc_weight=0.5, disc_factor=1.0, total_steps=10_000)
    curves = radiodiff_curves(8000, disc_start=4000)
    before = curves.steps < 4000
    curves.values["rec_loss"][before] = np.linspace(0.03, 0.09, int(before.sum()))  # worse before the switch
    (trend,) = [f for f in said(findings(frame_of(curves), schedule), "rec-trend")
                if "before the discriminator" in f["message"]]
    # that stretch ended at the switch-on: its end is the same window at the stretch's end, not the level now
    assert "its level just before the discriminator started" in trend["message"]
    assert "current level" not in trend["message"]


def test_total_trend_is_judged_within_the_adversarial_phase():
    schedule = Schedule(disc_start=8000, kl_weight=1e-6, total_steps=20_000)
    curves = radiodiff_curves(12_000, disc_start=8000)
    on = curves.steps >= 8000
    # a jump when the GAN term switches on is not a regression (the GAN term's own jump: the sum still holds)
    curves.values["g_loss"][on] += 400 / curves.values["d_weight"][on]
    curves.values["total_loss"][on] += 400
    assert one(frame_of(curves), "total-trend", schedule).severity == "ok"
    curves.values["total_loss"][on] += np.linspace(0, 2000, int(on.sum()))
    (f,) = said(findings(frame_of(curves), schedule), "total-trend")  # a headline, or cited under loss-now
    assert f["severity"] == "warning" and f["numbers"]["from_step"] == 8000


def test_bookkeeping_infers_pixels_and_catches_wrong_weight():
    frame = frame_of(radiodiff_curves(3000, disc_start=1000))
    f = one(frame, "loss-bookkeeping")
    assert f.severity == "ok" and f.numbers["pixels_per_sample"] == pytest.approx(PIXELS, rel=1e-6)
    wrong = Schedule(disc_start=1000, kl_weight=0.05)
    assert one(frame, "loss-bookkeeping", wrong).severity == "warning"


def test_bookkeeping_without_nll_recognises_tensorboard_average():
    curves = radiodiff_curves(800, disc_start=1000)
    curves.values["total_loss"] = (curves.values["total_loss"] + curves.values["disc_loss"]) / 2
    keys = [k for k in curves.values if k != "nll_loss"]
    f = one(frame_of(curves, keys), "loss-bookkeeping")
    assert f.severity == "ok" and f.numbers["total_is_average_with_disc"] is True
    assert round(f.numbers["pixels_per_sample"]) == PIXELS


def test_bookkeeping_formula_names_only_the_terms_the_logs_carry():
    full = one(frame_of(radiodiff_curves(3000, disc_start=1000)), "loss-bookkeeping")
    assert "total_loss = nll_loss + kl_weight x kl_loss + d_weight x disc_factor x g_loss holds" in full.message
    assert "nll_loss is the per-pixel loss summed over" in full.message  # logvar logged and 0: the plain rec
    # a learned log-variance: nll sums rec / exp(logvar) + logvar, not the plain per-pixel loss
    curves = radiodiff_curves(3000, disc_start=1000)
    v = curves.values
    v["logvar"] = -np.linspace(0, 2, len(curves.steps))
    v["nll_loss"] = PIXELS * (v["rec_loss"] * np.exp(-v["logvar"]) + v["logvar"])
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"] + v["d_weight"] * v["disc_factor"] * v["g_loss"]
    learned = one(frame_of(curves), "loss-bookkeeping")
    assert learned.severity == "ok" and "nll_loss is rec_loss / exp(logvar) + logvar (the learned log-variance) " \
        f"summed over {PIXELS:,} pixels" in learned.message
    # a VAE without a discriminator and without nll_loss logged: the sum it checks is N x rec + kl_weight x kl
    curves = radiodiff_curves(800, disc_start=10**6)
    keys = ["total_loss", "rec_loss", "kl_loss"]
    curves.values["total_loss"] = PIXELS * curves.values["rec_loss"] + 1e-6 * curves.values["kl_loss"]
    f = one(frame_of(curves, keys), "loss-bookkeeping")
    assert f.severity == "ok" and "total_loss = N x rec_loss + kl_weight x kl_loss holds" in f.message
    assert "g_loss" not in f.message and f"nll is not logged: N = {PIXELS:,} pixels per sample" in f.message
    # the per-pixel mean as most trainers log it
    curves.values["total_loss"] = curves.values["rec_loss"] + 1e-6 * curves.values["kl_loss"]
    f = one(frame_of(curves, keys), "loss-bookkeeping")
    assert "total_loss = rec_loss + kl_weight x kl_loss holds" in f.message and "per-pixel mean" in f.message


def test_bookkeeping_holds_in_each_phase_not_at_half_of_the_steps():
    """The sum must hold on both sides of the switch-on: a third of the run where the total takes in a term the
    logs lack is no "holds at half of the steps". The adversarial term without disc_factor logged is taken with
    the schedule's disc_factor; without d_weight and g_loss it is said as the term the logs do not carry, and the
    breakdown states the logged total, the terms' sum and what is in neither."""
    from vae_report.rules.decomposition import decompose

    curves = radiodiff_curves(3000, disc_start=1000)
    curves.values["g_loss"] = curves.values["g_loss"] + 0.3  # an adversarial term of a visible size
    v = curves.values
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"] + v["d_weight"] * v["disc_factor"] * v["g_loss"]
    no_factor = [k for k in v if k != "disc_factor"]
    f = one(frame_of(curves, no_factor), "loss-bookkeeping")
    assert f.severity == "ok" and "+ d_weight x disc_factor x g_loss holds over the 301 steps checked in both " \
        "phases (to float precision: in each phase, half of the steps or more within a millionth" in f.message
    assert "disc_factor is not logged: taken as the schedule sets it, 0 before step 1,000 and 1 from it on" \
        in f.message
    no_adversarial = [k for k in no_factor if k not in ("d_weight", "g_loss")]
    frame = frame_of(curves, no_adversarial)
    f = one(frame, "loss-bookkeeping")
    assert f.severity == "info" and f.numbers["onset_step"] == 1000
    gap = float(np.median((v["d_weight"] * v["g_loss"])[curves.steps >= 1000][::10]))
    assert f.numbers["unlogged_adversarial_term"] == pytest.approx(gap, rel=0.05)
    assert "holds before the discriminator started" in f.message and "(d_weight, disc_factor and g_loss not " \
        "logged)" in f.message
    d = decompose(Metrics(frame), SCHEDULE)
    assert d.unexplained and f"total_loss averages {fmt(d.total)}, while its logged terms add up to {fmt(d.sum)}" \
        in d.sentence() and "is in no logged term (see loss-bookkeeping)" in d.sentence()
    # a term missing from the sum in both phases stays a warning
    v["total_loss"] = v["total_loss"] * 1.05
    assert one(frame_of(curves, no_adversarial), "loss-bookkeeping").severity == "warning"


def test_a_counter_one_ahead_is_said_at_the_switch_on_not_hidden_or_called_late():
    """A loop that logs its step counted from 1: the point logged at disc_start shows the discriminator still
    off (the loss saw one step less), the next one on. Neither "the first logged step at or after disc_start"
    for the later one, nor a late start; the equilibrium is dated from the first step it is on."""
    schedule = Schedule(disc_start=1001, kl_weight=1e-6, disc_weight=0.5, disc_factor=1.0, total_steps=5000)
    frame = frame_of(radiodiff_curves(3000, disc_start=1001))
    frame["step"] += 1  # the loop's counter, one ahead of the loss's global_step
    found = findings(frame, schedule)
    (on,) = [f for f in found if f.rule == "disc-inactive-after-start" and not f.skipped]
    assert on.severity == "ok" and on.step == 1011 and on.numbers["off_from_start"] == 1
    assert "At step 1,001, the first logged step at or after disc_start 1,001, it is still off" in on.message
    assert "not a late start" in on.message and "runs 1 to 10 steps ahead" in on.message
    # two ahead, logged every step: two points at and after disc_start still off, the offset exactly 2
    every = frame_of(radiodiff_curves(3000, disc_start=1001), every=1)
    every["step"] += 2
    (two,) = [f for f in findings(every, schedule) if f.rule == "disc-inactive-after-start" and not f.skipped]
    assert two.numbers["first_off_step"] == 1001 and "runs 2 steps ahead" in two.message
    chance = [f for f in found if f.rule == "disc-at-chance" and not f.skipped]
    assert chance and all("since step 1,001" not in f.message for f in chance)


def test_a_switch_on_read_off_the_data_is_not_called_as_scheduled():
    inferred = Schedule(disc_start=1000, kl_weight=1e-6, total_steps=5000,
                        origins={"disc_start": "inferred from the data (first logged step with the discriminator on)"})
    f = one(frame_of(radiodiff_curves(3000, disc_start=1000)), "disc-inactive-after-start", inferred)
    assert f.severity == "ok" and "as scheduled" not in f.message and "no config gives disc_start" in f.message
    f = one(frame_of(radiodiff_curves(3000, disc_start=1000)), "disc-inactive-after-start", SCHEDULE)
    assert "as scheduled" in f.message


def test_a_kl_level_beyond_the_usual_warns_while_it_still_climbs_and_is_watched_once_it_settles(tmp_path):
    """A KL at ~50 nats per latent dimension (RadioDiff's published first stage: ~10): still climbing through
    its latest quarter it shows no sign of settling (warning); settled there it is a level to watch (info), and
    the Q&A never answers a plain "No" beside a finding that says to watch it."""
    schedule = Schedule(disc_start=10**6, kl_weight=1e-6, total_steps=50_000, in_channels=1, resolution=(320, 320),
                        embed_dim=3, downsample=4)  # 3 x 80 x 80 latents
    curves = radiodiff_curves(3000, disc_start=10**6)
    x = curves.steps / 3000
    v = curves.values
    v["kl_loss"] = 16_000 + 1_000_000 * x  # a straight climb to ~53 nats per dimension, no flattening
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"]
    f = one(frame_of(curves), "kl-rising", schedule)
    assert f.severity == "warning" and f.case == "unusual-level" and "still climbing" in f.message
    v["kl_loss"] = 16_000 + 1_000_000 * np.minimum(x * 3, 1)  # the same level, reached early and held
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"]
    f = one(frame_of(curves), "kl-rising", schedule)
    assert f.severity == "info" and f.case == "unusual-level" and "still climbing" not in f.message

    # the report's answer beside that finding: never a plain "No"
    from test_verdicts import config, write_run

    from vae_report import analyze_run

    a = analyze_run(write_run(tmp_path, curves, 10, config(disc_start=10**6, total=50_000)))
    (answer,) = [q.answer for q in a.qa if q.question.startswith("Is the KL loss")]
    assert [g.severity for g in a.findings if g.rule == "kl-rising"] == ["info"]
    assert answer.startswith("Not a fault yet, but a level to watch")


def test_a_kl_runaway_from_the_first_step_is_watched_and_said_to_climb_not_undone(tmp_path):
    """A KL running away from step 0 (x300) while reconstruction improves and the weighted term is a sliver: watch
    it, not "resume from the beginning" (no stretch before it to compare the reconstruction with but its start);
    and loss-now says it is still climbing, never "not rising now"."""
    curves = radiodiff_curves(3000, disc_start=10**6)
    v = curves.values
    v["kl_loss"] = 8_000 * np.exp(curves.steps / 3000 * np.log(300))
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"]
    schedule = Schedule(disc_start=10**6, kl_weight=1e-6, total_steps=50_000)
    found = findings(frame_of(curves), schedule)
    (kl,) = [f for f in found if f.rule == "kl-rising" and not f.skipped]
    assert kl.severity == "warning" and kl.step == 0 and kl.action.startswith("Watch it rather than undo it")
    # from the run's start, reconstruction "then" is its start level, the one the statistics table's Start quotes
    # (eval12 r3v_kl_runaway_jsonl: 0.0743 in the action against the table's 0.0974)
    start = Metrics(frame_of(curves)).start("rec_loss").value
    assert f"rec_loss improved from {fmt(start)} to " in kl.action
    now = " ".join(f.message for f in found if f.rule == "loss-now")
    assert "kl_loss is still climbing through its latest quarter" in now and "not rising now" not in now
    # the report's answer on intervening agrees with that action: watch, not act
    from test_verdicts import config, write_run

    from vae_report import analyze_run

    a = analyze_run(write_run(tmp_path, curves, 10, config(disc_start=10**6, total=150_000)))
    (answer,) = [q.answer for q in a.qa if q.question == "Should I intervene in the training process?"]
    assert answer.startswith('Not yet: watch the warning "KL rising under a tiny kl_weight"'), answer


def test_a_model_frozen_from_the_start_is_one_cause_and_its_fix_fits_the_logged_lr():
    """Every loss the same float from step 0, the lr decaying normally: one headline (training stalled), the
    constant losses and the reconstruction that does not learn cited under it; its action restarts from the start
    (no checkpoint holds anything but the initial weights) and does not suggest an lr of 0 the logs rule out."""
    curves = radiodiff_curves(3000, disc_start=10**6)
    for name in ("rec_loss", "kl_loss", "nll_loss", "total_loss"):
        curves.values[name] = np.full(len(curves.steps), curves.values[name][0])
    schedule = Schedule(disc_start=100_001, kl_weight=1e-6, total_steps=150_000, lr=5e-6, min_lr=5e-7)
    found = findings(frame_of(curves, ["rec_loss", "kl_loss", "nll_loss", "total_loss", "lr"]), schedule)
    heads = [f for f in found if f.severity in ("warning", "error")]
    assert [f.rule for f in heads] == ["run-stalled"], [(f.rule, f.metric) for f in heads]
    cited = {r["rule"] for r in heads[0].related}
    assert "loss-constant" in cited
    assert heads[0].action.startswith("Find what froze the model") and "lr of 0" not in heads[0].action
    assert "restart from the start" in heads[0].action


def test_rules_with_missing_metrics_are_skipped_not_raised():
    frame = frame_of(radiodiff_curves(300), ["rec_loss"])
    out = findings(frame, Schedule())
    skipped = {f.rule for f in out if f.skipped}
    assert {"disc-off-before-start", "kl-rising", "loss-bookkeeping"} <= skipped
    assert all("needs" in f.message for f in out if f.skipped)


ADV = Schedule(disc_start=1000, kl_weight=1e-6, disc_weight=0.5, disc_factor=1.0, total_steps=5000)


def test_disc_overpowering_fires_when_d_wins_and_logits_separate():
    healthy = frame_of(radiodiff_curves(3000, disc_start=1000))
    assert not [f for f in findings(healthy, ADV, "disc-overpowering") if not f.skipped]
    curves = radiodiff_curves(3000, disc_start=1000)
    on = curves.steps >= 2000
    curves.values["disc_loss"][on] = 0.02
    curves.values["logits_real"][on] = 2.5
    curves.values["logits_fake"][on] = -2.0
    f = one(frame_of(curves), "disc-overpowering", ADV)
    assert f.severity == "warning" and f.numbers["logit_gap"] > 4 and f.numbers["disc_loss_median"] == 0.02
    assert "Its loss is 0 wherever it clears the margin" in f.message  # the hinge's mechanism
    # the vanilla (softplus) loss has no margin: never 0, its gradient only shrinks
    vanilla = Schedule(disc_start=1000, kl_weight=1e-6, disc_weight=0.5, disc_factor=1.0, total_steps=5000,
                       disc_loss="vanilla")
    curves.values["disc_loss"][on] = 0.17
    f = one(frame_of(curves), "disc-overpowering", vanilla)
    assert f.severity == "warning" and "margin" not in f.message and "softplus loss is never 0" in f.message
    assert "margin" not in f.rationale and "softplus" in f.rationale  # why it matters: the same loss's


def test_d_weight_pinned_at_clamp():
    curves = radiodiff_curves(3000, disc_start=1000)
    assert not [f for f in findings(frame_of(curves), ADV, "d-weight-pinned") if not f.skipped]
    curves.values["d_weight"][curves.steps >= 1500] = 5000.0
    f = one(frame_of(curves), "d-weight-pinned", ADV)
    # dated where it reached the clamp, and the summed nll named as what makes the ratio large
    assert f.severity == "warning" and f.numbers["ceiling"] == 5000.0 and f.step == 1500
    assert "65,536 pixels" in f.message


def test_rec_degrading_after_disc_start():
    schedule = Schedule(disc_start=8000, kl_weight=1e-6, disc_weight=0.5, total_steps=20_000)
    curves = radiodiff_curves(12_000, disc_start=8000)
    assert one(frame_of(curves), "rec-after-disc", schedule).severity == "ok"
    on = curves.steps >= 8000
    curves.values["rec_loss"][on] *= 1.5
    f = one(frame_of(curves), "rec-after-disc", schedule)
    assert f.severity == "warning" and f.numbers["change"] > 0.2


def test_a_long_equilibrium_is_not_a_fault_a_discriminator_that_does_not_learn_is():
    schedule = Schedule(disc_start=1000, kl_weight=1e-6, disc_weight=0.5, total_steps=50_000)
    early = frame_of(radiodiff_curves(3000, disc_start=1000))
    assert one(early, "disc-at-chance", schedule).severity == "ok"
    curves = radiodiff_curves(30_000, disc_start=1000)
    f = one(frame_of(curves, every=100), "disc-at-chance", schedule)
    # the field's reading (LlamaGen#27, taming#44): both readings explained, no warning
    assert f.severity == "info" and f.numbers["steps_at_chance"] >= 10_000 and "Two readings" in f.message
    assert worst(findings(frame_of(curves, every=100), schedule)) == "ok"
    frozen = radiodiff_curves(30_000, disc_start=1000)
    on = frozen.steps >= 1000
    frozen.values["logits_real"][on] = 0.0123  # an optimizer that never steps: outputs never change
    frozen.values["logits_fake"][on] = -0.0077
    f = one(frame_of(frozen, every=100), "disc-at-chance", schedule)
    assert f.severity == "warning" and f.step == 1000 and "do not move" in f.message
    identical = radiodiff_curves(30_000, disc_start=1000)
    identical.values["logits_fake"] = identical.values["logits_real"].copy()
    f = one(frame_of(identical, every=100), "disc-at-chance", schedule)
    assert f.severity == "warning" and "identical" in f.message


def test_divergence_is_sustained_growth_not_a_spike():
    curves = radiodiff_curves(6000, disc_start=50_000)
    assert not [f for f in findings(frame_of(curves), rule="divergence") if not f.skipped]
    curves.values["rec_loss"][3000:] *= np.exp(np.linspace(0, 2, len(curves.steps) - 3000))
    out = findings(frame_of(curves))
    direct = [f for f in out if f.rule == "divergence" and not f.skipped]
    if direct:
        (f,) = direct
        assert f.metric == "rec_loss" and f.numbers["levels"][-1] > 2 * f.numbers["levels"][0]
    else:  # one cause, one headline: the growth is cited under the loss going bad, dated where it began
        (head,) = [f for f in out if f.rule == "loss-now" and f.severity != "ok"]
        assert head.metric == "rec_loss" and 2900 <= head.step <= 3600  # a slow exponential: within 10% of the run
        assert any(r["rule"] == "divergence" and r["metric"] == "rec_loss" for r in head.related)


def test_transient_spike_is_found_and_a_level_shift_is_not_called_a_spike():
    curves = radiodiff_curves(6000, disc_start=50_000)
    assert not [f for f in findings(frame_of(curves), rule="spikes") if not f.skipped]
    curves.values["kl_loss"][4000] *= 5
    f = one(frame_of(curves), "spikes")
    assert f.metric == "kl_loss" and f.numbers["largest_step"] == 4000 and f.numbers["count"] == 1
    shifted = radiodiff_curves(6000, disc_start=50_000)
    shifted.values["kl_loss"][4000:] *= 5
    assert not [f for f in findings(frame_of(shifted), rule="spikes") if not f.skipped and f.metric == "kl_loss"]


def test_liveness_rate_eta_and_a_stopped_run():
    frame = frame_of(radiodiff_curves(3000, disc_start=5000, total_steps=10_000), seconds_per_step=0.5)
    schedule = Schedule(disc_start=5000, kl_weight=1e-6, total_steps=10_000)
    f = one(frame, "liveness", schedule)
    assert f.severity == "info" and f.numbers["steps_per_hour"] == pytest.approx(7200)
    assert f.numbers["hours_to_next_milestone"] == pytest.approx(2000 / 7200)
    last_wall = 1.7e9 + 3000 * 0.5
    stale = one(frame, "liveness", schedule, {"liveness": {"now": last_wall + 3 * 3600}})
    assert stale.severity == "warning" and "may have stopped" in stale.message


def test_lr_schedule_matches_radiodiff_and_catches_a_wrong_one():
    curves = radiodiff_curves(3000, disc_start=1000, total_steps=5000)
    frame = frame_of(curves)
    f = one(frame, "lr-schedule", HEALTHY)
    assert f.severity == "ok" and "RadioDiff" in f.numbers["schedule"]
    curves.values["lr"] = np.full(len(curves.steps), 4 * 5e-6)  # LDM's scaled constant rate
    assert one(frame_of(curves), "lr-schedule", HEALTHY).severity == "info"
    curves.values["lr"] = 5e-6 * (1 - curves.steps / 3000.0) + 1e-9  # a schedule the config does not describe
    f = one(frame_of(curves), "lr-schedule", HEALTHY)
    assert f.severity == "warning"


def test_kl_per_latent_dimension_uses_the_datas_image_size():
    # RadioDiff: 1 x 256 x 256 inputs (not the config's 320), embed_dim 3, ch_mult [1, 2, 4] -> 3 x 64 x 64
    schedule = Schedule(disc_start=50_001, kl_weight=1e-6, total_steps=150_000, in_channels=1,
                        resolution=(320, 320), embed_dim=3, downsample=4)
    assert schedule.latent_dims() == 3 * 80 * 80
    f = one(frame_of(radiodiff_curves(3000, disc_start=50_001)), "kl-rising", schedule)
    assert f.numbers["latent_dims"] == 12_288
    assert f.numbers["kl_per_latent_dim"] == pytest.approx(f.numbers["kl_end"] / 12_288)
    assert "12,288 latent dimensions" in f.message


def test_a_new_rule_is_one_function_and_one_registry_entry():
    """The function returns its case in words and numbers; the registry stamps the id, the title and the
    severity (a milder case names its own), and the README's table gains its row."""
    from vae_report.rules import Case, Rule, rule_table

    def rec_above(m, s, t):
        latest = float(m.values("rec_loss")[-1])
        return [Case(f"rec_loss is {latest:.3f}", "rec_loss", m.last_step(), {"latest": latest},
                     severity=None if latest > t["limit"] else "ok")]

    rule = Rule("rec-above", "Reconstruction above a limit", "warning", "A test rule.", rec_above, {"limit": 0.0},
                needs=("rec_loss",), severities=("ok", "warning"), checks="rec_loss above `limit`")
    frame = frame_of(radiodiff_curves(3000, disc_start=1000, total_steps=5000))
    (raised,) = run_rules(Metrics(frame), SCHEDULE, rules=[rule])
    assert (raised.rule, raised.title, raised.severity, raised.metric) == ("rec-above", rule.title, "warning",
                                                                           "rec_loss")
    assert raised.numbers["latest"] == pytest.approx(float(frame[frame.metric == "rec_loss"].value.iloc[-1]))
    (calm,) = run_rules(Metrics(frame), SCHEDULE, {"rec-above": {"limit": 1e9}}, rules=[rule])
    assert calm.severity == "ok" and calm.rule == "rec-above"
    assert "| `rec-above` | rec_loss above `limit` | ok / warning | `limit` 0 |" in rule_table([rule])


def test_every_registered_rule_has_its_short_form():
    """Each registered rule carries the clause of its finding's key numbers that the Q&A quotes (Rule.short,
    beside its check): a rule registered without one fails here, whether or not the battery meets its finding."""
    from vae_report.rules import RULES

    assert len(RULES) > 30
    assert [rule.id for rule in RULES if not callable(rule.short)] == []


def test_a_new_rules_short_form_reaches_the_answers_with_no_other_edit(tmp_path, monkeypatch):
    """A rule is its check, its short form and one Rule entry: registered, its finding's clause is what the
    narrative quotes (a finding, a cited finding's dict, the step in the logs' unit), and the answer to "Should I
    intervene?" gives it, with no edit to the narrative."""
    from test_verdicts import config, write_run

    import vae_report.rules.registry as registry
    from vae_report import analyze_run
    from vae_report.narrative.answers import short, short_form
    from vae_report.numbers import fmt
    from vae_report.rules import Case, Rule

    def rec_above(m, s, t):
        latest = float(m.values("rec_loss")[-1])
        return [Case(f"rec_loss is {latest:.3f}", "rec_loss", m.last_step(), {"latest": latest, "limit": t["limit"]})]

    def rec_above_short(f):
        return f"rec_loss {fmt(f.n['latest'])} at {f.at()}, above the limit {fmt(f.n['limit'])}"

    rule = Rule("rec-above", "Reconstruction above a limit", "error", "A test rule.", rec_above, {"limit": 0.0},
                needs=("rec_loss",), checks="rec_loss above `limit`", action="Lower it.", short=rec_above_short)
    monkeypatch.setattr(registry, "RULES", [*registry.RULES, rule])
    frame = frame_of(radiodiff_curves(3000, disc_start=1000, total_steps=5000))
    (raised,) = run_rules(Metrics(frame), SCHEDULE, rules=[rule])
    clause = f"rec_loss {fmt(raised.numbers['latest'])} at step 3,000, above the limit 0"
    assert short_form(raised, "step") == clause
    assert short_form(raised.to_dict(), "epoch") == clause.replace("step", "epoch")  # cited under a headline
    assert short(raised, "step").startswith(clause + ": see the error")

    curves = radiodiff_curves(3000, disc_start=1000, total_steps=5000)
    a = analyze_run(write_run(tmp_path, curves, 10, config(total=5000)))
    intervene = next(qa.answer for qa in a.qa if qa.question.startswith("Should I intervene"))
    assert f"\"{rule.title}\"" in intervene and "above the limit 0" in intervene, intervene


def test_every_finding_is_a_severity_its_rule_registers():
    """The registry's severities are what the rules raise: each finding on healthy and faulty runs is one of its
    rule's registered severities, the worst of them the rule's severity."""
    from vae_report.rules import RULES

    registered = {rule.id: rule.raises() for rule in RULES}
    assert all(rule.raises()[-1] == rule.severity for rule in RULES)
    curves = radiodiff_curves(4999, disc_start=1000, total_steps=5000)
    broken = radiodiff_curves(4999, disc_start=1000, total_steps=5000)
    broken.values["rec_loss"][3000:] *= np.linspace(1, 30, len(broken.steps) - 3000)
    broken.values["kl_loss"][4000:4010] = np.nan
    seen = set()
    for c in (curves, broken):
        for f in findings(frame_of(c, seconds_per_step=0.5), HEALTHY):
            if not f.skipped:
                assert f.severity in registered[f.rule], (f.rule, f.severity, f.message)
                seen.add(f.severity)
    assert {"ok", "warning"} <= seen
