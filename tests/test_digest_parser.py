"""The digest importer on the real sample digests and on hand-made variants of them."""

from __future__ import annotations

import codecs
import datetime as dt
import os
from pathlib import Path

import pytest
from samples import DIGEST_ALTERNATING, DIGEST_BLOCKS, DIGEST_PLAIN, TODAY

from paperdesk.core.digest import parse_digest_text, read_digest
from paperdesk.core.records import RejectedInput


def test_blocks_layout_facts():
    batch = read_digest(DIGEST_BLOCKS, today=TODAY)
    papers = batch.papers
    assert batch.layout == "blocks"
    assert batch.date == "2026-11-05"
    assert len(papers) == 98
    assert sum(p.published is not None for p in papers) == 97
    assert sum(p.authors_count is not None for p in papers) == 94
    orgs = {p.organization for p in papers if p.organization}
    assert orgs == {"Tencent", "LongCat", "Z.ai"}
    first = papers[0]
    assert first.title == "SynthCoder: A Synthetical Strategy to Tune LLMs for Code Completion"
    assert first.authors_count == 9
    assert first.published == "2026-08-21"  # "Aug 21" in a digest of Nov 5
    assert papers[1].published == "2023-08-02"  # explicit year kept


def test_upvotes_and_dates_with_and_without_year():
    papers = read_digest(DIGEST_BLOCKS, today=TODAY).papers
    by_title = {p.title: p for p in papers}
    bezoar = by_title["OpenBezoar: Small, Cost-Effective and Open Models Trained on Mixes of "
                      "Instruction Data"]
    assert (bezoar.published, bezoar.upvotes) == ("2024-04-18", 1)
    spo = by_title["Single-stream Policy Optimization"]
    assert (spo.organization, spo.published, spo.upvotes) == ("Tencent", "2026-09-16", 3)


def test_alternating_layout_with_glued_subscribe():
    batch = read_digest(DIGEST_ALTERNATING, today=TODAY)
    assert batch.layout == "alternating"
    assert len(batch.papers) == 248
    assert batch.papers[0].title == "Matrix Calculus (for Machine Learning and Beyond)"
    assert batch.papers[0].abstract.startswith("This course, intended for undergraduates")


def test_plain_layout():
    batch = read_digest(DIGEST_PLAIN, today=TODAY)
    assert batch.layout == "plain"
    assert batch.date == "2026-03-18"
    assert len(batch.papers) == 79
    assert all(p.published is None for p in batch.papers)


def test_abstract_text_kept_exactly_including_tex():
    text = DIGEST_PLAIN.read_text(encoding="utf-8")
    papers = read_digest(DIGEST_PLAIN, today=TODAY).papers
    for paper in papers:
        assert paper.abstract in text
    assert any("0.07\\%" in p.abstract for p in papers)


def test_year_inferred_relative_to_digest_date_across_new_year():
    text = "Daily Papers\n\nJan 3\n\nA Title\n\nAn abstract of some length here.\n\n• 2 authors\n·\nDec 30\n"
    _layout, digest_date, papers = parse_digest_text(text, today=dt.date(2026, 1, 10))
    assert digest_date == dt.date(2026, 1, 3)
    assert papers[0].published == "2025-12-30"


def test_digest_date_never_after_today():
    text = "Daily Papers\n\nDec 30\n\nA Title\n\nAn abstract.\n"
    _, digest_date, _ = parse_digest_text(text, today=dt.date(2026, 11, 23))
    assert digest_date == dt.date(2025, 12, 30)


def test_feb_29_without_year_goes_to_a_leap_year():
    text = "Daily Papers\n\nMar 1\n\nA Title\n\nAn abstract.\n\n• 2 authors\n·\nFeb 29\n"
    _, _, papers = parse_digest_text(text, today=dt.date(2026, 11, 23))
    assert papers[0].published == "2024-02-29"


@pytest.mark.parametrize("encode", [
    lambda t: t.encode("utf-8"),
    lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    lambda t: t.encode("utf-16"),  # with BOM
    lambda t: t.replace("\n", "\r\n").encode("utf-8"),
    lambda t: t.replace("\n", "\r").encode("utf-8"),
    lambda t: t.rstrip("\n").encode("utf-8"),
], ids=["utf8", "utf8-bom", "utf16-bom", "crlf", "cr", "no-final-newline"])
def test_encodings_and_line_endings(tmp_path, encode):
    original = read_digest(DIGEST_BLOCKS, today=TODAY)
    path = tmp_path / "digest.txt"
    path.write_bytes(encode(DIGEST_BLOCKS.read_text(encoding="utf-8")))
    batch = read_digest(path, today=TODAY)
    assert [p.title for p in batch.papers] == [p.title for p in original.papers]
    assert [p.abstract for p in batch.papers] == [p.abstract for p in original.papers]
    assert batch.content_hash == original.content_hash


def test_cp1252_fallback(tmp_path):
    text = "Daily Papers\n\nNov 5\n\nCaf\u00e9 \u201cmodels\u201d\n\nAn abstract \u2013 here.\n"
    path = tmp_path / "digest.txt"
    path.write_bytes(text.encode("cp1252"))
    papers = read_digest(path, today=TODAY).papers
    assert papers[0].title == "Caf\u00e9 \u201cmodels\u201d"
    assert papers[0].abstract == "An abstract \u2013 here."


def _truncated_blocks() -> bytes:
    data = DIGEST_BLOCKS.read_bytes()
    cut = data.index(b"\xc2\xb7\nOct 8, 2022") + 3  # inside a metadata group: "·" but no date
    return data[:cut]


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty"),
    (b"   \n\n  ", "empty"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, "PNG image"),
    (bytes(range(256)) * 40, "binary"),
    (b"It was a bright cold day in April, and the clocks were striking thirteen. "
     b"Winston Smith slipped quickly through the glass doors.\n\n"
     b"The hallway smelt of boiled cabbage and old rag mats. At one end of it a coloured "
     b"poster had been tacked to the wall.\n", "not a"),
    (None, "truncated"),
], ids=["empty", "blank", "png", "binary", "prose", "truncated"])
def test_bad_input_is_rejected_with_reason(tmp_path, content, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(_truncated_blocks() if content is None else content)
    with pytest.raises(RejectedInput, match=reason):
        read_digest(path, today=TODAY)


def test_missing_path_directory_and_huge_file(tmp_path):
    with pytest.raises(RejectedInput, match="no such file"):
        read_digest(tmp_path / "nope.txt")
    with pytest.raises(RejectedInput, match="directory"):
        read_digest(tmp_path)
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing them
    with pytest.raises(RejectedInput, match=r"50\.0 MB"):
        read_digest(huge)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX only")
def test_a_fifo_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "digest.txt"
    os.mkfifo(fifo)  # opening it for reading without a writer would block for ever
    with pytest.raises(RejectedInput, match=r"named pipe \(FIFO\), not a regular file"):
        read_digest(fifo)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
def test_a_device_is_refused_not_read_for_ever():
    with pytest.raises(RejectedInput, match="character device, not a regular file"):
        read_digest(Path("/dev/zero"))


PROC_STATUS = Path("/proc/self/status")


@pytest.mark.skipif(not PROC_STATUS.exists() or PROC_STATUS.stat().st_size != 0,
                    reason="no /proc file whose stated size (0) understates what it holds")
def test_a_file_read_past_its_limit_is_refused():
    from paperdesk.core import textfile

    # A file holding more than its size said when checked (as one that grows meanwhile): a regular
    # file of size 0 that reads ~1 KB. The read itself stops at the limit.
    with pytest.raises(RejectedInput, match="grew past"):
        textfile.read_regular_file(PROC_STATUS, 100, "digests")
