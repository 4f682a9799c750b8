"""The desk: sidebar | paper list | reader, a search field, menus from the command table, jobs.

The window builds the widgets and the controllers, each handed what it uses: `selection` (current
paper, selection, marks), `writes` (star, tag, archive, undo), `triage`, `paper` (the current
paper's commands), `pdf` (its PDF and arXiv id), `imports`, `job_status` (progress, Cancel),
`export` and `feeds`. It keeps the view, the keys, the dialogs, the settings and the one refresh
hook for every change (`on_changes`); the command table (`gui/commands.py`) names their methods.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from paperdesk import APP_NAME
from paperdesk.core import Library, LibraryError
from paperdesk.core import keymap as core_keymap
from paperdesk.core.changes import Changes
from paperdesk.core.quick_tags import quick_tags
from paperdesk.gui.arxiv_lookup import ArxivLookup
from paperdesk.gui.commands import BY_NAME, COMMANDS, MENUS, TOOLBAR_ORDER, Command
from paperdesk.gui.dialogs import Dialogs
from paperdesk.gui.export_dialog import ExportCommand
from paperdesk.gui.feeds_view import FeedsMenu
from paperdesk.gui.for_you import ForYou
from paperdesk.gui.gil import IdleCollector
from paperdesk.gui.imports import Imports
from paperdesk.gui.job_status import JobStatus
from paperdesk.gui.jobs import JobRunner
from paperdesk.gui.keys import KeyDispatcher, key_name
from paperdesk.gui.layout import column
from paperdesk.gui.outside_changes import OutsideChanges
from paperdesk.gui.palette import VIEW_PREFIX, CheatSheet, GoToPicker, Palette
from paperdesk.gui.paper_commands import PaperCommands
from paperdesk.gui.paper_list import PaperList, SearchOutcome
from paperdesk.gui.paper_model import COLUMNS, SORT_COLUMN, PaperModel
from paperdesk.gui.paper_table import PaperTable
from paperdesk.gui.paper_writes import PaperWrites
from paperdesk.gui.pdf_commands import PdfCommands
from paperdesk.gui.pdf_fetch import PdfFetcher
from paperdesk.gui.qt import (
    QAction,
    QApplication,
    QByteArray,
    QEvent,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMenu,
    QModelIndex,
    QSettings,
    QSplitter,
    Qt,
    QTimer,
    QToolBar,
    QWidget,
)
from paperdesk.gui.reader import Reader
from paperdesk.gui.search_field import SearchField
from paperdesk.gui.selection import Selection
from paperdesk.gui.settings import default_window_size, library_key, read_int
from paperdesk.gui.sidebar import Sidebar
from paperdesk.gui.sidebar import fetch as fetch_sidebar
from paperdesk.gui.sort_order import install_sort_menu, show_order
from paperdesk.gui.theme import icon
from paperdesk.gui.triage import Triage
from paperdesk.gui.views import INBOX, View

READ_MS_PER_CHAR = 60  # a status line stays long enough to read (~15 characters a second)
MENU_GIVE_BACK_S = 0.5  # the menu bar taking the focus this soon after a menu closed: Esc left it there
MARK_READ_MS = 600  # a paper shown this long counts as read (skimming with j/k does not)


class MainWindow(QMainWindow):
    def __init__(self, lib: Library, settings: QSettings, *, remember: bool = True,
                 index_on_start: bool = True, keymap_path: Path | None = None,
                 refresh_feeds: bool = True):
        super().__init__()
        self.lib = lib
        self.settings = settings
        self.remember = remember  # False for screenshots: read nothing, write nothing
        self._shown_snippet: str | None = None  # the snippet the reader shows with its paper
        self._reload_anchor: tuple[str | None, int] = (None, 0)  # the current paper and row
        self._menu_closed_at = 0.0
        self._pending_splitter: QByteArray | None = None
        self.dialogs = Dialogs()
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
        self.command_actions: dict[str, QAction] = {}
        self._build_commands()
        self.job_status = JobStatus(self.statusBar(), self.jobs, self.command_actions["cancel-job"])
        self._build_keys()
        self.for_you = ForYou(self.papers, self.reader, self.table, self.count_label, self.statusBar(), self)
        self._build_controllers(background=remember)
        self._build_status_bar()
        self.feeds = FeedsMenu(lib, self.jobs, self.job_status, self.status, self, self.menus["Feeds"],
                               start=refresh_feeds, settings=self.settings if remember else None)
        self.job_status.background += [self.feeds.scheduler, self.pdf.arxiv_lookup]

        self.collector = IdleCollector(self)  # full GCs only here, when the writer rests
        self.jobs.idle.connect(self.collector.poke)
        self.jobs.changed.connect(self.on_changes)
        self.jobs.failed.connect(lambda job, msg: self.status(f"{job.label}: {msg}"))
        lib.subscribe(self.on_changes)
        # What other processes change (a cron import) reaches the same hook; the search index then
        # takes in what they queued.
        self.outside = OutsideChanges(self.papers.reader, (lib.origin, f"refresh:{lib.origin}"),
                                      self._outside_changes, self)
        self._sidebar_timer = QTimer(self, singleShot=True, interval=0)
        self._sidebar_full = False
        self._sidebar_owed_full = False
        self._search_said = ""  # the status line the last search outcome showed
        self._kept: str | None = None  # a status line meant to stay until the next (the upgrade's)
        self._tipping = False  # a status tip (a hovered button or menu item) is being shown
        self._view_to_restore: str | None = None  # the last view, shown once the sidebar names it
        self._sidebar_timer.timeout.connect(self._refresh_sidebar)
        self.statusBar().messageChanged.connect(self._bar_changed)
        self._read_timer = QTimer(self, singleShot=True, interval=MARK_READ_MS)
        self._read_timer.timeout.connect(self._mark_current_read)

        self.papers.reloaded.connect(self._after_reload)
        self.papers.searched.connect(self._show_search_outcome)
        self.papers.ranked.connect(self._show_ranking)
        self.sidebar.view_selected.connect(self.set_view)
        self.search.query_changed.connect(self.papers.set_query)
        self.search.leave.connect(self.focus_list)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._sort_changed)

        self.reader.notes.paper_link.connect(self.paper.open_paper)
        self.reader.browser.paper_link.connect(self.paper.open_paper)
        self.reader.browser.highlight_link.connect(self.paper.comment_highlight)
        self.reader.highlight_requested.connect(self.paper.highlight_selection)
        self.reader.pdf.view.highlight_activated.connect(self.paper.comment_highlight)

        self._restore()
        self.table.setFocus()  # the keys start on the list (else Qt gives them to the sidebar)
        self.imports.update_banner()
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
        if remember:  # (not for screenshots)
            self.outside.start()

    # -- building -----------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.sidebar = Sidebar()
        self.sidebar.setMinimumWidth(150)
        self.count_label = QLabel()  # in the status bar

        marked: set[str] = set()  # papers marked with `x` for a bulk action
        self.table = PaperTable(self.model, marked)
        install_sort_menu(self.papers, self.table.horizontalHeader())
        self.selection = Selection(self.table, self.model, marked)

        self.middle = QWidget()  # the list, below the empty library's banner
        column((self.table, 1), on=self.middle, margins=(0, 0, 0, 0), spacing=0)

        self.reader = Reader(self.lib, self.jobs.write)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, childrenCollapsible=False)
        for n, (part, stretch) in enumerate(((self.sidebar, 0), (self.middle, 3), (self.reader, 2))):
            self.splitter.addWidget(part)
            self.splitter.setStretchFactor(n, stretch)
        self.splitter.setSizes([200, 680, 400])
        self.setCentralWidget(self.splitter)

        self.search = SearchField()
        self.toolbar = QToolBar("Main", objectName="main-toolbar", movable=False,
                                toolButtonStyle=Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.addToolBar(self.toolbar)

    def _build_controllers(self, *, background: bool) -> None:
        lib, jobs, selection, status = self.lib, self.jobs, self.selection, self.status
        self.pdf = PdfCommands(
            self, lib, jobs, selection, self.reader, self.keys, status, self.dialogs,
            reads=self.papers.reader,  # (the library's reading places)
            # (no background fetch for screenshots, benchmarks)
            fetcher=PdfFetcher(lib, jobs, status, self, background=background),
            arxiv_lookup=ArxivLookup(lib, jobs, self.job_status, status, self), show_paper=self.show_paper,
            desk_parts=(self.sidebar, self.middle))
        self.paper = PaperCommands(self, lib, jobs, selection, self.reader, status, caret=self.caret,
                                   pdf=self.pdf, dialogs=self.dialogs, focus_list=self.focus_list,
                                   show_in_all=self._show_all)
        self.triage = Triage(lib, self.keymap, jobs, selection, self.statusBar(), self.dialogs,
                             open_paper=self.paper.open_paper, go_to=self.go_to)
        self.writes = PaperWrites(self, lib, jobs, selection, self.triage, status, sidebar=self.sidebar,
                                  keys=self.keys, dialogs=self.dialogs, for_you=self.for_you)
        self.imports = Imports(self, jobs, selection, self.sidebar, status, pdf=self.pdf,
                               arxiv_lookup=self.pdf.arxiv_lookup)
        self.middle.layout().insertWidget(0, self.imports.banner)
        self.export = ExportCommand(selection, jobs, status, self)

    def _build_status_bar(self) -> None:
        self.mode_label = QLabel()
        self.mode_label.setToolTip("Key mode: NORMAL (letters are commands), INSERT (typing), PALETTE, "
                                   "CARET (choosing words in the reader), MENU (the menu bar has the keys)")
        for widget in (self.triage.label, self.triage.progress, self.job_status.progress,
                       self.job_status.cancel_button, self.selection.marked_label, self.count_label,
                       self.mode_label, self.pdf.arxiv_lookup.offer_button):
            self.statusBar().addPermanentWidget(widget)
        self.focus_changed(None, None)  # the mode label

    def _build_commands(self) -> None:
        self.menus = {title.replace("&", ""): self.menuBar().addMenu(title) for title in MENUS}
        for cmd in COMMANDS:
            action = self._action_for(cmd)
            self.command_actions[cmd.name] = action
            if cmd.menu:
                self.menus[cmd.menu].addAction(action)
                if cmd.name in ("cancel-job", "history", "archive-next", "copy-link", "last", "go-archive"):
                    self.menus[cmd.menu].addSeparator()
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

        # A pending key sequence (`g …`) is said for 3 s; "" clears it.
        self.keys = KeyDispatcher(self.keymap, self.run_command, lambda text: self.status(text, 3000), self)
        self.caret = ReaderCaret(self.reader, self.keys, self.status,
                                 lambda: self.focus_changed(None, QApplication.focusWidget()))
        self.keys.watch(self.table, "normal")
        self.keys.watch(self.sidebar, "normal")  # j/k/Return are its own (`Sidebar.own_keys`)
        self.sidebar.leave.connect(self.focus_list)
        self.keys.watch(self.reader.browser, "normal")
        self.keys.watch(self.search, "insert")
        self.keys.watch(self.reader.notes.editor, "insert")
        QApplication.instance().focusChanged.connect(self.focus_changed)

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
                and time.monotonic() - self._menu_closed_at < MENU_GIVE_BACK_S:
            self.focus_list()

    def keyPressEvent(self, event) -> None:
        """Keys that reach the window from a widget the dispatcher does not watch (a toolbar button,
        no focus at all) are the list's: the mode label says NORMAL there."""
        focus = QApplication.focusWidget()
        name = key_name(event)
        if name and not self.keys.watches(focus) and self.keys.mode_of(focus) == "normal" \
                and self.keys.press("normal", name):
            return
        super().keyPressEvent(event)

    def focus_changed(self, _old, now) -> None:
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
        """A line in the status bar for `ms` (0: until the next). A long line stays longer (time to
        read it: ~60 ms a character) and, as it may not fit the bar, is its tooltip too."""
        bar = self.statusBar()
        if ms:
            ms = max(ms, READ_MS_PER_CHAR * len(message))
        self._kept = None if ms else message
        bar.showMessage(message, ms)
        fits = bar.fontMetrics().horizontalAdvance(message) < bar.width() - self.count_label.width() - 40
        bar.setToolTip("" if fits else message)

    def _update_count(self) -> None:
        n = self.model.rowCount()
        what = self.papers.view.title
        found = self.papers.last_search
        if self.papers.searching and found is not None and found.more:  # only the best are listed
            text = f"best {n:,} of {found.total:,} matches in {what}"
        elif self.papers.searching and found is not None:
            text = f"{n:,} {'match' if n == 1 else 'matches'} in {what}"
        else:
            text = f"{n:,} {'paper' if n == 1 else 'papers'} in {what}"
        if self.papers.by_interest:
            again = self.keymap.keys_for("for-you") or ["the sort menu"]
            text += f" · for you ({again[0]} ranks again)" if self.papers.rank_stale else " · for you"
        self.count_label.setText(text)

    def _show_ranking(self, sentence: str) -> None:
        if sentence and self.papers.ranker_warm:
            self.for_you.show(self.selection.current_id())
        self.status(sentence or "Ranking by interest… (the first time reads every paper's words)", 0)
        self._update_count()

    def _show_search_outcome(self, outcome: SearchOutcome) -> None:
        """Say what the search found wrong; a quiet outcome clears only the last search's line (not
        an "Undid: …" that made the search run again)."""
        if outcome.message:
            self.status(outcome.message, 0)
        elif self._search_said and self.statusBar().currentMessage() == self._search_said:
            self.statusBar().clearMessage()
        self._search_said = outcome.message

    # -- views, sort, selection ---------------------------------------------------------------
    def set_view(self, view: View) -> None:
        if view.key != self.sidebar.current_key():
            self.sidebar.select_key(view.key, emit=False)
        self.papers.set_view(view)

    def go_to(self, key: str) -> None:
        view = self.sidebar.view(key)
        if view is not None:
            self.set_view(view)

    def _show_all(self) -> None:
        """All papers, no search: where a paper not in this view is shown."""
        self.search.clear()
        self.go_to("all")

    def _sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        lib_order = COLUMNS[column][2]
        if lib_order is None:  # not sortable: put the indicator back
            show_order(self.papers, self.table.horizontalHeader())
            return
        self.papers.set_sort(lib_order, order == Qt.SortOrder.AscendingOrder)

    def _after_reload(self) -> None:
        """Keep the same paper current across a reload; else the same row (archive → next)."""
        show_order(self.papers, self.table.horizontalHeader())
        self._update_count()
        keep_id, keep_row = self._reload_anchor
        if self.papers.fresh_list:
            self.papers.fresh_list = False
            keep_id, keep_row = None, 0
        wanted, self.selection.after_reload = self.selection.after_reload, ()
        if wanted and self.selection.select_first_listed(wanted):
            return
        row = self.model.row_of(keep_id) if keep_id else None
        if row is None and self.model.rowCount():
            row = min(keep_row, self.model.rowCount() - 1)
        if row is not None:
            self.selection.move_to_row(row)
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

    def focus_list(self) -> None:
        if self.pdf.pdf_is_full_window():  # the list is hidden behind the PDF: the whole desk again
            self.pdf.pdf_full_window()
        self.table.setFocus()
        if not self.table.currentIndex().isValid():
            self.selection.move_current(0)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _mark_current_read(self) -> None:
        pid = self.selection.current_id()
        if not pid or pid != self.reader.paper_id:
            return
        row = self.model.row_data(self.model.row_of(pid) or 0)
        if row.get("id") == pid and row.get("is_read") == 0:
            self.writes.mark_read([pid])

    # -- dialogs ---------------------------------------------------------------------------------
    def show_palette(self) -> None:
        self._open_picker(Palette(COMMANDS, self.keymap, self, views=self.sidebar.entries()))

    def show_go_to(self) -> None:
        """The go-to picker: every sidebar view by (part of) its name."""
        self._open_picker(GoToPicker(self.sidebar.entries(), self))

    def _open_picker(self, picker: Palette | GoToPicker) -> None:
        self.keys.cancel_pending()
        picker.chosen.connect(self._chosen)
        self.keys.watch(picker.field, "palette")
        self.dialogs.open(picker)

    def _chosen(self, name: str) -> None:
        if name.startswith(VIEW_PREFIX):
            self.go_to(name.removeprefix(VIEW_PREFIX))
            self.activateWindow()  # the picker closed: the keys are the list's
            self.focus_list()
        else:
            self.run_command(name)

    def focus_sidebar(self) -> None:
        self.keys.cancel_pending()
        self.sidebar.setFocus()
        if self.sidebar.currentItem() is None:
            self.sidebar.select_key(self.papers.view.key, emit=False)

    def show_cheat_sheet(self) -> None:
        self.dialogs.open(CheatSheet(self.keymap, self, quick_tags(self.lib)))

    def show_history(self) -> None:
        from paperdesk.gui.history_dialog import HistoryDialog

        self.dialogs.open(HistoryDialog(self.lib, self.jobs.write, self.status, self))

    def show_rules(self) -> None:
        from paperdesk.gui.rules_dialog import RulesDialog

        self.dialogs.open(RulesDialog(self.lib, self.jobs, self.papers.reader, self.keymap, self))

    def show_highlights(self) -> None:
        from paperdesk.gui.highlights_view import HighlightsDialog

        dialog = HighlightsDialog(self.papers.reader, self)
        dialog.paper_chosen.connect(self.paper.open_paper)
        self.dialogs.open(dialog)

    def normal_mode(self) -> None:
        """Esc: leave a text field or dialog for the list (a search keeps its results)."""
        self.keys.cancel_pending()
        focus = QApplication.focusWidget()
        if focus is self.search:
            self.search.flush()  # what was typed, not what the debounce last ran
        if focus is self.reader.notes.editor:
            self.reader.notes.flush()
        self.dialogs.close_all()
        self.focus_list()

    # -- changes ------------------------------------------------------------------------------
    def on_changes(self, changes: Changes) -> None:
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
        self.imports.update_banner()

    def _outside_changes(self, changes: Changes) -> None:
        self.on_changes(changes)
        if changes.added or changes.papers or changes.everything:
            self._start_indexing()

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
            self.imports.update_banner()
            restore, self._view_to_restore = self._view_to_restore, None
            if restore and self.papers.view is INBOX and self.sidebar.view(restore) is not None:
                self.go_to(restore)

        # In the background: the list the window shows is read first (its own count stands in).
        self.papers.reader.submit("sidebar", lambda rlib: fetch_sidebar(rlib, counts_only=not full), done,
                                  background=True)

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
        if self.lib.search.exists() and not self.lib.search.queued():
            return
        self.papers.search_ready = False

        def done(_result: object) -> None:
            self.papers.search_ready = True
            if self.papers.searching:
                self.papers.reload()

        def failed(message: str) -> None:
            self.papers.search_ready = True
            self.status(f"search index: {message}")

        self.jobs.run("Index for search", lambda lib, progress, _c: lib.search.update(progress),
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

    def _bar_changed(self, message: str) -> None:
        if not self._tipping and message != self._kept:  # another line replaced it (or cleared it)
            self._kept = None

    def event(self, event: QEvent) -> bool:
        """A status tip (the pointer over a toolbar button or a menu item) shows in the bar and,
        when the pointer leaves, clears it: a line meant to stay (the upgrade's, naming its copy)
        was gone after the pointer crossed the toolbar. It comes back once the tip is gone."""
        if event.type() != QEvent.Type.StatusTip:
            return super().event(event)
        self._tipping = True
        try:
            handled = super().event(event)
            if self._kept and not self.statusBar().currentMessage():
                self.statusBar().showMessage(self._kept)
        finally:
            self._tipping = False
        return handled

    def showEvent(self, event) -> None:
        super().showEvent(event)
        state = self._pending_splitter
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
        self.outside.stop()
        self.collector.stop()
        self.reader.notes.stop()
        self.keys.cancel_pending()
        self.search.cancel_pending()
        self.save_settings()
        self.feeds.scheduler.stop()
        self.pdf.fetcher.close()  # its first background look is a timer that would read the library
        self.pdf.save_reading_place()  # a quiet write: the writer runs it before it stops
        self.papers.close()
        self.jobs.shutdown()
        self.reader.notes.save_now()
        self.dialogs.close_all()
        super().closeEvent(event)

    # -- dropped files ----------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        event.acceptProposedAction() if self.imports.dropped_files(event.mimeData()) else event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        self.imports.drop(event)

