"""One start level: the trend rules quote and judge from the start the statistics table shows
(levels.start_level), never a second "start" of their own. Logs written with the csv module."""

from __future__ import annotations

import csv
import re

import numpy as np

from vae_report import analyze_run, render
from vae_report.numbers import fmt


def _run(path) -> None:
    """rec_loss falls steeply over its first points and then rises slowly; KL rises fast, then flattens: the
    median of the first tenth of either is far from the median of its first 5% (the start level)."""
    rng = np.random.default_rng(3)
    (path / "config.yaml").write_text("model:\n  lossconfig:\n    kl_weight: 1.0e-6\n")
    with (path / "metrics.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "rec_loss", "kl_loss", "total_loss"])
        for step in range(0, 20_000, 50):
            rec = 0.05 + 0.5 * np.exp(-step / 600) + step / 20_000 * 0.04 + 0.001 * rng.standard_normal()
            kl = 1_000 + 50_000 * (1 - np.exp(-step / 1_500)) + 100 * rng.standard_normal()
            writer.writerow([step, f"{rec:.6f}", f"{kl:.2f}", f"{rec + 1e-6 * kl:.6f}"])


def test_the_trend_rules_start_where_the_statistics_table_starts(tmp_path) -> None:
    _run(tmp_path)
    analysis = analyze_run(tmp_path)
    out = tmp_path / "r.md"
    render.write_report(analysis, out)
    report = out.read_text()
    findings = {f.rule: f for f in analysis.findings}
    for rule, metric in (("rec-trend", "rec_loss"), ("kl-rising", "kl_loss")):
        stats = analysis.metrics[metric]
        values = np.array([float(row[metric]) for row in csv.DictReader((tmp_path / "metrics.csv").open())])
        tenth = float(np.median(values[: len(values) // 10]))
        assert abs(tenth - stats.start) > 0.1 * abs(stats.start)  # the two definitions differ clearly here
        # the statistics table's Start ...
        row = next(line for line in report.splitlines() if line.startswith(f"| {metric} |"))
        assert row.split("|")[2].strip() == fmt(stats.start)
        # ... is the start the trend finding quotes ("rose from <start> to <now>") and judges from
        finding = findings[rule]
        quoted = re.search(r"(?:rose|fell) from ([-\d.,e+]+) to", finding.message)
        assert quoted and quoted.group(1) == fmt(stats.start), finding.message
        assert finding.numbers.get("start_level", finding.numbers.get("kl_start")) == stats.start
        assert fmt(tenth) not in finding.message
