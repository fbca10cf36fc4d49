"""Logs in the shapes people publish (issue 17, classes that still failed), each written by its real writer: a
print loop as pytorch/examples and DCGAN write it, loguru and Python logging as mmengine and detectron2 format
them, tqdm bars per epoch, Keras' CSVLogger rows (the csv module, as the callback uses it), json.dumps as Hugging
Face's Trainer and mmengine dump, torch's SummaryWriter."""

from __future__ import annotations

import csv
import json
import logging
import time

import numpy as np
import pytest
from typer.testing import CliRunner
from writers import _TrainingClock, file_logger

from vae_report import analyze_run, examine_run, load_run
from vae_report.cli import app


def series(frame, metric):
    part = frame[frame["metric"] == metric]
    return part["step"].tolist(), part["value"].to_numpy(), part["wall_time"].to_numpy()


def _pytorch_examples_log(path, epochs=4, dataset=60_000, batch=128, every=10):
    """pytorch/examples' vae/main.py: ``batch_idx * len(data)`` of ``len(train_loader.dataset)``, then the
    epoch's average and the test set's loss."""
    batches = -(-dataset // batch)
    with path.open("w") as out:
        for epoch in range(1, epochs + 1):
            for batch_idx in range(0, batches, every):
                print("Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(  # noqa: UP032 (as the example)
                    epoch, batch_idx * batch, dataset, 100.0 * batch_idx / batches, 540 / (epoch + batch_idx / 469)),
                    file=out)
            print(f"====> Epoch: {epoch} Average loss: {300 / epoch:.4f}", file=out)
            print(f"====> Test set loss: {310 / epoch:.4f}", file=out)
    return batches


def test_pytorch_examples_lines_count_samples_seen_and_the_schedule_converts_with_the_batch_size(tmp_path):
    _pytorch_examples_log(tmp_path / "train.log")
    logs = load_run(tmp_path)
    steps, _, _ = series(logs.frame, "total_loss")
    assert logs.counts == "sample" and steps[:2] == [0, 1280] and steps[-1] == 3 * 60_000 + 460 * 128
    assert series(logs.frame, "val/total_loss")[1].tolist() == pytest.approx([310 / e for e in range(1, 5)])
    assert any("samples seen" in n for s in logs.sources for n in s.notes)
    (tmp_path / "config.yaml").write_text("disc_start: 2000\nkl_weight: 1.0e-6\n")
    a = analyze_run(tmp_path)
    assert a.schedule.disc_start is None and "samples seen" in a.schedule.unit_note
    (tmp_path / "config.yaml").write_text("disc_start: 2000\nkl_weight: 1.0e-6\nbatch_size: 128\n")
    assert analyze_run(tmp_path).schedule.disc_start == 2000 * 128


def test_an_epoch_beside_a_global_iteration_counts_iterations(tmp_path):
    loguru = pytest.importorskip("loguru")
    logger = loguru.logger
    logger.remove()
    sink = logger.add(tmp_path / "train.log", level="INFO")
    for epoch in range(4):  # the iteration runs on across epochs: it is the run's step, of its total
        for it in range(epoch * 500, (epoch + 1) * 500, 50):
            logger.info(f"epoch {epoch} | iter {it}/2000 | loss {0.3 / (1 + it / 500):.4f} | rec 0.2500 | kl 3.1")
        logger.info(f"epoch {epoch} done | val_rec {0.26:.4f}")
    logger.remove(sink)
    logs = load_run(tmp_path)
    steps, _, walls = series(logs.frame, "rec_loss")
    assert steps == list(range(0, 2000, 50)) and logs.text_total_steps == 2000 and np.isfinite(walls).all()
    assert series(logs.frame, "val/rec_loss_epoch")[0] == [450, 950, 1450, 1950]
    (tmp_path / "train.log").unlink()
    with (tmp_path / "gan.log").open("w") as out:  # a batch index printed once an epoch, the same each time
        for epoch in range(6):
            print(f"[Epoch {epoch}/50] [Batch 1249/1250] [D loss: {0.6 + epoch / 100:.4f}] [G loss: 0.9]", file=out)
    assert series(load_run(tmp_path).frame, "disc_loss")[0] == [1249 + 1250 * e for e in range(6)]
    (tmp_path / "gan.log").unlink()
    with (tmp_path / "vae.log").open("w") as out:  # pytorch-tutorial's VAE: a Step that starts over each epoch
        for epoch in range(5):
            for i in range(99, 600, 100):
                print("Epoch[{}/{}], Step [{}/{}], Reconst Loss: {:.4f}, KL Div: {:.4f}".format(  # noqa: UP032
                    epoch + 1, 15, i + 1, 600, 60 / (1 + epoch + i / 600), 12.0), file=out)
    logs = load_run(tmp_path)
    assert not logs.restarts and series(logs.frame, "kl_loss")[0] == [600 * e + b for e in range(5)
                                                                      for b in range(100, 601, 100)]
    assert len(series(logs.frame, "rec_loss")[0]) == 30  # "Reconst Loss", the tutorial's name
    with (tmp_path / "vae.log").open("w") as out:  # a global step beside the epoch, then a relaunch from 0
        for last in (3000, 2000):
            for step in range(0, last, 100):
                print(f"Epoch {step // 1000 + 1}/10, step {step}/10000, loss: {1 / (1 + step):.5f}", file=out)
    logs = load_run(tmp_path)
    assert [r["step"] for r in logs.restarts] == [0] and logs.text_total_steps == 10_000


def test_dcgan_brackets_continue_across_epochs_and_call_named_outputs_are_metrics(tmp_path):
    with (tmp_path / "train_out.txt").open("w") as out:
        for epoch in range(5):
            for i in range(0, 391, 50):
                print("[%d/%d][%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f\tD(x): %.4f\tD(G(z)): %.4f / %.4f"  # noqa: UP031
                      % (epoch, 25, i, 391, 1.3863, 0.6931 + i / 1e4, 0.5, 0.5, 0.5), file=out)
    logs = load_run(tmp_path)
    steps, _, _ = series(logs.frame, "disc_loss")
    assert logs.counts == "step" and steps[:3] == [0, 50, 100] and steps[-1] == 4 * 391 + 350
    assert len(series(logs.frame, "D(x)")[0]) == 40 and len(series(logs.frame, "D(G(z))")[0]) == 40
    assert series(logs.frame, "g_loss")[1][1] == pytest.approx(0.6981)


def test_mmengine_iteration_lines_with_slashed_dates_and_validation_lines(tmp_path):
    logger, handler = file_logger(tmp_path / "20260105_093012.log", "%(asctime)s - mmengine - %(levelname)s - "
                                  "%(message)s")
    handler.setFormatter(logging.Formatter("%(asctime)s - mmengine - %(levelname)s - %(message)s",
                                           "%Y/%m/%d %H:%M:%S"))
    logger.info("\n------------------------------------------------------------\nSystem environment:\n"
                "    sys.platform: linux\n    Python: 3.10.13")
    (tmp_path / "vis_data").mkdir()
    scalars = (tmp_path / "vis_data" / "scalars.json").open("w")
    for it in range(50, 1001, 50):
        loss, rec = 1 / it + 0.013, 0.3 / it + 0.0012
        logger.info(f"Iter(train) [{it:>6}/4000]  base_lr: 1.0000e-04 lr: 1.0000e-04  eta: 1 day, 10:59:28  "
                    f"time: 0.6409  data_time: 0.0059  memory: 21843  loss: {loss:.4f}  loss_rec: {rec:.4f}")
        scalars.write(json.dumps({"lr": 1e-4, "loss": loss, "loss_rec": rec, "iter": it, "step": it}) + "\n")
        if it % 500 == 0:
            logger.info("Saving checkpoint at 500 iterations")
            logger.info("Iter(val) [ 50/100]    eta: 0:00:01  time: 0.1000  data_time: 0.0100  memory: 2000")
            logger.info(f"Iter(val) [100/100]    psnr: {20 + it / 100:.4f}  ssim: 0.8000  data_time: 0.0100")
    handler.close()
    scalars.close()
    logs = load_run(tmp_path)
    steps, _, walls = series(logs.frame, "rec_loss")
    assert steps == list(range(50, 1001, 50)) and logs.text_total_steps == 4000 and np.isfinite(walls).all()
    assert not [n for n in logs.notes if "disagree" in n], logs.notes  # {:.4f} of the same values
    assert series(logs.frame, "val/psnr")[0] == [500, 1000] and not logs.restarts
    assert not {"memory", "time", "data_time"} & set(logs.frame["metric"])


def test_detectron2_log_and_metrics_json_agree_and_the_stamps_time_the_run(tmp_path):
    out = tmp_path / "output"
    out.mkdir()
    logger, handler = file_logger(out / "log.txt", "")
    handler.setFormatter(logging.Formatter("[%(asctime)s d2.utils.events]: %(message)s", "%m/%d %H:%M:%S"))
    clock = _TrainingClock(time.time() - 3600, 0.25)  # the 0.25 s an iteration takes, not the test's blink
    logger.addFilter(clock)
    with (out / "metrics.json").open("w") as metrics:
        for it in range(19, 2000, 20):
            clock.step = it
            values = {"total_loss": 0.09 + 0.05 / (1 + it / 200) + 1e-5 * (it % 7), "loss_rec": 0.08 + 1e-6 * it,
                      "perplexity": 80 + it / 37}
            metrics.write(json.dumps({"data_time": 0.0027, "iteration": it, "lr": 0.0002, "time": 0.2574,
                                      **values}) + "\n")
            # detectron2's CommonMetricPrinter: "{:.4g}" per value, after an eta and the iteration
            logger.info(f" eta: 1:23:15  iter: {it}  " + "  ".join(f"{k}: {v:.4g}" for k, v in values.items())
                        + "  time: 0.2574  last_time: 0.2574  data_time: 0.0027  last_data_time: 0.0027   lr: 0.0002"
                          "  max_mem: 9012M")
    handler.close()
    (out / "config.yaml").write_text("SOLVER:\n  BASE_LR: 0.0002\n  IMS_PER_BATCH: 64\n")
    logs = load_run(tmp_path)
    assert not [n for n in logs.notes if "disagree" in n], logs.notes
    _, _, walls = series(logs.frame, "total_loss")
    assert np.isfinite(walls).all() and (np.diff(walls) >= 0).all()
    assert not {"last_time", "time", "max_mem"} & set(logs.frame["metric"])
    assert any("output/config.yaml read as a config, not used" in n for n in analyze_run(tmp_path).merge_notes)
    text = tmp_path / "r.md"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(text)])
    assert result.exit_code == 0, result.output
    report = text.read_text()
    assert "too few timed points" not in report and "output/config.yaml read as a config, not used" in report


def test_keras_csvlogger_history_is_counted_in_epochs(tmp_path):
    # keras.callbacks.CSVLogger: csv.DictWriter, fieldnames ["epoch"] + sorted(logs), one row per epoch
    with (tmp_path / "history.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["epoch", "kl_loss", "loss", "reconstruction_loss", "val_loss"])
        writer.writeheader()
        for epoch in range(40):
            kl = 6.0 + epoch * 0.05 if epoch < 15 else 0.01 + 0.001 * (epoch % 3)
            rec = 200 / (1 + epoch / 10)
            writer.writerow({"epoch": epoch, "kl_loss": kl, "loss": rec + kl, "reconstruction_loss": rec,
                             "val_loss": rec * 1.05 + kl})
    (tmp_path / "vae_config.json").write_text(json.dumps({"latent_dim": 2, "kl_weight": 1.0, "epochs": 40}))
    logs = load_run(tmp_path)
    assert logs.counts == "epoch" and series(logs.frame, "kl_loss")[0] == list(range(40))
    assert any("one row per epoch" in n for s in logs.sources for n in s.notes)
    a = analyze_run(tmp_path)
    assert a.schedule.counts == "epoch" and a.schedule.total_steps == 40 and a.step == 39
    with (tmp_path / "history.csv").open("w", newline="") as handle:  # an epoch per batch row is no counter
        writer = csv.writer(handle)
        writer.writerow(["epoch", "loss"])
        writer.writerows([[e, 1.0 - 0.1 * i] for i, e in enumerate((0, 0, 0, 1, 1, 1))])
    logs = load_run(tmp_path)  # the rows' order counts them, as a JSON log without a counter
    assert logs.counts == "record" and series(logs.frame, "total_loss")[0] == list(range(6))


@pytest.mark.parametrize("name", ["training.log", "metrics.txt", "progress"])
def test_a_csvlogger_file_under_any_name_is_read_as_csv(tmp_path, name):
    # keras.callbacks.CSVLogger(filename) writes wherever it is told; Keras' docs use 'training.log'
    with (tmp_path / name).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["epoch", "kl_loss", "loss", "reconstruction_loss", "val_loss"])
        writer.writeheader()
        for epoch in range(30):
            rec = 200 / (1 + epoch / 10)
            writer.writerow({"epoch": epoch, "kl_loss": 6.0, "loss": rec + 6.0, "reconstruction_loss": rec,
                             "val_loss": rec * 1.05 + 6.0})
    # beside it: a python logging text log whose lines hold commas, and a data table, neither a CSV log
    logger, handler = file_logger(tmp_path / "events.log", "%(asctime)s %(levelname)s %(message)s")
    for step in range(0, 600, 100):
        logger.info(f"resumed, step {step}, note: a, b, c")
    handler.close()
    with (tmp_path / "index.txt").open("w", newline="") as handle:
        csv.writer(handle).writerows([["filename", "label"], *[[f"img_{i}.png", i % 3] for i in range(10)]])
    logs = load_run(tmp_path)
    csv_sources = [s for s in logs.sources if s.kind == "csv"]
    assert [s.path for s in csv_sources] == [name] and logs.counts == "epoch"
    steps, values, _ = series(logs.frame, "rec_loss")
    assert steps == list(range(30)) and values[-1] == pytest.approx(200 / (1 + 29 / 10))


def test_progress_bars_per_epoch_with_summary_lines_stay_in_epochs(tmp_path):
    tqdm = pytest.importorskip("tqdm")
    with (tmp_path / "train_log.txt").open("w") as out:
        for epoch in range(1, 31):
            bar = tqdm.tqdm(range(300), file=out, mininterval=0, miniters=25, desc=f"Epoch {epoch}/30 [Training]")
            for _ in bar:
                bar.set_postfix(loss=f"{0.08 / (1 + epoch / 10):.4f}", kld=f"{30 + epoch / 7:.2f}", refresh=False)
            for _ in tqdm.tqdm(range(40), file=out, mininterval=0, miniters=10, desc=f"Epoch {epoch}/30 [Validation]"):
                pass
            val = 0.07 / (1 + epoch / 10)
            print(f"Epoch {epoch}: train_loss={0.08 / (1 + epoch / 10):.5f}  val_loss={val:.5f}  best_val={val:.5f}",
                  file=out)
    logs = load_run(tmp_path)
    assert logs.counts == "epoch" and logs.text_total_steps == 30
    steps, values, _ = series(logs.frame, "val/total_loss")  # the summary line's values, at its epoch
    assert steps == list(range(1, 31)) and values[0] == pytest.approx(0.07 / 1.1, abs=1e-5)
    assert not [m for m in logs.frame["metric"].unique() if "best" in str(m) or str(m).endswith("_epoch")]
    a = analyze_run(tmp_path)
    assert a.step == 30 and a.step <= a.schedule.total_steps


def test_a_bar_total_below_the_step_is_not_the_run_total(tmp_path):
    with (tmp_path / "train.log").open("w") as out:  # "step" of a per-epoch count whose N is one epoch's batches
        for step in range(0, 3000, 25):
            print(f"step {step}/500 loss: {1 / (1 + step):.5f}", file=out)
    logs = load_run(tmp_path)
    assert logs.text_total_steps is None
    assert any("not the run's total" in n for s in logs.sources for n in s.notes)
    (tmp_path / "train.log").unlink()
    with (tmp_path / "metrics.csv").open("w", newline="") as handle:  # a parsed log's constant total column
        writer = csv.writer(handle)
        writer.writerow(["step", "total_steps", "rec_loss"])
        writer.writerows([[step, 1000, 1 / (1 + step)] for step in range(0, 3000, 25)])
    logs = load_run(tmp_path)
    assert logs.text_total_steps is None and any("not the run's total" in n for n in logs.notes)
    assert analyze_run(tmp_path).schedule.total_steps is None


def test_tags_with_the_split_as_a_suffix_are_the_terms_they_name(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "BN_0.01"))
    rng = np.random.default_rng(0)
    for step in range(0, 3000, 50):
        rec = 0.5 * np.exp(-step / 800) + 0.05 + 0.005 * rng.random()
        kld = 20 + 10 * (1 - np.exp(-step / 500)) + 0.1 * rng.random()
        writer.add_scalar("Recon/train", rec, step)
        writer.add_scalar("KLD/train", kld, step)
        writer.add_scalar("Loss/train", rec + 1e-3 * kld, step)
        writer.add_scalar("Loss/test", 1.05 * rec + 1e-3 * kld, step)
    writer.close()
    examined = examine_run(tmp_path / "BN_0.01")
    a, names = examined.analysis, set(examined.frame["metric"])
    assert {"rec_loss", "kl_loss", "total_loss", "val/total_loss"} <= names
    assert not [f for f in a.findings if f.rule == "losses-unknown" and f.severity != "ok"]


def test_a_file_repeating_another_logs_values_is_a_copy_not_a_restart(tmp_path):
    history = [{"epoch": s / 1000, "step": s, "loss": 0.5 / (1 + s / 500), "learning_rate": 5e-5 * min(1, s / 500),
                "grad_norm": 1.0 + (s % 7) / 10} for s in range(50, 3001, 50)]
    hf = tmp_path / "hf"
    for saved in (1000, 2000, 3000):  # Trainer._save_checkpoint: the state so far, then the final one
        (hf / f"checkpoint-{saved}").mkdir(parents=True)
        (hf / f"checkpoint-{saved}" / "trainer_state.json").write_text(json.dumps(
            {"global_step": saved, "max_steps": 3000, "log_history": [h for h in history if h["step"] <= saved]},
            indent=2))
    (hf / "trainer_state.json").write_text(json.dumps(
        {"global_step": 3000, "max_steps": 3000, "log_history": [*history, {"train_runtime": 99.0, "step": 3000}]}))
    logs = load_run(hf)
    assert not logs.restarts and series(logs.frame, "total_loss")[0] == list(range(50, 3001, 50))
    assert sum("a copy of the same log (not a restart), read once" in n for n in logs.notes) == 3
    mm = tmp_path / "mm" / "20260105_093012" / "vis_data"  # mmengine: the same scalars in two files
    mm.mkdir(parents=True)
    for name in ("20260105_093012.json", "scalars.json"):
        with (mm / name).open("w") as out:
            for it in range(50, 2001, 50):
                out.write(json.dumps({"lr": 1e-4, "loss": 1 / it + (it % 3) / 1e3, "iter": it, "step": it}) + "\n")
    a = analyze_run(tmp_path / "mm")
    assert not load_run(tmp_path / "mm").restarts
    assert not [f for f in a.findings if f.rule == "resumes" and f.severity != "ok"]
    with (mm / "scalars.json").open("a") as out:  # a file with a point of its own is no copy
        out.write(json.dumps({"lr": 1e-4, "loss": 0.5, "iter": 2050, "step": 2050}) + "\n")
    with (mm / "20260105_093012.json").open("w") as out:
        for it in range(50, 2001, 50):
            out.write(json.dumps({"lr": 1e-4, "loss": 2 / it, "iter": it, "step": it}) + "\n")
    assert not [n for n in load_run(tmp_path / "mm").notes if "a copy" in n]
    import shutil

    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "tb" / "run"))  # an event file and a backup of it beside
    for step in range(0, 500, 10):
        writer.add_scalar("rec_loss", 0.5 / (1 + step / 100), step)
        writer.add_scalar("kl_loss", 50 + step / 10, step)
    writer.close()
    shutil.copytree(tmp_path / "tb" / "run", tmp_path / "tb" / "backup")
    logs = load_run(tmp_path / "tb")
    assert not logs.restarts and series(logs.frame, "rec_loss")[0] == list(range(0, 500, 10))
    assert sum("a copy" in n for n in logs.notes) == 1


def test_a_folder_it_cannot_read_is_described_with_what_to_do(tmp_path):
    (tmp_path / "train.log").write_text("it=12 loss is now 0.5\nit=13 loss is now 0.4\nit=14 loss is now 0.3\n"
                                        "it=15 loss is now 0.2\n")
    (tmp_path / "notes.md").write_text("a run\n")
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 2
    assert "train.log" in result.output and "it=12 loss is now 0.5" in result.output
    assert "--text-pattern" in result.output and "pass the folder the trainer writes to" not in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(app, ["analyze", str(empty), "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 2 and "holds no files" in result.output


def test_a_record_over_several_lines_keeps_the_split_its_keys_name(tmp_path):
    with (tmp_path / "output.txt").open("w") as out:
        for epoch in range(1, 21):
            print(f"Epoch {epoch}\n  train/rec_loss: {0.05 / epoch:.5f}\n  train/kl_loss: {86 + epoch / 10:.3f}\n"
                  f"  val/rec_loss: {0.06 / epoch:.5f}\n  time: 180.4s\n" + "-" * 30, file=out)
    logs = load_run(tmp_path)
    assert sorted(logs.frame["metric"].unique()) == ["kl_loss", "rec_loss", "val/rec_loss"]
    assert series(logs.frame, "val/rec_loss")[0] == list(range(1, 21)) and logs.counts == "epoch"


def test_clocks_counts_and_running_bests_beside_the_values_are_not_metrics(tmp_path):
    with (tmp_path / "train.log").open("w") as out:  # the TensorFlow CVAE tutorial's print, and others
        for epoch in range(1, 11):
            print(f"Epoch: {epoch}, Test set ELBO: {-156.4 + epoch:.4f}, time elapse for current epoch: 3.2", file=out)
            print(f"  rec_loss: {0.3 / epoch:.4f}  iter_time: 0.25  best_rec: {0.3 / epoch:.4f}  memory: 2048",
                  file=out)
    logs = load_run(tmp_path)
    assert sorted(logs.frame["metric"].unique()) == ["Test_set_ELBO", "rec_loss"] and logs.counts == "epoch"


def test_a_radiodiff_log_holding_only_its_config_record_gives_the_schedule(tmp_path):
    """eval14 a14: event files beside a RadioDiff .log whose launch logged no step line (only the config record it
    writes first): "not read (no step lines recognised ...)", then "Confidence: low (no training config was
    found)" and no total. The config record is the run's schedule."""
    from writers import radiodiff_config, radiodiff_curves, radiodiff_tb_points, write_scalars

    curves = radiodiff_curves(4_000, disc_start=3_001, total_steps=6_000)
    write_scalars(tmp_path, radiodiff_tb_points(curves, 10))
    # RadioDiff's create_logger, and the config it logs first: the launch logged nothing after it
    logger, handler = file_logger(tmp_path / "2026-12-01-10-00_.log", "%(asctime)-15s %(message)s")
    logger.info(radiodiff_config(disc_start=3_001, total_steps=6_000))
    handler.close()
    logger.removeHandler(handler)
    a = analyze_run(tmp_path)
    assert a.schedule.total_steps == 6_000 and a.schedule.disc_start == 3_001
    assert any("no step lines; its config record (RadioDiff's, written at launch) is read for the schedule" in n
               for n in a.merge_notes), a.merge_notes
