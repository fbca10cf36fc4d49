"""Where nothing trained: the stretches where the logged learning rate is exactly 0, or where the losses are
frozen to float precision. One place knows them, so the rule that reports them (run-stalled) and the gate that
keeps the trend, level and GAN checks from judging such a stretch (rules.run_rules) agree on where it is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import position as pos
from ..checkpoints import latest_checkpoint, newest_step
from ..numbers import describe_change, fmt, pct
from ..schedule import Schedule
from ..stats import robust_noise
from .base import Case, Metrics
from .lr_shape import printed_decimals

# the reconstruction chain: when these stop changing the model has stopped (the trigger of a frozen stretch)
CHAIN = ("rec_loss", "total_loss", "nll_loss")
# a stretch of lr 0 shorter than this share of the logged run, and not at its end, is a blip (a restart's first
# step), not a stretch that trained nothing
MIN_SHARE = 0.01
# a judged stretch at least this share untrained is not judged, nor one whose latest level (the median of its
# latest 5% of points, levels.current_level) lies in a stretch that trained nothing up to the last log
JUDGED_SHARE = 0.5
LATEST_SHARE = 0.05


@dataclass(frozen=True)
class Untrained:
    """A stretch of the logs over which nothing trained: from ``start`` (its first logged step) to ``last`` (its
    last); ``to_end``: it runs to the last log, so the final weights are those of ``start``; ``reason``: "lr"
    (the logged learning rate is exactly 0) or "frozen" (the losses are frozen to float precision); ``frozen``:
    the losses frozen over it."""

    start: int
    last: int
    to_end: bool
    reason: str
    frozen: tuple[str, ...] = ()
    metric: str | None = None  # the metric that shows it, where that is not the lr or the losses (a loss scale)

    def cause(self) -> str:
        """Why nothing trained, as a clause: "the learning rate is 0" or "every loss is frozen"."""
        if self.reason == "scale":
            return ("the mixed-precision loss scale has collapsed below 1e-3, so every step's gradients overflow "
                    "and the step is skipped")
        return "the learning rate is 0" if self.reason == "lr" else "the losses are frozen to float precision"

    def span(self, s: Schedule) -> str:
        """"from step 9,000 to the last log (step 30,000)", "from step 4,000 to step 8,000"."""
        end = f"the last log ({pos.at(s, self.last)})" if self.to_end else pos.at(s, self.last)
        return f"from {pos.at(s, self.start)} to {end}"


def _loss_names(m: Metrics) -> list[str]:
    """The training losses logged: the chain first, then every other (KL, GAN terms, another trainer's)."""
    others = sorted(n for n in m.names() if "loss" in n and not n.startswith(("val", "test")) and n not in CHAIN)
    return [n for n in CHAIN if m.has(n)] + others


# "frozen" is relative to the values' own size: a loss scaled to 1e-20 that moves 17-fold is moving (an absolute
# floor of 1e-12 called it frozen); only an exact 0 needs a floor, the smallest normal double
_TINY = float(np.finfo(np.float64).tiny)


def _frozen_since(steps: np.ndarray, values: np.ndarray) -> int | None:
    """The first step from which a series holds its last value to float precision, if it moved before that
    (a term that never moved, as a discriminator loss at 0 before disc_start, is off, not frozen)."""
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    if not len(values):
        return None
    last = float(values[-1])
    moving = np.flatnonzero(np.abs(values - last) > 1e-6 * max(_TINY, abs(last)))
    if not len(moving) or moving[-1] + 1 >= len(values):
        return None
    return int(steps[moving[-1] + 1])


def frozen_losses(m: Metrics, window: float) -> tuple[list[str], int | None]:
    """The losses frozen to float precision at the end of the logs, and the step from which the chain is: the
    chain's losses over at least the latest ``window`` share of their points (20 points or more logged), then
    every other loss that has held its value since that step too (the KL and GAN terms of a stopped model)."""
    chain, since = [], None
    for name in CHAIN:
        if not m.has(name):
            continue
        steps, values = m.steps(name), m.values(name)
        good = np.isfinite(values)
        if good.sum() < 20:
            continue
        k = max(5, int(good.sum() * window))
        tail = values[good][-k:]
        if float(np.ptp(tail)) > 1e-6 * max(_TINY, float(np.max(np.abs(tail)))):
            continue
        start = _frozen_since(steps, values)
        start = int(steps[good][0]) if start is None else start
        chain.append(name)
        since = start if since is None else min(since, start)
    if since is None:
        return [], None
    others = [n for n in _loss_names(m) if n not in CHAIN
              and (start := _frozen_since(m.steps(n), m.values(n))) is not None and start <= since]
    return chain + others, since


def _lr_printed(lr: np.ndarray, s: Schedule, kind: str) -> bool:
    """An lr printed with so few decimals that a small rate reads 0 (RadioDiff's ``{:.5f}``): its zeros are
    not a rate of 0 (the lr-schedule rule says so)."""
    decimals = printed_decimals(lr, kind)
    return decimals is not None and decimals >= 3 and (decimals == 5 or s.layout in ("radiodiff", "text log"))


def _lr_zero(m: Metrics, s: Schedule) -> list[Untrained]:
    """The stretches that trained nothing for an lr of 0 (_zero_stretches): those over which no loss kept
    improving (a stretch the losses dispute is the lr log's fault, lr_disputed)."""
    return [u for u in _zero_stretches(m, s) if improved_over(m, u) is None]


# a fall of the reconstruction over a stretch of lr 0 at least this large (and beyond the noise of the two
# medians) says the weights moved there: the logged lr is not the optimizer's
DISPUTED_FALL = 0.1


def improved_over(m: Metrics, u: Untrained) -> tuple[str, float, float] | None:
    """(loss, median over the stretch's first fifth, over its last fifth) where the first logged loss of the
    chain fell over a stretch of lr 0 by DISPUTED_FALL and far beyond its batch noise (5+ points a fifth); at an
    lr of 0 no weight moves, so a loss can only vary with the batches there."""
    name = next((n for n in CHAIN if m.has(n)), None)
    if name is None:
        return None
    steps, values = m.steps(name), m.values(name)
    inside = values[(steps >= u.start) & (steps <= u.last) & np.isfinite(values)]
    k = len(inside) // 5
    if k < 5 or inside.min() <= 0:
        return None
    first, last = float(np.median(inside[:k])), float(np.median(inside[-k:]))
    noise = 2 * 1.2533 * robust_noise(inside) / np.sqrt(k)
    return (name, first, last) if last < (1 - DISPUTED_FALL) * first and first - last > 4 * noise else None


def lr_disputed(m: Metrics, s: Schedule) -> list[Case]:
    """A stretch of logged lr 0 over which the losses kept improving: the logged lr and the losses disagree, and
    the losses are the ones an optimizer moved, so the lr log is likely not the optimizer's. One warning, in place
    of the run-stalled one it withholds (the stretch is judged as training)."""
    out = []
    for u in _zero_stretches(m, s):
        fell = improved_over(m, u)
        if fell is None:
            continue
        name, first, last = fell
        out.append(Case(
            f"The logged learning rate is exactly 0 {u.span(s)}, yet {name} kept improving there: it "
            f"{describe_change(first, last)} between the medians of the stretch's first and last fifth, far beyond "
            "its batch noise. A rate of 0 leaves every weight as it was, so the logged lr is probably not the "
            "optimizer's (read from a scheduler or a param group the optimizer does not step). Training stalled "
            "is not raised: the losses show training went on.",
            "lr", u.start, {"lr_zero_from": u.start, "lr_zero_to": u.last, "fell_metric": name,
                            "fell_from": first, "fell_to": last},
            severity="warning", case="lr-disputed", title="Logged lr against the losses",
            rationale="an lr log that is not the optimizer's rate hides the schedule actually used: a stall, a "
                      "jump or a decay of the real rate would not show in it.",
            action="Log the rate of the optimizer that steps, read from its param_groups after scheduler.step(); "
                   "until then the logged lr says nothing about the schedule."))
    return out


def _zero_stretches(m: Metrics, s: Schedule) -> list[Untrained]:
    """The stretches where the logged lr is exactly 0, after a rate that was not (a run whose every lr is 0 logs
    something else as lr), of 3 points or more and a hundredth of the logs or more, or at their end."""
    if not m.has("lr"):
        return []
    steps, lr = m.steps("lr"), m.values("lr")
    good = np.isfinite(lr)
    steps, lr = steps[good], lr[good]
    if len(lr) < 3 or not (lr != 0).any() or _lr_printed(lr, s, m.kinds.get("lr", "")):
        return []
    zero = np.concatenate(([False], lr == 0, [False]))
    edges = np.flatnonzero(np.diff(zero.astype(np.int8)))
    out = []
    logged = max(1, int(steps[-1] - steps[0]))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        to_end = b == len(lr)
        # a stretch ends where the lr is back: it trained nothing up to that next logged point
        end = int(steps[-1]) if to_end else int(steps[b])
        if b - a < 3 or (not to_end and (end - int(steps[a])) < MIN_SHARE * logged):
            continue
        out.append(Untrained(int(steps[a]), end, bool(to_end), "lr"))
    return out


# the names a mixed-precision loss scale is logged under (torch's GradScaler.get_scale(), Lightning's, DeepSpeed's)
SCALES = ("loss_scale", "grad_scale", "scaler_scale", "amp_scale", "cur_scale")
# GradScaler starts at 65,536 and halves at each overflowed (skipped) step: this far down, every step overflows
COLLAPSED_SCALE = 1e-3


def scale_metrics(m: Metrics) -> list[str]:
    """The logged mixed-precision loss scales (SCALES, under any split prefix)."""
    return [name for name in m.names() if name.split("/")[-1] in SCALES]


def _scale_collapsed(m: Metrics) -> list[Untrained]:
    """The stretch to the last log over which a logged loss scale has only fallen, down below COLLAPSED_SCALE
    after being 1 or more: GradScaler skips every step whose gradients overflow and halves the scale, so a scale
    that only falls means no step was taken (3 points or more, a hundredth of the logs or more)."""
    for name in scale_metrics(m):
        steps, scale = m.steps(name), m.values(name)
        good = np.isfinite(scale)
        steps, scale = steps[good], scale[good]
        if len(scale) < 3 or not scale[-1] < COLLAPSED_SCALE or not float(scale.max()) >= 1:
            continue
        # dated where its last uninterrupted fall began: every step from there was skipped (a scale that held
        # or grew took steps; below COLLAPSED_SCALE the fp16 gradients underflow to 0 whether it moves or not)
        held = np.flatnonzero((scale[1:] >= scale[:-1]) & (scale[1:] >= COLLAPSED_SCALE))
        start = int(held[-1]) + 2 if len(held) else 1
        logged = max(1, int(steps[-1] - steps[0]))
        if len(scale) - start >= 3 and int(steps[-1] - steps[start]) >= MIN_SHARE * logged:
            return [Untrained(int(steps[start]), int(steps[-1]), True, "scale", metric=name)]
    return []


def untrained(m: Metrics, s: Schedule, window: float = 0.1) -> list[Untrained]:
    """Every stretch of the logs that trained nothing, in order (memoized on the metrics: every rule asks);
    ``window``: the latest share of the points the chain's losses must be frozen over (run-stalled's threshold)."""
    key = ("untrained", window)
    if key not in m.memo:
        stretches = _lr_zero(m, s)
        collapsed = _scale_collapsed(m)
        if collapsed and not any(u.to_end for u in stretches):
            stretches += collapsed
        frozen, since = frozen_losses(m, window)
        if since is not None:
            tail = next((u for u in stretches if u.to_end), None)
            if tail is not None:  # one stretch, for both reasons: dated where the first of them began
                stretches.remove(tail)
                stretches.append(Untrained(min(tail.start, since), tail.last, True, "lr", tuple(frozen)))
            else:
                stretches.append(Untrained(since, m.last_step(), True, "frozen", tuple(frozen)))
        m.memo[key] = sorted(stretches, key=lambda u: u.start)
    return m.memo[key]


def judged_out(m: Metrics, s: Schedule, lo: int | None) -> Untrained | None:
    """The untrained stretch that keeps a check from judging the logs from ``lo`` to the last step (a trend, a
    level, the GAN's balance): the latest logs inside an untrained stretch, or half the judged stretch or more
    untrained; None when the check can judge."""
    stretches = untrained(m, s)
    if not stretches:
        return None
    last = m.last_step()
    first = lo if lo is not None else min(int(m.steps(n)[0]) for n in m.names() if len(m.steps(n)))
    if last <= first:
        return None
    tail = next((u for u in stretches if u.to_end), None)
    if tail is not None and last - max(tail.start, first) >= LATEST_SHARE * (last - first):
        return tail
    inside = sum(max(0, min(u.last, last) - max(u.start, first)) for u in stretches)
    if inside >= JUDGED_SHARE * (last - first):
        return max(stretches, key=lambda u: min(u.last, last) - max(u.start, first))
    return None


def reason(u: Untrained, s: Schedule) -> str:
    """Why checks were not run, short: "nothing trained from step 4,000 on: the learning rate is 0"."""
    until = " on" if u.to_end else f" to {pos.at(s, u.last)}"
    return f"nothing trained from {pos.at(s, u.start)}{until}: {u.cause()}"


def not_judged(u: Untrained, s: Schedule, what: str) -> str:
    """Why a check does not judge: "Not judged: the learning rate is 0 (nothing trained) from step 9,000 to the
    last log (step 30,000), the stretch this check judges (its latest level)"."""
    return (f"Not judged: {u.cause()} (nothing trained) {u.span(s)}, and that is {what}: what the logs show "
            "there is not training.")


def phases_of(u: Untrained, s: Schedule, first: int, logged: np.ndarray) -> str:
    """Which phases a stretch covers, in words: "all in the phase before the discriminator", "the last 6,000
    steps of the phase before the discriminator and the whole adversarial phase"; ``logged``: the steps logged
    (a stretch that begins at the first logged step at or after the switch-on covers the whole phase)."""
    switch = s.switch_step
    if switch is None:
        return ""
    end = u.last
    if end < switch:
        return "all in the phase before the discriminator"
    if u.start >= switch:
        whole = u.to_end and not ((logged >= switch) & (logged < u.start)).any()
        return "the whole adversarial phase" if whole else "all in the adversarial phase"
    before = pos.count(s, switch - u.start)
    before = "the whole phase before the discriminator" if u.start <= first else \
        f"the last {before} of the phase before the discriminator"
    after = "the whole adversarial phase" if u.to_end else \
        f"the first {pos.count(s, end - switch)} of the adversarial phase"
    return f"{before} and {after}"


def summary(u: Untrained, m: Metrics, s: Schedule, cause: bool = True) -> tuple[str, dict]:
    """What a stretch that trained nothing cost, in words and numbers: how many steps, what share of the run,
    which phases, and which weights the run ends with (``cause``: say why nothing trained, too)."""
    names = [n for n in m.names() if len(m.steps(n))]
    first = min(int(m.steps(n)[0]) for n in names)
    last = m.last_step()
    n = u.last - u.start
    share = n / max(1, last - first)
    logged = m.steps("lr") if m.has("lr") else m.steps(names[0])
    phases = phases_of(u, s, first, logged)
    where = f": {phases}" if phases else ""
    weights = (f" The weights are still those of {pos.at(s, u.start)}: every later step left them as they were."
               if u.to_end else f" The weights left {pos.at(s, u.start)} unchanged until {pos.at(s, u.last)}.")
    why = f", where {u.cause()}" if cause else ""
    words = (f"Nothing trained {u.span(s)}{why}: {pos.count(s, n)}, {pct(share, 0)} of the logged run"
             f"{where}.{weights}")
    return words, {"untrained_from": u.start, "untrained_to": u.last, "untrained_steps": n,
                   "untrained_share": share, "untrained_to_end": u.to_end, "untrained_reason": u.reason}


def resume_from(u: Untrained, m: Metrics, s: Schedule) -> str:
    """Where to train again from, after a stretch that trained nothing: no weight moved there (an lr of 0 scales
    every update to 0, AdamW's decay too; losses frozen to float precision mean no output moved), so every
    checkpoint saved in it holds the weights of its first step, and the newest checkpoint is the one to resume from:
    "Resume from the latest checkpoint (saved at step 20,000, every 5,000 steps): it holds the weights of step
    4,000, since nothing trained after that". A fault that damaged the weights (a divergence, a NaN) picks the last
    checkpoint before its onset instead (checkpoints.checkpoint_before)."""
    last = m.last_step()
    if u.to_end and u.start <= m.first_step():  # nothing trained at any logged step: no weights worth keeping
        return ("Restart from the start: nothing trained at any logged step, so any checkpoint holds the weights "
                "the run began with")
    newest = latest_checkpoint(s, last)
    saved = newest_step(s, last)
    if saved is None and s.checkpoint_every and s.counts == "step" and not s.checkpoints:
        return (f"Rerun from the start: no checkpoint was saved by the last log ({pos.at(s, last)}; the first is "
                f"due at {pos.at(s, s.checkpoint_every)})")
    if saved is None:  # no step known: what any checkpoint saved in the stretch holds
        held = (f" (any saved from {pos.at(s, u.start)} on holds the weights of that step, since nothing trained "
                "after it)") if u.to_end else ""
    elif saved >= u.start and u.to_end:
        held = f": it holds the weights of {pos.at(s, u.start)}, since nothing trained after that"
    elif saved < u.start:
        held = f", saved before nothing trained from {pos.at(s, u.start)} on"
    else:
        held = ""
    return f"Resume from {newest}{held}"


def rate_before(u: Untrained, m: Metrics, s: Schedule) -> str:
    """The logged learning rate just before a stretch of lr 0, for the fix: ", so that it restarts at the rate it
    had at step 3,990 (4.05e-06)"; "" without one."""
    if u.reason != "lr" or not m.has("lr"):
        return ""
    steps, lr = m.steps("lr"), m.values("lr")
    before = np.flatnonzero((steps < u.start) & np.isfinite(lr) & (lr > 0))
    if not len(before):
        return ""
    i = before[-1]
    return f", so that it restarts at the rate it had at {pos.at(s, int(steps[i]))} ({fmt(float(lr[i]))})"
