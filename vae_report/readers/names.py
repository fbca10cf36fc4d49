"""Two names a run writes that read as one metric (``train/rec_loss`` and ``rec_loss``; sgm's ``train/loss/rec``
beside ``train/rec_loss``): one series written under two names where they agree, two series where they differ at
the steps both log (never a step written twice)."""

from __future__ import annotations

import numpy as np

from ..frame import canonical_name
from ..numbers import listed


def _canonical_first(raw: str, metric: str) -> tuple:
    """Which of two names read as one metric keeps it: the metric's own name, then the name with a training
    split before it (``train/rec_loss``), then any other (sgm's ``train/loss/rec``, a role alias), a known name
    under a grouping level of the writer's own (``gan/d_weight``) last."""
    return (_own_group(raw, metric), raw.strip() != metric, raw.strip().split("/")[-1] != metric)


def _own_group(raw: str, metric: str) -> bool:
    """Is ``raw`` read as ``metric`` only through a grouping level of the writer's own (``gan/d_weight``,
    ``ema/kl_loss``), not one every writer uses (``train/``, ``losses/``)?"""
    return canonical_name(raw, any_group=False) != metric


def named_apart(series: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
                notes: list[str]) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(metric, steps, values, walls) from (name as written, ...) series: names read as one metric
    (``train/rec_loss`` and ``rec_loss``) are pooled where they agree on the steps both log, as one series
    written under two names; where they differ there they are two series that the names merged, not a step
    written twice: the metric's own name keeps the metric, the other keeps the name it was written under (said
    in ``notes``)."""
    joined: dict[str, list] = {}
    for raw, *cols in series:  # a name's pieces (an event file's blocks) joined
        joined.setdefault(raw, []).append(cols)
    names = names_apart(list(joined), lambda raw: [np.concatenate([p[i] for p in joined[raw]]) for i in (0, 1)],
                        notes)
    return [(names[raw], *cols) for raw, pieces in joined.items() for cols in pieces]


def names_apart(raws: list[str], points, notes: list[str]) -> dict[str, str]:
    """Each name as written -> the metric it is read as (``named_apart``); ``points(raw)``: its (steps,
    values), asked only of names that share a metric. Where only names under grouping levels of the writer's own
    share it (``encoder/kl_loss``, ``decoder/kl_loss``) and they differ, none is the metric: each keeps its name."""
    groups: dict[str, list[str]] = {}
    for raw in raws:
        groups.setdefault(canonical_name(raw), []).append(raw)
    out = {}
    for metric, group in groups.items():
        group = sorted(group, key=lambda r: _canonical_first(r, metric))
        first = points(group[0]) if len(group) > 1 else None
        apart = [raw for raw in group[1:] if _differ(*first, *points(raw))] if first is not None else []
        if apart and _own_group(group[0], metric):
            for raw in group:
                out[raw] = raw.strip()
            both, none = ("both", "neither") if len(group) == 2 else ("all", "none")
            notes.append(f"{listed(r.strip() for r in group)} would {both} read as {metric} (a known name under a "
                         f"grouping level of the writer's own) but differ at the steps they log: separate series, "
                         f"{none} of them taken as {metric}; each kept under its own name")
            continue
        for raw in group:
            out[raw] = metric
            if raw in apart:
                out[raw] = raw.strip()
                kept = "written under that name" if group[0].strip() == metric else f"{group[0].strip()}'s"
                notes.append(f"{raw.strip()} and {group[0].strip()} both read as {metric} but differ at the steps "
                             f"both log: two series, not a step written twice; {metric} is the series {kept}, "
                             f"{raw.strip()} kept apart under its own name")
    return out


def _differ(steps_a: np.ndarray, values_a: np.ndarray, steps_b: np.ndarray, values_b: np.ndarray) -> bool:
    """Two series whose values at a step both log differ beyond float32's rounding (an event file's values)."""
    shared, ia, ib = np.intersect1d(steps_a, steps_b, return_indices=True)
    if not len(shared):
        return False
    a, b = values_a[ia], values_b[ib]
    same = np.isclose(a, b, rtol=1e-6, atol=0) | (np.isnan(a) & np.isnan(b))
    return not bool(same.all())
