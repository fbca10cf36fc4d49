"""Weekly status: what changed since a previous summary (``--baseline last_week.json``).

The previous summary may come from an older version of the tool: every field is optional, and what it lacks
is reported as unknown rather than as an error.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from . import position as pos
from .errors import InputError
from .inputs import read_option_file
from .levels import movement
from .numbers import by_difference, counted, fmt

_SHAPE = {"metrics": dict, "findings": list, "milestones": list, "runs": list, "schedule": dict}
_NUMBER = (int, float)
# the fields ``compare`` reads, with the types this tool writes them in (None: absent, allowed for all)
_FIELDS = {"status": str, "phase": str, "generated_at": str, "version": str, "finished": bool,
           "progress": _NUMBER, "last_wall_time": _NUMBER, "total_steps": int, "identity": dict}
_FINDING = {"rule": str, "severity": str, "metric": str, "message": str, "step": int, "related": list}
_STATS = {"latest": _NUMBER, "recent_median": _NUMBER, "recent_noise": _NUMBER}
_IDENTITY = {"run_dir": str, "config": str, "schedule_hash": str, "first_step": int, "sources": list}
# the schedule's settings that say which training this is (not where each was read, nor what the logs showed)
_SCHEDULE_KEYS = ("disc_start", "kl_weight", "disc_weight", "disc_factor", "disc_loss", "total_steps", "lr",
                  "min_lr", "loss_class", "regularizer", "codebook_weight", "layout")


def load_baseline(path: Path) -> dict[str, Any]:
    """Read a previous JSON summary, checked against the shape this tool writes (same or older version);
    InputError if it is missing, not UTF-8 JSON, or not such a summary."""
    try:
        data = json.loads(read_option_file(Path(path), "--baseline").decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise InputError(f"{path}: not JSON in UTF-8{where}; pass a summary written by --json") from None
    if not isinstance(data, dict) or not (_is_step(data.get("step")) or data.get("sweep") is True):
        raise InputError(f"{path}: not a vae-report summary (no integer 'step'); pass a summary written by --json")
    for key, kind in _SHAPE.items():
        if data.get(key) is not None and not isinstance(data[key], kind):
            raise InputError(f"{path}: not a vae-report summary ('{key}' is a {type(data[key]).__name__}, not a "
                             f"{kind.__name__}); pass a summary written by --json")
    for summary in [data, *(r for r in data.get("runs") or [] if isinstance(r, dict))]:
        _check_summary(summary, path)
    return data


def _check_summary(data: dict, path: Path) -> None:
    """InputError naming the first field of one run's summary whose type is not the one this tool writes."""
    for name, stats in (data.get("metrics") or {}).items():
        if not isinstance(stats, dict):
            raise InputError(f"{path}: not a vae-report summary (metric {str(name)[:40]!r} is not an object)")
        _check_fields(stats, _STATS, path, f"metric {str(name)[:40]!r}: ")
    if any(not isinstance(f, dict) for f in data.get("findings") or []):
        raise InputError(f"{path}: not a vae-report summary (a finding is not an object)")
    for f in data.get("findings") or []:
        _check_fields(f, _FINDING, path, "a finding's ")
    if any(not isinstance(m, dict) or not _is_step(m.get("step")) for m in data.get("milestones") or []):
        raise InputError(f"{path}: not a vae-report summary (a milestone has no integer step)")
    _check_fields(data, _FIELDS, path)
    _check_fields(data.get("identity") or {}, _IDENTITY, path, "identity ")


def _check_fields(data: dict, fields: dict, path: Path, where: str = "") -> None:
    for key, kind in fields.items():
        value = data.get(key)
        numbers = kind is _NUMBER and value in ("NaN", "Infinity", "-Infinity")  # how our JSON writes them
        if value is None or numbers or (isinstance(value, kind) and (kind is bool or not isinstance(value, bool))):
            continue
        wanted = "number" if kind is _NUMBER else {str: "string", int: "integer", bool: "true or false",
                                                   dict: "object", list: "list"}[kind]
        raise InputError(f"{path}: not a vae-report summary ({where}'{key}' is {_shown(value)}, not a {wanted}); "
                         "pass a summary written by --json")


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return f"the {type(value).__name__} " + (text if len(text) <= 40 else text[:37] + "...")


def identity_of(run: str, schedule: dict, metrics: dict, sources: list) -> dict[str, Any]:
    """Which run a summary is of: its folder (resolved), its config, a hash of its schedule's settings, its first
    logged step and the files read. ``--baseline`` checks it: last week's summary of another run is refused."""
    settings = json.dumps({k: schedule.get(k) for k in _SCHEDULE_KEYS}, sort_keys=True, default=str)
    firsts = [m.first_step for m in metrics.values() if m.first_step is not None]
    return {"run_dir": str(Path(run).resolve()), "config": schedule.get("config_path"),
            "schedule_hash": hashlib.sha256(settings.encode()).hexdigest()[:16],
            "first_step": min(firsts) if firsts else None, "sources": sorted({s.path for s in sources})}


def same_run(now: dict[str, Any], then: dict[str, Any], where: Path | str) -> str | None:
    """None when the baseline is this run's summary; a note when that cannot be checked (an older summary) or
    the run was moved or renamed (another folder, the same schedule, steps in common); InputError otherwise."""
    old, new = then.get("identity"), now.get("identity") or {}
    if old is None:
        return "the baseline records no run identity (an older vae-report wrote it): that it is this run's " \
               "summary could not be checked"
    if old.get("run_dir") == new.get("run_dir"):
        return None
    unit = (now.get("schedule") or {}).get("counts") or "step"
    first_then = old.get("first_step") if old.get("first_step") is not None else then["step"]
    first_now = new.get("first_step") if new.get("first_step") is not None else now["step"]
    overlap = first_then <= now["step"] and first_now <= then["step"]
    if old.get("schedule_hash") == new.get("schedule_hash") and overlap:
        return (f"the baseline was written for {old.get('run_dir')}, this report is of {new.get('run_dir')}: the "
                f"same schedule and {unit}s in common, taken as the same run moved or renamed")
    why = "another schedule" if old.get("schedule_hash") != new.get("schedule_hash") else \
        f"no {unit}s in common: {fmt(first_then)}–{fmt(then['step'])} then, {fmt(first_now)}–{fmt(now['step'])} now"
    raise InputError(f"{where}: a summary of another run ({old.get('run_dir')}, not {new.get('run_dir')}: {why}); "
                     "pass the --json summary written for this run, or leave out --baseline")


def _is_step(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    return None


def _active(findings: list) -> dict[tuple[str, str | None], dict]:
    """The warnings and errors of a summary by (rule, metric), those cited under a headline included: a finding
    that became cited under another (one cause, one headline) is still there, not resolved."""
    out = {}
    for f in findings or []:
        if not isinstance(f, dict) or f.get("skipped"):
            continue
        for g in (f, *(r for r in f.get("related") or () if isinstance(r, dict))):
            if g.get("severity") in ("warning", "error"):
                out.setdefault((g.get("rule"), g.get("metric")),
                               {key: g.get(key) for key in ("rule", "severity", "metric", "step", "message")})
    return out


def _causes(findings: list, seen: dict) -> dict[tuple[str, str | None], dict]:
    """The warnings and errors a summary heads its findings with (one cause, one headline) that ``seen`` (another
    summary's ``_active``) does not hold, each with how many of its cited findings are new too: what appeared or
    cleared is counted by cause, as the findings table shows them, never once per finding cited under one."""
    out = {}
    for f in findings or []:
        if not isinstance(f, dict) or f.get("skipped") or f.get("severity") not in ("warning", "error"):
            continue
        key = (f.get("rule"), f.get("metric"))
        if key in seen:
            continue
        cited = {(r.get("rule"), r.get("metric")) for r in f.get("related") or () if isinstance(r, dict)
                 and r.get("severity") in ("warning", "error")} - {key} - set(seen)
        out.setdefault(key, {k: f.get(k) for k in ("rule", "severity", "metric", "step", "message")}
                       | {"cited_new": len(cited)})
    return out


def _delta(name: str, old: dict, new: dict) -> dict[str, Any]:
    """A metric then and now: the current levels (levels.current_level) where both summaries have them (a single
    last point is noise), the change, the word levels.movement gives it against the two levels' noise, and a
    percentage only where one means something."""
    windowed = _number(old.get("recent_median")) is not None and _number(new.get("recent_median")) is not None
    key = "recent_median" if windowed else "latest"
    a, b = _number(old.get(key)), _number(new.get(key))
    change = None if a is None or b is None or math.isnan(a) or math.isnan(b) else b - a
    noise = [x for x in (_number(old.get("recent_noise")), _number(new.get("recent_noise")))
             if x is not None and math.isfinite(x)] if windowed else []
    signed = by_difference(name)
    moved = None if change is None else movement(a, b, math.hypot(*noise) if len(noise) == 2 else None, signed)
    return {"then": a, "now": b, "change": change,
            "change_fraction": None if moved is None else moved.fraction, "windowed": windowed,
            "noise_band": None if moved is None else moved.band,
            "beyond_noise": None if moved is None else moved.beyond_noise,
            "word": None if moved is None else moved.word}


def compare(now: dict[str, Any], then: dict[str, Any], where: Path | str = "--baseline") -> dict[str, Any]:
    """The ``since_baseline`` object: steps, progress and time gained, metric changes, findings new and
    resolved, milestones passed; InputError when ``then`` is another run's summary (``same_run``)."""
    identity_note = same_run(now, then, where)
    metrics = {}
    switched = then.get("phase") not in (None, now.get("phase"))
    for name, stats in (now.get("metrics") or {}).items():
        old = (then.get("metrics") or {}).get(name)
        if not isinstance(old, dict):
            continue
        metrics[name] = _delta(name, old, stats)
        if switched and name.split("/")[-1] in MOVED_BY_SWITCH:
            # last time's level is of the phase before: the switch-on moves this one by design, no change to tell
            metrics[name] |= {"change": None, "change_fraction": None, "beyond_noise": None, "word": None,
                              "not_comparable": f"phase changed ({then.get('phase')} then, {now.get('phase')} now)"}
    # a cause is new when its headline was nowhere in the last summary (not even cited), cleared when last week's
    # headline is nowhere now; the findings cited under one come and go with it
    appeared = _causes(now.get("findings"), _active(then.get("findings")))
    cleared = _causes(then.get("findings"), _active(now.get("findings")))
    wall_now, wall_then = _number(now.get("last_wall_time")), _number(then.get("last_wall_time"))
    step_then = then["step"]
    finished_since = bool(now.get("finished")) and not then.get("finished")
    # a finished run's last logged step may sit a logging interval short of total_steps: its end is passed all the same
    passed = [m for m in now.get("milestones", []) if step_then < m["step"] <= now["step"]
              or (finished_since and m["step"] > step_then and m["step"] == now.get("total_steps"))]
    hours = None if wall_now is None or wall_then is None else (wall_now - wall_then) / 3600
    progress_then = _number(then.get("progress"))
    return {
        "baseline_generated_at": then.get("generated_at"),
        "baseline_version": then.get("version", "unknown"),
        "step_then": step_then,
        "steps_gained": now["step"] - step_then,
        "progress_then": progress_then,
        "progress_gained": None if progress_then is None or now.get("progress") is None
        else now["progress"] - progress_then,
        "hours_between_logs": hours,
        # the week's pace, every pause and stop included: what the next week's ETA can count on at best
        "steps_per_hour_since": (now["step"] - step_then) / hours if hours and now["step"] > step_then else None,
        "finished_since": finished_since,
        "changes": None,  # filled below: one sentence per change that matters
        "status_then": then.get("status", "unknown"),
        "metrics": metrics,
        "findings_new": list(appeared.values()),
        "findings_resolved": list(cleared.values()),
        "milestones_passed": passed,
        "resumed_since": (resumed := _resumed_since(now, then)),
        "identity_note": identity_note,
    } | {"changes": _headlines(passed, appeared, cleared, _not_scheduled(metrics, now), finished_since,
                               now["step"], (now.get("schedule") or {}).get("counts") or "step", resumed,
                               step_then)}


def _resumed_since(now: dict, then: dict) -> list[dict]:
    """The resumes the last summary did not have: where the run was resumed and how far its earlier log had
    reached (the steps trained again replaced what that log said, the last report's among them)."""
    def resumes(summary: dict) -> list[dict]:
        return [f for f in summary.get("findings") or [] if isinstance(f, dict) and f.get("rule") == "resumes"
                and isinstance(f.get("step"), int) and not (f.get("numbers") or {}).get("concurrent")]
    known = {f["step"] for f in resumes(then)}
    return [{"step": f["step"], "reached": (f.get("numbers") or {}).get("reached")}
            for f in resumes(now) if f["step"] not in known]


def _not_scheduled(metrics: dict, now: dict) -> dict:
    """The metrics whose move is news: the learning rate's is not where it follows the config's schedule (the
    lr-schedule check found it ok): its decay over the week is the plan."""
    planned = any(isinstance(f, dict) and f.get("rule") == "lr-schedule" and f.get("severity") == "ok"
                  for f in now.get("findings") or [])
    return {name: d for name, d in metrics.items() if not (planned and name.split("/")[-1].startswith("lr"))}


# metrics the discriminator's switch-on moves by design: not compared across it
MOVED_BY_SWITCH = ("disc_loss", "g_loss", "total_loss", "aeloss", "d_weight", "disc_factor", "logits_real",
                   "logits_fake")


def _headlines(passed: list, new: dict, old: dict, metrics: dict, finished_since: bool = False,
               step: int = 0, unit: str = "step", resumed: list = (), step_then: int = 0) -> list[str]:
    """One sentence per change that matters: a run that finished in between, a resume since, milestones passed,
    findings that appeared or cleared, metrics that moved beyond their noise."""
    out = [f"Finished since the last report: the last logged {unit} ({fmt(step)}) is the run's last."] \
        if finished_since else []
    for r in resumed:
        reached = r.get("reached")
        redone = (f": the earlier log had reached {pos.at(unit, reached)}, so {pos.count(unit, reached - r['step'])} "
                  "were trained again" if isinstance(reached, int) and reached > r["step"] else "")
        replaced = (f", including the last report's {pos.span(unit, r['step'], step_then)} (the levels it gave came "
                    "from the replaced branch)" if redone and r["step"] < step_then else "")
        out.append(f"Resumed at {pos.at(unit, r['step'])} since the last report{redone}{replaced}.")
    out += [f"Passed {pos.at(unit, m['step'])} ({m['name']})." for m in passed if isinstance(m, dict)]
    out += [f"New {f['severity']}: {f['rule']}" + (f" on {f['metric']}" if f.get("metric") else "")
            + (f" ({counted(f['cited_new'], 'more finding')} of the same cause cited under it)" if f["cited_new"]
               else "") + "." for f in new.values()]
    out += [f"Cleared: {f['rule']}" + (f" on {f['metric']}" if f.get("metric") else "") + "." for f in old.values()]
    for name, d in metrics.items():
        if d.get("beyond_noise") and d.get("word") != "held":
            out.append(f"{name} {d['word']} from {_show(d['then'])} to {_show(d['now'])}, beyond its noise "
                       f"(±{_show(d['noise_band'] / 2)}).")
    return out


def _show(value: float) -> str:
    return fmt(value)
