"""What a rule is, what it returns, and the read-only view of the metrics it checks."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..levels import Level, current_level, same_level, start_level
from ..schedule import Schedule
from ..stats import robust_noise, window_medians
from .said import Said

SEVERITIES = ("ok", "info", "warning", "error")
RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Finding:
    """One observation of one rule: which metric, from which step, what it means, and the numbers behind it."""

    rule: str
    severity: str
    message: str
    metric: str | None = None
    step: int | None = None
    numbers: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False
    related: tuple[dict[str, Any], ...] = ()  # findings of the same cause, cited under this headline one
    title: str = ""  # the rule's title, stamped by the registry
    case: str | None = None  # which of its rule's cases this is, for code that reads findings (not the words)
    unit: str = "step"  # what ``step`` counts (the schedule's ``counts``): prose citing the finding says it
    action: str = ""  # what to do about a warning or an error, one imperative sentence (the recommendations)
    look: str = ""  # what its reconstructions would show ("GAN artefacts"), advised only in a run that saves some
    rationale: str = ""  # why it matters: its case's, else its rule's (stamped by the registry)
    harm: int = 5  # what to act on first, lowest first: its case's, else its rule's (Rule.harm, stamped)

    def cited(self) -> dict[str, Any]:
        """The finding in the form it takes cited under another (``related``): read alike, headline or cited."""
        return {"rule": self.rule, "title": self.title, "severity": self.severity, "metric": self.metric,
                "step": self.step, "message": self.message, "numbers": self.numbers, "action": self.action,
                "case": self.case}

    def told(self) -> tuple[dict[str, Any], ...]:
        """The finding and those cited under it, each in the cited form."""
        return (self.cited(), *self.related)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "metric": self.metric,
            "step": self.step,
            "message": self.message,
            "numbers": self.numbers,
            "skipped": self.skipped,
            "related": list(self.related),
            "action": self.action,
            "case": self.case,
        }


# the harm tiers of Rule.harm: what waiting costs, worst first
HARM = {"halted": 0, "non-finite": 1, "lr": 2, "divergence": 3, "gan": 4, "other": 5}


@dataclass(frozen=True)
class Case:
    """What a rule's function returns: the case it found, in words and numbers, on which metric from which step.
    The registry makes it a Finding, stamping the rule's id and title; ``severity`` None is the rule's registered
    severity (the one it exists to raise), a milder case names its own."""

    message: str
    metric: str | None = None
    step: int | None = None
    numbers: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None
    case: str | None = None  # a name for the case, where other code needs to tell it apart
    action: str | None = None  # what to do, where it depends on the case (None: the rule's registered action)
    look: str | None = None  # what the reconstructions would show, where it depends on the case
    title: str | None = None  # the row's title, where the case's verdict is not the rule's (None: the rule's)
    rationale: str | None = None  # why it matters, where the rule's rationale is its main case's
    harm: int | None = None  # what to act on first, where the case's harm is not its rule's (None: the rule's)


@dataclass(frozen=True)
class Rule:
    """A registered check: stable id, title, the severity it raises (its milder cases in ``severities``), why it
    exists, what it checks (the README's rule table), its thresholds, where the narrative files it, and its
    finding as the one clause of key numbers a Q&A answer quotes (``short``)."""

    id: str
    title: str
    severity: str
    rationale: str
    check: Callable[[Metrics, Schedule, dict[str, float]], list[Case]]
    thresholds: dict[str, float] = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # metrics without which the rule is skipped
    needs_schedule: tuple[str, ...] = ()  # schedule fields without which it is skipped
    regularizer: str | None = None  # "kl": not applicable to a VQ model (no KL term)
    checks: str = ""  # what it checks, as the README's rule table says it
    severities: tuple[str, ...] = ()  # every severity its cases raise, mildest first (default: its severity)
    topics: tuple[str, ...] = ()  # the Q&A topics its findings answer: "kl", "ranges", "values", "balance"
    can_wait: bool = False  # a warning that is no reason to stop a run (about the logs or the config, or over)
    cause: str | None = None  # findings of one cause group under one headline: "non-finite", "overfitting", "shape"
    cause_rank: int = 0  # which rule's finding heads such a group (lowest first)
    cause_cases: tuple[str, ...] = ()  # only these of its cases share a cause (default: every case)
    heads_switch_on: bool = False  # it names the cause of a rise that began with the discriminator's switch-on
    explains: tuple[str, ...] = ()  # other rules' cases its finding explains: those are cited under it
    threshold_notes: dict[str, str] = field(default_factory=dict)  # a threshold's meaning, for the README
    action: str = ""  # what to do about its warning or error, where that does not depend on the case
    # what to act on first, by the harm of waiting (lowest first; HARM names the tiers): a run that stopped before
    # a NaN, before an lr gone wrong, before a divergence, before a GAN out of balance, before the rest
    harm: int = 5
    look: str = ""  # what the run's reconstructions would show of it ("GAN artefacts"), if it saves any
    # the stretch its verdict is about, not judged where nothing trained there (rules.untrained): "latest" (a
    # trend or level up to the latest logs, within the current phase), "adversarial" (the GAN's balance, from the
    # discriminator's start); "" judges no stretch of training (the config, the logs, a NaN)
    judges: str = ""
    # what its finding is about: "training" (a step of it), "config" (a file: its finding has no step)
    about: str = "training"
    # its finding's key numbers as one clause, from the numbers its check computed (never its message cut), None
    # where a case's numbers lack it: what the Q&A quotes of the finding (narrative.answers.short_form)
    short: Callable[[Said], str | None] | None = None

    def finding(self, case: Case, unit: str = "step") -> Finding:
        """The case as a Finding of this rule: its id and title stamped, its severity the rule's unless the case
        names a milder one; ``unit``: what its step counts."""
        severity = case.severity or self.severity
        loud = severity in ("warning", "error")  # an ok or info case asks for nothing
        action = (case.action if case.action is not None else self.action) if loud else ""
        look = (case.look if case.look is not None else self.look) if loud else ""
        step = None if self.about == "config" else case.step  # a finding about a file is at no step
        return Finding(self.id, severity, case.message, case.metric, step, case.numbers,
                       title=case.title or self.title, case=case.case, unit=unit, action=action, look=look,
                       rationale=case.rationale or self.rationale,
                       harm=case.harm if case.harm is not None else self.harm)

    def raises(self) -> tuple[str, ...]:
        return self.severities or (self.severity,)


class Metrics:
    """Per-metric step and value arrays of a frame sorted by (metric, step); cut once, shared by all rules."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.memo: dict = {}  # results several rules derive from the same data (e.g. the loss bookkeeping)
        self.restarts: list[dict] = []  # where a later log file took over (RunLogs.restarts), set by the analysis
        # the reader each metric was read by (RunLogs.metric_sources, set by the analysis): a sentence about where
        # a value came from (printed decimals) follows it; empty where unknown
        self.kinds: dict[str, str] = {}
        self.phase_start: int | None = None  # the current phase's first step (set by run_rules): levels stay inside
        self._parts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        if frame.empty:
            return
        codes = frame["metric"].cat.codes.to_numpy()
        steps = frame["step"].to_numpy()
        values = frame["value"].to_numpy()
        walls = frame["wall_time"].to_numpy()
        bounds = np.flatnonzero(np.diff(codes)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [len(codes)]))
        categories = frame["metric"].cat.categories
        for a, b in zip(starts, ends, strict=True):
            self._parts[str(categories[codes[a]])] = (steps[a:b], values[a:b], walls[a:b])

    def names(self) -> list[str]:
        return list(self._parts)

    def has(self, name: str) -> bool:
        return name in self._parts

    def steps(self, name: str) -> np.ndarray:
        return self._parts[name][0]

    def values(self, name: str) -> np.ndarray:
        return self._parts[name][1]

    def wall_times(self, name: str) -> np.ndarray:
        return self._parts[name][2]

    def last_step(self) -> int:
        training = [p[0][-1] for n, p in self._parts.items() if not n.startswith("val/") and len(p[0])]
        every = training or [p[0][-1] for p in self._parts.values() if len(p[0])]
        return int(max(every)) if every else 0

    def first_step(self) -> int:
        training = [p[0][0] for n, p in self._parts.items() if not n.startswith("val/") and len(p[0])]
        every = training or [p[0][0] for p in self._parts.values() if len(p[0])]
        return int(min(every)) if every else 0

    def level(self, name: str) -> Level | None:
        """The metric's current level (levels.current_level inside the current phase): the one "now" of a metric
        every rule and sentence quotes."""
        key = ("level", name, self.phase_start)
        if key not in self.memo:
            self.memo[key] = current_level(self.steps(name), self.values(name), self.phase_start) \
                if self.has(name) else None
        return self.memo[key]

    def now(self, name: str) -> float:
        """The statistics table's Now: the current level, or NaN/Inf when the latest point is (the median of the
        finite points before it is not where the metric is now)."""
        values = self.values(name)
        if len(values) and not math.isfinite(float(values[-1])):
            return float(values[-1])
        level = self.level(name)
        return level.value if level is not None else math.nan

    def start(self, name: str) -> Level | None:
        """Where the metric started (levels.start_level over its first phase's points): the statistics table's
        Start, the one start every "over the run" or "before the discriminator" sentence quotes."""
        key = ("start", name, self.phase_start)
        if key not in self.memo:
            self.memo[key] = start_level(self.steps(name), self.values(name), self.phase_start) \
                if self.has(name) else None
        return self.memo[key]

    def phase_first(self, name: str) -> Level | None:
        """The metric's level at the start of the current phase (the first 5% of its points there: the current
        level's window at the phase's other end); its start level when the run has one phase."""
        if self.phase_start is None:
            return self.start(name)
        key = ("phase_first", name, self.phase_start)
        if key not in self.memo:
            steps, values = self.window(name, lo=self.phase_start)
            self.memo[key] = start_level(steps, values)
        return self.memo[key]

    def before_switch(self, name: str) -> Level | None:
        """The metric's level just before the current phase (the last 5% of the phase before it: the current
        level's window at that phase's end); None in a run of one phase or without points there."""
        if self.phase_start is None:
            return None
        key = ("before_switch", name, self.phase_start)
        if key not in self.memo:
            steps, values = self.window(name, hi=self.phase_start)
            self.memo[key] = current_level(steps, values)
        return self.memo[key]

    def reference(self, name: str, level: Level | None) -> Level | None:
        """The baseline a rule quotes for a change of the metric: ``level`` (the rule's own window: the phase's
        start, the level a climb left) unless the metric's start level (the statistics table's Start) or its
        level just before the switch-on is the same level (levels.same_level): then that one, so that one level
        is one number, and one change one percentage, in every finding, cell and table of a report. A rule that
        describes its window asks which it got (``is``)."""
        if level is None:
            return None
        for shared in (self.start(name), self.before_switch(name)):
            if shared is not None and (shared is level or same_level(shared, level)):
                return shared
        return level

    def baseline(self, name: str, value: float, noise: float | None = None) -> float:
        """``reference`` for a level a rule took as a number (the best of a stretch, the level before a step):
        its value, or the shared level's where that is the same level; ``noise``: its median's (default: the
        current level's, a window of the same size)."""
        level = self.level(name)
        if noise is None:
            noise = level.noise if level is not None else math.nan
        if not math.isfinite(value):
            return value
        return self.reference(name, Level(value, noise, 1, 0, 0)).value

    def before_switch_on(self, name: str, switch: int) -> Level | None:
        """The metric's level just before the discriminator's switch-on at ``switch`` (the last 5% of the points
        before it, ``before_switch`` where the current phase begins there): the one such level every finding,
        action and answer quotes."""
        if self.phase_start == switch:
            shared = self.before_switch(name)
            if shared is not None:
                return shared
        return current_level(*self.window(name, hi=switch))

    def window(self, name: str, lo: int | None = None, hi: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Steps and values with ``lo <= step < hi`` (empty for a metric not logged)."""
        if not self.has(name):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        steps, values = self.steps(name), self.values(name)
        a = 0 if lo is None else int(np.searchsorted(steps, lo, "left"))
        b = len(steps) if hi is None else int(np.searchsorted(steps, hi, "left"))
        return steps[a:b], values[a:b]


def implicated(numbers: dict[str, Any]) -> dict[str, str]:
    """The metrics a finding names beside its own, with how ("risen", "slow", "nan"): declared by its rule as data
    (``numbers["implicates"]``, and the older ``rising_terms``, the losses it names as risen), never read from its
    words. Every ok finding and all-clear answer on one of them is qualified (grouping.loud_metrics)."""
    named = {name: "risen" for name in numbers.get("rising_terms", ())}
    return {**named, **(numbers.get("implicates") or {})}


_SEE = "\x1f"  # marks a rule id in a message until the registry puts the rule's title there (names_titles)


def see(rule: str) -> str:
    """Another rule's finding, named in a message as the report shows it: its title in quotes (the registry
    writes it in; a rule does not know other rules' titles)."""
    return f"{_SEE}{rule}{_SEE}"


def names_titles(message: str, titles: dict[str, str]) -> str:
    """A message with every rule marked by ``see`` replaced by its title, in quotes."""
    return re.sub(f"{_SEE}([^{_SEE}]+){_SEE}", lambda m: f"\"{titles.get(m[1], m[1])}\"", message)


def median_of(level: Level, end: str) -> str:
    """Which points a level is the median of (``end``: "first" or "last"): "the median of its first 12 points",
    "its last point"."""
    return f"its {end} point" if level.points == 1 else f"the median of its {end} {level.points:,} points"


# metrics only a run with a discriminator logs
DISC_METRICS = ("disc_loss", "g_loss", "logits_real", "logits_fake", "d_weight", "disc_factor")


def first_stage(m: Metrics, s: Schedule) -> bool:
    """An LDM-style first stage: a discriminator scheduled or logged, or the LDM/RadioDiff loss. Its KL term is
    meant as a light regularizer under a diffusion model's latents; a plain VAE trains on the KL as a working
    part of its objective (the ELBO's prior term, a beta-VAE's weighted one)."""
    return (s.disc_start is not None or s.layout in ("radiodiff", "ldm")
            or any(k in (s.loss_class or "") for k in ("Discriminator", "LPIPS"))
            or any(m.has(name) for name in DISC_METRICS))


def finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def weight_zero(m: Metrics, s: Schedule) -> bool:
    """d_weight exactly 0 at every (and at least 5) finite points of the adversarial phase: the adversarial term
    reaches the autoencoder with weight 0, whatever the discriminator does."""
    if s.switch_step is None:
        return False
    weight = finite(m.window("d_weight", lo=s.switch_step)[1])
    return len(weight) >= 5 and bool(np.all(weight == 0))


def departure(steps: np.ndarray, values: np.ndarray, baseline: float, target: float, since: int | None = None,
              fraction: float = 0.2, smooth: int = 5, noise_margin: float = 0.0) -> int:
    """The step where a series left ``baseline`` for ``target`` (a change point, not a window's start): just
    after the last point, smoothed over ``smooth``, still on the baseline's side of the line ``fraction`` of the
    way from baseline to target (or ``noise_margin`` times the smoothed series' noise from the baseline, if
    farther), searching from ``since`` on."""
    start = 0 if since is None else int(np.searchsorted(steps, since))
    good = np.isfinite(values[start:])
    z, st = values[start:][good], steps[start:][good]
    if not len(st):
        return int(steps[-1]) if len(steps) else 0
    if len(z) < smooth:
        return int(st[0])
    level = window_medians(z, smooth)
    margin = fraction * abs(target - baseline)
    if noise_margin:
        margin = max(margin, noise_margin * robust_noise(level))
    line = baseline + (margin if target > baseline else -margin)
    on_baseline = level <= line if target > baseline else level >= line
    idx = np.flatnonzero(on_baseline)
    j = int(idx[-1]) + 1 + smooth // 2 if len(idx) else 0
    return int(st[min(j, len(st) - 1)])


def ramp_onset(steps: np.ndarray, values: np.ndarray, falling_first: bool = False) -> tuple[int, float]:
    """Where a flat stretch turns into a ramp: the break of the least-squares fit of a level followed by a
    straight rise (or fall), over at most ~400 points (a slow rise is dated where it starts, not where it
    first clears the noise); with the share of the variance the fit leaves unexplained. ``falling_first``: the
    first line may fall too (never climb, else the break slides along the climb): a still-falling loss that
    turns into a climb, whose curved bottom a level would meet late, where the climb's line crosses it."""
    good = np.isfinite(values)
    x, y = steps[good].astype(np.float64), values[good]
    if len(x) > 400:
        keep = np.linspace(0, len(x) - 1, 400).astype(int)
        x, y = x[keep], y[keep]
    if len(x) < 5:
        return (int(x[0]) if len(x) else 0), 1.0
    best, best_sse = 0, np.inf
    for i in range(1, len(x) - 2):
        design = np.column_stack((np.ones(len(x)), np.maximum(0.0, x - x[i]), np.minimum(0.0, x - x[i])))
        if not falling_first:
            design = design[:, :2]
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        if falling_first and coef[2] > 0:  # the first line would climb: a level first
            design = design[:, :2]
            coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        sse = float(np.sum((design @ coef - y) ** 2))
        if sse < best_sse:
            best, best_sse = i, sse
    spread = float(np.sum((y - y.mean()) ** 2))
    return int(x[best]), best_sse / spread if spread > 0 else 1.0


def step_onset(steps: np.ndarray, values: np.ndarray) -> tuple[int, float]:
    """Where a level steps to another (the first step of the second level, by least squares over two means),
    with the share of the variance the fit leaves unexplained."""
    n = len(values)
    if n < 5:
        return (int(steps[0]) if n else 0), 1.0
    csum, csq = np.cumsum(values), np.cumsum(values ** 2)
    i = np.arange(1, n)
    left = csq[i - 1] - csum[i - 1] ** 2 / i
    right = (csq[-1] - csq[i - 1]) - (csum[-1] - csum[i - 1]) ** 2 / (n - i)
    sse = left + right
    at = int(np.argmin(sse))
    spread = float(np.sum((values - values.mean()) ** 2))
    return int(steps[at + 1]), float(sse[at]) / spread if spread > 0 else 1.0


def turn_onset(steps: np.ndarray, values: np.ndarray, base: float, top: float, smooth: int = 5
               ) -> tuple[int, str] | None:
    """Where a rise from the level ``base`` to the level ``top`` turned, and how ("ramp" or "step"): over the
    points up to where the series (smoothed over ``smooth``) first reaches ``top``, so that a rise that levelled
    off is fitted without its plateau, the break of a level-then-ramp fit (as a slow drift is dated: where the
    climb began, not where it cleared some share of its size), or the first point of the higher level where a
    step fits better. The points given should begin on the level before the rise. None when neither fit
    explains the rise (or too few points)."""
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    if len(values) < 2 * smooth or not top > base:
        return None
    level = window_medians(values, smooth)
    reached = np.flatnonzero(level >= top)
    if not len(reached):
        return None
    # the stretch up to the top, with a few points past it so that a step's higher level is more than one point
    end = min(len(values), int(reached[0]) + smooth + max(smooth, (int(reached[0]) + smooth) // 10))
    x, y = steps[:end], values[:end]
    if len(y) < 2 * smooth:
        return None
    ramp, ramp_unexplained = ramp_onset(x, y)
    jump, step_unexplained = step_onset(x, y)
    if min(ramp_unexplained, step_unexplained) >= 0.8:
        return None
    return (jump, "step") if step_unexplained < ramp_unexplained else (ramp, "ramp")
