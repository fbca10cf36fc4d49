"""The Q&A's short forms of findings: a finding's key numbers, built from the numbers its rule computed (never its
message pasted or cut), a pointer to it by its title, and which warnings and errors are about a metric, so that
no answer says "yes, fine" of a metric a warning is about."""

from __future__ import annotations

from typing import Any

from .. import position as pos
from ..rules import RULES, Finding, registered
from ..rules.grouping import NOT_A_RISE, loud_metrics
from ..rules.said import Said

_BY_ID = {rule.id: rule for rule in RULES}


def loud_about(analysis) -> dict[str, Finding]:
    """Each metric a lasting warning or error is about (headline or cited) or names as risen, with its headline:
    the one place the findings (loss-now's all-clear) and the answers read it from."""
    # a loss that never moved leaves every comparison of its levels (the questions' matter) open
    return loud_metrics(analysis.active_findings(), _BY_ID, NOT_A_RISE)


def pointer(finding: Finding | dict, unit: str) -> str:
    """"the warning "Title" (metric, step N)": how an answer names a finding the findings table shows."""
    get = finding.get if isinstance(finding, dict) else lambda key, default=None: getattr(finding, key, default)
    title = get("title") or get("rule")
    where = [m for m in (get("metric"),) if m]
    if get("step") is not None:
        where.append(pos.at(unit, get("step")))
    return f"the {get('severity')} \"{title}\"" + (f" ({', '.join(where)})" if where else "")


def short_form(finding: Any, unit: str) -> str | None:
    """The key numbers of a finding (a Finding or a cited one's dict) as a clause ("rec_loss rose from 0.054 just
    before the switch-on to 0.061 (+12.8%)"): its registered rule's ``short``, which builds it from the numbers the
    rule computed, never from its message; None where its numbers lack what that clause needs."""
    rule_id = finding.get("rule") if isinstance(finding, dict) else finding.rule
    rule = registered(rule_id)
    return None if rule is None or rule.short is None else rule.short(Said(finding, unit))


def short(finding: Finding, unit: str) -> str:
    """A finding in an answer: its key numbers and where to read it ("rec_loss fell from ... (see the ok
    "Reconstruction after the discriminator starts")"), the numbers first; a case whose numbers lack its
    clause is pointed to alone."""
    said = short_form(finding, unit)
    where = pointer(finding, unit)
    if said is None:
        return f"See {where}" + (" above." if finding.severity in ("warning", "error") else ".")
    if finding.severity in ("warning", "error"):  # the numbers first: they answer; the pointer holds the detail
        return f"{capital(said)}: see {where} above."
    title = finding.title or finding.rule
    return f"{capital(said)} (see \"{title}\")."


def capital(said: str) -> str:
    """``said`` with its first letter capitalised, unless its first word is a name as the logs spell it
    (``rec_loss``: "Rec_loss" is no metric)."""
    first = said.split(" ", 1)[0]
    return said if "_" in first or "/" in first or not said[:1].islower() else said[:1].upper() + said[1:]


def uncapital(said: str) -> str:
    """``said`` to go after a colon: its first letter lower-cased, unless its first word is a name (``rec_loss``)
    or an acronym (``KL``, ``NaN``)."""
    first = said.split(" ", 1)[0]
    name = "_" in first or "/" in first or (len(first) > 1 and not first[1:2].islower())
    return said if name else said[:1].lower() + said[1:]


def cited_numbers(head: Finding, rule: str, unit: str) -> str | None:
    """The key numbers of the finding of ``rule`` that ``head`` is or cites (a finding cited under another
    rule's headline still has its numbers)."""
    for one in head.told():
        if one["rule"] == rule:
            return short_form(one, unit)
    return None
