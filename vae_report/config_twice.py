"""Keys a YAML config gives twice in one mapping (``disc_start`` on line 5 and again on line 9). PyYAML keeps the
last value and says nothing, and so did a trainer that reads its config with it (RadioDiff's train_vae.py, the
bundled trainer); OmegaConf (latent-diffusion's main.py) refuses such a file. A merge key (``<<: *base``) that
a mapping's own key overrides is YAML's way of saying "as base, but", never a key given twice."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import VaeReportError
from .inputs import read_option_file

_MERGE = "tag:yaml.org,2002:merge"
_SHOWN = 40  # characters of a value quoted in the report


@dataclass(frozen=True)
class GivenTwice:
    """A key given ``times`` times in one mapping: its dotted path, and its first and last values (as written:
    a scalar's text, or what a section or list holds) with their lines, counted from 1; ``same``: the two are
    one scalar value (sections and lists are never taken for the same)."""

    path: str
    first: str
    first_line: int
    last: str
    last_line: int
    times: int = 2
    same: bool = False


def given_twice(path: Path) -> list[GivenTwice]:
    """Every key given more than once in one mapping of the config at ``path``, by line; none for a file that
    cannot be read or parsed (its own error is said where the config is loaded)."""
    try:
        text = read_option_file(path, "config").decode("utf-8", errors="replace")
    except VaeReportError:
        return []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        root = loader.get_single_node()
    except (yaml.YAMLError, RecursionError):
        return []
    finally:
        loader.dispose()
    return sorted(_walk(root), key=lambda d: d.last_line)


def _walk(root: yaml.Node | None) -> list[GivenTwice]:
    """Each node once (an alias is the node it names, so an alias bomb costs no more than its text), with the
    dotted path where it is first met."""
    found: list[GivenTwice] = []
    seen: set[int] = set()
    todo = [(root, "")]
    while todo:
        node, path = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            todo.extend((child, f"{path}[{i}]") for i, child in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            pairs: dict[tuple[str, str], list[tuple[yaml.Node, yaml.Node]]] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE:
                    pairs.setdefault((key.tag, key.value), []).append((key, value))
            for (_, name), given in pairs.items():
                where = f"{path}.{name}" if path else name
                todo.append((given[-1][1], where))  # the value the loader keeps is the one whose keys matter
                if len(given) > 1:
                    (first_key, first), (last_key, last) = given[0], given[-1]
                    same = all(isinstance(n, yaml.ScalarNode) for n in (first, last)) and \
                        (first.tag, first.value) == (last.tag, last.value)
                    found.append(GivenTwice(where, _shown(first), first_key.start_mark.line + 1, _shown(last),
                                            last_key.start_mark.line + 1, len(given), same))
    return found


def _shown(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return f"a section of {len(node.value)} key{'s' if len(node.value) != 1 else ''}"
    if isinstance(node, yaml.SequenceNode):
        return f"a list of {len(node.value)} item{'s' if len(node.value) != 1 else ''}"
    text = " ".join(str(node.value).split()) or "(empty)"
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"
