"""End to end: a run shaped like the seed report's, through the library and the CLI."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner
from writers import write_radiodiff_run, write_scalars

from vae_report import analyze_run, read_run
from vae_report.cli import app

runner = CliRunner()


def test_seed_shaped_run_progress_milestone_and_statistics(seed_run):
    folder, curves = seed_run
    a = analyze_run(folder)
    assert a.step == 18_300
    assert round(a.progress * 100, 1) == 12.2
    assert a.phase == "before discriminator"
    assert (a.next_milestone.step, a.steps_to_next) == (50_001, 31_701)
    assert a.status == "ok" and a.confidence == "high"
    frame = read_run(folder)
    for name, st in a.metrics.items():
        part = frame[frame["metric"] == name].sort_values("step")
        values = part["value"].to_numpy()
        assert st.count == len(values)
        assert (st.first, st.latest) == (values[0], values[-1])
        assert (st.min, st.max) == (np.nanmin(values), np.nanmax(values))
    # the text log's AE total is the one reported, and it agrees with the generating curves
    assert a.metrics["total_loss"].latest == pytest.approx(curves.values["total_loss"][-1], abs=1e-5)


def test_cli_writes_report_images_and_summary(seed_run, tmp_path):
    folder, _ = seed_run
    out = tmp_path / "reports" / "week48.md"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(out), "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    for section in ("## Training overview", "## Key training metrics analysis", "## Configuration analysis",
                    "## Progress assessment", "## Recommendations", "## Training statistics",
                    "## Training visualizations", "## Questions and answers", "## Conclusion"):
        assert section in text
    assert "18,300 of 150,000 (12.2%)" in text and "31,701 steps away" in text
    images = sorted(p.name for p in (out.parent / "week48_files").glob("*.png"))
    assert (out.parent / "week48_files" / ".vae-report").is_file()  # the marker: only such a folder is replaced
    assert images == sorted(f"{n}.png" for n in ("total_loss", "kl_loss", "rec_loss", "disc_loss", "overview",
                                                  "normalized", "multi_axis", "gan_health", "lr_logvar"))
    for name in images:
        assert f"](week48_files/{name})" in text  # relative links: the folder can be moved
        assert (out.parent / "week48_files" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((tmp_path / "s.json").read_text())
    assert {"status", "step", "total_steps", "progress", "phase", "next_milestone", "metrics", "findings",
            "sources"} <= set(summary)
    assert summary["next_milestone"] == {"step": 50_001, "name": "discriminator starts", "steps_away": 31_701}
    assert summary["progress"] == pytest.approx(0.122)
    assert set(summary["metrics"]["rec_loss"]) >= {"first", "latest", "min", "max", "count"}
    assert all(set(f) >= {"rule", "severity", "metric", "step", "message"} for f in summary["findings"])
    assert {f["severity"] for f in summary["findings"]} <= {"ok", "info", "warning", "error"}


def test_fail_on_sets_exit_code_and_summary_is_written_anyway(tmp_path):
    run = tmp_path / "run"
    curves = write_run_with_nan(run)
    assert np.isnan(curves.values["kl_loss"]).any()
    summary = tmp_path / "s.json"
    result = runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "r.md"), "--json", str(summary),
                                 "--fail-on", "error"])
    assert result.exit_code == 1, result.output
    data = json.loads(summary.read_text())
    assert data["status"] == "error"
    assert any(f["rule"] == "non-finite" and f["step"] == 500 for f in data["findings"])
    never = runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "r.md"), "--quiet"])
    assert never.exit_code == 0 and never.output == ""


def write_run_with_nan(folder):
    from writers import radiodiff_config, radiodiff_curves, write_radiodiff_text_log

    curves = radiodiff_curves(1000, disc_start=5000, total_steps=10_000)
    curves.values["kl_loss"][500:] = np.nan
    curves.values["total_loss"][500:] = np.nan  # the KL term is in the sum: a real run's total goes NaN with it
    write_radiodiff_text_log(folder, curves, radiodiff_config(disc_start=5000, total_steps=10_000), 10_000,
                             log_freq=50)
    return curves


def test_the_summary_names_each_findings_case(tmp_path):
    """A KL NaN the total never took in is the non-finite rule's "not-in-loss" case, and the summary says so (a CI
    step tells it from a divergence by this field, not by the message's words)."""
    from writers import radiodiff_config, radiodiff_curves, write_radiodiff_text_log

    curves = radiodiff_curves(1000, disc_start=5000, total_steps=10_000)
    curves.values["kl_loss"][500:] = np.nan
    write_radiodiff_text_log(tmp_path / "run", curves, radiodiff_config(disc_start=5000, total_steps=10_000), 10_000,
                             log_freq=50)
    summary = tmp_path / "s.json"
    result = runner.invoke(app, ["analyze", str(tmp_path / "run"), "--out", str(tmp_path / "r.md"), "--json",
                                 str(summary), "--quiet"])
    assert result.exit_code == 0, result.output
    findings = json.loads(summary.read_text())["findings"]
    assert all("case" in f for f in findings)
    (nan,) = [f for f in findings if f["rule"] == "non-finite"]
    assert nan["case"] == "not-in-loss" and nan["severity"] == "warning"


# (a config of an unknown layout given with --config is read for the keys it names: test_field_layouts.py)
@pytest.mark.parametrize("case", ["missing", "empty", "no-metrics", "no-step-csv", "bad-config"])
def test_bad_input_is_one_line_exit_2_and_no_report(tmp_path, case):
    run = tmp_path / "run"
    args = []
    if case != "missing":
        run.mkdir()
    if case == "no-metrics":
        (run / "notes.txt").write_text("hello")
    if case == "no-step-csv":
        (run / "metrics.csv").write_text("loss\n1\n")
    if case == "bad-config":
        write_scalars(run, [(0, "rec_loss", 1.0)])
        config = tmp_path / "c.yaml"
        config.write_text("model: [")
        args = ["--config", str(config)]
    out = tmp_path / "r.md"
    result = runner.invoke(app, ["analyze", str(run), "--out", str(out), "--json", str(tmp_path / "s.json"), *args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vae-report: error: ")
    assert "Traceback" not in result.output
    assert not out.exists() and not (tmp_path / "r_files").exists() and not (tmp_path / "s.json").exists()


def test_unwritable_output_is_exit_2_and_leaves_nothing(seed_run, tmp_path):
    if os.geteuid() == 0:
        target = "/proc/vae-report/report.md"  # even root cannot create a folder there
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = str(locked / "report.md")
    result = runner.invoke(app, ["analyze", str(seed_run[0]), "--out", target])
    assert result.exit_code == 2 and "vae-report: error:" in result.output


def test_inputs_are_never_modified(tmp_path):
    run = tmp_path / "run"
    write_radiodiff_run(run, last_step=500, tb_every=5)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in run.rglob("*") if p.is_file()}
    result = runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 0
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in run.rglob("*") if p.is_file()}
    assert before == after


def test_command_line_overrides_the_config(seed_run, tmp_path):
    folder, _ = seed_run
    summary = tmp_path / "s.json"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "r.md"), "--json", str(summary),
                                 "--disc-start", "10001", "--total-steps", "20000"])
    assert result.exit_code == 0
    data = json.loads(summary.read_text())
    assert data["total_steps"] == 20_000 and data["phase"] == "adversarial"
    assert data["schedule"]["origins"]["disc_start"] == "command line"
    # the discriminator is still off in the data after step 10,001: an error
    assert any(f["rule"] == "disc-inactive-after-start" and f["severity"] == "error" for f in data["findings"])


def test_the_readme_rule_table_is_the_registry():
    """The README's rule table is generated from the registry (id, what it checks, the severities its cases raise,
    its thresholds): a rule added, renamed or re-thresholded without the README fails here."""
    from pathlib import Path

    from vae_report.rules import RULES, rule_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = rule_table()
    assert all(f"| `{rule.id}` |" in table for rule in RULES) and len(table.splitlines()) == len(RULES) + 2
    start = readme.index("| Rule id |")
    assert readme[start:readme.index("\n\n", start) + 1] == table, (
        "README's rule table differs from the registry; paste the output of "
        "python -c 'from vae_report.rules import rule_table; print(rule_table(), end=\"\")'")


def test_thresholds_file_changes_a_rule_and_bad_keys_are_refused(seed_run, tmp_path):
    folder, _ = seed_run
    limits = tmp_path / "limits.yaml"
    limits.write_text("kl-dominant:\n  share: 0.00001\n")  # make the tiny KL term count as dominant
    summary = tmp_path / "s.json"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "r.md"), "--json", str(summary),
                                 "--thresholds", str(limits)])
    assert result.exit_code == 0, result.output
    assert any(f["rule"] == "kl-dominant" and f["severity"] == "warning"
               for f in json.loads(summary.read_text())["findings"])
    limits.write_text("kl-dominant:\n  shares: 0.5\n")
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "r.md"), "--thresholds", str(limits)])
    assert result.exit_code == 2 and "has no threshold 'shares'" in result.output


def test_now_makes_a_stopped_run_visible(seed_run, tmp_path):
    folder, _ = seed_run
    summary = tmp_path / "s.json"
    # the fixture's clock: 0.5 s per step from 1.7e9; a day after its last log
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "r.md"), "--json", str(summary),
                                 "--now", "2023-11-16T00:00:00+00:00", "--fail-on", "warning"])
    assert result.exit_code == 1
    liveness = [f for f in json.loads(summary.read_text())["findings"] if f["rule"] == "liveness"][0]
    assert liveness["severity"] == "warning" and "may have stopped" in liveness["message"]
    bad = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "r.md"), "--now", "yesterday"])
    assert bad.exit_code == 2 and "--now" in bad.output


def test_weekly_status_against_a_previous_summary(tmp_path):
    from writers import write_radiodiff_run

    week47, week48 = tmp_path / "w47", tmp_path / "w48"
    write_radiodiff_run(week47, last_step=3_000, disc_start=4_001, total_steps=10_000, tb_every=10)
    write_radiodiff_run(week48, last_step=6_000, disc_start=4_001, total_steps=10_000, tb_every=10)
    old = tmp_path / "week47.json"
    first = runner.invoke(app, ["analyze", str(week47), "--out", str(tmp_path / "w47.md"), "--json", str(old)])
    assert first.exit_code == 0, first.output
    new = tmp_path / "week48.json"
    result = runner.invoke(app, ["analyze", str(week48), "--out", str(tmp_path / "w48.md"), "--json", str(new),
                                 "--baseline", str(old)])
    assert result.exit_code == 0, result.output
    since = json.loads(new.read_text())["since_baseline"]
    assert since["step_then"] == 3_000 and since["steps_gained"] == 3_000
    assert since["progress_gained"] == pytest.approx(0.3)
    assert since["milestones_passed"] == [{"step": 4_001, "name": "discriminator starts"}]
    assert since["hours_between_logs"] == pytest.approx(3_000 * 0.5 / 3600)
    assert since["metrics"]["kl_loss"]["now"] > since["metrics"]["kl_loss"]["then"]
    text = (tmp_path / "w48.md").read_text()
    assert "## Since last report" in text and "step 4,001 (discriminator starts)" in text


def test_baseline_from_an_older_version_and_a_bad_baseline(seed_run, tmp_path):
    folder, _ = seed_run
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"status": "ok", "step": 10_000, "metrics": {"rec_loss": {"latest": 0.05}},
                               "findings": [{"rule": "something-retired", "severity": "warning"}]}))
    summary = tmp_path / "s.json"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "r.md"), "--json", str(summary),
                                 "--baseline", str(old)])
    assert result.exit_code == 0, result.output
    since = json.loads(summary.read_text())["since_baseline"]
    assert since["steps_gained"] == 8_300 and since["progress_then"] is None and since["hours_between_logs"] is None
    assert [f["rule"] for f in since["findings_resolved"]] == ["something-retired"]
    old.write_text("{not json")
    bad = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "r2.md"), "--baseline", str(old)])
    assert bad.exit_code == 2 and "not JSON" in bad.output and not (tmp_path / "r2.md").exists()


def test_a_finding_cited_under_another_since_last_report_is_not_resolved():
    from vae_report.baseline import compare

    trend = {"rule": "rec-trend", "severity": "warning", "metric": "rec_loss", "step": 9_000, "message": "rose"}
    then = {"step": 9_000, "findings": [trend]}
    # a week later the same rise is also seen in the latest logs: one cause, the trend cited under loss-now
    now = {"step": 12_000, "findings": [{"rule": "loss-now", "severity": "error", "metric": "rec_loss",
                                         "step": 10_000, "message": "rising", "related": [trend]}]}
    since = compare(now, then)
    assert since["findings_resolved"] == []
    assert [f["rule"] for f in since["findings_new"]] == ["loss-now"]


def test_since_last_report_counts_causes_not_the_findings_cited_under_them():
    """eval13 b3_weekly_regressed: one rise (loss-shift, with rec-after-disc, rec-trend and total-trend cited under
    it) was four 'New warning' lines and four new findings; the lr's scheduled decay was a change that matters."""
    from vae_report.baseline import compare

    def one(rule, metric):
        return {"rule": rule, "severity": "warning", "metric": metric, "step": 65_000, "message": "rose"}

    cited = [one("rec-after-disc", "rec_loss"), one("rec-trend", "rec_loss"), one("total-trend", "total_loss")]
    head = one("loss-shift", "rec_loss") | {"related": cited}
    level = {"recent_median": 3.1e-6, "recent_noise": 1e-12}
    then = {"step": 60_000, "findings": [], "metrics": {"lr": level}}
    now = {"step": 75_000, "metrics": {"lr": level | {"recent_median": 2.6e-6}},
           "findings": [head, {"rule": "lr-schedule", "severity": "ok", "metric": "lr", "message": "follows"}]}
    since = compare(now, then)
    assert [f["rule"] for f in since["findings_new"]] == ["loss-shift"]
    assert since["changes"] == ["New warning: loss-shift on rec_loss (3 more findings of the same cause cited "
                                "under it)."]
    gone = compare({"step": 90_000, "findings": []}, now)
    assert [f["rule"] for f in gone["findings_resolved"]] == ["loss-shift"]


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_a_folder_of_runs_is_a_sweep(tmp_path, suffix):
    from writers import write_radiodiff_run

    sweep = tmp_path / "sweep"
    write_radiodiff_run(sweep / "kl_1e-6", last_step=2_000, disc_start=1_001, total_steps=4_000, tb_every=10)
    write_radiodiff_run(sweep / "kl_1e-6_nodisc", last_step=2_000, disc_start=1_001, total_steps=4_000, tb_every=10,
                        disc_never_starts=True)
    (sweep / "broken").mkdir()
    (sweep / "broken" / "metrics.csv").write_text("loss\n1\n")  # no step column
    (sweep / "broken" / "config.yaml").write_text((sweep / "kl_1e-6" / "first_radio.yaml").read_text())
    out = tmp_path / f"sweep{suffix}"
    summary = tmp_path / "s.json"
    result = runner.invoke(app, ["analyze", str(sweep), "--out", str(out), "--json", str(summary),
                                 "--fail-on", "error"])
    assert result.exit_code == 1 and "3 runs" in result.output, result.output
    data = json.loads(summary.read_text())
    assert data["sweep"] is True and data["status"] == "error"
    runs = {r["name"]: r for r in data["runs"]}
    assert runs["kl_1e-6"]["status"] == "ok" and runs["kl_1e-6"]["step"] == 2_000
    assert runs["kl_1e-6_nodisc"]["status"] == "error"
    assert runs["broken"]["status"] == "error" and "no step column" in runs["broken"]["error"]
    text = out.read_text()
    for name in ("kl_1e-6", "kl_1e-6_nodisc", "broken"):
        assert f"Run: {name}" in text
    if suffix == ".md":
        assert len(list((tmp_path / "sweep_files").glob("*_overview.png"))) == 2


def test_lightning_versions_of_one_run_are_not_a_sweep(tmp_path):
    from writers import radiodiff_curves, write_lightning_metrics_csv, write_scalars

    from vae_report.sweep import find_runs

    run = tmp_path / "logs" / "2026-11-24T10-00-00_autoencoder"
    curves = radiodiff_curves(500, disc_start=10_000)
    write_scalars(run / "lightning_logs" / "version_0", [(int(s), "train/rec_loss", float(v))
                                                          for s, v in zip(curves.steps, curves.values["rec_loss"],
                                                                          strict=True)])
    write_lightning_metrics_csv(run / "lightning_logs" / "version_1" / "metrics.csv", curves)
    assert find_runs(run / "lightning_logs") is None
    assert find_runs(run) is None


def test_a_sweep_compares_each_run_with_last_weeks_sweep_summary(tmp_path):
    from writers import write_radiodiff_run

    def sweep(folder, last_step):
        for name in ("a", "b"):
            write_radiodiff_run(folder / name, last_step=last_step, disc_start=4_001, total_steps=10_000, tb_every=20)

    sweep(tmp_path / "w47", 2_000)
    sweep(tmp_path / "w48", 5_000)
    old, new = tmp_path / "w47.json", tmp_path / "w48.json"
    assert runner.invoke(app, ["analyze", str(tmp_path / "w47"), "--out", str(tmp_path / "w47.md"),
                               "--json", str(old)]).exit_code == 0
    result = runner.invoke(app, ["analyze", str(tmp_path / "w48"), "--out", str(tmp_path / "w48.md"),
                                 "--json", str(new), "--baseline", str(old)])
    assert result.exit_code == 0, result.output
    for run in json.loads(new.read_text())["runs"]:
        assert run["since_baseline"]["steps_gained"] == 3_000
        assert run["since_baseline"]["milestones_passed"] == [{"step": 4_001, "name": "discriminator starts"}]
    assert (tmp_path / "w48.md").read_text().count("Since last report: 3,000 steps gained") == 2
    single = runner.invoke(app, ["analyze", str(tmp_path / "w48" / "a"), "--out", str(tmp_path / "a.md"),
                                 "--baseline", str(old)])
    assert single.exit_code == 2 and "a sweep's summary" in single.output


def test_a_sweeps_baseline_is_checked_as_a_single_runs_is(tmp_path):
    """The sweep report names where each run's baseline came from (a run moved or renamed: the same note as the
    run's own report); a single run's summary, or another sweep's (no run of the same name), is refused before
    anything is analyzed, as is a run of the same name but another schedule: exit 2, one line, nothing written."""
    from writers import write_radiodiff_run

    def sweep(folder, last_step, names=("a", "b"), disc_start=4_001):
        for name in names:
            write_radiodiff_run(folder / name, last_step=last_step, disc_start=disc_start, total_steps=10_000,
                                tb_every=20)

    sweep(tmp_path / "w47", 2_000)
    sweep(tmp_path / "w48", 3_000)
    sweep(tmp_path / "other", 3_000, names=("c", "d"))
    sweep(tmp_path / "resched", 3_000, disc_start=6_001)
    old = tmp_path / "w47.json"
    assert runner.invoke(app, ["analyze", str(tmp_path / "w47"), "--out", str(tmp_path / "w47.md"),
                               "--json", str(old)]).exit_code == 0
    single = tmp_path / "a.json"
    assert runner.invoke(app, ["analyze", str(tmp_path / "w47" / "a"), "--out", str(tmp_path / "a.md"),
                               "--json", str(single)]).exit_code == 0
    result = runner.invoke(app, ["analyze", str(tmp_path / "w48"), "--out", str(tmp_path / "w48.md"),
                                 "--baseline", str(old)])
    assert result.exit_code == 0, result.output
    moved = "the baseline was written for {}, this report is of {}: the same schedule"
    text = (tmp_path / "w48.md").read_text()
    for name in ("a", "b"):
        assert moved.format(tmp_path / "w47" / name, tmp_path / "w48" / name) in text.replace("\\_", "_")
    for folder, baseline, said in (("w48", single, f"{single}: a single run's summary"),
                                   ("other", old, f"{old}: a summary of another sweep (its runs: a, b; this sweep's: "
                                                  "c, d)"),
                                   ("resched", old, f"{old}: a summary of another run ({tmp_path / 'w47' / 'a'}, not "
                                                    f"{tmp_path / 'resched' / 'a'}: another schedule)")):
        out = tmp_path / f"{folder}_refused.md"
        refused = runner.invoke(app, ["analyze", str(tmp_path / folder), "--out", str(out), "--baseline",
                                      str(baseline)])
        assert refused.exit_code == 2 and said in refused.output and refused.output.count("\n") == 1, refused.output
        assert not out.exists()


def test_ldm_lightning_run_with_the_step_unit_trap(tmp_path):
    """LDM under Lightning: nested config in configs/, TB in version_0, sparse metrics.csv in version_1, and the
    discriminator switching on at about half of disc_start in logged steps."""
    from test_schedule import LDM
    from writers import radiodiff_curves, write_lightning_metrics_csv, write_scalars

    run = tmp_path / "logs" / "2026-11-24T10-00-00_autoencoder_kl_64x64x3"
    (run / "configs").mkdir(parents=True)
    # main.py saves the config without its lightning section, which goes to the -lightning.yaml beside it
    configs = run / "configs"
    (configs / "2026-11-24T10-00-00-project.yaml").write_text(LDM.split("lightning:")[0].replace("50001", "2001"))
    (configs / "2026-11-24T10-00-00-lightning.yaml").write_text("lightning:\n  trainer:\n    max_steps: 10000\n")
    curves = radiodiff_curves(8000, disc_start=2001, total_steps=10_000)
    for key in curves.values:  # the logged step counts batches; the loss sees both optimizers' steps
        curves.values[key] = curves.values[key][::2]
    curves.steps = curves.steps[::2] // 2
    curves.values["lr"][:] = 2 * 1 * 12 * 4.5e-6  # main.py: accumulate x GPUs x batch size x base_learning_rate
    lightning = run / "testtube" / "lightning_logs"
    write_lightning_metrics_csv(lightning / "version_1" / "metrics.csv", curves, every=10)
    write_scalars(lightning / "version_0", [(int(s), "train/rec_loss", float(v)) for s, v in
                                            zip(curves.steps[9::10], curves.values["rec_loss"][9::10], strict=True)])
    summary = tmp_path / "s.json"
    result = runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "r.md"), "--json", str(summary)])
    assert result.exit_code == 0, result.output
    data = json.loads(summary.read_text())
    # the config's global-step milestones in logged steps: disc_start 2,001 -> 1,001, max_steps 10,000 -> 5,000
    assert data["schedule"]["layout"] == "ldm" and data["schedule"]["step_unit"] == 2
    assert (data["schedule"]["disc_start"], data["schedule"]["config_disc_start"]) == (1001, 2001)
    assert (data["total_steps"], data["schedule"]["config_total_steps"]) == (5000, 10_000)
    # max_steps is the -lightning.yaml's, named as such; disc_start the project config's
    origins = data["schedule"]["origins"]
    assert origins["total_steps"].startswith("configs/2026-11-24T10-00-00-lightning.yaml: lightning.trainer.max_steps")
    assert origins["disc_start"].startswith("configs/2026-11-24T10-00-00-project.yaml")
    assert data["phase"] == "adversarial" and data["finished"] is False
    assert data["next_milestone"] == {"step": 5000, "name": "end of training", "steps_away": 5000 - data["step"]}
    # eval15: titled "Discriminator active before disc_start" above "a step-unit difference, not a fault"
    report = (tmp_path / "r.md").read_text()
    assert "Discriminator on at half of disc_start: a step unit" in report
    assert "Discriminator active before disc_start" not in report.split("## Findings")[1].split("##")[0]
    by_rule = {f["rule"]: f for f in data["findings"]}
    assert by_rule["disc-active-before-start"]["severity"] == "info"
    assert "step-unit" in by_rule["disc-active-before-start"]["message"]
    assert by_rule["disc-inactive-after-start"]["severity"] == "ok"
    report = (tmp_path / "r.md").read_text()
    assert "- **Phase**: adversarial (from step 1,001)" in report
    lr = by_rule["lr-schedule"]
    assert lr["severity"] == "info" and "scales base_learning_rate" in lr["message"]
    assert data["status"] == "ok"
    assert data["metrics"]["rec_loss"]["count"] == 400  # TB and CSV agree, pooled


def test_questions_follow_the_phase(seed_run, tmp_path):
    from writers import write_radiodiff_run

    before = [q.question for q in analyze_run(seed_run[0]).qa]
    assert before[:2] == ["Is the KL loss increase concerning?",
                          "Why is the discriminator loss zero? Should I be worried?"]
    assert "When will the discriminator become active?" in before
    assert "Is a discriminator loss near 1 fine?" not in before
    run = tmp_path / "run"
    write_radiodiff_run(run, last_step=6_000, disc_start=3_001, total_steps=10_000, tb_every=10)
    qa = {q.question: q.answer for q in analyze_run(run).qa}
    assert qa["Is a discriminator loss near 1 fine?"].startswith("Yes. disc_loss at its equilibrium")
    assert qa["Did reconstruction get worse once the GAN started?"].startswith("No.")


def test_one_log_file_instead_of_a_folder(seed_run, tmp_path):
    folder, _ = seed_run
    (log,) = folder.glob("*_.log")
    summary = tmp_path / "s.json"
    result = runner.invoke(app, ["analyze", str(log), "--out", str(tmp_path / "r.md"), "--json", str(summary)])
    assert result.exit_code == 0, result.output
    data = json.loads(summary.read_text())
    assert [s["kind"] for s in data["sources"]] == ["text log"] and data["step"] == 18_300
    assert data["schedule"]["disc_start"] == 50_001  # from the config beside it


def test_without_a_config_disc_start_is_inferred_and_confidence_drops(tmp_path):
    from writers import radiodiff_curves, radiodiff_tb_points, write_scalars

    curves = radiodiff_curves(3_000, disc_start=1_501)
    write_scalars(tmp_path / "run", radiodiff_tb_points(curves, every=10))  # TensorBoard only: no config anywhere
    a = analyze_run(tmp_path / "run")
    assert a.schedule.disc_start == 1_510  # the first logged step with disc_factor 1
    assert a.schedule.origins["disc_start"].startswith("inferred from the data")
    assert a.schedule.total_steps is None and a.progress is None
    assert a.confidence == "low" and any("no training config" in r for r in a.confidence_reasons)


def test_the_logging_interval_is_the_densest_training_loss(tmp_path):
    """A loop logging rec_loss every step and total_loss every 10 logs every step: the report's "logged every"
    is the run's interval, not the total's."""
    points = [(step, "rec_loss", 0.1 + 0.4 / (1 + step)) for step in range(0, 600)]
    points += [(step, "total_loss", 0.2 + 0.4 / (1 + step)) for step in range(0, 600, 10)]
    write_scalars(tmp_path / "run", sorted(points))
    a = analyze_run(tmp_path / "run")
    assert a.log_every == 1


def test_a_kl_weight_the_config_does_not_give_is_read_off_the_logged_total(tmp_path):
    """A partial --config without kl_weight: the loss class's default 1 does not fit the logged sum, the weight
    that does (1e-6) is read off it and said so, and no rule warns that a KL weighted by 1 dominates the loss
    (was: "99.7% of the loss ... lower kl_weight" beside "total_loss does not add up ... (kl_weight 1)");
    a kl_weight --config gives where the run's own config (and the copy its text log printed) gives the one the
    logged sum confirms is that one's, the disagreement named (tests/test_pinned.py)."""
    import yaml

    example = Path(__file__).resolve().parents[1] / "examples" / "tiny_run"
    partial = tmp_path / "partial.yaml"
    partial.write_text(yaml.safe_dump({"model": {"lossconfig": {"disc_start": 301}}}))
    a = analyze_run(example, config=partial)
    assert a.schedule.kl_weight == 1e-6 and a.schedule.origins["kl_weight"].startswith("the logged total")
    assert not [f for f in a.active_findings() if f.severity in ("warning", "error")]
    given = tmp_path / "given.yaml"
    given.write_text(yaml.safe_dump({"model": {"lossconfig": {"disc_start": 301, "kl_weight": 1.0}}}))
    kept = analyze_run(example, config=given)
    assert kept.schedule.kl_weight == 1e-6 and "the value the data confirm" in kept.schedule.origins["kl_weight"]
    (said,) = [f for f in kept.findings if f.rule == "config-typos"]
    assert said.case == "configs-disagree" and "kl_weight 1 in" in said.message


def test_a_sweeps_report_names_runs_new_since_the_baseline_and_runs_gone(tmp_path):
    """Last week's sweep had a and old_name; this week's has a and added: the report and the summary say which run
    is new and which is gone (with its step then). Was: old_name appeared nowhere and added got no line at all."""
    from writers import write_radiodiff_run

    for folder, names, last in (("w47", ("a", "old_name"), 2_000), ("w48", ("a", "added"), 3_000)):
        for name in names:
            write_radiodiff_run(tmp_path / folder / name, last_step=last, disc_start=4_001, total_steps=10_000,
                                tb_every=20)
    old, new = tmp_path / "w47.json", tmp_path / "w48.json"
    assert runner.invoke(app, ["analyze", str(tmp_path / "w47"), "--out", str(tmp_path / "w47.md"),
                               "--json", str(old)]).exit_code == 0
    result = runner.invoke(app, ["analyze", str(tmp_path / "w48"), "--out", str(tmp_path / "w48.md"),
                                 "--json", str(new), "--baseline", str(old)])
    assert result.exit_code == 0, result.output
    summary = json.loads(new.read_text())
    assert summary["runs_new"] == ["added"]
    assert summary["runs_gone"] == [{"name": "old_name", "step_then": 2_000}]
    runs = (tmp_path / "w48.md").read_text().split("## Runs")[1]
    assert ("New since the last report: added; in the last report but no longer in this folder: old_name (then at "
            "step 2,000).") in runs


def test_since_last_report_says_a_resume_that_replaced_steps_the_last_report_saw(tmp_path):
    """Last week's report was at step 20,000; the run went on to 22,000, crashed and was resumed from its step-15,000
    checkpoint into a second event file: the weekly says the resume and that the last report's steps 15,000-20,000
    were trained again. Was: only "Steps gained: 10,000", the resume in the findings table alone."""
    run = tmp_path / "run"
    rng = np.random.default_rng(0)

    def points(first, last):
        return [(s, tag, float(v)) for s in range(first, last + 1, 100)
                for tag, v in (("train/rec_loss", 0.03 + 0.2 * np.exp(-s / 4000) + 0.001 * rng.standard_normal()),
                               ("train/kl_loss", 800 + 0.01 * s))]
    week47 = write_scalars(run, points(0, 20_000))
    old = tmp_path / "w47.json"
    assert runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "w47.md"), "--json", str(old),
                               "--quiet"]).exit_code == 0
    week47.unlink()  # the same process's log, one week on: it had reached 22,000 when it crashed
    write_scalars(run, points(0, 22_000))
    write_scalars(run, points(15_000, 30_000), start_wall=1.7e9 + 22_000 * 0.5 + 1_800 - 15_000 * 0.5,
                  filename_suffix=".resumed")
    new = tmp_path / "w48.json"
    result = runner.invoke(app, ["analyze", str(run), "--out", str(tmp_path / "w48.md"), "--json", str(new),
                                 "--baseline", str(old), "--quiet"])
    assert result.exit_code == 0, result.output
    since = json.loads(new.read_text())["since_baseline"]
    assert since["resumed_since"] == [{"step": 15_000, "reached": 22_000}]
    assert ("Resumed at step 15,000 since the last report: the earlier log had reached step 22,000, so 7,000 steps "
            "were trained again, including the last report's steps 15,000-20,000 (the levels it gave came from the "
            "replaced branch).") in since["changes"]
    assert since["changes"][0] in (tmp_path / "w48.md").read_text()
