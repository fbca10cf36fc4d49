"""A position on the logs' axis in the unit they count: "step 1,200", "epoch 12", "sample 51,200", "line 340".

Every sentence that names where something happened goes through here, so a console log counted in epochs never
reads "NaN from step 12" where 12 is an epoch. ``where`` is the run's Schedule (its ``counts``) or the unit itself.
Values that are steps whatever the logs count (a config's ``disc_start`` in optimizer steps) say so themselves.
"""

from __future__ import annotations

from typing import Protocol

from .numbers import fmt


class _Counted(Protocol):
    counts: str


def unit(where: _Counted | str) -> str:
    """What the logs' axis counts: step, epoch, sample or line."""
    return where if isinstance(where, str) else where.counts


def units(where: _Counted | str) -> str:
    """The unit's plural: "steps", "epochs"."""
    return unit(where) + "s"


def at(where: _Counted | str, position: int | float) -> str:
    """One position: "epoch 12", "step 1,200" (after "at", "since", "from", "before")."""
    return f"{unit(where)} {fmt(position)}"


def span(where: _Counted | str, first: int | float, last: int | float) -> str:
    """A range of positions: "epochs 3-40"; a range of one position is that position ("epoch 3"), never "3-3"."""
    if fmt(first) == fmt(last):
        return at(where, last)
    return f"{units(where)} {fmt(first)}-{fmt(last)}"


def count(where: _Counted | str, n: int | float) -> str:
    """How many: "1 epoch", "5 epochs", "1,200 steps"."""
    return f"{fmt(n)} {unit(where) if n == 1 else units(where)}"


def window(where: _Counted | str, first: int | float, last: int | float, points: int) -> str:
    """Which points a level is: "its latest point (step 20,300)" for one point, "the median over steps
    19,000-20,300" for several; every sentence naming a level's window says it this way, never a span of one."""
    if points <= 1 or first == last:
        return f"its latest point ({at(where, last)})"
    return f"the median over {span(where, first, last)}"
