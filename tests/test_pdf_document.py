"""The pypdfium2 wrapper on PDFs made here and on the real ones of the shared corpus."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from pdf_samples import corpus_pdf, make_pdf, write_pdf

from paperdesk.core.pdf import PdfBroken, PdfDocument, PdfEncrypted, bidi
from paperdesk.core.pdf.document import char_index_at


@pytest.fixture
def sample(tmp_path: Path) -> PdfDocument:
    path = write_pdf(
        tmp_path / "sample.pdf",
        [["Attention is all you need", "Second line of text"], [], ["Third page about attention"]],
    )
    with PdfDocument.open(path) as doc:
        yield doc


def test_pages_sizes_and_text_one_char_per_index(sample: PdfDocument) -> None:
    assert sample.page_count == 3
    assert sample.page_size(0) == (612, 792)
    text = sample.page_text(0)
    assert text.startswith("Attention is all you need")
    assert "Second line" in text
    assert len(sample.char_boxes(0)) == len(text)
    assert sample.page_text(1) == ""
    # "A" is the first glyph, 72 pt from the left edge, on the first line (baseline 72 pt below the top).
    x0, y0, x1, y1 = sample.char_boxes(0)[0]
    assert x0 == pytest.approx(72, abs=1) and x0 < x1 and y0 < 792 - 72 < y1


def test_search_is_case_insensitive_spans_line_breaks_and_keeps_indices(sample: PdfDocument) -> None:
    hits = sample.search("ATTENTION")
    assert [(page, start) for page, start, _ in hits] == [(0, 0), (2, 17)]
    assert all(length == 9 for _, _, length in hits)
    page, start, length = sample.search("you need second line")[0]
    assert sample.page_text(page)[start : start + length] == "you need\r\nSecond line"
    assert sample.search("absent") == [] and sample.search("   ") == []


def test_text_rects_cover_the_characters(sample: PdfDocument) -> None:
    rects = sample.text_rects(0, 0, 9)  # "Attention"
    assert len(rects) == 1
    x0, y0, x1, y1 = rects[0]
    first, last = sample.char_boxes(0)[0], sample.char_boxes(0)[8]
    assert x0 == pytest.approx(first[0], abs=1) and x1 == pytest.approx(last[2], abs=1)
    two_lines = sample.text_rects(0, 0, len(sample.page_text(0)))
    assert len(two_lines) == 2 and two_lines[1][1] < two_lines[0][1]  # the second line is lower
    assert char_index_at(sample.char_boxes(0), (x0 + x1) / 2, (y0 + y1) / 2, 4.0) in range(9)
    assert sample.text_rects(0, 5, 5) == []


def test_render_is_bgrx_of_the_scaled_page(sample: PdfDocument) -> None:
    data, width, height, stride = sample.render(1, 0.5)
    assert (width, height) == (306, 396) and stride >= width * 4
    assert len(data) == stride * height
    corner = data[0:4]
    middle = data[(height // 2) * stride + (width // 2) * 4 :][:4]
    assert corner[:3] == b"\xff\xff\xff"  # white paper
    assert middle[:3] == bytes([204, 204, 204])  # the grey rectangle (0.8 g)


def test_no_text_layer_is_reported(tmp_path: Path) -> None:
    with PdfDocument.open(write_pdf(tmp_path / "scan.pdf", [[], []])) as doc:
        assert doc.has_text_layer is False
        assert doc.search("anything") == []


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"<!DOCTYPE html><html><body>Not found</body></html>",
        make_pdf([["x"]])[:300],
        b"%PDF-1.7\n" + bytes(500),
    ],
    ids=["empty", "html", "truncated", "garbage"],
)
def test_broken_files_raise_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "paper.pdf"
    path.write_bytes(content)
    with pytest.raises(PdfBroken, match=r"^paper\.pdf: not a PDF, or truncated or corrupt$"):
        PdfDocument.open(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PdfBroken, match="no such file"):
        PdfDocument.open(tmp_path / "gone.pdf")


def test_encrypted_needs_the_password() -> None:
    path = corpus_pdf("libreoffice-writer-password.pdf")
    with pytest.raises(PdfEncrypted, match="needs a password") as needs:
        PdfDocument.open(path)
    assert not needs.value.wrong_password
    with pytest.raises(PdfEncrypted, match="wrong password") as wrong:
        PdfDocument.open(path, password="guess")
    assert wrong.value.wrong_password
    with PdfDocument.open(path, password="openpassword") as doc:
        assert "Lorem ipsum" in doc.page_text(0)


def test_outline_and_internal_links() -> None:
    with PdfDocument.open(corpus_pdf("pdflatex-outline.pdf")) as doc:
        outline = doc.outline()
        assert [title for _, title, _, _ in outline[:3]] == ["Foo", "Bar", "Baz"]
        assert all(page is not None and 0 <= page < doc.page_count for _, _, page, _ in outline)
        # Each section's own place on its page (three share page 2), top to bottom.
        assert [(page, round(y)) for _, _, page, y in outline[:3]] == [(1, 716), (1, 488), (1, 350)]
        links = [link for i in range(doc.page_count) for link in doc.links(i)]
        assert len(links) == 9  # SOURCES.md: 9 internal link annotations
        assert all(link.page is not None and link.uri is None for link in links)
        assert all(link.rect[0] < link.rect[2] and link.rect[1] < link.rect[3] for link in links)


def test_other_programs_annotations() -> None:
    with PdfDocument.open(corpus_pdf("annotated_pdf.pdf")) as doc:
        annotations = {a.kind: a for a in doc.annotations(0)}
        assert set(annotations) == {"text", "highlight", "ink"}
        highlight = annotations["highlight"]
        assert highlight.contents == "Highlight comment" and highlight.color == (255, 255, 0, 255)
        assert len(highlight.quads) == 2
        assert annotations["text"].contents == "This is a text annotation."
        assert doc.links(0) == []


def test_long_document_metadata_and_search() -> None:
    with PdfDocument.open(corpus_pdf("GeoTopo-komprimiert.pdf")) as doc:
        assert doc.page_count == 117
        assert doc.metadata()["Title"] == "Geometrie und Topologie"
        hits = doc.search("Topologie")
        assert len({page for page, _, _ in hits}) > 10
        page, start, length = hits[-1]
        assert doc.page_text(page)[start : start + length].casefold() == "topologie"
        assert doc.has_text_layer


def test_right_to_left_text_is_extracted() -> None:
    with PdfDocument.open(corpus_pdf("habibi.pdf")) as doc:
        text = doc.page_text(0)
        assert "habibi" in text and any("\u0600" <= c <= "\u06ff" for c in text)
        assert len(doc.char_boxes(0)) == len(text)
        # Find takes the word as typed (logical order, no vowel mark) and answers pdfium's places.
        hits = doc.search("حبيبي")
        assert len(hits) == 2
        for _page, start, length in hits:
            assert bidi.logical(text[start:start + length]) == "حَبيبي"


def test_right_to_left_runs_are_reversed_in_place() -> None:
    drawn = f"x {'حبيبي'[::-1]} 12 abc {'مرحبا سلام'[::-1]}."  # two runs as pdfium reads them (drawn)
    read = bidi.logical(drawn)
    assert read == "x حبيبي 12 abc مرحبا سلام." and len(read) == len(drawn)
    assert bidi.logical(read) == drawn  # its own inverse: the runs keep their places
    start = read.index("مرحبا")
    assert bidi.visual_span(drawn, start, start + 5) == (drawn.index("ابحرم"), drawn.index("ابحرم") + 5)
    assert drawn.index("ابحرم") == len(drawn) - 6  # the first word read is the last drawn
    assert bidi.visual_span(drawn, 0, 1) == (0, 1) and bidi.logical("plain") == "plain"
    assert re.fullmatch(bidi.word_pattern("حبيبي"), "حَبيبي")
    assert not re.fullmatch(bidi.word_pattern("habibi"), "habib.")


def test_one_document_from_several_threads(tmp_path: Path) -> None:
    """Renders and text reads from threads at once go through the module's lock: all complete and agree."""
    path = write_pdf(tmp_path / "t.pdf", [[f"page {i} text"] for i in range(6)])
    with PdfDocument.open(path) as doc:
        results: dict[int, str] = {}
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                doc.render(i, 1.0)
                results[i] = doc.page_text(i)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert results == {i: f"page {i} text" for i in range(6)}


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_page_frame_maps_points_to_where_they_are_rendered(tmp_path, rotate):
    """The visible box starts at (50, 100) and may be turned: a character's box, shown through the
    frame, covers the glyph's ink in the rendering."""
    import numpy as np

    path = tmp_path / "crop.pdf"
    path.write_bytes(make_pdf([["Quokka"]], crop_box=(50, 100, 450, 740), rotate=rotate))
    with PdfDocument.open(path) as doc:
        frame = doc.page_frame(0)
        assert frame.box == (50, 100, 450, 740) and frame.turns == rotate // 90
        assert doc.page_size(0) == ((400, 640) if rotate in (0, 180) else (640, 400))
        assert frame.to_pdf(*frame.to_shown(123.0, 456.0)) == pytest.approx((123.0, 456.0))
        data, width, height, stride = doc.render(0, 1.0)
        pixels = np.frombuffer(data, np.uint8).reshape(height, stride)[:, : width * 4]
        ys, xs = np.nonzero(pixels.reshape(height, width, 4)[:, :, 0] < 128)
        boxes = doc.char_boxes(0)[:6]
        word = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())
        left, top, right, bottom = frame.rect_to_shown(word)
        assert left - 1.5 <= xs.min() and xs.max() + 1 <= right + 1.5
        assert top - 1.5 <= ys.min() and ys.max() + 1 <= bottom + 1.5
