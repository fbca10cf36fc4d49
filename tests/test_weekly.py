"""Weekly status (--baseline) and the training speed: windows inside the current phase, sparse validation compared
point to point, a run that finished in between said so, speed and ETA from wall time with its pauses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

tensorboard = pytest.importorskip("torch.utils.tensorboard")

from typer.testing import CliRunner  # noqa: E402
from writers import radiodiff_config  # noqa: E402

import vae_report  # noqa: E402
from vae_report import render  # noqa: E402
from vae_report.cli import app  # noqa: E402
from vae_report.errors import InputError  # noqa: E402
from vae_report.text import markdown  # noqa: E402

PIXELS = 65_536
START_WALL = 1.7e9


def write_run(folder: Path, last_step: int, total: int = 10_000, disc_start: int = 5_001, every: int = 50,
              seconds_per_step: float = 0.05, pause_every: int = 0, pause_seconds: float = 0.0,
              val: dict[int, float] | None = None) -> Path:
    """A RadioDiff-named TensorBoard run written by torch's SummaryWriter, with its config; wall times advance
    ``seconds_per_step`` a step plus a pause of ``pause_seconds`` every ``pause_every`` steps (validation)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "first_radio.yaml").write_text(yaml.safe_dump(radiodiff_config(disc_start, total_steps=total,
                                                                             log_freq=every)))
    rng = np.random.default_rng(0)
    writer = tensorboard.SummaryWriter(str(folder))
    wall = START_WALL
    for step in range(0, last_step + 1, every):
        on = step >= disc_start
        rec = 0.03 + 0.3 * np.exp(-step / 800) + (0.01 if on else 0.0) + 0.001 * rng.standard_normal()
        kl = 20_000 + 5_000 * (1 - np.exp(-step / 3000))
        g, d_weight = (0.1 * rng.standard_normal(), 900.0) if on else (0.0, 0.0)
        values = {"rec_loss": rec, "nll_loss": PIXELS * rec, "kl_loss": kl, "g_loss": g, "d_weight": d_weight,
                  "disc_factor": float(on), "disc_loss": 1.0 + 0.02 * rng.standard_normal() if on else 0.0,
                  "total_loss": PIXELS * rec + 1e-6 * kl + d_weight * float(on) * g}
        for tag, value in values.items():
            writer.add_scalar(tag, value, step, walltime=wall)
        if val and step in val:
            writer.add_scalar("val/rec_loss", val[step], step, walltime=wall)
        wall += every * seconds_per_step
        if pause_every and (step + every) % pause_every == 0:
            wall += pause_seconds
    writer.close()
    return folder


# validation every 500 steps: high for most of its history, then lower; the last points are what moved
VAL = {500 * i: v for i, v in enumerate([30, 29, 28, 27, 26, 25, 24, 23, 20, 15, 12.7,
                                          12.5, 12, 11, 10.5, 10, 9.5, 9.0, 8.8, 8.5], start=0)}


@pytest.fixture(scope="module")
def weekly(tmp_path_factory):
    root = tmp_path_factory.mktemp("weekly")
    # last week: phase 1 (step 5,000, validation last at 12.7); now: finished at 9,950 of 10,000 (validation 8.5)
    then = vae_report.analyze_run(write_run(root / "then", 5_000, val={s: v for s, v in VAL.items() if s <= 5_000}))
    summary = root / "then.json"
    summary.write_text(json.dumps(render.json_safe(then.to_summary())))
    now = vae_report.analyze_run(write_run(root / "now", 9_950, val=VAL), baseline=summary)
    return then, now


def test_sparse_validation_is_compared_point_to_point(weekly) -> None:
    _, now = weekly
    delta = now.since_baseline["metrics"]["val/rec_loss"]
    assert (delta["then"], delta["now"]) == (pytest.approx(12.7), pytest.approx(8.5))
    assert delta["word"] == "fell"


def test_training_windows_stay_inside_the_current_phase(weekly) -> None:
    then, now = weekly
    assert now.metrics["rec_loss"].level_since >= 5_001  # never a window straddling disc_start
    assert then.metrics["rec_loss"].level_since < 5_001
    for name in ("disc_loss", "total_loss", "g_loss"):  # moved by the switch-on by design: not compared across it
        delta = now.since_baseline["metrics"][name]
        assert delta["change"] is None and "phase changed" in delta["not_comparable"]
    assert not any(line.startswith(("disc_loss", "total_loss")) for line in now.since_baseline["changes"])


def test_a_run_that_finished_in_between_is_said_finished(weekly, tmp_path) -> None:
    _, now = weekly
    since = now.since_baseline
    assert now.finished and since["finished_since"]
    assert since["changes"][0].startswith("Finished since the last report")
    assert [m["step"] for m in since["milestones_passed"]] == [5_001, 10_000]
    out = tmp_path / "r.md"
    text = render.render_markdown(now)
    assert "Milestones passed**: none" not in text and "Finished since the last report" in text
    del out



def test_the_ci_step_summary_says_what_changed_since_the_last_report(weekly, tmp_path) -> None:
    """--baseline with --github-summary: the job's page says the last report's status and each change since
    (milestones passed, findings new or cleared, a finish, metrics beyond their noise), as the report says them."""
    then, now = weekly
    since = now.since_baseline
    render.append_github_summary([now], [], tmp_path / "step.md")
    page = (tmp_path / "step.md").read_text()
    report = render.render_markdown(now)
    # eval14: "(2026-12-04 19:40 UTC)" beside the step read as that step's time; it is when the summary was written
    opening = (f"Compared with the summary of step 5,000 (a summary written {since['baseline_generated_at']}), "
               "status then: ")
    assert f"{opening}{since['status_then']}." in page and f"{opening}{since['status_then']}." in report
    assert "Passed step 5,001 (discriminator starts)." in since["changes"]
    for change in since["changes"]:
        assert f"- {markdown(change)}" in page and f"- {markdown(change)}" in report
    assert "step 10,000 (end of training, passed)" in page  # finished 50 steps short: passed, as said above
    render.append_github_summary([then], [], tmp_path / "first.md")  # no baseline: nothing to compare
    assert "Since last report" not in (tmp_path / "first.md").read_text()

def test_speed_and_eta_count_the_pauses(tmp_path) -> None:
    # 10 steps every 0.5 s between pauses (72,000 steps/h), a 10-minute validation every 500 steps: 500 steps
    # in 625 s, 2,880 steps/h
    run = write_run(tmp_path / "run", 6_000, total=20_000, every=10, pause_every=500, pause_seconds=600.0)
    written = vae_report.analyze_run(run).last_wall_time  # judged a minute after its last log, as a live run is
    a = vae_report.analyze_run(run, now=written + 60)
    live = next(f for f in a.active_findings() if f.rule == "liveness")
    rate = live.numbers["steps_per_hour"]
    assert rate == pytest.approx(2_880, rel=0.05), live.message
    assert live.numbers["steps_per_hour_between_pauses"] == pytest.approx(72_000, rel=0.01)
    assert live.numbers["hours_to_end"] == pytest.approx((20_000 - 6_000) / rate, rel=1e-6)
    assert "3 pauses of" in live.message and "10 min" in live.message
    assert f"{round(rate):,} steps per hour" in " ".join(a.recommendations)


def _summary(analysis, path: Path, **changed) -> Path:
    data = render.json_safe(analysis.to_summary()) | changed
    path.write_text(json.dumps(data))
    return path


def test_the_summary_records_which_run_it_is_of(weekly) -> None:
    then, _ = weekly
    identity = then.to_summary()["identity"]
    assert identity["run_dir"] == str(Path(then.run).resolve()) and identity["config"] == "first_radio.yaml"
    assert identity["first_step"] == 0 and len(identity["schedule_hash"]) == 16
    assert any(s.startswith("events.out.tfevents") for s in identity["sources"])


def test_another_runs_summary_is_refused_naming_both_runs(weekly, tmp_path) -> None:
    """Last week's summary of another run (another schedule): "Steps gained: -10" and "Cleared: ..." compared
    two runs; now one line and exit 2."""
    then, _ = weekly
    other = vae_report.analyze_run(write_run(tmp_path / "other", 3_000, total=20_000))
    summary = _summary(other, tmp_path / "other.json")
    with pytest.raises(InputError, match=r"a summary of another run \(.*other, not .*then: another "
                       r"schedule\); pass the --json summary written for this run"):
        vae_report.analyze_run(then.run, baseline=summary)
    result = CliRunner().invoke(app, ["analyze", then.run, "--out", str(tmp_path / "r.md"), "--baseline",
                                      str(summary)])
    assert result.exit_code == 2 and "another run" in result.output and not (tmp_path / "r.md").exists()


def test_a_moved_run_is_accepted_with_a_note(weekly, tmp_path) -> None:
    then, now = weekly  # the fixture's runs: two folders, one schedule, steps in common: taken as one run moved
    note = now.since_baseline["identity_note"]
    assert "moved or renamed" in note and then.run in note and now.run in note
    assert "moved or renamed" in render.render_markdown(now)


def test_an_older_summary_without_identity_is_accepted_with_a_note(weekly, tmp_path) -> None:
    then, _ = weekly
    old = render.json_safe(then.to_summary())
    del old["identity"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    again = vae_report.analyze_run(then.run, baseline=tmp_path / "old.json")
    assert "could not be checked" in again.since_baseline["identity_note"]
    same = vae_report.analyze_run(then.run, baseline=_summary(then, tmp_path / "same.json"))
    assert same.since_baseline["identity_note"] is None


@pytest.mark.parametrize(("field", "value", "said"), [
    ("status", {"x": 1}, "'status' is the dict"), ("progress", "half", "'progress' is the str"),
    ("finished", 1, "'finished' is the int"), ("identity", [], "'identity' is the list"),
])
def test_a_baseline_with_ill_typed_fields_is_bad_input(weekly, tmp_path, field, value, said) -> None:
    then, _ = weekly
    bad = _summary(then, tmp_path / "bad.json", **{field: value})
    result = CliRunner().invoke(app, ["analyze", then.run, "--out", str(tmp_path / "r.md"), "--baseline", str(bad)])
    assert result.exit_code == 2 and said in result.output and "not a vae-report summary" in result.output
    assert "bad.json" in result.output and not (tmp_path / "r.md").exists()


def test_ill_typed_fields_of_a_finding_or_metric_are_bad_input(weekly, tmp_path) -> None:
    then, _ = weekly
    data = render.json_safe(then.to_summary())
    data["metrics"]["rec_loss"]["latest"] = "low"
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match="metric 'rec_loss': 'latest' is the str"):
        vae_report.analyze_run(then.run, baseline=tmp_path / "bad.json")
