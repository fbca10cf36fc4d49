"""The report's fixed plots, drawn from the frame: the series prepared once (plots.series), drawn by one machinery
(plots.drawing) into the fixed figures (plots.figures), by forked processes where the run is long (plots.inflight)."""

from __future__ import annotations

from .drawing import Plot, figure_png, plt
from .figures import four, overview_plot
from .inflight import PlotsInFlight, make_plots
from .series import MAX_POINTS, downsample

__all__ = ["MAX_POINTS", "Plot", "PlotsInFlight", "downsample", "figure_png", "four", "make_plots", "overview_plot",
           "plt"]
