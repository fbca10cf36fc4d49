"""Is the discriminator on exactly when the schedule says? (``adopt_weight``: on iff step >= disc_start)."""

from __future__ import annotations

import numpy as np

from ..numbers import fmt
from ..schedule import Schedule
from .base import Finding, Metrics


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


def disc_off_before_start(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    activity = disc_activity(m)
    steps, on = activity[1], activity[2]
    before = steps < s.disc_start
    if not before.any() or on[before].any():
        return []  # nothing logged before disc_start, or it is on there (the next rule says so)
    logged = int(before.sum())
    message = (
        f"{activity[0]} is exactly 0 at all {fmt(logged)} logged steps before {fmt(s.disc_start)}: expected, the "
        f"discriminator is off until step {fmt(s.disc_start)} (disc_start), so it neither trains nor adds a GAN term."
    )
    if m.has("disc_loss") and activity[0] != "disc_loss":
        loss_steps, loss = m.window("disc_loss", hi=s.disc_start)
        if len(loss) and np.all(loss == 0):
            message += " disc_loss is 0 there too, as it must be."
    return [Finding("disc-off-before-start", "ok", message, activity[0], int(steps[before][-1]),
                    {"points_before_start": logged, "disc_start": s.disc_start})]


def disc_inactive_after_start(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    name, steps, on = disc_activity(m)
    after = steps >= s.disc_start
    if not after.any():
        return []
    if on[after].any():
        first = int(steps[after][on[after]][0])
        return [Finding("disc-inactive-after-start", "ok",
                        f"The discriminator is on from step {fmt(first)}, the first logged step at or after "
                        f"disc_start {fmt(s.disc_start)}, as scheduled.", name, first,
                        {"first_active_step": first, "disc_start": s.disc_start})]
    first = int(steps[after][0])
    return [Finding(
        "disc-inactive-after-start", "error",
        f"{name} is still 0 at all {fmt(int(after.sum()))} logged steps from {fmt(first)} on, although disc_start is "
        f"{fmt(s.disc_start)}: the discriminator never switched on. Check that the trainer passes the global step "
        "to the loss, that disc_factor is not 0 in the config, and that the discriminator's optimizer is stepped.",
        name, first, {"points_after_start": int(after.sum()), "disc_start": s.disc_start},
    )]


def disc_active_before_start(m: Metrics, s: Schedule, t: dict) -> list[Finding]:
    name, steps, on = disc_activity(m)
    early = on & (steps < s.disc_start)
    if not early.any():
        return []
    first = int(steps[early][0])
    ratio = first / s.disc_start if s.disc_start else float("nan")
    numbers = {"first_active_step": first, "disc_start": s.disc_start, "ratio": round(ratio, 4)}
    # The switch happened between the last logged "off" step and the first "on" one.
    off = steps[(~on) & (steps < first)]
    last_off = int(off[-1]) if len(off) else -1
    half = s.disc_start / 2
    if last_off < half * (1 + t["half_tolerance"]) and first >= half * (1 - t["half_tolerance"]):
        return [Finding(
            "disc-active-before-start", "info",
            f"The discriminator switched on at logged step {fmt(first)}, about half of disc_start {fmt(s.disc_start)} "
            f"(ratio {ratio:.2f}). That is a step-unit mismatch, not a fault: the trainer's global step counts both "
            "optimizers' steps (PyTorch Lightning >= 1.6 with two optimizers), so disc_start is reached at "
            f"logged step ~{fmt(s.disc_start // 2)}. Read every milestone in logged steps at half its config value.",
            name, first, numbers,
        )]
    return [Finding(
        "disc-active-before-start", "warning",
        f"The discriminator is on from logged step {fmt(first)}, before disc_start {fmt(s.disc_start)}. The config "
        "read may not be the one this run used (check disc_start), or the trainer counts steps in other units.",
        name, first, numbers,
    )]
