"""The fixed plots: drawn in parallel exactly as serially, and the helpers that keep rules and plots linear."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from vae_report.analysis import resolve_schedule
from vae_report.plots import make_plots
from vae_report.readers import load_run
from vae_report.stats import MAD_TO_SIGMA, block_mad, contains, rolling_median, shared_steps


def test_plots_drawn_by_forked_workers_are_the_serial_plots_byte_for_byte(seed_run):
    folder, _ = seed_run
    logs = load_run(folder)
    schedule = resolve_schedule(logs)
    serial = make_plots(logs.frame, schedule, baseline_step=9_000, jobs=1)
    parallel = make_plots(logs.frame, schedule, baseline_step=9_000, jobs=2)
    assert [p.name for p in serial] == [p.name for p in parallel]
    assert len(serial) >= 7
    for a, b in zip(serial, parallel, strict=True):
        assert (a.title, a.caption) == (b.title, b.caption)
        assert a.png == b.png, a.name


def test_text_is_measured_and_laid_out_once_per_process_and_the_pngs_are_agg_s_own(seed_run, monkeypatch):
    from matplotlib.backends.backend_agg import RendererAgg

    from vae_report.plots import drawing

    folder, _ = seed_run
    logs = load_run(folder)
    schedule = resolve_schedule(logs)
    drawing._Renderer._sizes.clear()
    drawing._Renderer._layouts.clear()
    first = make_plots(logs.frame, schedule, jobs=1)
    laid_out = dict(drawing._Renderer._layouts)
    assert laid_out
    measure = RendererAgg.get_text_width_height_descent
    measured = []
    monkeypatch.setattr(RendererAgg, "get_text_width_height_descent",
                        lambda self, *args: measured.append(args[0]) or measure(self, *args))
    again = make_plots(logs.frame, schedule, jobs=1)
    assert not measured  # every label, title and legend entry was measured by the first report
    assert drawing._Renderer._layouts == laid_out  # ... and laid out by it
    # matplotlib's own measurement and text drawing, every text measured and laid out again
    monkeypatch.setattr(drawing._Renderer, "get_text_width_height_descent", RendererAgg.get_text_width_height_descent)
    monkeypatch.setattr(drawing._Renderer, "_glyphs", lambda self, *args: None)
    plain = make_plots(logs.frame, schedule, jobs=1)
    assert measured
    for a, b, c in zip(first, again, plain, strict=True):
        assert a.png == b.png == c.png, a.name


@pytest.mark.parametrize("long_label", [False, True])
def test_a_figure_is_the_png_savefig_writes_and_is_drawn_again_only_when_a_text_ran_off(monkeypatch, long_label):
    """figure_png draws a figure once and writes the canvas: the bytes savefig would write of it at the margins
    chosen; a figure is drawn a second time only when a text it drew (here a y label too long for the fixed left
    margin) ran off the canvas, and then nothing is cut."""
    import io

    from matplotlib.figure import Figure

    from vae_report.plots import drawing

    def figure():
        fig, ax = drawing.plt.subplots(figsize=(8, 3.6))
        ax.plot(np.arange(50), np.sin(np.arange(50)), label="a line")
        ax.set_ylabel("a y label\nspread over\nfour lines\nof text" if long_label else "loss")
        ax.set_title("a title")
        drawing.add_legend(ax)
        return fig

    draws = []
    draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(renderer) or draw(self, renderer))
    png = drawing.figure_png(fig := figure())
    assert len(draws) == (2 if long_label else 1)
    assert min(box[0] for box in draws[-1].drawn) >= 0  # the label, once drawn again, starts inside the canvas
    again = figure()
    again.subplots_adjust(**{k: getattr(fig.subplotpars, k) for k in ("left", "right", "top", "bottom")})
    saved = io.BytesIO()
    again.savefig(saved, format="png", dpi=100, pil_kwargs={"compress_level": 3})
    assert png == saved.getvalue()


@pytest.mark.parametrize("window", [4, 25, 100])
def test_rolling_median_has_pandas_centred_windows(window):
    rng = np.random.default_rng(1)
    values = rng.standard_normal(1000)
    values[[3, 400, 401]] = np.nan
    for min_count in (window, max(1, window // 4)):
        expected = pd.Series(values).rolling(window, center=True, min_periods=min_count).median().to_numpy()
        np.testing.assert_allclose(rolling_median(values, window, min_count), expected, equal_nan=True)


def test_block_mad_follows_a_slowly_changing_noise_and_skips_nan():
    """The spike rule's noise scale: per-block MADs between block centres track a noise that doubles over the
    series as the moving medians they replace do, a NaN or a short series included."""
    rng = np.random.default_rng(3)
    sigma = np.linspace(1.0, 2.0, 5_050)  # 50 blocks of 100 and a last part of 50 (a block of its own)
    values = rng.standard_normal(len(sigma)) * sigma
    values[[7, 2_000]] = np.nan
    scale = block_mad(values, 100, 25) * MAD_TO_SIGMA
    assert scale.shape == values.shape and np.isfinite(scale).all()
    moving = rolling_median(np.abs(values - rolling_median(values, 100, 25)), 100, 25) * MAD_TO_SIGMA
    inner = slice(200, -200)
    assert np.nanmedian(np.abs(scale[inner] / sigma[inner] - 1)) < 0.1
    assert np.nanmedian(np.abs(scale[inner] / moving[inner] - 1)) < 0.1
    short = block_mad(values[10:70], 100, 25)  # fewer points than a block: one MAD for all
    assert np.ptp(short) == 0 and short[0] == np.median(np.abs(values[10:70] - np.median(values[10:70])))
    tail = block_mad(values[:1_010], 100, 25)  # a last part of 10 joins the block before it
    last = values[900:1_010]
    assert tail[-1] == np.median(np.abs(last - np.median(last)))


def test_shared_steps_of_sorted_step_arrays():
    rng = np.random.default_rng(2)
    a = np.unique(rng.integers(0, 10_000, 3000))
    b = np.unique(rng.integers(0, 10_000, 3000))
    np.testing.assert_array_equal(shared_steps(a, b), np.intersect1d(a, b))
    np.testing.assert_array_equal(contains(b, a), np.isin(a, b))
    assert not contains(np.array([], dtype=np.int64), a).any()


def test_a_vq_run_draws_every_plot_with_quant_loss_in_the_regularizer_slot(tmp_path):
    from writers import write_scalars

    tags = ("train/total_loss", "train/quant_loss", "train/rec_loss", "train/disc_loss", "train/nll_loss",
            "train/g_loss", "train/d_weight")
    write_scalars(tmp_path, [(s, t, 1.0 + 0.1 * np.sin(s + i)) for s in range(0, 400, 2) for i, t in enumerate(tags)])
    logs = load_run(tmp_path)
    plots = {p.name: p for p in make_plots(logs.frame, resolve_schedule(logs), jobs=1)}
    assert {"quant_loss", "overview", "normalized", "multi_axis", "gan_health"} <= plots.keys()
    assert all(p.png.startswith(b"\x89PNG") for p in plots.values())


def test_plots_drawn_while_the_rules_run_are_the_plots_drawn_after(seed_run):
    from vae_report.plots import PlotsInFlight

    folder, _ = seed_run
    logs = load_run(folder)
    schedule = resolve_schedule(logs)
    # forked workers are drawing now, unless another thread runs in this test process (never forked beside one);
    # a fresh interpreter, with no other thread, always forks them
    from vae_report.parallel import fork_safe

    could_fork = fork_safe()  # asked first: the pool's own handler threads run once it exists
    early = PlotsInFlight(logs.frame, schedule, baseline_step=9_000, jobs=2)
    assert (early.pool is not None) == could_fork
    check = ("import sys; from vae_report.readers import load_run; from vae_report.analysis import resolve_schedule;"
             " from vae_report.plots import PlotsInFlight; logs = load_run(sys.argv[1]);"
             " p = PlotsInFlight(logs.frame, resolve_schedule(logs), jobs=2); assert p.pool is not None; p.result();"
             " q = PlotsInFlight(logs.frame, resolve_schedule(logs), jobs=2); w = q.workers; q.close();"
             " assert all(not x.is_alive() for x in w)")  # an analysis that failed leaves no drawing process
    import subprocess

    done = subprocess.run([sys.executable, "-c", check, str(folder)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    after = make_plots(logs.frame, schedule, baseline_step=9_000, jobs=1)
    assert [(p.name, p.png) for p in early.result()] == [(p.name, p.png) for p in after]
    assert early.pool is None


_DIES_IN_A_WORKER = """
import multiprocessing, os, sys
from vae_report.readers import load_run
from vae_report.analysis import resolve_schedule
from vae_report.plots import PlotsInFlight, make_plots
from vae_report.plots import figures as planned
logs = load_run(sys.argv[1])
schedule = resolve_schedule(logs)
expected = make_plots(logs.frame, schedule, jobs=1)
drawn_by = planned.figure_png
def dies_in_a_worker(fig, *args, **kwargs):
    if multiprocessing.parent_process() is not None:
        os._exit(9)  # as a killed process: no exception, no result
    return drawn_by(fig, *args, **kwargs)
planned.figure_png = dies_in_a_worker
inflight = PlotsInFlight(logs.frame, schedule, jobs=2)
assert inflight.pool is not None and len(inflight.workers) == 2, "not forked"
got = inflight.result()
assert [(p.name, p.png) for p in got] == [(p.name, p.png) for p in expected], "other figures"
assert not any(w.is_alive() for w in inflight.workers), "a worker left"
print("ok")
"""


def test_a_drawing_process_that_dies_costs_its_figures_not_the_report(seed_run):
    # a drawing worker killed mid-figure (OOM killer, kill -9) left result() waiting forever for a figure
    # multiprocessing.Pool had lost; its figures are drawn in this process instead, the same bytes. In a fresh
    # interpreter: a test process with another thread (a W&B test's) never forks, and the test would prove nothing
    import subprocess

    folder, _ = seed_run
    done = subprocess.run([sys.executable, "-c", _DIES_IN_A_WORKER, str(folder)], capture_output=True, text=True,
                          timeout=120)  # a result() that waits forever fails here, not hangs the suite
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_log_axis_minor_marks_are_where_matplotlibs_own_minor_ticks_go():
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator

    from vae_report.plots.drawing import _MinorMarks, _plain_ticks

    for lo, hi in ((0.03, 300.0), (0.5, 3.0), (1e-20, 1.0)):  # decades with minor ticks, none whole, too many
        fig, ax = plt.subplots()
        twin = ax.twinx()
        for axes, values in ((ax, [lo, hi]), (twin, [hi * 2, lo * 3])):
            axes.plot([0, 1], values)
            axes.set_yscale("log")
        _, reference = plt.subplots()
        reference.plot([0, 1], [lo, hi])
        reference.set_yscale("log")
        reference.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        reference.set_ylim(ax.get_ylim())
        a, b = sorted(reference.get_ylim())
        expected = [v for v in reference.yaxis.get_minorticklocs() if a <= v <= b]
        for axes in (ax, twin):
            _plain_ticks(axes.yaxis)
        fig.canvas.draw()
        marks = {axes: next(x for x in axes.get_children() if isinstance(x, _MinorMarks)) for axes in (ax, twin)}
        np.testing.assert_allclose(marks[ax].get_ydata(), expected)
        assert set(marks[ax].get_xdata()) <= {0.0} and set(marks[twin].get_xdata()) <= {1.0}  # left; a twin's right
        assert not ax.yaxis.get_minorticklocs().size  # no per-tick objects besides
        plt.close(fig)
        plt.close(reference.figure)


def _painted_rows(draw) -> np.ndarray:
    """Per pixel column of a bare axes, the top and bottom row a drawing paints (-1 where none)."""
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    fig = plt.figure(figsize=(6, 3), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    draw(ax)
    ax.set_xlim(-1_000, 41_000)
    ax.set_ylim(-12, 45)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    ink = np.asarray(Image.open(buf).convert("L")) < 128
    rows = np.arange(ink.shape[0])[:, None]
    top = np.where(ink.any(axis=0), np.where(ink, rows, ink.shape[0]).min(axis=0), -1)
    bottom = np.where(ink.any(axis=0), np.where(ink, rows, -1).max(axis=0), -1)
    return np.stack([top, bottom])


def test_a_long_series_is_drawn_as_the_band_a_line_through_every_point_covers():
    from matplotlib.lines import Line2D

    from vae_report.plots import drawing
    from vae_report.plots.series import prepare

    rng = np.random.default_rng(5)
    steps = np.arange(40_000)
    values = np.cumsum(rng.standard_normal(len(steps))) * 0.02 + rng.random(len(steps))
    values[[7_777, 23_456]] = [40.0, -9.0]  # one-point spikes, either way
    drawn = prepare(steps, values)
    assert drawn.band and (drawn.lo, drawn.hi) == (-9.0, 40.0)
    assert drawn.y.max() == 40.0 and drawn.y.min() == -9.0
    handle = []
    band = _painted_rows(lambda ax: handle.append(drawing.draw_trace(ax, drawn, drawn.y, "black", "loss")))
    assert isinstance(handle[0], Line2D) and handle[0].get_label() == "loss"  # the legend shows a line

    import matplotlib

    with matplotlib.rc_context({"path.simplify": False}):  # every point, as drawn without the band
        full = _painted_rows(lambda ax: ax.plot(steps, values, lw=1.0, color="black"))
    painted = (band[0] >= 0) & (full[0] >= 0)
    columns = [np.flatnonzero(rows[0] >= 0) for rows in (band, full)]
    # the same columns painted, to a pixel at either end (where the line's cap and the band's edge differ)
    assert abs(columns[0][0] - columns[1][0]) <= 1 and abs(columns[0][-1] - columns[1][-1]) <= 1
    assert painted.sum() >= len(columns[1]) - 2
    # the same top and bottom in each column, to a pixel either way (a column of the envelope is 0.7 px wide,
    # so a one-point spike may land a pixel beside the line's)
    def spread(rows):
        padded = np.pad(rows.astype(float), ((0, 0), (1, 1)), constant_values=np.nan)
        windows = np.stack([padded[:, :-2], padded[:, 1:-1], padded[:, 2:]])
        windows[windows < 0] = np.nan
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # unpainted columns: NaN, never compared
            return np.nanmin(windows, axis=0)[0], np.nanmax(windows, axis=0)[1]

    for a, b in ((band, full), (full, band)):
        low_top, high_bottom = spread(b)
        assert (a[0, painted] >= low_top[painted] - 1).all() and (a[1, painted] <= high_bottom[painted] + 1).all()
    for rows in (band, full):  # both spikes, to the pixel: the highest and the lowest row painted
        assert (rows[0][rows[0] >= 0].min(), rows[1].max()) == (full[0][full[0] >= 0].min(), full[1].max())
    short = prepare(steps[:500], values[:500])  # few points: a line through each of them
    assert not short.band and np.array_equal(short.x, steps[:500])


def test_one_spike_off_a_constant_is_drawn_not_clipped():
    from vae_report.plots.series import prepare

    values = np.zeros(40_000)
    values[23_456] = 40.0  # 1% and 99% of the points are the same value: no spread to call 40 an outlier by
    drawn = prepare(np.arange(40_000), values)
    assert not drawn.clipped and drawn.y.max() == 40.0
    values[100] = 1e300  # what would overflow matplotlib's axis arithmetic still is
    assert prepare(np.arange(40_000), values).clipped


def test_a_caption_says_the_envelope_only_of_a_series_drawn_as_one(tmp_path):
    from writers import write_scalars

    rows = [(s, "train/rec_loss", 1.0 + 0.1 * np.sin(s)) for s in range(2_000)]  # above 2 x COLUMNS points
    rows += [(s, "train/kl_loss", 100.0 + s) for s in range(0, 2_000, 100)]
    write_scalars(tmp_path, rows)
    logs = load_run(tmp_path)
    captions = {p.name: p.caption for p in make_plots(logs.frame, resolve_schedule(logs), jobs=1)}
    assert captions["rec_loss"].startswith("rec_loss over all 2,000 logged points (each pixel column drawn from its "
                                           "lowest to its highest point).")
    assert captions["kl_loss"].startswith("kl_loss over all 20 logged points.")


def test_captions_say_what_this_runs_figures_show(tmp_path):
    from writers import write_scalars

    rows = [(s, t, v) for s in range(0, 1_000, 10) for t, v in
            (("train/rec_loss", 1 / (s + 10)), ("train/total_loss", 2 / (s + 10)), ("train/logvar", 0.0),
             ("train/lr", 1e-4))]
    write_scalars(tmp_path, rows)
    logs = load_run(tmp_path)

    def captions(**schedule):
        plots = make_plots(logs.frame, resolve_schedule(logs, None, **schedule), jobs=1)
        # what every figure marks (the phases) is one key for them all, said once above them
        assert len({p.key for p in plots}) == 1
        return {p.name: p.caption for p in plots} | {"key": plots[0].key}

    before = captions(disc_start=5_001)  # the run (to step 990) has not reached the switch-on
    assert before["key"] == ("Blue shading: before the discriminator, which switches on at step 5,001 (dashed line), "
                             "not reached yet.")
    assert "shading" not in before["rec_loss"] and "orange" not in before["overview"]
    # two of the four panels have nothing to show, and a logvar in no optimizer is not called learned
    assert before["overview"].startswith("The four losses side by side (kl_loss, disc_loss: not logged, their "
                                         "panels empty).")
    assert "the logvar, constant at 0 (not learned in this run) on the right axis" in before["lr_logvar"]
    assert captions(disc_start=0)["key"].endswith("Orange shading: the adversarial phase, from step 0: the "
                                                  "discriminator is on from the start.")
    assert "blue before the discriminator, orange the adversarial phase from step 501" in \
        captions(disc_start=501)["key"]


def _lr_to_zero_run(folder, zero_from: int | None):
    """A trainer-layout run (tensorboard's writer) whose lr decays linearly to 0 at ``zero_from`` and stays
    there to the last step, 2,990, its reconstruction varying with the batches only from there (None: a decay
    that ends at its floor, 5e-7)."""
    from test_verdicts import _rebuild_sums, config, write_run
    from writers import radiodiff_curves

    curves = radiodiff_curves(2990, disc_start=1000, total_steps=3000)
    end = zero_from or 3000
    curves.values["lr"] = np.maximum(5e-6 * (1 - curves.steps / end), 0.0 if zero_from else 5e-7)
    if zero_from:  # an lr of 0 moves no weight: the loss holds its level, up to the batches' noise
        rec, held = curves.values["rec_loss"], curves.steps >= zero_from
        rec[held] = rec[curves.steps == zero_from][0] * (1 + 0.02 * np.random.default_rng(5).standard_normal(
            int(held.sum())))
        _rebuild_sums(curves)
    return write_run(folder, curves, 10, config(total=3000))


def test_the_plots_mark_where_the_learning_rate_reached_zero(tmp_path):
    """An lr that reaches 0 before the end stopped training in effect: every loss plot draws a labelled line at
    its first step at 0 (as the phase lines), and the key above the plots says what it is."""
    import matplotlib.pyplot as plt

    from vae_report.plots.drawing import draw_phases
    from vae_report.plots.series import Series
    from vae_report.rules import Metrics

    logs = load_run(_lr_to_zero_run(tmp_path / "zero", 2_000))
    schedule = resolve_schedule(logs)
    plots = make_plots(logs.frame, schedule, jobs=1)
    assert plots[0].key.endswith("Dash-dotted red line: the learning rate reaches 0 at step 2,000 and stays there "
                                 "to the last log, so training stopped in effect from there.")
    fig, ax = plt.subplots()
    draw_phases(ax, Series(Metrics(logs.frame), schedule))
    (line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("lr 0")]
    assert line.get_label() == "lr 0 from 2,000" and list(line.get_xdata()) == [2000, 2000]
    plt.close(fig)
    # an lr that ends at its floor, above 0, is no stop: no line, no word of it
    logs = load_run(_lr_to_zero_run(tmp_path / "floor", None))
    floor = make_plots(logs.frame, resolve_schedule(logs), jobs=1)
    assert "learning rate" not in floor[0].key


def test_no_fork_beside_another_thread():
    """A process with another thread running (a logger's, W&B's, a data loader's) is never forked: a lock that
    thread held is copied held into the child and never comes free (a drawing worker hung the suite this way).
    Drawing stays in the process; a sweep's workers start fresh interpreters."""
    import threading

    from vae_report.parallel import fork_safe, map_in_processes, safe_context
    from vae_report.plots.inflight import _jobs

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert not fork_safe() and _jobs(2, 10**6) == 1 and safe_context().get_start_method() == "spawn"
        assert map_in_processes(abs, [-1, -2, 3], jobs=2) == [1, 2, 3]
    finally:
        stop.set()
        other.join()
    assert fork_safe() == (threading.active_count() == 1)


def test_a_caption_counts_the_points_drawn_and_large_ticks_are_grouped(tmp_path):
    """A series with NaN/Inf says how many finite points it draws of those logged (was: "over all 1,001 logged
    points" with 201 NaN); an axis of values in the thousands labels its ticks grouped as the text writes them."""
    import matplotlib.pyplot as plt
    from writers import write_scalars

    from vae_report.plots import drawing
    from vae_report.plots.series import Series
    from vae_report.rules import Metrics

    rows = [(s, "train/rec_loss", 0.1 if s < 800 else float("nan")) for s in range(1_000)]
    rows += [(s, "train/kl_loss", 20_000.0 + 50 * s) for s in range(0, 1_000, 10)]
    write_scalars(tmp_path, rows)
    logs = load_run(tmp_path)
    schedule = resolve_schedule(logs)
    captions = {p.name: p.caption for p in make_plots(logs.frame, schedule, jobs=1)}
    assert captions["rec_loss"].startswith("rec_loss over its 800 finite points of 1,000 logged (200 NaN/Inf, not "
                                           "drawn).")
    assert captions["kl_loss"].startswith("kl_loss over all 100 logged points.")
    series = Series(Metrics(logs.frame), schedule, None)
    fig, ax = plt.subplots()
    drawing.draw_line(ax, series, "kl_loss")
    drawing.set_scale(ax, series, "kl_loss")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert any("," in label for label in labels) and all("." not in label for label in labels), labels


def _diverging_run(folder, total: bool = True):
    """rec_loss falls from 0.53 to 0.03, then climbs from step 6,500 into Inf at 7,300; the lr is multiplied by
    1,000 at 6,400; no logvar is logged (tensorboard's writer); ``total``: total_loss logged too."""
    from writers import write_scalars

    rng = np.random.default_rng(4)
    rows = []
    for s in range(0, 10_000, 20):
        rec = 0.03 + 0.5 * np.exp(-s / 1500) + 0.004 * rng.standard_normal()
        rec = rec * np.exp((s - 6_500) / 100) if s >= 6_500 else rec
        rec = float("inf") if s >= 7_300 else rec
        rows += [(s, "train/rec_loss", rec), (s, "train/kl_loss", 1000.0 + s),
                 (s, "train/lr", 5e-6 if s < 6_400 else 5e-3)]
        rows += [(s, "train/total_loss", 4096 * rec + 0.001 * (1000 + s))] if total else []
    write_scalars(folder, rows)
    return folder


def _figures_drawn(monkeypatch, draw):
    """The matplotlib figures a drawing function makes, kept open to read their artists (not their pixels)."""
    from vae_report.plots import figures

    kept = []
    monkeypatch.setattr(figures, "figure_png", lambda fig, right=None: kept.append(fig) or b"")
    draw()
    return kept


def test_figures_mark_lr_jumps_divergence_and_findings_and_name_only_what_they_draw(tmp_path, monkeypatch):
    """The lr x1,000 jump is a labelled line in every figure and the key; normalized.png scales each loss by the
    percentiles of its finite points before the divergence (its fall is no flat line at 0) and marks the first
    Inf; the error finding's step is a labelled triangle on its metric's plot; the lr figure's title and legend
    name what it draws (no logvar) and the phases' line."""
    import matplotlib.pyplot as plt

    from vae_report.analysis import examine_run
    from vae_report.plots import figures
    from vae_report.plots.series import Series
    from vae_report.rules import Metrics

    run = examine_run(_diverging_run(tmp_path), disc_start=5_001)
    schedule = run.analysis.schedule
    series = Series(Metrics(run.frame), schedule)
    series.marks = series.marks.with_findings(run.analysis.findings)
    assert "x1,000 at step 6,400 (5e-06 to 0.005)" in series.marks.key
    assert "Triangle at the top of a figure" in series.marks.key
    (norm,) = _figures_drawn(monkeypatch, lambda: figures._normalized(series, ["total_loss", "kl_loss", "rec_loss"]))
    labels = norm.axes[0].get_legend_handles_labels()[1]
    rec = next(label for label in labels if label.startswith("rec_loss"))
    assert float(rec.split(", ")[1].rstrip("]")) < 1  # the range before the divergence, not [0.03, 1e4]
    assert "first NaN/Inf in rec_loss" in labels and "lr 5e-06 to 0.005 at 6,400" in labels
    assert "before step 6," in figures._normalized_caption(series)  # the divergence onset the non-finite rule dates
    (single,) = _figures_drawn(monkeypatch, lambda: figures._single(series, "rec_loss"))
    texts = [t.get_text() for t in single.axes[0].texts]
    assert "non-finite" in texts
    assert "error finding (rule id beside it)" in single.axes[0].get_legend_handles_labels()[1]
    (lr,) = _figures_drawn(monkeypatch, lambda: figures._lr_logvar(series))
    assert lr.axes[0].get_title() == "Learning rate"
    legend = [t.get_text() for t in lr.axes[0].get_legend().get_texts()]
    assert "disc_start 5,001" in legend and "lr 5e-06 to 0.005 at 6,400" in legend
    plt.close("all")
    titles = {p.name: p.title for p in make_plots(run.frame, schedule, jobs=1)}
    assert titles["lr_logvar"] == "Learning rate"


def test_findings_marks_are_drawn_by_forked_workers_as_serially(tmp_path):
    """The figures that mark findings wait for them; drawn by forked workers they are the serial ones."""
    from vae_report.analysis import examine_run

    run = examine_run(_diverging_run(tmp_path), disc_start=5_001)
    serial = make_plots(run.frame, run.analysis.schedule, jobs=1)
    from vae_report.plots import PlotsInFlight

    with_flags = PlotsInFlight(run.frame, run.analysis.schedule, jobs=1).result(run.analysis.findings)
    parallel = PlotsInFlight(run.frame, run.analysis.schedule, jobs=2).result(run.analysis.findings)
    assert [p.png for p in with_flags] == [p.png for p in parallel]
    changed = {a.name for a, b in zip(serial, with_flags, strict=True) if a.png != b.png}
    assert changed == {"rec_loss"}  # the error's triangle, on its metric's plot only


def test_the_gan_figure_names_only_what_it_draws(tmp_path, monkeypatch):
    """No logits logged: no 'Discriminator logits' title or caption, no empty logits panel."""
    from writers import write_scalars

    from vae_report.plots import figures
    from vae_report.plots.series import Series
    from vae_report.rules import Metrics

    write_scalars(tmp_path, [(s, t, 1.0 + 0.01 * s) for s in range(0, 400, 4)
                             for t in ("train/rec_loss", "train/d_weight", "train/g_loss")])
    logs = load_run(tmp_path)
    schedule = resolve_schedule(logs)
    captions = {p.name: p.caption for p in make_plots(logs.frame, schedule, jobs=1)}
    assert captions["gan_health"] == "The adaptive d_weight, and g_loss below."
    series = Series(Metrics(logs.frame), schedule)
    (fig,) = _figures_drawn(monkeypatch, lambda: figures._gan_health(series))
    assert [ax.get_title() for ax in fig.axes] == ["Adaptive d_weight", ""]
    assert [ax.get_ylabel() for ax in fig.axes] == ["d_weight", "g_loss"]


def _texts_drawn(monkeypatch) -> list:
    """Every text the figures' PNGs hold from here on, as drawn (tick labels, axis labels, titles, legend entries,
    the rule ids beside the findings' marks): (text, its window extent, the canvas' width and height in pixels).
    A figure drawn again (its margins moved) counts by its last draw only, the one its PNG holds."""
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    by_figure: dict = {}  # figure -> the texts of its latest draw
    draw_text, draw_figure = Text.draw, Figure.draw

    def recording(self, renderer):
        draw_text(self, renderer)
        if self.get_visible() and self.get_text().strip():
            by_figure[self.get_figure(root=True)].append(
                (self.get_text(), self.get_window_extent(renderer), renderer.width, renderer.height))

    def drawing(self, renderer):
        by_figure[self] = []
        draw_figure(self, renderer)

    monkeypatch.setattr(Text, "draw", recording)
    monkeypatch.setattr(Figure, "draw", drawing)

    class Drawn(list):  # the texts of every figure's last draw, read when the test looks
        def __iter__(self):
            return iter([t for texts in by_figure.values() for t in texts])

        def __len__(self):
            return sum(map(len, by_figure.values()))

    return Drawn()


def _run_of(folder, kind: str):
    """A run of one kind whose figures stress their margins, written by tensorboard's writer."""
    from writers import write_scalars

    rng = np.random.default_rng(8)
    rows = []
    for s in range(0, 600_000, 1_000) if kind == "huge" else range(0, 6_000, 10):
        t = s / 600_000 if kind == "huge" else s / 6_000
        if kind == "logvar":  # the learned log-variance beside the lr: a right axis with its own label
            rows += [(s, "train/rec_loss", 0.3 - 0.2 * t), (s, "train/logvar", -0.5 - 3 * t),
                     (s, "train/lr", 4.5e-6 * (1 - 0.9 * t))]
        elif kind == "two_rates":  # both optimizers' rates on one log axis
            rows += [(s, "train/rec_loss", 0.3 - 0.2 * t), (s, "lr-Adam", 4.5e-6 * 10 ** (-2 * t)),
                     (s, "lr-Adam-1", 1e-4 * 10 ** (-3 * t))]
        else:  # six-digit values and steps, four losses (four y axes), the GAN's panels and a right axis
            big = 1.0 if kind == "four_losses" else 1_000.0
            rows += [(s, "train/total_loss", big * (912_345 - 400_000 * t) + 5_000 * rng.random()),
                     (s, "train/kl_loss", big * (123_456 + 50_000 * t)),
                     (s, "train/rec_loss", big * (0.5 - 0.3 * t) + 0.01 * rng.random()),
                     (s, "train/disc_loss", big * (1.0 - 0.2 * t) + 0.05 * rng.random()),
                     (s, "train/g_loss", -big * 250_000 * t), (s, "train/d_weight", big * 123.0 * (1 + t)),
                     (s, "train/logits_real", big * 1_000 * t), (s, "train/logits_fake", -big * 1_000 * t),
                     (s, "train/lr", 4.5e-6), (s, "train/logvar", -123_456.0 * t)]
    write_scalars(folder, rows)
    return folder


@pytest.mark.parametrize("kind", ["example", "logvar", "two_rates", "huge", "four_losses"])
def test_every_text_of_every_figure_lies_inside_its_canvas(tmp_path, monkeypatch, kind):
    """No axis label, tick label, title or legend entry is cut by the PNG's edge (the example's lr figure lost the
    'l' of 'learning rate'): every figure of these runs, with their findings marked, and the sweep's overview."""
    from pathlib import Path

    from vae_report.analysis import examine_run
    from vae_report.plots import PlotsInFlight, overview_plot

    folder = Path(__file__).parents[1] / "examples" / "tiny_run" if kind == "example" else _run_of(tmp_path, kind)
    run = examine_run(folder, **({} if kind == "example" else {"disc_start": 1_001}))
    drawn = _texts_drawn(monkeypatch)
    plots = PlotsInFlight(run.frame, run.analysis.schedule, jobs=1).result(run.analysis.findings)
    overview_plot(run.frame, run.analysis.schedule)
    assert {"lr_logvar", "multi_axis"} <= {p.name for p in plots}
    assert len(drawn) > 100
    cut = [(text, [round(v) for v in box.extents], (w, h)) for text, box, w, h in drawn
           if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > w + 0.5 or box.y1 > h + 0.5]
    assert not cut, cut


_DRAWN_ONCE = """  # of a run whose first figures to mark findings (after the 3 overviews) are kl_loss and rec_loss
import os, sys, time
from vae_report.analysis import examine_run
from vae_report.plots import PlotsInFlight, make_plots
from vae_report.plots import inflight
run = examine_run(sys.argv[1], disc_start=5_001)
log = sys.argv[2]
draw = inflight._draw_one
def counted(job):
    done = draw(job)
    with open(log, "a") as out:
        out.write(f"{job[0]}\\n")
    return done
inflight._draw_one = counted  # the workers fork after this: they count too
plots = PlotsInFlight(run.frame, run.analysis.schedule, jobs=2)
assert plots.pool is not None, "not forked"
while not os.path.exists(log) or len(open(log).read().split()) < 2:  # findings known once two figures are drawn
    time.sleep(0.002)
got = plots.result(run.analysis.findings)
flagged = [p.name for p in got if p.name == "rec_loss" and plots.marks.flags_on(["rec_loss"])[0]]
serial = PlotsInFlight(run.frame, run.analysis.schedule, jobs=1).result(run.analysis.findings)
assert [p.png for p in got] == [p.png for p in serial], "other figures"
print(len(got), ",".join(flagged))
"""


def test_a_figure_that_marks_a_finding_is_drawn_once_when_the_findings_come_early(tmp_path):
    # every figure was handed to the process pool at once: the one the executor queues beyond those being drawn
    # could not be cancelled, and a figure marking a finding, queued there, was drawn without its marks, then again
    # with them (after two figures of six: kl_loss's and rec_loss's come after the three overviews)
    import subprocess

    log = tmp_path / "drawn.txt"
    done = subprocess.run([sys.executable, "-c", _DRAWN_ONCE, str(_diverging_run(tmp_path / "run", total=False)),
                                                          str(log)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    figures, flagged = done.stdout.split()
    assert flagged  # a figure marks a finding
    drawn = log.read_text().split()
    assert len(drawn) == int(figures) and len(set(drawn)) == len(drawn)
