"""File > Export on a real window: scopes, dry-run preview, the job with progress, summaries, bad input."""

from __future__ import annotations

import bibtexparser
from desk_keys import settle_desks

from paperdesk.core.export import report as report_module
from paperdesk.core.export.report import ExportItem, ExportReport
from paperdesk.gui.export_dialog import MAX_LISTED, describe


def open_dialog(make_window, seeded, qtbot, starred: int = 3):
    ids = seeded.paper_ids(limit=starred)
    seeded.star(ids)
    window = make_window(seeded)
    window.go_to("starred")
    settle_desks(qtbot)  # the Starred list comes from the reader thread
    window.command_actions["export"].trigger()
    return window, window.export.dialog, ids


def test_menu_entry_sits_in_the_file_menu(make_window, seeded, qtbot):
    window, dialog, _ids = open_dialog(make_window, seeded, qtbot)
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
    assert window.command_actions["export"] in file_menu.actions()
    assert dialog.isVisible() and dialog.scope() == "view"
    assert dialog.scope_buttons["view"].text() == "Whole list (3)"
    assert not dialog.scope_buttons["marked"].isEnabled()


def test_preview_then_export_markdown_then_nothing_changes(make_window, seeded, qtbot, tmp_path):
    window, dialog, _ids = open_dialog(make_window, seeded, qtbot)
    target = tmp_path / "vault" / "Papers"
    dialog.folder.setText(str(target))
    with qtbot.waitSignal(dialog.finished_export, timeout=20_000) as blocker:
        dialog.run(dry_run=True)
    report = blocker.args[0]
    assert report.dry_run and len(report.would_change) == 3
    assert not target.exists()  # a preview writes nothing
    assert dialog.output.toPlainText().startswith("dry run: 3 files would change")
    seen: list[tuple[int, int]] = []
    window.jobs.progress.connect(lambda _job, done, total, _w: seen.append((done, total)))
    with qtbot.waitSignal(dialog.finished_export, timeout=20_000) as blocker:
        assert dialog.run() is not None
        assert not dialog.export_button.isEnabled() and dialog.progress.isVisible()
    assert seen and seen[-1] == (6, 6)  # each paper checked, then written
    assert len(list(target.glob("*.md"))) == 3
    assert dialog.output.toPlainText().startswith("3 created, 0 updated, 0 unchanged")
    assert dialog.export_button.isEnabled() and not dialog.progress.isVisible()
    assert "3 created" in window.statusBar().currentMessage()
    with qtbot.waitSignal(dialog.finished_export, timeout=20_000):
        dialog.run()
    assert dialog.output.toPlainText().startswith("0 created, 0 updated, 3 unchanged")


def test_file_changed_beyond_merging_is_left_alone_with_reason(make_window, seeded, qtbot, tmp_path):
    _window, dialog, ids = open_dialog(make_window, seeded, qtbot, starred=1)
    dialog.folder.setText(str(tmp_path))
    with qtbot.waitSignal(dialog.finished_export, timeout=20_000):
        dialog.run()
    (written,) = tmp_path.glob("*.md")
    written.write_text("the user rewrote everything, no managed blocks left\n", encoding="utf-8")
    seeded.tag(ids, ["later"])
    with qtbot.waitSignal(dialog.finished_export, timeout=20_000) as blocker:
        dialog.run()
    report = blocker.args[0]
    assert len(report.skipped) == 1 and report.skipped[0].reason
    assert f"left alone: {written.name}: {report.skipped[0].reason}" in dialog.output.toPlainText()
    assert written.read_text(encoding="utf-8").startswith("the user rewrote everything")


def test_selection_and_marked_scopes_and_bibtex(make_window, seeded, qtbot, tmp_path):
    window, dialog, ids = open_dialog(make_window, seeded, qtbot)
    window.table.selectRow(0)
    flags = window.table.selectionModel().SelectionFlag
    window.table.selectionModel().select(window.model.index(1, 0), flags.Select | flags.Rows)
    dialog.refresh_scope()
    assert dialog.scope_buttons["selection"].text() == "Selection (2)"
    window.selection.marked.update({ids[2], "gone-from-this-view"})  # marked, then not in the list
    dialog.set_scope("view")
    dialog.refresh_scope()
    assert dialog.scope_ids("marked") == [ids[2], "gone-from-this-view"]
    assert dialog.scope_buttons["marked"].text() == "Marked (2)"  # counted without listing the view
    window.selection.marked.discard("gone-from-this-view")
    dialog.set_scope("selection")
    dialog.tabs.setCurrentIndex(1)
    assert not dialog.preview_button.isEnabled()
    bib = tmp_path / "refs.bib"
    dialog.bib_path.setText(str(bib))
    with qtbot.waitSignal(dialog.finished_export, timeout=20_000):
        dialog.run()
    entries = bibtexparser.parse_string(bib.read_text(encoding="utf-8")).entries
    assert len(entries) == 2
    assert dialog.output.toPlainText().startswith(f"wrote 2 entries to {bib}")


def test_bad_input_is_one_line_and_writes_nothing(make_window, seeded, qtbot, tmp_path):
    _window, dialog, _ids = open_dialog(make_window, seeded, qtbot)
    dialog.run()
    assert dialog.output.toPlainText() == "Choose the folder to export into."
    (tmp_path / "a-file").write_text("x")
    dialog.folder.setText(str(tmp_path / "a-file"))
    with qtbot.waitSignal(dialog.finished_export, timeout=20_000) as blocker:
        dialog.run()
    assert blocker.args[0] == f"{tmp_path / 'a-file'} is a file, not a folder"
    assert "\n" not in dialog.output.toPlainText()
    dialog.tabs.setCurrentIndex(1)
    hand_kept = tmp_path / "mine.bib"
    hand_kept.write_text("@misc{mine, title={Mine}}\n")
    dialog.bib_path.setText(str(hand_kept))
    with qtbot.waitSignal(dialog.finished_export, timeout=20_000):
        dialog.run()
    assert "was not written by PaperDesk" in dialog.output.toPlainText()
    assert hand_kept.read_text() == "@misc{mine, title={Mine}}\n"


def test_the_summary_of_a_big_export_lists_a_bounded_part(monkeypatch):
    monkeypatch.setattr(report_module, "LISTED", 300)
    report = ExportReport(folder="vault")
    for n in range(1000):
        report.add(ExportItem(file=f"p{n}.md", action="created"))
    for n in range(400):
        report.add(ExportItem(file=f"s{n}.md", action="skipped", reason="edited"))
    text = describe(report).splitlines()
    assert text[0] == "1000 created, 0 updated, 0 unchanged, 400 left alone (see above) in vault"
    assert text[1] == "left alone: s0.md: edited" and text[301] == "… and 100 more left alone"
    assert text[302] == "created: p0.md" and text[-1] == f"… and {1000 - MAX_LISTED} more"
    assert len(text) == 303 + MAX_LISTED
