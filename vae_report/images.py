"""What the model produces: reconstruction grids a trainer saved, found and read lazily.

Sources: image files beside the logs (RadioDiff's ``sample-<n>.png``, latent-diffusion's ImageLogger
``images/train/<key>_gs-<step>_e-..._b-....png``, any PNG/JPEG whose name carries a step) and TensorBoard image
summaries (torch's and Lightning's ``add_image``, TF2's ``tf.summary.image``). Only an index is built while
looking (step, tag, where the bytes are); the bytes of the few images the report shows are read at the end, so
images in a large event file do not slow the scalar path.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from pathlib import Path

from .readers import tfrecord

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_MIN_IMAGE_RECORD = 100  # bytes: a scalar event is ~40-80; the smallest PNG is longer
_STEP_IN_NAME = [
    re.compile(r"gs-(\d+)"),  # latent-diffusion / taming ImageLogger
    re.compile(r"(?:^|[_-])(?:step|iter|it|global_step)[_-]?(\d+)", re.I),
]
_SAMPLE = re.compile(r"^(val[-_])?sample-(\d+)$")  # RadioDiff: sample-<step // save_and_sample_every>.png


@dataclass(frozen=True)
class ImageRef:
    """One image the run holds: its step (None if unknown), a group name, and where its bytes are."""

    step: int | None
    group: str  # tag or file family, e.g. "train/reconstructions", "sample", "images/train/reconstruction"
    source: str  # file, relative to the run
    path: Path
    offset: int | None = None  # event files: record payload offset and length
    length: int | None = None
    order: int = 0  # milestone number or position, for files without a step

    def read(self) -> tuple[bytes, str]:
        """The encoded image and its MIME type."""
        if self.offset is None:
            data = self.path.read_bytes()
        else:
            data = _image_from_event(self.path, self.offset, self.length)
        return data, _mime(data)


def _mime(data: bytes) -> str:
    return "image/jpeg" if data[:3] == b"\xff\xd8\xff" else "image/png"


def find_images(root: Path, checkpoint_every: int | None = None, scalar_only: set[str] = frozenset()) -> list[ImageRef]:
    """Every image of a run folder (files and TensorBoard image summaries), unordered; event files in
    ``scalar_only`` (relative paths the scalar reader found nothing else in) are not walked again."""
    root = Path(root)
    base = root if root.is_dir() else root.parent
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    found: list[ImageRef] = []
    for path in paths:
        rel = path.relative_to(base).as_posix()
        if "tfevents" in path.name:
            if rel not in scalar_only:
                found += _event_images(path, rel)
        elif path.suffix.lower() in IMAGE_SUFFIXES and not _is_report_output(path):
            ref = _file_image(path, rel, checkpoint_every)
            if ref is not None:
                found.append(ref)
    return found


def _is_report_output(path: Path) -> bool:
    # our own plots, if a report was written inside the run folder
    return any(part.endswith("_files") for part in path.parts[:-1])


def _file_image(path: Path, rel: str, checkpoint_every: int | None) -> ImageRef | None:
    stem = path.stem
    sample = _SAMPLE.match(stem)
    if sample:
        milestone = int(sample.group(2))
        step = milestone * checkpoint_every if checkpoint_every else None
        group = "val sample" if sample.group(1) else "sample"
        return ImageRef(step, group, rel, path, order=milestone)
    for pattern in _STEP_IN_NAME:
        found = pattern.search(stem)
        if found:
            step = int(found.group(1))
            prefix = stem[: found.start()].rstrip("_-")
            folder = Path(rel).parent.as_posix()
            group = f"{folder}/{prefix}" if folder != "." else prefix or "images"
            return ImageRef(step, group, rel, path, order=step)
    return None


def _event_images(path: Path, rel: str) -> list[ImageRef]:
    """Index the image summaries of an event file: only records long enough to hold an image are parsed."""
    from tensorboard.compat.proto import event_pb2

    out: list[ImageRef] = []
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            starts, lengths, _ = tfrecord.frame_records(data)
            for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
                if length < _MIN_IMAGE_RECORD:
                    continue
                event = event_pb2.Event()
                try:
                    event.ParseFromString(data[start + 12 : start + 12 + length])
                except Exception:  # a damaged record: the scalar reader reports those
                    continue
                for value in event.summary.value:
                    if _encoded(value) is not None:
                        out.append(ImageRef(int(event.step), value.tag, rel, path, start + 12, length,
                                            order=int(event.step)))
                        break
    except (OSError, ValueError):  # unreadable or empty file: the scalar reader says so in the sources
        return []
    return out


def _encoded(value) -> bytes | None:
    """The encoded image of a summary value: torch/Lightning ``image``, or TF2's ``images`` plugin tensor
    (a string tensor: width, height, then one encoded image per sample)."""
    if value.WhichOneof("value") == "image":
        return value.image.encoded_image_string or None
    if value.metadata.plugin_data.plugin_name == "images" and value.WhichOneof("value") == "tensor":
        strings = value.tensor.string_val
        return strings[2] if len(strings) > 2 else None
    return None


def _image_from_event(path: Path, offset: int, length: int) -> bytes:
    from tensorboard.compat.proto import event_pb2

    with path.open("rb") as handle:
        handle.seek(offset)
        event = event_pb2.Event()
        event.ParseFromString(handle.read(length))
    for value in event.summary.value:
        data = _encoded(value)
        if data is not None:
            return data
    raise ValueError(f"{path}: no image at byte {offset}")


@dataclass(frozen=True)
class Shown:
    """An image chosen for the report, with the caption that says what it is."""

    ref: ImageRef
    caption: str
    data: bytes
    mime: str

    @property
    def suffix(self) -> str:
        return ".jpg" if self.mime == "image/jpeg" else ".png"


_PREFERRED = ("reconstruction", "sample", "rec", "recon")


def _group_rank(group: str) -> tuple[int, int]:
    name = group.lower()
    rank = next((i for i, word in enumerate(_PREFERRED) if word in name), len(_PREFERRED))
    return (name.startswith("val") or "val " in name or "/val" in name, rank)


def choose_images(refs: list[ImageRef], disc_start: int | None, step_label: str = "step",
                  last_step: int | None = None) -> list[Shown]:
    """The latest reconstruction grid and, around ``disc_start``, the last one before it and the first one
    after it (what the GAN changed), each captioned with its step; at most three, read now. ``last_step``: the
    last logged scalar step, which an image saved later (at the end of training) is said to be past."""
    if not refs:
        return []
    groups: dict[str, list[ImageRef]] = {}
    for ref in refs:
        groups.setdefault(ref.group, []).append(ref)
    group = min(groups, key=lambda g: (_group_rank(g), -len(groups[g])))
    series = sorted(groups[group], key=lambda r: (r.step if r.step is not None else -1, r.order))
    latest = series[-1]
    picks: list[tuple[ImageRef, str]] = []
    known = [r for r in series if r.step is not None]
    if disc_start is not None and known:
        before = [r for r in known if r.step < disc_start]
        after = [r for r in known if r.step >= disc_start]
        if before and after:
            picks.append((before[-1], f"last before the discriminator started (disc_start {disc_start:,})"))
        if after and after[0] is not latest:
            picks.append((after[0], "first after the discriminator started"))
    past = latest.step is not None and last_step is not None and latest.step > last_step
    # the report's "latest" step is the scalars'; an image saved after them (at the end of training) says so
    picks.append((latest, f"latest, saved after the last logged scalar {step_label} ({last_step:,})" if past
                  else "latest"))
    shown = []
    for ref, what in picks:
        try:
            data, mime = ref.read()
        except (OSError, ValueError):
            continue
        where = f"{step_label} {ref.step:,}" if ref.step is not None else f"milestone {ref.order}"
        shown.append(Shown(ref, f"{ref.group} at {where}: {what} ({ref.source})", data, mime))
    return shown


def reconstructions(analysis) -> list:
    """The reconstruction grids the report shows: the latest, and the last before / first after disc_start."""
    # the scalar reader already walked every event file: only those where it met non-scalar tags hold images
    scalar_only = {src.path for src in analysis.sources
                   if src.kind == "tensorboard" and not any("non-scalar" in n for n in src.notes)}
    try:
        refs = find_images(Path(analysis.run), analysis.schedule.checkpoint_every, scalar_only)
    except OSError:
        return []
    return choose_images(refs, analysis.schedule.disc_start, last_step=analysis.step)
