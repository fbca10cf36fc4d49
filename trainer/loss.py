"""The LDM / RadioDiff VAE-GAN loss, term for term (``LPIPSWithDiscriminator``).

rec   = |x - x'| (+ (x - x')^2, RadioDiff) (+ perceptual_weight * perceptual(x, x'), broadcast per sample)
nll   = rec / exp(logvar) + logvar, summed over C*H*W and averaged over the batch
kl    = KL(q(z|x) || N(0, I)), summed over latent dimensions and averaged over the batch
AE    = nll + kl_weight * kl + d_weight * disc_factor * g_loss,   g_loss = -mean(D(x'))
disc  = disc_factor * 0.5 * (mean(relu(1 - D(x))) + mean(relu(1 + D(x'))))   (hinge; or the softplus "vanilla")
disc_factor = 0 while step < disc_start (``adopt_weight``), so step == disc_start is the first adversarial step.
d_weight = clamp(|grad nll| / (|grad g_loss| + 1e-4), 0, 1e4) * disc_weight, at the decoder's last layer.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F


def adopt_weight(weight: float, step: int, threshold: int = 0, value: float = 0.0) -> float:
    """``weight`` once ``step >= threshold``, ``value`` before."""
    return value if step < threshold else weight


def hinge_d_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * (torch.mean(F.relu(1.0 - logits_real)) + torch.mean(F.relu(1.0 + logits_fake)))


def vanilla_d_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * (torch.mean(F.softplus(-logits_real)) + torch.mean(F.softplus(logits_fake)))


class NLayerDiscriminator(nn.Module):
    """PatchGAN discriminator (pix2pix): strided 4x4 convs with BatchNorm and LeakyReLU, one logit per patch."""

    def __init__(self, input_nc: int = 3, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=False),
                       nn.BatchNorm2d(ndf * mult), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.main = nn.Sequential(*layers)
        for module in self.modules():  # pix2pix initialisation
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.02)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.normal_(module.weight, 1.0, 0.02)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class VaeGanLoss(nn.Module):
    def __init__(self, disc_start: int, kl_weight: float = 1.0, disc_weight: float = 1.0, disc_factor: float = 1.0,
                 disc_in_channels: int = 3, disc_num_layers: int = 3, disc_loss: str = "hinge",
                 logvar_init: float = 0.0, learn_logvar: bool = True, pixel_loss: str = "l1+mse",
                 perceptual_weight: float = 0.0, perceptual_weights: str | None = None):
        super().__init__()
        if disc_loss not in ("hinge", "vanilla"):
            raise ValueError(f"disc_loss must be 'hinge' or 'vanilla', got {disc_loss!r}")
        if pixel_loss not in ("l1", "l1+mse"):
            raise ValueError(f"pixel_loss must be 'l1' (LDM) or 'l1+mse' (RadioDiff), got {pixel_loss!r}")
        self.disc_start, self.kl_weight = int(disc_start), float(kl_weight)
        self.disc_weight, self.disc_factor = float(disc_weight), float(disc_factor)
        self.pixel_loss = pixel_loss
        # RadioDiff leaves logvar out of every optimizer; here it is learned unless learn_logvar is false.
        self.logvar = nn.Parameter(torch.full((), float(logvar_init)), requires_grad=learn_logvar)
        self.discriminator = NLayerDiscriminator(disc_in_channels, n_layers=disc_num_layers)
        self.disc_loss_fn = hinge_d_loss if disc_loss == "hinge" else vanilla_d_loss
        self.perceptual_weight = float(perceptual_weight)
        self.perceptual = None
        if self.perceptual_weight > 0:
            if not perceptual_weights:
                raise ValueError("perceptual_weight > 0 needs lossconfig.perceptual_weights (a local TorchScript file)")
            # A scripted module (x, x') -> per-sample distance, e.g. LPIPS exported where its weights can be had.
            self.perceptual = torch.jit.load(str(Path(perceptual_weights)), map_location="cpu").eval()
            for p in self.perceptual.parameters():
                p.requires_grad_(False)

    def reconstruction(self, x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
        rec = torch.abs(x - x_rec)
        if self.pixel_loss == "l1+mse":
            rec = rec + F.mse_loss(x, x_rec, reduction="none")
        if self.perceptual is not None:
            distance = self.perceptual(x.contiguous(), x_rec.contiguous()).reshape(-1, 1, 1, 1)
            rec = rec + self.perceptual_weight * distance
        return rec

    def adaptive_weight(self, nll: torch.Tensor, g_loss: torch.Tensor, last_layer: torch.Tensor) -> torch.Tensor:
        nll_grads = torch.autograd.grad(nll, last_layer, retain_graph=True)[0]
        g_grads = torch.autograd.grad(g_loss, last_layer, retain_graph=True)[0]
        weight = torch.norm(nll_grads) / (torch.norm(g_grads) + 1e-4)
        return torch.clamp(weight, 0.0, 1e4).detach() * self.disc_weight

    def forward(self, x, x_rec, posterior, optimizer_idx: int, step: int, last_layer=None, split: str = "train"):
        """(loss, log dict) for the autoencoder (idx 0) or the discriminator (idx 1)."""
        rec = self.reconstruction(x, x_rec)
        nll_map = rec / torch.exp(self.logvar) + self.logvar
        batch = nll_map.shape[0]
        nll = torch.sum(nll_map) / batch
        kl = torch.sum(posterior.kl()) / batch
        disc_factor = adopt_weight(self.disc_factor, step, threshold=self.disc_start)
        if optimizer_idx == 0:
            g_loss = -torch.mean(self.discriminator(x_rec.contiguous()))
            if self.disc_factor > 0 and self.training:
                d_weight = self.adaptive_weight(nll, g_loss, last_layer)
            else:
                d_weight = torch.tensor(0.0)
            loss = nll + self.kl_weight * kl + d_weight * disc_factor * g_loss
            log = {"total_loss": loss, "logvar": self.logvar, "kl_loss": kl, "nll_loss": nll, "rec_loss": rec.mean(),
                   "d_weight": d_weight, "disc_factor": torch.tensor(disc_factor), "g_loss": g_loss}
        else:
            logits_real = self.discriminator(x.contiguous().detach())
            logits_fake = self.discriminator(x_rec.contiguous().detach())
            loss = disc_factor * self.disc_loss_fn(logits_real, logits_fake)
            log = {"disc_loss": loss, "logits_real": logits_real.mean(), "logits_fake": logits_fake.mean()}
        return loss, {f"{split}/{k}": float(v.detach().clone().mean()) for k, v in log.items()}
