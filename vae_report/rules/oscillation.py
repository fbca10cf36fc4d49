"""Does the adversarial balance swing back and forth? The discriminator winning (its loss well below chance, real
logits above fake) and then fooled (its loss well above chance, the logits inverted), again and again: each swing
alone may pass for an episode, but a game that keeps swinging is unstable, and the autoencoder is pulled with it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import position as pos
from ..numbers import counted, fmt, signed_pct
from ..schedule import Schedule
from ..stats import rolling_median
from .base import Case, Metrics
from .said import Said


def _states(values: np.ndarray, chance: float, band: float) -> np.ndarray:
    """+1 where the discriminator wins (loss below chance by more than ``band`` of it), -1 where it is fooled
    (above by as much), 0 between."""
    return np.where(values < chance * (1 - band), 1, np.where(values > chance * (1 + band), -1, 0))


def _runs(states: np.ndarray, least: int) -> list[tuple[int, int, int]]:
    """The stretches (state, first index, last index) of one non-zero state lasting ``least`` points or more,
    neighbours of the same state (a dip into the band between) merged."""
    out: list[tuple[int, int, int]] = []
    edges = np.flatnonzero(np.diff(states)) + 1
    for a, b in zip(np.r_[0, edges], np.r_[edges, len(states)], strict=True):
        state = int(states[a])
        if state == 0 or b - a < least:
            continue
        if out and out[-1][0] == state:
            out[-1] = (state, out[-1][1], b - 1)
        else:
            out.append((state, a, b - 1))
    return out


def gan_oscillation(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    start = s.switch_step
    steps, loss = m.window("disc_loss", lo=start)
    good = np.isfinite(loss)
    steps, loss = steps[good], loss[good]
    if len(loss) < t["min_points"]:
        return []
    k = max(3, min(51, len(loss) // 200 * 2 + 1))  # a few points: a swing lasts many, a spike does not
    smooth = rolling_median(loss, k)
    chance = s.disc_chance_level
    runs = _runs(_states(smooth, chance, t["band"]), max(k, t["least"]))
    swings = len(runs) - 1
    if swings < t["swings"]:
        return []
    starts = np.array([steps[a] for state, a, _ in runs if state == runs[0][0]])
    period = int(np.median(np.diff(starts))) if len(starts) > 1 else None
    low = float(np.median([np.min(smooth[a:b + 1]) for state, a, b in runs if state == 1]))
    high = float(np.median([np.max(smooth[a:b + 1]) for state, a, b in runs if state == -1]))
    numbers = {"swings": swings, "first_step": int(steps[runs[0][1]]), "last_step": int(steps[runs[-1][2]]),
               "period": period, "disc_loss_low": low, "disc_loss_high": high, "chance_level": chance}
    every = f", a cycle about every {fmt(period)} {pos.unit(s)}s" if period else ""
    message = (
        f"The adversarial balance swings back and forth: disc_loss goes from about {fmt(low)} (the discriminator "
        f"winning) to about {fmt(high)} (fooled, worse than its chance level {fmt(chance)}) and back; it changed "
        f"sides {swings} times from {pos.at(s, numbers['first_step'])} to {pos.at(s, numbers['last_step'])}{every}."
        + _logits(m, steps, runs) + _rec_with(m, steps, runs, numbers)
        + " A game that keeps swinging has no equilibrium to settle in: each side in turn overshoots.")
    return [Case(message, "disc_loss", numbers["first_step"], numbers)]


def gan_oscillation_short(f: Said) -> str | None:
    n = f.n
    if "swings" not in n:
        return None
    return (f"disc_loss swings between about {fmt(n.get('disc_loss_low'))} and {fmt(n.get('disc_loss_high'))} "
            f"(chance level {fmt(n.get('chance_level'))}), {counted(n['swings'], 'change')} of side from "
            f"{f.at(n.get('first_step', f.step))} to {f.at(n.get('last_step', f.step))}")


def _logits(m: Metrics, steps: np.ndarray, runs: list[tuple[int, int, int]]) -> str:
    """Whether the logits swap with it (real above fake while it wins, below while it is fooled)."""
    if not (m.has("logits_real") and m.has("logits_fake")):
        return ""

    def gap(lo: int, hi: int) -> float | None:
        _, real = m.window("logits_real", lo=lo, hi=hi)
        _, fake = m.window("logits_fake", lo=lo, hi=hi)
        n = min(len(real), len(fake))
        return float(np.nanmedian(real[:n] - fake[:n])) if n else None

    both = _by_state(steps, runs, gap)
    if both is None:
        return ""
    win, lose = both
    if win > 0 > lose:
        return (f" The logits swap with it: real above fake by {fmt(win)} while it wins, below by {fmt(-lose)} "
                "while it is fooled (it then calls real inputs fake and reconstructions real).")
    return ""


def _rec_with(m: Metrics, steps: np.ndarray, runs: list[tuple[int, int, int]], numbers: dict) -> str:
    """How the reconstruction moves with the swings: its median while the discriminator wins against while it is
    fooled, said where the two differ beyond 5%."""
    if not m.has("rec_loss"):
        return ""

    def level(lo: int, hi: int) -> float | None:
        _, rec = m.window("rec_loss", lo=lo, hi=hi)
        rec = rec[np.isfinite(rec)]
        return float(np.median(rec)) if len(rec) else None

    both = _by_state(steps, runs, level)
    if both is None:
        return ""
    win, lose = both
    change = (win - lose) / lose if lose else None
    if change is None or abs(change) < 0.05:
        return ""
    numbers.update(rec_while_winning=win, rec_while_fooled=lose)
    return (f" rec_loss moves with it: {fmt(win)} while the discriminator wins against {fmt(lose)} while it is "
            f"fooled ({signed_pct(change)}).")


def _by_state(steps: np.ndarray, runs: list[tuple[int, int, int]],
              of: Callable[[int, int], float | None]) -> tuple[float, float] | None:
    """(while the discriminator wins, while it is fooled): the median over the stretches of each state of ``of``
    a stretch's steps [lo, hi) (None: nothing there); None without a value in a stretch of each."""
    found: dict[int, list[float]] = {1: [], -1: []}
    for state, a, b in runs:
        value = of(int(steps[a]), int(steps[b]) + 1)
        if value is not None:
            found[state].append(value)
    if not found[1] or not found[-1]:
        return None
    return float(np.median(found[1])), float(np.median(found[-1]))
