"""GAN health once the discriminator is on: who is winning (all the balance's signals together); what it costs
reconstruction: rules.rec_after_disc."""

from __future__ import annotations

import math

import numpy as np

from .. import position as pos
from ..levels import difference_noise, movement
from ..numbers import describe_change, fmt
from ..schedule import Schedule
from ..stats import robust_noise, window_medians
from .base import Case, Metrics, departure, finite, see, weight_zero
from .bookkeeping import bookkeeping
from .current import binned
from .discriminator import first_on
from .knobs import (
    chase_less,
    sentence,
    suggested_weight,
    weaken_discriminator,
    weight_named,
)
from .said import Said


def _broken_now(m: Metrics) -> bool:
    """The discriminator's loss NaN/Inf at its latest point: no current level to judge the balance by (its last
    finite stretch is the past); the non-finite finding says so."""
    values = m.values("disc_loss") if m.has("disc_loss") else np.zeros(0)
    return bool(len(values)) and not np.isfinite(values[-1])


def latest_in_phase(m: Metrics, name: str, s: Schedule, fraction: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The latest ``fraction`` of a metric's points in the adversarial phase (at least 5), or None."""
    steps, values = m.window(name, lo=s.switch_step)
    if len(steps) < 5:
        return None
    k = max(5, int(len(steps) * fraction))
    return steps[-k:], values[-k:]


def disc_overpowering(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    recent = latest_in_phase(m, "disc_loss", s, t["window"])
    if recent is None:
        return []
    current = m.level("disc_loss")  # the one current level of each metric quoted: the statistics table's Now
    if current is None or _broken_now(m):
        return []  # NaN/Inf now: the non-finite finding says so
    level = current.value
    numbers = {"disc_loss_median": level, "from_step": current.first_step, "now": {"disc_loss": level}}
    gap_text = ""
    if m.has("logits_real") and m.has("logits_fake"):
        real, fake = m.level("logits_real"), m.level("logits_fake")
        if real is not None and fake is not None and len(m.window("logits_real", lo=s.switch_step)[0]) >= 5:
            gap = real.value - fake.value
            numbers["logit_gap"] = gap
            numbers["now"].update(logits_real=real.value, logits_fake=fake.value)
            gap_text = f"; logits_real - logits_fake = {fmt(gap)} (real {fmt(real.value)}, fake {fmt(fake.value)})"
            if gap < t["logit_gap"]:  # logits not separated: a low loss alone is not a winning discriminator
                return _past_win(m, s, t, level) or _contest(s, t, level, numbers)
    # below 30% of its chance level (hinge 1, vanilla ln 2) with the logits apart: no longer a contest
    if not level < t["below_chance"] * s.disc_chance_level:
        return (_pulling_ahead(m, s, t, level, numbers) or _past_win(m, s, t, level)
                or _leads(m, s, t, level, numbers) or _contest(s, t, level, numbers))
    onset = departure(*m.window("disc_loss", lo=s.switch_step), s.disc_chance_level, level)
    numbers["onset_step"] = onset
    g_text = ""
    if m.has("g_loss"):
        g = m.level("g_loss")
        if g is not None and np.isfinite(m.values("g_loss")[-1]):
            numbers["g_loss_median"] = numbers["now"]["g_loss"] = g.value
            g_text = f", g_loss {fmt(g.value)}"
    phase_steps, phase_loss = m.window("disc_loss", lo=s.switch_step)
    head = finite(phase_loss[: max(3, len(phase_loss) // 10)])
    fell = (f"has been far below its chance level since {pos.at(s, int(phase_steps[0]))}, the phase's first logged "
            "point," if len(head) and np.median(head) < t["below_chance"] * s.disc_chance_level
            else f"has been falling from its chance level since {pos.at(s, onset)} and")
    halved = "half the sum of the two {} terms, as LDM computes it" if s.disc_scale == 1 \
        else "the sum of the two {} terms (LDM halves it)"
    if s.disc_loss == "vanilla":
        scale = (f"vanilla, {halved.format('softplus')}: {'' if s.disc_scale == 1 else '2 '}ln 2 = "
                 f"{fmt(s.disc_chance_level)} at chance, 0 when it separates every input")
    else:
        scale = (f"hinge, {halved.format('hinge')}: {fmt(s.disc_chance_level)} at chance, 0 when every real logit "
                 "is >= 1 and every fake one <= -1")
    if s.layout == "flat":
        scale += "; this trainer's own scale may differ"
    said = (f"The discriminator is winning: disc_loss {fell} is at {fmt(level)} now (its current level, "
            f"{pos.window(s, current.first_step, current.last_step, current.points)}) ({scale}){gap_text}{g_text}. ")
    if weight_zero(m, s):  # its term reaches the autoencoder with weight 0: a won game that pushes nothing
        return [Case(
            said + _stops(s) + "; the generator's term "
            f"reaches the autoencoder with d_weight exactly 0 (see {see('d-weight-pinned')}), so the win does not push"
            " the autoencoder away from reconstructing, but the adversarial phase does nothing for it either.",
            "disc_loss", onset, {**numbers, "d_weight_zero": True}, case="won-unweighted", look="",
            action="Find why d_weight is 0 first (see the d_weight finding): weakening the discriminator does not "
                   "help an autoencoder that gets no adversarial gradient.",
            rationale="A discriminator that has won no longer teaches the autoencoder anything: with its term "
                      "weighted by 0 the GAN phase spends compute on a contest that sharpens nothing.")]
    return [Case(
        said + _stops(s) + ", while the generator's term "
        "(-mean of the fake logits) keeps pushing"
        + (" with the adaptive d_weight" if s.layout != "flat" else "")
        + ": the adversarial term tends to take over the objective at the cost of reconstruction.",
        "disc_loss", onset, numbers, action=overpowered_action(m, s, onset, numbers),
        rationale=VANILLA_WON_WHY if s.disc_loss == "vanilla" else None,
    )]


def _leads(m: Metrics, s: Schedule, t: dict, level: float, numbers: dict) -> list[Case]:
    """Below ``ahead`` x chance with the logits apart (where logged), yet neither won nor pulling ahead on every
    signal: a lead, told (info) with the signal that is short, so the balance is never left unsaid."""
    chance = s.disc_chance_level
    if not level < t["ahead"] * chance or ("logit_gap" not in numbers and m.has("logits_real")):
        return []
    said = [f"disc_loss {fmt(level)} now, {fmt(round(100 * (1 - level / chance)))}% below its chance level "
            f"{fmt(chance)}"]
    if "logit_gap" in numbers:
        said.append(f"logits_real - logits_fake {fmt(numbers['logit_gap'])}")
    short = f"it has not won (that is below {fmt(100 * t['below_chance'])}% of chance)"
    g_ends = phase_ends(m, s, "g_loss") if m.has("g_loss") else None
    if g_ends is not None:
        numbers.update(g_loss_early=g_ends[0], g_loss_median=g_ends[1])
        short += (f", and g_loss went from {fmt(g_ends[0])} to {fmt(g_ends[1])} since the switch-on, short of the "
                  f"+{fmt(t['g_rise'])} that would show it pulling ahead")
    onset = departure(*m.window("disc_loss", lo=s.switch_step), chance, level)
    numbers["onset_step"] = onset
    said[0] += f" (below chance since {pos.at(s, onset)})" if onset is not None else ""
    return [Case(
        "The discriminator leads: " + ", ".join(said) + f"; {short}. A lead to watch: the adversarial term grows "
        "as it pulls further ahead.",
        "disc_loss", onset if onset is not None else numbers.get("from_step"), numbers, severity="info", case="leads",
        title="Discriminator leading",
        action="None now; if disc_loss keeps falling, " + weaken_discriminator(s, m.last_step(),
                                                                             logged_lr=m.has("lr_disc")) + ".",
        look="", rationale="A discriminator well below chance tells reconstructions from data easily; before it has "
                           "won or pulled ahead on every signal, its lead is a state to watch, not a fault.")]


def _contest(s: Schedule, t: dict, level: float, numbers: dict) -> list[Case]:
    """Between a lead (``ahead`` x chance) and the equilibrium disc-at-chance speaks of (within 10% of chance): a
    discriminator that tells the inputs apart a little, the ordinary state of a GAN in training, said (ok) so the
    balance is never left unsaid."""
    chance = s.disc_chance_level
    if not t["ahead"] * chance <= level < 0.9 * chance:
        return []
    gap = (f", logits_real - logits_fake {fmt(numbers['logit_gap'])}" if "logit_gap" in numbers else "")
    return [Case(
        f"disc_loss is {fmt(level)} now, {fmt(round(100 * (1 - level / chance)))}% below its chance level "
        f"{fmt(chance)}{gap}: the discriminator tells real from reconstructed a little, far from a win (below "
        f"{fmt(100 * t['below_chance'])}% of chance) or a lead (below {fmt(100 * t['ahead'])}%): the ordinary state "
        "of a GAN in training.", "disc_loss", numbers.get("from_step"), numbers, severity="ok", case="contest",
        title="The GAN's balance")]


def _past_win(m: Metrics, s: Schedule, t: dict, level: float) -> list[Case]:
    """A win that is over: the discriminator's loss below ``below_chance`` x chance over a stretch of the phase
    (medians of equal point counts, the longest such run, 5% of the phase's points and 10 or more) with the
    logits apart there where logged, then back up to its level now. Info: no fault now, but dated, with what
    reconstruction did across it, so that its points are not read as spikes nor its end as a rise."""
    chance = s.disc_chance_level
    steps, loss = m.window("disc_loss", lo=s.switch_step)
    good = np.isfinite(loss)
    steps, loss = steps[good], loss[good]
    if len(loss) < 40:
        return []
    _, medians = binned(steps, loss)
    k = len(loss) // len(medians)
    first = len(loss) - k * len(medians)  # binned drops the oldest remainder
    won = np.flatnonzero(medians < t["below_chance"] * chance)
    if not len(won):
        return []
    runs = np.split(won, np.flatnonzero(np.diff(won) > 1) + 1)
    run = max(runs, key=len)
    a, b = first + run[0] * k, first + (run[-1] + 1) * k  # the stretch's points [a, b)
    if b - a < max(10, 0.05 * len(loss)) or run[-1] == len(medians) - 1:
        return []  # too short to be more than a spell, or still won at the end (the current level says so)
    start, end = int(steps[a]), int(steps[b - 1])
    during = float(np.median(loss[a:b]))
    numbers = {"case_start": start, "case_end": end, "disc_loss_during": during, "disc_loss_median": level,
               "chance_level": chance, "now": {"disc_loss": level}}
    said = [f"disc_loss sat below {fmt(100 * t['below_chance'])}% of its chance level from {pos.at(s, start)} to "
            f"{pos.at(s, end)} ({fmt(end - start)} steps, median {fmt(during)}; chance level {fmt(chance)} for the "
            f"{s.disc_loss or 'hinge'} loss)"]
    if m.has("logits_real") and m.has("logits_fake"):
        _, real = m.window("logits_real", lo=start, hi=end + 1)
        _, fake = m.window("logits_fake", lo=start, hi=end + 1)
        if len(finite(real)) >= 5 and len(finite(fake)) >= 5:
            gap = float(np.median(finite(real)) - np.median(finite(fake)))
            if gap < t["logit_gap"]:
                return []  # a low loss without the logits apart is no win
            numbers["logit_gap_during"] = gap
            said[0] += f", with logits_real - logits_fake at {fmt(gap)}"
    said.append(f"it is at {fmt(level)} now (its current level)")
    if m.has("rec_loss"):
        before = finite(m.window("rec_loss", lo=s.switch_step, hi=start)[1][-max(5, b - a):])
        across = finite(m.window("rec_loss", lo=start, hi=end + 1)[1])
        now = m.level("rec_loss")
        # a win from the phase's first points has no level of its own before it: rec's level just before the
        # switch-on, the one rec-after-disc quotes (one level, one number)
        prior = m.before_switch("rec_loss") if len(before) < max(5, 0.05 * len(loss)) else None
        if (prior is not None or len(before) >= 5) and len(across) >= 5 and now is not None:
            r0 = prior.value if prior is not None else float(np.median(before))
            then = "just before the discriminator started" if prior is not None else "just before the win"
            r1 = float(np.max(window_medians(across, max(5, len(across) // 10))))  # its highest level across
            numbers.update(rec_before_win=r0, rec_win_peak=r1, rec_now=now.value)
            numbers["rec_before_said"] = then
            said.append(f"rec_loss went from {fmt(r0)} {then} to {fmt(r1)} at its highest across it, and is at "
                        f"{fmt(now.value)} now")
    return [Case(
        "The discriminator won for a while, and the contest came back: " + "; ".join(said) + ". A past win is no "
        "fault now; it is dated so that its near-zero losses are not read as the discriminator's level, nor the "
        "return to chance as a rise.",
        "disc_loss", start, numbers, severity="info", case="past-win", title="A past win of the discriminator",
        action="None now. Should it win again, " + weaken_discriminator(s, m.last_step(), logged_lr=m.has("lr_disc"))
               + ".",
        look="", rationale="A discriminator that won and came back to chance left a stretch in which the "
                            "autoencoder was pushed by a contest it could not win; what it cost is read in "
                            "rec_loss across it.",
    )]


def overpowered_action(m: Metrics, s: Schedule, onset: int | None = None, numbers: dict | None = None) -> str:
    """What to do about a discriminator that won or pulls ahead: the knobs that act on it (knobs.py), and
    disc_weight only as what it is, the autoencoder's pull toward the discriminator. Whether reconstruction paid
    for it is read from where the discriminator began to win (``onset``), not from the switch-on: a rec still
    falling from the switch-on hides a rise that came with the win. A rise it paid is declared in ``numbers``
    (rec_loss implicated), so no all-clear on rec stands beside it."""
    weaken = sentence(weaken_discriminator(s, m.last_step(), logged_lr=m.has("lr_disc")))
    cost = _rec_cost(m, s, onset)
    if cost is None:  # no reconstruction to read the cost from: disc_weight said as what it does
        return f"{weaken}. If reconstruction suffers, also {chase_less(s, suggested_weight(s))}."
    before, now, since, noise = cost
    moved = describe_change(before, now, noise=noise)  # "held" within the noise, as rec-after-disc says it
    if numbers is not None:
        numbers.update(rec_before_win=before, rec_now=now)
    if now > 1.1 * before:  # the autoencoder has paid for chasing it: pull it back too
        if numbers is not None:
            numbers.setdefault("implicates", {})["rec_loss"] = "risen"
        return (f"{weaken}. Reconstruction has paid for it: {since}, rec_loss {moved}; "
                f"also {chase_less(s, suggested_weight(s))}.")
    return (f"{weaken}. Reconstruction has not paid for it so far: {since}, rec_loss "
            f"{moved}; so {weight_named(s)}, can stay.")


def _rec_cost(m: Metrics, s: Schedule, onset: int | None = None) -> tuple[float, float, str, float | None] | None:
    """rec_loss where the discriminator began to win (the median of the last 5% of the phase's points before
    ``onset``, at least 5) or, with no such stretch, just before the switch-on (the phase before's last 5%, as
    rec-after-disc takes it); its current level (the statistics table's Now); the words that name the baseline;
    and the noise of their difference. None without both."""
    if not m.has("rec_loss") or s.switch_step is None:
        return None
    level = m.level("rec_loss")
    if level is None or not np.isfinite(level.value):
        return None
    if onset is not None:
        won = finite(m.window("rec_loss", lo=s.switch_step, hi=onset)[1])
        if len(won) >= 20:  # the win came well into the phase: its cost is counted from there
            before = float(np.median(won[-max(5, len(won) // 20):]))
            return before, level.value, f"since the discriminator began to win ({pos.at(s, onset)})", level.noise
    if len(finite(m.window("rec_loss", hi=s.switch_step)[1])) < 5:
        return None
    before = m.before_switch_on("rec_loss", s.switch_step)  # the level rec-after-disc quotes: one per report
    if before is None or not np.isfinite(before.value):
        return None
    return before.value, level.value, "since just before the switch-on", difference_noise(before, level)


def phase_ends(m: Metrics, s: Schedule, name: str) -> tuple[float, float] | None:
    """The metric's level at the start of the adversarial phase (Metrics.phase_first: its first 5% of points
    there) and its current level (the statistics table's Now): a move "from" and "to" names one level each, the
    same in every GAN finding."""
    values = finite(m.window(name, lo=s.switch_step)[1])
    # the phase's start, or the table's Start (or the level just before the switch-on) where that is the same
    # level: one baseline per metric, however the rules window it (Metrics.reference)
    first, level = m.reference(name, m.phase_first(name)), m.level(name)
    if len(values) < 20 or level is None or first is None:
        return None
    return first.value, level.value


def _pulling_ahead(m: Metrics, s: Schedule, t: dict, level: float, numbers: dict) -> list[Case]:
    """The discriminator pulling ahead without having won: its loss fallen well below where the phase began and
    below ``ahead`` x chance, the logits apart, and the generator's loss climbing with it (all three together)."""
    chance = s.disc_chance_level
    ends = phase_ends(m, s, "disc_loss")
    g_ends = phase_ends(m, s, "g_loss") if m.has("g_loss") else None
    if ends is None or "logit_gap" not in numbers or g_ends is None:
        return []
    early, level = ends  # the move is told from the phase's start to the current level
    fell = early - level >= t["fell"] * chance and level < t["ahead"] * chance
    # g_loss = -mean(D(fake)): the critic scoring reconstructions ever more fake
    g_rose = g_ends[1] - g_ends[0] >= t["g_rise"]
    if not (fell and g_rose):
        return []
    steps, loss = m.window("disc_loss", lo=s.switch_step)
    onset = departure(steps, loss, early, level, fraction=0.1, noise_margin=3.0)
    gap = m.level("logits_real").value - m.level("logits_fake").value  # both logged: logit_gap is in numbers
    numbers.update(onset_step=onset, disc_loss_early=early, g_loss_early=g_ends[0], g_loss_median=g_ends[1],
                   now={"disc_loss": level, "g_loss": g_ends[1]},
                   implicates={"g_loss": "risen"})  # the discriminator pulling ahead: g_loss climbed with it
    signals = [f"disc_loss fell from {fmt(early)} to {fmt(level)} (chance level {fmt(chance)})",
               f"logits_real - logits_fake is now {fmt(gap)}",
               f"g_loss rose from {fmt(g_ends[0])} to {fmt(g_ends[1])}"]
    w_ends = phase_ends(m, s, "d_weight") if m.has("d_weight") else None
    if w_ends is not None and w_ends[0] > 0 and not 0.8 <= w_ends[1] / w_ends[0] <= 1.25:  # only when it moved
        numbers.update(d_weight_early=w_ends[0], d_weight_median=w_ends[1])
        numbers["now"]["d_weight"] = w_ends[1]
        signals.append(f"d_weight {describe_change(w_ends[0], w_ends[1])}")
    found = bookkeeping(m, s)
    if found is not None and len(found.steps) >= 20:
        adv = found.terms["adversarial"][found.steps >= s.switch_step]
        if len(adv) >= 20:
            a0, a1 = float(np.median(adv[: max(5, len(adv) // 10)])), float(np.median(adv[-max(5, len(adv) // 5):]))
            numbers.update(adversarial_early=a0, adversarial_now=a1)
            signals.append(f"so the adversarial term d_weight x g_loss went from {fmt(a0)} to {fmt(a1)}")
    return [Case(
        f"The discriminator is pulling ahead since {pos.at(s, onset)}: " + "; ".join(signals) + ". It has not won "
        "(that is a loss near 0), but it tells reconstructions from data ever more easily, and the generator's "
        "adversarial term grows with g_loss at the cost of reconstruction.",
        "disc_loss", onset, numbers, case="pulling-ahead", action=overpowered_action(m, s, onset, numbers),
        rationale="a discriminator pulling ahead is on its way to winning: the adversarial term it feeds grows with "
                  "g_loss, at the cost of reconstruction.",
    )]


def _flat(values: np.ndarray) -> bool:
    """Constant to float noise (a value that is only ever rewritten, never learned)."""
    values = finite(values)
    return len(values) >= 5 and float(np.ptp(values)) <= 1e-6 * max(1.0, float(np.max(np.abs(values))))


def _not_learning(m: Metrics, s: Schedule, lo: int) -> tuple[list[str], bool, bool]:
    """Evidence that the discriminator does not learn from ``lo`` on (what an expert would check), whether its
    loss alone says so (none of its outputs, logits or learning rate, seen frozen), and whether it scores both
    inputs alike while its outputs move (identical logits, neither frozen nor at an lr of 0: it ignores its input
    while its optimizer steps)."""
    _, loss = m.window("disc_loss", lo=lo)
    logits = m.has("logits_real") and m.has("logits_fake")
    if logits:
        rs, real = m.window("logits_real", lo=lo)
        fs, fake = m.window("logits_fake", lo=lo)
    flat_logits = logits and _flat(real) and _flat(fake)
    said_by_loss = []
    if len(finite(loss)) >= 5 and float(np.ptp(finite(loss))) == 0.0:
        value = float(finite(loss)[0])
        # a hinge loss of exactly 0 is a discriminator clearing the margin everywhere (winning), not a frozen one;
        # so is one pinned far below its chance level while its logits move (a floor or a rounding in the log):
        # the overpowering finding says that one
        won = value == 0.0 or (value < 0.1 * s.disc_chance_level and logits and not flat_logits)
        if not won:
            said_by_loss.append(f"disc_loss is exactly {fmt(value)} at every point")
    evidence = []
    identical = lr_zero = False
    if logits:
        if flat_logits:
            evidence.append("logits_real and logits_fake do not move (constant to float precision)")
        shared, ri, fi = np.intersect1d(rs, fs, return_indices=True)
        if len(shared) >= 5:
            gap = np.abs(real[ri] - fake[fi])
            good = np.isfinite(gap)
            identical = bool(np.all(gap[good] <= 1e-6 * np.maximum(1.0, np.abs(real[ri][good]))))
            if identical:
                evidence.append("logits_real and logits_fake are identical at every shared step")
    if m.has("lr_disc"):
        _, lr = m.window("lr_disc", lo=lo)
        lr_zero = bool(len(finite(lr)) and np.all(finite(lr) == 0))
        if lr_zero:
            evidence.append("the discriminator's learning rate is 0")
    return said_by_loss + evidence, not evidence, identical and not flat_logits and not lr_zero


# why a won game matters, for the softplus loss (the rule's own reason speaks of the hinge's margin)
VANILLA_WON_WHY = ("A discriminator that has won learns less and less from the inputs it already separates (its "
                   "softplus loss tends to 0, its gradient with it), while the adversarial term it feeds keeps "
                   "growing in the objective: the autoencoder is pushed away from reconstructing, and "
                   "reconstructions often degrade.")


def _stops(s: Schedule) -> str:
    """How a discriminator that separates the inputs stops learning, by its loss: the hinge's margin, the
    softplus' vanishing gradient."""
    if s.disc_loss == "vanilla":
        return ("Its softplus loss is never 0, but its gradient shrinks as the logits move apart, so it learns less "
                "and less from inputs it already separates")
    return "Its loss is 0 wherever it clears the margin, so it stops learning there"


def disc_at_chance(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    if _broken_now(m):
        return []
    steps, loss = m.window("disc_loss", lo=s.switch_step)
    good = np.isfinite(loss)
    steps, loss = steps[good], loss[good]
    if len(loss) < 5:
        return []
    chance = s.disc_chance_level
    evidence, loss_only, alike = _not_learning(m, s, s.switch_step)
    level = m.level("disc_loss").value  # the one current level: the statistics table's Now
    if evidence:
        # identical logits that move: the network ignores its input (it scores real and reconstructed inputs
        # alike) while its optimizer steps; frozen outputs or a loss that never changes: it does not step
        if alike:
            said, check = ("it scores real and reconstructed inputs alike, whatever its outputs do",
                           "check what it is fed (that the real and the reconstructed batches both reach it, and "
                           "differ) and that the logged logits come from the discriminator")
        else:
            said = "that loss never changes" if loss_only else "nothing it outputs changes"
            check = ("check that its optimizer steps, its learning rate, and that the logged logits come from the "
                     "discriminator")
        return [Case(
            f"The discriminator is not learning since {pos.at(s, int(steps[0]))}: " + "; ".join(evidence) + ". "
            f"Its loss reads {fmt(level)} (chance level {fmt(chance)}), but {said}: {check}.",
            "disc_loss", int(steps[0]), {"chance_level": chance, "evidence": evidence, "now": {"disc_loss": level}},
            action=sentence(check) + "." if alike else None, title="Discriminator not learning",
        )]
    first = steady_since(loss, t["band"]) if abs(level - chance) <= 2 * t["band"] else None
    if first is None:
        return []
    start = max(int(steps[first]), first_on(m, s))  # not from a point the discriminator was still off at
    span = int(steps[-1] - start)
    adversarial = int(steps[-1] - s.switch_step)
    numbers = {"chance_level": chance, "steps_at_chance": span, "adversarial_steps": adversarial}
    logits = _logit_sides(m, s, numbers)
    numbers.setdefault("now", {})["disc_loss"] = level
    long = _long(steps, start, int(steps[-1]), s, t) and span >= t["share"] * adversarial
    if not long:
        return [Case(
            f"disc_loss is at its equilibrium ({fmt(level)}; chance level {fmt(chance)} for the "
            f"{s.disc_loss or 'hinge'} loss) for the {pos.count(s, span)} since {pos.at(s, start)}: the discriminator "
            f"cannot tell real from reconstructed, "
            + ("the usual state after it starts." if not _long(steps, s.switch_step, start, s, t)
               else "the usual state of a balanced GAN.") + logits,
            "disc_loss", start, numbers, severity="ok", title="Discriminator at chance")]
    return [Case(
        f"disc_loss has stayed at its equilibrium ({fmt(level)}; chance level {fmt(chance)} for the "
        f"{s.disc_loss or 'hinge'} loss) for {pos.count(s, span)}, since {pos.at(s, start)}.{logits} Two readings: "
        "the generator keeps the discriminator at chance, the equilibrium the adversarial loss aims at (near-equal "
        "logits are what a balanced discriminator shows); or the discriminator is too weak to matter. Its logits "
        "move and its loss is not constant, so it is learning; where there is harm it shows as reconstruction "
        "getting worse after the switch-on.",
        "disc_loss", start, numbers, severity="info", title="Discriminator at chance, and learning")]


def _long(steps: np.ndarray, lo: int, hi: int, s: Schedule, t: dict) -> bool:
    """Whether ``lo``..``hi`` is long in the unit the logs count: ``min_steps`` optimizer steps, or, in a log
    counted in epochs (samples, records), ``min_intervals`` of its logging intervals (10,000 steps compared with
    epoch numbers would never be long)."""
    if s.counts == "step":
        return hi - lo >= t["min_steps"]
    return int(np.count_nonzero((steps > lo) & (steps <= hi))) >= t["min_intervals"]


def steady_since(values: np.ndarray, band: float, chunks: int = 40) -> int | None:
    """The first point from which a series holds one steady level to its end (None when its latest stretch does
    not): the earliest chunk from which every chunk's median lies within ``band`` of the median of all the points
    from there, or within four times the noise of a chunk's median when that is wider (up to twice ``band``: a
    drift is no steady level however noisy). The level is the
    stretch's own, not its latest value, and the chunks are judged against their own scatter: a state is dated
    from where it began to hold, not from where the latest noisy chunks last strayed from the latest level (a
    hinge D at 1.0 from its switch-on, 4% noise, was dated 20 epochs late)."""
    idx = np.array_split(np.arange(len(values)), max(1, min(chunks, len(values) // 5)))
    medians = np.array([np.median(values[c]) for c in idx])
    noise = 4 * 1.2533 * robust_noise(values) / math.sqrt(min(len(c) for c in idx))
    tolerance = min(max(band, noise), 2 * band) if math.isfinite(noise) else band
    for j in range(len(idx)):
        if np.all(np.abs(medians[j:] - np.median(values[idx[j][0]:])) <= tolerance):
            return int(idx[j][0])
    return None


def _logit_sides(m: Metrics, s: Schedule, numbers: dict) -> str:
    """The logits' current levels (the statistics table's Now), real against fake."""
    if not (m.has("logits_real") and m.has("logits_fake")):
        return ""
    real = finite(m.window("logits_real", lo=s.switch_step)[1])
    fake = finite(m.window("logits_fake", lo=s.switch_step)[1])
    levels = m.level("logits_real"), m.level("logits_fake")
    if len(real) < 5 or len(fake) < 5 or None in levels:
        return ""
    r, f = levels[0].value, levels[1].value
    numbers.setdefault("now", {}).update(logits_real=r, logits_fake=f)
    # which side is above is said only where the gap is clear of the two levels' noise
    noise = difference_noise(*levels)
    band = movement(f, r, noise, signed=True).band if noise is not None else None
    if band is not None and abs(r - f) <= band:
        return (f" Its logits now: real {fmt(r)}, fake {fmt(f)}, a gap of {fmt(abs(r - f))} within their noise "
                f"(± {fmt(band)}): neither is clearly above the other.")
    sides = "real above fake, as they should be" if r > f else "fake at or above real"
    return f" Its logits now: real {fmt(r)}, fake {fmt(f)} ({sides})."


def generator_winning(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """The other side of the balance: the discriminator losing (above chance, logits inverted), d_weight
    growing by orders of magnitude, g_loss running away."""
    if _broken_now(m):
        return []
    signals, numbers, onsets = [], {}, []
    chance = s.disc_chance_level
    recent = latest_in_phase(m, "disc_loss", s, t["window"])
    if recent is not None and len(finite(recent[1])):
        level = m.level("disc_loss").value  # "is above its chance level": the one current level
        numbers["disc_loss_median"] = level
        numbers["now"] = {"disc_loss": level}
    inverted = _inverted_logits(m, s, t, numbers)
    if recent is not None and len(finite(recent[1])):
        # well above chance is a sign on its own; slightly above it only together with inverted logits
        if level > chance * (1 + t["above_chance"]) or (inverted is not None and level > chance * 1.05):
            signals.append(f"disc_loss {fmt(level)} is above its chance level {fmt(chance)}")
            onsets.append(departure(*m.window("disc_loss", lo=s.switch_step), chance, level))
    if inverted is not None:
        signals.append(inverted[0])
        onsets.append(inverted[1])
    grown = _grew(m, s, "d_weight", t["weight_growth"])
    if grown is not None:
        first, last, onset = grown
        numbers.update(d_weight_first=first, d_weight_recent=last)
        numbers.setdefault("now", {})["d_weight"] = last
        # the growth in the one format every sentence uses (numbers.signed_pct: x93.3 from +1,000% on)
        signals.append(f"d_weight {describe_change(first, last)} since the discriminator started")
        onsets.append(onset)
    runaway = _g_runaway(m, s, t, numbers)
    if runaway is not None:
        signals.append(runaway[0])
        onsets.append(runaway[1])
    if not signals:
        return []
    strong = len(signals) >= 2 or grown is not None
    step = min(onsets)
    numbers["signals"] = signals
    return [Case(
        "The balance leans to the generator: " + "; ".join(signals) + ". "
        + ("The discriminator is losing the game, so the adversarial term pushes reconstructions toward whatever "
           "fools a weak critic." if strong else "One sign alone is not a fault; watch it at the next report."),
        "disc_loss", step, numbers, severity="warning" if strong else "info",
        action=f"{sentence(chase_less(s, suggested_weight(s)))}; do not weaken the discriminator itself (its "
               "learning rate, its capacity): it is the side losing.",
    )]


def disc_level_short(f: Said) -> str | None:
    n = f.n
    now = (n.get("now") or {}).get("disc_loss")
    if now is None:
        return None
    if f.rule == "disc-at-chance" and "chance_level" in n:
        if "evidence" in n:  # near chance, but because nothing it outputs moves
            return f"disc_loss {fmt(now)} now, chance level {fmt(n['chance_level'])}, its outputs frozen"
        return (f"disc_loss at its equilibrium, {fmt(now)} now (chance level {fmt(n['chance_level'])})"
                + (f", for {f.count(n['steps_at_chance'])}" if "steps_at_chance" in n else ""))
    if "chance_level" in n:
        return f"disc_loss {fmt(now)} now, chance level {fmt(n['chance_level'])}"
    return f"disc_loss {fmt(now)} now" + (f", falling since {f.at(n['onset_step'])}"
                                           if f.rule == "disc-overpowering" and "onset_step" in n else "")


def _inverted_logits(m: Metrics, s: Schedule, t: dict, numbers: dict) -> tuple[str, int] | None:
    if not (m.has("logits_real") and m.has("logits_fake")):
        return None
    real, fake = latest_in_phase(m, "logits_real", s, t["window"]), latest_in_phase(m, "logits_fake", s, t["window"])
    if real is None or fake is None:
        return None
    shared, ri, fi = np.intersect1d(real[0], fake[0], return_indices=True)
    if len(shared) < 5:
        return None
    gap = fake[1][fi] - real[1][ri]
    gap = gap[np.isfinite(gap)]
    levels = m.level("logits_real"), m.level("logits_fake")
    if len(gap) and np.mean(gap > 0) >= t["inverted_share"] and np.median(gap) > 0 and None not in levels:
        rs, rv = m.window("logits_real", lo=s.switch_step)
        fs, fv = m.window("logits_fake", lo=s.switch_step)
        both, ri, fi = np.intersect1d(rs, fs, return_indices=True)
        whole = fv[fi] - rv[ri]
        early = float(np.median(whole[: max(3, len(whole) // 10)]))
        onset = departure(both, whole, min(early, 0.0), float(np.median(gap)))
        real, fake = levels[0].value, levels[1].value  # the statistics table's Now of each
        numbers.setdefault("now", {}).update(logits_real=real, logits_fake=fake)
        return (f"logits_fake sits above logits_real at {np.mean(gap > 0) * 100:.0f}% of the points of the latest "
                f"fifth of the adversarial phase (now fake {fmt(fake)}, real {fmt(real)}: {fmt(fake - real)} "
                "apart): the discriminator rates reconstructions as more real than the data", onset)
    return None


def _grew(m: Metrics, s: Schedule, name: str, factor: float) -> tuple[float, float, int] | None:
    if not m.has(name):
        return None
    steps, values = m.window(name, lo=s.switch_step)
    good = np.isfinite(values) & (values > 0)
    steps, values = steps[good], values[good]
    if len(values) < 10:
        return None
    ends = phase_ends(m, s, name)  # its level at the phase's start and now: the ones every GAN finding quotes
    if ends is None:
        return None
    first, last = ends
    if first <= 0 or last < factor * first:
        return None
    return first, last, departure(steps, np.log(values), np.log(first), np.log(last), fraction=0.1)


def _g_runaway(m: Metrics, s: Schedule, t: dict, numbers: dict) -> tuple[str, int] | None:
    if not m.has("g_loss"):
        return None
    steps, values = m.window("g_loss", lo=s.switch_step)
    values, steps = values[np.isfinite(values)], steps[np.isfinite(values)]
    if len(values) < 10:
        return None
    ends = phase_ends(m, s, "g_loss")
    if ends is None or not np.isfinite(m.values("g_loss")[-1]):
        return None
    first, last = ends
    # g_loss = -mean(logits_fake): far below 0 the critic rates reconstructions as real (the generator wins);
    # far above 0 it rejects them, which is the discriminator winning, not this
    if last <= -t["g_runaway"] and abs(last) >= 10 * max(abs(first), 1e-3):
        numbers.setdefault("now", {})["g_loss"] = last
        return (f"g_loss ran away from {fmt(first)} to {fmt(last)} (the critic scores reconstructions ever more "
                "real)", m.level("g_loss").first_step)
    return None
