"""The report's fixed figures, each a function of the prepared series, and the plan of those a run's logs can fill
(with their titles and captions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import MaxNLocator

from .. import position as pos
from ..frame import not_logged, written_as
from ..marks import Marks
from ..numbers import counted, fmt
from ..rules import Metrics
from ..schedule import Schedule
from .drawing import (
    TITLE_Y,
    Plot,
    add_legend,
    color_of,
    draw_flags,
    draw_line,
    draw_phases,
    draw_trace,
    draw_vline,
    figure_png,
    legend_entries,
    plt,
    set_scale,
)
from .series import Series

FOUR = ("total_loss", "kl_loss", "rec_loss", "disc_loss")


def _single(c: Series, name: str) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    draw_phases(ax, c)
    draw_line(ax, c, name)
    set_scale(ax, c, name)
    draw_flags(ax, c, name)
    ax.set_xlabel(c.schedule.counts)
    ax.set_ylabel(name)
    ax.set_title(name, y=TITLE_Y)
    ax.grid(alpha=0.3)
    add_legend(ax)
    return figure_png(fig)


def _overview(c: Series, names: list[str]) -> bytes:
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), sharex=True)
    for ax, name in zip(axes.flat, four(c.m), strict=True):
        draw_phases(ax, c)
        if name in names:
            draw_line(ax, c, name)
            set_scale(ax, c, name)
        else:
            ax.text(0.5, 0.5, f"{name}: not logged", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(name, fontsize=10, y=TITLE_Y)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel(c.schedule.counts)
        # half the width of the single plots: fewer ticks, so "100,000" labels do not run into each other
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.94, bottom=0.08, hspace=0.22, wspace=0.22)
    return figure_png(fig, right=None)


def robust_range(c: Series, name: str) -> tuple[float, float]:
    """The 1st and 99th percentiles of a series' finite points (before the run's divergence onset, ``c.cut``,
    where it has one): a spike or a divergence does not flatten the rest of the curve."""
    steps, values = c.m.steps(name), c.m.values(name)
    keep = np.isfinite(values) & ((steps < c.cut) if c.cut is not None else True)
    if not keep.any():
        return 0.0, 1.0
    lo, hi = np.percentile(values[keep], [1, 99])
    return float(lo), float(hi)


def _normalized(c: Series, names: list[str]) -> bytes:
    fig, ax = plt.subplots(figsize=(9, 3.6))
    draw_phases(ax, c)
    for name in names:
        d = c[name]
        lo, hi = robust_range(c, name)
        with np.errstate(all="ignore"):
            scaled = (d.y - lo) / (hi - lo) if np.isfinite(hi - lo) and hi > lo else np.zeros_like(d.y)
        # beyond the range the line runs off the axes: clipped a little past them, never to a huge value
        draw_trace(ax, d, np.clip(scaled, -0.5, 1.5), color_of(name), f"{name} [{fmt(lo)}, {fmt(hi)}]")
        nan = c.marks.nan_line(name)
        if nan is not None:
            draw_vline(ax, nan)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(c.schedule.counts)
    ax.set_ylabel("scaled: 1st-99th pct to [0, 1]")
    ax.set_title("Normalized comparison", y=TITLE_Y)
    ax.grid(alpha=0.3)
    add_legend(ax)
    return figure_png(fig, right=0.68)  # the legend names each range: room for two six-digit numbers


def _normalized_caption(c: Series) -> str:
    before = (f" before {pos.at(c.schedule, c.cut)}, where the run began to diverge into NaN/Inf" if c.cut is not None
              else "")
    return (f"Each loss scaled to [0, 1] between the 1st and 99th percentiles of its finite points{before} (in the "
            "legend), to compare shapes; points outside that range run off the top or bottom.")


def _multi_axis(c: Series, names: list[str]) -> bytes:
    # each further y axis 0.15 of the axes' width right of the last (~80 px): room for grouped six-digit tick
    # labels and the axis' name before the next spine, close enough to read as the plot's (a fifth floated off)
    fig, host = plt.subplots(figsize=(10, 4))
    rows = -(-(len(names) + len(c.marks.lines) + len(c.marks.first_bad)) // 5)  # legend rows below the axes
    fig.subplots_adjust(left=0.08, right=1 - 0.09 * max(1, len(names) - 1), top=0.9, bottom=0.16 + 0.08 * rows)
    draw_phases(host, c)
    lines = []
    for i, name in enumerate(names):
        ax = host if i == 0 else host.twinx()
        if i >= 2:
            ax.spines["right"].set_position(("axes", 1 + 0.15 * (i - 1)))
        lines.append(draw_line(ax, c, name))
        set_scale(ax, c, name)
        ax.set_ylabel(name, color=color_of(name))
        ax.tick_params(axis="y", colors=color_of(name))
    host.set_xlabel(c.schedule.counts)
    host.set_title("All losses, each on its own axis", y=TITLE_Y)
    host.grid(alpha=0.3)
    # below the axes, where no trace runs: the losses, then what the figure marks (phases, lr, NaN/Inf)
    marked = [h for ax in fig.axes for h in ax.get_legend_handles_labels()[0]]
    handles = lines + [h for h in marked if h not in lines]
    host.legend(handles, [h.get_label() for h in handles], loc="upper center", bbox_to_anchor=(0.5, -0.16),
                ncol=min(len(handles), 5), fontsize=8, frameon=False)
    return figure_png(fig, right=None)


def four(m: Metrics) -> tuple[str, ...]:
    """The four losses of the fixed plots: the regularizer's slot shows KL, or a VQ model's quant_loss."""
    if not m.has("kl_loss") and m.has("quant_loss"):
        return ("total_loss", "quant_loss", "rec_loss", "disc_loss")
    return FOUR


def _gan_health(c: Series) -> bytes:
    m = c.m
    logits = [n for n in ("logits_real", "logits_fake") if m.has(n)]
    top_drawn = bool(logits) or m.has("d_weight")
    panels = [p for p, drawn in (("top", top_drawn), ("bottom", m.has("g_loss"))) if drawn]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 2.8 + 2.8 * (len(panels) - 1)), sharex=True, squeeze=False)
    axes = dict(zip(panels, axes[:, 0], strict=True))
    for ax in axes.values():
        draw_phases(ax, c)
    if "top" in axes:
        _gan_top(c, axes["top"], logits)
    if "bottom" in axes:
        bottom = axes["bottom"]
        draw_line(bottom, c, "g_loss", "#8c564b")
        set_scale(bottom, c, "g_loss")
        draw_flags(bottom, c, "g_loss")
        bottom.set_ylabel("g_loss")
        if "top" not in axes:
            bottom.set_title("Generator's adversarial loss", y=TITLE_Y)
        add_legend(bottom)
    axes[panels[-1]].set_xlabel(c.schedule.counts)
    fig.subplots_adjust(left=0.09, right=0.7, top=0.93 if len(panels) > 1 else 0.9,
                        bottom=0.1 if len(panels) > 1 else 0.14, hspace=0.15)
    for ax in axes.values():
        ax.grid(alpha=0.3)
    return figure_png(fig, right=None)


def _gan_top(c: Series, top, logits: list[str]) -> None:
    """The discriminator's logits, with d_weight on a right axis, each only where logged; the title names them."""
    for name, color in (("logits_real", "#2ca02c"), ("logits_fake", "#d62728")):
        if name in logits:
            draw_line(top, c, name, color)
    draw_flags(top, c, *logits, "d_weight")
    if logits:
        top.set_ylabel("logits")
    title = ("Discriminator logits (real above fake when it can tell them apart)" if len(logits) == 2 else
             f"Discriminator {' '.join(logits).replace('_', ' ')}" if logits else "Adaptive d_weight")
    top.set_title(title, y=TITLE_Y)  # d_weight beside logits: named by its right axis and the legend
    axes = [top]
    if c.m.has("d_weight"):
        twin = top.twinx() if logits else top
        draw_line(twin, c, "d_weight", "#9467bd")
        set_scale(twin, c, "d_weight")
        twin.set_ylabel("d_weight", color="#9467bd")
        axes = [top] if twin is top else [top, twin]
    add_legend(top, *legend_entries(axes), right_axis=bool(logits) and c.m.has("d_weight"))


def _lr_title(names) -> str:
    """The learning-rate figure's title: only what it draws."""
    rates = [n for n in names if n.startswith("lr")]
    said = (["Learning rates" if len(rates) > 1 else "Learning rate"] if rates else []) + (
        ["logvar"] if "logvar" in names else [])
    return " and ".join(said)


def _lr_logvar(c: Series) -> bytes:
    m = c.m
    fig, ax = plt.subplots(figsize=(9, 3.6))
    draw_phases(ax, c)
    rates = [n for n in ("lr", "lr_disc") if m.has(n)]
    for n, color in zip(rates, ("#1f77b4", "#ff7f0e"), strict=False):
        draw_line(ax, c, n, color)
    set_scale(ax, c, *rates)
    draw_flags(ax, c, *rates, "logvar")
    if rates:
        ax.set_ylabel("learning rate")
    axes = [ax]
    if m.has("logvar"):
        twin = ax.twinx() if rates else ax
        draw_line(twin, c, "logvar", "#17becf")
        twin.set_ylabel("logvar", color="#17becf")
        axes = [ax] if twin is ax else [ax, twin]
    ax.set_xlabel(c.schedule.counts)
    ax.set_title(_lr_title([*rates, *(["logvar"] if m.has("logvar") else [])]), y=TITLE_Y)
    ax.grid(alpha=0.3)
    add_legend(ax, *legend_entries(axes), right_axis=bool(rates) and m.has("logvar"))
    return figure_png(fig, right=0.7)


@dataclass(frozen=True)
class Draw:
    """One figure to draw: a function of the prepared series, and the metrics it shows."""

    fn: Callable[..., bytes]
    names: tuple[str, ...]
    args: tuple = ()
    cost: float = 1.0  # its drawing time against a one-axes figure (measured): the costliest start first
    flagged: bool = False  # marks the findings on its metrics: drawn once they are known

    def __call__(self, c: Series) -> bytes:
        return self.fn(c, *self.args)


def left_out(marks: Marks, draw: Draw) -> str:
    """A caption's note of the findings on its metrics beyond those it marks."""
    _, more = marks.flags_on(draw.names) if draw.flagged else ((), 0)
    return f" ({counted(more, 'more warning or error finding')} on it not marked: see Findings.)" if more else ""


def _points_said(m: Metrics, name: str) -> str:
    """What the figure draws of a metric: all its logged points, or its finite ones where some are NaN/Inf."""
    values = m.values(name)
    bad = int((~np.isfinite(values)).sum())
    if not bad:
        return f"{name} over all {fmt(len(values))} logged points"
    return (f"{name} over its {fmt(len(values) - bad)} finite points of {fmt(len(values))} logged ({fmt(bad)} "
            "NaN/Inf, not drawn)")


def plan(c: Series) -> list[tuple[str, str, str, Draw]]:
    m = c.m
    names = [n for n in four(m) if m.has(n)]
    plots = [(n, n, _points_said(m, n)
              + (" (each pixel column drawn from its lowest to its highest point)" if c[n].band else "")
              + ".", Draw(_single, (n,), (n,), flagged=True))
             for n in names]
    if names:
        shown = tuple(names)
        missing = [n for n in four(m) if n not in names]
        apart = any(written_as(n, m.names()) for n in missing)
        said = not_logged(missing, m.names()) if apart else f"{', '.join(missing)}: not logged"
        side = "The four losses side by side" + (f" ({said}, "
                                                  f"{'its panel' if len(missing) == 1 else 'their panels'} empty)"
                                                  if missing else "")
        plots.append(("overview", "Training metrics overview", side + ".",
                      Draw(_overview, shown, (names,), cost=3)))
        plots.append(("normalized", "Normalized loss comparison",
                      _normalized_caption(c),
                      Draw(_normalized, shown, (names,), cost=2.2)))
        plots.append(("multi_axis", "Multi-axis loss analysis",
                      "Each loss on its own y axis, showing the real magnitudes side by side.",
                      Draw(_multi_axis, shown, (names,), cost=2.8)))
    gan = tuple(n for n in ("logits_real", "logits_fake", "d_weight", "g_loss") if m.has(n))
    if gan:
        plots.append(("gan_health", "GAN health", _gan_caption(gan), Draw(_gan_health, gan, cost=2.7, flagged=True)))
    rates = tuple(n for n in ("lr", "lr_disc", "logvar") if m.has(n))
    if rates:
        lrs = sum(n.startswith("lr") for n in rates)  # the caption names the lines drawn, in their number
        flat = "logvar" in rates and c["logvar"].lo == c["logvar"].hi  # in no optimizer (RadioDiff's, LDM's)
        drawn = (["the logged learning rate" + ("s" if lrs > 1 else "")] if lrs else []) + (
            [("the logvar" + (f", constant at {fmt(c['logvar'].lo)} (not learned in this run)" if flat else
                               " (learned)")) + (" on the right axis" if lrs else "")] if "logvar" in rates else [])
        plots.append(("lr_logvar", _lr_title(rates), " and ".join(drawn).capitalize() + ".",
                      Draw(_lr_logvar, rates, flagged=True)))
    return plots


def _gan_caption(gan: tuple[str, ...]) -> str:
    """What the GAN figure draws, only what is logged."""
    logits = [n for n in gan if n.startswith("logits")]
    top = ("The discriminator's logits on real and reconstructed inputs" if len(logits) == 2 else
           f"The discriminator's {logits[0]}" if logits else "")
    if "d_weight" in gan:
        top = f"{top} with the adaptive d_weight (right axis)" if top else "The adaptive d_weight"
    below = "g_loss" + (" below" if top else "") if "g_loss" in gan else ""
    return ", and ".join(p for p in (top, below) if p).capitalize().replace("G_loss", "g_loss") + "."


def figure_key(c: Series) -> str:
    """The key to what every figure of the run marks (marks.Marks.key)."""
    return c.marks.key


def overview_plot(frame, schedule: Schedule) -> Plot | None:
    """Only the 2x2 overview (for a sweep's section per run)."""
    m = Metrics(frame)
    names = [n for n in four(m) if m.has(n)]
    if not names:
        return None
    c = Series(m, schedule)
    caption = f"The four losses side by side. {figure_key(c)}".strip()  # one figure: its key in its caption
    return Plot("overview", "Training metrics overview", caption, _overview(c, names))
