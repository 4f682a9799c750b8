"""arXiv ids and PDFs in the desk against real parts: a 127.0.0.1 server answering recorded arXiv API
responses, real PDFs (made here, and the shared corpus's encrypted one), the desk's one writer.

Looking ids up after an import (offered, never forced) and for the whole library; Cancel; a dead
server; setting an id by hand (undoable); attaching and dropping a PDF (undoable), an encrypted one
asking its password before anything is stored."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from desk_keys import settle_desks
from pdf_samples import corpus_pdf, make_encrypted_pdf, make_pdf, pending_lookups

from paperdesk.core.pdf import files
from paperdesk.gui.qt import QDropEvent, QMimeData, QPointF, Qt, QUrl

LUTTINGER = "A Luttinger liquid core inside Helium-4-filled nanopores"
MELTING = "THERMAL MELTING OF DENSITY WAVES ON THE SQUARE LATTICE."
UNKNOWN = "A paper that arXiv never saw"
FILLER = "with a long abstract sentence that goes on for a while so the parser reads it as an abstract."


def digest(path: Path, *titles: str) -> Path:
    blocks = [f"{t}\n\nWhat the paper {t.lower()} is about, {FILLER}" for t in titles]
    path.write_text("Get trending papers in your email inbox!\n\nMar 18\n\n" + "\n\n".join(blocks) + "\n")
    return path


def ids_by_title(lib) -> dict[str, tuple]:
    return {t: (a, v, s) for t, a, v, s in lib.conn.execute(
        "SELECT title, arxiv_id, arxiv_version, arxiv_source FROM papers")}


def imported(window, qtbot, path: Path) -> None:
    with qtbot.waitSignal(window.jobs.finished, timeout=20_000,
                          check_params_cb=lambda job, _result: job.label.startswith("Import")):
        window.imports.import_files([path])


def test_an_import_offers_the_lookup_and_the_job_fills_the_ids(lib, make_window, api, tmp_path, qtbot):
    window = make_window(lib)
    imported(window, qtbot, digest(tmp_path / "d.txt", LUTTINGER, MELTING, UNKNOWN))
    offer = window.pdf.arxiv_lookup.offer_button
    qtbot.waitUntil(offer.isVisible, timeout=10_000)
    assert offer.text() == "Look up arXiv ids of 3 new papers"
    assert not api.exists()  # offered, not asked: nothing goes to arXiv before the user says so
    with qtbot.waitSignal(window.pdf.arxiv_lookup.finished, timeout=30_000):
        offer.click()
    assert not offer.isVisible()
    settle_desks(qtbot)
    found = ids_by_title(lib)
    assert found[LUTTINGER] == ("1201.4869", "v1", "resolved")
    assert found[MELTING] == ("cond-mat/0412498", "v1", "resolved")
    assert found[UNKNOWN] == (None, None, None)
    assert window.pdf.arxiv_lookup.last_summary == "arXiv ids: 2 found, 1 without an exact title match"
    assert window.statusBar().currentMessage() == window.pdf.arxiv_lookup.last_summary
    assert len(api.read_text().splitlines()) == 1  # three titles, one request
    assert not window.job_status.progress.isVisible()
    window.run_command("undo")  # the ids found are one undoable step
    settle_desks(qtbot)
    assert ids_by_title(lib)[LUTTINGER] == (None, None, None)


def test_no_offer_for_papers_already_asked_about(lib, make_window, api, tmp_path, qtbot):
    window = make_window(lib)
    imported(window, qtbot, digest(tmp_path / "d.txt", UNKNOWN))
    qtbot.waitUntil(window.pdf.arxiv_lookup.offer_button.isVisible, timeout=10_000)
    window.pdf.arxiv_lookup.withdraw_offer()
    (pid,) = [r[0] for r in lib.conn.execute("SELECT id FROM papers")]
    with lib.transaction() as conn:  # as a look-up leaves a paper arXiv does not have
        conn.execute("INSERT INTO arxiv_lookups (paper_id, state) VALUES (?, 'unmatched')", (pid,))
    window.pdf.arxiv_lookup.offer([pid])
    settle_desks(qtbot)
    assert not window.pdf.arxiv_lookup.offer_button.isVisible()


def test_cancel_stops_the_lookup_and_the_rest_is_asked_next_time(lib, make_window, api, tmp_path, qtbot,
                                                                 monkeypatch):
    from paperdesk.core.pdf import arxiv

    monkeypatch.setattr(arxiv, "BATCH_TITLES", 1)  # one request per title
    monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "3")  # the second waits its turn: time to cancel
    window = make_window(lib)
    imported(window, qtbot, digest(tmp_path / "d.txt", LUTTINGER, MELTING, UNKNOWN))
    lookup = window.pdf.arxiv_lookup
    with qtbot.waitSignal(lookup.finished, timeout=30_000):
        window.run_command("arxiv-lookup")  # the palette's command: the whole library
        status = window.job_status
        qtbot.waitUntil(lambda: status.progress.isVisible() and status.cancel_button.isVisible())
        qtbot.waitUntil(lambda: api.exists())  # the first request went out
        window.run_command("cancel-job")
    assert "cancelled: the rest are asked next time" in lookup.last_summary
    settle_desks(qtbot)
    assert len(api.read_text().splitlines()) == 1
    assert pending_lookups(lib) >= 1  # resumable: the next look-up takes them
    assert not window.job_status.progress.isVisible()
    monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "0")
    with qtbot.waitSignal(lookup.finished, timeout=30_000):
        window.run_command("arxiv-lookup")
    settle_desks(qtbot)
    assert pending_lookups(lib) == 0
    assert ids_by_title(lib)[MELTING][0] == "cond-mat/0412498"
    assert ids_by_title(lib)[LUTTINGER][0] == "1201.4869"


def test_closing_the_window_stops_the_lookup(lib, make_window, api, tmp_path, qtbot, monkeypatch):
    from paperdesk.core.pdf import arxiv

    monkeypatch.setattr(arxiv, "BATCH_TITLES", 1)
    monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "3")
    window = make_window(lib)
    imported(window, qtbot, digest(tmp_path / "d.txt", LUTTINGER, MELTING, UNKNOWN))
    job = window.pdf.arxiv_lookup.start(None)
    qtbot.waitUntil(lambda: api.exists())  # the first request went out; the second waits its turn
    window.close()
    assert job.cancelled


def test_a_dead_server_is_one_line_and_changes_nothing(lib, make_window, tmp_path, qtbot, monkeypatch):
    from paperdesk.core.pdf import arxiv

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PAPERDESK_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "0")
    monkeypatch.setattr(arxiv, "BATCH_TITLES", 1)
    window = make_window(lib)
    imported(window, qtbot, digest(tmp_path / "d.txt", LUTTINGER, MELTING, UNKNOWN))
    history = len(lib.history())
    with qtbot.waitSignal(window.pdf.arxiv_lookup.finished, timeout=30_000):
        window.run_command("arxiv-lookup")
    settle_desks(qtbot)
    summary = window.pdf.arxiv_lookup.last_summary
    assert summary.startswith("arXiv ids: 0 found") and "could not connect" in summary
    assert "\n" not in summary and window.statusBar().currentMessage() == summary
    assert set(ids_by_title(lib).values()) == {(None, None, None)}
    assert len(lib.history()) == history  # no operation
    states = sorted(r[0] for r in lib.conn.execute("SELECT state FROM arxiv_lookups"))
    assert states == ["error", "pending", "pending"]  # one request, then stopped; all asked again


def arxiv_of(lib, pid: str) -> tuple:
    return lib.conn.execute("SELECT arxiv_id, arxiv_version, arxiv_source FROM papers WHERE id = ?",
                            (pid,)).fetchone()


def test_set_an_arxiv_id_by_hand_undoably_and_refuse_a_bad_one(seeded, make_window, qtbot):
    window = make_window(seeded)
    pid = window.selection.current_id()
    assert pid is not None
    window.keys.press("normal", "A")
    dialog = window.dialogs.top()
    assert dialog is not None and dialog.isVisible()  # opened with open(): the test goes on
    dialog.setTextValue("see 2401.12345 in the paper")
    dialog.accept()
    assert "is not one arXiv id" in window.statusBar().currentMessage()
    settle_desks(qtbot)
    assert arxiv_of(seeded, pid)[2] != "user"
    window.run_command("arxiv-set")
    window.dialogs.top().setTextValue("https://arxiv.org/abs/2401.12345v2")
    window.dialogs.top().accept()
    settle_desks(qtbot)
    assert arxiv_of(seeded, pid) == ("2401.12345", "v2", "user")
    assert window.statusBar().currentMessage().startswith("arXiv id set to 2401.12345v2")
    window.run_command("arxiv-set")
    assert window.dialogs.top().textValue() == "2401.12345v2"  # the id it has, to correct
    window.dialogs.top().reject()
    window.run_command("undo")
    settle_desks(qtbot)
    assert arxiv_of(seeded, pid)[2] != "user"


def drop(window, path: Path, pid: str) -> None:
    """Drop a file on the list row of `pid`, as a file manager would."""
    row = window.model.row_of(pid)
    rect = window.table.visualRect(window.model.index(row, 0))
    point = window.table.viewport().mapTo(window, rect.center())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_a_dropped_pdf_is_the_papers_pdf_and_undo_takes_it_back(seeded, make_window, tmp_path, qtbot):
    window = make_window(seeded)
    pid = window.model.id_at(2)
    assert window.selection.current_id() != pid  # dropped on a row that is not the current one
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(make_pdf([["Zebrafish regenerate their fins."]]))
    drop(window, pdf, pid)
    settle_desks(qtbot)
    assert seeded.pdf_path(pid) is not None and files.pdf_row(seeded, pid)["origin"] == "attached"
    assert window.statusBar().currentMessage().startswith("Attached paper.pdf (1 page)")
    window.run_command("undo")
    settle_desks(qtbot)
    assert files.pdf_row(seeded, pid) is None and seeded.pdf_path(pid) is None
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 truncated")
    drop(window, broken, pid)
    settle_desks(qtbot)
    assert "broken.pdf: damaged or not a PDF" in window.statusBar().currentMessage()
    assert "nothing changed" in window.statusBar().currentMessage() and files.pdf_row(seeded, pid) is None


@pytest.mark.parametrize("source", ["made here", "shared corpus"])
def test_an_encrypted_pdf_asks_its_password_before_anything_is_stored(seeded, make_window, tmp_path, qtbot,
                                                                      source):
    if source == "made here":
        locked = tmp_path / "locked.pdf"
        locked.write_bytes(make_encrypted_pdf([["Secret wombats burrow at night."]], "hunter2"))
        password, word = "hunter2", "wombats"
    else:
        locked, password, word = corpus_pdf("libreoffice-writer-password.pdf"), "openpassword", "Lorem"
    window = make_window(seeded)
    pid = window.selection.current_id()
    history = len(seeded.history())
    window.pdf.attach_pdf(pid, str(locked))
    qtbot.waitUntil(lambda: window.dialogs.top() is not None, timeout=10_000)
    dialog = window.dialogs.top()
    assert dialog.isVisible() and "is encrypted" in dialog.labelText()
    dialog.reject()  # Cancel: nothing changed
    assert "not attached; nothing changed" in window.statusBar().currentMessage()
    settle_desks(qtbot)
    assert files.pdf_row(seeded, pid) is None and len(seeded.history()) == history
    assert not list((seeded.folder / "pdfs").glob("*"))  # not even a temporary file
    assert window.dialogs.top() is None
    window.pdf.attach_pdf(pid, str(locked))
    qtbot.waitUntil(lambda: window.dialogs.top() is not None, timeout=10_000)
    first = window.dialogs.top()
    first.setTextValue("wrong")
    first.accept()
    qtbot.waitUntil(lambda: window.dialogs.top() not in (None, first), timeout=10_000)
    assert window.dialogs.top().labelText().startswith("Wrong password.")
    assert files.pdf_row(seeded, pid) is None
    window.dialogs.top().setTextValue(password)
    window.dialogs.top().accept()
    qtbot.waitUntil(lambda: files.pdf_row(seeded, pid) is not None, timeout=10_000)
    settle_desks(qtbot)
    from paperdesk.core.pdf.document import PdfDocument

    with PdfDocument.open(seeded.pdf_path(pid)) as doc:  # kept decrypted: never asks again
        assert word in doc.page_text(0)
    view = window.reader.pdf.view
    qtbot.waitUntil(lambda: window.reader.showing_pdf and view.doc is not None, timeout=10_000)
