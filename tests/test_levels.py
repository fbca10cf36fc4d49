"""One current level per metric (vae_report.levels): every rule, table and sentence quotes the same "now" of a
metric, words follow its noise, and the window never straddles the discriminator's switch-on."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

import vae_report  # noqa: E402
from benchmarks.diagnosis.catalog import all_cases  # noqa: E402
from benchmarks.diagnosis.run import ensure  # noqa: E402
from vae_report import render  # noqa: E402
from vae_report.levels import current_level, movement  # noqa: E402
from vae_report.numbers import describe_change, fmt  # noqa: E402

# the findings' numbers that quote a metric's level now, by rule
NOW_KEYS = {"rec-after-disc": "recent_level", "loss-now": "latest", "rec-trend": "end_level",
            "total-trend": "end_level", "kl-rising": "kl_end", "val-overfitting": "val_latest"}
RUNS = ("rec_worse_after_disc", "explodes_after_disc_start", "kl_explodes_long_ago", "healthy_ldm_with_validation",
        "val_overfitting")


@pytest.fixture(scope="module")
def analyses(tmp_path_factory) -> dict:
    cache = tmp_path_factory.mktemp("levels")
    cases = {c.name: c for c in all_cases()}
    return {name: vae_report.analyze_run(ensure(cases[name], cache)) for name in RUNS}


@pytest.mark.parametrize("run", RUNS)
def test_every_rule_and_the_table_quote_one_current_level(analyses, run) -> None:
    a = analyses[run]
    quoted = 0
    # headlines and the findings cited under them (their numbers are in the JSON too)
    for f in [x for h in a.active_findings() for x in (h.to_dict(), *h.related)]:
        key = NOW_KEYS.get(f["rule"])
        if key is None or f["metric"] not in a.metrics or key not in f["numbers"]:
            continue
        if f["rule"].endswith("-trend") and f["numbers"].get("from_step", 0) < (a.schedule.switch_step or 0) \
                and a.phase == "adversarial" and f["step"] is not None and f["step"] < a.step:
            continue  # a trend over the phase before: not "now"
        assert f["numbers"][key] == pytest.approx(a.metrics[f["metric"]].recent_median, rel=1e-9), f["message"]
        quoted += 1
    if run != "healthy_ldm_with_validation":
        assert quoted, "no rule quoted a current level"
    table = render.render_markdown(a).split("## Training statistics")[1]
    for name, st in a.metrics.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| {name} |"))
        assert f"| {fmt(st.recent_median)} ± " in row or f"| {fmt(st.recent_median)} |" in row, row


def test_two_single_points_give_no_percentage_for_a_move_within_their_noise() -> None:
    # review8 class 3: a short run's levels are single points (levels.SPARSE); 0.124 -> 0.198 within their noise
    # was printed as "+59.5%" while the medians of the two stretches moved -5%: no percentage from two points
    text = describe_change(0.124, 0.198, noise=0.062, points=1)
    assert "%" not in text and "single points" in text and text.endswith("so no clear rise"), text
    # medians (or a move beyond the noise) keep their percentage
    assert "(+59.7%)" in describe_change(0.124, 0.198, noise=0.062, points=5)
    assert "(+59.7%)" in describe_change(0.124, 0.198, noise=0.001, points=1)


def test_held_never_describes_a_move_beyond_the_readme_threshold() -> None:
    # +20% inside a wide noise is neither "held near" nor "rose": it went there, and its noise could do that alone
    text = describe_change(0.100, 0.120, noise=0.02)
    # the ± is the band the two levels' noise allows, said so: not the ± of either level (the table's Now)
    assert text.startswith("went from 0.1 to 0.12 (+20.0%), a change within its noise (the two levels' noise allows "
                           "± ") and "no clear rise" in text
    assert describe_change(0.120, 0.100, noise=0.02).endswith("no clear fall")
    assert describe_change(0.100, 0.102, noise=0.02).startswith("held")
    assert describe_change(0.100, 0.125, noise=0.001).startswith("rose") and "within" not in describe_change(
        0.100, 0.125, noise=0.001)
    assert movement(-900.0, -1600.0, noise=1.0, signed=True).word == "fell"
    # a signed quantity (a total the GAN term once took below 0) quotes no percentage, yet +28% is no "held"
    text = describe_change(0.183, 0.234, noise=1.0, signed=True)
    assert text.startswith("went from 0.183 to 0.234, a change within its noise") and "no clear rise" in text
    assert movement(0.01, -0.01, noise=1.0, signed=True).word == "fell"  # across 0: never "held"
    assert movement(-0.500, -0.510, noise=0.1, signed=True).word == "held"
    assert movement(0.5, 0.5).word == "held"


def test_a_sparse_metric_is_its_last_point_and_a_dense_one_a_median_inside_the_phase() -> None:
    rng = np.random.default_rng(0)
    val_steps = np.arange(500, 5_001, 500)
    val = np.array([12.7, 13.0, 13.5, 14.2, 15.0, 16.1, 17.5, 12.0, 10.1, 8.5])
    level = current_level(val_steps, val)
    assert level.value == 8.5 and level.points == 1 and level.noise > 0
    steps = np.arange(0, 10_000, 10)
    rec = np.where(steps >= 9_000, 0.08, 0.03) + 0.001 * rng.standard_normal(len(steps))
    level = current_level(steps, rec, since=9_000)
    assert level.first_step >= 9_000 and abs(level.value - 0.08) < 0.002 and level.points == 5
    # a phase of three points: their median, never a window reaching back over the switch-on
    level = current_level(steps, rec, since=9_970)
    assert level.first_step >= 9_970 and abs(level.value - 0.08) < 0.005


def test_the_noise_of_a_wandering_level_counts_its_wander() -> None:
    rng = np.random.default_rng(1)
    steps = np.arange(4_000)
    wander = np.repeat(0.03 * rng.standard_normal(40), 100)  # a level that moves in blocks (the GAN balance)
    values = 0.2 + wander + 0.002 * rng.standard_normal(len(steps))
    level = current_level(steps, values)
    point_only = 1.2533 * 0.002 / np.sqrt(level.points)
    assert level.noise > 3 * point_only


def test_a_near_total_fall_is_a_factor_and_image_scores_change_by_differences(tmp_path):
    from writers import write_scalars

    from vae_report import analyze_run
    from vae_report.numbers import describe_change, signed_pct

    # -100.0% would say the KL reached 0; a fall to 1/3,825 of it is said as that factor
    assert describe_change(44_678.0, 11.68) == "fell from 44,678 to 11.68 (÷3,825)"
    assert signed_pct(-0.5) == "-50.0%" and signed_pct(-1.0) == "-100.0%"
    # PSNR in dB and SSIM are scores: their change is a difference, never "+37.6%" of decibels
    rows = [(s, "val/psnr", 18.0 + 6 * s / 9_900) for s in range(0, 10_000, 100)]
    rows += [(s, "val/ssim", 0.05 + 0.43 * s / 9_900) for s in range(0, 10_000, 100)]
    rows += [(s, "train/rec_loss", 0.1 / (1 + s / 1000)) for s in range(0, 10_000, 10)]
    write_scalars(tmp_path, rows)
    metrics = analyze_run(tmp_path).metrics
    for name in ("val/psnr", "val/ssim"):
        assert metrics[name].level_change()["change_fraction"] is None
        assert "%" not in metrics[name].describe(), metrics[name].describe()


def test_the_bend_of_a_steep_trend_is_not_counted_as_noise() -> None:
    """A loss logged per epoch, still falling steeply before the switch (0.33 -> 0.05 over 50 epochs), then
    falling on to 0.039: the level just before the switch has the noise of its points, not the spread of the
    trend's window medians, so a -24% fall is a fall (was: +-0.03, 25 x the table's noise: "no clear fall")."""
    from vae_report.levels import difference_noise, start_level

    rng = np.random.default_rng(7)
    epochs = np.arange(100)
    rec = np.where(epochs < 50, 0.05 + 0.28 * np.exp(-epochs / 8.0), 0.052 - 0.013 * (epochs - 50) / 49)
    rec = rec + 0.0025 * rng.standard_normal(len(epochs))
    before = current_level(epochs[:50], rec[:50])
    now = current_level(epochs, rec, since=50)
    start = start_level(epochs, rec, until=50)
    point_only = 1.2533 * 0.0025 / np.sqrt(before.points)
    assert before.noise < 3 * point_only and start.noise < 0.05  # the start's own bend is no noise either
    moved = movement(before.value, now.value, difference_noise(before, now))
    assert moved.word == "fell" and moved.beyond_noise


def test_a_negative_level_s_change_is_a_difference_as_the_statistics_table_gives_it():
    """eval13 a4_logvar_drift_*: a total made negative by a learned logvar 'fell from -41,177 to -46,346 (-12.6%)'
    in a finding while the statistics table said -5,169: a percentage of a negative level reads backwards."""
    from vae_report.numbers import describe_change

    assert describe_change(-41_177, -46_346) == "fell from -41,177 to -46,346 (-5,169)"
    assert describe_change(-46_346, -41_177) == "rose from -46,346 to -41,177 (+5,169)"
    assert "%" not in describe_change(0.5, -3.0) and describe_change(0.1, 0.12).endswith("(+20.0%)")
