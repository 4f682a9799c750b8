"""Papers' PDFs fetched from a real 127.0.0.1 server (real PDFs of ../shared/corpus/pdf and PDFs made
here), attached, imported from a folder; every bad input is one line and changes nothing."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from feed_server import serve_folder
from pdf_samples import CORPUS_PDF, corpus_pdf, highlight_pdf, make_encrypted_pdf, make_pdf

from paperdesk.core.pdf import download, files, fulltext, importdir
from paperdesk.core.pdf.document import PdfDocument
from paperdesk.core.records import IncomingPaper, SourceBatch

OURS = make_pdf([["Zebrafish regenerate their fins.", "Quokkas smile a lot."], ["Second page about lemurs."]])


def add_papers(lib, *papers: tuple[str, str | None], url: str | None = None) -> None:
    incoming = [IncomingPaper(title=t, abstract=f"About {t}.", arxiv_id=a, url=url) for t, a in papers]
    digest = hashlib.sha1(repr(papers).encode()).hexdigest()
    lib.import_batch(SourceBatch("feed", "test", "test", "2026-11-01", digest, incoming))


@pytest.fixture
def server(tmp_path, monkeypatch):
    """`/pdf/<arXiv id>` answers; yields (base URL, request log)."""
    root = tmp_path / "server"
    (root / "pdf").mkdir(parents=True)
    (root / "pdf" / "2401.00001").write_bytes(OURS)
    (root / "pdf" / "2401.00004").write_text("<!DOCTYPE html><html><body>We are down for maintenance"
                                             "</body></html>")
    (root / "pdf" / "2401.00005").write_bytes(b"")
    (root / "pdf" / "2401.00006").write_bytes(OURS[:300])  # truncated
    (root / "pdf" / "2401.00007").write_bytes(make_pdf([[]]))  # no text layer
    (root / "pdf" / "slow.pdf").write_bytes(OURS)
    (root / "pdf" / "2401.00011").write_bytes(OURS + b"%" * (2 * 1024 * 1024))  # 2 MB
    if CORPUS_PDF.is_dir():
        for name, aid in (("pdflatex-4-pages.pdf", "2401.00002"),
                          ("libreoffice-writer-password.pdf", "2401.00003"), ("habibi.pdf", "2401.00008")):
            shutil.copy(CORPUS_PDF / name, root / "pdf" / aid)
    log = tmp_path / "requests.log"
    with serve_folder(root, log) as url:
        monkeypatch.setenv("PAPERDESK_ARXIV_PDF", f"{url}/pdf")
        monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "0")
        yield url, log


@pytest.fixture
def papers(lib):
    add_papers(lib, *[(f"Paper number {n}", f"2401.{n:05d}") for n in range(1, 11)])
    return lib


def page_of(text: fulltext.PageText, word: str) -> int:
    """The 0-based page whose text holds `word`, by the stored page starts."""
    offset = text.text.index(word)
    return max(n for n, start in enumerate(text.page_starts) if start <= offset)


def leftovers(lib) -> list[str]:
    folder = lib.folder / files.PDF_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_fetch_keeps_a_checked_pdf_then_asks_conditionally(papers, server):
    lib = papers
    (result,) = download.fetch_pdfs(lib, ["2401.00001"])
    assert result.status == "ok" and result.pages == 2 and not result.encrypted
    path = lib.pdf_path("2401.00001")
    assert path == lib.folder / "pdfs" / files.stored_name("2401.00001", hashlib.sha256(OURS).hexdigest())
    assert path.read_bytes() == OURS
    row = files.pdf_row(lib, "2401.00001")
    assert row["origin"] == "fetched" and row["url"].endswith("/pdf/2401.00001") and row["etag"]
    assert row["text_state"] == "pending" and row["sha256"] == hashlib.sha256(OURS).hexdigest()
    assert leftovers(lib) == [path.name]  # no temporary file left behind
    (again,) = download.fetch_pdfs(lib, ["2401.00001"])
    assert again.status == "not-modified"
    agents = [line.split(" ", 2)[2] for line in server[1].read_text().splitlines()]
    assert len(agents) == 2 and all(a.startswith("PaperDesk/") for a in agents)


def test_fulltext_is_extracted_resumably_and_searchable(papers, server):
    lib = papers
    download.fetch_pdfs(lib, ["2401.00001"])
    assert fulltext.pending(lib) == ["2401.00001"]
    report = fulltext.extract_pending(lib)
    assert report.done == ["2401.00001"] and fulltext.pending(lib) == []
    text = fulltext.page_text(lib, "2401.00001")
    assert page_of(text, "lemurs") == 1 and page_of(text, "Quokkas") == 0


@pytest.mark.parametrize(("arxiv_id", "reason"), [
    ("2401.00004", "the server sent a web page, not a PDF"),
    ("2401.00005", "the server sent an empty body"),
    ("2401.00006", "damaged or not a PDF (truncated or corrupt)"),  # once, not twice
    ("2401.00009", "(HTTP 404): withdrawn, or a wrong address"),
])
def test_bad_downloads_change_nothing(papers, server, arxiv_id, reason):
    lib = papers
    (result,) = download.fetch_pdfs(lib, [arxiv_id])
    assert result.status == "error" and reason in result.error and "\n" not in result.error
    assert lib.pdf_path(arxiv_id) is None and files.pdf_row(lib, arxiv_id) is None
    assert leftovers(lib) == []
    failures, next_attempt = lib.conn.execute(
        "SELECT failures, next_attempt FROM pdf_fetches WHERE paper_id = ?", (arxiv_id,)).fetchone()
    assert failures == 1
    assert arxiv_id not in download.pdfs_to_fetch(lib)  # the background job waits out the backoff
    if "404" in reason:
        assert next_attempt > "2026-12-31" or next_attempt[:7] > lib.conn.execute(
            "SELECT substr(datetime('now', '+29 days'), 1, 7)").fetchone()[0]


def test_a_body_over_the_cap_is_refused(papers, server, monkeypatch):
    monkeypatch.setenv("PAPERDESK_PDF_MAX_MB", "1")
    add_papers(papers, ("A huge paper", "2401.00011"))
    (result,) = download.fetch_pdfs(papers, ["2401.00011"])
    assert result.status == "error" and result.error == "the PDF is larger than the 1 MB limit"
    assert leftovers(papers) == [] and files.pdf_row(papers, "2401.00011") is None


def test_stalling_and_dead_servers_end_with_one_line(lib, server, monkeypatch):
    url, _ = server
    add_papers(lib, ("A slow paper", None), url=f"{url}/pdf/slow.pdf?trickle=0.2")
    (pid,) = lib.paper_ids()
    monkeypatch.setattr(download, "TOTAL_TIMEOUT", 1.0)
    (result,) = download.fetch_pdfs(lib, [pid])
    assert result.status == "error" and result.error == "timed out: the download took longer than 1 s"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PAPERDESK_ARXIV_PDF", f"http://127.0.0.1:{port}/pdf")
    add_papers(lib, ("Paper on a dead host", "2401.00001"))
    (result,) = download.fetch_pdfs(lib, ["2401.00001"])
    assert result.status == "error" and result.error.startswith("could not connect to 127.0.0.1")
    assert leftovers(lib) == []


def test_one_request_at_a_time_and_spaced_per_host(papers, server, monkeypatch):
    monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "0.3")
    download.fetch_pdfs(papers, ["2401.00001", "2401.00005", "2401.00007"])
    times = [float(line.split(" ", 1)[0]) for line in server[1].read_text().splitlines()]
    assert len(times) == 3 and all(b - a >= 0.28 for a, b in itertools.pairwise(times)), times


def test_encrypted_no_text_and_right_to_left(papers, server):
    corpus_pdf("habibi.pdf")
    lib = papers
    results = {r.paper_id: r for r in download.fetch_pdfs(lib, ["2401.00003", "2401.00007", "2401.00008"])}
    encrypted = results["2401.00003"]
    assert encrypted.encrypted and "encrypted: needs a password" in encrypted.summary()
    report = fulltext.extract_pending(lib)
    assert report.done == ["2401.00008"]
    assert report.failed == {"2401.00007": "none"}
    assert files.pdf_row(lib, "2401.00003")["text_state"] == "encrypted"
    assert "no text to search" in fulltext.state_word("none")
    arabic = fulltext.page_text(lib, "2401.00008").text
    assert "habibi" in arabic and "حَبيبي" in arabic  # in the order it is read, not drawn
    assert "\x03" not in arabic  # its text layer's control character stays out of snippets
    lib.search.update()
    for typed in ("حبيبي", "fulltext:حبيبي", "fulltext:حَبيبي"):  # with or without its vowel mark
        assert [h.id for h in lib.search.run(typed, typing=False).hits] == ["2401.00008"], typed


def test_pdfs_to_fetch_lists_starred_papers_without_a_pdf(papers, server, monkeypatch):
    lib = papers
    assert download.pdfs_to_fetch(lib) == []
    lib.star(["2401.00001", "2401.00002", "2401.00004"])
    add_papers(lib, ("Starred without an address", None))
    lib.star([lib.conn.execute("SELECT id FROM papers WHERE arxiv_id IS NULL").fetchone()[0]])
    assert sorted(download.pdfs_to_fetch(lib)) == ["2401.00001", "2401.00002", "2401.00004"]
    download.fetch_pdfs(lib, download.pdfs_to_fetch(lib, 10))
    assert download.pdfs_to_fetch(lib) == []  # fetched, or (the web page) waiting out its backoff
    assert lib.pdf_path("2401.00001") is not None
    monkeypatch.setenv("PAPERDESK_FETCH_STARRED", "0")
    lib.star(["2401.00007"])
    assert download.pdfs_to_fetch(lib) == []


def test_attach_refuses_bad_files_and_relocates_highlights(papers, tmp_path):
    lib = papers
    html = tmp_path / "page.pdf"
    html.write_text("<html><body>Not found</body></html>")
    for bad, reason in ((html, "a web page, not a PDF"), (tmp_path / "missing.pdf", "no such file"),
                        (tmp_path, "not a regular file")):
        with pytest.raises(files.PdfRejected, match=reason):
            files.attach(lib, "2401.00001", bad, max_bytes=10**8)
    assert leftovers(lib) == [] and files.pdf_row(lib, "2401.00001") is None

    first = tmp_path / "v1.pdf"
    first.write_bytes(OURS)
    files.attach(lib, "2401.00001", first, max_bytes=10**8)
    assert first.read_bytes() == OURS  # the original is left alone
    fulltext.extract_pending(lib)
    with PdfDocument.open(lib.pdf_path("2401.00001")) as doc:  # pdfium's character indices
        start = doc.page_text(0).index("Quokkas")
    highlight_pdf(lib, "2401.00001", 0, start, start + 7, "Quokkas", [[72, 690, 120, 702]],
                          comment="cute")
    # A newer version where the sentence moved to page 2: the highlight follows it.
    moved = tmp_path / "v2.pdf"
    moved.write_bytes(make_pdf([["A new first page."], ["Intro.", "Quokkas smile a lot."]]))
    files.attach(lib, "2401.00001", moved, max_bytes=10**8)
    assert fulltext.pending(lib) == ["2401.00001"]
    fulltext.extract_pending(lib)
    (h,) = lib.highlights.of("2401.00001")
    assert (h.page, h.quote, h.located, h.comment) == (1, "Quokkas", True, "cute")
    assert h.quads and h.quads != [[72, 690, 120, 702]]
    # A version without it: kept, marked as not located.
    gone = tmp_path / "v3.pdf"
    gone.write_bytes(make_pdf([["Nothing about marsupials here."]]))
    files.attach(lib, "2401.00001", gone, max_bytes=10**8)
    fulltext.extract_pending(lib)
    (h2,) = lib.highlights.of("2401.00001")
    assert not h2.located and h2.quads == h.quads and h2.page == 1
    # ... and says so where it is listed and exported (the desk no longer draws it).
    assert (h.where(), h2.where()) == ("p. 2", "p. 2, not found in the newer PDF")
    from paperdesk.core.export import export_markdown

    export_markdown(lib, tmp_path / "vault", ["2401.00001"])
    (note,) = (tmp_path / "vault").glob("*.md")
    assert "> Quokkas\n> — p. 2 (not found in the newer PDF)\n" in note.read_text(encoding="utf-8")
    # Every version stays while an operation can bring it back; no temporary file is left.
    assert len(leftovers(lib)) == 3 and all(n.startswith("2401.00001-") for n in leftovers(lib))


def search_ids(lib, query: str) -> list[str]:
    lib.search.update()
    return [h.id for h in lib.search.run(query, typing=False).hits]


def test_attach_and_fetch_are_undoable_with_their_text_and_files(papers, server, tmp_path):
    lib = papers
    (fetched,) = download.fetch_pdfs(lib, ["2401.00001"])
    assert lib.history(1)[0].label == "Fetch the PDF of 2401.00001"
    fulltext.extract_pending(lib)
    assert search_ids(lib, "quokkas") == ["2401.00001"]
    first = lib.pdf_path("2401.00001")
    with PdfDocument.open(first) as doc:
        start = doc.page_text(0).index("Quokkas")
    highlight_pdf(lib, "2401.00001", 0, start, start + 7, "Quokkas", [[72, 690, 120, 702]])
    # A local file replaces it: one operation; undo brings the fetched file, its text and its
    # place in the index back; redo the attached one.
    newer = tmp_path / "newer.pdf"
    newer.write_bytes(make_pdf([["Cover page."], ["Quokkas smile a lot.", "Wombats dig burrows."]]))
    files.attach(lib, "2401.00001", newer, max_bytes=10**8)
    assert lib.history(1)[0].label == "Attach the PDF of 2401.00001"
    fulltext.extract_pending(lib)
    assert search_ids(lib, "wombats") == ["2401.00001"]
    (h,) = lib.highlights.of("2401.00001")
    assert h.page == 1
    second = lib.pdf_path("2401.00001")
    assert second != first and first.is_file()  # the replaced file is kept for undo
    op, changes = lib.undo()
    assert op.label == "Attach the PDF of 2401.00001" and "2401.00001" in changes.papers
    assert lib.pdf_path("2401.00001") == first and files.pdf_row(lib, "2401.00001")["origin"] == "fetched"
    assert "Quokkas" in fulltext.page_text(lib, "2401.00001").text
    assert "Wombats" not in fulltext.page_text(lib, "2401.00001").text
    assert search_ids(lib, "wombats") == [] and search_ids(lib, "quokkas") == ["2401.00001"]
    assert fulltext.pending(lib) == ["2401.00001"]  # extracted again: the highlight goes back
    fulltext.extract_pending(lib)
    assert lib.highlights.of("2401.00001")[0].page == 0
    lib.redo()
    assert lib.pdf_path("2401.00001") == second and search_ids(lib, "wombats") == ["2401.00001"]
    lib.undo()
    # Undoing the fetch too: no PDF, no text, not in the full-text index; the files stay for redo.
    op, _ = lib.undo()  # the highlight
    op, _ = lib.undo()
    assert op.label == "Fetch the PDF of 2401.00001"
    assert files.pdf_row(lib, "2401.00001") is None and lib.pdf_path("2401.00001") is None
    assert fulltext.page_text(lib, "2401.00001") is None and search_ids(lib, "quokkas") == []
    assert sorted(leftovers(lib)) == sorted([first.name, second.name])
    # A new change drops the redo stack: the next PDF of the paper takes the files nothing refers to.
    lib.star(["2401.00005"], True)
    files.attach(lib, "2401.00001", newer, max_bytes=10**8)
    assert leftovers(lib) == [second.name] and lib.pdf_path("2401.00001") == second
    assert fetched.status == "ok"


def test_import_dir_matches_by_name_text_and_title(papers, tmp_path):
    lib = papers
    add_papers(lib, ("Sparse Attention Without Tears", None))
    folder = tmp_path / "downloads"
    (folder / "sub").mkdir(parents=True)
    (folder / "2401.00001v2.pdf").write_bytes(OURS)
    stamped = make_pdf([["Some title", "arXiv:2401.00002v1 [cs.LG] 3 Jan 2024"]])
    (folder / "sub" / "paper.pdf").write_bytes(stamped)
    (folder / "titled.pdf").write_bytes(make_pdf([["Sparse attention", "without tears", "A. Author"]]))
    (folder / "stranger.pdf").write_bytes(make_pdf([["A paper we do not have"]]))
    (folder / "broken.pdf").write_bytes(OURS[:200])
    (folder / "page.pdf").write_text("<!DOCTYPE html><html><body>Sign in to download</body></html>")
    (folder / "notes.txt").write_text("not a pdf")
    add_papers(lib, ("Lemurs: A Field Guide", None))  # saved by a browser as its title
    (folder / "Lemurs_ A Field Guide.pdf").write_bytes(make_pdf([["No title on this page"]]))
    report = importdir.import_dir(lib, folder)
    matched = {Path(f.file).name: (f.paper_id, f.how) for f in report.matched}
    title_id, lemurs_id = (lib.conn.execute("SELECT id FROM papers WHERE title = ?", (t,)).fetchone()[0]
                           for t in ("Sparse Attention Without Tears", "Lemurs: A Field Guide"))
    assert matched == {"2401.00001v2.pdf": ("2401.00001", "file name"),
                       "paper.pdf": ("2401.00002", "first page"), "titled.pdf": (title_id, "title"),
                       "Lemurs_ A Field Guide.pdf": (lemurs_id, "title in the file name")}
    unmatched = {Path(f.file).name: f.error for f in report.unmatched}
    assert set(unmatched) == {"stranger.pdf", "broken.pdf", "page.pdf"}
    assert "no paper in the library matches it" in unmatched["stranger.pdf"]
    assert unmatched["page.pdf"] == "a web page, not a PDF"  # the words attach says
    broken = unmatched["broken.pdf"]
    assert broken == "damaged or not a PDF (truncated or corrupt)"  # no file name, said once
    assert lib.pdf_path(title_id) is not None and lib.pdf_path("2401.00003") is None


def run_cli(*args: str, library: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(library), *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONWARNINGS": "error", **(env or {})})


def test_cli_pdf_commands_say_one_line(papers, server, tmp_path):
    lib, folder = papers, papers.folder
    lib.close()
    env = {"PAPERDESK_ARXIV_PDF": f"{server[0]}/pdf", "PAPERDESK_HOST_INTERVAL": "0"}
    proc = run_cli("pdf", "fetch", "2401.00001", "2401.00004", "--json", library=folder, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    out = {r["paper_id"]: r for r in json.loads(proc.stdout)}
    assert out["2401.00001"]["status"] == "ok" and out["2401.00001"]["text"] == "done"
    assert "web page" in out["2401.00004"]["error"]
    # The shared corpus's encrypted PDF: refused without its password, kept decrypted with it.
    locked = str(corpus_pdf("libreoffice-writer-password.pdf"))  # skips when ../shared is absent
    proc = run_cli("pdf", "attach", "2401.00003", locked, library=folder)
    assert proc.returncode == 1
    assert proc.stderr == f"paperdesk: {locked} is encrypted: pass --password or attach it in the desk\n"
    proc = run_cli("pdf", "attach", "2401.00003", locked, "--password", "openpassword", library=folder)
    assert proc.returncode == 0 and "(1 page)" in proc.stdout and "text indexed" in proc.stdout
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(OURS[:300])
    proc = run_cli("pdf", "attach", "2401.00005", str(broken), library=folder)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "damaged or not a PDF" in proc.stderr and "nothing changed" in proc.stderr
    proc = run_cli("pdf", "show", "2401.00001", library=folder)
    assert proc.returncode == 0 and "2 pages" in proc.stdout and "text indexed" in proc.stdout
    proc = run_cli("set-arxiv", "2401.00001", "garbage", library=folder)
    assert proc.returncode == 1 and "is not one arXiv id" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_encrypted_pdfs_need_their_password_and_change_nothing_without(papers, tmp_path):
    lib, folder = papers, papers.folder
    history = len(lib.history())
    lib.close()
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(make_encrypted_pdf([["Secret wombats burrow at night."]], "hunter2"))
    proc = run_cli("pdf", "attach", "2401.00001", str(locked), library=folder)
    assert proc.returncode == 1
    assert proc.stderr == f"paperdesk: {locked} is encrypted: pass --password or attach it in the desk\n"
    proc = run_cli("pdf", "attach", "2401.00001", str(locked), "--password", "nope", library=folder)
    assert proc.returncode == 1 and proc.stderr == f"paperdesk: {locked}: wrong password; nothing changed\n"
    from paperdesk.core import Library

    with Library.open(folder) as again:
        assert files.pdf_row(again, "2401.00001") is None and len(again.history()) == history
        assert leftovers(again) == []
    # A folder whose every PDF is refused exits non-zero; with the password they are attached.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(locked, inbox / "2401.00002.pdf")
    (inbox / "broken.pdf").write_bytes(OURS[:200])
    proc = run_cli("pdf", "import", str(inbox), library=folder)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{inbox / '2401.00002.pdf'} is encrypted: pass --password or attach it in the desk" in proc.stdout
    assert "0 matched, 2 not matched" in proc.stdout
    proc = run_cli("pdf", "import", str(tmp_path / "empty-folder-that-is-not"), library=folder)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    proc = run_cli("pdf", "import", str(inbox), "--password", "hunter2", library=folder)
    assert proc.returncode == 0 and "1 matched, 1 not matched" in proc.stdout
    proc = run_cli("pdf", "attach", "2401.00001", str(locked), "--password", "hunter2", library=folder)
    assert proc.returncode == 0 and "text indexed" in proc.stdout
    with Library.open(folder) as again:
        for pid in ("2401.00001", "2401.00002"):  # kept decrypted: readable and searchable
            with PdfDocument.open(again.pdf_path(pid)) as doc:
                assert "wombats" in doc.page_text(0)
            assert files.pdf_row(again, pid)["text_state"] == "done"
        assert locked.read_bytes().startswith(b"%PDF-")  # the original is left alone (still locked)
        assert "wombats" in fulltext.page_text(again, "2401.00001").text


def test_page_counts_are_said_in_words():
    """'1 page', not '1 pages'; an encrypted PDF kept without its password has no count yet."""
    assert [files.pages_text(n) for n in (1, 4, None)] == ["1 page", "4 pages", "pages unknown"]
    assert download.PdfResult("p1", "ok", pages=1, size=17 * 1024).summary() == "p1: PDF kept (1 page, 17 KB)"
    locked = download.PdfResult("p2", "ok", size=12 * 1024, encrypted=True)
    assert locked.summary() == "p2: PDF kept (pages unknown, 12 KB); encrypted: needs a password"


def test_cli_import_of_a_folder_without_pdfs_is_one_line(papers, tmp_path):
    folder = papers.folder
    papers.close()
    empty = tmp_path / "no-pdfs"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a PDF")
    for extra in ((), ("--json",)):
        proc = run_cli("pdf", "import", str(empty), *extra, library=folder)
        assert proc.returncode == 1 and proc.stdout == ""  # no empty report above the line
        assert proc.stderr == f"paperdesk: {empty}: no PDF files in it; nothing changed\n"


def test_cli_pdf_settings_are_shown_kept_checked_and_reset(papers, monkeypatch):
    """The settings the issue names (arXiv addresses, politeness, size cap, starred fetch) are the
    user's to change, not only the environment's; a bad value is one line and nothing is kept."""
    for env in ("PAPERDESK_ARXIV_API", "PAPERDESK_ARXIV_PDF", "PAPERDESK_HOST_INTERVAL",
                "PAPERDESK_PDF_MAX_MB", "PAPERDESK_PDF_TIMEOUT", "PAPERDESK_FETCH_STARRED"):
        monkeypatch.delenv(env, raising=False)
    folder = papers.folder
    papers.star(["2401.00001"])
    papers.close()
    proc = run_cli("pdf", "settings", library=folder)
    assert proc.returncode == 0 and "fetch_starred = on (default)\n" in proc.stdout
    assert "arxiv_pdf = https://arxiv.org/pdf (default)\n" in proc.stdout
    proc = run_cli("pdf", "settings", "fetch_starred", "off", library=folder)
    assert proc.returncode == 0 and proc.stdout == "fetch_starred = off (library)\n"
    proc = run_cli("pdf", "settings", "max_pdf_mb", "5", library=folder)
    assert proc.returncode == 0 and proc.stdout == "max_pdf_mb = 5 (library)\n"
    for name, value, says in (("max_pdf_mb", "-3", "takes a positive number"),
                              ("fetch_starred", "maybe", "takes on or off"),
                              ("arxiv_pdf", "file:///etc", "takes an http(s) address"),
                              ("nope", "1", "no PDF setting 'nope'")):
        proc = run_cli("pdf", "settings", name, value, library=folder)
        assert proc.returncode == 1 and proc.stdout == "" and proc.stderr.count("\n") == 1, proc.stderr
        assert says in proc.stderr and "nothing changed" in proc.stderr
    proc = run_cli("pdf", "settings", "max_pdf_mb", library=folder)
    assert proc.returncode == 2 and "give max_pdf_mb a value" in proc.stderr
    from paperdesk.core import Library
    from paperdesk.core.pdf import settings as pdf_settings

    with Library.open(folder) as again:
        config = pdf_settings.load(again)
        assert not config.fetch_starred and config.max_pdf_bytes == 5 * 1024 * 1024
        assert download.pdfs_to_fetch(again) == []  # the desk's background fetch asks nothing
        assert pdf_settings.choose(again, "fetch_starred", "ON") == "1"
        assert download.pdfs_to_fetch(again) == ["2401.00001"]
    proc = run_cli("pdf", "settings", "max_pdf_mb", "", library=folder)
    assert proc.stdout == "max_pdf_mb = 100 (default)\n"
    env = {"PAPERDESK_FETCH_STARRED": "1"}  # the environment still wins, and says so
    proc = run_cli("pdf", "settings", "fetch_starred", library=folder, env=env)
    assert proc.returncode == 2
    proc = run_cli("pdf", "settings", library=folder, env=env)
    assert "fetch_starred = on (environment PAPERDESK_FETCH_STARRED)\n" in proc.stdout


def test_cli_pdf_show_without_a_pdf_says_how_to_get_one(papers):
    add_papers(papers, ("A digest paper without an address", None))
    bare = papers.conn.execute("SELECT id FROM papers WHERE arxiv_id IS NULL").fetchone()[0]
    folder = papers.folder
    papers.close()
    proc = run_cli("pdf", "show", "2401.00001", library=folder)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == "paperdesk: 2401.00001: no PDF (fetch one with `paperdesk pdf fetch 2401.00001`)\n"
    proc = run_cli("pdf", "show", bare, library=folder)  # fetching would only fail: say what works
    assert proc.returncode == 1 and proc.stderr == (
        f"paperdesk: {bare}: no PDF (no address to fetch it from: `paperdesk set-arxiv {bare} ARXIV_ID`, "
        f"or `paperdesk pdf attach {bare} FILE`)\n")


def test_cli_fetch_starred_is_asked_for_whatever_the_background_setting(papers, server):
    """`pdf fetch --starred` is the user asking: the desk's background setting being off used to make
    it fetch nothing, silently; with nothing to fetch it says so."""
    from paperdesk.core.pdf import settings as pdf_settings

    papers.star(["2401.00001"])
    pdf_settings.choose(papers, "fetch_starred", "off")
    assert download.pdfs_to_fetch(papers) == []  # the background job's list
    folder = papers.folder
    papers.close()
    env = {"PAPERDESK_ARXIV_PDF": f"{server[0]}/pdf", "PAPERDESK_HOST_INTERVAL": "0"}
    proc = run_cli("pdf", "fetch", "--starred", library=folder, env=env)
    assert proc.returncode == 0 and proc.stdout.startswith("2401.00001: PDF kept (2 pages"), proc.stderr
    proc = run_cli("pdf", "fetch", "--starred", library=folder, env=env)
    assert proc.returncode == 0 and proc.stdout.startswith("No starred paper waits for its PDF")
    proc = run_cli("pdf", "fetch", "--starred", "--json", library=folder, env=env)
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


def test_a_fetched_encrypted_pdf_given_its_password_is_kept_decrypted_and_searchable(papers, server):
    """Issue 20: a fetched encrypted PDF used to stay encrypted (readable in the desk only, never
    searchable); its password now replaces it by its decrypted copy, undoably."""
    lib = papers
    secret = make_encrypted_pdf([["Secret wombats burrow at night."]], "hunter2")
    (lib.folder.parent / "server" / "pdf" / "2401.00009").write_bytes(secret)
    (result,) = download.fetch_pdfs(lib, ["2401.00009"])
    assert result.status == "ok" and result.encrypted
    encrypted_path = lib.pdf_path("2401.00009")
    history = len(lib.history())
    with pytest.raises(files.PdfNeedsPassword) as wrong:
        files.decrypt_kept(lib, "2401.00009", "nope")
    assert wrong.value.wrong_password and len(lib.history()) == history  # nothing changed
    assert lib.pdf_path("2401.00009") == encrypted_path and leftovers(lib) == [encrypted_path.name]
    facts, changes = files.decrypt_kept(lib, "2401.00009", "hunter2")
    assert facts.pages == 1 and not facts.encrypted and changes.papers == {"2401.00009"}
    row = files.pdf_row(lib, "2401.00009")
    assert row["text_state"] == "pending" and row["origin"] == "fetched" and row["etag"]
    assert fulltext.extract_pending(lib).done == ["2401.00009"]
    assert [h.id for h in lib.search.run("wombats", typing=False).hits] == ["2401.00009"]
    lib.undo()  # back to the encrypted file as it was fetched
    assert lib.pdf_path("2401.00009") == encrypted_path
    assert files.pdf_row(lib, "2401.00009")["text_state"] == "encrypted"
    download.fetch_pdfs(lib, ["2401.00001"])
    with pytest.raises(files.PdfRejected, match="not encrypted"):
        files.decrypt_kept(lib, "2401.00001", "x")


def test_cli_pdf_fetch_password_keeps_a_fetched_encrypted_pdf_decrypted(papers, server):
    lib, folder = papers, papers.folder
    (folder.parent / "server" / "pdf" / "2401.00009").write_bytes(
        make_encrypted_pdf([["Secret wombats burrow at night."]], "hunter2"))
    lib.close()
    env = {"PAPERDESK_ARXIV_PDF": f"{server[0]}/pdf", "PAPERDESK_HOST_INTERVAL": "0"}
    proc = run_cli("pdf", "fetch", "2401.00009", "--password", "nope", library=folder, env=env)
    assert proc.returncode == 1 and proc.stderr == \
        "2401.00009: wrong password: the PDF is kept encrypted (not searchable)\n"
    # Fetched already (the server answers 304 now): the password alone decrypts the kept file.
    proc = run_cli("pdf", "fetch", "2401.00009", "--password", "hunter2", library=folder, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "2401.00009: PDF kept (1 page, 1 KB)\n"
    from paperdesk.core import Library

    with Library.open(folder) as again:
        with PdfDocument.open(again.pdf_path("2401.00009")) as doc:
            assert "wombats" in doc.page_text(0)
        assert files.pdf_row(again, "2401.00009")["text_state"] == "done"
        assert [h.id for h in again.search.run("wombats", typing=False).hits] == ["2401.00009"]


def test_per_host_intervals_are_checked_kept_and_arxiv_never_below_three_seconds(papers, monkeypatch):
    """Issue 20 asks for per-host politeness settings: `host_interval` is every host's default and
    `host_interval:<host>` one host's own; arXiv's hosts keep its 3 s unless the environment lifts it."""
    from paperdesk.core.pdf import settings as pdf_settings

    monkeypatch.delenv("PAPERDESK_HOST_INTERVAL", raising=False)
    lib = papers
    pdf_settings.choose(lib, "host_interval", "0")
    assert pdf_settings.choose(lib, "host_interval:Mirror.Example.org", "1.5") == "1.5"
    pdf_settings.choose(lib, "host_interval:export.arxiv.org", "5")
    for name, value, says in (("host_interval:arxiv.org", "1", "3 s or more"),
                              ("host_interval:not a host", "1", "takes a host name"),
                              ("host_interval:", "1", "takes a host name"),
                              ("host_interval:example.org", "-2", "takes a number of seconds"),
                              ("host_interval:example.org", "soon", "takes a number of seconds")):
        with pytest.raises(ValueError, match=says):
            pdf_settings.choose(lib, name, value)
    config = pdf_settings.load(lib)
    assert config.interval_for("https://mirror.example.org/pdf/1") == 1.5
    assert config.interval_for("http://other.example.org:8080/x") == 0
    assert config.interval_for("https://arxiv.org/pdf/2401.00001") == 3  # the floor, whatever the default
    assert config.interval_for("https://export.arxiv.org/api/query") == 5
    assert ("host_interval:mirror.example.org", "1.5", "library") in pdf_settings.describe(lib)
    assert pdf_settings.choose(lib, "host_interval:mirror.example.org", "") == ""  # back to the default
    assert pdf_settings.load(lib).interval_for("https://mirror.example.org/pdf/1") == 0
    assert not any(n.startswith("host_interval:mirror") for n, _v, _s in pdf_settings.describe(lib))
    monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "0")  # tests and mirrors: every host, no floor
    config = pdf_settings.load(lib)
    assert config.interval_for("https://arxiv.org/pdf/1") == 0
    assert config.interval_for("https://export.arxiv.org/api/query") == 0


def test_a_hosts_own_interval_spaces_its_downloads(papers, server, monkeypatch):
    from paperdesk.core.pdf import settings as pdf_settings

    monkeypatch.delenv("PAPERDESK_HOST_INTERVAL")
    pdf_settings.choose(papers, "host_interval", "0")
    pdf_settings.choose(papers, "host_interval:127.0.0.1", "0.3")
    download.fetch_pdfs(papers, ["2401.00001", "2401.00005", "2401.00007"])
    times = [float(line.split(" ", 1)[0]) for line in server[1].read_text().splitlines()]
    assert len(times) == 3 and all(b - a >= 0.28 for a, b in itertools.pairwise(times)), times


def test_cli_sets_one_hosts_interval(papers, monkeypatch):
    monkeypatch.delenv("PAPERDESK_HOST_INTERVAL", raising=False)
    folder = papers.folder
    papers.close()
    proc = run_cli("pdf", "settings", "host_interval:arxiv.org", "4", library=folder)
    assert proc.returncode == 0 and proc.stdout == "host_interval:arxiv.org = 4 (library)\n"
    proc = run_cli("pdf", "settings", "host_interval:arxiv.org", "1", library=folder)
    assert proc.returncode == 1 and proc.stdout == "" and proc.stderr.count("\n") == 1
    assert "3 s or more" in proc.stderr and "nothing changed" in proc.stderr
    proc = run_cli("pdf", "settings", library=folder)
    assert "host_interval = 3 (default)\nhost_interval:arxiv.org = 4 (library)\n" in proc.stdout


def test_control_characters_never_reach_the_stored_text_and_pages_stay_right(lib, tmp_path):
    """habibi.pdf's text layer carries a U+0003 that reached search snippets; control characters are
    now dropped before the text is stored, and the page starts are those of the cleaned text."""
    add_papers(lib, ("Bells and lemurs", "2401.00001"))
    source = tmp_path / "controls.pdf"
    source.write_bytes(make_pdf([["Bell\x07 rings\x03 twice"], ["Second\x01 page\x1b lemurs"]]))
    files.attach(lib, "2401.00001", source, max_bytes=1 << 20)
    assert fulltext.extract_one(lib, "2401.00001") == "done"
    text = fulltext.page_text(lib, "2401.00001")
    assert not any((ord(c) < 32 and c not in "\n\t\f") or 0x7f <= ord(c) < 0xa0 for c in text.text), text
    assert "Bell rings twice" in text.text and "Second page lemurs" in text.text
    assert page_of(text, "lemurs") == 1 and page_of(text, "twice") == 0
    assert text.text[text.page_starts[1]:].startswith("Second page")
    assert [h.id for h in lib.search.run("twice", typing=False).hits] == ["2401.00001"]  # only in its PDF
