"""A CSV's step column that starts over at every epoch is continued across epochs; no point is dropped silently."""

import csv

import numpy as np
import pytest
from writers import write_scalars

from vae_report.readers import load_run
from vae_report.readers.csvlog import read_csv_log


def _write(path, header, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(("first", "every", "per_epoch"), [(0, 10, 100), (10, 10, 100), (0, 25, 40), (50, 50, 20)])
def test_step_restarting_every_epoch_is_continued(tmp_path, first, every, per_epoch):
    # 0..990 or 10..1000 (1-based, mmcv style): the epoch is 1,000 steps either way
    length = every * per_epoch
    rows = [(epoch, first + k * every, 1.0 / (1 + epoch * length + first + k * every))
            for epoch in range(3) for k in range(per_epoch)]
    path = _write(tmp_path / "m.csv", ["epoch", "step", "rec_loss"], rows)
    read = read_csv_log(path, "m.csv")
    part = read.frame[read.frame["metric"] == "rec_loss"]
    expected = [e * length + s for e, s, _ in rows]
    assert part["step"].tolist() == expected  # every row kept, none squashed onto the first epoch's steps
    np.testing.assert_allclose(part["value"].to_numpy(), [v for *_, v in rows])
    assert any("restarts at every epoch" in n and f"{length:,} per epoch" in n for n in read.notes)


def test_a_global_step_column_beside_a_per_epoch_one_is_the_step(tmp_path):
    rows = [(epoch, k * 10, epoch * 500 + k * 10, 0.1 * k) for epoch in range(2) for k in range(50)]
    path = _write(tmp_path / "m.csv", ["epoch", "step", "global_step", "rec_loss"], rows)
    read = read_csv_log(path, "m.csv")
    assert read.frame["step"].tolist() == [g for _, _, g, _ in rows]
    assert not any("restarts" in n for n in read.notes)


def test_a_step_written_twice_is_said_in_the_sources(tmp_path):
    # no epoch explains the repeat: the later value wins, as before, but the sources say how many gave way
    rows = [(s, 1.0) for s in range(0, 100, 10)] + [(s, 2.0) for s in range(50, 200, 10)]
    _write(tmp_path / "metrics.csv", ["step", "rec_loss"], rows)
    logs = load_run(tmp_path)
    source = next(s for s in logs.sources if s.path == "metrics.csv")
    assert any("5 points at a step the file logs again later" in n for n in source.notes), source.notes


def test_step_resets_end_to_end_keep_every_epoch(tmp_path):
    rows = [(epoch, k * 10, 0.3 if epoch < 2 else 0.9) for epoch in range(4) for k in range(100)]
    _write(tmp_path / "m.csv", ["epoch", "step", "rec_loss"], rows)
    logs = load_run(tmp_path)
    rec = logs.frame[logs.frame["metric"] == "rec_loss"]
    assert len(rec) == 400 and int(rec["step"].max()) == 3990
    assert rec[rec["step"] >= 2000]["value"].eq(0.9).all()


def test_a_step_an_event_file_writes_twice_is_said_for_one_file_and_for_many(tmp_path):
    # a loop restarted inside one SummaryWriter's file (steps 50..90 written again); a second file beside it
    points = [(s, "train/rec_loss", 1.0) for s in range(0, 100, 10)] + \
        [(s, "train/rec_loss", 2.0) for s in range(50, 200, 10)]
    write_scalars(tmp_path / "one", points)
    write_scalars(tmp_path / "two", points)
    write_scalars(tmp_path / "two", [(s, "train/kl_loss", 3.0) for s in range(0, 200, 10)], start_wall=1.8e9)
    for folder in ("one", "two"):
        logs = load_run(tmp_path / folder)
        notes = " ".join(n for s in logs.sources for n in s.notes)
        assert "5 points at a step the file logs again later" in notes, (folder, notes)


def _batch_idx_run(folder, epoch_tag: bool, second_writer: bool):
    """torch's SummaryWriter at step=batch_idx (it starts over every epoch), the clock running on; a
    discriminator's loss from epoch 3 on; rec doubles from epoch 4."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    for epoch in range(6):
        for batch in range(0, 50, 5):
            wall = 1.7e9 + (epoch * 50 + batch) * 2.0
            writer.add_scalar("train/rec_loss", 0.1 * (2 if epoch >= 4 else 1), batch, walltime=wall)
            if epoch >= 3:
                writer.add_scalar("train/disc_loss", 1.0, batch, walltime=wall)
            if epoch_tag:
                writer.add_scalar("epoch", epoch, batch, walltime=wall)
    writer.close()
    if second_writer:  # a second event file (another writer's tags): the many-files reader
        other = SummaryWriter(str(folder / "lr"))
        for epoch in range(6):
            other.add_scalar("lr", 1e-4, epoch * 50, walltime=1.7e9 + epoch * 100.0)
        other.close()


@pytest.mark.parametrize(("epoch_tag", "second_writer"), [(False, False), (True, False), (False, True)])
def test_an_event_files_step_starting_over_each_epoch_is_continued(tmp_path, epoch_tag, second_writer):
    pytest.importorskip("torch")
    _batch_idx_run(tmp_path, epoch_tag, second_writer)
    logs = load_run(tmp_path)
    rec = logs.frame[logs.frame["metric"] == "rec_loss"]
    disc = logs.frame[logs.frame["metric"] == "disc_loss"]
    assert rec["step"].tolist() == [e * 50 + b for e in range(6) for b in range(0, 50, 5)]  # no epoch dropped
    assert disc["step"].tolist() == [e * 50 + b for e in range(3, 6) for b in range(0, 50, 5)]  # on its epochs
    np.testing.assert_allclose(rec["value"].to_numpy(), np.where(rec["step"].to_numpy() >= 200, 0.2, 0.1))
    notes = [n for s in logs.sources for n in s.notes]
    assert any("starts over at every epoch" in n and "50 steps per epoch" in n for n in notes), notes
    assert not logs.restarts and logs.steps_per_epoch[0] == 50


def test_a_step_falling_back_once_in_one_event_file_still_replaces(tmp_path):
    # a run that went back to a checkpoint and wrote on into the same file: TensorBoard's rule, the later wins
    from torch.utils.tensorboard import SummaryWriter

    pytest.importorskip("torch")
    writer = SummaryWriter(str(tmp_path))
    for k, step in enumerate([*range(0, 300, 10), *range(200, 400, 10)]):
        writer.add_scalar("train/rec_loss", 1.0 if k < 30 else 2.0, step, walltime=1.7e9 + k)
    writer.close()
    rec = load_run(tmp_path).frame.query("metric == 'rec_loss'")
    assert rec["step"].tolist() == list(range(0, 400, 10)) and rec[rec["step"] >= 200]["value"].eq(2.0).all()


def _one_file(folder, steps, second_writer=False):
    """torch's SummaryWriter writing rec (the record's index + 1) at ``steps``, the clock running on; with
    ``second_writer``, another writer's lr file beside it (the reader of many event files)."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    for k, step in enumerate(steps):
        writer.add_scalar("train/rec_loss", k + 1.0, step, walltime=1.7e9 + k)
    writer.close()
    if second_writer:
        other = SummaryWriter(str(folder / "lr"))  # a writer of its own that never went back
        for k, step in enumerate(sorted(set(steps))):
            other.add_scalar("lr", 1e-4, step, walltime=1.7e9 + k)
        other.close()
    return load_run(folder)


def test_a_step_starting_over_once_for_a_second_whole_epoch_is_continued(tmp_path):
    # two epochs of step=batch_idx, no epoch tag: one fall to the start, and the second epoch ends where the first
    # did (was: read as a restart, the first epoch's points replaced by the second's)
    pytest.importorskip("torch")
    logs = _one_file(tmp_path, [b for _ in range(2) for b in range(0, 50, 5)])
    rec = logs.frame.query("metric == 'rec_loss'")
    assert rec["step"].tolist() == list(range(0, 100, 5)) and rec["value"].tolist() == list(range(1, 21))
    assert not logs.restarts and logs.steps_per_epoch[0] == 50


@pytest.mark.parametrize(("steps", "restart", "kept"), [
    ([*range(0, 300, 10), *range(0, 200, 10)], 0, list(range(0, 200, 10))),  # from scratch, stopped short
    ([*range(0, 300, 10), *range(0, 500, 10)], 0, list(range(0, 500, 10))),  # from scratch, past the old end
    ([*range(0, 300, 10), *range(205, 400, 10)], 205, [*range(0, 205, 10), *range(205, 400, 10)]),  # checkpoint
])
@pytest.mark.parametrize("second_writer", [False, True])
def test_a_resume_inside_one_event_file_is_a_resume(tmp_path, steps, restart, kept, second_writer):
    """The step falls back once, not to a whole second epoch: the later launch replaces the earlier one from
    its first step on, as TensorBoard purges the orphaned points (was: only the steps written twice replaced,
    the earlier launch's others left between them), and the resume is judged as a resume."""
    pytest.importorskip("torch")
    logs = _one_file(tmp_path, steps, second_writer)
    rec = logs.frame.query("metric == 'rec_loss'")
    assert rec["step"].tolist() == kept
    assert rec["value"].iloc[-1] == len(steps)  # the last record written, at the last step
    assert [r["step"] for r in logs.restarts] == [restart] and logs.restarts[0]["reached"] == 290
    assert [s.path.split(" (")[1] for s in logs.sources if s.kind == "tensorboard" and "lr/" not in s.path] == [
        "launch 1 of 2, from step 0)", f"launch 2 of 2, from step {restart})"]


def test_two_names_read_as_one_metric_that_differ_are_two_series_not_a_step_written_twice(tmp_path):
    """``train/rec_loss`` and ``rec_loss`` (a CSV's columns; an event file's tags, and sgm's ``train/loss/rec``
    beside ``train/rec_loss``) with other values at the same steps: both kept, the metric's own name as it,
    the other under its own name, said (was: the earlier counted as a step written twice and dropped)."""
    from torch.utils.tensorboard import SummaryWriter

    pytest.importorskip("torch")
    _write((tmp_path / "csv").mkdir() or tmp_path / "csv" / "metrics.csv", ["step", "train/rec_loss", "rec_loss"],
           [(s, 0.1, 0.2) for s in range(0, 500, 10)])
    for folder, (first, second) in {"tb": ("train/rec_loss", "rec_loss"),
                                    "sgm": ("train/loss/rec", "train/rec_loss")}.items():
        writer = SummaryWriter(str(tmp_path / folder))
        for s in range(0, 500, 10):
            writer.add_scalar(first, 0.1, s, walltime=1.7e9 + s)
            writer.add_scalar(second, 0.2, s, walltime=1.7e9 + s)
        writer.close()
    for folder, apart in {"csv": "train/rec_loss", "tb": "train/rec_loss", "sgm": "train/loss/rec"}.items():
        logs = load_run(tmp_path / folder)
        rec = logs.frame[logs.frame["metric"] == "rec_loss"]
        other = logs.frame[logs.frame["metric"] != "rec_loss"]
        assert len(rec) == 50 and rec["value"].to_numpy() == pytest.approx(0.2), folder
        assert len(other) == 50 and other["value"].to_numpy() == pytest.approx(0.1), folder
        notes = " ".join(n for s in logs.sources for n in s.notes)
        assert "written twice" not in notes.replace("not a step written twice", ""), (folder, notes)
        assert f"{apart} and" in notes and "kept apart under its own name" in notes, (folder, notes)


def test_two_names_read_as_one_metric_that_agree_are_one_series(tmp_path):
    _write(tmp_path / "metrics.csv", ["step", "train/rec_loss", "rec_loss"], [(s, 0.1, 0.1) for s in range(0, 50, 10)])
    logs = load_run(tmp_path)
    assert set(logs.frame["metric"]) == {"rec_loss"} and len(logs.frame) == 5


def test_two_names_that_differ_in_a_folder_of_event_files_are_two_series(tmp_path):
    # the reader of many event files (one per launch): the same as one file's
    from torch.utils.tensorboard import SummaryWriter

    pytest.importorskip("torch")
    for k in range(2):
        writer = SummaryWriter(str(tmp_path / f"v{k}"))
        for s in range(k * 500, k * 500 + 500, 10):
            writer.add_scalar("train/rec_loss", 0.1, s, walltime=1.7e9 + s)
            writer.add_scalar("rec_loss", 0.2, s, walltime=1.7e9 + s)
        writer.close()
    logs = load_run(tmp_path)
    counts = logs.frame.groupby("metric", observed=True)["value"].agg(["mean", "count"])
    assert counts.to_dict("index") == {"rec_loss": {"mean": pytest.approx(0.2), "count": 100},
                                       "train/rec_loss": {"mean": pytest.approx(0.1), "count": 100}}
    assert any("kept apart under its own name" in n for n in logs.notes), logs.notes


@pytest.mark.parametrize("points", [40, 600])  # a file's points looked at in Python, and with numpy's array calls
def test_a_later_event_file_that_goes_on_after_the_earlier_ones_last_step_is_a_resume(tmp_path, points):
    """Three files in written order: the second goes on after the first's last step (a resume that redid no step:
    one restart record, marked continued, naming where the first stopped); the third logs only a metric the
    second never logged (another series, no resume)."""
    from writers import write_scalars

    from vae_report.readers import load_run

    half = points // 2
    write_scalars(tmp_path, [(s, "rec_loss", 1 / (1 + s)) for s in range(half)], start_wall=1.7e9,
                  filename_suffix=".a")
    write_scalars(tmp_path, [(s, tag, 1 / (1 + s)) for s in range(half, points) for tag in ("rec_loss", "kl_loss")],
                  start_wall=1.7e9 + 3_600, filename_suffix=".b")
    write_scalars(tmp_path, [(s, "val/rec_loss", 0.5) for s in range(0, points, 10)], start_wall=1.7e9 + 7_200,
                  filename_suffix=".c")
    logs = load_run(tmp_path)
    continued = [r for r in logs.restarts if r.get("continued")]
    assert len(continued) == 1, logs.restarts
    (r,) = continued
    assert (r["step"], r["reached"]) == (half, half - 1)
    assert r["file"].endswith(".a") and r["next_file"].endswith(".b")
