"""The config beside the run, checked as the trainer would read it: a key one letter off a setting it lacks, a key
given twice in one mapping."""

from __future__ import annotations

from ..config_twice import GivenTwice
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
    return out + [_given_twice(origin, found, s, m.last_step()) for origin, found in s.config_twice]


def config_typos_short(f: Said) -> str | None:
    if "key" not in f.n:
        return None
    if f.case == "given-twice":
        times = f.n.get("times", 2)
        return f"config key {f.n['key']} given {'twice' if times == 2 else f'{times} times'}, the last used"
    return f"config key {f.n['key']} is no setting, and {f.n.get('setting')} is missing beside it"


def _given_twice(origin: str, d: GivenTwice, s: Schedule, step: int | None) -> Case:
    """Never a refusal (the trainer ran with the file): which value it took, and whether the two differ."""
    times = "twice" if d.times == 2 else f"{d.times} times"
    given = (f"{d.first} (line {d.first_line}) then {d.last} (line {d.last_line})" if d.times == 2 else
             f"first {d.first} (line {d.first_line}), last {d.last} (line {d.last_line})")
    said = f"{origin}: {d.path} is given {times} in one mapping"
    numbers = {"key": d.path, "times": d.times, "first": d.first, "last": d.last}
    why = ("Of a key given twice PyYAML keeps the last value without a word: whoever reads the file and stops at the "
           "first takes the run to have trained with a value it never used.")
    if d.same:
        return Case(f"{said}, {d.last} each time (lines {d.first_line} and {d.last_line}): the same value, so "
                    "nothing changes; keep one.", None, step, numbers, severity="info", case="given-twice",
                    title="A config key given twice", action=f"Keep one {d.path} in {origin}.",
                    rationale="Harmless as it stands, but an edit to the first is silently undone by the second.")
    read = (f"OmegaConf, with which latent-diffusion and generative-models load their configs, refuses a key given "
            f"twice, so the run did not start from this file as written; this report uses the last, {d.last}, as "
            "PyYAML reads it" if s.layout in ("ldm", "sgm") else
            f"a trainer reading it with PyYAML (RadioDiff's train_vae.py, the bundled trainer) used the last, "
            f"{d.last}, and so does this report; the first, {d.first}, was not used")
    return Case(f"{said}, {given}: {read}.", None, step, numbers, case="given-twice",
                title="A config key given twice", rationale=why,
                action=f"Keep one {d.path} in {origin}, with the value meant (the last, {d.last}, is the one read).")
