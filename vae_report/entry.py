"""The console script's first code: Ctrl-C and SIGTERM are handled before the command line's heavy imports
(pandas, matplotlib: a second or more), so a signal in that window exits 130 / 143 like any later one, without
a traceback. Nothing is written before the imports end, so there is nothing to clean up."""

from __future__ import annotations

import signal


def _exit_for(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # a job started with the signal ignored keeps it so
            signal.signal(signum, _exit_for)
    from .cli import main as cli_main  # sets its own handlers (Ctrl-C as KeyboardInterrupt) before it runs

    cli_main()
