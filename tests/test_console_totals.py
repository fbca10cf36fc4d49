"""A console log whose epoch counter reads "e/E" beside a per-epoch bar or batch total N gives the run's total,
E x N in its continued count (review 6 #9): Keras' fit output ending "Epoch 30/30" over a "547/547" bar is a
finished run of 16,410 steps, never told to keep running. Keras' output written as its Progbar draws it (the
battery's writer: Keras is not installed), DCGAN's print."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from benchmarks.diagnosis.writers import keras_console  # noqa: E402
from vae_report import analyze_run, load_run  # noqa: E402


def _keras_fit(path: Path, epochs: int, batches: int) -> None:
    n = epochs * batches
    t = np.arange(n)
    rec = 150 + 60 * np.exp(-t / (n / 4))
    kl = 6 - 2.5 * np.exp(-t / (n / 4))
    keras_console(path, {"loss": rec + kl, "reconstruction_loss": rec, "kl_loss": kl}, batches, every=25)


def _said(a) -> str:
    return " ".join(a.recommendations + [q.answer for q in a.qa])


def test_a_keras_fit_log_that_ran_every_epoch_is_a_finished_run_of_epochs_times_bar(tmp_path):
    _keras_fit(tmp_path / "fit.log", epochs=30, batches=547)
    a = analyze_run(tmp_path)
    assert a.schedule.total_steps == 30 * 547 == a.step and a.finished
    assert "30 epochs" in a.schedule.origins["total_steps"] and "547" in a.schedule.origins["total_steps"]
    assert "Keep it running" not in _said(a) and "continue training" not in _said(a)
    assert any(r.startswith("Training has finished") for r in a.recommendations)


def test_a_keras_fit_log_cut_mid_run_gives_its_total_and_progress(tmp_path):
    _keras_fit(tmp_path / "full.log", epochs=30, batches=200)
    lines = (tmp_path / "full.log").read_text().splitlines(keepends=True)
    tenth = [i for i, line in enumerate(lines) if line.startswith("Epoch ")][10]  # 10 epochs written, of 30
    (tmp_path / "full.log").unlink()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "fit.log").write_text("".join(lines[:tenth]))
    a = analyze_run(tmp_path / "run")
    assert a.schedule.total_steps == 30 * 200 and a.step == 10 * 200 and not a.finished
    assert a.schedule.progress(a.step) == 10 / 30


def test_a_keras_log_that_begins_at_a_later_epoch_claims_no_total(tmp_path):
    # a resumed fit (initial_epoch 5): its bars count from where this log began, not from the run's first step
    _keras_fit(tmp_path / "full.log", epochs=30, batches=100)
    lines = (tmp_path / "full.log").read_text().splitlines(keepends=True)
    fifth = [i for i, line in enumerate(lines) if line.startswith("Epoch ")][4]
    (tmp_path / "full.log").unlink()
    (tmp_path / "fit.log").write_text("".join(lines[fifth:]))
    assert load_run(tmp_path).text_total_steps is None


def test_dcgan_brackets_give_the_total_of_their_epochs(tmp_path):
    with (tmp_path / "train_out.txt").open("w") as out:
        for epoch in range(5):  # 5 of 25 epochs, 391 batches each, counted from 0
            for i in range(0, 391, 50):
                print("[%d/%d][%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f\tD(x): %.4f\tD(G(z)): %.4f / %.4f"  # noqa: UP031
                      % (epoch, 25, i, 391, 1.3863, 0.6931 + i / 1e4, 0.5, 0.5, 0.5), file=out)
    assert load_run(tmp_path).text_total_steps == 25 * 391
