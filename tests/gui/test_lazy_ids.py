"""LazyIds: a view's first rows and count now, its whole list read only when something needs it."""

from __future__ import annotations

import pytest

from paperdesk.gui.lazy_ids import LazyIds

IDS = tuple(f"p{n:03d}" for n in range(10))


def lazy(total: int = 10, full: tuple[str, ...] = IDS) -> tuple[LazyIds, list[int]]:
    reads: list[int] = []

    def read_all() -> tuple[str, ...]:
        reads.append(1)
        return full

    return LazyIds(IDS[:3], total, read_all), reads


def test_the_head_answers_without_reading_the_whole_list():
    ids, reads = lazy()
    assert len(ids) == 10 and ids[0] == "p000" and ids[2] == "p002" and list(ids[0:3]) == list(IDS[:3])
    assert ids.index("p001") == 1 and "p002" in ids and ids.agrees(IDS) and not ids.complete
    assert reads == []


def test_anything_past_the_head_reads_the_whole_list_once():
    ids, reads = lazy()
    assert ids[5] == "p005" and ids[-1] == "p009" and list(ids[2:6]) == list(IDS[2:6])
    assert ids.index("p007") == 7 and list(ids) == list(IDS) and ids.complete
    assert reads == [1]
    with pytest.raises(ValueError):
        ids.index("nope")
    with pytest.raises(IndexError):
        ids[10]


def test_a_library_that_shrank_meanwhile_keeps_the_length_qt_was_given():
    ids, _ = lazy(full=IDS[:8])
    assert len(ids) == 10 and ids[9] == "" and ids[7] == "p007"
    assert list(ids[6:10]) == ["p006", "p007", "", ""]  # a page past the end still has its rows
    assert not ids.agrees(IDS[:8]) and not ids.agrees(("x", *IDS[1:]))
