"""Checks of the loss curves: non-finite values, trends, the KL term, and the loss's own bookkeeping."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..numbers import fmt, pct, signed_pct
from ..schedule import Schedule
from .base import Finding, Metrics, edge_medians


def non_finite(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    out = []
    for name in m.names():
        values = m.values(name)
        bad = ~np.isfinite(values)
        if bad.any():
            first = int(m.steps(name)[bad][0])
            kind = "NaN" if np.isnan(values[bad][0]) else "Inf"
            out.append(Finding(
                "non-finite", "error",
                f"{name} is {kind} at step {fmt(first)} ({fmt(int(bad.sum()))} of {fmt(len(values))} points are "
                "NaN or Inf). Training diverged or a term overflowed there: resume from the last checkpoint before "
                "it with a lower learning rate, and check the inputs of that batch.",
                name, first, {"first_bad_step": first, "bad_points": int(bad.sum()), "points": len(values)},
            ))
    return out


def _trend(m: Metrics, name: str, lo: int | None, t: dict, where: str) -> list[Finding]:
    steps, values = m.window(name, lo=lo)
    levels = edge_medians(values)
    if levels is None:
        return []
    start, end = levels
    change = end / start - 1 if start else math.nan
    numbers = {"start_level": start, "end_level": end, "change": change, "from_step": int(steps[0])}
    rule = f"{name.replace('_loss', '')}-trend"
    if change > t["worse"]:
        return [Finding(
            rule, "warning",
            f"{name} got worse {where}: its median level went from {fmt(start)} to {fmt(end)} "
            f"({signed_pct(change)}). Check the learning rate and the latest samples.",
            name, int(steps[-1]), numbers,
        )]
    verdict = "is flat" if abs(change) <= t["flat"] else "fell"
    return [Finding(
        rule, "ok",
        f"{name} {verdict} {where}: median level {fmt(start)} -> {fmt(end)} ({signed_pct(change)}).",
        name, int(steps[-1]), numbers,
    )]


def rec_trend(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    return _trend(m, "rec_loss", None, t, "over the run")


def total_trend(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    # The GAN term changes the total's level when the discriminator starts: compare within the current phase.
    last = m.last_step()
    lo = s.disc_start if s.disc_start is not None and last >= s.disc_start else None
    return _trend(m, "total_loss", lo, t, "since the discriminator started" if lo is not None else "over the run")


@dataclass(frozen=True)
class Bookkeeping:
    """The loss's terms aligned on shared steps, and what they say about the pixels per sample."""

    steps: np.ndarray
    total: np.ndarray
    expected: np.ndarray  # the total the terms add up to
    rec: np.ndarray
    kl: np.ndarray
    pixels: float
    averaged: bool  # RadioDiff's TensorBoard total, (AE loss + disc loss) / 2


def bookkeeping(m: Metrics, s: Schedule) -> Bookkeeping | None:
    """total = N*rec + kl_weight*kl + d_weight*disc_factor*g, with N the pixels per sample inferred (computed once
    per metrics view and kl_weight: loss-bookkeeping and kl-rising both read it)."""
    key = ("bookkeeping", s.kl_weight)
    if key not in m.memo:
        m.memo[key] = _bookkeeping(m, s)
    return m.memo[key]


def _bookkeeping(m: Metrics, s: Schedule) -> Bookkeeping | None:
    joined = _aligned(m, ["total_loss", "rec_loss", "kl_loss", "nll_loss", "d_weight", "disc_factor", "g_loss",
                          "disc_loss", "logvar"])
    if joined is None or s.kl_weight is None:
        return None
    steps, col = joined
    rec, kl, total = col["rec_loss"], col["kl_loss"], col["total_loss"]
    adv = col["d_weight"] * col["disc_factor"] * col["g_loss"] if {"d_weight", "disc_factor", "g_loss"} <= set(col) \
        else np.zeros_like(total)
    # nll sums rec / exp(logvar) + logvar over the pixels of a sample (just N x rec while logvar is 0)
    per_pixel = rec * np.exp(-col["logvar"]) + col["logvar"] if "logvar" in col else rec
    if "nll_loss" in col:
        pixels = _median_ratio(col["nll_loss"], per_pixel)
        nll = col["nll_loss"]
    else:
        pixels = _median_ratio(total - s.kl_weight * kl - adv, per_pixel)
        nll = pixels * per_pixel
    averaged = False
    if "disc_loss" in col and "nll_loss" not in col and not square_image(pixels):
        # RadioDiff's TensorBoard total_loss is (AE loss + disc loss) / 2
        alt = _median_ratio(2 * total - col["disc_loss"] - s.kl_weight * kl - adv, per_pixel)
        if square_image(alt):
            pixels, averaged = alt, True
            nll = pixels * per_pixel
    expected = nll + s.kl_weight * kl + adv
    if averaged:
        expected = (expected + col["disc_loss"]) / 2
    return Bookkeeping(steps, total, expected, rec, kl, pixels, averaged)


def loss_bookkeeping(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    b = bookkeeping(m, s)
    if b is None:
        return []
    steps, total, expected, rec, kl, pixels, averaged = (b.steps, b.total, b.expected, b.rec, b.kl, b.pixels,
                                                         b.averaged)
    numbers: dict = {"steps_checked": int(len(steps))}
    residual = float(np.median(np.abs(total - expected) / np.maximum(np.abs(total), 1e-12)))
    numbers.update(pixels_per_sample=round(pixels, 1), median_relative_residual=residual,
                   total_is_average_with_disc=averaged)
    shape = _shape_text(pixels)
    config_note = ""
    if s.pixels_per_sample and abs(pixels / s.pixels_per_sample - 1) > 0.01:
        numbers["config_pixels_per_sample"] = s.pixels_per_sample
        config_note = (f" The config's ddconfig gives {fmt(s.pixels_per_sample)} pixels per sample: the data was "
                       "not trained at the config's resolution (RadioDiff's `resolution` resizes nothing).")
    formula = "total_loss = nll_loss + kl_weight x kl_loss + d_weight x disc_factor x g_loss"
    if averaged:
        formula = "total_loss = (AE loss + disc_loss) / 2, the AE loss being nll + kl_weight x kl + adversarial term"
    if residual <= t["tolerance"]:
        return [Finding(
            "loss-bookkeeping", "ok",
            f"{formula} holds at {fmt(len(steps))} steps (median relative error {residual:.1e}). nll_loss is "
            f"the per-pixel loss summed over {fmt(round(pixels))} pixels per sample{shape}, which is why a rec_loss of "
            f"{fmt(float(np.median(rec[-10:])))} goes with a total near {fmt(float(np.median(total[-10:])))}; the KL "
            f"term adds only kl_weight x kl = {fmt(float(s.kl_weight * kl[-1]))}.{config_note}",
            "total_loss", int(steps[-1]), numbers,
        )]
    return [Finding(
        "loss-bookkeeping", "warning",
        f"total_loss does not add up: {formula} is off by a median {pct(residual)} over {fmt(len(steps))} steps. "
        "The logged terms may come from different batches or sources, or the trainer weights them differently "
        f"from the config (kl_weight {fmt(s.kl_weight)}).{config_note}",
        "total_loss", int(steps[-1]), numbers,
    )]


def _aligned(m: Metrics, names: list[str]):
    """Steps where total, rec and kl are all logged and finite, with every other named metric there too."""
    core = ["total_loss", "rec_loss", "kl_loss"]
    if not all(m.has(n) for n in core):
        return None
    steps = m.steps("total_loss")
    for name in core[1:]:
        steps = np.intersect1d(steps, m.steps(name))
    optional = [n for n in names if n not in core and m.has(n) and np.isin(steps, m.steps(n)).all()]
    cols = {}
    for name in core + optional:
        idx = np.searchsorted(m.steps(name), steps)
        cols[name] = m.values(name)[idx]
    ok = np.all([np.isfinite(c) for c in cols.values()], axis=0) & (cols["rec_loss"] != 0)
    if ok.sum() < 3:
        return None
    return steps[ok], {k: v[ok] for k, v in cols.items()}


def _median_ratio(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.median(a / b))


def square_image(n: float) -> bool:
    """Is ``n`` a plausible pixel count, channels x H x W with a square image side a multiple of 8?"""
    return _square_side(n) is not None


def _square_side(n: float) -> tuple[int, int] | None:
    if not math.isfinite(n) or n < 4:
        return None
    # Image sides are multiples of 8 in practice; the tolerance covers five printed decimals of rec_loss.
    for channels in (1, 3, 4):
        side = round(math.sqrt(n / channels))
        if side >= 8 and side % 8 == 0 and abs(channels * side * side / n - 1) < 1e-3:
            return channels, side
    return None


def _shape_text(pixels: float) -> str:
    found = _square_side(pixels)
    return "" if found is None else f" (= {found[0]} x {found[1]} x {found[1]})"
