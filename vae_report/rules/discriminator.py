"""Is the discriminator on exactly when the schedule says? (``adopt_weight``: on iff step >= disc_start)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .. import position as pos
from ..checkpoints import latest_checkpoint
from ..numbers import counted, fmt
from ..schedule import Schedule, set_at
from .base import Case, Metrics, see
from .said import Said


def disc_activity(m: Metrics) -> tuple[str, np.ndarray, np.ndarray] | None:
    """The metric that shows whether the discriminator is on, its steps, and where it is on.

    ``disc_factor`` says it directly; without it, a ``disc_loss`` that is not exactly 0 does (before
    ``disc_start`` the loss is multiplied by a factor of 0 and logged as 0.0).
    """
    for name in ("disc_factor", "disc_loss"):
        if m.has(name):
            values = m.values(name)
            return name, m.steps(name), np.isfinite(values) & (values != 0)
    return None


def first_on(m: Metrics, s: Schedule) -> int:
    """The first logged step from the switch-on (``s.switch_step``) at which the discriminator is on: the
    switch-on step itself, or later where the logged counter runs ahead of the loss's own (a count from 1); the
    switch-on step where the logs cannot tell."""
    found = disc_activity(m)
    if found is None or s.switch_step is None:
        return s.switch_step or 0
    _, steps, on = found
    later = on & (steps >= s.switch_step)
    return int(steps[later][0]) if later.any() else s.switch_step


def disc_off_before_start(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    activity = disc_activity(m)
    steps, on = activity[1], activity[2]
    before = steps < s.disc_start
    if not before.any() or on[before].any():
        return []  # nothing logged before disc_start, or it is on there (the next rule says so)
    logged = int(before.sum())
    message = (
        f"{activity[0]} is exactly 0 at all {fmt(logged)} points logged before {pos.at(s, s.disc_start)}: expected, "
        f"the discriminator is off until {pos.at(s, s.disc_start)} (disc_start), so it neither trains nor adds a GAN "
        "term."
    )
    numbers = {"points_before_start": logged, "disc_start": s.disc_start}
    if m.has("disc_loss") and activity[0] != "disc_loss":
        _, loss = m.window("disc_loss", hi=s.disc_start)
        loss = loss[np.isfinite(loss)]
        if len(loss) and np.all(loss == 0):
            message += " disc_loss is 0 there too, as it must be."
            numbers["disc_loss_before_start"] = 0.0
        elif len(loss):  # d_loss = disc_factor x hinge in the LDM loss: not 0 here, it is not that product
            level = float(np.median(loss))
            numbers["disc_loss_before_start"] = level
            message += (f" disc_loss is not 0 there (median {fmt(level)} over its {fmt(len(loss))} points before "
                        f"{pos.at(s, s.disc_start)}), although the LDM loss logs disc_factor x the discriminator's "
                        "loss: this trainer logs the discriminator's loss unweighted, or at another counter than "
                        "disc_factor's (its optimizer's own steps).")
    if numbers.get("disc_loss_before_start", 0.0) != 0.0:
        return [Case(message, activity[0], int(steps[before][-1]), numbers, severity="info", case="unweighted",
                     title="disc_loss logged while disc_factor is 0",
                     action="Nothing to fix in training; read disc_loss before disc_start as the discriminator's "
                            "raw loss, not as a sign that it trained.")]
    return [Case(message, activity[0], int(steps[before][-1]), numbers, severity="ok")]


def disc_off_before_start_short(f: Said) -> str | None:
    if "disc_start" not in f.n:
        return None
    if f.n.get("disc_loss_before_start"):  # logged unweighted: not the product with disc_factor 0
        return (f"disc_loss {fmt(f.n['disc_loss_before_start'])} (median) while disc_factor is 0 before "
                f"{f.at(f.n['disc_start'])}: logged unweighted")
    return (f"{f.metric} is 0 at all {fmt(f.n.get('points_before_start'))} points logged before "
            f"{f.at(f.n['disc_start'])}: the discriminator is off until then (disc_start), by design")


def disc_inactive_after_start(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    name, steps, on = disc_activity(m)
    after = steps >= s.disc_start
    if not after.any():
        return []
    if on[after].any():
        first = int(steps[after][on[after]][0])
        if s.switched_late:
            return [_late(name, steps, after, first, s)]
        numbers = {"first_active_step": first, "disc_start": s.disc_start}
        off = steps[after & (steps < first)]  # logged at or after disc_start, still off: within the tolerance
        if len(off):
            numbers.update(off_from_start=int(len(off)), first_off_step=int(off[0]), last_off_step=int(off[-1]))
            # the offset lies above the last step still off and at most the first one on, from disc_start
            low, high = int(off[-1]) - s.disc_start + 1, first - s.disc_start
            by = (f"{fmt(high)} {pos.unit(s)}{'s' if high != 1 else ''}" if low >= high else
                  f"{fmt(low)} to {fmt(high)} {pos.unit(s)}s")
            message = (f"The discriminator is on from {pos.at(s, first)}. At {pos.at(s, int(off[0]))}, the first "
                       f"logged {pos.unit(s)} at or after disc_start {fmt(s.disc_start)}, it is still off"
                       + (f" ({counted(len(off), 'logged ' + pos.unit(s))} in all)" if len(off) > 1 else "")
                       + f": the logged counter runs {by} ahead of the one the loss compares with disc_start (a "
                       "count from 1, or the step logged after the update); not a late start.")
        elif s.disc_start_inferred:  # no schedule to hold the data against
            why = s.disc_start_inferred + (f" ({s.unit_note})" if s.unit_note else "")
            message = (f"The discriminator is on from {pos.at(s, first)}, the first logged {pos.unit(s)} with it on: "
                       f"{why}, so this is where the logs put the switch-on (and disc_start is taken from it), not a "
                       "check against a schedule.")
        elif s.logged_per_step != 1:  # the config's disc_start multiplied into logged steps: said with why
            message = (f"The discriminator is on from {pos.at(s, first)}, the first logged {pos.unit(s)} at or after "
                       f"disc_start {fmt(s.disc_start)} in logged {pos.unit(s)}s, as scheduled: the config's "
                       f"{fmt(s.config_disc_start)} x {s.logged_per_step}, since the logged counter counts "
                       f"{s.logged_per_step} per step the loss is given (micro-batches under gradient accumulation, "
                       "or both optimizers' steps). This report reads every milestone of the config in logged "
                       f"{pos.unit(s)}s.")
            numbers.update(config_disc_start=s.config_disc_start, logged_per_step=s.logged_per_step)
        elif not (~after).any():  # the logs begin past disc_start: the switch-on itself is not in them
            message = (f"The logs begin at {pos.at(s, int(steps[0]))}, past disc_start {fmt(s.disc_start)}, and the "
                       f"discriminator is on at every logged {pos.unit(s)} from there, as the schedule has it: the "
                       "switch-on itself is not in these logs.")
        else:
            message = (f"The discriminator is on from {pos.at(s, first)}, the first logged {pos.unit(s)} at or after "
                       f"disc_start {fmt(s.disc_start)}, as scheduled.")
        if on[~after].any():  # on before disc_start too: "from" would contradict that finding
            message = (f"The discriminator is on at {pos.at(s, first)}, the first logged {pos.unit(s)} at or after "
                       f"disc_start {fmt(s.disc_start)}, as it should be (it was already on before: see "
                       f"{see('disc-active-before-start')}).")
        return [Case(message, name, first, numbers, severity="ok")]
    first = int(steps[after][0])
    numbers = {"points_after_start": int(after.sum()), "disc_start": s.disc_start, "disc_factor": s.disc_factor}
    cause, action = _why_never_on(s, m.last_step(), name)
    if s.adversarial_off == "disc_factor":  # the config turns it off: by design or by mistake, no failure to start
        return [Case(
            f"The config sets disc_factor: 0 ({s.key_path('disc_factor')}), which multiplies the adversarial "
            f"term by 0 at every {pos.unit(s)}: no adversarial phase runs in this run, whether or not that was "
            f"intended, and {name} is 0 at all {fmt(int(after.sum()))} points logged from {pos.at(s, first)} on "
            f"(disc_start {fmt(s.disc_start)}). The autoencoder trains without a discriminator.",
            name, first, numbers, severity="warning", case="disabled",
            action=f"{action.rstrip('.')}, if the GAN was meant to train.",
            title="Adversarial term disabled by the config",
            rationale="An autoencoder trained without its adversarial term keeps the blur the pixel and perceptual "
                      "losses leave: what the config asks for if a plain VAE was meant, a lost GAN phase if not.")]
    return [Case(
        f"{name} is still 0 at all {fmt(int(after.sum()))} points logged from {pos.at(s, first)} on, although "
        f"disc_start is {fmt(s.disc_start)}: the discriminator never switched on.{cause}",
        name, first, numbers, action=action, case="never-on", title="Discriminator never switched on",
    )]


def disc_inactive_after_start_short(f: Said) -> str | None:
    n = f.n
    if "first_active_step" in n and "steps_late" in n:
        return (f"the discriminator on only from {f.at(n['first_active_step'])}, {f.count(n['steps_late'])} after "
                f"disc_start {fmt(n.get('disc_start'))}")
    if "first_active_step" in n:
        return f"the discriminator on from {f.at(n['first_active_step'])}, disc_start {fmt(n.get('disc_start'))}"
    if f.case == "disabled":
        return (f"disc_factor 0 in the config: {f.metric} 0 at all {fmt(n.get('points_after_start'))} points "
                f"logged from {f.at()}")
    if "points_after_start" in n:
        return (f"{f.metric} still 0 at all {fmt(n['points_after_start'])} points logged from {f.at()}, past "
                f"disc_start {fmt(n.get('disc_start'))}")
    return None


def _late(name: str, steps: np.ndarray, after: np.ndarray, first: int, s: Schedule) -> Case:
    """On, but well after disc_start: adopt_weight switches on at the first step >= disc_start, so every logged
    step between that is still off says the loss was given another step than the one logged (a counter of
    micro-batches or of one optimizer, a per-launch counter after a resume), or that another config ran."""
    off = int((after & (steps < first)).sum())
    late = first - s.disc_start
    ratio = first / s.disc_start if s.disc_start > 0 else 0.0  # disc_start 0: on from the start, no multiple
    times = round(ratio)
    multiple = times >= 2 and abs(ratio - times) <= 0.05 * times
    counter = ("" if not multiple else
               f" {fmt(first)} is about {times} x disc_start; RadioDiff's trainer gives its loss the step it logs, so "
               f"this is no other counter: the loss in effect gated on another disc_start ({fmt(times)} x this one) "
               "than this config's." if s.logs_the_loss_step else
               f" {fmt(first)} is about {times} x disc_start, as a logged counter {times} times the loss's global "
               "step would give (micro-batches under gradient accumulation, or both optimizers' steps).")
    return Case(
        f"The discriminator came on only at {pos.at(s, first)}, {fmt(late)} {pos.unit(s)}s after disc_start "
        f"{fmt(s.disc_start)} ({s.key_path('disc_start')}): {name} is still 0 at all {fmt(off)} points logged from "
        f"{pos.at(s, int(steps[after][0]))} to {pos.at(s, int(steps[after & (steps < first)][-1]))}.{counter} The "
        "phases in this report follow the data (adversarial from the switch-on).",
        name, first, {"first_active_step": first, "disc_start": s.disc_start, "points_off_after_start": off,
                      "steps_late": late}, severity="warning", case="late",
        title="Discriminator switched on late",
        action="Check which step the trainer passes to the loss as global_step (it must be the optimizer step the "
               "config's disc_start counts, not a per-launch, per-epoch or micro-batch counter) and that the config "
               f"in effect is this one (disc_start {fmt(s.disc_start)}).",
        rationale="adopt_weight switches the discriminator on at the first step at or after disc_start: a switch-on "
                  "well after it means the loss saw another step than the one logged, so every milestone counted "
                  "in that step is off by as much.")


def _why_never_on(s: Schedule, last: int, shown_by: str = "disc_loss") -> tuple[str, str]:
    """(the cause the config shows, what to do): a disc_factor of 0 in the config multiplies the GAN terms by 0 at
    every step, so that is the fix; with a non-zero one the config is not the cause, and what is left is how the
    trainer drives the loss (the step it passes, and, where only disc_loss shows it off, the optimizer it steps: a
    logged disc_factor of 0 is adopt_weight's output, which the optimizer does not touch)."""
    where = set_at(s, "disc_factor") or s.origins.get("disc_factor")
    optimizer = "" if shown_by == "disc_factor" else ", and that the discriminator's optimizer is stepped"
    if s.disc_factor == 0:
        return (f" The config sets disc_factor: 0 ({where}), which multiplies the GAN terms by 0 at every step, "
                "so adopt_weight has nothing to switch on.",
                f"Set disc_factor to 1 ({where}; LPIPSWithDiscriminator's default) and resume from "
                f"{latest_checkpoint(s, last)}.")
    if s.disc_factor:
        return ("", "Check that the trainer passes the global step (not a per-epoch or per-launch counter) to the "
                    f"loss as global_step{optimizer}: disc_factor is "
                    f"{fmt(s.disc_factor)} ({where or 'the config'}), so the config is "
                    "not what keeps it off.")
    return ("", "Check that disc_factor is not 0 in the config the trainer used, that the trainer passes the global "
                f"step to the loss{optimizer}.")


def disc_start_past_end(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """disc_start at or past the run's last step: the config's own schedule never reaches the adversarial phase."""
    found = disc_activity(m)
    if s.observed_disc_start is not None or s.disc_start < s.total_steps or (found is not None and found[2].any()):
        return []  # the data show it on: the run did not follow this config's total (the other rules say so)
    said = (f"disc_start is {fmt(s.disc_start)} ({s.key_path('disc_start')}), at or past the end of training at "
            f"{fmt(s.total_steps)} ({s.key_path('total_steps')}): the discriminator can never switch on in this run, "
            "so the autoencoder trains without its adversarial term to the end")
    numbers = {"disc_start": s.disc_start, "total_steps": s.total_steps}
    if s.disc_start >= t["sentinel"] * s.total_steps:  # 1e6 against 20k: the usual way to turn the GAN off
        return [Case(f"{said}. A disc_start {fmt(s.disc_start / s.total_steps)} times the total is the usual way "
                     "to turn the GAN off on purpose.", None, None, numbers, severity="info", case="sentinel")]
    return [Case(f"{said}, whether or not that was intended.", None, None, numbers)]


def disc_start_past_end_short(f: Said) -> str | None:
    n = f.n
    if "disc_start" not in n or "total_steps" not in n:
        return None
    return f"disc_start {fmt(n['disc_start'])} at or past the end of training at {fmt(n['total_steps'])}"


def gan_never_ran(m: Metrics, s: Schedule) -> str | None:
    """Why no GAN ran to be judged, in words (None when one did or still may): the config turns the adversarial
    term off, schedules it past the end, or the logs show the discriminator off at every point past disc_start."""
    found = disc_activity(m)
    if found is not None and found[2].any():
        return None  # on at some point: a GAN ran
    if s.adversarial_off == "disc_factor":
        return "the config's disc_factor 0 turns the adversarial term off"
    if s.adversarial_off == "beyond":
        return "disc_start lies past the end of training"
    if found is not None and s.switch_step is not None and m.last_step() >= s.switch_step:
        return "the discriminator never switched on"
    return None


HALF_TOLERANCE = 0.05


def _switch(m: Metrics) -> tuple[int, int] | None:
    """(the first logged step with the discriminator on, the last logged step off before it, -1 for none), or
    None when the logs never show it on."""
    found = disc_activity(m)
    if found is None:
        return None
    _, steps, on = found
    if not on.any():
        return None
    first = int(steps[on][0])
    off = steps[(~on) & (steps < first)]
    return first, int(off[-1]) if len(off) else -1


def _switched_at(switch: tuple[int, int], at: float, tolerance: float) -> bool:
    """Whether the switch-on lies at about ``at``: off at every logged step below ``at`` (within ``tolerance``),
    on from it."""
    first, last_off = switch
    return last_off < at * (1 + tolerance) and first >= at * (1 - tolerance)


def step_unit(m: Metrics, s: Schedule, tolerance: float = HALF_TOLERANCE) -> int:
    """2 when the discriminator switched on at half of disc_start in logged steps (Lightning >= 1.6 counts both
    optimizers' steps in the global_step that disc_start is compared with), else 1."""
    # Lightning's unit: never for RadioDiff's own trainer, nor for a config of its layout (its loop, not Lightning's)
    if not s.disc_start or s.step_unit != 1 or s.logs_the_loss_step or s.layout in ("radiodiff", "text log"):
        return 1
    switch = _switch(m)
    if switch is None or switch[0] >= s.disc_start:
        return 1
    return 2 if _switched_at(switch, s.disc_start / 2, tolerance) else 1


def logged_multiple(m: Metrics, s: Schedule, accumulate: int | None = None,
                    tolerance: float = HALF_TOLERANCE) -> int:
    """k when the discriminator switched on at k x disc_start in logged steps, off at every logged step before,
    and the config bears the unit out: k is its gradient accumulation (``accumulate``: a logged counter of
    micro-batches while the loss is given the optimizer step), or 2 (a counter of both optimizers' steps); else 1
    (a switch-on at another multiple is only suggested as a counter, by the late switch-on finding)."""
    # Lightning's logged step (its batches that stepped) never runs ahead of the global step disc_start is
    # compared with: under LDM's layout a late switch-on is no counter of another unit
    if not s.disc_start or s.disc_start < 100 or s.step_unit != 1 or s.logged_per_step != 1 \
            or s.logs_the_loss_step or s.layout in ("ldm", "sgm"):
        return 1
    switch = _switch(m)
    if switch is None or switch[1] < 0:
        return 1
    k = round(switch[0] / s.disc_start)
    return k if k in (2, accumulate) and _switched_at(switch, k * s.disc_start, tolerance) else 1


def disc_active_before_start(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    name, steps, on = disc_activity(m)
    if s.step_unit != 1 and on.any():
        first = int(steps[on][0])
        return [Case(
            f"The discriminator switched on at logged {pos.at(s, first)}, about 1/{s.step_unit} of the config's "
            f"disc_start {fmt(s.config_disc_start)}. That is a step-unit difference, not a fault: the trainer's "
            "global step counts both optimizers' steps (PyTorch Lightning >= 1.6 with two optimizers), so "
            f"disc_start is reached at logged {pos.at(s, s.disc_start)}. This report reads every milestone of the "
            f"config in logged steps (disc_start {fmt(s.disc_start)}"
            + (f", end of training {fmt(s.total_steps)}" if s.config_total_steps else "") + ").",
            name, first, {"first_active_step": first, "config_disc_start": s.config_disc_start,
                          "disc_start": s.disc_start, "step_unit": s.step_unit}, severity="info",
            title="Discriminator on at half of disc_start: a step unit")]
    early = on & (steps < s.disc_start)
    if not early.any():
        return []
    first = int(steps[early][0])
    ratio = first / s.disc_start if s.disc_start else float("nan")
    numbers = {"first_active_step": first, "disc_start": s.disc_start, "ratio": round(ratio, 4)}
    if step_unit(m, s, t["half_tolerance"]) != 1:  # a schedule not read through resolve_schedule
        return [Case(
            f"The discriminator switched on at logged {pos.at(s, first)}, about half of disc_start {fmt(s.disc_start)} "
            f"(ratio {ratio:.2f}). That is a step-unit mismatch, not a fault: the trainer's global step counts both "
            "optimizers' steps (PyTorch Lightning >= 1.6 with two optimizers), so disc_start is reached at "
            f"logged {pos.unit(s)} ~{fmt(s.disc_start // 2)}. Read every milestone in logged steps at half its "
            "config value.",
            name, first, numbers, severity="info", title="Discriminator on at half of disc_start: a step unit")]
    if s.layout == "flat":  # another trainer's: what its disc_start gates is its own business
        return [Case(
            f"The discriminator's loss is non-zero from logged {pos.at(s, first)}, before disc_start "
            f"{fmt(s.disc_start)}. LDM and RadioDiff switch the whole GAN on at disc_start; other trainers train "
            "the discriminator from the start and use disc_start only to delay the generator's adversarial term. "
            "This config's trainer is not one the report knows, so this is not called a fault.",
            name, first, numbers, severity="info")]
    return [Case(
        f"The discriminator is on from logged {pos.at(s, first)}, before disc_start {fmt(s.disc_start)}. The config "
        "read may not be the one this run used (check disc_start), or the trainer counts steps in other units.",
        name, first, numbers,
    )]


def disc_active_before_start_short(f: Said) -> str | None:
    n = f.n
    if "first_active_step" not in n:
        return None
    said = f"the discriminator on from logged {f.at(n['first_active_step'])}"
    if n.get("step_unit", 1) != 1:
        return (f"{said}, about 1/{fmt(n['step_unit'])} of the config's disc_start {fmt(n.get('config_disc_start'))}"
                f": a step-unit difference, disc_start is logged {f.at(n.get('disc_start'))}")
    return said + f", before disc_start {fmt(n.get('disc_start'))}"


def disc_never_trained(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """RadioDiff's ``gradient_accumulate_every`` is the number of optimizer passes per step (its loop index is
    the optimizer index): at 1 only the autoencoder's optimizer is ever stepped."""
    if s.layout not in ("radiodiff", "text log") or s.optimizer_passes != 1:
        return []
    last = m.last_step()
    when = (f"the run is at {pos.at(s, last)}, past disc_start {fmt(s.disc_start)}, so the adversarial term has "
            "pushed the autoencoder against a critic that never learned"
            if s.disc_start is not None and last >= s.disc_start
            else f"from disc_start {fmt(s.disc_start)} on, the adversarial term will push the autoencoder against a "
                 "critic that never learns" if s.disc_start is not None else "")
    return [Case(
        "The config sets trainer.gradient_accumulate_every 1. In RadioDiff's trainer that is not accumulation but "
        "the number of optimizer passes per step (pass 0 steps the autoencoder, pass 1 the discriminator), so the "
        f"discriminator is never trained and never logs a loss{': ' + when if when else ''}.",
        None, s.disc_start if s.disc_start is not None else 0, {"gradient_accumulate_every": 1},
    )]


def disc_never_trained_short(f: Said) -> str:
    return (f"gradient_accumulate_every {fmt(f.n.get('gradient_accumulate_every', 1))} in a RadioDiff config: its "
            "discriminator never steps")


def phase_start(m: Metrics, s: Schedule) -> int | None:
    """Where the current (adversarial) phase began: the first logged step with the discriminator on (which the
    data show even when it differs from disc_start), else disc_start once the run is past it; None before."""
    found = disc_activity(m)
    if found is not None and found[2].any() and not found[2][0]:
        return int(found[1][found[2]][0])
    if (found is not None and not found[2].any()) or (found is None and s.adversarial_off is not None):
        return None  # logged and never on, or the config never lets it on: no adversarial phase has begun
    if s.switch_step is not None and m.last_step() >= s.switch_step:
        return s.switch_step
    return None


# the discriminator's loss at chance by its form, and by whether the trainer halves the sum of its real and fake terms
# (LDM, RadioDiff) or sums them (many GAN trainers): ((disc_loss, disc_scale), level)
_FORMS = ((("hinge", 1), 1.0), (("hinge", 2), 2.0), (("vanilla", 1), math.log(2)), (("vanilla", 2), 2 * math.log(2)))


def disc_form(m: Metrics, s: Schedule, tolerance: float = 0.06) -> Schedule:
    """The schedule with the discriminator loss's form as the logs show it. When it first switches on, an untrained
    discriminator cannot tell real from fake, so its first points sit at its chance level: 1 or 2 for the hinge
    (halved as LDM does, or its two terms summed), ln 2 or 2 ln 2 for the vanilla loss. Where its first five points
    on agree (each within 10% of their median) and that median is within ``tolerance`` of one of those, that is the
    form, among the config's own form's two (a config that names one) or all four (none: the default is the halved
    hinge). Unchanged where the logs do not show the start (they begin with it on, past the run's first steps)."""
    if not m.has("disc_loss"):
        return s
    steps, values = m.steps("disc_loss"), m.values("disc_loss")
    on = np.flatnonzero(np.isfinite(values) & (values != 0))
    if len(on) < 5:
        return s
    first = on[0]
    gaps = np.diff(steps[: min(len(steps), 50)])
    every = float(np.median(gaps)) if len(gaps) else 0.0
    if first == 0 and steps[0] > 2 * max(every, 1.0):  # the logs begin with it on, mid-run: no start to read
        return s
    head = values[on[:5]]
    level = float(np.median(head))
    if level <= 0 or np.max(np.abs(head / level - 1)) > 0.1:
        return s
    forms = [(form, chance) for form, chance in _FORMS
             if s.disc_loss is None or form[0] == s.disc_loss]
    form, chance = min(forms, key=lambda fc: abs(math.log(level / fc[1])))
    if abs(level / chance - 1) > tolerance or form == (s.disc_loss or "hinge", s.disc_scale):
        return s
    said = (f"the logs: disc_loss {fmt(level)} at its first points on (from {pos.at(s, int(steps[first]))}), "
            "an untrained discriminator's chance level")
    return replace(s, disc_loss=form[0], disc_scale=form[1], origins={**s.origins, "disc_loss": said})
