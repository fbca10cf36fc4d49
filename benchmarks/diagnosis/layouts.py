"""A synthetic run's folder, laid out as each trainer writes it (logs plus the config beside them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import field, heldout, published
from . import writers as w
from .curves import Shape

LDM_DIR = "logs/2026-02-02T06-58-01_autoencoder_kl"
RESUMED_STAMP = "2026-02-03T01-12-44"  # latent-diffusion's main.py saves the configs again, named by the resume


@dataclass(frozen=True)
class Resume:
    """A run resumed from a checkpoint at step ``at`` into a new log file (Lightning: a new ``version_N``). The
    earlier process logged ``overrun`` steps past ``at`` before it was killed (those points are replaced by the
    later file's); the later one began ``gap`` seconds after the earlier one's last record, and no longer logs
    ``drop``."""

    at: int
    overrun: int = 0
    gap: float = 1800.0
    drop: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecondProcess:
    """Another process writing into the same folder, started ``after`` seconds after the first: its own steps
    (from 0) and values."""

    after: float
    steps: np.ndarray
    v: dict


def _patched(config: dict, patch: dict | None) -> dict:
    """``config`` with ``patch``'s values set, nested mappings merged."""
    out = dict(config)
    for key, value in (patch or {}).items():
        out[key] = _patched(out.get(key) or {}, value) if isinstance(value, dict) else value
    return out


def emit(folder: Path, layout: str, shape: Shape, steps: np.ndarray, v: dict, val: dict | None = None,
         step_scale: int = 1, val_check_interval: int | None = None, config_patch: dict | None = None,
         resume: Resume | None = None, earlier: dict | None = None, second: SecondProcess | None = None,
         epoch_iters: int = 500, print_every: int = 10, config_twice: tuple[str, object] | None = None,
         **field_options) -> None:
    """Write ``v`` (per logged step) into ``folder`` as ``layout`` writes it. ``resume``: two files, the earlier
    one with ``earlier``'s values (the killed process's, ``v`` if None), the later one with ``v``'s; ``second``:
    another process's files beside the first one's; ``config_twice``: (dotted key, a value) given first in the
    config, before the key's own line."""
    s = shape
    if layout in ("radiodiff", "radiodiff_text"):
        config = w.radiodiff_config(s.disc_start, s.total_steps, s.kl_weight, s.disc_weight,
                                    log_freq=max(s.every, 100 if s.total_steps > 10_000 else 10), lr=s.lr,
                                    min_lr=s.min_lr)
        config = _patched(config, config_patch)
        w.write_yaml(folder / "first_radio.yaml", config)
        if config_twice is not None:
            _give_twice(folder / "first_radio.yaml", *config_twice)
        runs = [(steps, v, 0.0, "2026-11-23-23-06_.log")]
        if second is not None:  # RadioDiff names its text log by the start minute; each process its events file
            runs.append((second.steps, second.v, second.after, "2026-11-24-00-06_.log"))
        for run_steps, run_v, offset, name in runs:
            if layout == "radiodiff":
                w.radiodiff_tb(folder, run_steps, run_v, wall_offset=offset)
            w.radiodiff_text(folder, run_steps, run_v, config, s.total_steps, config["trainer"]["log_freq"],
                             name=name, wall_offset=offset)
    elif layout == "trainer_csv":
        config = w.radiodiff_config(s.disc_start, s.total_steps, s.kl_weight, s.disc_weight, log_freq=s.every,
                                    lr=s.lr, min_lr=s.min_lr)
        w.write_yaml(folder / "config.yaml", _patched(config, config_patch))
        keys = [k for k in (*w.AE_KEYS, *w.DISC_KEYS) if k in v] + ["lr"]
        w.trainer_csv(folder / "metrics.csv", steps, v, keys, val)
    elif layout == "other_csv":  # another trainer's: its own config keys (no scheduler named), a CSV of its own
        w.write_yaml(folder / "train_config.yaml", _patched(w.other_config(s), config_patch))
        keys = [k for k in (*w.AE_KEYS, *w.DISC_KEYS) if k in v] + ["lr"] + [k for k in w.GRAD_KEYS if k in v]
        w.trainer_csv(folder / "metrics.csv", steps, v, keys, val)
    elif layout in ("lightning", "lightning_tb"):
        root = folder / LDM_DIR
        config = _patched(w.ldm_config(s.disc_start, s.kl_weight, s.disc_weight, s.disc_loss), config_patch)
        lightning = {"trainer": {"benchmark": True, "accumulate_grad_batches": 2}}
        if val_check_interval:
            lightning["trainer"]["val_check_interval"] = val_check_interval
        stamps = ["2026-02-02T06-58-01"] + ([RESUMED_STAMP] if resume is not None else [])
        for stamp in stamps:
            w.write_yaml(root / f"configs/{stamp}-project.yaml", config)
            w.write_yaml(root / f"configs/{stamp}-lightning.yaml", {"lightning": lightning})
        if resume is None:
            parts = [(steps, v, 0.0, tuple(v))]
        else:  # the killed process up to where it stopped, the resumed one (a new version) from its checkpoint
            first = steps <= resume.at + resume.overrun if resume.overrun else steps < resume.at
            later = steps >= resume.at
            offset = (resume.overrun * 0.5 if resume.overrun else 0.0) + resume.gap
            old = earlier if earlier is not None else v
            parts = [(steps[first], {k: x[first] for k, x in old.items()}, 0.0, tuple(old)),
                     (steps[later], {k: x[later] for k, x in v.items()}, offset,
                      tuple(k for k in v if k not in resume.drop))]
        for version, (part_steps, part, offset, keys) in enumerate(parts):
            logs = root / f"lightning_logs/version_{version}"
            ae_keys = [k for k in w.AE_KEYS if k in keys]
            if layout == "lightning":
                part_val = None if val is None else {k: x[np.isin(steps, part_steps)] for k, x in val.items()}
                w.lightning_csv(logs / "metrics.csv", part_steps, part, step_scale, part_val, ae_keys=ae_keys)
            else:
                tags = {"lr-Adam": part["lr"], "aeloss_step": part["total_loss"]}
                tags |= {f"train/{k}": part[k] for k in (*ae_keys, *w.DISC_KEYS)}
                w.write_tb(logs, part_steps, tags, wall_offset=offset)
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
    elif layout == "loguru_console":  # another trainer: no config beside it, one [Loss] (its total)
        w.loguru_console(folder / "train.log", steps, v["total_loss"], epoch_iters)
    elif layout == "powershell_console":  # a console captured by PowerShell: UTF-16LE, a mark, CRLF
        w.powershell_console(folder / "train.log", steps, {k: v[k] for k in ("total_loss", "rec_loss", "kl_loss")})
    elif layout == "keras_console":
        # Keras' VAE example: loss = vae_r_loss + vae_kl_loss, vae_r_loss = r_loss_factor x per-pixel error (the
        # shape's pixels play r_loss_factor), KL in nats per sample; no config beside it
        w.keras_console(folder / "train.log", {"loss": v["total_loss"], "vae_r_loss": v["nll_loss"],
                                               "vae_kl_loss": v["kl_loss"]}, epoch_iters, print_every)
    elif layout in heldout.LAYOUTS:  # the tenth held-out evaluation's classes
        heldout.emit_heldout(folder, layout, shape, steps, v)
    elif layout in published.LAYOUTS:  # issue 17, second round: the classes published logs still failed on
        published.emit_published(folder, layout, shape, steps, v, earlier=earlier, epoch_iters=epoch_iters,
                                 **field_options)
    elif layout in field.LAYOUTS:  # issue 17: logs as the field publishes them
        field.emit_field(folder, layout, shape, steps, v, earlier=earlier, epoch_iters=epoch_iters, **field_options)
    elif layout in ("epoch_console", "block_console"):  # printed once per epoch, a flat config in steps beside
        last = steps % epoch_iters == 0
        epochs = (steps[last] // epoch_iters + 1).tolist()
        terms = {"Total Loss": v["total_loss"], "Recon": v["rec_loss"], "KL": v["kl_loss"]}
        w.epoch_console(folder / "train.log", epochs, {k: x[last] for k, x in terms.items()},
                        s.total_steps // epoch_iters, "line" if layout == "epoch_console" else "block")
        w.write_yaml(folder / "config.yaml", {"disc_start": s.disc_start, "kl_weight": s.kl_weight,
                                              "max_steps": s.total_steps})
    elif layout == "dict_console":
        w.dict_console(folder / "log.txt", {"loss": v["total_loss"], "rec": v["rec_loss"], "kl": v["kl_loss"]})
    elif layout == "epoch_bars":
        last = steps % epoch_iters == 0
        w.epoch_bars(folder / "train.out", {"loss": v["total_loss"][last], "rec": v["rec_loss"][last]},
                     {"loss": v["total_loss"][last] * 1.1}, 20)
    elif layout == "step_bar":  # a tqdm bar redrawn every step, its postfix updated at the logged steps
        w.step_bar(folder / "train.out", steps, {"loss": v["total_loss"], "rec": v["rec_loss"], "kl": v["kl_loss"]},
                   s.total_steps)
    elif layout == "relaunch_console":  # killed at 60%, then started again from step 0 with the trained weights
        cut = int(np.searchsorted(steps, int(0.6 * s.last_step)))
        keys = ("total_loss", "rec_loss", "kl_loss")
        first = (steps[:cut], {k: v[k][:cut] for k in keys})
        again = (steps[: len(steps) - cut], {k: v[k][cut:] for k in keys})
        w.relaunched_console(folder / "train.log", [first, again])
    else:
        raise ValueError(f"unknown layout {layout}")


def _give_twice(path: Path, key: str, earlier: object) -> None:
    """Write ``key: earlier`` as the first line of its section too: the key is then given twice, the section's
    own (later) value the one PyYAML keeps."""
    *sections, name = key.split(".")
    lines, depth, at = path.read_text().split("\n"), 0, 0
    for section in sections:
        at = lines.index(f"{'  ' * depth}{section}:", at) + 1
        depth += 1
    lines.insert(at, f"{'  ' * depth}{name}: {earlier}")
    path.write_text("\n".join(lines))
