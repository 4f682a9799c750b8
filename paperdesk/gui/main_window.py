"""The desk: sidebar | paper list | reader, a search field, menus from the command table, jobs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from paperdesk import APP_NAME
from paperdesk.core import Library, LibraryError
from paperdesk.core.changes import Changes
from paperdesk.core.paths import sample_digests
from paperdesk.gui.commands import COMMANDS, MENUS, Command
from paperdesk.gui.jobs import Job, JobRunner
from paperdesk.gui.paper_list import PaperList, SearchOutcome
from paperdesk.gui.paper_model import COLUMN_KEYS, COLUMNS, SORT_COLUMN, PaperModel
from paperdesk.gui.qt import (
    QAbstractItemView,
    QAction,
    QByteArray,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QMainWindow,
    QModelIndex,
    QProgressBar,
    QPushButton,
    QSettings,
    QSplitter,
    Qt,
    QTableView,
    QTimer,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from paperdesk.gui.reader import Reader
from paperdesk.gui.search_field import SearchField
from paperdesk.gui.settings import read_int
from paperdesk.gui.sidebar import Sidebar
from paperdesk.gui.theme import icon
from paperdesk.gui.views import INBOX, View

MARK_READ_MS = 600  # a paper shown this long counts as read (skimming with j/k does not)
DEFAULT_WIDTHS = {"star": 26, "who": 120, "date": 84, "upvotes": 40, "tags": 90, "marks": 26}


class MainWindow(QMainWindow):
    def __init__(self, lib: Library, settings: QSettings, *, remember: bool = True,
                 index_on_start: bool = True):
        super().__init__()
        self.lib = lib
        self.settings = settings
        self.remember = remember  # False for screenshots: read nothing, write nothing
        self.last_import_summary: str | None = None
        self.setWindowTitle(f"{APP_NAME} — {lib.folder}")
        self.setWindowIcon(icon("digest"))
        self.setAcceptDrops(True)

        self.jobs = JobRunner(lib.folder, self)
        self.model = PaperModel(lib, self)
        self.papers = PaperList(lib, self.model, self)
        self._build_widgets()
        self._build_status_bar()
        self.command_actions: dict[str, QAction] = {}
        self._build_commands()

        self.jobs.started.connect(self._job_started)
        self.jobs.progress.connect(self._job_progress)
        self.jobs.idle.connect(self._job_idle)
        self.jobs.changed.connect(self._on_changes)
        self.jobs.failed.connect(lambda job, msg: self.status(f"{job.label}: {msg}"))
        lib.subscribe(self._on_changes)
        self._sidebar_timer = QTimer(self, singleShot=True, interval=0)
        self._sidebar_timer.timeout.connect(self.sidebar.refresh)
        self._read_timer = QTimer(self, singleShot=True, interval=MARK_READ_MS)
        self._read_timer.timeout.connect(self._mark_current_read)

        self.papers.reloaded.connect(self._after_reload)
        self.papers.searched.connect(self._show_search_outcome)
        self.sidebar.view_selected.connect(self.set_view)
        self.search.query_changed.connect(self.papers.set_query)
        self.search.leave.connect(self._focus_list)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._sort_changed)

        self._restore()
        self._update_banner()
        if index_on_start:
            self._start_indexing()

    # -- building -----------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.sidebar = Sidebar(self.lib)
        self.sidebar.setMinimumWidth(150)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = self.table.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row sizing: 100k rows are free
        vh.setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        hh = self.table.horizontalHeader()
        hh.setSectionsClickable(True)
        hh.setSortIndicatorShown(True)
        hh.setHighlightSections(False)
        hh.setStretchLastSection(False)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(COLUMN_KEYS.index("title"), QHeaderView.ResizeMode.Stretch)
        for key, width in DEFAULT_WIDTHS.items():
            self.table.setColumnWidth(COLUMN_KEYS.index(key), width)
        hh.setSortIndicator(SORT_COLUMN["date"], Qt.SortOrder.DescendingOrder)

        self.banner = QFrame()
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        banner_layout = QHBoxLayout(self.banner)
        self.banner_label = QLabel("Your library is empty. Import the sample digests to look around, "
                                   "or drop digest files here.")
        self.banner_label.setWordWrap(True)
        self.banner_button = QPushButton(icon("import"), "Import sample digests")
        self.banner_button.clicked.connect(self.import_samples)
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(self.banner_button)

        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.setSpacing(0)
        middle_layout.addWidget(self.banner)
        middle_layout.addWidget(self.table, 1)

        self.reader = Reader()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self.reader)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([200, 680, 400])
        self.setCentralWidget(self.splitter)

        self.search = SearchField()
        self.toolbar = QToolBar("Main")
        self.toolbar.setObjectName("main-toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.addToolBar(self.toolbar)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.count_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setIcon(icon("cancel"))
        self.cancel_button.setToolTip("Cancel the background job")
        self.cancel_button.clicked.connect(lambda: self.jobs.cancel_all())
        self.cancel_button.hide()
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.count_label)

    def _build_commands(self) -> None:
        menus = {name: self.menuBar().addMenu(f"&{name}") for name in MENUS}
        for cmd in COMMANDS:
            action = self._action_for(cmd)
            self.command_actions[cmd.name] = action
            if cmd.menu:
                menus[cmd.menu].addAction(action)
                if cmd.name in ("cancel-job", "redo", "archive"):
                    menus[cmd.menu].addSeparator()
            if cmd.toolbar:
                self.toolbar.addAction(action)
        self.toolbar.addSeparator()
        self.toolbar.addWidget(self.search)
        self.command_actions["cancel-job"].setEnabled(False)

    def _action_for(self, cmd: Command) -> QAction:
        action = QAction(cmd.title, self)
        action.setStatusTip(cmd.description)
        action.setToolTip(f"{cmd.title.replace('&', '')} ({', '.join(cmd.keys)})" if cmd.keys
                          else cmd.title.replace("&", ""))
        if cmd.icon:
            action.setIcon(icon(cmd.icon))
        action.setShortcuts([QKeySequence(k) for k in cmd.keys])
        if cmd.scope == "list":  # single letters: only while the list has focus (normal mode)
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.table.addAction(action)
        else:
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)
        action.triggered.connect(lambda _checked=False, c=cmd: self.run_command(c.name))
        return action

    def run_command(self, name: str) -> object:
        cmd = next(c for c in COMMANDS if c.name == name)
        try:
            return cmd.run(self)
        except LibraryError as exc:
            self.status(str(exc))
            return None

    # -- status -------------------------------------------------------------------------------
    def status(self, message: str, ms: int = 8000) -> None:
        self.statusBar().showMessage(message, ms)

    def _update_count(self) -> None:
        n = self.model.rowCount()
        what = self.papers.view.title
        if self.papers.searching and self.papers.last_search is not None:
            self.count_label.setText(f"{n} {'match' if n == 1 else 'matches'} in {what}")
        else:
            self.count_label.setText(f"{n:,} papers in {what}")

    def _show_search_outcome(self, outcome: SearchOutcome) -> None:
        if outcome.message:
            self.status(outcome.message, 0)
        else:
            self.statusBar().clearMessage()

    # -- views, sort, selection ---------------------------------------------------------------
    def set_view(self, view: View) -> None:
        if view.key != self.sidebar.current_key():
            self.sidebar.select_key(view.key, emit=False)
        self.papers.set_view(view)

    def go_to(self, key: str) -> None:
        view = self.sidebar.view(key)
        if view is not None:
            self.set_view(view)

    def _sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        lib_order = COLUMNS[column][2]
        hh = self.table.horizontalHeader()
        if lib_order is None:  # not sortable: put the indicator back
            hh.blockSignals(True)
            col = SORT_COLUMN[self.papers.order]
            hh.setSortIndicator(col, self._qt_order(self.papers.order, self.papers.ascending))
            hh.blockSignals(False)
            return
        self.papers.set_sort(lib_order, order == Qt.SortOrder.AscendingOrder)

    @staticmethod
    def _qt_order(order: str, ascending: bool) -> Qt.SortOrder:
        return Qt.SortOrder.AscendingOrder if ascending else Qt.SortOrder.DescendingOrder

    def _after_reload(self) -> None:
        """Keep the same paper current across a reload; else the same row (archive → next)."""
        self._update_count()
        keep_id, keep_row = getattr(self, "_reload_anchor", (None, 0))
        if self.papers.fresh_list:
            self.papers.fresh_list = False
            keep_id, keep_row = None, 0
        row = self.model.row_of(keep_id) if keep_id else None
        if row is None and self.model.rowCount():
            row = min(keep_row, self.model.rowCount() - 1)
        if row is not None:
            self.table.setCurrentIndex(self.model.index(row, COLUMN_KEYS.index("title")))
            self.table.scrollTo(self.model.index(row, 0))
        else:
            self.reader.show_record(None)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        pid = self.model.id_at(current.row()) if current.isValid() else None
        self._reload_anchor = (pid, current.row() if current.isValid() else 0)
        self.show_paper(pid)

    def show_paper(self, paper_id: str | None) -> None:
        record = self.lib.get(paper_id) if paper_id else None
        self.reader.show_record(record, self.model.snippet(paper_id) if paper_id else None)
        self._read_timer.start() if record else self._read_timer.stop()

    def current_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        ids = [self.model.id_at(r) for r in rows]
        if not ids and self.current_id():
            ids = [self.current_id()]
        return [i for i in ids if i]

    def move_current(self, step: int) -> None:
        n = self.model.rowCount()
        if not n:
            return
        row = self.table.currentIndex().row()
        row = 0 if row < 0 else max(0, min(n - 1, row + step))
        self.table.setCurrentIndex(self.model.index(row, COLUMN_KEYS.index("title")))

    def _focus_list(self) -> None:
        self.table.setFocus()
        if not self.table.currentIndex().isValid():
            self.move_current(0)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # -- writes -------------------------------------------------------------------------------
    def write(self, label: str, fn: Callable[[Library], object],
              done: Callable[[object], None] | None = None) -> None:
        """Run a small change now on the GUI thread, or queue it behind a running job (one writer)."""
        if self.jobs.busy:
            self.jobs.run(label, lambda lib, _p, _c: fn(lib), on_success=done)
            return
        result = fn(self.lib)
        if done:
            done(result)

    def toggle_star(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        rows = self.lib.rows(ids)
        starred = not all(r["starred"] for r in rows)
        self.write("Star", lambda lib: lib.star(ids, starred))

    def toggle_archive(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        rows = self.lib.rows(ids)
        status = "inbox" if all(r["status"] == "archived" for r in rows) else "archived"
        self.write("Archive", lambda lib: lib.set_status(ids, status))

    def undo(self) -> None:
        self.write("Undo", lambda lib: lib.undo(), lambda result: self._undo_done("Undid", result))

    def redo(self) -> None:
        self.write("Redo", lambda lib: lib.redo(), lambda result: self._undo_done("Redid", result))

    def _undo_done(self, verb: str, result: object) -> None:
        op, _changes = result  # type: ignore[misc]
        self.status(f"{verb}: {op.label}" if op else f"Nothing to {verb[:4].lower()}")

    def _mark_current_read(self) -> None:
        pid = self.current_id()
        if not pid or pid != self.reader.paper_id:
            return
        row = self.model.row_data(self.model.row_of(pid) or 0)
        if row.get("id") == pid and row.get("is_read") == 0:
            self.write("Mark read", lambda lib: lib.mark_read([pid]),
                       lambda _r: self.model.refresh_rows({pid}))

    # -- changes ------------------------------------------------------------------------------
    def _on_changes(self, changes: Changes) -> None:
        """The one refresh hook: every operation's Changes, from this thread or the writer's."""
        self.papers.apply(changes)
        self._update_count()
        if changes.tags or changes.sources or changes.papers or changes.added or changes.removed \
                or changes.saved_searches:
            self._sidebar_timer.start()
        pid = self.reader.paper_id
        if pid and (pid in changes.papers or changes.notes):
            self.show_paper(pid)
        self._update_banner()

    # -- search index -------------------------------------------------------------------------
    def _start_indexing(self) -> None:
        """Build or catch up the search index on the writer thread; search by title meanwhile."""
        if not hasattr(self.lib, "search"):
            return
        from paperdesk.core.search.index import SearchIndex

        pending = self.lib.conn.execute("SELECT 1 FROM index_queue LIMIT 1").fetchone()
        if SearchIndex.exists(self.lib.folder) and pending is None:
            return
        self.papers.search_ready = False

        def done(_result: object) -> None:
            self.papers.search_ready = True
            if self.papers.searching:
                self.papers.reload()

        def failed(message: str) -> None:
            self.papers.search_ready = True
            self.status(f"search index: {message}")

        self.jobs.run("Index for search", lambda lib, progress, _c: lib.drain_index(progress),
                      on_success=done, on_failure=failed)

    # -- import -------------------------------------------------------------------------------
    def choose_import(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(
            self, "Import digests", str(Path.home()), "Digests (*.txt *.md *.html);;All files (*)")
        if paths:
            self.import_files(paths)

    def import_samples(self) -> None:
        self.import_files(sample_digests())

    def import_files(self, paths: Sequence[str | Path]) -> Job | None:
        paths = [str(p) for p in paths]
        if not paths:
            return None
        self.banner_button.setEnabled(False)

        def work(lib: Library, progress, cancelled):
            return lib.import_paths(paths, progress=progress, cancelled=cancelled)

        return self.jobs.run(f"Import {len(paths)} file{'s' if len(paths) != 1 else ''}", work,
                             on_success=self._import_done,
                             on_failure=lambda msg: self.banner_button.setEnabled(True))

    def _import_done(self, report: object) -> None:
        summary = report.summary()  # type: ignore[attr-defined]
        if getattr(report, "cancelled", False):
            summary += " (cancelled)"
        self.last_import_summary = summary
        self.status(summary, 0)
        self.banner_button.setEnabled(True)
        self._update_banner()

    def _update_banner(self) -> None:
        self.banner.setVisible(self.lib.stats()["papers"] == 0 if not self.model.rowCount() else False)

    def _job_started(self, job: Job) -> None:
        self.progress.setRange(0, 0)
        self.progress.setFormat(job.label)
        self.progress.show()
        self.cancel_button.show()
        self.command_actions["cancel-job"].setEnabled(True)

    def _job_progress(self, job: Job, done: int, total: int, what: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}/{total} %p%")
        if what:
            self.statusBar().showMessage(f"{job.label}: {what}")

    def _job_idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.command_actions["cancel-job"].setEnabled(False)

    # -- drag and drop ------------------------------------------------------------------------
    @staticmethod
    def _dropped_files(mime) -> list[str]:
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and Path(u.toLocalFile()).is_file()]

    def dragEnterEvent(self, event) -> None:
        if self._dropped_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        files = self._dropped_files(event.mimeData())
        if files:
            event.acceptProposedAction()
            self.import_files(files)
        else:
            event.ignore()

    # -- settings -----------------------------------------------------------------------------
    def _restore(self) -> None:
        s = self.settings
        view_key = "inbox"
        if self.remember:
            geometry = s.value("window/geometry")
            if isinstance(geometry, QByteArray):
                self.restoreGeometry(geometry)
            splitter = s.value("window/splitter")
            if isinstance(splitter, QByteArray):
                self._pending_splitter = splitter  # applied at first show, once the window has its size
            header = s.value("list/header")
            if isinstance(header, QByteArray):
                self.table.horizontalHeader().restoreState(header)
            order = str(s.value("list/order", "date"))
            if order in SORT_COLUMN:
                self.papers.order = order
                self.papers.ascending = read_int(s, "list/ascending", 0) == 1
            view_key = str(s.value("list/view", "inbox"))
        hh = self.table.horizontalHeader()
        hh.blockSignals(True)
        hh.setSortIndicator(SORT_COLUMN[self.papers.order],
                            self._qt_order(self.papers.order, self.papers.ascending))
        hh.blockSignals(False)
        view = self.sidebar.view(view_key) or INBOX
        self.sidebar.select_key(view.key, emit=False)
        self.papers.set_view(view)

    def save_settings(self) -> None:
        if not self.remember:
            return
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("list/header", self.table.horizontalHeader().saveState())
        s.setValue("list/order", self.papers.order)
        s.setValue("list/ascending", 1 if self.papers.ascending else 0)
        s.setValue("list/view", self.papers.view.key)
        s.sync()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        state = getattr(self, "_pending_splitter", None)
        if state is not None:
            self._pending_splitter = None
            self.layout().activate()  # give the splitter its real width before sizing its panes
            self.splitter.restoreState(state)

    def closeEvent(self, event) -> None:
        # A closed window is only hidden: stop its timers so nothing touches the library later.
        self._read_timer.stop()
        self._sidebar_timer.stop()
        self.search.cancel_pending()
        self.save_settings()
        self.jobs.shutdown()
        super().closeEvent(event)
