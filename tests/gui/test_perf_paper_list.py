"""One read path: every list the desk shows is read on the reader thread; changes patch a few papers.

Widget-free (model + PaperList over a real library); results are compared with a fresh query. The
GUI thread's own connection is traced: it must run no list, search or count query (`listed`).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Iterator

import pytest
from benchmarks.synth_batches import synthetic_batches

from paperdesk.core import Library
from paperdesk.core.changes import Changes
from paperdesk.gui.gil import apply_process_policy
from paperdesk.gui.lazy_ids import LazyIds
from paperdesk.gui.packed_ids import PackedIds
from paperdesk.gui.paper_list import PaperList
from paperdesk.gui.paper_model import PaperModel
from paperdesk.gui.reader_thread import ReaderThread
from paperdesk.gui.views import ALL, ARCHIVE, INBOX, STARRED


@pytest.fixture
def plist(qapp, seeded):
    model = PaperModel(seeded)
    papers = PaperList(seeded, model)
    seeded.subscribe(papers.apply)
    yield papers
    papers.close()


def fresh(lib: Library, papers: PaperList) -> list[str]:
    ids = papers.view.ids(lib, papers.order)
    return ids[::-1] if papers.reversed else ids


def answered(plist: PaperList, qtbot) -> None:
    qtbot.waitUntil(lambda: not plist.busy, timeout=10_000)


@contextlib.contextmanager
def listed(lib: Library) -> Iterator[list[str]]:
    """The list, search and count queries the GUI thread's connection runs in the block (a view's
    ids and counts are `FROM papers p …`; rows by id and sort keys are not)."""
    seen: list[str] = []
    lib.conn.set_trace_callback(lambda sql: seen.append(sql) if "FROM papers p" in sql else None)
    try:
        yield seen
    finally:
        lib.conn.set_trace_callback(None)


@pytest.mark.parametrize(("order", "ascending"), [("date", False), ("date", True), ("added", False),
                                                  ("upvotes", False), ("title", True), ("title", False)])
@pytest.mark.parametrize("packed", [False, True])
def test_archive_and_undo_patch_the_list_in_sorted_place(plist, seeded, qtbot, order, ascending, packed):
    """A short view's list is a tuple; a long one (or one shown backwards) is packed, and patched
    as bytes."""
    if packed:
        plist.head_rows = 100  # the 397-paper Inbox is longer than its head
    plist.set_view(INBOX)
    plist.set_sort(order, ascending)
    answered(plist, qtbot)
    qtbot.waitUntil(lambda: not plist.completing)
    kind = PackedIds if packed or plist.reversed else tuple
    assert isinstance(plist.model.ids, kind)
    lists: list[int] = []  # a new list in the model, at once: patched, not asked of the reader
    plist.reloaded.connect(lambda: lists.append(len(plist.model.ids)))
    with listed(seeded) as queries:
        picked = [plist.model.ids[n] for n in (0, 7, 150, len(plist.model.ids) - 1)]
        seeded.archive(picked)  # leave the Inbox: removed in place
        assert not set(picked) & set(plist.model.ids) and not plist.busy
        assert list(plist.model.ids) == fresh(seeded, plist)
        queries.clear()
        seeded.undo()  # come back: inserted where a fresh query would put them
        assert not plist.busy
        assert list(plist.model.ids) == fresh(seeded, plist)
        queries.clear()
    assert len(lists) == 2 and lists[1] == lists[0] + 4 and isinstance(plist.model.ids, kind)


def test_star_enters_starred_view_and_rows_repaint_without_requery(plist, seeded, qtbot):
    plist.set_view(STARRED)
    answered(plist, qtbot)
    assert list(plist.model.ids) == []
    ids = seeded.paper_ids(limit=3)
    lists: list[int] = []
    plist.reloaded.connect(lambda: lists.append(len(plist.model.ids)))
    seeded.star(ids)  # patched in at once: not asked of the reader
    assert lists == [3] and not plist.busy
    assert list(plist.model.ids) == fresh(seeded, plist) and len(plist.model.ids) == 3
    plist.set_view(ALL)
    answered(plist, qtbot)
    lists.clear()
    with listed(seeded) as queries:
        seeded.tag([ids[0]], ["ml"])  # stays in All: only the row repaints
        assert not plist.busy and lists == []
    assert queries == []
    assert "ml" in plist.model.row_data(plist.model.row_of(ids[0]))["tag_list"]


def test_the_gui_thread_runs_no_list_search_or_count_query(reader_runs, plist, seeded, qtbot):
    """Views, sorts, searches and re-queries after an import, whatever the library's size: all
    read on the reader thread (there is no "small enough to do it here" any more)."""
    with listed(seeded) as queries:
        for view in (INBOX, ALL, STARRED, ARCHIVE, INBOX):
            plist.set_view(view)
            answered(plist, qtbot)
            assert list(plist.model.ids) == fresh(seeded, plist)
        plist.set_sort("title", True)
        answered(plist, qtbot)
        assert list(plist.model.ids) == fresh(seeded, plist)
        plist.set_query("diffusion")
        answered(plist, qtbot)
        assert plist.model.ids and plist.last_search is not None
        plist.set_query("")
        for batch in synthetic_batches(20, per_batch=20, prefix="gui"):
            seeded.import_batch(batch)
        answered(plist, qtbot)
        assert list(plist.model.ids) == fresh(seeded, plist)
        assert reader_runs(plist.reader) == 7  # four views, a sort, a search, the import (the rest: cached)
        fresh_queries = len(queries)  # (the test's own `fresh` lists ran here too)
    assert fresh_queries == 7  # exactly the test's own seven `fresh` calls


def test_id_lists_leave_the_garbage_collectors_reach(plist, seeded, qtbot):
    """A full collection walks every item of a tracked list (~15 ms for 100k ids): the shown and
    cached id lists are tuples, which the collector stops tracking."""
    plist.set_view(ALL)
    answered(plist, qtbot)
    plist.set_view(INBOX)
    qtbot.waitUntil(lambda: not plist.busy and len(plist.model.ids) == 397)
    gc.collect()
    inbox = plist.model.ids
    plist.set_view(ALL)  # listed before: shown at once, the list kept then
    assert not plist.busy and not gc.is_tracked(inbox) and not gc.is_tracked(plist.model.ids)
    # A list longer than its head is completed packed: no object per id for the collector to walk.
    plist.head_rows = 100
    plist.set_sort("title", True)  # not listed in this order yet: read again
    qtbot.waitUntil(lambda: isinstance(plist.model.ids, PackedIds) and not plist.completing)
    held = [r for r in gc.get_referents(plist.model.ids) if gc.is_tracked(r) and not isinstance(r, type)]
    assert len(plist.model.ids) > 100 and held == []


def test_a_big_view_shows_its_first_rows_and_the_reader_completes_it(plist, seeded, qtbot):
    plist.head_rows = 100  # the 397-paper Inbox is longer than its head
    plist.set_view(ALL)
    answered(plist, qtbot)
    resets: list[int] = []
    plist.model.modelReset.connect(lambda: resets.append(1))
    with listed(seeded) as queries:
        plist.set_view(INBOX)
        qtbot.waitUntil(lambda: isinstance(plist.model.ids, LazyIds) or not plist.busy)
        expected = fresh(seeded, plist)
        shown = plist.model.ids
        if isinstance(shown, LazyIds):  # (the completer may have answered already)
            assert len(shown) == len(expected) == 397 and list(shown.head) == expected[:100]
            assert plist.model.id_at(5) == expected[5]
        qtbot.waitUntil(lambda: not plist.completing)
        assert isinstance(plist.model.ids, PackedIds) and list(plist.model.ids) == expected
        queries.pop(-1)  # the test's own `fresh`
    assert resets == [1]  # the switch reset the list; its completion did not
    assert queries == []  # the GUI thread never read a list


def test_a_row_past_the_head_comes_from_the_completer_not_a_query_here(plist, seeded, qtbot):
    plist.head_rows = 100
    plist.set_view(ALL)
    answered(plist, qtbot)
    expected_inbox = INBOX.ids(seeded, plist.order)
    with listed(seeded) as queries:
        plist.set_view(INBOX)
        answered(plist, qtbot)
        assert plist.model.id_at(300) == expected_inbox[300]  # waits for the completer, if need be
        assert isinstance(plist.model.ids, PackedIds) or plist.model.ids.complete
        assert plist.model.row_of(expected_inbox[-1]) == len(expected_inbox) - 1
    assert queries == []  # the GUI thread read no list
    qtbot.waitUntil(lambda: not plist.completing)
    assert isinstance(plist.model.ids, PackedIds) and list(plist.model.ids) == expected_inbox


def test_a_change_while_the_list_is_incomplete_leaves_it_right(plist, seeded, qtbot):
    plist.head_rows = 100
    plist.set_view(ALL)
    answered(plist, qtbot)
    gate = threading.Event()
    plist.completer.submit("block", lambda _lib: gate.wait(10))  # the rest comes late
    plist.set_view(INBOX)
    answered(plist, qtbot)
    assert isinstance(plist.model.ids, LazyIds) and not plist.model.ids.complete
    first, last = plist.model.ids[0], fresh(seeded, plist)[-1]
    seeded.archive([first, last])  # one in the head, one past it: the reader lists it again
    gate.set()
    qtbot.waitUntil(lambda: not plist.busy and not plist.completing)
    assert list(plist.model.ids) == fresh(seeded, plist) and len(plist.model.ids) == 395
    assert first not in plist.model.ids and last not in plist.model.ids


def test_a_completed_list_is_kept_and_read_again_after_a_change(plist, seeded, qtbot):
    plist.head_rows = 100
    plist.set_view(ALL)
    answered(plist, qtbot)
    plist.set_view(INBOX)
    answered(plist, qtbot)
    plist.set_query("diffusion")  # a search does not cancel the completion
    qtbot.waitUntil(lambda: not plist.completing and not plist.busy)
    plist.set_query("")  # the completed list was kept: shown at once
    assert not plist.busy and list(plist.model.ids) == fresh(seeded, plist)
    plist.set_sort("title", True)  # an order not listed yet: the Inbox is read again below
    plist.set_view(ALL)
    answered(plist, qtbot)
    gate = threading.Event()
    plist.completer.submit("block", lambda _lib: gate.wait(10))
    plist.set_view(INBOX)
    answered(plist, qtbot)
    lazy = plist.model.ids
    assert isinstance(lazy, LazyIds)
    seeded.tag([lazy[0]], ["x"])
    # a change that moves no paper: the list stays lazy, and is read again after it
    assert plist.model.ids is lazy and not plist.busy
    gate.set()
    qtbot.waitUntil(lambda: isinstance(plist.model.ids, PackedIds) and not plist.completing)
    assert list(plist.model.ids) == fresh(seeded, plist)
    plist.set_view(ALL)
    answered(plist, qtbot)
    plist.set_view(INBOX)  # the list read after the change was kept: shown at once
    assert not plist.busy and list(plist.model.ids) == fresh(seeded, plist)


def test_papers_added_while_the_list_is_incomplete_are_read_once(reader_runs, plist, seeded, qtbot):
    plist.head_rows = 100
    plist.set_view(ALL)
    qtbot.waitUntil(lambda: not plist.busy and not plist.completing)
    served = reader_runs(plist.completer)
    plist.set_view(INBOX)
    for batch in synthetic_batches(50, per_batch=50, prefix="lazy"):
        seeded.import_batch(batch)  # added: the reader's re-query replaces the list
    qtbot.waitUntil(lambda: not plist.busy and not plist.completing)
    assert list(plist.model.ids) == fresh(seeded, plist) and len(plist.model.ids) == 447
    assert reader_runs(plist.completer) <= served + 1  # a stale completion is not read again


def test_a_requery_after_a_change_keeps_the_old_list_until_the_reader_answers(plist, seeded, qtbot):
    plist.set_view(ALL)
    answered(plist, qtbot)
    before = list(plist.model.ids)
    with Library.open(seeded.folder) as writer:  # another connection, as the writer thread has
        for batch in synthetic_batches(300, per_batch=100, prefix="bg"):
            writer.import_batch(batch)
        changes = Changes(added=frozenset(writer.paper_ids(order="added", limit=300)), sources=True)
    with listed(seeded) as queries:
        plist.apply(changes)
        assert list(plist.model.ids) == before  # the GUI thread did not query: the old list stays meanwhile
        with qtbot.waitSignal(plist.reloaded, timeout=10_000):
            pass
    assert queries == []
    assert list(plist.model.ids) == fresh(seeded, plist) and len(plist.model.ids) == 697


def test_a_newer_view_wins_over_an_answer_already_running(plist, seeded, qtbot):
    plist.set_view(ALL)
    answered(plist, qtbot)
    gate = threading.Event()
    plist.reader.submit("block", lambda _lib: gate.wait(10))  # the reader is busy with this
    plist.reload()  # queued behind it: the All list
    plist.set_view(ARCHIVE)  # the pending All answer must not replace it
    gate.set()
    answered(plist, qtbot)
    assert plist.view is ARCHIVE and list(plist.model.ids) == []


def test_a_change_while_a_list_is_on_its_way_is_not_patched_into_the_old_one(plist, seeded, qtbot):
    plist.set_view(INBOX)
    answered(plist, qtbot)
    gate = threading.Event()
    plist.reader.submit("block", lambda _lib: gate.wait(10))
    plist.set_view(STARRED)  # asked for; the Inbox is still shown
    pid = plist.model.ids[0]
    seeded.star([pid])  # must not be patched into the Inbox list shown meanwhile
    gate.set()
    answered(plist, qtbot)
    assert list(plist.model.ids) == [pid] == fresh(seeded, plist)


def test_reader_thread_drops_stale_answers_and_cannot_write(qapp, seeded, qtbot, reader_runs):
    reader = ReaderThread(seeded.folder)
    got: list[object] = []
    started, gate = threading.Event(), threading.Event()

    def slow(lib):  # answers only after a newer request was made: its answer is stale on arrival
        started.set()
        gate.wait(10)
        return lib.count()

    reader.submit("x", slow, lambda value, error: got.append(("old", value)))
    assert started.wait(10)
    reader.submit("x", lambda lib: lib.count(status="inbox"), lambda value, error: got.append(("new", value)))
    gate.set()
    qtbot.waitUntil(lambda: not reader.pending("x"), timeout=10_000)
    assert got == [("new", 397)] and reader_runs(reader) == 2
    errors: list[str] = []
    reader.submit("w", lambda lib: lib.conn.execute("DELETE FROM papers"), lambda _v, e: errors.append(e))
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert "readonly" in errors[0].lower() or "read-only" in errors[0].lower()
    assert seeded.count() == 397
    reader.close()


def test_a_list_asked_for_runs_before_background_requests_queued_earlier(qapp, seeded, qtbot):
    """At start the window asks for the sidebar's counts and the index's warming before the list;
    the list must not wait behind them (at 1M papers it waited ~1.4 s behind the warming)."""
    reader = ReaderThread(seeded.folder)
    ran: list[str] = []
    started, gate = threading.Event(), threading.Event()

    def busy(_lib):
        started.set()
        gate.wait(10)

    reader.submit("block", busy)
    assert started.wait(10)  # the reader is busy: what follows queues
    reader.submit("warm", lambda _lib: ran.append("warm"), background=True)
    reader.submit("sidebar", lambda _lib: ran.append("sidebar"), background=True)
    reader.submit("list", lambda _lib: ran.append("list"))
    gate.set()
    qtbot.waitUntil(lambda: len(ran) == 3)
    assert ran == ["list", "warm", "sidebar"]  # the list first, then the background in their order
    reader.close()


def test_warm_search_opens_the_index_on_the_reader_thread(plist, seeded, qtbot, monkeypatch):
    from paperdesk.core.search.index import SearchIndex

    seeded.search.update()  # an index on disk, as a window finds it at start
    opened: list[tuple[threading.Thread, object]] = []  # each view of an index asked for, and where
    view_of = SearchIndex.view

    def recorded(index: SearchIndex) -> object:
        view = view_of(index)
        opened.append((threading.current_thread(), view))
        return view

    monkeypatch.setattr(SearchIndex, "view", recorded)
    seen: list[object] = []
    plist.reader.submit("probe", lambda _rlib: threading.current_thread(),
                        lambda value, error: seen.append(error or value))
    qtbot.waitUntil(lambda: bool(seen))
    reader = seen[0]
    assert isinstance(reader, threading.Thread) and reader is not threading.main_thread()
    assert opened == []  # nothing opens the index by itself
    assert gc.get_freeze_count() == 0  # (the autouse fixture unfreezes after each test)
    apply_process_policy()  # as the desk's make_app does: no full collection starts off the GUI thread
    full: list[str] = []  # full collections on the reader: each holds the GIL for all the heap

    def watch(phase: str, info: dict) -> None:
        thread = threading.current_thread()
        if phase == "start" and info["generation"] == 2 and thread is not threading.main_thread():
            full.append(thread.name)

    gc.callbacks.append(watch)
    try:
        plist.warm_search()
        # What the desk keeps for good is then out of reach of full collections (see gui/gil.py).
        qtbot.waitUntil(lambda: gc.get_freeze_count() > 1000)
        # The reader's next search uses the view the warming made: it opens nothing more.
        plist.reader.submit("probe", lambda rlib: rlib.search.index.view(),
                            lambda value, error: seen.append(error or value))
        qtbot.waitUntil(lambda: len(seen) == 2)
    finally:
        gc.callbacks.remove(watch)
    assert len(opened) == 2 and all(thread is reader for thread, _view in opened)
    assert opened[0][1] is opened[1][1] is seen[1] and full == []


def test_the_desk_application_hands_the_gil_over_quickly(qapp):
    from paperdesk.gui.app import make_app
    from paperdesk.gui.gil import SWITCH_INTERVAL_S

    sys.setswitchinterval(0.005)
    make_app()
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)


def test_a_search_already_superseded_is_dropped_and_the_newer_is_shown_within_the_view(
        plist, seeded, qtbot, monkeypatch):
    """A keystroke's search that ends after a newer keystroke was asked for is dropped (not
    ordered, not shown): the reader goes on to the newer query, whose hits are the view's own
    best (searched within the Inbox, not the library's best then filtered)."""
    from paperdesk.core.view_filter import ViewFilter
    from paperdesk.gui import paper_list

    seeded.search.update()
    plist.set_view(INBOX)
    answered(plist, qtbot)
    events: list[str] = []
    started, gate = threading.Event(), threading.Event()
    real_run, real_order = paper_list.run_search, paper_list.order_search

    def run(lib, query, **kw):
        events.append(f"search {query}")
        found = real_run(lib, query, **kw)
        if query == "language":
            started.set()
            gate.wait(10)
        return found

    def order(lib, outcome, query, *args):
        events.append(f"order {query}")
        return real_order(lib, outcome, query, *args)

    monkeypatch.setattr(paper_list, "run_search", run)
    monkeypatch.setattr(paper_list, "order_search", order)
    plist.set_query("language")
    assert started.wait(10)
    plist.set_query("language model")  # typed while the first search runs
    gate.set()
    answered(plist, qtbot)
    assert events == ["search language", "search language model", "order language model"]
    inbox = ViewFilter(status="inbox")
    expected = [h.id for h in seeded.search.run("language model", limit=1000, within=inbox).hits]
    assert list(plist.model.ids) == expected and expected


def test_an_interrupted_request_stops_its_sql_and_is_not_answered(qapp, seeded, qtbot):
    reader = ReaderThread(seeded.folder)
    got: list[tuple] = []
    started, ended = threading.Event(), threading.Event()

    def endless(lib):
        started.set()
        try:
            return lib.conn.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                                    "SELECT count(*) FROM c").fetchone()
        finally:
            ended.set()

    reader.submit("complete", endless, lambda value, error: got.append(("complete", error)))
    assert started.wait(10)
    # (asked again until it lands: one asked before the statement starts running stops nothing)
    qtbot.waitUntil(lambda: reader.supersede("complete", stop_running=True) or ended.wait(0.05),
                    timeout=10_000)
    reader.submit("x", lambda lib: lib.count(), lambda value, error: got.append(("x", value)))
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    assert got == [("x", 397)] and not reader.pending("complete")
    reader.close()


def test_a_search_shown_stops_the_completion_of_the_view_it_replaced(plist, seeded, qtbot, monkeypatch):
    """A big view's whole list read for the list a search has replaced would slow the next
    keystrokes (at 1M papers ~2 s of reading beside them): it is stopped, and the view is read
    again when the search is cleared."""
    from paperdesk.gui import paper_list

    seeded.search.update()
    plist.head_rows = 100  # the 397-paper Inbox is longer than its head
    plist.set_view(ALL)
    answered(plist, qtbot)
    started = threading.Event()
    real_whole_view = paper_list.whole_view

    def slow_whole_view(lib, view, order):
        started.set()
        lib.conn.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                         "SELECT count(*) FROM c").fetchone()  # until interrupted
        return real_whole_view(lib, view, order)

    monkeypatch.setattr(paper_list, "whole_view", slow_whole_view)
    plist.set_view(INBOX)
    qtbot.waitUntil(started.is_set, timeout=10_000)  # (the head's answer asks for the rest)
    assert isinstance(plist.model.ids, LazyIds) and plist.completing
    plist.set_query("language")
    qtbot.waitUntil(lambda: not plist.busy and not plist.completing, timeout=10_000)
    expected = INBOX.within(seeded, [h.id for h in seeded.search.run("language", limit=1000).hits])
    assert list(plist.model.ids) == expected and expected
    monkeypatch.setattr(paper_list, "whole_view", real_whole_view)
    plist.set_query("")  # the Inbox again, read anew
    qtbot.waitUntil(lambda: not plist.busy and not plist.completing, timeout=10_000)
    assert list(plist.model.ids) == fresh(seeded, plist) and len(plist.model.ids) == 397
