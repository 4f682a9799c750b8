"""A desk a person can live in: selection, order, status and wording, through real widgets and keys."""

from __future__ import annotations

from desk_keys import press, settle_desks, sidebar_group
from export_support import add_papers

from paperdesk.core.records import IncomingPaper
from paperdesk.gui.qt import QPoint, Qt


def test_bulk_archive_with_a_mark_above_lands_on_the_next_unmarked_paper(desk, seeded, qtbot):
    a, b, c = desk.model.ids[:3]
    press(qtbot, desk.table, "x", "j", "x")  # a and b marked, b current
    assert desk.selection.current_id() == b and desk.selection.marked == {a, b}
    press(qtbot, desk.table, "e")
    assert seeded.get(a)["status"] == seeded.get(b)["status"] == "archived"
    assert desk.selection.current_id() == c  # not d: nothing skipped


def test_undo_and_history_name_papers_by_title(desk, seeded, qtbot):
    pid = desk.selection.current_id()
    title = seeded.get(pid)["title"]
    press(qtbot, desk.table, "e")
    label = seeded.history()[0].label
    assert label.startswith("Archive “") and pid not in label
    assert label[len("Archive “"):-1].rstrip("…") in " ".join(title.split())
    assert len(label) <= len("Archive “”") + 40
    press(qtbot, desk.table, "u")
    assert desk.statusBar().currentMessage() == f"Undid: {label}"


def test_o_opens_the_link_y_copies_for_a_paper_known_only_by_title(make_window, lib, qtbot, monkeypatch):
    from paperdesk.gui import paper_commands
    from paperdesk.gui.qt import QGuiApplication

    add_papers(lib, [IncomingPaper("Only a title")])
    opened = []
    monkeypatch.setattr(paper_commands.QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toEncoded().data().decode()) or True)
    window = make_window(lib)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    window.selection.move_current(0)
    press(qtbot, window.table, "y", "o")
    copied = QGuiApplication.clipboard().text()
    assert opened == ["https://arxiv.org/search/?searchtype=title&query=Only%20a%20title"]
    assert copied == f"[Only a title]({opened[0]})"


def test_a_triage_decision_marks_the_paper_read_at_once(desk, seeded, qtbot):
    ids = list(desk.model.ids[:5])
    seeded.mark_read(ids, False)
    desk.run_command("triage")

    def read(pid: str) -> bool:
        return bool(seeded.rows([pid])[0]["is_read"])

    press(qtbot, desk.table, "Return")  # keep, faster than the reader's read timer
    assert read(ids[0])
    press(qtbot, desk.table, "Space")  # a skip is no decision
    assert not read(ids[1])
    press(qtbot, desk.table, "s")  # star: decides and moves on (issue 21 item 4)
    assert read(ids[2]) and seeded.get(ids[2])["starred"]
    press(qtbot, desk.table, "e")  # archive
    assert read(ids[3]) and seeded.get(ids[3])["status"] == "archived"
    row = desk.model.row_of(ids[0])
    assert desk.model.index(row, 1).data(Qt.ItemDataRole.FontRole) is None  # not bold: read


def test_undoing_an_archive_selects_the_restored_paper(desk, seeded, qtbot):
    desk.selection.move_current(3)
    pid = desk.selection.current_id()
    press(qtbot, desk.table, "e")
    assert desk.selection.current_id() != pid and desk.model.row_of(pid) is None
    press(qtbot, desk.table, "u")
    assert desk.model.row_of(pid) == 3 and desk.selection.current_id() == pid


def test_clearing_a_search_keeps_the_current_paper(desk, seeded, qtbot):
    qtbot.keyClicks(desk.search, "model")
    qtbot.waitUntil(lambda: desk.papers.query == "model")
    settle_desks(qtbot)
    desk.selection.move_current(2)
    pid = desk.selection.current_id()
    assert desk.model.row_of(pid) == 2
    desk.search.clear()
    qtbot.waitUntil(lambda: desk.papers.query == "")
    settle_desks(qtbot)
    assert desk.selection.current_id() == pid and desk.model.row_of(pid) != 0


def test_the_last_view_is_remembered_per_library(make_window, seeded, tmp_path, qtbot):
    from paperdesk.core import Library

    source = seeded.sources()[0]
    first = make_window(seeded)
    first.go_to(f"source:{source['id']}")
    assert first.papers.view.key == f"source:{source['id']}"
    first.close()
    other = Library.open(tmp_path / "other")
    try:
        second = make_window(other)  # same settings file, another library: its own Inbox
        assert second.papers.view.key == "inbox"
        second.close()
    finally:
        other.close()
    again = make_window(seeded)
    assert again.papers.view.key == f"source:{source['id']}"


def _header(window) -> tuple[str | None, bool]:
    from paperdesk.gui.paper_model import COLUMNS

    hh = window.table.horizontalHeader()
    if not hh.isSortIndicatorShown():
        return None, False
    return COLUMNS[hh.sortIndicatorSection()][2], hh.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder


def _search(window, qtbot, text: str) -> None:
    window.search.setFocus()
    qtbot.keyClicks(window.search, text)
    qtbot.waitUntil(lambda: window.papers.query == text)
    settle_desks(qtbot)
    settle_desks(qtbot)  # the hits come from the reader thread


def test_a_filtered_list_is_in_the_order_the_header_shows(desk, seeded, qtbot):
    source = next(s for s in seeded.sources() if s["papers"] == 98)
    _search(desk, qtbot, f"digest:{source['date']}")
    assert _header(desk) == ("date", False)
    assert list(desk.model.ids) == seeded.paper_ids(source_id=source["id"], status="inbox")  # by date
    desk.table.horizontalHeader().setSortIndicator(4, Qt.SortOrder.DescendingOrder)  # ▲ upvotes
    settle_desks(qtbot)
    assert list(desk.model.ids) == seeded.paper_ids(source_id=source["id"], status="inbox", order="upvotes")
    assert _header(desk) == ("upvotes", False)


def test_a_first_click_on_the_upvotes_or_date_header_sorts_most_and_newest_first(desk, seeded, qtbot):
    """Qt's first click on a column sorts it ascending: fewest upvotes, oldest papers first."""
    header = desk.table.horizontalHeader()

    def click(order: str) -> None:
        from paperdesk.gui.paper_model import SORT_COLUMN

        column = SORT_COLUMN[order]
        where = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(where, header.height() // 2))
        settle_desks(qtbot)

    click("upvotes")
    assert _header(desk) == ("upvotes", False)
    ups = [r["upvotes"] or 0 for r in seeded.rows(list(desk.model.ids))]
    assert ups == sorted(ups, reverse=True) and ups[0] > ups[-1]
    click("upvotes")  # a second click turns it round
    assert _header(desk) == ("upvotes", True)
    click("title")  # A to Z first, as before
    assert _header(desk) == ("title", True)
    click("date")
    assert _header(desk) == ("date", False)


def test_a_query_sort_moves_the_header_and_relevance_has_no_arrow(desk, seeded, qtbot):
    _search(desk, qtbot, "sort:upvotes")
    assert _header(desk) == ("upvotes", False)
    ups = [r["upvotes"] or 0 for r in seeded.rows(list(desk.model.ids))]
    assert ups == sorted(ups, reverse=True) and len(ups) > 50
    desk.search.clear()
    settle_desks(qtbot)
    _search(desk, qtbot, "model")
    assert _header(desk) == (None, False)  # ranked by relevance: no column says so
    desk.table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.AscendingOrder)  # Title, A to Z
    settle_desks(qtbot)
    titles = [r["title_norm"] for r in seeded.rows(list(desk.model.ids))]
    assert titles == sorted(titles) and _header(desk) == ("title", True)


def test_a_digest_view_offers_the_digests_own_order(desk, seeded, qtbot):
    from paperdesk.gui.sort_order import sort_menu

    source = next(s for s in seeded.sources() if s["papers"] == 98)
    desk.go_to(f"source:{source['id']}")
    settle_desks(qtbot)
    menu = sort_menu(desk.papers, desk)
    digest = next(a for a in menu.actions() if a.text() == "Digest order")
    digest.trigger()
    settle_desks(qtbot)
    positions = dict(seeded.conn.execute(
        "SELECT paper_id, position FROM provenance WHERE source_id = ?", (source["id"],)))
    assert list(desk.model.ids) == sorted(positions, key=positions.get)
    assert _header(desk) == (None, False) and "Digest order" in desk.table.horizontalHeader().toolTip()
    assert next(a for a in sort_menu(desk.papers, desk).actions() if a.text() == "Digest order").isChecked()
    desk.go_to("inbox")  # no digest order here: by date, and the menu does not offer it
    settle_desks(qtbot)
    assert _header(desk) == ("date", False)
    assert "Digest order" not in [a.text() for a in sort_menu(desk.papers, desk).actions()]


def test_a_mixed_view_shows_archived_papers_as_archived(desk, seeded, qtbot):
    from paperdesk.gui.paper_model import COLUMN_KEYS

    archived = desk.model.ids[0]
    seeded.archive([archived])
    title = COLUMN_KEYS.index("title")

    def looks(pid):
        index = desk.model.index(desk.model.row_of(pid), title)
        font = index.data(Qt.ItemDataRole.FontRole)
        return bool(font and font.italic()), index.data(Qt.ItemDataRole.ToolTipRole).startswith("Archived · ")

    desk.go_to("all")
    settle_desks(qtbot)
    kept = next(i for i in desk.model.ids if i != archived)
    assert looks(archived) == (True, True) and looks(kept) == (False, False)
    assert desk.table.itemDelegate().model.mixed_status
    desk.go_to("archive")  # all archived here: nothing to tell apart
    settle_desks(qtbot)
    assert looks(archived) == (False, True) and not desk.model.mixed_status


def test_cells_that_hide_text_or_use_marks_explain_themselves(desk, seeded):
    from paperdesk.gui.paper_model import COLUMN_KEYS

    pid = desk.selection.current_id()
    seeded.tag([pid], ["reading-group", "agents", "long-tag-name"])

    seeded.notes.set(pid, "why")
    row = desk.model.row_of(pid)
    tip = lambda key: desk.model.index(row, COLUMN_KEYS.index(key)).data(Qt.ItemDataRole.ToolTipRole)  # noqa: E731
    assert tip("tags") == "#agents #long-tag-name #reading-group"
    assert tip("marks").startswith("Has a note (✎")
    legend = desk.model.headerData(COLUMN_KEYS.index("marks"), Qt.Orientation.Horizontal,
                                   Qt.ItemDataRole.ToolTipRole)
    assert "✎" in legend and "▍" in legend


def test_layout_details(make_window, seeded, qtbot):
    from paperdesk.core.records import IncomingPaper, SourceBatch
    from paperdesk.gui.settings import default_window_size

    for name in ("zeta lab", "Alpha news", "mid feed"):
        seeded.import_batch(SourceBatch("feed", name, f"http://x/{name}", "2026-11-01", name,
                                        [IncomingPaper(f"A paper from {name}")]))
    window = make_window(seeded, size=None)
    free = window.screen().availableGeometry()
    assert (window.width(), window.height()) == default_window_size(free.width(), free.height())
    assert default_window_size(1600, 1000) == (1280, 800)
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus[-1] == "Help" and "Feeds" in menus
    feeds = sidebar_group(window.sidebar, "Feeds")
    assert [feeds.child(i).text(0) for i in range(feeds.childCount())] == [
        "Alpha news · Nov 1, 2026", "mid feed · Nov 1, 2026", "zeta lab · Nov 1, 2026"]
    window.table.setFocus()
    window.selection.move_current(0)
    pid = window.selection.current_id()
    press(qtbot, window.table, "s")
    assert window.statusBar().currentMessage() == f"Starred {seeded.paper_label(pid)}"
    press(qtbot, window.table, "e")
    assert window.statusBar().currentMessage() == f"Archived {seeded.paper_label(pid)} (u undoes)"


def test_a_search_of_filters_only_shows_no_match_snippet(desk, seeded, qtbot):
    _search(desk, qtbot, "upvotes:>1")
    assert len(desk.model.ids) > 3 and all(desk.model.snippet(i) is None for i in desk.model.ids[:5])
    assert "Match:" not in desk.reader.browser.toHtml()
    desk.search.clear()
    settle_desks(qtbot)
    _search(desk, qtbot, "model")
    assert desk.model.snippet(desk.model.ids[0])


def test_undo_in_a_search_brings_the_paper_back_current_and_says_so(desk, seeded, qtbot):
    """Seen in a real window: in a search the undone archive came back only when the search ran
    again, so the neighbour stayed current, and the re-run search cleared the "Undid" line."""
    qtbot.keyClicks(desk.search, "model")
    qtbot.waitUntil(lambda: desk.papers.query == "model")
    settle_desks(qtbot)
    assert desk.model.rowCount() >= 3
    desk.table.setFocus()
    desk.selection.move_current(1)
    pid = desk.selection.current_id()
    press(qtbot, desk.table, "e")
    qtbot.waitUntil(lambda: desk.model.row_of(pid) is None)
    assert desk.selection.current_id() != pid
    press(qtbot, desk.table, "u")
    qtbot.waitUntil(lambda: desk.model.row_of(pid) is not None)
    settle_desks(qtbot)
    assert desk.selection.current_id() == pid
    assert desk.statusBar().currentMessage().startswith("Undid")
