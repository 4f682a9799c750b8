"""The sidebar: fixed views, tags, digests and feeds, arXiv categories, saved searches, each with a count.

The names of the fixed views are there at once; counts, tags, sources, categories and saved
searches come from the reader thread (`fetch`, the desk's `MainWindow._refresh_sidebar`): at 1M
papers the full read takes ~170 ms, which the GUI thread never waits for.

Clicks choose a view and leave the keys with the list; `Tab` or `g h` bring the keys here, where
`j`/`k` (and the arrows) choose a view and `Return` or `Esc` go back to the list. `entries()` lists
every view for the go-to picker and the palette, also the categories past the first
`CATEGORIES_SHOWN` (hidden in the tree until chosen)."""

from __future__ import annotations

from dataclasses import dataclass

from paperdesk.core import Library
from paperdesk.core.words import count_of
from paperdesk.gui.qt import QAbstractItemView, QKeyEvent, Qt, QTreeWidget, QTreeWidgetItem, Signal
from paperdesk.gui.theme import icon
from paperdesk.gui.views import (
    FIXED_VIEWS,
    View,
    ViewEntry,
    category_view,
    digest_views,
    saved_view,
    source_view,
    tag_view,
)

VIEW_ROLE = Qt.ItemDataRole.UserRole + 1
FIXED_ICONS = {"inbox": "inbox", "starred": "star", "all": "all", "archive": "archive"}
GROUP_KINDS = {"tags": "tag", "digests": "digest", "feeds": "feed", "categories": "category",
               "saved": "saved search"}
CATEGORIES_SHOWN = 30  # the most papers first; the rest through the go-to picker (arXiv has ~150)


class Sidebar(QTreeWidget):
    view_selected = Signal(object)  # View
    leave = Signal()  # Return: back to the list
    # Keys the sidebar handles itself when it has focus; other keys are the desk's (normal mode).
    own_keys = frozenset({"j", "k", "Up", "Down", "Home", "End", "PgUp", "PgDown", "Left", "Right",
                          "Return", "Enter"})

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setColumnCount(2)
        self.setRootIsDecorated(True)
        self.setIndentation(12)
        # A name too long for the sidebar keeps its start and its end ("Nov 5, 2026 · hf-…ing"):
        # names alike at the start differ at the end.
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # A click leaves the keys with the list; Tab (or `g h`) brings them here.
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._groups: dict[str, QTreeWidgetItem] = {}
        self._views: dict[str, View] = {}
        self.papers: int | None = None  # in the library, as last read (None: not read yet)
        self.tag_counts: dict[str, int] = {}  # papers per tag, as last read
        for view in FIXED_VIEWS:
            item = QTreeWidgetItem(self, [view.title, ""])
            item.setIcon(0, icon(FIXED_ICONS[view.key]))
            self._add(item, view)
        for key, title in (("tags", "Tags"), ("digests", "Digests"), ("feeds", "Feeds"),
                           ("categories", "Categories"), ("saved", "Saved searches")):
            group = QTreeWidgetItem(self, [title, ""])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            group.setExpanded(True)
            self._groups[key] = group
        self.currentItemChanged.connect(self._on_current)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, self.header().ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, self.header().ResizeMode.ResizeToContents)

    def _add(self, item: QTreeWidgetItem, view: View) -> None:
        item.setData(0, VIEW_ROLE, view.key)
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._items[view.key] = item
        self._views[view.key] = view

    def view(self, key: str) -> View | None:
        return self._views.get(key)

    def views(self) -> list[View]:
        return list(self._views.values())

    def apply(self, data: SidebarData) -> None:
        """Show what `fetch` read on the reader thread; what it did not read stays as it is."""
        for key, n in data.counts.items():
            self._items[key].setText(1, str(n))
        self.papers = data.counts["all"]
        self.tag_counts = dict(data.tags)
        current = self.current_key()
        self._fill("tags", [(tag_view(t), n, "tag") for t, n in data.tags.items()])
        if data.sources is None:
            return
        digests = [s for s in data.sources if s["kind"] == "digest"]
        views = digest_views(digests)
        self._fill("digests", [(view, s["papers"], "digest") for view, s in zip(views, digests, strict=True)])
        feeds = sorted((s for s in data.sources if s["kind"] != "digest"),  # by name, newest first
                       key=lambda s: (s["name"].casefold(), [-ord(ch) for ch in s["date"] or ""]))
        self._fill("feeds", [(source_view(s, by_name=True), s["papers"], "feed") for s in feeds])
        if data.categories is not None:
            self._fill("categories", [(category_view(c), n, "category") for c, n in data.categories])
            self._hide_rare_categories()
        self._fill("saved", [(saved_view(name, query), None, "saved-search")
                             for name, query in data.saved or []])
        if current and current in self._items and self.current_key() != current:
            self.select_key(current, emit=False)

    def _fill(self, group_key: str, entries: list[tuple[View, int | None, str]]) -> None:
        group = self._groups[group_key]
        wanted = [v.key for v, _, _ in entries]
        existing = {group.child(i).data(0, VIEW_ROLE): group.child(i) for i in range(group.childCount())}
        for key, item in existing.items():
            if key not in wanted:
                group.removeChild(item)
                self._items.pop(key, None)
                self._views.pop(key, None)
        for n, (view, count, icon_name) in enumerate(entries):
            item = existing.get(view.key)
            if item is None:
                item = QTreeWidgetItem([view.title, ""])
                item.setIcon(0, icon(icon_name))
                group.insertChild(n, item)
                self._add(item, view)
            item.setText(0, view.title)  # (a digest is named anew when another has its date)
            item.setToolTip(0, view.tooltip or view.title)
            self._views[view.key] = view
            item.setText(1, "" if count is None else str(count))
        group.setHidden(not entries)

    def _hide_rare_categories(self) -> None:
        """Show the first `CATEGORIES_SHOWN` categories (and the current view's), hide the rest."""
        group, current = self._groups["categories"], self.current_key()
        for n in range(group.childCount()):
            item = group.child(n)
            item.setHidden(n >= CATEGORIES_SHOWN and item.data(0, VIEW_ROLE) != current)

    def entries(self) -> list[ViewEntry]:
        """Every view in sidebar order, with its kind and what the sidebar shows beside it."""
        found = []
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            kind = next((GROUP_KINDS[k] for k, g in self._groups.items() if g is top), None)
            children = [top] if kind is None else [top.child(n) for n in range(top.childCount())]
            for item in children:
                key = item.data(0, VIEW_ROLE)
                view = self._views.get(key)
                if view is None:
                    continue
                count = item.text(1)
                where = (view.tooltip or "").split(" (")[0]  # a digest's file name, not its folder
                papers = count_of(int(count), "paper") if count.isdigit() else ""
                detail = " · ".join(x for x in (papers, view.query or "",
                                                 where if where != view.title else "") if x)
                found.append(ViewEntry(key, view.title, kind or "view", detail))
        return found

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.leave.emit()
            return
        step = {Qt.Key.Key_J: Qt.Key.Key_Down, Qt.Key.Key_K: Qt.Key.Key_Up}.get(Qt.Key(key))
        if step is not None and not event.modifiers():
            event = QKeyEvent(event.type(), step, Qt.KeyboardModifier.NoModifier)
        super().keyPressEvent(event)

    def current_key(self) -> str | None:
        item = self.currentItem()
        return item.data(0, VIEW_ROLE) if item else None

    def select_key(self, key: str, emit: bool = True) -> bool:
        item = self._items.get(key)
        if item is None:
            return False
        item.setHidden(False)  # a rare category chosen in the go-to picker shows where it is
        if not emit:
            self.blockSignals(True)
        self.setCurrentItem(item)
        if not emit:
            self.blockSignals(False)
        return True

    def _on_current(self, item: QTreeWidgetItem | None, _previous) -> None:
        key = item.data(0, VIEW_ROLE) if item else None
        if key and key in self._views:
            self.view_selected.emit(self._views[key])


@dataclass
class SidebarData:
    counts: dict[str, int]  # fixed view key -> papers
    tags: dict[str, int]
    sources: list[dict] | None = None  # None: not read (a star or archive changes no source)
    saved: list[tuple[str, str]] | None = None
    categories: list[tuple[str, int]] | None = None  # primary category -> papers, most first


def fetch(lib: Library, counts_only: bool = False) -> SidebarData:
    """What the sidebar shows, read from `lib` (Qt-free: the desk runs it on its reader thread)."""
    stats = lib.stats()
    data = SidebarData(counts={"inbox": stats["inbox"], "starred": stats["starred"], "all": stats["papers"],
                               "archive": stats["archived"]}, tags=dict(stats["tags"]))
    if not counts_only:
        data.sources = list(lib.sources())
        data.saved = lib.search.saved()
        # Categories change only with papers added or removed, which always ask for this full read.
        data.categories = lib.category_counts()
    return data
