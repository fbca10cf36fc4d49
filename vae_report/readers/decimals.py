"""Numbers written with a comma (``loss: 0,09124``, ``kl: 3,898``, ``total 2,674.1``): a locale's decimal comma or a
thousands separator. A regular expression for ``\\d+\\.\\d*`` reads both as the digits before the comma, silently;
this decides once per file which it is and rewrites the values so the readers see ``0.09124`` / ``3898`` /
``2674.1``."""

from __future__ import annotations

import re

from ..numbers import counted

# a value with a comma between digits after ``key:`` / ``key=`` or a space: ``loss: 0,09124``, ``lr=1,5e-3``,
# ``kl = 3,898``, ``n: 1,234,567``, ``total 2,674.1`` (grouped thousands and a decimal point: a format's ``{:,.1f}``).
# Found from the separator (a scan from every key would cost seconds on a large log); the key before it is checked
# apart, so a timestamp's ``00:00:00,000`` is no value. After a space (``sep`` blank) a comma value is only ever read
# as grouped thousands: ``shape 3,64`` may be a list, and decides nothing about the file's decimal mark
_VALUE = re.compile(r"(?:(?P<sep>[:=])[ \t]*|[ \t]+)(?P<num>[-+]?\d+(?:,\d+)+)(?P<frac>\.\d+)?(?P<exp>[eE][-+]?\d+)?"
                    r"(?![\d.,])")
_DOT_VALUE = re.compile(r"(?<![\w./-])[A-Za-z_][\w./-]*\s*[:=]\s*[-+]?\d+\.\d+")
# a counter's ``12,000`` is a thousands separator whatever the file's decimal mark (the step readers know it)
_COUNTERS = {"step", "global_step", "iter", "iters", "iteration", "it", "epoch", "batch", "samples", "images"}


def thousands(num: str) -> bool:
    """Could be a thousands separator: 1-3 digits, then groups of exactly 3 (``3,898``, ``12,000``)."""
    head, *groups = num.lstrip("+-").split(",")
    return 1 <= len(head) <= 3 and not (head == "0") and all(len(g) == 3 for g in groups)


def comma_numbers(text: str) -> tuple[str, str | None]:
    """(the text with its comma numbers rewritten, a note saying how they were read, or None when there are none).

    A value after ``:`` or ``=`` that cannot be a thousands separator (``0,0912``, ``1,5e-3``, ``12,5``) in a file
    whose values have no decimal point makes the file decimal-comma: every such comma value is a decimal then.
    Otherwise a comma value is read as thousands only when it groups 3 digits (``3,898`` -> 3898, ``2,674.1`` ->
    2674.1) and said so; any other after ``:`` or ``=`` is left out (the readers skip it) and named."""
    found = [(m, key) for m in _VALUE.finditer(text) if (key := _key(text, m.start())) and key not in _COUNTERS]
    if not found:
        return text, None
    decimal = [m for m, _ in found if m["sep"] and not m["frac"]
               and (m["exp"] or m["num"].count(",") == 1 and not thousands(m["num"]))]
    dotted = _DOT_VALUE.search(text) is not None or any(m["frac"] for m, _ in found)
    if decimal and not dotted:
        example = decimal[0]["num"] + (decimal[0]["exp"] or "")
        return _rewritten(text, lambda m: m["num"].replace(",", ".") if m["sep"] and m["num"].count(",") == 1
                          and not m["frac"] else None), (
            f"numbers use a decimal comma (e.g. {example!r}): read as decimals ({example.replace(',', '.')})")
    kept = [m for m, _ in found if thousands(m["num"])]
    notes = []
    if kept:
        example = kept[0]["num"] + (kept[0]["frac"] or "")
        notes.append(f"{counted(len(kept), 'value')} with a comma grouping 3 digits (e.g. {example!r}) read as "
                     f"thousands ({example.replace(',', '')}); no value here has a decimal comma")
    bad = [(m, key) for m, key in found if m["sep"] and not thousands(m["num"])]
    if bad:
        (m, key), *_ = bad
        notes.append(f"{counted(len(bad), 'value')} with a comma that is neither a decimal comma used "
                     f"throughout nor a thousands separator (e.g. {key}: {m['num']}) left out")
    return _rewritten(text, lambda m: m["num"].replace(",", "") + (m["frac"] or "") if thousands(m["num"])
                      else "" if m["sep"] else None), "; ".join(notes) or None


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
    """The comma values rewritten by ``convert(match)``: the new digits, "" to leave the value out (its key
    kept), None to leave it as written."""
    def one(match: re.Match) -> str:
        key = _key(match.string, match.start())
        new = convert(match) if key and key not in _COUNTERS else None
        if new is None:
            return match[0]
        head = match[0][: match.start("num") - match.start()]
        return head + new + (match["exp"] or "" if new else "")
    return _VALUE.sub(one, text)


# Digit grouping other than a comma, each known by a value only that style writes: an apostrophe between digits
# (Swiss, ``8'473.97``), a space or a no-break space before groups of three with a decimal part (French, ISO:
# ``8 504.6``, ``8 504,6``), dots before groups of three with a decimal comma (German: ``8.472,65``). Without such a
# value a ``50.100`` or ``3 100`` is not read as grouped: it may be a decimal, or two numbers.
_GROUP_EVIDENCE = (
    ("'", re.compile(r"(?<![\w'])\d{1,3}(?:'\d{3})+(?:[.,]\d+)?(?![\d']|[.,]\d)")),
    (" ", re.compile(r"(?<![\w.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+[.,]\d+(?![\d]|[.,]\d)")),
    (".", re.compile(r"(?<![\w.,])\d{1,3}(?:\.\d{3})+,\d+(?![\d]|[.,]\d)")),
)
_GROUP_CHARS = {"'": "'", " ": " \u00a0\u202f", ".": "."}


def grouped_numbers(text: str) -> tuple[str, str | None]:
    """(the text with its grouped numbers written plainly, a note saying how they were read, or None). The style
    is the one the file's values show unambiguously (the most of them); then every value after a key (``key:``,
    ``key=`` or ``key `` ), the step counters too, is read in it: groups joined, a decimal comma read as a point
    (``8.472,65`` -> 8472.65, ``0,12928`` -> 0.12928 in a file grouped with dots; ``8 504.6`` -> 8504.6)."""
    counts = [(len(pattern.findall(text)), mark, pattern) for mark, pattern in _GROUP_EVIDENCE]
    found, mark, pattern = max(counts, key=lambda c: c[0])
    if not found:
        return text, None
    example = pattern.search(text).group(0)
    groups = re.escape(_GROUP_CHARS[mark])
    decimal = "," if mark == "." else "[.,]"
    value = re.compile(rf"(?P<head>(?:[:=][ \t]*|[ \t]+)[-+]?)(?P<num>\d{{1,3}}(?:[{groups}]\d{{3}})+(?:{decimal}\d+)?"
                       rf"|\d+{decimal}\d+)(?P<exp>[eE][-+]?\d+)?(?![\d']|[.,]\d)")

    def plain(match: re.Match) -> str:
        if _key(match.string, match.start()) is None:  # a timestamp's ``10:32:51,760``, a bare number
            return match[0]
        num = re.sub(f"[{groups}]", "", match["num"]).replace(",", ".")
        return match["head"] + num + (match["exp"] or "")

    # a counter's total after its slash (``Schritt 0/150.000``) is grouped in the file's style too
    total = re.compile(rf"(?<=\d/)\d{{1,3}}(?:[{groups}]\d{{3}})+(?![\d']|[.,]\d)")
    text = total.sub(lambda m: re.sub(f"[{groups}]", "", m[0]), text)
    style = {"'": "an apostrophe", " ": "a space", ".": "a dot"}[mark]
    plain_example = re.sub(f"[{groups}]", "", example).replace(",", ".")
    return value.sub(plain, text), (f"numbers grouped by {style} (e.g. {example!r}) read as {plain_example}"
                                    + ("; their decimal comma as a point" if mark == "." or "," in example else ""))
