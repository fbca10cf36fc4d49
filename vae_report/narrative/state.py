"""What the findings say of the run, for the prose: a rule's active finding, the findings of a Q&A topic and the
verdict word they give, pointers to a finding, whether the run is halted (stopped, NaN/Inf, stalled), its speed and
ETA, what an all-clear covers. The questions, the ranges answer and the recommendations all read the run here."""

from __future__ import annotations

import math

from .. import position as pos
from ..frame import logged_apart, written_as
from ..numbers import counted, fmt, listed
from ..rules import RULES, Finding, rules_on
from ..rules.base import DISC_METRICS, RANK
from ..rules.dynamics import duration, time_left
from .answers import short

_RATIONALE = {rule.id: rule.rationale for rule in RULES}



_TITLE = {rule.id: rule.title for rule in RULES}
# the checks' default limits, quoted as the ranges they put values in and the thresholds to watch
LIMITS = {rule.id: rule.thresholds for rule in RULES}



def by_harm(findings: list[Finding]) -> list[Finding]:
    """The findings in the order to act on them: by the harm of waiting (Rule.harm: a halted run, a NaN, an lr gone
    wrong, a divergence, a GAN out of balance, the rest), then the worse severity, then the earliest (what went
    wrong first is usually what the rest follows from); never by the rules' order."""
    return sorted(findings, key=lambda f: (f.harm, -RANK.get(f.severity, 0),
                                           f.step if f.step is not None else math.inf))



def finding_of(analysis, rule: str) -> Finding | None:
    return next((f for f in analysis.active_findings() if f.rule == rule), None)



def steps_per_hour(analysis) -> float | None:
    """Training speed, as the liveness rule measured it (None without wall times)."""
    found = finding_of(analysis, "liveness")
    return None if found is None else found.numbers.get("steps_per_hour")



def eta_words(analysis, steps_away: int) -> str:
    """The time to a step ``steps_away`` ahead, or why there is none: the liveness finding is the one source (its
    speed, and its reason for giving no estimate), so an answer never times what the findings table does not."""
    halted = halted_reason(analysis)
    if halted:
        return f" No time estimate: {halted}."
    found = finding_of(analysis, "liveness")
    if found is not None and found.numbers.get("no_eta"):  # why is the liveness finding's to say, once
        return f" No time estimate (see \"{found.title or found.rule}\")."
    rate = steps_per_hour(analysis)
    if rate is None or steps_away <= 0:
        return ""
    # counted from the report's clock: the time since the last log is already gone
    elapsed = found.numbers.get("seconds_since_last_log", 0.0) / 3600 if found is not None else 0.0
    left = time_left(steps_away / rate, elapsed)
    if left.startswith("overdue"):
        return f" At the recent pace of {fmt(round(rate))} {analysis.schedule.counts}s per hour it is {left}."
    return (f" At the recent pace of {fmt(round(rate))} {analysis.schedule.counts}s per hour that is about "
            f"{duration(steps_away / rate - elapsed)} away.")



def why_it_matters(finding: Finding) -> str:
    """Why the finding matters: its case's reason (Case.rationale), else its rule's."""
    return finding.rationale or _RATIONALE.get(finding.rule, "")



def dead(analysis, metric: str) -> tuple[Finding, int | None] | None:
    """(the finding that says ``metric`` is NaN/Inf at its latest point, the first bad step); the finding is the
    headline it is grouped under when it is one of its causes; None while the metric is finite at the end."""
    for f in analysis.active_findings():
        for one in f.told():
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



def halted_reason(analysis) -> str | None:
    """Why the run will not reach its next milestone as it is: stopped logging, or its losses are NaN/Inf at the
    end; None when it is going."""
    if any(f.rule == "liveness" and f.severity == "warning" and "slowdown_since" not in f.numbers
           for f in analysis.active_findings()):  # slowed down is still going: its ETA stands
        return f"the run looks stopped (see \"{_TITLE['liveness']}\")"
    return analysis.halted  # NaN/Inf at the end, or stalled: the one gate (rules.dynamics.cannot_go_on)



def stalled_finding(analysis) -> Finding | None:
    """The run-stalled warning or error, if any: losses frozen to float precision, the optimizer not moving."""
    return next((f for f in analysis.active_findings() if f.rule == "run-stalled" and f.case != "lr-disputed"
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



def union(*lists: list[Finding]) -> list[Finding]:
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



def messages(findings: list[Finding], unit: str = "step") -> str:
    """What the findings say, for an answer: each one's key numbers, built from its rule's numbers, and a pointer
    to it by its title (the findings list holds the detail: each cause is said in full once; ``unit``: what the
    logs' step axis counts, for the pointer). An ok finding a warning puts in doubt says so after its numbers,
    with the pointer to that warning that grouping.qualify_ok wrote."""
    return " ".join(short(f, unit) + (_doubt(f) if doubted(f) else "") for f in findings)


def _doubt(finding: Finding) -> str:
    """The sentence grouping.qualify_ok added to an ok finding a warning puts in doubt (" That is no all-clear:
    see the warning ..."): said after the finding's own numbers."""
    at = finding.message.rfind(" That is no all-clear:")
    return finding.message[at:] if at >= 0 else ""


def cite(finding: Finding, unit: str | None = None) -> str:
    """A pointer to a warning or an error of the findings list: its title, metric and position (``unit``: what the
    logs' step axis counts; by default the finding's own)."""
    return f"See the {finding.severity} \"{finding.title or finding.rule}\"{where_at(finding, unit)} above."



def where_at(finding: Finding, unit: str | None = None) -> str:
    """" (metric, epoch N)": where a finding is, in the logs' unit (by default the finding's own)."""
    where = pos.at(unit or finding.unit, finding.step) if finding.step is not None else ""
    what = f"{finding.metric}, " if finding.metric else ""
    return f" ({what}{where})" if where else (f" ({finding.metric})" if finding.metric else "")



# the adversarial term's weight and share: findings about the objective, not about the discriminator's loss
WEIGHT_RULES = ("d-weight-pinned", "gan-term-dominant")



# the rules that say whether the discriminator is on or off when the schedule says it should be
DISC_SCHEDULE_RULES = ("disc-off-before-start", "disc-inactive-after-start", "disc-active-before-start",
                       "disc-never-trained")



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



BALANCE_RULES = ("disc-overpowering", "generator-winning", "disc-at-chance")  # the GAN's balance, judged


def ok_meaning(analysis) -> str:
    """What an "ok" status vouches for: the schedule's expectations only when there was a schedule, and never
    what was not examined (checks skipped for want of their metrics, phases the logs' unit cannot place)."""
    if analysis.schedule.layout == "none":
        said = ("no check found a problem in the logged metrics (without a training config, phases and "
                "milestones were not checked)")
    elif analysis.ended and not analysis.finished:  # ended before its schedule: an ok vouches for the logs
        last = pos.at(analysis.schedule, analysis.step)
        said = f"training behaved as its schedule says it should up to the last log ({last}), when it ended " \
               f"({analysis.ended})"
    else:
        said = "training behaves as its schedule says it should"
    missed = not_examined(analysis)
    return said + (f", as far as it was examined: not examined were {'; '.join(missed)}" if missed else "")



# the rules that examine a discriminator: nothing to examine in a model without one
DISC_CHECKS = tuple(rule.id for rule in RULES if rule.id in DISC_RULES or "disc" in rule.id)



def not_examined(analysis) -> list[str]:
    """What an all-clear does not cover: every check skipped for want of its metrics or schedule values, by family
    (the discriminator's, where the model has one; the KL's, where the model has a KL; the others, named), and
    the phases when the logs count another unit than the config's steps."""
    out = []
    skipped = [f for f in analysis.findings if f.skipped]
    vq = analysis.schedule.regularizer == "vq"
    families = (
        ("discriminator check", [f for f in skipped if f.rule in DISC_CHECKS] if has_discriminator(analysis) else []),
        ("KL check", [f for f in skipped if f.rule.startswith("kl-") and f.rule not in DISC_CHECKS] if not vq else []),
    )
    grouped = {f.rule for _, group in families for f in group}
    loss_checks = [f for f in analysis.findings if f.rule in LOSS_CHECKS]
    none_judged = bool(loss_checks) and all(f.skipped for f in loss_checks)  # said apart, first (below)
    others = [f for f in skipped if f.rule not in grouped and f.rule not in DISC_CHECKS
              and not (vq and f.rule.startswith("kl-")) and not (none_judged and f.rule in LOSS_CHECKS)]
    for noun, group in (*families, ("other check", others)):
        if not group:
            continue
        # what they needed, each name once: "disc_factor|disc_loss" is either of two metrics, "(schedule)" a value
        # of the config; the checks themselves are named in the Findings section's "Not checked" line
        needs = dict.fromkeys(name.strip() for f in group for need in f.numbers.get("missing", ())
                              for name in need.split("|"))
        config = [n.replace(" (schedule)", "") for n in needs if n.endswith("(schedule)")]
        metrics = [n for n in needs if not n.endswith("(schedule)")]
        # a metric the logs hold but the reader left out (RadioDiff's lr printed to 5 decimals) is said as such
        left = {k: why for src in analysis.sources for k, why in src.left_out.items()}
        unread = [f"a readable {name} ({left[name]}: see Sources)" for name in metrics if name in left]
        metrics = [name for name in metrics if name not in left]
        # a metric logged under names it was not read as (two series that differ) is said so, not unlogged
        unread += [f"{name} ({logged_apart(written_as(name, analysis.metrics))})" for name in metrics
                   if written_as(name, analysis.metrics)]
        metrics = [name for name in metrics if not written_as(name, analysis.metrics)]
        wants = ([f"{listed(metrics)} (none of them logged)" if len(metrics) > 1 else f"{metrics[0]} (not logged)"]
                 if metrics else []) + unread
        wants += [f"{'of ' if wants else ''}{listed(config)} in the schedule"] if config else []
        # the checks named by their titles where few (a count alone says nothing of what was left out)
        named = f" ({listed(f.title or f.rule for f in group)})" if noun == "other check" or len(group) <= 2 else ""
        out.append(f"{counted(len(group), noun)}{named}, for want of {' and '.join(wants) or 'their inputs'}")
    now = finding_of(analysis, "loss-now")
    few = now.numbers.get("too_few_points") if now is not None else None
    if few:  # too short for loss-now to tell a recent rise; the trends over the run are their findings' own
        out.insert(0, f"whether {listed(few)} {'rise' if len(few) > 1 else 'rises'} in the latest logs, with fewer "
                      "than 20 logged points each (too few to tell a recent change from noise; the changes over the "
                      "run are in the findings)")
    young = now.numbers.get("not_judged_yet") if now is not None else None
    if young and not analysis.halted:  # an adversarial phase too young to judge the losses' latest rise in
        # its balance is said not examined only where no balance rule judged it (one that did is in the findings)
        balance = any(f.rule in BALANCE_RULES and not f.skipped for f in analysis.findings)
        out.append(("" if balance else "the GAN's balance, and ") + f"whether {listed(young)} "
                   f"{'rise' if len(young) > 1 else 'rises'} in the latest logs of the adversarial phase: fewer "
                   "than 20 points since the discriminator switched on")
    if none_judged:  # not one loss was judged: say so first
        out.insert(0, "the losses themselves (no training or validation loss these checks read is logged under a "
                      "name they know)")
    s = analysis.schedule
    if s.unit_note and s.layout != "none":
        out.append(f"the phases and milestones, since {s.unit_note}")
    return out



# the checks that judge the losses' levels and trends: a run none of them could judge has not been judged
LOSS_CHECKS = ("loss-now", "rec-trend", "total-trend", "divergence")



def log_age(analysis) -> float | None:
    """How many hours before this report the logs end, when the liveness check found them older than its
    limit (no --now): None for logs that may be live."""
    return next((f.numbers["log_age_at_report_hours"] for f in analysis.active_findings()
                 if f.rule == "liveness" and "log_age_at_report_hours" in f.numbers), None)


def stop_broken_forecasts(analysis) -> None:
    """Take the forecast of every key loss that is NaN/Inf at its latest point out of the analysis (a trend fitted
    to its finite points would forecast a level the run no longer has), with the reason, before anything reads it:
    the Forecast section, the answers and the JSON summary then print one forecast."""
    f = analysis.forecast
    if f is None:
        return
    metrics = set(f.trends) | {g.metric for g in f.goals}
    stalled = stalled_finding(analysis)
    # the losses a divergence or an exploding loss names as an error (its own and those cited under it): a trend
    # fitted through their climb
    # is no forecast, and "too noisy" would not be the reason
    diverging = {one["metric"]: d.step for d in analysis.active_findings()  # dated as the headline dates it
                 if d.rule in ("divergence", "loss-now") and d.severity == "error"
                 for one in (d.to_dict(), *d.related) if one.get("metric")}
    for metric in metrics:
        if metric in diverging and dead(analysis, metric) is None:
            f.stop(metric, "it is diverging" + (f" (from {pos.at(analysis.schedule, diverging[metric])})"
                                               if diverging[metric] is not None else "")
                   + ": a trend through its climb would forecast a level the run cannot reach")
            continue
        found = dead(analysis, metric)
        if found is not None and found[0].case == "not-in-loss":  # the logged copy broke, training did not
            f.stop(metric, f"its logged values are NaN/Inf since {analysis.schedule.counts} {fmt(found[1])} (the "
                           "optimized loss stayed finite), so there is no recent level to carry forward")
        elif found is not None:
            f.stop(metric, f"NaN/Inf since {analysis.schedule.counts} {fmt(found[1])}, so the trend of the "
                           "finite points before does not go on")
        elif analysis.ended:  # the run stopped before its schedule: no later step to forecast
            f.stop(metric, f"{analysis.halted}: it will not reach a later step as it is")
        elif analysis.halted and "NaN/Inf" in analysis.halted:  # another loss broke: the run does not go on
            f.stop(metric, f"{analysis.halted}, so none of its losses goes on along its trend")
        elif stalled is not None:  # a frozen run's fit is a flat line with no spread: no forecast at all
            f.stop(metric, f"nothing has trained since {pos.at(analysis.schedule, stalled.step)} (the learning "
                           "rate is 0): there is no trend to carry forward" if stalled.case == "lr-zero" else
                           f"training has stalled since {pos.at(analysis.schedule, stalled.step)}: a frozen run has "
                           "no trend to carry forward")
