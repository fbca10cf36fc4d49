"""What a run's reading found: each file read (``SourceFile``) and the merged result (``RunLogs``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# a text log's last line without its end: the line being written, whose last value may be cut
# (``rec_loss: 0.0`` of ``rec_loss: 0.0123``); not read, and said in the sources
TORN_LINE = "last line has no end (the file is still being written, or was cut): dropped (cut)"
KINDS = ("tensorboard", "csv", "text log", "json", "wandb", "mlflow", "wandb summary")


@dataclass
class SourceFile:
    """One file read, with what was found in it and anything that went wrong."""

    path: str  # relative to the run directory
    kind: str
    points: int
    metrics: list[str]
    notes: list[str] = field(default_factory=list)
    first_wall_time: float = float("nan")
    file: str | None = None  # the file a launch was read from, when one text log holds several launches
    launch: int = 0  # ... and which launch it is (1, 2, ... in the file's order)
    steps: tuple[int, int] | None = None  # the first and last step it holds, as read (before any merge)
    unread: float = 0.0  # the share of the file's bytes corrupt record headers left unread (an event file's)
    # metrics the file holds that were left out, with why in a few words ("printed to 5 decimals"): never "not
    # logged" where they were
    left_out: dict[str, str] = field(default_factory=dict)


def step_range(frame: pd.DataFrame) -> tuple[int, int] | None:
    """The first and last step a file's frame holds (None when it holds none)."""
    return (int(frame["step"].min()), int(frame["step"].max())) if len(frame) else None


@dataclass
class RunLogs:
    """Everything read from a run directory."""

    root: Path
    frame: pd.DataFrame
    sources: list[SourceFile]
    notes: list[str]  # how files and sources were merged
    metric_sources: dict[str, str]  # metric -> kind(s) its points came from
    text_config: dict | None = None
    text_total_steps: int | None = None
    total_steps_origin: str = "text log ([Train Step] step/total)"
    radiodiff_log: bool = False  # RadioDiff's own text log was read: its trainer wrote these logs
    pattern: str | None = None  # the user's step-line regex for text logs
    store_run: str | None = None  # the MLflow run to read (name or id), when a store holds several
    store_config: dict | None = None  # the config a W&B run or an MLflow run carries
    store_config_origin: str = ""
    tail: object | None = None  # a tail.TailCache: only what each event file and CSV gained since the last read
    # where a later file took over (a resume or restart): {"step", "file", "points", "concurrent"}; concurrent
    # when the earlier file was still being written after the later one began (two processes, one folder)
    restarts: list[dict] = field(default_factory=list)
    # text logs that end in a Python traceback after their step lines: (file, its exception line, its last step)
    crashes: list[tuple[str, str, int]] = field(default_factory=list)
    split_of: dict = field(default_factory=dict)  # event file -> split, for a split's folder beside train/
    units: dict = field(default_factory=dict)  # kind -> what its step counts, where not optimizer steps
    # how many steps an epoch holds and where the logs show it (an epoch written beside a global step)
    steps_per_epoch: tuple[int, str] | None = None
    counts: str = "step"  # what the step axis counts: step | epoch | sample | line | record (a text or
    # JSON log without a step counter)


