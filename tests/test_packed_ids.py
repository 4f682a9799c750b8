"""PackedIds: a whole view's ids as bytes + offsets behaves as the tuple of str it replaces."""

from __future__ import annotations

import pytest

from paperdesk.core import Library
from paperdesk.gui.packed_ids import PackedIds
from paperdesk.gui.views import ALL, INBOX

# Ids that contain one another (a find must match whole ids only), arXiv and hash shapes.
IDS = ("2401.00001", "401.0000", "2401.0000", "hep-th/9901001", "0f3de6f3eaa0", "f3de6f3e", "x")


def test_reads_as_the_tuple_it_packs() -> None:
    ids = PackedIds.of(IDS)
    assert len(ids) == len(IDS) and tuple(ids) == IDS and list(iter(ids)) == list(IDS)
    assert [ids[i] for i in range(-len(IDS), len(IDS))] == list(IDS + IDS)
    assert ids[2:5] == IDS[2:5] and ids[5:2] == () and ids[::2] == IDS[::2] and ids[:100] == IDS
    with pytest.raises(IndexError):
        ids[len(IDS)]
    assert ids == PackedIds.of(IDS) and ids == IDS and ids != PackedIds.of(IDS[:-1])


def test_index_and_membership_match_whole_ids_only() -> None:
    ids = PackedIds.of(IDS)
    for n, pid in enumerate(IDS):
        assert ids.index(pid) == n and pid in ids
    for absent in ("401.00001", "2401", "0f3de6f3eaa", "de6f3e", "", "9901001", "x\x1fy", 5):
        assert absent not in ids
        with pytest.raises(ValueError):
            ids.index(absent)
    with pytest.raises(ValueError):
        ids.index("x", 0, len(IDS) - 1)
    empty = PackedIds(b"")
    assert len(empty) == 0 and tuple(empty) == () and "x" not in empty


def test_edited_removes_and_inserts_by_row() -> None:
    ids = PackedIds.of(IDS)
    kept = tuple(i for i in IDS if i not in ("401.0000", "x"))
    assert tuple(ids.edited(["401.0000", "x", "missing"])) == kept
    # before row 0, before a paper that leaves, twice at one row (in the given order), past the end
    edited = ids.edited(["401.0000"], [(0, "a"), (1, "b"), (1, "c"), (99, "z")])
    assert tuple(edited) == ("a", "2401.00001", "b", "c", *IDS[2:], "z")
    assert tuple(PackedIds(b"").edited([], [(0, "only")])) == ("only",)
    assert tuple(PackedIds.of(["one"]).edited(["one"])) == ()
    assert tuple(ids.reversed()) == IDS[::-1]


def test_a_views_packed_ids_are_its_id_list(seeded: Library) -> None:
    seeded.archive(seeded.paper_ids(limit=5))
    for view in (ALL, INBOX):
        for order in ("date", "title", "upvotes", "added"):
            listed = seeded.paper_ids(order=order, **view.filters)
            assert len(listed) > 5
            assert tuple(PackedIds(seeded.paper_ids_joined(order=order, **view.filters))) == tuple(listed)
    assert seeded.paper_ids_joined(status="no such status") == b""
