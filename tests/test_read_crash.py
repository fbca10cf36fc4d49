"""A run that crashed: its log holds a Python traceback, written by Python's logging (``logger.exception``, as a
trainer's ``except`` block or a launcher writes it). With no step line before it, the error says the run crashed
before its first logged step and quotes the exception, not advice to write a --text-pattern."""

from __future__ import annotations

import subprocess

import pytest
from writers import file_logger, write_radiodiff_run

from vae_report import load_run
from vae_report.errors import InputError

OOM = "CUDA out of memory. Tried to allocate 2.00 GiB"


def write_crash(path, steps: int = 0, fmt: str = "%(asctime)s %(message)s", launcher: bool = False) -> None:
    """A trainer's log: ``steps`` step lines, then the exception it died of, logged with its traceback (and, with
    ``launcher``, the launcher's own error about the worker after it, as accelerate launch prints it)."""
    logger, handler = file_logger(path, fmt)
    logger.info("{'model': {'lossconfig': {'disc_start': 50001}}}")
    for step in range(steps):
        logger.info(f"step {step * 100}: loss=0.5 rec_loss=0.1 kl_loss=20")
    try:
        raise RuntimeError(OOM)
    except RuntimeError:
        logger.exception("training failed")
    if launcher:
        try:
            raise subprocess.CalledProcessError(1, ["python", "train.py"])
        except subprocess.CalledProcessError:
            logger.exception("launch failed")
    handler.close()
    logger.removeHandler(handler)


@pytest.mark.parametrize("launcher", [False, True])
def test_a_log_holding_only_a_traceback_says_the_run_crashed(tmp_path, launcher):
    write_crash(tmp_path / "train.log", launcher=launcher)
    for given in (tmp_path, tmp_path / "train.log"):
        with pytest.raises(InputError) as caught:
            load_run(given)
        message = str(caught.value)
        assert "crashed before its first logged step" in message and f"RuntimeError: {OOM}" in message
        assert "--text-pattern" not in message and "CalledProcessError" not in message


def test_a_traceback_after_too_few_step_lines_says_it_crashed_after_them(tmp_path):
    write_crash(tmp_path / "train.log", steps=2)
    with pytest.raises(InputError) as caught:
        load_run(tmp_path / "train.log")
    message = str(caught.value)
    assert "has only 2 step lines" in message and "crashed after them" in message and OOM in message


def test_a_crashed_launch_beside_a_runs_logs_is_said_as_one(tmp_path):
    write_radiodiff_run(tmp_path, last_step=3000, tb_every=100)
    write_crash(tmp_path / "relaunch.log")
    logs = load_run(tmp_path)
    (note,) = [n for n in logs.notes if n.startswith("relaunch.log")]
    assert "a launch that crashed before its first logged step" in note and OOM in note
    assert "--text-pattern" not in note


def test_a_log_whose_unknown_lines_hold_no_traceback_still_advises_a_pattern(tmp_path):
    logger, handler = file_logger(tmp_path / "train.log", "%(message)s")
    for k in range(5):
        logger.info(f"loading shard {k} of 5 from /data/radio")
    handler.close()
    logger.removeHandler(handler)
    with pytest.raises(InputError, match="--text-pattern"):
        load_run(tmp_path)


def test_a_log_that_ends_in_a_traceback_after_its_steps_is_a_run_that_crashed(tmp_path):
    """eval15 d_crash_4lines and five more: a log with step lines and then the traceback its process died of was
    "Status: ok ... Keep it running" (the crash was said only where no step line came before it). The run ended
    there: an error naming the exception, no next milestone, no ETA."""
    from vae_report import analyze_run

    write_crash(tmp_path / "train.log", steps=40)
    a = analyze_run(tmp_path)
    (end,) = [f for f in a.findings if f.rule == "run-ended"]
    assert a.status == "error" and end.severity == "error"
    assert f"RuntimeError: {OOM}: train.log ends in a Python traceback after step 3,900" in end.message, end.message
    assert a.next_milestone is None and a.ended


def test_a_traceback_the_trainer_logged_and_went_on_from_is_no_crash(tmp_path):
    from vae_report import analyze_run

    path = tmp_path / "train.log"
    write_crash(path, steps=10)
    logger, handler = file_logger(path, "%(asctime)s %(message)s")  # appended: training went on after it
    for step in range(10, 60):
        logger.info(f"step {step * 100}: loss=0.5 rec_loss=0.1 kl_loss=20")
    handler.close()
    a = analyze_run(tmp_path)
    assert not [f for f in a.findings if f.rule == "run-ended"] and a.ended is None


def test_a_log_a_launcher_ends_names_the_workers_exception_as_what_ended_the_run(tmp_path):
    # eval15 d_rank0_crash: torchrun's ChildFailedError traceback ends the log after the worker's: the crash was
    # not seen at all ("ok", next milestone), the launcher's exception matching no exception line
    from vae_report import analyze_run

    write_crash(tmp_path / "train.log", steps=40, launcher=True)
    a = analyze_run(tmp_path)
    (end,) = [f for f in a.findings if f.rule == "run-ended"]
    assert f"RuntimeError: {OOM}" in end.message and "CalledProcessError" not in end.message, end.message
