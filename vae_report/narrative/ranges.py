"""The Q&A's "Are the loss values in the right ranges?": the values the loss's formula and the config put in a
range, each with its number and that range, and the findings on values' sizes."""

from __future__ import annotations

import math

from .. import position as pos
from ..numbers import fmt, pct
from ..rules import Finding
from ..rules.current import FEW_POINTS
from .answers import capital, loud_about, pointer, short, short_form
from .state import LIMITS, RANGE_RULES, dead_sentence


def ranges_answer(analysis, ranges: list[Finding]) -> str:
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
    facts, young = _range_facts(analysis)
    # the values out of range, with their own numbers: the answer to a "No" (those in range are not listed)
    out_of_range = [c for c in dict.fromkeys(short_form(one, unit) for one in first.values()) if c]
    said = "; ".join(out_of_range or facts)
    if cases:
        out = []
        for (severity, title, step, under), metrics in cases.items():
            where = ", ".join(m for m in dict.fromkeys(metrics) if m)
            if step is not None:
                where += (" at " if where else "") + pos.at(unit, step)
            out.append(f"the {severity} \"{title}\"" + (f" ({where})" if where else "") + under)
        # a sentence by construction: the verdict's clause, then the values as its list
        head = ("No, " + ("a value is" if len(out_of_range) == 1 else "values are") + " out of range: " + said
                + ". See " if out_of_range else "No, see ")
        return f"{head}{'; '.join(out)} above."
    if not facts:
        return ("Yes, no value is out of range. " + capital(" ".join(short(f, unit) for f in ranges[:1]))).strip()
    loud = loud_about(analysis)
    named = [m for m in RANGE_METRICS if m in loud and m in analysis.metrics]
    if named:  # the sizes fit, yet a warning is about a value named here: said, and pointed to
        heads = list(dict.fromkeys(id(loud[m]) for m in named))
        pointers = "; ".join(pointer(next(loud[m] for m in named if id(loud[m]) == h), unit) for h in heads)
        kinds = {next(loud[m] for m in named if id(loud[m]) == h).severity for h in heads}
        names = (f"{'an error' if 'error' in kinds else 'a warning'} names" if len(heads) == 1 else
                 f"{' and '.join(k + 's' for k in sorted(kinds))} name")  # "errors and warnings name"
        return f"Partly, the sizes fit: {said}. But {names} {', '.join(named)}: see {pointers} above."
    if young:  # the adversarial phase's values are told, not judged: too few points since the switch-on
        return f"Partly, the sizes fit: {said}; {young}."
    return f"Yes, the sizes fit: {said}."


# the values the ranges answer names: a warning on one of them leaves it no plain "Yes"
RANGE_METRICS = ("total_loss", "nll_loss", "rec_loss", "kl_loss", "g_loss", "disc_loss", "d_weight")






def _against(share: float, rule: str) -> str:
    """Where a share stands against the threshold of the check that judges it: a threshold is the check's, not a
    fact of the model ("above the check's 10% threshold")."""
    limit = LIMITS[rule]["share"]
    side = "above" if share > limit else "below"
    return f"{side} the check's {pct(limit, 0)} threshold"


def _range_facts(analysis) -> list[str]:
    """The values the loss's formula and the config put in a range, each with its number and that range (the
    shares the checks judge, the discriminator's loss against its chance level and 0, d_weight against its
    clamp), or, where none has one, the total and where its terms are said. Nothing of a total that is NaN/Inf
    now (its last finite window is not its current level). Second: the adversarial phase's values told but not
    judged, in a clause, while that phase has too few points to judge (loss-now's "not judged yet"); else ""."""
    s, ranges, out, gan = analysis.schedule, [], [], []
    now = next((f for f in analysis.findings if f.rule == "loss-now"), None)
    young = bool(now is not None and now.numbers.get("not_judged_yet") and not analysis.halted)
    d = analysis.decomposition
    if d is not None and dead_sentence(analysis, "total_loss") is None:
        adds = any(f.rule == "loss-bookkeeping" and f.severity == "ok" for f in analysis.active_findings())
        # its terms are said in full once, in the total_loss section: here where to read them
        out.append(f"total_loss {fmt(d.sum)} (the mean of its current window"
                   + (", adding up from its logged terms" if adds else "")
                   + "; its terms: \"What it is made of\" under total_loss)")
        kl, adv = d.term("regularizer"), d.term("adversarial")
        # a share the noise leaves unjudged was said so in the breakdown: no range to hold it against
        if kl is not None and "kl" in kl.name and s.regularizer != "vq" and kl.judged:
            ranges.append(f"KL term {kl.share_said()} of the loss, {_against(kl.share, 'kl-dominant')}")
        if adv is not None and analysis.phase == "adversarial" and adv.judged:
            gan.append(f"adversarial term {adv.share_said()}"
                       + ("" if young else f", {_against(adv.share, 'gan-term-dominant')}"))
    disc = analysis.metrics.get("disc_loss")
    # a discriminator that never switched on has no level to size (its 0 is the fault the findings name)
    if disc is not None and analysis.phase == "adversarial" and math.isfinite(disc.now) and not analysis.disc_never_on:
        won = ("toward 0 as the discriminator wins, never 0 for the softplus loss" if s.disc_loss == "vanilla"
               else "0 once the discriminator has won")
        gan.append(f"disc_loss {fmt(disc.now)} (chance level {fmt(s.disc_chance_level)}; {won})")
    weight = analysis.metrics.get("d_weight")
    if weight is not None and s.disc_weight and analysis.phase == "adversarial" and math.isfinite(weight.now):
        if weight.now == 0:  # at 0 the clamp says nothing: the adversarial term has no weight
            gan.append(f"d_weight {fmt(weight.now)} (the adversarial term weighted by 0)")
        else:
            gan.append(f"d_weight {fmt(weight.now)} (its clamp {fmt(1e4 * s.disc_weight)}, 1e4 x disc_weight "
                       f"{fmt(s.disc_weight)})")
    if gan and young:
        return (["; ".join(ranges)] if ranges else out), (
            f"not judged yet, with fewer than {FEW_POINTS} points since the discriminator switched on: "
            + "; ".join(gan))
    ranges += gan
    if ranges:  # the values a range holds answer the question; the total's own size is no range
        return ["; ".join(ranges)], ""
    return out, ""
