"""The run's current state: is a loss going bad in its latest logs?

Whole-run comparisons (start level against current level) are blind to a run that breaks now. This rule judges
each loss's latest level against its own *recent best* level and its noise, within the current phase (the GAN
term's switch-on moves several losses by design), and dates the change with a one-sided CUSUM.

Method (linear in the number of points): the phase's points are reduced to at most ``BINS`` bin medians; a
loss that is always positive is judged in log units (a rise is a ratio), a signed one (g_loss, a total that goes
negative, an nll with a learned logvar) in its own units. ``latest`` is the median of the last 5% of the bins,
``best`` the lowest rolling median of the third of the phase before them, ``sigma`` the bins' point-to-point
noise (MAD of first differences). A rise is reported when it exceeds both ``noise_factor`` sigmas and the
metric's minimum relevant size; its onset is where the CUSUM of ``z - best - rise/2`` last left zero.
False alarms: on healthy curves (noisy decays, plateaus, the switch-on jump, isolated spikes) a latest-5%
median exceeds the recent best by more than 6 sigma with probability far below 1e-6 for Gaussian noise, and the
minimum size (+50% for positive losses) keeps slow drifts of a healthy plateau out. We compared this with
ruptures' PELT (l2 cost, penalty 2 sigma^2 log n) on the same binned series with the same size test
(benchmarks/diagnosis/changepoints.py): both find every rising loss of the battery without a false alarm, and
the CUSUM dates them closer, with no penalty to tune and no extra dependency, so it is what runs.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .. import position as pos
from ..checkpoints import checkpoint_before
from ..levels import Level
from ..numbers import counted, fmt, pct
from ..schedule import Schedule
from ..stats import robust_noise, window_medians
from .base import Case, Finding, Metrics, departure, finite, ramp_onset, see, step_onset
from .bookkeeping import bookkeeping
from .discriminator import phase_start
from .drift import MEDIAN_NOISE, Climb, steady_climb
from .evidence import lr_across
from .knobs import chase_less
from .losses import _adversarial_rise, climb_into_nonfinite, shift_at_nonfinite, stale
from .said import Said
from .switch_on import at_switch_on, gan_action, gan_cause, not_before_minimum

BINS = 400
# name -> the smallest rise worth a warning, as a ratio (judged in log units when the loss stays positive);
# None: a signed or bounded loss, judged in its own units against twice its recent spread.
WATCHED = {
    "rec_loss": 1.5, "nll_loss": 1.5, "total_loss": 1.5, "quant_loss": 1.5, "p_loss": 1.5, "aeloss": 1.5,
    "kl_loss": 10.0,  # KL rising is expected under a tiny weight: only an explosion is news
    "g_loss": None, "disc_loss": None,  # signed or bounded: judged in their own units
}


def binned(steps: np.ndarray, values: np.ndarray, bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``bins`` (first step, median value) pairs of equal point counts; the oldest remainder is dropped."""
    n = len(values)
    if n < 2 * bins:  # fewer than two points a bin: the points themselves
        return steps, values
    k = n // bins
    start = n - k * bins
    return steps[start::k][:bins], np.median(values[start:].reshape(bins, k), axis=1)


def lowest_window(z: np.ndarray, m: int) -> tuple[float, int]:
    """The lowest median of ``m`` consecutive points, and where that window starts."""
    if len(z) <= m:
        return float(np.median(z)), 0
    medians = window_medians(z, m)
    at = int(np.argmin(medians))
    return float(medians[at]), at


def prepared(steps: np.ndarray, values: np.ndarray, ratio: float | None):
    """The finite points, their bins, the binned series in the units it is judged in (log for a loss that stays
    positive) and whether those are log units; None with fewer than 20 finite points."""
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    if len(values) < 20:
        return None
    b_steps, z_raw = binned(steps, values)
    use_log = ratio is not None and bool(np.all(z_raw > 0))
    return steps, values, b_steps, (np.log(z_raw) if use_log else z_raw), use_log


def minimum_rise(look: np.ndarray, ratio: float | None, use_log: bool) -> float:
    """The smallest rise worth a word: the ratio in log units, or twice the recent spread for a signed loss."""
    if use_log:
        return math.log(ratio)
    q75, q25 = np.percentile(look, [75, 25])
    return max(float(q75 - q25), 0.1 * abs(float(np.median(look))), 1e-12) * (2.0 if ratio is None else 1.0)


def latest_rise(steps: np.ndarray, values: np.ndarray, ratio: float | None, noise_factor: float = 6.0,
                tail: float = 0.05, whole_phase: bool = False, current: float | None = None,
                slow: float | None = None, phase_low: bool = False) -> dict | None:
    """The latest level against the recent best, with the onset of the rise; None when there is no rise worth
    a word (or too few points). ``whole_phase``: failing that, against the best of all the points given (a rise
    that happened earlier and never came back: ``stayed`` in the result). ``current``: the metric's current level
    (levels.current_level), judged in place of the latest bins' median so that the report quotes one level.
    ``slow``: failing both, a rise of at least that share over the recent best, far beyond the uncertainty of the
    two medians and held over the latest three tails, is a slow rise (``slow`` in the result), dated where the
    ramp leaves the level (or where it steps up, when a step fits better). ``phase_low``: a rise now is measured
    from the phase's lowest level when that is lower than the recent best (as ``whole_phase`` does), for a loss
    not judged against its whole phase otherwise (the GAN's). ``phase_best`` in the result: measured from the
    phase's lowest level, not the recent stretch's."""
    ready = prepared(steps, values, ratio)
    if ready is None:
        return None
    steps, values, b_steps, z, use_log = ready
    m = max(3, int(round(len(z) * tail)))
    look = z[-(m + max(2 * m, len(z) // 3)):-m]
    if len(look) < m:
        return None
    look_start = max(0, len(z) - m - len(look))
    best, best_at = lowest_window(look, m)
    latest = float(np.median(z[-m:]))
    level = (lambda x: float(np.exp(x))) if use_log else float
    quoted = None  # the current level as given, quoted as it is (not back from its logarithm)
    if current is not None and math.isfinite(current) and (current > 0 or not use_log):
        latest, quoted = (math.log(current) if use_log else current), float(current)
    now = level(latest) if quoted is None else quoted
    sigma = robust_noise(z)
    rise = latest - best
    phase_best = False
    minimum = minimum_rise(look, ratio, use_log)
    since_bin, best_bin = look_start, look_start + best_at
    stayed = False
    rising_now = rise > noise_factor * sigma and rise > minimum
    # not rising now against the recent best (a rise that is, is dated from there): a slow, steady climb is
    # measured from the level it began at, not from the best of its latest stretch, which is part of the climb
    climb = _drift(z, b_steps, m, latest, sigma, noise_factor, slow, ratio) \
        if slow is not None and use_log and not rising_now else None
    if climb is not None:
        return {"best": level(climb.baseline), "latest": now, "onset": climb.onset, "log_units": use_log,
                "rise": latest - climb.baseline, "exploding": False, "stayed": False, "slow": True,
                "baseline_step": climb.baseline_step}
    if not rising_now:
        found = _slow_rise(z, b_steps, m, latest, best, best_bin, sigma, noise_factor, slow, use_log) \
            if slow is not None else None
        if not whole_phase and found is None:
            return None
        best_w, since_w = lowest_window(z[:-m], m) if whole_phase else (best, since_bin)
        if whole_phase and latest - best_w > noise_factor * sigma and latest - best_w > minimum:
            best, since_bin, best_bin, rise, stayed = best_w, since_w, since_w, latest - best_w, True
            phase_best = True
        elif found is None:
            return None
        else:
            # a rise that began before the recent stretch lifted that stretch's best: measured (and dated) from
            # the phase's lowest sustained level when that is lower, so that "its best level" is the phase's
            lowest, at = lowest_window(z[:-m], m)
            again = _slow_rise(z, b_steps, m, latest, lowest, at, sigma, noise_factor, slow, use_log) \
                if lowest < best - 2 * sigma else None
            if again is not None:
                best, rise, found = lowest, latest - lowest, again
                # where it left that level, as a rise now is dated: a step fitted across a ramp dates its middle
                found = (min(found[0], _refine_onset(steps, values, int(b_steps[at]), best, rise, use_log)),
                         found[1])
            return {"best": level(best), "latest": now, "onset": found[0], "log_units": use_log,
                    "rise": rise, "exploding": False, "stayed": found[1] == "step", "slow": found[1] == "ramp",
                    "phase_best": again is not None}
    elif whole_phase or phase_low:
        # rising now; when the phase was lower still before the recent stretch (a short run, a climb that began
        # earlier), the rise is measured from there: its size and onset as the data show them
        lowest, at = lowest_window(z[:-m], m)
        if lowest < best - 2 * sigma:
            best, since_bin, best_bin, rise = lowest, at, at, latest - lowest
            phase_best = True
    # the CUSUM from where the best level was: a rise begins after it (a loss still falling before it is no rise)
    first = best_bin
    excess = z[first:] - best - rise / 2
    cusum = np.zeros(len(excess))
    acc = 0.0
    for i, e in enumerate(excess):  # <= BINS iterations
        acc = max(0.0, acc + e)
        cusum[i] = acc
    zeros = np.flatnonzero(cusum[:-1] == 0)
    onset_bin = first + (int(zeros[-1] + 1) if len(zeros) else 0)
    # the CUSUM dates the rise to the bin; the raw points then say where it left the best level
    since = int(b_steps[since_bin])
    left_band = _refine_onset(steps, values, since, best, rise, use_log)
    onset = min(left_band, int(b_steps[onset_bin]))
    # exploding: an order of magnitude above the recent best (two for KL, whose rise is expected)
    exploding = rise > math.log(10 if ratio < 10 else 100) if use_log else rise > 10 * minimum
    # the climb began before the recent stretch: it left that band at the stretch's first points, or the phase
    # before the stretch sat far below its best (a good part of the rise happened there)
    earlier = float(np.min(z[:since_bin])) if since_bin > 0 else best
    # or the level just before the stretch sat below its best beyond the noise: the climb had lifted it already
    just_before = float(np.median(z[max(0, since_bin - m):since_bin])) if since_bin > 0 else best
    began_before = left_band <= int(b_steps[min(since_bin + 2, len(b_steps) - 1)]) \
        or best - earlier > max(0.25 * rise, noise_factor * sigma) \
        or (exploding and best - just_before > noise_factor * sigma)
    if exploding and use_log and began_before:
        # an explosion that began before the recent stretch has already lifted its "best" (it left that band at
        # the stretch's first points): date it by where the whole phase turns from a level into the
        # (log-linear) climb, when that fit explains the series. One that left its noise band inside the stretch
        # is dated there: a fit of a level and a line leans early on a climb that levels off
        start, unexplained = ramp_onset(b_steps, z)
        if unexplained < 0.2:
            onset = min(onset, start)
        # measured from the level it left, not from the recent stretch's best, which the climb has already lifted
        # (a KL at 125k for 30,000 steps was "143 times" a point of 247k inside its climb)
        before = z[b_steps < onset]
        if len(before) >= m and float(np.median(before[-m:])) < best:
            best = float(np.median(before[-m:]))
            rise = latest - best
            return {"best": level(best), "latest": now, "onset": onset, "log_units": use_log, "rise": rise,
                    "exploding": True, "stayed": stayed, "phase_best": False, "before_climb": True}
    return {"best": level(best), "latest": now, "onset": onset, "log_units": use_log,
            "rise": rise, "exploding": bool(exploding), "stayed": stayed, "phase_best": phase_best}


def _drift(z: np.ndarray, b_steps: np.ndarray, m: int, latest: float, sigma: float, noise_factor: float,
           slow: float, ratio: float) -> Climb | None:
    """A steady climb (drift.steady_climb) that is a slow rise worth a warning: ``slow`` or more above the level
    it began at, far beyond the uncertainty of the two medians, held over the latest three tails, and short of
    an explosion (those keep their own dating)."""
    spread = noise_factor * MEDIAN_NOISE * sigma / np.sqrt(m) * np.sqrt(2)
    climb = steady_climb(z, b_steps, m, latest, sigma, min_rise=max(math.log(1 + slow), spread))
    if climb is None:
        return None
    rise = latest - climb.baseline
    held = float(np.median(z[-3 * m:])) - climb.baseline > 0.5 * rise
    exploding = rise > math.log(10 if ratio < 10 else 100)
    return climb if rise > max(math.log(1 + slow), spread) and held and not exploding else None


def _slow_rise(z: np.ndarray, b_steps: np.ndarray, m: int, latest: float, best: float, best_bin: int,
               sigma: float, noise_factor: float, slow: float, use_log: bool) -> tuple[int, str] | None:
    """The onset of a slow rise of the latest level over the recent best, or None. Medians of ``m`` points are
    ~1.25 sigma / sqrt(m) uncertain, so a slow rise can be told from noise long before it clears the size
    an explosion needs; it must hold over the latest three tails (not one fresh excursion)."""
    if not use_log:
        return None
    held = float(np.median(z[-3 * m:]))
    spread = noise_factor * 1.25 * sigma / np.sqrt(m) * np.sqrt(2)
    if not (latest - best > max(math.log(1 + slow), spread) and held - best > 0.5 * (latest - best)):
        return None
    # where the level turns into the ramp (a slow rise is dated where it starts, not where it clears the noise),
    # or where it steps up, when a step fits better than a ramp (a level shift is no slow rise)
    start, unexplained = ramp_onset(b_steps[best_bin:], z[best_bin:])
    jump, step_unexplained = step_onset(b_steps[best_bin:], z[best_bin:])
    if step_unexplained < unexplained:
        return jump, "step"
    return (start if unexplained < 0.8 else int(b_steps[best_bin])), "ramp"


def _refine_onset(steps, values, since: int, best: float, rise: float, use_log: bool) -> int:
    """Where the series left its best level: after the last point (smoothed over 5) still within a small
    margin of it (5% of the rise or 4 sigma), searching the raw points from ``since`` (the recent stretch) on."""
    z = np.log(np.maximum(values, 1e-300)) if use_log else values
    return departure(steps, z, best, best + rise, since=since, fraction=0.05, noise_margin=4.0)


# losses that should never settle above their best within a phase: also judged against the whole phase's best,
# so that a rise long enough ago to fill the recent stretch is not missed (KL rises by design; the GAN terms move
# with the adversarial balance; a total is judged in log units only while it stays positive)
STAYS_DOWN = ("rec_loss", "nll_loss", "quant_loss", "p_loss", "total_loss")

# losses the discriminator's switch-on moves by design (its loss appears, the GAN term joins the total)
SWITCHED = ("disc_loss", "g_loss", "total_loss", "aeloss")
# the losses of the GAN game: the run does not minimise them toward 0 (a discriminator loss at 0 has won)
ADVERSARIAL = ("g_loss", "disc_loss")


# the learning rates the trainers' own configs document (RadioDiff's first_radio.yaml; LDM's autoencoder configs'
# base_learning_rate, which main.py scales by batch and GPUs)
_RADIODIFF_LR = (5e-6, "RadioDiff's published first_radio.yaml")
_LDM_LR = (4.5e-6, "latent-diffusion's autoencoder configs")
DOCUMENTED_LR = {"radiodiff": _RADIODIFF_LR, "text log": _RADIODIFF_LR, "ldm": _LDM_LR, "sgm": _LDM_LR}


def _regularizer_hint(m: Metrics, s: Schedule) -> str:
    """The regularizer term this run has, to look at beside the lr and the data: KL for a KL model, the codebook
    term for a VQ one, none for a plain autoencoder (never a term the model does not have)."""
    names = set(m.names())
    if s.regularizer == "vq" or any(n in names for n in ("codebook_loss", "quant_loss", "vq_loss", "commitment_loss")):
        return ", the codebook/commitment term"
    if "kl_loss" in names or (s.regularizer == "kl" and s.kl_weight):
        return ", the KL term"
    return ""


def _now_action(m: Metrics, s: Schedule, onset: int, last: int, ended_bad: bool, stayed: bool,
                near_nan: bool) -> str:
    """What to do about a loss rising now, from what the logs already say about its onset: the NaN error's own
    action when the rise ended in one; a lower learning rate where the lr rose just before it; else the suspects
    the logs leave open (the lr only when it is not logged or moved, a NaN only when one is near), and the
    checkpoint before it, at once when the rise has stayed up."""
    if ended_bad:
        return (f"Follow the action of {see('non-finite')}: this rise is the run diverging toward its NaN/Inf.")
    back = checkpoint_before(s, onset)
    lr = lr_across(m, s, onset)
    if lr is not None and lr.rose:
        return f"Lower the learning rate ({lr.said()}), resuming from {back}."
    suspects = ["the data"]
    if lr is None:  # not logged, or logged too coarsely to read (RadioDiff's 5 decimals): no readable rate
        suspects.insert(0, "the learning rate (no readable lr in these logs)")
    switch = s.switch_step if s.adversarial_off is None else None
    if switch is not None and switch <= onset <= switch + 0.25 * max(last - switch, 1) and m.has("disc_loss"):
        # a rise early in the adversarial phase: the discriminator is the first thing that changed before it
        suspects.insert(0, f"the adversarial term (the discriminator on since {pos.at(s, switch)}: if it is the "
                           f"cause, {chase_less(s)})")
    moved = _logvar_moved(m, onset)
    if moved:  # a learned logvar that moved across the onset scales the nll: it comes first
        suspects.insert(0, moved)
    if near_nan:
        suspects.append("the NaN/Inf there")
    hint = _regularizer_hint(m, s).removeprefix(", ")
    if hint:
        suspects.append(hint)
    held = f" ({lr.said()})" if lr is not None else ""
    when = (f"it has stayed up for {fmt(last - onset)} {pos.units(s)}, so resume from {back} once the cause is found"
            if stayed else f"if it does not come back, resume from {back}")
    return f"Look at what changed at {pos.at(s, onset)}: {', '.join(suspects)}{held}; {when}."


def _made_of_the_game(m: Metrics, s: Schedule, onset: int, rise: float) -> bool:
    """Is a total's rise from ``onset`` the adversarial term's: it grew by most of the rise, or it swings by as much
    as the rise there (an oscillating game lifts and drops the total with it)?"""
    if _adversarial_rise(m, s, onset, None, rise) is not None:
        return True
    found = bookkeeping(m, s)
    if found is None:
        return False
    adv = found.terms["adversarial"][found.steps >= onset]
    if len(adv) < 20 or not rise > 0:
        return False
    return float(np.percentile(adv, 90) - np.percentile(adv, 10)) >= rise


def _logvar_moved(m: Metrics, onset: int) -> str | None:
    """The learned logvar named as a suspect where it moved by half a nat or more from before ``onset`` to now
    (the nll is rec / exp(logvar) + logvar per pixel: its level follows the logvar's), else None."""
    if not m.has("logvar"):
        return None
    steps, values = m.steps("logvar"), m.values("logvar")
    good = np.isfinite(values)
    steps, values = steps[good], values[good]
    before, after = values[steps < onset][-20:], values[steps >= onset][-20:]
    if len(before) < 3 or len(after) < 3:
        return None
    then, now = float(np.median(before)), float(np.median(after))
    if abs(now - then) < 0.5:
        return None
    return (f"the learned logvar (from {fmt(then)} before it to {fmt(now)} now: the nll per pixel is "
            "rec / exp(logvar) + logvar, so it moves with it)")


def _game_action(s: Schedule, onset: int) -> str:
    """What to do about a GAN loss rising: it moves with the game's balance (the discriminator pulling ahead, or
    the generator's term growing), not with the data or the regularizer, so the balance is where to look."""
    return (f"Look at the GAN's balance from {pos.at(s, onset)} (disc_loss and the logits): a GAN loss rises when "
            "the discriminator pulls ahead or the adversarial term grows; act on the GAN finding that dates it.")


def _lr_far_off(s: Schedule, t: dict) -> str:
    """The config's lr named beside a degrading loss when it is far off the trainer's documented one."""
    known = DOCUMENTED_LR.get(s.layout)
    if known is None or not s.lr:
        return ""
    ratio = s.lr / known[0]
    if 1 < ratio * t["lr_far"] and ratio < t["lr_far"]:  # within the factor either way (no division: it may be 0)
        return ""
    times = fmt(round(ratio)) if ratio >= 1 else f"1/{fmt(round(1 / ratio))}"
    return (f" The config's lr {fmt(s.lr)} ({s.origins.get('lr', 'the config')}) is {times} times the "
            f"{fmt(known[0])} of {known[1]}: a rate that far off is a likely cause; try the documented one.")


def _every(m: Metrics, name: str) -> int:
    steps = m.steps(name)
    return int(np.median(np.diff(steps))) if len(steps) > 1 else 1


def _times(ratio: float) -> str:
    """A rise as a person says it: "15% above" under twice the level, "2.4 times" under ten, "38 times" above
    (four digits of a ratio are more precision than a noisy level carries)."""
    if ratio < 2:
        return f"{pct(ratio - 1, 0)} above"
    return f"{fmt(round(ratio, 1 if ratio < 10 else 0))} times"


FEW_POINTS = 20  # fewer logged points than this: no loss is judged "now" (its noise is unknown)


def loss_now(m: Metrics, s: Schedule, t: dict) -> list[Case]:
    out, checked, young, broken, few = [], [], [], [], []
    climbing: dict[str, dict] = {}  # losses with no sudden rise that still climb through their latest quarter
    last = m.last_step()
    start = phase_start(m, s)
    watched = WATCHED
    if not any(m.has(name) for name in WATCHED):  # only validation logged: its losses are the ones to judge now
        watched = {f"val/{name}": ratio for name, ratio in WATCHED.items() if name in STAYS_DOWN}
    for name, ratio in watched.items():
        base = name.removeprefix("val/")
        if not m.has(name) or stale(m, name) or (name == "kl_loss" and np.nanmin(m.values(name)) < 0):
            continue  # no longer logged (loss-stopped), or not a KL (kl-negative): nothing to say of it "now"
        ended_bad = not np.isfinite(m.values(name)[-1])  # judged on its finite points, up to the NaN/Inf
        if np.isfinite(m.values(name)).sum() < FEW_POINTS:  # the whole run too short to tell a rise from noise
            few.append(name)
            continue
        lo = start
        steps, values = m.window(name, lo=lo)
        if len(steps) < 20:  # a phase too young to judge alone
            if start is not None and base in SWITCHED:
                young.append(name)  # against the phase before, its switch-on would read as a rise
                continue
            steps, values = m.steps(name), m.values(name)
            lo = None
        checked.append(name)
        # the total against its whole phase only when it is all there is (per-pixel losses say it better, and in
        # the adversarial phase the total carries the GAN term)
        whole = base in STAYS_DOWN and (base != "total_loss" or not any(
            m.has(name.replace("total_loss", other)) for other in ("rec_loss", "nll_loss")))
        level = m.level(name)
        found = latest_rise(steps, values, ratio, t["noise_factor"], t["tail"], whole_phase=whole,
                            current=level.value if level is not None else None,
                            slow=t["slow_rise"] if base in STAYS_DOWN else None, phase_low=base in ADVERSARIAL)
        if found is None:
            if ended_bad:
                broken.append(name)
                checked.remove(name)
            elif base not in ADVERSARIAL:
                still = still_climbing(steps, values, now=m.level(name))
                if still is not None:
                    climbing[name] = still
            continue
        severity = "error" if found["exploding"] else "warning"
        where = f" since the discriminator switched on ({pos.at(s, lo)})" if lo is not None else ""
        if where and (found.get("before_climb") or found.get("into_nonfinite")):  # a level, not a stretch
            where = f" (in the phase since the discriminator switched on, {pos.at(s, lo)})"
        # the level it rose from, quoted as the shared one (the table's Start, the level just before the
        # switch-on) where it is that level (Metrics.reference)
        found["best"] = m.baseline(name, found["best"])
        best, latest = found["best"], found["latest"]
        size = (f", {_times(latest / best)} that level" if found["log_units"] else f", {fmt(latest - best)} higher")
        verb = "is exploding" if found["exploding"] else "rose and stayed up" if found["stayed"] \
            else "is rising slowly" if found.get("slow") else "is rising now"
        climb = climb_into_nonfinite(m, name) if ended_bad else None
        if ended_bad:
            first_bad = int(m.steps(name)[~np.isfinite(m.values(name))][0])
            verb = f"{'exploded' if found['exploding'] else 'rose'} before turning NaN/Inf at {pos.at(s, first_bad)}"
        if climb is not None:  # the climb the non-finite finding tells: one onset, baseline and peak for it
            found.update(best=climb["from"], latest=climb["to"], onset=climb["onset"], log_units=True,
                         stayed=False, into_nonfinite=True)
            found.pop("baseline_step", None)
            best, latest, where = found["best"], found["latest"], ""
            size = f", {_times(latest / best)} that level"
        # a loss still falling had not begun to rise: not before its low (a slow drift is dated by its ramp fit)
        if climb is None and not ended_bad and not found.get("slow"):
            found["onset"] = not_before_minimum(steps, values, found["onset"])
        # judged over the whole run (its phase too young): a rise from the switch-on is the GAN's, not the lr's
        gan = lo is None and not ended_bad and at_switch_on(steps, values, found["onset"], start, _every(m, name))
        if gan:  # dated where the discriminator's first logged step on shows it, as rec-after-disc dates it
            found["onset"] = max(found["onset"], start)
        shift = shift_at_nonfinite(m, name, lo=lo)
        nan_text = ""
        if shift is not None and abs(found["onset"] - shift[0]) <= max(0.02 * max(last, 1), 5 * _every(m, name)):
            found["onset"] = shift[0]
            nan_text = f", where a loss was NaN/Inf (see {see('non-finite')}),"
        # "its best level in this phase" only for the phase's own best (a whole-phase comparison), else the
        # recent stretch's
        # for the GAN's losses lower is not better: their "lowest", never "best"
        best_word = "lowest level" if base in ADVERSARIAL else "best level"
        stretch = (best_word + (" in this phase" if lo is not None else " in the run")) if found.get("phase_best") \
            else "level before the climb" if found.get("into_nonfinite") or found.get("before_climb") \
            else "lowest level before this steady climb" if "baseline_step" in found \
            else f"{best_word} in the recent stretch"
        finite_steps, finite_values = m.steps(name)[np.isfinite(m.values(name))], finite(m.values(name))
        last_value = float(finite_values[-1])
        # the median of the latest points lags a loss still climbing: its last value says how far it has gone
        last_text = (f" (its last value, at {pos.at(s, int(finite_steps[-1]))}: {fmt(last_value)}"
                     + (f", {fmt(round(last_value / best))} times" if found["log_units"] and best > 0
                        and last_value / best >= 10 else "") + ")") \
            if abs(last_value - latest) > 0.2 * max(abs(latest), 1e-12) else ""
        out.append(Case(
            f"{name} {verb}: {fmt(latest)} over its latest {'finite ' if ended_bad else ''}points against "
            f"{fmt(best)}, its {stretch}{where}{size}{last_text}; "
            f"the rise began at {pos.at(s, found['onset'])}{nan_text}"
            + (" and it has not come back since" if found["stayed"] else "")
            + ". A loss that rises and stays up is a run going bad, whatever its trend over the whole run."
            + (" Only validation is logged, so this cannot be told apart from overfitting: log the training losses "
               "too." if base != name else "")
            + (gan_cause(s, start) if gan else _lr_far_off(s, t) if base in STAYS_DOWN else ""),
            name, found["onset"], {"recent_best": found["best"], "latest": found["latest"],
                                   "last_value": last_value, "onset_step": found["onset"],
                                   "judged_in_log_units": found["log_units"],
                                   **({"baseline": "lowest before the climb", "baseline_step": found["baseline_step"]}
                                      if "baseline_step" in found else {}),
                                   # the level every rule and the statistics table quote as now (none once NaN)
                                   **({"now": {name: found["latest"]}} if not ended_bad and level is not None
                                      and found["latest"] == level.value else {})},
            severity=severity,
            # a GAN loss's rise is the game's balance moving: cited under the finding on that balance when one
            # warns (grouping.cite_explained), acted on there, never before it as a cause of its own
            # so is a total's rise made mostly of the adversarial term (an oscillating game swings the total)
            case="adversarial-rise" if not ended_bad and (base in ADVERSARIAL or (
                base == "total_loss" and _made_of_the_game(m, s, found["onset"], found["latest"] - found["best"])))
            else None,
            action=gan_action(s, start) if gan else _game_action(s, found["onset"]) if base in ADVERSARIAL
            else _now_action(m, s, found["onset"], last, ended_bad=ended_bad, stayed=found["stayed"],
                             near_nan=bool(nan_text)),
        ))
    if not out and (checked or few):
        out.append(steady(checked, young, broken, start, last, s, climbing=climbing, few=few))
    return out


def loss_now_short(f: Said) -> str | None:
    n = f.n
    if "recent_best" in n and "latest" in n:
        return (f"{f.metric} at {fmt(n['latest'])} against its recent best {fmt(n['recent_best'])}, since "
                f"{f.at(n.get('onset_step', f.step))}")
    if "checked" in n:
        broken = list(n.get("non_finite_now") or ())
        checked = counted(len(n["checked"]), "loss", "losses")
        if not n["checked"] and n.get("too_few_points"):
            return f"no loss judged in the latest logs: fewer than {FEW_POINTS} logged points"
        return (f"no {'finite ' if broken else ''}loss rising in the latest logs ({checked} checked)"
                + (f"; NaN/Inf now: {', '.join(broken)}" if broken else ""))
    return None


def still_climbing(steps: np.ndarray, values: np.ndarray, parts: int = 4, now: Level | None = None) -> dict | None:
    """{from, from_step, to} when a loss climbs through the latest quarter of its points: each of its ``parts``
    medians above the one before, the whole rise more than twice a median's noise; None otherwise (a loss that
    sits at a level, or falls, is at or near its recent best). ``now``: the metric's current level
    (Metrics.level), quoted as ``to`` so that the report says one "now" of it."""
    good = np.isfinite(values)
    x, y = steps[good], values[good]
    quarter = len(y) // 4
    if quarter < 4 * parts:
        return None
    chunks = np.array_split(np.arange(len(y) - quarter, len(y)), parts)
    medians = [float(np.median(y[c])) for c in chunks]
    noise = robust_noise(y[-quarter:]) / math.sqrt(len(chunks[0]))
    if not np.all(np.diff(medians) > 0) or not medians[-1] - medians[0] > 2 * noise:
        return None
    to = now.value if now is not None and math.isfinite(now.value) else medians[-1]
    return {"from": medians[0], "from_step": int(x[chunks[0][0]]), "to": to}


def steady(checked: list[str], young: list[str], broken: list[str], start: int | None, last: int, s: Schedule,
           named: dict[str, str] | None = None, climbing: dict[str, dict] | None = None,
           few: list[str] | None = None) -> Case:
    """loss-now's case when no loss rises in its latest logs. ``named``: losses another finding names as risen
    (metric -> that finding's title), left out of "at or near their best" and pointed to instead: a loss can sit
    at its recent best and still have risen since the switch-on or over the phase."""
    named = named or {}
    # a loss another finding names that still climbs through its latest quarter is said to climb, pointing there
    named_climbing = {name: c for name, c in (climbing or {}).items() if name in named}
    # the adversarial losses move with the GAN game (a discriminator at 0 has won): lower is not better, so they
    # are never "at their best", only without a sudden rise
    climbing = {name: c for name, c in (climbing or {}).items() if name in checked and name not in named}
    listed = [name for name in checked if name not in named and name not in ADVERSARIAL and name not in climbing]
    game = [name for name in checked if name not in named and name in ADVERSARIAL]
    note = (f" Not judged yet: {', '.join(young)}, with fewer than 20 points since the discriminator switched on "
            f"at {pos.at(s, start)} (its switch-on moves them by design).") if young else ""
    if broken:
        note += f" Not judged: {', '.join(broken)}, NaN/Inf at the latest {pos.unit(s)} (see {see('non-finite')})."
    few = few or []
    if few:
        note += (f" Not judged: {', '.join(few)}, with fewer than {FEW_POINTS} logged points (too few to tell a rise "
                 "from noise).")
    at_best = ("each sit at or near their best level of the recent stretch (within their noise)" if len(listed) > 1
               else "sits at or near its best level of the recent stretch (within its noise)")
    if named:
        # not rising against their recent best, yet risen over a longer stretch (or broken): the finding that
        # names it says so, never "at or near their best"
        by_title: dict[str, list[str]] = {}
        for name, title in named.items():
            if name not in named_climbing:
                by_title.setdefault(title, []).append(name)
        elsewhere = "; ".join([f"{', '.join(names)}: no sudden rise now, but see \"{title}\""
                               for title, names in by_title.items()]
                              + [f"{name} is still climbing through its latest quarter, from {fmt(c['from'])} (from "
                                 f"{pos.at(s, c['from_step'])}) to {fmt(c['to'])} now: see \"{named[name]}\""
                                 for name, c in named_climbing.items()])
        text = f"In the latest logs, {_said(listed, at_best, game, climbing, s)}; {elsewhere}."
    else:
        said = _said(listed, at_best, game, climbing, s)
        text = (f"No {'finite ' if broken else ''}loss is rising {'suddenly ' if climbing else ''}in the latest "
                f"logs: {said}." if said else "No loss is judged in the latest logs.")
    return Case(text + note, None, last,
                {"checked": listed + list(climbing) + game, "not_judged_yet": young, "non_finite_now": broken,
                 "too_few_points": few,
                 "named_elsewhere": sorted(named), "phase_start": start, "climbing": climbing},
                severity="ok" if not broken and (listed or game or climbing) else "info", case="steady")


def _said(listed: list[str], at_best: str, game: list[str], climbing: dict[str, dict] | None = None,
          s: Schedule | None = None) -> str:
    """The losses at their best, those still climbing (with how far), then the adversarial ones, which only show
    no sudden rise."""
    parts = [f"{', '.join(listed)} {at_best}"] if listed else []
    parts += [f"{name} is still climbing through its latest quarter, from {fmt(c['from'])} (from "
              f"{pos.at(s, c['from_step']) if s is not None else c['from_step']}) to {fmt(c['to'])} now, with no "
              "sudden rise" for name, c in (climbing or {}).items()]
    if game:
        parts.append(f"{', '.join(game)} {'show' if len(game) > 1 else 'shows'} no sudden rise (for adversarial losses "
                     "lower is not better; the GAN findings judge their balance)")
    return "; ".join(parts)


def steady_without(finding: Finding, named: dict[str, Finding], s: Schedule) -> Finding | None:
    """loss-now's "no loss is rising" finding without the losses ``named`` as risen by other findings (they
    point to those instead); None when every loss it checked is named elsewhere."""
    numbers = finding.numbers
    if finding.case != "steady" or not named.keys() & set(numbers["checked"]):
        return finding
    checked = numbers["checked"]
    if all(name in named for name in checked):
        return None
    case = steady(checked, numbers["not_judged_yet"], numbers["non_finite_now"], numbers["phase_start"],
                  finding.step or 0, s, {name: named[name].title or named[name].rule for name in checked
                                      if name in named}, numbers.get("climbing"), numbers.get("too_few_points"))
    return replace(finding, message=case.message, numbers=case.numbers)
