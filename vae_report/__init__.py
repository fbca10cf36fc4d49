"""vae-report: status reports for VAE-GAN training runs, checked against the run's own schedule."""

from ._version import __version__
from .analysis import Analysis, AnalyzedRun, analyze_run, examine_run
from .readers import load_run, read_run

__all__ = ["Analysis", "AnalyzedRun", "__version__", "analyze_run", "examine_run", "load_run", "read_run"]
