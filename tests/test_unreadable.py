"""Files and folders of a run that the user running vae-report cannot read (chmod 000). Root reads everything, so
the analysis runs in a subprocess without that power: as uid 65534 (nobody) where the interpreter is reachable to
it, else as root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (dropped from the bounding set before the exec,
so the child obeys file modes like any user); as any other user, as that user. Skipped when none of these can
be arranged."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from writers import write_radiodiff_run

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534
_PR_CAPBSET_DROP, _CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 24, 1, 2


def _as_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _without_root_reads() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _denied(preexec: Callable[[], None] | None, probe: Path) -> bool:
    """The child starts vae-report's interpreter and cannot read a chmod-000 file."""
    done = subprocess.run([sys.executable, "-c", f"import vae_report; open({str(probe)!r}).read()"],
                          preexec_fn=preexec, env=_env(probe.parent), capture_output=True, text=True, timeout=60)
    return done.returncode == 1 and "PermissionError" in done.stderr


def _env(home: Path) -> dict[str, str]:
    # HOME, the record of our outputs and matplotlib's cache where the unprivileged child may write
    return {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home), "VAE_REPORT_CACHE": str(home / "cache"),
            "MPLCONFIGDIR": str(home / "mpl")}


@pytest.fixture(scope="module")
def place():
    """A world-readable and writable folder outside pytest's own (which is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="vae-report-unreadable-"))
    folder.chmod(0o777)
    yield folder
    for path in folder.rglob("*"):  # chmod 000 folders: opened again so the tree can be removed
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def unprivileged(place) -> Callable[[], None] | None:
    probe = place / "probe.txt"
    probe.write_text("secret\n")
    probe.chmod(0)
    if os.geteuid() != 0:
        return None if _denied(None, probe) else pytest.skip("chmod 000 does not stop this user from reading")
    for preexec in (_as_nobody, _without_root_reads):
        try:
            if _denied(preexec, probe):
                return preexec
        except (OSError, subprocess.SubprocessError):
            continue
    pytest.skip("root, and neither uid 65534 nor a root without CAP_DAC_OVERRIDE can run the interpreter here")


def _analyze(preexec, home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vae_report.cli", "analyze", *map(str, args)], preexec_fn=preexec,
                          env=_env(home), capture_output=True, text=True, timeout=300)


def _readable_tree(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o644)


def _one_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def test_unreadable_files_and_folders_of_a_run_are_named_with_the_reason(place, unprivileged):
    run = place / "run"
    write_radiodiff_run(run, last_step=2_000, tb_every=50, disc_start=1_001, total_steps=4_000)
    (run / "more").mkdir()
    shutil.copy(next(run.glob("*.log")), run / "more" / "old.log")
    (run / "notes.csv").write_text("step,rec_loss\n0,1.0\n10,0.9\n")
    _readable_tree(run)
    (run / "more").chmod(0)
    (run / "notes.csv").chmod(0)
    out, summary = place / "r.md", place / "r.json"
    done = _analyze(unprivileged, place, run, "--out", out, "--json", summary)
    assert done.returncode == 0 and not done.stderr, done.stderr  # exit 0: the run's other logs were read
    sources = out.read_text().split("## Sources", 1)[1]
    assert "notes.csv: not read (permission denied)" in sources and "more: not read (permission denied)" in sources
    notes = json.loads(summary.read_text())["merge_notes"]
    assert "notes.csv: not read (permission denied)" in notes and "more: not read (permission denied)" in notes


def test_a_run_whose_logs_are_all_unreadable_is_exit_2_naming_them(place, unprivileged):
    run = place / "locked"
    write_radiodiff_run(run, last_step=2_000, tb_every=50, disc_start=1_001, total_steps=4_000, with_config=False)
    _readable_tree(run)
    for path in run.iterdir():
        path.chmod(0)
    line = _one_line(_analyze(unprivileged, place, run, "--out", place / "l.md"))
    assert "no metric log could be read" in line and "not read (permission denied)" in line
    assert "tfevents" in line and "chmod a+r" in line and "format was not recognised" not in line
    log = next(run.glob("*.log"))  # one unreadable log given as the run
    line = _one_line(_analyze(unprivileged, place, log, "--out", place / "l.md"))
    assert str(log) in line and "not readable" in line, line
    assert not (place / "l.md").exists() and stat.S_IMODE(log.stat().st_mode) == 0
