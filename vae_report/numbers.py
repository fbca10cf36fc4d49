"""Number formatting shared by rule messages and templates, so ``18,300`` and ``1e-06`` read the same everywhere."""

from __future__ import annotations

import math

from .levels import movement


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


def interval(level: float, low: float, high: float) -> tuple[str, str, str]:
    """A forecast and its interval, each rounded to what the interval supports (two significant figures of its
    width): ``0.017 (0.015 to 0.064)``, never a three-figure level inside a four-fold interval."""
    width = high - low
    if not all(math.isfinite(v) for v in (level, low, high)) or width <= 0:
        return fmt(level), fmt(low), fmt(high)
    digits = 1 - math.floor(math.log10(width))
    return tuple(fmt(float(round(v, digits))) for v in (level, low, high))  # type: ignore[return-value]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 file``, ``3 files``: a count with its noun in the number it takes (never ``file(s)``)."""
    return f"{fmt(n)} {noun if n == 1 else plural or noun + 's'}"


def listed(items) -> str:
    """Words as a sentence lists them: "a", "a and b", "a, b and c"."""
    items = [str(i) for i in items]
    return " and ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} and {items[-1]}"


def pct(fraction: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.122`` -> ``12.2%``."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "n/a"
    if fraction != 0 and abs(fraction * 100) < 0.5 * 10 ** -digits:  # "0.0%" of something that is not 0
        return f"{fraction * 100:.1g}%"
    return f"{fraction * 100:.{digits}f}%"


# The one rule for a change, in findings and the statistics table alike: a percentage while the level stays
# within these factors of where it was (-90% to +100%), a factor beyond them (x8.3, ÷5,533), which reads where
# "+731.9%" or "-99.98%" hides the size.
FACTOR_UP, FACTOR_DOWN = 2.0, 10.0


def signed_pct(fraction: float | None) -> str:
    """A relative change as one rule says it everywhere: a signed percentage (``+12.3%``, ``-75.0%``) from a
    tenth to twice the level it started at, a factor beyond (``x8.3``, ``x10,576``, ``÷5,533``)."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "n/a"
    said = round(fraction * 100, 1)  # the bounds hold for the digits printed: never a "-90.0%" of -89.97%
    if said >= (FACTOR_UP - 1) * 100:
        return f"x{factor(1 + fraction)}"
    if -1 < fraction and said <= (1 / FACTOR_DOWN - 1) * 100:
        return f"÷{factor(1 / (1 + fraction))}"
    return f"{said:+.1f}%"


def part_of(value: float, base: float) -> str | None:
    """``value`` as a percentage of ``base`` where that reads ("12.3%"): both finite, the base positive and the
    value from 0 to twice it; None otherwise, so that the caller says the two numbers (a percentage of a negative
    base flips its meaning, one of a near-zero base, "+4000%", hides the size)."""
    if not (math.isfinite(value) and math.isfinite(base)) or base <= 0 or not 0 <= value <= FACTOR_UP * base:
        return None
    return pct(value / base)


def as_factor(fraction: float | None) -> str:
    """A relative change as the tables' Change columns write every one of them, a factor: ``x1.10`` (+10%),
    ``÷1.29`` (-22.4%), ``÷15.2``, ``x8,600``; ``to 0`` for a level that fell to 0 (no factor divides it)."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "n/a"
    ratio = 1 + fraction
    if ratio <= 0:
        return "to 0"
    up = ratio >= 1
    size = ratio if up else 1 / ratio
    digits = f"{size:.2f}" if size < 10 else factor(size)
    return ("x" if up else "÷") + digits


def change_said(fraction: float | None, difference: float | None) -> str:
    """A Change column's cell: the factor where a ratio means something (``fraction`` not None), else the
    difference (``+6.6``), else a dash."""
    if fraction is not None:
        return as_factor(fraction)
    if difference is None:
        return "—"
    return ("+" if difference > 0 else "") + fmt(difference)


def above(fraction: float) -> str:
    """How far a level is above another, for "still ... its level before": ``12.5% above`` up to twice it,
    ``x3.1`` beyond (never "906391.6% above"), as signed_pct draws the line."""
    said = signed_pct(fraction)
    return said if said.startswith("x") else f"{pct(fraction)} above"


def factor(ratio: float) -> str:
    """A ratio as a factor's digits: ``8.3``, ``93.9``, ``5,533``."""
    return fmt(round(ratio, 1 if ratio < 100 else 0))


# Quantities whose zero is not special (logits, logvar, g_loss): their changes are differences, never percentages.
SIGNED = frozenset({"g_loss", "logits_real", "logits_fake", "logvar"})
# ... nor those of image-quality scores: PSNR is in decibels (a log scale: "+37.6%" of dB means nothing) and SSIM
# a bounded similarity (from 0.05 to 0.48 is "+0.43", not "+854%")
SCORES = ("psnr", "ssim")


def by_difference(name: str) -> bool:
    """Is a metric's change said as a difference (``+6.6``), never as a percentage?"""
    leaf = name.split("/")[-1].lower()
    return leaf in SIGNED or any(score in leaf for score in SCORES)


def relative_change(before: float, after: float, near_zero: float = 0.0) -> float | None:
    """``(after - before) / |before|`` when that means something: both finite, on the same side of 0 and ``before``
    farther from 0 than ``near_zero``; None otherwise (a percentage across a sign change flips its meaning)."""
    if not (math.isfinite(before) and math.isfinite(after)) or before == 0:
        return None
    if (before > 0) != (after > 0) and after != 0:
        return None
    if abs(before) <= near_zero:
        return None
    return (after - before) / abs(before)  # a negative total falling further is a fall, not a "+79%"


def describe_change(before: float, after: float, noise: float | None = None, signed: bool = False,
                    near_zero: float = 0.0, points: int | None = None) -> str:
    """How a level moved, in words that fit the numbers: ``held near 0.031``, ``fell from -897 to -1,606``,
    ``rose from 0.116 to 0.138 (+19.0%)``. ``noise``: the noise of the difference (levels.movement says when a
    move is "held"); ``signed``: a quantity whose zero is not special (logits, logvar, g_loss), given as two
    values without a percentage. ``points``: the fewer points of the two levels' windows; a level that is a
    single point (a sparse metric, levels.SPARSE) gives no percentage for a move within its noise: two points
    are no measure of a change their medians may not share."""
    if not (math.isfinite(before) and math.isfinite(after)):
        return f"went from {fmt(before)} to {fmt(after)}"
    moved = movement(before, after, noise, signed)
    if moved.word == "held":
        return f"held near {fmt(after)} (from {fmt(before)})" if fmt(after) != fmt(before) else f"held at {fmt(after)}"
    # a move its noise can make on its own is no rise or fall: "went from", never "fell ... within its noise"
    within = moved.beyond_noise is False
    text = f"{'went' if within else moved.word} from {fmt(before)} to {fmt(after)}"
    single = within and points == 1
    negative = not signed and (before < 0 or after < 0)  # a percentage of a negative level reads backwards
    change = None if signed or single or negative else relative_change(before, after, near_zero)
    text = text if change is None else f"{text} ({signed_pct(change)})"
    if negative and not single and before < 0 and after < 0:  # as the statistics table says it: a difference
        text += f" ({'+' if after > before else '-'}{fmt(abs(after - before))})"
    if single:
        return (f"{text}, a change within its noise (single points: the two levels' noise allows ± "
                f"{fmt(moved.band)}), so no clear {'rise' if moved.word == 'rose' else 'fall'}")
    if within:
        # the band is twice the noise of the difference of two levels, not the ± of either level (the
        # statistics table's ± is the noise of Now alone): said as what it is
        text += (f", a change within its noise (the two levels' noise allows ± {fmt(moved.band)}), so no clear "
                 f"{'rise' if moved.word == 'rose' else 'fall'}")
    return text
