"""Changes other processes make to the open library: a cron `paperdesk import`, `paperdesk star` in a
shell, a second tool on the same folder. The desk hears its own operations from its writer; these it
learns by asking the reader thread, every few seconds, what operations of other origins did since
the last answer (`Library.changes_since`, a look at the operations' stamps), and hands them to the
window's one refresh hook."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from paperdesk.core.changes import Changes
from paperdesk.gui.qt import QObject, QTimer
from paperdesk.gui.reader_thread import ReaderThread

POLL_MS = 2000  # a cron job's papers show within two seconds; an idle ask costs two tiny queries


class OutsideChanges(QObject):
    def __init__(self, reader: ReaderThread, mine: Sequence[str], on_changes: Callable[[Changes], None],
                 parent: QObject, poll_ms: int = POLL_MS):
        super().__init__(parent)
        self.reader, self.mine, self.on_changes = reader, tuple(mine), on_changes
        self.stamp: int | None = None  # None: the first answer only says where to start
        self.timer = QTimer(self, interval=poll_ms)
        self.timer.timeout.connect(self.ask)

    def start(self) -> None:
        self.ask()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def ask(self) -> None:
        if self.reader.pending("outside"):
            return
        stamp, mine = self.stamp, self.mine
        self.reader.submit("outside", lambda lib: lib.changes_since(stamp, mine), self._heard,
                           background=True)

    def _heard(self, answer: object, error: str) -> None:
        if error or not self.timer.isActive():
            return
        self.stamp, changes = answer  # type: ignore[misc]
        if changes:
            self.on_changes(changes)
