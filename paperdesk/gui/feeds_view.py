"""The Feeds view: subscriptions with their health, and the actions on them.

A table (name, group, health, last success, last error in plain words, next refresh, items seen,
interval) over `lib.feeds.all()`; add (probed on a thread of its own: the address may be a page linking
a feed), rename, pause/resume, remove, refresh (see scheduler.py), OPML import/export. Writes go
through `jobs.write` (a job on the writer); the network never runs on the writer, so it never
holds up the user's writes. `FeedsMenu` is the Feeds menu, this view and the scheduler.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

from paperdesk.core.feeds.subscriptions import (
    DEFAULT_EVERY,
    Feed,
    FeedError,
    format_interval,
    normalize_url,
)
from paperdesk.core.library import Library, LibraryError
from paperdesk.gui.job_status import JobStatus
from paperdesk.gui.jobs import JobRunner
from paperdesk.gui.layout import button, column, row, wrapped
from paperdesk.gui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QAction,
    QByteArray,
    QFileDialog,
    QGuiApplication,
    QHeaderView,
    QInputDialog,
    QMenu,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    Qt,
    QTableView,
    QWidget,
    Signal,
)
from paperdesk.gui.scheduler import FeedScheduler

COLUMNS = (("name", "Feed"), ("group", "Group"), ("health", "Health"), ("success", "Last success"),
           ("error", "Last error"), ("next", "Next refresh"), ("items", "Items"), ("every", "Every"))
FEED_ID_ROLE = Qt.ItemDataRole.UserRole + 1
GEOMETRY_KEY = "feeds/geometry"


def when(iso: str | None, now: dt.datetime | None = None) -> str:
    """'3 min ago', 'in 2 h', 'now' or '' for a stored ISO UTC stamp."""
    if not iso:
        return ""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    seconds = ((now or dt.datetime.now(dt.UTC)) - moment).total_seconds()
    span = abs(seconds)
    if span < 60:
        return "now"
    amount = (f"{span / 60:.0f} min" if span < 3600 else f"{span / 3600:.0f} h" if span < 86400
              else f"{span / 86400:.0f} d")
    return f"{amount} ago" if seconds > 0 else f"in {amount}"


class FeedsModel(QAbstractTableModel):
    def __init__(self, lib: Library, parent=None):
        super().__init__(parent)
        self.lib = lib
        self.feeds: list[Feed] = []
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self.feeds = self.lib.feeds.all()
        self.endResetModel()

    def feed_at(self, row: int) -> Feed | None:
        return self.feeds[row] if 0 <= row < len(self.feeds) else None

    def row_of(self, feed_id: int) -> int | None:
        return next((n for n, f in enumerate(self.feeds) if f.id == feed_id), None)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.feeds)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        feed = self.feed_at(index.row()) if index.isValid() else None
        if feed is None:
            return None
        key = COLUMNS[index.column()][0]
        if role == FEED_ID_ROLE:
            return feed.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return feed.last_error if key == "error" and feed.last_error else feed.url
        if role == Qt.ItemDataRole.TextAlignmentRole and key == "items":
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return self.text(feed, key)

    @staticmethod
    def text(feed: Feed, key: str) -> str:
        if key == "health":
            failing = f" ({feed.failures}×)" if feed.failures > 1 else ""
            return {"ok": "OK", "new": "not fetched yet", "paused": "paused",
                    "failing": "failing" + failing}[feed.health]
        if key == "next":
            return "paused" if feed.paused else (when(feed.next_refresh) or "now")
        return {"name": feed.name, "group": feed.feed_group, "success": when(feed.last_success) or "never",
                "error": feed.last_error or "", "items": str(feed.items_seen),
                "every": format_interval(feed.every_seconds)}[key]


class FeedsView(QWidget):
    """The subscriptions table and its buttons; a top-level tool window of the desk (Esc closes it)."""

    _probed = Signal(object)  # (feed url, title) or a message, from the probe thread
    closing = Signal()

    def __init__(self, lib: Library, jobs: JobRunner, scheduler: FeedScheduler, parent: QWidget):
        super().__init__(parent, Qt.WindowType.Window)
        self._probed.connect(self._add_probed)
        self.lib, self.jobs, self.scheduler = lib, jobs, scheduler
        self.setWindowTitle("Feeds")
        self.resize(900, 360)
        self.model = FeedsModel(self.lib, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        # The name (user-sized) and the last error (the rest) get the room; the others fit their text.
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 260)
        self.message = wrapped()
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = {name: button(title, slot) for name, title, slot in (
            ("add", "Add…", self.ask_add), ("rename", "Rename…", self.ask_rename),
            ("pause", "Pause / resume", self.toggle_pause), ("remove", "Remove", self.remove_selected),
            ("refresh", "Refresh selected", self.refresh_selected), ("refresh-all", "Refresh all",
                                                                     self.refresh_all),
            ("import", "Import OPML…", self.ask_import_opml), ("export", "Export OPML…",
                                                              self.ask_export_opml))}
        column(row(*self.buttons.values(), 1), (self.table, 1), self.message, on=self)

        jobs.finished.connect(self._after_job)
        jobs.failed.connect(self._after_job)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event) -> None:
        self.closing.emit()
        super().closeEvent(event)

    # -- helpers ------------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.message.setText(text)

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [f.id for r in rows if (f := self.model.feed_at(r)) is not None]

    def select_ids(self, ids: list[int]) -> None:
        self.table.clearSelection()
        for feed_id in ids:
            row = self.model.row_of(feed_id)
            if row is not None:
                self.table.selectRow(row)

    def reload(self) -> None:
        keep = self.selected_ids()
        self.model.reload()
        self.select_ids(keep)
        self._update_buttons()

    def _update_buttons(self, *_args: object) -> None:
        chosen = bool(self.selected_ids())
        for name in ("rename", "pause", "remove", "refresh"):
            self.buttons[name].setEnabled(chosen)
        self.buttons["export"].setEnabled(bool(self.model.feeds))

    def _after_job(self, *_args: object) -> None:
        if self.isVisible():
            self.reload()

    def _write(self, label: str, fn, done=None) -> None:
        """A small change through the desk's one-writer rule; a refused change is one line here."""
        def finish(result: object) -> None:
            if isinstance(result, LibraryError):  # FeedError too: bad input changes nothing
                self.say(str(result))
            elif done:
                done(result)
            self.reload()

        self.jobs.write(label, fn, finish, refused=LibraryError)

    # -- actions ------------------------------------------------------------------------------------
    def ask_add(self) -> None:
        url, ok = QInputDialog.getText(self, "Add feed", "Feed or page address (or a folder path):")
        if ok and url.strip():
            self.add(url.strip())

    def add(self, url: str, name: str | None = None, check: bool = True) -> None:
        """Subscribe; a web address is probed first on a thread of its own (the network never blocks
        here nor the writer)."""
        try:
            url = normalize_url(url)
        except FeedError as exc:
            self.say(str(exc))
        else:
            if url.startswith("file:") or not check:
                self._write("Add feed", lambda lib: lib.feeds.add(url, name),
                            lambda feed: self.say(f"Added {feed.name}"))
            else:
                self.say(f"Checking {url}…")
                threading.Thread(target=self._probe, args=(url, name), name="paperdesk-probe",
                                 daemon=True).start()

    def _probe(self, url: str, name: str | None) -> None:
        """On its own thread (no database): what the address is, handed back by a queued signal."""
        from paperdesk.core.feeds.discover import ProbeError, probe

        try:
            found = probe(url)
            result: object = (found.url, name or found.title)
        except ProbeError as exc:
            result = str(exc)
        except Exception as exc:  # a bug must not pass silently, nor kill the desk
            result = f"unexpected problem: {type(exc).__name__}: {exc}"
        try:
            self._probed.emit(result)
        except RuntimeError:  # the view went away meanwhile
            pass

    def _add_probed(self, result: object) -> None:
        if isinstance(result, str):
            self.say(result)
            return
        url, title = result  # type: ignore[misc]
        self._write("Add feed", lambda lib: lib.feeds.add(url, title, every_seconds=DEFAULT_EVERY),
                    lambda feed: self.say(f"Added {feed.name}"))

    def ask_rename(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        feed = self.model.feed_at(self.model.row_of(ids[0]) or 0)
        name, ok = QInputDialog.getText(self, "Rename feed", "Name:", text=feed.name if feed else "")
        if ok:
            self.rename(ids[0], name)

    def rename(self, feed_id: int, name: str) -> None:
        self._write("Rename feed", lambda lib: lib.feeds.rename(feed_id, name),
                    lambda feed: self.say(f"Renamed to {feed.name}"))

    def toggle_pause(self) -> None:
        ids = self.selected_ids()
        feeds = [f for f in self.model.feeds if f.id in ids]
        if not feeds:
            return
        pause = not all(f.paused for f in feeds)
        self._write("Pause feeds", lambda lib: [lib.feeds.set_paused(f.id, pause) for f in feeds],
                    lambda _r: self.say(f"{'Paused' if pause else 'Resumed'} {len(feeds)} feed(s)"))

    def remove_selected(self) -> None:
        """No confirmation: unsubscribing is undoable, and the feed's papers stay in the library."""
        ids = self.selected_ids()
        if not ids:
            return
        self._write("Remove feeds", lambda lib: [lib.feeds.remove(i) for i in ids],
                    lambda _r: self.say(f"Removed {len(ids)} feed(s); their papers stay (Edit > Undo "
                                        "brings the subscription back)"))

    def refresh_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.scheduler.refresh(ids, due_only=False)

    def refresh_all(self) -> None:
        self.scheduler.refresh(None, due_only=False)

    def ask_import_opml(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import OPML", str(Path.home()),
                                              "OPML (*.opml *.xml);;All files (*)")
        if path:
            self.import_opml(Path(path))

    def import_opml(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.say(f"cannot read {path}: {exc.strerror}")
            return
        self._write("Import OPML", lambda lib: lib.feeds.import_opml(data),
                    lambda result: self.say(f"Imported {len(result.added)} feed(s) from {path.name}"
                                            + (f"; {len(result.already)} already subscribed"
                                               if result.already else "")))

    def ask_export_opml(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export OPML", str(Path.home() / "paperdesk-feeds.opml"),
                                              "OPML (*.opml)")
        if path:
            self.export_opml(Path(path))

    def export_opml(self, path: Path) -> bool:
        try:
            path.write_bytes(self.lib.feeds.export_opml())
        except OSError as exc:
            self.say(f"cannot write {path}: {exc.strerror}")
            return False
        self.say(f"Exported {sum(1 for f in self.model.feeds if not f.is_folder)} feed(s) to {path}")
        return True


class FeedsMenu:
    """The Feeds menu (manage, refresh now), its view (made when first shown) and the scheduler of
    due refreshes (started with `start`)."""

    def __init__(self, lib: Library, jobs: JobRunner, job_status: JobStatus, status: Callable[..., None],
                 window: QWidget, menu: QMenu, *, start: bool = True, settings: QSettings | None = None):
        self.lib, self.jobs, self.window, self.settings = lib, jobs, window, settings
        self.scheduler = FeedScheduler(lib, jobs, job_status, status, window)
        self.view: FeedsView | None = None
        self.actions: dict[str, QAction] = {}
        for name, title, tip, slot in (
                ("feeds-manage", "&Manage feeds…", "Subscriptions, their health, OPML", self.show),
                ("feeds-refresh", "&Refresh feeds now", "Refresh every active feed in the background",
                 lambda: self.scheduler.refresh(None, due_only=False))):
            action = self.actions[name] = QAction(title, window)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _checked=False, s=slot: s())
            menu.addAction(action)
        if start:
            self.scheduler.start()

    def show(self) -> FeedsView:
        if self.view is None:
            self.view = FeedsView(self.lib, self.jobs, self.scheduler, self.window)
            self._place(self.view)
        self.view.reload()
        self.view.show()
        if QGuiApplication.platformName() != "offscreen":  # offscreen warns that it cannot raise
            self.view.raise_()
        return self.view

    def _place(self, view: FeedsView) -> None:
        """Where the view was last left, else over the desk's middle (a top-level window is placed
        by the window manager, which may put it half off the screen); remembered when it closes."""
        geometry = self.settings.value(GEOMETRY_KEY) if self.settings is not None else None
        if not (isinstance(geometry, QByteArray | bytes) and view.restoreGeometry(QByteArray(geometry))):
            frame = view.frameGeometry()
            frame.moveCenter(self.window.frameGeometry().center())
            view.move(frame.topLeft())
        if self.settings is not None:
            settings = self.settings
            view.closing.connect(lambda: settings.setValue(GEOMETRY_KEY, view.saveGeometry()))
