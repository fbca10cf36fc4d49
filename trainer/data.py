"""Radio maps: a built-in synthetic set shaped like RadioMapSeer, or a folder of RadioMapSeer PNGs.

A synthetic map has a transmitter, rectangular building footprints, and received power that falls with the log
of the distance (a path-loss exponent drawn per map), attenuated by every building a ray crosses on its way;
buildings themselves are dark. Values are in [-1, 1], one channel, any size, and map ``i`` depends only on
``(seed, i)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset


def radio_map(size: int, rng: np.random.Generator) -> np.ndarray:
    """One synthetic radio map of ``size`` x ``size`` in [-1, 1]."""
    buildings = np.zeros((size, size), dtype=bool)
    for _ in range(rng.integers(4, 10)):
        h, w = rng.integers(size // 16 + 1, size // 4 + 2, size=2)
        y, x = rng.integers(0, size - h), rng.integers(0, size - w)
        buildings[y : y + h, x : x + w] = True
    free = np.argwhere(~buildings)
    ty, tx = free[rng.integers(len(free))]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    distance = np.hypot(yy - ty, xx - tx) + 1.0
    exponent = rng.uniform(1.8, 3.0)
    power = -10.0 * exponent * np.log10(distance)  # dB relative to 1 pixel from the transmitter
    # Count building pixels on the straight line from the transmitter to every pixel.
    samples = 24
    t = np.linspace(0.0, 1.0, samples, dtype=np.float32)[:, None, None]
    line_y = np.clip(np.rint(ty + (yy - ty) * t), 0, size - 1).astype(np.intp)
    line_x = np.clip(np.rint(tx + (xx - tx) * t), 0, size - 1).astype(np.intp)
    crossed = buildings[line_y, line_x].sum(axis=0) * (distance / samples)
    power -= rng.uniform(0.6, 1.2) * crossed  # dB lost per pixel of wall crossed
    lo = -10.0 * 3.0 * np.log10(size * 1.5) - 40.0
    image = np.clip((power - lo) / -lo, 0.0, 1.0)
    image[buildings] = 0.0
    return (image * 2.0 - 1.0).astype(np.float32)


class SyntheticRadioMaps(Dataset):
    def __init__(self, size: int, num_samples: int = 512, seed: int = 0):
        self.size, self.num_samples, self.seed = int(size), int(num_samples), int(seed)

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, index])
        return torch.from_numpy(radio_map(self.size, rng))[None]


class PngRadioMaps(Dataset):
    """RadioMapSeer's layout: a folder of grey PNGs (``gain/DPM/*.png`` or any folder), scaled to [-1, 1]."""

    def __init__(self, folder: Path):
        from PIL import Image  # matplotlib's dependency, so always there

        self.Image = Image
        self.files = sorted(p for p in Path(folder).rglob("*.png"))
        if not self.files:
            raise FileNotFoundError(f"{folder}: no PNG files")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> torch.Tensor:
        image = np.asarray(self.Image.open(self.files[index]).convert("L"), dtype=np.float32) / 255.0
        return torch.from_numpy(image * 2.0 - 1.0)[None]
