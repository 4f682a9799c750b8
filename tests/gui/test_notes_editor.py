"""Issue 7 in the desk: the note editor autosaves, previews safely, survives a restart, and undoes."""

from __future__ import annotations

import re
import threading

from paperdesk.gui.note_panel import continue_list
from paperdesk.gui.qt import Qt, QUrl


def type_note(qtbot, desk, text: str) -> None:
    qtbot.keyClicks(desk.table, "n")  # `n` focuses the note editor (insert mode)
    editor = desk.reader.notes.editor
    qtbot.waitUntil(editor.hasFocus)
    qtbot.keyClicks(editor, text)


def test_list_continuation_rules():
    assert continue_list("- item") == "- "
    assert continue_list("  * nested") == "  * "
    assert continue_list("9. ninth") == "10. "
    assert continue_list("- [x] done") == "- [ ] "
    assert continue_list("- ") == ""
    assert continue_list("plain text") is None


def test_enter_continues_lists_in_the_editor(desk, qtbot):
    type_note(qtbot, desk, "1. first")
    editor = desk.reader.notes.editor
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "second")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # Enter on an empty item ends the list (a blank line)
    assert editor.toPlainText() == "1. first\n2. second\n\n"


def test_typing_autosaves_previews_and_survives_a_new_window(make_window, desk, seeded, qtbot, settle):
    pid = desk.selection.current_id()
    type_note(qtbot, desk, "# Idea")
    qtbot.keyClick(desk.reader.notes.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(desk.reader.notes.editor, "- see [[")
    qtbot.keyClicks(desk.reader.notes.editor, desk.model.ids[1] + "]] soon")
    assert seeded.notes.get(pid) == ""  # not yet: saved ~1 s after typing stops
    qtbot.waitUntil(lambda: seeded.notes.get(pid) != "", timeout=5000)
    settle(desk)  # (the write's Changes reach the reader pane)
    assert seeded.notes.get(pid) == f"# Idea\n- see [[{desk.model.ids[1]}]] soon"
    preview = desk.reader.notes.preview
    qtbot.waitUntil(lambda: "Idea" in preview.toPlainText())
    assert f"paperdesk://paper/{desk.model.ids[1]}" in preview.toHtml()
    assert "Note" in desk.reader.browser.toPlainText() and "Idea" in desk.reader.browser.toPlainText()
    assert desk.model.data(desk.model.index(0, 6)).startswith("✎")
    # a [[link]] opens that paper in the desk
    preview.anchorClicked.emit(QUrl(f"paperdesk://paper/{desk.model.ids[1]}"))
    assert desk.selection.current_id() == desk.model.ids[1]
    desk.close()
    again = make_window(seeded)
    again.selection.select_id(pid)
    assert again.reader.notes.editor.toPlainText().startswith("# Idea")


def test_switching_papers_and_closing_flush_the_pending_note(make_window, desk, seeded, qtbot, settle):
    first, second = desk.model.ids[:2]
    type_note(qtbot, desk, "switch")
    desk.selection.select_id(second)  # no waiting for the autosave timer: switching queues the save at once,
    settle(desk)  # on the one writer (one write path): it is stored once the queued jobs have run
    assert seeded.notes.get(first) == "switch"
    desk.table.setFocus()
    type_note(qtbot, desk, "closing")
    desk.close()  # closing saves too
    assert seeded.notes.get(second) == "closing"
    reopened = make_window(seeded)
    reopened.selection.select_id(second)
    assert reopened.reader.notes.editor.toPlainText() == "closing"


def test_focus_out_saves_and_one_session_is_one_undo_step(desk, seeded, qtbot, settle):
    pid = desk.selection.current_id()
    type_note(qtbot, desk, "a")
    desk.reader.notes.flush()
    qtbot.keyClicks(desk.reader.notes.editor, "bc")
    qtbot.keyClick(desk.reader.notes.editor, Qt.Key.Key_Escape)  # back to the list: focus-out saves
    settle(desk)
    assert desk.table.hasFocus() and seeded.notes.get(pid) == "abc"
    assert len(seeded.notes.history(pid)) == 2  # every save keeps a revision
    qtbot.keyClicks(desk.table, "u")  # ...but the session is one undo step
    settle(desk)
    assert seeded.notes.get(pid) == ""
    assert desk.reader.notes.editor.toPlainText() == ""  # the editor follows the undo


def test_save_is_queued_behind_a_running_job_without_blocking(desk, seeded, qtbot):
    pid = desk.selection.current_id()
    gate = threading.Event()
    desk.jobs.run("slow", lambda lib, p, c: gate.wait(10))
    type_note(qtbot, desk, "queued")
    desk.reader.notes.flush()
    assert desk.jobs.busy and desk.reader.notes.unsaved == (pid, "queued")
    qtbot.keyClicks(desk.reader.notes.editor, "!")  # still typing while the writer is busy
    gate.set()
    qtbot.waitUntil(lambda: not desk.jobs.busy, timeout=10_000)
    assert seeded.notes.get(pid) == "queued"
    assert desk.reader.notes.editor.toPlainText() == "queued!"


def test_revisions_menu_restores(desk, seeded, qtbot, settle):
    pid = desk.selection.current_id()
    seeded.notes.set(pid, "first version")
    seeded.notes.set(pid, "second version")
    notes = desk.reader.notes
    assert notes.editor.toPlainText() == "second version"
    notes.fill_revisions()
    actions = [a for a in notes.revisions_menu.actions() if "first version" in a.text()]
    actions[0].trigger()
    settle(desk)
    assert seeded.notes.get(pid) == "first version"
    assert notes.editor.toPlainText() == "first version"


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD4=)",
    "<svg onload=alert(1)><circle/></svg>",
    '<iframe src="http://evil.example"></iframe>',
    '<p style="background:url(http://evil.example/x)">css</p>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "![remote](http://evil.example/pixel.png)",
]


def test_hostile_note_renders_nothing_executable(desk, seeded, qtbot):
    pid = desk.selection.current_id()
    seeded.notes.set(pid, "\n\n".join(HOSTILE))
    from paperdesk.core.reader_html import paper_html

    for markup in (paper_html(seeded, seeded.get(pid)), desk.reader.notes.preview.toHtml(),
                   desk.reader.browser.toHtml()):
        assert not re.search(r"<\s*(script|img|iframe|svg)\b", markup, re.I)
        assert not re.search(r"<[^>]*\s(on\w+|src|style)\s*=\s*[\"']?[^\"'>]*(alert|evil)", markup, re.I)
        assert not re.search(r"javascript:|data:text", markup, re.I)


def test_editor_and_preview_side_by_side_and_n_reopens_a_closed_editor(desk, qtbot):
    notes = desk.reader.notes
    editor, preview = notes.editor, notes.preview
    assert editor.isVisible() and preview.isVisible()
    assert editor.mapTo(desk, editor.rect().topLeft()).x() < preview.mapTo(desk, preview.rect().topLeft()).x()
    notes.split.setSizes([0, 400])  # the user dragged the editor closed
    assert notes.split.sizes()[0] == 0
    qtbot.keyClick(desk.table, Qt.Key.Key_N)
    qtbot.waitUntil(editor.hasFocus)
    assert notes.split.sizes()[0] > 0


def test_a_typed_marker_replaces_the_automatic_one(desk, qtbot):
    """Issue 21: `- a` Return `- b` gave `- - b`, `1. x` Return `2. y` gave `2. 2. y`."""
    type_note(qtbot, desk, "- a")
    editor = desk.reader.notes.editor
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "- b")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "c")  # the automatic marker alone still continues the list
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # Return on an empty item ends the list
    qtbot.keyClicks(editor, "1. x")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "2. y")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "* z")  # another marker replaces it too
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "end")
    assert editor.toPlainText() == "- a\n- b\n- c\n\n1. x\n2. y\n* z\n\nend"
    from paperdesk.core.markup import render_markdown

    html = render_markdown(editor.toPlainText())
    assert "<p>end</p>" in html and html.count("<ol") == 1  # the lists ended: "end" is a paragraph


def test_typed_marker_rule():
    from paperdesk.gui.note_panel import replace_typed_marker

    assert replace_typed_marker("- -", "- ") == "- "
    assert replace_typed_marker("  2. 2.", "  2. ") == "  2. "
    assert replace_typed_marker("- [ ] -", "- [ ] ") == "- "
    assert replace_typed_marker("- x", "- ") is None
    assert replace_typed_marker("-", "- ") is None
