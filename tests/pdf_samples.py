"""Small, valid PDFs written by hand for tests: text pages in Helvetica (a standard font, no embedding),
and pages without a text layer. Real-world PDFs are in ../shared/corpus/pdf (CORPUS_PDF)."""

from __future__ import annotations

from pathlib import Path

CORPUS_PDF = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pdf"


def corpus_pdf(name: str) -> Path:
    """A PDF of the shared corpus; the calling test skips when the corpus is absent."""
    import pytest

    path = CORPUS_PDF / name
    if not path.is_file():
        pytest.skip(f"shared corpus PDF {name} not found at {CORPUS_PDF} (../shared is absent)")
    return path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], *, size: tuple[int, int] = (612, 792)) -> bytes:
    """A PDF with one page per list of lines (12 pt Helvetica, 18 pt apart, from 72 pt below the top).
    A page given as [] has no text layer: it only draws a grey rectangle."""
    width, height = size
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, lines in enumerate(pages):
        if lines:
            ops = ["BT", "/F1 12 Tf", "18 TL", f"72 {height - 72} Td"]
            ops += [f"({_escape(line)}) Tj T*" for line in lines]
            ops.append("ET")
        else:
            ops = ["0.8 g", f"72 72 {width - 144} {height - 144} re f"]
        stream = "\n".join(ops).encode("cp1252")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    path.write_bytes(make_pdf(pages))
    return path
