"""Sign conventions of other trainers, decided from the data before any rule reads it.

Many VAE loops (the PyTorch VAE example's descendants) compute ``KLD = 0.5 * sum(1 + logvar - mu^2 - exp(logvar))``,
which is minus the KL divergence, and optimise ``loss = rec - w * KLD``. Their logged ``KLD`` is negative by that
convention, not by a sign error: the logged total shows it (total = a * rec - w * KLD with w > 0). Read as -KLD,
the term is the KL every check expects; a negative KL the total does not explain stays for ``kl-negative``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..frame import make_frame

FIT_TOLERANCE = 0.01  # residual of the fit against the total, as a share (rms)
MIN_SHARED = 5


def _series(frame: pd.DataFrame, metric: str) -> pd.Series | None:
    part = frame[frame["metric"] == metric]
    if part.empty:
        return None
    return pd.Series(part["value"].to_numpy(), index=part["step"].to_numpy())


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x)))


def negative_kl_convention(frame: pd.DataFrame, prefix: str = "") -> dict | None:
    """The fit ``total = a * rec + b * kl`` (b < 0) when ``{prefix}kl_loss`` is logged as -KL, else None."""
    kl, total = _series(frame, prefix + "kl_loss"), _series(frame, prefix + "total_loss")
    if kl is None or total is None:
        return None
    finite = kl[np.isfinite(kl)]
    if len(finite) < MIN_SHARED or (finite > 0).mean() > 0.05 or not (finite < 0).any():
        return None
    for rec_name in (prefix + "rec_loss", prefix + "nll_loss"):
        rec = _series(frame, rec_name)
        if rec is None:
            continue
        joined = pd.concat({"t": total, "r": rec, "k": kl}, axis=1, join="inner").dropna()
        joined = joined[np.isfinite(joined).all(axis=1)]
        if len(joined) < MIN_SHARED:
            continue
        t, r, k = (joined[c].to_numpy() for c in ("t", "r", "k"))
        (a, b), *_ = np.linalg.lstsq(np.column_stack([r, k]), t, rcond=None)
        residual = _rms(t - a * r - b * k) / max(_rms(t), 1e-300)
        # the KL term must be visible in the total: without it the fit is clearly worse
        (a0,), *_ = np.linalg.lstsq(r[:, None], t, rcond=None)
        without = _rms(t - a0 * r) / max(_rms(t), 1e-300)
        if a > 0 and b < 0 and residual <= FIT_TOLERANCE and without > 3 * residual:
            return {"rec": rec_name, "a": float(a), "w": float(-b), "points": len(joined), "residual": residual}
    return None


def read_negative_kl(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """The frame with a KL logged as -KL (see the module's docstring) read as the KL, each said in ``notes``."""
    if frame.empty:
        return frame
    names = set(frame["metric"].cat.categories)
    flip: list[str] = []
    for prefix in ("", "val/"):
        fit = negative_kl_convention(frame, prefix) if prefix + "kl_loss" in names else None
        if fit is None:
            continue
        metric = prefix + "kl_loss"
        flip += [m for m in (metric, metric + "_epoch") if m in names]
        notes.append(f"the logged {metric} is negative, and the logged total shows why: the trainer's KLD is -KL, as "
                     f"in loss = rec - w x KLD ({prefix}total_loss = {fit['a']:.4g} x {fit['rec']} - {fit['w']:.4g} x "
                     f"logged {metric} at its {fit['points']:,} shared steps, to {100 * fit['residual']:.2g}%); a "
                     f"sign convention (minus sign), not a sign error: the KL is read as minus the logged values")
    if not flip:
        return frame
    values = frame["value"].to_numpy().copy()
    values[frame["metric"].isin(flip).to_numpy()] *= -1
    return make_frame(frame["step"].to_numpy(), frame["metric"].array, values, frame["wall_time"].to_numpy(),
                      frame["source"].array)
