"""Work spread over processes (a sweep's runs), with a progress bar on a terminal when it takes a while."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def map_in_processes(fn: Callable[[Any], Any], items: Iterable[Any], jobs: int | None = None,
                     label: str = "working") -> list[Any]:
    """``[fn(item) for item in items]``, ``jobs`` processes at a time (default: the cores), in order. One job,
    or one item, runs in this process."""
    items = list(items)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(items) or 1))
    if jobs == 1:
        return [fn(item) for item in items]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=safe_context()) as pool:
        futures = [pool.submit(fn, item) for item in items]
        _progress(futures, label)
        return [future.result() for future in futures]


def fork_safe() -> bool:
    """Can this process fork? Not while another thread runs (a logger's, W&B's, a data loader's): the child gets
    a copy of every lock as it was, and one held by a thread that does not exist there never comes free (a
    worker that hangs forever, found in the test suite after a W&B test left its thread)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def safe_context():
    """Fork where it is safe (fast: the workers inherit what is loaded), else a fresh interpreter per worker."""
    return multiprocessing.get_context("fork" if fork_safe() else "spawn")


def _progress(futures: list, label: str) -> None:
    """A bar on stderr once the work has taken more than two seconds, only on a terminal."""
    if not sys.stderr.isatty():
        return
    start = time.monotonic()
    while not all(f.done() for f in futures):
        time.sleep(0.2)
        if time.monotonic() - start > 2:
            break
    else:
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=len(futures))
        while True:
            done = sum(f.done() for f in futures)
            bar.update(task, completed=done)
            if done == len(futures):
                return
            time.sleep(0.2)
