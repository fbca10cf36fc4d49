"""The registry's entries for the discriminator and the GAN's balance (rules.registry lists them in its
order)."""

from __future__ import annotations

from .adversarial import d_weight_pinned, d_weight_pinned_short, gan_term_dominant, gan_term_dominant_short
from .base import HARM, Rule
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
)
from .gan import (
    disc_at_chance,
    disc_level_short,
    disc_overpowering,
    generator_winning,
)
from .oscillation import gan_oscillation, gan_oscillation_short
from .rec_after_disc import rec_after_disc, rec_after_disc_short

GAN_RULES: list[Rule] = [
    Rule("disc-off-before-start", "Discriminator silent before disc_start", "info",
         "adopt_weight multiplies the GAN terms by 0 while step < disc_start, so a disc_loss of exactly 0 is expected.",
         disc_off_before_start, needs=("disc_factor|disc_loss",), needs_schedule=("disc_start",),
         severities=("ok", "info"),
         short=disc_off_before_start_short,
         checks="`disc_factor` / `disc_loss` exactly 0 before `disc_start` (expected); a `disc_loss` not 0 where "
                "`disc_factor` is (the LDM loss logs their product): info, the logged loss is unweighted or on "
                "another counter, and no sentence says it was 0"),
    Rule("disc-inactive-after-start", "Discriminator's switch-on at disc_start", "error",
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
                "one (a micro-batch or two-optimizer counter), and the phases follow the data; on at k x disc_start "
                "where the config bears that unit out (its gradient accumulation k, or 2 for both optimizers' steps): "
                "ok, every milestone of the config read in logged steps, k times its own"),
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
         needs_schedule=("disc_start",), severities=("ok", "info", "warning"),
         topics=("balance",), explains=("adversarial-rise", "gan-term-constant"),
         action="Weaken the discriminator itself: its learning rate, its capacity, or noise or augmentation on its "
                "inputs. Where reconstruction has suffered, also lower disc_weight, so that the autoencoder chases "
                "the discriminator less (it scales only the generator's adversarial term, not the discriminator's "
                "own loss).",
         look="GAN artefacts",
         short=disc_level_short,
         harm=HARM["gan"],
         checks="after `disc_start`, at the current levels (the statistics table's Now): D loss below 30% of "
                "its chance level (hinge 1, vanilla ln 2; twice that where the logs' first points on show the two "
                "terms summed) with `logits_real` and `logits_fake` separated (the "
                "discriminator has won); or pulling ahead, all its signals together: D loss fallen by `fell` x "
                "chance from its level at the phase's start (its first 5% of points there) to below `ahead` x "
                "chance, the logits apart and `g_loss` up by `g_rise`,"
                " with the adversarial term `d_weight·g_loss` then and now, dated where the D loss left its "
                "early level; a win that is over (D loss below 30% of chance over 5% of the phase's points or "
                "more, logits apart there, back up now): info, dated, with rec_loss before, across and after it; below "
                "`ahead` x chance with the logits apart but neither won nor pulling ahead on every signal: info, "
                "a lead, with the signal that is short; from `ahead` to 90% of chance: ok, an ordinary contest, said",
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
         checks="after `disc_start`, D loss near its chance level (hinge 1, vanilla ln 2; twice that where the "
                "logs' first points on show the two terms summed): an equilibrium is "
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
]
