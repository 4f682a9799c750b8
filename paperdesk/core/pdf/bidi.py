"""Right-to-left text as a reader types it: pdfium gives it in the order the glyphs are drawn.

A PDF draws Arabic or Hebrew glyphs left to right (visual order), and pdfium reads them back in
that order: "حبيبي" comes out as "يبيبح". Searching (the index, find in the PDF) needs the logical
order a person types. Each run of right-to-left letters on a line (with the spaces between them)
is reversed in place: the text keeps its length, so every offset into it still names a character
pdfium knows, mirrored within its run (`visual_span`). Digits and Latin words inside a run are
drawn left to right and stay out of the runs.
"""

from __future__ import annotations

import re

_RTL = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc"  # Hebrew, Arabic, Syriac, Thaana, NKo, presentation forms
_RUN = re.compile(f"[{_RTL}](?:[{_RTL} ]*[{_RTL}])?")


def has_rtl(text: str) -> bool:
    return _RUN.search(text) is not None


def logical(text: str) -> str:
    """`text` with each right-to-left run reversed (the same length)."""
    if not has_rtl(text):
        return text
    return _RUN.sub(lambda m: m.group(0)[::-1], text)


def visual_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of visual-order `text` holding the characters of logical span [start, end)."""
    if end <= start or not has_rtl(text):
        return start, end
    ends = [_mirror(text, start), _mirror(text, end - 1)]
    return min(ends), max(ends) + 1


def _mirror(text: str, pos: int) -> int:
    for run in _RUN.finditer(text):
        if run.start() <= pos < run.end():
            return run.start() + run.end() - 1 - pos
        if run.start() > pos:
            break
    return pos


MARKS = "[\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]"  # vowel marks


def word_pattern(word: str) -> str:
    """A regular expression for `word` in a page's text: a right-to-left word typed without its
    vowel marks (as people type) matches the page's word with them."""
    if not has_rtl(word):
        return re.escape(word)
    letters = re.sub(MARKS, "", word)
    return f"{MARKS}*".join(map(re.escape, letters))
