"""The schedule from both config layouts, the text log's repr, and the command line."""

import pytest
import yaml
from writers import radiodiff_config

from vae_report.errors import ConfigError
from vae_report.schedule import Schedule, find_config, load_config, schedule_from_config

LDM = """
model:
  base_learning_rate: 4.5e-6
  target: ldm.models.autoencoder.AutoencoderKL
  params:
    monitor: "val/rec_loss"
    embed_dim: 3
    lossconfig:
      target: ldm.modules.losses.LPIPSWithDiscriminator
      params:
        disc_start: 50001
        kl_weight: 0.000001
        disc_weight: 0.5
    ddconfig: {double_z: true, z_channels: 3, resolution: 256, in_channels: 3, out_ch: 3, ch: 128,
               ch_mult: [1, 2, 4], num_res_blocks: 2, attn_resolutions: [], dropout: 0.0}
lightning:
  trainer:
    benchmark: True
    accumulate_grad_batches: 2
"""


def test_radiodiff_layout(tmp_path):
    path = tmp_path / "first_radio.yaml"
    path.write_text(yaml.safe_dump(radiodiff_config()))
    s = schedule_from_config(load_config(path), str(path))
    assert (s.disc_start, s.kl_weight, s.disc_weight, s.total_steps) == (50_001, 1e-6, 0.5, 150_000)
    assert (s.lr, s.min_lr, s.log_every, s.checkpoint_every) == (5e-6, 5e-7, 100, 5000)
    assert s.layout == "radiodiff" and s.pixels_per_sample == 102_400
    assert s.origins["disc_start"] == str(path)
    assert s.origins["disc_factor"] == "LPIPSWithDiscriminator default"


def test_ldm_layout_has_no_total_steps(tmp_path):
    path = tmp_path / "autoencoder_kl_64x64x3.yaml"
    path.write_text(LDM)
    s = schedule_from_config(load_config(path), str(path))
    assert (s.disc_start, s.kl_weight, s.lr, s.total_steps) == (50_001, 1e-6, 4.5e-6, None)
    assert s.layout == "ldm" and s.pixels_per_sample == 3 * 256 * 256


def test_disc_start_boundary():
    s = Schedule(disc_start=50_001, total_steps=150_000)
    assert s.phase(50_000) == "before discriminator" and not s.disc_active(50_000)
    assert s.phase(50_001) == "adversarial" and s.disc_active(50_001)
    assert s.next_milestone(18_300).step == 50_001
    assert s.next_milestone(50_001).name == "end of training"
    assert s.progress(18_300) == pytest.approx(0.122)


def test_overrides_record_their_origin():
    s = Schedule(disc_start=50_001).with_overrides("command line", disc_start=100, kl_weight=None)
    assert s.disc_start == 100 and s.origins == {"disc_start": "command line"}


def test_unknown_layout_and_bad_yaml_are_config_errors(tmp_path):
    unknown = tmp_path / "other.yaml"
    unknown.write_text("model:\n  hidden: 3\n")
    with pytest.raises(ConfigError, match="unknown config layout"):
        schedule_from_config(load_config(unknown), str(unknown))
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_string_numbers_and_bad_types(tmp_path):
    config = radiodiff_config()
    config["model"]["lossconfig"]["kl_weight"] = "1e-6"  # YAML 1.1 reads this as a string
    assert schedule_from_config(config, "x").kl_weight == 1e-6
    config["model"]["lossconfig"]["disc_start"] = "soon"
    with pytest.raises(ConfigError, match="disc_start"):
        schedule_from_config(config, "x")


def test_find_config_skips_lightning_hparams(tmp_path):
    (tmp_path / "hparams.yaml").write_text("{}\n")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "2026-project.yaml").write_text(LDM)
    path, _, layout = find_config(tmp_path)
    assert path.name == "2026-project.yaml" and layout == "ldm"


def test_a_zero_interval_means_never_not_a_bad_config():
    from writers import radiodiff_config

    from vae_report.schedule import schedule_from_config

    config = radiodiff_config()
    config["trainer"].update(save_and_sample_every=0, val_every=0)
    s = schedule_from_config(config, "config.yaml")
    assert s.checkpoint_every is None and s.val_every is None


def test_after_a_resume_the_newest_project_config_and_its_own_lightning_file_are_used(tmp_path):
    configs = tmp_path / "configs"
    configs.mkdir()
    project = LDM.split("lightning:")[0]
    (configs / "2026-11-01T09-00-00-project.yaml").write_text(project)
    (configs / "2026-11-01T09-00-00-lightning.yaml").write_text("lightning:\n  trainer:\n    max_steps: 1000\n")
    (configs / "2026-11-20T18-30-00-project.yaml").write_text(project.replace("50001", "2001"))
    (configs / "2026-11-20T18-30-00-lightning.yaml").write_text("lightning:\n  trainer:\n    max_steps: 9000\n")
    notes = []
    path, config, layout = find_config(tmp_path, notes)
    assert path.name == "2026-11-20T18-30-00-project.yaml" and layout == "ldm"
    assert any("2026-11-01T09-00-00-project.yaml" in n and "disc_start 50001 -> 2001" in n for n in notes)
    s = schedule_from_config(config, str(path), layout)
    assert (s.disc_start, s.total_steps) == (2001, 9000)


def test_a_restarted_radiodiff_run_takes_its_schedule_from_the_newest_text_log(tmp_path):
    from writers import radiodiff_curves, write_radiodiff_text_log

    from vae_report import analyze_run

    old = radiodiff_curves(3000, disc_start=1501, total_steps=3000)
    new = radiodiff_curves(3000, disc_start=1001, total_steps=3000)
    write_radiodiff_text_log(tmp_path, old, radiodiff_config(disc_start=1501, total_steps=3000), 3000,
                             name="2026-11-20-09-00_.log")
    write_radiodiff_text_log(tmp_path, new, radiodiff_config(disc_start=1001, total_steps=3000), 3000,
                             name="2026-11-21-10-30_.log", start_wall=1.8e9)
    a = analyze_run(tmp_path)
    assert a.schedule.disc_start == 1001
    assert not [f for f in a.findings if f.rule == "disc-active-before-start" and f.severity != "ok"]


def test_another_trainers_json_config_gives_its_schedule_and_says_where_each_value_was(tmp_path):
    import json

    from typer.testing import CliRunner
    from writers import write_scalars

    from vae_report import analyze_run
    from vae_report.cli import app

    config = {"seed": 0, "train": {"disc_start": 500, "max_steps": 2000, "learning_rate": 2e-4, "log_every": 10,
                                   "loss_weights": {"commit": 1.0, "gan": 0.1}},
              "model": {"codebook_size": 1024, "latent_dim": 64},
              "eval": {"disc_weight": 0.5}, "ema": {"disc_weight": 0.9}}  # the same key twice, two values
    (tmp_path / "train_config.json").write_text(json.dumps(config, indent="\t"))  # tabs: valid JSON, not YAML
    write_scalars(tmp_path, [(s, name, v) for s in range(0, 1000, 10)
                             for name, v in (("rec_loss", 1 / (1 + s / 100)), ("disc_loss", 1.0 if s >= 500 else 0.0),
                                             ("quant_loss", 0.2), ("total_loss", 3 / (1 + s / 100) + 0.7))])
    a = analyze_run(tmp_path)
    s = a.schedule
    assert (s.layout, s.disc_start, s.total_steps, s.lr, s.log_every, s.regularizer) == \
        ("flat", 500, 2000, 2e-4, 10, "vq")
    assert s.disc_weight is None and s.kl_weight is None  # ambiguous, and never LDM's defaults for another trainer
    assert s.origins["disc_start"] == "train_config.json: train.disc_start"
    assert a.phase == "adversarial" and a.progress == pytest.approx(990 / 2000, abs=0.01)
    # its total is not LDM's sum (here 3 x rec + 0.7): not checked against that formula, not decomposed by it
    assert not [f for f in a.active_findings() if f.rule == "loss-bookkeeping"] and a.decomposition is None
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--config", str(tmp_path / "train_config.json"),
                                      "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 0, result.output
    (tmp_path / "train_config.json").write_text(json.dumps({"seed": 0, "model": {"width": 3}}))  # no loss setting
    assert analyze_run(tmp_path).schedule.layout == "none"


def test_the_config_a_run_printed_at_launch_wins_over_a_yaml_edited_since(tmp_path):
    from writers import write_radiodiff_run

    from vae_report import analyze_run

    write_radiodiff_run(tmp_path, last_step=40_000, disc_start=30_001, total_steps=150_000)
    edited = yaml.safe_load((tmp_path / "first_radio.yaml").read_text())
    edited["model"]["lossconfig"]["disc_start"] = 50_001  # changed for the next run, after this one started
    (tmp_path / "first_radio.yaml").write_text(yaml.safe_dump(edited))
    a = analyze_run(tmp_path)
    assert a.schedule.disc_start == 30_001 and a.status == "ok", [f.message for f in a.active_findings()]
    assert any("first_radio.yaml differs from the config the run printed" in n and "disc_start 50,001" in n
               for n in a.merge_notes)


@pytest.mark.parametrize("target", ["torch.nn.Identity", "taming.modules.losses.vqperceptual.DummyLoss",
                                    "mypackage.losses.MyLoss"])
def test_a_loss_we_do_not_know_gets_no_invented_default(target):
    """LPIPSWithDiscriminator's signature defaults (kl_weight 1.0, disc_weight 1.0, hinge) belong to it and its
    VQ/sgm siblings: another loss class gets only what its config states."""
    config = yaml.safe_load(LDM)
    loss = config["model"]["params"]["lossconfig"]
    loss["target"] = target
    del loss["params"]["kl_weight"], loss["params"]["disc_weight"]
    s = schedule_from_config(config, "config.yaml")
    assert s.loss_class == target.rsplit(".", 1)[-1]
    assert (s.kl_weight, s.disc_weight, s.disc_factor, s.disc_loss) == (None, None, None, None)
    assert not [o for o in s.origins.values() if "default" in o]
    assert s.disc_start == 50_001  # what it states is read
    loss["target"] = "ldm.modules.losses.LPIPSWithDiscriminator"  # the class whose defaults they are
    s = schedule_from_config(config, "config.yaml")
    assert (s.kl_weight, s.disc_weight) == (1.0, 1.0) and s.origins["kl_weight"] == "LPIPSWithDiscriminator default"


@pytest.mark.parametrize("name, total_key", [("args.json", "max_train_steps"), ("config.yaml", "num_training_steps")])
def test_a_diffusers_style_training_args_file_gives_the_total_and_its_lr_plan(tmp_path, name, total_key):
    """diffusers' train_*.py dumps its argparse args (max_train_steps, lr_scheduler, lr_warmup_steps, no loss
    weight): found in the run folder, its total is the run's and its scheduler the lr's."""
    import argparse
    import json

    parser = argparse.ArgumentParser()
    parser.add_argument("--train_batch_size", type=int, default=8)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=4)
    parser.add_argument(f"--{total_key}", type=int, default=None)
    parser.add_argument("--num_train_epochs", type=int, default=100)
    parser.add_argument("--learning_rate", type=float, default=1e-4)
    parser.add_argument("--lr_scheduler", default="constant")
    parser.add_argument("--lr_warmup_steps", type=int, default=500)
    args = vars(parser.parse_args([f"--{total_key}", "20000", "--lr_scheduler", "cosine"]))
    text = json.dumps(args, indent=2) if name.endswith(".json") else yaml.safe_dump(args)
    (tmp_path / name).write_text(text)
    path, config, layout = find_config(tmp_path)
    s = schedule_from_config(config, str(path), layout)
    assert (path.name, s.total_steps, s.lr) == (name, 20000, 1e-4)
    assert total_key in s.origins["total_steps"]
    assert (s.lr_plan.kind, s.lr_plan.warmup) == ("cosine", 500)
