"""Hostile user, round 5: option files that are devices, pipes or huge; one long line in a text log; a signal
during startup; compare with nothing to compare; run files that cannot be read; a user's file as an output."""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner
from writers import file_logger

from vae_report import load_run
from vae_report.cli import app
from vae_report.inputs import OPTION_FILE_LIMIT
from vae_report.readers.console import LINE_PREFIX, sniff_text_log

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def _console_log(path: Path, steps: int = 60) -> None:
    """A trainer's console log written by python logging: ``step N, rec_loss: x, kl_loss: y``."""
    logger, handler = file_logger(path, "%(asctime)s %(levelname)s %(message)s")
    for step in range(0, steps * 10, 10):
        logger.info("step %d, rec_loss: %.4f, kl_loss: %.2f", step, 0.5 / (1 + step / 100), 100 + step / 10)
    handler.close()


def _csv_run(folder: Path, rows: int = 60) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "metrics.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "rec_loss", "kl_loss"])
        for step in range(0, rows * 10, 10):
            writer.writerow([step, 0.5 / (1 + step / 100), 100 + step / 10])
    return folder


@pytest.fixture
def run(tmp_path):
    return _csv_run(tmp_path / "run")


def _one_error_line(result, *words: str) -> str:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and "Traceback" not in result.output, result.output
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


class _FifoFeeder:
    """Opens the FIFO for writing now and then and closes it at once: a reader blocked on it (the defect) gets
    an empty file and goes on, so a regression fails the test instead of hanging it."""

    def __init__(self, path: Path) -> None:
        self.path, self.stop = path, threading.Event()
        self.thread = threading.Thread(target=self._feed, daemon=True)

    def _feed(self) -> None:
        while not self.stop.wait(0.2):
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                continue

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


@pytest.mark.parametrize("command, option", [("analyze", "--config"), ("analyze", "--thresholds"),
                                             ("analyze", "--baseline"), ("watch", "--config"),
                                             ("watch", "--thresholds"), ("compare", "--config")])
def test_an_option_file_that_is_a_pipe_is_refused_without_reading_it(run, tmp_path, command, option):
    fifo = tmp_path / "option.yaml"
    os.mkfifo(fifo)
    args = [str(run), str(run)] if command == "compare" else [str(run)]
    extra = ["--max-passes", "1"] if command == "watch" else []
    with _FifoFeeder(fifo):
        result = runner.invoke(app, [command, *args, "--out", str(tmp_path / "o.md"), option, str(fifo), *extra])
    _one_error_line(result, str(fifo), option, "not a regular file")
    assert not (tmp_path / "o.md").exists()


def test_the_trainer_config_that_is_a_pipe_is_refused_before_torch_is_asked_for(tmp_path):
    fifo = tmp_path / "tiny.yaml"
    os.mkfifo(fifo)
    with _FifoFeeder(fifo):
        result = runner.invoke(app, ["train", str(fifo), "--out", str(tmp_path / "runs")])
    _one_error_line(result, str(fifo), "trainer config is not a regular file")
    assert not (tmp_path / "runs").exists()


def test_an_option_file_over_the_size_limit_or_a_folder_is_refused(run, tmp_path):
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:  # sparse: no disk used, the size is what counts
        handle.truncate(OPTION_FILE_LIMIT + 1)
    result = runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "o.md"), "--config", str(huge)])
    _one_error_line(result, str(huge), "--config", f"{OPTION_FILE_LIMIT >> 20} MB")
    result = runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "o.md"), "--baseline", str(tmp_path)])
    _one_error_line(result, "--baseline is a folder")


def test_a_device_as_config_is_refused_not_read(run, tmp_path):
    """/dev/zero read whole filled the machine's memory: now refused before it is opened (the child is capped
    at 2 GB of address space, so a regression fails here instead of taking the machine down)."""
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    done = subprocess.run([sys.executable, "-m", "vae_report", "analyze", str(run), "--out", str(tmp_path / "o.md"),
                           "--config", str(zero)], capture_output=True, text=True, timeout=120, preexec_fn=cap,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "not a regular file" in done.stderr and str(zero) in done.stderr


def _minified_line(size: int) -> str:
    """What a long line in a log looks like: letters and digits run together (hex, base64, minified JSON)."""
    return ("x9" * (size // 2 + 1))[:size]


def test_a_single_line_of_megabytes_is_looked_at_only_to_a_prefix(tmp_path):
    dump = tmp_path / "dump.log"
    dump.write_text(_minified_line(8 << 20) + "\n")
    started = time.monotonic()
    assert sniff_text_log(dump) is None
    assert time.monotonic() - started < 20  # was CPU-bound for many minutes (quadratic in the line's length)
    run = _csv_run(tmp_path / "run")
    (run / "dump.log").write_text(_minified_line(8 << 20))
    logs = load_run(run)
    note = next(n for n in logs.notes if "dump.log" in n)
    assert f"over {LINE_PREFIX:,} characters" in note and "not read" in note


def test_a_console_log_with_one_long_line_reads_every_step_line_and_counts_the_long_one(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _console_log(run / "train.log")
    with (run / "train.log").open("a") as handle:
        handle.write("payload " + _minified_line(40_000) + "\n")
    logs = load_run(run)
    (source,) = [s for s in logs.sources if s.path.endswith("train.log")]
    assert source.points == 2 * 60 and logs.frame["step"].max() == 590  # two metrics at each of 60 steps
    assert any(f"1 line longer than {LINE_PREFIX:,} characters" in n for n in source.notes), source.notes


_SIGNAL_DURING_IMPORT = """
import importlib.abc, os, signal, sys
SENT = getattr(signal, sys.argv[1])
class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "pandas":  # the heavy imports have begun: the signal lands in their middle
            sys.meta_path.remove(self)
            os.kill(os.getpid(), SENT)
        return None
sys.meta_path.insert(0, Finder())
sys.argv = ["vae-report", "analyze", sys.argv[2], "--out", sys.argv[3]]
from vae_report.entry import main
main()
"""


@pytest.mark.parametrize("name, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_during_the_startup_imports_exits_quietly(run, tmp_path, name, code):
    done = subprocess.run([sys.executable, "-c", _SIGNAL_DURING_IMPORT, name, str(run), str(tmp_path / "o.md")],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == code and "Traceback" not in done.stderr, (done.returncode, done.stderr[-600:])
    assert not (tmp_path / "o.md").exists()


def test_the_package_imports_nothing_heavy_until_used():
    code = ("import sys, vae_report, vae_report.entry; heavy = [m for m in ('pandas', 'matplotlib', 'numpy') if m in "
            "sys.modules]; from vae_report import analyze_run, load_run; print(heavy, callable(analyze_run), "
            "callable(load_run))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "[] True True", done.stderr[-600:]


def test_compare_exits_2_when_a_path_is_missing_a_name_empty_or_the_shared_config_bad(run, tmp_path):
    out = str(tmp_path / "c.md")
    _one_error_line(runner.invoke(app, ["compare", f"a={run}", f"b={tmp_path / 'nothere'}", "--out", out]),
                    "nothere", "no such run")
    _one_error_line(runner.invoke(app, ["compare", f"={run}", f"b={run}", "--out", out]), "NAME is empty")
    _one_error_line(runner.invoke(app, ["compare", f"a={run}", "b=", "--out", out]), "PATH is empty")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    _one_error_line(runner.invoke(app, ["compare", f"a={run}", f"b={run}", "--out", out, "--config", str(empty)]),
                    str(empty))
    assert not Path(out).exists()


def test_compare_with_fewer_than_two_readable_runs_exits_2_naming_why(run, tmp_path):
    (tmp_path / "nologs").mkdir()
    out = tmp_path / "c.md"
    result = runner.invoke(app, ["compare", f"a={run}", f"b={tmp_path / 'nologs'}", "--out", str(out)])
    _one_error_line(result, "fewer than two", "b: ", "no metric logs")
    assert not out.exists()


def test_run_files_that_cannot_be_read_are_named_with_the_reason(run, tmp_path):
    os.mkfifo(run / "train.log")
    (run / "zero.csv").symlink_to("/dev/zero")
    (run / "gone.log").symlink_to(run / "nothing_here.log")
    (run / "loop.log").symlink_to(run / "loop.log")
    (run / "ignored.bin").symlink_to("/dev/zero")  # not a log's name: not a candidate, not said
    logs = load_run(run)
    notes = " | ".join(logs.notes)
    assert "train.log: not read (a named pipe" in notes
    assert "zero.csv: not read (a device, not a file (a link to /dev/zero))" in notes
    assert "gone.log: not read (a link to" in notes and "which does not exist" in notes
    assert "loop.log: not read (a link that loops)" in notes
    assert "ignored.bin" not in notes and logs.frame["step"].max() == 590


def test_messages_say_what_the_path_is(run, tmp_path):
    folder = tmp_path / "hh.json"
    folder.mkdir()
    line = _one_error_line(runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "hh.md"), "--json",
                                               str(folder)]), "--json is a folder")
    assert line.endswith(f"{folder / 'summary.json'}")
    fifo = tmp_path / "run.fifo"
    os.mkfifo(fifo)
    _one_error_line(runner.invoke(app, ["analyze", str(fifo), "--out", str(tmp_path / "o.md")]),
                    "not a folder or a log file")


def test_bare_command_is_a_usage_error_and_h_is_help(monkeypatch, capsys):
    from vae_report.cli import main

    for argv, code in ((["vae-report"], 2), (["vae-report", "-h"], 0), (["vae-report", "analyze", "-h"], 0)):
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as stopped:
            main()
        captured = capsys.readouterr()
        assert stopped.value.code == code and "Usage: vae-report" in captured.out + captured.err, argv


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_a_users_file_is_never_replaced_by_a_report_but_our_previous_report_is(run, tmp_path, suffix):
    notes, data = tmp_path / f"notes{suffix}", tmp_path / "data.json"
    notes.write_text("# my notes\n")
    data.write_text('{"mine": 1}\n')
    before = {p: _sha(p) for p in (notes, data)}
    for option, path in (("--out", notes), ("--json", data)):
        args = ["--out", str(tmp_path / f"r{suffix}")] if option == "--json" else []
        result = runner.invoke(app, ["analyze", str(run), *args, option, str(path)])
        _one_error_line(result, str(path), "exists and was not written by vae-report",
                        "choose another path or remove it first")
    assert {p: _sha(p) for p in (notes, data)} == before and not (tmp_path / f"r{suffix}").exists()
    out, summary = tmp_path / f"r{suffix}", tmp_path / "r.json"
    for _ in range(2):  # the second time, our own report and summary are replaced
        result = runner.invoke(app, ["analyze", str(run), "--out", str(out), "--json", str(summary)])
        assert result.exit_code == 0, result.output
    copy = tmp_path / f"copy{suffix}"  # a report of ours copied elsewhere is still one of ours: replaced
    copy.write_bytes(out.read_bytes())
    assert runner.invoke(app, ["analyze", str(run), "--out", str(copy)]).exit_code == 0


def test_a_terminal_that_cannot_take_the_output_is_exit_4_without_a_traceback(run, tmp_path):
    """stdout on a full device or a closed pipe (| head -0): the report is written, nothing is printed about the
    failed write, and the exit is 4 (was: a 33-line traceback and exit 1, the code --fail-on owns); a finding that
    trips --fail-on still exits 1 with its line on stderr; a closed pipe under --help is 4 too."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "vae_report", "analyze", str(run), "--out", str(tmp_path / "o.md")]
    with open("/dev/full", "w") as full:
        done = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, text=True, timeout=300, env=env)
    assert done.returncode == 4 and done.stderr == "" and (tmp_path / "o.md").is_file()
    with open("/dev/full", "w") as full:
        tripped = subprocess.run([*command[:4], str(ROOT / "examples" / "tiny_run"), "--out", str(tmp_path / "t.md"),
                                  "--disc-start", "100", "--fail-on", "warning"], stdout=full,
                                 stderr=subprocess.PIPE, text=True, timeout=300, env=env)
    assert tripped.returncode == 1 and "Traceback" not in tripped.stderr
    assert tripped.stderr.startswith("vae-report: warning: disc-inactive-after-start")
    for args in (command, [sys.executable, "-m", "vae_report", "analyze", "--help"]):
        reader, writer = os.pipe()
        os.close(reader)  # nobody reads: every write is EPIPE
        closed = subprocess.run(args, stdout=writer, stderr=subprocess.PIPE, text=True, timeout=300, env=env)
        os.close(writer)
        assert closed.returncode == 4 and "Traceback" not in closed.stderr, closed.stderr


def test_quiet_is_quiet_where_matplotlib_cannot_write_its_config_folder(run, tmp_path):
    """A read-only HOME or MPLCONFIGDIR (CI containers): matplotlib's notes about its temporary folder are not
    printed, so --quiet prints nothing (was: two lines on stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLCONFIGDIR": "/proc/no-such-folder/mpl"}
    done = subprocess.run([sys.executable, "-m", "vae_report", "analyze", str(run), "--out", str(tmp_path / "q.md"),
                           "-q"], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stderr


@pytest.mark.parametrize("jobs", ["-1", "100000"])
def test_a_number_of_jobs_no_machine_has_is_a_usage_error(run, tmp_path, jobs):
    result = CliRunner().invoke(app, ["analyze", str(run), "--out", str(tmp_path / "j.md"), "--jobs", jobs])
    assert result.exit_code == 2 and "--jobs" in result.output and not (tmp_path / "j.md").exists()
