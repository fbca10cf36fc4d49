"""What the report's figures mark beside the series, computed once per run and drawn by both renderers (plots'
static figures, interactive.py's zoomable charts): the phases' shading and lines, where the learning rate reached 0
or jumped, the last report's step, each series' first NaN/Inf, the warning and error findings at their steps; and
the key that says what they are."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from . import position as pos
from .numbers import factor, fmt
from .rules import Metrics
from .rules.lr_shape import JUMP, lr_jumps
from .rules.untrained import Untrained, improved_over
from .schedule import Schedule

MAX_JUMPS = 3  # lr jumps marked: the largest, so a cyclic schedule does not cover the figures in lines
MAX_FLAGS = 3  # findings marked per figure: errors first, then the earliest warnings
SEVERITY_COLORS = {"error": "#d62728", "warning": "#ff7f0e"}
ON_PLOT_OF = {"disc_factor": "disc_loss"}  # a finding on a metric no figure draws, marked on the one that shows it


@dataclass(frozen=True)
class Span:
    """A shaded stretch of steps (``hatch``: hatched instead of filled)."""

    start: float
    end: float
    color: str
    alpha: float
    hatch: bool = False


@dataclass(frozen=True)
class Line:
    """A vertical line at a step with its legend label; ``dash`` in plotly's names (dash, dot, dashdot)."""

    step: int
    label: str
    color: str
    dash: str


@dataclass(frozen=True)
class Flag:
    """A warning or error finding at its step on its metric's figure, labelled with its rule id."""

    metric: str
    step: int
    rule: str
    severity: str


@dataclass(frozen=True)
class Marks:
    spans: tuple[Span, ...] = ()
    lines: tuple[Line, ...] = ()  # on every figure
    first_bad: dict[str, int] = field(default_factory=dict)  # metric -> its first NaN/Inf step
    flags: tuple[Flag, ...] = ()
    key: str = ""

    def nan_line(self, name: str) -> Line | None:
        step = self.first_bad.get(name)
        return None if step is None else Line(step, f"first NaN/Inf in {name}", "red", "dot")

    def flags_on(self, names) -> tuple[tuple[Flag, ...], int]:
        """The findings marked on a figure of these metrics (at most MAX_FLAGS) and how many more there are."""
        mine = [f for f in self.flags if f.metric in names]
        mine.sort(key=lambda f: (f.severity != "error", f.step))
        return tuple(mine[:MAX_FLAGS]), max(0, len(mine) - MAX_FLAGS)

    def with_findings(self, findings) -> Marks:
        """These marks with the warning and error findings that name a metric and a step (Finding objects)."""
        flags, seen = [], set()
        for f in findings:
            if f.skipped or f.severity not in SEVERITY_COLORS or f.metric is None or f.step is None:
                continue
            flag = Flag(ON_PLOT_OF.get(f.metric, f.metric), int(f.step), f.rule, f.severity)
            if flag not in seen:
                seen.add(flag)
                flags.append(flag)
        key = self.key
        if flags:
            key += (" Triangle at the top of a figure: the step of a warning (orange) or error (red) finding on a "
                    f"metric it draws, labelled with its rule id (at most {MAX_FLAGS} a figure, errors first).")
        return replace(self, flags=tuple(flags), key=key.strip())


def run_marks(m: Metrics, schedule: Schedule, baseline: int | None = None) -> Marks:
    """The marks of a run's figures: phases, lr 0, lr jumps, the last report (``baseline``), first NaN/Inf."""
    last = m.last_step()
    spans, lines = _phases(schedule, last)
    stop = lr_stop(m)
    if stop is not None:
        lines.append(Line(stop, f"lr 0 from {fmt(stop)}", "#c44e52", "dashdot"))
    jumps, all_jumps = _jumps(m)
    lines += [Line(step, f"lr {fmt(a)} to {fmt(b)} at {fmt(step)}", "#8172b3", "dashdot") for step, a, b in jumps]
    if baseline is not None and baseline < last:
        spans.append(Span(baseline, last, "#6e7781", 0.35, hatch=True))
        lines.append(Line(baseline, f"last report ({pos.at(schedule, baseline)})", "#6e7781", "dot"))
    first_bad = {}
    for name in m.names():
        bad = ~np.isfinite(m.values(name))
        if bad.any():
            first_bad[name] = int(m.steps(name)[bad][0])
    key = _shading(schedule, last)
    if stop is not None:
        # losses that kept falling over it say the logged lr is not the optimizer's: no stop is claimed then
        fell = improved_over(m, Untrained(stop, last, True, "lr"))
        key += (f" Dash-dotted red line: the learning rate reaches 0 at {pos.at(schedule, stop)} and stays "
                "there to the last log, " + ("so training stopped in effect from there." if fell is None else
                                             f"yet {fell[0]} kept falling after it: the logged lr is probably not "
                                             "the optimizer's (see \"Logged lr against the losses\")."))
    if jumps:
        said = "; ".join(f"x{factor(b / a) if b > a else '1/' + factor(a / b)} at {pos.at(schedule, step)} "
                         f"({fmt(a)} to {fmt(b)})" for step, a, b in jumps)
        more = f" (the {len(jumps)} largest of {all_jumps})" if all_jumps > len(jumps) else ""
        key += (f" Dash-dotted purple line: the learning rate changed by a factor of {fmt(JUMP)} or more from one "
                f"logged point to the next{more}: {said}.")
    if first_bad:
        key += " Dotted red line: the first NaN/Inf of the series the legend names (not drawn)."
    return Marks(tuple(spans), tuple(lines), first_bad, key=key.strip())


def _jumps(m: Metrics) -> tuple[list[tuple[int, float, float]], int]:
    """The MAX_JUMPS largest lr jumps (in step order) and how many there are."""
    if not m.has("lr"):
        return [], 0
    found = lr_jumps(m.steps("lr"), m.values("lr"))
    size = sorted(found, key=lambda j: -abs(np.log(abs(j[2] / j[1]))))[:MAX_JUMPS]
    return sorted(size), len(found)


def lr_stop(m: Metrics) -> int | None:
    """The first step of the learning rate's last stretch at 0, where it reaches 0 before the run's last step and
    stays there (training stopped in effect); None where lr is not logged, ends above 0, is 0 from its first point
    on (a run that never trained: rules.untrained says so) or reaches 0 only at the end."""
    if not m.has("lr"):
        return None
    steps, values = m.steps("lr"), m.values("lr")
    finite = np.isfinite(values)
    steps, values = steps[finite], values[finite]
    moving = np.flatnonzero(values != 0)
    if not len(values) or values[-1] != 0 or not len(moving):
        return None
    first = int(steps[moving[-1] + 1])
    return first if first < m.last_step() else None


def _phases(schedule: Schedule, last_step: int) -> tuple[list[Span], list[Line]]:
    """The phases' shading and lines: before the discriminator blue, the adversarial phase orange."""
    off = schedule.adversarial_off
    spans: list[Span] = []
    lines: list[Line] = []
    if schedule.disc_start is not None and off is not None:  # one phase: the GAN term never comes
        spans.append(Span(0, last_step, "#4c72b0", 0.10))
        if off == "disc_factor":  # disc_start still marked: where the config would have switched it on
            lines.append(Line(schedule.disc_start, f"disc_start {fmt(schedule.disc_start)}\n(disc_factor 0: off)",
                              "#4c72b0", "dash"))
    elif schedule.disc_start is not None:
        d = schedule.switch_step  # where the data show it on, where that is well apart from the config's
        end = max(last_step, d)
        spans.append(Span(0, min(d, end), "#4c72b0", 0.10))
        if end > d:
            spans.append(Span(d, end, "#dd8452", 0.14))
        if d == schedule.disc_start:
            lines.append(Line(d, f"disc_start {fmt(d)}", "#dd8452", "dash"))
        else:
            lines.append(Line(d, f"on at {fmt(d)}\n(in the data)", "#dd8452", "dash"))
            lines.append(Line(schedule.disc_start, f"disc_start {fmt(schedule.disc_start)}\n(config)", "#6e7781",
                              "dot"))
    return spans, lines


def _shading(s: Schedule, last: int) -> str:
    """The key to the phases' shading, as this run's figures show them."""
    if s.disc_start is None:
        return ""
    where = pos.at(s, s.disc_start)
    if s.adversarial_off == "disc_factor":
        return (f" Blue shading: the whole run trains the autoencoder alone: the config's disc_factor 0 keeps the "
                f"adversarial term off, also after disc_start at {where} (dashed line).")
    if s.adversarial_off == "beyond":
        return (f" Blue shading: the whole run is before the discriminator, whose disc_start ({where}) lies past "
                f"the end of training ({pos.at(s, s.total_steps)}): it never switches on.")
    if last <= s.disc_start:
        return f" Blue shading: before the discriminator, which switches on at {where} (dashed line), not reached yet."
    if s.disc_start <= 0:
        return f" Orange shading: the adversarial phase, from {where}: the discriminator is on from the start."
    if s.switch_step != s.disc_start:
        return (f" Shading: blue before the discriminator, orange the adversarial phase from "
                f"{pos.at(s, s.switch_step)}, where the data show it on (dashed line); the config's disc_start "
                f"{where} dotted.")
    return f" Shading: blue before the discriminator, orange the adversarial phase from {where} (dashed line)."
