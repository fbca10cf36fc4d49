"""The fixed plots: drawn in parallel exactly as serially, and the helpers that keep rules and plots linear."""

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


def test_text_is_measured_once_per_process_and_the_pngs_are_agg_s_own(seed_run, monkeypatch):
    from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg

    from vae_report import plots

    folder, _ = seed_run
    logs = load_run(folder)
    schedule = resolve_schedule(logs)
    plots._Renderer._sizes.clear()
    first = make_plots(logs.frame, schedule, jobs=1)
    measure = RendererAgg.get_text_width_height_descent
    measured = []
    monkeypatch.setattr(RendererAgg, "get_text_width_height_descent",
                        lambda self, *args: measured.append(args[0]) or measure(self, *args))
    again = make_plots(logs.frame, schedule, jobs=1)
    assert not measured  # every label, title and legend entry was measured by the first report
    monkeypatch.setattr(plots, "_Canvas", FigureCanvasAgg)  # matplotlib's own canvas and renderer
    plain = make_plots(logs.frame, schedule, jobs=1)
    assert measured  # ... which measure every text again
    for a, b, c in zip(first, again, plain, strict=True):
        assert a.png == b.png == c.png, a.name


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
    early = PlotsInFlight(logs.frame, schedule, baseline_step=9_000, jobs=2)
    assert early.pool is not None  # forked workers are drawing now
    after = make_plots(logs.frame, schedule, baseline_step=9_000, jobs=1)
    assert [(p.name, p.png) for p in early.result()] == [(p.name, p.png) for p in after]
    assert early.pool is None
    stopped = PlotsInFlight(logs.frame, schedule, jobs=2)
    workers = stopped.pool._pool
    stopped.close()  # an analysis that failed: no drawing process is left behind
    assert all(not w.is_alive() for w in workers)


def test_log_axis_minor_marks_are_where_matplotlibs_own_minor_ticks_go():
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator

    from vae_report.plots import _MinorMarks, _plain_ticks

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
