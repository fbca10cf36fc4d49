"""A report's view -> Markdown (with a folder of images) or one self-contained HTML file, written atomically.
The views are built in report_view.py (a run) and views.py (sweep, comparison, CI summary); the templates in
``templates/`` only print them."""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from .analysis import Analysis, AnalyzedRun
from .compare import ComparedRun, compare_runs, load_configs
from .errors import OutputError
from .figures import Figures, draw
from .outputs import check_outputs, files_dir, sealed, stage
from .report_view import report_view
from .sweep import sweep_status
from .text import ICONS, html_spans, markdown, markdown_spans, plain
from .view import ReportView
from .views import comparison_view, overlay_files, overview_name, summary_sections, sweep_view
from .writer import append_text, atomic_write, data_uri, is_html, link, ready_parent, write_markdown


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
    env.filters.update(md=_md, md_plain=markdown, html=html_spans)
    env.globals.update(icons=ICONS)
    return env


def _md(value) -> Markup:
    """A view's Text (spans) or a plain value, as inert Markdown."""
    return markdown_spans(value) if isinstance(value, tuple) else markdown(value)


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: object) -> object:
    """Every value as it enters a template: the Markdown printers pass each text through its filter (``md``:
    escaped, inert), so only our own literals arrive bare; in HTML a bare value (a title, a column name) is
    stripped of control characters, then HTML-escaped by autoescape."""
    if isinstance(value, Markup) or value is None or (context.name or "").endswith(".md.j2"):
        return value
    return plain(value) if isinstance(value, str) else value


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


def guard(out: Path, runs: list, name: str = "out", markdown: bool = False) -> None:
    """The checks the command line makes, for a library call too (``write_report(run, "run/notes.md")``): an
    output is never an input, nor a file inside a run folder that we did not write, nor a file of the user's
    anywhere (OutputError naming it)."""
    for run in runs:
        if run:
            check_outputs(Path(run), [Path(run)], {name: Path(out)}, markdown=markdown)


def write_view(view: ReportView, out: Path, files: dict[str, tuple[bytes, str]], runs: list | tuple = ()) -> list[Path]:
    """Any report's view to disk: one self-contained ``.html``, or a ``.md`` with its images in
    ``<stem>_files/``; nothing is left half-written, nothing of the user's replaced (``runs``: the run folders
    the report was read from)."""
    out = Path(out)
    guard(out, list(runs), markdown=not is_html(out))
    ready_parent(out)
    if is_html(out):
        atomic_write(out, sealed(html_page(view, files)))
        return [out]
    folder = files_dir(out)
    return write_markdown(out, markdown_page(view, folder.name), folder,
                          {name: data for name, (data, _) in files.items()})


def write_report(run: AnalyzedRun | Analysis, out: Path, interactive: bool = False) -> list[Path]:
    """Write a run's report (``.md`` plus ``<stem>_files/``, or one ``.html``; ``interactive``: zoomable charts in
    the HTML). An ``AnalyzedRun`` (``examine_run``) brings the frame its figures are drawn from; an ``Analysis``
    alone makes a report of text and tables."""
    out = Path(out)
    try:  # the output is checked before the figures are waited for; the drawing processes end either way
        if interactive and not is_html(out):
            raise OutputError(f"{out}: --interactive makes an HTML report; end --out with .html")
        if isinstance(run, Analysis):
            analysis, figures = run, Figures(drawn=False)
        else:
            guard(out, [run.analysis.run], markdown=not is_html(out))
            ready_parent(out)
            analysis, figures = run.analysis, draw(run, interactive)
    finally:
        if isinstance(run, AnalyzedRun):
            run.close()
    return write_view(report_view(analysis, figures), out, figures.files, [analysis.run])


def write_sweep_report(runs: list, out: Path, name: str) -> list[Path]:
    """One report for a sweep: a table of runs, the runs compared, then a section per run with its overview."""
    files = {overview_name(r.name): (r.overview, "image/png") for r in runs if r.overview is not None}
    readable = [r for r in runs if r.analysis is not None]
    comparison = None
    if len(readable) >= 2:  # the runs laid over each other: shared-axis curves and the config keys that differ
        configs = load_configs([Path(r.analysis.run) for r in readable])
        comparison = compare_runs([r.name for r in readable], [r.analysis for r in readable],
                                  [r.curves for r in readable], configs, judge=False)
        files.update(overlay_files(comparison.plots))
    return write_view(sweep_view(name, runs, sweep_status(runs), comparison), out, files,
                      [r.analysis.run for r in readable])


def write_summary(analysis: Analysis | dict, out: Path) -> Path:
    """Write the JSON summary (an Analysis, or a sweep's summary dict) atomically."""
    out = Path(out)
    runs = [analysis.run] if isinstance(analysis, Analysis) else [r.get("run") for r in analysis.get("runs", [])
                                                                  if isinstance(r, dict)]
    guard(out, runs, "json")
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
    text = environment().get_template("summary.md.j2").render(sections=summary_sections(analyses, unreadable))
    stage(lambda: append_text(Path(path), text), lambda: None, first=True)


def write_comparison(runs: list[ComparedRun], out: Path, target: str | None = None) -> list[Path]:
    """The comparison report: which run is better on ``target`` (default: the validation rec loss if every run
    logs it, else rec_loss) and why, the curves, config differences and levels; Markdown with its plots in
    ``<stem>_files/``, or one self-contained HTML file."""
    configs = load_configs([Path(r.path) for r in runs])
    comparison = compare_runs([r.name for r in runs], [r.analysis for r in runs], [r.frame for r in runs], configs,
                              target)
    return write_view(comparison_view(comparison, runs, comparison.configs_missing), out,
                      overlay_files(comparison.plots),
                      [r.path for r in runs])
