"""Lightning's ``version_N`` folders: which are one run and which are separate attempts.

Each ``fit()`` opens a new version, and two loggers of one run get two versions. A version whose values agree
with an earlier one on the steps they share is that run's other logger; one that starts late and goes on past
where the run stopped is a resume (from ``last.ckpt`` it redoes, with other values, the steps since that
checkpoint: the newer version's points replace them); one that starts again from the beginning is a new attempt.
Versions are taken in numeric order (version_10 after version_2), never by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import VaeReportError
from .readers import load_run
from .schedule import find_config

_VERSION = re.compile(r"^version_(\d+)$")


@dataclass
class Attempt:
    """One training attempt: the version folders that log it."""

    folders: list[Path] = field(default_factory=list)
    first_step: int = 0
    last_step: int = 0
    levels: dict = field(default_factory=dict)  # metric -> {step: value}, to compare loggers of one run

    parents: int = 1  # how many folders the versions of this root sit in (the name then says which)

    @property
    def name(self) -> str:
        return "+".join(f"{f.parent.name}/{f.name}" if self.parents > 1 else f.name for f in self.folders)


_SKIP = {".git", "node_modules", "__pycache__", "site-packages", ".venv", "venv", "checkpoints", "wandb", "mlruns"}


def _subfolders(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in _SKIP]
    except OSError:
        return []


def version_folders(root: Path) -> list[Path]:
    """``version_N`` folders directly under ``root`` or one level below (``lightning_logs/``, ``testtube/``), else
    two levels below (``logs/<model>/version_N`` seen from a repository's root) unless that folder is a run of
    its own (it holds its training config: a folder of runs, each with its versions), in numeric order."""
    found = [p for p in _subfolders(root) if _VERSION.match(p.name)]
    for child in _subfolders(root):
        if not _VERSION.match(child.name):
            found += [p for p in _subfolders(child) if _VERSION.match(p.name)]
    if not found:
        for child in _subfolders(root):
            deeper = [p for middle in _subfolders(child) if not _VERSION.match(middle.name)
                      for p in _subfolders(middle) if _VERSION.match(p.name)]
            if deeper and find_config(child) is None:
                found += deeper
    return sorted(found, key=lambda p: (int(_VERSION.match(p.name).group(1)), str(p.parent)))


def summarize(folder: Path, root: Path) -> Attempt | None:
    try:
        frame = load_run(root, include=[folder]).frame
    except VaeReportError:
        return None
    training = frame[~frame["metric"].astype(str).str.startswith(("val/", "val_ema/"))]
    if training.empty:
        return None
    levels = {str(m): dict(zip(g["step"].to_numpy().tolist(), g["value"].to_numpy().tolist(), strict=True))
              for m, g in training.groupby("metric", observed=True)}
    steps = training["step"].to_numpy()
    return Attempt([folder], int(steps.min()), int(steps.max()), levels)


def same_values(a: Attempt, b: Attempt) -> bool | None:
    """Do two attempts log the same values where they share steps? None if they share none."""
    shared = checked = 0
    for metric, points in b.levels.items():
        mine = a.levels.get(metric)
        if not mine:
            continue
        for step, value in points.items():
            if step in mine:
                checked += 1
                other = mine[step]
                shared += bool(abs(other - value) <= 1e-5 * max(abs(other), abs(value), 1e-12)
                               or (np.isnan(other) and np.isnan(value)))
    return None if not checked else shared >= 0.9 * checked


def attempts(root: Path) -> list[Attempt] | None:
    """The attempts of a folder of Lightning versions, oldest first; None if it has fewer than two versions."""
    folders = version_folders(root)
    if len(folders) < 2:
        return None
    out: list[Attempt] = []
    for folder in folders:
        summary = summarize(folder, root)
        if summary is None:
            continue
        current = out[-1] if out else None
        if current is not None:
            agree = same_values(current, summary)
            # a resume starts late (from a checkpoint) and goes on; from last.ckpt it redoes the steps since
            # that checkpoint with other values, which the newer version then replaces
            resumed = summary.first_step > current.first_step and summary.first_step >= 0.5 * current.last_step \
                and (agree is None or summary.last_step > current.last_step)
            if agree or resumed:
                current.folders.append(folder)
                current.last_step = max(current.last_step, summary.last_step)
                for metric, points in summary.levels.items():
                    current.levels.setdefault(metric, {}).update(points)
                continue
        out.append(summary)
    parents = len({f.parent for f in folders})
    for attempt in out:
        attempt.parents = parents
    return out
