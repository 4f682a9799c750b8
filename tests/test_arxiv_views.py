"""Issue 23: primary categories as views (counts, ids), the version note in the reader and `show`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from paperdesk.core import Library
from paperdesk.core import arxiv_snapshot as snap
from paperdesk.core.orders import ORDERS
from paperdesk.core.reader_html import paper_html
from tests.test_arxiv_snapshot import record, write


@pytest.fixture
def lib(tmp_path):
    with Library.open(tmp_path / "lib") as library:
        yield library


def test_category_counts_and_views_follow_the_primary_category(lib, tmp_path):
    assert lib.category_counts() == []  # a library without categories has no group
    f = tmp_path / "snap.jsonl"
    write(f, [record(1, cats="cs.CL cs.LG"), record(2, cats="cs.LG cs.CL"), record(3, cats="cs.LG"),
              record(4, cats="math.AG")])
    snap.import_snapshot(lib, f)
    assert lib.category_counts() == [("cs.LG", 2), ("cs.CL", 1), ("math.AG", 1)]  # most first, then name
    assert sorted(lib.paper_ids(category="cs.LG")) == ["2403.00002", "2403.00003"]
    assert lib.count(category="cs.CL") == 1 and lib.count(category="cs.CL", status="archived") == 0
    assert lib.paper_ids(category="cs.LG", within=["2403.00003", "2403.00001", "2403.00002"]) == [
        "2403.00003", "2403.00002"]  # the caller's order
    counts = plan(lib, "SELECT primary_category, count(*) FROM papers WHERE primary_category IS NOT NULL "
                       "GROUP BY primary_category")
    assert "COVERING INDEX papers_category_order_date" in counts  # the index alone, never the table
    first_page = plan(lib, "SELECT p.id FROM papers p WHERE p.primary_category = ? "
                           f"ORDER BY {ORDERS['date']} LIMIT 2000", "cs.LG")
    assert "COVERING INDEX papers_category_order_date" in first_page and "TEMP B-TREE" not in first_page


def plan(lib, sql: str, *params) -> str:
    return " ".join(r[3] for r in lib.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def updated_paper(lib, tmp_path) -> str:
    first, later = tmp_path / "v1.jsonl", tmp_path / "v3.jsonl"
    write(first, [record(1, cats="cs.CL cs.LG")])
    snap.import_snapshot(lib, first)
    lib.archive(["2403.00001"])
    write(later, [record(1, cats="cs.CL cs.LG", versions=3)])
    snap.import_snapshot(lib, later)
    return "2403.00001"


def test_reader_meta_shows_version_categories_and_the_update(lib, tmp_path):
    pid = updated_paper(lib, tmp_path)
    page = paper_html(lib, lib.get(pid))
    meta = page.split('<p class="meta">')[1].split("</p>")[0]
    assert "arXiv:2403.00001v3" in meta and "cs.CL cs.LG" in meta
    assert "↻ v3, updated after you archived v1" in meta
    assert "in 2 arXiv snapshots" in page  # not "2 feeds"
    lib.star([pid])  # a new decision answers the note
    assert "updated after" not in paper_html(lib, lib.get(pid))


def test_show_prints_version_categories_and_the_update(tmp_path):
    with Library.open(tmp_path / "lib") as lib:
        pid = updated_paper(lib, tmp_path)
    run = [sys.executable, "-m", "paperdesk", "--library", str(tmp_path / "lib"), "show", pid]
    out = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert "arXiv:2403.00001v3 · cs.CL cs.LG · v3, updated after you archived v1" in out.splitlines()


def test_every_paper_id_streams_in_rowid_batches_and_ranges_split_the_library(lib, tmp_path):
    from paperdesk.core.search.documents import all_paper_ids, rowid_ranges

    f = tmp_path / "snap.jsonl"
    write(f, [record(n, cats="cs.CL") for n in range(1, 12)])
    snap.import_snapshot(lib, f)
    lib.conn.execute("DELETE FROM papers WHERE id IN ('2403.00003', '2403.00004')")  # gaps in rowids
    every = [r[0] for r in lib.conn.execute("SELECT id FROM papers ORDER BY rowid")]
    batches = list(all_paper_ids(lib.conn, batch=4))
    assert [len(b) for b in batches] == [4, 4, 1] and [i for b in batches for i in b] == every
    ranges = rowid_ranges(lib.conn, 2)
    assert len(ranges) == 2 and ranges[0][1] + 1 == ranges[1][0]  # adjacent, no paper twice
    parts = [[i for b in all_paper_ids(lib.conn, 3, r) for i in b] for r in ranges]
    assert [len(p) for p in parts] == [5, 4] and parts[0] + parts[1] == every
    last = lib.conn.execute("SELECT max(rowid) FROM papers").fetchone()[0]
    assert rowid_ranges(lib.conn, 20)[-1][1] == last


@pytest.mark.parametrize("flags", [["--json"], []])
def test_list_reads_rows_a_page_at_a_time_and_prints_what_it_printed_before(tmp_path, monkeypatch, capsys,
                                                                            flags):
    import json

    from paperdesk.cli import library_cmds
    from paperdesk.cli.main import main

    with Library.open(tmp_path / "lib") as lib:
        f = tmp_path / "snap.jsonl"
        write(f, [record(n, cats="cs.CL") for n in range(1, 8)])
        snap.import_snapshot(lib, f)
        expected = lib.records(lib.paper_ids())
    pages: list[int] = []
    rows, records = Library.rows, Library.records
    monkeypatch.setattr(Library, "rows", lambda self, ids: (pages.append(len(ids)), rows(self, ids))[1])
    monkeypatch.setattr(Library, "records", lambda self, ids: (pages.append(len(ids)), records(self, ids))[1])
    monkeypatch.setattr(library_cmds, "LIST_PAGE", 3)
    assert main(["--library", str(tmp_path / "lib"), "list", *flags]) == 0
    out = capsys.readouterr().out
    assert max(pages) <= 3 and sum(p for p in pages if p) >= 7
    if flags:
        assert out == json.dumps(expected, ensure_ascii=False, indent=2) + "\n"  # the same text as one dump
    else:
        assert [line.split()[0] for line in out.splitlines()] == [r["id"] for r in expected]


def test_list_json_of_nothing_is_an_empty_array(tmp_path, capsys):
    from paperdesk.cli.main import main

    assert main(["--library", str(tmp_path / "lib"), "list", "--json"]) == 0
    assert capsys.readouterr().out == "[]\n"
