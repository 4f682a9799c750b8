"""The settings of arXiv look-ups and PDF downloads, owned here: environment > library > default.

The environment variables exist for tests, mirrors and proxies; the library's `settings` table holds
what a user chose in the desk. Politeness is per host: `host_interval` is every host's default, and
`host_interval:<host>` entries set one host's own; arXiv's hosts never go below the 3 s its terms of
use ask for, unless the environment sets the interval (tests, mirrors), which then holds for every host.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from paperdesk.core.library import Library

DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query"
DEFAULT_ARXIV_PDF = "https://arxiv.org/pdf"
ARXIV_HOSTS = ("arxiv.org", "export.arxiv.org")
ARXIV_FLOOR = 3.0  # seconds: arXiv's terms of use
HOST_PREFIX = "host_interval:"  # a setting name for one host's interval: host_interval:<host>
_HOST_KEY = "pdf.host_interval:"
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")

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
    host_intervals: tuple[tuple[str, float], ...] = ()  # (host, seconds) a user chose for one host
    arxiv_floor: bool = True  # off when the environment sets the interval (tests, mirrors)

    def interval_for(self, url: str) -> float:
        """Seconds between two requests to the host of `url`: its own setting, else the default;
        never under 3 s for arXiv's hosts (unless the environment lifted it)."""
        host = (urlsplit(url).hostname or "").lower()
        value = dict(self.host_intervals).get(host, self.host_interval)
        if self.arxiv_floor and host in ARXIV_HOSTS:
            value = max(value, ARXIV_FLOOR)
        return value


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

    from_env = os.environ.get(_KEYS["host_interval"][1]) not in (None, "")
    return PdfSettings(
        host_intervals=() if from_env else tuple(_per_host(lib)),
        arxiv_floor=not from_env,
        arxiv_api=_raw(lib, "arxiv_api").rstrip("/"),
        arxiv_pdf=_raw(lib, "arxiv_pdf").rstrip("/"),
        host_interval=number("host_interval"),
        max_pdf_bytes=int(number("max_pdf_mb") * 1024 * 1024),
        timeout=number("timeout") or 30.0,
        fetch_starred=_raw(lib, "fetch_starred").strip().lower() not in ("0", "false", "no", "off"),
    )


def _per_host(lib: Library | None) -> list[tuple[str, float]]:
    """The hosts a user gave their own interval, with it (a malformed value is left out)."""
    if lib is None:
        return []
    found = []
    for key, value in lib.conn.execute("SELECT key, value FROM settings WHERE key LIKE ? ORDER BY key",
                                       (_HOST_KEY + "%",)):
        try:
            found.append((key[len(_HOST_KEY):], max(float(value), 0.0)))
        except (TypeError, ValueError):
            continue
    return found


def store(lib: Library, name: str, value: str) -> None:
    """Keep a user's choice in the library (the environment still wins over it)."""
    lib.set_setting(_KEYS[name][0], value)


NAMES = tuple(_KEYS)
_NUMBERS = ("host_interval", "max_pdf_mb", "timeout")
_SWITCHES = {"1": "1", "on": "1", "yes": "1", "true": "1", "0": "0", "off": "0", "no": "0", "false": "0"}


def describe(lib: Library) -> list[tuple[str, str, str]]:
    """(name, value in force, where it comes from: environment | library | default) per setting."""
    rows = []
    for name, (key, env, default) in _KEYS.items():
        stored = lib.setting(key)
        if os.environ.get(env) not in (None, ""):
            value, source = os.environ[env], f"environment {env}"
        elif stored not in (None, ""):
            value, source = str(stored), "library"
        else:
            value, source = default, "default"
        if name == "fetch_starred":
            value = "on" if load(lib).fetch_starred else "off"
        rows.append((name, value, source))
        if name == "host_interval":
            env_note = f" (overridden by environment {env})" if os.environ.get(env) not in (None, "") else ""
            rows += [(HOST_PREFIX + host, f"{seconds:g}", "library" + env_note)
                     for host, seconds in _per_host(lib)]
    return rows


def choose(lib: Library, name: str, value: str) -> str:
    """Check a user's value and keep it in the library ('' goes back to the default); returns what
    is stored. A bad name or value raises ValueError with one line, and nothing is stored."""
    if name.lower().startswith(HOST_PREFIX):
        return _choose_host_interval(lib, name[len(HOST_PREFIX):].strip().lower(), value.strip())
    if name not in _KEYS:
        raise ValueError(f"no PDF setting {name!r} (one of {', '.join(NAMES)}, {HOST_PREFIX}<host>)")
    value = value.strip()
    if value and name in _NUMBERS:
        number = _number(value)
        if not 0 <= number < 1e6 or (name != "host_interval" and number == 0):
            raise ValueError(f"{name} takes a positive number, not {value!r}")
    elif value and name == "fetch_starred":
        if value.lower() not in _SWITCHES:
            raise ValueError(f"fetch_starred takes on or off, not {value!r}")
        value = _SWITCHES[value.lower()]
    elif value:  # the arXiv API and PDF base addresses
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{name} takes an http(s) address, not {value!r}")
    store(lib, name, value)
    return value


def _choose_host_interval(lib: Library, host: str, value: str) -> str:
    """One host's own interval ('' removes it: the default applies again)."""
    if not _HOST_NAME.fullmatch(host) or len(host) > 253:
        raise ValueError(f"{HOST_PREFIX} takes a host name such as arxiv.org, not {host!r}")
    if value:
        seconds = _number(value)
        if not 0 <= seconds < 1e6:
            raise ValueError(f"{HOST_PREFIX}{host} takes a number of seconds, not {value!r}")
        if host in ARXIV_HOSTS and seconds < ARXIV_FLOOR:
            raise ValueError(f"{HOST_PREFIX}{host} takes {ARXIV_FLOOR:g} s or more "
                             "(arXiv's terms of use: one request every 3 seconds)")
        lib.set_setting(_HOST_KEY + host, value)
    else:
        with lib.transaction() as conn:
            conn.execute("DELETE FROM settings WHERE key = ?", (_HOST_KEY + host,))
    return value


def _number(text: str) -> float:
    """A user's number, or -1 for text that is none (every check refuses it)."""
    try:
        return float(text)
    except ValueError:
        return -1.0
