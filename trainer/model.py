"""LDM's KL autoencoder (``AutoencoderKL``): ResNet encoder/decoder, optional attention, Gaussian posterior.

Same layers and parameter layout as latent-diffusion / RadioDiff, so a config gives the same parameter count.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=32, num_channels=channels, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, dropout: float):
        super().__init__()
        self.norm1, self.conv1 = norm(in_ch), nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.norm2, self.dropout = norm(out_ch), nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.nin_shortcut = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (x if self.nin_shortcut is None else self.nin_shortcut(x)) + h


class AttnBlock(nn.Module):
    """Single-head spatial self-attention with 1x1 projections."""

    def __init__(self, ch: int):
        super().__init__()
        self.norm = norm(ch)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(ch, ch, 1) for _ in range(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        b, c, hh, ww = x.shape
        q, k, v = (t.reshape(b, c, hh * ww).transpose(1, 2) for t in (self.q(h), self.k(h), self.v(h)))
        out = F.scaled_dot_product_attention(q, k, v)
        return x + self.proj_out(out.transpose(1, 2).reshape(b, c, hh, ww))


class Downsample(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # asymmetric padding, as LDM


class Upsample(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def _resolution(value) -> int:
    return int(value[0]) if isinstance(value, (list, tuple)) else int(value)


class Encoder(nn.Module):
    def __init__(self, *, ch, ch_mult, num_res_blocks, attn_resolutions, dropout, in_channels, resolution,
                 z_channels, double_z=True, **_):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        res = _resolution(resolution)
        in_mult = (1, *ch_mult)
        self.down = nn.ModuleList()
        for level, mult in enumerate(ch_mult):
            stage = _stage(ch * in_mult[level], ch * mult, num_res_blocks, dropout, res in attn_resolutions)
            block_in = ch * mult
            if level != len(ch_mult) - 1:
                stage.downsample = Downsample(block_in)
                res //= 2
            self.down.append(stage)
        self.mid = _middle(block_in, dropout)
        self.norm_out = norm(block_in)
        self.conv_out = nn.Conv2d(block_in, 2 * z_channels if double_z else z_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for stage in self.down:
            h = _run_stage(stage, h)
            if hasattr(stage, "downsample"):
                h = stage.downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, *, ch, out_ch, ch_mult, num_res_blocks, attn_resolutions, dropout, resolution, z_channels,
                 **_):
        super().__init__()
        block_in = ch * ch_mult[-1]
        res = _resolution(resolution) // 2 ** (len(ch_mult) - 1)
        self.conv_in = nn.Conv2d(z_channels, block_in, 3, padding=1)
        self.mid = _middle(block_in, dropout)
        self.up = nn.ModuleList()
        for level in reversed(range(len(ch_mult))):
            stage = _stage(block_in, ch * ch_mult[level], num_res_blocks + 1, dropout, res in attn_resolutions)
            block_in = ch * ch_mult[level]
            if level != 0:
                stage.upsample = Upsample(block_in)
                res *= 2
            self.up.insert(0, stage)
        self.norm_out = norm(block_in)
        self.conv_out = nn.Conv2d(block_in, out_ch, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(z)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        for stage in reversed(self.up):
            h = _run_stage(stage, h)
            if hasattr(stage, "upsample"):
                h = stage.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


def _stage(in_ch: int, out_ch: int, count: int, dropout: float, attention: bool) -> nn.Module:
    """``count`` ResNet blocks (each followed by attention at the listed resolutions), LDM's module layout."""
    stage = nn.Module()
    stage.block = nn.ModuleList(ResnetBlock(in_ch if i == 0 else out_ch, out_ch, dropout) for i in range(count))
    stage.attn = nn.ModuleList(AttnBlock(out_ch) for _ in range(count if attention else 0))
    return stage


def _run_stage(stage: nn.Module, h: torch.Tensor) -> torch.Tensor:
    for i, block in enumerate(stage.block):
        h = block(h)
        if len(stage.attn):
            h = stage.attn[i](h)
    return h


def _middle(ch: int, dropout: float) -> nn.Module:
    mid = nn.Module()
    mid.block_1, mid.attn_1, mid.block_2 = ResnetBlock(ch, ch, dropout), AttnBlock(ch), ResnetBlock(ch, ch, dropout)
    return mid


class DiagonalGaussian:
    """The posterior q(z|x): mean and log-variance from the encoder's moments."""

    def __init__(self, moments: torch.Tensor):
        self.mean, logvar = torch.chunk(moments, 2, dim=1)
        self.logvar = torch.clamp(logvar, -30.0, 20.0)
        self.std = torch.exp(0.5 * self.logvar)
        self.var = torch.exp(self.logvar)

    def sample(self) -> torch.Tensor:
        return self.mean + self.std * torch.randn_like(self.mean)

    def mode(self) -> torch.Tensor:
        return self.mean

    def kl(self) -> torch.Tensor:
        """KL to N(0, I) per sample, summed over every latent dimension."""
        return 0.5 * torch.sum(self.mean.pow(2) + self.var - 1.0 - self.logvar, dim=[1, 2, 3])


class AutoencoderKL(nn.Module):
    def __init__(self, ddconfig: dict, embed_dim: int):
        super().__init__()
        if not ddconfig.get("double_z", True):
            raise ValueError("AutoencoderKL needs ddconfig.double_z: true (mean and log-variance)")
        self.encoder = Encoder(**ddconfig)
        self.decoder = Decoder(**ddconfig)
        self.quant_conv = nn.Conv2d(2 * ddconfig["z_channels"], 2 * embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(embed_dim, ddconfig["z_channels"], 1)

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        return DiagonalGaussian(self.quant_conv(self.encoder(x)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.post_quant_conv(z))

    def forward(self, x: torch.Tensor, sample_posterior: bool = True):
        posterior = self.encode(x)
        z = posterior.sample() if sample_posterior else posterior.mode()
        return self.decode(z), posterior

    def last_layer(self) -> torch.Tensor:
        return self.decoder.conv_out.weight
