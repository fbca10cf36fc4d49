"""A loss that ran away under a learning rate far out of range (trust8, class 2): lr 0.5 blew KL up by orders of
magnitude and the run was only a warning. Two orders of magnitude or more under a rate far above the range is a
broken run (error); the same runaway at the usual rate stays kl-rising's warning."""

from __future__ import annotations

from . import cases as c
from .cases import Case
from .curves import Shape
from .expect import Expect, Fault


def lr_runaway() -> list[Case]:
    out = []
    for name, lr, status in (("kl_runaway_under_lr_0p5", 0.5, "error"), ("kl_runaway_at_usual_lr", 5e-6, "warning")):
        s = Shape(last_step=20_000, total_steps=150_000, disc_start=50_001, every=20, seed=131, lr=lr, min_lr=lr / 10)
        kl = Fault(("kl_loss",), None, rules=("kl-rising", "loss-now"), severity=status)
        out.append(Case(name, f"KL x300 from 8,000 of 20,000 steps (its weighted term still light), lr {lr:g}",
                        "trainer_csv", s, Expect(status, (kl,)), fault=c.explode("kl_loss", 8_000, 300.0)))
    return out
