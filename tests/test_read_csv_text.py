"""CSV (long, wide, Lightning's sparse metrics.csv, TensorBoard export) and RadioDiff's text log."""

import csv

import numpy as np
import pytest
from writers import (
    radiodiff_config,
    radiodiff_curves,
    write_lightning_metrics_csv,
    write_radiodiff_text_log,
)

from vae_report.errors import InputError
from vae_report.readers import load_run
from vae_report.readers.csvlog import read_csv_log
from vae_report.readers.textlog import read_text_log


def _series(frame, metric):
    part = frame[frame["metric"] == metric].sort_values("step")
    return part["step"].to_numpy(), part["value"].to_numpy()


def test_lightning_sparse_metrics_csv(tmp_path):
    curves = radiodiff_curves(2000, disc_start=1000, every=1)
    path = write_lightning_metrics_csv(tmp_path / "lightning_logs/version_1/metrics.csv", curves, every=10,
                                       val_every=100)
    read = read_csv_log(path, "metrics.csv")
    assert read.layout == "wide"
    steps, values = _series(read.frame, "rec_loss")
    assert steps.tolist() == list(range(9, 2001, 10))
    np.testing.assert_allclose(values, curves.values["rec_loss"][steps], rtol=1e-12)
    metrics = set(read.frame["metric"].astype(str))
    assert {"lr", "lr_disc", "aeloss", "disc_loss", "total_loss", "disc_factor", "val/rec_loss"} <= metrics
    assert "discloss" not in metrics  # the same values as train/disc_loss, one series
    assert "epoch" not in metrics
    val_steps, _ = _series(read.frame, "val/rec_loss")
    assert val_steps.tolist() == list(range(99, 2001, 100))


def test_long_csv_with_wall_time_and_nan(tmp_path):
    path = tmp_path / "scalars.csv"
    with path.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["step", "tag", "value", "wall_time"])
        for s in range(5):
            w.writerow([s, "train/kl_loss", 100 + s, 1000.0 + s])
        w.writerow([5, "train/kl_loss", "nan", 1005.0])
    read = read_csv_log(path, "scalars.csv")
    assert read.layout == "long"
    steps, values = _series(read.frame, "kl_loss")
    assert steps.tolist() == [0, 1, 2, 3, 4, 5]
    assert values[:5].tolist() == [100, 101, 102, 103, 104] and np.isnan(values[5])
    assert read.frame["wall_time"].tolist()[:2] == [1000.0, 1001.0]


def test_tensorboard_export_csv_names_metric_from_file(tmp_path):
    path = tmp_path / "run-.-tag-rec_loss.csv"
    path.write_text("Wall time,Step,Value\n1700000000.5,0,0.5\n1700000001.5,100,0.25\n")
    read = read_csv_log(path, path.name)
    assert read.layout == "tensorboard-export"
    assert _series(read.frame, "rec_loss")[1].tolist() == [0.5, 0.25]


def test_csv_without_step_column_is_an_input_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("loss,acc\n1,2\n")  # one row: a summary, not a log
    with pytest.raises(InputError, match="no step column"):
        read_csv_log(path, "bad.csv")
    with path.open("w", newline="") as handle:  # a data table beside a run: no column names a loss or a metric
        csv.writer(handle).writerows([["x", "y", "label"], *([i, i * 2, i % 3] for i in range(50))])
    with pytest.raises(InputError, match="no step column"):
        read_csv_log(path, "bad.csv")


def test_a_csv_log_without_any_counter_is_counted_by_its_rows_as_a_json_log_is(tmp_path):
    """A log printed a row at a time with no step (csv.writer in a hand-written loop): read in the rows' order,
    in the unit a JSON log without a counter has, and analysed end to end (was refused: no step column)."""
    import json

    from typer.testing import CliRunner

    from vae_report.cli import app

    rec = 0.02 + 0.1 * np.exp(-np.arange(400) / 150)
    with (tmp_path / "losses.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rec_loss", "kl_loss", "lr"])
        writer.writerows([r, 1000.0 + i, 1e-4] for i, r in enumerate(rec))
    logs = load_run(tmp_path)
    steps, values = _series(logs.frame, "rec_loss")
    assert logs.counts == "record" and steps.tolist() == list(range(400))
    np.testing.assert_allclose(values, rec)
    assert "lr" in set(logs.frame["metric"].astype(str)) and not any(
        m.startswith("\0") for m in logs.frame["metric"].astype(str))
    out, summary = tmp_path.parent / "no_step.md", tmp_path.parent / "no_step.json"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(out), "--json", str(summary)])
    assert result.exit_code == 0, result.output
    assert "record 399" in result.output and json.loads(summary.read_text())["step"] == 399
    assert "counted by its position" in out.read_text()


def test_csv_garbage_rows_and_repeated_header_are_skipped(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("step,train/rec_loss\n0,0.5\nstep,train/rec_loss\n1,oops\n2,0.25\n")
    read = read_csv_log(path, "m.csv")
    assert _series(read.frame, "rec_loss")[0].tolist() == [0, 2]
    assert read.bad_cells == 1  # the header written again is a header, not a bad row
    assert any("header is written again at line 3" in n for n in read.notes)


@pytest.mark.parametrize("new_columns", [False, True])
def test_a_resume_appending_its_header_again_is_read_as_two_launches(tmp_path, new_columns):
    # a loop's csv.DictWriter; the relaunch opens the file in append mode, writes its header again and logs from
    # its checkpoint's step (28,000) on, before the first process's last step (29,975)
    from vae_report import analyze_run

    fields = ["step", "train/rec_loss", "train/kl_loss"]
    path = tmp_path / "metrics.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows({"step": s, "train/rec_loss": 0.3 / (1 + s / 5000), "train/kl_loss": 100 + s / 1000}
                         for s in range(0, 30_000, 25))
    more = [*fields, "train/g_loss"] if new_columns else fields
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, more)
        writer.writeheader()
        writer.writerows({"step": s, "train/rec_loss": 0.3 / (1 + s / 5000), "train/kl_loss": 100 + s / 1000,
                          **({"train/g_loss": 0.1} if new_columns else {})} for s in range(28_000, 40_000, 25))
    logs = load_run(tmp_path)
    steps, _ = _series(logs.frame, "rec_loss")
    assert steps[0] == 0 and steps[-1] == 39_975 and len(steps) == 1_600
    assert [s.path for s in logs.sources] == ["metrics.csv (launch 1 of 2, from line 1)",
                                              "metrics.csv (launch 2 of 2, from line 1,202)"]
    notes = " ".join(n for s in logs.sources for n in s.notes)
    assert "header is written again at line 1,202: a resumed run appending" in notes
    assert "impossible step" not in notes and "non-numeric" not in notes
    assert ("metrics.csv holds 2 launches (its header is written 1 more time): each launch is read as a file of "
            "its own, and they are merged as the files of a resumed run are") in logs.notes
    resumes = [f for f in analyze_run(tmp_path, total_steps=40_000).findings if f.rule == "resumes"]
    assert resumes and resumes[0].step == 28_000 and resumes[0].severity in ("ok", "info"), resumes


def test_radiodiff_text_log_values_config_and_total(tmp_path):
    curves = radiodiff_curves(1000, disc_start=500, total_steps=3000)
    config = radiodiff_config(disc_start=500, total_steps=3000)
    path = write_radiodiff_text_log(tmp_path, curves, config, total_steps=3000, log_freq=100)
    read = read_text_log(path, path.name)
    assert read.config == config
    assert read.total_steps == 3000
    steps, values = _series(read.frame, "nll_loss")
    assert steps.tolist() == list(range(0, 1001, 100))
    np.testing.assert_allclose(values, curves.values["nll_loss"][steps], atol=5.1e-6)
    metrics = set(read.frame["metric"].astype(str))
    assert metrics >= {"total_loss", "disc_loss", "logits_fake", "logvar"}
    assert "lr" not in metrics  # printed with five decimals: 0.00000 after step 0
    assert read.frame["wall_time"].notna().all()


def test_console_copy_with_progress_bars_and_nan(tmp_path):
    curves = radiodiff_curves(400, disc_start=10_000)
    curves.values["kl_loss"][300] = np.nan
    curves.values["kl_loss"][400] = np.inf
    console = tmp_path / "nohup.out"
    write_radiodiff_text_log(tmp_path, curves, radiodiff_config(), 150_000, console_copy=console)
    read = read_text_log(console, console.name)
    steps, values = _series(read.frame, "kl_loss")
    assert steps.tolist() == [0, 100, 200, 300, 400]  # one point per step despite the progress-bar copies
    assert np.isnan(values[3]) and np.isinf(values[4])
    assert read.frame["wall_time"].isna().all()  # the console copy has no timestamps


def test_text_log_with_non_utf8_bytes(tmp_path):
    path = tmp_path / "run.log"
    path.write_bytes(b"\xff\xfe garbage\n2026-11-23 23:06:35,640 [Train Step] 0/300: train/rec_loss: 0.79925, \n")
    read = read_text_log(path, "run.log")
    assert _series(read.frame, "rec_loss")[1].tolist() == [0.79925]


def test_text_log_and_tensorboard_precedence(seed_run):
    folder, curves = seed_run
    logs = load_run(folder)
    frame = logs.frame
    # TensorBoard's total_loss is (AE + disc)/2 and disagrees: the text log's AE total is used
    steps, total = _series(frame, "total_loss")
    assert steps.tolist() == list(range(0, 18_301, 100))
    np.testing.assert_allclose(total, curves.values["total_loss"][steps], atol=5.1e-6)
    assert logs.metric_sources["total_loss"] == "text log"
    assert any("total_loss" in note and "disagree" in note for note in logs.notes)
    # rec_loss agrees: pooled, TensorBoard's float32 values win on shared steps
    steps, rec = _series(frame, "rec_loss")
    assert steps.tolist() == list(range(0, 18_301, 10))
    np.testing.assert_allclose(rec, curves.values["rec_loss"][steps].astype(np.float32), rtol=1e-7)
    assert logs.metric_sources["rec_loss"] == "tensorboard + text log"


def test_column_wise_and_line_by_line_text_paths_agree(tmp_path):
    curves = radiodiff_curves(3000, disc_start=1500, total_steps=3000)
    curves.values["kl_loss"][700] = np.nan
    path = write_radiodiff_text_log(tmp_path, curves, radiodiff_config(), 3000, log_freq=10)
    fast = read_text_log(path, "log").frame
    slow_path = tmp_path / "console.out"
    slow_path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # a \r forces the line-by-line path
    slow = read_text_log(slow_path, "log").frame
    assert len(fast) == len(slow) > 0
    for column in ("step", "value", "wall_time"):
        np.testing.assert_array_equal(fast[column].to_numpy(), slow[column].to_numpy())
    assert fast["metric"].astype(str).tolist() == slow["metric"].astype(str).tolist()


def test_a_line_with_a_lone_carriage_return_is_not_a_header_written_again(tmp_path):
    """A line opening with the header's first name and holding a lone \\r (a torn write) made the header check
    raise the csv module's own error; it is a bad row, counted, and the rest is read."""
    from vae_report.readers.csvlog import read_csv_log

    path = tmp_path / "metrics.csv"
    path.write_bytes(b"step,rec_loss\n0,1.0\n10,0.9\nstep\r,x\n20,0.8\n30,0.7\n")
    read = read_csv_log(path, "metrics.csv")
    assert sorted(read.frame["step"].tolist()) == [0, 10, 20, 30]


def test_csv_logs_counting_different_units_keep_the_one_holding_most_points(tmp_path):
    """A Lightning metrics.csv in steps beside a CSV without a counter (counted by its rows): one axis, the steps,
    and the other file said to be left out, whichever file is read first (each file's unit is its own)."""
    curves = radiodiff_curves(2000, disc_start=1000, every=1)
    write_lightning_metrics_csv(tmp_path / "lightning_logs/version_0/metrics.csv", curves, every=10)
    with (tmp_path / "z_batch_losses.csv").open("w", newline="") as handle:  # read after lightning_logs/
        writer = csv.writer(handle)
        writer.writerow(["batch_loss"])
        writer.writerows([[0.5 - i / 1000] for i in range(30)])
    logs = load_run(tmp_path)
    assert logs.counts == "step"
    steps, _ = _series(logs.frame, "rec_loss")
    assert steps.tolist() == list(range(9, 2001, 10))
    assert "batch_loss" not in set(logs.frame["metric"].astype(str))
    left = next(s for s in logs.sources if s.path == "z_batch_losses.csv")
    assert any("counts records while the run's other csv logs count steps" in n for n in left.notes)


def test_a_column_without_a_name_is_named_as_not_read_but_a_pandas_index_is_not(tmp_path):
    """csv.writer with a blank header cell: its values cannot be read as a metric, and the sources say so with the
    column's number (was: dropped without a word); pandas' to_csv index column under a blank header is no loss."""
    import pandas as pd

    with (tmp_path / "blank.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "rec_loss", "", "  "])
        writer.writerows([s, 1.0 / (s + 1), 2.0, 3.0] for s in range(0, 500, 10))
    read = read_csv_log(tmp_path / "blank.csv", "blank.csv")
    assert any(n.startswith("2 columns without a name in the header not read (column 3, 4)") for n in read.notes)
    frame = pd.DataFrame({"step": range(0, 500, 10), "rec_loss": [1.0 / (s + 1) for s in range(0, 500, 10)]})
    frame.to_csv(tmp_path / "indexed.csv")  # the index under a blank header
    assert not any("without a name" in n for n in read_csv_log(tmp_path / "indexed.csv", "indexed.csv").notes)


def test_a_block_of_nul_bytes_in_a_csv_is_said_as_rows_lost_not_a_misshapen_row(tmp_path):
    """eval14 a51: 4 KiB of NUL bytes over 33 rows of a metrics.csv (what a power loss leaves in a file being
    written) was "1 row whose field count does not match the header skipped (line 265: an unquoted comma in a
    value, or a cut line)"."""
    import csv

    path = tmp_path / "metrics.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["step", "rec_loss", "kl_loss"])
        writer.writerows([s, f"{0.03 + 0.3 / (1 + s / 500):.6f}", f"{800 + s / 10:.3f}"] for s in range(0, 6_000, 10))
    data = bytearray(path.read_bytes())
    data[10_000:14_096] = b"\x00" * 4_096  # zeroed in place, as the file system leaves it
    path.write_bytes(bytes(data))
    logs = load_run(tmp_path)
    notes = " ".join(n for src in logs.sources for n in src.notes)
    assert "1 block of NUL bytes where rows were, at line " in notes and "those rows are lost" in notes, notes
    assert "field count does not match" not in notes
