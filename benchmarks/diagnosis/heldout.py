"""Runs of the classes the tenth held-out evaluation found the reports wrong on, each written by its real writer
(json.dumps, print, csv.writer): a JSON-lines log whose only counter is an epoch repeated over its records, one
whose global counter is named ``total_iters`` beside a per-epoch ``batch``, a console table of ``name value``
fields with thousands grouped and a decimal point (``{:,.1f}``), a CSV whose step counts from 1 (the point logged
at disc_start still shows the discriminator off), a KL at several times the usual nats per latent dimension
still climbing in a straight line, and a KL running away from the first step while reconstruction improves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import writers as w
from .curves import Shape

LAYOUTS = ("jsonl_epoch_repeated", "jsonl_total_iters", "console_thousands_table", "csv_one_ahead")
PER_EPOCH = 20  # records an epoch in the JSON logs


def _jsonl(path: Path, steps: np.ndarray, v: dict, counter: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for i, step in enumerate(steps.tolist()):
            record = {"epoch": i // PER_EPOCH}
            if counter:
                record |= {"batch": i % PER_EPOCH, counter: step}
            record |= {k: float(v[k][i]) for k in ("total_loss", "rec_loss", "kl_loss")}
            out.write(json.dumps(record) + "\n")


def _thousands_table(folder: Path, steps: np.ndarray, v: dict, shape: Shape) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "train.out").open("w") as out:
        print(f"Training: {shape.total_steps:,} steps, kl_weight {shape.kl_weight}", file=out)
        for i, step in enumerate(steps.tolist()):
            print(f"step {step:,} | total {v['total_loss'][i]:,.1f} | nll {v['nll_loss'][i]:,.1f} | "
                  f"kl {v['kl_loss'][i]:.2e} | rec {v['rec_loss'][i]:.4f} | lr {v['lr'][i]:.2e}", file=out)
    w.write_yaml(folder / "config.yaml", {"max_steps": shape.total_steps, "kl_weight": shape.kl_weight,
                                          "lr": shape.lr})


def _one_ahead(folder: Path, steps: np.ndarray, v: dict, shape: Shape) -> None:
    """The bundled trainer's CSV and config, its step counted from 1: the row of the loss's step s says s + 1."""
    config = w.radiodiff_config(shape.disc_start, shape.total_steps, shape.kl_weight, shape.disc_weight,
                                log_freq=shape.every, lr=shape.lr, min_lr=shape.min_lr)
    w.write_yaml(folder / "config.yaml", config)
    keys = [k for k in (*w.AE_KEYS, *w.DISC_KEYS) if k in v] + ["lr"]
    w.trainer_csv(folder / "metrics.csv", steps + 1, v, keys)


def emit_heldout(folder: Path, layout: str, shape: Shape, steps: np.ndarray, v: dict, **_) -> None:
    if layout == "jsonl_epoch_repeated":
        _jsonl(folder / "losses.jsonl", steps, v, None)
    elif layout == "jsonl_total_iters":
        _jsonl(folder / "train_log.jsonl", steps, v, "total_iters")
    elif layout == "console_thousands_table":
        _thousands_table(folder, steps, v, shape)
    elif layout == "csv_one_ahead":
        _one_ahead(folder, steps, v, shape)
    else:
        raise ValueError(f"unknown layout {layout}")
