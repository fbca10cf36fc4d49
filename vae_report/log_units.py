"""A schedule in the unit the logs count: a console log counted in epochs, samples seen or its lines' order.

A config's ``disc_start`` and total are optimizer steps. Where the logs count epochs, the schedule is converted
when the config says how many steps an epoch holds, and a total given in epochs is taken as it is; otherwise
the step milestones are left out (phases and progress unjudged) and the report says why: comparing step 50,001
with epoch 100 would call a healthy run broken. A log counted in samples is converted with the config's batch
size. Logs counted by line or record order have no training step at all.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .configs import EPOCHS, STEPS_PER_EPOCH, flatten
from .numbers import fmt
from .schedule import Schedule

# ... and how many samples a step takes (a log counted in samples seen)
BATCH_SIZE = ("batch_size", "batchSize", "train_batch_size", "per_device_train_batch_size", "ims_per_batch",
              "IMS_PER_BATCH")


def _number(config: dict | None, names: tuple[str, ...]) -> tuple[int, str] | None:
    """The first positive whole number under one of ``names`` anywhere in the config, with its dotted path."""
    if not config:
        return None
    found = {path: value for path, value in flatten(config).items() if path.rsplit(".", 1)[-1] in names
             and isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 1}
    for name in names:
        for path, value in found.items():
            if path.rsplit(".", 1)[-1] == name:
                return int(value), path
    return None


def epochs_in(config: dict | None) -> tuple[int, str] | None:
    """The run's length in epochs as the config names it, with its path."""
    return _number(config, EPOCHS)


def steps_per_epoch(config: dict | None) -> tuple[int, str] | None:
    """How many optimizer steps an epoch holds, as the config names it, with its path."""
    return _number(config, STEPS_PER_EPOCH)


def in_log_units(schedule: Schedule, counts: str, config: dict | None, first_step: int) -> Schedule:
    """``schedule`` with its milestones in the logs' unit (``counts``: epoch, sample or line); ``first_step``: the first
    logged epoch (0 or 1), where an epoch's steps begin."""
    if counts == "step":
        return schedule
    in_steps = {k: getattr(schedule, k) for k in ("disc_start", "total_steps")
                if getattr(schedule, k) is not None and schedule.origins.get(k) != "command line"}
    origins = dict(schedule.origins)
    changed: dict[str, Any] = {"counts": counts}
    per_epoch = _number(config, STEPS_PER_EPOCH) if counts == "epoch" else None
    epochs = _number(config, EPOCHS) if counts == "epoch" else None
    batch = _number(config, BATCH_SIZE) if counts == "sample" else None
    if per_epoch is not None:
        size, where = per_epoch
        for key, value in in_steps.items():
            changed[key] = first_step + value // size if key == "disc_start" else -(-value // size)
            origins[key] = f"{origins.get(key, 'config')} ({fmt(value)} steps / {fmt(size)} steps per epoch, {where})"
    elif batch is not None:
        size, where = batch
        for key, value in in_steps.items():
            changed[key] = value * size
            origins[key] = f"{origins.get(key, 'config')} ({fmt(value)} steps x {fmt(size)} samples per step, {where})"
    elif in_steps:
        for key, value in in_steps.items():
            changed[key] = None  # the table says what the config gave and why it is not used
            origins[key] = f"config: {fmt(value)} optimizer steps, not converted (the logs count {counts}s)"
        what = " and ".join(f"{k} {fmt(v)}" for k, v in in_steps.items())
        changed["unit_note"] = (
            f"the config's {what} {'are' if len(in_steps) > 1 else 'is'} in optimizer steps while these logs count "
            + {"epoch": "epochs, and the config does not give steps_per_epoch, how many steps an epoch holds",
               "sample": "samples seen, and the config does not give batch_size, how many samples a step takes",
               "record": "records (JSON objects or CSV rows), in the order a log without a step counter wrote them",
               }.get(counts, "lines, with no step counter"))  # said after "not judged:", "total unknown:"
    if counts == "epoch" and epochs is not None and (changed.get("total_steps", schedule.total_steps) is None):
        changed["total_steps"] = epochs[0]
        origins["total_steps"] = f"{schedule.config_path or 'config'}: {epochs[1]} {fmt(epochs[0])} (in epochs)"
    return replace(schedule, **changed, origins=origins)


def total_from_epochs(schedule: Schedule, config: dict | None,
                      logged: tuple[int, str] | None = None) -> Schedule:
    """A step-counted run whose config names no total in steps but its epochs: epochs x steps per epoch, where the
    config gives both (``max_epochs: 60``, ``iters_per_epoch: 1000``) or the logs show an epoch's length
    (``logged``: Lightning's epoch column beside the step), else why the total stays unknown (the epochs are
    there, the steps an epoch holds are not), instead of "no total in the config". Called after the command
    line's overrides: a total given there is the total."""
    if schedule.total_steps is not None or schedule.counts != "step" or schedule.total_note:
        return schedule
    epochs = epochs_in(config)
    if epochs is None:
        return schedule
    count, where = epochs
    per_epoch = steps_per_epoch(config)
    if per_epoch is not None:
        return schedule.with_overrides(f"{schedule.config_path or 'config'}: {where} {fmt(count)} x "
                                       f"{per_epoch[1]} {fmt(per_epoch[0])}", total_steps=count * per_epoch[0])
    if logged is not None:
        return schedule.with_overrides(f"{schedule.config_path or 'config'}: {where} {fmt(count)} x "
                                       f"{fmt(logged[0])} steps per epoch ({logged[1]})",
                                       total_steps=count * logged[0])
    return replace(schedule, total_note=f"the config gives {where}: {fmt(count)} (in epochs), and neither it nor "
                                        "the logs say how many steps an epoch holds")


# a validation interval in steps or in another share of the epoch: its points are then not one per epoch
VAL_INTERVALS = ("val_check_interval", "val_every", "eval_steps", "eval_every", "validate_every", "val_interval",
                 "evaluation_interval", "val_freq", "eval_freq")


def total_from_validation(schedule: Schedule, config: dict | None, steps: np.ndarray | None,
                          lightning: bool = False) -> Schedule:
    """A config that gives the run's length in epochs and nothing of an epoch's steps, whose validation is logged
    at evenly spaced steps from the end of the first epoch on (``steps``: the validation points' steps): Lightning
    validates once per epoch unless the config says otherwise (``val_check_interval``; every k epochs with
    ``check_val_every_n_epoch``), so the spacing is an epoch's steps (times k) and the total is epochs x that.
    Only where total_from_epochs left the total unknown for want of an epoch's length. ``lightning``: Lightning
    wrote the logs (its reason is then named; another loop's is the config naming no other interval)."""
    if schedule.total_steps is not None or schedule.counts != "step" or not schedule.total_note or steps is None:
        return schedule
    epochs = epochs_in(config)
    if epochs is None or len(steps) < 3 or any(_number(config, (name,)) for name in VAL_INTERVALS):
        return schedule
    gaps = np.diff(steps)
    every = int(gaps[0])
    if every <= 0 or np.any(gaps != every) or int(steps[0]) not in (every, every - 1):
        return schedule  # not one point per epoch from the first epoch's end on
    k = (_number(config, ("check_val_every_n_epoch",)) or (1, ""))[0]
    if every % k:
        return schedule
    per_epoch = every // k
    count, where = epochs
    if per_epoch == 1 and int(steps[0]) == 0:  # validated at every step from 0: the step is the epoch's index
        said = (f"{schedule.config_path or 'config'}: {where} {fmt(count)} (in epochs: the validation is logged at "
                "every step from step 0, so each step is an epoch)")
        return replace(schedule.with_overrides(said, total_steps=count), total_note=None, counts="epoch")
    said = (f"{schedule.config_path or 'config'}: {where} {fmt(count)} x {fmt(per_epoch)} steps per epoch (the "
            f"validation points, {fmt(every)} steps apart from step {fmt(int(steps[0]))} on: one per "
            + ("epoch" if k == 1 else f"{k} epochs")
            + (", as Lightning validates unless told otherwise)" if lightning else
               ", where validation runs once an epoch, as the config names no other interval)"))
    return replace(schedule.with_overrides(said, total_steps=count * per_epoch), total_note=None)


_LIGHTNING_FOLDER = re.compile(r"(^|/)(lightning_logs|version_\d+)/")


def written_by_lightning(root: Path, sources: list[str]) -> bool:
    """Did Lightning write these logs: a log under its ``lightning_logs/`` or ``version_N/`` folders, or the
    ``hparams.yaml`` its loggers write beside them."""
    if any(_LIGHTNING_FOLDER.search(path) for path in sources):
        return True
    folder = root if root.is_dir() else root.parent
    return any(True for _ in folder.rglob("hparams.yaml"))
