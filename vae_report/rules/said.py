"""The view of a finding a rule's short form (rules.base.Rule.short) reads to build its clause."""

from __future__ import annotations

from typing import Any

from .. import position as pos


class Said:
    """What a clause reads of a finding (a Finding, or a cited finding's dict): its metric, step, case, severity
    and numbers, and the unit the logs count."""

    def __init__(self, finding: Any, unit: str):
        get = finding.get if isinstance(finding, dict) else lambda key, default=None: getattr(finding, key, default)
        self.rule, self.metric, self.step = get("rule"), get("metric"), get("step")
        self.case, self.severity = get("case"), get("severity")
        self.n: dict = get("numbers") or {}
        self.unit = unit

    def at(self, step: int | float | None = None) -> str:
        """"step N" in the logs' unit (the finding's own step by default)."""
        return pos.at(self.unit, self.step if step is None else step)

    def count(self, n: int | float) -> str:
        return pos.count(self.unit, n)
