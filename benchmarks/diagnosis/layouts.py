"""A synthetic run's folder, laid out as each trainer writes it (logs plus the config beside them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import writers as w
from .curves import Shape

LDM_DIR = "logs/2026-02-02T06-58-01_autoencoder_kl"


def emit(folder: Path, layout: str, shape: Shape, steps: np.ndarray, v: dict, val: dict | None = None,
         step_scale: int = 1, val_check_interval: int | None = None) -> None:
    """Write ``v`` (per logged step) into ``folder`` as ``layout`` writes it."""
    s = shape
    if layout in ("radiodiff", "radiodiff_text"):
        config = w.radiodiff_config(s.disc_start, s.total_steps, s.kl_weight, s.disc_weight,
                                    log_freq=max(s.every, 100 if s.total_steps > 10_000 else 10), lr=s.lr,
                                    min_lr=s.min_lr)
        w.write_yaml(folder / "first_radio.yaml", config)
        if layout == "radiodiff":
            w.radiodiff_tb(folder, steps, v)
        w.radiodiff_text(folder, steps, v, config, s.total_steps, config["trainer"]["log_freq"])
    elif layout == "trainer_csv":
        config = w.radiodiff_config(s.disc_start, s.total_steps, s.kl_weight, s.disc_weight, log_freq=s.every,
                                    lr=s.lr, min_lr=s.min_lr)
        w.write_yaml(folder / "config.yaml", config)
        keys = [k for k in (*w.AE_KEYS, *w.DISC_KEYS) if k in v] + ["lr"]
        w.trainer_csv(folder / "metrics.csv", steps, v, keys)
    elif layout in ("lightning", "lightning_tb"):
        root = folder / LDM_DIR
        config = w.ldm_config(s.disc_start, s.kl_weight, s.disc_weight, s.disc_loss)
        w.write_yaml(root / "configs/2026-02-02T06-58-01-project.yaml", config)
        lightning = {"trainer": {"benchmark": True, "accumulate_grad_batches": 2}}
        if val_check_interval:
            lightning["trainer"]["val_check_interval"] = val_check_interval
        w.write_yaml(root / "configs/2026-02-02T06-58-01-lightning.yaml", {"lightning": lightning})
        if layout == "lightning":
            w.lightning_csv(root / "lightning_logs/version_0/metrics.csv", steps, v, step_scale, val)
        else:
            tags = {"lr-Adam": v["lr"], "aeloss_step": v["total_loss"]}
            tags |= {f"train/{k}": v[k] for k in (*w.AE_KEYS, *w.DISC_KEYS)}
            w.write_tb(root / "lightning_logs/version_0", steps, tags)
    elif layout == "vq_tb":
        root = folder / "logs/2026-02-02T06-58-01_custom_vqgan"
        w.write_yaml(root / "configs/2026-02-02T06-58-01-project.yaml",
                     w.taming_vq_config(s.disc_start, s.codebook_weight, s.disc_weight))
        tags = {"lr-Adam": v["lr"], "aeloss_step": v["total_loss"], "discloss_step": v["disc_loss"]}
        tags |= {f"train/{k}": v[k] for k in (*w.VQ_AE_KEYS, *w.DISC_KEYS)}
        w.write_tb(root / "lightning_logs/version_0", steps, tags)
    elif layout == "sgm_tb":
        root = folder / "logs/2026-02-02T06-58-01_kl-f4"
        w.write_yaml(root / "configs/2026-02-02T06-58-01-project.yaml",
                     w.sgm_config(s.disc_start, s.kl_weight, s.disc_weight))
        tags = {"lr-Adam": v["lr"]} | {f"train/{tag}": v[key] for tag, key in w.SGM_TAGS.items()}
        w.write_tb(root / "lightning_logs/version_0", steps, tags)
    else:
        raise ValueError(f"unknown layout {layout}")
