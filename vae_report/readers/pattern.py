"""The user's ``--text-pattern``, run with a time bound: a regular expression that backtracks catastrophically
on some line (``(a+)+$`` against a long run of ``a``) is refused with exit 2 instead of hanging the analysis.
The ``regex`` package stops a match after a timeout; the budget is for the whole log, not per line."""

from __future__ import annotations

import time

import pandas as pd
import regex

from ..errors import InputError

BUDGET_SECONDS = 5.0


class UserPattern:
    """A compiled ``--text-pattern`` with ``search`` and ``extract`` (as pandas' ``str.extract``: one column per
    group) that share one time budget."""

    def __init__(self, text: str, budget: float = BUDGET_SECONDS):
        try:
            self.compiled = regex.compile(text, flags=regex.VERSION0)
        except (regex.error, ValueError) as exc:
            raise InputError(f"--text-pattern: not a regular expression ({exc})") from None
        self.text, self.budget, self.deadline = text, budget, None
        self.groupindex = self.compiled.groupindex

    def search(self, line: str):
        if self.deadline is None:
            self.deadline = time.monotonic() + self.budget
        try:
            return self.compiled.search(line, timeout=max(self.deadline - time.monotonic(), 1e-3))
        except TimeoutError:
            raise InputError(f"--text-pattern {self.text[:60]!r}: matching took over {self.budget:g} s on this log "
                             "(a pattern that backtracks, such as nested repeats (a+)+); write it without nested "
                             "repeats, or anchor it") from None

    def extract(self, lines: pd.Series) -> pd.DataFrame:
        """One row per line, one column per group (named groups by name, others by number), NaN without a
        match."""
        names = {index: name for name, index in self.groupindex.items()}
        columns = [names.get(i, i - 1) for i in range(1, self.compiled.groups + 1)]
        rows = []
        for line in lines:
            match = self.search(line) if isinstance(line, str) else None
            rows.append(match.groups() if match else (None,) * len(columns))
        return pd.DataFrame(rows, columns=columns, index=lines.index, dtype=object)
