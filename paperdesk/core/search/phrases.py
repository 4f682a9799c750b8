"""Phrases in a field indexed without word positions (abstracts), checked against the text.

Positions would double the cost of reading an abstract's postings for every word query and add
a sixth to the index build; phrases are rarer. A phrase's candidates (papers having all its words)
come from the index; each is confirmed here with one regex scan of its text, reading it the way
the index's analyzer does: lowercase `\\w+` tokens, stop words and one-letter tokens dropped (so
they may sit between the phrase's words), Porter stems compared.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache


@lru_cache(maxsize=20000)
def _stem(word: str) -> str:
    from whoosh.lang.porter import stem

    return stem(word)


def _start(stem: str) -> str:
    # Porter changes at most the last two letters of a word's start (happy -> happi).
    return stem[:max(3, len(stem) - 2)]


@lru_cache(maxsize=64)
def phrase_pattern(stems: tuple[str, ...]) -> re.Pattern[str]:
    """Runs of words starting like `stems`, with only dropped tokens between. It begins with a
    literal, so the regex engine skips quickly to candidates; word boundaries are checked by hand."""
    from whoosh.analysis import STOP_WORDS

    dropped = "|".join(sorted(map(re.escape, STOP_WORDS), key=len, reverse=True))
    gap = rf"(?:\W+(?:{dropped}|\w)(?!\w))*\W+"
    return re.compile(gap.join(rf"({re.escape(_start(s))}\w*)" for s in stems))


_SEP = "\x00"  # between texts scanned together: not a word character, so runs may cross it


def texts_with_phrase(texts: Sequence[str], stems: tuple[str, ...]) -> list[int]:
    """Which of `texts` have the stemmed words `stems` one after the other (as the analyzer reads
    them). All texts are scanned as one string: one regex scan instead of one per text, which
    was most of a phrase query's time. A run crossing from one text into the next is no match."""
    from whoosh.analysis import STOP_WORDS

    lows = [text.lower() for text in texts]
    ends: list[int] = []  # where each text ends in `blob`
    end = -len(_SEP)
    for low in lows:
        end += len(_SEP) + len(low)
        ends.append(end)
    blob = _SEP.join(lows)
    pattern = phrase_pattern(stems)
    found: list[int] = []
    pos = 0
    while (m := pattern.search(blob, pos)) is not None:
        start = m.start()
        index = bisect_left(ends, start)
        # A stop word can stem like a phrase word ("on offer" is not "one offering"): the analyzer
        # drops it, so it never counts.
        if m.end() <= ends[index] and \
                not (start and (blob[start - 1].isalnum() or blob[start - 1] == "_")) and \
                all(len(word) > 1 and word not in STOP_WORDS and _stem(word) == stem
                    for word, stem in zip(m.groups(), stems, strict=True)):
            found.append(index)
            pos = ends[index] + 1  # on to the next text
        else:
            pos = start + 1  # runs may overlap
    return found


def contains_phrase(text: str, stems: tuple[str, ...]) -> bool:
    """Whether `text` has the stemmed words `stems` one after the other."""
    return bool(texts_with_phrase([text], stems))
