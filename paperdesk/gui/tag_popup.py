"""The `t` popup: type tags (space or comma separated) with completion over the library's tags."""

from __future__ import annotations

from paperdesk.gui.qt import QCompleter, QDialog, QLabel, QLineEdit, Qt, QVBoxLayout, Signal


class TagPopup(QDialog):
    chosen = Signal(list)  # tags to apply

    def __init__(self, tags_by_count: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Tag")
        self.field = QLineEdit()
        self.field.setPlaceholderText("tags, e.g. ml reading-group   (Enter applies, Esc cancels)")
        self.completer = QCompleter(tags_by_count, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.field.setCompleter(self.completer)
        hint = "  ".join(f"{n} #{t}" for n, t in enumerate(tags_by_count[:9], 1))
        layout = QVBoxLayout(self)
        layout.addWidget(self.field)
        if hint:
            label = QLabel(f"In the list, keys {hint}")
            label.setWordWrap(True)
            label.setStyleSheet("color: palette(placeholder-text);")
            layout.addWidget(label)
        self.field.returnPressed.connect(self._apply)
        self.resize(420, self.sizeHint().height())

    @staticmethod
    def parse(text: str) -> list[str]:
        return [t.strip().lstrip("#") for t in text.replace(",", " ").split() if t.strip().lstrip("#")]

    def _apply(self) -> None:
        tags = self.parse(self.field.text())
        self.accept()
        if tags:
            self.chosen.emit(tags)
