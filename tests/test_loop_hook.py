"""The plain PyTorch hook: ``every(n, run_dir)`` in the bundled trainer and in a loop of the user's own."""

import json
import logging
import time

import pytest
import yaml

torch = pytest.importorskip("torch")

from test_trainer import micro_config  # noqa: E402

from trainer.main import run_training  # noqa: E402
from vae_report.hook import every  # noqa: E402


def test_bundled_trainer_writes_the_report_when_its_config_sets_report_every(tmp_path, monkeypatch):
    asked = []
    from vae_report import background

    monkeypatch.setattr(background.BackgroundReport, "request",
                        lambda self, real=background.BackgroundReport.request: (asked.append(1), real(self)))
    out = run_training(micro_config(tmp_path, report_every=4, train_num_steps=8), tmp_path / "run", quiet=True)
    summary = json.loads((tmp_path / "run.report.json").read_text())  # beside the run folder, not inside it
    assert summary["step"] == 6 and summary["total_steps"] == 8  # the final report saw the last logged step
    assert (tmp_path / "run.report.html").stat().st_size > 10_000
    assert not list(out.glob("report*"))
    assert len(asked) == 2  # at steps 4 and 8; then close() writes the final report
    assert yaml.safe_load((out / "config.yaml").read_text())["trainer"]["report_every"] == 4


def test_a_loop_of_its_own_never_waits_for_or_fails_on_the_report(tmp_path, caplog):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(tmp_path / "run")
    reporter = every(5, tmp_path / "run", out=tmp_path / "r.html", args=["--config", str(tmp_path / "missing.yaml")])
    held = []
    for step in range(30):
        writer.add_scalar("train/rec_loss", 1.0 / (step + 1), step)
        writer.flush()
        started = time.perf_counter()
        reporter.step(step)
        held.append(time.perf_counter() - started)
        if step == 10:  # the first pass under way before the loop goes on (on a loaded machine its thread can
            # start late, and all the requests then rightly become the one final pass)
            deadline = time.monotonic() + 60
            while reporter.background.passes < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
    with caplog.at_level(logging.WARNING, logger="vae_report"):
        reporter.close()
    assert max(held) < 0.05  # a request is a flag set for another thread, never an analysis in the loop
    assert reporter.background.failures == reporter.background.passes >= 2  # every pass failed, and was logged
    assert any("missing.yaml" in r.getMessage() for r in caplog.records)


def test_ranks_other_than_zero_do_nothing(tmp_path):
    reporter = every(1, tmp_path, rank=1)
    for step in range(3):
        reporter.step(step)
    reporter.close()
    assert reporter.background is None and not list(tmp_path.iterdir())


def test_options_given_as_one_string_are_split_as_a_shell_would_and_steps_are_whole(tmp_path):
    """args="--fail-on error" is two options, not one per character (was: every pass failed with "unexpected extra
    argument(s) (- - f a i l ...)", seen only in the log); n_steps 1.5 or "x" is refused naming n_steps."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(tmp_path / "run")
    for step in range(20):
        writer.add_scalar("train/rec_loss", 1.0 / (step + 1), step)
    writer.close()
    reporter = every(10, tmp_path / "run", out=tmp_path / "r.md", args="--fail-on error --kl-weight 1e-6")
    assert reporter.background.args == ["--fail-on", "error", "--kl-weight", "1e-6"]
    reporter.step(10)
    reporter.close()
    assert reporter.background.failures == 0 and (tmp_path / "r.md").is_file()
    for bad in (1.5, "x"):
        with pytest.raises(TypeError, match="n_steps"):
            every(bad, tmp_path / "run")
