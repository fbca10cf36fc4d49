"""A loss that went up for a while within a phase and came back (loss-episode): told with where it began, peaked
and recovered, in the logs' unit, how big, and that it is over; never for healthy noise, a spike, the rise still
going on (loss-now's) or the discriminator's switch-on. Logs written by real writers (tensorboard's event writer,
RadioDiff's logging, Lightning's CSV layout, print)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from writers import (
    PIXELS,
    radiodiff_config,
    radiodiff_curves,
    radiodiff_tb_points,
    write_lightning_metrics_csv,
    write_radiodiff_text_log,
    write_scalars,
)

from vae_report import analyze_run


def _run(root, factor=None, last=60_000, every=100, seed=3, lr_factor=None, text_log=False, disc_start=50_001):
    """A RadioDiff results folder (event file + first_radio.yaml, optionally its text log): rec_loss times
    ``factor(steps)``, nll and the totals recomputed as the loss computes them."""
    curves = radiodiff_curves(last, seed=seed, every=every, disc_start=disc_start)
    v = curves.values
    if factor is not None:
        v["rec_loss"] = v["rec_loss"] * factor(curves.steps)
    if lr_factor is not None:
        v["lr"] = v["lr"] * lr_factor(curves.steps)
    v["nll_loss"] = PIXELS * v["rec_loss"]
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"] + v["d_weight"] * v["disc_factor"] * v["g_loss"]
    config = radiodiff_config(disc_start=disc_start)
    if text_log:
        write_radiodiff_text_log(root, curves, config, 150_000, log_freq=every)
    else:
        write_scalars(root, radiodiff_tb_points(curves))
    (root / "first_radio.yaml").write_text(yaml.safe_dump(config))
    return analyze_run(root)


def _bump(onset, peak, back, size, after=0.97):
    return lambda steps: np.interp(steps, [onset, peak, back], [1.0, size, after])


def _episodes(analysis):
    return [f for f in analysis.findings if f.rule == "loss-episode" and not f.skipped and f.case != "none"]


def _checked_none(analysis) -> list[str]:
    """The losses the rule checked and found no episode in (its ok case), [] when it has no such case."""
    return next((f.numbers["checked"] for f in analysis.findings if f.rule == "loss-episode" and f.case == "none"
                 and f.severity == "ok"), [])


def test_a_rise_before_disc_start_that_recovered_is_told_where_how_big_and_over(tmp_path):
    """The issue's run: disc_start 50,001, rec +40% from 20,000 to 30,000, back below by 45,000, now at 60,000."""
    a = _run(tmp_path, _bump(20_000, 30_000, 45_000, 1.4))
    (f,) = _episodes(a)
    n = f.numbers
    assert f.severity == "info" and a.status == "ok" and f.metric == "rec_loss"
    assert abs(f.step - 20_000) <= 1_500 and 25_000 <= n["peak_step"] <= 31_000 and n["recovered_step"] <= 45_000
    assert 0.25 <= n["rise"] <= 0.5 and n["phase"] == "before discriminator"
    assert n["moved_with"] == ["total_loss"]  # one episode, told on rec
    assert n["level_now"] == pytest.approx(a.metrics["rec_loss"].now)  # the one current level
    assert f"from step {f.step:,}" in f.message and "before the discriminator started" in f.message
    assert f"{n['recovered_step']:,}" in f.message and "it was back to" in f.message
    # the current state is still judged fine, and nothing contradicts the episode
    now = next(x for x in a.findings if x.rule == "loss-now")
    assert now.severity == "ok"


def test_the_text_log_tells_it_once_with_nll_and_total_beside(tmp_path):
    a = _run(tmp_path, _bump(20_000, 30_000, 45_000, 1.5), text_log=True)
    (f,) = _episodes(a)
    assert f.metric == "rec_loss" and set(f.numbers["moved_with"]) == {"nll_loss", "total_loss"}
    assert "learning rate went" not in f.message  # printed with 5 decimals: no jump to speak of


@pytest.mark.parametrize("seed", [0, 1, 2, 5, 9])
def test_healthy_noisy_runs_have_no_episode(tmp_path, seed):
    a = _run(tmp_path, seed=seed)
    assert _episodes(a) == [] and a.status == "ok"
    assert "rec_loss" in _checked_none(a)  # looked at, and said so


def test_a_spike_is_the_spikes_rule_not_an_episode(tmp_path):
    spike = lambda steps: np.where((steps >= 25_000) & (steps <= 25_200), 3.0, 1.0)  # noqa: E731  3 points
    a = _run(tmp_path, spike)
    assert _episodes(a) == [] and "rec_loss" in _checked_none(a)
    assert any(f.rule == "spikes" and f.metric == "rec_loss" for f in a.findings)


def test_a_rise_still_going_is_loss_nows_not_an_episode(tmp_path):
    rising = lambda steps: np.interp(steps, [0, 52_000, 60_000], [1.0, 1.0, 2.5])  # noqa: E731
    a = _run(tmp_path, rising)
    assert _episodes(a) == [] and "rec_loss" in _checked_none(a)
    assert any(f.rule == "loss-now" and f.severity in ("warning", "error") for f in a.findings)


def test_the_switch_on_jump_that_settles_is_not_an_episode(tmp_path):
    switch = lambda steps: np.interp(steps, [50_000, 50_300, 53_000], [1.0, 1.5, 1.0])  # noqa: E731
    a = _run(tmp_path, switch)
    assert _episodes(a) == [] and "rec_loss" in _checked_none(a)


def test_an_episode_in_the_adversarial_phase_large_and_just_over_is_a_warning(tmp_path):
    a = _run(tmp_path, _bump(53_000, 55_000, 57_000, 2.5, after=1.0))
    (f,) = _episodes(a)
    assert f.severity == "warning" and a.status == "warning" and abs(f.step - 53_000) <= 1_000
    assert f.numbers["phase"] == "adversarial" and "can come again" in f.message
    # the same episode long over, in a run gone on for long after it, is only info
    older = _run(tmp_path / "later", _bump(53_000, 55_000, 57_000, 2.5, after=1.0), last=100_000)
    (g,) = _episodes(older)
    assert g.severity == "info" and "Nothing to do now" in g.message


def test_an_lr_spike_is_named_as_the_likely_cause(tmp_path):
    lr = lambda steps: np.where((steps >= 20_000) & (steps < 23_000), 10.0, 1.0)  # noqa: E731
    curves = radiodiff_curves(40_000, seed=4, disc_start=50_001)
    v = curves.values
    v["lr"] = v["lr"] * lr(curves.steps)
    v["rec_loss"] = v["rec_loss"] * _bump(20_000, 23_000, 30_000, 1.8)(curves.steps)
    v["nll_loss"] = PIXELS * v["rec_loss"]
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"]
    write_lightning_metrics_csv(tmp_path / "lightning_logs" / "version_0" / "metrics.csv", curves, every=10)
    a = analyze_run(tmp_path, disc_start=50_001, total_steps=150_000)
    (f,) = _episodes(a)
    assert f.metric == "rec_loss" and abs(f.step - 20_000) <= 1_000
    assert "The learning rate went from" in f.message and "a likely cause" in f.message


def _epoch_log(path, bump):
    """A plain loop printing once per epoch: rec falls, goes up for a while and comes back (``bump``)."""
    rng = np.random.default_rng(11)
    with path.open("w") as out:
        print("Building model ...", file=out)
        for e in range(1, 151):
            rec = (0.04 + 0.4 / (1 + e / 5)) * bump(e) * np.exp(0.03 * rng.standard_normal())
            print(f"Epoch [{e}/200], Total Loss: {rec + 0.02:.5f}, Recon: {rec:.5f}, KL: {2 + e / 100:.3f}",
                  file=out)


def test_an_episode_in_an_epoch_counted_log_is_told_in_epochs(tmp_path):
    _epoch_log(tmp_path / "train.log", lambda e: np.interp(e, [60, 75, 100], [1.0, 1.5, 0.97]))
    a = analyze_run(tmp_path)
    (f,) = _episodes(a)
    assert a.schedule.counts == "epoch" and abs(f.step - 60) <= 5
    assert f"from epoch {f.step}" in f.message and "step" not in f.message
    healthy = tmp_path / "healthy"
    healthy.mkdir()
    _epoch_log(healthy / "train.log", lambda e: 1.0)
    calm = analyze_run(healthy)
    assert _episodes(calm) == [] and "rec_loss" in _checked_none(calm)


def test_a_rise_that_began_at_a_nan_is_the_non_finite_findings(tmp_path):
    """One NaN step, then rec 60% up for a while and back: the NaN's finding tells it, this rule says it left it."""
    nan_then = lambda steps: np.where(steps == 25_000, np.nan, np.interp(  # noqa: E731
        steps, [25_000, 25_100, 30_000, 36_000], [1.0, 1.6, 1.6, 1.0]))
    a = _run(tmp_path, nan_then)
    assert _episodes(a) == [] and any(f.rule == "non-finite" for f in a.findings)
    (none,) = [f for f in a.findings if f.rule == "loss-episode"]
    assert "rec_loss" in none.numbers["left_to_other_findings"]["at a NaN/Inf point"]
    assert "apart from rises other findings tell (rec_loss" in none.message


def test_kl_growing_by_design_is_no_episode_but_a_kl_that_tripled_and_came_back_is(tmp_path):
    """KL rises from 17,000 to ~130,000 under kl_weight 1e-6 (its growth, never an episode); x3 from 30,000 to
    33,000 and back by 38,000 is one, told on kl_loss, apart from rec."""
    curves = radiodiff_curves(48_000, seed=6, every=50)
    curves.values["kl_loss"] = curves.values["kl_loss"] * np.interp(curves.steps, [30_000, 33_000, 38_000],
                                                                      [1.0, 3.0, 1.0])
    write_scalars(tmp_path, radiodiff_tb_points(curves))
    (tmp_path / "first_radio.yaml").write_text(yaml.safe_dump(radiodiff_config()))
    a = analyze_run(tmp_path)
    (f,) = _episodes(a)
    assert f.metric == "kl_loss" and f.severity == "info" and abs(f.step - 30_000) <= 1_500
    assert 1.5 <= f.numbers["rise"] <= 2.2 and 32_000 <= f.numbers["peak_step"] <= 34_000
    calm = tmp_path / "calm"
    calm.mkdir()
    write_scalars(calm, radiodiff_tb_points(radiodiff_curves(48_000, seed=6, every=50)))
    (calm / "first_radio.yaml").write_text(yaml.safe_dump(radiodiff_config()))
    assert "kl_loss" in _checked_none(analyze_run(calm))


def test_an_episode_it_came_only_most_of_the_way_back_from_says_so(tmp_path):
    """rec x3 from 20,000 to 24,000, back to 1.25 times its level by 30,000 and held there: not "over"."""
    a = _run(tmp_path, lambda steps: np.interp(steps, [20_000, 24_000, 30_000], [1.0, 3.0, 1.25]), last=45_000)
    (f,) = _episodes(a)
    assert f.metric == "rec_loss" and abs(f.step - 20_000) <= 1_500
    assert "most of the way back" in f.message and "still" in f.message and "has not made up" in f.message
    assert "that is over" not in f.message
