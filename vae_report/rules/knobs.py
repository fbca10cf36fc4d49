"""The knobs an action may turn, each described once by what it does in the loss (REFERENCE §1c), so that no two
rules describe one knob with two effects:

- ``disc_weight`` multiplies only the generator's adversarial term in the autoencoder's loss
  (d_weight = clamp(||grad nll|| / ||grad g_loss||) x disc_weight; loss = nll + kl_weight x kl + d_weight x
  disc_factor x g_loss). The discriminator's own loss, disc_factor x hinge (or vanilla), does not contain it:
  lowering it makes the autoencoder chase the discriminator less; it does not weaken the discriminator.
- The discriminator itself is weakened by its own learning rate (its optimizer's), its capacity (its layers),
  noise or augmentation on its inputs, or, only while the run has not reached disc_start, by starting it later.
- ``kl_weight`` scales the KL term against the reconstruction.

Every phrase names the config's value and the key path it was read at, where a config gave one."""

from __future__ import annotations

from ..numbers import fmt
from ..schedule import _LOSS_SECTION, Schedule, set_at

USUAL_DISC_WEIGHT = 0.5  # RadioDiff's first_radio.yaml and LDM's autoencoder configs

# what each knob acts on, as the README's knob table says it (tests check every action against it)
KNOBS = {
    "disc_weight": "the generator's adversarial term in the autoencoder's loss, not the discriminator's own loss",
    "discriminator lr": "the discriminator's updates",
    "disc_num_layers": "the discriminator's capacity",
    "input noise": "what the discriminator sees",
    "disc_start": "when the discriminator and the adversarial term switch on",
    "kl_weight": "the KL term against the reconstruction",
}


def sentence(text: str) -> str:
    """A phrase made the start of a sentence: "lower disc_weight ..." -> "Lower disc_weight ..."."""
    return text[:1].upper() + text[1:]


def _value_at(s: Schedule, key: str) -> str:
    """" (0.5 in config.yaml: model.lossconfig.disc_weight)", or " (0.5, LPIPSWithDiscriminator default)"; ""
    when the value is unknown."""
    value = getattr(s, key, None)
    if value is None:
        return ""
    where = set_at(s, key)
    if where is not None:
        return f" ({fmt(value)} in {where})"
    origin = s.origins.get(key)
    return f" ({fmt(value)}, {origin})" if origin else f" ({fmt(value)})"


def weight_named(s: Schedule) -> str:
    """"disc_weight (0.5 in config.yaml: model.lossconfig.disc_weight)", said as what it does."""
    return (f"disc_weight{_value_at(s, 'disc_weight')}, which scales only the generator's adversarial term, not the "
            "discriminator's own loss")


def chase_less(s: Schedule, to: float | None = None) -> str:
    """Lower disc_weight, said as what it does: "lower disc_weight (0.5 in config.yaml: model.lossconfig.
    disc_weight), e.g. to 0.25, so that the autoencoder chases the discriminator less (it scales only the
    generator's adversarial term, not the discriminator's own loss)"; ``to``: the value to suggest."""
    target = f", e.g. to {fmt(to)}" if to is not None else ""
    return (f"lower disc_weight{_value_at(s, 'disc_weight')}{target}, so that the autoencoder chases the "
            "discriminator less (it scales only the generator's adversarial term, not the discriminator's own loss)")


def suggested_weight(s: Schedule) -> float | None:
    """The disc_weight to suggest: the usual 0.5 for one well above it, else half the config's."""
    if s.disc_weight is None or s.disc_weight <= 0:
        return None
    return USUAL_DISC_WEIGHT if s.disc_weight >= 2 * USUAL_DISC_WEIGHT else s.disc_weight / 2


def _disc_lr(s: Schedule, logged: bool) -> str:
    """The discriminator's learning rate, where its trainer sets it: RadioDiff's opt_disc and LDM's take the
    autoencoder's own rate (one key for both optimizers). One level of parentheses: the phrase sits in a list."""
    if logged:
        return "lower its learning rate (lr_disc, its optimizer's own)"
    if s.layout in ("radiodiff", "text log"):
        where = set_at(s, "lr") or "trainer.lr"
        rate = f"{fmt(s.lr)} in {where}" if s.lr is not None else where
        return (f"lower its learning rate (RadioDiff's opt_disc takes the autoencoder's rate, {rate}; give opt_disc "
                "its own, since lowering trainer.lr slows both)")
    if s.layout in ("ldm", "sgm"):
        where = f"{s.config_path}: model.base_learning_rate" if s.config_path else "model.base_learning_rate"
        rate = f"{fmt(s.lr)} in {where}" if s.lr is not None else where
        return (f"lower its learning rate (LDM's discriminator Adam takes the autoencoder's rate, {rate}, "
                f"{ldm_scaling(s)}; give it its own)")
    return "lower its learning rate (its own optimizer's)"


def ldm_scaling(s: Schedule) -> str:
    """What LDM's main.py (scale_lr, its default) makes of base_learning_rate: "trained at 1.08e-04 x the GPUs
    (x 24 = accumulate_grad_batches x batch_size, and x the GPUs, by main.py)"; without the batch size in the
    config, the factor named. No parentheses: the phrase sits inside a pair."""
    if s.lr is not None and s.lr_scale:
        return (f"which main.py multiplies by accumulate_grad_batches x batch_size = {s.lr_scale} and by the GPUs: "
                f"{fmt(s.lr * s.lr_scale)} on one GPU")
    return "which main.py multiplies by accumulate_grad_batches x GPUs x batch_size"


def _capacity(s: Schedule) -> str:
    section = _LOSS_SECTION.get(s.layout)
    default = ", 3 by default" if s.loss_class and "LPIPS" in s.loss_class else ""
    return f"cut its capacity (disc_num_layers under {section}{default})" if section else "cut its capacity"


def weaken_discriminator(s: Schedule, last: int, logged_lr: bool = False) -> str:
    """Weaken the discriminator, by the knobs that act on it: "weaken the discriminator itself: lower its
    learning rate (...); or cut its capacity (...); or add noise or augmentation to its inputs"; a later start is
    offered only while the run (its last logged step ``last``) has not reached disc_start: past it, no resume can
    start it later."""
    ways = [_disc_lr(s, logged_lr), _capacity(s), "add noise or augmentation to its inputs"]
    switch = s.switch_step
    if switch is not None and last < switch and s.disc_start is not None:
        where = set_at(s, "disc_start") or "disc_start"
        ways.append(f"start it later (disc_start {fmt(s.disc_start)} in {where}; the run has not reached it)")
    return "weaken the discriminator itself: " + "; or ".join(ways)


def kl_lighter(s: Schedule) -> str:
    """Lower kl_weight, said with its value and key path."""
    return f"lower kl_weight{_value_at(s, 'kl_weight')}, so that the KL term weighs less against the reconstruction"


def bound_posterior(s: Schedule) -> str:
    """What holds a KL that a tiny weight lets drift, by the loss's mechanics (KL = 0.5 x sum(mu^2 + var - 1 -
    logvar), weighted by kl_weight): a weight that makes the term count, or a posterior bounded at its source. Not
    the learning rate: a rising KL at kl_weight 1e-6 is what the objective allows, not an optimizer's fault."""
    where = set_at(s, "kl_weight")
    return (f"Raise kl_weight (from {fmt(s.kl_weight)}" + (f" at {where}" if where else "")
            + f", e.g. to {fmt(s.kl_weight * 10)}), or check the encoder's log-variance output (a clamp, a missing "
            "exp).")
