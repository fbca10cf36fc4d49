"""Runs of the bundled trainer (``trainer/``) with faults induced from outside it: the config (kl_weight,
disc_weight), or a driver that wraps the trainer's own functions before training (lr multiplier, a NaN in one
batch, the discriminator's optimizer step made a no-op). Each trains in a subprocess, so a patch never leaks."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .curves import Shape
from .expect import Expect, Fault

STEPS, DISC_START, EVERY = 300, 151, 5


def tiny_config(**loss) -> dict:
    """16x16 maps, a small model: ~300 steps in well under a minute on two CPU threads."""
    return {"model": {"embed_dim": 3,
                      "lossconfig": {"disc_start": DISC_START, "kl_weight": 1e-6, "disc_weight": 0.5,
                                     "disc_in_channels": 1, "disc_num_layers": 2} | loss,
                      "ddconfig": {"double_z": True, "z_channels": 3, "resolution": 16, "in_channels": 1,
                                   "out_ch": 1, "ch": 32, "ch_mult": [1, 2], "num_res_blocks": 1,
                                   "attn_resolutions": [], "dropout": 0.0}},
            "data": {"name": "synthetic", "batch_size": 8, "num_samples": 256, "seed": 0},
            "trainer": {"gradient_accumulate_every": 2, "lr": 2e-4, "min_lr": 1e-5, "train_num_steps": STEPS,
                        "save_and_sample_every": 0, "log_freq": EVERY, "seed": 0, "threads": 1}}


@dataclass(frozen=True)
class TrainerCase:
    name: str
    klass: str
    expect: Expect
    loss: dict = field(default_factory=dict)
    patch: str = ""  # a driver patch below
    layout: str = "trainer"
    source: str = "trainer"
    shape: Shape = field(default_factory=lambda: Shape(last_step=STEPS - EVERY, total_steps=STEPS,
                                                       disc_start=DISC_START, every=EVERY))

    def build(self, folder: Path) -> None:
        config = folder / "input.yaml"
        config.write_text(yaml.safe_dump(tiny_config(**self.loss)))
        run = folder / "run"
        command = [sys.executable, "-m", "benchmarks.diagnosis.trainer_runs", str(config), str(run), self.patch]
        subprocess.run(command, check=True, cwd=Path(__file__).resolve().parents[2], capture_output=True)
        config.unlink()  # the trainer wrote its own config.yaml beside its logs


def _tol(frac: float = 0.05) -> int:
    return max(3 * EVERY, int(frac * STEPS))


def trainer_cases() -> list[TrainerCase]:
    lr = ("lr-*", "*lr*", "*schedule*", "*stall*")
    ae_only = {"disc_start": 100_001}  # an autoencoder-only run (the GAN starts long after this one ends)
    losses = ("total_loss", "nll_loss", "rec_loss", "kl_loss", "g_loss", "d_weight", "logvar", "disc_loss",
              "logits_real", "logits_fake")
    return [
        TrainerCase("trainer_healthy_ae_only", "healthy, short, phase 1 (bundled trainer)", Expect("ok"),
                    loss=ae_only),
        TrainerCase("trainer_d_overpowers", "D overpowering (a 2-layer D on 16x16 maps wins within ~50 steps)",
                    Expect("warning", (Fault(("disc_loss", "logits_real", "logits_fake", "g_loss"), 185, 45),))),
        TrainerCase("trainer_lr_zero_at_20pct", "lr forced to 0 at 20%", Expect(
            "warning", (Fault(("lr",), 60, _tol(), lr),)), loss=ae_only, patch="lr_zero"),
        TrainerCase("trainer_lr_x100_at_50pct", "lr x100 at 50%", Expect(
            "warning", (Fault(("lr",), 150, _tol(), lr),)), loss=ae_only, patch="lr_x100"),
        TrainerCase("trainer_nan_batch", "NaN injected into one batch", Expect(
            "error", (Fault(losses, 200, _tol(0.02)),)), loss=ae_only, patch="nan"),
        TrainerCase("trainer_kl_weight_1", "KL dominant (kl_weight 1 at 16x16, ~1e-2 at RadioDiff's scale)",
                    Expect("warning", (Fault(("kl_loss",), None),)), loss=ae_only | {"kl_weight": 1.0}),
        TrainerCase("trainer_disc_frozen", "discriminator optimizer never steps", Expect(
            "warning", (Fault(("disc_loss", "logits_real", "logits_fake"), DISC_START, _tol(0.1)),)),
            patch="disc_frozen"),
        TrainerCase("trainer_disc_weight_10", "disc_weight 10: the GAN term swamps reconstruction", Expect(
            "warning", (Fault(("rec_loss", "nll_loss", "total_loss", "d_weight", "disc_loss", "g_loss",
                               "logits_real", "logits_fake"), 155, 30),)), loss={"disc_weight": 10.0}),
    ]


# --- the driver: python -m benchmarks.diagnosis.trainer_runs CONFIG OUT PATCH ---

def _apply(patch: str) -> None:
    import torch

    import trainer.main as tm

    if patch == "lr_zero":
        base = tm.lr_multiplier
        tm.lr_multiplier = lambda step, total, lr, min_lr: 0.0 if step >= total // 5 else base(step, total, lr, min_lr)
    elif patch == "lr_x100":
        base = tm.lr_multiplier
        tm.lr_multiplier = lambda step, total, lr, min_lr: base(step, total, lr, min_lr) * (100 if step >= total // 2
                                                                                            else 1)
    elif patch == "nan":
        step_fn = tm._train_step

        def poisoned(train_model, model, loss_fn, batch, step, *rest):
            if step == 200:
                batch = batch.clone()
                batch[0, 0, 0, 0] = float("nan")
            return step_fn(train_model, model, loss_fn, batch, step, *rest)
        tm._train_step = poisoned
    elif patch == "disc_frozen":
        build = tm.build_state

        def frozen(config):
            state = build(config)
            state.opt_disc.step = lambda *a, **k: None
            return state
        tm.build_state = frozen
    elif patch:
        raise SystemExit(f"unknown patch {patch}")
    del torch


if __name__ == "__main__":
    _config, _out, _patch = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
    _apply(_patch)
    import trainer.main as _tm

    _tm.run_training(_config, _out, quiet=True)
