"""The Lightning callback, in a real (tiny, CPU) Lightning fit logging with CSVLogger."""

import json
import logging
import time

import pytest

pl = pytest.importorskip("pytorch_lightning")
torch = pytest.importorskip("torch")

from vae_report.lightning import ReportCallback  # noqa: E402
from vae_report.readers import discover  # noqa: E402


class TinyVae(pl.LightningModule):
    """A linear autoencoder logging the terms of a VAE loss; ``fail_at``: raise in that training step."""

    def __init__(self, fail_at=None):
        super().__init__()
        self.enc, self.dec = torch.nn.Linear(16, 8), torch.nn.Linear(4, 16)
        self.fail_at = fail_at

    def training_step(self, batch, _):
        if self.fail_at is not None and self.global_step >= self.fail_at:
            raise RuntimeError("the user's own bug")
        (x,) = batch
        mean, logvar = self.enc(x).chunk(2, dim=1)
        rec = (self.dec(mean + torch.randn_like(mean) * (0.5 * logvar).exp()) - x).abs().mean()
        kl = 0.5 * (mean**2 + logvar.exp() - 1 - logvar).sum(dim=1).mean()
        self.log_dict({"train/rec_loss": rec, "train/kl_loss": kl, "train/total_loss": rec + 1e-6 * kl},
                      on_step=True, on_epoch=False)
        return rec + 1e-6 * kl

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)

    def train_dataloader(self):
        data = torch.utils.data.TensorDataset(torch.randn(64, 16, generator=torch.Generator().manual_seed(0)))
        return torch.utils.data.DataLoader(data, batch_size=4)


class TimedCallback(ReportCallback):
    """Records how long each checkpoint hook held the training loop."""

    held: list

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        started = time.perf_counter()
        super().on_save_checkpoint(trainer, pl_module, checkpoint)
        self.held = [*getattr(self, "held", []), time.perf_counter() - started]


def _fit(tmp_path, callback, module=None, steps=12):
    logger = pl.loggers.CSVLogger(tmp_path, name="lightning_logs")
    checkpoints = pl.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=4, save_top_k=-1)
    trainer = pl.Trainer(max_steps=steps, logger=logger, callbacks=[checkpoints, callback], accelerator="cpu",
                         log_every_n_steps=1, enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=tmp_path)
    trainer.fit(module or TinyVae())
    return trainer


def test_checkpoint_saves_and_fit_end_write_the_report_and_json(tmp_path):
    callback = TimedCallback()
    trainer = _fit(tmp_path, callback)
    folder = tmp_path / "lightning_logs" / "version_0"
    assert callback.background.run_dir == folder == tmp_path / trainer.log_dir.removeprefix(str(tmp_path) + "/")
    # beside the log folder, never inside it (a file there would be read as a log of the run by the next pass)
    summary = json.loads((folder.parent / "version_0.report.json").read_text())
    assert summary["step"] == 11 and {"rec_loss", "kl_loss", "total_loss"} <= set(summary["metrics"])
    # eval13 b5_lightning_cb: the end-of-fit report said 'total unknown' with trainer.max_steps in hand
    assert (summary["schedule"]["total_steps"], summary["finished"]) == (12, True)
    assert "<html" in (folder.parent / "version_0.report.html").read_text()[:500].lower()
    assert not [p for p in folder.iterdir() if "report" in p.name]
    # the summary beside the version folder is ours: the parent folder read as a whole finds only the CSV
    assert discover(folder.parent)["json"] == []
    # three checkpoint saves asked for reports without waiting for them; the first ran, the final one ran last
    assert len(callback.held) == 3 and max(callback.held) < 0.05
    assert callback.background.passes >= 2 and callback.background.failures == 0


def test_an_exception_in_the_fit_still_writes_the_report(tmp_path):
    with pytest.raises(RuntimeError, match="the user's own bug"):
        _fit(tmp_path, ReportCallback(), TinyVae(fail_at=7))
    summary = json.loads((tmp_path / "lightning_logs" / "version_0.report.json").read_text())
    assert summary["step"] == 6
    # eval13 b5_lightning_cb_raises: the report written because the fit raised said 'Keep it running'
    assert summary["ended"] == "the fit raised RuntimeError: the user's own bug"
    page = (tmp_path / "lightning_logs" / "version_0.report.html").read_text()
    assert "ended early (the fit raised RuntimeError" in page and "eep it running" not in page


def test_a_failing_analysis_never_fails_the_fit(tmp_path, caplog):
    callback = ReportCallback(args=["--config", str(tmp_path / "no_such_config.yaml")])
    with caplog.at_level(logging.WARNING, logger="vae_report"):
        trainer = _fit(tmp_path, callback)
    assert trainer.global_step == 12 and callback.background.failures >= 1
    assert any("failed (exit 2)" in r.getMessage() and "no_such_config.yaml" in r.getMessage()
               for r in caplog.records)
    assert not (tmp_path / "lightning_logs" / "version_0.report.json").exists()


class TwoOptimizerVae(TinyVae):
    """Manual optimization with an autoencoder and a discriminator optimizer: Lightning's global_step counts both
    optimizers' steps, the loggers' step the batches, so a disc_start in global steps is reached at half of it."""

    def __init__(self, disc_start, fail_at=None):
        super().__init__(fail_at)
        self.automatic_optimization = False
        self.disc = torch.nn.Linear(16, 1)
        self.disc_start = disc_start

    def training_step(self, batch, _):
        if self.fail_at is not None and self.global_step >= self.fail_at:
            raise RuntimeError("the user's own bug")
        (x,) = batch
        opt_ae, opt_d = self.optimizers()
        mean, logvar = self.enc(x).chunk(2, dim=1)
        rec = (self.dec(mean) - x).abs().mean()
        kl = 0.5 * (mean**2 + logvar.exp() - 1 - logvar).sum(dim=1).mean()
        on = float(self.global_step >= self.disc_start)
        opt_ae.zero_grad()
        self.manual_backward(rec + 1e-6 * kl)
        opt_ae.step()
        d_loss = on * torch.relu(1 - self.disc(x)).mean()
        opt_d.zero_grad()
        self.manual_backward(d_loss + 0 * self.disc(x).sum())
        opt_d.step()
        self.log_dict({"train/rec_loss": rec, "train/kl_loss": kl, "train/total_loss": rec + 1e-6 * kl,
                       "train/disc_factor": on, "train/disc_loss": d_loss}, on_step=True, on_epoch=False)

    def configure_optimizers(self):
        return [torch.optim.Adam([*self.enc.parameters(), *self.dec.parameters()], lr=1e-2),
                torch.optim.Adam(self.disc.parameters(), lr=1e-3)]


@pytest.mark.parametrize("fail_at", [None, 70])
def test_two_optimizers_max_steps_and_checkpoints_are_read_in_the_logged_unit(tmp_path, fail_at):
    """eval14 c_lightning_callback: max_steps 200 counts both optimizers' steps, the logs 100 batches: the
    end-of-fit report said "step 99 of 200 (49.5%) ... continue training" beside disc_start halved; after a crash,
    "resume from epoch=1-step=50.ckpt (step 50)" while the run was at step 34."""
    logger = pl.loggers.CSVLogger(tmp_path, name="lightning_logs")
    # Lightning's own place for them: <log_dir>/checkpoints/epoch=E-step=S.ckpt, S its global step
    checkpoints = pl.callbacks.ModelCheckpoint(every_n_train_steps=12, save_top_k=-1)
    trainer = pl.Trainer(max_steps=200, logger=logger, accelerator="cpu", log_every_n_steps=1,
                         callbacks=[checkpoints, ReportCallback(args=["--disc-start", "60"])],
                         enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    if fail_at is None:
        trainer.fit(TwoOptimizerVae(disc_start=60))
    else:
        with pytest.raises(RuntimeError, match="the user's own bug"):
            trainer.fit(TwoOptimizerVae(disc_start=60, fail_at=fail_at))
    summary = json.loads((tmp_path / "lightning_logs" / "version_0.report.json").read_text())
    assert summary["schedule"]["step_unit"] == 2 and summary["schedule"]["total_steps"] == 100
    if fail_at is None:
        assert summary["step"] == 99 and summary["finished"] is True
    else:
        page = (tmp_path / "lightning_logs" / "version_0.report.html").read_text()
        assert summary["step"] == 34 and "checkpoints/epoch=1-step=60.ckpt (step 30)" in page, \
            page[page.find("resume"):][:300]
