"""What the total loss is made of, from the data: one sentence the report can stand behind.

For the LDM/RadioDiff loss, total = nll + kl_weight x kl + d_weight x disc_factor x g_loss, where
nll = N x rec / exp(logvar) + N x logvar sums the per-pixel loss over N pixels; for a VQ model the regularizer
is codebook_weight x quant_loss. The terms are taken over the window of the total's current level (the
statistics table's Now; the last ten aligned steps when it holds fewer than three), as means so that they add up.

A term's share is the one every sentence quotes (the breakdown, gan-term-dominant, kl-rising, kl-dominant):
|term| / the loss's size, the sum of the terms' absolute values, with nll counted as one term (its two parts under a
learned logvar nearly cancel, and counting them apart would shrink every other share); when no term is negative
that size is the total itself. A term "dominates" only from two thirds of that size on.

Each term's mean carries its noise (twice its standard error over the window). A share is said as a number only
when the term is clear of its noise and the loss's size is known to a quarter (the other terms' noise moving it
less); otherwise as the range the noise allows, or as "cannot be judged" for a term whose mean is within its noise
(a GAN term that changes sign over five points is no share of anything).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import position as pos
from ..numbers import counted, fmt, pct
from ..schedule import Schedule
from .base import Metrics
from .bookkeeping import MIN_PIXELS, bookkeeping, pixel_count, regularizer

DOMINANT = 2 / 3  # a term "dominates" the loss from this share of its size on
ALIKE = 0.2  # two terms whose shares differ by at most this are "about as large as each other"
RECENT = 10
KNOWN = 1.25  # a share is said as one number when the noise allows at most this ratio between its bounds


def share_text(share: float) -> str:
    """A share as a percentage with as many digits as it needs to be more than 0 (0.00012 -> 0.012%): the one
    way every sentence prints a term's share."""
    if not np.isfinite(share):  # a term that overflowed (a kl_weight of 1e308): no share to speak of
        return "share unknown: a term overflowed"
    if share < 1e-6:
        return "less than 0.0001%"
    if 0.999 < share < 1:  # not "100.0%" of a sum the term is not all of
        return "over 99.9%"
    digits = 1 if share >= 0.001 else min(6, 1 - int(np.floor(np.log10(max(share, 1e-12)))) - 2)
    return pct(share, max(1, digits))


def share_range(share: float, low: float, high: float) -> str:
    """A share with the range the terms' noise leaves it: the number a reader asks for, then its uncertainty
    ("1.9% (1.2% to 2.6%)"), the one way every sentence prints a share that is not exact; the breakdown of
    total_loss says once what the range is."""
    said, lo, hi = share_text(share), share_text(low), share_text(high)
    if lo == said:  # "less than 0.0001% (less than 0.0001% to ...)" says its bound twice
        return f"{said} (up to {hi})"
    return f"{said} ({lo} to {hi})"


def share_of(value: Any) -> str:
    """A share (or a (share, low, high) range of one) as the report prints it."""
    if isinstance(value, (list, tuple)) and len(value) == 3:
        return share_range(*value)
    return share_text(value)


@dataclass(frozen=True)
class Term:
    name: str  # as the sentence says it
    value: float
    share: float  # |value| / sum of |values| (the loss's size)
    kind: str = ""  # "nll", "regularizer" or "adversarial"
    parts: tuple[tuple[str, float], ...] = ()  # nll's two parts under a learned logvar
    noise: float = 0.0  # twice the standard error of the mean over the window (0 with fewer than 3 points)
    changes_sign: bool = False  # its per-step values are positive at some steps and negative at others
    low: float = 0.0  # the share's bounds under every term's noise
    high: float = 1.0

    @property
    def clear(self) -> bool:
        """Is the term's mean clear of its noise (farther from 0 than twice its standard error)?"""
        return abs(self.value) > self.noise

    @property
    def known(self) -> bool:
        """Can the share be said as one number: the term clear of its noise, the bounds within KNOWN?"""
        return self.clear and self.low > 0 and self.high <= KNOWN * self.low

    @property
    def judged(self) -> bool:
        """Does the noise leave the share a number or a range worth saying (bounds within a factor of 10)?"""
        return self.clear and self.low > 0 and self.high <= 10 * self.low

    def share_said(self) -> str:
        """The share as the noise allows it: "94.8%", "0.069% (0.0086% to 0.55%)", or that it cannot be
        judged."""
        if not np.isfinite(self.share) or self.known:
            return share_text(self.share)
        if self.judged:
            return share_range(self.share, self.low, self.high)
        if self.clear:
            return "share not judged: other terms are within their noise"
        return f"± {fmt(_rounded(self.noise))}: within its noise, no share"


@dataclass(frozen=True)
class Decomposition:
    step: int  # the latest step the terms are aligned at
    total: float  # the logged total (its mean over the same steps)
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

    @property
    def size(self) -> float:
        """The loss's size: the sum of the terms' absolute values, what every share is of."""
        return float(sum(abs(t.value) for t in self.terms))

    @property
    def unexplained(self) -> bool:
        """The logged total's mean is more than 0.1% off the sum of its logged terms' means."""
        return bool(np.isfinite(self.total)) and abs(self.total - self.sum) > 1e-3 * max(abs(self.total), self.size)

    def term(self, kind: str) -> Term | None:
        return next((t for t in self.terms if t.kind == kind), None)

    @property
    def noisy(self) -> tuple[Term, ...]:
        """The terms whose means are within their noise over the window."""
        return tuple(t for t in self.terms if not t.clear)

    def of_size(self, term: Term) -> str:
        """A term's share as every rule sentence says it: "94.8% of the loss's size, 7.036 (...)", the range the
        terms' noise allows ("0.0086% to 0.55% of ..."), or that the noise leaves it unjudged and why."""
        if not term.judged and np.isfinite(term.share):
            noisy = [t.name for t in self.noisy if t is not term]
            return (f"its share of the loss cannot be judged over {self.window()}: "
                    + (f"{' and '.join(noisy)} {'is' if len(noisy) == 1 else 'are'} within "
                       f"{'its' if len(noisy) == 1 else 'their'} noise there (see the breakdown of total_loss)"
                       if noisy else "its own mean is within its noise there"))
        return (f"{term.share_said()} of the loss's size, {fmt(self.size)} (the sum of its terms' absolute values "
                f"over {self.window()}, with nll counted as one term: the breakdown of total_loss)")

    def unjudged(self) -> str:
        """Why the shares cannot all be judged (terms within their noise), with nll's cancelling parts as the reason
        the other terms look large; "" when every term is clear of its noise."""
        if not self.noisy:
            return ""
        said = []
        for t in self.noisy:
            how = "changes sign" if t.changes_sign else "swings more than its mean"
            said.append(f"{t.name} averages {fmt(_rounded(t.value, t.noise))} ± {fmt(_rounded(t.noise))} and {how}")
        text = (f"Over {self.window()} ({counted(self.points, 'point')}) " + ", and ".join(said)
                + " (± twice the standard error of the mean), so "
                + ("its share" if len(said) == 1 else "their shares") + " cannot be judged from them (the other "
                "terms' shares are given as far as that noise, moving the loss's size, leaves them known)")
        return text + self._cancel_reason()

    def _cancel_reason(self) -> str:
        nll = self.term("nll")
        if nll is None or len(nll.parts) != 2 or abs(nll.value) >= 0.2 * max(abs(v) for _, v in nll.parts):
            return ""
        (_, a), (_, b) = nll.parts
        return (f". nll is small only because its two parts under the learned logvar nearly cancel ({fmt(a)} "
                f"against {fmt(b)}): that is why the other terms look large beside it")

    def window(self) -> str:
        """The steps the means are over, as the sentence names them."""
        return pos.span(self.counts, self.first, self.step) if self.first is not None and self.first < self.step \
            else pos.at(self.counts, self.step)

    def sentence(self) -> str:
        """The terms, largest first, with their values and shares, and what they add up to."""
        ordered = sorted(self.terms, key=lambda t: -abs(t.value))
        parts = [f"{t.name} {fmt(t.value)} ({t.share_said()}" + (
            "; " + " + ".join(f"{n} {fmt(v)}" for n, v in t.parts) + ")" if t.parts else ")") for t in ordered]
        what = "the autoencoder loss" if self.averaged else "total_loss"
        window = "the latest stretch, where the table's Now is taken; " if self.median is not None else ""
        if self.averaged or not self.unexplained:
            text = (f"Over {self.window()} ({window}{fmt(self.points)} logged points with every term), "
                    f"{what} averages {fmt(self.sum)} = " + " + ".join(parts) + f", {self.legend}")
        else:  # the logged total is not the sum of the logged terms: both said, and what is in neither
            rest = self.total - self.sum
            text = (f"Over {self.window()} ({window}{fmt(self.points)} logged points with every term), "
                    f"{what} averages {fmt(self.total)}, while its logged terms add up to {fmt(self.sum)} = "
                    + " + ".join(parts) + f", {self.legend}; the other {fmt(rest)} ({pct(abs(rest) / abs(self.total))}"
                    " of the logged total) is in no logged term (see loss-bookkeeping)")
        if self.median is not None and not self.averaged:
            text += (f" (these are means{'' if self.unexplained else ', so that the terms add up'}; the table's Now "
                     f"is the median over the same steps, {fmt(self.median)})")
        if self.averaged:
            text += (f"; the logged total_loss ({fmt(self.total)}) is RadioDiff's TensorBoard total, the mean of "
                     "that and the discriminator loss")
        if self.noisy:  # no comparison of sizes the noise does not support
            return text + ". " + self.unjudged() + "."
        text += self._cancel_reason()
        first, second = (ordered + [None])[:2]
        if second is not None and first.value * second.value < 0 and \
                abs(first.value + second.value) < 0.2 * abs(first.value):
            text += f". The two largest terms, {first.name} and {second.name}, nearly cancel"
        elif first.value < 0 < sum(t.value for t in ordered[1:]):
            text += f". {first.name} is negative and outweighs the rest, so the total is {_sign(self.sum)}"
        elif first.low >= DOMINANT:
            text += f". {first.name} dominates: two thirds of the loss's size or more"
        elif second is not None and first.known and second.known and first.share - second.share <= ALIKE:
            text += f". {first.name} and {second.name} are about as large as each other"
        ranged = any(t.judged and not t.known and np.isfinite(t.share) for t in self.terms)
        return text + (f". Shares are of the loss's size, {fmt(self.size)}: the sum of its terms' absolute values, "
                       "with nll counted as one term" + ("; a range after a share is what the terms' noise allows it"
                                                         if ranged else "") + ".")


def _sign(value: float) -> str:
    return "negative" if value < 0 else "positive"


def _rounded(value: float, noise: float | None = None) -> float:
    """``value`` to the digits ``noise`` leaves it (the noise itself to two significant figures): 6.673 ± 16
    reads 7 ± 16, never 6.673."""
    scale = abs(noise if noise is not None else value)
    if not np.isfinite(scale) or scale == 0 or not np.isfinite(value):
        return value
    digits = 1 - int(np.floor(np.log10(scale)))
    return float(round(value, digits))


def _bounds(values: list[float], noises: list[float]) -> list[tuple[float, float]]:
    """Each term's share of the loss's size at its least (its |mean| at the bottom of its noise, every other at
    the top) and at its most."""
    out = []
    for i, (v, e) in enumerate(zip(values, noises, strict=True)):
        small, big = max(0.0, abs(v) - e), abs(v) + e
        others_big = sum(abs(w) + f for j, (w, f) in enumerate(zip(values, noises, strict=True)) if j != i)
        others_small = sum(max(0.0, abs(w) - f) for j, (w, f) in enumerate(zip(values, noises, strict=True)) if j != i)
        out.append((small / (small + others_big) if small + others_big > 0 else 0.0,
                    big / (big + others_small) if big + others_small > 0 else 1.0))
    return out


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
    legend = (f"with N = {fmt(pixels)} pixels per sample" if found.pixels >= MIN_PIXELS
              else "nll being the per-pixel mean")
    values: list[tuple[str, np.ndarray, str, tuple]] = []
    nll = found.terms["nll"][recent]
    logvar = _latest_logvar(m, found.steps[recent])
    if logvar and found.pixels >= MIN_PIXELS:
        part = found.pixels * logvar
        mean = float(np.mean(nll))
        values.append(("nll", nll, "nll", (("N x rec / exp(logvar)", mean - part), ("N x logvar", part))))
        legend += f" and logvar {fmt(logvar)}"
    else:
        values.append(("nll (N x rec)" if found.pixels >= MIN_PIXELS else "nll", nll, "nll", ()))
    values.append((f"{weight_name} x {reg_name}", found.terms["regularizer"][recent], "regularizer", ()))
    if np.any(found.terms["adversarial"][recent] != 0):
        values.append(("d_weight x disc_factor x g_loss", found.terms["adversarial"][recent], "adversarial", ()))
    points = len(found.steps[recent])
    means = [float(np.mean(v)) for _, v, _, _ in values]
    # the noise of each mean: twice its standard error (none claimed from fewer than 3 points)
    noises = [2 * float(np.std(v, ddof=1)) / np.sqrt(len(v)) if len(v) >= 3 else 0.0 for _, v, _, _ in values]
    noises = [e if np.isfinite(e) else 0.0 for e in noises]
    size = sum(abs(v) for v in means) or 1.0
    terms = tuple(Term(name, mean, abs(mean) / size, kind, parts, noise, bool(np.min(v) < 0 < np.max(v)), lo, hi)
                  for (name, v, kind, parts), mean, noise, (lo, hi)
                  in zip(values, means, noises, _bounds(means, noises), strict=True))
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
    term = found.term("regularizer") if found is not None else None
    return (name, term.share) if term is not None and np.isfinite(term.share) and term.judged else None
