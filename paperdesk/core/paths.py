"""Where PaperDesk keeps things: the library folder, config, and shipped resources."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from paperdesk import APP_NAME

LIBRARY_ENV = "PAPERDESK_LIBRARY"
DB_FILENAME = "library.sqlite3"


def default_library_dir() -> Path:
    """The library folder: $PAPERDESK_LIBRARY, else the user data dir."""
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def resources_dir() -> Path:
    """The shipped `resources/` folder, from a checkout, a wheel or a frozen build."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen_root:
        candidates.append(Path(frozen_root) / "resources")
    package_dir = Path(__file__).resolve().parent.parent
    candidates += [package_dir / "resources", package_dir.parent / "resources"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[-1]


def sample_digests() -> list[Path]:
    return sorted((resources_dir() / "samples").glob("*.txt"))
