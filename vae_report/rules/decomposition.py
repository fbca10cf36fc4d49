"""What the total loss is made of, from the data: one sentence the report can stand behind.

For the LDM/RadioDiff loss, total = nll + kl_weight x kl + d_weight x disc_factor x g_loss, where
nll = N x rec / exp(logvar) + N x logvar sums the per-pixel loss over N pixels; for a VQ model the regularizer
is codebook_weight x quant_loss. The terms are taken over the window of the total's current level (the
statistics table's Now; the last ten aligned steps when it holds fewer than three), as means so that they add up;
shares are |term| / sum of |terms|, since a signed sum has no other honest share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import position as pos
from ..numbers import fmt
from ..schedule import Schedule
from .base import Metrics
from .losses import bookkeeping, pixel_count, regularizer

RECENT = 10


@dataclass(frozen=True)
class Term:
    name: str  # as the sentence says it
    value: float
    share: float  # |value| / sum of |values|


@dataclass(frozen=True)
class Decomposition:
    step: int  # the latest step the terms are aligned at
    total: float  # the logged total (median over the same steps)
    terms: tuple[Term, ...]
    averaged: bool  # RadioDiff's TensorBoard total: (AE loss + disc loss) / 2
    points: int  # how many steps the means are over
    legend: str  # what N (and logvar) are
    counts: str = "step"  # what the logs' axis counts (Schedule.counts)
    first: int | None = None  # the first step of the window
    median: float | None = None  # the total's current level (median over the same window), when it is that window

    @property
    def sum(self) -> float:
        return float(sum(t.value for t in self.terms))

    def sentence(self) -> str:
        """The terms, largest first, with their values and shares, and what they add up to."""
        ordered = sorted(self.terms, key=lambda t: -abs(t.value))
        parts = [f"{t.name} {fmt(t.value)} ({_share(t.share)})" for t in ordered]
        what = "the autoencoder loss" if self.averaged else "total_loss"
        where = pos.span(self.counts, self.first, self.step) if self.first is not None and self.first < self.step \
            else pos.at(self.counts, self.step)
        window = "the window of its current level, " if self.median is not None else ""
        text = (f"Over {where} ({window}{fmt(self.points)} logged points with every term), "
                f"{what} averages {fmt(self.sum)} = " + " + ".join(parts) + f", {self.legend}")
        if self.median is not None and not self.averaged:
            text += f" (means, so that the terms add up; the median there, the table's Now, is {fmt(self.median)})"
        if self.averaged:
            text += (f"; the logged total_loss ({fmt(self.total)}) is RadioDiff's TensorBoard total, the mean of "
                     "that and the discriminator loss")
        first, second = (ordered + [None])[:2]
        if second is not None and first.value * second.value < 0 and \
                abs(first.value + second.value) < 0.2 * abs(first.value):
            text += f". The two largest terms, {first.name} and {second.name}, nearly cancel"
        elif first.value < 0 < sum(t.value for t in ordered[1:]):
            text += f". {first.name} is negative and outweighs the rest, so the total is {_sign(self.sum)}"
        elif first.share >= 0.5:
            text += f". {first.name} dominates"
        return text + " (shares are of the sum of the terms' sizes)."


def _share(share: float) -> str:
    return "under 1%" if share < 0.005 else f"{share * 100:.0f}%"


def _sign(value: float) -> str:
    return "negative" if value < 0 else "positive"


def decompose(m: Metrics, s: Schedule) -> Decomposition | None:
    """The latest total split into its terms, or None when the logs lack them."""
    found = bookkeeping(m, s)
    if found is None or not len(found.steps):
        return None
    # the window of the total's current level (the table's Now), so both speak of the same steps; means, not
    # medians, there: a mean of sums is the sum of the means, so the terms add up to what is shown
    level = m.level("total_loss")
    inside = np.flatnonzero(found.steps >= level.first_step) if level is not None else np.zeros(0, dtype=int)
    recent = slice(int(inside[0]), None) if len(inside) >= 3 else slice(-min(RECENT, len(found.steps)), None)
    first = int(found.steps[recent][0])
    reg_name, weight = regularizer(s)
    weight_name = "codebook_weight" if reg_name == "quant_loss" else "kl_weight"
    pixels = pixel_count(found.pixels)
    legend = f"with N = {fmt(pixels)} pixels per sample" if found.pixels > 1.5 else "nll being the per-pixel mean"
    values: list[tuple[str, float]] = []
    nll = float(np.mean(found.terms["nll"][recent]))
    logvar = _latest_logvar(m, found.steps[recent])
    if logvar and found.pixels > 1.5:
        part = found.pixels * logvar
        values += [("N x rec / exp(logvar)", nll - part), ("N x logvar", part)]
        legend += f" and logvar {fmt(logvar)}"
    else:
        values.append(("nll (N x rec)" if found.pixels > 1.5 else "nll", nll))
    values.append((f"{weight_name} x {reg_name}", float(np.mean(found.terms["regularizer"][recent]))))
    if np.any(found.terms["adversarial"][recent] != 0):
        values.append(("d_weight x disc_factor x g_loss", float(np.mean(found.terms["adversarial"][recent]))))
    size = sum(abs(v) for _, v in values) or 1.0
    terms = tuple(Term(name, value, abs(value) / size) for name, value in values)
    points = len(found.steps[recent])
    now = level.value if level is not None and len(inside) >= 3 else None
    return Decomposition(int(found.steps[-1]), float(np.mean(found.total[recent])), terms, found.averaged, points,
                         legend, s.counts, first, now)


def _latest_logvar(m: Metrics, steps: np.ndarray) -> float:
    if not m.has("logvar"):
        return 0.0
    idx = np.searchsorted(m.steps("logvar"), steps).clip(0, len(m.steps("logvar")) - 1)
    return float(np.mean(m.values("logvar")[idx]))


def regularizer_share(m: Metrics, s: Schedule) -> tuple[str, float] | None:
    """The regularizer's metric (kl_loss, or quant_loss for VQ) and its weighted term's share of the latest
    total, as the decomposition gives it; None when the logs lack the terms."""
    found = decompose(m, s)
    name, _ = regularizer(s)
    term = next((t for t in found.terms if t.name.endswith(f" x {name}")), None) if found is not None else None
    return (name, term.share) if term is not None and np.isfinite(term.share) else None
