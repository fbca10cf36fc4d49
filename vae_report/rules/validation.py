"""Validation metrics as an expert reads them: rising while training falls (overfitting), a growing gap, and
validation missing where the config says it runs."""

from __future__ import annotations

import math

import numpy as np

from .. import position as pos
from ..checkpoints import checkpoint_near
from ..levels import movement
from ..numbers import describe_change, fmt, signed_pct
from ..schedule import Schedule
from ..stats import level_at, robust_noise, window_medians
from .base import Case, Metrics, ramp_onset
from .current import SWITCHED
from .discriminator import phase_start
from .said import Said

PREFIXES = ("val/", "val_ema/")
WATCHED = ("rec_loss", "nll_loss", "total_loss")


def _pairs(m: Metrics) -> list[tuple[str, str]]:
    """(validation metric, its training metric) for every watched loss logged both ways."""
    return [(f"{p}{base}", base) for p in PREFIXES for base in WATCHED if m.has(f"{p}{base}") and m.has(base)]


def val_overfitting(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    out = []
    start = phase_start(m, s)
    for val, train in _pairs(m):
        steps, values = m.steps(val), m.values(val)
        if len(values) and not np.isfinite(values[-1]):
            continue  # NaN/Inf now: no level to call its best (the non-finite finding says where it broke)
        axis = _another_axis(m, val, train, s)
        if axis is not None:
            out.append(axis)
            continue
        if start is not None and train in SWITCHED:  # the adversarial term joins it at the switch-on: compare
            keep = steps >= start                      # within the current phase only
            steps, values = steps[keep], values[keep]
        good = np.isfinite(values)
        steps, values = steps[good], values[good]
        if len(values) < 5:
            continue
        smooth = window_medians(values, 3)
        best_i = int(np.argmin(smooth)) + 1  # the window's centre
        best, best_step = float(smooth[best_i - 1]), int(steps[best_i])
        k = max(2, len(values) // 5)
        level = m.level(val)  # the one current level of each (levels.current_level), as the table shows it
        latest = level.value if level is not None and math.isfinite(level.value) else float(np.median(values[-k:]))
        noise = robust_noise(values) if len(values) >= 3 else 0.0
        then = level_at(m.steps(train), m.values(train), best_step, 20)
        train_level = m.level(train)
        now = (train_level.value, train_level.noise) if train_level is not None \
            and train_level.last_step >= int(steps[-1]) and math.isfinite(train_level.value) \
            else level_at(m.steps(train), m.values(train), int(steps[-1]), 20)
        if then is None or now is None:
            continue
        # the best is the lowest of many 3-point medians, biased low by about a sigma: beyond 3 sigma is a rise
        rising = latest - best > t["rise"] * abs(best) and latest - best > 3 * noise and best_i < len(values) - k
        # training rising too (beyond its noise and the rise threshold) is a run going bad, not overfitting:
        # overfitting is validation leaving a training loss that keeps falling or holds
        train_rose = now[0] - then[0] > max(t["rise"] * abs(then[0]), 2 * max(then[1], now[1]))
        numbers = {"val_best": best, "val_best_step": best_step, "val_latest": latest, "train_then": then[0],
                   "train_now": now[0], "gap_then": best - then[0], "gap_now": latest - now[0]}
        jump = _step_up(values, best_i, best, latest) if rising and not train_rose else None
        if jump is not None:
            before, after = int(steps[jump - 1]), int(steps[jump])
            numbers.update(onset_step=after, step_before=before,
                           val_before_step=float(np.median(values[max(0, jump - 3):jump])))
            out.append(Case(
                f"A step in validation only: {val} {describe_change(numbers['val_before_step'], latest)} between "
                f"{pos.at(s, before)} and {pos.at(s, after)} and stayed there, while {train} "
                f"{describe_change(then[0], now[0], noise=max(then[1], now[1]))} from {pos.at(s, best_step)} to "
                "now. Overfitting is gradual; a jump in one evaluation with training unchanged is a change in what "
                "validation measures: its data or preprocessing, eval-mode layers (BatchNorm statistics, EMA "
                "weights), or a resume that changed the validation set.",
                val, after, numbers, case="val-step", title="Validation stepped up, training did not",
                action=f"Compare the validation setup before and after {pos.at(s, after)} (data, transforms, eval "
                       f"mode, EMA) and evaluate the checkpoints on either side of it on one held-out set.",
                rationale="A validation loss that jumps while training does not measures something that changed "
                          "outside the model's fit: until that is found, validation says nothing about the model."))
            continue
        if rising and not train_rose:
            # validation is sparse and its rise slow: date it by the break of a level-then-ramp fit, over the
            # stretch since it first came near its best (the early decay is not part of it)
            # and on the gap to training (val / train), which is flat until overfitting starts even while both fall
            near = np.flatnonzero(values <= best + 0.2 * (latest - best))
            first = int(near[0]) if len(near) else 0
            train_ok = np.isfinite(m.values(train))
            train_at = np.interp(steps, m.steps(train)[train_ok], m.values(train)[train_ok])
            # the gap as a ratio (overfitting that scales the loss) or a difference (one that adds to it):
            # whichever a level-then-ramp fits better
            gaps = [values - train_at]
            if np.all(train_at > 0) and np.all(values > 0):
                gaps.append(values / train_at)
            widening = min((ramp_onset(steps[first:], g[first:]) for g in gaps), key=lambda fit: fit[1])[0]
            # validation cannot be getting worse before its best: a gap that began to widen while validation
            # still improved is said as such, and the finding is dated from the best on
            onset = max(widening, best_step)
            numbers["onset_step"] = onset
            early = (f" (the gap to training began to widen at {pos.at(s, widening)}, while {val} still improved)"
                     if widening < best_step else "")
            out.append(Case(
                f"Overfitting since {pos.at(s, onset)}{early}: {val} {describe_change(best, latest)} from its best "
                f"level (the median of 3 points around {pos.at(s, best_step)}) while {train} "
                f"{describe_change(then[0], now[0], noise=max(then[1], now[1]))} over the same {pos.units(s)}; the gap "
                f"between them went from {fmt(best - then[0])} to {fmt(latest - now[0])}. The model is learning "
                "its training set rather than the task.",
                val, onset, numbers | {"explains": {"val-quality": "any"}},  # held-out quality falls with it
                action=f"Keep {checkpoint_near(s, onset)}, add data or augmentation, or stop here.",
            ))
        else:
            moved = describe_change(then[0], now[0], noise=max(then[1], now[1]))
            early = level_at(m.steps(train), m.values(train), int(steps[0]) + 1, 20)
            gap_then = float(values[0]) / early[0] if early and early[0] > 0 and values[0] > 0 else None
            gap_now = latest / now[0] if now[0] > 0 and latest > 0 else None
            if gap_then and gap_now and gap_now >= 2 and gap_now >= t["gap_growth"] * gap_then:
                numbers.update(val_over_train_then=gap_then, val_over_train_now=gap_now)
                out.append(Case(
                    f"The gap between {val} and {train} keeps widening: validation is {fmt(round(gap_now, 1))} "
                    f"times training now against {fmt(round(gap_then, 1))} times at {pos.at(s, int(steps[0]))}, "
                    f"because {train} kept falling ({describe_change(early[0], now[0])}) while {val} stopped "
                    f"improving ({fmt(latest)}, its best level). The model fits its training set rather than the "
                    "task: a small or repeated training subset, or a validation set from another distribution.",
                    val, best_step, numbers))
                continue
            if train in ("rec_loss", "nll_loss") and gap_then and gap_now \
                    and min(gap_then, gap_now) >= t["gap_static"]:
                numbers.update(val_over_train_then=gap_then, val_over_train_now=gap_now)
                out.append(Case(
                    f"{val} is {fmt(round(gap_now, 1))} times {train} now and was {fmt(round(gap_then, 1))} times "
                    f"at the first validation ({pos.at(s, int(steps[0]))}): not overfitting, as the gap did not grow, "
                    "but the two do not measure the same thing. The same loss on held-out images of the same kind "
                    "stays near the training level; look for a validation set from another distribution or "
                    "preprocessing (value range, resolution, channels), or validation run with other weights.",
                    val, int(steps[0]), numbers))
                continue
            # an all-clear says where training went since validation's best in a word: its levels there are
            # another window than the ones the report quotes its change over (the table's Start, the level just
            # before the switch-on), and a third baseline for one metric would read as a competing measure
            step = movement(then[0], now[0], max(then[1], now[1]))
            went = step.word if step.word == "held" or step.beyond_noise is not False else "moved within its noise"
            if latest <= best + 2 * noise and latest - best <= t["rise"] * abs(best):
                text = (f"{val} is at its best level ({fmt(latest)}, median of its latest points) while {train} "
                        f"{went} since {pos.at(s, best_step)}: no sign of overfitting.")
            elif rising:  # training got worse too: the run, not the fit to the training set
                cause = _adversarial_cause(s, start, best_step, int(steps[-1]))
                out.append(Case(
                    f"Not overfitting: {val} {describe_change(best, latest)} since its best level "
                    f"({pos.at(s, best_step)}), but {train} {moved} over the same {pos.units(s)}: the model got worse "
                    f"on the training data too, which overfitting does not do, so more data would not help.{cause}",
                    val, int(steps[-1]), numbers | {"training_rose": True}, severity="info"))
                continue
            elif latest - best > t["rise"] * abs(best) and latest - best > 3 * noise:
                text = (f"{val} is above its best level ({describe_change(best, latest)}), but that best is among "
                        f"its latest points ({pos.at(s, best_step)}): too recent to call a trend.")
            else:  # below the rise overfitting shows, or past it within the noise: which, said as such
                short = (f"less than the {t['rise'] * 100:.0f}% rise that overfitting shows"
                         if latest - best <= t["rise"] * abs(best) else
                         f"a rise within 3 times its noise (±{fmt(noise)}): not clearly beyond it")
                text = (f"{val} {describe_change(best, latest)} since its best ({pos.at(s, best_step)}) while {train} "
                        f"{went}: {short}.")
            out.append(Case(text, val, int(steps[-1]), numbers, severity="ok"))
    return out


def _another_axis(m: Metrics, val: str, train: str, s: Schedule) -> Case | None:
    """Validation logged against another counter than training (its epoch, in one writer beside the global step):
    its points all lie within the first 5% of training's steps, several of them, one per step from near 0. Not
    compared with training (the steps would pair the wrong points): said, info."""
    steps, last = m.steps(val), int(m.steps(train)[-1])
    if len(steps) < 3 or last < 1000 or steps[-1] >= 0.05 * last or steps[0] > 1:
        return None
    if not np.all(np.diff(steps) == 1):
        return None
    return Case(
        f"{val} is logged at {pos.units(s)} {fmt(int(steps[0]))}-{fmt(int(steps[-1]))}, one per {pos.unit(s)}, while "
        f"{train} runs to {pos.at(s, last)}: validation is logged against another counter (its epoch, most "
        "likely), so its points are not compared with training's at those steps. Log it at the global step "
        "(Lightning's self.log does; SummaryWriter takes global_step) to have it judged.", val, int(steps[-1]),
        {"val_steps": [int(steps[0]), int(steps[-1])], "train_last_step": last}, severity="info",
        case="another-axis")


def val_overfitting_short(f: Said) -> str | None:
    n = f.n
    if f.case == "another-axis":
        return f"{f.metric} logged against another counter than training's step (not compared)"
    if "val_best" not in n or "val_latest" not in n:
        return None
    train = (f.metric or "").split("/", 1)[-1]
    if f.severity == "ok":
        return f"{f.metric} at its best level ({fmt(n['val_latest'])}): no sign of overfitting"
    said = (f"{f.metric} {describe_change(n['val_best'], n['val_latest'])} from its best while {train} "
            f"{describe_change(n['train_then'], n['train_now'])}") if "train_then" in n else \
        f"{f.metric} {describe_change(n['val_best'], n['val_latest'])} from its best"
    return said + (": the training loss rose too, no overfitting" if n.get("training_rose") else "")


def _step_up(values: np.ndarray, best_i: int, best: float, latest: float) -> int | None:
    """The index where validation jumped, where most of its rise since its best is one step between two
    evaluations (the median of up to 3 points after against up to 3 before) and it stayed there; None for a rise
    spread over many evaluations (overfitting's)."""
    rise = latest - best
    jumps = [(float(np.median(values[i:i + 3]) - np.median(values[max(0, i - 3):i])), i)
             for i in range(max(1, best_i), len(values))]
    if not jumps:
        return None
    size, i = max(jumps)
    stayed = abs(float(np.median(values[i:])) - latest) <= 0.3 * rise
    # and between two evaluations: a steady climb over a few sparse ones (each a quarter of the rise) has 3-point
    # medians either side that differ by most of it, but no single jump that does
    single = float(values[i] - values[i - 1]) >= 0.5 * rise
    return i if size >= 0.6 * rise and stayed and single else None


def _adversarial_cause(s: Schedule, start: int | None, since: int, until: int) -> str:
    """The discriminator's switch-on between two steps, named as the likely cause with the config's weight."""
    if start is None or not since <= start <= until:
        return ""
    weight = (f" (disc_weight {fmt(s.disc_weight)}, from {s.origins.get('disc_weight', 'the config')})"
              if s.disc_weight is not None else "")
    return (f" Both rose once the discriminator switched on at {pos.at(s, start)}: its adversarial term{weight} is "
            "what changed then (see rec-after-disc).")


def val_missing(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """The config says validation runs every ``val_every`` steps: is it in the logs?"""
    if not s.val_every or s.counts != "step":  # an interval in optimizer steps says nothing about epoch positions
        return []
    last = m.last_step()
    names = [n for n in m.names() if n.startswith(PREFIXES)]
    if not names:
        if last < 2 * s.val_every:
            return []
        return [Case(
                        f"No validation metric is logged, although the config runs validation every "
                        f"{fmt(s.val_every)} steps and the run is at {pos.at(s, last)}: the validation loop never "
                        "ran or its logs went elsewhere. Without it the report cannot tell overfitting apart.",
                        None, last, {"val_every": s.val_every})]
    newest = max(int(m.steps(n)[-1]) for n in names)
    names.sort(key=lambda n: n.split("/", 1)[-1] not in ("rec_loss", "nll_loss", "total_loss"))  # name a loss
    if last - newest > 2 * s.val_every:
        return [Case(
                        f"Validation stopped: its newest point is at {pos.at(s, newest)}, "
                        f"{pos.count(s, last - newest)} before the latest training step, though it runs every "
                        f"{fmt(s.val_every)} steps.",
                        names[0], newest, {"val_every": s.val_every, "newest_val_step": newest})]
    return []


def val_missing_short(f: Said) -> str:
    every = f.n.get("val_every")
    return "no validation metric logged" + (f", though the config validates every {f.count(every)}" if every
                                            else "")


# image-quality metrics a validation loop logs, by the name after its split (val/psnr), and which way is better:
# PSNR and SSIM rise as reconstructions improve; LPIPS (read as p_loss, LDM's name for it) and FID fall
QUALITY = {"psnr": "higher", "ssim": "higher", "ms_ssim": "higher", "p_loss": "lower", "fid": "lower"}
QUALITY_PREFIXES = (*PREFIXES, "test/", "eval/")


def _quality_metrics(m: Metrics) -> list[tuple[str, str]]:
    return [(name, QUALITY[name.split("/", 1)[1]]) for name in m.names()
            if name.startswith(QUALITY_PREFIXES) and name.split("/", 1)[1] in QUALITY]


def _worse_by(name: str, best: float, latest: float, t: dict) -> bool:
    """Whether the latest level is worse than the best by the rule's threshold for that metric: PSNR in dB, SSIM
    as an absolute drop, a distance (LPIPS, FID) as a share of its best."""
    base = name.split("/", 1)[1]
    if base == "psnr":
        return best - latest >= t["psnr_drop"]
    if base in ("ssim", "ms_ssim"):
        return best - latest >= t["ssim_drop"]
    return latest - best >= t["rise"] * abs(best)


def val_quality(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    """Validation image quality (PSNR, SSIM, LPIPS, FID) worse now than at its best, beyond its noise and by the
    metric's own threshold, with the best not among the latest points: reconstructions of held-out images got
    worse, whatever the training losses say. One finding for all of them (one cause: the model's outputs); ok where
    each is at or near its best."""
    worse, held = [], []
    for name, better in _quality_metrics(m):
        steps, values = m.steps(name), m.values(name)
        if len(values) and not np.isfinite(values[-1]):
            continue
        good = np.isfinite(values)
        steps, values = steps[good], values[good]
        if len(values) < 5:
            continue
        sign = 1.0 if better == "lower" else -1.0
        smooth = window_medians(values, 3)
        noise = robust_noise(values)
        # the last evaluation at its best level (within half a noise): a flat stretch before a fall is dated at
        # its end, where the checkpoint to keep is
        near = np.flatnonzero(sign * smooth <= float(np.min(sign * smooth)) + 0.5 * noise)
        best_i = int(near[-1]) + 1  # the window's centre
        best, best_step = float(smooth[best_i - 1]), int(steps[best_i])
        level = m.level(name)
        k = max(2, len(values) // 5)
        latest = level.value if level is not None and math.isfinite(level.value) else float(np.median(values[-k:]))
        one = {"metric": name, "best": best, "best_step": best_step, "latest": latest, "better": better,
               "last_step": int(steps[-1]), "best_at": pos.at(s, best_step)}
        beyond_noise, by_threshold = sign * (latest - best) > 3 * noise, _worse_by(name, best, latest, t)
        recent = best_i >= len(values) - k
        bad = beyond_noise and by_threshold and not recent
        if not bad and by_threshold:  # worse by its threshold, yet not judged worse: said why, never "not worse"
            one["unclear"] = (f"a change within 3 times its noise (±{_value(one, noise)})" if not beyond_noise
                              else "its best among its latest evaluations")
        (worse if bad else held).append(one)
    if not worse:
        if not held:
            return []
        def at_best(q: dict) -> bool:  # the level now at least as good as the best median of 3 evaluations
            return q["latest"] >= q["best"] if q["better"] == "higher" else q["latest"] <= q["best"]

        said = "; ".join(f"{q['metric']} {_value(q, q['latest'])} now, " + (
            "its best level" if at_best(q) else f"its best {_value(q, q['best'])} at {q['best_at']}")
            + (f" ({q['unclear']})" if "unclear" in q else "") for q in held)
        # below its best by the metric's own threshold, but within its noise (or just past its best): not clearly
        # worse, which is not "not worse"
        head = "are not clearly worse" if any("unclear" in q for q in held) else "have not got worse"
        return [Case(f"Held-out reconstructions {head}: {said}.", held[0]["metric"],
                     max(q["last_step"] for q in held), {"metrics": held}, severity="ok")]
    first = min(worse, key=lambda q: q["best_step"])
    said = "; ".join(_worse_said(q) for q in worse)
    train = next((name for name in ("rec_loss", "nll_loss", "total_loss") if m.has(name)), None)
    numbers: dict = {"metrics": worse, "best_step": first["best_step"]}
    trained = ""
    if train is not None:
        then, now = level_at(m.steps(train), m.values(train), first["best_step"], 20), m.level(train)
        if then is not None and now is not None and math.isfinite(now.value):
            numbers.update(train_then=then[0], train_now=now.value)
            trained = (f" Over the same steps {train} "
                       f"{describe_change(then[0], now.value, noise=max(then[1], now.noise))}.")
    return [Case(
        f"Held-out reconstructions got worse: {said} (each best the median of 3 evaluations).{trained} The "
        "checkpoints since then reconstruct unseen images worse than those at the best.", first["metric"],
        first["best_step"], numbers,
        action=f"Keep {checkpoint_near(s, first['best_step'])}; if training kept improving meanwhile, the model is "
               "fitting its training set (add data or augmentation, or stop); if the discriminator switched on in "
               "between, weigh its sharper outputs against this.")]


def _value(q: dict, value: float) -> str:
    return f"{fmt(value)} dB" if q["metric"].endswith("psnr") else fmt(value)


def _worse_said(q: dict) -> str:
    """"val/psnr fell from 28.99 dB (its best, step 48,000) to 26.85 dB (-2.139 dB)": one metric's fall from its
    best."""
    name = f"{q['metric']} (LPIPS)" if q["metric"].endswith("/p_loss") else q["metric"]
    said = f"from {_value(q, q['best'])} (its best, {q['best_at']}) to {_value(q, q['latest'])}"
    if q["better"] == "lower":
        return f"{name} rose {said} ({signed_pct(q['latest'] / q['best'] - 1)})" if q["best"] > 0 else \
            f"{name} rose {said}"
    return f"{name} fell {said} (-{_value(q, q['best'] - q['latest'])})"


def val_quality_short(f: Said) -> str | None:
    metrics = f.n.get("metrics") or []
    return "; ".join(f"{q['metric']} {_value(q, q['latest'])} now, {_value(q, q['best'])} at its best "
                     f"({f.at(q['best_step'])})" for q in metrics) or None
