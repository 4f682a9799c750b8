"""Key presses to commands, per mode, with multi-key sequences (`g i`): the core key map in the desk.

One event filter watches the widgets that take keys. Each watched widget has a mode: the list and the
reader are `normal` (single letters are commands), text fields are `insert` (letters are text; only
the insert map's chords act), the palette is `palette`, the PDF view `pdf`. A key that starts a longer
sequence is kept pending for `PENDING_MS` and shown in the status bar.
"""

from __future__ import annotations

from collections.abc import Callable

from paperdesk.core.keymap import MODES, Keymap, normalize_keys
from paperdesk.gui.qt import QEvent, QKeyCombination, QKeySequence, QObject, Qt, QTimer, QWidget

PENDING_MS = 1500
_MODIFIER_KEYS = {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta,
                  Qt.Key.Key_AltGr, Qt.Key.Key_CapsLock, Qt.Key.Key_unknown}
_CHORD_MODS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier \
    | Qt.KeyboardModifier.MetaModifier
# Keys a reader pane keeps for itself (scrolling) even though the list binds them.
_READER_KEYS = {"Up", "Down", "Home", "End", "PgUp", "PgDown", "Left", "Right"}


def key_name(event) -> str | None:
    """The key map's spelling of a key press: "j", "G", "?", "Ctrl+R", "Esc", "Down", "Return"."""
    key = event.key()
    if key in _MODIFIER_KEYS:
        return None
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    text = event.text()
    if text and text != " " and text.isprintable() and not (mods & _CHORD_MODS):
        return text
    combo = QKeyCombination(Qt.KeyboardModifier(mods), Qt.Key(key))
    name = QKeySequence(combo).toString()
    return normalize_keys(name) if name else None


class KeyDispatcher(QObject):
    """Runs `run(command)` for bound keys; `status(text)` shows a pending sequence."""

    def __init__(self, keymap: Keymap, run: Callable[[str], object], status: Callable[[str], None],
                 parent: QObject | None = None):
        super().__init__(parent)
        self.keymap = keymap
        self._run = run
        self._status = status
        self._modes: dict[QWidget, str] = {}
        self._bindings: dict[str, dict[str, str]] = {}
        self._prefixes: dict[str, set[str]] = {}
        for mode in MODES:
            merged = dict(keymap.for_mode(mode))
            self._bindings[mode] = merged
            self._prefixes[mode] = {" ".join(seq.split()[:i]) for seq in merged
                                    for i in range(1, len(seq.split()))}
        self.pending: list[str] = []
        self._timer = QTimer(self, singleShot=True, interval=PENDING_MS)
        self._timer.timeout.connect(self.cancel_pending)

    def bindings(self, mode: str) -> dict[str, str]:
        return self._bindings[mode]

    def watch(self, widget: QWidget, mode: str) -> None:
        self._modes[widget] = mode
        widget.installEventFilter(self)

    def watches(self, widget: QWidget | None) -> bool:
        return widget in self._modes

    def set_mode(self, widget: QWidget, mode: str) -> None:
        """A watched widget changes mode (the reader's page enters or leaves caret mode)."""
        self._modes[widget] = mode
        self.cancel_pending()

    def mode_of(self, widget: QWidget | None) -> str:
        while widget is not None:
            if widget in self._modes:
                return self._modes[widget]
            widget = widget.parentWidget()
        return "normal"

    def cancel_pending(self) -> None:
        if self.pending:
            self.pending = []
            self._timer.stop()
            self._status("")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or obj not in self._modes:
            return False
        name = key_name(event)
        if name is None:
            return False
        if name in getattr(obj, "own_keys", ()) and not self.pending:
            return False  # the widget's own (the sidebar moves with j/k)
        return self.press(self._modes[obj], name, reader=getattr(obj, "keeps_navigation_keys", False))

    def press(self, mode: str, name: str, reader: bool = False) -> bool:
        """Handle one key in `mode`; True when it was used (or swallowed)."""
        bindings = self._bindings[mode]
        if reader and mode == "normal" and not self.pending and name in _READER_KEYS:
            return False
        seq = " ".join([*self.pending, name])
        if seq in bindings:
            self.cancel_pending()
            self._run(bindings[seq])
            return True
        if seq in self._prefixes[mode]:
            self.pending.append(name)
            self._timer.start()
            self._status(f"{seq} …")
            return True
        if self.pending:  # a sequence that leads nowhere: drop it, and the key with it
            self.cancel_pending()
            self._status(f"{seq}: no such key sequence")
            return True
        # Unbound single letters do nothing in these modes (no type-ahead jumps in the list).
        return mode in ("normal", "pdf", "caret") and len(name) == 1 and name.isprintable()
