"""A triage session in the desk: progress in the status bar, keep/skip/archive keys, the summary."""

from __future__ import annotations

from desk_keys import settle_desks

from paperdesk.gui.qt import Qt


def test_triage_a_digest_view_with_keys_and_summary(make_window, seeded, qtbot):
    window = make_window(seeded)
    source = next(s for s in seeded.sources() if s["papers"] == 98)
    window.go_to(f"source:{source['id']}")
    settle_desks(qtbot)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    ids = list(window.model.ids)
    assert len(ids) == 98
    window.run_command("triage")
    assert window.triage.label.text() == f"Triage {window.papers.view.title}: 1 / 98"
    assert window.selection.current_id() == ids[0] and window.triage.progress.isVisible()
    assert "T ends" in window.statusBar().currentMessage()  # issue 21 item 7: it said "t again"
    qtbot.keyClicks(window.table, "s")  # star: decides (kept) and moves on in one key
    assert window.selection.current_id() == ids[1]
    qtbot.keyClicks(window.table, "e")  # archive the second
    qtbot.keyClicks(window.table, "j")  # skip the third
    window.run_command("tag-1")  # no tags yet: a message, nothing else
    seeded.tag([ids[3]], ["later"])
    seeded.notes.set(ids[3], "read the appendix")
    assert window.triage.label.text().endswith("4 / 98")
    assert window.selection.current_id() == ids[3]
    qtbot.keyClicks(window.table, "k")  # back to the third
    assert window.selection.current_id() == ids[2] and window.triage.label.text().endswith("3 / 98")
    qtbot.keyClick(window.table, Qt.Key.Key_Space)  # skip again
    qtbot.keyClick(window.table, Qt.Key.Key_Return)  # keep the fourth
    qtbot.waitUntil(lambda: not window.jobs.busy)  # the writer stored the decisions
    assert seeded.get(ids[1])["status"] == "archived" and seeded.get(ids[0])["starred"]
    window.run_command("triage")  # again: end the session
    assert window.triage.session is None and not window.triage.label.isVisible()
    qtbot.waitUntil(lambda: window.dialogs.top() is not None)  # the summary, once stored
    dialog = window.dialogs.top()
    text = dialog.label.text()
    assert "4 of 98" in text and "Starred <b>1</b>" in text and "archived <b>1</b>" in text
    assert "tagged <b>1</b>" in text and "noted <b>1</b>" in text
    assert dialog.starred.count() == 1
    dialog.starred.itemActivated.emit(dialog.starred.item(0))  # the link to what was starred
    assert window.selection.current_id() == ids[0]


def test_triage_runs_to_the_end_and_shows_the_summary(make_window, lib, qtbot):
    from paperdesk.core.records import IncomingPaper, SourceBatch

    lib.import_batch(SourceBatch("digest", "d", "/d", "2025-11-05", "h",
                                 [IncomingPaper(title=f"Paper {i}") for i in range(3)]))
    window = make_window(lib)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    window.run_command("triage")
    for _ in range(3):
        qtbot.keyClicks(window.table, "e")
    assert window.triage.session is None
    qtbot.waitUntil(lambda: window.dialogs.top() is not None)  # once the writer stored all
    assert lib.count(status="archived") == 3
    dialog = window.dialogs.top()
    assert "3 of 3" in dialog.label.text() and "archived <b>3</b>" in dialog.label.text()
    dialog.show_button.click()
    assert window.papers.view.key == "starred"


def test_the_summary_wraps_a_long_starred_title_instead_of_cutting_it(lib, qtbot):
    """A long title ran off the summary's list behind a sideways scroll bar (seen in a real window)."""
    from paperdesk.core.records import IncomingPaper, SourceBatch
    from paperdesk.core.triage import TriageSummary
    from paperdesk.gui.qt import QWidget
    from paperdesk.gui.triage import TriageSummaryDialog

    title = "A for-loop is all you need: " + "solving the inverse problem of personalised ranking " * 3
    lib.import_batch(SourceBatch("digest", "d", "/d", "2025-11-05", "h", [IncomingPaper(title=title)]))
    (pid,) = lib.paper_ids()
    parent = QWidget()
    qtbot.addWidget(parent)
    summary = TriageSummary(total=1, seen=1, kept=1, skipped=0, archived=0, starred=[pid])
    dialog = TriageSummaryDialog(summary, lib, parent)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.starred.horizontalScrollBar().maximum() == 0  # nothing sideways out of sight
    line = dialog.starred.fontMetrics().height()
    assert dialog.starred.visualItemRect(dialog.starred.item(0)).height() > 2 * line  # the whole title
