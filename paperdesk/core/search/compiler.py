"""Turn a parsed query into a Whoosh query, with prefixes kept cheap at 100k papers.

A naive Whoosh prefix over titles and abstracts expands a 2-3 letter prefix into ~100 terms
(seconds at 100k). Instead the word being typed becomes: one term of the `title_ng` field
(edge n-grams of title words), the whole word as typed (stemmed), and, from 3 letters on, only
the few most frequent completions in abstracts and notes.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable
from typing import Any

from paperdesk.core.search import querylang as ql
from paperdesk.core.search.decisions import DECISIONS

# Fields a bare word searches, with their weight.
# A PDF's text weighs less than the abstract: a word on page 40 says less about the paper.
DEFAULT_FIELDS = (("title", 3.0), ("abstract", 1.0), ("note", 1.5), ("tags", 2.0), ("author", 1.5),
                  ("org", 1.0), ("fulltext", 0.3))
PHRASE_FIELDS = (("title", 3.0), ("abstract", 1.0), ("note", 1.5), ("author", 1.5), ("org", 1.0))
NGRAM_MAX = 10
COMPLETIONS = 5        # most frequent completions of a typed prefix, per field
COMMON_DIVISOR = 50     # ... among terms in at most 1/50 of the papers
COMPLETION_SCAN = 3000  # lexicon entries looked at, at most, to find them
RANGE_LIMITS = {"upvotes": (-(2**31) + 1, 2**31 - 1), "published": (0, 99991231)}
_WORDS = re.compile(r"[^\W_]+")


class Compiler:
    """`decided` turns a triage decision (`is:starred`...) into a query: they are not indexed
    (decisions.py); without it, a query using one is refused with a ValueError."""

    def __init__(self, searcher: Any, decided: Callable[[str], Any] | None = None):
        from whoosh import query

        self.q = query
        self.decided = decided
        self.searcher = searcher
        self.reader = searcher.reader()
        self.schema = searcher.schema

    def compile(self, node: ql.Node | None) -> Any:
        q = self.q
        if node is None:
            return None
        if isinstance(node, ql.Word):
            return self.word(node)
        if isinstance(node, ql.Phrase):
            return self.phrase(node)
        if isinstance(node, ql.Flag):
            if node.name not in DECISIONS:
                return q.Term("flags", node.name)
            if self.decided is None:
                raise ValueError(f"is:{node.name} needs the library's decisions")
            return self.decided(node.name)
        if isinstance(node, ql.Range):
            # Open ends are given explicitly: Whoosh 2.7 ignores an open start's upper bound.
            low, high = RANGE_LIMITS[node.field]
            return q.NumericRange(node.field, max(low, node.low if node.low is not None else low),
                                  min(high, node.high if node.high is not None else high))
        if isinstance(node, ql.Not):
            child = self.compile(node.child)
            return q.Not(child) if child is not None else None
        nodes = _intersect_ranges(node.children) if isinstance(node, ql.And) else node.children
        children = [c for c in (self.compile(n) for n in nodes) if c is not None]
        if not children:
            return None
        if isinstance(node, ql.Or):
            children = [self.standalone(c) for c in children]
            return children[0] if len(children) == 1 else q.Or(children)
        # Negations become one AndNot: Whoosh's And mishandles a Not beside some matchers.
        positive = [c for c in children if not isinstance(c, q.Not)]
        negative = [c.query for c in children if isinstance(c, q.Not)]
        base = q.Every() if not positive else positive[0] if len(positive) == 1 else q.And(positive)
        if not negative:
            return base
        return q.AndNot(base, negative[0] if len(negative) == 1 else q.Or(negative))

    def compile_root(self, node: ql.Node | None) -> Any:
        compiled = self.compile(node)
        return None if compiled is None else self.standalone(compiled)

    def standalone(self, compiled: Any) -> Any:
        """A Not means "everything but" when it is not inside an And."""
        if isinstance(compiled, self.q.Not):
            return self.q.AndNot(self.q.Every(), compiled.query)
        return compiled

    # -- pieces ---------------------------------------------------------------------------------
    def analyze(self, fieldname: str, text: str) -> list[str]:
        return list(self.schema[fieldname].process_text(text, mode="query"))

    def _terms(self, fieldname: str, text: str, boost: float = 1.0) -> Any:
        """The words of `text` in one field: a term, or a phrase when it splits into several."""
        q = self.q
        if fieldname == "tags":
            return q.Term("tags", text.strip().lower(), boost=boost)
        if fieldname == "categories":  # cs.CL as one keyword; cs.* and c*.LG as patterns
            text = text.strip().lower()
            pattern = "*" in text or "?" in text
            return q.Wildcard("categories", text) if pattern else q.Term("categories", text)
        if fieldname == "id":
            return q.Or([q.Term("id", text.strip()), q.Term("arxiv", text.strip())])
        words = self.analyze(fieldname, text)
        if not words:
            return None
        if len(words) == 1:
            return q.Term(fieldname, words[0], boost=boost)
        return q.Phrase(fieldname, words, boost=boost)

    def word(self, node: ql.Word) -> Any:
        q = self.q
        if node.prefix:
            return self.prefix(node)
        if node.field:
            return self._terms(node.field, node.text)
        if not self.analyze("abstract", node.text) and not _looks_like_id(node.text):
            # A stop word (or one letter): the text fields never index it, so neither may the query;
            # as a term of the other fields it would only make "models for" match nothing.
            return None
        parts = [p for f, boost in DEFAULT_FIELDS if (p := self._terms(f, node.text, boost)) is not None]
        if _looks_like_id(node.text):
            parts.append(self._terms("id", node.text))
        if not parts:
            return None  # a stop word only
        return parts[0] if len(parts) == 1 else q.Or(parts)

    def phrase(self, node: ql.Phrase) -> Any:
        q = self.q
        fields = [(node.field, 1.0)] if node.field else PHRASE_FIELDS
        parts = [p for f, boost in fields if (p := self._terms(f, node.text, boost)) is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else q.Or(parts)

    def prefix(self, node: ql.Word) -> Any:
        """A word still being typed: its finished words exactly, the last one as a prefix."""
        q = self.q
        if node.field == "categories":  # cat:cs. (typed or cs.*): every category starting so
            return q.Prefix("categories", node.text.strip().lower().rstrip("*"))
        words = _WORDS.findall(node.text.lower())
        if not words:
            return None
        exact = [self.word(ql.Word(w, node.field)) for w in words[:-1]]
        last = words[-1]
        fieldname = node.field
        options: list[Any] = []
        whole = self.word(ql.Word(last, fieldname))
        if whole is not None:
            options.append(whole)
        if fieldname in (None, "title"):
            options.append(q.Term("title_ng", last[:NGRAM_MAX], boost=3.0))
        if fieldname in (None, "tags"):
            options.append(q.Prefix("tags", last))
        if fieldname == "id":
            options += [q.Prefix("id", last), q.Prefix("arxiv", last)]
        expand = ("abstract", "note") if fieldname is None else \
            (fieldname,) if fieldname in ("abstract", "note", "author", "org", "source") else ()
        if len(last) >= 3 or fieldname is not None:
            for f in expand:
                options += [q.Term(f, t) for t in self.completions(f, last)]
        exact = [e for e in exact if e is not None]
        if not options:
            return q.And(exact) if exact else None
        last_q = options[0] if len(options) == 1 else q.Or(options)
        return q.And([*exact, last_q]) if exact else last_q

    def completions(self, fieldname: str, prefix: str) -> list[str]:
        """The most frequent indexed terms of a field that start with `prefix`."""
        found: list[tuple[int, str]] = []
        # Very common words have huge posting lists (they cost 100s of ms at 10k+ papers) and
        # usually appear in titles too, which `title_ng` already answers: leave them out.
        ceiling = max(50, self.reader.doc_count_all() // COMMON_DIVISOR)
        try:
            items = self.reader.iter_prefix(fieldname, prefix)
            for n, (term, info) in enumerate(items):
                if n >= COMPLETION_SCAN:
                    break
                df = info.doc_frequency()
                if df <= ceiling:
                    found.append((df, term))
        except KeyError:
            return []
        best = heapq.nlargest(COMPLETIONS, found)
        return [t.decode("utf-8") if isinstance(t, bytes) else t for _, t in best]


def _intersect_ranges(nodes: list[ql.Node]) -> list[ql.Node]:
    """Ranges on one field in an And become one range (Whoosh 2.7 merges them as a union)."""
    merged: dict[str, ql.Range] = {}
    rest: list[ql.Node] = []
    for n in nodes:
        if isinstance(n, ql.Range) and n.field in merged:
            m = merged[n.field]
            lows = [v for v in (m.low, n.low) if v is not None]
            highs = [v for v in (m.high, n.high) if v is not None]
            m.low, m.high = (max(lows) if lows else None), (min(highs) if highs else None)
        elif isinstance(n, ql.Range):
            merged[n.field] = ql.Range(n.field, n.low, n.high)
            rest.append(merged[n.field])
        else:
            rest.append(n)
    return rest


def _looks_like_id(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?|[0-9a-f]{12}", text.strip()))
