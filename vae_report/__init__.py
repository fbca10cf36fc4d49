"""vae-report: status reports for VAE-GAN training runs, checked against the run's own schedule."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ._version import __version__

# The public names are imported on first use: ``import vae_report`` (and the console script, which must set its
# Ctrl-C and SIGTERM handlers before anything slow runs) does not pay for pandas and matplotlib up front.
_PUBLIC = {"Analysis": ".analysis", "AnalyzedRun": ".analysis", "analyze_run": ".analysis",
           "examine_run": ".analysis", "load_run": ".readers", "read_run": ".readers"}

__all__ = ["Analysis", "AnalyzedRun", "__version__", "analyze_run", "examine_run", "load_run", "read_run"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name], __name__), name)
        globals()[name] = value  # once: later lookups are plain attribute reads
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
