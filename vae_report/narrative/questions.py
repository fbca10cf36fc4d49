"""The report's questions and answers: each question asked when its premise holds, each answer derived from the
findings of its topic (the discriminator's in disc.py, the ranges' in ranges.py)."""

from __future__ import annotations

import math
import re

from ..checkpoints import latest_checkpoint
from ..numbers import counted, fmt, interval, pct
from ..results import QA
from ..rules import Finding
from ..rules.base import RANK
from ..rules.collapse import KL_WEIGHT_METRICS
from ..rules.current import FEW_POINTS
from .answers import capital, loud_about, pointer, short_form
from .disc import DISC_ZERO_Q, adversarial_questions, disc_answer, disc_scheduled_answer, disc_zero
from .ranges import ranges_answer
from .state import (
    CAN_WAIT,
    KL_RULES,
    LIMITS,
    RANGE_RULES,
    by_harm,
    cite,
    dead_sentence,
    doubted,
    eta_words,
    finding_of,
    log_age,
    messages,
    not_examined,
    ok_meaning,
    topic,
    union,
    verdict,
    why_it_matters,
)

# a KL whose latest level is at most this share of its highest point has fallen from a peak worth naming
_FELL_FROM_PEAK = 0.5
_KL_WEIGHTS = KL_WEIGHT_METRICS


def kl_course(analysis) -> str:
    """What the KL did between its start and now when that is more than one direction (it rose to a peak and
    fell back), and the KL weight's course where the run logs one that grew (an annealed weight, a warm-up)."""
    st = analysis.metrics["kl_loss"]
    out = ""
    now = st.now if math.isfinite(st.now) else st.latest
    # fell from it: its level now and its last point both well below the peak (a KL still climbing to its last
    # point has its peak there, whatever the median of its latest window says)
    if not st.signed and math.isfinite(st.max) and st.max > 0 and math.isfinite(now) \
            and st.max > 1.5 * max(st.start, 0) and now <= _FELL_FROM_PEAK * st.max \
            and math.isfinite(st.latest) and st.latest <= _FELL_FROM_PEAK * st.max:
        out = (f" KL rose to a peak of {fmt(st.max)} (its highest point) and fell to {fmt(now)}, "
               f"{now / st.max:.0%} of that peak.")
    weight = next((analysis.metrics[n] for n in analysis.metrics if n.rsplit("/", 1)[-1] in _KL_WEIGHTS), None)
    if weight is not None and math.isfinite(weight.first) and math.isfinite(weight.latest) \
            and weight.latest > 0 and weight.first <= 0.5 * weight.latest:
        out += (f" The logged {weight.name} rose from {fmt(weight.first)} to {fmt(weight.latest)}: the KL weight is "
                "annealed (a warm-up), under which the KL commonly peaks while the weight is small and falls as it "
                "grows.")
    return out


def questions_and_answers(analysis) -> list:
    qa: list[QA] = []
    s, step = analysis.schedule, analysis.step
    if "kl_loss" in analysis.metrics:
        found = union(topic(analysis, KL_RULES), topic(analysis, ("loss-now", "non-finite", "spikes"), ("kl_loss",)))
        found = sorted(found, key=lambda f: -RANK[f.severity])
        stopped = [f for f in topic(analysis, ("loss-stopped",), ("kl_loss",))]
        found = stopped + [f for f in found if f not in stopped]  # stale numbers: say so before quoting them
        st = analysis.metrics["kl_loss"]
        # asked as the seed report asks it when KL rose; otherwise about what it did
        # (its start and current levels, the ones every sentence quotes, not two single points)
        rose = st.now > st.start if math.isfinite(st.now) and math.isfinite(st.start) else st.latest > st.first
        question = "Is the KL loss increase concerning?" if rose else "Is the KL loss's behaviour concerning?"
        unjudged = next((f for f in analysis.findings if f.rule == "kl-rising" and f.skipped), None)
        if unjudged is not None and st.now > st.start and not [f for f in found if f.severity in ("warning",
                                                                                                   "error")]:
            # the rise is the question, and the check of a rise could not run: say so, not "No."
            need = ", ".join(n.replace(" (schedule)", "") for n in unjudged.numbers.get("missing", ())) or "its inputs"
            why = (f"{unjudged.numbers['not_judged']}, so its latest level is not the training's"
                   if unjudged.numbers.get("not_judged") else  # a stretch that trained nothing (rules.untrained)
                   f"whether a rise is expected depends on {need}, which no config gave (pass it with --kl-weight)")
            qa.append(QA(question,
                         f"Not judged: KL {st.describe()} from {s.counts} {fmt(st.first_step)} to "
                         f"{fmt(st.latest_step)}, but {why}."
                         + (f" {messages(found, analysis.schedule.counts)}" if found else ""),
                         "kl-rising"))
        elif not found and not math.isfinite(st.latest):
            nan = finding_of(analysis, "non-finite")
            qa.append(QA(question, "Yes: kl_loss is NaN/Inf at its latest point. "
                         + (messages([nan], analysis.schedule.counts) if nan is not None else ""), "non-finite"))
        elif found:
            qa.append(QA(question, _kl_answer(analysis, found) + kl_course(analysis), found[0].rule))
        elif st.count < FEW_POINTS:  # no KL check could judge so few points: not an all-clear
            qa.append(QA(question, f"Not judged: KL {st.describe()} from {s.counts} {fmt(st.first_step)} to "
                                   f"{fmt(st.latest_step)}, but over only {st.count} logged points, too few for the "
                                   "KL checks to tell a trend from noise."))
        elif rose:
            qa.append(QA(question,
                         f"No: KL {st.describe()} from {s.counts} {fmt(st.first_step)} to {fmt(st.latest_step)}, "
                         "a rise no KL check flags: not large enough to be a runaway posterior, not a large share of "
                         "the loss, not part of a divergence." + kl_course(analysis)))
        else:
            qa.append(QA(question,
                         f"No: KL has not risen overall ({st.describe()}, from {s.counts} {fmt(st.first_step)} to "
                         f"{fmt(st.latest_step)})." + kl_course(analysis)))
    if "disc_loss" in analysis.metrics:
        broken = dead_sentence(analysis, "disc_loss")
        if broken:  # a NaN discriminator loss is neither zero nor near 1: the question is whether it is fine
            qa.append(QA("Is the discriminator loss fine?", f"No: {broken}", "non-finite"))
        elif disc_zero(analysis):  # the seed report's question, asked only when its premise holds
            qa.append(QA(DISC_ZERO_Q, disc_answer(analysis)))
        else:
            qa.append(disc_scheduled_answer(analysis))
    ranges = topic(analysis, RANGE_RULES)
    if ranges or analysis.decomposition is not None:
        qa.append(QA("Are the loss values in the right ranges?", ranges_answer(analysis, ranges)))
    if s.disc_start is not None:
        origin = s.origins.get("disc_start", "config")
        if s.switched_late:
            late = s.observed_disc_start - s.disc_start
            answer = (f"At {s.counts} {fmt(s.observed_disc_start)}, as the logs show: {fmt(late)} {s.counts}s after "
                      f"the config's disc_start {fmt(s.disc_start)} (from {origin}); see the warning \"Discriminator "
                      "switched on late\".")
        elif s.observed_disc_start is not None:
            answer = (f"It has been on since {s.counts} {fmt(s.observed_disc_start)}, as the logs show, although the "
                      f"config found says disc_start {fmt(s.disc_start)} (from {origin}): that config is not the one "
                      f"this run used. The run is at {s.counts} {fmt(step)}.")
        elif s.adversarial_off == "disc_factor":
            answer = (f"Never in this run: the config sets disc_factor to 0 ({s.key_path('disc_factor')}), which "
                      f"multiplies the adversarial term by 0 at every {s.counts}, also from disc_start "
                      f"{fmt(s.disc_start)} on. The run is at {s.counts} {fmt(step)}.")
        elif s.adversarial_off == "beyond":
            answer = (("It did not" if analysis.finished else "Never in this run")
                      + f": disc_start {fmt(s.disc_start)} ({s.key_path('disc_start')}) lies past the end of training "
                      f"at {s.counts} {fmt(s.total_steps)} ({s.key_path('total_steps')}), so the autoencoder trains "
                      f"alone to the end. The run is at {s.counts} {fmt(step)}.")
        elif step < s.disc_start and analysis.finished:
            answer = (f"It did not: the run finished at {s.counts} {fmt(step)}, before disc_start {fmt(s.disc_start)} "
                      f"(from {origin}), so it trained the autoencoder alone.")
        elif step < s.disc_start and analysis.halted:  # the switch-on of a run that cannot go on never comes
            answer = (f"Not as the run stands: {_halted_pointer(analysis)}. The schedule has it at {s.counts} "
                      f"{fmt(s.disc_start)} (disc_start, from {origin}), {fmt(s.disc_start - step)} {s.counts}s after "
                      f"the latest {s.counts} {fmt(step)}.")
        elif step < s.disc_start:
            away = s.disc_start - step
            answer = (f"At {s.counts} {fmt(s.disc_start)} (disc_start, from {origin}), {fmt(away)} {s.counts}s after "
                      f"the current {s.counts} {fmt(step)}: the discriminator trains at every {s.counts} from "
                      "disc_start on."
                      + eta_words(analysis, away))
            half = -(-s.disc_start // 2)
            if s.layout == "ldm" and s.step_unit == 1 and step < half:
                answer += (f" disc_start counts Lightning's global step: under PyTorch Lightning >= 1.6 with two "
                           f"optimizers (each batch steps both) that is logged step ~{fmt(half)}, {fmt(half - step)} "
                           "steps away; the logs show which once it switches on.")
        else:
            on = finding_of(analysis, "disc-inactive-after-start")
            if on is not None and on.severity == "ok" and on.step is not None:  # the answer first: when it did
                first = "" if on.step == s.disc_start else (
                    f"; the logs show it on from {s.counts} {fmt(on.step)}: {s.counts} "
                    f"{fmt(on.numbers.get('first_off_step', s.disc_start))} is logged and still shows it off, the "
                    "logged counter running ahead of the loss's own (see disc-inactive-after-start)"
                    if on.numbers.get("off_from_start") else
                    f"; the first {s.counts} logged after it, {fmt(on.step)}, shows it on")
                answer = ((f"At {s.counts} {fmt(s.disc_start)}, where the logs first show it on "
                           f"({s.disc_start_inferred}: there is no schedule to hold that against)"
                           if s.disc_start_inferred else
                           f"At {s.counts} {fmt(s.disc_start)}, as scheduled (disc_start, from {origin}){first}")
                          + f". The run is at {s.counts} {fmt(step)}.")
            else:
                answer = _seen_on(analysis, origin)
        qa.append(QA(_when_question(analysis), answer))
    qa += adversarial_questions(analysis)
    qa += _forecast_question(analysis)
    qa.append(QA(FINISHED_Q if analysis.finished else INTERVENE_Q, _intervene_answer(analysis)))
    # a run that cannot go on reaches no switch-on to monitor
    if not analysis.finished and analysis.phase == "before discriminator" \
            and analysis.schedule.adversarial_off is None and not analysis.halted:
        qa.append(QA("What should I monitor when the discriminator activates?", _monitor_answer(analysis)))
    # the findings themselves are in the list above: here only why they matter, once per rule and reason
    reasons: dict[tuple[str, str], list[Finding]] = {}
    for finding in analysis.active_findings():
        if finding.severity in ("warning", "error"):
            reasons.setdefault((finding.rule, why_it_matters(finding)), []).append(finding)
    for (rule, why), found in reasons.items():
        where = f" at {s.counts} {fmt(found[0].step)}" if len(found) == 1 and found[0].step is not None else ""
        qa.append(QA(f"Why does \"{found[0].title or rule}\"{where} matter?", capital(why), rule))
    return [_qualified(one, analysis) for one in qa]



# question (or its start) -> (the first words of an all-clear, the word that replaces them, the metrics it is about)
ABOUT = {"Is the KL loss": (("No",), "Not by itself", ("kl_loss",)),
         "Is a discriminator loss ": (("Yes",), "Not as it stands", ("disc_loss",)),
         "Why is the discriminator loss zero": (("No need to worry",), "Look at it", ("disc_loss",)),
         "Did reconstruction get worse": (("No", "Only a little"), "Not by this measure", ("rec_loss",))}



def _qualified(qa: QA, analysis) -> QA:
    """An all-clear about a metric a warning or an error is about (headline or cited: grouping.loud_metrics, the
    one place that decides it) is no all-clear: its first word becomes a qualified one and it points to that
    warning, unless it already does."""
    about = next((v for k, v in ABOUT.items() if qa.question.startswith(k)), None)
    if about is None:
        return qa
    fine, word, metrics = about
    lead = next((w for w in fine for p in ".:," if qa.answer.startswith(w + p)), None)
    loud = loud_about(analysis)
    heads = [(m, loud[m]) for m in metrics if m in loud]
    if lead is None or not heads:
        return qa
    metric, head = heads[0]
    rest = qa.answer[len(lead) + 1:].lstrip()
    said = f"{word}: {rest}"
    older = _older_than_question(qa, head, analysis)
    cited = f"\"{head.title or head.rule}\"" in rest
    if older and cited:  # the answer tells that older damage itself (its finding cited): said once
        said = f"{lead}: {rest}"
    elif older:  # damage from before the stretch asked about: the answer stands, the damage is cited as older
        said = f"{lead}: {rest} Its damage is older: see {pointer(head, analysis.schedule.counts)} above, {older}."
    elif not cited:
        said += f" But see {pointer(head, analysis.schedule.counts)} above, on {metric}."
    return QA(qa.question, said, qa.rule)


def _older_than_question(qa: QA, head: Finding, analysis) -> str:
    """Where a warning lies before the stretch a question asks about ("did reconstruction get worse once the GAN
    started?" asks from just before the switch-on, rec-after-disc's ``judged_from``), said as that; else ""."""
    judged = finding_of(analysis, "rec-after-disc")
    scope = None if judged is None else judged.numbers.get("judged_from")
    start = head.numbers.get("onset_step", head.numbers.get("first_bad_step", head.step))
    if not qa.question.startswith("Did reconstruction get worse") or scope is None or start is None \
            or start >= scope or doubted(judged):  # a warning within the stretch doubts it: hedged, not older
        return ""
    return "before the discriminator started"



def _kl_answer(analysis, found: list[Finding]) -> str:
    """Whether the KL's increase is concerning, from the findings on the increase (the KL checks, a KL rising now);
    one on the KL's logging or numerics (a NaN, spikes, a loss no longer logged) is named apart, never the "Yes"
    for a rise those findings call expected."""
    unit = analysis.schedule.counts
    increase = union(topic(analysis, KL_RULES), topic(analysis, ("loss-now",), ("kl_loss",)))
    mine = [f for f in found if f in increase]
    # a finding that already doubts the KL's own (pointed to there) is not pointed to twice
    doubters = {(f.numbers["in_doubt"]["headline"]) for f in increase if doubted(f)}
    apart = [f for f in found if f not in increase and f.severity in ("warning", "error") and f.rule not in doubters]
    said = " ".join(_kl_said(f, unit) for f in mine)
    if any(f.severity in ("warning", "error") for f in mine):
        return f"{verdict(mine)} {said}" + (f" Separately: {messages(apart, unit)}" if apart else "")
    if apart or any(doubted(f) for f in mine):
        # numbers that are stale are said to be so before they are quoted
        stale = [f for f in found if f.rule == "loss-stopped"]
        pointer = cite(stale[0], unit)[:-len(" above.")] if stale else ""
        head = "Not the increase itself" + (f", but its numbers are stale: s{pointer[1:]}." if stale else ".")
        apart = [f for f in apart if f not in stale]
        but = messages(apart, unit)
        return f"{head} {said}".strip() + (f" But {but[:1].lower()}{but[1:]}" if apart else "")
    if any(f.case == "with-divergence" for f in mine):  # the KL's climb is part of a blow-up the report names
        return f"Yes, as part of the blow-up: {said[:1].lower()}{said[1:]}"
    if any(f.case == "unusual-level" for f in mine):  # not a fault yet, but a level the finding says to watch
        return f"Not a fault yet, but a level to watch: {said[:1].lower()}{said[1:]}"
    return f"No. {said}"



def _kl_said(f: Finding, unit: str) -> str:
    """What a finding says of the KL: its own numbers; for a headline on another loss that cites the KL's finding
    (one cause: a learning rate far off, a blow-up), the KL's numbers from it and a pointer to that headline."""
    if f.metric == "kl_loss":
        return messages([f], unit)
    told = next((one for one in f.related if one["rule"] in KL_RULES or one["metric"] == "kl_loss"), None)
    said = short_form(told, unit) if told is not None else None
    if not said:
        return messages([f], unit)
    return f"{capital(said)}: one cause with the rise of {f.metric} (see {pointer(f, unit)} above)."


INTERVENE_Q = "Should I intervene in the training process?"



# a finished run cannot be intervened in: what is asked of it is whether its outcome needs a look
FINISHED_Q = "Does the finished run need attention?"



def _when_question(analysis) -> str:
    """When the discriminator switches on, asked in the tense the run is in."""
    s = analysis.schedule
    if analysis.disc_never_on or s.adversarial_off is not None:
        return "Did the discriminator become active?"
    if s.observed_disc_start is not None or analysis.step >= s.disc_start:
        return "When did the discriminator become active?"
    return "Did the discriminator become active?" if analysis.finished else "When will the discriminator become active?"



def _seen_on(analysis, origin: str) -> str:
    """When the discriminator switched on, once the schedule has it on, where the logs do not date it as
    scheduled: they never show it on, show no metric that would, or show it on without a step."""
    s, step = analysis.schedule, analysis.step
    f = finding_of(analysis, "disc-inactive-after-start") or finding_of(analysis, "disc-never-trained")
    scheduled = (f"it was scheduled for {s.counts} {fmt(s.disc_start)} (disc_start, from {origin}) and the run is "
                 f"at {s.counts} {fmt(step)}, {fmt(step - s.disc_start)} {s.counts}s past it")
    if f is None:
        return f"Cannot say: {scheduled}, but no logged metric shows when it switched on (no disc_factor)."
    if f.severity in ("warning", "error") or analysis.disc_never_on:
        return f"No: {scheduled}, but the logs do not show it on." + (f" {cite(f, s.counts)}" if f.severity in (
            "warning", "error") else "")
    return (f"From {s.counts} {fmt(f.step)}, as the logs show: {scheduled}." if f.step is not None
            else f"As scheduled, as far as the logs show: {scheduled}.")


def _forecast_question(analysis) -> list:
    """Where the key losses will be at the end: the Forecast section's levels and intervals, or why a loss has
    none; not asked of a finished run (its last levels are its final ones)."""
    f = analysis.forecast
    if f is None or f.finished or analysis.finished or not f.trends:
        return []
    unit = analysis.schedule.counts
    said = [r["prediction"].phrase(r["metric"], unit, analysis.step) for r in f.rows()]
    said += [f"{metric}: {why if why.startswith('no ') else 'no forecast, ' + why}" for metric, why in f.declined()]
    if not said:
        return []
    labels = {r["label"] for r in f.rows()}
    if not labels:  # no level forecast anywhere: asked whether there is one, not where the losses will be
        unknown = any("total" in why and "unknown" in why for _, why in f.declined())
        # too few points or too young a phase passes with time; an unknown total or a NaN does not
        young = all(why.startswith("only ") or "too young" in why for _, why in f.declined())
        # the first reason in full, the other losses named (the Forecast section gives each one's reason)
        others = [metric for metric, _ in f.declined()[1:]]
        return [QA("Can the key losses be forecast?", f"{'Not yet' if young else 'No'}: " + said[0]
                   + (f"; {', '.join(others)}: see the Forecast section." if others else ".")
                   + (" Give the total with --total-steps for an end-of-training forecast." if unknown else ""),
                   "forecast")]
    where = ("at the end of training" if "end of training" in labels
             else "when the discriminator starts" if labels == {"discriminator starts"} else "at the next milestone")
    # the levels first, grouped by the step they are forecast at; the losses with none named (the Forecast
    # section says why)
    at: dict[tuple, list[str]] = {}
    for r in f.rows():
        if r["now"]:  # a few logging intervals away: the level now, not a forecast (forecast.Prediction.now)
            said_row = (f"{r['metric']} at its level now, {fmt(r['level'])} ({fmt(r['at_step'] - analysis.step)} "
                        f"{unit}s away: too near to forecast)")
        else:
            level, low, high = interval(r["level"], r["low"], r["high"])
            said_row = f"{r['metric']} about {level} (90% interval {low} to {high})"
        at.setdefault((r["at_step"], r["label"]), []).append(said_row)
    levels = "; ".join(f"at {unit} {fmt(step)} ({label}), " + ", ".join([_with_verb(rows[0]), *rows[1:]])
                       for (step, label), rows in at.items())
    without = list(dict.fromkeys(name.strip() for metric, _ in f.declined() for name in metric.split(",")))
    rowed = {r["metric"] for r in f.rows()}
    none = [m for m in without if m not in rowed]
    further = [m for m in without if m in rowed]  # forecast here, declined at another horizon
    missing = "; ".join(([f"no forecast for {', '.join(none)}"] if none else [])
                        + ([f"none further ahead for {', '.join(further)}"] if further else []))
    return [QA(f"Where will the losses be {where}?",
               f"{capital(levels)}, from each one's trend."
               + (f" {capital(missing)}: see the Forecast section." if missing else ""), "forecast")]


def _with_verb(row: str) -> str:
    """A forecast's first level as a clause with its verb ("rec_loss will be about 0.05"): the answer is a
    sentence, the levels after it its list."""
    return row.replace(" about ", " will be about ", 1) if " about " in row \
        else row.replace(" at its level now", " will stay at its level now", 1)


def _halted_pointer(analysis) -> str:
    """Why the run cannot go on, pointing to the liveness finding where that says it (its reason for no time
    estimate): each long sentence is said once; else the reason itself."""
    live = finding_of(analysis, "liveness")
    said = live.numbers.get("no_eta") if live is not None else None
    if said and said in analysis.halted:
        return f"it cannot go on as it is (see \"{live.title or live.rule}\")"
    return analysis.halted


def _intervene_answer(analysis) -> str:
    bad = [f for f in analysis.active_findings() if f.severity in ("warning", "error")]
    if not bad:
        if analysis.finished:
            return "No. Training has finished and no rule raised a warning or an error."
        if analysis.ended:  # it stopped before its schedule: nothing to keep running
            return (f"Not for what the logs show: no rule raised a warning or an error up to the last log "
                    f"({analysis.schedule.counts} {fmt(analysis.step)}), but {analysis.halted}. Fix what ended it, "
                    f"then resume from {latest_checkpoint(analysis.schedule, analysis.step)}.")
        milestone = analysis.next_milestone
        # what was not examined is said in full once, in the recommendations and the conclusion
        said = ok_meaning(analysis).split(", as far as it was examined")[0]
        if not_examined(analysis):
            said += ", as far as it was examined (what was not is listed in the Conclusion)"
        # logs that end long before this report cannot say the run still goes: "keep it running" only if it does
        keep = "If it still runs, keep it running" if log_age(analysis) is not None else "Keep it running"
        return (f"No: no rule raised a warning or an error; {said}. "
                + (f"{keep} and re-run this report at the next milestone ({analysis.schedule.counts} "
                   f"{fmt(milestone.step)}, {milestone.name})." if milestone is not None else f"{keep}."))
    # the worst harm first (a stopped run, a NaN, an lr gone wrong, a divergence, a GAN out of balance), then the
    # worse severity, then the earliest: not the rules' order
    bad = by_harm(bad)
    urgent = [f for f in bad if f.severity == "error" or f.rule not in CAN_WAIT]
    first = urgent[0] if urgent else bad[0]
    unit = analysis.schedule.counts
    # a finding whose own action is to watch (a cost not yet paid) asks for no intervention now
    watch = (first.action or "").lower().startswith("watch")
    word = ("Not yet: watch" if watch else "Yes, act on") if urgent else "Not urgently, but look at"
    said = short_form(first, unit)
    # its action's gist names what to do; the how is the Recommendations' to say (advice.py), once
    gist = action_gist(first.action)
    todo = (f"{gist}, as its entry in the Recommendations details" if gist
            else "see its entry in the Recommendations" if first.action else "see the findings list")
    when = "in a resumed or a next run, " if analysis.finished else ""
    more = len(bad) - 1  # each headline is one cause: the findings of one cause are cited under it
    return (f"{word} {pointer(first, unit)}" + (f": {said}" if said else "") + f". What to do {when}first: "
            f"{todo}" + (f" ({counted(more, 'other cause')} at warning or above there too)." if more else "."))


# the verbs the rules' actions open with: an action's first clause is what to do only when it opens with one
IMPERATIVE = frozenset(("add", "check", "compare", "damp", "find", "fix", "follow", "give", "if", "keep", "log",
                        "look", "lower", "pass", "raise", "restart", "resume", "set", "stop", "treat", "try", "use",
                        "weaken"))


def action_gist(action: str) -> str:
    """An action's first clause, lowercased ("weaken the discriminator itself" of "Weaken the discriminator itself:
    its learning rate, ..."): what to do, without the how the Recommendations give; "" when it has none short
    enough to read as a clause (over 20 words)."""
    head = re.split(r":|;|\. | \(|\.$", action.strip(), maxsplit=1)[0].strip().rstrip(".,")
    if not head or len(head.split()) > 20 or head.split()[0].lower() not in IMPERATIVE:
        return ""  # an action that opens with a finding's words is no clause to act on: pointed to instead
    return head[:1].lower() + head[1:]



def _monitor_answer(analysis) -> str:
    """What to watch once the discriminator switches on, for this run: the numbers its checks of that phase judge,
    each with the level it has now or should have and the threshold at which the check warns (the registry's
    defaults), and what is already flagged, which the switch-on can make worse."""
    s, unit = analysis.schedule, analysis.schedule.counts
    chance = s.disc_chance_level
    won = LIMITS["disc-overpowering"]["below_chance"]
    kind = "vanilla (softplus)" if s.disc_loss == "vanilla" else "hinge"
    # each a check's threshold, said as one (where it warns), not as a fact about the model
    watch = [f"disc_loss below {fmt(won * chance)} ({pct(won, 0)} of its {kind} chance level {fmt(chance)}) with "
             "the logits apart (the discriminator won)"]
    rec = analysis.metrics.get("rec_loss")
    if rec is not None and math.isfinite(rec.now):
        worse = LIMITS["rec-after-disc"]["worse"]
        watch.append(f"rec_loss {pct(worse, 0)} above its level just before the switch (now {fmt(rec.now)})")
    if "d_weight" in analysis.metrics and s.disc_weight:
        share = LIMITS["d-weight-pinned"]["share"]
        watch.append(f"d_weight at its clamp {fmt(1e4 * s.disc_weight)} for {pct(share, 0)} or more of the recent "
                     "points")
    said = f"From {unit} {fmt(s.switch_step or s.disc_start)}, the checks warn at: " + "; ".join(watch) + "."
    flagged = [f for f in analysis.active_findings() if f.severity in ("warning", "error")]
    flagged.sort(key=lambda f: -RANK[f.severity])
    if flagged:  # trouble before the switch-on is watched across it: the adversarial term adds to it
        said += f" Already flagged, to watch across it: {pointer(flagged[0], unit)}."
    return said
