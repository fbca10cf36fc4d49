"""The report's recommendations (what to do, worst first, and when to look again) and its confidence."""

from __future__ import annotations

import math

from ..checkpoints import latest_checkpoint
from ..numbers import fmt
from ..rules import Finding
from ..rules.dynamics import duration
from .state import (
    CAN_WAIT,
    by_harm,
    eta_words,
    finding_of,
    halted_reason,
    log_age,
    not_examined,
    steps_per_hour,
    topic,
    where_at,
)


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
    # the worst harm first (a stopped run before a KL drift), as the "act on first" answer picks it
    for finding in by_harm([f for f in analysis.active_findings() if f.severity in ("error", "warning")]):
        lead = ("Fix first" if not out else "Fix") if finding.severity == "error" else "Look into"
        todo = advice(finding, samples)
        out.append(f"{lead}: {(finding.title or finding.rule)}{where_at(finding, unit)}"
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
        age = log_age(analysis)
        if analysis.ended:  # the user (or the fit that raised) says it stopped: nothing to continue
            head = (f"Nothing to fix in what the logs show (no warning or error up to {unit} "
                    f"{fmt(analysis.step)}), but {analysis.halted}: fix what ended it, then resume from "
                    f"{latest_checkpoint(analysis.schedule, analysis.step)}.")
        elif age is not None:  # the logs end long before this report: they cannot say the run still goes
            head = (f"No intervention needed in what the logs show; they end {duration(age)} before this report, "
                    "so they cannot say whether the run still goes: check the process (or judge it with --now now "
                    "where it runs).")
        # one sentence per thing not examined: each carries its own reason, and nested in one they read as a knot
        out.append(head + "".join(f" Not examined: {m}." for m in missed))
    # a switch-on that never comes (disc_factor 0, disc_start past the end) is nothing to re-run the report for
    switch = analysis.schedule.switch_step if analysis.schedule.adversarial_off is None else None
    halted = halted_reason(analysis)
    check = ("re-run this report after it to check that the discriminator switched on and that reconstruction holds"
             if switch is not None and analysis.step < switch and not halted else None)
    # the milestone is still named (the status line names it): what is said is that waiting for it is no plan
    ahead = f"the next milestone ({unit} {fmt(milestone.step)}, {milestone.name})" if milestone else "a milestone"
    if analysis.ended:  # said above where nothing else was to fix, or by its own finding; else joins the fixes
        said = any(f.rule == "run-ended" for f in analysis.active_findings())
        if not said and (len(out) > 1 or not out[0].startswith("Nothing to fix")):
            out.append(f"Then, {halted}: fix what ended it too, then resume from "
                       f"{latest_checkpoint(analysis.schedule, analysis.step)}.")
        milestone = None
    elif halted is not None:  # stopped, stalled or NaN: waiting for the next milestone would change nothing
        out.append(f"Waiting for {ahead} would change nothing: {halted}; act on the findings above first.")
        milestone = None
    elif _first_error(analysis) is not None:  # an error is fixed first: the run as it is is not worth waiting on
        first = _first_error(analysis)
        out.append(f"Do not wait for {ahead}: fix \"{first.title or first.rule}\" first; after the fix, re-run "
                   f"this report {_after_fix(analysis)}.")
        milestone, check = None, None
    elif milestone is not None and _pressing(analysis):
        soon = _sooner(analysis, milestone.step)
        if soon is not None:
            first, (step, why) = _pressing(analysis)[0], soon
            out.append(f"Next check: {unit} {fmt(step)} ({why}), {fmt(step - analysis.step)} {unit}s past the last "
                       f"logged one, well before {unit} {fmt(milestone.step)} ({milestone.name}): re-run this report "
                       f"there to see whether \"{first.title or first.rule}\" still stands."
                       + eta_words(analysis, step - analysis.step))
            milestone = None  # the switch-on's own re-run, if it is ahead, follows below
    if milestone is not None:
        at_switch = check is not None and milestone.step == switch  # one sentence for one re-run
        out.append(f"Next check: {unit} {fmt(milestone.step)} ({milestone.name}), {fmt(analysis.steps_to_next)} "
                   f"{unit}s past the last logged one" + (f": {check}." if at_switch else ".")
                   + eta_words(analysis, analysis.steps_to_next))
        check = None if at_switch else check
    if check is not None:
        out.append(f"After {unit} {fmt(switch)}, {check.replace(' after it', '')}.")
    return out




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
        reasons_low.append("no training config was found: phases and milestones are not checked against it"
                           if not s.total_steps else
                           "no training config was found: the phases and the loss's settings are not checked "
                           f"against one (the total, {fmt(s.total_steps)}, is from {s.origins.get('total_steps')})")
    if s.disc_start_inferred:
        reasons_medium.append(f"disc_start was inferred from the data: {s.disc_start_inferred}")
    if s.total_steps is None:
        reasons_medium.append("the total number of steps is unknown, so progress is too")
    if s.unit_note and s.layout != "none":  # the schedule's checks could not run: the verdict leaves them out
        reasons_medium.append(f"the phases and milestones are not checked, since {s.unit_note}")
    live = finding_of(analysis, "liveness")
    going = not analysis.finished and not analysis.halted  # a speed or an ETA bears only on a run still going
    if going and live is not None and live.numbers.get("implausible_clock"):
        reasons_medium.append("the logs' wall times are no training clock, so there is no training speed or ETA")
    elif going and steps_per_hour(analysis) is None:
        reasons_medium.append("the logs carry no wall times, so there is no training speed or ETA"
                              if analysis.last_wall_time is None else
                              "the logs have too few timed points for a training speed or an ETA")
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
    for source in analysis.sources:  # a file read only in part: the report judges what was read
        said = (f"{source.path} was read only in part: a corrupt record header left {source.unread:.0%} of it "
                "unread (see Sources)" if source.points else
                f"{source.path} could not be read at all: no record of it decodes (see Sources)")
        if source.unread > 0.5:
            reasons_low.append(said)
        elif source.unread > 0.1:
            reasons_medium.append(said)
    if reasons_low:
        return "low", reasons_low + reasons_medium
    if reasons_medium:
        return "medium", reasons_medium
    return "high", []
