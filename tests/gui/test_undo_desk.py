"""The desk's undo takes back only what this desk did (issue 18.3), with a real window."""

from __future__ import annotations

import json
import subprocess
import sys

from desk_keys import settle_desks


def test_desk_undo_leaves_a_command_line_change_alone(make_window, seeded, qtbot):
    window = make_window(seeded)
    first, second = window.model.id_at(0), window.model.id_at(1)
    window.table.setFocus()
    window.selection.move_current(0)
    window.run_command("star")  # the desk's own change
    settle_desks(qtbot)  # (stored by the desk's writer thread)
    assert seeded.get(first)["starred"] is True
    # Then a script archives another paper with the CLI, in another process.
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(seeded.folder),
                           "archive", second], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    window.run_command("undo")
    settle_desks(qtbot)
    assert seeded.get(first)["starred"] is False  # the desk's star is undone...
    assert seeded.get(second)["status"] == "archived"  # ...the CLI's archive is not
    window.run_command("undo")
    settle_desks(qtbot)
    assert seeded.get(second)["status"] == "archived"  # nothing of the desk's is left to undo
    qtbot.waitUntil(lambda: "Nothing of this desk's to undo" in window.statusBar().currentMessage())
    history = json.loads(subprocess.run(
        [sys.executable, "-m", "paperdesk", "--library", str(seeded.folder), "history", "--json"],
        capture_output=True, text=True, timeout=60).stdout)
    assert history[0]["origin"].startswith("cli:") and not history[0]["undone"]
    assert history[1]["origin"].startswith("desk:") and history[1]["undone"]


def test_history_names_changes_made_elsewhere_and_can_undo_them(make_window, seeded, qtbot):
    window = make_window(seeded)
    pid = window.model.id_at(0)
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(seeded.folder),
                           "star", pid], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    window.run_command("history")
    dialog = window.dialogs.top()
    assert "(made by a paperdesk command)" in dialog.list.item(0).text()
    dialog.list.setCurrentRow(0)
    dialog.undo_button.click()
    qtbot.waitUntil(lambda: seeded.get(pid)["starred"] is False)


def test_the_history_shows_whole_entries_without_a_sideways_scroll_bar(make_window, seeded, qtbot):
    """Entries naming a paper and where they were made ran off the dialog's right edge behind a
    sideways scroll bar (seen in a real window: "(made by a paperdesk comman")."""
    window = make_window(seeded)
    pid = window.model.id_at(0)
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(seeded.folder),
                           "highlight", "--title", pid, seeded.get(pid)["title"][:60]],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    window.run_command("history")
    dialog = window.dialogs.top()
    qtbot.waitExposed(dialog)
    assert "(made by a paperdesk command)" in dialog.list.item(0).text()
    assert dialog.list.horizontalScrollBar().maximum() == 0
