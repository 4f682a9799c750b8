"""The one way to hand a list of ids to SQL: ONE parameter, a JSON array, read by `json_each`.

    conn.execute(f"SELECT … FROM papers WHERE id IN {IDS}", (id_array(ids),))
    conn.execute(f"SELECT p.… FROM {ID_ROWS} CROSS JOIN papers p ON p.id = j.value ORDER BY j.key", …)

Why this and not the others: `IN (?, ?, …)` needs a new statement text for every length (no
statement cache) and chunks under SQLite's variable limit; a temporary table has to be created,
filled and dropped, and the desk's readers are `query_only`. One JSON parameter works for any
length on any connection, and `ID_ROWS` keeps the caller's order (`j.key`): with a CROSS JOIN each
id is looked up by key (measured: half the time of an `IN` list for a page of the paper list).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy loads when an array of ids is first made
    import numpy as np

IDS = "(SELECT value FROM json_each(?))"  # `x IN {IDS}`
ID_ROWS = "json_each(?) AS j"  # the ids as rows: j.value, j.key (the place in the list)


def id_array(ids: Iterable[str | int]) -> str:
    """The parameter for `IDS` / `ID_ROWS`."""
    return json.dumps(list(ids))


# And back: a long id list comes out of SQL as one blob of ids joined by ID_SEPARATOR.
ID_SEPARATOR = "\x1f"  # never in a paper id (arXiv ids, hex hashes)


def joined_ids(sql: str) -> str:
    """SQL for one row: the ids that `sql` lists (a column `id`), in its order, as one blob.
    SQLite builds the text with the GIL released (row by row, Python held it for each of 100k
    rows), and a blob comes back as a copy (no decoding). An ordered subquery with a LIMIT is not
    flattened: group_concat sees its rows in order (tested)."""
    return f"SELECT CAST(group_concat(id, char(31)) AS BLOB) FROM ({sql} LIMIT -1)"


def split_ids(blob: bytes | None) -> list[str]:
    """The ids of a `joined_ids` blob."""
    return blob.decode().split(ID_SEPARATOR) if blob else []


def id_bytes(blob: bytes | None, separator: str = ID_SEPARATOR) -> np.ndarray:
    """The ids of a `joined_ids` blob (or of any text of ids joined by `separator`) as one
    fixed-width bytes array (numpy "S"): a million ids in ~12 MB and no object per id, sortable
    and searchable by numpy."""
    import numpy as np

    raw = np.frombuffer(blob or b"", dtype=np.uint8)
    if not len(raw):
        return np.zeros(0, dtype="S1")
    ends = np.append(np.flatnonzero(raw == ord(separator)), len(raw))
    starts = np.concatenate(([0], ends[:-1] + 1))
    return fixed_width(raw, starts, ends - starts)


def fixed_width(raw: np.ndarray, starts: np.ndarray, lengths: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """The byte strings `raw[start:start + length]` as a fixed-width bytes array (shorter ones
    padded with NUL, which numpy's comparisons ignore), made a chunk of strings at a time."""
    import numpy as np

    width = max(int(lengths.max(initial=0)), 1)
    out = np.zeros((len(starts), width), dtype=np.uint8)
    columns = np.arange(width)
    for at in range(0, len(starts), chunk):
        part = slice(at, at + chunk)
        inside = columns < lengths[part, None]
        places = np.minimum(starts[part, None] + columns, max(len(raw) - 1, 0))
        out[part] = np.where(inside, raw[places], 0) if len(raw) else 0
    return out.view(f"S{width}").ravel()


def encoded_ids(ids: Sequence[str]) -> np.ndarray:
    """Ids (str) as a fixed-width bytes array of their UTF-8 (numpy encodes ASCII itself)."""
    import numpy as np

    if not len(ids):
        return np.zeros(0, dtype="S1")
    try:
        return np.array(ids, dtype="S")
    except UnicodeEncodeError:
        return np.array([pid.encode() for pid in ids], dtype="S")


ENCODED_AT_ONCE = 5000  # ids encoded per numpy call (~0.5 ms with the GIL held)


def encoded_in_slices(ids: Sequence[str]) -> np.ndarray:
    """`encoded_ids` of a long list a slice at a time: one call for 666k ids held the GIL ~100 ms
    (a stall of the desk's GUI thread when it ran on a reader thread)."""
    import numpy as np

    parts = [encoded_ids(ids[start:start + ENCODED_AT_ONCE]) for start in range(0, len(ids), ENCODED_AT_ONCE)]
    return np.concatenate(parts) if parts else encoded_ids([])


def decoded_ids(ids: np.ndarray) -> list[str]:
    """And back: a fixed-width bytes array of ids as a list of str."""
    return [pid.decode() for pid in ids.tolist()]


def id_hashes(ids: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each id of a fixed-width bytes array, whatever the array's width (its NUL
    padding is skipped): the ids read as 8-byte words, each mixed in by a multiply."""
    import numpy as np

    width = -(-max(ids.dtype.itemsize, 1) // 8) * 8
    words = np.ascontiguousarray(ids, dtype=f"S{width}").view(np.uint64).reshape(len(ids), width // 8)
    out = np.full(len(ids), 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in words.T:
            mixed = (out ^ column) * np.uint64(0x9E3779B97F4A7C15)
            mixed ^= mixed >> np.uint64(29)
            out = np.where(column != 0, mixed, out)  # a word of padding only: as if not there
    return out


class RowIndex:
    """Paper id -> its row in the matrix, answering as the dict {id: row} did (a paper featurised
    twice, by two processes at once, has its last row) without an object per id: the ids' 64-bit
    hashes sorted and each one's row, found by binary search and checked against the matrix's own
    ids array. 1M papers: 12 MB beside the ids array (12 MB), where a list of str and a dict held
    128 MB; 666k ids are looked up in about the dict's time (the searches release the GIL)."""

    def __init__(self, ids: np.ndarray):
        import numpy as np

        self.ids = ids  # the matrix's, in row order (not a copy)
        hashes = id_hashes(ids)
        order = np.argsort(hashes, kind="stable")  # an id's rows ascending
        hashes = hashes[order]
        keep = np.ones(len(ids), dtype=bool)
        # Runs of one hash: a paper featurised twice (keeps its last row) or, rarely, two ids alike
        same = np.flatnonzero(hashes[1:] == hashes[:-1])
        twice = ids[order[same + 1]] == ids[order[same]]
        keep[same[twice]] = False
        for h in np.unique(hashes[same[~twice]]).tolist():  # runs of other ids too: each id's last row
            lo, hi = np.searchsorted(hashes, np.uint64(h)), np.searchsorted(hashes, np.uint64(h), "right")
            for at in range(lo, hi):
                keep[at] = not (ids[order[at + 1:hi]] == ids[order[at]]).any()
        self.hashes = hashes[keep]
        self.sorted_rows = order[keep].astype(np.int32 if len(ids) < 2**31 else np.int64)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The row of each id of a fixed-width bytes array, -1 for one not in the matrix."""
        import numpy as np

        if not len(self.hashes) or not len(keys):
            return np.full(len(keys), -1, dtype=np.int64)
        wanted = id_hashes(keys)
        by_key = np.argsort(wanted)  # neighbouring searches share the array's cached pages
        wanted = wanted[by_key]
        at = np.minimum(np.searchsorted(self.hashes, wanted), len(self.hashes) - 1)
        rows = self.sorted_rows[at].astype(np.int64)
        found = (self.hashes[at] == wanted) & (self.ids[rows] == keys[by_key])
        rows[~found] = -1
        missed = np.flatnonzero(~found)
        later = np.minimum(at[missed] + 1, len(self.hashes) - 1)
        in_run = (at[missed] + 1 < len(self.hashes)) & (self.hashes[later] == wanted[missed])
        for i in missed[in_run].tolist():
            # ids of one hash: the key's row may be further in the run
            stop = np.searchsorted(self.hashes, wanted[i], side="right")
            run = self.sorted_rows[at[i] + 1:stop]
            match = run[self.ids[run] == keys[by_key[i]]]
            rows[i] = match[0] if len(match) else -1
        out = np.empty(len(keys), dtype=np.int64)
        out[by_key] = rows
        return out

    def get(self, pid: str, default: int | None = None) -> int | None:
        r = int(self.find(encoded_ids([pid]))[0])
        return default if r < 0 else r

    def __getitem__(self, pid: str) -> int:
        r = self.get(pid)
        if r is None:
            raise KeyError(pid)
        return r

    def __contains__(self, pid: object) -> bool:
        return isinstance(pid, str) and self.get(pid) is not None

    def __len__(self) -> int:
        return len(self.hashes)

    def rows(self) -> np.ndarray:
        """Each id's row (its last, for an id twice), ascending."""
        return self.sorted_rows[self.sorted_rows.argsort()]

    def __iter__(self) -> Iterator[str]:
        """The ids in row order."""
        return iter(decoded_ids(self.ids[self.rows()]))

    def items(self) -> Iterator[tuple[str, int]]:
        rows = self.rows()
        return zip(decoded_ids(self.ids[rows]), rows.tolist(), strict=True)
