"""Values the configs offer for one schedule setting: a key given twice in one file (PyYAML reads the last, a reader
stopping at the first takes the other), --config against the config the run keeps, the file against the copy the
run printed at launch. Where the data pin the value the run used (the discriminator's switch-on pins disc_start,
the logged sum pins kl_weight), the report takes that one and names the disagreement once (rules.pinned)."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from .config_twice import GivenTwice


@dataclass(frozen=True)
class Candidate:
    """One value a config offers for a schedule field, and where: "dup.yaml: model.lossconfig.disc_start (line 5)"."""

    value: float
    where: str


@dataclass(frozen=True)
class Pinned:
    """A schedule field the configs give more than one value for, and the one the data confirm: ``value`` (the
    report's), how the data show it (``shown``), where it is given, the candidates of other values, the value
    the report would have used without the data (``was``), and the key given twice in one file, if that is the
    disagreement (its dotted path and file: the given-twice finding then names it)."""

    key: str
    value: float
    shown: str
    where: str
    others: tuple[Candidate, ...]
    was: float | None
    twice: tuple[str, str] | None = None


# schedule fields the data can pin, by the config keys that give them
PINNED_KEYS = {"disc_start": ("disc_start",), "kl_weight": ("kl_weight",)}


def number(text: object) -> float | None:
    """A candidate's value as a number (a YAML scalar's text, or a value read already), else None."""
    value = yaml.safe_load(text) if isinstance(text, str) else text
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def from_twice(read_at: dict[str, str | None], twice: tuple[tuple[str, GivenTwice], ...]) -> dict[str, list]:
    """The first and last values of a key given twice, where that key is the one a schedule field was read from
    (``read_at``: field -> "file: dotted.path", as schedule.set_at gives it; the same path in the copy the run
    printed of that file counts: it is the value the file offered)."""
    out: dict[str, list[Candidate]] = {}
    for origin, d in twice:
        for key in PINNED_KEYS:
            if not same_key(read_at.get(key), d.path):
                continue
            for value, line, which in ((d.first, d.first_line, "first"), (d.last, d.last_line, "last")):
                if number(value) is not None:
                    out.setdefault(key, []).append(
                        Candidate(number(value), f"{origin}: {d.path} (the {which}, line {line})"))
    return out


def from_schedules(others: list) -> dict[str, list]:
    """The values other configs of the run give (the run's own beside --config, the copy its text log printed):
    ``others`` holds Schedules, each with the origin of its values."""
    out: dict[str, list[Candidate]] = {}
    for s in others:
        for key in PINNED_KEYS:
            value = getattr(s, key)
            if value is not None and not s.origins.get(key, "").endswith(" default"):
                out.setdefault(key, []).append(Candidate(float(value), s.key_path(key)))
    return out


def same_key(read_at: str | None, path: str) -> bool:
    """Whether a setting read at ``read_at`` ("file: dotted.path") is the key at dotted ``path`` of a config."""
    return read_at is not None and read_at.split(": ", 1)[-1] == path
