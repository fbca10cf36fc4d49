"""Weekly status: what changed since a previous summary (``--baseline last_week.json``).

The previous summary may come from an older version of the tool: every field is optional, and what it lacks
is reported as unknown rather than as an error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .errors import InputError


def load_baseline(path: Path) -> dict[str, Any]:
    """Read a previous JSON summary; InputError if it is missing or not a summary."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the baseline ({exc.strerror}); pass a --json summary") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON (line {exc.lineno}); pass a summary written by --json") from exc
    if not isinstance(data, dict) or not (isinstance(data.get("step"), int) or data.get("sweep") is True):
        raise InputError(f"{path}: not a vae-report summary (no integer 'step'); pass a summary written by --json")
    return data


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    return None


def _active(findings: list) -> dict[tuple[str, str | None], dict]:
    out = {}
    for f in findings or []:
        if isinstance(f, dict) and f.get("severity") in ("warning", "error") and not f.get("skipped"):
            out[(f.get("rule"), f.get("metric"))] = {key: f.get(key) for key in ("rule", "severity", "metric", "step",
                                                                                  "message")}
    return out


def compare(now: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
    """The ``since_baseline`` object: steps, progress and time gained, metric changes, findings new and
    resolved, milestones passed."""
    metrics = {}
    for name, stats in (now.get("metrics") or {}).items():
        old = (then.get("metrics") or {}).get(name)
        if not isinstance(old, dict):
            continue
        a, b = _number(old.get("latest")), _number(stats.get("latest"))
        change = None if a is None or b is None else b - a
        fraction = None if change is None or not a or math.isnan(change) else change / abs(a)
        metrics[name] = {"then": a, "now": b, "change": change, "change_fraction": fraction}
    new_findings = _active(now.get("findings"))
    old_findings = _active(then.get("findings"))
    wall_now, wall_then = _number(now.get("last_wall_time")), _number(then.get("last_wall_time"))
    step_then = then["step"]
    passed = [m for m in now.get("milestones", []) if step_then < m["step"] <= now["step"]]
    progress_then = _number(then.get("progress"))
    return {
        "baseline_generated_at": then.get("generated_at"),
        "baseline_version": then.get("version", "unknown"),
        "step_then": step_then,
        "steps_gained": now["step"] - step_then,
        "progress_then": progress_then,
        "progress_gained": None if progress_then is None or now.get("progress") is None
        else now["progress"] - progress_then,
        "hours_between_logs": None if wall_now is None or wall_then is None else (wall_now - wall_then) / 3600,
        "status_then": then.get("status", "unknown"),
        "metrics": metrics,
        "findings_new": [new_findings[k] for k in new_findings if k not in old_findings],
        "findings_resolved": [old_findings[k] for k in old_findings if k not in new_findings],
        "milestones_passed": passed,
    }
