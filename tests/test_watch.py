"""Watch mode: passes that parse only what the logs gained, as real writers append to them."""

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from typer.testing import CliRunner

from vae_report.cli import app
from vae_report.readers import load_run
from vae_report.readers.tail import TailCache
from vae_report.watch import Watcher, parse_interval

SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter


def _losses(step: int) -> dict[str, float]:
    rec = 0.02 + 0.5 * math.exp(-step / 300)
    return {"train/rec_loss": rec, "train/kl_loss": 800 + step / 10, "train/total_loss": 1000 * rec + 8e-4 * step}


def _write(writer, steps) -> None:
    for step in steps:
        for tag, value in _losses(step).items():
            writer.add_scalar(tag, value, step)
    writer.flush()


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    columns = ["step", "metric", "value"]
    pd.testing.assert_frame_equal(a[columns].astype({"metric": str}).reset_index(drop=True),
                                  b[columns].astype({"metric": str}).reset_index(drop=True))


def test_a_growing_event_file_is_read_from_where_the_last_pass_stopped(tmp_path):
    run = tmp_path / "run"
    writer = SummaryWriter(run)
    _write(writer, range(0, 400, 10))
    watcher = Watcher(run, tmp_path / "report.html", tmp_path / "summary.json")
    first = watcher.run_pass().analysis
    (events,) = run.glob("*tfevents*")
    size = events.stat().st_size
    assert first.step == 390 and watcher.tail.bytes_read == size
    _write(writer, range(400, 800, 10))
    read_before = watcher.tail.bytes_read
    second = watcher.run_pass()
    assert second.analysis.step == 790 and json.loads((tmp_path / "summary.json").read_text())["step"] == 790
    # the second pass parsed the appended bytes only, and its frame is what a fresh full read gives
    assert watcher.tail.bytes_read - read_before == events.stat().st_size - size < size
    assert watcher.tail.full_reads == 1
    _same(second.frame, load_run(run).frame)
    writer.close()


def test_a_torn_last_record_is_read_again_next_pass(tmp_path):
    whole = tmp_path / "whole"
    writer = SummaryWriter(whole)
    _write(writer, range(0, 300, 10))
    writer.close()
    (source,) = whole.glob("*tfevents*")
    data = source.read_bytes()
    run = tmp_path / "run"
    run.mkdir()
    target = run / source.name
    cut = len(data) * 2 // 3 + 7  # mid-record (records are ~50 bytes)
    target.write_bytes(data[:cut])
    cache = TailCache()
    partial = load_run(run, tail=cache)
    assert 0 < partial.frame["step"].max() < 290 and any("mid-record" in n for s in partial.sources for n in s.notes)
    with target.open("ab") as handle:
        handle.write(data[cut:])
    _same(load_run(run, tail=cache).frame, load_run(whole).frame)
    assert cache.full_reads == 1 and cache.bytes_read == len(data)


def test_a_growing_csv_with_a_cut_line_and_a_rewrite(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    path = run / "metrics.csv"
    names = list(_losses(0))
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["step", *names])
        out.writerows([[s, *_losses(s).values()] for s in range(0, 200, 10)])
        handle.write("200,0.")  # a line still being written
    cache = TailCache()
    assert load_run(run, tail=cache).frame["step"].max() == 190
    with path.open("a", newline="") as handle:
        handle.write(f"{str(_losses(200)['train/rec_loss'])[2:]},{_losses(200)['train/kl_loss']},"
                     f"{_losses(200)['train/total_loss']}\n")
        csv.writer(handle).writerows([[s, *_losses(s).values()] for s in range(210, 400, 10)])
    grown = load_run(run, tail=cache)
    assert cache.full_reads == 1
    _same(grown.frame, load_run(run).frame)
    assert grown.frame["step"].max() == 390
    # rewritten with another column (as Lightning's CSVLogger does when a new key appears): read again whole
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["step", *names, "lr"])
        out.writerows([[s, *_losses(s).values(), 1e-4] for s in range(0, 500, 10)])
    rewritten = load_run(run, tail=cache)
    assert cache.full_reads == 2 and "lr" in set(rewritten.frame["metric"])
    _same(rewritten.frame, load_run(run).frame)


def test_watch_command_passes_and_fail_on(tmp_path):
    run = tmp_path / "run"
    writer = SummaryWriter(run)
    _write(writer, range(0, 200, 10))
    result = CliRunner().invoke(app, ["watch", str(run), "--out", str(tmp_path / "r.md"), "--every", "0.1",
                                      "--max-passes", "2"])
    assert result.exit_code == 0, result.output
    assert "pass 2, status" in result.output and (tmp_path / "r.md").exists()
    for step in range(200, 260, 10):  # a KL below zero: an error
        writer.add_scalar("train/kl_loss", -5.0, step)
        writer.add_scalar("train/rec_loss", 0.1, step)
    writer.close()
    result = CliRunner().invoke(app, ["watch", str(run), "--out", str(tmp_path / "r.md"), "--every", "30s",
                                      "--fail-on", "error"])
    assert result.exit_code == 1 and "pass 1" in result.output


def test_watch_waits_for_a_run_that_has_not_logged_yet(tmp_path):
    result = CliRunner().invoke(app, ["watch", str(tmp_path / "later"), "--out", str(tmp_path / "r.html"),
                                      "--every", "0.05", "--max-passes", "2"])
    assert result.exit_code == 0 and result.output.count("waiting for logs") == 2
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("text, seconds", [("5m", 300), ("30s", 30), ("90", 90), ("2h", 7200), ("0.5", 0.5)])
def test_intervals(text, seconds):
    assert parse_interval(text) == seconds


def test_bad_interval_is_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["watch", str(tmp_path), "--every", "soon"])
    assert result.exit_code == 2


def test_ctrl_c_ends_watch_with_exit_0(tmp_path):
    run = tmp_path / "run"
    writer = SummaryWriter(run)
    _write(writer, range(0, 200, 10))
    writer.close()
    report = tmp_path / "r.html"
    child = subprocess.Popen([sys.executable, "-m", "vae_report.cli", "watch", str(run), "--out", str(report),
                              "--every", "1h"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=os.environ.copy())
    deadline = time.time() + 60
    while not report.exists() and time.time() < deadline and child.poll() is None:
        time.sleep(0.1)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert "watch stopped" in out and "Traceback" not in err


def test_a_resumed_run_in_two_event_files_merges_as_a_full_read_does(tmp_path):
    run = tmp_path / "run"
    first = SummaryWriter(run, filename_suffix=".a")
    _write(first, range(0, 300, 10))
    first.close()
    cache = TailCache()
    load_run(run, tail=cache)
    time.sleep(1.1)  # the resumed process's event file is named and stamped later
    second = SummaryWriter(run, filename_suffix=".b")
    _write(second, range(200, 400, 10))  # resumed from a checkpoint at step 200
    grown = load_run(run, tail=cache)
    full = load_run(run)
    _same(grown.frame, full.frame)
    assert [r["step"] for r in grown.restarts] == [r["step"] for r in full.restarts] == [200]
    second.close()
