"""The value of a schedule setting the data confirm, where the configs offer more than one (candidates): the
discriminator's switch-on at the first logged step at or after disc_start pins disc_start; the logged sum
(total = nll + kl_weight x kl + the adversarial term) pins kl_weight. The report then follows the run, not the
file's last word, and no other finding mistakes the mismatch for a counter or a schedule gone wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..candidates import Candidate, Pinned, same_key
from ..numbers import fmt
from ..schedule import Schedule
from .base import Metrics
from .bookkeeping import logged_kl_weight
from .discriminator import disc_activity

Check = Callable[[float], "str | None"]


def _switch_on(m: Metrics) -> Check | None:
    """disc_start v is confirmed where the discriminator, off at every logged step before, came on at the first
    logged step at or after v."""
    found = disc_activity(m)
    if found is None:
        return None
    _, steps, on = found
    if not on.any() or on[0] or on[on.argmax():].mean() < 0.5:
        return None
    at = int(on.argmax())
    first, before = int(steps[at]), int(steps[at - 1])
    return lambda v: (f"the discriminator came on at step {fmt(first)}, the first logged step at or after "
                      f"{fmt(v)}" if before < v <= first else None)


def _logged_sum(m: Metrics) -> Check | None:
    """kl_weight v is confirmed where the weight the logged sum gives is v (to 2%): the sum adding up with v is
    not enough, a KL term far below the reconstruction's fits the sum with weights 100 times apart."""
    fitted = logged_kl_weight(m)
    if fitted is None:
        return None
    return lambda v: ("total_loss - nll_loss - the adversarial term is kl_weight x kl_loss at every logged step "
                      f"with kl_weight {fmt(v)}" if abs(v - fitted) <= 0.02 * fitted else None)


_CONFIRM = {"disc_start": _switch_on, "kl_weight": _logged_sum}


def pin_schedule(s: Schedule, m: Metrics, offered: dict[str, list[Candidate]]) -> Schedule:
    """``s`` with each setting the configs disagree on (``offered``: field -> the other candidates) set to the
    one value the data confirm, and the disagreement kept in ``pinned`` for the config finding to name once; a
    value given on the command line, or one no data or more than one candidate fits, is left as it is."""
    pinned = []
    for key, confirm in _CONFIRM.items():
        current = getattr(s, key)
        origin = s.origins.get(key, "")
        if current is None or origin == "command line" or origin.endswith(" default") or not offered.get(key):
            # the command line's word stands; a default is no config's value (kl_weight_from_total reads it)
            continue
        found, at = [*offered[key]], s.key_path(key)
        if not any(c.where.startswith(at) for c in found):  # where the value in use was read
            found.insert(0, Candidate(float(current), at))
        check = confirm(m) if len({c.value for c in found}) > 1 else None
        yes = {c.value for c in found if check is not None and check(c.value) is not None}
        if len(yes) != 1:
            continue
        value = yes.pop()
        where = "; ".join(dict.fromkeys(c.where for c in found if c.value == value))
        pinned.append(Pinned(key, value, check(value), where, tuple(c for c in found if c.value != value),
                             float(current), _twice(s, key)))
        if value != current:
            kind = int if isinstance(current, int) else float
            first = next(c.where for c in found if c.value == value)
            s = s.with_overrides(f"{first}, the value the data confirm", **{key: kind(value)})
    return replace(s, pinned=tuple(pinned)) if pinned else s


def _twice(s: Schedule, key: str) -> tuple[str, str] | None:
    """The file and dotted path of ``key`` where that file gives it twice (the disagreement is within it)."""
    at = s.key_path(key)
    return next(((origin, d.path) for origin, d in s.config_twice if same_key(at, d.path)), None)
