"""Several runs side by side: curves of each metric on shared axes, the config keys that differ, the latest
levels with the best marked. Used by ``vae-report compare`` and by the sweep report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .analysis import analyze_run
from .configs import flatten
from .errors import ConfigError, InputError, VaeReportError
from .frame import frame_from_series
from .numbers import fmt
from .parallel import map_in_processes
from .plots import MAX_POINTS, Plot, downsample, figure_png
from .rules import Metrics
from .schedule import find_config

# Metrics whose curves are laid over each other, in report order; lower is better for the losses among them.
OVERLAID = ("total_loss", "rec_loss", "nll_loss", "kl_loss", "quant_loss", "disc_loss", "g_loss", "d_weight", "lr",
            "val/rec_loss")
LOWER_IS_BETTER = {"total_loss", "rec_loss", "nll_loss", "val/rec_loss", "val/total_loss", "p_loss"}
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22"]


def thin_frame(frame):
    """The overlaid metrics only, each downsampled for drawing: what a sweep keeps of a run (a few thousand
    points, whatever the run's length) so that its curves can be laid over the others'."""
    m = Metrics(frame)
    series = []
    for name in OVERLAID:
        if m.has(name):
            steps, values = downsample(m.steps(name), m.values(name), MAX_POINTS)
            series.append((name, steps, values, np.full(len(steps), np.nan)))
    return frame_from_series(series, "thinned")


def run_color(index: int) -> str:
    return _COLORS[index % len(_COLORS)]


@dataclass
class Comparison:
    """What the comparison section shows, computed."""

    names: list[str]
    plots: list[Any] = field(default_factory=list)  # plots.Plot
    config_diff: list[tuple[str, list[str]]] = field(default_factory=list)  # dotted key, value per run
    latest: list[tuple[str, list[float | None], int | None]] = field(default_factory=list)  # metric, values, best


def config_differences(configs: list[dict | None]) -> list[tuple[str, list[str]]]:
    """The dotted keys whose values differ between runs (a key a run lacks reads "—")."""
    flat = [flatten(c) if isinstance(c, dict) else {} for c in configs]
    keys = sorted({k for f in flat for k in f})
    out = []
    for key in keys:
        values = [f.get(key, _MISSING) for f in flat]
        if any(v != values[0] for v in values[1:]):
            out.append((key, ["—" if v is _MISSING else _show(v) for v in values]))
    return out


_MISSING = object()


def _show(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        return fmt(value)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


Levels = list[tuple[str, list[float | None], int | None]]


def latest_levels(analyses: list, names: tuple[str, ...] = OVERLAID) -> Levels:
    """Per metric, each run's current level (levels.current_level, the one the run's report quotes) and the
    index of the best (lowest, for losses where lower is
    better and every run's value comes from the same kind of source; else None)."""
    out = []
    for name in names:
        values = [a.metrics[name].now if a is not None and name in a.metrics else None for a in analyses]
        finite = [(v, i) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
        if not finite:
            continue
        # RadioDiff's TensorBoard total is (AE + disc) / 2, its text log's the AE loss: rank like with like only
        kinds = {a.metric_sources.get(name) for a in analyses if a is not None and name in a.metrics}
        comparable = name in LOWER_IS_BETTER and len(finite) > 1 and len(kinds) == 1
        best = min(finite)[1] if comparable else None
        out.append((name, values, best))
    return out


def overlay_plots(analyses: list, names: list[str]) -> list:
    """One figure per metric with one line per run on shared axes, each run's disc_start marked in its colour."""
    views = [Metrics(a.frame) if a is not None and a.frame is not None else None for a in analyses]
    plots = []
    for metric in OVERLAID:
        present = [i for i, m in enumerate(views) if m is not None and m.has(metric)]
        if not present:
            continue
        fig, ax = plt.subplots(figsize=(8, 3.6))
        lows, highs = [], []
        for i in present:
            steps, values = downsample(views[i].steps(metric), views[i].values(metric))
            ax.plot(steps, values, lw=1.0, color=run_color(i), label=names[i])
            if len(values):
                lows.append(float(np.min(values)))
                highs.append(float(np.max(values)))
            start = analyses[i].schedule.disc_start
            if start is not None:
                ax.axvline(start, color=run_color(i), ls="--", lw=1.0, alpha=0.8)
        _scale(ax, lows, highs)
        ax.set_xlabel("step")
        ax.set_ylabel(metric)
        ax.set_title(f"{metric}: {len(present)} runs (dashed: each run's disc_start)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        slug = metric.replace("/", "_")
        plots.append(Plot(f"compare_{slug}", metric, f"{metric} of every run on one axis, aligned on step.",
                          figure_png(fig, right=0.8)))
    return plots


def _scale(ax, lows: list[float], highs: list[float]) -> None:
    """Log when every run is positive and the curves span orders of magnitude; symmetric log across zero."""
    if not lows:
        return
    lo, hi = min(lows), max(highs)
    if lo > 0 and hi / lo > 100:
        ax.set_yscale("log")
    elif lo < 0 < hi and max(abs(lo), abs(hi)) > 100 * max(1e-12, min(abs(lo), abs(hi))):
        ax.set_yscale("symlog", linthresh=max(1e-12, min(abs(lo), abs(hi))))


def load_configs(paths: list[Path]) -> list[dict | None]:
    """Each run's own training config, as found in its folder (None if it has none)."""
    out: list[dict | None] = []
    for path in paths:
        try:
            found = find_config(Path(path))
        except (ConfigError, OSError):
            found = None
        out.append(found[1] if found else None)
    return out


def compare_runs(names: list[str], analyses: list, configs: list[dict | None]) -> Comparison:
    """The comparison of analyzed runs (an unreadable run's analysis is None)."""
    return Comparison(names, overlay_plots(analyses, names), config_differences(configs), latest_levels(analyses))


@dataclass
class ComparedRun:
    name: str
    path: str
    analysis: Any  # Analysis, or None when the run could not be read
    error: str | None = None


def parse_run_argument(text: str) -> tuple[str, Path]:
    """``NAME=PATH`` or ``PATH`` (named after its folder)."""
    name, sep, path = text.partition("=")
    if sep and name and path and not Path(text).exists():
        return name, Path(path)
    return Path(text).resolve().name or text, Path(text)


def analyze_runs(arguments: list[str], jobs: int | None = None, **options: Any) -> list[ComparedRun]:
    """Analyze each run given on the command line (``jobs`` at a time); one that cannot be read is listed
    with its reason."""
    parsed = [parse_run_argument(a) for a in arguments]
    names = [n for n, _ in parsed]
    if len(set(names)) != len(names):
        raise InputError(f"two runs are named the same ({', '.join(names)}); name them with NAME=PATH")
    return map_in_processes(_analyze_one, [(name, path, options) for name, path in parsed], jobs,
                            label="analyzing runs")


def _analyze_one(job: tuple[str, Path, dict]) -> ComparedRun:

    name, path, options = job
    try:
        return ComparedRun(name, str(path), analyze_run(path, **options))
    except VaeReportError as exc:
        return ComparedRun(name, str(path), None, str(exc))
