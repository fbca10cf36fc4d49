"""The training loop, RadioDiff's ``train_vae.py`` at small scale.

Per step, the same batch goes through the model twice: pass 0 steps the autoencoder optimizer, pass 1 the
discriminator's (RadioDiff's ``gradient_accumulate_every: 2`` is this loop, not accumulation). Steps are 0-based
and the loss sees the step before it is incremented, so ``disc_start`` is the first adversarial step.
Learning rate: ``lr * max((1 - step/total)^0.95, min_lr/lr)`` -- RadioDiff floors the multiplier at ``min_lr``
itself, which leaves the rate at ~1e-12; here ``min_lr`` is the floor of the rate, as its name says.
Under ``torchrun`` the model is wrapped in DistributedDataParallel and only rank 0 writes anything.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader, DistributedSampler

from vae_report.errors import ConfigError, OutputError
from vae_report.writer import staged

from .config import image_size, load_trainer_config
from .data import PngRadioMaps, SyntheticRadioMaps
from .logs import RunLogger
from .loss import VaeGanLoss
from .model import AutoencoderKL
from .samples import grid, save_grid, validate


def build(config: dict) -> tuple[AutoencoderKL, VaeGanLoss]:
    model_cfg = config["model"]
    model = AutoencoderKL(model_cfg["ddconfig"], model_cfg["embed_dim"])
    return model, VaeGanLoss(**model_cfg["lossconfig"])


def lr_multiplier(step: int, total: int, lr: float, min_lr: float) -> float:
    return max((1 - step / total) ** 0.95, min_lr / lr if lr else 0.0)


def _dataset(config: dict):
    """(training set, held-out validation batch or None): ``data.val_size`` samples are held out."""
    data = config["data"]
    if data["name"] == "synthetic":
        full = SyntheticRadioMaps(image_size(config), data["num_samples"] + data["val_size"], data["seed"])
    else:
        full = PngRadioMaps(Path(data["img_folder"]))
    if not data["val_size"]:
        return full, None
    if data["val_size"] >= len(full):
        raise ConfigError(f"data.val_size {data['val_size']} leaves no training samples of {len(full)}")
    train = torch.utils.data.Subset(full, range(len(full) - data["val_size"]))
    held_out = torch.stack([full[i] for i in range(len(full) - data["val_size"], len(full))])
    return train, held_out


def _checkpoints(out: Path) -> list[Path]:
    return sorted((out / "checkpoints").glob("model-*.pt"), key=lambda p: int(p.stem.split("-")[1]))


def _prepare_out(out: Path, resume: bool, rank: int) -> None:
    if rank:
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-test.", dir=out)  # a fresh name: no file of yours touched
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the run directory ({exc.strerror}); choose another --out") from exc
    if not resume and any(out.glob("*tfevents*")):
        raise OutputError(f"{out}: already holds a run; pass --resume to continue it or choose another --out")
    taken = [] if resume else [p for pattern in _WRITES for p in sorted(out.glob(pattern))]
    if taken:  # a fresh run writes these names: a file of the user's by one of them would be replaced or appended to
        raise OutputError(f"{taken[0]}: already there, and a new run would write over it; pass --resume to continue "
                          "the run in that folder, or choose another --out")


# what a fresh run writes under fixed names (its text log and event files take new names of their own)
_WRITES = ("config.yaml", "metrics.csv", "sample-*.png", "val-sample-*.png", "checkpoints")


@dataclass
class TrainState:
    """Everything a checkpoint holds: model, loss (logvar and discriminator), both optimizers and schedulers."""

    model: AutoencoderKL
    loss: VaeGanLoss
    opt_ae: torch.optim.Optimizer
    opt_disc: torch.optim.Optimizer
    sched_ae: torch.optim.lr_scheduler.LRScheduler
    sched_disc: torch.optim.lr_scheduler.LRScheduler

    def checkpoint(self, step: int) -> dict:
        return {"step": step, **{key: getattr(self, key).state_dict() for key in _STATE_KEYS}}

    def restore(self, checkpoint: dict) -> int:
        for key in _STATE_KEYS:
            getattr(self, key).load_state_dict(checkpoint[key])
        return int(checkpoint["step"])


_STATE_KEYS = ("model", "loss", "opt_ae", "opt_disc", "sched_ae", "sched_disc")


def build_state(config: dict) -> TrainState:
    model, loss_fn = build(config)
    cfg = config["trainer"]
    ae_params = [*model.parameters()] + ([loss_fn.logvar] if loss_fn.logvar.requires_grad else [])
    opt_ae = torch.optim.AdamW(ae_params, lr=cfg["lr"])
    opt_disc = torch.optim.AdamW(loss_fn.discriminator.parameters(), lr=cfg["lr"])
    schedule = lambda step: lr_multiplier(step, cfg["train_num_steps"], cfg["lr"], cfg["min_lr"])  # noqa: E731
    return TrainState(model, loss_fn, opt_ae, opt_disc, torch.optim.lr_scheduler.LambdaLR(opt_ae, schedule),
                      torch.optim.lr_scheduler.LambdaLR(opt_disc, schedule))


def run_training(config_path: Path | str, out: Path | str, max_steps: int | None = None, resume: bool = False,
                 quiet: bool = False) -> Path:
    """Train from a config into ``out``; return the run directory."""
    config = load_trainer_config(config_path)
    out = Path(out)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        torch.distributed.init_process_group("gloo")
    rank = torch.distributed.get_rank() if distributed else 0
    _prepare_out(out, resume, rank)
    cfg = config["trainer"]
    if cfg["threads"]:
        torch.set_num_threads(int(cfg["threads"]))
    seed = cfg["seed"] + rank
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    state = build_state(config)
    step = 0
    if resume:
        found = _checkpoints(out)
        if not found:
            raise OutputError(f"{out}: --resume found no checkpoint in {out / 'checkpoints'}; train without --resume")
        step = state.restore(torch.load(found[-1], map_location="cpu", weights_only=False))
        if rank == 0 and not quiet:
            print(f"resuming from {found[-1].relative_to(out)} at step {step}", file=sys.stderr)
    logger = None
    if rank == 0:
        if not resume:
            with open(out / "config.yaml", "w") as handle:
                yaml.safe_dump(config, handle, sort_keys=False)
        logger = RunLogger(out, config, cfg["train_num_steps"], quiet=quiet, resume_step=step if resume else None)
    last = cfg["train_num_steps"] if max_steps is None else min(cfg["train_num_steps"], step + max_steps)
    started = time.time()
    reporter = None
    if logger is not None and cfg["report_every"]:
        from vae_report.hook import every

        # the report beside the run folder (<run>.report.html), every report_every steps, by another process;
        # a final one at the end
        reporter = every(cfg["report_every"], out, rank=rank)
    stop = StopRequest()
    try:
        with stop.installed():
            step = _train_loop(config, state, step, last, out, rank, seed, distributed, logger, reporter, stop)
        every = cfg["save_and_sample_every"]
        if rank == 0 and step < cfg["train_num_steps"] and not (every and step % every == 0):
            # stopped by --max-steps or a signal: a checkpoint where it stopped, for --resume
            _save(out, step, state)
    finally:
        if logger is not None:
            logger.close(step, time.time() - started)
        if reporter is not None:
            reporter.close()  # after the logs are closed: the final report sees every point
        if distributed:
            torch.distributed.destroy_process_group()
    if stop.signal is not None:
        if rank == 0:
            print(f"stopped by {stop.signal} at step {step}: checkpoint {Path('checkpoints') / f'model-{step}.pt'} "
                  f"in {out}; continue with --resume", file=sys.stderr)
        raise Interrupted(stop.signal)
    return out


class Interrupted(Exception):
    """Training stopped by SIGINT/SIGTERM after saving a checkpoint where it stopped."""

    def __init__(self, name: str):
        super().__init__(name)
        self.exit_code = 128 + int(getattr(signal, name))  # the shell's convention: 130 for Ctrl-C, 143 for TERM


class StopRequest:
    """Ctrl-C (SIGINT) or SIGTERM asks the loop to stop after the step in progress, so that the checkpoint it
    saves is a consistent state (optimizers stepped, schedulers advanced); a second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.signal: str | None = None

    def _handle(self, signum, frame) -> None:
        self.signal = signal.Signals(signum).name
        signal.signal(signum, self._previous.get(signum, signal.SIG_DFL))  # the next one is not deferred

    @contextlib.contextmanager
    def installed(self):
        import threading

        self._previous = {}
        if threading.current_thread() is not threading.main_thread():
            yield self  # signals reach only the main thread's handlers; a library caller keeps its own
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        try:
            yield self
        finally:
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)

    def requested(self, distributed: bool) -> bool:
        """Whether to stop now; every rank agrees (a rank that stopped alone would leave the others waiting)."""
        if not distributed:
            return self.signal is not None
        flag = torch.tensor([self.signal is not None], dtype=torch.int32)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        if flag.item() and self.signal is None:
            self.signal = "SIGTERM"  # another rank's signal
        return bool(flag.item())


def _train_loop(config, state: TrainState, step: int, last: int, out: Path, rank: int, seed: int,
                distributed: bool, logger, reporter=None, stop: StopRequest | None = None) -> int:
    """Steps ``step .. last - 1``, epoch after epoch (fewer when ``stop`` is requested); returns the step
    reached."""
    cfg = config["trainer"]
    dataset, held_out = _dataset(config)
    sampler = DistributedSampler(dataset, seed=seed) if distributed else None
    loader = DataLoader(dataset, batch_size=config["data"]["batch_size"], shuffle=sampler is None, sampler=sampler,
                        drop_last=True)
    train_model = torch.nn.parallel.DistributedDataParallel(state.model) if distributed else state.model
    flip = config["data"]["augment_horizontal_flip"]
    epoch = 0
    while step < last:
        if sampler is not None:
            sampler.set_epoch(epoch)
        for batch in loader:
            if step >= last:
                break
            if flip and torch.rand(()) < 0.5:
                batch = torch.flip(batch, dims=[3])
            logs = _train_step(train_model, state.model, state.loss, batch, step, state.opt_ae, state.opt_disc)
            lr = state.opt_ae.param_groups[0]["lr"]
            state.sched_ae.step()
            state.sched_disc.step()
            if logger is not None and step % cfg["log_freq"] == 0:
                logger.log(step, logs, lr)
            if logger is not None and held_out is not None and cfg["val_every"] and step % cfg["val_every"] == 0:
                metrics, _ = validate(state.model, held_out, config["model"]["lossconfig"]["pixel_loss"])
                logger.log_validation(step, metrics)
            step += 1
            if reporter is not None:
                reporter.step(step)
            every = cfg["save_and_sample_every"]
            if rank == 0 and every and step % every == 0:
                _save(out, step, state)
                _sample(out, step // every, step, state.model, batch, held_out, config, logger)
            if stop is not None and stop.requested(distributed):
                return step
        epoch += 1
    return step


def _train_step(train_model, model, loss_fn, batch, step, opt_ae, opt_disc) -> list[dict]:
    """Pass 0 updates the autoencoder, pass 1 the discriminator, each with a fresh posterior sample.

    As Lightning's optimizer toggling does for LDM, the discriminator is frozen during pass 0 (RadioDiff lets the
    generator's adversarial gradient leak into the discriminator's next update) and each pass zeroes only its
    own optimizer.
    """
    disc_params = list(loss_fn.discriminator.parameters())
    for p in disc_params:
        p.requires_grad_(False)
    reconstructions, posterior = train_model(batch)
    loss, ae_log = loss_fn(batch, reconstructions, posterior, 0, step, last_layer=model.last_layer())
    opt_ae.zero_grad(set_to_none=True)
    (loss / 2).backward()
    opt_ae.step()
    for p in disc_params:
        p.requires_grad_(True)
    with torch.no_grad():  # pass 1 only needs reconstructions, detached anyway
        reconstructions, posterior = train_model(batch)
    loss, disc_log = loss_fn(batch, reconstructions, posterior, 1, step)
    opt_disc.zero_grad(set_to_none=True)
    (loss / 2).backward()
    _average_gradients(disc_params)
    opt_disc.step()
    return [ae_log, disc_log]


def _average_gradients(params) -> None:
    # The discriminator runs several times per step in different roles, which DDP's reducer does not allow:
    # average its gradients across ranks by hand, as DDP does for the autoencoder.
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return
    world = torch.distributed.get_world_size()
    for p in params:
        if p.grad is not None:
            torch.distributed.all_reduce(p.grad)
            p.grad /= world


def _sample(out: Path, milestone: int, step: int, model, batch, held_out, config, logger) -> None:
    """RadioDiff's ``sample-<milestone>.png`` (inputs above reconstructions) and the same grid in TensorBoard;
    the held-out set's as ``val-sample-<milestone>.png`` / ``val/reconstructions``."""
    with torch.no_grad():
        was_training = model.training
        model.eval()
        reconstructions, _ = model(batch, sample_posterior=False)
        model.train(was_training)
    picture = grid(batch, reconstructions)
    save_grid(picture, out / f"sample-{milestone}.png")
    if logger is not None:
        logger.image("train/reconstructions", picture, step)
    if held_out is not None:
        _, val_rec = validate(model, held_out, config["model"]["lossconfig"]["pixel_loss"])
        picture = grid(held_out, val_rec)
        save_grid(picture, out / f"val-sample-{milestone}.png")
        if logger is not None:
            logger.image("val/reconstructions", picture, step)


def _save(out: Path, step: int, state: TrainState) -> None:
    folder = out / "checkpoints"
    folder.mkdir(exist_ok=True)
    with staged(folder / f"model-{step}.pt") as tmp:  # a kill mid-save leaves staging the next save removes
        torch.save(state.checkpoint(step), tmp)


def main(argv: list[str] | None = None) -> None:
    """``python -m trainer CONFIG --out RUN_DIR [--max-steps N] [--resume]`` (the same as ``vae-report train``)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m trainer", description=main.__doc__)
    parser.add_argument("config")
    parser.add_argument("--out", required=True)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    try:
        run_training(args.config, args.out, args.max_steps, args.resume)
    except (ConfigError, OutputError) as exc:
        print(f"vae-report: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except Interrupted as exc:
        raise SystemExit(exc.exit_code) from None
