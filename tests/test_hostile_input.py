"""Bad input from outside (issue 18): numbers out of range, implausible parses, unbounded lengths,
control characters and escapes, links that reach other machines. Each source kind, end to end into
a real library; each case failed before its fix."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from samples import DIGEST_ALTERNATING, DIGEST_PLAIN, TODAY

from paperdesk.core.digest import parse_digest_text, read_digest
from paperdesk.core.feeds.parse import parse_document
from paperdesk.core.limits import (
    MAX_ABSTRACT_CHARS,
    MAX_NAME_CHARS,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
    printable,
)
from paperdesk.core.markup import render_markdown, sanitize
from paperdesk.core.reader_html import paper_html
from paperdesk.core.records import IncomingPaper, RejectedInput, SourceBatch

SHARED_SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds" / "001_1b94a34d59172f49.txt"
TOO_BIG = "9223372036854775808"  # 2**63: one more than SQLite's largest integer
URL = "http://127.0.0.1/feed"


def blocks_digest(meta: str) -> str:
    return ("Daily Papers\n\nNov 20\n\nA Fine Title\n\nA fine abstract.\n\n• 3 authors\n·\nNov 5 12\n\n"
            f"Another Title\n\nAnother abstract.\n\n{meta}\n")


def rss(title: str, *, link: str = "https://example.org/p/1", description: str = "An abstract.") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            f"<item><title>{title}</title><link>{link}</link><description>{description}</description>"
            f"</item></channel></rss>").encode()


def hf_json(**paper: object) -> bytes:
    entry = {"id": "2606.00467", "title": "A Paper", "summary": "An abstract.", "upvotes": 3,
             "authors": [{"name": "Ada"}], **paper}
    return json.dumps([{"paper": entry}]).encode()


def arxiv_atom(title: str, author: str = "Ada Lovelace") -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>ArXiv Query</title><id>http://arxiv.org/api/x</id>"
            "<entry><id>http://arxiv.org/abs/2401.00001v1</id><published>2024-01-01T00:00:00Z</published>"
            f"<title>{title}</title><summary>An abstract.</summary><author><name>{author}</name></author>"
            "</entry></feed>").encode()


def import_feed(lib, body: bytes, content_type: str | None = None) -> dict:
    batch = parse_document(body, url=URL, name="test", content_type=content_type).batch
    report = lib.import_batch(batch)
    assert report.ok and report.new == 1
    return lib.get(report_new_id(lib))


def report_new_id(lib) -> str:
    ids = lib.paper_ids(order="added")
    assert len(ids) == 1
    return ids[0]


# -- numbers out of range (item 1) ----------------------------------------------------------------
@pytest.mark.parametrize(("meta", "line", "what"), [
    (f"• 2 authors\n·\nNov 6 {TOO_BIG}", 19, f"{TOO_BIG} upvotes"),
    (f"• {TOO_BIG} authors\n·\nNov 6 4", 17, f"{TOO_BIG} authors"),
    ("• 0 authors\n·\nNov 6 4", 17, "0 authors"),
    ("• 2 authors\n·\nNov 6 " + "9" * 5000, 19, "upvotes"),  # int() itself refuses 4,300+ digits
], ids=["upvotes-2**63", "authors-2**63", "authors-zero", "upvotes-5000-digits"])
def test_digest_count_out_of_range_is_refused_naming_its_line(meta, line, what):
    with pytest.raises(RejectedInput, match=rf"^line {line}: .*{what[:30]}.* is not a plausible count"):
        parse_digest_text(blocks_digest(meta), today=TODAY)


def test_import_good_bad_good_imports_both_good_files_and_names_the_bad(lib, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(blocks_digest(f"• 2 authors\n·\nNov 6 {TOO_BIG}"), encoding="utf-8")
    report = lib.import_paths([DIGEST_PLAIN, bad, DIGEST_ALTERNATING], today=TODAY)  # OverflowError
    assert [f.ok for f in report.files] == [True, False, True]
    assert report.files[1].error.startswith("line 19: 9223372036854775808 upvotes")
    assert lib.conn.execute("SELECT count(*) FROM sources").fetchone()[0] == 2


def test_cli_import_good_bad_good_says_one_line_and_fails(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(blocks_digest(f"• {TOO_BIG} authors\n·\nNov 6 4"), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "paperdesk", "--library", str(tmp_path / "lib"), "import",
         str(DIGEST_PLAIN), str(bad), str(DIGEST_ALTERNATING)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"paperdesk: {bad}: line 17: {TOO_BIG} authors is not a plausible count (1 to 100,000)"]
    assert f"{DIGEST_PLAIN}: 79 papers" in proc.stdout and f"{DIGEST_ALTERNATING}: 248 papers" in proc.stdout


@pytest.mark.parametrize("upvotes", ["1" + "0" * 30, str(-(2**63) - 1), "-5", "9" * 5000, "true", "1.5e40"])
def test_hf_json_absurd_upvotes_are_dropped_and_the_paper_kept(lib, upvotes):
    body = hf_json().replace(b'"upvotes": 3', f'"upvotes": {upvotes}'.encode())
    record = import_feed(lib, body, "application/json")  # OverflowError in merge_batch before
    assert record["title"] == "A Paper" and record["upvotes"] is None


def test_merge_batch_never_overflows_whatever_a_parser_hands_it(lib):
    paper = IncomingPaper(title="Hand Made", upvotes=10**30, authors_count=-(2**63) - 1,
                          published="99999-01-01", url="https://example.org/x")
    batch = SourceBatch(kind="feed", name="x", origin=URL, date="2026-13-45", content_hash="h",
                        papers=[paper])
    assert lib.import_batch(batch).new == 1
    record = lib.get(report_new_id(lib))
    assert (record["upvotes"], record["authors_count"], record["published"]) == (None, None, None)


def test_feed_date_with_an_absurd_year_is_dropped():
    body = rss("Dated").replace(b"<link>", b"<pubDate>Mon, 01 Jan 99999999999 00:00:00 GMT</pubDate><link>")
    paper = parse_document(body, url=URL, name="t").batch.papers[0]
    assert paper.title == "Dated" and paper.published is None


# -- implausible parses (item 5) ------------------------------------------------------------------
def alternating_digest(papers: int = 6) -> list[str]:
    lines = ["Get trending papers in your email inbox!"]
    for n in range(1, papers + 1):
        title = f"Paper Number {n}: A Study of Things"
        lines += [("Subscribe" if n == 1 else "") + title,
                  f"Abstract {n}. " + "We study things and find results that matter a great deal. " * 12]
    return lines


def test_a_stray_blank_line_in_an_alternating_digest_is_refused_naming_it(lib, tmp_path):
    lines = alternating_digest()
    assert parse_digest_text("\n".join(lines), today=TODAY)[0] == "alternating"
    broken = [*lines[:6], "", *lines[6:]]  # the blank line is line 7
    path = tmp_path / "broken.txt"
    path.write_text("\n".join(broken), encoding="utf-8")
    report = lib.import_paths([path], today=TODAY)  # 2 papers with 4 abstracts in each, before
    assert not report.ok
    assert report.files[0].error.startswith("line 7: a stray blank line? Lines 3-6 read as one abstract")
    assert "titles and abstracts in a row" in report.files[0].error
    assert lib.conn.execute("SELECT count(*) FROM papers").fetchone()[0] == 0


def test_an_abstract_longer_than_any_real_one_is_refused():
    text = "Daily Papers\n\nNov 20\n\nA Title\n\n" + "word " * 3000 + "\n"
    with pytest.raises(RejectedInput, match=r"^line 7 read as one abstract of 14,999 characters \(real"):
        parse_digest_text(text, today=TODAY)


@pytest.mark.skipif(not SHARED_SEED.exists(), reason="../shared/seeds is not here")
def test_the_real_seed_with_a_blank_line_at_251_is_refused(tmp_path):
    lines = SHARED_SEED.read_text(encoding="utf-8").split("\n")
    path = tmp_path / "001.txt"
    path.write_text("\n".join([*lines[:250], "", *lines[250:]]), encoding="utf-8")
    with pytest.raises(RejectedInput, match=r"^line 251: a stray blank line\? Lines 4-250 read as one"):
        read_digest(path, today=TODAY)


def test_a_correct_import_replaces_an_abstract_from_a_broken_parse(lib):
    assert lib.import_paths([DIGEST_ALTERNATING], today=TODAY).ok
    pid = lib.paper_ids(order="title")[0]
    good = lib.get(pid)["abstract"]
    # What a broken parse stored before parses were checked: 170,000 characters.
    lib.conn.execute("UPDATE papers SET abstract = ? WHERE id = ?", ("garbage " * 21_250, pid))
    lib.conn.execute("DELETE FROM sources")
    assert lib.import_paths([DIGEST_ALTERNATING], today=TODAY).ok
    assert lib.get(pid)["abstract"] == good


# -- lengths (item 7) -----------------------------------------------------------------------------
def test_a_five_million_character_feed_title_is_stored_capped_and_shown_small(lib):
    record = import_feed(lib, rss("T" * 5_000_000, description="D" * 1_000_000))
    assert len(record["title"]) == MAX_TITLE_CHARS and record["title"].endswith("…")
    assert len(record["abstract"]) == MAX_ABSTRACT_CHARS
    assert len(paper_html(lib, record)) < 3 * (MAX_TITLE_CHARS + MAX_ABSTRACT_CHARS)


def test_the_reader_never_builds_an_unbounded_page_even_from_old_rows():
    huge = "x" * 5_000_000
    record = {"id": "p", "title": huge, "abstract": huge, "authors": [huge] * 10, "authors_count": 10,
              "organization": huge, "published": huge, "url": "https://e.org/" + huge, "arxiv_id": huge,
              "tags": [huge], "upvotes": 1, "starred": 0, "status": "inbox", "note": None, "sources": []}
    assert len(paper_html(None, record, marks=[])) < 2 * MAX_ABSTRACT_CHARS


@pytest.mark.parametrize("source", ["hf", "arxiv", "feed"])
def test_every_source_is_capped(lib, source):
    long_name = "N" * 50_000
    if source == "hf":
        body = hf_json(title="T" * 50_000, summary="S" * 50_000, authors=[{"name": long_name}],
                       organization={"fullname": long_name})
    elif source == "arxiv":
        body = arxiv_atom("T" * 50_000, author=long_name)
    else:
        body = rss("T" * 50_000, link="https://example.org/" + "u" * MAX_URL_CHARS)
    record = import_feed(lib, body)
    assert len(record["title"]) == MAX_TITLE_CHARS
    assert all(len(a) <= MAX_NAME_CHARS for a in record["authors"])
    assert len(record["organization"] or "") <= MAX_NAME_CHARS
    assert record["url"] is None or len(record["url"]) <= MAX_URL_CHARS


def test_opml_feed_names_are_printable_and_capped(lib):

    title = "Red\x1b[31m Feed" + "F" * 50_000  # raw: html.unescape drops a "&#x1b;" by itself
    opml = f'<opml version="2.0"><body><outline text="{title}" xmlUrl="https://e.org/rss"/></body></opml>'
    lib.feeds.import_opml(opml.encode())
    (feed,) = lib.feeds.all()
    assert feed.name.startswith("Red Feed") and len(feed.name) <= 300 and "\x1b" not in feed.name


# -- control characters and escapes (item 11) -----------------------------------------------------
ESCAPED = "Red\x1b[31m Alert\x1b]0;pwned\x07\x00\x9b2J Title\x7f\x85"


def test_printable_removes_escape_sequences_whole():
    assert printable(ESCAPED, single_line=True) == "Red Alert Title "
    assert printable("a\tb\r\nc\x00\x0bd") == "a\tb\ncd"


def test_a_utf16_digest_lets_no_nul_or_escape_into_a_title(lib, tmp_path):
    text = DIGEST_PLAIN.read_text(encoding="utf-8")
    first = parse_digest_text(text, today=TODAY)[2][0].title
    path = tmp_path / "utf16.txt"
    path.write_text(text.replace(first, f"\x00{first}\x1b[2J\x00"), encoding="utf-16")
    assert lib.import_paths([path], today=TODAY).ok
    titles = [r["title"] for r in lib.rows(lib.paper_ids())]
    assert first in titles and not any(c in t for t in titles for c in "\x00\x1b")


@pytest.mark.parametrize("source", ["hf", "arxiv", "feed"])
def test_feed_sources_strip_control_characters(lib, source):
    if source == "hf":
        body = hf_json(title=ESCAPED, summary=f"Line one{ESCAPED}\nline two", authors=[{"name": ESCAPED}])
    elif source == "arxiv":
        body = arxiv_atom("Red&#x1b;[31m Alert Title", author="Ada&#x9b;2J Lovelace")
    else:
        body = rss("Red&#x1b;[31m Alert&#x7;&#x9b;2J Title", description="x&#x1b;]0;pwned&#x7;y")
    record = import_feed(lib, body)
    text = json.dumps(record, ensure_ascii=False)
    assert not any(c in text for c in "\x00\x07\x1b\x7f\x9b"), text
    assert "[31m" not in record["title"] and "Alert" in record["title"]


def test_list_never_prints_raw_escapes_even_for_old_rows(lib, tmp_path):
    assert lib.import_paths([DIGEST_PLAIN], today=TODAY).ok
    pid = lib.paper_ids()[0]
    lib.conn.execute("UPDATE papers SET title = ?, abstract = ? WHERE id = ?", (ESCAPED, ESCAPED, pid))
    lib.close()
    for command in (["list"], ["show", pid]):
        proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(lib.folder), *command],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and "Red Alert" in proc.stdout
        assert not any(c in proc.stdout for c in "\x00\x07\x1b\x7f\x9b"), repr(proc.stdout[:300])


def test_feeds_list_never_prints_raw_escapes(lib):

    lib.feeds.import_opml(b'<opml version="2.0"><body><outline text="F" xmlUrl="https://e.org/rss"/></body></opml>')
    lib.conn.execute("UPDATE feeds SET last_error = ?, failures = 1", (f"HTTP 500 {ESCAPED}",))
    lib.close()
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(lib.folder), "feeds", "list"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "last error (1x): HTTP 500 Red Alert" in proc.stdout
    assert not any(c in proc.stdout for c in "\x00\x07\x1b\x7f\x9b"), repr(proc.stdout)


# -- links that reach other machines (item 11) ----------------------------------------------------
@pytest.mark.parametrize("href", [
    "//evil.example/x", " //evil.example/x", "&#x2F;&#x2F;evil.example", "\\\\host\\share\\x",
    "/\\evil.example", "http:\\\\evil.example", "https:evil.example", "file:///etc/passwd",
    "FILE://host/share", "relative/page.html",
])
def test_note_links_without_a_scheme_and_host_are_dropped(href):
    for html in (sanitize(f'<a href="{href}">x</a>'), render_markdown(f"[x]({href})")):
        assert "href" not in html and "x" in html, html


def test_note_links_that_name_their_scheme_stay():
    for href in ("https://arxiv.org/abs/2401.00001", "mailto:ada@example.org", "paperdesk://paper/p1",
                 "#section"):
        assert f'href="{href}"' in sanitize(f'<a href="{href}">x</a>')


@pytest.mark.parametrize("link", ["//evil.example/x", "\\\\host\\share", "file:///etc/passwd",
                                  "javascript:alert(1)"])
def test_feed_links_without_a_web_scheme_are_not_kept(lib, link):
    record = import_feed(lib, rss("Linked", link=link))
    assert record["url"] is None or record["url"].startswith(("http://", "https://"))
    assert "\\" not in (record["url"] or "") and "file:" not in (record["url"] or "")


def test_the_digest_date_check_still_accepts_real_counts():
    text = blocks_digest("• 5000 authors\n·\nNov 6 1234")
    papers = parse_digest_text(text, today=dt.date(2026, 11, 23))[2]
    assert (papers[1].authors_count, papers[1].upvotes) == (5000, 1234)


def test_a_year_that_no_date_has_leaves_the_date_empty():
    papers = parse_digest_text(blocks_digest("• 2 authors\n·\nNov 6, 0000 4"), today=TODAY)[2]
    assert (papers[1].published, papers[1].upvotes) == (None, 4)
