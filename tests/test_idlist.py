"""core/idlist.py: id lists to SQL and back, and as numpy arrays of fixed-width bytes."""

from __future__ import annotations

import sqlite3

import numpy as np

from paperdesk.core.idlist import ID_ROWS, id_array, id_bytes, joined_ids, split_ids


def test_ids_come_back_from_sql_in_order_as_text_and_as_arrays():
    ids = ["2508.00001", "a1b2c3d4e5f6", "x", "2501.12345v2", "éa", ""]
    conn = sqlite3.connect(":memory:")
    blob = conn.execute(joined_ids(f"SELECT j.value AS id FROM {ID_ROWS} ORDER BY j.key"),
                        (id_array(ids),)).fetchone()[0]
    assert split_ids(blob) == ids
    found = id_bytes(blob)
    assert found.dtype == np.dtype(f"S{max(len(i.encode()) for i in ids)}")
    assert [b.decode() for b in found.tolist()] == ids  # shorter ones padded, read back whole
    order = np.argsort(found, kind="stable")
    binary = sorted(ids, key=str.encode)  # SQLite's BINARY order
    assert [ids[i] for i in order] == binary
    assert np.searchsorted(found[order], np.array([b"x"])).tolist() == [binary.index("x")]
    assert len(id_bytes(None)) == len(id_bytes(b"")) == 0


def test_many_ids_are_made_a_chunk_at_a_time():
    from paperdesk.core.idlist import ID_SEPARATOR

    ids = [f"{n:0{1 + n % 7}x}" for n in range(70_000)]  # lengths 1-7, across chunks
    assert [b.decode() for b in id_bytes(ID_SEPARATOR.join(ids).encode()).tolist()] == ids
