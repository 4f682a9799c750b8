"""The index as derived data: queue draining, crash resume, check/repair, rebuild, damage at open,
and the CLI commands in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from samples import DIGEST_BLOCKS, DIGEST_PLAIN, ROOT, TODAY

from paperdesk.core import Library
from paperdesk.core.search.whoosh_internals import segment_id


def run(*args: str, library, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(library), *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONWARNINGS": "error"}, cwd=ROOT)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def pending(lib) -> int:
    return lib.conn.execute("SELECT count(*) FROM index_queue").fetchone()[0]


def test_a_library_that_never_searches_never_builds_an_index(lib):
    lib.import_paths([DIGEST_PLAIN], today=TODAY)
    assert pending(lib) == 79 and not (lib.folder / "index").exists()
    lib.close()
    assert not (lib.folder / "index").exists()


def test_import_drains_the_queue_once_an_index_exists(seeded):
    assert seeded.search.run("language").total > 0  # builds the index
    assert pending(seeded) == 0
    before = seeded.search.index.doc_count()
    seeded.tag([seeded.paper_ids(limit=1)[0]], ["queued"])
    assert pending(seeded) == 1
    seeded.close()  # drains at close
    with Library.open(seeded.folder) as again:
        assert pending(again) == 0
        assert again.search.index.doc_count() == before
        assert again.search.run("tag:queued").total == 1


def test_crash_before_draining_resumes_from_the_queue(library_dir):
    # A process imports and dies before indexing (no close, no drain).
    code = textwrap.dedent(f"""
        import os
        from paperdesk.core import Library
        lib = Library.open({str(library_dir)!r})
        lib.search.run("warm")  # an index exists
        from paperdesk.core.digest import read_digest
        from pathlib import Path
        lib.import_batch(read_digest(Path({str(DIGEST_PLAIN)!r})), drain=False)
        os._exit(3)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    with Library.open(library_dir) as lib:
        assert pending(lib) == 79
        assert lib.search.run("").total == 79
        assert lib.search.run("model", typing=False).total > 0  # only the queued papers can match
        assert pending(lib) == 0


def test_crash_while_writing_the_index_leaves_it_usable(library_dir):
    with Library.open(library_dir) as lib:
        lib.import_paths([DIGEST_PLAIN], today=TODAY)
        assert lib.search.run("is:inbox").total == 79
    # A process dies in the middle of an index write (documents added, never committed).
    code = textwrap.dedent(f"""
        import os
        from paperdesk.core import Library
        lib = Library.open({str(library_dir)!r})
        ids = lib.paper_ids()
        lib.tag(ids[:5], ["five"])  # queued
        writer = lib.search.index.ix.writer()
        writer.add_document(id="half-written", title="never committed")
        os._exit(4)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 4, proc.stderr
    with Library.open(library_dir) as lib:
        assert pending(lib) == 5
        result = lib.search.run("tag:five")
        assert result.total == 5
        report = lib.search.check()
        assert report["ok"] and report["documents"] == 79


def test_check_finds_and_repairs_missing_stale_and_orphan_documents(seeded):
    seeded.search.run("x")
    ids = seeded.paper_ids(limit=3)
    writer = seeded.search.index.ix.writer()
    writer.delete_by_term("id", ids[0])  # missing
    writer.update_document(id=ids[1], sig="old", title="stale copy")  # stale
    writer.add_document(id="ghost", sig="x", title="orphan")  # orphan
    writer.commit()
    report = seeded.search.check(repair=False)
    assert (report["missing"], report["stale"], report["orphan"]) == ([ids[0]], [ids[1]], ["ghost"])
    assert not report["ok"]
    repaired = seeded.search.check()
    assert repaired["repaired"] == 3
    again = seeded.search.check(repair=False)
    assert again["ok"] and again["documents"] == again["papers"] == 397


def test_deleted_or_corrupt_index_is_rebuilt_at_open_with_a_message(seeded):
    assert seeded.search.run("language").total > 0
    total = seeded.search.run("language").total
    folder = seeded.folder
    seeded.close()
    (folder / "index" / "PAPERDESK_INDEX_VERSION").unlink(missing_ok=True)
    with Library.open(folder) as lib:
        assert lib.search.run("language").total == total
        assert any("missing" in m for m in lib.search.index.take_messages())
    # Damage every segment file.
    for path in (folder / "index").iterdir():
        if path.suffix in (".seg", ".trm", ".pst", ".toc"):
            path.write_bytes(b"garbage" * 10)
    with Library.open(folder) as lib:
        assert lib.search.run("language").total == total
        assert any("unreadable" in m for m in lib.search.index.take_messages())
    shutil.rmtree(folder / "index")
    with Library.open(folder) as lib:
        assert lib.search.run("language").total == total


def test_rebuild_reports_progress(seeded):
    seen = []
    count = seeded.search.rebuild(progress=lambda done, total, what: seen.append((done, total)))
    assert count == 397 and seen[-1] == (397, 397)
    assert seeded.search.run("language").total > 0


def test_cli_search_json_shape_and_index_commands(tmp_path):
    run("import", str(DIGEST_BLOCKS), str(DIGEST_PLAIN), library=tmp_path)
    out = json.loads(run("search", "language", "model", "--json", "--limit", "3", library=tmp_path).stdout)
    assert out["total"] > 3 and len(out["hits"]) == 3 and out["sort"] == "relevance"
    hit = out["hits"][0]
    for key in ("id", "title", "abstract", "authors", "tags", "starred", "status", "sources", "score",
                "snippet"):
        assert key in hit
    assert "<b>" in hit["snippet"] and hit["score"] > 0
    bad = json.loads(run("search", "upvotes:>abc", '"unbalanced', "--json", library=tmp_path).stdout)
    assert len(bad["problems"]) == 2
    text = run("search", "difusion", library=tmp_path).stdout
    assert "did you mean: diffusion" in text
    check = json.loads(run("index", "check", "--json", library=tmp_path).stdout)
    assert check["ok"] and check["documents"] == check["papers"]
    assert "rebuilt the search index" in run("index", "rebuild", library=tmp_path).stdout
    first = out["hits"][0]["id"]
    similar = json.loads(run("similar", first, "--json", "--limit", "2", library=tmp_path).stdout)
    assert len(similar) == 2 and similar[0]["terms"] and first not in [s["id"] for s in similar]
    assert run("similar", "nope", library=tmp_path, check=False).returncode == 1


def test_cli_index_update_indexes_what_is_queued(tmp_path):
    with Library.open(tmp_path) as lib:
        lib.search.update()  # an empty index exists
        lib.defer_indexing = True  # as the desk's writer: leave the queue for the indexer
        lib.import_paths([DIGEST_PLAIN])
        queued = lib.conn.execute("SELECT count(*) FROM index_queue").fetchone()[0]
    assert queued == 79
    first = run("index", "update", library=tmp_path)
    assert first.stdout.strip().splitlines()[-1] == "indexed 79 papers"
    assert run("index", "update", library=tmp_path).stdout.strip() == "indexed 0 papers"
    check = json.loads(run("index", "check", "--json", "--no-repair", library=tmp_path).stdout)
    assert check["documents"] == check["papers"] == 79 and check["queued"] == 0 and check["ok"]


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no niceness on this platform")
def test_cli_index_update_in_the_background_runs_at_low_priority(tmp_path):
    with Library.open(tmp_path) as lib:
        lib.search.update()
        lib.defer_indexing = True
        lib.import_paths([DIGEST_PLAIN])
    # The command in-process, in a child interpreter: it lowers the priority of its own process.
    script = textwrap.dedent(f"""
        import os
        from paperdesk.cli.main import main
        before = os.nice(0)
        code = main(["--library", {str(tmp_path)!r}, "index", "update", "--background"])
        print("niceness", before, os.nice(0), code)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-2] == "indexed 79 papers"
    _, before, after, code = lines[-1].split()
    assert code == "0" and int(after) == min(19, int(before) + 10)


def test_cli_saved_searches(tmp_path):
    run("saved", "add", "fresh", "diffusion", "date:>today-7d", library=tmp_path)
    run("saved", "add", "stars", "is:starred", library=tmp_path)
    listed = json.loads(run("saved", "list", "--json", library=tmp_path).stdout)
    assert listed == [{"name": "fresh", "query": "diffusion date:>today-7d"},
                      {"name": "stars", "query": "is:starred"}]
    run("saved", "rm", "fresh", library=tmp_path)
    assert "fresh" not in run("saved", "list", library=tmp_path).stdout
    proc = run("saved", "rm", "fresh", library=tmp_path, check=False)
    assert proc.returncode == 1 and "no saved search" in proc.stderr


def answers(lib, queries: tuple[str, ...]) -> list:
    """Each query's total and hits with scores (not their order: equal scores may swap)."""
    return [(r.total, {h.id: h.score for h in r.hits}) for r in
            (lib.search.run(q, typing=True) for q in queries)]


def test_drain_builds_a_missing_index_with_progress(seeded):
    seen = []
    seeded.search.update(lambda done, total, what: seen.append((done, total)))
    assert seen[-1] == (397, 397)
    assert (seeded.folder / "index").is_dir() and seeded.search.index.doc_count() == 397


def test_large_rebuild_uses_worker_processes_and_matches_one_process(seeded, monkeypatch):
    from paperdesk.core.search import parallel

    queries = ("language", "model -large", '"large language"', "diffu", "is:starred OR reasoning",
               "sort:date agent", "upvotes:>3 learning")

    seeded.search.rebuild()
    alone = answers(seeded, queries)
    monkeypatch.setattr(parallel, "MIN_PAPERS", 100)  # the seeded library has 397 papers
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    assert parallel.workers_for(397) == 2 and parallel.workers_for(99) == 1
    seen: list[int] = []
    assert seeded.search.rebuild(progress=lambda done, total, what: seen.append(done)) == 397
    assert len(seeded.search.index.view().leaves) == 2  # one segment per worker
    assert seen[-1] == 397 and seen == sorted(seen)
    assert answers(seeded, queries) == alone
    assert seeded.search.check(repair=False)["ok"]
    assert not list(seeded.folder.glob("index.new*")) and not list((seeded.folder / "index").glob("*.tmp"))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_build_past_the_pool_limit_spills_to_disk_with_the_same_answers(seeded, monkeypatch, workers):
    from paperdesk.core.search import parallel
    from paperdesk.core.search import whoosh_internals as writer
    from paperdesk.core.search.term_pool import TermPool

    queries = ("language", '"large language"', "diffu", "is:starred OR reasoning", "upvotes:>3 learning")

    seeded.search.rebuild()
    alone = answers(seeded, queries)
    monkeypatch.setattr(parallel, "MIN_PAPERS", 100 if workers > 1 else 10_000)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: workers)
    monkeypatch.setattr(writer, "POOL_LIMIT", 20_000)  # postings: ~100 papers, reaches the workers
    spills: list[int] = []
    spill = TermPool.spill
    monkeypatch.setattr(TermPool, "spill", lambda pool: (spills.append(pool.size), spill(pool)))
    assert seeded.search.rebuild() == 397
    assert len(seeded.search.index.view().leaves) == workers  # one segment each, whatever the limit
    assert (len(spills) >= 3) is (workers == 1)  # (the workers spill in their own processes)
    assert answers(seeded, queries) == alone
    assert seeded.search.check(repair=False)["ok"]


def test_worker_processes_do_not_run_the_main_script_again(seeded, tmp_path):
    # Spawned children import the parent's main module; a script without a main guard (or
    # `python -m paperdesk`) would run again in every worker.
    seeded.close()
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        from paperdesk.core import Library
        from paperdesk.core.search import parallel
        parallel.MIN_PAPERS = 100
        parallel.os.cpu_count = lambda: 2
        with Library.open({str(seeded.folder)!r}) as lib:
            print("indexed", lib.search.rebuild(), len(lib.search.index.view().leaves))
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["indexed 397 2"]


def test_drain_in_slices(seeded):
    assert seeded.search.run("language").total > 0  # an index exists
    ids = seeded.paper_ids(limit=5)
    tagged = seeded.search.run("has:tag").total
    for pid in ids:  # one change each, queued one after another
        seeded.tag([pid], ["slice"])
    assert pending(seeded) == 5
    assert seeded.search.update(limit=2) == 2 and pending(seeded) == 3
    left = {r[0] for r in seeded.conn.execute("SELECT paper_id FROM index_queue")}
    assert len(left) == 3 and left < set(ids)  # oldest first, but queue times are whole seconds
    assert seeded.search.run("has:tag", drain=False).total == tagged + 5  # SQLite answers filters exactly
    assert seeded.search.update(limit=10) == 3 and pending(seeded) == 0
    assert seeded.search.run("tag:slice language", drain=False).total == \
        seeded.search.run("tag:slice language", typing=False).total


def test_rebuild_workers_follow_size_and_cores(monkeypatch):
    # (packaging/build.sh rebuilds 7397 papers with workers from the frozen app)
    from paperdesk.core.search import parallel

    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    assert parallel.workers_for(100_000) == 2
    assert parallel.workers_for(parallel.MIN_PAPERS - 1) == 1


def test_index_is_read_without_mmap(seeded):
    # whoosh-reloaded copies every mapped segment part into memory for each reader it opens.
    assert seeded.search.run("language").total > 0
    assert seeded.search.index.ix.storage.supports_mmap is False
    seeded.search.rebuild()
    assert seeded.search.index.ix.storage.supports_mmap is False


def test_posting_lists_live_beside_their_segments_and_go_with_them(seeded, monkeypatch):
    from paperdesk.core.search import evaluator, sidecar, word_order

    queries = ("language", "model -large", '"large language"', "diffu", "sort:upvotes agent")

    seeded.search.rebuild()
    index = seeded.search.index
    files = list(index.dir.glob(f"*{sidecar.EXTENSION}"))
    assert len(files) == 1
    (segment,) = {segment_id(r) for r, _ in index.view().leaves}
    assert sidecar.sidecar_for(index.dir, segment).postings("abstract", b"model") is not None
    seen = {f.name for f in files}
    seen_orders: set[str] = set()
    offset = 0
    for round_, size in enumerate([25, 3, 3, 3, 3, 3, 3]):  # Whoosh merges small segments into
        ids = seeded.paper_ids(limit=size, offset=offset)  # the next commit's: their files follow
        offset += size
        seeded.tag(ids, [f"round{round_}"])
        seeded.search.update()
        seen |= {p.name for p in index.dir.glob(f"*{sidecar.EXTENSION}")}
        seen_orders |= {p.name for p in index.dir.glob(f"*{word_order.EXTENSION}")}
    segments = {segment_id(r) for r, _ in index.view().leaves}
    orders = {p.name for p in index.dir.glob(f"*{word_order.EXTENSION}")}
    assert orders == {word_order.path_for(index.dir, s).name for s in segments}  # every one
    assert seen_orders - orders, "word order files of merged-away segments go too"
    kept = {p.name for p in index.dir.glob(f"*{sidecar.EXTENSION}")}
    assert kept == {sidecar.path_for(index.dir, s).name for s in segments}  # every one
    assert seen - kept, "segments were merged away, and their files with them"
    leftover = sidecar.path_for(index.dir, "MAIN_crashedwriter")
    leftover.with_name(leftover.name + ".partial").write_bytes(b"half")  # a writer killed mid-write
    before = {p.name for p in index.dir.glob(f"*{sidecar.EXTENSION}")}
    seeded.tag(seeded.paper_ids(limit=1), ["last"])
    seeded.search.update()
    assert not list(index.dir.glob("*.partial"))
    after = {p.name for p in index.dir.glob(f"*{sidecar.EXTENSION}")}
    current = {sidecar.path_for(index.dir, segment_id(r)).name for r, _ in index.view().leaves}
    assert after == current and before & current <= after  # live segments keep theirs
    merged = answers(seeded, queries)
    # The merges took the lean fields' lists (Whoosh's segments hold none: whoosh_internals.LEAN)
    # from the merged segments' postings files: a fresh one-segment index finds the same papers
    # (scores differ: deleted documents counted in the statistics are gone).
    seeded.search.rebuild()
    assert [(total, set(hits)) for total, hits in answers(seeded, queries)] == \
        [(total, set(hits)) for total, hits in merged] and any(total for total, _ in merged)
    monkeypatch.setattr(evaluator, "sidecar_for", lambda folder, segment: None)
    seeded.search.index.close()  # opened again by the next search: a fresh view, without the files
    with pytest.raises(Exception, match="Block tag"):  # a lean list is never read as empty
        answers(seeded, queries)


@pytest.mark.parametrize("kind", ["words", "postings"])
def test_a_segment_without_its_word_order_or_postings_file_rebuilds_the_index(seeded, kind):
    """The evaluator reads postings and phrases only from these files: an index missing one (a
    file deleted, a damaged copy) is rebuilt at open, not searched with answers lost."""
    from paperdesk.core.search import sidecar, word_order

    expected = seeded.search.run('"large language"', typing=False).total
    assert expected > 0
    extension = {"words": word_order.EXTENSION, "postings": sidecar.EXTENSION}[kind]
    next(seeded.search.index.dir.glob(f"*{extension}")).write_bytes(b"damaged")
    seeded.close()
    with Library.open(seeded.folder) as lib:
        assert lib.search.run('"large language"', typing=False).total == expected
        assert any("missing or incomplete" in m for m in lib.search.index.take_messages())
        index = lib.search.index
        segments = {segment_id(r) for r, _ in index.view().leaves}
        assert all(word_order.word_order_for(index.dir, s) and sidecar.sidecar_for(index.dir, s)
                   for s in segments)


def test_an_index_of_the_previous_version_is_rebuilt_at_open_and_answers_the_same(seeded):
    """INDEX_VERSION 15 and 16 changed the postings and word order files (two-byte docnums, the
    vocabulary as arrays): an index written before (version 14, its files of the old layouts) is
    rebuilt at open, with the same answers, and its files are then of the new layouts."""
    from paperdesk.core.search import sidecar, word_order
    from paperdesk.core.search.fields import INDEX_VERSION

    queries = ['"large language"', "language", '"language model"', "title:model"]
    expected = [seeded.search.run(q, typing=False).total for q in queries]
    assert expected[0] > 0
    folder = seeded.folder
    seeded.close()
    (folder / "index" / "PAPERDESK_INDEX_VERSION").write_text("14")
    for path in (folder / "index").glob(f"*{word_order.EXTENSION}"):  # the old layouts' magic
        path.write_bytes(b"PDNPW3\n" + path.read_bytes()[len(word_order.MAGIC):])
    for path in (folder / "index").glob(f"*{sidecar.EXTENSION}"):
        path.write_bytes(b"PDNPP3\n" + path.read_bytes()[len(sidecar.MAGIC):])
    with Library.open(folder) as lib:
        assert [lib.search.run(q, typing=False).total for q in queries] == expected
        files = list(lib.search.index.dir.glob(f"*{word_order.EXTENSION}"))
        assert files and all(sidecar.read_header(p, word_order.MAGIC) for p in files)
        files = list(lib.search.index.dir.glob(f"*{sidecar.EXTENSION}"))
        assert files and all(sidecar.read_header(p, sidecar.MAGIC) for p in files)
        assert (lib.search.index.dir / "PAPERDESK_INDEX_VERSION").read_text().strip() == INDEX_VERSION
