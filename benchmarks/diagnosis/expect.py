"""The verdict an expert gives a run, and how a got verdict is matched against it."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any

SEVERITY = {"ok": 0, "info": 1, "warning": 2, "error": 3}


@dataclass(frozen=True)
class Fault:
    """A fault the report must name: a finding at ``severity`` (default: the run's status) from one of ``rules``
    (fnmatch patterns), on one of ``metrics``, whose step is within ``tol`` of ``onset`` (None: any step)."""

    metrics: tuple[str, ...]
    onset: int | None
    tol: int = 0
    rules: tuple[str, ...] = ("*",)
    severity: str | None = None

    def matches(self, finding: dict[str, Any], status: str) -> bool:
        severity = self.severity or status
        if finding.get("severity") != severity or finding.get("skipped"):
            return False
        if not any(fnmatch(finding.get("rule") or "", p) for p in self.rules):
            return False
        if finding.get("metric") not in self.metrics:
            return False
        if self.onset is None:
            return True
        step = finding.get("step")
        return step is not None and abs(int(step) - self.onset) <= self.tol


@dataclass(frozen=True)
class Expect:
    status: str
    faults: tuple[Fault, ...] = ()
    why: str = ""
    notes: tuple[str, ...] = field(default=())  # e.g. an info finding an expert also wants ("lr-*")
    # rules (fnmatch patterns) that must give no all-clear here: no ok finding that was judged (a stretch that
    # trained nothing: the GAN's balance or a trend there is not judged)
    no_ok: tuple[str, ...] = field(default=())
    # rules (fnmatch patterns) that must tell what they found in one headline finding: losses that moved together
    # in one excursion are one finding, the others cited in it
    single: tuple[str, ...] = field(default=())
    # rules (fnmatch patterns) that see one rise together: at most one warning/error headline among them, the
    # others cited under it
    one_headline: tuple[str, ...] = field(default=())


def findings_of(summary: dict) -> list[dict]:
    """Headline findings plus those cited under them (``related``)."""
    out = []
    for f in summary.get("findings", []):
        out.append(f)
        out.extend(dict(r) for r in f.get("related") or ())
    return out


def judge(expect: Expect, summary: dict) -> tuple[bool, list[str]]:
    """Whether the got summary matches the expectation, and what is wrong when it does not."""
    problems = []
    status = summary.get("status")
    if status != expect.status:
        problems.append(f"status {status} (expected {expect.status})")
    found = findings_of(summary)
    for fault in expect.faults:
        if not any(fault.matches(f, expect.status) for f in found):
            where = "any step" if fault.onset is None else f"step {fault.onset}±{fault.tol}"
            metrics = "/".join(str(m) for m in fault.metrics)
            problems.append(f"no {fault.severity or expect.status} on {metrics} at {where}")
    if expect.status == "ok":
        loud = [f for f in found if SEVERITY.get(f.get("severity"), 0) >= 2 and not f.get("skipped")]
        problems += [f"unexpected {f['severity']} {f['rule']}({f.get('metric')})" for f in loud]
    for pattern in expect.no_ok:
        problems += [f"unexpected ok {f['rule']}({f.get('metric')})" for f in found
                     if fnmatch(f.get("rule") or "", pattern) and f.get("severity") == "ok" and not f.get("skipped")]
    for pattern in expect.single:
        told = [f for f in summary.get("findings", []) if fnmatch(f.get("rule") or "", pattern)
                and f.get("severity") != "ok" and not f.get("skipped")]
        if len(told) > 1:
            problems.append(f"{len(told)} findings {pattern} ({', '.join(str(f.get('metric')) for f in told)}) for "
                            "one excursion")
    heads = [f for f in summary.get("findings", []) if f.get("severity") in ("warning", "error")
             and any(fnmatch(f.get("rule") or "", p) for p in expect.one_headline)]
    if len(heads) > 1:
        problems.append(f"{len(heads)} headlines ({', '.join(str(f.get('rule')) for f in heads)}) for one rise")
    for pattern in expect.notes:
        if not any(fnmatch(f.get("rule") or "", pattern) for f in found):
            problems.append(f"no finding {pattern}")
    return not problems, problems


def got_line(summary: dict) -> str:
    """The loudest findings of a summary, short: ``warning lr-schedule(lr)@3000``."""
    found = sorted((f for f in summary.get("findings", []) if SEVERITY.get(f.get("severity"), 0) >= 2),
                   key=lambda f: -SEVERITY[f["severity"]])
    return ", ".join(f"{f['rule']}({f.get('metric')})@{f.get('step')}" for f in found[:3]) or "-"
