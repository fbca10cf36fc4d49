"""The adversarial term in the autoencoder's objective: its adaptive weight d_weight at the clamp (for most of the
recent points, or in recurring bursts that set reconstruction back), and the term d_weight x disc_factor x g_loss
taking over the objective."""

from __future__ import annotations

import numpy as np

from .. import position as pos
from ..levels import window_size
from ..numbers import counted, describe_change, fmt, pct
from ..schedule import Schedule
from .base import Case, Metrics, departure, finite, weight_zero
from .bookkeeping import bookkeeping
from .decomposition import ALIKE, DOMINANT, decompose, share_of, share_text
from .gan import latest_in_phase, phase_ends
from .knobs import chase_less, sentence, suggested_weight
from .said import Said


def d_weight_pinned(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    recent = latest_in_phase(m, "d_weight", s, t["window"])
    if recent is None:
        return []
    all_steps, all_weight = m.window("d_weight", lo=s.switch_step)
    if weight_zero(m, s):
        # its lower clamp: the adversarial term d_weight x g_loss is identically 0, the GAN phase does nothing
        if s.disc_weight == 0:  # the config asks for it: the adaptive weight is multiplied by disc_weight
            why = (f"The config sets disc_weight 0 ({s.key_path('disc_weight')}), and the "
                   "adaptive weight is multiplied by it: the GAN term is switched off by the config. Set disc_weight "
                   "(RadioDiff and LDM use 0.5) if the adversarial phase was meant to train the autoencoder.")
            action = (f"Set disc_weight ({s.key_path('disc_weight')}; RadioDiff and LDM use 0.5) if the "
                      "autoencoder was meant to chase the discriminator (it weights only the generator's adversarial "
                      "term).")
        else:
            why = ("LDM's loss returns 0 when the adaptive weight cannot be computed (no last_layer gradient, e.g. in "
                   "eval mode), or when the last layer's gradient of the nll is 0: check the generator's backward "
                   "pass.")
            action = ("Check the generator's backward pass, so that the decoder's last layer gets a gradient from "
                      "the nll and from g_loss (not in eval mode, not detached).")
        return [Case(
            f"d_weight is exactly 0 at all {fmt(len(finite(all_weight)))} points since {pos.at(s, int(all_steps[0]))}: "
            "the adversarial term d_weight x disc_factor x g_loss is identically 0, so the discriminator trains but "
            f"the autoencoder never feels it. {why}",
            "d_weight", int(all_steps[0]), {"ceiling": 0.0, "share_at_ceiling": 1.0, "onset_step": int(all_steps[0]),
                                            # the discriminator winning unopposed is this cause's symptom
                                            "explains": {"disc-overpowering": "any"}},
            case="zero", title="Adversarial term weighted by 0", action=action, look="",
            rationale="With d_weight 0 the adversarial term is identically 0: the discriminator trains, but the "
                      "autoencoder never gets its adversarial gradient, so the GAN phase costs compute and sharpens "
                      "nothing.",
        )]
    steps, weight = recent
    # a value at the clamp is a finite one: Inf is no clamp's output (torch.clamp gives 1e4 for it), it is a
    # d_weight that broke, which the non-finite check names
    keep = np.isfinite(weight)
    if not keep.any():
        return []
    steps, weight = steps[keep], weight[keep]
    ceiling = 1e4 * s.disc_weight
    pinned = float(np.mean(weight >= t["at_ceiling"] * ceiling))
    if pinned < t["share"] or not pinned:  # a share threshold of 0 still needs a point at the ceiling
        return _bursts_finding(m, s, t, ceiling)
    all_steps, all_weight = m.window("d_weight", lo=s.switch_step)
    finite_weight = np.isfinite(all_weight)
    all_steps, all_weight = all_steps[finite_weight], all_weight[finite_weight]
    before = float(np.median(all_weight[: max(3, len(all_weight) // 10)]))
    at = all_weight >= t["at_ceiling"] * ceiling
    if before >= t["at_ceiling"] * ceiling and at.any():  # pinned from the phase's start: its first point there
        onset = int(all_steps[at][0])
    else:
        onset = regime_onset(all_steps, at)
    since_share = float(np.mean(at[all_steps >= onset]))
    numbers = {"ceiling": ceiling, "share_at_ceiling": pinned, "onset_step": onset, "share_since_onset": since_share}
    # at the clamp on and off (bursts): the share since the first burst, not "since" the latest stretch
    bursty = (f", in recurring bursts since {pos.at(s, onset)} ({pct(since_share, 0)} of the points since then)"
              if since_share < 0.9 else f", since {pos.at(s, onset)}")
    early_steps, early = m.window("d_weight", hi=s.switch_step)
    good = np.isfinite(early)
    early_steps, early = early_steps[good], early[good]
    already = ""
    if len(early) >= 5 and np.mean(early >= t["at_ceiling"] * ceiling) >= t["share"] and \
            (early >= t["at_ceiling"] * ceiling).any():
        # LDM computes the weight before disc_start too (multiplied by disc_factor 0): pinned there as well
        share = float(np.mean(early >= t["at_ceiling"] * ceiling))
        onset = numbers["onset_step"] = int(early_steps[np.flatnonzero(early >= t["at_ceiling"] * ceiling)[0]])
        numbers["pinned_before_switch"] = True
        already = (f" It sat there before the discriminator switched on as well ({pct(share)} of the "
                   f"{fmt(len(early))} points logged before {pos.at(s, s.switch_step)}), so nothing about the GAN "
                   "phase moved it there.")
    found = bookkeeping(m, s)
    why = ""
    if found is not None and found.pixels >= 4096:
        numbers["pixels_per_sample"] = round(found.pixels)
        why = (f" With nll summed over {fmt(round(found.pixels))} pixels its gradient is large, so the ratio of "
               "gradient norms passes the clamp sooner; still, at the clamp the weight no longer adapts.")
    return [Case(
        f"d_weight sits at its clamp ({fmt(ceiling)} = 1e4 x disc_weight {fmt(s.disc_weight)}) at "
        f"{pinned * 100:.0f}% of the recent points{bursty}: the GAN term's gradient at the "
        f"decoder's last layer is tiny against the nll's, so the adaptive weight no longer balances anything."
        f"{already}{why} At the clamp the GAN term's weight is fixed at 1e4 x disc_weight.",
        "d_weight", onset, numbers, action=f"If the adversarial term is too strong, {chase_less(s)}.",
    )]


def d_weight_pinned_short(f: Said) -> str | None:
    n = f.n
    if "ceiling" not in n:
        return None
    if f.case == "zero" or n["ceiling"] == 0:  # no clamp: an adversarial term weighted by 0
        return f"d_weight exactly 0 from {f.at(n.get('onset_step', f.step))}: the adversarial term weighted by 0"
    if n.get("bursts"):  # at the clamp in recurring bursts, not most of the time
        return (f"d_weight at its clamp {fmt(n['ceiling'])} in {counted(len(n['bursts']), 'burst')} from "
                f"{f.at(n['bursts'][0][0])}")
    share = n.get("share_since_onset", n.get("share_at_ceiling"))
    return (f"d_weight at its clamp {fmt(n['ceiling'])}" + (f" at {pct(share, 0)} of the points" if share else "")
            + (f" since {f.at(n['onset_step'])}" if "onset_step" in n else ""))


def regime_onset(steps: np.ndarray, at: np.ndarray) -> int:
    """Where a state (``at``: d_weight at its clamp) became frequent: the split of the points into a before and
    an after whose shares of the state differ most (the argmax of the CUSUM of the indicator against its mean,
    a binary change point), then the first point in the state from there. Bursts that come and go are dated at
    the first burst of the regime, not where its latest stretch starts; a stray early hit does not move it."""
    x = at.astype(np.float64)
    if not len(x) or not x.any():
        return int(steps[-1]) if len(steps) else 0
    n = len(x)
    k = np.arange(1, n)
    before = np.cumsum(x)[:-1] / k
    after = (x.sum() - np.cumsum(x)[:-1]) / (n - k)
    # the difference of the shares, weighted as a two-sample test would (long stretches on both sides count)
    score = (after - before) * np.sqrt(k * (n - k) / n)
    split = int(np.argmax(score)) + 1 if len(score) and score.max() > 0 else 0
    first = np.flatnonzero(x[split:])
    return int(steps[split + int(first[0])]) if len(first) else int(steps[np.flatnonzero(x)[0]])


def clamp_bursts(m: Metrics, s: Schedule, at_ceiling: float = 0.99) -> list[tuple[int, int]]:
    """(first step, last step) of each stretch where d_weight sits at its clamp 1e4 x disc_weight after the
    switch-on (stretches a point or two apart are one); empty when it never does, or sits there throughout."""
    key = ("clamp_bursts", at_ceiling)
    if key in m.memo:
        return m.memo[key]
    out: list[tuple[int, int]] = []
    if m.has("d_weight") and s.disc_weight and s.switch_step is not None:
        steps, weight = m.window("d_weight", lo=s.switch_step)
        at = np.isfinite(weight) & (weight >= at_ceiling * 1e4 * s.disc_weight)
        if at.any() and not at.all():
            edges = np.flatnonzero(np.diff(np.concatenate(([0], at.astype(np.int8), [0]))))
            for a, b in zip(edges[::2], edges[1::2] - 1, strict=True):
                if out and a - int(np.searchsorted(steps, out[-1][1])) <= 3:  # a point or two below it: one burst
                    out[-1] = (out[-1][0], int(steps[b]))
                else:
                    out.append((int(steps[a]), int(steps[b])))
    m.memo[key] = out
    return out


def _burst_effect(m: Metrics, bursts: list[tuple[int, int]]) -> tuple[float, float, float] | None:
    """(median ratio of rec's level in each burst to its level just before it, median level in the bursts, median
    level before them), or None without rec_loss points enough around them."""
    if not m.has("rec_loss"):
        return None
    steps, values = m.steps("rec_loss"), m.values("rec_loss")
    ratios, inside, before = [], [], []
    for a, b in bursts:
        i, j = int(np.searchsorted(steps, a)), int(np.searchsorted(steps, b, "right"))
        k = max(3, j - i)
        within, prior = finite(values[i:j]), finite(values[max(0, i - 3 * k):i])
        if len(within) and len(prior) >= 3 and np.median(prior) > 0:
            inside.append(float(np.median(within)))
            before.append(float(np.median(prior)))
            ratios.append(inside[-1] / before[-1])
    if not ratios:
        return None
    return float(np.median(ratios)), float(np.median(inside)), float(np.median(before))


def _bursts_finding(m: Metrics, s: Schedule, t: dict, ceiling: float) -> list[Case]:
    """d_weight reaching its clamp again and again, and what reconstruction does each time."""
    bursts = clamp_bursts(m, s, t["at_ceiling"])
    if len(bursts) < 2:
        return []
    steps, _ = m.window("d_weight", lo=s.switch_step)
    at_share = sum(int(np.searchsorted(steps, b, "right") - np.searchsorted(steps, a)) for a, b in bursts) / len(steps)
    shown = ", ".join(f"{fmt(a)}-{fmt(b)}" if b > a else fmt(a) for a, b in bursts[:5]) \
        + (f" and {len(bursts) - 5} more" if len(bursts) > 5 else "")
    effect = _burst_effect(m, bursts)
    numbers = {"ceiling": ceiling, "bursts": [list(b) for b in bursts], "share_at_ceiling": at_share,
               "onset_step": bursts[0][0]}
    head = (f"d_weight hits its clamp ({fmt(ceiling)} = 1e4 x disc_weight {fmt(s.disc_weight)}) in "
            f"{len(bursts)} recurring bursts since {pos.at(s, bursts[0][0])} ({pos.units(s)} {shown}; "
            f"{pct(at_share)} of the points since the discriminator started)")
    if effect is None or effect[0] < 1 + t["burst_worse"]:
        rec = (f", and rec_loss does not rise with them ({fmt(effect[1])} in them against {fmt(effect[2])} just "
               "before)" if effect is not None else "")
        return [Case(f"{head}{rec}. At the clamp the weight no longer adapts; watch whether the bursts grow.",
                     "d_weight", bursts[0][0], numbers, severity="info")]
    numbers.update(rec_ratio=effect[0], rec_in_bursts=effect[1], rec_before_bursts=effect[2])
    return [Case(
        f"{head}, and rec_loss rises {fmt(round(effect[0], 1))} times its level in each (median {fmt(effect[1])} "
        f"in the bursts against {fmt(effect[2])} just before them). While the weight sits at its ceiling the GAN "
        "term's gradient at the decoder's last layer is tiny against the nll's, the adversarial term is at its "
        "largest and pushes the decoder off: each burst sets reconstruction back. These are not isolated spikes "
        "from hard batches.",
        "d_weight", bursts[0][0], numbers,
        action=f"{sentence(chase_less(s))}, and look at what precedes each burst (the discriminator's logits, "
               "the data).",
    )]


def _as_large(adv, nll) -> str:
    """How the adversarial term's share stands against the nll's, in words that fit the two numbers and their
    noise: "dominates" only when even its least share the noise allows is two thirds of the loss's size
    (decomposition.DOMINANT)."""
    if adv.low >= DOMINANT:
        return "dominates the objective"
    if nll is not None and adv.known and nll.known and abs(adv.share - nll.share) <= ALIKE:
        return f"is about as large as the reconstruction term (nll {share_text(nll.share)})"
    if adv.share >= DOMINANT:
        return "is the largest term of the objective, maybe dominating it (the terms' noise allows either)"
    return "is the largest term of the objective"


def _titled(stands: str) -> str | None:
    """The row's title in the words of its sentence: "dominating" only for a term that dominates (None: the
    rule's own title); a term short of it is named as what it is, so that the title never says more."""
    if stands.startswith("dominates"):
        return None
    if stands.startswith("is about as large"):
        return "Adversarial term as large as the reconstruction term"
    return "Adversarial term the largest in the objective"


def gan_term_dominant(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """The adversarial term d_weight x disc_factor x g_loss taking over the objective: its share of the loss's
    size (the breakdown of total_loss: one share everywhere) at ``share`` or more, grown ``growth``-fold since the
    phase began (a term that has been that large since the switch-on is described, not faulted); a term whose
    mean is within its noise over the window gets no share (why is said)."""
    found = bookkeeping(m, s)
    parts = decompose(m, s)
    adv = parts.term("adversarial") if parts is not None else None
    if found is None or s.switch_step is None or adv is None or not np.isfinite(adv.share):
        return []
    on = found.steps >= s.switch_step
    steps = found.steps[on]
    if len(steps) < 20 or (parts.first is not None and parts.first < s.switch_step):
        return []
    share = adv.share
    if share < t["share"]:
        return []
    if not adv.judged:  # a mean within its noise (a term that changes sign over the window) is no share
        # why is the breakdown's to say (under total_loss): said once there, pointed to here
        how = "changes sign" if adv.changes_sign else "swings more than its mean"
        return [Case(f"The adversarial term's share of the loss cannot be judged: over {parts.window()} it {how}, "
                     "its mean within its noise (the breakdown of total_loss gives every term).",
                     "total_loss", int(parts.step),  # the window's last step: it says the share now
                     {"adversarial_share": None, "adversarial_mean": adv.value, "adversarial_noise": adv.noise},
                     severity="info", case="unjudged", title="Adversarial term's share not judged")]
    # its size at the phase's start: the same mean over the phase's first 5% of aligned steps (the window of a
    # phase's start level) as the breakdown takes over the window of the total's current level
    head = window_size(len(steps))
    early, now = abs(float(np.mean(found.terms["adversarial"][on][:head]))), abs(adv.value)
    numbers = {"adversarial_share": share, "adversarial_early": early, "adversarial_now": now}
    drivers = []
    for name in ("d_weight", "g_loss"):
        ends = phase_ends(m, s, name) if m.has(name) else None
        if ends is not None and ends[0] != 0 and not 0.67 <= ends[1] / ends[0] <= 1.5:
            drivers.append(f"{name} {describe_change(ends[0], ends[1], signed=name == 'g_loss')}")
            numbers.setdefault("now", {})[name] = ends[1]
            if ends[1] > ends[0]:
                numbers.setdefault("rising_terms", []).append(name)
    weight = (f" (disc_weight {fmt(s.disc_weight)}, from {s.origins.get('disc_weight', 'the config')})"
              if s.disc_weight is not None else "")
    stands = _as_large(adv, parts.term("nll"))
    of = parts.of_size(adv)
    if early <= 0 or now < t["growth"] * early:
        then = (f"mean size {fmt(early)} over the phase's first {fmt(head)} points, {fmt(now)} now")
        since = (f"has been about that large since the discriminator started ({then})" if now >= early / 1.5 else
                 f"was larger still when the discriminator started ({then})")
        return [Case(
            f"The adversarial term d_weight x disc_factor x g_loss{weight} {stands}: it is {of}, and {since}: a "
            "large GAN term that did not grow, not a balance that tipped. Watch whether reconstruction gets worse.",
            "total_loss", int(parts.step), numbers, severity="info", title=_titled(stands))]  # size now: at its end
    adv_series = np.abs(found.terms["adversarial"][on])
    onset = departure(steps, np.log(np.maximum(adv_series, 1e-300)), np.log(max(early, 1e-300)), np.log(now),
                      fraction=0.2)
    numbers["onset_step"] = onset
    grown = f" ({'; '.join(drivers)})" if drivers else ""
    return [Case(
        f"The adversarial term d_weight x disc_factor x g_loss {stands} since {pos.at(s, onset)}: its mean size "
        f"grew from {fmt(early)} over the phase's first {fmt(head)} points to {fmt(now)}{grown}, and it is {of}. "
        "The autoencoder is then trained more to fool the discriminator than to reconstruct.",
        "total_loss", onset, numbers, case="term-grown", title=_titled(stands),
        action=f"{sentence(chase_less(s, suggested_weight(s)))}.",
    )]


def gan_term_dominant_short(f: Said) -> str | None:
    n = f.n
    if n.get("adversarial_share") is None:  # a mean within its noise: no share to give
        return (f"the adversarial term's mean {fmt(n['adversarial_mean'])} ± {fmt(n.get('adversarial_noise'))}, "
                "within its noise: no share" if "adversarial_mean" in n else None)
    said = f"the adversarial term {share_of(n['adversarial_share'])} of the loss's size"
    if "adversarial_early" in n and "adversarial_now" in n and "onset_step" in n:
        said += (f", its mean size grown from {fmt(n['adversarial_early'])} to {fmt(n['adversarial_now'])} since "
                 f"{f.at(n['onset_step'])}")
    return said
