"""The set/dict evaluator answers exactly what Whoosh's own matchers answer (same documents, same
BM25F scores), on a real on-disk index with several segments and deleted documents."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from paperdesk.core.search.decisions import decided_query
from paperdesk.core.search.evaluator import IndexView, top
from paperdesk.core.search.index import make_schema
from paperdesk.core.search.whoosh_internals import segment_id

WORDS = ["diffusion", "model", "models", "modeling", "video", "language", "agent", "reasoning",
         "graph", "network", "planning", "world", "policy", "gradient", "flow", "matching", "learning",
         "learners", "retrieval"]


FILLERS = ["the", "of", "a", "x", "and", "-", "Policy.", "(gradient)"]  # dropped tokens, punctuation
ABSTRACTS: dict[str, str] = {}
TITLES: dict[str, str] = {}
_VALUES: dict[str, dict[str, int]] = {}  # the latest upvotes and published of each id


def _doc(i: int, rng: random.Random) -> dict:
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
    abstract = " ".join(rng.choice(WORDS + FILLERS) for _ in range(rng.randint(5, 40)))
    ABSTRACTS[f"p{i:04d}"] = abstract
    TITLES[f"p{i:04d}"] = title
    fields = {
        "id": f"p{i:04d}", "sig": "x", "title": title, "title_ng": title,
        "abstract": abstract,
        "flags": rng.choice(["inbox unstarred", "archived starred", "inbox starred"]),
        "tags": rng.choice(["", "ideas", "ideas,reading", "idle"]),
        "author": rng.choice(["Ada Lovelace", "Alan Turing"]),
    }
    if rng.random() < 0.8:
        fields["upvotes"] = rng.randint(-5, 300)
    if rng.random() < 0.8:
        fields["published"] = 20200101 + rng.randint(0, 5) * 10000 + rng.randint(0, 11) * 100
    _VALUES[fields["id"]] = {k: fields[k] for k in ("upvotes", "published") if k in fields}
    return {k: v for k, v in fields.items() if v != ""}


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    from whoosh import index

    folder = tmp_path_factory.mktemp("ix")
    ix = index.create_in(str(folder), make_schema())
    rng = random.Random(3)
    for start in (0, 120, 240):  # three segments, none merged
        writer = ix.writer()
        for i in range(start, start + 120):
            writer.add_document(**_doc(i, rng))
        writer.commit(merge=False)
    writer = ix.writer()
    for i in range(0, 300, 7):  # deletions in every segment (and re-added documents)
        writer.delete_by_term("id", f"p{i:04d}")
    for i in range(0, 300, 21):
        writer.update_document(**_doc(i, rng))
    writer.commit(merge=False)
    with ix.searcher() as s:
        assert len(s.leaf_searchers()) > 1 and s.reader().has_deletions()
        yield s
    ix.close()


def queries():
    from whoosh import query as q

    t = q.Term
    return [
        t("abstract", "model"), t("title", "diffus", boost=3.0), t("title", "absent"),
        q.Or([t("title", "model", boost=3.0), t("abstract", "model"), t("tags", "ideas", boost=2.0)]),
        q.And([t("abstract", "graph"), q.Or([t("title", "polici"), t("abstract", "polici")])]),
        q.AndNot(t("abstract", "learn"), q.Or([t("title", "video"), t("abstract", "world")])),
        q.AndNot(q.Every(), t("abstract", "agent")),
        q.And([t("abstract", "flow"), t("flags", "starred")]),
        q.Prefix("tags", "id"), q.Or([t("title_ng", "mo", boost=3.0), q.Prefix("tags", "re")]),
        q.Or([t("title_ng", "gr", boost=3.0), q.Prefix("tags", "zz"), q.Prefix("tags", "id", boost=2.0)]),
        q.Phrase("title", ["world", "model"]),
        q.And([t("abstract", "video"), q.NumericRange("upvotes", 10, 200)]),
        q.And([t("abstract", "video"), q.NumericRange("published", 20220101, 99991231),
               q.NumericRange("upvotes", -(2**31) + 1, 50)]),
        q.NumericRange("upvotes", -3, 100),
        # Nested: Ands scored in two passes inside Ors, AndNots and each other.
        q.And([q.Or([t("abstract", "graph"), t("title", "model", boost=3.0)]),
               q.AndNot(t("abstract", "learn"), t("title", "video")),
               q.Or([q.And([t("abstract", "flow"), t("abstract", "match")]), t("tags", "ideas")])]),
        q.Or([q.And([t("abstract", "agent"), q.NumericRange("upvotes", 0, 150)]), t("title", "retriev")]),
        q.AndNot(q.And([t("abstract", "model"), t("flags", "inbox"), q.Prefix("tags", "id")]),
                 q.And([t("abstract", "polici"), t("abstract", "gradient")])),
        q.Not(q.Or([t("title", "model"), t("abstract", "model")])), q.Not(t("abstract", "absent")),
    ]


@pytest.mark.parametrize("index", range(len(queries())))
def test_same_documents_and_scores_as_whoosh(searcher, index):
    from whoosh import query as q

    query = queries()[index]
    view = IndexView(searcher)
    ours = view.evaluate(query)
    theirs = {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}
    if isinstance(query, q.AndNot):  # Whoosh's AndNot keeps some excluded documents of later segments
        excluded = {hit.docnum for hit in searcher.search(query.b, limit=None)}
        theirs = {hit.docnum: hit.score for hit in searcher.search(query.a, limit=None)
                  if hit.docnum not in excluded}
    if isinstance(query, q.Not):  # Whoosh's Not keeps a leaf's last document, deleted or not
        excluded = {hit.docnum for hit in searcher.search(query.query, limit=None)}
        theirs = {d: 1.0 for d in searcher.reader().all_doc_ids() if d not in excluded}
    assert set(ours) == set(theirs), query
    for docnum, score in theirs.items():
        assert ours[docnum] == pytest.approx(score, rel=1e-5), (query, docnum)
    ranked = top(ours, 5)
    assert [ours[d] for d in ranked] == sorted(ours.values(), reverse=True)[:5]


@pytest.mark.parametrize("index", [i for i, q in enumerate(queries()) if "NumericRange" in repr(q)])
def test_ranges_agree_with_the_stored_values(searcher, index):
    """Each range query against a scan of the stored fields (not Whoosh's range matcher)."""
    from whoosh import query as q

    query = queries()[index]
    found = set(IndexView(searcher).evaluate(query))
    ranges = [query] if isinstance(query, q.NumericRange) else \
        [sub for sub in query.subqueries if isinstance(sub, q.NumericRange)]
    inside = set()
    for docnum in searcher.reader().all_doc_ids():
        stored = searcher.stored_fields(docnum)
        if all(r.fieldname in _VALUES[stored["id"]] and
               r.start <= _VALUES[stored["id"]][r.fieldname] <= r.end for r in ranges):
            inside.add(docnum)
    assert found and found <= inside
    if isinstance(query, q.NumericRange):
        assert found == inside


@pytest.mark.parametrize("words", [["world", "model"], ["diffus", "model"], ["model", "model"],
                                   ["polici", "gradient", "flow"], ["video", "languag"]])
def test_title_phrases_from_the_word_order_files_agree_with_whooshs_positions(sidecar_searcher, words):
    """Titles have positions: the word order files answer their phrases as Whoosh's positions
    do, documents and scores."""
    from whoosh import query as q

    folder, searcher = sidecar_searcher
    query = q.Phrase("title", words, boost=2.0)
    ours = IndexView(searcher, folder).evaluate(query)
    theirs = {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}
    assert set(ours) == set(theirs)
    for docnum, score in theirs.items():
        assert ours[docnum] == pytest.approx(score, rel=1e-5)


def test_columns_and_ids_match_stored_values(searcher):
    view = IndexView(searcher)
    upvotes, published = view.column("upvotes"), view.column("published")
    reader = searcher.reader()
    for docnum in reader.all_doc_ids():
        stored = searcher.stored_fields(docnum)
        assert view.paper_id(docnum) == stored["id"]
        for values, name in ((upvotes, "upvotes"), (published, "published")):
            expected = reader.column_reader(name)[docnum]
            assert view.value(name, docnum) == (None if expected in (2**31 - 1, 2**32 - 1) else expected)
            assert values[0][docnum] == (view.value(name, docnum) is not None)
    assert int(view.live().sum()) == searcher.doc_count()


def test_decoded_postings_are_kept_within_the_budget(searcher, monkeypatch):
    """A term's postings are decoded once and kept (the same arrays come back) until the
    postings decoded since pass POSTING_BUDGET; then they are decoded again, the same."""
    from paperdesk.core.search import evaluator

    view = IndexView(searcher)
    first = view.postings("abstract", "model")
    for word in ("graph", "video", "flow"):
        view.postings("abstract", word)
    assert view.postings("abstract", "model")[0] is first[0]  # kept
    monkeypatch.setattr(evaluator, "POSTING_BUDGET", 50)
    view = IndexView(searcher)
    first = view.postings("abstract", "model")
    assert len(first[0]) > 10
    for word in ("graph", "video", "flow"):
        view.postings("abstract", word)
    again = view.postings("abstract", "model")
    assert again[0] is not first[0]  # dropped past the budget, decoded again
    assert (again[0] == first[0]).all() and (again[1] == first[1]).all()


def as_typed(searcher) -> list:
    """Queries as the compiler makes them while a user types (the last word a prefix)."""
    import datetime as dt

    from paperdesk.core.search import querylang as ql
    from paperdesk.core.search.compiler import Compiler

    compiler = Compiler(searcher)
    texts = ["model gr", "diffusion mo", "graph polici", "world model", "video m", "flow matching l",
             "absent mo", "model absent", "the model", "learn -video ag", "title:model re",
             '"world model" v', "agent (video OR graph) pl", "model retrieval", "m"]
    parsed = [ql.parse(text, today=dt.date(2026, 12, 5), typing=True) for text in texts]
    return [q for q in (compiler.compile_root(p.root) for p in parsed) if q is not None]


@pytest.mark.parametrize("fixture", ["searcher", "sidecar_searcher"])
def test_an_and_looked_up_at_its_first_parts_documents_answers_as_over_the_whole_index(
        request, monkeypatch, fixture):
    """An And whose first part matches few documents looks its other parts up there only: the
    same documents and bit for bit the same scores as evaluating every part over the whole
    index, with the terms decoded before (cached) or not, on a real index with deletions."""
    from whoosh import query as q

    from paperdesk.core.search import evaluator

    found = request.getfixturevalue(fixture)
    folder, searcher = found if isinstance(found, tuple) else (None, found)
    view = IndexView(searcher, folder)
    starred = np.zeros(view.doc_count_all, dtype=bool)
    starred[::3] = True  # a triage decision's mask (decisions.py), deleted documents included
    ands = [query for query in queries() + as_typed(searcher) if "And" in repr(query)]  # AndNots too
    ands += [q.And([q.Term("abstract", "video"), decided_query("starred", starred, view.leaves)]),
             q.AndNot(q.And([q.Term("abstract", "graph"), q.NumericRange("upvotes", 10, 200)]),
                      q.Or([decided_query("starred", starred, view.leaves), q.Term("title", "model")])),
             q.And([q.Term("abstract", "absent"), q.Term("abstract", "model")]),  # ends at once
             q.And([q.Term("abstract", "graph"), q.Or([q.Term("title", "model", boost=3.0),
                                                       q.Prefix("abstract", "le", boost=0.5)], boost=2.0),
                    q.Prefix("abstract", "po", boost=1.5), q.Phrase("title", ["world", "model"])])]
    assert len(ands) > 10

    def answers(share: float, view: IndexView) -> list:
        monkeypatch.setattr(evaluator, "NARROW_SHARE", share)
        return [view.evaluate(query) for query in ands]

    narrowed = answers(1.0, view)  # later parts' terms read afresh, scored at those documents
    whole = answers(-1.0, view)    # never narrowed (decodes and keeps every term)
    narrowed_cached = answers(1.0, view)
    assert sum(len(m) for m in whole) > 20
    for query, a, b, c in zip(ands, narrowed, whole, narrowed_cached, strict=True):
        assert np.array_equal(a.mask, b.mask) and np.array_equal(c.mask, b.mask), query
        assert np.array_equal(a.scores, b.scores) and np.array_equal(c.scores, b.scores), query


def _statistics(reader) -> list[tuple]:
    """Every term's statistics and its blocks' length bounds (what the field lengths feed)."""
    out = []
    for fieldname, text in reader.all_terms():
        info = reader.term_info(fieldname, text)
        m = reader.postings(fieldname, text)
        blocks = []
        while m.is_active():
            blocks.append((m.block_min_length(), m.block_max_length(), m.block_max_weight(),
                           m.block_max_id()))
            if m.block_max_id() + 1 >= reader.doc_count_all():
                break
            m.skip_to(m.block_max_id() + 1)
        out.append((fieldname, text, info.min_length(), info.max_length(), info.weight(),
                    info.doc_frequency(), tuple(blocks), list(reader.postings(fieldname, text).all_ids())))
    return out


def test_writer_with_lengths_in_memory_writes_the_same_index(tmp_path, monkeypatch):
    from whoosh import index

    from paperdesk.core.search import whoosh_internals

    monkeypatch.setattr(whoosh_internals, "LEAN", False)  # every Whoosh posting, as Whoosh's writer

    from paperdesk.core.search.whoosh_internals import segment_writer

    rng = random.Random(8)
    docs = [_doc(i, rng) for i in range(10_000, 10_400)]  # ids apart from the shared fixture's
    found = []
    for name, make in (("whoosh", lambda ix: ix.writer()), ("ours", segment_writer)):
        (tmp_path / name).mkdir()
        ix = index.create_in(str(tmp_path / name), make_schema())
        writer = make(ix)
        for doc in docs:
            writer.add_document(**doc)
        writer.commit()
        with ix.reader() as reader:
            found.append(_statistics(reader))
        ix.close()
    assert len(found[0]) > 100 and found[0] == found[1]


@pytest.mark.parametrize("options", [{}, {"positions": True, "chars": True}, {"mode": "query"},
                                     {"removestops": False, "positions": True}, {"tokenize": False},
                                     {"positions": True, "start_pos": 5, "keeporiginal": True},
                                     {"no_morph": True}])
def test_fast_analyzer_yields_the_tokens_of_whooshs_stemming_analyzer(options):
    import pickle

    from whoosh.analysis import StemmingAnalyzer

    from paperdesk.core.search.analysis import FastStemAnalyzer

    texts = ["Diffusion Models for Video Generation: we train LATENT diffusion models on video.",
             "The model's e.g. GPT-3.5 and x-y (of a) İstanbul straße naïve, ran running runners",
             "", "a the of", "Multi-agent RL_for_all 2025 v2"]
    fields = ("text", "pos", "startchar", "endchar", "stopped", "original", "boost")

    def tokens(analyzer) -> list:
        return [tuple(getattr(t, f, None) for f in fields) for text in texts
                for t in analyzer(text, **options)]

    ours = FastStemAnalyzer()
    assert tokens(ours) == tokens(StemmingAnalyzer()) and tokens(ours)[:1] != []
    assert pickle.loads(pickle.dumps(ours)) == ours and ours.has_morph()


@pytest.fixture(scope="module")
def sidecar_searcher(tmp_path_factory):
    """The shared fixture's documents written by our segment writer, long lists as sidecars."""
    from whoosh import index


    folder = tmp_path_factory.mktemp("ix-sidecar")
    write_segments(folder, lean=False)  # Whoosh's postings too: the tests compare with them
    ix = index.open_dir(str(folder))
    with ix.searcher() as s:
        yield folder, s
    ix.close()


def write_segments(folder, lean: bool) -> None:
    """The shared fixture's documents in three segments by our writer, with deletions."""
    from whoosh import index

    from paperdesk.core.search import whoosh_internals

    ix = index.create_in(str(folder), make_schema())
    rng = random.Random(3)
    before, whoosh_internals.LEAN = whoosh_internals.LEAN, lean
    try:
        for start in (0, 120, 240):
            writer = whoosh_internals.segment_writer(ix)
            for i in range(start, start + 120):
                writer.add_document(**_doc(i, rng))
            writer.commit(merge=False)
        writer = whoosh_internals.segment_writer(ix)
        for i in range(0, 300, 7):
            writer.delete_by_term("id", f"p{i:04d}")
        writer.commit(merge=False)
    finally:
        whoosh_internals.LEAN = before
    ix.close()


def test_a_lean_index_answers_as_a_full_one_and_keeps_whooshs_term_statistics(sidecar_searcher, tmp_path):
    """Our writer leaves out Whoosh's postings of titles, their n-grams, abstracts, PDF texts and
    spelling words (the evaluator reads the postings files) and numbers' terms, and the n-grams'
    and PDF texts' terms: same answers and scores, same term statistics, smaller segments; a
    Whoosh matcher on such a term raises."""
    from whoosh import index
    from whoosh import query as q

    from paperdesk.core.search.whoosh_internals import EVALUATOR_ONLY, SIDECAR_ONLY

    full_folder, full = sidecar_searcher
    write_segments(tmp_path, lean=True)
    ix = index.open_dir(str(tmp_path))
    with ix.searcher() as lean:
        ours, theirs = IndexView(lean, tmp_path), IndexView(full, full_folder)
        for query in [*queries(), *(q.Phrase(f, w) for f in ("title", "abstract") for w in PHRASES)]:
            a, b = ours.evaluate(query), theirs.evaluate(query)
            assert set(a) == set(b) and all(a[d] == pytest.approx(b[d], rel=1e-6) for d in b), query
        for fieldname in (*EVALUATOR_ONLY, "spell_title", "author", "id"):
            terms = list(full.reader().lexicon(fieldname))
            assert fieldname == "fulltext" or terms, fieldname
            if fieldname in SIDECAR_ONLY:  # in the postings files only
                assert not list(lean.reader().lexicon(fieldname))
                continue
            assert list(lean.reader().lexicon(fieldname)) == terms
            for text in terms[:20]:
                a, b = lean.reader().term_info(fieldname, text), full.reader().term_info(fieldname, text)
                assert (a.doc_frequency(), a.weight(), a.min_length(), a.max_length(), a.max_weight(),
                        a.min_id(), a.max_id()) == (b.doc_frequency(), b.weight(), b.min_length(),
                                                    b.max_length(), b.max_weight(), b.min_id(), b.max_id())
        assert list(full.reader().lexicon("published")) and not list(lean.reader().lexicon("published"))
        with pytest.raises(Exception, match="Block tag"):
            lean.reader().postings("abstract", b"model")
        assert list(lean.reader().postings("author", b"ada").all_ids())  # phrases there: Whoosh's
    ix.close()
    size = {f: sum(p.stat().st_size for p in f.glob("*.seg")) for f in (tmp_path, full_folder)}
    assert size[tmp_path] < 0.7 * size[full_folder]


def test_merging_lean_segments_takes_their_lists_from_the_postings_files(tmp_path, monkeypatch):
    """A merge of lean segments (deleted documents left out, new ones added) answers as a merge
    of full ones: the lean fields' lists come from the merged segments' postings files, the
    spelling words from their term dictionaries."""
    from whoosh import index
    from whoosh import query as q

    from paperdesk.core.search import whoosh_internals

    answers = {}
    for lean in (False, True):
        folder = tmp_path / str(lean)
        folder.mkdir()
        write_segments(folder, lean=lean)
        monkeypatch.setattr(whoosh_internals, "LEAN", lean)
        ix = index.open_dir(str(folder))
        writer = whoosh_internals.segment_writer(ix)
        rng = random.Random(12)
        for i in range(500, 530):
            writer.add_document(**_doc(i, rng))
        writer.delete_by_term("id", "p0010")
        writer.commit(optimize=True)
        assert len(whoosh_internals.segment_ids(ix)) == 1
        with ix.searcher() as searcher:
            view = IndexView(searcher, folder)
            found = []
            for query in [*queries(), q.Phrase("abstract", ["world", "model"]), q.Term("title_ng", "mo")]:
                got = view.evaluate(query)
                found.append(sorted((view.paper_id(d), round(got[d], 6)) for d in got))
            answers[lean] = found
            spelling = list(searcher.reader().lexicon("spell_title"))
            answers[lean].append(spelling)
            assert spelling and searcher.reader().corrector("spell_title").suggest("modl", limit=1)
        ix.close()
    assert any(answers[True][:-1]) and answers[True][:-1] == answers[False][:-1]
    # Every spelling word stays (Whoosh's own merge loses a segment's when its document 0 is deleted).
    assert set(answers[True][-1]) >= set(answers[False][-1])


def test_sidecar_lists_give_whooshs_documents_and_scores(sidecar_searcher):
    from paperdesk.core.search.sidecar import EXTENSION, path_for, sidecar_for

    folder, searcher = sidecar_searcher
    files = sorted(folder.glob(f"*{EXTENSION}"))
    assert len(files) == 3  # one per segment with documents; the deletions wrote none
    segments = [segment_id(r) for r, _ in IndexView(searcher).leaves]
    assert sorted(f.name for f in files) == sorted(path_for(folder, s).name for s in segments)
    sidecar = sidecar_for(folder, segments[0])
    assert sidecar is not None and len(sidecar.postings("abstract", b"model")[0]) > 20
    assert sidecar.postings("id", b"p0001")[0].tolist() == [1]  # every list, one posting too
    assert sidecar.postings("id", b"p0001x") is None and sidecar.postings("id", b"") is None
    assert not sidecar.covers("spell_title") and not sidecar.covers("published")  # never read by term
    view = IndexView(searcher, folder)
    plain = IndexView(searcher)
    for query in queries():
        ours, theirs = view.evaluate(query), plain.evaluate(query)
        assert set(ours) == set(theirs), query
        for docnum in ours:
            assert ours[docnum] == pytest.approx(theirs[docnum], rel=1e-6), query
    ids, scores = view.postings("abstract", "model")
    expected = plain.postings("abstract", "model")
    assert len(ids) > 20 and (ids == expected[0]).all() and np.allclose(scores, expected[1])


def test_long_lists_scored_from_a_table_get_the_formulas_bits(sidecar_searcher, monkeypatch):
    """A long list of one-byte counts is scored by looking each (count, length) pair up in a table
    made by the same formula: every query answers bit for bit as with the formula alone."""
    from paperdesk.core.search import evaluator

    folder, searcher = sidecar_searcher

    def answers(table_from: int) -> list:
        monkeypatch.setattr(evaluator, "SCORE_TABLE_FROM", table_from)
        view = IndexView(searcher, folder)
        return [view.evaluate(query) for query in queries() + as_typed(searcher)]

    by_formula, by_table = answers(1 << 62), answers(1)
    assert sum(len(m) for m in by_formula) > 100
    for a, b in zip(by_formula, by_table, strict=True):
        assert np.array_equal(a.mask, b.mask) and np.array_equal(a.scores, b.scores)


def test_postings_files_keep_counts_in_one_or_two_bytes(tmp_path):
    from array import array

    from paperdesk.core.search.sidecar import Collector, Sidecar

    collector = Collector()
    lists = {"abstract": [1.0, 3.0, 255.0], "fulltext": [1.0, 256.0, 60000.0], "tags": [0.5, 2.0]}
    for name, weights in lists.items():
        collector.add_list(name, b"w", array("i", range(len(weights))), array("f", weights))
    path = tmp_path / "postings_MAIN_x.npp"
    collector.write(path)
    sidecar = Sidecar(path)
    for name, weights in lists.items():
        ids, found = sidecar.postings(name, b"w")
        assert ids.tolist() == list(range(len(weights))) and found.tolist() == weights
    assert {name: field[2].dtype.str for name, field in sidecar.fields.items()} == \
        {"abstract": "|u1", "fulltext": "<u2", "tags": "<f4"}


def test_postings_files_find_every_term_in_place(tmp_path):
    """A field's term table stays in the file's map (at 1M papers ~75 MB held as Python arrays):
    every term is found, across the sampled terms kept in memory and at both ends, and words
    between, before and after the terms are not; an open file holds a small part of its tables."""
    import tracemalloc
    from array import array

    from paperdesk.core.search import sidecar

    rng = random.Random(3)
    terms = sorted({"".join(rng.choice("abcz") for _ in range(rng.randint(1, 12))).encode()
                    for _ in range(3000)})
    collector = sidecar.Collector()
    for k, text in enumerate(terms):
        collector.add_list("title", text, array("i", [k, k + 1]), array("f", [1.0, float(k % 7 + 1)]))
    collector.add_list("tags", b"x", array("i", [3]), array("f", [1.0]))
    path = tmp_path / "postings_MAIN_t.npp"
    collector.write(path)
    tracemalloc.start()
    try:
        found = sidecar.Sidecar(path)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    table = sum(16 + len(t) for t in terms)
    assert held < table / 4, (held, table)
    for k, text in enumerate(terms):
        ids, weights = found.postings("title", text)
        assert ids.tolist() == [k, k + 1] and weights.tolist() == [1.0, k % 7 + 1], text
    known = set(terms)
    for text in [b"", b"0", b"zzzzzzzzzzzzzzz", b"ab\x00", terms[0] + b"\x00", terms[-1] + b"a",
                 *(t[:-1] + b"b" for t in terms[::97])]:
        assert (found.postings("title", text) is None) == (text not in known), text
    assert found.postings("tags", b"x")[0].tolist() == [3] and found.postings("tags", b"y") is None
    merged = list(found.field_lists("title"))  # a merge reads every list in order
    assert [t for t, _, _ in merged] == terms and merged[5][1].tolist() == [5, 6]


def test_a_damaged_sidecar_is_ignored(sidecar_searcher, tmp_path):
    import shutil

    from paperdesk.core.search.sidecar import EXTENSION, sidecar_for

    folder, _ = sidecar_searcher
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    victim = next(copy.glob(f"*{EXTENSION}"))
    victim.write_bytes(b"PDNPP2\n" + b"\xff" * 40)
    assert sidecar_for(copy, victim.stem.removeprefix("postings_")) is None
    assert sidecar_for(copy, "MAIN_nosuchsegment") is None


PHRASES = [["polici", "gradient"], ["world", "model"], ["model", "model"], ["gradient", "polici"],
           ["learn", "graph", "flow"], ["retriev", "agent"], ["diffus", "model"], ["absent", "model"]]


def _having(searcher, fieldname: str, words: list[str]) -> set[int]:
    """Live documents whose field, as the analyzer reads it, has `words` in a row."""
    analyzer = searcher.schema[fieldname].analyzer
    source = {"abstract": ABSTRACTS, "title": TITLES}[fieldname]
    found = set()
    for docnum in searcher.reader().all_doc_ids():
        stems = analyzer.words(source[searcher.stored_fields(docnum)["id"]])
        if any(stems[i:i + len(words)] == words for i in range(len(stems))):
            found.add(docnum)
    return found


@pytest.mark.parametrize("fieldname", ["abstract", "title"])
def test_phrases_are_answered_by_the_word_order_files(sidecar_searcher, fieldname):
    from whoosh import query as q

    from paperdesk.core.search.word_order import EXTENSION

    folder, searcher = sidecar_searcher
    assert len(list(folder.glob(f"*{EXTENSION}"))) == 3  # one per segment with documents
    view = IndexView(searcher, folder)
    for words in PHRASES:
        found = view.evaluate(q.Phrase(fieldname, words, boost=1.5))
        assert set(found) == _having(searcher, fieldname, words), words
        every = view.evaluate(q.And([q.Term(fieldname, w, boost=1.5) for w in words]))
        for docnum in found:  # scored as the sum of the words
            assert found[docnum] == pytest.approx(every[docnum], rel=1e-6)
    assert any(_having(searcher, fieldname, w) for w in PHRASES)  # the test checks something


@pytest.mark.parametrize("cached", [False, True])
def test_a_phrase_from_the_word_order_files_alone_scores_as_the_intersection(sidecar_searcher,
                                                                             monkeypatch, cached):
    """A phrase is found from the word order files alone, then scored at its documents only: the
    same documents (deleted ones left out) and bit-for-bit the same scores as intersecting the
    words' postings first (the way taken when a segment has no file), boosted or not, with the
    words' lists cached or not."""
    from whoosh import query as q

    folder, searcher = sidecar_searcher
    checked = 0
    for fieldname in ("abstract", "title"):
        for words in PHRASES:
            for boost in (1.0, 3.0):
                phrase = q.Phrase(fieldname, words, boost=boost)
                view = IndexView(searcher, folder)
                if cached:
                    for w in words:
                        view.postings(fieldname, w)
                ids, scores = view._phrase_docs(phrase)
                plain = IndexView(searcher, folder)
                monkeypatch.setattr(plain, "_phrase_found", lambda *_: None)
                expected_ids, expected_scores = plain._phrase_docs(phrase)
                assert ids.tolist() == expected_ids.tolist(), (fieldname, words)
                assert scores.tolist() == expected_scores.tolist(), (fieldname, words)  # exactly
                assert not (set(ids.tolist()) - set(np.flatnonzero(view.live()).tolist()))
                checked += len(ids)
    assert checked


def test_word_order_files_are_read_at_the_first_phrase_only(sidecar_searcher, monkeypatch):
    """Words, prefixes and opening the view never open the word order files (a map and a header
    each): the first phrase does, once per view."""
    from whoosh import query as q

    from paperdesk.core.search import evaluator

    folder, searcher = sidecar_searcher
    read: list[str] = []
    real = evaluator.word_order_for
    monkeypatch.setattr(evaluator, "word_order_for",
                        lambda where, segment: read.append(segment) or real(where, segment))
    view = IndexView(searcher, folder)
    words = PHRASES[0]
    view.evaluate(q.And([q.Term("abstract", w) for w in words]))
    view.evaluate(q.Prefix("title", words[0][:2]))
    assert read == []
    found = view.evaluate(q.Phrase("abstract", words))
    assert len(read) == 3 and set(found) == _having(searcher, "abstract", words)
    view.evaluate(q.Phrase("title", words))
    assert len(read) == 3  # read once per view


def test_a_merge_keeps_the_merged_segments_word_order(sidecar_searcher, tmp_path):
    """Whoosh merges small segments into the one a commit writes: their words' order comes
    along (deleted documents left out), so phrases never need another way."""
    import shutil

    from whoosh import query as q
    from whoosh.filedb.filestore import FileStorage

    from paperdesk.core.search.whoosh_internals import segment_ids, segment_writer
    from paperdesk.core.search.word_order import EXTENSION

    folder, _ = sidecar_searcher
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    ix = FileStorage(str(copy)).open_index()
    writer = segment_writer(ix)
    rng = random.Random(11)
    for i in range(400, 420):
        writer.add_document(**_doc(i, rng))
    writer.delete_by_term("id", "p0005")
    writer.commit(optimize=True)  # every segment merged into the new one
    (segment,) = segment_ids(ix)
    assert (copy / f"words_{segment}{EXTENSION}").is_file()  # (the merged ones' go at the next drain)
    with ix.searcher() as searcher:
        view = IndexView(searcher, copy)
        for words in PHRASES:
            assert set(view.evaluate(q.Phrase("abstract", words))) == _having(searcher, "abstract", words)
        assert any(_having(searcher, "abstract", w) for w in PHRASES)
    ix.close()


def _eight(size: int) -> int:
    return size + -size % 8


@pytest.mark.parametrize("narrow", [True, False])
def test_word_order_files_find_runs_within_documents_only(tmp_path, monkeypatch, narrow):
    from paperdesk.core.search import word_order

    if not narrow:
        monkeypatch.setattr(word_order, "NARROW_WORDS", 1)  # 4-byte ids
    recorder = word_order.Recorder()
    recorder.add("abstract", 0, ["world", "model"])
    recorder.add("abstract", 2, ["learn", "world"])  # document 1 has no abstract
    recorder.add("abstract", 3, ["model", "world", "model", "world"])
    recorder.add("title", 3, ["world"])
    path = word_order.path_for(tmp_path, "MAIN_x")
    recorder.write(path, doc_count=5)
    order = word_order.WordOrder(path)
    field = order.fields["abstract"]  # each word's places, ascending: "world" is at 0, 3, 5 and 7
    world, model, learn = (field.ids[w] for w in ("world", "model", "learn"))
    # The sequence is not stored (places only); a merge makes it again from the places.
    assert field.sequence().tolist() == [world, model, learn, world, model, world, model, world]
    header, start = word_order.read_header(path, word_order.MAGIC)
    assert start % 8 == 0  # every part aligned
    # Offsets, run offsets (4 bytes), run blocks (2), run ends (4), a place's low bits (2), then
    # the vocabulary: word ends (4), hashes (4), ids (4), the words' bytes: each part padded to 8.
    expected = sum(_eight(4 * (f["docs"] + 1)) + _eight(4 * (f["words"] + 1)) + _eight(2 * f["runs"])
                   + _eight(4 * (f["runs"] + 1)) + _eight(2 * f["tokens"]) + _eight(4 * (f["words"] + 1))
                   + 2 * _eight(4 * f["words"]) + _eight(f["word_bytes"]) for f in header["fields"].values())
    assert header["fields"]["abstract"]["word_bytes"] == len("worldmodellearn")
    assert path.stat().st_size == start + expected
    assert field.places(world).tolist() == [0, 3, 5, 7]
    assert field.count(world) == 4 and field.count(learn) == 1
    assert order.documents_with("abstract", ["world", "model"]).tolist() == [0, 3]
    assert order.documents_with("abstract", ["model", "world"]).tolist() == [3]  # not 0 -> 2
    assert order.documents_with("abstract", ["model", "learn"]).tolist() == []  # across 0 -> 2
    assert order.documents_with("abstract", ["world", "model", "world", "model"]).tolist() == []
    assert order.documents_with("abstract", ["model", "world", "model"]).tolist() == [3]
    assert order.documents_with("abstract", ["world", "learn"]).tolist() == []  # the rarest word first
    assert order.documents_with("abstract", ["absent", "world"]).tolist() == []
    assert order.documents_with("title", ["world"]).tolist() == [3]
    assert order.documents_with("note", ["world", "model"]) is None  # not recorded: Whoosh's positions
    # Only among given documents:
    assert order.documents_with("abstract", ["world", "model"], np.array([3, 4])).tolist() == [3]
    assert order.documents_with("abstract", ["model", "world"], np.array([0, 3])).tolist() == [3]
    assert order.documents_with("abstract", ["model", "learn"], np.array([0, 2])).tolist() == []
    assert order.documents_with("abstract", ["world", "model"], np.array([], dtype=int)).tolist() == []
    recorder.complete = False  # a segment merged in had no file: none for the new one either
    recorder.write(word_order.path_for(tmp_path, "MAIN_y"), doc_count=5)
    assert not word_order.path_for(tmp_path, "MAIN_y").exists()


def test_a_phrase_over_several_fields_as_the_compiler_makes_it(sidecar_searcher):
    """An Or of one phrase per field (title 3, abstract 1, author: Whoosh's positions) is found
    from the words' postings and the word order files, never from whole-index arrays per field:
    documents and scores as the parts evaluated one by one and added."""
    from whoosh import query as q

    folder, searcher = sidecar_searcher
    view = IndexView(searcher, folder)
    checked = 0
    for words in PHRASES:
        parts = [q.Phrase("title", words, boost=3.0), q.Phrase("abstract", words),
                 q.Phrase("author", ["ada", "lovelace"])]
        found = view.evaluate(q.Or(parts))
        separately = [view.evaluate(part) for part in parts]
        expected = set().union(*(set(part) for part in separately))
        assert set(found) == expected, words
        for docnum in expected:
            assert found[docnum] == pytest.approx(sum(p.get(docnum, 0.0) for p in separately), rel=1e-9)
        checked += len(expected)
        assert separately[2]  # Whoosh's positions answered the author's part
    assert checked


def test_common_positions_of_two_ascending_arrays():
    from paperdesk.core.search.evaluator import _common

    rng = np.random.default_rng(5)
    for size_a, size_b in ((0, 5), (5, 0), (50, 4000), (4000, 50), (300, 300), (100, 100)):
        a = np.unique(rng.integers(0, 5000, size_a))
        b = np.unique(rng.integers(0, 5000, size_b))
        for size in (5000, 10**9 if size_a < 1000 else 5000):  # a binary search / one array
            mine, theirs = _common(a, b, size)
            expected, ia, ib = np.intersect1d(a, b, assume_unique=True, return_indices=True)
            assert a[mine].tolist() == expected.tolist() and mine.tolist() == ia.tolist()
            assert theirs.tolist() == ib.tolist()


@pytest.mark.parametrize("route", ["merge-all", "merge-restricted", "whole-restricted", "runs-restricted",
                                   "runs-all"])
@pytest.mark.parametrize("block_bits", [16, 3, 1])
@pytest.mark.parametrize("seed", range(4))
def test_word_order_runs_agree_with_a_scan(tmp_path, monkeypatch, seed, block_bits, route):
    """Random documents of a small vocabulary (so words repeat within and across documents):
    every phrase of 1-3 words is found exactly where a scan of the documents finds it, also when
    only some documents are looked in, and with blocks of 8 or 2 places (a word's places then
    fall in many runs, some of one place); a merge's sequence made from the places is the words
    in order. `route`, how each other word is looked up at the candidate places: merged with its
    places made whole (what many keys take), or a binary search each, in its places made whole
    or run by run (what a common word of a big index takes for a few keys); and where the
    candidates start: every place of the rarest word (`all`: what common words take), or its
    places in the documents looked in only (`restricted`: what a rare pair takes)."""
    from paperdesk.core.search import word_order

    monkeypatch.setattr(word_order, "BLOCK_BITS", block_bits)
    lookup, start = route.split("-")
    monkeypatch.setattr(word_order, "MERGE_KEYS", 10**9 if lookup == "merge" else 0)
    monkeypatch.setattr(word_order, "RESTRICT_KEYS", 10**9 if start == "all" else 0)
    if lookup == "runs":
        monkeypatch.setattr(word_order, "MATERIALISE_PER_KEY", 0)
        monkeypatch.setattr(word_order, "MATERIALISE_ALWAYS", 0)
    rng = random.Random(seed)
    vocabulary = ["a", "b", "c", "d", "e", "f"]
    docs = {d: [rng.choice(vocabulary[: rng.randint(2, 6)]) for _ in range(rng.randint(0, 30))]
            for d in range(60) if rng.random() < 0.9}
    recorder = word_order.Recorder()
    for d, words in docs.items():
        recorder.add("abstract", d, words)
    path = word_order.path_for(tmp_path, "MAIN_r")
    recorder.write(path, doc_count=60)
    order = word_order.WordOrder(path)
    field = order.fields["abstract"]
    assert field.block_bits == block_bits
    in_order = [w for d in sorted(docs) for w in docs[d]]
    assert [vocabulary_of[i] for vocabulary_of in [{v: k for k, v in field.ids.items()}]
            for i in field.sequence().tolist()] == in_order
    if block_bits == 1 and len(in_order) > 8:
        assert len(field.run_blocks) > len(field.ids)  # words in several runs
    among = np.array(sorted(rng.sample(range(60), 25)))
    found_any = 0
    for _ in range(60):
        phrase = [rng.choice(vocabulary) for _ in range(rng.randint(1, 3))]
        having = {d for d, words in docs.items()
                  if any(words[i:i + len(phrase)] == phrase for i in range(len(words)))}
        assert order.documents_with("abstract", phrase).tolist() == sorted(having), phrase
        assert order.documents_with("abstract", phrase, among).tolist() == \
            sorted(having & set(among.tolist())), phrase
        found_any += len(having)
    assert found_any



VOCABULARY = [f"w{k}" for k in range(30_000)] + ["é", "naïve", "x", "数据", "w", "\ud800x", "ß" * 300]


def _vocabulary_file(tmp_path, words=VOCABULARY):
    from paperdesk.core.search import word_order

    recorder = word_order.Recorder()
    for d in range(0, len(words), 50):
        recorder.add("title", d // 50, words[d:d + 50])
    path = word_order.path_for(tmp_path, "MAIN_v")
    recorder.write(path, doc_count=len(words) // 50 + 1)
    return path


def test_a_word_order_vocabulary_is_read_in_place(tmp_path):
    """A segment's vocabulary is arrays in the file, read in place (INDEX_VERSION 16; before, a
    pickled dict in the header: at 1M papers ~0.5 s of holding the GIL, and Python objects, at
    a process's first phrase): opening makes no object per word, every word has its id (non-ASCII,
    one-letter, long words and a lone surrogate too), others none, and a merge lists them in id
    order."""
    import tracemalloc

    from paperdesk.core.search import word_order

    path = _vocabulary_file(tmp_path)
    tracemalloc.start()
    try:
        order = word_order.WordOrder(path)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 20_000, held  # (a dict of these words: ~2.5 MB)
    vocabulary = order.fields["title"].ids
    assert len(vocabulary) == len(VOCABULARY) and list(vocabulary) == VOCABULARY
    assert all(vocabulary[w] == k for k, w in enumerate(VOCABULARY))
    for absent in ("", "w30000", "W1", "nai\u0308ve", "数", "\ud800", "ß" * 299):  # (NFD: not the word)
        assert vocabulary.get(absent) is None and absent not in vocabulary
    assert 5 not in vocabulary
    with pytest.raises(KeyError):
        vocabulary["absent"]
    assert order.documents_with("title", ["w49", "w50"]).tolist() == []  # across two documents
    assert order.documents_with("title", ["naïve", "x"]).tolist() == [600]
    assert len(order.fields["abstract"].ids) == 0 and list(order.fields["abstract"].ids) == []
    assert order.fields["abstract"].ids.get("w1") is None


@pytest.mark.parametrize("hashes", ["one", "three"])
def test_words_of_one_hash_are_told_apart_by_their_bytes(tmp_path, monkeypatch, hashes):
    """Every word's hash made one value (or one of three): each word is still found with its id,
    and words not there are not, however long the run of its hash."""
    from paperdesk.core.search import word_order

    monkeypatch.setattr(word_order, "word_hash", (lambda raw: 7) if hashes == "one" else
                        (lambda raw: len(raw) % 3))
    words = VOCABULARY[:500] + VOCABULARY[-7:]
    vocabulary = word_order.WordOrder(_vocabulary_file(tmp_path, words)).fields["title"].ids
    assert all(vocabulary.get(w) == k for k, w in enumerate(words))
    for absent in ("", "w500", "naïv", "y"):
        assert vocabulary.get(absent) is None
    assert vocabulary.by_id() == words


def test_a_vocabulary_written_in_one_process_is_read_in_another(tmp_path):
    """The stored hashes are the same in every process (Python's str hash is not: it is salted
    per process): a process of another hash seed finds every word."""
    import subprocess

    path = _vocabulary_file(tmp_path)
    script = ("import sys; from pathlib import Path; from paperdesk.core.search.word_order import WordOrder; "
              "v = WordOrder(Path(sys.argv[1])).fields['title'].ids; "
              "print(sum(v.get(w) == k for k, w in enumerate(v.by_id())), v.get('absent'))")
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, check=True,
                              cwd=Path(__file__).resolve().parents[1])  # (this checkout's paperdesk)
        assert done.stdout.split() == [str(len(VOCABULARY)), "None"]


def test_every_word_of_a_real_segment_is_found_with_its_id(sidecar_searcher):
    """The fixture's segments, written by our writer: each field's vocabulary holds exactly the
    words the postings files have for it, each found with the id of its places (the word of each
    place of the sequence, looked up again, is that place's id)."""
    from paperdesk.core.search import sidecar, word_order

    folder, searcher = sidecar_searcher
    checked = 0
    for reader, _offset in searcher.reader().leaf_readers():
        segment = segment_id(reader)
        order = word_order.word_order_for(folder, segment)
        lists = sidecar.sidecar_for(folder, segment)
        for name in ("title", "abstract"):
            field = order.fields[name]
            words = field.ids.by_id()
            assert {text.decode() for text, _docs, _weights in lists.field_lists(name)} == set(words)
            assert [field.ids.get(w) for w in words] == list(range(len(words)))
            sequence = field.sequence()
            assert all(field.ids[words[k]] == k for k in sequence[::7].tolist())
            assert field.ids.get(words[0] + "zz") is None
            checked += len(words)
    assert checked > 50


def test_a_phrase_look_up_never_copies_a_words_places(tmp_path):
    """numpy's searchsorted copies the searched array when the keys are of another type or the
    array is misaligned: int64 keys into a word's int32 places, or places after a header of odd
    length, copied all of them on every look-up (at 1M papers most of a phrase's time).
    Allocations during a look-up stay far below one copy of the places."""
    import tracemalloc

    from paperdesk.core.search import word_order

    recorder = word_order.Recorder()
    common = ["model", "language"] * 100
    for d in range(2000):  # 400k places: "model" and "language" 200k each
        recorder.add("abstract", d, common if d % 50 else ["rare", "model", *common])
    path = word_order.path_for(tmp_path, "MAIN_c")
    recorder.write(path, doc_count=2000)
    order = word_order.WordOrder(path)
    field = order.fields["abstract"]
    assert field.lows.dtype == np.dtype("<u2") and field.starts.flags.aligned and field.lows.flags.aligned
    among = np.arange(0, 2000, 401)  # the candidates: documents having both words
    order.documents_with("abstract", ["model", "language"], among)  # numpy's first-use allocations
    tracemalloc.start()
    try:
        found = order.documents_with("abstract", ["model", "language"], among)
        assert len(found) == len(among)
        found = order.documents_with("abstract", ["rare", "model"])
        assert found.tolist() == list(range(0, 2000, 50))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < field.lows.nbytes // 4


@pytest.mark.parametrize("block_bits", [16, 4, 1])
def test_postings_files_keep_docnums_in_two_bytes(tmp_path, monkeypatch, block_bits):
    """Docnums are runs of low bits, one run per block a term has postings in: every list reads
    back as written (by term and whole fields, as a merge reads them), with blocks of 2^16, 16
    and 2 documents (many runs, some of one posting, terms next to each other in one block)."""
    from array import array

    from paperdesk.core.search import sidecar

    monkeypatch.setattr(sidecar, "BLOCK_BITS", block_bits)
    rng = random.Random(block_bits)
    collector = sidecar.Collector()
    written: dict[str, dict[bytes, list[int]]] = {}
    for name in ("abstract", "title"):
        written[name] = {}
        for t in range(40):
            docnums = sorted(rng.sample(range(300), rng.choice([1, 2, 5, 60, 250])))
            text = f"w{t:03d}".encode()
            written[name][text] = docnums
            collector.add_list(name, text, array("i", docnums), array("f", [1.0] * len(docnums)))
    path = tmp_path / "postings_MAIN_b.npp"
    collector.write(path)
    header, start = sidecar.read_header(path, sidecar.MAGIC)
    assert start % 8 == 0 and header["block_bits"] == block_bits
    found = sidecar.Sidecar(path)
    assert found.lows.dtype == np.dtype("<u2") and found.lows.flags.aligned
    for name, lists in written.items():
        for text, docnums in lists.items():
            assert found.postings(name, text)[0].tolist() == docnums, (name, text)
        assert {t: d.tolist() for t, d, _ in found.field_lists(name)} == lists
    assert found.postings("abstract", b"absent") is None
    total = sum(len(d) for lists in written.values() for d in lists.values())
    if block_bits == 1:
        assert header["runs"] > total // 3  # many runs
    else:
        assert header["runs"] <= 80 * (300 >> block_bits) + 80


@pytest.mark.parametrize("short_run", [0, 4096])  # looked up run by run / read whole, then masked
@pytest.mark.parametrize("block_bits", [16, 4, 1])
def test_postings_of_the_documents_in_a_mask_are_the_lists_postings_there(tmp_path, monkeypatch, block_bits,
                                                                          short_run):
    """`Sidecar.postings_in` (an And's later parts looked up at its first part's documents) gives
    a list's postings whose documents the mask keeps, with their weights, and the whole list's
    length, for lists of one run or many (blocks of 2^16, 16 and 2 documents)."""
    from array import array

    from paperdesk.core.search import sidecar

    monkeypatch.setattr(sidecar, "BLOCK_BITS", block_bits)
    monkeypatch.setattr(sidecar, "SHORT_RUN", short_run)
    rng = random.Random(block_bits)
    collector = sidecar.Collector()
    written: dict[bytes, list[int]] = {}
    for t in range(30):
        docnums = sorted(rng.sample(range(300), rng.choice([1, 2, 5, 60, 250])))
        written[f"w{t:03d}".encode()] = docnums
        collector.add_list("abstract", f"w{t:03d}".encode(), array("i", docnums),
                           array("f", [float(1 + d % 9) for d in docnums]))
    path = tmp_path / "postings_MAIN_m.npp"
    collector.write(path)
    found = sidecar.Sidecar(path)
    checked = 0
    for share in (0.0, 0.1, 0.5, 1.0):
        keep = np.array([rng.random() < share for _ in range(300)])
        for text, docnums in written.items():
            ids, weights, length = found.postings_in("abstract", text, keep)
            expected = [d for d in docnums if keep[d]]
            assert ids.tolist() == expected and length == len(docnums), (text, share)
            assert weights.tolist() == [float(1 + d % 9) for d in expected]
            checked += len(expected)
    assert checked > 1000
    assert found.postings_in("abstract", b"absent", keep) is None
    assert found.postings_in("title", b"w000", keep) is None


def test_matches_made_from_documents_answer_as_whole_index_ones():
    """A `Matches` made from its documents (a term, a narrowed And) counts, iterates, looks up,
    scales, ranks and adds into an Or exactly as one made from whole-index arrays."""
    from paperdesk.core.search.evaluator import Matches

    size = 50
    docs = np.array([3, 7, 8, 20, 41])
    scores = np.array([0.5, 2.0, 1.25, 2.0, 0.75])
    mask, dense = np.zeros(size, dtype=bool), np.zeros(size)
    mask[docs], dense[docs] = True, scores
    sparse, whole = Matches.of_documents(docs, scores, size), Matches(mask, dense)
    for a, b in ((sparse, whole), (sparse.scaled(3.0), whole.scaled(3.0))):
        assert len(a) == len(b) == 5 and list(a) == list(b) == docs.tolist()
        assert dict(a) == dict(b) and 7 in a and 9 not in a and 50 not in a and -1 not in a
        assert np.array_equal(a.mask, b.mask) and np.array_equal(a.scores, b.scores)
        assert [x.tolist() for x in a.documents()] == [x.tolist() for x in b.documents()]
        assert a.scores_of([20, 3]).tolist() == b.scores_of([20, 3]).tolist()
        assert top(a, 3) == top(b, 3) == [7, 20, 8]  # ties by docnum
        into = [np.zeros(size, dtype=bool), np.ones(size)], [np.zeros(size, dtype=bool), np.ones(size)]
        a.add_to(*into[0])
        b.add_to(*into[1])
        assert all(np.array_equal(x, y) for x, y in zip(*into, strict=True))
    with pytest.raises(KeyError):
        sparse[9]
    assert np.array_equal(sparse.restricted(mask).mask, mask)
    keep = np.zeros(size, dtype=bool)
    keep[[7, 20, 30]] = True
    kept, kept_whole = sparse.restricted(keep), whole.restricted(keep)
    assert list(kept) == list(kept_whole) == [7, 20] and dict(kept) == dict(kept_whole) == {7: 2.0, 20: 2.0}
    assert np.array_equal(kept.scores, kept_whole.scores)
