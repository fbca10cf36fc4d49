"""The training schedule, read from the run's config: phases, milestones, loss weights, total steps.

Two YAML layouts load: RadioDiff's flat one (``model.lossconfig.disc_start``, ``trainer.train_num_steps``) and
LDM's nested one (``model.params.lossconfig.params.disc_start``, ``lightning.trainer.*``). RadioDiff's text log
carries the same dict as its first record. ``adopt_weight`` switches the discriminator on when
``global_step >= disc_start``: with ``disc_start: 50001`` and 0-based steps, step 50,001 is the first active one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .candidates import Pinned
from .config_files import config_like, toml_notes, total_key, total_only_note, unused_notes
from .config_twice import GivenTwice
from .configs import flatten
from .errors import ConfigError
from .inputs import read_option_file
from .lr_plans import LrPlan, plan_from_config
from .numbers import fmt
from .readers.encoding import decoded, read_text
from .readers.mlflow import FLAT, config_from_params

# The loss classes' signature defaults, used when a config leaves a value out. A VQ loss has no KL term, so no
# kl_weight is invented for it; its codebook loss weighs 1.0 by default.
LOSS_DEFAULTS = {"disc_factor": 1.0, "disc_weight": 1.0, "kl_weight": 1.0, "disc_loss": "hinge"}
VQ_DEFAULTS = {"disc_factor": 1.0, "disc_weight": 1.0, "codebook_weight": 1.0, "disc_loss": "hinge"}
# The loss classes those defaults are the signature of; any other target (torch.nn.Identity, taming's DummyLoss, a
# project's own loss) gets only what its config states, as another trainer's config does ("flat").
AUTOENCODER_ONLY = "autoencoder only"  # the one phase of a model without a discriminator
KNOWN_LOSSES = frozenset({"LPIPSWithDiscriminator", "VQLPIPSWithDiscriminator", "GeneralLPIPSWithDiscriminator"})


def _square(n: float) -> bool:
    side = math.isqrt(round(n))
    return abs(n - round(n)) < 1e-6 * max(1.0, n) and side * side == round(n)


@dataclass(frozen=True)
class Milestone:
    step: int
    name: str


@dataclass(frozen=True)
class Schedule:
    """What the config says about the run; ``origins`` tells where each known value came from."""

    disc_start: int | None = None
    kl_weight: float | None = None
    disc_weight: float | None = None
    disc_factor: float | None = None
    disc_loss: str | None = None  # hinge | vanilla
    # 2 where the logs show the discriminator's real and fake terms summed, not halved as LDM does
    # (rules.discriminator.disc_form: at the switch-on, an untrained discriminator sits at chance)
    disc_scale: int = 1
    total_steps: int | None = None
    lr: float | None = None
    min_lr: float | None = None
    log_every: int | None = None
    checkpoint_every: int | None = None
    in_channels: int | None = None
    resolution: tuple[int, int] | None = None  # ddconfig.resolution as written (RadioDiff does not resize to it)
    embed_dim: int | None = None  # latent channels
    downsample: int | None = None  # 2 ** (len(ch_mult) - 1): image side / latent side
    loss_class: str | None = None  # the loss target's class name, e.g. LPIPSWithDiscriminator
    regularizer: str | None = None  # kl | vq: the term the regularizer plot and rules watch
    codebook_weight: float | None = None  # VQ models (taming's VQLPIPSWithDiscriminator)
    val_every: int | None = None  # validation interval in steps, when the config says
    layout: str = "none"  # radiodiff | ldm | text log | none
    config_path: str | None = None
    trainer_config: str | None = None  # latent-diffusion's <date>-lightning.yaml beside config_path, where it is read
    # config steps per logged step: 2 where Lightning >= 1.6 counts both optimizers' steps in global_step (the
    # step disc_start and max_steps are compared with) while the logs count batches; disc_start and total_steps
    # above are then in logged steps, the config's own values kept here
    step_unit: int = 1
    # the logged counter counts this many per step the loss is given (micro-batches under gradient accumulation,
    # or both optimizers' steps, outside Lightning): the config's milestones multiplied into logged steps
    logged_per_step: int = 1
    # the logs were written by RadioDiff's own trainer (its text log was read), whose loop gives its loss the step
    # it logs (self.step, one per iteration): its logged counter is never another unit, and a switch-on at half or
    # twice disc_start is a schedule that differs, not a unit
    logs_the_loss_step: bool = False
    config_disc_start: int | None = None
    config_total_steps: int | None = None
    # the first logged step with the discriminator on, when the data show it switched on before disc_start (the
    # run used another disc_start than this config's): the phase and milestones follow the data
    observed_disc_start: int | None = None
    # the config starts from trained weights (RadioDiff's model.ckpt_path, LDM's model.params.ckpt_path): a loss
    # flat from the first step is then a fine-tune's, not a model that does not learn
    init_checkpoint: str | None = None
    # LDM's main.py sets lr = accumulate_grad_batches x GPUs x batch_size x base_learning_rate: the config's part
    # of that factor (the GPUs are not in it)
    lr_scale: int | None = None
    # RadioDiff's gradient_accumulate_every: the optimizer passes per step (1: only the autoencoder's is stepped)
    optimizer_passes: int | None = None
    # the norm the config clips the gradient to (config_keys.clip_norm), any layout: a pre-clip gradient norm
    # logged above it is cut to it at that step
    grad_clip: float | None = None
    # (whether the config trains in mixed precision, the key that says so, with its file), where a key says it
    mixed_precision: tuple[bool, str] | None = None
    # what the logs' step axis counts (step, or epoch / sample / line for a log without a step counter), and why
    # a milestone in steps was left out when the config cannot be converted to it
    counts: str = "step"
    unit_note: str | None = None
    # why a total the config gives is not used: the logs already went past it (an extended run, another's config),
    # or it is in epochs and nothing says how many steps an epoch holds
    total_note: str | None = None
    passed_total: int | None = None  # ... and that total
    # the lr scheduler the config names (a word, a mapping, LDM's scheduler_config, or a warm-up alone): the
    # logged lr is judged against it; None: the config names none (described, or RadioDiff's own decay)
    lr_plan: LrPlan | None = None
    # the run's checkpoint files whose names give their step: (step, path relative to the run), by step
    # (checkpoints.find_checkpoints): an action names the one to resume from
    checkpoints: tuple[tuple[int, str], ...] = ()

    @property
    def switched_late(self) -> bool:
        """The data show the discriminator on only well after disc_start (off at logged steps past it)."""
        return self.observed_disc_start is not None and self.disc_start is not None \
            and self.observed_disc_start > self.disc_start

    @property
    def switch_step(self) -> int | None:
        """Where the adversarial phase begins: as the data show it, else disc_start."""
        return self.observed_disc_start if self.observed_disc_start is not None else self.disc_start
    origins: dict[str, str] = field(default_factory=dict)
    # keys of the config one letter or two off a setting it lacks (config_keys.near_misses): (file, key, setting)
    config_typos: tuple[tuple[str, str, str], ...] = ()
    # (origin, dotted key, text) of each numeric setting a YAML config gives as a string (PyYAML's "1e-6")
    config_strings: tuple[tuple[str, str, str], ...] = ()
    # keys a config file gives twice in one mapping (config_twice.given_twice): (file, what was given)
    config_twice: tuple[tuple[str, GivenTwice], ...] = ()
    # settings the configs give more than one value for, where the data confirm one (rules.pinned): it is used
    pinned: tuple[Pinned, ...] = ()

    @property
    def pixels_per_sample(self) -> int | None:
        if self.in_channels is None or self.resolution is None:
            return None
        return self.in_channels * self.resolution[0] * self.resolution[1]

    @property
    def disc_chance_level(self) -> float:
        """The discriminator loss when it cannot tell real from fake: 1 (hinge) or ln 2 (vanilla) as LDM halves the
        sum of its two terms, twice that where the logs show them summed (``disc_scale``)."""
        return (math.log(2) if self.disc_loss == "vanilla" else 1.0) * self.disc_scale

    @property
    def disc_form(self) -> str:
        """The discriminator loss's form in words: "hinge, halved (LDM)", "vanilla (softplus), summed"."""
        kind = "vanilla (softplus)" if self.disc_loss == "vanilla" else "hinge"
        return f"{kind}, " + ("its real and fake terms summed" if self.disc_scale == 2 else "halved as LDM does")

    def latent_dims(self, pixels_per_sample: float | None = None) -> int | None:
        """Latent dimensions per sample: embed_dim x (side / downsample)^2, the side taken from the pixel count
        the data shows (``pixels_per_sample``) or else from the config's resolution."""
        if self.embed_dim is None or self.downsample is None:
            return None
        channels = self.in_channels
        if pixels_per_sample and channels and not _square(pixels_per_sample / channels):
            # the pixel count is no square image of the config's channels: the data's own (1 x 256 x 256 where
            # the config says 3 channels); take the channel count that makes it one
            channels = next((c for c in (1, 3, 4) if _square(pixels_per_sample / c)), channels)
        if pixels_per_sample and channels:
            side = math.sqrt(pixels_per_sample / channels)
        elif self.resolution:
            side = float(self.resolution[0])
        else:
            return None
        return int(self.embed_dim * round(side / self.downsample) ** 2)

    @property
    def adversarial_off(self) -> str | None:
        """Why the config's adversarial phase never runs, whatever the step: "disc_factor" (the config sets it to
        0, and adopt_weight multiplies every GAN term by it), "beyond" (disc_start at or past the run's total),
        None when it can run (or the data show it on: observed_disc_start)."""
        if self.observed_disc_start is not None:
            return None
        if self.disc_factor == 0 and "default" not in self.origins.get("disc_factor", ""):
            return "disc_factor"
        if self.disc_start is not None and self.total_steps and self.disc_start >= self.total_steps:
            return "beyond"
        return None

    def key_path(self, name: str) -> str:
        """Where the config gives a setting, for a sentence that names it: set_at's "config.yaml:
        model.params.lossconfig.params.disc_factor"; the key and its origin where no config set it."""
        setting = {"total_steps": "max_steps" if self.layout in ("ldm", "sgm") else "train_num_steps"}.get(name)
        where = set_at(self, name, setting)
        if where is not None:
            return where
        origin = self.origins.get(name)
        return f"{setting or name}, {origin}" if origin else setting or name

    @property
    def disc_start_inferred(self) -> str | None:
        """Why disc_start was read off the data, with no schedule to hold the switch-on against (no config gives
        it, or the config's cannot be placed in the logs' unit); None where a config or the user gave it."""
        if not self.origins.get("disc_start", "").startswith("inferred"):
            return None
        if self.unit_note:
            return "the config's disc_start cannot be placed in these logs"
        return "no config gives disc_start"

    def phase(self, step: int) -> str:
        """``before discriminator`` or ``adversarial`` (``unknown`` without ``disc_start``)."""
        if self.switch_step is None:
            return "unknown"
        return "adversarial" if step >= self.switch_step else "before discriminator"

    def disc_active(self, step: int) -> bool | None:
        return None if self.switch_step is None else step >= self.switch_step

    def milestones(self) -> list[Milestone]:
        out = []
        if self.switch_step is not None and self.adversarial_off is None:  # a switch that never comes is none
            out.append(Milestone(self.switch_step, "discriminator starts"))
        if self.total_steps is not None:
            out.append(Milestone(self.total_steps, "end of training"))
        return sorted(out, key=lambda m: m.step)

    def next_milestone(self, step: int) -> Milestone | None:
        return next((m for m in self.milestones() if m.step > step), None)

    def finished(self, step: int, log_every: int | None = None) -> bool:
        """Is ``step``, the last logged one, the run's last? (within one logging interval of the total)"""
        every = log_every or self.log_every or 1
        return bool(self.total_steps) and step + every >= self.total_steps

    def progress(self, step: int) -> float | None:
        if not self.total_steps:
            return None
        return min(1.0, step / self.total_steps)

    def from_config_file(self, key: str) -> bool:
        """Did ``key`` come from the run's config file (the project config, or the trainer settings beside it)?"""
        origin = self.origins.get(key)
        return origin is not None and any(origin == path or origin.startswith(f"{path}: ")  # ": key path" after it
                                          for path in (self.config_path, self.trainer_config) if path)


    def in_logged_steps(self, unit: int, config_total: bool, per: int = 1) -> Schedule:
        """This schedule with the config's milestones in logged steps: ``unit`` global steps per logged one
        (Lightning's global_step of two optimizers), or ``per`` logged steps per step the loss is given (a counter
        of micro-batches or of both optimizers' steps); ``config_total``: the total came from the config too, in
        the config's unit."""
        changed: dict[str, Any] = {"step_unit": unit, "logged_per_step": per, "config_disc_start": self.disc_start}
        why = (f"global steps / {unit}: the trainer's global_step counts both optimizers' steps" if unit != 1 else
               f"steps x {per}: the logged counter counts {per} per step the loss is given (micro-batches under "
               "gradient accumulation, or both optimizers' steps)")

        def logged(value: int) -> int:
            return -(-value // unit) * per

        origins = {**self.origins}
        if self.disc_start is not None:
            changed["disc_start"] = logged(self.disc_start)
            origins["disc_start"] = f"{origins.get('disc_start', 'config')} ({fmt(self.disc_start)} {why})"
        if config_total and self.total_steps is not None:
            changed.update(config_total_steps=self.total_steps, total_steps=logged(self.total_steps))
            origins["total_steps"] = f"{origins.get('total_steps', 'config')} ({fmt(self.total_steps)} {why})"
        return replace(self, **changed, origins=origins)

    def with_overrides(self, origin: str, **values: Any) -> Schedule:
        """A copy with the given non-None values set and their origin recorded."""
        given = {k: v for k, v in values.items() if v is not None}
        if not given:
            return self
        return replace(self, **given, origins={**self.origins, **{k: origin for k in given}})


# where each layout keeps its loss settings (schedule_from_config reads them there)
_LOSS_SECTION = {"radiodiff": "model.lossconfig", "text log": "model.lossconfig",
                 "ldm": "model.params.lossconfig.params", "sgm": "model.params.loss_config.params"}
_TRAINER_SECTION = {"radiodiff": "trainer", "text log": "trainer", "ldm": "lightning.trainer"}


def set_at(s: Schedule, key: str, setting: str | None = None) -> str | None:
    """Where the config sets a loss or trainer value, for an action that changes it: "first_radio.yaml:
    model.lossconfig.disc_factor" (``key``: the Schedule field; ``setting``: the config's own name where it
    differs, as trainer.save_and_sample_every); None when the value is no config's (a default, the command
    line, the data)."""
    origin = s.origins.get(key)
    if origin is None or origin.endswith(" default") or origin in ("command line", "data"):
        return None
    if ": " in origin:  # another trainer's config names the dotted path it was found at
        return origin
    name = setting or key
    loss = key in ("disc_start", "kl_weight", "disc_weight", "disc_factor", "disc_loss", "codebook_weight")
    section = (_LOSS_SECTION if loss else _TRAINER_SECTION).get(s.layout)
    return f"{origin}: {section}.{name}" if section and origin == s.config_path else origin


def load_config(path: Path, given: bool = False, option: str = "--config") -> dict:
    """Parse a YAML config file (or a RadioDiff config repr) into a dict; ``given``: the user named it with
    ``option`` (its messages then never ask for --config)."""
    again = "fix the file" if given else "fix the file or pass --config"
    text = decoded(read_option_file(path, option if given else "config", ConfigError)).lstrip("\ufeff")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc}); {again}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected an object at the top of the config; pass the training config")
        return data
    try:
        data = safe_load_bounded(text, path)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML{_where(exc, text)}; {again}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config; fix the file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top of the config; pass the training config")
    return unwrapped_wandb(data)


def unwrapped_wandb(config: dict) -> dict:
    """W&B's ``files/config.yaml`` wraps each top-level key as ``{desc: ..., value: ...}``: the values, as the
    training config had them (any other config is returned as it is)."""
    wrapped = {k: v for k, v in config.items() if isinstance(v, dict) and "value" in v and set(v) <= {"value", "desc"}}
    if not wrapped or len(wrapped) < len([k for k in config if k != "wandb_version"]):
        return config
    return {k: v["value"] for k, v in wrapped.items() if k != "_wandb"}


def _where(exc: yaml.YAMLError, text: str) -> str:
    """Where and why a YAML document did not parse: ``at line 4, column 1 (a tab ...)``; a tab in the
    indentation, the usual cause, is named as such (YAML indents with spaces only)."""
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow (binary data): its offset
        before = text[: exc.position]
        return (f" at line {before.count(chr(10)) + 1}, column {exc.position - before.rfind(chr(10))} (a character "
                f"YAML does not allow, code {exc.character if isinstance(exc.character, int) else '?'}: binary data, "
                "not a text config?)")
    if mark is None:
        return ""
    lines = text.split("\n")
    line = lines[mark.line] if mark.line < len(lines) else ""
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    problem = str(getattr(exc, "problem", "") or "").replace("'\\t'", "a tab")
    why = ("a tab in its indentation: YAML indents with spaces only, replace the tab with spaces" if "\t" in indent
           else problem)
    return f" at line {mark.line + 1}, column {mark.column + 1}" + (f" ({why})" if why else "")


MAX_NODES = 1_000_000  # a config has hundreds of values; a YAML alias bomb expands to billions


def safe_load_bounded(text: str, path: Path | str) -> Any:
    """yaml.safe_load that refuses a document whose aliases would expand beyond MAX_NODES values (a "billion
    laughs" bomb): the expanded size is counted on the composed graph, each node once, before anything is built."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml where built: a 5 MB config in seconds
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        sizes: dict[int, int] = {}
        open_nodes: set[int] = set()  # the nodes being counted: meeting one again is a value that holds itself

        def size(n) -> int:
            if id(n) in open_nodes:
                raise ConfigError(f"{path}: a value holds itself through a YAML alias (line {n.start_mark.line + 1})"
                                  "; a config never does: fix the file")
            if id(n) not in sizes:
                open_nodes.add(id(n))
                children = [c for pair in n.value for c in pair] if isinstance(n, yaml.MappingNode) else \
                    n.value if isinstance(n, yaml.SequenceNode) else []
                sizes[id(n)] = 1 + sum(size(c) for c in children)
                open_nodes.discard(id(n))
                if sizes[id(n)] > MAX_NODES:
                    raise ConfigError(f"{path}: its aliases expand to more than {MAX_NODES:,} values; a config "
                                      "never does: fix the file")
            return sizes[id(n)]

        size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


# keys only RadioDiff's trainer section (and the bundled trainer, which follows it) holds
_RADIODIFF_TRAINER = ("train_num_steps", "gradient_accumulate_every", "save_and_sample_every", "min_lr",
                      "results_folder")


def layout_of(config: dict) -> str | None:
    """``radiodiff`` or ``ldm`` for a config whose loss settings we know where to find, else None."""
    model = config.get("model")
    if not isinstance(model, dict):
        return None
    if isinstance(model.get("lossconfig"), dict):
        # RadioDiff's trainer section (or none): another loop's (max_steps, log_every) is not RadioDiff's, whose
        # decay and step counting are assumed of this layout; such a config is read for the keys it names (flat)
        trainer = config.get("trainer")
        if not isinstance(trainer, dict) or not trainer or any(key in trainer for key in _RADIODIFF_TRAINER):
            return "radiodiff"
        return None
    params = model.get("params")
    if isinstance(params, dict) and isinstance(params.get("lossconfig"), dict):
        return "ldm"
    if isinstance(params, dict) and isinstance(params.get("loss_config"), dict):
        return "sgm"  # Stability AI's generative-models: model.params.loss_config
    return None


_FIELD = {"train_num_steps": "total_steps", "log_freq": "log_every", "save_every": "checkpoint_every"}
# loss settings that make a config of another trainer worth reading: without one of them it says nothing we check
_SCHEDULE_KEYS = ("disc_start", "kl_weight", "disc_weight", "codebook_weight")
_VQ_HINTS = ("codebook", "n_embed", "num_embeddings", "num_codes", "quantiz")


def flat_config(config: dict, require_loss: bool = True) -> dict | None:
    """Another trainer's config (nested any way, YAML or JSON) whose keys name the loss's schedule: each known
    key (``disc_start``, ``kl_weight``, ``max_steps``, ``learning_rate``...), wherever it sits, placed where a
    RadioDiff config keeps it, with ``_found_at`` naming its dotted path. A key found at several paths with
    different values is left out: which one the trainer uses is not ours to guess. None without a loss setting
    (``require_loss``; else without any known key)."""
    found: dict[str, dict[str, Any]] = {}
    vq = False
    for path, value in flatten(config).items():
        key = path.rsplit(".", 1)[-1].lower()  # detectron2 and yacs configs spell keys in capitals: MAX_ITER
        vq = vq or any(hint in path.lower() for hint in _VQ_HINTS)
        if key in FLAT and not isinstance(value, (dict, list)) and value is not None:
            found.setdefault(key, {})[path] = value
    chosen = {key: next(iter(paths.values())) for key, paths in found.items()
              if len({repr(v) for v in paths.values()}) == 1}
    if "lr" in chosen or "learning_rate" in chosen:  # the rate the trainer names itself, not LDM's base
        chosen.pop("base_learning_rate", None)
    # a training script's args (diffusers' args.json: max_train_steps, lr_scheduler, no loss weight) name the run's
    # schedule too: its total and the scheduler the lr follows
    run_schedule = any(FLAT[key] == "trainer.train_num_steps" for key in chosen) and \
        plan_from_config(config, "") is not None
    if not chosen or (require_loss and not run_schedule and not any(key in chosen for key in _SCHEDULE_KEYS)):
        return None
    out = config_from_params(chosen)
    # where each value was found, by the Schedule field it sets
    out["_found_at"] = {_FIELD.get(FLAT[key].rsplit(".", 1)[-1], FLAT[key].rsplit(".", 1)[-1]): ", ".join(found[key])
                        for key in chosen}
    out["_regularizer"] = "vq" if vq or "codebook_weight" in chosen else "kl"
    return out


def loss_family(config: dict, layout: str) -> tuple[str, str]:
    """(loss class name, regularizer "kl" or "vq") from the loss's and the model's ``target``."""
    model = config.get("model") or {}
    params = model.get("params") if isinstance(model.get("params"), dict) else {}
    loss = params.get("lossconfig") or params.get("loss_config") or model.get("lossconfig") or {}
    target = str(loss.get("target") or "") if isinstance(loss, dict) else ""
    name = target.rsplit(".", 1)[-1] if target else "LPIPSWithDiscriminator"
    regularizer_target = str((params.get("regularizer_config") or {}).get("target") or "") \
        if isinstance(params.get("regularizer_config"), dict) else ""
    vq = "VQ" in name or "vq" in str(model.get("target") or "").lower() or "Quantiz" in regularizer_target
    return name, "vq" if vq else "kl"


def schedule_from_config(config: dict, origin: str, layout: str | None = None, given: bool = False) -> Schedule:
    """Read a config dict of either layout; raise ConfigError for a layout we do not know, unless the user gave
    it (``given``): then the keys it names are read, whatever its layout."""
    layout = layout or layout_of(config)
    plan = plan_from_config(config, origin.rsplit("/", 1)[-1]) if isinstance(config, dict) else None
    if layout in (None, "flat"):  # another trainer's config: converted once, if it names a loss setting
        converted = flat_config(config, require_loss=not given)
        if converted is not None or layout == "flat" or given:
            config, layout = converted or {}, "flat"
    if layout is None:
        raise ConfigError(
            f"{origin}: unknown config layout (expected model.lossconfig (RadioDiff), "
            "model.params.lossconfig.params (LDM, taming) or model.params.loss_config.params (sgm)); pass the "
            "training config with --config"
        )
    if layout == "flat":  # another trainer's: no loss class, no LPIPSWithDiscriminator defaults
        loss_class, regularizer = None, config.get("_regularizer", "kl")
    else:
        loss_class, regularizer = loss_family(config, layout)
    model = _mapping(config, "model", origin)
    values: dict[str, Any] = {}
    if layout in ("radiodiff", "text log", "flat"):
        loss = _mapping(model, "lossconfig", origin, "model.")
        trainer = _mapping(config, "trainer", origin)
        values.update(
            total_steps=trainer.get("train_num_steps"),
            lr=trainer.get("lr"),
            min_lr=trainer.get("min_lr"),
            log_every=trainer.get("log_freq"),
            checkpoint_every=trainer.get("save_and_sample_every", trainer.get("save_every")),
            val_every=trainer.get("val_every"),
        )
        passes = trainer.get("gradient_accumulate_every")
        values["optimizer_passes"] = passes if isinstance(passes, int) and not isinstance(passes, bool) else None
    else:
        key = "lossconfig" if layout == "ldm" else "loss_config"
        params = _mapping(model, "params", origin, "model.")
        loss = _mapping(_mapping(params, key, origin, "model.params."), "params", origin, f"model.params.{key}.")
        trainer = _mapping(_mapping(config, "lightning", origin), "trainer", origin, "lightning.")
        values.update(
            total_steps=trainer.get("max_steps") if (trainer.get("max_steps") or -1) > 0 else None,
            lr=model.get("base_learning_rate"),
            log_every=trainer.get("log_every_n_steps"),
            # an int val_check_interval counts training batches between validations (a float is an epoch share)
            val_every=trainer.get("val_check_interval") if isinstance(trainer.get("val_check_interval"), int)
            and not isinstance(trainer.get("val_check_interval"), bool) and trainer["val_check_interval"] > 1
            else None,
        )
        data = config.get("data") if isinstance(config.get("data"), dict) else {}
        batch = (data.get("params") or {}).get("batch_size") if isinstance(data.get("params"), dict) else None
        accumulate = trainer.get("accumulate_grad_batches", 1)
        if all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (batch, accumulate)):
            values["lr_scale"] = batch * accumulate
    nested = layout in ("ldm", "sgm")
    home = _mapping(model, "params", origin, "model.") if nested else model
    dd = _mapping(home, "ddconfig", origin) or _mapping(_mapping(home, "encoder_config", origin), "params", origin)
    checkpoint = home.get("ckpt_path") if isinstance(home, dict) else None
    values["init_checkpoint"] = str(checkpoint) if checkpoint else None
    values.update(in_channels=dd.get("in_channels"), resolution=_resolution(dd.get("resolution"), origin),
                  embed_dim=home.get("embed_dim"),
                  downsample=2 ** (len(dd["ch_mult"]) - 1) if isinstance(dd.get("ch_mult"), list) else None)
    reg_weights = loss.get("regularization_weights") if isinstance(loss.get("regularization_weights"), dict) else {}
    values.update(
        disc_start=loss.get("disc_start"),
        kl_weight=loss.get("kl_weight", reg_weights.get("kl_loss")) if regularizer == "kl" else None,
        codebook_weight=loss.get("codebook_weight") if regularizer == "vq" else None,
        disc_weight=loss.get("disc_weight"),
        disc_factor=loss.get("disc_factor"),
        disc_loss=loss.get("disc_loss"),
    )
    origins = {k: origin for k, v in values.items() if v is not None}
    if layout == "flat":
        where = config.get("_found_at", {})
        origins = {k: f"{origin}: {where[k]}" if k in where else origin for k in origins}
    if layout == "flat":  # another trainer's sentinels (max_steps -1: "train by epochs") are not its schedule
        values = {k: v for k, v in values.items() if _types(k, v)}
        origins = {k: v for k, v in origins.items() if k in values}
    defaults = {} if layout == "flat" or loss_class not in KNOWN_LOSSES \
        else VQ_DEFAULTS if regularizer == "vq" else LOSS_DEFAULTS
    for key, default in defaults.items():
        if values.get(key) is None:
            values[key] = default
            origins[key] = f"{loss_class} default"
    try:
        typed = _typed(values)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(f"{origin}: {exc}; fix the value in the config") from None
    return Schedule(**typed, loss_class=loss_class, regularizer=regularizer, layout=layout, config_path=origin,
                    origins=origins, lr_plan=plan)


def brief(value: Any, limit: int = 60) -> str:
    """A value as an error message may quote it: bounded, whatever its size (a YAML alias bomb included)."""
    import reprlib

    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict, short.maxlevel = limit, limit, 4, 4, 2
    return short.repr(value)


def _mapping(parent: dict, key: str, origin: str, prefix: str = "") -> dict:
    """A config section that must be a mapping (empty if absent); ConfigError naming it otherwise."""
    value = parent.get(key) if isinstance(parent, dict) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{origin}: {prefix}{key} must be a mapping of settings, got {brief(value)}; fix the config")
    return value


def _resolution(value: Any, origin: str = "config") -> tuple[int, int] | None:
    if value is None:
        return None
    sides = [value, value] if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    if isinstance(sides, (list, tuple)) and len(sides) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 < v < 1e6
            for v in sides):
        return int(sides[0]), int(sides[1])
    raise ConfigError(f"{origin}: ddconfig.resolution must be a size or [height, width], got {brief(value)}; fix the "
                      "config")


_INTS = ("disc_start", "total_steps", "log_every", "checkpoint_every", "in_channels", "embed_dim", "downsample",
         "val_every")
_FLOATS = ("kl_weight", "disc_weight", "disc_factor", "lr", "min_lr", "codebook_weight")


_POSITIVE = {"total_steps", "log_every", "checkpoint_every", "in_channels", "embed_dim", "downsample", "lr"}


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in values.items():
        try:
            out[key] = _typed_one(key, value)
        except (TypeError, ValueError, OverflowError) as exc:
            kind = "a whole number" if key in _INTS else "a number"
            rule = " > 0" if key in _POSITIVE else " >= 0"
            raise ValueError(f"{key} must be {kind}{rule}, got {brief(value)} ({exc})") from None
    return out


def _types(key: str, value: Any) -> bool:
    try:
        _typed_one(key, value)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def _typed_one(key: str, value: Any) -> Any:
    if value is None or (key in ("val_every", "checkpoint_every") and value == 0):  # 0: never (validation, saving)
        return None
    if key == "disc_loss":
        if value not in ("hinge", "vanilla"):
            raise ValueError("not hinge or vanilla")
        return value
    if key not in _INTS and key not in _FLOATS:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError("not a number")
    number = float(value)  # YAML 1.1 reads "5e-6" (no dot) and "5e4" as strings
    if not math.isfinite(number):
        raise ValueError("not finite")
    if number < 0 or (key in _POSITIVE and number == 0):
        raise ValueError("out of range")
    if key in _INTS:
        if number != int(number) or number > 2**53:
            raise ValueError("not a whole number of steps")
        return int(number)
    return number


def find_config(root: Path, skipped: list[str] | None = None, strict: bool = False,
                others_found: list[tuple[Path, dict, str]] | None = None) -> tuple[Path, dict, str] | None:
    """The first config under ``root`` (shallowest first) whose layout we know, parsed; a candidate that could
    not be read is added to ``skipped`` with the reason, so the report can say why it was not used. ``strict``:
    a file that is plainly the run's config (``config.yaml`` at the top, or a YAML naming the loss's settings)
    and does not parse raises ConfigError when no other config of a known layout is found: the run would
    otherwise be judged without the schedule its user wrote. Another unreadable YAML is only a note.
    ``others_found``: filled with the other configs of a known layout at the same depth as the one returned (two
    versions of a config side by side), which the caller names and may prefer by what the data show."""
    if root.is_file():
        root = root.parent
    candidates = sorted((p for pattern in ("*.yaml", "*.yml") for p in root.rglob(pattern)),
                        key=lambda p: (len(p.relative_to(root).parts), "lightning" in p.name, str(p.parent),
                                       *_newest_first(p.name)))
    # another trainer's config (JSON too) is read only when no config of a known layout is there
    others = sorted((p for p in root.rglob("*.json") if _small(p)),
                    key=lambda p: (len(p.relative_to(root).parts), str(p)))
    flat: tuple[Path, dict, str] | None = None
    total: tuple[Path, dict, str] | None = None  # a config naming only the run's length (Keras' config.json)
    unused: list[str] = []  # configs read that name no setting of the loss's schedule (detectron2's config.yaml)
    broken: ConfigError | None = None  # the run's own config, unreadable
    for path in candidates + others:
        if path.suffix != ".json" and not _small(path):
            # a training config is a few KB; a YAML of megabytes costs seconds to parse and is not one
            if skipped is not None:
                skipped.append(f"{path.relative_to(root).as_posix()} not used as the config: "
                               "over 1 MB, far larger than a training config; pass it with --config to read it "
                               "anyway")
            continue
        try:
            config = load_config(path)
        except ConfigError as exc:
            if strict and broken is None and path.suffix != ".json" and _plainly_the_config(path, root):
                broken = exc
            if skipped is not None and path.suffix != ".json":  # JSON files are rarely configs: no note
                skipped.append(f"{path.relative_to(root).as_posix()} not used as the config: "
                               f"{str(exc).split(': ', 1)[-1]}")
            continue
        layout = layout_of(config)  # a known layout saved as JSON (json.dump of the YAML's dict) is that layout
        if layout is None:
            if flat is None and flat_config(config) is not None:
                flat = (path, config, "flat")
            elif total is None and config_like(path, config) and total_key(config):
                total = (path, config, "total")
            elif config_like(path, config):
                unused.append(path.relative_to(root).as_posix())
            continue
        if layout is not None:
            if layout == "ldm" and "lightning" not in config:
                config = {**config, **_lightning_sibling(path)}
            if skipped is not None:
                skipped.extend(_changed_since(path, config, layout, root))
            if others_found is not None:
                others_found.extend(_side_by_side(path, config, root, candidates))
            return path, config, layout
    if broken is not None:
        raise broken
    if skipped is not None:
        skipped.extend(_found_notes(root, flat, total, unused))
    return flat or total


def _found_notes(root: Path, flat: tuple | None, total: tuple | None, unused: list[str]) -> list[str]:
    """The sources' word on each config-like file found beside the one used (or with none used)."""
    notes = []
    if total is not None:
        name = total[0].relative_to(root).as_posix()
        if flat is None:
            notes.append(total_only_note(name, total_key(total[1]) or ""))
        else:
            notes.append(f"{name} read as a config, not used: {flat[0].relative_to(root).as_posix()}, which names "
                         "the loss's settings, is the run's config")
    return notes + unused_notes(unused) + toml_notes(root)


CONFIG_NAMES = ("config.yaml", "config.yml")
_LOSS_KEY = re.compile(r"^[ \t-]*(?:disc_start|kl_weight|disc_weight|codebook_weight|disc_factor|lossconfig)[ \t]*:",
                       re.M)


def _plainly_the_config(path: Path, root: Path) -> bool:
    """A YAML that is the run's config by its name at the run's top (or one folder down: ``configs/``,
    Hydra's ``.hydra/``) or by naming the loss's settings, not a stray file that happens to be YAML."""
    if path.name.lower() in CONFIG_NAMES and len(path.relative_to(root).parts) <= 2:
        return True
    try:
        return _LOSS_KEY.search(read_text(path)) is not None
    except OSError:
        return False


def _small(path: Path, limit: int = 1 << 20) -> bool:
    """A file small enough to be a config (a JSON of metrics or a W&B summary can be large)."""
    try:
        return path.is_file() and path.stat().st_size <= limit
    except OSError:
        return False


_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}")  # latent-diffusion's main.py names configs by start time


# the settings that tell two configs side by side apart (and that the sources name where they differ)
SIDE_BY_SIDE_KEYS = ("disc_start", "kl_weight", "disc_weight", "total_steps", "lr")


def _side_by_side(path: Path, config: dict, root: Path, candidates: list[Path]) -> list[tuple[Path, dict, str]]:
    """The other configs of a known layout as shallow as ``path`` whose schedule differs from it (not the earlier
    starts a resume leaves, which ``_changed_since`` names, nor Lightning's trainer settings)."""
    depth = len(path.relative_to(root).parts)
    mine = schedule_from_config(config, path.name, layout_of(config))
    out = []
    for other in candidates:
        if other == path or len(other.relative_to(root).parts) != depth or "lightning" in other.name \
                or (_STAMP.match(other.name) and _STAMP.match(path.name)) or not _small(other):
            continue
        try:
            theirs = load_config(other)
        except ConfigError:
            continue
        layout = layout_of(theirs)
        if layout is None:
            continue
        if any(getattr(schedule_from_config(theirs, other.name, layout), key) != getattr(mine, key)
               for key in SIDE_BY_SIDE_KEYS):
            out.append((other, theirs, layout))
    return out


def _newest_first(name: str) -> tuple:
    """Configs named by their start time (a resume writes a new one) newest first; others by name."""
    if _STAMP.match(name):
        return (0, tuple(-ord(c) for c in name))
    return (1, name)


def _changed_since(path: Path, config: dict, layout: str, root: Path) -> list[str]:
    """Notes on older start-time-named configs beside the one used (a resume writes a new one) whose schedule
    differs: the run's first stretch followed that one."""
    if not _STAMP.match(path.name):
        return []
    notes = []
    mine = schedule_from_config(config, path.name, layout)
    for older in sorted(path.parent.glob("*.y*ml")):
        if older == path or not _STAMP.match(older.name) or "lightning" in older.name or older.name > path.name:
            continue
        try:
            theirs = schedule_from_config(load_config(older), older.name)
        except ConfigError:
            continue
        changed = [f"{key} {getattr(theirs, key)} -> {getattr(mine, key)}" for key in
                   ("disc_start", "kl_weight", "disc_weight", "lr") if getattr(theirs, key) != getattr(mine, key)]
        if changed:
            notes.append(f"{older.relative_to(root).as_posix()}, an earlier start of this run, had another schedule "
                         f"({', '.join(changed)}); the newest, {path.name}, is used: the steps before the resume "
                         "followed the earlier one")
    return notes


def _lightning_sibling(path: Path) -> dict:
    """latent-diffusion's main.py writes the trainer settings beside the project config, in
    ``<date>-lightning.yaml`` (``{lightning: {trainer: ...}}``): the one of the same start, else the newest."""
    found = _lightning_sibling_file(path)
    return {} if found is None else {"lightning": found[1]}


def trainer_settings_file(path: Path) -> Path | None:
    """The ``<date>-lightning.yaml`` whose trainer settings an LDM project config without its own took (the file
    a report names as where ``max_steps`` was read), or None where the config holds them itself."""
    try:
        if "lightning" in load_config(path):
            return None
    except ConfigError:
        return None
    found = _lightning_sibling_file(path)
    return None if found is None else found[0]


_TRAINER_KEYS = {"total_steps": "max_steps", "log_every": "log_every_n_steps", "val_every": "val_check_interval"}


def with_trainer_origins(s: Schedule, path: Path, relative: Callable[[Path], str]) -> Schedule:
    """An LDM schedule whose trainer settings came from the ``-lightning.yaml`` beside its project config, with
    that file named as their origin (``relative``: a path as the report shows it)."""
    sibling = trainer_settings_file(path) if s.layout == "ldm" else None
    if sibling is None:
        return s
    origins = {**s.origins}
    for key, name in _TRAINER_KEYS.items():
        if origins.get(key) == relative(path):
            origins[key] = f"{relative(sibling)}: lightning.trainer.{name}"
    return replace(s, origins=origins, trainer_config=relative(sibling))


def _lightning_sibling_file(path: Path) -> tuple[Path, dict] | None:
    stamp = _STAMP.match(path.name)
    siblings = sorted(path.parent.glob("*lightning*.y*ml"), key=lambda p: _newest_first(p.name))
    if stamp:
        siblings.sort(key=lambda p: not p.name.startswith(stamp.group(0)))
    for sibling in siblings:
        try:
            data = load_config(sibling)
        except ConfigError:
            continue
        if isinstance(data.get("lightning"), dict):
            return sibling, data["lightning"]
    return None
