"""The library's ranker: keeps features in step, retrains when labels change, orders and explains.

One `Ranker` belongs to one connection's thread, like the `Library` it hangs off (`lib.ranker`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperdesk.core.heap import release_freed_memory
from paperdesk.core.idlist import IDS, RowIndex, encoded_ids, id_array
from paperdesk.core.rank import model as m
from paperdesk.core.rank.features import FeatureCache, Progress
from paperdesk.core.timeutil import today as today_fn

# Cold start: likeness to one or two kept papers is a noisy signal; upvotes are a fair prior. Both
# standardised, then added with this weight for upvotes (bench_rank --quality, 10 decisions, 10 seeds:
# p@20 0.273 -> 0.336, above upvotes alone 0.300 and the arxiv-sanity recipe 0.280).
UPVOTES_PRIOR = 1.0


@dataclass
class Ranked:
    ids: list[str]
    scores: list[float]
    model: m.Model

    @property
    def message(self) -> str:
        return self.model.describe()


class Places(Mapping[str, int]):
    """Each featurised paper's place in the library by a model, 0-100 (above this % of it), looked
    up by id: one byte per row beside the feature cache's row index, where a {id: place} dict of
    1M papers held ~150 MB of str and int objects in the desk."""

    def __init__(self, row_of: RowIndex, by_row: np.ndarray):
        self.row_of, self.by_row = row_of, by_row  # the index is replaced, never changed, on refresh

    def __getitem__(self, pid: str) -> int:
        return int(self.by_row[self.row_of[pid]])

    def get(self, pid: object, default: object = None) -> object:
        row = self.row_of.get(pid) if isinstance(pid, str) else None
        return default if row is None else int(self.by_row[row])

    def __len__(self) -> int:
        return len(self.row_of)

    def __iter__(self) -> Iterator[str]:
        return iter(self.row_of)


def _standardised(values: np.ndarray) -> np.ndarray:
    """Zero mean, unit spread over the finite values (-inf, a paper not featurised, stays last)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return values
    return (values - finite.mean()) / max(float(finite.std()), 1e-9)


class Ranker:
    def __init__(self, folder: Path, conn: sqlite3.Connection):
        self.conn = conn
        self.cache = FeatureCache(folder)
        self._models: dict[str | None, m.Model] = {}

    def refresh(self, progress: Progress | None = None) -> None:
        """Featurise new papers and retrain the models whose labels changed."""
        self.cache.refresh(self.conn, progress)
        for tag in list(self._models):
            self.model(tag, refresh=False)

    def model(self, tag: str | None = None, *, refresh: bool = True, retrain: bool = True) -> m.Model:
        """The model of `tag` (None: interest). `retrain=False` takes the last one trained as it is
        (the desk's explanations between its debounced retrainings)."""
        if not retrain and tag in self._models:
            return self._models[tag]
        if refresh:
            self.cache.refresh(self.conn)
        known = self._models.get(tag)
        if known is not None and known.fingerprint == m.label_fingerprint(self.conn) and \
                (known.scores is None or len(known.scores) == len(self.cache.matrix.ids)):
            return known
        labels = m.read_labels(self.conn, tag)
        model = m.train(self.cache, labels, today=today_fn(), tag=tag, previous=known, conn=self.conn)
        self._score(model)  # with the training, not the first ranking: a ranking reads kept scores
        self._models[tag] = model
        return model

    def _score(self, model: m.Model) -> None:
        """Every featurised paper's score by this model (100k papers: ~25M entries, ~0.1 s)."""
        if model.weights is not None:
            model.scores = self.cache.score_all(model.weights.dense()) + np.float32(model.bias)
        release_freed_memory()

    def scores(self, ids: Sequence[str], tag: str | None = None, *,
               model: m.Model | None = None) -> np.ndarray:
        """A score per paper, higher is more interesting (comparable within one call only).
        `model`: one the caller already has (each `model()` call re-reads the labels)."""
        model = model or self.model(tag)
        if model.weights is None:
            upvotes = dict(self._upvotes(ids))
            return np.asarray([upvotes.get(pid) or 0 for pid in ids], dtype=np.float32)
        if model.scores is None or len(model.scores) != len(self.cache.matrix.ids):
            self._score(model)
        rows = self.cache.rows(ids)
        scores = np.where(rows >= 0, model.scores[np.maximum(rows, 0)], -np.inf)
        if model.kind == "similar" and UPVOTES_PRIOR and len(ids) > 1:
            upvotes = dict(self._upvotes(ids))
            prior = np.log1p(np.asarray([upvotes.get(pid) or 0 for pid in ids], dtype=np.float32))
            scores = _standardised(scores) + UPVOTES_PRIOR * _standardised(prior)
        return scores

    def places(self, model: m.Model) -> Places:
        """Every featurised paper's place in the library by this model (as `scores` orders them),
        without a list of all ids: the model's kept scores by row, and for a "similar" model each
        row's upvotes read a block of papers at a time."""
        row_of = self.cache.row_of
        rows = row_of.rows().astype(np.int64)
        if model.scores is None or len(model.scores) != len(self.cache.matrix.ids):
            self._score(model)
        scores = model.scores[rows] if model.scores is not None else np.zeros(len(rows), np.float32)
        if model.kind == "similar" and UPVOTES_PRIOR and len(rows) > 1:
            upvotes = np.zeros(len(model.scores), dtype=np.float32)
            cursor = self.conn.execute("SELECT id, upvotes FROM papers")
            while block := cursor.fetchmany(50_000):
                found = row_of.find(encoded_ids([pid for pid, _ in block]))
                known = found >= 0
                upvotes[found[known]] = np.asarray([u or 0 for _, u in block], np.float32)[known]
            scores = _standardised(scores) + UPVOTES_PRIOR * _standardised(np.log1p(upvotes[rows]))
        by_place = np.empty(len(rows), dtype=np.int64)
        by_place[np.argsort(scores, kind="stable")] = np.arange(len(rows))
        by_row = np.zeros(len(self.cache.matrix.ids), dtype=np.uint8)
        by_row[rows] = by_place * 100 // max(len(rows) - 1, 1)
        return Places(row_of, by_row)

    def order(self, ids: Sequence[str], tag: str | None = None) -> list[str]:
        """These papers, most interesting first (ties keep their given order)."""
        if not ids:
            return []
        scores = self.scores(ids, tag)
        return [ids[i] for i in np.argsort(-scores, kind="stable")]

    def rank(self, ids: Sequence[str], tag: str | None = None, limit: int | None = None) -> Ranked:
        model = self.model(tag)
        scores = self.scores(ids, tag, model=model)
        order = np.argsort(-scores, kind="stable")[:limit]
        # (Not order.tolist(): 100k int objects at once left the heap ~0.7 MB bigger.)
        return Ranked([ids[i] for i in order], scores[order].tolist(), model)

    def explain(self, paper: dict, tag: str | None = None, *, retrain: bool = True) -> list[m.Reason]:
        return m.paper_reasons(self.cache, self.model(tag, retrain=retrain), paper)

    def words(self, tag: str | None = None, n: int = 10) -> tuple[list[m.Reason], list[m.Reason]]:
        return m.model_words(self.conn, self.cache, self.model(tag), n)

    def _upvotes(self, ids: Sequence[str]) -> list[tuple[str, int | None]]:
        sql = f"SELECT id, upvotes FROM papers WHERE id IN {IDS}"
        return self.conn.execute(sql, (id_array(ids),)).fetchall()
