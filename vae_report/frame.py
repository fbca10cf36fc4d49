"""The metric frame: one long pandas frame shared by every reader, rule and plot.

Columns: ``step`` (int64), ``metric`` (canonical name), ``value`` (float64), ``wall_time`` (float64 seconds,
NaN where the source has none), ``source`` (the file a point came from).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

COLUMNS = ["step", "metric", "value", "wall_time", "source"]

# Tag suffix (after any "train/" prefix) -> canonical name. Tags that map to none keep their own name.
_CANONICAL = {
    "total_loss": "total_loss",
    "rec_loss": "rec_loss",
    "nll_loss": "nll_loss",
    "kl_loss": "kl_loss",
    "g_loss": "g_loss",
    "disc_loss": "disc_loss",
    "d_weight": "d_weight",
    "disc_factor": "disc_factor",
    "logits_real": "logits_real",
    "logits_fake": "logits_fake",
    "logvar": "logvar",
    "lr": "lr",
    "learning_rate": "lr",
    "lr-adam": "lr",  # Lightning's LearningRateMonitor: first optimizer (autoencoder)
    "lr-adamw": "lr",
    "lr-adam-1": "lr_disc",  # ... and the discriminator's
    "lr-adamw-1": "lr_disc",
    "aeloss_step": "aeloss",
    "discloss_step": "discloss",
}

LOSS_METRICS = ("total_loss", "rec_loss", "kl_loss", "disc_loss")


def canonical_name(tag: str) -> str:
    """Map a writer's tag to the canonical metric name; ``val/*`` stays apart from training metrics."""
    tag = tag.strip()
    split, _, rest = tag.partition("/")
    if rest and split.lower() in ("val", "validation", "test"):
        return "val/" + _CANONICAL.get(rest.lower(), rest)
    if rest and split.lower() == "train":
        return _CANONICAL.get(rest.lower(), rest)
    return _CANONICAL.get(tag.lower(), tag)


def empty_frame() -> pd.DataFrame:
    return make_frame([], [], [], [], [])


def make_frame(
    steps: Iterable, metrics: Iterable, values: Iterable, wall_times: Iterable, sources: Iterable | str
) -> pd.DataFrame:
    """Build a frame with the canonical dtypes from column-like inputs."""
    steps = np.asarray(steps, dtype=np.int64)
    n = len(steps)
    if isinstance(sources, str):
        sources = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[sources])
    return pd.DataFrame(
        {
            "step": steps,
            "metric": _categorical(metrics),
            "value": np.asarray(values, dtype=np.float64),
            "wall_time": np.asarray(wall_times, dtype=np.float64) if n else np.zeros(0),
            "source": _categorical(sources),
        },
        columns=COLUMNS,
    )


def _categorical(values) -> pd.Categorical:
    # Names repeat millions of times: categories keep the frame small and its sorts and filters fast.
    if isinstance(values, pd.Categorical):
        return values
    return pd.Categorical(np.asarray(values, dtype=object))


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames, keeping ``metric`` and ``source`` categorical."""
    from pandas.api.types import union_categoricals

    frames = [f for f in frames if len(f)] or frames[:1]
    if not frames:
        return empty_frame()
    out = pd.concat(frames, ignore_index=True)
    for col in ("metric", "source"):
        out[col] = union_categoricals([f[col].array for f in frames], sort_categories=True)
    return out


def wide(frame: pd.DataFrame) -> pd.DataFrame:
    """One column per metric, indexed by step (the view plots and humans like)."""
    return frame.pivot_table(index="step", columns="metric", values="value", aggfunc="last", dropna=False)


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def file_slug(metric: str) -> str:
    """A file-name-safe form of a metric name (``val/rec_loss`` -> ``val_rec_loss``)."""
    return _SAFE.sub("_", metric).strip("_") or "metric"


def sorted_by_step(steps: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Points of one series in step order, keeping the last of a step written twice (input: file order)."""
    if len(steps) > 1 and np.any(steps[1:] < steps[:-1]):
        order = np.argsort(steps, kind="stable")
        steps, columns = steps[order], tuple(c[order] for c in columns)
    if len(steps) > 1:
        repeated = steps[1:] == steps[:-1]
        if repeated.any():
            keep = np.append(~repeated, True)
            steps, columns = steps[keep], tuple(c[keep] for c in columns)
    return (steps, *columns)


def is_sorted(frame: pd.DataFrame) -> bool:
    """Is the frame ordered by (metric code, step) with no step repeated within a metric?"""
    codes = frame["metric"].cat.codes.to_numpy()
    steps = frame["step"].to_numpy()
    if len(codes) < 2:
        return True
    return bool(np.all((codes[1:] > codes[:-1]) | ((codes[1:] == codes[:-1]) & (steps[1:] > steps[:-1]))))


def frame_from_series(series: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]], source: str) -> pd.DataFrame:
    """A frame sorted by (metric, step) from (metric, steps, values, wall times) series in file order; series
    sharing a metric name are pooled, a repeated step keeping its last point."""
    by_metric: dict[str, list] = {}
    for name, *columns in series:
        by_metric.setdefault(name, []).append(columns)
    categories = sorted(by_metric)
    blocks = []
    for name in categories:
        parts = by_metric[name]
        pooled = parts[0] if len(parts) == 1 else [np.concatenate([p[i] for p in parts]) for i in range(3)]
        blocks.append(sorted_by_step(*pooled))
    if not blocks:
        return make_frame([], [], [], [], source)
    codes = np.repeat(np.arange(len(categories), dtype=np.int32), [len(b[0]) for b in blocks])
    steps, values, walls = (np.concatenate([b[i] for b in blocks]) for i in range(3))
    return make_frame(steps, pd.Categorical.from_codes(codes, categories=categories), values, walls, source)
