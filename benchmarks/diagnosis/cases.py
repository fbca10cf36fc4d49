"""The synthetic runs of the battery: a healthy shape, an optional fault edit, a layout, and the verdict an
expert gives (see README.md for the reasoning behind each)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .curves import Shape, d_loss, healthy, ramp, recompute
from .expect import Expect
from .layouts import Resume, SecondProcess, emit

LOSSES = ("total_loss", "nll_loss", "rec_loss")


@dataclass(frozen=True)
class Case:
    name: str
    klass: str  # the issue-8 class it exercises
    layout: str
    shape: Shape
    expect: Expect
    fault: Callable | None = None  # (steps, v, shape) -> extra emit kwargs or None
    source: str = "synthetic"

    def build(self, folder: Path) -> None:
        steps, v = healthy(self.shape)
        extra = self.fault(steps, v, self.shape) if self.fault else None
        recompute(self.shape, v)
        if self.fault is not None and hasattr(self.fault, "after"):
            self.fault.after(steps, v, self.shape)
        emit(folder, self.layout, self.shape, steps, v, **(extra or {}))


def tol(shape: Shape, frac: float = 0.05) -> int:
    return max(3 * shape.every, int(frac * shape.last_step))


# --- fault edits (each changes only what the fault changes; nll/total are recomputed from the parts) ---

def scaled(metric: str, factor: float) -> Callable:
    """A metric logged at ``factor`` times the level the healthy curve has (a trainer that sums where LDM halves)."""
    def edit(steps, v, shape):
        v[metric] = v[metric] * factor
    return edit


def explode(metric: str, onset: int, factor: float) -> Callable:
    def edit(steps, v, shape):
        v[metric] = v[metric] * ramp(steps, onset, shape.last_step, factor)
    return edit


def lr_edit(kind: str, at: int, factor: float = 100.0) -> Callable:
    def edit(steps, v, shape):
        after = steps >= at
        i = int(np.argmax(after))
        if kind == "zero":
            v["lr"] = np.where(after, 0.0, v["lr"])
        elif kind == "freeze":
            v["lr"] = np.where(after, v["lr"][i], v["lr"])
        else:
            v["lr"] = np.where(after, v["lr"] * factor, v["lr"])
        if kind == "zero":  # nothing learns: rec stops falling at its level, batch noise stays
            level = v["rec_loss"][max(0, i - 5):i + 1].mean()
            noise = np.exp(0.04 * np.random.default_rng(1).standard_normal(len(steps)))
            v["rec_loss"] = np.where(after, level * noise, v["rec_loss"])
    return edit


def stall(at: int) -> Callable:
    """lr 0 and every metric frozen to the value it had (a run that repeats its last state)."""
    def edit(steps, v, shape):
        v["lr"] = np.where(steps >= at, 0.0, v["lr"])

    def after(steps, v, shape):
        i = int(np.argmax(steps >= at))
        for key in v:
            if key != "lr":
                v[key] = np.where(steps >= at, v[key][i], v[key])
    edit.after = after
    return edit


def d_frozen(lr_disc_zero: bool = False) -> Callable:
    """D never updates: real and fake logits identical and constant, hinge loss exactly 1."""
    def edit(steps, v, shape):
        on = steps >= shape.disc_start
        v["logits_real"] = np.where(on, 0.0123, v["logits_real"])
        v["logits_fake"] = np.where(on, 0.0123, v["logits_fake"])
        v["disc_loss"] = np.where(on, 1.0, 0.0)
        if lr_disc_zero:
            v["lr_disc"] = np.zeros(len(steps))
    return edit


def generator_wins(onset: int) -> Callable:
    def edit(steps, v, shape):
        x = np.clip((steps - onset) / max(1, shape.last_step - onset), 0, 1)
        rng = np.random.default_rng(7)
        v["d_weight"] = np.where(steps >= onset, 150 * (17_000 / 150) ** x, 150) * np.exp(
            0.1 * rng.standard_normal(len(steps)))
        v["logits_fake"] = np.where(steps >= onset, v["logits_fake"] + 0.9 * x, v["logits_fake"])
        v["logits_real"] = np.where(steps >= onset, v["logits_real"] - 0.55 * x, v["logits_real"])
        d = d_loss(shape.disc_loss, v["logits_real"], v["logits_fake"])  # hinge -> ~1.8, above chance
        v["disc_loss"] = np.where(steps >= onset, d, v["disc_loss"])
        v["g_loss"] = np.where(steps >= onset, -v["logits_fake"], v["g_loss"])
    return edit


def oscillates(onset: int, period: int, spread: float = 1.8, rec_swing: float = 0.3) -> Callable:
    """The balance swinging from the switch-on: the logits separate (D wins) then invert (D fooled) every
    ``period`` steps; the D and G losses follow from the logits, rec is worse by ``rec_swing`` while D wins."""
    def edit(steps, v, shape):
        phase = np.where(steps >= onset, np.sin(2 * np.pi * (steps - onset) / period), 0.0)
        after = steps >= onset
        v["logits_real"] = np.where(after, v["logits_real"] + spread * phase, v["logits_real"])
        v["logits_fake"] = np.where(after, v["logits_fake"] - spread * phase, v["logits_fake"])
        v["disc_loss"] = np.where(after, d_loss(shape.disc_loss, v["logits_real"], v["logits_fake"]), v["disc_loss"])
        v["g_loss"] = np.where(after, -v["logits_fake"], v["g_loss"])
        v["rec_loss"] = v["rec_loss"] * (1 + rec_swing * np.clip(phase, 0, None))
    return edit


def d_overpowers(onset: int, spread: float = 2.2) -> Callable:
    def edit(steps, v, shape):
        x = np.clip((steps - onset) / max(1, (shape.last_step - onset) // 3), 0, 1)
        after = steps >= onset
        v["logits_real"] = np.where(after, v["logits_real"] + spread * x, v["logits_real"])
        v["logits_fake"] = np.where(after, v["logits_fake"] - spread * x, v["logits_fake"])
        v["disc_loss"] = np.where(after, d_loss(shape.disc_loss, v["logits_real"], v["logits_fake"]), v["disc_loss"])
        v["g_loss"] = np.where(after, -v["logits_fake"], v["g_loss"])
    return edit


def pin_d_weight(onset: int) -> Callable:
    def edit(steps, v, shape):
        v["d_weight"] = np.where(steps >= onset, 1e4 * shape.disc_weight, v["d_weight"])
    return edit


def kl_collapse(onset: int) -> Callable:
    def edit(steps, v, shape):
        v["kl_loss"] = v["kl_loss"] * np.where(steps >= onset, np.maximum(1e-4, ramp(steps, onset, onset + (
            shape.last_step - onset) // 4, 1e-4)), 1)
    return edit


def lr_constant(steps, v, shape):
    """A scheduler that never stepped: the config's lr at every step."""
    v["lr"] = np.full(len(steps), shape.lr)


def lr_scaled(factor: float) -> Callable:
    def edit(steps, v, shape):
        v["lr"] = v["lr"] * factor
    return edit


def collapse_with_worse_rec(onset: int) -> Callable:
    """Posterior collapse at ``onset``, reconstruction ~3x worse from there on, for the rest of the run."""
    def edit(steps, v, shape):
        v["kl_loss"] = v["kl_loss"] * np.where(steps >= onset, np.maximum(1e-3, ramp(steps, onset, onset + (
            shape.last_step - onset) // 20, 1e-3)), 1)
        v["rec_loss"] = v["rec_loss"] * ramp(steps, onset, onset + (shape.last_step - onset) // 20, 3.0)
    return edit


def zero(metric: str, since: int = 0) -> Callable:
    """A term exactly 0 from ``since`` on (KL not computed; the adaptive weight's eval-mode 0)."""
    def edit(steps, v, shape):
        v[metric] = np.where(steps >= since, 0.0, v[metric])
    return edit


def nan_at(step: int) -> Callable:
    def after(steps, v, shape):
        i = int(np.argmax(steps >= step))
        for key in ("total_loss", "nll_loss", "rec_loss", "kl_loss", "g_loss"):
            if key in v:
                v[key][i] = math.nan

    def edit(steps, v, shape):
        return None
    edit.after = after
    return edit


def nan_from(step: int) -> Callable:
    """Every loss NaN from ``step`` to the last logged step: numerics broke and the run logs on (no recovery)."""
    def after(steps, v, shape):
        for key in ("total_loss", "nll_loss", "rec_loss", "kl_loss", "g_loss"):
            if key in v:
                v[key][steps >= step] = math.nan

    def edit(steps, v, shape):
        return None
    edit.after = after
    return edit


def nan_in(metric: str, step: int) -> Callable:
    """One logged term NaN from ``step`` to the end while the total and the other losses stay finite: the NaN
    never entered the optimized loss (a term computed apart for the log)."""
    def after(steps, v, shape):
        v[metric][steps >= step] = math.nan

    def edit(steps, v, shape):
        return None
    edit.after = after
    return edit


def lr_zero_logged_only(at: int) -> Callable:
    """The logged lr exactly 0 from ``at`` while the losses go on falling as before: the lr logged is not the
    optimizer's (a scheduler or param group that is not used)."""
    def edit(steps, v, shape):
        v["lr"] = np.where(steps >= at, 0.0, v["lr"])
    return edit


def disc_never_on(steps, v, shape):
    v["disc_factor"] = np.zeros(len(steps))
    v["disc_loss"] = np.zeros(len(steps))
    v["g_loss"] = 0.25 + 0.05 * np.random.default_rng(3).standard_normal(len(steps))


def validation(overfit_at: int | None, every_val: int) -> Callable:
    """val/rec_loss every ``every_val`` steps: train x 1.1, or rising from ``overfit_at`` while train falls."""
    def edit(steps, v, shape):
        val = v["rec_loss"] * 1.1
        if overfit_at is not None:
            val = val * ramp(steps, overfit_at, shape.last_step, 3.0)
        val = np.where(steps % every_val == 0, val, np.nan)
        return {"val": {"val/rec_loss": val}, "val_check_interval": every_val}
    return edit


def no_validation(every_val: int) -> Callable:
    def edit(steps, v, shape):
        return {"val_check_interval": every_val}
    return edit


def round_lr(steps, v, shape):
    """lr as RadioDiff's text log prints it ({:.5f}), then parsed back into a CSV."""
    v["lr"] = np.array([float(f"{x:.5f}") for x in v["lr"]])


def half_step_unit(steps, v, shape):
    return {"step_scale": 2}


# --- faults of the second battery extension (README: "Faults the loss terms and the files show") ---

def negate(metric: str) -> Callable:
    """A sign error: the term logged as minus itself from the first step (kl = -0.5 x sum(...) the wrong way)."""
    def edit(steps, v, shape):
        v[metric] = -v[metric]
    return edit


def kl_held_at_prior(nats: float, rec_floor: float) -> Callable:
    """KL held at ``nats`` (summed over the latent) from the first step, never a peak (kl_weight 1 holds the
    posterior at the prior), and reconstruction settling at ``rec_floor`` instead of ~0.03: the decoder gets
    next to nothing from the latents."""
    def edit(steps, v, shape):
        rng = np.random.default_rng(shape.seed + 100)
        v["kl_loss"] = nats * np.exp(0.05 * rng.standard_normal(len(steps)))
        tau = max(50.0, shape.total_steps / 40)
        v["rec_loss"] = (rec_floor + 0.35 * np.exp(-steps / tau)) * np.exp(0.04 * rng.standard_normal(len(steps)))
    return edit


def flat_from_start(rec: float, kl: float, decline: float = 0.0, ckpt_path: str | None = None) -> Callable:
    """rec and KL at one level with batch noise from step 0 (``decline``: the share rec loses by the end): a model
    that does not learn (lr ~0, not 0: the losses are not frozen to float precision), or, with ``ckpt_path`` in
    the config (RadioDiff's ``model.ckpt_path``), a fine-tune that starts converged."""
    def edit(steps, v, shape):
        rng = np.random.default_rng(shape.seed + 200)
        x = steps / max(1, shape.last_step)
        v["rec_loss"] = rec * (1 - decline * x) * np.exp(0.04 * rng.standard_normal(len(steps)))
        v["kl_loss"] = kl * np.exp(0.01 * rng.standard_normal(len(steps)))
        return {"config_patch": {"model": {"ckpt_path": ckpt_path}}} if ckpt_path else None
    return edit


def resumed(at: int, overrun: int = 0, level: float = 1.0, drop: tuple[str, ...] = (), gap: float = 1800.0
            ) -> Callable:
    """A run resumed from a checkpoint at ``at`` into a new log file. The resumed process draws its own batches
    (other noise, the same levels); ``level`` != 1: it resumed from other weights, rec that many times higher
    at the resume, back to the run's level by the end as it relearns; ``drop``: metrics it no longer logs. The
    killed process logged ``overrun`` steps past ``at`` with the run's own values."""
    def edit(steps, v, shape):
        earlier = {k: x.copy() for k, x in v.items()}
        recompute(shape, earlier)
        _, other = healthy(replace(shape, seed=shape.seed + 1000))
        after = steps >= at
        for key in v:
            v[key] = np.where(after, other[key], v[key])
        if level != 1.0:
            x = np.clip((steps - at) / max(1, shape.last_step - at), 0, 1)
            v["rec_loss"] = np.where(after, v["rec_loss"] * level ** (1 - x), v["rec_loss"])
        return {"resume": Resume(at, overrun, gap, drop), "earlier": earlier}
    return edit


def second_process(after_seconds: float, last_step: int) -> Callable:
    """Another run of the same config writing into the same folder, started ``after_seconds`` later from step 0,
    both then written at the same time (its own seed, its own files)."""
    def edit(steps, v, shape):
        other = replace(shape, last_step=last_step, seed=shape.seed + 1000)
        other_steps, other_v = healthy(other)
        recompute(other, other_v)
        return {"second": SecondProcess(after_seconds, other_steps, other_v)}
    return edit


def val_gap(factor: float, every_val: int) -> Callable:
    """val/rec_loss ``factor`` times the training rec from the first validation on (Lightning validates after
    every ``every_val`` batches, not at step 0), with its own, smaller noise (a mean over the validation set)."""
    def edit(steps, v, shape):
        rng = np.random.default_rng(shape.seed + 300)
        tau = max(50.0, shape.total_steps / 40)
        level = 0.03 * (1 + 0.3 * (1 - steps / shape.total_steps)) + 0.4 * np.exp(-steps / tau)
        val = factor * level * np.exp(0.02 * rng.standard_normal(len(steps)))
        val = np.where((steps % every_val == 0) & (steps > 0), val, np.nan)
        return {"val": {"val/rec_loss": val}, "val_check_interval": every_val}
    return edit


def inf_at(at: tuple[int, ...], metric: str = "rec_loss") -> Callable:
    """fp16 overflow: ``metric`` Inf at a few isolated steps (nll and total follow it), normal values after each:
    the gradient scaler skipped those steps."""
    def edit(steps, v, shape):
        for step in at:
            v[metric][int(np.flatnonzero(steps == step)[0])] = math.inf
        return {"config_patch": {"trainer": {"amp": True, "fp16": True}}}
    return edit


def key_given_twice(key: str, earlier) -> Callable:
    """The config gives ``key`` (a dotted path) twice in one mapping: ``earlier`` first, then the value the run
    trained with (PyYAML keeps the last), as a value pasted over without deleting the old line leaves it."""
    def edit(steps, v, shape):
        return {"config_twice": (key, earlier)}
    return edit


def key_given_twice_first_used(key: str, later) -> Callable:
    """The config gives ``key`` twice: first the value the run trained with (the shape's disc_start, as the data
    show it), then ``later``, the one PyYAML reads: the run did not train from the file as written."""
    def edit(steps, v, shape):
        *sections, name = key.split(".")
        patch: dict = {name: later}
        for section in reversed(sections):
            patch = {section: patch}
        return {"config_twice": (key, shape.disc_start), "config_patch": patch}
    return edit


def scale(metric: str, factor: float) -> Callable:
    """``metric`` in other units (a Keras VAE's KL: nats per sample of a small latent)."""
    def edit(steps, v, shape):
        v[metric] = v[metric] * factor
    return edit


# --- GAN balance, onsets at the evidence, schedules the config names (issue 18) ---

def d_pulls_ahead(onset: int, disc_to: float = 0.42, real_to: float = 1.45, fake_to: float = -1.15) -> Callable:
    """The discriminator pulling ahead without winning outright: its loss 1.09 -> 0.42, the logits parting to a
    gap of ~2.6, g_loss (-fake logit) 0.13 -> 1.15, over the half of the phase after ``onset``."""
    def edit(steps, v, shape):
        rng = np.random.default_rng(shape.seed + 400)
        on = steps >= shape.disc_start
        x = np.clip((steps - onset) / max(1, (shape.last_step - onset) // 2), 0, 1)
        n = len(steps)
        real = 0.05 + (real_to - 0.05) * x + 0.08 * rng.standard_normal(n)
        fake = -0.13 + (fake_to + 0.13) * x + 0.08 * rng.standard_normal(n)
        v["logits_real"] = np.where(on, real, v["logits_real"])
        v["logits_fake"] = np.where(on, fake, v["logits_fake"])
        v["g_loss"] = np.where(on, -fake + 0.02 * rng.standard_normal(n), v["g_loss"])
        v["disc_loss"] = np.where(on, (1.09 + (disc_to - 1.09) * x) * np.exp(0.03 * rng.standard_normal(n)), 0.0)
    return edit


def d_won_then_back(won: int, back: int, rec_factor: float = 1.15) -> Callable:
    """A discriminator that wins for a while and comes back to chance: the logits part to ~+1.6 / -1.7 from
    ``won`` (hinge loss at 0 once both clear the margin), hold there, and close again to chance by ``back``;
    g_loss (-fake logit) follows, and rec pays ``rec_factor`` over the win, then recovers."""
    def edit(steps, v, shape):
        rng = np.random.default_rng(shape.seed + 450)
        on = steps >= shape.disc_start
        n = len(steps)
        ramp = (back - won) // 8
        x = np.interp(steps, [won, won + ramp, back - 2 * ramp, back], [0.0, 1.0, 1.0, 0.0])
        real = 0.05 + 1.55 * x + 0.08 * rng.standard_normal(n)
        fake = -0.05 - 1.65 * x + 0.08 * rng.standard_normal(n)
        v["logits_real"] = np.where(on, real, v["logits_real"])
        v["logits_fake"] = np.where(on, fake, v["logits_fake"])
        v["g_loss"] = np.where(on, -fake + 0.02 * rng.standard_normal(n), v["g_loss"])
        hinge = 0.5 * (np.maximum(0, 1 - real) + np.maximum(0, 1 + fake))
        v["disc_loss"] = np.where(on, hinge, 0.0)
        v["rec_loss"] = v["rec_loss"] * (1 + (rec_factor - 1) * x)
    return edit


def strong_disc(rec_factor: float, val_factor: float, every_val: int, d_weight: float = 9_000.0) -> Callable:
    """A discriminator weighted too strongly (a large disc_weight): once it is on, the adversarial term
    (d_weight ~``d_weight`` x g_loss ~1) outweighs the nll and training reconstruction degrades ``rec_factor``-fold
    within a tenth of the phase and stays there; validation, which feels the GAN artefacts more, ``val_factor``."""
    def edit(steps, v, shape):
        rng = np.random.default_rng(shape.seed + 500)
        on = steps >= shape.disc_start
        x = np.clip((steps - shape.disc_start) / max(1, (shape.last_step - shape.disc_start) // 10), 0, 1)
        v["rec_loss"] = v["rec_loss"] * (1 + (rec_factor - 1) * x)
        v["d_weight"] = np.where(on, d_weight * np.exp(0.2 * rng.standard_normal(len(steps))), v["d_weight"])
        val = v["rec_loss"] / (1 + (rec_factor - 1) * x) * 1.1 * (1 + (val_factor - 1) * x)
        val = np.where(steps % every_val == 0, val * np.exp(0.02 * rng.standard_normal(len(steps))), np.nan)
        return {"val": {"val/rec_loss": val}}
    return edit


def clamp_bursts(starts: tuple[int, ...], length: int, rec_factor: float = 3.0) -> Callable:
    """d_weight at its clamp (1e4 x disc_weight) in recurring bursts of ``length`` steps, the reconstruction
    ``rec_factor`` times its level during each (the GAN term, at its ceiling, pushes the decoder off)."""
    def edit(steps, v, shape):
        ceiling = 1e4 * shape.disc_weight
        for start in starts:
            burst = (steps >= start) & (steps < start + length)
            v["d_weight"] = np.where(burst, ceiling, v["d_weight"])
            v["rec_loss"] = np.where(burst, v["rec_loss"] * rec_factor, v["rec_loss"])
    return edit


def slow_rise(onset: int, factor: float) -> Callable:
    """rec rising linearly by ``factor`` - 1 from ``onset`` to the last step (a slow drift, not an explosion)."""
    def edit(steps, v, shape):
        x = np.clip((steps - onset) / max(1, shape.last_step - onset), 0, 1)
        v["rec_loss"] = v["rec_loss"] * (1 + (factor - 1) * x)
    return edit


def drift_under_clipping(onset: int, factor: float, clip: float, norm_from: float, growth: float) -> Callable:
    """rec drifting up linearly by ``factor`` - 1 from ``onset`` while the gradient norm before clipping
    (``grad_norm``, 10% noise) grows ``growth``-fold from ``norm_from`` over the same stretch, the clipped norm
    (``grad_norm_clipped``) at ``clip`` whenever it is above; the config names the clip (``config_patch``)."""
    rises = slow_rise(onset, factor)

    def edit(steps, v, shape):
        rises(steps, v, shape)
        x = np.clip((steps - onset) / max(1, shape.last_step - onset), 0, 1)
        noise = np.exp(0.1 * np.random.default_rng(shape.seed + 1).standard_normal(len(steps)))
        v["grad_norm"] = norm_from * (1 + (growth - 1) * x) * noise
        v["grad_norm_clipped"] = np.minimum(v["grad_norm"], clip)
        return {"config_patch": {"optim": {"max_grad_norm": clip}}}
    return edit


def diverge_into_nan(onset: int, nan_step: int, factor: float, norm_from: float, norm_factor: float) -> Callable:
    """A divergence: rec and the gradient norm before clipping (``grad_norm``, 10% noise, no clip configured)
    climb geometrically from ``onset`` (rec ``factor``-fold, the norm ``norm_factor``-fold from ``norm_from``) to
    ``nan_step``, where every loss and the norm turn NaN for good (the run logs on)."""
    nans = nan_from(nan_step)

    def edit(steps, v, shape):
        x = np.clip((steps - onset) / max(1, nan_step - onset), 0, 1)
        v["rec_loss"] = v["rec_loss"] * factor ** x
        noise = np.exp(0.1 * np.random.default_rng(shape.seed + 1).standard_normal(len(steps)))
        v["grad_norm"] = norm_from * norm_factor ** x * noise

    def after(steps, v, shape):
        nans.after(steps, v, shape)
        v["grad_norm"][steps >= nan_step] = math.nan
    edit.after = after
    return edit


def lr_jump_then_diverge(at: int, factor: float, onset: int, nan_step: int) -> Callable:
    """The logged lr jumps ``factor``-fold at ``at`` and holds; ``onset`` later rec climbs x20 into NaN at
    ``nan_step`` (review 7, s08): the jump is the divergence's likely cause."""
    jump, diverge = lr_edit("jump", at, factor), diverge_into_nan(onset, nan_step, 20.0, 3.0, 60.0)

    def edit(steps, v, shape):
        jump(steps, v, shape)
        diverge(steps, v, shape)
    edit.after = diverge.after
    return edit


def d_wins_then_rec_rises(onset: int, rec_from: int, factor: float) -> Callable:
    """The discriminator wins from ``onset`` (hinge to 0, logits apart), and rec, which had held in the phase,
    rises linearly by ``factor`` - 1 from ``rec_from`` to the end: a regression inside the adversarial phase."""
    wins, rises = d_overpowers(onset), slow_rise(rec_from, factor)

    def edit(steps, v, shape):
        wins(steps, v, shape)
        rises(steps, v, shape)
    return edit


def d_wins_late_rec_pays(onset: int, factor: float, over: int) -> Callable:
    """rec still falling well into the adversarial phase (a slow decay on top of the healthy curve), then the
    discriminator wins from ``onset`` and rec rises by ``factor`` - 1 over ``over`` steps and stays there: below
    its switch-on level still, above its level where the win began (review8's late_disc_win)."""
    wins = d_overpowers(onset)

    def edit(steps, v, shape):
        v["rec_loss"] = v["rec_loss"] * (1 + 1.5 * np.exp(-steps / (0.27 * shape.total_steps)))
        wins(steps, v, shape)
        x = np.clip((steps - onset) / over, 0, 1)
        v["rec_loss"] = v["rec_loss"] * (1 + (factor - 1) * x)
    return edit


def nan_then_shift(at: int, factor: float) -> Callable:
    """One NaN step (every loss), after which the run goes on at a reconstruction level ``factor`` times worse
    (weights the bad step damaged)."""
    def edit(steps, v, shape):
        v["rec_loss"] = np.where(steps > at, v["rec_loss"] * factor, v["rec_loss"])

    def after(steps, v, shape):
        i = int(np.argmax(steps >= at))
        for key in ("total_loss", "nll_loss", "rec_loss", "kl_loss", "g_loss"):
            v[key][i] = math.nan
    edit.after = after
    return edit


def lr_linear(start: float, end: float, since: int = 0) -> Callable:
    """A linear decay of the lr from ``start`` (held until ``since``) to ``end`` at the last step, as a trainer
    with its own scheduler writes it (nothing in its config names the schedule)."""
    def edit(steps, v, shape):
        x = np.clip((steps - since) / max(1, shape.last_step - since), 0, 1)
        v["lr"] = start + (end - start) * x
    return edit


def lr_linear_then_zero(start: float, end: float, at: int) -> Callable:
    """The linear decay of lr_linear, dropped to 0 at ``at`` for the rest of the run (nothing learns from there):
    a fault whatever the schedule, named or not."""
    def edit(steps, v, shape):
        lr_linear(start, end)(steps, v, shape)
        lr_edit("zero", at)(steps, v, shape)
    return edit


def gan_term_grows(onset: int, weight_to: float, g_to: float) -> Callable:
    """The adversarial term taking over: from ``onset`` d_weight grows to ``weight_to`` and g_loss (the fake logit
    falling) to ``g_to``, so d_weight x g_loss ends up outweighing the nll; reconstruction as before."""
    def edit(steps, v, shape):
        x = np.clip((steps - onset) / max(1, (shape.last_step - onset) // 2), 0, 1)
        on = steps >= shape.disc_start
        v["d_weight"] = np.where(on, v["d_weight"] * (weight_to / shape.d_weight) ** x, v["d_weight"])
        v["logits_fake"] = np.where(on, v["logits_fake"] - (g_to - shape.g_on) * x, v["logits_fake"])
        v["g_loss"] = np.where(on, -v["logits_fake"], v["g_loss"])
        v["disc_loss"] = np.where(on, d_loss(shape.disc_loss, v["logits_real"], v["logits_fake"]), 0.0)
    return edit


def lr_named(kind: str, base: float, warmup: int = 0, floor: float = 0.0, patch: dict | None = None) -> Callable:
    """The lr as a scheduler the config names writes it, by its library's formula (transformers'
    get_linear/cosine_schedule_with_warmup, floored at ``floor``; "constant": the scheduler never stepped, the
    base rate throughout), and the config keys that name it (``patch``, merged into the trainer's config)."""
    def edit(steps, v, shape):
        x = steps.astype(float)
        total = float(shape.total_steps)
        t = np.clip((x - warmup) / max(1.0, total - warmup), 0, 1)
        shape_of = {"linear": 1 - t, "cosine": 0.5 * (1 + np.cos(np.pi * t)), "constant": np.ones_like(x)}[kind]
        ramp_up = np.clip(x / warmup, 0, 1) if warmup and kind != "constant" else np.ones_like(x)
        v["lr"] = np.where(x < warmup, base * ramp_up, floor + (base - floor) * shape_of) \
            if kind != "constant" else np.full(len(x), base)
        return {"config_patch": patch} if patch else None
    return edit


def kl_weight_per_dimension(latent_dims: int) -> Callable:
    """A trainer whose kl_weight multiplies the KL's mean over latent dimensions while it logs the KL summed over
    them: its logged total is rec + kl_weight x kl / dims, smaller than kl_weight x the logged kl_loss alone."""
    def after(steps, v, shape):
        v["total_loss"] = v["rec_loss"] + shape.kl_weight * v["kl_loss"] / latent_dims
        v.pop("nll_loss", None)  # its loss is a per-pixel mean: no summed nll to log

    def edit(steps, v, shape):
        return None
    edit.after = after
    return edit


def clamp_regime(onset: int, share: float, seed: int = 7) -> Callable:
    """From ``onset`` on, d_weight at its clamp (1e4 x disc_weight) at a random ``share`` of the logged steps,
    in runs of a few points, below it in between: a clamp that comes and goes, not one burst."""
    def edit(steps, v, shape):
        rng = np.random.default_rng(seed)
        ceiling = 1e4 * shape.disc_weight
        after = steps >= onset
        # runs of 1-8 points at the clamp, then off, in proportion to ``share``
        at = np.zeros(len(steps), dtype=bool)
        i = int(np.argmax(after))
        while i < len(steps):
            on, off = int(rng.integers(1, 9)), int(rng.integers(1, 9))
            if rng.random() < share:
                at[i:i + on] = True
                i += on
            else:
                i += off
        v["d_weight"] = np.where(at, ceiling, np.where(after, np.minimum(v["d_weight"] * 3, 0.8 * ceiling),
                                                        v["d_weight"]))
    return edit


def explode_saturating(metric: str, onset: int, factor: float, climb: int) -> Callable:
    """``metric`` flat, then from ``onset`` climbing geometrically to ``factor`` times its level over ``climb``
    steps and staying near there (a divergence that saturates, no NaN)."""
    def edit(steps, v, shape):
        x = np.clip((steps - onset) / max(1, climb), 0, None)
        # log-level: a straight climb, rounded off as it reaches its ceiling (a logistic in log units)
        lift = np.log(factor) * np.where(x <= 0, 0.0, np.tanh(1.4 * x) / np.tanh(1.4))
        v[metric] = v[metric] * np.exp(np.minimum(lift, np.log(factor) * 1.05))
    return edit


def episode(onset: int, peak: int, back: int, factor: float, after: float = 0.97, metric: str = "rec_loss"
            ) -> Callable:
    """``metric`` going up from ``onset`` to ``factor`` times its level at ``peak`` (an lr spike, a bad data
    shard), then back down by ``back`` to ``after`` times the level it would have had, and on from there: a past
    rise that recovered."""
    def edit(steps, v, shape):
        v[metric] = v[metric] * np.interp(steps, [onset, peak, back], [1.0, factor, after])
    return edit


def spike(at: int, points: int, factor: float, metric: str = "rec_loss") -> Callable:
    """``metric`` at ``factor`` times its level over ``points`` logged steps from ``at`` (a stretch of bad batches,
    a loader hiccup), then back: one excursion, shared by the losses built from it (nll, the total)."""
    def edit(steps, v, shape):
        every = int(steps[1] - steps[0]) if len(steps) > 1 else 1
        inside = (steps >= at) & (steps < at + points * every)
        v[metric] = v[metric] * np.where(inside, factor, 1.0)
    return edit


def logit_spike(at: int, points: int, shift: float) -> Callable:
    """The discriminator's fake logits up by ``shift`` over ``points`` logged steps from ``at`` (a batch it
    misjudges), then back: its loss and the generator's term, both read off those logits, spike together."""
    def edit(steps, v, shape):
        every = int(steps[1] - steps[0]) if len(steps) > 1 else 1
        inside = (steps >= at) & (steps < at + points * every) & (v["disc_factor"] > 0)
        v["logits_fake"] = v["logits_fake"] + np.where(inside, shift, 0.0)
        v["g_loss"] = v["g_loss"] - np.where(inside, shift, 0.0)
        v["disc_loss"] = np.where(inside, d_loss(shape.disc_loss, v["logits_real"], v["logits_fake"]),
                                  v["disc_loss"])
    return edit


def level_shift(onset: int, factor: float, end: int | None = None, metric: str = "rec_loss") -> Callable:
    """``metric`` stepping up to ``factor`` times its level at ``onset`` (or climbing there by ``end``) and
    staying there to the end of the logs (a data pipeline that changed, a loss weight raised by a resume)."""
    def edit(steps, v, shape):
        lift = np.interp(steps, [onset, end or onset + 1], [1.0, factor])
        if metric == "p_loss":  # taming: rec = |x - x'| + p_loss, so the sum moves by the component's change
            v["rec_loss"] = v["rec_loss"] + v["p_loss"] * (lift - 1)
        v[metric] = v[metric] * lift
    return edit
