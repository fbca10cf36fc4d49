"""What the adversarial phase costs reconstruction: rec_loss risen from its level at the switch-on, its cause
(the GAN term's weight, a NaN/Inf step) and what to change."""

from __future__ import annotations

import math

import numpy as np

from .. import position as pos
from ..checkpoints import checkpoint_before
from ..levels import difference_noise, movement
from ..numbers import describe_change, fmt, part_of, pct, relative_change, signed_pct
from ..schedule import Schedule, set_at
from ..stats import SIDE_POINTS, level_changed, robust_noise, rolling_median
from .base import Case, Metrics, departure, finite, median_of, ramp_onset, see, turn_onset
from .current import lowest_window
from .decomposition import decompose
from .discriminator import disc_activity
from .gan import latest_in_phase
from .knobs import USUAL_DISC_WEIGHT, chase_less, suggested_weight
from .losses import shift_at_nonfinite
from .said import Said


def _regularizer_term(m: Metrics, s: Schedule) -> str:
    """The model's own regularizer, a suspect beside the lr: a VQ model's codebook use, a KL model's KL term
    (never advice about a term the model does not have)."""
    if s.regularizer == "vq" or m.has("quant_loss"):
        return "the codebook's use"
    return "the KL term" if m.has("kl_loss") or s.regularizer == "kl" else "the data"


def rec_after_disc(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    activity = disc_activity(m)
    if activity is not None and not activity[2][activity[1] >= s.switch_step].any():
        return []  # it never switched on (disc-inactive-after-start): there is no "after" to compare
    before_steps, before = m.window("rec_loss", hi=s.switch_step)
    recent = latest_in_phase(m, "rec_loss", s, t["window"])
    if recent is None or len(finite(before)) < 5:
        return []
    if not np.isfinite(recent[1][-1]):
        return []  # NaN/Inf at the latest step: the non-finite finding says so
    # the level just before the switch-on (the last 5% of the phase before it), the one rec-trend quotes too
    prior = m.before_switch_on("rec_loss", s.switch_step)
    base = prior.value
    level = m.level("rec_loss")  # the one current level of rec_loss, inside the adversarial phase
    now = level.value
    change = relative_change(base, now)
    noise = difference_noise(prior, level)
    noise = math.nan if noise is None else noise
    phase_steps, phase_values = m.window("rec_loss", lo=s.switch_step)
    onset = departure(phase_steps, phase_values, base, now)
    numbers = {"before_level": base, "recent_level": now, "change": change, "onset_step": onset,
               "before_switch": {"rec_loss": base}, "now": {"rec_loss": now},
               # the stretch its verdict is about (from just before the switch-on to now): a change older than it
               # is no doubt on it (grouping.qualify_ok), only older damage to cite
               "judged_from": prior.first_step,
               # the noise of the difference, so that every sentence says the move as this one does
               **({"change_noise": noise} if math.isfinite(noise) else {})}
    numbers["fewest_points"] = min(prior.points, level.points)
    moved = describe_change(base, now, noise=noise, points=numbers["fewest_points"])
    # the current level's window is named as a span: a "since step" would read as a second onset
    since = (f"comparing its level just before {pos.at(s, s.switch_step)} ({median_of(prior, 'last')} there) "
             f"with its current level ({pos.window(s, level.first_step, level.last_step, level.points)})")
    shift = shift_at_nonfinite(m, "rec_loss", lo=s.switch_step)
    if shift is not None and change is not None and change > t["worse"]:
        # the level moved at a NaN/Inf step long after the switch-on: that step's, not the discriminator's
        held = finite(phase_values[phase_steps < shift[0]])
        if len(held) >= 5:
            then = float(np.median(held[-max(5, len(held) // 5):]))
            numbers.update(level_before_nonfinite=then, nonfinite_step=shift[0])
            return [Case(
                f"The discriminator's start cost no reconstruction: its level just before "
                f"{pos.at(s, s.switch_step)} was {fmt(base)}, and {fmt(then)} in the phase up to "
                f"{pos.at(s, shift[0])}. "
                f"It got worse at {pos.at(s, shift[0])}, across a NaN/Inf step, not with the discriminator "
                f"({describe_change(shift[1], shift[2])} there): see {see('non-finite')}.",
                "rec_loss", shift[0], numbers, severity="info", case="across-nonfinite",
            )]
    earlier = _rose_before_switch(before_steps, before, base, noise, t)
    if earlier is not None and change is not None and change > 0:
        # worse than its best already before the switch-on: not the adversarial term's price, whatever followed
        low, low_step, onset = earlier
        # what came after the switch-on is told apart: a rise before it is neither credited to the
        # discriminator nor excused by it (the answers read this, not the severity)
        numbers.update(best_before=low, best_before_step=low_step, onset_step=onset,
                       rose_after_switch=bool(change > t["worse"] and now - base > 2 * noise))
        return [Case(
            f"Reconstruction was getting worse before the discriminator started: rec_loss rose from "
            f"{fmt(low)} (its best, near {pos.at(s, low_step)}) to {fmt(base)} just before "
            f"{pos.at(s, s.switch_step)}, from {pos.at(s, onset)}, and is {fmt(now)} now, "
            f"{part_of(now - low, low) or fmt(now - low)} above that best. The rise began before the switch-on, so "
            "it is not the adversarial term's price.",
            "rec_loss", onset, numbers,
            action=f"Look at what changed near {pos.at(s, onset)}: the other findings, the learning rate, "
                   f"{_regularizer_term(m, s)}.", look="", case="before-switch",
            rationale="Reconstruction that was already getting worse before the discriminator started has a cause "
                      "from the first phase (the learning rate, the data, the regularizer), which the adversarial "
                      "phase carries on: weakening the discriminator would not undo it.")]
    later = _rose_in_phase(phase_steps, phase_values, base, level, t)
    if later is not None:  # held at first, worse later: judged from the phase's own early level, never "ok"
        early, onset = later
        numbers.update(early_phase_level=early, onset_step=onset, change_in_phase=relative_change(early, now))
        return [Case(
            f"Reconstruction got worse during the adversarial phase, not when the discriminator started: rec_loss "
            f"was {fmt(base)} just before {pos.at(s, s.switch_step)} and {fmt(early)} over the phase's first 30%, "
            f"then {describe_change(early, now)} to its current level ("
            f"{pos.window(s, level.first_step, level.last_step, level.points)}), from {pos.at(s, onset)}. "
            "Something changed in the adversarial phase then (the GAN's balance, the learning rate).",
            "rec_loss", onset, numbers, case="adversarial-rise",
            action=f"Check the discriminator's signals and the learning rate near {pos.at(s, onset)}.")]
    settled = finite(phase_values[: max(5, len(phase_values) * 3 // 10)])
    if change is not None and t["worse"] < change <= 2 * t["worse"] and now - base > 2 * noise \
            and len(finite(phase_values)) >= 20 and now <= float(np.median(settled)) * (1 + t["worse"] / 2):
        # a modest cost that came with the switch-on and has not grown since: the usual price of the adversarial
        # term (a larger one is a regression however steady)
        numbers["early_phase_level"] = float(np.median(settled))
        # "held" only where levels.movement says so (within 5% and the noise); a cost that eased is said so
        since_then = movement(numbers["early_phase_level"], now, level.noise * math.sqrt(2)).word
        kept = {"held": "has held since", "fell": "has eased since", "rose": "has grown only a little since"}
        return [Case(
            f"Reconstruction costs more since the discriminator started: {since}, rec_loss {moved}; that cost came "
            f"with the switch-on and {kept[since_then]} (median {fmt(numbers['early_phase_level'])} over the "
            f"phase's first 30%): the usual price of the adversarial term. If it matters, {chase_less(s)}.",
            "rec_loss", int(phase_steps[0]), numbers, severity="info", case="usual-price")]
    if change is not None and change > t["worse"] and now - base > 2 * noise:
        numbers["disc_weight"] = s.disc_weight
        # dated where the climb turned (a slow climb measured by how far it had got is dated late), from the
        # level just before the switch-on
        turned = turn_onset(*m.window("rec_loss", lo=prior.first_step), base, now)
        if turned is not None:
            onset = numbers["onset_step"] = max(turned[0], int(phase_steps[0]))
        cause, advice = _weight_cause(m, s, change, onset)
        return [Case(
            f"Reconstruction got worse once the discriminator started: {since}, rec_loss {moved}; the rise began "
            f"at {pos.at(s, onset)}. {cause}",
            "rec_loss", onset, numbers, case="adversarial-rise", action=advice,
        )]
    low = _phase_low(phase_steps, phase_values, level, t) if change is not None and now <= base else None
    if low is not None:
        # below its switch-on level, yet well above its low in the phase: no "did not get worse" (a loss still
        # falling after the switch-on hides a rise that came later, a discriminator's win, say)
        low_value, low_step = low
        numbers.update(phase_low=low_value, phase_low_step=low_step,
                       change_from_phase_low=relative_change(low_value, now))
        return [Case(
            f"Reconstruction is not worse than before the discriminator started, but it has risen within the "
            f"adversarial phase: {since}, rec_loss {moved}; it was {fmt(low_value)} at its lowest in this phase "
            f"(near {pos.at(s, low_step)}), {signed_pct(numbers['change_from_phase_low'])} from there to now.",
            "rec_loss", int(recent[0][-1]), numbers, severity="info", case="rose-in-phase")]
    slight = change is not None and now > base and not moved.startswith("held")
    # "by less than 10%" only beside a change printed below 10% (a larger one within its noise is no clear rise)
    small = slight and round(change * 100, 1) < round(t["worse"] * 100, 1)
    head = (f"Reconstruction got a little worse once the discriminator started, by less than "
            f"{pct(t['worse'], 0)}") if small else \
        "Reconstruction did not clearly get worse once the discriminator started" if slight else \
        "Reconstruction did not get worse once the discriminator started"
    # an all-clear on the level now is placed at now (the window's last step), not where its window starts
    return [Case(f"{head}: {since}, rec_loss {moved}.", "rec_loss", int(recent[0][-1]), numbers, severity="ok",
                 case="slightly-worse" if slight else None)]


def rec_after_disc_short(f: Said) -> str | None:
    n = f.n
    if "nonfinite_step" in n and "level_before_nonfinite" in n:
        return (f"rec_loss was {fmt(n['before_level'])} just before the discriminator started and "
                f"{fmt(n['level_before_nonfinite'])} in its phase up to {f.at(n['nonfinite_step'])}, and "
                f"{fmt(n['recent_level'])} since the NaN/Inf step there")
    if "best_before" in n and "before_level" in n and "recent_level" in n:  # risen before the switch-on
        after = (describe_change(n["before_level"], n["recent_level"], noise=n.get("change_noise"),
                                 points=n.get("fewest_points"))
                 if n.get("rose_after_switch") else f"held near {fmt(n['recent_level'])}")
        return (f"rec_loss rose from {fmt(n['best_before'])} (its best, near {f.at(n['best_before_step'])}) to "
                f"{fmt(n['before_level'])} before the discriminator started, from {f.at(n['onset_step'])}, and "
                f"{after} after it")
    if "phase_low" in n and "before_level" in n and "recent_level" in n:  # lower than before, risen in the phase
        return (f"rec_loss is {fmt(n['recent_level'])} now against {fmt(n['before_level'])} just before the "
                f"discriminator started, but up {signed_pct(n['change_from_phase_low'])} from its low in the phase "
                f"({fmt(n['phase_low'])}, near {f.at(n['phase_low_step'])})")
    if "before_level" in n and "recent_level" in n:
        moved = describe_change(n["before_level"], n["recent_level"], noise=n.get("change_noise"),
                                points=n.get("fewest_points"))
        return f"rec_loss {moved} from just before the discriminator started to now"
    return None


def _rose_before_switch(steps: np.ndarray, values: np.ndarray, base: float, noise: float,
                        t: dict) -> tuple[float, int, int] | None:
    """(its best smoothed level before the switch-on, where, where the rise from it began) when rec's level just
    before the switch-on (``base``) is worse than that best by more than ``worse`` and the noise."""
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    if len(values) < 40:
        return None
    window = max(5, len(values) // 20)
    smooth = rolling_median(values, window, window)
    i = int(np.nanargmin(smooth))
    low = float(smooth[i])
    if not (base > low * (1 + t["worse"]) and base - low > 2 * noise) or len(values) - i < 2 * window:
        return None
    # the lowest of many moving medians sits below the level by their noise: a rise from it is a level change
    # only as a difference of medians over SIDE_POINTS or more a side, clear of the points' own scatter
    w = max(window, SIDE_POINTS)
    a = max(0, i - w // 2)
    if a + w > len(values) - w or not level_changed(values[a:a + w], values[-w:]):
        return None
    return low, int(steps[i]), ramp_onset(steps[i:], values[i:])[0]


def _rose_in_phase(steps: np.ndarray, values: np.ndarray, base: float, level, t: dict) -> tuple[float, int] | None:
    """(the phase's early level, where rec left it) when rec held at or below its pre-switch level ``base`` over
    the phase's first 30% and has since risen by more than ``worse`` and beyond the noise: a regression inside
    the phase that a comparison with ``base`` alone would call small."""
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    if len(values) < 20:
        return None
    settled = values[: max(5, len(values) * 3 // 10)]
    early = float(np.median(settled))
    change = relative_change(early, level.value)
    noise = math.hypot(1.25 * robust_noise(settled) / np.sqrt(len(settled)), level.noise)
    if early > base * (1 + t["worse"] / 2) or change is None or change <= t["worse"] \
            or level.value - early <= 2 * noise:
        return None
    # a slow rise is dated where the level turns into a ramp (a level-then-ramp fit), a step where it steps (up
    # to where it reached its level: a plateau after it would drag a ramp's break early), not where it clears a
    # band; one that began with the switch-on is the switch-on's (judged against the level before it)
    turned = turn_onset(steps, values, early, level.value)
    onset = turned[0] if turned is not None else ramp_onset(steps, values)[0]
    if onset - steps[0] < 0.2 * (steps[-1] - steps[0]):
        return None
    return early, onset


def _phase_low(steps: np.ndarray, values: np.ndarray, level, t: dict) -> tuple[float, int] | None:
    """(the phase's lowest sustained level, the step its window starts) when the current level is more than
    ``worse`` above it and beyond its noise: the lowest median of as many points as the current level takes, over
    the phase before the current level's window (at least 20 points); None otherwise. The lowest of many window
    medians sits below the level by their noise, so the margin is three noises of the difference."""
    good = np.isfinite(values) & (steps < level.first_step)
    steps, values = steps[good], values[good]
    if len(values) < max(20, level.points) or not math.isfinite(level.noise):
        return None
    low, at = lowest_window(values, max(level.points, 5))
    change = relative_change(low, level.value)
    if change is None or change <= t["worse"] or level.value - low <= 3 * math.sqrt(2) * level.noise:
        return None
    return low, int(steps[at])


def _weight_cause(m: Metrics, s: Schedule, change: float, onset: int) -> tuple[str, str]:
    """The discriminator's weight named as the lever of a reconstruction that degraded with it: with the adaptive
    d_weight (LDM's, RadioDiff's) the GAN term's gradient at the decoder's last layer is disc_weight times the
    nll's, whatever the two terms' values (a term that is 1% of the loss still pulls with that force); and what
    to do, from how long the rise has lasted: a fresh one may settle, one that has held for a quarter of the
    phase or more has persisted."""
    last = m.last_step()
    lasted = last - onset
    phase = max(last - (s.switch_step or 0), 1)
    persisted = lasted >= 0.25 * phase
    where = set_at(s, "disc_weight") or s.origins.get("disc_weight", "the config")
    if s.disc_weight is None:
        return ("The adversarial term is what changed then.",
                f"It has persisted since {pos.at(s, onset)}: {chase_less(s)}." if persisted else
                f"If it persists, {chase_less(s)}.")
    adaptive = m.has("d_weight") or "LPIPS" in (s.loss_class or "")
    text = (f"The lever is disc_weight {fmt(s.disc_weight)} ({where})"
            + (f", {fmt(round(s.disc_weight / USUAL_DISC_WEIGHT, 1))} times the {USUAL_DISC_WEIGHT} RadioDiff and "
               "LDM use" if s.disc_weight >= 2 * USUAL_DISC_WEIGHT else "")
            + ", the weight of the generator's adversarial term in the autoencoder's loss")
    # the two terms as the breakdown of total_loss gives them (means over the window of its Now, signed, with
    # the adversarial term's share of the loss's size): one value of each in the whole report
    found = decompose(m, s)
    terms = {t.kind: t for t in found.terms} if found is not None else {}
    size = ""
    if "adversarial" in terms and "nll" in terms and terms["adversarial"].value and terms["nll"].value > 0:
        adv, nll = terms["adversarial"], terms["nll"]
        size = (f"{fmt(adv.value)} against an nll of {fmt(nll.value)} over the latest stretch ({adv.share_said()} "
                "of the loss's size, as the breakdown of total_loss gives it)")
    if adaptive:
        text += (". " + (f"The adversarial term d_weight x g_loss is {size}, but its value is not its pull: "
                         if size else "")
                 + ("the" if size else "The")
                 + " adaptive d_weight scales the GAN term's gradient at the decoder's last layer to "
                 f"disc_weight times the nll's, so the discriminator pulls with {fmt(s.disc_weight)} times the "
                 "reconstruction's force.")
    else:
        text += (f"; the adversarial term d_weight x g_loss is {size}." if size else ".")
    lower = chase_less(s, suggested_weight(s))
    if persisted:
        advice = (f"The rise has persisted since {pos.at(s, onset)} ({fmt(lasted)} {pos.units(s)}, "
                  f"{signed_pct(change)} now): {lower}, and resume from {checkpoint_before(s, onset)}.")
    else:
        advice = (f"Some cost is common at first, and this rise began only {fmt(lasted)} {pos.units(s)} ago: if it "
                  f"still stands at the next report, {lower}.")
    return text, advice
