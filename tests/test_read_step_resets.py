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
