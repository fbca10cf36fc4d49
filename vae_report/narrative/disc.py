"""The Q&A about the discriminator: why its loss is zero, whether it is where the schedule puts it, whether its
level is fine, whether it is pulling ahead, whether reconstruction got worse once it started."""

from __future__ import annotations

import math

from ..numbers import fmt
from ..results import QA
from ..rules import Finding
from .answers import cited_numbers, loud_about, pointer, uncapital
from .state import (
    DISC_RULES,
    DISC_SCHEDULE_RULES,
    LIMITS,
    WEIGHT_RULES,
    cite,
    dead,
    dead_sentence,
    doubted,
    finding_of,
    messages,
    stalled_finding,
    topic,
    union,
    verdict,
)

DISC_ZERO_Q = "Why is the discriminator loss zero? Should I be worried?"



DISC_LEVEL_Q = "Is the discriminator loss where the schedule puts it?"



def disc_zero(analysis) -> bool:
    """The premise of "why is the discriminator loss zero?": its current level (or its latest point) is 0."""
    st = analysis.metrics["disc_loss"]  # its level: a won hinge discriminator's latest point may be 0 at 0.017
    return st.now == 0 or (not math.isfinite(st.now) and st.latest == 0)



def disc_scheduled_answer(analysis) -> QA:
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
        return QA(DISC_LEVEL_Q, f"{word}: disc_loss is {now} now. {messages(bad, analysis.schedule.counts)}",
                  bad[0].rule)
    # all as scheduled: said briefly (the findings list and the switch-on answer hold the detail)
    unit, said = analysis.schedule.counts, []
    off, on = finding_of(analysis, "disc-off-before-start"), finding_of(analysis, "disc-inactive-after-start")
    if off is not None and off.numbers.get("disc_loss_before_start", 0.0) == 0.0:
        said.append(f"it was 0 while the discriminator was off (before {unit} {fmt(analysis.schedule.disc_start)})")
    elif off is not None:
        said.append(f"it was {fmt(off.numbers['disc_loss_before_start'])} while disc_factor was 0 (before {unit} "
                    f"{fmt(analysis.schedule.disc_start)}: not the weighted loss the LDM trainer logs)")
    if on is not None and on.step is not None:
        said.append(f"it is {now} now that it is on (from {unit} {fmt(on.step)}, as scheduled)")
    else:
        said.append(f"it is {now} now")
    rest = messages([f for f in found if f.rule not in ("disc-off-before-start", "disc-inactive-after-start")],
                     unit)
    unjudged = _gan_not_judged(analysis)
    if unjudged is not None:  # on schedule, but nothing trained there (or what it judges is NaN): no "Yes"
        why, where = unjudged
        return QA(DISC_LEVEL_Q, f"Not judged: {' and '.join(said)}, but {why}, so this level says nothing about "
                  f"whether the discriminator learns. See {pointer(where, unit)} above.", where.rule)
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
    stalled = stalled_finding(analysis)
    skipped = [f for f in analysis.findings if f.skipped and f.rule in DISC_RULES and f.numbers.get("not_judged")]
    if stalled is not None and skipped:
        return skipped[0].numbers["not_judged"], stalled
    for metric in ("rec_loss", "nll_loss", "total_loss"):
        found = dead(analysis, metric)
        if found is not None:
            return (f"the reconstructions it is shown are NaN/Inf ({metric} since {analysis.schedule.counts} "
                    f"{fmt(found[1])})",
                    found[0])
    return None



def adversarial_questions(analysis) -> list:
    """What users ask once the GAN is on, answered from the rules that watch it."""
    if analysis.phase != "adversarial":
        return []
    out = []
    balance = union(topic(analysis, DISC_RULES), topic(analysis, ("loss-constant",), ("disc_loss",)))
    won = disc_won(balance)
    winning = [won[0]] if won is not None else []
    ahead = won is not None and won[1].get("case") == "pulling-ahead"  # not won yet: its loss is not going to 0
    if winning and not ahead and disc_zero(analysis):
        pass  # "why is the discriminator loss zero?" above cites the finding: not asked twice
    elif ahead:
        out.append(QA("Is the discriminator pulling ahead?",
                      "Yes: " + uncapital(messages(winning[:1], analysis.schedule.counts)), winning[0].rule))
    elif won is not None:
        out.append(QA("Why is the discriminator loss going to 0?", _why_disc_wins(analysis, *won), won[0].rule))
    elif [f for f in balance if f.rule not in WEIGHT_RULES] and dead_sentence(analysis, "disc_loss") is None:
        unjudged = _gan_not_judged(analysis)
        if unjudged is None:
            out.append(_near_chance_answer(balance, analysis))
        else:  # what it judges is NaN (or nothing trained there): its level is no "Yes", as the schedule answer says
            why, where = unjudged
            unit = analysis.schedule.counts
            out.append(QA(disc_level_question(analysis),
                          f"Not judged: disc_loss is {fmt(analysis.metrics['disc_loss'].now)} now, but {why}, so its "
                          f"level says nothing about whether the discriminator learns. See {pointer(where, unit)} "
                          "above.", where.rule))
    rec = union(topic(analysis, ("rec-after-disc",)), [f for f in topic(analysis, ("loss-now",), ("rec_loss",))
                                                        if (f.step or 0) >= (analysis.schedule.disc_start or 0)])
    if rec:
        bad = [f for f in rec if f.severity in ("warning", "error")]
        slightly = any(f.case == "slightly-worse" for f in rec)
        # a rise that came across a NaN/Inf step long after the switch-on is that step's, not the GAN's
        across = [f for f in rec if f.case == "across-nonfinite"]
        # "No" while a warning doubts it is hedged ("Not by this measure", also by questions._qualified), never
        # turned into a "Yes"
        # a rise told as the usual price of the adversarial term is still a rise: "Yes", never a hedged "No"
        priced = any(f.case == "usual-price" for f in rec)
        fell_in_doubt = not bad and not slightly and not priced and any(doubted(f) for f in rec)
        late = "" if across else _began_late(analysis, bad)  # a NaN step's rise is said by its own words
        # a rise long after the switch-on is another cause's only where a finding names one (an lr jump before
        # it); else it is still a rise of the adversarial phase (a discriminator that won late is the GAN's)
        elsewhere = across or (late and any(f.numbers.get("lr_jump") for f in bad))
        # a rise that began before the switch-on and held after it is not the GAN's: "No", with its numbers
        earlier = bool(bad) and not [f for f in bad if not _before_switch_only(f)]
        word = ("Not with the discriminator" if elsewhere else "Not by this measure" if fell_in_doubt
                else "No" if earlier else "Yes, but not at the switch-on" if late and bad
                else "Yes" if bad or priced else "Only a little" if slightly else "No")
        # a win that is over, during which reconstruction paid: "No" now, but not over the whole phase
        paid = _paid_in_past_win(analysis, LIMITS["rec-after-disc"]["worse"])
        if paid and word == "No":
            word = "Not now"
        unit = analysis.schedule.counts
        shown = across + bad or rec
        # the change itself first, from the reconstruction finding's numbers (also one cited under the cause);
        # a warning is then pointed to by its title, with no numbers of its own that answer another question
        change = next((c for f in rec if (c := cited_numbers(f, "rec-after-disc", unit))), None)
        loud = change is not None and all(f.severity in ("warning", "error") for f in shown)
        said = " ".join(cite(f, unit) for f in shown) if loud else messages(shown, unit)
        head = f"{word}: {change}." if (loud or earlier) and not late else f"{word}{late}." if late else f"{word}."
        out.append(QA("Did reconstruction get worse once the GAN started?", f"{head} {said}{paid}", rec[0].rule))
    return out


def _before_switch_only(f: Finding) -> bool:
    """A reconstruction that got worse before the discriminator started and held after it: no harm of the
    adversarial phase's (rec-after-disc's "before-switch" case, with no further rise after the switch-on)."""
    return f.case == "before-switch" and not f.numbers.get("rose_after_switch")


def _began_late(analysis, bad: list[Finding]) -> str:
    """": it held after the switch-on (step 10,001) and rose from step 13,180, 3,179 steps later" when every
    warning's rise began more than a tenth of the run after the switch-on (dated, whoever's doing it is); ""
    otherwise."""
    switch = analysis.schedule.switch_step or analysis.schedule.disc_start
    onsets = [_onset(f) for f in bad]
    if not bad or switch is None or any(o is None for o in onsets):
        return ""
    first = min(onsets)
    if first - switch <= 0.1 * max(analysis.step, 1):
        return ""
    unit = analysis.schedule.counts
    return (f": it held after the switch-on ({unit} {fmt(switch)}) and rose from {unit} {fmt(first)}, "
            f"{fmt(first - switch)} {unit}s later")


def _onset(f: Finding) -> int | None:
    """Where a reconstruction finding's rise began: its divergence's onset, its rise's, or its step; of a headline
    that cites one (a GAN finding citing the rise it caused), the cited rise's own, never the headline's step."""
    onsets = [n.get("divergence_onset", n.get("onset_step", one["step"])) for one in f.told()
              if one["rule"] == "rec-after-disc" or (one["rule"] == "loss-now" and one["metric"] == "rec_loss")
              for n in [one.get("numbers") or {}]]
    onsets = [o for o in onsets if o is not None]
    return min(onsets) if onsets else f.numbers.get("divergence_onset", f.numbers.get("onset_step", f.step))


def _paid_in_past_win(analysis, worse: float) -> str:
    """" But it did while the discriminator had won: ..." when a win that is over (disc-overpowering's past-win)
    saw rec_loss rise by ``worse`` or more across it; "" otherwise."""
    unit = analysis.schedule.counts
    for f in analysis.findings:
        n = f.numbers
        if f.case == "past-win" and n.get("rec_win_peak", 0) > (1 + worse) * n.get("rec_before_win", math.inf):
            return (f" But it did while the discriminator had won, from {unit} {fmt(n['case_start'])} to "
                    f"{fmt(n['case_end'])}: rec_loss went from {fmt(n['rec_before_win'])} {n['rec_before_said']} to "
                    f"{fmt(n['rec_win_peak'])} at its highest across it, then came back (see {pointer(f, unit)} "
                    "above).")
    return ""


# disc-overpowering's cases that say the discriminator is not winning now: a win that is over, a lead, a contest
NOT_WINNING = ("past-win", "leads", "contest")


def disc_won(findings: list[Finding]) -> tuple[Finding, dict] | None:
    """The discriminator winning (disc-overpowering), as a headline or cited under its cause (d_weight 0): the
    finding that heads it and the disc-overpowering one in the form of a cited finding; None when none says so
    (a win that is over is no discriminator winning now)."""
    return next(((f, one) for f in findings for one in f.told()
                 if one["rule"] == "disc-overpowering" and one.get("case") not in NOT_WINNING), None)


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
    # a rise from before the switch-on is no harm of a discriminator at chance, nor one long after the switch-on
    # that a finding puts down to another cause (an lr jump before it), as the reconstruction answer says; any
    # other rise of the adversarial phase is, however late
    # nor a rise that began long after the switch-on with the discriminator at its equilibrium since before it:
    # tens of thousands of steps of a balanced game, then a blow-up, is no sign of the discriminator's
    level = next((f for f in about_d if f.rule == "disc-at-chance" and f.severity in ("ok", "info")), None)
    rises = [f for f in topic(analysis, ("rec-after-disc",)) if f.severity in ("warning", "error")
             and not _before_switch_only(f)]
    balanced = [f for f in rises if _began_late(analysis, [f]) and level is not None
                and level.step <= _onset(f) and not f.numbers.get("lr_jump")]
    harm = [f for f in rises if f not in balanced and not (_began_late(analysis, [f]) and f.numbers.get("lr_jump"))]
    word = ("Not as it stands" if bad or harm or any(doubted(f) for f in about_d)
            else "Yes, for now: a lead to watch" if any(f.case == "leads" for f in about_d) else "Yes")
    shown = bad or [f for f in about_d if f.rule == "disc-at-chance"] or about_d[:1]
    apart = [f for f in balance if f.rule in WEIGHT_RULES and f.severity in ("warning", "error")]
    unit = analysis.schedule.counts
    # each names its value first (d_weight, the adversarial term): "separately" is all it needs
    aside = "".join(f" Separately, {uncapital(messages([f], unit))}" for f in apart)
    harmed = "".join(f" But reconstruction got worse after the switch-on, where its harm would show: "
                     f"{cited_numbers(f, 'rec-after-disc', unit) or f.metric} (see {pointer(f, unit)} above)."
                     for f in harm[:1])
    switch = analysis.schedule.switch_step or analysis.schedule.disc_start
    harmed += "".join(f" rec_loss rose from {unit} {fmt(_onset(f))}, {fmt(_onset(f) - switch)} {unit}s after the "
                      "switch-on, with the discriminator at this level since before it: not its likely doing (see "
                      f"{pointer(f, unit)} above)." for f in balanced[:1] if not harm)
    # a win that is over is the level's history: said where the level is judged, by its dates
    past = "".join(f" It won for a while before that, from {unit} {fmt(f.numbers['case_start'])} to "
                   f"{fmt(f.numbers['case_end'])}, and came back (see {pointer(f, unit)} above)."
                   for f in about_d if f.case == "past-win" and f not in shown)
    return QA(disc_level_question(analysis), f"{word}. {messages(shown, unit)}{past}{aside}{harmed}", shown[0].rule)



def disc_answer(analysis) -> str:
    off = finding_of(analysis, "disc-off-before-start")
    dead = finding_of(analysis, "disc-inactive-after-start")
    early = finding_of(analysis, "disc-active-before-start")
    latest = analysis.metrics["disc_loss"].latest
    # asked only when disc_loss is 0 now (disc_zero)
    if dead is not None and dead.severity == "error":
        return "Yes. " + messages([dead], analysis.schedule.counts)
    if dead is not None and dead.case == "disabled":  # the config multiplies it by 0: nothing failed
        return ("No, if no GAN phase was meant: it is 0 because the config's disc_factor 0 multiplies it by 0 at "
                "every step, so no adversarial phase runs. " + messages([dead], analysis.schedule.counts))
    past = finding_of(analysis, "disc-start-past-end")
    if past is not None and analysis.phase == "before discriminator":
        return (f"No, if no GAN phase was meant: it is 0 because the discriminator is off until disc_start "
                f"{fmt(analysis.schedule.disc_start)}, which lies past the end of training, so it stays off in this "
                "run. " + messages([past], analysis.schedule.counts))
    if early is not None:
        return ("It is not zero everywhere: " if latest != 0 else "") + messages([early], analysis.schedule.counts)
    if off is not None and analysis.phase == "before discriminator":
        return "No need to worry. " + messages([off], analysis.schedule.counts)
    if dead is not None:  # on as scheduled, and at 0 now: it has won, or the hinge's margin is cleared
        won = disc_won(analysis.active_findings())  # a headline, or cited under its cause
        on = (f"It has been on since {analysis.schedule.counts} {fmt(dead.step)}, as scheduled, and is at 0 now"
              if dead.step is not None else "It is on, as scheduled, and at 0 now")
        if won is not None:  # "should I be worried" is answered first, then why it won, in one sentence each
            since = f" since {analysis.schedule.counts} {fmt(dead.step)}" if dead.step is not None else ""
            return (f"{verdict([won[0]]).rstrip('.')}: on{since} as scheduled, it has won and is at 0 now. "
                    f"{_why_disc_wins(analysis, *won)}")
        if analysis.schedule.disc_loss == "vanilla":
            why = ("A vanilla (softplus) discriminator loss at 0 means its logits separate every real input from "
                   "every reconstruction by a wide margin.")
        else:
            why = ("A hinge discriminator loss of exactly 0 means it separates every real input from every "
                   "reconstruction by the hinge's margin.")
        return f"Look at it. {on}. {why}"
    return "Cannot say: disc_loss is 0 now, and without disc_start the report cannot say whether 0 is expected."
