"""Console logs of other trainers, written by the writers those trainers use (Python logging, print, tqdm),
found by looking at the lines; RadioDiff's log past a long preamble; a format it cannot guess."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner
from writers import file_logger, radiodiff_config, radiodiff_curves, write_radiodiff_text_log

from vae_report import analyze_run, examine_run, load_run
from vae_report.cli import app


def series(frame, metric):
    part = frame[frame["metric"] == metric]
    return part["step"].to_numpy(), part["value"].to_numpy(), part["wall_time"].to_numpy()


def test_a_jax_vqgan_style_log(tmp_path):
    logger, handler = file_logger(tmp_path / "train.log", "%(asctime)s %(levelname)s %(message)s")
    logger.info("starting; devices: 8 x TPU")
    for step in range(0, 2000, 100):
        logger.info(f"step {step}, total_loss: {2.0 / (1 + step / 500):.4f}, disc_loss: 0.41, quant_loss: 0.02")
    handler.close()
    logs = load_run(tmp_path)
    steps, values, walls = series(logs.frame, "total_loss")
    assert list(steps) == list(range(0, 2000, 100)) and values[0] == pytest.approx(2.0)
    assert {"disc_loss", "quant_loss"} <= set(logs.frame["metric"]) and all(walls > 1.6e9)


def test_epoch_step_key_equals_value_lines(tmp_path):
    with (tmp_path / "stdout.txt").open("w") as out:
        print("Loading data ...", file=out)
        for step in range(0, 1000, 50):
            print(f"Epoch [{step // 500 + 1}/100] Step {step}: loss={0.5 / (1 + step / 100):.4f} kl={3.4:.2f}",
                  file=out)
    frame = load_run(tmp_path).frame
    assert list(series(frame, "kl_loss")[0]) == list(range(0, 1000, 50)) and "epoch" not in set(frame["metric"])


def test_tqdm_postfix_with_redraws(tmp_path):
    tqdm = pytest.importorskip("tqdm")
    with (tmp_path / "nohup.out").open("w") as out:
        bar = tqdm.tqdm(total=500, file=out, mininterval=0, miniters=1, ascii=True)
        for step in range(500):
            if step % 10 == 0:
                bar.set_postfix(loss=f"{1.0 / (1 + step):.4f}", kl=4.5, refresh=False)
            bar.update(1)
        bar.close()
    steps, values, _ = series(load_run(tmp_path).frame, "total_loss")  # "loss": the total, for want of another
    assert len(steps) >= 45 and steps[-1] == 500 and values[-1] == pytest.approx(1.0 / 491, rel=0.05)


def test_a_tqdm_bar_redrawn_between_postfix_updates_gives_one_point_per_update(tmp_path):
    """A bar redrawn every step whose postfix changes every 20 steps: each redraw repeats every value of the last
    update, so each value set is one point, at the step it first appeared (not 20 points, 19 of them stale)."""
    tqdm = pytest.importorskip("tqdm")
    with (tmp_path / "train.out").open("w") as out:
        bar = tqdm.tqdm(total=6000, file=out, mininterval=0, miniters=1, ascii=True)
        for step in range(2400):
            if step % 20 == 0:
                bar.set_postfix(loss=f"{1.0 / (1 + step / 100):.4f}", rec=f"{0.5 / (1 + step / 300):.4f}",
                                kl=1332.1, refresh=False)
            bar.update(1)
    logs = load_run(tmp_path)
    steps, values, _ = series(logs.frame, "rec_loss")
    assert 118 <= len(steps) <= 122, len(steps)
    assert all(v == pytest.approx(0.5 / (1 + (s - 1) / 300), abs=1e-4) for s, v in zip(steps, values, strict=True))
    kl_steps, _, _ = series(logs.frame, "kl_loss")  # the constant term: one point per update too, none dropped
    assert list(kl_steps) == list(steps)
    assert any("redrawn" in n for src in logs.sources for n in src.notes)


def test_constant_values_logged_at_distinct_events_are_all_kept(tmp_path):
    """A log line every 10 steps whose kl and lr never change while the loss does, then a run whose every value
    froze (a stall): distinct log events, each a point; no line is taken for a redraw."""
    logger, handler = file_logger(tmp_path / "train.log", "%(asctime)s %(message)s")
    for step in range(0, 3000, 10):
        loss = 1.0 / (1 + min(step, 1500) / 100)  # frozen from step 1,500: every value repeats from there
        logger.info(f"step {step}: loss={loss:.5f} kl=4.5 lr=0.0001")
    handler.close()
    logs = load_run(tmp_path)
    for name in ("total_loss", "kl_loss", "lr"):
        assert len(series(logs.frame, name)[0]) == 300, name
    assert not any("redrawn" in n for src in logs.sources for n in src.notes)


def test_radiodiff_log_behind_a_long_preamble(tmp_path):
    curves = radiodiff_curves(3000, disc_start=50_001, total_steps=150_000)
    log = write_radiodiff_text_log(tmp_path / "tmp", curves, radiodiff_config(), 150_000)
    nohup = tmp_path / "run" / "nohup.out"
    nohup.parent.mkdir()
    nohup.write_text("".join(f"pip: installing package {i} ...\n" for i in range(80_000)) + log.read_text())
    assert nohup.stat().st_size > 2 * (1 << 20)
    a = analyze_run(tmp_path / "run")
    assert a.step == 3000 and "rec_loss" in a.metrics
    # its "lr: 0.00000" (RadioDiff's {:.5f}) is no rate: left out, and the sources say so
    assert "lr" not in a.metrics
    assert any("lr printed to 5 decimals" in n and "left out" in n for src in a.sources for n in src.notes)
    # eval12: the all-clear then said "for want of lr (not logged)": it is logged, too coarsely to read
    from vae_report.narrative.state import not_examined

    said = " ".join(not_examined(a))
    assert "lr (not logged)" not in said and "a readable lr (printed to 5 decimals, too coarse to read" in said


def test_an_unrecognised_text_log_says_so(tmp_path):
    (tmp_path / "train.log").write_text("hello\nthis is not a metric log\njust words\n")
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 2 and "format was not recognised: first lines look like: hello" in result.output
    assert "--text-pattern" in result.output


def test_text_pattern_reads_a_format_it_cannot_guess(tmp_path):
    with (tmp_path / "run.log").open("w") as out:
        for step in range(0, 600, 20):
            print(f"[it {step:05d}] rec {0.5 / (1 + step / 50):.5f} | kl {100 + step}", file=out)
    out = tmp_path / "r.md"
    pattern = r"\[it (?P<step>\d+)\] rec (?P<rec_loss>[\d.]+) \| kl (?P<kl_loss>\d+)"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(out), "--text-pattern", pattern])
    assert result.exit_code == 0, result.output
    a = analyze_run(tmp_path, text_pattern=pattern)
    assert a.metrics["kl_loss"].latest == 680 and a.metrics["rec_loss"].count == 30
    bad = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(out), "--text-pattern", "(no step"])
    assert bad.exit_code == 2 and "--text-pattern" in bad.output


def test_two_launches_appended_to_one_nohup_out_read_as_a_restart(tmp_path):
    # nohup python train_vae.py >> nohup.out, twice: killed at 1,800 with disc_start 1,501, restarted with 1,001
    copies = []
    for i, (disc_start, last) in enumerate(((1501, 1800), (1001, 2999))):
        curves = radiodiff_curves(last, disc_start=disc_start, total_steps=3000, seed=i)
        copy = tmp_path / f"copy{i}.txt"
        write_radiodiff_text_log(tmp_path / f"launch{i}", curves, radiodiff_config(disc_start=disc_start,
                                 total_steps=3000), 3000, console_copy=copy)
        text = (tmp_path / f"launch{i}").glob("*.log").__next__().read_text()
        copies.append(text.split("\n", 1)[0].split(" ", 2)[-1] + "\n" + copy.read_text())  # config line first
    run = tmp_path / "run"
    run.mkdir()
    (run / "nohup.out").write_text("".join(copies))
    examined = examine_run(run)
    a = examined.analysis
    assert a.schedule.disc_start == 1001
    frame = examined.frame
    disc = frame[frame["metric"] == "disc_loss"]
    after = disc[(disc["step"] >= 1100) & (disc["step"] < 1500)]
    assert len(after) and (after["value"] > 0.5).all()  # the second launch's discriminator, already on
    assert not [f for f in a.findings if f.rule == "disc-active-before-start" and f.severity != "ok"]
    # the same decisions as for two files: the second launch starts over from step 0, and the report says so
    assert [r["step"] for r in load_run(run).restarts] == [0]
    assert any(f.rule == "resumes" and "started again from step 0" in f.message for f in a.findings)


def test_a_console_copy_of_the_file_log_is_named_a_copy_not_a_restart(tmp_path):
    curves = radiodiff_curves(2000, disc_start=1001, total_steps=3000)
    write_radiodiff_text_log(tmp_path, curves, radiodiff_config(disc_start=1001, total_steps=3000), 3000,
                             console_copy=tmp_path / "nohup.out")
    logs = load_run(tmp_path)
    assert any("nohup.out" in n and "a copy of the same log" in n for n in logs.notes) or \
        any("_.log" in n and "a copy of the same log" in n for n in logs.notes), logs.notes
    assert not any("restarts at step" in n for n in logs.notes)


def test_a_console_copy_without_clock_keeps_the_file_logs_wall_times(tmp_path):
    # RadioDiff under nohup: the timestamped file log and its message-only console copy (the copy is kept for
    # the values); the merged points keep the file's wall times, so a stopped run is seen as stopped
    curves = radiodiff_curves(2000, disc_start=1001, total_steps=3000)
    write_radiodiff_text_log(tmp_path, curves, radiodiff_config(disc_start=1001, total_steps=3000), 3000,
                             console_copy=tmp_path / "nohup.out", start_wall=1.7e9, seconds_per_step=0.5)
    logs = load_run(tmp_path)
    assert any("a copy of the same log" in n for n in logs.notes), logs.notes
    walls = series(logs.frame, "total_loss")[2]
    assert len(walls) and (walls > 1.7e9 - 1).all() and walls.max() > 1.7e9 + 900
    stopped = analyze_run(tmp_path, now=1.7e9 + 86_400)
    assert any(f.rule == "liveness" and f.severity == "warning" for f in stopped.findings)


@pytest.mark.parametrize("word", ["opt_step", "optimizer_step", "num_updates"])
def test_the_optimizer_step_beside_a_micro_batch_counter_is_the_step(tmp_path, word):
    # gradient accumulation 4: the loop prints its micro-batch iteration and the optimizer step; the config
    # counts optimizer steps, so the run below is finished at 2,990 of 3,000, not 4x past its total
    (tmp_path / "config.yaml").write_text("loss:\n  disc_start: 1001\n  kl_weight: 1.0e-06\ntrain:\n"
                                          "  max_steps: 3000\n  gradient_accumulation_steps: 4\n")
    logger, handler = file_logger(tmp_path / "train.log", "%(asctime)s %(message)s")
    for opt in range(0, 3000, 10):
        logger.info(f"it {opt * 4} | {word} {opt} | rec_loss: {0.3 / (1 + opt / 500):.5f} | kl_loss: 2000.0 | "
                    f"disc_loss: {1.0 if opt >= 1001 else 0.0}")
    handler.close()
    logs = load_run(tmp_path)
    steps, values, _ = series(logs.frame, "rec_loss")
    assert list(steps) == list(range(0, 3000, 10)) and values[-1] == pytest.approx(0.3 / (1 + 2990 / 500), abs=1e-5)
    notes = [n for s in logs.sources for n in s.notes]
    assert any("not the line's it" in n and "counts 4 per optimizer step" in n for n in notes), notes
    a = analyze_run(tmp_path)
    assert a.step == 2990 and a.finished


def test_a_lightning_epoch_bar_total_is_not_the_runs_total(tmp_path):
    tqdm = pytest.importorskip("tqdm")
    with (tmp_path / "train.out").open("w") as out:
        bar = tqdm.tqdm(total=5005, file=out, mininterval=0, miniters=1, ascii=True, desc="Epoch 0")
        for batch in range(300):
            bar.set_postfix(aeloss_step=f"{1.0 / (1 + batch):.4f}", discloss_step=0.0, refresh=False)
            bar.update(1)
        bar.close()
    logs = load_run(tmp_path)
    assert logs.text_total_steps is None  # 5,005 is one epoch's batches
    assert "disc_loss" in set(logs.frame["metric"])


def test_loguru_lines_with_bracketed_keys_and_the_step_after_the_metrics(tmp_path):
    loguru = pytest.importorskip("loguru")
    logger = loguru.logger
    logger.remove()
    sink = logger.add(tmp_path / "train.log", level="INFO")  # loguru's default format: time | level | where - msg
    for epoch in range(40):
        for it in (7, 14):
            step = epoch * 15 + it
            logger.info(f"[R0] | E{epoch} iter[{it:3d}/ 15] | [Loss] {300 / (1 + step / 100):.2f} | "
                        f"[exp] ./exp/0125/car | [step] {step:5d} | [url] none")
    logger.remove(sink)
    frame = load_run(tmp_path).frame
    steps, values, walls = series(frame, "total_loss")  # [Loss], the global [step], not the epoch's iter[n/15]
    assert steps[0] == 7 and steps[-1] == 39 * 15 + 14 and len(steps) == 80
    assert values[0] == pytest.approx(300 / 1.07, abs=0.01) and (walls > 1.6e9).all()
    assert set(frame["metric"]) == {"total_loss"}  # neither the source line number nor the iteration


def test_keras_bars_continue_across_epochs_and_multi_word_and_dict_keys(tmp_path):
    with (tmp_path / "console.log").open("w") as out:
        for epoch in range(3):
            print(f"Epoch {epoch + 1}/3", file=out)
            for n in range(100, 1001, 100):  # Keras redraws its bar with backspaces; each draw a line here
                loss = 1.0 / (1 + epoch + n / 1000)
                print(f"{n:4d}/1000 [{'=' * (n // 100)}>{'.' * (10 - n // 100)}] - ETA: 0:03 - loss: {loss:.4f}"
                      f" - vae_r_loss: {loss * 0.9:.4f} - vae_kl_loss: {loss * 0.1:.4f}", file=out)
    frame = load_run(tmp_path).frame
    steps, values, _ = series(frame, "rec_loss")
    assert list(steps) == list(range(100, 3001, 100)) and values[-1] == pytest.approx(0.9 / 4, abs=1e-4)
    assert {"total_loss", "kl_loss"} <= set(frame["metric"])
    (tmp_path / "console.log").unlink()
    with (tmp_path / "train.log").open("w") as out:  # a dict of terms and a key of several words
        for step in range(0, 500, 25):
            print(f"step {step} | gen loss = {0.5 + 1 / (1 + step):.4f}, {{'kl_loss': {80000 + step}.5, "
                  f"\"p_loss\": 0.05}}", file=out)
    frame = load_run(tmp_path).frame
    assert series(frame, "gen_loss")[0].tolist() == list(range(0, 500, 25))
    assert series(frame, "kl_loss")[1][-1] == 80475.5 and len(series(frame, "p_loss")[0]) == 20


def test_a_batch_counter_that_starts_over_each_epoch_continues_across_epochs(tmp_path):
    with (tmp_path / "nohup.out").open("w") as out:  # PyTorch-GAN's print format
        for epoch in range(3):
            for batch in range(0, 1250, 250):
                step = epoch * 1250 + batch
                print(f"[Epoch {epoch}/50] [Batch {batch}/1250] [D loss: {0.7 - step / 1e5:.4f}] "
                      f"[G loss: {1.2 + step / 1e5:.4f}] [rec loss: {0.5 / (1 + step / 500):.4f}]", file=out)
    frame = load_run(tmp_path).frame
    steps, values, _ = series(frame, "rec_loss")
    assert steps.tolist() == list(range(0, 3750, 250)) and values[-1] == pytest.approx(0.5 / (1 + 3500 / 500), abs=1e-4)
    assert {"disc_loss", "g_loss"} <= set(frame["metric"])


def test_an_excerpt_of_one_step_line_says_it_is_too_short_not_unrecognised(tmp_path):
    (tmp_path / "train.log").write_text("[epoch:  6, iter:  28,500, lr:(1.000e-04,)] l_rec: 9.6e-02 l_total_g: 0.48\n")
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 2 and "has only 1 step line " in result.output and "Traceback" not in result.output


def _comma(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace(".", ",")  # a locale that writes a decimal comma (de_DE, fr_FR...)


@pytest.mark.parametrize("counter", ["step", "Schritt"])  # a loop localized to German prints its step so
def test_decimal_comma_log_is_read_as_decimals_and_said(tmp_path, counter):
    logger, handler = file_logger(tmp_path / "training.log", "%(asctime)s %(levelname)s %(message)s")
    steps = list(range(0, 2000, 50))
    for step in steps:  # kl's "3,898" alone could be thousands; loss's "0,09124" cannot
        loss, kl = _comma(0.09 + step / 1e5, 5), _comma(3.5 + step / 1e3, 3)
        logger.info(f"{counter} {step}/20000 | loss: {loss} | kl: {kl}")
    handler.close()
    logs = load_run(tmp_path)
    got, values, _ = series(logs.frame, "total_loss")
    assert list(got) == steps and values == pytest.approx([0.09 + s / 1e5 for s in steps], abs=1e-5)
    assert series(logs.frame, "kl_loss")[1] == pytest.approx([3.5 + s / 1e3 for s in steps], abs=1e-3)
    assert any("decimal comma" in n for source in logs.sources for n in source.notes)
    assert logs.counts == "step" and set(logs.frame["metric"]) == {"total_loss", "kl_loss"}


def test_comma_values_in_a_decimal_point_log_are_thousands_or_left_out_never_truncated(tmp_path):
    with (tmp_path / "stdout.txt").open("w") as out:
        for step in range(0, 2000, 50):
            print(f"step {step:,} | loss: {0.5 / (1 + step / 100):.4f} | pixels: {3898 + step:,} | "
                  f"kl: {'12,5' if step == 1000 else '12.5'}", file=out)
    logs = load_run(tmp_path)
    steps, values, _ = series(logs.frame, "pixels")
    assert list(steps) == list(range(0, 2000, 50)) and list(values) == [3898 + s for s in steps]  # not 3
    kl_steps, kl, _ = series(logs.frame, "kl_loss")
    assert 1000 not in kl_steps and set(kl) == {12.5}  # "12,5" is neither: left out, not read as 12
    notes = " ".join(n for source in logs.sources for n in source.notes)
    assert "thousands" in notes and "left out" in notes


def test_a_table_line_of_names_and_grouped_or_scientific_numbers_reads_every_value(tmp_path):
    """``step 12,345 | total 2,674.1 | nll 2,603.2 | kl 1.29e+05``: fields of one name and one number each, whatever
    the names (total, d_weight), numbers grouped by thousands with a decimal point (``{:,.1f}``) read whole, never as
    their thousands digit, and nll taken as nll_loss."""
    rows = []
    with (tmp_path / "train.out").open("w") as out:
        print("Training VAE-GAN: 60,000 steps, disc_start 30,001", file=out)
        for step in range(0, 5000, 250):
            total, kl, d_weight = 8211.2 - 0.9 * step, 2010.0 + 40 * step, 1346.7 - 0.1 * step
            rows.append((step, total, kl, d_weight))
            print(f"step {step:,} | total {total:,.1f} | nll {total:,.1f} | kl {kl:.2e} | rec 0.1253 | "
                  f"d_weight {d_weight:,.1f} | lr 5.00e-06", file=out)
    logs = load_run(tmp_path)
    steps = [r[0] for r in rows]
    for metric, column in (("total_loss", 1), ("nll_loss", 1), ("d_weight", 3)):
        got, values, _ = series(logs.frame, metric)
        assert list(got) == steps and values == pytest.approx([round(r[column], 1) for r in rows]), metric
    assert series(logs.frame, "kl_loss")[1] == pytest.approx([float(f"{r[2]:.2e}") for r in rows])
    notes = " ".join(n for source in logs.sources for n in source.notes)
    assert "read as thousands" in notes and "left out" not in notes


@pytest.mark.parametrize("style", ["german", "french", "iso", "swiss", "tabs"])
def test_numbers_grouped_in_any_locale_style_are_read_whole(tmp_path, style):
    """Values grouped the way a locale writes them, each style known by a value only it writes: dots with a
    decimal comma (``8.472,65``, ``step 50.100``), a (no-break) space (``8 504,6`` / ``8 504.6``), an
    apostrophe (``8'473.97``); and a table whose fields are cut by tabs. Never cut at the group mark."""
    def grouped(value: float, digits: int) -> str:
        text = f"{value:,.{digits}f}"  # 8,472.65
        if style == "german":
            return text.replace(",", "X").replace(".", ",").replace("X", ".")
        if style == "french":
            return text.replace(",", "\u202f").replace(".", ",")
        if style == "iso":
            return text.replace(",", " ")
        if style == "swiss":
            return text.replace(",", "'")
        return f"{value:.{digits}f}"

    rows = []
    with (tmp_path / "train.log").open("w", encoding="utf-8") as out:
        for step in range(0, 60_000, 500):
            total, kl, rec = 8472.65 - 0.05 * step, 4080.4 + 2.1 * step, 0.12928 - 1e-6 * step
            rows.append((step, round(total, 2), round(kl, 1), round(rec, 5)))
            fields = [f"step {grouped(step, 0)}", f"total_loss {grouped(total, 2)}", f"kl_loss {grouped(kl, 1)}",
                      f"rec_loss {grouped(rec, 5)}", f"d_weight {grouped(656.46, 2)}"]
            print(("\t" if style == "tabs" else " | ").join(fields), file=out)
    logs = load_run(tmp_path)
    for metric, column in (("total_loss", 1), ("kl_loss", 2), ("rec_loss", 3)):
        steps, values, _ = series(logs.frame, metric)
        assert list(steps) == [r[0] for r in rows], metric
        assert values == pytest.approx([r[column] for r in rows]), metric
    assert series(logs.frame, "d_weight")[1] == pytest.approx([656.46] * len(rows))
    notes = " ".join(n for source in logs.sources for n in source.notes)
    assert style == "tabs" or "numbers grouped by" in notes


def test_a_table_headed_by_its_counter_reads_every_field_and_the_grouped_total(tmp_path):
    # eval12 r1v_console_german_kl: "Schritt 0/150.000 | Gesamt 8.276,62 | ... | d_weight 631,08 | logits_real
    # -0,049": the counter's field is no "name number" field, so the table was not read as one (d_weight and the
    # logits dropped, then "not logged"), and the total after the slash was cut at its group mark (150)
    def german(value: float, digits: int) -> str:
        return f"{value:,.{digits}f}".replace(",", "X").replace(".", ",").replace("X", ".")

    with (tmp_path / "train.log").open("w", encoding="utf-8") as out:
        for step in range(0, 20_000, 100):
            print(f"Schritt {german(step, 0)}/{german(150_000, 0)} | Gesamt {german(8472.65 - 0.05 * step, 2)} | "
                  f"rec {german(0.12928, 5)} | d_weight {german(631.08, 2)} | logits_real {german(-0.049, 3)} | "
                  f"logits_fake {german(-0.13, 3)}", file=out)
    logs = load_run(tmp_path)
    for metric, value in (("d_weight", 631.08), ("logits_real", -0.049), ("logits_fake", -0.13)):
        steps, values, _ = series(logs.frame, metric)
        assert len(steps) == 200 and values == pytest.approx([value] * 200), metric
    assert logs.text_total_steps == 150_000


def test_now_with_logs_that_carry_no_clock_is_said_not_dropped(tmp_path):
    # a console copy printed without timestamps: --now cannot be used, and the report says so
    with (tmp_path / "nohup.out").open("w") as out:
        for step in range(0, 3000, 100):
            print(f"step {step}, total_loss: {2.0 / (1 + step / 500):.4f}, rec_loss: 0.05", file=out)
    a = analyze_run(tmp_path, now=1.9e9)
    live = [f for f in a.findings if f.rule == "liveness" and not f.skipped]
    assert live and live[0].severity == "info" and "--now was given" in live[0].message
    assert not [f for f in analyze_run(tmp_path).findings if f.rule == "liveness" and not f.skipped]


def test_radiodiff_s_marker_is_found_across_the_chunks_it_is_read_in(tmp_path):
    """The marker is looked for in chunks read one after another (no memory map: a log its writer truncates while
    mapped kills the reader with SIGBUS), so one that straddles two chunks is found too."""
    from vae_report.readers.console import _holds

    path = tmp_path / "train.log"
    path.write_bytes(b"x" * 95 + b"[Train Step] 0/100: loss: 1.0\n")
    assert all(_holds(path, b"[Train Step]", chunk) for chunk in (7, 64, 100, 1 << 24))
    assert not _holds(path, b"[Val Step]", 7)


def test_a_console_copy_whose_bar_repeats_each_log_line_names_no_step_written_twice(tmp_path):
    """nohup's copy of a RadioDiff-style run: each "[Train Step]" line is also the tqdm bar's description, so the
    console holds every value again (whole, and cut to the bar's width) at the same step. A value written again
    unchanged replaces nothing: no "points at a step the file logs again later replaced by the later value"."""
    tqdm = pytest.importorskip("tqdm")
    import logging

    curves = radiodiff_curves(2_000, disc_start=1_001, total_steps=3_000)
    with (tmp_path / "nohup.out").open("w") as out:
        logger = logging.getLogger("console_copy_test")
        logger.handlers.clear()
        logger.propagate = False
        logger.setLevel(logging.INFO)
        handler = logging.StreamHandler(out)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.info(radiodiff_config(disc_start=1_001, total_steps=3_000))
        with tqdm.tqdm(total=3_000, file=out, mininterval=0, miniters=1, ncols=120) as bar:
            for i, step in enumerate(curves.steps):
                if step % 100 == 0:
                    line = f"[Train Step] {int(step)}/3000: " + "".join(
                        f"train/{k}: {float(curves.values[k][i]):.5f}, " for k in ("total_loss", "kl_loss",
                                                                                  "rec_loss"))
                    bar.set_description(line[:70])
                    logger.info(line)
                bar.update(1)
        handler.close()
    logs = load_run(tmp_path)
    steps, values, _ = series(logs.frame, "rec_loss")
    assert list(steps) == [int(s) for s in curves.steps if s % 100 == 0]
    notes = [n for src in logs.sources for n in src.notes]
    assert not [n for n in notes if "written twice" in n], notes
