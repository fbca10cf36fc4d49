"""Nothing the user gave is ever lost (issue 12): outputs are checked against the inputs and each other before
anything is written, a <stem>_files/ folder is replaced only if we made it, and JSON round-trips NaN/Inf."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner
from writers import write_radiodiff_run

from vae_report.cli import app

runner = CliRunner()


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "run"
    write_radiodiff_run(folder, last_step=2_000, disc_start=1_001, total_steps=5_000, tb_every=20)
    return folder


def _refused(args, *inputs):
    before = [digest(p) if p.is_dir() else p.read_bytes() for p in inputs]
    result = runner.invoke(app, ["analyze", *map(str, args)])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert [digest(p) if p.is_dir() else p.read_bytes() for p in inputs] == before
    return result.output


def test_json_onto_a_file_of_the_run_is_refused(run, tmp_path):
    log = next(run.glob("*.log"))
    out = _refused([run, "--out", tmp_path / "r.md", "--json", log], run)
    assert "input" in out or "run folder" in out
    assert not (tmp_path / "r.md").exists()  # refused before anything is written
    _refused([run, "--out", tmp_path / "r.md", "--json", run / "first_radio.yaml"], run)


def test_outputs_that_clash_are_refused(run, tmp_path):
    out = _refused([run, "--out", tmp_path / "same.md", "--json", tmp_path / "same.md"], run)
    assert "same path" in out
    config = tmp_path / "config.yaml"
    config.write_bytes((run / "first_radio.yaml").read_bytes())
    _refused([run, "--config", config, "--out", tmp_path / "r.md", "--json", config], run, config)


def test_a_single_log_file_is_never_the_output(run, tmp_path):
    log = tmp_path / "trainlog.md"
    log.write_bytes(next(run.glob("*.log")).read_bytes())
    _refused([log, "--out", log], log)


def test_a_users_files_folder_is_kept(run, tmp_path):
    notes = tmp_path / "week48_files"
    notes.mkdir()
    (notes / "my_notes.txt").write_text("do not delete")
    out = _refused([run, "--out", tmp_path / "week48.md"], run, notes)
    assert "not made by vae-report" in out
    # a run folder that happens to be named like the images folder is an input: refused too
    renamed = tmp_path / "exp_files"
    run.rename(renamed)
    _refused([renamed, "--out", tmp_path / "exp.md"], renamed)


def test_our_own_files_folder_is_replaced(run, tmp_path):
    out = tmp_path / "r.md"
    for _ in range(2):
        result = runner.invoke(app, ["analyze", str(run), "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "r_files" / ".vae-report").is_file()


@pytest.mark.parametrize("target", ["/dev/full", "/proc/vae-report.md"])
def test_special_files_are_exit_2(run, tmp_path, target):
    if not Path(target).parent.exists():
        pytest.skip("no such filesystem here")
    out = target if target.endswith(".md") else target
    result = runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "r.md"), "--json", out])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "r.md").exists()


def test_nan_round_trips_through_the_summary_and_the_baseline(tmp_path):
    folder = tmp_path / "nan_run"
    curves = write_radiodiff_run(folder, last_step=2_000, disc_start=1_001, total_steps=5_000, tb_every=20)
    from writers import radiodiff_tb_points, write_scalars

    curves.values["kl_loss"][-1] = float("nan")  # the latest point of a metric is NaN
    write_scalars(folder / "more", [p for p in radiodiff_tb_points(curves, 20) if p[1] == "kl_loss"][-3:])
    first = tmp_path / "w1.json"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "w1.md"), "--json", str(first)])
    assert result.exit_code == 0, result.output
    text = first.read_text()
    def refuse(constant):
        raise ValueError(f"bare {constant} in the summary")

    data = json.loads(text, parse_constant=refuse)  # strict JSON: no bare NaN or Infinity anywhere
    assert data["metrics"]["kl_loss"]["latest"] == "NaN"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "w2.md"), "--json",
                                 str(tmp_path / "w2.json"), "--baseline", str(first)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("option,value", [("--kl-weight", "nan"), ("--kl-weight", "-1"), ("--kl-weight", "inf"),
                                          ("--total-steps", "-5"), ("--total-steps", "0"), ("--disc-start", "-3"),
                                          ("--now", "0001-01-01"), ("--now", "yesterday")])
def test_bad_option_values_are_one_line_exit_2(run, tmp_path, option, value):
    result = runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "r.md"), option, value])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert option in result.output and not (tmp_path / "r.md").exists()


def test_huge_finite_values_plot_clipped_and_count_as_overflow(tmp_path):
    import csv

    folder = tmp_path / "diverged"
    folder.mkdir()
    with (folder / "metrics.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "train/rec_loss", "train/total_loss", "train/kl_loss"])
        for step in range(100):
            writer.writerow([step, 1e308 * (-1) ** step, 1e308 if step % 3 else -1e308, 5.0 + step])
    out = tmp_path / "r.md"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(out), "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output  # drawn, not crashed
    assert json.loads((tmp_path / "s.json").read_text())["status"] == "error"
    assert "(overflowing)" in out.read_text() and (tmp_path / "r_files" / "rec_loss.png").stat().st_size > 1000


def test_an_unreadable_config_is_named_not_silently_replaced(run, tmp_path):
    (run / "a_broken.yaml").write_text("model: [unclosed\n")
    out = tmp_path / "r.md"
    assert runner.invoke(app, ["analyze", str(run), "--out", str(out)]).exit_code == 0
    assert "a_broken.yaml not used as the config: not valid YAML at line" in out.read_text()


def test_image_links_survive_spaces_and_unicode_in_out(run, tmp_path):
    out = tmp_path / "weekly reports" / "wöche 48.md"
    result = runner.invoke(app, ["analyze", str(run), "--out", str(out)])
    assert result.exit_code == 0, result.output
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", out.read_text())
    assert links and all(" " not in link for link in links)  # CommonMark ends a bare link at a space
    from urllib.parse import unquote

    assert all((out.parent / unquote(link)).is_file() for link in links)


@pytest.mark.parametrize("where", ["run", "beside"])
def test_a_folder_marked_read_only_is_not_written_even_by_root(run, tmp_path, where):
    """eval12 r6_output_safety: run as root (containers, CI), a report went into a run folder its owner had made
    read-only, since root passes every permission check. A folder with no write bit for anyone is refused with its
    name, as it is for any other user, and nothing in it changes."""
    folder = run if where == "run" else tmp_path / "reports"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o555)
    try:
        out = _refused([run, "--out", folder / "report.md", "--json", tmp_path / "s.json"], run)
        assert f"the folder {folder.resolve()} is" in out and ("read-only" in out or "not writable" in out)
        assert not (folder / "report.md").exists() and not (tmp_path / "s.json").exists()
    finally:
        folder.chmod(0o755)
