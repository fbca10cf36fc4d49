"""The files a user names in an option (--config, --thresholds, --baseline): checked before they are opened and
read with a bound. Such a file is a YAML or JSON document of kilobytes; a device (/dev/zero) read whole fills
the memory, a named pipe blocks forever, a log or a checkpoint given by mistake is megabytes of no use."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import InputError, VaeReportError

OPTION_FILE_LIMIT = 64 << 20  # bytes: far above any config, thresholds file or JSON summary of a large sweep


def check_option_file(path: Path, option: str, error: type[VaeReportError] = InputError) -> os.stat_result:
    """``error`` (exit 2, one line naming the file and what to do) unless ``path`` is a readable regular file
    of at most OPTION_FILE_LIMIT bytes; its stat otherwise."""
    try:
        info = os.stat(path)  # follows a symlink: what would be read is what is checked
    except FileNotFoundError:
        raise error(f"{path}: {option} file not found; check the path") from None
    except OSError as exc:  # a looping symlink, a path through a file, no permission on a folder
        raise error(f"{path}: cannot read the {option} file ({exc.strerror}); check the path") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path}: {option} is a folder; give the path of a YAML or JSON file")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: {option} is not a regular file (a device, a pipe or a socket); give the path of "
                         "a YAML or JSON file")
    if info.st_size > OPTION_FILE_LIMIT:
        raise error(f"{path}: {option} is {info.st_size / 2**20:.0f} MB, more than the "
                         f"{OPTION_FILE_LIMIT >> 20} MB an option file may be; give the YAML or JSON file meant "
                         "(not a log or a checkpoint)")
    if not os.access(path, os.R_OK):
        raise error(f"{path}: the {option} file is not readable (permission denied); check its permissions")
    return info


def read_option_file(path: Path, option: str, error: type[VaeReportError] = InputError) -> bytes:
    """The bytes of an option file, checked as above; opened without blocking and checked again on the open
    file (a path swapped for a pipe meanwhile), and never more than OPTION_FILE_LIMIT bytes read."""
    check_option_file(path, option, error)
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(f"{path}: cannot read the {option} file ({exc.strerror}); check the path") from None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise error(f"{path}: {option} is not a regular file (a device, a pipe or a socket); give the "
                             "path of a YAML or JSON file")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(OPTION_FILE_LIMIT + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read the {option} file ({exc.strerror}); check the path") from None
    finally:
        os.close(handle)
    if len(data) > OPTION_FILE_LIMIT:  # grew since it was checked
        raise error(f"{path}: {option} is more than the {OPTION_FILE_LIMIT >> 20} MB an option file may be; "
                         "give the YAML or JSON file meant")
    return data
