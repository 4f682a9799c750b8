"""The desk: sidebar | paper list | reader, a search field, menus from the command table, jobs.

The window builds the widgets and holds the state (view, selection, settings, changes); its
commands come in mixins: `window_writes` (star, tag, archive, marks), `window_papers` (the current
paper's commands, dialogs), `window_import` (import, dropped files, job progress).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

from paperdesk import APP_NAME
from paperdesk.core import Library, LibraryError
from paperdesk.core import keymap as core_keymap
from paperdesk.core.changes import Changes
from paperdesk.gui.commands import BY_NAME, COMMANDS, MENUS, TOOLBAR_ORDER, Command
from paperdesk.gui.feeds_view import install_feeds
from paperdesk.gui.for_you import ForYou
from paperdesk.gui.gil import IdleCollector
from paperdesk.gui.jobs import JobRunner
from paperdesk.gui.keys import KeyDispatcher, key_name
from paperdesk.gui.paper_list import PaperList, SearchOutcome
from paperdesk.gui.paper_model import COLUMN_KEYS, COLUMNS, SORT_COLUMN, PaperModel
from paperdesk.gui.paper_table import PaperTable
from paperdesk.gui.qt import (
    QAbstractItemView,
    QAction,
    QApplication,
    QByteArray,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMenu,
    QModelIndex,
    QProgressBar,
    QPushButton,
    QSettings,
    QSplitter,
    Qt,
    QTimer,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from paperdesk.gui.reader import Reader
from paperdesk.gui.scheduler import FeedScheduler
from paperdesk.gui.search_field import SearchField
from paperdesk.gui.settings import default_window_size, library_key, read_int
from paperdesk.gui.sidebar import Sidebar
from paperdesk.gui.sidebar import fetch as fetch_sidebar
from paperdesk.gui.sort_order import install_sort_menu, show_order
from paperdesk.gui.theme import icon
from paperdesk.gui.views import INBOX, View
from paperdesk.gui.window_import import ImportCommands
from paperdesk.gui.window_papers import PaperCommands
from paperdesk.gui.window_pdf import PdfCommands
from paperdesk.gui.window_writes import WriteCommands

TRIAGE_VIEW_KEYS = ("inbox",)  # views whose papers leave the list when archived
MENU_GIVE_BACK_S = 0.5  # the menu bar taking the focus this soon after a menu closed: Esc left it there
MARK_READ_MS = 600  # a paper shown this long counts as read (skimming with j/k does not)
DEFAULT_WIDTHS = {"star": 26, "who": 120, "date": 88, "upvotes": 40, "tags": 90, "marks": 26}


class MainWindow(WriteCommands, PaperCommands, ImportCommands, PdfCommands, QMainWindow):
    def __init__(self, lib: Library, settings: QSettings, *, remember: bool = True,
                 index_on_start: bool = True, keymap_path: Path | None = None,
                 refresh_feeds: bool = True):
        super().__init__()
        self.lib = lib
        self.settings = settings
        self.remember = remember  # False for screenshots: read nothing, write nothing
        self.last_import_summary: str | None = None
        self.opened_urls: list[str] = []  # pages `o` opened (tests read it)
        self.marked: set[str] = set()  # papers marked with `x` for a bulk action
        self._shown_snippet: str | None = None  # the snippet the reader shows with its paper
        self.triage = None  # a TriageController while a session runs
        self.export_handler: Callable[[], object] | None = None  # set by gui/export_dialog.install_export
        self.feed_scheduler: FeedScheduler | None = None
        self.palette = None
        self._dialogs: list[QWidget] = []  # open non-modal dialogs (kept alive)
        path = keymap_path if keymap_path is not None else core_keymap.user_keymap_path()
        self.keymap = core_keymap.load_keymap(path)
        self.setWindowTitle(f"{APP_NAME} — {lib.folder}")
        self.setWindowIcon(icon("digest"))
        self.setAcceptDrops(True)

        # This window's operations carry its session (core/ops.py): its undo leaves alone what the
        # command line, feed refreshes or another session did meanwhile.
        lib.origin = f"desk:{uuid.uuid4().hex[:12]}"
        self.jobs = JobRunner(lib.folder, self, origin=lib.origin)
        self.model = PaperModel(lib, self)
        self.papers = PaperList(lib, self.model, self)
        self._build_widgets()
        self._build_status_bar()
        self.command_actions: dict[str, QAction] = {}
        self._build_commands()
        self._build_keys()
        self._install_pdf()
        self.for_you = ForYou(self)

        self.jobs.started.connect(self._job_started)
        self.jobs.progress.connect(self._job_progress)
        self.jobs.idle.connect(self._job_idle)
        self.collector = IdleCollector(self)  # full GCs only here, when the writer rests
        self.jobs.idle.connect(self.collector.poke)
        self.jobs.changed.connect(self._on_changes)
        self.jobs.failed.connect(lambda job, msg: self.status(f"{job.label}: {msg}"))
        lib.subscribe(self._on_changes)
        self._sidebar_timer = QTimer(self, singleShot=True, interval=0)
        self._sidebar_full = False
        self._sidebar_owed_full = False
        self._view_to_restore: str | None = None  # the last view, shown once the sidebar names it
        self._progress_message = ""  # the status bar's job progress text, cleared when jobs end
        self._sidebar_timer.timeout.connect(self._refresh_sidebar)
        self._read_timer = QTimer(self, singleShot=True, interval=MARK_READ_MS)
        self._read_timer.timeout.connect(self._mark_current_read)

        self.papers.reloaded.connect(self._after_reload)
        self.papers.searched.connect(self._show_search_outcome)
        self.papers.ranked.connect(self._show_ranking)
        self.sidebar.view_selected.connect(self.set_view)
        self.search.query_changed.connect(self.papers.set_query)
        self.search.leave.connect(self._focus_list)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._sort_changed)

        self.reader.notes.paper_link.connect(self.open_paper)
        self.reader.browser.paper_link.connect(self.open_paper)
        self.reader.browser.highlight_link.connect(self.comment_highlight)
        self.reader.highlight_requested.connect(self.highlight_selection)

        self._restore()
        self._update_banner()
        self._install_export()
        self.feed_scheduler = install_feeds(self, start=refresh_feeds)
        self._watch_menus()  # all menus are built now
        # A search shown while the index catches up is re-run on the fuller index.
        self.jobs.indexed.connect(lambda _n: self.papers.reload() if self.papers.searching else None)
        self.jobs.indexed.connect(self._rules_on_new_papers)
        if self.keymap.problems:  # shown once, at start
            more = f" (and {len(self.keymap.problems) - 1} more)" if len(self.keymap.problems) > 1 else ""
            self.status(f"Key bindings: {self.keymap.problems[0]}{more}", 0)
            self.statusBar().setToolTip("\n".join(self.keymap.problems))
        if index_on_start:
            self._start_indexing()
        if self.papers.search_ready:
            self.papers.warm_search()

    # -- building -----------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.sidebar = Sidebar()
        self.sidebar.setMinimumWidth(150)

        self.table = PaperTable(self.model, self.marked)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the list (to the reader, the sidebar…)
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
        install_sort_menu(self)

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

        self.reader = Reader(self.lib, self.write)
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
        self.cancel_button.clicked.connect(self.cancel_background)
        self.cancel_button.hide()
        self.triage_label = QLabel()
        self.triage_progress = QProgressBar()
        self.triage_progress.setMaximumWidth(120)
        self.triage_progress.setTextVisible(False)
        self.triage_label.hide()
        self.triage_progress.hide()
        self.marked_label = QLabel()
        self.mode_label = QLabel()
        self.mode_label.setToolTip("Key mode: NORMAL (letters are commands), INSERT (typing), PALETTE, "
                                   "CARET (choosing words in the reader), MENU (the menu bar has the keys)")
        bar.addPermanentWidget(self.triage_label)
        bar.addPermanentWidget(self.triage_progress)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.marked_label)
        bar.addPermanentWidget(self.count_label)
        bar.addPermanentWidget(self.mode_label)

    def _build_commands(self) -> None:
        menus = {name: self.menuBar().addMenu(f"&{name}") for name in MENUS}
        for cmd in COMMANDS:
            action = self._action_for(cmd)
            self.command_actions[cmd.name] = action
            if cmd.menu:
                menus[cmd.menu].addAction(action)
                if cmd.name in ("cancel-job", "history", "archive-next", "copy-link", "last", "go-archive"):
                    menus[cmd.menu].addSeparator()
        for name in TOOLBAR_ORDER:
            self.toolbar.addAction(self.command_actions[name])
        self.toolbar.addSeparator()
        self.toolbar.addWidget(self.search)
        self.command_actions["cancel-job"].setEnabled(False)
        quit_action = self.command_actions["quit"]  # the one real shortcut: works in every mode
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.addAction(quit_action)

    def _action_for(self, cmd: Command) -> QAction:
        """Menu entries show their normal-mode keys; the keys themselves go through `KeyDispatcher`."""
        keys = self.keymap.keys_for(cmd.name)
        title = cmd.title + (f"\t{keys[0]}" if keys else "")
        action = QAction(title, self)
        action.setStatusTip(cmd.description)
        plain = cmd.title.replace("&", "").rstrip("…")
        action.setToolTip(f"{plain} ({', '.join(keys)})" if keys else plain)
        if cmd.icon:
            action.setIcon(icon(cmd.icon))
        action.triggered.connect(lambda _checked=False, c=cmd: self.run_command(c.name))
        return action

    def _build_keys(self) -> None:
        from paperdesk.gui.caret import ReaderCaret

        self.keys = KeyDispatcher(self.keymap, self.run_command, self._pending_status, self)
        self.caret = ReaderCaret(self)
        self.keys.watch(self.table, "normal")
        self.keys.watch(self.sidebar, "normal")  # j/k/Return are its own (`Sidebar.own_keys`)
        self.sidebar.leave.connect(self._focus_list)
        self.keys.watch(self.reader.browser, "normal")
        self.keys.watch(self.search, "insert")
        self.keys.watch(self.reader.notes.editor, "insert")
        QApplication.instance().focusChanged.connect(self._focus_changed)
        self._focus_changed(None, None)

    def _watch_menus(self) -> None:
        for menu in self.menuBar().findChildren(QMenu):
            menu.aboutToHide.connect(self._menu_closed)

    def _menu_closed(self) -> None:
        """A menu closed. After one Esc Qt leaves the keys on the menu bar while the mode label says
        NORMAL: give them back to the list (now, or when the menu bar takes the focus just after)."""
        self._menu_closed_at = time.monotonic()
        QTimer.singleShot(0, self, self._keys_back_from_menu_bar)

    def _keys_back_from_menu_bar(self) -> None:
        if QApplication.focusWidget() is self.menuBar() and QApplication.activePopupWidget() is None \
                and time.monotonic() - getattr(self, "_menu_closed_at", 0.0) < MENU_GIVE_BACK_S:
            self._focus_list()

    def keyPressEvent(self, event) -> None:
        """Keys that reach the window from a widget the dispatcher does not watch (a toolbar button,
        no focus at all) are the list's: the mode label says NORMAL there."""
        focus = QApplication.focusWidget()
        name = key_name(event)
        if name and not self.keys.watches(focus) and self.keys.mode_of(focus) == "normal" \
                and self.keys.press("normal", name):
            return
        super().keyPressEvent(event)

    def _pending_status(self, text: str) -> None:
        if text:
            self.status(text, 3000)
        else:
            self.statusBar().clearMessage()

    def _focus_changed(self, _old, now) -> None:
        top = now.window() if now is not None else None
        if top is not None and top is not self and top.parentWidget() is not self:
            return  # another window's focus
        if self.caret.active and now is not self.reader.browser:
            self.caret.stop()  # re-enters this with the page back in normal mode
            return
        if now is self.menuBar():
            QTimer.singleShot(0, self, self._keys_back_from_menu_bar)  # a menu just closed: see there
        mode = "menu" if now is self.menuBar() else self.keys.mode_of(now)
        self.mode_label.setText(f" {mode.upper()} ")

    def run_command(self, name: str) -> object:
        cmd = BY_NAME[name]
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
        found = self.papers.last_search
        if self.papers.searching and found is not None:
            more = "+" if found.more else ""  # only the best are listed
            self.count_label.setText(f"{n:,}{more} {'match' if n == 1 and not more else 'matches'} in {what}")
        else:
            self.count_label.setText(f"{n:,} {'paper' if n == 1 else 'papers'} in {what}")
        if self.papers.by_interest:
            again = self.keymap.keys_for("for-you") or ["the sort menu"]
            self.count_label.setText(self.count_label.text() + (
                f" · for you ({again[0]} ranks again)" if self.papers.rank_stale else " · for you"))

    def rank_by_interest(self) -> None:
        self.papers.rank_again()

    def _show_ranking(self, sentence: str) -> None:
        if sentence and self.papers.ranker_warm:
            self.for_you.show(self.current_id())
        if not sentence:
            self.status("Ranking by interest… (the first time reads every paper's words)", 0)
        else:
            self.status(sentence, 0)
        self._update_count()

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
        if lib_order is None:  # not sortable: put the indicator back
            show_order(self)
            return
        self.papers.set_sort(lib_order, order == Qt.SortOrder.AscendingOrder)

    def _after_reload(self) -> None:
        """Keep the same paper current across a reload; else the same row (archive → next)."""
        show_order(self)
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
        if pid is not None and pid == self.reader.paper_id and self.model.snippet(pid) == self._shown_snippet:
            return  # the same paper after a reload (e.g. an import's end): its changes redraw it
        self.show_paper(pid)

    def show_paper(self, paper_id: str | None) -> None:
        record = self.lib.get(paper_id) if paper_id else None
        snippet = self.model.snippet(paper_id) if paper_id else None
        self.reader.show_record(record, snippet)
        self._shown_snippet = snippet
        self._read_timer.start() if record else self._read_timer.stop()
        self.for_you.show(record["id"] if record else None)

    def current_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        ids = [self.model.id_at(r) for r in rows]
        if not ids and self.current_id():
            ids = [self.current_id()]
        return [i for i in ids if i]

    def move_to_row(self, row: int) -> None:
        n = self.model.rowCount()
        if n:
            row = n - 1 if row < 0 else min(row, n - 1)
            self.table.setCurrentIndex(self.model.index(row, COLUMN_KEYS.index("title")))
            self.table.scrollTo(self.model.index(row, 0))

    def select_id(self, paper_id: str) -> bool:
        row = self.model.row_of(paper_id)
        if row is None:
            return False
        self.move_to_row(row)
        return True

    def move_current(self, step: int) -> None:
        n = self.model.rowCount()
        if not n:
            return
        row = self.table.currentIndex().row()
        row = 0 if row < 0 else max(0, min(n - 1, row + step))
        self.table.setCurrentIndex(self.model.index(row, COLUMN_KEYS.index("title")))

    def _focus_list(self) -> None:
        if self.pdf_is_full_window():  # the list is hidden behind the PDF: the whole desk again
            self.pdf_full_window()
        self.table.setFocus()
        if not self.table.currentIndex().isValid():
            self.move_current(0)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # -- triage ----------------------------------------------------------------------------------
    def toggle_triage(self) -> None:
        from paperdesk.gui.triage import TriageController

        if self.triage is not None:
            self.triage.finish()
            return
        ids = list(self.model.ids)
        if not ids:
            self.status("Nothing to triage in this view")
            return
        self.triage = TriageController(self, ids, self.papers.view.title)
        self.triage.ended.connect(self._triage_ended)
        self.triage.start()

    def _triage_ended(self) -> None:
        self.triage = None

    def triage_decide(self, action: str) -> None:
        if self.triage is None:
            if action == "skip":
                self.move_current(1)
            return
        self.triage.decide(action)

    def cmd_next(self) -> None:
        if self.triage is not None:
            self.triage.decide("skip")
        else:
            self.move_current(1)

    def cmd_previous(self) -> None:
        if self.triage is not None:
            self.triage.back()
        else:
            self.move_current(-1)

    def undo(self) -> None:
        """Undo this desk's own last change (not what the command line or a refresh did)."""
        self.write("Undo", lambda lib: _own_replay(lib.undo), lambda result: self._undo_done("Undid", result))

    def redo(self) -> None:
        self.write("Redo", lambda lib: _own_replay(lib.redo), lambda result: self._undo_done("Redid", result))

    def _undo_done(self, verb: str, result: object) -> None:
        if isinstance(result, str):  # refused: a later change would be overwritten
            self.status(result)
            return
        op, changes = result  # type: ignore[misc]
        nothing = "Nothing of this desk's to " + ("undo" if verb == "Undid" else "redo")
        self.status(f"{verb}: {op.label}" if op else nothing)
        # Select what it brought back (an unarchived paper), not the neighbour that took its row.
        rows = [r for r in map(self.model.row_of, changes.papers) if r is not None] if op else []
        if rows:
            self.move_to_row(min(rows))

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
        self.for_you.decided(changes)
        if changes.sources or changes.added or changes.removed or changes.saved_searches:
            self._sidebar_full = True
            self._sidebar_timer.start()
        elif changes.tags or changes.papers:
            self._sidebar_timer.start()
        pid = self.reader.paper_id
        if pid and (pid in changes.papers or changes.notes):
            self.show_paper(pid)
        self._update_banner()

    @property
    def reading(self) -> bool:
        """The reader thread has yet to answer for the list or the sidebar (tests wait for it)."""
        return self.papers.busy or self.papers.reader.pending("sidebar") or self._sidebar_timer.isActive()

    def _refresh_sidebar(self) -> None:
        full, self._sidebar_full = self._sidebar_full, False
        # Read on the reader thread (the names shown meanwhile stay). A newer request replaces a
        # pending one, so it must also read whatever the pending one was to read.
        full = full or self._sidebar_owed_full
        self._sidebar_owed_full = full

        generation = self.papers.generation

        def done(data: object, error: str) -> None:
            if error:
                self.status(f"sidebar: {error}")
                return
            self._sidebar_owed_full = False
            self.sidebar.apply(data)  # type: ignore[arg-type]
            self.papers.note_counts(data.counts, generation)  # type: ignore[attr-defined]
            self._update_banner()
            restore, self._view_to_restore = self._view_to_restore, None
            if restore and self.papers.view is INBOX and self.sidebar.view(restore) is not None:
                self.go_to(restore)

        self.papers.reader.submit("sidebar", lambda rlib: fetch_sidebar(rlib, counts_only=not full), done)

    def _rules_on_new_papers(self, _indexed: int) -> None:
        """Once the indexer has taken in an import, the rules act on its papers (a writer job: the
        rules' searches and their tags never run on the GUI thread)."""
        from paperdesk.core.rank import rules

        if not rules.behind(self.lib):
            return

        def done(acted: object) -> None:
            if acted:
                self.status("Rules: " + ", ".join(f"{name} acted on {n}" for name, n in acted.items()))

        self.jobs.run("Rules on new papers", lambda lib, _p, _c: rules.apply_to_new(lib), done)

    # -- search index -------------------------------------------------------------------------
    def _start_indexing(self) -> None:
        """Build or catch up the search index on the writer thread; search by title meanwhile."""
        from paperdesk.core.search.index import SearchIndex

        if SearchIndex.exists(self.lib.folder) and not self.lib.index_queued():
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

    # -- settings -----------------------------------------------------------------------------
    def _restore(self) -> None:
        s = self.settings
        view_key = "inbox"
        if self.remember:
            geometry = s.value("window/geometry")
            if isinstance(geometry, QByteArray):
                self.restoreGeometry(geometry)
            elif self.screen() is not None:
                free = self.screen().availableGeometry()
                self.resize(*default_window_size(free.width(), free.height()))
            splitter = s.value("window/splitter")
            if isinstance(splitter, QByteArray):
                self._pending_splitter = splitter  # applied at first show, once the window has its size
            header = s.value("list/header")
            if isinstance(header, QByteArray):
                self.table.horizontalHeader().restoreState(header)
            order = str(s.value("list/order", "date"))
            if order in SORT_COLUMN or order == "digest":
                self.papers.order = order
                self.papers.ascending = read_int(s, "list/ascending", 0) == 1
            view_key = str(s.value(library_key("view", self.lib.folder), "inbox"))
        view = self.sidebar.view(view_key) or INBOX
        # A tag, digest, category or saved search is named by the sidebar's first read (on the
        # reader thread): the Inbox until then, that view once it has come.
        self._view_to_restore = view_key if view is INBOX and view_key != INBOX.key else None
        self.sidebar.select_key(view.key, emit=False)
        self.papers.set_view(view)
        self._sidebar_full = True
        self._refresh_sidebar()

    def save_settings(self) -> None:
        if not self.remember:
            return
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("list/header", self.table.horizontalHeader().saveState())
        s.setValue("list/order", self.papers.order)
        s.setValue("list/ascending", 1 if self.papers.ascending else 0)
        s.setValue(library_key("view", self.lib.folder), self.papers.view.key)
        s.setValue(library_key("path", self.lib.folder), str(self.lib.folder))  # for a person reading
        s.sync()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        state = getattr(self, "_pending_splitter", None)
        if state is not None:
            self._pending_splitter = None
            self.layout().activate()  # give the splitter its real width before sizing its panes
            self.splitter.restoreState(state)

    def closeEvent(self, event) -> None:
        # Never lose a note: hand the pending text to the writer, and write on this thread whatever
        # the writer did not get to before it stopped.
        self.reader.notes.flush()
        # A closed window is only hidden: stop its timers so nothing touches the library later.
        self._read_timer.stop()
        self._sidebar_timer.stop()
        self.collector.stop()
        self.reader.notes.stop()
        self.keys.cancel_pending()
        self.search.cancel_pending()
        self.save_settings()
        if self.feed_scheduler is not None:
            self.feed_scheduler.stop()
        if getattr(self, "pdf_fetcher", None) is not None:
            self.pdf_fetcher.close()  # its first background look is a timer that would read the library
        self.papers.close()
        self.jobs.shutdown()
        self.reader.notes.save_now()
        for dialog in self._dialogs:
            dialog.close()
        super().closeEvent(event)


def _own_replay(replay: Callable[..., object]) -> object:
    """lib.undo/redo of this desk's own operations; a refusal comes back as its message."""
    try:
        return replay(own=True)
    except LibraryError as exc:
        return str(exc)
