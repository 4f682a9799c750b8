"""The PDF view in the desk: real PDFs (the shared corpus, hand-made ones), real widgets, real SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from desk_keys import settle_desks
from pdf_samples import corpus_pdf, write_pdf

from paperdesk.core.pdf.document import line_rects
from paperdesk.gui.qt import QInputDialog, Qt


def attach(lib, paper_id: str, source: Path, *, fetched: bool = False) -> Path:
    """The paper's PDF, attached the way `paperdesk pdf attach` does (or kept as a download is:
    an encrypted one stays encrypted); returns where it is kept."""
    import shutil

    from paperdesk.core.pdf import files

    if fetched:
        incoming = files.temp_file(files.pdf_dir(lib))
        shutil.copy(source, incoming)
        files.keep(lib, paper_id, incoming, files.check_file(incoming), origin="fetched")
    else:
        files.attach(lib, paper_id, source, max_bytes=100 * 1024 * 1024)
    path = lib.pdf_path(paper_id)
    assert path is not None
    return path


@pytest.fixture
def desk(seeded, make_window, qtbot):
    """(window, paper id) with the first paper of the list selected."""
    window = make_window(seeded)
    pid = window.selection.current_id()
    if pid is None:
        window.selection.move_to_row(0)
        pid = window.selection.current_id()
    assert pid is not None
    return window, pid


def show_pdf(window, qtbot, pid: str, source: Path) -> None:
    attach(window.lib, pid, source)
    window.show_paper(pid)
    view = window.reader.pdf.view
    qtbot.waitUntil(lambda: window.reader.showing_pdf and view.doc is not None)
    view.setFocus()
    qtbot.waitUntil(lambda: view.page_painted(0), timeout=10_000)


def press(window, qtbot, *keys: str) -> None:
    for key in keys:
        window.keys.press("pdf", key)
        settle_desks(qtbot)  # a key's writes run on the desk's writer thread


def hover(qtbot, view, pos) -> None:
    qtbot.mouseMove(view.viewport(), pos)


def points_at_link(qtbot, view, pos) -> bool:
    """Whether the mouse over `pos` shows the pointing hand of a link (else the text's I-beam)."""
    hover(qtbot, view, pos)
    return view.viewport().cursor().shape() == Qt.CursorShape.PointingHandCursor


def choose_entry(qtbot, tree, item) -> None:
    """Enter on an entry of the outline, as after moving to it with the arrows."""
    tree.setFocus()
    tree.setCurrentItem(item)
    qtbot.keyClick(tree, Qt.Key.Key_Return)


def test_a_paper_with_a_pdf_shows_page_one_rendered_and_p_toggles_the_abstract(desk, qtbot, tmp_path):
    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "a.pdf", [["Page one"], ["Page two"], ["Three"]]))
    view = window.reader.pdf.view
    assert window.reader.pdf.page_label.text() == "1 / 3"
    image = view.cache.get((0, round(view.render_scale * 1000)))
    assert image is not None and image.width() == round(612 * view.render_scale + 0.4999)
    window.run_command("toggle-pdf")  # from the PDF: the abstract, focus back on the list
    assert not window.reader.showing_pdf and window.reader.browser.isVisible()
    window.table.setFocus()
    window.run_command("toggle-pdf")
    assert window.reader.showing_pdf and view.hasFocus()


def test_paper_without_pdf_keeps_the_abstract(desk, qtbot):
    window, _pid = desk
    assert not window.reader.showing_pdf
    window.run_command("toggle-pdf")
    assert not window.reader.showing_pdf
    assert "no PDF" in window.statusBar().currentMessage()


def test_keys_change_page(desk, qtbot):
    window, pid = desk
    show_pdf(window, qtbot, pid, corpus_pdf("pdflatex-4-pages.pdf"))
    view = window.reader.pdf.view
    press(window, qtbot, "Space")
    assert view.current_page() == 1
    press(window, qtbot, "G")
    assert view.current_page() == 3
    assert window.reader.pdf.page_label.text() == "4 / 4"
    qtbot.waitUntil(lambda: view.page_painted(3), timeout=10_000)
    press(window, qtbot, "g", "g")
    assert view.current_page() == 0
    press(window, qtbot, "j", "j")
    assert view.verticalScrollBar().value() == 2 * view.verticalScrollBar().singleStep()
    press(window, qtbot, "+")
    assert not view.fit_width and view.current_page() == 0
    press(window, qtbot, "w")
    assert view.fit_width


def test_search_finds_and_moves_between_matches(desk, qtbot):
    window, pid = desk
    show_pdf(window, qtbot, pid, corpus_pdf("GeoTopo-komprimiert.pdf"))
    pane = window.reader.pdf
    view = pane.view
    pane.find_field.setText("Topologie")
    pane.find_field.returnPressed.emit()
    qtbot.waitUntil(lambda: bool(view.matches), timeout=10_000)
    assert view.match_index == 0 and "Match 1 of" in window.statusBar().currentMessage()
    pages = {page for page, _, _ in view.matches}
    assert len(pages) > 10
    far = next(n for n, m in enumerate(view.matches) if m[0] >= 20)
    for _ in range(far):
        press(window, qtbot, "n")
    assert view.current_page() == view.matches[far][0]  # moved to the match's page
    page, start, length = view.matches[far]
    first_line = line_rects(view.doc.char_boxes(page), start, start + length)[0]
    # the match itself comes on screen (once its page's boxes are read off-thread)
    qtbot.waitUntil(lambda: view.viewport().rect().contains(view.to_view(page, first_line).toAlignedRect()),
                    timeout=10_000)
    press(window, qtbot, "N")
    assert view.match_index == far - 1


def test_keyboard_highlight_is_stored_drawn_and_undone(desk, qtbot, tmp_path):
    window, pid = desk
    source = write_pdf(tmp_path / "h.pdf", [["Attention is all you need"], ["More text on page two"]])
    show_pdf(window, qtbot, pid, source)
    view = window.reader.pdf.view
    window.reader.pdf.find_field.setText("all you")
    window.reader.pdf.find_field.returnPressed.emit()
    qtbot.waitUntil(lambda: view.current_match() is not None, timeout=10_000)
    press(window, qtbot, "h")
    stored = [h for h in window.lib.highlights.of(pid) if h.field == "pdf"]
    assert len(stored) == 1
    mark = stored[0]
    assert (mark.page, mark.start, mark.end, mark.quote) == (0, 13, 20, "all you")
    assert len(mark.quads) == 1 and mark.quads[0][0] > 72  # after "Attention is "
    row = window.lib.conn.execute("SELECT quads, page FROM highlights WHERE id = ?", (mark.id,)).fetchone()
    assert row[1] == 0 and row[0].startswith("[[")
    assert [h.id for h in view.highlights] == [mark.id]  # the view draws it
    # Drawn: the highlight's colour is multiplied into the page where the quad is.
    window.reader.pdf.find_field.setText("nowhere in this page")  # no match drawn over the quad
    window.reader.pdf.find_field.returnPressed.emit()
    qtbot.waitUntil(lambda: view.current_match() is None, timeout=10_000)
    rect = view.to_view(0, tuple(mark.quads[0]))
    image = view.viewport().grab().toImage()
    ratio = image.devicePixelRatio()  # the grab is in device pixels
    # Just below the quad's top, above the glyphs: paper white becomes the highlight colour.
    color = image.pixelColor(round(rect.center().x() * ratio), round((rect.top() + 2) * ratio))
    assert color.blue() < 200 and color.red() > 200  # yellow (#fde68a), not white
    window.run_command("undo")
    settle_desks(qtbot)
    assert [h for h in window.lib.highlights.of(pid) if h.field == "pdf"] == []
    qtbot.waitUntil(lambda: view.highlights == [])


def test_mouse_drag_selects_whole_words(desk, qtbot, tmp_path):
    from paperdesk.gui.qt import QPoint, Qt

    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "m.pdf", [["Attention is all you need"]]))
    view = window.reader.pdf.view
    boxes = view.doc.char_boxes(0)
    start = view.to_view(0, boxes[2]).center().toPoint()  # inside "Attention"
    end = view.to_view(0, boxes[14]).center().toPoint()  # inside "all"
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), QPoint(end))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert view.selection is not None
    assert view.doc.page_text(0)[view.selection.start:view.selection.end] == "Attention is all"
    ((page, start_i, end_i, quote, quads),) = view.highlight_target()
    assert (page, start_i, end_i, quote) == (0, 0, 16, "Attention is all") and len(quads) == 1


def test_outline_and_internal_link(desk, qtbot):
    from paperdesk.gui.qt import Qt

    window, pid = desk
    show_pdf(window, qtbot, pid, corpus_pdf("pdflatex-outline.pdf"))
    pane = window.reader.pdf
    view = pane.view
    press(window, qtbot, "t")
    assert pane.outline.isVisible() and pane.outline.topLevelItemCount() >= 4
    choose_entry(qtbot, pane.outline, pane.outline.topLevelItem(0))
    assert view.current_page() == 1
    choose_entry(qtbot, pane.outline, pane.outline.topLevelItem(2))  # "Baz", lower on the same page
    _, _, page, y = view.doc.outline()[2]
    heading = view.to_view(page, (0, y - 1, 10, y))
    assert 0 <= heading.bottom() <= 20  # at the top of the view, not the page's top
    press(window, qtbot, "g", "g")
    qtbot.waitUntil(lambda: view.page_painted(0), timeout=10_000)  # its links come with it
    link = view.doc.links(0)[0]
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.to_view(0, link.rect).center().toPoint())
    assert view.current_page() == link.page


def test_encrypted_pdf_asks_for_the_password(desk, qtbot):
    window, pid = desk
    attach(window.lib, pid, corpus_pdf("libreoffice-writer-password.pdf"), fetched=True)
    window.show_paper(pid)
    pane = window.reader.pdf
    assert pane.view.doc is None and "encrypted" in pane.message.text()
    assert pane.password_dialog is None  # selecting the paper asks nothing (j/k keep working)
    window.table.setFocus()
    window.run_command("toggle-pdf")  # moving into the PDF asks
    dialog = pane.password_dialog
    assert dialog is not None and dialog.isVisible()  # opened with open(): the test goes on
    dialog.setTextValue("wrong")
    dialog.accept()
    assert pane.view.doc is None and pane.password_dialog is not None
    assert "Wrong password" in pane.password_dialog.labelText()
    pane.password_dialog.setTextValue("openpassword")
    pane.password_dialog.accept()
    assert pane.view.doc is not None and not pane.message.isVisible()
    qtbot.waitUntil(lambda: pane.view.page_painted(0), timeout=10_000)


def test_the_password_of_a_fetched_encrypted_pdf_keeps_it_decrypted_undoably(desk, qtbot):
    """Issue 20: the password that opens a fetched encrypted PDF makes the library keep its
    decrypted copy (through the one writer, undoable), so its text gets extracted and indexed."""
    from paperdesk.core.pdf import files
    from paperdesk.core.pdf.document import PdfDocument

    window, pid = desk
    locked = attach(window.lib, pid, corpus_pdf("libreoffice-writer-password.pdf"), fetched=True)
    window.show_paper(pid)
    window.run_command("toggle-pdf")
    pane = window.reader.pdf
    pane.password_dialog.setTextValue("wrong")
    pane.password_dialog.accept()
    settle_desks(qtbot)
    assert window.lib.pdf_path(pid) == locked  # a wrong password stores nothing
    pane.password_dialog.setTextValue("openpassword")
    pane.password_dialog.accept()
    settle_desks(qtbot)
    kept = window.lib.pdf_path(pid)
    assert kept is not None and kept != locked
    with PdfDocument.open(kept) as doc:  # no password needed any more
        assert doc.page_count == 1
    assert files.pdf_row(window.lib, pid)["text_state"] in ("pending", "done")  # extraction is due
    assert "without its password" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: pane.path == kept and pane.view.doc is not None, timeout=10_000)
    window.run_command("undo")
    settle_desks(qtbot)
    assert window.lib.pdf_path(pid) == locked
    assert files.pdf_row(window.lib, pid)["text_state"] == "encrypted"


def test_broken_pdf_gets_one_clear_message(desk, qtbot, tmp_path):
    window, pid = desk
    kept = attach(window.lib, pid, write_pdf(tmp_path / "fine.pdf", [["Fine"]]))
    kept.write_bytes(b"<html><body>Service unavailable</body></html>")  # damaged on disk since
    window.show_paper(pid)
    pane = window.reader.pdf
    assert window.reader.showing_pdf and pane.view.doc is None
    assert pane.message.text().startswith(f"{kept.name}: not a PDF, or truncated or corrupt.")
    assert "\n" not in pane.message.text()


def test_no_text_layer_says_so(desk, qtbot, tmp_path):
    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "scan.pdf", [[], []]))
    pane = window.reader.pdf
    qtbot.waitUntil(lambda: "no text layer" in pane.message.text(), timeout=10_000)
    press(window, qtbot, "h")
    assert "no text to search or highlight" in window.statusBar().currentMessage()


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")  # offscreen: tooltips
def test_other_programs_annotations_are_read(desk, qtbot):
    from paperdesk.gui.qt import QToolTip

    window, pid = desk
    show_pdf(window, qtbot, pid, corpus_pdf("annotated_pdf.pdf"))
    view = window.reader.pdf.view
    qtbot.waitUntil(lambda: view.page_painted(0), timeout=10_000)  # its annotations come with it
    annotations = view.doc.annotations(0)
    assert {"text", "highlight", "ink"} <= {a.kind for a in annotations}
    text_note = next(a for a in annotations if a.kind == "text")
    hover(qtbot, view, view.to_view(0, text_note.rect).center().toPoint())
    qtbot.waitUntil(lambda: "This is a text annotation." in QToolTip.text())


def test_page_cache_keeps_within_its_bound():
    from paperdesk.gui.pdf_render import PageCache
    from paperdesk.gui.qt import QImage

    cache = PageCache(limit=3 * 100 * 100 * 4)
    for page in range(5):
        cache.put((page, 1000), QImage(100, 100, QImage.Format.Format_RGB32))
    assert cache.size <= cache.limit
    assert (0, 1000) not in cache and (1, 1000) not in cache and (4, 1000) in cache
    cache.get((2, 1000))  # used: kept over page 3
    cache.put((5, 1000), QImage(100, 100, QImage.Format.Format_RGB32))
    assert (2, 1000) in cache and (3, 1000) not in cache
    assert cache.any_scale(4) is not None and cache.any_scale(0) is None


def test_dark_theme_inverts_pages(qtbot, tmp_path):
    from paperdesk.core.pdf import PdfDocument
    from paperdesk.gui.pdf_render import PageRenderer

    renderer = PageRenderer()
    renderer.dark = True
    renderer.set_document(PdfDocument.open(write_pdf(tmp_path / "d.pdf", [["Dark"]])))
    with qtbot.waitSignal(renderer.page_ready, timeout=10_000) as ready:
        renderer.want([(0, 0.5)])
    _generation, page, key, image, _links, _annots = ready.args
    assert (page, key) == (0, 500)
    assert image.pixelColor(0, 0).lightness() < 10  # white paper shown black
    renderer.close()


def test_go_to_page_full_window_and_colour_buttons(desk, qtbot, tmp_path):
    from paperdesk.gui.qt import Qt

    window, pid = desk
    pages = [[f"Words of page {n}"] for n in range(1, 6)]
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "g.pdf", pages))
    view = window.reader.pdf.view
    press(window, qtbot, "g", "p")
    dialog = window.dialogs.top()
    assert dialog is not None and dialog.isVisible()  # open(), not exec(): the test goes on
    dialog.setIntValue(4)
    dialog.accept()
    assert view.current_page() == 3 and view.hasFocus()
    press(window, qtbot, "f")
    assert not window.sidebar.isVisible() and not window.table.isVisible()
    press(window, qtbot, "f")
    assert window.sidebar.isVisible() and window.table.isVisible()
    window.reader.pdf.find_field.setText("page 4")
    window.reader.pdf.find_field.returnPressed.emit()
    qtbot.waitUntil(lambda: view.current_match() is not None, timeout=10_000)
    qtbot.mouseClick(window.reader.colour_buttons["green"], Qt.MouseButton.LeftButton)
    settle_desks(qtbot)
    (mark,) = [h for h in window.lib.highlights.of(pid) if h.field == "pdf"]
    assert (mark.color, mark.page, mark.quote) == ("green", 3, "page 4")
    qtbot.waitUntil(lambda: bool(view.highlights))
    with qtbot.waitSignal(view.highlight_activated) as activated:
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton,
                          pos=view.to_view(3, tuple(mark.quads[0])).center().toPoint())
    assert activated.args == [mark.id]  # the window opens its comment dialog
    dialog = window.dialogs.top()
    dialog.setTextValue("see fig. 2")
    dialog.accept()
    settle_desks(qtbot)
    assert window.lib.highlights.get(mark.id).comment == "see fig. 2"
    press(window, qtbot, "u")  # undoable like any comment
    assert window.lib.highlights.get(mark.id).comment == ""


def _ink_box(view, page: int):
    """The bounding box of the dark pixels of page `page` as rendered, in viewport coordinates."""
    from paperdesk.gui.qt import QRectF

    image = view.cache.get((page, round(view.render_scale * 1000)))
    ratio = image.devicePixelRatio()
    xs, ys = [], []
    for y in range(0, image.height()):
        for x in range(0, image.width()):
            if image.pixelColor(x, y).lightness() < 100:
                xs.append(x)
                ys.append(y)
    origin = view.page_rect(page).topLeft()
    return QRectF(origin.x() + min(xs) / ratio, origin.y() + min(ys) / ratio,
                  (max(xs) - min(xs) + 1) / ratio, (max(ys) - min(ys) + 1) / ratio)


@pytest.mark.parametrize("rotate", [0, 90])
@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")  # offscreen: tooltips
def test_offset_crop_box_places_matches_selection_and_links_on_the_text(desk, qtbot, tmp_path, rotate):
    """A page whose visible box starts at (50, 100), not (0, 0), maybe turned: what is drawn on it
    and what the mouse hits lands on the rendered glyphs (it was 50 points off, or worse)."""
    from paperdesk.gui.qt import Qt

    window, pid = desk
    source = write_pdf(tmp_path / "crop.pdf", [["Quokka"]], size=(500, 300), crop_box=(50, 100, 450, 290),
                       rotate=rotate, links={0: [((60, 200, 300, 260), "https://example.org/quokka")]})
    show_pdf(window, qtbot, pid, source)
    view = window.reader.pdf.view
    view.set_zoom(1.0)
    qtbot.waitUntil(lambda: view.page_painted(0), timeout=10_000)
    # The search match is drawn around the glyphs (the font's box is a little taller than the ink).
    window.reader.pdf.find_field.setText("quokka")
    window.reader.pdf.find_field.returnPressed.emit()
    qtbot.waitUntil(lambda: view.current_match() is not None, timeout=10_000)
    page, start, length = view.current_match()
    (rect,) = line_rects(view.doc.char_boxes(page), start, start + length)
    drawn = view.to_view(0, rect)
    ink = _ink_box(view, 0)  # where the page is now (the search may have scrolled)
    assert drawn.adjusted(-1.5, -1.5, 1.5, 1.5).contains(ink), (drawn, ink)
    # The mouse finds the characters under it: a double-click on the ink selects the word.
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=ink.center().toPoint())
    assert view.selection is not None
    assert view.doc.page_text(0)[view.selection.start:view.selection.end] == "Quokka"
    # The link area around the word is where the word is shown, and only there.
    away = view.to_view(0, (52, 150, 54, 152)).center().toPoint()
    assert points_at_link(qtbot, view, ink.center().toPoint()) and not points_at_link(qtbot, view, away)
    # A highlight made from the selection is drawn over the word and found under the mouse there.
    press(window, qtbot, "h")
    qtbot.waitUntil(lambda: len(view.highlights) == 1)
    (mark,) = view.highlights
    assert view.to_view(0, tuple(mark.quads[0])).adjusted(-1.5, -1.5, 1.5, 1.5).contains(ink)
    activated: list[int] = []
    view.highlight_activated.connect(activated.append)  # a double-click on a highlight: comment it
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=away)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=ink.center().toPoint())
    assert activated == [mark.id]
    for dialog in window.findChildren(QInputDialog):  # the comment dialog that double-click opened
        dialog.close()


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")  # offscreen: tooltips
def test_external_links_open_only_web_and_mail_addresses(desk, qtbot, tmp_path):
    """A click on a PDF's link to http(s) or mailto goes to the system's handler for it (registered
    here as Qt lets any program do); file:, javascript:, custom schemes and scheme-less targets are
    refused with one status line. Hovering a link says where it leads."""
    from paperdesk.gui.qt import QDesktopServices, QObject, Qt, Slot

    targets = ["https://example.org/a?b=1", "http://example.org/", "mailto:someone@example.org",
               "file:///etc/passwd", "javascript:alert(1)", "zotero://select/items/1", "www.example.org",
               "https://"]
    areas = [((72, 760 - 20 * n, 300, 774 - 20 * n), uri) for n, uri in enumerate(targets)]
    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "links.pdf", [["Links"]], links={0: areas}))
    view = window.reader.pdf.view
    view.set_zoom(1.0)
    qtbot.waitUntil(lambda: view.page_painted(0), timeout=10_000)  # its links come with it
    assert len(view.doc.links(0)) == len(targets)
    opened: list[str] = []

    class Handler(QObject):
        @Slot("QUrl")
        def open(self, url):
            opened.append(url.toString())

    handler = Handler()
    schemes = ("https", "http", "mailto", "file", "javascript", "zotero")
    for scheme in schemes:
        QDesktopServices.setUrlHandler(scheme, handler, "open")
    try:
        for rect, uri in areas:
            centre = view.to_view(0, rect).center().toPoint()
            qtbot.mouseMove(view.viewport(), centre)
            hover = window.statusBar().currentMessage()
            assert uri in hover and "\n" not in hover
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
            said = window.statusBar().currentMessage()
            if uri in targets[:3]:
                assert opened[-1] == uri and said == f"Opened {uri}"
            else:
                assert said.startswith(f"Not opened: {uri} (only http, https and mailto")
    finally:
        for scheme in schemes:
            QDesktopServices.unsetUrlHandler(scheme)
    assert opened == targets[:3]  # nothing else reached any handler


def drag(qtbot, view, *points) -> None:
    """Press at the first point, move through the others (with the button held), release."""
    from paperdesk.gui.qt import QPoint, Qt

    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=points[0])
    for point in points[1:]:
        qtbot.mouseMove(view.viewport(), QPoint(point))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=points[-1])


PAGES = [["Alpha words on the first page", "ending here with quokka"],
         ["Second page text in the middle"],
         ["Third page begins with wombat and", "then goes on"]]


def test_drag_across_page_breaks_selects_copies_and_highlights_every_part(desk, qtbot, tmp_path):
    """A drag from a word on page 1 to a word on page 3 selects to the end of page 1, all of page 2,
    and page 3 up to that word; Ctrl+C copies that text; h stores one highlight row per page (one
    undo step), drawn on each page (tests/test_pdf_highlights.py: exported and searched)."""
    from paperdesk.gui.qt import QGuiApplication, Qt

    window, pid = desk
    source = write_pdf(tmp_path / "three.pdf", PAGES, size=(300, 120))  # small pages: all three show
    show_pdf(window, qtbot, pid, source)
    view = window.reader.pdf.view
    view.set_zoom(1.0)
    qtbot.waitUntil(lambda: all(view.page_painted(p) for p in range(3)), timeout=10_000)
    first = view.doc.page_text(0).index("quokka") + 2
    last = view.doc.page_text(2).index("wombat") + 3
    start = view.to_view(0, view.doc.char_boxes(0)[first]).center().toPoint()
    end = view.to_view(2, view.doc.char_boxes(2)[last]).center().toPoint()
    gap = (view.page_rect(0).bottom() + view.page_rect(1).top()) / 2  # between pages 1 and 2
    drag(qtbot, view, start, start + type(start)(0, round(gap - start.y())), end)
    selection = view.selection
    assert (selection.page, selection.end_page) == (0, 2)
    assert view.selected_text() == "quokka\nSecond page text in the middle\nThird page begins with wombat"
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == view.selected_text()
    assert "Copied 12 words" in window.statusBar().currentMessage()
    press(window, qtbot, "h")
    marks = [h for h in window.lib.highlights.of(pid) if h.field == "pdf"]
    assert [(h.page, h.quote) for h in marks] == [
        (0, "quokka"), (1, "Second page text in the middle"), (2, "Third page begins with wombat")]
    text = [view.doc.page_text(p) for p in range(3)]
    assert all(text[h.page][h.start:h.end].split() == h.quote.split() for h in marks)
    assert all(len(h.quads) == 1 for h in marks)  # one line on each page
    assert "pages 1–3" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: len(view.highlights) == 3)
    assert view.selection is None
    assert {h.page for h in view.highlights} == {0, 1, 2}
    window.run_command("undo")  # the three parts are one step
    settle_desks(qtbot)
    assert [h for h in window.lib.highlights.of(pid) if h.field == "pdf"] == []


def test_drag_held_below_the_view_scrolls_and_selects_into_the_next_page(desk, qtbot, tmp_path):
    """Pages taller than the view: holding a drag below the view's edge scrolls the pages, and the
    selection follows into the next page."""
    from paperdesk.gui.qt import QPoint, Qt

    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "tall.pdf", PAGES[:2]))
    view = window.reader.pdf.view
    view.set_zoom(1.0)
    qtbot.waitUntil(lambda: view.page_painted(0), timeout=10_000)
    start = view.to_view(0, view.doc.char_boxes(0)[0]).center().toPoint()
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    below = QPoint(start.x(), view.viewport().height() + 40)
    qtbot.mouseMove(view.viewport(), below)
    qtbot.waitUntil(lambda: view.current_page() == 1 and view.selection.end_page == 1, timeout=10_000)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=below)
    assert view.selection.page == 0 and view.selection.start == 0
    assert view.selected_text().startswith("Alpha words on the first page\nending here with quokka\nSecond")


def test_fit_width_settles_where_the_scroll_bar_would_come_and_go(qtbot, tmp_path):
    """A size where the page fits in height only beside the scroll bar's width: fit width used to
    flip between the two widths on every resize (the bar showing, then not); now it settles."""
    from paperdesk.core.pdf import PdfDocument
    from paperdesk.gui.pdf_view import GAP, PdfView
    from paperdesk.gui.qt import QApplication

    view = PdfView()
    qtbot.addWidget(view)
    frame = 2 * view.frameWidth()
    bar = view.verticalScrollBar().sizeHint().width()
    width = 400
    full, narrow = ((width - frame - extra - 2 * GAP) / 612 for extra in (0, bar))
    height = round((792 * full + 792 * narrow) / 2) + 2 * GAP + frame  # fits at narrow, not at full
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    view.set_document(PdfDocument.open(write_pdf(tmp_path / "one.pdf", [["One page"]])))
    zooms = []
    for _ in range(4):  # each round: lay out again and let the resizes it causes happen
        view.set_fit_width()
        QApplication.processEvents()
        zooms.append(round(view.zoom, 6))
    assert len(set(zooms)) == 1, zooms
    assert view.zoom == pytest.approx(narrow)
    assert 792 * view.zoom + 2 * GAP <= view.viewport().height()  # the page fits: no bar
    view.set_document(None)
    view.renderer.close()


def _find_in(window, qtbot, pid, tmp_path, pages):
    """The paper's PDF made of `pages` shown, and the keys in its find field: (pane, view)."""
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "q.pdf", pages))
    press(window, qtbot, "/")
    return window.reader.pdf, window.reader.pdf.view


def test_find_field_enter_again_goes_to_next_match_and_esc_back_to_the_pages(desk, qtbot, tmp_path):
    from paperdesk.gui.qt import Qt

    window, pid = desk
    pane, view = _find_in(window, qtbot, pid, tmp_path,
                          [["a quokka here"], ["another quokka"], ["last quokka"]])
    assert pane.find_field.hasFocus()
    qtbot.keyClicks(pane.find_field, "quokka")
    qtbot.keyClick(pane.find_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.current_match() is not None, timeout=10_000)
    assert view.match_index == 0 and view.hasFocus()
    press(window, qtbot, "/")
    qtbot.keyClick(pane.find_field, Qt.Key.Key_Return)  # the same text: the next match
    assert view.match_index == 1
    press(window, qtbot, "/")
    qtbot.keyClick(pane.find_field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert view.match_index == 0
    press(window, qtbot, "/")
    qtbot.keyClick(pane.find_field, Qt.Key.Key_Escape)  # back to the pages, not to the list
    assert view.hasFocus() and not window.table.hasFocus()
    press(window, qtbot, "n")  # the pages' keys work at once
    assert view.match_index == 1


def test_find_as_you_type_searches_after_a_pause_shows_the_count_and_keeps_the_focus(desk, qtbot, tmp_path):
    """Typing searches without Enter, after a pause (a QTimer), on the render thread; the bar shows
    the count; the focus stays in the field; Enter then goes to the pages at that match."""
    window, pid = desk
    pane, view = _find_in(window, qtbot, pid, tmp_path,
                          [["a quokka here"], ["another quokka"], ["last quokka and a wombat"]])
    qtbot.keyClicks(pane.find_field, "quokka")
    assert view.matches == []  # not on every key: after the pause
    qtbot.waitUntil(lambda: pane.match_label.text() == "1 of 3", timeout=10_000)
    assert view.match_index == 0 and pane.find_field.hasFocus()
    qtbot.keyClicks(pane.find_field, " and")  # "quokka and": one match, on the last page
    qtbot.waitUntil(lambda: pane.match_label.text() == "1 of 1", timeout=10_000)
    assert view.current_match()[0] == 2 and pane.find_field.hasFocus()
    qtbot.keyClick(pane.find_field, Qt.Key.Key_Return)  # to the pages at the match, not past it
    assert view.hasFocus() and view.match_index == 0
    pane.focus_find()
    qtbot.keyClicks(pane.find_field, "zebra")  # replaces the selected text
    qtbot.waitUntil(lambda: pane.match_label.text() == "no match", timeout=10_000)
    assert view.matches == []


def test_a_newer_search_supersedes_an_older_one_still_running(desk, qtbot, tmp_path):
    """Two searches asked for at once: only the newer one's matches are kept, whichever ends last."""
    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "q.pdf", [["quokka quokka wombat"]]))
    view = window.reader.pdf.view
    with qtbot.waitSignal(view.found, timeout=10_000, check_params_cb=lambda i, n: n == 1):
        view.find("quokka")
        view.find("wombat")
    done = []
    view.renderer.submit(lambda doc: None, lambda *_a: done.append(True))  # after both searches
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    assert len(view.matches) == 1 and view.doc.page_text(0)[view.matches[0][1]:].startswith("wombat")


def test_back_and_forward_after_following_a_link(desk, qtbot, tmp_path):
    """A link to another page is a jump: Alt+Left (or Backspace, or the bar's ←) returns to the very
    place it left, Alt+Right goes there again; another document starts with no history."""
    window, pid = desk
    pages = [["See section 3 on the last page"], ["Two"], ["Section 3"]]
    source = write_pdf(tmp_path / "l.pdf", pages, links={0: [((72, 700, 300, 730), 2)]})
    show_pdf(window, qtbot, pid, source)
    pane = window.reader.pdf
    view = pane.view
    assert not pane.back_button.isEnabled() and not pane.forward_button.isEnabled()
    bar = view.verticalScrollBar()
    bar.setValue(30)  # read a little way down the first page
    link = view.doc.links(0)[0]
    assert link.page == 2
    where = view.to_view(0, link.rect).center().toPoint()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert view.current_page() == 2 and pane.back_button.isEnabled()
    press(window, qtbot, "Alt+Left")
    assert bar.value() == 30 and view.current_page() == 0
    assert pane.forward_button.isEnabled() and not pane.back_button.isEnabled()
    press(window, qtbot, "Alt+Right")
    assert view.current_page() == 2
    press(window, qtbot, "Backspace")
    assert bar.value() == 30
    pane.forward_button.click()
    assert view.current_page() == 2
    press(window, qtbot, "g", "g")  # scrolling is no jump: Back still returns to where the link was
    pane.back_button.click()
    assert bar.value() == 30
    pane.open_pdf(pid, write_pdf(tmp_path / "other.pdf", [["Other"], ["Pages"]]))
    assert not pane.back_button.isEnabled() and not pane.forward_button.isEnabled()


def test_back_returns_from_a_search_match_to_where_the_reader_was(desk, qtbot, tmp_path):
    """Going to a far match (find as you type, Enter, n) was no jump: Alt+Left said there was no
    earlier place. Now the place the reader was reading goes on the Back list once per search (the
    next match, or a longer text typed, moves on from the last match without adding to it); Forward
    goes to the match again; after reading elsewhere, a match is a jump again."""
    window, pid = desk
    pages = [[f"Page {n} text"] for n in range(1, 9)]
    pages[4] = ["a quokka on page five"]
    pages[6] = ["another quokka on page seven"]
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "far.pdf", pages))
    pane, view = window.reader.pdf, window.reader.pdf.view
    bar = view.verticalScrollBar()
    view.go_to_page(1)
    bar.setValue(bar.value() + 30)  # reading a little way down page 2
    reading = bar.value()
    press(window, qtbot, "/")
    qtbot.keyClicks(pane.find_field, "quokka")
    qtbot.waitUntil(lambda: pane.match_label.text() == "1 of 2", timeout=10_000)
    assert view.current_page() == 4 and pane.back_button.isEnabled()
    qtbot.keyClick(pane.find_field, Qt.Key.Key_Return)
    press(window, qtbot, "n")  # the next match, page 7: on from the last match
    qtbot.waitUntil(lambda: view.current_page() == 6, timeout=10_000)
    done: list[bool] = []
    view.renderer.submit(lambda doc: None, lambda *_a: done.append(True))  # the match placed on its page
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    at_match = bar.value()
    press(window, qtbot, "Alt+Left")  # back to the place read, past both matches
    assert bar.value() == reading and view.current_page() == 1
    assert not pane.back_button.isEnabled() and pane.forward_button.isEnabled()
    press(window, qtbot, "Alt+Right")
    assert bar.value() == at_match
    press(window, qtbot, "Home")  # reading at the start now: a match is a jump from here
    assert bar.value() == 0
    press(window, qtbot, "/")
    qtbot.keyClicks(pane.find_field, "quokka on")
    qtbot.waitUntil(lambda: pane.match_label.text() == "1 of 2" and view.current_page() == 4, timeout=10_000)
    qtbot.keyClicks(pane.find_field, " page s")  # typed on: its one match, page 7, adds no place
    qtbot.waitUntil(lambda: pane.match_label.text() == "1 of 1" and view.current_page() == 6, timeout=10_000)
    press(window, qtbot, "Alt+Left")
    assert bar.value() == 0
    press(window, qtbot, "Alt+Left")
    assert bar.value() == reading and not pane.back_button.isEnabled()


def test_ctrl_wheel_zooms(desk, qtbot, tmp_path):
    from PySide6.QtGui import QWheelEvent

    from paperdesk.gui.qt import QApplication, QPoint, QPointF, Qt

    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "z.pdf", [["Zoom me"], ["Two"]]))
    view = window.reader.pdf.view
    view.set_zoom(1.0)

    def wheel(delta: int, modifiers) -> None:
        centre = QPointF(view.viewport().rect().center())
        event = QWheelEvent(centre, QPointF(view.viewport().mapToGlobal(centre.toPoint())), QPoint(),
                            QPoint(0, delta), Qt.MouseButton.NoButton, modifiers,
                            Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(view.viewport(), event)

    wheel(120, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom == 1.25 and not view.fit_width
    wheel(-120, Qt.KeyboardModifier.ControlModifier)
    wheel(-120, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom == 0.8
    top = view.verticalScrollBar().value()
    wheel(-120, Qt.KeyboardModifier.NoModifier)  # the wheel alone scrolls
    assert view.zoom == 0.8 and view.verticalScrollBar().value() > top


def test_shift_arrows_scroll_sideways_when_zoomed_in(desk, qtbot, tmp_path):
    from paperdesk.gui.qt import Qt

    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "w.pdf", [["Wide"], ["Two"]]))
    view = window.reader.pdf.view
    view.set_zoom(3.0)
    bar = view.horizontalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(0)  # the left margin (zooming keeps the middle in view)
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert bar.value() == 2 * view.verticalScrollBar().singleStep() and view.current_page() == 0
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert bar.value() == view.verticalScrollBar().singleStep()
    qtbot.keyClick(view, Qt.Key.Key_Right)  # without Shift: still the next page
    assert view.current_page() == 1


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")  # offscreen: tooltips
def test_a_drag_starting_on_a_link_selects_and_a_click_follows_it(desk, qtbot, tmp_path):
    """Papers link their citations and URLs: pressing on a link and dragging selects the text
    (it used to jump to the link's target at the press); a click still follows the link."""
    from paperdesk.gui.qt import QDesktopServices, QObject, Qt, Slot

    window, pid = desk
    line = "See https://example.org/paper for the code"
    source = write_pdf(tmp_path / "l.pdf", [[line]], links={0: [((90, 715, 230, 732), "https://example.org/paper")]})
    show_pdf(window, qtbot, pid, source)
    view = window.reader.pdf.view
    qtbot.waitUntil(lambda: view.page_painted(0), timeout=10_000)  # its links come with it
    boxes = view.doc.char_boxes(0)
    text = view.doc.page_text(0)
    on_link = view.to_view(0, boxes[text.index("example")]).center().toPoint()
    after = view.to_view(0, boxes[text.index("code")]).center().toPoint()
    assert points_at_link(qtbot, view, on_link)
    opened: list[str] = []

    class Browser(QObject):
        @Slot("QUrl")
        def open(self, url):
            opened.append(url.toString())

    browser = Browser()
    QDesktopServices.setUrlHandler("https", browser, "open")
    try:
        drag(qtbot, view, on_link, after)
        assert opened == []
        assert view.selected_text() == "example.org/paper for the code"
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=on_link)
        assert opened == ["https://example.org/paper"]
    finally:
        QDesktopServices.unsetUrlHandler("https")


def test_esc_from_the_full_window_pdf_shows_the_whole_desk_again(desk, qtbot, tmp_path):
    """Esc goes back to the list: from the PDF alone in the window it used to focus the hidden list,
    whose keys then typed into the hidden note (seen in a real window: 'n' then 't' saved a note 't')."""
    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "e.pdf", [["Esc me"], ["Two"]]))
    press(window, qtbot, "f")
    assert window.pdf.pdf_is_full_window() and not window.table.isVisible()
    press(window, qtbot, "Esc")
    assert window.sidebar.isVisible() and window.table.isVisible() and window.reader.notes.isVisible()
    assert window.table.hasFocus() and window.reader.showing_pdf


def test_pages_are_rendered_in_device_pixels_on_a_high_dpi_screen(desk, qtbot, tmp_path, monkeypatch):
    """Sharp at high DPI: on a screen of pixel ratio 2 a page is rendered with twice the pixels and
    drawn at its logical size (the offscreen platform's ratio is 1, so the view is told 2)."""
    from paperdesk.gui.pdf_view import PdfView

    monkeypatch.setattr(PdfView, "devicePixelRatioF", lambda self: 2.0)
    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "hidpi.pdf", [["Crisp words"]]))
    view = window.reader.pdf.view
    image = view.cache.get((0, round(view.zoom * 2 * 1000)))
    assert image is not None and image.devicePixelRatio() == 2.0
    assert image.width() == round(612 * view.zoom * 2 + 0.4999)  # device pixels
    assert abs(image.deviceIndependentSize().width() - 612 * view.zoom) < 1  # the page's size on screen


def test_the_find_text_is_cleared_when_another_paper_is_shown(desk, qtbot, tmp_path):
    """The find field kept the previous paper's words (and Enter searched them in the next PDF)."""
    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "q.pdf", [["a quokka here"]]))
    pane = window.reader.pdf
    pane.find_field.setText("quokka")
    pane.find_field.returnPressed.emit()
    qtbot.waitUntil(lambda: pane.view.current_match() is not None, timeout=10_000)
    window.selection.move_to_row(1)
    other = window.selection.current_id()
    assert other is not None and other != pid
    show_pdf(window, qtbot, other, write_pdf(tmp_path / "w.pdf", [["a wombat there"]]))
    assert pane.paper_id == other and pane.find_field.text() == ""
    assert pane.view.current_match() is None
    pane.find_field.setText("wombat")
    pane.find_field.returnPressed.emit()
    qtbot.waitUntil(lambda: pane.view.current_match() is not None, timeout=10_000)
    show_pdf(window, qtbot, other, write_pdf(tmp_path / "w2.pdf", [["a newer wombat file"]]))
    assert pane.find_field.text() == "wombat"  # the same paper's newer file keeps it


def test_zooming_in_keeps_the_middle_of_the_view_in_the_middle(desk, qtbot, tmp_path):
    """`+` from the fitted width kept the left edge, so the text column slid off to the right
    (seen in a real window: "Contents" half out of the pane after two `+`)."""
    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "z.pdf", [["Centred words"], ["Two"]]))
    view = window.reader.pdf.view
    press(window, qtbot, "+", "+", "+")
    bar = view.horizontalScrollBar()
    assert bar.maximum() > 0  # wider than the pane now
    assert abs(bar.value() - bar.maximum() / 2) <= 2  # the page's middle still in the view's middle
    bar.setValue(0)  # the reader looks at the left margin: zooming keeps that side in view
    press(window, qtbot, "-")
    assert bar.value() <= bar.maximum() / 2 - 2 or bar.maximum() == 0


def test_a_zoomed_page_keeps_its_middle_in_the_middle_when_the_pane_is_resized(desk, qtbot, tmp_path):
    """A zoomed PDF reopened before the window had its final size showed the page's left edge."""
    window, pid = desk
    show_pdf(window, qtbot, pid, write_pdf(tmp_path / "z.pdf", [["Centred words"], ["Two"]]))
    view = window.reader.pdf.view
    press(window, qtbot, "+", "+", "+")
    bar = view.horizontalScrollBar()
    assert bar.maximum() > 0 and abs(bar.value() - bar.maximum() / 2) <= 2
    for width in (window.width() + 300, window.width() - 200):
        window.resize(width, window.height())
        qtbot.waitUntil(lambda w=width: window.width() == w)
        assert bar.maximum() > 0 and abs(bar.value() - bar.maximum() / 2) <= 2


def test_a_pdf_reopens_where_it_was_left_after_another_paper_and_restart(desk, qtbot, tmp_path, make_window):
    """The page, the place in it and a zoom changed from fit width come back when the paper's PDF is
    shown again, in this desk and in the next one (kept in the library, written by the writer)."""
    from paperdesk.core.pdf import reading_place

    window, pid = desk
    attach(window.lib, pid, write_pdf(tmp_path / "a.pdf", [[f"Page {n}"] for n in range(1, 7)]))
    window.selection.move_to_row(1)
    other = window.selection.current_id()
    assert other is not None and other != pid
    attach(window.lib, other, write_pdf(tmp_path / "b.pdf", [["Other"], ["Paper"]]))

    def shown(desk, paper: str):
        desk.show_paper(paper)
        pane = desk.reader.pdf
        qtbot.waitUntil(lambda: pane.paper_id == paper and pane.view.doc is not None, timeout=10_000)
        return pane.view

    view = shown(window, pid)
    view.zoom_in()
    view.go_to_page(3)
    bar = view.verticalScrollBar()
    bar.setValue(bar.value() + 50)
    left = (view.current_page(), bar.value(), view.zoom)
    assert left[0] == 3 and not view.fit_width
    shown(window, other)
    assert view.current_page() == 0 and view.fit_width  # the other paper opens at its start
    shown(window, pid)
    assert (view.current_page(), bar.value(), view.zoom) == left
    shown(window, other)
    window.close()  # the writer stores the place before it stops
    assert reading_place.load(window.lib, pid) is not None
    assert reading_place.load(window.lib, other) is None  # never moved: nothing written

    again = make_window(window.lib)
    view = shown(again, pid)
    assert (view.current_page(), view.verticalScrollBar().value(), view.zoom) == left
    attach(again.lib, pid, write_pdf(tmp_path / "a2.pdf", [["Newer"], ["and shorter"]]))
    shown(again, other)
    view = shown(again, pid)
    assert view.current_page() == 1  # a newer file with fewer pages: its last page


def test_reading_places_are_read_on_the_reader_thread_and_a_late_one_still_moves_an_unmoved_pdf(
        desk, qtbot, tmp_path, settings_path):
    """The window's thread read a PDF's place from SQLite as the PDF opened (the GUI thread runs no
    queries): the library's places are read once, on the reader thread, as the window opens. A PDF
    shown before they came goes to its place when they come, unless the reader has moved it."""
    from paperdesk.core.pdf import reading_place
    from paperdesk.core.pdf.reading_place import ReadingPlace
    from paperdesk.gui.main_window import MainWindow
    from paperdesk.gui.settings import open_settings

    window, pid = desk
    window.selection.move_to_row(1)
    other = window.selection.current_id()
    assert other is not None and other != pid
    for paper, name in ((pid, "a.pdf"), (other, "b.pdf")):
        attach(window.lib, paper, write_pdf(tmp_path / name, [[f"Page {n}"] for n in range(1, 7)]))
        reading_place.store(window.lib, paper, ReadingPlace(3, 0.25, 6))
    statements: list[str] = []
    window.lib.conn.set_trace_callback(statements.append)  # the windows' (GUI thread's) connection

    def new_window_showing(paper: str) -> MainWindow:
        """A desk that shows the paper's PDF before it has handled any event: the reader thread's
        answers (queued to this thread) cannot have come yet."""
        desk = MainWindow(window.lib, open_settings(str(settings_path)))
        qtbot.addWidget(desk)
        desk.resize(1100, 700)
        desk.show()
        desk.show_paper(paper)
        assert desk.reader.pdf.paper_id == paper and desk.reader.pdf.view.doc is not None
        return desk

    again = new_window_showing(pid)  # shown at once (pid: the list's first, as at start)
    view = again.reader.pdf.view
    qtbot.waitUntil(lambda: view.current_page() == 3, timeout=10_000)  # then at its place
    assert abs(view.place()[1] - 0.25) < 0.01

    third = new_window_showing(pid)  # (the list's first paper: the one the desk shows at start)
    view = third.reader.pdf.view
    view.go_to_page(1)  # the reader moves on before the places come: they do not move it back
    qtbot.waitUntil(lambda: not third.papers.reader.pending("reading-places"), timeout=10_000)
    qtbot.waitUntil(lambda: not third.reading, timeout=10_000)
    assert third.reader.pdf.paper_id == pid and view.current_page() == 1
    third.show_paper(other)
    assert view.current_page() == 3  # known now: at once
    assert not [s for s in statements if "settings" in s]
    for desk in (again, third):
        desk.close()
