"""LazyIds: a view's first rows and count now, the rest only from the reader that reads it."""

from __future__ import annotations

import threading

import pytest

from paperdesk.core import LibraryError
from paperdesk.gui import lazy_ids
from paperdesk.gui.lazy_ids import LazyIds

IDS = tuple(f"p{n:03d}" for n in range(10))


def test_the_head_answers_without_the_whole_list():
    ids = LazyIds(IDS[:3], 10)
    assert len(ids) == 10 and ids[0] == "p000" and ids[2] == "p002" and list(ids[0:3]) == list(IDS[:3])
    assert ids.index("p001") == 1 and ids.agrees(IDS) and not ids.complete


def test_past_the_head_waits_for_the_readers_answer():
    ids = LazyIds(IDS[:3], 10)
    reader = threading.Thread(target=ids.deliver, args=(IDS,))  # as the completer thread does
    reader.start()
    assert ids[5] == "p005" and ids[-1] == "p009" and list(ids[2:6]) == list(IDS[2:6])
    reader.join()
    assert ids.index("p007") == 7 and list(ids) == list(IDS) and ids.complete and "p009" in ids
    with pytest.raises(ValueError):
        ids.index("nope")
    with pytest.raises(IndexError):
        ids[10]


def test_a_library_that_shrank_meanwhile_has_no_made_up_ids():
    ids = LazyIds(IDS[:3], 10)
    ids.deliver(IDS[:8])
    assert len(ids) == 10 and ids[9] is None and ids[7] == "p007"  # Qt's length until the re-query
    assert list(ids[6:10]) == ["p006", "p007", None, None]
    assert list(ids) == list(IDS[:8])  # iterating gives the real list, nothing padded
    assert not ids.agrees(IDS[:8]) and not ids.agrees(("x", *IDS[1:]))


def test_a_failed_or_missing_answer_is_one_clear_error(monkeypatch):
    failed = LazyIds(IDS[:3], 10)
    failed.deliver(None)
    with pytest.raises(LibraryError, match="could not be read"):
        failed[5]
    monkeypatch.setattr(lazy_ids, "WAIT_S", 0.01)
    with pytest.raises(LibraryError):
        LazyIds(IDS[:3], 10)[5]
    assert LazyIds(IDS[:3], 10)[1] == "p001"  # the head still answers
