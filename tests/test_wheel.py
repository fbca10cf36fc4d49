"""The templates ship inside the wheel and load from the installed package, not from the checkout."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_templates_and_renders_from_installed_package(tmp_path, seed_run):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist)], check=True)
    (wheel,) = dist.glob("vae_report-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
                   check=True)
    out = tmp_path / "report.md"
    script = (
        "import vae_report, vae_report.render as r, sys;"
        "from pathlib import Path;"
        "assert 'site-packages' in vae_report.__file__, vae_report.__file__;"
        "assert r.templates_dir() == Path(vae_report.__file__).parent / 'templates', r.templates_dir();"
        f"a = vae_report.analyze_run({str(seed_run[0])!r});"
        f"r.write_report(a, Path({str(out)!r}))"
    )
    # run from an empty folder so the checkout is not importable
    subprocess.run([str(python), "-c", script], check=True, cwd=tmp_path, env={"PATH": str(venv / "bin")})
    assert "# VAE-GAN training report" in out.read_text()
