"""The learning-rate schedule a config names, as a curve the logged lr can be held to.

Configs name their scheduler in many ways: a word (``scheduler: cosine``, Hugging Face's ``lr_scheduler_type:
linear``), a mapping (``lr_scheduler: {type: CosineAnnealingLR, T_max: ...}``), latent-diffusion's and sgm's
``scheduler_config`` whose ``target`` is ``LambdaLinearScheduler`` or ``LambdaWarmUpCosineScheduler`` (a
multiplier of the base rate, with ``warm_up_steps``, ``f_start``, ``f_max``, ``f_min``, ``cycle_lengths``), or
only a warm-up (``warmup_steps: 500``). Each is read into an ``LrPlan``; its ``multiplier`` is the factor the
scheduler applies to the base rate at a step, by the formulas of the libraries that name them (transformers'
``get_*_schedule_with_warmup``, torch's ``CosineAnnealingLR``, latent-diffusion's ``ldm/lr_scheduler.py``). A
config that names none has no plan: its lr is described, never judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .configs import STEPS_PER_EPOCH, flatten
from .numbers import fmt

# keys whose value names the scheduler (a word, or a mapping with type/name/target)
KIND_KEYS = ("lr_scheduler_type", "lr_scheduler", "scheduler", "lr_schedule", "scheduler_type", "lr_policy",
             "scheduler_config", "schedule_type", "lr_decay", "decay_type")
WARMUP_KEYS = ("warmup_steps", "warm_up_steps", "num_warmup_steps", "lr_warmup_steps", "warmup_iters",
               "warmup_iterations", "warmup")
# where a linear warm-up starts: an absolute rate (Lightning-bolts' and many trainers' warmup_start_lr, fairseq's
# warmup_init_lr, timm's warmup_lr_init, MXNet's warmup_begin_lr) or a factor of the base rate (torch's and
# mmengine's LinearLR start_factor, detectron2's WARMUP_FACTOR); none: from 0, as transformers' warm-ups start
WARMUP_START_KEYS = ("warmup_start_lr", "warmup_init_lr", "warmup_lr_init", "warmup_initial_lr", "warmup_begin_lr",
                     "warmup_start_learning_rate", "initial_warmup_lr")
WARMUP_FACTOR_KEYS = ("start_factor", "warmup_factor", "warmup_start_factor", "warmup_init_factor")
FLOOR_KEYS = ("eta_min", "min_lr", "lr_min", "final_lr", "end_lr", "lr_end")
LENGTH_KEYS = ("t_max", "max_decay_steps", "num_training_steps", "total_iters", "decay_steps", "max_steps",
               "train_num_steps", "total_steps", "max_iters", "max_iter", "num_train_steps", "max_train_steps")

# the words a scheduler goes by, mapped to the curves below
KINDS = {
    "cosine": "cosine", "cosineannealinglr": "cosine", "cosine_annealing": "cosine", "cos": "cosine",
    "cosine_with_warmup": "cosine", "warmupcosine": "cosine", "lambdawarmupcosinescheduler": "ldm_cosine",
    "cosine_with_min_lr": "cosine",
    # torch's LinearLR is a warm-up by default (start_factor 1/3 up to 1) and mmseg's poly a power of 0.9: neither
    # is read as a linear decay
    "linear": "linear", "linear_with_warmup": "linear", "linear_decay": "linear", "polynomial": "linear",
    "constant": "constant", "none": "constant", "fixed": "constant",
    "constant_with_warmup": "warmup", "warmup": "warmup", "linearwarmup": "warmup",
    "lambdalinearscheduler": "ldm_linear",
    # torch's SGDR: a cosine from the base rate to eta_min over T_0 steps, restarted, each cycle T_mult times longer
    "cosineannealingwarmrestarts": "cosine_restarts", "cosine_with_restarts": "cosine_restarts",
    "cosine_restarts": "cosine_restarts", "sgdr": "cosine_restarts",
    # torch's step-wise decays: lr = base x gamma^(scheduler steps done / step_size), at milestones, or each step
    "steplr": "step", "step": "step", "step_decay": "step", "multisteplr": "multistep", "multistep": "multistep",
    "multi_step": "multistep", "exponentiallr": "exponential", "exponential": "exponential", "exp": "exponential",
    # schedules the report describes but does not hold the lr to: OneCycleLR's shape needs max_lr and pct_start
    # against the run's total, ReduceLROnPlateau follows the validation loss
    "onecyclelr": "onecycle", "one_cycle": "onecycle", "onecycle": "onecycle",
    "reducelronplateau": "plateau", "plateau": "plateau", "reduce_on_plateau": "plateau",
}
UNMODELLED = {"onecycle": "torch's OneCycleLR (its shape set by max_lr and pct_start)",
              "plateau": "torch's ReduceLROnPlateau (it lowers the rate when the validation loss stalls)"}
STEPWISE = ("step", "multistep", "exponential")

NAMES = {"cosine": "a cosine decay", "linear": "a linear decay", "constant": "a constant rate",
         "warmup": "a linear warm-up, then the base rate", "ldm_linear": "latent-diffusion's LambdaLinearScheduler",
         "ldm_cosine": "latent-diffusion's LambdaWarmUpCosineScheduler",
         "cosine_restarts": "a cosine decay with warm restarts (CosineAnnealingWarmRestarts)",
         "step": "a step decay (StepLR)", "multistep": "a decay at milestones (MultiStepLR)",
         "exponential": "an exponential decay (ExponentialLR)", **UNMODELLED}


@dataclass(frozen=True)
class LrPlan:
    """A scheduler named by the config: its kind, warm-up, length (steps of its decay, None: the run's total),
    floor (an absolute lr, or for LDM's schedulers a factor) and LDM's factors; ``source`` names the keys."""

    kind: str  # cosine | linear | constant | warmup | ldm_linear | ldm_cosine | warmup_only
    warmup: int = 0
    length: int | None = None
    floor: float | None = None
    f_start: float = 0.0
    f_max: float = 1.0
    f_min: float = 1.0
    source: str = ""
    period: int | None = None  # cosine_restarts: T_0, the first cycle's steps
    t_mult: float = 1.0  # cosine_restarts: each cycle T_mult times the one before
    gamma: float | None = None  # step, multistep, exponential: the factor applied at each decay
    step_size: float | None = None  # step: scheduler steps between decays
    milestones: tuple[float, ...] = ()  # multistep: the scheduler steps at which it decays
    unit: int | None = 1  # optimizer steps per scheduler step (an epoch's when stepped per epoch; None: unknown)
    unit_name: str = "step"  # what one scheduler step is: step or epoch
    label: str = ""  # unknown: the scheduler's name as the config gives it
    warmup_from: float | None = None  # the warm-up's first rate (absolute; None: see warmup_factor, else 0)
    warmup_factor: float | None = None  # ... or as a factor of the base rate (LinearLR's start_factor)
    warmup_key: str = ""  # the config key that gave where the warm-up starts

    @property
    def modelled(self) -> bool:
        """Does the report hold the logged lr to this plan (False: OneCycleLR, ReduceLROnPlateau, a name it does
        not know; their lr is described)?"""
        return self.kind not in UNMODELLED and self.kind != "unknown"

    @property
    def warmup_only(self) -> bool:
        """The config names a warm-up and nothing after it: only the warm-up can be judged."""
        return self.kind == "warmup_only"

    def start_factor(self, base: float) -> float:
        """The warm-up's first rate as a factor of ``base``: 0 unless the config names where it starts."""
        if self.warmup_from is not None and base > 0:
            return self.warmup_from / base
        return self.warmup_factor if self.warmup_factor is not None else 0.0

    def warmup_start(self, base: float | None = None) -> str:
        """Where the warm-up starts, in words: " from 1e-07 (warmup_start_lr)", " from 0.001 x the base rate
        (start_factor)"; "" when it starts from 0 (the default every sentence assumes)."""
        key = f" ({self.warmup_key})" if self.warmup_key else ""
        if self.warmup_from is not None:
            return f" from {fmt(self.warmup_from)}{key}"
        if self.warmup_factor is not None:
            at = f" = {fmt(self.warmup_factor * base)}" if base else ""
            return f" from {fmt(self.warmup_factor)} x the base rate{at}{key}"
        return ""

    def ramp(self, x: np.ndarray, base: float) -> np.ndarray:
        """The warm-up's multiplier of the base rate at ``x``: linear from its start factor to 1 over ``warmup``
        steps (1 without a warm-up)."""
        if self.warmup <= 0:
            return np.ones_like(x)
        f0 = self.start_factor(base)
        return f0 + (1.0 - f0) * np.clip(x / float(self.warmup), 0.0, 1.0)

    def describe(self, total: int | None, source: bool = True, unit: str = "step") -> str:
        """The plan in words: "a cosine decay over 60,000 steps to 1e-06, named by config.yaml: optim.scheduler";
        ``unit``: what ``total`` counts (the logs' unit; the plan's own lengths are its scheduler's steps)."""
        named = f", named by {self.source}" if self.source and source else ""
        if self.warmup_only:
            return f"a linear warm-up over {fmt(self.warmup)} steps{self.warmup_start()}{named}"
        if self.kind == "unknown":
            return f"a scheduler {self.label!r}{named}"
        if self.kind in STEPWISE:
            return self._stepwise_words() + named
        if self.kind == "warmup" and self.warmup:  # the warm-up is the scheduler: named once
            return f"a {fmt(self.warmup)}-step linear warm-up{self.warmup_start()}, then the base rate{named}"
        parts = [f"a {fmt(self.warmup)}-step warm-up{self.warmup_start()}, then"] if self.warmup else []
        parts.append(NAMES.get(self.kind, self.kind))
        if self.kind in ("cosine", "linear", "ldm_cosine") and (self.length or total):
            parts.append(f"over {fmt(self.length)} steps" if self.length else f"over {fmt(total)} {unit}s")
        if self.floor and self.kind in ("cosine", "linear", "cosine_restarts"):
            parts.append(f"to {fmt(self.floor)}")
        if self.kind == "cosine_restarts" and self.period:
            parts[-1] += ","
            parts.append(f"restarting every {fmt(self.period)} steps" if self.t_mult == 1 else
                         f"over a first cycle of {fmt(self.period)} steps, each next one "
                         f"{fmt(self.t_mult)} times longer")
        return " ".join(parts) + named

    def expected(self, steps: np.ndarray, base: float, total: int | None) -> np.ndarray | None:
        """The lr the plan gives at ``steps`` from the base rate ``base``; None when it needs a length it has
        not got (a decay over an unknown number of steps)."""
        x = np.asarray(steps, dtype=np.float64)
        w = float(self.warmup)
        length = self.length or total
        ramp = self.ramp(x, base)
        if self.kind in ("constant", "warmup", "warmup_only"):
            return base * ramp
        if self.kind == "ldm_linear":  # ldm.lr_scheduler.LambdaLinearScheduler, one cycle (its usual config)
            cycle = float(length or math.inf)
            up = self.f_start + (self.f_max - self.f_start) * x / w if w > 0 else np.full_like(x, self.f_max)
            down = self.f_min + (self.f_max - self.f_min) * np.clip(cycle - x, 0, None) / cycle \
                if math.isfinite(cycle) else np.full_like(x, self.f_max)
            return base * np.where(x < w, up, down)
        if self.kind == "ldm_cosine":  # LambdaWarmUpCosineScheduler: lr_start -> lr_max, cosine to lr_min
            if not length:
                return None
            up = self.f_start + (self.f_max - self.f_start) * x / w if w > 0 else np.full_like(x, self.f_max)
            t = np.clip((x - w) / max(1.0, length - w), 0.0, 1.0)
            down = self.f_min + 0.5 * (self.f_max - self.f_min) * (1 + np.cos(t * np.pi))
            return base * np.where(x < w, up, down)
        if self.kind == "cosine_restarts":
            return self._restarts(x, base, ramp)
        if self.kind in STEPWISE:
            return self._stepwise(x, base, ramp)
        if not self.modelled:
            return None
        if not length:
            return None
        t = np.clip((x - w) / max(1.0, length - w), 0.0, 1.0)
        shape = 0.5 * (1 + np.cos(np.pi * t)) if self.kind == "cosine" else 1 - t
        floor = self.floor if self.floor is not None and self.floor < base else 0.0
        return np.where(x < w, base * ramp, floor + (base - floor) * shape)


    def too_many_restarts(self, last: float) -> bool:
        """A T_0 that would restart the cosine over a thousand times by ``last``: not in the logs' steps (a T_0
        in epochs, the scheduler stepped once an epoch)."""
        period = float(self.period or 0)
        return self.kind == "cosine_restarts" and period > 0 and self.t_mult == 1 \
            and (last - self.warmup) / period > 1000


    def _stepwise(self, x: np.ndarray, base: float, ramp: np.ndarray) -> np.ndarray | None:
        """torch's StepLR (gamma^(n // step_size)), MultiStepLR (gamma^(milestones passed)) and ExponentialLR
        (gamma^n), n the scheduler steps done after any warm-up; None without gamma or an epoch's length."""
        if self.gamma is None or not self.unit:
            return None
        n = np.floor(np.clip(x - self.warmup, 0.0, None) / self.unit)
        if self.kind == "step":
            if not self.step_size:
                return None
            decays = np.floor(n / self.step_size)
        elif self.kind == "multistep":
            if not self.milestones:
                return None
            decays = np.searchsorted(np.asarray(self.milestones, dtype=np.float64), n, side="right")
        else:
            decays = n
        return np.where(x < self.warmup, base * ramp, base * self.gamma ** decays)

    def _stepwise_words(self) -> str:
        """"a step decay (StepLR): x0.5 every 10 epochs (5,000 steps)"."""
        words = [f"a {fmt(self.warmup)}-step warm-up{self.warmup_start()}, then"] if self.warmup else []
        words.append(NAMES[self.kind] + ":")
        gamma = f"x{fmt(self.gamma)}" if self.gamma is not None else "x gamma (not given)"
        per = f" ({fmt(self.unit)} steps each)" if self.unit_name == "epoch" and self.unit else ""
        if self.kind == "step" and self.step_size:
            span = f" ({fmt(self.step_size * self.unit)} steps)" if self.unit_name == "epoch" and self.unit else ""
            words.append(f"{gamma} every {fmt(self.step_size)} {self.unit_name}s{span}")
        elif self.kind == "multistep" and self.milestones:
            words.append(f"{gamma} at {self.unit_name}s {', '.join(fmt(m) for m in self.milestones)}{per}")
        else:
            words.append(f"{gamma} every {self.unit_name}{per}")
        if self.unit is None:
            words.append("(stepped once an epoch; the config does not say how many steps an epoch holds)")
        return " ".join(words)

    def _restarts(self, x: np.ndarray, base: float, ramp: np.ndarray) -> np.ndarray | None:
        """torch.optim.lr_scheduler.CosineAnnealingWarmRestarts stepped once a step (after any warm-up); None
        without T_0, or when T_0 would restart it over a thousand times in the logged steps (a T_0 in epochs)."""
        w, period, mult = float(self.warmup), float(self.period or 0), self.t_mult
        if period <= 0 or mult < 1 or (len(x) and self.too_many_restarts(float(x[-1]))):
            return None
        t = np.clip(x - w, 0.0, None)
        if mult == 1:
            cur, span = np.mod(t, period), np.full_like(t, period)
        else:  # torch: n = int(log(t / T_0 * (T_mult - 1) + 1, T_mult))
            n = np.floor(np.log(t / period * (mult - 1) + 1) / math.log(mult))
            cur, span = t - period * (mult**n - 1) / (mult - 1), period * mult**n
        floor = self.floor if self.floor is not None and self.floor < base else 0.0
        decayed = floor + (base - floor) * 0.5 * (1 + np.cos(np.pi * cur / span))
        return np.where(x < w, base * ramp, decayed)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (list, tuple)) and len(value) == 1:  # LDM writes its factors as one-item lists
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _kind(value: Any) -> str | None:
    """The curve a scheduler's name means, from a word or a mapping's type/name/target (None: not one we know)."""
    if isinstance(value, dict):
        for key in ("type", "name", "target", "class", "class_name", "class_path", "_target_", "scheduler"):
            if isinstance(value.get(key), str):
                return _kind(value[key])
        return None
    if not isinstance(value, str):
        return None
    word = value.rsplit(".", 1)[-1].strip().lower()
    return KINDS.get(word) or KINDS.get(word.replace("-", "_")) or KINDS.get(word.replace("_", ""))


# a section of these is another schedule's (a KL/beta annealing, the discriminator's, an EMA's): its warm-up
# or length is not the learning rate's
OTHER_SCHEDULES = ("beta", "kl", "disc", "gan", "ema", "anneal", "capacity", "loss", "noise", "diffusion")


def _first(flat: dict[str, Any], keys: tuple[str, ...], within: str = "") -> tuple[str, Any] | None:
    """The first (path, value) whose last key is one of ``keys`` (in that order), under ``within`` if given,
    else in no section of another schedule."""
    for key in keys:
        for path, value in flat.items():
            if not path.startswith(within) or path.rsplit(".", 1)[-1].lower() != key or value is None:
                continue
            if within or not _other_schedule(path.lower().split(".")[:-1]):
                return path, value
    return None


def _other_schedule(parents: list[str]) -> bool:
    return any(word in part for part in parents for word in OTHER_SCHEDULES)


def plan_from_config(config: dict, origin: str) -> LrPlan | None:
    """The scheduler the config names, or None when it names none (nor a warm-up)."""
    flat = flatten(config)
    named = unknown = None
    for key in KIND_KEYS:
        for path, value in flat.items():
            parts = path.lower().split(".")
            if key not in parts:
                continue
            # a schedule under a KL/beta/discriminator section is that term's (a KL annealing), not the lr's
            if not key.startswith("lr") and _other_schedule(parts[:parts.index(key)]):
                continue
            # the key itself, or a mapping under it (scheduler_config.target, lr_scheduler.type)
            head = ".".join(path.split(".")[:parts.index(key) + 1])
            sub = {p[len(head) + 1:]: v for p, v in flat.items() if p.startswith(head + ".")}
            kind = _kind(value) if path == head else _kind(_unflatten(sub))
            if kind is not None:
                named = (head, kind)
                break
            label = _label(value) if path == head else _label(_unflatten(sub))
            if label and unknown is None:
                unknown = (head, label)
        if named:
            break
    if named is None and unknown is not None:  # a scheduler it names by a name the report does not model
        return LrPlan("unknown", label=unknown[1], source=f"{origin}: {unknown[0]}")
    within = named[0] + "." if named else ""
    warm = _first(flat, WARMUP_KEYS, within) or _first(flat, WARMUP_KEYS)
    warmup = _number(warm[1]) if warm else None
    if not warmup:  # Hugging Face's warmup_ratio: a share of the run's steps (used when warmup_steps is 0)
        ratio, total = _first(flat, ("warmup_ratio",), within) or _first(flat, ("warmup_ratio",)), \
            _first(flat, LENGTH_KEYS)
        share, steps = (_number(ratio[1]) if ratio else None), (_number(total[1]) if total else None)
        if share and steps and 0 < share < 1 and steps > 0:
            warm, warmup = (f"{ratio[0]} x {total[0]}", None), share * steps
    start = _warmup_start(flat, within, warm)
    if named is None:
        if warmup and warmup > 0:
            return LrPlan("warmup_only", warmup=int(math.ceil(warmup)), source=f"{origin}: {warm[0]}", **start)
        return None
    head, kind = named
    length = _first(flat, LENGTH_KEYS[:5], within)
    cycle = _first(flat, ("cycle_lengths",), within)
    floor = _first(flat, FLOOR_KEYS, within) or (_first(flat, FLOOR_KEYS) if kind in ("cosine", "linear") else None)
    restart = _first(flat, ("t_0",), within) if kind == "cosine_restarts" else None
    mult = _first(flat, ("t_mult",), within) if kind == "cosine_restarts" else None
    factors = {key: _number(v[1]) for key in ("f_start", "f_max", "f_min", "lr_start", "lr_max", "lr_min")
               if (v := _first(flat, (key,), within)) is not None}
    plan = LrPlan(
        kind, warmup=int(math.ceil(warmup or 0)),
        length=int(n) if kind != "cosine_restarts" and (n := _number((cycle or length or (None, None))[1])) and n > 0
        else None,
        period=int(p) if restart and (p := _number(restart[1])) and p > 0 else None,
        t_mult=float(_number(mult[1]) or 1.0) if mult else 1.0,
        floor=_number(floor[1]) if floor else None,
        f_start=_first_of(factors, "f_start", "lr_start", 0.0), f_max=_first_of(factors, "f_max", "lr_max", 1.0),
        f_min=_first_of(factors, "f_min", "lr_min", 1.0 if kind == "ldm_linear" else 0.0),
        source=f"{origin}: {head}" + (f", {warm[0]}" if warm else ""), **start)
    if kind in STEPWISE:
        plan = _stepwise_plan(plan, flat, within)
    return plan


def _warmup_start(flat: dict[str, Any], within: str, warm: tuple | None) -> dict[str, Any]:
    """Where the config's warm-up starts, as LrPlan fields: an absolute rate, or a factor of the base rate
    (mmcv's ``warmup_ratio`` is one where its warm-up is counted in ``warmup_iters``: Hugging Face's is a share
    of the run, read as the warm-up's length above)."""
    found = _first(flat, WARMUP_START_KEYS, within) or _first(flat, WARMUP_START_KEYS)
    if found is not None and (value := _number(found[1])) is not None and value >= 0:
        return {"warmup_from": value, "warmup_key": found[0].rsplit(".", 1)[-1]}
    keys = WARMUP_FACTOR_KEYS + (("warmup_ratio",) if warm and str(warm[0]).endswith("warmup_iters") else ())
    found = _first(flat, keys, within) or _first(flat, keys)
    if found is not None and (value := _number(found[1])) is not None and 0 <= value <= 1:
        return {"warmup_factor": value, "warmup_key": found[0].rsplit(".", 1)[-1]}
    return {}


def _stepwise_plan(plan: LrPlan, flat: dict[str, Any], within: str) -> LrPlan:
    """StepLR's step_size, MultiStepLR's milestones, their gamma, and what one scheduler step is: an epoch where
    the section says so (Lightning's ``interval: epoch``, mmcv's ``by_epoch``), or where it counts so few that
    steps cannot be meant (a step_size or last milestone under 100); then the config's steps per epoch size it."""
    from dataclasses import replace

    gamma = _first(flat, ("gamma", "lr_decay_rate", "decay_rate", "factor"), within)
    size = _first(flat, ("step_size", "decay_every", "lr_step"), within)
    marks = _first(flat, ("milestones", "lr_steps", "steps"), within)
    milestones = tuple(sorted(float(m) for m in marks[1] if _number(m) is not None)) \
        if marks and isinstance(marks[1], (list, tuple)) else ()
    interval = _first(flat, ("interval", "unit"), within)
    by_epoch = _first(flat, ("by_epoch",), within)
    step_size = _number(size[1]) if size else None
    count = step_size if plan.kind == "step" else (milestones[-1] if milestones else None)
    if interval and isinstance(interval[1], str):
        epochs = interval[1].strip().lower().startswith("epoch")
    elif by_epoch and isinstance(by_epoch[1], bool):
        epochs = by_epoch[1]
    else:
        epochs = count is not None and count < 100
    per_epoch = _first(flat, STEPS_PER_EPOCH)
    unit = (int(n) if per_epoch and (n := _number(per_epoch[1])) and n >= 1 else None) if epochs else 1
    return replace(plan, gamma=_number(gamma[1]) if gamma else None, step_size=step_size, milestones=milestones,
                   unit=unit, unit_name="epoch" if epochs else "step")


def _label(value: Any) -> str | None:
    """A scheduler's name as a config writes it (a word, or a mapping's type/name/target), known or not."""
    if isinstance(value, dict):
        for key in ("type", "name", "target", "class", "class_name", "class_path", "_target_"):
            if isinstance(value.get(key), str) and value[key].strip():
                return value[key].strip()[:60]
        return None
    if isinstance(value, str) and value.strip() and not _number(value):
        return value.strip()[:60]
    return None


def _first_of(values: dict, a: str, b: str, default: float) -> float:
    for key in (a, b):
        if values.get(key) is not None:
            return float(values[key])
    return default


def _unflatten(flat: dict[str, Any]) -> dict:
    return {k: v for k, v in flat.items() if "." not in k}
