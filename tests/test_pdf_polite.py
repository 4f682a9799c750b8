"""The per-host gate every arXiv look-up and PDF download goes through: one request at a time to a
host, whichever thread asks; other hosts are not held up; a waiting caller can cancel."""

from __future__ import annotations

import threading

import pytest

from paperdesk.core.pdf.polite import Cancelled, HostGate


def test_one_request_at_a_time_to_a_host_from_any_thread():
    gate = HostGate()
    events: list[str] = []
    a_inside, release, b_waiting = threading.Event(), threading.Event(), threading.Event()
    polls: list[int] = []

    def first() -> None:
        with gate.turn("http://arxiv.test/pdf/1", 0):
            events.append("a in")
            a_inside.set()
            release.wait(10)
            events.append("a out")

    def second() -> None:
        def cancelled() -> bool:  # called while it waits for its turn
            polls.append(1)
            if len(polls) >= 2:
                b_waiting.set()
            return False

        with gate.turn("http://ARXIV.test/pdf/2", 0, cancelled):  # the same host, other case
            events.append("b in")

    a = threading.Thread(target=first)
    a.start()
    assert a_inside.wait(10)
    b = threading.Thread(target=second)
    b.start()
    assert b_waiting.wait(10)  # b has waited at least two turns of its loop
    with gate.turn("http://other.test/x", 0):  # another host goes ahead meanwhile
        events.append("other")
    # A third caller for the busy host gives up when cancelled.
    with pytest.raises(Cancelled), gate.turn("http://arxiv.test/pdf/3", 0, lambda: True):
        events.append("never")
    assert events == ["a in", "other"]
    release.set()
    a.join(10)
    b.join(10)
    assert events == ["a in", "other", "a out", "b in"]
