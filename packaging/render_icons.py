"""Render the application icon's PNG sizes from its SVG (run after editing the SVG).

    QT_QPA_PLATFORM=offscreen python packaging/render_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from paperdesk import APP_ID

SIZES = (16, 32, 48, 64, 128, 256, 512)
APP_DIR = Path(__file__).resolve().parent.parent / "resources" / "app"


def main() -> None:
    app = QGuiApplication([])  # noqa: F841 - QImage painting needs an application
    renderer = QSvgRenderer(str(APP_DIR / f"{APP_ID}.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        out = APP_DIR / "png" / f"{size}x{size}" / f"{APP_ID}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        image.save(str(out))


if __name__ == "__main__":
    main()
