"""W&B run files and MLflow stores, written by the real libraries (wandb offline, mlflow-skinny with SQLite and
its legacy file store): values, steps, wall times, the config as schedule, several runs as a sweep."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vae_report import analyze_run, load_run
from vae_report.cli import app
from vae_report.sweep import find_runs

CONFIG = {"model": {"lossconfig": {"disc_start": 151, "kl_weight": 1e-6, "disc_weight": 0.5}},
          "trainer": {"train_num_steps": 400, "lr": 5e-6}}


def _run(code: str, cwd) -> None:
    # each library in its own process, as a training script would use it (they start services, set globals)
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", "MLFLOW_ALLOW_FILE_STORE": "true"}
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env, check=True, timeout=240)


def digest(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_wandb_offline_run(tmp_path):
    pytest.importorskip("wandb")
    _run(f"""
        import wandb
        run = wandb.init(dir={str(tmp_path)!r}, project="vae", config={CONFIG!r})
        for step in range(0, 300, 10):
            run.log({{"train/rec_loss": 1 / (step + 1), "train/kl_loss": 100.0 + step,
                      "train/disc_factor": float(step >= 151)}}, step=step)
        run.finish()
        """, tmp_path)
    logs = load_run(tmp_path)
    part = logs.frame[logs.frame["metric"] == "rec_loss"]
    assert list(part["step"]) == list(range(0, 300, 10)) and part["value"].iloc[1] == pytest.approx(1 / 11)
    assert part["wall_time"].notna().all()
    assert len([s for s in logs.sources if s.kind == "wandb"]) == 1  # latest-run is a link, not a second run
    a = analyze_run(tmp_path)
    assert a.schedule.disc_start == 151 and a.schedule.total_steps == 400
    assert "W&B run's config" in a.schedule.origins["disc_start"]


def _mlflow_runs(tmp_path, uri: str) -> None:
    _run(f"""
        import mlflow
        mlflow.set_tracking_uri({uri!r})
        for name, weight in (("base", 0.5), ("strong_d", 5.0)):
            with mlflow.start_run(run_name=name):
                mlflow.log_params({{"model.lossconfig.disc_start": 151, "model.lossconfig.disc_weight": weight,
                                    "kl_weight": 1e-6, "train_num_steps": 400}})
                for step in range(0, 300, 10):
                    mlflow.log_metric("train/rec_loss", 1 / (step + 1), step=step)
                    mlflow.log_metric("train/disc_factor", float(step >= 151), step=step)
        """, tmp_path)


_SQLITE: dict[str, bytes] = {}


def mlflow_sqlite_store(folder: Path) -> Path:
    """``folder/mlflow.db``: the two runs of ``_mlflow_runs`` in an MLflow SQLite store, written by mlflow once per
    test process (~15 s, most of it the store's schema migrations) and copied byte for byte after."""
    if "db" not in _SQLITE:
        with tempfile.TemporaryDirectory() as scratch:
            _mlflow_runs(scratch, f"sqlite:///{Path(scratch) / 'mlflow.db'}")
            _SQLITE["db"] = (Path(scratch) / "mlflow.db").read_bytes()
    path = folder / "mlflow.db"
    path.write_bytes(_SQLITE["db"])
    return path


def test_an_mlflow_sqlite_store_with_two_runs_is_a_sweep(tmp_path):
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    mlflow_sqlite_store(tmp_path)
    before = digest(tmp_path)
    runs = find_runs(tmp_path)
    assert [r.name for r in runs] == ["base", "strong_d"]
    a = analyze_run(tmp_path, run="strong_d")
    assert a.schedule.disc_start == 151 and a.schedule.disc_weight == 5.0 and a.schedule.kl_weight == 1e-6
    assert a.schedule.total_steps == 400 and a.metrics["rec_loss"].count == 30
    out = tmp_path.parent / "sweep.md"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().count("## Run: ") == 2
    # eval14 a57: the runs' params are their configs: the one setting that differs is named, never "No training
    # config was found in any run"
    compared = out.read_text().split("## Runs compared")[1].split("## Run: ")[0]
    assert "No training config was found" not in compared
    assert "| `disc_weight` | 0.5 from " in compared and "| 5 from " in compared, compared
    assert digest(tmp_path) == before  # the database was opened read-only
    bad = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(out), "--run", "nope"])
    assert bad.exit_code == 2 and "base" in bad.output


def test_the_legacy_mlruns_file_store(tmp_path):
    pytest.importorskip("mlflow")
    _mlflow_runs(tmp_path, (tmp_path / "mlruns").as_uri())
    a = analyze_run(tmp_path, run="base")
    assert a.metrics["rec_loss"].latest == pytest.approx(1 / 291) and a.schedule.disc_weight == 0.5


def test_a_store_config_of_another_trainer_invents_no_loss_class_nor_its_defaults(tmp_path):
    """A W&B run of a VQ-VAE whose config names a codebook and an lr but no KL, no discriminator: read for the
    keys it names; no LPIPSWithDiscriminator, no kl_weight or disc_weight of 1 by default."""
    pytest.importorskip("wandb")
    config = {"num_embeddings": 512, "commitment_cost": 0.25, "codebook_weight": 1.0, "lr": 2e-4,
              "max_steps": 600}
    _run(f"""
        import wandb
        run = wandb.init(dir={str(tmp_path)!r}, project="vq", config={config!r})
        for step in range(0, 300, 10):
            run.log({{"train/recons_loss": 1 / (step + 1), "train/vq_loss": 0.1 + 1 / (step + 5)}}, step=step)
        run.finish()
        """, tmp_path)
    s = analyze_run(tmp_path).schedule
    assert s.layout == "flat" and s.loss_class is None and s.regularizer == "vq"
    assert s.kl_weight is None and s.disc_weight is None and s.disc_factor is None
    assert s.codebook_weight == 1.0 and s.lr == 2e-4 and s.total_steps == 600
    out = tmp_path.parent / "vq.md"
    assert CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(out)]).exit_code == 0
    text = out.read_text()
    assert "LPIPSWithDiscriminator" not in text and "default" not in text.split("## Configuration analysis")[1][:600]


def test_wandb_log_with_a_step_is_counted_in_steps_and_its_own_logs_are_not_metrics(tmp_path):
    """``wandb.log(..., step=s)`` every 50 steps: _step is the run's step (its gaps say so), the config's
    max_steps is the total in steps; W&B's debug logs (JSON lines it writes about itself) are not read."""
    pytest.importorskip("wandb")
    _run(f"""
        import math, wandb
        run = wandb.init(dir={str(tmp_path)!r}, project="vae", config={{"max_steps": 10000, "lr": 1e-4}})
        for s in range(0, 10000, 50):
            run.log({{"train/rec_loss": 0.02 + 0.1 * math.exp(-s / 2000), "train/kl_loss": 40.0}}, step=s)
        run.finish()
        """, tmp_path)
    logs = load_run(tmp_path)
    assert logs.counts == "step" and {s.kind for s in logs.sources} == {"wandb"}
    wandb_source = next(s for s in logs.sources if s.kind == "wandb")
    assert any("the step the run passed to wandb.log (logged every 50 steps)" in n for n in wandb_source.notes)
    a = analyze_run(tmp_path)
    assert a.schedule.counts == "step" and a.schedule.total_steps == 10000 and a.step == 9950


def test_a_wandb_config_with_a_trainer_layout_keeps_the_scripts_own_total_and_lr(tmp_path):
    pytest.importorskip("wandb")
    config = {"model": {"lossconfig": {"disc_start": 201, "kl_weight": 1e-6, "disc_weight": 0.5}},
              "lr": 4.5e-6, "max_steps": 1000}
    _run(f"""
        import wandb
        run = wandb.init(dir={str(tmp_path)!r}, project="vae", config={config!r})
        for s in range(0, 400, 10):
            run.log({{"train/rec_loss": 1 / (s + 1), "train/kl_loss": 100.0, "train/disc_factor": float(s >= 201)}},
                    step=s)
        run.finish()
        """, tmp_path)
    a = analyze_run(tmp_path)
    assert a.schedule.disc_start == 201 and a.schedule.total_steps == 1000 and a.schedule.lr == pytest.approx(4.5e-6)
    assert a.schedule.origins["total_steps"].endswith("max_steps")


def test_wandb_log_without_a_step_is_read_as_steps_and_said(tmp_path):
    """``wandb.log`` once per optimizer step without ``step=``: _step is W&B's call count, consecutive, which
    the config's max_steps fits; the sources say so."""
    pytest.importorskip("wandb")
    _run(f"""
        import wandb
        run = wandb.init(dir={str(tmp_path)!r}, project="vae", config={{"trainer": {{"max_steps": 300}}}})
        for s in range(300):
            run.log({{"train/rec_loss": 1 / (s + 1), "train/kl_loss": 40.0}})
        run.finish()
        """, tmp_path)
    logs = load_run(tmp_path)
    (source,) = [s for s in logs.sources if s.kind == "wandb"]
    assert logs.counts == "step" and any("consecutive from 0 to 299" in n and "max_steps" in n for n in source.notes)


@pytest.mark.parametrize("key", ["global_step", "trainer/global_step"])
def test_a_step_key_logged_in_every_wandb_call_is_the_step_not_the_call_count(tmp_path, key):
    """Two ``wandb.log`` calls per iteration (the G dict, then the D dict), each with the run's own step key
    (a script's global_step; Lightning's WandbLogger adds trainer/global_step): that key is the step, W&B's
    _step (the count of calls, twice the iterations) is not, and the sources say which was used."""
    pytest.importorskip("wandb")
    _run(f"""
        import wandb
        run = wandb.init(dir={str(tmp_path)!r}, project="vae", config={{"max_steps": 2000, "disc_start": 1001}})
        for it in range(0, 2000, 20):
            run.log({{"train/rec_loss": 1 / (it + 1), "train/kl_loss": 40.0, {key!r}: it}})
            run.log({{"train/disc_loss": 1.0 if it >= 1001 else 0.0, {key!r}: it}})
        run.finish()
        """, tmp_path)
    logs = load_run(tmp_path)
    rec = logs.frame[logs.frame["metric"] == "rec_loss"]
    disc = logs.frame[logs.frame["metric"] == "disc_loss"]
    assert list(rec["step"]) == list(range(0, 2000, 20)) and list(disc["step"]) == list(range(0, 2000, 20))
    assert rec["value"].iloc[-1] == pytest.approx(1 / 1981) and key not in set(logs.frame["metric"])
    (source,) = [s for s in logs.sources if s.kind == "wandb"]
    assert any(f"the run's own {key}" in n and "2 per step" in n for n in source.notes), source.notes
    a = analyze_run(tmp_path)
    assert a.step == 1980 and a.schedule.total_steps == 2000


@pytest.mark.parametrize("key", ["global_step", "trainer/global_step"])
def test_a_wandb_run_resumed_inside_one_file_is_a_resume_on_its_own_step(tmp_path, key):
    """The run's step key goes back once (the script reloaded its step-1,000 checkpoint after reaching 1,480 and
    went on to 2,980), two wandb.log calls a step: the key stays the step (was: the whole file fell back to
    _step, the count of calls); the steps logged again are the later launch's, and the resume is judged as one."""
    pytest.importorskip("wandb")
    _run(f"""
        import wandb
        run = wandb.init(dir={str(tmp_path)!r}, project="vae", config={{"max_steps": 3000}})
        for launch, steps in enumerate([range(0, 1500, 20), range(1000, 3000, 20)]):
            for s in steps:
                run.log({{"train/rec_loss": (1 + launch) / (s + 1), "train/kl_loss": 40.0, {key!r}: s}})
                run.log({{"train/disc_loss": 1.0, {key!r}: s}})
        run.finish()
        """, tmp_path)
    logs = load_run(tmp_path)
    rec = logs.frame[logs.frame["metric"] == "rec_loss"]
    assert list(rec["step"]) == list(range(0, 3000, 20)) and key not in set(logs.frame["metric"])
    assert rec["value"].tolist() == pytest.approx([(1 + (s >= 1000)) / (s + 1) for s in range(0, 3000, 20)])
    wandb_sources = [s for s in logs.sources if s.kind == "wandb"]
    assert [s.path.split(" (")[1] for s in wandb_sources] == [f"launch 1 of 2, from {key} 0)",
                                                              f"launch 2 of 2, from {key} 1,000)"]
    assert any(f"the run's own {key}" in n and "2 per step" in n for n in wandb_sources[0].notes)
    (restart,) = logs.restarts
    assert restart["step"] == 1000 and restart["reached"] == 1480
    a = analyze_run(tmp_path)
    assert a.step == 2980 and any(f.rule == "resumes" and f.step == 1000 for f in a.active_findings())


def test_a_wandb_step_key_starting_over_each_epoch_is_continued(tmp_path):
    """``step`` the batch in the epoch (0..90 by 10, four epochs): continued across epochs as the other readers
    continue such a counter (was: _step, the count of calls, read as the step)."""
    pytest.importorskip("wandb")
    _run(f"""
        import wandb
        run = wandb.init(dir={str(tmp_path)!r}, project="vae")
        for epoch in range(4):
            for batch in range(0, 100, 10):
                run.log({{"train/rec_loss": 1 / (epoch * 100 + batch + 1), "step": batch}})
        run.finish()
        """, tmp_path)
    logs = load_run(tmp_path)
    rec = logs.frame[logs.frame["metric"] == "rec_loss"]
    assert list(rec["step"]) == list(range(0, 400, 10))
    assert rec["value"].tolist() == pytest.approx([1 / (s + 1) for s in range(0, 400, 10)])
    (source,) = [s for s in logs.sources if s.kind == "wandb"]
    assert any("step restarts at every epoch" in n and "100 per epoch" in n for n in source.notes), source.notes


def test_mlflow_params_slashed_as_lightning_s_logger_writes_them_are_the_config(tmp_path):
    # eval12: Lightning's MLFlowLogger flattens the config with "/" (model/params/lossconfig/params/disc_start);
    # none was read, and the report asked for --kl-weight a value the store held
    pytest.importorskip("mlflow")
    _run(f"""
        import mlflow
        mlflow.set_tracking_uri({(tmp_path / "mlruns").as_uri()!r})
        with mlflow.start_run(run_name="kl_f4"):
            mlflow.log_params({{"model/params/lossconfig/params/disc_start": 151,
                                "model/params/lossconfig/params/kl_weight": 1e-6,
                                "model/params/lossconfig/params/disc_weight": 0.5,
                                "model/params/lossconfig/target": "ldm.modules.losses.LPIPSWithDiscriminator",
                                "lightning/trainer/max_steps": 400}})
            for step in range(0, 300, 10):
                mlflow.log_metric("train/rec_loss", 1 / (step + 1), step=step)
        """, tmp_path)
    s = analyze_run(tmp_path).schedule
    assert (s.disc_start, s.kl_weight, s.disc_weight, s.total_steps) == (151, 1e-6, 0.5, 400)
