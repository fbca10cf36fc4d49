"""Training speed of the bundled trainer on the tiny config: prints steps per second.

    python benchmarks/train_speed.py [--steps 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--config", default=str(ROOT / "trainer/configs/tiny.yaml"))
    args = parser.parse_args()
    import torch

    from trainer.main import run_training

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run_training(args.config, Path(tmp) / "run", max_steps=args.steps, quiet=True)
        seconds = time.perf_counter() - start
    print(f"config: {args.config}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{args.steps} steps in {seconds:.1f} s: {args.steps / seconds:.2f} steps/s "
          "(two forward passes, the adaptive weight's two gradients and both optimizer steps per step)")


if __name__ == "__main__":
    main()
