"""Synthetic loss curves of a VAE-GAN run, with the real loss's bookkeeping and realistic noise.

KL models (LDM/RadioDiff ``LPIPSWithDiscriminator``): nll = N*rec/exp(logvar) + N*logvar,
total = nll + kl_weight*kl + d_weight*disc_factor*g_loss; halved D loss (hinge ~1, vanilla ~ln 2 at chance).
VQ models (taming ``VQLPIPSWithDiscriminator``): total = nll + codebook_weight*quant_loss + d_weight*disc_factor*g_loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Shape:
    """What a healthy run looks like; faults then edit the values."""

    last_step: int
    total_steps: int
    disc_start: int
    every: int = 10
    pixels: int = 65_536
    kl_weight: float = 1e-6
    disc_weight: float = 0.5
    disc_loss: str = "hinge"
    lr: float = 5e-6
    min_lr: float = 5e-7
    lr_kind: str = "poly"  # "poly" (RadioDiff LambdaLR) or "constant" (LDM Adam, no scheduler)
    d_weight: float = 800.0
    g_on: float = 0.05  # g_loss once D is on: minus the mean fake logit
    learned_logvar: bool = False
    regularizer: str = "kl"  # "kl" or "vq"
    codebook_weight: float = 1.0
    seed: int = 0
    extra: dict = field(default_factory=dict)


def lr_curve(shape: Shape, steps: np.ndarray) -> np.ndarray:
    if shape.lr_kind == "constant":
        return np.full(len(steps), shape.lr)
    floor = shape.min_lr / shape.lr
    return shape.lr * np.maximum((1 - steps / shape.total_steps) ** 0.95, floor)


def healthy(shape: Shape) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per logged step, every metric of a healthy run of this shape."""
    rng = np.random.default_rng(shape.seed)
    steps = np.arange(0, shape.last_step + 1, shape.every, dtype=np.int64)
    n = len(steps)
    tau = max(50.0, shape.total_steps / 40)
    noise = lambda scale: scale * rng.standard_normal(n)  # noqa: E731
    # a fast early drop, then the slow decline real runs keep up to their end
    rec = (0.03 * (1 + 0.3 * (1 - steps / shape.total_steps)) + 0.4 * np.exp(-steps / tau)) * np.exp(noise(0.04))
    if shape.regularizer == "vq":  # taming: rec = |x - x'| + perceptual_weight * p_loss
        p_loss = (0.1 + 0.4 * np.exp(-steps / tau)) * np.exp(noise(0.04))
        rec = rec + p_loss
    on = steps >= shape.disc_start
    v: dict[str, np.ndarray] = {"rec_loss": rec, "disc_factor": on.astype(float)}
    d_weight = shape.d_weight * np.exp(noise(0.25))
    v["d_weight"] = np.minimum(d_weight, 1e4 * shape.disc_weight * 0.9)
    # g_loss = -mean(D(fake)): the fake logits of the D pass, from another posterior sample
    v["logits_fake"] = np.where(on, -shape.g_on, -0.12) + noise(0.08)
    v["logits_real"] = np.where(on, -shape.g_on + 0.1, -0.1) + noise(0.08)
    v["g_loss"] = np.where(on, -v["logits_fake"] + noise(0.02), 0.12 + noise(0.05))
    v["disc_loss"] = np.where(on, d_loss(shape.disc_loss, v["logits_real"], v["logits_fake"]) + noise(0.01), 0.0)
    logvar = np.zeros(n)
    if shape.learned_logvar:
        logvar = -3.0 * (1 - np.exp(-steps / tau)) + noise(0.01)
    v["logvar"] = logvar
    v["lr"] = lr_curve(shape, steps)
    if shape.regularizer == "kl":
        # summed over the latent dimensions, which scale with the image (RadioDiff: ~117,000 over 3 x 64 x 64 at
        # 256 x 256, ~10 nats per dimension; a smaller image has fewer dimensions, not more nats in each)
        per_image = shape.pixels / 65_536
        v["kl_loss"] = per_image * (17_000 + 100_000 * (1 - np.exp(-steps / (3 * tau)))) * np.exp(noise(0.01))
    else:
        v["quant_loss"] = (0.02 + 0.3 * np.exp(-steps / tau)) * np.exp(noise(0.05))
        v["p_loss"] = p_loss
    return steps, v


def d_loss(kind: str, real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """LDM/taming's halved D loss of mean logits: hinge 1 and vanilla ln 2 at chance."""
    if kind == "hinge":
        return 0.5 * (np.maximum(0, 1 - real) + np.maximum(0, 1 + fake))
    return 0.5 * (np.logaddexp(0, -real) + np.logaddexp(0, fake))


def recompute(shape: Shape, v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The derived terms (nll, total) from the logged parts, as the loss computes them."""
    nll = shape.pixels * v["rec_loss"] / np.exp(v["logvar"]) + shape.pixels * v["logvar"]
    v["nll_loss"] = nll if shape.regularizer == "kl" else v["rec_loss"]  # taming: nll = mean(rec)
    adv = v["d_weight"] * v["disc_factor"] * v["g_loss"]
    if shape.regularizer == "kl":
        v["total_loss"] = nll + shape.kl_weight * v["kl_loss"] + adv
    else:
        v["total_loss"] = nll + shape.codebook_weight * v["quant_loss"] + adv
    return v


def ramp(steps: np.ndarray, onset: int, end: int, factor: float) -> np.ndarray:
    """Multiplier 1 before ``onset``, growing geometrically to ``factor`` at ``end``."""
    x = np.clip((steps - onset) / max(1, end - onset), 0, 1)
    return factor ** x
