"""The desk's export command (issue 21.17): one File menu entry, and the palette and the key open the
real dialog (it was a stub saying export was not available)."""

from __future__ import annotations

from desk_keys import shown_commands

from paperdesk.gui.qt import Qt


def file_menu_texts(window) -> list[str]:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
    return [a.text().replace("&", "") for a in menu.actions()]


def test_one_export_entry_and_the_palette_opens_the_dialog(make_window, seeded, qtbot):
    window = make_window(seeded)
    assert file_menu_texts(window).count("Export…") == 1
    window.table.setFocus()
    window.run_command("palette")
    palette = window.dialogs.top()
    qtbot.waitUntil(palette.isVisible)
    qtbot.keyClicks(palette.field, "export")
    assert shown_commands(palette)[0] == "export"
    qtbot.keyClick(palette.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.export.dialog is not None
                    and window.export.dialog.isVisible())
    assert "not available" not in window.statusBar().currentMessage()
    assert window.export.dialog.scope() == "view"


def test_the_menu_entry_is_the_command_itself(make_window, seeded, qtbot):
    window = make_window(seeded)
    action = window.command_actions["export"]
    assert window.command_actions["export"] is action
    action.trigger()
    qtbot.waitUntil(lambda: window.export.dialog.isVisible())
    window.export.dialog.hide()
    window.run_command("export")  # the command (as a key bound to it runs it) opens the same dialog
    qtbot.waitUntil(lambda: window.export.dialog.isVisible())
