"""Each rule's finding as one clause of its key numbers ("rec_loss rose from 0.054 just before the switch-on to
0.061 (+12.8%)"), built from the numbers the rule computed, never from its message pasted or cut: what a Q&A
answer says of a finding before it points to the findings list for the detail. One function per rule; a case
whose numbers lack what its clause needs falls back to the rule's plainest clause, so every finding of a
registered rule has a short form (tests/test_battery.py walks them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import position as pos
from ..numbers import counted, describe_change, factor, fmt, pct
from ..rules.decomposition import share_text
from .short_gan import GAN_SHORT, Said, share_of


def _non_finite(s: Said) -> str | None:
    n = s.n
    if "first_bad_step" not in n:
        return None
    if n.get("last_finite") is True and "bad_points" in n:  # isolated: the run went on
        return (f"{s.metric} NaN/Inf at {fmt(n['bad_points'])} of {fmt(n.get('points'))} points from "
                f"{s.at(n['first_bad_step'])}, finite again after")
    said = f"{s.metric} NaN/Inf from {s.at(n['first_bad_step'])}"
    if "divergence_onset" in n:
        said += f", diverging from {s.at(n['divergence_onset'])}"
    return said


def _kl_rising(s: Said) -> str | None:
    n = s.n
    if "kl_start" not in n or "kl_end" not in n:
        return None
    said = f"kl_loss {describe_change(n['kl_start'], n['kl_end'])} over the run"
    if "kl_term" in n and n.get("kl_term_share") is not None:  # None: its share cannot be judged
        said += (f", its weighted term (kl_weight {fmt(n.get('kl_weight'))} x kl_loss) {fmt(n['kl_term'])}, "
                 f"{share_text(n['kl_term_share'])} of the loss's size")
    return said


def _kl_dominant(s: Said) -> str | None:
    n = s.n
    if n.get("kl_on_another_scale") and "kl_term" in n:
        return (f"kl_weight x kl_loss would be {fmt(n['kl_term'])}, more than the whole logged total "
                f"{fmt(n.get('total'))}: the weight applies to the KL on another scale")
    if "kl_term" in n:
        share = n.get("kl_term_share")
        return f"the weighted KL term {fmt(n['kl_term'])}, " + (
            f"{share_of(share)} of the loss's size" if share is not None else "its share not judged")
    return None


def _kl_collapse(s: Said) -> str | None:
    n = s.n
    if n.get("peak_level") and "recent_level" in n:
        return _from_peak(s)
    if "kl_per_latent_dim" in n:
        return f"kl_loss {fmt(n['kl_per_latent_dim'])} nats per latent dimension"
    if "recent_level" in n:
        level = "exactly 0" if n["recent_level"] == 0 else fmt(n["recent_level"])
        return f"kl_loss {level} from {s.at(n.get('onset_step', s.step))}"
    return None


def _loss_now(s: Said) -> str | None:
    n = s.n
    if "recent_best" in n and "latest" in n:
        return (f"{s.metric} at {fmt(n['latest'])} against its recent best {fmt(n['recent_best'])}, since "
                f"{s.at(n.get('onset_step', s.step))}")
    if "checked" in n:
        broken = list(n.get("non_finite_now") or ())
        checked = counted(len(n["checked"]), "loss", "losses")
        return (f"no {'finite ' if broken else ''}loss rising in the latest logs ({checked} checked)"
                + (f"; NaN/Inf now: {', '.join(broken)}" if broken else ""))
    return None


def _loss_stopped(s: Said) -> str | None:
    n = s.n
    if "last_logged_step" not in n:
        return None
    behind = n.get("run_last_step", n["last_logged_step"]) - n["last_logged_step"]
    return f"{s.metric} last logged at {s.at(n['last_logged_step'])}, {s.count(behind)} before the other losses"


def _losses_unknown(s: Said) -> str:
    return f"none of the {fmt(s.n.get('metrics'))} logged metrics is a loss the checks know"


def _grad_norm(s: Said) -> str | None:
    n = s.n
    if "from" not in n or "to" not in n:
        return None
    said = f"grad_norm grew from {fmt(n['from'])} to {fmt(n['to'])} since {s.at(n.get('onset_step', s.step))}"
    if "clip" in n and "share_clipped" in n:
        said += f", clipped at {fmt(n['clip'])} at {pct(n['share_clipped'], 0)} of the latest points"
    return said


def _val_overfitting(s: Said) -> str | None:
    n = s.n
    if "val_best" not in n or "val_latest" not in n:
        return None
    train = (s.metric or "").split("/", 1)[-1]
    if s.severity == "ok":
        return f"{s.metric} at its best level ({fmt(n['val_latest'])}): no sign of overfitting"
    said = (f"{s.metric} {describe_change(n['val_best'], n['val_latest'])} from its best while {train} "
            f"{describe_change(n['train_then'], n['train_now'])}") if "train_then" in n else \
        f"{s.metric} {describe_change(n['val_best'], n['val_latest'])} from its best"
    return said + (": the training loss rose too, no overfitting" if n.get("training_rose") else "")


def _val_missing(s: Said) -> str:
    every = s.n.get("val_every")
    return "no validation metric logged" + (f", though the config validates every {s.count(every)}" if every
                                            else "")


def _kl_negative(s: Said) -> str | None:
    n = s.n
    if "negative_points" not in n:
        return None
    return (f"kl_loss negative at {fmt(n['negative_points'])} of {fmt(n.get('points'))} points (down to "
            f"{fmt(n.get('min'))})")


def _from_peak(s: Said) -> str | None:
    """A collapse (the KL's, a codebook's): its fall from its peak."""
    n = s.n
    if "peak_level" not in n or "recent_level" not in n:
        return None
    return f"{s.metric or 'kl_loss'} fell from its peak {fmt(n['peak_level'])} to {fmt(n['recent_level'])}"


def _trend(s: Said) -> str | None:
    n = s.n
    if "lowest_level" in n and "start_level" in n:  # not learning: it never fell
        return (f"{s.metric} never below {fmt(n['lowest_level'])} since {s.at(n.get('from_step', s.step))}, against "
                f"{fmt(n['start_level'])} at its first points")
    if "start_level" in n and "end_level" in n:
        since = f"from {s.at(n['from_step'])} to now" if n.get("from_step") else "over the run"
        return f"{s.metric} {describe_change(n['start_level'], n['end_level'])} {since}"
    if "points_in_phase" in n:
        return (f"{s.metric} not judged yet: {counted(n['points_in_phase'], 'point')} since the switch-on at "
                f"{s.at(n.get('from_step', s.step))}")
    return None


def _divergence(s: Said) -> str | None:
    levels = s.n.get("levels")
    if not levels:
        return None
    return f"{s.metric} {describe_change(levels[0], levels[-1])} over the latest half, since {s.at()}"


def _spikes(s: Said) -> str | None:
    n = s.n
    if "count" not in n:
        return None
    said = f"{s.metric}: {counted(n['count'], 'transient spike')}"
    if "largest_step" in n:
        said += f", the largest {fmt(n.get('largest_value'))} at {s.at(n['largest_step'])}"
    return said


def _episode(s: Said) -> str | None:
    n = s.n
    if "peak_level" in n and "level_before" in n:
        return (f"{s.metric} went up from {fmt(n['level_before'])} to {fmt(n['peak_level'])} at "
                f"{s.at(n.get('peak_step', s.step))} and was back to {fmt(n.get('level_after'))} by "
                f"{s.at(n.get('recovered_step', s.step))}")
    if "checked" in n:
        return f"no recovered episode ({counted(len(n['checked']), 'loss', 'losses')} checked)"
    return None


def _shift(s: Said) -> str | None:
    n = s.n
    if "level_before" in n and "level_after" in n:  # the message's numbers: the level it stepped up to
        return (f"{s.metric} stepped up at {s.at(n.get('onset_step', s.step))} and stayed: "
                f"{describe_change(n['level_before'], n['level_after'])}")
    if "checked" in n:
        return f"no loss stepped up and stayed up ({counted(len(n['checked']), 'loss', 'losses')} checked)"
    return None


def _liveness(s: Said) -> str | None:
    n = s.n
    if n.get("implausible_clock"):
        return "no training speed: the logs' wall times are no training clock"
    rate = n.get("steps_per_hour")
    if rate is None:
        return None
    speed = f"{fmt(round(rate))} {pos.units(s.unit)} per hour"
    if "slowdown_since" in n and "steps_per_hour_before" in n:
        return (f"{speed} since {s.at(n['slowdown_since'])}, against {fmt(round(n['steps_per_hour_before']))} "
                "before")
    if s.severity == "warning" and "seconds_since_last_log" in n:
        hours = n["seconds_since_last_log"] / 3600
        return f"the last log ({s.at()}) is {fmt(round(hours, 1))} h old, at a pace of {speed}"
    return speed + ("; training has finished" if n.get("finished") else "")


def _resumes(s: Said) -> str | None:
    n = s.n
    if n.get("concurrent"):
        return (f"two processes wrote at once from {s.at()}, {counted(n.get('points', 0), 'point')} of the other "
                "left out")
    if "new_first_level" in n:
        return f"started again at {s.at()} with trained weights ({s.metric} begins at {fmt(n['new_first_level'])})"
    if "before_level" in n and "after_level" in n:
        return (f"{s.metric} jumped where the run was resumed at {s.at()}: "
                f"{describe_change(n['before_level'], n['after_level'])}")
    if s.step is None:
        return None
    redone = (n.get("reached") or s.step) - s.step
    return f"resumed at {s.at()}" + (f", {s.count(redone)} trained again" if redone > 0 else "")


def _config_typos(s: Said) -> str | None:
    if "key" not in s.n:
        return None
    return f"config key {s.n['key']} is no setting, and {s.n.get('setting')} is missing beside it"


def _lr_schedule(s: Said) -> str | None:
    n = s.n
    if "printed_decimals" in n:
        return f"the lr printed with {fmt(n['printed_decimals'])} decimals, too few to check its schedule"
    if s.severity == "ok" and "worst_window_relative_error" in n:
        return f"the logged lr within {pct(n['worst_window_relative_error'])} of the config's schedule throughout"
    if s.case == "lr-to-zero" and "departure_step" in n:
        return f"the lr exactly 0 from {s.at(n['departure_step'])}" + (
            f" ({pct(n['zero_share'], 0)} of its points)" if "zero_share" in n else "")
    if "stuck_at" in n:
        return (f"the lr stuck at {fmt(n['stuck_at'])} from {s.at(n.get('stuck_from', s.step))}, "
                f"x{factor(1 / n['ratio'])} below the configured rate" if n.get("ratio") else
                f"the lr stuck at {fmt(n['stuck_at'])} from {s.at(n.get('stuck_from', s.step))}")
    if "lr_logged" in n and "lr_expected" in n:
        return (f"the logged lr parts from the config's schedule at {s.at(n.get('departure_step', s.step))}: "
                f"{fmt(n['lr_logged'])} at {s.at(n.get('lr_at_step', s.step))} where it gives "
                f"{fmt(n['lr_expected'])}")
    if "ratio" in n:
        return f"the logged lr {fmt(round(n['ratio'], 3))} x the config's"
    if "warmup_until_step" in n:
        return f"the lr below the config's schedule until {s.at(n['warmup_until_step'])}"
    if "departure_step" in n:
        return f"the logged lr parts from the config's schedule at {s.at(n['departure_step'])}"
    if n.get("described"):
        return "the lr described, its schedule not modelled (not judged)"
    return None


def _run_stalled(s: Said) -> str | None:
    n = s.n
    if "untrained_steps" not in n:
        return None
    cost = f"{s.count(n['untrained_steps'])}, {pct(n.get('untrained_share'), 0)} of the logged run"
    if s.case == "frozen":
        frozen = ", ".join(n.get("flat_metrics") or [s.metric])
        return (f"{frozen} unchanged since {s.at(n.get('since_step', s.step))}"
                + (" with the lr at 0" if n.get("lr_zero") else "") + f": {cost} trained nothing")
    return f"the lr exactly 0 from {s.at(n.get('untrained_from', s.step))}: {cost} trained nothing"


def _bookkeeping(s: Said) -> str | None:
    n = s.n
    if "steps_checked" not in n:
        return None
    if s.severity == "ok":
        return f"total_loss adds up from its logged terms at {s.count(n['steps_checked'])}"
    return (f"total_loss off the sum of its logged terms by a median {pct(n.get('median_relative_residual'))}"
            + (f" from {s.at(n['onset_step'])}" if "onset_step" in n else ""))


def _constant(s: Said) -> str | None:
    n = s.n
    if "level" not in n:
        return None
    return f"{s.metric} {fmt(n['level'])} at all {fmt(n.get('points'))} points from {s.at()}"


SHORT: dict[str, Callable[[Said], str | None]] = {
    **GAN_SHORT,
    "non-finite": _non_finite, "losses-unknown": _losses_unknown, "loss-stopped": _loss_stopped,
    "loss-now": _loss_now, "grad-norm": _grad_norm,
    "val-overfitting": _val_overfitting, "val-missing": _val_missing, "kl-rising": _kl_rising,
    "kl-dominant": _kl_dominant, "kl-negative": _kl_negative, "kl-collapse": _kl_collapse,
    "codebook-collapse": _from_peak, "rec-trend": _trend, "total-trend": _trend, "divergence": _divergence,
    "spikes": _spikes, "loss-episode": _episode, "loss-shift": _shift, "liveness": _liveness,
    "resumes": _resumes, "config-typos": _config_typos, "lr-schedule": _lr_schedule, "run-stalled": _run_stalled,
    "loss-bookkeeping": _bookkeeping, "loss-constant": _constant,
}


def short_form(finding: Any, unit: str) -> str | None:
    """The finding's key numbers as a clause, or None where its numbers lack what its rule's clause needs."""
    clause = SHORT.get(finding.get("rule") if isinstance(finding, dict) else finding.rule)
    return None if clause is None else clause(Said(finding, unit))
