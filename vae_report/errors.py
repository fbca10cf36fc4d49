"""Typed errors: raised where a problem is found, turned into one line and exit code 2 by the CLI."""

from __future__ import annotations


class VaeReportError(Exception):
    """Base class: a problem with the user's input or environment, never a bug of ours."""

    exit_code = 2


class InputError(VaeReportError):
    """A run directory or log file is missing, empty or unreadable."""


class NoLogsYet(InputError):
    """The run folder does not exist yet or holds no metric log: watch mode waits for the run to start."""


class ConfigError(VaeReportError):
    """A training config is unreadable, of an unknown layout, or has bad values."""


class OutputError(VaeReportError):
    """The report or summary cannot be written where the user asked."""
