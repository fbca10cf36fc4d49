"""One finding per cause: nll = N x rec, and the total tracks nll before the GAN starts, so a loss that breaks
breaks all three at once. Findings of one cause become one headline finding with the others cited under it."""

from __future__ import annotations

from dataclasses import replace

from .base import RANK, Finding

# The reconstruction chain, in headline order: the per-pixel loss is the root the others are built from.
CHAIN = ("rec_loss", "nll_loss", "total_loss", "aeloss", "p_loss")
SHAPE_RULES = ("non-finite", "loss-now", "divergence", "rec-trend", "total-trend")


def _related(finding: Finding) -> dict:
    return {"rule": finding.rule, "severity": finding.severity, "metric": finding.metric, "step": finding.step,
            "message": finding.message}


def _rank(finding: Finding) -> tuple:
    chain = CHAIN.index(finding.metric) if finding.metric in CHAIN else len(CHAIN)
    return (-RANK[finding.severity], SHAPE_RULES.index(finding.rule), chain, finding.step or 0)


def _groupable(finding: Finding) -> bool:
    if finding.skipped or finding.severity not in ("warning", "error") or finding.rule not in SHAPE_RULES:
        return False
    return finding.rule == "non-finite" or finding.metric in CHAIN


def group_by_cause(findings: list[Finding], last_step: int, tolerance: float = 0.05) -> list[Finding]:
    """Findings that share a cause (NaNs appearing together; one loss of the reconstruction chain going bad,
    seen in rec, nll and total at about the same step) merged into the most telling one, the rest in
    ``related``. The order of the list is kept."""
    candidates = sorted((f for f in findings if _groupable(f)), key=lambda f: f.step or 0)
    window = max(1, int(tolerance * max(last_step, 1)))
    groups: list[list[Finding]] = []
    for finding in candidates:
        group = groups[-1] if groups else None
        same_kind = group is not None and (finding.rule == "non-finite") == (group[0].rule == "non-finite")
        if group and same_kind and (finding.step or 0) - (group[0].step or 0) <= window:
            group.append(finding)
        else:
            groups.append([finding])
    headline: dict[int, Finding] = {}
    dropped: set[int] = set()
    for group in groups:
        if len(group) < 2:
            continue
        head = min(group, key=_rank)
        others = [f for f in group if f is not head]
        headline[id(head)] = replace(head, related=tuple(_related(f) for f in others))
        dropped.update(id(f) for f in others)
    return [headline.get(id(f), f) for f in findings if id(f) not in dropped]
