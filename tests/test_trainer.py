"""The bundled trainer: the loss term for term, the model's size, the config checks, and real logs."""

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

torch = pytest.importorskip("torch")

from tbparse import SummaryReader  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from trainer.config import load_trainer_config  # noqa: E402
from trainer.data import SyntheticRadioMaps  # noqa: E402
from trainer.logs import KEYS  # noqa: E402
from trainer.loss import NLayerDiscriminator, VaeGanLoss, adopt_weight, hinge_d_loss, vanilla_d_loss  # noqa: E402
from trainer.main import lr_multiplier, run_training  # noqa: E402
from trainer.model import AutoencoderKL, DiagonalGaussian  # noqa: E402
from vae_report.cli import app  # noqa: E402
from vae_report.errors import ConfigError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def micro_config(tmp_path, **trainer):
    config = yaml.safe_load((ROOT / "trainer/configs/tiny.yaml").read_text())
    config["model"]["ddconfig"].update(resolution=16, ch=32, ch_mult=[1, 2], num_res_blocks=1)
    config["model"]["lossconfig"].update(disc_start=6, disc_num_layers=2)
    config["data"].update(batch_size=2, num_samples=16, val_size=0)  # validation: tests/test_trainer_samples.py
    config["trainer"].update({"train_num_steps": 12, "log_freq": 2, "save_and_sample_every": 6, **trainer})
    path = tmp_path / "micro.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_parameter_count_matches_radiodiff():
    config = yaml.safe_load((ROOT / "trainer/configs/first_radio.yaml").read_text())
    model = AutoencoderKL(config["model"]["ddconfig"], config["model"]["embed_dim"])
    count = sum(p.numel() for p in model.parameters())
    # Measured by instantiating RadioDiff's encoder_decoder.Encoder/Decoder (+ quant convs) with this config.
    assert count == 55_307_453
    disc = NLayerDiscriminator(input_nc=1, n_layers=3)
    assert sum(p.numel() for p in disc.parameters()) == 2_763_585  # taming's NLayerDiscriminator, 1 channel


def test_adopt_weight_boundary():
    assert adopt_weight(1.0, 50_000, threshold=50_001) == 0.0
    assert adopt_weight(1.0, 50_001, threshold=50_001) == 1.0


def test_hinge_and_vanilla_values():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-2.0, 0.5])
    # hinge: 0.5 * (mean(relu(1 - real)) + mean(relu(1 + fake))) = 0.5 * (0.5 + 0.75)
    assert hinge_d_loss(real, fake).item() == pytest.approx(0.625)
    zeros = torch.zeros(4)
    assert hinge_d_loss(zeros, zeros).item() == pytest.approx(1.0)  # a discriminator at chance reads 1
    assert vanilla_d_loss(zeros, zeros).item() == pytest.approx(math.log(2))


def _posterior(batch=2, ch=3, side=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return DiagonalGaussian(torch.randn(batch, 2 * ch, side, side, generator=g))


def test_loss_terms_by_hand():
    torch.manual_seed(0)
    loss = VaeGanLoss(disc_start=5, kl_weight=1e-3, disc_weight=0.5, disc_in_channels=1, disc_num_layers=1)
    last = torch.randn(1, 8, 3, 3, requires_grad=True)
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    x_rec = (torch.nn.functional.conv2d(torch.randn(2, 8, 16, 16), last, padding=1)).tanh()
    post = _posterior()
    for step, factor in ((4, 0.0), (5, 1.0)):
        total, log = loss(x, x_rec, post, 0, step, last_layer=last)
        r = (x - x_rec).abs() + (x - x_rec) ** 2
        assert log["train/rec_loss"] == pytest.approx(r.mean().item(), rel=1e-5)
        assert log["train/nll_loss"] / log["train/rec_loss"] == pytest.approx(16 * 16, rel=1e-5)  # logvar = 0
        kl = (0.5 * (post.mean**2 + post.var - 1 - post.logvar)).sum() / 2
        assert log["train/kl_loss"] == pytest.approx(kl.item(), rel=1e-5)
        assert log["train/disc_factor"] == factor
        expected = (log["train/nll_loss"] + 1e-3 * log["train/kl_loss"]
                    + log["train/d_weight"] * factor * log["train/g_loss"])
        assert total.item() == pytest.approx(expected, rel=1e-5)
        d_loss, dlog = loss(x, x_rec, post, 1, step)
        assert (d_loss.item() == 0.0) == (factor == 0.0)


def test_adaptive_weight_is_clamped_at_1e4_times_disc_weight():
    loss = VaeGanLoss(disc_start=0, disc_weight=0.5, disc_in_channels=1, disc_num_layers=1)
    w = torch.ones(3, requires_grad=True)
    nll = (w * 1e6).sum()
    g = (w * 1e-6).sum()  # ratio 1e12 before the clamp
    assert loss.adaptive_weight(nll, g, w).item() == pytest.approx(5000.0)
    # |grad nll| = 2 sqrt(3), |grad g| = 4 sqrt(3): 0.5 * 2 sqrt(3) / (4 sqrt(3) + 1e-4)
    expected = 0.5 * 2 * 3**0.5 / (4 * 3**0.5 + 1e-4)
    assert loss.adaptive_weight(w.sum() * 2, w.sum() * 4, w).item() == pytest.approx(expected, rel=1e-6)


def test_synthetic_maps_are_deterministic_and_in_range():
    a, b = SyntheticRadioMaps(24, 4, seed=3), SyntheticRadioMaps(24, 4, seed=3)
    assert torch.equal(a[2], b[2]) and a[2].shape == (1, 24, 24)
    assert not torch.equal(a[1], a[2])
    assert a[0].min() >= -1 and a[0].max() <= 1 and a[0].std() > 0.1


def test_lr_schedule_floor_is_min_lr():
    assert lr_multiplier(0, 100, 5e-6, 5e-7) == 1.0
    assert lr_multiplier(99, 100, 5e-6, 5e-7) * 5e-6 == pytest.approx(5e-7)


def test_training_logs_every_key_at_every_logged_step_and_resumes(tmp_path):
    config = micro_config(tmp_path)
    out = tmp_path / "run"
    run_training(config, out, max_steps=8, quiet=True)
    expected_steps = [0, 2, 4, 6]
    tb = SummaryReader(str(out), pivot=False).scalars
    assert set(tb["tag"]) == set(KEYS)
    for key in KEYS:
        assert sorted(tb.loc[tb["tag"] == key, "step"]) == expected_steps
    import pandas as pd

    csv = pd.read_csv(out / "metrics.csv")
    assert csv["step"].tolist() == expected_steps and set(KEYS) <= set(csv.columns)
    assert not csv[KEYS].isna().any().any()
    factor = dict(zip(csv["step"], csv["train/disc_factor"], strict=True))
    assert factor[4] == 0.0 and factor[6] == 1.0  # disc_start 6
    assert (csv.loc[csv["step"] < 6, "train/disc_loss"] == 0).all()
    assert (out / "config.yaml").exists() and (out / "checkpoints" / "model-6.pt").exists()
    (log,) = out.glob("*_.log")
    assert "[Train Step] 6/12: train/total_loss:" in log.read_text()
    assert (out / "checkpoints" / "model-8.pt").exists()  # --max-steps leaves a checkpoint where it stopped
    # --resume continues from the step-8 checkpoint with a new event file
    run_training(config, out, resume=True, quiet=True)
    assert len(list(out.glob("*tfevents*"))) == 2
    csv = pd.read_csv(out / "metrics.csv")
    assert csv["step"].tolist() == expected_steps + [8, 10]  # each step once: nothing stale, nothing redone


def test_logvar_is_really_optimized(tmp_path):
    out = tmp_path / "run"
    run_training(micro_config(tmp_path), out, max_steps=6, quiet=True)
    import pandas as pd

    logvar = pd.read_csv(out / "metrics.csv")["train/logvar"]
    assert logvar.iloc[0] == 0.0 and logvar.iloc[-1] != 0.0


@pytest.mark.parametrize("change, message", [
    (lambda c: c["trainer"].update(lr_rate=1.0), "unknown key trainer.lr_rate (did you mean trainer.lr?)"),
    (lambda c: c["model"]["ddconfig"].update(resolution=36, ch_mult=[1, 2, 4, 8]), "not divisible by 8"),
    (lambda c: c["data"].update(name="radio", img_folder="/nonexistent/maps"), "does not exist"),
    (lambda c: c["model"]["lossconfig"].update(kl_weight="small"), "kl_weight"),
])
def test_config_errors_name_the_key(tmp_path, change, message):
    config = yaml.safe_load((ROOT / "trainer/configs/tiny.yaml").read_text())
    change(config)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=".*" + message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        load_trainer_config(path)
    result = CliRunner().invoke(app, ["train", str(path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()  # nothing started


@pytest.mark.parametrize("twice, message", [
    ("    disc_start: 301\n    disc_num_layers: 3\n    disc_start: 5\n",
     "model.lossconfig.disc_start is given twice, line 6 (301) and line 8 (5)"),
    ("    disc_start: 301\n    disc_start: 301\n",
     "model.lossconfig.disc_start is given twice, line 6 (301) and line 7 (301)"),
    ("    disc_strat: 301\n", "unknown key model.lossconfig.disc_strat (did you mean model.lossconfig.disc_start?)"),
])
def test_a_config_giving_a_key_twice_or_mistyped_is_refused_before_training(tmp_path, twice, message):
    """PyYAML keeps the last of a key given twice in silence: the trainer refuses the file naming the key and both
    lines, one line on stderr, exit 2, nothing written (a mistyped key likewise, with the key it most likely meant)."""
    text = (ROOT / "trainer/configs/tiny.yaml").read_text().replace("    disc_start: 301\n", twice)
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["train", str(path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "Traceback" not in result.output and result.output.count("\n") == 1
    assert result.output == f"vae-report: error: {path}: {message}; " + result.output.split("; ", 1)[1]
    assert not (tmp_path / "run").exists()  # nothing started


def test_unwritable_out_is_refused_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = CliRunner().invoke(app, ["train", str(micro_config(tmp_path)), "--out", str(blocker / "run")])
    assert result.exit_code == 2 and "cannot write the run directory" in result.output


def test_a_fresh_run_never_writes_over_a_users_files_in_its_folder(tmp_path):
    config = micro_config(tmp_path)
    for name, text in (("config.yaml", "# my own notes on the config\n"), ("metrics.csv", "step,acc\n0,0.5\n"),
                       ("sample-1.png", "my picture")):
        out = tmp_path / name.split(".")[0]
        out.mkdir()
        (out / name).write_text(text)
        result = CliRunner().invoke(app, ["train", str(config), "--out", str(out)])
        assert result.exit_code == 2 and result.output.count("\n") == 1 and str(out / name) in result.output
        assert "--resume" in result.output and (out / name).read_text() == text
        assert [p.name for p in out.iterdir()] == [name]


_KILLED_IN_SAVE = """
import os, signal, sys
import torch
real, calls = torch.save, []
def save_then_killed(obj, path, *args, **kwargs):  # the second checkpoint is written whole, then SIGKILL
    real(obj, path, *args, **kwargs)
    calls.append(path)
    if len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
torch.save = save_then_killed
from trainer.main import run_training
run_training(sys.argv[1], sys.argv[2], quiet=True)
"""


def test_a_trainer_killed_mid_checkpoint_leaves_staging_the_next_save_removes(tmp_path):
    """SIGKILL while the step-12 checkpoint is staged: the checkpoint is not in place, its staging (named with the
    dead pid) is; resuming for 2 steps saves model-8.pt, and that save removes what the killed process staged."""
    import os
    import subprocess
    import sys

    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run([sys.executable, "-c", _KILLED_IN_SAVE, str(micro_config(tmp_path)), str(out)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr
    names = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert names[-1] == "model-6.pt" and len(names) == 2 and names[0].startswith(".model-12.pt.vae-report-"), names
    run_training(micro_config(tmp_path), out, max_steps=2, resume=True, quiet=True)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["model-6.pt", "model-8.pt"]
    assert not [p for p in out.iterdir() if ".vae-report-" in p.name or p.name.endswith(".tmp")]


def test_seed_config_without_its_data_fails_clearly():
    with pytest.raises(ConfigError, match="img_folder"):
        load_trainer_config(ROOT / "trainer/configs/first_radio.yaml")


def test_trained_run_analyzes_cleanly(tmp_path):
    from vae_report import analyze_run

    out = tmp_path / "run"
    run_training(micro_config(tmp_path, train_num_steps=12), out, quiet=True)
    a = analyze_run(out)
    assert a.schedule.disc_start == 6 and a.schedule.total_steps == 12
    assert a.step == 10
    bookkeeping = [f for f in a.findings if f.rule == "loss-bookkeeping"][0]
    assert bookkeeping.severity == "ok" and round(bookkeeping.numbers["pixels_per_sample"]) == 16 * 16
    assert not [f for f in a.findings if f.severity == "error"]
    assert np.isfinite(a.metrics["rec_loss"].latest)


def test_torchrun_trains_with_ddp_and_only_rank_zero_logs(tmp_path):
    import shutil
    import subprocess
    import sys

    torchrun = shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun not on PATH")
    out = tmp_path / "run"
    config = micro_config(tmp_path, threads=1)
    # --standalone: a free port on localhost (the default static port 29500 may be taken on a shared CI machine)
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "trainer", str(config), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    assert len(list(out.glob("*tfevents*"))) == 1 and len(list(out.glob("*_.log"))) == 1
    import pandas as pd

    assert pd.read_csv(out / "metrics.csv")["step"].tolist() == [0, 2, 4, 6, 8, 10]


def test_png_folder_in_radiomapseer_layout_is_read(tmp_path):
    from PIL import Image

    from trainer.data import PngRadioMaps

    folder = tmp_path / "RadioMapSeer" / "gain" / "DPM"
    folder.mkdir(parents=True)
    for i in range(3):
        pixels = np.full((16, 16), 51 * i, dtype=np.uint8)
        Image.fromarray(pixels, mode="L").save(folder / f"{i}_{i}.png")
    maps = PngRadioMaps(tmp_path / "RadioMapSeer")
    assert len(maps) == 3 and maps[0].shape == (1, 16, 16)
    assert maps[0].min() == -1.0 and maps[2].max() == pytest.approx(51 * 2 / 255 * 2 - 1)
    config = yaml.safe_load(micro_config(tmp_path).read_text())
    config["data"].update(name="radio", img_folder=str(folder))
    path = tmp_path / "png.yaml"
    path.write_text(yaml.safe_dump(config))
    out = run_training(path, tmp_path / "run", max_steps=2, quiet=True)
    assert (out / "metrics.csv").exists()


def test_perceptual_term_from_a_local_torchscript_file(tmp_path):
    class Distance(torch.nn.Module):
        def forward(self, x, y):
            return ((x - y) ** 2).mean(dim=[1, 2, 3]) * 10.0

    weights = tmp_path / "lpips.pt"
    torch.jit.script(Distance()).save(str(weights))
    plain = VaeGanLoss(disc_start=0, disc_in_channels=1, disc_num_layers=1)
    with_p = VaeGanLoss(disc_start=0, disc_in_channels=1, disc_num_layers=1, perceptual_weight=0.5,
                        perceptual_weights=str(weights))
    x, x_rec = torch.zeros(2, 1, 8, 8), torch.full((2, 1, 8, 8), 0.5)
    extra = with_p.reconstruction(x, x_rec) - plain.reconstruction(x, x_rec)
    assert torch.allclose(extra, torch.full_like(extra, 0.5 * 10.0 * 0.25))  # broadcast per sample


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_ctrl_c_saves_a_checkpoint_where_it_stopped_and_says_the_step(tmp_path, sig):
    """A real training process interrupted mid-run (Ctrl-C is SIGINT to the process) finishes its step, saves
    a checkpoint at that step, says so, and exits 130 (143 for SIGTERM); --resume continues from there."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import time

    import pandas as pd

    config = micro_config(tmp_path, train_num_steps=100_000, save_and_sample_every=0, log_freq=1)
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "trainer", str(config), "--out", str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:  # a few steps logged: training is under way
        csv = out / "metrics.csv"
        if csv.exists() and len(csv.read_text().splitlines()) > 3:
            break
        time.sleep(0.2)
    proc.send_signal(getattr(signal, sig))
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + getattr(signal, sig), stderr
    said = re.search(rf"stopped by {sig} at step (\d+): checkpoint checkpoints/model-(\d+)\.pt", stderr)
    assert said and said[1] == said[2], stderr
    step = int(said[1])
    checkpoint = torch.load(out / "checkpoints" / f"model-{step}.pt", map_location="cpu", weights_only=False)
    assert checkpoint["step"] == step and {"model", "opt_ae", "opt_disc"} <= set(checkpoint)
    logged = pd.read_csv(out / "metrics.csv")["step"].tolist()
    assert logged[-1] == step - 1  # every step it finished is logged (log_freq 1), and it saved after the last
    run_training(config, out, max_steps=2, resume=True, quiet=True)
    assert pd.read_csv(out / "metrics.csv")["step"].tolist() == logged + [step, step + 1]
