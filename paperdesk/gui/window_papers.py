"""The desk's commands on the current paper (open its page, copy a link, highlight, follow a
[[link]]) and its dialogs (palette, cheat sheet, history, highlights, export).

A mixin of `MainWindow`.
"""

from __future__ import annotations

from paperdesk.gui.commands import COMMANDS
from paperdesk.gui.paper_model import COLUMN_KEYS
from paperdesk.gui.qt import QApplication, QDesktopServices, QGuiApplication, QUrl, QWidget


class PaperCommands:
    # -- paper commands -------------------------------------------------------------------------
    def current_record(self) -> dict | None:
        pid = self.current_id()
        return self.lib.get(pid) if pid else None

    def open_paper_page(self) -> None:
        from paperdesk.core.export.links import web_link

        record = self.current_record()
        if record is None:
            return
        url = web_link(record)
        qurl = QUrl(url)
        if qurl.scheme() not in ("http", "https"):
            return
        self.opened_urls.append(url)
        QDesktopServices.openUrl(qurl)
        self.status(f"Opened {url}")

    def copy_link(self) -> None:
        from paperdesk.core.export import markdown_link

        record = self.current_record()
        if record is None:
            return
        link = markdown_link(record)
        QGuiApplication.clipboard().setText(link)
        self.status(f"Copied {link}")

    def focus_note(self) -> None:
        if self.reader.paper_id is None:
            return
        self.reader.notes.focus_editor()

    def highlight_selection(self, color: str = "yellow", comment: bool = False) -> None:
        """Highlight the page's selection (whole words); with `comment`, then ask for a comment."""
        if self.reader.showing_pdf:
            self.pdf_highlight(color)
            return
        where = self.reader.selection_offsets()
        if isinstance(where, str):
            self.status(where)
            return
        field, start, end = where
        pid = self.reader.paper_id
        assert pid is not None
        self.caret.stop()

        def done(result: object) -> None:
            cursor = self.reader.browser.textCursor()
            cursor.clearSelection()
            self.reader.browser.setTextCursor(cursor)
            if comment and isinstance(result, tuple):
                self.comment_highlight(result[0])  # (highlight id, changes)
                return
            self._focus_list()
            self.status("Highlighted. To comment from the keys: v, choose the words, c (or click "
                        "“comment…” under Highlights).")

        self.write("Highlight", lambda lib: lib.highlights.add(pid, start, end, field=field, color=color),
                   done)

    def comment_highlight(self, highlight_id: int) -> None:
        from paperdesk.gui.qt import QInputDialog

        found = self.lib.highlights.get(highlight_id)
        if found is None:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Highlight comment")
        dialog.setLabelText("Comment:")
        dialog.setTextValue(found.comment or "")
        dialog.textValueSelected.connect(lambda text: self.write(
            "Comment highlight", lambda lib: lib.highlights.update(highlight_id, comment=text)))
        self._open_dialog(dialog)

    def open_paper(self, paper_id: str) -> None:
        """Show a paper (a [[link]], the Highlights view): in this view if listed, else in All."""
        if not self.lib.exists(paper_id):
            self.status(f"No paper {paper_id} in the library")
            return
        if self.model.row_of(paper_id) is None:
            self.search.clear()
            self.go_to("all")
        row = self.model.row_of(paper_id)
        if row is not None:
            self.table.setCurrentIndex(self.model.index(row, COLUMN_KEYS.index("title")))
            self.table.scrollTo(self.model.index(row, 0))
            self.table.setFocus()

    # -- dialogs ---------------------------------------------------------------------------------
    def _open_dialog(self, dialog: QWidget) -> None:
        self._dialogs = [d for d in self._dialogs if d.isVisible()]
        self._dialogs.append(dialog)
        dialog.open() if hasattr(dialog, "open") else dialog.show()

    def show_palette(self) -> None:
        from paperdesk.gui.palette import Palette

        self.keys.cancel_pending()
        self.palette = Palette(COMMANDS, self.keymap, self, views=self.sidebar.entries())
        self.palette.chosen.connect(self._chosen)
        self.keys.watch(self.palette.field, "palette")
        self._open_dialog(self.palette)

    def show_go_to(self) -> None:
        """The go-to picker: every sidebar view by (part of) its name."""
        from paperdesk.gui.palette import GoToPicker

        self.keys.cancel_pending()
        self.go_to_picker = GoToPicker(self.sidebar.entries(), self)
        self.go_to_picker.chosen.connect(self._chosen)
        self.keys.watch(self.go_to_picker.field, "palette")
        self._open_dialog(self.go_to_picker)

    def _chosen(self, name: str) -> None:
        from paperdesk.gui.palette import VIEW_PREFIX

        if name.startswith(VIEW_PREFIX):
            self.go_to(name.removeprefix(VIEW_PREFIX))
            self.activateWindow()  # the picker closed: the keys are the list's
            self._focus_list()
        else:
            self.run_command(name)

    def focus_sidebar(self) -> None:
        self.keys.cancel_pending()
        self.sidebar.setFocus()
        if self.sidebar.currentItem() is None:
            self.sidebar.select_key(self.papers.view.key, emit=False)

    def show_cheat_sheet(self) -> None:
        from paperdesk.core.quick_tags import quick_tags
        from paperdesk.gui.palette import CheatSheet

        self._open_dialog(CheatSheet(self.keymap, self, quick_tags(self.lib)))

    def show_history(self) -> None:
        from paperdesk.gui.history_dialog import HistoryDialog

        self._open_dialog(HistoryDialog(self, self))

    def show_rules(self) -> None:
        from paperdesk.gui.rules_dialog import RulesDialog

        self.rules_dialog = RulesDialog(self)
        self._open_dialog(self.rules_dialog)

    def show_highlights(self) -> None:
        from paperdesk.gui.highlights_view import HighlightsDialog

        dialog = HighlightsDialog(self.papers.reader, self)
        dialog.paper_chosen.connect(self.open_paper)
        self._open_dialog(dialog)

    def _install_export(self) -> None:
        from paperdesk.gui.export_dialog import install_export

        install_export(self)

    def export(self) -> None:
        if self.export_handler is not None:  # (set at start by install_export)
            self.export_handler()

    def normal_mode(self) -> None:
        """Esc: leave a text field or dialog for the list (a search keeps its results)."""
        self.keys.cancel_pending()
        focus = QApplication.focusWidget()
        if focus is self.search:
            self.search.flush()  # what was typed, not what the debounce last ran
        if focus is self.reader.notes.editor:
            self.reader.notes.flush()
        for dialog in self._dialogs:
            if dialog.isVisible():
                dialog.close()
        self._focus_list()
