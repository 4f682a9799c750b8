"""PDF files in `<library>/pdfs/`: checked before they are kept, written atomically, one per paper.

A file is checked in a temporary file beside its final place (magic bytes, then pdfium opens it) and
only then renamed into place, so a crash or a bad download never leaves a half-written PDF where the
reader looks. A broken one, a web page, an empty or oversized file is refused with one line. An
encrypted PDF attached with its password is kept decrypted; one fetched is kept as it is until its
password is given (the desk's password dialog, `pdf fetch --password`: `decrypt_kept` then replaces it
by its decrypted copy, so its text becomes searchable).

Keeping a PDF is an undoable operation (the `pdfs` row and the extracted text are in the op log).
Files are named by their content (`<paper>-<sha256[:16]>.pdf`), so a replaced version keeps its
own file while an operation (to undo or to redo) refers to it; `prune` removes the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from paperdesk.core import ops
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


class PdfNeedsPassword(PdfRejected):
    """An encrypted PDF attached without its password, or with a wrong one: not kept."""

    def __init__(self, message: str, *, wrong_password: bool) -> None:
        super().__init__(message)
        self.wrong_password = wrong_password


@dataclass(frozen=True)
class PdfFacts:
    pages: int | None  # None when encrypted (unknown without the password)
    sha256: str
    size: int
    encrypted: bool = False


def pages_text(pages: int | None) -> str:
    """'1 page', '4 pages', or 'pages unknown' (an encrypted PDF kept without its password)."""
    return f"{pages} page{'' if pages == 1 else 's'}" if pages else "pages unknown"


def pdf_dir(lib: Library) -> Path:
    folder = lib.folder / PDF_DIR
    folder.mkdir(exist_ok=True)
    return folder


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
        raise PdfRejected(broken_reason(exc)) from None
    if pages == 0:
        raise PdfRejected("the PDF has no pages")
    return PdfFacts(pages, digest.hexdigest(), size)


def broken_reason(exc: PdfBroken) -> str:
    """One phrase for a file pdfium cannot open, without the file's name (the caller names it)."""
    reason = str(exc).split(": ", 1)[-1]
    reason = reason.removeprefix("not a PDF, or ")  # "damaged or not a PDF" says that already
    return f"damaged or not a PDF ({reason})"


def stored_name(paper_id: str, sha256: str) -> str:
    """The file name of one version of a paper's PDF: its content names it, so a replaced version
    keeps its own file (undo brings it back) and a portable name for old arXiv ids (with a '/')."""
    return f"{_UNSAFE.sub('_', paper_id)}-{sha256[:16]}.pdf"


def keep(lib: Library, paper_id: str, incoming: Path, facts: PdfFacts, *, origin: str,
         url: str | None = None, etag: str | None = None, last_modified: str | None = None,
         label: str | None = None) -> Changes:
    """Move a checked temporary file into place as the paper's PDF and record it (text pending):
    one undoable operation (the `pdfs` row and the extracted text; undo re-queues the paper for
    the index). The same file again only refreshes its validators (no operation)."""
    if not lib.exists(paper_id):
        incoming.unlink(missing_ok=True)
        raise LibraryError(f"no paper with id {paper_id}")
    old = pdf_row(lib, paper_id)
    same = old is not None and old["sha256"] == facts.sha256 and (lib.folder / old["path"]).is_file()
    relative = old["path"] if same else f"{PDF_DIR}/{stored_name(paper_id, facts.sha256)}"
    os.replace(incoming, lib.folder / relative)
    _sync_dir(lib.folder / PDF_DIR)
    version = lib.conn.execute("SELECT arxiv_version FROM papers WHERE id = ?", (paper_id,)).fetchone()[0]
    row = {"paper_id": paper_id, "path": relative, "sha256": facts.sha256, "bytes": facts.size,
           "pages": facts.pages, "origin": origin, "url": url, "etag": etag, "last_modified": last_modified,
           "fetched_at": now_iso(), "arxiv_version": version,
           "text_state": old["text_state"] if same else "encrypted" if facts.encrypted else "pending"}
    if same:  # nothing a user would undo: the validators and the time of the fetch
        with lib.transaction() as conn:
            ops.put_row(conn, "pdfs", [paper_id], row)
        return Changes()
    label = label or f"{'Fetch' if origin == 'fetched' else 'Attach'} the PDF of {paper_id}"
    with lib.operation("pdf", label) as rec:
        conn = lib.conn
        rec.touch("pdfs", [paper_id], old)
        rec.touch("pdf_texts", [paper_id])
        ops.put_row(conn, "pdfs", [paper_id], row)
        conn.execute("DELETE FROM pdf_fetches WHERE paper_id = ?", (paper_id,))
        conn.execute("DELETE FROM pdf_texts WHERE paper_id = ?", (paper_id,))
        enqueue_index(conn, [paper_id])
        rec.changed(Changes(papers=frozenset([paper_id])))
    prune(lib, paper_id)
    return rec.changes


def prune(lib: Library, paper_id: str) -> list[str]:
    """Remove the paper's PDF files that neither its `pdfs` row nor an operation (to undo or
    redo) refers to; returns their names. Temporary files are not the paper's."""
    keep_paths = {r[0] for r in lib.conn.execute("SELECT path FROM pdfs WHERE paper_id = ?", (paper_id,))}
    for before, after in lib.conn.execute(
            "SELECT before, after FROM op_rows WHERE tbl = 'pdfs' AND key = ?", (json.dumps([paper_id]),)):
        keep_paths |= {json.loads(t)["path"] for t in (before, after) if t}
    mine = re.compile(re.escape(_UNSAFE.sub("_", paper_id)) + r"(-[0-9a-f]{16})?\.pdf")
    removed = []
    for path in (lib.folder / PDF_DIR).iterdir():
        if mine.fullmatch(path.name) and f"{PDF_DIR}/{path.name}" not in keep_paths:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path.name)
    return removed


def attach(lib: Library, paper_id: str, source: Path, *, max_bytes: int,
           password: str | None = None) -> tuple[PdfFacts, Changes]:
    """Copy a local PDF to the library as the paper's PDF; PdfRejected (nothing changed) if it is
    not one. An encrypted PDF needs its password (else PdfNeedsPassword) and is kept decrypted, so
    its text is searchable and the reader never asks again. The original file is left alone."""
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
        if facts.encrypted:
            facts = _decrypt(incoming, password)
        changes = keep(lib, paper_id, incoming, facts, origin="attached", url=None)
    finally:
        incoming.unlink(missing_ok=True)
    return facts, changes


def decrypt_kept(lib: Library, paper_id: str, password: str | None) -> tuple[PdfFacts, Changes]:
    """Replace the paper's kept encrypted PDF (a fetched one) by its decrypted copy: one undoable
    operation, its text pending extraction, so it becomes searchable and never asks again.
    PdfNeedsPassword for a wrong password, PdfRejected if there is nothing to decrypt; either way
    nothing changed."""
    row = pdf_row(lib, paper_id)
    path = lib.pdf_path(paper_id)
    if row is None or path is None:
        raise PdfRejected("it has no PDF")
    if row["text_state"] != "encrypted":
        raise PdfRejected("its PDF is not encrypted")
    incoming = temp_file(pdf_dir(lib))
    try:
        try:
            shutil.copyfile(path, incoming)
        except OSError as exc:
            raise PdfRejected(f"cannot copy it ({exc.strerror})") from None
        facts = _decrypt(incoming, password)
        changes = keep(lib, paper_id, incoming, facts, origin=row["origin"], url=row["url"],
                       etag=row["etag"], last_modified=row["last_modified"],
                       label=f"Decrypt the PDF of {paper_id}")
    finally:
        incoming.unlink(missing_ok=True)
    return facts, changes


def _decrypt(path: Path, password: str | None) -> PdfFacts:
    """Replace the encrypted PDF at `path` by its decrypted copy; the copy's facts."""
    if not password:
        raise PdfNeedsPassword("encrypted: it needs a password", wrong_password=False)
    plain = temp_file(path.parent)
    try:
        with PdfDocument.open(path, password) as doc:
            doc.save_decrypted(plain)
        os.replace(plain, path)
    except PdfEncrypted:
        raise PdfNeedsPassword("encrypted: wrong password", wrong_password=True) from None
    except (PdfBroken, OSError) as exc:
        raise PdfRejected(f"cannot decrypt it ({str(exc).split(': ', 1)[-1]})") from None
    finally:
        plain.unlink(missing_ok=True)
    return check_file(path)


def write_temp(folder: Path, body: bytes) -> Path:
    """Downloaded bytes to a temporary file beside their final place, flushed to disk."""
    path = temp_file(folder)
    with path.open("wb") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    return path


def pdf_row(lib: Library, paper_id: str) -> dict | None:
    return ops.fetch_row(lib.conn, "pdfs", [paper_id])


def _sync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
