"""The report's fixed plots, drawn from the frame.

Series are downsampled with MinMaxLTTB (tsdownsample) to a fixed number of points, which keeps every spike
and extreme visible while the cost of drawing stays flat however long the run.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .numbers import fmt  # noqa: E402
from .rules import Metrics  # noqa: E402
from .schedule import Schedule  # noqa: E402

MAX_POINTS = 2000
FOUR = ("total_loss", "kl_loss", "rec_loss", "disc_loss")
COLORS = {"total_loss": "#1f77b4", "kl_loss": "#9467bd", "rec_loss": "#2ca02c", "disc_loss": "#d62728"}


@dataclass(frozen=True)
class Plot:
    name: str  # file stem
    title: str
    caption: str
    png: bytes


LIMIT = 1e150  # beyond this matplotlib's axis arithmetic overflows (a range of 2e308 is inf)


def clipped(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """Values as they can be drawn: huge outliers (a diverged run's 1e308) clipped to a band around the bulk
    of the points, so the plot shows the data and says it was clipped instead of failing."""
    if not len(values):
        return values, False
    with np.errstate(all="ignore"):
        lo, hi = np.percentile(values, [1, 99])
        span = (hi - lo) if np.isfinite(hi - lo) else LIMIT
        low, high = max(lo - 10 * span, -LIMIT), min(hi + 10 * span, LIMIT)
    if values.min() >= low and values.max() <= high:
        return values, False
    return np.clip(values, low, high), True


def downsample(steps: np.ndarray, values: np.ndarray, n_out: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n_out`` finite points, keeping each bucket's extremes (MinMaxLTTB); huge outliers clipped."""
    good = np.isfinite(values)
    steps, values = steps[good], clipped(values[good])[0]
    if len(steps) <= n_out:
        return steps, values
    from tsdownsample import MinMaxLTTBDownsampler

    idx = MinMaxLTTBDownsampler().downsample(steps.astype(np.float64), values, n_out=n_out)
    return steps[idx], values[idx]


def _phases(ax, schedule: Schedule, last_step: int) -> None:
    if schedule.disc_start is None:
        return
    d = schedule.disc_start
    end = max(last_step, schedule.total_steps or 0, d)
    ax.axvspan(0, min(d, end), color="#4c72b0", alpha=0.06, lw=0)
    if end > d:
        ax.axvspan(d, end, color="#dd8452", alpha=0.08, lw=0)
    ax.axvline(d, color="#dd8452", ls="--", lw=1.2, label=f"disc_start {fmt(d)}")


def _log_scale_fits(values: np.ndarray) -> bool:
    good = clipped(values[np.isfinite(values)])[0]
    with np.errstate(all="ignore"):
        return len(good) > 1 and good.min() > 0 and good.max() / good.min() > 100


def _line(ax, m: Metrics, name: str, color: str | None = None, label: str | None = None):
    steps, values = downsample(m.steps(name), m.values(name))
    finite = m.values(name)[np.isfinite(m.values(name))]
    note = " (huge values clipped)" if clipped(finite)[1] else ""
    line = ax.plot(steps, values, lw=1.0, color=color or COLORS.get(name), label=(label or name) + note)[0]
    bad = ~np.isfinite(m.values(name))
    if bad.any():
        ax.axvline(m.steps(name)[bad][0], color="red", lw=1, ls=":", label=f"first NaN/Inf in {name}")
    return line


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _single(m: Metrics, s: Schedule, name: str, last: int) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    _phases(ax, s, last)
    _line(ax, m, name)
    if _log_scale_fits(m.values(name)):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(name)
    ax.set_title(name)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return _png(fig)


def _overview(m: Metrics, s: Schedule, names: list[str], last: int) -> bytes:
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), sharex=True)
    for ax, name in zip(axes.flat, FOUR, strict=True):
        _phases(ax, s, last)
        if name in names:
            _line(ax, m, name)
            if _log_scale_fits(m.values(name)):
                ax.set_yscale("log")
        else:
            ax.text(0.5, 0.5, f"{name}: not logged", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("step")
    fig.tight_layout()
    return _png(fig)


def _normalized(m: Metrics, s: Schedule, names: list[str], last: int) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    _phases(ax, s, last)
    for name in names:
        steps, values = downsample(m.steps(name), m.values(name))
        lo, hi = (values.min(), values.max()) if len(values) else (0, 1)
        with np.errstate(all="ignore"):
            scaled = (values - lo) / (hi - lo) if np.isfinite(hi - lo) and hi > lo else np.zeros_like(values)
        ax.plot(steps, scaled, lw=1.0, color=COLORS.get(name), label=f"{name} [{fmt(lo)}, {fmt(hi)}]")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("step")
    ax.set_ylabel("scaled to [0, 1]")
    ax.set_title("Normalized comparison")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return _png(fig)


def _multi_axis(m: Metrics, s: Schedule, names: list[str], last: int) -> bytes:
    fig, host = plt.subplots(figsize=(9, 4))
    fig.subplots_adjust(right=0.75)
    _phases(host, s, last)
    lines = []
    for i, name in enumerate(names):
        ax = host if i == 0 else host.twinx()
        if i >= 2:
            ax.spines["right"].set_position(("axes", 1 + 0.13 * (i - 1)))
        lines.append(_line(ax, m, name))
        if _log_scale_fits(m.values(name)):
            ax.set_yscale("log")
        ax.set_ylabel(name, color=COLORS.get(name))
        ax.tick_params(axis="y", colors=COLORS.get(name))
    host.set_xlabel("step")
    host.set_title("All losses, each on its own axis")
    host.grid(alpha=0.3)
    host.legend(lines, [ln.get_label() for ln in lines], loc="upper right", fontsize=8)
    return _png(fig)


def make_plots(frame, schedule: Schedule) -> list[Plot]:
    """The seven fixed plots, as PNG bytes (only those whose metrics are logged)."""
    m = Metrics(frame)
    last = m.last_step()
    names = [n for n in FOUR if m.has(n)]
    shading = "" if schedule.disc_start is None else (
        f" Blue: before the discriminator; orange: adversarial phase from step {fmt(schedule.disc_start)}.")
    plots = [Plot(n, n, f"{n} over all {fmt(len(m.steps(n)))} logged points "
                  f"(min-max downsampled for drawing).{shading}", _single(m, schedule, n, last)) for n in names]
    if names:
        plots.append(Plot("overview", "Training metrics overview", "The four losses side by side." + shading,
                          _overview(m, schedule, names, last)))
        plots.append(Plot("normalized", "Normalized loss comparison",
                          "Each loss scaled to [0, 1] by its own min and max (in the legend), to compare shapes.",
                          _normalized(m, schedule, names, last)))
        plots.append(Plot("multi_axis", "Multi-axis loss analysis",
                          "Each loss on its own y axis, showing the real magnitudes side by side.",
                          _multi_axis(m, schedule, names, last)))
    return plots


def overview_plot(frame, schedule: Schedule) -> Plot | None:
    """Only the 2x2 overview (for a sweep's section per run)."""
    m = Metrics(frame)
    names = [n for n in FOUR if m.has(n)]
    if not names:
        return None
    return Plot("overview", "Training metrics overview", "The four losses side by side.",
                _overview(m, schedule, names, m.last_step()))
