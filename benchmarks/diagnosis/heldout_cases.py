"""The battery's runs of the tenth held-out evaluation's classes (writers in heldout.py)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import cases as c
from .cases import Case
from .curves import Shape
from .expect import Expect, Fault
from .published_cases import other_trainer as _other


def kl_straight_climb(to: float) -> Callable:
    """KL climbing in a straight line to ``to``, no flattening (a healthy KL rises fast, then settles)."""
    def edit(steps, v, shape):
        v["kl_loss"] = v["kl_loss"][0] + (to - v["kl_loss"][0]) * steps / shape.last_step
    return edit


def kl_runaway_from_start(factor: float) -> Callable:
    """KL compounding from the first step to ``factor`` times its start, reconstruction improving all along."""
    def edit(steps, v, shape):
        v["kl_loss"] = v["kl_loss"][0] * np.exp(np.log(factor) * steps / shape.last_step)
    return edit


def heldout_healthy() -> list[Case]:
    ok = Expect("ok")
    return [
        Case("healthy_jsonl_epoch_repeated", "JSON lines, the epoch on every record and no counter: records counted",
             "jsonl_epoch_repeated", _other(last_step=9_950, every=50, seed=201), ok),
        Case("healthy_jsonl_total_iters", "JSON lines, epoch, per-epoch batch and a global total_iters",
             "jsonl_total_iters", _other(last_step=9_950, every=50, seed=202), ok),
        Case("healthy_console_thousands_table", "'step 1,234 | total 2,674.1 | kl 1.29e+05' console table",
             "console_thousands_table", _other(last_step=9_950, every=50, pixels=65_536, kl_weight=1e-6, seed=203),
             ok),
        Case("healthy_console_german", "logging lines in a German locale: step 50.100, total_loss: 8.472,65",
             "console_german", _other(last_step=9_950, every=50, pixels=65_536, kl_weight=1e-6, seed=209), ok),
        Case("healthy_console_tabs", "a console table of tab-cut 'key value' fields", "console_tabs",
             _other(last_step=9_950, every=50, seed=210), ok),
        Case("healthy_jsonl_nested_counter", "JSON lines with the step nested under 'train' beside the epoch",
             "jsonl_nested_counter", _other(last_step=9_950, every=50, seed=211), ok),
        Case("healthy_csv_one_ahead", "trainer CSV counted from 1: disc_start's row still off, the next on",
             "csv_one_ahead", Shape(last_step=16_000, total_steps=20_000, disc_start=10_001, every=10, seed=204),
             ok),
    ]


def heldout_faults() -> list[Case]:
    out = []
    s = _other(last_step=9_950, every=50, seed=205)
    # counted by record: the rise at step 9,000 is record 180
    out.append(Case("jsonl_epoch_repeated_explodes", "JSON lines, epoch repeated, no counter: rec exploding from 90%",
                    "jsonl_epoch_repeated", s,
                    Expect("error", (Fault(("rec_loss", "total_loss"), 180, 10, ("loss-now",)),)),
                    c.explode("rec_loss", 9_000, 100)))
    s = _other(last_step=9_950, every=50, pixels=65_536, kl_weight=1e-6, seed=206)
    out.append(Case("console_thousands_table_explodes", "console table with {:,.1f} values: rec exploding from 90%",
                    "console_thousands_table", s,
                    Expect("error", (Fault(("rec_loss", "total_loss", "nll_loss"), 9_000, c.tol(s), ("loss-now",)),)),
                    c.explode("rec_loss", 9_000, 100)))
    s = _other(last_step=9_950, every=50, pixels=65_536, kl_weight=1e-6, seed=212)
    out.append(Case("console_german_explodes", "German-locale console lines: rec exploding from 90%", "console_german",
                    s, Expect("error", (Fault(("rec_loss", "total_loss"), 9_000, c.tol(s), ("loss-now",)),)),
                    c.explode("rec_loss", 9_000, 100)))
    s = Shape(last_step=40_000, total_steps=60_000, disc_start=50_001, every=100, seed=207)
    out.append(Case("kl_straight_climb_unusual_level", "KL climbing in a straight line to ~49 nats per latent "
                    "dimension, still climbing: no sign of settling", "trainer_csv", s,
                    Expect("warning", (Fault(("kl_loss",), None, 0, ("kl-rising",)),)), kl_straight_climb(600_000)))
    s = Shape(last_step=40_000, total_steps=60_000, disc_start=50_001, every=100, seed=208)
    out.append(Case("kl_runaway_from_first_step", "KL compounding x300 from the first step, rec improving",
                    "trainer_csv", s, Expect("warning", (Fault(("kl_loss",), 0, c.tol(s), ("kl-rising",)),)),
                    kl_runaway_from_start(300)))
    return out
