"""Each paper's place in the library by a model (the list's figures), as the ranking orders them."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from paperdesk.core.rank.ranker import Places, Ranker
from tests.test_rank import _decide, topic_lib  # noqa: F401 (a fixture)


def _places_from_every_id(ranker: Ranker, model) -> dict[str, int]:
    """The figures as they were made before `Ranker.places`: every id listed, scored, ordered."""
    ids = list(ranker.cache.row_of)
    scores = ranker.scores(ids, model=model)
    places = np.empty(len(ids), dtype=np.int64)
    places[np.argsort(scores, kind="stable")] = np.arange(len(ids))
    return dict(zip(ids, (places * 100 // max(len(ids) - 1, 1)).tolist(), strict=True))


@pytest.mark.parametrize("kept", [3, 12], ids=["similar", "model"])
def test_places_are_each_papers_place_by_the_ranking_without_a_list_of_ids(topic_lib, kept):  # noqa: F811
    lib, topic_of = topic_lib
    _decide(lib, topic_of, "rl", kept)
    model = lib.ranker.model()
    assert model.kind == ("similar" if kept < 5 else "model")
    places = lib.ranker.places(model)
    assert isinstance(places, Places)
    expected = _places_from_every_id(lib.ranker, model)
    assert dict(places.items()) == expected
    assert len(places) == len(topic_of) and set(places) == set(topic_of)
    assert min(expected.values()) == 0 and max(expected.values()) == 100
    first = max(expected, key=expected.get)
    assert places[first] == places.get(first) == 100 and topic_of[first] == "rl"
    assert places.get("no such paper") is None and places.get(None) is None
    with pytest.raises(KeyError):
        places["no such paper"]


def test_a_paper_featurised_twice_has_one_place(topic_lib):  # noqa: F811
    lib, topic_of = topic_lib
    _decide(lib, topic_of, "vision", 8)
    lib.ranker.model()
    folder = lib.ranker.cache.dir
    # As if a second process had featurised the same papers at the same time: its own file of them
    for path in list(folder.iterdir()):
        twin = path.with_name(path.name.replace(path.name.split("-", 1)[1][:8], "00000000", 1))
        assert twin != path
        (shutil.copytree if path.is_dir() else shutil.copyfile)(path, twin)
    ranker = Ranker(folder.parent, lib.conn)
    model = ranker.model()
    assert len(ranker.cache.matrix.ids) == 2 * len(topic_of)  # every paper's row twice
    assert ranker.model() is model  # nothing changed: not trained again (review: it was, at every call)
    scores = model.scores
    ranker.places(model)
    assert model.scores is scores  # nor every paper scored again
    places = ranker.places(model)
    assert len(places) == len(topic_of)
    assert dict(places.items()) == _places_from_every_id(ranker, model)


def test_a_write_that_makes_no_paper_lists_no_ids(topic_lib):  # noqa: F811
    """After a star, a tag or an archive the features are not compared with every paper's id
    again (at 1M papers ~1.5 s of each retraining); a paper made by any connection, or made again
    by a redo, is still found."""
    from paperdesk.core import Library
    from paperdesk.core.rank.features import FeatureCache
    from tests.test_rank import _one_paper

    lib, topic_of = topic_lib
    cache = FeatureCache(lib.folder)
    assert cache.refresh(lib.conn) == 240
    listed: list[str] = []
    lib.conn.set_trace_callback(lambda sql: listed.append(sql) if sql.startswith("SELECT id FROM papers")
                                else None)
    try:
        first = sorted(topic_of)[0]
        lib.star([first])
        lib.tag([first], ["kept"])
        lib.archive([sorted(topic_of)[1]])
        assert cache.refresh(lib.conn) == 0 and listed == []
        other = Library.open(lib.folder)
        try:
            made = _one_paper(other, "Made by another connection", "there")
        finally:
            other.close()
        assert cache.refresh(lib.conn) == 1 and len(listed) == 1 and made in cache.row_of
        again = _one_paper(lib, "Made, undone, then made again", "redo")
        lib.undo()  # its import: the paper goes before the features see it
        assert cache.refresh(lib.conn) == 0 and again not in cache.row_of
        lib.redo()  # made again: a new stamp on the operation that made it
        assert lib.get(again) is not None
        assert cache.refresh(lib.conn) == 1 and again in cache.row_of
    finally:
        lib.conn.set_trace_callback(None)


def test_a_chunk_file_whose_write_fails_leaves_nothing(topic_lib, monkeypatch):  # noqa: F811
    """A full disk while a chunk file is written: the partial file (hundreds of MB at 1M papers)
    is removed, and the error still reaches the caller (found in review)."""
    from paperdesk.core.rank import features
    from paperdesk.core.rank.features import FeatureCache

    lib, _ = topic_lib
    cache = FeatureCache(lib.folder)
    written = features.write_npz

    def full_disk(fh, arrays):
        fh.write(b"x" * 4096)  # a first piece made it to the file
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(features, "write_npz", full_disk)
    with pytest.raises(OSError):
        cache.refresh(lib.conn)
    assert [p.name for p in cache.dir.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.setattr(features, "write_npz", written)
    assert cache.refresh(lib.conn) == 240
