"""The fixed plots drawn, by forked processes while the analysis goes on where the run is long enough to pay."""

from __future__ import annotations

import threading
from collections import deque

from ..marks import Marks
from ..parallel import fork_safe
from ..rules import Metrics
from ..schedule import Schedule
from .drawing import Plot
from .figures import figure_key, left_out, plan
from .series import Series


def make_plots(frame, schedule: Schedule, baseline_step: int | None = None, jobs: int | None = None) -> list[Plot]:
    """The fixed plots, as PNG bytes (only those whose metrics are logged); ``baseline_step``: the last
    report's step, marked and the stretch since it hatched. Long runs are drawn by ``jobs`` forked processes
    (default: the cores, in the main process only; a sweep's workers draw their own serially)."""
    return PlotsInFlight(frame, schedule, baseline_step, jobs).result()


def _prepared(frame, schedule: Schedule, baseline_step: int | None):
    c = Series(Metrics(frame), schedule, baseline_step)
    planned = plan(c)
    for name in {n for *_, draw in planned for n in draw.names}:
        c[name]  # prepared once, before any fork, so each worker inherits the downsampled series
    return c, planned


class PlotsInFlight:
    """The fixed plots drawn by forked processes while this one goes on with the analysis (rules, narrative):
    started as soon as the frame and the schedule are known; ``result()`` gives what ``make_plots`` would.
    A short run, or one where forking does not pay or exist, is drawn at ``result()`` in this process; so are
    the figures of a drawing process that died (killed, out of memory) instead of waiting for them forever."""

    def __init__(self, frame, schedule: Schedule, baseline_step: int | None = None, jobs: int | None = None):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.c, self.planned = _prepared(frame, schedule, baseline_step)
        self.marks = self.c.marks
        draws = [draw for *_, draw in self.planned]
        jobs = _jobs(jobs, len(frame))
        self.pool, self.sent, self.workers, self.feeder = None, {}, [], None
        if jobs > 1 and len(draws) > 1:
            before = set(multiprocessing.active_children())
            _WORK.update(draws=draws, series=self.c)
            # one figure at a time to whichever process is free, the costliest first (a fixed share per process
            # left one idle while the other still drew), those that mark the findings last. Only as many are sent
            # as there are processes: one queued in the executor cannot be cancelled, and a figure that marks the
            # findings, sent once they are known, is drawn once with its marks instead of once without and again
            # with them. A figure none of whose metrics gets a warning or error is the same either way.
            self.queue = deque(sorted((i for i, d in enumerate(draws) if not d.flagged), key=lambda i: -draws[i].cost)
                               + sorted((i for i, d in enumerate(draws) if d.flagged), key=lambda i: -draws[i].cost))
            self.jobs, self.lock = min(jobs, len(draws)), threading.Lock()
            try:
                self.pool = ProcessPoolExecutor(self.jobs, multiprocessing.get_context("fork"),
                                                initializer=_worker_start)
                with self.lock:  # the first submission forks every worker (the executor forks them all at once)
                    for _ in range(self.jobs):
                        self._send(self.queue.popleft())
            finally:
                _WORK.clear()  # the workers have their copy
            self.workers = [w for w in multiprocessing.active_children() if w not in before]
            self.feeder = threading.Thread(target=self._feed, name="vae-report-plots", daemon=True)
            self.feeder.start()

    def _send(self, i: int) -> bool:
        """Figure ``i`` to the pool with the marks known now (under the lock); False once the pool is broken."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            self.sent[i] = (self.pool.submit(_draw_one, (i, self.marks)), self.marks)
        except (BrokenProcessPool, RuntimeError):  # a worker died, or the pool was shut: drawn here (result)
            self.queue.clear()
            return False
        return True

    def _feed(self) -> None:
        """Sends the next figure whenever a process is free, until none is left or the pool is closed."""
        from concurrent.futures import FIRST_COMPLETED, wait

        while True:
            with self.lock:
                if self.pool is None or not self.queue:
                    return
                busy = [future for future, _ in self.sent.values() if not future.done()]
                if len(busy) < self.jobs:
                    self._send(self.queue.popleft())
                    continue
            wait(busy, return_when=FIRST_COMPLETED)

    def result(self, findings=()) -> list[Plot]:
        """The plots, those of a metric marking its warning and error findings (rules' Finding objects)."""
        from concurrent.futures import CancelledError
        from concurrent.futures.process import BrokenProcessPool

        draws = [draw for *_, draw in self.planned]
        marks = self.c.marks = self.c.marks.with_findings(findings)
        found: dict[int, bytes] = {}
        if self.pool is not None:
            try:
                with self.lock:
                    self.marks = marks  # what is sent from now on marks the findings
                    # the figures that mark a finding and were sent before it was known: drawn again (not yet
                    # begun: cancelled, not drawn for nothing); the rest, not yet sent, all at once
                    for i, (future, sent_with) in list(self.sent.items()):
                        if sent_with is not marks and draws[i].flagged and marks.flags_on(draws[i].names)[0]:
                            future.cancel()
                            self._send(i)
                    while self.queue and self._send(self.queue.popleft()):
                        pass
                    futures = [future for future, _ in self.sent.values()]
                for future in futures:
                    try:
                        i, png = future.result()
                    except (BrokenProcessPool, CancelledError):  # its process died: the figure is drawn below
                        continue
                    found[i] = png
            finally:
                self.close()
        else:
            self.marks = marks
        missing = [i for i in range(len(draws)) if i not in found]
        if missing:
            with _collector_paused():
                found |= {i: draws[i](self.c) for i in missing}
        key = figure_key(self.c)
        return [Plot(name, title, caption + left_out(self.marks, draw), found[i], key)
                for i, (name, title, caption, draw) in enumerate(self.planned)]

    def close(self) -> None:
        """Stop the drawing processes (also when the analysis failed before the plots were wanted)."""
        if self.pool is None:
            return
        with self.lock:
            pool, self.pool = self.pool, None
            self.queue.clear()
        # the figures not yet begun are cancelled; one being drawn is finished (a fraction of a second) and the
        # workers exit: the executor's own thread reaps them. Terminating and joining them here as well raced with
        # that thread for the same child (one reaps it, the other reads it as still alive)
        pool.shutdown(wait=True, cancel_futures=True)
        self.feeder.join()


_WORK: dict = {}  # what forked workers draw from: inherited at the fork, never pickled


def _worker_start() -> None:
    """A drawing process: what it inherited is frozen out of the cyclic collector, which is paused (matplotlib's
    many small objects made it run often, about a sixth of the drawing time) and run once per figure instead,
    over that figure's objects only (a few ms), so the process does not grow."""
    import gc

    gc.freeze()
    gc.disable()


def _draw_one(job: tuple[int, Marks]) -> tuple[int, bytes]:
    import gc

    i, marks = job
    series = _WORK["series"]
    series.marks = marks  # the findings' flags come with the figures that mark them
    png = _WORK["draws"][i](series)
    gc.collect()
    return i, png


class _collector_paused:
    """Matplotlib allocates many small objects: the cyclic collector, scanning every object the process holds,
    would run often and find nothing; figures are closed explicitly."""

    def __enter__(self):
        import gc

        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        import gc

        if self.was:
            gc.enable()


PARALLEL_POINTS = 200_000  # below this, forking costs more than it saves


def _jobs(jobs: int | None, points: int) -> int:
    """Processes to draw with: one for short runs, inside a worker process, or where fork does not exist."""
    import multiprocessing
    import os

    if jobs is not None:
        return max(1, jobs) if fork_safe() else 1
    if points < PARALLEL_POINTS or multiprocessing.parent_process() is not None:
        return 1
    if not fork_safe():  # drawing workers inherit the prepared series by fork: none where forking is unsafe
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
