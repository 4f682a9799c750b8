"""Highlights on PDF pages: stored as page + character range + quads, undoable, listed and searched
with the abstract's; `lib.pdf_path` names the cached file."""

from __future__ import annotations

import pytest
from pdf_samples import highlight_pdf

from paperdesk.core import LibraryError

QUADS = [[72.0, 700.5, 300.0, 712.0], [72.0, 686.0, 150.25, 698.0]]


@pytest.fixture
def pid(seeded):
    return seeded.paper_ids(limit=1)[0]


def test_pdf_highlight_is_stored_listed_and_undoable(seeded, pid):
    abstract_id, _ = seeded.highlights.add(pid, 0, 5)
    _, changes = highlight_pdf(seeded, pid, 2, 40, 61, "sparse attention heads", QUADS,
                                           color="green", comment="the key claim")
    assert pid in changes.papers and changes.notes
    listed = seeded.highlights.of(pid)
    assert [h.field for h in listed] == ["abstract", "pdf"]  # abstract first, then the PDF
    (pdf,) = [h for h in listed if h.field == "pdf"]
    assert (pdf.page, pdf.start, pdf.end, pdf.quote) == (2, 40, 61, "sparse attention heads")
    assert pdf.quads == QUADS and pdf.located and pdf.color == "green"
    assert seeded.highlights.of(pid)[0].id == abstract_id
    assert seeded.highlights.of(pid)[0].page is None

    seeded.highlights.update(pdf.id, comment="changed my mind")
    assert [h.comment for h in seeded.highlights.of(pid) if h.field == "pdf"] == ["changed my mind"]
    seeded.undo()
    assert [h.comment for h in seeded.highlights.of(pid) if h.field == "pdf"] == ["the key claim"]
    seeded.undo()
    assert [h.field for h in seeded.highlights.of(pid)] == ["abstract"]
    seeded.redo()
    (again,) = [h for h in seeded.highlights.of(pid) if h.field == "pdf"]
    assert again.quads == QUADS and again.page == 2
    seeded.highlights.remove(again.id)
    assert [h.field for h in seeded.highlights.of(pid)] == ["abstract"]


def test_pdf_highlight_is_searchable(seeded, pid):
    highlight_pdf(seeded, pid, 0, 0, 25, "quokkas are underrated here", QUADS[:1])
    assert [h.id for h in seeded.search.run("quokkas").hits] == [pid]
    assert pid in [h.id for h in seeded.search.run("has:highlight").hits]


def test_pdf_highlight_rejects_bad_input(seeded, pid):
    with pytest.raises(LibraryError, match="no paper with id nope"):
        highlight_pdf(seeded, "nope", 0, 0, 3, "abc", QUADS)
    with pytest.raises(LibraryError, match="select some text"):
        highlight_pdf(seeded, pid, 0, 5, 5, "x", QUADS)
    with pytest.raises(LibraryError, match="select some text"):
        highlight_pdf(seeded, pid, 0, 0, 3, "   ", QUADS)
    with pytest.raises(LibraryError, match="four numbers"):
        highlight_pdf(seeded, pid, 0, 0, 3, "abc", [[1, 2, 3]])
    with pytest.raises(LibraryError, match="unknown colour"):
        highlight_pdf(seeded, pid, 0, 0, 3, "abc", QUADS, color="ultraviolet")
    assert seeded.highlights.of(pid) == []
    assert seeded.history(1)[0].kind == "import"  # nothing recorded


def test_pdf_path_names_the_file_only_when_it_is_there(seeded, pid):
    assert seeded.pdf_path(pid) is None
    with seeded.transaction() as conn:
        conn.execute("INSERT INTO pdfs (paper_id, path, origin) VALUES (?, ?, 'attached')",
                     (pid, f"pdfs/{pid}.pdf"))
    assert seeded.pdf_path(pid) is None  # a row whose file is gone
    (seeded.folder / "pdfs").mkdir()
    (seeded.folder / "pdfs" / f"{pid}.pdf").write_bytes(b"%PDF-1.4\n")
    assert seeded.pdf_path(pid) == seeded.folder / "pdfs" / f"{pid}.pdf"
    assert seeded.pdf_path(pid).is_absolute()


def test_markdown_export_gives_pdf_highlights_their_page(seeded, pid, tmp_path):
    from paperdesk.core.export import export_markdown

    highlight_pdf(seeded, pid, 4, 10, 30, "on page five we find", QUADS, comment="see fig. 2")
    highlight_pdf(seeded, pid, 0, 3, 9, "page one", QUADS)
    seeded.highlights.add(pid, 0, 8)
    abstract_quote = seeded.get(pid)["abstract"][:8]
    export_markdown(seeded, tmp_path / "vault", [pid])
    (note,) = (tmp_path / "vault").glob("*.md")
    text = note.read_text(encoding="utf-8")
    expected = f"> {abstract_quote}\n\n> page one\n> — p. 1\n\n> on page five we find\n> — p. 5\n\nsee fig. 2"
    assert expected in text
    export_markdown(seeded, tmp_path / "list", [pid], one_file="reading.md")
    listed = (tmp_path / "list" / "reading.md").read_text(encoding="utf-8")
    assert "> page one\n> — p. 1\n" in listed and "> on page five we find\n> — p. 5\n" in listed
    assert f"> {abstract_quote}\n\n" in listed and "— p." not in listed.split("> page one")[0]


def test_highlight_over_a_page_break_is_a_row_per_page_and_one_operation(seeded, pid, tmp_path):
    """A selection from page 2 to page 3 is stored as two rows (each a page's character range and
    boxes), made and undone together, listed and exported page by page, and searchable."""
    from paperdesk.core.export import export_markdown

    parts = [(1, 50, 64, "end of page two", QUADS[:1]), (2, 0, 19, "start of page three", QUADS[1:])]
    seeded.highlights.add_pdf_parts(pid, parts, color="blue")
    marks = [h for h in seeded.highlights.of(pid) if h.field == "pdf"]
    assert [(h.page, h.start, h.end, h.quote, h.quads, h.color) for h in marks] == [
        (1, 50, 64, "end of page two", QUADS[:1], "blue"),
        (2, 0, 19, "start of page three", QUADS[1:], "blue"),
    ]
    assert seeded.history(1)[0].label.endswith("pages 2–3")
    export_markdown(seeded, tmp_path / "vault", [pid])
    (note,) = (tmp_path / "vault").glob("*.md")
    text = note.read_text(encoding="utf-8")
    assert "> end of page two\n> — p. 2\n\n> start of page three\n> — p. 3" in text
    assert pid in [h.id for h in seeded.search.run("wombat OR \"page three\"", typing=False).hits]
    seeded.undo()  # both parts at once
    assert [h for h in seeded.highlights.of(pid) if h.field == "pdf"] == []
    with pytest.raises(LibraryError):  # a bad part stores nothing, not even the good one
        seeded.highlights.add_pdf_parts(pid, [parts[0], (3, 5, 5, "x", QUADS)])
    assert [h for h in seeded.highlights.of(pid) if h.field == "pdf"] == []


def test_cli_lists_a_pdf_highlight_with_its_page(seeded, pid):
    import subprocess
    import sys

    highlight_pdf(seeded, pid, 2, 40, 61, "sparse attention heads", QUADS, comment="key")
    seeded.highlights.add(pid, 0, 5)
    folder = seeded.folder
    seeded.close()
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(folder), "highlights", pid],
                          capture_output=True, text=True, timeout=60)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and len(lines) == 2
    assert lines[1].endswith("[yellow] “sparse attention heads” (p. 3)  — key")
    assert "(p." not in lines[0]  # the abstract's has no page
