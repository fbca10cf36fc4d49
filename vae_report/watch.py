"""Watch mode: the report written again every interval while the run's logs grow, each pass parsing only what
the event files and CSVs gained since the last (``readers.tail``)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .analysis import Analysis, AnalyzedRun, examine_run
from .errors import InputError, NoLogsYet
from .outputs import check_outputs, committed
from .readers.tail import TailCache
from .render import write_report, write_summary
from .sweep import find_runs
from .writer import is_html

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_INTERVAL = 7 * 24 * 3600.0


def parse_interval(text: str) -> float:
    """``5m``, ``30s``, ``2h`` or plain seconds (``90``) -> seconds, up to a week."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([smh]?)\s*", str(text).lower())
    seconds = float(found.group(1)) * _UNITS[found.group(2)] if found else 0.0
    if not 0 < seconds <= MAX_INTERVAL:  # beyond a week a pass would never come (and sleep() overflows)
        raise InputError(f"--every {str(text)[:40]!r}: give a positive interval up to a week (168h), such as 5m, "
                         "30s, 2h or 90 (seconds)")
    return seconds


class Watcher:
    """One run, analyzed again and again; the files read so far are kept (``tail``) between passes."""

    def __init__(self, run_dir: Path, out: Path, json_out: Path | None = None,
                 inputs: Sequence[Path | None] = (), **options: Any) -> None:
        self.run_dir, self.out, self.json_out, self.options = Path(run_dir), Path(out), json_out, options
        self.inputs = [self.run_dir, *inputs]
        self.tail = TailCache()
        self.passes = 0

    def check_outputs(self) -> None:
        """The outputs checked against the inputs, again before every pass: the run folder may have appeared
        since (watch started before the trainer), or a file of the user's may stand where our report was."""
        check_outputs(self.run_dir, self.inputs, {"--out": self.out, "--json": self.json_out},
                      markdown=not is_html(self.out))

    def _refuse_sweep(self) -> None:
        """A folder of runs (a sweep, Lightning attempts that start over, an MLflow store of several) is not one
        run: read as one, its runs' points would be merged into one report."""
        runs = find_runs(self.run_dir)
        if runs is None:
            return
        first = runs[0].include[0] if runs[0].include else runs[0].path
        names = ", ".join(r.name for r in runs[:5]) + (", ..." if len(runs) > 5 else "")
        how = (f"analyze one of them with vae-report analyze {self.run_dir} --run {runs[0].store_run}"
               if runs[0].store_run else f"pass one of them, such as {first}")
        raise InputError(f"{self.run_dir}: a folder of {len(runs)} runs ({names}); watch follows one run: {how}")

    def run_pass(self) -> AnalyzedRun:
        """Read what is new, analyze, write the report and summary together (never one without the other, even
        when interrupted); the liveness check's clock is now."""
        self.check_outputs()
        self._refuse_sweep()
        self.tail.forget_missing()
        try:
            examined = examine_run(self.run_dir, tail=self.tail, draw_plots=True, now=time.time(), **self.options)
        except NoLogsYet:
            raise
        except InputError as exc:
            if self.tail.files and not self.tail.points():
                # event files and CSVs made but no point logged yet (a SummaryWriter's first record, a CSV's
                # header): the run has started, not failed
                raise NoLogsYet(str(exc)) from None
            raise
        with committed():
            write_report(examined, self.out)
            if self.json_out is not None:
                write_summary(examined.analysis, self.json_out)
        self.passes += 1
        return examined


def watch_loop(watcher: Watcher, interval: float, max_passes: int | None, on_pass: Callable[[Analysis], None],
               on_wait: Callable[[str], None], sleep: Callable[[float], None] = time.sleep) -> int:
    """Passes every ``interval`` seconds (from the start of one to the next) until ``max_passes``; before the
    run has logged anything, each pass says it waits. ``on_pass`` may end the loop by raising. Returns the
    number of passes that wrote a report."""
    attempts = 0
    while True:
        started = time.monotonic()
        attempts += 1
        try:
            on_pass(watcher.run_pass().analysis)
        except NoLogsYet as exc:
            on_wait(str(exc))
        if max_passes is not None and attempts >= max_passes:
            return watcher.passes
        sleep(max(0.0, interval - (time.monotonic() - started)))
