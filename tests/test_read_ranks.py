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


def write_prefixed_console(path, prefixes: list[str], seeds: list[int], fmt: str = "%(asctime)s %(message)s") -> dict:
    """Every rank logging each step to one console file behind its launcher's prefix, the ranks' lines interleaved
    as they reach it; each rank's rec_loss by step."""
    loggers, clocks, handlers = [], [], []
    for rank, prefix in enumerate(prefixes):
        logger = logging.getLogger(f"rank{rank}-{path}")
        logger.handlers.clear()
        logger.propagate = False
        logger.setLevel(logging.INFO)
        handler = logging.FileHandler(path)  # appending: every rank's lines land in the one file
        handler.setFormatter(logging.Formatter(prefix + fmt))
        clock = Clock(1.7e9 + 0.002 * rank)
        handler.addFilter(clock)
        logger.addHandler(handler)
        loggers.append(logger), clocks.append(clock), handlers.append(handler)
    rngs = [np.random.default_rng(seed) for seed in seeds]
    written: dict[int, dict[int, float]] = {rank: {} for rank in range(len(prefixes))}
    for step in STEPS:
        for rank, (logger, clock, rng) in enumerate(zip(loggers, clocks, rngs, strict=True)):
            clock.step = int(step)
            rec = round(0.1 / (1 + step / 1000) * (1 + 0.03 * rng.standard_normal()), 5)
            written[rank][int(step)] = rec
            logger.info(f"step {step}: loss={rec + 0.002:.5f} rec_loss={rec:.5f} kl_loss={20 + step / 500:.3f}")
    for logger, handler in zip(loggers, handlers, strict=True):
        handler.close()
        logger.removeHandler(handler)
    return written


@pytest.mark.parametrize("prefix", ["[rank{}]:", "[default{}]:", "[{}]:", "[1,{}]<stdout>:"])
def test_ranks_prefixed_in_one_console_file_are_read_from_the_lowest(tmp_path, prefix):
    # torchrun's --tee (its default header [default0]:, [rank0]: with another role, [0]: by its template),
    # mpirun --tag-output: a script without a main-process guard logs every step once per rank
    written = write_prefixed_console(tmp_path / "console.log", [prefix.format(r) for r in range(3)], [1, 2, 3])
    logs = load_run(tmp_path)
    rec = logs.frame[logs.frame["metric"] == "rec_loss"]
    assert list(rec["step"]) == list(STEPS) and list(rec["value"]) == [written[0][int(s)] for s in STEPS]
    assert rec["wall_time"].notna().all() and not logs.restarts
    (source,) = logs.sources
    (note,) = [n for n in source.notes if "prefixed with its rank" in n]
    assert prefix.format(0) in note and "reads the lowest rank's, rank 0" in note
    assert "ranks 1 and 2's lines are 2 other ranks of the same run" in note and "agree" in note
    assert f"{2 * 3 * len(STEPS):,} points" in note
    assert not any("written twice" in n for n in source.notes)


def test_one_rank_prefixed_reads_as_without_the_prefix(tmp_path):
    # a one-process run through torchrun: every line "[default0]:", no other rank to say
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    write_prefixed_console(tmp_path / "a" / "console.log", ["[default0]:"], [1])
    write_prefixed_console(tmp_path / "b" / "console.log", [""], [1])
    prefixed, plain = load_run(tmp_path / "a"), load_run(tmp_path / "b")
    assert prefixed.frame.equals(plain.frame) and len(prefixed.frame) == 3 * len(STEPS)
    assert prefixed.sources[0].notes == plain.sources[0].notes


def test_torchrun_tee_of_radiodiff_logs(tmp_path):
    # torch's own tailer, as torchrun --tee runs it: each rank's RadioDiff log copied into one console behind
    # "[default<rank>]:", the later rank's values never the run's
    tail_log = pytest.importorskip("torch.distributed.elastic.multiprocessing.tail_log")
    from writers import radiodiff_config, radiodiff_curves, write_radiodiff_text_log

    curves = [radiodiff_curves(3000, disc_start=1501, total_steps=3000, seed=seed) for seed in (0, 1)]
    files = {r: write_radiodiff_text_log(tmp_path / f"w{r}", c, radiodiff_config(1501, total_steps=3000), 3000)
             for r, c in enumerate(curves)}
    (tmp_path / "run").mkdir()
    import time

    lines = sum(p.read_text().count("[Train Step]") for p in files.values())
    with (tmp_path / "run" / "console.log").open("w") as console:
        tailer = tail_log.TailLog("default", {r: str(p) for r, p in files.items()}, console, interval_sec=0.01)
        tailer.start()
        deadline = time.monotonic() + 30  # the tailer's threads copy as they read: stopped once all is copied
        while time.monotonic() < deadline:
            console.flush()
            if (tmp_path / "run" / "console.log").read_text().count("[Train Step]") >= lines:
                break
            time.sleep(0.02)
        tailer.stop()
    logs = load_run(tmp_path / "run")
    rec = logs.frame[logs.frame["metric"] == "rec_loss"]
    assert list(rec["step"]) == list(range(0, 3001, 100))
    assert np.allclose(rec["value"], curves[0].values["rec_loss"][::100], atol=6e-6)
    assert not logs.restarts and "[default0]:, [default1]:" in logs.sources[0].notes[-1]
