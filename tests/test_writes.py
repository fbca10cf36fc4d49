"""Every write vae-report makes goes through its guarded writer (vae_report/writer.py, with outputs.py which checks
and records the outputs): a walk of the package's source finds any other, so the next writer cannot bypass it.
Then what the guard promises, for every way a report is written (library, watch, sweep, compare, the Lightning
callback, the loop hook): a file we did not write is never replaced, and nothing is left half-written."""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner
from writers import write_radiodiff_run

import vae_report
from vae_report import examine_run
from vae_report.cli import app
from vae_report.errors import OutputError

PACKAGE = Path(vae_report.__file__).resolve().parent
GUARDED = {"writer.py", "outputs.py"}  # the only modules that may write
runner = CliRunner()

# Calls that change the file system whatever their arguments (by the called name: none is a common name of
# anything else); ``os.`` and ``shutil.`` calls are judged by their module below.
_ALWAYS = {"write_text", "write_bytes", "mkdir", "makedirs", "rename", "renames", "unlink", "rmdir", "removedirs",
           "rmtree", "touch", "symlink_to", "hardlink_to", "link_to", "chmod", "lchmod", "chown", "lchown",
           "truncate", "ftruncate", "mkfifo", "mknod", "utime", "mkstemp", "mkdtemp", "NamedTemporaryFile",
           "TemporaryFile", "TemporaryDirectory", "SpooledTemporaryFile", "to_csv", "to_parquet", "to_pickle",
           "to_hdf", "to_feather", "to_excel", "to_json", "save", "savez", "savetxt", "tofile", "write_image",
           "write_html", "savefig", "renameat2", "renameat"}  # the last two: libc's, called through ctypes
_OS_WRITES = {"write", "replace", "remove", "link", "symlink", "system", "pwrite", "writev", "sendfile"}
_MODULES_WITH_OPEN = {"gzip", "bz2", "lzma", "io", "codecs", "tarfile", "zipfile", "os"}
_WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"}
# Named exceptions, each with why it writes nothing of ours to disk.
ALLOWED = {
    ("lightning.py", "save"): "asks the trainer's own logger to flush what it buffered (its own files, as it does "
                              "itself every few steps): the report must see the steps logged so far",
    ("interactive.py", "to_json"): "plotly.io.to_json(fig) returns the figure as a string",
    ("entry.py", "os.open for writing"): "opens /dev/null to point a standard stream that cannot be written (a closed "
                                         "pipe, a full device) at it: no file is written",
}


def _mode(call: ast.Call, index: int) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == "mode":
            return keyword.value.value if isinstance(keyword.value, ast.Constant) else "?"
    if len(call.args) > index:
        arg = call.args[index]
        return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else "?"
    return None


def _in_memory_targets(tree: ast.AST) -> set[str]:
    """Names bound to an in-memory buffer (``buf = io.BytesIO()``): savefig into one writes no file."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("BytesIO", "StringIO"):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def writes_in(source: str) -> list[tuple[int, str]]:
    """(line, what) of every call in ``source`` that may create, change or remove a file."""
    tree = ast.parse(source)
    buffers = _in_memory_targets(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
        if name in ("open", "fdopen"):
            if owner == "os" and name == "open":
                flags = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                if flags & _WRITE_FLAGS:
                    found.append((node.lineno, "os.open for writing"))
                continue
            module_call = isinstance(func, ast.Name) or owner in _MODULES_WITH_OPEN
            mode = _mode(node, 1 if module_call else 0)
            if mode is not None and set(mode) & set("wax+?"):
                found.append((node.lineno, f"{name}(mode={mode!r})"))
        elif name == "savefig" and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in buffers:
            continue
        elif name in _ALWAYS or (owner == "os" and name in _OS_WRITES):
            found.append((node.lineno, name))
        elif name == "replace" and len(node.args) == 1 and not node.keywords:  # Path.replace(target); str has 2
            found.append((node.lineno, "replace"))
        elif owner == "shutil" and name not in ("which", "disk_usage", "get_terminal_size"):
            found.append((node.lineno, f"shutil.{name}"))
    return found


def test_no_module_writes_outside_the_guarded_writer():
    stray = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in GUARDED and path.parent == PACKAGE:
            continue
        for line, what in writes_in(path.read_text(encoding="utf-8")):
            if (path.name, what) not in ALLOWED:
                stray.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {what}")
    assert not stray, "write through vae_report/writer.py instead:\n" + "\n".join(stray)


@pytest.mark.parametrize("snippet", [
    "open(p, 'w')", "open(p, mode='a')", "Path(p).open('wb')", "p.open(mode='x')", "gzip.open(p, 'wt')",
    "os.fdopen(h, 'w')", "os.open(p, os.O_WRONLY | os.O_CREAT)", "p.write_text('x')", "p.write_bytes(b'')",
    "p.mkdir()", "os.makedirs(d)", "os.replace(a, b)", "p.replace(q)", "p.rename(q)", "shutil.move(a, b)",
    "shutil.rmtree(d)", "shutil.copy(a, b)", "tempfile.mkstemp()", "os.link(a, b)", "fig.savefig('a.png')",
    "df.to_csv('a.csv')", "np.save(p, a)",
    "p.unlink()", "os.remove(p)", "p.touch()", "open(p, m)", "libc.renameat2(-100, a, -100, b, 2)",
])
def test_the_walk_finds_every_kind_of_write(snippet):
    assert writes_in(snippet), snippet


@pytest.mark.parametrize("snippet", [
    "open(p)", "open(p, 'rb')", "p.open('rb')", "gzip.open(p, 'rb')", "os.open(p, os.O_RDONLY)",
    "text.replace('a', 'b')", "moment.replace(tzinfo=None)", "buf = io.BytesIO()\nfig.savefig(buf, format='png')",
    "shutil.which('git')", "env = os.environ.copy()", "names.remove(x)", "link(folder, name)",
])
def test_the_walk_lets_reads_be(snippet):
    assert not writes_in(snippet), snippet


# --- behaviour -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def radiodiff(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rd") / "run"
    write_radiodiff_run(folder, last_step=3_000, tb_every=50, disc_start=1_501, total_steps=6_000)
    return folder


@pytest.fixture
def run(tmp_path, radiodiff):
    """A fresh copy per test (the tests put files of the user's into it)."""
    return Path(shutil.copytree(radiodiff, tmp_path / "run"))


def _hashes(*folders: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for f in folders for p in sorted(f.rglob("*"))
            if p.is_file()}


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if p.name != ".vae-report"]


def test_the_library_writers_never_replace_a_file_of_the_run_or_of_the_user(run, tmp_path):
    from vae_report.render import write_report, write_summary

    (run / "notes.md").write_text("# my notes on this run\n")
    (run / "run.json").write_text('{"mine": 1}\n')
    mine = tmp_path / "mine.html"
    mine.write_text("<p>my page</p>\n")
    before = _hashes(tmp_path)
    examined = examine_run(run)
    config = run / "first_radio.yaml"
    for target, write in ((run / "run.json", lambda: write_summary(examined.analysis, run / "run.json")),
                          (run / "notes.md", lambda: write_report(examined.analysis, run / "notes.md")),
                          (mine, lambda: write_report(examined, mine)),
                          (config, lambda: write_summary(examined.analysis, config))):
        with pytest.raises(OutputError) as refused:
            write()
        assert str(target) in str(refused.value) and "\n" not in str(refused.value)
    assert _hashes(tmp_path) == before and not _leftovers(tmp_path)


@pytest.mark.parametrize("suffix", [".md", ".html"])
@pytest.mark.parametrize("record", ["kept", "lost"])
def test_a_report_edited_by_hand_outside_the_run_is_kept_and_an_unedited_one_replaced(run, tmp_path, monkeypatch,
                                                                                        suffix, record):
    """Last week's report, outside the run folder: replaced when unedited (its seal checks, whatever the record
    of what we wrote), refused byte for byte when edited by hand with our footer kept (the seal fails; the record,
    where kept, too): the user's notes are never lost."""
    out = tmp_path / "reports" / f"week48{suffix}"
    def main(args):
        return runner.invoke(app, args).exit_code

    assert main(["analyze", str(run), "--out", str(out), "--quiet"]) == 0
    if record == "lost":  # another machine's copy, or a cache cleared since: the seal alone decides
        from vae_report import outputs

        class Forgotten(dict):  # this process' memory of its writes, kept from here on by nothing
            def __setitem__(self, key, value):
                pass

        monkeypatch.setenv("VAE_REPORT_CACHE", str(tmp_path / "empty-cache"))
        monkeypatch.setattr(outputs, "_WRITTEN", Forgotten())
    assert main(["analyze", str(run), "--out", str(out), "--quiet"]) == 0  # unedited: last week's is replaced
    text = out.read_text()
    out.write_text(text.replace("Status", "Status (checked with the team: fine)", 1))
    before = _hashes(out.parent)
    assert main(["analyze", str(run), "--out", str(out), "--quiet"]) == 2
    assert _hashes(out.parent) == before and not _leftovers(tmp_path)


def test_a_file_that_appears_while_the_report_is_made_is_not_replaced(tmp_path):
    """The check before the analysis is made again just before the move: the user's file wins the race."""
    from vae_report.outputs import committed
    from vae_report.writer import atomic_write

    for target in (tmp_path / "new.md", tmp_path / "ours.md"):
        if target.name == "ours.md":
            atomic_write(target, b"ours\n")  # ours at the check, replaced by the user's before the move
        with pytest.raises(OutputError, match="was not written by vae-report"), committed():
            atomic_write(target, b"the report\n")
            target.write_text("the user's\n")
        assert target.read_text() == "the user's\n" and not _leftovers(tmp_path)


def test_a_file_of_the_users_in_our_images_folder_keeps_the_folder(run, tmp_path):
    out = tmp_path / "r.md"
    assert runner.invoke(app, ["analyze", str(run), "--out", str(out)]).exit_code == 0
    files = tmp_path / "r_files"
    (files / "annotated.png").write_bytes(b"my drawing")
    png = next(p for p in files.iterdir() if p.suffix == ".png" and p.name != "annotated.png")
    before = _hashes(tmp_path)
    result = runner.invoke(app, ["analyze", str(run), "--out", str(out)])
    assert result.exit_code == 2 and "annotated.png" in result.output and "not written by vae-report" in result.output
    assert _hashes(tmp_path) == before
    (files / "annotated.png").unlink()
    png.write_bytes(b"edited by hand")  # one of our images changed by the user is theirs now
    result = runner.invoke(app, ["analyze", str(run), "--out", str(out)])
    assert result.exit_code == 2 and png.name in result.output and png.read_bytes() == b"edited by hand"


def test_an_output_given_as_a_link_is_written_where_it_leads_and_the_link_kept(run, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    link = tmp_path / "latest.md"
    link.symlink_to(shared / "week48.md")
    assert runner.invoke(app, ["analyze", str(run), "--out", str(link)]).exit_code == 0
    assert link.is_symlink() and (shared / "week48.md").is_file()
    images = re.findall(r"\]\(([^)]+\.png)\)", (shared / "week48.md").read_text())
    assert images and all((shared / name).is_file() for name in images)  # the links resolve beside the report


_FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
sys.argv = ["vae-report", *sys.argv[1:]]
from vae_report.cli import main
main()
"""


def test_a_full_disk_leaves_every_output_as_it_was(run, tmp_path):
    """A write that fails half-way (the file size limit stands in for a full disk: the report's temporary file,
    or the step summary's append) is exit 2, one line naming the file; the previous report, summary and step
    summary are as they were, no temporary file is left."""
    out, summary, steps = tmp_path / "r.html", tmp_path / "r.json", tmp_path / "steps.md"
    assert runner.invoke(app, ["analyze", str(run), "--out", str(out), "--json", str(summary)]).exit_code == 0
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    for failing, limit in ((steps, out.stat().st_size + 10_000), (out, out.stat().st_size - 1)):
        steps.write_bytes(b"x" * (limit - 100))  # the appended summary crosses the limit part of the way
        before = _hashes(tmp_path)
        done = subprocess.run([sys.executable, "-c", _FULL_DISK.format(limit=limit), "analyze", str(run), "--out",
                               str(out), "--json", str(summary), "--github-summary", str(steps)],
                              capture_output=True, text=True, env=env, timeout=120)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert str(failing) in lines[0] and "File too large" in lines[0], lines[0]
        assert _hashes(tmp_path) == before and not _leftovers(tmp_path)


def test_watch_never_replaces_a_file_put_where_its_report_goes(run, tmp_path, monkeypatch):
    import vae_report.watch as watch

    out = tmp_path / "live.html"
    watcher = watch.Watcher(run, out, tmp_path / "live.json")
    watcher.run_pass()  # ours now
    examined = watch.examine_run

    def user_saves_over_it(*args, **kwargs):  # during the pass's analysis, after its check
        result = examined(*args, **kwargs)
        out.write_text("<p>my notes</p>\n")
        return result

    monkeypatch.setattr(watch, "examine_run", user_saves_over_it)
    with pytest.raises(OutputError, match="live.html"):
        watcher.run_pass()
    assert out.read_text() == "<p>my notes</p>\n" and not _leftovers(tmp_path)
    monkeypatch.undo()
    with pytest.raises(OutputError, match="live.html"):  # and the next pass says so before it reads anything
        watcher.run_pass()


def test_sweep_and_compare_never_write_over_a_runs_file(run, tmp_path):
    from vae_report.compare import analyze_runs
    from vae_report.render import write_comparison

    sweep = tmp_path / "sweep"
    for name in ("a", "b"):
        shutil.copytree(run, sweep / name)
    (sweep / "a" / "notes.md").write_text("# a's notes\n")
    (tmp_path / "mine.md").write_text("# mine\n")
    before = _hashes(tmp_path)
    for out in (sweep / "a" / "notes.md", tmp_path / "mine.md"):
        result = runner.invoke(app, ["analyze", str(sweep), "--out", str(out)])
        assert result.exit_code == 2 and str(out) in result.output, result.output
        result = runner.invoke(app, ["compare", f"a={sweep / 'a'}", f"b={sweep / 'b'}", "--out", str(out)])
        assert result.exit_code == 2 and str(out) in result.output, result.output
        with pytest.raises(OutputError, match=str(out)):  # the library call too
            write_comparison(analyze_runs([f"a={sweep / 'a'}", f"b={sweep / 'b'}"], jobs=1), out)
    assert _hashes(tmp_path) == before and not _leftovers(tmp_path)


def _tree(folder: Path) -> dict[Path, str | None]:
    """Every entry under ``folder``: a file's SHA-256, None for a folder."""
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None for p in folder.rglob("*")}


def test_no_command_changes_a_file_it_was_not_given(run, tmp_path, monkeypatch):
    """Every command that writes (analyze .md/.html/--json/--github-summary, a sweep, compare, watch, train), run
    from the folder holding the runs, with the user's files beside the runs and inside them (named like our
    outputs and images folders, and like the trainer's staging): every one of those files keeps its bytes, nothing
    is added inside a run folder, and nothing appears anywhere but the outputs each command was given."""
    from test_trainer import micro_config

    work = tmp_path / "work"
    work.mkdir()
    run = Path(shutil.move(str(run), work / "run"))
    for name in ("a", "b"):
        shutil.copytree(run, work / "sweep" / name)
    users = {"notes.md": "# my notes\n", "run.report.html": "<p>mine</p>\n", "run.report.json": '{"mine": 1}\n',
             "report_files/my.png": "my picture", ".r.md.tmp": "mine", "summary.json": '{"mine": 2}\n'}
    for folder in (work, run, work / "sweep", work / "sweep" / "a"):
        for name, text in users.items():
            (folder / name).parent.mkdir(exist_ok=True)
            (folder / name).write_text(text)
    (work / "trainrun").mkdir()
    (work / "trainrun" / "notes.md").write_text("# the run I am about to train\n")
    config = micro_config(tmp_path)
    monkeypatch.chdir(work)  # a command that wrote into its working folder would show below
    monkeypatch.setenv("VAE_REPORT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    o = work / "out"
    commands = [
        ["analyze", str(run), "--out", str(o / "r.md"), "--json", str(o / "r.json"), "--github-summary",
         str(o / "steps.md")],
        ["analyze", str(run), "--out", str(o / "r.html")],
        ["analyze", str(work / "sweep"), "--out", str(o / "s.md"), "--json", str(o / "s.json"), "--jobs", "1"],
        ["compare", f"a={work / 'sweep' / 'a'}", f"b={work / 'sweep' / 'b'}", "--out", str(o / "c.md"), "--jobs",
         "1"],
        ["watch", str(run), "--out", str(o / "w.html"), "--json", str(o / "w.json"), "--every", "0.1",
         "--max-passes", "1"],
        ["train", str(config), "--out", str(work / "trainrun"), "--max-steps", "2"],
    ]
    (o).mkdir()
    (o / "steps.md").write_text("# CI steps\n")
    before = _tree(work)
    for command in commands:
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
    after = _tree(work)
    changed = [p for p, digest in before.items() if after.get(p, "gone") != digest and p != o / "steps.md"]
    assert not changed, changed
    given = {o / n for n in ("r.md", "r_files", "r.json", "r.html", "s.md", "s_files", "s.json", "c.md", "c_files",
                             "w.html", "w.json")}
    added = {p for p in after if p not in before}
    stray = [p for p in added if not any(p == g or g in p.parents for g in given | {work / "trainrun"})]
    assert not stray, stray
    assert (o / "steps.md").read_text().startswith("# CI steps\n")  # appended to, as asked


def _failed(background, count: int) -> None:
    """Wait (two minutes at most) until ``count`` passes of the background report have failed."""
    deadline = time.monotonic() + 120
    while background.failures < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert background.failures >= count


def test_the_loop_hook_warns_once_naming_a_users_file_at_its_output_and_leaves_it(run, tmp_path, caplog):
    """Every pass is refused alike (a file of the user's where the report goes): said once, not at every pass."""
    from vae_report.hook import every

    mine = run.parent / f"{run.name}.report.html"  # where the hook writes by default
    mine.write_text("<p>my own report of this run</p>\n")
    before = _hashes(tmp_path)
    with caplog.at_level(logging.WARNING, logger="vae_report"):
        reporter = every(100, run, rank=0)
        for step in range(0, 400, 10):
            reporter.step(step)
            if step % 100 == 0 and step:
                _failed(reporter.background, step // 100)  # each request its own pass
        reporter.close(120)
    assert reporter.background.passes == 4 and reporter.background.failures == 4
    warned = [r.getMessage() for r in caplog.records if str(mine) in r.getMessage()]
    assert len(warned) == 1 and "was not written by vae-report" in warned[0] and "\n" not in warned[0]
    assert _hashes(tmp_path) == before and not (run.parent / f"{run.name}.report.json").exists()


def test_the_lightning_callback_warns_once_naming_a_users_file_and_the_fit_goes_on(tmp_path, caplog):
    pytest.importorskip("pytorch_lightning")
    pytest.importorskip("torch")
    from test_loop_lightning import TinyVae, _fit

    from vae_report.lightning import ReportCallback

    class EachCheckpointItsPass(ReportCallback):
        saves = 0

        def on_save_checkpoint(self, trainer, pl_module, checkpoint):
            super().on_save_checkpoint(trainer, pl_module, checkpoint)
            self.saves += 1
            _failed(self.background, self.saves)

    folder = tmp_path / "lightning_logs"
    folder.mkdir()
    mine = folder / "version_0.report.json"  # the callback's default summary path, a file of the user's
    mine.write_text(json.dumps({"my": "summary"}) + "\n")
    callback = EachCheckpointItsPass()
    with caplog.at_level(logging.WARNING, logger="vae_report"):
        trainer = _fit(tmp_path, callback, TinyVae(), steps=12)
    assert trainer.global_step == 12 and json.loads(mine.read_text()) == {"my": "summary"}
    assert callback.background.failures == callback.background.passes >= 4  # 3 checkpoints and the fit's end
    warned = [r.getMessage() for r in caplog.records if str(mine) in r.getMessage()]
    assert len(warned) == 1 and "not written by vae-report" in warned[0]
    assert not (folder / "version_0.report.html").exists() and not _leftovers(tmp_path)


# --- a process killed while it moves the report into place ------------------------------------------------------

_STOPPED_AT = """
import os, signal, sys
import vae_report.writer as writer
point, sig = sys.argv[1], getattr(signal, sys.argv[2])
real = getattr(writer, point)
def then_stopped(*args, **kwargs):  # the move is made, then the process is killed (or stopped) at once
    done = real(*args, **kwargs)
    os.kill(os.getpid(), sig)
    return done
setattr(writer, point, then_stopped)
sys.argv = ["vae-report", *sys.argv[3:]]
from vae_report.cli import main
main()
"""


def _stopped_at(point: str, sig: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    return subprocess.Popen([sys.executable, "-c", _STOPPED_AT, point, sig, "analyze", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _report(out: Path) -> tuple[bytes, dict[str, str]]:
    """The Markdown's bytes and its images folder (name -> SHA-256); every image it links is in the folder."""
    files = out.parent / f"{out.stem}_files"
    held = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files.iterdir()}
    linked = re.findall(r"\]\(([^)]+\.png)\)", out.read_text())
    assert linked and all(name.split("/", 1)[1] in held for name in linked), (linked, sorted(held))
    return out.read_bytes(), held


@pytest.fixture
def two_reports(run, tmp_path):
    """``r.md`` of one run in place, and the report of another run (other images) made elsewhere for reference."""
    other = tmp_path / "other"
    write_radiodiff_run(other, last_step=1_200, tb_every=20, disc_start=601, total_steps=6_000)
    assert runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "r.md")]).exit_code == 0
    (tmp_path / "ref").mkdir()
    assert runner.invoke(app, ["analyze", str(other), "--out", str(tmp_path / "ref" / "r.md")]).exit_code == 0
    old, new = _report(tmp_path / "r.md"), _report(tmp_path / "ref" / "r.md")
    assert old[1] != new[1]
    return other, old, new


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the atomic exchange is Linux's renameat2")
@pytest.mark.parametrize("point", ["_rename2", "_move"])
def test_a_report_killed_while_moved_into_place_is_whole_and_its_debris_removed_next_time(two_reports, tmp_path,
                                                                                       point):
    """SIGKILL right after the images folder is swapped (``_rename2``), or after the Markdown is moved too
    (``_move``): the previous report or the new one is in place, md and images, never a report without its
    folder; what the killed process staged is removed by the next report of that name, and only that."""
    other, old, new = two_reports
    out = tmp_path / "r.md"
    killed = _stopped_at(point, "SIGKILL", str(other), "--out", str(out))
    assert killed.wait(timeout=300) == -9, killed.stderr.read()
    md, images = _report(out)
    assert images == new[1]  # the folder was swapped whole, in one step
    assert md == old[0] if point == "_rename2" else md != old[0]
    debris = [p for p in tmp_path.iterdir() if f".vae-report-{killed.pid}." in p.name]
    assert debris and not any(p.name.startswith(".") and p not in debris for p in tmp_path.iterdir())
    assert runner.invoke(app, ["analyze", str(other), "--out", str(out)]).exit_code == 0
    assert _report(out)[1] == new[1] and not _leftovers(tmp_path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the atomic exchange is Linux's renameat2")
def test_staging_of_a_live_process_or_not_ours_is_never_removed(two_reports, tmp_path):
    """What a running process staged stays; so does anything named like our staging without our owner file, or
    holding a file we did not write; the staging of a process that has ended is removed."""
    other, old, new = two_reports
    out = tmp_path / "r.md"
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    (tmp_path / f".r_files.vae-report-{ended.pid}.abcdefgh").write_text("my file\n")  # named like ours
    theirs = tmp_path / f".r.md.vae-report-{ended.pid}.zzzzzzzz"
    theirs.mkdir()
    (theirs / "report").write_text("my report, no owner file beside it\n")
    stopped = _stopped_at("_rename2", "SIGSTOP", str(other), "--out", str(out))
    try:
        assert os.WIFSTOPPED(os.waitpid(stopped.pid, os.WUNTRACED)[1])
        staged = [p for p in tmp_path.iterdir() if f".vae-report-{stopped.pid}." in p.name]
        assert staged and _report(out)[1] == new[1]
        before = _hashes(tmp_path)
        assert runner.invoke(app, ["analyze", str(other), "--out", str(out)]).exit_code == 0
        assert all(p.exists() for p in staged) and {p: h for p, h in _hashes(tmp_path).items()
                                                    if p.parent != tmp_path / "r_files" and p != out} == \
            {p: h for p, h in before.items() if p.parent != tmp_path / "r_files" and p != out}
    finally:
        stopped.kill()
        stopped.wait()
    aside = next(p for p in staged if p.name.startswith(".r_files."))
    (aside / "files" / "annotated.png").write_bytes(b"put there by the user")
    assert runner.invoke(app, ["analyze", str(other), "--out", str(out)]).exit_code == 0
    assert (aside / "files" / "annotated.png").read_bytes() == b"put there by the user"
    (aside / "files" / "annotated.png").unlink()
    assert runner.invoke(app, ["analyze", str(other), "--out", str(out)]).exit_code == 0
    assert not any(p.exists() for p in staged)
    assert sorted(p.name for p in _leftovers(tmp_path)) == sorted([f".r_files.vae-report-{ended.pid}.abcdefgh",
                                                                   theirs.name])
    assert (theirs / "report").read_text() == "my report, no owner file beside it\n"


def test_staging_of_another_machine_is_never_removed(tmp_path):
    """A folder shared between machines (NFS): a staging folder whose owner file names another host is another
    machine's, its pid meaningless here (maybe writing right now), and it stays; the same folder naming this host
    and a pid that has ended is our debris, removed by the next write beside it."""
    import socket

    from vae_report import writer

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    staged, here = {}, socket.gethostname()
    for host in ("another-machine", here):
        folder = tmp_path / f".r.json.vae-report-{ended.pid}.{'a' * 8 if host == here else 'b' * 8}"
        folder.mkdir()
        (folder / writer.OWNER).write_text(f"{writer._OWNER_HEAD} {ended.pid} has ended\npid {ended.pid}\n"
                                           f"host {host}\n")
        (folder / "report").write_text("{}\n")
        staged[host] = folder
    writer.atomic_write(tmp_path / "r.json", b'{"tool": "vae-report"}\n')  # the output they were staged for
    assert staged["another-machine"].exists() and not staged[here].exists()
    assert (staged["another-machine"] / "report").read_text() == "{}\n"


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "plain-renames"])
def test_a_file_put_in_the_images_folder_during_the_swap_is_kept_there(run, tmp_path, monkeypatch, exchange):
    """The user saves a file into ``r_files/`` after its last check, just before the swap: the folder is put
    back as it was, file and all, and the report is refused (with renameat2's exchange, or plain renames)."""
    from vae_report import writer
    from vae_report.render import write_report

    examined = examine_run(run)
    out = tmp_path / "r.md"
    write_report(examined, out)
    before = _hashes(tmp_path)
    checked = writer.refuse_foreign_folder

    def then_user_saves(folder):
        checked(folder)
        (folder / "annotated.png").write_bytes(b"my drawing")

    monkeypatch.setattr(writer, "refuse_foreign_folder", then_user_saves)
    if not exchange:
        monkeypatch.setattr(writer, "_RENAMEAT2", None)
    with pytest.raises(OutputError, match="annotated.png"):
        write_report(examined, out)
    assert (tmp_path / "r_files" / "annotated.png").read_bytes() == b"my drawing"
    assert {p: h for p, h in _hashes(tmp_path).items() if p.name != "annotated.png"} == before
    assert not _leftovers(tmp_path)
    monkeypatch.undo()
    (tmp_path / "r_files" / "annotated.png").unlink()
    if not exchange:
        monkeypatch.setattr(writer, "_RENAMEAT2", None)
    write_report(examined, out)  # the plain renames replace our folder whole too
    assert _report(out)[1] == {p.name: h for p, h in before.items() if p.parent.name == "r_files"}
    assert not _leftovers(tmp_path)
