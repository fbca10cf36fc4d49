"""What to act on first, and what the prose may claim (review 8, classes 5-7), on RadioDiff runs written with
tensorboard's own writer and the config as yaml writes it: a GAN loss's rise is the balance's symptom, acted on
under the discriminator's finding; a rate far out of range is the cause acted on first; advice names only the
model's own terms; a KL that levelled off is not "growing without bound"; a loss still climbing is not "at its
best"; a time estimate counts the time gone since the last log; every Q&A answer is a sentence."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import yaml
from writers import PIXELS, radiodiff_config, radiodiff_curves, radiodiff_tb_points, write_scalars

from vae_report import analyze_run

LAST, TOTAL, START = 6_000, 6_000, 1_501


def _write(folder: Path, curves, lr: float = 5e-6, last: int = LAST, **config) -> Path:
    """The curves' AE total rebuilt from its terms (the bookkeeping holds), written every 5 steps with the
    config beside them."""
    v = curves.values
    v["nll_loss"] = PIXELS * v["rec_loss"]
    v["total_loss"] = v["nll_loss"] + 1e-6 * v["kl_loss"] + v["d_weight"] * v["disc_factor"] * v["g_loss"]
    write_scalars(folder, radiodiff_tb_points(curves, 5))
    cfg = radiodiff_config(disc_start=START, total_steps=TOTAL)
    cfg["trainer"].update(lr=lr, save_and_sample_every=1_000, **config)
    (folder / "first_radio.yaml").write_text(yaml.safe_dump(cfg))
    return folder


def _curves(last: int = LAST, lr: float = 5e-6):
    c = radiodiff_curves(last, disc_start=START, total_steps=TOTAL, every=5, lr=lr)
    return c, c.steps, c.values


def late_disc_win(folder: Path) -> Path:
    """The discriminator balanced from its start, then winning from step 3,500: its loss 1 -> 0.07, logits +-2,
    g_loss 0 -> 2.3 (the symptom), the adversarial term grown with it."""
    c, steps, v = _curves(4_995)
    rng = np.random.default_rng(1)
    won = np.clip((steps - 3_500) / 400, 0, 1)
    n = len(steps)
    v["disc_loss"] = np.where(steps >= START, 1.0 - 0.93 * won + 0.01 * rng.standard_normal(n), 0.0)
    v["logits_real"] = 2.0 * won + 0.02 * rng.standard_normal(n)
    v["logits_fake"] = -2.0 * won + 0.02 * rng.standard_normal(n)
    v["g_loss"] = np.where(steps >= START, 0.03 + 2.3 * won + 0.02 * rng.standard_normal(n), v["g_loss"])
    v["d_weight"] = 150 + 5 * rng.standard_normal(n)
    v["rec_loss"] = v["rec_loss"] * (1 + 0.35 * won)
    return _write(folder, c)


def lr_far_kl_held(folder: Path) -> Path:
    """lr 0.5 in the config: KL x10 every 300 steps from step 150 to ~1e9 by step 1,850, then flat there; rec
    climbing from step 40 (a symptom of the same rate)."""
    c, steps, v = _curves(3_000, lr=0.5)  # the config's rate, on its schedule: only its size is wrong
    rng = np.random.default_rng(2)
    n = len(steps)
    grown = 3_000 * 10 ** np.clip((steps - 150) / 300, 0, np.log10(1e9 / 3_000))
    v["kl_loss"] = grown * (1 + 0.01 * rng.standard_normal(n))
    v["rec_loss"] = 0.3 + 0.2 * np.clip((steps - 40) / 1_400, 0, 1) + 0.005 * rng.standard_normal(n)
    return _write(folder, c, lr=0.5)


def kl_slow_growth(folder: Path) -> Path:
    """A finished run whose KL climbs linearly to its last step, the rest healthy."""
    c, steps, v = _curves(LAST - 5)
    rng = np.random.default_rng(3)
    v["kl_loss"] = 1_600 + 7_400 * steps / LAST + 30 * rng.standard_normal(len(steps))
    return _write(folder, c)


def _q(a, start: str) -> str:
    return next(q.answer for q in a.qa if q.question.startswith(start))


def test_a_gan_loss_rising_is_the_balance_acted_on_first(tmp_path):
    """g_loss rising because the discriminator wins is that finding's symptom: cited under it, never a headline
    acted on before it; the first action is the discriminator's, named in the answer with its gist."""
    a = analyze_run(late_disc_win(tmp_path / "run"))
    loud = [f for f in a.active_findings() if f.severity in ("warning", "error")]
    assert not [f for f in loud if f.rule == "loss-now" and f.metric == "g_loss"]
    (d_win,) = [f for f in loud if f.rule == "disc-overpowering"]
    assert ("loss-now", "g_loss") in {(r["rule"], r["metric"]) for r in d_win.related}
    first = _q(a, "Should I intervene")
    assert "act on the warning \"Discriminator overpowering the generator\"" in first
    assert "What to do first: weaken the discriminator itself" in first
    assert a.recommendations[0].startswith("Look into: Discriminator overpowering the generator")
    # its rise is looked for in the GAN's balance, not in the data or the KL term
    assert "the KL term" not in " ".join(r["action"] for r in d_win.related if r["metric"] == "g_loss")


def test_a_rate_far_out_of_range_is_the_cause_acted_on_first(tmp_path):
    """lr 0.5: the finding that names the rate as the likely cause comes first, with its action; a rec rise the
    same rate explains is no first action, and the advice beside it names the model's own regularizer."""
    a = analyze_run(lr_far_kl_held(tmp_path / "run"))
    first = _q(a, "Should I intervene")
    assert "act on the error \"KL rising under a tiny kl_weight\"" in first
    assert "What to do first: lower the learning rate" in first
    assert a.recommendations[0].startswith("Fix first: KL rising under a tiny kl_weight")
    assert not [r for r in a.recommendations if "codebook" in r]  # a KL model: no VQ advice


def test_a_kl_that_levelled_off_is_not_growing_without_bound(tmp_path):
    """The KL rose to ~1e9 by step ~1,850 and held there: the finding says so, never "without bound"."""
    a = analyze_run(lr_far_kl_held(tmp_path / "run"))
    (kl,) = [f for f in a.active_findings() if f.rule == "kl-rising"]
    said = kl.message + " ".join(q.answer for q in a.qa)
    assert "without bound" not in said
    assert re.search(r"rose to about [\d,]+ by step 1,[89]\d\d and has held there since", kl.message)


def test_a_loss_still_climbing_is_not_at_its_best(tmp_path):
    """A KL that climbs through its latest quarter is said to, with how far, never "at or near its best"."""
    a = analyze_run(kl_slow_growth(tmp_path / "run"))
    (now,) = [f for f in a.findings if f.rule == "loss-now"]
    best = now.message.split("at or near")[0]
    assert "kl_loss" not in best
    assert re.search(r"kl_loss is still climbing through its latest quarter, from [\d,]+ \(from step [\d,]+\) to "
                     r"[\d,]+ now", now.message)


def stopped_early(folder: Path) -> Path:
    """A healthy run logged to step 1,000 of 6,000 at 0.5 s a step (7,200 steps an hour): the switch-on, 501
    steps on, is about 250 s past its last log."""
    c, _, _ = _curves(1_000)
    return _write(folder, c)


def test_a_time_estimate_counts_the_time_gone_since_the_last_log(tmp_path):
    """Judged 200 s after the last log, the switch-on 250 s past it is 50 s away, not 4 min; judged 600 s after,
    it is overdue, said so, never a time ahead."""
    folder = stopped_early(tmp_path / "run")
    last = analyze_run(folder).last_wall_time
    soon = analyze_run(folder, now=float(last) + 200)
    (live,) = [f for f in soon.findings if f.rule == "liveness"]
    assert "step 1,501 (discriminator starts) in about 50 s" in live.message
    when = _q(soon, "When will the discriminator")
    assert "about 50 s away" in when and "4 min" not in when
    late = analyze_run(folder, now=float(last) + 600)
    (live,) = [f for f in late.findings if f.rule == "liveness"]
    assert "step 1,501 (discriminator starts) overdue: due about 6 min ago" in live.message
    when = _q(late, "When will the discriminator")
    assert "it is overdue: due about 6 min ago" in when and " away." not in when


def overfitting(folder: Path) -> Path:
    """accelerate-style tags, no config: train/rec_loss falling, eval/rec_loss climbing back from step ~4,000."""
    points = [(s, "train/rec_loss", 0.1 / (1 + s / 1000)) for s in range(0, 10_000, 10)]
    points += [(s, "eval/rec_loss", 0.05 + abs(s - 4000) / 40_000) for s in range(500, 10_001, 500)]
    write_scalars(folder, points)
    return folder


def test_weights_to_keep_are_a_checkpoint_only_where_the_run_has_one(tmp_path):
    """No checkpoint found and no save interval known: the weights from around the best step, if saved, never
    "the checkpoint from step S"; with a checkpoint on disk, the one nearest before it, by name."""
    folder = overfitting(tmp_path / "run")
    (f,) = [f for f in analyze_run(folder).findings if f.rule == "val-overfitting"]
    assert f.severity == "warning"
    assert re.match(r"Keep the weights from around step [\d,]+, if they were saved", f.action), f.action
    (folder / "checkpoint-3000").mkdir()  # a Hugging Face Trainer's checkpoint folder
    (f,) = [f for f in analyze_run(folder).findings if f.rule == "val-overfitting"]
    assert re.match(r"Keep the checkpoint nearest before step [\d,]+, checkpoint-3000 \(step 3,000\)", f.action), \
        f.action


# the finite verbs the answers' clauses use: an answer's first sentence holds one, after its verdict word
FINITE = re.compile(
    r"\b(?:is|are|was|were|has|have|had|does|do|did|can|cannot|will|would|should|may|must|names|name|sits|sit|"
    r"stays|stay|holds|held|rose|fell|grew|began|came|went|stopped|started|switched|shows|show|says|trains|judges|"
    r"warn|warns|outlearns|separates|multiplies|trades|stops|keeps|puts|gives|fit|fits|act|see|look|keep|lower|"
    r"weaken|check|restart|resume|wait|stands|reached|reaches|needs)\b")
VERDICT = re.compile(r"^(?:Yes|No|Not\b[^,:.]*|Partly|Only|Never in this run)[,:.]?\s*")


def not_sentences(answers: list[str]) -> list[str]:
    """The answers whose first sentence, past its verdict word, has no finite verb (a bare "Yes." or "No." is
    the whole answer to its question)."""
    out = []
    for answer in answers:
        first = re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", answer)[0]
        if first in ("Yes.", "No."):
            continue
        if not FINITE.search(VERDICT.sub("", first)):
            out.append(first)
    return out


def test_the_check_sees_a_fragment() -> None:
    assert not_sentences(["No: the weighted KL term 973.1, 32.1% of the loss's size.",
                          "At step 6,000 (end of training), rec_loss about 0.058."]) == \
        ["No: the weighted KL term 973.1, 32.1% of the loss's size.",
         "At step 6,000 (end of training), rec_loss about 0.058."]
    assert not_sentences(["No.", "No, a value is out of range: the weighted KL term 973.1.",
                          "At step 6,000, rec_loss will be about 0.058."]) == []


def test_every_answer_is_a_sentence(tmp_path):
    """Each Q&A answer of runs with warnings, errors and none opens with a clause that has its verb: the
    values out of range after "a value is out of range:", a forecast's first level with "will be"."""
    answers = []
    for make in (late_disc_win, lr_far_kl_held, kl_slow_growth, stopped_early, overfitting):
        answers += [q.answer for q in analyze_run(make(tmp_path / make.__name__)).qa]
    assert not_sentences(answers) == []


def test_a_cause_cited_under_a_finding_on_another_metric_names_that_metric(tmp_path):
    """The discriminator's row cites g_loss's rise: the finding cited under "Same cause" names its metric."""
    from vae_report.view import finding_row

    a = analyze_run(late_disc_win(tmp_path / "run"))
    (d_win,) = [f for f in a.active_findings() if f.rule == "disc-overpowering"]
    cell = "".join(span.text for span in finding_row(d_win).cells[4])
    assert "Same cause: " in cell and "g_loss" in cell.split("Same cause: ")[1].split(":")[0]
