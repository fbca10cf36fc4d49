"""Reports written while a run trains, without slowing it: the analysis is the CLI in another process.

A training loop asks for a report (``request``) and returns at once. One worker thread runs the analysis as a
child process (``python -m vae_report.cli analyze``: a fresh interpreter, nothing forked from the trainer's
threads or CUDA state) and waits for it; requests that arrive meanwhile are folded into one next pass, so at
most one analysis is ever in flight. Nothing here raises into the loop: its own failures, and an analysis that
exits non-zero, are logged through ``logging`` (logger ``vae_report``).
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("vae_report")

TIMEOUT = 1800.0  # seconds one analysis may take before it is killed (a 1.5M-step run takes ~8 s)
GRACE = 10.0  # seconds a stopped analysis has to clean up after SIGTERM before SIGKILL


def default_out(run_dir: Path) -> Path:
    """``<run>.report.html`` beside the run folder: a report never writes inside the folder it reads (a file there
    would be the user's, or be read as a log next pass), and each pass replaces the last one's."""
    run = Path(run_dir).resolve()
    return run.parent / f"{run.name}.report.html"


def default_json(run_dir: Path, out: Path) -> Path:
    """``out`` with ``.json``, unless that lies inside the run folder (a JSON file there would be read as one of
    its logs, so the analysis would refuse it at every pass): then ``<run>.report.json`` beside the folder."""
    json_out = Path(out).with_suffix(".json")
    run = Path(run_dir).resolve()
    inside = json_out.resolve() == run or run in json_out.resolve().parents
    return default_out(run).with_suffix(".json") if inside else json_out


class BackgroundReport:
    """Writes ``out`` (and ``json_out``) for ``run_dir`` in a child process, one at a time; ``args``: more
    ``vae-report analyze`` options (``["--config", "cfg.yaml"]``)."""

    def __init__(self, run_dir: Path | str, out: Path | str | None = None, json_out: Path | str | None = None,
                 args: Sequence[str] = (), timeout: float = TIMEOUT) -> None:
        self.run_dir = Path(run_dir)
        self.out = Path(out) if out is not None else default_out(self.run_dir)
        self.json_out = Path(json_out) if json_out is not None else default_json(self.run_dir, self.out)
        # one string is the options as a shell line ("--fail-on error"), split as the shell would: iterated as it
        # stands it would be one option per character
        self.args = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
        self.timeout = timeout
        self.passes = 0  # analyses run
        self.failures = 0  # analyses that exited non-zero, timed out or could not start
        self._said: set[str] = set()  # failures warned about since the last pass that wrote the report
        self._wanted = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def request(self) -> None:
        """Ask for a report; returns at once. Requests made while one runs become one next pass."""
        try:
            with self._lock:
                if self._closing:
                    return
                self._start()
            self._wanted.set()
        except Exception:  # never into the training loop
            log.exception("vae-report: could not schedule a report")

    def close(self, timeout: float | None = None) -> bool:
        """Write a final report (after the one in flight) and wait for it; True when it finished in time."""
        try:
            with self._lock:
                if self._closing and self._thread is None:
                    return True
                self._closing = True
                self._start()
            self._wanted.set()
            try:
                self._thread.join(self.timeout if timeout is None else timeout)
            except KeyboardInterrupt:  # Ctrl-C while the interpreter waits for it at exit: stop waiting, quietly
                log.warning("vae-report: interrupted; the final report for %s is finished by its own process",
                            self.run_dir)
                return False
            done = not self._thread.is_alive()
            if not done:
                log.warning("vae-report: the final report for %s is still running; not waiting for it", self.run_dir)
            return done
        except Exception:
            log.exception("vae-report: could not write the final report")
            return False

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._wanted.is_set()

    def command(self) -> list[str]:
        return [sys.executable, "-m", "vae_report.cli", "analyze", str(self.run_dir), "--out", str(self.out),
                "--json", str(self.json_out), *self.args]

    def _start(self) -> None:
        if self._thread is None:
            # a daemon: an interpreter that exits without close() is not held by it (atexit calls close())
            self._thread = threading.Thread(target=self._work, name="vae-report", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()  # what arrives from here on is one more pass, however many requests
            final = self._closing
            self._run_once()
            if final and not self._wanted.is_set():
                return

    def _run_once(self) -> None:
        self.passes += 1
        try:
            child = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True,  # a Ctrl-C meant for the training is not the report's
                                     env=os.environ.copy())
        except Exception:
            self.failures += 1
            log.exception("vae-report: could not start the analysis of %s", self.run_dir)
            return
        try:
            stdout, stderr = child.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.failures += 1
            _stop(child)
            self._warn_once(f"the analysis of {self.run_dir} took over {self.timeout:.0f} s and was stopped")
            return
        done = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
        said = " ".join((done.stderr or done.stdout or "").split())[-500:]
        if done.returncode in (0, 1):  # 1: written, a finding at or above a --fail-on the caller passed
            self._said.clear()
            log.info("vae-report: %s", " ".join(done.stdout.split()) or f"wrote {self.out}")
        else:
            self.failures += 1
            self._warn_once(f"the analysis of {self.run_dir} failed (exit {done.returncode}): {said or 'no message'}")

    def _warn_once(self, message: str) -> None:
        """A failure said once (a file of the user's at the output refuses every pass alike: a warning at every
        checkpoint would bury the trainer's log); again only after a pass has written the report since."""
        if message in self._said:
            log.debug("vae-report: %s (again)", message)
            return
        self._said.add(message)
        log.warning("vae-report: %s (said once; the passes that fail the same way are logged at DEBUG)", message)


def _stop(child: subprocess.Popen) -> None:
    """End a hung analysis and the plot workers it forked (its session's process group): SIGTERM first, so that
    it removes the outputs it staged (no temporary file left beside the report), SIGKILL after GRACE seconds."""
    for sig, wait in ((signal.SIGTERM, GRACE), (signal.SIGKILL, GRACE)):
        try:
            os.killpg(child.pid, sig) if hasattr(os, "killpg") else child.kill()
        except (ProcessLookupError, PermissionError):
            pass
        try:
            child.communicate(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
