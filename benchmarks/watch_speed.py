"""Watch mode's incremental pass against a full read (issue 21): a 600k-step run (11 tags logged every step,
written by tensorboard's own writer; and the same as a wide CSV written by Python's csv module) grows by
``--new`` steps between two passes; the second pass parses only the appended bytes.

    python benchmarks/watch_speed.py                  # 600,000 steps, 10,000 new (--steps, --new)

Prints, for each log kind, the time of a full read (``load_run``), of the incremental read of the grown file
(``load_run`` with the ``TailCache`` of the pass before), their ratio beside the ratio of new to all points, and
the same for a whole pass (read, rules, HTML report).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from read_speed import TAGS, write_run  # noqa: E402

from vae_report.analysis import analyze_run, examine_run  # noqa: E402
from vae_report.readers import load_run  # noqa: E402
from vae_report.readers.tail import TailCache  # noqa: E402
from vae_report.render import write_report  # noqa: E402


def write_csv(path: Path, steps: int) -> None:
    if path.exists():
        return
    rng = np.random.default_rng(0)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["step", *TAGS])
        for start in range(0, steps, 10_000):
            block = rng.random((min(10_000, steps - start), len(TAGS)))
            out.writerows([[start + i, *row] for i, row in enumerate(block.tolist())])


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def measure(kind: str, source: Path, steps: int, new: int) -> None:
    data = source.read_bytes()
    cut = int(len(data) * (steps - new) / steps)  # anywhere: a record or line cut in two is read next pass
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "run"
        run.mkdir()
        target = run / source.name
        target.write_bytes(data[:cut])
        options = dict(disc_start=50_001, total_steps=10**7)
        cache = TailCache()
        analyze_run(run, tail=cache, **options)  # the pass before: reads the first part whole
        with target.open("ab") as handle:
            handle.write(data[cut:])
        full_read, _ = timed(lambda: load_run(run))
        warm = _copy(cache)
        incremental_read, logs = timed(lambda: load_run(run, tail=warm))
        points = len(logs.frame)

        def whole(tail):
            analysis = examine_run(run, tail=tail, draw_plots=True, **options)
            write_report(analysis, Path(folder) / "report.html")

        full_pass, _ = timed(lambda: whole(None))
        incremental_pass, _ = timed(lambda: whole(cache))
    print(f"{kind}: {steps:,} steps, {points:,} points, {new:,} new steps ({new / steps:.1%} of the points)")
    print(f"  read:       full {full_read:6.2f} s   incremental {incremental_read:6.2f} s   "
          f"ratio {incremental_read / full_read:.3f}")
    print(f"  whole pass: full {full_pass:6.2f} s   incremental {incremental_pass:6.2f} s   "
          f"ratio {incremental_pass / full_pass:.3f}")


def _copy(cache: TailCache) -> TailCache:
    """A second cache in the same state (the first is used again for the whole pass)."""
    import copy

    return copy.deepcopy(cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600_000)
    parser.add_argument("--new", type=int, default=10_000)
    args = parser.parse_args()
    cache = ROOT / "benchmarks" / ".cache"
    events = write_run(cache / f"tb_{args.steps}", args.steps)
    measure("TensorBoard event file", events, args.steps, args.new)
    table = cache / f"wide_{args.steps}.csv"
    write_csv(table, args.steps)
    measure("CSV (wide)", table, args.steps, args.new)


if __name__ == "__main__":
    main()
