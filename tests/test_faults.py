"""Damaged and moving inputs: every reader returns a frame or raises vae-report's own error, never anything else."""

import importlib.util
import time

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from writers import (
    radiodiff_config,
    radiodiff_curves,
    write_lightning_metrics_csv,
    write_radiodiff_text_log,
    write_scalars,
)

from vae_report.errors import VaeReportError
from vae_report.readers import load_run
from vae_report.readers.csvlog import read_csv_log
from vae_report.readers.textlog import read_text_log
from vae_report.readers.tfevents import read_event_file


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("originals")
    curves = radiodiff_curves(300, disc_start=100, total_steps=1000)
    event = write_scalars(folder / "tb", [(int(s), t, float(v)) for s in range(0, 300, 7)
                                          for t, v in (("rec_loss", s / 300), ("kl_loss", s * 3.5))])
    csv = write_lightning_metrics_csv(folder / "metrics.csv", curves, every=10)
    text = write_radiodiff_text_log(folder, curves, radiodiff_config(), 1000, log_freq=20)
    return {"event": event.read_bytes(), "csv": csv.read_bytes(), "text": text.read_bytes()}


mutation = st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert", "delete"]), st.floats(0, 1),
                              st.binary(min_size=1, max_size=8)), min_size=1, max_size=6)


def mutate(data: bytes, ops) -> bytes:
    buf = bytearray(data)
    for op, where, chunk in ops:
        i = int(where * max(len(buf) - 1, 0))
        if op == "flip" and buf:
            buf[i] ^= chunk[0] or 1
        elif op == "cut":
            del buf[i:]
        elif op == "insert":
            buf[i:i] = chunk
        elif op == "delete":
            del buf[i : i + len(chunk)]
    return bytes(buf)


READERS = {
    "event": (read_event_file, "events.out.tfevents.1.host.1.0"),
    "csv": (read_csv_log, "metrics.csv"),
    "text": (read_text_log, "run.log"),
}


@pytest.mark.parametrize("kind", list(READERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=mutation)
def test_mutated_files_give_a_frame_or_our_error(tmp_path, originals, kind, ops):
    reader, name = READERS[kind]
    path = tmp_path / name
    path.write_bytes(mutate(originals[kind], ops))
    try:
        if kind == "event":
            reader(path)
        else:
            reader(path, name)
    except VaeReportError:
        pass
    # and the whole pipeline over the damaged folder: a frame or our error
    try:
        load_run(tmp_path)
    except VaeReportError:
        pass


def test_empty_and_foreign_event_files_are_reported_not_fatal(tmp_path):
    write_scalars(tmp_path, [(s, "rec_loss", 1.0) for s in range(10)])
    (tmp_path / "events.out.tfevents.0.empty.0").write_bytes(b"")
    (tmp_path / "events.out.tfevents.0.foreign.0").write_bytes(b"this is not a TFRecord file at all" * 10)
    logs = load_run(tmp_path)
    assert logs.frame["step"].tolist() == list(range(10))
    notes = {s.path: s.notes for s in logs.sources}
    assert notes["events.out.tfevents.0.empty.0"] == ["empty file, skipped"]
    assert notes["events.out.tfevents.0.foreign.0"][0].startswith("not read: not a TensorBoard event file")


def test_restart_from_step_zero_replaces_the_earlier_run(tmp_path):
    write_scalars(tmp_path, [(s, "rec_loss", 1.0) for s in range(0, 500)], start_wall=1.7e9)
    write_scalars(tmp_path, [(s, "rec_loss", 2.0) for s in range(0, 200)], start_wall=1.8e9)
    logs = load_run(tmp_path)
    assert logs.frame["step"].tolist() == list(range(200))
    assert (logs.frame["value"] == 2.0).all()
    assert any("restarts at step 0" in note and "replaces 500" in note for note in logs.notes)


WRITER = """
import sys, time
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter
writer = EventFileWriter(sys.argv[1], max_queue_size=1, flush_secs=0.01)
for step in range(4000):
    value = summary_pb2.Summary.Value(tag="rec_loss", simple_value=float(step))
    writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=[value])))
    if step % 50 == 0:
        writer.flush()
        time.sleep(0.01)
writer.close()
"""


def test_reading_while_another_process_appends(tmp_path):
    """A file still being written by another process: each read sees a prefix of complete records."""
    import subprocess
    import sys

    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)])
    seen = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            done = writer.poll() is not None
            files = list(tmp_path.glob("*tfevents*"))
            if files:
                read = read_event_file(files[0])
                steps = read.series.get("rec_loss", (np.zeros(0),))[0]
                assert steps.tolist() == list(range(len(steps)))  # a clean prefix, whatever the timing
                seen.append(len(steps))
            if done:
                break
    finally:
        writer.kill()
        writer.wait()
    assert seen[-1] == 4000 and seen == sorted(seen) and len(set(seen)) >= 2


def test_a_failure_while_writing_leaves_the_previous_report_intact(tmp_path, monkeypatch):
    from writers import write_radiodiff_run

    from vae_report import examine_run, render, writer
    from vae_report.errors import OutputError

    run = tmp_path / "run"
    write_radiodiff_run(run, last_step=400, tb_every=5)
    out = tmp_path / "report.md"
    render.write_report(examine_run(run), out)
    before = out.read_text()
    images = sorted(p.name for p in (tmp_path / "report_files").iterdir())

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer, "_swap_dir", disk_full)
    with pytest.raises(OutputError, match="No space left"):
        render.write_report(examine_run(run), out)
    assert out.read_text() == before
    assert sorted(p.name for p in (tmp_path / "report_files").iterdir()) == images
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left behind


@pytest.fixture(scope="module")
def store_originals(tmp_path_factory):
    """A W&B run file, an MLflow SQLite store, a console log and a YAML config, each written by its own writer."""
    from test_read_stores import CONFIG, _run, mlflow_sqlite_store

    folder = tmp_path_factory.mktemp("stores")
    out = {}
    if importlib.util.find_spec("wandb"):
        _run(f"""
            import wandb
            run = wandb.init(dir={str(folder / 'wb')!r}, project="vae", config={CONFIG!r})
            for step in range(0, 200, 10):
                run.log({{"train/rec_loss": 1 / (step + 1), "train/kl_loss": 100.0 + step}}, step=step)
            run.finish()
            """, folder)
        out["wandb"] = next(p for p in (folder / "wb").rglob("*.wandb") if not p.parent.is_symlink()).read_bytes()
    if importlib.util.find_spec("mlflow"):
        out["mlflow"] = mlflow_sqlite_store(folder).read_bytes()
    with (folder / "train.log").open("w") as log:
        for step in range(0, 400, 10):
            print(f"Epoch 0 | step {step} | loss: {1 / (step + 1):.5f} rec_loss: {0.5 / (step + 1):.5f} "
                  f"kl_loss: {100 + step}", file=log)
    out["console"] = (folder / "train.log").read_bytes()
    out["config"] = yaml.safe_dump(radiodiff_config(disc_start=100, total_steps=1000)).encode()
    return out


STORES = {"wandb": "run-x.wandb", "mlflow": "mlflow.db", "console": "train.log", "config": "first_radio.yaml"}


@pytest.mark.parametrize("kind", list(STORES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=mutation)
def test_mutated_stores_logs_and_configs_give_a_report_or_our_error(tmp_path, store_originals, originals, kind,
                                                                     ops):
    from vae_report import analyze_run

    if kind not in store_originals:
        pytest.skip(f"{kind} is not installed")
    (tmp_path / STORES[kind]).write_bytes(mutate(store_originals[kind], ops))
    if kind == "config":  # a damaged config beside good logs
        (tmp_path / "metrics.csv").write_bytes(originals["csv"])
    try:
        analyze_run(tmp_path)
    except VaeReportError:
        pass
