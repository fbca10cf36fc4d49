"""The metric frame: one long pandas frame shared by every reader, rule and plot.

Columns: ``step`` (int64), ``metric`` (canonical name), ``value`` (float64), ``wall_time`` (float64 seconds,
NaN where the source has none), ``source`` (the file a point came from).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .numbers import counted, listed

COLUMNS = ["step", "metric", "value", "wall_time", "source"]

# Tag suffix (after any "train/" prefix) -> canonical name. Tags that map to none keep their own name.
_CANONICAL = {
    "total_loss": "total_loss",
    "rec_loss": "rec_loss",
    "nll_loss": "nll_loss",
    "kl_loss": "kl_loss",
    "g_loss": "g_loss",
    "disc_loss": "disc_loss",
    "d_weight": "d_weight",
    "disc_factor": "disc_factor",
    "logits_real": "logits_real",
    "logits_fake": "logits_fake",
    "logvar": "logvar",
    "lr": "lr",
    "learning_rate": "lr",
    "lr-adam": "lr",  # Lightning's LearningRateMonitor: first optimizer (autoencoder)
    "lr-adamw": "lr",
    "lr-adam-1": "lr_disc",  # ... and the discriminator's
    "lr-adamw-1": "lr_disc",
    "aeloss": "aeloss",
    "discloss": "disc_loss",  # taming/LDM log the discriminator's loss under both names, the same value
    "quant_loss": "quant_loss",  # taming's VQ codebook loss
    "codebook_loss": "quant_loss",
    "p_loss": "p_loss",  # perceptual term
}

KNOWN_METRICS = frozenset(_CANONICAL.values())
LOSS_METRICS = ("total_loss", "rec_loss", "kl_loss", "disc_loss")
# Counters and clocks some writers log beside the metrics (Lightning's "epoch", TestTube's "global_step",
# W&B's "_runtime"): the step axis and the wall time, not metrics.
COUNTERS = {"epoch", "global_step", "step", "trainer/global_step", "_step", "_runtime", "_timestamp", "total_steps"}


# The gradient's total norm as trainers log it: what torch's clip_grad_norm_ returns (the norm before clipping),
# as Hugging Face's Trainer (grad_norm), accelerate, fairseq (gnorm) and Lightning's grad_norm utility
# (grad_2.0_norm_total) log it; a name saying it was taken after clipping is the clipped norm.
_NORM_NAMES = ("total_norm", "gnorm", "global_norm")
_PRECLIP_WORDS = ("preclip", "pre_clip", "before_clip", "unclipped", "raw")
_POSTCLIP_WORDS = ("clipped", "after_clip", "post_clip", "postclip")


def gradient_norms(names: Iterable[str]) -> dict[str, str]:
    """{name: "pre" or "post"} for the logged total gradient norms (not per-layer ones, not validation's):
    "post" where the name says it was taken after clipping, else "pre" (what the trainers return and log)."""
    out = {}
    for name in names:
        low = str(name).lower()
        parts = low.split("/")
        if parts[0] in _SPLITS or not (("grad" in low and "norm" in low) or parts[-1] in _NORM_NAMES):
            continue
        if len(parts) > 1 and "norm" not in parts[-1] and parts[-1] != "total":
            continue  # a layer's norm (Lightning's grad_2.0_norm/encoder.conv_in.weight)
        clipped = any(w in low for w in _POSTCLIP_WORDS) and not any(w in low for w in _PRECLIP_WORDS)
        out[str(name)] = "post" if clipped else "pre"
    return out


# Stable Diffusion's sgm (GeneralLPIPSWithDiscriminator) nests its names: train/loss/rec, train/scalars/logvar, ...
_NESTED = {
    "loss/total": "total_loss", "loss/nll": "nll_loss", "loss/rec": "rec_loss", "loss/g": "g_loss",
    "loss/disc": "disc_loss", "loss/kl": "kl_loss", "scalars/logvar": "logvar", "scalars/d_weight": "d_weight",
    "scalars/disc_factor": "disc_factor", "logits/real": "logits_real", "logits/fake": "logits_fake",
}
_SPLITS = {"val": "val", "validation": "val", "valid": "val", "eval": "val", "evaluation": "val", "test": "val",
           "val_ema": "val_ema"}
# A nesting level named by one of these words groups the metrics (``{"losses": {"rec": ..}}``,
# ``metrics/psnr``), it does not name a split: it is no part of the metric's name. ``train_metrics`` /
# ``val_losses`` keep their split word.
_GROUPS = {"loss", "losses", "metric", "metrics", "scalar", "scalars", "stat", "stats", "statistics", "log", "logs",
           "logged", "values", "summary", "summaries", "scores", "terms"}
_SPLIT_HEADS = {"train", "training", *_SPLITS, "valid"}
# A nesting level named by the part of the model its values come from (``{"disc": {"disc_loss": ..}}``,
# ``generator/g_loss``): no part of a name that says it already. A bare ``loss`` under the discriminator is its
# loss; under the generator it may be the autoencoder's whole objective or its adversarial term: left as logged
_PARTS = {"disc": "disc_loss", "discriminator": "disc_loss", "dis": "disc_loss", "d": "disc_loss",
          "gen": None, "generator": None, "g": None, "ae": None, "autoencoder": None, "vae": None, "model": None}

# Other trainers' names for the same terms (MONAI, Keras examples, LlamaGen/MaskGIT tokenizers, plain PyTorch loops).
# Adopted only when the run logs no metric of the canonical name itself (see ``adopted_names``): a run that logs
# both ``loss`` and ``total_loss`` keeps both apart. First match wins.
ROLE_ALIASES = {
    "rec_loss": ("recons_loss", "recon_loss", "reconstruction_loss", "reconstruct_loss", "reconst_loss", "rec", "recon",
                 "recons", "reconstruction", "loss_rec", "loss_recon", "vae_r_loss", "r_loss", "l1_loss", "mse_loss",
                 "mse", "bce", "bce_loss", "pixel_loss", "l_rec", "l_pix"),  # l_*: BasicSR's names (VQFR, CodeFormer)
    "nll_loss": ("nll", "loss_nll", "nll_term", "neg_log_likelihood"),
    "kl_loss": ("kld", "kl", "kl_div", "kl_divergence", "kld_loss", "loss_kl", "vae_kl_loss", "kl_term"),
    "disc_loss": ("d_loss", "loss_d", "discriminator_loss", "discriminator_adv_loss", "disc_adv_loss", "dis_loss",
                  "loss_disc", "d_adv_loss"),
    "g_loss": ("generator_adv_loss", "gen_adv_loss", "g_adv_loss", "adv_loss", "adversarial_loss", "loss_g_adv",
               "l_g_gan", "loss_g", "errg"),  # DCGAN's Loss_G / errG: the generator's adversarial loss
    "p_loss": ("perceptual_loss", "lpips_loss", "lpips", "percep_loss", "loss_p", "l_percep", "l_g_percep"),
    "quant_loss": ("vq_loss", "loss_vq", "commit_loss", "commitment_loss", "commitment", "quantized_loss",
                   "quantization_loss", "quantized", "quantize_loss", "l_codebook"),
    "total_loss": ("loss", "total", "loss_total", "vae_loss", "l_total_g", "l_total"),
}
# ``loss`` beside an autoencoder objective of its own (Lightning's progress-bar loss next to LDM's aeloss) is a
# running mean over both optimizers' losses, not the total
_NOT_TOTAL_BESIDE = {"aeloss"}
# words around a term's name that say which split or which average it is (``avg_val_loss``, ``Val Loss``,
# ``train_reconstruction_loss``), not which term
_SPLIT_WORDS = {"val", "valid", "validation", "eval", "test"}
_PLAIN_WORDS = {"train", "training", "avg", "average", "mean"}


def _role_key(name: str) -> tuple[str, str, str, bool]:
    """(split prefix, ``_epoch`` suffix, the term's own words, whether a grouping level of the writer's own was
    passed over) of a logged name: ``avg_val_loss`` -> ("val", "", "loss", False), ``train/Reconstruction Loss``
    -> ("train", "", "reconstruction_loss", False), ``gan/adv_loss`` -> ("", "", "adv_loss", True); a level
    naming a split below another (``gan/val/adv_loss``) keeps the whole prefix."""
    prefix, _, base = name.rpartition("/") if "/" in name else ("", "", name)
    grouped = False
    if prefix:
        levels = prefix.split("/")
        split = levels[0] if levels[0].lower() in _SPLITS or levels[0].lower() in ("train", "training") else ""
        below = levels[1:] if split else levels
        if not any(_names_split(level) for level in below):
            prefix, grouped = split, bool(below)
    suffix = "_epoch" if base.endswith("_epoch") and len(base) > 6 else ""
    words = "_".join(base[: len(base) - len(suffix)].lower().split()).split("_")
    if len(words) > 1:
        split = any(w in _SPLIT_WORDS for w in words)
        kept = [w for w in words if w not in _SPLIT_WORDS and w not in _PLAIN_WORDS]
        if kept:
            words = kept
            if split and not prefix:
                prefix = "val"
    return prefix, suffix, "_".join(words), grouped


def adopted_names(names: Iterable[str], notes: list[str] | None = None) -> dict[str, str]:
    """{logged name: canonical name} for the terms a run logs under another trainer's name (``recons_loss``,
    ``kld``, ``d_loss``, ``MSE``...), per split (``val/recons_loss``, ``avg_val_loss``, ``Val Loss`` -> val/), for
    ``*_epoch`` averages and under grouping levels of the writer's own (``gan/adv_loss``); never onto a canonical
    name the run already logs, and not where two such names would read as one (said in ``notes``)."""
    names = [str(n) for n in names]
    present = set(names)
    out: dict[str, str] = {}
    # (split prefix, suffix) -> {normalised base: [(grouped, name)]}
    groups: dict[tuple[str, str], dict[str, list[tuple[bool, str]]]] = {}
    for name in names:
        prefix, suffix, base, grouped = _role_key(name)
        groups.setdefault((prefix, suffix), {}).setdefault(base, []).append((grouped, name))
    for (prefix, suffix), bases in groups.items():
        for role, candidates in ROLE_ALIASES.items():
            target = (f"{prefix}/" if prefix else "") + role + suffix
            if target in present:
                continue
            if role == "total_loss" and _NOT_TOTAL_BESIDE & set(bases):
                continue
            for c in (role, *candidates):
                free = [(grouped, n) for grouped, n in bases.get(c, []) if n not in out]
                own = [n for grouped, n in free if not grouped]  # a name without a grouping level goes first
                found = own[:1] or [n for _, n in free]
                if len(found) > 1:
                    if notes is not None:
                        notes.append(f"{listed(found)} would each read as {target} (a known name under a grouping "
                                     f"level of the writer's own): none of them taken as {target}, each kept under "
                                     "its own name")
                    break
                if found:
                    if found[0] != target:
                        out[found[0]] = target
                    break
    return out


def canonical_name(tag: str, any_group: bool = True) -> str:
    """Map a writer's tag to the canonical metric name. ``val/*`` and ``val_ema/*`` stay apart from training
    metrics; Lightning's ``*_step`` series are the metric, its ``*_epoch`` averages stay apart (``*_epoch``);
    sgm's nested names (``train/loss/rec``) and a literal ``{split}`` segment are understood. A known name under
    a grouping level of the writer's own (``gan/d_weight``: a JSON log's ``{"gan": {...}}``, add_scalars' main
    tag) is that metric (``any_group=False``: only under the grouping words every writer uses)."""
    parts = _ungrouped([p for p in tag.strip().split("/") if p and p not in ("{split}", "{}")])
    if not parts:
        return tag.strip()
    split = None
    if len(parts) > 1 and parts[0].lower() in ("train", "training"):
        parts = parts[1:]
    elif len(parts) > 1 and parts[0].lower() in _SPLITS:
        split, parts = _SPLITS[parts[0].lower()], parts[1:]
    elif len(parts) > 1 and parts[-1].lower() in ("train", "training"):  # the split as a suffix: Loss/train
        parts = parts[:-1]
    elif len(parts) > 1 and parts[-1].lower() in _SPLITS:  # KLD/test, Recon/val
        split, parts = _SPLITS[parts[-1].lower()], parts[:-1]
    rest = "/".join(parts)
    suffix = ""
    low = rest.lower()
    if low.endswith("_step") and len(rest) > 5 and low not in ("global_step", "epoch_step") and "per_step" not in low:
        rest, low = rest[:-5], low[:-5]
    elif low.endswith("_epoch") and len(rest) > 6:
        rest, low, suffix = rest[:-6], low[:-6], "_epoch"
    name = _CANONICAL.get(low) or _NESTED.get(low)
    if name is None and any_group:
        name = _leaf_name(low.split("/"))
    if name is None and split is None and len(parts) == 1:
        # the split as a word of the name (MLflow's and plain loops' ``train_d_weight``, ``val_logits_real``)
        head, _, base = low.partition("_")
        if base in _CANONICAL and (head in ("train", "training") or head in _SPLITS):
            name, split = _CANONICAL[base], None if head in ("train", "training") else _SPLITS[head]
    return (f"{split}/" if split else "") + (name or rest) + suffix


def _leaf_name(parts: list[str]) -> str | None:
    """The canonical name a known leaf gives under grouping levels that name no split (``gan/d_weight``,
    ``model/gan/loss/g``), or None: a level naming a split (``gan/val/d_weight``, ``val_gan/d_weight``) keeps
    the name whole, as validation's terms are never training's."""
    for k in range(1, len(parts)):
        if any(_names_split(p) for p in parts[:k]):
            return None
        tail = "/".join(parts[k:])
        if tail in _CANONICAL or tail in _NESTED:
            return _CANONICAL.get(tail) or _NESTED[tail]
    return None


def _names_split(level: str) -> bool:
    """Does a name's level say a split other than training (``val``, ``val_gan``, ``gan_test``)?"""
    words = level.lower().replace("-", "_").split("_")
    return level.lower() in _SPLITS or words[0] in _SPLITS or words[-1] in _SPLITS


def _ungrouped(parts: list[str]) -> list[str]:
    """The tag's levels without the grouping words (``losses/rec`` -> ``rec``, ``train_metrics/kl`` ->
    ``train/kl``); sgm's own nested names (``loss/rec``, ``scalars/logvar``) and a name that would be left with
    only a split word (``Loss/train``) are kept whole."""
    out: list[str] = []
    for i, part in enumerate(parts[:-1]):
        low = part.lower()
        if "/".join(parts[i:]).lower() in _NESTED:
            return out + parts[i:]
        head, _, tail = low.partition("_")
        if low in _GROUPS:
            continue
        if low in _PARTS and i == len(parts) - 2:  # the model part a value comes from, above its leaf
            leaf = parts[-1].lower()
            if leaf in _CANONICAL:
                continue  # disc/disc_loss, disc/logits_real: the leaf names itself
            if leaf == "loss" and _PARTS[low]:
                return out + [_PARTS[low]]  # disc/loss: the discriminator's loss
        out.append(head if tail in _GROUPS and head in _SPLIT_HEADS else part)
    out += parts[-1:]
    if all(p.lower() in _SPLIT_HEADS or p.lower() in ("train", "training") for p in out) and len(parts) > len(out):
        return parts
    return out


def written_as(metric: str, names: Iterable[str]) -> list[str]:
    """The run's training names that name ``metric`` by their last level (``enc/kl_loss``, ``ema/kld``) but were
    not read as it (kept apart where two such series differ): a metric missing from the frame is then logged
    under those names, not unlogged."""
    out = []
    for name in names:
        name = str(name)
        levels = name.split("/")
        if name == metric or len(levels) < 2 or any(_names_split(level) for level in levels[:-1]):
            continue  # validation's terms are never training's
        leaf = levels[-1].lower()
        if canonical_name(leaf) == metric or leaf in ROLE_ALIASES.get(metric, ()):
            out.append(name)
    return out


def not_logged(metrics: Iterable[str], names: Iterable[str]) -> str:
    """Metrics said missing: "d_weight and g_loss not logged", and where the run logs one under a name it was not
    read as, "g_loss logged only as enc/g_loss and dec/g_loss, each kept under its own name: see Sources"."""
    names = list(names)
    metrics = list(metrics)
    apart = {metric: written_as(metric, names) for metric in metrics}
    said = [f"{listed(m for m in metrics if not apart[m])} not logged"] if not all(apart.values()) else []
    said += [f"{metric} {logged_apart(found)}" for metric, found in apart.items() if found]
    return "; ".join(said)


def logged_apart(found: list[str]) -> str:
    """How a metric is logged under names it was not read as (``written_as``)."""
    return (f"logged only as {listed(found)}, " + ("each kept under its own name" if len(found) > 1 else
                                                   "kept under that name") + ": see Sources")


def unmapped(tags) -> list[str]:
    """The tags that map to no canonical metric (reported in the sources, still analyzed under their name)."""
    known = set(_CANONICAL.values()) | set(_NESTED.values())
    out = []
    for tag in tags:
        name = canonical_name(tag).split("/", 1)[-1].removesuffix("_epoch")
        if name not in known:
            out.append(tag)
    return out


def empty_frame() -> pd.DataFrame:
    return make_frame([], [], [], [], [])


def make_frame(
    steps: Iterable, metrics: Iterable, values: Iterable, wall_times: Iterable, sources: Iterable | str
) -> pd.DataFrame:
    """Build a frame with the canonical dtypes from column-like inputs."""
    steps = np.asarray(steps, dtype=np.int64)
    n = len(steps)
    if isinstance(sources, str):
        sources = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[sources])
    return pd.DataFrame(
        {
            "step": steps,
            "metric": _categorical(metrics),
            "value": np.asarray(values, dtype=np.float64),
            "wall_time": np.asarray(wall_times, dtype=np.float64) if n else np.zeros(0),
            "source": _categorical(sources),
        },
        columns=COLUMNS,
        copy=False,  # the readers' columns are new arrays: a copy would only double the peak
    )


def _categorical(values) -> pd.Categorical:
    # Names repeat millions of times: categories keep the frame small and its sorts and filters fast.
    if isinstance(values, pd.Categorical):
        return values
    return pd.Categorical(np.asarray(values, dtype=object))


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames, keeping ``metric`` and ``source`` categorical."""
    from pandas.api.types import union_categoricals

    frames = [f for f in frames if len(f)] or frames[:1]
    if not frames:
        return empty_frame()
    out = pd.concat(frames, ignore_index=True)
    for col in ("metric", "source"):
        out[col] = union_categoricals([f[col].array for f in frames], sort_categories=True)
    return out


def wide(frame: pd.DataFrame) -> pd.DataFrame:
    """One column per metric, indexed by step (the view plots and humans like)."""
    return frame.pivot_table(index="step", columns="metric", values="value", aggfunc="last", dropna=False)


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def file_slug(metric: str) -> str:
    """A file-name-safe form of a metric name (``val/rec_loss`` -> ``val_rec_loss``)."""
    return _SAFE.sub("_", metric).strip("_") or "metric"


def sorted_by_step(steps: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Points of one series in step order, keeping the last of a step written twice (input: file order)."""
    if len(steps) > 1 and np.any(steps[1:] < steps[:-1]):
        order = np.argsort(steps, kind="stable")
        steps, columns = steps[order], tuple(c[order] for c in columns)
    if len(steps) > 1:
        repeated = steps[1:] == steps[:-1]
        if repeated.any():
            keep = np.append(~repeated, True)
            steps, columns = steps[keep], tuple(c[keep] for c in columns)
    return (steps, *columns)


def changed_repeats(steps: np.ndarray, values: np.ndarray) -> int:
    """Of the points a repeated step drops, those whose value differs from the next point at that step: a value
    written again unchanged (a progress bar's redraw of the line, the same point under two names as Lightning's
    ``discloss_step`` beside ``train/disc_loss``, a log copied twice) replaces nothing, so it is not counted as a
    step written twice."""
    order = np.argsort(steps, kind="stable")
    s, v = steps[order], values[order]
    twice = np.flatnonzero(s[1:] == s[:-1])
    if not len(twice):
        return 0
    a, b = v[twice], v[twice + 1]
    with np.errstate(invalid="ignore"):
        same = (np.abs(a - b) <= 1e-9 * np.maximum(np.abs(a), np.abs(b))) | (np.isnan(a) & np.isnan(b))
    return int((~same).sum())


def is_sorted(frame: pd.DataFrame) -> bool:
    """Is the frame ordered by (metric code, step) with no step repeated within a metric?"""
    codes = frame["metric"].cat.codes.to_numpy()
    steps = frame["step"].to_numpy()
    if len(codes) < 2:
        return True
    return bool(np.all((codes[1:] > codes[:-1]) | ((codes[1:] == codes[:-1]) & (steps[1:] > steps[:-1]))))


def release_freed_memory() -> None:
    """Hand freed heap memory back to the system (glibc's malloc_trim). A long event file is read as many
    medium-sized column pieces; freed one metric at a time while the frame fills, they would otherwise stay in
    the process's heap and count twice at the peak. Elsewhere a no-op."""
    global _TRIM
    if _TRIM is None:
        import ctypes
        import ctypes.util

        try:
            _TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None


def frame_from_series(series: Iterable[tuple[str, np.ndarray, np.ndarray, np.ndarray]], source: str) -> pd.DataFrame:
    """A frame sorted by (metric, step) from (metric, steps, values, wall times) series in file order; series
    sharing a metric name are pooled, a repeated step keeping its last point. The columns are filled metric by
    metric, each metric's input released once copied: the peak is the input plus one metric, not twice the
    input."""
    by_metric: dict[str, list] = {}
    impossible_steps = repeated_steps = 0
    for name, *columns in series:
        keep = (columns[0] >= 0) & (columns[0] <= MAX_STEP)
        if not keep.all():  # dropped before a repeated step keeps its last point: each counted once
            impossible_steps += int((~keep).sum())
            columns = [c[keep] for c in columns]
        by_metric.setdefault(name, []).append(columns)
    categories = sorted(by_metric)
    if not categories:
        return _counted(make_frame([], [], [], [], source), impossible_steps, 0)
    total = sum(len(part[0]) for parts in by_metric.values() for part in parts)
    steps = np.empty(total, dtype=np.int64)
    values = np.empty(total, dtype=np.float64)
    walls = np.empty(total, dtype=np.float64)
    sizes = []
    at = 0
    for name in categories:
        parts = by_metric.pop(name)
        pooled = parts[0] if len(parts) == 1 else [np.concatenate([p[i] for p in parts]) for i in range(3)]
        block = sorted_by_step(*pooled)
        if len(pooled[0]) > len(block[0]):
            repeated_steps += changed_repeats(pooled[0], pooled[1])
        del parts
        del pooled
        n = len(block[0])
        steps[at:at + n], values[at:at + n], walls[at:at + n] = block
        del block
        sizes.append(n)
        at += n
        if total > 1_000_000:
            release_freed_memory()
    codes = np.repeat(np.arange(len(categories), dtype=np.int32), sizes)
    return _counted(make_frame(steps[:at], pd.Categorical.from_codes(codes, categories=categories), values[:at],
                               walls[:at], source), impossible_steps, repeated_steps)


def _counted(frame: pd.DataFrame, impossible_steps: int, repeated_steps: int) -> pd.DataFrame:
    if impossible_steps:
        frame.attrs["impossible_steps"] = impossible_steps  # said in the file's sources row
    if repeated_steps:
        frame.attrs["repeated_steps"] = repeated_steps  # a step written twice: the last kept, said too
    return frame


MAX_STEP = 2**53  # beyond this a step read as a float is no longer a whole number
# wall times a training log can hold: seconds since 1970, up to the year 2200 (milliseconds, 1e300 and inf are
# not times, and datetime cannot show them)
WALL_RANGE = (0.0, 7.3e9)


def impossible(steps: np.ndarray, walls: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(points to keep, wall times with the impossible ones as NaN, how many wall times were impossible) for any
    reader's columns: a step that is negative or beyond 2^53 (a NaN or NULL step read as an integer is one of
    those) has no place on the run's axis; the point is dropped, counted by the caller."""
    steps = np.asarray(steps)
    keep = (steps >= 0) & (steps <= MAX_STEP)
    walls = np.asarray(walls, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad_wall = ~np.isnan(walls) & ~((walls > WALL_RANGE[0]) & (walls < WALL_RANGE[1]))
    if bad_wall.any():
        walls = np.where(bad_wall, np.nan, walls)
    return keep, walls, int(bad_wall[keep].sum())


def impossible_notes(dropped: int, bad_walls: int, repeated: int = 0) -> list[str]:
    """What ``impossible`` took out of one file, and the points of a step written twice that gave way to the
    later one, said in its sources row."""
    notes = []
    if repeated:
        notes.append(f"{counted(repeated, 'point')} at a step the file logs again later replaced by the later value "
                     "(a step written twice)")
    if dropped:
        notes.append(f"{counted(dropped, 'point')} with an impossible step (negative, beyond 2^53, or not a number) or "
                     "a value that is text dropped")
    if bad_walls:
        notes.append(f"{counted(bad_walls, 'wall time')} that are not seconds since 1970 (milliseconds, 1e300, inf?) "
                     "ignored: the run's pace is judged without them")
    return notes


def without_impossible(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A reader's frame without impossible steps and wall times, and the notes saying what went."""
    keep, walls, bad_walls = impossible(frame["step"].to_numpy(), frame["wall_time"].to_numpy())
    dropped = int((~keep).sum())
    earlier = int(frame.attrs.get("impossible_steps", 0))  # dropped by frame_from_series
    repeated = int(frame.attrs.get("repeated_steps", 0))
    if not dropped and not bad_walls:
        return frame, impossible_notes(earlier, 0, repeated)
    if dropped:
        frame = frame[keep].reset_index(drop=True)
        walls = walls[keep]
    frame = make_frame(frame["step"].to_numpy(), frame["metric"].array, frame["value"].to_numpy(), walls,
                       frame["source"].array)
    return frame, impossible_notes(dropped + earlier, bad_walls, repeated)


def step_column(values) -> np.ndarray:
    """Any reader's step column as int64, whatever it holds: text, NULL, NaN, inf or a number beyond 2^53
    becomes -1, a step ``impossible`` drops and counts where the frame is built."""
    numbers = pd.to_numeric(pd.Series(values, dtype=object if not isinstance(values, np.ndarray) else None),
                            errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(numbers) & (numbers >= 0) & (numbers <= MAX_STEP)
    return np.where(ok, numbers, -1).astype(np.int64)


def number_column(values) -> np.ndarray:
    """Any reader's value or time column as float64: what is not a number (text, NULL) is NaN."""
    return pd.to_numeric(pd.Series(values, dtype=object if not isinstance(values, np.ndarray) else None),
                         errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

