"""The query language parser on its own: structure, filters, leniency (no index needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from paperdesk.core.search import querylang as ql

TODAY = dt.date(2026, 11, 23)


def parse(text: str, typing: bool = False) -> ql.ParsedQuery:
    return ql.parse(text, today=TODAY, typing=typing)


def test_words_are_anded_and_or_binds_looser():
    q = parse("a b OR c")
    assert isinstance(q.root, ql.Or)
    left, right = q.root.children
    assert isinstance(left, ql.And) and [w.text for w in left.children] == ["a", "b"]
    assert isinstance(right, ql.Word) and right.text == "c"
    assert q.problems == []


def test_groups_negation_phrases_and_fields():
    q = parse('(diffusion OR flow) -video title:"world model" author:hinton')
    assert isinstance(q.root, ql.And)
    group, neg, phrase, author = q.root.children
    assert isinstance(group, ql.Or)
    assert isinstance(neg, ql.Not) and neg.child.text == "video"
    assert isinstance(phrase, ql.Phrase) and (phrase.text, phrase.field) == ("world model", "title")
    assert isinstance(author, ql.Word) and author.field == "author"
    assert q.problems == []


def test_last_word_is_a_prefix_only_while_typing():
    assert parse("diffu", typing=True).root.prefix is True
    assert parse("diffu ", typing=True).root.prefix is False
    assert parse("diffu", typing=False).root.prefix is False
    assert parse("diffu*").root.prefix is True


@pytest.mark.parametrize(("text", "low", "high"), [
    ("upvotes:>50", 51, None),
    ("upvotes:>=50", 50, None),
    ("upvotes:<10", None, 9),
    ("upvotes:10..100", 10, 100),
    ("upvotes:7", 7, 7),
    ("date:2025-08", 20250801, 20250831),
    ("date:2024", 20240101, 20241231),
    ("date:>=2025-01-01", 20250101, None),
    ("date:>2025-08", 20250901, None),
    ("date:<2025-08", None, 20250731),
    ("date:>today-7d", 20261117, None),
    ("date:2025-01..2025-03", 20250101, 20250331),
])
def test_ranges(text, low, high):
    q = parse(text)
    assert q.problems == []
    assert isinstance(q.root, ql.Range) and (q.root.low, q.root.high) == (low, high)


def test_flags_and_sort():
    q = parse("is:starred has:note sort:upvotes")
    assert [f.name for f in q.root.children] == ["starred", "note"]
    assert q.sort == "upvotes"
    assert q.has_text is False


@pytest.mark.parametrize(("text", "message"), [
    ('"unbalanced phrase', "unbalanced quote"),
    ("(open group", "never closed"),
    ("closed) group", "extra )"),
    ("foo:bar", "unknown field foo:"),
    ("upvotes:>abc", "cannot read upvotes:>abc"),
    ("date:yesterday", "cannot read date:yesterday"),
    ("is:everything", "unknown filter is:everything"),
    ("sort:random", "unknown sort"),
    ("OR word", "OR needs a word"),
    ("word -", None),
])
def test_bad_queries_never_raise_and_say_why(text, message):
    q = parse(text)
    if message:
        assert any(message in p for p in q.problems), q.problems
    # The rest of the query is still read.
    assert q.root is not None or text.startswith(("upvotes", "date", "is", "sort"))


def test_unfinished_filter_while_typing_is_not_a_problem():
    assert parse("upvotes:>", typing=True).problems == []
    assert parse("date:2025-0", typing=True).problems == []
    assert parse("is:sta", typing=True).root == ql.Flag("starred")
    assert parse("upvotes:>x", typing=True).problems != []
