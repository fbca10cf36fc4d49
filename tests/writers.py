"""Small runs written by real writers, shaped like RadioDiff's VAE stage and like LDM under Lightning.

- TensorBoard: tensorboard's own ``EventFileWriter`` (the writer under torch's and Lightning's SummaryWriter),
  as ``simple_value`` (torch, tensorboardX) or as rank-0 tensors with the scalars plugin's metadata (TF2).
- Text log: Python ``logging`` configured exactly as RadioDiff's ``create_logger`` and fed RadioDiff's strings.
- CSV: the ``csv`` module writing Lightning's sparse ``metrics.csv`` (one row per log call).

The curves obey the real loss's bookkeeping: nll = N x rec (N pixels per sample, logvar 0),
AE total = nll + kl_weight x kl + d_weight x disc_factor x g, TensorBoard total = (AE total + disc) / 2.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

PIXELS = 65_536  # 1 x 256 x 256, RadioMapSeer


@dataclass
class Curves:
    """Per-step values of every RadioDiff log key."""

    steps: np.ndarray
    values: dict[str, np.ndarray]


def radiodiff_curves(last_step: int, disc_start: int = 50_001, kl_weight: float = 1e-6, total_steps: int = 150_000,
                     lr: float = 5e-6, seed: int = 0, every: int = 1, kl_rises: bool = True,
                     disc_never_starts: bool = False) -> Curves:
    """Healthy curves for steps 0..last_step (every ``every``), shaped like the seed report's run."""
    rng = np.random.default_rng(seed)
    steps = np.arange(0, last_step + 1, every, dtype=np.int64)
    x = steps / max(1, last_step)
    rec = 0.03 + 0.5 * np.exp(-steps / 1500.0) + 0.002 * rng.standard_normal(len(steps))
    rec = np.abs(rec)
    if kl_rises:
        kl = 17_000 + 115_000 * (1 - np.exp(-steps / 6000.0)) + 500 * rng.standard_normal(len(steps))
    else:
        kl = 20_000 + 300 * rng.standard_normal(len(steps))
    on = (steps >= disc_start) & (not disc_never_starts)
    disc_factor = on.astype(float)
    d_weight = 800 + 200 * rng.random(len(steps))
    g_loss = np.where(on, -0.05 + 0.05 * rng.standard_normal(len(steps)), 0.2 + 0.05 * rng.standard_normal(len(steps)))
    disc_loss = np.where(on, 1.0 + 0.02 * rng.standard_normal(len(steps)), 0.0)
    logits_real = 0.1 * rng.standard_normal(len(steps))
    logits_fake = -0.1 + 0.1 * rng.standard_normal(len(steps))
    nll = PIXELS * rec
    ae_total = nll + kl_weight * kl + d_weight * disc_factor * g_loss
    lr_values = lr * np.maximum((1 - steps / total_steps) ** 0.95, 5e-7)
    del x
    return Curves(steps, {
        "total_loss": ae_total, "logvar": np.zeros(len(steps)), "kl_loss": kl, "nll_loss": nll, "rec_loss": rec,
        "d_weight": d_weight, "disc_factor": disc_factor, "g_loss": g_loss, "disc_loss": disc_loss,
        "logits_real": logits_real, "logits_fake": logits_fake, "lr": lr_values,
    })


def _event(step: int, wall: float, tag: str, value: float, tensor: bool = False, double: bool = False,
           metadata: bool = False) -> event_pb2.Event:
    if tensor:
        proto = tensor_pb2.TensorProto(dtype=2 if double else 1, tensor_shape=tensor_shape_pb2.TensorShapeProto())
        if double:
            proto.double_val.append(value)
        else:
            proto.float_val.append(value)
        meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
        summary_value = summary_pb2.Summary.Value(tag=tag, tensor=proto, metadata=meta if metadata else None)
    else:
        summary_value = summary_pb2.Summary.Value(tag=tag, simple_value=value)
    return event_pb2.Event(wall_time=wall, step=int(step), summary=summary_pb2.Summary(value=[summary_value]))


def write_scalars(logdir: Path, points: list[tuple[int, str, float]], start_wall: float = 1.7e9,
                  seconds_per_step: float = 0.5, tensor: bool = False, double: bool = False,
                  filename_suffix: str = "") -> Path:
    """Write (step, tag, value) points to a new event file with tensorboard's own writer; return its path."""
    logdir.mkdir(parents=True, exist_ok=True)
    before = set(logdir.glob("*tfevents*"))
    writer = EventFileWriter(str(logdir), max_queue_size=1 << 20, flush_secs=3600, filename_suffix=filename_suffix)
    seen: set[str] = set()
    for step, tag, value in points:
        first = tag not in seen
        seen.add(tag)
        writer.add_event(_event(step, start_wall + step * seconds_per_step, tag, value, tensor, double,
                                metadata=tensor and first))
    writer.close()
    (path,) = set(logdir.glob("*tfevents*")) - before
    return path


RADIODIFF_TB_TAGS = {  # TensorBoard tag -> curve key (RadioDiff's train_vae.py: no "train/" prefix, no nll)
    "Learning_Rate": "lr", "total_loss": "total_loss", "rec_loss": "rec_loss", "kl_loss": "kl_loss",
    "d_weight": "d_weight", "disc_factor": "disc_factor", "g_loss": "g_loss", "disc_loss": "disc_loss",
    "logits_real": "logits_real", "logits_fake": "logits_fake",
}


def radiodiff_tb_points(curves: Curves, every: int = 1) -> list[tuple[int, str, float]]:
    """RadioDiff's TensorBoard scalars: total_loss is (AE total + disc loss) / 2."""
    v = curves.values
    points = []
    for i, step in enumerate(curves.steps):
        if step % every:
            continue
        for tag, key in RADIODIFF_TB_TAGS.items():
            value = (v["total_loss"][i] + v["disc_loss"][i]) / 2 if tag == "total_loss" else v[key][i]
            points.append((int(step), tag, float(value)))
    return points


AE_KEYS = ["total_loss", "logvar", "kl_loss", "nll_loss", "rec_loss", "d_weight", "disc_factor", "g_loss"]
DISC_KEYS = ["disc_loss", "logits_real", "logits_fake"]


class _TrainingClock(logging.Filter):
    """Stamps each record as if training took ``seconds_per_step`` per step (the test writes in a blink)."""

    def __init__(self, start: float, seconds_per_step: float):
        super().__init__()
        self.start, self.seconds_per_step, self.step = start, seconds_per_step, 0

    def filter(self, record: logging.LogRecord) -> bool:
        record.created = self.start + self.step * self.seconds_per_step
        record.msecs = (record.created % 1) * 1000
        return True


def file_logger(path: Path, fmt: str, encoding: str | None = None) -> tuple[logging.Logger, logging.FileHandler]:
    """A Python logger writing only to ``path`` with the given format, as a trainer's logger does (appending:
    a byte-order mark already in the file stays the file's first bytes)."""
    logger = logging.getLogger(f"writer-{path}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(path, encoding=encoding)
    handler.setFormatter(logging.Formatter(fmt))
    logger.addHandler(handler)
    return logger, handler


def write_radiodiff_text_log(folder: Path, curves: Curves, config: dict, total_steps: int, log_freq: int = 100,
                             name: str = "2026-11-23-23-06_.log", console_copy: Path | None = None,
                             start_wall: float = 1.7e9, seconds_per_step: float = 0.5,
                             encoding: str | None = None) -> Path:
    """RadioDiff's text log: config repr first, then two ``[Train Step]`` lines per logged step."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    logger, handler = file_logger(path, "%(asctime)-15s %(message)s", encoding)  # RadioDiff's create_logger
    clock = _TrainingClock(start_wall, seconds_per_step)
    handler.addFilter(clock)
    console = None
    if console_copy is not None:
        console = console_copy.open("w")
    logger.info(config)
    v = curves.values
    for i, step in enumerate(curves.steps):
        if step % log_freq:
            continue
        clock.step = int(step)
        for keys in (AE_KEYS, DISC_KEYS):
            log_dict = {f"train/{k}": float(v[k][i]) for k in keys}
            log_dict["lr"] = float(v["lr"][i])
            text = "".join(f"{k}: {val:.5f}, " for k, val in log_dict.items())
            line = f"[Train Step] {int(step)}/{total_steps}: " + text
            logger.info(line)
            if console is not None:  # stderr copy: no timestamp, interleaved with tqdm redraws
                console.write(f"\r{line}:  {int(step) * 100 // total_steps}%|##   | {int(step)}/{total_steps} "
                              "[00:10<01:40, 9.1it/s]")
                console.write("\n" + line + "\n")
    handler.close()
    logger.removeHandler(handler)
    if console is not None:
        console.close()
    return path


def radiodiff_config(disc_start: int = 50_001, kl_weight: float = 1e-6, total_steps: int = 150_000,
                     log_freq: int = 100) -> dict:
    """configs/first_radio.yaml as a dict."""
    return {
        "model": {"embed_dim": 3,
                  "lossconfig": {"disc_start": disc_start, "kl_weight": kl_weight, "disc_weight": 0.5,
                                 "disc_in_channels": 1},
                  "ddconfig": {"double_z": True, "z_channels": 3, "resolution": [320, 320], "in_channels": 1,
                               "out_ch": 1, "ch": 128, "ch_mult": [1, 2, 4], "num_res_blocks": 2,
                               "attn_resolutions": [], "dropout": 0.0},
                  "ckpt_path": None},
        "data": {"name": "radio", "batch_size": 2},
        "trainer": {"gradient_accumulate_every": 2, "lr": 5e-6, "min_lr": 5e-7, "train_num_steps": total_steps,
                    "save_and_sample_every": 5000, "log_freq": log_freq, "results_folder": "./results",
                    "amp": False, "fp16": False},
    }


def write_radiodiff_run(folder: Path, last_step: int = 18_300, tb_every: int = 10, with_config: bool = True,
                        **curve_args) -> Curves:
    """A RadioDiff results folder: event file, text log and (optionally) the YAML config beside them."""
    import yaml

    config = radiodiff_config(**{k: curve_args[k] for k in ("disc_start", "kl_weight", "total_steps")
                                 if k in curve_args})
    curves = radiodiff_curves(last_step, **curve_args)
    write_scalars(folder, radiodiff_tb_points(curves, tb_every))
    write_radiodiff_text_log(folder, curves, config, config["trainer"]["train_num_steps"])
    if with_config:
        (folder / "first_radio.yaml").write_text(yaml.safe_dump(config))
    return curves


LIGHTNING_HEADER = ["lr-Adam", "lr-Adam-1", "step", "aeloss_step", "train/total_loss", "train/logvar", "train/kl_loss",
                    "train/nll_loss", "train/rec_loss", "train/d_weight", "train/disc_factor", "train/g_loss",
                    "discloss_step", "train/disc_loss", "train/logits_real", "train/logits_fake", "epoch",
                    "val/rec_loss"]


def write_lightning_metrics_csv(path: Path, curves: Curves, every: int = 10, step_scale: int = 1,
                                val_every: int = 0) -> Path:
    """Lightning CSVLogger's metrics.csv: sparse, one row per log call (lr, ae, disc, val), empty cells elsewhere.

    ``step_scale`` 2 reproduces the step-unit trap: the logged step counts batches, the loss sees both
    optimizers' steps, so the row for logged step s carries the curves of global step 2*s.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    v = curves.values
    index = {int(s): i for i, s in enumerate(curves.steps)}
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LIGHTNING_HEADER)
        writer.writeheader()
        logged = range(every - 1, int(curves.steps[-1]) // step_scale + 1, every)
        for step in logged:
            i = index.get(step * step_scale)
            if i is None:
                continue
            writer.writerow({"lr-Adam": v["lr"][i], "lr-Adam-1": v["lr"][i], "step": step})
            ae = {f"train/{k}": v[k][i] for k in AE_KEYS}
            writer.writerow({"aeloss_step": v["total_loss"][i], **ae, "epoch": 0, "step": step})
            writer.writerow({"discloss_step": v["disc_loss"][i], "train/disc_loss": v["disc_loss"][i],
                             "train/logits_real": v["logits_real"][i], "train/logits_fake": v["logits_fake"][i],
                             "epoch": 0, "step": step})
            if val_every and step % val_every == val_every - 1:
                writer.writerow({"val/rec_loss": v["rec_loss"][i] * 1.1, "epoch": 0, "step": step})
    return path


def wall_now() -> float:
    return time.time()


def isclose(a: float, b: float, rel: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
