"""The list's delegate paints cells from the model's row texts: read from real grabs of the view."""

from __future__ import annotations

from paperdesk.gui.paper_delegate import MARK_TINT
from paperdesk.gui.paper_model import COLUMN_KEYS
from paperdesk.gui.qt import QColor, QPalette, Qt


def cell_pixels(desk, row: int, key: str) -> list[QColor]:
    """The colours of one cell's pixels, from a fresh paint of the viewport."""
    rect = desk.table.visualRect(desk.model.index(row, COLUMN_KEYS.index(key)))
    image = desk.table.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    return [image.pixelColor(int(x * ratio), int(y * ratio))
            for x in range(rect.left() + 1, rect.right()) for y in range(rect.top() + 1, rect.bottom())]


def ink(pixels: list[QColor], background: QColor) -> int:
    """How many pixels differ clearly from the background (text or an icon was drawn)."""
    return sum(abs(p.lightness() - background.lightness()) > 60 for p in pixels)


def test_text_star_and_marks_are_painted(desk, seeded, qtbot):
    starred = desk.model.ids[3]
    seeded.star([starred])
    desk.model.refresh_rows({starred})
    base = desk.table.palette().color(QPalette.ColorRole.Base)
    assert ink(cell_pixels(desk, 3, "title"), base) > 20  # the title's letters
    assert ink(cell_pixels(desk, 3, "star"), base) > 5    # the star icon
    assert ink(cell_pixels(desk, 4, "star"), base) == 0   # no star, not marked: nothing
    desk.selection.marked.add(desk.model.ids[4])
    desk.model.refresh_rows({desk.model.ids[4]})
    tinted = cell_pixels(desk, 4, "upvotes")[0]
    assert tinted.red() > tinted.blue() + 30, tinted.name()  # amber over the base colour
    assert MARK_TINT.alpha() < 255 and ink(cell_pixels(desk, 4, "star"), tinted) > 3  # the ● mark


def test_selection_follows_the_palette_even_when_it_changes(desk, qtbot):
    desk.selection.move_current(1)
    highlight = desk.table.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
    selected = cell_pixels(desk, 1, "date")
    assert sum(p == highlight for p in selected) > len(selected) // 2
    # The delegate caches colours: a new palette must still reach the next paint.
    palette = desk.table.palette()
    palette.setColor(QPalette.ColorRole.Highlight, QColor(10, 200, 10))
    desk.table.setPalette(palette)
    assert sum(p == QColor(10, 200, 10) for p in cell_pixels(desk, 1, "date")) > len(selected) // 2


def test_a_narrower_column_elides_its_texts_again(desk, qtbot):
    """Laid-out texts are kept by width: a title laid out for a wide column is not reused in a
    narrow one (it would run on past the cell)."""
    column, row = COLUMN_KEYS.index("title"), 2  # not the current row (selected)
    header = desk.table.horizontalHeader()

    def pixels(first: int, last: int) -> list[QColor]:  # x offsets into the cell, all its height
        rect = desk.table.visualRect(desk.model.index(row, column))
        image = desk.table.viewport().grab().toImage()
        ratio = image.devicePixelRatio()
        return [image.pixelColor(int(x * ratio), int(y * ratio))
                for x in range(rect.left() + first, rect.left() + last)
                for y in range(rect.top() + 1, rect.bottom())]

    width = header.sectionSize(column)
    background = pixels(1, 2)[0]  # in the left margin: the row's own background
    assert ink(pixels(0, width), background) > 20  # laid out at the wide width
    header.setSectionResizeMode(column, header.ResizeMode.Interactive)
    header.resizeSection(column, 90)
    assert ink(pixels(0, 90), background) > 20  # still drawn, elided
    assert ink(pixels(88, 90), background) == 0  # the margin: nothing runs on past it


def test_rows_alternate_their_background_as_the_palette_says(desk, qtbot):
    """The view paints whole rows itself (not Qt's cell by cell): odd rows still take the
    palette's alternate base, even ones the base, across every column."""
    desk.selection.move_current(0)
    palette = desk.table.palette()
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor(20, 40, 220))
    palette.setColor(QPalette.ColorRole.Base, QColor(240, 240, 240))
    desk.table.setPalette(palette)
    for key in ("star", "upvotes", "tags"):
        odd, even = cell_pixels(desk, 3, key), cell_pixels(desk, 4, key)
        assert sum(p == QColor(20, 40, 220) for p in odd) > len(odd) // 2, key
        assert sum(p == QColor(240, 240, 240) for p in even) > len(even) // 2, key


def test_the_header_shows_the_models_labels_and_survives_a_new_list(desk, qtbot):
    """The header reads its labels from a model Qt answers (no call into Python per section and
    role); a new id list leaves it alone: same sections, sizes and sort indicator."""
    header = desk.table.horizontalHeader()
    labels = header.model()
    assert labels is not desk.model and labels.columnCount() == desk.model.columnCount() == len(COLUMN_KEYS)
    for c in range(len(COLUMN_KEYS)):
        for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            assert labels.headerData(c, Qt.Orientation.Horizontal, role) == desk.model.headerData(
                c, Qt.Orientation.Horizontal, role)
    assert labels.headerData(COLUMN_KEYS.index("title"), Qt.Orientation.Horizontal) == "Title"
    sizes = [header.sectionSize(c) for c in range(header.count())]
    sort = (header.sortIndicatorSection(), header.sortIndicatorOrder())
    with qtbot.assertNotEmitted(labels.modelReset):
        desk.model.set_ids(desk.model.ids[::-1])
    assert header.count() == len(COLUMN_KEYS)
    assert [header.sectionSize(c) for c in range(header.count())] == sizes
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == sort
    image = header.grab().toImage()  # the labels are painted
    ratio = image.devicePixelRatio()
    column = COLUMN_KEYS.index("title")
    x0 = header.sectionViewportPosition(column)
    pixels = [image.pixelColor(int(x * ratio), int(y * ratio))
              for x in range(x0 + 2, x0 + header.sectionSize(column) - 2)
              for y in range(2, header.height() - 2)]
    assert ink(pixels, pixels[0]) > 20
