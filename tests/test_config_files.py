"""Config-like files found in a run: a JSON config that gives only the run's length in the run's own unit is
used for it (the key said), and every config-like file read and not used is named in the sources, with why."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from vae_report import analyze_run
from vae_report.cli import app


def _keras_history(folder, epochs: int = 60):
    """Keras' CSVLogger: one row per epoch, no step column."""
    ep = np.arange(epochs)
    with (folder / "history.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["epoch", "kl_loss", "loss", "reconstruction_loss", "val_loss"])
        writer.writeheader()
        for e in ep:
            rec = 150 + 60 * np.exp(-e / 8)
            kl = 6.5 - 3 * np.exp(-e / 5)
            writer.writerow({"epoch": e, "kl_loss": kl, "loss": rec + kl, "reconstruction_loss": rec,
                             "val_loss": rec + kl + 5})


def _step_csv(folder, last: int = 3_000):
    with (folder / "metrics.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["step", "rec_loss", "kl_loss"])
        writer.writerows([s, 0.1 + 1 / (s + 1), 2 + s * 1e-4] for s in range(0, last + 1, 10))


def _sources(folder, tmp_path) -> str:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyze", str(folder), "--out", str(out / "r.md"), "--quiet"])
    assert result.exit_code == 0, result.output
    report = (out / "r.md").read_text()
    return report[report.index("## Sources"):] if "## Sources" in report else report


def test_a_json_config_giving_only_epochs_is_the_total_of_an_epoch_logged_run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _keras_history(run)
    (run / "config.json").write_text(json.dumps({"epochs": 100, "batch_size": 128, "latent_dim": 2}))
    schedule = analyze_run(run).schedule
    assert schedule.total_steps == 100 and schedule.counts == "epoch"
    assert "config.json" in schedule.origins["total_steps"] and "epochs" in schedule.origins["total_steps"]
    assert "config.json used for the run's length only (epochs)" in _sources(run, tmp_path)


def test_a_json_config_giving_only_max_steps_is_the_total_of_a_step_logged_run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _step_csv(run)
    (run / "train_config.json").write_text(json.dumps({"train": {"max_steps": 5_000}, "seed": 3}))
    schedule = analyze_run(run).schedule
    assert schedule.total_steps == 5_000
    assert "train_config.json" in schedule.origins["total_steps"] and "max_steps" in schedule.origins["total_steps"]


def test_every_config_like_file_not_used_is_named_and_logs_are_not(tmp_path):
    import yaml

    run = tmp_path / "run"
    run.mkdir()
    _step_csv(run)
    (run / "data.json").write_text(json.dumps({"dataset": "mnist", "seed": 1}))  # a config of no schedule
    (run / "aug.yaml").write_text(yaml.safe_dump({"flip": True, "crop": 28}))
    history = [{"step": s, "loss": 1 / (s + 1)} for s in range(10, 500, 10)]
    (run / "trainer_state.json").write_text(json.dumps({"global_step": 490, "log_history": history}))
    sources = _sources(run, tmp_path)
    assert "data.json read as a config, not used" in sources and "aug.yaml read as a config, not used" in sources
    assert "trainer_state.json read as a config" not in sources


@pytest.mark.parametrize("layout", ["radiodiff", "ldm"])
def test_a_number_pyyaml_reads_as_a_string_is_said_where_the_trainer_loads_with_pyyaml(tmp_path, layout):
    # eval12 r4_kl_weight_string: "kl_weight: 1e-6" is the string '1e-6' under PyYAML (YAML 1.1 wants a dot),
    # which RadioDiff's trainer hands to its loss; LDM loads with OmegaConf, which reads it as a number
    from writers import radiodiff_config, write_scalars

    write_scalars(tmp_path, [(s, "train/rec_loss", float(np.exp(-s / 500))) for s in range(0, 2000, 10)])
    if layout == "radiodiff":
        text = yaml.safe_dump(radiodiff_config(disc_start=1001, total_steps=5000)).replace(
            "kl_weight: 1.0e-06", "kl_weight: 1e-6")
    else:
        text = ("model:\n  base_learning_rate: 4.5e-6\n  target: ldm.models.autoencoder.AutoencoderKL\n  params:\n"
                "    lossconfig:\n      target: ldm.modules.losses.LPIPSWithDiscriminator\n      params:\n"
                "        disc_start: 1001\n        kl_weight: 1e-6\n        disc_weight: 0.5\n")
    assert "kl_weight: 1e-6" in text
    (tmp_path / "config.yaml").write_text(text)
    a = analyze_run(tmp_path)
    assert a.schedule.kl_weight == 1e-6
    said = [f for f in a.findings if f.rule == "config-typos" and f.case == "string-number"]
    if layout == "ldm":
        assert not said
    else:
        (f,) = said
        assert f.severity == "info" and "the string '1e-6'" in f.message and "1.0e-6" in f.message


def test_radiodiff_s_layout_is_known_by_its_trainer_section_in_yaml_and_in_json(tmp_path):
    """eval13: RadioDiff's config dumped as JSON was read as 'a trainer the report does not know' (its decay not
    judged), and a plain loop's config with model.lossconfig and trainer {max_steps, lr} was taken for RadioDiff's,
    its constant lr then 'RadioDiff's decay ... the scheduler never stepped', the report's first warning."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_verdicts import write_run
    from writers import radiodiff_config, radiodiff_curves

    curves = radiodiff_curves(6000, disc_start=10_001, total_steps=20_000)
    json_run = write_run(tmp_path / "json", curves, 10)
    (json_run / "config.json").write_text(json.dumps(radiodiff_config(disc_start=10_001, total_steps=20_000)))
    a = analyze_run(json_run)
    assert a.schedule.layout == "radiodiff" and a.schedule.config_path == "config.json"
    (lr,) = [f for f in a.findings if f.rule == "lr-schedule"]
    assert lr.severity == "ok" and "RadioDiff's decay" in lr.message
    curves.values["lr"][:] = 5e-6  # a plain loop at a constant rate
    plain = write_run(tmp_path / "plain", curves, 10)
    (plain / "config.yaml").write_text(yaml.safe_dump({
        "model": {"lossconfig": {"disc_start": 10_001, "kl_weight": 1e-6, "disc_weight": 0.5}},
        "trainer": {"max_steps": 20_000, "lr": 5e-6, "log_every": 100}}))
    b = analyze_run(plain)
    assert b.schedule.layout == "flat" and (b.schedule.disc_start, b.schedule.total_steps) == (10_001, 20_000)
    (lr,) = [f for f in b.findings if f.rule == "lr-schedule"]
    assert lr.severity in ("ok", "info") and "RadioDiff" not in lr.message
    assert b.status == "ok", [f.message for f in b.active_findings() if f.severity != "ok"]


@pytest.mark.parametrize("switch", [2_001, 3_001])
def test_two_versions_of_a_config_side_by_side_are_both_named_and_the_data_choose(tmp_path, switch):
    """eval14 a19/a21: radio_v1.yaml (disc_start 4,001) and radio_v2.yaml (2,001) in one run folder: the first by
    name was used and the other never named. The one whose disc_start is where the data show the switch-on is
    used; the other is named with how it differs; data that match neither keep the first, said so."""
    from writers import radiodiff_config, radiodiff_curves, radiodiff_tb_points, write_scalars

    run = tmp_path / "run"
    write_scalars(run, radiodiff_tb_points(radiodiff_curves(3_500, disc_start=switch, total_steps=5_000), 10))
    (run / "radio_v1.yaml").write_text(yaml.safe_dump(radiodiff_config(disc_start=4_001, total_steps=10_000)))
    (run / "radio_v2.yaml").write_text(yaml.safe_dump(radiodiff_config(disc_start=2_001, total_steps=5_000)))
    a = analyze_run(run)
    notes = " ".join(a.merge_notes)
    if switch == 2_001:
        assert a.schedule.config_path == "radio_v2.yaml" and a.schedule.total_steps == 5_000
        assert "radio_v1.yaml: another config beside radio_v2.yaml, not used (disc_start 4,001 against 2,001, " \
               "total_steps 10,000 against 5,000); radio_v2.yaml is used: its disc_start is where the data show " \
               "the discriminator switch on" in notes, notes
    else:
        assert a.schedule.config_path == "radio_v1.yaml"
        assert "radio_v2.yaml: another config beside radio_v1.yaml, not used" in notes and \
            "the first found: the data do not tell them apart" in notes, notes
