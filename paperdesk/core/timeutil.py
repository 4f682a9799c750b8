"""Timestamps as stored in the library: UTC, ISO 8601, second precision."""

from __future__ import annotations

import datetime as dt


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def today() -> dt.date:
    return dt.date.today()
