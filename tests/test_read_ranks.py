"""One log per process of a distributed run, written by Python's logging and csv.writer as each rank does: the
ranks of one run (rank 0 read, the others said), never two processes writing one folder; two unrelated runs
in one folder still are."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pytest
from writers import file_logger

from vae_report import analyze_run, load_run

STEPS = np.arange(0, 6000, 50)


class Clock(logging.Filter):
    """Each record stamped as if a step took half a second from ``start`` (the test writes in a blink)."""

    def __init__(self, start: float):
        super().__init__()
        self.start, self.step = start, 0

    def filter(self, record: logging.LogRecord) -> bool:
        record.created = self.start + 0.5 * self.step
        record.msecs = (record.created % 1) * 1000
        return True


def write_logs(folder, names: list[str], starts: list[float], seeds: list[int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, start, seed in zip(names, starts, seeds, strict=True):
        rng = np.random.default_rng(seed)
        logger, handler = file_logger(folder / name, f"%(asctime)s [{name}] %(message)s")
        clock = Clock(start)
        handler.addFilter(clock)
        for step in STEPS:
            clock.step = int(step)
            rec = 0.1 / (1 + step / 1000) * (1 + 0.03 * rng.standard_normal())
            logger.info(f"step {step}: loss={rec + 0.002:.5f} rec_loss={rec:.5f} kl_loss={20 + step / 500:.3f}")
        handler.close()
        logger.removeHandler(handler)


@pytest.mark.parametrize("pattern", ["train_rank{}.log", "log_gpu{}.txt", "worker_{}.log"])
def test_one_log_per_rank_is_one_run_read_from_rank_0(tmp_path, pattern):
    names = [pattern.format(r) for r in range(4)]
    write_logs(tmp_path, names, [1.7e9 + 0.003 * r for r in range(4)], [1, 2, 3, 4])
    logs = load_run(tmp_path)
    assert not logs.restarts
    rec = logs.frame[logs.frame["metric"] == "rec_loss"]
    assert list(rec["step"]) == list(STEPS) and set(rec["source"].astype(str)) == {names[0]}
    (note,) = [n for n in logs.notes if "other ranks of the same run" in n]
    assert "3 other ranks" in note and f"{3 * 3 * len(STEPS):,} points" in note and "agree" in note
    a = analyze_run(tmp_path)
    assert "resumes" not in {f.rule for f in a.findings if f.severity in ("warning", "error")}


def test_ranks_writing_csv_files(tmp_path):
    for rank in range(2):
        rng = np.random.default_rng(rank)
        with (tmp_path / f"metrics_rank_{rank}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["step", "wall_time", "rec_loss", "kl_loss"])
            for step in STEPS:
                writer.writerow([step, 1.7e9 + 0.5 * step + rank, 0.1 / (1 + step / 1000) + 0.001 * rng.random(), 20])
    logs = load_run(tmp_path)
    assert not logs.restarts and any("another rank of the same run" in n for n in logs.notes)
    assert set(logs.frame["source"].astype(str)) == {"metrics_rank_0.csv"}


def test_two_unrelated_runs_writing_one_folder_at_once_are_still_said(tmp_path):
    write_logs(tmp_path, ["vae_a.log", "vae_b.log"], [1.7e9, 1.7e9 + 600], [1, 2])
    logs = load_run(tmp_path)
    assert [r["concurrent"] for r in logs.restarts] == [True]
    assert not any("rank" in n for n in logs.notes)


def test_rank_named_logs_written_one_after_the_other_are_not_ranks(tmp_path):
    # a resume that happens to carry a process index in its name: the usual merge judges it
    write_logs(tmp_path, ["train_proc0.log", "train_proc1.log"], [1.7e9, 1.7e9 + 10_000], [1, 2])
    logs = load_run(tmp_path)
    assert not any("other rank" in n or "another rank" in n for n in logs.notes)
    assert logs.restarts and not logs.restarts[0]["concurrent"]


def test_one_summarywriter_per_rank(tmp_path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    for rank in range(2):
        rng = np.random.default_rng(rank)
        writer = torch_tb.SummaryWriter(str(tmp_path / "tb" / f"rank_{rank}"))
        for step in STEPS:
            writer.add_scalar("train/rec_loss", 0.1 / (1 + step / 1000) * (1 + 0.03 * rng.standard_normal()),
                              int(step), walltime=1.7e9 + 0.5 * step + rank)
        writer.close()
    logs = load_run(tmp_path)
    assert not logs.restarts and any("another rank of the same run" in n for n in logs.notes)
    assert len(logs.frame) == len(STEPS) and all("rank_0" in s for s in logs.frame["source"].astype(str))
