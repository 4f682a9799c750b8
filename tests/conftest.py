"""Shared fixtures: a real library folder per test and the sample digests shipped in resources/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from samples import DIGEST_ALTERNATING, DIGEST_BLOCKS, DIGEST_PLAIN, TODAY

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


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
