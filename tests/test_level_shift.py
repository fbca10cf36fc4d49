"""A loss that stepped up and stayed up, older than the latest logs (loss-shift): a warning dated at its step with
the levels before, after and now; a component logged apart (LPIPS p_loss) named with its own size; never a bump
that came back, the switch-on's usual price or KL's rise. And a climb after the switch-on (rec-after-disc) dated
where it turned, not where it had gone a fifth of its way. Logs written by tensorboard's event writer and
RadioDiff's logging."""

from __future__ import annotations

import numpy as np
import yaml
from writers import (
    PIXELS,
    radiodiff_config,
    radiodiff_curves,
    radiodiff_tb_points,
    write_radiodiff_text_log,
    write_scalars,
)

from vae_report import analyze_run


def _run(root, factor=None, last=70_000, every=100, seed=5, lr_factor=None, extra=None, text_log=False,
         disc_weight=0.5):
    """A RadioDiff results folder (event file or text log + first_radio.yaml): rec_loss times ``factor(steps)``,
    nll and the total recomputed as the loss computes them; ``extra(steps, values)`` adds tags of its own."""
    curves = radiodiff_curves(last, seed=seed, every=every)
    v = curves.values
    if factor is not None:
        v["rec_loss"] = v["rec_loss"] * factor(curves.steps)
    if lr_factor is not None:
        v["lr"] = v["lr"] * lr_factor(curves.steps)
    extra_tags = extra(curves.steps, v) if extra is not None else {}
    v["nll_loss"] = PIXELS * v["rec_loss"]
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"] + v["d_weight"] * v["disc_factor"] * v["g_loss"]
    config = radiodiff_config()
    config["model"]["lossconfig"]["disc_weight"] = disc_weight
    if text_log:
        write_radiodiff_text_log(root, curves, config, 150_000, log_freq=every)
    else:
        points = radiodiff_tb_points(curves)
        points += [(int(s), tag, float(x)) for tag, values in extra_tags.items() for s, x in zip(curves.steps, values,
                                                                                                 strict=True)]
        write_scalars(root, points)
    (root / "first_radio.yaml").write_text(yaml.safe_dump(config))
    return analyze_run(root)


def _step(at, size):
    return lambda steps: np.where(steps >= at, size, 1.0)


def _shifts(analysis):
    """loss-shift's warnings and infos, headline or cited under another finding."""
    out = []
    for f in analysis.findings:
        if f.rule == "loss-shift" and f.case != "none" and not f.skipped:
            out.append((f.severity, f.metric, f.step, f.numbers, f.message))
        out += [(r["severity"], r["metric"], r["step"], r["numbers"], r["message"]) for r in f.related
                if r["rule"] == "loss-shift"]
    return out


def test_a_step_before_disc_start_that_stayed_is_a_warning_dated_at_its_step(tmp_path):
    """rec x2 at 25,000, before disc_start 50,001, held through the adversarial phase to 70,000: the latest
    stretch is at its best, so only the shift tells it."""
    a = _run(tmp_path, _step(25_000, 2.0))
    ((severity, metric, step, n, message),) = _shifts(a)
    assert severity == "warning" and a.status == "warning" and metric == "rec_loss"
    assert abs(step - 25_000) <= 500 and n["onset_step"] == step
    assert 1.8 <= n["ratio"] <= 2.2 and n["level_before"] < n["level_after"]
    assert abs(n["level_now"] / n["level_before"] - 2) < 0.3 and n["phase"] == "before discriminator"
    assert n["moved_with"] == ["total_loss"]  # one cause, told on rec (RadioDiff's events hold no nll)
    assert f"step {step:,}" in message and "never came back" in message and "before the discriminator" in message
    # "no loss is rising" does not call rec at its best: it points to the shift
    now = next(f for f in a.findings if f.rule == "loss-now")
    assert "rec_loss" not in now.numbers["checked"] and "stepped up and stayed up" in now.message


def test_the_text_log_tells_it_too(tmp_path):
    a = _run(tmp_path, _step(25_000, 2.0), text_log=True)
    ((severity, metric, step, _, _),) = _shifts(a)
    assert severity == "warning" and metric == "rec_loss" and abs(step - 25_000) <= 500


def test_a_component_logged_apart_is_named_with_its_own_size(tmp_path):
    """LPIPS p_loss logged apart climbs +50% from 20,000 to 26,000 and holds; rec = l1 + p rises less."""
    def extra(steps, v):
        rng = np.random.default_rng(11)
        p = (0.1 + 0.3 * np.exp(-steps / 1500.0)) * np.exp(0.03 * rng.standard_normal(len(steps)))
        p = p * np.interp(steps, [20_000, 26_000], [1.0, 1.5])
        l1 = v["rec_loss"]
        v["rec_loss"] = l1 + p
        return {"p_loss": p, "l1_loss": l1}

    a = _run(tmp_path, extra=extra)
    shifts = _shifts(a)
    assert shifts and all(s[0] == "warning" for s in shifts)
    named = {s[1]: s for s in shifts}
    numbers = [s[3] for s in shifts]
    parts = {k: v for n in numbers for k, v in n["components"].items()}
    p = parts.get("p_loss") or named["p_loss"][3]
    assert 1.35 <= p["ratio"] <= 1.65 and abs(p["onset_step"] - 20_000) <= 1_500
    assert any("p_loss" in s[4] for s in shifts)
    assert "l1_loss" not in parts and "l1_loss" not in named  # the term that kept falling is not named


def test_a_bump_that_came_back_is_no_shift(tmp_path):
    """rec +40% from 12,000 to 16,000, back by 20,000: an episode (info at most), never a shift."""
    a = _run(tmp_path, lambda s: np.interp(s, [12_000, 16_000, 20_000], [1.0, 1.4, 0.98]), last=60_000)
    assert not _shifts(a) and a.status == "ok"
    (none,) = [f for f in a.findings if f.rule == "loss-shift"]
    assert none.severity == "ok" and "rec_loss" in none.numbers["checked"]


def test_the_switch_on_price_and_kl_growth_are_no_shift(tmp_path):
    """rec +15% from the discriminator's switch-on (its usual price), held; KL rising under kl_weight 1e-6."""
    a = _run(tmp_path, _step(50_001, 1.15), last=90_000)
    assert not _shifts(a) and a.status == "ok"
    (none,) = [f for f in a.findings if f.rule == "loss-shift"]
    assert none.severity == "ok" and {"rec_loss", "total_loss"} <= set(none.numbers["checked"])


def test_a_shift_with_an_lr_jump_is_the_schedule_info(tmp_path):
    """The learning rate x4 at 30,000 (a restart the schedule made) and rec x1.8 with it: info naming the lr."""
    a = _run(tmp_path, _step(30_000, 1.8), lr_factor=_step(30_000, 4.0))
    shifts = _shifts(a)
    assert shifts and all(s[0] == "info" for s in shifts)
    assert any("learning rate went from" in s[4] for s in shifts)


def test_a_climb_after_the_switch_on_is_dated_where_it_turned(tmp_path):
    """The discriminator too strong (disc_weight 5): rec climbs +40% in a straight line over the 12,000 steps
    after disc_start 50,001, then holds to 90,000. Dated where it turned, not a fifth of the way up."""
    a = _run(tmp_path, lambda s: np.interp(s, [50_001, 62_000], [1.0, 1.4]), last=90_000, disc_weight=5.0)
    (f,) = [f for f in a.findings if f.rule == "rec-after-disc" and f.severity == "warning"] or \
        [r for g in a.findings for r in g.related if r["rule"] == "rec-after-disc"]
    step = f.step if hasattr(f, "step") else f["step"]
    assert abs(step - 50_001) <= 1_500


def test_the_usual_price_of_the_adversarial_term_is_a_yes_never_a_hedged_no(tmp_path):
    # eval12 r5_g_flat_saturated (and eval11 c4_wandb_history_jsonl): "Did reconstruction get worse once the GAN
    # started? Not by this measure: rec_loss rose ... (+17.6%)": the hedge of a fall, before a rise
    a = _run(tmp_path, _step(50_001, 1.15), last=90_000)
    (rec,) = [f for f in a.findings if f.rule == "rec-after-disc"]
    assert rec.case == "usual-price"
    (answer,) = [q.answer for q in a.qa if q.question == "Did reconstruction get worse once the GAN started?"]
    assert answer.startswith("Yes") and "Not by this measure" not in answer
