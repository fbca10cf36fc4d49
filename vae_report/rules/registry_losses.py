"""The registry's entries for the losses: their latest level, the gradient norm, validation, the
regularizer (KL, codebook), trends, spikes, shifts and the run's dynamics (rules.registry lists them in its order)."""

from __future__ import annotations

from .base import HARM, Rule
from .collapse import codebook_collapse, codebook_collapse_short, kl_collapse, kl_collapse_short
from .current import loss_now, loss_now_short
from .dynamics import (
    divergence,
    divergence_short,
    liveness,
    liveness_short,
    resumes,
    resumes_short,
    run_ended,
    run_ended_short,
)
from .episodes import loss_episode, loss_episode_short
from .gradients import grad_norm, grad_norm_short
from .kl import kl_dominant, kl_dominant_short, kl_negative, kl_negative_short, kl_rising, kl_rising_short
from .losses import rec_trend, total_trend, trend_short
from .shifts import loss_shift, loss_shift_short
from .spikes import spikes, spikes_short
from .validation import (
    val_missing,
    val_missing_short,
    val_overfitting,
    val_overfitting_short,
    val_quality,
    val_quality_short,
)

_TREND = {"worse": 0.10, "flat": 0.02}

LOSS_RULES: list[Rule] = [
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
         grad_norm, {"growth": 3.0, "binding": 0.5, "unclipped": 10.0},
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
                "at), info when the clip does not bind or none is known, a warning to watch when no clip is known "
                "and it grew `unclipped`-fold or more; a norm that climbed into a NaN/Inf that "
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
    Rule("val-quality", "Image quality on validation", "warning",
         "PSNR, SSIM, LPIPS or FID on held-out images measure what the autoencoder is for: worse now than at their "
         "best, the latest checkpoints reconstruct unseen images worse, whatever the training losses say.",
         val_quality, {"psnr_drop": 0.5, "ssim_drop": 0.01, "rise": 0.1},
         severities=("ok", "warning"), topics=("values",),
         threshold_notes={"psnr_drop": "dB", "ssim_drop": "absolute"},
         short=val_quality_short,
         checks="`val/`, `val_ema/`, `test/`, `eval/` `psnr`, `ssim`, `ms_ssim` (higher is better), `lpips` (read "
                "as `p_loss`) and `fid` (lower is better): the current level worse than the best (the median of 3 "
                "evaluations) by `psnr_drop` dB, `ssim_drop`, or `rise` of the best for a distance, and by 3 noises, "
                "the best not among the latest fifth of the points; the training loss over the same steps beside it",
         judges="latest"),
    Rule("val-missing", "Validation missing", "warning",
         "Without the validation the config runs, nothing shows whether the model generalises or overfits.",
         val_missing,
         can_wait=True,
         action="Check that validation runs and logs its losses (the config's val_every).",
         short=val_missing_short,
         checks="the config runs validation every N steps (`val_every`) but no `val/*` metric is logged, or it"
                " stopped"),  # silent when the config runs no validation: nothing is missing then
    Rule("kl-rising", "KL rising under a tiny kl_weight", "error",
         "KL is summed over latent dimensions and weighted by ~1e-6: it grows while the encoder uses its latents, "
         "and matters only if the weighted term becomes a real share of the loss.",
         kl_rising,
         {"rise": 0.10, "tiny_weight": 1e-4, "light_share": 0.10, "compound": 0.2, "per_dim_unusual": 30.0,
          "per_dim_high": 100.0}, needs=("kl_loss",),
         needs_schedule=("kl_weight",), regularizer="kl",
         severities=("ok", "info", "warning", "error"), topics=("kl",), cause="shape", cause_rank=6,
         action="Raise kl_weight, or check the encoder's log-variance output (a clamp, a missing exp).",
         short=kl_rising_short,
         checks="(KL models; not applicable to VQ) KL's level rising from its start level to its current level (the "
                "statistics table's Start and Now): expected under a tiny weight while the weighted term stays light "
                "(info above the weight or the share); a rise to 100 times the start or more is no slow rise but a "
                "posterior running away (warning; an error under a learning rate far above the range: a broken run); "
                "growing more than `compound` per tenth of the run in its last "
                "three tenths without slowing down: a late runaway (warning, dated by a level-then-ramp fit); a "
                "level of `per_dim_unusual` nats per latent dimension or more is not called expected (info; a "
                "warning from `per_dim_high`, or where it is still climbing through its latest quarter), against the "
                "~10.4 of RadioDiff's published first stage",
         judges="latest"),
    Rule("kl-dominant", "KL term a large share of the loss", "warning",
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
    Rule("divergence", "Sustained growth of a loss", "error",
         "A loss that grows steadily is a run diverging: left alone it ends in NaN/Inf or in useless weights.",
         divergence, {"min_points": 5, "step_growth": 0.05, "total_growth": 0.3}, needs=("total_loss|rec_loss",),
         severities=("warning", "error"), cause="shape", cause_rank=2,
         action="Lower the learning rate, or resume from a checkpoint before the growth began.",
         short=divergence_short,
         harm=HARM["divergence"],
         checks="total (within the current phase), rec or nll whose median rises in each quarter of the latest"
                " half of the run; an error when it ran away to 100 times its start or more under a learning rate "
                "far above the range",
         judges="latest"),
    Rule("spikes", "Transient spikes", "info",
         "A robust outlier test (rolling median and MAD) finds spikes that return to the previous level.",
         spikes, {"window": 25, "mad_factor": 12, "recovery": 0.2}, needs=("total_loss|rec_loss|kl_loss",),
         short=spikes_short,
         checks="transient outliers (rolling median and MAD) that return to the previous level, consecutive ones "
                "one spike (its span said); a leading stretch of one exact value (a term off by design) is left out "
                "of the noise; a level shift is not a spike; the spikes of several losses in the same steps (spans "
                "overlapping within a logging interval) are one finding on the loss that leads them (rec, kl, "
                "disc, g, then nll and the total built from them), the others named with it; disc_loss moves of "
                "less than 5% of its chance level are no spikes (a won discriminator's jitter above 0)"),
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
                " never came back, every point from where it reached its new level to the phase's end 5 standard "
                "errors of their medians above as many points just before it (20 to 100+, each window's own point "
                "scatter: a step of 3 point noises held for 100 points stands over 10 clear), its level at the phase's "
                "end still `rise` above the 20+ points just before it and its current level (the latest logs, in a"
                " later phase too) half that; dated where it turned (a step's first point,"
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
    Rule("run-ended", "Run ended before its schedule", "error",
         "A run that ended before its last step trains no further: its latest checkpoint is where it stands until "
         "it is resumed, and what ended it will end the resume too unless it is fixed.",
         run_ended, {}, severities=("warning", "error"), harm=HARM["halted"], short=run_ended_short,
         action="Fix what ended it, then resume from the latest checkpoint.",
         checks="the run ended before the end of its schedule: as `--ended` says (the in-loop reporters pass the "
                "exception a fit raised), or as its newest text log shows (a Python traceback after its last step "
                "line); an error where the reason is a crash (an exception, an out-of-memory kill), a warning "
                "otherwise; none for a run that reached its end"),
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
]
