"""The ranked desk (issue 22): For you order, its explanation, tag suggestions, retraining, rules.

A real library of topic-shaped papers (tests/test_rank.py's), a real window, real keys.
"""

from __future__ import annotations

import random

import pytest

from paperdesk.core import Library
from paperdesk.core.records import SourceBatch
from paperdesk.gui.qt import Qt
from tests.test_rank import TOPICS, _paper


@pytest.fixture
def topic_lib(tmp_path):
    rng = random.Random(7)
    papers = [_paper(rng, list(TOPICS)[n % 4], n) for n in range(160)]
    lib = Library.open(tmp_path / "lib")
    lib.import_batch(SourceBatch("digest", "synthetic", "/synthetic", "2026-11-20", "h-rank", papers))
    topic_of = {pid: list(TOPICS)[int(title.rsplit(" ", 1)[1]) % 4]
                for pid, title in lib.conn.execute("SELECT id, title FROM papers")}
    yield lib, topic_of
    lib.close()


def _likes_rl(lib: Library, topic_of: dict[str, str], n: int = 8) -> None:
    ids = sorted(topic_of)
    lib.star([p for p in ids if topic_of[p] == "rl"][:n])
    lib.archive([p for p in ids if topic_of[p] != "rl"][:n])


def _ranked(window, qtbot) -> str:
    qtbot.waitUntil(lambda: window.papers.ranking != "" and not window.papers.busy, timeout=30_000)
    return window.papers.ranking


def test_for_you_ranks_the_view_off_the_gui_thread_and_keeps_its_order(make_window, topic_lib, qtbot):
    lib, topic_of = topic_lib
    _likes_rl(lib, topic_of)
    window = make_window(lib)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    qtbot.keyClicks(window.table, "r")
    sentence = _ranked(window, qtbot)
    assert sentence.startswith("Ranked by a model of your interest, learnt from 8 kept and 8 archived")
    assert window.statusBar().currentMessage() == sentence
    assert "for you" in window.count_label.text()
    assert "interest" in window.table.horizontalHeader().toolTip()
    ids = list(window.model.ids)
    assert len(ids) == lib.count(status="inbox")
    assert sum(topic_of[p] == "rl" for p in ids[:20]) >= 18  # date order would give ~5
    assert "_ranker" not in window.lib.__dict__  # the GUI thread's library never ranked

    # Decisions never reorder the list under the cursor: the archived paper leaves, the rest stay.
    assert window.current_id() == ids[0]
    qtbot.keyClicks(window.table, "e")
    qtbot.waitUntil(lambda: lib.get(ids[0])["status"] == "archived")
    assert list(window.model.ids) == ids[1:] and window.current_id() == ids[1]
    vision = [p for p in ids if topic_of[p] == "vision"][:3]
    lib.star(vision)  # more decisions: the order stays, the label says how to rank again
    assert list(window.model.ids) == ids[1:]
    assert "r ranks again" in window.count_label.text()
    qtbot.keyClicks(window.table, "uu")  # undo the stars, then the archive: back at its ranked place
    qtbot.waitUntil(lambda: list(window.model.ids) == ids)
    lib.star(vision)

    qtbot.keyClicks(window.table, "r")  # asked again: ranked with the new decisions
    assert window.papers.ranking == ""
    assert "from 11 kept and 8 archived" in _ranked(window, qtbot)
    assert "r ranks again" not in window.count_label.text()


def test_a_triage_session_walks_the_interest_order(make_window, topic_lib, qtbot):
    lib, topic_of = topic_lib
    _likes_rl(lib, topic_of)
    window = make_window(lib)
    window.run_command("for-you")
    _ranked(window, qtbot)
    ids = list(window.model.ids)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    qtbot.keyClicks(window.table, "T")
    assert window.current_id() == ids[0]
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    qtbot.keyClicks(window.table, "e")
    assert window.current_id() == ids[2]
    assert window.triage.session.ids == ids


def test_for_you_from_the_sort_menu_and_back_to_date(make_window, topic_lib, qtbot):
    from paperdesk.gui.sort_order import sort_menu

    lib, _topic_of = topic_lib
    window = make_window(lib)
    menu = sort_menu(window)
    action = next(a for a in menu.actions() if a.text().startswith("For you"))
    assert not action.isChecked()
    action.trigger()
    assert _ranked(window, qtbot).startswith("No kept papers for your interest yet: ranked by upvotes")
    upvotes = [lib.get(p)["upvotes"] for p in window.model.ids[:5]]
    assert upvotes == sorted(upvotes, reverse=True)
    assert next(a for a in sort_menu(window).actions() if a.text().startswith("For you")).isChecked()
    date = next(a for a in sort_menu(window).actions() if a.text() == "Date")
    date.trigger()
    assert not window.papers.by_interest and "for you" not in window.count_label.text()
    assert list(window.model.ids) == lib.paper_ids(order="date", status="inbox")


def test_for_you_over_a_search_ranks_its_matches(make_window, topic_lib, qtbot):
    lib, topic_of = topic_lib
    _likes_rl(lib, topic_of)
    window = make_window(lib)
    window.papers.set_query("study")
    qtbot.waitUntil(lambda: window.model.rowCount() > 0)
    window.run_command("for-you")
    _ranked(window, qtbot)
    ids = list(window.model.ids)
    assert window.papers.last_search is not None and window.papers.last_search.order == "interest"
    assert sum(topic_of[p] == "rl" for p in ids[:10]) >= 9
