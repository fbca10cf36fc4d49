"""The run's logs: TensorBoard and CSV with ``train/`` tags, plus RadioDiff's text log, written by rank 0.

Every ``log_freq`` steps: all loss terms and the learning rate in effect for that step, flushed at once so a
report read during training sees them. A resumed run opens a new event file and a new text log (as real
restarts do) and rewrites the CSV without its rows at or after the resume step (they are about to be redone).
Progress: a bar on a terminal; elsewhere (CI, nohup) one line per log interval.
"""

from __future__ import annotations

import csv
import logging
import sys
import time
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

from vae_report.writer import staged

KEYS = ["train/total_loss", "train/logvar", "train/kl_loss", "train/nll_loss", "train/rec_loss", "train/d_weight",
        "train/disc_factor", "train/g_loss", "train/disc_loss", "train/logits_real", "train/logits_fake", "train/lr"]
VAL_KEYS = ["val/rec_loss", "val/psnr", "val/ssim"]


def _drop_rows_from(path: Path, step: int) -> None:
    """Rewrite a CSV (atomically) without its rows at or after ``step``."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    kept = rows[:1] + [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) < step]
    with staged(path) as tmp, tmp.open("w", newline="") as handle:
        csv.writer(handle).writerows(kept)


class RunLogger:
    def __init__(self, out: Path, config: dict, total_steps: int, quiet: bool = False,
                 resume_step: int | None = None):
        self.out, self.total_steps, self.quiet = out, total_steps, quiet
        self.tb = SummaryWriter(str(out))
        self.header = ["step", "wall_time", *KEYS] + (VAL_KEYS if config["data"].get("val_size") else [])
        csv_path = out / "metrics.csv"
        if resume_step is not None and csv_path.exists():
            _drop_rows_from(csv_path, resume_step)
        new = not csv_path.exists()
        self.csv_handle = csv_path.open("a", newline="")
        self.csv = csv.writer(self.csv_handle)
        if new:
            self.csv.writerow(self.header)
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total_steps, initial=resume_step or 0, file=sys.stderr, unit="step",
                            dynamic_ncols=True)
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
        row = [step, f"{now:.3f}", *(repr(float(values[k])) for k in KEYS)]
        self.csv.writerow(row + [""] * (len(self.header) - len(row)))
        for part in logs:  # two lines per logged step, as RadioDiff's loop over the optimizers
            line = dict(part, lr=lr)
            text = "".join(f"{k}: {v:.5f}, " for k, v in line.items())
            self.text.info(f"[Train Step] {step}/{self.total_steps}: " + text)
        self._flush()
        latest = (f"rec {values['train/rec_loss']:.4f}  kl {values['train/kl_loss']:.1f}  "
                  f"disc {values['train/disc_loss']:.3f}")
        if self.bar is not None:
            self.bar.set_postfix_str(latest, refresh=False)
            self.bar.update(step + 1 - self.bar.n)
        elif not self.quiet:
            print(f"step {step}/{self.total_steps}  {latest}", file=sys.stderr, flush=True)

    def log_validation(self, step: int, metrics: dict[str, float]) -> None:
        now = time.time()
        for key, value in metrics.items():
            self.tb.add_scalar(key, value, step, walltime=now)
        self.csv.writerow([step, f"{now:.3f}"] + [""] * len(KEYS) + [repr(float(metrics[k])) for k in VAL_KEYS])
        self.text.info(f"[Val Step] {step}/{self.total_steps}: " + "".join(f"{k}: {v:.5f}, "
                                                                          for k, v in metrics.items()))
        self._flush()

    def image(self, tag: str, picture, step: int) -> None:
        self.tb.add_image(tag, picture, step, dataformats="HW" if picture.ndim == 2 else "HWC")
        self.tb.flush()

    def _flush(self) -> None:
        # a report read while training runs must see what was logged (the CSV stayed empty for minutes)
        self.csv_handle.flush()
        self.tb.flush()
        self.handler.flush()

    def close(self, step: int, seconds: float) -> None:
        if self.bar is not None:
            self.bar.close()
        self.tb.close()
        self.csv_handle.close()
        self.handler.close()
        self.text.removeHandler(self.handler)
        if not self.quiet:
            print(f"stopped at step {step} after {seconds:.0f} s; logs in {self.out}", file=sys.stderr)
