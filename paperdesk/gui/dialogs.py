"""The desk's open non-modal dialogs: kept alive while shown, closed by Esc and with the window."""

from __future__ import annotations

from paperdesk.gui.qt import QWidget


class Dialogs:
    def __init__(self) -> None:
        self._open: list[QWidget] = []

    def open(self, dialog: QWidget) -> None:
        self._open = [d for d in self._open if d.isVisible()]
        self._open.append(dialog)
        dialog.open() if hasattr(dialog, "open") else dialog.show()

    def top(self) -> QWidget | None:
        """The dialog opened last that is still shown."""
        return next((d for d in reversed(self._open) if d.isVisible()), None)

    def close_all(self) -> None:
        for dialog in self._open:
            if dialog.isVisible():
                dialog.close()
