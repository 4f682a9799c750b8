"""A big view's ids while the reader thread reads them all: the first rows and the count now.

Switching to a 100k-paper view read its whole id list on the GUI thread: ~60 ms of SQLite at
100k papers, most of a switch. The count and the first rows take ~10 ms; the list shows them,
and the reader's whole list replaces this one without a reset when it agrees (`PaperList`).

Anything that needs more before then (scrolling past the head, patching the list, an export or a
triage session over it) reads the whole list here first, on the GUI thread, as before. The length
stays the count Qt was given: should the library have changed in between (its `Changes` are on
their way, and re-query), rows past the end read as missing papers until then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import overload


class LazyIds(Sequence[str]):
    def __init__(self, head: tuple[str, ...], total: int, read_all: Callable[[], tuple[str, ...]]):
        self.head = head
        self.total = total
        self._read_all = read_all
        self._full: tuple[str, ...] | None = None

    @property
    def complete(self) -> bool:
        return self._full is not None

    def full(self) -> tuple[str, ...]:
        if self._full is None:
            self._full = self._read_all()
        return self._full

    def agrees(self, ids: tuple[str, ...]) -> bool:
        """Whether `ids` can replace this list without Qt noticing: same length, same first rows."""
        return len(ids) == self.total and ids[:len(self.head)] == self.head

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...

    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        n = len(self.head)
        if self._full is None:
            if isinstance(i, slice):
                start, stop, step = i.indices(self.total)
                if step == 1 and stop <= n:
                    return self.head[start:stop]
            elif 0 <= i < n:
                return self.head[i]
        full = self.full()
        if isinstance(i, slice):
            if len(full) == self.total:
                return full[i]
            return tuple(self[j] for j in range(*i.indices(self.total)))  # padded, as below
        if not -self.total <= i < self.total:
            raise IndexError(i)
        i %= self.total
        return full[i] if i < len(full) else ""  # the library shrank meanwhile: a missing paper

    def __iter__(self) -> Iterator[str]:
        return iter(self.head if self.total == len(self.head) else self.full())

    def index(self, value: object, start: int = 0, stop: int | None = None) -> int:
        if start == 0 and stop is None and value in self.head:
            return self.head.index(value)
        return self.full().index(value, start, len(self.full()) if stop is None else stop)

    def __contains__(self, value: object) -> bool:
        return value in self.head or value in self.full()
