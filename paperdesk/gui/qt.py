"""The one module that imports PySide6; the rest of the GUI imports Qt names from here."""

from __future__ import annotations

import ctypes
import platform
import sys

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QElapsedTimer,
    QEvent,
    QEventLoop,
    QKeyCombination,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QSettings,
    QSize,
    QStringListModel,
    Qt,
    QThread,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QIconEngine,
    QImage,
    QKeySequence,
    QPainter,
    QPalette,
    QPixmap,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStatusBar,
    QStyledItemDelegate,
    QStyleFactory,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QToolBar,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)


def _make_none_immortal() -> None:
    """Work around a PySide6 6.12 / CPython 3.11 binding bug.

    Every Qt call that returns nothing to Python (a void method such as `repaint()`, `setHtml()`,
    `processEvents()`, or a base-class `initStyleOption` in a delegate) drops one reference to `None`
    without taking it. None's count then reaches zero after some 10^5 calls and the interpreter aborts
    ("none_dealloc"), which a long desk session or a list paint per cell reaches easily. CPython 3.12
    made None immortal; here we do the same by giving it a huge reference count once at import.
    """
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return
    refcount = ctypes.c_ssize_t.from_address(id(None))
    if refcount.value < 1 << 40:
        refcount.value += 1 << 50


_make_none_immortal()

__all__ = [
    "QAbstractItemView", "QAbstractTableModel", "QAction", "QApplication", "QBrush", "QByteArray", "QColor",
    "QCompleter", "QDesktopServices", "QDialog", "QDialogButtonBox", "QDragEnterEvent", "QDropEvent",
    "QElapsedTimer", "QEvent", "QEventLoop", "QFileDialog", "QFont", "QFontDatabase", "QFrame",
    "QGuiApplication", "QHBoxLayout", "QHeaderView", "QIcon", "QIconEngine", "QImage", "QInputDialog",
    "QKeyCombination", "QKeySequence", "QLabel", "QLineEdit", "QListWidget", "QListWidgetItem",
    "QMainWindow", "QMenu", "QMimeData", "QModelIndex", "QObject", "QPainter", "QPalette",
    "QPersistentModelIndex", "QPixmap", "QPlainTextEdit", "QPoint", "QPointF", "QProgressBar",
    "QPushButton", "QRect", "QSettings", "QSize", "QSplitter", "QStatusBar", "QStringListModel",
    "QStyleFactory", "QStyledItemDelegate", "QSvgRenderer", "QTabWidget", "QTableView", "QTextBrowser",
    "QTextCursor", "QTextDocument", "QThread", "QTimer", "QToolBar", "QToolButton", "QTreeWidget",
    "QTreeWidgetItem", "QUrl", "QVBoxLayout", "QWidget", "Qt", "Signal", "Slot",
]
