"""The stock path: with a Whoosh version `whoosh_internals` was not written for, the index is
written by Whoosh's own writer and searched by its own matchers. Forced here (the environment
variable), every search behaviour gives what the fast path gives, scores included."""

from __future__ import annotations

import shutil

import pytest
from samples import TODAY

from paperdesk.core import Library
from paperdesk.core.search import whoosh_internals
from paperdesk.core.view_filter import ViewFilter

QUERIES = [
    "language", "language models", "diffusion -video", "agent OR planning", '"large language"',
    '"language models"', "title:reasoning", "abstract:benchmark", "author:wang", "lang", "dif", "m",
    "reason bench", "model upvotes:>3", "learning date:2020-01-01..2030-12-31", "model sort:upvotes",
    "model sort:date", "learning is:starred", "learning -is:starred", "model is:archived",
    "model is:inbox", "model OR is:starred", "tag:reading", "reading", "model has:tag", "has:tag",
    "is:starred", "cat:cs.*", "modle", "the", "zzqnothing",
]
VIEWS = [ViewFilter(status="inbox"), ViewFilter(tag="reading"), ViewFilter(source_id=2)]


def answers(lib: Library) -> dict[str, tuple]:
    out = {}
    for query in QUERIES:
        result = lib.search.run(query, limit=50, today=TODAY, typing=not query.startswith('"'))
        out[query] = (result.total, [(h.id, round(h.score, 3)) for h in result.hits],
                      result.suggestion, result.problems)
    for where in VIEWS:  # searched within a desk view (a decision's mask, or read from SQLite)
        for query in ("model", "language models", "mod"):
            result = lib.search.run(query, limit=20, today=TODAY, within=where)
            out[f"{query} within {where}"] = (result.total, [(h.id, round(h.score, 3)) for h in result.hits])
    return out


def test_the_stock_path_answers_as_the_fast_path(seeded, tmp_path, monkeypatch):
    ids = seeded.paper_ids()
    seeded.star(ids[:7])
    seeded.archive(ids[3:20])
    seeded.tag(ids[10:14], ["reading"])
    assert seeded.search.run("warm").total >= 0  # the fast index, built and drained
    assert seeded.search.index.fast and whoosh_internals.usable()
    seeded.close()
    copy = tmp_path / "copy"
    shutil.copytree(seeded.folder, copy)
    monkeypatch.setenv(whoosh_internals.STOCK_ENV, "1")
    assert not whoosh_internals.usable()
    with Library.open(copy) as stock:
        assert not stock.search.index.fast
        found = answers(stock)
        assert any("another version" in m for m in stock.search.index.take_messages())  # rebuilt by Whoosh
        assert not list(copy.glob("index/postings_*")) and not list(copy.glob("index/words_*"))
        similar_stock = [(h.id, w) for h, w in stock.search.similar(ids[0])]
        stock.tag(ids[30:33], ["later"])  # indexed by Whoosh's own writer
        later_stock = stock.search.run("tag:later later", today=TODAY).total
    monkeypatch.delenv(whoosh_internals.STOCK_ENV)
    with Library.open(seeded.folder) as fast:
        assert fast.search.index.fast
        expected = answers(fast)
        assert [(h.id, w) for h, w in fast.search.similar(ids[0])] == similar_stock
        fast.tag(ids[30:33], ["later"])
        assert fast.search.run("tag:later later", today=TODAY).total == later_stock == 3
    assert sum(1 for total, *_ in expected.values() if total) > len(QUERIES) // 2  # not all empty
    assert set(found) == set(expected)
    for query in expected:
        assert found[query] == expected[query], query


def test_force_stock_overrides_the_version_check(monkeypatch):
    monkeypatch.delenv(whoosh_internals.STOCK_ENV, raising=False)
    try:
        whoosh_internals.force_stock(True)
        assert not whoosh_internals.usable()
        whoosh_internals.force_stock(False)
        assert whoosh_internals.usable()  # the installed Whoosh is one it was written for
        monkeypatch.setattr(whoosh_internals, "WRITTEN_FOR", frozenset({"0.0.1"}))
        assert not whoosh_internals.usable()  # another version: the stock path
    finally:
        whoosh_internals.force_stock(None)


@pytest.mark.parametrize("value, fast", [("", True), ("0", True), ("1", False), ("yes", False)])
def test_the_environment_variable_turns_the_internals_off(monkeypatch, value, fast):
    monkeypatch.setenv(whoosh_internals.STOCK_ENV, value)
    assert whoosh_internals.usable() is fast


def test_an_index_the_other_path_wrote_is_not_current(seeded, monkeypatch):
    """The desk's reader never rebuilds: an index written by the other path (Whoosh upgraded, or
    the internals turned off) is not current, so the writer rebuilds it (lib.search.current())."""
    from paperdesk.core.search.index import SearchIndex

    seeded.search.run("warm")
    assert SearchIndex.current(seeded.folder)
    monkeypatch.setenv(whoosh_internals.STOCK_ENV, "1")
    assert not SearchIndex.current(seeded.folder)
    seeded.search.index.close()
    stock = SearchIndex(seeded.folder, seeded.conn)
    assert stock.doc_count() == seeded.count()  # opened on the stock path: rebuilt by Whoosh's writer
    assert SearchIndex.current(seeded.folder)
    stock.close()
