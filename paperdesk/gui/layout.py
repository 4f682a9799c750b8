"""Building the dialogs and panes: a row or column from its parts, a button wired to its slot, a
wrapped label. A part is a widget, a layout, a (widget, stretch) pair or an int: a stretch."""

from __future__ import annotations

from collections.abc import Callable

from paperdesk.gui.qt import (
    QBoxLayout,
    QHBoxLayout,
    QIcon,
    QLabel,
    QLayout,
    QPushButton,
    Qt,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

Part = QWidget | QLayout | int | tuple[QWidget, int]


def _fill(box: QBoxLayout, parts: tuple[Part, ...], margins: tuple[int, int, int, int] | None,
          spacing: int | None) -> QBoxLayout:
    if margins is not None:
        box.setContentsMargins(*margins)
    if spacing is not None:
        box.setSpacing(spacing)
    for part in parts:
        if isinstance(part, int):
            box.addStretch(part)
        elif isinstance(part, QLayout):
            box.addLayout(part)
        elif isinstance(part, tuple):
            box.addWidget(*part)
        else:
            box.addWidget(part)
    return box


def row(*parts: Part, on: QWidget | None = None, margins: tuple[int, int, int, int] | None = None,
        spacing: int | None = None) -> QHBoxLayout:
    """Parts side by side (`on`: the widget this layout lays out)."""
    return _fill(QHBoxLayout(on), parts, margins, spacing)  # type: ignore[return-value]


def column(*parts: Part, on: QWidget | None = None, margins: tuple[int, int, int, int] | None = None,
           spacing: int | None = None) -> QVBoxLayout:
    """Parts one above the other (`on`: the widget this layout lays out)."""
    return _fill(QVBoxLayout(on), parts, margins, spacing)  # type: ignore[return-value]


def button(title: str, slot: Callable[[], object], tip: str = "") -> QPushButton:
    made = QPushButton(title)
    made.setToolTip(tip)
    made.clicked.connect(lambda _checked=False: slot())
    return made


def tool_button(tip: str, slot: Callable[[], object], *, text: str = "",
                icon: QIcon | None = None) -> QToolButton:
    """A flat bar button that leaves the focus where it is (a selection, the pages)."""
    made = QToolButton()
    made.setText(text)
    if icon is not None:
        made.setIcon(icon)
    made.setToolTip(tip)
    made.setAutoRaise(True)
    made.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    made.clicked.connect(lambda _checked=False: slot())
    return made


def wrapped(text: str = "", *, dim: bool = False) -> QLabel:
    """A label that wraps its text (`dim`: in the palette's placeholder colour, for asides)."""
    label = QLabel(text)
    label.setWordWrap(True)
    if dim:
        label.setStyleSheet("color: palette(placeholder-text);")
    return label
