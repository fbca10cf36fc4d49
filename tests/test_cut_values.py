"""A value that touches a cut is not read: the 4,096-character line limit, the torn last line of a log being
written, a CSV row cut mid-field. ``0.0`` of ``0.0123456`` or the first 4,000 digits of a number would be read as
a value the trainer never logged (and a healthy run judged diverged); the point is dropped and the sources say
so."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from writers import file_logger, radiodiff_config, radiodiff_curves, write_radiodiff_text_log

from vae_report import analyze_run, load_run
from vae_report.readers.console import LINE_PREFIX


def _values(frame, metric):
    part = frame[frame["metric"] == metric]
    return dict(zip(part["step"].tolist(), part["value"].tolist(), strict=True))


def _console_log(path, steps=range(0, 600, 10), long_at=None, long_line=""):
    logger, handler = file_logger(path, "%(message)s")
    for step in steps:
        if step == long_at:
            logger.info(long_line)
        else:
            logger.info("step %d, rec_loss: %.4f, kl_loss: %.2f", step, 0.5 - step * 0.0005, 10 + step * 0.1)
    handler.close()


def test_a_number_cut_by_the_line_limit_is_not_read(tmp_path):
    head = "step 500, comment: "
    filler = "x" * (LINE_PREFIX - len(head) - len(", rec_loss: 0.0"))
    line = f"{head}{filler}, rec_loss: 0.0123456, kl_loss: 60.0"  # the limit falls after "0.0"
    assert line[LINE_PREFIX - 3:LINE_PREFIX] == "0.0" and line[LINE_PREFIX].isdigit()
    _console_log(tmp_path / "train.log", long_at=500, long_line=line)
    logs = load_run(tmp_path)
    rec = _values(logs.frame, "rec_loss")
    assert 500 not in rec and 490 in rec and 510 in rec  # was 0.0 at step 500
    (source,) = logs.sources
    assert any("longer than" in n and "cut" in n for n in source.notes), source.notes


def test_a_number_that_runs_past_the_limit_is_not_read_as_inf(tmp_path):
    _console_log(tmp_path / "train.log", long_at=10, long_line="step 10, rec_loss: " + "9" * (2 * LINE_PREFIX))
    logs = load_run(tmp_path)
    assert np.isfinite(logs.frame["value"]).all() and 10 not in _values(logs.frame, "rec_loss")
    a = analyze_run(tmp_path)
    assert a.status != "error", [f.title for f in a.findings if f.severity == "error"]


def test_a_value_ending_exactly_at_the_limit_is_still_read(tmp_path):
    head = "step 500, comment: "
    filler = "x" * (LINE_PREFIX - len(head) - len(", rec_loss: 0.0123"))
    line = f"{head}{filler}, rec_loss: 0.0123, kl_loss: 60.0"  # the limit falls on the comma after the value
    assert line[LINE_PREFIX] == ","
    _console_log(tmp_path / "train.log", long_at=500, long_line=line)
    assert _values(load_run(tmp_path).frame, "rec_loss")[500] == pytest.approx(0.0123)


def test_the_torn_last_line_of_a_console_log_is_not_read_and_is_said(tmp_path):
    _console_log(tmp_path / "train.log", steps=range(0, 610, 10))
    data = (tmp_path / "train.log").read_bytes()
    (tmp_path / "train.log").write_bytes(data[:-4])  # "... kl_loss: 70.00\n" -> "kl_loss: 70."
    logs = load_run(tmp_path)
    assert 600 not in _values(logs.frame, "kl_loss")
    assert any("no end" in n and "cut" in n for n in logs.sources[0].notes), logs.sources[0].notes


def test_the_torn_last_line_of_a_radiodiff_log_is_not_read(tmp_path):
    curves = radiodiff_curves(3000)
    path = write_radiodiff_text_log(tmp_path, curves, radiodiff_config(total_steps=5000), 5000)
    data = path.read_bytes()
    cut = data.rindex(b"train/rec_loss: ") + len(b"train/rec_loss: 0.0")  # inside step 3,000's rec_loss
    assert data[cut:cut + 1].isdigit()
    path.write_bytes(data[:cut])
    logs = load_run(tmp_path)
    text = [s for s in logs.sources if s.kind == "text log"]
    assert 3000 not in _values(logs.frame, "rec_loss") and 2900 in _values(logs.frame, "rec_loss")
    assert any("no end" in n for n in text[0].notes), text[0].notes


def _quoted_csv(path, cut_row):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(["step", "rec_loss", "kl_loss"])
        for step in range(0, 600, 10):
            row = [step, 0.5 - step * 0.0005 + 0.0000123, 10 + step * 0.1]
            if step == cut_row:
                handle.write(f"{step},{str(row[1])[:4]}\n")  # a row cut inside its rec_loss, then a newline
            else:
                writer.writerow(row)


def test_a_quoted_csv_row_cut_mid_field_is_dropped(tmp_path):
    _quoted_csv(tmp_path / "metrics.csv", 300)
    logs = load_run(tmp_path)
    assert 300 not in _values(logs.frame, "rec_loss") and 310 in _values(logs.frame, "rec_loss")
    assert any("field count" in n and "line 32" in n for n in logs.sources[0].notes), logs.sources[0].notes


def test_the_torn_last_line_of_an_mlflow_file_store_metric_is_not_read(tmp_path):
    pytest.importorskip("mlflow")
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}
    code = f"""
        import mlflow
        mlflow.set_tracking_uri({(tmp_path / "mlruns").as_uri()!r})
        with mlflow.start_run(run_name="base"):
            for step in range(0, 300, 10):
                mlflow.log_metric("rec_loss", 1 / (step + 1), step=step)
                mlflow.log_metric("kl_loss", 100.0 + step, step=step)
        """
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, check=True, timeout=240)
    (metric,) = (tmp_path / "mlruns").rglob("metrics/rec_loss")
    data = metric.read_bytes()
    assert data.endswith(b" 290\n")
    metric.write_bytes(data[:-2])  # "<ms> <value> 290" written up to "29": a step that never was
    rec = _values(load_run(tmp_path).frame, "rec_loss")
    assert 29 not in rec and 290 not in rec and 280 in rec
