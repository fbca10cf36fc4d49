"""The battery's runs of the published-log classes of issue 17's second round (writers in published.py; why
each verdict in README.md)."""

from __future__ import annotations

from . import cases as c
from .cases import Case
from .curves import Shape
from .expect import Expect, Fault
from .field import constant_disc, with_sibling

NO_GAN = 1_000_001  # another trainer's run without a discriminator


def other_trainer(**kw) -> Shape:
    """Another trainer's run without a discriminator (a plain VAE loop's settings), with ``kw`` changed."""
    base = dict(total_steps=10_000, disc_start=NO_GAN, pixels=1_000, kl_weight=2e-5, lr_kind="constant", lr=1e-4)
    return Shape(**{**base, **kw})


def published_healthy() -> list[Case]:
    ok = Expect("ok")
    return [
        Case("healthy_pt_examples_samples", "pytorch/examples' VAE print loop: samples seen, epoch and test lines",
             "pt_examples", other_trainer(last_step=9_990, every=10, seed=91), ok),
        Case("healthy_mmengine_two_jsons", "mmengine: {:.4f} log, the same scalars in two JSON files",
             "mmengine_files", other_trainer(last_step=10_000, every=50, seed=92), ok),
        Case("healthy_detectron2_files", "detectron2: {:.4g} log.txt with [MM/DD] stamps, metrics.json, config.yaml",
             "detectron2_files", other_trainer(last_step=9_980, every=20, seed=93), ok),
        Case("healthy_keras_tensorboard", "Keras' TensorBoard callback: train/ and validation/, epoch_* tensor "
             "summaries at the epoch's index", "keras_tensorboard",
             other_trainer(last_step=29_999, total_steps=30_000, every=50, seed=101), ok),
        Case("healthy_ddp_rank_logs", "one log per DDP rank (train_rank0..3.log), same steps, written at once",
             "ddp_rank_logs", other_trainer(last_step=9_950, every=50, seed=102), ok),
        Case("healthy_suffix_tag_sweep", "a sweep of event folders tagged Recon/train, KLD/train, Loss/test",
             "suffix_tag_sweep", other_trainer(last_step=10_000, every=20, seed=94), ok, fault=with_sibling()),
    ]


def published_faults() -> list[Case]:
    out = []
    s = other_trainer(last_step=9_990, every=10, seed=95)
    out.append(Case("dcgan_disc_never_trains", "DCGAN's [e/N][i/M] print: D at 2 ln 2, D(x) = D(G(z)) = 0.5 all run",
                    "dcgan_console", s, Expect("warning", (Fault(("disc_loss",), 0, c.tol(s),
                                                                 ("loss-constant", "disc-at-chance")),)),
                    constant_disc))
    s = other_trainer(last_step=29_999, total_steps=30_000, every=50, pixels=784, kl_weight=1.0, seed=96)
    # a row per epoch of 500 steps: KL collapses at step 12,000, epoch 24
    out.append(Case("keras_csv_kl_collapse", "Keras CSVLogger history.csv (epoch the only counter), KL collapse",
                    "keras_csvlogger", s, Expect("warning", (Fault(("kl_loss",), 24, 3, ("kl-collapse",)),)),
                    c.kl_collapse(12_000)))
    s = other_trainer(last_step=29_999, total_steps=30_000, every=50, pixels=784, kl_weight=1.0, seed=103)
    out.append(Case("keras_tensorboard_kl_collapse", "Keras' TensorBoard callback (train/, validation/, epoch_*), "
                    "KL collapse", "keras_tensorboard", s,
                    Expect("warning", (Fault(("kl_loss",), 24, 3, ("kl-collapse",)),)), c.kl_collapse(12_000)))
    s = other_trainer(last_step=20_000, total_steps=20_000, every=50, seed=97)
    out.append(Case("loguru_epoch_iter_explodes", "loguru 'epoch e | iter i/N' lines (a global iteration), the loss "
                    "exploding now", "loguru_epoch_iter", s,
                    Expect("error", (Fault(("total_loss", "rec_loss"), 18_000, c.tol(s), ("loss-now",)),)),
                    c.explode("rec_loss", 18_000, 100)))
    s = other_trainer(last_step=19_900, total_steps=20_000, every=100, seed=99)
    out.append(Case("tutorial_step_per_epoch_explodes", "pytorch-tutorial's VAE print, Epoch[e/E], Step [i/N] (a step "
                    "within the epoch): rec exploding from 90%", "tutorial_console", s,
                    Expect("error", (Fault(("rec_loss",), 18_000, c.tol(s), ("loss-now",)),)),
                    c.explode("rec_loss", 18_000, 100)))
    s = other_trainer(last_step=19_980, total_steps=20_000, every=20, seed=104)
    out.append(Case("epoch_step_csv_explodes", "csv.writer's epoch,step with step the batch in the epoch (it starts "
                    "over each epoch): rec exploding from 90%", "epoch_step_csv", s,
                    Expect("error", (Fault(("rec_loss",), 18_000, c.tol(s), ("loss-now",)),)),
                    c.explode("rec_loss", 18_000, 100)))
    s = other_trainer(last_step=29_999, total_steps=30_000, every=50, pixels=784, kl_weight=1.0, seed=105)
    out.append(Case("keras_training_log_kl_collapse", "Keras CSVLogger('training.log') (a CSV named .log, as in "
                    "Keras' docs), KL collapse", "keras_training_log", s,
                    Expect("warning", (Fault(("kl_loss",), 24, 3, ("kl-collapse",)),)), c.kl_collapse(12_000)))
    s = other_trainer(last_step=19_980, total_steps=20_000, every=20, seed=106)
    out.append(Case("tb_batch_idx_explodes", "SummaryWriter at step=batch_idx (it starts over each epoch, the clock "
                    "runs on): rec exploding from 90%", "tb_batch_idx", s,
                    Expect("error", (Fault(("rec_loss", "total_loss"), 18_000, c.tol(s), ("loss-now",)),)),
                    c.explode("rec_loss", 18_000, 100)))
    s = other_trainer(last_step=19_980, total_steps=20_000, every=20, seed=107)
    out.append(Case("opt_step_console_explodes", "'it N | opt_step M' lines (4 micro-batches per optimizer step), "
                    "config in optimizer steps: rec exploding from 90%", "opt_step_console", s,
                    Expect("error", (Fault(("rec_loss", "total_loss"), 18_000, c.tol(s), ("loss-now",)),)),
                    c.explode("rec_loss", 18_000, 100)))
    s = other_trainer(last_step=10_000, every=20, seed=98)
    out.append(Case("suffix_tag_sweep_one_diverges", "Recon/train, KLD/train event folders of a sweep: one explodes "
                    "at 70%", "suffix_tag_sweep", s,
                    Expect("error", (Fault(("total_loss", "rec_loss"), 7_000, c.tol(s), ("loss-now",)),)),
                    with_sibling(c.explode("rec_loss", 7_000, 100))))
    return out
