"""Every bad input is a one-line exit 2 (issue 12): hostile config values, an alias bomb, thresholds, baseline
summaries that are not ours, usage errors; and a bounded fuzz over options, config fields and baselines that
never ends in exit 3 or a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner
from writers import radiodiff_config, write_radiodiff_run

from vae_report.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    write_radiodiff_run(folder, last_step=1_000, disc_start=501, total_steps=2_000, tb_every=20, with_config=False)
    return folder


def _analyze(run, tmp_path, *extra):
    return runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "r.md"), *map(str, extra)])


def _one_line_exit_2(result):
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


@pytest.mark.parametrize("edit", [
    lambda c: c.__setitem__("trainer", "fast"),
    lambda c: c["model"].__setitem__("ddconfig", [1]),
    lambda c: c["model"]["ddconfig"].__setitem__("resolution", ["a", "b"]),
    lambda c: c["model"]["lossconfig"].__setitem__("disc_start", float("inf")),
    lambda c: c["model"]["lossconfig"].__setitem__("kl_weight", float("nan")),
    lambda c: c["model"]["lossconfig"].__setitem__("disc_start", -5),
    lambda c: c["trainer"].__setitem__("train_num_steps", "1e999"),
    lambda c: c["model"]["lossconfig"].__setitem__("disc_loss", "wasserstein"),
])
def test_hostile_config_values_are_exit_2(run, tmp_path, edit):
    config = radiodiff_config(disc_start=501, total_steps=2_000)
    edit(config)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    _one_line_exit_2(_analyze(run, tmp_path, "--config", path))
    assert not (tmp_path.parent / "r.md").exists()


def test_a_yaml_alias_bomb_is_refused_before_it_expands(run, tmp_path):
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    lines += ["model: {lossconfig: {disc_start: *a9}}"]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = _analyze(run, tmp_path, "--config", path)
    _one_line_exit_2(result)
    assert "aliases expand" in result.output and len(result.output) < 400


@pytest.mark.parametrize("value", [".nan", ".inf", "-1", "[1, 2]", "yes"])
def test_thresholds_must_be_finite_and_non_negative(run, tmp_path, value):
    path = tmp_path / "t.yaml"
    path.write_text(f"spikes: {{mad_factor: {value}}}\n")
    _one_line_exit_2(_analyze(run, tmp_path, "--thresholds", path))


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00", "{}".encode("utf-16"),
                                     b'{"step": 5, "metrics": [1, 2]}', b'{"step": 5, "findings": 5}',
                                     b'{"step": 5, "metrics": {"rec_loss": 3}}', b'{"step": true}'])
def test_baselines_that_are_not_our_summaries_are_exit_2(run, tmp_path, content):
    path = tmp_path / "old.json"
    path.write_bytes(content)
    _one_line_exit_2(_analyze(run, tmp_path, "--baseline", path))


def test_usage_errors_are_one_line_naming_the_option(run, tmp_path):
    for args, words in ((["analyze", str(run), "--fail-on", "sometimes"], "--fail-on"),
                        (["analyze", str(run), "--bogus"], "--bogus"),
                        (["analyze", str(run), "--total-steps", "many"], "--total-steps")):
        result = subprocess.run([sys.executable, "-m", "vae_report.cli", *args], capture_output=True, text=True,
                                cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr, result.stderr
        if words == "--fail-on":
            assert "never" in result.stderr and "warning" in result.stderr  # the allowed values


NUMBERS = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=8), st.none(), st.booleans(), st.lists(st.integers(), max_size=3))


# 25 examples each (about a second apiece): the suite must stay well inside CI's 10 minutes on two cores
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(field=st.sampled_from(["disc_start", "kl_weight", "disc_weight", "disc_factor", "disc_loss", "lr",
                              "train_num_steps", "log_freq", "resolution", "ch_mult", "embed_dim"]), value=NUMBERS,
       option=st.sampled_from([[], ["--total-steps", "7"], ["--now", "now"], ["--fail-on", "warning"]]))
def test_fuzz_config_fields_and_options_never_exit_3(run, tmp_path_factory, field, value, option):
    tmp = tmp_path_factory.mktemp("fuzz")
    config = radiodiff_config(disc_start=501, total_steps=2_000)
    section = {"lr": "trainer", "train_num_steps": "trainer", "log_freq": "trainer", "resolution": "ddconfig",
               "ch_mult": "ddconfig", "embed_dim": "model"}.get(field, "lossconfig")
    target = config["trainer"] if section == "trainer" else config["model"] if section == "model" else \
        config["model"][section]
    target[field] = value
    path = tmp / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["analyze", str(run), "--out", str(tmp / "r.md"), "--config", str(path), *option])
    assert result.exit_code in (0, 1, 2), (field, value, result.output)
    assert "Traceback" not in result.output and "internal error" not in result.output


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(summary=st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
                            lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.sampled_from(
                                                        ["step", "metrics", "findings", "milestones", "latest",
                                                         "recent_median", "rule", "severity", "progress",
                                                         "last_wall_time", "rec_loss", "name"]), inner, max_size=4)),
                            max_leaves=12))
def test_fuzz_baselines_never_exit_3(run, tmp_path_factory, summary):
    tmp = tmp_path_factory.mktemp("fuzzb")
    path = tmp / "old.json"
    data = {"step": 100, **summary} if isinstance(summary, dict) else summary
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["analyze", str(run), "--out", str(tmp / "r.md"), "--baseline", str(path)])
    assert result.exit_code in (0, 1, 2), (data, result.output)
    assert "Traceback" not in result.output and "internal error" not in result.output


def test_a_diffusion_runs_logs_are_refused_with_the_reason(tmp_path):
    from typer.testing import CliRunner
    from writers import write_scalars

    from vae_report.cli import app

    write_scalars(tmp_path, [(s, tag, 0.1 / (1 + s)) for s in range(0, 500, 10)
                             for tag in ("loss_simple", "loss_vlb", "total_loss", "lr")])
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(tmp_path.parent / "r.md")])
    assert result.exit_code == 2 and "diffusion model's logs" in result.output
    assert not (tmp_path.parent / "r.md").exists()


def test_no_arguments_print_the_help_on_stderr_only(tmp_path):
    """``vae-report`` alone is a usage error: the help on stderr, nothing on stdout (typer's rich help printed
    itself on stdout while its error was built), exit 2."""
    result = subprocess.run([sys.executable, "-m", "vae_report.cli"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == "" and "Usage" in result.stderr and "analyze" in result.stderr


def test_a_bad_step_summary_from_the_environment_names_the_variable(run, tmp_path, monkeypatch):
    (tmp_path / "ghdir").mkdir()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "ghdir"))
    result = _analyze(run, tmp_path)
    _one_line_exit_2(result)
    assert "$GITHUB_STEP_SUMMARY is a folder" in result.output and "--github-summary" not in result.output


def test_binary_junk_as_config_gives_the_line_and_column(run, tmp_path):
    path = tmp_path / "junk.yaml"
    path.write_bytes(b"model:\n  lossconfig: \x01\x02\x7f\x00junk\n")
    result = _analyze(run, tmp_path, "--config", path)
    _one_line_exit_2(result)
    assert "junk.yaml: not valid YAML at line 2, column 15" in result.output


def test_threshold_errors_name_the_file(run, tmp_path):
    path = tmp_path / "limits.yaml"
    for content in ("liveness: {bogus: 1}\n", "no_such_rule: {x: 1}\n", "spikes: {mad_factor: -1}\n"):
        path.write_text(content)
        result = _analyze(run, tmp_path, "--thresholds", path)
        _one_line_exit_2(result)
        assert "limits.yaml (--thresholds): " in result.output, result.output


@pytest.mark.parametrize("goal", ["rec_loss=nan", "rec_loss=inf", "rec_loss=-Infinity", "rec_loss=1e999"])
def test_a_goal_of_the_right_form_with_a_non_finite_level_is_told_so(run, tmp_path, goal):
    result = _analyze(run, tmp_path, "--goal", goal)
    _one_line_exit_2(result)
    assert "the level must be a finite number" in result.output and "give METRIC=LEVEL" not in result.output
