"""The config beside the run, checked as the trainer would read it: a key one letter off a setting it lacks."""

from __future__ import annotations

from ..numbers import fmt
from ..schedule import Schedule
from .base import Case, Metrics
from .said import Said

# settings the schedule holds under the same name: what the report used instead of the mistyped one
_HELD = {"disc_start": "disc_start", "kl_weight": "kl_weight", "disc_weight": "disc_weight",
         "codebook_weight": "codebook_weight", "train_num_steps": "total_steps", "max_steps": "total_steps",
         "base_learning_rate": "lr", "min_lr": "min_lr"}


def config_typos(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    out = []
    for origin, key, setting in s.config_typos:
        field = _HELD.get(setting)
        value = getattr(s, field, None) if field else None
        used = (f" The report's {field} is {fmt(value)} ({s.origins.get(field, 'a default')})." if value is not None
                else f" The report has no {setting} from this config." if field else "")
        out.append(Case(
            f"{origin}: {key} is not a setting any of these trainers reads, and {setting} is missing beside it: a "
            f"typo of {setting}? A trainer given this file would have refused it (LDM and RadioDiff pass the loss "
            "section to the loss's constructor, which takes no such keyword; the bundled trainer refuses unknown "
            f"keys) or run with its default {setting}, so this file is not, as written, the config the run trained "
            f"with.{used} Fix the key, or pass the config the run used with --config.",
            None, m.last_step(), {"key": key, "setting": setting}))
    return out


def config_typos_short(f: Said) -> str | None:
    if "key" not in f.n:
        return None
    return f"config key {f.n['key']} is no setting, and {f.n.get('setting')} is missing beside it"
