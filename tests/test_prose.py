"""Every sentence true (issue 11): answers agree with the findings, finished runs read as finished, the loss
decomposition adds up, no percentage has the wrong sign, and text from the logs cannot break the Markdown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_verdicts import _rebuild_sums, _vq_run, config, stalled_curves, write_run
from typer.testing import CliRunner
from writers import radiodiff_curves, write_scalars

from vae_report import analyze_run
from vae_report.cli import app
from vae_report.narrative import CAN_WAIT, DISC_RULES, DISC_SCHEDULE_RULES, KL_RULES
from vae_report.render import write_report

# question -> the first word of an answer that says "there is a problem"
BAD_WORD = {"Is the KL loss increase concerning?": "Yes", "Is the KL loss's behaviour concerning?": "Yes",
            "Are the loss values in the right ranges?": "No",
            "Should I intervene in the training process?": ("Yes", "Not urgently, but look", "Not yet: watch"),
            "Is a discriminator loss near 1 fine?": "Not", "Did reconstruction get worse once the GAN started?": "Yes",
            "Is the discriminator loss where the schedule puts it?": "No",
            "Does the finished run need attention?": ("Yes", "Not urgently, but look")}
# question -> the first word of an all-clear, which no finding of its topic a warning doubts may get either
FINE_WORD = {"Is the KL loss increase concerning?": "No", "Is the KL loss's behaviour concerning?": "No",
             "Are the loss values in the right ranges?": "Yes", "Is a discriminator loss near 1 fine?": "Yes",
             "Did reconstruction get worse once the GAN started?": ("No", "Only a little"),
             "Is the discriminator loss where the schedule puts it?": "Yes"}
# the findings on the values' sizes against what the loss's formula and the config put them at: a warning on a
# trend, a stall or the GAN's balance is not an answer to "are the values in the right ranges?"
VALUE_SIZE_RULES = ("non-finite", "loss-bookkeeping", "kl-negative", "kl-dominant", "d-weight-pinned",
                    "gan-term-dominant")
TOPIC = {"Is the KL loss increase concerning?": KL_RULES, "Is the KL loss's behaviour concerning?": KL_RULES,
         "Are the loss values in the right ranges?": VALUE_SIZE_RULES,
         "Should I intervene in the training process?": None,
         # where a discriminator at chance does harm, it shows as reconstruction worse after the switch-on
         "Is a discriminator loss near 1 fine?": ("disc-at-chance", "generator-winning", "gan-oscillation",
                                                  "rec-after-disc"),
         "Did reconstruction get worse once the GAN started?": ("rec-after-disc",),
         "Is the discriminator loss where the schedule puts it?": DISC_SCHEDULE_RULES,
         "Does the finished run need attention?": None}
INTERVENE = ("Should I intervene in the training process?", "Does the finished run need attention?")


def _asked(question: str) -> str:
    """The question's entry in BAD_WORD: the discriminator's level is asked with the level it is at."""
    return "Is a discriminator loss near 1 fine?" if question.startswith("Is a discriminator loss ") else question
# the KL question also answers a KL rising now (a NaN, spikes or a stale KL are named apart, not its "Yes")
KL_ALSO = ("loss-now",)


def _runs(tmp_path):
    out = {}
    healthy = radiodiff_curves(4000, disc_start=1000, total_steps=5000)
    out["healthy"] = write_run(tmp_path / "healthy", healthy, 10, config())
    finished = radiodiff_curves(4990, disc_start=1000, total_steps=5000)
    out["finished"] = write_run(tmp_path / "finished", finished, 10, config())
    exploding = radiodiff_curves(4000, disc_start=50_001, total_steps=150_000)
    late = exploding.steps >= 3800
    exploding.values["rec_loss"][late] *= np.exp(np.linspace(0, np.log(100), int(late.sum())))
    _rebuild_sums(exploding)
    out["exploding"] = write_run(tmp_path / "exploding", exploding, 10, config(disc_start=50_001, total=150_000))
    kl = radiodiff_curves(3000, disc_start=50_001, total_steps=10_000)
    kl.values["total_loss"] = kl.values["nll_loss"] + 0.5 * kl.values["kl_loss"]
    out["kl-dominant"] = write_run(tmp_path / "kl", kl, 10, config(disc_start=50_001, total=10_000, kl_weight=0.5))
    negative = radiodiff_curves(6000, disc_start=1000, total_steps=10_000)
    on = negative.steps >= 1000
    negative.values["d_weight"][on] = 5000.0
    negative.values["g_loss"][on] = -0.6 - 0.2 * (negative.steps[on] - 1000) / 5000
    _rebuild_sums(negative)
    out["negative"] = write_run(tmp_path / "negative", negative, 10, config(total=10_000))
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return _runs(tmp_path_factory.mktemp("prose"))


# question (its start) -> (the first words of an all-clear, the metrics it speaks of): no all-clear while a warning
# or an error (headline or cited) is about one of them, whatever rule raised it (review 5, #3)
ABOUT_METRICS = {
    "Is the KL loss": (("No",), ("kl_loss",)),
    "Is a discriminator loss ": (("Yes",), ("disc_loss",)),
    "Is the discriminator loss where": (("Yes",), ("disc_loss",)),
    "Why is the discriminator loss zero": (("No need to worry",), ("disc_loss",)),
    "Are the loss values": (("Yes",), ("total_loss", "nll_loss", "rec_loss", "kl_loss", "g_loss", "disc_loss",
                                       "d_weight")),
    "Did reconstruction get worse": (("No", "Only a little"), ("rec_loss",)),
}


def lasting_loud(a) -> list[dict]:
    """The warnings and errors of an analysis, headlines and cited ones, that say a state which holds: not an
    isolated NaN the loss recovered from at its level, a resume, a rise that came back, the logs' pace."""
    out = []
    for f in a.active_findings():
        for d in ({**f.to_dict(), "case": f.case}, *f.related):
            numbers = d.get("numbers") or {}
            if d["severity"] not in ("warning", "error") or d["rule"] in ("resumes", "loss-episode", "liveness"):
                continue
            if d.get("case") == "not-learning":  # a loss that never moved doubts no comparison of its levels
                continue
            if not (numbers.get("recovered") and "level_shift_step" not in numbers):
                out.append(d)
    return out


def all_clear_beside_a_warning(a) -> list[tuple]:
    """(question, answer, metric) where an answer gives an all-clear about a metric a warning is about."""
    loud = {d["metric"] for d in lasting_loud(a) if d["metric"]}
    # "did reconstruction get worse once the GAN started?" asks from just before the switch-on (rec-after-disc's
    # judged_from): a warning begun before that is older damage the answer cites, not a doubt on its word
    judged = next((f.numbers.get("judged_from") for f in a.findings if f.rule == "rec-after-disc"), None)
    in_scope = {d["metric"] for d in lasting_loud(a) if d["metric"] and (judged is None or (
        (d.get("numbers") or {}).get("onset_step", d.get("step")) or 0) >= judged)}
    out = []
    for q in a.qa:
        about = next((v for k, v in ABOUT_METRICS.items() if q.question.startswith(k)), None)
        if about is None:
            continue
        fine, metrics = about
        doubting = in_scope if q.question.startswith("Did reconstruction get worse") else loud
        if q.answer.startswith(tuple(w + p for w in fine for p in ".:,")):
            out += [(q.question, q.answer[:120], m) for m in metrics if m in doubting]
    return out


def _late_beside_a_balanced_discriminator(a, f) -> bool:
    """A reconstruction rise that began more than a tenth of the run after the switch-on, the discriminator at its
    equilibrium (disc-at-chance ok or info) since before it began: not the discriminator's harm (eval12
    r3_diverge_last5_print), so no reason for 'Not' in the answer on its level."""
    if f.rule in ("disc-at-chance", "generator-winning", "gan-oscillation"):
        return False  # a finding on the discriminator's own level
    switch = a.schedule.switch_step or a.schedule.disc_start
    began = f.numbers.get("divergence_onset", f.numbers.get("onset_step", f.step))
    level = next((g for g in a.active_findings() if g.rule == "disc-at-chance" and g.severity in ("ok", "info")),
                 None)
    return (switch is not None and began is not None and level is not None and began - switch > 0.1 * a.step
            and level.step <= began and not f.numbers.get("lr_jump"))


def answers_against_findings(a) -> list[tuple]:
    """The answers of an analysis whose first word disagrees with the warnings and errors of their topic; a
    finding cited under a headline of another rule still belongs to its topic; an all-clear about a metric a
    warning is about."""
    out = all_clear_beside_a_warning(a)
    for q in a.qa:
        asked = _asked(q.question)
        if asked not in BAD_WORD:
            continue
        rules = TOPIC[asked]

        def about(rule: str, metric: str | None, rules=rules, kl="KL" in q.question) -> bool:
            return rules is None or rule in rules or (kl and rule in KL_ALSO and metric == "kl_loss")

        found = [f for f in a.active_findings()
                 if about(f.rule, f.metric) or any(about(r["rule"], r["metric"]) for r in f.related)]
        bad = [f for f in found if f.severity in ("warning", "error")]
        if asked == "Is a discriminator loss near 1 fine?":  # a rise long after a balanced switch-on is not its
            bad = [f for f in bad if not _late_beside_a_balanced_discriminator(a, f)]
        # an ok finding a warning or an error puts in doubt (made info, pointing to it) is no all-clear either
        doubted = [f for f in found if "in_doubt" in f.numbers]
        # "Not judged" (nothing trained, or what it judges is NaN) abstains: neither an all-clear nor an alarm
        abstains = q.answer.startswith("Not judged")
        if not abstains and q.answer.startswith(BAD_WORD[asked]) != bool(bad) and not (doubted and not bad):
            out.append((q.question, q.answer[:120], [f.rule for f in bad]))
        fine = FINE_WORD.get(asked, ())
        fine = (fine,) if isinstance(fine, str) else fine
        if doubted and not bad and q.answer.startswith(tuple(w + p for w in fine for p in ".:,")):
            out.append((q.question, q.answer[:120], [f.rule for f in doubted]))
        if asked in INTERVENE and bad:
            # a warning about the training itself (not about the logs or the config) is a yes
            urgent = [f for f in bad if f.severity == "error" or f.rule not in CAN_WAIT]
            # ... or, where the first of them asks only to be watched (a cost not yet paid), "Not yet: watch"
            if q.answer.startswith(("Yes", "Not yet: watch")) != bool(urgent):
                out.append((q.question, q.answer[:120], [f.rule for f in urgent]))
    return out


def test_answers_never_contradict_the_findings(runs):
    for name, folder in runs.items():
        assert answers_against_findings(analyze_run(folder)) == [], name


def test_a_finished_run_reads_as_finished(runs, tmp_path):
    out, summary = tmp_path / "r.md", tmp_path / "s.json"
    result = CliRunner().invoke(app, ["analyze", str(runs["finished"]), "--out", str(out), "--json", str(summary),
                                      "--now", "2099-01-01T00:00", "--fail-on", "warning"])
    assert result.exit_code == 0, result.output  # a finished run is never "may have stopped"
    # its last logged step (4,990) falls short of the total: finished, never "4,990 (100.0%)"
    assert "step 4,990 of 5,000, finished" in result.output and "%" not in result.output
    assert "step 4,990 of 5,000 · training finished" in out.read_text()  # the status line: no "(100.0%)" either
    data = json.loads(summary.read_text())
    assert data["finished"] is True and data["progress"] == 1.0 and data["next_milestone"] is None
    text = out.read_text()
    assert "training finished" in text and "current" not in text.split("## Progress assessment")[1].split("##")[0]
    assert "steps away" not in text


def test_the_decomposition_adds_up_even_when_the_total_is_negative(runs):
    a = analyze_run(runs["negative"])
    d = a.decomposition
    assert d.total < -500 and d.sum == pytest.approx(d.total, rel=1e-3)
    assert abs(sum(t.share for t in d.terms) - 1) < 1e-9
    adversarial = [t for t in d.terms if t.name.startswith("d_weight")][0]
    assert adversarial.value < 0 and "outweighs the rest, so the total is negative" in d.sentence()


def test_no_percentage_with_the_wrong_sign_anywhere(runs, tmp_path):
    for name, folder in runs.items():
        out = tmp_path / f"{name}.md"
        write_report(analyze_run(folder), out)
        text = out.read_text()
        assert not re.search(r"fell from [^()]*?\(\+", text), name
        assert not re.search(r"rose from [^()]*?\(-", text), name
        # a change across a sign is two values, never a percentage
        for m in re.finditer(r"(?:fell|rose) from (-?[\d,.]+) to (-?[\d,.]+)( \([+-][\d.]+%\))?", text):
            first, last = (float(x.replace(",", "")) for x in m.group(1, 2))
            if first * last < 0:
                assert m.group(3) is None, (name, m.group(0))


def test_findings_of_one_cause_are_one_headline_in_every_output(runs, tmp_path):
    a = analyze_run(runs["exploding"])
    heads = [f for f in a.active_findings() if f.related]
    assert len(heads) == 1 and heads[0].metric == "rec_loss"
    md, html = tmp_path / "r.md", tmp_path / "r.html"
    write_report(a, md)
    write_report(a, html)
    # each finding cited names its metrics, none named twice
    cell = next(line for line in md.read_text().splitlines() if "**Same cause:**" in line)
    assert "nll_loss" in cell.split("**Same cause:**")[1] and "Same cause:</" in html.read_text()
    assert "seen also in" not in cell
    summary = a.to_summary()
    (head,) = [f for f in summary["findings"] if f["related"]]
    assert {r["metric"] for r in head["related"]} >= {"nll_loss", "total_loss"}


def test_text_from_the_logs_cannot_break_the_markdown(tmp_path):
    run = tmp_path / "run"
    tag = "evil|<img src=x onerror=alert(1)>`x`\nsecond"
    write_scalars(run, [(s, tag, float(s)) for s in range(30)] + [(s, "rec_loss", 1.0 / (s + 1)) for s in range(30)])
    out = tmp_path / "r.md"
    write_report(analyze_run(run), out)
    text = out.read_text()
    # escaped with a backslash, never an HTML entity: the file reads as the text, and no tag renders
    assert "\\<img src=x onerror=alert(1)>" in text and "&lt;" not in text
    from markdown_it import MarkdownIt

    assert "<img" not in MarkdownIt("commonmark").enable("table").render(text)
    row = [line for line in text.splitlines() if "onerror" in line and line.startswith("| evil")][0]
    assert row.count(" | ") == 7  # the tag's "|" is escaped: the statistics row keeps its columns


def test_a_stopped_or_nan_run_gets_no_time_estimate(seed_run, tmp_path):
    folder, _ = seed_run
    stopped = analyze_run(folder, now=4.1e9)  # long after the last log: the liveness rule says it stopped
    texts = [q.answer for q in stopped.qa] + stopped.recommendations
    assert not [t for t in texts if "hours away" in t or "days away" in t or "minutes away" in t]
    assert any("No time estimate: the run looks stopped" in t for t in texts)
    # the milestone the status line names is the one not to wait for ("No next milestone" beside it disagreed)
    m = stopped.next_milestone
    assert m is not None and any(f"Waiting for the next milestone (step {m.step:,}, {m.name}) would change nothing: "
                                 "the run looks stopped" in t for t in stopped.recommendations)
    going = analyze_run(folder, now=float(stopped.last_wall_time) + 60)
    assert any(" away." in q.answer for q in going.qa)


def test_a_total_that_crosses_zero_is_described_by_differences_not_percentages():
    from pathlib import Path

    a = analyze_run(Path(__file__).parents[1] / "examples" / "tiny_run")
    total = a.metrics["total_loss"]
    assert total.min < 0 < total.max  # the bundled trainer's run: the GAN term takes the total below 0
    (trend,) = [f for f in a.findings if f.rule == "total-trend"]
    assert "%" not in trend.message and trend.numbers["change"] is None
    assert "%" not in total.describe() and total.change_fraction is None


def test_a_loss_back_where_it_started_is_not_said_to_have_held_there():
    from vae_report.analysis import MetricStats

    st = MetricStats("disc_loss", first=0.0, latest=0.0, min=0.0, max=1.057, count=800, first_step=0,
                     latest_step=80_000, non_finite=0, source="tensorboard")
    assert st.describe() == "ended where it started, at 0"


def test_no_markdown_template_hands_a_separator_to_the_escaping():
    """The Markdown finalize escapes and trims every value, so a separator written as a value (`{{ ", " }}`) loses
    its space ("a,b"); separators are template text."""
    templates = Path(__file__).resolve().parents[1] / "templates"
    found = [(p.name, m) for p in templates.glob("*.md.j2")
             for m in re.findall(r"\{\{ *[\"'][^\"']*\s[\"'] *if[^}]*\}\}", p.read_text())]
    assert found == []


# ---- issue 18 item 2 on published-style runs: sentences that disagreed with another ---------------------------

def _report(a, path: Path) -> str:
    write_report(a, path)
    return path.read_text()


def _texts(a) -> list[str]:
    return [q.answer for q in a.qa] + a.recommendations


def test_no_sentence_points_to_a_milestone_that_does_not_exist(runs, tmp_path):
    curves = radiodiff_curves(3000, disc_start=1000, total_steps=5000)
    curves.values["lr"][:] = 5e-6  # constant: the config names no total, so no decay to judge
    c = config()
    del c["trainer"]["train_num_steps"]
    a = analyze_run(write_run(tmp_path / "no-total", curves, 10, c))
    assert a.status == "ok" and a.next_milestone is None  # past disc_start, no end known: no milestone left
    text = _report(a, tmp_path / "r.md")
    assert "**Next milestone**: none" in text and "next milestone" not in " ".join(_texts(a)).lower()
    healthy = analyze_run(runs["healthy"])  # with one, the sentence names it
    m = healthy.next_milestone
    (answer,) = [q.answer for q in healthy.qa if q.question == "Should I intervene in the training process?"]
    assert f"the next milestone (step {m.step:,}, {m.name})" in answer


def test_a_nan_discriminator_loss_is_never_read_as_fine(tmp_path):
    curves = radiodiff_curves(4000, disc_start=1000, total_steps=5000)
    for name in ("disc_loss", "g_loss", "total_loss", "logits_real", "logits_fake"):
        curves.values[name][curves.steps >= 3500] = np.nan
    a = analyze_run(write_run(tmp_path / "nan", curves, 10, config()))
    qa = {q.question: q.answer for q in a.qa}
    assert not [q for q, answer in qa.items() if "discriminator" in q and answer.startswith("Yes")]
    assert not [answer for answer in qa.values() if "no longer zero" in answer]
    (said,) = [answer for answer in qa.values() if "disc_loss is NaN/Inf since step 3,500" in answer]
    assert "See the error \"NaN or Inf in a metric\"" in said  # the finding that says it, pointed to


def _run_without_gan_metrics(folder: Path, disc_start: int | None, drop: tuple = ()) -> Path:
    """rec/kl/total/nll only, as a loop that logs no discriminator metric (or logs them under its own names)."""
    curves = radiodiff_curves(3000, disc_start=50_001, total_steps=5000)
    curves.values = {k: v for k, v in curves.values.items() if k in ("rec_loss", "kl_loss", "nll_loss", "lr")}
    curves.values["total_loss"] = curves.values["nll_loss"] + 1e-6 * curves.values["kl_loss"]
    curves.values = {k: v for k, v in curves.values.items() if k not in drop}
    c = config(disc_start=disc_start or 1000)
    if disc_start is None:
        del c["model"]["lossconfig"]["disc_start"]
        c["model"]["lossconfig"]["target"] = "torch.nn.Identity"
    return write_run(folder, curves, 10, c)


def test_an_all_clear_says_what_was_not_examined(tmp_path):
    a = analyze_run(_run_without_gan_metrics(tmp_path / "gan", disc_start=1000))
    assert a.status == "ok"
    text = _report(a, tmp_path / "gan.md")
    conclusion = text.split("## Conclusion")[1]
    skipped = [f for f in a.findings if f.skipped and (f.rule in DISC_RULES or "disc" in f.rule)]
    assert skipped and f"not examined were {len(skipped)} discriminator checks" in conclusion
    # what they needed, each name once, as metric names (not the checks' "a|b" patterns)
    assert "discriminator checks, for want of disc_factor, disc_loss" in conclusion and "|" not in conclusion
    # every other check skipped is named too, not only the discriminator's: an all-clear never reads as covering them
    bare = analyze_run(_run_without_gan_metrics(tmp_path / "no_lr_kl", disc_start=1000, drop=("lr", "kl_loss")))
    said = _report(bare, tmp_path / "bare.md").split("## Conclusion")[1]
    assert "4 KL checks, for want of kl_loss" in said or "KL checks, for want of kl_loss" in said
    others = [f for f in bare.findings if f.skipped and not f.rule.startswith("kl-") and "disc" not in f.rule
              and f.rule not in DISC_RULES]
    # named by their titles, never by rule ids a reader does not know (eval14: "1 discriminator check" named none)
    assert "lr-schedule" in [f.rule for f in others] and all(f.title in said for f in others)
    (answer,) = [q.answer for q in a.qa if q.question == "Should I intervene in the training process?"]
    assert "what was not is listed in the Conclusion" in answer and "Not examined: " in a.recommendations[0]
    assert "not examined were" not in answer  # said in full once in the conclusion, not again in an answer
    # an epoch log whose config counts steps: its phases were not judged, and the all-clear says so
    epochs = tmp_path / "epochs"
    epochs.mkdir()
    with (epochs / "train.log").open("w") as out:
        for epoch in range(1, 41):
            print(f"Epoch [{epoch}/100], Total Loss: {0.4 / (1 + epoch / 10) + 0.02:.4f}", file=out)
    (epochs / "config.yaml").write_text("disc_start: 50001\nkl_weight: 1.0e-6\n")
    a = analyze_run(epochs)
    said = _report(a, tmp_path / "e.md")
    assert a.status == "ok" and "the phases and milestones, since the config's disc_start" in said


def test_a_model_without_a_discriminator_has_one_phase_label(tmp_path):
    """The status line, the JSON summary and the overview name the one phase of a model without a discriminator
    alike ("autoencoder only"), never "unknown" in one place and "autoencoder only" in another."""
    a = analyze_run(_run_without_gan_metrics(tmp_path / "vae", disc_start=None))
    text = _report(a, tmp_path / "vae.md")
    assert a.phase == a.to_summary()["phase"] == "autoencoder only"
    assert "phase: autoencoder only" in text.splitlines()[2] and "unknown" not in text.splitlines()[2]
    assert "**Current phase**: autoencoder only" in text or "autoencoder only: this model has no discriminator" in text


def test_the_title_names_the_model_the_run_trains(runs, tmp_path):
    plain = analyze_run(_run_without_gan_metrics(tmp_path / "vae", disc_start=None))
    assert plain.schedule.disc_start is None and not any("disc" in m for m in plain.metrics)
    assert _report(plain, tmp_path / "vae.md").startswith("# VAE training report: vae")
    assert "not examined" not in " ".join(_texts(plain))  # no discriminator: nothing there left unexamined
    assert _report(analyze_run(runs["healthy"]), tmp_path / "gan.md").startswith("# VAE-GAN training report")
    vq, _ = _vq_run(tmp_path / "vq")  # taming's VQGAN: disc_start in its config, no disc metric logged yet
    assert _report(vq, tmp_path / "vq.md").startswith("# VQGAN training report")
    cfg = yaml.safe_load((tmp_path / "vq" / "config.yaml").read_text())  # the same model with a loss without a GAN
    cfg["model"]["params"]["lossconfig"] = {"target": "taming.modules.losses.vqperceptual.DummyLoss",
                                            "params": {"codebook_weight": 1.0}}
    (tmp_path / "vq" / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert _report(analyze_run(tmp_path / "vq"), tmp_path / "vq.md").startswith("# VQ-VAE training report")
    out = tmp_path / "compare.md"
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "vae"), str(_run_without_gan_metrics(
        tmp_path / "vae2", disc_start=None)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# VAE run comparison")


def test_sentences_count_in_the_logs_unit(tmp_path):
    with (tmp_path / "train.log").open("w") as out:
        for epoch in range(1, 41):
            rec = 0.4 / (1 + epoch / 10)
            print(f"Epoch [{epoch}/100], Total Loss: {rec + 0.02:.4f}, Recon: {rec:.4f}, KL: {2 + epoch / 100:.3f}",
                  file=out)
    (tmp_path / "config.yaml").write_text("disc_start: 50001\nkl_weight: 1.0e-6\n")
    a = analyze_run(tmp_path)
    assert a.schedule.counts == "epoch"
    text = _report(a, tmp_path / "r.md")
    assert "from epoch 1 to epoch 40 it" in text and "| Epoch | Finding |" in text
    views = text.split("## Key training metrics analysis")[1].split("## Configuration")[0]
    assert not re.search(r"\bsteps? [\d,]+", views), views
    # with steps_per_epoch the schedule is in epochs too: the answers, the forecast and the advice count epochs
    (tmp_path / "config.yaml").write_text("disc_start: 50001\nkl_weight: 1.0e-6\nsteps_per_epoch: 1000\n")
    a = analyze_run(tmp_path)
    said = _texts(a) + [why for _, why in a.forecast.declined()]
    assert a.schedule.disc_start == 51 and any("At epoch 51 (disc_start" in t for t in said)
    assert [t for t in said if re.search(r"\bsteps? [\d,]+", t)] == []


def test_the_answers_quote_the_forecast(runs):
    a = analyze_run(runs["healthy"])
    rows = a.forecast.rows()
    assert rows
    (answer,) = [q.answer for q in a.qa if q.question == "Where will the losses be at the end of training?"]
    from vae_report.numbers import fmt, interval

    for r in rows:  # rounded as the Forecast table rounds them: to what the interval supports
        level, low, high = interval(r["level"], r["low"], r["high"])
        # the first level of a step carries the sentence's verb ("rec_loss will be about ...")
        assert re.search(rf"{r['metric']} (will be )?about {re.escape(f'{level} (90% interval {low} to {high})')}",
                         answer)
        assert f"t step {fmt(r['at_step'])} ({r['label']})" in answer  # the step once, before its levels
    assert answer.startswith("At step ")  # the answer first: where, then the levels
    finished = analyze_run(runs["finished"])
    assert not [q for q in finished.qa if "end of training" in q.question]


def test_the_observation_and_the_table_start_from_one_named_level(runs, tmp_path):
    a = analyze_run(runs["exploding"])
    text = _report(a, tmp_path / "r.md")
    from vae_report.numbers import fmt

    for name in ("total_loss", "rec_loss", "kl_loss"):
        st = a.metrics[name]
        assert st.start != st.first or name == "kl_loss"  # the first point is not the start level
        section = text.split(f"### {name}")[1].split("###")[0]
        assert f"from {fmt(st.start)} to" in section and "start: the median of its first" in section
        row = [line for line in text.splitlines() if line.startswith(f"| {name} |")][0]
        assert row.split(" | ")[1] == fmt(st.start)


def test_a_loss_that_went_nan_is_not_forecast(tmp_path):
    curves = radiodiff_curves(4000, disc_start=1000, total_steps=5000)
    for name in ("rec_loss", "nll_loss", "total_loss", "kl_loss"):
        curves.values[name][curves.steps >= 3500] = np.nan
    a = analyze_run(write_run(tmp_path / "nan", curves, 10, config()))
    # every key loss NaN: no level to say where they will be, so whether they can be forecast is asked
    (answer,) = [q.answer for q in a.qa if q.question == "Can the key losses be forecast?"]
    assert "rec_loss about" not in answer
    assert re.search(r"rec_loss[\w, ]*: no forecast, NaN/Inf since step 3,500", answer), answer
    section = _report(a, tmp_path / "r.md").split("## Forecast")[1].split("\n## ")[0]
    assert "| rec_loss |" not in section and re.search(r"rec_loss[\w, ]*: NaN/Inf since step 3,500", section)
    # the JSON summary carries the same forecast: none for rec_loss, with the reason the report gives
    summary = a.to_summary()["forecast"]["rec_loss"]
    assert summary["level"] is None and summary["reason"].startswith("NaN/Inf since step 3,500")
    goal = analyze_run(tmp_path / "nan", goals=[("rec_loss", 1e-9)]).forecast.goals[0]
    assert goal.step is None and goal.note.startswith("no forecast: NaN/Inf since step 3,500")


def test_a_sweep_of_epoch_logs_counts_epochs_and_names_the_model(tmp_path):
    for seed in (1, 2):
        folder = tmp_path / "sweep" / f"run{seed}"
        folder.mkdir(parents=True)
        with (folder / "train.log").open("w") as out:
            for epoch in range(1, 41):
                rec = 0.4 / (1 + epoch / (10 * seed))
                print(f"Epoch [{epoch}/100], Total Loss: {rec + 0.02:.4f}, Recon: {rec:.4f}, KL: {2 + epoch / 100:.3f}",
                      file=out)
    out = tmp_path / "sweep.md"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "sweep"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("# VAE sweep report") and "epoch 40 of 100" in text and "| Epoch | Finding |" in text
    assert not re.search(r"\bstep [\d,]+ of", text)
    # VAEs without a discriminator: one phase, no disc_start dashes to explain, the losses they log named
    assert "| autoencoder only |" in text and "| unknown |" not in text and "disc_start" not in text
    assert "the four losses" not in text and "run1: total_loss, kl_loss, rec_loss." in text


# ---- every question's premise holds in the run it is asked of ------------------------------------------------

def premise_failures(a) -> list[str]:
    """Questions whose premise the run's own data contradict: a discriminator loss called zero that is not, a
    switch-on asked in the future tense after it, an intervention in a finished run, a level "near" a value it
    is not near, a forecast "at the end of training" with no end-of-training level."""
    out = []
    for q in a.qa:
        st = a.metrics.get("disc_loss")
        if "discriminator loss zero" in q.question and not (st.now == 0 or st.latest == 0):
            out.append(f"{q.question}: disc_loss is {st.now}")
        if "Should I be worried?" in q.question and not q.answer.startswith(
                ("Yes", "No", "Look at it", "It is not zero", "Cannot say")):
            out.append(f"{q.question}: not answered first ({q.answer[:60]})")
        if q.question.startswith("When did the discriminator") and not q.answer.startswith(("At ", "It was")):
            out.append(f"{q.question}: not answered first ({q.answer[:60]})")
        if q.question.startswith("When will the discriminator") and a.step >= a.schedule.disc_start:
            out.append(f"{q.question}: at step {a.step}, disc_start {a.schedule.disc_start}")
        if q.question.startswith("When did the discriminator") and a.disc_never_on:
            out.append(f"{q.question}: it never switched on")
        if "no forecast, no " in q.answer:
            out.append(f"{q.question}: {q.answer}")
        if re.match(r"[A-Z][a-z]*_[a-z]", q.answer):  # "D_weight", "Rec_loss": no metric is spelled so
            out.append(f"{q.question}: {q.answer[:40]}")
        kl = a.metrics.get("kl_loss")
        if q.question == "Is the KL loss increase concerning?" and not kl.now > kl.start:
            out.append(f"{q.question}: kl_loss went from {kl.start} to {kl.now}")
        if q.question.startswith("Should I intervene") and a.finished:
            out.append(f"{q.question}: the run has finished")
        near = re.match(r"Is a discriminator loss near ([\d.]+) fine", q.question)
        if near and abs(st.now - float(near[1])) > 0.25 * float(near[1]):
            out.append(f"{q.question}: disc_loss is {st.now}")
        if q.question.endswith("at the end of training?") and \
                "end of training" not in {r["label"] for r in a.forecast.rows()}:
            out.append(f"{q.question}: forecast only at {[r['label'] for r in a.forecast.rows()]}")
    return out


def test_every_question_s_premise_holds_in_the_run(runs, seed_run, tmp_path):
    asked = set()
    for a in [analyze_run(folder) for folder in runs.values()] + [analyze_run(seed_run[0])]:
        assert premise_failures(a) == [], a.run
        asked |= {q.question for q in a.qa}
    # the seed report's question where it fits (the discriminator off, its loss 0) and the other one where not
    assert {"Why is the discriminator loss zero? Should I be worried?", "When will the discriminator become active?",
            "Is the discriminator loss where the schedule puts it?", "When did the discriminator become active?",
            "Does the finished run need attention?", "Should I intervene in the training process?"} <= asked
    # all as scheduled: the answer says so in one sentence, not by repeating the findings the switch-on answer uses
    healthy = analyze_run(runs["healthy"])
    (level,) = [q.answer for q in healthy.qa if q.question == "Is the discriminator loss where the schedule puts it?"]
    on = [f for f in healthy.findings if f.rule == "disc-inactive-after-start"][0]
    assert level.startswith("Yes: it was 0 while the discriminator was off") and on.message not in level
    # a vanilla discriminator at its chance level (ln 2) is asked about that level, not about 1
    curves = radiodiff_curves(4000, disc_start=1000, total_steps=5000)
    on = curves.steps >= 1000
    curves.values["disc_loss"][on] = np.log(2) + 0.01 * np.sin(curves.steps[on])
    c = config()
    c["model"]["lossconfig"]["disc_loss"] = "vanilla"
    a = analyze_run(write_run(tmp_path / "vanilla", curves, 10, c))
    assert premise_failures(a) == []
    (said,) = [q for q in a.qa if q.question.startswith("Is a discriminator loss")]
    assert said.question == "Is a discriminator loss near 0.693 fine?", said.question


def test_findings_of_one_cause_are_placed_in_the_logs_unit(tmp_path):
    with (tmp_path / "train.log").open("w") as out:
        for epoch in range(1, 41):
            rec = f"{0.4 / (1 + epoch / 10):.4f}" if epoch < 36 else "nan"  # diverged at epoch 36, logs on
            total = f"{float(rec) + 0.02:.4f}" if epoch < 36 else "nan"
            print(f"Epoch [{epoch}/100], Total Loss: {total}, Recon: {rec}, KL: {2 + epoch / 100:.3f}", file=out)
    (tmp_path / "config.yaml").write_text("disc_start: 50001\nkl_weight: 1.0e-6\n")
    a = analyze_run(tmp_path)
    assert [f for f in a.active_findings() if f.related]  # one headline with the other loss under it
    row = [line for line in _report(a, tmp_path / "r.md").splitlines() if "Same cause" in line][0]
    assert "from epoch 36" in row.split("Same cause")[1] and "from step" not in row
    # the answers that point to it place it in epochs too
    cited = [q.answer for q in a.qa if "the error \"NaN or Inf in a metric\"" in q.answer]
    # (positions: no "step 36"; the intervene answer also quotes the finding's action, whose words are its own)
    assert cited and all("epoch 36)" in answer and not re.search(r"\bsteps? ~?\d", answer) for answer in cited), cited


def test_a_model_without_a_discriminator_is_described_as_one(tmp_path):
    from vae_report.narrative import DISC_CHECKS

    folder = tmp_path / "vae"  # a console log and no config: nothing says what KL weight the run used
    folder.mkdir()
    with (folder / "train.log").open("w") as out:
        for epoch in range(1, 61):
            rec = 0.4 / (1 + epoch / 10)
            print(f"Epoch [{epoch}/100], Total Loss: {rec + 0.02:.4f}, Recon: {rec:.4f}, KL: {2 + epoch / 10:.3f}",
                  file=out)
    a = analyze_run(folder)
    text = _report(a, tmp_path / "r.md")
    skipped = [f.rule for f in a.findings if f.skipped and f.rule in DISC_CHECKS]
    assert skipped and f"Not checked: the {len(skipped)} discriminator checks (this model has no discriminator)" in text
    assert not [rule for rule in skipped if f"`{rule}`" in text]  # not listed one by one with what they need
    assert "**Phase**: autoencoder only" in text and "unknown (no `disc_start`)" not in text
    assert a.schedule.kl_weight is None  # a KL rise no check could judge is "not judged", never a bare "No."
    (kl,) = [q.answer for q in a.qa if q.question.startswith("Is the KL loss")]
    assert kl.startswith("Not judged: KL rose") and "--kl-weight" in kl


def test_the_report_says_a_thing_once_where_a_list_would_repeat_it(tmp_path):
    vq, _ = _vq_run(tmp_path / "vq")
    text = _report(vq, tmp_path / "vq.md")
    # checks skipped for one reason share it
    assert text.count("(not applicable to this model)") == 1 and "`kl-rising`, `kl-dominant`" in text
    # the config file is named once, above its table, not in every row
    section = text.split("## Configuration analysis")[1].split("\n## ")[0]
    assert section.count(vq.schedule.config_path) == 1 and "| config |" in section
    c = config()
    del c["trainer"]["train_num_steps"]  # no total: no milestone is "left in the schedule", none is known
    a = analyze_run(write_run(tmp_path / "no-total", radiodiff_curves(3000, disc_start=1000, total_steps=5000), 10, c))
    assert "**Next milestone**: none known: the total steps are unknown" in _report(a, tmp_path / "r.md")
    # no level forecast anywhere: asked whether there is one, answered "No" with what would give one
    (answer,) = [q.answer for q in a.qa if q.question == "Can the key losses be forecast?"]
    assert answer.startswith("No: ") and answer.endswith("--total-steps for an "
                                                                                   "end-of-training forecast.")


def test_an_ok_finding_is_not_copied_into_the_plot_captions(runs, tmp_path):
    from vae_report.analysis import examine_run

    run = examine_run(runs["healthy"], draw_plots=True)
    a, out = run.analysis, tmp_path / "r.md"
    write_report(run, out)
    captions = out.read_text().split("## Training visualizations")[1].split("\n## ")[0]
    quiet = [f for f in a.active_findings() if f.severity in ("ok", "info") and f.metric in ("rec_loss", "kl_loss")]
    assert quiet and not [f.rule for f in quiet if f.message[:60] in captions]


def test_the_kl_question_follows_its_levels_not_two_single_points(tmp_path):
    curves = radiodiff_curves(3000, disc_start=50_001, total_steps=10_000)
    kl = curves.values["kl_loss"]
    curves.values["kl_loss"] = np.linspace(kl.max(), kl.min(), len(kl)) * (1 + 0.02 * np.sin(curves.steps))
    curves.values["kl_loss"][-1] = 2 * kl.max()  # one last point above the first: the level still fell
    a = analyze_run(write_run(tmp_path / "kl-fell", curves, 10, config(disc_start=50_001, total=10_000)))
    st = a.metrics["kl_loss"]
    assert st.now < st.start and st.latest > st.first
    assert premise_failures(a) == [] and "Is the KL loss's behaviour concerning?" in [q.question for q in a.qa]


def test_a_metric_name_that_begins_an_answer_keeps_its_spelling():
    from vae_report.narrative.answers import capital

    assert capital("d_weight is clamped to 1e4 x disc_weight") == "d_weight is clamped to 1e4 x disc_weight"
    assert capital("val/rec_loss rose") == "val/rec_loss rose"
    assert capital("a NaN or Inf is where numerics broke") == "A NaN or Inf is where numerics broke"


def test_one_re_run_is_recommended_once(seed_run):
    a = analyze_run(seed_run[0])  # before the discriminator: the next milestone is its switch-on
    assert a.next_milestone.step == a.schedule.switch_step
    said = [r for r in a.recommendations if "re-run" in r or "Next check" in r]
    assert len(said) == 1 and "switched on and that reconstruction holds" in said[0], a.recommendations


def test_a_forecast_that_time_will_allow_is_not_yet_one_that_it_will_not_is_no(tmp_path):
    young = analyze_run(write_run(tmp_path / "young", radiodiff_curves(1100, disc_start=1000, total_steps=5000), 10,
                                  config()))  # just past the switch-on: too few points in this phase yet
    (answer,) = [q.answer for q in young.qa if q.question == "Can the key losses be forecast?"]
    assert answer.startswith("Not yet: ") and "only " in answer


def test_a_loss_nan_at_its_latest_point_has_no_level_now(tmp_path):
    curves = radiodiff_curves(4000, disc_start=1000, total_steps=5000)
    curves.values["rec_loss"][curves.steps >= 3500] = np.nan
    a = analyze_run(write_run(tmp_path / "nan", curves, 10, config()))
    assert np.isnan(a.metrics["rec_loss"].now) and a.to_summary()["metrics"]["rec_loss"]["now"] == "NaN"
    text = _report(a, tmp_path / "r.md")
    row = [line for line in text.splitlines() if line.startswith("| rec_loss |")][0]
    assert row.split(" | ")[2] == "NaN"  # not the median of the finite points before, as if it were current
    section = text.split("### rec_loss")[1].split("###")[0]
    assert "to NaN" in section and "now: its latest point" in section


def test_logs_older_than_the_stale_limit_get_no_eta_but_their_age(seed_run):
    """An ETA counted from a log years old is a future in the past: none is given, the log's age is, and how to
    judge liveness (--now); with a clock the ETA comes back, from now."""
    folder, _ = seed_run
    old = analyze_run(folder)  # no --now: the seed run's logs are from 2023, far before this report's clock
    (live,) = [f for f in old.findings if f.rule == "liveness"]
    days = live.numbers["log_age_at_report_hours"] / 24
    assert live.severity == "info" and days > 365
    assert f"the last log is {round(days):,} days old" in live.message and "--now" in live.message
    assert "hours_to_next_milestone" not in live.numbers and "hours_to_end" not in live.numbers
    texts = [live.message] + [q.answer for q in old.qa] + old.recommendations
    eta = re.compile(r"\babout [0-9.]+ (?:hours|min|days)|in about|after (?:its|the) last log")
    assert not [t for t in texts if eta.search(t)]
    # why is said once, by the liveness finding; an answer points there
    assert any(q.answer.endswith(f'No time estimate (see "{live.title}").') for q in old.qa)
    fresh = analyze_run(folder, now=float(old.last_wall_time) + 60)  # judged with a clock: the ETA is from now
    (live,) = [f for f in fresh.findings if f.rule == "liveness"]
    assert " in about " in live.message and "log_age_at_report_hours" not in live.numbers


def test_a_stalled_run_has_no_eta_in_liveness_nor_in_the_answers(tmp_path):
    """One source for the time estimate: liveness never times a milestone that the answers say a stalled run
    will not reach."""
    curves = stalled_curves()
    # disc_start inside the total: a switch-on past the end would be no milestone to time
    folder = write_run(tmp_path / "stalled", curves, 10, config(disc_start=9_001, total=10_000))
    a = analyze_run(folder, now=1.7e9 + 3000 * 0.5 + 60)  # judged while it runs: only the stall can stop an ETA
    (live,) = [f for f in a.findings if f.rule == "liveness"]
    assert "training has stalled" in live.numbers["no_eta"] and "in about" not in live.message
    assert "hours_to_next_milestone" not in live.numbers
    (when,) = [q.answer for q in a.qa if q.question.startswith("When will the discriminator")]
    # a run that cannot go on reaches no switch-on: the answer says so first (the one gate, Analysis.halted) and
    # points to the liveness finding for why, said there once
    assert when.startswith(f'Not as the run stands: it cannot go on as it is (see "{live.title}").')
    assert live.numbers["no_eta"] not in when and " away." not in when


def test_wall_times_faster_than_any_training_step_give_no_speed(tmp_path):
    """Wall times stamped when the logs were written (60,000 steps in a second) are no training clock: no speed,
    no ETA, and the report says why, in the finding and the confidence."""
    curves = radiodiff_curves(3000, disc_start=1000, total_steps=5000)
    points = [(int(s), f"train/{k}", float(v[i])) for i, s in enumerate(curves.steps) if s % 10 == 0
              for k, v in curves.values.items()]
    write_scalars(tmp_path / "fast", points, seconds_per_step=2e-5)  # 50,000 steps a second
    (tmp_path / "fast" / "config.yaml").write_text(yaml.safe_dump(config()))
    a = analyze_run(tmp_path / "fast", now=1.7e9 + 3000 * 2e-5 + 1)
    (live,) = [f for f in a.findings if f.rule == "liveness"]
    assert "steps_per_hour" not in live.numbers and live.numbers["implausible_clock"]
    assert "No training speed" in live.message and "50,000 steps per second" in live.message
    assert "not when training ran" in live.message
    assert not [t for t in [q.answer for q in a.qa] + a.recommendations if " per hour" in t]
    assert any("no training clock" in r for r in a.confidence_reasons)
    assert not [g for g in a.forecast.goals if g.date]
    normal = write_run(tmp_path / "normal", curves, 10, config())  # 0.5 s a step: 7,200 steps an hour
    (live,) = [f for f in analyze_run(normal, now=1.7e9 + 1500 + 60).findings if f.rule == "liveness"]
    assert live.numbers["steps_per_hour"] == pytest.approx(7200)


# how a check works, which is no reason for a user to care: its method's words
_METHOD = re.compile(r"CUSUM|change point|median|\bMAD\b|\bjudged\b|\bcompare|should follow|outlier test"
                     r"|\bcheck(?:s|ing)? (?:it|that)\b", re.I)


def test_why_a_warning_matters_is_its_consequence_not_its_method():
    """"Why does X matter?" answers with what the fault does to training, never with how the rule finds it."""
    from vae_report.rules import RULES

    said = {rule.id: rule.rationale for rule in RULES if set(rule.raises()) & {"warning", "error"}}
    assert not {rule: why for rule, why in said.items() if _METHOD.search(why)}


def test_which_logit_is_above_is_said_only_when_the_gap_is_clear_of_their_noise(tmp_path):
    """"real above fake, as they should be" only for a gap the levels' noise cannot make; a 0.003 gap in logits that
    swing by 0.1 is said as a gap within their noise."""
    said = {}
    for name, gap in (("close", 0.003), ("apart", 0.2)):
        curves = radiodiff_curves(3000, disc_start=1000, total_steps=5000)
        rng = np.random.default_rng(1)
        curves.values["logits_real"] = gap / 2 + 0.1 * rng.standard_normal(len(curves.steps))
        curves.values["logits_fake"] = -gap / 2 + 0.1 * rng.standard_normal(len(curves.steps))
        a = analyze_run(write_run(tmp_path / name, curves, 10, config()))
        said[name] = " ".join(f.message for f in a.findings if "Its logits now" in f.message)
    assert said["close"] and "as they should be" not in said["close"] and "within their noise" in said["close"]
    assert "real above fake, as they should be" in said["apart"]


def test_a_kl_explosion_names_its_threshold_in_words(tmp_path):
    """"(x100 or more)" read as either the allowance or the threshold: the sentence says which."""
    curves = radiodiff_curves(6000, disc_start=50_001, total_steps=10_000)
    curves.values["kl_loss"] = 1_000 * np.exp(curves.steps / 800.0)  # x1,800 over the run
    _rebuild_sums(curves)
    a = analyze_run(write_run(tmp_path, curves, 10, config(disc_start=50_001, total=10_000)))
    said = [d["message"] for f in a.findings for d in (f.to_dict(), *f.related) if d["rule"] == "kl-rising"]
    assert said and not [m for m in said if "(x100 or more)" in m]
    assert "a rise to 100 times its start level or more is far beyond the slow rise" in said[0]


def _empty_sections(markdown_text: str) -> list[str]:
    """The headings with nothing under them before the next heading of the same or a higher level."""
    lines = [line for line in markdown_text.splitlines() if line.strip()]
    out = []
    for i, line in enumerate(lines):
        level = len(line) - len(line.lstrip("#")) if line.startswith("#") else 0
        if level >= 2:
            following = lines[i + 1] if i + 1 < len(lines) else ""
            nxt = len(following) - len(following.lstrip("#")) if following.startswith("#") else 0
            if not following or (nxt and nxt <= level):
                out.append(line)
    return out


def test_a_validation_only_run_has_no_empty_section_and_its_confidence_names_what_is_logged(tmp_path):
    """Logs of validation losses alone (val/rec_loss, val/kl_loss) and no config: every section says something
    (progress says why it cannot be assessed, the key metrics are the validation ones) and the confidence does
    not say that no reconstruction loss is logged."""
    steps = range(500, 50_001, 500)
    points = [(s, tag, value) for s in steps for tag, value in
              (("val/rec_loss", 0.015 + 0.06 * np.exp(-s / 8000)), ("val/kl_loss", 18 - 10 * np.exp(-s / 9000)))]
    write_scalars(tmp_path / "run", points, seconds_per_step=0.2)
    a = analyze_run(tmp_path / "run")
    text = _report(a, tmp_path / "r.md")
    assert _empty_sections(text) == []
    progress = text.split("## Progress assessment")[1].split("\n## ")[0]
    assert "No progress can be assessed: no training config was found" in progress
    assert "### val/rec_loss" in text.split("## Key training metrics analysis")[1].split("\n## ")[0]
    assert not [r for r in a.confidence_reasons if "no reconstruction" in r]
    assert any("only validation's (val/rec_loss)" in r for r in a.confidence_reasons)


def test_a_recovered_nan_warning_says_why_it_warns_not_that_it_is_routine(tmp_path):
    """fp16 with a gradient scaler: a few isolated non-finite losses the run recovered from. The finding is a
    warning (README's rule table), so its sentence says why it warns; it never calls the points routine."""
    import csv

    rng = np.random.default_rng(0)
    with (tmp_path / "metrics.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["step", "rec_loss", "kl_loss"])
        for s in range(0, 3_000, 10):
            rec = "nan" if s in (700, 1_500, 2_300) else 0.1 + 0.5 * np.exp(-s / 800) + 0.002 * rng.standard_normal()
            writer.writerow([s, rec, 2 + s * 1e-4])
    found = [f for f in analyze_run(tmp_path).findings if f.rule == "non-finite" and f.numbers.get("recovered")]
    assert found and all(f.severity == "warning" for f in found)
    for f in found:
        assert "routine" not in f.message and "normal" not in f.message.split("A warning because")[0], f.message
        assert "A warning because" in f.message, f.message


def test_the_kl_answer_tells_a_rise_to_a_peak_and_the_fall_under_an_annealed_weight(tmp_path):
    """beta warm-up: kl_weight logged from 0 to 1e-3, the KL peaks early and falls to a fifth of its peak. The
    KL answer says the peak, the fall as a share of it, and the annealed weight, not only "has not risen"."""
    import csv

    steps = np.arange(0, 5_000, 10)
    kl = 1_000 + 5_000 * np.exp(-((steps - 800) / 500.0) ** 2) * (steps < 800) + \
        5_000 * np.exp(-(steps - 800) / 900.0) * (steps >= 800)
    kl = np.maximum(kl, 1_000 + 0 * steps)
    kl[steps < 800] = 3_000 + 3_000 * steps[steps < 800] / 800
    with (tmp_path / "metrics.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["step", "rec_loss", "kl_loss", "kl_weight"])
        for s, k in zip(steps, kl, strict=True):
            writer.writerow([s, 0.05 + 0.3 * np.exp(-s / 1_000), k, 1e-3 * min(1.0, s / 2_000)])
    a = analyze_run(tmp_path)
    answer = next(q.answer for q in a.qa if q.question.startswith("Is the KL"))
    peak, now = a.metrics["kl_loss"].max, a.metrics["kl_loss"].now
    assert "peak" in answer and f"{now / peak:.0%} of that peak" in answer, answer
    assert "kl_weight rose from 0 to 0.001" in answer and "annealed" in answer, answer


def test_a_run_of_five_points_judges_no_trend_and_its_all_clear_says_so(tmp_path):
    """Five logged points: no loss is called "at its best" (its noise is unknown), the KL's rise is not judged,
    and the all-clear names what five points could not show."""
    curves = radiodiff_curves(400, disc_start=50_001, total_steps=150_000)
    a = analyze_run(write_run(tmp_path, curves, 100, config(disc_start=50_001, total=150_000)))
    (now,) = [f for f in a.findings if f.rule == "loss-now"]
    assert now.severity == "info" and now.message.startswith("No loss is judged in the latest logs")
    assert "at or near" not in now.message and "fewer than 20 logged points" in now.message
    (kl,) = [q.answer for q in a.qa if q.question.startswith("Is the KL loss")]
    assert kl.startswith("Not judged: KL") and "only 5 logged points" in kl
    assert "fewer than 20 logged points each" in " ".join(a.recommendations)
    # eval12 r6v_six_points: it said "the trends of rec_loss ... not examined" beside rec-trend's ok on the same
    # points; what five points cannot show is a recent rise (loss-now), not the change over the run
    said = " ".join(a.recommendations)
    assert "the trends of" not in said and "rise in the latest logs, with fewer than 20 logged points" in said


def test_an_all_clear_names_an_adversarial_phase_too_young_to_judge(tmp_path):
    """Ten points since the switch-on: the GAN checks cannot judge the balance yet, and the all-clear says so
    instead of vouching for it."""
    curves = radiodiff_curves(1100, disc_start=1001, total_steps=150_000)
    a = analyze_run(write_run(tmp_path, curves, 10, config(disc_start=1001, total=150_000)))
    (now,) = [f for f in a.findings if f.rule == "loss-now"]
    assert now.numbers["not_judged_yet"]
    from vae_report.narrative.state import ok_meaning

    # the balance is "not examined" only where no balance rule judged it (eval14 b_t5: "ok ... the ordinary state
    # of a GAN" in the findings beside "not examined were the GAN's balance" in the conclusion)
    judged = [f for f in a.findings if f.rule in ("disc-overpowering", "generator-winning", "disc-at-chance")
              and not f.skipped]
    said = ok_meaning(a)
    assert ("the GAN's balance, and whether " in said) == (not judged)
    assert "in the latest logs of the adversarial phase: fewer than 20 points since" in said
    # eval11 c2_trainer_vanilla: the ranges answer vouched for the GAN's values ("Yes, the sizes fit: ... disc_loss
    # 0.323 (chance level 0.693)") from the one latest level of a phase ten points old
    (ranges,) = [q.answer for q in a.qa if q.question == "Are the loss values in the right ranges?"]
    assert ranges.startswith("Partly, the sizes fit: ") and not ranges.startswith("Yes")
    told = ranges.split("; not judged yet, with fewer than 20 points since the discriminator switched on: ", 1)
    assert len(told) == 2 and "disc_loss" not in told[0] and "d_weight" not in told[0]
    assert "disc_loss " in told[1] and "threshold" not in told[1]  # told, not held against a check's threshold


def test_an_all_clear_on_old_logs_never_tells_to_keep_a_run_running_that_may_have_stopped(tmp_path):
    # eval12 (r1_tb_restart_rewind): "Should I intervene? No ... Keep it running" beside the Recommendations'
    # "they end 6.6 days before this report, so whether the run still goes is for --now to say"
    curves = radiodiff_curves(4000, disc_start=1000, total_steps=5000)
    a = analyze_run(write_run(tmp_path, curves, 10, config()))  # wall times of 2023: logs long ended
    (answer,) = [q.answer for q in a.qa if q.question == "Should I intervene in the training process?"]
    assert a.status == "ok" and "If it still runs, keep it running" in answer, answer
    assert any("whether the run still goes" in r for r in a.recommendations)


@pytest.mark.parametrize("minutes_left", [9, 30])
def test_a_time_estimate_from_fresh_logs_counts_from_the_reports_clock(tmp_path, minutes_left):
    """Logs whose last point is 12 minutes old (younger than the 15-minute stale limit), no --now: the end due 9
    minutes after that log is overdue, not "in about 9 min"; one due 30 minutes after it is about 18 minutes away."""
    import time

    per_step = 0.5  # seconds
    last = 6_000 - int(minutes_left * 60 / per_step)
    start = time.time() - 12 * 60 - last * per_step
    steps = range(0, last + 1, 20)
    write_scalars(tmp_path, [(s, "rec_loss", 0.03 + 0.2 * np.exp(-s / 800)) for s in steps], start_wall=start,
                  seconds_per_step=per_step)
    a = analyze_run(tmp_path, total_steps=6_000)
    (live,) = [f for f in a.findings if f.rule == "liveness"]
    if minutes_left == 9:
        assert "step 6,000 (end of training) overdue: due about 3 min ago" in live.message, live.message
    else:
        assert "step 6,000 (end of training) in about 18 min" in live.message, live.message


def test_a_run_said_to_have_ended_is_told_so_in_every_section(seed_run):
    """--ended (or the Lightning callback's exception path) reached the status line and Q6 only: the first
    recommendation still said "continue training", the forecast and Q5 went on to a switch-on the run will never
    reach, the liveness finding asked whether it still goes, and the conclusion said it "behaves" as scheduled."""
    folder, _ = seed_run
    a = analyze_run(folder, ended="RuntimeError: CUDA out of memory")
    # a crash is an error (eval15: "✅ ok" for a run that died of out-of-memory), said by its own finding
    assert a.status == "error" and a.forecast.rows() == []
    (end,) = [f for f in a.findings if f.rule == "run-ended"]
    assert end.severity == "error" and "before the end of its schedule: RuntimeError: CUDA out of memory" in \
        end.message
    assert all("the run has ended (RuntimeError: CUDA out of memory)" in why for _, why in a.forecast.declined())
    first = a.recommendations[0]
    assert first.startswith("Fix first: Run ended before its schedule") and "fix what ended it, then resume from" \
        in first
    assert len([r for r in a.recommendations if "what ended it" in r]) == 1  # said once
    assert not [r for r in a.recommendations if "continue" in r or "Waiting for" in r]
    stopped = analyze_run(folder, ended="stopped by hand to free the GPU")  # no crash: a warning
    assert [f.severity for f in stopped.findings if f.rule == "run-ended"] == ["warning"]
    (live,) = [f for f in a.findings if f.rule == "liveness"]
    assert live.severity == "info" and "no time estimate: the run has ended (RuntimeError: CUDA out of memory)" \
        in live.message
    from vae_report.narrative.state import ok_meaning

    assert ok_meaning(a).startswith("training behaved as its schedule says it should up to the last log (step ")


def test_a_kl_still_climbing_to_its_last_point_has_not_fallen_from_a_peak(tmp_path):
    """eval14 b_s34: "KL rose to a peak of 12,586,248,603 (its highest point) and fell to 4,363,333,907, 35% of
    that peak" of a KL exploding to its last point: the median of its latest window is below its last value, not
    a fall."""
    import csv

    steps = np.arange(0, 5_000, 10)
    kl = 1_000 * np.exp(np.clip(steps - 3_000, 0, None) / 150.0) + 1_000
    with (tmp_path / "metrics.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["step", "rec_loss", "kl_loss"])
        writer.writerows([s, 0.05 + 0.3 * np.exp(-s / 1_000), k] for s, k in zip(steps, kl, strict=True))
    a = analyze_run(tmp_path)
    st = a.metrics["kl_loss"]
    assert st.latest == st.max and st.now <= 0.5 * st.max  # the window's median well below the climbing end
    answer = next(q.answer for q in a.qa if q.question.startswith("Is the KL"))
    assert "of that peak" not in answer and "fell to" not in answer, answer


def test_logs_stamped_later_than_the_clock_judging_them_get_no_age_and_no_eta(tmp_path):
    """eval14 a59: a RadioDiff log written on a machine 8 hours ahead of UTC (logging's asctime has no zone) and
    analyzed with --now now: "the last log at 2026-12-05 03:55 UTC ... end of training in about 10 min" in a report
    made 8 hours before that. A last log later than the clock is said, with no age, no ETA and no zone claimed."""
    import time

    from writers import radiodiff_config, write_radiodiff_text_log

    curves = radiodiff_curves(4_500, disc_start=3_001, total_steps=6_000)
    ahead = 8 * 3600
    write_radiodiff_text_log(tmp_path, curves, radiodiff_config(disc_start=3_001, total_steps=6_000), 6_000,
                             start_wall=time.time() + ahead - 4_500 * 0.4, seconds_per_step=0.4)
    a = analyze_run(tmp_path, now=time.time())
    (live,) = [f for f in a.findings if f.rule == "liveness"]
    assert live.severity == "info" and "later than --now: its times carry no zone" in live.message, live.message
    assert " UTC (step" not in live.message and "in about" not in live.message
    assert not [r for r in a.recommendations if " away." in r or "in about" in r]


def test_confidence_reasons_say_what_the_logs_lack_as_it_is(tmp_path):
    """eval14 c_forecast_nowall / a55: "too few timed points" for logs with no wall time at all, and "no training
    config was found: phases and milestones are not checked" beside a total and an end-of-training milestone."""
    import csv

    with (tmp_path / "metrics.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["step", "rec_loss", "kl_loss"])
        writer.writerows([s, 0.03 + 0.3 / (1 + s / 500), 800 + s / 10] for s in range(0, 4_000, 20))
    a = analyze_run(tmp_path, total_steps=6_000)
    assert "the logs carry no wall times, so there is no training speed or ETA" in a.confidence_reasons
    assert any(r.startswith("no training config was found: the phases and the loss's settings are not checked "
                            "against one (the total, 6,000, is from command line)") for r in a.confidence_reasons), \
        a.confidence_reasons
