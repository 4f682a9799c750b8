"""Timestamps as stored in the library: UTC, ISO 8601, second precision."""

from __future__ import annotations

import datetime as dt


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def iso(moment: dt.datetime | None = None) -> str:
    """`moment` (default: now) as stored."""
    return (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0).isoformat()


def today() -> dt.date:
    return dt.date.today()


def ago(stamp: str, now: dt.datetime | None = None) -> str:
    """How long ago an ISO time was, in rough words ("just now", "2 min ago", "3 h ago")."""
    try:
        then = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return "at an unknown time"
    if then.tzinfo is None:
        then = then.replace(tzinfo=dt.UTC)
    seconds = max(0, int(((now or dt.datetime.now(dt.UTC)) - then).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


# English names whatever the locale (Qt sets the C library's locale from the environment, the CLI
# does not): the sidebar's names and the search index's words must be the same everywhere.
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def _day(iso: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(iso or "")
    except ValueError:
        return None


def long_date(iso: str | None) -> str:
    """How the desk names a day ("Nov 5, 2025"); "" for a missing or bad date."""
    day = _day(iso)
    return f"{MONTHS[day.month - 1][:3]} {day.day}, {day.year}" if day else ""


def date_words(iso: str | None) -> str:
    """Words a search finds a day by: its ISO form, the desk's name for it and the month's full name
    ("2025-11-05 Nov 5, 2025 November"), so `digest:nov`, `digest:"nov 5"` and
    `digest:november` find the digest the sidebar calls "Nov 5, 2025"."""
    day = _day(iso)
    return f"{iso} {long_date(iso)} {MONTHS[day.month - 1]}" if day else (iso or "")
