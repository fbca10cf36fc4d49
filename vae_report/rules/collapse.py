"""Collapse of the latent code: a KL fallen to a sliver of its peak or held at the prior (judged with its
weight, which decides whether the term can pull the posterior there), and a VQ codebook fallen onto a few codes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import position as pos
from ..numbers import describe_change, fmt, signed_pct
from ..schedule import Schedule
from ..stats import rolling_median
from .base import Case, Metrics, departure, finite, see
from .kl import per_dimension
from .said import Said


def kl_collapse(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    values = finite(m.values("kl_loss"))
    if len(values) and values.min() < 0:
        return []  # not a KL (see kl-negative): a "collapse" of it means nothing
    if len(values) >= 5 and np.all(values == 0):
        first = int(m.steps("kl_loss")[0])
        return [Case(
            f"kl_loss is exactly 0 at all {fmt(len(values))} points from {pos.at(s, first)}: the posterior is the "
            "prior itself or the KL term is not computed (a mean/logvar wiring bug, or a deterministic encoder), "
            "so the latent space is not regularized as the config asks.",
            "kl_loss", first, {"peak_level": 0.0, "recent_level": 0.0, "onset_step": first},
        )]
    if len(values) < 20:
        return []
    k = max(3, len(values) // 10)
    sums = np.cumsum(np.concatenate(([0.0], values)))
    smooth = (sums[k:] - sums[:-k]) / k  # moving average in O(n), whatever the window
    peak, now = float(smooth.max()), m.level("kl_loss").value  # "fell to": the one current level
    steps = m.steps("kl_loss")[np.isfinite(m.values("kl_loss"))]
    peak_step = int(steps[int(np.argmax(smooth)) + k // 2])
    start = m.start("kl_loss")  # a KL highest at its start: its peak is the table's Start, never a level below it
    if start is not None and np.isfinite(start.value) and start.value > peak:
        peak, peak_step = float(start.value), int(steps[0])
    if peak <= 0 or now > t["fraction_of_peak"] * peak:
        found = _near_prior(m, s, now, t)  # no fall from a peak, yet at the prior: held there from the start
        return [found] if found is not None else []
    still = _far_from_prior(m, s, peak, now, peak_step)
    if still is not None:
        return [still]
    onset = departure(steps, values, peak, now, since=peak_step)
    numbers = {"peak_level": peak, "recent_level": now, "onset_step": onset, "now": {"kl_loss": now},
               "kl_weight": s.kl_weight}
    evidence, action, collapsed = _collapse_evidence(m, s, onset, numbers)
    numbers["collapse"] = collapsed
    if collapsed:  # the decoder losing its latents' information shows as reconstruction stepping up then
        numbers["explains"] = {"loss-shift": "near", "loss-now": "near"}
    return [Case(
        f"kl_loss fell to {fmt(now)} (its current level), {signed_pct(now / peak - 1)} from its peak level "
        f"{fmt(peak)}; the fall began at {pos.at(s, onset)}. {evidence}",
        "kl_loss", onset, numbers, action=action, title=None if collapsed else FELL_TITLE,
        look=None if collapsed else "", rationale=None if collapsed else _NOT_MEASURING,
    )]


COLLAPSED_NATS_PER_DIM = 1.0  # a collapsed posterior carries next to nothing: well under a nat per latent dimension


def _far_from_prior(m: Metrics, s: Schedule, peak: float, now: float, peak_step: int) -> Case | None:
    """A KL fallen from its peak to a level that is still a nat or more per latent dimension: no collapse, which
    needs a KL near 0 in every dimension (a runaway falling back from a peak of 1e9 still holds 30,000 nats per
    dimension); None when the latent size is unknown or the level is that low."""
    numbers = {"peak_level": peak, "recent_level": now, "peak_step": peak_step, "kl_weight": s.kl_weight}
    said = per_dimension(m, s, now, numbers)
    per_dim = numbers.get("kl_per_latent_dim")
    if per_dim is None or per_dim < COLLAPSED_NATS_PER_DIM:
        return None
    return Case(
        f"kl_loss fell from its peak level {fmt(peak)} (near {pos.at(s, peak_step)}) to {fmt(now)} (its current "
        f"level).{said} That is no posterior collapse, which needs a KL near 0 in every latent dimension: the "
        f"posterior still sits far from the prior (see {see('kl-rising')}).",
        "kl_loss", peak_step, numbers | {"collapse": False}, severity="info", title=NO_COLLAPSE_TITLE)


NO_COLLAPSE_TITLE = "KL fallen from its peak, far from the prior"


def kl_collapse_short(f: Said) -> str | None:
    n = f.n
    if n.get("peak_level") and "recent_level" in n:
        return codebook_collapse_short(f)
    if "kl_per_latent_dim" in n:
        return f"kl_loss {fmt(n['kl_per_latent_dim'])} nats per latent dimension"
    if "recent_level" in n:
        level = "exactly 0" if n["recent_level"] == 0 else fmt(n["recent_level"])
        return f"kl_loss {level} from {f.at(n.get('onset_step', f.step))}"
    return None


# why a KL fallen far while reconstruction improved matters (the rule's rationale is a collapse's)
_NOT_MEASURING = ("a KL that fell to a tiny fraction of its peak while reconstruction kept improving is not measuring "
                  "the posterior's information: until it is explained, the KL checks and the KL term's share in this "
                  "report rest on a number that does not mean what it should.")


FELL_TITLE = "KL fallen far below its peak"  # the rule's case whose evidence speaks against a collapse
LIGHT_KL_WEIGHT = 1e-4  # at or below: a term too light to pull the posterior to the prior (first stages use 1e-6)


def _weight_said(s: Schedule) -> str:
    """"kl_weight 1 (vae_config.json: kl_weight)": the weight and where it was read."""
    where = s.origins.get("kl_weight")
    return f"kl_weight {fmt(s.kl_weight)}" + (f" ({where})" if where else "")


def collapse_remedy(s: Schedule, before: int | None) -> str:
    """What to do about a collapse the KL's weight drives: keep the term from pulling every dimension to the
    prior early. A KL warm-up anneals the weight from 0 at the start of training, so it is a fresh start, never a
    resume; free bits change the loss only, so they can resume from a checkpoint before the collapse began."""
    free = "add free bits (no KL penalty below a floor of about 0.1-0.5 nats per latent dimension)"
    resume = (f"{free} and resume from a checkpoint before {pos.at(s, before)}, where the KL had not fallen yet"
              if before is not None else f"{free} and train again")
    if "annealed" in s.origins.get("kl_weight", ""):  # a warm-up the run has did not prevent it
        return (f"The run already anneals its KL weight ({s.origins['kl_weight']}) and collapsed all the same: "
                f"retrain with a slower warm-up or a lower final weight than {fmt(s.kl_weight)}, or {resume}.")
    return (f"Either retrain from the start with kl_weight annealed from 0 up to {fmt(s.kl_weight)} over the first "
            f"part of training (a KL warm-up, which begins with untrained weights, so no resume), or {resume}.")


# the names a loop logs its KL weight under (an annealed beta, a KL warm-up)
KL_WEIGHT_METRICS = ("kl_weight", "beta", "kl_beta", "kl_coef", "kl_scale")


def _logged_weight(m: Metrics, s: Schedule) -> Schedule:
    """The schedule with the KL weight the logs carry where no config gives one: an annealed beta logged beside
    the KL is the weight the run used (its latest finite point), named as such."""
    if s.kl_weight is not None:
        return s
    name = next((n for n in m.names() if n.rsplit("/", 1)[-1] in KL_WEIGHT_METRICS), None)
    values = finite(m.values(name)) if name is not None else []
    if not len(values):
        return s
    annealed = f", annealed from {fmt(float(values[0]))}" if values[0] <= 0.5 * values[-1] else ""
    return replace(s, kl_weight=float(values[-1]),
                   origins={**s.origins, "kl_weight": f"the logged {name}{annealed}, at its latest point"})


def _collapse_evidence(m: Metrics, s: Schedule, onset: int, numbers: dict) -> tuple[str, str, bool]:
    """What the KL's weight and the reconstruction say about a KL's fall, as one verdict: (the sentences, the
    action, collapsed or not). A weight that is a real part of the objective (a plain VAE's 1) pulls the
    posterior to the prior, the textbook collapse, whatever the reconstruction did (a decoder ignoring its
    latents still learns the data's mean); a tiny one cannot, so a reconstruction that kept improving means the
    logged KL is not the posterior's information (how it is computed or logged), and one that got worse is a
    collapse the weight does not explain."""
    s = _logged_weight(m, s)
    before = finite(m.window("rec_loss", hi=onset)[1])
    level = m.level("rec_loss")
    light = s.kl_weight is not None and s.kl_weight <= LIGHT_KL_WEIGHT
    heavy = s.kl_weight is not None and not light
    rec, worse = "", None
    if len(before) >= 5 and level is not None:
        then = m.baseline("rec_loss", float(np.median(before[-max(5, len(before) // 10):])))
        numbers.update(rec_before=then, rec_now=level.value)
        worse = level.value > then * 1.1
        rec = f"rec_loss {describe_change(then, level.value)} since then"
        if worse:  # named as risen since the fall: no all-clear on it elsewhere (grouping.loud_metrics)
            numbers["implicates"] = {"rec_loss": "risen"}
    if heavy:
        why = (f"Under {_weight_said(s)} the KL term is a full part of the objective and pulls every latent "
               "dimension toward the prior: this is the textbook posterior collapse.")
        if worse is None:
            said = f"{why} (rec_loss is not logged across the fall to show its cost.)"
        elif worse:
            said = f"{why} {rec}, as a decoder that loses its latents' information does."
        else:
            said = (f"{why} {rec}, which does not rule it out: a decoder that ignores its latents still "
                    "learns the data's mean.")
        return said, collapse_remedy(s, onset), True
    weight = f" At {_weight_said(s)} the KL term is too light to pull the posterior to the prior." if light else ""
    look = (f"Look for what changed at {pos.at(s, onset)} (the encoder's logvar output, a clamp, a code change)"
            + ("." if light else ", and check kl_weight (the config read names none)."))
    if worse is None:
        return ("The posterior may be collapsing toward the prior (the latents carrying little information about "
                "the input); reconstruction cannot confirm it (rec_loss is not logged across the fall)." + weight,
                look, True)
    if worse:
        return (f"{rec}, as a decoder that loses its latents' information does: the posterior is collapsing toward "
                f"the prior.{weight}", look, True)
    light_said = f", and at {_weight_said(s)} the KL term is too light to pull the posterior there" if light else ""
    return (f"Yet {rec}, which a decoder ignoring its latents could not do{light_said}: this is likely no collapse, "
            "rather a KL computed or logged otherwise than the posterior's information.",
            "Check how kl_loss is computed and logged (a mean over latent dimensions instead of their sum, another "
            "tensor than the posterior the decoder samples, a missing factor).", False)


def _near_prior(m: Metrics, s: Schedule, now: float, t: dict) -> Case | None:
    """A KL so small per latent dimension that the posterior is the prior: collapsed, however it got there (it
    may never have had a peak to fall from, e.g. a kl_weight large enough to hold it down from the start)."""
    numbers: dict = {}
    if not per_dimension(m, s, now, numbers) or numbers["kl_per_latent_dim"] >= t["nats_per_dim"]:
        return None
    steps, values = m.steps("kl_loss"), m.values("kl_loss")
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    # a state holds from the point after the last one above the line (smoothed over 5 points, so that the noise
    # of a KL sitting at the line does not date it at its latest stray point), not from its first dip below
    level = rolling_median(values, 5, 3)
    above = np.flatnonzero(level > t["nats_per_dim"] * numbers["latent_dims"])
    since = int(steps[min(int(above[-1]) + 1, len(steps) - 1)]) if len(above) else int(steps[0])
    numbers.update(recent_level=now, onset_step=since, now={"kl_loss": now})
    weight = f" under kl_weight {fmt(s.kl_weight)}" if s.kl_weight is not None else ""
    return Case(
        f"kl_loss is {fmt(now)} (its current level){weight}: over {fmt(numbers['latent_dims'])} latent "
        f"dimensions that is {fmt(numbers['kl_per_latent_dim'])} nats per dimension, below "
        f"{fmt(t['nats_per_dim'])} since {pos.at(s, since)}: the posterior is the prior, so the latents carry almost "
        "nothing about the input and the decoder reconstructs from next to nothing.",
        "kl_loss", since, numbers, action=_near_prior_action(s))


def _near_prior_action(s: Schedule) -> str:
    """A KL held at the prior: the weight's doing when it is a real part of the objective; under a tiny one the
    weight cannot be, so the KL's computation is what to look at."""
    if s.kl_weight is None:
        return "Check kl_weight (a first stage uses ~1e-6) and the decoder's capacity."
    if s.kl_weight <= LIGHT_KL_WEIGHT:
        return (f"At {_weight_said(s)} the KL term cannot hold the posterior at the prior: check how kl_loss is "
                "computed and logged, and the encoder's mean and logvar outputs (detached, clamped, constant).")
    return collapse_remedy(s, None)


CODEBOOK_METRICS = ("perplexity", "codebook_perplexity", "codebook_usage", "codebook_util", "codebook_utilization",
                    "code_usage", "usage", "utilization", "used_codes", "active_codes")


def codebook_collapse(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """A VQ model's codebook health (perplexity, share of codes used) fallen far below its peak: the quantizer
    has collapsed onto a few codes, and reconstructions are built from them."""
    out = []
    for name in m.names():
        if "/" in name or name.lower() not in CODEBOOK_METRICS:
            continue
        steps, values = m.steps(name), m.values(name)
        good = np.isfinite(values)
        steps, values = steps[good], values[good]
        if len(values) < 20 or values.max() <= 0:
            continue
        k = max(3, len(values) // 10)
        sums = np.cumsum(np.concatenate(([0.0], values)))
        smooth = (sums[k:] - sums[:-k]) / k
        peak, now = float(smooth.max()), m.level(name).value  # "fell to": the one current level
        if now > t["fraction_of_peak"] * peak:
            continue
        peak_step = int(steps[int(np.argmax(smooth)) + k // 2])
        onset = departure(steps, values, peak, now, since=peak_step)
        out.append(Case(
            f"{name} fell to {fmt(now)} (its current level), {signed_pct(now / peak - 1)} from its peak level "
            f"{fmt(peak)}; the fall began at {pos.at(s, onset)}: the quantizer now uses a small part of its codebook, "
            "so reconstructions are assembled from a few codes and the rest are dead.", name, onset,
            {"peak_level": peak, "recent_level": now, "onset_step": onset, "now": {name: now}}))
    return out


def codebook_collapse_short(f: Said) -> str | None:
    """A collapse (the KL's, a codebook's): its fall from its peak."""
    n = f.n
    if "peak_level" not in n or "recent_level" not in n:
        return None
    return f"{f.metric or 'kl_loss'} fell from its peak {fmt(n['peak_level'])} to {fmt(n['recent_level'])}"
