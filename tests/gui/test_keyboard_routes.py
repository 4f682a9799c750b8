"""Issue 21, keyboard: every sidebar view by key (go-to picker, palette, sidebar focus, Tab), keys
reach the desk after a menu, highlights chosen with the keys and snapped to words."""

from __future__ import annotations

import pytest
from desk_keys import press, shown_commands

from paperdesk.core.records import IncomingPaper, SourceBatch
from paperdesk.gui.qt import QApplication, QEvent, QGuiApplication, QLineEdit, QPoint, Qt, QTextCursor

NOISE = ("propagateSizeHints", "does not support raise", "grabbing the keyboard")


def focused():
    return QApplication.focusWidget()


def mode(desk) -> str:
    return desk.mode_label.text().strip()


# -- item 5: a keyboard route to every sidebar entry -----------------------------------------------
@pytest.mark.qt_log_ignore(*NOISE)
def test_go_to_picker_reaches_digests_tags_and_saved_searches(desk, seeded, qtbot):
    seeded.tag(desk.model.ids[:2], ["reading"])
    seeded.search.save("fresh ideas", "diffusion")
    qtbot.waitUntil(lambda: "saved:fresh ideas" in [e.key for e in desk.sidebar.entries()])
    nov = next(s for s in seeded.sources() if s["date"] == "2026-11-05")
    press(qtbot, desk.table, "g", "o")
    picker = desk.dialogs.top()
    qtbot.waitUntil(picker.isVisible)
    qtbot.waitUntil(lambda: mode(desk) == "PALETTE")
    names = shown_commands(picker)
    assert {"view:inbox", "view:tag:reading", f"view:source:{nov['id']}", "view:saved:fresh ideas"} \
        <= set(names)
    starred = next(e for e in desk.sidebar.entries() if e.key == "starred")
    assert starred.detail == "0 papers"
    seeded.star(desk.model.ids[:1])
    qtbot.waitUntil(lambda: next(e for e in desk.sidebar.entries() if e.key == "starred").detail == "1 paper")
    qtbot.keyClicks(picker.field, "nov 5")  # the sidebar's own name for the digest
    assert shown_commands(picker) == [f"view:source:{nov['id']}"]
    press(qtbot, picker.field, "Return")
    assert desk.papers.view.key == f"source:{nov['id']}" and desk.model.rowCount() == 98
    assert desk.sidebar.current_key() == f"source:{nov['id']}"
    qtbot.waitUntil(desk.table.hasFocus)
    assert mode(desk) == "NORMAL"
    # Ctrl+P from the search field too, and letters in order find a tag ("rdng")
    press(qtbot, desk.table, "/")
    qtbot.keyClick(desk.search, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    picker = desk.dialogs.top()
    qtbot.waitUntil(picker.isVisible)
    qtbot.keyClicks(picker.field, "rdng")
    assert shown_commands(picker) == ["view:tag:reading"]
    press(qtbot, picker.field, "Return")
    assert desk.papers.view.key == "tag:reading" and desk.model.rowCount() == 2


@pytest.mark.qt_log_ignore(*NOISE)
def test_palette_lists_every_sidebar_view(desk, seeded, qtbot):
    nov = next(s for s in seeded.sources() if s["date"] == "2026-11-05")
    press(qtbot, desk.table, ":")
    palette = desk.dialogs.top()
    qtbot.waitUntil(palette.isVisible)
    qtbot.keyClicks(palette.field, "go to nov")
    assert shown_commands(palette) == [f"view:source:{nov['id']}"]
    press(qtbot, palette.field, "Return")
    assert desk.papers.view.key == f"source:{nov['id']}"
    qtbot.waitUntil(desk.table.hasFocus)


def test_sidebar_takes_the_keys_and_gives_them_back(desk, seeded, qtbot):
    press(qtbot, desk.table, "g", "h")
    assert desk.sidebar.hasFocus() and mode(desk) == "NORMAL"
    assert desk.sidebar.current_key() == "inbox"
    press(qtbot, desk.sidebar, "j")  # j/k move in the sidebar, the view follows
    assert desk.sidebar.current_key() == "starred" and desk.papers.view.key == "starred"
    press(qtbot, desk.sidebar, "j", "j", "k")
    assert desk.papers.view.key == "all"
    press(qtbot, desk.sidebar, "Return")
    assert desk.table.hasFocus() and desk.papers.view.key == "all"
    press(qtbot, desk.table, "g", "h")
    press(qtbot, desk.sidebar, "Escape")  # Esc too
    assert desk.table.hasFocus()


def test_tab_leaves_the_list(desk, qtbot):
    """Tab used to move between the list's cells and never left it."""
    assert desk.table.hasFocus()
    press(qtbot, desk.table, "Tab")
    assert not desk.table.hasFocus() and focused() is not None
    qtbot.keyClick(focused(), Qt.Key.Key_Backtab)  # and Shift+Tab comes back
    assert desk.table.hasFocus()


# -- item 9: keys reach the desk whenever the label says NORMAL -----------------------------------
@pytest.mark.qt_log_ignore(*NOISE)
def test_keys_reach_the_list_after_a_menu_opened_by_mouse_and_one_esc(desk, qtbot, monkeypatch):
    imports = []
    monkeypatch.setattr(desk.imports, "choose_import", lambda: imports.append(1))
    bar = desk.menuBar()
    file_menu = bar.actions()[0]
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(file_menu).center())
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None)
    popup = QApplication.activePopupWidget()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is popup.windowHandle())  # the platform settled
    qtbot.keyClick(QApplication.activePopupWidget(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None)
    qtbot.waitUntil(lambda: focused() is desk.table)  # Qt left the keys on the menu bar
    assert mode(desk) == "NORMAL"
    row = desk.table.currentIndex().row()
    press(qtbot, focused(), "j")
    assert desk.table.currentIndex().row() == row + 1
    qtbot.keyClick(focused(), Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert imports == [1]


def test_keys_reach_the_list_without_focus_or_from_a_toolbar_button(desk, qtbot):
    desk.table.clearFocus()
    qtbot.waitUntil(lambda: focused() is None)
    assert mode(desk) == "NORMAL"
    row = desk.table.currentIndex().row()
    press(qtbot, desk, "j")  # a key with no focus widget goes to the window
    assert desk.table.currentIndex().row() == row + 1
    button = desk.toolbar.widgetForAction(desk.command_actions["undo"])
    button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # as a Tab or a click can leave it
    button.setFocus()
    qtbot.waitUntil(button.hasFocus)
    assert mode(desk) == "NORMAL"
    press(qtbot, button, "j")
    assert desk.table.currentIndex().row() == row + 2


# -- item 8: highlights from the keyboard, snapped to words --------------------------------------
ABSTRACT = "Diffusion models generate images. State-of-the-art samplers need fewer steps today."


@pytest.fixture
def reader_desk(make_window, lib, qtbot):
    lib.import_batch(SourceBatch("digest", "d", "/d", "2025-11-05", "h", [
        IncomingPaper(title="Fast samplers", abstract=ABSTRACT)]))
    window = make_window(lib)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    window.selection.move_current(0)
    return window


def selected(desk) -> str:
    return desk.reader.browser.textCursor().selectedText()


@pytest.mark.qt_log_ignore(*NOISE)
def test_caret_mode_chooses_words_and_h_highlights(reader_desk, lib, qtbot):
    desk = reader_desk
    page = desk.reader.browser
    press(qtbot, desk.table, "v")
    assert page.hasFocus() and mode(desk) == "CARET"
    assert selected(desk) == "Diffusion"  # the abstract's first word
    press(qtbot, page, "w", "w", "w", "w")
    assert selected(desk) == "State-of-the-art"  # a word with inner hyphens is one word
    desk.show_paper(desk.selection.current_id())  # drawn again (marked read, a change): the words stay chosen
    assert selected(desk) == "State-of-the-art" and mode(desk) == "CARET"
    press(qtbot, page, "W", "W", "W", "B")
    assert selected(desk) == "State-of-the-art samplers need"
    press(qtbot, page, "b")
    assert selected(desk) == "images"
    press(qtbot, page, "w", "W", "W", "W")
    press(qtbot, page, "h")
    [mark] = lib.highlights.of(desk.reader.paper_id)
    assert mark.quote == "State-of-the-art samplers need fewer" and mark.field == "abstract"
    assert desk.table.hasFocus() and mode(desk) == "NORMAL"
    press(qtbot, desk.table, "v")  # the keys are the list's again: its `v` starts caret mode anew
    assert page.hasFocus() and mode(desk) == "CARET"


@pytest.mark.qt_log_ignore(*NOISE)
def test_caret_c_highlights_with_a_comment_and_esc_leaves(reader_desk, lib, qtbot):
    desk = reader_desk
    page = desk.reader.browser
    press(qtbot, desk.table, "v")
    press(qtbot, page, "Escape")
    assert desk.table.hasFocus() and mode(desk) == "NORMAL" and not desk.caret.active
    press(qtbot, desk.table, "v")
    press(qtbot, page, "W", "c")
    dialog = desk.dialogs.top()
    field = dialog.findChild(QLineEdit)
    qtbot.waitUntil(lambda: focused() is field)
    qtbot.keyClicks(focused(), "the key idea")
    press(qtbot, focused(), "Return")  # (and the writer stores the comment)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    # The comment is stored by a job on the writer (the one write path): wait for it.
    qtbot.waitUntil(lambda: lib.highlights.of(desk.reader.paper_id)[0].comment != "")
    [mark] = lib.highlights.of(desk.reader.paper_id)
    assert (mark.quote, mark.comment) == ("Diffusion models", "the key idea")


def test_a_partial_selection_snaps_to_whole_words(reader_desk, lib, qtbot):
    desk = reader_desk
    page = desk.reader.browser
    text = page.document().toPlainText()
    start = text.index("ffusion models gen")  # from inside a word to inside another
    cursor = page.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(start + len("ffusion models gen"), QTextCursor.MoveMode.KeepAnchor)
    page.setTextCursor(cursor)
    page.setFocus()
    press(qtbot, page, "h")
    [mark] = lib.highlights.of(desk.reader.paper_id)
    assert mark.quote == "Diffusion models generate"


def test_a_mouse_selection_snaps_to_words_on_release(reader_desk, qtbot):
    from PySide6.QtGui import QMouseEvent

    page = reader_desk.reader.browser
    text = page.document().toPlainText()

    def point(pos: int) -> QPoint:
        cursor = page.textCursor()
        cursor.setPosition(pos)
        return page.cursorRect(cursor).center()

    start, end = text.index("odels"), text.index("ages.") + 2  # inside "models" .. inside "images"
    qtbot.mousePress(page.viewport(), Qt.MouseButton.LeftButton, pos=point(start))
    move = QMouseEvent(QEvent.Type.MouseMove, point(end), page.viewport().mapToGlobal(point(end)),
                       Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(page.viewport(), move)
    assert page.textCursor().selectedText() not in ("", "models generate images")  # a raw drag
    qtbot.mouseRelease(page.viewport(), Qt.MouseButton.LeftButton, pos=point(end))
    assert page.textCursor().selectedText() == "models generate images"


@pytest.mark.qt_log_ignore(*NOISE)
def test_a_new_window_gives_the_keys_to_the_list(make_window, seeded, qtbot):
    """Seen in a real window: at start the sidebar had the keys, so j/k switched views until the
    user clicked the list."""
    window = make_window(seeded)
    qtbot.waitUntil(window.table.hasFocus)
    view = window.papers.view.key
    qtbot.waitUntil(lambda: window.table.currentIndex().isValid())
    row = window.table.currentIndex().row()
    press(qtbot, window.table, "j")
    assert window.papers.view.key == view and window.table.currentIndex().row() == row + 1
