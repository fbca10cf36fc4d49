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


BASELINE: dict[str, int | None] = {"step": None}  # the last report's step, marked on every plot of this one


def _phases(ax, schedule: Schedule, last_step: int) -> None:
    if schedule.disc_start is not None:
        d = schedule.disc_start
        end = max(last_step, d)
        ax.axvspan(0, min(d, end), color="#4c72b0", alpha=0.10, lw=0)
        if end > d:
            ax.axvspan(d, end, color="#dd8452", alpha=0.14, lw=0)
        ax.axvline(d, color="#dd8452", ls="--", lw=1.2, label=f"disc_start {fmt(d)}")
    then = BASELINE["step"]
    if then is not None and then < last_step:
        ax.axvspan(then, last_step, facecolor="none", edgecolor="#6e7781", hatch="//", lw=0, alpha=0.35)
        ax.axvline(then, color="#6e7781", ls=":", lw=1.2, label=f"last report (step {fmt(then)})")


def _scale(ax, values: np.ndarray) -> None:
    """Log when positive and spanning orders of magnitude; symmetric log when the values cross zero and span
    orders of magnitude (a total that goes negative once the GAN term switches on); else linear."""
    good = clipped(values[np.isfinite(values)])[0]
    if len(good) < 2:
        return
    with np.errstate(all="ignore"):
        if good.min() > 0 and good.max() / good.min() > 100:
            ax.set_yscale("log")
            return
        size = np.abs(good[good != 0])
        if good.min() < 0 < good.max() and len(size) and size.max() / np.median(size) > 100:
            ax.set_yscale("symlog", linthresh=float(np.percentile(size, 10)) or 1e-12)


def _legend(ax, handles=None, labels=None, right_axis: bool = False) -> None:
    # outside the data, right of the axes (and of a right-hand axis' labels)
    args = () if handles is None else (handles, labels)
    ax.legend(*args, loc="upper left", bbox_to_anchor=(1.14 if right_axis else 1.01, 1.0), fontsize=8,
              frameon=False)


def _line(ax, m: Metrics, name: str, color: str | None = None, label: str | None = None):
    steps, values = downsample(m.steps(name), m.values(name))
    finite = m.values(name)[np.isfinite(m.values(name))]
    note = " (huge values clipped)" if clipped(finite)[1] else ""
    line = ax.plot(steps, values, lw=1.0, color=color or COLORS.get(name), label=(label or name) + note)[0]
    bad = ~np.isfinite(m.values(name))
    if bad.any():
        ax.axvline(m.steps(name)[bad][0], color="red", lw=1, ls=":", label=f"first NaN/Inf in {name}")
    return line


def _png(fig, right: float | None = 0.78) -> bytes:
    """The figure as PNG, drawn once: fixed margins leave room for the legend outside the axes (a "tight"
    bounding box would draw every figure twice, the plots' main cost); ``right=None``: margins already set."""
    buf = io.BytesIO()
    if right is not None:
        fig.subplots_adjust(left=0.1, right=right, top=0.9, bottom=0.14)
    fig.savefig(buf, format="png", dpi=100, pil_kwargs={"compress_level": 3})
    plt.close(fig)
    return buf.getvalue()


def _single(m: Metrics, s: Schedule, name: str, last: int) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    _phases(ax, s, last)
    _line(ax, m, name)
    _scale(ax, m.values(name))
    ax.set_xlabel("step")
    ax.set_ylabel(name)
    ax.set_title(name)
    ax.grid(alpha=0.3)
    _legend(ax)
    return _png(fig)


def _overview(m: Metrics, s: Schedule, names: list[str], last: int) -> bytes:
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), sharex=True)
    for ax, name in zip(axes.flat, four(m), strict=True):
        _phases(ax, s, last)
        if name in names:
            _line(ax, m, name)
            _scale(ax, m.values(name))
        else:
            ax.text(0.5, 0.5, f"{name}: not logged", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("step")
    fig.subplots_adjust(left=0.08, right=0.98, top=0.94, bottom=0.08, hspace=0.22, wspace=0.22)
    return _png(fig, right=None)


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
    _legend(ax)
    return _png(fig)


def _multi_axis(m: Metrics, s: Schedule, names: list[str], last: int) -> bytes:
    fig, host = plt.subplots(figsize=(9, 4))
    fig.subplots_adjust(left=0.09, right=1 - 0.1 * max(1, len(names) - 1), top=0.9, bottom=0.13)
    _phases(host, s, last)
    lines = []
    for i, name in enumerate(names):
        ax = host if i == 0 else host.twinx()
        if i >= 2:
            ax.spines["right"].set_position(("axes", 1 + 0.13 * (i - 1)))
        lines.append(_line(ax, m, name))
        _scale(ax, m.values(name))
        ax.set_ylabel(name, color=COLORS.get(name))
        ax.tick_params(axis="y", colors=COLORS.get(name))
    host.set_xlabel("step")
    host.set_title("All losses, each on its own axis")
    host.grid(alpha=0.3)
    host.legend(lines, [ln.get_label() for ln in lines], loc="upper right", fontsize=8)
    return _png(fig, right=None)


def four(m: Metrics) -> tuple[str, ...]:
    """The four losses of the fixed plots: the regularizer's slot shows KL, or a VQ model's quant_loss."""
    if not m.has("kl_loss") and m.has("quant_loss"):
        return ("total_loss", "quant_loss", "rec_loss", "disc_loss")
    return FOUR


def _gan_health(m: Metrics, s: Schedule, last: int) -> bytes:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.6), sharex=True)
    for ax in (top, bottom):
        _phases(ax, s, last)
    for name, color in (("logits_real", "#2ca02c"), ("logits_fake", "#d62728")):
        if m.has(name):
            _line(top, m, name, color)
    top.set_ylabel("logits")
    top.set_title("Discriminator logits (real above fake when it can tell them apart)")
    handles, labels = top.get_legend_handles_labels()
    if m.has("d_weight"):
        twin = top.twinx()
        line = _line(twin, m, "d_weight", "#9467bd")
        _scale(twin, m.values("d_weight"))
        twin.set_ylabel("d_weight", color="#9467bd")
        handles.append(line)
        labels.append(line.get_label())
    _legend(top, handles, labels, right_axis=m.has("d_weight"))
    fig.subplots_adjust(left=0.09, right=0.7, top=0.93, bottom=0.1, hspace=0.15)
    if m.has("g_loss"):
        _line(bottom, m, "g_loss", "#8c564b")
        _scale(bottom, m.values("g_loss"))
    bottom.set_ylabel("g_loss")
    bottom.set_xlabel("step")
    _legend(bottom)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    return _png(fig, right=None)


def _lr_logvar(m: Metrics, s: Schedule, last: int) -> bytes:
    fig, ax = plt.subplots(figsize=(9, 3.6))
    _phases(ax, s, last)
    lines = [_line(ax, m, n, c) for n, c in (("lr", "#1f77b4"), ("lr_disc", "#ff7f0e")) if m.has(n)]
    if lines:
        _scale(ax, np.concatenate([m.values(n) for n in ("lr", "lr_disc") if m.has(n)]))
    ax.set_ylabel("learning rate")
    if m.has("logvar"):
        twin = ax.twinx()
        lines.append(_line(twin, m, "logvar", "#17becf"))
        twin.set_ylabel("logvar", color="#17becf")
    ax.set_xlabel("step")
    ax.set_title("Learning rate and logvar")
    ax.grid(alpha=0.3)
    _legend(ax, lines, [ln.get_label() for ln in lines], right_axis=m.has("logvar"))
    return _png(fig, right=0.7)


def make_plots(frame, schedule: Schedule, baseline_step: int | None = None) -> list[Plot]:
    """The fixed plots, as PNG bytes (only those whose metrics are logged); ``baseline_step``: the last
    report's step, marked and the stretch since it hatched."""
    BASELINE["step"] = baseline_step
    try:
        return _make_plots(frame, schedule)
    finally:
        BASELINE["step"] = None


def _make_plots(frame, schedule: Schedule) -> list[Plot]:
    m = Metrics(frame)
    last = m.last_step()
    names = [n for n in four(m) if m.has(n)]
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
    if any(m.has(n) for n in ("logits_real", "logits_fake", "d_weight", "g_loss")):
        plots.append(Plot("gan_health", "GAN health",
                          "The discriminator's logits on real and reconstructed inputs with the adaptive d_weight "
                          "(right axis), and g_loss below." + shading, _gan_health(m, schedule, last)))
    if any(m.has(n) for n in ("lr", "lr_disc", "logvar")):
        plots.append(Plot("lr_logvar", "Learning rate and logvar",
                          "The logged learning rate(s) and the learned logvar (right axis)." + shading,
                          _lr_logvar(m, schedule, last)))
    return plots


def overview_plot(frame, schedule: Schedule) -> Plot | None:
    """Only the 2x2 overview (for a sweep's section per run)."""
    m = Metrics(frame)
    names = [n for n in four(m) if m.has(n)]
    if not names:
        return None
    return Plot("overview", "Training metrics overview", "The four losses side by side.",
                _overview(m, schedule, names, m.last_step()))
