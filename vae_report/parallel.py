"""Work spread over processes (a sweep's runs), with a progress bar on a terminal when it takes a while."""

from __future__ import annotations

import os
import sys
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
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(fn, item) for item in items]
        _progress(futures, label)
        return [future.result() for future in futures]


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
