"""Fetching PDFs from the desk against a real 127.0.0.1 server: on demand (F) and for starred papers."""

from __future__ import annotations

import hashlib

import pytest
from desk_keys import settle_desks
from feed_server import serve_folder
from pdf_samples import make_pdf

from paperdesk.core.records import IncomingPaper, SourceBatch

PDF = make_pdf([["Zebrafish regenerate their fins."], ["Second page about lemurs."]])


@pytest.fixture
def server(tmp_path, monkeypatch):
    root = tmp_path / "server"
    (root / "pdf").mkdir(parents=True)
    (root / "pdf" / "2401.00001").write_bytes(PDF)
    (root / "pdf" / "2401.00002").write_bytes(PDF)
    (root / "pdf" / "2401.00003").write_text("<!DOCTYPE html><html><body>Down for maintenance</body></html>")
    with serve_folder(root) as url:
        monkeypatch.setenv("PAPERDESK_ARXIV_PDF", f"{url}/pdf")
        monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "0")
        yield url


@pytest.fixture
def papers(lib):
    titles = [("Zebrafish fins", "2401.00001"), ("Lemur pages", "2401.00002"), ("Maintenance", "2401.00003")]
    incoming = [IncomingPaper(title=t, abstract=f"About {t}.", arxiv_id=a) for t, a in titles]
    digest = hashlib.sha1(repr(titles).encode()).hexdigest()
    lib.import_batch(SourceBatch("feed", "test", "test", "2026-11-01", digest, incoming))
    return {a: lib.conn.execute("SELECT id FROM papers WHERE arxiv_id = ?", (a,)).fetchone()[0]
            for _, a in titles}


def test_F_fetches_the_pdf_and_the_reader_shows_it(server, papers, lib, make_window, qtbot):
    window = make_window(lib)
    pid = papers["2401.00001"]
    assert window.selection.select_id(pid)
    assert not window.reader.showing_pdf
    window.keys.press("normal", "F")
    qtbot.waitUntil(lambda: lib.pdf_path(pid) is not None, timeout=20_000)
    view = window.reader.pdf.view
    qtbot.waitUntil(lambda: window.reader.showing_pdf and view.doc is not None, timeout=10_000)
    assert view.page_count == 2
    qtbot.waitUntil(lambda: view.page_painted(0), timeout=10_000)
    assert "PDF kept (2 pages" in window.statusBar().currentMessage()
    settle_desks(qtbot)
    window.run_command("undo")  # a fetch is one undoable operation
    qtbot.waitUntil(lambda: lib.pdf_path(pid) is None, timeout=10_000)
    qtbot.waitUntil(lambda: not window.reader.showing_pdf, timeout=10_000)


def test_a_web_page_instead_of_a_pdf_is_one_line_and_changes_nothing(server, papers, lib, make_window,
                                                                      qtbot):
    window = make_window(lib)
    pid = papers["2401.00003"]
    window.selection.select_id(pid)
    window.run_command("pdf-fetch")
    qtbot.waitUntil(lambda: "web page" in window.statusBar().currentMessage(), timeout=20_000)
    assert lib.pdf_path(pid) is None and not window.reader.showing_pdf
    assert not window.pdf.fetcher.busy
    assert list((lib.folder / "pdfs").glob("*")) == []  # no temporary file left behind


def test_starred_papers_are_fetched_in_the_background_when_the_setting_is_on(server, papers, lib,
                                                                           make_window, qtbot,
                                                                           monkeypatch):
    window = make_window(lib)
    starred = [papers["2401.00001"], papers["2401.00002"]]
    lib.star(starred, True)
    window.pdf.fetcher.fetch_starred()  # the setting is off in GUI tests: nothing happens
    assert not window.pdf.fetcher.busy
    monkeypatch.setenv("PAPERDESK_FETCH_STARRED", "1")
    window.pdf.fetcher.fetch_starred()  # what its timer does every minute
    qtbot.waitUntil(lambda: all(lib.pdf_path(pid) is not None for pid in starred), timeout=30_000)
    qtbot.waitUntil(lambda: not window.pdf.fetcher.busy)
    assert lib.pdf_path(papers["2401.00003"]) is None  # not starred: not fetched


def test_closing_the_window_stops_the_background_fetch(lib, make_window, qtbot):
    """Its first look used to fire after a test had closed the window and the library."""
    window = make_window(lib)
    fetcher = window.pdf.fetcher
    assert fetcher.timer.isActive()
    window.close()
    assert not fetcher.timer.isActive()
    fetcher.fetch_starred()  # a late call reads nothing
    assert not fetcher.busy
