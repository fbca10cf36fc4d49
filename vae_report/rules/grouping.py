"""One finding per cause: nll = N x rec, and the total tracks nll before the GAN starts, so a loss that breaks
breaks all three at once; a rise within the current phase is one rise however many rules see it (against the
recent best, against the level before the switch-on, over the phase); a KL that runs away is one cause, and so
is the total's rise while the KL term (or a VQ codebook term) is most of it. Findings of one cause become one
headline finding with the others cited under it."""

from __future__ import annotations

from dataclasses import replace

from .. import position as pos
from ..checkpoints import checkpoint_before
from ..numbers import fmt, signed_pct
from ..schedule import Schedule
from .base import RANK, Finding, Rule, implicated

# The reconstruction chain, in headline order: the per-pixel loss is the root the others are built from.
CHAIN = ("rec_loss", "nll_loss", "total_loss", "aeloss", "p_loss")
# Families of losses whose findings may share a cause (a KL running away is not a reconstruction rise); the
# regularizers' families may carry the total (see _total_follows).
FAMILIES = (CHAIN, ("kl_loss",), ("quant_loss",))
# Kinds of cause that span the current phase: one loss rising within it is one cause, however far apart the
# rules date it (a latest level against the recent best, a trend over the phase, a level against the one before
# the switch-on). Other kinds group findings at about the same step (NaNs appearing together).
PHASE_WIDE = ("shape",)
# a rise that began within this share of the phase after the switch-on came with the discriminator
WITH_SWITCH = 0.1
# while a weighted term is more than this share of the total, the total's rise is that term's
CARRIES_TOTAL = 0.5
# the GAN game's two losses: a warning on its balance is about both
ADVERSARIAL = ("g_loss", "disc_loss")
# cases that say a loss never moved, not that it rose: they put no comparison of its levels in doubt
NOT_A_RISE = ("not-learning",)


def _base(metric: str | None) -> str | None:
    """A validation metric's training name (val/rec_loss -> rec_loss): overfitting shows in the whole chain."""
    return metric.split("/", 1)[1] if metric and metric.startswith(("val/", "val_ema/")) else metric


def _family(metric: str | None) -> tuple[str, ...] | None:
    return next((family for family in FAMILIES if _base(metric) in family), None)


def _related(finding: Finding) -> dict:
    # its evidence, for code that reads it and for the report, which says it under the headline
    return finding.cited()


# numbers by which a finding measures a change of its own metric (a level against a baseline)
_CHANGE_KEYS = ("change", "start_level", "recent_best", "before_level", "level_before", "from")
# numbers that hold the levels of the metrics a finding measures: {metric: level}
_LEVEL_KEYS = ("climbs", "now", "before_switch", "start")


def measured(finding: dict) -> set[str]:
    """The metrics whose change a finding (as a dict: a headline's or a cited one's) measures: its own metric
    when it compares two levels of it, and every metric whose levels its numbers hold (the climbs before a
    NaN, the levels now, before the switch-on, at the start). A finding cited under one that measured all of
    them adds no new number (view._cited): one change of one metric is told once in a cell."""
    numbers = finding.get("numbers") or {}
    found = {name for key in _LEVEL_KEYS if isinstance(numbers.get(key), dict) for name in numbers[key]}
    if finding.get("metric") and any(key in numbers for key in _CHANGE_KEYS):
        found.add(finding["metric"])
    return found


def _loud(finding: Finding) -> bool:
    return not finding.skipped and finding.severity in ("warning", "error")


def _groupable(finding: Finding, rules: dict[str, Rule]) -> bool:
    rule = rules.get(finding.rule)
    if not _loud(finding) or rule is None or rule.cause is None:
        return False
    if rule.cause_cases and finding.case not in rule.cause_cases:
        return False
    return rule.cause == "non-finite" or _family(finding.metric) is not None


def _climbed_into(rise: Finding, nan: Finding, window: int) -> bool:
    """Whether ``rise`` is the climb that ended in ``nan`` (a NaN/Inf that stays): its metric is one the NaN's
    finding names as having climbed before it, from about the same step; or one of the NaN's losses, its rise
    begun within ``window`` before the first bad step."""
    numbers = nan.numbers
    if nan.rule != "non-finite" or numbers.get("last_finite") is not False:
        return False
    start = rise.step or 0
    climb = (numbers.get("climbs") or {}).get(rise.metric or "")
    if climb is not None and abs(start - climb["onset"]) <= window:
        return True
    first = numbers.get("first_bad_step", nan.step or 0)
    return rise.metric == nan.metric and first - window <= start <= first


def _rise_before_nonfinite(groups: list[list[Finding]], window: int) -> list[list[Finding]]:
    """A rise that ran into a NaN/Inf that stays is the divergence the NaN's finding already tells (its climbs
    and their onsets): one cause, so the rise's group (rec, nll and the total, or the KL) joins the NaN's, and
    the run counts one error, with one action, for it."""
    nans = [group for group in groups if any(f.rule == "non-finite" for f in group)]
    out = []
    for group in groups:
        into = None if any(group is nan for nan in nans) else next(
            (nan for nan in nans for head in nan for f in group
             if f.rule != "non-finite" and _climbed_into(f, head, window)), None)
        if into is None:
            out.append(group)
        else:
            into.extend(group)
    return out


class _Grouping:
    """Which findings share a cause, and which of them heads the group."""

    def __init__(self, rules: dict[str, Rule], last_step: int, phase_start: int | None,
                 carrier: tuple[str, float] | None):
        self.rules, self.last_step, self.phase_start, self.carrier = rules, last_step, phase_start, carrier
        self.carried: set[int] = set()  # the totals a regularizer's rise carries (see _total_follows)

    def kind(self, finding: Finding) -> str:
        return self.rules[finding.rule].cause or ""

    def in_phase(self, finding: Finding) -> bool:
        """A training loss's finding dated within the current phase (the whole run before any switch-on)."""
        return (self.kind(finding) in PHASE_WIDE and not (finding.metric or "").startswith("val")
                and (self.phase_start is None or (finding.step or 0) >= self.phase_start))

    def rank(self, finding: Finding) -> tuple:
        """Lower heads: the worst severity; a rise that began with the switch-on is the discriminator's (the rule
        that names it explains it); then the rules' ranks, a NaN the loss's level stepped across before one it
        recovered from, never a total a regularizer's rise carries, the chain's root metric (rec, then nll, the
        total), the earliest step."""
        rule = self.rules[finding.rule]
        span = max(self.last_step - (self.phase_start or 0), 1)
        with_switch = (rule.heads_switch_on and self.phase_start is not None and finding.step is not None
                       and finding.step - self.phase_start <= WITH_SWITCH * span)
        base = _base(finding.metric)
        root = CHAIN.index(base) if base in CHAIN else len(CHAIN)
        return (-RANK[finding.severity], not with_switch, rule.cause_rank, "level_shift_step" not in finding.numbers,
                id(finding) in self.carried, root, finding.step or 0)

    def key(self, finding: Finding) -> tuple:
        """Findings group only with their own kind of cause and, but for NaNs appearing together (one cause
        whatever the metric), their own family of losses."""
        kind = self.kind(finding)
        return (kind, "" if kind == "non-finite" else str(_family(finding.metric)))

    def groups(self, candidates: list[Finding], tolerance: float) -> list[list[Finding]]:
        # one loss family rising within the current phase: one group whatever the steps
        by_family: dict[tuple, list[Finding]] = {}
        for finding in candidates:
            if self.in_phase(finding):
                by_family.setdefault((self.kind(finding), _family(finding.metric)), []).append(finding)
        self._total_follows(by_family)
        phase_wide = [group for group in by_family.values() if group]
        # the rest: findings of one kind (and family) at about the same step
        grouped = {id(f) for group in phase_wide for f in group}
        rest = sorted((f for f in candidates if id(f) not in grouped), key=lambda f: (self.key(f), f.step or 0))
        window = max(1, int(tolerance * max(self.last_step, 1)))
        near: list[list[Finding]] = []
        for finding in rest:
            group = near[-1] if near else None
            if group and self.key(finding) == self.key(group[0]) \
                    and (finding.step or 0) - (group[0].step or 0) <= window:
                group.append(finding)
            else:
                near.append([finding])
        return _rise_before_nonfinite(self._rise_follows_nonfinite(phase_wide, near, window), window)

    @staticmethod
    def _rise_follows_nonfinite(rises: list[list[Finding]], near: list[list[Finding]],
                                window: int) -> list[list[Finding]]:
        """A loss that stepped up across a NaN/Inf and stayed there rose because of that step: the rise (however
        many rules see it) joins the NaN's group, whose finding says so."""
        out = []
        for rise in rises:
            shifted = next((group for group in near for f in group if f.rule == "non-finite"
                            and "level_shift_step" in f.numbers and _family(f.metric) == _family(rise[0].metric)
                            and any(abs((r.step or 0) - f.numbers["level_shift_step"]) <= window for r in rise)),
                           None)
            if shifted is None:
                out.append(rise)
            else:
                shifted.extend(rise)
        return out + near

    def _total_follows(self, by_family: dict[tuple, list[Finding]]) -> None:
        """While the weighted regularizer term (KL, or a VQ codebook term) is most of the total, the total's rise
        is that term's (one cause): it moves from the reconstruction group into the regularizer's."""
        if self.carrier is None or self.carrier[1] <= CARRIES_TOTAL:
            return
        term = by_family.get(("shape", _family(self.carrier[0])))
        if not term:
            return
        chain = by_family.get(("shape", CHAIN), [])
        totals = [f for f in chain if _base(f.metric) in ("total_loss", "aeloss")]
        term += totals
        self.carried.update(id(f) for f in totals)
        by_family[("shape", CHAIN)] = [f for f in chain if f not in totals]


def group_by_cause(findings: list[Finding], last_step: int, rules: dict[str, Rule], phase_start: int | None = None,
                   carrier: tuple[str, float] | None = None, tolerance: float = 0.05) -> list[Finding]:
    """Findings that share a cause merged into the most telling one, the rest in ``related``: NaNs appearing
    together; one loss of the reconstruction chain going bad, seen in rec, nll and total at about the same step;
    a rise within the current phase, however many rules see it; a KL running away (with the total it carries:
    ``carrier`` is the regularizer's metric and its weighted term's share of the total). The order of the list
    is kept."""
    grouping = _Grouping(rules, last_step, phase_start, carrier)
    candidates = [f for f in findings if _groupable(f, rules)]
    headline: dict[int, Finding] = {}
    dropped: set[int] = set()
    for group in grouping.groups(candidates, tolerance):
        if len(group) < 2:
            continue
        head = min(group, key=grouping.rank)
        cited = [r for f in group if f is not head for r in (_related(f), *f.related)]
        headline[id(head)] = replace(head, related=(*head.related, *cited))
        dropped.update(id(f) for f in group if f is not head)
    return [headline.get(id(f), f) for f in findings if id(f) not in dropped]


def cite_explained(findings: list[Finding], rules: dict[str, Rule]) -> list[Finding]:
    """A finding whose case another warning explains (a total's rise made of the adversarial term, under the
    finding on the GAN's balance) is cited under that one, never a headline of its own, and so is the headline
    of a group of one cause that cites such a case (the latest-logs rise of the same reconstruction); the
    explaining finding must be at least as severe (a milder one would hide the worse)."""
    explainers = [f for f in findings if _loud(f) and rules.get(f.rule) is not None and rules[f.rule].explains]
    moved: dict[int, Finding] = {}
    for f in findings:
        cases = {f.case, *(r.get("case") for r in f.related if r["severity"] in ("warning", "error"))} - {None}
        if not _loud(f) or not cases:
            continue
        by = next((g for g in explainers if g is not f and cases & set(rules[g.rule].explains)
                   and RANK[g.severity] >= RANK[f.severity]), None)
        if by is not None:
            moved[id(f)] = by
    return _cited_under(findings, moved)


def _cited_under(findings: list[Finding], moved: dict[int, Finding]) -> list[Finding]:
    """The findings without those ``moved`` (id -> the headline they go under), each cited in its headline's
    ``related`` with what it cited itself, in the findings' order."""
    cited: dict[int, list[dict]] = {}
    for f in findings:
        if id(f) in moved:
            cited.setdefault(id(moved[id(f)]), []).extend((_related(f), *f.related))
    return [replace(f, related=(*f.related, *cited[id(f)])) if id(f) in cited else f
            for f in findings if id(f) not in moved]


def mark_restated(findings: list[Finding]) -> list[Finding]:
    """Each finding cited under a headline marked ``restates`` when the headline (or one cited before it)
    already measured the change of every metric it measures (``measured``): it then adds no number of its own
    (view._cited names it without restating the change from its own window, which would stand in one cell as a
    second baseline, onset or percentage of the same change)."""
    out = []
    for f in findings:
        if f.related:
            seen, related = measured(_related(f)), []
            for r in f.related:
                told = measured(r)
                related.append({**r, "restates": bool(told) and told <= seen})
                seen |= told
            f = replace(f, related=tuple(related))
        out.append(f)
    return out


def cite_consequences(findings: list[Finding], last_step: int, tolerance: float = 0.05) -> list[Finding]:
    """One cause, one headline: a warning whose case declares the findings it explains (``numbers["explains"]``,
    rule -> "near": begun at about its own step; "climb": on a metric whose climb it names; "any": anywhere in
    the run) cites them under it, never beside it (a posterior collapse and the reconstruction's step up at
    that step; d_weight 0 and the discriminator winning unopposed; the gradient norm's climb that starts a
    divergence). A cited finding is never more severe than its cause."""
    window = max(1, int(tolerance * max(last_step, 1)))
    moved: dict[int, Finding] = {}
    for head in findings:
        explains = head.numbers.get("explains") or {}
        if not _loud(head) or not explains or id(head) in moved:
            continue
        climbs = head.numbers.get("climbs") or {}
        for f in findings:
            how = explains.get(f.rule)
            if how is None or f is head or f.skipped or f.severity == "ok" or id(f) in moved \
                    or RANK[f.severity] > RANK[head.severity]:
                continue
            start, at = onset(_related(f)) or 0, onset(_related(head)) or 0
            if how == "any" or (how == "near" and abs(start - at) <= window) \
                    or (how == "climb" and (f.metric or "") in climbs):  # the climb its error names
                moved[id(f)] = head
    return _cited_under(findings, moved)


def named_rises(findings: list[Finding], rules: dict[str, Rule], skip: tuple[str, ...] = ()) -> dict[str, Finding]:
    """The training losses a warning or an error names as risen (headline or cited), each with the headline that
    names it: a rise of rec or nll (nll = N x rec) names the totals built from them too; a NaN/Inf names its
    loss only when the level shifted across it; the discriminator pulling ahead names g_loss, and the adversarial
    term grown to dominate names the terms that rose with it."""
    named: dict[str, Finding] = {}
    for head in findings:
        if not _loud(head):
            continue
        for f in (_related(head), *head.related):
            rule = rules.get(f["rule"])
            if rule is None or f["severity"] not in ("warning", "error") or f.get("case") in skip:
                continue
            numbers = f.get("numbers") or {}
            metrics: list[str | None] = []
            if rule.cause == "shape" or (rule.cause == "non-finite" and "level_shift_step" in numbers):
                metrics.append(f["metric"])
            metrics += list(implicated(numbers))  # the metrics its rule declares it names (risen, slow, NaN)
            for metric in metrics:
                if not metric or metric.startswith("val"):
                    continue
                built = CHAIN[:4] if metric in CHAIN[:2] else (metric,)
                for name in (metric, *built):
                    named.setdefault(name, head)
    return named


def lasting(finding: dict, rules: dict[str, Rule]) -> bool:
    """Whether a warning or an error (a headline's or one cited under it, as a dict) says a state of training that
    holds (a level, a trend, the GAN's balance), not an event that is over: isolated NaNs the loss recovered from
    at its level, a rise that came back, a resume."""
    rule = rules.get(finding["rule"])
    numbers = finding.get("numbers") or {}
    if rule is None or finding["severity"] not in ("warning", "error") \
            or not (rule.cause or rule.topics or implicated(numbers)):
        return False
    if numbers.get("recovered") and "level_shift_step" not in numbers:
        return False
    return finding["rule"] != "loss-episode"


def loud_metrics(findings: list[Finding], rules: dict[str, Rule], skip: tuple[str, ...] = ()) -> dict[str, Finding]:
    """Every metric a warning or an error is about (headline or cited, a state that holds) or names as risen,
    each with the headline to point to: no ok sentence and no all-clear answer is said of these (one place
    decides it for the findings and the answers). ``skip``: cases that leave the question asked open (a loss
    that never moved puts no comparison of its levels in doubt)."""
    named = dict(named_rises(findings, rules, skip))
    for head in findings:
        if not _loud(head):
            continue
        for f in (_related(head), *head.related):
            if f["metric"] and lasting(f, rules) and f.get("case") not in skip:
                named.setdefault(f["metric"], head)
                if f["metric"] in ADVERSARIAL and "balance" in rules[f["rule"]].topics:
                    for name in ADVERSARIAL:  # the GAN game's balance: both its losses are that finding's
                        named.setdefault(name, head)
    return named


def onset(finding: dict) -> int | None:
    """Where a finding's case begins: a trend's step is the end of the stretch it compares, so its start is the
    stretch's first step; a NaN's is its first bad step."""
    numbers = finding.get("numbers") or {}
    return numbers.get("from_step", numbers.get("first_bad_step", finding.get("step")))


def _doubts(ok: Finding, loud: dict, rules: dict[str, Rule], named: set[str], exact: bool) -> bool:
    """Whether a warning or an error (a headline or one cited under it) puts an ok finding on a loss's level or
    trend, or on the GAN's balance, in doubt: a finding on the training's state (one that groups by cause or
    answers a question), on the same metric (``exact``; else one that names that
    metric as risen) and reaches into the stretch the ok finding judges; or (not ``exact``) it is a loss of the
    reconstruction chain NaN/Inf to the end, under a finding on the GAN's balance (the discriminator then judges
    broken reconstructions)."""
    rule = rules.get(ok.rule)
    if loud.get("case") in NOT_A_RISE:
        return False
    if rule is None or not (rule.cause in ("shape", "overfitting") or {"balance", "kl"} & set(rule.topics)):
        return False  # a check of the bookkeeping, the schedule or the logs: no level for a warning to doubt
    if not lasting(loud, rules):
        return False  # an event (a resume, NaNs recovered from at the loss's level, a rise that came back)
    numbers = loud.get("numbers") or {}
    dead = loud["rule"] == "non-finite" and numbers.get("last_finite") is False
    if exact and dead and ok.metric is not None and loud["metric"] == ok.metric:
        return True  # NaN/Inf to the end: no level of it is fine, whatever stretch the ok finding read
    if _older(ok, loud):
        return False  # before the stretch the ok finding judges: older damage it may cite, no doubt on it
    start = onset(loud)
    reaches = start is None or ok.step is None or ok.step >= start
    if exact:
        return ok.metric is not None and reaches and loud["metric"] == ok.metric
    if ok.metric is not None and reaches and ok.metric in named:
        return True
    cause = rules.get(loud["rule"])
    if _base(ok.metric or "") == "total_loss" and reaches and cause is not None and "balance" in cause.topics:
        return True  # the total carries the adversarial term a warning on the GAN's balance is about: no progress
    return dead and _base(loud["metric"]) in CHAIN and "balance" in rule.topics


def _older(ok: Finding, loud: dict) -> bool:
    """Whether a warning began before the stretch an ok finding judges (its ``judged_from``: a comparison from
    just before the switch-on to now): a loss that stepped up long before that is not what the comparison asks."""
    scope, start = ok.numbers.get("judged_from"), onset(loud)
    return scope is not None and start is not None and start < scope


# info cases that settle a question as fine (a modest cost after the switch-on, "the usual price of the adversarial
# term"), by the clause that settles it: put in doubt like an ok finding, and the clause dropped then
SETTLED = {"usual-price": ": the usual price of the adversarial term"}


def qualify_ok(findings: list[Finding], rules: dict[str, Rule]) -> list[Finding]:
    """An ok finding that a warning or an error puts in doubt (its metric or its stretch) is no all-clear: it
    becomes info and points to that finding, instead of standing beside it as if they disagreed (a whole-run
    trend that reads fine while the same loss goes bad in its latest logs; reconstruction "a little worse" after
    the switch-on while its rise over the phase is a warning; a discriminator at chance while the reconstructions
    it judges are NaN; a total that "fell" because the adversarial term a warning flags went negative)."""
    heads = [f for f in findings if _loud(f)]
    named = {id(head): {m for m, h in named_rises([head], rules).items() if h is head} for head in heads}
    out = []
    for f in findings:
        # the finding on the ok one's own metric first (its evidence), else one that names it or breaks it
        settled = SETTLED.get(f.case or "")
        doubt = None if (f.severity != "ok" and settled is None) or f.skipped else next(
            ((head, d) for exact in (True, False) for head in heads for d in (_related(head), *head.related)
             if d["severity"] in ("warning", "error") and _doubts(f, d, rules, named[id(head)], exact)), None)
        if doubt is not None:
            head, cause = doubt
            where = "" if cause["rule"] == head.rule else f" under \"{head.title}\""
            title = cause.get("title") or cause["rule"]
            said = f.message.split(settled)[0] + "." if settled and settled in f.message else f.message
            f = replace(f, severity="info", numbers={**f.numbers, "in_doubt": {
                "rule": cause["rule"], "metric": cause["metric"], "headline": head.rule}},
                message=f"{said} That is no all-clear: see the {cause['severity']} \"{title}\"{where} "
                        f"above, on {cause['metric']}.")
        elif f.severity == "ok" and not f.skipped and "judged_from" in f.numbers:
            f = _cite_older(f, heads, rules, named)
        out.append(f)
    return out


def _cite_older(ok: Finding, heads: list[Finding], rules: dict[str, Rule], named: dict[int, set[str]]) -> Finding:
    """An ok comparison that a lasting warning on its metric predates stands, and says that damage is older than
    the stretch it judges (a rec_loss that stepped up long before the switch-on is not the GAN's doing)."""
    older = next((d for head in heads for d in (_related(head), *head.related)
                  if d["severity"] in ("warning", "error") and lasting(d, rules) and _older(ok, d)
                  and (d["metric"] == ok.metric or ok.metric in named[id(head)])), None)
    if older is None:
        return ok
    start = onset(older)
    return replace(ok, numbers={**ok.numbers, "older_damage": {"rule": older["rule"], "metric": older["metric"],
                                                               "onset_step": start}},
                   message=f"{ok.message} Its damage is older than that stretch: see the {older['severity']} "
                           f"\"{older.get('title') or older['rule']}\" above, on {older['metric']} from "
                           f"{pos.at(ok.unit, start)}.")


def point_to_gradient(findings: list[Finding], last_step: int, s: Schedule) -> list[Finding]:
    """A reconstruction-chain loss rising while the gradient norm grew under clipping (the grad-norm rule's
    warning, its growth begun before the rise or within a tenth of the run after it) says so and points to that
    finding, which holds the numbers: the two are one story, the loss drifting as the clipped updates shrink. Its
    action then acts on that cause, not on a list of suspects the row beside it has already settled."""
    grown = [f for f in findings if f.rule == "grad-norm" and f.case == "clipped" and _loud(f)]
    if not grown:
        return findings
    out = []
    for f in findings:
        if f.rule == "loss-now" and _loud(f) and _base(f.metric) in CHAIN and not (f.metric or "").startswith("val"):
            g = next((g for g in grown if (g.step or 0) <= (f.step or 0) + 0.1 * max(last_step, 1)), None)
            if g is not None:
                cited = f"the warning \"{g.title}\", {g.metric}, {pos.at(s, g.step or 0)}"
                back = checkpoint_before(s, min(f.step or 0, g.step or 0))
                grew = (f"{g.metric}, the gradient norm before clipping, grew {signed_pct(g.numbers['factor'] - 1)} "
                        f"under clipping at {fmt(g.numbers['clip'])} (see {cited})")
                rise, growth = f.step or 0, g.step or 0
                if growth - rise > 0.01 * max(last_step, 1):
                    # the effect dated before its cause: said, and the rise's own start is still to be explained
                    ahead = f"{pos.count(s, growth - rise)} before that growth began"
                    f = replace(f, message=f"{f.message} Later, {grew}; this rise began {ahead}, so the growth "
                                           "may feed it but did not start it.",
                                numbers={**f.numbers, "gradient_norm_finding": g.metric},
                                action=f"Look at what changed at {pos.at(s, rise)}, where the rise began, "
                                       f"{ahead} ({cited}): the learning rate, the data; act on that warning too,"
                                       f" and resume from {back} once the causes are fixed.")
                else:
                    f = replace(f, message=f"{f.message} Over the same stretch {grew}.",
                                numbers={**f.numbers, "gradient_norm_finding": g.metric},
                                action=f"Treat the rise as the gradient norm's growth under clipping ({cited}): act "
                                       f"on that warning, and resume from {back} once its cause is fixed.")
        out.append(f)
    return out
