"""A loss held constant for the whole run: the network behind it never learned.

A term that is optimised moves, if only in its last printed digits; one that reads the same number at every
logged step (a discriminator's BCE at 2 ln 2 = 1.3863 from start to end) is computed but never trained: its
optimizer never steps, its parameters get no gradient, or the loss is taken on detached values. Exactly 0 is
left to the rules that know when a term is switched off (disc-off-before-start, kl-collapse).
"""

from __future__ import annotations

import math

import numpy as np

from .. import position as pos
from ..numbers import fmt
from ..schedule import Schedule
from .base import Case, Metrics
from .said import Said

_GAN_TERMS = {"disc_loss", "g_loss"}
_NOT_LOSSES = {"d_weight", "disc_factor", "logvar", "lr", "lr_disc", "logits_real", "logits_fake"}
# what a discriminator that outputs the same probability 0.5 for every input reads under each formula
_CHANCE = {2 * math.log(2): "2 ln 2, the un-halved BCE of a discriminator that outputs 0.5 for every input",
           math.log(2): "ln 2, the halved BCE of a discriminator that outputs 0.5 for every input"}


def _is_loss(name: str) -> bool:
    return not name.startswith(("val/", "val_ema/")) and name not in _NOT_LOSSES and \
        (name.endswith("loss") or name in {"aeloss", "quant_loss", "p_loss"})


def loss_constant(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    out = []
    for name in m.names():
        if not _is_loss(name):
            continue
        lo = s.disc_start if name in _GAN_TERMS and s.disc_start is not None else None
        steps, values = m.window(name, lo=lo)
        good = np.isfinite(values)
        steps, values = steps[good], values[good]
        if len(values) < t["min_points"]:
            continue
        level = float(np.median(values))
        spread = float(np.ptp(values))
        if level == 0.0 or spread > t["precision"] * abs(level):
            continue
        why = next((f" ({text})" for value, text in _CHANCE.items()
                    if name in _GAN_TERMS | {"discloss"} and abs(level - value) <= 1e-4), "")
        since = "" if lo is None else f" since the discriminator's start at {pos.at(s, lo)}"
        out.append(Case(
            f"{name} is {level:.6g}{why} at all {fmt(len(values))} points from {pos.at(s, int(steps[0]))} to "
            f"{fmt(int(steps[-1]))}{since} ({'exactly' if spread == 0 else f'within {fmt(spread)}'}): a loss "
            "that never changes was never learned.",
            name, int(steps[0]), {"level": level, "spread": spread, "points": int(len(values))},
            # a GAN term frozen is the discriminator not learning: the rule that says so explains it
            case="gan-term-constant" if name in _GAN_TERMS else None,
        ))
    return out


def loss_constant_short(f: Said) -> str | None:
    n = f.n
    if "level" not in n:
        return None
    return f"{f.metric} {fmt(n['level'])} at all {fmt(n.get('points'))} points from {f.at()}"
