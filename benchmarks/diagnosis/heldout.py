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

LAYOUTS = ("jsonl_epoch_repeated", "jsonl_total_iters", "console_thousands_table", "csv_one_ahead", "console_german",
           "console_tabs", "jsonl_nested_counter")
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


def _german(value: float, digits: int) -> str:
    """A number as a German locale writes it: dots group the thousands, a comma marks the decimals."""
    return f"{value:,.{digits}f}".replace(",", "X").replace(".", ",").replace("X", ".")


def _locale_console(path: Path, steps: np.ndarray, v: dict, style: str) -> None:
    """``logging`` lines of ``key: value`` in a German locale (``step 50.100: total_loss: 8.472,65, ...``), or a
    table of tab-cut ``key value`` fields."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for i, step in enumerate(steps.tolist()):
            values = {k: float(v[k][i]) for k in ("total_loss", "rec_loss", "kl_loss")}
            if style == "german":
                fields = ", ".join(f"{k}: {_german(x, 5 if k == 'rec_loss' else 2)}" for k, x in values.items())
                print(f"step {_german(step, 0)}: {fields}", file=out)
            else:
                print("\t".join([f"step {step}", *(f"{k} {x:.6g}" for k, x in values.items())]), file=out)


def _nested_counter(path: Path, steps: np.ndarray, v: dict) -> None:
    """JSON lines whose step is nested under the split (``{"epoch": 3, "train": {"step": ..., "rec_loss": ...}}``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for i, step in enumerate(steps.tolist()):
            train = {"step": step} | {k: float(v[k][i]) for k in ("total_loss", "rec_loss", "kl_loss")}
            out.write(json.dumps({"epoch": i // PER_EPOCH, "train": train}) + "\n")


def emit_heldout(folder: Path, layout: str, shape: Shape, steps: np.ndarray, v: dict, **_) -> None:
    if layout == "jsonl_epoch_repeated":
        _jsonl(folder / "losses.jsonl", steps, v, None)
    elif layout == "jsonl_total_iters":
        _jsonl(folder / "train_log.jsonl", steps, v, "total_iters")
    elif layout == "console_thousands_table":
        _thousands_table(folder, steps, v, shape)
    elif layout == "csv_one_ahead":
        _one_ahead(folder, steps, v, shape)
    elif layout in ("console_german", "console_tabs"):
        _locale_console(folder / "train.log", steps, v, layout.removeprefix("console_"))
    elif layout == "jsonl_nested_counter":
        _nested_counter(folder / "log.jsonl", steps, v)
    else:
        raise ValueError(f"unknown layout {layout}")
