"""The report's prose, derived from findings and the schedule: Q&A, recommendations and confidence."""

from __future__ import annotations

import math

from . import position as pos
from .answers import cited_numbers, loud_about, numbers_of, pointer, short
from .numbers import counted, fmt, pct
from .results import QA
from .rules import RULES, Finding, rules_on
from .rules.base import DISC_METRICS, RANK
from .rules.dynamics import duration

_RATIONALE = {rule.id: rule.rationale for rule in RULES}
_TITLE = {rule.id: rule.title for rule in RULES}


def _find(analysis, rule: str) -> Finding | None:
    return next((f for f in analysis.active_findings() if f.rule == rule), None)


def steps_per_hour(analysis) -> float | None:
    """Training speed, as the liveness rule measured it (None without wall times)."""
    found = _find(analysis, "liveness")
    return None if found is None else found.numbers.get("steps_per_hour")


def _eta(analysis, steps_away: int) -> str:
    """The time to a step ``steps_away`` ahead, or why there is none: the liveness finding is the one source (its
    speed, and its reason for giving no estimate), so an answer never times what the findings table does not."""
    halted = _halted(analysis)
    if halted:
        return f" No time estimate: {halted}."
    found = _find(analysis, "liveness")
    if found is not None and found.numbers.get("no_eta"):
        return f" No time estimate: {found.numbers['no_eta']}."
    rate = steps_per_hour(analysis)
    if rate is None or steps_away <= 0:
        return ""
    return (f" At the recent pace of {fmt(round(rate))} {analysis.schedule.counts}s per hour that is about "
            f"{duration(steps_away / rate)} away.")


def _why(finding: Finding) -> str:
    """Why the finding matters: its case's reason (Case.rationale), else its rule's."""
    return finding.rationale or _RATIONALE.get(finding.rule, "")


def dead(analysis, metric: str) -> tuple[Finding, int | None] | None:
    """(the finding that says ``metric`` is NaN/Inf at its latest point, the first bad step); the finding is the
    headline it is grouped under when it is one of its causes; None while the metric is finite at the end."""
    for f in analysis.active_findings():
        for one in [{"rule": f.rule, "metric": f.metric, "numbers": f.numbers, "step": f.step}, *f.related]:
            if one["rule"] == "non-finite" and one["metric"] == metric \
                    and (one.get("numbers") or {}).get("last_finite") is False:
                return f, (one.get("numbers") or {}).get("first_bad_step", one.get("step"))
    return None


def dead_sentence(analysis, metric: str) -> str | None:
    """"disc_loss is NaN/Inf since step N: see the error ..." for a metric that is NaN/Inf at its latest point: an
    answer about its level says that, never reads its last finite level as fine."""
    found = dead(analysis, metric)
    st = analysis.metrics.get(metric)
    if found is None and (st is None or math.isfinite(st.latest)):
        return None
    unit = analysis.schedule.counts
    if found is None:
        return f"{metric} is NaN/Inf at its latest point ({unit} {fmt(st.latest_step)}), so it has no level to judge."
    finding, since = found
    return f"{metric} is NaN/Inf since {unit} {fmt(since)}, so it has no level to judge. {cite(finding, unit)}"


def _halted(analysis) -> str | None:
    """Why the run will not reach its next milestone as it is: stopped logging, or its losses are NaN/Inf at the
    end; None when it is going."""
    if any(f.rule == "liveness" and f.severity == "warning" and "slowdown_since" not in f.numbers
           for f in analysis.active_findings()):  # slowed down is still going: its ETA stands
        return f"the run looks stopped (see \"{_TITLE['liveness']}\")"
    return analysis.halted  # NaN/Inf at the end, or stalled: the one gate (rules.dynamics.cannot_go_on)


def _stalled(analysis) -> Finding | None:
    """The run-stalled warning or error, if any: losses frozen to float precision, the optimizer not moving."""
    return next((f for f in analysis.active_findings() if f.rule == "run-stalled"
                 and f.severity in ("warning", "error") and f.step is not None), None)


# Each question's answer is derived from the findings of its topic: the verdict word follows their worst
# severity, so an answer can never call "fine" what the findings table warns about.
# The topics are fields of the rules in the registry.
KL_RULES = rules_on("kl")
RANGE_RULES = rules_on("ranges")
VALUE_RULES = rules_on("values")
DISC_RULES = rules_on("balance")
# warnings about the logs or the config rather than the training itself, or about trouble already over: worth a
# look, no reason to stop a run
CAN_WAIT = tuple(rule.id for rule in RULES if rule.can_wait)


def topic(analysis, rules: tuple[str, ...], metrics: tuple[str, ...] | None = None) -> list[Finding]:
    """The active findings of some rules (optionally only on some metrics), worst first; a headline counts when a
    finding of those rules is cited under it (one cause, one headline: grouping hides no finding from its topic)."""
    def about(rule: str, metric: str | None) -> bool:
        return rule in rules and (metrics is None or metric in metrics)

    found = [f for f in analysis.active_findings()
             if about(f.rule, f.metric) or any(about(r["rule"], r["metric"]) for r in f.related)]
    return sorted(found, key=lambda f: -RANK[f.severity])


def _union(*lists: list[Finding]) -> list[Finding]:
    """The findings of several topics, each once (a headline can answer two through the findings it cites)."""
    seen: set[int] = set()
    return [f for found in lists for f in found if id(f) not in seen and not seen.add(id(f))]


def verdict(findings: list[Finding], yes: str = "Yes", no: str = "No") -> str:
    """The answer's first word, from the worst severity of the findings behind it."""
    worst_severity = max((f.severity for f in findings), key=RANK.get, default="ok")
    if worst_severity in ("ok", "info") and any(doubted(f) for f in findings):
        worst_severity = "warning"  # an ok finding a warning puts in doubt is no "No"
    return {"error": f"{yes}, act on it.", "warning": f"{yes}, look at it."}.get(worst_severity, f"{no}.")


def doubted(finding: Finding) -> bool:
    """An ok finding that a warning or an error puts in doubt (grouping.qualify_ok made it info and points to it):
    no all-clear, in an answer either."""
    return "in_doubt" in finding.numbers


def _messages(findings: list[Finding], unit: str = "step") -> str:
    """What the findings say, for an answer: each one's key numbers, built from its rule's numbers, and a pointer
    to it by its title (the findings list holds the detail: each cause is said in full once; ``unit``: what the
    logs' step axis counts, for the pointer). An ok finding a warning puts in doubt, or one of a rule without a
    short form, is said as its message (it holds the pointer to that warning)."""
    return " ".join(f.message if f.severity in ("ok", "info") and (doubted(f) or numbers_of(f, unit) is None)
                    else short(f, unit) for f in findings)


def cite(finding: Finding, unit: str | None = None) -> str:
    """A pointer to a warning or an error of the findings list: its title, metric and position (``unit``: what the
    logs' step axis counts; by default the finding's own)."""
    return f"See the {finding.severity} \"{finding.title or finding.rule}\"{_at(finding, unit)} above."


def questions_and_answers(analysis) -> list:
    qa: list[QA] = []
    s, step = analysis.schedule, analysis.step
    if "kl_loss" in analysis.metrics:
        found = _union(topic(analysis, KL_RULES), topic(analysis, ("loss-now", "non-finite", "spikes"), ("kl_loss",)))
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
                         + (f" {_messages(found, analysis.schedule.counts)}" if found else ""),
                         "kl-rising"))
        elif not found and not math.isfinite(st.latest):
            nan = _find(analysis, "non-finite")
            qa.append(QA(question, "Yes: kl_loss is NaN/Inf at its latest point. "
                         + (_messages([nan], analysis.schedule.counts) if nan is not None else ""), "non-finite"))
        elif found:
            qa.append(QA(question, _kl_answer(analysis, found), found[0].rule))
        elif rose:
            qa.append(QA(question,
                         f"No: KL {st.describe()} from {s.counts} {fmt(st.first_step)} to {fmt(st.latest_step)}, "
                         "a rise no KL check flags: not large enough to be a runaway posterior, not a large share of "
                         "the loss, not part of a divergence."))
        else:
            qa.append(QA(question,
                         f"No: KL has not risen overall ({st.describe()}, from {s.counts} {fmt(st.first_step)} to "
                         f"{fmt(st.latest_step)})."))
    if "disc_loss" in analysis.metrics:
        broken = dead_sentence(analysis, "disc_loss")
        if broken:  # a NaN discriminator loss is neither zero nor near 1: the question is whether it is fine
            qa.append(QA("Is the discriminator loss fine?", f"No: {broken}", "non-finite"))
        elif _disc_zero(analysis):  # the seed report's question, asked only when its premise holds
            qa.append(QA(DISC_ZERO_Q, _disc_answer(analysis)))
        else:
            qa.append(_disc_scheduled_answer(analysis))
    ranges = topic(analysis, RANGE_RULES)
    if ranges or analysis.decomposition is not None:
        qa.append(QA("Are the loss values in the right ranges?", _ranges_answer(analysis, ranges)))
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
            answer = (f"Not as the run stands: {analysis.halted}. The schedule has it at {s.counts} "
                      f"{fmt(s.disc_start)} (disc_start, from {origin}), {fmt(s.disc_start - step)} {s.counts}s after "
                      f"the latest {s.counts} {fmt(step)}.")
        elif step < s.disc_start:
            away = s.disc_start - step
            answer = (f"At {s.counts} {fmt(s.disc_start)} (disc_start, from {origin}), {fmt(away)} {s.counts}s after "
                      f"the current {s.counts} {fmt(step)}: the discriminator trains at every {s.counts} from "
                      "disc_start on."
                      + _eta(analysis, away))
            half = -(-s.disc_start // 2)
            if s.layout == "ldm" and s.step_unit == 1 and step < half:
                answer += (f" disc_start counts Lightning's global step: under PyTorch Lightning >= 1.6 with two "
                           f"optimizers (each batch steps both) that is logged step ~{fmt(half)}, {fmt(half - step)} "
                           "steps away; the logs show which once it switches on.")
        else:
            on = _find(analysis, "disc-inactive-after-start")
            if on is not None and on.severity == "ok" and on.step is not None:  # the answer first: when it did
                first = "" if on.step == s.disc_start else (
                    f"; the first {s.counts} logged after it, {fmt(on.step)}, shows it on")
                answer = (f"At {s.counts} {fmt(s.disc_start)}, as scheduled (disc_start, from {origin}){first}. The "
                          f"run is at {s.counts} {fmt(step)}.")
            else:
                answer = ("No. " if analysis.disc_never_on else "") + (
                    f"It was scheduled for {s.counts} {fmt(s.disc_start)} (disc_start, from {origin}); the run is at "
                    f"{s.counts} {fmt(step)}, {fmt(step - s.disc_start)} {s.counts}s past it." + _seen_on(analysis))
        qa.append(QA(_when_question(analysis), answer))
    qa += _adversarial_questions(analysis)
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
            reasons.setdefault((finding.rule, _why(finding)), []).append(finding)
    for (rule, why), found in reasons.items():
        where = f" at {s.counts} {fmt(found[0].step)}" if len(found) == 1 and found[0].step is not None else ""
        qa.append(QA(f"Why does \"{found[0].title or rule}\"{where} matter?", _sentence(why), rule))
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
    if older:  # damage from before the stretch asked about: the answer stands, the damage is cited as older
        said = f"{lead}: {rest} Its damage is older: see {pointer(head, analysis.schedule.counts)} above, {older}."
    elif f"\"{head.title or head.rule}\"" not in rest:
        said += f" But see {pointer(head, analysis.schedule.counts)} above, on {metric}."
    return QA(qa.question, said, qa.rule)


def _older_than_question(qa: QA, head: Finding, analysis) -> str:
    """Where a warning lies before the stretch a question asks about ("did reconstruction get worse once the GAN
    started?" asks from just before the switch-on, rec-after-disc's ``judged_from``), said as that; else ""."""
    judged = _find(analysis, "rec-after-disc")
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
    increase = _union(topic(analysis, KL_RULES), topic(analysis, ("loss-now",), ("kl_loss",)))
    mine = [f for f in found if f in increase]
    # a finding that already doubts the KL's own (pointed to there) is not pointed to twice
    doubters = {(f.numbers["in_doubt"]["headline"]) for f in increase if doubted(f)}
    apart = [f for f in found if f not in increase and f.severity in ("warning", "error") and f.rule not in doubters]
    said = _messages(mine, unit) if mine else ""
    if any(f.severity in ("warning", "error") for f in mine):
        return f"{verdict(mine)} {said}" + (f" Separately: {_messages(apart, unit)}" if apart else "")
    if apart or any(doubted(f) for f in mine):
        # numbers that are stale are said to be so before they are quoted
        stale = [f for f in found if f.rule == "loss-stopped"]
        pointer = cite(stale[0], unit)[:-len(" above.")] if stale else ""
        head = "Not the increase itself" + (f", but its numbers are stale: s{pointer[1:]}." if stale else ".")
        apart = [f for f in apart if f not in stale]
        but = _messages(apart, unit)
        return f"{head} {said}".strip() + (f" But {but[:1].lower()}{but[1:]}" if apart else "")
    return f"No. {said}"


def _ranges_answer(analysis, ranges: list[Finding]) -> str:
    """Whether the values are where the loss's formula and the config put them: the values that have a range
    (the terms' shares of the total, the discriminator's loss against its chance level, d_weight against its
    clamp) with their numbers and that range; "No" from the findings on values' sizes (NaN/Inf, the bookkeeping,
    a negative or dominant KL, the adversarial term's weight and share), naming them; never a plain "Yes" while a
    warning is about a value it names (a total that rose, a discriminator at 0)."""
    unit = analysis.schedule.counts
    # the range findings themselves, also those cited under another rule's headline; one case at one step on
    # several metrics named once, with its metrics
    cases: dict[tuple, list[str]] = {}
    first: dict[tuple, dict] = {}
    for f in ranges:
        for one in (f.to_dict() | {"title": f.title}, *f.related):
            if one["rule"] in RANGE_RULES and one["severity"] in ("warning", "error"):
                under = "" if one["rule"] == f.rule else f", cited under \"{f.title or f.rule}\""
                key = (one["severity"], one.get("title") or one["rule"], one.get("step"), under)
                cases.setdefault(key, []).append(one.get("metric") or "")
                first.setdefault(key, one)
    facts = _range_facts(analysis)
    # the values out of range first, with their own numbers
    facts = [c for c in dict.fromkeys(numbers_of(one, unit) for one in first.values()) if c] + facts
    said = "; ".join(facts)
    if cases:
        out = []
        for (severity, title, step, under), metrics in cases.items():
            where = ", ".join(m for m in dict.fromkeys(metrics) if m)
            if step is not None:
                where += (" at " if where else "") + pos.at(unit, step)
            out.append(f"the {severity} \"{title}\"" + (f" ({where})" if where else "") + under)
        return f"No: {said + '. See ' if said else 'see '}{'; '.join(out)} above."
    if not facts:
        return "Yes. " + " ".join(f.message for f in ranges[:1])
    loud = loud_about(analysis)
    named = [m for m in RANGE_METRICS if m in loud and m in analysis.metrics]
    if named:  # the sizes fit, yet a warning is about a value named here: said, and pointed to
        heads = list(dict.fromkeys(id(loud[m]) for m in named))
        pointers = "; ".join(pointer(next(loud[m] for m in named if id(loud[m]) == h), unit) for h in heads)
        return (f"Partly: {said}. But a warning is about {', '.join(named)}: see {pointers} above "
                "(the levels are not all fine, whatever their sizes).")
    return f"Yes: {said}."


# the values the ranges answer names: a warning on one of them leaves it no plain "Yes"
RANGE_METRICS = ("total_loss", "nll_loss", "rec_loss", "kl_loss", "g_loss", "disc_loss", "d_weight")
# the checks' default limits, quoted as the ranges they put the values in
_LIMITS = {rule.id: rule.thresholds for rule in RULES}


def _range_facts(analysis) -> list[str]:
    """What the total is made of, then the values the loss's formula and the config put in a range, each with
    its number and that range: the shares the checks judge, the discriminator's loss against its chance level
    and 0, d_weight against its clamp. Nothing of a total that is NaN/Inf now (its last finite window is not its
    current level)."""
    s, ranges, out = analysis.schedule, [], []
    d = analysis.decomposition
    if d is not None and dead_sentence(analysis, "total_loss") is None:
        ordered = sorted(d.terms, key=lambda t: -abs(t.value))
        adds = any(f.rule == "loss-bookkeeping" and f.severity == "ok" for f in analysis.active_findings())
        out.append(f"total_loss {fmt(d.sum)} (the mean of its current window) = "
                   + " + ".join(f"{t.name} {fmt(t.value)} ({t.share_said()})" for t in ordered)
                   + (", and it adds up from its logged terms" if adds else ""))
        kl, adv = d.term("regularizer"), d.term("adversarial")
        # a share the noise leaves unjudged was said so in the breakdown: no range to hold it against
        if kl is not None and "kl" in kl.name and s.regularizer != "vq" and kl.judged:
            ranges.append(f"KL term {kl.share_said()} of the loss (it dominates from "
                          f"{pct(_LIMITS['kl-dominant']['share'], 0)})")
        if adv is not None and analysis.phase == "adversarial" and adv.judged:
            ranges.append(f"adversarial term {adv.share_said()} (it outweighs the nll from "
                          f"{pct(_LIMITS['gan-term-dominant']['share'], 0)})")
    disc = analysis.metrics.get("disc_loss")
    if disc is not None and analysis.phase == "adversarial" and math.isfinite(disc.now):
        ranges.append(f"disc_loss {fmt(disc.now)} (chance level {fmt(s.disc_chance_level)}; 0 once the "
                      "discriminator has won)")
    weight = analysis.metrics.get("d_weight")
    if weight is not None and s.disc_weight and analysis.phase == "adversarial" and math.isfinite(weight.now):
        if weight.now == 0:  # at 0 the clamp says nothing: the adversarial term has no weight
            ranges.append(f"d_weight {fmt(weight.now)} (the adversarial term weighted by 0)")
        else:
            ranges.append(f"d_weight {fmt(weight.now)} (its clamp {fmt(1e4 * s.disc_weight)}, 1e4 x disc_weight "
                          f"{fmt(s.disc_weight)})")
    if ranges:
        out.append("ranges: " + ", ".join(ranges))
    return out


DISC_ZERO_Q = "Why is the discriminator loss zero? Should I be worried?"
DISC_LEVEL_Q = "Is the discriminator loss where the schedule puts it?"
INTERVENE_Q = "Should I intervene in the training process?"
# a finished run cannot be intervened in: what is asked of it is whether its outcome needs a look
FINISHED_Q = "Does the finished run need attention?"
# the rules that say whether the discriminator is on or off when the schedule says it should be
DISC_SCHEDULE_RULES = ("disc-off-before-start", "disc-inactive-after-start", "disc-active-before-start",
                       "disc-never-trained")


def _disc_zero(analysis) -> bool:
    """The premise of "why is the discriminator loss zero?": its current level (or its latest point) is 0."""
    st = analysis.metrics["disc_loss"]
    return st.now == 0 or st.latest == 0


def _disc_scheduled_answer(analysis) -> QA:
    """A discriminator loss that is not 0: is it on (or off) when the schedule says, from the rules that watch
    that; its level against chance is the balance questions' matter."""
    found = topic(analysis, DISC_SCHEDULE_RULES)
    now = fmt(analysis.metrics["disc_loss"].now)
    if not found:
        if analysis.schedule.disc_start is None:
            said = "without disc_start the report cannot say when the discriminator should be on."
        else:
            said = "no logged metric shows whether the discriminator is on (no disc_factor)."
        return QA(DISC_LEVEL_Q, f"Cannot say: disc_loss is {now} now; {said}")
    bad = [f for f in found if f.severity in ("warning", "error")]
    if bad:
        word = verdict(bad, yes="No", no="Yes").rstrip(".")
        return QA(DISC_LEVEL_Q, f"{word}: disc_loss is {now} now. {_messages(bad, analysis.schedule.counts)}",
                  bad[0].rule)
    # all as scheduled: said briefly (the findings list and the switch-on answer hold the detail)
    unit, said = analysis.schedule.counts, []
    off, on = _find(analysis, "disc-off-before-start"), _find(analysis, "disc-inactive-after-start")
    if off is not None and off.numbers.get("disc_loss_before_start", 0.0) == 0.0:
        said.append(f"it was 0 while the discriminator was off (before {unit} {fmt(analysis.schedule.disc_start)})")
    elif off is not None:
        said.append(f"it was {fmt(off.numbers['disc_loss_before_start'])} while disc_factor was 0 (before {unit} "
                    f"{fmt(analysis.schedule.disc_start)}: not the weighted loss the LDM trainer logs)")
    if on is not None and on.step is not None:
        said.append(f"it is {now} now that it is on (from {unit} {fmt(on.step)}, as scheduled)")
    else:
        said.append(f"it is {now} now")
    rest = _messages([f for f in found if f.rule not in ("disc-off-before-start", "disc-inactive-after-start")],
                     unit)
    unjudged = _gan_not_judged(analysis)
    if unjudged is not None:  # on schedule, but nothing trained there (or what it judges is NaN): no "Yes"
        why, where = unjudged
        return QA(DISC_LEVEL_Q, f"Not judged: {' and '.join(said)}, but {why}, so its level is not that "
                  f"of a discriminator that learns. See {pointer(where, unit)} above.", where.rule)
    level = loud_about(analysis).get("disc_loss")
    if level is not None:  # on schedule, yet a warning is about its level: no plain "Yes" beside it
        chance = fmt(analysis.schedule.disc_chance_level)
        return QA(DISC_LEVEL_Q, f"On schedule, but not at a healthy level: {' and '.join(said)}, against its "
                  f"chance level {chance}. See {pointer(level, unit)} above." + (f" {rest}" if rest else ""),
                  level.rule)
    return QA(DISC_LEVEL_Q, f"Yes: {' and '.join(said)}." + (f" {rest}" if rest else ""), found[0].rule)


def _gan_not_judged(analysis) -> tuple[str, Finding] | None:
    """Why the GAN's balance is not judged, with the finding that says so: nothing trained over the adversarial
    phase (run-stalled; its checks say "Not checked"), or the reconstructions it judges are NaN/Inf to the end."""
    stalled = _stalled(analysis)
    skipped = [f for f in analysis.findings if f.skipped and f.rule in DISC_RULES and f.numbers.get("not_judged")]
    if stalled is not None and skipped:
        return skipped[0].numbers["not_judged"], stalled
    for metric in ("rec_loss", "nll_loss", "total_loss"):
        found = dead(analysis, metric)
        if found is not None:
            return (f"{metric}, what it judges, is NaN/Inf since {analysis.schedule.counts} {fmt(found[1])}",
                    found[0])
    return None


def _when_question(analysis) -> str:
    """When the discriminator switches on, asked in the tense the run is in."""
    s = analysis.schedule
    if analysis.disc_never_on or s.adversarial_off is not None:
        return "Did the discriminator become active?"
    if s.observed_disc_start is not None or analysis.step >= s.disc_start:
        return "When did the discriminator become active?"
    return "Did the discriminator become active?" if analysis.finished else "When will the discriminator become active?"


def _seen_on(analysis) -> str:
    """What the logs show once the schedule has the discriminator on: on from a step, never on, or nothing to tell."""
    f = _find(analysis, "disc-inactive-after-start") or _find(analysis, "disc-never-trained")
    unit = analysis.schedule.counts
    if f is None:
        return " No logged metric shows when it switched on (no disc_factor)."
    if f.severity in ("warning", "error"):
        return f" The logs do not show it on. {cite(f, unit)}"
    return f" The logs show it on from {unit} {fmt(f.step)}." if f.step is not None else ""


def _sentence(said: str) -> str:
    """``said`` as a sentence: its first letter capitalised, unless its first word is a name as the logs spell it
    (``d_weight``, ``rec_loss``: "D_weight" is no metric)."""
    first = said.split(" ", 1)[0]
    return said if "_" in first or "/" in first or not said[:1].islower() else said[:1].upper() + said[1:]


def _adversarial_questions(analysis) -> list:
    """What users ask once the GAN is on, answered from the rules that watch it."""
    if analysis.phase != "adversarial":
        return []
    out = []
    balance = _union(topic(analysis, DISC_RULES), topic(analysis, ("loss-constant",), ("disc_loss",)))
    # the discriminator winning, as a headline or cited under its cause (d_weight 0)
    won = next(((f, one) for f in balance for one in (_as_cited(f), *f.related)
                if one["rule"] == "disc-overpowering"), None)
    winning = [won[0]] if won is not None else []
    ahead = won is not None and won[1].get("case") == "pulling-ahead"  # not won yet: its loss is not going to 0
    if winning and not ahead and _disc_zero(analysis):
        pass  # "why is the discriminator loss zero?" above cites the finding: not asked twice
    elif ahead:
        out.append(QA("Is the discriminator pulling ahead?",
                      "Yes. " + _messages(winning[:1], analysis.schedule.counts), winning[0].rule))
    elif winning:
        out.append(QA("Why is the discriminator loss going to 0?", _why_disc_wins(analysis, *won), won[0].rule))
    elif [f for f in balance if f.rule not in WEIGHT_RULES] and dead_sentence(analysis, "disc_loss") is None:
        out.append(_near_chance_answer(balance, analysis))
    rec = _union(topic(analysis, ("rec-after-disc",)), [f for f in topic(analysis, ("loss-now",), ("rec_loss",))
                                                        if (f.step or 0) >= (analysis.schedule.disc_start or 0)])
    if rec:
        bad = [f for f in rec if f.severity in ("warning", "error")]
        slightly = any(f.case == "slightly-worse" for f in rec)
        # a rise that came across a NaN/Inf step long after the switch-on is that step's, not the GAN's
        across = [f for f in rec if f.case == "across-nonfinite"]
        # "No" while a warning doubts it is hedged ("Not by this measure", _qualified), never turned into a "Yes"
        word = "Not with the discriminator" if across else "Yes" if bad else "Only a little" if slightly else "No"
        unit = analysis.schedule.counts
        shown = across + bad or rec
        # the change itself first, from the reconstruction finding's numbers (also one cited under the cause);
        # a warning is then pointed to by its title, with no numbers of its own that answer another question
        change = next((c for f in rec if (c := cited_numbers(f, "rec-after-disc", unit))), None)
        loud = change is not None and all(f.severity in ("warning", "error") for f in shown)
        said = " ".join(cite(f, unit) for f in shown) if loud else _messages(shown, unit)
        head = f"{word}: {change}." if loud else f"{word}."
        out.append(QA("Did reconstruction get worse once the GAN started?", f"{head} {said}", rec[0].rule))
    return out


def _as_cited(f: Finding) -> dict:
    """A headline in the form of the findings cited under it, to read both alike."""
    return {"rule": f.rule, "case": f.case, "numbers": f.numbers, "metric": f.metric, "step": f.step,
            "severity": f.severity, "title": f.title}


def _why_disc_wins(analysis, head: Finding, won: dict) -> str:
    """Why the discriminator loss goes to 0, from the finding's numbers: the cause first (the generator gets no
    adversarial gradient when d_weight is 0; else the discriminator outlearns it), then where to read it."""
    n, unit = won.get("numbers") or {}, analysis.schedule.counts
    now = (n.get("now") or {}).get("disc_loss", n.get("disc_loss_median"))
    level = f"disc_loss {fmt(now)} now against its chance level {fmt(analysis.schedule.disc_chance_level)}"
    if n.get("d_weight_zero"):
        return (f"Because the generator gets no adversarial gradient: d_weight is exactly 0, so the adversarial "
                f"term never reaches the autoencoder and the discriminator wins unopposed ({level}). See "
                f"{pointer(head, unit)} above.")
    gap = f", its logits {fmt(n['logit_gap'])} apart, real above fake" if "logit_gap" in n else ""
    g = f", while g_loss is at {fmt(n['g_loss_median'])}" if "g_loss_median" in n else ""
    margin = "by a wide margin" if analysis.schedule.disc_loss == "vanilla" else "past the hinge's margin"
    return (f"Because the discriminator outlearns the generator: it separates real inputs from reconstructions "
            f"{margin} ({level}{gap}{g}). See {pointer(head, unit)} above.")


def stop_broken_forecasts(analysis) -> None:
    """Take the forecast of every key loss that is NaN/Inf at its latest point out of the analysis (a trend fitted
    to its finite points would forecast a level the run no longer has), with the reason, before anything reads it:
    the Forecast section, the answers and the JSON summary then print one forecast."""
    f = analysis.forecast
    if f is None:
        return
    metrics = set(f.trends) | {g.metric for g in f.goals}
    stalled = _stalled(analysis)
    for metric in metrics:
        found = dead(analysis, metric)
        if found is not None:
            f.stop(metric, f"NaN/Inf since {analysis.schedule.counts} {fmt(found[1])}, so the trend of the "
                           "finite points before does not go on")
        elif stalled is not None:  # a frozen run's fit is a flat line with no spread: no forecast at all
            f.stop(metric, f"nothing has trained since {pos.at(analysis.schedule, stalled.step)} (the learning "
                           "rate is 0): there is no trend to carry forward" if stalled.case == "lr-zero" else
                           f"training has stalled since {pos.at(analysis.schedule, stalled.step)}: a frozen run has "
                           "no trend to carry forward")


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
        return [QA("Can the key losses be forecast?", f"{'Not yet' if young else 'No'} (see the Forecast section): "
                   + "; ".join(said) + "."
                   + (" Give the total with --total-steps for an end-of-training forecast." if unknown else ""),
                   "forecast")]
    where = ("at the end of training" if "end of training" in labels
             else "when the discriminator starts" if labels == {"discriminator starts"} else "at the next milestone")
    return [QA(f"Where will the losses be {where}?",
               ("From each key loss's trend" if not all(r["now"] for r in f.rows()) else "A few logging intervals away")
               + " (see the Forecast section): " + "; ".join(said) + ".", "forecast")]


# the adversarial term's weight and share: findings about the objective, not about the discriminator's loss
WEIGHT_RULES = ("d-weight-pinned", "gan-term-dominant")


def disc_level_question(analysis) -> str:
    """"Is a discriminator loss near 1 fine?" when it is near its chance level (1 for the hinge loss, ln 2 for the
    vanilla one), else the question about the level it is at."""
    chance = analysis.schedule.disc_chance_level
    now = analysis.metrics["disc_loss"].now
    if math.isfinite(now) and abs(now - chance) <= 0.25 * chance:
        return f"Is a discriminator loss near {fmt(chance)} fine?"
    return f"Is a discriminator loss of {fmt(now)} fine (chance level {fmt(chance)})?"


def _near_chance_answer(balance: list, analysis) -> QA:
    """Is the discriminator loss's level fine: from the findings on the discriminator's loss; one on the adversarial
    term's weight or share is another matter, named apart."""
    about_d = [f for f in balance if f.rule not in WEIGHT_RULES]
    bad = [f for f in about_d if f.severity in ("warning", "error")]
    # where harm would show (reconstruction worse since the switch-on, disc-at-chance says): no "Yes" beside it
    harm = [f for f in topic(analysis, ("rec-after-disc",)) if f.severity in ("warning", "error")]
    word = "Not as it stands" if bad or harm or any(doubted(f) for f in about_d) else "Yes"
    shown = bad or [f for f in about_d if f.rule == "disc-at-chance"] or about_d[:1]
    apart = [f for f in balance if f.rule in WEIGHT_RULES and f.severity in ("warning", "error")]
    unit = analysis.schedule.counts
    aside = "".join(f" Separately, on {'d_weight' if f.rule == 'd-weight-pinned' else 'the adversarial term'}, "
                    f"{_messages([f], unit)[:1].lower()}{_messages([f], unit)[1:]}" for f in apart)  # ", see the"
    harmed = "".join(f" But reconstruction got worse after the switch-on, where its harm would show: "
                     f"{cited_numbers(f, 'rec-after-disc', unit) or f.metric} (see {pointer(f, unit)} above)."
                     for f in harm[:1])
    return QA(disc_level_question(analysis), f"{word}. {_messages(shown, unit)}{aside}{harmed}", shown[0].rule)


def _disc_answer(analysis) -> str:
    off = _find(analysis, "disc-off-before-start")
    dead = _find(analysis, "disc-inactive-after-start")
    early = _find(analysis, "disc-active-before-start")
    latest = analysis.metrics["disc_loss"].latest
    # asked only when disc_loss is 0 now (_disc_zero)
    if dead is not None and dead.severity == "error":
        return "Yes. " + _messages([dead], analysis.schedule.counts)
    if dead is not None and dead.case == "disabled":  # the config multiplies it by 0: nothing failed
        return ("No, if no GAN phase was meant: it is 0 because the config's disc_factor 0 multiplies it by 0 at "
                "every step, so no adversarial phase runs. " + _messages([dead], analysis.schedule.counts))
    past = _find(analysis, "disc-start-past-end")
    if past is not None and analysis.phase == "before discriminator":
        return (f"No, if no GAN phase was meant: it is 0 because the discriminator is off until disc_start "
                f"{fmt(analysis.schedule.disc_start)}, which lies past the end of training, so it stays off in this "
                "run. " + _messages([past], analysis.schedule.counts))
    if early is not None:
        return ("It is not zero everywhere: " if latest != 0 else "") + _messages([early], analysis.schedule.counts)
    if off is not None and analysis.phase == "before discriminator":
        return "No need to worry. " + _messages([off], analysis.schedule.counts)
    if dead is not None:  # on as scheduled, and at 0 now: it has won, or the hinge's margin is cleared
        won = next(((f, one) for f in analysis.active_findings() for one in (_as_cited(f), *f.related)
                    if one["rule"] == "disc-overpowering"), None)  # a headline, or cited under its cause
        on = (f"It has been on since {analysis.schedule.counts} {fmt(dead.step)}, as scheduled, and is at 0 now"
              if dead.step is not None else "It is on, as scheduled, and at 0 now")
        if won is not None:  # "should I be worried" is answered first, then why it won
            return f"{verdict([won[0]])} {on}: it has won. {_why_disc_wins(analysis, *won)}"
        if analysis.schedule.disc_loss == "vanilla":
            why = ("A vanilla (softplus) discriminator loss at 0 means its logits separate every real input from "
                   "every reconstruction by a wide margin.")
        else:
            why = ("A hinge discriminator loss of exactly 0 means it separates every real input from every "
                   "reconstruction by the hinge's margin.")
        return f"Look at it. {on}. {why}"
    return "Cannot say: disc_loss is 0 now, and without disc_start the report cannot say whether 0 is expected."


def has_discriminator(analysis) -> bool:
    """Whether the run trains a discriminator: its metrics are logged, or the config names disc_start (also one
    left out because the logs count another unit) or a discriminator loss."""
    s = analysis.schedule
    return (any(name.split("/")[-1] in DISC_METRICS for name in analysis.metrics) or s.disc_start is not None
            or "Discriminator" in (s.loss_class or "") or "disc_start" in (s.unit_note or ""))


def model_kind(analysis) -> str:
    """What the run trains, for a title: VAE-GAN / VQGAN with a discriminator, VAE / VQ-VAE without one."""
    disc = has_discriminator(analysis)
    if analysis.schedule.regularizer == "vq":
        return "VQGAN" if disc else "VQ-VAE"
    return "VAE-GAN" if disc else "VAE"


def kinds_of(analyses: list) -> str:
    """One title word for several runs: theirs when they agree, "autoencoder" when they do not."""
    kinds = {model_kind(a) for a in analyses if a is not None}
    return kinds.pop() if len(kinds) == 1 else "autoencoder"


def ok_meaning(analysis) -> str:
    """What an "ok" status vouches for: the schedule's expectations only when there was a schedule, and never
    what was not examined (checks skipped for want of their metrics, phases the logs' unit cannot place)."""
    if analysis.schedule.layout == "none":
        said = ("no check found a problem in the logged metrics (without a training config, phases and "
                "milestones were not checked)")
    else:
        said = "training behaves as its schedule says it should"
    missed = not_examined(analysis)
    return said + (f", as far as it was examined: not examined were {'; '.join(missed)}" if missed else "")


# the rules that examine a discriminator: nothing to examine in a model without one
DISC_CHECKS = tuple(rule.id for rule in RULES if rule.id in DISC_RULES or "disc" in rule.id)


def not_examined(analysis) -> list[str]:
    """What an all-clear does not cover: the discriminator checks that were skipped (its metrics not logged or
    not recognised) and the phases when the logs count another unit than the config's steps."""
    out = []
    skipped = [f for f in analysis.findings if f.skipped and f.rule in DISC_CHECKS]
    if skipped and has_discriminator(analysis):  # a model without one has nothing there to examine
        # what they needed, each name once: "disc_factor|disc_loss" is either of two metrics, "(schedule)" a value
        # of the config; the checks themselves are named in the Findings section's "Not checked" line
        needs = dict.fromkeys(name.strip() for f in skipped for need in f.numbers.get("missing", ())
                              for name in need.split("|"))
        logged = [n.replace(" (schedule)", "") for n in needs if n.endswith("(schedule)")]
        metrics = [n for n in needs if not n.endswith("(schedule)")]
        wants = ([f"a discriminator metric ({', '.join(metrics)}: none logged)"] if metrics else []) + (
            [f"{'of ' if metrics else ''}{', '.join(logged)} in the schedule"] if logged else [])
        out.append(f"{counted(len(skipped), 'discriminator check')}, for want of "
                   f"{' and '.join(wants) or 'their inputs'}")
    loss_checks = [f for f in analysis.findings if f.rule in LOSS_CHECKS]
    if loss_checks and all(f.skipped for f in loss_checks):  # not one loss was judged: say so first
        out.insert(0, "the losses themselves (no training or validation loss these checks read is logged under a "
                      "name they know)")
    s = analysis.schedule
    if s.unit_note and s.layout != "none":
        out.append(f"the phases and milestones, since {s.unit_note}")
    return out


# the checks that judge the losses' levels and trends: a run none of them could judge has not been judged
LOSS_CHECKS = ("loss-now", "rec-trend", "total-trend", "divergence")


def _intervene_answer(analysis) -> str:
    bad = [f for f in analysis.active_findings() if f.severity in ("warning", "error")]
    if not bad:
        if analysis.finished:
            return "No. Training has finished and no rule raised a warning or an error."
        milestone = analysis.next_milestone
        # what was not examined is said in full once, in the recommendations and the conclusion
        said = ok_meaning(analysis).split(", as far as it was examined")[0]
        if not_examined(analysis):
            said += ", as far as it was examined (what was not is listed in the Conclusion)"
        return (f"No. No rule raised a warning or an error: {said}. "
                + (f"Keep it running and re-run this report at the next milestone ({analysis.schedule.counts} "
                   f"{fmt(milestone.step)}, {milestone.name})." if milestone is not None else "Keep it running."))
    # the worst first, and among equals the earliest: the first thing to go wrong is the likely cause
    bad.sort(key=lambda f: (-RANK[f.severity], f.step if f.step is not None else float("inf")))
    errors = [f for f in bad if f.severity == "error"]
    urgent = errors or [f for f in bad if f.rule not in CAN_WAIT]
    first = urgent[0] if urgent else bad[0]
    unit = analysis.schedule.counts
    word = "Yes, act on" if urgent else "Not urgently, but look at"
    said = numbers_of(first, unit)
    todo = first.action or "see the findings list"
    when = "in a resumed or a next run, " if analysis.finished else ""
    more = len(bad) - 1  # each headline is one cause: the findings of one cause are cited under it
    return (f"{word} {pointer(first, unit)}" + (f": {said}" if said else "") + f". What to do {when}first: "
            f"{todo[:1].lower()}{todo[1:]}"
            + (f" ({counted(more, 'other cause')} at warning or above: see the Recommendations.)" if more else ""))


def _monitor_answer(analysis) -> str:
    s = analysis.schedule
    rec = analysis.metrics.get("rec_loss")
    kind = "vanilla (softplus)" if s.disc_loss == "vanilla" else "hinge"
    parts = [f"disc_loss: with the {kind} loss it sits near {fmt(s.disc_chance_level)} while the discriminator "
             "cannot tell real from fake (logits near 0); a fall toward 0 with logits_real and logits_fake drifting "
             "apart means it is overpowering the generator."]
    if rec is not None:
        parts.append(f"rec_loss against its level before the switch (now {fmt(rec.now)}): the adversarial term "
                     "often costs some reconstruction at first; a sustained rise is a regression.")
    if s.disc_weight is not None:
        parts.append(f"d_weight: it is clamped to 1e4 before the x{fmt(s.disc_weight)} disc_weight, so a value "
                     f"pinned at {fmt(1e4 * s.disc_weight)} no longer adapts: the GAN term's gradient is tiny "
                     "against the nll's (with nll summed over the pixels, as RadioDiff's, it often is from the "
                     "start).")
    parts.append("g_loss and the total: the total may jump or drop when the signed adversarial term switches on.")
    return " ".join(parts)


def _at(finding: Finding, unit: str | None = None) -> str:
    """" (metric, epoch N)": where a finding is, in the logs' unit (by default the finding's own)."""
    where = pos.at(unit or finding.unit, finding.step) if finding.step is not None else ""
    what = f"{finding.metric}, " if finding.metric else ""
    return f" ({what}{where})" if where else (f" ({finding.metric})" if finding.metric else "")


def advice(finding: Finding, samples: bool | None = None) -> str:
    """What to do about a warning or an error: its action, and what to look for in the reconstructions unless the
    run holds none (``samples`` False; None: not looked)."""
    said = finding.action
    if finding.look and samples is not False:
        said = f"{said} Look at the reconstructions for {finding.look}.".strip()
    return said


def _keep(analysis) -> str:
    """"; the checkpoint to keep is ..., as "..." says": the one the earliest warning or error that picks one names
    (what went wrong first decides which weights are still good); "" when none does."""
    picked = sorted((f for f in analysis.active_findings() if f.severity in ("warning", "error")
                     and f.numbers.get("keep_checkpoint")), key=lambda f: f.step if f.step is not None else 0)
    if not picked:
        return ""
    f = picked[0]
    return f"; the checkpoint to keep is {f.numbers['keep_checkpoint']}, as \"{f.title or f.rule}\" says"


def recommendations(analysis, samples: bool | None = None) -> list[str]:
    """What to do, worst first (``samples``: whether the run holds reconstruction images, None if not looked)."""
    out = []
    unit = analysis.schedule.counts
    # earliest first within each severity: what went wrong first is usually what the rest follows from
    ordered = sorted(analysis.active_findings(), key=lambda f: f.step if f.step is not None else float("inf"))
    for severity, lead in (("error", "Fix first"), ("warning", "Look into")):
        for finding in ordered:
            if finding.severity == severity:
                todo = advice(finding, samples)
                out.append(f"{lead}: {(finding.title or finding.rule)}{_at(finding, unit)}"
                           + (f": {todo[:1].lower()}{todo[1:]}" if todo else "."))
    milestone = analysis.next_milestone
    if analysis.finished:
        # the run's own reconstructions where it saved some; else what the checkpoint makes of held-out images
        judge = ("its reconstructions" if samples is not False
                 else "reconstructions of held-out images made with it (the run saved none)")
        if out:
            out.append("Training has finished, so these apply to a resumed or a next run" + _keep(analysis) + ".")
        elif _validated(analysis):
            out.append("Training has finished with no warning or error, and validation tracks training: the "
                       f"checkpoint is a candidate for the next stage; judge it by {judge} before using it.")
        elif _validation_only(analysis):
            out.append("Training has finished with no warning or error in its validation logs (no training loss was "
                       "logged, so overfitting cannot be told from validation alone): the checkpoint is a candidate "
                       f"for the next stage; judge it by {judge} before using it.")
        else:
            out.append("Training has finished with no warning or error in its training logs. No validation metric "
                       f"was logged, so the logs cannot vouch for the checkpoint: judge it by {judge}.")
        return out
    passed = analysis.schedule.passed_total
    if passed is not None:  # a config total the logs went past: progress and the end are unknown until it is fixed
        out.append(f"The logs went past the config's total of {fmt(passed)} ({unit} {fmt(analysis.step)}): check "
                   "that this config is the run's (an extended run, or another run's config) and give the real "
                   "total with --total-steps, so progress and the end of training can be judged.")
    if len(out) == (passed is not None):  # no finding to act on (beside the config's total)
        missed = not_examined(analysis)
        head = ("No intervention needed in the training itself: continue." if passed is not None
                else "No intervention needed: continue training.")
        age = _log_age(analysis)
        if age is not None:  # the logs end long before this report: they cannot say the run still goes
            head = (f"No intervention needed in what the logs show; they end {duration(age)} before this report, "
                    "so whether the run still goes is for --now (or the process) to say.")
        # one sentence per thing not examined: each carries its own reason, and nested in one they read as a knot
        out.append(head + "".join(f" Not examined: {m}." for m in missed))
    # a switch-on that never comes (disc_factor 0, disc_start past the end) is nothing to re-run the report for
    switch = analysis.schedule.switch_step if analysis.schedule.adversarial_off is None else None
    halted = _halted(analysis)
    check = ("re-run this report after it to check that the discriminator switched on and that reconstruction holds"
             if switch is not None and analysis.step < switch and not halted else None)
    if halted is not None:  # stopped, stalled or NaN: waiting for the next milestone would change nothing
        out.append(f"No next milestone to wait for: {halted}; act on the findings above first.")
        milestone = None
    elif _first_error(analysis) is not None:  # an error is fixed first: the run as it is is not worth waiting on
        first = _first_error(analysis)
        out.append(f"No milestone to wait for: fix \"{first.title or first.rule}\" first; after the fix, re-run "
                   f"this report {_after_fix(analysis)}.")
        milestone, check = None, None
    elif milestone is not None and _pressing(analysis):
        soon = _sooner(analysis, milestone.step)
        if soon is not None:
            first, (step, why) = _pressing(analysis)[0], soon
            out.append(f"Next check: {unit} {fmt(step)} ({why}), {fmt(step - analysis.step)} {unit}s past the last "
                       f"logged one, well before {unit} {fmt(milestone.step)} ({milestone.name}): re-run this report "
                       f"there to see whether \"{first.title or first.rule}\" still stands."
                       + _eta(analysis, step - analysis.step))
            milestone = None  # the switch-on's own re-run, if it is ahead, follows below
    if milestone is not None:
        at_switch = check is not None and milestone.step == switch  # one sentence for one re-run
        out.append(f"Next check: {unit} {fmt(milestone.step)} ({milestone.name}), {fmt(analysis.steps_to_next)} "
                   f"{unit}s past the last logged one" + (f": {check}." if at_switch else ".")
                   + _eta(analysis, analysis.steps_to_next))
        check = None if at_switch else check
    if check is not None:
        out.append(f"After {unit} {fmt(switch)}, {check.replace(' after it', '')}.")
    return out


def _log_age(analysis) -> float | None:
    """How many hours before this report the logs end, when the liveness check found them older than its
    limit (no --now): None for logs that may be live."""
    return next((f.numbers["log_age_at_report_hours"] for f in analysis.active_findings()
                 if f.rule == "liveness" and "log_age_at_report_hours" in f.numbers), None)


def _first_error(analysis) -> Finding | None:
    """The earliest error: fixed first, whatever the next milestone."""
    errors = [f for f in analysis.active_findings() if f.severity == "error"]
    return min(errors, key=lambda f: f.step if f.step is not None else math.inf) if errors else None


def _pressing(analysis) -> list[Finding]:
    """The warnings that are about the training itself (not the logs or the config, not trouble already over),
    earliest first: a reason to look again soon, not at a far milestone."""
    found = [f for f in analysis.active_findings() if f.severity == "warning" and f.rule not in CAN_WAIT]
    return sorted(found, key=lambda f: f.step if f.step is not None else math.inf)


def _interval(analysis) -> tuple[int, str] | None:
    """The stretch after which a second look says something new: the config's checkpoint interval (a step a
    resume could start from), else 20 logging intervals."""
    s = analysis.schedule
    if s.checkpoint_every and s.counts == "step":
        return s.checkpoint_every, f"the next checkpoint, saved every {fmt(s.checkpoint_every)} steps"
    if analysis.log_every:
        return 20 * analysis.log_every, f"20 logging intervals of {fmt(analysis.log_every)}"
    return None


def _sooner(analysis, far: int) -> tuple[int, str] | None:
    """The step of a second look at a warning, when it comes well before the next milestone ``far``."""
    found = _interval(analysis)
    if found is None:
        return None
    every, why = found
    step = (analysis.step // every + 1) * every if "checkpoint" in why else analysis.step + every
    return (step, why) if step < far - every / 2 else None


def _after_fix(analysis) -> str:
    """When to look again after fixing an error: a checkpoint interval or 20 logging intervals into the run."""
    found = _interval(analysis)
    if found is None:
        return "once it has logged again"
    every, _ = found
    return f"once it has run {fmt(every)} {analysis.schedule.counts}s more"


def _validation_only(analysis) -> bool:
    """Only validation losses logged (a run that logs its losses once per epoch at validation)."""
    losses = [name for name in analysis.metrics if name.endswith("_loss")]
    return bool(losses) and all(name.split("/")[0] in ("val", "validation") for name in losses)


def _validated(analysis) -> bool:
    found = topic(analysis, ("val-overfitting",))
    return bool(found) and all(f.severity == "ok" for f in found)


def confidence(analysis) -> tuple[str, list[str]]:
    """high / medium / low, with the reasons it is not high."""
    reasons_low, reasons_medium = [], []
    s = analysis.schedule
    if s.layout == "none":
        reasons_low.append("no training config was found: phases and milestones are not checked against it")
    if "inferred" in s.origins.get("disc_start", ""):
        reasons_medium.append("disc_start was inferred from the data, not read from a config")
    if s.total_steps is None:
        reasons_medium.append("the total number of steps is unknown, so progress is too")
    if s.unit_note and s.layout != "none":  # the schedule's checks could not run: the verdict leaves them out
        reasons_medium.append(f"the phases and milestones are not checked, since {s.unit_note}")
    live = _find(analysis, "liveness")
    going = not analysis.finished and not analysis.halted  # a speed or an ETA bears only on a run still going
    if going and live is not None and live.numbers.get("implausible_clock"):
        reasons_medium.append("the logs' wall times are no training clock, so there is no training speed or ETA")
    elif going and steps_per_hour(analysis) is None:
        reasons_medium.append("the logs have too few timed points for a training speed or an ETA")
    key = [analysis.metrics[n].count for n in ("total_loss", "rec_loss", "nll_loss", "aeloss", "quant_loss")
           if n in analysis.metrics]
    validation = [n for n in analysis.metrics if n.startswith("val/")
                  and n.split("/", 1)[1] in ("total_loss", "rec_loss", "nll_loss", "aeloss", "quant_loss")]
    if not key and validation:  # judged on validation alone: said as that, not as "nothing logged"
        reasons_low.append(f"no training loss is logged, only validation's ({', '.join(validation)}), which the "
                           "report judges alone")
    elif not key:
        reasons_low.append("no reconstruction or total loss is logged")
    elif min(key) < 20:
        reasons_low.append(f"few points in the key losses ({fmt(min(key))})")
    if reasons_low:
        return "low", reasons_low + reasons_medium
    if reasons_medium:
        return "medium", reasons_medium
    return "high", []


__all__ = ["confidence", "pct", "questions_and_answers", "recommendations", "steps_per_hour"]
