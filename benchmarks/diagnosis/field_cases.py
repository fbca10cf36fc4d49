"""The battery's runs of issue 17's classes: logs as the field publishes them (see field.py for the writers
and README.md for why each verdict)."""

from __future__ import annotations

from . import cases as c
from .cases import Case
from .curves import Shape
from .expect import Expect, Fault
from .field import constant_disc, with_sibling
from .published_cases import published_faults, published_healthy

NO_GAN = 1_000_001  # another trainer's run without a discriminator


def _shape(**kw) -> Shape:
    base = dict(total_steps=10_000, disc_start=NO_GAN, pixels=1_000, kl_weight=2e-5, lr_kind="constant", lr=1e-4)
    return Shape(**{**base, **kw})


def _fault(name, klass, layout, shape, status, metrics, onset, edit, rules=("*",), frac=0.05) -> Case:
    return Case(name, klass, layout, shape,
                Expect(status, (Fault(tuple(metrics), onset, c.tol(shape, frac), tuple(rules)),)), edit)


def _epochs_of(iters: int):
    def edit(steps, v, shape):
        return {"epoch_iters": iters}
    return edit


def field_healthy() -> list[Case]:
    ok = Expect("ok")
    return [
        Case("healthy_mmcv_log_json", "mmcv *.log.json: meta line, iter restarting each epoch, val records",
             "mmcv_jsonl", _shape(last_step=9_999, every=50, seed=81), ok, fault=_epochs_of(1_000)),
        Case("healthy_hf_trainer_state", "Hugging Face trainer_state.json log_history", "hf_trainer_state",
             _shape(last_step=10_000, every=50, seed=82), ok),
        Case("healthy_json_lists", "a dict of loss lists dumped at the end (index = step)", "json_lists",
             _shape(last_step=2_999, total_steps=3_000, every=1, seed=83), ok),
        Case("healthy_kld_minus_sign", "KLD logged as -KL, loss = MSE - w x KLD (the convention, not a sign error)",
             "plain_jsonl", _shape(last_step=9_990, every=10, seed=84), ok),
        Case("healthy_wandb_console_and_summary", "W&B run without its .wandb: files/output.log + summary",
             "wandb_files", _shape(last_step=9_990, every=10, seed=85), ok),
        Case("healthy_add_scalars_folders", "SummaryWriter.add_scalars('train', {...}): a sub-folder per key, each "
             "holding the tag 'train'", "add_scalars_tb", _shape(last_step=9_990, every=10, seed=90), ok),
        Case("healthy_semicolon_decimal_comma_csv", "a ';' CSV with decimal commas (European-locale spreadsheet)",
             "semicolon_csv", _shape(last_step=9_990, every=10, seed=91), ok),
        Case("healthy_wandb_resumed_in_one_run", "W&B run whose own global_step goes back once (resumed from its "
             "checkpoint at half the run inside the same run)", "wandb_resumed",
             _shape(last_step=9_990, every=10, seed=92),
             # the resume said where it was (the whole file read on W&B's count of calls put the run at 1,099)
             Expect("ok", (Fault((None,), 5_000, 0, ("resumes",), "info"),))),
        *published_healthy(),
    ]


def field_faults() -> list[Case]:
    out = []
    s = _shape(last_step=10_000, every=50, seed=86)
    out.append(_fault("hf_trainer_state_explodes", "trainer_state.json, reconstruction exploding from 80%",
                      "hf_trainer_state", s, "error", ("total_loss", "rec_loss"), 8_000,
                      c.explode("rec_loss", 8_000, 100), rules=("loss-now",)))
    s = _shape(last_step=9_990, every=10, seed=87)
    out.append(_fault("disc_constant_2ln2", "a discriminator's BCE at 2 ln 2 for the whole run (never trained)",
                      "plain_jsonl", s, "warning", ("disc_loss",), 0, constant_disc, rules=("loss-constant",)))
    s = _shape(last_step=10_000, every=20, seed=88)
    out.append(_fault("event_sweep_one_diverges",
                      "BN_0.01/ and no_BN_0.05/ event folders (a sweep): one explodes at 70%",
                      "event_sweep", s, "error", ("total_loss", "rec_loss"), 7_000,
                      with_sibling(c.explode("rec_loss", 7_000, 100)), rules=("loss-now",)))
    s = _shape(last_step=9_999, every=10, seed=89)
    out.append(_fault("nested_versions_kl_explodes", "repo root, logs/vae/version_0 and _1 (two attempts): the older's "
                      "KL explodes at 60%", "nested_versions", s, "error", ("kl_loss",), 6_000,
                      with_sibling(c.explode("kl_loss", 6_000, 1e4)), frac=0.1))
    s = _shape(last_step=9_990, every=10, seed=92)
    out.append(_fault("add_scalars_rec_explodes", "add_scalars sub-folders (train_rec_loss/...): reconstruction "
                      "exploding from 70%", "add_scalars_tb", s, "error", ("total_loss", "rec_loss"), 7_000,
                      c.explode("rec_loss", 7_000, 100), rules=("loss-now",)))
    s = _shape(last_step=9_990, every=10, seed=93)
    out.append(_fault("semicolon_csv_rec_explodes", "a ';' CSV with decimal commas: reconstruction exploding from "
                      "80%", "semicolon_csv", s, "error", ("total_loss", "rec_loss"), 8_000,
                      c.explode("rec_loss", 8_000, 100), rules=("loss-now",)))
    return out + published_faults()
