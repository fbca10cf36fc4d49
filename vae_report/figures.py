"""The step between the analysis and the view: the report's images drawn from the run's frame (or taken from the
processes that drew them while the rules ran), and the reconstruction grids the run saved. The Analysis holds
none of it; the view names each image by its file; only the writer holds the bytes."""

from __future__ import annotations

from dataclasses import dataclass, field

from .images import reconstructions
from .interactive import chart_html, charts, loader
from .plots import Plot, PlotsInFlight


@dataclass(frozen=True)
class Drawn:
    """A plot as the view needs it: the metric it shows (``name``), its title and caption, and its file."""

    name: str
    title: str
    caption: str
    file: str


@dataclass(frozen=True)
class Sample:
    """A reconstruction grid the run saved: its file and what it shows."""

    name: str
    caption: str


@dataclass(frozen=True)
class Figures:
    plots: tuple[Drawn, ...] = ()
    samples: tuple[Sample, ...] = ()
    # --interactive: each plot's zoomable chart (its HTML, by the plot's name) in place of its image, and the
    # script that draws them (plotly embedded)
    charts: dict[str, str] | None = None
    script: str = ""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # file -> (bytes, MIME type)
    drawn: bool = True  # False: written from an Analysis alone, without the logs to draw from
    key: str = ""  # what the lines and shading of every plot mean (plots.figure_key): said once, above them

    def data(self) -> dict[str, bytes]:
        return {name: data for name, (data, _) in self.files.items()}


def figures_of(plots: list[Plot], samples: list = (), charts: dict[str, str] | None = None,
               script: str = "") -> Figures:
    """Figures from plots already drawn and images already chosen (images.Shown); with ``charts`` (a chart's HTML
    by its plot's name) and their ``script``, the --interactive page."""
    files = {f"{p.name}.png": (p.png, "image/png") for p in plots}
    shown = []
    for i, s in enumerate(samples):
        name = f"reconstruction_{i}{s.suffix}"
        files[name] = (s.data, s.mime)
        shown.append(Sample(name, s.caption))
    return Figures(tuple(Drawn(p.name, p.title, p.caption, f"{p.name}.png") for p in plots), tuple(shown), charts,
                   script, files, key=next((p.key for p in plots if p.key), ""))


def draw(run, interactive: bool = False) -> Figures:
    """Everything a run's report shows beside its text, from an ``analysis.AnalyzedRun``: the plots (those its
    drawing processes made, or drawn now), the reconstruction grids (chosen when the run was read, or now), and
    with ``interactive`` the zoomable charts in place of the plots."""
    analysis = run.analysis
    if run.plots is not None:  # started by examine_run(draw_plots=True), with the same baseline
        inflight, run.plots = run.plots, None
    else:
        inflight = PlotsInFlight(run.frame, analysis.schedule, (analysis.since_baseline or {}).get("step_then"))
    plots = inflight.result(analysis.findings)
    shown, script = None, ""
    if interactive:  # a chart per plot, from the same series and marks (findings included), the same metrics
        made = charts(inflight.c, [(name, title, d.names) for name, title, _, d in inflight.planned])
        shown, script = {chart.name: chart_html(chart, i) for i, chart in enumerate(made)}, loader()
    samples = run.samples if run.samples is not None else reconstructions(analysis)
    return figures_of(plots, samples, shown, script)
