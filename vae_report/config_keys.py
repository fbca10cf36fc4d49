"""Keys of a run's config that are near misses of the settings the trainers read (``disc_strat`` for
``disc_start``, ``kl_wieght``): a trainer built from that config would have refused it (LDM and RadioDiff pass the
loss section to the loss's constructor, whose unknown keyword is an error; the bundled trainer refuses unknown keys)
or silently used its default, so the report cannot take that file as the run's schedule without saying so."""

from __future__ import annotations

import difflib
import re

from .configs import flatten

# the settings the schedule reads (schedule.py), and the loss parameters LDM's LPIPSWithDiscriminator and taming's
# VQLPIPSWithDiscriminator take: a key one letter off one of these is a typo, not another trainer's setting
READ = ("disc_start", "kl_weight", "disc_weight", "disc_factor", "disc_loss", "codebook_weight", "train_num_steps",
        "max_steps", "base_learning_rate", "min_lr", "embed_dim", "log_freq", "log_every", "save_and_sample_every",
        "gradient_accumulate_every", "accumulate_grad_batches", "val_every", "logvar_init", "perceptual_weight",
        "pixelloss_weight", "disc_num_layers", "disc_in_channels", "disc_conditional", "use_actnorm", "ch_mult",
        "in_channels", "resolution", "lossconfig", "ddconfig")
# keys the trainers' own configs hold, each a setting in its own right, never a typo of another even when a letter
# or two away (LDM's ddconfig z_channels beside in_channels): LDM/taming's AutoencoderKL/VQModel and their
# ddconfig, LPIPSWithDiscriminator's and VQLPIPSWithDiscriminator's parameters, sgm's, RadioDiff's trainer section,
# latent-diffusion's data and image-logger sections, and Lightning's Trainer arguments
KNOWN = frozenset((
    # model and ddconfig (ldm/modules/diffusionmodules/model.py Encoder/Decoder)
    "double_z", "z_channels", "resolution", "in_channels", "out_ch", "ch", "ch_mult", "num_res_blocks",
    "attn_resolutions", "dropout", "resamp_with_conv", "use_linear_attn", "attn_type", "give_pre_end", "tanh_out",
    "embed_dim", "n_embed", "monitor", "image_key", "colorize_nlabels", "ckpt_path", "ignore_keys", "remap",
    "sane_index_shape", "base_learning_rate", "target", "params", "lossconfig", "ddconfig", "scheduler_config",
    # loss parameters (contperceptual.py, vqperceptual.py) and sgm's GeneralLPIPSWithDiscriminator
    "disc_start", "logvar_init", "kl_weight", "pixelloss_weight", "disc_num_layers", "disc_in_channels",
    "disc_factor", "disc_weight", "perceptual_weight", "use_actnorm", "disc_conditional", "disc_loss",
    "codebook_weight", "disc_ndf", "pixel_loss", "learn_logvar", "regularization_weights", "dims",
    "disc_start_iter", "loss_config", "regularizer_config", "encoder_config", "decoder_config", "input_key",
    # RadioDiff's trainer section and the bundled trainer's
    "gradient_accumulate_every", "lr", "min_lr", "train_num_steps", "save_and_sample_every", "log_freq",
    "results_folder", "amp", "fp16", "enable_resume", "resume_milestone", "ema_update_every", "ema_decay",
    "train_lr", "save_every", "log_every", "val_every", "batch_size", "num_workers", "name", "wrap", "train",
    "validation", "test", "data", "model", "trainer", "lightning", "callbacks", "image_logger",
    "batch_frequency", "max_images", "increase_log_steps", "clamp", "seed",
    # Lightning's Trainer arguments
    "max_steps", "min_steps", "max_epochs", "min_epochs", "max_time", "accelerator", "devices", "gpus",
    "num_nodes", "precision", "strategy", "accumulate_grad_batches", "gradient_clip_val",
    "gradient_clip_algorithm", "log_every_n_steps", "val_check_interval", "check_val_every_n_epoch",
    "limit_train_batches", "limit_val_batches", "limit_test_batches", "num_sanity_val_steps", "benchmark",
    "deterministic", "default_root_dir", "enable_checkpointing", "enable_progress_bar", "enable_model_summary",
    "fast_dev_run", "overfit_batches", "profiler", "sync_batchnorm", "detect_anomaly", "inference_mode",
    "reload_dataloaders_every_n_epochs", "use_distributed_sampler", "logger", "plugins", "barebones",
))
# other trainers' own names, close to one of the above but no typo: AntixK's kld_weight
OTHERS = ("kld_weight", "disc_iter_start", "disc_start_step",
          # torch.optim's schedulers' and optimizers' own arguments (OneCycleLR's div_factor is no disc_factor)
          "div_factor", "final_div_factor", "pct_start", "anneal_strategy", "cycle_momentum", "base_momentum",
          "max_momentum", "three_phase", "total_steps", "steps_per_epoch", "eta_min", "T_max", "T_0", "T_mult",
          "start_factor", "end_factor", "total_iters", "step_size", "step_size_up", "step_size_down", "max_lr",
          "base_lr", "scale_mode", "threshold_mode", "cooldown", "min_lrs", "weight_decay", "amsgrad", "betas",
          "momentum", "dampening", "nesterov", "lr_decay", "initial_accumulator_value")
# sections that hold a library's own settings (an optimizer's, a scheduler's): their keys are no typo of the loss's
_OWN_SECTIONS = ("sched", "optim")
CUTOFF = 0.85  # difflib's ratio: one letter swapped, dropped or doubled in a name of 8 or more letters


def near_misses(config: dict) -> list[tuple[str, str]]:
    """(dotted key as written, the setting it misses) for each key of ``config`` that is not a setting the trainers
    read but is one letter or two away from one its section does not hold."""
    out = []
    paths = list(flatten(config))
    names = {tuple(path.split(".")) for path in paths}
    sections: dict[tuple[str, ...], set[str]] = {}
    for parts in names:  # every key under each section (a section's own sub-sections too)
        for i in range(len(parts)):
            sections.setdefault(parts[:i], set()).add(parts[i])
    for parent, keys in sections.items():
        if any(word in part.lower() for part in parent for word in _OWN_SECTIONS):
            continue
        for key in sorted(keys):
            if key in READ or key in KNOWN or key in OTHERS or key.isdigit():
                continue
            close = difflib.get_close_matches(key, READ, n=1, cutoff=CUTOFF)
            if close and close[0] not in keys:
                out.append((".".join((*parent, key)), close[0]))
    return sorted(out)


# the settings that clip the gradient's norm, as trainers name them: Lightning's gradient_clip_val (unless its
# gradient_clip_algorithm is "value"), Hugging Face's and accelerate scripts' max_grad_norm, DeepSpeed's
# gradient_clipping, fairseq's clip_norm, nanoGPT's grad_clip; and a max_norm inside a section that names
# clipping (mmengine's clip_grad=dict(max_norm=35), a trainer's grad_clip: {max_norm: 1.0})
CLIP_KEYS = ("gradient_clip_val", "max_grad_norm", "gradient_clipping", "clip_norm", "grad_clip", "clip_grad",
             "clip_grad_norm", "grad_clip_norm", "grad_norm_clip", "gradient_clip_norm", "clip_gradient_norm",
             "grad_clip_val", "clip_grad_val")


def clip_norm(config: dict) -> tuple[float, str] | None:
    """(the norm the gradient is clipped to, its dotted key) when the config sets one, and only one value, of
    gradient-norm clipping; None when it sets none, disables it (0), clips by value, or names several values."""
    flat = flatten(config)
    found: dict[str, float] = {}
    for path, value in flat.items():
        parts = path.lower().split(".")
        key = parts[-1]
        if not (key in CLIP_KEYS or (key == "max_norm" and any("clip" in p for p in parts[:-1]))):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            continue  # 0 or none: clipping off; a flag (BasicSR's use_grad_clip) names no norm
        algorithm = flat.get(path.rsplit(".", 1)[0] + ".gradient_clip_algorithm") if "." in path \
            else flat.get("gradient_clip_algorithm")
        if str(algorithm).lower() == "value":
            continue  # Lightning clipping each value, not the norm
        found[path] = float(value)
    if len(set(found.values())) != 1:
        return None
    path, value = next(iter(found.items()))
    return value, path


# mixed precision, as the trainers say it: RadioDiff's amp/fp16 flags, Lightning's precision, accelerate's
# mixed_precision
_HALF = {"16", "16-mixed", "bf16", "bf16-mixed", "fp16", "bf16-true", "16-true"}


def mixed_precision(config: dict) -> tuple[bool, str] | None:
    """(whether the config trains in mixed precision, the key that says so), or None where no key says it (or
    the keys disagree)."""
    found: dict[str, bool] = {}
    for path, value in flatten(config).items():
        key = path.lower().split(".")[-1]
        if key in ("amp", "fp16", "use_amp", "use_fp16") and isinstance(value, bool):
            found[path] = value
        elif key in ("precision", "mixed_precision") and isinstance(value, (str, int)) and not isinstance(value, bool):
            text = str(value).lower()
            found[path] = text in _HALF if text not in ("no", "none", "32", "32-true", "64") else False
    if not found:
        return None
    on = [path for path, value in found.items() if value]
    if on:  # one key turning it on turns it on (RadioDiff's amp False beside fp16 True trains in fp16)
        return True, on[0]
    return False, next(iter(found))


# gradient accumulation, as the trainers name it: micro-batches per optimizer step
ACCUMULATE_KEYS = ("gradient_accumulation_steps", "accumulate_grad_batches", "grad_accum_steps",
                   "gradient_accumulate_steps", "accum_iter", "accumulation_steps", "accum_steps")


def accumulation(config: dict) -> int | None:
    """The micro-batches per optimizer step the config sets (2 or more, one value), or None."""
    found = {value for path, value in flatten(config).items() if path.lower().split(".")[-1] in ACCUMULATE_KEYS
             and isinstance(value, int) and not isinstance(value, bool) and value >= 2}
    return found.pop() if len(found) == 1 else None


# settings the schedule reads as numbers: PyYAML (YAML 1.1) reads "1e-6" or "5e4" (no dot in the mantissa) as
# strings, which the trainers pass on to their loss as they are
NUMERIC = ("disc_start", "kl_weight", "disc_weight", "disc_factor", "codebook_weight", "lr", "min_lr",
           "base_learning_rate", "train_num_steps", "max_steps", "perceptual_weight", "pixelloss_weight",
           "logvar_init")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def string_numbers(config: dict) -> list[tuple[str, str]]:
    """(dotted key, text) of each setting the schedule reads as a number that the YAML parser gave as a string."""
    return [(path, value.strip()) for path, value in flatten(config).items()
            if path.split(".")[-1] in NUMERIC and isinstance(value, str) and _NUMBER.fullmatch(value.strip())]
