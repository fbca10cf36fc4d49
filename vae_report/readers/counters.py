"""The step counter of a table of records (a CSV's columns, a JSON log's keys), one policy for every reader:
a global counter by any of its usual names, the one that never goes back where several are written; then a counter
that restarts every epoch (``batch``, ``batch_idx``), continued across the epochs by the reader; ``epoch`` only
where it is written once per record (a log per epoch), never where it repeats over the records of an epoch (those
rows are distinct records, counted by their order, not rewrites of one step)."""

from __future__ import annotations

import numpy as np

# global counters, most specific first: a trainer's global step, then iteration counters under their usual names
GLOBAL_STEPS = ("step", "global_step", "trainer/global_step", "train/global_step", "_step", "iteration", "iter", "it",
                "steps", "iterations", "total_iters", "total_iter", "total_iterations", "total_step", "global_iter",
                "global_iters", "global_iteration", "n_iter", "niter", "num_iters", "iter_num", "iters_num",
                "num_iter", "step_num", "global_steps", "cur_iter", "curr_iter", "current_iter", "current_step",
                "cur_step", "train_step", "train_iter", "opt_step", "num_updates", "updates")
# a counter nested under the training split (``{"train": {"step": 5}}``, flattened ``train/step``)
_SPLIT_HEADS = ("train/", "training/", "trainer/")
# counters that start over at every epoch: a step only with the epoch beside them, continued across epochs
EPOCH_LOCAL = ("batch", "batch_idx", "batch_index", "inner_iter", "iter_in_epoch", "epoch_step")
STEP_NAMES = GLOBAL_STEPS + EPOCH_LOCAL
EPOCHS = ("epoch", "epochs")


def global_name(name: str) -> bool:
    """A global step counter's name, at the top level or nested under the training split."""
    low = name.lower()
    return low in GLOBAL_STEPS or (low.startswith(_SPLIT_HEADS) and low.split("/", 1)[1] in GLOBAL_STEPS)


def once_per_record(values) -> bool:
    """An epoch written once per record, rising record after record (a log per epoch), not repeated over the
    records of an epoch."""
    values = np.asarray(values, dtype=np.float64)
    return len(values) >= 1 and bool(np.isfinite(values).all()) and bool((np.diff(values) > 0).all())


def is_counter(name: str, values, epochs=None) -> bool:
    """Can this named column be the step: a global counter's name (its odd values are the reader's to drop and
    count), or an epoch-local one's with the epoch beside it, holding whole numbers that are not one constant (a
    logged ``batch`` size of 32 is no counter)."""
    low = name.lower()
    if global_name(low):
        return True
    if low not in EPOCH_LOCAL or epochs is None:
        return False
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return len(finite) >= 1 and bool((finite == np.round(finite)).all()) and (len(finite) == 1 or np.ptp(finite) > 0)
