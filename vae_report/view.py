"""The report view: what a report says, as plain immutable data built once in Python; the Markdown and HTML
templates only print it. Text is a tuple of ``Span``s (text and a style), so text from logs, folder names and
configs is escaped by the formatter of each format and never mixed with markup; numbers arrive formatted.

The pieces every report shares (status line, findings table, metric tables) are built here; the single run's
sections are in report_view.py, the sweep's, the comparison's and the CI summary's in views.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from . import position as pos
from .numbers import change_said, fmt, pct
from .text import first_sentence

Style = Literal["plain", "bold", "code", "emph", "link", "sev"]
SEVERITIES = ("error", "warning", "info", "ok")


@dataclass(frozen=True)
class Span:
    """A run of text in one style; ``sev`` is a severity (ok/info/warning/error) each format marks its way
    (an icon in Markdown, a coloured label in HTML); ``link`` goes to ``href``."""

    text: str
    style: Style = "plain"
    href: str = ""


Text = tuple[Span, ...]


@dataclass(frozen=True)
class Paragraph:
    text: Text
    tone: str = ""  # "" | "muted" | "footer" | a severity: the status banner
    kind: ClassVar[str] = "paragraph"


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: Text
    anchor: str = ""
    kind: ClassVar[str] = "heading"


@dataclass(frozen=True)
class Bullets:
    items: tuple[Text, ...]
    ordered: bool = False
    kind: ClassVar[str] = "bullets"


@dataclass(frozen=True)
class Row:
    cells: tuple[Text, ...]
    tone: str = ""  # a severity: the row is coloured in HTML


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    numeric: tuple[bool, ...] = ()  # per column: right-aligned
    kind: ClassVar[str] = "table"


@dataclass(frozen=True)
class Image:
    """A figure: ``name`` is its file in the report's folder of images (Markdown) or its key for embedding (HTML)."""

    name: str
    alt: str
    caption: Text
    role: str = "plot"  # "plot" | "sample" (a small grid, drawn larger in HTML)
    kind: ClassVar[str] = "image"


@dataclass(frozen=True)
class Chart:
    """A figure drawn by the page's script (--interactive): its chart's markup where the image would be, and the
    figure's caption under it (the Markdown prints the caption)."""

    html: str
    caption: Text
    kind: ClassVar[str] = "chart"


@dataclass(frozen=True)
class Raw:
    """Markup only the HTML page shows (the --interactive charts, their script embedded)."""

    html: str
    kind: ClassVar[str] = "raw"


Block = Paragraph | Heading | Bullets | Table | Image | Chart | Raw


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]
    anchor: str = ""
    tone: str = ""  # a severity: its mark before the title


@dataclass(frozen=True)
class ReportView:
    title: Text
    status: str  # the worst severity: the page's colour
    banner: Paragraph
    sections: tuple[Section, ...]
    footer: Text = field(default=())

    def __post_init__(self) -> None:
        # a heading with nothing under it says nothing: every view (report, sweep, comparison) leaves it out, so
        # a section builder that found nothing to say cannot print an empty section
        object.__setattr__(self, "sections", tuple(s for s in self.sections if s.blocks))

    def images(self) -> list[Image]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Image)]


# ---- text helpers: a Text from parts (str -> plain span) -----------------------------------------------------

def text(*parts: str | Span | Text | None) -> Text:
    out: list[Span] = []
    for part in parts:
        if part is None or part == "":
            continue
        if isinstance(part, Span):
            out.append(part)
        elif isinstance(part, tuple):
            out.extend(part)
        else:
            out.append(Span(str(part)))
    return tuple(out)


def bold(value: object) -> Span:
    return Span(str(value), "bold")


def code(value: object) -> Span:
    return Span(str(value), "code")


def sev(severity: str) -> Span:
    return Span(severity, "sev")


def link(value: object, href: str) -> Span:
    return Span(str(value), "link", href)


def joined(items: Iterable[Text], sep: str = ", ", empty: str = "none") -> Text:
    """Texts one after another with ``sep`` between them; ``empty`` when there are none."""
    out: list[Span] = []
    for i, item in enumerate(items):
        if i:
            out.append(Span(sep))
        out.extend(item)
    return tuple(out) if out else (Span(empty),)


def cell(value: object) -> Text:
    """A table cell from a value: numbers formatted, None as a dash."""
    if value is None:
        return (Span("—"),)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (Span(fmt(value)),)
    return (Span(str(value)),)


def change(stats) -> str:
    """A change as the tables' Change columns write it (a statistics row, or a weekly delta's dict), one notation
    a column: a factor where a ratio means something (``change_fraction`` is None across a sign change and for
    signed quantities), else the difference. CHANGE_NOTE says so under each table."""
    get = stats.get if isinstance(stats, dict) else lambda key: getattr(stats, key)
    return change_said(get("change_fraction"), get("change"))


CHANGE_NOTE = ("Change is a factor: x for a rise, ÷ for a fall (x1.10 is 10% up, ÷2.00 a halving); for a metric "
               "whose zero means nothing (logits, g_loss) or that changed sign, the difference (+6.6).")


def step_of(value: int | None) -> str:
    return "—" if value is None else fmt(value)


# ---- pieces every report shares ------------------------------------------------------------------------------

def phase_seen(a) -> str:
    """The phase the summary's ``phase`` gives (so the two never disagree), and beside it what the data show:
    past disc_start, a discriminator that never switched on leaves the autoencoder training alone, and one that
    is never stepped (its optimizer never runs) leaves the generator's GAN term against an untrained one."""
    if a.phase == "adversarial" and a.disc_never_on:
        start = pos.at(a.schedule, a.schedule.switch_step)
        if any(f.rule == "disc-never-trained" for f in a.active_findings()):
            return (f"adversarial (from {start}), but the discriminator is never trained (its optimizer never "
                    "steps): the GAN term plays against an untrained discriminator")
        return (f"adversarial by the schedule (from {start}), but the discriminator never switched on: the "
                "autoencoder trains alone")
    if a.schedule.adversarial_off == "disc_factor":
        return "autoencoder only (the config's disc_factor is 0)"
    return a.phase


def compared_with(b: dict, unit: str) -> Text:
    """The sentence that opens what changed since the last report (``since_baseline``): its step, when it was
    written, and its status then; the report's section and the CI step summary say it alike."""
    # the summary's own writing time, never beside the step as if that step were logged then
    return text(f"Compared with the summary of {unit} {fmt(b['step_then'])}",
                f" (a summary written {b['baseline_generated_at']})" if b.get("baseline_generated_at") else "",
                f", status then: {b['status_then']}.")


def status_parts(a, unit: str | None = None, confidence: bool = True) -> list[str]:
    """``step 1,200 of 5,000 (24%)``, ``phase: ...`` (or ``training finished``), ``next milestone: ...`` and
    ``confidence: ...``: the status line's parts, in ``unit`` (the schedule's: step, epoch...)."""
    s = a.schedule
    unit = unit or s.counts
    where = f"{unit} {fmt(a.step)}"
    if s.total_steps:  # a finished run's last logged step is not "100%" of a total it falls short of
        where += f" of {fmt(s.total_steps)}" + ("" if a.finished else f" ({pct(a.progress)})")
    elif s.passed_total:  # the config's total is behind the logs: not this run's (the overview says why)
        where += f", past the config's total of {fmt(s.passed_total)}"
    parts = [where, "training finished" if a.finished else f"phase: {phase_seen(a)}"]
    if a.ended and not a.finished:
        parts.append(f"ended early ({a.ended})")
    if a.next_milestone:
        m = a.next_milestone
        parts.append(f"next milestone: {unit} {fmt(m.step)} ({m.name}), {fmt(a.steps_to_next)} {unit}s away")
    if confidence:
        parts.append(f"confidence: {a.confidence}")
    return parts


def finding_row(f, related: bool = True) -> Row:
    """One finding as a row of the findings table: severity, rule, metric, step, message (and the findings of
    the same cause it heads)."""
    message = text(f.message)
    if related and f.related:
        # each finding cited names the metrics it is on: a row about one metric never folds in another without
        # saying which, and names none twice
        message = text(message, " ", bold("Same cause:"), " ", joined(_cited(f), "; "), ".")
    # the title, as every sentence that points to a finding names it, and the id, as the JSON and --thresholds do
    named = text(f.title, " ", code(f.rule)) if f.title else text(code(f.rule))
    return Row((text(sev(f.severity)), named, cell(f.metric), text(step_of(f.step)), message), f.severity)


def _cited(f) -> list[Text]:
    """The findings cited under a headline, each with its evidence: the same case of the same rule on other
    metrics at its step as those metrics, once; any other as its title, severity and metric and its first
    sentence (the numbers), which places it itself (a trend's step is the end of its stretch, not an onset)."""
    cases: dict[tuple, list[dict]] = {(f.rule, f.step): []}  # one rule's case at one step, on several metrics
    for r in f.related:
        cases.setdefault((r["rule"], r.get("step")), []).append(r)
    out = []
    for (rule, step), found in cases.items():
        metrics = ", ".join(dict.fromkeys(r["metric"] for r in found if r["metric"]))
        if rule == f.rule and step == f.step:
            if found:
                out.append(text(f"the same on {metrics} from {pos.at(f.unit, f.step)}"))
            continue
        r = found[0]
        # a change the cell already measured is named, not measured again from this finding's own window
        said = "the same change" if r.get("restates") else first_sentence(r["message"]).rstrip(".")
        on = ", ".join(m for m in dict.fromkeys(x["metric"] for x in found) if m)  # the same case on each
        out.append(text(bold(r.get("title") or r["rule"]), f" ({r['severity']}, {on or 'no metric'}): ", said))
    return out


FINDINGS_HEADER = ("", "Rule", "Metric", "Step", "Finding")
FINDINGS_NUMERIC = (False, False, False, True, False)


def by_severity(findings: Iterable) -> list:
    """Worst first, in the order the rules gave them within a severity."""
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity) if f.severity in SEVERITIES else 0)


def findings_table(findings: Iterable, related: bool = True, empty: Row | None = None, counts: str = "step") -> Table:
    """The findings, worst first; ``counts``: what the logs' step axis counts (epoch, sample, line), the column's
    name."""
    rows = tuple(finding_row(f, related) for f in by_severity(findings))
    if not rows and empty is not None:
        rows = (empty,)
    header = FINDINGS_HEADER[:3] + (counts.capitalize(),) + FINDINGS_HEADER[4:]
    return Table(header, rows, FINDINGS_NUMERIC)


def counts_of(a) -> tuple[int, int]:
    """The active warnings and errors of an analysis."""
    active = a.active_findings()
    return (sum(f.severity == "warning" for f in active), sum(f.severity == "error" for f in active))


def footer(version: str, generated_at: str = "") -> Text:
    return text(f"Generated by vae-report {version}" + (f" on {generated_at}" if generated_at else "") + ".")
