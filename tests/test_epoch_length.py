"""How many steps an epoch holds, read from the logs where a writer puts the epoch beside the step, so that a
config that gives the run's length in epochs (Lightning's max_epochs) still yields a total in steps."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from vae_report import analyze_run
from vae_report.readers.epochs import logged_epoch_length

pl = pytest.importorskip("pytorch_lightning")
torch = pytest.importorskip("torch")

BATCHES = 13  # batches an epoch: not a round number, so a guess from the logging interval cannot hit it


class EpochVae(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.enc, self.dec = torch.nn.Linear(16, 8), torch.nn.Linear(4, 16)

    def training_step(self, batch, _):
        (x,) = batch
        mean, logvar = self.enc(x).chunk(2, dim=1)
        rec = (self.dec(mean) - x).abs().mean()
        kl = 0.5 * (mean**2 + logvar.exp() - 1 - logvar).sum(dim=1).mean()
        self.log_dict({"train/rec_loss": rec, "train/kl_loss": kl})
        # as latent-diffusion logs aeloss: per step and per epoch (an epoch-end row at the epoch's last step)
        self.log("train/total_loss", rec + 1e-6 * kl, on_step=True, on_epoch=True)
        return rec + 1e-6 * kl

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)

    def train_dataloader(self):
        data = torch.utils.data.TensorDataset(torch.randn(BATCHES * 4, 16, generator=torch.Generator().manual_seed(0)))
        return torch.utils.data.DataLoader(data, batch_size=4)


@pytest.fixture(scope="module")
def lightning_run(tmp_path_factory):
    """A real Lightning fit of 4 epochs logging every 3 steps to CSV and TensorBoard, and an LDM-layout config
    asking for 10 epochs (the run was stopped early)."""
    root = tmp_path_factory.mktemp("epochs")
    loggers = [pl.loggers.CSVLogger(root, name="csv"), pl.loggers.TensorBoardLogger(root, name="tb")]
    trainer = pl.Trainer(max_epochs=4, logger=loggers, accelerator="cpu", log_every_n_steps=3,
                         enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False)
    trainer.fit(EpochVae())
    config = {"model": {"params": {"lossconfig": {"target": "ldm.modules.losses.LPIPSWithDiscriminator",
                                                   "params": {"disc_start": 100_001, "kl_weight": 1e-6}}}},
              "lightning": {"trainer": {"max_epochs": 10}}}
    for name in ("csv", "tb"):
        (root / name / "version_0" / "config.yaml").write_text(yaml.safe_dump(config))
    return root


@pytest.mark.parametrize("logger", ["csv", "tb"])
def test_a_total_in_epochs_is_turned_into_steps_by_the_epoch_the_logs_write(lightning_run, logger):
    a = analyze_run(lightning_run / logger / "version_0")
    assert a.schedule.total_steps == 10 * BATCHES
    origin = a.schedule.origins["total_steps"]
    assert f"max_epochs 10 x {BATCHES} steps per epoch" in origin and "epoch" in origin.rsplit("(as ", 1)[1]


def test_an_epoch_length_needs_two_whole_epochs_of_one_size():
    steps = np.arange(0, 5_000, 10, dtype=float)
    # 997 to 1,003 put every boundary in its 10-step gap
    assert logged_epoch_length(steps, (steps // 1_000).astype(float)) == (1_000, 3)
    assert logged_epoch_length(steps[:170], (steps[:170] // 1_000).astype(float)) is None  # one whole epoch
    # logged every 50 steps, 781 an epoch: each boundary known to 50 steps, the 20 epochs together fix it
    sparse = np.arange(49, 20 * 781, 50, dtype=float)
    assert logged_epoch_length(sparse, (sparse // 781).astype(float)) == (781, 0)
    # 5 epochs of 1,000 logged every 50: lengths from 984 to 1,016 fit every boundary, too loose to use
    aligned = np.arange(49, 5_000, 50, dtype=float)
    assert logged_epoch_length(aligned, (aligned // 1_000).astype(float)) is None
    # one row an epoch at the epoch's end (a per-epoch CSV): the steps between the rows are the epoch's length
    ends = np.arange(499, 40 * 500, 500, dtype=float)
    assert logged_epoch_length(ends, np.arange(40, dtype=float)) == (500, 0)
    uneven = ends.copy()
    uneven[5] += 7  # not the same place in every epoch: no exact length from the spacing
    assert logged_epoch_length(uneven, np.arange(40, dtype=float)) != (500, 0)
    bounds = np.array([0, 1_000, 1_500, 3_000, 3_100])  # epochs of 1,000, 500, 1,500 and 100 steps
    assert logged_epoch_length(steps, (np.searchsorted(bounds, steps, side="right") - 1).astype(float)) is None


def test_json_records_with_epoch_beside_step_give_the_length(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with (run / "log.jsonl").open("w") as handle:
        for step in range(0, 16_000, 25):  # 20 epochs: together they fix the length to the step
            handle.write(json.dumps({"step": step, "epoch": step // 781, "rec_loss": 1 / (1 + step)}) + "\n")
    (run / "config.yaml").write_text(yaml.safe_dump({"loss": {"kl_weight": 1e-6}, "max_epochs": 25}))
    a = analyze_run(run)
    assert a.schedule.total_steps == 25 * 781
    assert a.schedule.origins["total_steps"].endswith(
        "max_epochs 25 x 781 steps per epoch (as log.jsonl's epoch key shows)")
