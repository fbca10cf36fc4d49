"""Zoomable charts for ``--interactive`` HTML reports (plotly, its script embedded once: the file stays offline).

Each series is min-max downsampled (MinMaxLTTB: a zoomable line) and sent as float32 typed arrays, and plotly.js is
embedded gzipped, so a 150k-step run's report stays well under 5 MB; the default HTML report has no script.
"""

from __future__ import annotations

import base64
import gzip
import html
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .marks import SEVERITY_COLORS, Marks
from .numbers import fmt
from .plots import downsample
from .plots.drawing import color_of
from .plots.figures import four, plan, robust_range
from .plots.series import Series
from .rules import Metrics
from .schedule import Schedule

POINTS = 1000  # per series: zooming a 150k-step run still shows every bucket's extremes
LOGVAR = "#17becf"


@dataclass(frozen=True)
class Chart:
    """One static figure as a zoomable chart: the figure's file stem (``name``), its title, and the plotly
    figure as JSON; the view prints it where the figure's image would be, its caption under it."""

    name: str
    title: str
    spec: str


def _plotly():
    try:
        import plotly.graph_objects as go
        import plotly.io as pio
        from plotly.offline import get_plotlyjs
        from plotly.subplots import make_subplots
    except ImportError:
        raise InputError("--interactive needs plotly: pip install 'vae-report[interactive]'") from None
    return go, pio, get_plotlyjs, make_subplots


def figures(frame, schedule: Schedule, marks: Marks | None = None) -> list[Chart]:
    """A chart per fixed figure the run's logs fill (plots.figures.plan), with what the static plots mark
    (``marks``, the same object they drew from; without it, the run's own marks with no findings)."""
    c = Series(Metrics(frame), schedule)
    if marks is not None:
        c.marks = marks
    return charts(c, [(name, title, draw.names) for name, title, _, draw in plan(c)])


def charts(c: Series, planned) -> list[Chart]:
    """Each planned figure (file stem, title, the metrics it draws) as a chart drawing the same metrics the same
    way: the overview's four panels, the normalized scale, an axis per loss, right axes where the figure has
    them; each series min-max downsampled to ``POINTS``."""
    go, pio, _, make_subplots = _plotly()
    out = []
    for name, title, names in planned:
        fig, columns = _laid_out(go, make_subplots, c, name, names)
        _marked(fig, c.marks, list(names), columns)
        fig.update_layout(title=title, height=640 if name in ("overview", "gan_health") else 360,
                          margin={"l": 60, "r": 20, "t": 60, "b": 40}, legend={"orientation": "h", "y": -0.2})
        out.append(Chart(name, title, pio.to_json(fig)))
    return out


def _series(c: Series, name: str):
    """A series as the chart sends it: min-max downsampled finite points, float32 values, int32 steps."""
    steps, values = downsample(c.m.steps(name), c.m.values(name), POINTS)
    return (steps.astype(np.int32) if steps.max(initial=0) < 2**31 else steps), values.astype(np.float32)


def _line(go, c: Series, name: str, shown: str | None = None, values=None, color: str | None = None, **kw):
    steps, ys = _series(c, name)
    return go.Scattergl(x=steps, y=ys if values is None else values(ys), name=shown or name, mode="lines",
                        line={"color": color or _color(name)}, **kw)


def _color(name: str) -> str:
    code = color_of(name)
    return PALETTE[int(code[1:])] if code.startswith("C") else code


PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")  # matplotlib's cycle: a metric has the colour of its static plot


def _logged_wide(c: Series, names) -> bool:
    """Whether the metrics are positive and span more than two orders of magnitude (a log axis)."""
    finite = [c.m.values(n)[np.isfinite(c.m.values(n))] for n in names if c.m.has(n)]
    finite = [v for v in finite if len(v)]
    return bool(finite) and min(float(v.min()) for v in finite) > 0 and (
        max(float(v.max()) for v in finite) / min(float(v.min()) for v in finite) > 100)


def _scaled(fig, c: Series, names, **where) -> None:
    """Log y where the metrics are positive and span more than two orders of magnitude."""
    if _logged_wide(c, names):
        fig.update_yaxes(type="log", **where)


def _laid_out(go, make_subplots, c: Series, name: str, names) -> tuple:
    """The figure ``name`` laid out as its static plot is, and the x axes its marks go on (one per column)."""
    m = c.m
    if name == "overview":
        panels = four(m)
        fig = make_subplots(2, 2, shared_xaxes=True, subplot_titles=[
            n if n in names else f"{n}: not logged" for n in panels], vertical_spacing=0.12)
        for i, n in enumerate(panels):
            if n in names:
                fig.add_trace(_line(go, c, n), row=i // 2 + 1, col=i % 2 + 1)
                _scaled(fig, c, [n], row=i // 2 + 1, col=i % 2 + 1)
        fig.update_xaxes(title_text=c.schedule.counts, row=2)
        return fig, ("x", "x2")
    if name == "normalized":
        fig = make_subplots(1, 1)
        for n in names:
            lo, hi = robust_range(c, n)
            span = hi - lo if np.isfinite(hi - lo) and hi > lo else None
            fig.add_trace(_line(go, c, n, f"{n} [{fmt(lo)}, {fmt(hi)}]", values=lambda y, lo=lo, span=span: (
                np.clip((y - lo) / span, -0.5, 1.5) if span else np.zeros_like(y)).astype(np.float32)))
        fig.update_yaxes(range=[-0.05, 1.05], title_text="scaled: 1st-99th pct to [0, 1]")
        fig.update_xaxes(title_text=c.schedule.counts)
        return fig, ("x",)
    if name == "multi_axis":
        fig = go.Figure()
        right = max(0, len(names) - 1)
        for i, n in enumerate(names):
            axis = "y" if i == 0 else f"y{i + 1}"
            fig.add_trace(_line(go, c, n, yaxis=axis))
            style = {"title": {"text": n, "font": {"color": _color(n)}}, "tickfont": {"color": _color(n)}}
            if i:
                style |= {"overlaying": "y", "side": "right", "anchor": "free", "autoshift": True,
                          "position": 1.0 - 0.08 * (right - i)}
            if _logged_wide(c, [n]):
                style["type"] = "log"
            fig.update_layout({"yaxis" if i == 0 else f"yaxis{i + 1}": style})
        fig.update_layout(xaxis={"domain": [0, 1 - 0.08 * max(0, right - 1)], "title": {"text": c.schedule.counts}})
        return fig, ("x",)
    if name == "gan_health":
        logits = [n for n in ("logits_real", "logits_fake") if n in names]
        top = bool(logits) or "d_weight" in names
        rows = [r for r, drawn in (("top", top), ("bottom", "g_loss" in names)) if drawn]
        fig = make_subplots(len(rows), 1, shared_xaxes=True, specs=[[{"secondary_y": r == "top"}] for r in rows])
        if top:
            for n, color in (("logits_real", "#2ca02c"), ("logits_fake", "#d62728")):
                if n in logits:
                    fig.add_trace(_line(go, c, n, color=color), row=1, col=1)
            if "d_weight" in names:
                fig.add_trace(_line(go, c, "d_weight", color="#9467bd"), row=1, col=1, secondary_y=bool(logits))
                _scaled(fig, c, ["d_weight"], row=1, col=1, secondary_y=bool(logits))
        if "g_loss" in names:
            fig.add_trace(_line(go, c, "g_loss", color="#8c564b"), row=len(rows), col=1)
            _scaled(fig, c, ["g_loss"], row=len(rows), col=1)
        fig.update_xaxes(title_text=c.schedule.counts, row=len(rows))
        return fig, ("x",)
    if name == "lr_logvar":
        rates = [n for n in names if n.startswith("lr")]
        fig = make_subplots(1, 1, specs=[[{"secondary_y": bool(rates) and "logvar" in names}]])
        for n, color in zip(rates, ("#1f77b4", "#ff7f0e"), strict=False):
            fig.add_trace(_line(go, c, n, color=color), row=1, col=1)
        _scaled(fig, c, rates, row=1, col=1, secondary_y=False)
        if "logvar" in names:
            fig.add_trace(_line(go, c, "logvar", color=LOGVAR), row=1, col=1, secondary_y=bool(rates))
        fig.update_xaxes(title_text=c.schedule.counts)
        return fig, ("x",)
    fig = make_subplots(1, 1)  # one metric's figure
    for n in names:
        fig.add_trace(_line(go, c, n))
    _scaled(fig, c, names)
    fig.update_yaxes(title_text=" and ".join(names))
    fig.update_xaxes(title_text=c.schedule.counts)
    return fig, ("x",)


def _marked(fig, marks: Marks, present: list[str], columns: tuple[str, ...] = ("x",)) -> None:
    """The marks of the static plots on a chart, over every column of panels (``columns``: their x axes): shading,
    labelled lines in the legend, each drawn series' first NaN/Inf, and the warning and error findings on its
    series as labelled triangles at the top."""
    lines = list(marks.lines) + [line for n in present if (line := marks.nan_line(n)) is not None]
    flags, _ = marks.flags_on(present)
    for i, x in enumerate(columns):
        for span in marks.spans:
            fig.add_shape(type="rect", x0=span.start, x1=span.end, y0=0, y1=1, xref=x, yref="paper",
                          fillcolor=span.color, opacity=0.08 if span.hatch else span.alpha, line_width=0,
                          layer="below")
        for line in lines:
            fig.add_shape(type="line", x0=line.step, x1=line.step, y0=0, y1=1, xref=x, yref="paper",
                          showlegend=i == 0, name=line.label.replace("\n", " "),
                          line={"color": line.color, "dash": line.dash, "width": 1.2})
        said = set()
        for f in flags:
            color = SEVERITY_COLORS[f.severity]
            fig.add_annotation(x=f.step, y=1, xref=x, yref="paper", text=f"\u25bc {f.rule}", showarrow=False,
                               xanchor="left", yanchor="top", font={"color": color, "size": 11})
            fig.add_shape(type="line", x0=f.step, x1=f.step, y0=0.93, y1=1, xref=x, yref="paper",
                          line={"color": color, "width": 3}, showlegend=i == 0 and f.severity not in said,
                          name=f"{f.severity} finding (rule id beside it)")
            said.add(f.severity)


# plotly.js is 4.8 MB as text: gzipped in the page (1.4 MB) and unpacked by the browser's own
# DecompressionStream, so the file stays small, offline and free of any request.
_LOADER = """<script>
(async () => {
  const packed = Uint8Array.from(atob(document.getElementById("vae-plotly-gz").textContent), c => c.charCodeAt(0));
  const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("gzip"));
  const code = await new Response(stream).text();
  const tag = document.createElement("script");
  tag.textContent = code;
  document.head.appendChild(tag);
  for (const holder of document.querySelectorAll("script.vae-chart")) {
    const spec = JSON.parse(holder.textContent);
    Plotly.newPlot(holder.dataset.target, spec.data, spec.layout, {displaylogo: false, responsive: true});
  }
})();
</script>"""


def chart_html(chart: Chart, i: int) -> str:
    """A chart's place on the page (a div) and its figure (JSON in a script tag the loader reads); no caption."""
    safe = chart.spec.replace("</", "<\\/")  # JSON inside <script>: a tag name in the data must not end it
    return (f'<div id="vae-chart-{i}" class="vae-chart" aria-label="{html.escape(chart.title)}"></div>'
            f'<script type="application/json" class="vae-chart" data-target="vae-chart-{i}">{safe}</script>')


def loader() -> str:
    """plotly.js (gzipped, embedded) and the script that draws every chart of the page with it."""
    _, _, get_plotlyjs, _ = _plotly()
    packed = base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), 9, mtime=0)).decode("ascii")
    return f'<script type="application/octet-stream" id="vae-plotly-gz">{packed}</script>\n{_LOADER}'


def block(frame, schedule: Schedule, marks: Marks | None = None) -> str:
    """The HTML of every chart, each in a figure without its caption, and the script that draws them (a page of
    charts alone; the report places each chart where its figure would be, its caption under it)."""
    parts = [f"<figure>{chart_html(chart, i)}</figure>" for i, chart in enumerate(figures(frame, schedule, marks))]
    return "\n".join([*parts, loader()])
