"""The rule registry: one list, each rule data (id, title, severity, rationale, thresholds) plus one function.

A rule whose metrics or schedule values are missing yields a skipped finding that says what it lacked; a rule
never raises, prints or plots.

The entries are data; the discriminator's and the losses' live in rules.registry_gan and rules.registry_losses.
"""

from __future__ import annotations

import math

from ..errors import ConfigError
from ..schedule import brief
from .base import HARM, Rule
from .bookkeeping import loss_bookkeeping, loss_bookkeeping_short
from .config import config_typos, config_typos_short
from .constant import loss_constant, loss_constant_short
from .dynamics import STALL_LIMITS, run_stalled, run_stalled_short
from .learning_rate import lr_schedule, lr_schedule_short
from .losses import loss_stopped, loss_stopped_short, losses_unknown, losses_unknown_short, non_finite, non_finite_short
from .registry_gan import GAN_RULES
from .registry_losses import LOSS_RULES

RULES: list[Rule] = [
    Rule("non-finite", "NaN or Inf in a metric", "error",
         "A NaN or Inf loss means the optimizer has already stepped on garbage; everything after it is suspect.",
         non_finite,
         severities=("info", "warning", "error"), topics=("ranges",), cause="non-finite", cause_rank=0,
         short=non_finite_short,
         harm=HARM["non-finite"],
         checks="NaN or Inf in any metric, with the first bad step; a few isolated points the loss recovered "
                "from (as fp16 with a gradient scaler logs) are a warning, one that says so when the loss went on"
                " 20% or more above its level across one of them (that NaN/Inf damaged the weights); before a NaN"
                " that stays, the losses and gradient norm that climbed out of their level are named with where"
                " (the divergence's onset: the checkpoint to resume from is before it); the action names that "
                "checkpoint (a file of the run whose name gives its step, else the step the config's save "
                "interval saved it at) and a lower learning rate only where the logs point at it (a climb "
                "before the NaN, the logged lr risen x1.5 just before it or above twice the config's); a NaN/Inf "
                "the optimized loss did not take in (the total, else nll or rec, finite at every point since and "
                "logged on), or one in validation only, is a warning that the weights were not damaged; a gradient "
                "norm NaN/Inf only at steps where a logged mixed-precision loss scale (`loss_scale`, `grad_scale`) "
                "dropped is the scaler skipping overflowed steps (info)"),
    Rule("losses-unknown", "No known loss logged", "warning",
         "Without a loss the checks know, nothing here says whether the model is learning: an all-clear would be "
         "unfounded.",
         losses_unknown,
         topics=("values",), can_wait=True,
         action="Log the losses under names the checks read (rec_loss, kl_loss, total_loss, ...), or rename them.",
         short=losses_unknown_short,
         checks="no logged metric is a loss the checks know (under its name or another trainer's): the run is "
                "not judged, and is not called ok"),
    Rule("loss-stopped", "A loss no longer logged", "warning",
         "A loss no longer logged can go bad unseen: what the report says of it is what it was then.",
         loss_stopped, {"intervals": 20, "share": 0.1},
         topics=("values",),
         action="Check that the trainer still logs it: a resume that dropped it from the logged keys, or a logger "
                "that stopped.",
         short=loss_stopped_short,
         harm=HARM["halted"],
         checks="a training loss last logged far behind the others (20 of its intervals and a tenth of the "
                "run): its latest value is stale"),
    *GAN_RULES,
    *LOSS_RULES,
    Rule("config-typos", "A config key that looks mistyped", "warning",
         "A mistyped key leaves its setting at the trainer's default: the run did not train with the value the config "
         "seems to give.",
         config_typos, can_wait=True, severities=("info", "warning"), about="config",
         action="Fix the key's spelling, or pass the config the run used with --config.",
         short=config_typos_short,
         checks="every key of the config found beside the run (or given with --config) that is not a setting these "
                "trainers read but one or two letters off one its section lacks (`disc_strat` for `disc_start`; a "
                "key the trainers' own configs hold, as LDM's ddconfig `z_channels`, is never one), "
                "with the value the report used instead; a key given twice in one mapping at any depth (its "
                "dotted path, both values and lines, the last one used, as PyYAML reads it; OmegaConf, which "
                "LDM and generative-models load with, refuses such a file: said so for their configs; info when "
                "both values are the same); a "
                "mapping's own key overriding one merged in with `<<: *base` is not one. Where the configs offer "
                "more than one value for `disc_start` or `kl_weight` (a key given twice; --config against the "
                "run's own config and the copy its text log printed) and the data confirm one (the switch-on at "
                "the first logged step at or after it; the weight the logged sum gives), the report uses that "
                "one and this finding names the disagreement once (a key given twice: which value the run used; "
                "configs that disagree: one finding, info where the value in use is the confirmed one); a number "
                "PyYAML reads as a string (`kl_weight: 1e-6`, no dot in the mantissa) in a config not loaded with "
                "OmegaConf (LDM's and sgm's are): info, with the spelling every loader reads. A finding about the "
                "config is at no step"),
    Rule("lr-schedule", "Learning-rate schedule", "warning",
         "A learning rate other than the config's trains differently from what was planned: at 0 the model stops "
         "learning, far below the plan it learns that many times slower, too high it diverges, stuck high it never "
         "settles.",
         lr_schedule, {"tolerance": 0.02, "far_below": 0.01, "clear": 3.0}, needs=("lr",),
         severities=("ok", "info", "warning"),
         action="Check the scheduler (restored on resume?) and any manual change of the learning rate.",
         short=lr_schedule_short,
         harm=HARM["lr"],
         checks="the logged learning rate against the config at every stretch of the run (the worst window, "
                "not the mean): the scheduler the config names, in any layout (`scheduler: cosine`, "
                "`lr_scheduler_type: linear` with `warmup_steps`, `lr_scheduler: {type: CosineAnnealingLR, "
                "T_max, eta_min}`, torch's `StepLR`, `MultiStepLR` and `ExponentialLR` stepped once a step or "
                "once an epoch of the config's `steps_per_epoch`, LDM/sgm's `scheduler_config` target "
                "`LambdaLinearScheduler` or "
                "`LambdaWarmUpCosineScheduler`; a warm-up key inside a KL/beta/discriminator section is not the "
                "lr's; a warm-up starts where the config says: `warmup_start_lr`, `warmup_init_lr`, "
                "`warmup_lr_init`, or a factor of the base rate, `start_factor`, `warmup_factor`, mmcv's "
                "`warmup_ratio` beside `warmup_iters`; else from 0), by its library's formula (LDM's main.py "
                "scaling of the base rate allowed; a decay sized "
                "under half the logged steps, a `T_max` in epochs, is described unless the lr is constant); a "
                "config that "
                "names only a warm-up (or a decay of no known "
                "length) has its warm-up judged and the rest described; else constant, or, for RadioDiff's "
                "layout only, RadioDiff's decay (its `min_lr` multiplier floor) or the bundled trainer's decay "
                "floored at `min_lr`, allowing RadioDiff's "
                "one-step shift; names the step where lr drops to 0, freezes, jumps or drifts off (a constant "
                "rate where the schedule decays is dated where the two first differ by `tolerance`; a rate "
                "`clear` times off the schedule or more from some step to the end is dated there and said as "
                "how far below or above from where the schedule reaches its rate, \"stuck at\" when it holds "
                "one value, a warm-up that never ran when that is its start value, with the reconstruction's "
                "change over the stretch); LDM's "
                "scaled constant rate is explained when its factor is `accumulate_grad_batches` x `batch_size`"
                " x a whole number of GPUs (any other constant multiple is a warning), a constant rate under "
                "`far_below` x the base rate is a warning (a warm-up stuck at its start), an LDM/sgm rate "
                "shaped by a scheduler the config keys do not describe is described (info, never RadioDiff's "
                "decay); a scheduler the report does not model (`OneCycleLR`, `ReduceLROnPlateau`, a name it does "
                "not know) is named and its lr described (info), never said to be absent; another trainer's "
                "config (`flat` layout) that names no scheduler: its lr is described, "
                "not judged (\"decays linearly from 1e-04 to 1e-06 over steps 0-20,000\", info) unless it is "
                "exactly 0 from some step to the end (a tenth of the points or more: a warning, dated there); an lr "
                "printed with too few decimals (RadioDiff's `{:.5f}`, also in a CSV parsed from its log) is a "
                "precision artefact (info), never a schedule fault; a rate logged exactly is the rate; whatever "
                "the config says, a rate above 0 and below 1e-7 over its latest stretch (a tenth of the logged run "
                "or more, not the last tenth of a known total a decay reaches by design) is a warning: the run "
                "barely trains there (ReduceLROnPlateau without a floor)"),
    Rule("run-stalled", "Training stalled", "warning",
         "A learning rate of 0, or losses frozen to float precision, trains nothing: the compute spent there is "
         "wasted, the run ends with the weights it had when it stopped, and a steady loss there is no sign of health.",
         run_stalled, dict(STALL_LIMITS), needs=("rec_loss|total_loss|nll_loss",),
         topics=("values",), explains=("lr-to-zero",),
         action="Check the optimizer's learning rate and that the batches change.",
         short=run_stalled_short,
         harm=HARM["halted"],
         checks="losses flat to float precision over the latest stretch (every such loss named, the KL and GAN "
                "terms too), or a logged lr of exactly 0 over 3 points or more (a hundredth of the run or more, or"
                " up to its end): nothing trained there; says how many steps, what share of the run and which "
                "phases, which weights the run ends with and the checkpoint to resume from (a stretch the lr came "
                "back from is info); the trend, level and GAN checks do not judge such a stretch. A stretch of lr "
                "0 over which rec fell 10% or more beyond its noise is no stall: a warning that the logged lr is "
                "likely not the optimizer's (run-stalled withheld); a logged mixed-precision loss scale that only "
                "fell, to below 1e-3, up to the last log: every step skipped, a stall dated where its fall began"),
    Rule("loss-bookkeeping", "Loss bookkeeping", "warning",
         "A total that does not add up from its terms means the logged weights, sources or config are not the ones "
         "the trainer used: every share and weight the report quotes may then be wrong.",
         loss_bookkeeping, {"tolerance": 0.01}, needs=("total_loss", "rec_loss", "kl_loss|quant_loss"),
         severities=("ok", "info", "warning"), topics=("ranges",), can_wait=True,
         threshold_notes={"tolerance": "median relative error, in each phase"},
         action="Check that the logged terms come from the same batch and source, and the weights the trainer applies.",
         short=loss_bookkeeping_short,
         checks="`total = nll + kl_weight·kl + d_weight·disc_factor·g` (VQ: `codebook_weight·quant_loss`, nll "
                "a per-pixel mean) from the logged terms, in each phase (before and since the switch-on) apart; "
                "disc_factor not logged is the schedule's; a sum that holds before the switch-on and is off by the "
                "adversarial term after it, in logs without that term, is said as such (info); the pixels per "
                "sample inferred from `nll / rec` (or from the total), compared with the config; recognises "
                "RadioDiff's averaged TensorBoard total; a sum within the tolerance only because the KL term is a "
                "sliver of it, that another kl_weight (twofold off or more) fits a hundred times closer: a "
                "warning naming the weight the run used"),
    Rule("loss-constant", "A loss that never changes", "warning",
         "A term that never moves is computed but never trained: its part of the objective does nothing (a "
         "discriminator that never learns, a term detached from the graph).",
         loss_constant, {"precision": 1e-4, "min_points": 10},
         topics=("values",),
         action="Check that its optimizer steps, that its parameters get gradients (requires_grad, not detached) and "
                "that its learning rate is not 0.",
         short=loss_constant_short,
         checks="a training loss at the same value (within `precision` of its level) at every point, GAN terms "
                "from `disc_start` on (a discriminator at 2 ln 2 = 1.3863 throughout): computed but never "
                "trained; exactly 0 is left to the rules that know when a term is off"),
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
            accepted = _accepted(name, known[rule_id].thresholds[name])
            if not (math.isfinite(number) and accepted[0](number)):
                raise ConfigError(f"{origin}: {rule_id}.{name} must be {accepted[1]}, got {brief(value)}")
            out.setdefault(rule_id, {})[name] = number
    return out


MAX_THRESHOLD = 1e12  # "never" in any unit the checks use, and no overflow when multiplied by a run's length


def _accepted(name: str, default: float) -> tuple:
    """(test, what it means) for a threshold: a window of points (its default a whole number) is a whole number
    >= 1; a window or tail given as a share of the run (its default below 1) lies in (0, 1]; anything else is
    a number from 0 to 1e12."""
    counted = isinstance(default, int) and ("window" in name or "intervals" in name)
    if counted:
        return (lambda x: 1 <= x <= 1e9 and x == int(x)), "a whole number of points from 1 to 1e9"
    if name in ("window", "tail") and default < 1:
        return (lambda x: 0 < x <= 1), "a share of the run above 0 and at most 1"
    return (lambda x: 0 <= x <= MAX_THRESHOLD), "a finite number from 0 to 1e12"



def registered(rule_id: str) -> Rule | None:
    """The registered rule of that id (read from RULES at the call: a rule added to it is found), or None."""
    return next((rule for rule in RULES if rule.id == rule_id), None)


def rules_on(topic: str) -> tuple[str, ...]:
    """The ids of the rules whose findings answer a Q&A topic ("kl", "ranges", "values", "balance")."""
    return tuple(rule.id for rule in RULES if topic in rule.topics)


def rule_table(rules: list[Rule] | None = None) -> str:
    """The README's rule table, generated from the registry: id, what it checks, the severities its cases raise,
    its thresholds."""
    lines = ["| Rule id | Checks | Severity | Thresholds |", "|---|---|---|---|"]
    for rule in rules or RULES:
        limits = ", ".join(f"`{name}` {value:g}" + (f" ({rule.threshold_notes[name]})"
                                                    if name in rule.threshold_notes else "")
                           for name, value in rule.thresholds.items()) or "—"
        lines.append(f"| `{rule.id}` | {rule.checks} | {' / '.join(rule.raises())} | {limits} |")
    return "\n".join(lines) + "\n"
