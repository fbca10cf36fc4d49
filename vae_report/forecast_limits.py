"""What the forecast takes from the rest of the analysis: the change points the report itself found (a trend is
never fitted across one) and the loss's bookkeeping (a total that adds up from its terms is forecast from its
terms' forecasts, never fitted on its own beside them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .numbers import fmt
from .rules.bookkeeping import bookkeeping, regularizer

# findings that date a change of regime in the losses: (rule, the numbers key of the step the new regime begins)
_CHANGES = {"loss-shift": "reached_step", "kl-collapse": "onset_step", "non-finite": None,
            "disc-inactive-after-start": None, "disc-active-before-start": None}
BOOKKEEPING_HOLDS = 0.02  # the total within this share of its terms' sum (median over the recent points)


def change_points(findings: list[Any], m: Any, unit: str) -> dict[str | None, tuple[int, str]]:
    """Per key loss (None: every loss), the latest change the report found before now: (the step the new
    regime starts, what it is in words). A step in one loss moves that loss and those that moved with it (the
    finding names them); a collapse, a NaN episode or the discriminator switching on moves every loss."""
    out: dict[str | None, tuple[int, str]] = {}
    # headlines and the findings cited under them (a step cited under the latest-logs rise it caused is a change)
    for f in (one for head in findings or [] if not head.skipped for one in head.told()):
        rule, step, metric, numbers = f["rule"], f.get("step"), f.get("metric"), f.get("numbers") or {}
        if rule not in _CHANGES or f.get("severity") == "ok" or step is None:
            continue
        if rule == "disc-inactive-after-start" and f.get("case") != "late":
            continue  # never on, or off by config: nothing switched, the phase is the one the schedule gives
        key = _CHANGES[rule]
        start = int(numbers.get(key) or step) if key else int(step)
        if rule == "non-finite":  # the episode ends at its last NaN/Inf: fit what came after it
            values = m.values(metric) if metric and m.has(metric) else None
            if values is None or not np.isfinite(values[-1]) or np.isfinite(values).all():
                # a NaN that stays (the forecast is stopped elsewhere: narrative.stop_broken_forecasts), or values
                # finite but overflowing (1e308): no NaN/Inf episode whose end a fit could start from
                continue
            start = int(m.steps(metric)[~np.isfinite(values)][-1]) + 1
        what = {"loss-shift": f"the step in {metric} at {unit} {fmt(step)}",
                "kl-collapse": f"the KL collapse from {unit} {fmt(step)}",
                "non-finite": f"the NaN/Inf in {metric} up to {unit} {fmt(start - 1)}"}.get(
                    rule, f"the discriminator switching on at {unit} {fmt(step)}")
        moved = {metric, *numbers.get("moved_with", ()), *numbers.get("rising_terms", ())} \
            if rule == "loss-shift" else {None}
        for name in moved:
            if name not in out or out[name][0] < start:
                out[name] = (start, what)
    return out


def latest_change(changes: dict[str | None, tuple[int, str]], metric: str) -> tuple[int, str] | None:
    found = [c for c in (changes.get(metric), changes.get(None)) if c is not None]
    return max(found) if found else None


def total_from_parts(forecast: Any, m: Any, schedule: Any) -> None:
    """Where total = nll + kl_weight x kl + d_weight x disc_factor x g_loss holds in the logs, the total's forecast
    is the sum of its terms' (the adversarial term at its current level: signed and noisy, it has no trend to
    fit), each bound summed; a total whose term has no forecast there has none. Fitting the total on its own beside
    its terms could forecast +27% on it while each term stays flat."""
    trend = forecast.trends.get("total_loss")
    if trend is None or (trend.end is None and trend.milestone is None):
        return
    b = bookkeeping(m, schedule)
    if b is None or b.averaged or (b.learned_logvar and not m.has("nll_loss")) or len(b.total) < 5 \
            or regularizer(schedule)[1] is None:
        return  # no identity to build on (another trainer's sum, RadioDiff's (AE + disc) / 2, a learned logvar)
    recent = slice(-max(5, len(b.total) // 10), None)
    gap = np.abs(b.total[recent] - b.expected[recent]) / np.maximum(np.abs(b.total[recent]), 1e-300)
    if not float(np.median(gap)) < BOOKKEEPING_HOLDS:
        return
    reg_name, weight = regularizer(schedule)
    adversarial = b.terms["adversarial"][recent]
    adv_level = float(np.mean(adversarial))
    # its level's range: the means of a few stretches of it (a level, not one point's scatter)
    means = [float(np.mean(c)) for c in np.array_split(adversarial, min(6, len(adversarial)))]
    adv_lo, adv_hi = min(means), max(means)
    nll = forecast.trends.get("nll_loss")
    rec = forecast.trends.get("rec_loss")
    reg = forecast.trends.get(reg_name)
    pixels = float(b.pixels)
    for kind in ("milestone", "end"):
        mine = getattr(trend, kind)
        if mine is None or mine.now:  # a few intervals away: the total's own level now, as for every loss
            continue
        parts = []
        # the nll: its own forecast where it is logged, else N x rec's (logvar 0: nll is N x rec)
        p = getattr(nll, kind, None) if nll is not None and m.has("nll_loss") else None
        if p is not None:
            parts.append((p.level, p.low, p.high, p.now))
        elif rec is not None and getattr(rec, kind, None) is not None:
            r = getattr(rec, kind)
            parts.append((pixels * r.level, pixels * r.low, pixels * r.high, r.now))
        else:
            parts = None
        q = getattr(reg, kind, None) if reg is not None else None
        if parts is not None and q is not None:
            parts.append((weight * q.level, weight * q.low, weight * q.high, q.now))
        elif parts is not None and reg_name in forecast.trends:
            parts = None  # a forecast regularizer with none there: the sum has none either
        elif parts is not None:  # a regularizer no trend is fitted to (VQ's quant_loss): where it is now
            level = float(np.mean(b.terms["regularizer"][recent]))
            parts.append((level, level, level, True))
        if parts is None:
            setattr(trend, kind, None)
            continue
        # the adversarial term: none before the discriminator switches on, else where it is now
        if kind == "milestone" or mine.label == "discriminator starts":
            adv = (0.0, 0.0, 0.0)
        else:
            adv = (adv_level, min(adv_lo, adv_level), max(adv_hi, adv_level))
        level = sum(p[0] for p in parts) + adv[0]
        low = sum(p[1] for p in parts) + adv[1]
        high = sum(p[2] for p in parts) + adv[2]
        mine.level, mine.low, mine.high, mine.now = level, low, high, all(p[3] for p in parts)
    trend.from_parts = True
    if trend.end is None and trend.milestone is None:
        trend.reason = "it is the sum of its terms, and one of them has no forecast there"
    elif trend.end is None and trend.reason is None:
        trend.reason = "no end-of-training forecast: it is the sum of its terms, and one of them has none there"
