"""Whoosh's StemmingAnalyzer as one loop: the same tokens, a third of the Python calls.

Whoosh chains a tokenizer and three filters as generators, so every word of every abstract
passes through four Python frames (a third of an index build). This analyzer does the same steps
in one: `\\w+(\\.?\\w+)*` tokens, lowercased, stop words and one-letter tokens dropped (or
flagged when the caller keeps them) with positions renumbered, Porter stems (cached).
The index stores this class by name (pickled schema): keep its module path stable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import STOP_WORDS, Analyzer, Token
from whoosh.lang.porter import stem

_TOKEN = re.compile(r"\w+(\.?\w+)*", re.UNICODE)  # whoosh.analysis.tokenizers.default_pattern
# Arabic and Hebrew vowel marks are not word characters: "حَبيبي" would be the tokens "ح" and
# "بيبي". They are dropped (as a reader types the word without them) before tokenising.
_MARKS = re.compile("[\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]+")
_MINSIZE = 2
_CACHE_LIMIT = 100_000


class FastStemAnalyzer(Analyzer):
    def __init__(self) -> None:
        self._stems: dict[str, str] = {}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def has_morph(self) -> bool:
        return True  # it stems: Whoosh keeps a separate unstemmed spelling field (spell_title)

    def clean(self) -> None:
        self._stems.clear()

    def __getstate__(self) -> dict:
        return {}  # the cache is not part of the schema

    def __setstate__(self, state: dict) -> None:
        self._stems = {}

    def _stem(self, word: str) -> str:
        found = self._stems.get(word)
        if found is None:
            if len(self._stems) >= _CACHE_LIMIT:
                self._stems.clear()
            found = self._stems[word] = stem(word)
        return found

    def words(self, value: str) -> list[str]:
        """The texts of the tokens `__call__` yields with stop words removed (an index build
        needs only these: no Token objects)."""
        stems, stops, stem = self._stems, STOP_WORDS, self._stem
        found = []
        if _MARKS.search(value):
            value = _MARKS.sub("", value)
        for match in _TOKEN.finditer(value):
            text = match.group(0).lower()
            if len(text) >= _MINSIZE and text not in stops:
                found.append(stems.get(text) or stem(text))
        return found

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "", no_morph: bool = False,
                 **kwargs: Any) -> Iterator[Token]:
        """`no_morph`: no stemming (the words of the spelling field, as CompositeAnalyzer does)."""
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        stems, stops = self._stems, STOP_WORDS
        if _MARKS.search(value):  # (character offsets then count without the marks)
            value = _MARKS.sub("", value)
        if not tokenize:
            matches: Any = [_Whole(value)]
            t.original = value  # as RegexTokenizer does
        else:
            matches = _TOKEN.finditer(value)
        kept = None  # StopFilter(renumber=True): kept tokens count on from the first kept one
        for pos, match in enumerate(matches):
            text = match.group(0)
            if keeporiginal:
                t.original = text
            text = text.lower()
            t.boost = 1.0
            if chars:
                t.startchar = start_char + match.start()
                t.endchar = start_char + match.end()
            if len(text) < _MINSIZE or text in stops:
                if removestops:
                    continue
                t.text, t.stopped = text, True
                if positions:
                    t.pos = start_pos + pos
                yield t
                continue
            if positions:
                kept = start_pos + pos if kept is None else kept + 1
                t.pos = kept
            t.stopped = False
            t.text = text if no_morph else stems.get(text) or self._stem(text)
            yield t


class _Whole:
    """The whole value as one match (tokenize=False)."""

    def __init__(self, value: str):
        self.value = value

    def group(self, _: int) -> str:
        return self.value

    def start(self) -> int:
        return 0

    def end(self) -> int:
        return len(self.value)
