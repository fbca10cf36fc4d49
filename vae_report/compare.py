"""Several runs side by side: curves of each metric on shared axes, the config keys that differ, the latest
levels with the best marked. Used by ``vae-report compare`` and by the sweep report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import position as pos
from .analysis import examine_run
from .configs import flatten
from .errors import ConfigError, InputError, VaeReportError
from .frame import frame_from_series
from .levels import BAND, Level, current_level, difference_noise
from .numbers import fmt
from .parallel import map_in_processes
from .plots import MAX_POINTS, Plot, downsample, figure_png, plt
from .rules import Metrics
from .rules.discriminator import phase_start
from .schedule import find_config
from .settings import CONFIG_KEYS, setting_origin, setting_value

# Metrics whose curves are laid over each other, in report order; lower is better for the losses among them.
OVERLAID = ("total_loss", "rec_loss", "nll_loss", "kl_loss", "quant_loss", "disc_loss", "g_loss", "d_weight", "lr",
            "val/rec_loss")
LOWER_IS_BETTER = {"total_loss", "rec_loss", "nll_loss", "val/rec_loss", "val/total_loss", "p_loss"}
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22"]


def thin_frame(frame):
    """The overlaid metrics only, each downsampled for drawing: what a sweep keeps of a run (a few thousand
    points, whatever the run's length) so that its curves can be laid over the others'."""
    m = Metrics(frame)
    series = []
    for name in OVERLAID:
        if m.has(name):
            steps, values = downsample(m.steps(name), m.values(name), MAX_POINTS)
            series.append((name, steps, values, np.full(len(steps), np.nan)))
    return frame_from_series(series, "thinned")


def run_color(index: int) -> str:
    return _COLORS[index % len(_COLORS)]


# Which way is better for a target; a metric in neither is described, not ranked.
HIGHER_IS_BETTER = {"psnr", "ssim", "val/psnr", "val/ssim", "val_ema/psnr", "val_ema/ssim"}
TOTALS = {"total_loss", "aeloss", "val/total_loss", "val/aeloss"}
# what a total is made of: runs that differ in one of these log totals of different bookkeeping
_TOTAL_BOOKKEEPING = ("kl_weight", "codebook_weight", "disc_weight", "disc_factor", "regularizer", "loss_class",
                      "in_channels", "resolution")
# config keys (last part of the dotted path) that change what the per-pixel reconstruction loss measures
_REC_KEYS = ("pixel_loss", "perceptual_weight", "pixelloss_weight", "rec_loss_type", "loss_type")


@dataclass(frozen=True)
class Verdict:
    """Which run is better on the target, at matched steps, with levels and noise, and why."""

    target: str
    step: int | None  # the last step every run reached on the target: each level is taken there
    levels: tuple[Level | None, ...]
    best: int | None  # index of the better run, None when within noise, not comparable or not ranked
    answer: str
    reasons: tuple[str, ...] = ()


@dataclass
class Comparison:
    """What the comparison section shows, computed."""

    names: list[str]
    plots: list[Any] = field(default_factory=list)  # plots.Plot
    config_diff: list[tuple[str, list[str]]] = field(default_factory=list)  # dotted key, value per run
    latest: list[MetricLevels] = field(default_factory=list)  # each metric's levels per run, ranked
    verdict: Verdict | None = None  # which run is better on the target, and why
    configs_missing: list[str] = field(default_factory=list)  # the runs with no config found
    layouts_differ: bool = False  # configs of different layouts: config_diff holds the schedule's settings only


def config_differences(configs: list[dict | None]) -> list[tuple[str, list[str]]]:
    """The dotted keys whose values differ between runs (a key a run lacks reads "—")."""
    flat = [flatten(c) if isinstance(c, dict) else {} for c in configs]
    keys = sorted({k for f in flat for k in f})
    out = []
    for key in keys:
        values = [f.get(key, _MISSING) for f in flat]
        if any(v != values[0] for v in values[1:]):
            out.append((key, ["—" if v is _MISSING else _show(v) for v in values]))
    return out


def layouts_differ(configs: list[dict | None], schedules: list) -> bool:
    """Whether the runs' configs are laid out differently (RadioDiff's model.lossconfig against LDM's
    model.params.lossconfig.params): the same setting then sits under other keys."""
    return len({s.layout for s, c in zip(schedules, configs, strict=True) if s is not None and c is not None}) > 1


def setting_differences(schedules: list) -> list[tuple[str, list[str]]]:
    """The schedule's settings (settings.CONFIG_KEYS) whose meaning differs between runs, each named once with
    every run's value as that run means it and where it came from; a run without a schedule reads "—"."""
    out = []
    for key in CONFIG_KEYS:
        said = [None if s is None else (setting_value(s, key), getattr(s, key)) for s in schedules]
        if all(v is None or v[1] is None for v in said) or len({v and v[0] for v in said}) == 1:
            continue
        out.append((key, ["—" if s is None else "not set" if getattr(s, key) is None else
                          f"{setting_value(s, key)} from {setting_origin(s, key)}" for s in schedules]))
    return out


def settings_differences(configs: list[dict | None], schedules: list) -> list[tuple[str, list[str]]]:
    """What a comparison says differs in the runs' configs: the dotted keys whose values differ where the configs
    share a layout; across layouts, where a key path means nothing, the schedule's settings by meaning instead, as
    for runs whose config is no file (an MLflow run's params, a W&B run's config, a text log's config record)."""
    stored = [c is None and s is not None and s.config_path is not None for c, s in zip(configs, schedules,
                                                                                         strict=True)]
    if not layouts_differ(configs, schedules) and not any(stored):
        return config_differences(configs)
    return setting_differences([s if c is not None or kept else None
                                for s, c, kept in zip(schedules, configs, stored, strict=True)])


def without_config(names: list[str], analyses: list, configs: list[dict | None]) -> list[str]:
    """The runs with no config at all: no file found, and none their schedule was read from (a store's params)."""
    return [n for n, a, c in zip(names, analyses, configs, strict=True)
            if a is not None and c is None and a.schedule.config_path is None]


_MISSING = object()


def _show(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        return fmt(value)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class MetricLevels:
    """One metric's current level in each run, and the ranked runs in tiers, lowest first: a tier boundary only
    where every run below it is lower than every run above it beyond the two levels' noise, so runs in one tier
    are not told apart (two runs level with each other, both well below a third: two tiers)."""

    metric: str
    values: list[float | None]
    tiers: tuple[tuple[int, ...], ...] = ()  # empty: not ranked (not comparable, not at one step, not a loss)
    unranked: str | None = None  # why the runs' values are not one quantity (compare._not_comparable), if so

    @property
    def lead(self) -> tuple[int, ...]:
        """The runs lowest beyond noise (several where they are level with each other); none in a single tier."""
        return self.tiers[0] if len(self.tiers) > 1 else ()


def tiers(values: list[float], noises: list[float]) -> tuple[tuple[int, ...], ...]:
    """The indices sorted by value and cut into tiers: a cut between two neighbours only where every value below
    it and every value above it differ by more than BAND x their combined noise."""
    order = sorted(range(len(values)), key=values.__getitem__)

    def apart(i: int, j: int) -> bool:
        noise = math.hypot(noises[i], noises[j])
        return math.isfinite(noise) and values[j] - values[i] > BAND * noise

    cuts = [k for k in range(1, len(order)) if all(apart(i, j) for i in order[:k] for j in order[k:])]
    bounds = [0, *cuts, len(order)]
    return tuple(tuple(order[a:b]) for a, b in zip(bounds, bounds[1:], strict=False))


Levels = list[MetricLevels]


def latest_levels(analyses: list, configs: list[dict | None] | None = None,
                  names: tuple[str, ...] = OVERLAID) -> Levels:
    """Per metric, each run's current level (levels.current_level, the one its own report quotes) and the runs
    ranked in tiers (``tiers``): only for losses where lower is better, logged as the same quantity by every run
    ranked (same kind of source; totals of the same bookkeeping), and only the runs that stand at one step
    (``peers``); a run not finite now is in no tier."""
    out = []
    group, kept = peers(analyses), configs or [None] * len(analyses)
    for name in names:
        stats = [a.metrics.get(name) if a is not None else None for a in analyses]
        values = [s.now if s is not None else None for s in stats]
        finite = sorted((v, i) for i, v in enumerate(values) if v is not None and math.isfinite(v))
        if not finite:
            continue
        ranked: tuple[tuple[int, ...], ...] = ()
        runs = [i for _, i in finite if i in group]
        # a NaN run is logged but not ranked; one of the group that does not log the metric blocks its ranking
        logged = bool(group) and all(values[i] is not None for i in group)
        apart = _not_comparable(name, [analyses[i] for i in group], [kept[i] for i in group]) \
            if name in LOWER_IS_BETTER and logged and len(runs) > 1 else None
        if name in LOWER_IS_BETTER and logged and len(runs) > 1 and apart is None:
            ranked = tuple(tuple(runs[k] for k in tier) for tier in
                           tiers([values[i] for i in runs], [stats[i].recent_noise for i in runs]))
        out.append(MetricLevels(name, values, ranked, apart))
    return out


def peers(analyses: list) -> tuple[int, ...]:
    """The runs whose current levels are ranked against each other: the largest group that stands at one step
    (within 2% of the furthest of them; of two such groups, the further on), none when no two runs do. A run
    70,000 steps further on is ahead by time, not by setting; one run of a sweep started later does not stop the
    others being ranked."""
    steps = {i: a.step for i, a in enumerate(analyses) if a is not None and a.step is not None}
    best: tuple[int, ...] = ()
    for top in sorted(set(steps.values()), reverse=True):
        group = tuple(i for i, s in steps.items() if s <= top and top - s <= 0.02 * max(top, 1))
        best = group if len(group) > len(best) else best
    return best if len(best) >= 2 else ()


def overlay_plots(analyses: list, frames: list, names: list[str]) -> list:
    """One figure per metric with one line per run on shared axes, each run's disc_start marked in its colour."""
    views = [Metrics(f) if a is not None and f is not None else None for a, f in zip(analyses, frames, strict=True)]
    plots = []
    for metric in OVERLAID:
        present = [i for i, m in enumerate(views) if m is not None and m.has(metric)]
        if not present:
            continue
        fig, ax = plt.subplots(figsize=(8, 3.6))
        lows, highs, marked = [], [], 0
        for i in present:
            steps, values = downsample(views[i].steps(metric), views[i].values(metric))
            ax.plot(steps, values, lw=1.0, color=run_color(i), label=names[i])
            if len(values):
                lows.append(float(np.min(values)))
                highs.append(float(np.max(values)))
            start = analyses[i].schedule.disc_start
            if start is not None:
                ax.axvline(start, color=run_color(i), ls="--", lw=1.0, alpha=0.8)
                marked += 1
        _scale(ax, lows, highs)
        units = {analyses[i].schedule.counts for i in present}
        unit = units.pop() if len(units) == 1 else "position"
        ax.set_xlabel(unit)
        ax.set_ylabel(metric)
        # the title names the dashed lines only where there are some: a run without a discriminator has none
        dashed = "" if not marked else " (dashed: each run's disc_start)" if marked == len(present) else \
            " (dashed: disc_start of the runs that have one)"
        ax.set_title(f"{metric}: {len(present)} runs{dashed}")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        slug = metric.replace("/", "_")
        plots.append(Plot(f"compare_{slug}", metric, f"{metric} of every run on one axis, aligned on {unit}.",
                          figure_png(fig, right=0.8)))
    return plots


def _scale(ax, lows: list[float], highs: list[float]) -> None:
    """Log when every run is positive and the curves span orders of magnitude; symmetric log across zero."""
    if not lows:
        return
    lo, hi = min(lows), max(highs)
    if lo > 0 and hi / lo > 100:
        ax.set_yscale("log")
    elif lo < 0 < hi and max(abs(lo), abs(hi)) > 100 * max(1e-12, min(abs(lo), abs(hi))):
        ax.set_yscale("symlog", linthresh=max(1e-12, min(abs(lo), abs(hi))))


def default_target(analyses: list) -> str:
    """The validation reconstruction loss when every run logs it, else the training one."""
    readable = [a for a in analyses if a is not None]
    for name in ("val/rec_loss", "rec_loss", "val/nll_loss", "nll_loss", "total_loss"):
        if readable and all(name in a.metrics for a in readable):
            return name
    return "rec_loss"


def target_verdict(names: list[str], analyses: list, frames: list, configs: list[dict | None],
                   target: str | None = None) -> Verdict:
    """Compare the runs on ``target`` at the last step all of them reached: each run's current level there (the
    one definition, levels.current_level) with its noise; a gap within ``BAND`` noises is no clear difference."""
    target = target or default_target(analyses)
    lacking = [n for n, a in zip(names, analyses, strict=True) if a is None or target not in a.metrics]
    if lacking:
        return Verdict(target, None, (), None,
                       f"Not compared on {target}: {_names(lacking)} {'does' if len(lacking) == 1 else 'do'} not log "
                       "it (choose another --target).")
    views = [Metrics(f) for f in frames]
    step = min(int(v.steps(target)[-1]) for v in views)
    levels = tuple(_level_at(v, a.schedule, target, step) for v, a in zip(views, analyses, strict=True))
    units = {a.schedule.counts for a in analyses}  # runs counting different units share no axis to name
    unit = units.pop() if len(units) == 1 else "position"
    where = (f"at {pos.at(unit, step)}, the last {unit} {'both runs' if len(names) == 2 else 'every run'} reached "
             "(each run's current level there, as its report defines it, ± its noise)")
    # a run NaN/Inf at that step has no level there: the median of its finite points before would rank it
    broken = [_broken_since(v, target, step) for v in views]
    shown = "; ".join(f"{n} " + (f"NaN/Inf since {pos.at(unit, since)}" if since is not None else _show_level(lv))
                      for n, lv, since in zip(names, levels, broken, strict=True))
    reasons = tuple(why_different(names, analyses, configs, target)) + tuple(_past_shared(names, analyses, step,
                                                                                          unit))
    blocker = _not_comparable(target, analyses, configs)
    if blocker:
        return Verdict(target, step, levels, None, f"{target} {where}: {shown}. Not ranked: {blocker}.", reasons)
    if any(since is not None for since in broken):
        gone = [n for n, since in zip(names, broken, strict=True) if since is not None]
        return Verdict(target, step, levels, None, f"{target} {where}: {shown}. Not ranked: {_names(gone)} "
                       f"{'has' if len(gone) == 1 else 'have'} no level there ({target} NaN/Inf up to that "
                       f"{unit}).", reasons)
    if any(lv is None for lv in levels):
        return Verdict(target, step, levels, None, f"{target} {where}: {shown}. Not ranked: a run has no finite "
                       "point in that window.", reasons)
    apart = _phases_apart(names, views, analyses, step, unit)
    if apart:
        return Verdict(target, step, levels, None, f"{target} {where}: {shown}. Not ranked: {apart}.", reasons)
    lower = target not in HIGHER_IS_BETTER
    order = sorted(range(len(levels)), key=lambda i: levels[i].value if lower else -levels[i].value)
    first, second = levels[order[0]], levels[order[1]]
    gap = abs(first.value - second.value)
    noise = difference_noise(first, second)
    if noise is None or gap <= BAND * noise:
        why = f"the gap {fmt(gap)} is within {BAND:g} × their combined noise {fmt(noise)}" if noise is not None \
            else "too few points to measure their noise"
        return Verdict(target, step, levels, None, f"No clear difference on {target} {where}: {shown}; {why}.",
                       reasons)
    best = order[0]
    ratio = f" ({fmt(gap / max(abs(second.value), 1e-12) * 100)}% {'lower' if lower else 'higher'})" \
        if second.value else ""
    return Verdict(target, step, levels, best,
                   f"{names[best]} is better on {target} {where}: {shown}; {fmt(gap)} "
                   f"{'lower' if lower else 'higher'}{ratio}, {fmt(gap / noise)} × their combined noise.", reasons)


_CAUSE_FIRST = ("lossconfig", "loss", "lr", "learning_rate", "base_learning_rate", "batch_size", "weight")


# configs of two layouts: their settings compared by what they mean, never key by key
_LAYOUTS_SAID = "Their configs, of different layouts (compared by the schedule's settings, not key by key),"


def why_different(names: list[str], analyses: list, configs: list[dict | None], target: str) -> list[str]:
    """Where a difference can come from: the config keys that differ (loss settings first), what each run's total
    is made of, and the warnings each run's own analysis raised."""
    out = []
    schedules = [a.schedule if a is not None else None for a in analyses]
    diff = settings_differences(configs, schedules)
    apart = layouts_differ(configs, schedules)
    if diff:
        diff.sort(key=lambda kv: kv[0] not in CONFIG_KEYS and not any(part in kv[0] for part in _CAUSE_FIRST))
        shown = "; ".join(f"{key} (" + ", ".join(f"{n} {v}" for n, v in zip(names, values, strict=True)) + ")"
                          for key, values in diff[:6])
        more = f", and {len(diff) - 6} more" if len(diff) > 6 else ""
        out.append(f"{_LAYOUTS_SAID if apart else 'Their configs'} differ in {shown}{more}.")
    elif apart:
        out.append(f"{_LAYOUTS_SAID} agree in every setting of the schedule: the difference is not one of them.")
    elif all(c is None for c in configs) and not any(a is not None and a.schedule.config_path for a in analyses):
        out.append("No run has a config, so no setting can be named as the cause.")
    else:
        missing = without_config(names, analyses, configs)
        out.append("The configs found do not differ" + (f" (none found for {', '.join(missing)})" if missing else "")
                   + ": the difference is not a setting.")
    makeup = [f"{n}: " + ", ".join(f"{t.name} {t.share_said()}" for t in
                                  sorted(a.decomposition.terms, key=lambda t: -abs(t.value)))
              for n, a in zip(names, analyses, strict=True) if a is not None and a.decomposition is not None]
    if makeup:
        out.append("What each total is made of over its latest stretch, where its Now is taken (shares of the "
                   "loss's size, the sum of its terms' absolute values with nll counted as one term, as each run's "
                   "report gives them): "
                   + "; ".join(makeup) + ".")
    for n, a in zip(names, analyses, strict=True):
        bad = [f for f in a.active_findings() if f.severity in ("warning", "error")] if a is not None else []
        if bad:
            rules = ", ".join(dict.fromkeys(f"{f.rule} ({f.severity})" for f in bad))
            out.append(f"{n}'s own analysis raises {rules}.")
    return out


def _phases_apart(names: list[str], views: list[Metrics], analyses: list, step: int, unit: str) -> str | None:
    """Why levels at ``step`` are not like for like: some runs are in their adversarial phase there and others
    before their discriminator (a level with the GAN term against one without), else None."""
    starts = [phase_start(v, a.schedule) for v, a in zip(views, analyses, strict=True)]
    on = [start is not None and step >= start for start in starts]
    if all(on) or not any(on):
        return None

    def said(name: str, start: int | None, active: bool, a) -> str:
        switch = a.schedule.switch_step
        if active:
            return f"{name} is in its adversarial phase (from {pos.at(unit, switch or start)})"
        return f"{name} is before its discriminator" + (f" (from {pos.at(unit, switch)})" if switch else "")
    return (f"at {pos.at(unit, step)} " + _names([said(n, st, o, a) for n, st, o, a in
                                                 zip(names, starts, on, analyses, strict=True)])
            + ": a level with the adversarial term against one without is not like for like")


def _past_shared(names: list[str], analyses: list, step: int, unit: str) -> list[str]:
    """What the runs that went on past the shared steps raise there, where the verdict cannot look."""
    out = []
    for n, a in zip(names, analyses, strict=True):
        later = [f for f in a.active_findings() if f.severity in ("warning", "error") and f.step is not None
                 and f.step > step]
        if later:
            shown = ", ".join(f"{f.rule} ({f.severity}, {pos.at(unit, f.step)})" for f in later[:3])
            out.append(f"Past {pos.at(unit, step)} only runs that went on have logs: {n}'s {shown} "
                       f"{'lies' if len(later) == 1 else 'lie'} there, beyond what the verdict compares.")
    return out


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _level_at(m: Metrics, schedule, target: str, step: int) -> Level | None:
    """The run's current level of ``target`` as its report defines it (levels.current_level, inside the current
    phase), had the run stopped at ``step``."""
    steps, values = m.steps(target), m.values(target)
    keep = steps <= step
    return current_level(steps[keep], values[keep], phase_start(m, schedule))


def _broken_since(m: Metrics, target: str, step: int) -> int | None:
    """Where the NaN/Inf stretch that reaches ``step`` began (its last point at or before ``step`` is not finite),
    else None."""
    steps, values = m.steps(target), m.values(target)
    values = values[steps <= step]
    if not len(values) or np.isfinite(values[-1]):
        return None
    finite = np.flatnonzero(np.isfinite(values))
    return int(steps[finite[-1] + 1 if len(finite) else 0])


def _show_level(level: Level | None) -> str:
    if level is None:
        return "no finite point"
    noise = f" ± {fmt(level.noise)}" if math.isfinite(level.noise) else ""
    points = "its last point" if level.points == 1 else f"median of {fmt(level.points)} points"
    return f"{fmt(level.value)}{noise} ({points})"


def _not_comparable(target: str, analyses: list, configs: list[dict | None]) -> str | None:
    """Why the runs' values of ``target`` are not the same quantity (None when they are)."""
    total = target.split("/")[-1] in {t.split("/")[-1] for t in TOTALS}
    kinds = {a.metric_sources.get(target) for a in analyses}
    if total and len(kinds) > 1:  # a per-pixel loss is one quantity whoever wrote it down; a total may not be
        return (f"the runs log {target} from different kinds of source ({', '.join(sorted(map(str, kinds)))}); "
                "RadioDiff's TensorBoard total is (autoencoder + discriminator loss) / 2, its text log's the "
                "autoencoder loss alone")
    if total:
        differ = [f"{key} " + " vs ".join(_show(getattr(a.schedule, key)) for a in analyses)
                  for key in _TOTAL_BOOKKEEPING if len({repr(getattr(a.schedule, key)) for a in analyses}) > 1]
        if differ:
            return (f"totals of different bookkeeping ({'; '.join(differ)}) are different sums, not better or worse; "
                    "compare rec_loss or a validation loss")
    if "rec" in target or "nll" in target:
        differ = _rec_keys_differing(configs)
        if differ:
            return f"the reconstruction loss is defined differently ({', '.join(differ)} differ)"
    return None


def _rec_keys_differing(configs: list[dict | None]) -> list[str]:
    """The loss settings that define the reconstruction term (_REC_KEYS) set differently, by their name under the
    loss section whatever the layout (model.lossconfig.X, model.params.lossconfig.params.X)."""
    loss = [{k.rsplit(".", 1)[-1]: v for k, v in flatten(c).items() if "loss" in k.rsplit(".", 1)[0].lower()}
            if isinstance(c, dict) else {} for c in configs]
    return [key for key in _REC_KEYS if len({repr(f[key]) if key in f else "—" for f in loss}) > 1]


def load_configs(paths: list[Path]) -> list[dict | None]:
    """Each run's own training config, as found in its folder (None if it has none)."""
    out: list[dict | None] = []
    for path in paths:
        try:
            found = find_config(Path(path))
        except (ConfigError, OSError):
            found = None
        out.append(found[1] if found else None)
    return out


def compare_runs(names: list[str], analyses: list, frames: list, configs: list[dict | None],
                 target: str | None = None, judge: bool = True) -> Comparison:
    """The comparison of analyzed runs (an unreadable run's analysis and frame are None); ``judge``: also say which
    is better on ``target`` (needs every point of the runs: not for a sweep's thinned curves)."""
    readable = [(n, a, f, c) for n, a, f, c in zip(names, analyses, frames, configs, strict=True) if a is not None]
    verdict = target_verdict(*map(list, zip(*readable, strict=True)), target) if judge and len(readable) >= 2 \
        else None
    schedules = [a.schedule if a is not None else None for a in analyses]
    return Comparison(names, overlay_plots(analyses, frames, names), settings_differences(configs, schedules),
                      latest_levels(analyses, configs), verdict, without_config(names, analyses, configs),
                      layouts_differ(configs, schedules))


@dataclass
class ComparedRun:
    name: str
    path: str
    analysis: Any  # Analysis, or None when the run could not be read
    error: str | None = None
    frame: Any = None  # its metric frame: the verdict compares the runs at matched steps, the plots overlay them


def parse_run_argument(text: str) -> tuple[str, Path]:
    """``NAME=PATH`` or ``PATH`` (named after its folder)."""
    name, sep, path = text.partition("=")
    if sep and not Path(text).exists():
        if not name or not path:
            raise InputError(f"{text}: the run's {'NAME' if not name else 'PATH'} is empty; give NAME=PATH or a "
                             "PATH")
        return name, Path(path)
    return Path(text).resolve().name or text, Path(text)


def analyze_runs(arguments: list[str], jobs: int | None = None, **options: Any) -> list[ComparedRun]:
    """Analyze each run given on the command line (``jobs`` at a time); one that cannot be read is listed
    with its reason."""
    parsed = [parse_run_argument(a) for a in arguments]
    names = [n for n, _ in parsed]
    if len(set(names)) != len(names):
        raise InputError(f"two runs are named the same ({', '.join(names)}); name them with NAME=PATH")
    return map_in_processes(_analyze_one, [(name, path, options) for name, path in parsed], jobs,
                            label="analyzing runs")


def _analyze_one(job: tuple[str, Path, dict]) -> ComparedRun:

    name, path, options = job
    try:
        examined = examine_run(path, **options)
        return ComparedRun(name, str(path), examined.analysis, frame=examined.frame)
    except VaeReportError as exc:
        return ComparedRun(name, str(path), None, str(exc))
