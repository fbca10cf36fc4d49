"""Keras' TensorBoard callback as TF2 writes it (tensorboard's EventFileWriter, tensor summaries ``scalar_pb``):
``train/`` and ``validation/`` folders, ``epoch_*`` tags at the epoch's index, ``evaluation_*_vs_iterations``
at the optimizer step, optionally ``batch_*`` tags; and a PyTorch script's one SummaryWriter per split."""

from __future__ import annotations

import numpy as np
import pytest

from vae_report import analyze_run, load_run

pytest.importorskip("tensorboard")


def keras_logs(root, epochs: int = 30, steps_per_epoch: int = 469, batches: bool = False, collapse_at=None):
    """What ``model.fit(callbacks=[TensorBoard(log_dir, update_freq=...)])`` leaves in ``log_dir``."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.plugins.scalar.summary_v2 import scalar_pb
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    ep = np.arange(epochs)
    rec = 150 + 60 * np.exp(-ep / 8)
    kl = 6.5 - 3 * np.exp(-ep / 5)
    if collapse_at is not None:
        kl = np.where(ep >= collapse_at, 0.015, kl)
    for split in ("train", "validation"):
        writer = EventFileWriter(str(root / split), filename_suffix=".v2")
        wall = 1.7e9
        for e in range(epochs):
            if batches and split == "train":
                for b in range(0, steps_per_epoch, 50):
                    wall += 1.0
                    step = e * steps_per_epoch + b
                    writer.add_event(event_pb2.Event(wall_time=wall, step=step,
                                                     summary=scalar_pb("batch_loss", np.float32(rec[e] + kl[e]))))
            wall += 10.0 + (0.5 if split == "validation" else 0)
            values = {"epoch_loss": rec[e] + kl[e], "epoch_reconstruction_loss": rec[e], "epoch_kl_loss": kl[e]}
            if split == "validation":
                values["evaluation_loss_vs_iterations"] = rec[e] + kl[e]
            for tag, value in values.items():
                step = (e + 1) * steps_per_epoch if tag.endswith("_vs_iterations") else e
                writer.add_event(event_pb2.Event(wall_time=wall, step=step, summary=scalar_pb(tag, np.float32(value))))
        writer.close()
    return rec, kl


def test_the_keras_layout_is_one_run_counted_in_epochs_with_a_validation_split(tmp_path):
    rec, kl = keras_logs(tmp_path / "logs" / "fit" / "20260110-101500", epochs=30)
    logs = load_run(tmp_path)
    names = set(logs.frame["metric"].astype(str))
    assert {"rec_loss", "kl_loss", "total_loss", "val/rec_loss", "val/kl_loss", "val/total_loss"} <= names
    assert logs.counts == "epoch" and int(logs.frame["step"].max()) == 29  # the iteration series left out
    assert not logs.restarts  # validation/ is not a second process writing the run's folder
    train = logs.frame[logs.frame["metric"] == "rec_loss"]
    assert train["value"].to_numpy() == pytest.approx(rec, rel=1e-6)  # training's values, not validation's
    assert any("_vs_iterations left out" in n for n in logs.notes)


def test_a_keras_kl_collapse_is_reported_in_epochs(tmp_path):
    keras_logs(tmp_path / "logs", epochs=60, collapse_at=20)
    a = analyze_run(tmp_path)
    assert a.schedule.counts == "epoch" and a.step == 59
    assert "kl-collapse" in {f.rule for f in a.findings if f.severity in ("warning", "error")}
    assert "resumes" not in {f.rule for f in a.findings if f.severity in ("warning", "error")}


def test_keras_batch_series_keep_the_step_axis(tmp_path):
    keras_logs(tmp_path / "logs", epochs=6, steps_per_epoch=200, batches=True)
    logs = load_run(tmp_path)
    assert logs.counts == "step"
    total = logs.frame[logs.frame["metric"] == "total_loss"]  # batch_loss
    assert total["step"].max() == 5 * 200 + 150
    epoch = logs.frame[logs.frame["metric"] == "total_loss_epoch"]  # epoch_loss, at the epoch's last batch
    assert list(epoch["step"]) == [e * 200 + 150 for e in range(6)]
    val = logs.frame[logs.frame["metric"] == "val/total_loss"]  # evaluation_loss_vs_iterations, at its step
    assert list(val["step"]) == [(e + 1) * 200 for e in range(6)]


def test_one_summarywriter_per_split_folder_is_one_run(tmp_path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    for split, scale in (("train", 1.0), ("val", 1.1)):
        writer = torch_tb.SummaryWriter(str(tmp_path / "runs" / "exp1" / split))
        for step in range(0, 2000, 100):
            writer.add_scalar("rec_loss", scale / (1 + step / 500), step)
            writer.add_scalar("kl_loss", 10.0 + step / 1000, step)
        writer.close()
    logs = load_run(tmp_path)
    assert not logs.restarts
    val = logs.frame[logs.frame["metric"] == "val/rec_loss"]
    train = logs.frame[logs.frame["metric"] == "rec_loss"]
    assert len(val) == len(train) == 20 and val["value"].iloc[0] == pytest.approx(1.1)
    assert train["value"].iloc[0] == pytest.approx(1.0)


def test_an_unrelated_val_folder_without_train_is_not_a_split(tmp_path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    writer = torch_tb.SummaryWriter(str(tmp_path / "val"))
    for step in range(0, 500, 100):
        writer.add_scalar("rec_loss", 1.0, step)
    writer.close()
    assert set(load_run(tmp_path).frame["metric"].astype(str)) == {"rec_loss"}


def _plain_epoch_script(root, epoch_tag: bool, epochs: int = 40):
    """A plain PyTorch loop: ``writer.add_scalar(tag, value, epoch)`` once an epoch (no trainer), with a config
    giving the run's length in epochs."""
    import yaml
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(root / "runs" / "vae_exp1"))
    for e in range(epochs):
        rec = 0.02 + 0.1 * np.exp(-e / 6)
        kl = 25 - 10 * np.exp(-e / 5)
        writer.add_scalar("Loss/train", rec + 1e-3 * kl, e, walltime=1.7e9 + 60 * e)
        writer.add_scalar("Loss/val", rec * 1.04 + 1e-3 * kl, e, walltime=1.7e9 + 60 * e)
        writer.add_scalar("Recon/train", rec, e, walltime=1.7e9 + 60 * e)
        writer.add_scalar("KLD/train", kl, e, walltime=1.7e9 + 60 * e)
        if epoch_tag:
            writer.add_scalar("epoch", e, e, walltime=1.7e9 + 60 * e)
    writer.close()
    (root / "config.yaml").write_text(yaml.safe_dump({"epochs": 50, "batch_size": 64, "lr": 1e-3}))


@pytest.mark.parametrize("epoch_tag", [True, False])
def test_a_plain_script_logging_once_an_epoch_is_counted_in_epochs_and_no_trainer_is_named(tmp_path, epoch_tag):
    """Its step is the epoch's index: an epoch tag equal to the step, or validation at every step from 0. The
    unit is the epoch, the total the config's epochs, and no trainer that did not write the logs is named."""
    from vae_report.render import write_report

    _plain_epoch_script(tmp_path, epoch_tag)
    a = analyze_run(tmp_path)
    assert a.schedule.counts == "epoch" and a.schedule.total_steps == 50 and a.step == 39
    write_report(a, tmp_path.parent / f"{tmp_path.name}.md")
    report = (tmp_path.parent / f"{tmp_path.name}.md").read_text()
    assert "Current epoch**: 39 of 50" in report and "Lightning" not in report, report
