"""Search benchmark: index build, incremental indexing, query latency by class, and SQLite FTS5 ratios.

    python tests/benchmarks/bench_search.py --n 1000 [10000 100000] [--queries 40] [--keep DIR]
                                            [--reuse] [--build-only] [--only CLASS ...]

With --keep DIR the libraries live in DIR/search-N; --reuse then keeps an index that is current
(right version, N documents, empty queue) and reports the build figures recorded when it was made
(DIR/search-N/build.json), so later runs only measure queries; it also keeps the FTS5 table
(DIR/search-N/fts5.sqlite3, its build time in fts5.json) for the next run.

Prints one JSON object per size. The searches run as in the desk's reader: with its allocator
settings (core/heap.py) and after its warm-up of the index (`lib.search.warm()`). Latencies are
`Library.search` end to end (parse, Whoosh, total count, texts of up to 200 hits from SQLite) plus
the snippets of the first 50 hits (what a list shows; the others are made when looked up), in ms.
`fts5_ratio` = our p95 / FTS5 p95 for the same class over the same texts (FTS5: porter tokenizer,
prefix index 2-4, bm25 rank, LIMIT 200 plus count). Goals at 100k (issue 4): as-you-type p95 <= 50
ms, other classes p95 <= 30 ms, incremental 100 papers <= 1 s, full rebuild <= 3 min.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth_search import Papers

from paperdesk.core import Library, abstract_text
from paperdesk.core.heap import keep_freed_memory

TODAY_WORDS = re.compile(r"^[a-z]{3,}$")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def cached_build(folder: Path, n: int) -> dict | None:
    """The figures of an earlier build, if its index is still current."""
    from paperdesk.core.search.index import INDEX_VERSION, SearchIndex

    record = folder / "build.json"
    if not record.is_file() or not SearchIndex.exists(folder):
        return None
    saved = json.loads(record.read_text())
    if saved.get("index_version") != INDEX_VERSION:
        return None
    with Library.open(folder) as lib:
        if lib.stats()["papers"] != n or lib.search.index.pending() or lib.search.index.doc_count() != n:
            return None
    # The build's time is the record's; the sizes are the files' now (a migration or `compact`
    # since the build changes the database's).
    return {**saved, "index_mb": round(dir_size(folder / "index") / 1e6, 1),
            "db_mb": round((folder / "library.sqlite3").stat().st_size / 1e6, 1), "cached": True}


def build(folder: Path, n: int, papers: Papers, reuse: bool = False) -> dict:
    from paperdesk.core.search.index import INDEX_VERSION

    if reuse and (cached := cached_build(folder, n)) is not None:
        return cached
    out: dict = {}
    with Library.open(folder) as lib:
        if lib.stats()["papers"] != n:
            t = time.perf_counter()
            for batch in papers.batches(0, n):
                lib.import_batch(batch)
            out["sqlite_import_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        lib.search.rebuild()
        out["index_build_s"] = round(time.perf_counter() - t, 2)
        out["index_mb"] = round(dir_size(folder / "index") / 1e6, 1)
        out["db_mb"] = round((folder / "library.sqlite3").stat().st_size / 1e6, 1)
    out["index_version"] = INDEX_VERSION
    (folder / "build.json").write_text(json.dumps(out))
    return out


def incremental(lib: Library, n: int, papers: Papers) -> dict:
    batch = next(papers.batches(10_000_000, 100, per_batch=100))
    t = time.perf_counter()
    lib.import_batch(batch, drain=False)  # the SQLite transaction (queues 100 papers)
    sqlite_s = time.perf_counter() - t
    t = time.perf_counter()
    drained = lib.search.update()
    drain_s = time.perf_counter() - t
    assert drained == 100, drained
    lib.undo()  # back to n papers (queues them for removal)
    lib.search.update()
    return {"import_sqlite_s": round(sqlite_s, 3), "index_100_s": round(drain_s, 3)}


def query_classes(words: list[str], titles: list[str], rng: random.Random, k: int) -> dict[str, list]:
    common = [w for w in words if TODAY_WORDS.match(w)]

    def word() -> str:
        return rng.choice(common)

    def phrase() -> str:
        ws = [w for w in re.findall(r"[A-Za-z]+", rng.choice(titles)) if len(w) > 2]
        i = rng.randrange(max(1, len(ws) - 1))
        return " ".join(ws[i:i + 2]).lower()

    def year_range() -> tuple[str, str]:
        a = rng.randint(2017, 2025)
        return f"{a}-{rng.randint(1, 12):02d}", f"{a + 1}-{rng.randint(1, 12):02d}"

    classes: dict[str, list] = {
        "one_term": [(w := word(), {"fts": w}) for _ in range(k)],
        "two_terms": [(f"{a} {b}", {"fts": f"{a} {b}"}) for a, b in ((word(), word()) for _ in range(k))],
        "phrase": [(f'"{p}"', {"fts": f'"{p}"'}) for p in (phrase() for _ in range(k))],
        "field": [(f"title:{w}", {"fts": f"title:{w}"}) for w in (word() for _ in range(k))],
        "upvotes": [(f"upvotes:>{v}", {"sql": ("upvotes > ?", [v])}) for v in
                    (rng.randint(0, 290) for _ in range(k))],
        "date_range": [(f"date:{a}..{b}", {"sql": ("published BETWEEN ? AND ?", [f"{a}-01", f"{b}-31"])})
                       for a, b in (year_range() for _ in range(k))],
    }
    for size in (1, 2, 3, 4):
        classes[f"prefix_{size}"] = [(p, {"fts": f"{p}*"}, True) for p in
                                     (word()[:size] for _ in range(k))]
    mixed = []
    for _ in range(k):
        a, b, c = word(), word(), word()[:3]
        mixed.append((f"{a} -{b} upvotes:>50 date:>=2020-01-01 {c}",
                      {"fts": f"{a} {c}* NOT {b}", "sql": ("upvotes > ? AND published >= ?",
                                                         [50, "2020-01-01"])}, True))
    classes["mixed_as_typed"] = mixed
    # Words with a triage filter (is:starred / is:inbox / is:archived), over `decide`'s decisions.
    flags = ("is:starred", "is:inbox", "-is:archived", "is:archived")
    classes["word_flag"] = [(f"{word()} {flags[i % len(flags)]}", {"fts": word()}) for i in range(k)]
    return classes


def decide(lib: Library) -> None:
    """Star every 50th paper and archive every 3rd (once per library), as triage leaves them."""
    if lib.stats()["starred"]:
        return
    ids = lib.conn.execute("SELECT id FROM papers ORDER BY rowid").fetchall()
    lib.star([r[0] for r in ids[::50]])
    lib.archive([r[0] for r in ids[1::3]])
    lib.search.update()


def shown(result: object) -> int:
    """Make the snippets a list view would show."""
    return sum(len(hit.snippet) for hit in result.hits[:50])  # type: ignore[attr-defined]


def time_each(items: list, fn: Callable) -> list[float]:
    for item in items[:3]:  # warm caches
        fn(item)
    times = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - t) * 1000)
    return times


def build_fts(folder: Path, reuse: bool = False) -> tuple[sqlite3.Connection, float]:
    """The FTS5 table over the library's texts, in its own file; with `reuse`, one built before for
    the same papers is kept (with the build time recorded then)."""
    path, record = folder / "fts5.sqlite3", folder / "fts5.json"
    papers = sqlite3.connect(folder / "library.sqlite3").execute("SELECT count(*) FROM papers").fetchone()[0]
    if reuse and path.is_file() and record.is_file():
        saved = json.loads(record.read_text())
        if saved.get("papers") == papers:
            conn = sqlite3.connect(path)
            conn.execute(f"ATTACH DATABASE '{folder / 'library.sqlite3'}' AS lib")
            return conn, saved["build_s"]
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(f"ATTACH DATABASE '{folder / 'library.sqlite3'}' AS lib")
    abstract_text.register(conn)  # the FTS5 table holds the abstracts' text, not their stored bytes
    t = time.perf_counter()
    conn.executescript("""
        CREATE VIRTUAL TABLE fts USING fts5(title, abstract, note, tokenize='porter unicode61',
                                            prefix='2 3 4');
        INSERT INTO fts (rowid, title, abstract, note) SELECT rowid, title, abstract_text(abstract), ''
            FROM lib.papers;
    """)
    conn.commit()
    took = time.perf_counter() - t
    record.write_text(json.dumps({"papers": papers, "build_s": round(took, 2)}))
    return conn, took


def fts_query(conn: sqlite3.Connection, spec: dict) -> int:
    where, params = [], []
    if "fts" in spec:
        where.append("p.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
        params.append(spec["fts"])
    if "sql" in spec:
        where.append(spec["sql"][0])
        params += spec["sql"][1]
    cond = " AND ".join(where)
    if "fts" in spec:
        extra = f" AND {spec['sql'][0]}" if "sql" in spec else ""
        ids = conn.execute(
            f"SELECT p.id FROM fts JOIN lib.papers p ON p.rowid = fts.rowid WHERE fts MATCH ?{extra} "
            f"ORDER BY rank LIMIT 200", params).fetchall()
    else:
        ids = conn.execute(f"SELECT id FROM lib.papers p WHERE {cond} ORDER BY published DESC LIMIT 200",
                           params).fetchall()
    total = conn.execute(f"SELECT count(*) FROM lib.papers p WHERE {cond}", params).fetchone()[0]
    return total + len(ids)


def measure(n: int, workdir: Path, k: int, reuse: bool = False, build_only: bool = False,
            only: list[str] | None = None, fts5_k: int | None = None) -> dict:
    papers = Papers()
    folder = workdir / f"search-{n}"
    result: dict = {"n": n, **build(folder, n, papers, reuse)}
    if build_only:
        return result
    rng = random.Random(5)
    titles = [papers.paper(rng.randrange(n)).title for _ in range(200)]
    classes = query_classes(papers.words, titles, rng, k)
    with Library.open(folder) as lib:
        decide(lib)
        result["incremental"] = incremental(lib, n, papers)
        lib.search.warm()  # as the desk's reader does when it opens the index
        lib.search.run("warm up")
        latency: dict = {}
        fts, fts_build = build_fts(folder, reuse)
        result["fts5_build_s"] = round(fts_build, 2)
        result["index_build_vs_fts5"] = round(result["index_build_s"] / max(fts_build, 1e-6), 1)
        for name, items in classes.items():
            if only and name not in only:
                continue
            ours = time_each(items, lambda it: shown(lib.search.run(it[0], limit=200, typing=len(it) > 2)))
            theirs = time_each(items[:fts5_k], lambda it: fts_query(fts, it[1]))
            totals = [lib.search.run(it[0], limit=200, typing=len(it) > 2).total for it in items[:5]]
            latency[name] = {
                "p50_ms": round(statistics.median(ours), 1), "p95_ms": round(pct(ours, 0.95), 1),
                "max_ms": round(max(ours), 1), "fts5_p95_ms": round(pct(theirs, 0.95), 2),
                "fts5_ratio": round(pct(ours, 0.95) / max(pct(theirs, 0.95), 1e-3), 1),
                "sample": items[0][0], "sample_totals": totals,
            }
        fts.close()
        result["latency"] = latency
    if not reuse:
        (folder / "fts5.sqlite3").unlink(missing_ok=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[1000])
    parser.add_argument("--queries", type=int, default=40, help="queries per class")
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the libraries in")
    parser.add_argument("--reuse", action="store_true", help="keep a current index (no rebuild)")
    parser.add_argument("--build-only", action="store_true", help="build, report, no queries")
    parser.add_argument("--only", nargs="+", help="query classes to measure (default: all)")
    parser.add_argument("--fts5-queries", type=int, help="FTS5 answers only the first K queries of a class "
                        "(at 1M papers it takes seconds a query: all 40 x 12 would take most of an hour)")
    args = parser.parse_args()
    keep_freed_memory()  # the searches run with the allocator settings the desk's process has (core/heap.py)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="paperdesk-bench-search-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for n in args.n:
        print(json.dumps(measure(n, workdir, args.queries, args.reuse, args.build_only, args.only,
                                 args.fts5_queries),
                         indent=1), flush=True)


if __name__ == "__main__":
    main()
