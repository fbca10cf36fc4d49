"""Logs written through a terminal library (rich's RichHandler on a forced terminal): colour codes around the
level and every number, OSC-8 links to the caller. Read as the terminal showed them, and never quoted raw."""

from __future__ import annotations

import logging
import math

import pytest
from typer.testing import CliRunner

from vae_report import load_run
from vae_report.cli import app
from vae_report.errors import InputError

rich_console = pytest.importorskip("rich.console")
rich_logging = pytest.importorskip("rich.logging")


def rich_logger(path, name: str) -> tuple[logging.Logger, object]:
    """A logger whose records go through rich as a terminal shows them (colours, highlighted numbers, links)."""
    handle = path.open("w")
    console = rich_console.Console(file=handle, force_terminal=True, width=200, color_system="256")
    logger = logging.getLogger(f"rich-{name}-{path}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(rich_logging.RichHandler(console=console, show_path=True, enable_link_path=True))
    return logger, handle


def test_colour_codes_around_numbers_and_links_are_read_through(tmp_path):
    logger, handle = rich_logger(tmp_path / "train.log", "console")
    steps = range(0, 3000, 100)
    for step in steps:
        logger.info(f"step {step}/3000 | loss: {1 / (1 + step / 500):.5f} | rec_loss: {0.5 / (1 + step / 500):.5f}"
                    f" | kl_loss: {10 + step / 1000:.3f}")
        if step % 1000 == 0:
            logger.warning("NaN check passed; grad scaler scale 65536.0")
    handle.close()
    assert "\x1b[" in (tmp_path / "train.log").read_text()  # the writer did colour the numbers
    logs = load_run(tmp_path)
    rec = logs.frame[logs.frame["metric"] == "rec_loss"]
    assert list(rec["step"]) == list(steps)
    assert rec["value"].iloc[-1] == pytest.approx(0.5 / (1 + 2900 / 500), rel=1e-4)
    # the caller's place (rich's path column, test_read_escapes.py:NN) is not a metric
    assert set(logs.frame["metric"].astype(str)) == {"loss", "rec_loss", "kl_loss"} - {"loss"} | {"total_loss"}


def test_a_radiodiff_log_through_rich_is_read_by_its_reader(tmp_path):
    logger, handle = rich_logger(tmp_path / "train.log", "radiodiff")
    for step in range(0, 2000, 100):
        values = {"train/total_loss": 1 / (1 + step / 500), "train/rec_loss": 0.5 / (1 + step / 500),
                  "train/kl_loss": 12.5 + step / 1000}
        logger.info(f"[Train Step] {step}/150000: " + "".join(f"{k}: {v:.5f}, " for k, v in values.items()))
    handle.close()
    raw = (tmp_path / "train.log").read_text()
    assert "[Train Step]" not in raw  # rich styles the brackets apart from the words
    logs = load_run(tmp_path)
    kl = logs.frame[logs.frame["metric"] == "kl_loss"]
    assert len(kl) == 20 and kl["value"].iloc[-1] == pytest.approx(12.5 + 1.9)
    assert logs.text_total_steps == 150_000  # the RadioDiff reader's own: the step/total of its lines


def test_an_unrecognised_coloured_log_is_quoted_without_escapes(tmp_path):
    logger, handle = rich_logger(tmp_path / "train.log", "words")
    for i in range(5):
        # the escapes make the line long: the message quotes its start and end, never cutting through a link
        logger.info(f"loading shard {math.pi * i:.3f} of the dataset")
    handle.close()
    with pytest.raises(InputError) as refused:  # the reader's own message, before the CLI bounds its length
        load_run(tmp_path)
    message = str(refused.value)
    assert "format was not recognised" in message and message.count("loading shard") >= 3
    assert "\x1b" not in message and "file://" not in message and ";id=" not in message
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 2 and "loading shard" in result.output and "file://" not in result.output


def _table_line(step: int) -> str:
    return (f"step {step} | total_loss {8000 / (1 + step / 500):.2f} | rec_loss {0.13 / (1 + step / 500):.6f} | "
            f"kl_loss {2000 + step:.1f}")


def test_a_caller_at_the_end_of_a_table_line_is_no_field_of_it(tmp_path):
    """eval13 a1_rich_ansi, a1_logging_caller_suffix: rich's Console.log right-aligns its caller (`train.py:3`) and
    a logging format may end in `(%(filename)s:%(lineno)d)`; after a `|`-cut table of metrics, the caller made the
    last field no name-and-number pair and the file was refused ('has only 7 step lines ... at least 3 are
    needed', of 901)."""
    rich = tmp_path / "rich"
    rich.mkdir()
    with (rich / "console.log").open("w") as handle:
        console = rich_console.Console(file=handle, force_terminal=True, width=200, color_system="256")
        for step in range(0, 3000, 100):
            console.log(_table_line(step))
    from vae_report.readers.escapes import without_escapes

    assert ".py:" in without_escapes((rich / "console.log").read_text())  # the caller column is there
    plain = tmp_path / "logging"
    plain.mkdir()
    logger = logging.getLogger(f"caller-{plain}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(plain / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(message)s (%(filename)s:%(lineno)d)"))
    logger.addHandler(handler)
    for step in range(0, 3000, 100):
        logger.info(_table_line(step))
    handler.close()
    for folder in (rich, plain):
        logs = load_run(folder)
        rec = logs.frame[logs.frame["metric"] == "rec_loss"]
        assert list(rec["step"]) == list(range(0, 3000, 100))
        assert rec["value"].iloc[-1] == pytest.approx(0.13 / (1 + 2900 / 500), abs=1e-6)  # printed to 6 decimals
        assert set(logs.frame["metric"].astype(str)) == {"total_loss", "rec_loss", "kl_loss"}

