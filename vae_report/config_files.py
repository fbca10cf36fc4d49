"""Config-like files found in a run that are not its config of a known layout: which of them only give the
run's length (a Keras script's ``config.json``: ``{"epochs": 100, "batch_size": 128}``), and the sources note
naming each one not used, with why. Every config-like file found is named: used, or read and not used."""

from __future__ import annotations

from pathlib import Path

from .configs import EPOCHS, flatten
from .readers.jsonlog import sniff_json_log
from .readers.mlflow import FLAT

# the keys that give a run's length in optimizer steps (RadioDiff's train_num_steps wherever FLAT puts them)
STEP_TOTALS = tuple(key for key, place in FLAT.items() if place == "trainer.train_num_steps")
# JSON files beside a run that are some tool's own record, not a config: W&B's, our summary's
_NOT_CONFIGS = ("wandb-summary.json", "wandb-metadata.json", "trainer_state.json", "run.json", "cout.txt")


def total_key(config: dict) -> str | None:
    """The dotted path of the one whole number that gives the run's length, in steps or in epochs (a key found
    twice with different values gives none: which one the script used is not ours to guess)."""
    found: dict[str, set] = {}
    paths: dict[str, str] = {}
    for path, value in flatten(config).items():
        key = path.rsplit(".", 1)[-1].lower()
        if (key in STEP_TOTALS or key in EPOCHS) and isinstance(value, int) and not isinstance(value, bool) \
                and value >= 1:
            found.setdefault(key, set()).add(value)
            paths.setdefault(key, path)
    for key in (*STEP_TOTALS, *EPOCHS):
        if len(found.get(key, ())) == 1:
            return paths[key]
    return None


def config_like(path: Path, config: object) -> bool:
    """A file read as a config that is a config in form: a mapping of settings, not a metric log (JSON lines, a
    trainer_state's log_history), a tool's own record or our summary."""
    if not isinstance(config, dict) or not config or path.name in _NOT_CONFIGS or config.get("tool") == "vae-report":
        return False
    return path.suffix != ".json" or not sniff_json_log(path)


def total_only_note(name: str, key: str) -> str:
    return (f"{name} used for the run's length only ({key}): it names no loss setting (disc_start, kl_weight, "
            "disc_weight, codebook_weight), so its other keys are not read; pass it with --config to use them")


def unused_notes(names: list[str]) -> list[str]:
    """Each config-like file read and not used, with why (the first few, and how many more)."""
    notes = [f"{name} read as a config, not used: it names no loss setting (disc_start, kl_weight, disc_weight, "
             "codebook_weight) and no total of the run (max_steps, epochs, ...), one of which a config found in the "
             "folder must; pass it with --config to use the keys it names" for name in names[:3]]
    if len(names) > 3:
        notes.append(f"{len(names) - 3} more config-like files read and not used, for the same reason: "
                     + ", ".join(names[3:8]) + (", ..." if len(names) > 8 else ""))
    return notes


def toml_notes(root: Path) -> list[str]:
    """TOML configs are not read: named, so a schedule they hold is not thought used."""
    found = sorted(p for p in root.rglob("*.toml") if p.name != "pyproject.toml" and p.is_file())
    return [f"{p.relative_to(root).as_posix()} not read as a config: TOML configs are not read; pass a YAML or "
            "JSON copy with --config to use it" for p in found[:3]]


def only_total(config: dict) -> dict:
    """The config cut to its total in steps (``{"train.max_steps": 20000}``), read as another trainer's config
    would be; a total in epochs is read from the whole config where the logs count epochs (log_units)."""
    key = total_key(config)
    if key is None or key.rsplit(".", 1)[-1].lower() not in STEP_TOTALS:
        return {}
    return {key: flatten(config)[key]}
