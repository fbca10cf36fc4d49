"""``SummaryWriter.add_scalars(main_tag, {key: value})``: torch writes each key with a writer of its own, into the
sub-folder ``<logdir>/<main_tag with / as _>_<key>/``, under the tag ``main_tag``. The metric is named by the
folder, not by the tag (every key's file holds the same tag ``train``): read as ``<main_tag>/<key>``
(``train_rec_loss/`` -> ``train/rec_loss``). These sibling writers of one process are written at once, each with
other metrics: no resume, no second process, once their tags are named apart.
"""

from __future__ import annotations

from pathlib import Path


def scalars_name(path: Path | str, tags: set[str]) -> dict[str, str]:
    """{tag: metric name} for an event file written by ``add_scalars``: it holds one scalar tag, and its folder's
    name is that tag's (with ``/`` as ``_``) followed by ``_`` and the key; {} for any other file."""
    if len(tags) != 1:
        return {}
    tag = next(iter(tags))
    folder = Path(path).parent.name
    prefix = tag.strip().replace("/", "_") + "_"
    if not tag.strip() or len(folder) <= len(prefix) or not folder.startswith(prefix):
        return {}
    return {tag: f"{tag.strip()}/{folder[len(prefix):]}"}


def scalars_note(renamed: dict[str, str]) -> str:
    """One note for the run: which folders were read as add_scalars' keys, and under which names."""
    shown = [f"{folder}/ as {name}" for folder, name in sorted(renamed.items())[:4]]
    more = f" and {len(renamed) - 4} more" if len(renamed) > 4 else ""
    return ("add_scalars' sub-folders (one writer per key, each file holding its main tag) read as one metric "
            "each, named by the folder: " + ", ".join(shown) + more)
