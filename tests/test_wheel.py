"""The templates ship inside the wheel and load from the installed package, not from the checkout."""

import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_templates_and_renders_from_installed_package(tmp_path, seed_run):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist)], check=True)
    (wheel,) = dist.glob("vae_report-*.whl")
    venv = tmp_path / "venv"
    # A fresh venv that sees this interpreter's packages (pandas, jinja2, ...) wherever they are installed: a
    # system install or a virtualenv. --system-site-packages would see the system's, not the virtualenv's.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    venv_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    (Path(venv_site) / "_test_environment.pth").write_text("\n".join(sorted(ours)) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
                   check=True)
    out = tmp_path / "report.md"
    script = (
        "import vae_report, vae_report.render as r, sys;"
        "from pathlib import Path;"
        f"assert vae_report.__file__.startswith({str(venv)!r}), vae_report.__file__;"
        "assert r.templates_dir() == Path(vae_report.__file__).parent / 'templates', r.templates_dir();"
        f"a = vae_report.analyze_run({str(seed_run[0])!r});"
        f"r.write_report(a, Path({str(out)!r}))"
    )
    # run from an empty folder so the checkout is not importable
    subprocess.run([str(python), "-c", script], check=True, cwd=tmp_path, env={"PATH": str(venv / "bin")})
    assert "# VAE-GAN training report" in out.read_text()


BLOCKER = '''
"""Installed by the test: an import of a module no declared dependency of vae-report provides fails, as it
would in a virtualenv holding only what `pip install vae-report` brings."""
import sys
from importlib.abc import MetaPathFinder

UNDECLARED = set({undeclared!r})


class Undeclared(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in UNDECLARED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (not a declared dependency)", name=name)
        return None


sys.meta_path.insert(0, Undeclared())
'''


def _declared_modules() -> tuple[set[str], set[str]]:
    """(top-level modules of vae-report's declared dependencies and theirs, every other installed one)."""
    import importlib.metadata as md
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    from packaging.requirements import Requirement

    wanted = [Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    closure: set[str] = set()
    while wanted:
        req = wanted.pop()
        name = req.name.lower().replace("_", "-")
        if name in closure or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        closure.add(name)
        try:
            wanted.extend(Requirement(r) for r in md.requires(req.name) or [])
        except md.PackageNotFoundError:
            continue
    declared, other = set(), set()
    for module, dists in md.packages_distributions().items():
        names = {d.lower().replace("_", "-") for d in dists}
        (declared if names & closure else other).add(module)
    return declared, other - declared - {"vae_report", "trainer", "_test_environment", "pip", "setuptools"}


def test_a_plain_install_imports_only_what_it_declares_and_usage_errors_are_one_line(tmp_path, seed_run):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist)], check=True)
    (wheel,) = dist.glob("vae_report-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    venv_site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                    check=True, capture_output=True, text=True).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    _, undeclared = _declared_modules()
    assert "click" in undeclared or "click" not in {m for m in sys.modules}  # typer no longer brings click
    (venv_site / "_undeclared_blocker.py").write_text(BLOCKER.format(undeclared=sorted(undeclared)))
    (venv_site / "_test_environment.pth").write_text("\n".join(sorted(ours)) + "\nimport _undeclared_blocker\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
                   check=True)
    env = {"PATH": str(venv / "bin"), "HOME": str(tmp_path)}
    script = str(venv / "bin" / "vae-report")
    for args in (["analyze"], ["analyze", str(seed_run[0]), "--bogus"], ["analyze", str(seed_run[0]), "--jobs", "x"],
                 ["analyze", str(seed_run[0]), "--fail-on", "maybe"], ["nosuchcommand"]):
        done = subprocess.run([script, *args], capture_output=True, text=True, cwd=tmp_path, env=env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("vae-report: error:"), \
            (args, done.stderr)
    done = subprocess.run([script, "analyze", str(seed_run[0]), "--out", str(tmp_path / "r.md")],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0 and (tmp_path / "r.md").is_file(), done.stderr
