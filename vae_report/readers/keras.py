"""Keras' TensorBoard callback (TF2): ``epoch_<metric>`` at step = the epoch's index, ``batch_<metric>`` at the
optimizer step (``update_freq``), ``evaluation_<metric>_vs_iterations`` in ``validation/`` at the step reached.

Three series on two axes. Read alone, the ``epoch_*`` series are the run's metrics counted in epochs (the
``_vs_iterations`` series, on the other axis, are left out and said). Beside ``batch_*`` series the run counts
steps: ``batch_X`` is X, ``epoch_X`` is its epoch average ``X_epoch`` placed at the last step logged before it
(by wall time), and ``evaluation_X_vs_iterations`` is the validation's ``val/X`` at its step.
A tag named ``epoch_X`` whose steps are not consecutive epochs (a script logging it at the global step) is an
epoch average on the step axis: ``X_epoch``, as Lightning names it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..frame import canonical_name, make_frame
from .merge import metrics_in
from .sources import RunLogs

EPOCH, BATCH, ITERATIONS = "epoch_", "batch_", "_vs_iterations"
_EVALUATION = "evaluation_"


def _split(name: str) -> tuple[str, str]:
    prefix, _, base = name.rpartition("/") if name.split("/", 1)[0] in ("val", "val_ema") else ("", "", name)
    return (prefix + "/" if prefix else ""), base


def _counted_in_epochs(steps: np.ndarray) -> bool:
    """Steps 0, 1, 2, ... (or from 1): one point per epoch at the epoch's index."""
    unique = np.unique(steps)
    return len(unique) >= 1 and unique[0] <= 1 and (len(unique) == 1 or np.all(np.diff(unique) == 1))


def keras_series(frame: pd.DataFrame, logs: RunLogs) -> pd.DataFrame:
    """The TensorBoard frame with Keras' series named and placed as described above; unchanged without any
    ``epoch_*`` tag."""
    if frame.empty:
        return frame
    names = metrics_in(frame)
    if not any(_split(n)[1].startswith(EPOCH) for n in names):
        return frame
    frame = _renamed(frame, [str(n) for n in frame["metric"].cat.categories], {}, frame["step"].to_numpy())
    kinds = {}
    for name in names:
        prefix, base = _split(name)
        kinds[name] = ("iterations" if base.endswith(ITERATIONS) else "epoch" if base.startswith(EPOCH)
                       and len(base) > len(EPOCH) else "batch" if base.startswith(BATCH) and len(base) > len(BATCH)
                       else "other")
    epoch_names = [n for n in names if kinds[n] == "epoch"]
    if not epoch_names:
        return frame
    codes = frame["metric"].cat.codes.to_numpy()
    steps = frame["step"].to_numpy()
    in_epochs = all(_counted_in_epochs(steps[codes == names.index(n)]) for n in epoch_names)
    by_step = any(kinds[n] in ("batch", "other") for n in names)
    rename: dict[str, str | None] = {}
    new_steps = steps.copy()
    for name in names:
        prefix, base = _split(name)
        if kinds[name] == "epoch":
            own = base[len(EPOCH):]
            rename[name] = prefix + canonical_name(own) + ("_epoch" if by_step or not in_epochs else "")
        elif kinds[name] == "batch":
            rename[name] = prefix + canonical_name(base[len(BATCH):])
        elif kinds[name] == "iterations":
            own = base[: -len(ITERATIONS)].removeprefix(_EVALUATION)
            rename[name] = ("val/" + canonical_name(own)) if in_epochs and by_step else None
    if not in_epochs:
        logs.notes.append("epoch_* tags logged at the step, not at the epoch's index: read as epoch averages "
                          "(*_epoch) on the step axis")
    elif by_step:
        placed = _at_last_step(frame, codes, [names.index(n) for n in names if kinds[n] in ("batch", "other")],
                               [names.index(n) for n in epoch_names], new_steps)
        if not placed:
            rename.update({n: None for n in epoch_names})
        logs.notes.append("Keras' TensorBoard callback layout with batch_* series: read in steps; "
                          + ("epoch_X as the epoch average X_epoch at the last step logged before it (by wall time)"
                             if placed else "the epoch_* series left out (no wall times to place them on the steps)")
                          + "; evaluation_*_vs_iterations as val/* at their step")
    else:
        logs.units["tensorboard"] = "epoch"
        dropped = [n for n in names if kinds[n] == "iterations"]
        logs.notes.append("Keras' TensorBoard callback layout: the epoch_* series read as the metrics, counted in "
                          "epochs (step = the epoch's index)"
                          + (f"; {', '.join(dropped)} left out: counted in optimizer steps, another axis than the "
                             "epochs" if dropped else ""))
    return _renamed(frame, names, rename, new_steps)


def _at_last_step(frame: pd.DataFrame, codes: np.ndarray, step_codes: list[int], epoch_codes: list[int],
                  new_steps: np.ndarray) -> bool:
    """Moves each epoch point to the last step-axis point written at or before its wall time (in place in
    ``new_steps``); False when the wall times cannot place them."""
    walls = frame["wall_time"].to_numpy()
    on_steps = np.isin(codes, step_codes) & np.isfinite(walls)
    on_epochs = np.isin(codes, epoch_codes)
    if not on_steps.any() or not np.isfinite(walls[on_epochs]).all():
        return False
    order = np.argsort(walls[on_steps], kind="stable")
    times, at = walls[on_steps][order], np.maximum.accumulate(frame["step"].to_numpy()[on_steps][order])
    where = np.searchsorted(times, walls[on_epochs], side="right") - 1
    new_steps[on_epochs] = np.where(where >= 0, at[np.maximum(where, 0)], 0)
    return True


def _renamed(frame: pd.DataFrame, names: list[str], rename: dict[str, str | None], steps: np.ndarray) -> pd.DataFrame:
    """The frame with its metrics renamed (None: left out) and its steps replaced."""
    codes = frame["metric"].cat.codes.to_numpy()
    new_names = [rename.get(n, n) for n in names]
    keep = np.array([n is not None for n in new_names])[codes]
    labels = np.array([n or "" for n in new_names], dtype=object)[codes[keep]]
    return make_frame(steps[keep], pd.Categorical(labels), frame["value"].to_numpy()[keep],
                      frame["wall_time"].to_numpy()[keep], frame["source"].array[keep])
