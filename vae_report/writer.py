"""How every report reaches the disk: one file written atomically, or a Markdown file with its images in a
``<stem>_files/`` folder swapped in whole; links and data URIs for the images. Used by the run, sweep and compare
reports alike."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

from markupsafe import Markup

from .errors import OutputError
from .outputs import MARKER, remember, stage


def link(files_dir_name: str, name: str) -> str:
    """A relative link CommonMark renders whatever the folder's name (spaces, unicode): percent-encoded."""
    return Markup(quote(f"{files_dir_name}/{name}"))  # made for Markdown: not escaped again

def data_uri(data: bytes, mime: str = "image/png") -> str:
    return Markup(f"data:{mime};base64," + base64.b64encode(data).decode("ascii"))


def is_html(out: Path) -> bool:
    """True for .html/.htm, False for .md/.markdown; anything else is refused."""
    suffix = out.suffix.lower()
    if suffix not in (".md", ".markdown", ".html", ".htm"):
        raise OutputError(f"{out}: unknown report format; end --out with .md or .html")
    return suffix in (".html", ".htm")

def write_markdown(out: Path, text: str, files_dir: Path, images: dict[str, bytes]) -> list[Path]:
    """The images into a fresh folder swapped in whole, then the Markdown: never a half-written report."""
    staging = Path(tempfile.mkdtemp(prefix=f".{files_dir.name}.", dir=files_dir.parent))
    try:
        os.chmod(staging, 0o777 & ~_umask())
        (staging / MARKER).write_text("made by vae-report: replaced by the next report of the same name\n")
        for name, png in images.items():
            (staging / name).write_bytes(png)
    except BaseException as exc:  # an interruption too: no hidden folder left behind
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{files_dir}: cannot write the plots ({exc.strerror}); choose another --out") from exc
        raise

    def swap() -> None:
        try:
            _swap_dir(staging, files_dir)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(f"{files_dir}: cannot write the plots ({exc.strerror}); choose another --out") from exc

    stage(swap, lambda: shutil.rmtree(staging, ignore_errors=True))
    atomic_write(out, text.encode("utf-8"))
    return [out, files_dir]


def ready_parent(out: Path) -> Path:
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the folder {parent} ({exc.strerror}); choose another --out") from exc
    if out.is_dir():
        raise OutputError(f"{out}: is a folder; give a file name such as {out / 'report.md'}")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{out}: the folder {parent} is not writable; choose another --out")
    return parent


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and move it into place (at the end of an open commit)."""
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.resolve().parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is as readable as any new file
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write ({exc.strerror}); choose another --out") from exc
        raise
    digest = hashlib.sha256(data).hexdigest()
    stage(lambda: _replace(tmp, path, digest), lambda: Path(tmp).unlink(missing_ok=True))


def _replace(tmp: str, path: Path, digest: str) -> None:
    try:
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({exc.strerror}); choose another --out") from exc
    remember(path, digest)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap_dir(staging: Path, target: Path) -> None:
    """Put the staged folder in place of ours; the old one is moved aside under a fresh name of its own (never
    onto, nor deleting, a folder someone else named ``.<name>.old``) and then removed."""
    if target.exists() and not (target / MARKER).is_file():
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"{target}: exists and was not made by vae-report; move it or choose another --out")
    old = None
    try:
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            target.rename(old)  # onto the empty folder just made: a rename cannot clobber anything else
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and not target.exists():
            old.rename(target)
        raise OutputError(f"{target}: cannot replace the plots ({exc.strerror}); choose another --out") from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
