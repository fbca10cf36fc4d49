"""Bounded cost on hostile inputs (issue 19): every input under 10 MB is analyzed within 10 s and 1 GB.

Each case is written once into a temporary folder, then `vae-report analyze` runs on it in a child process; the
child's wall time, peak RSS (from wait4, that child alone) and exit code are printed, with PASS when the time and
memory bounds hold and the exit code is 0 or 2 (a report or one line of bad input, never a bug).

    python -m benchmarks.hostile [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_SECONDS, LIMIT_BYTES, INPUT_BYTES = 10.0, 1 << 30, 10 * 1024 * 1024


def _steps_log(folder: Path, lines: int = 400) -> None:
    with (folder / "train.log").open("w") as log:
        for step in range(0, lines * 10, 10):
            print(f"step {step} rec_loss: {1 / (step + 1):.5f} kl_loss: {100 + step}", file=log)


def huge_csv_line(folder: Path) -> None:
    """One CSV line of 9 MB (a quoted cell that never ends) between ordinary rows."""
    rows = [f"{s},{1 / (s + 1)}" for s in range(0, 2_000, 10)]
    (folder / "metrics.csv").write_text("step,rec_loss\n" + "\n".join(rows[:100]) + "\n5000,\"" + "9" * 9_000_000
                                        + "\n" + "\n".join(rows[100:]) + "\n")


def wide_csv(folder: Path) -> None:
    """600,000 columns, a few rows."""
    names = ",".join(f"m{i}" for i in range(600_000))
    rows = ["step," + names] + [f"{s}," + ",".join(["1"] * 600_000) for s in (0, 10)]
    (folder / "metrics.csv").write_text("\n".join(rows)[:INPUT_BYTES - 1] + "\n")


def many_long_tags(folder: Path) -> None:
    """A long-layout CSV (step,tag,value) with 20,000 distinct tags of 200 characters."""
    with (folder / "scalars.csv").open("w") as out:
        out.write("step,tag,value\n")
        for i in range(20_000):
            tag = f"train/{'x' * 180}_{i:06d}"
            for step in (0, 10):
                out.write(f"{step},{tag},{random.random()}\n")


def long_console_lines(folder: Path) -> None:
    """Console lines of 64 KB each (a progress bar redrawn with \\r, never a newline), then step lines."""
    with (folder / "train.log").open("w") as log:
        for step in range(0, 1_200, 10):
            print("\r".join(f"{i}/1000 [{'#' * 30}]" for i in range(1_600))[:65_536], file=log)
            print(f"step {step} rec_loss: {1 / (step + 1):.5f} kl_loss: {100 + step}", file=log)


def big_yaml(folder: Path) -> None:
    """A 5 MB YAML config beside a small log."""
    _steps_log(folder)
    with (folder / "config.yaml").open("w") as out:
        out.write("model:\n  lossconfig:\n    disc_start: 1001\n    kl_weight: 1.0e-06\n  extra:\n")
        for i in range(120_000):
            out.write(f"    key_{i}: [{i}, {i + 1}, value_{i}]\n")


def link_to_root(folder: Path) -> None:
    """A run folder holding a link to / (and one to itself)."""
    _steps_log(folder)
    (folder / "root").symlink_to("/")
    (folder / "self").symlink_to(folder)


def stray_quotes(folder: Path) -> None:
    """A 9 MB CSV in which every tenth row holds a quote that never closes."""
    with (folder / "metrics.csv").open("w") as out:
        out.write("step,rec_loss,kl_loss\n")
        for step in range(0, 3_000_000, 10):
            out.write(f"{step},{1 / (step + 1)},\"{step}\n" if step % 100 == 50 else f"{step},{1 / (step + 1)},3\n")
            if out.tell() > INPUT_BYTES - 100:
                break


def corrupt_tag(folder: Path) -> None:
    """An event file (tensorboard's framing, good CRCs) whose 30,000 records of one tag are not UTF-8 text."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    with (folder / "events.out.tfevents.1.host").open("wb") as handle:
        writer = RecordWriter(handle)
        for step in range(30_000):
            for tag, value in (("train/rec_loss", 1 / (step + 1)), ("train/g\u00e9", 1.0)):
                data = event_pb2.Event(wall_time=1.7e9 + step, step=step, summary=summary_pb2.Summary(
                    value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])).SerializeToString()
                writer.write(data.replace("g\u00e9".encode(), b"g\xff\xfe"))


def utf16_csv(folder: Path) -> None:
    """A 9 MB wide CSV in UTF-16 (as PowerShell's Out-File writes it)."""
    rows = "".join(f"{s},{1 / (s + 1)},{s * 0.01}\n" for s in range(0, 3_300_000, 10))
    (folder / "metrics.csv").write_text(("step,rec_loss,kl_loss\n" + rows)[: INPUT_BYTES // 2 - 2000]
                                        .rsplit("\n", 1)[0] + "\n", encoding="utf-16")


def many_goals(folder: Path) -> list[str]:
    """900 --goal options on a small run (known and unknown metrics, levels from 1e-300 to 1e300)."""
    _steps_log(folder)
    return [a for i in range(300) for a in ("--goal", f"rec_loss={10.0 ** (i - 150):g}", "--goal",
                                             f"m{i}/x=0.{i}", "--goal", f"val/psnr_{i}=3")]


CASES = {f.__name__: f for f in (huge_csv_line, wide_csv, many_long_tags, long_console_lines, big_yaml,
                                  link_to_root, stray_quotes, corrupt_tag, utf16_csv, many_goals)}


def measure(folder: Path, out: Path, extra: list[str] | None = None) -> tuple[float, int, int, str]:
    """(seconds, peak RSS bytes, exit code, last stderr line) of one analyze in a child process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "vae_report.cli", "analyze", str(folder), "--out", str(out),
                                  "--quiet", *(extra or [])], stderr=err, stdout=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        message = err.read().decode(errors="replace").strip().splitlines()
    return seconds, usage.ru_maxrss * 1024, child.returncode, message[-1] if message else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(CASES))
    args = parser.parse_args()
    failed = 0
    print(f"{'case':22} {'input MB':>8} {'seconds':>8} {'peak MB':>8} {'exit':>4}  verdict")
    with tempfile.TemporaryDirectory() as tmp:
        for name, write in CASES.items():
            if args.only and name != args.only:
                continue
            folder = Path(tmp) / name
            folder.mkdir()
            extra = write(folder)  # a case may add options (a list) to the command
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()
                       and p.resolve().is_relative_to(folder))
            seconds, peak, code, message = measure(folder, Path(tmp) / f"{name}.md", extra)
            ok = seconds <= LIMIT_SECONDS and peak <= LIMIT_BYTES and code in (0, 2) and size < INPUT_BYTES
            failed += not ok
            print(f"{name:22} {size / 2**20:8.1f} {seconds:8.1f} {peak / 2**20:8.0f} {code:4}  "
                  f"{'PASS' if ok else 'FAIL'}{('  ' + message[:100]) if code else ''}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
