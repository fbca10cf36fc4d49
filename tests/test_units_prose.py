"""Every position a sentence names is in the unit the logs count: a console or CSV log counted in epochs gets
"NaN at epoch 66", never "step 66" (where 66 is an epoch). Logs written by real writers (print, csv)."""

from __future__ import annotations

import csv
import json
import re

import pytest

from vae_report import analyze_run, render
from vae_report.position import at, count, span, window

# a position named as a step: "step 12", "steps 3-40", "step ~1,200"
STEP_POSITION = re.compile(r"\bsteps? ~?\d")
EPOCH_POSITION = re.compile(r"\bepochs? \d")


def _console(path) -> None:
    """A plain loop printing once per epoch: rec_loss falls, then rises from epoch 50 on; one NaN total at 66."""
    with path.open("w") as out:
        print("Building model ...", file=out)
        for e in range(1, 81):
            rec = 0.4 / (1 + e / 10) if e < 50 else 0.4 / 6 * (1 + (e - 50) * 0.15)
            total = float("nan") if e == 66 else rec + 0.02
            print(f"Epoch [{e}/100], Total Loss: {total:.4f}, Recon: {rec:.4f}, KL: {2 + e / 100:.3f}, "
                  f"LR: {1e-4:.2e}", file=out)


def _csv(path) -> None:
    """A Keras-style CSVLogger file, one row per epoch: the KL collapses at epoch 40, validation overfits."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", "loss", "reconstruction_loss", "kl_loss", "val_loss", "lr"])
        for e in range(80):
            rec = 30 / (1 + e / 5)
            kl = 5 * (1 + e / 10) if e < 40 else 0.01
            val = rec * 1.1 if e < 30 else rec * 1.1 + (e - 30) * 0.5
            writer.writerow([e, rec + kl, rec, kl, val, 1e-3])


def _sentences(analysis) -> list[str]:
    summary = analysis.to_summary()
    return [f["message"] for f in summary["findings"]] + [r.get("message", "") for f in summary["findings"]
                                                          for r in f.get("related", [])]


def test_the_position_speaks_the_schedules_unit() -> None:
    assert at("epoch", 12) == "epoch 12" and at("step", 1200) == "step 1,200" and at("sample", 51200) == "sample 51,200"
    assert count("epoch", 1) == "1 epoch" and count("epoch", 5) == "5 epochs" and count("line", 340) == "340 lines"
    assert span("epoch", 3, 40) == "epochs 3-40"
    assert span("step", 20_300, 20_300) == "step 20,300"  # a range of one position is that position
    assert window("step", 20_300, 20_300, 1) == "its latest point (step 20,300)"
    assert window("epoch", 30, 40, 11) == "the median over epochs 30-40"


@pytest.mark.parametrize("write, name, faults", [
    (_console, "train.log", {"non-finite", "loss-now"}),
    (_csv, "training.csv", {"kl-collapse", "val-overfitting"}),
])
def test_an_epoch_counted_log_names_every_position_as_an_epoch(tmp_path, write, name, faults) -> None:
    run = tmp_path / "run"
    run.mkdir()
    write(run / name)
    analysis = analyze_run(run)
    assert analysis.schedule.counts == "epoch"
    loud = {f["rule"] for f in analysis.to_summary()["findings"] if f["severity"] in ("warning", "error")}
    loud |= {r["rule"] for f in analysis.to_summary()["findings"] for r in f.get("related", [])}
    assert faults <= loud, loud  # the planted faults are found, so their sentences are read below
    sentences = _sentences(analysis)
    assert not [s for s in sentences if STEP_POSITION.search(s)]
    assert sum(bool(EPOCH_POSITION.search(s)) for s in sentences) >= len(faults)
    out = tmp_path / "r.md"
    render.write_report(analysis, out)
    report = out.read_text()
    assert not STEP_POSITION.findall(report), [line for line in report.splitlines() if STEP_POSITION.search(line)]
    assert not STEP_POSITION.search(json.dumps(analysis.to_summary()))


def test_no_message_writes_a_count_as_noun_s() -> None:
    """Every count a message prints takes its noun in the number it takes (numbers.counted: "1 spike", "3
    records"), never "spike(s)", "record(s)", "step line(s)": no string the package can print holds that form."""
    import io
    import tokenize
    from pathlib import Path

    import vae_report

    found = []
    for path in Path(vae_report.__file__).parent.rglob("*.py"):
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            text = token.string
            for _ in range(3):  # an f-string's {expressions} are code, not words: pos.units(s) is a call
                text = re.sub(r"\{[^{}]*\}", "", text)
            if token.type == tokenize.STRING and not text.lstrip("rbfRBF").startswith(('"""', "'''")) \
                    and re.search(r"[A-Za-z]\((?:s|es)\)", text):
                found.append(f"{path.name}:{token.start[0]}: {text[:60]}")
    assert found == []


def test_a_json_log_without_a_step_counter_names_records_never_steps(tmp_path) -> None:
    """JSON lines with an ISO time and no counter (``{"timestamp": "...", "loss": ..}``): the axis is the records'
    order, so every position is "record N", never "step N"."""
    run = tmp_path / "run"
    run.mkdir()
    with (run / "train_log.jsonl").open("w") as out:
        for i in range(600):
            loss = 0.8 / (1 + i / 50) if i < 400 else 0.8 / 9 * (1 + (i - 400) / 20)  # rises from record 400
            stamp = f"2026-01-01T{i // 300:02d}:{i % 300 // 5:02d}:{i % 5 * 12:02d}+00:00"
            print(json.dumps({"timestamp": stamp, "loss": loss, "kl": 2.0 + i / 100}), file=out)
    analysis = analyze_run(run)
    assert analysis.schedule.counts == "record"
    sentences = _sentences(analysis)
    assert any(re.search(r"\brecords? \d", s) for s in sentences), sentences
    out = tmp_path / "r.md"
    render.write_report(analysis, out)
    report = out.read_text()
    assert not STEP_POSITION.findall(report), [line for line in report.splitlines() if STEP_POSITION.search(line)]
