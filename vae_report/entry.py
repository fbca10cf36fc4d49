"""The console script's first code: Ctrl-C and SIGTERM are handled before the command line's heavy imports
(pandas, matplotlib: a second or more), so a signal in that window exits 130 / 143 like any later one, without
a traceback. Nothing is written before the imports end, so there is nothing to clean up.

The terminal is guarded too: a closed pipe (``| head``) or a full device on stdout/stderr costs only what could not
be printed (the report is written by then), and ends with exit 4 where the run would have ended 0, never a traceback
or click's exit 1, which ``--fail-on`` owns."""

from __future__ import annotations

import os
import signal
import sys


def _exit_for(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


class _Guarded:
    """A standard stream whose write errors (EPIPE, ENOSPC, EIO) are swallowed once: the stream's descriptor then
    points at /dev/null (so the interpreter's final flush cannot fail either) and ``broken`` is set."""

    broken = False

    def __init__(self, stream) -> None:
        self._stream = stream

    def _failed(self) -> None:
        _Guarded.broken = True
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stream.fileno())
            os.close(null)
        except (OSError, ValueError):
            pass

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError:
            self._failed()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            self._failed()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def main() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # a job started with the signal ignored keeps it so
            signal.signal(signum, _exit_for)
    sys.stdout, sys.stderr = _Guarded(sys.stdout), _Guarded(sys.stderr)
    from .cli import main as cli_main  # sets its own handlers (Ctrl-C as KeyboardInterrupt) before it runs

    try:
        cli_main()
    except SystemExit as done:
        if _Guarded.broken and done.code in (0, None):
            raise SystemExit(4) from None
        raise
