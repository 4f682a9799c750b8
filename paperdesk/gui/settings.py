"""One settings object for the desk (QSettings); tests and screenshots point it at an ini file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from paperdesk import APP_NAME
from paperdesk.gui.qt import QSettings

DEFAULT_SCREEN_SHARE = 0.8  # of each side of the screen, for a window without saved geometry
SETTINGS_ENV = "PAPERDESK_GUI_SETTINGS"  # path of an ini file to use instead of the user's settings


def open_settings(path: str | None = None) -> QSettings:
    path = path or os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(APP_NAME, APP_NAME)


def read_int(settings: QSettings, key: str, default: int) -> int:
    try:
        return int(settings.value(key, default))
    except (TypeError, ValueError):
        return default


def library_key(settings_key: str, folder: Path) -> str:
    """The settings key of state that names one library's content (its last view: a digest or a tag
    of another library means nothing here): one group per library folder."""
    digest = hashlib.sha256(str(Path(folder).resolve()).encode("utf-8")).hexdigest()[:16]
    return f"libraries/{digest}/{settings_key}"


def default_window_size(screen_width: int, screen_height: int) -> tuple[int, int]:
    """A first window: 80% of the screen's free area, so list, reader and note all fit."""
    return round(screen_width * DEFAULT_SCREEN_SHARE), round(screen_height * DEFAULT_SCREEN_SHARE)
