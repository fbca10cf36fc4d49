"""Logs of the classes published runs still failed on (issue 17, second round), each written by its real
writer: pytorch/examples' VAE print loop (samples seen), DCGAN's ``[e/N][i/M]`` print, mmengine's logger and
its two JSON files of the same scalars, detectron2's ``log.txt`` (``{:.4g}``) beside ``metrics.json``, Keras'
``CSVLogger`` (the csv module, as the callback writes), torch-style SummaryWriter tags with the split as a
suffix (``KLD/train``) in sibling folders of a sweep, loguru's ``epoch e | iter i/N`` lines, pytorch-tutorial's
``Epoch[e/E], Step [i/N]`` print (a step that starts over each epoch), a CSV's ``epoch,step`` (the same)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import math
from pathlib import Path

import numpy as np

from . import writers as w
from .curves import Shape

LAYOUTS = ("pt_examples", "dcgan_console", "mmengine_files", "detectron2_files", "keras_csvlogger",
           "suffix_tag_sweep", "loguru_epoch_iter", "tutorial_console", "keras_tensorboard", "ddp_rank_logs",
           "epoch_step_csv", "keras_training_log", "tb_batch_idx", "opt_step_console")
BATCH = 128


def _stamped_logger(path: Path, fmt: str, datefmt: str) -> tuple[logging.Logger, logging.Handler, w._Clock]:
    """A logger writing ``path`` in a trainer's format, stamped by the battery's clock (0.5 s a step)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"battery-{path}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(fmt, datefmt))
    clock = w._Clock()
    logger.addFilter(clock)
    logger.addHandler(handler)
    return logger, handler, clock


def _pt_examples(path: Path, steps: np.ndarray, v: dict, epoch_iters: int) -> None:
    """pytorch/examples' vae/main.py: ``batch_idx * len(data)`` of the dataset's size every log interval, then
    the epoch's average and the test set's loss."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset = epoch_iters * BATCH
    with path.open("w") as out:
        for i, step in enumerate(steps.tolist()):
            epoch, batch_idx = divmod(step, epoch_iters)
            print("Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(  # noqa: UP032 (the example's own)
                epoch + 1, batch_idx * BATCH, dataset, 100.0 * batch_idx / epoch_iters, v["total_loss"][i]), file=out)
            if i + 1 == len(steps) or steps[i + 1] // epoch_iters != epoch:
                mine = steps // epoch_iters == epoch
                print(f"====> Epoch: {epoch + 1} Average loss: {np.mean(v['total_loss'][mine]):.4f}", file=out)
                print(f"====> Test set loss: {1.05 * np.mean(v['total_loss'][mine]):.4f}", file=out)


def _dcgan(path: Path, steps: np.ndarray, v: dict, epoch_iters: int, constant_disc: bool) -> None:
    """A VAE-GAN trained by DCGAN's loop: ``[epoch/niter][i/len(dataloader)]`` then its losses and D's outputs;
    with ``constant_disc``, a D that never trains (BCE 2 ln 2, D(x) = D(G(z)) = 0.5)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    epochs = int(steps[-1]) // epoch_iters + 1
    with path.open("w") as out:
        for i, step in enumerate(steps.tolist()):
            epoch, batch = divmod(step, epoch_iters)
            d, g, dx = (2 * math.log(2), math.log(2), 0.5) if constant_disc else (
                1.2 + 0.1 * math.sin(step), 0.9 + 0.1 * math.cos(step), 0.6)
            print("[%d/%d][%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f\tLoss_Rec: %.4f\tLoss_KL: %.4f\tD(x): %.4f\t"  # noqa: UP031
                  "D(G(z)): %.4f / %.4f" % (epoch, epochs, batch, epoch_iters, d, g, v["rec_loss"][i],
                                            v["kl_loss"][i], dx, 1 - dx, 1 - dx), file=out)


def _mmengine(folder: Path, steps: np.ndarray, v: dict, total: int) -> None:
    """mmengine's runner: ``<stamp>/<stamp>.log`` (``{:.4f}``, after a system-environment block) and the same
    scalars in ``vis_data/<stamp>.json`` and ``vis_data/scalars.json``."""
    stamp = "20260105_093012"
    root = folder / stamp
    logger, handler, clock = _stamped_logger(root / f"{stamp}.log", "%(asctime)s - mmengine - %(levelname)s - "
                                             "%(message)s", "%Y/%m/%d %H:%M:%S")
    logger.info("\n" + "-" * 60 + "\nSystem environment:\n    sys.platform: linux\n    Python: 3.10.13\n" + "-" * 60)
    records = []
    for i, step in enumerate(steps.tolist()):
        if step == 0:
            continue
        clock.step = step
        values = {"loss": float(v["total_loss"][i]), "loss_rec": float(v["rec_loss"][i]),
                  "loss_kl": float(v["kl_loss"][i])}
        logger.info(f"Iter(train) [{step:>6}/{total}]  base_lr: {v['lr'][i]:.4e} lr: {v['lr'][i]:.4e}  eta: 1 day, "
                    "1:02:03  time: 0.5000  data_time: 0.0050  memory: 21843  "
                    + "  ".join(f"{k}: {x:.4f}" for k, x in values.items()))
        records.append({"base_lr": float(v["lr"][i]), "lr": float(v["lr"][i]), **values, "time": 0.5,
                        "data_time": 0.005, "memory": 21843, "iter": step, "step": step})
    handler.close()
    for name in (f"{stamp}.json", "scalars.json"):
        path = root / "vis_data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _detectron2(folder: Path, steps: np.ndarray, v: dict, total: int) -> None:
    """detectron2's ``output/``: ``log.txt`` from CommonMetricPrinter (``{:.4g}``, ``[MM/DD HH:MM:SS ...]``),
    ``metrics.json`` from JSONWriter (full precision, no clock), and its ``config.yaml`` (yacs, capitals)."""
    out = folder / "output"
    logger, handler, clock = _stamped_logger(out / "log.txt", "[%(asctime)s d2.utils.events]: %(message)s",
                                             "%m/%d %H:%M:%S")
    with (out / "metrics.json").open("w") as metrics:
        for i, step in enumerate(steps.tolist()):
            it = step + 19  # detectron2 logs every 20th iteration, 0-based: 19, 39, ...
            clock.step = it
            values = {"total_loss": float(v["total_loss"][i]), "loss_rec": float(v["rec_loss"][i]),
                      "loss_kl": float(v["kl_loss"][i])}
            logger.info(f" eta: 1:23:15  iter: {it}  " + "  ".join(f"{k}: {x:.4g}" for k, x in values.items())
                        + f"  time: 0.5000  last_time: 0.5000  data_time: 0.0027  last_data_time: 0.0027   lr: "
                        f"{v['lr'][i]:.4g}  max_mem: 9012M")
            metrics.write(json.dumps({"data_time": 0.0027, "eta_seconds": 4995.25, "iteration": it,
                                      "lr": float(v["lr"][i]), **values, "time": 0.5}) + "\n")
    handler.close()
    (out / "config.yaml").write_text(f"OUTPUT_DIR: ./output\nSOLVER:\n  BASE_LR: 0.0001\n  IMS_PER_BATCH: 64\n"
                                     f"  MAX_ITER: {total}\n")


def _keras_csv(folder: Path, steps: np.ndarray, v: dict, epoch_iters: int, epochs: int,
               name: str = "history.csv") -> None:
    """keras.callbacks.CSVLogger(name): ``csv.DictWriter`` with ``["epoch"] + sorted(logs)``, a row per epoch (the
    epoch's last values), and the script's JSON of hyperparameters beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    last = np.flatnonzero(np.r_[steps[1:] // epoch_iters != steps[:-1] // epoch_iters, True])
    with (folder / name).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["epoch", "kl_loss", "loss", "reconstruction_loss", "val_loss"])
        writer.writeheader()
        for epoch, i in enumerate(last.tolist()):
            writer.writerow({"epoch": epoch, "kl_loss": float(v["kl_loss"][i]), "loss": float(v["total_loss"][i]),
                             "reconstruction_loss": float(v["rec_loss"][i]),
                             "val_loss": 1.05 * float(v["total_loss"][i])})
    (folder / "vae_config.json").write_text(json.dumps({"latent_dim": 16, "kl_weight": 1.0, "epochs": epochs,
                                                        "batch_size": BATCH}))


def _keras_tensorboard(folder: Path, steps: np.ndarray, v: dict, epoch_iters: int) -> None:
    """Keras' TensorBoard callback (TF2): ``logs/fit/<time>/train`` and ``/validation`` event files of tensor
    summaries (``scalar_pb``) ``epoch_loss``, ``epoch_reconstruction_loss``, ``epoch_kl_loss`` at the epoch's
    index, and validation's ``evaluation_loss_vs_iterations`` at the optimizer step."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.plugins.scalar.summary_v2 import scalar_pb
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    last = np.flatnonzero(np.r_[steps[1:] // epoch_iters != steps[:-1] // epoch_iters, True])
    root = folder / "logs" / "fit" / "20260110-101500"
    for split, scale in (("train", 1.0), ("validation", 1.05)):
        writer = EventFileWriter(str(root / split), filename_suffix=".v2")
        for epoch, i in enumerate(last.tolist()):
            wall = w.START_WALL + 0.5 * int(steps[i]) + (1.5 if split == "validation" else 0)
            values = {"epoch_loss": v["total_loss"][i], "epoch_reconstruction_loss": v["rec_loss"][i],
                      "epoch_kl_loss": v["kl_loss"][i]}
            if split == "validation":
                values["evaluation_loss_vs_iterations"] = v["total_loss"][i]
            for tag, value in values.items():
                step = (epoch + 1) * epoch_iters if tag.endswith("_vs_iterations") else epoch
                writer.add_event(event_pb2.Event(wall_time=wall, step=step,
                                                 summary=scalar_pb(tag, np.float32(scale * value))))
        writer.close()


def _ddp_rank_logs(folder: Path, steps: np.ndarray, v: dict, ranks: int = 4) -> None:
    """DDP with every rank logging its own losses (its own batch: other noise) to ``train_rank{r}.log``."""
    rng = np.random.default_rng(7)
    for rank in range(ranks):
        logger, handler, clock = _stamped_logger(folder / f"train_rank{rank}.log",
                                                 f"%(asctime)s [rank{rank}] %(message)s", "%Y-%m-%d %H:%M:%S")
        noise = 1 + (0.0 if rank == 0 else 0.02) * rng.standard_normal(len(steps))
        for i, step in enumerate(steps.tolist()):
            clock.step = step
            logger.info(f"step {step}: loss={v['total_loss'][i] * noise[i]:.5f} "
                        f"rec_loss={v['rec_loss'][i] * noise[i]:.5f} kl_loss={v['kl_loss'][i]:.3f}")
        handler.close()


def _suffix_sweep(folder: Path, steps: np.ndarray, v: dict, earlier: dict) -> None:
    """A script's SummaryWriter per setting, tags ``Recon/train``, ``KLD/train``, ``Loss/train``, ``Loss/test``."""
    for name, values in (("BN_0.01", v), ("no_BN_0.05", earlier)):
        w.write_tb(folder / name, steps, {"Recon/train": values["rec_loss"], "KLD/train": values["kl_loss"],
                                          "Loss/train": values["total_loss"],
                                          "Loss/test": 1.05 * values["total_loss"]})


def _loguru_epoch_iter(path: Path, steps: np.ndarray, v: dict, epoch_iters: int, total: int) -> None:
    """loguru's default format, ``epoch e | iter i/N | loss ... | rec ... | kl ...`` with a global iteration."""
    from loguru._logger import Core, Logger

    log = Logger(core=Core(), exception=None, depth=0, record=False, lazy=False, colors=False, raw=False,
                 capture=True, patchers=[], extra={})
    path.parent.mkdir(parents=True, exist_ok=True)
    sink = log.add(path, level="INFO", format="{extra[stamp]} | {level: <8} | {name}:{function}:{line} - {message}")
    for i, step in enumerate(steps.tolist()):
        stamp = dt.datetime.fromtimestamp(w.START_WALL + step * 0.5).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        log.bind(stamp=stamp).info(f"epoch {step // epoch_iters} | iter {step}/{total} | loss {v['total_loss'][i]:.4f}"
                                   f" | rec {v['rec_loss'][i]:.4f} | kl {v['kl_loss'][i]:.3f} | lr {v['lr'][i]:.1e}")
    log.remove(sink)


def _tutorial(path: Path, steps: np.ndarray, v: dict, epoch_iters: int) -> None:
    """pytorch-tutorial's VAE: ``Epoch[e/E], Step [i/N], Reconst Loss: ..., KL Div: ...``, the step within the
    epoch (1-based), printed every 100th batch."""
    path.parent.mkdir(parents=True, exist_ok=True)
    epochs = int(steps[-1]) // epoch_iters + 1
    with path.open("w") as out:
        for i, step in enumerate(steps.tolist()):
            epoch, batch = divmod(step, epoch_iters)
            print("Epoch[{}/{}], Step [{}/{}], Reconst Loss: {:.4f}, KL Div: {:.4f}".format(  # noqa: UP032
                epoch + 1, epochs, batch + 1, epoch_iters, v["rec_loss"][i], v["kl_loss"][i]), file=out)


def _epoch_step_csv(path: Path, steps: np.ndarray, v: dict, epoch_iters: int) -> None:
    """A plain loop's ``csv.writer`` log ``epoch,step,...`` whose ``step`` is the batch within the epoch (0-based):
    it starts over at every epoch."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["epoch", "step", "rec_loss", "kl_loss", "total_loss"])
        for i, step in enumerate(steps.tolist()):
            epoch, batch = divmod(step, epoch_iters)
            out.writerow([epoch, batch, f"{v['rec_loss'][i]:.6g}", f"{v['kl_loss'][i]:.6g}",
                          f"{v['total_loss'][i]:.6g}"])


def _tb_batch_idx(folder: Path, steps: np.ndarray, v: dict, epoch_iters: int) -> None:
    """A plain loop's ``writer.add_scalar(tag, value, batch_idx)``: the step starts over every epoch, the wall time
    runs on (torch's SummaryWriter, its own clock replaced by the battery's)."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    for i, step in enumerate(steps.tolist()):
        for key in ("rec_loss", "kl_loss", "total_loss"):
            writer.add_scalar(f"train/{key}", float(v[key][i]), step % epoch_iters,
                              walltime=w.START_WALL + step * 0.5)
    writer.close()


def _opt_step_console(folder: Path, steps: np.ndarray, v: dict, shape: Shape, accumulate: int = 4) -> None:
    """A loop with gradient accumulation printing its micro-batch iteration and the optimizer step, ``it N |
    opt_step M | ...`` (Python logging), its config in optimizer steps."""
    logger, handler, clock = _stamped_logger(folder / "train.log", "%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S")
    for i, step in enumerate(steps.tolist()):
        clock.step = step
        logger.info(f"it {step * accumulate} | opt_step {step} | total_loss: {v['total_loss'][i]:.6g} | "
                    f"rec_loss: {v['rec_loss'][i]:.6g} | kl_loss: {v['kl_loss'][i]:.6g}")
    handler.close()
    (folder / "config.yaml").write_text(f"train:\n  max_steps: {shape.total_steps}\n  gradient_accumulation_steps: "
                                        f"{accumulate}\n  lr: {shape.lr}\nloss:\n  kl_weight: {shape.kl_weight}\n")


def emit_published(folder: Path, layout: str, shape: Shape, steps: np.ndarray, v: dict, earlier: dict | None = None,
                   epoch_iters: int = 500, constant_disc: bool = False, **_) -> None:
    if layout == "pt_examples":
        _pt_examples(folder / "train.log", steps, v, epoch_iters)
    elif layout == "dcgan_console":
        _dcgan(folder / "train_out.txt", steps, v, epoch_iters, constant_disc)
    elif layout == "mmengine_files":
        _mmengine(folder, steps, v, shape.total_steps)
    elif layout == "detectron2_files":
        _detectron2(folder, steps, v, shape.total_steps)
    elif layout == "keras_csvlogger":
        _keras_csv(folder, steps, v, epoch_iters, shape.total_steps // epoch_iters)
    elif layout == "keras_training_log":  # the file name of Keras' own CSVLogger documentation
        _keras_csv(folder, steps, v, epoch_iters, shape.total_steps // epoch_iters, "training.log")
    elif layout == "tb_batch_idx":
        _tb_batch_idx(folder, steps, v, epoch_iters)
    elif layout == "opt_step_console":
        _opt_step_console(folder, steps, v, shape)
    elif layout == "keras_tensorboard":
        _keras_tensorboard(folder, steps, v, epoch_iters)
    elif layout == "ddp_rank_logs":
        _ddp_rank_logs(folder, steps, v)
    elif layout == "suffix_tag_sweep":
        _suffix_sweep(folder, steps, v, earlier)
    elif layout == "tutorial_console":
        _tutorial(folder / "train.log", steps, v, epoch_iters)
    elif layout == "epoch_step_csv":
        _epoch_step_csv(folder / "metrics.csv", steps, v, epoch_iters)
    elif layout == "loguru_epoch_iter":
        _loguru_epoch_iter(folder / "train.log", steps, v, epoch_iters, shape.total_steps)
    else:
        raise ValueError(f"unknown layout {layout}")
