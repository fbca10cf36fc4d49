"""Where the configs offer more than one value for a schedule setting (a key given twice; --config against the
run's own config and the copy its text log printed) and the data pin one (the discriminator's switch-on pins
disc_start, the logged sum pins kl_weight), the report uses that one, names the disagreement once, and no other
finding restates it as a counter or schedule gone wrong. A finding about a file has no step."""

from __future__ import annotations

import yaml
from writers import radiodiff_config, write_radiodiff_run

from vae_report import analyze_run
from vae_report.narrative import recommendations
from vae_report.render import render_markdown
from vae_report.rules import RULES, Case


def _loud(a):
    return [f for f in a.active_findings() if f.severity in ("warning", "error")]


def _twice_file(path, first, last, total=6_000):
    """A RadioDiff config whose lossconfig gives disc_start twice: ``first`` then ``last``."""
    text = yaml.safe_dump(radiodiff_config(disc_start=first, total_steps=total), sort_keys=False)
    text = text.replace("    disc_in_channels: 1\n", f"    disc_in_channels: 1\n    disc_start: {last}\n")
    path.write_text(text)
    assert yaml.safe_load(text)["model"]["lossconfig"]["disc_start"] == last  # as PyYAML reads it
    return text.splitlines()


def _run(tmp_path, disc_start=1_501, **args):
    run = tmp_path / "run"
    write_radiodiff_run(run, last_step=3_000, tb_every=50, disc_start=disc_start, total_steps=6_000, **args)
    return run


def test_a_key_given_twice_whose_first_value_the_switch_on_confirms_is_one_finding(tmp_path):
    """disc_start 1501 then 50 in --config; the discriminator came on at step 1550, the first logged step after
    1501: the report uses 1501, its one warning is the key given twice (with the data that settle it), and no
    late switch-on with a "3 x disc_start" counter is made up from the unused 50."""
    run = _run(tmp_path, with_config=False)
    lines = _twice_file(tmp_path / "dup.yaml", 1_501, 50)
    a = analyze_run(run, config=tmp_path / "dup.yaml")
    assert a.schedule.disc_start == 1_501 and a.schedule.switch_step == 1_501
    (said,) = _loud(a)
    first, last = lines.index("    disc_start: 1501") + 1, lines.index("    disc_start: 50") + 1
    assert said.rule == "config-typos" and said.step is None, said
    assert f"1501 (line {first}) then 50 (line {last})" in said.message
    assert "The data show the run used the first, 1501: the discriminator came on at step 1,550, the first " \
           "logged step at or after 1,501" in said.message, said.message
    assert "so does this report" not in said.message and "this report uses 1501" in said.message
    assert "1501, the value the run used" in said.action
    assert not [f for f in a.findings if f.rule.startswith("disc-") and f.severity in ("warning", "error")]
    md = render_markdown(a)
    assert "x disc_start" not in md and "switched on late" not in md and "came on only" not in md
    row = next(line for line in md.splitlines() if "`config-typos`" in line)
    assert "| — | — |" in row  # no metric, no step: it is about a file
    (look,) = [r for r in recommendations(a) if "config key given twice" in r]
    assert look.startswith("Look into: A config key given twice:") and "(step" not in look


def test_a_key_given_twice_in_the_run_config_against_its_printed_copy(tmp_path):
    """The run's own config gives disc_start twice (1501 then 501) and its text log printed 1501: the report
    uses the value the data confirm and never says it uses the last."""
    run = _run(tmp_path, with_config=False)
    _twice_file(run / "first_radio.yaml", 1_501, 501)
    a = analyze_run(run)
    assert a.schedule.disc_start == 1_501
    (said,) = [f for f in a.findings if f.rule == "config-typos"]
    assert "the run used the first, 1501" in said.message and "so does this report" not in said.message
    assert said.step is None


def test_config_option_against_the_runs_own_config_settled_by_the_data(tmp_path):
    """--config gives disc_start 501 and kl_weight 1e-4; the run's own config and the config its text log
    printed give 1501 and 1e-6, and the data confirm those (switch-on, logged sum): the report uses them and
    names each disagreement once, with no late switch-on or bookkeeping warning restating it."""
    run = _run(tmp_path)
    other = radiodiff_config(disc_start=501, kl_weight=1e-4, total_steps=6_000)
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(other))
    a = analyze_run(run, config=tmp_path / "other.yaml")
    assert a.schedule.disc_start == 1_501 and a.schedule.kl_weight == 1e-6
    (said,) = [f for f in a.findings if f.rule == "config-typos"]
    assert said.severity == "warning" and said.case == "configs-disagree" and said.step is None
    assert set(said.numbers["settings"]) == {"disc_start", "kl_weight"}
    assert said.message.startswith(f"The configs disagree: disc_start 501 in {tmp_path / 'other.yaml'}, but 1,501 "
                                   "in "), said.message
    assert "first_radio.yaml" in said.message and "the config the run printed in its text log" in said.message
    assert "The data show the run used disc_start 1,501, kl_weight 1e-06 (the discriminator came on at step 1,550" \
           in said.message
    assert "kl_weight x kl_loss at every logged step with kl_weight 1e-06" in said.message
    assert {f.rule for f in _loud(a)} == {"config-typos"}, [(f.rule, f.message) for f in _loud(a)]


def test_the_config_agrees_with_the_data_nothing_is_pinned(tmp_path):
    """One value everywhere: nothing to settle, no finding."""
    run = _run(tmp_path)
    a = analyze_run(run)
    assert a.schedule.pinned == () and not [f for f in a.findings if f.rule == "config-typos"]


def test_a_finding_about_a_file_has_no_step():
    """A rule about the config (``about="config"``) makes findings at no step, whatever its check returned."""
    about_config = [rule for rule in RULES if rule.about == "config"]
    assert {rule.id for rule in about_config} >= {"config-typos", "disc-start-past-end"}
    for rule in about_config:
        assert rule.finding(Case("said", None, 590)).step is None
    assert next(r for r in RULES if r.id == "rec-trend").finding(Case("said", "rec_loss", 590)).step == 590
