"""The list model without widgets: lazy pages, Changes update a row, 10k ids are cheap."""

from __future__ import annotations

import pytest
from benchmarks.synth_batches import synthetic_batches

from paperdesk.core import Library
from paperdesk.core.changes import Changes
from paperdesk.gui.paper_model import COLUMN_KEYS, PAGE, PaperModel
from paperdesk.gui.qt import QFont, Qt

TITLE = COLUMN_KEYS.index("title")


@pytest.fixture(scope="module")
def big_lib(tmp_path_factory):
    lib = Library.open(tmp_path_factory.mktemp("big") / "library")
    for batch in synthetic_batches(10_000, per_batch=5_000):
        lib.import_batch(batch)
    yield lib
    lib.close()


@pytest.fixture
def reads(big_lib, monkeypatch) -> list[int]:
    """How many rows each `lib.rows` call the model makes asks for (the calls keep their answers)."""
    calls: list[int] = []
    real_rows = big_lib.rows
    monkeypatch.setattr(big_lib, "rows", lambda ids: calls.append(len(ids)) or real_rows(ids))
    return calls


def test_only_painted_pages_are_read(qapp, big_lib, reads):
    model = PaperModel(big_lib)
    model.set_ids(big_lib.paper_ids())
    assert model.rowCount() == 10_000
    assert reads == []
    title = model.data(model.index(5_050, TITLE))
    assert title and "synthetic" in title
    assert reads == [PAGE]  # one page around row 5050, nothing else
    model.data(model.index(5_099, TITLE))
    assert reads == [PAGE]  # same page: cached
    assert model.cached_rows() == PAGE


def test_changes_update_only_the_affected_row(qapp, big_lib, qtbot, reads):
    model = PaperModel(big_lib)
    ids = big_lib.paper_ids(limit=300)
    model.set_ids(ids)
    before = model.data(model.index(7, COLUMN_KEYS.index("star")), Qt.ItemDataRole.DecorationRole)
    assert before is None
    fetched = sum(reads)
    with qtbot.waitSignal(model.dataChanged) as blocker:
        changes = big_lib.star([ids[7]])
        model.apply(changes)
    assert blocker.args[0].row() == 7 and blocker.args[1].row() == 7
    assert model.data(model.index(7, COLUMN_KEYS.index("star")), Qt.ItemDataRole.DecorationRole) is not None
    assert sum(reads) == fetched + 1  # one row re-read, not the page
    big_lib.star([ids[7]], False)


def test_unread_rows_are_bold(qapp, big_lib):
    model = PaperModel(big_lib)
    ids = big_lib.paper_ids(limit=2)
    big_lib.mark_read([ids[1]])
    model.set_ids(ids)
    font = model.data(model.index(0, TITLE), Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont) and font.bold()
    assert model.data(model.index(1, TITLE), Qt.ItemDataRole.FontRole) is None
    big_lib.mark_read([ids[1]], False)


def test_title_tex_escapes_become_letters(qapp, lib):
    from paperdesk.core.records import IncomingPaper, SourceBatch

    lib.import_batch(SourceBatch("digest", "t", "/t", "2025-11-05", "h1",
                                 [IncomingPaper(title='Schr\\"odinger bridges for caf\\\'e')]))
    model = PaperModel(lib)
    model.set_ids(lib.paper_ids())
    assert model.data(model.index(0, TITLE)) == "Schrödinger bridges for café"


def test_a_new_list_reuses_rows_already_read_unless_they_changed(qapp, big_lib, reads):
    model = PaperModel(big_lib)
    ids = big_lib.paper_ids(limit=2 * PAGE)
    model.set_ids(ids)
    for row in range(2 * PAGE):  # both pages read, as a painted screen would
        model.data(model.index(row, TITLE))
    assert sum(reads) == 2 * PAGE
    changes = big_lib.star([ids[5]])  # changed while the new list is not yet painted
    reordered = [*big_lib.paper_ids(limit=3, offset=5000), *reversed(ids)]
    model.set_ids(reordered)
    model.apply(changes)  # the starred paper's kept row must not be reused
    texts = [model.data(model.index(row, TITLE)) for row in range(len(reordered))]
    assert sum(reads) == 2 * PAGE + 3 + 1  # three unseen papers and the changed one
    assert texts == [model.data(model.index(row, TITLE)) for row in range(len(reordered))]
    star = COLUMN_KEYS.index("star")
    starred_row = reordered.index(ids[5])
    assert model.data(model.index(starred_row, star), Qt.ItemDataRole.DecorationRole) is not None
    big_lib.star([ids[5]], False)
    # A big change (an import's thousands of papers) forgets only the rows it names.
    model.apply(Changes(papers=frozenset([ids[0], *big_lib.paper_ids(limit=300, offset=6000)])))
    model.data(model.index(reordered.index(ids[0]), TITLE))
    model.data(model.index(reordered.index(ids[1]), TITLE))
    assert sum(reads) == 2 * PAGE + 3 + 1 + 1


def test_a_huge_title_from_before_the_store_capped_it_is_shown_capped(qapp, tmp_path):
    from samples import DIGEST_PLAIN, TODAY

    lib = Library.open(tmp_path / "library")
    try:
        assert lib.import_paths([DIGEST_PLAIN], today=TODAY).ok
        pid = lib.paper_ids()[0]
        lib.conn.execute("UPDATE papers SET title = ?, organization = ? WHERE id = ?",
                         ("T" * 5_000_000, "O" * 5_000_000, pid))
        model = PaperModel(lib)
        model.set_ids((pid,))
        assert len(model.data(model.index(0, TITLE))) <= 1_000
        assert len(model.data(model.index(0, TITLE), Qt.ItemDataRole.ToolTipRole)) <= 1_000
        assert len(model.data(model.index(0, COLUMN_KEYS.index("who")))) <= 500
    finally:
        lib.close()


def test_a_change_too_big_to_list_rereads_every_row_shown(qapp, big_lib, qtbot):
    """Another process's huge operation (`Changes.everything`): no ids to forget, so every cached
    row is, and the rows kept for a re-query too (an interest-ordered list is not re-queried)."""
    model = PaperModel(big_lib)
    ids = big_lib.paper_ids(limit=300)
    model.set_ids(ids)
    star = COLUMN_KEYS.index("star")
    assert model.data(model.index(9, star), Qt.ItemDataRole.DecorationRole) is None
    big_lib.star([ids[9]])  # as if by another process: the model is told nothing of this paper
    with qtbot.waitSignal(model.dataChanged):
        model.apply(Changes(everything=True))
    assert model.data(model.index(9, star), Qt.ItemDataRole.DecorationRole) is not None
    big_lib.star([ids[9]], False)
    model.apply(Changes(everything=True))
    model.set_ids(list(reversed(ids)))  # a re-query: the row is read again, not kept from before
    assert model.data(model.index(290, star), Qt.ItemDataRole.DecorationRole) is None
