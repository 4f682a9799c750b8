"""The index searched through Whoosh's public API only: the stock path, used when the installed
Whoosh is not one `whoosh_internals` was written for (or it is turned off). Same interface as
`evaluator.IndexView`; matching and scoring are Whoosh's own (`searcher.search`), columns and ids
come from its public readers. Slower than the evaluator, never wrong."""

from __future__ import annotations

from typing import Any

import numpy as np

from paperdesk.core.search.evaluator import Column, Matches, gather_column


class StockView:
    """One searcher's documents, answered by Whoosh itself."""

    def __init__(self, searcher: Any):
        self.searcher = searcher
        self.schema = searcher.schema
        self.leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.doc_count_all = searcher.doc_count_all()
        self._live = np.zeros(self.doc_count_all, dtype=bool)
        self._live[list(searcher.reader().all_doc_ids())] = True
        self._columns: dict[str, Column] = {}
        self._docnum_of: dict[str, int] | None = None

    def warm(self) -> None:
        """(Whoosh reads what a search needs as it goes.)"""

    def evaluate(self, query: Any) -> Matches:
        """Every matching document with its score, from Whoosh's matchers."""
        mask = np.zeros(self.doc_count_all, dtype=bool)
        scores = np.zeros(self.doc_count_all)
        for docnum, score in self.searcher.search(query, limit=None).items():
            mask[docnum] = True
            scores[docnum] = score
        return Matches(mask, scores)

    def column(self, fieldname: str) -> Column:
        """A sortable numeric field, per global docnum: (has a value, the value or 0)."""
        found = self._columns.get(fieldname)
        if found is None:
            found = self._columns[fieldname] = gather_column(
                self.schema[fieldname], fieldname, self.leaves, self.doc_count_all,
                lambda reader: np.array(list(reader.column_reader(fieldname, translate=False)),
                                        dtype=np.int64))
        return found

    def value(self, fieldname: str, docnum: int) -> int | None:
        has, values = self.column(fieldname)
        return int(values[docnum]) if has[docnum] else None

    def live(self) -> np.ndarray:
        return self._live

    def paper_id(self, docnum: int) -> str:
        return self.searcher.stored_fields(docnum)["id"]

    def mask_of(self, paper_ids: list[str]) -> np.ndarray:
        """The (live) documents of these papers, as a mask."""
        if self._docnum_of is None:
            self._docnum_of = {fields["id"]: d for d, fields in self.searcher.reader().iter_docs()}
        docnums = [d for d in map(self._docnum_of.get, paper_ids) if d is not None]
        mask = np.zeros(self.doc_count_all, dtype=bool)
        mask[docnums] = True
        return mask
