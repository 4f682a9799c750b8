"""Timestamps as stored in the library: UTC, ISO 8601, second precision."""

from __future__ import annotations

import datetime as dt


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


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
