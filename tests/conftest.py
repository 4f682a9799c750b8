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


SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
NO_CORPUS = ("../shared/corpus, the optional conformance corpus of real-world files, is absent (as in a "
             "plain clone)")


class Corpus:
    """Reads files of the shared conformance corpus by their path inside it."""

    def __init__(self, folder: Path):
        self.dir = folder

    def __call__(self, rel: str) -> bytes:
        return (self.dir / rel).read_bytes()


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    """The shared corpus (`corpus("hf/x.json")` -> bytes, `corpus.dir`); skips the test without it."""
    if not SHARED_CORPUS.is_dir():
        pytest.skip(NO_CORPUS)
    return Corpus(SHARED_CORPUS)


@pytest.fixture
def api(tmp_path, monkeypatch, corpus):
    """A 127.0.0.1 arXiv API whose /api/query answers the recorded au:del_maestro response
    (`PAPERDESK_ARXIV_API` points at it); yields its request log. Skips without the shared corpus."""
    from feed_server import serve_folder

    root = tmp_path / "server"
    (root / "api").mkdir(parents=True)
    (root / "api" / "query").write_bytes(corpus("arxiv/arxiv-api-2016_search_au_del_maestro.xml"))
    log = tmp_path / "requests.log"
    with serve_folder(root, log) as url:
        monkeypatch.setenv("PAPERDESK_ARXIV_API", f"{url}/api/query")
        monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "0")
        yield log
