"""Likely tags ("likely #rl"): a tag is offered when a paper is clearly like the papers it is on.

Why not each tag's model at a fixed threshold: with a handful of tagged papers the tag's logistic
model memorises them (their own scores sit far above 0) while unseen papers like them still score
below 0, and under `model.MIN_POSITIVES` a tag has no model at all. On the sample digests, with 5
or 8 papers tagged from 32 that mention reinforcement learning, not one of the 27 others crossed 0.

So a tag is judged by likeness to its papers (cosine to the centroid of their tf-idf vectors),
measured against the library and against the tagged papers themselves:

- the library's likeness to the centroid (a sample of untagged papers): its median and spread
  (median absolute deviation) turn any likeness into a z-score;
- each tagged paper's likeness to the centroid of the *others* (leave-one-out, so a paper does
  not count its own words): a tag whose papers are no more like each other than the library is
  (median z below COHERENT_Z) is noise, never offered;
- a paper is offered the tag when its z is at least LIKE_Z and half the lower quartile of the
  tagged papers' own: far nearer to them than the library is, if less than they are to each other.

Everything here runs where the ranker runs (the desk's ranker thread; its feature cache loaded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from paperdesk.core.idlist import IDS, id_array
from paperdesk.core.rank.features import DIM, FeatureCache, names_of, segment_sums

if TYPE_CHECKING:
    from paperdesk.core.library import Library

MIN_TAGGED = 3  # fewer tagged papers say too little about a tag
COHERENT_Z = 3.0  # the tagged papers, each left out, are at least this far above the library
LIKE_Z = 4.0  # and a paper offered the tag at least this far
NEAR = 0.5  # and at least this part of the way up to the tagged papers' own (lower quartile)
SAMPLE = 5000  # untagged papers measured for the library's spread
MIN_SPREAD = 0.005  # cosines: a library of near-identical likeness must not make every bit count


@dataclass
class TagLikeness:
    features: np.ndarray  # the centroid's non-zero features, sorted
    weights: np.ndarray  # and their weights (the centroid has unit length)
    median: float
    spread: float
    threshold: float  # the z a paper needs; inf: the tag is offered to no paper

    def z(self, cache: FeatureCache, paper_id: str) -> float:
        r = cache.row_of.get(paper_id)
        if r is None or not len(self.features):
            return float("-inf")
        idx, val = cache.row(r)
        at = np.minimum(np.searchsorted(self.features, idx), len(self.features) - 1)
        hit = self.features[at] == idx
        likeness = float(np.dot(val[hit], self.weights[at[hit]]))
        return (likeness - self.median) / self.spread

    def shared(self, cache: FeatureCache, paper: dict, n: int = 3) -> list[str]:
        """The words of `paper` that make it most like the tag's papers ("reward, policy")."""
        r = cache.row_of.get(paper["id"])
        if r is None or not len(self.features):
            return []
        idx, val = cache.row(r)
        at = np.minimum(np.searchsorted(self.features, idx), len(self.features) - 1)
        contrib = np.where(self.features[at] == idx, val * self.weights[at], 0.0)
        authors = paper.get("authors") or []
        names = names_of(cache.hasher, paper.get("title") or "", paper.get("abstract") or "",
                         paper.get("organization"), [a for a in authors if isinstance(a, str)])
        top = [int(idx[i]) for i in np.argsort(-contrib)[:n] if contrib[i] > 0]
        return [names[f] for f in top if f in names]


@dataclass
class LibrarySample:
    """Papers evenly spaced through the feature cache, gathered once for every tag's measure."""
    rows: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, cache: FeatureCache) -> LibrarySample:
        n = len(cache.row_of)
        rows = np.unique(np.linspace(0, max(n - 1, 0), min(n, SAMPLE)).astype(np.int64))
        indptr, indices, values = cache.gather(rows)
        return cls(rows, indptr, indices, values)


def measure(cache: FeatureCache, tagged: Sequence[str],
            sample: LibrarySample | None = None) -> TagLikeness | None:
    """The tag's centroid and how alike its papers and the library are; None under MIN_TAGGED."""
    rows = cache.rows(tagged)
    rows = rows[rows >= 0]
    if len(rows) < MIN_TAGGED:
        return None
    sample = sample or LibrarySample.of(cache)
    indptr, idx, val = cache.gather(rows)
    features, inverse = np.unique(idx, return_inverse=True)
    val64 = val.astype(np.float64)
    weights = np.bincount(inverse, weights=val64, minlength=len(features))  # S, the tagged papers' sum
    norm = float(np.linalg.norm(weights))
    if norm == 0:
        return None
    # Leave-one-out: paper i against the others' sum S - x_i (|x_i| = 1 but for empty rows).
    own = segment_sums(val64 * weights[inverse], indptr)  # x_i · S
    self_dot = segment_sums(val64 * val64, indptr)  # x_i · x_i
    rest = np.sqrt(np.maximum(norm * norm - 2 * own + self_dot, 1e-12))
    loo = (own - self_dot) / rest
    # The library: the sample's untagged papers.
    dense = np.zeros(DIM, dtype=np.float32)
    dense[features] = weights / norm
    library = segment_sums(sample.values * dense[sample.indices], sample.indptr)[~np.isin(sample.rows, rows)]
    if not len(library):
        return None
    median = float(np.median(library))
    spread = max(1.4826 * float(np.median(np.abs(library - median))), MIN_SPREAD)
    loo_z = (loo - median) / spread
    coherent = float(np.median(loo_z)) >= COHERENT_Z
    threshold = max(LIKE_Z, NEAR * float(np.quantile(loo_z, 0.25))) if coherent else float("inf")
    return TagLikeness(features, (weights / norm).astype(np.float32), median, spread, threshold)


class Suggester:
    """Likely tags for papers, each tag measured once per set of tagged papers and library size.
    Belongs to one thread (the ranker's)."""

    def __init__(self) -> None:
        self._measured: dict[str, tuple[tuple, TagLikeness | None]] = {}
        self._sample: LibrarySample | None = None

    def likely(self, lib: Library, paper_id: str, tags: Sequence[str]) -> list[str]:
        """The tags among `tags` this paper is clearly like (give only tags it does not have)."""
        return list(self.likely_why(lib, paper_id, tags, words=0))

    def likely_why(self, lib: Library, paper_id: str, tags: Sequence[str],
                   words: int = 3) -> dict[str, list[str]]:
        """{likely tag: the paper's words most like the tag's papers'}, best-known tags first."""
        cache = lib.ranker.cache
        if paper_id not in cache.row_of:
            cache.refresh(lib.conn)  # imported since the ranker last looked
        tagged = tagged_papers(lib, tags)
        found: dict[str, list[str]] = {}
        paper = None
        for tag in tags:
            likeness = self.measured(cache, tag, tagged.get(tag, []))
            if likeness is not None and likeness.z(cache, paper_id) >= likeness.threshold:
                if words and paper is None:
                    paper = lib.get(paper_id) or {"id": paper_id}
                found[tag] = likeness.shared(cache, paper, words) if paper is not None else []
        return found

    def measured(self, cache: FeatureCache, tag: str, tagged: Sequence[str]) -> TagLikeness | None:
        size = len(cache.row_of)
        key = (size, len(tagged), hash(frozenset(tagged)))
        known = self._measured.get(tag)
        if known is None or known[0] != key:
            if len(tagged) < MIN_TAGGED:
                return None
            if self._sample is None or len(self._sample.rows) != min(size, SAMPLE) or \
                    (size and self._sample.rows[-1] != size - 1):
                self._sample = LibrarySample.of(cache)
            known = self._measured[tag] = (key, measure(cache, tagged, self._sample))
        return known[1]


def tagged_papers(lib: Library, tags: Sequence[str]) -> dict[str, list[str]]:
    """The papers of each of these tags (one query for all)."""
    out: dict[str, list[str]] = {}
    for tag, pid in lib.conn.execute(f"SELECT tag, paper_id FROM tags WHERE tag IN {IDS}", (id_array(tags),)):
        out.setdefault(tag, []).append(pid)
    return out
