"""One finding per cause: nll = N x rec, and the total tracks nll before the GAN starts, so a loss that breaks
breaks all three at once. Findings of one cause become one headline finding with the others cited under it."""

from __future__ import annotations

from dataclasses import replace

from .base import RANK, Finding
from .current import steady_text

# The reconstruction chain, in headline order: the per-pixel loss is the root the others are built from.
CHAIN = ("rec_loss", "nll_loss", "total_loss", "aeloss", "p_loss")

# Which rules' findings may share a cause, from the registry: rule id -> (kind of cause, headline rank). Findings
# group only with their own kind (NaNs with NaNs, overfitting with overfitting, a loss's shape with shapes).
Causes = dict[str, tuple[str, int]]


def _base(metric: str | None) -> str | None:
    """A validation metric's training name (val/rec_loss -> rec_loss): overfitting shows in the whole chain."""
    return metric.split("/", 1)[1] if metric and metric.startswith(("val/", "val_ema/")) else metric


def _related(finding: Finding) -> dict:
    return {"rule": finding.rule, "severity": finding.severity, "metric": finding.metric, "step": finding.step,
            "message": finding.message}


def _rank(finding: Finding, causes: Causes) -> tuple:
    base = _base(finding.metric)
    chain = CHAIN.index(base) if base in CHAIN else len(CHAIN)
    return (-RANK[finding.severity], causes[finding.rule][1], chain, finding.step or 0)


def _groupable(finding: Finding, causes: Causes) -> bool:
    if finding.skipped or finding.severity not in ("warning", "error") or finding.rule not in causes:
        return False
    return causes[finding.rule][0] == "non-finite" or _base(finding.metric) in CHAIN


def group_by_cause(findings: list[Finding], last_step: int, causes: Causes,
                   tolerance: float = 0.05) -> list[Finding]:
    """Findings that share a cause (NaNs appearing together; one loss of the reconstruction chain going bad,
    seen in rec, nll and total at about the same step) merged into the most telling one, the rest in
    ``related``. The order of the list is kept."""
    def kind(finding: Finding) -> str:
        return causes[finding.rule][0]

    candidates = sorted((f for f in findings if _groupable(f, causes)), key=lambda f: (kind(f), f.step or 0))
    window = max(1, int(tolerance * max(last_step, 1)))
    groups: list[list[Finding]] = []
    for finding in candidates:
        group = groups[-1] if groups else None
        if group and kind(finding) == kind(group[0]) and (finding.step or 0) - (group[0].step or 0) <= window:
            group.append(finding)
        else:
            groups.append([finding])
    headline: dict[int, Finding] = {}
    dropped: set[int] = set()
    for group in groups:
        if len(group) < 2:
            continue
        head = min(group, key=lambda f: _rank(f, causes))
        others = [f for f in group if f is not head]
        headline[id(head)] = replace(head, related=tuple(_related(f) for f in others))
        dropped.update(id(f) for f in others)
    return [headline.get(id(f), f) for f in findings if id(f) not in dropped]


# rules whose warning says a loss rose (and stayed up): the latest-logs sentence must not call it at its best
RISE_RULES = ("rec-after-disc", "rec-trend", "total-trend", "divergence", "non-finite")


def qualify_trends(findings: list[Finding]) -> list[Finding]:
    """A whole-run trend that reads fine while the same loss is going bad in its latest logs says so, instead
    of standing beside that finding as if they disagreed."""
    bad_now = {f.metric: f for f in findings if f.rule == "loss-now" and f.severity in ("warning", "error")}
    for related in [r for f in bad_now.values() for r in f.related if r["rule"] == "loss-now"]:
        bad_now.setdefault(related["metric"], None)
    # losses another finding names as risen: never "at or near their best" in the latest-logs sentence
    risen = {}
    for f in findings:
        if f.rule in RISE_RULES and f.severity in ("warning", "error") and not f.skipped \
                and (f.rule != "non-finite" or "level_shift_step" in f.numbers):
            for metric in [f.metric] + [r["metric"] for r in f.related if r["rule"] in RISE_RULES]:
                risen.setdefault(metric, f.rule)
        if f.rule == "disc-overpowering" and f.severity == "warning" and "g_loss_early" in f.numbers:
            risen.setdefault("g_loss", f.rule)  # the discriminator pulling ahead: g_loss climbed with it
        if f.rule == "gan-term-dominant" and f.severity == "warning":
            for name in f.numbers.get("rising_terms", ()):
                risen.setdefault(name, f.rule)
    for a, b in (("rec_loss", "nll_loss"), ("nll_loss", "rec_loss")):  # nll = N x rec: one rose, both did
        if a in risen:
            risen.setdefault(b, risen[a])
    out = []
    for f in findings:
        if f.rule == "loss-now" and f.metric is None and risen and set(risen) & set(f.numbers.get("checked", ())):
            f = replace(f, message=steady_text(f.numbers["checked"], f.numbers.get("note", ""),
                                               bool(f.numbers.get("non_finite_now")), risen))
        if f.rule in ("rec-trend", "total-trend") and f.severity == "ok" and f.metric in bad_now:
            # info, not a reassuring "ok" beside the error: the ends of the stretch miss what happens now
            f = replace(f, severity="info",
                        message=f"{f.message} That compares the ends of the whole stretch; in its latest logs "
                                f"{f.metric} is going bad (see the latest-logs finding).")
        out.append(f)
    return out
