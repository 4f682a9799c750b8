"""The command palette (Ctrl+Shift+P or `:`) and the `?` cheat sheet, both generated from the tables.

The palette lists every command with its keys and description; typing filters (all words must
match the name, title or description); Enter runs the highlighted command.
"""

from __future__ import annotations

from collections.abc import Sequence

from paperdesk.core.keymap import Keymap, cheat_sheet_markdown
from paperdesk.core.markup import render_markdown
from paperdesk.gui.commands import Command
from paperdesk.gui.qt import (
    QDialog,
    QEvent,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QObject,
    Qt,
    QVBoxLayout,
    Signal,
)
from paperdesk.gui.safe_browser import SafeBrowser

NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class Palette(QDialog):
    chosen = Signal(str)  # command name

    def __init__(self, commands: Sequence[Command], keymap: Keymap, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Commands")
        self.field = QLineEdit()
        self.field.setPlaceholderText("Type to filter commands…  (Enter runs, Esc closes)")
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        for cmd in commands:
            if cmd.name in ("palette", "normal-mode"):
                continue
            keys = ", ".join(keymap.keys_for(cmd.name))
            title = cmd.title.replace("&", "").rstrip("…")
            item = QListWidgetItem(f"{title}    {keys}".rstrip() + f"\n    {cmd.description}")
            item.setData(NAME_ROLE, cmd.name)
            item.setData(Qt.ItemDataRole.ToolTipRole, cmd.name)
            item.setData(Qt.ItemDataRole.UserRole + 2,
                         f"{cmd.name} {title} {cmd.description} {keys}".lower())
            self.list.addItem(item)
        layout = QVBoxLayout(self)
        layout.addWidget(self.field)
        layout.addWidget(self.list)
        self.field.textChanged.connect(self.filter)
        self.field.returnPressed.connect(self.run_current)
        self.list.itemActivated.connect(lambda _item: self.run_current())
        self.field.installEventFilter(self)
        self.resize(520, 420)
        self.filter("")
        self.field.setFocus()

    def visible_names(self) -> list[str]:
        return [self.list.item(i).data(NAME_ROLE) for i in range(self.list.count())
                if not self.list.item(i).isHidden()]

    def filter(self, text: str) -> None:
        words = text.lower().split()
        first = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            hay = item.data(Qt.ItemDataRole.UserRole + 2)
            hidden = not all(w in hay for w in words)
            item.setHidden(hidden)
            if not hidden and first is None:
                first = item
        self.list.setCurrentItem(first)

    def run_current(self) -> None:
        item = self.list.currentItem()
        if item is None or item.isHidden():
            return
        name = item.data(NAME_ROLE)
        self.accept()
        self.chosen.emit(name)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.field and event.type() == QEvent.Type.KeyPress \
                and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            visible = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
            if visible:
                row = self.list.currentRow()
                pos = visible.index(row) if row in visible else -1
                pos = max(0, min(len(visible) - 1, pos + (1 if event.key() == Qt.Key.Key_Down else -1)))
                self.list.setCurrentRow(visible[pos])
            return True
        return False


class CheatSheet(QDialog):
    """The `?` sheet: the active normal-mode bindings (core `cheat_sheet_markdown`)."""

    def __init__(self, keymap: Keymap, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard cheat sheet")
        text = cheat_sheet_markdown(keymap)
        text += ("\n\nIn a text field (insert mode) letters are text: `Esc` goes back to the list. "
                 "`Ctrl+Shift+P` or `:` opens the command palette.")
        self.markdown = text
        self.browser = SafeBrowser()
        self.browser.setHtml(render_markdown(text))
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        self.resize(560, 640)
