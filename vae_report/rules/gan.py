"""GAN health once the discriminator is on: who is winning, the adaptive weight, and what it costs reconstruction."""

from __future__ import annotations

import numpy as np

from ..numbers import fmt, signed_pct
from ..schedule import Schedule
from .base import Finding, Metrics, finite


def _recent(m: Metrics, name: str, s: Schedule, fraction: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The latest ``fraction`` of a metric's points in the adversarial phase (at least 5), or None."""
    steps, values = m.window(name, lo=s.disc_start)
    if len(steps) < 5:
        return None
    k = max(5, int(len(steps) * fraction))
    return steps[-k:], values[-k:]


def disc_overpowering(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
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
    if not level < t["disc_loss"]:
        return []
    g_text = ""
    if m.has("g_loss"):
        g = _recent(m, "g_loss", s, t["window"])
        if g is not None:
            numbers["g_loss_median"] = float(np.median(finite(g[1])))
            g_text = f", g_loss {fmt(numbers['g_loss_median'])}"
    return [Finding(
        "disc-overpowering", "warning",
        f"The discriminator is winning: disc_loss has a median of {fmt(level)} since step {fmt(int(steps[0]))} "
        f"(hinge: 1 at chance, 0 when every real logit is >= 1 and every fake one <= -1){gap_text}{g_text}. "
        "The generator gets little useful gradient; lower disc_weight or the discriminator's learning rate, "
        "or start it later.",
        "disc_loss", int(steps[0]), numbers,
    )]


def d_weight_pinned(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    recent = _recent(m, "d_weight", s, t["window"])
    if recent is None:
        return []
    steps, weight = recent
    ceiling = 1e4 * s.disc_weight
    pinned = float(np.mean(weight >= t["at_ceiling"] * ceiling))
    if pinned < t["share"]:
        return []
    return [Finding(
        "d-weight-pinned", "warning",
        f"d_weight sits at its clamp ({fmt(ceiling)} = 1e4 x disc_weight {fmt(s.disc_weight)}) at "
        f"{pinned * 100:.0f}% of the recent points since step {fmt(int(steps[0]))}: the GAN term's gradient at the "
        "decoder's last layer has all but vanished, so the adaptive weight no longer balances anything.",
        "d_weight", int(steps[0]), {"ceiling": ceiling, "share_at_ceiling": pinned},
    )]


def rec_after_disc(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    before_steps, before = m.window("rec_loss", hi=s.disc_start)
    recent = _recent(m, "rec_loss", s, t["window"])
    if recent is None or len(finite(before)) < 5:
        return []
    k = max(5, int(len(before) * t["window"]))
    base = float(np.median(finite(before[-k:])))
    now = float(np.median(finite(recent[1])))
    change = now / base - 1 if base else float("nan")
    numbers = {"before_level": base, "recent_level": now, "change": change}
    if change > t["worse"]:
        return [Finding(
            "rec-after-disc", "warning",
            f"Reconstruction got worse once the discriminator started: rec_loss's median is {fmt(now)} since step "
            f"{fmt(int(recent[0][0]))} against {fmt(base)} just before step {fmt(s.disc_start)} "
            f"({signed_pct(change)}). Some loss is common at first; if it persists, lower disc_weight.",
            "rec_loss", int(recent[0][0]), numbers,
        )]
    return [Finding(
        "rec-after-disc", "ok",
        f"Reconstruction held since the discriminator started: rec_loss median {fmt(now)} against {fmt(base)} just "
        f"before step {fmt(s.disc_start)} ({signed_pct(change)}).",
        "rec_loss", int(recent[0][0]), numbers,
    )]


def disc_at_chance(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    steps, loss = m.window("disc_loss", lo=s.disc_start)
    good = np.isfinite(loss)
    steps, loss = steps[good], loss[good]
    if len(loss) < 5:
        return []
    chance = s.disc_chance_level
    # judge the median of short chunks, so single noisy points do not break a stretch at chance
    chunks = np.array_split(np.arange(len(loss)), max(1, min(40, len(loss) // 5)))
    near = np.array([abs(np.median(loss[c]) - chance) <= t["band"] for c in chunks])
    trailing_chunks = len(near) if near.all() else int(np.argmin(near[::-1]))
    level = float(np.median(loss[-max(5, len(loss) // 5):]))
    if trailing_chunks == 0:
        return []
    trailing = len(loss) - int(chunks[len(chunks) - trailing_chunks][0])
    span = int(steps[-1] - steps[-trailing])
    adversarial = int(steps[-1] - s.disc_start)
    numbers = {"chance_level": chance, "steps_at_chance": span, "adversarial_steps": adversarial}
    if span >= t["min_steps"] and span >= t["share"] * adversarial:
        return [Finding(
            "disc-at-chance", "warning",
            f"The discriminator has stayed at chance for {fmt(span)} steps (disc_loss within {fmt(t['band'])} of "
            f"{fmt(chance)} since step {fmt(int(steps[-trailing]))}): it is not learning to tell real from "
            "reconstructed, so the GAN term adds little. Check that its optimizer steps and its learning rate.",
            "disc_loss", int(steps[-trailing]), numbers,
        )]
    return [Finding(
        "disc-at-chance", "ok",
        f"disc_loss is near its equilibrium ({fmt(level)}, chance level {fmt(chance)} for the "
        f"{s.disc_loss or 'hinge'} loss): the discriminator cannot yet tell real from reconstructed, which is fine "
        "early in the adversarial phase.",
        "disc_loss", int(steps[-trailing]), numbers,
    )]
