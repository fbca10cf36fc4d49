"""JSON metric logs (issue 17, item 3), each written by json.dumps as the real trainers do: plain JSON lines,
mmcv's ``*.log.json`` (meta line, ``mode``, ``iter`` restarting every epoch), detectron2's ``metrics.json``,
Hugging Face's ``trainer_state.json`` and a file of lists per key."""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys

import numpy as np
import pytest

from vae_report import load_run
from vae_report.errors import InputError
from vae_report.readers import discover


def series(frame, metric):
    part = frame[frame["metric"] == metric]
    return part["step"].to_numpy(), part["value"].to_numpy()


def write_lines(path, records, torn: str | None = None):
    with path.open("w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
        if torn is not None:
            handle.write(torn)


def loop_records(steps, counter="step", nested=False, wall=True):
    out = []
    for step in steps:
        record = {counter: step, "loss": 2.0 / (1 + step), "kl_loss": 10.0 + step / 100}
        if nested:
            record["logits"] = {"real": 0.1, "fake": -0.1}
        if wall:
            record["timestamp"] = 1.7e9 + step
        out.append(record)
    return out


@pytest.mark.parametrize("counter", ["step", "iter", "iteration", "global_step"])
def test_json_lines_any_counter_nested_flattened_and_wall_time(tmp_path, counter):
    steps = list(range(0, 500, 50))
    write_lines(tmp_path / "train_log.jsonl", loop_records(steps, counter, nested=True))
    logs = load_run(tmp_path)
    got, values = series(logs.frame, "total_loss")  # "loss" adopted as the total
    assert list(got) == steps and np.allclose(values, [2.0 / (1 + s) for s in steps])
    assert list(series(logs.frame, "kl_loss")[0]) == steps
    assert list(series(logs.frame, "logits_fake")[0]) == steps  # nested dicts flattened to a/b (logits/fake)
    walls = logs.frame.loc[logs.frame["metric"] == "kl_loss", "wall_time"].to_numpy()
    assert np.allclose(walls, [1.7e9 + s for s in steps])
    assert "timestamp" not in set(logs.frame["metric"]) and counter not in set(logs.frame["metric"])
    (source,) = logs.sources
    assert source.kind == "json" and any(counter in n for n in source.notes)


def test_epoch_only_counter_is_the_step_unit_and_said(tmp_path):
    write_lines(tmp_path / "history.jsonl", [{"epoch": e, "loss": 1 / e, "val_loss": 1.1 / e} for e in range(1, 30)])
    logs = load_run(tmp_path)
    assert list(series(logs.frame, "total_loss")[0]) == list(range(1, 30))
    assert list(series(logs.frame, "val/total_loss")[0]) == list(range(1, 30))
    assert any("steps are epochs" in n for n in logs.sources[0].notes)


@pytest.mark.parametrize("counter", ["total_iters", "global_iter", "n_iter", "iter_num", "train/step", None])
def test_an_epoch_repeated_over_records_is_no_counter(tmp_path, counter):
    """A loop that writes the epoch on every record (20 records an epoch): the step is its global counter under
    any usual name, else the per-epoch batch continued across epochs, else the records' order; never the epoch,
    which would keep one record an epoch and drop the rest as rewrites of one step."""
    records = []
    for i in range(200):
        record = {"epoch": i // 20, "rec_loss": 0.5 / (1 + i), "kl_loss": 10.0 + i}
        if counter == "train/step":  # nested under the training split: {"train": {"step": ...}}
            record["train"] = {"step": 50 * i}
        elif counter:
            record[counter] = 50 * i
        records.append(record)
    write_lines(tmp_path / "train_log.jsonl", records)
    logs = load_run(tmp_path)
    steps, values = series(logs.frame, "rec_loss")
    assert len(values) == 200 and np.allclose(values, [0.5 / (1 + i) for i in range(200)])
    assert list(steps) == ([50 * i for i in range(200)] if counter else list(range(200)))
    assert logs.counts == ("step" if counter else "record")
    assert counter is None or not {counter, counter.split("/")[-1]} & set(logs.frame["metric"])
    # the batch within its epoch beside the epoch: continued across epochs
    write_lines(tmp_path / "train_log.jsonl", [{"epoch": i // 20, "batch": i % 20, "rec_loss": 1.0 / (1 + i)}
                                                for i in range(200)])
    steps, values = series(load_run(tmp_path).frame, "rec_loss")
    assert list(steps) == list(range(200)) and len(values) == 200


def test_mmcv_log_json_meta_line_modes_and_iter_within_epoch(tmp_path):
    """mmcv's TextLoggerHook: the run's meta first, then train records whose iter restarts each epoch
    (by_epoch runner, 100 iterations an epoch, logged every 50), val records with mode "val"."""
    records = [{"env_info": "sys.platform: linux", "config": "model = dict(...)", "seed": 42}]
    for epoch in (1, 2, 3):
        for it in (50, 100):
            records.append({"mode": "train", "epoch": epoch, "iter": it, "lr": 1e-4, "memory": 3000,
                            "data_time": 0.01, "loss_rec": 0.5 / epoch, "loss": 0.6 / epoch, "time": 0.2})
        records.append({"mode": "val", "epoch": epoch, "iter": 20, "lr": 1e-4, "loss_rec": 0.55 / epoch})
    write_lines(tmp_path / "20260101_000000.log.json", records)
    logs = load_run(tmp_path)
    steps, values = series(logs.frame, "rec_loss")
    assert list(steps) == [50, 100, 150, 200, 250, 300]
    assert np.allclose(values, [0.5, 0.5, 0.25, 0.25, 0.5 / 3, 0.5 / 3])
    assert len(series(logs.frame, "val/rec_loss")[0]) == 3
    metrics = set(logs.frame["metric"])
    assert not metrics & {"seed", "memory", "data_time", "time", "iter", "epoch"}
    assert any("restarts at every epoch" in n for n in logs.sources[0].notes)


def test_detectron2_metrics_json_iteration_and_per_iteration_time(tmp_path):
    records = [{"data_time": 0.003, "eta_seconds": 100.0, "iteration": i, "loss_rec": 1 / (i + 1), "lr": 2e-4,
                "time": 0.41, "total_loss": 1.2 / (i + 1)} for i in range(19, 400, 20)]
    write_lines(tmp_path / "metrics.json", records)
    logs = load_run(tmp_path)
    assert list(series(logs.frame, "total_loss")[0]) == list(range(19, 400, 20))
    assert np.isnan(logs.frame["wall_time"]).all()  # "time" is seconds per iteration, not a clock
    assert "time" not in set(logs.frame["metric"])


def test_hf_trainer_state_log_history_with_eval_and_summary(tmp_path):
    history = [{"epoch": s / 100, "grad_norm": 1.0, "learning_rate": 5e-5, "loss": 1 / s, "step": s}
               for s in range(10, 210, 10)]
    history += [{"epoch": 1.0, "eval_loss": 0.3, "eval_runtime": 1.2, "step": 100},
                {"epoch": 2.0, "eval_loss": 0.2, "eval_runtime": 1.1, "step": 200},
                {"epoch": 2.0, "step": 200, "total_flos": 1e12, "train_loss": 0.05, "train_runtime": 50.0}]
    (tmp_path / "checkpoint-200").mkdir()
    (tmp_path / "checkpoint-200" / "trainer_state.json").write_text(json.dumps(
        {"best_metric": None, "epoch": 2.0, "global_step": 200, "log_history": history, "max_steps": 400}, indent=2))
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 64, "latent_channels": 4}))  # a model config
    logs = load_run(tmp_path)
    steps, values = series(logs.frame, "total_loss")
    assert list(steps) == list(range(10, 210, 10)) and np.isclose(values[-1], 1 / 200)
    assert list(series(logs.frame, "val/total_loss")[0]) == [100, 200]
    assert logs.text_total_steps == 400
    assert [s.path for s in logs.sources] == ["checkpoint-200/trainer_state.json"]


def test_json_lists_per_key_index_or_step_list(tmp_path):
    (tmp_path / "losses.json").write_text(json.dumps({"loss": [1 / (i + 1) for i in range(50)],
                                                      "kl": [float(i) for i in range(50)],
                                                      "val_loss": [0.5, 0.4, 0.3]}))
    logs = load_run(tmp_path)
    assert list(series(logs.frame, "kl_loss")[0]) == list(range(50))
    assert any("index" in n for n in logs.sources[0].notes)
    other = tmp_path / "other"
    other.mkdir()
    (other / "history.json").write_text(json.dumps({"step": list(range(0, 1000, 100)),
                                                    "loss": [math.exp(-i) for i in range(10)]}))
    assert list(series(load_run(other).frame, "total_loss")[0]) == list(range(0, 1000, 100))
    assert load_run(other).counts == "step"


def test_json_lists_count_epochs_for_a_keras_history_and_records_otherwise(tmp_path):
    from vae_report import analyze_run

    # json.dump(model.fit(...).history): one value an epoch, each metric beside its val_ list of the same length
    history = {"loss": [1 / (e + 1) for e in range(30)], "kl_loss": [2.0 + e / 10 for e in range(30)],
               "reconstruction_loss": [0.5 / (e + 1) for e in range(30)]}
    history |= {f"val_{k}": [v * 1.1 for v in values] for k, values in history.items()}
    (tmp_path / "history.json").write_text(json.dumps(history))
    a = analyze_run(tmp_path)
    assert a.schedule.counts == "epoch"
    notes = " ".join(load_run(tmp_path).sources[0].notes)
    assert "30 records, epoch: list index" in notes and "a Keras History" in notes
    assert all("step " not in f.message for f in a.findings), [f.message for f in a.findings]
    # lists of per-iteration values without a step list or val_ partners: positions, never called steps
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "losses.json").write_text(json.dumps({"loss": [1 / (i + 1) for i in range(200)],
                                                   "kl": [float(i) for i in range(200)]}))
    logs = load_run(plain)
    assert logs.counts == "record" and "counted by position (no counter)" in " ".join(logs.sources[0].notes)


def test_json_lines_in_a_log_file_found_by_discovery(tmp_path):
    write_lines(tmp_path / "train.log", loop_records(range(0, 100, 10)))
    assert discover(tmp_path)["json"] == [tmp_path / "train.log"]
    assert list(series(load_run(tmp_path).frame, "kl_loss")[0]) == list(range(0, 100, 10))


def test_torn_last_line_dropped_and_counted(tmp_path):
    write_lines(tmp_path / "log.jsonl", loop_records(range(0, 100, 10)), torn='{"step": 100, "loss": 0.0')
    logs = load_run(tmp_path)
    assert series(logs.frame, "kl_loss")[0].max() == 90
    assert any("cut mid-write" in n for n in logs.sources[0].notes)


def test_corrupt_json_log_refused_naming_file_and_lines(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 0, "loss": 1.0}\n{"step": 1, "loss": 0.9}\n' + "garbage ### line\n" * 5
                    + '{"step": 2, "loss": 0.8}\n')
    with pytest.raises(InputError) as info:
        load_run(path)
    message = str(info.value)
    assert str(path) in message and "line 3: garbage ### line" in message and "\n" not in message
    result = subprocess.run([sys.executable, "-m", "vae_report.cli", "analyze", str(path), "--out",
                             str(tmp_path / "r.md")], capture_output=True, text=True)
    assert result.returncode == 2 and "log.jsonl" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r.md").exists()


def test_config_json_alone_is_not_a_log(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model": {"kl_weight": 1e-6, "disc_start": 5000}}))
    assert not discover(tmp_path)["json"]


def test_wandb_history_jsonl_underscored_keys_are_bookkeeping(tmp_path):
    write_lines(tmp_path / "wandb-history.jsonl", [
        {"rec_loss": 1 / (s + 1), "_step": s, "_runtime": 0.5 * s, "_timestamp": 1.7e9 + s,
         "_wandb": {"runtime": int(s)}} for s in range(20)])
    frame = load_run(tmp_path).frame
    assert set(frame["metric"]) == {"rec_loss"} and list(series(frame, "rec_loss")[0]) == list(range(20))


def test_wandb_files_config_yaml_is_read_through_its_value_wrappers(tmp_path):
    """W&B's files/config.yaml wraps every top-level key as {desc, value}: the schedule is read from the values
    (RadioDiff's layout, its disc_start, kl_weight and total), not lost under a "value" level."""
    import yaml

    from vae_report import analyze_run

    files = tmp_path / "wandb" / "offline-run-20261120_080000-ab12cd34" / "files"
    files.mkdir(parents=True)
    config = {"model": {"embed_dim": 3, "lossconfig": {"disc_start": 1_001, "kl_weight": 1e-6, "disc_weight": 0.5}},
              "trainer": {"lr": 5e-6, "min_lr": 5e-7, "train_num_steps": 5_000, "log_freq": 10}}
    wrapped = {"wandb_version": 1, "_wandb": {"desc": None, "value": {"cli_version": "0.16.6"}},
               **{k: {"desc": None, "value": v} for k, v in config.items()}}
    (files / "config.yaml").write_text(yaml.safe_dump(wrapped))
    write_lines(files / "wandb-history.jsonl", [{"train/rec_loss": 1 / (s + 1), "_step": s, "_timestamp": 1.7e9 + s}
                                               for s in range(0, 3_000, 10)])
    s = analyze_run(tmp_path).schedule
    assert (s.disc_start, s.kl_weight, s.total_steps, s.layout) == (1_001, 1e-6, 5_000, "radiodiff")


def test_iter_within_epoch_logged_short_of_the_epoch_end_is_continued_by_the_interval(tmp_path):
    """An epoch of 100 batches logged every 50 from batch 25: the largest iter seen (75) rounded up to the
    logging interval is the epoch's length."""
    write_lines(tmp_path / "log.json", [{"mode": "train", "epoch": e, "iter": i, "loss_rec": 1.0 / (e * i)}
                                        for e in (1, 2, 3) for i in (25, 75)])
    assert list(series(load_run(tmp_path).frame, "rec_loss")[0]) == [25, 75, 125, 175, 225, 275]


@pytest.mark.parametrize("group", ["losses", "loss", "metrics", "scalars", "stats", "logs"])
def test_nested_grouping_level_is_no_part_of_the_metric_name(tmp_path, group):
    """``{"losses": {"rec": ..}}``: the grouping word is not a prefix, so rec/kl reach the names the checks use;
    a split level (``train``, ``val``, ``val_metrics``) keeps its meaning."""
    steps = list(range(0, 400, 20))
    write_lines(tmp_path / "metrics.jsonl", [
        {"step": s, group: {"rec": 0.1 - s / 1e5, "kl": 10.0}, "val_metrics": {"rec_loss": 0.2}} for s in steps])
    names = set(load_run(tmp_path).frame["metric"])
    assert {"rec_loss", "kl_loss", "val/rec_loss"} <= names, names
    assert not any(n.startswith(group + "/") for n in names), names


def test_sgm_nested_loss_names_and_split_suffix_tags_are_unchanged(tmp_path):
    steps = list(range(0, 400, 20))
    write_lines(tmp_path / "metrics.jsonl", [
        {"step": s, "train": {"loss": {"rec": 0.1, "g": 0.2}, "scalars": {"logvar": 0.0}},
         "val": {"loss": {"rec": 0.2}}} for s in steps])
    names = set(load_run(tmp_path).frame["metric"])
    assert {"rec_loss", "g_loss", "logvar", "val/rec_loss"} <= names, names


@pytest.mark.parametrize(("word", "expected"), [("nan", math.nan), ("NaN", math.nan), ("inf", math.inf),
                                                ("-inf", -math.inf), ("Infinity", math.inf), ("-Infinity", -math.inf)])
def test_non_finite_values_written_as_text_are_those_numbers(tmp_path, word, expected):
    # a logger that formats its numbers with str() before json.dumps writes "nan", not NaN
    records = [{"step": s, "rec_loss": 0.5 - s * 1e-4} for s in range(0, 1000, 10)]
    records += [{"step": s, "rec_loss": word} for s in range(1000, 1500, 10)]
    write_lines(tmp_path / "log.jsonl", records)
    logs = load_run(tmp_path)
    steps, values = series(logs.frame, "rec_loss")
    assert len(steps) == 150 and steps[-1] == 1490
    assert np.array_equal(values[100:], np.full(50, expected), equal_nan=True)
    assert any("50 values written as text" in n for n in logs.sources[0].notes)


def test_text_nan_makes_the_non_finite_rule_fire(tmp_path):
    from vae_report import analyze_run

    records = [{"step": s, "rec_loss": 0.3 * math.exp(-s / 2000) + 0.03, "kl_loss": 100.0 + s / 100}
               for s in range(0, 2000, 10)]
    records += [{"step": s, "rec_loss": "nan", "kl_loss": "nan"} for s in range(2000, 3000, 10)]
    write_lines(tmp_path / "log.jsonl", records)
    analysis = analyze_run(tmp_path)
    fired = [f for f in analysis.findings if f.rule == "non-finite" and f.severity == "error"]
    assert fired and fired[0].step == 2000


def test_null_is_nan_in_a_key_logged_every_record_and_no_point_in_a_sparse_one(tmp_path):
    # pandas' to_json writes NaN as null; a table with validation every 100 steps writes null in between
    pd = pytest.importorskip("pandas")
    steps = np.arange(0, 2000, 10)
    rec = np.where(steps < 1500, 0.5 - steps * 1e-4, np.nan)
    val = np.where(steps % 100 == 90, 0.6 - steps * 1e-4, np.nan)
    pd.DataFrame({"step": steps, "rec_loss": rec, "val_rec_loss": val}).to_json(
        tmp_path / "log.jsonl", orient="records", lines=True)
    assert '"rec_loss":null' in (tmp_path / "log.jsonl").read_text()
    logs = load_run(tmp_path)
    rec_steps, rec_values = series(logs.frame, "rec_loss")
    assert len(rec_steps) == 200 and np.isnan(rec_values[150:]).all() and np.isfinite(rec_values[:150]).all()
    val_steps, val_values = series(logs.frame, "val/rec_loss")
    assert val_steps.tolist() == list(range(90, 2000, 100)) and np.isfinite(val_values).all()
    assert any("50 nulls in keys logged every record read as NaN" in n for n in logs.sources[0].notes)


def test_a_group_named_after_the_model_part_is_no_part_of_the_metric_s_name(tmp_path):
    # eval12 r5_disc_2ln2_constant: {"disc": {"disc_loss": ..., "logits_real": ...}} was read as disc/disc_loss,
    # and a frozen discriminator got "disc_loss (not logged)" and an all-clear
    with (tmp_path / "log.jsonl").open("w") as out:
        for step in range(0, 400, 10):
            record = {"iteration": step, "loss": {"rec_loss": 1 / (step + 1), "total_loss": 2 / (step + 1)},
                      "disc": {"disc_loss": 1.386, "logits_real": 0.0, "logits_fake": 0.0},
                      "discriminator": {"loss": 1.386}, "generator": {"loss": 0.7}}
            out.write(json.dumps(record) + "\n")
    names = set(load_run(tmp_path).frame["metric"])
    assert {"disc_loss", "logits_real", "logits_fake", "rec_loss", "total_loss"} <= names
    assert not any(n.startswith("disc/") for n in names)
    # the generator's "loss" may be its whole objective or its adversarial term: kept apart, never g_loss
    assert "g_loss" not in names and any(n.startswith("generator/") for n in names)


def test_records_with_metrics_but_an_impossible_step_are_dropped_points_not_run_metadata(tmp_path):
    # eval14 a45: steps NaN, Infinity and "2500" were "3 records without step skipped (run metadata)", and 2000.5
    # was read as step 2000; a step missing where the others carry one is no better
    bad = {500: math.nan, 1000: math.inf, 1500: -1, 2000: 2000.5, 2500: "2500", 3000: None}
    with (tmp_path / "metrics.jsonl").open("w") as handle:
        for step in range(0, 4000, 10):
            record = {"step": bad.get(step, step), "rec_loss": 1 / (1 + step), "kl_loss": 100.0 + step}
            if bad.get(step, 0) is None:
                del record["step"]
            handle.write(json.dumps(record) + "\n")
    logs = load_run(tmp_path)
    steps, values = series(logs.frame, "rec_loss")
    assert list(steps) == [s for s in range(0, 4000, 10) if s not in bad]
    np.testing.assert_allclose(values, [1 / (1 + s) for s in steps])
    notes = logs.sources[0].notes
    (dropped,) = [n for n in notes if "impossible step" in n]
    assert dropped.startswith("12 points with an impossible step dropped: 6 records with metric values whose step "
                              "is NaN, Infinity, -1, 2000.5, \"2500\" or missing"), notes
    assert not any("metadata" in n for n in notes), notes


def test_records_without_a_step_or_a_metric_are_said_as_what_they_are(tmp_path):
    # eval14 a38: a json formatter's program messages beside the metric records were "run metadata"
    path = tmp_path / "train.jsonl"
    handler = logging.FileHandler(path)
    handler.setFormatter(_JsonFormatter())
    logger = logging.getLogger("test_read_json.messages")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.info("starting training on 1 GPU")
    for step in range(0, 500, 10):
        logger.info("metrics", {"step": step, "rec_loss": 1 / (1 + step), "kl_loss": 10.0 + step})
        if step and step % 200 == 0:
            logger.info("saved checkpoint at step %d", step)
    handler.close()
    logger.removeHandler(handler)
    notes = load_run(tmp_path).sources[0].notes
    assert '3 program messages without step or a metric skipped (first: "starting training on 1 GPU")' in notes, notes
    assert not any("metadata" in n or "impossible step" in n for n in notes), notes
    # mmcv's first line is the run's metadata, and said as such
    records = [{"env_info": "sys.platform: linux", "config": "model = dict(...)", "seed": 42}]
    records += [{"iter": i, "loss_rec": 0.5 / i} for i in range(10, 200, 10)]
    write_lines(tmp_path / "train.jsonl", records)
    notes = load_run(tmp_path).sources[0].notes
    assert "1 record of run metadata (keys env_info, config, seed) skipped" in notes, notes


class _JsonFormatter(logging.Formatter):
    """A structured logger's formatter: messages as {"time", "level", "msg"}, metrics passed as a dict."""

    def format(self, record):
        if isinstance(record.args, dict) and record.args:
            return json.dumps({"time": record.created, **record.args})
        return json.dumps({"time": record.created, "level": record.levelname, "msg": record.getMessage()})
