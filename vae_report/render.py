"""Analysis -> Markdown (with a folder of PNGs) or one self-contained HTML file, written atomically."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from ._version import __version__
from .analysis import Analysis
from .compare import ComparedRun, compare_runs, load_configs
from .errors import OutputError
from .frame import file_slug
from .images import choose_images, find_images
from .interactive import block
from .narrative import cite, ok_meaning
from .numbers import fmt, pct, signed_pct
from .outputs import stage
from .plots import Plot, make_plots, overview_plot
from .sweep import sweep_status
from .text import markdown, plain
from .writer import atomic_write, data_uri, is_html, link, ready_parent, write_markdown


def templates_dir() -> Path:
    """``vae_report/templates`` in an installed wheel, the repository's ``templates/`` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "report.md.j2").is_file():
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
    env.filters.update(fmt=fmt, pct=pct, signed_pct=signed_pct, cell=markdown, md=markdown, change=_change,
                       cells=_cells)
    return env


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: object) -> object:
    """Every value as it enters a template, in one place: in Markdown escaped (text from logs, folder names,
    configs and baselines renders as itself; what the view builds as Markdown, such as a link, is Markup), in
    HTML stripped of control characters (then HTML-escaped by autoescape)."""
    if isinstance(value, Markup) or value is None:
        return value
    if (context.name or "").endswith(".md.j2"):
        return markdown(value)
    return plain(value) if isinstance(value, str) else value


def _cells(values) -> Markup:
    """A table row's cells, each escaped, joined by column breaks."""
    return Markup(" | ").join(markdown(v) for v in values)


def _change(stats) -> str:
    """A change as the report writes it (a statistics row, or a weekly delta's dict): a percentage where one
    means something (``change_fraction`` is None across a sign change and for signed quantities), else the
    difference."""
    get = stats.get if isinstance(stats, dict) else lambda key: getattr(stats, key)
    fraction, change = get("change_fraction"), get("change")
    if fraction is not None:
        return signed_pct(fraction)
    if change is None:
        return "—"
    return ("+" if change > 0 else "") + fmt(change)


def _context(analysis: Analysis, plots: list[Plot], image_src, samples=(), sample_src=None,
             interactive: str | None = None) -> dict:
    return {
        "a": analysis,
        "name": Path(analysis.run).name or analysis.run,
        "plots": [{"plot": p, "src": image_src(p)} for p in plots],
        "samples": [{"shown": s, "src": sample_src(i, s)} for i, s in enumerate(samples)],
        "interactive": interactive,
        "by_metric": _findings_by_metric(analysis),
        "ok_meaning": ok_meaning(analysis),
        "version": __version__,
        "config_keys": config_keys(analysis.schedule),
    }


def config_keys(schedule) -> list[str]:
    """The schedule values the configuration table shows, in order: the regularizer's weight that this model has,
    and val_every only when the config runs validation."""
    keys = ["disc_start", "kl_weight", "codebook_weight", "disc_weight", "disc_factor", "total_steps", "lr", "min_lr",
            "log_every", "checkpoint_every", "val_every"]
    skip = {"codebook_weight" if schedule.regularizer != "vq" else "kl_weight"}
    if schedule.val_every is None:
        skip.add("val_every")
    return [key for key in keys if key not in skip]


def reconstructions(analysis: Analysis) -> list:
    """The reconstruction grids the report shows: the latest, and the last before / first after disc_start."""
    # the scalar reader already walked every event file: only those where it met non-scalar tags hold images
    scalar_only = {src.path for src in analysis.sources
                   if src.kind == "tensorboard" and not any("non-scalar" in n for n in src.notes)}
    try:
        refs = find_images(Path(analysis.run), analysis.schedule.checkpoint_every, scalar_only)
    except OSError:
        return []
    return choose_images(refs, analysis.schedule.disc_start)


def _sample_name(index: int, shown) -> str:
    return f"reconstruction_{index}{shown.suffix}"


def _findings_by_metric(analysis: Analysis) -> dict[str, list]:
    """The findings on each metric, for its section and its plot: a warning or an error is said once, in the
    findings list, so here it is pointed to (an ok or info finding is the section's detail)."""
    out: dict[str, list] = {}
    for finding in analysis.active_findings():
        if finding.metric:
            loud = finding.severity in ("warning", "error")
            out.setdefault(finding.metric, []).append(replace(finding, message=cite(finding)) if loud else finding)
    return out


def render_markdown(analysis: Analysis, plots: list[Plot], files_dir_name: str, samples=()) -> str:
    return environment().get_template("report.md.j2").render(
        **_context(analysis, plots, lambda p: link(files_dir_name, f"{p.name}.png"), samples,
                   lambda i, s: link(files_dir_name, _sample_name(i, s))))


def render_html(analysis: Analysis, plots: list[Plot], samples=(), interactive: str | None = None) -> str:
    """One self-contained page: plots embedded as data URIs, no external resource; no script unless
    ``interactive`` (zoomable charts, their script embedded) is given."""
    return environment().get_template("report.html.j2").render(
        **_context(analysis, plots, lambda p: data_uri(p.png), samples, lambda i, s: data_uri(s.data, s.mime),
                   interactive))


def write_report(analysis: Analysis, out: Path, interactive: bool = False) -> list[Path]:
    """Write the report (``.md`` plus ``<stem>_files/``, or one ``.html``; ``interactive``: zoomable charts in
    the HTML); nothing is left half-written."""
    out = Path(out)
    html = is_html(out)
    if interactive and not html:
        raise OutputError(f"{out}: --interactive makes an HTML report; end --out with .html")
    try:
        parent = ready_parent(out)
    except BaseException:
        if analysis.plots_in_flight is not None:
            analysis.plots_in_flight.close()
        raise
    if analysis.plots_in_flight is not None:  # started by analyze_run(draw_plots=True), with the same baseline
        plots, analysis.plots_in_flight = analysis.plots_in_flight.result(), None
    else:
        plots = make_plots(analysis.frame, analysis.schedule, (analysis.since_baseline or {}).get("step_then"))
    samples = reconstructions(analysis)
    if html:
        charts = None
        if interactive:
            charts = block(analysis.frame, analysis.schedule)
        atomic_write(out, render_html(analysis, plots, samples, charts).encode("utf-8"))
        return [out]
    files_dir = parent / f"{out.stem}_files"
    text = render_markdown(analysis, plots, files_dir.name, samples)
    images = {f"{plot.name}.png": plot.png for plot in plots}
    images.update({_sample_name(i, s): s.data for i, s in enumerate(samples)})
    return write_markdown(out, text, files_dir, images)


def write_sweep_report(runs: list, out: Path, name: str) -> list[Path]:
    """One report for a sweep: a table of runs, then a section per run with its overview plot."""
    out = Path(out)
    html = is_html(out)
    parent = ready_parent(out)
    files_dir = parent / f"{out.stem}_files"
    entries = []
    images: dict[str, bytes] = {}
    for run in runs:
        png = _overview_png(run.analysis, overview_plot)
        if png is not None:
            key = f"{_slug(run.name)}_overview.png"
            images[key] = png
            src = data_uri(png) if html else link(files_dir.name, key)
        else:
            src = None
        entries.append({"run": run, "a": run.analysis, "overview": src,
                        "by_metric": _findings_by_metric(run.analysis) if run.analysis else {}})
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
    comparison = compare_runs([r.name for r in readable], [r.analysis for r in readable], configs, judge=False)
    compared = []
    for plot in comparison.plots:
        images[f"{plot.name}.png"] = plot.png
        compared.append({"plot": plot, "src": data_uri(plot.png) if html else link(files_dir.name,
                                                                                        f"{plot.name}.png")})
    return comparison, compared


def _overview_png(analysis, overview_plot) -> bytes | None:
    """A sweep run's overview: drawn by the worker that analyzed it, or here from its frame."""
    if analysis is None:
        return None
    if getattr(analysis, "overview_png", None) is not None:
        return analysis.overview_png
    if analysis.frame is None:
        return None
    plot = overview_plot(analysis.frame, analysis.schedule)
    return None if plot is None else plot.png


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
    comparison = compare_runs([r.name for r in runs], analyses, configs, target)
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
