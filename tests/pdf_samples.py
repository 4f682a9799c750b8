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


def highlight_pdf(lib, paper_id: str, page: int, start: int, end: int, quote: str,
                  quads: list[list[float]], *, color: str = "yellow", comment: str = ""):
    """One PDF highlight on one page (the desk's drag stores its parts, `add_pdf_parts`):
    (its id, the Changes)."""
    ids, changes = lib.highlights.add_pdf_parts(paper_id, [(page, start, end, quote, quads)],
                                                color=color, comment=comment)
    return ids[0], changes


def pending_lookups(lib) -> int:
    """Papers an arXiv id look-up left pending (a crash or a cancel)."""
    return lib.conn.execute("SELECT count(*) FROM arxiv_lookups WHERE state = 'pending'").fetchone()[0]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


Box = tuple[float, float, float, float]


def make_pdf(pages: list[list[str]], *, size: tuple[int, int] = (612, 792), crop_box: Box | None = None,
             rotate: int = 0, links: dict[int, list[tuple[Box, str | int]]] | None = None) -> bytes:
    """A PDF with one page per list of lines (12 pt Helvetica, 18 pt apart, from 72 pt below the top).
    A page given as [] has no text layer: it only draws a grey rectangle. `crop_box` (x0, y0, x1, y1)
    and `rotate` (degrees) apply to every page; `links` puts link areas on pages by number, each to a URI
    (str) or to a page of this PDF (its number)."""
    width, height = size
    objects: list[bytes] = []
    links = links or {}
    extra = ""
    if crop_box is not None:
        extra += " /CropBox [{} {} {} {}]".format(*crop_box)
    if rotate:
        extra += f" /Rotate {rotate}"
    annots: dict[int, list[int]] = {}  # page -> object numbers of its link annotations
    first_link = 4 + 2 * len(pages)
    link_objects: list[bytes] = []
    for page, areas in sorted(links.items()):
        for rect, uri in areas:
            annots.setdefault(page, []).append(first_link + len(link_objects))
            target = f"/Dest [{4 + 2 * uri} 0 R /Fit]" if isinstance(uri, int) else \
                f"/A << /S /URI /URI ({_escape(uri)}) >>"
            link_objects.append("<< /Type /Annot /Subtype /Link /Rect [{} {} {} {}] /Border [0 0 0] {} >>"
                                .format(*rect, target).encode())
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
        refs = " ".join(f"{n} 0 R" for n in annots.get(i, []))
        page_extra = extra + (f" /Annots [{refs}]" if refs else "")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}]{page_extra} "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.extend(link_objects)
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


def write_pdf(path: Path, pages: list[list[str]], **options) -> Path:
    path.write_bytes(make_pdf(pages, **options))
    return path


_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def make_encrypted_pdf(pages: list[list[str]], password: str) -> bytes:
    """`make_pdf`'s PDF encrypted with `password` (the PDF standard security handler, revision 2:
    40-bit RC4, the simplest every reader supports; only the content streams hold text)."""
    import hashlib
    import re

    plain = make_pdf(pages)
    padded = (password.encode("latin-1") + _PAD)[:32]
    owner = _rc4(hashlib.md5(padded).digest()[:5], padded)  # the owner password is the user's
    permissions = (-4).to_bytes(4, "little", signed=True)
    file_id = hashlib.md5(plain).digest()
    key = hashlib.md5(padded + owner + permissions + file_id).digest()[:5]
    user = _rc4(key, _PAD)

    def encrypt_stream(match: re.Match) -> bytes:
        number, body = int(match.group(1)), match.group(3)
        object_key = hashlib.md5(key + number.to_bytes(3, "little") + b"\0\0").digest()[:10]
        return b"%d 0 obj\n<< /Length %d >>\nstream\n" % (number, len(body)) + _rc4(object_key, body) + \
            b"\nendstream\nendobj\n"

    stream = re.compile(rb"(\d+) 0 obj\n<< /Length (\d+) >>\nstream\n(.*?)\nendstream\nendobj\n", re.S)
    body = stream.sub(encrypt_stream, plain[:plain.index(b"xref\n")])
    count = len(re.findall(rb"\d+ 0 obj\n", body))
    body += b"%d 0 obj\n<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>\nendobj\n" % (
        count + 1, owner.hex().encode(), user.hex().encode())
    offsets = [m.start() for m in re.finditer(rb"(?m)^\d+ 0 obj\n", body)]
    xref = len(body)
    out = body + b"xref\n0 %d\n0000000000 65535 f \n" % (count + 2)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    ids = file_id.hex().encode()
    trailer = b"trailer\n<< /Size %d /Root 1 0 R /Encrypt %d 0 R /ID [<%s> <%s>] >>\n"
    out += trailer % (count + 2, count + 1, ids, ids) + b"startxref\n%d\n%%%%EOF\n" % xref
    return out
