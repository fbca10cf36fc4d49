"""What the model produces: reconstruction grids (RadioDiff's ``sample-<n>.png``) and validation metrics.

A grid is the inputs on the top row and their reconstructions below, values in [-1, 1] shown as 0..255.
Validation runs on a fixed held-out set in eval mode without gradients: reconstruction loss as in training
(per pixel, |x - x'| plus the MSE for ``l1+mse``), PSNR and SSIM from torchmetrics (data range 2).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vae_report.writer import staged


def grid(inputs: torch.Tensor, reconstructions: torch.Tensor, count: int = 4) -> np.ndarray:
    """A uint8 image (H x W, or H x W x 3): inputs above, reconstructions below, side by side."""
    rows = []
    for batch in (inputs[:count], reconstructions[:count]):
        images = ((batch.detach().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy()
        rows.append(np.concatenate(list(images.transpose(0, 2, 3, 1)), axis=1))
    picture = np.concatenate(rows, axis=0)
    return picture[..., 0] if picture.shape[-1] == 1 else picture


def save_grid(picture: np.ndarray, path: Path) -> None:
    from PIL import Image

    with staged(path) as tmp:
        Image.fromarray(picture).save(tmp, format="PNG")


@torch.no_grad()
def validate(model, batch: torch.Tensor, pixel_loss: str) -> tuple[dict[str, float], torch.Tensor]:
    """Validation metrics on one fixed batch, and its reconstructions."""
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    was_training = model.training
    model.eval()
    reconstructions, _ = model(batch, sample_posterior=False)
    model.train(was_training)
    difference = batch - reconstructions
    rec = difference.abs() + (difference**2 if pixel_loss == "l1+mse" else 0)
    x, y = (reconstructions.clamp(-1, 1) + 1) / 2, (batch + 1) / 2
    metrics = {"val/rec_loss": float(rec.mean()),
               "val/psnr": float(peak_signal_noise_ratio(x, y, data_range=1.0)),
               "val/ssim": float(structural_similarity_index_measure(x, y, data_range=1.0))}
    return metrics, reconstructions
