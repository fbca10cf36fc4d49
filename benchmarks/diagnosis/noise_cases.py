"""Healthy runs whose reconstruction is a smooth decay plus white noise (review7, class 1): no level change is
there to find, whatever the scan of a noisy plateau turns up. A level change is a sustained difference of
medians over tens of points, clear of the points' own scatter; these runs must not warn."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .cases import Case
from .curves import Shape
from .expect import Expect, Fault


def white_noise(sd: float, floor: float = 0.03, amplitude: float = 0.5, tau: float = 1_500.0) -> Callable:
    """rec = floor + amplitude exp(-step/tau) + N(0, sd): additive noise, so its share of the level grows as the
    decay flattens (13% of the plateau at sd 0.004), unlike the healthy shape's multiplicative noise."""
    def edit(steps, v, shape):
        rng = np.random.default_rng(shape.seed + 1_000)
        rec = floor + amplitude * np.exp(-steps / tau) + sd * rng.standard_normal(len(steps))
        v["rec_loss"] = np.maximum(rec, floor / 10)
    return edit


def stepped(sd: float, at: int, ratio: float, tau: float = 300.0) -> Callable:
    """The same white noise on a plateau reached early, the whole series times ``ratio`` from ``at`` on: a
    sustained step of a few point noises (+40% at sd 0.004 on 0.03: 3 of them)."""
    noisy = white_noise(sd, tau=tau)

    def edit(steps, v, shape):
        noisy(steps, v, shape)
        v["rec_loss"] = v["rec_loss"] * np.where(steps >= at, ratio, 1.0)
    return edit


def noise_stepped() -> list[Case]:
    """A real step in the same noise (trust8, class 1): +40% held for 15,000 steps, 250 points each side, on a
    plateau of 13% point noise, one point every 60 steps so that each of the scan's bins is one point. The
    medians over the points on each side stand ~14 standard errors apart: a warning, dated at the step."""
    out = []
    for seed, at in ((121, 15_000), (122, 9_000), (123, 21_000)):
        s = Shape(last_step=30_000, total_steps=150_000, disc_start=50_001, every=60, seed=seed)
        step = Fault(("rec_loss", "nll_loss", "total_loss"), at, 600, ("loss-shift",), "warning")
        out.append(Case(f"rec_step_40pct_in_13pct_noise_at{at // 1000}k", f"rec 0.03 + 0.5 exp(-s/300) + N(0, "
                        f"0.004), x1.4 from {at:,} of 30,000 steps logged every 60", "radiodiff", s,
                        Expect("warning", (step,)), fault=stepped(0.004, at, 1.4)))
    return out


def switch_on_young() -> list[Case]:
    """rec +60% from the switch-on in 13% point noise, 15 points on (trust8, class 3): loss-now judges the young
    phase over the whole run, and a noise low before the switch-on dated its rise there; one rise, one headline
    (rec-after-disc's), loss-now cited under it."""
    out = []
    for seed in (141, 143, 149, 150):
        s = Shape(last_step=10_300, total_steps=20_000, disc_start=10_001, every=20, seed=seed)
        rise = Fault(("rec_loss",), 10_001, 60, ("rec-after-disc",), "warning")
        out.append(Case(f"rec_up_at_switch_on_young_noisy_seed{seed}", "rec 0.03 + 0.5 exp(-s/300) + N(0, 0.004), "
                        "x1.6 from the switch-on at 10,001, 15 points on", "radiodiff", s,
                        Expect("warning", (rise,), one_headline=("loss-now", "rec-after-disc", "loss-shift")),
                        fault=stepped(0.004, 10_001, 1.6)))
    return out


def noise_healthy() -> list[Case]:
    ok = Expect("ok")
    radiodiff = dict(total_steps=20_000, disc_start=10_001, every=20)  # RadioDiff's geometry as the review ran it
    out = [Case(f"healthy_white_noise_sd{sd:g}_20k_every20_seed{seed}".replace(".", "p"),
                f"rec 0.03 + 0.5 exp(-s/1500) + N(0, {sd:g}), 20,000 steps logged every 20", "radiodiff",
                Shape(last_step=19_980, seed=seed, **radiodiff), ok, fault=white_noise(sd))
           for sd, seed in ((0.002, 111), (0.004, 112), (0.004, 113), (0.004, 117), (0.006, 114), (0.006, 118))]
    out.append(Case("healthy_white_noise_sd0p004_60k_every50", "the same noise, 60,000 of 150,000 steps logged "
                    "every 50, decaying more slowly", "radiodiff",
                    Shape(last_step=60_000, total_steps=150_000, disc_start=50_001, every=50, seed=115), ok,
                    fault=white_noise(0.004, tau=6_000)))
    out.append(Case("healthy_white_noise_sd0p003_8k_every10", "a short run: 8,000 steps logged every 10",
                    "radiodiff", Shape(last_step=8_000, total_steps=8_000, disc_start=4_001, every=10, seed=116), ok,
                    fault=white_noise(0.003, tau=800)))
    return out
