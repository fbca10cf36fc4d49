"""The one-line forms of the discriminator's and the adversarial phase's findings (see short_forms.py), and the
view of a finding every clause reads (``Said``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import position as pos
from ..numbers import counted, describe_change, fmt, pct
from ..rules.decomposition import share_text


class Said:
    """What a clause reads of a finding (a Finding, or a cited finding's dict): its metric, step, case, severity
    and numbers, and the unit the logs count."""

    def __init__(self, finding: Any, unit: str):
        get = finding.get if isinstance(finding, dict) else lambda key, default=None: getattr(finding, key, default)
        self.rule, self.metric, self.step = get("rule"), get("metric"), get("step")
        self.case, self.severity = get("case"), get("severity")
        self.n: dict = get("numbers") or {}
        self.unit = unit

    def at(self, step: int | float | None = None) -> str:
        """"step N" in the logs' unit (the finding's own step by default)."""
        return pos.at(self.unit, self.step if step is None else step)

    def count(self, n: int | float) -> str:
        return pos.count(self.unit, n)


def share_of(value: Any) -> str:
    """A share (or a (low, high) range of one) as the report prints it."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return f"{share_text(value[0])} to {share_text(value[1])}"
    return share_text(value)


def _rec_after_disc(s: Said) -> str | None:
    n = s.n
    if "nonfinite_step" in n and "level_before_nonfinite" in n:
        return (f"rec_loss was {fmt(n['before_level'])} just before the discriminator started and "
                f"{fmt(n['level_before_nonfinite'])} in its phase up to {s.at(n['nonfinite_step'])}, and "
                f"{fmt(n['recent_level'])} since the NaN/Inf step there")
    if "before_level" in n and "recent_level" in n:
        moved = describe_change(n["before_level"], n["recent_level"], noise=n.get("change_noise"))
        return f"rec_loss {moved} from just before the discriminator started to now"
    return None


def _disc_off(s: Said) -> str | None:
    if "disc_start" not in s.n:
        return None
    if s.n.get("disc_loss_before_start"):  # logged unweighted: not the product with disc_factor 0
        return (f"disc_loss {fmt(s.n['disc_loss_before_start'])} (median) while disc_factor is 0 before "
                f"{s.at(s.n['disc_start'])}: logged unweighted")
    return (f"{s.metric} is 0 at all {fmt(s.n.get('points_before_start'))} points logged before "
            f"{s.at(s.n['disc_start'])}: the discriminator is off until then (disc_start), by design")


def _disc_inactive(s: Said) -> str | None:
    n = s.n
    if "first_active_step" in n and "steps_late" in n:
        return (f"the discriminator on only from {s.at(n['first_active_step'])}, {s.count(n['steps_late'])} after "
                f"disc_start {fmt(n.get('disc_start'))}")
    if "first_active_step" in n:
        return f"the discriminator on from {s.at(n['first_active_step'])}, disc_start {fmt(n.get('disc_start'))}"
    if s.case == "disabled":
        return (f"disc_factor 0 in the config: {s.metric} 0 at all {fmt(n.get('points_after_start'))} points "
                f"logged from {s.at()}")
    if "points_after_start" in n:
        return (f"{s.metric} still 0 at all {fmt(n['points_after_start'])} points logged from {s.at()}, past "
                f"disc_start {fmt(n.get('disc_start'))}")
    return None


def _disc_past_end(s: Said) -> str | None:
    n = s.n
    if "disc_start" not in n or "total_steps" not in n:
        return None
    return f"disc_start {fmt(n['disc_start'])} at or past the end of training at {fmt(n['total_steps'])}"


def _disc_before(s: Said) -> str | None:
    n = s.n
    if "first_active_step" not in n:
        return None
    said = f"the discriminator on from logged {s.at(n['first_active_step'])}"
    if n.get("step_unit", 1) != 1:
        return (f"{said}, about 1/{fmt(n['step_unit'])} of the config's disc_start {fmt(n.get('config_disc_start'))}"
                f": a step-unit difference, disc_start is logged {s.at(n.get('disc_start'))}")
    return said + f", before disc_start {fmt(n.get('disc_start'))}"


def _disc_never_trained(s: Said) -> str:
    return (f"gradient_accumulate_every {fmt(s.n.get('gradient_accumulate_every', 1))} in a RadioDiff config: its "
            "discriminator never steps")


def _disc_level(s: Said) -> str | None:
    n = s.n
    now = (n.get("now") or {}).get("disc_loss")
    if now is None:
        return None
    if s.rule == "disc-at-chance" and "chance_level" in n:
        if "evidence" in n:  # near chance, but because nothing it outputs moves
            return f"disc_loss {fmt(now)} now, chance level {fmt(n['chance_level'])}, its outputs frozen"
        return (f"disc_loss at its equilibrium, {fmt(now)} now (chance level {fmt(n['chance_level'])})"
                + (f", for {s.count(n['steps_at_chance'])}" if "steps_at_chance" in n else ""))
    if "chance_level" in n:
        return f"disc_loss {fmt(now)} now, chance level {fmt(n['chance_level'])}"
    return f"disc_loss {fmt(now)} now" + (f", falling since {s.at(n['onset_step'])}"
                                           if s.rule == "disc-overpowering" and "onset_step" in n else "")


def _d_weight_pinned(s: Said) -> str | None:
    n = s.n
    if "ceiling" not in n:
        return None
    if s.case == "zero" or n["ceiling"] == 0:  # no clamp: an adversarial term weighted by 0
        return f"d_weight exactly 0 from {s.at(n.get('onset_step', s.step))}: the adversarial term weighted by 0"
    if n.get("bursts"):  # at the clamp in recurring bursts, not most of the time
        return (f"d_weight at its clamp {fmt(n['ceiling'])} in {counted(len(n['bursts']), 'burst')} from "
                f"{s.at(n['bursts'][0][0])}")
    share = n.get("share_since_onset", n.get("share_at_ceiling"))
    return (f"d_weight at its clamp {fmt(n['ceiling'])}" + (f" at {pct(share, 0)} of the points" if share else "")
            + (f" since {s.at(n['onset_step'])}" if "onset_step" in n else ""))


def _gan_term(s: Said) -> str | None:
    n = s.n
    if n.get("adversarial_share") is None:  # a mean within its noise: no share to give
        return (f"the adversarial term's mean {fmt(n['adversarial_mean'])} ± {fmt(n.get('adversarial_noise'))}, "
                "within its noise: no share" if "adversarial_mean" in n else None)
    said = f"the adversarial term {share_of(n['adversarial_share'])} of the loss's size"
    if "adversarial_early" in n and "adversarial_now" in n and "onset_step" in n:
        said += (f", its mean size grown from {fmt(n['adversarial_early'])} to {fmt(n['adversarial_now'])} since "
                 f"{s.at(n['onset_step'])}")
    return said


def _oscillation(s: Said) -> str | None:
    n = s.n
    if "swings" not in n:
        return None
    return (f"disc_loss swings between about {fmt(n.get('disc_loss_low'))} and {fmt(n.get('disc_loss_high'))} "
            f"(chance level {fmt(n.get('chance_level'))}), {counted(n['swings'], 'change')} of side from "
            f"{s.at(n.get('first_step', s.step))} to {s.at(n.get('last_step', s.step))}")


GAN_SHORT: dict[str, Callable[[Said], str | None]] = {
    "gan-oscillation": _oscillation,
    "disc-off-before-start": _disc_off,
    "disc-inactive-after-start": _disc_inactive,
    "disc-start-past-end": _disc_past_end,
    "disc-active-before-start": _disc_before,
    "disc-never-trained": _disc_never_trained,
    "disc-overpowering": _disc_level,
    "disc-at-chance": _disc_level,
    "generator-winning": _disc_level,
    "d-weight-pinned": _d_weight_pinned,
    "gan-term-dominant": _gan_term,
    "rec-after-disc": _rec_after_disc,
}
