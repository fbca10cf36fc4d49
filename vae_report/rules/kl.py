"""The KL term: rising is expected under a tiny weight; collapsing toward 0, or dominating the loss, is not."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .. import position as pos
from ..checkpoints import checkpoint_before
from ..numbers import describe_change, fmt, pct
from ..schedule import Schedule, set_at
from .base import Case, Metrics, finite, first_stage, median_of, ramp_onset, see
from .bookkeeping import bookkeeping, square_image
from .current import still_climbing
from .decomposition import decompose, share_of, share_text
from .knobs import bound_posterior, kl_lighter
from .losses import climb_before, not_taken_in
from .said import Said

EXPLOSION = 100.0  # KL this many times its early level is no slow rise under a tiny weight


@dataclass(frozen=True)
class KlShare:
    """The weighted KL term's share of the loss, as every sentence quotes it: ``term`` out of ``whole``, which
    ``basis`` names."""

    share: float | None  # None where the breakdown's noise leaves it unjudged
    term: float
    whole: float
    basis: str  # the share said with what it is of

    def said(self) -> str:
        return f"{fmt(self.term)}, {self.basis}"


def kl_share(m: Metrics, s: Schedule) -> KlShare | None:
    """The weighted KL term's share of the loss: the breakdown of the total (decomposition: of the loss's size,
    nll counted as one term; None as the share where the other terms' noise leaves it unjudged) where every term
    is logged, so that one number is said everywhere; else of the total's current level (the statistics table's
    Now) when that is positive, the weighted KL term being part of it."""
    found = decompose(m, s)
    if found is not None:
        term = found.term("regularizer")
        if term is not None:
            if not np.isfinite(term.share):  # a weight of 1e308 overflows the term
                return None
            return KlShare(term.share if term.judged else None, abs(term.value), found.size, found.of_size(term))
    if not m.has("total_loss") or m.level("kl_loss") is None or m.level("total_loss") is None:
        return None
    if kl_on_another_scale(m, s) is not None:
        return None  # the weight times the logged KL is not a term of the logged total: no share to claim
    term, total = abs(s.kl_weight * m.level("kl_loss").value), m.level("total_loss").value
    if not (np.isfinite(term) and np.isfinite(total) and total > 0 and term <= total):
        return None  # a total at or below 0 (a GAN term larger than the rest) has no share to give
    return KlShare(term / total, term, total, f"{share_text(term / total)} of the total loss's current level, "
                                                f"{fmt(total)}")


def kl_on_another_scale(m: Metrics, s: Schedule, fraction: float = 0.1) -> dict | None:
    """kl_weight x the logged kl_loss against the logged total, when that product alone exceeds a positive total
    (every term of which is non-negative before a GAN term): the weight then multiplies the KL on another scale
    (a per-dimension mean, a beta schedule), so no share of the total can be read from it. None otherwise, or
    when the decomposition already explains the total term by term."""
    if not (m.has("kl_loss") and m.has("total_loss")) or s.kl_weight is None or decompose(m, s) is not None:
        return None
    kl, total = finite(m.values("kl_loss")), finite(m.values("total_loss"))
    if len(kl) < 3 or len(total) < 3:
        return None
    k_total = max(3, int(len(total) * fraction))
    # the current levels the statistics table shows: the sentence quotes the total "now"
    term = abs(s.kl_weight * m.level("kl_loss").value)
    logged = m.level("total_loss").value
    if not (logged > 0 and term > 1.05 * logged and np.all(total[-k_total:] > 0)):
        return None
    return {"kl_term": term, "total": logged, "kl_weight": s.kl_weight, "now": {"total_loss": logged}}


def _scale_text(found: dict) -> str:
    return (f"kl_weight {fmt(found['kl_weight'])} x kl_loss would be {fmt(found['kl_term'])}, more than the whole "
            f"logged total ({fmt(found['total'])}, its current level): the weight applies to the KL on "
            "another scale than the one logged (a per-dimension mean, or a beta schedule that changes it), so its "
            "share of the loss cannot be read from these logs.")


REFERENCE_NATS_PER_DIM = 10.4  # RadioDiff's first stage: KL ~128,000 over 3 x 64 x 64 latent dimensions


def kl_levels(m: Metrics) -> tuple[float, float] | None:
    """KL's start level (levels.start_level, the statistics table's Start) and its current level
    (levels.current_level); None with fewer than 6 finite points."""
    start, level = m.start("kl_loss"), m.level("kl_loss")
    if start is None or level is None or len(finite(m.values("kl_loss"))) < 6:
        return None
    return start.value, level.value


def _from_start(m: Metrics) -> str:
    """What "over the run" compares: the statistics table's Start and Now of kl_loss."""
    start = m.start("kl_loss")
    return f"its start level, {median_of(start, 'first')}, against its current level" if start is not None \
        else "against its current level"


def _runaway_onset(steps: np.ndarray, logs: np.ndarray, windows: int = 20) -> int:
    """Where a compounding climb began, on log10 values: the start of the stretch of windows that climbed most
    in all, each at least half the typical rate of the run's fast windows (the healthy early rise of a KL under
    a tiny weight slows down first; the runaway's rate does not, however it ends)."""
    good = np.isfinite(logs)
    x, y = steps[good].astype(np.float64), logs[good]
    if len(x) < 2 * windows:
        return int(x[0]) if len(x) else 0
    parts = np.array_split(np.arange(len(x)), windows)
    centres = np.array([float(np.median(x[p])) for p in parts])
    climb = np.diff([float(np.median(y[p])) for p in parts])
    rate = climb / np.diff(centres)
    fast = rate >= 0.5 * float(np.median(np.sort(rate)[len(rate) // 2:]))
    best, best_climb, i = 0, -np.inf, 0
    while i < len(fast):  # runs of fast windows: the one that climbed most
        j = i
        while j < len(fast) and fast[j]:
            j += 1
        if j > i and climb[i:j].sum() > best_climb:
            best, best_climb = i, float(climb[i:j].sum())
        i = j + 1 if j == i else j
    return int(x[parts[best][0]])


HELD_BAND = 0.05  # log10: chunk medians within ~12% of the last one have held that level


def _held_since(steps: np.ndarray, logs: np.ndarray, onset: int, chunks: int = 20) -> int | None:
    """The step from which a climb has held its last level (every later chunk median within HELD_BAND in log10 of
    the last one) over a fifth or more of the points since its onset; None while it still climbs."""
    good = np.isfinite(logs) & (steps >= onset)
    x, y = steps[good], logs[good]
    if len(x) < 2 * chunks:
        return None
    parts = np.array_split(np.arange(len(x)), chunks)
    medians = np.array([float(np.median(y[p])) for p in parts])
    apart = np.abs(medians - medians[-1]) > HELD_BAND
    first = int(np.nonzero(apart)[0][-1]) + 1 if apart.any() else 0
    return int(x[parts[first][0]]) if chunks - first >= chunks // 5 else None


def kl_rising(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    cases = _kl_rising(m, s, t)
    if s.kl_weight is not None and s.kl_weight > t["tiny_weight"]:  # the title names no tiny weight it has not
        cases = [c if c.title else replace(c, title=f"KL rising under kl_weight {fmt(s.kl_weight)}") for c in cases]
    return cases


def _kl_rising(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    levels = kl_levels(m)
    if levels is None:
        return []
    start, end = levels
    if not end > start * (1 + t["rise"]):
        return []
    found = kl_share(m, s)
    share = found.share if found is not None else None
    numbers = {"kl_start": start, "kl_end": end, "kl_weight": s.kl_weight, "kl_term_share": share,
               "start": {"kl_loss": start}}
    if found is not None:
        numbers.update(kl_term=found.term, kl_share_of=found.whole)
    if np.isfinite(m.values("kl_loss")[-1]):  # NaN now: the table has no Now to quote
        numbers["now"] = {"kl_loss": end}
    said = "" if found is None else f" The weighted KL term (kl_weight x kl_loss) is {found.said()}."
    said += per_dimension(m, s, end, numbers)
    step = int(m.steps("kl_loss")[-1])
    bad = ~np.isfinite(m.values("kl_loss"))
    if bad[-1]:  # NaN now: its rise led the failure only if it went far beyond the slow one
        first_bad = int(m.steps("kl_loss")[bad][0])
        numbers["first_non_finite_step"] = first_bad
        for key in ("kl_term", "kl_share_of"):  # no share now: these sentences say none
            numbers.pop(key, None)
        numbers["kl_term_share"] = None
        climbed = climb_before(m, first_bad).get("kl_loss")
        if climbed is not None:
            numbers.update(climb_onset=climbed["onset"], climb_from=climbed["from"], climb_to=climbed["to"])
            return [Case(
                f"kl_loss climbed from {fmt(climbed['from'])} to {fmt(climbed['to'])} from "
                f"{pos.at(s, climbed['onset'])} until it went NaN/Inf at {pos.at(s, first_bad)}: its rise is part "
                f"of the divergence dated in {see('non-finite')}, not the slow rise a tiny kl_weight allows.",
                "kl_loss", first_bad, numbers, severity="info",
                case="with-divergence")]  # said once: the non-finite error names it
        if not_taken_in(m, "kl_loss", first_bad) is not None:  # the logged copy broke, the loss did not
            numbers["not_in_loss"] = True
            return [Case(
                f"kl_loss {describe_change(start, end)} over its finite points, and its logged values are NaN/Inf "
                f"from {pos.at(s, first_bad)} while the optimized loss stayed finite (see {see('non-finite')}): the "
                "KL term went on training, but its level since is not in the logs, so it is not judged there.",
                "kl_loss", first_bad, numbers, severity="info")]
        if end < EXPLOSION * start:
            return [Case(
                f"kl_loss {describe_change(start, end)} over its finite points, a rise like a healthy run's, and is "
                f"NaN/Inf from {pos.at(s, first_bad)}: the KL did not lead the failure (see {see('non-finite')}).",
                "kl_loss", first_bad, numbers, severity="info")]
        return [Case(
            f"kl_loss {describe_change(start, end)} over its finite points and is NaN/Inf from "
            f"{pos.at(s, first_bad)}: its rise is part of the divergence (see {see('non-finite')}), not the slow "
            "rise a tiny kl_weight allows.", "kl_loss", first_bad, numbers, severity="warning")]
    # a ratio from an untrained encoder's first points (a KL near 0 nats) says nothing: a level per latent dimension
    # no higher than a tiny weight usually gives (RadioDiff's ~10.4) is no runaway, however far it rose
    usual = numbers.get("kl_per_latent_dim") is not None and numbers["kl_per_latent_dim"] < t["per_dim_unusual"]
    if end >= EXPLOSION * start and not usual:
        # where it left its start level: a change point on the log scale (a runaway compounds), not the last step
        steps, values = m.steps("kl_loss"), m.values("kl_loss")
        with np.errstate(all="ignore"):
            logs = np.log10(np.where(values > 0, values, np.nan))
        onset = numbers["rise_onset"] = _runaway_onset(steps, logs)
        held = _held_since(steps, logs, onset)
        if held is not None:
            numbers["held_since"] = held
        # what the data show of its end: still climbing, or risen to a level it has held (no "without bound")
        state = (f"running away from the prior (its means or log-variances growing without bound).{said}"
                 if held is None else
                 f"far from the prior: kl_loss rose to about {fmt(end)} by {pos.at(s, held)} and has held there "
                 f"since.{said}")
        return [Case(
            f"Over the run ({_from_start(m)}), kl_loss "
            f"{describe_change(start, end)}, climbing from {pos.at(s, onset)}: a rise to {fmt(EXPLOSION)} times its "
            f"start level or more is far beyond the slow rise a tiny kl_weight allows. The encoder's posterior is "
            f"{state}", "kl_loss", onset, numbers, severity="warning", action=_runaway_action(m, s, onset, share),
            rationale=RUNAWAY_WHY if held is None else HELD_WHY)]
    runaway = _compounding(m, t)
    if runaway is not None:
        growth, since = runaway
        numbers.update(growth_per_tenth=growth, compounding_since=since)
        return [Case(
            f"kl_loss is running away in the latest logs: it grows x{fmt(round(growth, 2))} per tenth of the run "
            f"without slowing down, since {pos.at(s, since)} ({describe_change(start, end)} over the run).{said} "
            "A KL under a tiny kl_weight rises fast early and then flattens; one that compounds late is a posterior "
            "drifting away (means or log-variances growing without bound), the usual prelude to a divergence.",
            "kl_loss", since, numbers, severity="warning", action=_runaway_action(m, s, since, share),
            rationale=RUNAWAY_WHY)]
    if s.kl_weight > t["tiny_weight"]:
        return [Case(
                        f"kl_loss {describe_change(start, end)} under kl_weight {fmt(s.kl_weight)}, a weight large "
                        f"enough for the KL term to shape the latents.{said}",
                        "kl_loss", step, numbers, severity="info")]
    blowup = _with_blowup(m)
    if blowup is not None:  # the KL climbing in the latest logs with the reconstruction: one blow-up, not a level
        kl_climb, name, other = blowup
        numbers.update(climb_onset=kl_climb["onset"], climb_from=kl_climb["from"], climb_to=kl_climb["to"])
        return [Case(
            f"kl_loss climbed from {fmt(kl_climb['from'])} to {fmt(kl_climb['to'])} from "
            f"{pos.at(s, kl_climb['onset'])}, with {name} (from {pos.at(s, other['onset'])}): its rise is part of "
            f"that blow-up (see the findings on {name}), not a level of the KL's own to judge.",
            "kl_loss", kl_climb["onset"], numbers, severity="info", case="with-divergence")]
    per_dim = numbers.get("kl_per_latent_dim")
    if per_dim is not None and per_dim >= t["per_dim_unusual"]:
        # a tiny weight explains a rising KL, not any level: RadioDiff's run sits near 10 nats per dimension;
        # a level beyond it that is still climbing through the latest quarter shows no sign of settling
        climbing = still_climbing(m.steps("kl_loss"), m.values("kl_loss"), now=m.level("kl_loss"))
        if climbing is not None:
            numbers["still_climbing_from"] = climbing["from"]
        high = per_dim >= t["per_dim_high"] or climbing is not None
        unsettled = (f" It is still climbing through its latest quarter (from {fmt(climbing['from'])} at "
                     f"{pos.at(s, climbing['from_step'])} to {fmt(climbing['to'])}), with no sign of settling."
                     if climbing is not None else "")
        return [Case(
            f"Over the run ({_from_start(m)}), kl_loss "
            f"{describe_change(start, end)} under kl_weight {fmt(s.kl_weight)}.{said} That is "
            f"{fmt(round(per_dim / REFERENCE_NATS_PER_DIM, 1))} times the ~{fmt(REFERENCE_NATS_PER_DIM)} nats per "
            "dimension of RadioDiff's published first stage (128,000 over 12,288 latent dimensions), so not what a "
            "tiny weight usually gives: the posterior's means or variances sit far from the prior, and the latents "
            "a diffusion model is trained on later have a far larger scale. It costs the loss almost nothing at "
            "this weight, so the loss will not pull it back"
            + ("." if high else ": watch it, and check the latents' scale before the diffusion stage.") + unsettled,
            "kl_loss", step, numbers | {"reference_nats_per_dim": REFERENCE_NATS_PER_DIM},
            severity="warning" if high else "info", action=bound_posterior(s), rationale=SCALE_WHY,
            case="unusual-level")]
    light = share is None or share <= t["light_share"]
    # LDM's KL is a sum over latent dimensions: a large number at a tiny weight. Said only of that loss (or where
    # the logged total shows the sums); another trainer's KL may be a mean, and its weight another's choice
    summed = s.layout in ("radiodiff", "ldm") or "LPIPS" in (s.loss_class or "") or "latent_dims" in numbers
    why = ("KL is summed over latent dimensions, so the encoder spends nats freely" if summed else
           "A KL that rises as the encoder starts to use its latents is the usual course")
    why += ("." if share is None and found is not None else " while the weighted term stays small." if light else
            f"; the weighted term is no longer small, though (see {see('kl-dominant')}).")
    reference = (f" RadioDiff's published first stage holds ~{fmt(REFERENCE_NATS_PER_DIM)} nats per dimension, so "
                 "the level, not the ratio from an untrained encoder's first points, is what to judge."
                 if usual and end >= EXPLOSION * start else "")
    return [Case(
        f"Over the run ({_from_start(m)}), kl_loss "
        f"{describe_change(start, end)}: expected under kl_weight {fmt(s.kl_weight)}. {why}{said}{reference}",
        "kl_loss", step, numbers, severity="ok" if light else "info",
    )]


def kl_rising_short(f: Said) -> str | None:
    n = f.n
    if "kl_start" not in n or "kl_end" not in n:
        return None
    said = f"kl_loss {describe_change(n['kl_start'], n['kl_end'])} over the run"
    if "kl_term" in n and n.get("kl_term_share") is not None:  # None: its share cannot be judged
        said += (f", its weighted term (kl_weight {fmt(n.get('kl_weight'))} x kl_loss) {fmt(n['kl_term'])}, "
                 f"{share_text(n['kl_term_share'])} of the loss's size")
    return said


def _compounding(m: Metrics, t: dict) -> tuple[float, int] | None:
    """(growth per tenth, where it began) when the KL's latest tenths each grew by more than ``compound`` and by
    more than the tenth before them: growth that speeds up late, which a healthy KL never shows."""
    steps, values = m.steps("kl_loss"), m.values("kl_loss")
    good = np.isfinite(values) & (values > 0)
    steps, values = steps[good], values[good]
    if len(values) < 50:
        return None
    tenths = np.array_split(np.arange(len(values)), 10)
    levels = np.array([np.median(values[i]) for i in tenths])
    growth = levels[1:] / levels[:-1]
    last = growth[-3:]  # the last three tenths over the ones before them
    # exponential (a steady or growing rate), not the early rise that slows down
    if not (np.all(last > 1 + t["compound"]) and last[-1] - 1 >= 0.8 * (last[0] - 1)) \
            or levels[-1] < values.max() * 0.5:
        return None
    k = len(growth) - 3
    while k > 0 and growth[k - 1] > 1 + t["compound"]:
        k -= 1
    # within the tenths from the one before the climb, log KL is a level then a straight rise: date its break
    lo = tenths[max(0, k - 1)][0]
    onset, _ = ramp_onset(steps[lo:], np.log(values[lo:]))
    return float(last[-1]), onset


# why a KL warning matters, by its case: the rule's own reason ("only if the weighted term becomes a real share")
# is the expected rise's, and at a tiny weight the term never becomes one
SCALE_WHY = ("A tiny kl_weight lets the KL rise, not reach any level: a KL many times what such a weight usually "
             "gives puts the latents on a far larger scale, which the diffusion model trained on them must then "
             "learn, and the loss, which it costs almost nothing, will not pull it back.")
HELD_WHY = ("A posterior that ran away from the prior keeps its latents on a scale far from the prior's: at a tiny "
            "kl_weight the loss does not pull it back, and the diffusion model trained on them must learn that "
            "scale.")
RUNAWAY_WHY = ("A posterior running away from the prior grows without bound: at a tiny kl_weight the loss does not "
               "hold it, and the climb is the usual prelude to a divergence.")


LIGHT_SHARE = 0.01  # a weighted KL term under this share of the loss shapes nothing yet: what it costs is none


def _with_blowup(m: Metrics) -> tuple[dict, str, dict] | None:
    """(the KL's climb, the reconstruction loss that blew up with it, that loss's climb) when both climbed out of
    their level into the latest logs (losses.climb_before at the end: x1.5 and far beyond the noise) from about
    the same step (within a tenth of the run); None otherwise."""
    climbed = climb_before(m, m.last_step() + 1)
    kl = climbed.get("kl_loss")
    if kl is None:
        return None
    span = max(1, m.last_step() - int(m.steps("kl_loss")[0]))
    for name in ("rec_loss", "nll_loss", "total_loss"):
        other = climbed.get(name)
        if other is not None and other["to"] >= 10 * other["from"] and \
                abs(kl["onset"] - other["onset"]) <= 0.1 * span:
            return kl, name, other
    return None


def _runaway_action(m: Metrics, s: Schedule, onset: int, share: float | None) -> str:
    """What to do about a KL running away, weighed by what it costs: a weighted term that is a sliver of the loss
    while reconstruction kept improving costs nothing yet, so throwing away the steps since is no remedy (bound the
    posterior, or give the term weight, and watch); one that weighs in or comes with a worse reconstruction is
    undone from before it."""
    rec = m.level("rec_loss")
    steps, values = m.window("rec_loss", hi=onset + 1)
    values = finite(values)
    then = float(np.median(values[-max(3, len(values) // 20):])) if len(values) >= 3 else None
    if then is None:  # climbing from the run's start: reconstruction then is its start level, the table's Start
        start = m.start("rec_loss")
        then = start.value if start is not None else None
    if share is not None and share < LIGHT_SHARE and rec is not None and then is not None and rec.value <= then:
        return (f"Watch it rather than undo it: the weighted term is {pct(share)} of the loss and rec_loss improved "
                f"from {fmt(then)} to {fmt(rec.value)} since {pos.at(s, onset)}, so the runaway costs nothing yet. "
                f"If it keeps climbing, give the term weight (raise kl_weight from {fmt(s.kl_weight)}"
                + (f" at {set_at(s, 'kl_weight')}" if set_at(s, "kl_weight") else "")
                + f", e.g. to {fmt(s.kl_weight * 10)}) or bound the posterior (clamp the encoder's logvar tighter "
                "than LDM's [-30, 20]).")
    return (f"Lower the learning rate, or resume from {checkpoint_before(s, onset)}"
            + (f": the weighted term is {pct(share)} of the loss" if share is not None and share >= LIGHT_SHARE
               else ": rec_loss is worse than when it began" if rec is not None and then is not None else "")
            + ".")


def per_dimension(m: Metrics, s: Schedule, kl: float, numbers: dict) -> str:
    """KL per latent dimension, the latent size taken from the pixels the loss sums over (or the config)."""
    found = bookkeeping(m, s)
    pixels = found.pixels if found is not None and square_image(found.pixels) else None
    dims = s.latent_dims(pixels)
    if not dims:
        return ""
    numbers.update(latent_dims=dims, kl_per_latent_dim=kl / dims)
    side = round(math.sqrt(dims / s.embed_dim))
    image = side * s.downsample
    source = "images" if pixels else "images of the config's resolution"
    shrink = "no downsampling" if s.downsample == 1 else f"downsampled by {s.downsample}"
    return (f" Over {fmt(dims)} latent dimensions ({s.embed_dim} x {side} x {side} latents from {image} x {image} "
            f"{source}, {shrink}) that is {fmt(kl / dims)} nats per dimension.")


def kl_dominant(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    other = kl_on_another_scale(m, s)
    if other is not None:
        return [Case(f"No share of the loss is claimed for the KL term: {_scale_text(other)}", "kl_loss",
                     int(m.steps("kl_loss")[-1]), other | {"kl_on_another_scale": True}, severity="info")]
    found = kl_share(m, s)
    if found is None or found.share is None or found.share <= t["share"]:
        return []
    numbers = {"kl_term_share": found.share, "kl_term": found.term, "kl_share_of": found.whole,
               "kl_weight": s.kl_weight, "first_stage": first_stage(m, s)}
    if not numbers["first_stage"]:
        return [Case(
            f"The weighted KL term (kl_weight {fmt(s.kl_weight)} x kl_loss) is {found.said()}. This run trains no "
            "discriminator and no LDM loss, so it is a "
            "plain VAE, whose KL is a working part of its objective (the ELBO's prior term): a share like this is "
            "the weight's design, not a fault. If reconstructions are too smooth for their use, a lower kl_weight "
            "trades prior fit for detail.",
            "kl_loss", int(m.steps("kl_loss")[-1]), numbers, severity="info")]
    levels = kl_levels(m)
    if levels is not None and levels[1] >= EXPLOSION * levels[0]:
        numbers.update(kl_start=levels[0], kl_end=levels[1])
        why = (f"not because kl_weight is large but because kl_loss itself exploded ({describe_change(*levels)}): "
               "the posterior has run away from the prior. Lowering kl_weight would remove the only force holding "
               "it; lower the learning rate or resume from a checkpoint before the rise.")
    else:
        why = ("it is no longer a light regularizer and pulls the latents toward the prior at the cost of "
               "reconstruction. If that is not intended, lower kl_weight.")
    return [Case(
        f"The weighted KL term (kl_weight {fmt(s.kl_weight)} x kl_loss) is {found.said()}: {why}",
        "kl_loss", int(m.steps("kl_loss")[-1]), numbers, case="kl-exploded" if "kl_end" in numbers else None,
        # kl_weight is the only force holding a KL that exploded: the fix is then the rise's, not a lighter weight
        action="Lower the learning rate, or resume from a checkpoint before the KL's rise; keep kl_weight."
        if "kl_end" in numbers else f"If a light regularizer was intended, {kl_lighter(s)}.",
    )]


def kl_dominant_short(f: Said) -> str | None:
    n = f.n
    if n.get("kl_on_another_scale") and "kl_term" in n:
        return (f"kl_weight x kl_loss would be {fmt(n['kl_term'])}, more than the whole logged total "
                f"{fmt(n.get('total'))}: the weight applies to the KL on another scale")
    if "kl_term" in n:
        share = n.get("kl_term_share")
        return f"the weighted KL term {fmt(n['kl_term'])}, " + (
            f"{share_of(share)} of the loss's size" if share is not None else "its share not judged")
    return None


def kl_negative(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """A KL divergence is never negative: a negative kl_loss is a sign error or another quantity."""
    steps, values = m.steps("kl_loss"), m.values("kl_loss")
    good = np.isfinite(values)
    if not good.any():
        return []
    scale = max(1.0, float(np.median(np.abs(values[good]))))
    negative = good & (values < -1e-6 * scale)  # float rounding of a sum of non-negative terms is not a sign
    if not negative.any():
        return []
    first = int(steps[negative][0])
    return [Case(
        f"kl_loss is negative at {fmt(int(negative.sum()))} of {fmt(int(good.sum()))} points from {pos.at(s, first)} "
        f"(down to {fmt(float(values[negative].min()))}): a KL divergence is never below 0, so this is not one. "
        "Look for a sign error in the KL term (0.5 x (mu^2 + var - 1 - logvar), summed) or another quantity "
        "logged under this name; the KL checks and the loss's bookkeeping cannot be trusted until it is fixed.",
        "kl_loss", first, {"negative_points": int(negative.sum()), "points": int(good.sum()),
                           "min": float(values[negative].min())},
    )]


def kl_negative_short(f: Said) -> str | None:
    n = f.n
    if "negative_points" not in n:
        return None
    return (f"kl_loss negative at {fmt(n['negative_points'])} of {fmt(n.get('points'))} points (down to "
            f"{fmt(n.get('min'))})")
