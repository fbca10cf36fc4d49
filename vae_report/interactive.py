"""Zoomable charts for ``--interactive`` HTML reports (plotly, its script embedded once: the file stays offline).

Each series is min-max downsampled (MinMaxLTTB: a zoomable line) and sent as float32 typed arrays, and plotly.js is
embedded gzipped, so a 150k-step run's report stays well under 5 MB; the default HTML report has no script.
"""

from __future__ import annotations

import base64
import gzip
import html

import numpy as np

from .errors import InputError
from .marks import SEVERITY_COLORS, Marks, run_marks
from .plots import downsample
from .rules import Metrics
from .schedule import Schedule

POINTS = 1000  # per series: zooming a 150k-step run still shows every bucket's extremes
CHARTS = (
    ("Losses", ("total_loss", "nll_loss")),
    ("Reconstruction", ("rec_loss", "val/rec_loss")),
    ("Regularizer", ("kl_loss", "quant_loss")),
    ("Discriminator", ("disc_loss", "g_loss")),
    ("Discriminator logits", ("logits_real", "logits_fake")),
    ("Adaptive weight", ("d_weight",)),
    ("Learning rate", ("lr", "lr_disc")),
)


def _plotly():
    try:
        import plotly.graph_objects as go
        import plotly.io as pio
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise InputError("--interactive needs plotly: pip install 'vae-report[interactive]'") from None
    return go, pio, get_plotlyjs


def figures(frame, schedule: Schedule, marks: Marks | None = None) -> list[tuple[str, str]]:
    """(title, plotly figure JSON) per group of logged metrics, with what the static plots mark (``marks``, the
    same object they drew from; without it, the run's own marks with no findings)."""
    go, pio, _ = _plotly()
    m = Metrics(frame)
    marks = marks if marks is not None else run_marks(m, schedule)
    out = []
    for title, names in CHARTS:
        present = [n for n in names if m.has(n) and np.isfinite(m.values(n)).any()]
        if not present:
            continue
        fig = go.Figure()
        for name in present:
            steps, values = downsample(m.steps(name), m.values(name), POINTS)
            fig.add_trace(go.Scattergl(x=steps.astype(np.int32) if steps.max(initial=0) < 2**31 else steps,
                                       y=values.astype(np.float32), name=name, mode="lines"))
        _marked(fig, marks, present)
        lows = [float(np.nanmin(m.values(n)[np.isfinite(m.values(n))])) for n in present]
        highs = [float(np.nanmax(m.values(n)[np.isfinite(m.values(n))])) for n in present]
        log = min(lows) > 0 and max(highs) / min(lows) > 100
        fig.update_layout(title=title, height=360, margin={"l": 60, "r": 20, "t": 50, "b": 40},
                          xaxis_title="step", legend={"orientation": "h", "y": -0.2},
                          yaxis_type="log" if log else "linear")
        out.append((title, pio.to_json(fig)))
    return out


def _marked(fig, marks: Marks, present: list[str]) -> None:
    """The marks of the static plots on a chart: shading, labelled lines in the legend, each drawn series' first
    NaN/Inf, and the warning and error findings on its series as labelled triangles at the top."""
    for span in marks.spans:
        if span.hatch:
            fig.add_vrect(x0=span.start, x1=span.end, fillcolor=span.color, opacity=0.08, line_width=0,
                          layer="below")
        else:
            fig.add_vrect(x0=span.start, x1=span.end, fillcolor=span.color, opacity=span.alpha, line_width=0,
                          layer="below")
    lines = list(marks.lines) + [line for n in present if (line := marks.nan_line(n)) is not None]
    for line in lines:
        fig.add_shape(type="line", x0=line.step, x1=line.step, y0=0, y1=1, yref="paper", showlegend=True,
                      name=line.label.replace("\n", " "), line={"color": line.color, "dash": line.dash, "width": 1.2})
    flags, _ = marks.flags_on(present)
    said = set()
    for f in flags:
        color = SEVERITY_COLORS[f.severity]
        fig.add_annotation(x=f.step, y=1, yref="paper", text=f"\u25bc {f.rule}", showarrow=False, xanchor="left",
                           yanchor="top", font={"color": color, "size": 11})
        fig.add_shape(type="line", x0=f.step, x1=f.step, y0=0.93, y1=1, yref="paper", line={"color": color,
                      "width": 3}, showlegend=f.severity not in said, name=f"{f.severity} finding (rule id beside it)")
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


def block(frame, schedule: Schedule, marks: Marks | None = None) -> str:
    """The HTML of every chart and the script that draws them (to place where the static plots would be)."""
    _, _, get_plotlyjs = _plotly()
    parts = []
    for i, (title, spec) in enumerate(figures(frame, schedule, marks)):
        safe = spec.replace("</", "<\\/")  # JSON inside <script>: a tag name in the data must not end it
        parts.append(f'<figure><div id="vae-chart-{i}" class="vae-chart" aria-label="{html.escape(title)}"></div>'
                     f'<script type="application/json" class="vae-chart" data-target="vae-chart-{i}">{safe}</script>'
                     "</figure>")
    packed = base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), 9, mtime=0)).decode("ascii")
    parts.append(f'<script type="application/octet-stream" id="vae-plotly-gz">{packed}</script>')
    parts.append(_LOADER)
    return "\n".join(parts)
