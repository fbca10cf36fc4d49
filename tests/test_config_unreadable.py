"""A config that does not parse: the run's own (config.yaml at the top, or a YAML naming the loss's settings)
is exit 2 naming the file, line and column; a stray YAML that is no config only gets a note."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from vae_report.cli import app

runner = CliRunner()
TABBED = "model:\n  params:\n    lossconfig:\n\tparams:\n\t  disc_start: 2001\n      kl_weight: 1.0e-06\n"


@pytest.fixture(scope="module")
def metrics(tmp_path_factory):
    path = tmp_path_factory.mktemp("logs") / "metrics.csv"
    steps = np.arange(0, 4000, 20)
    rng = np.random.default_rng(3)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "train/rec_loss", "train/kl_loss", "train/disc_loss"])
        for s in steps:
            writer.writerow([int(s), 0.04 + 0.3 * np.exp(-s / 800) * np.exp(0.03 * rng.standard_normal()),
                             1e4 + s, 1.0 if s >= 2001 else 0.0])
    return path.read_bytes()


def _run(tmp_path, metrics, files: dict[str, str]):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_bytes(metrics)
    for name, text in files.items():
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_text(text)
    result = runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "r.md")])
    return result, (tmp_path / "r.md")


@pytest.mark.parametrize("name", ["config.yaml", "first_radio.yaml"])
def test_the_runs_own_config_unparsed_is_exit_2_with_line_and_column(tmp_path, metrics, name):
    result, out = _run(tmp_path, metrics, {name: TABBED})
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert name in line and "line 4, column 1" in line and "tab" in line and "--config" in line
    assert not out.exists()


def test_a_stray_yaml_that_does_not_parse_is_a_note(tmp_path, metrics):
    result, out = _run(tmp_path, metrics, {"docs/notes.yaml": "todo: [unclosed\n"})
    assert result.exit_code == 0, result.output
    assert "docs/notes.yaml not used as the config: not valid YAML at line" in out.read_text()


def test_a_broken_copy_beside_a_readable_config_does_not_block(tmp_path, metrics):
    good = {"model": {"params": {"lossconfig": {"params": {"disc_start": 2001, "kl_weight": 1e-6}}}}}
    result, out = _run(tmp_path, metrics, {"config.yaml": yaml.safe_dump(good), "a_sweep.yaml": TABBED})
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "a_sweep.yaml not used as the config" in text and "2,001" in text
