"""Cost at scale (issue 13): whole analyze of 150k / 600k / 1.5M-step runs x 11 tags, each in a fresh process, as
the CLI does it once started: read, analysis (rules, statistics, Q&A), then the Markdown report (plots drawn,
rendered, written); with the interpreter's start-up (imports) apart and the peak RSS; then the target ratios,
printed with pass/fail. Beside them a 150,000-step run shaped as RadioDiff logs it (every step, disc_start 50,001
of 150,000, losses with their real bookkeeping), so that the rules take the paths a real run makes them take.

    python benchmarks/scale.py                       # 150k and 600k steps (1.5M: --sizes 150000 600000 1500000)

Each time is the shortest of ``--repeat`` (3) fresh processes, as ``timeit`` reports the
fastest: on a machine shared with other work, that work only ever adds time.

Runs are written once by tensorboard's own EventFileWriter into benchmarks/.cache/ (not committed).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from read_speed import write_run  # noqa: E402

CHILD = """
import json, sys, time, tempfile
from pathlib import Path
t0 = time.perf_counter()
from vae_report.readers import load_run
from vae_report.analysis import examine_run
from vae_report.render import write_report
path = Path(sys.argv[1]); what = sys.argv[2]; total = int(sys.argv[3]) if len(sys.argv) > 3 else 10**7
out = {"startup": time.perf_counter() - t0}
t = time.perf_counter(); logs = load_run(path); read = time.perf_counter() - t
out.update(read=read, points=len(logs.frame), frame_mb=logs.frame.memory_usage(deep=True).sum() / 2**20)
del logs
if what == "all":
    # what the CLI does once started: read, rules (plots drawn meanwhile by forked processes), the report
    t = time.perf_counter()
    analysis = examine_run(path, draw_plots=True, disc_start=50_001, total_steps=total)
    whole = time.perf_counter() - t
    out["rules"] = whole - read  # the analysis after its own read (about the read timed above)
    with tempfile.TemporaryDirectory() as folder:
        t = time.perf_counter(); write_report(analysis, Path(folder) / "report.md")
        out["report"] = time.perf_counter() - t
    out["analyze"] = whole + out["report"]
for line in open("/proc/self/status"):
    if line.startswith("VmHWM"):
        out["peak_mb"] = int(line.split()[1]) / 1024
out["total"] = time.perf_counter() - t0
print(json.dumps(out))
"""


def measure(path: Path, what: str = "all", repeat: int = 1, total: int = 10**7) -> dict:
    """Each time the shortest of ``repeat`` fresh processes (as ``timeit`` reports the fastest: on a shared
    machine other work only ever adds time), with the largest peak RSS seen."""
    runs = []
    for _ in range(repeat):
        result = subprocess.run([sys.executable, "-c", CHILD, str(path), what, str(total)], capture_output=True,
                                text=True,
                                check=True, cwd=ROOT)
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    # each time its own shortest (as timeit takes it), not the times of the process shortest in all: that one's
    # read can be a disturbed one, its start-up having been quick
    best = {key: min(r[key] for r in runs) for key in runs[0]}
    best["peak_mb"] = max(r["peak_mb"] for r in runs)
    return best


def one_metric_csv(folder: Path, name: str, points: int) -> Path:
    path = folder / f"{name}.csv"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["step", name])
            writer.writerows((s, 1000.0 + (s % 997) / 997) for s in range(points))
    return path


def many_files(folder: Path, files: int, points_each: int) -> Path:
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    if (folder / "complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        writer = EventFileWriter(str(folder), filename_suffix=f".{i:05d}")
        for k in range(points_each):
            step = i * points_each + k
            value = summary_pb2.Summary.Value(tag="train/rec_loss", simple_value=1.0 / (step + 1))
            writer.add_event(event_pb2.Event(wall_time=1.7e9 + step, step=step,
                                             summary=summary_pb2.Summary(value=[value])))
        writer.close()
    (folder / "complete").write_text("")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[150_000, 600_000])
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh processes per measurement; the shortest is shown (default 3)")
    args = parser.parse_args()
    repeat = max(1, args.repeat)
    cache = ROOT / "benchmarks" / ".cache"
    rows = {}
    print(f"{'steps':>10} {'points':>11} {'read s':>7} {'rules s':>8} {'report s':>9} "
          f"{'analyze s':>10} {'startup s':>10} {'frame MB':>9} {'peak MB':>8}")
    for size in args.sizes:
        start = time.perf_counter()
        folder = cache / f"scale_{size}"
        write_run(folder, size)
        r = rows[size] = measure(folder, repeat=repeat)
        print(f"{size:>10,} {r['points']:>11,} {r['read']:>7.2f} {r['rules']:>8.2f} "
              f"{r['report']:>9.2f} {r['analyze']:>10.2f} {r['startup']:>10.2f} {r['frame_mb']:>9.0f} "
              f"{r['peak_mb']:>8.0f}   (written in "
              f"{time.perf_counter() - start:.0f} s)", flush=True)
    # the same size shaped as RadioDiff logs it (every step, disc_start 50,001 of 150,000): the rules take their
    # real paths over a 100,000-point adversarial phase, which uniform noise never makes them take
    start = time.perf_counter()
    shaped = cache / "radiodiff_150000"
    write_run(shaped, 150_000, shape="radiodiff")
    r = rows["radiodiff"] = measure(shaped, repeat=repeat, total=150_000)
    print(f"{'RadioDiff':>10} {r['points']:>11,} {r['read']:>7.2f} {r['rules']:>8.2f} {r['report']:>9.2f} "
          f"{r['analyze']:>10.2f} {r['startup']:>10.2f} {r['frame_mb']:>9.0f} {r['peak_mb']:>8.0f}   (written in "
          f"{time.perf_counter() - start:.0f} s)", flush=True)
    checks = []
    small, large = args.sizes[0], args.sizes[1] if len(args.sizes) > 1 else None
    if large:
        ratio = rows[large]["analyze"] / rows[small]["analyze"]
        checks.append((f"{large:,} analyze / {small:,} analyze", ratio, 4.5 * large / small / 4))
    for size, r in rows.items():
        label = f"{size:,}" if isinstance(size, int) else "150,000 RadioDiff-shaped"
        checks.append((f"{label}: peak RSS / (2 x frame + 250 MB)", r["peak_mb"] / (2 * r["frame_mb"] + 250), 1.0))
    checks.append((f"{small:,}: whole analyze / read", rows[small]["analyze"] / rows[small]["read"], 2.0))
    checks.append(("150,000 RadioDiff-shaped: whole analyze / read",
                   rows["radiodiff"]["analyze"] / rows["radiodiff"]["read"], 2.0))
    watched = measure(one_metric_csv(cache / "one_metric", "kl_loss", 2_000_000).parent / "kl_loss.csv",
                      repeat=repeat)
    unread = measure(one_metric_csv(cache / "one_metric", "some_other_metric", 2_000_000).parent
                     / "some_other_metric.csv", repeat=repeat)
    checks.append(("2M points of kl_loss / of a metric no rule reads", watched["analyze"] / unread["analyze"], 3.0))
    many = measure(many_files(cache / "many_files", 1000, 2), "read", repeat)
    one = measure(many_files(cache / "one_file", 1, 2000), "read", repeat)
    checks.append(("1,000 event files / one file, same points (read)", many["read"] / max(one["read"], 1e-3), 5.0))
    print(f"\n  (each the shortest of {repeat} fresh processes; load average "
          f"{open('/proc/loadavg').read().split()[0] if Path('/proc/loadavg').exists() else '?'})")
    for label, value, target in checks:
        print(f"  {label:<52} {value:6.2f}  (target <= {target:.2f})  {'ok' if value <= target else 'MISSED'}")


if __name__ == "__main__":
    main()
