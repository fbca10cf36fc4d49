"""CSV-like logs delimited by something other than a comma (';' with decimal commas from a European-locale
spreadsheet, tabs in a .csv or a .tsv/.tab, '|'), written by csv.writer and pandas.to_csv."""

import csv

import numpy as np
import pandas as pd
import pytest

from vae_report.errors import InputError
from vae_report.readers import load_run

STEPS = np.arange(0, 3000, 50)
REC = 0.035 + 0.3 * np.exp(-STEPS / 800.0)
KL = 2.0e4 + 8.0e4 * (1 - np.exp(-STEPS / 1200.0))


def _write(path, delimiter, decimal):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(["step", "train/rec_loss", "train/kl_loss"])
        for s, r, k in zip(STEPS, REC, KL, strict=True):
            writer.writerow([int(s), f"{r:.6f}".replace(".", decimal), f"{k:.3f}".replace(".", decimal)])


def _values(frame, metric):
    part = frame[frame["metric"] == metric].sort_values("step")
    return part["step"].to_numpy(), part["value"].to_numpy()


@pytest.mark.parametrize(("delimiter", "decimal", "name"), [
    (";", ",", "verlauf.csv"), (";", ".", "metrics.csv"), ("\t", ".", "metrics.csv"), ("\t", ".", "metrics.tsv"),
    ("\t", ",", "metrics.tab"), ("|", ".", "metrics.csv")])
def test_a_log_delimited_otherwise_is_read_with_its_decimal_mark(tmp_path, delimiter, decimal, name):
    _write(tmp_path / name, delimiter, decimal)
    logs = load_run(tmp_path)  # found in the folder, whatever the suffix
    steps, rec = _values(logs.frame, "rec_loss")
    np.testing.assert_array_equal(steps, STEPS)
    np.testing.assert_allclose(rec, REC, rtol=1e-4)
    np.testing.assert_allclose(_values(logs.frame, "kl_loss")[1], KL, rtol=1e-6)
    notes = " ".join(n for s in logs.sources for n in s.notes)
    assert ("decimal comma" in notes) == (decimal == ",")
    assert "skipped" not in notes, notes


def test_pandas_to_csv_with_semicolons_and_decimal_commas(tmp_path):
    frame = pd.DataFrame({"step": STEPS, "rec_loss": REC, "kl_loss": KL, "lr": 4.5e-6})
    frame.to_csv(tmp_path / "history.csv", sep=";", decimal=",", index=False)
    read = load_run(tmp_path / "history.csv").frame
    np.testing.assert_allclose(_values(read, "rec_loss")[1], REC, rtol=1e-12)
    np.testing.assert_allclose(_values(read, "lr")[1], 4.5e-6, rtol=1e-12)


def test_a_comma_grouping_thousands_beside_decimal_points(tmp_path):
    with open(tmp_path / "m.csv", "w", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["step", "rec_loss", "images"])
        for s, r in zip(STEPS, REC, strict=True):
            writer.writerow([int(s), f"{r:.6f}", f"{int(s) * 8 + 1000:,}"])
    logs = load_run(tmp_path)
    np.testing.assert_allclose(_values(logs.frame, "images")[1], STEPS * 8 + 1000)
    np.testing.assert_allclose(_values(logs.frame, "rec_loss")[1], REC, rtol=1e-4)
    assert any("thousands" in n for s in logs.sources for n in s.notes)


def test_a_resume_appending_its_header_again_in_a_semicolon_log(tmp_path):
    path = tmp_path / "m.csv"
    _write(path, ";", ",")
    with open(path, "a", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["step", "train/rec_loss", "train/kl_loss"])
        writer.writerow([3000, "0,04", "99999,5"])
    logs = load_run(tmp_path)
    assert any("launches" in n for n in logs.notes), logs.notes
    assert _values(logs.frame, "rec_loss")[0][-1] == 3000


def test_a_header_read_as_one_cell_says_the_delimiter_was_not_recognised(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step rec_loss kl_loss\n" + "".join(f"{s} {r:.5f} {k:.1f}\n" for s, r, k in zip(STEPS, REC, KL,
                                                                                                    strict=True)))
    with pytest.raises(InputError) as caught:
        load_run(path)
    message = str(caught.value)
    assert "delimiter was not recognised" in message and "metrics.csv" in message
    assert "no step column" not in message


def test_comment_lines_above_the_header_are_skipped_whole_and_as_the_file_grows(tmp_path):
    """eval13 a2_csv_comments: a run's name, git hash and command as `#` lines above csv.writer's header (pandas reads
    such a file with comment='#'): it was refused as 'its header was read as one cell ... the delimiter was not
    recognised', of a comma-separated file. Skipped and said, in a whole read and in watch mode's tail reads."""
    from vae_report.readers.tail import TailCache

    path = tmp_path / "metrics.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write("# run: radio_vae_3\n# cmd: accelerate launch train_vae.py, --cfg first_radio.yaml\n\n")
        writer = csv.writer(handle)
        writer.writerow(["step", "train/rec_loss", "train/kl_loss"])
        writer.writerows([int(s), r, k] for s, r, k in zip(STEPS[:30], REC[:30], KL[:30], strict=True))
    cache = TailCache()
    first = load_run(tmp_path, tail=cache)
    assert list(first.frame[first.frame["metric"] == "rec_loss"]["step"]) == list(STEPS[:30])
    assert any("2 comment lines (#) above the header skipped" in n for s in first.sources for n in s.notes)
    with open(path, "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([int(s), r, k] for s, r, k in zip(STEPS[30:], REC[30:], KL[30:], strict=True))
    grown = load_run(tmp_path, tail=cache)
    rec = grown.frame[grown.frame["metric"] == "rec_loss"]
    assert cache.full_reads == 1 and list(rec["step"]) == list(STEPS)
    assert rec["value"].to_numpy() == pytest.approx(REC)
