"""The event-file reader against values written by tensorboard's own writer, with tbparse as the oracle."""

import struct

import numpy as np
import pandas as pd
import pytest
from tbparse import SummaryReader
from writers import write_scalars

from vae_report import read_run
from vae_report.readers import load_run
from vae_report.readers.tfevents import read_event_file


def _points(n=400, tags=("train/rec_loss", "kl_loss", "Learning_Rate")):
    rng = np.random.default_rng(1)
    return [(s, t, float(rng.standard_normal() * 10.0 ** rng.integers(-6, 6))) for s in range(n) for t in tags]


def _as_frame(read):
    parts = [pd.DataFrame({"step": s, "tag": tag, "value": v, "wall_time": w})
             for tag, (s, v, w) in read.series.items()]
    return pd.concat(parts, ignore_index=True).sort_values(["step", "tag"], key=_tag_order, ignore_index=True)


def _tag_order(column):
    return column.map({"train/rec_loss": 0, "kl_loss": 1, "Learning_Rate": 2}) if column.name == "tag" else column


@pytest.mark.parametrize("form", ["simple_value", "float tensor", "double tensor"])
def test_values_read_back_equal_values_written(tmp_path, form):
    points = _points()
    path = write_scalars(tmp_path, points, tensor=form != "simple_value", double=form == "double tensor")
    got = _as_frame(read_event_file(path))
    assert len(got) == len(points)
    want = np.array([p[2] for p in points], dtype=np.float32 if form != "double tensor" else np.float64)
    assert got["step"].tolist() == [p[0] for p in points]
    assert got["tag"].tolist() == [p[1] for p in points]
    np.testing.assert_array_equal(got["value"].to_numpy(), want.astype(np.float64))
    np.testing.assert_allclose(got["wall_time"], 1.7e9 + got["step"] * 0.5)


def test_agrees_with_tbparse_point_for_point(tmp_path):
    points = _points(n=3000) + [(3000, "train/rec_loss", float("nan")), (3001, "kl_loss", float("inf"))]
    path = write_scalars(tmp_path, points)
    mine = _as_frame(read_event_file(path)).sort_values(["tag", "step"], ignore_index=True)
    oracle = SummaryReader(str(path), pivot=False, extra_columns={"wall_time"}).scalars
    oracle = oracle.sort_values(["tag", "step"], ignore_index=True)
    assert len(mine) == len(oracle) == len(points)
    assert mine["tag"].tolist() == oracle["tag"].astype(str).tolist()
    np.testing.assert_array_equal(mine["step"], oracle["step"])
    np.testing.assert_array_equal(mine["value"], oracle["value"])  # NaN == NaN here
    np.testing.assert_array_equal(mine["wall_time"], oracle["wall_time"])


def test_large_steps_and_many_tags_keep_every_point(tmp_path):
    # step varints of 1, 2, 3 and 5 bytes; tags of equal length share a record length
    steps = [0, 5, 127, 128, 300, 16_383, 16_384, 150_000, 2**31 + 7]
    points = [(s, t, float(s % 97)) for s in steps for t in ("rec_loss", "nll_loss", "d_weight", "g")]
    got = _as_frame(read_event_file(write_scalars(tmp_path, points)))
    assert sorted(zip(got["step"], got["tag"], got["value"], strict=True)) == sorted(points)


def test_resumed_run_later_file_wins_where_steps_overlap(tmp_path):
    write_scalars(tmp_path, [(s, "rec_loss", 1.0) for s in range(0, 100)], start_wall=1.7e9)
    write_scalars(tmp_path, [(s, "rec_loss", 2.0) for s in range(60, 150)], start_wall=1.8e9)
    logs = load_run(tmp_path)
    frame = logs.frame
    assert frame["step"].tolist() == list(range(150))
    assert (frame.loc[frame["step"] < 60, "value"] == 1.0).all()
    assert (frame.loc[frame["step"] >= 60, "value"] == 2.0).all()
    assert any("restarts at step 60" in note for note in logs.notes)


def test_truncated_last_record_keeps_everything_before(tmp_path):
    path = write_scalars(tmp_path, [(s, "rec_loss", float(s)) for s in range(50)])
    data = path.read_bytes()
    path.write_bytes(data[:-7])  # cut the last record short
    read = read_event_file(path)
    assert read.truncated_at is not None
    assert read.series["rec_loss"][0].tolist() == list(range(49))


def test_bad_crc_record_is_skipped_and_counted(tmp_path):
    path = write_scalars(tmp_path, [(s, "rec_loss", float(s)) for s in range(100)])
    data = bytearray(path.read_bytes())
    # walk to record 41 (the first record is the file_version event) and flip a byte of its payload
    pos = 0
    for _ in range(41):
        (length,) = struct.unpack_from("<Q", data, pos)
        pos += 16 + length
    data[pos + 12 + 3] ^= 0xFF
    path.write_bytes(bytes(data))
    read = read_event_file(path)
    assert read.bad_crc == 1
    steps = read.series["rec_loss"][0].tolist()
    assert len(steps) == 99 and 40 not in steps


def test_read_run_frame_has_canonical_columns_and_names(tmp_path):
    write_scalars(tmp_path, [(1, "train/rec_loss", 0.5), (1, "Learning_Rate", 5e-6), (1, "val/rec_loss", 0.7)])
    frame = read_run(tmp_path)
    assert list(frame.columns) == ["step", "metric", "value", "wall_time", "source"]
    assert frame["step"].dtype == np.int64 and frame["value"].dtype == np.float64
    assert sorted(frame["metric"].astype(str)) == ["lr", "rec_loss", "val/rec_loss"]


def test_wide_view_is_one_pivot_away(tmp_path):
    from vae_report.frame import wide

    write_scalars(tmp_path, [(s, "rec_loss", s / 10) for s in range(5)] + [(s, "kl_loss", s * 2.0) for s in (0, 2, 4)])
    view = wide(read_run(tmp_path))
    assert view.index.tolist() == [0, 1, 2, 3, 4]
    assert view["rec_loss"].tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4], rel=1e-6)  # float32 in the file
    assert view["kl_loss"].dropna().tolist() == [0.0, 4.0, 8.0]


def test_non_scalar_tags_are_named_not_read(tmp_path):
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(tmp_path))
    meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))
    text = summary_pb2.Summary.Value(tag="notes", metadata=meta,
                                     tensor=tensor_pb2.TensorProto(dtype=7, string_val=[b"hello"]))
    writer.add_event(event_pb2.Event(step=0, wall_time=1.0, summary=summary_pb2.Summary(value=[text])))
    for step in range(3):
        value = summary_pb2.Summary.Value(tag="rec_loss", simple_value=0.5)
        writer.add_event(event_pb2.Event(step=step, wall_time=2.0, summary=summary_pb2.Summary(value=[value])))
    writer.close()
    logs = load_run(tmp_path)
    assert sorted(logs.frame["metric"].astype(str).unique()) == ["rec_loss"]
    assert any("non-scalar tag, not metrics" in n and "notes" in n for n in logs.sources[0].notes)


def _with_image(tmp_path, points, image_at: int, image_bytes: int):
    """Scalars with one large image summary record in the middle, written by tensorboard's writer."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(tmp_path), max_queue_size=1 << 20)
    for i, (step, tag, value) in enumerate(points):
        if i == image_at:
            image = summary_pb2.Summary.Image(height=1, width=1, colorspace=3,
                                              encoded_image_string=b"\x89" * image_bytes)
            writer.add_event(event_pb2.Event(step=step, wall_time=1.0, summary=summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag="train/reconstructions", image=image)])))
        value_pb = summary_pb2.Summary.Value(tag=tag, simple_value=value)
        writer.add_event(event_pb2.Event(step=step, wall_time=1.7e9 + step, summary=summary_pb2.Summary(
            value=[value_pb])))
    writer.close()
    return next(tmp_path.glob("*tfevents*"))


@pytest.mark.parametrize("block", [97, 1000, 4096])
def test_reading_in_blocks_gives_every_point_of_the_one_block_read(tmp_path, block):
    # records cross block boundaries, an image record is longer than a block, a restart rewrites steps
    points = _points(n=600) + [(s, "kl_loss", -1.0) for s in range(500, 520)]
    path = _with_image(tmp_path, points, image_at=700, image_bytes=9000)
    whole = read_event_file(path, block=1 << 30)
    blocks = read_event_file(path, block=block)
    assert whole.records == blocks.records == len(points) + 2  # the writer's file_version record, the image
    assert blocks.non_scalar_tags == {"train/reconstructions"}
    assert (blocks.bad_crc, blocks.truncated_at, blocks.corrupt_at) == (0, None, None)
    assert len(blocks.parts) > 3 * len(whole.parts)
    a, b = whole.series, blocks.series
    assert a.keys() == b.keys()
    for tag in a:
        for x, y in zip(a[tag], b[tag], strict=True):
            np.testing.assert_array_equal(x, y)
    assert (b["kl_loss"][1][500:520] == -1.0).all()  # the later point of a step written twice


def _record_offset(data: bytes, index: int) -> int:
    pos = 0
    for _ in range(index):
        (length,) = struct.unpack_from("<Q", data, pos)
        pos += 16 + length
    return pos


def test_blocks_end_at_a_torn_tail_and_at_a_corrupt_length_field(tmp_path):
    path = write_scalars(tmp_path, [(s, "rec_loss", float(s)) for s in range(300)])
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    torn = read_event_file(path, block=256)
    assert torn.truncated_at == _record_offset(data, 300)  # the file_version record, then 299 whole ones
    assert torn.series["rec_loss"][0].tolist() == list(range(299)) and torn.corrupt_at is None
    # a length field whose CRC fails: its record is lost, the read goes on at the next header whose CRC checks
    # (the next record), whatever the block size
    broken = bytearray(data)
    pos = _record_offset(data, 151)
    broken[pos + 2] ^= 0x40
    path.write_bytes(bytes(broken))
    for block in (1 << 30, 4096, 1000):
        read = read_event_file(path, block=block)
        assert read.corrupt_at == pos and read.truncated_at is None
        assert read.gaps == [(pos, _record_offset(data, 152))]
        assert read.series["rec_loss"][0].tolist() == [s for s in range(300) if s != 150]
    # the rest of the file overwritten: nothing after the corrupt header checks, and the read ends there
    path.write_bytes(data[:pos] + bytes(len(data) - pos))
    read = read_event_file(path)
    assert read.gaps == [(pos, None)] and read.series["rec_loss"][0].tolist() == list(range(150))


@pytest.mark.parametrize("watch", [False, True])
def test_add_scalars_sub_folders_are_metrics_named_by_their_folder(tmp_path, watch):
    """SummaryWriter.add_scalars('train', {...}) writes each key to <logdir>/train_<key>/ under the tag 'train':
    each folder is one metric (train/rec_loss), and the sibling writers are neither restarts nor two processes."""
    from torch.utils.tensorboard import SummaryWriter

    from vae_report.readers.tail import TailCache

    writer = SummaryWriter(str(tmp_path))
    steps = range(0, 2000, 50)
    for step in steps:
        writer.add_scalars("train", {"rec_loss": 0.5 / (1 + step), "kl_loss": 100.0 + step}, step,
                           walltime=1.7e9 + step)
        writer.add_scalars("loss/val", {"rec": 0.25}, step, walltime=1.7e9 + step)  # a main tag with a slash
        writer.add_scalar("lr", 1e-4, step, walltime=1.7e9 + step)
    writer.close()
    assert (tmp_path / "train_rec_loss").is_dir() and (tmp_path / "loss_val_rec").is_dir()
    logs = load_run(tmp_path, tail=TailCache() if watch else None)
    frame = logs.frame
    names = set(frame["metric"].cat.categories)
    assert {"rec_loss", "kl_loss", "lr"} <= names and "train" not in names
    assert any(n.startswith("val/") and "rec" in n for n in names), names
    rec = frame[frame["metric"] == "rec_loss"].sort_values("step")
    np.testing.assert_allclose(rec["value"].to_numpy(), [0.5 / (1 + s) for s in steps], rtol=1e-6)
    kl = frame[frame["metric"] == "kl_loss"].sort_values("step")
    np.testing.assert_allclose(kl["value"].to_numpy(), [100.0 + s for s in steps], rtol=1e-6)
    assert not logs.restarts
    assert not any("two processes" in n or "restarts at step" in n for n in logs.notes), logs.notes
    text = " ".join(logs.notes + [n for s in logs.sources for n in s.notes])
    assert "train_rec_loss/ as train/rec_loss" in text


def _summary_writer_run(folder, steps=756):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    for step in range(steps):
        writer.add_scalar("rec_loss", 0.5 / (1 + step / 100), step, walltime=1.7e9 + step)
        writer.add_scalar("kl_loss", 100.0 + step / 10, step, walltime=1.7e9 + step)
    writer.close()
    return next(folder.glob("*tfevents*"))


def test_one_corrupt_record_header_loses_one_record_not_the_rest_of_the_file(tmp_path):
    """A file written by SummaryWriter, one record's length field damaged: the read was cut there (62 of 756
    points kept, the report still ok and confident); now the reader scans for the next header whose masked CRC
    checks and reads on, and the sources say where."""
    from vae_report import analyze_run

    path = _summary_writer_run(tmp_path)
    data = path.read_bytes()
    pos = _record_offset(data, 1 + 2 * 31)  # the file_version record, then rec_loss and kl_loss per step
    broken = bytearray(data)
    broken[pos + 1] ^= 0x10
    path.write_bytes(bytes(broken))
    logs = load_run(tmp_path)
    rec = logs.frame[logs.frame["metric"] == "rec_loss"]["step"].tolist()
    assert rec == [s for s in range(756) if s != 31]
    (source,) = logs.sources
    assert any("1 corrupt record header skipped to the next record whose header checks: byte "
               f"{pos:,} (read on at byte {_record_offset(data, 64):,})" in n for n in source.notes), source.notes
    assert source.unread < 0.01
    assert not any("read only in part" in r for r in analyze_run(tmp_path).confidence_reasons)


def test_a_file_read_only_in_part_lowers_the_confidence_and_says_why(tmp_path):
    from vae_report import analyze_run, render

    path = _summary_writer_run(tmp_path)
    data = path.read_bytes()
    pos = _record_offset(data, 1 + 2 * 62)
    path.write_bytes(data[:pos] + b"\xff" * (len(data) - pos))  # everything after step 62 overwritten
    a = analyze_run(tmp_path)
    assert a.metrics["rec_loss"].count == 62 and a.confidence == "low"  # no config: low already; the reason:
    assert any("read only in part" in r and "92% of it unread" in r for r in a.confidence_reasons), \
        a.confidence_reasons
    report = render.render_markdown(a)
    assert "confidence: low" in report and "read only in part" in report
