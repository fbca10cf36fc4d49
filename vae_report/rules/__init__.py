"""The rules: each one function plus its data (id, title, severity, rationale, thresholds), registered in one list.

A rule whose metrics or schedule values are missing yields a skipped finding that says what it lacked; a rule
never raises, prints or plots. What a rule is and the metrics it reads: rules.base; the list and what reads it
(thresholds, the README's table): rules.registry; a run's findings from it: rules.pipeline.
"""

from __future__ import annotations

from ..numbers import fmt
from .base import SEVERITIES, Case, Finding, Metrics, Rule
from .pipeline import run_rules, worst
from .registry import RULES, check_thresholds, registered, rule_table, rules_on

__all__ = ["RULES", "SEVERITIES", "Case", "Finding", "Metrics", "Rule", "check_thresholds", "fmt", "registered",
           "rule_table", "rules_on", "run_rules", "worst"]
