"""Paths of the sample digests and the fixed "today" the tests use.

Test modules import these from here, not from conftest: tests/gui has a conftest.py of its own, and
two modules named `conftest` cannot both be imported by name.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "resources" / "samples"  # byte copies of ../shared/seeds (see resources/samples/README)
DIGEST_BLOCKS = SAMPLES / "hf-daily-papers-nov-5.txt"
DIGEST_ALTERNATING = SAMPLES / "hf-papers-list.txt"
DIGEST_PLAIN = SAMPLES / "hf-daily-papers-mar-18.txt"
TODAY = dt.date(2026, 11, 23)
FEED_DATA = ROOT / "tests" / "data" / "feeds"  # small feed files made for the tests (see its README)


def feed_data(name: str) -> bytes:
    return (FEED_DATA / name).read_bytes()
