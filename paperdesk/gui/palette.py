"""The command palette (Ctrl+Shift+P or `:`), the go-to picker (Ctrl+P or `g o`) and the `?` cheat
sheet, generated from the tables and the sidebar.

The palette lists every command with its keys and description, then every sidebar view ("Go to …");
the picker lists the views only. Typing filters: every word must occur in an entry, or its letters in
order ("nv5" finds "Nov 5") when no entry has every word as written. Enter runs or opens the highlighted
entry.
"""

from __future__ import annotations

from collections.abc import Sequence

from paperdesk.core.keymap import Keymap, cheat_sheet_markdown
from paperdesk.core.markup import render_markdown
from paperdesk.gui.commands import Command
from paperdesk.gui.layout import column
from paperdesk.gui.qt import (
    QDialog,
    QEvent,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QObject,
    Qt,
    Signal,
)
from paperdesk.gui.safe_browser import SafeBrowser
from paperdesk.gui.views import ViewEntry

NAME_ROLE = Qt.ItemDataRole.UserRole + 1
HAY_ROLE = Qt.ItemDataRole.UserRole + 2
VIEW_PREFIX = "view:"  # a chosen name that opens a view instead of running a command


def _subsequence(word: str, hay: str) -> bool:
    letters = iter(hay)
    return all(c in letters for c in word)


def matches(words: list[str], hays: list[str]) -> list[bool]:
    """Which entries hold every word as written; when none does, which hold each word's letters in
    order (a looser match only when the strict one finds nothing)."""
    strict = [all(w in hay for w in words) for hay in hays]
    if any(strict):
        return strict
    return [all(_subsequence(w, hay.replace(" ", "")) for w in words) for hay in hays]


class FilterList(QDialog):
    """A field over a list: typing filters and ranks, Up/Down choose, Enter emits `chosen`."""

    chosen = Signal(str)

    def __init__(self, title: str, placeholder: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.field = QLineEdit(placeholderText=placeholder)
        self.list = QListWidget(uniformItemSizes=True)

    def add(self, name: str, text: str, hay: str, tooltip: str = "") -> None:
        item = QListWidgetItem(text)
        item.setData(NAME_ROLE, name)
        item.setData(Qt.ItemDataRole.ToolTipRole, tooltip or name)
        item.setData(HAY_ROLE, hay.lower())
        self.list.addItem(item)

    def add_views(self, views: Sequence[ViewEntry], prefix: str = "") -> None:
        for v in views:
            detail = f"  ·  {v.detail}" if v.detail else ""
            self.add(VIEW_PREFIX + v.key, f"{prefix}{v.title}    {v.kind}{detail}",
                     f"{prefix} {v.title} {v.kind} {v.detail} {v.key}", v.detail)

    def finish(self) -> None:
        column(self.field, self.list, on=self)
        self.field.textChanged.connect(self.filter)
        self.field.returnPressed.connect(self.run_current)
        self.list.itemActivated.connect(lambda _item: self.run_current())
        self.field.installEventFilter(self)
        self.resize(520, 420)
        self.filter("")
        self.field.setFocus()

    def filter(self, text: str) -> None:
        items = [self.list.item(i) for i in range(self.list.count())]
        shown = matches(text.lower().split(), [item.data(HAY_ROLE) for item in items])
        for item, show in zip(items, shown, strict=True):
            item.setHidden(not show)
        self.list.setCurrentItem(next((i for i, show in zip(items, shown, strict=True) if show), None))

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


class Palette(FilterList):
    """Every command with its keys, then every sidebar view."""

    def __init__(self, commands: Sequence[Command], keymap: Keymap, parent=None,
                 views: Sequence[ViewEntry] = ()):
        super().__init__("Commands", "Type to filter commands and views…  (Enter runs, Esc closes)", parent)
        for cmd in commands:
            if cmd.name in ("palette", "normal-mode") or cmd.name.startswith("caret-"):
                continue
            keys = ", ".join(keymap.keys_for(cmd.name))
            title = cmd.title.replace("&", "").rstrip("…")
            self.add(cmd.name, f"{title}    {keys}".rstrip() + f"\n    {cmd.description}",
                     f"{cmd.name} {title} {cmd.description} {keys}")
        self.add_views(views, "Go to ")
        self.finish()


class GoToPicker(FilterList):
    """Every sidebar view (fixed views, tags, digests, feeds, saved searches) by name."""

    def __init__(self, views: Sequence[ViewEntry], parent=None):
        super().__init__("Go to", "Part of a view's name: nov 5, #ml, a feed…  (Enter opens, Esc closes)",
                         parent)
        self.add_views(views)
        self.finish()


class CheatSheet(QDialog):
    """The `?` sheet: the active bindings (core `cheat_sheet_markdown`) and the quick-tag keys."""

    def __init__(self, keymap: Keymap, parent=None, quick_tags: dict[int, str] | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard cheat sheet")
        text = cheat_sheet_markdown(keymap)
        if quick_tags:
            text += "\n\n**Quick tags:** " + ", ".join(f"`{n}` #{t}" for n, t in sorted(quick_tags.items()))
        else:
            text += "\n\n**Quick tags:** none yet (a tag gets the first free key `1`–`9` when first used)."
        self.browser = SafeBrowser()
        self.browser.setHtml(render_markdown(text))
        column(self.browser, on=self)
        self.resize(560, 640)
