"""Text from a log, a folder name, a config or a baseline made inert before it is shown: no control or escape
character reaches a terminal or a report (ANSI colours, carriage returns, NUL, bidi overrides), and in Markdown
no character builds a link, an image, raw HTML, emphasis, a code span, a table column or a heading."""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup

# ANSI escape sequences (CSI ... final byte, OSC ... BEL/ST) as a whole, then any other control or format
# character (Unicode Cc and Cf: C0/C1 controls, DEL, bidi overrides and isolates, zero-width characters)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
_SPACES = re.compile(r"[\t\n\r\v\f\x85\u2028\u2029]")


def plain(text: object) -> str:
    """One line of printable text: escape sequences removed, line breaks and tabs as spaces."""
    line = _SPACES.sub(" ", _ANSI.sub("", str(text)))
    if line.isprintable():
        return line
    return "".join(c for c in line if c.isprintable() or unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs"))


# always escaped; ``<``/``>`` as entities so no tag nor autolink forms; ``&`` only where it would start an entity
_MARKDOWN = re.compile(r"[\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#|[A-Za-z][A-Za-z0-9]*;)|[<>]")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# what would make a block at the start of a line: a heading, a list item, a quote
_LEADING = re.compile(r"^(\s*)(#|[-+](?=\s|$|-)|\d+(?=[.)](?:\s|$)))")


def markdown(text: object) -> Markup:
    """``text`` as literal Markdown: it renders as itself, inert, on one line (safe to put in a table cell)."""
    line = _MARKDOWN.sub(lambda m: _ENTITIES.get(m.group(), "\\" + m.group()), plain(text).strip())
    line = _LEADING.sub(lambda m: m.group(1) + ("\\" + m.group(2) if not m.group(2)[0].isdigit()
                                                else m.group(2) + "\\"), line, count=1)
    return Markup(line)
