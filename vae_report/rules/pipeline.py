"""A run's findings: every registered rule run over its metrics, skipped where it lacks what it needs, then
grouped by cause and cross-referenced (rules.grouping)."""

from __future__ import annotations

from dataclasses import replace

from ..frame import not_logged, written_as
from ..schedule import Schedule
from . import registry
from .base import RANK, Case, Finding, Metrics, Rule, names_titles
from .current import steady_without
from .decomposition import regularizer_share
from .discriminator import gan_never_ran, phase_start
from .grouping import (
    cite_consequences,
    cite_explained,
    group_by_cause,
    loud_metrics,
    mark_restated,
    point_to_gradient,
    qualify_ok,
)
from .lr_range import blame_lr
from .shifts import shift_ok_without
from .untrained import judged_out, not_judged, reason


def _missing(rule: Rule, metrics: Metrics, schedule: Schedule) -> list[str]:
    lacking = [need for need in rule.needs if not any(metrics.has(n) for n in need.split("|"))]
    lacking += [f"{field} (schedule)" for field in rule.needs_schedule if getattr(schedule, field) is None]
    return lacking


def _logged_apart(lacking: list[str], metrics: Metrics) -> str:
    """Where a needed metric is logged under names it was not read as (two series that differ): those names."""
    apart = [n for need in lacking for n in need.split("|") if written_as(n.strip(), metrics.names())]
    return f" ({not_logged(apart, metrics.names())})" if apart else ""


def run_rules(metrics: Metrics, schedule: Schedule, thresholds: dict[str, dict[str, float]] | None = None,
              rules: list[Rule] | None = None) -> list[Finding]:
    """Run every registered rule; ``thresholds`` overrides a rule's thresholds by rule id."""
    findings: list[Finding] = []
    metrics.phase_start = phase_start(metrics, schedule)
    # the registry read at the call (registry.RULES, not a copy bound at import): a rule registered later runs
    listed = rules or registry.RULES
    titles = {rule.id: rule.title for rule in registry.RULES}
    none_ran = gan_never_ran(metrics, schedule)
    for rule in listed:
        if rule.regularizer == "kl" and schedule.regularizer == "vq":
            findings.append(_skipped(rule, "Not applicable: a VQ model has no KL term (its regularizer is the codebook "
                                     "loss, quant_loss).", {"not_applicable": True}))
            continue
        lacking = _missing(rule, metrics, schedule)
        if lacking:
            findings.append(_skipped(rule, f"Skipped: needs {', '.join(lacking)}, which this run does not provide"
                                     f"{_logged_apart(lacking, metrics)}.", {"missing": lacking}))
            continue
        if rule.judges == "adversarial" and none_ran:
            findings.append(_skipped(rule, f"Not applicable: {none_ran}, so no GAN ran to be judged.",
                                     {"not_applicable": "no adversarial phase ran"}))
            continue
        limits = {**rule.thresholds, **((thresholds or {}).get(rule.id, {}))}
        try:
            found = [rule.finding(case, schedule.counts) for case in rule.check(metrics, schedule, limits)]
            findings.extend(_judged(rule, found, metrics, schedule))
        except KeyError as exc:  # a rule that reached for a metric its "needs" did not guarantee: skip, never crash
            findings.append(_skipped(rule, f"Skipped: needs {exc.args[0]}, which this run does not provide.",
                                     {"missing": [str(exc.args[0])]}))
    findings = blame_lr(findings, metrics, schedule)  # a learning rate far out of range, named where it did harm
    # another rule's finding is named as the report shows it: the title of the case that fired, else its rule's
    titles.update({f.rule: f.title for f in findings if not f.skipped and f.severity in ("warning", "error")})
    findings = [_titled(f, titles) for f in findings]
    by_id = {rule.id: rule for rule in listed}
    carrier = regularizer_share(metrics, schedule) if any(f.metric in ("kl_loss", "quant_loss") for f in findings
                                                         if f.severity in ("warning", "error")) else None
    grouped = group_by_cause(findings, metrics.last_step(), by_id, metrics.phase_start, carrier)
    grouped = qualify_ok(cite_consequences(cite_explained(grouped, by_id), metrics.last_step()), by_id)
    grouped = mark_restated(point_to_gradient(grouped, metrics.last_step(), schedule))
    # "no loss is rising" never lists a loss a warning or an error is about or names as risen: it points to it
    named = loud_metrics(grouped, by_id)
    return [g for g in (steady_without(f, named, schedule) if f.rule == "loss-now" else
                        shift_ok_without(f, named) if f.rule == "loss-shift" else f for f in grouped)
            if g is not None]


# what a check judges, said where it is not judged
_JUDGES = {"latest": "the stretch this check judges (the losses' latest level in the current phase)",
           "adversarial": "most of the adversarial phase, which this check judges"}


def _judged(rule: Rule, found: list[Finding], metrics: Metrics, schedule: Schedule) -> list[Finding]:
    """A check of a trend, a level or the GAN's balance over a stretch that trained nothing (rules.untrained)
    gives no all-clear: its ok and info findings become one skipped finding that says why; a warning or an error
    it raised stands (the logs show it, whatever trained)."""
    if not rule.judges or not found:
        return found
    if rule.judges == "adversarial":
        lo = schedule.switch_step
        if lo is None or metrics.last_step() < lo:
            return found  # no adversarial phase yet: the check says so itself
    else:
        lo = metrics.phase_start
    stretch = judged_out(metrics, schedule, lo)
    if stretch is None:
        return found
    loud = [f for f in found if f.severity in ("warning", "error") or f.skipped]
    if len(loud) == len(found):
        return found
    mild = next(f for f in found if f not in loud)
    message = not_judged(stretch, schedule, _JUDGES[rule.judges])
    numbers = {"not_judged": reason(stretch, schedule),
               "untrained_from": stretch.start}
    return [*loud, replace(mild, severity="info", skipped=True, message=message, numbers=numbers,
                           step=stretch.start, action="", look="", case="not-judged")]


def _titled(finding: Finding, titles: dict[str, str]) -> Finding:
    """The finding with the other rules its message names (rules.base.see) named by their titles."""
    named, action = names_titles(finding.message, titles), names_titles(finding.action, titles)
    return finding if (named, action) == (finding.message, finding.action) else \
        replace(finding, message=named, action=action)


def _skipped(rule: Rule, message: str, numbers: dict) -> Finding:
    return replace(rule.finding(Case(message, numbers=numbers, severity="info")), skipped=True)



def worst(findings: list[Finding]) -> str:
    """ok, warning or error: the overall status (info counts as ok)."""
    top = max((RANK[f.severity] for f in findings if not f.skipped), default=0)
    return {0: "ok", 1: "ok", 2: "warning", 3: "error"}[top]
