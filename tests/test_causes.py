"""One cause, one headline, one action, one count (review 5, #11), and no all-clear or "Yes" beside a warning on
the same metric (#3): runs written with tensorboard's writer, one class of input at a time."""

from __future__ import annotations

import numpy as np
from test_verdicts import _rebuild_sums, config, write_run
from typer.testing import CliRunner
from writers import radiodiff_curves

from vae_report import analyze_run, narrative
from vae_report.cli import app
from vae_report.narrative.questions import action_gist


def _loud(a):
    return [f for f in a.active_findings() if f.severity in ("warning", "error")]


def test_a_discriminator_that_never_learns_is_one_warning_with_one_action(tmp_path):
    curves = radiodiff_curves(4000, disc_start=1001, total_steps=5000)
    on = curves.steps >= 1001
    v = curves.values
    v["disc_loss"][on] = 1.0  # its optimizer never steps: the hinge at chance, to the last digit
    v["logits_real"][on] = 0.0
    v["logits_fake"][on] = 0.0
    v["g_loss"][on] = 0.0
    _rebuild_sums(curves)
    a = analyze_run(write_run(tmp_path, curves, 10, config(disc_start=1001, total=5000)))
    loud = _loud(a)
    assert [f.rule for f in loud] == ["disc-at-chance"], [(f.rule, f.metric) for f in loud]
    assert {r["rule"] for r in loud[0].related} >= {"loss-constant"}
    todo = [r for r in narrative.recommendations(a) if "optimizer steps" in r]
    assert len(todo) == 1, todo


def _diverging(folder, nan_from=3500):
    curves = radiodiff_curves(4000, disc_start=8_001, total_steps=10_000)  # the switch inside the run, not reached
    v, steps = curves.values, curves.steps
    climb = (steps >= 3000) & (steps < nan_from)
    growth = np.exp(np.linspace(0, np.log(40), int(climb.sum())))
    v["rec_loss"][climb] *= growth
    v["kl_loss"][climb] *= growth
    _rebuild_sums(curves)
    for name in ("rec_loss", "kl_loss", "nll_loss", "total_loss"):
        v[name][steps >= nan_from] = np.nan  # diverged, and stays NaN to the end
    return write_run(folder, curves, 10, config(disc_start=8_001, total=10_000))


def test_a_divergence_into_nan_is_one_error_in_every_count(tmp_path):
    folder = _diverging(tmp_path / "run")
    a = analyze_run(folder)
    loud = _loud(a)
    assert [f.rule for f in loud] == ["non-finite"], [(f.rule, f.metric, f.step) for f in loud]
    cited = {(r["rule"], r["metric"]) for r in loud[0].related}
    assert ("loss-now", "rec_loss") in cited, cited
    # the NaN stays: nothing tells the user to wait for it to "recover"
    assert not [r for r in narrative.recommendations(a) if "recover" in r]
    out = tmp_path / "r.md"
    result = CliRunner().invoke(app, ["analyze", str(folder), "--out", str(out)])
    assert "0 warnings, 1 error" in result.output, result.output


def _disc_wins(folder):
    curves = radiodiff_curves(6000, disc_start=2001, total_steps=6000)
    v, steps = curves.values, curves.steps
    on = steps >= 2001
    fall = np.clip((steps[on] - 2001) / 1500, 0, 1)  # the discriminator pulls ahead and wins
    v["logits_real"][on] = 2.2 * fall + 0.05 * np.random.default_rng(1).standard_normal(int(on.sum()))
    v["logits_fake"][on] = -2.2 * fall + 0.05 * np.random.default_rng(2).standard_normal(int(on.sum()))
    v["disc_loss"][on] = 0.5 * (np.maximum(0, 1 - v["logits_real"][on]) + np.maximum(0, 1 + v["logits_fake"][on]))
    v["g_loss"][on] = -v["logits_fake"][on]
    _rebuild_sums(curves)
    return write_run(folder, curves, 10, config(disc_start=2001, total=6000))


def test_no_all_clear_about_a_metric_a_warning_is_about(tmp_path):
    from test_prose import all_clear_beside_a_warning

    a = analyze_run(_disc_wins(tmp_path))
    loud = _loud(a)
    assert [f.rule for f in loud] == ["disc-overpowering"], [(f.rule, f.metric) for f in loud]
    assert all_clear_beside_a_warning(a) == []
    # the adversarial losses are never "at their best": a discriminator at 0 has won
    steady = [f for f in a.active_findings() if f.rule == "loss-now" and f.severity in ("ok", "info")]
    for f in steady:
        at_best = f.message.split(";")[0]
        assert "disc_loss" not in at_best and "g_loss" not in at_best, f.message
    answers = {qa.question: qa.answer for qa in a.qa}
    assert not answers["Are the loss values in the right ranges?"].startswith("Yes")
    assert "chance level 1" in answers["Are the loss values in the right ranges?"]  # the range is named


def test_answers_are_short_with_numbers_and_what_to_do(tmp_path):
    a = analyze_run(_disc_wins(tmp_path))
    (head,) = _loud(a)
    intervene = next(qa.answer for qa in a.qa if qa.question.startswith(("Should I intervene", "Does the finished")))
    # what to do is said in full once, in the Recommendations: the answer names the finding and its action's gist
    # (its first clause), and points there for the how
    assert intervene.startswith("Yes") and "findings list" not in intervene
    assert intervene.endswith(f"first: {action_gist(head.action)}, as its entry in the Recommendations details.")
    assert head.action[1:] not in intervene
    assert any(head.action[1:] in r for r in a.recommendations)
    assert f"\"{head.title}\"" in intervene
    # an ok finding's numbers, never its message pasted
    for f in a.active_findings():
        if f.rule in ("kl-rising", "rec-after-disc"):
            assert not [qa.question for qa in a.qa if f.message[:60] in qa.answer], f.rule
    kl = next(qa.answer for qa in a.qa if qa.question.startswith("Is the KL loss"))
    assert "kl_loss rose from" in kl and "%" in kl and len(kl) < 300


def test_the_usual_price_is_no_all_clear_beside_a_warning_that_rec_paid_for_the_win():
    """eval13 b4_sweep3: rec_loss +18.7% since the switch-on was 'the usual price of the adversarial term. If it
    matters, lower disc_weight' (info) in the report whose discriminator warning said reconstruction had paid for
    its win. The settling clause goes, and the finding points to the warning, as an ok finding in doubt does."""
    from vae_report.rules import RULES
    from vae_report.rules.base import Finding
    from vae_report.rules.grouping import qualify_ok

    price = Finding("rec-after-disc", "info", "Reconstruction costs more since the discriminator started: rec_loss "
                    "rose from 0.0334 to 0.0397 (+18.7%): the usual price of the adversarial term. If it matters, "
                    "lower disc_weight.", "rec_loss", 50_100, {"change": 0.187}, case="usual-price")
    won = Finding("disc-overpowering", "warning", "The discriminator is winning.", "disc_loss", 50_050,
                  {"implicates": {"rec_loss": "risen"}}, title="Discriminator overpowering the generator")
    rules = {rule.id: rule for rule in RULES}
    (said, _) = qualify_ok([price, won], rules)
    assert "usual price" not in said.message and "If it matters" not in said.message
    assert said.message.endswith('That is no all-clear: see the warning "Discriminator overpowering the generator" '
                                 "above, on disc_loss.") and said.numbers["in_doubt"]["rule"] == "disc-overpowering"
    (alone,) = qualify_ok([price], rules)
    assert alone is price


def test_a_reconstruction_rise_cited_under_a_gan_headline_is_dated_by_its_own_onset():
    """eval14 b_t3: Q6 said "it held after the switch-on (step 101) and rose from step 170" (the generator-winning
    headline's step) while the rec_loss rise cited under it began at step 105."""
    from vae_report.narrative.disc import _onset
    from vae_report.rules.base import Finding

    cited = {"rule": "loss-now", "metric": "rec_loss", "step": 105, "severity": "warning",
             "numbers": {"onset_step": 105}, "message": "", "title": "", "action": "", "case": None}
    head = Finding("generator-winning", "warning", "", "disc_loss", 170, {"onset_step": 170}, related=(cited,))
    assert _onset(head) == 105
    alone = Finding("rec-after-disc", "warning", "", "rec_loss", 120, {"onset_step": 118})
    assert _onset(alone) == 118
