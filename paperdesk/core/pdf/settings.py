"""The settings of arXiv look-ups and PDF downloads, owned here: environment > library > default.

The environment variables exist for tests, mirrors and proxies; the library's `settings` table holds
what a user chose in the desk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paperdesk.core.library import Library

DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query"
DEFAULT_ARXIV_PDF = "https://arxiv.org/pdf"

# name: (library setting key, environment variable, default as text)
_KEYS = {
    "arxiv_api": ("pdf.arxiv_api", "PAPERDESK_ARXIV_API", DEFAULT_ARXIV_API),
    "arxiv_pdf": ("pdf.arxiv_pdf", "PAPERDESK_ARXIV_PDF", DEFAULT_ARXIV_PDF),
    # arXiv's terms of use: no more than one request every three seconds.
    "host_interval": ("pdf.host_interval", "PAPERDESK_HOST_INTERVAL", "3"),
    "max_pdf_mb": ("pdf.max_mb", "PAPERDESK_PDF_MAX_MB", "100"),
    "timeout": ("pdf.timeout", "PAPERDESK_PDF_TIMEOUT", "30"),
    "fetch_starred": ("pdf.fetch_starred", "PAPERDESK_FETCH_STARRED", "1"),
}


@dataclass(frozen=True)
class PdfSettings:
    arxiv_api: str = DEFAULT_ARXIV_API
    arxiv_pdf: str = DEFAULT_ARXIV_PDF
    host_interval: float = 3.0  # seconds between the end of one request and the next to one host
    max_pdf_bytes: int = 100 * 1024 * 1024
    timeout: float = 30.0  # seconds to connect, and between two reads
    fetch_starred: bool = True  # fetch starred papers' PDFs in the background


def _raw(lib: Library | None, name: str) -> str:
    key, env, default = _KEYS[name]
    value = os.environ.get(env)
    if value is None and lib is not None:
        value = lib.setting(key)
    return value if value not in (None, "") else default


def load(lib: Library | None = None) -> PdfSettings:
    """The settings in force; a malformed value falls back to the default."""

    def number(name: str) -> float:
        try:
            value = float(_raw(lib, name))
        except ValueError:
            value = float(_KEYS[name][2])
        return max(value, 0.0)

    return PdfSettings(
        arxiv_api=_raw(lib, "arxiv_api").rstrip("/"),
        arxiv_pdf=_raw(lib, "arxiv_pdf").rstrip("/"),
        host_interval=number("host_interval"),
        max_pdf_bytes=int(number("max_pdf_mb") * 1024 * 1024),
        timeout=number("timeout") or 30.0,
        fetch_starred=_raw(lib, "fetch_starred").strip().lower() not in ("0", "false", "no", "off"),
    )


def store(lib: Library, name: str, value: str) -> None:
    """Keep a user's choice in the library (the environment still wins over it)."""
    lib.set_setting(_KEYS[name][0], value)
