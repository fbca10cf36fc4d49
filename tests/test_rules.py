"""Each rule on a frame where it must fire and on one where it must stay silent."""

import numpy as np
import pytest
from writers import PIXELS, radiodiff_curves

from vae_report.frame import concat, make_frame
from vae_report.rules import Metrics, run_rules, worst
from vae_report.schedule import Schedule

SCHEDULE = Schedule(disc_start=1000, kl_weight=1e-6, disc_weight=0.5, disc_factor=1.0, total_steps=5000)


def frame_of(curves, keys=None, every=10):
    keep = curves.steps % every == 0
    parts = [make_frame(curves.steps[keep], [k] * int(keep.sum()), curves.values[k][keep], np.nan, "test")
             for k in (keys or curves.values)]
    return concat(parts).sort_values(["metric", "step"], ignore_index=True)


def findings(frame, schedule=SCHEDULE, rule=None):
    out = run_rules(Metrics(frame), schedule)
    return [f for f in out if rule is None or f.rule == rule]


def one(frame, rule, schedule=SCHEDULE):
    (finding,) = [f for f in findings(frame, schedule, rule) if not f.skipped]
    return finding


def test_healthy_run_has_no_warning_or_error_in_either_phase():
    for last in (800, 3000):
        out = findings(frame_of(radiodiff_curves(last, disc_start=1000, total_steps=5000)))
        assert worst(out) == "ok", [f.message for f in out if f.severity in ("warning", "error")]


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
    assert not [x for x in findings(frame_of(radiodiff_curves(3000)), rule="disc-active-before-start")]


def test_kl_rising_is_expected_under_tiny_weight_and_warned_when_it_dominates():
    frame = frame_of(radiodiff_curves(3000, disc_start=5000))
    assert one(frame, "kl-rising").severity == "ok"
    big = Schedule(disc_start=5000, kl_weight=0.5, total_steps=5000)
    f = one(frame, "kl-rising", big)
    assert f.severity == "warning" and f.numbers["kl_term_share"] > 0.1
    flat = frame_of(radiodiff_curves(3000, disc_start=5000, kl_rises=False))
    assert not [x for x in findings(flat, rule="kl-rising") if not x.skipped]


def test_non_finite_reports_first_bad_step():
    curves = radiodiff_curves(3000)
    curves.values["kl_loss"][1230:] = np.nan
    f = one(frame_of(curves), "non-finite")
    assert f.severity == "error" and f.step == 1230 and f.metric == "kl_loss"
    assert not [x for x in findings(frame_of(radiodiff_curves(3000)), rule="non-finite")]


def test_rec_getting_worse_is_a_warning():
    curves = radiodiff_curves(3000, disc_start=5000)
    curves.values["rec_loss"] = np.linspace(0.03, 0.09, len(curves.steps))
    f = one(frame_of(curves), "rec-trend")
    assert f.severity == "warning" and f.numbers["change"] > 0.1
    assert one(frame_of(radiodiff_curves(3000, disc_start=5000)), "rec-trend").severity == "ok"


def test_total_trend_is_judged_within_the_adversarial_phase():
    schedule = Schedule(disc_start=8000, kl_weight=1e-6, total_steps=20_000)
    curves = radiodiff_curves(12_000, disc_start=8000)
    on = curves.steps >= 8000
    curves.values["total_loss"][on] += 400  # a jump when the GAN term switches on is not a regression
    assert one(frame_of(curves), "total-trend", schedule).severity == "ok"
    curves.values["total_loss"][on] += np.linspace(0, 2000, int(on.sum()))
    f = one(frame_of(curves), "total-trend", schedule)
    assert f.severity == "warning" and f.numbers["from_step"] == 8000


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


def test_d_weight_pinned_at_clamp():
    curves = radiodiff_curves(3000, disc_start=1000)
    assert not [f for f in findings(frame_of(curves), ADV, "d-weight-pinned") if not f.skipped]
    curves.values["d_weight"][curves.steps >= 1500] = 5000.0
    f = one(frame_of(curves), "d-weight-pinned", ADV)
    assert f.severity == "warning" and f.numbers["ceiling"] == 5000.0


def test_rec_degrading_after_disc_start():
    schedule = Schedule(disc_start=8000, kl_weight=1e-6, disc_weight=0.5, total_steps=20_000)
    curves = radiodiff_curves(12_000, disc_start=8000)
    assert one(frame_of(curves), "rec-after-disc", schedule).severity == "ok"
    on = curves.steps >= 8000
    curves.values["rec_loss"][on] *= 1.5
    f = one(frame_of(curves), "rec-after-disc", schedule)
    assert f.severity == "warning" and f.numbers["change"] > 0.2
