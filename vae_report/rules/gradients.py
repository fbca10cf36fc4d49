"""A gradient norm that grows while the gradient is clipped.

Clipping rescales every update whose gradient norm exceeds the clip to that norm, so a norm that keeps growing
under it leaves the loss curves quiet for a while: the optimizer takes ever smaller steps against a steepening
loss (a learning rate too high for this stage, a loss term that grows) and the losses drift up only slowly. The
norm before clipping is what torch's ``clip_grad_norm_`` returns and what trainers log (frame.gradient_norms);
the clip comes from the config (``gradient_clip_val``, ``max_grad_norm``, ``grad_clip.max_norm``, ...:
config_keys.clip_norm) or, failing that, from a logged norm that sits at one value (the clipped norm).
"""

from __future__ import annotations

import math

import numpy as np

from .. import position as pos
from ..frame import gradient_norms
from ..levels import Level
from ..numbers import fmt, pct, signed_pct
from ..schedule import Schedule
from ..stats import robust_noise
from .base import Case, Metrics, see, step_onset
from .current import lowest_window, prepared
from .drift import MEDIAN_NOISE, steady_climb
from .losses import climb_into_nonfinite
from .said import Said

PINNED = 1e-4  # a clipped norm "sits at" its clip: within this share of it
RECENT = 0.2  # the latest share of the points whose clipping is counted


def _sits_at(values: np.ndarray) -> float | None:
    """The value a logged norm sits at for at least half of its latest points (a norm taken after clipping),
    else None."""
    recent = values[np.isfinite(values)][-max(5, int(RECENT * len(values))):]
    if not len(recent):
        return None
    top = float(np.max(recent))
    return top if top > 0 and np.mean(np.abs(recent - top) <= PINNED * top) >= 0.5 else None


def clip_in_effect(m: Metrics, s: Schedule) -> tuple[float, str] | None:
    """(the clip, where it comes from): the config's, else the value a logged gradient norm sits at."""
    if s.grad_clip is not None:
        return s.grad_clip, f"{s.origins.get('grad_clip', 'the config')}"
    for name in gradient_norms(m.names()):
        value = _sits_at(m.values(name))
        if value is not None:
            return value, f"the value the logged {name} sits at"
    return None


def growth(m: Metrics, name: str, lo: int | None) -> dict | None:
    """How a gradient norm grew to its current level: {from, to, factor, onset}, from the lowest level before its
    climb (drift.steady_climb) or, for a norm that stepped up, its lowest level before the latest points; None
    when it is not positive or has too few points. A norm that climbed into a NaN/Inf that stays grew as the
    non-finite finding tells it (losses.climb_into_nonfinite): one onset, baseline and peak for that climb. The
    baseline is the table's Start where that is the same level (Metrics.reference)."""
    climb = climb_into_nonfinite(m, name)
    if climb is not None:
        return {"from": climb["from"], "to": climb["to"], "factor": climb["to"] / climb["from"],
                "onset": climb["onset"], "into_nonfinite": True}
    steps, values = m.window(name, lo=lo)
    ready = prepared(steps, values, 1.5)
    level = m.level(name)
    if ready is None or level is None or not level.value > 0 or not ready[4]:
        return None
    _, _, b_steps, z, _ = ready
    k = max(3, int(round(len(z) * 0.05)))
    latest, sigma = math.log(level.value), robust_noise(z)
    climb = steady_climb(z, b_steps, k, latest, sigma)
    if climb is not None:
        base, onset = climb.baseline, climb.onset
    else:
        base, at = lowest_window(z[:-k], k)
        onset = step_onset(b_steps[at:], z[at:])[0]
    spread = 6 * MEDIAN_NOISE * sigma / math.sqrt(k) * math.sqrt(2)
    if latest - base <= spread:
        return None
    left = float(np.exp(base))
    left = m.reference(name, Level(left, left * MEDIAN_NOISE * sigma / math.sqrt(k), k, onset, onset)).value
    return {"from": left, "to": level.value, "factor": level.value / left, "onset": onset}


def grad_norm(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    out = []
    norms = gradient_norms(m.names())
    clip = clip_in_effect(m, s)
    for name, when in norms.items():
        if when != "pre" or _sits_at(m.values(name)) is not None:
            continue  # a clipped norm says where the clip is, not how the gradient grew
        grown = growth(m, name, m.phase_start)
        if grown is None or grown["factor"] < t["growth"]:
            binds = _binding_steady(m, name, clip, t)  # a steady norm above the clip: every update cut, said
            if binds is not None:
                out.append(binds)
            continue
        values = m.values(name)
        recent, share = _clipped_lately(values, clip)
        binding = share is not None and share >= t["binding"]
        where = f" since {pos.at(s, grown['onset'])}" if grown["onset"] > int(m.steps(name)[0]) else ""
        into = grown.get("into_nonfinite", False)
        if into:  # its last finite points, then NaN/Inf: the climb the non-finite finding dates
            where = (f" from {pos.at(s, grown['onset'])} to its last finite points, then NaN/Inf (see "
                     f"{see('non-finite')})")
        text = (f"{name}, the gradient norm before clipping, grew from {fmt(grown['from'])} to {fmt(grown['to'])} "
                f"({signed_pct(grown['factor'] - 1)}){where}")
        if binding:
            text += (f", while clipping at {fmt(clip[0])} ({clip[1]}) cut it at {pct(share, 0)} of the latest "
                     f"points: each update is now scaled down about {fmt(round(grown['to'] / clip[0], 1))} times. "
                     "Clipping keeps such a run from diverging while the loss surface steepens under it, so the "
                     "losses drift up only slowly. Look at that stretch (learning rate too high for this stage, "
                     "a loss term that grows) and resume from a checkpoint before it if the losses rose with it.")
        elif clip is not None:
            text += (f"; clipping at {fmt(clip[0])} ({clip[1]}) cut it at {pct(share, 0)} of the latest points, "
                     "so it does not bind yet. A growing gradient norm is a run getting less stable: watch it.")
        else:
            text += ("; no clipping is configured. A growing gradient norm is a run getting less stable: "
                     "watch it, and the losses beside it.")
        # unclipped and grown tenfold or more: a divergence's usual lead-up, to watch at the next checkpoint
        steep = clip is None and not into and grown["factor"] >= t["unclipped"]
        out.append(Case(text, name, grown["onset"],
                        {"from": grown["from"], "to": grown["to"], "factor": grown["factor"],
                         "onset_step": grown["onset"], "clip": clip[0] if clip else None,
                         "clip_from": clip[1] if clip else None, "share_clipped": share,
                         **({} if into else {"now": {name: grown["to"]}})},
                        severity="warning" if binding or steep else "info",
                        case="clipped" if binding else "growing",
                        action=(f"Watch {name} and the losses at the next checkpoint; if it keeps growing, clip the "
                                "gradient's norm (max_norm about 1) or lower the learning rate before it diverges."
                                ) if steep else None,
                        # the title follows the case: "under clipping" only where a clip binds
                        title=None if binding else "Gradient norm growing" if clip is None
                        else "Gradient norm growing (clipping not binding)"))
    return out


def _clipped_lately(values: np.ndarray, clip: tuple[float, str] | None) -> tuple[np.ndarray, float | None]:
    """A norm's latest finite points (the latest RECENT share, 5 at least) and the share of them the clip cut
    (above it beyond PINNED); the share None without a clip."""
    recent = values[np.isfinite(values)][-max(5, int(RECENT * len(values))):]
    return recent, float(np.mean(recent > clip[0] * (1 + PINNED))) if clip is not None else None


def _binding_steady(m: Metrics, name: str, clip: tuple[float, str] | None, t: dict) -> Case | None:
    """A gradient norm (before clipping) that does not grow but sits above the clip at nearly every one of its
    latest points: each update is the clip's size, scaled down from the gradient's, so the clip and not the
    learning rate sets the step; info (a choice, not a fault), or None."""
    if clip is None:
        return None
    values = m.values(name)
    recent, share = _clipped_lately(values, clip)
    # nearly every update cut: the clip sets the step, not a share of them
    if len(recent) < 5 or share < max(t["binding"], 0.9):
        return None
    level = float(np.median(recent))
    step = int(m.steps(name)[np.isfinite(values)][-1])
    return Case(
        f"{name}, the gradient norm before clipping, sits at {fmt(level)} (the median of its latest points), above "
        f"the clip {fmt(clip[0])} ({clip[1]}) at {pct(share, 0)} of them: every update is cut to the clip's size, "
        f"about {fmt(round(level / clip[0], 1))} times smaller than the gradient's, so the clip, not the learning "
        "rate, sets the step size. Not a fault while the losses fall; a learning rate change does little until "
        "the norm comes below the clip.",
        name, step, {"clip": clip[0], "share_clipped": share, "level": level, "case_binding": True},
        severity="info", case="binding-steady", title="Gradient clipping binding",
        rationale="A clip that cuts every update makes the step size the clip's: the learning rate and its schedule "
                  "stop setting it, which is a choice while the losses fall and a brake where they stall.")


def grad_norm_short(f: Said) -> str | None:
    n = f.n
    if f.case == "binding-steady" and "level" in n:
        return (f"{f.metric or 'grad_norm'} at {fmt(n['level'])}, above the clip {fmt(n['clip'])} at "
                f"{pct(n['share_clipped'], 0)} of the latest points")
    if "from" not in n or "to" not in n:
        return None
    name = f.metric or "grad_norm"
    said = f"{name} grew from {fmt(n['from'])} to {fmt(n['to'])}"
    if n["from"]:
        said += f" (x{fmt(round(n['to'] / n['from'], 1))})"
    said += f" since {f.at(n.get('onset_step', f.step))}"
    if n.get("clip") is not None and n.get("share_clipped") is not None:
        said += f", clipped at {fmt(n['clip'])} at {pct(n['share_clipped'], 0)} of the latest points"
    elif n.get("clip") is None:
        said += ", no clipping configured"
    return said
