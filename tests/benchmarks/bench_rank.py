"""The ranked inbox: speed at N synthetic papers, and quality with a simulated reader on real texts.

    python tests/benchmarks/bench_rank.py --n 100000          # speed (builds a library; minutes)
    python tests/benchmarks/bench_rank.py --quality           # quality on the sample digests (+ corpus)

Quality: a simulated user whose true interest is a hidden topic (a query) decides on papers in a
random order (star if on topic, else archive). After 10, 50 and 200 decisions the undecided papers
are ranked by date, by upvotes, by PaperDesk's model, and by arxiv-sanity-lite's recipe rerun from
scratch (tf-idf of 1-2-grams + a linear SVM over every paper, when scikit-learn is installed);
precision@20 and the share of the topic's papers in the top 20% are printed side by side.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "benchmarks")]

from paperdesk.core import Library  # noqa: E402

TOPICS = {
    "video & images": "video OR image OR images OR visual OR diffusion",
    "agents & tools": "agent OR agents OR tool OR tools OR web",
    "reasoning & math": "reasoning OR math OR mathematical OR proof",
    "speech & audio": "speech OR audio OR voice OR music",
}
STEPS = (10, 50, 200)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- speed ------------------------------------------------------------------------------------
def speed(n: int, workdir: Path) -> dict:
    from synth_search import Papers

    lib = Library.open(workdir / f"lib-{n}")
    if lib.count() < n:
        papers = Papers()
        for batch in papers.batches(lib.count(), n - lib.count()):
            lib.import_batch(batch)
    out: dict = {"papers": lib.count()}
    rng = random.Random(5)
    ids = lib.paper_ids()
    liked, disliked = rng.sample(ids, 300), rng.sample(ids, 600)
    lib.star(liked[:200])
    lib.archive([p for p in disliked if p not in liked][:400])
    ranker = lib.ranker
    start = time.perf_counter()
    made = ranker.cache.refresh(lib.conn)
    out["featurise_s"] = round(time.perf_counter() - start, 2)
    out["featurised"] = made
    start = time.perf_counter()
    ranker.cache = type(ranker.cache)(lib.folder)
    ranker.cache.refresh(lib.conn)
    out["load_features_s"] = round(time.perf_counter() - start, 2)
    rss_before = rss_mb()
    start = time.perf_counter()
    ranker.model()
    out["train_cold_s"] = round(time.perf_counter() - start, 3)
    lib.star(liked[200:201])  # one decision
    start = time.perf_counter()
    ranker.model()
    out["decision_to_model_s"] = round(time.perf_counter() - start, 3)
    inbox = lib.paper_ids(status="inbox")
    rescore, cached = [], []
    for _ in range(5):
        start = time.perf_counter()
        ranker.model().scores = None  # score every row again, as after a retrain
        ranker.order(inbox)
        rescore.append(time.perf_counter() - start)
        start = time.perf_counter()
        ranker.order(inbox)  # the same model: its scores are kept
        cached.append(time.perf_counter() - start)
    out["rank_view_after_retrain_ms"] = round(1000 * min(rescore), 1)
    out["rank_view_ms"] = round(1000 * min(cached), 1)
    out["view_size"] = len(inbox)
    start = time.perf_counter()
    lib.search("sort:interest is:inbox", limit=200, typing=False)
    out["search_sort_interest_ms"] = round(1000 * (time.perf_counter() - start), 1)
    model = ranker.model()
    out["model_mb"] = round((model.weights.nbytes + (model.scores.nbytes if model.scores is not None
                                                      else 0)) / 1e6, 1)
    m = ranker.cache.matrix
    out["features_in_memory_mb"] = round((m.indices.nbytes + m.counts.nbytes + ranker.cache.norms.nbytes
                                          + m.indptr.nbytes) / 1e6, 1)
    out["rank_folder_mb"] = round(sum(p.stat().st_size for p in (lib.folder / "rank").glob("*")) / 1e6, 1)
    out["peak_rss_growth_mb"] = round(rss_mb() - rss_before, 1)
    lib.close()
    return out


# -- quality ----------------------------------------------------------------------------------
def real_library(workdir: Path) -> Library:
    lib = Library.open(workdir / "quality")
    samples = sorted((ROOT / "resources" / "samples").glob("*.txt"))
    lib.import_paths(samples)
    corpus = ROOT.parent / "shared" / "corpus"
    if corpus.is_dir():
        from paperdesk.core.feeds.parse import parse_document

        for path in sorted(corpus.rglob("*")):
            if path.suffix.lower() not in (".xml", ".json", ".atom", ".rss") or path.stat().st_size > 5e6:
                continue
            try:
                batch = parse_document(path.read_bytes(), url=str(path), name=path.name).batch
            except Exception:  # a corpus file that is not a feed: skip it
                continue
            if batch.papers:
                lib.import_batch(batch)
    return lib


def arxiv_sanity(texts: list[str], pos: set[int], neg: set[int]) -> np.ndarray | None:
    """arxiv-sanity-lite's recipe, from scratch: tf-idf fit on every paper, SVM on the positives."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC
    except ImportError:
        return None
    v = TfidfVectorizer(input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode",
                        lowercase=True, analyzer="word", stop_words="english",
                        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
                        max_features=20000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True,
                        max_df=0.1, min_df=5 if len(texts) > 5000 else 1)
    x = v.fit_transform(texts)
    y = np.zeros(len(texts))
    y[list(pos)] = 1
    clf = LinearSVC(class_weight="balanced", verbose=False, max_iter=10000, tol=1e-6, C=0.01)
    clf.fit(x, y)
    return clf.decision_function(x)


def quality(workdir: Path, seeds: int) -> dict:
    lib = real_library(workdir)
    rows = lib.conn.execute("SELECT id, title, abstract, published, upvotes FROM papers").fetchall()
    ids = [r[0] for r in rows]
    where = {pid: i for i, pid in enumerate(ids)}
    texts = [f"{r[1]} {r[2]}" for r in rows]
    report: dict = {"papers": len(ids), "topics": {}}
    for name, query in TOPICS.items():
        topic = {h.id for h in lib.search(query, limit=None, typing=False).hits}
        rows_out: dict = {}
        for steps in STEPS:
            scores: dict[str, list[tuple[float, float]]] = {}
            timing: dict[str, list[float]] = {}
            for seed in range(seeds):
                rng = random.Random(seed)
                order = ids[:]
                rng.shuffle(order)
                decided, rest = order[:steps], order[steps:]
                lib.conn.execute("UPDATE papers SET starred = 0, status = 'inbox'")
                lib.conn.execute("DELETE FROM tags")
                lib.conn.commit()
                pos = [p for p in decided if p in topic]
                neg = [p for p in decided if p not in topic]
                if pos:
                    lib.star(pos)
                if neg:
                    lib.archive(neg)
                by: dict[str, list[str]] = {}
                by["date"] = sorted(rest, key=lambda p: rows[where[p]][3] or "", reverse=True)
                by["upvotes"] = sorted(rest, key=lambda p: rows[where[p]][4] or -1, reverse=True)
                start = time.perf_counter()
                lib.ranker._models.clear()  # a model learnt from these decisions only
                by["paperdesk"] = lib.ranker.order(rest)
                timing.setdefault("paperdesk", []).append(time.perf_counter() - start)
                start = time.perf_counter()
                svm = arxiv_sanity(texts, {where[p] for p in pos}, {where[p] for p in neg}) if pos else None
                if svm is not None:
                    by["arxiv-sanity"] = sorted(rest, key=lambda p: -svm[where[p]])
                    timing.setdefault("arxiv-sanity", []).append(time.perf_counter() - start)
                want = [p for p in rest if p in topic]
                for method, ranked in by.items():
                    top20 = ranked[:20]
                    fifth = ranked[: max(len(ranked) // 5, 1)]
                    p20 = sum(p in topic for p in top20) / 20
                    recall = sum(p in topic for p in fifth) / max(len(want), 1)
                    scores.setdefault(method, []).append((p20, recall))
            rows_out[steps] = {m: {"p@20": round(float(np.mean([s[0] for s in v])), 3),
                                   "top20%": round(float(np.mean([s[1] for s in v])), 3)}
                               for m, v in scores.items()}
            rows_out[steps]["seconds"] = {m: round(float(np.mean(t)), 3) for m, t in timing.items()}
        report["topics"][name] = {"share": round(len(topic) / len(ids), 3), "by_decisions": rows_out}
    lib.close()
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="*", default=[], help="library sizes for the speed part")
    ap.add_argument("--quality", action="store_true")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-rank-"))
    out: dict = {}
    for n in args.n:
        out[f"speed_{n}"] = speed(n, workdir)
        print(json.dumps(out[f"speed_{n}"]), file=sys.stderr)
    if args.quality:
        out["quality"] = quality(workdir, args.seeds)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
