"""Our segment writer (postings pooled by term, written a block at a time) writes the very bytes
Whoosh's own writer writes, for the same documents: new segments, merges, and a merge too big
for the term pool (handed to Whoosh's pool)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from whoosh.filedb.filestore import FileStorage

from paperdesk.core.search import whoosh_internals as fast
from paperdesk.core.search import word_order
from paperdesk.core.search.index import make_schema
from paperdesk.core.search.sidecar import EXTENSION, PREFIX
from paperdesk.core.search.term_pool import TermPool

WORDS = ["diffusion", "model", "models", "modeling", "video", "language", "agent", "reasoning",
         "graph", "network", "planning", "world", "policy", "gradient", "flow", "matching", "learning",
         "learners", "retrieval", "Schrödinger", "ÉCOLE", "naïve", "x-ray", "3D", "state-of-the-art"]
FILLERS = ["the", "of", "a", "x", "and", "-", "Policy.", "(gradient)", "İstanbul", "e.g."]


@pytest.fixture(autouse=True)
def full_postings(monkeypatch):
    """Our writer writes every Whoosh posting (not lean): the bytes are compared with Whoosh's.
    (test_search_evaluator.py tests the lean segments.)"""
    monkeypatch.setattr(fast, "LEAN", False)


def documents(count: int, seed: int, start: int = 0) -> list[dict]:
    rng = random.Random(seed)
    docs = []
    for i in range(start, start + count):
        title = " ".join(rng.choice(WORDS + FILLERS) for _ in range(rng.randint(0, 8))) or "the of"
        fields = {
            "id": f"p{i:05d}", "sig": f"s{i}", "title": title, "title_ng": title,
            # Long enough that common words pass the 128-posting blocks and the sidecar's minimum.
            "abstract": " ".join(rng.choice(WORDS + FILLERS) for _ in range(rng.randint(0, 60))),
            "note": rng.choice(["", "a note on *flows*", "graph graph graph"]),
            "tags": rng.choice(["", "ideas", "ideas,reading", "idle"]),
            "author": rng.choice(["Ada Lovelace", "Alan Turing", ""]),
            "org": rng.choice(["DeepMind", "", "Meta AI"]),
            "source": rng.choice(["digest daily-2025-08-01.txt 2025-08-01", "feed arXiv cs.LG"]),
            "flags": rng.choice(["inbox unstarred", "archived starred", "inbox starred note"]),
            "upvotes": rng.choice([None, 0, 5, 120, -3]),
            "published": rng.choice([None, 20250801, 20191231]),
        }
        docs.append({k: v for k, v in fields.items() if v not in (None, "")})
    return docs


def write(folder: Path, batches: list[list[dict]], ours: bool, deletions: tuple[str, ...] = ()) -> None:
    """Each batch as one commit; the last merges every segment into its own (as an optimize).
    Our writer writes every Whoosh posting here (`full_postings`)."""
    folder.mkdir()
    ix = FileStorage(str(folder)).create_index(make_schema())
    for n, docs in enumerate(batches):
        writer = fast.segment_writer(ix, compound=False) if ours else ix.writer(compound=False)
        if ours:
            assert isinstance(writer.pool, TermPool)
        for doc in docs:
            writer.add_document(**doc)
        if n == len(batches) - 1:
            for pid in deletions:
                writer.delete_by_term("id", pid)
        writer.commit(optimize=n > 0 and n == len(batches) - 1)
    ix.close()


def segment_files(folder: Path) -> dict[str, bytes]:
    """Segment files by kind (their names carry a random segment id), in segment order."""
    from whoosh.index import open_dir

    ix = open_dir(str(folder))
    with ix.reader() as reader:  # its leaves: one per segment, in the index's order
        segments = [fast.segment_id(leaf) for leaf, _ in reader.leaf_readers()]
    ix.close()
    found: dict[str, bytes] = {}
    for n, segment in enumerate(segments):
        for path in sorted(folder.glob(f"*{segment}*")):
            found[f"{n}:{path.name.replace(segment, 'SEG')}"] = path.read_bytes()
    return found


@pytest.mark.parametrize("batches", [[400], [300, 40, 40]])
def test_segments_are_byte_for_byte_whooshs(tmp_path, batches, monkeypatch):
    docs, start = [], 0
    for n, size in enumerate(batches):
        docs.append(documents(size, seed=n, start=start))
        start += size
    write(tmp_path / "whoosh", docs, ours=False, deletions=("p00003", "p00310"))
    write(tmp_path / "ours", docs, ours=True, deletions=("p00003", "p00310"))
    theirs, ours = segment_files(tmp_path / "whoosh"), segment_files(tmp_path / "ours")
    assert len({k.split(":")[0] for k in theirs}) == 1  # one segment: the others were merged into it
    sidecars = {k for k in ours if k.split(":", 1)[1].startswith(PREFIX)}
    orders = {k for k in ours if k.split(":", 1)[1].startswith(word_order.PREFIX)}
    assert sidecars and all(k.endswith(EXTENSION) for k in sidecars)  # ours alone writes them
    assert len(orders) == 1  # a merged segment's word order comes along
    assert set(theirs) == set(ours) - sidecars - orders
    assert any(k.endswith(".pst") for k in theirs) and any(k.endswith(".trm") for k in theirs)
    for kind in theirs:
        assert ours[kind] == theirs[kind], kind


@pytest.mark.parametrize("batches", [[400], [300, 40, 40]])
def test_a_pool_past_its_limit_spills_sorted_runs_and_writes_the_same_bytes(tmp_path, monkeypatch,
                                                                          batches):
    monkeypatch.setattr(fast, "POOL_LIMIT", 3_000)  # postings: many runs per segment
    spills: list[int] = []
    original = TermPool.spill

    def counted(self):
        spills.append(self.size)
        assert Path(self.spill_dir).is_relative_to(tmp_path / "ours")  # beside the index
        original(self)

    monkeypatch.setattr(TermPool, "spill", counted)
    docs, start = [], 0
    for n, size in enumerate(batches):
        docs.append(documents(size, seed=n + 7, start=start))
        start += size
    write(tmp_path / "whoosh", docs, ours=False)
    write(tmp_path / "ours", docs, ours=True)
    assert len(spills) > 5 and all(size >= 3_000 for size in spills)
    theirs, ours = segment_files(tmp_path / "whoosh"), segment_files(tmp_path / "ours")
    assert len({k.split(":")[0] for k in theirs}) == 1
    for kind in theirs:
        assert ours[kind] == theirs[kind], kind


def test_edge_grams_are_the_ngram_analyzers_tokens(tmp_path, monkeypatch):
    """title_ng's n-grams, made in one loop by our writer without Whoosh's analyzer chain, are that
    analyzer's tokens: the segments are Whoosh's bytes for titles that try the tokenizer."""
    from whoosh.analysis import NgramFilter
    from whoosh.index import open_dir

    texts = [" ".join(documents(1, seed)[0]["title"] for seed in range(40)),
             "İstanbul x-ray 3D e.g. state-of-the-art Schrödinger a*b ÉCOLE supercalifragilistic", ""]
    docs = [{"id": f"t{n}", "title": text, "title_ng": text} for n, text in enumerate(texts)]
    docs += documents(40, seed=3)
    write(tmp_path / "whoosh", [docs], ours=False)
    filtered: list[object] = []
    through_whoosh = NgramFilter.__call__

    def counted(self, tokens, **kwargs):
        filtered.append(self)
        return through_whoosh(self, tokens, **kwargs)

    monkeypatch.setattr(NgramFilter, "__call__", counted)
    write(tmp_path / "ours", [docs], ours=True)
    assert filtered == []  # our writer made every gram itself (the fast path was taken)
    theirs, ours = segment_files(tmp_path / "whoosh"), segment_files(tmp_path / "ours")
    for kind in theirs:  # title_ng's terms and counts are Whoosh's; title's are not n-grams
        assert ours[kind] == theirs[kind], kind
    title = "Diffusion of x"
    write(tmp_path / "one", [[{"id": "d", "title": title, "title_ng": title}]], ours=True)
    ix = open_dir(str(tmp_path / "one"))
    with ix.reader() as reader:
        grams = sorted(term.decode() for term in reader.lexicon("title_ng"))
        words = sorted(term.decode() for term in reader.lexicon("title"))
    ix.close()
    assert grams == ["d", "di", "dif", "diff", "diffu", "diffus", "diffusi", "diffusio", "diffusion",
                     "o", "of", "x"]
    assert words == ["diffus"]  # the title field: stemmed words, not n-grams
