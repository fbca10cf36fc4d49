"""Logs as the field publishes them (issue 17): JSON lines and documents, other trainers' names and sign
conventions, sibling event folders of a sweep, nested Lightning versions seen from a repository's root, W&B
run folders without their ``.wandb`` history. Each file is written by its real writer (``json.dumps``,
tensorboard's event writer, the ``csv`` module as Lightning's CSVLogger writes ``metrics.csv``, ``print`` as
W&B captures the console), no config beside them unless said."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import writers as w
from .curves import Shape, healthy, recompute

LAYOUTS = ("mmcv_jsonl", "hf_trainer_state", "json_lists", "plain_jsonl", "event_sweep", "nested_versions",
           "wandb_files", "add_scalars_tb", "semicolon_csv", "wandb_resumed")
FIELD_KEYS = ("total_loss", "rec_loss", "kl_loss")


def _write_lines(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def _mmcv(folder: Path, steps: np.ndarray, v: dict, epoch_iters: int) -> None:
    """mmcv's TextLoggerHook with an epoch-based runner: the run's meta first, then ``mode: train`` records
    whose ``iter`` restarts every epoch (1-based), ``mode: val`` records at each epoch's end."""
    records: list[dict] = [{"env_info": "sys.platform: linux\nPython: 3.8", "config": "model = dict(type='VAE')",
                            "seed": 0, "exp_name": "vae.py"}]
    every = int(steps[1] - steps[0])
    for i, step in enumerate(steps.tolist()):
        epoch, it = divmod(step, epoch_iters)
        # mmcv logs after every interval-th batch of the epoch: iter 50, 100, ... (1-based, within the epoch)
        records.append({"mode": "train", "epoch": epoch + 1, "iter": it + every, "lr": float(v["lr"][i]),
                        "memory": 2048, "data_time": 0.01, "loss_rec": float(v["rec_loss"][i]),
                        "loss_kl": float(v["kl_loss"][i]), "loss": float(v["total_loss"][i]), "time": 0.3})
        if it + every >= epoch_iters:  # the epoch's end: mmcv's validation record
            records.append({"mode": "val", "epoch": epoch + 1, "iter": 50, "lr": float(v["lr"][i]),
                            "loss_rec": float(1.05 * v["rec_loss"][i])})
    _write_lines(folder / "20260101_000000.log.json", records)


def _trainer_state(folder: Path, steps: np.ndarray, v: dict, shape: Shape) -> None:
    """Hugging Face Trainer's checkpoint-N/trainer_state.json: log_history records (epoch as a float), eval
    records, and the closing summary record."""
    epoch_len = 1_000
    history = [{"epoch": round(s / epoch_len, 2), "grad_norm": 1.0, "learning_rate": float(v["lr"][i]),
                "loss": round(float(v["total_loss"][i]), 4), "rec_loss": float(v["rec_loss"][i]),
                "kl_loss": float(v["kl_loss"][i]), "step": int(s)} for i, s in enumerate(steps.tolist()) if s > 0]
    history.append({"epoch": round(steps[-1] / epoch_len, 2), "step": int(steps[-1]), "total_flos": 1e15,
                    "train_loss": float(np.mean(v["total_loss"])), "train_runtime": 3600.0})
    state = {"best_metric": None, "epoch": steps[-1] / epoch_len, "global_step": int(steps[-1]),
             "log_history": history, "max_steps": shape.total_steps, "logging_steps": shape.every}
    path = folder / f"checkpoint-{int(steps[-1])}" / "trainer_state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2))


def _lists(folder: Path, v: dict) -> None:
    """A loop that appends each loss to a list and dumps the dict of lists at the end (index = step)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "losses.json").write_text(json.dumps({
        "loss": v["total_loss"].tolist(), "recon": v["rec_loss"].tolist(), "kl": v["kl_loss"].tolist()}))


def _plain(folder: Path, steps: np.ndarray, v: dict, constant_disc: bool) -> None:
    """A plain PyTorch VAE loop: ``KLD = 0.5 * sum(1 + logvar - mu^2 - exp(logvar))`` (minus the KL) and
    ``loss = MSE - w * KLD``; with ``constant_disc``, a discriminator whose BCE sum is 2 ln 2 throughout."""
    records = []
    for i, step in enumerate(steps.tolist()):
        record = {"step": step, "MSE": float(v["rec_loss"][i]), "KLD": -float(v["kl_loss"][i]),
                  "loss": float(v["total_loss"][i])}
        if constant_disc:
            record["D_loss"] = round(2 * math.log(2), 4)
        records.append(record)
    _write_lines(folder / "train_log.jsonl", records)


_WANDB_SCRIPT = """
import json, sys, wandb
steps, values = json.loads(open(sys.argv[1]).read())
run = wandb.init(dir=sys.argv[2], project="vae", config={"max_steps": int(sys.argv[3])})
for step, record in zip(steps, values):
    run.log({**record, "global_step": step})
run.finish()
"""


def _wandb_resumed(folder: Path, steps: np.ndarray, v: dict, shape: Shape) -> None:
    """A script logging to W&B (offline, the wandb library in its own process) with its own global_step, that
    reached 60% of its steps, went back to its checkpoint at half the run and trained on to the end inside the
    same run: global_step goes back once in one .wandb file."""
    folder.mkdir(parents=True, exist_ok=True)
    last = int(steps[-1])
    order = [*np.flatnonzero(steps <= 0.6 * last).tolist(), *np.flatnonzero(steps >= 0.5 * last).tolist()]
    records = [{f"train/{k}": float(v[k][i]) for k in FIELD_KEYS} for i in order]
    data = folder.parent / f"{folder.name}_wandb_input.json"
    data.write_text(json.dumps([[int(steps[i]) for i in order], records]))
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    subprocess.run([sys.executable, "-c", _WANDB_SCRIPT, str(data), str(folder), str(shape.total_steps)],
                   env=env, check=True, timeout=600)
    data.unlink()


def emit_field(folder: Path, layout: str, shape: Shape, steps: np.ndarray, v: dict,
               earlier: dict | None = None, epoch_iters: int = 500, constant_disc: bool = False, **_) -> None:
    """Write a field layout; ``earlier``: the other run's values (a sweep's healthy sibling, a newer attempt)."""
    if layout == "mmcv_jsonl":
        _mmcv(folder, steps, v, epoch_iters)
    elif layout == "hf_trainer_state":
        _trainer_state(folder, steps, v, shape)
    elif layout == "json_lists":
        _lists(folder, v)
    elif layout == "plain_jsonl":
        _plain(folder, steps, v, constant_disc)
    elif layout == "event_sweep":  # a script's SummaryWriter per setting: <setting>/events... (the folder given)
        # the faulty run written first: merged as restarts, the other one's later file would hide it entirely
        for name, values in (("BN_0.01", v), ("no_BN_0.05", earlier)):
            w.write_tb(folder / name, steps, {k: values[k] for k in ("total_loss", "rec_loss", "kl_loss")})
    elif layout == "nested_versions":  # a repository: src/, logs/<model>/version_N/metrics.csv per fit()
        (folder / "src").mkdir(parents=True, exist_ok=True)
        (folder / "src" / "train.py").write_text("# trains the VAE; logs with Lightning's CSVLogger\n")
        for version, values in enumerate((v, earlier)):  # the faulty attempt the older one (see event_sweep)
            w.lightning_csv(folder / "logs" / "vae" / f"version_{version}" / "metrics.csv", steps, values,
                            ae_keys=["total_loss", "kl_loss", "nll_loss", "rec_loss"])
    elif layout == "wandb_files":  # the .wandb history gone: W&B's console capture and the synced summary
        files = folder / "wandb" / "run-20260101_000000-abc123" / "files"
        files.mkdir(parents=True, exist_ok=True)
        with (files / "output.log").open("w") as handle:
            for i, step in enumerate(steps.tolist()):
                print(f"step {step}, loss: {v['total_loss'][i]:.5f}, rec_loss: {v['rec_loss'][i]:.5f}, "
                      f"kl_loss: {v['kl_loss'][i]:.3f}", file=handle)
        (files / "wandb-summary.json").write_text(json.dumps({
            "loss": float(v["total_loss"][-1]), "rec_loss": float(v["rec_loss"][-1]),
            "kl_loss": float(v["kl_loss"][-1]), "_step": int(steps[-1]), "_runtime": 3600.0,
            "_timestamp": w.START_WALL + 3600.0, "_wandb": {"runtime": 3600}}))
    elif layout == "add_scalars_tb":  # writer.add_scalars("train", {...}): a sub-folder per key, lr beside
        w.write_tb(folder, steps, {"lr": v["lr"]})
        w.add_scalars_tb(folder, steps, "train", {k: v[k] for k in FIELD_KEYS})
    elif layout == "semicolon_csv":  # a spreadsheet's export in a European locale: ';' and decimal commas
        w.semicolon_csv(folder / "verlauf.csv", steps, {k: v[k] for k in (*FIELD_KEYS, "lr")})
    elif layout == "wandb_resumed":
        _wandb_resumed(folder, steps, v, shape)
    else:
        raise ValueError(f"unknown layout {layout}")


def with_sibling(edit=None):
    """A fault edit (or none) plus the healthy values of another run of the same shape (its own seed), for the
    layouts that hold two runs: the sweep's other setting, the newer attempt."""
    def fault(steps, v, shape):
        _, other = healthy(replace(shape, seed=shape.seed + 500))
        recompute(shape, other)
        extra = edit(steps, v, shape) if edit is not None else None
        return {**(extra or {}), "earlier": other}
    return fault


def constant_disc(steps, v, shape):
    return {"constant_disc": True}
