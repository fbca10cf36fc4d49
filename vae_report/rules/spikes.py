"""Transient spikes: robust outliers (a rolling median and the MAD of first differences) that return to the level
before them, consecutive outliers one excursion; the excursions several losses share are one finding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import position as pos
from ..numbers import counted, fmt
from ..schedule import Schedule
from ..stats import MAD_TO_SIGMA, block_mad, rolling_median
from .adversarial import clamp_bursts
from .base import Case, Metrics, see
from .dynamics import WATCHED
from .said import Said

# Which of the losses that spiked together a finding is told on: the parts before the sums they make up (nll is
# rec over the pixels, the total sums every term), the discriminator's own loss before the generator's term read
# off the same discriminator; the others are cited under it, not repeated.
SPIKE_LEAD = ("rec_loss", "kl_loss", "disc_loss", "g_loss", "nll_loss", "total_loss")
# how a loss that spiked with the lead is built from it (None: from whichever leads), for the sentence citing it
DISC_FLOOR = 0.05  # of the discriminator's chance level: the least move of its loss that can be a spike
BUILT = {"nll_loss": ("rec_loss", "is built from rec_loss"), "total_loss": (None, "sums the terms"),
         "g_loss": ("disc_loss", "is read off the same discriminator's outputs")}


@dataclass(frozen=True)
class _Spiky:
    """One metric's transient spikes: its points, local medians and scores, the excursions kept (indices of
    consecutive outliers) and how many more coincide with d_weight at its clamp."""

    name: str
    steps: np.ndarray
    values: np.ndarray
    median: np.ndarray
    score: np.ndarray
    episodes: list[np.ndarray]
    clamped: int

    def span(self, e: np.ndarray) -> tuple[int, int]:
        return int(self.steps[e[0]]), int(self.steps[e[-1]])


def spikes(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    w = int(t["window"])
    bursts = clamp_bursts(m, s)
    # a discriminator's loss moves on the scale of its chance level: a jitter of a few hundredths above a won
    # discriminator's 0 is no spike, however small the noise around 0 (its MAD) makes it look
    floors = {"disc_loss": DISC_FLOOR * s.disc_chance_level}
    found = [x for name in WATCHED + ("disc_loss", "g_loss") if m.has(name)
             and (x := _metric_spikes(m, name, w, t, bursts, floors.get(name, 0.0))) is not None]
    # one excursion, one finding: the excursions of several losses whose spans overlap (within a logging
    # interval) are one event, told on the loss that leads it (SPIKE_LEAD), the others named with it
    events = _events(m, found)
    out = []
    for x in found:
        led = [e for e, (lead, _) in zip(x.episodes, events[x.name], strict=True) if lead == x.name]
        if led:
            joined = [others for (lead, others) in events[x.name] if lead == x.name]
            out.append(_spikes_case(x, led, joined, w, s))
    return out


def spikes_short(f: Said) -> str | None:
    n = f.n
    if "count" not in n:
        return None
    said = f"{f.metric}: {counted(n['count'], 'transient spike')}"
    if "largest_step" in n:
        said += f", the largest {fmt(n.get('largest_value'))} at {f.at(n['largest_step'])}"
    return said


def _metric_spikes(m: Metrics, name: str, w: int, t: dict, bursts: list[tuple[int, int]],
                   floor: float = 0.0) -> _Spiky | None:
    """The transient spikes of one metric (robust outliers that return to the level before them, by more than
    ``floor`` from their local median), or None."""
    steps, values = m.steps(name), m.values(name)
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    # a leading stretch of one exact value is a term off by design (disc_loss 0 before disc_start): it has
    # no noise, and counted in it would make the noise of the rest look tiny and its jitter look like spikes
    moved = np.flatnonzero(values != values[0]) if len(values) else np.zeros(0, dtype=int)
    if len(moved) and moved[0] >= w:
        steps, values = steps[moved[0]:], values[moved[0]:]
    if len(values) < 3 * w:
        return None
    median = rolling_median(values, w)
    with np.errstate(all="ignore"):  # a diverged run's 1e308 overflows the differences: no score there
        scale = _noise_scale(values, 4 * w, w)
        score = np.abs(values - median) / np.where(scale > 0, scale, np.nan)
    outlier = (np.nan_to_num(score) > t["mad_factor"]) & (np.abs(values - median) > floor)
    if name in WATCHED:  # a loss's spike is a jump up; a dip below its level is no hard batch
        outlier &= values > median
    idx = np.flatnonzero(outlier)
    if not len(idx):
        return None
    # consecutive outliers are one excursion: one spike however many points it spans
    episodes = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    # transient: the level after the excursion is back where it was before it
    before = np.array([np.median(values[max(0, e[0] - w):e[0]]) if e[0] else values[0] for e in episodes])
    after = np.array([np.median(values[e[-1] + 1:e[-1] + 1 + w]) if e[-1] + 1 < len(values) else values[-1]
                      for e in episodes])
    # (within `recovery` of the level, or within the noise of the two medians for a level near 0: g_loss)
    noise = 3 * 1.2533 * np.sqrt(2 / w) * np.nan_to_num(scale[[e[0] for e in episodes]])
    transient = np.abs(after - before) <= np.maximum(t["recovery"] * np.maximum(np.abs(before), 1e-12), noise)
    every = int(np.median(np.diff(steps))) if len(steps) > 1 else 1
    kept = [e for e, ok in zip(episodes, transient, strict=True) if ok]
    # excursions where d_weight sat at its clamp are no hard batches: the d-weight-pinned finding names them
    clamped = [e for e in kept if _in_bursts(steps[e], bursts, every).any()]
    kept = [e for e in kept if not any(e is c for c in clamped)]
    return _Spiky(name, steps, values, median, score, kept, len(clamped)) if kept else None


def _events(m: Metrics, found: list[_Spiky]) -> dict[str, list[tuple[str, list[str]]]]:
    """For each metric's excursions, in order: (the metric the event it belongs to is told on, the other metrics
    in that event). An event is the excursions of several metrics whose spans, each widened by its metric's
    logging interval, overlap (linked in a chain: a total that spans rec's and nll's joins both); one sweep over
    the spans sorted by start, so a series with thousands of spikes costs no pairwise comparison."""
    spans = [(x.name, *x.span(e), _interval(m, x.name)) for x in found for e in x.episodes]
    event = [0] * len(spans)
    reach, current = None, -1
    for i in sorted(range(len(spans)), key=lambda i: spans[i][1] - spans[i][3]):
        _, start, end, every = spans[i]
        if reach is None or start - every > reach:
            current += 1
            reach = end + every
        else:
            reach = max(reach, end + every)
        event[i] = current
    members: dict[int, list[str]] = {}
    for i, (name, *_rest) in enumerate(spans):
        members.setdefault(event[i], []).append(name)
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for i, (name, *_rest) in enumerate(spans):
        names = list(dict.fromkeys(members[event[i]]))
        lead = min(names, key=_rank)
        out.setdefault(name, []).append((lead, [n for n in names if n != lead]))
    return out


def _rank(name: str) -> int:
    return SPIKE_LEAD.index(name) if name in SPIKE_LEAD else len(SPIKE_LEAD)


def _interval(m: Metrics, name: str) -> int:
    steps = m.steps(name)
    return int(np.median(np.diff(steps[-1000:]))) if len(steps) > 1 else 1


def _spikes_case(x: _Spiky, episodes: list[np.ndarray], joined: list[list[str]], w: int, s: Schedule) -> Case:
    """The spikes of one metric in words: how many excursions, the longest's span, the largest point, and the
    losses that spiked with it (``joined``: the others in each of its excursions' events)."""
    steps, values, median, score = x.steps, x.values, x.median, x.score
    points = np.concatenate(episodes)
    worst = points[int(np.argmax(score[points]))]
    longest = max(episodes, key=len)

    def where(e: np.ndarray) -> str:
        return pos.at(s, int(steps[e[0]])) if len(e) == 1 else pos.span(s, int(steps[e[0]]), int(steps[e[-1]]))

    if len(episodes) == 1:
        head = (f"{x.name} had one transient spike, {where(longest)}"
                + (f" ({fmt(len(longest))} consecutive points)" if len(longest) > 1 else "")
                + f", back to its level within {w} points; its largest point")
    else:
        head = (f"{x.name} has {counted(len(episodes), 'transient spike')} from {where(episodes[0])} on"
                + (f" (the longest {fmt(len(longest))} consecutive points, {where(longest)})" if len(longest) > 1
                   else "") + f", each back to its level within {w} points; the largest")
    also = (f" ({x.clamped} more coincide with d_weight at its clamp: see {see('d-weight-pinned')})"
            if x.clamped else "")
    moved = {n: sum(n in others for others in joined) for n in sorted({n for o in joined for n in o}, key=_rank)}
    return Case(
        f"{head} at {pos.at(s, int(steps[worst]))}: {fmt(float(values[worst]))} against a local median of "
        f"{fmt(float(median[worst]))}{also}.{_with_it(x.name, moved, len(episodes))} Isolated spikes from hard "
        "batches are harmless; check the batch if they grow.",
        x.name, int(steps[episodes[0][0]]),
        {"count": len(episodes), "points": int(len(points)), "largest_step": int(steps[worst]),
         "largest_value": float(values[worst]), "at_d_weight_clamp": x.clamped, "moved_with": moved},
    )


def _with_it(lead: str, moved: dict[str, int], count: int) -> str:
    """The losses that spiked in the same steps as ``lead`` (how many of its ``count`` spikes each joined), with
    what the sums among them are, so that a sum is cited under its parts rather than told again."""
    if not moved:
        return ""
    groups: dict[int, list[str]] = {}
    for name, times in moved.items():
        groups.setdefault(times, []).append(name)
    parts = []
    for times, names in sorted(groups.items(), key=lambda g: -g[0]):
        listed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)
        when = ("in the same steps" if count == 1 else "in the same steps each time" if times == count
                else f"in the same steps at {times} of them")
        parts.append(f"{listed} spiked with it {when}")
    built = [f"{n} {BUILT[n][1]}" for n in moved if n in BUILT and BUILT[n][0] in (None, lead)]
    same = ("this is one excursion" if count == 1 else "these are the same excursions"
            if all(times == count for times in moved.values()) else "those are the same excursions")
    why = f" ({' and '.join(built)}, so {same})" if built else ""
    return f" {'; '.join(parts)}{why}."


def _noise_scale(values: np.ndarray, block: int, min_count: int) -> np.ndarray:
    """Each point's noise (sigma) from the MAD of first differences (trend-free, so a steep but smooth stretch
    is no outlier) over ``block``-point stretches: the noise changes slowly, so per-block MADs interpolated
    between blocks (stats.block_mad) serve where two moving medians per series cost most of this rule."""
    step = np.diff(values)
    step[~np.isfinite(step)] = np.nan  # overflowed differences (a diverged run's 1e308) are left out
    scale = block_mad(step, block, min_count) * MAD_TO_SIGMA / np.sqrt(2)
    return np.concatenate([scale[:1], scale])  # the first point takes its neighbour's scale


def _in_bursts(steps: np.ndarray, bursts: list[tuple[int, int]], every: int) -> np.ndarray:
    """Which steps fall in (or a logging interval either side of) a stretch of d_weight at its clamp."""
    inside = np.zeros(len(steps), dtype=bool)
    for a, b in bursts:
        inside |= (steps >= a - every) & (steps <= b + every)
    return inside
