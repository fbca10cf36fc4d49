"""The loss's bookkeeping: the logged terms aligned on shared steps, the sum they make against the logged total
(the loss-bookkeeping rule), the pixels per sample it implies, and the kl_weight read off it where the config
gives none."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import position as pos
from ..frame import not_logged, written_as
from ..numbers import counted, fmt, listed, pct
from ..schedule import Schedule
from ..stats import contains, shared_steps
from .base import Case, Metrics
from .said import Said


def _error(residual: float, phases: bool = False) -> str:
    """How closely the sum matches the logged total, in words: at half of the steps (of each phase) or more it is
    within this."""
    where = "in each phase, half of the steps or more" if phases else "half of the steps or more"
    if residual < 1e-6:
        return f"to float precision: {where} within a millionth of the logged total"
    return f"{where} within {residual:.1e} of the logged total, relatively"


@dataclass(frozen=True)
class Bookkeeping:
    """The loss's terms aligned on shared steps, and what they say about the pixels per sample."""

    steps: np.ndarray
    total: np.ndarray
    expected: np.ndarray  # the total the terms add up to
    rec: np.ndarray
    reg: np.ndarray  # the regularizer: kl_loss, or quant_loss for a VQ model
    pixels: float
    averaged: bool  # RadioDiff's TensorBoard total, (AE loss + disc loss) / 2
    terms: dict[str, np.ndarray]  # nll, regularizer (weighted), adversarial: what the total is made of
    logged: frozenset = frozenset()  # the metrics the check read (a term not logged is not in the formula)
    # disc_factor not logged beside d_weight and g_loss: the schedule's (0 before disc_start, the config's after)
    scheduled_factor: bool = False
    learned_logvar: bool = False  # logvar moved off 0: nll is rec / exp(logvar) + logvar, not the plain rec


def regularizer(s: Schedule) -> tuple[str, float | None]:
    """The regularizer's metric and weight: (kl_loss, kl_weight), or (quant_loss, codebook_weight) for VQ."""
    if s.regularizer == "vq":
        return "quant_loss", 1.0 if s.codebook_weight is None else s.codebook_weight
    return "kl_loss", s.kl_weight


def bookkeeping(m: Metrics, s: Schedule) -> Bookkeeping | None:
    """total = nll + weight*regularizer + d_weight*disc_factor*g, nll = N*rec with N the pixels per sample
    inferred (computed once per metrics view and weight: loss-bookkeeping and kl-rising both read it)."""
    key = ("bookkeeping", regularizer(s))
    if key not in m.memo:
        m.memo[key] = _bookkeeping(m, s)
    return m.memo[key]


def _bookkeeping(m: Metrics, s: Schedule) -> Bookkeeping | None:
    if s.layout == "flat":  # another trainer's config: its loss is not LDM's sum, nothing to check it against
        return None
    if m.has("kl_loss") and np.nanmin(m.values("kl_loss")) < 0:
        return None  # not a KL (kl-negative): a sum built on it proves nothing
    reg_name, weight = regularizer(s)
    joined = _aligned(m, ["total_loss", "rec_loss", reg_name],
                      ["nll_loss", "d_weight", "disc_factor", "g_loss", "disc_loss", "logvar"])
    if joined is None or weight is None:
        return None
    steps, col = joined
    ok = np.all([np.isfinite(c) for c in col.values()], axis=0) & (col["rec_loss"] != 0)
    if ok.sum() < 3:
        return None
    steps, col = steps[ok], {k: v[ok] for k, v in col.items()}
    rec, reg, total = col["rec_loss"], col[reg_name], col["total_loss"]
    factor = col.get("disc_factor")
    if factor is None and {"d_weight", "g_loss"} <= set(col):
        factor = scheduled_disc_factor(s, steps)  # not logged: what the schedule sets it to, 0 before disc_start
    adv = col["d_weight"] * factor * col["g_loss"] if factor is not None and {"d_weight", "g_loss"} <= set(col) \
        else np.zeros_like(total)
    # nll sums rec / exp(logvar) + logvar over the pixels of a sample (just N x rec while logvar is 0)
    per_pixel = rec * np.exp(-col["logvar"]) + col["logvar"] if "logvar" in col else rec
    if "nll_loss" in col:
        pixels = _median_ratio(col["nll_loss"], per_pixel)
        nll = col["nll_loss"]
    else:
        pixels = _median_ratio(total - weight * reg - adv, per_pixel)
        nll = pixels * per_pixel
    averaged = False
    if "disc_loss" in col and "nll_loss" not in col and not square_image(pixels):
        # RadioDiff's TensorBoard total_loss is (AE loss + disc loss) / 2
        alt = _median_ratio(2 * total - col["disc_loss"] - weight * reg - adv, per_pixel)
        if square_image(alt):
            pixels, averaged = alt, True
            nll = pixels * per_pixel
    expected = nll + weight * reg + adv
    if averaged:
        expected = (expected + col["disc_loss"]) / 2
    terms = {"nll": nll, "regularizer": weight * reg, "adversarial": adv}
    learned = "logvar" in col and bool(np.nanmax(np.abs(col["logvar"])) > 1e-3)
    scheduled = "disc_factor" not in col and factor is not None
    return Bookkeeping(steps, total, expected, rec, reg, pixels, averaged, terms, frozenset(col),
                       learned_logvar=learned, scheduled_factor=scheduled)


def scheduled_disc_factor(s: Schedule, steps: np.ndarray) -> np.ndarray | None:
    """disc_factor at these steps as the schedule sets it (LDM's adopt_weight: 0 before disc_start, the config's
    disc_factor from it on); None where the schedule does not say when the discriminator starts."""
    if s.switch_step is None:
        return None
    on = 0.0 if s.adversarial_off is not None else (1.0 if s.disc_factor is None else float(s.disc_factor))
    return np.where(steps >= s.switch_step, on, 0.0)


def _phases(b: Bookkeeping, s: Schedule) -> list[tuple[str, np.ndarray]]:
    """The checked steps split at the switch-on (name, mask), each part of 3 steps or more: the sum must hold in
    each, not only at half of all steps (a term missing after the switch-on fails a third of a run)."""
    if s.switch_step is None or s.adversarial_off is not None:
        return []
    on = b.steps >= s.switch_step
    parts = [("before the discriminator started", ~on), ("since the discriminator started", on)]
    return [(name, mask) for name, mask in parts if mask.sum() >= 3]


def loss_bookkeeping(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    b = bookkeeping(m, s)
    if b is None:
        return []
    reg_name, weight = regularizer(s)
    weight_name = "codebook_weight" if reg_name == "quant_loss" else "kl_weight"
    relative = np.abs(b.total - b.expected) / np.maximum(np.abs(b.total), 1e-12)
    residual = float(np.median(relative))
    phases = _phases(b, s)
    # the phase where the sum is furthest off (by its median): the verdict is that phase's
    worst_name, worst_mask = max(phases, key=lambda p: float(np.median(relative[p[1]])), default=("", None))
    worst = float(np.median(relative[worst_mask])) if worst_mask is not None else residual
    recent = slice(-min(len(b.steps), 10), None)
    numbers: dict = {"steps_checked": int(len(b.steps)), "pixels_per_sample": round(b.pixels, 1),
                     "median_relative_residual": residual, "total_is_average_with_disc": b.averaged,
                     "total": float(np.median(b.total[recent]))}
    numbers.update({f"{k}_term": float(np.median(v[recent])) for k, v in b.terms.items()})
    config_note = ""
    if s.pixels_per_sample and abs(b.pixels / s.pixels_per_sample - 1) > 0.01 and b.pixels >= MIN_PIXELS:
        numbers["config_pixels_per_sample"] = s.pixels_per_sample
        config_note = _config_pixels_note(b.pixels, s)
    formula, nll_text = _formula(b, weight_name, reg_name)
    factor_note = (f" disc_factor is not logged: taken as the schedule sets it, 0 before "
                   f"{pos.at(s, s.switch_step)} and {fmt(1.0 if s.disc_factor is None else s.disc_factor)} from it "
                   "on." if b.scheduled_factor else "")
    if worst <= t["tolerance"]:
        differs = _kl_weight_differs(m, weight) if reg_name == "kl_loss" else None
        if differs is not None:  # the sum adds up within the tolerance only because the KL term is a sliver of it
            fitted, mine, theirs = differs
            numbers.update(logged_kl_weight=fitted, residual_with_logged=mine, residual_with_config=theirs)
            # whose value it is: the config's, or one given on the command line (or a default), said as such
            given = not s.from_config_file("kl_weight")
            origin = s.origins.get("kl_weight") or "a default"
            source = "given on the command line" if origin == "command line" else f"from {origin}"
            whose = f"the kl_weight {source}," if given else "the config's kl_weight"
            wrong = (f"the value {source} is not the run's" if given
                     else "the config read is not the run's, or its kl_weight was overridden")
            return [Case(
                f"total_loss adds up with {whose} {fmt(weight)} only to {pct(theirs)} of the total "
                f"(within the check's tolerance because the KL term is a sliver of the loss), and "
                + ("to float precision" if mine < 1e-9 else f"to {pct(mine)}")
                + f" with kl_weight {fmt(fitted)}: the logged sum is {formula.replace('kl_weight', fmt(fitted))} at "
                f"{pos.count(s, len(b.steps))}. The run weighed its KL with {fmt(fitted)}, not {fmt(weight)}: "
                f"{wrong}; every KL sentence of this report uses {fmt(weight)}.", "total_loss", int(b.steps[-1]),
                numbers, case="kl-weight-differs",
                action=(f"Pass --kl-weight {fmt(fitted)}, the weight the run used (or leave --kl-weight out)."
                        if origin == "command line" else
                        f"Pass the config the run used with --config, or --kl-weight {fmt(fitted)}."))]
        where = " in both phases" if len(phases) == 2 else ""
        return [Case(
                        f"{formula} holds over the {pos.count(s, len(b.steps))} checked{where} "
                        f"({_error(max(residual, worst), len(phases) == 2)})."
                        f"{nll_text}{factor_note}{config_note}", "total_loss", int(b.steps[-1]), numbers,
                        severity="ok")]
    over = pos.count(s, len(b.steps))
    if residual <= t["tolerance"]:  # holds overall, not in one phase: that phase's numbers are the finding's
        numbers["median_relative_residual"] = residual = worst
        relative = np.where(worst_mask, relative, 0.0)
        over = f"{pos.count(s, int(worst_mask.sum()))} {worst_name}"
    # where it stopped adding up, when it did at first (a term that joins later, e.g. at the switch-on)
    bad = relative > t["tolerance"]
    onset, since = int(b.steps[-1]), ""
    head = max(3, len(bad) // 20)
    if bad.any() and not bad[:head].any():
        first = int(np.flatnonzero(bad)[0])
        onset = numbers["onset_step"] = int(b.steps[first])
        since = f" from {pos.at(s, onset)} on (it held before)"
        if m.has("disc_loss"):
            # the gap equal to the discriminator's loss: a total that adds the D loss in
            gap = (b.total - b.expected)[first:]
            _, d = m.window("disc_loss", lo=onset)
            if len(d) and len(gap) and abs(float(np.median(gap)) - float(np.nanmedian(d))) <= \
                    0.1 * max(abs(float(np.nanmedian(d))), 1e-12):
                since += ", by about disc_loss: the logged total adds the discriminator's loss in"
    adversarial_logged = {"d_weight", "g_loss"} <= b.logged and ("disc_factor" in b.logged or b.scheduled_factor)
    before = b.steps < (s.switch_step if s.switch_step is not None else 0)
    if since and s.switch_step is not None and onset >= s.switch_step and not adversarial_logged \
            and "disc_loss:" not in since and before.sum() >= 3:
        # held before the switch-on, off from it: the adversarial term the total gains then, not in the logs
        gap = float(np.median((b.total - b.expected)[~before]))
        missing = [n for n in ("d_weight", "disc_factor", "g_loss") if n not in b.logged]
        apart = any(written_as(n, m.names()) for n in missing)
        advice = (f"one series {'each ' if len(missing) > 1 else ''}named {listed(missing)}" if apart else
                  listed(missing))
        numbers["unlogged_adversarial_term"] = gap
        return [Case(
            f"{formula} holds before the discriminator started ({_error(float(np.median(relative[before])))}); "
            f"from {pos.at(s, onset)} on the logged total is {'larger' if gap > 0 else 'smaller'} than that sum by "
            f"a median {fmt(abs(gap))} ({pct(worst)} of it): the adversarial term d_weight x disc_factor x g_loss, "
            f"which the total takes in from the switch-on and these logs do not carry "
            f"{'as the checks read them ' if apart else ''}({not_logged(missing, m.names())}). Expected of the "
            f"loss; log {advice} to have the sum checked whole."
            f"{nll_text}{config_note}", "total_loss", onset, numbers, severity="info",
            case="adversarial-term-not-logged")]
    off = f"total_loss does not add up{since}: {formula} is off by a median {pct(residual)} over {over}."
    bare = _nll_without_logvar(m)
    if bare is not None:  # the logs show the cause: say it, not a list of suspects
        pixels, logvar = bare
        numbers.update(pixels_per_sample=pixels, nll_without_logvar=True)
        return [Case(
            f"{off} nll_loss is {fmt(pixels)} x rec_loss (a {fmt(pixels)}-pixel sample's sum of it) although logvar is "
            f"logged at {fmt(logvar)}: the logged nll_loss leaves out the learned log-variance (rec / exp(logvar) + "
            f"logvar per pixel in LDM's loss), so it is not the nll the total sums.{factor_note}{config_note}",
            "total_loss", onset, numbers, case="nll-without-logvar",
            action="Log the nll the loss optimizes (with the logvar applied), or check that the logvar the total "
                   "uses is the one logged.")]
    if not b.pixels > 0:  # a negative or zero pixel count is no measure of anything: none is reported
        numbers["pixels_per_sample"] = None
    return [Case(
        f"{off} The logged terms may come from different "
        f"batches or sources, the trainer may add a term it does not log, or it weights them differently from the "
        f"config ({weight_name} {fmt(weight)}).{factor_note}{config_note}",
        "total_loss", onset, numbers,
    )]


def _nll_without_logvar(m: Metrics) -> tuple[float, float] | None:
    """(the pixel count, logvar now) when nll_loss is a square image's pixel count times rec_loss while a logvar
    far from 0 is logged: the nll logged without the learned log-variance that LDM's loss applies."""
    if not (m.has("nll_loss") and m.has("rec_loss") and m.has("logvar")):
        return None
    nll, rec, logvar = m.level("nll_loss"), m.level("rec_loss"), m.level("logvar")
    if nll is None or rec is None or logvar is None or not rec.value or abs(logvar.value) < 0.05:
        return None
    pixels = nll.value / rec.value
    side = _square_side(pixels)
    return (float(side[0] * side[1] ** 2), logvar.value) if side is not None else None


def loss_bookkeeping_short(f: Said) -> str | None:
    n = f.n
    if "steps_checked" not in n:
        return None
    if f.severity == "ok":
        return f"total_loss adds up from its logged terms at {f.count(n['steps_checked'])}"
    if "unlogged_adversarial_term" in n:
        return (f"total_loss adds up from its logged terms before the discriminator started; from "
                f"{f.at(n['onset_step'])} it takes in the adversarial term, not logged (a median "
                f"{fmt(n['unlogged_adversarial_term'])})")
    return (f"total_loss off the sum of its logged terms by a median {pct(n.get('median_relative_residual'))}"
            + (f" from {f.at(n['onset_step'])}" if "onset_step" in n else ""))


def _formula(b: Bookkeeping, weight_name: str, reg_name: str) -> tuple[str, str]:
    """The sum as the logs show it, with only the terms they carry (a run without a discriminator logs no g_loss),
    and how the reconstruction enters it: summed over the pixels (LDM's nll) or as the per-pixel mean."""
    adversarial = {"d_weight", "g_loss"} <= b.logged and ("disc_factor" in b.logged or b.scheduled_factor)
    # a sum over pixels from an 8 x 8 image up; a ratio of a few is no pixel count (taming's VQ loss adds its
    # perceptual term to the per-pixel mean: nll about twice rec was "summed over 2 pixels per sample")
    summed = b.pixels >= MIN_PIXELS
    scaled = 1.5 < b.pixels < MIN_PIXELS
    learned = "logvar" in b.logged and b.learned_logvar
    if "nll_loss" in b.logged:
        nll = "nll_loss"
        per_pixel = "rec_loss / exp(logvar) + logvar (the learned log-variance)" if learned else "the per-pixel loss"
        what = (f" nll_loss is {per_pixel} summed over {fmt(pixel_count(b.pixels))} pixels per sample"
                f"{_shape_text(b.pixels)}, not averaged." if summed else
                f" nll_loss is about {fmt(b.pixels)} times rec_loss: too few for a pixel count, so a per-pixel mean "
                "with other terms added or a scale (taming's VQ loss adds its perceptual term to it)." if scaled else
                " nll_loss is the per-pixel loss averaged over the pixels (as taming's VQ loss does).")
    else:
        per_pixel = "(rec_loss / exp(logvar) + logvar)" if learned else "rec_loss"
        nll = f"N x {per_pixel}" if summed else per_pixel
        what = (f" nll is not logged: N = {fmt(pixel_count(b.pixels))} pixels per sample{_shape_text(b.pixels)}, "
                "the per-pixel loss summed over them, not averaged." if summed else
                " The reconstruction term enters as the per-pixel mean, not summed over the pixels as LDM's nll is.")
    if b.averaged:
        return (f"total_loss = (AE loss + disc_loss) / 2, the AE loss being {nll} + {weight_name} x {reg_name}"
                + (" + the adversarial term" if adversarial else ""), what)
    return (f"total_loss = {nll} + {weight_name} x {reg_name}"
            + (" + d_weight x disc_factor x g_loss" if adversarial else ""), what)


def _config_pixels_note(pixels: float, s: Schedule) -> str:
    """Why the sum's pixel count differs from the config's channels x H x W: the same image side with another
    channel count (one-channel data, or a rec_loss averaged over the channels), or another image side."""
    shape = f"{s.in_channels} x {s.resolution[0]} x {s.resolution[1]}" if s.in_channels and s.resolution else ""
    said = f" The config's ddconfig gives {fmt(s.pixels_per_sample)} pixels per sample" + (f" (= {shape})" if shape
                                                                                          else "")
    if s.resolution and s.in_channels:
        area = s.resolution[0] * s.resolution[1]
        channels = pixels / area
        if round(channels) >= 1 and abs(channels / round(channels) - 1) < 1e-3 and round(channels) != s.in_channels:
            return (f"{said}: the same {s.resolution[0]} x {s.resolution[1]} images, summed over "
                    f"{counted(round(channels), 'channel')} where the config names {s.in_channels}: the data has "
                    f"{round(channels)} (the config's in_channels does not change what the data loader gives), "
                    "or rec_loss is averaged over the channels "
                    "before the sum.")
    return (f"{said}: the data was not trained at the config's resolution ("
            + ("RadioDiff's ddconfig.resolution resizes nothing)." if s.layout in ("radiodiff", "text log")
               else "the data loader's size decides the image size, not ddconfig.resolution)."))


def _aligned(m: Metrics, core: list[str], optional: tuple[str, ...] | list[str] = ()):
    """(steps, {metric: its values there}): the steps every ``core`` metric is logged at, and each ``optional``
    one logged at all of them (one that is not is left out); None where a core metric is not logged."""
    if not all(m.has(n) for n in core):
        return None
    steps = m.steps(core[0])
    for name in core[1:]:
        steps = shared_steps(steps, m.steps(name))
    optional = [n for n in optional if n not in core and m.has(n) and contains(m.steps(n), steps).all()]
    cols = {}
    for name in core + optional:
        own = m.steps(name)
        same = len(own) == len(steps) and np.array_equal(own, steps)  # logged together: no search
        cols[name] = m.values(name) if same else m.values(name)[np.searchsorted(own, steps)]
    return steps, cols


def kl_weight_from_total(s: Schedule, m: Metrics) -> Schedule:
    """A kl_weight the config does not give (the loss class's default stood in) read off the logged sum instead,
    where the logs carry every term: total = nll + kl_weight x kl + d_weight x disc_factor x g_loss gives it at
    every step; taken when one value fits the sum to 0.1% where the default does not (a partial config given
    with --config, a config of another layout), so no rule weighs the KL with a weight this run never used."""
    if not s.origins.get("kl_weight", "").endswith(" default"):
        return s
    fitted = logged_kl_weight(m)
    if fitted is None or fits_kl_weight(m, s.kl_weight):
        return s
    return s.with_overrides("the logged total (the config gives no kl_weight: total_loss - nll_loss - the adversarial "
                            "term is kl_weight x kl_loss at every step)", kl_weight=fitted)


def _kl_weight_differs(m: Metrics, weight: float | None) -> tuple[float, float, float] | None:
    """(the kl_weight the logged sum gives, its median relative residual, the config weight's) when the two weights
    differ twofold or more and the logged one fits the sum a hundred times closer (a full-precision log: printed
    decimals leave no such difference); None otherwise."""
    terms = _kl_terms(m)
    if terms is None or not weight:
        return None
    rest, kl, total = terms
    fitted = float(np.median(rest / kl))
    if not fitted > 0 or 0.5 < fitted / weight < 2:
        return None
    fitted = float(f"{fitted:.3g}")

    def off(w: float) -> float:
        return float(np.median(np.abs(rest - w * kl) / np.maximum(np.abs(total), 1e-12)))

    mine, theirs = off(fitted), off(weight)
    return (fitted, mine, theirs) if mine * 100 <= theirs else None


def _kl_terms(m: Metrics) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """total - nll - the adversarial term, kl_loss, total_loss at the steps that log every term (5 or more)."""
    adversarial = [n for n in ("d_weight", "disc_factor", "g_loss") if m.has(n)]
    joined = _aligned(m, ["total_loss", "nll_loss", "kl_loss", *adversarial])
    if joined is None:
        return None
    _, col = joined
    adv = col["d_weight"] * col["disc_factor"] * col["g_loss"] if len(adversarial) == 3 else 0.0
    rest = col["total_loss"] - col["nll_loss"] - adv
    good = np.isfinite(rest) & np.isfinite(col["kl_loss"]) & (col["kl_loss"] > 0)
    if good.sum() < 5:
        return None
    return rest[good], col["kl_loss"][good], col["total_loss"][good]


def fits_kl_weight(m: Metrics, weight: float | None) -> bool:
    """Whether kl_weight ``weight`` makes the logged sum add up (to 0.1% of the total at half the steps)."""
    terms = _kl_terms(m)
    if terms is None or weight is None:
        return False
    rest, kl, total = terms
    return float(np.median(np.abs(rest - weight * kl) / np.maximum(np.abs(total), 1e-12))) <= 1e-3


def logged_kl_weight(m: Metrics) -> float | None:
    """The kl_weight the logged sum gives (3 significant digits), where one value fits it."""
    terms = _kl_terms(m)
    if terms is None:
        return None
    weight = float(np.median(terms[0] / terms[1]))
    return float(f"{weight:.3g}") if weight > 0 and fits_kl_weight(m, weight) else None


def _median_ratio(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.median(a / b))


MIN_PIXELS = 64  # an 8 x 8 image: a smaller ratio of nll to rec is no sum over pixels


def pixel_count(n: float) -> int:
    """The pixels per sample a ratio stands for: the square image it is within 0.1% of (printed decimals put
    it a little off), else the ratio rounded."""
    shape = _square_side(n)
    return shape[0] * shape[1] ** 2 if shape else round(n)


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
