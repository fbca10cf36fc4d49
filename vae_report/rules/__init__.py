"""The rule registry: one list, each rule data (id, title, severity, rationale, thresholds) plus one function.

A rule whose metrics or schedule values are missing yields a skipped finding that says what it lacked; a rule
never raises, prints or plots.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ..errors import ConfigError
from ..numbers import fmt
from ..schedule import Schedule, brief
from .adversarial import d_weight_pinned, d_weight_pinned_short, gan_term_dominant, gan_term_dominant_short
from .base import HARM, RANK, SEVERITIES, Case, Finding, Metrics, Rule, names_titles
from .bookkeeping import loss_bookkeeping, loss_bookkeeping_short
from .collapse import codebook_collapse, codebook_collapse_short, kl_collapse, kl_collapse_short
from .config import config_typos, config_typos_short
from .constant import loss_constant, loss_constant_short
from .current import loss_now, loss_now_short, steady_without
from .decomposition import regularizer_share
from .discriminator import (
    disc_active_before_start,
    disc_active_before_start_short,
    disc_inactive_after_start,
    disc_inactive_after_start_short,
    disc_never_trained,
    disc_never_trained_short,
    disc_off_before_start,
    disc_off_before_start_short,
    disc_start_past_end,
    disc_start_past_end_short,
    gan_never_ran,
    phase_start,
)
from .dynamics import (
    STALL_LIMITS,
    divergence,
    divergence_short,
    liveness,
    liveness_short,
    resumes,
    resumes_short,
    run_stalled,
    run_stalled_short,
)
from .episodes import loss_episode, loss_episode_short
from .gan import (
    disc_at_chance,
    disc_level_short,
    disc_overpowering,
    generator_winning,
    rec_after_disc,
    rec_after_disc_short,
)
from .gradients import grad_norm, grad_norm_short
from .grouping import (
    cite_consequences,
    cite_explained,
    group_by_cause,
    loud_metrics,
    mark_restated,
    point_to_gradient,
    qualify_ok,
)
from .kl import kl_dominant, kl_dominant_short, kl_negative, kl_negative_short, kl_rising, kl_rising_short
from .learning_rate import lr_schedule, lr_schedule_short
from .losses import (
    loss_stopped,
    loss_stopped_short,
    losses_unknown,
    losses_unknown_short,
    non_finite,
    non_finite_short,
    rec_trend,
    total_trend,
    trend_short,
)
from .lr_range import blame_lr
from .oscillation import gan_oscillation, gan_oscillation_short
from .shifts import loss_shift, loss_shift_short
from .spikes import spikes, spikes_short
from .untrained import judged_out, not_judged, reason
from .validation import val_missing, val_missing_short, val_overfitting, val_overfitting_short

_TREND = {"worse": 0.10, "flat": 0.02}

RULES: list[Rule] = [
    Rule("non-finite", "NaN or Inf in a metric", "error",
         "A NaN or Inf loss means the optimizer has already stepped on garbage; everything after it is suspect.",
         non_finite,
         severities=("warning", "error"), topics=("ranges",), cause="non-finite", cause_rank=0,
         short=non_finite_short,
         harm=HARM["non-finite"],
         checks="NaN or Inf in any metric, with the first bad step; a few isolated points the loss recovered "
                "from (as fp16 with a gradient scaler logs) are a warning, one that says so when the loss went on"
                " 20% or more above its level across one of them (that NaN/Inf damaged the weights); before a NaN"
                " that stays, the losses and gradient norm that climbed out of their level are named with where"
                " (the divergence's onset: the checkpoint to resume from is before it); the action names that "
                "checkpoint (a file of the run whose name gives its step, else the step the config's save "
                "interval saved it at) and a lower learning rate only where the logs point at it (a climb "
                "before the NaN, the logged lr risen x1.5 just before it or above twice the config's)"),
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
    Rule("disc-off-before-start", "Discriminator silent before disc_start", "info",
         "adopt_weight multiplies the GAN terms by 0 while step < disc_start, so a disc_loss of exactly 0 is expected.",
         disc_off_before_start, needs=("disc_factor|disc_loss",), needs_schedule=("disc_start",),
         severities=("ok", "info"),
         short=disc_off_before_start_short,
         checks="`disc_factor` / `disc_loss` exactly 0 before `disc_start` (expected); a `disc_loss` not 0 where "
                "`disc_factor` is (the LDM loss logs their product): info, the logged loss is unweighted or on "
                "another counter, and no sentence says it was 0"),
    Rule("disc-inactive-after-start", "Discriminator on from disc_start", "error",
         "Without the discriminator the autoencoder never gets its adversarial term: reconstructions stay as blurry "
         "as the pixel loss leaves them, where the GAN phase should sharpen them.",
         disc_inactive_after_start, needs=("disc_factor|disc_loss",), needs_schedule=("disc_start",),
         severities=("ok", "warning", "error"),
         short=disc_inactive_after_start_short,
         harm=HARM["gan"],
         checks="the discriminator still off at logged steps `>= disc_start` (an error; a non-zero `disc_factor` "
                "is not advised to be checked); where the config sets `disc_factor: 0`, a warning that names the "
                "key: the config turns the adversarial term off, so no adversarial phase runs, intended or not "
                "(set it to 1 at its key path if the GAN was meant to train; the GAN checks are not applicable); "
                "on, but only well after disc_start (off at two or more logged steps past it, more than 2% of "
                "disc_start late): a warning that dates the switch-on, names the multiple of disc_start where it is "
                "one (a micro-batch or two-optimizer counter), and the phases follow the data"),
    Rule("disc-start-past-end", "Discriminator scheduled past the end of training", "warning",
         "A discriminator scheduled after the run's last step never trains: the autoencoder gets no adversarial "
         "term, and its reconstructions stay as blurry as the pixel loss leaves them.",
         disc_start_past_end, {"sentinel": 10.0}, needs_schedule=("disc_start", "total_steps"), can_wait=True,
         about="config",
         severities=("info", "warning"),
         action="If a GAN phase was intended, set disc_start below the total (or train longer); if not, set "
                "disc_factor to 0 so that the config says so.",
         short=disc_start_past_end_short,
         checks="the config's `disc_start` at or past its total (`max_steps`, `train_num_steps`), unless the data "
                "show the discriminator on: the adversarial phase never comes (a warning; info from `sentinel` "
                "times the total on, the usual way to turn the GAN off)"),
    Rule("disc-active-before-start", "Discriminator active before disc_start", "warning",
         "A discriminator on before its schedule means the run used another config or counts steps in another unit: "
         "the phases, milestones and checks placed by disc_start are then off.",
         disc_active_before_start, {"half_tolerance": 0.1}, needs=("disc_factor|disc_loss",),
         needs_schedule=("disc_start",),
         severities=("info", "warning"), can_wait=True,
         action="Check which config this run used, and in what unit its trainer counts disc_start.",
         short=disc_active_before_start_short,
         checks="the discriminator on before `disc_start`; at about half of it, explained as Lightning "
                "counting both optimizers' steps (info), else a config mismatch (warning)"),
    Rule("disc-never-trained", "Discriminator never stepped (RadioDiff config)", "warning",
         "A discriminator that never trains judges reconstructions at random: the adversarial term pushes the "
         "autoencoder with noise instead of sharpening it.",
         disc_never_trained,
         topics=("values",),
         action="Set trainer.gradient_accumulate_every to 2.",
         short=disc_never_trained_short,
         harm=HARM["gan"],
         checks="a RadioDiff config with `trainer.gradient_accumulate_every: 1`: its trainer steps the "
                "discriminator only on the second pass, so it never trains"),
    Rule("disc-overpowering", "Discriminator overpowering the generator", "warning",
         "A discriminator that has won stops learning wherever it clears its margin, while the adversarial term it "
         "feeds keeps growing in the objective: the autoencoder is pushed away from reconstructing, and "
         "reconstructions often degrade.",
         disc_overpowering, {"window": 0.2, "below_chance": 0.3, "logit_gap": 1.0, "ahead": 0.6, "fell": 0.3,
                             "g_rise": 0.5}, needs=("disc_loss",),
         needs_schedule=("disc_start",),
         topics=("balance",), explains=("adversarial-rise",),
         action="Weaken the discriminator itself: its learning rate, its capacity, or noise or augmentation on its "
                "inputs. Where reconstruction has suffered, also lower disc_weight, so that the autoencoder chases "
                "the discriminator less (it scales only the generator's adversarial term, not the discriminator's "
                "own loss).",
         look="GAN artefacts",
         short=disc_level_short,
         harm=HARM["gan"],
         checks="after `disc_start`, at the current levels (the statistics table's Now): D loss below 30% of "
                "its chance level (hinge 1, vanilla ln 2) with `logits_real` and `logits_fake` separated (the "
                "discriminator has won); or pulling ahead, all its signals together: D loss fallen by `fell` x "
                "chance from its level at the phase's start (its first 5% of points there) to below `ahead` x "
                "chance, the logits apart and `g_loss` up by `g_rise`,"
                " with the adversarial term `d_weight·g_loss` then and now, dated where the D loss left its "
                "early level",
         judges="adversarial"),
    Rule("disc-at-chance", "Discriminator at chance, or not learning", "warning",
         "A discriminator that does not learn gives the autoencoder an adversarial term that carries no information: "
         "it costs compute and can add artefacts (near chance but learning is the healthy equilibrium).",
         disc_at_chance, {"band": 0.05, "min_steps": 10_000, "min_intervals": 10, "share": 0.5}, needs=("disc_loss",),
         needs_schedule=("disc_start",),
         severities=("ok", "info", "warning"), topics=("balance",), explains=("gan-term-constant",),
         action="Check that the discriminator's optimizer steps, that its parameters get gradients and that its "
                "learning rate is not 0.",
         short=disc_level_short,
         checks="after `disc_start`, D loss near its chance level (hinge 1, vanilla ln 2): an equilibrium is "
                "not a fault, however long (ok early, info when long: `min_steps` steps, or `min_intervals` "
                "logging intervals in a log counted in epochs, and `share` of the adversarial phase; both readings "
                "explained), dated from "
                "the first step from which it holds one steady level (chunk medians within `band`, or four times "
                "a chunk median's noise, of the stretch's own median); a warning"
                " only with evidence that D does not learn: logits frozen to float precision or identical "
                "real/fake, its lr 0, its loss exactly constant",
         judges="adversarial"),
    Rule("generator-winning", "Generator winning the GAN game", "warning",
         "A critic that has lost rates reconstructions as real whatever they look like: the adversarial term then "
         "pushes the autoencoder toward whatever fools it, not toward sharper images.",
         generator_winning, {"window": 0.2, "above_chance": 0.25, "inverted_share": 0.7, "weight_growth": 30.0,
                             "g_runaway": 1.0}, needs=("disc_loss|d_weight|g_loss",), needs_schedule=("disc_start",),
         severities=("info", "warning"), topics=("values", "balance"), explains=("adversarial-rise", "term-grown"),
         action="Lower disc_weight, so that the autoencoder chases the discriminator less (it scales only the "
                "generator's adversarial term); do not weaken the discriminator itself (its learning rate, its "
                "capacity): it is the side losing.",
         look="GAN artefacts",
         short=disc_level_short,
         harm=HARM["gan"],
         checks="the other side of the balance after `disc_start`: D loss above chance now, `logits_fake` "
                "above `logits_real` at `inverted_share` of the points of the latest fifth, `d_weight` grown "
                "`weight_growth`-fold or `g_loss` run away from its level at the phase's start to its current "
                "level (the statistics table's Now, quoted with the logits' levels)",
         judges="adversarial"),
    Rule("gan-oscillation", "GAN balance oscillating", "warning",
         "A discriminator that wins, then is fooled, then wins again gives the autoencoder an adversarial term that "
         "changes direction with each swing: no equilibrium is reached, and reconstructions are pulled back and "
         "forth with it.",
         gan_oscillation, {"band": 0.3, "swings": 4, "least": 5, "min_points": 60}, needs=("disc_loss",),
         needs_schedule=("disc_start",), topics=("balance",), explains=("adversarial-rise",),
         action="Damp the adversarial game: lower the discriminator's learning rate (its own optimizer's lr) or add a "
                "gradient penalty (R1) to it, and check that the trainer steps the two optimizers as intended (one "
                "discriminator step per autoencoder step); resume from the latest checkpoint.",
         look="GAN artefacts that come and go",
         short=gan_oscillation_short,
         checks="after `disc_start`, the discriminator's loss (a moving median of a few points) swinging from "
                "`band` below its chance level (winning) to `band` above it (fooled) and back, `swings` times or "
                "more, each stretch `least` points or longer: the swings, their period, whether the logits swap "
                "with them and how rec_loss moves with them",
         judges="adversarial"),
    Rule("d-weight-pinned", "Adaptive weight pinned at its clamp", "warning",
         "At its clamp the adaptive weight no longer balances the GAN term against the reconstruction: the GAN term's "
         "weight is fixed at 1e4 x disc_weight whatever the gradients say.",
         d_weight_pinned, {"window": 0.2, "at_ceiling": 0.99, "share": 0.5, "burst_worse": 0.5}, needs=("d_weight",),
         needs_schedule=("disc_start", "disc_weight"),
         severities=("info", "warning"), topics=("balance", "ranges"), can_wait=True,
         action="If the adversarial term is too strong, lower disc_weight, so that the autoencoder chases the "
                "discriminator less (it scales only the generator's adversarial term).",
         look="GAN artefacts",
         short=d_weight_pinned_short,
         checks="after `disc_start`, `d_weight` at its clamp `1e4 × disc_weight` for most recent points: the "
                "adaptive weight no longer adapts; when nll sums over thousands of pixels (RadioDiff) the "
                "finding names that as the likely reason, dated where the clamp became frequent (the split of "
                "the phase whose at-clamp shares differ most, then its first point there: a clamp that comes and "
                "goes is dated at its first burst, not its latest stretch); at the clamp in recurring bursts, "
                "not most recent points: each burst listed, a warning when rec rises `burst_worse` or more"
                " in them against just before (those points are then not called spikes); `d_weight` exactly 0 "
                "after `disc_start` is no clamp but an adversarial term weighted by 0 (`disc_weight` 0 in the "
                "config, or no gradient at the decoder's last layer), titled and explained as such",
         judges="adversarial"),
    Rule("gan-term-dominant", "Adversarial term dominating the objective", "warning",
         "Once the adversarial term d_weight x disc_factor x g_loss outweighs the nll, the autoencoder is trained "
         "mostly to fool the discriminator; a term that grew to that size is a balance that tipped.",
         gan_term_dominant, {"share": 0.5, "growth": 3.0}, needs=("total_loss", "rec_loss", "d_weight", "g_loss"),
         needs_schedule=("disc_start",),
         severities=("info", "warning"), topics=("balance", "ranges"), explains=("adversarial-rise",),
         action="Lower disc_weight, so that the autoencoder chases the discriminator less (it scales only the "
                "generator's adversarial term).",
         look="GAN artefacts",
         short=gan_term_dominant_short,
         checks="after `disc_start`, the adversarial term `d_weight·disc_factor·g_loss` (from the loss's own "
                "bookkeeping) at `share` or more of the loss's size, the share the breakdown of total_loss gives "
                "(the sum of the terms' absolute values over the total's latest stretch, with nll counted as one "
                "term; \"dominates\" only when its least share under the terms' noise is two thirds or more): a "
                "warning when its mean size grew `growth`-fold from the phase's first 5% of points (dated there, "
                "with `d_weight` and `g_loss` as they moved, and the config's `disc_weight`); steady since the "
                "switch-on is info; a term whose mean is within its noise (twice its standard error) there gets "
                "no share, and the finding says why",
         judges="adversarial"),
    Rule("rec-after-disc", "Reconstruction after the discriminator starts", "warning",
         "Reconstruction that gets worse once the GAN starts is the price of the adversarial term: a small one is "
         "usual, a growing one costs the model what it is trained for.",
         rec_after_disc, {"window": 0.2, "worse": 0.1}, needs=("rec_loss",), needs_schedule=("disc_start",),
         severities=("ok", "info", "warning"), cause="shape", cause_rank=3, heads_switch_on=True,
         action="If the rise persists, lower disc_weight, so that the autoencoder chases the discriminator less "
                "(it scales only the generator's adversarial term).",
         look="GAN artefacts",
         short=rec_after_disc_short,
         checks="reconstruction's current level (the statistics table's Now) after `disc_start` against its level "
                "just before it (the last 5% of the points of the phase before, as rec-trend takes it), dated "
                "where the rise turned (a step's first point, or where a level-then-ramp fit up to the current "
                "level turns, as `loss-shift` dates a shift); a rise "
                "names the config's `disc_weight` as the lever (and its multiple of the usual 0.5) with the "
                "adversarial term against the nll (its value is not its pull: the adaptive d_weight scales its "
                "gradient); a rise held for a quarter of the phase or more has persisted (lower disc_weight, at its "
                "key path), a fresher one is watched; a rise that came across a NaN/Inf step long after the "
                "switch-on is that step's (info, see `non-finite`)",
         judges="adversarial"),
    Rule("loss-now", "Losses in the latest logs", "error",
         "A loss that goes bad in the latest logs is training going wrong now, even while its trend over the whole "
         "run still looks fine: every step from there may be wasted or harmful.",
         loss_now, {"noise_factor": 6.0, "tail": 0.05, "slow_rise": 0.15, "lr_far": 30.0},
         needs=("total_loss|rec_loss|nll_loss|kl_loss|quant_loss|g_loss|disc_loss|val/rec_loss|val/nll_loss|"
                "val/total_loss",),
         severities=("ok", "info", "warning", "error"), cause="shape", cause_rank=1,
         action="Look at what changed where the rise began (learning rate, data, a NaN nearby), and resume from a "
                "checkpoint before it if it does not recover.",
         short=loss_now_short,
         harm=HARM["divergence"],
         checks="every loss (total, nll, rec, kl, g, disc, quant; a run that logs only validation: its val/ rec, "
                "nll and total) now: its latest level against its own best "
                "of the recent stretch and its noise, within the current phase; the onset is a CUSUM change "
                "point; ×10 above the recent best (×100 for KL) is an error; a slow rise of rec, nll, total, "
                "quant or p of `slow_rise` or more, far beyond the two medians' noise and held over the latest three "
                "tails: a steady climb (a ramp, not a step; over at least two tails of points, each changing less than "
                "the noise; never falling back by half its rise) is measured from its lowest level since the "
                "loss was last as high as now, not from the best of the recent stretch (part of the climb), and "
                "dated where a fit of two joined lines (a level or a fall, then the climb) turns; otherwise "
                "against the recent best, dated where a level-then-ramp fit turns (or where a level steps up, "
                "when a step fits better); a rise across a NaN/Inf step is dated there and linked to it; a "
                "rec/nll rise names a config lr `lr_far` times off the trainer's documented one (RadioDiff 5e-6, "
                "LDM 4.5e-6)",
         judges="latest"),
    Rule("grad-norm", "Gradient norm growing under clipping", "warning",
         "Clipping rescales every update whose gradient norm is above the clip, so a norm that keeps growing under "
         "it hides a steepening loss surface: the losses only drift up slowly while the updates shrink.",
         grad_norm, {"growth": 3.0, "binding": 0.5},
         action="Lower the learning rate, or find what steepens the loss (a term, the data) where the norm began to "
                "grow: clipping hides the growth, it does not stop it.",
         severities=("info", "warning"),
         short=grad_norm_short,
         checks="a logged gradient norm taken before clipping (`grad_norm`, `grad_norm_preclip`, `total_norm`, "
                "`gnorm`, `grad_2.0_norm_total`, ...) grown `growth`-fold from the lowest level before its climb "
                "to its current level (dated where the climb began), within the current phase: a warning while "
                "it is above the clip at `binding` or more of the latest fifth of its points (the clip from the "
                "config in any layout: `gradient_clip_val`, `max_grad_norm`, `gradient_clipping`, `clip_norm`, "
                "`grad_clip`, a `max_norm` under a clipping section; else the value a logged clipped norm sits "
                "at), info when the clip does not bind or none is known; a norm that climbed into a NaN/Inf that "
                "stays is quoted as the `non-finite` finding tells that climb (its onset, baseline and peak)"),
    Rule("val-overfitting", "Validation against training", "warning",
         "Validation that rises while training falls means the model is memorising its training set: checkpoints "
         "after the best validation level generalise worse (that step's checkpoint is the one to keep); validation "
         "far above training from the start measures something else than training does.",
         val_overfitting, {"rise": 0.1, "gap_growth": 3.0, "gap_static": 3.0},
         severities=("ok", "info", "warning"), topics=("values",), cause="overfitting", cause_rank=5,
         action="Keep the checkpoint of the best validation level, add data or augmentation, or stop here.",
         short=val_overfitting_short,
         checks="`val/*` / `val_ema/*` reconstruction rising from its best while the training loss keeps "
                "falling (a rise made mostly of one jump between two evaluations that stays is no overfitting but "
                "a step in validation only, dated at the evaluation after the jump: a change in what validation "
                "measures) (training rising too, by `rise` beyond its noise, is no overfitting: info, naming the "
                "discriminator's switch-on and `disc_weight` when it lies between), with the step of the best "
                "and the train/val gap then and now; or, with validation flat at its best, the val/train ratio "
                "grown `gap_growth`-fold (at least 2) because training kept falling (a small or repeated "
                "training subset); the total compared within the current phase; a validation rec/nll "
                "`gap_static` times training from its first point on (another distribution or preprocessing, "
                "not overfitting)",
         judges="latest"),
    Rule("val-missing", "Validation missing", "warning",
         "Without the validation the config runs, nothing shows whether the model generalises or overfits.",
         val_missing,
         can_wait=True,
         action="Check that validation runs and logs its losses (the config's val_every).",
         short=val_missing_short,
         checks="the config runs validation every N steps (`val_every`) but no `val/*` metric is logged, or it"
                " stopped"),  # silent when the config runs no validation: nothing is missing then
    Rule("kl-rising", "KL rising under a tiny kl_weight", "warning",
         "KL is summed over latent dimensions and weighted by ~1e-6: it grows while the encoder uses its latents, "
         "and matters only if the weighted term becomes a real share of the loss.",
         kl_rising,
         {"rise": 0.10, "tiny_weight": 1e-4, "light_share": 0.10, "compound": 0.2, "per_dim_unusual": 30.0,
          "per_dim_high": 100.0}, needs=("kl_loss",),
         needs_schedule=("kl_weight",), regularizer="kl",
         severities=("ok", "info", "warning"), topics=("kl",), cause="shape", cause_rank=6,
         action="Raise kl_weight, or check the encoder's log-variance output (a clamp, a missing exp).",
         short=kl_rising_short,
         checks="(KL models; not applicable to VQ) KL's level rising from its start level to its current level (the "
                "statistics table's Start and Now): expected under a tiny weight while the weighted term stays light "
                "(info above the weight or the share); a rise to 100 times the start or more is no slow rise but a "
                "posterior running away (warning); growing more than `compound` per tenth of the run in its last "
                "three tenths without slowing down: a late runaway (warning, dated by a level-then-ramp fit); a "
                "level of `per_dim_unusual` nats per latent dimension or more is not called expected (info; a "
                "warning from `per_dim_high`), against the ~10.4 of RadioDiff's published first stage",
         judges="latest"),
    Rule("kl-dominant", "KL term dominating the loss", "warning",
         "With the KL term a real share of the objective, the autoencoder trades reconstruction for a prior-like "
         "latent space: rarely what a first-stage model for diffusion wants.",
         kl_dominant, {"share": 0.10}, needs=("kl_loss", "total_loss"), needs_schedule=("kl_weight",),
         regularizer="kl", severities=("info", "warning"),
         topics=("kl", "ranges"), cause="shape", cause_rank=7, cause_cases=("kl-exploded",),
         action="If a light regularizer was intended, lower kl_weight, so that the KL term weighs less against "
                "the reconstruction.",
         short=kl_dominant_short,
         checks="the weighted KL term's share of the loss, the one the breakdown of total_loss gives (of the "
                "loss's size: the sum of its terms' absolute values over the total's latest stretch, with nll "
                "counted as one term, and none where other terms are within their noise there; without the terms, "
                "of the total's current level when positive), a warning for an "
                "LDM-style first stage (a discriminator or the LDM "
                "loss), info for a plain VAE, whose KL is part of its objective by design; when KL itself exploded, "
                "says so instead of advising a lower "
                "kl_weight; when `kl_weight x kl_loss` alone exceeds a positive logged total, the weight applies "
                "to another scale (a per-dimension mean, a beta schedule): said (info), no share claimed"),
    Rule("kl-negative", "KL below zero", "error",
         "A KL divergence is a sum of non-negative terms; a negative kl_loss is a sign error in the loss or another "
         "quantity under that name, and every KL-based check is meaningless on it.",
         kl_negative, needs=("kl_loss",), regularizer="kl",
         topics=("kl", "values", "ranges"),
         action="Check the KL term's sign in the loss, and what is logged under kl_loss.",
         short=kl_negative_short,
         checks="`kl_loss` below 0 at any point: a KL divergence never is, so it is a sign error or another "
                "quantity"),
    Rule("kl-collapse", "Posterior collapse", "warning",
         "A collapsed posterior carries almost nothing about the input: the decoder reconstructs from next to "
         "nothing, and a diffusion model trained on those latents has little to learn from.",
         kl_collapse, {"fraction_of_peak": 0.1, "nats_per_dim": 0.01}, needs=("kl_loss",), regularizer="kl",
         severities=("info", "warning"), topics=("kl",),
         action="Check kl_weight and the decoder's capacity.",
         look="inputs reconstructed from next to nothing (blurry, alike)",
         short=kl_collapse_short,
         checks="KL's recent level fallen to a small fraction of its peak, or below 0.01 nats per latent "
                "dimension whatever its history (posterior collapse; dated from where it holds there, not a first "
                "stray dip), judged with `kl_weight`: above 1e-4 the term "
                "pulls the posterior to the prior, a collapse whatever reconstruction did (annealing, free bits); "
                "at or below, a reconstruction that kept improving means the logged KL is not the posterior's "
                "information (titled \"KL fallen far below its peak\", check how it is logged); a fall to a level "
                "still 1 nat or more per latent dimension is no collapse (info: a runaway falling back)"),
    Rule("codebook-collapse", "Codebook collapse (VQ)", "warning",
         "A codebook collapsed onto a few codes limits what the decoder can reconstruct: the rest of the codebook is "
         "dead weight.",
         codebook_collapse, {"fraction_of_peak": 0.2},
         topics=("values",),
         action="Look at codebook_weight and the commitment term; re-initialise dead codes (k-means restarts) or use "
                "a lower codebook dimension.",
         short=codebook_collapse_short,
         checks="a VQ codebook's perplexity or usage metric (`perplexity`, `codebook_usage`, `codebook_util`, "
                "...) fallen to `fraction_of_peak` of its peak"),
    Rule("rec-trend", "Reconstruction trend", "warning",
         "A reconstruction error that stops falling or rises means the autoencoder is no longer getting better at "
         "what it is trained for.",
         rec_trend, {**_TREND, "min_steps": 2000}, needs=("rec_loss",),
         severities=("ok", "info", "warning"), cause="shape", cause_rank=4,
         action="Check the learning rate and the data where it began to rise.",
         look="what got worse",
         short=trend_short,
         checks="reconstruction's level per phase, from its start level (before the discriminator: the statistics "
                "table's Start; in the adversarial phase: its first 5% of points there) to its current level (the "
                "phase before: its last 5% of points, the level just before the switch-on); logged from the "
                "run's start and never 10% below the median of its first 3 points over 2,000+ steps (a short run: "
                "10+ points over 100+ steps): not learning, the learning rate named when far out of range; in the "
                "adversarial phase its change is quoted from the level just before the switch-on "
                "(as `rec-after-disc` quotes it) and the trend within the phase said in a word",
         judges="latest"),
    Rule("total-trend", "Total-loss trend within the current phase", "warning",
         "A total that rises within a phase means the objective being optimised is getting worse; its jump when the "
         "GAN term switches on is not a regression.",
         total_trend, dict(_TREND), needs=("total_loss",),
         severities=("ok", "info", "warning"), can_wait=True, cause="shape", cause_rank=5,
         action="Check the learning rate and the data where it began to rise.",
         short=trend_short,
         checks="the total's median level within the current phase (the jump when the GAN term switches on is "
                "not a regression)",
         judges="latest"),
    Rule("divergence", "Sustained growth of a loss", "warning",
         "A loss that grows steadily is a run diverging: left alone it ends in NaN/Inf or in useless weights.",
         divergence, {"min_points": 5, "step_growth": 0.05, "total_growth": 0.3}, needs=("total_loss|rec_loss",),
         cause="shape", cause_rank=2,
         action="Lower the learning rate, or resume from a checkpoint before the growth began.",
         short=divergence_short,
         harm=HARM["divergence"],
         checks="total (within the current phase), rec or nll whose median rises in each quarter of the latest"
                " half of the run",
         judges="latest"),
    Rule("spikes", "Transient spikes", "info",
         "A robust outlier test (rolling median and MAD) finds spikes that return to the previous level.",
         spikes, {"window": 25, "mad_factor": 12, "recovery": 0.2}, needs=("total_loss|rec_loss|kl_loss",),
         short=spikes_short,
         checks="transient outliers (rolling median and MAD) that return to the previous level, consecutive ones "
                "one spike (its span said); a leading stretch of one exact value (a term off by design) is left out "
                "of the noise; a level shift is not a spike; the spikes of several losses in the same steps (spans "
                "overlapping within a logging interval) are one finding on the loss that leads them (rec, kl, "
                "disc, g, then nll and the total built from them), the others named with it"),
    Rule("loss-episode", "A past rise of a loss, recovered", "warning",
         "Trends and the current level judge a phase by its ends: a loss that went up for a while in the middle "
         "of a phase and came back (an lr spike, a bad data shard, a regularizer pulling it) leaves no other "
         "trace, yet says where the run was fragile.",
         loss_episode, {"rise": 0.2, "kl_rise": 1.0, "noise_factor": 6.0, "min_points": 8, "large": 1.0,
                        "recent": 0.2},
         action="Look at what changed where it began (the learning rate, the data, the KL term); if it recurs, "
                "resume from a checkpoint before it.",
         needs=("total_loss|rec_loss|nll_loss|aeloss|p_loss|quant_loss|kl_loss",),
         severities=("ok", "info", "warning"), can_wait=True,  # over: worth a look, no reason to stop the run
         short=loss_episode_short,
         checks="every training loss that should fall or hold (rec, nll, total, aeloss, p, quant; KL, which rises "
                "by design, `kl_rise` or more above its best of the latest quarter of the phase, so that its growth"
                " is none), within each phase: a past stretch where its"
                " level (bin medians under a moving median that leaves spikes out) stood `rise` or more and "
                "`noise_factor` noises (the point noise, or how much its level wanders when that is larger) above "
                "the best it had reached in the phase, over `min_points` points or more, the stretch it stood "
                "raised for 5 standard errors of their medians above the 20+ points before it (each window's own "
                "point scatter), and then came back to "
                "within a quarter of that rise: where it began (a level-then-ramp fit), peaked and was back, the "
                "levels then and now, the learning rate when it jumped as it began; at most two per loss, the "
                "largest; rec, nll and the total moving together are one episode, told on rec. Not the rise still "
                "going on (`loss-now`), one from the phase's first points (the switch-on's move, KL's growth), a "
                "spike, a rise that began at a NaN/Inf, a resume or d_weight's clamp (their rules'), or a phase's "
                "last rise that came back to its old level but not to its course (`loss-shift`). Info (ok "
                "when there is none); a warning when the loss went up by `large` or more (x2) and came back within "
                "the latest `recent` share of the run",
         judges="latest"),
    Rule("loss-shift", "A loss that stepped up and stayed up", "warning",
         "A loss whose level stepped up and never came back makes every later comparison start from the worse "
         "level: the latest logs look steady, the damage is older than them.",
         loss_shift, {"rise": 0.2, "noise_factor": 6.0},
         needs=("total_loss|rec_loss|nll_loss|aeloss|p_loss",),
         severities=("ok", "info", "warning"), cause="shape", cause_rank=2,
         action="Look at what changed where it stepped up (the learning rate, the data, a loss weight); if the "
                "model is worse for it, resume from a checkpoint before it.",
         short=loss_shift_short,
         checks="every term of the reconstruction that should fall or hold (rec, nll, aeloss, p, and terms logged "
                "apart such as l1; the total before the discriminator), within each phase, searched as `loss-episode` "
                "searches it: a rise `rise` or more and `noise_factor` noises above the best level it had reached that"
                " never came back, its level at the phase's end 5 standard errors of their medians above the 20+ "
                "points before it (each window's own point scatter), whose level at the phase's end and current "
                "level (the latest logs, in a later phase"
                " too) are still that far above the level just before it; dated where it turned (a step's first point,"
                " or where a level-then-ramp fit up to its new level turns), with the levels before, after and now; "
                "a phase's last rise that came back against the level just before it, or stands less than `rise` "
                "above it, is judged against the course it was on: a shift when it is still `rise` and the noise "
                "band above the pre-step trend (the forecast's power law over the latter half of the phase before "
                "it, falling 5 standard errors beyond its windows' scatter, extrapolated as far as the forecast "
                "reaches) and, at the phase's end, half that band above its "
                "pre-step level (a step that falls again at its old pace has not made up its cost); "
                "rec, nll and the total together are one shift, told on rec, a component logged apart (LPIPS `p_loss`)"
                " named with its own size. Not one from a phase's first points (a warm-up), at the discriminator's "
                "switch-on (`rec-after-disc`), the regularizers (KL's rise: `kl-rising`; a VQ commitment term), or one"
                " at a NaN/Inf, a resume or d_weight's clamp; info when the learning rate jumped as it began",
         judges="latest"),
    Rule("liveness", "Training speed and liveness", "warning",
         "A run that stopped logging may have crashed or hung: every hour it stays so is training time lost, and its "
         "ETA means nothing.",
         liveness, {"window": 50, "stale_intervals": 20, "stale_seconds": 900, "slowdown": 3.0},
         needs=("total_loss|rec_loss|kl_loss",),
         severities=("info", "warning"),
         action="Check the process (is it running, is it stuck, did it crash).",
         short=liveness_short,
         harm=HARM["halted"],
         checks="steps per hour over the wall time of the latest quarter of the run (at least `window` intervals), "
                "pauses included and named (gaps over 5 intervals and 30 s; a gap over the stale limit is a stop, "
                "left out and named), ETA to the next milestone and to the end from that pace; a last log far "
                "older than the logging interval (against the run's newest log, or `--now`); no ETA for logs older "
                "than that limit at the report's own clock without `--now` (their age is said), for losses NaN/Inf "
                "at the end or frozen (run-stalled), nor any speed from wall times faster than 1,000 steps a second "
                "(stamped when the logs were written, not a training clock); the latest speed `slowdown` times "
                "below the speed before it, dated"),
    Rule("resumes", "Resumes and restarts", "warning",
         "A run resumed from other weights than those it had reached has lost (or redone) training: its step count, "
         "schedule and comparisons no longer mean what they say.",
         resumes, {"jump": 0.3, "trained": 0.5},
         severities=("info", "warning"),
         action="Resume with the trainer's own resume (its step, weights and optimizer state), from the run's latest "
                "checkpoint.",
         short=resumes_short,
         checks="where a later log file takes over: two files written at the same time (two processes in one "
                "folder); a start over from the first step (info; a warning when it starts below `trained` x "
                "the earlier log's first level, i.e. trained weights with the step counter reset); the "
                "rec/nll/total level jumping by 30% and 4 noise widths across a resume (resumed from other "
                "weights than those reached); a resume that went on at its level is said (info: where, after what "
                "pause, how many steps were trained again, and a replaced branch that climbed 30% between medians "
                "of 20 points, 5 standard errors apart, or went NaN/Inf), a later file that goes on after the "
                "earlier one's last step too (info: where, from the run's checkpoint of that step, no steps redone)"),
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
                "configs that disagree: one finding, info where the value in use is the confirmed one). A finding "
                "about the config is at no step"),
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
                "precision artefact (info), never a schedule fault; a rate logged exactly is the rate"),
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
                "back from is info); the trend, level and GAN checks do not judge such a stretch"),
    Rule("loss-bookkeeping", "Loss bookkeeping", "warning",
         "A total that does not add up from its terms means the logged weights, sources or config are not the ones "
         "the trainer used: every share and weight the report quotes may then be wrong.",
         loss_bookkeeping, {"tolerance": 0.01}, needs=("total_loss", "rec_loss", "kl_loss|quant_loss"),
         severities=("ok", "warning"), topics=("ranges",), can_wait=True,
         threshold_notes={"tolerance": "median relative error"},
         action="Check that the logged terms come from the same batch and source, and the weights the trainer applies.",
         short=loss_bookkeeping_short,
         checks="`total = nll + kl_weight·kl + d_weight·disc_factor·g` (VQ: `codebook_weight·quant_loss`, nll "
                "a per-pixel mean) from the logged terms; the pixels per sample inferred from `nll / rec` (or "
                "from the total), compared with the config; recognises RadioDiff's averaged TensorBoard total"),
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


def _missing(rule: Rule, metrics: Metrics, schedule: Schedule) -> list[str]:
    lacking = [need for need in rule.needs if not any(metrics.has(n) for n in need.split("|"))]
    lacking += [f"{field} (schedule)" for field in rule.needs_schedule if getattr(schedule, field) is None]
    return lacking


def run_rules(metrics: Metrics, schedule: Schedule, thresholds: dict[str, dict[str, float]] | None = None,
              rules: list[Rule] | None = None) -> list[Finding]:
    """Run every registered rule; ``thresholds`` overrides a rule's thresholds by rule id."""
    findings: list[Finding] = []
    metrics.phase_start = phase_start(metrics, schedule)
    registry = rules or RULES
    titles = {rule.id: rule.title for rule in RULES}
    none_ran = gan_never_ran(metrics, schedule)
    for rule in registry:
        if rule.regularizer == "kl" and schedule.regularizer == "vq":
            findings.append(_skipped(rule, "Not applicable: a VQ model has no KL term (its regularizer is the codebook "
                                     "loss, quant_loss).", {"not_applicable": True}))
            continue
        lacking = _missing(rule, metrics, schedule)
        if lacking:
            findings.append(_skipped(rule, f"Skipped: needs {', '.join(lacking)}, which this run does not provide.",
                                     {"missing": lacking}))
            continue
        if rule.judges == "adversarial" and none_ran:
            findings.append(_skipped(rule, f"Not applicable: {none_ran}, so no GAN ran to be judged.",
                                     {"not_applicable": "no adversarial phase ran"}))
            continue
        limits = {**rule.thresholds, **((thresholds or {}).get(rule.id, {}))}
        try:
            found = [rule.finding(case, schedule.counts) for case in rule.check(metrics, schedule, limits)]
            findings.extend(_judged(rule, found, metrics, schedule))
        except KeyError as exc:  # a rule that reached for a metric its "needs" did not guarantee: skip, never crash
            findings.append(_skipped(rule, f"Skipped: needs {exc.args[0]}, which this run does not provide.",
                                     {"missing": [str(exc.args[0])]}))
    findings = blame_lr(findings, metrics, schedule)  # a learning rate far out of range, named where it did harm
    # another rule's finding is named as the report shows it: the title of the case that fired, else its rule's
    titles.update({f.rule: f.title for f in findings if not f.skipped and f.severity in ("warning", "error")})
    findings = [_titled(f, titles) for f in findings]
    by_id = {rule.id: rule for rule in registry}
    carrier = regularizer_share(metrics, schedule) if any(f.metric in ("kl_loss", "quant_loss") for f in findings
                                                         if f.severity in ("warning", "error")) else None
    grouped = group_by_cause(findings, metrics.last_step(), by_id, metrics.phase_start, carrier)
    grouped = qualify_ok(cite_consequences(cite_explained(grouped, by_id), metrics.last_step()), by_id)
    grouped = mark_restated(point_to_gradient(grouped, metrics.last_step(), schedule))
    # "no loss is rising" never lists a loss a warning or an error is about or names as risen: it points to it
    named = loud_metrics(grouped, by_id)
    return [g for g in (steady_without(f, named, schedule) if f.rule == "loss-now" else f for f in grouped)
            if g is not None]


# what a check judges, said where it is not judged
_JUDGES = {"latest": "the stretch this check judges (the losses' latest level in the current phase)",
           "adversarial": "most of the adversarial phase, which this check judges"}


def _judged(rule: Rule, found: list[Finding], metrics: Metrics, schedule: Schedule) -> list[Finding]:
    """A check of a trend, a level or the GAN's balance over a stretch that trained nothing (rules.untrained)
    gives no all-clear: its ok and info findings become one skipped finding that says why; a warning or an error
    it raised stands (the logs show it, whatever trained)."""
    if not rule.judges or not found:
        return found
    if rule.judges == "adversarial":
        lo = schedule.switch_step
        if lo is None or metrics.last_step() < lo:
            return found  # no adversarial phase yet: the check says so itself
    else:
        lo = metrics.phase_start
    stretch = judged_out(metrics, schedule, lo)
    if stretch is None:
        return found
    loud = [f for f in found if f.severity in ("warning", "error") or f.skipped]
    if len(loud) == len(found):
        return found
    mild = next(f for f in found if f not in loud)
    message = not_judged(stretch, schedule, _JUDGES[rule.judges])
    numbers = {"not_judged": reason(stretch, schedule),
               "untrained_from": stretch.start}
    return [*loud, replace(mild, severity="info", skipped=True, message=message, numbers=numbers,
                           step=stretch.start, action="", look="", case="not-judged")]


def _titled(finding: Finding, titles: dict[str, str]) -> Finding:
    """The finding with the other rules its message names (rules.base.see) named by their titles."""
    named, action = names_titles(finding.message, titles), names_titles(finding.action, titles)
    return finding if (named, action) == (finding.message, finding.action) else \
        replace(finding, message=named, action=action)


def _skipped(rule: Rule, message: str, numbers: dict) -> Finding:
    return replace(rule.finding(Case(message, numbers=numbers, severity="info")), skipped=True)


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


def worst(findings: list[Finding]) -> str:
    """ok, warning or error: the overall status (info counts as ok)."""
    top = max((RANK[f.severity] for f in findings if not f.skipped), default=0)
    return {0: "ok", 1: "ok", 2: "warning", 3: "error"}[top]


__all__ = ["RULES", "SEVERITIES", "Case", "Finding", "Metrics", "Rule", "check_thresholds", "fmt", "registered",
           "rule_table", "rules_on", "run_rules", "worst"]
