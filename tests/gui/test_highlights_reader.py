"""Highlights in the desk: select reader text, press `h` (or a colour), shown in place, listed, undone."""

from __future__ import annotations

import pytest
from pdf_samples import highlight_pdf

from paperdesk.core.records import IncomingPaper, SourceBatch
from paperdesk.gui.qt import QTextCursor

ABSTRACT = ('We study Schr\\"odinger   bridges for\n  generative modelling.\n\n'
            "A second paragraph mentions bridges again and ends here.")


@pytest.fixture
def desk(make_window, lib, qtbot):
    lib.import_batch(SourceBatch("digest", "d", "/d", "2025-11-05", "h", [
        IncomingPaper(title="Bridges of Schr\\\"odinger", abstract=ABSTRACT),
        IncomingPaper(title="Another paper", abstract="Nothing to see.")]))
    window = make_window(lib)
    window.selection.select_id(next(i for i in window.model.ids if lib.get(i)["title"].startswith("Bridges")))
    return window


def select(browser, text: str, occurrence: int = 0) -> None:
    page = browser.document().toPlainText()
    start = -1
    for _ in range(occurrence + 1):
        start = page.index(text, start + 1)
    cursor = browser.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(start + len(text), QTextCursor.MoveMode.KeepAnchor)
    browser.setTextCursor(cursor)


def test_h_highlights_the_selected_abstract_text_with_raw_offsets(desk, lib, qtbot, settle):
    browser = desk.reader.browser
    browser.setFocus()
    qtbot.waitUntil(browser.hasFocus)
    select(browser, "Schrödinger bridges for generative")  # shown text: TeX converted, spaces collapsed
    qtbot.keyClicks(browser, "h")  # the reader is normal mode too
    settle(desk)
    [mark] = lib.highlights.of(desk.reader.paper_id)
    assert mark.field == "abstract" and mark.color == "yellow"
    assert mark.quote == 'Schr\\"odinger   bridges for\n  generative'  # the raw text, by raw offsets
    assert ABSTRACT[mark.start:mark.end] == mark.quote
    html = browser.toHtml()
    assert "Highlights" in browser.toPlainText()
    assert "#fde68a" in html.lower()  # painted in place
    assert desk.model.data(desk.model.index(desk.model.row_of(desk.reader.paper_id), 6)).endswith("▍")


def test_second_occurrence_and_colour_button_and_title(desk, lib, qtbot, settle):
    browser = desk.reader.browser
    select(browser, "bridges", occurrence=1)  # the one in the second paragraph
    desk.reader.colour_buttons["green"].click()
    settle(desk)
    [mark] = lib.highlights.of(desk.reader.paper_id)
    assert mark.color == "green" and mark.start == ABSTRACT.index("bridges again")
    select(browser, "Bridges")  # in the title
    desk.paper.highlight_selection("blue")
    settle(desk)
    title_marks = [h for h in lib.highlights.of(desk.reader.paper_id) if h.field == "title"]
    assert [(h.quote, h.color) for h in title_marks] == [("Bridges", "blue")]


def test_selection_outside_abstract_or_nothing_selected_is_refused(desk, lib, qtbot):
    desk.paper.highlight_selection()
    assert "Select some text" in desk.statusBar().currentMessage()
    select(desk.reader.browser, "in digest")  # provenance line
    desk.paper.highlight_selection()
    assert "Only the abstract" in desk.statusBar().currentMessage()
    assert lib.highlights.of() == []


def test_highlight_survives_whitespace_change_and_undo_removes_it(desk, lib, qtbot, settle):
    pid = desk.reader.paper_id
    select(desk.reader.browser, "generative modelling")
    desk.paper.highlight_selection("pink")
    settle(desk)
    with lib.transaction() as conn:  # a re-import re-wrapped the abstract
        rewrapped = "  " + ABSTRACT.replace("\n  ", " ")
        conn.execute("UPDATE papers SET abstract = ? WHERE id = ?", (rewrapped, pid))
    desk.show_paper(pid)
    assert "#fbcfe8" in desk.reader.browser.toHtml().lower()
    qtbot.keyClicks(desk.table, "u")
    settle(desk)
    assert lib.highlights.of(pid) == []
    assert "#fbcfe8" not in desk.reader.browser.toHtml().lower()


def test_highlights_view_lists_all_with_their_paper(desk, lib, qtbot):
    pid = desk.reader.paper_id
    lib.highlights.add_quote(pid, "second paragraph", comment="key claim")
    other = next(i for i in desk.model.ids if i != pid)
    lib.highlights.add_quote(other, "Nothing")
    highlight_pdf(lib, other, 6, 0, 9, "in the PDF", [[72.0, 700.0, 120.0, 712.0]])
    desk.run_command("highlights")
    dialog = desk.dialogs.top()
    qtbot.waitUntil(lambda: not dialog.loading)  # read on the reader thread
    items = dialog.items()
    assert len(items) == 3 and any("key claim" in t and "Bridges of Schrödinger" in t for t in items)
    assert [t.endswith(", p. 7") for t in items].count(True) == 1  # the PDF's says its page
    dialog.filter_field.setText("claim")
    assert len(dialog.items()) == 1
    row = next(i for i in range(dialog.list.count()) if not dialog.list.item(i).isHidden())
    dialog.list.itemActivated.emit(dialog.list.item(row))
    assert desk.selection.current_id() == pid


def test_the_comment_dialog_names_its_highlight_and_has_room_to_write(desk, lib, qtbot):
    """It was a bare "Comment:" field ~150 px wide, its title cut to "Highli… ment" (seen in a real
    window): which highlight it was for, the user had to remember."""
    pid = desk.reader.paper_id
    mark_id, _changes = lib.highlights.add_quote(pid, "second paragraph")
    desk.paper.comment_highlight(mark_id)
    dialog = desk.dialogs.top()
    dialog.show()
    qtbot.waitExposed(dialog)
    assert "second paragraph" in dialog.labelText()
    title = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())
    assert dialog.width() >= max(400, 3 * title)  # room for a sentence and the whole title
