"""Another experiment's logs in a sub-folder of a run are left out of the merge and said; a resume or a restart
of the run itself in a sub-folder is still merged (TensorBoard's rule)."""

import csv

import numpy as np
from writers import write_scalars

from vae_report import analyze_run
from vae_report.readers import load_run


def _points(steps, level: float = 1.0, kl: float = 1.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = []
    for s in steps:
        noise = 1 + 0.02 * rng.standard_normal()
        rec = level * (0.03 + 0.3 * np.exp(-s / 1500)) * noise
        out += [(int(s), "train/rec_loss", rec), (int(s), "train/kl_loss", kl * (2000 + s / 10) * noise),
                (int(s), "train/total_loss", rec * 100 + 1e-6 * kl * (2000 + s / 10))]
    return out


def _rec(frame):
    part = frame[frame["metric"] == "rec_loss"]
    return part["step"].to_numpy(), part["value"].to_numpy()


def test_another_experiment_in_a_sub_folder_is_not_merged(tmp_path):
    # the run: 0..9,950 from wall 1.7e9; a debug run at other levels, started while the run was at step 4,000
    write_scalars(tmp_path, _points(range(0, 10_000, 50)), start_wall=1.7e9, seconds_per_step=1.0)
    write_scalars(tmp_path / "debug_lr1e-4", _points(range(0, 2_000, 50), level=1.6, kl=0.3, seed=1),
                  start_wall=1.7e9 + 4_000, seconds_per_step=1.0)
    logs = load_run(tmp_path)
    steps, values = _rec(logs.frame)
    assert steps[-1] == 9_950 and len(steps) == 200
    assert abs(values[0] - 0.33) < 0.03  # the run's own start, not the debug run's 0.53
    assert any("debug_lr1e-4/" in n and "another experiment, not merged" in n and "starts again at step 0" in n
               for n in logs.notes), logs.notes
    analysis = analyze_run(tmp_path, total_steps=20_000)
    rules = {f.rule for f in analysis.findings if f.severity in ("warning", "error")}
    assert not rules & {"loss-stopped", "liveness", "resumes"}, rules


def test_a_restart_of_the_run_in_a_sub_folder_is_merged(tmp_path):
    # the run stopped at 6,000; a restart from scratch (same levels, other noise) written after it
    write_scalars(tmp_path, _points(range(0, 6_000, 50)), start_wall=1.7e9, seconds_per_step=1.0)
    write_scalars(tmp_path / "restart", _points(range(0, 9_000, 50), seed=2), start_wall=1.7e9 + 7_000,
                  seconds_per_step=1.0)
    logs = load_run(tmp_path)
    steps, _ = _rec(logs.frame)
    assert steps[-1] == 8_950 and len(steps) == 180  # the later file replaces from its first step, as TensorBoard
    assert not any("another experiment" in n for n in logs.notes)


def test_a_resume_in_a_sub_folder_is_merged(tmp_path):
    write_scalars(tmp_path, _points(range(0, 5_200, 50)), start_wall=1.7e9, seconds_per_step=1.0)
    write_scalars(tmp_path / "resumed", _points(range(5_000, 9_000, 50), seed=3), start_wall=1.7e9 + 6_000,
                  seconds_per_step=1.0)
    steps, _ = _rec(load_run(tmp_path).frame)
    assert steps[0] == 0 and steps[-1] == 8_950


def test_another_experiments_csv_in_a_sub_folder_is_not_merged(tmp_path):
    for folder, level, kl in ((tmp_path, 1.0, 1.0), (tmp_path / "ablation", 2.0, 3.0)):
        folder.mkdir(exist_ok=True)
        last = 10_000 if folder == tmp_path else 3_000
        with (folder / "metrics.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["step", "rec_loss", "kl_loss"])
            for s in range(0, last, 50):
                writer.writerow([s, level * (0.03 + 0.3 * np.exp(-s / 1500)), kl * (2000 + s / 10)])
    logs = load_run(tmp_path)
    steps, values = _rec(logs.frame)
    assert steps[-1] == 9_950 and abs(values[0] - 0.33) < 1e-9
    assert any("ablation/metrics.csv: another experiment, not merged" in n for n in logs.notes), logs.notes


def test_a_second_complete_run_in_a_sub_folder_is_not_a_restart(tmp_path):
    """eval14 a49: a run logged 0..5,990 and a second seed in seed2/, written after it, logged the same steps at
    the same levels: "The run was started again from step 0 ... this report shows the latest start only", the run
    the report is titled by discarded. Two complete runs of one length are two runs: the sub-folder's is named and
    left out, as another experiment's."""
    write_scalars(tmp_path, _points(range(0, 6_000, 50)), start_wall=1.7e9, seconds_per_step=1.0)
    write_scalars(tmp_path / "seed2", _points(range(0, 6_000, 50), seed=2), start_wall=1.7e9 + 7_000,
                  seconds_per_step=1.0)
    logs = load_run(tmp_path)
    assert not logs.restarts
    assert any("seed2/" in n and "two complete runs of one length (another seed?), not a restart" in n
               for n in logs.notes), logs.notes
