"""Where each paper's PDF was left: kept in the library's settings, read back, and fitted to a
newer file of the paper."""

from __future__ import annotations

from samples import DIGEST_BLOCKS, DIGEST_PLAIN, TODAY

from paperdesk.core import ops
from paperdesk.core.pdf import reading_place
from paperdesk.core.pdf.reading_place import ReadingPlace


def test_a_place_is_stored_per_paper_and_read_back(seeded):
    p1, p2 = seeded.paper_ids()[:2]
    assert reading_place.load(seeded, p1) is None
    reading_place.store(seeded, p1, ReadingPlace(4, 0.31234567, 12, 1.5))
    reading_place.store(seeded, p2, ReadingPlace(1, 0.0, 3))
    assert reading_place.load(seeded, p1) == ReadingPlace(4, 0.3123, 12, 1.5)
    assert reading_place.load(seeded, p2) == ReadingPlace(1, 0.0, 3, None)
    reading_place.store(seeded, p1, ReadingPlace(5, 0.5, 12))  # a later place replaces it
    assert reading_place.load(seeded, p1) == ReadingPlace(5, 0.5, 12, None)
    reading_place.store(seeded, "no-such-paper", ReadingPlace(2, 0.0, 3))  # (its import undone)
    assert seeded.setting(reading_place.KEY + "no-such-paper") is None


def _places(lib) -> dict[str, str]:
    return dict(lib.conn.execute("SELECT key, value FROM settings WHERE key LIKE 'reading_place:%'"))


def test_a_place_goes_with_its_paper_when_the_import_is_undone_and_comes_back_on_redo(lib):
    """Undoing the import that made a paper left its reading place behind (a row nothing refers to);
    now it goes with the paper, and the redo that brings the paper back brings it back too."""
    assert reading_place.KEY in ops.PAPER_SETTINGS
    assert lib.import_paths([DIGEST_BLOCKS], today=TODAY).ok
    kept = lib.paper_ids()
    assert lib.import_paths([DIGEST_PLAIN], today=TODAY).ok
    made = [pid for pid in lib.paper_ids() if pid not in kept]
    assert made and kept
    reading_place.store(lib, made[0], ReadingPlace(3, 0.25, 9, 1.25))
    reading_place.store(lib, made[1], ReadingPlace(1, 0.5, 4))
    reading_place.store(lib, kept[0], ReadingPlace(2, 0.0, 5))  # a paper the undo leaves alone
    before = _places(lib)

    op, _changes = lib.undo()
    assert op is not None and not lib.exists(made[0])
    assert _places(lib) == {reading_place.KEY + kept[0]: before[reading_place.KEY + kept[0]]}
    op, _changes = lib.redo()
    assert op is not None and lib.exists(made[0])
    assert _places(lib) == before
    assert reading_place.load(lib, made[0]) == ReadingPlace(3, 0.25, 9, 1.25)

    reading_place.store(lib, made[2], ReadingPlace(5, 0.0, 8))  # read again after the redo
    lib.undo()
    assert set(_places(lib)) == {reading_place.KEY + kept[0]}
    lib.redo()
    assert reading_place.load(lib, made[2]) == ReadingPlace(5, 0.0, 8)
    assert _places(lib) == {**before, reading_place.KEY + made[2]: _places(lib)[reading_place.KEY + made[2]]}


def test_an_unreadable_place_is_no_place(lib):  # (read as written: set_setting stores any row)
    for value in ("{", "[1, 2]", '{"page": "x", "offset": 0, "pages": 3}', '{"page": 1}',
                  '{"page": -1, "offset": 0, "pages": 3}', '{"page": 1, "offset": 0, "pages": 3, "zoom": 0}'):
        lib.set_setting(reading_place.KEY + "p", value)
        assert reading_place.load(lib, "p") is None, value


def test_a_newer_file_keeps_the_page_clamped_to_its_length():
    place = ReadingPlace(7, 0.4, 10, 2.0)
    assert place.within(10) == place
    assert place.within(12) == ReadingPlace(7, 0.0, 12, 2.0)  # another file: the page from its top
    assert place.within(3) == ReadingPlace(2, 0.0, 3, 2.0)
    assert ReadingPlace(0, -0.01, 5).at_start and not ReadingPlace(0, 0.2, 5).at_start


def test_all_places_are_read_at_once_and_nothing_else(seeded):
    p1, p2 = seeded.paper_ids()[:2]
    reading_place.store(seeded, p1, ReadingPlace(4, 0.5, 12, 1.5))
    reading_place.store(seeded, p2, ReadingPlace(1, 0.0, 3))
    seeded.set_setting(reading_place.KEY + "broken", "{")
    seeded.set_setting("reading_plac", "{}")  # keys beside the range
    seeded.set_setting("reading_place;x", '{"page": 1, "offset": 0, "pages": 3}')
    assert reading_place.load_all(seeded) == {p1: ReadingPlace(4, 0.5, 12, 1.5), p2: ReadingPlace(1, 0.0, 3)}
