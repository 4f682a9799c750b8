"""One desk per library: a second `paperdesk` on the same library focuses the open window instead.

The first instance listens on a local socket named after the library folder; a later one connects,
asks it to come forward, and exits. A stale socket left by a crash is removed before listening.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# QtNetwork is only needed here, so it is imported here rather than through gui/qt.py.
from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from paperdesk import APP_ID

_ACTIVATE = b"activate\n"
_TIMEOUT_MS = 1000


def server_name(library_folder: Path) -> str:
    digest = hashlib.sha1(str(library_folder.resolve()).encode("utf-8")).hexdigest()[:16]
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "user"
    return f"{APP_ID}-{user}-{digest}"


def ask_running_instance(library_folder: Path) -> bool:
    """True if a desk is already open on this library (and has been asked to come forward)."""
    socket = QLocalSocket()
    socket.connectToServer(server_name(library_folder))
    if not socket.waitForConnected(_TIMEOUT_MS):
        return False
    socket.write(_ACTIVATE)
    socket.waitForBytesWritten(_TIMEOUT_MS)
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    """Listens for later launches on the same library; emits `activate_requested`."""

    activate_requested = Signal()

    def __init__(self, library_folder: Path, parent: QObject | None = None):
        super().__init__(parent)
        self._server = QLocalServer(self)
        self._sockets: list[QLocalSocket] = []  # children of the server: Qt deletes them with it
        name = server_name(library_folder)
        QLocalServer.removeServer(name)  # a crashed instance's socket file
        self.listening = self._server.listen(name)
        self._server.newConnection.connect(self._on_connection)

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._sockets.append(socket)
            socket.readyRead.connect(self._read_requests)

    def _read_requests(self) -> None:
        for socket in list(self._sockets):
            if socket.bytesAvailable():
                data = bytes(socket.readAll().data())
                self._sockets.remove(socket)
                socket.disconnectFromServer()
                if data.startswith(_ACTIVATE.strip()):
                    self.activate_requested.emit()

    def close(self) -> None:
        for socket in self._sockets:
            socket.abort()
        self._sockets.clear()
        self._server.close()
