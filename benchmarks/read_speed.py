"""Reading a RadioDiff-sized event file: tbparse vs the raw floors vs vae-report, in one process.

Writes (once, cached in benchmarks/.cache/) 150,000 steps x 11 scalar tags, one event per scalar, with
tensorboard's own EventFileWriter, then times:
  - tbparse (SummaryReader, all scalars, every point),
  - the framing floor: walking the records with both CRCs per record (crc32c package),
  - the framing + protobuf floor: the same plus Event.ParseFromString per record,
  - vae-report's reader (every point, both CRCs checked),
  - the whole `analyze` (read, rules, seven plots, Markdown report),
and prints the ratios and vae-report's peak memory (measured in a child process, so earlier steps don't count).

    python benchmarks/read_speed.py [--steps 150000] [--skip-tbparse]
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TAGS = ["Learning_Rate", "total_loss", "rec_loss", "kl_loss", "d_weight", "disc_factor", "g_loss", "disc_loss",
        "logits_real", "logits_fake", "nll_loss"]


def radiodiff_values(steps: int, rng) -> np.ndarray:
    """TAGS' values at every step of a RadioDiff-shaped run (disc_start 50,001 of 150,000; nll summed over
    65,536 pixels, KL climbing under kl_weight 1e-6, the hinge discriminator at chance once on): the rules then
    take their real paths over a long adversarial phase, which uniform noise never makes them take."""
    s = np.arange(steps, dtype=np.float64)
    noise = rng.standard_normal((steps, len(TAGS)))
    on = s >= 50_001
    rec = 0.03 + 0.5 * np.exp(-s / 1500) + 0.002 * np.abs(noise[:, 2])
    kl = 17_000 + 115_000 * (1 - np.exp(-s / 6000)) + 500 * noise[:, 3]
    d_weight = np.where(on, 800 + 100 * noise[:, 4], 0.0)
    real, fake = 0.05 + 0.1 * noise[:, 8], -0.05 + 0.1 * noise[:, 9]
    g = np.where(on, -fake, 0.0)
    disc = np.where(on, 0.5 * (np.maximum(0, 1 - real) + np.maximum(0, 1 + fake)), 0.0)
    nll = 65_536 * rec
    lr = 5e-6 * np.maximum((1 - s / 150_000) ** 0.95, 0.1)
    total = nll + 1e-6 * kl + d_weight * on * g
    columns = {"Learning_Rate": lr, "total_loss": total, "rec_loss": rec, "kl_loss": kl, "d_weight": d_weight,
               "disc_factor": on.astype(float), "g_loss": g, "disc_loss": disc, "logits_real": np.where(on, real, 0),
               "logits_fake": np.where(on, fake, 0), "nll_loss": nll}
    return np.stack([columns[tag] for tag in TAGS], axis=1)


def write_run(folder: Path, steps: int, shape: str = "uniform") -> Path:
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "complete"
    if done.exists():
        return next(folder.glob("*tfevents*"))
    for old in folder.glob("*tfevents*"):
        old.unlink()
    rng = np.random.default_rng(0)
    writer = EventFileWriter(str(folder), max_queue_size=1 << 16, flush_secs=3600)
    values = rng.random((steps, len(TAGS))) if shape == "uniform" else radiodiff_values(steps, rng)
    for step in range(steps):
        for i, tag in enumerate(TAGS):
            value = summary_pb2.Summary.Value(tag=tag, simple_value=float(values[step, i]))
            writer.add_event(event_pb2.Event(wall_time=1.7e9 + step * 0.5, step=step,
                                             summary=summary_pb2.Summary(value=[value])))
    writer.close()
    done.write_text(str(steps))
    return next(folder.glob("*tfevents*"))


def framing_floor(path: Path, parse: bool) -> int:
    import crc32c
    from tensorboard.compat.proto import event_pb2

    data = path.read_bytes()
    mv = memoryview(data)
    unpack = struct.Struct("<Q").unpack_from
    pos, n, count = 0, len(data), 0
    event = event_pb2.Event()

    def masked(buf):
        crc = crc32c.crc32c(buf)
        return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    while pos + 12 <= n:
        (length,) = unpack(data, pos)
        if masked(mv[pos : pos + 8]) != int.from_bytes(mv[pos + 8 : pos + 12], "little"):
            break
        end = pos + 12 + length
        if masked(mv[pos + 12 : end]) != int.from_bytes(mv[end : end + 4], "little"):
            break
        if parse:
            event.ParseFromString(mv[pos + 12 : end])
        count += 1
        pos = end + 4
    return count


def text_and_csv(steps: int) -> None:
    """RadioDiff's text log and Lightning's metrics.csv with every step logged, read by vae-report."""
    sys.path.insert(0, str(ROOT / "tests"))
    from writers import radiodiff_config, radiodiff_curves, write_lightning_metrics_csv, write_radiodiff_text_log

    from vae_report.readers.csvlog import read_csv_log
    from vae_report.readers.textlog import read_text_log

    folder = ROOT / "benchmarks" / ".cache" / f"logs_{steps}"
    log = folder / "run.log"
    csv = folder / "metrics.csv"
    if not (log.exists() and csv.exists()):
        curves = radiodiff_curves(steps - 1)
        write_radiodiff_text_log(folder, curves, radiodiff_config(), steps, log_freq=1, name="run.log")
        write_lightning_metrics_csv(csv, curves, every=1)
    r: dict[str, float] = {}
    print(f"text log and CSV, {steps:,} logged steps:")
    text = timed(f"text log ({log.stat().st_size / 1e6:.0f} MB)", lambda: read_text_log(log, "run.log"), r)
    table = timed(f"metrics.csv ({csv.stat().st_size / 1e6:.0f} MB)", lambda: read_csv_log(csv, "metrics.csv"), r)
    print(f"    points: text log {len(text.frame):,}, CSV {len(table.frame):,}")


def timed(label: str, fn, results: dict):
    start = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - start
    print(f"  {label:<34} {results[label]:7.2f} s", flush=True)
    return value


def child_peak(folder: Path, what: str) -> tuple[float, float]:
    code = (
        "import time, tempfile; from pathlib import Path;"
        "t = time.perf_counter();"
        "import vae_report;"
        f"p = Path({str(folder)!r});"
        + ("vae_report.read_run(p);" if what == "read" else
           "from vae_report.render import write_report;"
           "d = tempfile.mkdtemp(); write_report(vae_report.examine_run(p, draw_plots=True), Path(d) / 'report.md');")
        # VmHWM, not ru_maxrss: the latter keeps the forking parent's size across exec on Linux
        + "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1];"
        + "print(time.perf_counter() - t, int(hwm) / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    seconds, mib = out.stdout.split()
    return float(seconds), float(mib)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=150_000)
    parser.add_argument("--skip-tbparse", action="store_true")
    parser.add_argument("--logs-only", action="store_true", help="only the text-log and CSV timings")
    args = parser.parse_args()
    if args.logs_only:
        sys.path.insert(0, str(ROOT))
        text_and_csv(args.steps)
        return
    sys.path.insert(0, str(ROOT))
    from vae_report import examine_run, read_run
    from vae_report.render import write_report

    folder = ROOT / "benchmarks" / ".cache" / f"radiodiff_{args.steps}"
    start = time.perf_counter()
    path = write_run(folder, args.steps)
    print(f"event file: {path.name}, {path.stat().st_size / 1e6:.1f} MB, {args.steps:,} steps x {len(TAGS)} tags "
          f"(ready in {time.perf_counter() - start:.1f} s)")
    path.read_bytes()  # warm the page cache for everyone alike
    r: dict[str, float] = {}
    print("timings (same process):")
    if not args.skip_tbparse:
        from tbparse import SummaryReader

        tb = timed("tbparse SummaryReader", lambda: SummaryReader(str(folder), pivot=False).scalars, r)
        print(f"    tbparse points: {len(tb):,}")
    timed("framing + both CRCs (floor)", lambda: framing_floor(path, parse=False), r)
    timed("framing + CRCs + ParseFromString", lambda: framing_floor(path, parse=True), r)
    frame = timed("vae-report read_run", lambda: read_run(folder), r)
    print(f"    vae-report points: {len(frame):,}")
    with tempfile.TemporaryDirectory() as tmp:
        timed("vae-report analyze + report", lambda: write_report(examine_run(folder, draw_plots=True),
                                                                  Path(tmp) / "r.md"), r)
    read_s, read_mib = child_peak(folder, "read")
    all_s, all_mib = child_peak(folder, "analyze")
    print("fresh process (imports included):")
    print(f"  read_run: {read_s:.2f} s, peak RSS {read_mib:.0f} MiB; analyze + report: {all_s:.2f} s, "
          f"peak RSS {all_mib:.0f} MiB")
    print("ratios:")
    ours = r["vae-report read_run"]
    if "tbparse SummaryReader" in r:
        tbp = r["tbparse SummaryReader"]
        print(f"  tbparse / vae-report read:            {tbp / ours:6.1f}x")
        print(f"  tbparse / vae-report analyze+report:  {tbp / r['vae-report analyze + report']:6.1f}x")
    print(f"  framing+protobuf floor / vae-report:  {r['framing + CRCs + ParseFromString'] / ours:6.1f}x")
    print(f"  vae-report / framing+CRC floor:       {ours / r['framing + both CRCs (floor)']:6.2f}x")
    print(f"  peak memory (read_run, own process):  {read_mib:.0f} MiB")
    text_and_csv(args.steps)


if __name__ == "__main__":
    main()
