"""The templates ship inside the wheel and load from the installed package, not from the checkout."""

import site
import subprocess
import sys
import sysconfig
from pathlib import Path

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
