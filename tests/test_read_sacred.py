"""Sacred's FileStorageObserver layout: <basedir>/<id>/metrics.json ({name: {steps, values, timestamps}}, as
Sacred dumps it with json: NaN written as NaN, timestamps ISO text in UTC) beside config.json and run.json."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
from typer.testing import CliRunner

from vae_report.cli import app
from vae_report.readers import load_run

T0 = 1.7e9
STEPS = np.arange(0, 4000, 20)


def _write_sacred(base, nan_from=3000):
    run = base / "1"
    run.mkdir(parents=True)
    config = {"disc_start": 5001, "kl_weight": 1e-6, "disc_weight": 0.5, "max_steps": 10000, "lr": 4.5e-6, "seed": 1}
    (run / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    (run / "run.json").write_text(json.dumps({"experiment": {"name": "vae"}, "status": "FAILED"}, indent=2))
    stamps = [datetime.fromtimestamp(T0 + s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") for s in STEPS]
    rec = 0.04 + 0.3 * np.exp(-STEPS / 800.0)
    metrics = {}
    for name, values in (("train.rec_loss", rec), ("train.kl_loss", 1e4 + STEPS * 2.0)):
        values = np.where(STEPS >= nan_from, np.nan, values)
        metrics[name] = {"steps": [int(s) for s in STEPS], "timestamps": stamps, "values": [float(v) for v in values]}
    (run / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
    return run, rec


def test_sacred_metrics_json_is_read_with_nan_and_wall_times(tmp_path):
    _, rec = _write_sacred(tmp_path)
    logs = load_run(tmp_path)
    part = logs.frame[logs.frame["metric"] == "rec_loss"].sort_values("step")
    np.testing.assert_array_equal(part["step"].to_numpy(), STEPS)
    values = part["value"].to_numpy()
    np.testing.assert_allclose(values[STEPS < 3000], rec[STEPS < 3000])
    assert np.isnan(values[STEPS >= 3000]).all()
    np.testing.assert_allclose(part["wall_time"].to_numpy(), T0 + STEPS, atol=1e-3)
    assert "kl_loss" in set(logs.frame["metric"].cat.categories)
    assert any("Sacred" in n for s in logs.sources for n in s.notes)


def test_sacred_config_json_gives_the_schedule(tmp_path):
    _write_sacred(tmp_path / "runs")
    out = tmp_path / "r.md"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "runs"), "--out", str(out),
                                      "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["schedule"]["disc_start"] == 5001 and summary["schedule"]["total_steps"] == 10000
    assert summary["schedule"]["config_path"] == "1/config.json"
    assert summary["status"] == "error"
    assert any(f["rule"] == "non-finite" and f["step"] == 3000 for f in summary["findings"]), summary["findings"]
