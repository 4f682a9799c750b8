"""`pdf import DIR`: PDFs in a folder matched to papers and attached.

A file matches a paper by its arXiv id (in the file name, the PDF's metadata, or the first page's
text, where arXiv stamps it) or by its exact title (the file name, the metadata's Title, or the
first lines of the first page). A file that matches nothing, or more than one paper, or is not a
readable PDF is reported and left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from paperdesk.core.library import Library, Progress, reporting
from paperdesk.core.normalize import ARXIV_ID_RE, find_arxiv_id, normalize_title
from paperdesk.core.pdf import files
from paperdesk.core.pdf import settings as pdf_settings
from paperdesk.core.pdf.document import PdfBroken, PdfDocument, PdfEncrypted, PdfError

TITLE_LINES = 6  # a title may wrap over a few of the first page's lines


@dataclass
class FileMatch:
    file: str
    paper_id: str | None = None
    how: str | None = None  # "file name", "title in the file name", "metadata", "first page", "title"
    error: str | None = None
    encrypted: bool = False


@dataclass
class ImportReport:
    files: list[FileMatch] = field(default_factory=list)
    cancelled: bool = False

    @property
    def matched(self) -> list[FileMatch]:
        return [f for f in self.files if f.paper_id and not f.error]

    @property
    def unmatched(self) -> list[FileMatch]:
        return [f for f in self.files if not f.paper_id or f.error]

    def to_json(self) -> dict:
        return {"matched": [asdict(f) for f in self.matched],
                "unmatched": [asdict(f) for f in self.unmatched], "cancelled": self.cancelled}


def _by_arxiv(lib: Library, text: str | None) -> str | None:
    ids = {m.group(1) for m in ARXIV_ID_RE.finditer(text or "")}
    found = {row[0] for a in ids
             for row in lib.conn.execute("SELECT id FROM papers WHERE arxiv_id = ?", (a,))}
    return found.pop() if len(found) == 1 else None


def _by_title(lib: Library, candidates: list[str]) -> str | None:
    norms = [n for n in dict.fromkeys(normalize_title(c) for c in candidates) if len(n) >= 8]
    found: set[str] = set()
    for norm in norms:
        found |= {r[0] for r in lib.conn.execute("SELECT id FROM papers WHERE title_norm = ?", (norm,))}
    return found.pop() if len(found) == 1 else None


def match_file(lib: Library, path: Path, password: str | None = None) -> FileMatch:
    """Which paper this PDF is, by the cheapest sign first (an encrypted one read with `password`)."""
    result = FileMatch(str(path))
    pid = _by_arxiv(lib, path.stem if find_arxiv_id(path.stem) else None)
    if pid:
        result.paper_id, result.how = pid, "file name"
        return result
    pid = _by_title(lib, [path.stem.replace("_", " ")])  # saved as "<title>.pdf"
    if pid:
        result.paper_id, result.how = pid, "title in the file name"
        return result
    try:
        with path.open("rb") as f:
            problem = files.sniff(f.read(1024))  # a web page saved as .pdf says so, as attach does
    except OSError as exc:
        problem = exc.strerror or "cannot be read"
    if problem:
        result.error = problem
        return result
    try:
        try:
            doc = PdfDocument.open(path)
        except PdfEncrypted:
            result.encrypted = True
            if not password:
                raise
            doc = PdfDocument.open(path, password)
        with doc:
            meta = doc.metadata()
            first = doc.page_text(0) if doc.page_count else ""
    except PdfEncrypted as exc:
        result.error = "encrypted: wrong password" if exc.wrong_password else "encrypted: it needs a password"
        return result
    except PdfBroken as exc:  # the words attach uses, without the file's name again
        result.error = files.broken_reason(exc)
        return result
    except PdfError as exc:
        result.error = str(exc)
        return result
    lines = [line.strip() for line in first.replace("\r\n", "\n").split("\n") if line.strip()][:TITLE_LINES]
    firsts = [" ".join(lines[i:j]) for i in range(len(lines)) for j in range(i + 1, len(lines) + 1)]
    for how, pid in (
        ("metadata", _by_arxiv(lib, " ".join(meta.values()))),
        ("first page", _by_arxiv(lib, first[:3000])),
        ("title", _by_title(lib, [meta.get("Title", "")])),
        ("title", _by_title(lib, firsts)),
    ):
        if pid:
            result.paper_id, result.how = pid, how
            return result
    result.error = "no paper in the library matches it (arXiv id or exact title)"
    return result


def import_dir(lib: Library, folder: Path, *, progress: Progress | None = None,
               cancelled: Callable[[], bool] | None = None, password: str | None = None) -> ImportReport:
    """Attach every PDF in `folder` (and below) that matches exactly one paper; encrypted ones
    only with `password` (kept decrypted), the others are reported."""
    if not folder.is_dir():
        raise files.PdfRejected(f"{folder}: not a folder")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())
    max_bytes = pdf_settings.load(lib).max_pdf_bytes
    report = ImportReport()
    for path in reporting(paths, progress, lambda p: p.name):
        if cancelled and cancelled():
            report.cancelled = True
            break
        found = match_file(lib, path, password)
        if found.paper_id and not found.error:
            try:
                files.attach(lib, found.paper_id, path, max_bytes=max_bytes, password=password)
            except files.PdfRejected as exc:
                found.error = str(exc)
                found.encrypted = isinstance(exc, files.PdfNeedsPassword)
        report.files.append(found)
    return report
