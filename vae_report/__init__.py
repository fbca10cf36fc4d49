"""vae-report: status reports for VAE-GAN training runs, checked against the run's own schedule."""

__version__ = "0.1.0"

from .analysis import Analysis, analyze_run  # noqa: E402
from .readers import load_run, read_run  # noqa: E402

__all__ = ["Analysis", "__version__", "analyze_run", "load_run", "read_run"]
