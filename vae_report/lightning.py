"""``Trainer(callbacks=[ReportCallback()])``: the report and its JSON summary in the run's log folder at every
checkpoint save, at the end of the fit and when it fails.

The analysis runs in another process (``background.BackgroundReport``), at most one at a time, requests made
meanwhile folded into one; the callback returns within microseconds, only rank 0 reports, and nothing it does
can fail the fit (its own errors are logged through ``logging``). Works with ``lightning`` (``lightning.pytorch``)
and ``pytorch_lightning``, whichever is installed (``pip install 'vae-report[lightning]'``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .background import BackgroundReport

log = logging.getLogger("vae_report")


def _callback_bases() -> tuple[type, ...]:
    """The Callback class of every Lightning flavour installed: a Trainer of either accepts the callback."""
    bases = []
    for module in ("lightning.pytorch", "pytorch_lightning"):
        try:
            bases.append(__import__(module, fromlist=["Callback"]).Callback)
        except ImportError:
            continue
    if not bases:
        raise ImportError("vae_report.lightning needs Lightning: pip install 'vae-report[lightning]' "
                          "(lightning or pytorch-lightning)")
    return tuple(dict.fromkeys(bases))


class ReportCallback(*_callback_bases()):
    """Writes ``out`` (default ``<log dir>.report.html`` beside the log folder) and ``json_out`` (default: ``out``
    with ``.json``) for
    the trainer's log folder (``run_dir`` to analyze another); ``args``: more ``vae-report analyze`` options;
    ``wait``: seconds ``on_fit_end`` waits for the final report (the fit is over by then)."""

    def __init__(self, out: Path | str | None = None, json_out: Path | str | None = None,
                 run_dir: Path | str | None = None, args: Sequence[str] = (), wait: float = 600.0) -> None:
        super().__init__()
        self.out, self.json_out, self.run_dir = out, json_out, run_dir
        self.args, self.wait = list(args), wait
        self.background: BackgroundReport | None = None

    def _reporter(self, trainer: Any) -> BackgroundReport | None:
        if not getattr(trainer, "is_global_zero", True):
            return None
        if self.background is None:
            folder = Path(self.run_dir) if self.run_dir is not None else log_folder(trainer)
            if folder is None:
                log.warning("vae-report: this Trainer has no logger folder to analyze; pass run_dir=")
                return None
            self.background = BackgroundReport(folder, self.out, self.json_out, [*_total(trainer, self.args),
                                                                                *self.args])
        return self.background

    def _flush(self, trainer: Any) -> None:
        """Loggers write what they buffered (CSVLogger keeps up to 100 steps in memory): the report sees them."""
        for logger in getattr(trainer, "loggers", []) or []:
            try:
                logger.save()
            except Exception:
                log.debug("vae-report: could not flush %r", logger, exc_info=True)

    def _request(self, trainer: Any, final: bool = False, wait: float | None = None) -> None:
        try:
            reporter = self._reporter(trainer)
            if reporter is None:
                return
            self._flush(trainer)
            if final:
                reporter.close(self.wait if wait is None else wait)
            else:
                reporter.request()
        except Exception:  # never into the fit
            log.exception("vae-report: the report callback failed")

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict) -> None:
        self._request(trainer)

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        self._request(trainer, final=True)

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        # the final report says the run ended, and why: no "keep it running" for a fit that raised
        reporter = self._reporter(trainer)
        if reporter is not None:
            said = "interrupted (Ctrl-C)" if isinstance(exception, KeyboardInterrupt) else \
                f"the fit raised {type(exception).__name__}: {exception}"
            reporter.args = [*reporter.args, "--ended", said[:300]]
        # after Ctrl-C the fit is not held for the report: it is finished by its own process
        self._request(trainer, final=True, wait=0.0 if isinstance(exception, KeyboardInterrupt) else None)


def _total(trainer: Any, args: Sequence[str]) -> list[str]:
    """``--max-steps`` from the trainer's ``max_steps`` (in its global steps, where the fit stops: the report
    converts it where the logs count fewer, as with two optimizers), unless the options give a total: the
    end-of-fit report then knows the run finished."""
    steps = getattr(trainer, "max_steps", None)
    if any(str(a).startswith(("--total-steps", "--max-steps")) for a in args) or not isinstance(steps, int) \
            or isinstance(steps, bool) or steps <= 0:
        return []
    return ["--max-steps", str(steps)]


def log_folder(trainer: Any) -> Path | None:
    """Where the trainer's loggers write: ``trainer.log_dir``, else the first logger's ``log_dir`` or
    ``save_dir``, else the trainer's ``default_root_dir``."""
    owners = [(trainer, "log_dir")]
    for logger in getattr(trainer, "loggers", []) or []:
        owners += [(logger, "log_dir"), (logger, "save_dir")]
    owners.append((trainer, "default_root_dir"))
    for owner, name in owners:
        try:
            folder = getattr(owner, name, None)  # a property that may raise (a logger not set up yet)
        except Exception:
            continue
        if folder:
            return Path(folder)
    return None
