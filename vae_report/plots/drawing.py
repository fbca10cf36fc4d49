"""How the plots draw: matplotlib set up once (Agg, quiet), what every figure marks (phases, lr, findings), the
axis scales and tick labels, a series as a line or its envelope, and the figure to PNG in one draw."""

from __future__ import annotations

import io
import logging
import math
import os
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
from matplotlib.ticker import Formatter  # noqa: E402

from ..marks import SEVERITY_COLORS  # noqa: E402
from ..numbers import fmt  # noqa: E402
from .series import Drawn, Series  # noqa: E402

COLORS = {"total_loss": "#1f77b4", "kl_loss": "#9467bd", "quant_loss": "#9467bd", "rec_loss": "#2ca02c",
          "disc_loss": "#d62728"}


def color_of(name: str) -> str:
    """A metric's colour: its own for the four losses, a fixed one from matplotlib's cycle for any other."""
    return COLORS.get(name) or f"C{sum(map(ord, name)) % 10}"


@dataclass(frozen=True)
class Plot:
    name: str  # file stem
    title: str
    caption: str
    png: bytes
    key: str = ""  # what the lines and shading every figure of the run draws (draw_phases) mean: said once


# Titles at a fixed height above the axes: none of these figures puts tick labels or an offset above its axes, so
# matplotlib's search for a clear spot (the tight boxes of every axis and twin, drawn once more; a fifth of a
# figure's cost) would place them exactly here.
TITLE_Y = 1.0


DASHES = {"dash": "--", "dot": ":", "dashdot": "-."}  # marks.Line's plotly dash names as matplotlib's


def draw_phases(ax, c: Series) -> None:
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
        draw_vline(ax, line)


def draw_vline(ax, line) -> None:
    ax.axvline(line.step, color=line.color, ls=DASHES[line.dash], lw=1.2 if line.color != "red" else 1,
               label=line.label)


def draw_flags(ax, c: Series, *names: str) -> None:
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


def set_scale(ax, series: Series, *names: str) -> None:
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


def add_legend(ax, handles=None, labels=None, right_axis: bool = False) -> None:
    # outside the data, right of the axes (and of a right-hand axis' labels)
    args = () if handles is None else (handles, labels)
    ax.legend(*args, loc="upper left", bbox_to_anchor=(1.14 if right_axis else 1.01, 1.0), fontsize=8,
              frameon=False)


def draw_trace(ax, d: Drawn, y: np.ndarray, color: str, label: str):
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


def draw_line(ax, series: Series, name: str, color: str | None = None, label: str | None = None):
    d = series[name]
    note = " (huge values clipped)" if d.clipped else ""
    line = draw_trace(ax, d, d.y, color or color_of(name), (label or name) + note)
    nan = series.marks.nan_line(name)
    if nan is not None:
        draw_vline(ax, nan)
    return line


class _Renderer(RendererAgg):
    """Agg, with the size of a text measured once per process: the same tick labels, titles and legend entries
    recur in every figure, and matplotlib's own cache lives only as long as one figure's renderer (the
    measurement lays the string out with FreeType: ~5% of the figures' CPU); and where each text was drawn
    (``drawn``: boxes in pixels, y up), so that a figure is checked for a text off its canvas without laying
    it out a second time."""

    _sizes: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.drawn: list[tuple[float, float, float, float]] = []

    def clear(self) -> None:  # a new draw of the figure
        super().clear()
        self.drawn = []

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

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        # (x, y): the line's baseline start, y down from the top; its box: the string's width, its height above
        # the baseline and its descent below, turned by the angle
        w, h, d = self.get_text_width_height_descent(s, prop, ismath)
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        corners = [(u * cos - v * sin, u * sin + v * cos) for u in (0.0, w) for v in (-d, h - d)]
        up = self.height - y
        self.drawn.append((x + min(c[0] for c in corners), up + min(c[1] for c in corners),
                           x + max(c[0] for c in corners), up + max(c[1] for c in corners)))
        glyphs = None if ismath else self._glyphs(s, prop, mtext)
        if glyphs is None:
            super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            return
        size = prop.get_size_in_points()
        self._draw_text_glyphs_and_boxes(gc, x, y, angle, ((font, size, index, 0, 1, gx, gy)
                                                           for font, index, gx, gy in glyphs), [])

    _layouts: dict = {}

    def _glyphs(self, s, prop, mtext):
        """The string's glyphs as Agg lays them out (font, glyph, offset), laid out once per process: the same
        labels recur in every figure and FreeType's shaping of each costs ~0.6 ms. None where this matplotlib
        draws text another way (its draw_text is then used as is)."""
        if not hasattr(self, "_draw_text_glyphs_and_boxes"):
            return None
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        key = (s, hash(prop), self.dpi, tuple(features) if features else None, language)
        found = self._layouts.get(key)
        if found is None:
            from matplotlib.backends.backend_agg import get_hinting_flag

            font = self._prepare_font(prop)
            found = [(item.ft_object, item.glyph_index, item.x, item.y)
                     for item in font._layout(s, flags=get_hinting_flag(), features=features, language=language)]
            if len(self._layouts) > 20_000:
                self._layouts.clear()
            self._layouts[key] = found
        return found


# FreeType's fonts are not fork-safe (matplotlib clears its own font cache in a forked child): the layouts, which
# hold the fonts they were laid out in, are cleared there too, and laid out again with the child's fonts
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_Renderer._layouts.clear)


class _Canvas(FigureCanvasAgg):
    """Agg's canvas drawing with ``_Renderer`` (the same pixels: only the text measurements are shared)."""

    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        if not isinstance(getattr(self, "renderer", None), _Renderer) or self._lastKey != (w, h, self.figure.dpi):
            self.renderer = _Renderer(w, h, self.figure.dpi)
            self._lastKey = (w, h, self.figure.dpi)
        return self.renderer


def figure_png(fig, right: float | None = 0.78) -> bytes:
    """The figure as PNG, drawn once in the usual case: fixed margins leave room for the legend outside the
    axes (a "tight" bounding box would draw every figure twice, the plots' main cost); a margin is moved in
    where a legend, title or note would run off the canvas (laid out without drawing, ~1 ms), then, once drawn,
    where any other text (a long tick label, an axis' name beside it) ran off, and the figure is drawn again;
    ``right=None``: margins already set."""
    import matplotlib.image

    if right is not None:
        fig.subplots_adjust(left=0.1, right=right, top=0.9, bottom=0.14)
    canvas = _Canvas(fig)  # the figure draws on it from here (pyplot's manager still closes it below)
    renderer = canvas.get_renderer()
    _fit_margins(fig, [box.extents for box in _placed_boxes(fig, renderer)])
    canvas.draw()
    if _fit_margins(fig, canvas.get_renderer().drawn):
        canvas.draw()
    buf = io.BytesIO()
    # what savefig(format="png", dpi=100) writes of the drawn canvas, without drawing it once more
    matplotlib.image.imsave(buf, canvas.buffer_rgba(), format="png", origin="upper", dpi=fig.dpi,
                            pil_kwargs={"compress_level": 3})
    plt.close(fig)
    return buf.getvalue()


EDGE = 3  # pixels kept between a text moved in and the canvas' edge


def _fit_margins(fig, boxes) -> bool:
    """Move in a margin over which one of these boxes (x0, y0, x1, y1 in pixels, y up) runs off the canvas;
    whether a margin moved. A figure whose texts cannot fit at all is left as is."""
    if not boxes:
        return False
    width, height = fig.bbox.width, fig.bbox.height
    left, bottom = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, top = max(b[2] for b in boxes) - width, max(b[3] for b in boxes) - height
    if min(left, bottom) >= 0 and max(right, top) <= 0:
        return False
    p = fig.subplotpars
    fitted = {"left": p.left + (EDGE - left) / width if left < 0 else p.left,
              "right": p.right - (EDGE + right) / width if right > 0 else p.right,
              "bottom": p.bottom + (EDGE - bottom) / height if bottom < 0 else p.bottom,
              "top": p.top - (EDGE + top) / height if top > 0 else p.top}
    if not (fitted["left"] < fitted["right"] and fitted["bottom"] < fitted["top"]):  # matplotlib would refuse them
        return False
    fig.subplots_adjust(**fitted)
    return True


def _placed_boxes(fig, renderer) -> list:
    """Where the texts placed by hand lie (legends, titles, notes), in pixels, laid out without drawing: the
    usual reason to move a margin in, known before the one draw. An axis' tick labels and name are known once
    drawn (laying them out here cost a sixth of the figures' time)."""
    boxes = []
    for ax in fig.axes:
        for a in [ax.title, *ax.texts] + ([ax.get_legend()] if ax.get_legend() else []):
            if a.get_visible() and (box := a.get_tightbbox(renderer)) is not None \
                    and np.isfinite(box.extents).all():  # an empty title (a twin's) has the null box, infinite
                boxes.append(box)
    return boxes


def legend_entries(axes) -> tuple[list, list]:
    """The legend entries of every axes (a twin's too), each once."""
    handles, labels = [], []
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.append(h)
            labels.append(label)
    return handles, labels
