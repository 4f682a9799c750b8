"""The ranked desk: For you order, its explanation, tag suggestions, retraining, rules.

A real library of topic-shaped papers (tests/test_rank.py's), a real window, real keys.
"""

from __future__ import annotations

import random

import pytest
from desk_keys import settle_desks

from paperdesk.core import Library
from paperdesk.core.changes import Changes
from paperdesk.core.rank.ranker import Ranker
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
    assert window.statusBar().currentMessage().startswith(sentence)
    # Then the model's strongest words join it (made on the ranker thread with the list's figures).
    qtbot.waitUntil(lambda: "strongest words: " in window.statusBar().currentMessage(), timeout=30_000)
    status = window.statusBar().currentMessage()
    assert status.startswith(sentence + " · few decisions yet (8 kept)")
    strongest = status.split("strongest words: ")[1].split("; ")[0].split(", ")
    assert set(strongest) & set(TOPICS["rl"].split()), status
    assert "Its strongest words: " in window.count_label.toolTip()
    assert "for you" in window.count_label.text()
    assert "interest" in window.table.horizontalHeader().toolTip()
    ids = list(window.model.ids)
    assert len(ids) == lib.count(status="inbox")
    assert sum(topic_of[p] == "rl" for p in ids[:20]) >= 18  # date order would give ~5
    assert not window.lib.ranked  # the GUI thread's library never ranked

    # Decisions never reorder the list under the cursor: the archived paper leaves, the rest stay.
    assert window.selection.current_id() == ids[0]
    qtbot.keyClicks(window.table, "e")
    qtbot.waitUntil(lambda: lib.get(ids[0])["status"] == "archived")
    settle_desks(qtbot)  # (its Changes reach the list)
    assert list(window.model.ids) == ids[1:] and window.selection.current_id() == ids[1]
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
    assert window.selection.current_id() == ids[0]
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    qtbot.keyClicks(window.table, "e")
    assert window.selection.current_id() == ids[2]
    assert list(window.triage.session.ids) == ids


def test_for_you_from_the_sort_menu_and_back_to_date(make_window, topic_lib, qtbot):
    from paperdesk.gui.sort_order import sort_menu

    lib, _topic_of = topic_lib
    window = make_window(lib)
    menu = sort_menu(window.papers, window)
    action = next(a for a in menu.actions() if a.text().startswith("For you"))
    assert not action.isChecked()
    action.trigger()
    assert _ranked(window, qtbot).startswith("No kept papers for your interest yet: ranked by upvotes")
    upvotes = [lib.get(p)["upvotes"] for p in window.model.ids[:5]]
    assert upvotes == sorted(upvotes, reverse=True)
    menu = sort_menu(window.papers, window)
    assert next(a for a in menu.actions() if a.text().startswith("For you")).isChecked()
    date = next(a for a in sort_menu(window.papers, window).actions() if a.text() == "Date")
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


def _on_ranker(window, qtbot, fn):
    """Run `fn(lib)` on the desk's ranker thread and return its value."""
    got = []
    window.papers.ranker.submit("probe", fn, lambda value, error: got.append((value, error)))
    qtbot.waitUntil(lambda: bool(got), timeout=30_000)
    assert got[0][1] == ""
    return got[0][0]


def test_the_reader_says_why_a_paper_is_for_you(make_window, topic_lib, qtbot, monkeypatch):
    lib, topic_of = topic_lib
    _likes_rl(lib, topic_of)
    window = make_window(lib)
    label = window.reader.for_you
    assert label.text() == ""  # never ranked: nothing featurised unasked
    assert not (lib.folder / "rank").exists()
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    qtbot.keyClicks(window.table, "r")
    _ranked(window, qtbot)
    first = window.selection.current_id()
    qtbot.waitUntil(lambda: label.text().startswith("For you (") and bool(window.for_you.figures.by_id))
    figure = window.for_you.figures.by_id[first]
    assert label.text().startswith(f"For you ({figure}): ") and figure >= 90  # its place in the library
    words = set(label.text().split(": ", 1)[1].replace(";", ",").replace("−", "").split(", "))
    assert words & set(TOPICS["rl"].split()), label.text()  # the rl words raised it
    assert topic_of[first] == "rl"
    explained: list[str] = []  # papers the ranker thread explained
    explain = Ranker.explain
    monkeypatch.setattr(Ranker, "explain", lambda self, paper, *a, **k: (
        explained.append(paper["id"]), explain(self, paper, *a, **k))[1])
    qtbot.keyClicks(window.table, "j")
    second = window.selection.current_id()
    assert second != first
    qtbot.waitUntil(lambda: explained == [second] and label.text() != "")
    qtbot.keyClicks(window.table, "k")  # back: the same paper and model, answered from the cache
    qtbot.waitUntil(lambda: label.text().startswith("For you (") and window.selection.current_id() == first)
    assert explained == [second]
    assert not window.lib.ranked


def test_decisions_retrain_once_they_pause_off_the_gui_thread(make_window, topic_lib, qtbot, monkeypatch):
    lib, topic_of = topic_lib
    _likes_rl(lib, topic_of)
    window = make_window(lib)
    window.run_command("for-you")
    _ranked(window, qtbot)
    assert _on_ranker(window, qtbot, lambda rlib: rlib.ranker.model(retrain=False).positives) == 8
    window.for_you.retrain_timer.setInterval(800)
    asked: list[str] = []  # what the window asked of the ranker thread
    submit = window.papers.ranker.submit
    monkeypatch.setattr(window.papers.ranker, "submit",
                        lambda channel, *args: (asked.append(channel), submit(channel, *args)))
    labelled = set(lib.paper_ids(starred=True)) | set(lib.paper_ids(status="archived"))
    fresh = [p for p in window.model.ids if topic_of[p] == "graphs" and p not in labelled][:3]
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    for pid in fresh:  # three decisions in a row
        assert window.selection.select_id(pid)
        qtbot.keyClicks(window.table, "s")
        settle_desks(qtbot)  # the star is stored (a job on the writer) and its Changes arrived
    assert "retrain" not in asked and window.for_you.retrain_timer.isActive()
    qtbot.waitUntil(lambda: "retrain" in asked)
    assert _on_ranker(window, qtbot, lambda rlib: rlib.ranker.model(retrain=False).positives) == 11
    assert asked.count("retrain") == 1  # one retraining for the three
    assert list(window.model.ids)[:3] != fresh  # and the list kept its order
    assert not window.lib.ranked


def test_the_tag_popup_offers_likely_tags_and_return_accepts_them(make_window, topic_lib, qtbot, reader_runs):
    lib, topic_of = topic_lib
    ids = sorted(topic_of)
    rl = [p for p in ids if topic_of[p] == "rl"]
    vision = [p for p in ids if topic_of[p] == "vision"]
    speech = [p for p in ids if topic_of[p] == "speech"]
    lib.tag(rl[:3], ["rl"])  # three papers are enough to be offered
    lib.tag(vision[:8], ["vision"])
    lib.tag(vision[8:10], ["rare"])  # two papers: never suggested
    lib.archive([p for p in ids if topic_of[p] in ("speech", "graphs")][:10])
    window = make_window(lib)
    window.run_command("for-you")
    _ranked(window, qtbot)
    target = rl[20]
    assert window.selection.select_id(target)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    qtbot.keyClicks(window.table, "t")
    popup = window.writes.tag_popup
    qtbot.waitUntil(popup.likely_label.isVisible, timeout=30_000)
    assert popup.likely == ["rl"], popup.likely
    text = popup.likely_label.text()
    assert "likely #rl</b> (" in text  # with the words the paper shares with the #rl papers
    shared = text.split("</b> (")[1].split(")")[0].split(", ")
    assert len(shared) == 3 and set(shared) & set(TOPICS["rl"].split()), text
    label = popup.likely_label  # shown whole: the popup grew for the wrapped line
    assert label.height() >= label.heightForWidth(label.width())
    assert label.geometry().bottom() <= popup.contentsRect().bottom()
    qtbot.keyClick(popup.field, Qt.Key.Key_Return)  # the one key that accepts
    qtbot.waitUntil(lambda: lib.get(target)["tags"] == ["rl"])
    settle_desks(qtbot)
    qtbot.keyClicks(window.table, "u")  # and one key undoes it
    qtbot.waitUntil(lambda: lib.get(target)["tags"] == [])

    # A paper like none of the tags' papers is offered none of them.
    assert window.selection.select_id(speech[20])
    served = reader_runs(window.papers.ranker)
    qtbot.keyClicks(window.table, "t")
    other = window.writes.tag_popup
    assert other is not popup
    ranker = window.papers.ranker
    qtbot.waitUntil(lambda: reader_runs(ranker) > served and not ranker.pending("suggest"), timeout=30_000)
    settle_desks(qtbot)
    assert other.likely == [] and not other.likely_label.isVisible()


def test_a_library_never_ranked_gets_no_suggestions(make_window, topic_lib, qtbot, reader_runs):
    lib, topic_of = topic_lib
    rl = sorted(p for p in topic_of if topic_of[p] == "rl")
    lib.tag(rl[:8], ["rl"])
    window = make_window(lib)
    assert window.selection.select_id(rl[20])
    window.run_command("tag")
    qtbot.keyClick(window.writes.tag_popup.field, Qt.Key.Key_Return)  # empty: nothing to accept, nothing done
    assert lib.get(rl[20])["tags"] == [] and not window.writes.tag_popup.likely_label.isVisible()
    assert not (lib.folder / "rank").exists() and reader_runs(window.papers.ranker) == 0


def test_rules_dialog_refuses_a_bad_query_previews_runs_undoably_and_removes(make_window, topic_lib, qtbot):
    from paperdesk.core.rank import rules

    lib, topic_of = topic_lib
    window = make_window(lib)
    window.run_command("rules")
    dialog = window.dialogs.top()
    qtbot.keyClicks(dialog.name, "rl papers")
    qtbot.keyClicks(dialog.query, "abstract:(reward")
    assert "cannot use query" in dialog.problem.text() and not dialog.save_button.isEnabled()
    dialog.query.clear()
    qtbot.keyClicks(dialog.query, "reward exploration")
    assert "needs an action" in dialog.problem.text()  # the query is fine now, the actions are not
    qtbot.keyClicks(dialog.tags, "rl")
    assert dialog.problem.text() == "" and dialog.save_button.isEnabled()
    assert not dialog.run_button.isEnabled()  # nothing previewed yet
    dialog.save_button.click()  # through the window's one write path (the writer thread)
    qtbot.waitUntil(lambda: dialog.rules.count() == 1)
    assert [(r.name, r.query, r.actions) for r in rules.list_rules(lib)] == [
        ("rl papers", "reward exploration", [{"do": "tag", "tag": "rl"}])]
    assert dialog.remove_button.isEnabled()

    dialog.preview_button.click()
    qtbot.waitUntil(dialog.run_button.isEnabled, timeout=30_000)
    expected = [h.id for h in lib.search.run("reward exploration is:inbox", limit=None, typing=False).hits]
    assert expected and all(topic_of[p] == "rl" for p in expected)
    assert dialog.summary.text().startswith(f"Would tag #rl {len(expected)} papers in the Inbox")
    assert dialog.matched.count() == len(expected)
    assert lib.paper_ids(tag="rl") == []  # a preview changes nothing
    dialog.run_button.click()
    qtbot.waitUntil(lambda: sorted(lib.paper_ids(tag="rl")) == sorted(expected))
    assert lib.conn.execute("SELECT label FROM operations ORDER BY id DESC LIMIT 1").fetchone()[0] == \
        "Rule rl papers: tag #rl"
    window.run_command("undo")  # one step undoes the rule's action
    qtbot.waitUntil(lambda: lib.paper_ids(tag="rl") == [])

    dialog.remove_button.click()
    qtbot.waitUntil(lambda: dialog.rules.count() == 0)
    assert rules.list_rules(lib) == []


def test_return_after_running_a_rule_does_not_remove_it(make_window, topic_lib, qtbot):
    """Run on the Inbox went grey under the keyboard focus, which fell to Remove rule: the next
    Return removed the rule just run (seen in a real window). Nor does a fresh form open on an error."""
    from paperdesk.core.rank import rules

    lib, _topic_of = topic_lib
    window = make_window(lib)
    window.run_command("rules")
    dialog = window.dialogs.top()
    assert dialog.problem.text() == ""  # nothing typed yet: nothing wrong yet
    qtbot.keyClicks(dialog.name, "rl papers")
    qtbot.keyClicks(dialog.query, "reward exploration")
    qtbot.keyClicks(dialog.tags, "rl")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.rules.count() == 1)
    dialog.preview_button.click()
    qtbot.waitUntil(dialog.run_button.isEnabled, timeout=30_000)
    dialog.run_button.setFocus()
    qtbot.keyClick(dialog.run_button, Qt.Key.Key_Space)  # run it from the keyboard
    qtbot.waitUntil(lambda: bool(lib.paper_ids(tag="rl")))
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.jobs.busy)  # a removal would have been queued by now
    assert [r.name for r in rules.list_rules(lib)] == ["rl papers"]


def test_rules_act_on_papers_imported_in_the_desk_once_indexed(make_window, lib, qtbot):
    from paperdesk.core.rank import rules
    from tests.conftest import DIGEST_BLOCKS

    rules.add_rule(lib, "gen", "diffusion", rules.make_actions(["gen"], star=True))
    window = make_window(lib)
    window.imports.import_files([DIGEST_BLOCKS])
    qtbot.waitUntil(lambda: len(lib.paper_ids(tag="gen")) == 2, timeout=60_000)
    qtbot.waitUntil(lambda: not window.jobs.busy, timeout=60_000)
    tagged = sorted(lib.paper_ids(tag="gen"))
    assert tagged == sorted(h.id for h in lib.search.run("diffusion", limit=None, typing=False).hits)
    assert sorted(lib.paper_ids(starred=True)) == tagged
    assert "gen acted on 2" in window.statusBar().currentMessage()
    assert not rules.behind(lib)  # run once: the next indexing finds nothing to do


def test_rules_dialog_refuses_long_names_tags_and_queries_in_one_line(make_window, topic_lib, qtbot):
    from paperdesk.core.rank import rules

    lib, _topic_of = topic_lib
    window = make_window(lib)
    window.run_command("rules")
    dialog = window.dialogs.top()
    qtbot.keyClicks(dialog.query, "reward")
    qtbot.keyClicks(dialog.tags, "rl")
    dialog.name.setText("n" * 81)
    assert dialog.problem.text() == "a rule's name is at most 80 characters (this one has 81)"
    assert not dialog.save_button.isEnabled() and not dialog.preview_button.isEnabled()
    dialog.name.setText("n" * 80)
    assert dialog.problem.text() == "" and dialog.save_button.isEnabled()
    dialog.tags.setText("t" * 101)
    assert dialog.problem.text() == "a tag is at most 100 characters (this one has 101)"
    dialog.tags.setText("rl")
    dialog.query.setText("reward " * 150)
    assert dialog.problem.text().startswith("a rule's query is at most 1000 characters")
    assert not dialog.save_button.isEnabled()
    dialog.save()  # (as a key or a stray click would): refused, nothing written
    assert dialog.problem.text().startswith("a rule's query is at most 1000 characters")
    assert "\n" not in dialog.problem.text()
    assert rules.list_rules(lib) == [] and not window.jobs.busy


def _figure_spot(window, row: int):
    """The middle of row `row`'s figure (the title cell's right end), in viewport coordinates."""
    from paperdesk.gui.paper_delegate import FIGURE_WIDTH, TITLE

    table = window.table
    x = table.columnViewportPosition(TITLE) + table.columnWidth(TITLE) - FIGURE_WIDTH // 2
    return x, table.rowViewportPosition(row) + table.rowHeight(row) // 2


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")  # the offscreen tooltip
def test_the_list_shows_each_papers_figure_and_explains_it_never_moving_a_row(make_window, topic_lib, qtbot):
    from paperdesk.gui.paper_delegate import FIGURE_WIDTH, TITLE
    from paperdesk.gui.qt import QEvent, QHelpEvent, QPoint, QToolTip

    lib, topic_of = topic_lib
    _likes_rl(lib, topic_of)
    window = make_window(lib)
    assert window.for_you.painter.figures == {}  # never ranked: no figures, nothing featurised
    window.run_command("for-you")
    _ranked(window, qtbot)
    qtbot.waitUntil(lambda: bool(window.table.rows_painter.figures), timeout=30_000)
    ids = list(window.model.ids)
    figures = window.table.rows_painter.figures
    assert set(figures) == set(topic_of) and all(0 <= f <= 100 for f in figures.values())
    shown = [figures[p] for p in ids]
    assert shown[:10] == sorted(shown[:10], reverse=True) and min(shown[:20]) >= 80  # the ranked top
    assert sum(figures[p] >= 75 for p in ids if topic_of[p] == "rl") >= 0.8 * sum(
        topic_of[p] == "rl" for p in ids)

    # Painted: the figure's cell shows the bar (it differs from the same row painted without figures).
    table = window.table
    x, y = _figure_spot(window, 0)
    spot = (x - FIGURE_WIDTH // 2, table.rowViewportPosition(0), FIGURE_WIDTH, table.rowHeight(0))
    with_figures = table.viewport().grab().copy(*spot).toImage()
    window.for_you.painter.set_figures({})
    without = table.viewport().grab().copy(*spot).toImage()
    window.for_you.painter.set_figures(figures)
    assert with_figures != without

    # Hovering the figure explains it, from the ranker thread.
    QToolTip.hideText()
    at = QPoint(x, y)
    window.table.viewportEvent(QHelpEvent(QEvent.Type.ToolTip, at, table.viewport().mapToGlobal(at)))
    qtbot.waitUntil(QToolTip.isVisible, timeout=30_000)
    tip = QToolTip.text()
    assert tip.startswith(f"For you: {figures[ids[0]]} — "), tip
    assert set(tip.split(" — ")[1].split("\n")[0].replace(";", ",").split(", ")) & set(TOPICS["rl"].split())
    assert f"above {figures[ids[0]]}% of your library" in tip
    QToolTip.hideText()
    # Elsewhere in the title: the title's own tooltip, as before.
    title_x = table.columnViewportPosition(TITLE) + 20
    assert window.table.rows_painter.figure_at(ids[0], title_x, table.columnViewportPosition(TITLE),
                                               table.columnWidth(TITLE)) is None

    # Decisions retrain and bring new figures; the list keeps its order.
    window.for_you.retrain_timer.setInterval(200)
    lib.star([p for p in ids if topic_of[p] == "graphs"][:3])
    window.on_changes(Changes(papers=frozenset(ids[-3:])))
    qtbot.waitUntil(lambda: window.table.rows_painter.figures is not figures, timeout=30_000)
    assert list(window.model.ids) == ids
    assert window.table.rows_painter.figures is not figures

    # Any view, once a model exists: in date order the figures stay.
    window.papers.set_sort("date", False)
    assert not window.papers.by_interest
    qtbot.waitUntil(lambda: not window.reading)  # the list comes from the reader thread
    assert list(window.model.ids) == lib.paper_ids(order="date", status="inbox")
    assert window.table.rows_painter.figures and not window.lib.ranked  # (the GUI thread's library)


def test_figures_come_back_in_a_library_ranked_before(make_window, topic_lib, qtbot):
    lib, topic_of = topic_lib
    _likes_rl(lib, topic_of)
    lib.ranker.refresh()  # ranked before (features on disk), e.g. by `paperdesk rank`
    window = make_window(lib)
    qtbot.waitUntil(lambda: len(window.table.rows_painter.figures) == len(topic_of), timeout=30_000)
    assert not window.papers.by_interest  # the order is still the user's choice


def test_few_kept_papers_say_so_and_rank_by_likeness(make_window, topic_lib, qtbot):
    lib, topic_of = topic_lib
    rl = sorted(p for p in topic_of if topic_of[p] == "rl")
    lib.star(rl[:3])
    window = make_window(lib)
    window.run_command("for-you")
    sentence = _ranked(window, qtbot)
    assert sentence.startswith("Only 3 kept papers for your interest (a model needs 5): ranked by likeness")
    assert window.statusBar().currentMessage().startswith(sentence)
    ids = list(window.model.ids)
    assert sum(topic_of[p] == "rl" for p in ids[:10]) >= 9
    window.selection.select_id(ids[0])
    label = window.reader.for_you
    qtbot.waitUntil(lambda: label.text().startswith("Like your kept papers: "), timeout=30_000)


def test_a_tag_over_the_cap_is_refused_in_one_line(make_window, topic_lib, qtbot):
    lib, topic_of = topic_lib
    window = make_window(lib)
    target = sorted(topic_of)[0]
    assert window.selection.select_id(target)
    window.run_command("tag")
    qtbot.keyClicks(window.writes.tag_popup.field, "t" * 101)
    qtbot.keyClick(window.writes.tag_popup.field, Qt.Key.Key_Return)
    assert window.statusBar().currentMessage() == "a tag is at most 100 characters (this one has 101)"
    assert not window.jobs.busy
    settle_desks(qtbot)
    assert lib.get(target)["tags"] == [] and lib.tag_counts() == {}


@pytest.mark.parametrize("listed", ["listed", "too big to list"])
def test_papers_another_process_deletes_leave_the_for_you_list(make_window, topic_lib, qtbot, monkeypatch,
                                                                listed):
    """An undone import in a shell removes its papers from a list in interest order, also when the
    operation is too big to list (`Changes.everything`: the view is ranked again). Found in review:
    the deleted papers stayed as "(deleted)" rows and the count said 12 too many."""
    from paperdesk.core import ops

    lib, topic_of = topic_lib
    _likes_rl(lib, topic_of)
    other = Library.open(lib.folder)
    other.origin = "cli:test"
    try:
        papers = [_paper(random.Random(99), "rl", 1000 + n) for n in range(12)]
        other.import_batch(SourceBatch("digest", "extra", "/extra", "2026-11-21", "h-extra", papers))
        new = {pid for (pid,) in other.conn.execute("SELECT id FROM papers")} - set(topic_of)
        window = make_window(lib)
        qtbot.waitUntil(lambda: window.outside.stamp is not None)
        window.table.setFocus()
        qtbot.waitUntil(window.table.hasFocus)
        qtbot.keyClicks(window.table, "r")
        _ranked(window, qtbot)
        assert len(new) == 12 and new <= set(window.model.ids)
        if listed != "listed":
            monkeypatch.setattr(ops, "LISTED_ROWS", 0)
        other.undo(own=True)
        qtbot.waitUntil(lambda: not new & set(window.model.ids), timeout=15_000)
        assert window.papers.by_interest
        inbox = lib.count(status="inbox")
        assert window.model.rowCount() == inbox
        qtbot.waitUntil(lambda: window.count_label.text().startswith(f"{inbox:,} papers"), timeout=10_000)
    finally:
        other.close()
