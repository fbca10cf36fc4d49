"""Text from a log, a folder name, a config or a baseline made inert before it is shown: no control or escape
character reaches a terminal or a report (ANSI colours, carriage returns, NUL, bidi overrides), and in Markdown
no character builds a link, an image, raw HTML, emphasis, a code span, a table column or a heading."""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

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


# escaped with a backslash (CommonMark's escape for any ASCII punctuation), never as an HTML entity, so the
# Markdown file reads as the text ("real logit >= 1", not "&gt;= 1"): ``<`` only where it would open a tag or an
# autolink (a letter, ``/``, ``!`` or ``?`` after it), ``&`` only where it would start an entity; ``>`` acts only
# at the start of a line (a quote: _LEADING)
_MARKDOWN = re.compile(r"[\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#|[A-Za-z][A-Za-z0-9]*;)"
                       r"|<(?=[A-Za-z/!?])")
# what would make a block at the start of a line: a heading, a list item, a quote
_LEADING = re.compile(r"^(\s*)(#|>|[-+](?=\s|$|-)|\d+(?=[.)](?:\s|$)))")


def markdown(text: object) -> Markup:
    """``text`` as literal Markdown: it renders as itself, inert, on one line (safe to put in a table cell)."""
    line = _MARKDOWN.sub(lambda m: "\\" + m.group(), plain(text).strip())
    line = _LEADING.sub(lambda m: m.group(1) + ("\\" + m.group(2) if not m.group(2)[0].isdigit()
                                                else m.group(2) + "\\"), line, count=1)
    return Markup(line)


# ---- a view's Text (view.Span tuples) in each format: our markup around text that is always escaped ----------

ICONS = {"ok": "✅", "info": "ℹ️", "warning": "⚠️", "error": "❌"}


def _inline(text: object) -> str:
    """Escaped for the middle of a Markdown line: like ``markdown`` but keeping the spaces at the ends."""
    return _MARKDOWN.sub(lambda m: "\\" + m.group(), plain(text))


def _code(text: object) -> str:
    """A code span whatever the text holds: a fence longer than any run of backticks in it; ``|`` escaped, as a
    table cell needs even inside code (GitHub's tables)."""
    line = plain(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}"


def _wrapped(mark: str, text: object) -> str:
    """``**bold**``: the marks hug the text (CommonMark needs no space inside them); outer spaces stay outside."""
    raw = plain(text)
    inner = raw.strip()
    if not inner:
        return _inline(raw)
    lead, trail = raw[: len(raw) - len(raw.lstrip())], raw[len(raw.rstrip()):]
    return f"{lead}{mark}{_inline(inner)}{mark}{trail}"


def markdown_spans(spans) -> Markup:
    """A view's Text as one inert Markdown line: only our own marks (bold, code, links, severity icons) act."""
    out = []
    for span in spans:
        if span.style == "bold":
            out.append(_wrapped("**", span.text))
        elif span.style == "emph":
            out.append(_wrapped("*", span.text))
        elif span.style == "code":
            out.append(_code(span.text))
        elif span.style == "link":
            out.append(f"[{_inline(span.text).strip()}]({span.href})")
        elif span.style == "sev":
            out.append(f"{ICONS.get(span.text, '')} {_inline(span.text)}")
        else:
            out.append(_inline(span.text))
    line = "".join(out).strip()
    if spans and spans[0].style == "plain":  # what would start a block (a heading, a list) is escaped
        line = _LEADING.sub(lambda m: m.group(1) + ("\\" + m.group(2) if not m.group(2)[0].isdigit()
                                                    else m.group(2) + "\\"), line, count=1)
    return Markup(line)


def html_spans(spans) -> Markup:
    """A view's Text as HTML: every text escaped, our tags around it."""
    out = []
    for span in spans:
        body = escape(plain(span.text))
        if span.style == "bold":
            out.append(Markup("<b>%s</b>") % body)
        elif span.style == "emph":
            out.append(Markup("<em>%s</em>") % body)
        elif span.style == "code":
            out.append(Markup("<code>%s</code>") % body)
        elif span.style == "link":
            out.append(Markup('<a href="%s">%s</a>') % (span.href, body))
        elif span.style == "sev":
            out.append(Markup('<span class="sev %s">%s</span>') % (span.text, body))
        else:
            out.append(body)
    return Markup("").join(out)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")


def first_sentence(said: str) -> str:
    """The first sentence of a finding's message (up to a full stop followed by a capital), the one that holds
    its case and numbers."""
    return _SENTENCE_END.split(said.strip(), 1)[0]
