"""The `t` popup: type tags (space or comma separated) with completion over the library's tags.

It shows the quick-tag keys (`1`–`9`); `ml=3` tags with ml and puts ml on key 3. Tags whose papers
the paper is clearly like arrive from the ranker thread ("likely #rl", core/rank/suggest.py): Return
on the empty field applies them."""

from __future__ import annotations

import html

from paperdesk.gui.layout import column, wrapped
from paperdesk.gui.qt import QCompleter, QDialog, QLineEdit, Qt, Signal


class TagPopup(QDialog):
    chosen = Signal(list, dict)  # tags to apply, {tag: quick key} the user gave

    def __init__(self, tags_by_count: list[str], parent=None, quick: dict[int, str] | None = None):
        super().__init__(parent)
        self.setWindowTitle("Tag")
        self.field = QLineEdit(placeholderText="tags, e.g. ml reading-group")
        self.completer = QCompleter(tags_by_count, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.field.setCompleter(self.completer)
        hint = "  ".join(f"{n} #{t}" for n, t in sorted((quick or {}).items()))
        # The field's placeholder stays short: the dialog is narrower than a long one.
        self.hint = wrapped((f"Quick-tag keys in the list: {hint}" if hint else
                             "Quick-tag keys: a tag gets the first free key 1–9 when first used")
                            + "\nml=3 puts ml on key 3 · Enter applies · Esc cancels", dim=True)
        self.hint.setTextFormat(Qt.TextFormat.PlainText)  # tag names are the user's text
        self.likely: list[str] = []
        self.likely_label = wrapped()
        self.likely_label.hide()
        column(self.field, self.hint, self.likely_label, on=self)
        self.field.returnPressed.connect(self._apply)
        self.resize(420, self.sizeHint().height())

    @staticmethod
    def parse(text: str) -> tuple[list[str], dict[str, int]]:
        """Tags, and the quick keys given as `tag=N` (N in 1–9)."""
        tags, keys = [], {}
        for word in text.replace(",", " ").split():
            name, _eq, number = word.lstrip("#").partition("=")
            if not name:
                continue
            tags.append(name)
            if number.isdigit() and 1 <= int(number) <= 9:
                keys[name] = int(number)
        return tags, keys

    def set_likely(self, likely: dict[str, list[str]]) -> None:
        """Tags the paper is likely to deserve, with the words it shares with each tag's papers
        (gui/for_you.py)."""
        self.likely = [t for t in likely if t]
        if self.likely:
            shown = "  ".join(f"<b>likely #{html.escape(t)}</b>" + (
                f" ({html.escape(', '.join(likely[t]))})" if likely[t] else "") for t in self.likely)
            self.likely_label.setText(f"{shown} — Return on the empty field applies "
                                      f"{'it' if len(self.likely) == 1 else 'them'}")
        self.likely_label.setVisible(bool(self.likely))
        # Grown to show the wrapped line whole (the dialog was sized before it arrived).
        self.layout().activate()
        needed = self.layout().totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    def _apply(self) -> None:
        tags, keys = self.parse(self.field.text())
        if not tags and not self.field.text().strip():
            tags = list(self.likely)
        self.accept()
        if tags:
            self.chosen.emit(tags, keys)
