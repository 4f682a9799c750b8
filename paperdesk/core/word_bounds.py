"""Word boundaries in shown text, for highlights: a selection snaps to whole words, and caret mode
moves word by word. A word is a run of letters or digits, joined by inner hyphens, apostrophes or
dots ("state-of-the-art", "don't", "3.5"); punctuation around it is not part of it."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+(?:[-'’.]\w+)*")


def word_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each word of `text[start:end]`, in `text`'s offsets."""
    return [m.span() for m in _WORD.finditer(text, start, len(text) if end is None else end)]


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """The smallest span of whole words covering every word that [start, end) touches; the span
    itself when it touches no word (only spaces or punctuation)."""
    touched = [(s, e) for s, e in word_spans(text) if s < end and e > start]
    if not touched:
        return start, end
    return touched[0][0], touched[-1][1]
