"""Every synthetic run of the battery with its expected verdict."""

from __future__ import annotations

from . import cases as c
from .cases import LOSSES, Case
from .curves import Shape
from .expect import Expect, Fault
from .field_cases import field_faults, field_healthy
from .heldout_cases import heldout_faults, heldout_healthy
from .lr_cases import lr_runaway
from .noise_cases import noise_healthy, noise_stepped, switch_on_young

RD = dict(total_steps=150_000, disc_start=50_001)  # RadioDiff's first_radio.yaml
LR = ("lr-*", "lr*", "*lr*", "*schedule*", "*stall*")
# the checks of a trend, a level or the GAN's balance: none gives an all-clear of a stretch that trained nothing
UNTRAINED_NO_OK = ("disc-at-chance", "rec-after-disc", "generator-winning", "disc-overpowering", "d-weight-pinned",
                   "gan-term-dominant", "loss-now", "rec-trend", "total-trend", "kl-rising", "loss-episode")


def _shape(**kw) -> Shape:
    return Shape(**kw)


def healthy_cases() -> list[Case]:
    ok = Expect("ok")
    return [
        Case(
            "healthy_short_both_phases_every1",
            "healthy, short, both phases",
            "radiodiff",
            _shape(last_step=299, total_steps=300, disc_start=151, every=1, pixels=1024, seed=1),
            ok,
        ),
        Case(
            "healthy_phase1_csv_every10",
            "healthy, phase 1",
            "trainer_csv",
            _shape(last_step=8000, total_steps=20_000, disc_start=10_001, every=10, seed=2),
            ok,
        ),
        Case(
            "healthy_long_hinge_equilibrium",
            "D equilibrium (hinge ~1), long",
            "radiodiff",
            _shape(last_step=149_900, every=100, seed=3, **RD),
            ok,
        ),
        Case(
            "healthy_long_vanilla_equilibrium",
            "D equilibrium (vanilla ~ln 2), LDM nested",
            "lightning",
            _shape(
                last_step=150_000,
                total_steps=150_000,
                disc_start=50_001,
                every=100,
                disc_loss="vanilla",
                lr_kind="constant",
                lr=4.5e-6,
                seed=4,
            ),
            ok,
        ),
        Case(
            "healthy_negative_total",
            "negative totals (d_weight 5,000 x g -0.5)",
            "radiodiff",
            _shape(
                last_step=80_000, every=100, pixels=32_768, d_weight=5_000, disc_weight=1.0, g_on=-0.52, seed=5, **RD
            ),
            ok,
        ),
        Case(
            "healthy_learned_logvar_negative_nll",
            "negative nll (learned logvar)",
            "lightning_tb",
            _shape(
                last_step=60_000,
                total_steps=60_000,
                disc_start=30_001,
                every=50,
                learned_logvar=True,
                lr_kind="constant",
                lr=4.5e-6,
                seed=6,
            ),
            ok,
        ),
        Case(
            "healthy_lightning_half_disc_start",
            "D on at half disc_start (Lightning step unit)",
            "lightning",
            _shape(
                last_step=6_000,
                total_steps=6_000,
                disc_start=2_001,
                every=20,
                lr_kind="constant",
                lr=4.5e-6,
                pixels=12_288,
                seed=7,
            ),
            ok,
            fault=c.half_step_unit,
        ),
        Case(
            "healthy_just_past_disc_start",
            "healthy, a few logged points after disc_start",
            "radiodiff",
            _shape(last_step=20_300, total_steps=150_000, disc_start=20_001, every=50, seed=9),
            ok,
        ),
        Case(
            "healthy_lr_printed_zero",
            "lr printed as 0.00000 (text log only)",
            "radiodiff_text",
            _shape(last_step=30_000, every=100, seed=8, **RD),
            ok,
        ),
        Case(
            "healthy_vqgan_both_phases",
            "taming VQGAN, healthy",
            "vq_tb",
            _shape(
                last_step=40_000,
                total_steps=40_000,
                disc_start=20_001,
                every=50,
                regularizer="vq",
                pixels=1,
                d_weight=0.8,
                disc_weight=0.8,
                lr_kind="constant",
                lr=4.5e-6,
                seed=9,
            ),
            ok,
        ),
        Case(
            "healthy_sgm_both_phases",
            "sgm GeneralLPIPSWithDiscriminator, healthy",
            "sgm_tb",
            _shape(
                last_step=30_000,
                total_steps=30_000,
                disc_start=15_001,
                every=20,
                learned_logvar=True,
                lr_kind="constant",
                lr=4.5e-6,
                seed=10,
            ),
            ok,
        ),
        Case(
            "healthy_lr_rounded_in_csv",
            "lr printed as 0.00000 (a CSV parsed from the text log)",
            "trainer_csv",
            _shape(last_step=20_000, total_steps=150_000, disc_start=50_001, every=100, seed=12),
            ok,
            fault=c.round_lr,
        ),
        Case(
            "healthy_seed_shaped_18300",
            "healthy, phase 1, the seed report's shape",
            "radiodiff",
            _shape(last_step=18_300, every=10, seed=13, **RD),
            ok,
        ),
        Case(
            "healthy_ldm_with_validation",
            "validation tracking train",
            "lightning",
            _shape(
                last_step=20_000,
                total_steps=20_000,
                disc_start=10_001,
                every=20,
                lr_kind="constant",
                lr=4.5e-6,
                seed=11,
            ),
            ok,
            fault=c.validation(None, 500),
        ),
    ] + _extension_healthy(ok) + _balance_healthy(ok) + field_healthy() + _episode_cases() + noise_healthy()


def _episode_cases() -> list[Case]:
    """A loss that went up for a while and came back: no fault now (ok), but the report says where it happened;
    large and just over, a warning."""
    s = _shape(last_step=60_000, every=100, seed=97, **RD)
    info = Fault(("rec_loss",), 20_000, c.tol(s), ("loss-episode",), "info")
    out = [Case("rec_episode_before_disc_recovered", "rec +40% from 20,000 to 30,000 before disc_start, back "
                "below its level by 45,000", "radiodiff", s, Expect("ok", (info,)),
                fault=c.episode(20_000, 30_000, 45_000, 1.4))]
    # counted in epochs (500 steps each): the same episode from epoch 41 to 61, back by epoch 91
    s = _shape(last_step=60_000, total_steps=150_000, disc_start=NO_GAN, every=100, pixels=4, seed=98)
    info = Fault(("rec_loss",), 41, 5, ("loss-episode",), "info")  # a quarter of its 20-epoch climb
    out.append(Case("rec_episode_epoch_console", "a console log counted in epochs, rec +40% from epoch 41 to 61, "
                    "back by 91", "epoch_console", s, Expect("ok", (info,)),
                    fault=c.episode(20_000, 30_000, 45_000, 1.4)))
    s = _shape(last_step=60_000, every=100, seed=99, **RD)
    out.append(fault("rec_episode_large_recent", "rec x2.5 from 53,000 to 55,000 in the adversarial phase, back by "
                     "57,000 of 60,000", "radiodiff", s, "warning", ("rec_loss",), 53_000,
                     c.episode(53_000, 55_000, 57_000, 2.5, after=1.0), rules=("loss-episode",), frac=0.02))
    # the discriminator wins for a while and comes back to chance: no fault now (ok), the win dated (info); its
    # jitter above 0 while it had won is no spike, its return to chance no rise
    s = _shape(last_step=90_000, every=20, seed=108, **RD)
    won = Fault(("disc_loss",), 55_000, c.tol(s, 0.02), ("disc-overpowering",), "info")
    out.append(Case("d_won_then_back_to_chance", "hinge D wins from 55,000 (logits +1.6/-1.7, loss 0), back at "
                    "chance by 75,000 of 90,000; rec +15% over the win, then recovered", "radiodiff", s,
                    Expect("ok", (won,)), fault=c.d_won_then_back(55_000, 75_000)))
    # the discriminator well below chance with the logits apart, g_loss up less than pulling ahead takes: a lead,
    # said (info), never silence on the balance nor an "equilibrium"
    s = _shape(last_step=30_000, total_steps=30_000, disc_start=10_001, every=20, seed=109)
    lead = Fault(("disc_loss",), None, 0, ("disc-overpowering",), "info")
    out.append(Case("d_leads_short_of_pulling_ahead", "D loss 1.09 -> 0.48 from 18,000, logits 1.05 apart, g_loss "
                    "0.13 -> 0.5 (short of the +0.5 pulling ahead takes)", "trainer_csv", s, Expect("ok", (lead,)),
                    fault=c.d_pulls_ahead(18_000, disc_to=0.48, real_to=0.55, fake_to=-0.5)))
    # a trainer that sums the discriminator's real and fake terms (LDM halves them): at chance it logs twice LDM's
    # level, 2 (hinge) or 2 ln 2 (vanilla), and is judged at that level, never "the generator winning"
    s = _shape(last_step=90_000, every=100, seed=110, **RD)
    out.append(Case("healthy_summed_hinge_equilibrium", "hinge D at chance, its two terms summed (2, not 1)",
                    "radiodiff", s, Expect("ok"), fault=c.scaled("disc_loss", 2.0)))
    s = _shape(last_step=60_000, total_steps=60_000, disc_start=20_001, every=50, disc_loss="vanilla",
               lr_kind="constant", lr=4.5e-6, seed=111)
    out.append(Case("healthy_summed_vanilla_equilibrium", "vanilla D at chance, its two softplus terms summed "
                    "(2 ln 2, not ln 2), LDM nested", "lightning", s, Expect("ok"), fault=c.scaled("disc_loss", 2.0)))
    return out + _spike_group_cases()


def _spike_group_cases() -> list[Case]:
    """One excursion shared by several losses: one spikes finding on the loss that leads it, the others cited."""
    s = _shape(last_step=60_000, every=100, seed=106, **RD)
    spiked = Fault(("rec_loss",), 15_000, c.tol(s, 0.01), ("spikes",), "info")
    out = [Case("rec_spike_shared_by_nll_and_total", "rec x4 for 6 logged steps at 15,000 and back: nll and the "
                "total move with it, one excursion", "radiodiff", s, Expect("ok", (spiked,), single=("spikes",)),
                fault=c.spike(15_000, 6, 4.0))]
    s = _shape(last_step=90_000, every=100, seed=107, **RD)
    spiked = Fault(("disc_loss",), 70_000, c.tol(s, 0.01), ("spikes",), "info")
    out.append(Case("gan_spike_shared_by_disc_and_g", "the fake logits +3 for 4 logged steps at 70,000: D's loss "
                    "and g_loss (read off them) spike together, one excursion", "radiodiff", s,
                    Expect("ok", (spiked,), single=("spikes",)), fault=c.logit_spike(70_000, 4, 3.0)))
    return out


NO_GAN = 1_000_001  # another trainer's run without a discriminator: the shape's GAN phase never begins


def _extension_healthy(ok: Expect) -> list[Case]:
    """Counterparts of the extension's faults where a false alarm is plausible."""
    return [
        Case("healthy_finetune_flat_from_checkpoint", "fine-tune from a checkpoint: rec flat and low from step 0",
             "radiodiff", _shape(last_step=20_000, every=20, seed=64, **RD), ok,
             fault=c.flat_from_start(0.032, 115_000, decline=0.03, ckpt_path="./model/model-29.pt")),
        Case("healthy_resume_continuous", "resumed at half the run, levels continuous", "lightning_tb",
             _shape(last_step=40_000, total_steps=40_000, disc_start=30_001, every=50, lr_kind="constant", lr=4.5e-6,
                    seed=67), ok, fault=c.resumed(20_000, overrun=700)),
        Case("healthy_keras_console", "another trainer's console log (Keras VAE progress bars)", "keras_console",
             _shape(last_step=14_999, total_steps=15_000, disc_start=NO_GAN, every=1, pixels=1_000, kl_weight=1.0,
                    seed=73), ok, fault=c.scale("kl_loss", 65_536 / 1_000 / 2_500)),
        Case("healthy_powershell_console", "a console log PowerShell's Tee-Object captured (UTF-16LE, CRLF)",
             "powershell_console", _shape(last_step=20_000, total_steps=20_000, disc_start=NO_GAN, every=20, pixels=4,
                                          kl_weight=1e-7, seed=78), ok),
        # counted in epochs, a config whose disc_start (50,001) and max_steps are steps: left unjudged, not misread
        Case("healthy_epoch_console", "a console log counted in epochs, a config in steps beside it",
             "epoch_console", _shape(last_step=24_000, total_steps=100_000, disc_start=50_001, every=100, seed=74),
             ok),
        Case("healthy_dict_console", "a loss dict printed each iteration, no counter", "dict_console",
             _shape(last_step=3_000, total_steps=6_000, disc_start=NO_GAN, every=10, pixels=4, seed=75), ok),
        Case("healthy_epoch_bars", "tqdm bars per epoch, training and validation", "epoch_bars",
             _shape(last_step=30_000, total_steps=60_000, disc_start=NO_GAN, every=100, pixels=4, seed=76), ok),
        # one value set a postfix update, however many redraws show it
        Case("healthy_step_bar", "a tqdm bar redrawn every step, its postfix updated every 20 steps", "step_bar",
             _shape(last_step=6_000, total_steps=12_000, disc_start=NO_GAN, every=20, pixels=4, kl_weight=1e-7,
                    seed=127), ok),
    ]


def _balance_healthy(ok: Expect) -> list[Case]:
    """A schedule the config does not name is described, not judged."""
    return [
        Case("healthy_lr_linear_unnamed_schedule", "another trainer's config, no scheduler named; lr decays linearly",
             "other_csv", _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, lr=1e-4, seed=86),
             ok, fault=c.lr_linear(1e-4, 1e-6)),
        # issue 18 item 5: a schedule the config names is judged, and a logged lr that follows it passes
        Case("healthy_hf_linear_warmup", "Hugging Face's lr_scheduler_type: linear with warmup_steps, followed",
             "other_csv", _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, lr=5e-5, seed=91),
             ok, fault=c.lr_named("linear", 5e-5, warmup=1_000,
                                  patch={"optim": {"lr_scheduler_type": "linear", "warmup_steps": 1_000}})),
        Case("healthy_cosine_annealing_followed", "lr_scheduler {type: CosineAnnealingLR, T_max, eta_min}, followed",
             "other_csv", _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, lr=1e-4, seed=92),
             ok, fault=c.lr_named("cosine", 1e-4, floor=1e-6, patch={"lr_scheduler": {
                 "type": "CosineAnnealingLR", "T_max": 20_000, "eta_min": 1e-6}})),
        # issue 18 item 2: kl_weight applied to a per-dimension mean, the KL logged summed: no share to claim
        Case("healthy_kl_weight_other_scale", "kl_weight x logged KL exceeds the logged total (per-dimension mean)",
             "other_csv", _shape(last_step=20_000, total_steps=20_000, disc_start=NO_GAN, every=20, lr=1e-4,
                                 kl_weight=1e-3, pixels=4_096, seed=93, lr_kind="constant"),
             ok, fault=c.kl_weight_per_dimension(3 * 16 * 16)),
    ]


def fault(
    name: str,
    klass: str,
    layout: str,
    shape: Shape,
    status: str,
    metrics,
    onset: int | None,
    edit,
    rules=("*",),
    frac: float = 0.05,
) -> Case:
    """A faulty run: the expected finding's severity is the run's status; onset within ``frac`` of the run."""
    return Case(
        name,
        klass,
        layout,
        shape,
        Expect(status, (Fault(tuple(metrics), onset, c.tol(shape, frac), tuple(rules)),)),
        edit,
    )


def fault_cases() -> list[Case]:
    return (_now_cases() + _lr_val_cases() + _gan_cases() + _family_cases() + _history_cases() + _extension_cases()
            + field_faults() + _balance_cases() + _drift_cases() + _shift_cases() + noise_stepped()
            + lr_runaway() + switch_on_young())


def _shift_cases() -> list[Case]:
    """A loss that stepped up and stayed up, older than the latest logs (named, dated at the step); beside it what
    must stay quiet: a bump that came back short of its level, the switch-on's move."""
    shift = ("loss-shift",)
    s = _shape(last_step=80_000, every=100, seed=101, **RD)
    out = [fault("shift_rec_before_disc_stayed", "rec x1.5 at 25,000 before disc_start, held through the "
                 "adversarial phase", "radiodiff", s, "warning", LOSSES, 25_000, c.level_shift(25_000, 1.5),
                 rules=shift, frac=0.02)]
    s = _shape(last_step=40_000, total_steps=40_000, disc_start=30_001, every=20, regularizer="vq", pixels=1,
               d_weight=0.8, disc_weight=0.8, lr_kind="constant", lr=4.5e-6, seed=102)
    out.append(fault("shift_p_loss_component_vqgan", "taming VQGAN: p_loss +35% climbing from 8,000 to 11,000, "
                     "held; rec (l1 + p) rises less", "vq_tb", s, "warning", ("p_loss", *LOSSES), 8_000,
                     c.level_shift(8_000, 1.35, end=11_000, metric="p_loss"), rules=shift, frac=0.03))
    s = _shape(last_step=120_000, every=100, seed=103, **RD)
    out.append(fault("shift_rec_adversarial_modest", "rec x1.4 at 80,000, well after the switch-on, held to "
                     "120,000 (below loss-now's x1.5)", "radiodiff", s, "warning", LOSSES, 80_000,
                     c.level_shift(80_000, 1.4), rules=shift, frac=0.02))
    # a long schedule (800,000 steps: its early decay has a time constant of 20,000) still falling steeply
    long = dict(total_steps=800_000, disc_start=400_001)
    s = _shape(last_step=32_000, every=100, seed=108, **long)
    out.append(fault("shift_rec_decays_back_toward_level", "rec x1.8 at 20,000 on its decay, falling on at its old "
                     "pace: 12,000 steps later ~15% over its pre-step level, far above its course", "radiodiff", s,
                     "warning", LOSSES, 20_000, c.level_shift(20_000, 1.8), rules=shift, frac=0.02))
    s = _shape(last_step=45_000, every=100, seed=109, total_steps=4_000_000, disc_start=2_000_001)  # tau 100,000
    out.append(fault("shift_rec_modest_late_still_falling", "rec x1.4 at 25,000 while still falling, ending about "
                     "+18% over its pre-step level 20,000 steps later", "radiodiff", s, "warning", LOSSES, 25_000,
                     c.level_shift(25_000, 1.4), rules=shift, frac=0.02))
    s = _shape(last_step=60_000, every=100, seed=104, **RD)
    out.append(Case("rec_bump_back_short_of_level", "rec x1.6 from 12,000 to 16,000, back to +8% by 20,000 and on",
                    "radiodiff", s, Expect("ok"), fault=c.episode(12_000, 16_000, 20_000, 1.6, after=1.08)))
    s = _shape(last_step=90_000, every=100, seed=105, **RD)
    out.append(Case("healthy_rec_jump_at_switch", "rec x1.3 when the discriminator switches on, back on its "
                    "course by 60,000: the switch-on's move", "radiodiff", s, Expect("ok"),
                    fault=c.episode(50_001, 50_600, 60_000, 1.3, after=1.0)))
    return out


def _drift_cases() -> list[Case]:
    """A slow drift that began early: dated where it began and measured from that level, not from the best of the
    latest stretch (part of the climb); under clipping, with the pre-clip gradient norm growing beside it."""
    out = []
    s = _shape(last_step=50_000, total_steps=50_000, disc_start=NO_GAN, every=50, pixels=4, lr=2e-4,
               lr_kind="constant", seed=97)
    tol = c.tol(s, 0.08)
    out.append(Case("rec_drift_under_clipping", "rec +40% from 40% of the run, grad norm 1.2 -> 10 clipped at 1.0",
                    "other_csv", s, Expect("warning", (
                        Fault(("rec_loss", "total_loss", "nll_loss"), 20_000, tol, ("loss-now",)),
                        Fault(("grad_norm",), 20_000, tol, ("grad-norm",)))),
                    c.drift_under_clipping(20_000, 1.4, 1.0, 1.2, 8.5)))
    # a divergence: rec and the pre-clip gradient norm climb from 30,000, NaN from 33,000 on (no clip configured)
    s = _shape(last_step=40_000, total_steps=100_000, disc_start=NO_GAN, every=20, pixels=4, lr=2e-4,
               lr_kind="constant", seed=99)
    out.append(Case("diverges_into_nan_grad_norm", "rec x20 and grad norm x60 climbing from 30,000, NaN from 33,000 "
                    "to the end", "other_csv", s, Expect("error", (
                        Fault(LOSSES, 33_000, c.tol(s, 0.05), ("non-finite",)),)),
                    c.diverge_into_nan(30_000, 33_000, 20.0, 3.0, 60.0)))
    # the lr jumps x1,000 and holds; 280 steps later the run diverges into NaN: both named, each at its step
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, seed=96)
    out.append(Case("lr_jump_then_nan", "lr x1,000 at 12,900, rec climbing from 13,180 into NaN at 14,500",
                    "radiodiff", s, Expect("error", (
                        Fault(LOSSES, 14_500, c.tol(s, 0.05), ("non-finite",)),
                        Fault(("lr",), 12_900, c.tol(s, 0.02), ("lr-schedule",), "warning"))),
                    c.lr_jump_then_diverge(12_900, 1000.0, 13_180, 14_500)))
    # 300 epochs of 500 steps, printed once per epoch: the drift from step 45,000 is epoch 91
    s = _shape(last_step=150_000, total_steps=150_000, disc_start=NO_GAN, every=500, pixels=4, seed=98)
    out.append(Case("epoch_slow_drift", "rec x1.6 from 30% of a run counted in epochs (+30% net of its slow decline)",
                    "epoch_console", s,
                    Expect("warning", (Fault(("rec_loss", "total_loss"), 91, 20, ("loss-now",)),)),
                    c.slow_rise(45_000, 1.6)))
    return out


def _extension_cases() -> list[Case]:
    """Faults the loss terms' signs and levels, the log files and other trainers' logs show."""
    out = []
    s = _shape(last_step=30_000, every=50, seed=63, **RD)
    out.append(fault("config_key_given_twice", "disc_start given twice in the config, the last one used",
                     "radiodiff", s, "warning", (None,), None, c.key_given_twice("model.lossconfig.disc_start", 20_001),
                     rules=("config-typos",)))
    s = _shape(last_step=30_000, every=50, seed=64, total_steps=150_000, disc_start=10_001)
    out.append(fault("config_key_given_twice_first_used", "disc_start given twice, the data confirm the first",
                     "radiodiff", s, "warning", (None,), None,
                     c.key_given_twice_first_used("model.lossconfig.disc_start", 2_001), rules=("config-typos",)))
    s = _shape(last_step=20_000, total_steps=40_000, disc_start=20_001, every=20, seed=61)
    out.append(fault("kl_negative", "KL negative from the start (sign error)", "trainer_csv", s, "error",
                     ("kl_loss",), 0, c.negate("kl_loss"), rules=("kl-negative",)))
    s = _shape(last_step=30_000, every=50, kl_weight=1.0, seed=62, **RD)
    out.append(fault("kl_at_prior_from_start", "KL held at the prior from the start (kl_weight 1)", "radiodiff", s,
                     "warning", ("kl_loss",), 0, c.kl_held_at_prior(24.0, 0.09), rules=("kl-collapse",), frac=0.1))
    s = _shape(last_step=20_000, total_steps=100_000, disc_start=50_001, every=10, lr=5e-12, min_lr=5e-13, seed=63)
    out.append(fault("rec_not_learning", "rec flat at its initial level (lr 5e-12)", "trainer_csv", s, "warning",
                     ("rec_loss",), 0, c.flat_from_start(0.5, 17_000), rules=("rec-trend",)))
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, lr_kind="constant", lr=4.5e-6,
               seed=65)
    out.append(fault("loss_stops_logging", "kl_loss no longer logged after a resume at 60%", "lightning", s,
                     "warning", ("kl_loss",), 11_980, c.resumed(12_000, drop=("kl_loss",)), rules=("loss-stopped",)))
    s = _shape(last_step=40_000, total_steps=40_000, disc_start=30_001, every=50, lr_kind="constant", lr=4.5e-6,
               seed=66)
    out.append(fault("resume_wrong_weights", "resumed at half the run from other weights (rec x1.9)", "lightning_tb",
                     s, "warning", ("rec_loss",), 20_000, c.resumed(20_000, overrun=700, level=1.9),
                     rules=("resumes",)))
    s = _shape(last_step=40_000, every=100, seed=68, **RD)
    out.append(fault("two_processes_one_folder", "two runs writing into one folder at once", "radiodiff", s,
                     "warning", (None,), None, c.second_process(3_600, 32_800), rules=("resumes",)))
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, lr_kind="constant", lr=4.5e-6,
               seed=69)
    out.append(fault("val_gap_static", "validation 7x training from the first validation on", "lightning", s,
                     "warning", ("val/rec_loss",), 500, c.val_gap(7.0, 500), rules=("val-overfitting",)))
    s = _shape(last_step=40_000, every=50, seed=70, **RD)
    out.append(fault("isolated_inf_recovered", "fp16 overflow: five isolated Inf steps, recovered", "radiodiff", s,
                     "warning", LOSSES, 7_050, c.inf_at((7_050, 13_650, 21_250, 28_950, 33_350)),
                     rules=("non-finite",)))
    s = _shape(last_step=20_000, total_steps=40_000, disc_start=10_001, every=20, seed=73)
    out.append(fault("nan_to_the_end", "every loss NaN for the latest 20% of an unfinished run", "trainer_csv", s,
                     "error", LOSSES, 16_000, c.nan_from(16_000), rules=("non-finite",)))
    s = _shape(last_step=30_000, total_steps=60_000, disc_start=10_001, every=50, seed=125)
    out.append(fault("nan_term_not_in_total", "g_loss NaN for the latest 40% while the total stays finite",
                     "radiodiff", s, "warning", ("g_loss",), 18_000, c.nan_in("g_loss", 18_000),
                     rules=("non-finite",)))
    s = _shape(last_step=6_000, total_steps=12_000, disc_start=NO_GAN, every=20, pixels=4, kl_weight=1e-7, seed=128)
    out.append(fault("step_bar_rec_explodes", "a tqdm bar redrawn every step, its rec exploding now", "step_bar", s,
                     "error", ("rec_loss", "total_loss"), 5_000, c.explode("rec_loss", 5_000, 100)))
    s = _shape(last_step=30_000, total_steps=30_000, disc_start=10_001, every=20, disc_weight=0.0, lr_kind="constant",
               lr=4.5e-6, seed=71)
    out.append(fault("disc_weight_zero", "disc_weight 0 in the config: d_weight 0 everywhere", "lightning", s,
                     "warning", ("d_weight",), 10_001, None, rules=("d-weight-pinned",)))
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=NO_GAN, every=20, pixels=4, kl_weight=1e-7, seed=72)
    out.append(fault("foreign_console_log", "another trainer's loguru console log, its loss exploding now",
                     "loguru_console", s, "error", ("total_loss",), 18_000, c.explode("rec_loss", 18_000, 100),
                     rules=("loss-now",)))
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=NO_GAN, every=20, pixels=4, kl_weight=1e-7, seed=79)
    out.append(fault("powershell_console_exploding", "a UTF-16LE console log PowerShell captured, its loss exploding",
                     "powershell_console", s, "error", ("total_loss", "rec_loss"), 18_000,
                     c.explode("rec_loss", 18_000, 100), rules=("loss-now",)))
    s = _shape(last_step=30_000, total_steps=100_000, disc_start=NO_GAN, every=100, pixels=4, seed=77)
    out.append(fault("epoch_block_exploding", "epoch records over several lines, the loss exploding now",
                     "block_console", s, "error", ("total_loss", "rec_loss"), 49, c.explode("rec_loss", 24_000, 100),
                     rules=("loss-now",)))  # epoch 49 holds step 24,000 (500 steps an epoch)
    s = _shape(last_step=20_000, total_steps=40_000, disc_start=NO_GAN, every=50, pixels=4, seed=78)
    out.append(fault("relaunched_with_trained_weights", "a second launch appended to the log, from step 0 with "
                     "trained weights", "relaunch_console", s, "warning", ("rec_loss", "total_loss"), 0, None,
                     rules=("resumes",)))
    return out


def _history_cases() -> list[Case]:
    """Faults whose start lies far before the latest logs, and schedules the config contradicts."""
    out = []
    s = _shape(last_step=40_000, every=100, seed=51, **RD)
    out.append(fault("lr_never_decays", "RadioDiff lr constant (scheduler never stepped)", "radiodiff", s,
                     "warning", ("lr",), 3_100, c.lr_constant, LR))
    s = _shape(last_step=40_000, every=100, seed=52, **RD)
    out.append(fault("lr_ten_times_config", "lr 10x the config on the decay's shape", "radiodiff", s, "warning",
                     ("lr",), 0, c.lr_scaled(10.0), LR))
    s = _shape(last_step=20_000, total_steps=150_000, disc_start=50_001, every=20, seed=53)
    out.append(fault("kl_explodes_long_ago", "KL explosion from 40% of the run", "trainer_csv", s, "error",
                     ("kl_loss",), 8_000, c.explode("kl_loss", 8_000, 1e6), frac=0.1))
    s = _shape(last_step=30_000, total_steps=150_000, disc_start=50_001, every=50, seed=55)
    out.append(fault("kl_exactly_zero", "KL term never computed (0 throughout)", "radiodiff", s, "warning",
                     ("kl_loss",), 0, c.zero("kl_loss")))
    s = _shape(last_step=30_000, total_steps=40_000, disc_start=15_001, every=20, seed=56)
    out.append(fault("d_weight_exactly_zero", "adversarial weight 0 once D is on", "trainer_csv", s, "warning",
                     ("d_weight",), 15_001, c.zero("d_weight", 15_001)))
    s = _shape(last_step=9_900, total_steps=20_000, disc_start=10_001, every=10, seed=54)
    out.append(fault("collapse_rec_stays_worse", "posterior collapse, rec 3x worse since 40%", "trainer_csv", s,
                     "warning", ("rec_loss", "nll_loss"), 4_000, c.collapse_with_worse_rec(4_000), rules=("loss-now",),
                     frac=0.1))
    return out


def _now_cases() -> list[Case]:
    out = []
    s = _shape(last_step=40_000, every=100, seed=21, **RD)
    out.append(
        fault(
            "explodes_now_phase1",
            "loss going bad now (100x over the last 5%)",
            "radiodiff",
            s,
            "error",
            LOSSES,
            38_000,
            c.explode("rec_loss", 38_000, 100),
        )
    )
    s = _shape(last_step=12_000, total_steps=20_000, disc_start=5_001, every=10, seed=22)
    out.append(
        fault(
            "explodes_after_disc_start",
            "loss going bad now (phase 2)",
            "trainer_csv",
            s,
            "error",
            LOSSES,
            10_000,
            c.explode("rec_loss", 10_000, 30),
        )
    )
    s = _shape(last_step=80_000, every=100, pixels=32_768, d_weight=5_000, disc_weight=1.0, g_on=-0.52, seed=23, **RD)
    out.append(
        fault(
            "negative_total_explodes_now",
            "negative total, then nll exploding",
            "radiodiff",
            s,
            "error",
            LOSSES,
            76_000,
            c.explode("rec_loss", 76_000, 50),
        )
    )
    return out


def _lr_val_cases() -> list[Case]:
    out = []
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=10, seed=24)
    tol = c.tol(s, 0.05)
    # nothing trained from 4,000: said once (how long, which phases), and the trend and GAN checks give no
    # all-clear of the 16,000 steps (the whole adversarial phase) that did not train
    out.append(Case("lr_zero_at_20pct", "lr drops to 0 at 20%", "trainer_csv", s, Expect("warning", (
        Fault(("lr",), 4_000, tol, ("lr-schedule",)), Fault(("lr",), 4_000, tol, ("run-stalled",))),
        no_ok=UNTRAINED_NO_OK), c.lr_edit("zero", 4_000)))
    s = _shape(last_step=30_000, total_steps=30_000, disc_start=15_001, every=50, lr_kind="constant", lr=4.5e-6,
               seed=124)
    tol = c.tol(s, 0.05)
    out.append(Case("lr_zero_whole_adversarial_phase", "lr 0 from disc_start to the end (LDM, Lightning CSV)",
                    "lightning", s, Expect("warning", (Fault(("lr",), 15_001, tol, ("run-stalled",)),),
                                           no_ok=UNTRAINED_NO_OK), c.lr_edit("zero", 15_001)))
    s = _shape(last_step=20_000, total_steps=40_000, disc_start=NO_GAN, every=20, seed=126)
    out.append(fault("lr_zero_losses_fall", "logged lr 0 from 10% while rec keeps falling (lr log not the "
                     "optimizer's)", "radiodiff", s, "warning", ("lr",), 2_000, c.lr_zero_logged_only(2_000),
                     rules=("run-stalled",)))
    s = _shape(last_step=100_000, every=100, seed=25, **RD)
    out.append(
        fault(
            "lr_frozen_at_20pct",
            "lr freezes at 20%",
            "radiodiff",
            s,
            "warning",
            ("lr",),
            20_000,
            c.lr_edit("freeze", 20_000),
            LR,
            frac=0.05,
        )
    )
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, seed=26)
    out.append(
        fault(
            "lr_jumps_x100_at_20pct",
            "lr jumps x100 at 20%",
            "trainer_csv",
            s,
            "warning",
            ("lr",),
            4_000,
            c.lr_edit("jump", 4_000),
            LR,
        )
    )
    s = _shape(last_step=30_000, every=50, seed=27, **RD)
    out.append(Case("stalled_lr0_flat", "stalled run (lr 0, losses flat)", "radiodiff", s, Expect("warning", (
        Fault(("lr", *LOSSES, "kl_loss"), 9_000, c.tol(s, 0.05)),
        Fault(LOSSES, 9_000, c.tol(s, 0.05), ("run-stalled",))), no_ok=UNTRAINED_NO_OK), c.stall(9_000)))
    s = _shape(
        last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, lr_kind="constant", lr=4.5e-6, seed=28
    )
    out.append(
        fault(
            "val_overfitting",
            "validation rising while train falls",
            "lightning",
            s,
            "warning",
            ("val/rec_loss",),
            10_000,
            c.validation(10_000, 500),
            frac=0.08,
        )
    )
    s = _shape(
        last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, lr_kind="constant", lr=4.5e-6, seed=29
    )
    out.append(
        fault(
            "val_missing",
            "validation missing where the config logs it",
            "lightning",
            s,
            "warning",
            ("val/rec_loss", None),
            None,
            c.no_validation(500),
        )
    )
    return out


def _gan_cases() -> list[Case]:
    out = []
    s = _shape(last_step=90_000, every=100, seed=30, **RD)
    out.append(
        fault(
            "d_not_learning_frozen_logits",
            "D not learning (identical constant logits)",
            "radiodiff",
            s,
            "warning",
            ("logits_real", "logits_fake", "disc_loss"),
            50_001,
            c.d_frozen(),
            frac=0.03,
        )
    )
    s = _shape(last_step=12_000, total_steps=12_000, disc_start=4_001, every=20, lr_kind="constant", lr=4.5e-6, seed=31)
    out.append(
        fault(
            "d_lr_zero",
            "D not learning (lr_disc 0)",
            "lightning",
            s,
            "warning",
            ("lr_disc", "logits_real", "logits_fake", "disc_loss"),
            4_001,
            c.d_frozen(lr_disc_zero=True),
            frac=0.34,
        )
    )
    s = _shape(
        last_step=60_000,
        total_steps=60_000,
        disc_start=20_001,
        every=50,
        disc_weight=5.0,
        d_weight=150,
        lr_kind="constant",
        lr=4.5e-6,
        seed=32,
    )
    out.append(
        fault(
            "generator_wins",
            "generator winning (D above chance, logits inverted, d_weight 150->17k)",
            "lightning_tb",
            s,
            "warning",
            ("d_weight", "disc_loss", "logits_fake", "logits_real", "g_loss"),
            36_000,
            c.generator_wins(36_000),
            frac=0.08,
        )
    )
    s = _shape(last_step=60_000, total_steps=60_000, disc_start=20_001, every=50, seed=34)
    out.append(fault("gan_oscillating", "GAN balance swinging from the switch-on: D wins then is fooled every 4,000 "
                     "steps, logits swapping, rec +30% while D wins", "trainer_csv", s, "warning",
                     ("disc_loss",), 20_001, c.oscillates(20_001, 4_000), rules=("gan-oscillation",), frac=0.03))
    s = _shape(last_step=30_000, total_steps=30_000, disc_start=10_001, every=20, seed=33)
    out.append(
        fault(
            "d_overpowering",
            "D overpowering (hinge -> 0, logits separated)",
            "trainer_csv",
            s,
            "warning",
            ("disc_loss", "logits_real", "logits_fake", "g_loss"),
            18_000,
            c.d_overpowers(18_000),
            frac=0.1,
        )
    )
    s = _shape(
        last_step=30_000,
        total_steps=30_000,
        disc_start=10_001,
        every=20,
        disc_loss="vanilla",
        lr_kind="constant",
        lr=4.5e-6,
        seed=44,
    )
    out.append(
        fault(
            "vanilla_d_overpowering",
            "D overpowering, vanilla loss (-> 0.05, logits at +-3)",
            "lightning_tb",
            s,
            "warning",
            ("disc_loss", "logits_real", "logits_fake", "g_loss"),
            16_000,
            c.d_overpowers(16_000, 3.0),
            frac=0.1,
        )
    )
    s = _shape(last_step=90_000, every=100, seed=34, **RD)
    out.append(
        fault(
            "d_weight_pinned",
            "d_weight pinned at its clamp",
            "radiodiff",
            s,
            "warning",
            ("d_weight",),
            60_000,
            c.pin_d_weight(60_000),
            frac=0.03,
        )
    )
    s = _shape(last_step=90_000, every=100, seed=35, **RD)
    out.append(
        fault(
            "rec_worse_after_disc",
            "reconstruction worse after disc_start",
            "radiodiff",
            s,
            "warning",
            ("rec_loss", "nll_loss"),
            50_001,
            _rec_worse(50_001),
            frac=0.05,
        )
    )
    return out


def _family_cases() -> list[Case]:
    out = []
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, kl_weight=1e-2, pixels=4_096, seed=36)
    out.append(
        fault("kl_dominant", "KL dominant (kl_weight 1e-2)", "trainer_csv", s, "warning", ("kl_loss",), None, None)
    )
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, seed=37)
    out.append(
        fault(
            "kl_collapse",
            "KL collapse",
            "trainer_csv",
            s,
            "warning",
            ("kl_loss",),
            6_000,
            c.kl_collapse(6_000),
            frac=0.1,
        )
    )
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=10, seed=38)
    out.append(
        fault(
            "nan_injected",
            "NaN in one step, recovered (the step skipped, as fp16's scaler does)",
            "trainer_csv",
            s,
            "warning",
            (*LOSSES, "kl_loss", "g_loss"),
            12_000,
            c.nan_at(12_000),
        )
    )
    s = _shape(last_step=80_000, every=100, seed=39, **RD)
    out.append(
        fault(
            "disc_never_starts",
            "D never starts after disc_start",
            "radiodiff",
            s,
            "error",
            ("disc_factor", "disc_loss", "g_loss"),
            50_001,
            c.disc_never_on,
            frac=0.05,
        )
    )
    s = _shape(
        last_step=40_000,
        total_steps=40_000,
        disc_start=20_001,
        every=50,
        regularizer="vq",
        pixels=1,
        d_weight=0.8,
        disc_weight=0.8,
        lr_kind="constant",
        lr=4.5e-6,
        seed=40,
    )
    out.append(
        fault(
            "vqgan_quant_explodes_now",
            "VQGAN codebook loss exploding now",
            "vq_tb",
            s,
            "error",
            ("quant_loss", "total_loss"),
            38_000,
            c.explode("quant_loss", 38_000, 100),
        )
    )
    s = _shape(
        last_step=40_000,
        total_steps=40_000,
        disc_start=20_001,
        every=50,
        regularizer="vq",
        pixels=1,
        d_weight=0.8,
        disc_weight=0.8,
        lr_kind="constant",
        lr=4.5e-6,
        seed=41,
    )
    out.append(
        fault(
            "vqgan_d_weight_pinned",
            "VQGAN d_weight at its clamp",
            "vq_tb",
            s,
            "warning",
            ("d_weight",),
            30_000,
            c.pin_d_weight(30_000),
        )
    )
    s = _shape(
        last_step=30_000,
        total_steps=30_000,
        disc_start=15_001,
        every=20,
        learned_logvar=True,
        lr_kind="constant",
        lr=4.5e-6,
        seed=42,
    )
    out.append(
        fault(
            "sgm_rec_explodes_now",
            "sgm run exploding now",
            "sgm_tb",
            s,
            "error",
            LOSSES,
            28_500,
            c.explode("rec_loss", 28_500, 100),
        )
    )
    s = _shape(
        last_step=30_000,
        total_steps=30_000,
        disc_start=15_001,
        every=20,
        learned_logvar=True,
        lr_kind="constant",
        lr=4.5e-6,
        seed=43,
    )
    out.append(
        fault(
            "sgm_d_overpowering",
            "sgm D overpowering",
            "sgm_tb",
            s,
            "warning",
            ("disc_loss", "logits_real", "logits_fake", "g_loss"),
            20_000,
            c.d_overpowers(20_000),
            frac=0.1,
        )
    )
    return out


def _balance_cases() -> list[Case]:
    """GAN balance from all its signals, onsets where the evidence is, schedules only as the config names them."""
    out = []
    s = _shape(last_step=30_000, total_steps=30_000, disc_start=10_001, every=20, seed=81)
    out.append(fault("d_pulls_ahead", "D pulling ahead (disc_loss 1.09 -> 0.42, logit gap 2.6, g 0.13 -> 1.1)",
                     "trainer_csv", s, "warning", ("disc_loss", "logits_real", "logits_fake", "g_loss"), 18_000,
                     c.d_pulls_ahead(18_000), rules=("disc-overpowering",), frac=0.1))
    s = _shape(last_step=40_000, total_steps=40_000, disc_start=10_001, every=20, seed=90)
    out.append(fault("d_wins_rec_rises_in_phase", "D wins from 18,000; rec held, then +60% from 22,000 to the end",
                     "trainer_csv", s, "warning", ("disc_loss", "logits_real", "logits_fake", "g_loss"), 18_000,
                     c.d_wins_then_rec_rises(18_000, 22_000, 1.6), rules=("disc-overpowering",), frac=0.1))
    s = _shape(last_step=30_000, total_steps=30_000, disc_start=10_001, every=20, seed=91)
    out.append(fault("d_wins_late_rec_pays", "rec still falling after the switch-on; D wins from 20,000 and rec rises "
                     "x1.35 from there (below its switch-on level, above its level where D began to win)",
                     "trainer_csv", s, "warning", ("disc_loss", "logits_real", "logits_fake", "g_loss"), 20_000,
                     c.d_wins_late_rec_pays(20_000, 1.35, 1_500), rules=("disc-overpowering",), frac=0.1))
    s = _shape(last_step=30_000, total_steps=30_000, disc_start=10_001, every=20, disc_weight=5.0, seed=82)
    out.append(fault("strong_disc_not_overfitting", "disc_weight 5: training rec x4.6 and val x10 after disc_start",
                     "trainer_csv", s, "warning", ("rec_loss", "nll_loss"), 10_001, c.strong_disc(4.6, 10.0, 500),
                     rules=("rec-after-disc",), frac=0.05))
    s = _shape(last_step=40_000, total_steps=40_000, disc_start=10_001, every=20, seed=83)
    out.append(fault("d_weight_clamp_bursts", "d_weight at its clamp in five bursts, rec x3 in each",
                     "trainer_csv", s, "warning", ("d_weight",), 15_000,
                     c.clamp_bursts((15_000, 20_000, 25_000, 30_000, 35_000), 200), rules=("d-weight-pinned",)))
    s = _shape(last_step=40_000, every=100, seed=84, **RD)
    out.append(fault("rec_slow_rise", "rec +24% over the last 30% of the run (a slow drift)", "radiodiff", s,
                     "warning", ("rec_loss", "nll_loss"), 28_000, c.slow_rise(28_000, 1.24), rules=("loss-now",),
                     frac=0.08))
    s = _shape(last_step=100_000, every=100, seed=85, **RD)
    out.append(fault("nan_then_level_shift", "one NaN step at 90,000, rec 40% worse after it", "radiodiff", s,
                     "warning", (*LOSSES, "kl_loss", "g_loss"), 90_000, c.nan_then_shift(90_000, 1.4),
                     rules=("non-finite",), frac=0.02))
    s = _shape(last_step=30_000, total_steps=30_000, disc_start=10_001, every=20, disc_weight=2.0, seed=87)
    out.append(fault("gan_term_dominates", "d_weight 800 -> 8,000 and g_loss 0.05 -> 0.6: the GAN term outweighs nll",
                     "trainer_csv", s, "warning", ("total_loss",), 16_000, c.gan_term_grows(16_000, 8_000, 0.6),
                     rules=("gan-term-dominant",), frac=0.1))
    s = _shape(last_step=40_000, every=100, lr=5e-4, min_lr=5e-5, seed=89, **RD)
    out.append(fault("lr_100x_default_slow_rise", "config lr 5e-4 (100x RadioDiff's), rec +30% over the last 30%",
                     "radiodiff", s, "warning", ("rec_loss", "nll_loss"), 28_000, c.slow_rise(28_000, 1.3),
                     rules=("loss-now",), frac=0.08))
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, lr=1e-4, seed=90)
    out.append(fault("lr_zero_unnamed_schedule", "another trainer's linear decay, lr 0 from 40% on", "other_csv", s,
                     "warning", ("lr",), 8_000, c.lr_linear_then_zero(1e-4, 1e-6, 8_000), LR))
    s = _shape(last_step=20_000, total_steps=20_000, disc_start=10_001, every=20, lr=1e-4, lr_kind="constant",
               seed=94)
    out.append(fault("lr_cosine_named_never_decays", "config names a cosine decay to 1e-6, the lr stays at 1e-4",
                     "other_csv", s, "warning", ("lr",), 1_800,
                     c.lr_named("constant", 1e-4, patch={"optim": {"scheduler": "cosine", "warmup_steps": 0,
                                                                   "min_lr": 1e-6}}), LR))
    s = _shape(last_step=120_000, every=100, seed=95, **RD)
    out.append(fault("d_weight_clamp_regime", "d_weight at its clamp at ~60% of the points from 90,000, on and off",
                     "radiodiff", s, "warning", ("d_weight",), 90_000, c.clamp_regime(90_000, 0.6),
                     rules=("d-weight-pinned",), frac=0.02))
    s = _shape(last_step=40_000, total_steps=40_000, disc_start=NO_GAN, every=20, pixels=4, seed=96)
    out.append(fault("rec_explodes_saturating", "rec x40 from 70%, climbing geometrically then levelling off",
                     "other_csv", s, "error", ("rec_loss", "total_loss", "nll_loss"), 28_000,
                     c.explode_saturating("rec_loss", 28_000, 40.0, 4_000), rules=("loss-now",), frac=0.02))
    s = _shape(last_step=30_000, every=50, seed=88, **RD)
    out.append(fault("kl_per_dim_far_above", "KL 25x the healthy level: ~235 nats per latent dimension", "radiodiff",
                     s, "warning", ("kl_loss",), None, c.scale("kl_loss", 25.0), rules=("kl-rising",)))
    return out


def _rec_worse(at: int):
    def edit(steps, v, shape):
        v["rec_loss"] = v["rec_loss"] * c.ramp(steps, at, at + (shape.last_step - at) // 10, 1.6)

    return edit


def all_cases() -> list[Case]:
    return healthy_cases() + fault_cases() + heldout_healthy() + heldout_faults()
