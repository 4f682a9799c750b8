"""A triage session over a digest: progress, decisions and the closing summary."""

from __future__ import annotations

from samples import DIGEST_PLAIN

from paperdesk.core.triage import TriageSession


def test_session_progress_decisions_and_summary(seeded):
    source = next(s for s in seeded.sources() if s["name"] == DIGEST_PLAIN.name)
    ids = seeded.paper_ids(source_id=source["id"])
    session = TriageSession(seeded, ids, name=source["name"])
    assert session.progress() == f"1 / {len(ids)}"
    first = session.current
    seeded.star([first])
    seeded.tag([first], ["scaling"])
    session.decide("keep")
    second = session.current
    seeded.notes.set(second, "read later")
    session.decide("archive")
    session.decide("skip")
    assert session.progress() == f"4 / {len(ids)}"
    summary = session.summary()
    assert (summary.seen, summary.kept, summary.archived, summary.skipped) == (3, 1, 1, 1)
    assert summary.starred == [first] and summary.tagged == [first] and summary.noted == [second]
    assert seeded.get(second)["status"] == "archived"
    assert "3 / 79 papers triaged" in summary.text()
    seeded.undo()  # the archive: a session's changes stay ordinary undoable operations
    assert seeded.get(second)["status"] == "inbox"


def test_session_ends(seeded):
    ids = seeded.paper_ids(limit=2)
    session = TriageSession(seeded, ids)
    session.decide("skip")
    assert session.decide("skip") is None and session.done
    assert session.decide("keep") is None
    assert session.back() == ids[1]


def test_a_session_keeps_the_sequence_it_is_given(seeded):
    """The desk hands over the list it shows (a million ids at scale, packed): kept, not copied
    into a list; a list is copied (its owner may change it)."""
    from paperdesk.gui.packed_ids import PackedIds

    listed = seeded.paper_ids()
    packed = PackedIds.of(listed)
    session = TriageSession(seeded, packed)
    assert session.ids is packed and session.current == listed[0]
    seeded.tag([listed[1]], ["later"])
    seeded.star([listed[0]])
    session.decide("keep")
    summary = session.summary()
    assert summary.starred == [listed[0]] and summary.tagged == [listed[1]] and summary.total == len(listed)
    copied = TriageSession(seeded, listed)
    listed.pop(0)
    assert copied.current != listed[0] and len(copied.ids) == len(listed) + 1
