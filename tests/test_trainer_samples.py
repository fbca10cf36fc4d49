"""The bundled trainer in real use: samples as RadioDiff writes them, validation metrics, progress, resume that
replaces what it redoes, logs flushed while training, --max-steps leaving a checkpoint."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
import yaml

torch = pytest.importorskip("torch")
from trainer.main import run_training  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def micro(tmp_path, **trainer) -> Path:
    config = yaml.safe_load((ROOT / "trainer/configs/tiny.yaml").read_text())
    config["model"]["ddconfig"].update(resolution=16, ch=32, ch_mult=[1, 2], num_res_blocks=1)
    config["model"]["lossconfig"].update(disc_start=6, disc_num_layers=2)
    config["data"].update(batch_size=2, num_samples=16, val_size=4)
    config["trainer"].update({"train_num_steps": 12, "log_freq": 2, "save_and_sample_every": 6, "val_every": 4,
                              **trainer})
    path = tmp_path / "micro.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def rows(run: Path) -> list[dict]:
    with (run / "metrics.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_samples_validation_and_the_report_shows_them(tmp_path):
    from PIL import Image

    from vae_report.images import find_images

    run = run_training(micro(tmp_path), tmp_path / "run", quiet=True)
    assert sorted(p.name for p in run.glob("*sample-*.png")) == ["sample-1.png", "sample-2.png",
                                                                 "val-sample-1.png", "val-sample-2.png"]
    assert Image.open(run / "sample-1.png").size == (2 * 16, 2 * 16)  # 2 inputs above their reconstructions
    summaries = [r for r in find_images(run) if "tfevents" in r.source]  # torch's add_image, read back
    assert {r.group for r in summaries} == {"train/reconstructions", "val/reconstructions"}
    assert sorted({r.step for r in summaries}) == [6, 12]
    assert Image.open(io.BytesIO(summaries[0].read()[0])).size == (2 * 16, 2 * 16)
    val = [r for r in rows(run) if r["val/psnr"]]
    assert [int(r["step"]) for r in val] == [0, 4, 8]
    assert all(0 < float(r["val/ssim"]) <= 1 and float(r["val/psnr"]) > 0 for r in val)
    from vae_report import analyze_run
    from vae_report.images import reconstructions

    a = analyze_run(run)
    shown = reconstructions(a)
    assert [s.ref.step for s in shown] == [6, 12] and {"val/rec_loss", "val/psnr", "val/ssim"} <= set(a.metrics)


def test_max_steps_leaves_a_checkpoint_and_resume_replaces_what_it_redoes(tmp_path, capsys):
    config = micro(tmp_path, save_and_sample_every=4)
    run_training(config, tmp_path / "run", max_steps=7, quiet=True)
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("*.pt")) == ["model-4.pt", "model-7.pt"]
    logged = [int(r["step"]) for r in rows(tmp_path / "run")]
    assert logged[-1] == 6  # flushed while training: everything logged is on disk
    run_training(config, tmp_path / "run", resume=True)
    assert "resuming from checkpoints/model-7.pt at step 7" in capsys.readouterr().err
    steps = [int(r["step"]) for r in rows(tmp_path / "run")]
    assert len(steps) == len(set((s, bool(r["val/psnr"])) for s, r in zip(steps, rows(tmp_path / "run"),
                                                                             strict=True)))
    assert [s for s, r in zip(steps, rows(tmp_path / "run"), strict=True) if not r["val/psnr"]] == [0, 2, 4, 6, 8, 10]


def test_progress_is_one_line_per_log_interval_when_not_a_terminal(tmp_path, monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    run_training(micro(tmp_path), tmp_path / "run")
    lines = [line for line in err.getvalue().splitlines() if line.startswith("step ")]
    assert [line.split()[1] for line in lines] == [f"{s}/12" for s in range(0, 12, 2)]
    assert all("rec " in line and "kl " in line for line in lines)


def test_a_clean_resume_is_said_with_its_checkpoint_and_each_file_its_steps(tmp_path):
    # the bundled trainer stopped by --max-steps and resumed (review 7 #11): two event files and two text logs, no
    # step written twice, so nothing is replaced; the report still says the run was resumed, where and from what
    from vae_report import analyze_run
    from vae_report.render import render_markdown

    config = micro(tmp_path, val_every=0)
    run_training(config, tmp_path / "run", max_steps=7, quiet=True)
    run_training(config, tmp_path / "run", resume=True, quiet=True)
    a = analyze_run(tmp_path / "run")
    said = [f for f in a.findings if f.rule == "resumes"]
    assert [f.severity for f in said] == ["info"] and said[0].step == 8, [f.message for f in said]
    assert said[0].message.startswith("The run was resumed at step 8 from checkpoints/model-7.pt"), said[0].message
    assert "no steps redone" in said[0].message and "ends at step 6" in said[0].message
    report = render_markdown(a)
    assert "The run was resumed at step 8" in report
    events = [s for s in a.sources if s.kind == "tensorboard"]
    assert [s.steps for s in events] == [(0, 6), (8, 10)]
    assert "(tensorboard, " in report and ", steps 0-6)" in report and ", steps 8-10)" in report
    summary = a.to_summary()["sources"]
    assert {(s["first_step"], s["last_step"]) for s in summary if s["kind"] == "tensorboard"} == {(0, 6), (8, 10)}
