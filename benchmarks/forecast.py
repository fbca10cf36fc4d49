"""The forecast's held-out truncation test (issue 21): every healthy run of the diagnosis battery, cut at 40%, 60%
and 80% of its logged steps, forecasts each key loss at its last logged step; the run's own level there (the
median of its last 20 points) is the truth. Prints, per cut and overall: forecasts made and declined (why),
how often the truth falls inside the 90% interval, and the median error of the forecast level.

    python benchmarks/forecast.py                    # the fit vae-report uses (the shape chosen by held-out fit)
    python benchmarks/forecast.py --model power --widen 1.5       # one shape always, for comparison
    python benchmarks/forecast.py --candidates power floor flat   # a flat level among the held-out candidates
    python benchmarks/forecast.py --no-runner-up --widen 1.75     # the chosen shape's band alone, widened

A cut whose next phase change (the discriminator switching on) lies between the cut and the horizon is not
forecast across (the library stops at the switch), and is counted apart.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.diagnosis.catalog import all_cases  # noqa: E402
from benchmarks.diagnosis.run import ensure, run_dir  # noqa: E402
from vae_report import forecast, forecast_models  # noqa: E402
from vae_report.analysis import resolve_schedule  # noqa: E402
from vae_report.readers import load_run  # noqa: E402
from vae_report.rules import Metrics  # noqa: E402
from vae_report.stats import level_at  # noqa: E402

CUTS = (0.4, 0.6, 0.8)


def evaluate(cases) -> dict[float, list[dict]]:
    rows: dict[float, list[dict]] = {cut: [] for cut in CUTS}
    for case in cases:
        logs = load_run(run_dir(case, ensure(case)))
        schedule = resolve_schedule(logs)
        m = Metrics(logs.frame)
        last = m.last_step()
        switch = schedule.switch_step
        for cut in CUTS:
            for name in forecast.KEY_LOSSES:
                if not m.has(name):
                    continue
                steps, values = m.steps(name), m.values(name)
                truth = level_at(steps, values, last)
                now = int(steps[steps <= cut * last][-1]) if (steps <= cut * last).any() else 0
                row = {"run": case.name, "metric": name}
                if switch is not None and now < switch <= last:
                    rows[cut].append(row | {"declined": "a phase change ahead"})
                    continue
                phase_start = switch if switch is not None and now >= switch else 0
                trend = forecast.forecast_metric(name, steps, values, now, phase_start, last, None)
                if trend.end is None or trend.end.now:  # none, or the level now (a few intervals ahead)
                    rows[cut].append(row | {"declined": _why(trend.reason) if trend.end is None else "level now"})
                    continue
                p = trend.end
                rows[cut].append(row | {"truth": truth[0], "level": p.level, "low": p.low, "high": p.high,
                                        "now": trend.now_level})
    return rows


def _why(reason: str | None) -> str:
    text = (reason or "").lower()
    return "too young" if "too young" in text else "too noisy" if "noisy" in text else \
        "too few points" if "point" in text else "other"


def summarize(label: str, rows: list[dict]) -> str:
    made = [r for r in rows if "declined" not in r]
    declined = Counter(r["declined"] for r in rows if "declined" in r)
    inside = sum(r["low"] <= r["truth"] <= r["high"] for r in made)
    errors = [abs(r["level"] - r["truth"]) / abs(r["truth"]) for r in made if r["truth"]]
    widths = [(r["high"] - r["low"]) / abs(r["level"]) for r in made if r["level"]]
    why = ", ".join(f"{n} {k}" for k, n in declined.most_common()) or "none"
    error = np.median(errors) if errors else float("nan")
    width = np.median(widths) if widths else float("nan")
    return (f"| {label} | {len(made)} | {sum(declined.values())} ({why}) | "
            f"{inside}/{len(made)} = {inside / max(len(made), 1):.0%} | {error:.1%} | {width:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("held-out", *forecast_models.MODELS), default=forecast.MODEL)
    parser.add_argument("--candidates", nargs="+", choices=forecast_models.MODELS, default=forecast.CANDIDATES,
                        help="the shapes the held-out fit chooses between")
    parser.add_argument("--no-runner-up", action="store_true",
                        help="the chosen shape's band alone, without the runner-up shape's forecast")
    parser.add_argument("--widen", type=float, default=forecast.WIDEN)
    parser.add_argument("--trend-only", action="store_true", help="the bootstrap interval alone (no flat bound)")
    parser.add_argument("--misses", action="store_true", help="list the forecasts whose interval missed")
    args = parser.parse_args()
    forecast.MODEL, forecast.WIDEN, forecast.FLAT_BOUND = args.model, args.widen, not args.trend_only
    forecast.CANDIDATES, forecast.RUNNER_UP = tuple(args.candidates), not args.no_runner_up
    cases = [c for c in all_cases() if c.expect.status == "ok"]
    rows = evaluate(cases)
    model = f"held-out choice of {', '.join(args.candidates)}" if args.model == "held-out" else args.model
    print(f"{len(cases)} healthy runs of the battery; model {model}, interval x{args.widen:g}"
          + (", without the runner-up's forecast" if args.no_runner_up else "")
          + (", bootstrap only" if args.trend_only else ", from the trend's forecast to the level now"))
    print("| cut | forecasts | declined | truth inside the 90% interval | median error | median width |")
    print("|---|---:|---|---:|---:|---:|")
    for cut in CUTS:
        print(summarize(f"{cut:.0%}", rows[cut]))
    print(summarize("all", [r for cut in CUTS for r in rows[cut]]))
    missed = [r for cut in CUTS for r in rows[cut] if "declined" not in r and not r["low"] <= r["truth"] <= r["high"]]
    toward = sum((r["truth"] - r["level"]) * (r["now"] - r["level"]) > 0 for r in missed)
    print(f"misses: {len(missed)}, {toward} on the side of the level now (the trend slowed), "
          f"{len(missed) - toward} beyond the trend's forecast (it sped up)")
    if args.misses:
        for cut in CUTS:
            for r in rows[cut]:
                if "declined" not in r and not r["low"] <= r["truth"] <= r["high"]:
                    print(f"  miss at {cut:.0%}: {r['run']} {r['metric']}: truth {r['truth']:.4g}, forecast "
                          f"{r['level']:.4g} [{r['low']:.4g}, {r['high']:.4g}]")


if __name__ == "__main__":
    main()
