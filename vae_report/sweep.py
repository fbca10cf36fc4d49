"""A folder of runs (a sweep): one report with a table of runs and a section per run.

A folder is a sweep when it holds no logs of its own and at least two sub-folders that each hold a run,
recognised by its own training config or RadioDiff text log, or (sub-folders of event files without a config,
``BN_0.01/``, ``no_BN_0.05/``) by their data: each starts at the beginning and logs other values on the same
steps. (Lightning's ``version_N`` folders are judged by versions.py: loggers of one run, resumes, attempts.)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analysis import Analysis, examine_run
from .baseline import compare, load_baseline
from .compare import thin_frame
from .errors import InputError, VaeReportError
from .parallel import map_in_processes
from .plots import overview_plot
from .readers import discover, leads_inside, mlflow
from .schedule import find_config
from .versions import attempts, same_values, summarize


@dataclass
class SweepRun:
    name: str
    analysis: Analysis | None
    error: str | None = None
    overview: bytes | None = field(default=None, repr=False)  # its overview plot, drawn by the worker
    curves: Any = field(default=None, repr=False)  # its frame thinned for the overlaid curves: not every point


@dataclass
class Sweep:
    """The analyzed runs of a sweep (iterated, indexed and counted as its runs) and, against the last report's
    summary (``--baseline``), the runs that are new since it and those it had that are no longer here."""

    runs: list[SweepRun]
    new: tuple[str, ...] = ()
    gone: tuple[tuple[str, int, str], ...] = ()  # (name, its step in the last report, what its steps count)

    def __iter__(self):
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, index):
        return self.runs[index]

    def since_said(self) -> str | None:
        """The sweep's own change since the last report, in one sentence; None without a baseline or a change."""
        parts = []
        if self.new:
            parts.append(f"new since the last report: {', '.join(self.new)}")
        if self.gone:
            parts.append("in the last report but no longer in this folder: "
                         + ", ".join(f"{name} (then at {unit} {step:,})" for name, step, unit in self.gone))
        said = "; ".join(parts)
        return said[0].upper() + said[1:] + "." if parts else None


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a folder, or (Lightning versions) some version folders of one root."""

    name: str
    path: Path
    include: tuple[Path, ...] | None = None
    store_run: str | None = None  # one run of an MLflow store holding several


def find_runs(root: Path) -> list[RunSpec] | None:
    """The runs of a sweep, or None if ``root`` is a single run. A folder of Lightning versions holding several
    attempts (each starting over from step 0) is a sweep of attempts, newest first."""
    root = Path(root)
    if not root.is_dir():
        return None
    stored = _store_runs(root)
    if stored is not None:
        return stored
    found = attempts(root)
    if found is not None and len(found) >= 2:
        return [RunSpec(a.name, root, tuple(a.folders)) for a in reversed(found)]
    if found is not None:
        return None  # one run, logged by several versions (loggers, resumes)
    logs = (".csv", ".tsv", ".log", ".jsonl")
    if any(p.is_file() and ("tfevents" in p.name or p.suffix in logs) for p in root.iterdir()):
        return None
    runs, bare, without_logs = [], False, []
    inside = [os.path.realpath(root)]
    for child in sorted(p for p in root.iterdir() if p.is_dir() and not (p.is_symlink()
                                                                        and not leads_inside(str(p), inside))):
        found = discover(child)
        if not any(found.values()):
            if find_config(child) is not None:
                without_logs.append(RunSpec(child.name, child))
            continue
        bare = bare or (find_config(child) is None and not found["text log"])
        runs.append(RunSpec(child.name, child))
    if len(runs) < 2 or (bare and not separate_runs([r.path for r in runs])):
        return None  # folders of logs without their own config, parts of one run
    # a run of the sweep with its config but no log yet (crashed before logging): listed as unreadable
    return sorted(runs + without_logs, key=lambda r: r.name)


_SPLIT_FOLDERS = {"train", "training", "val", "valid", "validation", "eval", "test"}


def separate_runs(folders: list[Path]) -> bool:
    """Sibling folders of logs without configs (``BN_0.01/``, ``no_BN_0.05/``) are separate runs when each
    starts at the beginning, their steps overlap, and they log the same metric with other values: a restart
    would start late, two loggers of one run agree, and parts of one run (Keras' ``train/`` and
    ``validation/``) log different things or are named as splits."""
    if any(f.name.lower() in _SPLIT_FOLDERS for f in folders):
        return False
    summaries = [summarize(f, f) for f in folders]
    if any(s is None for s in summaries):
        return False
    if any(s.first_step > 0.02 * max(s.last_step, 1) for s in summaries):
        return False  # one starts late: a resume or a later part of one run
    if max(s.first_step for s in summaries) >= min(s.last_step for s in summaries):
        return False  # one after the other: pieces of one run's steps
    first = summaries[0]
    return all(same_values(first, other) is False for other in summaries[1:])


def _store_runs(root: Path) -> list[RunSpec] | None:
    """The runs of an MLflow store (a database or mlruns/) holding several, or of several W&B run files."""
    stores = [p for p in [root, *root.rglob("mlruns")] if mlflow.is_file_store(p)]
    stores += [p for p in root.rglob("*.db") if mlflow.is_database(p)]
    for store in stores:
        runs = mlflow.list_runs(store)  # names only: each run's metrics are read once, by its analysis
        if len(runs) >= 2:
            return [RunSpec(name, root, None, run_id) for run_id, name in runs]
    wandb_runs = sorted({p.resolve() for p in root.rglob("*.wandb")})
    if len(wandb_runs) >= 2:
        return [RunSpec(p.parent.name, root, (p.parent,)) for p in wandb_runs]
    return None


def analyze_sweep(runs: list[RunSpec], baseline: Path | None = None, jobs: int | None = None,
                  **options: Any) -> Sweep:
    """Analyze each run, ``jobs`` at a time in worker processes (default: the machine's cores); a run that
    cannot be read is reported as such, not fatal to the sweep. A previous sweep summary as ``baseline`` is
    matched to the runs by name. Each worker returns its run's overview plot instead of its metric frame, so
    memory stays bounded by the runs in flight."""
    previous = _previous_runs(load_baseline(Path(baseline)), baseline, runs) if baseline else {}
    options = {"report_clock": time.time()} | options  # one report, one clock for every run's ETA dating
    out = map_in_processes(_analyze_one, [(run, options) for run in runs], jobs, label="analyzing runs")
    for result in out:
        if result.analysis is not None and result.name in previous:
            result.analysis.since_baseline = compare(result.analysis.to_summary(), previous[result.name], baseline)
    if not baseline:
        return Sweep(out)
    names = {run.name for run in runs}
    return Sweep(out, tuple(run.name for run in runs if run.name not in previous),
                 tuple((name, then["step"], (then.get("schedule") or {}).get("counts") or "step")
                       for name, then in previous.items() if name not in names))


def _analyze_one(job: tuple[RunSpec, dict]) -> SweepRun:
    run, options = job
    include = list(run.include) if run.include else None
    try:
        examined = examine_run(run.path, include=include, run=run.store_run, **options)
    except VaeReportError as exc:
        return SweepRun(run.name, None, str(exc))
    overview = overview_plot(examined.frame, examined.analysis.schedule)
    # the report needs the plot and thinned curves, not every point: memory stays bounded by the runs in flight
    return SweepRun(run.name, examined.analysis, None, overview.png if overview is not None else None,
                    thin_frame(examined.frame))


def _previous_runs(summary: dict[str, Any], where: Path, runs: list[RunSpec]) -> dict[str, dict[str, Any]]:
    """Run name -> its summary, from a sweep summary (runs without a step, e.g. unreadable ones, are left out).
    As for one run, a baseline that is not this sweep's is refused before anything is analyzed: a single run's
    summary, or a sweep's none of whose runs is named as one of these (each run matched is then checked by its
    ``identity``, as a single run's baseline is)."""
    if not summary.get("sweep"):
        raise InputError(f"{where}: a single run's summary; pass it with that run's folder, or this sweep's own "
                         "--json summary")
    previous = {r["name"]: r for r in summary.get("runs", [])
                if isinstance(r, dict) and isinstance(r.get("step"), int) and isinstance(r.get("name"), str)}
    if runs and not set(previous) & {run.name for run in runs}:
        then = ", ".join(sorted(previous)[:5]) or "none readable"
        now = ", ".join(sorted(run.name for run in runs)[:5])
        raise InputError(f"{where}: a summary of another sweep (its runs: {then}; this sweep's: {now}); pass the "
                         "--json summary written for this sweep, or leave out --baseline")
    return previous


def sweep_status(runs: list[SweepRun]) -> str:
    order = {"ok": 0, "warning": 1, "error": 2}
    statuses = [r.analysis.status if r.analysis else "error" for r in runs]
    return max(statuses, key=order.get)


def sweep_summary(runs: Sweep) -> dict[str, Any]:
    return {
        "tool": "vae-report",
        "sweep": True,
        "status": sweep_status(runs),
        "runs": [{"name": r.name, **(r.analysis.to_summary() if r.analysis else {"status": "error", "error": r.error})}
                 for r in runs],
        "runs_new": list(runs.new),
        "runs_gone": [{"name": name, "step_then": step} for name, step, _ in runs.gone],
    }
