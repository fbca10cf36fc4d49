"""The sweep report, the comparison report and the CI step summary as views (view.py), from the same pieces as a
run's report: the status line, the findings table, metric tables, figures named by file."""

from __future__ import annotations

import math

from ._version import __version__
from .compare import LOWER_IS_BETTER, peers
from .frame import file_slug
from .narrative import kinds_of, recommendations
from .numbers import fmt, pct
from .view import (
    Block,
    Bullets,
    Heading,
    Image,
    Paragraph,
    ReportView,
    Row,
    Section,
    Table,
    Text,
    bold,
    cell,
    code,
    compared_with,
    counts_of,
    findings_table,
    footer,
    joined,
    link,
    phase_seen,
    sev,
    status_parts,
    text,
)

OVERLAY_NOTE = "Dashed: each run's disc_start, in its colour."


def phase_word(a) -> str:
    """The phase column of a table of runs: a finished run is finished, whatever phase it ended in."""
    if a.finished:
        return "finished"
    return phase_seen(a)  # a model without a discriminator: "autoencoder only" (Analysis.phase)


def _status_cell(a) -> Text:
    return text(sev(a.status)) if a is not None else text(sev("error"), " (unreadable)")


def config_table(c, key_header: str) -> Table:
    """The config keys whose values differ between the runs, a column per run."""
    return Table((key_header, *c.names), tuple(Row((text(code(key)), *(cell(v) for v in values)))
                                               for key, values in c.config_diff))


def overlay_images(plots, note: str = "") -> list[Image]:
    """The runs' curves on shared axes: one figure per metric."""
    return [Image(f"{p.name}.png", p.title, text(p.caption + (f" {note}" if note else ""))) for p in plots]


def overlay_files(plots) -> dict[str, tuple[bytes, str]]:
    return {f"{p.name}.png": (p.png, "image/png") for p in plots}


# ---- the sweep -------------------------------------------------------------------------------------------------

SWEEP_METRICS = ("rec_loss", "kl_loss", "total_loss", "disc_loss")


def overview_name(run_name: str) -> str:
    return f"{file_slug(run_name)}_overview.png"


def sweep_view(name: str, runs: list, status: str, comparison=None) -> ReportView:
    """A table of runs, the runs compared (config keys that differ, overlaid curves), then a section per run."""
    rows = []
    for i, run in enumerate(runs, 1):
        a = run.analysis
        if a is None:
            rows.append(Row((cell(run.name), _status_cell(None), *(cell(None),) * 9), "error"))
            continue
        warnings, errors = counts_of(a)
        levels = [cell(a.metrics[m].now if m in a.metrics else None) for m in SWEEP_METRICS]
        rows.append(Row((text(link(run.name, f"#run-{i}")), _status_cell(a), cell(a.step), text(_progress(a)),
                         cell(phase_word(a)), *levels, cell(warnings), cell(errors))))
    table = Table(("Run", "Status", "Step", "Progress", "Phase", *SWEEP_METRICS, "Warnings", "Errors"), tuple(rows),
                  (False, False, True, True, False, True, True, True, True, True, True))
    since = runs.since_said()  # runs new since the last report, and those it had that are gone
    sections = [Section("Runs", (table, *((Paragraph(text(since)),) if since else ())))]
    if comparison is not None:
        blocks: list[Block] = [*_ahead(comparison, runs), _config_said(comparison, runs, comparison.configs_missing)]
        # the dashes are drawn only where a run has a disc_start: no note about lines that are not there
        marked = any(run.analysis is not None and run.analysis.schedule.disc_start is not None for run in runs)
        blocks += overlay_images(comparison.plots, OVERLAY_NOTE if marked else "")
        sections.append(Section("Runs compared", tuple(blocks)))
    sections += [_sweep_run(run, i) for i, run in enumerate(runs, 1)]
    banner = Paragraph(text(bold(f"Status: {status}"), f" · {len(runs)} runs"), status)
    title = f"{kinds_of([run.analysis for run in runs])} sweep report: {name}"
    return ReportView(text(title), status, banner, tuple(sections), footer(__version__))


def _sweep_run(run, index: int) -> Section:
    a = run.analysis
    if a is None:
        return Section(f"Run: {run.name}", (Paragraph(text(sev("error"), f": could not be read: {run.error}")),),
                       f"run-{index}")
    u = a.schedule.counts  # what the logs' step axis counts: step, epoch, sample, line
    blocks: list[Block] = [Paragraph(text(bold(a.status), " · " + " · ".join(status_parts(a, u))), a.status)]
    b = a.since_baseline
    if b:
        def rules(found: list) -> Text:
            return joined(text(code(f["rule"])) for f in found)
        passed = joined(text(f"{u} {fmt(m['step'])} ({m['name']})") for m in b["milestones_passed"])
        blocks.append(Paragraph(text(
            f"Since last report: {fmt(b['steps_gained'])} {u}s gained (from {u} {fmt(b['step_then'])}, status then "
            f"{b['status_then']}); new findings: ", rules(b["findings_new"]), "; resolved: ",
            rules(b["findings_resolved"]), "; milestones passed: ", passed, ".")))
        if b.get("identity_note"):  # as the run's own report says it: the baseline's run, moved or unchecked
            blocks.append(Paragraph(text(f"Note: {b['identity_note']}."), "muted"))
    blocks.append(findings_table(a.active_findings(), related=False, counts=a.schedule.counts))
    if a.status in ("warning", "error"):  # what to do about this run, as its own report says it
        blocks.append(Bullets(tuple(text(todo) for todo in recommendations(a))))
    blocks.append(Table(("Metric", "Start", "Now", "Min", "Max", "Points"), tuple(
        Row((cell(m), text(fmt(st.start)), text(fmt(st.now)), text(fmt(st.min)), text(fmt(st.max)),
             text(fmt(st.count)))) for m, st in a.metrics.items()), (False, True, True, True, True, True)))
    if run.overview is not None:
        shown = [m for m in ("total_loss", "kl_loss", "quant_loss", "rec_loss", "disc_loss") if m in a.metrics]
        blocks.append(Image(overview_name(run.name), f"{run.name} overview", text(f"{run.name}: {', '.join(shown)}.")))
    return Section(f"Run: {run.name}", tuple(blocks), f"run-{index}")


# ---- the comparison --------------------------------------------------------------------------------------------

def comparison_view(c, runs: list, configs_missing: list[str]) -> ReportView:
    """Which run is better on the target and why, the config differences, the current levels, the curves, and
    each run's findings."""
    rows = []
    for r in runs:
        a = r.analysis
        if a is None:
            rows.append(Row((cell(r.name), cell(r.path), _status_cell(None), *(cell(None),) * 6), "error"))
            continue
        warnings, errors = counts_of(a)
        rows.append(Row((cell(r.name), cell(r.path), _status_cell(a), cell(a.step), text(_progress(a)),
                         cell(phase_word(a)), cell(a.schedule.disc_start), cell(warnings), cell(errors))))
    table = Table(("Run", "Source", "Status", "Step", "Progress", "Phase", "disc_start", "Warnings", "Errors"),
                  tuple(rows), (False, False, False, True, True, False, True, True, True))
    sections = [Section("Runs", (table,)), _verdict(c), _config_differences(c, runs, configs_missing), _levels(c, runs),
                Section("Curves", tuple(overlay_images(c.plots)))]
    sections.append(Section("Findings per run", tuple(b for r in runs for b in _findings_of(r))))
    worst = "error" if any(r.analysis is None for r in runs) else max(
        (r.analysis.status for r in runs), key=("ok", "info", "warning", "error").index, default="ok")
    names = " · ".join(c.names)
    banner = Paragraph(text(bold(f"{len(runs)} runs"), " compared" + (f" on {c.verdict.target}" if c.verdict else "")
                            + "."))
    title = f"{kinds_of([r.analysis for r in runs])} run comparison: {names}"
    return ReportView(text(title), worst, banner, tuple(sections), footer(__version__))


def _verdict(c) -> Section:
    if not c.verdict:
        return Section("Verdict", (Paragraph(text("Fewer than two runs could be read: nothing to compare.")),))
    blocks: list[Block] = [Paragraph(text(c.verdict.answer))]
    if c.verdict.reasons:
        blocks.append(Bullets(tuple(text(reason) for reason in c.verdict.reasons)))
    return Section("Verdict", tuple(blocks))


def _config_differences(c, runs: list, missing: list[str]) -> Section:
    layouts = [Paragraph(text("The configs are laid out differently (" + ", ".join(
        f"{r.name} {r.analysis.schedule.layout}" for r in runs if r.analysis is not None and r.name not in missing)
        + "): the same setting sits under other keys, so the schedule's settings are compared by what they mean, "
        "each with the run's value and where it came from, and the other keys are not compared."))] \
        if c.layouts_differ else []
    return Section("Config differences", (*layouts, _config_said(c, runs, missing)))


def _config_said(c, runs: list, missing: list[str]) -> Block:
    """The config keys that differ, or why there are none to show: no config anywhere, or configs that agree."""
    if c.config_diff:
        return config_table(c, "Setting" if c.layouts_differ else "Key")
    if len(missing) >= len([r for r in runs if r.analysis is not None]):
        return Paragraph(text("No training config was found in any run: no setting can be compared or named as the "
                              "cause of a difference (the run names are all that tells them apart)."))
    if c.layouts_differ:
        return Paragraph(text("They agree in every setting of the schedule."))
    return Paragraph(text("The configs found do not differ" + (f" (no config found for: {', '.join(missing)})"
                                                              if missing else "") + "."))


def _ahead(c, runs: list) -> tuple[Block, ...]:
    """Where the runs stand on each loss, lowest first, at one step only: runs level with each other (not apart
    beyond their levels' noise) named together, each tier below the next beyond the noise of every pair."""
    readable = [r for r in runs if r.analysis is not None]
    group = peers([r.analysis for r in runs])
    if not group:
        return (Paragraph(text("The runs stand at different steps (" + ", ".join(
            f"{r.name} {fmt(r.analysis.step)}" for r in readable) + "): their current levels are not ranked.")),)
    losses = [m for m in c.latest if m.metric in LOWER_IS_BETTER]
    broken = [n for i, n in enumerate(c.names) if i in group and any(
        m.values[i] is not None and not math.isfinite(m.values[i]) for m in losses)]
    gone = f" {', '.join(broken)}: not finite now, not ranked." if broken else ""
    gone += _elsewhere(runs, group)
    # a loss whose values are different quantities (totals of different weights) is not level: it is not ranked
    gone += "".join(f" {m.metric}: not ranked, {m.unranked}." for m in losses if m.unranked)
    ranked = [m for m in losses if m.lead]
    level = [m.metric for m in losses if not m.lead and not m.unranked]
    if not ranked:
        if not level:
            return (Paragraph(text(gone.strip())),)
        return (Paragraph(text("No run is apart from another on a loss beyond the levels' noise (losses lower is "
                               "better: " + ", ".join(level) + ")." + gone)),)

    def tier(m, runs_in: tuple[int, ...]) -> str:
        return " and ".join(f"{c.names[i]} ({fmt(m.values[i])})" for i in runs_in)
    said = Paragraph(text("Lowest first, lower is better; runs named together are level with each other (not apart "
                          "beyond their levels' noise), and each group is below the next beyond the noise of every "
                          "pair:"))
    listed = Bullets(tuple(text(f"{m.metric}: " + "; then ".join(tier(m, t) for t in m.tiers)) for m in ranked))
    return (said, listed, *((Paragraph(text(gone.strip())),) if gone else ()))


def _elsewhere(runs: list, group: tuple[int, ...]) -> str:
    """The readable runs left out of the ranking because they stand at another step than the ranked ones."""
    aside = [r for i, r in enumerate(runs) if r.analysis is not None and i not in group]
    if not aside:
        return ""
    at = fmt(max(runs[i].analysis.step for i in group))
    return (" " + ", ".join(f"{r.name} (step {fmt(r.analysis.step)})" for r in aside)
            + f": {'stands' if len(aside) == 1 else 'stand'} at another step than the runs ranked (step {at}), "
            "not ranked against them.")


def _levels(c, runs: list) -> Section:
    readable = [r for r in runs if r.analysis is not None]
    group = peers([r.analysis for r in runs])
    steps = ", ".join(f"{r.name} {fmt(r.analysis.step)}" for r in readable)
    where = (f"; the runs stand at different steps ({steps}), so none is ranked here" if not group
             else f"; the runs stand at different steps ({steps}): only those at step "
                  f"{fmt(max(runs[i].analysis.step for i in group))} are ranked here" if len(group) < len(readable)
             else "") + "; the verdict above compares the runs at matched steps"
    said = Paragraph(text(
        "Each run's current level (the median of its latest points in its current phase, as its own report gives "
        f"it: a single point where the phase has just begun), each at its own last step{where}. The lowest loss is "
        "in ", bold("bold"), " only where the runs stand at the same step, every run logs the same quantity (same "
        "kind of source; totals of the same weights) and it is below every other run beyond the two levels' noise "
        "(several in bold: level with each other, all below the rest)."))
    rows = tuple(Row((cell(m.metric), *(text(bold(fmt(v))) if i in m.lead else cell(v)
                                        for i, v in enumerate(m.values)))) for m in c.latest)
    return Section("Current levels", (said, Table(("Metric", *c.names), rows, (False, *(True,) * len(c.names)))))


def _findings_of(r) -> tuple[Block, ...]:
    if r.analysis is None:
        return Heading(text(r.name)), Paragraph(text(sev("error"), f": could not be read: {r.error}"))
    shown = [f for f in r.analysis.active_findings() if f.severity != "ok"]
    empty = Row((text(sev("ok")), cell(None), cell(None), cell(None), text("No rule raised more than ok.")), "ok")
    return Heading(text(r.name)), findings_table(shown, related=False, empty=empty, counts=r.analysis.schedule.counts)


# ---- the CI step summary ---------------------------------------------------------------------------------------

SUMMARY_METRICS = ("total_loss", "rec_loss", "nll_loss", "kl_loss", "quant_loss", "disc_loss", "g_loss", "d_weight",
                   "lr")


def summary_sections(analyses: list, unreadable: list[tuple[str, str]]) -> list[Section]:
    """What GitHub shows on a workflow's page: per run its status, warnings and errors, key metrics, milestones;
    no image (the page cannot show files beside it)."""
    out = []
    for a in analyses:
        name = a.run.rstrip("/").split("/")[-1]
        u = a.schedule.counts
        line = status_parts(a, u, confidence=False)
        line[0] = line[0][0].upper() + line[0][1:]
        bad = [f for f in a.active_findings() if f.severity in ("warning", "error")]
        blocks: list[Block] = [Paragraph(text(" · ".join(line)))]
        blocks += _since_last_report(a)
        blocks.append(findings_table(bad, related=False, counts=u) if bad else Paragraph(text("No warning or error.")))
        blocks.append(Table(("Metric", "Now", "Min", "Max", "Points"), tuple(
            Row((cell(m), text(fmt(st.now)), text(fmt(st.min)), text(fmt(st.max)), text(fmt(st.count))))
            for m in SUMMARY_METRICS for st in [a.metrics.get(m)] if st is not None), (False, True, True, True, True)))
        # a finished run's last log may sit a logging interval short of its total: its end is passed all the same
        # (as "Since last report" counts it)
        ended = a.schedule.total_steps if a.finished else None
        milestones = [text(f"{u} {fmt(m.step)} ({m.name}, "
                           f"{'passed' if a.step >= m.step or m.step == ended else 'ahead'})")
                      for m in a.schedule.milestones()]
        blocks.append(Paragraph(text("Milestones: ", joined(milestones, "; ", "none known"), ".")))
        out.append(Section(f"vae-report: {name} — {a.status}", tuple(blocks), tone=a.status))
    for name, error in unreadable:
        out.append(Section(f"vae-report: {name} — could not be read", (Paragraph(text(error)),), tone="error"))
    return out


def _since_last_report(a) -> list[Block]:
    """With --baseline, what a weekly CI job's page must say: the last report's status, and each change that
    matters since (milestones passed, findings new and cleared, a finish or resume, metrics beyond their noise),
    the same sentences as the report's "Since last report"."""
    b = a.since_baseline
    if not b:
        return []
    blocks: list[Block] = [Paragraph(text(bold("Since last report"), ": ", compared_with(b, a.schedule.counts)))]
    if b.get("identity_note"):
        blocks.append(Paragraph(text(f"Note: {b['identity_note']}."), "muted"))
    blocks.append(Bullets(tuple(text(c) for c in b["changes"])) if b.get("changes") else Paragraph(text(
        "No change that matters since then: no milestone passed, no finding new or cleared, no unplanned move "
        "beyond a metric's noise.")))
    return blocks


def _progress(a) -> str:
    """A finished run is done, not "100%" of a total its last logged step falls short of."""
    return "done" if a.finished else pct(a.progress)
