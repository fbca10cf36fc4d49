"""Console logs coarser than a step counter, written by real printing loops: an epoch counter alone, records
over several lines, no counter at all, progress bars per epoch, several launches appended to one file."""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner
from writers import file_logger

from vae_report import analyze_run, examine_run, load_run
from vae_report.cli import app


def series(frame, metric):
    part = frame[frame["metric"] == metric]
    return part["step"].tolist(), part["value"].to_numpy(), part["wall_time"].to_numpy()


def _epoch_log(path, epochs=40, of=100):
    with path.open("w") as out:
        print("Building model ...", file=out)
        for epoch in range(1, epochs + 1):
            rec = 0.4 / (1 + epoch / 10)
            print(f"Epoch [{epoch}/{of}], Total Loss: {rec + 0.02:.4f}, Recon: {rec:.4f}, KL: {2 + epoch / 100:.3f}",
                  file=out)


@pytest.mark.parametrize("line", ["Epoch [{e}/100], Total Loss: {v:.4f}", "epoch {e} | loss {v:.4f}",
                                  "Epoch: {e} loss={v:.4f}"])
def test_an_epoch_counter_alone_is_the_step_and_the_report_says_epochs(tmp_path, line):
    with (tmp_path / "train.log").open("w") as out:
        for e in range(1, 31):
            print(line.format(e=e, v=1 / e), file=out)
    logs = load_run(tmp_path)
    steps, values, _ = series(logs.frame, "total_loss")
    assert steps == list(range(1, 31)) and values[-1] == pytest.approx(1 / 30, abs=1e-4) and logs.counts == "epoch"


def test_disc_start_in_steps_is_left_unjudged_for_an_epoch_log_and_converted_with_steps_per_epoch(tmp_path):
    _epoch_log(tmp_path / "train.log")
    (tmp_path / "config.yaml").write_text("disc_start: 50001\nkl_weight: 1.0e-6\n")
    out = tmp_path / "r.md"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "epoch 40 of 100" in text and "**Current epoch**: 40" in text and "counted in epochs" in text
    assert "disc_start 50,001 is in optimizer steps while these logs count epochs" in text
    a = analyze_run(tmp_path)
    assert a.status in ("ok", "info") and a.schedule.disc_start is None
    (tmp_path / "config.yaml").write_text("disc_start: 50001\nkl_weight: 1.0e-6\nsteps_per_epoch: 1000\n")
    a = analyze_run(tmp_path)
    assert a.schedule.disc_start == 1 + 50 and a.schedule.total_steps == 100  # epochs start at 1 here
    assert a.phase == "before discriminator"


def test_a_record_over_several_lines_is_one_point(tmp_path):
    logger, handler = file_logger(tmp_path / "train.log", "%(message)s")
    for epoch in range(1, 21):
        logger.info(f"Epoch {epoch}/2000")
        logger.info(f"  rec: {0.5 / epoch:.5f}")
        logger.info(f"  kl: {3 + epoch / 10:.3f}")
        logger.info(f"  disc: {0.0:.3f}")
    handler.close()
    frame = load_run(tmp_path).frame
    assert series(frame, "rec_loss")[0] == list(range(1, 21)) and series(frame, "kl_loss")[1][-1] == 5.0
    with (tmp_path / "train.log").open("w") as out:  # a step header, the terms indented under it
        for step in range(0, 2000, 100):
            print(f"Step {step}\n    recon_loss: {0.5 / (1 + step / 100):.5f}\n    kl_loss: {3 + step / 1e3:.4f}",
                  file=out)
    frame = load_run(tmp_path).frame
    assert series(frame, "kl_loss")[0] == list(range(0, 2000, 100)) and series(frame, "rec_loss")[1][0] == 0.5
    with (tmp_path / "train.log").open("w") as out:  # pytorch/examples' VAE: batch lines, epoch and test lines
        for epoch in range(1, 6):
            for seen in range(0, 60000, 15000):
                print(f"Train Epoch: {epoch} [{seen}/60000 ({100. * seen / 60000:.0f}%)]\tLoss: {200 / epoch:.6f}",
                      file=out)
            print(f"====> Epoch: {epoch} Average loss: {150 / epoch:.4f}", file=out)
            print(f"====> Test set loss: {160 / epoch:.4f}", file=out)
    frame = load_run(tmp_path).frame
    steps, values, _ = series(frame, "val/total_loss")
    assert values.tolist() == pytest.approx([160 / e for e in range(1, 6)], abs=1e-4)
    assert steps == series(frame, "total_loss_epoch")[0] and len(series(frame, "total_loss")[0]) == 20


def test_an_epoch_average_that_is_nan_beside_batch_lines_is_seen(tmp_path):
    logger, handler = file_logger(tmp_path / "run.log", "%(asctime)s %(message)s")
    for epoch in range(1, 9):
        for seen in range(0, 5000, 1000):
            logger.info(f"# [Train Epoch: {epoch}/8] [{seen}/5000 images] gen loss={0.9 / epoch:.6f}, kld={3.1:.6f}")
        mean = "nan" if epoch == 8 else f"{0.9 / epoch:.6f}"
        logger.info(f"# =====> Epoch: {epoch} Average gen loss = {mean}, KLD = 3.1; Finished in 0:00:09")
    handler.close()
    examined = examine_run(tmp_path)
    a = examined.analysis
    _, values, _ = series(examined.frame, "gen_loss_epoch")
    assert len(values) == 8 and values[-1] != values[-1]  # NaN
    assert any(f.rule == "non-finite" and f.severity != "ok" for f in a.findings)


def test_lines_without_any_counter_are_read_in_line_order(tmp_path):
    with (tmp_path / "log.txt").open("w") as out:
        for i in range(150):
            print({"loss": round(0.5 / (1 + i / 50), 4), "kl": 2.1}, file=out)
    logs = load_run(tmp_path)
    assert series(logs.frame, "total_loss")[0] == list(range(1, 151)) and logs.counts == "line"
    assert any("line's order" in n for s in logs.sources for n in s.notes)
    (tmp_path / "log.txt").unlink()
    logger, handler = file_logger(tmp_path / "train.log", "%(asctime)s %(message)s")
    for i in range(60):
        logger.info(f"loss {0.5 / (1 + i / 20):.4f} kl {2.1 + i / 100:.3f}")
    handler.close()
    steps, _, walls = series(load_run(tmp_path).frame, "kl_loss")
    assert steps == list(range(1, 61)) and (walls > 1.6e9).all()
    assert analyze_run(tmp_path).status in ("ok", "info")
    (tmp_path / "hparams.txt").write_text("lr: 0.001\nkl_weight: 1e-6\ndisc_loss_weight: 0.5\nrec_loss: l1\n")
    assert [s.path for s in load_run(tmp_path).sources] == ["train.log"]  # a dump of settings is no log


def test_progress_bars_per_epoch_give_one_point_per_bar_and_validation_bars_are_val(tmp_path):
    tqdm = pytest.importorskip("tqdm")
    with (tmp_path / "train.out").open("w") as out:
        for epoch in range(1, 6):
            bar = tqdm.tqdm(range(50), file=out, mininterval=0, desc=f"Epoch {epoch}/10 - Training")
            for batch in bar:
                bar.set_postfix(loss=f"{1 / (epoch * 50 + batch):.5f}")
            bar = tqdm.tqdm(range(10), file=out, mininterval=0, desc=f"Epoch {epoch}/10 - Validation")
            for _batch in bar:
                bar.set_postfix(loss=f"{1.2 / (epoch * 50):.5f}")
    logs = load_run(tmp_path)
    steps, values, _ = series(logs.frame, "total_loss")
    assert steps == [1, 2, 3, 4, 5] and values[-1] == pytest.approx(1 / 299, abs=1e-5)  # each bar's last redraw
    assert series(logs.frame, "val/total_loss")[1][0] == pytest.approx(1.2 / 50, abs=1e-5)
    assert logs.text_total_steps == 10 and logs.counts == "epoch"


def test_lightning_bars_that_start_over_each_epoch_give_a_point_per_epoch(tmp_path):
    tqdm = pytest.importorskip("tqdm")
    with (tmp_path / "train.out").open("w") as out:
        for epoch in range(4):  # Lightning's main bar: a new "Epoch N:" bar of train + val batches every epoch
            bar = tqdm.tqdm(total=110, file=out, mininterval=0, miniters=1, ascii=True, desc=f"Epoch {epoch}")
            for batch in range(110):
                bar.set_postfix(v_num=0, aeloss_step=f"{1.0 / (1 + batch + 110 * epoch):.4f}", refresh=False)
                bar.update(1)
            bar.close()
    steps, values, _ = series(load_run(tmp_path).frame, "aeloss")
    assert steps == [0, 1, 2, 3] and values[0] == pytest.approx(1 / 110, abs=1e-4)


def test_launches_appended_to_one_log_are_judged_as_separate_files(tmp_path):
    loguru = pytest.importorskip("loguru")
    logger = loguru.logger
    logger.remove()
    sink = logger.add(tmp_path / "train.log", level="INFO")
    for first, last, level in ((0, 800, 1.0), (500, 1000, 1.02)):  # a resume at 500 of a run killed at 800
        logger.info("starting training")
        for step in range(first, last + 1, 10):
            logger.info(f"step {step}, rec_loss: {level * 0.5 / (1 + step / 200):.5f}, kl_loss: {100 + step / 10:.2f}")
    logger.remove(sink)
    logs = load_run(tmp_path)
    assert [r["step"] for r in logs.restarts] == [500] and len(logs.sources) == 2
    steps, values, _ = series(logs.frame, "rec_loss")
    assert steps == list(range(0, 1001, 10)) and values[60] == pytest.approx(1.02 * 0.5 / 4, abs=1e-4)
    assert analyze_run(tmp_path).status in ("ok", "info")
    sink = logger.add(tmp_path / "train.log", level="INFO")  # then started over from step 0, fresh weights
    for step in range(0, 301, 10):
        logger.info(f"step {step}, rec_loss: {0.5 / (1 + step / 200):.5f}, kl_loss: {100 + step / 10:.2f}")
    logger.remove(sink)
    a = analyze_run(tmp_path)
    assert a.step == 300 and any(f.rule == "resumes" and "started again from step 0" in f.message
                                 for f in a.findings)


def test_a_one_line_log_is_too_short_and_an_unread_one_shows_its_first_lines(tmp_path):
    (tmp_path / "train.log").write_text("Epoch [1/100], Total Loss: 0.51, KL: 2.3\n")
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "train.log"), "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 2 and "has only 1 step line " in result.output and "train.log" in result.output
    (tmp_path / "train.log").write_text("hello\nno numbers here\nat all\nstill none\n")
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "train.log"), "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 2 and "hello | no numbers here | at all" in result.output


def test_logging_module_epoch_lines_with_a_record_head(tmp_path):
    logger, handler = file_logger(tmp_path / "train.log", "%(asctime)s - %(name)s - %(levelname)s - %(message)s")
    for epoch in range(1, 26):
        logger.log(logging.INFO, f"Epoch {epoch}: recon_loss={0.3 / epoch:.5f} kld={5 + epoch / 10:.3f}")
    handler.close()
    frame = load_run(tmp_path).frame
    steps, _, walls = series(frame, "rec_loss")
    assert steps == list(range(1, 26)) and (walls > 1.6e9).all()


def test_a_bare_step_of_total_opening_the_line(tmp_path):
    with (tmp_path / "train.out").open("w") as out:
        for step in range(1920, 4000, 5):
            print(f"{step}/191900 (epoch 1) loss: {8 / (1 + step / 1e4):.3f}, gen_loss: 8.05, KL_loss: 13.2, ",
                  file=out)
            print("\t", file=out)
    logs = load_run(tmp_path)
    assert series(logs.frame, "total_loss")[0] == list(range(1920, 4000, 5)) and logs.text_total_steps == 191900


def test_a_console_counted_by_line_order_beside_event_files_in_steps_does_not_recount_the_run(tmp_path):
    # the script prints its loss dict each iteration (no counter) and writes TensorBoard at the global step
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    writer = torch_tb.SummaryWriter(str(tmp_path / "tb"))
    with (tmp_path / "stdout.txt").open("w") as out:
        for step in range(0, 5000, 50):
            rec = 0.5 / (1 + step / 500)
            writer.add_scalar("train/rec_loss", rec, step)
            writer.add_scalar("train/kl_loss", 10 + step / 1000, step)
            print({"loss": round(rec, 5)}, file=out)
    writer.close()
    logs = load_run(tmp_path)
    assert logs.counts == "step" and int(logs.frame["step"].max()) == 4950
    assert any("count lines while the run's other logs count steps" in n for n in logs.notes)
