"""MLflow tracking stores: the SQLite database (``mlflow.db``: tables runs, metrics, params; MLflow's default
backend) and the legacy file store (``mlruns/<experiment>/<run>/metrics/<key>``, lines ``timestamp value
step``). Read with the standard library: MLflow itself is not needed, and the database is opened read-only
(``immutable``), so not even a journal file is written beside it. Params are the config: dotted or slashed keys
(``model.lossconfig.disc_start``; Lightning's MLFlowLogger writes ``model/params/lossconfig/params/disc_start``)
nest, flat ones (``disc_start``) go where a RadioDiff config keeps them."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import InputError
from ..frame import canonical_name, frame_from_series, number_column, step_column
from .encoding import read_text

# flat param -> where a RadioDiff-layout config keeps it
FLAT = {"disc_start": "model.lossconfig.disc_start", "kl_weight": "model.lossconfig.kl_weight",
        "disc_weight": "model.lossconfig.disc_weight", "disc_factor": "model.lossconfig.disc_factor",
        "disc_loss": "model.lossconfig.disc_loss", "codebook_weight": "model.lossconfig.codebook_weight",
        "train_num_steps": "trainer.train_num_steps", "total_steps": "trainer.train_num_steps",
        "max_steps": "trainer.train_num_steps", "lr": "trainer.lr", "learning_rate": "trainer.lr",
        "min_lr": "trainer.min_lr", "log_freq": "trainer.log_freq", "log_every": "trainer.log_freq",
        "num_train_steps": "trainer.train_num_steps", "total_iter": "trainer.train_num_steps",
        "max_iters": "trainer.train_num_steps", "max_iter": "trainer.train_num_steps",
        # diffusers' / accelerate's train_*.py args (args.json) and transformers' get_scheduler argument
        "max_train_steps": "trainer.train_num_steps", "num_training_steps": "trainer.train_num_steps",
        "save_every": "trainer.save_every",
        # LDM's own key for the rate (before main.py's scaling), where another trainer's config names no other
        "base_learning_rate": "trainer.lr"}


_EMPTY = pd.DataFrame({"timestamp": [], "value": [], "step": []})


@dataclass
class StoreRun:
    """One MLflow run: its id, name, metrics frame and config."""

    run_id: str
    name: str
    frame: pd.DataFrame
    config: dict = field(default_factory=dict)


def is_database(path: Path) -> bool:
    if path.suffix not in (".db", ".sqlite", ".sqlite3"):
        return False
    try:
        with path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return False
        return {"metrics", "runs", "params"} <= set(_tables(path))
    except (OSError, sqlite3.Error, ValueError):  # ValueError: a damaged schema's names are not even text
        return False


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    db.text_factory = lambda raw: raw.decode("utf-8", errors="replace")  # a param in another encoding is still read
    return db


def _tables(path: Path) -> list[str]:
    with _connect(path) as db:
        return [row[0] for row in db.execute("select name from sqlite_master where type='table'")]


def config_from_params(params: dict) -> dict:
    """Hyperparameters (MLflow's strings, or a W&B run's flat config) as a nested config dict: keys split at
    their dots or slashes."""
    config: dict = {}
    for key, text in params.items():
        try:
            value = yaml.safe_load(text) if isinstance(text, str) and len(text) < 1000 else text
        except yaml.YAMLError:
            value = text
        # dotted (model.lossconfig.disc_start) or slashed, as Lightning's MLFlowLogger flattens a nested config
        # (model/params/lossconfig/params/disc_start); a flat name as the trainers spell it
        path = (key.replace("/", ".") if "." in key or "/" in key else FLAT.get(key, key)).split(".")
        node = config
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[path[-1]] = value
    return config


def read_database(path: Path, source: str, only: str | None = None) -> list[StoreRun]:
    """Every run of an MLflow SQLite store (or only the run ``only``)."""
    runs = [r for r in list_runs(path) if only is None or r[0] == only]
    where, args = ("where run_uuid = ?", (only,)) if only is not None else ("", ())
    try:
        with _connect(path) as db:
            metrics = pd.read_sql_query(f"select run_uuid, key, value, timestamp, step, is_nan from metrics {where}",
                                        db, params=args)
            params = db.execute(f"select run_uuid, key, value from params {where}", args).fetchall()
    except sqlite3.Error as exc:
        raise InputError(f"{path}: not a readable MLflow database ({exc}); pass the tracking store") from exc
    out = []
    for run_id, name in runs:
        part = metrics[metrics["run_uuid"] == run_id]
        series = [(canonical_name(str(key)), *_columns(group)) for key, group in part.groupby("key", sort=False)]
        config = config_from_params({k: v for rid, k, v in params if rid == run_id})
        out.append(StoreRun(run_id, name, frame_from_series(series, source), config))
    return out


def list_runs(store: Path) -> list[tuple[str, str]]:
    """(run id, name) of every run of a store, without reading its metrics (a sweep is decided on this)."""
    if store.is_file():
        try:
            with _connect(store) as db:
                return db.execute("select run_uuid, coalesce(name, run_uuid) from runs order by start_time").fetchall()
        except sqlite3.Error as exc:
            raise InputError(f"{store}: not a readable MLflow database ({exc}); pass the tracking store") from exc
    out = []
    for run_dir in sorted(p.parent for p in store.glob("*/*/meta.yaml")):
        meta = _yaml(run_dir / "meta.yaml")
        run_id = str(meta.get("run_id") or meta.get("run_uuid") or run_dir.name)
        out.append((run_id, str(meta.get("run_name") or run_id)))
    return out


def is_file_store(path: Path) -> bool:
    """An ``mlruns/`` folder: experiments holding runs with a ``metrics/`` folder and a ``meta.yaml``."""
    return path.is_dir() and any(path.glob("*/*/metrics")) and any(path.glob("*/*/meta.yaml"))


def _columns(group: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps, values, wall times) of one metric: any column may hold text or NULL (SQLite keeps what it is
    given). A value that is text is no measurement: its point gets an impossible step, dropped and counted where
    the frame is built; a NaN MLflow stored as such (is_nan) stays a NaN."""
    steps = step_column(group["step"].to_numpy())
    raw = group["value"].to_numpy()
    values = number_column(raw)
    stored_nan = number_column(group["is_nan"].to_numpy()) == 1
    steps[np.isnan(values) & ~stored_nan & ~pd.isna(raw)] = -1
    return steps, np.where(stored_nan, np.nan, values), number_column(group["timestamp"].to_numpy()) / 1000.0


def read_file_store(path: Path, only: str | None = None) -> list[StoreRun]:
    """Every run of a legacy ``mlruns/`` file store (or only the run ``only``)."""
    out = []
    for (run_id, name), run_dir in zip(list_runs(path), sorted(p.parent for p in path.glob("*/*/meta.yaml")),
                                       strict=True):
        if only is not None and run_id != only:
            continue
        series = []
        for metric in sorted(p for p in (run_dir / "metrics").rglob("*") if p.is_file()):
            data = metric.read_bytes()
            # a line still being written ("<ms> 0.0123 29" of "<ms> 0.0123 290"): not read
            data = data if data.endswith(b"\n") else data[: data.rfind(b"\n") + 1]
            table = pd.read_csv(io.BytesIO(data), sep=" ", header=None, names=["timestamp", "value", "step"],
                                on_bad_lines="skip", engine="c") if data.strip() else _EMPTY
            key = metric.relative_to(run_dir / "metrics").as_posix()
            series.append((canonical_name(key), step_column(table["step"].to_numpy()),
                           number_column(table["value"].to_numpy()),
                           number_column(table["timestamp"].to_numpy()) / 1000.0))
        params = {p.relative_to(run_dir / "params").as_posix(): read_text(p).strip()
                  for p in (run_dir / "params").rglob("*") if p.is_file()} if (run_dir / "params").is_dir() else {}
        out.append(StoreRun(run_id, name, frame_from_series(series, run_dir.relative_to(path.parent).as_posix()),
                            config_from_params(params)))
    return out


def _yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(read_text(path))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def pick(runs: list[tuple[str, str]], wanted: str | None, where: Path) -> tuple[str, str]:
    """The one run to analyze, as (run id, name): the only one, or the one named or identified by ``wanted``."""
    names = ", ".join(f"{name} ({run_id[:8]})" for run_id, name in runs)
    if wanted is not None:
        found = [r for r in runs if wanted in r or r[0].startswith(wanted)]
        if len(found) != 1:
            raise InputError(f"{where}: --run {wanted!r} matches {len(found)} runs; the store holds: {names}")
        return found[0]
    if len(runs) != 1:
        raise InputError(f"{where}: holds {len(runs)} MLflow runs ({names}); pick one with --run NAME_OR_ID")
    return runs[0]


def read_run(store: Path, source: str, wanted: str | None) -> tuple[StoreRun, int]:
    """The one run of a store to analyze (and how many it holds), reading only that run's metrics."""
    runs = list_runs(store)
    run_id, _ = pick(runs, wanted, store)
    found = read_database(store, source, run_id) if store.is_file() else read_file_store(store, run_id)
    return found[0], len(runs)
