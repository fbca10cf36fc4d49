"""Numbers written with a comma (``loss: 0,09124``, ``kl: 3,898``): a locale's decimal comma or a thousands
separator. A regular expression for ``\\d+\\.\\d*`` reads both as the digits before the comma, silently; this
decides once per file which it is and rewrites the values so the readers see ``0.09124`` / ``3898``."""

from __future__ import annotations

import re

from ..numbers import counted

# a value with a comma between digits after ``key:`` / ``key=``: ``loss: 0,09124``, ``lr=1,5e-3``, ``kl = 3,898``,
# ``n: 1,234,567``. Found from the separator (a scan from every key would cost seconds on a large log); the key
# before it is checked apart, so a timestamp's ``00:00:00,000`` is no value
_VALUE = re.compile(r"[:=][ \t]*(?P<num>[-+]?\d+(?:,\d+)+)(?P<exp>[eE][-+]?\d+)?(?![\d.])")
_DOT_VALUE = re.compile(r"(?<![\w./-])[A-Za-z_][\w./-]*\s*[:=]\s*[-+]?\d+\.\d+")
# a counter's ``12,000`` is a thousands separator whatever the file's decimal mark (the step readers know it)
_COUNTERS = {"step", "global_step", "iter", "iters", "iteration", "it", "epoch", "batch", "samples", "images"}


def thousands(num: str) -> bool:
    """Could be a thousands separator: 1-3 digits, then groups of exactly 3 (``3,898``, ``12,000``)."""
    head, *groups = num.lstrip("+-").split(",")
    return 1 <= len(head) <= 3 and not (head == "0") and all(len(g) == 3 for g in groups)


def comma_numbers(text: str) -> tuple[str, str | None]:
    """(the text with its comma numbers rewritten, a note saying how they were read, or None when there are none).

    A value that cannot be a thousands separator (``0,0912``, ``1,5e-3``, ``12,5``) in a file whose values have no
    decimal point makes the file decimal-comma: every comma value is a decimal then. Otherwise a comma value is
    read as thousands only when it groups 3 digits (``3,898`` -> 3898) and said so; any other is left out
    (the readers skip it) and named."""
    found = [(m, key) for m in _VALUE.finditer(text) if (key := _key(text, m.start())) and key not in _COUNTERS]
    if not found:
        return text, None
    decimal = [m for m, _ in found if m["exp"] or m["num"].count(",") == 1 and not thousands(m["num"])]
    dotted = _DOT_VALUE.search(text) is not None
    if decimal and not dotted:
        example = decimal[0]["num"] + (decimal[0]["exp"] or "")
        return _rewritten(text, lambda num: num.replace(",", ".") if num.count(",") == 1 else None), (
            f"numbers use a decimal comma (e.g. {example!r}): read as decimals ({example.replace(',', '.')})")
    kept = [m for m, _ in found if thousands(m["num"])]
    notes = []
    if kept:
        notes.append(f"{counted(len(kept), 'value')} with a comma grouping 3 digits (e.g. {kept[0]['num']!r}) read as "
                     f"thousands ({kept[0]['num'].replace(',', '')}); no value here has a decimal comma")
    if len(kept) < len(found):
        bad, key = next((m, key) for m, key in found if not thousands(m["num"]))
        notes.append(f"{counted(len(found) - len(kept), 'value')} with a comma that is neither a decimal comma used "
                     f"throughout nor a thousands separator (e.g. {key}: {bad['num']}) left out")
    return _rewritten(text, lambda num: num.replace(",", "") if thousands(num) else ""), "; ".join(notes)


_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")


def _key(text: str, at: int) -> str | None:
    """The lower-cased key right before the separator at ``at`` (None: digits, a timestamp, no key); walked
    back by hand: a regular expression per candidate costs seconds on a log whose every line has a timestamp."""
    end = at
    while end > 0 and text[end - 1] in " \t":
        end -= 1
    start = end
    while start > 0 and end - start < 80 and text[start - 1] in _KEY_CHARS:
        start -= 1
    key = text[start:end]
    return key.lower() if key and (key[0].isascii() and key[0].isalpha() or key[0] == "_") else None


def _rewritten(text: str, convert) -> str:
    def one(match: re.Match) -> str:
        key = _key(match.string, match.start())
        new = convert(match["num"]) if key and key not in _COUNTERS else None
        if new is None:
            return match[0]
        head = match[0][: match.start("num") - match.start()]
        return head + new + (match["exp"] or "" if new else "")  # "": the value dropped, its key kept
    return _VALUE.sub(one, text)
