"""The Q&A's short forms of findings: a finding's key numbers, built from the numbers its rule computed (never its
message pasted or cut), a pointer to it by its title, and which warnings and errors are about a metric, so that
no answer says "yes, fine" of a metric a warning is about."""

from __future__ import annotations

from .. import position as pos
from ..numbers import describe_change, fmt
from ..rules import RULES, Finding
from ..rules.decomposition import share_text
from ..rules.grouping import NOT_A_RISE, loud_metrics

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


def numbers_of(finding: Finding | dict, unit: str) -> str | None:
    """The key numbers of a finding as a clause ("rec_loss rose from 0.054 just before the switch-on to 0.061
    (+12.8%)"), from its rule's numbers; None for a rule without a short form (the answer then points to it)."""
    get = finding.get if isinstance(finding, dict) else lambda key, default=None: getattr(finding, key, default)
    rule, n = get("rule"), get("numbers") or {}
    if rule == "rec-after-disc" and "nonfinite_step" in n and "level_before_nonfinite" in n:
        return (f"rec_loss was {fmt(n['before_level'])} just before the discriminator started and "
                f"{fmt(n['level_before_nonfinite'])} in its phase up to {pos.at(unit, n['nonfinite_step'])}, and "
                f"{fmt(n['recent_level'])} since the NaN/Inf step there")
    if rule == "rec-after-disc" and "before_level" in n and "recent_level" in n:
        moved = describe_change(n["before_level"], n["recent_level"], noise=n.get("change_noise"))
        return f"rec_loss {moved} from just before the discriminator started to now"
    if rule == "kl-rising" and "kl_start" in n and "kl_end" in n:
        said = f"kl_loss {describe_change(n['kl_start'], n['kl_end'])} over the run"
        if "kl_term" in n and n.get("kl_term_share") is not None:  # None: its share cannot be judged
            said += (f", its weighted term (kl_weight {fmt(n.get('kl_weight'))} x kl_loss) {fmt(n['kl_term'])}, "
                     f"{share_text(n['kl_term_share'])} of the loss's size")
        return said
    if rule == "kl-collapse" and "peak_level" in n and "recent_level" in n:
        return f"kl_loss fell from its peak {fmt(n['peak_level'])} to {fmt(n['recent_level'])}"
    if rule == "disc-off-before-start" and "disc_start" in n:
        return (f"{get('metric')} is 0 at all {fmt(n.get('points_before_start'))} points logged before "
                f"{pos.at(unit, n['disc_start'])}: the discriminator is off until then (disc_start), by design")
    now = (n.get("now") or {}).get("disc_loss")
    if rule == "disc-at-chance" and now is not None and "chance_level" in n:
        if "evidence" in n:  # near chance, but because nothing it outputs moves
            return f"disc_loss {fmt(now)} now, chance level {fmt(n['chance_level'])}, its outputs frozen"
        return (f"disc_loss at its equilibrium, {fmt(now)} now (chance level {fmt(n['chance_level'])})"
                + (f", for {pos.count(unit, n['steps_at_chance'])}" if "steps_at_chance" in n else ""))
    if rule in ("disc-at-chance", "disc-overpowering", "generator-winning") and now is not None \
            and "chance_level" in n:
        return f"disc_loss {fmt(now)} now, chance level {fmt(n['chance_level'])}"
    if rule in ("disc-overpowering", "generator-winning") and now is not None:
        return f"disc_loss {fmt(now)} now"
    if rule == "loss-now" and "recent_best" in n and "latest" in n:
        return (f"{get('metric')} at {fmt(n['latest'])} against its recent best {fmt(n['recent_best'])}, since "
                f"{pos.at(unit, n.get('onset_step', get('step')))}")
    if rule == "non-finite" and "first_bad_step" in n:
        return f"{get('metric')} NaN/Inf from {pos.at(unit, n['first_bad_step'])}" + (
            f", diverging from {pos.at(unit, n['divergence_onset'])}" if "divergence_onset" in n else "")
    return None


def short(finding: Finding, unit: str) -> str:
    """A finding in an answer: its key numbers and where to read it ("rec_loss fell from ... (see the ok
    "Reconstruction after the discriminator starts")"); a warning or an error is pointed to first. A rule
    without a short form is pointed to alone."""
    said = numbers_of(finding, unit)
    where = pointer(finding, unit)
    if finding.severity in ("warning", "error"):
        return f"See {where} above" + (f": {said}." if said else ".")
    if said is None:
        return f"See {where}."
    title = finding.title or finding.rule
    return f"{capital(said)} (see \"{title}\")."


def capital(said: str) -> str:
    """``said`` with its first letter capitalised, unless its first word is a name as the logs spell it
    (``rec_loss``: "Rec_loss" is no metric)."""
    first = said.split(" ", 1)[0]
    return said if "_" in first or "/" in first or not said[:1].islower() else said[:1].upper() + said[1:]


def cited_numbers(head: Finding, rule: str, unit: str) -> str | None:
    """The key numbers of the finding of ``rule`` that ``head`` is or cites (a finding cited under another
    rule's headline still has its numbers)."""
    for one in ({"rule": head.rule, "metric": head.metric, "step": head.step, "numbers": head.numbers,
                 "severity": head.severity, "title": head.title}, *head.related):
        if one["rule"] == rule:
            return numbers_of(one, unit)
    return None
