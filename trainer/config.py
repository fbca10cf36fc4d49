"""The trainer's YAML config in RadioDiff's layout, checked before any training starts.

Every key is known: a mistyped one is an error that names the closest known key, not a silent default.
"""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import yaml

from vae_report.config_twice import given_twice
from vae_report.errors import ConfigError

_ANY = object()

# section -> key -> default (None: required or optional without default). Types follow the defaults.
SCHEMA: dict[str, Any] = {
    "model": {
        "embed_dim": 3,
        "ckpt_path": None,
        "lossconfig": {
            "disc_start": 50001, "kl_weight": 1e-6, "disc_weight": 0.5, "disc_factor": 1.0, "disc_in_channels": 1,
            "disc_num_layers": 3, "disc_loss": "hinge", "logvar_init": 0.0, "learn_logvar": True,
            "pixel_loss": "l1+mse", "perceptual_weight": 0.0, "perceptual_weights": None,
        },
        "ddconfig": {
            "double_z": True, "z_channels": 3, "resolution": 64, "in_channels": 1, "out_ch": 1, "ch": 128,
            "ch_mult": [1, 2, 4], "num_res_blocks": 2, "attn_resolutions": [], "dropout": 0.0,
        },
    },
    "data": {"name": "synthetic", "batch_size": 2, "img_folder": None, "image_size": None, "num_samples": 512,
             "seed": 0, "augment_horizontal_flip": False, "val_size": 0},
    "trainer": {
        "gradient_accumulate_every": 2, "lr": 5e-6, "min_lr": 5e-7, "train_num_steps": 150000,
        "save_and_sample_every": 5000, "log_freq": 100, "results_folder": None, "amp": False, "fp16": False,
        "seed": 0, "threads": None, "val_every": 0, "report_every": 0,
    },
}
_FLOAT_KEYS = {"kl_weight", "disc_weight", "disc_factor", "logvar_init", "perceptual_weight", "lr", "min_lr",
               "dropout"}


def load_trainer_config(path: Path | str) -> dict:
    """Read, check and complete a trainer config; every problem raises ConfigError naming the key."""
    path = Path(path)
    try:
        from vae_report.schedule import safe_load_bounded

        raw = safe_load_bounded(path.read_text(), path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc.strerror}); check the path") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc.__class__.__name__}); fix the file") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config must be a mapping with model, data and trainer sections")
    _refuse_given_twice(path)
    config = _merge(SCHEMA, raw, path, "")
    _check(config, path)
    return config


def _refuse_given_twice(path: Path) -> None:
    """A key given twice in one mapping: PyYAML would keep the last value in silence (RadioDiff's trainer ran
    with it); which one the user meant is theirs to say, so nothing is trained."""
    twice = given_twice(path)
    if twice:
        d = twice[0]
        more = f" ({len(twice) - 1} more key{'s' if len(twice) > 2 else ''} given twice)" if len(twice) > 1 else ""
        raise ConfigError(f"{path}: {d.path} is given twice, line {d.first_line} ({d.first}) and line "
                          f"{d.last_line} ({d.last}){more}; keep one and train again")


def _merge(schema: dict, given: dict, path: Path, prefix: str) -> dict:
    out = copy.deepcopy(schema)
    for key, value in given.items():
        name = f"{prefix}{key}"
        if key not in schema:
            close = _closest(str(key), [str(k) for k in schema])
            hint = f" (did you mean {prefix}{close[0]}?)" if close else f" (known: {', '.join(schema)})"
            raise ConfigError(f"{path}: unknown key {name}{hint}; fix the config")
        if isinstance(schema[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {name} must be a mapping; fix the config")
            out[key] = _merge(schema[key], value, path, name + ".")
        else:
            out[key] = _coerce(schema[key], value, key, name, path)
    return out


def _closest(key: str, known: list[str]) -> list[str]:
    """The known key a typo most likely meant: one it extends (``lr_rate`` -> ``lr``), else the most similar."""
    extended = [k for k in known if key.startswith(k + "_") or k.startswith(key)]
    return extended[:1] or difflib.get_close_matches(key, known, n=1, cutoff=0.5)


def _coerce(default: Any, value: Any, key: str, name: str, path: Path) -> Any:
    if value is None or default is None or key == "resolution":  # resolution: int or [H, W], checked later
        return value
    try:
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError
            return value
        if key in _FLOAT_KEYS:
            return float(value)  # YAML 1.1 reads 5e-6 as a string
        if isinstance(default, int):
            number = float(value)
            if number != int(number):
                raise ValueError
            return int(number)
        if isinstance(default, list) and key != "resolution":
            return [int(v) for v in value]
        if isinstance(default, str):
            return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: {name} = {value!r} is not a valid {type(default).__name__}; "
                          "fix the config") from None
    return value


def _side(resolution: Any) -> int:
    if isinstance(resolution, (list, tuple)):
        if len(resolution) != 2 or resolution[0] != resolution[1]:
            raise ValueError
        return int(resolution[0])
    return int(resolution)


def _check(config: dict, path: Path) -> None:
    dd, loss, data, trainer = (config["model"]["ddconfig"], config["model"]["lossconfig"], config["data"],
                               config["trainer"])
    try:
        side = _side(data["image_size"] if data["image_size"] else dd["resolution"])
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: model.ddconfig.resolution must be a number or a square [H, W]; fix the "
                          "config") from None
    factor = 2 ** (len(dd["ch_mult"]) - 1)
    if side % factor:
        raise ConfigError(f"{path}: image size {side} is not divisible by {factor}, the downsampling of ch_mult "
                          f"{dd['ch_mult']}; use a multiple of {factor}")
    for mult in dd["ch_mult"]:
        if (dd["ch"] * mult) % 32:
            raise ConfigError(f"{path}: model.ddconfig.ch x ch_mult = {dd['ch'] * mult} is not a multiple of 32 "
                              "(GroupNorm uses 32 groups); use ch = 32, 64, 128 ...")
    if side // 2 ** loss["disc_num_layers"] < 3:
        raise ConfigError(f"{path}: image size {side} is too small for a {loss['disc_num_layers']}-layer PatchGAN "
                          "discriminator; lower model.lossconfig.disc_num_layers or use larger images")
    if dd["in_channels"] != loss["disc_in_channels"]:
        raise ConfigError(f"{path}: model.lossconfig.disc_in_channels ({loss['disc_in_channels']}) must equal "
                          f"model.ddconfig.in_channels ({dd['in_channels']})")
    if trainer["gradient_accumulate_every"] != 2:
        raise ConfigError(f"{path}: trainer.gradient_accumulate_every must be 2: as in RadioDiff it is the loop over "
                          "the two optimizers (autoencoder, discriminator), not gradient accumulation")
    for key in ("train_num_steps", "log_freq", "batch_size"):
        section = data if key == "batch_size" else trainer
        if section[key] is None or section[key] < 1:
            raise ConfigError(f"{path}: {key} must be at least 1")
    if data["name"] not in ("synthetic", "radio", "folder"):
        raise ConfigError(f"{path}: data.name must be synthetic, radio or folder, got {data['name']!r}")
    if data["name"] in ("radio", "folder") and data["img_folder"] and not Path(data["img_folder"]).is_dir():
        raise ConfigError(f"{path}: data.img_folder {data['img_folder']} does not exist; give the folder of "
                          "RadioMapSeer PNGs or use data.name: synthetic")
    if data["name"] in ("radio", "folder") and not data["img_folder"]:
        raise ConfigError(f"{path}: data.name {data['name']} needs data.img_folder (a folder of PNGs)")
    weights = loss["perceptual_weights"]
    if loss["perceptual_weight"] > 0 and not (weights and Path(weights).is_file()):
        raise ConfigError(f"{path}: perceptual_weight > 0 needs model.lossconfig.perceptual_weights, an existing "
                          "TorchScript file (its weights cannot be downloaded here)")


def image_size(config: dict) -> int:
    data, dd = config["data"], config["model"]["ddconfig"]
    return _side(data["image_size"] if data["image_size"] else dd["resolution"])
