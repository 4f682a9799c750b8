"""Key presses for GUI tests that wait for what each key asked of the desk's writer, and what the
sidebar shows (read from its tree, as a user sees it).

Every desk write is a job on the one writer thread (gui/jobs.py): a key's change is stored a
signal hop later, so a test reads the library only once the writer has run it."""

from __future__ import annotations

from paperdesk.gui.palette import NAME_ROLE
from paperdesk.gui.qt import QApplication, Qt, QTreeWidgetItem
from paperdesk.gui.sidebar import VIEW_ROLE, Sidebar


def settle_desks(qtbot, timeout: int = 10_000) -> None:
    """Wait until every open desk's writer has run what was queued, and its reader has answered
    what that made the desk ask for (the list and the sidebar are reader requests)."""
    desks = [w for w in QApplication.topLevelWidgets() if hasattr(w, "jobs") and w.isVisible()]
    qtbot.waitUntil(lambda: not any(d.jobs.busy or d.reading for d in desks), timeout=timeout)


def press(qtbot, widget, *keys: str) -> None:
    """Each key (a letter, or a Qt.Key name such as "Return"), then its writes."""
    for key in keys:
        if len(key) == 1:
            qtbot.keyClicks(widget, key)
        else:
            qtbot.keyClick(widget, getattr(Qt.Key, f"Key_{key}"))
        settle_desks(qtbot)


def sidebar_item(sidebar: Sidebar, key: str) -> QTreeWidgetItem:
    """The sidebar's row of a view (its title in column 0, its count in column 1)."""
    everything = sidebar.findItems("*", Qt.MatchFlag.MatchWildcard | Qt.MatchFlag.MatchRecursive)
    return next(item for item in everything if item.data(0, VIEW_ROLE) == key)


def sidebar_group(sidebar: Sidebar, title: str) -> QTreeWidgetItem:
    """A group of the sidebar ("Tags", "Digests", "Feeds", "Categories", "Saved searches")."""
    return next(item for item in map(sidebar.topLevelItem, range(sidebar.topLevelItemCount()))
                if item.text(0) == title)


def shown_commands(palette) -> list[str]:
    """The commands a palette or go-to picker lists now (its items not filtered out), by name."""
    items = [palette.list.item(i) for i in range(palette.list.count())]
    return [item.data(NAME_ROLE) for item in items if not item.isHidden()]
