"""The command line: parse options, call the library, map errors to exit codes.

Exit codes: 0 report written and no finding at or above --fail-on; 1 report written and such a finding exists;
2 bad input or usage (one line on stderr, nothing half-written); 3 an internal error (a bug: please report it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import signal
import sys
import time
import warnings
from enum import Enum
from pathlib import Path

import typer

from .errors import InputError, OutputError, VaeReportError
from .inputs import check_option_file
from .numbers import counted
from .outputs import check_outputs, committed
from .writer import is_html

# The analysis (pandas, matplotlib, numpy) is imported inside the commands that use it: ``--help`` and a usage
# error answer without loading it.

MAX_JOBS = 256  # worker processes at most: more than any machine's cores is a typo, not a request

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_show_locals=False,
    help="Status reports for VAE-GAN training runs, checked against the run's own schedule.",
)


class FailOn(str, Enum):
    never = "never"
    warning = "warning"
    error = "error"


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"vae-report: error: {_short(message)}", err=True)
    raise typer.Exit(code)


@app.command()
def analyze(
    run_dir: Path = typer.Argument(..., help="The run's results folder (or one log file)."),
    out: Path = typer.Option(Path("report.md"), "--out", "-o", help="Report: .md (plots in <name>_files/) or .html."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the machine-readable summary here."),
    config: Path | None = typer.Option(None, "--config", help="Training config (default: found in the run)."),
    disc_start: int | None = typer.Option(None, "--disc-start", help="Override the config's disc_start."),
    kl_weight: float | None = typer.Option(None, "--kl-weight", help="Override the config's kl_weight."),
    total_steps: int | None = typer.Option(None, "--total-steps", help="Override the total number of steps."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Lightning's trainer.max_steps: a total in "
                                          "the trainer's global steps, converted where the logs count fewer."),
    thresholds: Path | None = typer.Option(None, "--thresholds", help="YAML {rule id: {threshold: value}}."),
    now: str | None = typer.Option(None, "--now", help="Clock for the liveness check: 'now' or an ISO time."),
    baseline: Path | None = typer.Option(None, "--baseline", help="Last --json summary: adds what changed."),
    fail_on: FailOn = typer.Option(FailOn.never, "--fail-on", help="Exit 1 when a finding is at or above this."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success."),
    interactive: bool = typer.Option(False, "--interactive", help="HTML only: zoomable charts (embedded plotly)."),
    github_summary: Path | None = typer.Option(None, "--github-summary",
                                               help="Also append a compact Markdown summary (no images) here; "
                                                    "default: $GITHUB_STEP_SUMMARY when set."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, max=MAX_JOBS,
                             help="Runs analyzed at once in a sweep, up to 256 (0, the default: the cores)."),
    run: str | None = typer.Option(None, "--run", help="An MLflow store's run to analyze (name or id)."),
    text_pattern: str | None = typer.Option(None, "--text-pattern",
                                            help="Regex of a text log's step lines: a (?P<step>...) group, other "
                                                 "named groups or key: value pairs are the metrics."),
    goal: list[str] = typer.Option([], "--goal", help="METRIC=LEVEL (repeatable): forecast the step it is reached, "
                                                     "such as rec_loss=0.01."),
    ended: str | None = typer.Option(None, "--ended", help="The run ended before its schedule, and why (the "
                                                         "in-loop reporters pass the error a fit raised)."),
) -> None:
    """Read a run's logs, check them against its schedule, and write the report."""
    # an error about the step summary names what gave its path: the option, or GitHub's variable
    summary_name = "--github-summary" if github_summary is not None else "$GITHUB_STEP_SUMMARY"
    github_summary = github_summary or _github_step_summary()
    try:
        _check_option_values(kl_weight, total_steps, disc_start, max_steps)
        clock, text_pattern = _parse_now(now), _check_pattern(text_pattern)  # the options first, then the paths
        if interactive and not is_html(out):
            raise OutputError(f"{out}: --interactive makes an HTML report; end --out with .html")
        _check_run_path(run_dir)
        _check_option_files({"--config": config, "--thresholds": thresholds, "--baseline": baseline})
        from .analysis import examine_run
        from .forecast import parse_goals
        from .render import append_github_summary, write_report, write_summary, write_sweep_report
        from .sweep import analyze_sweep, find_runs, sweep_summary

        _quiet_numerics()
        check_outputs(run_dir, [run_dir, config, baseline, thresholds],
                      {"--out": out, "--json": json_out, summary_name: github_summary},
                      markdown=not is_html(out), appended=(summary_name,))
        limits = _load_thresholds(thresholds) if thresholds else None
        options = dict(config=config, thresholds=limits, now=clock, disc_start=disc_start, kl_weight=kl_weight,
                       total_steps=total_steps, max_steps=max_steps, text_pattern=text_pattern,
                       goals=parse_goals(goal), ended=" ".join(ended.split())[:300] if ended else None)
        runs = None if run else find_runs(run_dir)
        with committed():  # the report, its JSON and the step summary appear together or not at all
            if runs is not None:
                results = analyze_sweep(runs, baseline=baseline, jobs=jobs or None, **options)
                summary = sweep_summary(results)
                write_sweep_report(results, out, run_dir.resolve().name)
                if json_out is not None:
                    write_summary(summary, json_out)
                analyses = [r.analysis for r in results if r.analysis is not None]
                unreadable = sum(r.analysis is None for r in results)
                headline = f"{len(results)} runs, status {summary['status']}"
            else:
                examined = examine_run(run_dir, baseline=baseline, run=run, draw_plots=True, **options)
                write_report(examined, out, interactive=interactive)
                analysis = examined.analysis
                if json_out is not None:
                    write_summary(analysis, json_out)
                analyses, unreadable = [analysis], 0
                headline = f"status {analysis.status}, {position(analysis)}"
            if github_summary is not None:
                append_github_summary(analyses, [(r.name, r.error) for r in results if r.analysis is None]
                                      if runs is not None else [], github_summary)
    except VaeReportError as exc:
        _fail(str(exc), exc.exit_code)
    except Exception as exc:  # a bug of ours: one line, not a traceback with locals
        _fail(f"internal error while analyzing {run_dir}: {type(exc).__name__}: {_short(exc)} (please report this)", 3)
    _gate(analyses, unreadable, fail_on, quiet, f"{out}: {headline}")



def position(analysis) -> str:
    """Where the run is, for the one-line summary: the report's status line says it (a finished run's last
    logged step is not "100%" of a total it falls short of), with "finished" beside it."""
    from .view import status_parts

    where = status_parts(analysis, confidence=False)[0]
    return f"{where}, finished" if analysis.finished else where


def _gate(analyses: list, unreadable: int, fail_on: FailOn, quiet: bool, headline: str) -> None:
    """Print the headline (unless --quiet) and exit 1 when a finding is at or above --fail-on; a failing gate
    always says why, one line per finding on stderr, even with --quiet."""
    from . import position as pos

    findings = [f for a in analyses for f in a.active_findings()]
    counts = {sev: sum(1 for f in findings if f.severity == sev) for sev in ("warning", "error")}
    if not quiet:
        typer.echo(_short(f"{headline}, {counted(counts['warning'], 'warning')}, "
                          f"{counted(counts['error'] + unreadable, 'error')}",
                          2000))
    threshold = {"never": None, "warning": ("warning", "error"), "error": ("error",)}[fail_on.value]
    failing = [f for f in findings if threshold and f.severity in threshold]
    if threshold and (unreadable or failing):
        for f in failing:
            where = f" at {pos.at(f.unit, f.step)}" if f.step is not None else ""
            typer.echo(f"vae-report: {f.severity}: {f.rule}{where}: {_short(f.message, 300)}", err=True)
        if unreadable:
            typer.echo(f"vae-report: error: {counted(unreadable, 'run')} could not be read (see the report)", err=True)
        raise typer.Exit(1)


def _short(text: object, limit: int = 500) -> str:
    """One line of bounded length: an error never repeats a huge value."""
    from .text import plain

    line = " ".join(plain(text).split())  # no control or escape character from a log or a folder name
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _github_step_summary() -> Path | None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    return Path(path) if path else None


def _check_run_path(path: Path) -> None:
    """A run is a folder or one log file; a device or a pipe given as one is said as such (a missing folder is
    the reader's to say: watch waits for it)."""
    if path.exists() and not path.is_dir() and not path.is_file():
        raise InputError(f"{path}: not a folder or a log file (a device, a pipe or a socket); pass the folder the "
                         "trainer writes to, or one of its log files")


def _check_option_files(files: dict[str, Path | None]) -> None:
    """The option files the user named, before anything is read: regular, readable, of an option file's size."""
    for option, path in files.items():
        if path is not None:
            check_option_file(path, option)


def _quiet_numerics() -> None:
    """Overflow in a diverged run's 1e308 values is handled where it matters; stderr keeps to one line."""
    import numpy as np

    np.seterr(all="ignore")
    warnings.filterwarnings("ignore", category=RuntimeWarning)


def _check_option_values(kl_weight: float | None, total_steps: int | None, disc_start: int | None,
                         max_steps: int | None = None) -> None:
    if kl_weight is not None and not (math.isfinite(kl_weight) and kl_weight >= 0):
        raise InputError(f"--kl-weight {kl_weight}: must be a finite number >= 0, such as 1e-06")
    if total_steps is not None and total_steps <= 0:
        raise InputError(f"--total-steps {total_steps}: must be a positive number of steps, such as 150000")
    if disc_start is not None and disc_start < 0:
        raise InputError(f"--disc-start {disc_start}: must be a step >= 0, such as 50001")
    if max_steps is not None and max_steps <= 0:
        raise InputError(f"--max-steps {max_steps}: must be a positive number of steps, such as 150000")
    if max_steps is not None and total_steps is not None:
        raise InputError("--max-steps and --total-steps both give the total: pass one (--max-steps for Lightning's "
                         "trainer.max_steps, in its global steps)")


def _check_pattern(pattern: str | None) -> str | None:
    from .readers.pattern import UserPattern

    if pattern is None:
        return None
    if "step" not in UserPattern(pattern).groupindex:
        raise InputError("--text-pattern: needs a named group for the step, such as (?P<step>\\d+)")
    return pattern


def _check_shared_config(config: Path) -> None:
    """The --config compare gives every run: readable, a mapping, its values well typed (ConfigError)."""
    from .schedule import load_config, schedule_from_config

    schedule_from_config(load_config(config, given=True), str(config), given=True)


def _load_thresholds(path: Path) -> dict:
    from .rules import check_thresholds
    from .schedule import load_config

    # a YAML mapping, validated against the rule registry here, where its errors can name the file
    return check_thresholds(load_config(path, given=True, option="--thresholds"), f"{path} (--thresholds)")


def _parse_now(text: str | None) -> float | None:
    if text is None:
        return None
    if text == "now":
        return time.time()
    try:
        moment = dt.datetime.fromisoformat(text)
        stamp = moment.timestamp()  # a time without a zone is local time
    except (ValueError, OverflowError, OSError):
        raise InputError(f"--now {text[:40]!r}: not a time; give 'now' or ISO 8601 such as 2026-11-24T09:30") from None
    if not 0 < stamp < 7.3e9:  # 1970 to 2200: a clock for logs, not a date in antiquity
        raise InputError(f"--now {text[:40]!r}: not a plausible clock for training logs; give 'now' or a recent "
                         "ISO 8601 time")
    return stamp


@app.command()
def watch(
    run_dir: Path = typer.Argument(..., help="The run's results folder, being written by a training run."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="Report: .md or .html, rewritten each pass."),
    every: str = typer.Option("5m", "--every", help="Interval between passes: 5m, 30s, 2h or seconds."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the summary here each pass."),
    config: Path | None = typer.Option(None, "--config", help="Training config (default: found in the run)."),
    disc_start: int | None = typer.Option(None, "--disc-start", help="Override the config's disc_start."),
    kl_weight: float | None = typer.Option(None, "--kl-weight", help="Override the config's kl_weight."),
    total_steps: int | None = typer.Option(None, "--total-steps", help="Override the total number of steps."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Lightning's trainer.max_steps: a total in "
                                          "the trainer's global steps, converted where the logs count fewer."),
    thresholds: Path | None = typer.Option(None, "--thresholds", help="YAML {rule id: {threshold: value}}."),
    fail_on: FailOn = typer.Option(FailOn.never, "--fail-on", help="Stop with exit 1 when a finding is at or "
                                                                    "above this."),
    max_passes: int | None = typer.Option(None, "--max-passes", min=1, help="Stop after this many passes."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but failures."),
    text_pattern: str | None = typer.Option(None, "--text-pattern", help="Regex of a text log's step lines."),
    goal: list[str] = typer.Option([], "--goal", help="METRIC=LEVEL (repeatable): forecast the step it is reached, "
                                                     "such as rec_loss=0.01."),
) -> None:
    """Re-analyze a run as its logs grow, reading only what was appended; Ctrl-C stops (exit 0)."""
    try:
        from .forecast import parse_goals
        from .watch import Watcher, parse_interval, watch_loop

        _quiet_numerics()
        interval = parse_interval(every)
        _check_option_values(kl_weight, total_steps, disc_start, max_steps)
        _check_run_path(run_dir)
        _check_option_files({"--config": config, "--thresholds": thresholds})
        watcher = Watcher(run_dir, out, json_out, [config, thresholds], config=config, disc_start=disc_start,
                          kl_weight=kl_weight, total_steps=total_steps, max_steps=max_steps,
                          text_pattern=_check_pattern(text_pattern),
                          goals=parse_goals(goal))
        watcher.check_outputs()  # before the first pass too: a bad path is said at once, not after a wait
        watcher.options["thresholds"] = _load_thresholds(thresholds) if thresholds else None

        def on_pass(analysis) -> None:
            _gate([analysis], 0, fail_on, quiet, f"{out}: pass {watcher.passes}, status {analysis.status}, "
                                                 f"{position(analysis)}")

        def on_wait(reason: str) -> None:
            if not quiet:
                typer.echo(f"waiting for logs: {_short(reason, 200)}")

        passes = watch_loop(watcher, interval, max_passes, on_pass, on_wait)
    except typer.Exit:
        raise  # --fail-on tripped (exit 1)
    except KeyboardInterrupt:
        if not quiet:
            typer.echo("watch stopped")
        raise typer.Exit(0) from None
    except VaeReportError as exc:
        _fail(str(exc), exc.exit_code)
    except Exception as exc:  # a bug of ours: one line, not a traceback with locals
        _fail(f"internal error while watching {run_dir}: {type(exc).__name__}: {_short(exc)} (please report this)", 3)
    if not quiet:
        typer.echo(f"watch ended after {counted(max_passes, 'pass', 'passes')}, {counted(passes, 'report')} written")


@app.command()
def compare(
    runs: list[str] = typer.Argument(..., help="Runs to compare: PATH or NAME=PATH (two or more)."),
    out: Path = typer.Option(Path("compare.md"), "--out", "-o", help="Report: .md (plots in <name>_files/) or .html."),
    config: Path | None = typer.Option(None, "--config", help="One training config for every run."),
    target: str | None = typer.Option(None, "--target", help="The metric that decides which run is better "
                                      "(default: val/rec_loss if every run logs it, else rec_loss)."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, max=MAX_JOBS,
                             help="Runs analyzed at once, up to 256 (0, the default: the cores)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success."),
) -> None:
    """Which run is better on a target at matched steps, and why; shared-axis plots, config differences, current
    levels, each run's findings."""
    try:
        from .compare import analyze_runs, parse_run_argument
        from .render import write_comparison

        _quiet_numerics()
        if len(runs) < 2:
            raise VaeReportError("compare needs two or more runs (PATH or NAME=PATH)")
        paths = [parse_run_argument(r)[1] for r in runs]
        for path in paths:  # a mistyped path is a usage error, not a run to list as unreadable
            if not path.exists() and not path.is_symlink():
                raise InputError(f"{path}: no such run folder or file; check the path")
            _check_run_path(path)
        check_outputs(paths[0], [*paths, config], {"--out": out}, markdown=not is_html(out))
        for path in paths[1:]:
            check_outputs(path, [path], {"--out": out}, markdown=not is_html(out))
        if config is not None:  # shared by every run: a bad one is the user's one mistake, said once
            _check_shared_config(config)
        compared = analyze_runs(runs, jobs=jobs or None, config=config)
        readable = [r for r in compared if r.analysis is not None]
        if len(readable) < 2:
            reasons = "; ".join(f"{r.name}: {r.error}" for r in compared if r.analysis is None)
            raise InputError(f"fewer than two of the runs could be read, nothing to compare ({reasons})")
        with committed():
            write_comparison(compared, out, target)
    except VaeReportError as exc:
        _fail(str(exc), exc.exit_code)
    except Exception as exc:  # a bug of ours: one line, not a traceback with locals
        _fail(f"internal error while comparing: {type(exc).__name__}: {_short(exc)} (please report this)", 3)
    if not quiet:
        statuses = ", ".join(f"{r.name} {r.analysis.status if r.analysis else 'unreadable'}" for r in compared)
        typer.echo(_short(f"{out}: {len(compared)} runs compared ({statuses})", 2000))


@app.command()
def train(
    config: Path = typer.Argument(..., help="Trainer config (YAML, RadioDiff layout)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to write logs and checkpoints to."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Stop after this many steps."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint in --out."),
) -> None:
    """Train the bundled VAE-GAN (needs torch: pip install torch==2.13.0)."""
    try:
        check_option_file(config, "trainer config")
    except VaeReportError as exc:
        _fail(str(exc), exc.exit_code)
    try:
        from trainer.main import run_training
    except ImportError as exc:
        _fail(f"the trainer needs torch ({exc}); install it with: pip install torch==2.13.0")
    from trainer.main import Interrupted

    try:
        run_training(config, out, max_steps=max_steps, resume=resume)
    except VaeReportError as exc:
        _fail(str(exc), exc.exit_code)
    except Interrupted as exc:  # the step and the checkpoint are already said on stderr
        raise typer.Exit(exc.exit_code) from None


def _click_classes(name: str) -> tuple[type, ...]:
    """A click exception class, from the copy typer vendors (typer >= 0.20) and from click itself when typer
    uses it (older typer): never an import of click, which a plain install of a recent typer lacks."""
    click = sys.modules.get("click")
    modules = [getattr(getattr(typer, "_click", None), "exceptions", None), getattr(click, "exceptions", None)]
    return tuple(c for c in (getattr(m, name, None) for m in modules if m is not None) if isinstance(c, type))


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # as Ctrl-C: staged outputs are removed on the way out


def main() -> None:
    """The console script: usage errors as one line naming the option (not a box), exit 2."""
    signal.signal(signal.SIGTERM, _terminated)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # Ctrl-C as KeyboardInterrupt again (see entry.py)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if len(sys.argv) <= 1:  # no command: the help as a usage error, on stderr (typer's rich help prints itself
        # on stdout, while the error it raises is built)
        with contextlib.redirect_stdout(sys.stderr):
            app(["--help"], standalone_mode=False, prog_name="vae-report")
        sys.exit(2)
    try:
        code = app(standalone_mode=False, prog_name="vae-report")
    except _click_classes("NoArgsIsHelpError") as exc:  # a command is missing: the help, as a usage error
        typer.echo(str(exc), err=True)
        sys.exit(2)
    except _click_classes("UsageError") as exc:
        param = getattr(exc, "param", None)
        names = list(getattr(param, "opts", None) or []) if param is not None else []
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if names and not any(name in message for name in names):
            message = f"{'/'.join(names)}: {message}"
        command = getattr(getattr(getattr(exc, "ctx", None), "command", None), "name", None)
        hint = f" (see: vae-report {command} --help)" if command else ""
        typer.echo(f"vae-report: error: {_short(message)}{hint}", err=True)
        sys.exit(2)
    except (*_click_classes("Abort"), KeyboardInterrupt):
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
