"""Look: Fusion style, a palette that follows the system's light/dark scheme, and SVG icons tinted to it."""

from __future__ import annotations

from functools import cache

from paperdesk.core.paths import resources_dir
from paperdesk.gui.qt import (
    QApplication,
    QByteArray,
    QColor,
    QIcon,
    QIconEngine,
    QPainter,
    QPalette,
    QPixmap,
    QRect,
    QSize,
    QStyleFactory,
    QSvgRenderer,
    Qt,
)

ICON_DIR = resources_dir() / "icons"


def is_dark() -> bool:
    app = QApplication.instance()
    hints = app.styleHints() if app else None
    if hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark:
        return True
    return QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for r, c in ((role.Window, "#2b2d30"), (role.WindowText, "#dfe1e5"), (role.Base, "#1e1f22"),
                 (role.AlternateBase, "#26282b"), (role.ToolTipBase, "#3c3f41"),
                 (role.ToolTipText, "#dfe1e5"), (role.Text, "#dfe1e5"), (role.Button, "#33363a"),
                 (role.ButtonText, "#dfe1e5"), (role.BrightText, "#ff6b6b"), (role.Link, "#6aa7ff"),
                 (role.Highlight, "#2f65ca"), (role.HighlightedText, "#ffffff"),
                 (role.PlaceholderText, "#8c8f94"), (role.Mid, "#45484c"), (role.Dark, "#1a1b1e")):
        p.setColor(r, QColor(c))
    for r in (role.Text, role.WindowText, role.ButtonText):
        p.setColor(group.Disabled, r, QColor("#6f7378"))
    return p


def apply_theme(app: QApplication) -> None:
    """Fusion everywhere (consistent, crisp); dark palette when the system asks for dark."""
    app.setStyle(QStyleFactory.create("Fusion"))
    hints = app.styleHints()
    app.setPalette(dark_palette() if hints.colorScheme() == Qt.ColorScheme.Dark
                   else app.style().standardPalette())
    icon.cache_clear()


class SvgIconEngine(QIconEngine):
    """Renders an SVG at the exact device-pixel size asked for, so icons stay sharp at any DPI."""

    def __init__(self, svg: bytes):
        super().__init__()
        self._svg = svg
        self._renderer = QSvgRenderer(QByteArray(svg))

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        if mode == QIcon.Mode.Disabled:
            painter.setOpacity(0.4)
        self._renderer.render(painter, rect)

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        pixmap = QPixmap(size * scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.paint(painter, QRect(0, 0, pixmap.width(), pixmap.height()), mode, state)
        painter.end()
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def clone(self) -> QIconEngine:
        return SvgIconEngine(self._svg)


@cache
def icon(name: str) -> QIcon:
    """`resources/icons/<name>.svg` drawn in the palette's text colour."""
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        return QIcon()
    color = QApplication.palette().color(QPalette.ColorRole.WindowText).name()
    svg = path.read_bytes().replace(b"currentColor", color.encode())
    return QIcon(SvgIconEngine(svg))
