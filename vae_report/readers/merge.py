"""Merging what was read, in two stages.

1. Files of one kind (several event files, text logs or CSVs of a restarted run) are taken in the order they
   were written. As TensorBoard does on a restart, a later file replaces, per metric, every earlier point at
   or after its own first step.
2. Kinds that log the same metric are compared on the steps they share. If they agree (to the
   digits the less precise one prints) the points are pooled, the more precise source winning on shared steps
   (TensorBoard > CSV > text log). If they disagree, they measure different things under one name
   (RadioDiff's TensorBoard ``total_loss`` is (AE loss + disc loss) / 2, its text log's is the AE loss), and
   the trainer's own loss dict wins: text log > CSV > TensorBoard. The report names the source of each metric.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..frame import concat, empty_frame, is_sorted, make_frame
from ..numbers import counted
from ..stats import SIDE_POINTS, level_changed, window_medians
from .continued import OVERLAP_SECONDS, continuations
from .copies import close_values, copies_of, same_values
from .foreign import without_foreign
from .ranks import other_ranks
from .sources import RunLogs, SourceFile

# who wins when they agree (a W&B summary only adds the last point a short or absent history lacks)
_PRECISION_ORDER = {"tensorboard": 0, "wandb": 1, "mlflow": 1, "csv": 1, "json": 1, "text log": 2,
                    "wandb summary": 3}
# ... when they disagree
_AUTHORITY_ORDER = {"text log": 0, "csv": 1, "json": 1, "wandb": 1, "mlflow": 1, "tensorboard": 2,
                    "wandb summary": 3}


def _written_order(part: tuple[SourceFile, pd.DataFrame]) -> tuple:
    """When a file was written: its first wall time; without one, what the logs hold (the first step, then the
    path's numbers compared as numbers: version_10 after version_2), never the path's spelling alone."""
    source, frame = part
    first_step = int(frame["step"].min()) if len(frame) else 0
    return (np.nan_to_num(source.first_wall_time, nan=np.inf), first_step, natural(source.path))


def _in_file_order(parts: list[tuple[SourceFile, pd.DataFrame]]) -> list[tuple[SourceFile, pd.DataFrame]]:
    """Launches of one text log in the order the file holds them, whatever their first steps (a fresh start
    from step 1 after a resume at step 500), in the places the sort gave that file's launches."""
    out = list(parts)
    for file in {p[0].file for p in parts if p[0].file is not None}:
        places = [i for i, p in enumerate(parts) if p[0].file == file]
        for i, part in zip(places, sorted((parts[i] for i in places), key=lambda p: p[0].launch), strict=True):
            out[i] = part
    return out


def merge_files(kind: str, parts: list[tuple[SourceFile, pd.DataFrame]], logs: RunLogs) -> pd.DataFrame:
    """Merge files of one kind in the order they were written; a later file replaces, per metric, every earlier
    point at or after its own first step (TensorBoard's restart semantics)."""
    parts = _without_copies(_in_file_order(sorted(without_foreign(other_ranks(parts, logs), logs),
                                                  key=_written_order)), logs)
    if len(parts) == 1:
        return parts[0][1]
    merged = concat([p[1] for p in parts])
    rank = np.repeat(np.arange(len(parts)), [len(p[1]) for p in parts])
    drop = replaced_points(rank, merged["metric"].cat.codes.to_numpy().astype(np.int64), merged["step"].to_numpy(),
                     [p[0].path for p in parts], list(merged["metric"].cat.categories), logs,
                     merged["value"].to_numpy(), merged["wall_time"].to_numpy(), copies_possible=kind == "text log",
                     copied=(copied := set()))
    note_merged(kind, [p[0].path for p in parts], logs)
    # a copy read once still lends its clock to the points it repeats; a restart's points lend nothing
    donors = merged[drop & np.isin(rank, list(copied))]
    return borrow_walls(merged[~drop], donors).reset_index(drop=True)


def _without_copies(parts: list[tuple[SourceFile, pd.DataFrame]], logs: RunLogs) -> list:
    """The parts without those that only repeat another's points (mmengine's two JSON files, a Hugging Face
    checkpoint's trainer_state.json), each said in its source; launches of one text log are never copies."""
    if len(parts) < 2:
        return parts
    merged = concat([p[1] for p in parts])
    rank = np.repeat(np.arange(len(parts)), [len(p[1]) for p in parts])
    found = copies_of(rank, merged["metric"].cat.codes.to_numpy().astype(np.int64), merged["step"].to_numpy(),
                      merged["value"].to_numpy(), len(parts), merged["wall_time"].to_numpy(dtype=np.float64))
    found = {i: j for i, j in found.items() if parts[i][0].file is None or parts[i][0].file != parts[j][0].file}
    for i, j in found.items():
        note_copy(parts[i][0], parts[j][0].path, len(parts[i][1]), logs)
    kept = [p for i, p in enumerate(parts) if i not in found]
    if not found:
        return kept
    # the copy kept may be the one without a clock (nohup.out beside RadioDiff's timestamped file log)
    donors = concat([parts[i][1] for i in found])
    return [(source, borrow_walls(frame, donors)) for source, frame in kept]


def note_copy(source: SourceFile, of: str, points: int, logs: RunLogs) -> None:
    logs.notes.append(f"{source.path}: every one of its {counted(points, 'point')} is in {of} with the same value: "
                      "a copy "
                      "of the same log (not a restart), read once")




def replaced_points(rank: np.ndarray, codes: np.ndarray, steps: np.ndarray, paths: list[str], names: list[str],
              logs: RunLogs, values: np.ndarray | None = None, walls: np.ndarray | None = None,
              copies_possible: bool = False, copied: set | None = None) -> np.ndarray:
    """Points replaced by a later file (``rank``: each point's file in written order): each file's first step
    per metric, a reverse cumulative minimum over the files after it, one comparison per point. The files found
    to be copies of a later one are added to ``copied``."""
    files, metrics = len(paths), len(names)
    firsts = np.full(files * metrics, np.inf)
    first_of = pd.Series(steps, dtype=np.float64).groupby(rank * metrics + codes).min()
    firsts[first_of.index.to_numpy()] = first_of.to_numpy()
    firsts = firsts.reshape(files, metrics)
    # for file i: the earliest first step of its metric in any later file
    later = np.vstack([np.minimum.accumulate(firsts[::-1], axis=0)[::-1][1:], np.full((1, metrics), np.inf)])
    cut = later[rank, codes]
    drop = steps >= cut
    restarted: set[int] = set()
    if drop.any():
        # a console copy of a file log (nohup.out) holds the same points; two CSVs or event files never are
        copies = _copies(rank, codes, steps, values, drop) if values is not None and copies_possible else set()
        if copied is not None:
            copied.update(copies)
        replaced = pd.Series(cut[drop]).groupby(rank[drop]).agg(["min", "size"])
        spans = _wall_spans(rank, walls, files)
        levels = _replaced_levels(rank, codes, steps, values, drop, names, [int(i) for i in replaced.index])
        for i, (restart, count) in replaced.iterrows():
            i = int(i)
            restarted.add(i)
            if i in copies:
                logs.notes.append(f"{paths[i]} holds the same {counted(int(count), 'point')} as a later file at those "
                                  "steps (a copy of the same log, as a console's nohup.out of a file log): read once")
                continue
            # held against the file that took over its series (the later one with its metrics beginning
            # earliest), not the next in written order: that may be a sibling of one process (add_scalars' key
            # folders, a split's), written all along beside it
            j = _replacer(firsts, i)
            overlap = spans[i][1] - spans[j][0] if j < files else np.nan
            concurrent = bool(overlap > OVERLAP_SECONDS)
            gap = spans[j][0] - spans[i][1] if j < files else np.nan
            mine = drop & (rank == i)
            logs.restarts.append({"step": int(restart), "file": paths[i], "points": int(count),
                                  # the points are per metric; a person counts the logged steps they cover
                                  "logged_steps": int(len(np.unique(steps[mine]))),
                                  "metrics": int(len(np.unique(codes[mine]))),
                                  "concurrent": concurrent, "replaced": levels[i],
                                  "abandoned": _abandoned(rank == i, codes, steps, values, drop, names),
                                  # how far the earlier file had got, and the pause before the later one began
                                  "reached": int(steps[mine].max()),
                                  "pause_s": float(gap) if np.isfinite(gap) and gap >= 0 else None})
            if concurrent:
                logs.notes.append(f"{paths[i]} was still being written {overlap / 3600:.1f} hours after "
                                  f"{paths[j]} began: two processes wrote into this folder at once; from step "
                                  f"{int(restart):,} on, the later one's points replace {int(count):,} of its points")
                continue
            logs.notes.append(f"a later file restarts at step {int(restart):,}: it replaces "
                              f"{counted(int(count), 'point')} of {paths[i]} at or after that step, as TensorBoard "
                              "does")
    # a later file that goes on after the earlier one's last step replaced nothing: a resume all the same
    logs.restarts.extend(continuations(rank, codes, steps, paths, _wall_spans(rank, walls, files), restarted))
    return drop


def _replacer(firsts: np.ndarray, i: int) -> int:
    """The later file whose first step cuts file ``i``'s series: among those holding one of its metrics, the one
    beginning earliest (``firsts``: each file's first step per metric, inf where it has none)."""
    mine = np.isfinite(firsts[i])
    later = firsts[i + 1:, :][:, mine]
    if not later.size:
        return i + 1
    earliest = later.min(axis=1)
    return i + 1 + int(np.argmin(earliest)) if np.isfinite(earliest).any() else i + 1


def _replaced_levels(rank, codes, steps, values, drop, names: list[str], replaced: list[int]) -> dict[int, dict]:
    """For each replaced file, its loss levels where its points begin and where its replaced points end (median
    of 5 points each): what the run had reached before the later file took over. One sort per loss, however
    many files."""
    out: dict[int, dict] = {i: {} for i in replaced}
    if values is None:
        return out
    wanted = set(replaced)
    for name in ("rec_loss", "nll_loss", "total_loss"):
        if name not in names:
            continue
        sub = np.flatnonzero(codes == names.index(name))
        sub = sub[np.lexsort((steps[sub], rank[sub]))]
        bounds = np.flatnonzero(np.diff(rank[sub])) + 1
        for part in np.split(sub, bounds):
            i = int(rank[part[0]])
            gone = part[drop[part]]
            if i in wanted and len(gone) >= 5:
                out[i][name] = {"first": _finite_median(values[part[:5]]), "last": _finite_median(values[gone[-5:]])}
    return out


def _finite_median(values: np.ndarray) -> float:
    """The median of the finite values, NaN without any (a stretch that ended in NaN), with no warning."""
    good = values[np.isfinite(values)]
    return float(np.median(good)) if len(good) else float("nan")


def _abandoned(mine: np.ndarray, codes, steps, values, drop, names: list[str]) -> dict:
    """What a file's replaced points held, where they went bad: the first NaN/Inf among them (step, metric), and
    the climb of a loss (rec, else nll, else total; 5-point medians) from its lowest level to its highest after
    it, when 30% or more. Empty where they held neither (a resume that went on where it was)."""
    out: dict = {}
    if values is None:
        return out
    gone = mine & drop
    bad = gone & ~np.isfinite(values)
    if bad.any():
        first = int(steps[bad].min())
        lead = ("rec_loss", "nll_loss", "total_loss")  # the losses first, then the rest as they sort
        at = sorted({names[c] for c in codes[bad & (steps == first)]},
                    key=lambda n: (lead.index(n) if n in lead else len(lead), not n.endswith("_loss"), n))
        out["nonfinite"] = {"step": first, "metrics": at}
    for name in ("rec_loss", "nll_loss", "total_loss"):
        if name not in names:
            continue
        sub = np.flatnonzero(gone & (codes == names.index(name)) & np.isfinite(values))
        sub = sub[np.argsort(steps[sub], kind="stable")]
        climb = _climb(steps[sub], values[sub])
        if climb is not None:
            out["climb"] = {"metric": name, **climb}
            break  # rec, nll and total climb together: the first logged one tells it
    return out


def _climb(steps: np.ndarray, values: np.ndarray) -> dict | None:
    """A loss's climb of 30% or more from its lowest level to its highest after it, levels being medians of
    SIDE_POINTS points apart far enough to stand clear of the points' own scatter (two noisy points are no
    climb); None when there is none, or too few points to tell."""
    w = SIDE_POINTS
    if len(values) < 2 * w or not np.all(values > 0):
        return None
    level = window_medians(values, w)
    peak = int(np.argmax(level))
    low = int(np.argmin(level[:peak + 1]))
    z = np.log(values)
    if level[peak] <= 1.3 * level[low] or peak - low < w or not level_changed(z[low:low + w], z[peak:peak + w]):
        return None
    # the climb starts where it last left its lowest level (within 10%) before the peak, not at that low
    # itself, which noise places anywhere on a flat stretch
    start = int(np.flatnonzero(level[:peak + 1] <= 1.1 * level[low])[-1])
    return {"from": float(level[low]), "from_step": int(steps[start + w // 2]), "to": float(level[peak]),
            "to_step": int(steps[peak + w // 2]), "ratio": float(level[peak] / level[low])}


def _wall_spans(rank: np.ndarray, walls: np.ndarray | None, files: int) -> list[tuple[float, float]]:
    """Each file's first and last wall time (NaN without any)."""
    if walls is None or not len(walls):
        return [(np.nan, np.nan)] * files
    known = np.isfinite(walls)
    first, last = np.full(files, np.nan), np.full(files, np.nan)
    if known.any():
        by = pd.Series(walls[known]).groupby(rank[known])
        lows, highs = by.min(), by.max()
        first[lows.index.to_numpy()] = lows.to_numpy()
        last[highs.index.to_numpy()] = highs.to_numpy()
    return list(zip(first.tolist(), last.tolist(), strict=True))


def _copies(rank: np.ndarray, codes: np.ndarray, steps: np.ndarray, values: np.ndarray, drop: np.ndarray) -> set:
    """Files whose every replaced point equals (to a text log's printed precision) the point that replaces it."""
    gone = pd.DataFrame({"rank": rank[drop], "code": codes[drop], "step": steps[drop], "value": values[drop]})
    kept = pd.DataFrame({"code": codes[~drop], "step": steps[~drop], "new": values[~drop]})
    pairs = gone.merge(kept, on=["code", "step"], how="left", indicator=True)
    both = (pairs["_merge"] == "both").to_numpy()
    same = close_values(pairs["value"].to_numpy(), pairs["new"].to_numpy()) & both
    return {int(r) for r, ok in pd.Series(same).groupby(pairs["rank"].to_numpy()).all().items() if ok}


def note_merged(kind: str, paths: list[str], logs: RunLogs) -> None:
    if len(paths) > 1:
        names = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        logs.notes.append(f"{len(paths)} {kind} files merged in the order they were written: {names}")



def natural(path: str) -> tuple:
    """A path's numbers compared as numbers: version_10 after version_2."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path))


def _agree(a: pd.DataFrame, b: pd.DataFrame) -> tuple[int, int]:
    """(shared steps, shared steps whose values differ beyond print precision) of one metric in two sources."""
    joined = a[["step", "value"]].merge(b[["step", "value"]], on="step", suffixes=("_a", "_b"))
    if joined.empty:
        return 0, 0
    x, y = joined["value_a"].to_numpy(), joined["value_b"].to_numpy()
    same = same_values(x, y)  # to the precision the less precise prints (mmengine's {:.4f}, detectron2's {:.4g})
    return len(joined), int((~same).sum())


def merge_kinds(per_kind: dict[str, pd.DataFrame], logs: RunLogs) -> pd.DataFrame:
    if not per_kind:
        return empty_frame()
    if len(per_kind) == 1:
        kind, frame = next(iter(per_kind.items()))
        logs.metric_sources = {m: kind for m in metrics_in(frame)}
        return _finish(frame)
    by_metric: dict[str, dict[str, pd.DataFrame]] = {}
    for kind, frame in per_kind.items():
        for metric, part in frame.groupby("metric", sort=False, observed=True):
            by_metric.setdefault(str(metric), {})[kind] = part
    out = []
    for metric, kinds in by_metric.items():
        if len(kinds) == 1:
            kind, part = next(iter(kinds.items()))
            logs.metric_sources[metric] = kind
            out.append(part)
            continue
        ranked = sorted(kinds, key=_AUTHORITY_ORDER.get)
        keep = [ranked[0]]
        for other in ranked[1:]:
            shared, differ = _agree(kinds[ranked[0]], kinds[other])
            if shared and differ > max(1, 0.01 * shared):
                by_design = (" (by design in RadioDiff: its TensorBoard total_loss is (AE loss + disc loss) / 2, "
                             "its text log's the AE loss)") if metric == "total_loss" and \
                    {other, ranked[0]} == {"tensorboard", "text log"} else ""
                logs.notes.append(
                    f"{metric}: {other} and {ranked[0]} disagree at {differ:,} of {shared:,} shared steps "
                    f"(median ratio {_median_ratio(kinds[ranked[0]], kinds[other]):.3g}){by_design}; {ranked[0]} "
                    "values used"
                )
            else:
                keep.append(other)
        keep.sort(key=_PRECISION_ORDER.get)
        pooled = concat([kinds[k] for k in keep])
        out.append(borrow_walls(pooled.drop_duplicates("step", keep="first"), pooled))
        logs.metric_sources[metric] = " + ".join(keep)
    return _finish(concat(out))


def borrow_walls(kept: pd.DataFrame, donors: pd.DataFrame) -> pd.DataFrame:
    """The kept points' wall times, taken where they have none from a point of another source at the same
    metric and step with the same value: whichever source is preferred for values, the clock comes from any
    agreeing one that has it (detectron2's metrics.json has no clock, its log.txt stamps every line;
    RadioDiff's nohup.out copy has none, its file log does)."""
    missing = kept["wall_time"].isna().to_numpy()
    if not missing.any() or donors.empty or not donors["wall_time"].notna().any():
        return kept
    timed = donors.loc[donors["wall_time"].notna(), ["metric", "step", "value", "wall_time"]]
    timed = timed.assign(metric=timed["metric"].astype(str)).drop_duplicates(["metric", "step"], keep="last")
    want = kept.loc[missing, ["metric", "step", "value"]]
    want = want.assign(metric=want["metric"].astype(str))
    joined = want.merge(timed, on=["metric", "step"], how="left", suffixes=("", "_donor"))
    agree = same_values(joined["value"].to_numpy(), joined["value_donor"].to_numpy())
    walls = np.where(agree, joined["wall_time"].to_numpy(dtype=np.float64), np.nan)
    if not np.isfinite(walls).any():
        return kept
    kept = kept.copy()
    kept.loc[missing, "wall_time"] = walls
    return kept


def _median_ratio(a: pd.DataFrame, b: pd.DataFrame) -> float:
    joined = a[["step", "value"]].merge(b[["step", "value"]], on="step")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = joined["value_y"].to_numpy() / joined["value_x"].to_numpy()
    ratio = ratio[np.isfinite(ratio)]
    return float(np.median(ratio)) if len(ratio) else float("nan")


def used_categories(values: pd.Categorical) -> pd.Categorical:
    """The categorical without categories no row uses (pandas' own way sorts every code: a copy per row)."""
    codes = values.codes
    used = _codes_used(codes, len(values.categories))
    if used.all():
        return values
    remap = np.cumsum(used, dtype=codes.dtype) - 1
    return pd.Categorical.from_codes(np.where(codes >= 0, remap[codes], -1).astype(codes.dtype),
                                     categories=values.categories[used])


def _codes_used(codes: np.ndarray, categories: int) -> np.ndarray:
    """Which categories the codes use, without a hash or sort of millions of rows: a few categories by one
    comparison each on the small codes (no copy of the column), many by a count per category."""
    if not len(codes):
        return np.zeros(categories, dtype=bool)
    if categories <= 64:
        return np.array([bool((codes == k).any()) for k in range(categories)], dtype=bool)
    valid = codes if codes.min() >= 0 else codes[codes >= 0]
    return np.bincount(valid.astype(np.intp, copy=False), minlength=categories)[:categories] > 0


def metrics_in(frame: pd.DataFrame) -> list[str]:
    """The metrics a frame holds points of, sorted."""
    metric = frame["metric"].array
    return sorted(str(c) for c in metric.categories[_codes_used(metric.codes, len(metric.categories))])


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    # a new frame over the same columns (setting a column on a frame that shares its data would copy them all)
    frame = make_frame(frame["step"].to_numpy(), used_categories(frame["metric"].array),
                       frame["value"].to_numpy(), frame["wall_time"].to_numpy(),
                       used_categories(frame["source"].array))
    if is_sorted(frame):
        return frame
    order = np.lexsort((frame["step"].to_numpy(), frame["metric"].cat.codes.to_numpy()))
    return frame.iloc[order].reset_index(drop=True)
