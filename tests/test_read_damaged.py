"""Files that are there but of which nothing decodes (random bytes under an event file's or a log's name, an event
file whose every record fails its checksum) are named each with what is wrong; "nothing logged yet" is only said of
files that hold no records (empty, an event file tensorboard's writer opened and never wrote a scalar to)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from writers import write_scalars

from vae_report import load_run
from vae_report.errors import InputError

EVENTS = "events.out.tfevents.1796400000.host.1.0"


def _garbage(path, seed: int = 31) -> None:
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, 20_000, dtype=np.uint8).tobytes())


@pytest.mark.parametrize("with_empty_writer", [False, True])
def test_random_bytes_under_log_names_are_each_named_with_what_is_wrong(tmp_path, with_empty_writer):
    _garbage(tmp_path / EVENTS)
    _garbage(tmp_path / "train.log", seed=32)
    if with_empty_writer:  # a second event file (read with the first, together) that holds no scalar yet
        write_scalars(tmp_path / "later", [])
    with pytest.raises(InputError) as caught:
        load_run(tmp_path)
    message = str(caught.value)
    assert f"{EVENTS}: not a TensorBoard event file: its first record's header fails its checksum" in message
    assert "train.log: binary data, not text" in message and "logged anything" not in message


def test_a_random_bytes_event_file_given_alone(tmp_path):
    _garbage(tmp_path / EVENTS)
    with pytest.raises(InputError, match="not a TensorBoard event file: its first record's header fails"):
        load_run(tmp_path / EVENTS)


def test_an_event_file_whose_every_record_fails_its_checksum_is_named_damaged(tmp_path):
    path = write_scalars(tmp_path, [(s, "rec_loss", float(s)) for s in range(50)])
    data = bytearray(path.read_bytes())
    pos = 0
    while pos < len(data):  # a byte of every record's payload flipped: its headers still check
        (length,) = struct.unpack_from("<Q", data, pos)
        data[pos + 12] ^= 0xFF
        pos += 16 + length
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        load_run(tmp_path)
    assert "all of its 51 records fail their data checksum" in str(caught.value)


def test_files_with_no_records_yet_still_read_as_nothing_logged(tmp_path):
    write_scalars(tmp_path, [])
    (tmp_path / "train.log").write_text("")
    with pytest.raises(InputError, match="the logs hold no scalar metrics; check that training has logged anything"):
        load_run(tmp_path)


def test_an_undecodable_event_file_beside_a_runs_logs_is_named_and_lowers_confidence(tmp_path):
    from writers import write_radiodiff_run

    from vae_report import analyze_run

    write_radiodiff_run(tmp_path, last_step=3000, tb_every=100)
    _garbage(tmp_path / EVENTS)
    analysis = analyze_run(tmp_path)
    (source,) = [s for s in analysis.sources if s.path == EVENTS]
    assert source.notes[0].startswith("not read: not a TensorBoard event file") and not source.points
    assert analysis.confidence == "low"
    assert any(f"{EVENTS} could not be read at all" in r for r in analysis.confidence_reasons)
