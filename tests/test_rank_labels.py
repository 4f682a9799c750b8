"""What the interest model learns from: every decision below MAX_NEGATIVES archived papers, past it
the most recent ones and a fixed sample of the rest; and the fingerprint that says when to retrain."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from paperdesk.core import Library
from paperdesk.core.rank import model as m
from paperdesk.core.rank.features import FeatureCache
from paperdesk.core.records import IncomingPaper, SourceBatch

WORDS = {
    "rl": "reinforcement learning policy reward agent exploration bandit offline",
    "vision": "image segmentation detection pixels convolutional camera video frames",
    "speech": "speech audio recognition acoustic waveform speaker phoneme transcription",
}
TODAY = dt.date(2026, 12, 5)


@pytest.fixture
def lib(tmp_path):
    """300 papers of three topics: 20 rl ones starred, 120 others archived, in that order."""
    rng = random.Random(3)
    papers = []
    for n in range(300):
        words = WORDS[list(WORDS)[n % 3]].split()
        papers.append(IncomingPaper(title=f"{rng.choice(words).title()} {rng.choice(words)} {n}",
                                    abstract=" ".join(rng.choice(words) for _ in range(40)),
                                    published=f"2026-{1 + n % 12:02d}-{1 + n % 27:02d}"))
    lib = Library.open(tmp_path / "lib")
    lib.import_batch(SourceBatch("digest", "synthetic", "/synthetic", "2026-11-20", "h-labels", papers))
    ids = sorted(lib.paper_ids())
    topic = {pid: list(WORDS)[int(lib.get(pid)["title"].rsplit(" ", 1)[1]) % 3] for pid in ids}
    lib.star([p for p in ids if topic[p] == "rl"][:20])
    lib.archive([p for p in ids if topic[p] != "rl"][:120])
    yield lib
    lib.close()


def _cache(lib: Library) -> FeatureCache:
    cache = FeatureCache(lib.folder)
    cache.refresh(lib.conn)
    return cache


def _undecided(lib: Library) -> list[str]:
    return [pid for (pid,) in lib.conn.execute("SELECT id FROM papers WHERE status = 'inbox' "
                                               "AND starred = 0 ORDER BY id")]


def _train(lib: Library, cache: FeatureCache, labels: m.Labels) -> m.Model:
    return m.train(cache, labels, today=TODAY, conn=lib.conn)


def test_below_the_cap_every_archived_paper_is_read_and_the_fit_is_as_uncapped(lib, monkeypatch):
    cache = _cache(lib)
    everything = dict(lib.conn.execute(m._NEGATIVES).fetchall())
    assert len(everything) == 120
    monkeypatch.setattr(m, "MAX_NEGATIVES", 10**9)
    uncapped = m.read_labels(lib.conn)
    monkeypatch.setattr(m, "MAX_NEGATIVES", 120)  # exactly as many: still all of them
    at_cap = m.read_labels(lib.conn)
    assert list(at_cap.negatives.items()) == list(everything.items()) and not at_cap.sampled
    a, b = _train(lib, cache, uncapped), _train(lib, cache, at_cap)
    assert a.weights.features.tobytes() == b.weights.features.tobytes()
    assert a.weights.values.tobytes() == b.weights.values.tobytes() and a.bias == b.bias
    assert b.negatives == 120 and b.sampled == 0 and "sample" not in b.describe()
    monkeypatch.setattr(m, "MAX_NEGATIVES", 119)  # one fewer: a sample, and another fit
    capped = _train(lib, cache, m.read_labels(lib.conn))
    assert capped.sampled == 119 and capped.weights.values.tobytes() != a.weights.values.tobytes()


def test_past_the_cap_the_labels_are_bounded_recent_first_and_a_fixed_sample(lib, monkeypatch):
    monkeypatch.setattr(m, "MAX_NEGATIVES", 30)
    monkeypatch.setattr(m, "RECENT_SHARE", 1 / 6)  # 5
    # Decisions of the last minutes (the journal's newest): two archived papers, one star of an
    # archived paper (a positive, never a negative), one paper moved back to the Inbox
    archived = [pid for (pid,) in lib.conn.execute("SELECT id FROM papers WHERE status = 'archived' "
                                                   "ORDER BY id")]
    inbox = _undecided(lib)
    lib.archive([inbox[0]])
    lib.archive([inbox[1]])
    lib.star([archived[0]])
    lib.set_status([archived[1]], "inbox")
    labels = m.read_labels(lib.conn)
    total = len(lib.conn.execute(m._NEGATIVES).fetchall())
    assert total == 120 and archived[0] in labels.positives
    # The journal's newest papers still archived and not kept: the two just archived, then three
    # from bench-like older decisions (the fixture's archive, all in the journal too)
    recent = list(labels.negatives)
    assert len(recent) == 5 and recent[:2] == [inbox[1], inbox[0]]
    assert archived[0] not in recent and archived[1] not in recent
    assert len(labels.sampled) == 25 and not set(labels.sampled) & set(recent)
    assert not set(labels.sampled) & set(labels.positives) and archived[1] not in labels.sampled
    assert set(labels.sampled) <= set(dict(lib.conn.execute(m._NEGATIVES).fetchall()))
    assert labels.scale == pytest.approx((total - 5) / 25)
    # The same at every read; another seed takes another sample
    again = m.read_labels(lib.conn)
    assert list(again.sampled) == list(labels.sampled) and again.negatives == labels.negatives
    assert set(m.read_labels(lib.conn, seed=1).sampled) != set(labels.sampled)
    # A fit of them: bounded, the same twice, and not from unread archived papers as weak positives
    cache = _cache(lib)
    first, second = _train(lib, cache, labels), _train(lib, cache, again)
    assert len(first.training_rows) == len(labels.positives) + 30
    assert first.weights.values.tobytes() == second.weights.values.tobytes()
    assert first.negatives == total and first.sampled == 30
    assert f"{total} archived papers (a sample of 30)" in first.describe()


def test_one_more_archived_paper_changes_the_sample_by_at_most_one(lib, monkeypatch):
    monkeypatch.setattr(m, "MAX_NEGATIVES", 30)
    monkeypatch.setattr(m, "RECENT_SHARE", 0)
    before = m.read_labels(lib.conn)
    lib.archive([_undecided(lib)[0]])
    after = m.read_labels(lib.conn)
    assert len(after.sampled) == len(before.sampled) == 30
    assert len(set(after.sampled) - set(before.sampled)) <= 1


def test_the_best_unlabelled_papers_leave_out_archived_ones(lib):
    cache = _cache(lib)
    archived = [pid for (pid,) in lib.conn.execute("SELECT id FROM papers WHERE status = 'archived'")]
    inbox = _undecided(lib)
    scores = np.zeros(len(cache.row_of), dtype=np.float32)
    scores[cache.rows(archived[:50])] = 10 + np.arange(50)  # the model likes archived papers best
    scores[cache.rows(inbox[:3])] = [3, 5, 4]
    scores[cache.rows(inbox[3:4])] = -np.inf  # labelled
    liked = m._best_not_archived(cache, lib.conn, scores, 3)
    assert liked.tolist() == cache.rows([inbox[1], inbox[2], inbox[0]]).tolist()


@pytest.mark.parametrize("decide", ["star", "unstar", "archive", "unarchive", "tag", "note", "highlight"])
def test_any_decision_changes_the_fingerprint(lib, decide):
    inbox = _undecided(lib)
    starred = sorted(pid for (pid,) in lib.conn.execute("SELECT id FROM papers WHERE starred = 1"))
    archived = sorted(pid for (pid,) in lib.conn.execute("SELECT id FROM papers WHERE status = 'archived' "
                                                         "AND starred = 0"))
    before = m.label_fingerprint(lib.conn)
    assert m.read_labels(lib.conn).fingerprint == before
    lib.mark_read([inbox[0]])  # not a decision
    assert m.label_fingerprint(lib.conn) == before
    if decide == "star":
        lib.star([inbox[0]])
    elif decide == "unstar":
        lib.star([starred[0]], starred=False)
    elif decide == "archive":
        lib.archive([inbox[0]])
    elif decide == "unarchive":
        lib.set_status([archived[0]], "inbox")
    elif decide == "tag":
        lib.tag([archived[0]], ["cv"])
    elif decide == "note":
        lib.notes.set(archived[0], "why I archived it")
    else:
        lib.highlights.add(archived[0], 0, 5)
    assert m.label_fingerprint(lib.conn) != before
    assert m.read_labels(lib.conn, "cv").fingerprint == m.label_fingerprint(lib.conn)


def test_the_ranker_retrains_after_archiving_a_paper_it_did_not_read(lib, monkeypatch):
    monkeypatch.setattr(m, "MAX_NEGATIVES", 30)
    monkeypatch.setattr(m, "RECENT_SHARE", 1 / 6)  # 5
    first = lib.ranker.model()
    assert first.kind == "model" and first.sampled == 30
    assert lib.ranker.model() is first  # nothing changed: no retraining
    lib.archive([_undecided(lib)[0]])
    assert lib.ranker.model() is not first
