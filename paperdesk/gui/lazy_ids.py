"""A big view's ids while a reader thread reads them all: the first rows and the count now.

Switching to a 100k-paper view read its whole id list on the GUI thread: ~60 ms of SQLite at
100k papers, most of a switch. The count and the first rows take ~10 ms; the list shows them,
and the completer's whole list replaces this one without a reset when it agrees (`PaperList`).

The rest always comes from the completer (the reader that `deliver`s it): the GUI thread runs no
query for it. Anything that needs a row past the head sooner (scrolling there, patching the list,
an export or a triage session over it) waits for that answer, which is already on its way. A row
the answer does not have (the library shrank meanwhile: its `Changes` are on their way, and
re-query) is None, no paper: never a made-up id.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import overload

from paperdesk.core import LibraryError

WAIT_S = 30.0  # a reader that has not answered by then is stuck: say so instead of freezing


class LazyIds(Sequence[str | None]):
    def __init__(self, head: tuple[str, ...], total: int):
        self.head = head
        self.total = total
        self._full: Sequence[str] | None = None
        self._answered = threading.Event()

    def deliver(self, ids: Sequence[str] | None) -> None:
        """The whole list (None: the read failed; else a `PackedIds`), from the reader thread that
        read it."""
        self._full = ids
        self._answered.set()

    @property
    def complete(self) -> bool:
        return self._full is not None

    def full(self) -> Sequence[str]:
        """The whole list: the reader's answer, waited for if it has not come yet."""
        if not self._answered.wait(WAIT_S) or self._full is None:
            raise LibraryError("the list of this view could not be read; switch views to try again")
        return self._full

    def agrees(self, ids: Sequence[str]) -> bool:
        """Whether `ids` can replace this list without Qt noticing: same length, same first rows."""
        return len(ids) == self.total and ids[:len(self.head)] == self.head

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, i: int) -> str | None: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[str | None]: ...

    def __getitem__(self, i: int | slice) -> str | Sequence[str | None] | None:
        if isinstance(i, slice):
            start, stop, step = i.indices(self.total)
            if self._full is None and step == 1 and stop <= len(self.head):
                return self.head[start:stop]
            return tuple(self[j] for j in range(start, stop, step))
        if not -self.total <= i < self.total:
            raise IndexError(i)
        i %= self.total
        if i < len(self.head) and self._full is None:
            return self.head[i]
        full = self.full()
        return full[i] if i < len(full) else None

    def __iter__(self) -> Iterator[str | None]:
        return iter(self.head if self.total == len(self.head) else self.full())

    def index(self, value: object, start: int = 0, stop: int | None = None) -> int:
        if start == 0 and stop is None and value in self.head:
            return self.head.index(value)
        full = self.full()
        return full.index(value, start, len(full) if stop is None else stop)

    def __contains__(self, value: object) -> bool:
        return value in self.head or value in self.full()
