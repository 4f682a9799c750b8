"""Interest models learnt from triage: which papers a person keeps, and why.

Labels come from what the user did: starred, tagged, noted or highlighted papers are positive;
papers archived without any of those are negative; a sample of the rest counts as weakly negative
(most unread papers are not what one wants), and recent decisions weigh more. The model is an
L2-regularised logistic regression over `features.py`'s tf-idf vectors, trained by a few dozen
full-batch Adam steps on the labelled rows only, warm-started from the last weights, then once more
with the ten unlabelled papers it likes best as weak positives (pseudo-relevance feedback): retraining
after a decision costs well under a second at 100k papers and grows little with the library.
With too few positives there is no model: papers are ranked by their likeness to the positives
blended with their upvotes (cold start), or by upvotes alone when there are none.
Past MAX_NEGATIVES archived papers a fit reads only the most recent decisions and a sample of the
rest, each sampled one standing for its share of them (`read_labels`): at 1M papers, 326k archived,
reading and fitting them all took 2 s and 2 x 12 s and peaked at 733 MB.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from paperdesk.core import abstract_text
from paperdesk.core.idlist import IDS, decoded_ids, id_array
from paperdesk.core.rank.features import DIM, LOG_TF, MAX_COUNT, FeatureCache, names_of

MIN_POSITIVES = 5      # fewer: no model, rank by likeness to them (bench_rank: a model from 5 beats that)
UNLABELLED = 1500      # at most this many unlabelled papers join training as weak negatives
UNLABELLED_WEIGHT = 0.3
HALF_LIFE_DAYS = 60    # a decision this old counts half
STEPS = 40
LEARNING_RATE = 0.05
L2 = 3e-2
# Pseudo-relevance feedback: the unlabelled papers a first fit likes best join a second fit as weak
# positives, so words that go with the kept ones count too (bench_rank --quality, 10 seeds: p@20
# after 50 decisions 0.534 -> 0.571, after 200 0.635 -> 0.653).
PSEUDO_POSITIVES = 10
PSEUDO_WEIGHT = 0.3
FIT_ROWS = 1024               # training rows decoded at a time (`TrainingRows`)
FIT_CACHED_ENTRIES = 100_000_000  # training entries held across a fit's steps (4 bytes each)
# A fit's archived papers, at most (see `read_labels`): with ~20k kept papers, a fit at any size
# costs what one of ~50k labelled papers does. This share of them are the papers decided most
# recently (the decision journal's newest, all there: a paper just archived must move the next
# ranking), the rest a sample of the others (a third at most: a sample much smaller than the recent
# ones would make each sampled paper weigh too much; at 100k papers with a hidden topic, 1 sampled
# paper for 29k left p@20 0.25 where all of them gave 0.65).
MAX_NEGATIVES = 30_000
RECENT_SHARE = 1 / 3

_POSITIVES = """
    SELECT pid, max(t) FROM (
        SELECT id AS pid, updated_at AS t FROM papers WHERE starred = 1
        UNION ALL SELECT paper_id, added_at FROM tags
        UNION ALL SELECT paper_id, updated_at FROM notes WHERE trim(body) != ''
        UNION ALL SELECT paper_id, created_at FROM highlights)
    GROUP BY pid"""
# Archived papers not among the positives (kept papers are positive wherever they are).
_NEGATIVES = """
    SELECT id, updated_at FROM papers p WHERE status = 'archived' AND starred = 0
      AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.paper_id = p.id)
      AND NOT EXISTS (SELECT 1 FROM notes n WHERE n.paper_id = p.id AND trim(n.body) != '')
      AND NOT EXISTS (SELECT 1 FROM highlights h WHERE h.paper_id = p.id)"""
_TAGGED = "SELECT paper_id, added_at FROM tags WHERE tag = ?"
_ARCHIVED = f"""
    SELECT count(*), (SELECT count(*) FROM papers WHERE status = 'archived' AND id IN {IDS})
    FROM papers WHERE status = 'archived'"""
# The papers of the decision journal's (migration 0018) changes, newest first, that are archived
# and not kept now (a paper once for each change: read until enough differ)
_RECENTLY_ARCHIVED = f"""
    SELECT p.id, p.updated_at FROM decision_changes d CROSS JOIN papers p ON p.rowid = d.paper
    WHERE p.status = 'archived' AND p.id NOT IN {IDS} ORDER BY d.seq DESC"""
# Archived papers in a fixed order of their rowids spread by Fibonacci hashing, the first few: the
# order read from the status index alone (only the rows taken are read: at 1M papers reading every
# archived row took 1.5 s), and the same at every retraining, so archiving one more paper changes
# the sample by at most a paper (a warm-started fit moves little) where a fresh random draw would
# change it all. Its papers are spread evenly over the order they came in.
_SAMPLE = f"""
    SELECT p.id, p.updated_at FROM (
        SELECT rowid AS r, (rowid + ?) * 2654435761 % 4294967296 AS h FROM papers
        WHERE status = 'archived' AND id NOT IN {IDS} ORDER BY h LIMIT ?) s
    JOIN papers p ON p.rowid = s.r ORDER BY s.h"""


@dataclass
class Labels:
    positives: dict[str, str]   # id -> when decided (ISO time)
    negatives: dict[str, str]   # all, or past MAX_NEGATIVES the most recent ones
    sampled: dict[str, str] = field(default_factory=dict)  # past MAX_NEGATIVES: a sample of the rest
    scale: float = 1.0          # how many of the rest each sampled paper stands for
    fingerprint: tuple = ()     # changes with any decision (`label_fingerprint`)


def label_fingerprint(conn: sqlite3.Connection) -> tuple:
    """What changes with any decision, read without a paper's row: a star or a status (also of a
    paper made or deleted) adds a row to the decision journal (migration 0018's triggers); the
    tags, notes and highlights, the user's own few thousand, are hashed whole. At 1M papers hashing
    every label's id took most of a second, reading the 20k starred papers' rows 0.1 s."""
    journal = conn.execute("SELECT coalesce(max(seq), 0) FROM decision_changes").fetchone()[0]
    return (journal, hash(frozenset(conn.execute("SELECT paper_id, tag FROM tags"))),
            hash(frozenset(conn.execute("SELECT paper_id FROM notes WHERE trim(body) != ''"))),
            hash(frozenset(conn.execute("SELECT paper_id FROM highlights"))))


def _kept(conn: sqlite3.Connection, tag: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """The positives, and the other kept papers (negatives of a tag's model)."""
    kept = dict(conn.execute(_POSITIVES).fetchall())
    if tag is None:
        return kept, {}
    positives = dict(conn.execute(_TAGGED, (tag,)).fetchall())
    # For "papers like my #rl ones", the user's other keepers are the most telling negatives.
    return positives, {pid: t for pid, t in kept.items() if pid not in positives}


def read_labels(conn: sqlite3.Connection, tag: str | None = None, *, seed: int = 0) -> Labels:
    """Every positive; every archived negative up to MAX_NEGATIVES, past it a third of that many
    decided last (RECENT_SHARE) and a fixed sample of the rest (`_SAMPLE`, `seed` picks another),
    each sampled paper weighing as many of the rest as it stands for. So the fit's loss is the full
    one's in expectation (recent decisions, weighing more by `recency`, are all there), and a fit
    and this read cost the same at any library size."""
    fingerprint = label_fingerprint(conn)  # first: a decision made meanwhile retrains again
    positives, others = _kept(conn, tag)
    kept = id_array(positives | others)
    archived, archived_kept = conn.execute(_ARCHIVED, (kept,)).fetchone()
    total = archived - archived_kept
    if total <= MAX_NEGATIVES:
        negatives = dict(conn.execute(_NEGATIVES).fetchall())
        return Labels(positives, negatives | others, fingerprint=fingerprint)
    recent: dict[str, str] = {}
    enough = int(MAX_NEGATIVES * RECENT_SHARE)
    if enough > 0:
        for pid, t in conn.execute(_RECENTLY_ARCHIVED, (kept,)):
            recent.setdefault(pid, t)
            if len(recent) == enough:
                break
    skip = id_array(itertools.chain(positives, others, recent))
    sampled = dict(conn.execute(_SAMPLE, (seed, skip, MAX_NEGATIVES - len(recent))).fetchall())
    scale = (total - len(recent)) / max(len(sampled), 1)
    return Labels(positives, recent | others, sampled, scale, fingerprint)


def recency(times: Sequence[str], today: dt.date) -> np.ndarray:
    ages = []
    for t in times:
        try:
            ages.append(max((today - dt.date.fromisoformat((t or "")[:10])).days, 0))
        except ValueError:
            ages.append(0)
    return np.maximum(0.5 ** (np.asarray(ages, dtype=np.float32) / HALF_LIFE_DAYS), 0.2)


@dataclass
class Weights:
    """A model's weights: only the features it learnt (a few hundred thousand of the 2^20; the
    rest weigh 0). Kept sparse: a dense copy would be 4 MB per model, made only to score."""
    features: np.ndarray   # int64, sorted
    values: np.ndarray     # float32

    @classmethod
    def of(cls, dense: np.ndarray) -> Weights:
        features = np.flatnonzero(dense)
        return cls(features, dense[features].astype(np.float32))

    def __getitem__(self, idx: np.ndarray | int) -> np.ndarray:
        """The weights of these features (0 for one not learnt)."""
        idx = np.asarray(idx)
        if not len(self.features):
            return np.zeros(idx.shape, dtype=np.float32)
        at = np.minimum(np.searchsorted(self.features, idx), len(self.features) - 1)
        return np.where(self.features[at] == idx, self.values[at], np.float32(0))

    def dense(self) -> np.ndarray:
        full = np.zeros(DIM, dtype=np.float32)
        full[self.features] = self.values
        return full

    @property
    def nbytes(self) -> int:
        return self.features.nbytes + self.values.nbytes


@dataclass
class Model:
    """Weights over features (None: rank by upvotes). `kind` says how it was made."""
    tag: str | None
    kind: str                      # "model" | "similar" | "upvotes"
    positives: int
    negatives: int
    weights: Weights | None = None
    bias: float = 0.0
    fingerprint: tuple = ()
    scores: np.ndarray | None = None   # one per feature-cache row, made on first use
    training_rows: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    sampled: int = 0               # past MAX_NEGATIVES: the archived papers read of `negatives`

    def describe(self) -> str:
        what = f"#{self.tag}" if self.tag else "your interest"
        if self.kind == "model":
            sample = f" (a sample of {self.sampled})" if self.sampled else ""
            return (f"Ranked by a model of {what}, learnt from {self.positives} kept and "
                    f"{self.negatives} archived papers{sample}")
        if self.kind == "similar":
            return (f"Only {self.positives} kept papers for {what} (a model needs {MIN_POSITIVES}): "
                    f"ranked by likeness to them and by upvotes")
        return f"No kept papers for {what} yet: ranked by upvotes"


def _featurised(cache: FeatureCache, ids: list[str]) -> tuple[list[str], np.ndarray]:
    """These of the papers that the cache has, and their rows."""
    rows = cache.rows(ids)
    known = rows >= 0
    return list(itertools.compress(ids, known.tolist())), rows[known]


def train(cache: FeatureCache, labels: Labels, *, today: dt.date, tag: str | None = None,
          previous: Model | None = None, seed: int = 0, conn: sqlite3.Connection | None = None) -> Model:
    """`conn`: the library's, needed when the labels are a sample (past MAX_NEGATIVES): a paper
    archived but not read must not become a weak positive."""
    # Those featurised, in the labels' order (ids looked up at once)
    pos_ids, pos_rows = _featurised(cache, list(labels.positives))
    neg_ids, neg_rows = _featurised(cache, [pid for pid in labels.negatives if pid not in labels.positives])
    smp_ids, smp_rows = _featurised(cache, [pid for pid in labels.sampled if pid not in labels.positives])
    fp = labels.fingerprint
    negatives = len(neg_ids) + round(len(smp_ids) * labels.scale)  # how many the fit stands for
    if not pos_ids:
        return Model(tag, "upvotes", 0, negatives, fingerprint=fp)
    if len(pos_ids) < MIN_POSITIVES:
        return Model(tag, "similar", len(pos_ids), negatives, weights=_centroid(cache, pos_rows),
                     fingerprint=fp, training_rows=pos_rows)
    rng = np.random.default_rng(seed)
    labelled = np.zeros(len(cache.matrix.ids), dtype=bool)
    labelled[pos_rows] = True
    labelled[neg_rows] = True
    labelled[smp_rows] = True
    free = np.flatnonzero(~labelled)  # past MAX_NEGATIVES archived papers too: weak negatives, rightly
    sample = rng.choice(free, size=min(UNLABELLED, len(free)), replace=False) if len(free) else free
    rows = np.concatenate([pos_rows, neg_rows, smp_rows, sample])
    y = np.concatenate([np.ones(len(pos_rows)),
                        np.zeros(len(neg_rows) + len(smp_rows) + len(sample))]).astype(np.float32)
    weight = np.concatenate([
        recency([labels.positives[p] for p in pos_ids], today),
        recency([labels.negatives[p] for p in neg_ids], today),
        recency([labels.sampled[p] for p in smp_ids], today) * np.float32(labels.scale),
        np.full(len(sample), UNLABELLED_WEIGHT, dtype=np.float32)])
    start = previous.weights if previous is not None and previous.kind == "model" else None
    weights, bias = _fit(cache, rows, y, _balanced(y, weight), start,
                         previous.bias if start is not None else 0.0)
    if PSEUDO_POSITIVES and len(free):
        scores = cache.score_all(weights.dense())
        scores[labelled] = -np.inf
        k = min(PSEUDO_POSITIVES, len(free))
        if labels.sampled and conn is not None:
            liked = _best_not_archived(cache, conn, scores, k)
        else:
            best = np.argpartition(-scores, k - 1)[:k]  # the best few (sorting all 100k took ~30 ms)
            liked = best[np.argsort(-scores[best])]
        keep = ~np.isin(rows, liked)
        rows = np.concatenate([rows[keep], liked])
        y = np.concatenate([y[keep], np.ones(len(liked), np.float32)])
        weight = np.concatenate([weight[keep], np.full(len(liked), PSEUDO_WEIGHT, np.float32)])
        weights, bias = _fit(cache, rows, y, _balanced(y, weight), weights, bias)
    return Model(tag, "model", len(pos_ids), negatives, weights=weights, bias=bias,
                 fingerprint=fp, training_rows=np.concatenate([pos_rows, neg_rows, smp_rows]),
                 sampled=len(neg_ids) + len(smp_ids) if labels.sampled else 0)


def _best_not_archived(cache: FeatureCache, conn: sqlite3.Connection, scores: np.ndarray,
                       k: int) -> np.ndarray:
    """The rows of the k best scores whose papers are not archived, best first."""
    n = k
    while True:
        n = min(4 * n, int(np.isfinite(scores).sum()))
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        ids = decoded_ids(cache.matrix.ids[best])
        archived = {pid for (pid,) in conn.execute(
            f"SELECT id FROM papers WHERE status = 'archived' AND id IN {IDS}", (id_array(ids),))}
        liked = best[[pid not in archived for pid in ids]][:k]
        if len(liked) == k or n == int(np.isfinite(scores).sum()):
            return liked


def _balanced(y: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The positives weigh as much in all as the negatives."""
    pos_total, neg_total = weight[y == 1].sum(), weight[y == 0].sum()
    balanced = np.where(y == 1, weight / max(pos_total, 1e-9), weight / max(neg_total, 1e-9)) / 2
    return balanced.astype(np.float32)


def _centroid(cache: FeatureCache, rows: np.ndarray) -> Weights:
    _, idx, val = cache.gather(rows)
    w = np.bincount(idx, weights=val, minlength=DIM).astype(np.float32)
    return Weights.of(w / max(float(np.linalg.norm(w)), 1e-9))


def _fit(cache: FeatureCache, rows: np.ndarray, y: np.ndarray, weight: np.ndarray,
         start: Weights | None, bias: float) -> tuple[Weights, float]:
    """Logistic regression on the rows' features only (a compact copy of the weights).

    The rows' entries are decoded from the packed matrix a block of rows at a time (`TrainingRows`):
    at 1M papers a third of them are archived, ~90M entries, and holding them decoded (feature,
    float64 value, their row, a product and a gradient term each) peaked at 5 GB. Each step sums a
    block's rows and adds its gradient terms in the same order as one pass over all rows would."""
    data = TrainingRows(cache, rows)
    features = data.features
    w = start[features].astype(np.float64) if start is not None else np.zeros(len(features))
    b = float(bias)
    m, v = np.zeros_like(w), np.zeros_like(w)
    mb = vb = 0.0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    z = np.empty(len(rows), dtype=np.float64)
    residual = np.empty(len(rows), dtype=np.float64)
    for step in range(1, STEPS + 1):
        grad = np.zeros(len(features), dtype=np.float64)
        for r0, r1, inverse, val64 in data.blocks():
            lengths = data.lengths[r0:r1]
            zb = z[r0:r1]
            zb[:] = 0
            filled = lengths > 0
            if filled.any():
                starts = (np.cumsum(lengths) - lengths)[filled]
                zb[filled] = np.add.reduceat(w[inverse] * val64, starts)
            zb += b
            p = 1.0 / (1.0 + np.exp(-np.clip(zb, -30, 30)))
            residual[r0:r1] = weight[r0:r1] * (p - y[r0:r1])
            # In the entries' order, as one bincount over all of them would add
            np.add.at(grad, inverse, val64 * np.repeat(residual[r0:r1], lengths))
        grad += L2 * w
        gb = float(residual.sum())
        m *= beta1
        m += (1 - beta1) * grad
        grad *= grad
        v *= beta2
        v += (1 - beta2) * grad
        mb = beta1 * mb + (1 - beta1) * gb
        vb = beta2 * vb + (1 - beta2) * gb * gb
        corr1, corr2 = 1 - beta1 ** step, 1 - beta2 ** step
        w -= (LEARNING_RATE / corr1) * m / (np.sqrt(v / corr2) + eps)
        b -= LEARNING_RATE * (mb / corr1) / (np.sqrt(vb / corr2) + eps)
    return Weights(features.astype(np.int64), w.astype(np.float32)), float(b)


class TrainingRows:
    """The training rows' entries as (local feature number, float64 tf-idf value), FIT_ROWS rows at
    a time, in the rows' order. Read from the matrix once into 4 bytes an entry (the feature's
    place among the rows' features << 4 | its count): values are made per block at each step. Past
    FIT_CACHED_ENTRIES entries (~400 MB) the rest are read from the matrix again at every step."""

    def __init__(self, cache: FeatureCache, rows: np.ndarray):
        self.cache, self.rows = cache, rows
        ptr = cache.matrix.indptr
        self.lengths = ptr[rows + 1] - ptr[rows]
        self.norms = cache.norms[rows]
        self.bounds = [(r0, min(r0 + FIT_ROWS, len(rows))) for r0 in range(0, len(rows), FIT_ROWS)]
        ends = np.cumsum([int(self.lengths[r0:r1].sum()) for r0, r1 in self.bounds], dtype=np.int64)
        self.starts = ends - np.asarray([int(self.lengths[r0:r1].sum()) for r0, r1 in self.bounds],
                                        dtype=np.int64)
        self.kept = int(np.searchsorted(ends, FIT_CACHED_ENTRIES, side="right"))  # blocks held
        self.packed = np.empty(int(ends[self.kept - 1]) if self.kept else 0, dtype=np.uint32)
        present = np.zeros(DIM, dtype=bool)
        for i, (r0, r1) in enumerate(self.bounds):
            idx, high = cache.entries(rows[r0:r1], self.lengths[r0:r1])
            present[idx] = True
            if i < self.kept:
                self.packed[self.starts[i]:self.starts[i] + len(idx)] = idx << 4 | (high & MAX_COUNT)
        self.features = np.flatnonzero(present)
        self.local = np.zeros(DIM, dtype=np.uint32)
        self.local[self.features] = np.arange(len(self.features), dtype=np.uint32)
        self.idf = cache.idf()[self.features]
        for i in range(self.kept):  # global feature numbers -> their places in `features`
            part = self.packed[self.starts[i]:ends[i]]
            part[:] = np.take(self.local, part >> 4) << 4 | (part & MAX_COUNT)

    def blocks(self) -> Iterable[tuple[int, int, np.ndarray, np.ndarray]]:
        """(first row, row stop, local feature numbers, values) for each block of rows."""
        for i, (r0, r1) in enumerate(self.bounds):
            lengths = self.lengths[r0:r1]
            if i < self.kept:
                part = self.packed[self.starts[i]:self.starts[i] + int(lengths.sum())]
                inverse = part >> 4
                tf = np.take(LOG_TF, part & MAX_COUNT)
            else:
                idx, high = self.cache.entries(self.rows[r0:r1], lengths)
                inverse = np.take(self.local, idx)
                tf = np.take(LOG_TF, high & MAX_COUNT)
            values = tf * np.take(self.idf, inverse) / np.repeat(self.norms[r0:r1], lengths)
            yield r0, r1, inverse, values.astype(np.float64)


# -- explanations --------------------------------------------------------------------------------
@dataclass
class Reason:
    name: str
    weight: float


def paper_reasons(cache: FeatureCache, model: Model, paper: dict, n: int = 6) -> list[Reason]:
    """The features of one paper that raised (positive) or lowered (negative) its score."""
    r = cache.row_of.get(paper["id"])
    if r is None or model.weights is None:
        return []
    idx, val = cache.row(r)
    contrib = model.weights[idx] * val
    names = names_of(cache.hasher, paper.get("title") or "", paper.get("abstract") or "",
                     paper.get("organization"), _authors(paper))
    order = np.argsort(contrib)
    ups = [(int(idx[i]), float(contrib[i])) for i in order[::-1][:n] if contrib[i] > 0]
    downs = [(int(idx[i]), float(contrib[i])) for i in order[:n] if contrib[i] < 0]
    return [Reason(names.get(f, f"#{f}"), c) for f, c in ups + downs[: max(n // 2, 1)]]


def model_words(conn: sqlite3.Connection, cache: FeatureCache, model: Model,
                n: int = 10) -> tuple[list[Reason], list[Reason]]:
    """The model's strongest positive and negative features, named from its training papers."""
    if model.weights is None or not len(model.training_rows):
        return [], []
    ids = decoded_ids(cache.matrix.ids[model.training_rows[:3000]])
    names: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        for row in conn.execute(f"SELECT id, title, abstract, organization, authors FROM papers "
                                f"WHERE id IN {IDS}", (id_array(part),)):
            paper = dict(zip(("id", "title", "abstract", "organization", "authors"), row, strict=True))
            abstract = abstract_text.decode(paper["abstract"])
            for f, name in names_of(cache.hasher, paper["title"] or "", abstract,
                                    paper["organization"], _authors(paper)).items():
                names.setdefault(f, name)
    known = np.fromiter(names, dtype=np.int64, count=len(names))
    w = model.weights[known]
    order = np.argsort(w)
    top = [Reason(names[int(known[i])], float(w[i])) for i in order[::-1][:n] if w[i] > 0]
    bottom = [Reason(names[int(known[i])], float(w[i])) for i in order[:n] if w[i] < 0]
    return top, bottom


def _authors(paper: dict) -> list[str]:
    authors = paper.get("authors") or []
    if isinstance(authors, str):
        try:
            authors = json.loads(authors)
        except ValueError:
            authors = []
    return [a for a in authors if isinstance(a, str)]


def format_reasons(reasons: Sequence[Reason]) -> str:
    """"diffusion, video distillation, +org Tencent; −survey"."""
    ups = ", ".join(r.name for r in reasons if r.weight > 0)
    downs = ", ".join(f"−{r.name}" for r in reasons if r.weight < 0)
    return "; ".join(part for part in (ups, downs) if part)
