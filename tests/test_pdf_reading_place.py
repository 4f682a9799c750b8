"""Where each paper's PDF was left: kept in the library's settings, read back, and fitted to a
newer file of the paper."""

from __future__ import annotations

from paperdesk.core.pdf import reading_place
from paperdesk.core.pdf.reading_place import ReadingPlace


def test_a_place_is_stored_per_paper_and_read_back(lib):
    assert reading_place.load(lib, "p1") is None
    reading_place.store(lib, "p1", ReadingPlace(4, 0.31234567, 12, 1.5))
    reading_place.store(lib, "p2", ReadingPlace(1, 0.0, 3))
    assert reading_place.load(lib, "p1") == ReadingPlace(4, 0.3123, 12, 1.5)
    assert reading_place.load(lib, "p2") == ReadingPlace(1, 0.0, 3, None)
    reading_place.store(lib, "p1", ReadingPlace(5, 0.5, 12))  # a later place replaces it
    assert reading_place.load(lib, "p1") == ReadingPlace(5, 0.5, 12, None)


def test_an_unreadable_place_is_no_place(lib):
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
