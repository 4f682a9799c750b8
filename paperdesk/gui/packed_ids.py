"""A whole view's ids as one bytes object and an offsets array, not one Python string per paper.

At a million papers a view's id list as a tuple of str is ~70 MB (the desk keeps several: the list
shown, the id cache) and making it holds the GIL ~0.1-0.3 s (splitting 1M strings), which stalls the
GUI thread. Packed, the same list is ~12 MB of UTF-8 (`Library.paper_ids_joined`) plus 8 bytes of
offset per id, made by numpy with the GIL mostly released. Rows are decoded as the list shows them
(a page at a time); `index` is one `bytes.find`; a few ids leaving or entering make a new packed list
by slicing (`edited`), never a list of every id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import overload

import numpy as np

SEP = 0x1F  # `Library.paper_ids_joined`'s separator; never in a paper id


class PackedIds(Sequence[str]):
    __slots__ = ("blob", "starts")

    def __init__(self, joined: bytes):
        self.blob = joined
        # starts[i]: where id i begins; starts[-1]: one past the end (as if a separator followed)
        seps = np.flatnonzero(np.frombuffer(joined, np.uint8) == SEP) if joined else ()
        self.starts = np.empty(len(seps) + 2 if joined else 1, np.int64)
        self.starts[0] = 0
        if joined:
            np.add(seps, 1, out=self.starts[1:-1])
            self.starts[-1] = len(joined) + 1

    @classmethod
    def of(cls, ids: Iterable[str]) -> PackedIds:
        return cls(bytes([SEP]).join(i.encode() for i in ids))

    def __len__(self) -> int:
        return len(self.starts) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[str, ...]: ...

    def __getitem__(self, i: int | slice) -> str | tuple[str, ...]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step == 1:
                if stop <= start:
                    return ()
                a, b = int(self.starts[start]), int(self.starts[stop])
                return tuple(self.blob[a:b - 1].decode().split("\x1f"))
            return tuple(self[j] for j in range(start, stop, step))
        n = len(self)
        if not -n <= i < n:
            raise IndexError(i)
        i %= n
        return self.blob[int(self.starts[i]):int(self.starts[i + 1]) - 1].decode()

    def __iter__(self) -> Iterator[str]:
        return iter(self.blob.decode().split("\x1f") if self.blob else ())

    def _find(self, value: object) -> int:
        """The row of `value`, or -1."""
        if not isinstance(value, str) or not self.blob or "\x1f" in value:
            return -1
        needle = value.encode()
        at = 0
        while True:
            found = self.blob.find(needle, at)
            if found < 0:
                return -1
            end = found + len(needle)
            blob = self.blob  # a whole id: a separator (or an end) on both sides
            if (found == 0 or blob[found - 1] == SEP) and (end == len(blob) or blob[end] == SEP):
                return int(np.searchsorted(self.starts, found, side="right")) - 1
            at = found + 1

    def index(self, value: object, start: int = 0, stop: int | None = None) -> int:
        row = self._find(value)  # (a view lists a paper once)
        if row < start or (stop is not None and row >= stop):
            raise ValueError(f"{value!r} is not in the list")
        return row

    def __contains__(self, value: object) -> bool:
        return self._find(value) >= 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedIds):
            return self.blob == other.blob
        if isinstance(other, tuple):
            return len(other) == len(self) and tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.blob)

    def reversed(self) -> PackedIds:
        """The list backwards (a view shown against the library's order; this one makes an object
        per id for a moment, on the reader thread)."""
        return PackedIds(bytes([SEP]).join(self.blob.split(bytes([SEP]))[::-1])) if self.blob else self

    def edited(self, leaving: Iterable[str] = (), entering: Sequence[tuple[int, str]] = ()) -> PackedIds:
        """A new list without `leaving` and with each (row, id) of `entering` put before the paper at
        `row` of this list (rows past the end append; one row's ids in the order given): made of
        slices of this one's bytes and offsets, no object per id."""
        n = len(self)
        ops = sorted([(min(max(row, 0), n), 0, k, pid) for k, (row, pid) in enumerate(entering)]
                     + [(row, 1, 0, "") for row in {self._find(pid) for pid in leaving} if row >= 0])
        if not ops:
            return self
        view = memoryview(self.blob + bytes([SEP]))  # every id followed by its separator
        starts = self.starts
        pieces: list[bytes | memoryview] = []
        offsets: list[np.ndarray] = []
        size = 0  # bytes of the new list so far
        done = 0  # rows of this list copied or dropped so far

        def copy_to(row: int) -> None:
            nonlocal size, done
            if row > done:
                a, b = int(starts[done]), int(starts[row])
                pieces.append(view[a:b])
                offsets.append(starts[done:row] - a + size)
                size, done = size + b - a, row

        for row, drop, _k, pid in ops:
            copy_to(row)
            if drop:
                done = row + 1
            else:
                offsets.append(np.array([size], np.int64))
                pieces.append(pid.encode() + bytes([SEP]))
                size += len(pieces[-1])
        copy_to(n)
        edited = PackedIds.__new__(PackedIds)
        edited.blob = b"".join(pieces)[:-1]
        edited.starts = np.concatenate([*offsets, np.array([size], np.int64)])
        return edited
