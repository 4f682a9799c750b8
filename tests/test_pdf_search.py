"""A PDF's text in the search index: its own field, weaker than title and abstract, in plain queries;
has:pdf; snippets name the page."""

from __future__ import annotations

import hashlib

import pytest
from pdf_samples import make_pdf

from paperdesk.core.pdf import files, fulltext
from paperdesk.core.records import IncomingPaper, SourceBatch


@pytest.fixture
def lib_with_pdf(lib, tmp_path):
    papers = [IncomingPaper(title="Fins of fish", abstract="How zebrafish regrow fins.",
                            arxiv_id="2401.00001"),
              IncomingPaper(title="Primates", abstract="Lemurs of Madagascar and their diet.",
                            arxiv_id="2401.00002"),
              IncomingPaper(title="Nothing related", abstract="Graph theory.", arxiv_id="2401.00003")]
    lib.import_batch(SourceBatch("feed", "t", "t", "2026-11-01", hashlib.sha1(b"x").hexdigest(), papers))
    lib.search.run("anything")  # the index exists before the PDF arrives: it must be updated, not rebuilt
    pdf = tmp_path / "fish.pdf"
    pdf.write_bytes(make_pdf([["Zebrafish regenerate their fins."], ["Intro.", "Second page about lemurs",
                                                                      "and ring-tailed lemurs again."]]))
    files.attach(lib, "2401.00001", pdf, max_bytes=10**8)
    return lib


def test_pdf_text_is_searched_with_a_lower_weight_and_page_snippets(lib_with_pdf):
    lib = lib_with_pdf
    assert [h.id for h in lib.search.run("lemurs", typing=False).hits] == ["2401.00002"]  # not extracted yet
    fulltext.extract_pending(lib)
    result = lib.search.run("lemurs", typing=False)
    assert [h.id for h in result.hits] == ["2401.00002", "2401.00001"]  # the abstract's match first
    assert result.hits[1].snippet.startswith("p. 2: ") and "<b>lemurs</b>" in result.hits[1].snippet
    assert "p. " not in result.hits[0].snippet  # the abstract matched: no page
    assert [h.id for h in lib.search.run("fulltext:lemurs", typing=False).hits] == ["2401.00001"]
    assert [h.id for h in lib.search.run('pdf:"ring tailed lemurs"', typing=False).hits] == ["2401.00001"]
    assert lib.search.run('pdf:"tailed ring"', typing=False).hits == []  # a phrase, not just words
    assert [h.id for h in lib.search.run("has:pdf").hits] == ["2401.00001"]
    assert [h.id for h in lib.search.run("lemurs has:pdf", typing=False).hits] == ["2401.00001"]
    assert [h.id for h in lib.search.run("lemurs -has:pdf", typing=False).hits] == ["2401.00002"]


def test_rebuild_keeps_fulltext_and_a_scan_still_has_a_pdf(lib_with_pdf, tmp_path):
    lib = lib_with_pdf
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(make_pdf([[]]))  # no text layer
    files.attach(lib, "2401.00003", scan, max_bytes=10**8)
    report = fulltext.extract_pending(lib)
    assert report.failed == {"2401.00003": "none"}
    lib.search.rebuild()
    assert [h.id for h in lib.search.run("fulltext:regenerate", typing=False).hits] == ["2401.00001"]
    assert sorted(h.id for h in lib.search.run("has:pdf").hits) == ["2401.00001", "2401.00003"]
    assert lib.search.check(repair=False)["ok"]


def test_the_desks_indexer_child_reads_pending_pdf_texts(lib_with_pdf):
    """`paperdesk index update` (run by the desk after each writer job) extracts first, then indexes."""
    import os
    import subprocess
    import sys

    from paperdesk.core import Library

    folder = lib_with_pdf.folder
    assert fulltext.pending(lib_with_pdf) == ["2401.00001"]
    lib_with_pdf.close()
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(folder), "index", "update"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "error"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "read the text of 1 PDFs" and lines[-1] == "indexed 1 papers"  # the desk counts it
    with Library.open(folder) as again:
        assert fulltext.pending(again) == []
        hits = again.search.run("fulltext:lemurs", typing=False, drain=False).hits
        assert [h.id for h in hits] == ["2401.00001"]
