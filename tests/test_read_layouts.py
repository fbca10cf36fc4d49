"""Logs as users have them (issue 9), each written by its real writer: TestTube's metrics.csv (taming,
latent-diffusion), Lightning's CSVLogger and TensorBoardLogger with on_step/on_epoch names, W&B's chart export,
and CSVs a run is still writing."""

from __future__ import annotations

import csv
import datetime as dt
import warnings

import numpy as np
import pytest

from vae_report import analyze_run, load_run
from vae_report.frame import canonical_name
from vae_report.readers.csvlog import read_csv_log

warnings.filterwarnings("ignore", category=DeprecationWarning)


def series(frame, metric):
    part = frame[frame["metric"] == metric]
    return part["step"].to_numpy(), part["value"].to_numpy(), part["wall_time"].to_numpy()


def test_testtube_rows_without_a_step_get_the_training_step_in_effect(tmp_path, far_east):
    test_tube = pytest.importorskip("test_tube")
    exp = test_tube.Experiment(save_dir=str(tmp_path), name="testtube", version=0)
    for step in range(9, 200, 10):  # what Lightning 1.x logs through TestTubeLogger
        exp.log({"train/rec_loss_step": 1.0 / (step + 1), "aeloss_step": 5.0 + step, "global_step": step,
                 "epoch": step // 100}, global_step=step)
        if step % 100 == 99:  # validation and epoch-end rows carry no global_step column
            exp.log({"val/rec_loss": 0.5 - step / 1000, "epoch": step // 100}, global_step=step)
            exp.log({"train/rec_loss_epoch": 0.3, "aeloss_epoch": 9.0, "epoch": step // 100}, global_step=step)
    exp.save()
    logs = load_run(tmp_path)
    frame = logs.frame
    steps, values, walls = series(frame, "val/rec_loss")
    assert list(steps) == [99, 199] and np.allclose(values, [0.401, 0.301])
    assert list(series(frame, "rec_loss")[0]) == list(range(9, 200, 10))
    assert list(series(frame, "rec_loss_epoch")[0]) == [99, 199]  # kept apart from the step metric
    assert "aeloss" in set(frame["metric"]) and "global_step" not in set(frame["metric"])
    assert "epoch" not in set(frame["metric"]) and "created_at" not in set(frame["metric"])
    # created_at is test-tube's UTC date-time string: a wall time within minutes of the test, whatever the zone
    assert np.all(np.abs(series(frame, "rec_loss")[2] - dt.datetime.now().timestamp()) < 600)
    (source,) = [s for s in logs.sources if s.path.endswith("metrics.csv")]
    assert any("without a step" in n for n in source.notes)


@pytest.fixture
def far_east(monkeypatch):
    """The process in UTC+9, so that local time and UTC differ."""
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_created_at_is_utc_as_test_tube_writes_it_and_other_dates_local(tmp_path, far_east):
    for column, zone in (("created_at", dt.timezone.utc), ("datetime", None)):
        path = tmp_path / f"{column}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["global_step", "train/rec_loss", column])
            writer.writerow([0, 0.5, "2026-02-02 06:58:01.937136"])
            writer.writerow([10, 0.4, "2026-02-02 06:59:01.937136"])
        _, _, walls = series(read_csv_log(path, "m").frame, "rec_loss")
        expected = dt.datetime(2026, 2, 2, 6, 58, 1, 937136, tzinfo=zone).timestamp()  # naive: local
        assert walls[0] == pytest.approx(expected, abs=1e-3) and walls[1] - walls[0] == pytest.approx(60)


def test_testtube_autoencoder_logs_steps_only_in_its_event_files(tmp_path, far_east):
    # Lightning 1.4's TestTubeLogger: exp.log(metrics, global_step=step); the CSV row has no step, tf/ has it
    test_tube = pytest.importorskip("test_tube")
    exp = test_tube.Experiment(save_dir=str(tmp_path), name="testtube", version=0)
    exp.tag({"disc_start": 2001})
    for step in range(9, 200, 10):
        exp.log({"train/rec_loss": 1.0 / (step + 1), "epoch": step // 100}, global_step=step)
    exp.save()
    exp.close()
    logs = load_run(tmp_path)
    steps, values, walls = series(logs.frame, "rec_loss")
    assert list(steps) == list(range(9, 200, 10)) and np.allclose(values, 1.0 / (steps + 1), rtol=1e-6)
    notes = {s.path.rsplit("/", 1)[-1]: " ".join(s.notes) for s in logs.sources}
    assert "steps to the tf/ event files" in notes["metrics.csv"]
    assert "hyperparameters" in notes["meta_tags.csv"]


def test_lightning_csv_and_tensorboard_loggers_step_and_epoch_names(tmp_path):
    loggers = pytest.importorskip("pytorch_lightning.loggers")
    csv_logger = loggers.CSVLogger(str(tmp_path), name="lightning_logs")
    tb_logger = loggers.TensorBoardLogger(str(tmp_path), name="tb")
    for step in range(9, 300, 10):
        metrics = {"train/rec_loss_step": 1.0 / (step + 1), "train/quant_loss_step": 0.01, "aeloss_step": 2.0}
        csv_logger.log_metrics(metrics, step=step)
        tb_logger.log_metrics(metrics, step=step)
    csv_logger.log_metrics({"train/rec_loss_epoch": 0.1, "epoch": 0}, step=299)
    csv_logger.save()
    for logger in (csv_logger, tb_logger):
        logger.finalize("success")
    frame = load_run(tmp_path).frame
    steps, values, _ = series(frame, "rec_loss")
    assert list(steps) == list(range(9, 300, 10)) and values[0] == pytest.approx(0.1)
    assert {"quant_loss", "aeloss", "rec_loss_epoch"} <= set(frame["metric"])


@pytest.mark.parametrize("tag,name", [("train/loss/rec", "rec_loss"), ("val/loss/total", "val/total_loss"),
                                      ("train/scalars/logvar", "logvar"), ("train/{split}/disc_loss", "disc_loss"),
                                      ("val_ema/rec_loss", "val_ema/rec_loss"), ("discloss_epoch", "disc_loss_epoch"),
                                      ("discloss_step", "disc_loss"), ("eval/rec_loss", "val/rec_loss"),
                                      ("evaluation/total_loss", "val/total_loss"), ("valid/kl_loss", "val/kl_loss")])
def test_sgm_and_literal_split_names(tag, name):
    assert canonical_name(tag) == name


def test_an_eval_split_is_the_validation_split(tmp_path):
    from writers import write_scalars

    from vae_report import analyze_run

    # accelerate/diffusers-style tags: train/* every 10 steps, eval/* every 500, the eval loss climbing back
    points = [(s, "train/rec_loss", 0.1 / (1 + s / 1000)) for s in range(0, 10_000, 10)]
    points += [(s, "eval/rec_loss", 0.05 + abs(s - 4000) / 40_000) for s in range(500, 10_001, 500)]
    write_scalars(tmp_path, points)
    frame = load_run(tmp_path).frame
    assert "val/rec_loss" in set(frame["metric"]) and "eval/rec_loss" not in set(frame["metric"])
    (f,) = [f for f in analyze_run(tmp_path).findings if f.rule == "val-overfitting"]
    assert f.metric == "val/rec_loss" and f.severity == "warning", f.message


def test_a_csv_still_being_written_loses_only_its_torn_last_line(tmp_path):
    path = tmp_path / "metrics.csv"
    rows = ["step,train/rec_loss,train/total_loss"] + [f"{s},{1 / (s + 1):.6f},{400.5 + s}" for s in range(0, 600, 10)]
    path.write_bytes(("\n".join(rows) + "\n600,4").encode())  # the writer was at "600,400.5"
    read = read_csv_log(path, "m")
    steps, _, _ = series(read.frame, "total_loss")
    assert steps[-1] == 590 and any("still being written" in n for n in read.notes)


def test_rows_with_a_shifted_field_count_and_impossible_steps_are_refused_and_counted(tmp_path):
    path = tmp_path / "metrics.csv"
    with path.open("w", newline="") as handle:
        handle.write("step,rec_loss,total_loss\n")
        handle.write("0,0.5,100.0\n10,0.4,1,234.5\n20,0.3,90.0\n-5,0.2,1.0\n1e30,0.2,1.0\n30.5,0.2,1.0\n40,0.1,80.0\n")
    read = read_csv_log(path, "m")
    steps, values, _ = series(read.frame, "total_loss")
    assert list(steps) == [0, 20, 40] and list(values) == [100.0, 90.0, 80.0]
    assert any("field count" in n for n in read.notes) and any("impossible step" in n for n in read.notes)


def test_wandb_chart_export(tmp_path):
    path = tmp_path / "wandb_export.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        name = "vae-7 - train/rec_loss"
        writer.writerow(["Step", name, f"{name}__MIN", f"{name}__MAX"])
        for step in range(0, 100, 10):
            writer.writerow([step, 1 / (step + 1), 0.9 / (step + 1), 1.1 / (step + 1)])
    read = read_csv_log(path, "w")
    assert read.layout == "wandb-export" and set(read.frame["metric"]) == {"rec_loss"}
    assert series(read.frame, "rec_loss")[1][1] == pytest.approx(1 / 11)


def test_a_constant_total_steps_column_is_the_schedules_total(tmp_path):
    path = tmp_path / "parsed_log.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "total_steps", "train/rec_loss"])
        for step in range(0, 500, 10):
            writer.writerow([step, 150000, 0.5 / (1 + step / 100)])
    a = analyze_run(path)
    assert a.schedule.total_steps == 150_000 and "total_steps" not in a.metrics
    assert "total_steps column" in a.schedule.origins["total_steps"]


def test_files_without_wall_times_are_ordered_by_what_they_hold(tmp_path):
    # two CSVs with no wall time: version_10 was written after version_2 (it starts later), not before it
    for version, steps in ((2, range(0, 100, 10)), (10, range(100, 200, 10))):
        folder = tmp_path / f"version_{version}"
        folder.mkdir()
        with (folder / "metrics.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["step", "train/rec_loss"])
            writer.writerows((s, version + s / 1000) for s in steps)
    logs = load_run(tmp_path, include=[tmp_path / "version_2", tmp_path / "version_10"])
    order = [n for n in logs.notes if "merged in the order" in n][0]
    assert order.index("version_2") < order.index("version_10")
    assert len(series(logs.frame, "rec_loss")[0]) == 20  # nothing replaced: version_10 continues the run


@pytest.mark.parametrize("counter", ["total_iters", "batch"])
def test_a_csv_with_the_epoch_on_every_row_takes_its_counter_or_the_batch_across_epochs(tmp_path, counter):
    """The CSV reader's counter policy is the JSON reader's (readers/counters.py): a global counter under another
    name, or the per-epoch batch continued across epochs; the epoch repeated over rows is never the step."""
    path = tmp_path / "log.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", counter, "rec_loss"])
        for i in range(120):
            writer.writerow([i // 30, 10 * i if counter == "total_iters" else i % 30, 1.0 / (1 + i)])
    read = read_csv_log(path, "m")
    steps, values, _ = series(read.frame, "rec_loss")
    assert len(values) == 120 and list(steps) == [(10 if counter == "total_iters" else 1) * i for i in range(120)]
    assert set(read.frame["metric"]) == {"rec_loss"}


def test_a_metric_named_with_its_split_as_a_word_is_that_metric():
    """MLflow's and plain loops' ``train_d_weight``, ``val_logits_real``: the split word before a known name."""
    from vae_report.frame import canonical_name

    assert [canonical_name(n) for n in ("train_d_weight", "train_logits_real", "train_disc_factor", "val_d_weight",
                                         "train_foo", "trainer_x")] == \
        ["d_weight", "logits_real", "disc_factor", "val/d_weight", "train_foo", "trainer_x"]
