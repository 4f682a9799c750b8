"""The Qt-free core: library, importers, search, feeds, export. Never imports Qt."""

from paperdesk.core.changes import Changes
from paperdesk.core.library import FileReport, ImportReport, Library, LibraryError

__all__ = ["Changes", "FileReport", "ImportReport", "Library", "LibraryError"]
