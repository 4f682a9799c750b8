"""Moved: the reader HTML lives in the Qt-free `paperdesk.core.reader_html` (also `paperdesk show --html`).

Kept so existing imports (`snippet_text` in the paper model) keep working.
"""

from __future__ import annotations

from paperdesk.core.reader_html import authors_text, paper_html, provenance_text, short_date, snippet_text

__all__ = ["authors_text", "paper_html", "provenance_text", "short_date", "snippet_text"]
