"""The report's prose, derived from findings and the schedule: Q&A, recommendations and confidence.

Imports point one way: rules (each rule's one-line form of its finding, Rule.short, beside its check) <- answers
(short forms, pointers, the metrics a warning is about) <- state (what the findings say of the run) <- ranges,
disc (the discriminator's questions), advice (recommendations, confidence) <- questions (every Q&A)."""

from __future__ import annotations

from ..numbers import pct
from .advice import confidence, recommendations
from .questions import questions_and_answers
from .state import (
    CAN_WAIT,
    DISC_CHECKS,
    DISC_RULES,
    DISC_SCHEDULE_RULES,
    KL_RULES,
    cite,
    has_discriminator,
    kinds_of,
    model_kind,
    not_examined,
    ok_meaning,
    steps_per_hour,
    stop_broken_forecasts,
)

__all__ = ["CAN_WAIT", "DISC_CHECKS", "DISC_RULES", "DISC_SCHEDULE_RULES", "KL_RULES", "cite", "confidence",
           "has_discriminator", "kinds_of", "model_kind", "not_examined", "ok_meaning", "pct",
           "questions_and_answers", "recommendations", "steps_per_hour", "stop_broken_forecasts"]
