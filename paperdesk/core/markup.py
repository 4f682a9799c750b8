"""Markdown to sanitised HTML for the reader: no script, no event handlers, no remote loads.

Everything shown in the reader passes through `sanitize`, the one allow-list: tags and attributes
that only format text, and links to http(s), mailto and paperdesk:// (paper links). Images are
dropped because loading them would reach the network. A link must name its scheme: nh3 lets
relative links through, and `//host/x` (protocol-relative) or `\\\\host\\share` (a UNC path) are
relative links that reach other machines; only `#fragment` links stay relative.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"class", "title"},
    "mark": {"class", "title"},
    "div": {"class"},
    "p": {"class"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto", "paperdesk"}
_WIKI_LINK = re.compile(r"\[\[([^\[\]\n]{1,300})\]\]")
_ABSOLUTE_LINK = re.compile(r"(?:https?://[^/\\]|mailto:|paperdesk://)", re.I)


def _links_absolute(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: an href stays only if it is absolute (or a #fragment)."""
    if attribute != "href":
        return value
    link = value.strip()
    if link.startswith("#") or (_ABSOLUTE_LINK.match(link) and "\\" not in link):
        return value
    return None


def sanitize(fragment: str) -> str:
    """Reduce arbitrary HTML to the reader's safe allow-list."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "svg", "math",
                            "noscript", "template", "textarea", "select"},
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=_links_absolute,
    )


def render_markdown(text: str, resolve_link: Callable[[str], str | None] | None = None) -> str:
    """Markdown (with `[[paper]]` links) to sanitised HTML."""

    def link(match: re.Match[str]) -> str:
        target = match.group(1)
        paper = resolve_link(target) if resolve_link else None
        label = html.escape(target)
        if paper is None:
            return f'<span class="broken-link" title="no such paper">[[{label}]]</span>'
        return f'<a href="paperdesk://paper/{html.escape(paper, quote=True)}">{label}</a>'

    source = _WIKI_LINK.sub(link, text)
    rendered = markdown.markdown(source, extensions=["fenced_code", "tables", "sane_lists"],
                                 output_format="html")
    return sanitize(rendered)
