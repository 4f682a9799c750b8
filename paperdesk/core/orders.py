"""The paper lists' sort orders, defined once: the SQL that lists a view (`ORDERS`) and the Python
key that places a paper in a list already sorted (`sort_key`: the desk patches a few papers into a
100k-paper list after a change instead of listing it again). Both come from the same terms, so they
cannot disagree.

Each order runs newest or most first where that is what people want (date, added, upvotes), and
ends with the id: ties break the same way every time, so pages of a list are stable. The SQL strings
are exactly what the list-order indexes cover (schema 0002/0003/0013; tests/test_library.py checks
the plans).
"""

from __future__ import annotations

from collections.abc import Mapping

# (column, descending, nulls last) per term; ascending terms put NULL first, as SQLite does.
_TERMS: dict[str, tuple[tuple[str, bool, bool], ...]] = {
    "date": (("published", True, True), ("added_at", True, False), ("id", False, False)),
    "added": (("added_at", True, False), ("id", False, False)),
    "upvotes": (("upvotes", True, True), ("id", False, False)),
    "title": (("title_norm", False, False), ("id", False, False)),
}
NEWEST_FIRST = frozenset(name for name, terms in _TERMS.items() if terms[0][1])  # date, added, upvotes
KEY_COLUMNS = tuple(dict.fromkeys(column for terms in _TERMS.values() for column, _d, _n in terms))


def _sql(terms: tuple[tuple[str, bool, bool], ...]) -> str:
    parts = []
    for column, descending, nulls_last in terms:
        if nulls_last:
            parts.append(f"p.{column} IS NULL")
        parts.append(f"p.{column} DESC" if descending else f"p.{column}")
    return ", ".join(parts)


# ORDER BY clauses over `papers p`, by order name.
ORDERS: dict[str, str] = {name: _sql(terms) for name, terms in _TERMS.items()}


class _Desc:
    """Reverses the order of a value inside a sort-key tuple."""

    __slots__ = ("v",)

    def __init__(self, v: object):
        self.v = v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.v == other.v

    def __lt__(self, other: _Desc) -> bool:
        return other.v < self.v  # type: ignore[operator]

    __hash__ = None  # type: ignore[assignment]


def sort_key(order: str, row: Mapping[str, object]) -> tuple:
    """A key that sorts papers' rows (with `KEY_COLUMNS`) as `ORDERS[order]` sorts them in SQL."""
    key: list[object] = []
    for column, descending, nulls_last in _TERMS[order]:
        value = row[column]
        if nulls_last:  # "x IS NULL, x DESC": values first, NULLs after them all
            key.append(value is None)
            if value is None:
                continue
        if descending:
            key.append(_Desc(value))
        else:  # ascending: SQLite puts NULL first
            key.append((value is not None, "" if value is None else value))
    return tuple(key)
