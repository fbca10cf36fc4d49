"""CSV-like logs whose fields are not separated by commas: ``;`` (a spreadsheet in a European locale, whose
numbers then use a decimal comma: ``0,0912``), tabs (``.tsv``, or a ``.csv`` saved as tab-separated) or ``|``.

The delimiter is found from the header line, whose cells are names: a candidate it holds is the delimiter, and
where it holds several, ``csv.Sniffer`` picks the one its first lines split consistently. In a file delimited
otherwise, a comma between digits is a decimal comma when no number in the file has a decimal point; beside
numbers with a point, a comma grouping 3 digits is a thousands separator (decimals.py) and any other is left out.
"""

from __future__ import annotations

import csv
import re

from ..numbers import counted
from .decimals import thousands

CANDIDATES = ",;\t|"
NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
SAMPLE_LINES = 20


def delimiter_of(text: str) -> str:
    """The field delimiter of a CSV-like text (a comma when its header holds no candidate: one column)."""
    start = 1 if text.startswith("\ufeff") else 0
    end = start
    for _ in range(SAMPLE_LINES):  # the first lines only: no copy of a large file's rest
        end = text.find("\n", end) + 1
        if end == 0:
            end = len(text)
            break
    lines = text[start:end].split("\n")
    header = lines[0].rstrip("\r")
    found = [d for d in CANDIDATES if d in header]
    if len(found) <= 1:
        return found[0] if found else ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="".join(found)).delimiter
    except csv.Error:  # no consistent split: the candidate splitting the header into most names
        return max(found, key=header.count)


# a number with a comma between digits, as a whole cell (between delimiters, quotes or line ends)
_EDGE_BEFORE = r'(?:^|(?<=[;\t|" ]))'
_EDGE_AFTER = r'(?=[;\t|" \r\n]|$)'
_COMMA_CELL = re.compile(_EDGE_BEFORE + r"(?P<num>[-+]?\d+(?:,\d+)+)(?P<exp>[eE][-+]?\d+)?" + _EDGE_AFTER, re.M)
_DOT_CELL = re.compile(_EDGE_BEFORE + r"[-+]?\d*\.\d+(?:[eE][-+]?\d+)?" + _EDGE_AFTER, re.M)


def comma_cells(text: str, delimiter: str) -> tuple[str, str | None]:
    """(the text with the comma numbers of a file not delimited by commas rewritten for the parser, a note saying
    how they were read, or None when there are none)."""
    if delimiter == "," or "," not in text:
        return text, None
    cut = text.find("\n") + 1  # the header's names are left as written
    head, body = text[:cut], text[cut:]
    found = list(_COMMA_CELL.finditer(body))
    if not found:
        return text, None
    example = found[0]["num"] + (found[0]["exp"] or "")
    if _DOT_CELL.search(body) is None:
        rewritten = _COMMA_CELL.sub(lambda m: m[0].replace(",", ".") if m["num"].count(",") == 1 else m[0], body)
        return head + rewritten, (f"{NAMES[delimiter]}-separated with a decimal comma (e.g. {example!r}): read as "
                                  f"decimals ({example.replace(',', '.')})")
    grouped = [m for m in found if thousands(m["num"]) and not m["exp"]]
    rewritten = _COMMA_CELL.sub(lambda m: m[0].replace(",", "") if thousands(m["num"]) and not m["exp"] else m[0],
                                body)
    notes = []
    if grouped:
        notes.append(f"{counted(len(grouped), 'value')} with a comma grouping 3 digits (e.g. {grouped[0]['num']!r}) "
                     "read as thousands, as its other numbers use a decimal point")
    if len(grouped) < len(found):
        notes.append(f"{counted(len(found) - len(grouped), 'value')} with a comma beside numbers with a decimal "
                     "point left out")
    return head + rewritten, "; ".join(notes)
