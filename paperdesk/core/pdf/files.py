"""PDF files in `<library>/pdfs/`: checked before they are kept, written atomically, one per paper.

A file is checked in a temporary file beside its final place (magic bytes, then pdfium opens it) and
only then renamed over the old one, so a crash or a bad download never leaves a half-written PDF
where the reader looks. An encrypted PDF is kept (the desk asks for its password) but has no text
to search; a broken one, a web page, an empty or oversized file is refused with one line.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from paperdesk.core.changes import Changes
from paperdesk.core.library import Library, LibraryError
from paperdesk.core.pdf.document import PdfBroken, PdfDocument, PdfEncrypted
from paperdesk.core.store import enqueue_index
from paperdesk.core.timeutil import now_iso

PDF_DIR = "pdfs"
_HEAD = 1024  # %PDF- may follow a little junk (the spec tolerates it within the first KB)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class PdfRejected(Exception):
    """Not kept; the message is one line for the user."""


@dataclass(frozen=True)
class PdfFacts:
    pages: int | None  # None when encrypted (unknown without the password)
    sha256: str
    size: int
    encrypted: bool = False


def pdf_dir(lib: Library) -> Path:
    folder = lib.folder / PDF_DIR
    folder.mkdir(exist_ok=True)
    return folder


def file_name(paper_id: str) -> str:
    """A portable file name for the paper's PDF (old arXiv ids hold a '/')."""
    return _UNSAFE.sub("_", paper_id) + ".pdf"


def temp_file(folder: Path) -> Path:
    """A fresh temporary file in `folder` (same file system: the final rename is atomic)."""
    fd, name = tempfile.mkstemp(prefix=".incoming-", suffix=".pdf", dir=folder)
    os.close(fd)
    return Path(name)


def sniff(head: bytes) -> str | None:
    """Why these first bytes are not a PDF, or None if they may be one."""
    if not head:
        return "the file is empty"
    if b"%PDF-" in head[:_HEAD]:
        return None
    text = head[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or b"<html" in text:
        return "a web page, not a PDF"
    return "not a PDF (it does not start with %PDF-)"


def check_file(path: Path) -> PdfFacts:
    """Facts about a candidate PDF, or PdfRejected with the reason."""
    with path.open("rb") as f:
        problem = sniff(f.read(_HEAD))
    if problem:
        raise PdfRejected(problem)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    size = path.stat().st_size
    try:
        with PdfDocument.open(path) as doc:
            pages = doc.page_count
    except PdfEncrypted:
        return PdfFacts(None, digest.hexdigest(), size, encrypted=True)
    except PdfBroken as exc:
        reason = str(exc).split(": ", 1)[-1]
        raise PdfRejected(f"damaged or not a PDF ({reason})") from None
    if pages == 0:
        raise PdfRejected("the PDF has no pages")
    return PdfFacts(pages, digest.hexdigest(), size)


def keep(lib: Library, paper_id: str, incoming: Path, facts: PdfFacts, *, origin: str,
         url: str | None = None, etag: str | None = None, last_modified: str | None = None) -> Changes:
    """Move a checked temporary file into place as the paper's PDF and record it (text pending).
    Not an undoable operation: the op log holds rows, not files."""
    if not lib.exists(paper_id):
        incoming.unlink(missing_ok=True)
        raise LibraryError(f"no paper with id {paper_id}")
    relative = f"{PDF_DIR}/{file_name(paper_id)}"
    old = lib.conn.execute("SELECT path, sha256 FROM pdfs WHERE paper_id = ?", (paper_id,)).fetchone()
    os.replace(incoming, lib.folder / relative)
    _sync_dir(lib.folder / PDF_DIR)
    version = lib.conn.execute("SELECT arxiv_version FROM papers WHERE id = ?", (paper_id,)).fetchone()[0]
    same = old is not None and old[1] == facts.sha256
    with lib._write() as conn:
        conn.execute(
            "INSERT INTO pdfs (paper_id, path, sha256, bytes, pages, origin, url, etag, last_modified, "
            "fetched_at, text_state, arxiv_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (paper_id) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256, "
            "bytes = excluded.bytes, pages = excluded.pages, origin = excluded.origin, url = excluded.url, "
            "etag = excluded.etag, last_modified = excluded.last_modified, fetched_at = excluded.fetched_at, "
            "arxiv_version = excluded.arxiv_version, "
            "text_state = CASE WHEN pdfs.sha256 IS excluded.sha256 THEN pdfs.text_state "
            "ELSE excluded.text_state END",
            (paper_id, relative, facts.sha256, facts.size, facts.pages, origin, url, etag, last_modified,
             now_iso(), "encrypted" if facts.encrypted else "pending", version))
        conn.execute("DELETE FROM pdf_fetches WHERE paper_id = ?", (paper_id,))
        if not same:
            conn.execute("DELETE FROM pdf_texts WHERE paper_id = ?", (paper_id,))
        enqueue_index(conn, [paper_id])
    if old is not None and old[0] != relative:
        with contextlib.suppress(OSError):
            (lib.folder / old[0]).unlink()
    return lib._notify(Changes(papers=frozenset([paper_id])))


def attach(lib: Library, paper_id: str, source: Path, *, max_bytes: int) -> tuple[PdfFacts, Changes]:
    """Copy a local PDF to the library as the paper's PDF; PdfRejected (nothing changed) if it is
    not one. The original file is left alone."""
    if not lib.exists(paper_id):
        raise LibraryError(f"no paper with id {paper_id}")
    try:
        if not source.is_file():
            raise PdfRejected("no such file" if not source.exists() else "not a regular file")
        size = source.stat().st_size
    except OSError as exc:
        raise PdfRejected(f"cannot read it ({exc.strerror})") from None
    if size > max_bytes:
        raise PdfRejected(f"the PDF is larger than the {max_bytes / 1024 / 1024:g} MB limit")
    incoming = temp_file(pdf_dir(lib))
    try:
        try:
            with source.open("rb") as src, incoming.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
        except OSError as exc:
            raise PdfRejected(f"cannot copy it ({exc.strerror})") from None
        facts = check_file(incoming)
        changes = keep(lib, paper_id, incoming, facts, origin="attached", url=None)
    finally:
        incoming.unlink(missing_ok=True)
    return facts, changes


def write_temp(folder: Path, body: bytes) -> Path:
    """Downloaded bytes to a temporary file beside their final place, flushed to disk."""
    path = temp_file(folder)
    with path.open("wb") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    return path


def pdf_row(lib: Library, paper_id: str) -> dict | None:
    cur = lib.conn.execute("SELECT * FROM pdfs WHERE paper_id = ?", (paper_id,))
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def _sync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
