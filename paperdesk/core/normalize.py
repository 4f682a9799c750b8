"""Title normalisation, stable paper ids and arXiv id recognition."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)

# New-style (2508.12345, optional version) and old-style (cond-mat/0603029) arXiv ids.
_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
ARXIV_ID_RE = re.compile(rf"(?<![\w.])({_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?(?![\w])")


def normalize_title(title: str) -> str:
    """NFKC, casefold, punctuation and whitespace collapsed to single spaces."""
    text = unicodedata.normalize("NFKC", title).casefold()
    return _NON_WORD.sub(" ", text).strip()


def paper_id(title: str, arxiv_id: str | None) -> str:
    """The arXiv id, else a short stable id made from the title."""
    return arxiv_id or hashlib.sha1(normalize_title(title).encode("utf-8")).hexdigest()[:12]


def find_arxiv_id(text: str | None) -> str | None:
    """The arXiv id (without version) in a URL or identifier, if any."""
    if not text:
        return None
    match = ARXIV_ID_RE.search(text)
    return match.group(1) if match else None
