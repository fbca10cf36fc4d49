"""A plain PyTorch loop's one line: ``reporter = every(1000, run_dir)`` once, ``reporter.step(step)`` each step.

Every ``n_steps`` it asks for a report in the background (``background.BackgroundReport``: another process, at
most one in flight, never raising into the loop); ``close()``, or the interpreter's exit, writes a final one.
Under torchrun only rank 0 reports (the ``RANK`` variable, or ``rank=``).
"""

from __future__ import annotations

import atexit
import logging
import operator
import os
from collections.abc import Sequence
from pathlib import Path

from .background import BackgroundReport

log = logging.getLogger("vae_report")


class Reporter:
    """Asks for a report every ``n_steps`` steps; a no-op on ranks other than 0."""

    def __init__(self, n_steps: int, run_dir: Path | str, out: Path | str | None = None,
                 json_out: Path | str | None = None, args: Sequence[str] = (), rank: int | None = None) -> None:
        try:
            steps = operator.index(n_steps)  # a whole number: 1.5 or "10" is a mistake, not 1 or 10
        except TypeError:
            raise TypeError(f"every(n_steps={n_steps!r}): give a whole number of steps >= 1") from None
        if steps < 1:
            raise ValueError(f"every(n_steps={n_steps}): give a number of steps >= 1")
        self.n_steps = steps
        self.active = (rank if rank is not None else int(os.environ.get("RANK", "0") or 0)) == 0
        self.background = BackgroundReport(run_dir, out, json_out, args) if self.active else None
        self._last: int | None = None
        if self.active:
            atexit.register(self.close)

    def step(self, global_step: int) -> None:
        """Call once per step (cheap); every ``n_steps`` steps a report is requested and this returns at once."""
        if self.background is None:
            return
        try:
            step = int(global_step)
            if self._last is None:
                self._last = step - step % self.n_steps
            elif step - self._last >= self.n_steps:
                self._last = step - step % self.n_steps
                self.background.request()
        except Exception:  # a hook never breaks the loop it serves
            log.exception("vae-report: step(%r) failed", global_step)

    def close(self, timeout: float | None = None) -> None:
        """Write the final report and wait for it (``timeout`` seconds at most)."""
        if self.background is None:
            return
        atexit.unregister(self.close)
        self.background.close(timeout)

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def every(n_steps: int, run_dir: Path | str, out: Path | str | None = None, json_out: Path | str | None = None,
          args: Sequence[str] = (), rank: int | None = None) -> Reporter:
    """A reporter writing ``out`` (default ``<run_dir>.report.html`` beside the run folder) and its JSON summary
    (default: ``out`` with ``.json``) every ``n_steps`` steps; ``args``: more ``vae-report analyze`` options."""
    return Reporter(n_steps, run_dir, out, json_out, args, rank)
