"""The run's logs: TensorBoard and CSV with ``train/`` tags, plus RadioDiff's text log, written by rank 0.

Every ``log_freq`` steps: all loss terms and the learning rate in effect for that step. A resumed run opens a
new event file and a new text log (as real restarts do) and appends to the CSV.
"""

from __future__ import annotations

import csv
import logging
import sys
import time
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

KEYS = ["train/total_loss", "train/logvar", "train/kl_loss", "train/nll_loss", "train/rec_loss", "train/d_weight",
        "train/disc_factor", "train/g_loss", "train/disc_loss", "train/logits_real", "train/logits_fake", "train/lr"]


class RunLogger:
    def __init__(self, out: Path, config: dict, total_steps: int, quiet: bool = False):
        self.out, self.total_steps, self.quiet = out, total_steps, quiet
        self.tb = SummaryWriter(str(out))
        csv_path = out / "metrics.csv"
        new = not csv_path.exists()
        self.csv_handle = csv_path.open("a", newline="")
        self.csv = csv.writer(self.csv_handle)
        if new:
            self.csv.writerow(["step", "wall_time", *KEYS])
        self.text = logging.getLogger(f"vae-report-trainer-{id(self)}")
        self.text.propagate = False
        self.text.setLevel(logging.INFO)
        # RadioDiff's create_logger: <results_folder>/<%Y-%m-%d-%H-%M>_.log, "%(asctime)-15s %(message)s"
        name = time.strftime("%Y-%m-%d-%H-%M") + "_.log"
        while (out / name).exists():  # a quick restart within the same minute
            name = name.replace("_.log", "-_.log")
        self.handler = logging.FileHandler(out / name)
        self.handler.setFormatter(logging.Formatter("%(asctime)-15s %(message)s"))
        self.text.addHandler(self.handler)
        self.text.info(config)

    def log(self, step: int, logs: list[dict], lr: float) -> None:
        now = time.time()
        values = {**logs[0], **logs[1], "train/lr": lr}
        for key in KEYS:
            self.tb.add_scalar(key, values[key], step, walltime=now)
        self.csv.writerow([step, f"{now:.3f}", *(repr(float(values[k])) for k in KEYS)])
        for part in logs:  # two lines per logged step, as RadioDiff's loop over the optimizers
            line = dict(part, lr=lr)
            text = "".join(f"{k}: {v:.5f}, " for k, v in line.items())
            self.text.info(f"[Train Step] {step}/{self.total_steps}: " + text)
        if not self.quiet:
            print(f"step {step}/{self.total_steps}  rec {values['train/rec_loss']:.4f}  "
                  f"kl {values['train/kl_loss']:.1f}  disc {values['train/disc_loss']:.3f}", file=sys.stderr)

    def close(self, step: int, seconds: float) -> None:
        self.tb.close()
        self.csv_handle.close()
        self.handler.close()
        self.text.removeHandler(self.handler)
        if not self.quiet:
            print(f"stopped at step {step} after {seconds:.0f} s; logs in {self.out}", file=sys.stderr)
