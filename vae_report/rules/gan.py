"""GAN health once the discriminator is on: who is winning, the adaptive weight, and what it costs reconstruction."""

from __future__ import annotations

import math

import numpy as np

from ..numbers import describe_change, fmt, pct, relative_change
from ..schedule import Schedule
from ..stats import robust_noise
from .base import Case, Metrics, departure, finite
from .discriminator import disc_activity
from .losses import bookkeeping


def _recent(m: Metrics, name: str, s: Schedule, fraction: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The latest ``fraction`` of a metric's points in the adversarial phase (at least 5), or None."""
    steps, values = m.window(name, lo=s.switch_step)
    if len(steps) < 5:
        return None
    k = max(5, int(len(steps) * fraction))
    return steps[-k:], values[-k:]


def disc_overpowering(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    recent = _recent(m, "disc_loss", s, t["window"])
    if recent is None:
        return []
    steps, loss = recent
    level = float(np.median(finite(loss))) if len(finite(loss)) else float("nan")
    numbers = {"disc_loss_median": level, "from_step": int(steps[0])}
    gap_text = ""
    if m.has("logits_real") and m.has("logits_fake"):
        real = _recent(m, "logits_real", s, t["window"])
        fake = _recent(m, "logits_fake", s, t["window"])
        if real is not None and fake is not None:
            gap = float(np.median(finite(real[1])) - np.median(finite(fake[1])))
            numbers["logit_gap"] = gap
            gap_text = f"; logits_real - logits_fake = {fmt(gap)}"
            if gap < t["logit_gap"]:
                return []  # logits not separated: a low loss alone is not a winning discriminator
    # below 30% of its chance level (hinge 1, vanilla ln 2) with the logits apart: no longer a contest
    if not level < t["below_chance"] * s.disc_chance_level:
        return []
    onset = departure(*m.window("disc_loss", lo=s.switch_step), s.disc_chance_level, level)
    numbers["onset_step"] = onset
    g_text = ""
    if m.has("g_loss"):
        g = _recent(m, "g_loss", s, t["window"])
        if g is not None:
            numbers["g_loss_median"] = float(np.median(finite(g[1])))
            g_text = f", g_loss {fmt(numbers['g_loss_median'])}"
    phase_steps, phase_loss = m.window("disc_loss", lo=s.switch_step)
    head = finite(phase_loss[: max(3, len(phase_loss) // 10)])
    fell = (f"has been far below its chance level since step {fmt(int(phase_steps[0]))}, the phase's first logged "
            "point," if len(head) and np.median(head) < t["below_chance"] * s.disc_chance_level
            else f"fell from its chance level from step {fmt(onset)} on and")
    if s.disc_loss == "vanilla":
        scale = "vanilla, LDM's halved softplus: ln 2 = 0.693 at chance, 0 when it separates every input"
    else:
        scale = "hinge, LDM's halved form: 1 at chance, 0 when every real logit is >= 1 and every fake one <= -1"
    if s.layout == "flat":
        scale += "; this trainer's own scale may differ"
    return [Case(
        f"The discriminator is winning: disc_loss {fell} has a median of {fmt(level)} since step "
        f"{fmt(int(steps[0]))} ({scale}){gap_text}{g_text}. "
        "Its loss is 0 wherever it clears the margin, so it stops learning there, while the generator's term "
        "(-mean of the fake logits) keeps pushing"
        + (" with the adaptive d_weight" if s.layout != "flat" else "")
        + ": the adversarial term tends to take over the objective at the cost of reconstruction. Lower "
        "disc_weight or the discriminator's learning rate, or start it later.",
        "disc_loss", onset, numbers,
    )]


def d_weight_pinned(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    recent = _recent(m, "d_weight", s, t["window"])
    if recent is None:
        return []
    all_steps, all_weight = m.window("d_weight", lo=s.switch_step)
    if len(finite(all_weight)) >= 5 and np.all(finite(all_weight) == 0):
        # its lower clamp: the adversarial term d_weight x g_loss is identically 0, the GAN phase does nothing
        if s.disc_weight == 0:  # the config asks for it: the adaptive weight is multiplied by disc_weight
            why = (f"The config sets disc_weight 0 (from {s.origins.get('disc_weight', 'the config')}), and the "
                   "adaptive weight is multiplied by it: the GAN term is switched off by the config. Set disc_weight "
                   "(RadioDiff and LDM use 0.5) if the adversarial phase was meant to train the autoencoder.")
        else:
            why = ("LDM's loss returns 0 when the adaptive weight cannot be computed (no last_layer gradient, e.g. in "
                   "eval mode): check the generator's backward pass.")
        return [Case(
            f"d_weight is exactly 0 at all {fmt(len(finite(all_weight)))} points since step {fmt(int(all_steps[0]))}: "
            "the adversarial term d_weight x disc_factor x g_loss is identically 0, so the discriminator trains but "
            f"the autoencoder never feels it. {why}",
            "d_weight", int(all_steps[0]), {"ceiling": 0.0, "share_at_ceiling": 1.0, "onset_step": int(all_steps[0])},
        )]
    steps, weight = recent
    ceiling = 1e4 * s.disc_weight
    pinned = float(np.mean(weight >= t["at_ceiling"] * ceiling))
    if pinned < t["share"] or not pinned:  # a share threshold of 0 still needs a point at the ceiling
        return []
    all_steps, all_weight = m.window("d_weight", lo=s.switch_step)
    before = float(np.median(all_weight[: max(3, len(all_weight) // 10)]))
    at = all_weight >= t["at_ceiling"] * ceiling
    if before >= t["at_ceiling"] * ceiling and at.any():  # pinned from the phase's start: its first point there
        onset = int(all_steps[at][0])
    else:
        onset = departure(all_steps, all_weight, before, ceiling, fraction=0.9)
    numbers = {"ceiling": ceiling, "share_at_ceiling": pinned, "onset_step": onset}
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
                   f"{fmt(len(early))} points logged before step {fmt(s.switch_step)}), so nothing about the GAN "
                   "phase moved it there.")
    found = bookkeeping(m, s)
    why = ""
    if found is not None and found.pixels >= 4096:
        numbers["pixels_per_sample"] = round(found.pixels)
        why = (f" With nll summed over {fmt(round(found.pixels))} pixels its gradient is large, so the ratio of "
               "gradient norms passes the clamp sooner; still, at the clamp the weight no longer adapts.")
    return [Case(
        f"d_weight sits at its clamp ({fmt(ceiling)} = 1e4 x disc_weight {fmt(s.disc_weight)}) at "
        f"{pinned * 100:.0f}% of the recent points, since step {fmt(onset)}: the GAN term's gradient at the "
        f"decoder's last layer is tiny against the nll's, so the adaptive weight no longer balances anything."
        f"{already}{why} At the clamp the GAN term's weight is fixed at 1e4 x disc_weight: lower disc_weight if "
        "that term is too strong, and look at the reconstructions for GAN artefacts.",
        "d_weight", onset, numbers,
    )]


def rec_after_disc(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    activity = disc_activity(m)
    if activity is not None and not activity[2][activity[1] >= s.switch_step].any():
        return []  # it never switched on (disc-inactive-after-start): there is no "after" to compare
    before_steps, before = m.window("rec_loss", hi=s.switch_step)
    recent = _recent(m, "rec_loss", s, t["window"])
    if recent is None or len(finite(before)) < 5:
        return []
    k = max(5, int(len(before) * t["window"]))
    if not np.isfinite(recent[1][-1]):
        return []  # NaN/Inf at the latest step: the non-finite finding says so
    base = float(np.median(finite(before[-k:])))
    level = m.level("rec_loss")  # the one current level of rec_loss, inside the adversarial phase
    now = level.value
    change = relative_change(base, now)
    noise = math.hypot(1.25 * robust_noise(finite(before[-k:])) / np.sqrt(k), level.noise)
    phase_steps, phase_values = m.window("rec_loss", lo=s.switch_step)
    onset = departure(phase_steps, phase_values, base, now)
    numbers = {"before_level": base, "recent_level": now, "change": change, "onset_step": onset}
    moved = describe_change(base, now, noise=noise)
    since = (f"comparing its median just before step {fmt(s.switch_step)} with its current level (since step "
             f"{fmt(level.first_step)})")
    settled = finite(phase_values[: max(5, len(phase_values) * 3 // 10)])
    if change is not None and t["worse"] < change <= 2 * t["worse"] and now - base > 2 * noise \
            and len(finite(phase_values)) >= 20 and now <= float(np.median(settled)) * (1 + t["worse"] / 2):
        # a modest cost that came with the switch-on and has not grown since: the usual price of the adversarial
        # term (a larger one is a regression however steady)
        numbers["early_phase_level"] = float(np.median(settled))
        return [Case(
            f"Reconstruction costs more since the discriminator started: {since}, rec_loss {moved}; that cost came "
            f"with the switch-on and has held since (median {fmt(numbers['early_phase_level'])} over the phase's "
            "first 30%), not grown: the usual price of the adversarial term. Lower disc_weight if it matters.",
            "rec_loss", int(phase_steps[0]), numbers, severity="info")]
    if change is not None and change > t["worse"] and now - base > 2 * noise:
        return [Case(
            f"Reconstruction got worse once the discriminator started: {since}, rec_loss {moved}; the rise began "
            f"at step {fmt(onset)}. Some loss is common at first; if it persists, lower disc_weight.",
            "rec_loss", onset, numbers,
        )]
    slight = change is not None and now > base and not moved.startswith("held")
    head = (f"Reconstruction got a little worse once the discriminator started, less than the "
            f"{pct(t['worse'], 0)} that would be a regression") if slight else \
        "Reconstruction did not get worse once the discriminator started"
    return [Case(f"{head}: {since}, rec_loss {moved}.", "rec_loss", int(recent[0][0]), numbers, severity="ok",
                 case="slightly-worse" if slight else None)]


def _flat(values: np.ndarray) -> bool:
    """Constant to float noise (a value that is only ever rewritten, never learned)."""
    values = finite(values)
    return len(values) >= 5 and float(np.ptp(values)) <= 1e-6 * max(1.0, float(np.max(np.abs(values))))


def _not_learning(m: Metrics, s: Schedule, lo: int) -> list[str]:
    """Evidence that the discriminator does not learn from ``lo`` on: what an expert would check."""
    evidence = []
    _, loss = m.window("disc_loss", lo=lo)
    # a hinge loss of exactly 0 is a discriminator clearing the margin everywhere (winning), not a frozen one
    if len(finite(loss)) >= 5 and float(np.ptp(finite(loss))) == 0.0 and float(finite(loss)[0]) != 0.0:
        evidence.append(f"disc_loss is exactly {fmt(float(finite(loss)[0]))} at every point")
    if m.has("logits_real") and m.has("logits_fake"):
        rs, real = m.window("logits_real", lo=lo)
        fs, fake = m.window("logits_fake", lo=lo)
        if _flat(real) and _flat(fake):
            evidence.append("logits_real and logits_fake do not move (constant to float precision)")
        shared, ri, fi = np.intersect1d(rs, fs, return_indices=True)
        if len(shared) >= 5:
            gap = np.abs(real[ri] - fake[fi])
            if np.all(gap[np.isfinite(gap)] <= 1e-6 * np.maximum(1.0, np.abs(real[ri][np.isfinite(gap)]))):
                evidence.append("logits_real and logits_fake are identical at every shared step")
    if m.has("lr_disc"):
        _, lr = m.window("lr_disc", lo=lo)
        if len(finite(lr)) and np.all(finite(lr) == 0):
            evidence.append("the discriminator's learning rate is 0")
    return evidence


def disc_at_chance(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    steps, loss = m.window("disc_loss", lo=s.switch_step)
    good = np.isfinite(loss)
    steps, loss = steps[good], loss[good]
    if len(loss) < 5:
        return []
    chance = s.disc_chance_level
    evidence = _not_learning(m, s, s.switch_step)
    # judge the median of short chunks, so single noisy points do not break a stretch at chance
    chunks = np.array_split(np.arange(len(loss)), max(1, min(40, len(loss) // 5)))
    level = float(np.median(loss[-max(5, len(loss) // 5):]))
    # how long it has sat at its current level, that level being near chance (a hinge D settles a little under
    # 1): measured around the level, so a steady 0.947 is not cut into pieces by a band around 1.0
    near = np.array([abs(np.median(loss[c]) - level) <= t["band"] for c in chunks]) \
        if abs(level - chance) <= 2 * t["band"] else np.zeros(len(chunks), dtype=bool)
    trailing_chunks = len(near) if near.all() else int(np.argmin(near[::-1]))
    if evidence:
        return [Case(
            f"The discriminator is not learning since step {fmt(int(steps[0]))}: " + "; ".join(evidence) + ". "
            f"Its loss reads {fmt(level)} (chance level {fmt(chance)}), but nothing it outputs changes: check that "
            "its optimizer steps, its learning rate, and that the logged logits come from the discriminator.",
            "disc_loss", int(steps[0]), {"chance_level": chance, "evidence": evidence},
        )]
    if trailing_chunks == 0:
        return []
    start = int(steps[int(chunks[len(chunks) - trailing_chunks][0])])
    span = int(steps[-1] - start)
    adversarial = int(steps[-1] - s.switch_step)
    numbers = {"chance_level": chance, "steps_at_chance": span, "adversarial_steps": adversarial}
    logits = _logit_sides(m, s)
    long = span >= t["min_steps"] and span >= t["share"] * adversarial
    if not long:
        return [Case(
            f"disc_loss is at its equilibrium ({fmt(level)}; chance level {fmt(chance)} for the "
            f"{s.disc_loss or 'hinge'} loss) for the {fmt(span)} steps since step {fmt(start)}: the discriminator "
            f"cannot tell real from reconstructed, "
            + ("the usual state after it starts." if start - s.switch_step <= t["min_steps"]
               else "the usual state of a balanced GAN.") + logits,
            "disc_loss", start, numbers, severity="ok")]
    return [Case(
        f"disc_loss has stayed at its equilibrium ({fmt(level)}; chance level {fmt(chance)} for the "
        f"{s.disc_loss or 'hinge'} loss) for {fmt(span)} steps, since step {fmt(start)}.{logits} Two readings: "
        "the generator keeps the discriminator at chance, the equilibrium the adversarial loss aims at (near-equal "
        "logits are what a balanced discriminator shows); or the discriminator is too weak to matter. Its logits "
        "move and its loss is not constant, so it is learning; where there is harm it shows in reconstruction, "
        "which the rec-after-disc check watches.",
        "disc_loss", start, numbers, severity="info")]


def _logit_sides(m: Metrics, s: Schedule) -> str:
    if not (m.has("logits_real") and m.has("logits_fake")):
        return ""
    real = finite(m.window("logits_real", lo=s.switch_step)[1])
    fake = finite(m.window("logits_fake", lo=s.switch_step)[1])
    if len(real) < 5 or len(fake) < 5:
        return ""
    k_r, k_f = max(5, len(real) // 5), max(5, len(fake) // 5)
    r, f = float(np.median(real[-k_r:])), float(np.median(fake[-k_f:]))
    sides = "real above fake, as they should be" if r > f else "fake at or above real"
    return f" Recent logits: real {fmt(r)}, fake {fmt(f)} ({sides})."


def generator_winning(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """The other side of the balance: the discriminator losing (above chance, logits inverted), d_weight
    growing by orders of magnitude, g_loss running away."""
    signals, numbers, onsets = [], {}, []
    chance = s.disc_chance_level
    recent = _recent(m, "disc_loss", s, t["window"])
    if recent is not None and len(finite(recent[1])):
        level = float(np.median(finite(recent[1])))
        numbers["disc_loss_median"] = level
    inverted = _inverted_logits(m, s, t)
    if recent is not None and len(finite(recent[1])):
        # well above chance is a sign on its own; slightly above it only together with inverted logits
        if level > chance * (1 + t["above_chance"]) or (inverted is not None and level > chance * 1.05):
            signals.append(f"disc_loss {fmt(level)} is above its chance level {fmt(chance)}")
            onsets.append(departure(*m.window("disc_loss", lo=s.switch_step), chance, level))
    if inverted is not None:
        signals.append(inverted[0])
        onsets.append(inverted[1])
    grown = _grew(m, s, "d_weight", t["weight_growth"])
    if grown is not None:
        first, last, onset = grown
        numbers.update(d_weight_first=first, d_weight_recent=last)
        signals.append(f"d_weight grew from {fmt(first)} to {fmt(last)} ({fmt(round(last / first))} times)")
        onsets.append(onset)
    runaway = _g_runaway(m, s, t)
    if runaway is not None:
        signals.append(runaway[0])
        onsets.append(runaway[1])
    if not signals:
        return []
    strong = len(signals) >= 2 or grown is not None
    step = min(onsets)
    numbers["signals"] = signals
    return [Case(
        "The balance leans to the generator: " + "; ".join(signals) + ". "
        + ("The discriminator is losing the game, so the adversarial term pushes reconstructions toward whatever "
           "fools a weak critic: lower disc_weight, or give the discriminator more capacity or learning rate."
           if strong else "One sign alone is not a fault; watch it at the next report."),
        "disc_loss", step, numbers, severity="warning" if strong else "info",
    )]


def _inverted_logits(m: Metrics, s: Schedule, t: dict) -> tuple[str, int] | None:
    if not (m.has("logits_real") and m.has("logits_fake")):
        return None
    real, fake = _recent(m, "logits_real", s, t["window"]), _recent(m, "logits_fake", s, t["window"])
    if real is None or fake is None:
        return None
    shared, ri, fi = np.intersect1d(real[0], fake[0], return_indices=True)
    if len(shared) < 5:
        return None
    gap = fake[1][fi] - real[1][ri]
    gap = gap[np.isfinite(gap)]
    if len(gap) and np.mean(gap > 0) >= t["inverted_share"] and np.median(gap) > 0:
        rs, rv = m.window("logits_real", lo=s.switch_step)
        fs, fv = m.window("logits_fake", lo=s.switch_step)
        both, ri, fi = np.intersect1d(rs, fs, return_indices=True)
        whole = fv[fi] - rv[ri]
        early = float(np.median(whole[: max(3, len(whole) // 10)]))
        onset = departure(both, whole, min(early, 0.0), float(np.median(gap)))
        return (f"logits_fake sits above logits_real at {np.mean(gap > 0) * 100:.0f}% of the recent points "
                f"(median fake - real {fmt(float(np.median(gap)))}): the discriminator rates reconstructions as "
                "more real than the data", onset)
    return None


def _grew(m: Metrics, s: Schedule, name: str, factor: float) -> tuple[float, float, int] | None:
    if not m.has(name):
        return None
    steps, values = m.window(name, lo=s.switch_step)
    good = np.isfinite(values) & (values > 0)
    steps, values = steps[good], values[good]
    if len(values) < 10:
        return None
    k = max(5, len(values) // 5)
    first, last = float(np.median(values[:k])), float(np.median(values[-k:]))
    if first <= 0 or last < factor * first:
        return None
    return first, last, departure(steps, np.log(values), np.log(first), np.log(last), fraction=0.1)


def _g_runaway(m: Metrics, s: Schedule, t: dict) -> tuple[str, int] | None:
    if not m.has("g_loss"):
        return None
    steps, values = m.window("g_loss", lo=s.switch_step)
    values, steps = values[np.isfinite(values)], steps[np.isfinite(values)]
    if len(values) < 10:
        return None
    k = max(5, len(values) // 5)
    first, last = float(np.median(values[:k])), float(np.median(values[-k:]))
    # g_loss = -mean(logits_fake): far below 0 the critic rates reconstructions as real (the generator wins);
    # far above 0 it rejects them, which is the discriminator winning, not this
    if last <= -t["g_runaway"] and abs(last) >= 10 * max(abs(first), 1e-3):
        return (f"g_loss ran away from {fmt(first)} to {fmt(last)} (the critic scores reconstructions ever more "
                "real)", int(steps[-k]))
    return None
