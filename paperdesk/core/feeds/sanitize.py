"""Feed text to plain text: feeds carry HTML, PaperDesk stores titles and abstracts as text.

Everything goes through nh3 with no tag allowed (scripts, styles and their content dropped,
comments dropped), then entities are decoded once. The result is text: whoever shows it must
show it as text (escape it before putting it in rich text).
"""

from __future__ import annotations

import html
import re

import nh3

from paperdesk.core.limits import printable

_WHITESPACE = re.compile(r"\s+")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/li|/h[1-6]|/tr)\s*>")
# Tags whose content is code or page furniture, never readable text.
_DROP_WITH_CONTENT = {"script", "style", "head", "title", "noscript", "template", "iframe", "object"}


def html_to_text(markup: str | None, *, single_line: bool = False) -> str:
    """Plain text of an HTML fragment: tags stripped, entities decoded, whitespace tidied."""
    if not markup:
        return ""
    # HTML source whitespace means nothing; only block ends and <br> break lines. Escape sequences
    # go first, whole: nh3 drops a raw ESC and would leave the visible rest ("[31m").
    markup = _BLOCK_END.sub("\n", _WHITESPACE.sub(" ", printable(markup)))
    cleaned = nh3.clean(markup, tags=set(), clean_content_tags=_DROP_WITH_CONTENT,
                        strip_comments=True)
    return tidy(html.unescape(cleaned), single_line=single_line)


def plain_to_text(text: str | None, *, single_line: bool = False) -> str:
    """Text that is already plain (type="text"): hard-wrapped lines joined, paragraphs kept.

    It goes through nh3 escaped, which must leave it unchanged: '<' stays a character.
    """
    if not text:
        return ""
    cleaned = html.unescape(nh3.clean(html.escape(printable(text), quote=False), tags=set()))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", cleaned)]
    return tidy("\n\n".join(p for p in paragraphs if p), single_line=single_line)


def tidy(text: str, *, single_line: bool = False) -> str:
    # A literal "&nbsp;" (escaped twice, or in type="text") is common in real feeds, never meant.
    text = printable(text).replace("&nbsp;", " ")  # also terminal escapes and C1 controls
    if single_line:
        return " ".join(text.split())
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def to_text(value: str | None, content_type: str | None, *, single_line: bool = False) -> str:
    """Text of a feedparser field given its detail type ('text/plain', 'text/html', ...)."""
    if content_type == "text/plain":
        return plain_to_text(value, single_line=single_line)
    return html_to_text(value, single_line=single_line)
