"""Abstracts stored compressed (core/abstract_text.py, migration 0015): every reader sees the text."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from paperdesk.core import Library, LibraryError, abstract_text
from paperdesk.core.export import export_markdown
from paperdesk.core.export.bibtex import export_bibtex
from paperdesk.core.reader_html import paper_html
from paperdesk.core.records import IncomingPaper, SourceBatch
from paperdesk.core.schema import SCHEMA_VERSION, migrations

ROOT = Path(__file__).resolve().parents[1]
LONG = ("We study how $\\alpha$-divergences bound the \\emph{regret} of policies (see \\cite{x}); "
        "the proof uses $\\sum_{i=1}^n x_i^2 \\le C$ and Über-naïve estimators — 数学 🙂. ")
HOSTILE = [
    "", "x", "a" * 63, "a" * 64, "a" * 65,  # around SHORTEST: short ones stay text
    LONG * 3,
    LONG * 80,  # the importer's cap (10,000 chars) and more: the codec has no limit of its own
    "<script>alert(1)</script> & \"quotes\" ' \\x9c b'x\\x9c' " * 20,  # looks like what it must never show
    "line one\n\nline two\r\n\tindented\u2028\u00a0" * 30,
    "".join(chr(c) for c in range(0x100, 0x2100, 7)),  # barely compressible: may stay text
    "\U0001f600" * 500,  # 4-byte UTF-8
]


@pytest.mark.parametrize("text", HOSTILE)
def test_round_trip_and_only_a_smaller_value_is_a_blob(text):
    value = abstract_text.encode(text)
    assert abstract_text.decode(value) == text
    raw = text.encode("utf-8")
    if isinstance(value, bytes):
        assert len(value) < len(raw) and value[:1] == b"\x78"  # a zlib stream
    else:
        assert value == text
    if len(raw) < abstract_text.SHORTEST:
        assert value == text
    assert abstract_text.encode(text) == value  # the same text is always stored the same


def test_long_abstracts_shrink_to_about_half():
    value = abstract_text.encode(LONG * 10)
    assert isinstance(value, bytes) and len(value) < len((LONG * 10).encode()) / 2
    assert abstract_text.decode(None) == ""


def _batch(papers: list[IncomingPaper], name: str) -> SourceBatch:
    return SourceBatch(kind="digest", name=name, origin=f"/tmp/{name}", date="2026-11-20",
                       content_hash=hashlib.sha1(name.encode()).hexdigest(), papers=papers, layout="blocks")


PAPERS = [
    IncomingPaper("Regret bounds with divergences", LONG * 4 + "zanzibarian estimators close it.",
                  authors=["Ada Lovelace"], published="2025-08-03", arxiv_id="2508.00001"),
    IncomingPaper("Short one", "A short abstract.", authors=["Alan Turing"], published="2025-01-15"),
    IncomingPaper("Tex heavy", "\\textbf{Bold} claims: $O(n \\log n)$ merges & <b>tags</b>. " * 12,
                  authors=["Émilie du Châtelet"], published="2026-11-20", arxiv_id="2611.00003"),
]


@pytest.fixture
def three(lib):
    lib.import_batch(_batch(PAPERS, "three.txt"))
    lib.ids = {r["title"]: r["id"] for r in lib.records(lib.paper_ids())}
    return lib


def stored_types(lib) -> dict[str, str]:
    return dict(lib.conn.execute("SELECT title, typeof(abstract) FROM papers").fetchall())


def test_an_import_stores_long_abstracts_compressed_and_every_reader_sees_text(three):
    assert stored_types(three) == {"Regret bounds with divergences": "blob", "Short one": "text",
                                   "Tex heavy": "blob"}
    by_title = {p.title: p.abstract for p in PAPERS}
    for record in three.records(three.paper_ids()):
        assert record["abstract"] == by_title[record["title"]]
    assert all("abstract" not in row for row in three.rows(three.paper_ids()))  # a list's rows: no bytes
    json.dumps(three.records(three.paper_ids()))  # the CLI's --json: no bytes anywhere
    # SQL that needs the text (a LIKE fallback, an export, the FTS5 benchmark) decodes it.
    assert three.conn.execute("SELECT count(*) FROM papers WHERE abstract_text(abstract) LIKE "
                              "'%zanzibarian%'").fetchone()[0] == 1
    pid = three.ids["Regret bounds with divergences"]
    page = paper_html(three, three.get(pid))
    assert "zanzibarian estimators close it." in page and "x\\x9c" not in page and "b'" not in page


def test_search_finds_words_of_compressed_abstracts_after_a_rebuild_and_a_drain(three):
    def hits(text: str) -> list:
        return three.search.run(text, typing=False).hits

    three.search.rebuild()
    (hit,) = hits("zanzibarian")
    assert hit.id == three.ids["Regret bounds with divergences"] and "<b>zanzibarian</b>" in hit.snippet
    assert len(hits('"merges tags"')) == 1  # a phrase: the word order files read the text too
    three.import_batch(_batch([IncomingPaper("A later paper", LONG + " quokkarian sightings. " * 5,
                                             arxiv_id="2611.00099")], "later.txt"))
    (later,) = hits("quokkarian")  # drained before reading
    assert three.get(later.id)["abstract"].endswith("quokkarian sightings.")
    assert stored_types(three)["A later paper"] == "blob"
    listed = three.search.run("", typing=False)  # no words: SQLite lists them, abstracts' starts
    snippets = {h.id: h.snippet for h in listed.hits}
    assert snippets[three.ids["Tex heavy"]].startswith("\\textbf{Bold} claims")
    similar = three.search.similar(three.ids["Regret bounds with divergences"])
    assert later.id in {h.id for h, _terms in similar}  # "more like this" reads the text too


def test_a_damaged_value_reads_as_no_abstract_and_a_new_sighting_repairs_it(three):
    pid = three.ids["Tex heavy"]
    with three.transaction() as conn:
        conn.execute("UPDATE papers SET abstract = ? WHERE id = ?", (b"\x78\x9cnot deflate at all", pid))
    assert three.get(pid)["abstract"] == ""
    assert "No abstract" in paper_html(three, three.get(pid))
    three.search.rebuild()  # indexing reads it too
    three.import_batch(_batch([PAPERS[2]], "again.txt"))
    assert three.get(pid)["abstract"] == PAPERS[2].abstract


def _plain_again(lib) -> None:
    """The rows as a library before 0015 held them: every abstract as text."""
    with lib.transaction() as conn:
        conn.execute("UPDATE papers SET abstract = abstract_text(abstract)")
    assert set(stored_types(lib).values()) == {"text"}


def test_export_is_byte_identical_for_compressed_and_plain_rows(three, tmp_path):
    ids = three.paper_ids()
    three.highlights.add_quote(three.ids["Tex heavy"], "$O(n \\log n)$ merges")
    export_markdown(three, tmp_path / "compressed", ids)
    export_bibtex(three, ids, tmp_path / "compressed.bib")
    _plain_again(three)
    export_markdown(three, tmp_path / "plain", ids)
    export_bibtex(three, ids, tmp_path / "plain.bib")
    compressed = {p.name: p.read_bytes() for p in (tmp_path / "compressed").glob("*.md")}
    assert compressed and compressed == {p.name: p.read_bytes() for p in (tmp_path / "plain").glob("*.md")}
    assert b"zanzibarian" in b"".join(compressed.values())
    assert (tmp_path / "compressed.bib").read_bytes() == (tmp_path / "plain.bib").read_bytes()


def test_mixed_rows_read_the_same(three):
    ids = three.paper_ids()
    before = three.records(ids)
    with three.transaction() as conn:  # half as before 0015, half compressed
        conn.execute("UPDATE papers SET abstract = abstract_text(abstract) WHERE title = 'Tex heavy'")
    assert sorted(stored_types(three).values()) == ["blob", "text", "text"]
    assert three.records(ids) == before
    three.search.rebuild()
    assert len(three.search.run("merges", typing=False).hits) == 1


def test_highlight_offsets_refer_to_the_decoded_text(three):
    pid = three.ids["Regret bounds with divergences"]
    quote = "zanzibarian estimators"
    _highlight, _changes = three.highlights.add_quote(pid, quote)
    (mark,) = three.highlights.of(pid)
    text = PAPERS[0].abstract
    assert (mark.start, mark.end) == (text.index(quote), text.index(quote) + len(quote))
    assert text[mark.start:mark.end] == mark.quote == quote
    assert f'">{quote}</span>' in paper_html(three, three.get(pid))  # drawn over the same words


def test_undo_and_redo_of_an_import_and_a_merge_restore_the_exact_text(lib):
    paper = PAPERS[2]
    lib.import_batch(_batch([IncomingPaper(paper.title, "", arxiv_id=paper.arxiv_id)], "bare.txt"))
    (pid,) = lib.paper_ids()
    lib.import_batch(_batch([paper], "full.txt"))  # the merge fills the abstract in
    assert lib.get(pid)["abstract"] == paper.abstract and stored_types(lib)[paper.title] == "blob"
    before = lib.conn.execute("SELECT before FROM op_rows WHERE tbl = 'papers' AND before IS NOT NULL "
                              "ORDER BY op_id DESC").fetchone()[0]
    assert json.loads(before)["abstract"] == ""  # the undo log is JSON text
    lib.undo()
    assert lib.get(pid)["abstract"] == ""
    lib.redo()
    assert lib.get(pid)["abstract"] == paper.abstract and stored_types(lib)[paper.title] == "blob"
    after = lib.conn.execute("SELECT after FROM op_rows WHERE tbl = 'papers' AND after IS NOT NULL "
                             "ORDER BY op_id DESC").fetchone()[0]
    assert json.loads(after)["abstract"] == paper.abstract  # what redo put back: text, not bytes
    lib.undo()
    lib.undo()  # the first import too: the paper goes
    assert lib.paper_ids() == []
    lib.redo()
    lib.redo()
    assert lib.get(pid)["abstract"] == paper.abstract and stored_types(lib)[paper.title] == "blob"
    lib.archive([pid])  # a decision keeps only its columns; undoing it leaves the abstract alone
    lib.undo()
    assert lib.get(pid)["abstract"] == paper.abstract and stored_types(lib)[paper.title] == "blob"


def _library_before_0015(library_dir: Path, count: int) -> dict[str, str]:
    """A library as PaperDesk wrote it before migration 0015: abstracts as plain text."""
    library_dir.mkdir()
    db = Database(library_dir / "library.sqlite3")
    migrations.apply(db, stop_before="0015_compressed_abstracts")
    db.execute(f"PRAGMA user_version = {len(list(migrations.applied(db)))}")
    texts = {f"p{n:03d}": (HOSTILE[n % len(HOSTILE)] + f" paper {n}").strip() for n in range(count)}
    with db.conn:
        db.conn.executemany(
            "INSERT INTO papers (id, title, title_norm, abstract, added_at, updated_at) "
            "VALUES (?, ?, ?, ?, '2026-01-01', '2026-01-01')",
            [(pid, f"Paper {pid}", f"paper {pid}", text) for pid, text in texts.items()])
    db.close()
    return texts


def test_migration_compresses_an_older_library_with_progress(library_dir):
    texts = _library_before_0015(library_dir, 30)
    heard: list[tuple[int, int, str]] = []
    with Library.open(library_dir, progress=lambda *a: heard.append(a)) as lib:
        assert lib.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert {r["id"]: r["abstract"] for r in lib.records(sorted(texts))} == texts
        types = dict(lib.conn.execute("SELECT id, typeof(abstract) FROM papers").fetchall())
        for pid, text in texts.items():
            assert types[pid] == ("blob" if isinstance(abstract_text.encode(text), bytes) else "text")
        assert "blob" in types.values()
    assert any(what.startswith("Copying the library") for _d, _t, what in heard)  # the backup
    compressing = [(d, t) for d, t, what in heard if what == "Compressing the abstracts"]
    assert compressing[-1] == (30, 30)


def test_an_upgrade_says_where_its_backup_is_and_what_frees_the_space(library_dir):
    """The copy from before an upgrade (the library's size again: 4.4 GB at a million papers) was
    made without a word: the user never learned it was there to delete, nor of `compact`. And
    `compact` was named after every upgrade: now only when it freed enough to give back."""
    _library_before_0015(library_dir, 5)
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(library_dir), "stats"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    (backup,) = library_dir.glob("library.sqlite3.before-schema-*.bak")
    (line,) = [ln for ln in proc.stderr.splitlines() if "upgraded" in ln]
    assert str(backup) in line and "compact" not in line  # five short abstracts: nothing worth it

    big = library_dir.parent / "big"
    _library_before_0015(big, 5)
    with sqlite3.connect(big / "library.sqlite3") as conn:  # 1,000 abstracts of ~2 KB: ~2 MB freed
        conn.executemany("INSERT INTO papers (id, title, title_norm, abstract, added_at, updated_at) "
                         "VALUES (?, ?, ?, ?, '2026-01-01', '2026-01-01')",
                         [(f"b{n}", f"B {n}", f"b {n}", f"Paper {n}. " + "We study models. " * 120)
                          for n in range(1000)])
    conn.close()
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(big), "stats"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    (line,) = [ln for ln in proc.stderr.splitlines() if "upgraded" in ln]
    assert "`paperdesk compact` gives back the ~" in line and " MB the upgrade freed" in line
    again = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(library_dir), "stats"],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert "upgraded" not in again.stderr  # said once, by the open that upgraded


def test_ctrl_c_during_an_upgrade_says_it_goes_on_at_the_next_open(library_dir, monkeypatch, capsys):
    """Ctrl-C mid-upgrade printed a bare "interrupted": was the library broken, half done?"""
    from paperdesk.cli.main import main

    _library_before_0015(library_dir, 5)

    def interrupted(conn, progress=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(abstract_text, "compress_stored", interrupted)
    assert main(["--library", str(library_dir), "stats"]) == 130
    line = capsys.readouterr().err.strip()
    assert "upgrad" in line and "next time" in line
    monkeypatch.undo()
    with Library.open(library_dir) as lib:  # and so it does
        assert lib.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_migration_killed_midway_loses_nothing_and_finishes_at_the_next_open(library_dir):
    texts = _library_before_0015(library_dir, 25)
    # kill -9 after the first batch of 4 has committed (os._exit runs no cleanup at all)
    code = ("import os, sys\nfrom paperdesk.core import Library, abstract_text\nabstract_text.BATCH = 4\n"
            "def progress(done, total, what):\n"
            "    if what.startswith('Compressing') and done >= 4:\n        os._exit(9)\n"
            "Library.open(sys.argv[1], progress=progress)\n")
    killed = subprocess.run([sys.executable, "-c", code, str(library_dir)], cwd=ROOT, timeout=120)
    assert killed.returncode == 9
    with sqlite3.connect(library_dir / "library.sqlite3") as conn:  # as it was left
        types = [t for (t,) in conn.execute("SELECT typeof(abstract) FROM papers ORDER BY rowid")]
        assert "blob" in types[:4] and set(types[4:]) == {"text"}
        assert not conn.execute("SELECT 1 FROM _sqlite_migrations WHERE name = "
                                "'0015_compressed_abstracts'").fetchall()
        abstract_text.register(conn)  # mixed rows read whole
        assert dict(conn.execute("SELECT id, abstract_text(abstract) FROM papers")) == texts
    with Library.open(library_dir) as lib:
        assert {r["id"]: r["abstract"] for r in lib.records(sorted(texts))} == texts
        blobs = lib.conn.execute("SELECT count(*) FROM papers WHERE typeof(abstract) = 'blob'").fetchone()[0]
        assert blobs == sum(isinstance(abstract_text.encode(t), bytes) for t in texts.values())


# SQL (upper case) naming the column, or every column (`*`, `p.*`, a column or table chosen at run time)
READS_PAPER_ROWS = re.compile(r"\bSELECT\b[^\"']*?(\babstract\b|\bp\.\*|(\*|\{\w+\}) FROM (papers\b|\{))")


def test_code_that_reads_the_abstract_column_goes_through_the_codec():
    """A module whose SQL reads papers.abstract (by name or with *) must decode it."""
    offenders = []
    for path in sorted((ROOT / "paperdesk").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if READS_PAPER_ROWS.search(source) and "abstract_text" not in source:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_compact_gives_what_the_migration_freed_back_to_the_disk(library_dir):
    texts = _library_before_0015(library_dir, 400)
    with Library.open(library_dir) as lib:
        before, after = lib.compact()
        assert after < before * 0.8
        assert after == (library_dir / "library.sqlite3").stat().st_size
        assert {r["id"]: r["abstract"] for r in lib.records(sorted(texts))} == texts
    done = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(library_dir), "compact"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("compacted: ")


def test_an_interrupted_upgrade_keeps_its_first_copy_and_an_older_paperdesk_out(library_dir, monkeypatch):
    """Interrupted and resumed, an upgrade copied the half-upgraded library over its copy from
    before; and an older PaperDesk (it checks only that the schema is not newer than its own)
    would open the half-upgraded file and read compressed abstracts as text."""
    from paperdesk.core import library

    texts = _library_before_0015(library_dir, 5)
    with contextlib.closing(sqlite3.connect(library_dir / "library.sqlite3")) as conn:
        old_version = conn.execute("PRAGMA user_version").fetchone()[0]

    def interrupted(conn, progress=None):
        conn.execute("UPDATE papers SET abstract = x'00' WHERE rowid = 1")  # a step half done
        raise KeyboardInterrupt

    monkeypatch.setattr(abstract_text, "compress_stored", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Library.open(library_dir)
    monkeypatch.undo()
    (backup,) = library_dir.glob("library.sqlite3.before-schema-*.bak")
    with contextlib.closing(sqlite3.connect(library_dir / "library.sqlite3")) as conn:
        left = conn.execute("PRAGMA user_version").fetchone()[0]
    assert left > old_version and left > SCHEMA_VERSION  # what an older PaperDesk refuses as newer
    with Library.open(library_dir) as lib:  # this one goes on
        assert lib.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert any("upgraded" in w and backup.name in w for w in lib.warnings)
    with contextlib.closing(sqlite3.connect(backup)) as conn:  # still the library from before
        assert dict(conn.execute("SELECT id, abstract FROM papers")) == texts
    assert left == library.UPGRADING + SCHEMA_VERSION
    with contextlib.closing(sqlite3.connect(library_dir / "library.sqlite3")) as conn:
        conn.execute(f"PRAGMA user_version = {library.UPGRADING + SCHEMA_VERSION + 1}")
    with pytest.raises(LibraryError, match=rf"newer PaperDesk \(schema {SCHEMA_VERSION + 1}, .*not finished"):
        Library.open(library_dir)  # a newer PaperDesk's unfinished upgrade is that one's to finish
