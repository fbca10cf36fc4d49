"""One run's report as a view (view.py): one function per section, every sentence written once for both formats.
Figures arrive drawn (figures.py): the view names them, the formatter places them."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from . import narrative
from . import position as pos
from ._version import __version__
from .figures import Figures
from .levels import window_size
from .narrative import DISC_CHECKS, cite, has_discriminator, model_kind, ok_meaning
from .numbers import counted, fmt, interval, pct
from .rules.base import RANK
from .schedule import AUTOENCODER_ONLY
from .settings import config_keys, setting_origin, setting_value
from .view import (
    CHANGE_NOTE,
    Block,
    Bullets,
    Chart,
    Heading,
    Image,
    Paragraph,
    Raw,
    ReportView,
    Row,
    Section,
    Table,
    Text,
    bold,
    cell,
    change,
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

KEY_METRICS = ("total_loss", "kl_loss", "rec_loss", "disc_loss")
def report_view(a, figures: Figures | None = None) -> ReportView:
    """The whole report of one run: status, then the sections in the order a reader asks their questions."""
    figures = figures or Figures()
    name = Path(a.run).name or a.run
    sections = [findings(a), since_last_report(a), overview(a), key_metrics(a), configuration(a), progress(a),
                forecast(a), recommendations(a, figures), statistics(a), reconstructions(figures),
                visualizations(a, figures), questions(a), conclusion(a), sources(a)]
    banner = Paragraph(text(bold(f"Status: {a.status}"), " · " + " · ".join(status_parts(a))), a.status)
    return ReportView(text(f"{model_kind(a)} training report: {name}"), a.status, banner,
                      tuple(s for s in sections if s is not None), footer(__version__, a.generated_at))


def findings(a) -> Section:
    blocks: list[Block] = [findings_table(a.active_findings(), counts=a.schedule.counts)]
    skipped = [f for f in a.findings if f.skipped]
    # a model without a discriminator has no discriminator to check: one clause for those, not a list of needs
    absent = [] if has_discriminator(a) else [f for f in skipped if f.rule in DISC_CHECKS]
    skipped = [f for f in skipped if f not in absent]
    if skipped or absent:
        def why(f) -> str:
            missing = f.numbers.get("missing")
            if f.numbers.get("not_judged"):  # a stretch that trained nothing (rules.untrained)
                return str(f.numbers["not_judged"])
            if missing:
                return f"needs {', '.join(missing)}"
            reason = f.numbers.get("not_applicable")
            return reason if isinstance(reason, str) else "not applicable to this model"
        reasons: dict[str, list] = {}  # checks skipped for one reason share it: "`a`, `b` (needs x)"
        for f in skipped:
            reasons.setdefault(why(f), []).append(f.rule)
        said = [text(joined([text(code(rule)) for rule in rules], ", "), f" ({reason})")
                for reason, rules in reasons.items()]
        if absent:
            said.insert(0, text(f"the {counted(len(absent), 'discriminator check')} (this model has no "
                                "discriminator)"))
        blocks.append(Paragraph(text("Not checked: ", joined(said, "; "), "."), "muted"))
    return Section("Findings", tuple(blocks), anchor="findings")


def _finding_ref(f: dict) -> Text:
    return text(code(f["rule"]), f" ({f['severity']}" + (f", {f['metric']}" if f.get("metric") else "") + ")")


def since_last_report(a) -> Section | None:
    b = a.since_baseline
    if not b:
        return None
    u = a.schedule.counts
    blocks: list[Block] = [Paragraph(compared_with(b, u))]
    if b.get("identity_note"):
        blocks.append(Paragraph(text(f"Note: {b['identity_note']}."), "muted"))
    if b.get("changes"):
        blocks.append(Bullets(tuple(text(c) for c in b["changes"])))
    gained = fmt(b["steps_gained"])
    if b.get("progress_gained") is not None:
        gained += f" ({pct(b['progress_then'])} → {pct(a.progress)})"
    if b.get("hours_between_logs") is not None:
        gained += f", with {fmt(b['hours_between_logs'])} hours of wall time between the two reports' last logs"
        if b.get("steps_per_hour_since"):
            gained += f" ({fmt(int(round(b['steps_per_hour_since'])))} {u}s per hour, pauses included)"
    passed = [text(f"{u} {fmt(m['step'])} ({m['name']})") for m in b["milestones_passed"]]
    blocks.append(Bullets((
        text(bold(f"{u.capitalize()}s gained"), ": ", gained),
        text(bold("Milestones passed"), ": ", joined(passed)),
        text(bold("New findings"), ": ", joined(_finding_ref(f) for f in b["findings_new"])),
        text(bold("Resolved findings"), ": ", joined(_finding_ref(f) for f in b["findings_resolved"])),
    )))
    blocks.append(Paragraph(text(
        "Levels are each metric's current level at the two reports (the median of its latest points in the current "
        "phase; a sparse metric's last point); ✱ marks a change beyond their noise. " + CHANGE_NOTE), "muted"))
    rows = []
    for metric, c in b["metrics"].items():
        moved = f"not compared: {c['not_comparable']}" if c.get("not_comparable") else change(c)
        rows.append(Row((cell(metric), text(fmt(c["then"])), text(fmt(c["now"])),
                         text(moved + (" ✱" if c.get("beyond_noise") else "")))))
    blocks.append(Table(("Metric", "Then", "Now", "Change"), tuple(rows), (False, True, True, True)))
    return Section("Since last report", tuple(blocks))


def _total_unknown(s) -> Text:
    if s.unit_note or s.total_note:
        return text(f"total unknown: {s.unit_note or s.total_note}")
    return text(f"total {s.counts}s unknown: no ", code("train_num_steps"), "/", code("max_steps"),
                " in the config and none in the logs")


def _phase(a) -> str | Text:
    s = a.schedule
    if a.finished:
        out = (f"training has finished: the last logged {s.counts} ({fmt(a.step)}, logged every "
               f"{pos.count(s, a.log_every)}) "
               "is the run's last")
        if s.adversarial_off == "disc_factor":
            out += "; the config's disc_factor 0 kept the adversarial term off throughout"
        elif s.adversarial_off == "beyond":
            out += f"; it ended before disc_start ({fmt(s.switch_step)}), so no adversarial phase ran"
        elif s.switch_step is not None and a.step >= s.switch_step and not a.disc_never_on:
            out += f"; the adversarial phase ran from {s.counts} {fmt(s.switch_step)}"
        return out
    if s.adversarial_off == "disc_factor":
        return (f"{AUTOENCODER_ONLY}: the config's disc_factor 0 multiplies the adversarial term by 0, so no "
                "adversarial phase runs")
    if a.phase == "before discriminator" and s.adversarial_off == "beyond":
        return (f"before the discriminator, for the whole run: disc_start ({fmt(s.switch_step)}) lies past the end "
                f"of training ({fmt(s.total_steps)}), so the autoencoder trains alone")
    if a.phase == "before discriminator":
        return (f"before the discriminator ({s.counts}s 0–{fmt(s.switch_step - 1)}): autoencoder only, GAN terms "
                "weighted by 0")
    if a.phase == "adversarial" and a.disc_never_on:  # the status line's words, and where the finding is
        worst = max((f.severity for f in a.active_findings() if f.rule in ("disc-inactive-after-start",
                                                                           "disc-never-trained")),
                    key=RANK.get, default="warning")
        return f"{phase_seen(a)} (see the {worst})"
    if a.phase == "adversarial":
        out = f"adversarial (from {s.counts} {fmt(s.switch_step)}): autoencoder and discriminator train together"
        if s.switched_late:
            out += (f" (the data show it on only from {pos.at(s, s.observed_disc_start)}, after the config's "
                    f"disc_start {fmt(s.disc_start)}: see the warning)")
        elif s.observed_disc_start is not None:
            out += (f" (the data show it on from {pos.at(s, s.observed_disc_start)}; the config found says disc_start "
                    f"{fmt(s.disc_start)}, so it is not the one this run used)")
        return out
    if a.phase == AUTOENCODER_ONLY:
        return f"{AUTOENCODER_ONLY}: this model has no discriminator, so it has no adversarial phase"
    if s.unit_note:
        return f"not judged: {s.unit_note}"
    return text("unknown (no ", code("disc_start"), ")")


def _next_milestone(a, away: bool = True) -> str:
    s = a.schedule
    if a.next_milestone:
        m = a.next_milestone
        return f"{s.counts} {fmt(m.step)} ({m.name})" + (f", {fmt(a.steps_to_next)} {s.counts}s away" if away else "")
    if a.finished:
        return "none: training has finished"
    if a.halted:  # why is said once, in the overview; the conclusion points there
        return f"none: {a.halted}" if away else "none: the run cannot go on as it is (see the Training overview)"
    if s.layout == "none" and not s.total_steps:
        return "none known: no training config and no total in the logs"
    if not s.total_steps:
        return f"none known: the total {s.counts}s are unknown"
    return "none left in the schedule" if away else "none"


def overview(a) -> Section:
    s = a.schedule
    if a.finished:
        current = f"{fmt(a.step)} of {fmt(s.total_steps)}: the last logged {s.counts}, so training has finished"
    elif s.total_steps:
        current = f"{fmt(a.step)} of {fmt(s.total_steps)} ({pct(a.progress)} complete)"
    else:
        current = text(f"{fmt(a.step)} (", _total_unknown(s), ")")
    items = [text(bold("Run"), ": ", code(a.run)), text(bold(f"Current {s.counts}"), ": ", current)]
    if a.late_start:
        items.append(text(bold(f"Logs begin at {s.counts} {fmt(a.late_start)}"),
                          f": the first {fmt(a.late_start)} {s.counts}s are not"
                          " in these logs, so \"over the run\" below means from there"))
    items += [text(bold("Phase"), ": ", _phase(a)), text(bold("Next milestone"), ": ", _next_milestone(a)),
              text(bold("Logs read"), f": {counted(len(a.sources), 'file')}, {counted(len(a.metrics), 'metric')}")]
    return Section("Training overview", (Bullets(tuple(items)),))


def _by_metric(a) -> dict[str, list]:
    """The findings on each metric, for its section and its plot: each is said once, in the findings list; a
    warning or an error carries its pointer there for the plot's caption."""
    out: dict[str, list] = {}
    for f in a.active_findings():
        if f.metric:
            loud = f.severity in ("warning", "error")
            out.setdefault(f.metric, []).append(replace(f, message=cite(f, a.schedule.counts)) if loud else f)
    return out


def key_metrics(a) -> Section:
    by_metric = _by_metric(a)
    blocks: list[Block] = []
    # a key loss logged only in validation (val/rec_loss) is the one there is to analyse
    names = [n if n in a.metrics else f"val/{n}" for n in KEY_METRICS if n in a.metrics or f"val/{n}" in a.metrics]
    if not names:
        return Section("Key training metrics analysis", (Paragraph(text(
            "None of the key losses (total_loss, kl_loss, rec_loss, disc_loss) is logged, in training or "
            "validation: the Training statistics section lists what is.")),))
    for name in names:
        st = a.metrics[name]
        blocks.append(Heading(text(name)))
        u = a.schedule.counts
        blocks.append(Paragraph(text(bold("Observation"), f": from {u} {fmt(st.first_step)} to {u} "
                                     f"{fmt(st.latest_step)} it {st.describe()} ({_levels_named(st)}); range "
                                     f"{fmt(st.min)} to {fmt(st.max)} over {fmt(st.count)} points (source: "
                                     f"{st.source}).")))
        if name == "total_loss" and a.decomposition:
            blocks.append(Paragraph(text(bold("What it is made of"), ": ", a.decomposition.sentence())))
        if by_metric.get(name):
            blocks.append(Paragraph(_findings_named(by_metric[name])))
    return Section("Key training metrics analysis", tuple(blocks))


def _findings_named(found: list) -> Text:
    """A metric's findings named, not told again: each is said once, in full, in the findings table (a reader
    of the metric's section follows the link or the rule's id there)."""
    named = [text(sev(f.severity), " ", bold(f.title or f.rule), " (", code(f.rule), ")") for f in found]
    return text(link("Findings", "#findings"), ": ", joined(named, "; "), ".")


def _points(k: int, which: str) -> str:
    return f"its {which} point" if k <= 1 else f"the median of its {which} {fmt(k)} points"


def _levels_named(st) -> str:
    """Which points the start and current levels are, as the statistics table and the trend rules take them."""
    k = st.start_points or window_size(st.count - st.non_finite)
    if not math.isfinite(st.now):  # no level now: its latest point is NaN/Inf, whatever came before
        return f"start: {_points(k, 'first')}; now: its latest point"
    return f"start: {_points(k, 'first')}; now: {_points(st.level_points, 'latest')}"


def configuration(a) -> Section:
    s = a.schedule
    if s.layout == "none":
        said = text("No training config was found in the run folder or given with ", code("--config"),
                    "; values below come from the command line or the data.")
    else:
        said = text("Read from ", code(s.config_path), f" ({s.layout} layout",
                    text(", loss ", code(s.loss_class)) if s.loss_class else None, ")",
                    text("; its trainer settings from ", code(s.trainer_config)) if s.trainer_config else None, ".")
    def origin(key: str) -> str:  # the file named once above; here only what came from elsewhere
        said = setting_origin(s, key)
        return "config" if said == s.config_path else said

    rows = [Row((text(code(key)), text(setting_value(s, key)), cell(origin(key)))) for key in config_keys(s)]
    if s.disc_loss is not None or s.disc_scale != 1:  # the level every "chance level" of the report is
        rows.append(Row((text(code("disc_loss")), text(f"{s.disc_form}: chance level {fmt(s.disc_chance_level)}"),
                         cell(origin("disc_loss")))))
    if s.pixels_per_sample:
        rows.append(Row((text("pixels per sample (ddconfig)"), text(fmt(s.pixels_per_sample)), cell("config"))))
    return Section("Configuration analysis", (Paragraph(said), Table(("Setting", "Value", "From"), tuple(rows),
                                                                      (False, True, False))))


def _phases_off(a) -> tuple[Text, Text]:
    """The two phases of a config whose adversarial phase never runs (Schedule.adversarial_off): the first is the
    whole run, the second says why it never comes."""
    s = a.schedule
    if s.adversarial_off == "beyond":
        last = s.total_steps - 1
        first = "done: the whole run" if a.finished else f"current, {pct(a.step / s.total_steps)} through the run"
        second = (f"never reached: disc_start lies past the end of training at {s.counts} {fmt(s.total_steps)} "
                  f"({s.key_path('total_steps')})")
        return (text(bold("Phase 1, before the discriminator"), f" ({s.counts}s 0–{fmt(last)}): {first}."),
                text(bold("Phase 2, adversarial"), f" (from {s.counts} {fmt(s.switch_step)}): {second}."))
    first = "done" if a.finished or a.step >= s.switch_step else f"current, {pct(a.step / s.switch_step)} through"
    second = (f"off: the config's disc_factor 0 ({s.key_path('disc_factor')}) multiplies the adversarial term by 0,"
              " so the autoencoder trains alone here too")
    end = f"–{fmt(s.total_steps - 1)}" if s.total_steps else " on"
    return (text(bold("Phase 1, before the discriminator"), f" ({s.counts}s 0–{fmt(s.switch_step - 1)}): {first}."),
            text(bold("Phase 2, adversarial by disc_start"), f" ({s.counts}s {fmt(s.switch_step)}{end}): {second}."))


def progress(a) -> Section:
    s = a.schedule
    blocks: list[Block] = []
    if s.switch_step is not None and s.adversarial_off is not None:
        blocks.append(Bullets(_phases_off(a), ordered=True))
    elif s.switch_step is not None:
        if a.step < s.switch_step and not a.finished:
            first = f"current, {pct(a.step / s.switch_step)} through"
        else:
            first = "the run ended in it" if a.step < s.switch_step else "done"
        if a.finished and a.step >= s.switch_step:
            second = "done"
        elif a.step >= s.switch_step:
            if s.total_steps and s.total_steps > s.switch_step:
                second = f"current, {pct((a.step - s.switch_step) / (s.total_steps - s.switch_step))} through"
            else:
                why = s.unit_note or s.total_note
                unknown = f"total unknown: {why}" if why else f"total {s.counts}s unknown"
                second = f"current, {fmt(a.step - s.switch_step)} {s.counts}s in ({unknown})"
        else:
            second = "never reached" if a.finished else f"starts in {fmt(s.switch_step - a.step)} {s.counts}s"
        end = fmt(s.total_steps - 1) if s.total_steps else "end"
        blocks.append(Bullets((
            text(bold("Phase 1, before the discriminator"), f" ({s.counts}s 0–{fmt(s.switch_step - 1)}): {first}."),
            text(bold("Phase 2, adversarial"), f" ({s.counts}s {fmt(s.switch_step)}–{end}): {second}."),
        ), ordered=True))
    if s.total_steps:
        if a.finished:
            overall = (f"finished ({fmt(a.step)} is the last logged {s.counts} of {fmt(s.total_steps)}, logged every "
                       f"{pos.count(s, a.log_every)})")
        else:
            overall = f"{fmt(a.step)} / {fmt(s.total_steps)} {s.counts}s = {pct(a.progress)}"
        blocks.append(Paragraph(text(f"Overall: {overall}.")))
    if not blocks:  # neither phases nor a total to place the run in: say why rather than print an empty section
        why = s.unit_note or s.total_note or (f"the config gives no total in {s.counts}s" if s.layout != "none" else
                                              f"no training config was found, so the total in {s.counts}s is unknown")
        phases = "" if s.switch_step is not None or not has_discriminator(a) else ", nor where the discriminator starts"
        blocks.append(Paragraph(text(f"No progress can be assessed: {why}{phases}. The last logged {s.counts} is "
                                     f"{fmt(a.step)}.")))
    return Section("Progress assessment", tuple(blocks))


def forecast(a) -> Section:
    f = a.forecast
    blocks: list[Block] = []
    if f is None or not f.trends:
        blocks.append(Paragraph(text("No key loss (rec, KL, total, nll, validation rec) is logged: nothing to "
                                     "forecast.")))
    elif f.finished:
        blocks.append(Paragraph(text("The run is finished: its last levels are its final ones.")))
    else:
        rows = f.rows()
        if rows and all(r["now"] for r in rows):
            blocks.append(Paragraph(text("Each point is under a few logging intervals ahead: no trend moves a level "
                                         "measurably there, so each is the level now (the Training statistics' Now).")))
        elif rows:
            blocks.append(Paragraph(text(
                "Each key loss's trend over the latest half of the current phase, fitted to the medians of 12 "
                "windows and carried forward: a power law or a decay to a floor, whichever, fitted on the earlier "
                "windows, better predicts the latest 4; never across a change the report found (it is fitted "
                "after it), and a level a few logging intervals ahead is the level now. The 90% interval spans the "
                "trend going on (with its band), the other shape's forecast, and the level staying where it is now "
                "(with its scatter); in the truncation test on healthy runs "
                f"{pct(f.tested_coverage, 0)} of final levels fell inside it.")))
        if rows:
            u = a.schedule.counts
            blocks.append(Table(("Metric", f"At {u}", "Forecast", "90% interval", f"Fitted since {u}"), tuple(
                Row((cell(r["metric"]), text(f"{fmt(r['at_step'])} ({r['label']})"), *_forecast_cells(r, a.step, u)))
                for r in rows),
                (False, True, True, True, True)))
            notes = _forecast_notes(rows, u)
            if notes:
                blocks.append(Bullets(tuple(text(n) for n in notes)))
        declined = f.declined()
        if declined:
            blocks.append(Bullets(tuple(text(f"{metric}: {why}.") for metric, why in declined)))
    if f is not None and f.goals:
        blocks.append(Paragraph(text("Goals:")))
        blocks.append(Bullets(tuple(text(line) for line in f.goal_lines())))
    return Section("Forecast", tuple(blocks))


def _forecast_cells(r: dict, step: int, unit: str) -> tuple:
    """Forecast, interval and fitted-since cells of one row: a point a few logging intervals ahead is the level
    now (no trend, no interval); a total that is the sum of its terms' forecasts says so."""
    if r["now"]:
        return (text(f"the level now, {fmt(r['level'])}"), text(f"none: {fmt(r['at_step'] - step)} {unit}s away"),
                text("—"))
    level, low, high = interval(r["level"], r["low"], r["high"])
    return text(level), text(f"{low} – {high}"), text("sum of its terms" if r["from_parts"] else fmt(r["since"]))


def _forecast_notes(rows: list[dict], unit: str) -> list[str]:
    """Why a row is what it is: a fit that starts after a change the report found; a total built from its terms."""
    out = []
    for r in rows:
        if r["after"] and not r["now"] and not r["from_parts"]:
            out.append(f"{r['metric']}: fitted only after {r['after']} ({unit} {fmt(r['since'])} on), never across it.")
    if any(r["from_parts"] and not r["now"] for r in rows):
        out.append("total_loss: the sum of its terms' forecasts (total = nll + kl_weight x kl + d_weight x disc_factor "
                   "x g_loss holds in these logs; the adversarial term at its current level), each bound summed.")
    return list(dict.fromkeys(out))


def recommendations(a, figures: Figures) -> Section:
    # written here, where the report knows whether the run holds reconstructions: none advises looking at them
    # in a run the Reconstructions section says holds none
    said = narrative.recommendations(a, bool(figures.samples) if figures.drawn else None)
    return Section("Recommendations", (Bullets(tuple(text(r) for r in said)),))


def statistics(a) -> Section:
    rows = []
    for name, st in a.metrics.items():
        noisy = st.recent_noise == st.recent_noise and math.isfinite(st.now)  # no noise about a NaN
        now = fmt(st.now) + (f" ± {fmt(st.recent_noise)}" if noisy else "")
        rows.append(Row((cell(name), text(fmt(st.start)), text(now), text(fmt(st.min)), text(fmt(st.max)),
                         text(fmt(st.count)), text(change(st.level_change())), cell(st.source))))
    return Section("Training statistics", (Table(
        ("Metric", "Start", "Now (± noise)", "Min", "Max", "Points", "Change", "Source"), tuple(rows),
        (False, True, True, True, True, True, True, False)), Paragraph(text(_levels_note(a)), "muted")))


def _levels_note(a) -> str:
    """What Start and Now are (levels.py), as the rules take them: each over 5% of its own phase's points."""
    two = a.phase == "adversarial" and not a.disc_never_on
    start, now = ("first 5% of points before the discriminator", "latest 5% in the adversarial phase") if two \
        else ("first 5% of points", "latest 5%")
    where = (" (a sentence that compares another stretch, such as the level just before the discriminator, names "
             "it)" if two else "")
    return (f"Start is the median of a metric's {start}, Now the median of its {now}, at least 5 points each; a "
            "metric with fewer than 20 points takes its first and its latest point. ± is how uncertain Now is. "
            f"Every sentence that says where a metric started or is now quotes these{where}. {CHANGE_NOTE}")


_NOT_DRAWN = Paragraph(text("Not included: this report was written from the analysis alone, without the run's logs "
                           "to draw from."), "muted")


def reconstructions(figures: Figures) -> Section:
    if not figures.drawn:
        return Section("Reconstructions", (_NOT_DRAWN,))
    if not figures.samples:
        return Section("Reconstructions", (Paragraph(text(
            "The run holds no reconstruction images (no ", code("sample-*.png"), ", image files with a step in their "
            "name, or TensorBoard image summaries), so the report cannot show what the model produces."), "muted"),))
    images = tuple(Image(s.name, s.caption, text(s.caption), "sample") for s in figures.samples)
    return Section("Reconstructions", (Paragraph(text("What the model produces, as the run saved it (inputs and their "
                                                      "reconstructions).")), *images))


def visualizations(a, figures: Figures) -> Section:
    # the phases' shading and lines are the same in every plot (and chart): their key is said once, above them
    key: list[Block] = [Paragraph(text(bold("In every plot"), ": ", figures.key))] if figures.key else []
    if not figures.drawn:
        return Section("Training visualizations", (_NOT_DRAWN,))
    by_metric = _by_metric(a)
    blocks: list[Block] = list(key)
    if figures.charts is not None:
        blocks.insert(0, Paragraph(text("Zoomable charts (drag to zoom, double-click to reset), each series "
                                        "downsampled to 1,000 points keeping every bucket's extremes."), "muted"))
    for p in figures.plots:
        said = by_metric.get(p.name, []) + (by_metric.get("disc_factor", []) if p.name == "disc_loss" else [])
        # a plot's caption points to what to look at (the warnings and errors, cited); an ok or info finding's
        # message is already in the findings list and under its metric above: a third copy is noise
        notes = [" " + f.message for f in said if not f.rule.startswith("loss-") and f.severity in ("warning", "error")]
        caption = text(bold(p.title), f": {p.caption}", *notes)
        # --interactive: the figure's chart where its image would be, the same caption under it
        chart = (figures.charts or {}).get(p.name)
        blocks.append(Chart(chart, caption) if chart is not None else Image(p.file, p.title, caption))
    if figures.charts is not None:
        blocks.append(Raw(figures.script))
    return Section("Training visualizations", tuple(blocks))


def questions(a) -> Section:
    blocks: list[Block] = []
    for i, q in enumerate(a.qa, 1):
        blocks += [Heading(text(f"Q{i}: {q.question}")), Paragraph(text(bold("A"), ": ", q.answer))]
    return Section("Questions and answers", tuple(blocks))


def conclusion(a) -> Section:
    s = a.schedule
    warnings, errors = counts_of(a)  # the headlines the status counts, one word for one
    meaning = {"ok": ok_meaning(a),
               "warning": "see the warning above" if warnings == 1 else "see the warnings above"}.get(
        a.status, "see the error above" if errors == 1 else "see the errors above")
    if a.finished:
        progress_said = f"finished (last logged {s.counts} {fmt(a.step)} of {fmt(s.total_steps)})"
    elif s.total_steps:
        progress_said = f"{pct(a.progress)} ({fmt(a.step)}/{fmt(s.total_steps)} {s.counts}s)"
    else:
        progress_said = f"{s.counts} {fmt(a.step)}, total unknown"
    reasons = f" ({'; '.join(a.confidence_reasons)})" if a.confidence_reasons else ""
    return Section("Conclusion", (
        Paragraph(text(bold("Status"), f": {a.status}: {meaning}."), a.status),
        Bullets((text(bold("Next milestone"), ": ", _next_milestone(a, away=False)),
                 text(bold("Confidence"), f": {a.confidence}{reasons}"),
                 text(bold("Progress"), ": ", progress_said))),
    ))


def _steps_held(steps: tuple[int, int] | None, unit: str) -> str:
    """The steps a source holds: ", steps 0-120", ", step 9,990" (one step is no span)."""
    if not steps:
        return ""
    return f", {unit} {fmt(steps[0])}" if steps[0] == steps[1] else f", {unit}s {fmt(steps[0])}-{fmt(steps[1])}"


def sources(a) -> Section:
    u = a.schedule.counts
    items = [text(code(src.path), f" ({src.kind}, {fmt(src.points)} points{_steps_held(src.steps, u)})",
                  f": {'; '.join(src.notes)}" if src.notes else None) for src in a.sources]
    items += [text(note) for note in a.merge_notes]
    return Section("Sources", (Bullets(tuple(items)),))
