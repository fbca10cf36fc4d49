"""Verdicts on runs written by real writers (tensorboard's EventFileWriter, the csv module), one class of fault
at a time (issue 8): a loss going bad now, negative totals, the learning rate at every point, validation, the
discriminator at equilibrium, the generator winning, VQ models, one finding per cause."""

from __future__ import annotations

import json
import math
import re
import time

import numpy as np
import pytest
import yaml
from writers import (
    PIXELS,
    radiodiff_config,
    radiodiff_curves,
    write_radiodiff_run,
    write_scalars,
)

from vae_report import analyze_run
from vae_report.frame import make_frame
from vae_report.numbers import fmt
from vae_report.rules import Metrics, run_rules
from vae_report.schedule import Schedule


def write_run(folder, curves, every=10, config=None, extra=None):
    """The bundled trainer's layout: train/ tags in one event file, the config beside it."""
    points = [(int(s), f"train/{k}", float(v[i])) for i, s in enumerate(curves.steps) if s % every == 0
              for k, v in curves.values.items()]
    points += extra or []
    write_scalars(folder, sorted(points, key=lambda p: p[0]))
    if config is not None:
        (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return folder


def verdict(folder, **overrides):
    a = analyze_run(folder, **overrides)
    bad = [f for f in a.active_findings() if f.severity in ("warning", "error")]
    return a, bad


def config(disc_start=1000, total=5000, **loss):
    c = radiodiff_config(disc_start=disc_start, total_steps=total, log_freq=10)
    c["model"]["lossconfig"].update(loss)
    return c


def _explode(curves, since: int, **factors: float) -> None:
    """Each named metric grown geometrically from ``since`` to ``factor`` times its level at the last step, the
    sums rebuilt from the terms: a loss blowing up in the latest logs."""
    late = curves.steps >= since
    for name, factor in factors.items():
        curves.values[name][late] *= np.exp(np.linspace(0, np.log(factor), int(late.sum())))
    _rebuild_sums(curves)


def _rebuild_sums(curves, on_disc=True):
    v = curves.values
    v["nll_loss"] = PIXELS * v["rec_loss"]
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"] + v["d_weight"] * v["disc_factor"] * v["g_loss"]


@pytest.mark.parametrize("last,every", [(300, 1), (3000, 10), (4990, 100)])
def test_healthy_runs_of_any_length_and_interval_give_no_warning(tmp_path, last, every):
    curves = radiodiff_curves(last, disc_start=1000, total_steps=5000, seed=last)
    a, bad = verdict(write_run(tmp_path, curves, every, config(total=5000)))
    assert bad == [], [f.message for f in bad]
    assert any(f.rule == "loss-now" and f.severity == "ok" for f in a.findings)


def test_a_loss_exploding_in_the_latest_logs_is_never_ok(tmp_path):
    curves = radiodiff_curves(4000, disc_start=50_001, total_steps=150_000)
    _explode(curves, 3800, rec_loss=100)  # the latest 5% of a phase-1 run: rec grows 100x
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    assert a.status == "error"
    (head,) = [f for f in bad if f.rule == "loss-now"]
    assert head.metric == "rec_loss" and 3800 <= head.step <= 3830  # the change point, not the window
    # one cause, one headline: nll and total (which track rec) are cited under it, not repeated
    assert {r["metric"] for r in head.related} >= {"nll_loss", "total_loss"}
    assert not [f for f in bad if f.metric in ("nll_loss", "total_loss") and f.rule == "loss-now"]
    assert "rose" not in head.message or "fell" not in head.message
    # a ratio with the precision a noisy level carries: "38 times that level", never "37.93 times"
    assert re.search(r", (\d{1,3}(,\d{3})*|\d\.\d) times that level", head.message), head.message


def test_explosion_after_disc_start_is_caught_in_the_adversarial_phase(tmp_path):
    curves = radiodiff_curves(4000, disc_start=1000, total_steps=5000)
    late = curves.steps >= 3000
    curves.values["rec_loss"][late] *= np.exp((curves.steps[late] - 3000) / 300)
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config()))
    assert a.status == "error" and any(f.rule == "loss-now" and 3000 <= f.step <= 3150 for f in bad)


def test_negative_totals_are_described_with_the_right_sign(tmp_path):
    # RadioDiff after disc_start: d_weight ~5,000 x g_loss ~-0.44 outweighs nll; the total falls further
    curves = radiodiff_curves(6000, disc_start=1000, total_steps=10_000)
    v, on = curves.values, curves.steps >= 1000
    v["d_weight"][on] = 5000.0
    noise = 0.01 * np.random.default_rng(1).standard_normal(int(on.sum()))
    v["g_loss"][on] = -0.6 - 0.2 * (curves.steps[on] - 1000) / 5000 + noise
    _rebuild_sums(curves)
    assert v["total_loss"][-1] < -1000
    # disc_weight 1: the clamp is 10,000, so d_weight 5,000 adapts freely (the published run's shape)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(total=10_000, disc_weight=1.0)))
    assert bad == [], [f.message for f in bad]
    (trend,) = [f for f in a.findings if f.rule == "total-trend"]
    # from positive (the decay's start) to negative: two values, no percentage across the sign change
    assert "fell from" in trend.message and "to -1," in trend.message and "%" not in trend.message


def _lr_run(tmp_path, change, hold_from=None):
    """``hold_from``: the losses vary with the batches only from that step on (what an lr of 0 leaves them)."""
    curves = radiodiff_curves(5000, disc_start=50_001, total_steps=10_000)
    lr = curves.values["lr"] = 5e-6 * np.maximum((1 - curves.steps / 10_000) ** 0.95, 5e-7)
    change(curves.steps, lr)
    if hold_from is not None:
        rec, held = curves.values["rec_loss"], curves.steps >= hold_from
        noise = 1 + 0.02 * np.random.default_rng(3).standard_normal(int(held.sum()))
        rec[held] = rec[curves.steps == hold_from][0] * noise
        curves.values["nll_loss"] = PIXELS * rec
        _rebuild_sums(curves, on_disc=False)
    return verdict(write_run(tmp_path, curves, 10, config(disc_start=9_001, total=10_000)))


@pytest.mark.parametrize("name,change,words", [
    ("zero", lambda s, lr: lr.__setitem__(s >= 1000, 0.0), "drops to 0 at step 1,000"),
    ("frozen", lambda s, lr: lr.__setitem__(s >= 1000, lr[s == 1000][0]), "stops changing at step 1,0"),
    ("jump", lambda s, lr: lr.__setitem__(s >= 1000, lr[s >= 1000] * 100), "jumps at step 1,000"),
])
def test_lr_leaving_its_schedule_at_20_percent_is_named_with_its_step(tmp_path, name, change, words):
    a, bad = _lr_run(tmp_path, change, hold_from=1000 if name == "zero" else None)
    # a drop to 0 is cited under "Training stalled" (nothing trained from there), the one cause's headline
    (f,) = [d for g in bad for d in (g.to_dict(), *g.related) if d["rule"] == "lr-schedule"]
    assert words in f["message"] and 1000 <= f["step"] <= 1020
    if name == "zero":
        (head,) = [g for g in bad if g.rule == "run-stalled"]
        assert head.step == f["step"] and "Nothing trained from step 1,000 to the last log" in head.message


def test_lr_printed_with_five_decimals_is_a_precision_artefact(tmp_path):
    """A CSV parsed from RadioDiff's text log keeps its ``{:.5f}`` lr: 0.00001, then 0.00000, is a print, not a
    schedule."""
    import csv

    curves = radiodiff_curves(5000, disc_start=50_001, total_steps=10_000)
    lr = 8e-6 * (1 - curves.steps / 10_000) ** 0.95  # prints 0.00001, then 0.00000 from about step 3,900
    with (tmp_path / "parsed.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "total_loss", "rec_loss", "kl_loss", "lr"])
        for i in range(0, len(curves.steps), 10):
            writer.writerow([int(curves.steps[i]), curves.values["total_loss"][i], curves.values["rec_loss"][i],
                             curves.values["kl_loss"][i], f"{lr[i]:.5f}"])
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config(disc_start=9_001, total=10_000)))
    a, bad = verdict(tmp_path)
    (f,) = [f for f in a.findings if f.rule == "lr-schedule"]
    assert f.severity == "info" and "precision artefact" in f.message and bad == [], (f.message, bad)


def test_an_lr_read_from_tensorboard_is_never_called_printed_with_few_decimals(tmp_path):
    """The same few round values as floats in TensorBoard are what the trainer logged: a sentence about printed
    decimals follows the reader that read the lr, and a text log is not it here."""
    a, bad = _lr_run(tmp_path, lambda s, lr: lr.__setitem__(slice(None), np.where(s < 3000, 1e-4, 0.0)))
    assert a.metric_sources["lr"] == "tensorboard"
    said = " ".join(f.message for f in a.findings)
    assert "decimals" not in said and "precision artefact" not in said, said


def test_a_logged_lr_of_zero_while_the_losses_keep_falling_is_an_lr_log_that_is_not_the_optimizers(tmp_path):
    """The logged lr is exactly 0 from step 3,000 (40% of the run) while rec keeps falling about 50%: no weight
    moves at lr 0, so the lr log is not the optimizer's. One finding says so and that run-stalled is withheld; no
    stall, no halt, no plot caption that training stopped."""
    from vae_report.marks import run_marks
    from vae_report.readers import read_run

    a, bad = _lr_run(tmp_path, lambda s, lr: lr.__setitem__(slice(None), np.where(s < 3000, 1e-4, 0.0)))
    stalls = [f for f in a.findings if f.rule == "run-stalled" and f.severity != "ok"]
    assert [f.case for f in stalls] == ["lr-disputed"], [(f.case, f.message) for f in stalls]
    (f,) = stalls
    assert f.severity == "warning" and f.step == 3000 and "probably not the optimizer's" in f.message
    assert "rec_loss kept improving" in f.message and "Training stalled is not raised" in f.message
    assert a.halted is None and a.next_milestone is not None
    key = run_marks(Metrics(read_run(tmp_path)), a.schedule).key
    assert "stopped in effect" not in key and "probably not the optimizer's" in key, key


def stalled_curves():
    """3,000 steps whose losses freeze at step 2,000, the lr at 0 from there."""
    curves = radiodiff_curves(3000, disc_start=50_001, total_steps=10_000)
    stuck = curves.steps >= 2000
    for key in ("rec_loss", "kl_loss", "g_loss", "d_weight"):
        curves.values[key][stuck] = curves.values[key][curves.steps == 2000][0]
    curves.values["lr"][stuck] = 0.0
    _rebuild_sums(curves)
    return curves


def test_a_stalled_run_is_a_warning(tmp_path):
    curves = stalled_curves()
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=10_000)))
    (f,) = [f for f in bad if f.rule == "run-stalled"]
    assert 2000 <= f.step <= 2010 and "learning rate is 0" in f.message


def test_validation_rising_while_training_falls_is_overfitting(tmp_path):
    curves = radiodiff_curves(6000, disc_start=50_001, total_steps=10_000)
    val_steps = np.arange(0, 6001, 200)
    train = np.interp(val_steps, curves.steps, curves.values["rec_loss"])
    val = train * 1.05 + np.where(val_steps > 3000, (val_steps - 3000) * 1e-4, 0)
    extra = [(int(s), "val/rec_loss", float(v)) for s, v in zip(val_steps, val, strict=True)]
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=10_000), extra))
    (f,) = [f for f in bad if f.rule == "val-overfitting"]
    assert f.metric == "val/rec_loss" and 2800 <= f.step <= 3200


def test_validation_missing_where_the_config_runs_it():
    frame = make_frame(np.arange(0, 3000, 10), ["rec_loss"] * 300, np.linspace(1, 0.1, 300), np.nan, "t")
    out = run_rules(Metrics(frame), Schedule(val_every=500))
    assert [f.rule for f in out if f.severity == "warning"] == ["val-missing"]


def test_generator_winning_is_watched_too(tmp_path):
    curves = radiodiff_curves(6000, disc_start=1000, total_steps=10_000)
    v, on = curves.values, curves.steps >= 1000
    ramp = (curves.steps[on] - 1000) / 5000
    v["disc_loss"][on] = 1.82
    v["logits_real"][on] = -0.3
    v["logits_fake"][on] = 0.4
    v["d_weight"][on] = 150 * 114 ** ramp  # 150 -> 17,000
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(total=10_000, disc_weight=5.0)))
    (f,) = [f for f in bad if f.rule == "generator-winning"]
    assert "above its chance level" in f.message and "logits_fake sits above" in f.message
    # from its level at the phase's start to the table's Now, the growth as a factor like every other sentence's
    assert re.search(r"d_weight rose from [\d.,]+ to [\d.,]+ \(x\d", f.message), f.message
    assert f"to {fmt(a.metrics['d_weight'].now)} (x" in f.message
    # the total carries the adversarial term that warning is about: its trend is no all-clear beside it
    (trend,) = [t for t in a.findings if t.rule == "total-trend" and not t.skipped]
    assert trend.severity != "ok" and "That is no all-clear: see the warning" in trend.message


def _vq_run(folder, explode_from=None):
    """A taming VQGAN run before its discriminator; its codebook loss exploding from ``explode_from`` on."""
    rng = np.random.default_rng(0)
    steps = np.arange(0, 3000, 10)
    rec = 0.1 + 0.4 * np.exp(-steps / 500) + 0.005 * rng.standard_normal(len(steps))
    quant = 0.02 + 0.01 * np.exp(-steps / 800)
    if explode_from is not None:
        quant = quant * np.exp(np.maximum(steps - explode_from, 0) / 100)
    total = rec + 1.0 * quant  # taming: nll = mean(rec), disc not on yet
    points = [(int(s), f"train/{k}", float(v[i])) for i, s in enumerate(steps)
              for k, v in (("total_loss", total), ("rec_loss", rec), ("nll_loss", rec), ("quant_loss", quant))]
    write_scalars(folder, points)
    cfg = {"model": {"base_learning_rate": 4.5e-6, "target": "taming.models.vqgan.VQModel", "params": {
        "embed_dim": 256, "n_embed": 1024, "lossconfig": {
            "target": "taming.modules.losses.vqperceptual.VQLPIPSWithDiscriminator",
            "params": {"disc_start": 10000, "codebook_weight": 1.0, "disc_weight": 0.8}}}}}
    (folder / "config.yaml").write_text(yaml.safe_dump(cfg))
    return verdict(folder)


def test_a_vq_codebook_loss_that_explodes_carries_the_total_one_cause(tmp_path):
    a, bad = _vq_run(tmp_path, explode_from=2400)
    # the codebook term is most of the total now: the total's rise is its rise, cited under it
    (head,) = bad
    assert head.rule == "loss-now" and head.metric == "quant_loss" and 2300 <= head.step <= 2500
    assert "total_loss" in {r["metric"] for r in head.related}


def test_a_vq_model_has_no_kl_rules_and_its_own_bookkeeping(tmp_path):
    a, bad = _vq_run(tmp_path)
    assert bad == []
    assert a.schedule.regularizer == "vq" and a.schedule.kl_weight is None
    kl = [f for f in a.findings if f.rule.startswith("kl-")]
    assert kl and all(f.skipped and "Not applicable" in f.message for f in kl)
    (book,) = [f for f in a.findings if f.rule == "loss-bookkeeping"]
    assert book.severity == "ok" and "quant_loss" in book.message and "averaged" in book.message


def test_rule_time_grows_about_linearly_with_the_points():
    def frame(n):
        steps = np.arange(n)
        rng = np.random.default_rng(0)
        parts = {k: 1 + 0.1 * rng.standard_normal(n) for k in ("total_loss", "rec_loss", "kl_loss", "nll_loss")}
        parts["kl_loss"] += 1000
        from vae_report.frame import concat

        return concat([make_frame(steps, [k] * n, v, np.nan, "t") for k, v in parts.items()])

    schedule = Schedule(kl_weight=1e-6, total_steps=10**7)

    def timed(n):
        m = Metrics(frame(n))
        start = time.perf_counter()
        run_rules(m, schedule)
        return time.perf_counter() - start

    timed(10_000)  # warm-up
    small, large = min(timed(50_000) for _ in range(2)), min(timed(400_000) for _ in range(2))
    assert large / small < 8 * 2.5  # 8x the points: linear would be 8x; quadratic 64x


def test_an_ldm_run_with_a_scheduler_the_config_keys_do_not_describe_is_not_a_fault(tmp_path):
    from test_schedule import LDM

    curves = radiodiff_curves(5000, disc_start=50_001, total_steps=10_000)
    warm = np.minimum(1.0, curves.steps / 500)  # warm-up, then cosine: a scheduler_config's shape
    curves.values["lr"] = 4.5e-6 * warm * 0.5 * (1 + np.cos(np.pi * curves.steps / 10_000))
    config = yaml.safe_load(LDM) if isinstance(LDM, str) else LDM
    a, bad = verdict(write_run(tmp_path, curves, 10, config))
    (f,) = [f for f in a.findings if f.rule == "lr-schedule"]
    assert f.severity == "info" and "scheduler" in f.message and bad == []


@pytest.mark.parametrize("last_step", [2060, 2299])
def test_a_healthy_run_just_past_disc_start_is_not_a_loss_going_bad(tmp_path, last_step):
    # logged every 50 steps: a handful of points with the discriminator on, its loss up from the 0 before
    write_radiodiff_run(tmp_path, last_step=last_step, tb_every=50, disc_start=2001, total_steps=20_000)
    a, bad = verdict(tmp_path)
    assert bad == [], [(f.rule, f.message) for f in bad]
    (now,) = [f for f in a.findings if f.rule == "loss-now"]
    assert now.severity == "ok" and "disc_loss" in now.numbers["not_judged_yet"]


def test_an_exploding_kl_is_never_called_expected_nor_blamed_on_kl_weight(tmp_path):
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    late = curves.steps >= 8000
    curves.values["kl_loss"][late] *= np.exp((curves.steps[late] - 8000) / 900)  # x600,000 by the end
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    # dated where it began, not where the recent stretch (already far up the climb) starts
    (now,) = [f for f in bad if f.rule == "loss-now" and f.metric == "kl_loss"]
    assert 7000 <= now.step <= 8400, now.message
    # one cause: the KL's rise over the run and its share of the total are cited under the finding that dates it
    cited = {r["rule"]: r for r in now.related}
    assert not [f for f in bad if f.rule in ("kl-rising", "kl-dominant")]
    rising = cited["kl-rising"]
    assert rising["severity"] == "warning" and "expected" not in rising["message"]
    assert "running away" in rising["message"] and 7000 <= rising["step"] <= 9000, rising["message"]
    assert f"climbing from step {rising['step']:,}" in rising["message"]
    dominant = cited["kl-dominant"]
    assert "lower kl_weight" not in dominant["message"] and "exploded" in dominant["message"]
    share = a.decomposition.terms
    kl_term = next(t for t in share if t.name.startswith("kl_weight"))
    assert dominant["numbers"]["kl_term_share"] == pytest.approx(kl_term.share)  # one share in the whole report
    # the KL term is most of the total: the total's rise is the same cause, cited under it, not a second headline
    assert kl_term.share > 0.5 and not [f for f in bad if f.metric == "total_loss"]
    assert {"loss-now", "total-trend"} <= {r["rule"] for r in now.related if r["metric"] == "total_loss"}


def test_a_loss_risen_since_the_switch_on_is_never_at_its_best_in_the_latest_logs_sentence(tmp_path):
    curves = radiodiff_curves(12_000, disc_start=6001, total_steps=20_000)
    curves.values["rec_loss"][curves.steps >= 6000] *= 2.5  # worse since the switch-on, flat since
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=6001, total=20_000)))
    (head,) = [f for f in bad if f.metric == "rec_loss"]
    (steady,) = [f for f in a.active_findings() if f.rule == "loss-now" and f.severity == "ok"]
    at_best = steady.message.split(";")[0]
    # the KL still climbing through its latest quarter is said so, not at its best (review 8, class 6)
    assert "rec_loss" not in at_best and "nll_loss" not in at_best
    assert "at or near" in at_best or "kl_loss is still climbing" in at_best
    assert f'rec_loss, nll_loss, total_loss: no sudden rise now, but see "{head.title}"' in steady.message


@pytest.mark.parametrize("jump, start, head", [(1.0, 8000, "loss-now"), (1.6, 6000, "rec-after-disc")])
def test_a_rise_in_the_adversarial_phase_is_one_headline_from_the_rule_that_explains_it(tmp_path, jump, start,
                                                                                       head):
    curves = radiodiff_curves(12_000, disc_start=6001, total_steps=20_000)
    on = curves.steps >= start
    # rec climbing in the phase: from the switch-on with a jump there (the discriminator's doing), or gradually
    # from a third of the way in (a climb is dated where it turned: one from the switch-on is the switch-on's)
    curves.values["rec_loss"][on] *= np.linspace(jump, 2 * max(jump, 1.5), int(on.sum()))
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=6001, total=20_000)))
    rises = [f for f in bad if f.metric in ("rec_loss", "nll_loss", "total_loss")]
    assert [f.rule for f in rises] == [head], [(f.rule, f.metric, f.step) for f in rises]
    cited = {r["rule"] for r in rises[0].related}
    assert {"loss-now", "rec-after-disc", "rec-trend"} - {head} <= cited
    # loss-now's "no loss is rising" is not said beside it
    assert not [f for f in a.active_findings() if f.rule == "loss-now" and f.severity == "ok"
                and "rec_loss" in f.numbers.get("checked", ())]


def test_a_radiodiff_lr_that_never_decays_is_a_scheduler_that_never_stepped(tmp_path):
    curves = radiodiff_curves(40_000, disc_start=50_001, total_steps=150_000, every=100)
    curves.values["lr"][:] = 5e-6
    a, bad = verdict(write_run(tmp_path, curves, 100, config(disc_start=50_001, total=150_000)))
    (lr,) = [f for f in a.findings if f.rule == "lr-schedule"]
    assert lr.severity == "warning" and "never stepped" in lr.message and "5e-06" in lr.message


def test_an_lr_ten_times_the_config_on_the_schedule_shape_is_named_as_such(tmp_path):
    curves = radiodiff_curves(40_000, disc_start=50_001, total_steps=150_000, every=100)
    curves.values["lr"] *= 10
    a, bad = verdict(write_run(tmp_path, curves, 100, config(disc_start=50_001, total=150_000)))
    (lr,) = [f for f in a.findings if f.rule == "lr-schedule"]
    assert lr.severity == "warning" and "10 times the config's lr" in lr.message


def test_a_reconstruction_that_rose_long_ago_and_stayed_up_is_not_called_at_its_best(tmp_path):
    # posterior collapse at step 8,000: KL to ~64, rec_loss from ~0.03 to ~0.09, for the remaining 60% of the run
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    late = curves.steps >= 8000
    curves.values["kl_loss"][late] = 64 + np.abs(curves.values["kl_loss"][late] - 132_000) * 1e-3
    curves.values["rec_loss"][late] += 0.06 * (1 - np.exp(-(curves.steps[late] - 8000) / 200))
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    # one cause, one headline: the collapse heads, the reconstruction's rise at its step is cited under it
    (collapse,) = [f for f in bad if f.rule == "kl-collapse"]
    now = [r for r in collapse.related if r["rule"] == "loss-now"]
    assert now and now[0]["metric"] in ("rec_loss", "nll_loss")
    assert 7900 <= now[0]["step"] <= 8300 and "stayed up" in now[0]["message"]
    assert not [f for f in bad if f.rule == "loss-now"]


def test_a_small_rise_of_reconstruction_after_disc_start_is_called_small_not_none(tmp_path):
    curves = radiodiff_curves(4000, disc_start=1000, total_steps=5000)
    rng = np.random.default_rng(3)
    curves.values["rec_loss"] = 0.03 + 0.0005 * rng.standard_normal(len(curves.steps))  # a settled reconstruction
    curves.values["rec_loss"][curves.steps >= 1000] *= 1.06
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=1000, total=5000)))
    (rec,) = [f for f in a.findings if f.rule == "rec-after-disc"]
    assert rec.severity == "ok" and rec.message.startswith("Reconstruction got a little worse")
    (qa,) = [q for q in a.qa if q.question == "Did reconstruction get worse once the GAN started?"]
    assert qa.answer.startswith("Only a little")


def test_overfitting_seen_in_val_rec_nll_and_total_is_one_headline(tmp_path):
    curves = radiodiff_curves(6000, disc_start=50_001, total_steps=10_000)
    val_steps = np.arange(0, 6001, 200)
    extra = []
    for name in ("rec_loss", "nll_loss", "total_loss"):
        train = np.interp(val_steps, curves.steps, curves.values[name])
        scale = curves.values[name][-1] / curves.values["rec_loss"][-1]  # nll and total: N x rec
        val = train * 1.05 + scale * np.where(val_steps > 3000, (val_steps - 3000) * 1e-4, 0)
        extra += [(int(s), f"val/{name}", float(v)) for s, v in zip(val_steps, val, strict=True)]
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=10_000), extra))
    (head,) = [f for f in bad if f.rule == "val-overfitting"]
    assert head.metric == "val/rec_loss"
    assert {r["metric"] for r in head.related} == {"val/nll_loss", "val/total_loss"}
    assert "median of 3 points around step" in head.message


def test_the_pixel_count_inferred_from_printed_decimals_is_the_image_it_rounds_to():
    # five printed decimals of rec_loss put the ratio nll / rec a little off the image's pixel count
    n = 400
    rec = np.full(n, 0.03)
    kl = np.full(n, 128_000.0)
    nll = rec * (PIXELS + 0.7)
    from vae_report.frame import concat

    frame = concat([make_frame(np.arange(n), [k] * n, v, np.nan, "t") for k, v in
                    (("rec_loss", rec), ("nll_loss", nll), ("kl_loss", kl), ("total_loss", nll + 1e-6 * kl))])
    (book,) = [f for f in run_rules(Metrics(frame), Schedule(kl_weight=1e-6)) if f.rule == "loss-bookkeeping"]
    assert f"{PIXELS:,} pixels per sample (= 1 x 256 x 256)" in book.message, book.message
    from vae_report.rules.decomposition import decompose

    assert f"N = {PIXELS:,} pixels" in decompose(Metrics(frame), Schedule(kl_weight=1e-6)).legend  # one count


def test_a_pixel_count_off_the_configs_by_its_channels_is_said_to_be_channels_not_resolution():
    from vae_report.frame import concat

    n = 400
    rec, kl = np.full(n, 0.03), np.full(n, 128_000.0)
    frame = concat([make_frame(np.arange(n), [k] * n, v, np.nan, "t") for k, v in
                    (("rec_loss", rec), ("nll_loss", rec * PIXELS), ("kl_loss", kl),
                     ("total_loss", rec * PIXELS + 1e-6 * kl))])

    def note(**shape):
        (book,) = [f for f in run_rules(Metrics(frame), Schedule(kl_weight=1e-6, **shape))
                   if f.rule == "loss-bookkeeping"]
        return book.message

    # 65,536 = 256 x 256 against the config's 3 x 256 x 256: a channel count, not another image size
    same_side = note(in_channels=3, resolution=(256, 256))
    assert "gives 196,608 pixels per sample (= 3 x 256 x 256): the same 256 x 256 images, summed over 1 channel " \
           "where the config names 3" in same_side and "resolution (" not in same_side
    other_side = note(in_channels=3, resolution=(512, 512))  # a quarter of one 512 x 512 channel: another side
    assert "not trained at the config's resolution" in other_side


def test_a_d_weight_pinned_from_the_switch_on_is_dated_there(tmp_path):
    curves = radiodiff_curves(6000, disc_start=1000, total_steps=10_000)
    on = curves.steps >= 1000
    curves.values["d_weight"][on] = 5000.0
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=1000, total=10_000)))
    (pinned,) = [f for f in a.findings if f.rule == "d-weight-pinned"]
    assert pinned.step == 1000 and "since step 1,000" in pinned.message


def test_a_whole_run_trend_that_reads_fine_points_at_the_loss_going_bad_now(tmp_path):
    curves = radiodiff_curves(4000, disc_start=50_001, total_steps=150_000)
    _explode(curves, 3800, rec_loss=100)
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    trends = [f for f in a.findings if f.rule in ("rec-trend", "total-trend") and not f.skipped]
    cited = [r for f in a.findings if f.rule == "loss-now" for r in f.related if r["rule"].endswith("-trend")]
    # no reassuring "ok" beside the error: a trend that sees the rise is cited under it (one cause, one
    # headline); one that does not is info, and says where to look
    assert trends or cited
    assert not [f for f in trends if f.severity == "ok"]
    assert all(f.severity == "info" and "no all-clear: see the error \"Losses in the latest logs\" above" in f.message
               for f in trends), [f.message for f in trends]


def test_a_kl_rise_that_ends_in_nan_is_not_called_expected(tmp_path):
    curves = radiodiff_curves(4000, disc_start=50_001, total_steps=150_000)
    curves.values["kl_loss"][curves.steps >= 3900] = np.nan
    _rebuild_sums(curves)
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    (kl,) = [f for f in a.findings if f.rule == "kl-rising"]
    # a rise like a healthy run's that ends in NaN: neither "expected" nor the cause of the failure
    assert kl.severity == "info" and "expected" not in kl.message and kl.step == 3900
    assert "did not lead the failure" in kl.message


def test_a_run_that_ends_in_nan_gets_no_ok_about_its_latest_levels(tmp_path):
    curves = radiodiff_curves(6000, disc_start=1000, total_steps=10_000)
    for key in ("rec_loss", "nll_loss", "total_loss", "kl_loss"):
        curves.values[key][curves.steps >= 5500] = np.nan
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=1000, total=10_000)))
    assert any(f.rule == "non-finite" for f in bad)
    assert not [f for f in a.findings if f.rule == "rec-after-disc"]
    (now,) = [f for f in a.findings if f.rule == "loss-now"]
    assert now.severity != "ok" and "rec_loss" in now.numbers["non_finite_now"]
    assert "NaN" not in " ".join(f.message for f in a.findings if f.severity == "ok")


def test_liveness_dates_the_run_by_its_furthest_logged_loss(tmp_path):
    from writers import radiodiff_tb_points, write_radiodiff_text_log

    curves = radiodiff_curves(1559, disc_start=1501, total_steps=3000)
    write_scalars(tmp_path, radiodiff_tb_points(curves, 1))  # every step, to 1,559
    write_radiodiff_text_log(tmp_path, curves, radiodiff_config(disc_start=1501, total_steps=3000), 3000,
                             log_freq=100)  # every 100 steps, to 1,500
    a = analyze_run(tmp_path)
    (live,) = [f for f in a.findings if f.rule == "liveness"]
    assert live.step == 1559 and "UTC (step 1,559)" in live.message and "discriminator starts" not in live.message


def test_a_rise_that_ends_in_nan_is_dated_where_it_began(tmp_path):
    curves = radiodiff_curves(30_000, disc_start=50_001, total_steps=150_000)
    late = curves.steps >= 25_000
    curves.values["rec_loss"][late] *= np.exp((curves.steps[late] - 25_000) / 1800)  # x14 by 29,700
    _rebuild_sums(curves)
    for key in ("rec_loss", "nll_loss", "total_loss"):
        curves.values[key][curves.steps >= 29_702] = np.nan
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    # the rise is the divergence the NaN's finding tells: cited under it (one cause, one error), dated where it began
    assert [f.rule for f in bad] == ["non-finite"]
    now = [r for r in bad[0].related if r["rule"] == "loss-now"]
    assert now and 24_000 <= now[0]["step"] <= 26_000 and "before turning NaN/Inf at step 29,710" in now[0]["message"]
    (live,) = [f for f in a.findings if f.rule == "liveness"]
    assert "no time estimate" in live.message and " in about " not in live.message
    assert not [r for r in a.recommendations if "re-run this report" in r]


def test_a_validation_total_that_jumps_with_the_gan_term_is_no_overfitting(tmp_path):
    # taming/LDM: the validation total carries the adversarial term from the switch-on, a step up by design
    curves = radiodiff_curves(20_000, disc_start=10_001, total_steps=20_000)
    val_steps = np.arange(0, 20_001, 500)
    rng = np.random.default_rng(5)
    rec = 1.05 * np.interp(val_steps, curves.steps, curves.values["rec_loss"]) * np.exp(0.01 * rng.standard_normal(
        len(val_steps)))
    total = PIXELS * rec + np.where(val_steps >= 10_001, 0.3 * PIXELS * 0.03, 0.0)  # +30% once the GAN is on
    extra = [(int(s), name, float(v)) for name, values in (("val/rec_loss", rec), ("val/total_loss", total))
             for s, v in zip(val_steps, values, strict=True)]
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=10_001, total=20_000), extra))
    assert not [f for f in bad if f.rule == "val-overfitting"], [f.message for f in bad]
    (total_check,) = [f for f in a.findings if f.rule == "val-overfitting" and f.metric == "val/total_loss"]
    assert total_check.numbers["val_best_step"] >= 10_001  # its best within the current phase


def test_a_discriminator_on_long_before_the_configs_disc_start_sets_the_phase(tmp_path):
    curves = radiodiff_curves(45_000, disc_start=30_001, total_steps=150_000, every=10)
    a, bad = verdict(write_run(tmp_path, curves, 100, config(disc_start=50_001, total=150_000)))
    assert any(f.rule == "disc-active-before-start" and f.severity == "warning" for f in bad)
    assert a.phase == "adversarial" and a.next_milestone.name == "end of training"
    assert a.schedule.disc_start == 50_001 and a.schedule.observed_disc_start == 30_100
    text = " ".join(q.answer for q in a.qa) + " ".join(a.recommendations)
    assert "step 50,001 (discriminator starts)" not in text and "has been on since step 30,100" in text
    # the adversarial phase's rules run on the phase the data show
    assert any(f.rule == "disc-at-chance" and not f.skipped for f in a.findings)


def test_a_modest_steady_cost_of_the_gan_term_is_info_not_a_regression(tmp_path):
    curves = radiodiff_curves(30_000, disc_start=10_001, total_steps=50_000)
    rng = np.random.default_rng(4)
    curves.values["rec_loss"] = 0.03 + 0.0005 * rng.standard_normal(len(curves.steps))
    curves.values["rec_loss"] += 0.3 * np.exp(-curves.steps / 300)  # the first steps' fall, then flat
    curves.values["rec_loss"][curves.steps >= 10_001] += 0.004  # +13%, from the switch-on, for 20,000 steps
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=10_001, total=50_000)))
    (rec,) = [f for f in a.findings if f.rule == "rec-after-disc"]
    assert rec.severity == "info" and "has held since" in rec.message
    assert not [f for f in bad if f.metric in ("rec_loss", "nll_loss")]


def test_a_radiodiff_log_without_the_discriminator_loss_is_analysed_past_disc_start(tmp_path):
    # RadioDiff's [Train Step] line holds the generator's dict; disc_loss only appears with gradient accumulation
    curves = radiodiff_curves(8000, disc_start=5001, total_steps=10_000)
    del curves.values["disc_loss"], curves.values["logits_real"], curves.values["logits_fake"]
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=5001, total=10_000)))
    assert a.status == "ok", [(f.rule, f.message) for f in bad]
    assert any(f.rule == "rec-after-disc" and not f.skipped for f in a.findings)


def test_states_wrong_from_the_start_are_named(tmp_path):
    # KL exactly 0 throughout, and d_weight exactly 0 once the discriminator is on
    curves = radiodiff_curves(8000, disc_start=4001, total_steps=10_000)
    curves.values["kl_loss"][:] = 0.0
    curves.values["d_weight"][:] = 0.0
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=4001, total=10_000)))
    by_rule = {f.rule: f for f in bad}
    assert by_rule["kl-collapse"].step == 0 and "exactly 0" in by_rule["kl-collapse"].message
    assert by_rule["d-weight-pinned"].step >= 4001 and "identically 0" in by_rule["d-weight-pinned"].message


def test_a_total_only_log_that_explodes_in_its_phase_is_an_error(tmp_path):
    curves = radiodiff_curves(60_000, disc_start=50_001, total_steps=150_000)
    late = curves.steps >= 56_000
    curves.values["total_loss"][late] *= np.exp((curves.steps[late] - 56_000) / 1000)  # x50 by the end
    points = [(int(s), tag, float(curves.values[key][i])) for i, s in enumerate(curves.steps) if s % 20 == 0
              for tag, key in (("total_loss", "total_loss"), ("Learning_Rate", "lr"))]
    write_scalars(tmp_path, points)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config(disc_start=50_001, total=150_000)))
    a, bad = verdict(tmp_path)
    assert a.status == "error"
    (now,) = [f for f in bad if f.rule == "loss-now"]
    assert now.metric == "total_loss" and 54_000 <= now.step <= 57_000


def test_an_lr_printed_as_zero_in_a_parsed_csv_is_a_precision_artefact(tmp_path):
    import csv

    curves = radiodiff_curves(3000, disc_start=50_001, total_steps=150_000)
    with (tmp_path / "parsed.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "total_loss", "rec_loss", "kl_loss", "lr"])
        for i in range(0, len(curves.steps), 10):
            writer.writerow([int(curves.steps[i]), curves.values["total_loss"][i], curves.values["rec_loss"][i],
                             curves.values["kl_loss"][i], "0.00000"])
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config(disc_start=50_001, total=150_000)))
    a, bad = verdict(tmp_path)
    (lr,) = [f for f in a.findings if f.rule == "lr-schedule"]
    assert lr.severity == "info" and "precision artefact" in lr.message


def test_a_hinge_loss_of_exactly_zero_is_a_winning_discriminator_not_a_frozen_one(tmp_path):
    curves = radiodiff_curves(8000, disc_start=4001, total_steps=10_000)
    on = curves.steps >= 4001
    rng = np.random.default_rng(6)
    curves.values["logits_real"][on] = 1.6 + 0.2 * np.abs(rng.standard_normal(int(on.sum())))
    curves.values["logits_fake"][on] = -1.6 - 0.2 * np.abs(rng.standard_normal(int(on.sum())))
    curves.values["disc_loss"][on] = 0.0
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=4001, total=10_000)))
    assert any(f.rule == "disc-overpowering" for f in bad)
    assert not [f for f in bad if f.rule == "disc-at-chance"]


def test_a_training_loss_that_leaves_a_flat_validation_far_behind_is_named(tmp_path):
    # a repeated small subset: train keeps falling to 0.004 while validation stops improving at ~0.07
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    curves.values["rec_loss"] = 0.004 + 0.5 * np.exp(-curves.steps / 3000)
    _rebuild_sums(curves)
    val_steps = np.arange(0, 20_001, 1000)
    val = np.maximum(0.07, 0.5 * np.exp(-val_steps / 3000) + 0.03)
    extra = [(int(s), "val/rec_loss", float(v)) for s, v in zip(val_steps, val, strict=True)]
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000), extra))
    (gap,) = [f for f in bad if f.rule == "val-overfitting"]
    assert "keeps widening" in gap.message and gap.numbers["val_over_train_now"] > 10


def test_a_short_run_climbing_from_its_minimum_is_measured_from_there(tmp_path):
    steps = np.arange(0, 51)
    rec = np.where(steps <= 10, 1.0 - 0.036 * steps, 0.64 * np.exp((steps - 10) * 0.056))  # 0.64 -> ~6
    curves = radiodiff_curves(50, disc_start=50_001, total_steps=150_000)
    curves.values["rec_loss"] = rec * np.exp(0.01 * np.random.default_rng(7).standard_normal(len(steps)))
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 1, config(disc_start=50_001, total=150_000)))
    now = [f for f in bad if f.rule == "loss-now"]
    assert now and now[0].numbers["recent_best"] < 0.8 and now[0].step <= 16


def test_a_signed_loss_that_fell_for_long_before_rising_is_dated_at_its_lowest(tmp_path):
    # nll with a drifting learned logvar: falls (to large negative values) for 27k steps, then climbs back
    curves = radiodiff_curves(40_000, disc_start=50_001, total_steps=150_000, every=10)
    x = curves.steps / 40_000
    logvar = -5 * x
    curves.values["logvar"] = logvar
    curves.values["nll_loss"] = PIXELS * (curves.values["rec_loss"] / np.exp(logvar) + logvar)
    curves.values["total_loss"] = curves.values["nll_loss"] + 1e-6 * curves.values["kl_loss"]
    a, bad = verdict(write_run(tmp_path, curves, 100, config(disc_start=50_001, total=150_000)))
    low = int(curves.steps[np.argmin(curves.values["nll_loss"])])
    now = [f for f in bad if f.rule == "loss-now" and f.metric == "nll_loss"]
    assert now and abs(now[0].step - low) <= 4000, (low, now[0].step)


def test_a_warm_up_the_radiodiff_config_does_not_have_is_named_as_one(tmp_path):
    curves = radiodiff_curves(40_000, disc_start=50_001, total_steps=150_000, every=100)
    warm = curves.steps < 5000
    curves.values["lr"][warm] *= np.maximum(curves.steps[warm] / 5000, 1e-4)
    a, _ = verdict(write_run(tmp_path, curves, 100, config(disc_start=50_001, total=150_000)))
    (lr,) = [f for f in a.findings if f.rule == "lr-schedule"]
    assert lr.severity == "warning" and "warm-up" in lr.message and 4000 <= lr.numbers["warmup_until_step"] <= 5100


def test_other_trainers_names_are_judged_and_the_renaming_is_said(tmp_path):
    # MONAI/Keras-style names: recons_loss, kld, d_loss; a rec loss that climbs over its latest fifth
    steps = np.arange(0, 20_000, 50)
    rec = 0.05 + 0.5 / (1 + steps / 500)
    rec[steps > 16_000] *= 1 + (steps[steps > 16_000] - 16_000) / 1000
    points = [(int(s), name, float(v)) for i, s in enumerate(steps)
              for name, v in (("recons_loss", rec[i]), ("kld", 1e4 + s), ("d_loss", 1.0))]
    write_scalars(tmp_path, points)
    a = analyze_run(tmp_path)
    assert {"rec_loss", "kl_loss", "disc_loss"} <= set(a.metrics) and "recons_loss" not in a.metrics
    assert any("recons_loss as rec_loss" in n and "kld as kl_loss" in n for n in a.merge_notes)
    assert a.status in ("warning", "error") and any(f.metric == "rec_loss" and f.severity != "ok"
                                                    for f in a.active_findings())


def test_a_run_with_no_known_loss_is_not_called_ok(tmp_path):
    steps = range(0, 5000, 50)
    write_scalars(tmp_path, [(s, name, v) for s in steps for name, v in (("foo", 1 / (1 + s)), ("bar", s / 7))])
    a = analyze_run(tmp_path)
    unknown = [f for f in a.active_findings() if f.rule == "losses-unknown"]
    assert a.status == "warning" and unknown and "bar, foo" in unknown[0].message
    write_scalars(tmp_path / "b", [(s, "rec_loss", 1 / (1 + s)) for s in steps])  # known, no config
    b = analyze_run(tmp_path / "b")
    answer = next(q.answer for q in b.qa if q.question.startswith("Should I intervene"))
    assert b.status == "ok" and "schedule" not in answer and "without a training config" in answer


@pytest.mark.parametrize("sign, named", [(1, False), (-1, True)])
def test_a_g_loss_running_away_upward_is_the_discriminator_winning_not_the_generator(sign, named):
    # g_loss = -mean(logits_fake): rising far above 0 the critic rejects reconstructions (D wins)
    steps = np.arange(0, 20_000, 50)
    on = steps >= 10_000
    g = np.where(on, sign * 0.05 * 50.0 ** ((steps - 10_000) / 10_000), 0.0)  # x50 over the phase
    frame = make_frame(np.concatenate([steps, steps]), ["g_loss"] * len(steps) + ["disc_loss"] * len(steps),
                       np.concatenate([g, np.where(on, 1.0, 0.0)]), np.nan, "t")
    found = [f for f in run_rules(Metrics(frame), Schedule(disc_start=10_000, disc_weight=0.5))
             if f.rule == "generator-winning" and not f.skipped]
    assert bool(found) == named and (not found or "g_loss ran away" in found[0].message)


def test_disc_weight_zero_in_the_config_is_named_as_the_cause(tmp_path):
    curves = radiodiff_curves(8000, disc_start=4001, total_steps=10_000)
    curves.values["d_weight"][:] = 0.0
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=4001, total=10_000, disc_weight=0.0)))
    (pinned,) = [f for f in bad if f.rule == "d-weight-pinned"]
    assert "config sets disc_weight 0" in pinned.message and "eval mode" not in pinned.message


def test_a_negative_kl_is_an_error_and_not_called_a_fall(tmp_path):
    curves = radiodiff_curves(8000, disc_start=50_001, total_steps=150_000)
    curves.values["kl_loss"] = -curves.values["kl_loss"]  # a sign error in the KL term
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    assert a.status == "error" and [f for f in bad if f.rule == "kl-negative"][0].step == 0
    answer = next(q.answer for q in a.qa if "KL" in q.question)
    # it points to the error (said once, in the findings list) and calls nothing a fall
    assert answer.startswith("Yes") and '"KL below zero" (kl_loss, step 0)' in answer and "has not risen" not in answer
    assert not [f for f in bad if f.rule == "kl-collapse"]


def test_a_kl_held_at_the_prior_from_the_start_is_a_collapse_without_a_peak(tmp_path):
    # kl_weight 1: KL pinned near 0 nats per latent dimension from the first steps; no peak to fall from
    curves = radiodiff_curves(8000, disc_start=50_001, total_steps=150_000)
    curves.values["kl_loss"] = 24.0 + np.random.default_rng(0).normal(0, 1, len(curves.steps))
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000, kl_weight=1.0)))
    (collapse,) = [f for f in bad if f.rule == "kl-collapse"]
    assert "nats per dimension" in collapse.message and collapse.numbers["kl_per_latent_dim"] < 0.01
    healthy = radiodiff_curves(8000, disc_start=50_001, total_steps=150_000)
    b, bad = verdict(write_run(tmp_path / "h", healthy, 10, config(disc_start=50_001, total=150_000)))
    assert not [f for f in bad if f.rule == "kl-collapse"]


def test_isolated_non_finite_points_the_run_recovered_from_are_a_warning_not_a_divergence(tmp_path):
    curves = radiodiff_curves(8000, disc_start=50_001, total_steps=150_000)
    for key in ("total_loss", "nll_loss", "rec_loss", "kl_loss"):
        curves.values[key][[3000, 5500]] = np.inf  # fp16 overflow on two batches, skipped by the scaler
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    found = [f for f in bad if f.rule == "non-finite"]
    assert found and all(f.severity == "warning" and "recovered" in f.message for f in found)
    assert a.status == "warning" and not [f for f in bad if f.rule == "kl-rising"]
    curves.values["rec_loss"][6000:] = np.nan  # stays NaN: a divergence
    b, bad = verdict(write_run(tmp_path / "b", curves, 10, config(disc_start=50_001, total=150_000)))
    assert b.status == "error" and any(f.rule == "non-finite" and f.severity == "error" for f in bad)


def test_a_reconstruction_that_never_falls_from_the_first_step_is_not_learning(tmp_path):
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    noise = np.random.default_rng(1).normal(0, 0.01, len(curves.steps))
    curves.values["rec_loss"] = 0.52 + noise  # lr ~0: flat at its initial level, not frozen to float precision
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    (stuck,) = [f for f in bad if f.rule == "rec-trend"]
    assert "not learning" in stuck.message and stuck.step == 0
    quick = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)  # fell in 100 steps, then a plateau
    quick.values["rec_loss"] = 0.55 + 0.25 * np.exp(-quick.steps / 30) + noise
    _rebuild_sums(quick)
    c, bad = verdict(write_run(tmp_path / "quick", quick, 10, config(disc_start=50_001, total=150_000)))
    assert not any("not learning" in f.message for f in bad)
    late = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)  # a converged run's logs from 10k
    keep = late.steps >= 10_000
    late.steps = late.steps[keep]
    late.values = {k: v[keep] for k, v in late.values.items()}
    b, bad = verdict(write_run(tmp_path / "late", late, 10, config(disc_start=50_001, total=150_000)))
    assert not [f for f in bad if f.rule == "rec-trend"]


def test_a_loss_that_stops_being_logged_is_named_as_stale(tmp_path):
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    points = [(int(s), f"train/{k}", float(v[i])) for i, s in enumerate(curves.steps) if s % 10 == 0
              for k, v in curves.values.items() if k != "kl_loss" or s < 12_000]  # dropped after a resume
    write_scalars(tmp_path, points)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config(disc_start=50_001, total=150_000)))
    a, bad = verdict(tmp_path)
    (stopped,) = [f for f in bad if f.rule == "loss-stopped"]
    assert stopped.metric == "kl_loss" and stopped.step == 11_990
    answer = next(q.answer for q in a.qa if "KL" in q.question)
    # the KL answer says its numbers are stale, first, pointing to that finding; the stale rise itself is no "Yes"
    assert answer.startswith('Not the increase itself, but its numbers are stale: see the warning "A loss no longer '
                             'logged" (kl_loss, step 11,990)'), answer
    b, bad = verdict(write_run(tmp_path / "b", curves, 10, config(disc_start=50_001, total=150_000)))
    assert not [f for f in bad if f.rule == "loss-stopped"]


def test_a_fine_tune_from_trained_weights_flat_from_its_first_step_is_not_called_stuck(tmp_path):
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    curves.values["rec_loss"] = 0.03 + np.random.default_rng(2).normal(0, 0.001, len(curves.steps))
    _rebuild_sums(curves)
    c = config(disc_start=50_001, total=150_000)
    c["model"]["ckpt_path"] = "pretrained/model-10.pt"  # RadioDiff starts from these weights
    a, bad = verdict(write_run(tmp_path, curves, 10, c))
    assert a.schedule.init_checkpoint == "pretrained/model-10.pt"
    assert not [f for f in bad if f.rule == "rec-trend"], [f.message for f in bad]


def _two_files(folder, curves, resume, start_walls, scale_after=1.0, config_=None):
    """The run's points in two event files: the first to ``resume`` (and, for a killed run, a little beyond),
    the second from ``resume`` on, as a resumed run writes them."""
    for i, (lo, hi) in enumerate(((0, resume + 500), (resume, None))):
        keep = (curves.steps >= lo) & ((curves.steps < hi) if hi is not None else True) & (curves.steps % 10 == 0)
        points = [(int(s), f"train/{k}", float(v[j] * (scale_after if i == 1 and k == "rec_loss" else 1.0)))
                  for j, s in enumerate(curves.steps) if keep[j] for k, v in curves.values.items()]
        write_scalars(folder, points, start_wall=start_walls[i], filename_suffix=f".{i}")
    (folder / "config.yaml").write_text(yaml.safe_dump(config_ or config(disc_start=50_001, total=150_000)))
    return folder


def test_a_resume_from_the_wrong_weights_is_named_where_the_loss_jumped(tmp_path):
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    # the second file starts later in wall time (a resume); its rec level is 1.9x the one the run had reached
    healthy = _two_files(tmp_path / "ok", curves, 12_000, (1.7e9, 1.7e9 + 20_000))
    a, bad = verdict(healthy)
    assert not [f for f in bad if f.rule == "resumes"]
    # said all the same (info): where it resumed, how far the first launch had got, that the level held
    (resumed,) = [f for f in a.findings if f.rule == "resumes"]
    assert resumed.severity == "info" and resumed.step == 12_000 and resumed.numbers["reached"] == 12_490
    assert "490 steps were trained again" in resumed.message and "rec_loss went on at the level" in resumed.message
    # counted in logged steps, as every other count of the report (every 10 steps: 50 of them), never as the
    # points of all its metrics together
    metrics = len(curves.values)
    assert f"its 50 logged steps from step 12,000 on, {metrics} metrics each, are replaced" in resumed.message
    assert f"{50 * metrics} point" not in resumed.message
    _, bad = verdict(_two_files(tmp_path / "jump", curves, 12_000, (1.7e9, 1.7e9 + 20_000), scale_after=1.9))
    (jump,) = [f for f in bad if f.rule == "resumes"]
    assert jump.metric == "rec_loss" and jump.step == 12_000 and "jumped where the run was resumed" in jump.message


def test_two_processes_writing_one_folder_are_not_called_a_restart(tmp_path):
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    # the second process starts at step 0 while the first keeps writing for hours (0.5 s per step)
    folder = tmp_path / "run"
    for i, start in enumerate((1.7e9, 1.7e9 + 3_000)):
        write_scalars(folder, [(int(s), f"train/{k}", float(v[j])) for j, s in enumerate(curves.steps)
                               if s % 10 == 0 for k, v in curves.values.items()],
                      start_wall=start, filename_suffix=f".{i}")
    (folder / "config.yaml").write_text(yaml.safe_dump(config(disc_start=50_001, total=150_000)))
    a, bad = verdict(folder)
    (both,) = [f for f in bad if f.rule == "resumes"]
    assert "Two processes wrote into this run's folder at once" in both.message and a.status == "warning"
    assert any("two processes wrote into this folder at once" in n for n in a.merge_notes)


def test_a_validation_loss_far_above_training_from_its_first_point_is_named(tmp_path):
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    val_steps = np.arange(1000, 20_001, 1000)
    train_at = np.interp(val_steps, curves.steps, curves.values["rec_loss"])
    a_extra = [(int(s), "val/rec_loss", float(7 * v)) for s, v in zip(val_steps, train_at, strict=True)]
    a, bad = verdict(write_run(tmp_path / "gap", curves, 10, config(disc_start=50_001, total=150_000), a_extra))
    (gap,) = [f for f in bad if f.rule == "val-overfitting"]
    assert "do not measure the same thing" in gap.message and 6 < gap.numbers["val_over_train_now"] < 8
    same = [(int(s), "val/rec_loss", float(1.1 * v)) for s, v in zip(val_steps, train_at, strict=True)]
    b, bad = verdict(write_run(tmp_path / "same", curves, 10, config(disc_start=50_001, total=150_000), same))
    assert not [f for f in bad if f.rule == "val-overfitting"]


def test_a_log_that_begins_late_says_so_and_a_weight_pinned_before_disc_start_is_dated_there(tmp_path):
    # a real RadioDiff log parsed from step 35,000: d_weight at its clamp before disc_start too
    curves = radiodiff_curves(60_000, disc_start=50_001, total_steps=150_000)
    keep = curves.steps >= 35_000
    curves.steps = curves.steps[keep]
    curves.values = {k: v[keep] for k, v in curves.values.items()}
    curves.values["d_weight"][:] = 5000.0
    _rebuild_sums(curves)
    folder = write_run(tmp_path, curves, 100, config(disc_start=50_001, total=150_000))
    a, bad = verdict(folder)
    (pinned,) = [f for f in bad if f.rule == "d-weight-pinned"]
    assert pinned.step == 35_000 and "before the discriminator switched on as well" in pinned.message
    assert a.late_start == 35_000
    from typer.testing import CliRunner

    from vae_report.cli import app

    out = tmp_path / "r.md"
    assert CliRunner().invoke(app, ["analyze", str(folder), "--out", str(out)]).exit_code == 0
    assert "**Logs begin at step 35,000**: the first 35,000 steps are not in these logs" in out.read_text()


def test_radiodiff_with_a_single_optimizer_pass_never_trains_its_discriminator(tmp_path):
    curves = radiodiff_curves(30_000, disc_start=20_001, total_steps=150_000)
    for key in ("disc_loss", "logits_real", "logits_fake"):  # pass 1 never runs: nothing of D is logged
        del curves.values[key]
    c = config(disc_start=20_001, total=150_000)
    c["trainer"]["gradient_accumulate_every"] = 1
    a, bad = verdict(write_run(tmp_path, curves, 10, c))
    (never,) = [f for f in bad if f.rule == "disc-never-trained"]
    assert a.status == "warning" and "never trained" in never.message and never.step == 20_001
    # eval14 b_s27: the status line said "autoencoder only (the discriminator never switched on ...)" and the
    # overview "(see the errors)": the GAN term is on against an untrained discriminator, the summary's phase
    # "adversarial", and the finding a warning
    from vae_report.report_view import _phase
    from vae_report.view import status_parts

    phase = next(p for p in status_parts(a) if p.startswith("phase: "))
    assert phase.startswith(f"phase: {a.to_summary()['phase']} (from step 20,001), but the discriminator is never "
                            "trained (its optimizer never steps)"), phase
    assert str(_phase(a)).endswith("(see the warning)")
    ok, bad = verdict(write_run(tmp_path / "two", curves, 10, config(disc_start=20_001, total=150_000)))
    assert not [f for f in bad if f.rule == "disc-never-trained"]


@pytest.mark.parametrize("logged, layout_lr, severity", [
    (1e-3, 4.5e-6, "warning"),    # hard-coded: 222x, not accumulate x batch x GPUs (2 x 12 = 24 per GPU)
    (1.08e-4, 4.5e-6, "info"),    # 24 = 2 x 12 x 1 GPU: main.py's scaling
    (1.08e-10, 4.5e-6, "warning"),  # a warm-up stuck at its start
])
def test_an_ldm_constant_rate_is_judged_against_main_py_scaling(tmp_path, logged, layout_lr, severity):
    steps = np.arange(0, 5000, 50)
    frame = make_frame(steps, ["lr"] * len(steps), np.full(len(steps), logged), np.nan, "metrics.csv")
    s = Schedule(lr=layout_lr, layout="ldm", lr_scale=24, disc_start=50_001)
    (found,) = [f for f in run_rules(Metrics(frame), s) if f.rule == "lr-schedule"]
    assert found.severity == severity, found.message


def test_a_validation_loss_gone_nan_while_training_is_fine_is_not_called_a_divergence(tmp_path):
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    val_steps = np.arange(1000, 20_001, 1000)
    train_at = np.interp(val_steps, curves.steps, curves.values["rec_loss"])
    extra = [(int(s), "val/rec_loss", float(v * 1.1) if s < 12_000 else float("nan"))
             for s, v in zip(val_steps, train_at, strict=True)]
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000), extra))
    (nan,) = [f for f in bad if f.rule == "non-finite"]
    assert nan.severity == "warning" and "validation went wrong, not training" in nan.message and nan.step == 12_000


@pytest.mark.parametrize("total_breaks", [False, True])
def test_a_nan_in_a_term_the_optimized_total_did_not_take_in_is_no_divergence(tmp_path, total_breaks):
    """g_loss NaN from step 6,000 to the end while the logged total (which holds d_weight*g_loss) stays finite and
    training goes on: the NaN never reached the optimized loss, so no divergence, no halt, no resume advice; the
    same NaN with the total NaN too is the divergence it was."""
    curves = radiodiff_curves(10_000, disc_start=2001, total_steps=20_000)
    after = curves.steps >= 6000
    curves.values["g_loss"] = np.where(after, np.nan, curves.values["g_loss"])
    if total_breaks:
        curves.values["total_loss"] = np.where(after, np.nan, curves.values["total_loss"])
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=2001, total=20_000)))
    if total_breaks:
        assert a.halted and any(f.rule == "non-finite" and f.severity == "error" for f in bad), a.halted
        return
    (nan,) = [f for f in bad if f.rule == "non-finite" and f.metric == "g_loss"]
    assert nan.severity == "warning" and a.halted is None, (nan.severity, a.halted)
    assert "optimized loss (total_loss) stayed finite" in nan.message and "weights were not damaged" in nan.message
    assert "diverged" not in nan.message.lower() and "resume from" not in (nan.action or "").lower(), nan.message
    assert a.next_milestone is not None and "cannot go on" not in str(a.next_milestone)


def test_a_vq_codebook_that_collapses_onto_a_few_codes_is_named(tmp_path):
    steps = np.arange(0, 30_000, 50)
    usage = np.where(steps < 10_000, 0.7 + 0.02 * np.sin(steps / 900), 0.7 * np.exp(-(steps - 10_000) / 1500) + 0.01)
    rec = 0.1 / (1 + steps / 3000) + 0.05
    write_scalars(tmp_path, [(int(s), name, float(v)) for s, u, r in zip(steps, usage, rec, strict=True)
                             for name, v in (("train/codebook_usage", u), ("train/rec_loss", r),
                                             ("train/quant_loss", 0.02))])
    a, bad = verdict(tmp_path)
    (collapse,) = [f for f in bad if f.rule == "codebook-collapse"]
    assert collapse.metric == "codebook_usage" and 9_000 <= collapse.step <= 12_000
    write_scalars(tmp_path / "ok", [(int(s), "train/codebook_usage", 0.7 + 0.02 * np.sin(s / 900)) for s in steps]
                  + [(int(s), "train/rec_loss", float(r)) for s, r in zip(steps, rec, strict=True)])
    assert not [f for f in verdict(tmp_path / "ok")[1] if f.rule == "codebook-collapse"]


def _two_starts(folder, first, second):
    """Two launches in one folder, each from step 0, the second after the first ended (event files)."""
    for i, (curves, start) in enumerate(((first, 1.7e9), (second, 1.7e9 + 20_000))):
        write_scalars(folder, [(int(s), f"train/{k}", float(v[j])) for j, s in enumerate(curves.steps)
                               if s % 10 == 0 for k, v in curves.values.items()],
                      start_wall=start, filename_suffix=f".{i}")
    (folder / "config.yaml").write_text(yaml.safe_dump(config(disc_start=50_001, total=150_000)))
    return folder


def test_a_new_start_from_trained_weights_with_the_counter_reset_is_a_warning(tmp_path):
    first = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000, seed=1)
    again = radiodiff_curves(8_000, disc_start=50_001, total_steps=150_000, seed=2)
    again.values["rec_loss"] = np.full(len(again.steps), float(np.median(first.values["rec_loss"][-50:])))
    again.values["rec_loss"] *= np.exp(0.02 * np.random.default_rng(3).standard_normal(len(again.steps)))
    _rebuild_sums(again)
    a, bad = verdict(_two_starts(tmp_path / "run", first, again))
    (reset,) = [f for f in bad if f.rule == "resumes"]
    assert reset.severity == "warning" and "with trained weights" in reset.message and reset.step == 0
    fresh = radiodiff_curves(8_000, disc_start=50_001, total_steps=150_000, seed=2)  # a real new start
    b, bad = verdict(_two_starts(tmp_path / "fresh", first, fresh))
    assert b.status == "ok" and [f for f in b.active_findings() if f.rule == "resumes" and f.severity == "info"]


def test_a_kl_that_compounds_late_is_a_runaway_not_the_expected_rise(tmp_path):
    curves = radiodiff_curves(60_000, disc_start=150_001, total_steps=150_000)
    late = curves.steps >= 40_000
    curves.values["kl_loss"][late] *= np.exp((curves.steps[late] - 40_000) / 20_000 * np.log(30))  # x30 by the end
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=150_001, total=150_000)))
    # headline or cited under the finding that dates the rise (one cause)
    (kl,) = [f.to_dict() for f in bad if f.rule == "kl-rising"] + [r for f in bad for r in f.related
                                                                    if r["rule"] == "kl-rising"]
    assert "running away" in kl["message"] and 36_000 <= kl["step"] <= 48_000
    b, bad = verdict(write_run(tmp_path / "h", radiodiff_curves(60_000, disc_start=150_001, total_steps=150_000),
                               10, config(disc_start=150_001, total=150_000)))
    assert not [f for f in bad if f.rule == "kl-rising"]


def test_a_run_that_slowed_down_tenfold_says_when(tmp_path):
    curves = radiodiff_curves(30_000, disc_start=50_001, total_steps=150_000)
    points = [(int(s), f"train/{k}", float(v[i])) for i, s in enumerate(curves.steps) if s % 10 == 0
              for k, v in curves.values.items()]
    write_scalars(tmp_path / "a", [p for p in points if p[0] < 20_000], seconds_per_step=0.3)
    # from step 20,000 on, each step takes ten times longer (the second file starts where the first ended)
    write_scalars(tmp_path / "a", [p for p in points if p[0] >= 20_000], start_wall=1.7e9 + 20_000 * 0.3 - 20_000 * 3,
                  seconds_per_step=3.0, filename_suffix=".b")
    (tmp_path / "a" / "config.yaml").write_text(yaml.safe_dump(config(disc_start=50_001, total=150_000)))
    a, bad = verdict(tmp_path / "a")
    (slow,) = [f for f in bad if f.rule == "liveness"]
    assert "slowed down" in slow.message and 19_000 <= slow.step <= 21_000
    assert not any("looks stopped" in q.answer for q in a.qa)  # slower is not stopped: the ETA stands
    # eval13 b3_weekly_improved: "x times slower" compares the two speeds between pauses, and the ETAs name the
    # pace they use (it was 'the current speed' with the ETAs at another one)
    n = slow.numbers
    assert f"({fmt(round(n['steps_per_hour_before'] / n['steps_per_hour_between_pauses'], 1))} times slower)" \
        in slow.message and f"the recent pace, {fmt(round(n['steps_per_hour']))} per hour" in slow.message
    healthy = write_run(tmp_path / "b", curves, 10, config(disc_start=50_001, total=150_000))
    assert not [f for f in verdict(healthy)[1] if f.rule == "liveness"]


def test_a_total_that_adds_the_discriminator_loss_in_is_dated_at_the_switch_on(tmp_path):
    # a trainer that logs aeloss + discloss as its total once the discriminator is on
    curves = radiodiff_curves(8000, disc_start=2001, total_steps=10_000)
    on = curves.steps >= 2001
    v = curves.values
    v["rec_loss"] = v["rec_loss"] * 1e-4  # a loss of the size of the discriminator's (a per-pixel mean)
    v["d_weight"] = np.full(len(curves.steps), 0.01)
    _rebuild_sums(curves)
    v["total_loss"] = v["total_loss"] + np.where(on, v["disc_loss"], 0.0)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=2001, total=10_000)))
    (book,) = [f for f in bad if f.rule == "loss-bookkeeping"]
    assert 2001 <= book.step <= 2100 and "adds the discriminator's loss in" in book.message


def test_a_hinge_discriminator_settled_a_little_under_1_is_at_equilibrium_since_it_settled():
    steps = np.arange(0, 150_000, 100)
    on = steps >= 50_001
    d = np.where(on, 0.947 + 0.01 * np.random.default_rng(5).standard_normal(len(steps)), 0.0)
    frame = make_frame(steps, ["disc_loss"] * len(steps), d, np.nan, "t")
    (found,) = [f for f in run_rules(Metrics(frame), Schedule(disc_start=50_001, disc_weight=0.5))
                if f.rule == "disc-at-chance" and not f.skipped]
    assert found.step <= 52_000 and found.numbers["steps_at_chance"] >= 97_000


def test_a_signed_term_broken_at_the_same_isolated_steps_as_recovered_losses_recovered_too(tmp_path):
    curves = radiodiff_curves(8000, disc_start=2001, total_steps=10_000)
    for key in ("total_loss", "nll_loss", "rec_loss", "kl_loss", "g_loss"):
        curves.values[key][[3000, 5500]] = np.inf  # g_loss hovers around 0: its own level cannot tell
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=2001, total=10_000)))
    found = [f for f in bad if f.rule == "non-finite"]
    assert a.status == "warning" and all(f.severity == "warning" for f in found)
    qa = " ".join(q.answer for q in a.qa)
    assert "optimizer has already stepped on garbage" not in qa


@pytest.mark.parametrize("regularizer, other, said, never", [
    ("vq", "codebook_loss", "the codebook/commitment term", "KL term"),
    ("kl", "kl_loss", "the KL term", "codebook"),
    (None, None, "the data;", "KL term"),
])
def test_a_rising_loss_points_only_to_terms_the_model_has(regularizer, other, said, never):
    from vae_report.frame import concat

    n = 2000
    steps = np.arange(n) * 10
    rec = 0.05 + 0.01 * np.random.default_rng(0).random(n)
    rec[1900:] *= np.exp(np.linspace(0, np.log(50), 100))  # explodes at the end
    series = [("rec_loss", rec)] + ([(other, np.full(n, 0.2))] if other else [])
    frame = concat([make_frame(steps, [k] * n, v, np.nan, "t") for k, v in series])
    (now,) = [f for f in run_rules(Metrics(frame), Schedule(regularizer=regularizer))
              if f.rule == "loss-now" and f.metric == "rec_loss"]
    assert said in now.action and never not in now.action, now.action  # what to look at: the model's own terms


def _plain_vae_points(seed=0):
    """A VAE on its ELBO: summed rec falling, KL rising to a third of the loss (kl_weight 1)."""
    rng = np.random.default_rng(seed)
    points = []
    for s in range(0, 3000, 10):
        rec = 30 + 70 * np.exp(-s / 600) + rng.normal(0, 0.5)
        kl = 25 - 20 * np.exp(-s / 400) + rng.normal(0, 0.2)
        points += [(s, "train/rec_loss", rec), (s, "train/kl_loss", kl), (s, "train/total_loss", rec + kl)]
    return points


def test_a_plain_vaes_kl_share_is_its_design_a_first_stages_is_a_warning(tmp_path):
    # the same curves: a VAE with no discriminator and no LDM loss (its KL is part of the objective), and an
    # LDM-style first stage whose config schedules a discriminator (its KL is meant to be a light regularizer)
    plain = tmp_path / "plain"
    write_scalars(plain, _plain_vae_points())
    (plain / "config.yaml").write_text(yaml.safe_dump({"kl_weight": 1.0, "max_steps": 3000}))
    a, bad = verdict(plain)
    assert a.status == "ok" and not bad, [f.message for f in bad]
    (dominant,) = [f for f in a.findings if f.rule == "kl-dominant"]
    assert dominant.severity == "info" and dominant.numbers["kl_term_share"] > 0.25
    assert "plain VAE" in dominant.message and not dominant.numbers["first_stage"]
    # nothing claims LDM's bookkeeping (a KL summed over latent dimensions) for a loss that does not say so
    assert not any("summed over latent dimensions" in f.message for f in a.findings)
    staged = tmp_path / "staged"
    write_scalars(staged, _plain_vae_points())
    (staged / "config.yaml").write_text(yaml.safe_dump(config(disc_start=5000, total=5000, kl_weight=1.0)))
    a, bad = verdict(staged)
    (dominant,) = [f for f in bad if f.rule == "kl-dominant"]  # (its config's 12,288 latent dims also say
    assert dominant.numbers["first_stage"]                       # the KL is collapsed: kl-collapse warns too)


def _nan_run(folder, climb_from, nan_at=3000, last=3500, seed=1):
    """A CSV (the csv module) of a VAE whose KL and gradient norm climb geometrically from ``climb_from`` (None:
    no climb, the NaN comes in one step) until everything is NaN from ``nan_at``."""
    import csv

    rng = np.random.default_rng(seed)
    folder.mkdir()
    with (folder / "metrics.csv").open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["step", "rec_loss", "kl_loss", "total_loss", "grad_norm"])
        for s in range(0, last, 10):
            up = 1.0 if climb_from is None or s < climb_from else np.exp((s - climb_from) / 150)
            rec = (0.02 + 0.08 * np.exp(-s / 500)) * (1 + 0.02 * rng.normal())
            kl = 40 * (1 + 0.03 * rng.normal()) * up
            grad = 1.2 * (1 + 0.1 * rng.normal()) * up ** 3
            row = [rec, kl, rec + 1e-4 * kl, grad] if s < nan_at else ["nan", "nan", "nan", "inf"]
            out.writerow([s, *row])
    (folder / "config.yaml").write_text(yaml.safe_dump({"kl_weight": 1e-4, "max_steps": 10_000}))
    return folder


def test_a_nan_after_a_climb_is_dated_where_the_climb_began(tmp_path):
    a = analyze_run(_nan_run(tmp_path / "climb", climb_from=2500))
    (error,) = [f for f in a.findings if f.rule == "non-finite" and f.severity == "error" and f.metric == "rec_loss"]
    assert error.step == 3000  # the event is the NaN ...
    onset = error.numbers["divergence_onset"]  # ... the advice is the checkpoint before the climb
    assert 2400 <= onset <= 2650 and {"kl_loss", "grad_norm"} <= set(error.numbers["climbs"]), error.numbers
    assert f"diverging from step {onset:,}" in error.message and f"checkpoint before step {onset:,}" in error.action
    (kl,) = [f for f in a.findings if f.rule == "kl-rising"]
    assert "part of the divergence" in kl.message and "did not lead" not in kl.message
    assert kl.severity == "info"  # said once, by the error that names it
    a = analyze_run(_nan_run(tmp_path / "sudden", climb_from=None))
    (error,) = [f for f in a.findings if f.rule == "non-finite" and f.metric == "rec_loss"]
    assert "divergence_onset" not in error.numbers and "did not start there" not in error.message


def test_logs_past_the_configs_total_are_not_called_finished_or_over_100_percent(tmp_path):
    # a run extended past the max_steps of the config beside it: that total is not this run's
    points = [(s, "train/rec_loss", 0.02 + 0.1 * np.exp(-s / 300)) for s in range(0, 1210, 10)]
    for last, total in ((1200, 1000), (1000, 1000)):
        folder = tmp_path / f"to{last}"
        write_scalars(folder, [p for p in points if p[0] <= last])
        (folder / "config.yaml").write_text(yaml.safe_dump({"max_steps": total, "kl_weight": 1e-4}))
        from vae_report.render import write_report

        a = analyze_run(folder)
        out = tmp_path / f"r{last}.md"
        write_report(a, out)
        status = out.read_text().splitlines()[2]
        if last > total:
            assert a.schedule.total_steps is None and a.schedule.passed_total == 1000 and not a.finished
            assert "step 1,200, past the config's total of 1,000" in status and "finished" not in status, status
            assert "not this run's total" in out.read_text()
            # and what to do about it, never a bare "continue training"
            assert a.recommendations[0].startswith("The logs went past the config's total of 1,000 (step 1,200)")
            assert "No intervention needed: continue training." not in a.recommendations
        else:
            assert a.schedule.total_steps == 1000 and "step 1,000 of 1,000" in status, status


def test_the_totals_breakdown_speaks_of_the_window_of_its_current_level():
    # the shipped example run (written by the bundled trainer): the breakdown's means are over the same steps as
    # the statistics table's Now of total_loss, and the sentence names that median, so no second "now" appears
    from pathlib import Path

    a = analyze_run(Path(__file__).resolve().parents[1] / "examples" / "tiny_run")
    d, now = a.decomposition, a.metrics["total_loss"]
    assert d.first == now.level_since and d.step == now.latest_step and d.median == now.recent_median
    sentence = d.sentence()
    assert f"steps {d.first:,}-{d.step:,} (the latest stretch, where the table's Now is taken" in sentence
    assert f"the table's Now is the median over the same steps, {fmt(now.recent_median)}" in sentence


def test_a_mistyped_config_key_is_named_with_the_setting_it_misses(tmp_path):
    # the shipped example run, copied, its config's disc_start mistyped as the bundled trainer would refuse it
    import shutil
    from pathlib import Path

    run = shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "tiny_run", tmp_path / "run")
    assert not [f for f in analyze_run(run).findings if f.rule == "config-typos"]
    config = run / "config.yaml"
    config.write_text(config.read_text().replace("disc_start:", "disc_strat:").replace("kl_weight:", "kl_wieght:"))
    a, bad = verdict(run)
    typos = [f for f in bad if f.rule == "config-typos"]
    assert {(f.numbers["key"], f.numbers["setting"]) for f in typos} == {
        ("model.lossconfig.disc_strat", "disc_start"), ("model.lossconfig.kl_wieght", "kl_weight")}
    (start,) = [f for f in typos if f.numbers["setting"] == "disc_start"]
    # the run printed its own config at launch (the text log): that one is used, and said
    assert "The report's disc_start is 301 (config repr in the text log)" in start.message
    # another trainer's own name close to a setting is no typo
    from vae_report.config_keys import near_misses

    assert near_misses({"exp_params": {"kld_weight": 0.00025}, "model": {"params": {"loss_config": {}}}}) == []


def test_a_key_of_the_trainers_own_configs_is_never_a_typo(tmp_path):
    # LDM's ddconfig z_channels is one letter pair off in_channels; any key the trainers' configs hold (ddconfig,
    # loss parameters, Lightning's Trainer arguments) is a setting in its own right, wherever it sits
    import csv

    import yaml

    from vae_report.config_keys import KNOWN, near_misses

    for key in sorted(KNOWN):
        assert near_misses({"model": {key: 1}}) == [], key
        assert near_misses({"trainer": {key: 1}, "lightning": {"trainer": {key: 1}}}) == [], key
    assert near_misses({"model": {"z_channels": 4, "in_chanels": 3}}) == [("model.in_chanels", "in_channels")]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"loss": {"disc_start": 5001, "kl_weight": 1e-6},
                                                          "model": {"z_channels": 4, "in_chanels": 1}}))
    with (tmp_path / "m.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "rec_loss"])
        writer.writerows([s, 0.3 / (1 + s / 500)] for s in range(0, 3000, 10))
    typos = [f for f in analyze_run(tmp_path).findings if f.rule == "config-typos"]
    assert [(f.numbers["key"], f.numbers["setting"]) for f in typos] == [("model.in_chanels", "in_channels")]
    # eval15 e_h3_onecycle: OneCycleLR's own div_factor was "a typo of disc_factor?" (a healthy run warned); a
    # scheduler's or an optimizer's section holds its library's settings
    assert near_misses({"lr_scheduler": {"name": "OneCycleLR", "div_factor": 25}}) == []
    assert near_misses({"trainer": {"div_factor": 25}}) == []
    assert near_misses({"model": {"lossconfig": {"disc_facor": 1.0}}}) == [("model.lossconfig.disc_facor",
                                                                           "disc_factor")]


def _val_only(folder, rise_from=None, seed=3):
    """A CSV (the csv module) of a loop that logs only validation, once an epoch of 500 steps: val/rec_loss falls
    and levels off; from ``rise_from`` (a step) it climbs 40%."""
    import csv

    rng = np.random.default_rng(seed)
    folder.mkdir()
    with (folder / "metrics.csv").open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["step", "val/rec_loss", "val/psnr"])
        for s in range(500, 50_001, 500):
            rec = (0.015 + 0.05 * np.exp(-s / 5000)) * (1 + 0.01 * rng.normal())
            if rise_from is not None and s > rise_from:
                rec *= 1 + 0.4 * (s - rise_from) / (50_000 - rise_from)
            out.writerow([s, rec, -10 * np.log10(rec)])
    return folder


def test_a_run_that_logs_only_validation_has_its_validation_losses_judged_now(tmp_path):
    a, bad = verdict(_val_only(tmp_path / "ok"))
    assert not bad and a.status == "ok", [f.message for f in bad]
    (now,) = [f for f in a.findings if f.rule == "loss-now" and not f.skipped]
    assert "val/rec_loss" in now.message  # judged, not skipped for want of a training loss
    a, bad = verdict(_val_only(tmp_path / "rising", rise_from=30_000))
    (rise,) = [f for f in bad if f.rule == "loss-now"]
    assert rise.metric == "val/rec_loss" and 28_000 <= rise.step <= 36_000, (rise.step, rise.message)
    assert "cannot be told apart from overfitting" in rise.message


def test_known_losses_under_groups_kept_apart_are_no_judged_run(tmp_path):
    # tensorboard tags under two experiments' names: each group's rec_loss would be the run's rec_loss, but they
    # differ, so neither is taken as it (eval14 a08/a41: one group alone, gan/d_weight, is read as d_weight)
    points = [(s, f"experiment_{x}/{name}", v * k) for s in range(0, 3000, 10) for x, k in (("a", 1), ("b", 2))
              for name, v in (("rec_loss", 0.02 + 0.1 * np.exp(-s / 500)), ("kl_loss", 5.0 + s / 1000))]
    write_scalars(tmp_path, points)
    a, bad = verdict(tmp_path)
    (unknown,) = [f for f in bad if f.rule == "losses-unknown"]
    assert unknown.numbers["grouped"] == ["experiment_a/kl_loss", "experiment_a/rec_loss", "experiment_b/kl_loss",
                                          "experiment_b/rec_loss"]
    assert "would read as one loss but differ where both are logged: kept apart" in unknown.message
    # and the verdict says what was not examined: not one loss was judged
    from vae_report.narrative import not_examined

    assert not_examined(a)[0].startswith("the losses themselves")


def test_a_reconstruction_rising_before_the_switch_on_is_not_called_the_adversarial_terms_price(tmp_path):
    curves = radiodiff_curves(12_000, disc_start=6001, total_steps=20_000)
    rising = curves.steps >= 3000  # worse from step 3,000 on, before the discriminator starts at 6,001
    curves.values["rec_loss"][rising] *= 1 + 2.0 * (curves.steps[rising] - 3000) / 3000  # and on after it
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=6001, total=20_000)))
    (rec,) = [f for f in a.findings if f.rule == "rec-after-disc"]
    assert rec.severity == "warning" and "getting worse before the discriminator started" in rec.message
    assert 2500 <= rec.step <= 4000, rec.step
    assert "usual price of the adversarial term" not in " ".join(f.message for f in a.findings)


def test_a_reconstruction_that_rose_before_the_switch_on_and_held_after_is_not_credited_to_the_gan(tmp_path):
    # review8 class 2: rec worse from step 4,500 to the switch-on at 6,001, about level after it (a few percent,
    # within the 10% a rise after it needs); the discriminator at chance. The answers neither credit the rise to
    # the adversarial phase nor call it its price
    curves = radiodiff_curves(12_000, disc_start=6001, total_steps=20_000)
    x = np.clip((curves.steps - 4500) / 1500, 0, 1)
    curves.values["rec_loss"] += 0.08 * x + 0.012 * np.clip((curves.steps - 6001) / 6000, 0, 1)
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=6001, total=20_000)))
    (rec,) = [f for f in a.findings if f.rule == "rec-after-disc"]
    assert rec.severity == "warning" and "getting worse before the discriminator started" in rec.message
    asked = {q.question: q.answer for q in a.qa}
    six = asked["Did reconstruction get worse once the GAN started?"]
    assert six.startswith("No: rec_loss rose from ") and "before the discriminator started" in six, six
    assert "held near" in six and six.count(f'"{rec.title}"') == 1, six
    near = next(answer for question, answer in asked.items() if question.startswith("Is a discriminator loss"))
    assert near.startswith("Yes") and "got worse after the switch-on" not in near, near
    why = next(answer for question, answer in asked.items() if question.startswith(f'Why does "{rec.title}"'))
    assert "price of the adversarial term" not in why, why


def test_counts_in_sentences_agree_with_their_number():
    from vae_report.forecast import fit_trend
    from vae_report.frame import concat

    n = 300
    rec = np.linspace(0.1, 0.05, n)
    rec[150] = np.nan  # one bad point: "1 of 300 points is", never "are"
    frame = concat([make_frame(np.arange(n), ["rec_loss"] * n, rec, np.nan, "t")])
    (f,) = [f for f in run_rules(Metrics(frame), Schedule()) if f.rule == "non-finite"]
    assert "(1 of 300 points is NaN" in f.message, f.message
    _, why, _ = fit_trend(np.arange(n), rec, since=10_000, now=20_000)
    assert why == "no point logged since step 10,000 (a trend needs 30)", why


def test_a_kl_runaway_after_a_healthy_early_rise_is_dated_where_it_took_off(tmp_path):
    # the KL rises fast and flattens under a tiny kl_weight (0-9k), then compounds x100 from step 12,000 on
    curves = radiodiff_curves(40_000, disc_start=50_001, total_steps=150_000)
    late = curves.steps >= 12_000
    curves.values["kl_loss"][late] *= np.exp((curves.steps[late] - 12_000) / 6000)
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    # shown as its own finding, or cited under the one that dates the same rise
    ((step, message, action),) = [(f.step, f.message, f.action) for f in bad if f.rule == "kl-rising"] + [
        (r["step"], r["message"], r["action"]) for f in bad for r in f.related if r["rule"] == "kl-rising"]
    assert 10_000 <= step <= 13_500 and f"climbing from step {step:,}" in message, message
    # its weighted term a sliver of the loss while rec kept improving: watched, not undone by a resume
    assert action.startswith("Watch it rather than undo it: the weighted term is") and "checkpoint" not in action


@pytest.mark.parametrize("rec_rises", [True, False])
def test_a_kl_collapse_is_judged_by_what_the_reconstruction_did_across_it(tmp_path, rec_rises):
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    late = curves.steps >= 10_000
    curves.values["kl_loss"][late] *= np.exp(-(curves.steps[late] - 10_000) / 500)  # to ~0 within ~3,000 steps
    if rec_rises:
        curves.values["rec_loss"][late] *= 1 + 0.5 * np.minimum(1, (curves.steps[late] - 10_000) / 3000)
    _rebuild_sums(curves)
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    (f,) = [f for f in a.findings if f.rule == "kl-collapse"]
    assert f.numbers["rec_now"] == pytest.approx(a.metrics["rec_loss"].now)  # the table's Now
    if rec_rises:
        assert "as a decoder that loses its latents' information does: the posterior is collapsing" in f.message
        # kl_weight 1e-6 cannot be the cause: the action says so instead of "check kl_weight"
        assert "At kl_weight 1e-06 (config.yaml) the KL term is too light to pull the posterior to the prior" in \
            f.message
        assert f.action.startswith(f"Look for what changed at step {f.step:,}")
    else:
        assert "which a decoder ignoring its latents could not do" in f.message and "collapsing toward" not in \
            f.message
        assert "check how kl_loss is computed and logged" in f.action.lower()


def test_a_rollback_says_what_the_replaced_points_held_when_they_went_bad(tmp_path):
    # launch 1 ran to 16,000 and blew up (rec x e per 150 steps from 14,500, NaN from 15,200); launch 2, later,
    # resumed from the 12,000 checkpoint and went on healthy: the report shows launch 2, and says why
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    folder = tmp_path / "rollback"
    blown = {k: v.copy() for k, v in curves.values.items()}
    grow = np.exp(np.clip(curves.steps - 14_500, 0, None) / 150)
    for k in ("rec_loss", "nll_loss", "total_loss"):
        blown[k] = np.where(curves.steps >= 15_200, np.nan, blown[k] * grow)
    for i, (lo, hi, values) in enumerate(((0, 16_000, blown), (12_000, 20_001, curves.values))):
        points = [(int(s), f"train/{k}", float(v[j])) for j, s in enumerate(curves.steps)
                  if lo <= s < hi and s % 10 == 0 for k, v in values.items()]
        write_scalars(folder, points, start_wall=1.7e9 + i * 20_000, filename_suffix=f".{i}")
    (folder / "config.yaml").write_text(yaml.safe_dump(config(disc_start=50_001, total=150_000)))
    a, bad = verdict(folder)
    (resumed,) = [f for f in a.findings if f.rule == "resumes"]
    assert resumed.severity == "info" and resumed.step == 12_000
    said = re.search(r"rec_loss climbed from \S+ at step ([\d,]+) to \S+ at step ([\d,]+) \(x(\d+)\)", resumed.message)
    assert said and 14_000 <= int(said[1].replace(",", "")) <= 14_600 and int(said[3]) >= 10, resumed.message
    assert "NaN/Inf from step 15,200" in resumed.message


def test_a_config_key_given_twice_is_named_with_both_values_and_the_one_used(tmp_path):
    """A key written twice in one mapping (any depth): PyYAML, as RadioDiff reads its config, keeps the last and
    says nothing; the report says it, with the file, the key's path, both values and lines. Never a refusal. A
    mapping's own key overriding one merged in with ``<<: *base`` is YAML's "as base, but": not flagged."""
    from vae_report.config_twice import given_twice

    run = tmp_path / "run"
    write_radiodiff_run(run, last_step=3_000, tb_every=50, disc_start=1_501, total_steps=6_000, with_config=False)
    text = yaml.safe_dump(radiodiff_config(disc_start=1_501, total_steps=6_000), sort_keys=False)
    text = text.replace("    disc_start: 1501\n", "    disc_start: 501\n")  # the value meant, then pasted over
    text = text.replace("    disc_in_channels: 1\n", "    disc_in_channels: 1\n    disc_start: 1501\n")
    text = text.replace("  batch_size: 2\n", "  batch_size: 2\n  batch_size: 2\n")
    text = "defaults: &defaults\n  lr: 1.0e-05\n  amp: false\n" + text.replace(
        "trainer:\n", "trainer:\n  <<: *defaults\n")  # the trainer's own lr and amp override the merged ones
    (run / "first_radio.yaml").write_text(text)
    assert yaml.safe_load(text)["model"]["lossconfig"]["disc_start"] == 1_501  # as the trainer read it
    lines = text.splitlines()
    a, bad = verdict(run)
    assert a.schedule.disc_start == 1_501
    twice = {f.numbers["key"]: f for f in a.findings if f.rule == "config-typos"}
    assert set(twice) == {"model.lossconfig.disc_start", "data.batch_size"}
    start = twice["model.lossconfig.disc_start"]
    first, last = lines.index("    disc_start: 501") + 1, lines.index("    disc_start: 1501") + 1
    assert start.severity == "warning" and start in bad and start.message.startswith(
        f"first_radio.yaml: model.lossconfig.disc_start is given twice in one mapping, 501 (line {first}) then "
        f"1501 (line {last}): a trainer reading it with PyYAML")
    assert "used the last, 1501" in start.message and "the first, 501, was not used" in start.message
    assert twice["data.batch_size"].severity == "info" and "the same value" in twice["data.batch_size"].message
    # any depth, lists included, and a key given three times
    (tmp_path / "deep.yaml").write_text("a:\n  - b:\n      c: 1\n      c: 2\n      c: 3\n  - {d: x, d: y}\n")
    assert [(d.path, d.first, d.last, d.times) for d in given_twice(tmp_path / "deep.yaml")] == [
        ("a[0].b.c", "1", "3", 3), ("a[1].d", "x", "y", 2)]
    # an LDM config is loaded with OmegaConf, which refuses such a file: the report says the run did not start from it
    from dataclasses import replace

    from vae_report.readers import load_run

    ldm = replace(a.schedule, layout="ldm", config_twice=(("project.yaml", given_twice(run / "first_radio.yaml")[0]),))
    (said,) = [f for f in run_rules(Metrics(load_run(run).frame), ldm) if f.rule == "config-typos"]
    assert "OmegaConf" in said.message and "did not start from this file as written" in said.message


def test_a_rise_that_began_before_the_recent_stretch_is_measured_from_the_phases_best_and_dated_there(tmp_path):
    # review8 class 3: the discriminator wins from step 8,000 and the adversarial term lifts the total within
    # 600 steps, then slowly on. The level a rise is quoted from is the phase's lowest sustained level (before
    # 8,000), not the best of a recent stretch that began part-way up the climb; the rise is dated near where it
    # left that level; the GAN's own loss is quoted against its "lowest" level, never its "best"
    curves = radiodiff_curves(12_000, disc_start=4001, total_steps=20_000)
    v, steps = curves.values, curves.steps
    x = 1.5 * np.clip((steps - 8000) / 600, 0, 1) + 1.5 * np.clip((steps - 8600) / 3400, 0, 1)
    v["g_loss"] = np.where(steps >= 4001, v["g_loss"] + x, v["g_loss"])
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=4001, total=20_000)))
    now = [{"metric": f.metric, "message": f.message, "numbers": f.numbers} for f in a.findings
           if f.rule == "loss-now" and "recent_best" in f.numbers]
    now += [r for f in a.findings for r in f.related if r["rule"] == "loss-now"]
    assert "total_loss" in {f["metric"] for f in now}, [f.message for f in bad]
    for f in now:
        if f["metric"] not in ("total_loss", "g_loss"):
            continue
        plateau = float(np.median(v[f["metric"]][(steps >= 6000) & (steps < 8000)]))
        best, said = f["numbers"]["recent_best"], f["message"]
        if f["metric"] == "total_loss":
            assert abs(best / plateau - 1) < 0.05 and "in the recent stretch" not in said, said
            assert "its best level in this phase" in said or "its lowest level before this steady climb" in said
        else:
            assert abs(best - plateau) < 0.1 and "best level" not in said and "lowest level" in said, said
        assert 7000 <= f["numbers"]["onset_step"] <= 8600, (f["metric"], f["numbers"]["onset_step"], said)


@pytest.mark.parametrize("per", [2, 4])
def test_a_logged_counter_k_times_the_loss_s_step_converts_every_milestone(tmp_path, per):
    """eval12: a logged counter of micro-batches (gradient accumulation 4) or of both optimizers' steps (2) outside
    Lightning: the switch-on at k x disc_start was explained, yet the config's total was not converted ("step
    320,000, past the config's total of 150,000: check that this config is the run's") and the lr decay over it
    was read as parting from a constant rate. Every milestone of the config is in logged steps, k times its own."""
    curves = radiodiff_curves(6000, disc_start=2001, total_steps=10_000)
    logged = type(curves)(curves.steps * per, curves.values)  # what the counter logs: k per step the loss is given
    c = config(disc_start=2001, total=10_000)
    if per != 2:  # a multiple other than two optimizers' is taken as a unit only where the config accumulates it
        c["trainer"]["accumulate_grad_batches"] = per
    a, bad = verdict(write_run(tmp_path, logged, 10 * per, c))
    s = a.schedule
    assert (s.disc_start, s.total_steps, s.logged_per_step) == (2001 * per, 10_000 * per, per)
    assert a.status == "ok" and not bad, [f.message for f in bad]
    assert a.progress == pytest.approx(0.6) and a.next_milestone is not None
    (on,) = [f for f in a.findings if f.rule == "disc-inactive-after-start"]
    assert on.severity == "ok" and f"the config's 2,001 x {per}" in on.message


def test_no_balance_is_judged_on_a_discriminator_whose_loss_is_nan_now(tmp_path):
    # eval12 r3_nan_stays_tb: every loss and both logits NaN for the last eighth of the run, and disc-at-chance
    # still said "Its logits now: real 0.0767 ... so it is learning" from the last finite stretch
    curves = radiodiff_curves(8000, disc_start=2001, total_steps=20_000)
    late = curves.steps >= 7000
    for name in ("rec_loss", "nll_loss", "total_loss", "kl_loss", "g_loss", "disc_loss", "logits_real",
                 "logits_fake"):
        curves.values[name] = np.where(late, np.nan, curves.values[name])
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=2001, total=20_000)))
    assert a.status == "error" and any(f.rule == "non-finite" for f in bad)
    judged = [f for f in a.findings if f.rule in ("disc-at-chance", "generator-winning", "disc-overpowering")
              and not f.skipped]
    assert not judged, [f.message for f in judged]


@pytest.mark.parametrize("layout", ["add_scalars", "splits"])
def test_a_resume_in_a_layout_of_sibling_folders_is_a_resume_not_two_processes(tmp_path, layout):
    """eval12: add_scalars' key folders (train_rec_loss/, ...) or a split's folders (train/, val/), each with a
    second event file after a resume 15 min after the first process stopped: each file was held against the next
    file in written order, a sibling of the same process written all along beside it, and the report warned of
    two processes writing at once. A file is held against the one that took over its own series."""
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    folder = tmp_path / "run"
    keys = ("rec_loss", "kl_loss", "total_loss", "nll_loss")
    # first launch: steps 0-12,000 at 0.5 s a step; the resume from 11,000 begins 15 min after it stopped
    for launch, (lo, hi, start) in enumerate(((0, 12_000, 1.7e9), (11_000, 20_000, 1.7e9 + 6_000 + 900 - 5_500))):
        for key in keys:
            where, tag = ((folder / f"train_{key}", "train") if layout == "add_scalars" else
                          (folder / ("train" if key != "kl_loss" else "val"), f"train/{key}"))
            write_scalars(where, [(int(s), tag, float(curves.values[key][j])) for j, s in enumerate(curves.steps)
                                  if lo <= s <= hi and s % 10 == 0], start_wall=start, filename_suffix=f".{launch}")
    (folder / "config.yaml").write_text(yaml.safe_dump(config(disc_start=50_001, total=150_000)))
    a, bad = verdict(folder)
    assert not [f for f in bad if f.rule == "resumes"], [f.message for f in bad]
    assert not any("two processes" in n for n in a.merge_notes), a.merge_notes
    (resumed,) = [f for f in a.findings if f.rule == "resumes"]
    assert "resumed at step 11,000" in resumed.message and "15 min" in resumed.message


def test_a_rate_thirty_times_the_usual_top_is_named_and_its_action_is_the_rate_s(tmp_path):
    # eval12 r3_trainer_high_lr: the bundled trainer at lr 0.03 (30 x the 1e-3 top of the usual span) had its KL
    # blow-up blamed on kl_weight ("raise kl_weight"); the rate, the only change, was never named (HIGH was 0.1)
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000, lr=0.03)
    curves.values["kl_loss"] = curves.values["kl_loss"] * np.exp(np.linspace(0, np.log(150), len(curves.steps)))
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    (named,) = [f for f in bad if "The learning rate was 0.03" in f.message]
    assert named.rule == "kl-rising" and "the likely cause" in named.message and named.numbers["lr_far"] == "above"
    assert named.action.startswith("Lower the learning rate (0.03") and "kl_weight" not in named.action


def test_radiodiff_s_decay_is_not_judged_as_a_constant_rate_when_its_total_is_unknown(tmp_path):
    # eval12 r4_foreign_config_tb: another experiment's config (total 100,000 behind logs reaching 120,000): its
    # total left out, RadioDiff's healthy decay was called "the config's constant lr, then parts from it" and the
    # user sent to debug the scheduler first
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=30_000)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=10_000)))
    assert a.schedule.total_steps is None and a.schedule.passed_total == 10_000
    (lr,) = [f for f in a.findings if f.rule == "lr-schedule"]
    assert lr.severity == "info" and "described, not judged" in lr.message and "constant" not in lr.message
    assert not [f for f in bad if f.rule == "lr-schedule"]


def test_a_discriminator_that_scores_both_inputs_alike_is_sent_to_its_inputs_not_its_optimizer(tmp_path):
    # eval12 r5_disc_bias_only: real and fake logits identical but drifting (its bias moves: the optimizer steps),
    # the hinge loss exactly 1: "nothing it outputs changes ... check that its optimizer steps" was false
    curves = radiodiff_curves(8000, disc_start=2001, total_steps=20_000)
    on = curves.steps >= 2001
    drift = np.where(on, -0.37 + 0.74 * (curves.steps - 2001) / 6000, 0.0)
    curves.values["logits_real"] = curves.values["logits_fake"] = drift
    curves.values["disc_loss"] = np.where(on, 1.0, 0.0)
    curves.values["g_loss"] = np.where(on, -drift, curves.values["g_loss"])
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=2001, total=20_000)))
    (f,) = [f for f in bad if f.rule == "disc-at-chance"]
    assert "scores real and reconstructed inputs alike" in f.message and "nothing it outputs changes" not in f.message
    assert f.action.startswith("Check what it is fed") and "optimizer steps" not in f.action


def test_a_kl_logged_as_nan_while_the_loss_stayed_finite_is_told_as_no_failure(tmp_path):
    # eval12 r3_kl_nan_string_csv: the logged KL "nan" from a step on, the total finite: the headline said the
    # weights were not damaged, and beside it "the KL did not lead the failure" and a forecast "does not go on"
    curves = radiodiff_curves(10_000, disc_start=50_001, total_steps=20_000)
    curves.values["kl_loss"] = np.where(curves.steps >= 6000, np.nan, curves.values["kl_loss"])
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=20_000)))
    (nan,) = [f for f in bad if f.rule == "non-finite"]
    assert nan.case == "not-in-loss"
    (kl,) = [f for f in a.findings if f.rule == "kl-rising"]
    assert "failure" not in kl.message and "went on training" in kl.message
    from vae_report.render import render_markdown

    said = render_markdown(a)
    assert "does not go on" not in said and "no recent level to carry forward" in said


def test_a_loss_exploding_now_gets_no_forecast_and_the_reason_is_the_error(tmp_path):
    # eval12 r3_diverge_last5_print: rec x1000 over the last 5% (an error), and the forecast's reason was "its
    # window levels scatter 134% about the trend: too noisy for a forecast"
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    _explode(curves, 19_000, rec_loss=1000)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    assert a.status == "error"
    reason = a.forecast.trends["rec_loss"].reason
    assert a.forecast.trends["rec_loss"].end is None and reason.startswith("it is diverging") and "noisy" not in reason


def test_a_sum_that_another_kl_weight_fits_to_float_precision_names_the_weight_the_run_used(tmp_path):
    # eval12 r4_kl_weight_mismatch: totals built with kl_weight 1e-5 at full precision "held" against the config's
    # 1e-6 (the KL term a sliver of the total: within the 1% tolerance), and every KL sentence used 1e-6
    curves = radiodiff_curves(8000, disc_start=50_001, total_steps=20_000)
    v = curves.values
    v["total_loss"] = v["nll_loss"] + 1e-5 * v["kl_loss"] + v["d_weight"] * v["disc_factor"] * v["g_loss"]
    folder = tmp_path / "run"
    folder.mkdir()
    with (folder / "log.jsonl").open("w") as out:  # json.dumps: every digit of the float64
        for i, s in enumerate(curves.steps[::10]):
            out.write(json.dumps({"step": int(s), **{k: float(x[i * 10]) for k, x in v.items()}}) + "\n")
    (folder / "config.yaml").write_text(yaml.safe_dump(config(disc_start=50_001, total=20_000)))
    a, bad = verdict(folder)
    (f,) = [f for f in bad if f.rule == "loss-bookkeeping"]
    assert f.case == "kl-weight-differs" and f.numbers["logged_kl_weight"] == 1e-5 and "to float precision" in f.message
    assert "with the config's kl_weight 1e-06" in f.message
    # eval14 c_weekly_schedchange: a weight given on the command line was "the config's" (which said 1e-6)
    from vae_report import analyze_run

    given = [f for f in analyze_run(folder, kl_weight=2e-6).findings if f.rule == "loss-bookkeeping"]
    (g,) = [f for f in given if f.case == "kl-weight-differs"]
    assert "with the kl_weight given on the command line, 2e-06" in g.message, g.message
    assert "the config's" not in g.message
    assert g.action.startswith("Pass --kl-weight 1e-05, the weight the run used")
    same = curves.values
    same["total_loss"] = same["nll_loss"] + 1e-6 * same["kl_loss"] + same["d_weight"] * same["disc_factor"] * same[
        "g_loss"]
    ok, bad = verdict(write_run(tmp_path / "same", curves, 10, config(disc_start=50_001, total=20_000)))
    assert not [f for f in bad if f.rule == "loss-bookkeeping"]


def test_a_kl_climbing_with_an_exploding_reconstruction_is_part_of_it_not_a_level_to_watch(tmp_path):
    # eval12 r3_diverge_last5_print: rec x1000 and KL x10 over the last 5%: the KL kept as its own "unusual level
    # ... watch it, and check the latents' scale before the diffusion stage", and Q1 "Not a fault yet"
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    _explode(curves, 19_000, rec_loss=1000, kl_loss=10)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    assert a.status == "error"
    (kl,) = [f for f in a.findings if f.rule == "kl-rising"]
    assert kl.case == "with-divergence" and "part of that blow-up" in kl.message and "watch it" not in kl.message
    (answer,) = [q.answer for q in a.qa if q.question.startswith("Is the KL loss")]
    assert answer.startswith("Yes, as part of the blow-up")


def test_a_discriminator_a_little_below_chance_is_said_as_an_ordinary_contest(tmp_path):
    # eval12 r7_csv_40cols, r2_pl142_on_schedule: disc_loss 0.87-0.885 (chance 1), between the equilibrium and a
    # lead: no finding on the GAN's balance at all
    curves = radiodiff_curves(8000, disc_start=2001, total_steps=20_000)
    on = curves.steps >= 2001
    curves.values["disc_loss"] = np.where(on, 0.87 + 0.01 * np.sin(curves.steps), 0.0)
    rng = np.random.default_rng(5)
    curves.values["logits_real"] = np.where(on, 0.08 + 0.05 * rng.standard_normal(len(on)), 0.0)
    curves.values["logits_fake"] = np.where(on, -0.08 + 0.05 * rng.standard_normal(len(on)), 0.0)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=2001, total=20_000)))
    assert not bad, [f.message for f in bad]
    (f,) = [f for f in a.findings if f.rule == "disc-overpowering"]
    assert (f.severity, f.case, f.title) == ("ok", "contest", "The GAN's balance") and "13% below" in f.message
    asked = {q.question: q.answer for q in a.qa}
    assert "Why is the discriminator loss going to 0?" not in asked
    assert asked["Is a discriminator loss near 1 fine?"].startswith("Yes.")


@pytest.mark.parametrize("form", ["hinge", "vanilla"])
def test_a_discriminator_loss_summed_not_halved_is_judged_at_twice_ldm_s_chance_level(tmp_path, form):
    """eval12 r5_disc_2ln2_flat: a trainer that sums the discriminator's real and fake terms (LDM halves them) logs
    twice LDM's chance level, 2 for the hinge and 2 ln 2 for the vanilla loss; its first points on (an untrained
    discriminator's) show which. Read at LDM's level, a discriminator at chance was 'the generator winning'."""
    from vae_report.render import render_markdown

    chance = 1.0 if form == "hinge" else math.log(2)
    for scale, folder in ((2, tmp_path / "summed"), (1, tmp_path / "halved")):
        curves = radiodiff_curves(6000, disc_start=1000, total_steps=10_000)
        curves.values["disc_loss"][curves.steps >= 1000] *= scale * chance
        a, bad = verdict(write_run(folder, curves, 10, config(total=10_000, disc_loss=form)))
        assert (a.schedule.disc_loss, a.schedule.disc_scale) == (form, scale)
        assert a.schedule.disc_chance_level == pytest.approx(scale * chance)
        assert a.status == "ok" and not bad, [f.message for f in bad]
        assert not [f for f in a.active_findings() if f.rule == "generator-winning"]
        row = next(line for line in render_markdown(a).splitlines() if line.startswith("| `disc_loss` |"))
        assert ("its real and fake terms summed" in row and "the logs: disc_loss" in row) == (scale == 2), row


def test_without_a_config_the_discriminator_loss_s_form_is_read_from_its_start(tmp_path):
    """No config names the loss: a discriminator starting at ln 2 is the vanilla loss at chance, not a hinge
    discriminator at 69% of its chance level; one whose first points are apart names no form (the hinge stays)."""
    curves = radiodiff_curves(6000, disc_start=1000, total_steps=10_000)
    curves.values["disc_loss"][curves.steps >= 1000] *= math.log(2)
    a, bad = verdict(write_run(tmp_path / "vanilla", curves, 10))
    assert (a.schedule.disc_loss, a.schedule.disc_scale) == ("vanilla", 1) and not bad
    assert a.schedule.origins["disc_loss"].startswith("the logs: disc_loss 0.69")
    on = curves.steps >= 1000
    learnt = 0.3 + 0.39 * np.exp(-(curves.steps[on] - 1000) / 20)  # learning fast: no start to read
    curves.values["disc_loss"][on] = learnt
    b, _ = verdict(write_run(tmp_path / "fast", curves, 10))
    assert b.schedule.disc_loss is None and b.schedule.disc_chance_level == 1.0


@pytest.mark.parametrize("start,since", [(8000, 8200), (1000, 9500)])
def test_a_blow_up_long_after_a_balanced_switch_on_is_not_put_on_the_discriminator(tmp_path, start, since):
    """eval12 r3_diverge_last5_print: the discriminator at its equilibrium from the switch-on (step 1,000) and the
    reconstruction blowing up 8,500 steps later: 'Is the discriminator loss fine?' said 'Not as it stands ... where
    its harm would show'. A rise right after the switch-on is still where its harm would show."""
    curves = radiodiff_curves(10_000, disc_start=start, total_steps=12_000)
    if since - start > 5000:
        _explode(curves, since, rec_loss=1000.0)
    else:  # up 3-fold from 200 steps after the switch-on, and staying up
        curves.values["rec_loss"][curves.steps >= since] *= 3
        _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=start, total=12_000)))
    assert a.status in ("warning", "error") and bad
    answer = next(q.answer for q in a.qa if q.question.startswith("Is a discriminator loss near"))
    if since - start > 5000:
        assert answer.startswith("Yes.") and "not its likely doing" in answer and "harm would show" not in answer
    else:
        assert answer.startswith("Not as it stands") and "where its harm would show" in answer, answer


def test_every_loss_a_far_off_learning_rate_ran_away_is_one_headline(tmp_path):
    """eval12 r3_runaway_lr_far_above: lr 0.5 (a typo of 5e-6) blew up the reconstruction from step 2,400 and the
    KL from the first steps; the error named the rate, and the KL's runaway stood beside it as a second headline.
    One cause: the KL is cited under the error, and the KL question quotes the KL's own numbers from there."""
    curves = radiodiff_curves(6000, disc_start=50_001, total_steps=150_000, lr=0.5)
    late = curves.steps >= 2400
    curves.values["rec_loss"][late] *= np.exp(np.linspace(0, np.log(5000), int(late.sum())))
    curves.values["kl_loss"] *= np.exp(np.minimum(curves.steps / 2000, 1) * np.log(600))  # x600, then held
    _rebuild_sums(curves)
    c = config(disc_start=50_001, total=150_000)
    c["trainer"]["lr"] = 0.5
    a, bad = verdict(write_run(tmp_path, curves, 10, c))
    (head,) = [f for f in bad if "learning rate was 0.5" in f.message]
    assert head.severity == "error" and [f for f in bad if f.rule in ("kl-rising", "loss-now")] == [head]
    assert any(r["rule"] == "kl-rising" and r["severity"] == "warning" for r in head.related)
    answer = next(q.answer for q in a.qa if q.question.startswith("Is the KL loss increase concerning"))
    assert answer.startswith("Yes, act on it. kl_loss rose from") and f"the rise of {head.metric}" in answer, answer


def test_held_out_image_quality_falling_is_one_warning_and_holding_is_ok(tmp_path):
    """eval13 a3_psnr_ssim_lpips_falling: val/psnr down 2.2 dB, val/ssim down 0.037 and LPIPS up 40% over the last
    third while training kept falling: status ok and not a word. One warning names the three falls from their
    best, dated at the earliest best; the same metrics holding near their best are an ok finding."""
    curves = radiodiff_curves(9000, disc_start=15_001, total_steps=20_000)
    evals = np.arange(1000, 9001, 500)
    late = np.clip((evals - 6000) / 3000, 0, None)

    def quality(falling):
        grow = late if falling else 0 * late
        return [(int(s), name, float(v)) for i, s in enumerate(evals) for name, v in (
            ("val/psnr", 29.0 - 2.2 * grow[i] + 0.02 * np.sin(i)), ("val/ssim", 0.906 - 0.037 * grow[i]),
            ("val/lpips", 0.08 * (1 + 0.4 * grow[i])))]

    a, bad = verdict(write_run(tmp_path / "falling", curves, 10, config(disc_start=15_001, total=20_000),
                               quality(True)))
    (f,) = [f for f in bad if f.rule == "val-quality"]
    assert f.severity == "warning" and {q["metric"] for q in f.numbers["metrics"]} == {
        "val/psnr", "val/ssim", "val/p_loss"}
    assert "val/psnr fell from 29.01 dB (its best" in f.message and "(LPIPS) rose from 0.08" in f.message
    assert 5500 <= f.step <= 6500 and a.status == "warning"
    b, bad = verdict(write_run(tmp_path / "holding", curves, 10, config(disc_start=15_001, total=20_000),
                               quality(False)))
    assert not bad and [f.severity for f in b.findings if f.rule == "val-quality"] == ["ok"]


def test_a_rate_cut_far_below_the_range_for_a_long_stretch_is_a_warning_but_a_decay_s_end_is_not(tmp_path):
    """eval13 b1_plateau_to_tiny: ReduceLROnPlateau without a floor cut the rate x10 four times, to 1e-8 for the
    last third of the run, and the report said 'keep it running' (the range check reads the rate's peak). A
    RadioDiff decay that reaches such rates in its last percent, by design, is no such finding."""
    curves = radiodiff_curves(9000, disc_start=50_001, total_steps=15_000)
    curves.values["lr"] = 1e-4 * 0.1 ** np.clip((curves.steps - 2000) // 1000, 0, 4)  # 1e-8 from step 6,000
    c = config(disc_start=50_001, total=15_000)
    c["trainer"]["lr_scheduler"] = {"target": "torch.optim.lr_scheduler.ReduceLROnPlateau", "factor": 0.1}
    c["trainer"]["lr"] = 1e-4
    a, bad = verdict(write_run(tmp_path / "plateau", curves, 10, c))
    (f,) = [f for f in bad if f.rule == "lr-schedule"]
    assert (f.case, f.step, f.severity) == ("below-range", 6000, "warning")
    assert "below 1e-07 since step 6,000" in f.message and "min_lr" in f.action
    answer = next(q.answer for q in a.qa if q.question.startswith("Should I intervene"))
    assert answer.startswith("Yes") and "keep it running" not in answer.lower()
    ended = radiodiff_curves(14_990, disc_start=50_001, total_steps=15_000)
    b, _ = verdict(write_run(tmp_path / "decayed", ended, 10, config(disc_start=50_001, total=15_000)))
    assert float(ended.values["lr"][-1]) < 1e-7 and b.finished
    assert not [f for f in b.active_findings() if f.case == "below-range"]


def test_one_level_just_before_the_switch_on_in_every_finding(tmp_path):
    """eval13 b6_train_klw1e-2: with 15 points before the switch-on, the winning discriminator's action quoted
    rec_loss 'since just before the switch-on' as the median of the last 5 (0.181, 'fell -17.5%') while
    rec-after-disc quoted its last point there (0.149, 'held'): one level just before the switch-on per report."""
    curves = radiodiff_curves(300, disc_start=151, total_steps=300)
    v, on = curves.values, curves.steps >= 151
    v["disc_loss"][on] = np.linspace(0.9, 0.15, int(on.sum()))
    v["logits_real"][on], v["logits_fake"][on] = 1.2, -1.1
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=151, total=300)))
    told = [(f.rule, f.numbers) for f in a.findings] + [(r["rule"], r["numbers"]) for f in a.findings
                                                          for r in f.related]
    numbers = next(n for rule, n in told if rule == "disc-overpowering" and "rec_before_win" in n)
    (rec,) = [f for f in a.findings if f.rule == "rec-after-disc" and not f.skipped]
    assert numbers["rec_before_win"] == pytest.approx(rec.numbers["before_level"])


def test_a_kl_highest_at_its_start_falls_from_its_start_level_not_from_a_lower_peak():
    """eval13 b2_posterior_collapse: a KL that starts at its highest and collapses fell 'from its peak level
    19,978', a moving average below the statistics table's Start of 21,761: its peak is its start."""
    steps = np.arange(0, 40_000, 100)
    kl = 40 + 25_000 * np.exp(-steps / 3000)
    rec = 0.1 + 0.0 * steps
    frame = make_frame(np.concatenate([steps, steps]), ["kl_loss"] * len(steps) + ["rec_loss"] * len(steps),
                       np.concatenate([kl, rec]), np.nan, "t")
    m = Metrics(frame)
    (f,) = [f for f in run_rules(m, Schedule(kl_weight=1e-2)) if f.rule == "kl-collapse" and not f.skipped]
    assert f.numbers["peak_level"] == pytest.approx(m.start("kl_loss").value)
    assert f"peak level {fmt(m.start('kl_loss').value)}" in f.message


def test_reconstructions_nan_to_the_end_leave_the_discriminator_s_level_and_every_forecast_unjudged(tmp_path):
    """eval13 a5_float_step_jsonl_nan: with rec_loss NaN from step 7,200 to the end, 'Is the discriminator loss where
    the schedule puts it?' said 'Not judged' and 'Is a discriminator loss near 1 fine?' said 'Yes'; kl_loss was still
    forecast to the end of a run that 'cannot go on as it is'."""
    curves = radiodiff_curves(9000, disc_start=1000, total_steps=15_000)
    for name in ("rec_loss", "nll_loss", "total_loss"):
        curves.values[name][curves.steps >= 7200] = np.nan
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=1000, total=15_000)))
    assert a.status == "error" and a.halted
    answer = next(q.answer for q in a.qa if q.question.startswith("Is a discriminator loss"))
    assert answer.startswith("Not judged: disc_loss is") and "NaN/Inf" in answer, answer
    assert a.forecast.trends["kl_loss"].reason and "cannot go on" in a.forecast.trends["kl_loss"].reason


def test_why_is_the_discriminator_loss_zero_is_asked_only_when_its_level_is(tmp_path):
    """eval13 a1_logging_basicconfig: a won hinge discriminator at 0.0171 whose latest point was 0 got 'Why is the
    discriminator loss zero? ... it has won and is at 0 now': the premise is its level, not one point."""
    curves = radiodiff_curves(6000, disc_start=1000, total_steps=10_000)
    v, on = curves.values, curves.steps >= 1000
    v["disc_loss"][on] = np.where((curves.steps[on] // 10) % 3 == 0, 0.0, 0.034)
    v["disc_loss"][-1] = 0.0
    v["logits_real"][on], v["logits_fake"][on] = 1.6, -1.5
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=1000, total=10_000)))
    assert a.metrics["disc_loss"].now > 0 and a.metrics["disc_loss"].latest == 0
    assert not [q for q in a.qa if q.question.startswith("Why is the discriminator loss zero")]


def test_an_nll_logged_without_the_learned_logvar_is_named_as_the_bookkeeping_s_cause(tmp_path):
    """eval13 a4_logvar_nll_mismatch: the total summed N x (rec / exp(logvar) + logvar) while nll_loss was logged as
    N x rec, logvar logged at -0.8: 'the logged terms may come from different batches or sources ...', and the
    summary's pixels_per_sample was -3,789. The logs show the cause: said, with the sample's pixel count."""
    curves = radiodiff_curves(6000, disc_start=50_001, total_steps=10_000)
    v = curves.values
    v["logvar"] = np.full(len(curves.steps), -0.8)
    v["nll_loss"] = PIXELS * v["rec_loss"]
    v["total_loss"] = PIXELS * (v["rec_loss"] * np.exp(0.8) - 0.8) + 1e-6 * v["kl_loss"]
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=10_000)))
    (f,) = [f for f in bad if f.rule == "loss-bookkeeping"]
    assert f.case == "nll-without-logvar" and f.numbers["pixels_per_sample"] == PIXELS
    assert f"nll_loss is {fmt(PIXELS)} x rec_loss" in f.message and "logvar is logged at -0.8" in f.message


def test_a_steady_rise_over_a_few_sparse_evaluations_is_overfitting_not_a_step(tmp_path):
    """eval13 a3_val_sparse_overfit: validation every 10,000 steps (9 points) rising steadily over its last four
    while training falls was 'A step in validation only ... between step 70,000 and step 80,000', with advice to
    debug the validation setup: 3-point medians either side of one evaluation span most of a short climb. A jump is
    one evaluation to the next."""
    curves = radiodiff_curves(9000, disc_start=50_001, total_steps=20_000)
    val = [0.0545, 0.0431, 0.0392, 0.0371, 0.0362, 0.0375, 0.0392, 0.041, 0.0431]
    extra = [(1000 * (i + 1), "val/rec_loss", v) for i, v in enumerate(val)]
    a, bad = verdict(write_run(tmp_path / "climb", curves, 10, config(disc_start=50_001, total=20_000), extra))
    (f,) = [f for f in bad if f.rule == "val-overfitting"]
    assert f.case != "val-step" and f.message.startswith("Overfitting since")
    jump = [0.0545, 0.0431, 0.0392, 0.0371, 0.0362, 0.0363, 0.0361, 0.0431, 0.0432]  # one jump, and it stays
    extra = [(1000 * (i + 1), "val/rec_loss", v) for i, v in enumerate(jump)]
    b, bad = verdict(write_run(tmp_path / "jump", curves, 10, config(disc_start=50_001, total=20_000), extra))
    assert [f.case for f in bad if f.rule == "val-overfitting"] == ["val-step"]


def test_validation_logged_against_its_epoch_beside_training_s_step_is_said_not_judged(tmp_path):
    """eval13 a5_tb_val_by_epoch: validation written with the epoch as its step (0-17) beside training at the global
    step was merged at steps 0-17 and judged there against training's first steps."""
    curves = radiodiff_curves(9000, disc_start=15_001, total_steps=20_000)
    extra = [(epoch, "val/rec_loss", 0.05 - 0.0005 * epoch) for epoch in range(18)]
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=15_001, total=20_000), extra))
    (f,) = [f for f in a.findings if f.rule == "val-overfitting" and not f.skipped]
    assert (f.case, f.severity) == ("another-axis", "info") and "steps 0-17" in f.message and not bad


def _amp_points(steps, scale, grad):
    return [(int(s), name, float(v)) for s, a, g in zip(steps, scale, grad, strict=True)
            for name, v in (("train/loss_scale", a), ("train/grad_norm", g))]


def test_a_collapsed_mixed_precision_loss_scale_is_a_stall_and_its_overflow_skips_are_not(tmp_path):
    """eval13 b1_amp_scale_collapse: GradScaler's scale fell from 65,536 to 1e-30 at step 4,500 (every step
    overflowed and was skipped, the losses only jittering) and the report said 'keep it running';
    b1_amp_inf_gradnorm: grad_norm Inf at the few steps where the scale halved, as fp16 training does, was a
    warning 'not the term the loss took in'."""
    curves = radiodiff_curves(9000, disc_start=15_001, total_steps=20_000)
    steps = np.arange(0, 9001, 10)
    scale = np.where(steps < 4500, 65536.0, 65536.0 * 0.5 ** np.clip((steps - 4490) / 10, 0, 120))
    grad = np.where(steps < 4500, 0.5, np.inf)
    a, bad = verdict(write_run(tmp_path / "collapsed", curves, 10, config(disc_start=15_001, total=20_000),
                               _amp_points(steps, scale, grad)))
    (stall,) = [f for f in bad if f.rule == "run-stalled"]
    assert (stall.case, stall.metric) == ("scale-collapsed", "loss_scale") and 4500 <= stall.step <= 4600
    assert a.halted and "skipped" in a.halted
    answer = next(q.answer for q in a.qa if q.question.startswith("Should I intervene"))
    assert answer.startswith("Yes") and "keep it running" not in answer.lower() and "lr exactly 0" not in answer
    overflow = (steps % 500 == 250)  # 18 overflowed steps: the scale halves there and grows back
    scale = np.where(overflow, 32768.0, 65536.0)
    grad = np.where(overflow, np.inf, 0.5)
    b, bad = verdict(write_run(tmp_path / "skips", curves, 10, config(disc_start=15_001, total=20_000),
                               _amp_points(steps, scale, grad)))
    (f,) = [f for f in b.findings if f.rule == "non-finite" and f.metric == "grad_norm"]
    assert (f.severity, f.case) == ("info", "amp-skipped") and not bad and b.status == "ok"


@pytest.mark.parametrize("switch, config", [(4_001, 2_001), (2_001, 4_001)])
def test_radiodiffs_trainer_logs_the_loss_step_so_a_switch_on_at_twice_or_half_disc_start_is_no_unit(
        tmp_path, switch, config):
    """RadioDiff's loop gives its loss the step it logs (its own text log read): a discriminator on at twice (or
    half) the config's disc_start is a schedule that differs, a warning, not "as scheduled" under a counter of
    micro-batches or of Lightning's two optimizers; the total stays the config's and the log's own /6000."""
    from writers import radiodiff_config, radiodiff_curves, radiodiff_tb_points, write_radiodiff_text_log

    run = tmp_path / "run"
    curves = radiodiff_curves(5_000, disc_start=switch, total_steps=6_000)
    write_scalars(run, radiodiff_tb_points(curves, 10))
    settings = radiodiff_config(disc_start=config, total_steps=6_000)
    write_radiodiff_text_log(run, curves, settings, 6_000)  # its trainer's own log: "[Train Step] N/6000"
    (run / "first_radio.yaml").write_text(yaml.safe_dump(settings))
    a = analyze_run(run)
    assert a.schedule.total_steps == 6_000 and a.schedule.disc_start == config
    found = {f.rule: f for f in a.findings if f.severity == "warning"}
    late, early = found.get("disc-inactive-after-start"), found.get("disc-active-before-start")
    assert (late if switch > config else early) is not None, [(f.rule, f.severity) for f in a.findings]
    text = " ".join(f.message for f in a.findings)
    assert "step-unit difference" not in text and "counts 2 per step the loss is given" not in text
    if switch > config:
        assert "RadioDiff's trainer gives its loss the step it logs, so this is no other counter" in late.message


@pytest.mark.parametrize("kl_weight, title", [(1e-6, "KL rising under a tiny kl_weight"),
                                              (0.5, "KL rising under kl_weight 0.5")])
def test_the_kl_rising_title_names_a_tiny_weight_only_under_one(tmp_path, kl_weight, title):
    # eval14 b_t4: "KL rising under a tiny kl_weight" titled a finding whose own text said "under kl_weight 0.5, a
    # weight large enough for the KL term to shape the latents"
    curves = radiodiff_curves(4_000, disc_start=50_001, total_steps=150_000)
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000, kl_weight=kl_weight)))
    (kl,) = [f for f in a.findings if f.rule == "kl-rising"]
    assert kl.title == title, (kl.title, kl.message)


def test_held_out_quality_below_its_best_within_its_noise_is_not_clearly_worse_never_not_worse(tmp_path):
    """eval14 b_t5: "Held-out reconstructions have not got worse: val/psnr 18.68 dB now, its best 19.88 dB" beside
    a 1.2 dB drop, past the rule's 0.5 dB threshold, that the check only could not tell from noise."""
    curves = radiodiff_curves(9000, disc_start=15_001, total_steps=20_000)
    evals = np.arange(1000, 9001, 500)
    rng = np.random.default_rng(2)
    psnr = 20.0 - 1.2 * np.clip((evals - 6000) / 3000, 0, None) + 0.9 * rng.standard_normal(len(evals))
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=15_001, total=20_000),
                               [(int(s), "val/psnr", float(v)) for s, v in zip(evals, psnr, strict=True)]))
    (f,) = [f for f in a.findings if f.rule == "val-quality"]
    assert f.severity == "ok" and f.message.startswith("Held-out reconstructions are not clearly worse: val/psnr ")
    assert "(a change within 3 times its noise (±" in f.message, f.message


def test_a_sparse_validation_above_its_best_is_never_called_at_its_best(tmp_path):
    """eval14 a13: nine evaluations falling from 0.9, then 0.038 -> 0.047 -> 0.056 over the last two while
    training held: "val/rec_loss is at its best level (0.0564 ...): no sign of overfitting", its own statistics
    row giving a minimum of 0.0381. A rise past the 10% overfitting shows but within the (decay-inflated) noise is
    said as such."""
    curves = radiodiff_curves(4_000, disc_start=50_001, total_steps=150_000)
    val = [0.896, 0.287, 0.105, 0.0642, 0.0493, 0.0464, 0.0381, 0.0475, 0.0564]
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000),
                             [(i * 500, "val/rec_loss", v) for i, v in enumerate(val)]))
    (f,) = [f for f in a.findings if f.rule == "val-overfitting"]
    assert "at its best level" not in f.message and "no sign of overfitting" not in f.message, f.message
    assert "a rise within 3 times its noise" in f.message or f.severity == "warning", f.message


def test_an_explosion_is_measured_from_the_level_it_left_not_a_point_inside_the_climb(tmp_path):
    """eval14 b_s09: KL at ~125k for 30,000 steps, then a climb from step 80,000: "35,345,220 ... against 247,406,
    its best level in the recent stretch" (a point already inside the climb, the size understated twofold)."""
    curves = radiodiff_curves(100_000, disc_start=50_001, total_steps=150_000)
    s = curves.steps
    rng = np.random.default_rng(9)
    curves.values["kl_loss"] = np.where(s < 80_000, 125_000.0, 125_000.0 * np.exp((s - 80_000) / 3_300.0)) \
        * (1 + 0.01 * rng.standard_normal(len(s)))
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 100, config(disc_start=50_001, total=150_000)))
    (f,) = [f for f in a.findings if f.rule == "loss-now" and f.metric == "kl_loss"]
    assert "is exploding" in f.message and "its level before the climb" in f.message, f.message
    against = float(re.search(r"against ([\d,.]+)", f.message).group(1).replace(",", ""))
    assert 115_000 < against < 135_000 and 79_000 <= f.step <= 81_000, f.message


def test_an_infinite_d_weight_is_not_a_weight_at_its_clamp(tmp_path):
    # eval14 a08 (seen once its GAN terms were read): d_weight logged as Infinity from step 5,000 was "sits at its
    # clamp (5,000 ...) at 100% of the recent points"; torch.clamp gives 1e4 for Inf: a logged Inf is a break
    curves = radiodiff_curves(8_000, disc_start=2_001, total_steps=20_000)
    curves.values["d_weight"] = np.where(curves.steps >= 5_000, np.inf, curves.values["d_weight"])
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=2_001, total=20_000)))
    pinned = [f for f in a.findings if f.rule == "d-weight-pinned" and f.severity != "ok"]
    assert not [f for f in pinned if "clamp" in f.message], [f.message for f in pinned]


def test_a_rise_that_a_learned_logvar_makes_names_the_logvar_first(tmp_path):
    """eval14 b_s11: the learned logvar climbed from 0 to 6 from step 10,000 and the nll exploded with it; the
    action listed "the learning rate (not logged)" (it was logged, too coarsely to read), the data and the KL
    term, never the logvar the report's own bookkeeping names."""
    curves = radiodiff_curves(20_000, disc_start=50_001, total_steps=150_000)
    v, s = curves.values, curves.steps
    v["logvar"] = np.clip((s - 10_000) / 1_500.0, 0, 6.0)
    v["nll_loss"] = PIXELS * (v["rec_loss"] / np.exp(v["logvar"]) + v["logvar"])
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"] + v["d_weight"] * v["disc_factor"] * v["g_loss"]
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=150_000)))
    rising = [f for f in a.findings if f.rule == "loss-now" and f.severity in ("warning", "error")]
    assert rising, [(f.rule, f.severity, f.metric) for f in bad]
    assert any(f.action and "the learned logvar (from " in f.action for f in rising), [f.action for f in rising]


def test_a_rise_early_in_the_adversarial_phase_names_the_adversarial_term_among_its_suspects(tmp_path):
    """eval14 b_s22: rec_loss ramping up from soon after the switch-on was headlined by the latest-logs finding,
    whose action named "the data, the KL term" and never the discriminator, the one thing that had changed."""
    curves = radiodiff_curves(20_000, disc_start=10_001, total_steps=150_000)
    s, v = curves.steps, curves.values
    rng = np.random.default_rng(5)
    v["rec_loss"] = 0.035 * (1 + 0.01 * rng.standard_normal(len(s))) * (1 + 0.5 * np.clip((s - 11_000) / 9_000, 0, 1))
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=10_001, total=150_000)))
    actions = [one.get("action") or "" for f in bad for one in f.told() if one.get("rule") == "loss-now"]
    assert actions, [(f.rule, f.severity) for f in bad]
    assert any("the adversarial term (the discriminator on since step 10,001" in act for act in actions), actions


@pytest.mark.parametrize("amp, said", [(True, "The run trains in mixed precision (config.yaml: trainer.amp)"),
                                       (False, "The run trains in full precision (config.yaml: trainer.")])
def test_an_isolated_nan_is_acted_on_by_the_precision_the_config_says(tmp_path, amp, said):
    # eval14 b_s24: "Unless the run uses mixed precision, check the inputs" beside a config saying fp16: True
    curves = radiodiff_curves(8_000, disc_start=50_001, total_steps=20_000)
    for step in (3_000, 6_000):
        curves.values["rec_loss"][curves.steps == step] = np.nan
    _rebuild_sums(curves)
    c = config(disc_start=50_001, total=20_000)
    c["trainer"].update(amp=amp, fp16=False)
    a, bad = verdict(write_run(tmp_path, curves, 10, c))
    (f,) = [f for f in bad if f.rule == "non-finite" and f.metric == "rec_loss"]
    assert f.action.startswith(said) and "Unless" not in f.action, f.action


def test_logs_that_begin_past_disc_start_do_not_claim_the_switch_on_came_as_scheduled(tmp_path):
    # eval14 a40: "Logs begin at step 3,009 ..." beside "The discriminator is on from step 3,009, the first logged
    # step at or after disc_start 3,001, as scheduled": no logged point before it to show a switch-on at all
    curves = radiodiff_curves(6_000, disc_start=3_001, total_steps=6_000)
    keep = curves.steps >= 3_010
    curves.steps = curves.steps[keep]
    curves.values = {k: v[keep] for k, v in curves.values.items()}
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=3_001, total=6_000)))
    (f,) = [f for f in a.findings if f.rule == "disc-inactive-after-start"]
    assert f.message.startswith("The logs begin at step 3,010, past disc_start 3,001") and "as scheduled" not in \
        f.message, f.message
    assert "switch-on itself is not in these logs" in f.message


def test_the_conclusion_points_to_one_warning_as_one(tmp_path):
    # eval15: "Status: warning: see the warnings above" in reports holding one warning
    from writers import radiodiff_config, radiodiff_tb_points, write_radiodiff_text_log

    from vae_report.render import write_report
    from vae_report.view import counts_of

    run = tmp_path / "run"
    curves = radiodiff_curves(5_000, disc_start=4_001, total_steps=6_000)
    write_scalars(run, radiodiff_tb_points(curves, 10))
    settings = radiodiff_config(disc_start=2_001, total_steps=6_000)
    write_radiodiff_text_log(run, curves, settings, 6_000)
    (run / "first_radio.yaml").write_text(yaml.safe_dump(settings))
    a = analyze_run(run)
    assert a.status == "warning" and counts_of(a) == (1, 0), [(f.rule, f.severity) for f in a.active_findings()]
    write_report(a, tmp_path / "r.md")
    text = (tmp_path / "r.md").read_text()
    assert "**Status**: warning: see the warning above." in text


def test_a_discriminator_at_chance_is_titled_by_what_was_found(tmp_path):
    # eval15: "Discriminator at chance, or not learning" titled findings that end "so it is learning"
    curves = radiodiff_curves(30_000, disc_start=5_001, total_steps=150_000)
    a, _ = verdict(write_run(tmp_path, curves, 10, config(disc_start=5_001, total=150_000)))
    (f,) = [f for f in a.findings if f.rule == "disc-at-chance"]
    assert f.title in ("Discriminator at chance", "Discriminator at chance, and learning"), (f.title, f.message)


def test_a_step_unit_is_read_only_where_the_trainer_can_have_it(tmp_path):
    """eval15 d_rd_tb_switch_half: a RadioDiff config with RadioDiff's TensorBoard tags, its switch-on at half of
    disc_start, was "a step-unit difference, not a fault ... PyTorch Lightning" (RadioDiff's loop is not
    Lightning's); d_ldm_csv_switch_2x: an LDM run on at twice disc_start was "as scheduled" under a counter of both
    optimizers' steps (Lightning's logged step never runs ahead of the global step)."""
    from test_schedule import LDM
    from writers import radiodiff_config, radiodiff_tb_points, write_lightning_metrics_csv

    half = tmp_path / "half"
    write_scalars(half, radiodiff_tb_points(radiodiff_curves(5_000, disc_start=2_001, total_steps=10_000), 10))
    (half / "first_radio.yaml").write_text(yaml.safe_dump(radiodiff_config(disc_start=4_001, total_steps=10_000)))
    a = analyze_run(half)
    assert a.schedule.step_unit == 1 and a.schedule.disc_start == 4_001
    assert [f.severity for f in a.findings if f.rule == "disc-active-before-start"] == ["warning"]
    late = tmp_path / "late"
    (late / "configs").mkdir(parents=True)
    (late / "configs" / "2026-11-24T10-00-00-project.yaml").write_text(
        LDM.split("lightning:")[0].replace("50001", "2001"))
    write_lightning_metrics_csv(late / "lightning_logs" / "version_0" / "metrics.csv",
                                radiodiff_curves(6_000, disc_start=4_001, total_steps=10_000), every=10)
    b = analyze_run(late)
    assert b.schedule.logged_per_step == 1
    (on,) = [f for f in b.findings if f.rule == "disc-inactive-after-start"]
    assert on.severity == "warning" and "as scheduled" not in on.message, on.message


def test_training_is_finished_by_one_logging_interval_the_datas(tmp_path):
    # eval15 d_cfg_only_log: liveness said "training has finished" at step 6,000 of 10,000 (the config's log_freq
    # of 4,000, another log's, put the end one interval early) while the status line gave a milestone ahead
    curves = radiodiff_curves(6_000, disc_start=20_001, total_steps=10_000)
    c = config(disc_start=20_001, total=10_000)
    c["trainer"]["log_freq"] = 4_000
    a, _ = verdict(write_run(tmp_path, curves, 10, c))
    (live,) = [f for f in a.findings if f.rule == "liveness"]
    assert not a.finished and "training has finished" not in live.message, live.message


def test_a_dozen_isolated_nans_the_run_recovered_from_are_no_divergence(tmp_path):
    # eval15 e_f4: 12 one-batch NaNs in 1,001 points, each followed by the loss at its level, were an error,
    # "Training diverged", with a resume that threw 90,000 good steps away (2 of them were a warning)
    curves = radiodiff_curves(10_000, disc_start=50_001, total_steps=20_000)
    for step in range(800, 10_000, 800):
        curves.values["rec_loss"][curves.steps == step] = np.nan
    _rebuild_sums(curves)
    a, bad = verdict(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=20_000)))
    (f,) = [f for f in bad if f.rule == "non-finite" and f.metric == "rec_loss"]
    assert f.severity == "warning" and f.case == "recovered" and a.status == "warning", f.message


def test_an_nll_a_few_times_rec_is_no_sum_over_pixels(tmp_path):
    # eval15 e_f5: a VQ run whose nll is rec plus its perceptual term (about twice rec) was "summed over 2 pixels
    # per sample"
    rng = np.random.default_rng(0)
    steps = np.arange(0, 3000, 10)
    rec = 0.1 + 0.4 * np.exp(-steps / 500) + 0.005 * rng.standard_normal(len(steps))
    p_loss = 1.2 * rec
    quant = 0.02 + 0.01 * np.exp(-steps / 800)
    nll = rec + 1.0 * p_loss
    points = [(int(s), f"train/{k}", float(v[i])) for i, s in enumerate(steps)
              for k, v in (("total_loss", nll + quant), ("rec_loss", rec), ("nll_loss", nll), ("quant_loss", quant),
                           ("p_loss", p_loss))]
    write_scalars(tmp_path, points)
    cfg = {"model": {"base_learning_rate": 4.5e-6, "target": "taming.models.vqgan.VQModel", "params": {
        "embed_dim": 256, "n_embed": 1024, "lossconfig": {
            "target": "taming.modules.losses.vqperceptual.VQLPIPSWithDiscriminator",
            "params": {"disc_start": 10000, "codebook_weight": 1.0, "disc_weight": 0.8}}}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    a, _ = verdict(tmp_path)
    (f,) = [f for f in a.findings if f.rule == "loss-bookkeeping"]
    assert "pixels per sample" not in f.message and "too few for a pixel count" in f.message, f.message


def test_a_steady_gradient_norm_above_its_clip_at_every_step_is_said(tmp_path):
    # eval15 e_f3: a pre-clip grad_norm near 6 at every step under gradient_clip_val 1.0: not a word (the check
    # spoke only of a norm that grows); every update is cut to the clip's size, which the report must say
    curves = radiodiff_curves(8_000, disc_start=50_001, total_steps=150_000)
    rng = np.random.default_rng(1)
    grad = [(int(s), "train/grad_norm", float(6.0 * np.exp(0.2 * rng.standard_normal()))) for s in curves.steps[::10]]
    c = config(disc_start=50_001, total=150_000)
    c["trainer"]["gradient_clip_val"] = 1.0
    a, bad = verdict(write_run(tmp_path, curves, 10, c, grad))
    (f,) = [f for f in a.findings if f.rule == "grad-norm"]
    assert f.case == "binding-steady" and f.severity == "info" and f.title == "Gradient clipping binding", f.message
    assert "above the clip 1 (" in f.message and "at 100% of them" in f.message and not bad


def test_a_kl_collapse_under_a_logged_beta_is_judged_by_that_weight(tmp_path):
    # eval15 e_f16: beta logged up to 1, no kl_weight in any config: a real collapse was "likely no collapse ... a KL
    # computed or logged otherwise" (judged as if the weight were unknown) while the Q&A quoted the beta
    import csv

    steps = np.arange(0, 10_000, 10)
    beta = np.minimum(1.0, steps / 3_000)
    kl = np.where(steps < 3_400, 10 + 70 * steps / 3_400, 80 * np.exp(-(steps - 3_400) / 400) + 0.06)
    rec = 0.05 + 0.3 * np.exp(-steps / 1_500)
    with (tmp_path / "metrics.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["step", "rec_loss", "kl_loss", "beta"])
        writer.writerows(zip(steps, rec, kl, beta, strict=True))
    a = analyze_run(tmp_path)
    (f,) = [f for f in a.findings if f.rule == "kl-collapse"]
    assert "Under kl_weight 1 (the logged beta, annealed from 0, at its latest point)" in f.message, f.message
    assert "likely no collapse" not in f.message
    # its remedy is not the warm-up it already has
    assert f.action.startswith("The run already anneals its KL weight (the logged beta, annealed from 0") \
        and "Either retrain from the start with kl_weight annealed" not in f.action, f.action
