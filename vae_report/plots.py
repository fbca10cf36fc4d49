"""The report's fixed plots, drawn from the frame.

A long series is drawn as its envelope: for each of a fixed number of columns narrower than a pixel, the lowest
and the highest of every point in it, filled as one polygon. A line through all the points covers exactly that
band, so every spike and extreme stays visible, while the cost of drawing stays flat however long or noisy the
run (Agg strokes a zigzag through a noisy series' extremes for up to 30 ms a line; the band fills in 2).
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass


def _no_config_dir_news(record: logging.LogRecord) -> bool:
    """matplotlib's notes that it could not write its config folder (a read-only HOME or MPLCONFIGDIR, usual in
    CI containers) and uses a temporary one: no news to a report's reader, and --quiet must print nothing."""
    return not str(record.msg).startswith(("mkdir -p failed for path", "Matplotlib created a temporary"))


logging.getLogger("matplotlib").addFilter(_no_config_dir_news)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.markers import TICKLEFT, TICKRIGHT  # noqa: E402
from matplotlib.ticker import Formatter, MaxNLocator  # noqa: E402

from . import position as pos  # noqa: E402
from .marks import SEVERITY_COLORS, Marks, run_marks  # noqa: E402
from .numbers import counted, fmt  # noqa: E402
from .parallel import fork_safe  # noqa: E402
from .rules import Metrics  # noqa: E402
from .rules.losses import divergence_onset  # noqa: E402
from .schedule import Schedule  # noqa: E402

MAX_POINTS = 1200  # a comparison's lines (downsample): two per pixel column of its axes (~550 px)
COLUMNS = 800  # envelope columns: more than the pixel columns any figure gives a series (at most ~550)
FOUR = ("total_loss", "kl_loss", "rec_loss", "disc_loss")
COLORS = {"total_loss": "#1f77b4", "kl_loss": "#9467bd", "quant_loss": "#9467bd", "rec_loss": "#2ca02c",
          "disc_loss": "#d62728"}


def _color(name: str) -> str:
    """A metric's colour: its own for the four losses, a fixed one from matplotlib's cycle for any other."""
    return COLORS.get(name) or f"C{sum(map(ord, name)) % 10}"


@dataclass(frozen=True)
class Plot:
    name: str  # file stem
    title: str
    caption: str
    png: bytes
    key: str = ""  # what the lines and shading every figure of the run draws (_phases) mean: said once, not per figure


# Titles at a fixed height above the axes: none of these figures puts tick labels or an offset above its axes, so
# matplotlib's search for a clear spot (the tight boxes of every axis and twin, drawn once more; a fifth of a
# figure's cost) would place them exactly here.
TITLE_Y = 1.0
LIMIT = 1e150  # beyond this matplotlib's axis arithmetic overflows (a range of 2e308 is inf)


def clipped(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """Values as they can be drawn: huge outliers (a diverged run's 1e308) clipped to a band around the bulk
    of the points, so the plot shows the data and says it was clipped instead of failing."""
    if not len(values):
        return values, False
    with np.errstate(all="ignore"):
        lo, hi = np.percentile(values, [1, 99])
        # a bulk at one value has no spread to measure outliers by: only what would overflow is clipped (a
        # spread of 0 clipped every point off the constant, a discriminator's first nonzero loss among them)
        span = (hi - lo) if np.isfinite(hi - lo) and hi > lo else LIMIT
        low, high = max(lo - 10 * span, -LIMIT), min(hi + 10 * span, LIMIT)
    if values.min() >= low and values.max() <= high:
        return values, False
    return np.clip(values, low, high), True


def downsample(steps: np.ndarray, values: np.ndarray, n_out: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n_out`` finite points, keeping each bucket's extremes (MinMaxLTTB); huge outliers clipped."""
    good = np.isfinite(values)
    return _reduce(steps[good], clipped(values[good])[0], n_out)


def _reduce(steps: np.ndarray, values: np.ndarray, n_out: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n_out`` of these finite points (MinMaxLTTB)."""
    if len(steps) <= n_out:
        return steps, values
    from tsdownsample import MinMaxLTTBDownsampler

    idx = MinMaxLTTBDownsampler().downsample(steps.astype(np.float64), values, n_out=n_out)
    return steps[idx], values[idx]


DASHES = {"dash": "--", "dot": ":", "dashdot": "-."}  # marks.Line's plotly dash names as matplotlib's


def _phases(ax, c: _Series) -> None:
    """What every figure marks (marks.run_marks): the phases' shading and lines, lr 0 and lr jumps, the last
    report's step."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: fmt(int(value)) if value == int(value) else ""))
    for span in c.marks.spans:
        if span.hatch:
            ax.axvspan(span.start, span.end, facecolor="none", edgecolor=span.color, hatch="//", lw=0,
                       alpha=span.alpha)
        else:
            ax.axvspan(span.start, span.end, color=span.color, alpha=span.alpha, lw=0)
    for line in c.marks.lines:
        _vline(ax, line)


def _vline(ax, line) -> None:
    ax.axvline(line.step, color=line.color, ls=DASHES[line.dash], lw=1.2 if line.color != "red" else 1,
               label=line.label)


def _flags(ax, c: _Series, *names: str) -> None:
    """The warning and error findings on these metrics at their steps: a triangle at the top of the axes with
    the rule id beside it, one legend entry per severity."""
    flags, _ = c.marks.flags_on(names)
    said = set()
    for f in flags:
        color = SEVERITY_COLORS[f.severity]
        label = "_nolegend_" if f.severity in said else f"{f.severity} finding (rule id beside it)"
        said.add(f.severity)
        where = ax.get_xaxis_transform()  # x in steps, y in the axes' height
        ax.plot([f.step], [0.97], marker="v", ms=7, ls="none", color=color, transform=where, clip_on=False,
                label=label, zorder=5)
        ax.annotate(f.rule, (f.step, 0.97), xycoords=where, xytext=(5, -3), textcoords="offset points", fontsize=7,
                    color=color, ha="left", va="top", zorder=5)


def _scale_of(good: np.ndarray) -> tuple[str, float]:
    """Log when positive and spanning orders of magnitude; symmetric log when the values cross zero and span
    orders of magnitude (a total that goes negative once the GAN term switches on); else linear."""
    if len(good) < 2:
        return "linear", 0.0
    with np.errstate(all="ignore"):
        if good.min() > 0 and good.max() / good.min() > 100:
            return "log", 0.0
        size = np.abs(good[good != 0])
        if good.min() < 0 < good.max() and len(size) and size.max() / np.median(size) > 100:
            return "symlog", float(np.percentile(size, 10)) or 1e-12
    return "linear", 0.0


def _scale(ax, series: _Series, *names: str) -> None:
    """The axis scale for the named series together (several: log when all are positive and together span
    orders of magnitude)."""
    drawn = [series[n] for n in names]
    if not drawn:
        return
    kind, linthresh = drawn[0].scale, drawn[0].linthresh
    if len(drawn) > 1:
        lo, hi = min(d.lo for d in drawn), max(d.hi for d in drawn)
        kind = "log" if lo > 0 and hi / lo > 100 else "linear"
    if kind == "log":
        ax.set_yscale("log")
        _plain_ticks(ax.yaxis)
    elif kind == "symlog":
        ax.set_yscale("symlog", linthresh=linthresh)
        _plain_ticks(ax.yaxis)
    elif max(max(abs(d.lo), abs(d.hi)) for d in drawn) >= 1000:
        ax.yaxis.set_major_formatter(_Grouped())  # 60,000 as the text writes it, not 60000


class _Grouped(Formatter):
    """Linear tick labels with thousands grouped, to the decimals the tick spacing needs (set_locs gives the
    ticks before they are labelled)."""

    ticks: tuple[float, ...] = ()

    def set_locs(self, locs) -> None:
        self.ticks = tuple(locs)

    def __call__(self, x, pos=None):
        locs = np.asarray(self.ticks, dtype=float)
        step = float(np.min(np.diff(locs))) if len(locs) > 1 else 1.0
        digits = max(0, -int(math.floor(math.log10(step)))) if step > 0 else 0
        return f"{x:,.{digits}f}"


def _plain_ticks(axis) -> None:
    """Decade labels in the report's number format (``1e-06``, ``100``) instead of matplotlib's TeX-like ones,
    whose parser costs more than the rest of a figure; minor ticks at 2x and 5x each decade, unlabelled."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    axis.set_major_formatter(FuncFormatter(lambda value, _: fmt(value) if value else "0"))
    axis.set_minor_formatter(NullFormatter())
    if axis.get_scale() == "log":
        axis.set_minor_locator(NullLocator())  # drawn instead by one artist: the same marks, for a fraction
        axis.axes.add_artist(_MinorMarks(axis.axes, LogLocator(subs=(2.0, 5.0))))


class _MinorMarks(Line2D):
    """The unlabelled minor tick marks of a y axis as one line of tick markers where matplotlib's ticks put them
    (the locator's marks in view, less those on a major tick), without the per-tick objects (tick lines, grid
    line, label: each with its own transforms and marker copies) that made a log axis' minor ticks cost up to a
    third of a one-axes figure."""

    def __init__(self, ax, locator) -> None:
        right = ax.yaxis.get_ticks_position() == "right"  # a twin's axis
        super().__init__([], [], linestyle="none", marker=TICKRIGHT if right else TICKLEFT,
                         markersize=matplotlib.rcParams["ytick.minor.size"],
                         markeredgewidth=matplotlib.rcParams["ytick.minor.width"],
                         color=matplotlib.rcParams["ytick.color"], clip_on=False, label="_nolegend_")
        self.set_zorder(ax.yaxis.get_zorder())
        self.side = "tick2" if right else "tick1"
        self.locator = locator
        locator.set_axis(ax.yaxis)

    def draw(self, renderer) -> None:
        axis = self.axes.yaxis
        lo, hi = sorted(axis.get_view_interval())
        locs = np.asarray(self.locator.tick_values(lo, hi), dtype=float)
        locs = locs[(locs >= lo) & (locs <= hi)]
        majors = np.log10(np.asarray(axis.get_majorticklocs(), dtype=float))
        if len(locs) and len(majors):  # as matplotlib drops a minor tick on a major one
            locs = locs[~np.isclose(np.log10(locs)[:, None], majors[None, :], atol=1e-5, rtol=0).any(axis=1)]
        # where the axis' own ticks go: the left or right spine, wherever it was moved to
        self.set_transform(self.axes.get_yaxis_transform(which=self.side))
        self.set_data(np.full(len(locs), 1.0 if self.side == "tick2" else 0.0), locs)
        super().draw(renderer)


def _legend(ax, handles=None, labels=None, right_axis: bool = False) -> None:
    # outside the data, right of the axes (and of a right-hand axis' labels)
    args = () if handles is None else (handles, labels)
    ax.legend(*args, loc="upper left", bbox_to_anchor=(1.14 if right_axis else 1.01, 1.0), fontsize=8,
              frameon=False)


@dataclass(frozen=True)
class _Drawn:
    """One metric as the plots draw it, prepared once per report (several figures show the same series)."""

    x: np.ndarray  # every finite point (huge values clipped), or the envelope's outline when ``band``
    y: np.ndarray
    band: bool
    clipped: bool
    first_bad: int | None  # step of the first NaN/Inf
    scale: str  # "log", "symlog" or "linear", from every finite value
    linthresh: float
    lo: float  # smallest and largest finite value (after clipping)
    hi: float


class _Series:
    """The metrics of a frame, each downsampled and measured once, on demand, with what every figure marks:
    the schedule's phases and the last report's step (``baseline``: marked, and the stretch since hatched)."""

    def __init__(self, m: Metrics, schedule: Schedule, baseline: int | None = None):
        self.m = m
        self.schedule = schedule
        self.baseline = baseline
        self.last = m.last_step()
        self.marks = run_marks(m, schedule, baseline)  # with the findings once known (PlotsInFlight.result)
        self.cut = divergence_onset(m)  # the normalized figure scales each loss over the points before it
        self._done: dict[str, _Drawn] = {}

    def __getitem__(self, name: str) -> _Drawn:
        if name not in self._done:
            self._done[name] = _prepare(self.m.steps(name), self.m.values(name))
        return self._done[name]


def envelope(steps: np.ndarray, values: np.ndarray, columns: int = COLUMNS) -> tuple[np.ndarray, np.ndarray]:
    """The outline of what a line through these points (steps ascending) covers: the range split into
    ``columns`` of equal width, each holding its lowest and highest value from its first point's step to its
    last's; the top edge left to right, then the bottom edge back. Empty columns are bridged as the line would."""
    edges = np.linspace(float(steps[0]), float(steps[-1]), columns + 1)[:-1]
    starts = np.unique(np.searchsorted(steps, edges, side="left"))
    ends = np.r_[starts[1:], len(steps)] - 1
    top, bottom = np.maximum.reduceat(values, starts), np.minimum.reduceat(values, starts)
    x = np.column_stack([steps[starts], steps[ends]]).ravel().astype(np.float64)
    return np.r_[x, x[::-1]], np.r_[np.repeat(top, 2), np.repeat(bottom, 2)[::-1]]


def _prepare(steps: np.ndarray, values: np.ndarray) -> _Drawn:
    bad = ~np.isfinite(values)
    any_bad = bool(bad.any())
    finite, finite_steps = (values[~bad], steps[~bad]) if any_bad else (values, steps)  # no copies when all finite
    good, was_clipped = clipped(finite)
    kind, linthresh = _scale_of(good)
    band = len(good) > 2 * COLUMNS
    x, y = envelope(finite_steps, good) if band else (finite_steps, good)
    lo, hi = (float(good.min()), float(good.max())) if len(good) else (float("nan"), float("nan"))
    return _Drawn(x, y, band, was_clipped, int(steps[bad][0]) if any_bad else None, kind, linthresh, lo, hi)


def _trace(ax, d: _Drawn, y: np.ndarray, color: str, label: str):
    """A series as a line, or its envelope filled (above the grid, as a line is); the legend's handle is a line
    either way, which is returned."""
    if not d.band:
        return ax.plot(d.x, y, lw=1.0, color=color, label=label)[0]
    from matplotlib.patches import Polygon

    xy = np.column_stack([d.x, y])
    # added as a plain artist, its limits given as points: Axes.add_patch measures a path segment by segment in
    # Python (~25 ms for the 3,200 vertices, more than the drawing)
    ax.add_artist(Polygon(xy, closed=True, facecolor=color, edgecolor=color, lw=1.0, joinstyle="round", zorder=2))
    ax.update_datalim(xy)
    return ax.plot([], [], lw=1.0, color=color, label=label)[0]  # the legend's handle; asks for the autoscale


def _line(ax, series: _Series, name: str, color: str | None = None, label: str | None = None):
    d = series[name]
    note = " (huge values clipped)" if d.clipped else ""
    line = _trace(ax, d, d.y, color or _color(name), (label or name) + note)
    nan = series.marks.nan_line(name)
    if nan is not None:
        _vline(ax, nan)
    return line


class _Renderer(RendererAgg):
    """Agg, with the size of a text measured once per process: the same tick labels, titles and legend entries
    recur in every figure, and matplotlib's own cache lives only as long as one figure's renderer (the
    measurement lays the string out with FreeType: ~5% of the figures' CPU)."""

    _sizes: dict = {}

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath:  # mathtext and TeX: as Agg does, uncached (the plots use neither)
            return super().get_text_width_height_descent(s, prop, ismath)
        key = (s, hash(prop), self.dpi)  # FontProperties hash every property that decides the layout
        size = self._sizes.get(key)
        if size is None:
            if len(self._sizes) > 20_000:  # a long-lived process (watch) meets ever new step labels
                self._sizes.clear()
            size = self._sizes[key] = super().get_text_width_height_descent(s, prop, ismath)
        return size


class _Canvas(FigureCanvasAgg):
    """Agg's canvas drawing with ``_Renderer`` (the same pixels: only the text measurements are shared)."""

    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        if not isinstance(getattr(self, "renderer", None), _Renderer) or self._lastKey != (w, h, self.figure.dpi):
            self.renderer = _Renderer(w, h, self.figure.dpi)
            self._lastKey = (w, h, self.figure.dpi)
        return self.renderer


def figure_png(fig, right: float | None = 0.78) -> bytes:
    """The figure as PNG, drawn once: fixed margins leave room for the legend outside the axes (a "tight"
    bounding box would draw every figure twice, the plots' main cost); ``right=None``: margins already set."""
    buf = io.BytesIO()
    if right is not None:
        fig.subplots_adjust(left=0.1, right=right, top=0.9, bottom=0.14)
    _Canvas(fig)  # the figure draws on it from here (pyplot's manager still closes it below)
    fig.savefig(buf, format="png", dpi=100, pil_kwargs={"compress_level": 3})
    plt.close(fig)
    return buf.getvalue()


def _single(c: _Series, name: str) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    _phases(ax, c)
    _line(ax, c, name)
    _scale(ax, c, name)
    _flags(ax, c, name)
    ax.set_xlabel(c.schedule.counts)
    ax.set_ylabel(name)
    ax.set_title(name, y=TITLE_Y)
    ax.grid(alpha=0.3)
    _legend(ax)
    return figure_png(fig)


def _overview(c: _Series, names: list[str]) -> bytes:
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), sharex=True)
    for ax, name in zip(axes.flat, four(c.m), strict=True):
        _phases(ax, c)
        if name in names:
            _line(ax, c, name)
            _scale(ax, c, name)
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


def robust_range(c: _Series, name: str) -> tuple[float, float]:
    """The 1st and 99th percentiles of a series' finite points (before the run's divergence onset, ``c.cut``,
    where it has one): a spike or a divergence does not flatten the rest of the curve."""
    steps, values = c.m.steps(name), c.m.values(name)
    keep = np.isfinite(values) & ((steps < c.cut) if c.cut is not None else True)
    if not keep.any():
        return 0.0, 1.0
    lo, hi = np.percentile(values[keep], [1, 99])
    return float(lo), float(hi)


def _normalized(c: _Series, names: list[str]) -> bytes:
    fig, ax = plt.subplots(figsize=(9, 3.6))
    _phases(ax, c)
    for name in names:
        d = c[name]
        lo, hi = robust_range(c, name)
        with np.errstate(all="ignore"):
            scaled = (d.y - lo) / (hi - lo) if np.isfinite(hi - lo) and hi > lo else np.zeros_like(d.y)
        # beyond the range the line runs off the axes: clipped a little past them, never to a huge value
        _trace(ax, d, np.clip(scaled, -0.5, 1.5), _color(name), f"{name} [{fmt(lo)}, {fmt(hi)}]")
        nan = c.marks.nan_line(name)
        if nan is not None:
            _vline(ax, nan)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(c.schedule.counts)
    ax.set_ylabel("scaled: 1st-99th pct to [0, 1]")
    ax.set_title("Normalized comparison", y=TITLE_Y)
    ax.grid(alpha=0.3)
    _legend(ax)
    return figure_png(fig, right=0.68)  # the legend names each range: room for two six-digit numbers


def _normalized_caption(c: _Series) -> str:
    before = (f" before {pos.at(c.schedule, c.cut)}, where the run began to diverge into NaN/Inf" if c.cut is not None
              else "")
    return (f"Each loss scaled to [0, 1] between the 1st and 99th percentiles of its finite points{before} (in the "
            "legend), to compare shapes; points outside that range run off the top or bottom.")


def _multi_axis(c: _Series, names: list[str]) -> bytes:
    # each further y axis 0.15 of the axes' width right of the last (~80 px): room for grouped six-digit tick
    # labels and the axis' name before the next spine, close enough to read as the plot's (a fifth floated off)
    fig, host = plt.subplots(figsize=(10, 4))
    rows = -(-(len(names) + len(c.marks.lines) + len(c.marks.first_bad)) // 5)  # legend rows below the axes
    fig.subplots_adjust(left=0.08, right=1 - 0.09 * max(1, len(names) - 1), top=0.9, bottom=0.16 + 0.08 * rows)
    _phases(host, c)
    lines = []
    for i, name in enumerate(names):
        ax = host if i == 0 else host.twinx()
        if i >= 2:
            ax.spines["right"].set_position(("axes", 1 + 0.15 * (i - 1)))
        lines.append(_line(ax, c, name))
        _scale(ax, c, name)
        ax.set_ylabel(name, color=_color(name))
        ax.tick_params(axis="y", colors=_color(name))
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


def _gan_health(c: _Series) -> bytes:
    m = c.m
    logits = [n for n in ("logits_real", "logits_fake") if m.has(n)]
    top_drawn = bool(logits) or m.has("d_weight")
    panels = [p for p, drawn in (("top", top_drawn), ("bottom", m.has("g_loss"))) if drawn]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 2.8 + 2.8 * (len(panels) - 1)), sharex=True, squeeze=False)
    axes = dict(zip(panels, axes[:, 0], strict=True))
    for ax in axes.values():
        _phases(ax, c)
    if "top" in axes:
        _gan_top(c, axes["top"], logits)
    if "bottom" in axes:
        bottom = axes["bottom"]
        _line(bottom, c, "g_loss", "#8c564b")
        _scale(bottom, c, "g_loss")
        _flags(bottom, c, "g_loss")
        bottom.set_ylabel("g_loss")
        if "top" not in axes:
            bottom.set_title("Generator's adversarial loss", y=TITLE_Y)
        _legend(bottom)
    axes[panels[-1]].set_xlabel(c.schedule.counts)
    fig.subplots_adjust(left=0.09, right=0.7, top=0.93 if len(panels) > 1 else 0.9,
                        bottom=0.1 if len(panels) > 1 else 0.14, hspace=0.15)
    for ax in axes.values():
        ax.grid(alpha=0.3)
    return figure_png(fig, right=None)


def _gan_top(c: _Series, top, logits: list[str]) -> None:
    """The discriminator's logits, with d_weight on a right axis, each only where logged; the title names them."""
    for name, color in (("logits_real", "#2ca02c"), ("logits_fake", "#d62728")):
        if name in logits:
            _line(top, c, name, color)
    _flags(top, c, *logits, "d_weight")
    if logits:
        top.set_ylabel("logits")
    title = ("Discriminator logits (real above fake when it can tell them apart)" if len(logits) == 2 else
             f"Discriminator {' '.join(logits).replace('_', ' ')}" if logits else "Adaptive d_weight")
    top.set_title(title, y=TITLE_Y)  # d_weight beside logits: named by its right axis and the legend
    axes = [top]
    if c.m.has("d_weight"):
        twin = top.twinx() if logits else top
        _line(twin, c, "d_weight", "#9467bd")
        _scale(twin, c, "d_weight")
        twin.set_ylabel("d_weight", color="#9467bd")
        axes = [top] if twin is top else [top, twin]
    _legend(top, *_handles(axes), right_axis=bool(logits) and c.m.has("d_weight"))


def _handles(axes) -> tuple[list, list]:
    """The legend entries of every axes (a twin's too), each once."""
    handles, labels = [], []
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.append(h)
            labels.append(label)
    return handles, labels


def _lr_title(names) -> str:
    """The learning-rate figure's title: only what it draws."""
    rates = [n for n in names if n.startswith("lr")]
    said = (["Learning rates" if len(rates) > 1 else "Learning rate"] if rates else []) + (
        ["logvar"] if "logvar" in names else [])
    return " and ".join(said)


def _lr_logvar(c: _Series) -> bytes:
    m = c.m
    fig, ax = plt.subplots(figsize=(9, 3.6))
    _phases(ax, c)
    rates = [n for n in ("lr", "lr_disc") if m.has(n)]
    for n, color in zip(rates, ("#1f77b4", "#ff7f0e"), strict=False):
        _line(ax, c, n, color)
    _scale(ax, c, *rates)
    _flags(ax, c, *rates, "logvar")
    if rates:
        ax.set_ylabel("learning rate")
    axes = [ax]
    if m.has("logvar"):
        twin = ax.twinx() if rates else ax
        _line(twin, c, "logvar", "#17becf")
        twin.set_ylabel("logvar", color="#17becf")
        axes = [ax] if twin is ax else [ax, twin]
    ax.set_xlabel(c.schedule.counts)
    ax.set_title(_lr_title([*rates, *(["logvar"] if m.has("logvar") else [])]), y=TITLE_Y)
    ax.grid(alpha=0.3)
    _legend(ax, *_handles(axes), right_axis=bool(rates) and m.has("logvar"))
    return figure_png(fig, right=0.7)


def make_plots(frame, schedule: Schedule, baseline_step: int | None = None, jobs: int | None = None) -> list[Plot]:
    """The fixed plots, as PNG bytes (only those whose metrics are logged); ``baseline_step``: the last
    report's step, marked and the stretch since it hatched. Long runs are drawn by ``jobs`` forked processes
    (default: the cores, in the main process only; a sweep's workers draw their own serially)."""
    return PlotsInFlight(frame, schedule, baseline_step, jobs).result()


def _prepared(frame, schedule: Schedule, baseline_step: int | None):
    c = _Series(Metrics(frame), schedule, baseline_step)
    planned = _plan(c)
    for name in {n for *_, draw in planned for n in draw.names}:
        c[name]  # prepared once, before any fork, so each worker inherits the downsampled series
    return c, planned


class PlotsInFlight:
    """The fixed plots drawn by forked processes while this one goes on with the analysis (rules, narrative):
    started as soon as the frame and the schedule are known; ``result()`` gives what ``make_plots`` would.
    A short run, or one where forking does not pay or exist, is drawn at ``result()`` in this process."""

    def __init__(self, frame, schedule: Schedule, baseline_step: int | None = None, jobs: int | None = None):
        import multiprocessing

        self.c, self.planned = _prepared(frame, schedule, baseline_step)
        draws = [draw for *_, draw in self.planned]
        jobs = _jobs(jobs, len(frame))
        self.pool = self.pending = None
        if jobs > 1 and len(draws) > 1:
            _WORK.update(draws=draws, series=self.c)
            try:
                self.pool = multiprocessing.get_context("fork").Pool(min(jobs, len(draws)), initializer=_worker_start)
            finally:
                _WORK.clear()  # the workers have their copy
            # one figure at a time to whichever process is free, the costliest first: a fixed share per process
            # left one idle while the other still drew (and a busy machine slows one more than the other); those
            # that mark the findings wait for them (result), the others are drawn while the rules run
            self.pending = self._start([i for i, d in enumerate(draws) if not d.flagged], self.c.marks)

    def _start(self, which: list[int], marks: Marks):
        draws = [draw for *_, draw in self.planned]
        order = sorted(which, key=lambda i: -draws[i].cost)
        return self.pool.imap_unordered(_draw_one, [(i, marks) for i in order], chunksize=1)

    def result(self, findings=()) -> list[Plot]:
        """The plots, those of a metric marking its warning and error findings (rules' Finding objects)."""
        draws = [draw for *_, draw in self.planned]
        self.c.marks = self.marks = self.c.marks.with_findings(findings)
        if self.pool is None:
            with _collector_paused():
                pngs = [draw(self.c) for draw in draws]
        else:
            try:
                later = self._start([i for i, d in enumerate(draws) if d.flagged], self.marks)
                found = dict(self.pending) | dict(later)
            finally:
                self.close()
            pngs = [found[i] for i in range(len(draws))]
        key = figure_key(self.c)
        return [Plot(name, title, caption + _left_out(self.marks, draw), png, key)
                for (name, title, caption, draw), png in zip(self.planned, pngs, strict=True)]

    def close(self) -> None:
        """Stop the drawing processes (also when the analysis failed before the plots were wanted)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


@dataclass(frozen=True)
class _Draw:
    """One figure to draw: a function of the prepared series, and the metrics it shows."""

    fn: Callable[..., bytes]
    names: tuple[str, ...]
    args: tuple = ()
    cost: float = 1.0  # its drawing time against a one-axes figure (measured): the costliest start first
    flagged: bool = False  # marks the findings on its metrics: drawn once they are known

    def __call__(self, c: _Series) -> bytes:
        return self.fn(c, *self.args)


def _left_out(marks: Marks, draw: _Draw) -> str:
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


def _plan(c: _Series) -> list[tuple[str, str, str, _Draw]]:
    m = c.m
    names = [n for n in four(m) if m.has(n)]
    plots = [(n, n, _points_said(m, n)
              + (" (each pixel column drawn from its lowest to its highest point)" if c[n].band else "")
              + ".", _Draw(_single, (n,), (n,), flagged=True))
             for n in names]
    if names:
        shown = tuple(names)
        missing = [n for n in four(m) if n not in names]
        side = "The four losses side by side" + (f" ({', '.join(missing)}: not logged, "
                                                  f"{'its panel' if len(missing) == 1 else 'their panels'} empty)"
                                                  if missing else "")
        plots.append(("overview", "Training metrics overview", side + ".",
                      _Draw(_overview, shown, (names,), cost=3)))
        plots.append(("normalized", "Normalized loss comparison",
                      _normalized_caption(c),
                      _Draw(_normalized, shown, (names,), cost=2.2)))
        plots.append(("multi_axis", "Multi-axis loss analysis",
                      "Each loss on its own y axis, showing the real magnitudes side by side.",
                      _Draw(_multi_axis, shown, (names,), cost=2.8)))
    gan = tuple(n for n in ("logits_real", "logits_fake", "d_weight", "g_loss") if m.has(n))
    if gan:
        plots.append(("gan_health", "GAN health", _gan_caption(gan), _Draw(_gan_health, gan, cost=2.7, flagged=True)))
    rates = tuple(n for n in ("lr", "lr_disc", "logvar") if m.has(n))
    if rates:
        lrs = sum(n.startswith("lr") for n in rates)  # the caption names the lines drawn, in their number
        flat = "logvar" in rates and c["logvar"].lo == c["logvar"].hi  # in no optimizer (RadioDiff's, LDM's)
        drawn = (["the logged learning rate" + ("s" if lrs > 1 else "")] if lrs else []) + (
            [("the logvar" + (f", constant at {fmt(c['logvar'].lo)} (not learned in this run)" if flat else
                               " (learned)")) + (" on the right axis" if lrs else "")] if "logvar" in rates else [])
        plots.append(("lr_logvar", _lr_title(rates), " and ".join(drawn).capitalize() + ".",
                      _Draw(_lr_logvar, rates, flagged=True)))
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


def figure_key(c: _Series) -> str:
    """The key to what every figure of the run marks (marks.Marks.key)."""
    return c.marks.key


_WORK: dict = {}  # what forked workers draw from: inherited at the fork, never pickled


def _worker_start() -> None:
    """A drawing process: what it inherited is frozen out of the cyclic collector, which is paused (matplotlib's
    many small objects made it run often, about a sixth of the drawing time) and run once per figure instead,
    over that figure's objects only (a few ms), so the process does not grow."""
    import gc

    gc.freeze()
    gc.disable()


def _draw_one(job: tuple[int, Marks]) -> tuple[int, bytes]:
    import gc

    i, marks = job
    series = _WORK["series"]
    series.marks = marks  # the findings' flags come with the figures that mark them
    png = _WORK["draws"][i](series)
    gc.collect()
    return i, png


class _collector_paused:
    """Matplotlib allocates many small objects: the cyclic collector, scanning every object the process holds,
    would run often and find nothing; figures are closed explicitly."""

    def __enter__(self):
        import gc

        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        import gc

        if self.was:
            gc.enable()


PARALLEL_POINTS = 200_000  # below this, forking costs more than it saves


def _jobs(jobs: int | None, points: int) -> int:
    """Processes to draw with: one for short runs, inside a worker process, or where fork does not exist."""
    import multiprocessing
    import os

    if jobs is not None:
        return max(1, jobs) if fork_safe() else 1
    if points < PARALLEL_POINTS or multiprocessing.parent_process() is not None:
        return 1
    if not fork_safe():  # drawing workers inherit the prepared series by fork: none where forking is unsafe
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def overview_plot(frame, schedule: Schedule) -> Plot | None:
    """Only the 2x2 overview (for a sweep's section per run)."""
    m = Metrics(frame)
    names = [n for n in four(m) if m.has(n)]
    if not names:
        return None
    c = _Series(m, schedule)
    caption = f"The four losses side by side. {figure_key(c)}".strip()  # one figure: its key in its caption
    return Plot("overview", "Training metrics overview", caption, _overview(c, names))
