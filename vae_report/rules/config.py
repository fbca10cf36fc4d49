"""The config beside the run, checked as the trainer would read it: a key one letter off a setting it lacks, a key
given twice in one mapping."""

from __future__ import annotations

from ..candidates import PINNED_KEYS, Pinned, number, same_key
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
    for origin, key, text in s.config_strings if s.layout not in ("ldm", "sgm") else ():
        # LDM and generative-models load with OmegaConf, whose YAML loader reads 1e-6 as a number: no trap there
        mantissa, e, exponent = text.lower().partition("e")
        written = f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text
        who = ("RadioDiff's trainer, which loads it with PyYAML," if s.layout == "radiodiff"
               else "A trainer that loads it with PyYAML")
        out.append(Case(
            f"{origin}: {key} is written {text}, which PyYAML (YAML 1.1) reads as the string '{text}', not a "
            f"number: YAML 1.1 wants a dot in the mantissa ({written}). {who} hands its loss a string it cannot "
            "compute with (the bundled trainer converts it). Read here as "
            f"{fmt(float(text))}.", None, m.last_step(), {"key": key, "written": text}, case="string-number",
            severity="info",
            action=f"Write {key} as {written}, so that every YAML loader reads a number."))
    pins = {p.twice: p for p in s.pinned if p.twice is not None}
    return out + [_given_twice(origin, found, s, None, pins.get((origin, found.path)))
                  for origin, found in s.config_twice] + _disagree([p for p in s.pinned if p.twice is None])


def config_typos_short(f: Said) -> str | None:
    if f.case == "configs-disagree" and "settings" in f.n:
        return "the configs disagree on " + ", ".join(f"{k} (the data confirm {fmt(v['used'])})"
                                                      for k, v in f.n["settings"].items())
    if "key" not in f.n:
        return None
    if f.case == "string-number":
        return f"config key {f.n['key']} written {f.n.get('written')}, a string under PyYAML"
    if f.case == "given-twice":
        times = f.n.get("times", 2)
        which = "the first used, as the data show" if "used" in f.n else "the last used"
        return f"config key {f.n['key']} given {'twice' if times == 2 else f'{times} times'}, {which}"
    return f"config key {f.n['key']} is no setting, and {f.n.get('setting')} is missing beside it"


def _given_twice(origin: str, d: GivenTwice, s: Schedule, step: int | None, pin: Pinned | None = None) -> Case:
    """Never a refusal (the trainer ran with the file): which value it took, and whether the two differ; where
    the data confirm one of its values (``pin``), that one."""
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
    if pin is not None and number(d.first) == pin.value:
        return _first_used(said, given, d, pin, origin, numbers, why, step)
    confirmed = f" The data confirm it: {pin.shown}." if pin is not None and pin.value == number(d.last) else ""
    held = next((k for k in PINNED_KEYS if same_key(s.key_path(k), d.path) or same_key(s.origins.get(k), d.path)),
                None)
    if held is not None and number(d.last) is not None and getattr(s, held) not in (None, number(d.last)):
        # the report took the value from elsewhere (the config the run printed at launch): never "so does"
        return Case(f"{said}, {given}: PyYAML reads the last, {d.last}; this report uses {fmt(getattr(s, held))}, "
                    f"from {s.origins.get(held)}.", None, step, numbers, case="given-twice",
                    title="A config key given twice", rationale=why,
                    action=f"Keep one {d.path} in {origin}, with the value the run used.")
    read = (f"OmegaConf, with which latent-diffusion and generative-models load their configs, refuses a key given "
            f"twice, so the run did not start from this file as written; this report uses the last, {d.last}, as "
            "PyYAML reads it" if s.layout in ("ldm", "sgm") else
            f"a trainer reading it with PyYAML (RadioDiff's train_vae.py, the bundled trainer) used the last, "
            f"{d.last}, and so does this report; the first, {d.first}, was not used")
    return Case(f"{said}, {given}: {read}.{confirmed}", None, step, numbers, case="given-twice",
                title="A config key given twice", rationale=why,
                action=f"Keep one {d.path} in {origin}, with the value meant (the last, {d.last}, is the one read).")


def _first_used(said: str, given: str, d: GivenTwice, pin: Pinned, origin: str, numbers: dict, why: str,
                step: int | None) -> Case:
    """The data show the run used the first value of a key given twice: the file, as PyYAML reads it, is not the
    config the run trained with; the report follows the run."""
    also = _files("; ".join(w for w in pin.where.split("; ") if not w.startswith(f"{origin}: ")))
    elsewhere = f" ({also} give{'' if ' and ' in also else 's'} it too)" if also else ""
    return Case(f"{said}, {given}. The data show the run used the first, {d.first}: {pin.shown}. PyYAML reads the "
                f"last, {d.last}, so the run did not train from this file as written; this report uses "
                f"{d.first}{elsewhere}.", None, step, {**numbers, "used": pin.value}, case="given-twice",
                title="A config key given twice", rationale=why,
                action=f"Keep one {d.path} in {origin}, {d.first}, the value the run used (PyYAML reads the last, "
                       f"{d.last}).")


def _disagree(pins: list[Pinned]) -> list[Case]:
    """The configs of one run (--config, the run's own, the copy it printed) give its settings different values
    and the data confirm one of each: one finding, each setting with the value the report uses."""
    if not pins:
        return []
    said = "; ".join(f"{p.key} {_values(p.others)}, but {fmt(p.value)} in {_files(p.where)}" for p in pins)
    shown = "; ".join(p.shown for p in pins)
    numbers = {"key": ", ".join(p.key for p in pins), "value": pins[0].value,
               "settings": {p.key: {"used": p.value, "others": [c.value for c in p.others]} for p in pins}}
    common = {"case": "configs-disagree", "title": "The configs disagree on a setting", "rationale": _DISAGREE}
    if all(p.value == p.was for p in pins):
        return [Case(f"The configs disagree: {said}. The data confirm the values this report uses ({shown}).",
                     None, None, numbers, severity="info", **common)]
    used = ", ".join(f"{p.key} {fmt(p.value)}" for p in pins)
    return [Case(f"The configs disagree: {said}. The data show the run used {used} ({shown}); this report uses "
                 f"{'it' if len(pins) == 1 else 'them'}.", None, None, numbers, **common,
                 action=f"Pass the config the run trained with ({used}) with --config, or keep the configs in step.")]


_DISAGREE = ("A setting the configs disagree on is read from one of them: whoever follows the other (a report, a "
             "resumed run, a reader of the file) judges the run against a schedule it never had.")


def _values(others: tuple) -> str:
    return "; ".join(f"{fmt(c.value)} in {_files(c.where)}" for c in others)


def _files(where: str) -> str:
    """The files of "file: dotted.path; file: dotted.path" (the path is one key in each), said once."""
    files = [w.split(": ", 1)[0] for w in where.split("; ") if w]
    names = ["the config the run printed in its text log" if f == "config repr in the text log" else f
             for f in files]
    return " and ".join(dict.fromkeys(names))
