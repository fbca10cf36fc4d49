"""Number formatting shared by rule messages and templates, so ``18,300`` and ``1e-06`` read the same everywhere."""

from __future__ import annotations

import math


def fmt(value: float | int | None) -> str:
    """A number as a person writes it: ``18,300``, ``2,674``, ``0.0312``, ``1e-06``, ``NaN``."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1e-3:
        return f"{value:.4g}" if magnitude >= 1 else f"{value:.3g}"
    return f"{value:.3g}"


def pct(fraction: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.122`` -> ``12.2%``."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "n/a"
    return f"{fraction * 100:.{digits}f}%"


def signed_pct(fraction: float | None) -> str:
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "n/a"
    return f"{fraction * 100:+.1f}%"
