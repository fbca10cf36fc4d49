"""The run's checkpoints, for an action that says which one to resume from: the files found beside the logs
(RadioDiff's ``model-<milestone>.pt``, the bundled trainer's ``model-<step>.pt``, Lightning's
``epoch=E-step=S.ckpt``, Hugging Face's ``checkpoint-<step>/``, any checkpoint whose name carries its step), else
the steps the config's save interval puts them at."""

from __future__ import annotations

import os
import re
from pathlib import Path

from . import position as pos
from .numbers import fmt
from .schedule import Schedule

SUFFIXES = (".pt", ".pth", ".ckpt", ".safetensors", ".bin")
_MODEL_N = re.compile(r"^model-(\d+)$")  # RadioDiff: model-<step // save_and_sample_every>; bundled: model-<step>
_HF = re.compile(r"^checkpoint-(\d+)$")  # a Hugging Face Trainer's folder
_STEP = re.compile(r"(?:^|[_=-])(?:step|global_step|iter|it)[_=-]?(\d+)", re.I)
_MAX_ENTRIES = 20_000  # a results folder holds a few hundred files; a data set mounted inside is not walked through


def find_checkpoints(root: Path, every: int | None) -> tuple[tuple[int, str], ...]:
    """(step, path relative to ``root``) of each checkpoint whose step its name gives, sorted by step; ``every``:
    the config's save interval, which turns RadioDiff's milestone numbers into steps."""
    root = Path(root)
    if not root.is_dir():
        return ()
    named: list[tuple[str, bool, str]] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        here = Path(folder)
        named += [(name, name in dirs, (here / name).relative_to(root).as_posix()) for name in [*dirs, *sorted(files)]]
        if len(named) > _MAX_ENTRIES:
            named = named[:_MAX_ENTRIES]
            break
    # the bundled trainer names its files by step (model-80.pt, model-160.pt, and model-130.pt where --max-steps
    # stopped it): one file at a multiple of the save interval says the folder counts steps, not milestones
    numbers = [int(m.group(1)) for name, _, _ in named if (m := _MODEL_N.match(os.path.splitext(name)[0]))]
    by_step = bool(every) and any(n % every == 0 and n >= every for n in numbers)
    found: dict[int, str] = {}
    for name, is_folder, path in named:
        step = _step_of(name, is_folder, every, by_step)
        if step is not None:
            found.setdefault(step, path)
    return tuple(sorted(found.items()))


def _step_of(name: str, folder: bool, every: int | None, by_step: bool = False) -> int | None:
    if folder:
        hf = _HF.match(name)
        return int(hf.group(1)) if hf else None
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in SUFFIXES:
        return None
    numbered = _MODEL_N.match(stem)
    if numbered:
        n = int(numbered.group(1))
        if by_step:
            return n  # a step already (the bundled trainer's model-<step>.pt)
        return n * every if every else None
    step = _STEP.search(stem)
    return int(step.group(1)) if step else None


def checkpoint_before(s: Schedule, step: int) -> str:
    """Which checkpoint to resume from, for a fault that began at ``step``: "the last checkpoint before step
    16,000: results/model-3.pt (step 15,000)" from the files on disk, else the step the config's save interval
    saves it at, else in general words."""
    at = pos.at(s, step)
    files = [(k, path) for k, path in s.checkpoints if k < step]
    if files:
        k, path = files[-1]
        return f"the last checkpoint before {at}, {path} ({pos.at(s, k)})"
    if s.checkpoints:  # none before it: the run restarts, from its first step, with the fault's cause fixed
        return (f"the beginning: none of the run's {fmt(len(s.checkpoints))} checkpoints precedes {at} (the "
                f"earliest is {s.checkpoints[0][1]}, {pos.at(s, s.checkpoints[0][0])})")
    every = s.checkpoint_every if s.counts == "step" else None
    if every:
        saved = (step - 1) // every * every
        if saved < every:
            return (f"the beginning: no checkpoint precedes {at} (the first is saved at {pos.at(s, every)}, "
                    f"every {fmt(every)} steps)")
        name = (f"; RadioDiff's trainer names it model-{saved // every}.pt in its results_folder"
                if s.layout in ("radiodiff", "text log") else "")
        return (f"the checkpoint saved at {pos.at(s, saved)}, the last before {at} (saved every {fmt(every)} "
                f"steps{name})")
    return f"the last checkpoint before {at}, if one was saved"  # no file found, no save interval known


def checkpoint_near(s: Schedule, step: int) -> str:
    """The weights to keep from about ``step`` (the best validation level): the checkpoint found or saved
    nearest at or before it when the run's checkpoints are known, else the weights from around it, if saved
    (never a checkpoint the logs and the config do not show)."""
    at = pos.at(s, step)
    files = [(k, path) for k, path in s.checkpoints if k <= step]
    if files:
        k, path = files[-1]
        return f"the checkpoint nearest before {at}, {path} ({pos.at(s, k)})"
    every = s.checkpoint_every if s.counts == "step" else None
    if every and step >= every:
        return f"the checkpoint saved at {pos.at(s, step // every * every)} (saved every {fmt(every)} steps)"
    return f"the weights from around {at}, if they were saved"


def newest_step(s: Schedule, last: int) -> int | None:
    """The step of the newest checkpoint by the last logged step ``last``: the newest file found, else the last
    step the config's save interval saved at; None when none is known to be saved."""
    if s.checkpoints:
        return s.checkpoints[-1][0]
    every = s.checkpoint_every if s.counts == "step" else None
    return last // every * every if every and last >= every else None


def latest_checkpoint(s: Schedule, last: int) -> str:
    """The checkpoint a fix resumes from when nothing before it went wrong: the newest one."""
    if s.checkpoints:
        k, path = s.checkpoints[-1]
        return f"the latest checkpoint, {path} ({pos.at(s, k)})"
    every = s.checkpoint_every if s.counts == "step" else None
    if every and last >= every:
        return f"the latest checkpoint (saved at {pos.at(s, last // every * every)}, every {fmt(every)} steps)"
    return "the latest checkpoint, if one was saved"
