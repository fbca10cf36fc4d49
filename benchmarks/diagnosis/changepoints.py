"""The current-state rule's change-point method against ruptures' PELT, on the battery (issue 8 item 1).

    python -m benchmarks.diagnosis.changepoints        # needs: pip install ruptures

For every loss of every battery run (within the current phase, as the rule judges it), both methods answer
"is this loss rising now, and since when?" with the same size test (the rule's: x1.5 for positive losses, x10 for
KL, beyond 6 sigma). The CUSUM is vae-report's (rules/current.py); PELT (l2 cost, BIC-like penalty
2 sigma^2 log n on the same binned series) dates the rise at its last breakpoint. Printed: faults found and their
mean onset error against the battery's expected onset, and false alarms on healthy runs.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from vae_report import examine_run
from vae_report.rules import Metrics
from vae_report.rules.current import WATCHED, latest_rise, minimum_rise, prepared
from vae_report.stats import robust_noise

from .run import all_cases, ensure


def pelt_rise(steps: np.ndarray, values: np.ndarray, ratio: float | None) -> dict | None:
    import ruptures

    ready = prepared(steps, values, ratio)
    if ready is None:
        return None
    _, _, b_steps, z, use_log = ready
    sigma = robust_noise(z)
    if not math.isfinite(sigma) or sigma == 0:
        return None
    breaks = ruptures.Pelt(model="l2", min_size=3).fit(z).predict(pen=2 * sigma**2 * math.log(len(z)))
    if len(breaks) < 2:
        return None
    last = breaks[-2]
    look = z[max(0, last - len(z) // 3):last]
    before, after = float(np.median(look)), float(np.median(z[last:]))
    minimum = minimum_rise(look, ratio, use_log)  # the rule's own size test
    if not (after - before > 6 * sigma and after - before > minimum):
        return None
    return {"onset": int(b_steps[last])}


def _series(a, name):
    m = Metrics(a.frame)
    if not m.has(name):
        return None
    s = a.analysis.schedule
    lo = s.disc_start if s.disc_start is not None and m.last_step() >= s.disc_start else None
    steps, values = m.window(name, lo=lo)
    return (steps, values) if len(steps) >= 20 else (m.steps(name), m.values(name))


def main() -> None:
    rows = {"cusum": {"found": 0, "errors": [], "false": 0}, "pelt": {"found": 0, "errors": [], "false": 0}}
    faults = healthy = 0
    for case in all_cases(synthetic_only="--all" not in sys.argv):
        a = examine_run(ensure(case))  # the frame beside the analysis
        rising = [f for f in case.expect.faults if f.onset is not None and any(m in WATCHED for m in f.metrics)
                  and "explode" in case.name]
        if case.expect.status == "ok":
            healthy += 1
            for name, ratio in WATCHED.items():
                series = _series(a, name)
                if series is None:
                    continue
                rows["cusum"]["false"] += latest_rise(*series, ratio) is not None
                rows["pelt"]["false"] += pelt_rise(*series, ratio) is not None
            continue
        for fault in rising:
            faults += 1
            for method, detect in (("cusum", latest_rise), ("pelt", pelt_rise)):
                onsets = [r["onset"] for name in fault.metrics if name in WATCHED
                          for series in [_series(a, name)] if series is not None
                          for r in [detect(*series, WATCHED[name])] if r is not None]
                if onsets:
                    rows[method]["found"] += 1
                    rows[method]["errors"].append(min(abs(o - fault.onset) / max(1, a.step) for o in onsets))
    print(f"{faults} rising-loss faults, {healthy} healthy runs (every watched loss of each)")
    print(f"{'method':<8} {'found':>7} {'mean onset error':>18} {'false alarms':>13}")
    for method, r in rows.items():
        error = f"{np.mean(r['errors']) * 100:.2f}% of run" if r["errors"] else "-"
        print(f"{method:<8} {r['found']:>3}/{faults:<3} {error:>18} {r['false']:>13}")


if __name__ == "__main__":
    main()
