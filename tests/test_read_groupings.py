"""A known metric under a grouping level of the writer's own (a JSON log's ``{"train": {"gan": {...}}}``,
``SummaryWriter.add_scalars("gan", {...})``) is that metric; a split's level (``val/``) keeps its own; names that
would read as one metric and differ are kept apart, and the report never calls such a metric "not logged"."""

from __future__ import annotations

import json

import numpy as np
import yaml
from writers import radiodiff_config, radiodiff_curves

from vae_report import analyze_run, load_run
from vae_report.narrative import not_examined

GAN = ("g_loss", "disc_loss", "d_weight", "disc_factor", "logits_real", "logits_fake")


def _write_nested(folder, curves, gan_group="gan"):
    """JSON lines as a loop writes them with json.dumps: the losses and the GAN terms in groups of their own under
    ``train``, a validation record every 500 steps."""
    folder.mkdir(exist_ok=True)
    with (folder / "metrics.jsonl").open("w") as handle:
        for i, step in enumerate(curves.steps.tolist()):
            if step % 50:
                continue
            v = {k: float(a[i]) for k, a in curves.values.items()}
            handle.write(json.dumps({"step": step, "train": {
                "losses": {"rec_loss": v["rec_loss"], "kl_loss": v["kl_loss"], "nll_loss": v["nll_loss"],
                           "total_loss": v["total_loss"]},
                gan_group: {k: v[k] for k in GAN}, "optim": {"lr": v["lr"]}}}) + "\n")
            if step % 500 == 0:
                handle.write(json.dumps({"step": step, "val": {"rec_loss": 2 * v["rec_loss"]}}) + "\n")
    (folder / "config.yaml").write_text(yaml.safe_dump(radiodiff_config(disc_start=1001, total_steps=5000)))
    return folder


def test_gan_terms_nested_under_a_group_of_the_writer_s_own_are_read_as_their_metrics(tmp_path):
    # eval14 a08: {"train": {"gan": {"d_weight": ..}}} was read as gan/d_weight: every GAN check skipped and the
    # bookkeeping said "d_weight, disc_factor and g_loss not logged" beside a statistics row for gan/d_weight
    curves = radiodiff_curves(3000, disc_start=1001, total_steps=5000)
    a = analyze_run(_write_nested(tmp_path / "run", curves))
    names = set(a.metrics)
    assert set(GAN) <= names and not any(n.startswith("gan/") for n in names), names
    assert {"val/rec_loss", "lr"} <= names  # a split's level is no grouping: validation stays apart
    every = np.arange(0, 3001, 50)
    d = a.metrics["d_weight"]
    assert d.count == len(every) and np.isclose(d.latest, curves.values["d_weight"][-1])
    gan_skips = [f for f in a.findings if f.skipped and f.numbers.get("missing")]
    assert not gan_skips, [f.message for f in gan_skips]
    (book,) = [f for f in a.findings if f.rule == "loss-bookkeeping"]
    assert "not logged" not in book.message and "d_weight x disc_factor x g_loss holds" in book.message


def test_add_scalars_main_tag_of_the_writer_s_own_gives_its_keys_their_roles(tmp_path):
    # eval14 a41: add_scalars("gan", {...}) writes gan_d_weight/, gan_g_loss/ ...: read as gan/d_weight, no role
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    steps = range(0, 1000, 20)
    for step in steps:
        writer.add_scalars("gan", {"d_weight": 800.0 + step, "g_loss": -0.01 * step, "adv_loss": 0.5}, step,
                           walltime=1.7e9 + step)
        writer.add_scalars("val", {"rec_loss": 0.25}, step, walltime=1.7e9 + step)
        writer.add_scalar("train/rec_loss", 0.5 / (1 + step), step, walltime=1.7e9 + step)
    writer.close()
    frame = load_run(tmp_path).frame
    names = set(frame["metric"].cat.categories)
    assert {"d_weight", "g_loss", "rec_loss", "val/rec_loss"} <= names, names
    assert not any(n.startswith("gan/") and n != "gan/adv_loss" for n in names), names
    d = frame[frame["metric"] == "d_weight"].sort_values("step")
    np.testing.assert_allclose(d["value"].to_numpy(), [800.0 + s for s in steps])
    # an alias under the same level is kept under its name where the run logs g_loss itself
    assert "gan/adv_loss" in names


def test_an_alias_under_a_group_of_the_writer_s_own_is_adopted(tmp_path):
    with (tmp_path / "log.jsonl").open("w") as handle:
        for step in range(0, 500, 10):
            handle.write(json.dumps({"step": step, "terms": {"rec_loss": 1.0 / (1 + step)},
                                     "adversarial": {"adv_loss": 0.1 * step, "d_loss": 0.7}}) + "\n")
    logs = load_run(tmp_path)
    names = set(logs.frame["metric"].cat.categories)
    assert {"rec_loss", "g_loss", "disc_loss"} <= names, names


def test_two_groups_that_would_read_as_one_metric_and_differ_are_kept_apart_and_never_called_unlogged(tmp_path):
    # two discriminators, each with its own adaptive weight: neither is "the" d_weight, and the report says the
    # run logs d_weight under those names rather than "not logged"
    curves = radiodiff_curves(3000, disc_start=1001, total_steps=5000)
    v = curves.values
    v["g_loss"] *= 10  # an adversarial term the sum misses beyond the bookkeeping's tolerance
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"] + v["d_weight"] * v["disc_factor"] * v["g_loss"]
    folder = tmp_path / "run"
    folder.mkdir()
    with (folder / "metrics.jsonl").open("w") as handle:
        for i, step in enumerate(curves.steps.tolist()):
            if step % 50:
                continue
            v = {k: float(a[i]) for k, a in curves.values.items()}
            handle.write(json.dumps({"step": step, **{k: v[k] for k in ("rec_loss", "kl_loss", "nll_loss",
                                                                        "total_loss", "disc_factor", "g_loss",
                                                                        "disc_loss")},
                                     "patch_d": {"d_weight": v["d_weight"]},
                                     "global_d": {"d_weight": v["d_weight"] / 2}}) + "\n")
    (folder / "config.yaml").write_text(yaml.safe_dump(radiodiff_config(disc_start=1001, total_steps=5000)))
    a = analyze_run(folder)
    assert "d_weight" not in a.metrics and {"patch_d/d_weight", "global_d/d_weight"} <= set(a.metrics)
    notes = " ".join(n for s in a.sources for n in s.notes)
    assert "would both read as d_weight" in notes and "neither of them taken as d_weight" in notes, notes
    (pinned,) = [f for f in a.findings if f.rule == "d-weight-pinned"]
    assert pinned.skipped and "d_weight logged only as" in pinned.message, pinned.message
    assert "global_d/d_weight" in pinned.message and "patch_d/d_weight" in pinned.message
    (book,) = [f for f in a.findings if f.rule == "loss-bookkeeping"]
    assert "(d_weight logged only as global_d/d_weight and patch_d/d_weight" in book.message, book.message
    assert "log one series named d_weight" in book.message and "d_weight not logged" not in book.message
    missed = " ".join(not_examined(a))
    assert "for want of d_weight (logged only as global_d/d_weight and patch_d/d_weight" in missed, missed
    assert "d_weight (not logged)" not in missed


def test_two_add_scalars_groups_with_the_same_keys_are_two_series_not_two_processes(tmp_path):
    """eval15 d_addscalars_collision: add_scalars("patch", {...}) and add_scalars("global", {...}) with the same keys
    (two discriminators): each key a file of its own, so their tags were compared only within a file, found
    nothing shared, merged into one d_weight, and read as "two processes wrote into this folder at once"."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    for step in range(0, 1000, 20):
        writer.add_scalars("patch", {"d_weight": 800.0 + step, "g_loss": -0.01 * step}, step, walltime=1.7e9 + step)
        writer.add_scalars("global", {"d_weight": 300.0 - 0.1 * step, "g_loss": 0.02 * step}, step,
                           walltime=1.7e9 + step)
        writer.add_scalar("train/rec_loss", 0.5 / (1 + step), step, walltime=1.7e9 + step)
    writer.close()
    logs = load_run(tmp_path)
    names = set(logs.frame["metric"].cat.categories)
    assert {"patch/d_weight", "global/d_weight"} <= names and "d_weight" not in names, names
    assert not logs.restarts and not [n for n in logs.notes if "two processes" in n], logs.notes
