"""The rule registry: one list, each rule data (id, title, severity, rationale, thresholds) plus one function.

A rule whose metrics or schedule values are missing yields a skipped finding that says what it lacked; a rule
never raises, prints or plots.
"""

from __future__ import annotations

import math

from ..errors import ConfigError
from ..numbers import fmt
from ..schedule import Schedule, brief
from .base import RANK, SEVERITIES, Finding, Metrics, Rule
from .constant import loss_constant
from .current import loss_now
from .discriminator import (
    disc_active_before_start,
    disc_inactive_after_start,
    disc_never_trained,
    disc_off_before_start,
    phase_start,
)
from .dynamics import divergence, liveness, lr_schedule, resumes, run_stalled, spikes
from .gan import d_weight_pinned, disc_at_chance, disc_overpowering, generator_winning, rec_after_disc
from .grouping import group_by_cause, qualify_trends
from .kl import codebook_collapse, kl_collapse, kl_dominant, kl_negative, kl_rising
from .losses import loss_bookkeeping, loss_stopped, losses_unknown, non_finite, rec_trend, total_trend
from .validation import val_missing, val_overfitting

_TREND = {"worse": 0.10, "flat": 0.02}

RULES: list[Rule] = [
    Rule("non-finite", "NaN or Inf in a metric", "error",
         "A NaN or Inf loss means the optimizer has already stepped on garbage; everything after it is suspect.",
         non_finite),
    Rule("losses-unknown", "No known loss logged", "warning",
         "Every other check reads a known loss (rec, KL, total, GAN terms); a run that logs none of them under a "
         "known name would otherwise be called ok without having been judged.",
         losses_unknown),
    Rule("loss-stopped", "A loss no longer logged", "warning",
         "A loss whose last point lies far behind the other losses' is stale: what the report says of it is what "
         "it was then.",
         loss_stopped, {"intervals": 20, "share": 0.1}),
    Rule("disc-off-before-start", "Discriminator silent before disc_start", "ok",
         "adopt_weight multiplies the GAN terms by 0 while step < disc_start, so a disc_loss of exactly 0 is expected.",
         disc_off_before_start, needs=("disc_factor|disc_loss",), needs_schedule=("disc_start",)),
    Rule("disc-inactive-after-start", "Discriminator not active at or after disc_start", "error",
         "From disc_start on, disc_factor is 1 and the discriminator trains; all zeros there means it never started.",
         disc_inactive_after_start, needs=("disc_factor|disc_loss",), needs_schedule=("disc_start",)),
    Rule("disc-active-before-start", "Discriminator active before disc_start", "warning",
         "A discriminator on before disc_start means another config, or a trainer counting steps in other units "
         "(Lightning counts both optimizers' steps: the switch shows at half of disc_start).",
         disc_active_before_start, {"half_tolerance": 0.1}, needs=("disc_factor|disc_loss",),
         needs_schedule=("disc_start",)),
    Rule("disc-never-trained", "Discriminator never stepped (RadioDiff config)", "warning",
         "RadioDiff's gradient_accumulate_every counts optimizer passes per step, the second one training the "
         "discriminator: at 1 the discriminator never trains.",
         disc_never_trained),
    Rule("disc-overpowering", "Discriminator overpowering the generator", "warning",
         "A hinge D loss near 0 with real and fake logits drifting apart means the discriminator has won: it no "
         "longer learns where it clears the margin, the adversarial term grows in the objective and reconstructions "
         "often degrade.",
         disc_overpowering, {"window": 0.2, "below_chance": 0.3, "logit_gap": 1.0}, needs=("disc_loss",),
         needs_schedule=("disc_start",)),
    Rule("disc-at-chance", "Discriminator at chance, or not learning", "warning",
         "Near its chance level (hinge 1, vanilla ln 2) the discriminator is at equilibrium, which is what a "
         "balanced GAN shows, even for a long time; it is a fault only with evidence that it does not learn "
         "(logits frozen or identical, its lr 0, its loss exactly constant).",
         disc_at_chance, {"band": 0.05, "min_steps": 10_000, "share": 0.5}, needs=("disc_loss",),
         needs_schedule=("disc_start",)),
    Rule("generator-winning", "Generator winning the GAN game", "warning",
         "The balance can tip the other way: a discriminator loss above chance, fake logits above real ones, an "
         "adaptive weight grown by orders of magnitude or a g_loss running away mean the critic has lost.",
         generator_winning, {"window": 0.2, "above_chance": 0.25, "inverted_share": 0.7, "weight_growth": 30.0,
                             "g_runaway": 1.0}, needs=("disc_loss|d_weight|g_loss",), needs_schedule=("disc_start",)),
    Rule("d-weight-pinned", "Adaptive weight pinned at its clamp", "warning",
         "d_weight is clamped to 1e4 x disc_weight; sitting there means |grad g_loss| at the last layer is ~0.",
         d_weight_pinned, {"window": 0.2, "at_ceiling": 0.99, "share": 0.5}, needs=("d_weight",),
         needs_schedule=("disc_start", "disc_weight")),
    Rule("rec-after-disc", "Reconstruction after the discriminator starts", "warning",
         "Users ask why reconstruction gets worse once the GAN starts: compare it with the level just before.",
         rec_after_disc, {"window": 0.2, "worse": 0.1}, needs=("rec_loss",), needs_schedule=("disc_start",)),
    Rule("loss-now", "A loss going bad now", "error",
         "Whole-run trends are blind to a run that breaks now: each loss's latest level is judged against its own "
         "recent best and its noise, within the current phase, and the rise is dated by a CUSUM change point.",
         loss_now, {"noise_factor": 6.0, "tail": 0.05},
         needs=("total_loss|rec_loss|nll_loss|kl_loss|quant_loss|g_loss|disc_loss",)),
    Rule("val-overfitting", "Validation against training", "warning",
         "Validation reconstruction that rises from its best while the training loss keeps falling is "
         "overfitting (the step of the best validation level is the checkpoint to keep); one far above training "
         "from the start measures something else than training does.",
         val_overfitting, {"rise": 0.1, "gap_growth": 3.0, "gap_static": 3.0}),
    Rule("val-missing", "Validation missing", "warning",
         "A config that runs validation every N steps should leave val/* metrics in the logs.",
         val_missing),  # silent when the config runs no validation: nothing is missing then
    Rule("kl-rising", "KL rising under a tiny kl_weight", "warning",
         "KL is summed over latent dimensions and weighted by ~1e-6: it grows while the encoder uses its latents, "
         "and matters only if the weighted term becomes a real share of the loss.",
         kl_rising,
         {"rise": 0.10, "tiny_weight": 1e-4, "light_share": 0.10, "compound": 0.2}, needs=("kl_loss",),
         needs_schedule=("kl_weight",), regularizer="kl"),
    Rule("kl-dominant", "KL term dominating the loss", "warning",
         "With the KL term a real share of the objective, the autoencoder trades reconstruction for a prior-like "
         "latent space: rarely what a first-stage model for diffusion wants.",
         kl_dominant, {"share": 0.10}, needs=("kl_loss", "total_loss"), needs_schedule=("kl_weight",),
         regularizer="kl"),
    Rule("kl-negative", "KL below zero", "error",
         "A KL divergence is a sum of non-negative terms; a negative kl_loss is a sign error in the loss or another "
         "quantity under that name, and every KL-based check is meaningless on it.",
         kl_negative, needs=("kl_loss",), regularizer="kl"),
    Rule("kl-collapse", "Posterior collapse", "warning",
         "A KL that falls toward 0 after rising means the encoder stopped using its latents.",
         kl_collapse, {"fraction_of_peak": 0.1, "nats_per_dim": 0.01}, needs=("kl_loss",), regularizer="kl"),
    Rule("codebook-collapse", "Codebook collapse (VQ)", "warning",
         "A VQ model's perplexity or share of codes used should hold or grow; falling far below its peak means "
         "the quantizer has collapsed onto a few codes.",
         codebook_collapse, {"fraction_of_peak": 0.2}),
    Rule("rec-trend", "Reconstruction trend", "warning",
         "rec_loss is the per-pixel reconstruction error; its median level should fall, then flatten.",
         rec_trend, {**_TREND, "min_steps": 2000}, needs=("rec_loss",)),
    Rule("total-trend", "Total-loss trend within the current phase", "warning",
         "The total should fall within a phase; its jump when the GAN term switches on is not a regression.",
         total_trend, dict(_TREND), needs=("total_loss",)),
    Rule("divergence", "Sustained growth of a loss", "warning",
         "A loss whose median rises in every quarter of the latest half of the run is diverging, not spiking.",
         divergence, {"min_points": 5, "step_growth": 0.05, "total_growth": 0.3}, needs=("total_loss|rec_loss",)),
    Rule("spikes", "Transient spikes", "info",
         "A robust outlier test (rolling median and MAD) finds spikes that return to the previous level.",
         spikes, {"window": 25, "mad_factor": 12, "recovery": 0.2}, needs=("total_loss|rec_loss|kl_loss",)),
    Rule("liveness", "Training speed and liveness", "warning",
         "Steps per hour give ETAs; a last log far older than the logging interval (against the run's newest log "
         "or --now) means the run may have stopped.",
         liveness, {"window": 50, "stale_intervals": 20, "stale_seconds": 900, "slowdown": 3.0},
         needs=("total_loss|rec_loss|kl_loss",)),
    Rule("resumes", "Resumes and restarts", "warning",
         "Where a later log file takes over, the run should go on at the level it had reached; two files written "
         "at the same time are two processes, not a resume.",
         resumes, {"jump": 0.3, "trained": 0.5}),
    Rule("lr-schedule", "Learning-rate schedule", "warning",
         "The logged learning rate should follow the config's: constant, or RadioDiff's polynomial decay.",
         lr_schedule, {"tolerance": 0.02, "far_below": 0.01}, needs=("lr",)),
    Rule("run-stalled", "Training stalled", "warning",
         "A model that is learning never logs exactly the same loss twice: losses flat to float precision (with "
         "the lr at 0, typically) mean the optimizer no longer moves the weights.",
         run_stalled, {"window": 0.1}, needs=("rec_loss|total_loss|nll_loss",)),
    Rule("loss-bookkeeping", "Loss bookkeeping", "warning",
         "total = N x rec + kl_weight x kl + d_weight x disc_factor x g_loss, N the pixels per sample: checking "
         "it from the data catches wrong weights, mixed sources and a misread config.",
         loss_bookkeeping, {"tolerance": 0.01}, needs=("total_loss", "rec_loss", "kl_loss|quant_loss")),
    Rule("loss-constant", "A loss constant for the whole run", "warning",
         "A term that is optimised moves, if only in its last printed digits; one at the same value at every "
         "logged step (a discriminator at 2 ln 2 = 1.3863 throughout) is computed but never trained.",
         loss_constant, {"precision": 1e-4, "min_points": 10}),
]


def check_thresholds(thresholds: dict, origin: str) -> dict[str, dict[str, float]]:
    """Validate user thresholds ``{rule id: {name: number}}`` against the registry; ConfigError names the key."""
    known = {rule.id: rule for rule in RULES}
    if not isinstance(thresholds, dict):
        raise ConfigError(f"{origin}: thresholds must map rule ids to {{name: value}}")
    out: dict[str, dict[str, float]] = {}
    for rule_id, values in thresholds.items():
        if rule_id not in known:
            raise ConfigError(f"{origin}: unknown rule {rule_id!r} (known: {', '.join(known)})")
        if not isinstance(values, dict):
            raise ConfigError(f"{origin}: {rule_id} must map threshold names to numbers")
        for name, value in values.items():
            if name not in known[rule_id].thresholds:
                names = ", ".join(known[rule_id].thresholds) or "none"
                raise ConfigError(f"{origin}: rule {rule_id} has no threshold {name!r} (its thresholds: {names})")
            try:
                number = float(value) if not isinstance(value, bool) else math.nan
            except (TypeError, ValueError, OverflowError):
                number = math.nan
            if not (math.isfinite(number) and number >= 0):
                raise ConfigError(f"{origin}: {rule_id}.{name} must be a finite number >= 0, got {brief(value)}")
            out.setdefault(rule_id, {})[name] = number
    return out


def _missing(rule: Rule, metrics: Metrics, schedule: Schedule) -> list[str]:
    lacking = [need for need in rule.needs if not any(metrics.has(n) for n in need.split("|"))]
    lacking += [f"{field} (schedule)" for field in rule.needs_schedule if getattr(schedule, field) is None]
    return lacking


def run_rules(metrics: Metrics, schedule: Schedule, thresholds: dict[str, dict[str, float]] | None = None,
              rules: list[Rule] | None = None) -> list[Finding]:
    """Run every registered rule; ``thresholds`` overrides a rule's thresholds by rule id."""
    findings: list[Finding] = []
    metrics.phase_start = phase_start(metrics, schedule)
    for rule in rules or RULES:
        if rule.regularizer == "kl" and schedule.regularizer == "vq":
            findings.append(Finding(rule.id, "info", "Not applicable: a VQ model has no KL term (its regularizer is "
                                    "the codebook loss, quant_loss).", skipped=True, numbers={"not_applicable": True}))
            continue
        lacking = _missing(rule, metrics, schedule)
        if lacking:
            findings.append(Finding(rule.id, "info", f"Skipped: needs {', '.join(lacking)}, which this run does "
                                    "not provide.", skipped=True, numbers={"missing": lacking}))
            continue
        limits = {**rule.thresholds, **((thresholds or {}).get(rule.id, {}))}
        try:
            findings.extend(rule.check(metrics, schedule, limits))
        except KeyError as exc:  # a rule that reached for a metric its "needs" did not guarantee: skip, never crash
            findings.append(Finding(rule.id, "info", f"Skipped: needs {exc.args[0]}, which this run does not "
                                    "provide.", skipped=True, numbers={"missing": [str(exc.args[0])]}))
    return qualify_trends(group_by_cause(findings, metrics.last_step()))


def worst(findings: list[Finding]) -> str:
    """ok, warning or error: the overall status (info counts as ok)."""
    top = max((RANK[f.severity] for f in findings if not f.skipped), default=0)
    return {0: "ok", 1: "ok", 2: "warning", 3: "error"}[top]


__all__ = ["RULES", "Finding", "Metrics", "Rule", "SEVERITIES", "check_thresholds", "fmt", "run_rules", "worst"]
