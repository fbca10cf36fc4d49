"""Write synthetic curves with the real writers: tensorboard's EventFileWriter, Python logging in RadioDiff's
format, the csv module as Lightning's CSVLogger and the bundled trainer write; configs as the trainers save them."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
import yaml
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

START_WALL = 1.7e9
AE_KEYS = ["total_loss", "logvar", "kl_loss", "nll_loss", "rec_loss", "d_weight", "disc_factor", "g_loss"]
DISC_KEYS = ["disc_loss", "logits_real", "logits_fake"]
GRAD_KEYS = ["grad_norm", "grad_norm_clipped"]  # logged where a fault edit adds them (the norm before/after clipping)
VQ_AE_KEYS = ["total_loss", "quant_loss", "nll_loss", "rec_loss", "p_loss", "d_weight", "disc_factor", "g_loss"]
SGM_TAGS = {"loss/total": "total_loss", "loss/nll": "nll_loss", "loss/rec": "rec_loss", "loss/g": "g_loss",
            "scalars/logvar": "logvar", "scalars/d_weight": "d_weight", "kl_loss": "kl_loss",
            "loss/disc": "disc_loss", "logits/real": "logits_real", "logits/fake": "logits_fake"}


def write_tb(folder: Path, steps: np.ndarray, tags: dict[str, np.ndarray], seconds_per_step: float = 0.5,
             wall_offset: float = 0.0) -> None:
    """One event file, ``simple_value`` scalars as torch's SummaryWriter writes them (``wall_offset``: seconds
    added to every wall time, for a process started later than the first)."""
    folder.mkdir(parents=True, exist_ok=True)
    writer = EventFileWriter(str(folder), max_queue_size=1 << 20, flush_secs=3600)
    for i, step in enumerate(steps):
        values = [summary_pb2.Summary.Value(tag=tag, simple_value=float(v[i])) for tag, v in tags.items()]
        writer.add_event(event_pb2.Event(wall_time=START_WALL + wall_offset + int(step) * seconds_per_step,
                                         step=int(step), summary=summary_pb2.Summary(value=values)))
    writer.close()


def add_scalars_tb(folder: Path, steps: np.ndarray, main_tag: str, values: dict[str, np.ndarray]) -> None:
    """As torch's ``SummaryWriter.add_scalars(main_tag, {key: value})`` writes: one event file per key in the
    sub-folder ``<main_tag>_<key>/``, each holding the tag ``main_tag``, all written at once."""
    for key, series in values.items():
        write_tb(folder / f"{main_tag.replace('/', '_')}_{key}", steps, {main_tag: series})


def semicolon_csv(path: Path, steps: np.ndarray, values: dict[str, np.ndarray]) -> None:
    """A CSV saved by a spreadsheet in a German or French locale: ``;`` between cells, a decimal comma."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow(["step", *(f"train/{k}" for k in values)])
        for i, step in enumerate(steps):
            out.writerow([int(step), *(repr(float(v[i])).replace(".", ",") for v in values.values())])


def radiodiff_tb(folder: Path, steps: np.ndarray, v: dict, wall_offset: float = 0.0) -> None:
    """RadioDiff's train_vae.py tags: no prefix, no nll/logvar, total = (AE total + D loss) / 2."""
    tags = {"Learning_Rate": v["lr"], "total_loss": (v["total_loss"] + v["disc_loss"]) / 2}
    tags |= {k: v[k] for k in ("rec_loss", "kl_loss", "d_weight", "disc_factor", "g_loss", *DISC_KEYS)}
    write_tb(folder, steps, tags, wall_offset=wall_offset)


class _Clock(logging.Filter):
    def __init__(self, offset: float = 0.0) -> None:
        super().__init__()
        self.step = 0
        self.offset = offset

    def filter(self, record: logging.LogRecord) -> bool:
        record.created = START_WALL + self.offset + self.step * 0.5
        record.msecs = (record.created % 1) * 1000
        return True


def radiodiff_text(folder: Path, steps: np.ndarray, v: dict, config: dict, total: int, log_freq: int,
                   ae_keys: list[str] = AE_KEYS, name: str = "2026-11-23-23-06_.log",
                   wall_offset: float = 0.0) -> None:
    """RadioDiff's create_logger format: the config repr, then two ``[Train Step]`` lines per logged step
    (``name``: the file, named by the process's start time; ``wall_offset``: a process started that much later)."""
    folder.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"battery-{folder}-{name}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(folder / name)
    handler.setFormatter(logging.Formatter("%(asctime)-15s %(message)s"))
    clock = _Clock(wall_offset)
    handler.addFilter(clock)
    logger.addHandler(handler)
    logger.info(config)
    for i, step in enumerate(steps):
        if step % log_freq:
            continue
        clock.step = int(step)
        for keys in (ae_keys, DISC_KEYS):
            pairs = {f"train/{k}": float(v[k][i]) for k in keys} | {"lr": float(v["lr"][i])}
            logger.info(f"[Train Step] {int(step)}/{total}: " + "".join(f"{k}: {x:.5f}, " for k, x in pairs.items()))
    handler.close()
    logger.removeHandler(handler)


def trainer_csv(path: Path, steps: np.ndarray, v: dict, keys: list[str], val: dict | None = None) -> None:
    """The bundled trainer's metrics.csv: step, wall_time, then ``train/<key>`` columns (lr as train/lr); with
    ``val`` (NaN where not validated), its own row after the training row, the training cells empty (as
    trainer/logs.py writes it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    val_keys = sorted(val or {})
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["step", "wall_time", *(f"train/{k}" for k in keys), *val_keys])
        for i, step in enumerate(steps):
            wall = f"{START_WALL + int(step) * 0.5:.3f}"
            out.writerow([int(step), wall, *(repr(float(v[k][i])) for k in keys)] + [""] * len(val_keys))
            if val_keys and not np.isnan(val[val_keys[0]][i]):
                out.writerow([int(step), wall] + [""] * len(keys) + [repr(float(val[k][i])) for k in val_keys])


def lightning_csv(path: Path, steps: np.ndarray, v: dict, step_scale: int = 1, val: dict | None = None,
                  ae_keys: list[str] = AE_KEYS) -> None:
    """Lightning CSVLogger's sparse metrics.csv (one row per log call). ``step_scale`` 2: the logged step counts
    batches while the loss saw both optimizers' steps (PL >= 1.6), so row s carries global step 2s."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ["lr-Adam", "lr-Adam-1", "step", "aeloss_step", *(f"train/{k}" for k in ae_keys), "discloss_step",
              *(f"train/{k}" for k in DISC_KEYS), "epoch"] + sorted(val or {})
    with path.open("w", newline="") as handle:
        out = csv.DictWriter(handle, fieldnames=header)
        out.writeheader()
        for i, step in enumerate(steps):
            if step % step_scale:
                continue
            logged = int(step) // step_scale
            out.writerow({"lr-Adam": v["lr"][i], "lr-Adam-1": v.get("lr_disc", v["lr"])[i], "step": logged})
            out.writerow({"aeloss_step": v["total_loss"][i], **{f"train/{k}": v[k][i] for k in ae_keys},
                          "epoch": 0, "step": logged})
            out.writerow({"discloss_step": v["disc_loss"][i], **{f"train/{k}": v[k][i] for k in DISC_KEYS},
                          "epoch": 0, "step": logged})
            if val and not np.isnan(next(iter(val.values()))[i]):
                out.writerow({k: s[i] for k, s in val.items()} | {"epoch": 0, "step": logged})


def radiodiff_config(disc_start: int, total: int, kl_weight: float = 1e-6, disc_weight: float = 0.5,
                     log_freq: int = 100, lr: float = 5e-6, min_lr: float = 5e-7) -> dict:
    """configs/first_radio.yaml (flat layout)."""
    return {"model": {"embed_dim": 3,
                      "lossconfig": {"disc_start": disc_start, "kl_weight": kl_weight, "disc_weight": disc_weight,
                                     "disc_in_channels": 1},
                      "ddconfig": {"double_z": True, "z_channels": 3, "resolution": [320, 320], "in_channels": 1,
                                   "out_ch": 1, "ch": 128, "ch_mult": [1, 2, 4], "num_res_blocks": 2,
                                   "attn_resolutions": [], "dropout": 0.0}, "ckpt_path": None},
            "data": {"name": "radio", "batch_size": 2},
            "trainer": {"gradient_accumulate_every": 2, "lr": lr, "min_lr": min_lr, "train_num_steps": total,
                        "save_and_sample_every": 5000, "log_freq": log_freq, "results_folder": "./results",
                        "amp": False, "fp16": False}}


def ldm_config(disc_start: int, kl_weight: float = 1e-6, disc_weight: float = 0.5, disc_loss: str = "hinge",
               target: str = "ldm.modules.losses.LPIPSWithDiscriminator", extra: dict | None = None) -> dict:
    """configs/autoencoder/autoencoder_kl_*.yaml (nested target/params layout)."""
    params = {"disc_start": disc_start, "kl_weight": kl_weight, "disc_weight": disc_weight, "disc_loss": disc_loss}
    return {"model": {"base_learning_rate": 4.5e-6, "target": "ldm.models.autoencoder.AutoencoderKL",
                      "params": {"monitor": "val/rec_loss", "embed_dim": 3,
                                 "lossconfig": {"target": target, "params": params | (extra or {})},
                                 "ddconfig": {"double_z": True, "z_channels": 3, "resolution": 256, "in_channels": 3,
                                              "out_ch": 3, "ch": 128, "ch_mult": [1, 2, 4], "num_res_blocks": 2,
                                              "attn_resolutions": [], "dropout": 0.0}}},
            "data": {"target": "main.DataModuleFromConfig", "params": {"batch_size": 12}}}


def taming_vq_config(disc_start: int, codebook_weight: float = 1.0, disc_weight: float = 0.8) -> dict:
    """taming-transformers' configs/*_vqgan.yaml."""
    loss = {"target": "taming.modules.losses.vqperceptual.VQLPIPSWithDiscriminator",
            "params": {"disc_conditional": False, "disc_in_channels": 3, "disc_start": disc_start,
                       "disc_weight": disc_weight, "codebook_weight": codebook_weight}}
    return {"model": {"base_learning_rate": 4.5e-6, "target": "taming.models.vqgan.VQModel",
                      "params": {"embed_dim": 256, "n_embed": 1024, "lossconfig": loss,
                                 "ddconfig": {"double_z": False, "z_channels": 256, "resolution": 256,
                                              "in_channels": 3, "out_ch": 3, "ch": 128, "ch_mult": [1, 1, 2, 2, 4],
                                              "num_res_blocks": 2, "attn_resolutions": [16], "dropout": 0.0}}}}


def sgm_config(disc_start: int, kl_weight: float = 1e-6, disc_weight: float = 0.5) -> dict:
    """Stability-AI/generative-models configs/example_training/autoencoder/kl-f4/*.yaml."""
    loss = {"target": "sgm.modules.autoencoding.losses.GeneralLPIPSWithDiscriminator",
            "params": {"perceptual_weight": 0.25, "disc_start": disc_start, "disc_weight": disc_weight,
                       "learn_logvar": True, "regularization_weights": {"kl_loss": kl_weight}}}
    return {"model": {"base_learning_rate": 4.5e-6,
                      "target": "sgm.models.autoencoder.AutoencodingEngine",
                      "params": {"input_key": "jpg", "monitor": "val/loss/rec", "disc_start_iter": disc_start,
                                 "loss_config": loss,
                                 "regularizer_config": {
                                     "target": "sgm.modules.autoencoding.regularizers.DiagonalGaussianRegularizer"}}}}


def powershell_console(path: Path, steps: np.ndarray, values: dict[str, np.ndarray]) -> None:
    """A training loop's prints captured on Windows by PowerShell's ``Tee-Object``/``Out-File``: UTF-16LE with a
    byte-order mark, CRLF line ends (Python's logging writes it here, with that codec and terminator)."""
    import logging

    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"powershell-{path}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(path, mode="w", encoding="utf-16")  # "utf-16": a mark, then little-endian
    handler.terminator = "\r\n"
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    for i, step in enumerate(steps.tolist()):
        logger.info(f"step {step}, " + ", ".join(f"{k}: {float(x[i]):.6g}" for k, x in values.items()))
    handler.close()
    logger.removeHandler(handler)


def loguru_console(path: Path, steps: np.ndarray, loss: np.ndarray, epoch_iters: int) -> None:
    """A trainer that logs with loguru's default format (``time | LEVEL | module:function:line - message``), its
    message in bracketed fields: ``[R0] | E3 iter[ 14/500] | [Loss] 0.2500 | [step] 1514 |``. Written by loguru
    itself, with a logger of its own (the global one's stderr handler is left alone); the times are the battery's
    clock (0.5 s a step), passed in as a field because loguru stamps records with the current time."""
    import datetime as dt

    from loguru._logger import Core, Logger  # a logger with its own handlers (loguru's __init__ builds it so)

    log = Logger(core=Core(), exception=None, depth=0, record=False, lazy=False, colors=False, raw=False,
                 capture=True, patchers=[], extra={})
    path.parent.mkdir(parents=True, exist_ok=True)
    # loguru's default format, with the record time replaced by the battery's clock in the same layout
    sink = log.add(path, level="INFO", format="{extra[stamp]} | {level: <8} | {name}:{function}:{line} - {message}")
    for step, value in zip(steps.tolist(), loss.tolist(), strict=True):  # local time, as loguru writes it
        stamp = dt.datetime.fromtimestamp(START_WALL + step * 0.5).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        epoch, it = divmod(int(step), epoch_iters)
        log.bind(stamp=stamp).info(f"[R0] | E{epoch} iter[{it:3d}/{epoch_iters:3d}] | [Loss] {value:.4f} | "
                                   f"[step] {int(step)} |")
    log.remove(sink)


def keras_console(path: Path, values: dict[str, np.ndarray], batches: int, every: int,
                  ms_per_step: int = 25) -> None:
    """The console output of Keras 2's ``model.fit(verbose=1)`` redirected to a file (no Keras here: its
    ``ProgbarLogger``/``Progbar`` output reproduced): ``Epoch e/E``, then one bar line per update (a file is no
    dynamic display, so each redraw starts a new line), ``n/N [====>.....] - ETA: 3s - loss: ... - name: ...``,
    each value the running mean over the epoch's batches so far (``%.4f``); the epoch's last line gives its time
    and ms/step instead of an ETA. ``values``: per batch, in display order (loss first)."""
    n = len(next(iter(values.values())))
    epochs = n // batches
    digits = len(str(batches))
    width = 30
    lines = []
    for e in range(epochs):
        lines.append(f"Epoch {e + 1}/{epochs}")
        sums = {k: 0.0 for k in values}
        for b in range(batches):
            i = e * batches + b
            for k in values:
                sums[k] += float(values[k][i])
            current = b + 1
            if current % every and current != batches:
                continue
            done = int(width * current / batches)
            bar = f"{current:{digits}d}/{batches} ["
            if done > 0:
                bar += "=" * (done - 1) + (">" if current < batches else "=")
            bar += "." * (width - done) + "]"
            if current < batches:
                eta = (batches - current) * ms_per_step // 1000
                info = f" - ETA: {eta // 60}:{eta % 60:02d}" if eta > 60 else f" - ETA: {eta}s"
            else:
                info = f" - {batches * ms_per_step // 1000}s {ms_per_step}ms/step"
            for k, total in sums.items():
                avg = total / current
                info += f" - {k}: " + (f"{avg:.4f}" if abs(avg) > 1e-3 else f"{avg:.4e}")
            lines.append(bar + info)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def write_yaml(path: Path, config: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def epoch_console(path: Path, epochs: list[int], values: dict[str, np.ndarray], of: int, style: str) -> None:
    """A plain PyTorch loop that prints once per epoch, with ``print``: ``style`` "line" (``Epoch [3/100], Total
    Loss: 0.51, Recon: 0.4, KL: 2.3``) or "block" (an ``Epoch 3/100`` header, then one indented line per term)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        print("==> building model", file=out)
        for i, epoch in enumerate(epochs):
            terms = {k: float(x[i]) for k, x in values.items()}
            if style == "line":
                print(f"Epoch [{epoch}/{of}], " + ", ".join(f"{k}: {x:.5g}" for k, x in terms.items()), file=out)
            else:
                print(f"Epoch {epoch}/{of}", file=out)
                for k, x in terms.items():
                    print(f"  {k}: {x:.5g}", file=out)


def dict_console(path: Path, values: dict[str, np.ndarray]) -> None:
    """A loop that prints its loss dict every iteration (``print(losses)``): no step counter at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(next(iter(values.values())))
    with path.open("w") as out:
        for i in range(n):
            print({k: round(float(x[i]), 6) for k, x in values.items()}, file=out)


def epoch_bars(path: Path, values: dict[str, np.ndarray], val: dict[str, np.ndarray], batches: int) -> None:
    """tqdm bars written to a file, one training and one validation bar per epoch (``Epoch 3/60 - Training``),
    the running loss in the postfix; ``values``/``val``: per epoch."""
    from tqdm import tqdm

    path.parent.mkdir(parents=True, exist_ok=True)
    epochs = len(next(iter(values.values())))
    with path.open("w") as out:
        for e in range(epochs):
            for phase, terms, n in (("Training", values, batches), ("Validation", val, max(1, batches // 5))):
                bar = tqdm(total=n, file=out, mininterval=0, miniters=1, desc=f"Epoch {e + 1}/{epochs} - {phase}")
                for b in range(n):
                    share = (b + 1) / n  # the running mean reaches the epoch's value at the bar's end
                    bar.set_postfix({k: f"{float(x[e]) * (1.2 - 0.2 * share):.5g}" for k, x in terms.items()},
                                    refresh=False)
                    bar.update(1)
                bar.close()


def step_bar(path: Path, steps: np.ndarray, values: dict[str, np.ndarray], total: int) -> None:
    """One tqdm bar over the run captured to a file: redrawn at every step, its postfix updated at the logged
    steps only (``set_postfix(refresh=False)`` every few steps), so each update is redrawn until the next."""
    from tqdm import tqdm

    path.parent.mkdir(parents=True, exist_ok=True)
    at = {int(step): i for i, step in enumerate(steps.tolist())}
    with path.open("w") as out:
        bar = tqdm(total=total, file=out, mininterval=0, miniters=1)
        for step in range(int(steps[-1]) + 1):
            i = at.get(step)
            if i is not None:
                bar.set_postfix({k: f"{float(x[i]):.5g}" for k, x in values.items()}, refresh=False)
            bar.update(1)


def relaunched_console(path: Path, launches: list[tuple[np.ndarray, dict[str, np.ndarray]]]) -> None:
    """Several launches appended to one log with Python logging (``>> train.log``), each from its own step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for steps, values in launches:
            print("Namespace(config='vae.yaml', resume=None)", file=out)
            for i, step in enumerate(steps.tolist()):
                print(f"step {step}, " + ", ".join(f"{k}: {float(x[i]):.6g}" for k, x in values.items()), file=out)


def other_config(s) -> dict:
    """Another trainer's config: its loss settings and optimizer under its own keys, no scheduler named."""
    return {"loss": {"disc_start": s.disc_start, "kl_weight": s.kl_weight, "disc_weight": s.disc_weight},
            "optim": {"learning_rate": s.lr, "max_steps": s.total_steps, "betas": [0.5, 0.9]},
            "logging": {"log_every": s.every}}
