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
from collections.abc import Iterable, Sequence
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


def decoded_ids(ids: np.ndarray) -> list[str]:
    """And back: a fixed-width bytes array of ids as a list of str."""
    return [pid.decode() for pid in ids.tolist()]
