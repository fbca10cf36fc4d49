"""Run directory -> Analysis: the one object the renderers see, and whose JSON form is the summary."""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import position as pos
from ._version import __version__
from .baseline import compare, identity_of, load_baseline
from .candidates import PINNED_KEYS, Candidate, from_schedules, from_twice
from .checkpoints import find_checkpoints
from .config_files import only_total
from .config_keys import accumulation, clip_norm, mixed_precision, near_misses, string_numbers
from .config_twice import given_twice
from .errors import ConfigError, InputError
from .forecast_run import forecast_run
from .images import reconstructions
from .log_units import in_log_units, total_from_epochs, total_from_validation, written_by_lightning
from .narrative import confidence, has_discriminator, questions_and_answers, recommendations, stop_broken_forecasts
from .numbers import fmt
from .plots import PlotsInFlight
from .readers import RunLogs, SourceFile, load_run
from .results import QA, MetricStats
from .rules import Finding, Metrics, check_thresholds, run_rules, worst
from .rules.bookkeeping import kl_weight_from_total
from .rules.decomposition import decompose
from .rules.discriminator import disc_activity, disc_form, logged_multiple, step_unit
from .rules.dynamics import cannot_go_on, log_interval, newest_wall_time
from .rules.pinned import pin_schedule
from .schedule import (
    AUTOENCODER_ONLY,
    SIDE_BY_SIDE_KEYS,
    Milestone,
    Schedule,
    find_config,
    layout_of,
    load_config,
    schedule_from_config,
    with_trainer_origins,
)


@dataclass
class Analysis:
    """Everything the report says, computed: plain data (no frame, no process, no image); its JSON form is the
    summary."""

    run: str
    step: int
    schedule: Schedule
    metrics: dict[str, MetricStats]
    findings: list[Finding]
    sources: list[SourceFile]
    merge_notes: list[str]
    metric_sources: dict[str, str]
    status: str = "ok"
    qa: list[QA] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)
    confidence: str = "high"
    confidence_reasons: list[str] = field(default_factory=list)
    generated_at: str = ""
    last_wall_time: float | None = None  # newest wall time in the logs
    since_baseline: dict[str, Any] | None = None
    log_every: int | None = None  # the logging interval the data shows
    decomposition: Any = None  # what the latest total is made of (decomposition.Decomposition), if known
    forecast: Any = None  # forecast.Forecast: key losses at the end of the schedule, and the --goal results
    ended: str | None = None  # the run ended before its schedule, and why (--ended: the fit that raised)

    @property
    def finished(self) -> bool:
        """The last logged step is the run's last (within one logging interval of the total)."""
        return self.schedule.finished(self.step, self.log_every)

    @property
    def progress(self) -> float | None:
        return 1.0 if self.finished else self.schedule.progress(self.step)

    @property
    def phase(self) -> str:
        """The phase the status line, the JSON and the overview name alike: a model without a discriminator has
        one phase ("autoencoder only"), not an unknown one; "unknown" is a discriminator whose start is not known."""
        phase = self.schedule.phase(self.step)
        if self.schedule.adversarial_off == "disc_factor":
            return AUTOENCODER_ONLY  # the config turns the GAN term off: one phase, whatever disc_start says
        return AUTOENCODER_ONLY if phase == "unknown" and not has_discriminator(self) else phase

    @property
    def late_start(self) -> int | None:
        """The first logged step of the training losses when the logs begin well after step 0 (a copied tail,
        a log rotated away): what the report calls "over the run" starts there."""
        firsts = [st.first_step for name, st in self.metrics.items() if "/" not in name and name.endswith("_loss")]
        first = min(firsts) if firsts else None
        return first if first is not None and first > max(1000, 0.05 * self.step) else None

    @property
    def disc_never_on(self) -> bool:
        """Past disc_start by the schedule, yet the logs show the discriminator never switched on."""
        return any((f.rule == "disc-inactive-after-start" and f.severity == "error") or f.rule == "disc-never-trained"
                   for f in self.active_findings())

    @property
    def halted(self) -> str | None:
        """Why the run cannot go on as it is (NaN/Inf at its latest point, stalled), or None: it has no next
        milestone then, wherever one would be named (rules.dynamics.cannot_go_on, the one gate)."""
        if self.ended:
            return f"the run has ended ({self.ended})"
        return cannot_go_on(self.findings, self.schedule)

    @property
    def next_milestone(self) -> Milestone | None:
        return None if self.finished or self.halted else self.schedule.next_milestone(self.step)

    @property
    def steps_to_next(self) -> int | None:
        milestone = self.next_milestone
        return None if milestone is None else milestone.step - self.step

    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if not f.skipped]

    def to_summary(self) -> dict[str, Any]:
        """The machine-readable summary (a stable contract: see the README)."""
        milestone = self.next_milestone
        return {
            "tool": "vae-report",
            "version": __version__,
            "generated_at": self.generated_at,
            "run": self.run,
            "identity": identity_of(self.run, asdict(self.schedule), self.metrics, self.sources),
            "status": self.status,
            "step": self.step,
            "total_steps": self.schedule.total_steps,
            "progress": None if self.progress is None else round(self.progress, 6),
            "phase": self.phase,
            "finished": self.finished,
            "ended": self.ended,
            "next_milestone": None if milestone is None else {"step": milestone.step, "name": milestone.name,
                                                              "steps_away": self.steps_to_next},
            "confidence": self.confidence,
            "schedule": {k: v for k, v in asdict(self.schedule).items() if k != "origins"}
            | {"origins": dict(self.schedule.origins)},
            "metrics": {name: stats.to_dict() for name, stats in self.metrics.items()},
            "findings": [f.to_dict() for f in self.findings],
            "sources": [{"path": s.path, "kind": s.kind, "points": s.points, "notes": s.notes,
                         "first_step": s.steps[0] if s.steps else None, "last_step": s.steps[1] if s.steps else None}
                        for s in self.sources],
            "merge_notes": self.merge_notes,
            "last_wall_time": self.last_wall_time,
            "milestones": [{"step": m.step, "name": m.name} for m in self.schedule.milestones()],
            "since_baseline": self.since_baseline,
            "forecast": self.forecast.to_dict() if self.forecast is not None else {},
            "goals": [g.to_dict() for g in self.forecast.goals] if self.forecast is not None else [],
        }




def _with_flat_keys(schedule: Schedule, config: dict, origin: str) -> Schedule:
    """A trainer's layout (``model.lossconfig``) beside a script's own keys: ``trainer.max_steps`` where RadioDiff
    reads ``train_num_steps``, a W&B run's ``max_steps`` or ``lr`` at the top of the dict the script passed.
    Values the layout's places leave unset are taken where the config names them, each with its path."""
    flat = schedule_from_config(config, origin, "flat", given=True)
    for key in ("total_steps", "lr", "min_lr", "log_every", "checkpoint_every"):
        if getattr(schedule, key) is None and getattr(flat, key) is not None and key in flat.origins:
            schedule = schedule.with_overrides(flat.origins[key], **{key: getattr(flat, key)})
    return schedule


MAX_STEPS_ORIGIN = "--max-steps (Lightning's trainer.max_steps, in its global steps)"


def resolve_schedule(logs: RunLogs, config: Path | None = None, **overrides: Any) -> Schedule:
    """The schedule from --config, else a config found in the run, else the text log's config repr; then the
    text log's total, the command-line overrides, and what the data shows."""
    raw: dict | None = None  # the config the schedule came from, for what it says about epochs
    raw_origin = ""
    read: list[tuple[str, Path]] = []  # the YAML files the schedule was read from, as the report names them
    if config is not None:
        given = load_config(Path(config), given=True)
        read.append((str(config), Path(config)))
        schedule = schedule_from_config(given, str(config), given=True)
        raw, raw_origin = given, str(config)
        if schedule.layout == "flat" and not schedule.origins:
            logs.notes.append(f"{config} names none of the settings vae-report reads (disc_start, kl_weight, "
                              "disc_weight, max_steps, lr, ...): the phases follow the data")
    else:
        skipped: list[str] = []
        beside: list[tuple[Path, dict, str]] = []
        found = find_config(logs.root, skipped, strict=True, others_found=beside)
        logs.notes.extend(skipped)  # an unreadable config is named, never silently replaced by another
        if found is not None and beside:  # two versions side by side: the data choose, and both are named
            found = _config_the_data_show(logs, found, beside)
        if found is not None:
            path, cfg, layout = found
            raw, raw_origin = cfg, _relative(path, logs.root)
            read.append((raw_origin, path))
            schedule = schedule_from_config(cfg if layout != "total" else only_total(cfg), _relative(path, logs.root),
                                            "flat" if layout == "total" else layout, given=layout == "total")
            schedule = with_trainer_origins(schedule, path, lambda p: _relative(p, logs.root))
            if schedule.layout != "flat":
                schedule = _with_flat_keys(schedule, cfg, _relative(path, logs.root))
            printed = _printed_config(logs)
            if printed is not None and _differs(schedule, printed, ()):
                # the config the run printed when it started is the one it used; the file may be edited since;
                # a key the file gives twice is named by the finding on it, not here again
                differs = _differs(schedule, printed, {d.path.rsplit(".", 1)[-1] for d in given_twice(path)})
                if differs:
                    logs.notes.append(f"{_relative(path, logs.root)} differs from the config the run printed in its "
                                      f"text log at launch ({differs}): the printed one is used")
                schedule = printed
        elif logs.text_config is not None and layout_of(logs.text_config) == "radiodiff":
            schedule = schedule_from_config(logs.text_config, "config repr in the text log", "text log")
        elif logs.store_config is not None and layout_of(logs.store_config):
            schedule = _with_flat_keys(schedule_from_config(logs.store_config, logs.store_config_origin),
                                       logs.store_config, logs.store_config_origin)
        elif logs.store_config is not None:  # hyperparameters of another trainer: the keys it names, no defaults
            schedule = schedule_from_config(logs.store_config, logs.store_config_origin, "flat", given=True)
        else:
            schedule = Schedule()
    precision = mixed_precision(raw if isinstance(raw, dict) else logs.store_config or logs.text_config or {})
    if precision is not None:
        where = raw_origin if isinstance(raw, dict) else logs.store_config_origin or "the text log's config record"
        schedule = replace(schedule, mixed_precision=(precision[0], f"{where}: {precision[1]}"))
    clipped = clip_norm(raw if isinstance(raw, dict) else logs.store_config or {})
    if clipped is not None:
        where = raw_origin if isinstance(raw, dict) else logs.store_config_origin
        schedule = replace(schedule, grad_clip=clipped[0],
                           origins={**schedule.origins, "grad_clip": f"{where}: {clipped[1]}"})
    strings = string_numbers(raw) if isinstance(raw, dict) and str(raw_origin).endswith((".yaml", ".yml")) else []
    if strings:
        schedule = replace(schedule, config_strings=tuple((raw_origin, key, text) for key, text in strings))
    typos = near_misses(raw) if isinstance(raw, dict) else []
    if typos:
        schedule = replace(schedule, config_typos=tuple((raw_origin, key, setting) for key, setting in typos))
    if schedule.trainer_config is not None and read:
        read.append((schedule.trainer_config, logs.root / schedule.trainer_config))
    twice = tuple((origin, found) for origin, path in read for found in given_twice(path))
    if twice:
        schedule = replace(schedule, config_twice=twice)
    if logs.counts != "step":  # a console log counted in epochs or lines: milestones in that unit, or none
        first = int(logs.frame["step"].min()) if len(logs.frame) else 0
        schedule = in_log_units(schedule, logs.counts, raw or logs.text_config or logs.store_config, first)
    if schedule.total_steps is None and logs.text_total_steps:
        schedule = schedule.with_overrides(logs.total_steps_origin, total_steps=logs.text_total_steps)
    max_steps = overrides.pop("max_steps", None)
    schedule = schedule.with_overrides("command line", **overrides)
    if max_steps is not None:  # Lightning's max_steps counts the trainer's global steps, as its config would
        schedule = schedule.with_overrides(MAX_STEPS_ORIGIN, total_steps=max_steps)
    if logs.radiodiff_log or schedule.layout == "text log":
        schedule = replace(schedule, logs_the_loss_step=True)
    m = Metrics(logs.frame)
    if schedule.counts == "step":  # the configs' candidates are in steps
        schedule = pin_schedule(schedule, m, _offered(schedule, logs, config))
    schedule = total_from_epochs(schedule, raw if isinstance(raw, dict) else None, logs.steps_per_epoch)
    schedule = total_from_validation(schedule, raw if isinstance(raw, dict) else logs.store_config,
                                     _validation_steps(m),
                                     written_by_lightning(logs.root, [s.path for s in logs.sources]))
    unit = step_unit(m, schedule)
    if unit != 1:  # Lightning's max_steps is in global steps too; a total from the logs or the user is not
        from_config = (schedule.layout == "ldm" and schedule.from_config_file("total_steps")) \
            or schedule.origins.get("total_steps") == MAX_STEPS_ORIGIN
        schedule = schedule.in_logged_steps(unit, from_config)
    per = logged_multiple(m, schedule, accumulation(raw if isinstance(raw, dict) else logs.store_config or {}))
    if per != 1:  # a logged counter k times the loss's step: the config's total is in the loss's steps too
        schedule = schedule.in_logged_steps(1, schedule.from_config_file("total_steps"), per=per)
    schedule = _total_behind_logs(schedule, m)
    schedule = kl_weight_from_total(schedule, m)
    observed = _disc_start_from_data(m)
    if schedule.disc_start is not None and observed is not None \
            and abs(schedule.disc_start - observed) > 0.02 * schedule.disc_start \
            and (observed < schedule.disc_start or _off_past_start(m, schedule.disc_start, observed) >= 2):
        # on well before the config says (that config is not the one in effect), or well after it, off at logged
        # steps past disc_start (a counter the loss is given that is not the logged one): phases follow the data
        schedule = replace(schedule, observed_disc_start=observed)
    if schedule.disc_start is None:
        schedule = schedule.with_overrides("inferred from the data (first logged step with the discriminator on)",
                                           disc_start=observed)
    schedule = disc_form(m, schedule)
    found = find_checkpoints(logs.root, schedule.checkpoint_every)
    if schedule.step_unit != 1:  # Lightning names its checkpoints by the trainer's global step (step=50)
        found = tuple((-(-step // schedule.step_unit), path) for step, path in found)
    return replace(schedule, checkpoints=found)


def _offered(schedule: Schedule, logs: RunLogs, config: Path | None) -> dict[str, list[Candidate]]:
    """The other values the configs give a setting the data can pin: the first of a key given twice; with
    --config, the run's own config and the copy its text log printed at launch."""
    offered = from_twice({key: schedule.key_path(key) for key in PINNED_KEYS}, schedule.config_twice)
    others = [] if config is None else [_printed_config(logs)]
    if config is not None:
        try:
            found = find_config(logs.root, [])
            if found is not None:
                others.append(schedule_from_config(found[1], _relative(found[0], logs.root), found[2]))
        except ConfigError:  # the run's own config unreadable: --config is the only word
            pass
    for key, values in from_schedules([s for s in others if s is not None]).items():
        offered.setdefault(key, []).extend(values)
    return offered


def _validation_steps(m: Metrics) -> np.ndarray | None:
    """The steps validation was logged at, when every validation metric was logged at the same ones."""
    names = [n for n in m.names() if n.split("/")[0] in ("val", "validation")]
    if not names:
        return None
    steps = m.steps(names[0])
    return steps if all(np.array_equal(m.steps(n), steps) for n in names[1:]) else None


def _total_behind_logs(schedule: Schedule, m: Metrics) -> Schedule:
    """A config total the logs went past (by more than a logging interval) is not this run's: the run was extended
    or the config is another run's. Progress, the end milestone and "finished" cannot come from it: left out, said."""
    total, last = schedule.total_steps, m.last_step()
    if not total or last is None:
        return schedule
    if last <= total + max(log_interval(m) or 1, total // 100):
        return schedule
    origin = schedule.origins.get("total_steps", "the config")
    unit = schedule.counts
    note = (f"{origin} gives a total of {fmt(total)} {unit}s, and the logs already reach {unit} {fmt(last)}: not this "
            "run's total (the run was extended past it, or the config is another run's)")
    return replace(schedule, total_steps=None, total_note=note, passed_total=total)


_SCHEDULE_FIELDS = ("disc_start", "kl_weight", "disc_weight", "total_steps", "lr")


def _printed_config(logs: RunLogs) -> Schedule | None:
    if logs.text_config is None or layout_of(logs.text_config) != "radiodiff":
        return None
    try:
        return schedule_from_config(logs.text_config, "config repr in the text log", "text log")
    except ConfigError:
        return None


def _differs(a: Schedule, b: Schedule, skip) -> str:
    """The schedule values two configs disagree on, as "key a -> b" ("" when they agree), but for ``skip``."""
    return ", ".join(f"{key} {fmt(getattr(a, key))} there, {fmt(getattr(b, key))} printed"
                     for key in _SCHEDULE_FIELDS
                     if key not in skip and getattr(a, key) is not None and getattr(b, key) is not None
                     and getattr(a, key) != getattr(b, key))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _off_past_start(m: Metrics, disc_start: int, on_from: int) -> int:
    """How many logged steps at or after disc_start show the discriminator still off, before it came on."""
    _, steps, _ = disc_activity(m)
    return int(((steps >= disc_start) & (steps < on_from)).sum())


def crashed(logs: RunLogs, m: Metrics) -> str | None:
    """Why the run ended, where its newest text log ends in a Python traceback after its step lines (the process
    that wrote it died there; a launch that went on after it is no crash of the run), else None."""
    last = m.last_step()
    every = log_interval(m) or 1
    for file, exception, step in logs.crashes:
        if step >= last - 2 * every:
            return f"{exception}: {file} ends in a Python traceback after {pos.at(logs.counts, step)}"
    return None


def _config_the_data_show(logs: RunLogs, found: tuple[Path, dict, str],
                          beside: list[tuple[Path, dict, str]]) -> tuple[Path, dict, str]:
    """Of configs of a known layout side by side whose schedules differ, the one whose disc_start is where the
    data show the discriminator switch on (when exactly one is), else the one found first; each other is named
    in the sources with how its schedule differs."""
    m = Metrics(logs.frame)
    observed, interval = _disc_start_from_data(m), log_interval(m) or 0
    every = [found, *beside]
    schedules = [schedule_from_config(cfg, _relative(path, logs.root), layout) for path, cfg, layout in every]

    def fits(s: Schedule) -> bool:
        return observed is not None and s.disc_start is not None and s.disc_start <= observed \
            and observed - s.disc_start <= max(0.02 * s.disc_start, interval)
    matching = [i for i, s in enumerate(schedules) if fits(s)]
    chosen = matching[0] if len(matching) == 1 else 0
    why = (f"its disc_start is where the data show the discriminator switch on (step {observed:,})"
           if len(matching) == 1 else "the first found: the data do not tell them apart")
    used = _relative(every[chosen][0], logs.root)
    for i, (path, _, _) in enumerate(every):
        if i == chosen:
            continue
        differs = [f"{key} {fmt(getattr(schedules[i], key))} against {fmt(getattr(schedules[chosen], key))}"
                   for key in SIDE_BY_SIDE_KEYS if getattr(schedules[i], key) != getattr(schedules[chosen], key)]
        logs.notes.append(f"{_relative(path, logs.root)}: another config beside {used}, not used ({', '.join(differs)}"
                          f"); {used} is used: {why}. Pass the other with --config if it is the run's")
    return every[chosen]


def _disc_start_from_data(m: Metrics) -> int | None:
    """The first logged step with the discriminator on, if it was off before."""
    found = disc_activity(m)
    if found is None:
        return None
    _, steps, on = found
    return int(steps[on][0]) if on.any() and not on[0] else None


def metric_stats(m: Metrics, metric_sources: dict[str, str]) -> dict[str, MetricStats]:
    out = {}
    for name in sorted(m.names(), key=_metric_order):
        steps, values = m.steps(name), m.values(name)
        good = values[np.isfinite(values)]
        # NaN/Inf at its latest point: it has no current level (the last finite median is not "now")
        now = m.level(name) if len(values) and np.isfinite(values[-1]) else None
        start = m.start(name)  # the first phase's start: the one Start every sentence quotes
        out[name] = MetricStats(
            name, float(values[0]), float(values[-1]),
            float(good.min()) if len(good) else math.nan, float(good.max()) if len(good) else math.nan,
            len(values), int(steps[0]), int(steps[-1]), int(len(values) - len(good)), metric_sources.get(name, ""),
            *((now.value, now.noise, now.points, now.first_step) if now is not None else (math.nan, math.nan, 0, None)),
            *((start.value, start.noise, start.points) if start is not None else (math.nan, math.nan, 0)),
        )
    return out


_ORDER = ["total_loss", "rec_loss", "nll_loss", "kl_loss", "g_loss", "disc_loss", "d_weight", "disc_factor",
          "logits_real", "logits_fake", "logvar", "lr", "lr_disc"]


def _metric_order(name: str) -> tuple[int, int, str]:
    return (name.startswith("val/"), _ORDER.index(name) if name in _ORDER else len(_ORDER), name)


def analyze_logs(logs: RunLogs, schedule: Schedule, thresholds: dict | None = None,
                 now: float | None = None, goals: list[tuple[str, float]] | None = None,
                 report_clock: float | None = None, ended: str | None = None) -> Analysis:
    """Statistics, findings, forecast, Q&A and conclusion for logs already read (``now``: the liveness rule's
    clock; ``goals``: (metric, level) pairs whose step of arrival is forecast; ``report_clock``: the report's own
    time, which only dates ETAs from old logs (default: now; a sweep gives all its runs one))."""
    m = Metrics(logs.frame)
    m.restarts = logs.restarts
    ended = ended or crashed(logs, m)
    m.kinds = dict(logs.metric_sources)
    limits = {k: dict(v) for k, v in (thresholds or {}).items()}
    if now is not None:
        limits.setdefault("liveness", {})["now"] = float(now)
    else:  # no clock to judge liveness by: the report's own only dates what the ETAs say (logs may be old copies)
        limits.setdefault("liveness", {}).setdefault("report_clock", report_clock or time.time())
    if ended:  # the run stopped before its schedule: no time estimate, whatever its logs' age; said as a finding
        limits.setdefault("liveness", {})["ended"] = ended
        limits.setdefault("run-ended", {})["ended"] = ended
    findings = run_rules(m, schedule, limits)
    analysis = Analysis(
        run=str(logs.root), step=m.last_step(), schedule=schedule, metrics=metric_stats(m, logs.metric_sources),
        findings=findings, sources=logs.sources, merge_notes=logs.notes, metric_sources=logs.metric_sources,
        status=worst(findings), generated_at=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        last_wall_time=newest_wall_time(m), log_every=log_interval(m),
        decomposition=decompose(m, schedule), ended=ended,
    )
    live = next((f for f in findings if f.rule == "liveness" and not f.skipped), None)
    analysis.forecast = forecast_run(m, schedule, analysis.step, analysis.finished, goals, analysis.last_wall_time,
                                     None if live is None or live.numbers.get("no_eta")
                                     else live.numbers.get("steps_per_hour"), findings)
    stop_broken_forecasts(analysis)  # before the report or the summary reads it: one forecast for both
    analysis.confidence, analysis.confidence_reasons = confidence(analysis)
    analysis.qa = questions_and_answers(analysis)
    analysis.recommendations = recommendations(analysis)
    return analysis


@dataclass
class AnalyzedRun:
    """One pass over a run: its plain Analysis, and beside it what the report's figures are drawn from (the
    merged frame, the plots other processes are already drawing, and the reconstruction grids the run saved,
    chosen in the same pass so the report shows what was there when its logs were read)."""

    analysis: Analysis
    frame: Any
    plots: PlotsInFlight | None = field(default=None, repr=False)
    samples: list | None = field(default=None, repr=False)  # images.Shown: the reconstruction grids, if chosen

    def close(self) -> None:
        """Stop the drawing processes (the report is not wanted after all)."""
        if self.plots is not None:
            self.plots.close()
            self.plots = None


def analyze_run(path: Path | str, config: Path | str | None = None, thresholds: dict | None = None,
                now: float | None = None, baseline: Path | str | None = None, include: list[Path] | None = None,
                text_pattern: str | None = None, run: str | None = None, tail: Any = None,
                goals: list[tuple[str, float]] | None = None, **overrides: Any) -> Analysis:
    """Read a run directory and analyze it against its schedule (``disc_start=``, ``kl_weight=``,
    ``total_steps=`` override single values; ``thresholds`` maps rule ids to threshold overrides; ``now`` is
    the epoch time the liveness rule compares the last log with; ``tail``: a ``readers.tail.TailCache`` kept
    between calls, so that event files and CSVs are parsed only where they grew; ``goals``: (metric, level) pairs,
    ``--goal``). ``examine_run`` also keeps what the report's figures are drawn from."""
    return examine_run(path, config, thresholds, now, baseline, include, text_pattern, run, False, tail, goals,
                       **overrides).analysis


def examine_run(path: Path | str, config: Path | str | None = None, thresholds: dict | None = None,
                now: float | None = None, baseline: Path | str | None = None, include: list[Path] | None = None,
                text_pattern: str | None = None, run: str | None = None, draw_plots: bool = False,
                tail: Any = None, goals: list[tuple[str, float]] | None = None, report_clock: float | None = None,
                ended: str | None = None, **overrides: Any) -> AnalyzedRun:
    """``analyze_run``, keeping the frame for the report's figures; ``draw_plots``: start drawing the report's
    plots in other processes while the rules run (``render.write_report`` collects them), and choose the
    reconstruction grids now."""
    previous = load_baseline(Path(baseline)) if baseline else None
    if previous is not None and previous.get("sweep"):
        raise InputError(f"{baseline}: a sweep's summary; pass it with the sweep folder, or a single run's summary")
    logs = load_run(Path(path), include, text_pattern, run, tail)
    schedule = resolve_schedule(logs, Path(config) if config else None, **overrides)
    limits = check_thresholds(thresholds or {}, "thresholds")
    plots = None
    if draw_plots:  # drawn by other processes while this one runs the rules
        plots = PlotsInFlight(logs.frame, schedule, previous.get("step") if previous else None)
    try:
        analysis = analyze_logs(logs, schedule, limits, now, goals, report_clock, ended)
        if previous is not None:
            analysis.since_baseline = compare(analysis.to_summary(), previous, baseline)
        samples = reconstructions(analysis) if draw_plots else None
    except BaseException:
        if plots is not None:
            plots.close()
        raise
    return AnalyzedRun(analysis, logs.frame, plots, samples)
