"""A day's update of a big library: new papers are added without looking each one up, replaced ones
stay one document, and a commit merges only small segments, a tier at a time."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from paperdesk.core import Library
from paperdesk.core import arxiv_snapshot as snap
from paperdesk.core.search import index as search_index
from paperdesk.core.search.whoosh_internals import segment_ids


def line(n: int, cats: str = "cs.CL", version: int = 1) -> str:
    return json.dumps({
        "id": f"2403.{n:05d}", "title": f"Paper number {n} on attention", "abstract": f"We study {n}.",
        "authors_parsed": [["Lovelace", "Ada", ""]], "categories": cats,
        "versions": [{"version": f"v{v}", "created": "Mon, 1 Apr 2024 10:00:00 GMT"}
                     for v in range(1, version + 1)],
        "update_date": "2024-04-01",
    })


def day(path, lines: list[str]):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def lib(tmp_path):
    with Library.open(tmp_path / "lib") as library:
        yield library


def documents(lib: Library) -> dict[str, int]:
    found: dict[str, int] = {}
    for stored in lib.search.index.searcher().all_stored_fields():
        found[stored["id"]] = found.get(stored["id"], 0) + 1
    return found


def test_a_day_adds_new_papers_and_replaces_changed_ones_once(lib, tmp_path, monkeypatch):
    snap.import_snapshot(lib, day(tmp_path / "base.jsonl", [line(n) for n in range(40)]))
    lib.search.rebuild()
    calls = []
    real = search_index.indexed_docnums
    monkeypatch.setattr(search_index, "indexed_docnums", lambda w, ids: calls.append(ids) or real(w, ids))
    # Five new papers and a new version of two known ones (re-listed in other categories).
    lines = [line(n) for n in range(40, 45)] + [line(3, "cs.RO", 2), line(7, "math.OC", 2)]
    snap.import_snapshot(lib, day(tmp_path / "day.jsonl", lines))
    assert lib.search.update() == 7
    assert len(calls) == 1 and len(calls[0]) == 7  # one look-up for the batch
    docs = documents(lib)
    assert len(docs) == 45 and set(docs.values()) == {1}  # every paper once, none twice
    assert lib.search.check(repair=False)["ok"]
    assert [h.id for h in lib.search.run("cat:cs.RO").hits] == ["2403.00003"]
    assert lib.search.run("cat:math.OC").total == 1
    lib.undo()  # the day's import: its new papers go, the two known ones get their categories back
    assert lib.search.update() == 7
    docs = documents(lib)
    assert len(docs) == 40 and set(docs.values()) == {1}
    assert lib.search.run("cat:cs.RO").total == 0 and lib.search.check(repair=False)["ok"]


def test_drains_merge_only_tiny_segments_and_merge_takes_a_full_tier_never_the_build(lib, tmp_path,
                                                                                    monkeypatch):
    monkeypatch.setattr(search_index, "MERGE_BASE", 2)
    monkeypatch.setattr(search_index, "MERGE_FANIN", 3)
    monkeypatch.setattr(search_index, "MERGE_ON_DRAIN", 1)
    monkeypatch.setattr(search_index, "MERGE_MAX_DOCS", 6)
    snap.import_snapshot(lib, day(tmp_path / "base.jsonl", [line(n) for n in range(40)]))
    lib.search.rebuild()
    (built,) = segment_ids(lib.search.index.ix)
    ids = lib.paper_ids(order="added")
    counts = []
    for round_ in range(5):  # one paper re-indexed a round: 1-document commits
        lib.tag([ids[round_]], ["one"])
        lib.search.update()
        counts.append(len(segment_ids(lib.search.index.ix)))
    # Three 1-document segments (tier 0) and the fourth commit's own become one (of 4 documents).
    assert counts == [2, 3, 4, 2, 3]
    for round_ in range(4):  # two papers a round: a drain leaves 2-document segments alone
        lib.tag(ids[10 + 2 * round_:12 + 2 * round_], ["two"])
        lib.search.update()
    assert len(segment_ids(lib.search.index.ix)) == 7
    assert lib.search.index.merge() == 4  # tier 0: the four 2-document ones and the 1-document one
    assert len(segment_ids(lib.search.index.ix)) == 3 and built in segment_ids(lib.search.index.ix)
    assert lib.search.index.merge() == 0  # nothing due
    assert documents(lib) == {pid: 1 for pid in ids}
    assert lib.search.run("tag:one").total == 5 and lib.search.run("tag:two").total == 8
    assert lib.search.check(repair=False)["ok"]
    for pid in ids[30:36]:  # each beside the build's segment, never with it
        lib.tag([pid], ["three"])
        lib.search.update()
    lib.search.index.merge()
    assert built in segment_ids(lib.search.index.ix) and lib.search.check(repair=False)["ok"]
    assert documents(lib) == {pid: 1 for pid in ids} and lib.search.run("tag:three").total == 6


class Segment:
    def __init__(self, docs: int, deleted: int = 0):
        self.docs, self.deleted = docs, deleted

    def doc_count_all(self) -> int:
        return self.docs

    def doc_count(self) -> int:
        return self.docs - self.deleted


def test_a_segment_whose_documents_were_all_replaced_is_dropped_and_nothing_else_is_merged():
    big, small, gone = Segment(50_000, deleted=10), Segment(500, deleted=499), Segment(500, deleted=500)
    kept = search_index.merge_small_segments(object(), [big, small, gone], largest=10_000)  # no tier
    assert kept == [big, small]  # is full: nothing is read
    assert search_index.merge_due([big, small, gone], 10_000)
    assert not search_index.merge_due([big, small], 10_000)


def three_small_segments(lib, tmp_path, monkeypatch) -> None:
    """Tiers of 2 documents merged 3 at a time, none on a drain: a 20-paper build, then three
    2-document segments (tagging re-indexes them), one full tier for `merge()`."""
    monkeypatch.setattr(search_index, "MERGE_BASE", 2)
    monkeypatch.setattr(search_index, "MERGE_FANIN", 3)
    monkeypatch.setattr(search_index, "MERGE_ON_DRAIN", 0)
    snap.import_snapshot(lib, day(tmp_path / "base.jsonl", [line(n) for n in range(20)]))
    lib.search.rebuild()
    for n in range(3):  # three 2-document segments (a drain merges none of them)
        lib.tag(lib.paper_ids(order="added")[2 * n:2 * n + 2], ["t"])
        lib.search.update()


def test_index_update_merges_after_its_drain_and_a_failed_merge_is_one_line(lib, tmp_path, monkeypatch,
                                                                          capsys):
    import errno

    from paperdesk.cli.main import main

    three_small_segments(lib, tmp_path, monkeypatch)
    folder = lib.folder
    lib.close()
    assert main(["--library", str(folder), "index", "update"]) == 0
    with Library.open(folder) as again:
        assert len(segment_ids(again.search.index.ix)) == 2  # the build's and the merged one
        for n in range(3):
            again.tag(again.paper_ids(order="added")[10 + 2 * n:12 + 2 * n], ["u"])
            again.search.update()
    capsys.readouterr()

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(search_index.SearchIndex, "merge", full)
    assert main(["--library", str(folder), "index", "update"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith("indexed 0 papers")
    assert err.strip() == \
        "paperdesk: note: small index segments not merged: disk full (No space left on device)"


def test_a_merge_killed_before_its_commit_leaves_the_index_whole_and_its_files_go(lib, tmp_path,
                                                                                  monkeypatch):
    three_small_segments(lib, tmp_path, monkeypatch)
    before = segment_ids(lib.search.index.ix)
    code = textwrap.dedent(f"""
        import os
        from whoosh.writing import SegmentWriter
        from paperdesk.core import Library
        from paperdesk.core.search import index
        index.MERGE_BASE, index.MERGE_FANIN = 2, 3
        lib = Library.open({str(lib.folder)!r})
        SegmentWriter._commit_toc = lambda self, segments: os._exit(4)  # merged, never listed
        lib.search.index.merge()
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4, proc.stderr
    lib.search.index.close()
    assert segment_ids(lib.search.index.ix) == before  # the table of contents never changed
    assert named_segments(lib.search.index.dir) - before  # the merged segment's files, unlisted
    assert lib.search.check(repair=False)["ok"] and lib.search.run("tag:t").total == 6
    assert lib.search.index.merge() == 2  # under the lock: those files go first, then it merges
    live = segment_ids(lib.search.index.ix)
    assert len(live) == 2 and named_segments(lib.search.index.dir) == live
    assert lib.search.check(repair=False)["ok"] and lib.search.run("tag:t").total == 6


def named_segments(folder) -> set[str]:
    """The segments the index folder's files belong to (Whoosh's, postings and word order files)."""
    return {m.group(1) for p in folder.iterdir() if (m := re.search(r"(MAIN_[0-9a-z]{8,})", p.name))}
