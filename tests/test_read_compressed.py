"""Gzipped logs (logrotate's train.log.gz, metrics.csv.gz, history.jsonl.gz) read as the file they hold,
without writing anything beside them; one that does not decompress is named with how to check it."""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging

import numpy as np
import pytest

from vae_report.errors import InputError
from vae_report.readers import load_run

STEPS = np.arange(0, 3000, 50)
REC = 0.035 + 0.3 * np.exp(-STEPS / 800.0)


def _text_log() -> str:
    buffer = io.StringIO()
    logger = logging.getLogger("vae-report-test-gz")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(asctime)-15s %(message)s"))
    logger.addHandler(handler)
    for s, r in zip(STEPS, REC, strict=True):
        logger.info(f"[Train Step] {s}/6000: train/rec_loss: {r:.5f}, train/kl_loss: {1e4 + s:.5f}, lr: 0.00001, ")
    logger.removeHandler(handler)
    return buffer.getvalue()


def _csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["step", "train/rec_loss"])
    writer.writerows([int(s), f"{r:.6f}"] for s, r in zip(STEPS, REC, strict=True))
    return buffer.getvalue()


def _jsonl() -> str:
    return "".join(json.dumps({"step": int(s), "rec_loss": float(r)}) + "\n" for s, r in zip(STEPS, REC, strict=True))


@pytest.mark.parametrize(("name", "text"), [("2026-01-01-00-00_.log.gz", _text_log), ("metrics.csv.gz", _csv),
                                            ("history.jsonl.gz", _jsonl)])
def test_a_gzipped_log_is_read_as_the_file_it_holds(tmp_path, name, text):
    run = tmp_path / "run"
    run.mkdir()
    with gzip.open(run / name, "wt") as handle:
        handle.write(text())
    before = sorted(p.name for p in run.iterdir())
    for root in (run, run / name):  # the folder, or the file given alone
        logs = load_run(root)
        rec = logs.frame[logs.frame["metric"] == "rec_loss"].sort_values("step")
        np.testing.assert_array_equal(rec["step"].to_numpy(), STEPS)
        np.testing.assert_allclose(rec["value"].to_numpy(), REC, atol=1e-5)
        assert [s.path for s in logs.sources] == [name]
        assert "gzip-compressed" in " ".join(logs.sources[0].notes)
    assert sorted(p.name for p in run.iterdir()) == before  # nothing written beside it


def test_a_gzip_that_does_not_decompress_is_named(tmp_path):
    data = gzip.compress(_csv().encode())
    bad = tmp_path / "metrics.csv.gz"
    bad.write_bytes(data[: len(data) // 2])  # cut mid-stream
    with pytest.raises(InputError) as caught:
        load_run(tmp_path)
    message = str(caught.value)
    assert "metrics.csv.gz" in message and "gunzip" in message and "compressed" in message


def test_a_plain_log_named_gz_is_told_to_be_renamed_not_gunzipped(tmp_path):
    """eval13 a1_gz_plaintext: 'a gzip-compressed file that does not decompress (Not a gzipped file) ... gunzip -k':
    the file is no gzip at all, and gunzip cannot read it. Its first bytes say so: rename it."""
    (tmp_path / "train.log.gz").write_text(_csv())
    with pytest.raises(InputError) as caught:
        load_run(tmp_path)
    message = str(caught.value)
    assert "not gzip-compressed" in message and "mv train.log.gz train.log" in message and "gunzip" not in message
