"""Shared fixtures: a real library folder per test and the sample digests shipped in resources/."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "resources" / "samples"  # byte copies of ../shared/seeds (see resources/samples/README)
DIGEST_BLOCKS = SAMPLES / "000_8952fd423edcbd4b.txt"
DIGEST_ALTERNATING = SAMPLES / "001_1b94a34d59172f49.txt"
DIGEST_PLAIN = SAMPLES / "002_a0e2e1b702ddcfc1.txt"
TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def library_dir(tmp_path: Path) -> Path:
    return tmp_path / "library"


@pytest.fixture
def lib(library_dir: Path):
    from paperdesk.core import Library

    library = Library.open(library_dir)
    yield library
    library.close()


@pytest.fixture
def seeded(lib):
    """A library holding the three sample digests."""
    report = lib.import_paths([DIGEST_BLOCKS, DIGEST_ALTERNATING, DIGEST_PLAIN], today=TODAY)
    assert report.ok
    return lib
