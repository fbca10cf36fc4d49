"""Analysis -> Markdown (with a folder of PNGs) or one self-contained HTML file, written atomically."""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from ._version import __version__
from .analysis import Analysis, AnalyzedRun
from .compare import ComparedRun, compare_runs, load_configs
from .errors import OutputError
from .figures import Figures, draw
from .frame import file_slug
from .numbers import fmt, pct, signed_pct
from .outputs import stage
from .report_view import report_view
from .sweep import sweep_status
from .text import ICONS, html_spans, markdown, markdown_spans, plain
from .view import ReportView, change
from .writer import atomic_write, data_uri, is_html, link, ready_parent, write_markdown


def templates_dir() -> Path:
    """``vae_report/templates`` in an installed wheel, the repository's ``templates/`` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "page.md.j2").is_file():
            return candidate
    raise OutputError(f"{here}: report templates not found; reinstall vae-report")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update(fmt=fmt, pct=pct, signed_pct=signed_pct, cell=markdown, md=_md, md_plain=markdown,
                       html=html_spans, change=change, cells=_cells)
    env.globals.update(icons=ICONS)
    return env


def _md(value) -> Markup:
    """A view's Text (spans) or a plain value, as inert Markdown."""
    return markdown_spans(value) if isinstance(value, tuple) else markdown(value)


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: object) -> object:
    """Every value as it enters a template, in one place: in Markdown escaped (text from logs, folder names,
    configs and baselines renders as itself; what the view builds as Markdown, such as a link, is Markup), in
    HTML stripped of control characters (then HTML-escaped by autoescape)."""
    if isinstance(value, Markup) or value is None:
        return value
    if context.name in _VIEW_PRINTERS:  # they print a view: every value of text passes its format's filter
        return value
    if (context.name or "").endswith(".md.j2"):
        return markdown(value)
    return plain(value) if isinstance(value, str) else value


_VIEW_PRINTERS = {"page.md.j2", "blocks.md.j2"}


def _cells(values) -> Markup:
    """A table row's cells, each escaped, joined by column breaks."""
    return Markup(" | ").join(markdown(v) for v in values)


_BLANK_RUNS = re.compile(r"\n{3,}")


def markdown_page(view: ReportView, files_dir_name: str = "files") -> str:
    """A view as Markdown; its images are links into ``files_dir_name`` (the ``<stem>_files/`` folder)."""
    text = environment().get_template("page.md.j2").render(view=view, src=lambda name: link(files_dir_name, name))
    return _BLANK_RUNS.sub("\n\n", text)


def html_page(view: ReportView, files: dict[str, tuple[bytes, str]] | None = None) -> str:
    """A view as one self-contained page: images embedded as data URIs, no external resource; no script unless
    the view holds the --interactive charts."""
    files = files or {}
    return environment().get_template("page.html.j2").render(view=view, src=lambda name: data_uri(*files[name]))


def render_markdown(analysis: Analysis, figures: Figures | None = None, files_dir_name: str = "files") -> str:
    return markdown_page(report_view(analysis, figures), files_dir_name)


def render_html(analysis: Analysis, figures: Figures | None = None) -> str:
    return html_page(report_view(analysis, figures), figures.files if figures else None)


def write_view(view: ReportView, out: Path, files: dict[str, tuple[bytes, str]]) -> list[Path]:
    """Any report's view to disk: one self-contained ``.html``, or a ``.md`` with its images in
    ``<stem>_files/``; nothing is left half-written."""
    out = Path(out)
    parent = ready_parent(out)
    if is_html(out):
        atomic_write(out, html_page(view, files).encode("utf-8"))
        return [out]
    files_dir = parent / f"{out.stem}_files"
    return write_markdown(out, markdown_page(view, files_dir.name), files_dir,
                          {name: data for name, (data, _) in files.items()})


def write_report(run: AnalyzedRun | Analysis, out: Path, interactive: bool = False) -> list[Path]:
    """Write a run's report (``.md`` plus ``<stem>_files/``, or one ``.html``; ``interactive``: zoomable charts in
    the HTML). An ``AnalyzedRun`` (``examine_run``) brings the frame its figures are drawn from; an ``Analysis``
    alone makes a report of text and tables."""
    out = Path(out)
    html = is_html(out)
    if interactive and not html:
        raise OutputError(f"{out}: --interactive makes an HTML report; end --out with .html")
    if isinstance(run, Analysis):
        analysis, figures = run, Figures(drawn=False)
    else:
        try:
            ready_parent(out)
        except BaseException:
            if run.plots is not None:
                run.plots.close()
            raise
        analysis, figures = run.analysis, draw(run, interactive)
    return write_view(report_view(analysis, figures), out, figures.files)


def write_sweep_report(runs: list, out: Path, name: str) -> list[Path]:
    """One report for a sweep: a table of runs, then a section per run with its overview plot."""
    out = Path(out)
    html = is_html(out)
    parent = ready_parent(out)
    files_dir = parent / f"{out.stem}_files"
    entries = []
    images: dict[str, bytes] = {}
    for run in runs:
        png = run.overview
        if png is not None:
            key = f"{_slug(run.name)}_overview.png"
            images[key] = png
            src = data_uri(png) if html else link(files_dir.name, key)
        else:
            src = None
        entries.append({"run": run, "a": run.analysis, "overview": src})
    comparison, compared = _sweep_comparison(runs, html, files_dir, images)
    template = "sweep.html.j2" if html else "sweep.md.j2"
    text = environment().get_template(template).render(name=name, entries=entries, status=sweep_status(runs),
                                                       version=__version__, c=comparison, compared=compared)
    if html:
        atomic_write(out, text.encode("utf-8"))
        return [out]
    return write_markdown(out, text, files_dir, images)


def _sweep_comparison(runs: list, html: bool, files_dir: Path, images: dict) -> tuple:
    """The runs of a sweep laid over each other: shared-axis curves and the config keys that differ."""
    readable = [r for r in runs if r.analysis is not None]
    if len(readable) < 2:
        return None, []
    configs = load_configs([Path(r.analysis.run) for r in readable])
    comparison = compare_runs([r.name for r in readable], [r.analysis for r in readable], [r.curves for r in readable],
                              configs, judge=False)
    compared = []
    for plot in comparison.plots:
        images[f"{plot.name}.png"] = plot.png
        compared.append({"plot": plot, "src": data_uri(plot.png) if html else link(files_dir.name,
                                                                                        f"{plot.name}.png")})
    return comparison, compared


def _slug(name: str) -> str:
    return file_slug(name)


def write_summary(analysis: Analysis | dict, out: Path) -> Path:
    """Write the JSON summary (an Analysis, or a sweep's summary dict) atomically."""
    out = Path(out)
    ready_parent(out)
    data = analysis if isinstance(analysis, dict) else analysis.to_summary()
    text = json.dumps(json_safe(data), indent=2, allow_nan=False)
    atomic_write(out, (text + "\n").encode("utf-8"))
    return out


def json_safe(value):
    """The summary as JSON can hold it: NaN and +-Inf as the documented strings ("NaN", "Infinity",
    "-Infinity") wherever they are, numpy scalars as numbers, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def append_github_summary(analyses: list, unreadable: list[tuple[str, str]], path: Path) -> None:
    """Append the compact summary GitHub shows on a workflow's page: status, warnings and errors, key metrics,
    milestones; no image links (the page cannot show files beside it)."""
    text = environment().get_template("summary.md.j2").render(analyses=analyses, unreadable=unreadable)

    def append() -> None:
        try:
            with Path(path).open("a", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise OutputError(f"{path}: cannot append the summary ({exc.strerror}); check --github-summary") from exc

    stage(append, lambda: None)


def write_comparison(runs: list[ComparedRun], out: Path, target: str | None = None) -> list[Path]:
    """The comparison report: which run is better on ``target`` (default: the validation rec loss if every run
    logs it, else rec_loss) and why, the curves, config differences and levels; Markdown with its plots in
    ``<stem>_files/``, or one self-contained HTML file."""
    out = Path(out)
    html = is_html(out)
    parent = ready_parent(out)
    analyses = [r.analysis for r in runs]
    configs = load_configs([Path(r.path) for r in runs])
    comparison = compare_runs([r.name for r in runs], analyses, [r.frame for r in runs], configs, target)
    files_dir = parent / f"{out.stem}_files"
    plots = [{"plot": p, "src": data_uri(p.png) if html else link(files_dir.name, f"{p.name}.png")}
             for p in comparison.plots]
    missing = [r.name for r, c in zip(runs, configs, strict=True) if c is None]
    template = "compare.html.j2" if html else "compare.md.j2"
    text = environment().get_template(template).render(c=comparison, runs=runs, plots=plots, version=__version__,
                                                       configs_missing=missing)
    if html:
        atomic_write(out, text.encode("utf-8"))
        return [out]
    return write_markdown(out, text, files_dir, {f"{p.name}.png": p.png for p in comparison.plots})
