"""A learning rate far out of the range autoencoders train at, judged in absolute terms.

``lr-schedule`` judges the logged rate against the config that set it, so a config that itself sets 1e-8 or 0.5
passes. The published trainers train their autoencoders with Adam-family optimizers at 5e-6 (RadioDiff's
AdamW), about 1.8e-5 (LDM's Adam: 4.5e-6 scaled by the batch) and the bundled trainer's 2e-4 (REFERENCE). The
run's rate is its peak (a schedule's decayed tail, RadioDiff's ~1e-12 at its end, is by design): the logged lr's,
else the config's. Below LOW an Adam step moves a weight by about that much, and nothing learns in any run
length worth having; above HIGH its steps are as large as the weights themselves, and the losses blow up. Said
once, as the likely cause, in the loudest finding of a loss that did not learn or ran away. A loss that ran away
to RUNAWAY times its start or more under a rate above HIGH is a broken run, not a run to watch: that finding is an
error (the status, --fail-on error's exit code, the headline and the conclusion follow it).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..numbers import fmt
from ..schedule import Schedule, set_at
from .base import HARM, Finding, Metrics

# an order of magnitude beyond the usual span on either side: Adam at 1e-2 already moves a weight by a hundredth
# at every step (eval12: a run at 0.03, 30 times the span's top, had its KL blow-up blamed on kl_weight)
LOW, HIGH = 1e-7, 1e-2
USUAL = "1e-6 to 1e-3"  # the span around the published rates (5e-6, 1.8e-5, 2e-4)
# the findings of a loss that did not learn or ran away, which a rate this far off explains
BLAMED = ("non-finite", "loss-now", "divergence", "kl-rising", "rec-trend", "total-trend", "loss-shift")
# the findings of a loss that ran away, and how far (two orders of magnitude: no noise, schedule or phase moves a
# loss that far) makes one under a rate above HIGH a broken run
RAN_AWAY = ("non-finite", "loss-now", "divergence", "kl-rising")
RUNAWAY = 100.0


def run_lr(m: Metrics, s: Schedule) -> tuple[float, str] | None:
    """(the run's peak learning rate, where it was read) or None when neither the logs nor the config give one
    above 0 (an lr of exactly 0 is run-stalled's)."""
    if m.has("lr"):
        lr = m.values("lr")
        lr = lr[np.isfinite(lr)]
        if len(lr) and float(lr.max()) > 0:
            return float(lr.max()), "its peak in the logs" if lr.max() > lr.min() else "as logged"
    if s.lr is not None and math.isfinite(s.lr) and s.lr > 0:
        return float(s.lr), "the config's lr"
    return None


def lr_far_off(m: Metrics, s: Schedule) -> tuple[str, dict] | None:
    """The sentence naming the learning rate as the likely cause, and its numbers; None when it is in range."""
    found = run_lr(m, s)
    if found is None or LOW <= found[0] <= HIGH:
        return None
    lr, where = found
    low = lr < LOW
    edge = 1e-6 if low else 1e-3
    factor = fmt(round(edge / lr)) if low else fmt(round(lr / edge))
    text = (f" The learning rate was {fmt(lr)} ({where}), about {factor} times {'below' if low else 'above'} the "
            f"{USUAL} Adam-family autoencoders train at (RadioDiff 5e-6, LDM about 1.8e-5); "
            + ("steps that small barely move the weights" if low
               else "Adam moves each weight by up to about that much at every step")
            + ": the likely cause.")
    return text, {"lr": lr, "lr_read_from": where, "lr_far": "below" if low else "above", "usual_lr": USUAL}


def blame_lr(findings: list[Finding], m: Metrics, s: Schedule) -> list[Finding]:
    """The loudest finding of a loss that did not learn or ran away, with the learning rate named as the likely
    cause when it is far out of range (once per report), the others of its kind cited under it; under a rate far
    above the range, the finding of a loss that ran away by RUNAWAY or more first, made an error."""
    loud = [f for f in findings if f.rule in BLAMED and not f.skipped and f.severity in ("warning", "error")]
    said = lr_far_off(m, s) if loud else None
    if said is None:
        return findings
    text, numbers = said
    grown = {id(f): g for f in loud if numbers["lr_far"] == "above" and (g := ran_away(f, m)) is not None}
    head = min(loud, key=lambda f: (id(f) not in grown, f.severity != "error", BLAMED.index(f.rule)))
    severity = head.severity
    if id(head) in grown:
        severity = "error"
        numbers = {**numbers, "runaway": grown[id(head)]}
        text += (f" {head.metric} ran away (x{fmt(round(grown[id(head)]))} its start) under a learning rate this far "
                 "out of range: a broken run, an error.")
    # the rate is the cause: its finding is acted on in the lr's tier, before the symptoms it explains, and its
    # action is the rate's (the symptom's own remedy, a loss weight, would treat the effect)
    where = set_at(s, "lr")
    move = "Lower" if numbers["lr_far"] == "above" else "Raise"
    action = (f"{move} the learning rate ({fmt(numbers['lr'])}" + (f" at {where}" if where else "")
              + f") into the {USUAL} Adam-family autoencoders train at, and resume from a checkpoint saved before "
              f"{head.metric} went wrong (or start again); judge {head.metric} again after.")
    # one cause, one headline: every other loss it made fail or run away is cited under this one (cite_consequences)
    numbers["explains"] = {**(head.numbers.get("explains") or {}), **{rule: "any" for rule in BLAMED}}
    named = replace(head, message=head.message.rstrip() + text, numbers={**head.numbers, **numbers},
                    harm=min(head.harm, HARM["lr"]), severity=severity, action=action)
    return [named if f is head else f for f in findings]


def ran_away(f: Finding, m: Metrics) -> float | None:
    """How many times its start (the statistics table's Start) the loss of a runaway finding stands now (its
    Now), when RUNAWAY or more; else None."""
    if f.rule not in RAN_AWAY or not f.metric or not m.has(f.metric):
        return None
    start, now = m.start(f.metric), m.level(f.metric)
    if start is None or now is None or not start.value > 0 or not math.isfinite(now.value):
        return None
    grown = now.value / start.value
    return grown if grown >= RUNAWAY else None
