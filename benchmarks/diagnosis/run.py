"""Build the battery's runs (cached, deterministic), analyze each with vae_report.analyze_run, print the
confusion table. ``python -m benchmarks.diagnosis [--synthetic-only] [--runs NAME ...] [--cache DIR]``."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from .expect import SEVERITY, got_line, judge

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".runs"
VERSION = "5"  # bump when a generator changes, so cached runs are rebuilt


def all_cases(synthetic_only: bool = False) -> list:
    from .catalog import all_cases as synthetic
    cases = synthetic()
    if not synthetic_only:
        from .trainer_runs import trainer_cases
        cases += trainer_cases()
    return cases


def fingerprint(case) -> str:
    """What a cached run was built from: the generator version, the layout, the shape and the fault's function
    with the values it closes over (a case edited under the same name is rebuilt, never silently reused)."""
    fault = getattr(case, "fault", None)
    cells = [c.cell_contents for c in (getattr(fault, "__closure__", None) or ())]
    described = f"{getattr(fault, '__qualname__', fault)}{cells!r}"
    return f"{VERSION}|{getattr(case, 'layout', '')}|{getattr(case, 'shape', '')!r}|{described}"


def ensure(case, cache: Path = CACHE) -> Path:
    """The run's folder, built when missing or made from another definition (a half-built one is rebuilt)."""
    folder = cache / case.name
    stamp = folder / ".battery-done"
    if stamp.exists() and stamp.read_text() == fingerprint(case):
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    case.build(folder)
    stamp.write_text(fingerprint(case))
    return folder


def run_dir(case, folder: Path) -> Path:
    """Where the run's logs are: trainer runs train into ``run/``."""
    return folder / "run" if case.source == "trainer" else folder


def analyses_of(folder: Path) -> list:
    """The run's analyses as ``vae-report analyze`` makes them: one, or one per run of a sweep (sibling runs,
    attempts of nested Lightning versions)."""
    import vae_report
    from vae_report.sweep import find_runs

    runs = find_runs(folder)
    if not runs:
        return [vae_report.analyze_run(folder)]
    return [vae_report.analyze_run(r.path, include=list(r.include) if r.include else None, run=r.store_run)
            for r in runs]


def combined(summaries: list[dict]) -> dict:
    """One summary of a sweep's runs: the worst status, every run's findings."""
    if len(summaries) == 1:
        return summaries[0]
    order = ["ok", "info", "warning", "error"]
    return {"status": max((s["status"] for s in summaries), key=order.index), "runs": len(summaries),
            "findings": [f for s in summaries for f in s.get("findings", [])]}


def analyze(folder: Path) -> dict:
    """The summary vae_report gives the run (an exception is reported as status ``crash``)."""
    # the stamp file is ours, not the run's: analyze the run as the user would see it
    try:
        return combined([a.to_summary() for a in analyses_of(folder)])
    except Exception as error:  # noqa: BLE001 -- a crash is a verdict too, shown in the table
        return {"status": "crash", "findings": [], "error": f"{type(error).__name__}: {error}"}


def score(rows: list[tuple]) -> list[str]:
    """Precision and recall of the run status per severity, and the total."""
    lines = []
    for level in ("ok", "warning", "error"):
        tp = sum(1 for _, exp, got, good in rows if exp.status == level and got == level and good)
        predicted = sum(1 for _, _, got, _ in rows if got == level)
        actual = sum(1 for _, exp, _, _ in rows if exp.status == level)
        p = f"{tp / predicted:.0%}" if predicted else "-"
        r = f"{tp / actual:.0%}" if actual else "-"
        lines.append(f"{level:8s} precision {p:>5s} ({tp}/{predicted})  recall {r:>5s} ({tp}/{actual})")
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.diagnosis", description=__doc__)
    parser.add_argument("--synthetic-only", action="store_true", help="skip the bundled-trainer runs")
    parser.add_argument("--runs", nargs="+", metavar="NAME", help="only these runs")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"where runs are built (default {CACHE})")
    parser.add_argument("--json", type=Path, help="also write per-run results here")
    parser.add_argument("--vae-report", type=Path, metavar="CHECKOUT",
                        help="judge the vae_report of this checkout (its root folder) instead of the importable one")
    return parser


def _check(case, cache: Path) -> tuple[bool, dict, float]:
    """Build (if needed), analyze and judge one run; print its line; return (match, result, seconds analyzing)."""
    folder = ensure(case, cache)
    started = time.time()
    summary = analyze(run_dir(case, folder))
    seconds = time.time() - started
    good, problems = judge(case.expect, summary)
    got, expected = summary["status"], case.expect.status
    detail = "; ".join(problems) + " | got: " if problems else ""
    print(f"{case.name:38s} {case.source[:4]:4s} {expected:9s} {got:9s} {'yes' if good else 'NO':3s} "
          f"{detail}{got_line(summary)}{summary.get('error') or ''}")
    return good, {"run": case.name, "class": case.klass, "expected": expected, "got": got, "pass": good,
                  "problems": problems, "findings": got_line(summary), "error": summary.get("error")}, seconds


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.vae_report:
        sys.path.insert(0, str(args.vae_report.resolve()))
    started = time.time()
    cases = all_cases(args.synthetic_only)
    if args.runs:
        unknown = set(args.runs) - {c.name for c in cases}
        if unknown:
            parser.error(f"unknown runs: {', '.join(sorted(unknown))}")
        cases = [c for c in cases if c.name in args.runs]
    print(f"vae_report from {Path(__import__('vae_report').__file__).parent}")
    print(f"{'run':38s} {'src':4s} {'expected':9s} {'got':9s} {'ok':3s} details")
    rows, results, analyzing = [], [], 0.0
    for case in cases:
        good, result, seconds = _check(case, args.cache)
        rows.append((case, case.expect, result["got"], good))
        results.append(result)
        analyzing += seconds
    print()
    for line in score(rows):
        print(line)
    passed = sum(1 for *_, good in rows if good)
    faults = [r for r in rows if r[1].status != "ok"]
    loud_healthy = sum(1 for _, exp, got, _ in rows if exp.status == "ok" and SEVERITY.get(got, 3) >= 2)
    print(f"TOTAL {passed}/{len(rows)} runs match ({passed / max(1, len(rows)):.0%}); faults named "
          f"{sum(1 for r in faults if r[3])}/{len(faults)}; healthy runs with a warning/error {loud_healthy}; "
          f"{time.time() - started:.1f} s ({analyzing:.1f} s analyzing)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
