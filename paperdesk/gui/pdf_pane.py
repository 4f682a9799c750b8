"""The reader's PDF pane: a bar (page n of N, zoom, find), the outline as a table of contents beside
the `PdfView`, and the one-line messages a PDF that cannot be shown gets (a password dialog for an
encrypted one)."""

from __future__ import annotations

from pathlib import Path

from paperdesk.core.annotations import Highlight
from paperdesk.core.pdf import PdfDocument, PdfEncrypted, PdfError
from paperdesk.gui.layout import button, column, row, tool_button, wrapped
from paperdesk.gui.pdf_view import PdfView
from paperdesk.gui.qt import (
    QApplication,
    QEvent,
    QInputDialog,
    QLabel,
    QLineEdit,
    QSplitter,
    Qt,
    QTimer,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
    Signal,
)
from paperdesk.gui.theme import is_dark

PAGE_ROLE = Qt.ItemDataRole.UserRole + 1
HEIGHT_ROLE = Qt.ItemDataRole.UserRole + 2  # where on the page the entry's section starts


TYPING_PAUSE_MS = 300  # find as you type: the search starts after this pause in typing


class FindField(QLineEdit):
    """The PDF's find field: it finds as you type (after a short pause); Enter goes to the pages at
    the match, again: the next match (Shift+Enter the previous one); Esc goes back to the pages, not
    to the list as in the desk's other fields."""

    own_keys = ("Esc",)  # the key dispatcher leaves Esc to this field
    escaped = Signal()
    entered = Signal()  # the field got the focus: a search starts from the page shown then

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        self.entered.emit()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class PdfPane(QWidget):
    opened = Signal(str)  # the paper id whose PDF is now shown
    status = Signal(str)  # a message for the window's status bar
    unlocked = Signal(str, str)  # (paper id, password): the user's password opened its encrypted PDF
    left = Signal(str, object)  # (paper id, its `PdfView.place()`): another paper's PDF replaces it

    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = PdfView()
        self.view.renderer.dark = is_dark()  # pages shown inverted, like the rest of a dark desk
        self.paper_id: str | None = None
        self.path: Path | None = None
        self._stamp: tuple[int, int] | None = None
        self.password_dialog: QInputDialog | None = None
        self.needs_password = False
        self.password_button = button("Enter the password…", self.ask_password)
        self.password_button.hide()
        self._passwords: dict[Path, str] = {}  # for this session only, never stored

        self.page_label = QLabel(toolTip="Page (g p goes to a page)")
        self.find_field = FindField(placeholderText="Find in the PDF…", clearButtonEnabled=True)
        self.find_field.returnPressed.connect(self._find_entered)
        self.find_field.escaped.connect(self.view.setFocus)
        self.find_field.entered.connect(self._find_started)
        self.find_field.textEdited.connect(lambda _text: self._typing.start())
        self._typing = QTimer(self, singleShot=True, interval=TYPING_PAUSE_MS)
        self._typing.timeout.connect(self._find_typed)
        self.match_label = QLabel(toolTip="Matches of the find field's text (Enter: the next one)")
        self.view.found.connect(self._found)
        self._searched = ""  # the text the view's matches are for
        self._gone_to = False  # Enter took the user to the pages at this text's match
        self._find_from: int | None = None  # the page shown when the user came to the field
        self._outline_filled = False  # read from the document when first shown
        self.message = wrapped()
        self.message.hide()
        buttons = [tool_button(tip, slot, text=text) for text, tip, slot in (
            ("☰", "Table of contents (t)", self.toggle_outline),
            ("−", "Zoom out (-)", self.view.zoom_out),
            ("+", "Zoom in (+)", self.view.zoom_in),
            ("↔", "Fit width (w)", self.view.set_fit_width),
            ("←", "Back to where the last link, outline entry or match left (Alt+Left)", self.view.back),
            ("→", "Forward again (Alt+Right)", self.view.forward))]
        self.back_button, self.forward_button = buttons[-2:]
        bar = row(*buttons, self.page_label, 1, (self.find_field, 2), self.match_label, margins=(6, 2, 6, 2))

        self.outline = QTreeWidget(headerHidden=True)
        self.outline.itemActivated.connect(self._outline_activated)
        self.outline.itemClicked.connect(self._outline_chosen)
        self.outline.installEventFilter(self)  # Esc or t: back to the pages
        self.outline.hide()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.outline)
        self.splitter.addWidget(self.view)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([180, 500])
        notice = row((self.message, 1), self.password_button, margins=(6, 0, 6, 0))
        column(bar, notice, (self.splitter, 1), on=self, margins=(0, 0, 0, 0), spacing=0)
        self.view.page_changed.connect(self._page_changed)
        self.view.history_changed.connect(self._history_changed)
        self._history_changed(False, False)
        self.view.message.connect(self.status)

    # -- opening --------------------------------------------------------------------------------
    def open_pdf(self, paper_id: str, path: Path, password: str | None = None, *, ask: bool = False) -> bool:
        """Show the PDF at `path`; on failure the pane says why in one line and shows no pages. An
        encrypted one asks for its password with `ask`, else when the user moves into the PDF
        (`ask_password`): selecting papers with the keyboard never opens a dialog."""
        if self.password_dialog is not None:
            self.password_dialog.close()
            self.password_dialog = None
        self.needs_password = False
        self.password_button.hide()
        if paper_id != self.paper_id:
            self._leave()
            self._clear_find()  # another paper's words would search this one
        self.paper_id, self.path = paper_id, path
        self._stamp = _stamp(path)
        password = password if password is not None else self._passwords.get(path)
        try:
            doc = PdfDocument.open(path, password)
        except PdfEncrypted as exc:
            self._show_document(None, f"{exc} (p types it)")
            self.needs_password = True
            self.password_button.show()
            if ask:
                self._ask_password(paper_id, path, wrong=exc.wrong_password)
            return False
        except PdfError as exc:
            self._show_document(None, f"{exc}. Nothing else changed; fetch or attach the PDF again.")
            return False
        if password:
            self._passwords[path] = password
        self._show_document(doc, "")
        self.view.renderer.submit(lambda d: d.has_text_layer, self._text_layer_known)
        self.opened.emit(paper_id)
        return True

    def shows(self, paper_id: str, path: Path) -> bool:
        """Whether the pane shows this file as it is now (a re-fetch replaces it in place)."""
        return self.paper_id == paper_id and self.path == path and self._stamp == _stamp(path)

    def close_pdf(self) -> None:
        self._leave()
        self._clear_find()
        self.paper_id = self.path = None
        self._show_document(None, "")

    def _leave(self) -> None:
        """Say where the reader left the PDF shown (it is about to be replaced)."""
        place = self.view.place()
        if self.paper_id is not None and place is not None:
            self.left.emit(self.paper_id, place)

    def _show_document(self, doc: PdfDocument | None, message: str) -> None:
        self.view.set_document(doc)
        self.outline.clear()
        self._outline_filled = False
        self.set_message(message)
        if doc is None:
            self.page_label.setText("")

    def set_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _text_layer_known(self, has_text: object, error: str) -> None:
        if not error and not has_text:
            self.set_message("This PDF has no text layer (a scan?): there is no text to search or highlight.")

    def ask_password(self) -> bool:
        """Ask for the password of the PDF shown if it needs one; whether it does."""
        if self.needs_password and self.paper_id is not None and self.path is not None:
            if self.password_dialog is None:
                self._ask_password(self.paper_id, self.path, wrong=False)
            return True
        return False

    def _ask_password(self, paper_id: str, path: Path, *, wrong: bool) -> None:
        """A window-modal dialog that does not block the event loop (`open()`, not `exec()`)."""
        dialog = QInputDialog(self, windowTitle="Encrypted PDF", textEchoMode=QLineEdit.EchoMode.Password,
                              labelText=("Wrong password. " if wrong else "") + f"{path.name} is encrypted. "
                              "Its password:")
        dialog.textValueSelected.connect(lambda text: self._password_given(paper_id, path, text))
        self.password_dialog = dialog
        dialog.open()

    def _password_given(self, paper_id: str, path: Path, text: str) -> None:
        self.password_dialog = None
        # A wrong password asks again; the right one: the window keeps the PDF decrypted (searchable).
        if self.paper_id == paper_id and self.open_pdf(paper_id, path, text, ask=True):
            self.unlocked.emit(paper_id, text)

    # -- bar ------------------------------------------------------------------------------------
    def _page_changed(self, page: int, count: int) -> None:
        self.page_label.setText(f"{page + 1} / {count}" if count else "")

    def _history_changed(self, back: bool, forward: bool) -> None:
        self.back_button.setEnabled(back)
        self.forward_button.setEnabled(forward)

    def _clear_find(self) -> None:
        self._typing.stop()
        self.find_field.clear()
        self._searched = ""
        self._find_from = None

    def focus_find(self) -> None:
        self.find_field.setFocus()
        self.find_field.selectAll()

    def _find_started(self) -> None:
        self._find_from = self.view.current_page()

    def _search(self, text: str) -> None:
        self._typing.stop()
        self._searched, self._gone_to = text, False
        if text:
            self.view.find(text, self._find_from)
        else:
            self.view.clear_find()

    def _find_typed(self) -> None:
        """A pause in typing: search for the text as it is now (the focus stays in the field)."""
        text = self.find_field.text().strip()
        if text != self._searched:
            self._search(text)

    def _find_entered(self) -> None:
        """Enter: to the pages at the text's match (searched now if typing has not yet); the same
        text again moves to the next match (with Shift the previous one), like n and N in the pages."""
        text = self.find_field.text().strip()
        if not text:
            return
        if text != self._searched or (self._gone_to and not self.view.matches):
            self._search(text)  # new text, or asked again after finding nothing
        elif self._gone_to:
            backwards = QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier
            self.view.find_next(-1 if backwards else 1)
        self._gone_to = True  # else typing's search (done or running) shows its match
        self.view.setFocus()

    def _found(self, index: int, count: int) -> None:
        if count < 0:
            self.match_label.setText("")
        else:
            self.match_label.setText(f"{index + 1} of {count}" if count else "no match")

    def set_highlights(self, highlights: list[Highlight]) -> None:
        self.view.set_highlights(highlights)

    # -- outline --------------------------------------------------------------------------------
    def toggle_outline(self) -> None:
        if self.outline.isVisible():
            self.outline.hide()
            self.view.setFocus()
            return
        if self.view.doc is None:
            return
        if not self._outline_filled:
            self._fill_outline()
        if self.outline.topLevelItemCount() == 0:
            self.status.emit("This PDF has no table of contents")
            return
        self.outline.show()
        self.outline.setFocus()
        if self.outline.currentItem() is None:
            self.outline.setCurrentItem(self.outline.topLevelItem(0))

    def _fill_outline(self) -> None:
        self.outline.clear()
        parents: list[QTreeWidgetItem] = []
        for level, title, page, y in self.view.doc.outline():
            del parents[level:]
            item = QTreeWidgetItem([title + (f"  ({page + 1})" if page is not None else "")])
            item.setData(0, PAGE_ROLE, page)
            item.setData(0, HEIGHT_ROLE, y)
            if parents:
                parents[-1].addChild(item)
            else:
                self.outline.addTopLevelItem(item)
            parents.append(item)
        self.outline.expandToDepth(0)
        self._outline_filled = True

    def eventFilter(self, obj, event) -> bool:
        if obj is self.outline and event.type() == QEvent.Type.KeyPress and (
                event.key() == Qt.Key.Key_Escape or event.text() == "t"):
            self.toggle_outline()
            return True
        return super().eventFilter(obj, event)

    def _outline_activated(self, item: QTreeWidgetItem, column: int = 0) -> None:
        """Enter on an entry: go there and back to the pages (the outline stays open)."""
        self._outline_chosen(item, column)
        self.view.setFocus()

    def _outline_chosen(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        page, y = item.data(0, PAGE_ROLE), item.data(0, HEIGHT_ROLE)
        if page is not None:
            self.view.jump_to_page(int(page), None if y is None else float(y))
