"""The export folder on disk: atomic writes, the manifest, and which file holds which paper."""

from __future__ import annotations

import filecmp
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from paperdesk.core.export.frontmatter import FrontMatterError, split_document
from paperdesk.core.export.report import ExportError

MANIFEST_NAME = ".paperdesk-export.json"
MAX_NOTE_BYTES = 16 * 1024 * 1024  # bigger .md files are not PaperDesk's and are not read


class ChangedMeanwhile(Exception):
    """The file changed on disk between reading and writing it (an editor saved it)."""


def atomic_write(path: Path, data: bytes, expect: bytes | None) -> None:
    """Write `data` to `path` via a temporary file in the same folder and os.replace, so a crash
    leaves the old or the new file, never half of one. `expect` is what the file held when it was
    read (None: it did not exist); if it changed since, nothing is written."""
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        current = None
    if current != expect:
        raise ChangedMeanwhile(f"{path.name} changed while exporting")
    _replace(path, lambda out, _tmp: out.write(data) is not None, replacing=current is not None)


def file_state(path: Path) -> tuple[int, int, int] | None:
    """What tells that a file changed (size, modification time, inode); None if it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


def atomic_write_pieces(path: Path, pieces: Iterable[bytes], expect: tuple[int, int, int] | None) -> bool:
    """`atomic_write` for output made piece by piece (a BibTeX file of a million entries): the pieces
    go to a temporary file beside `path`, which replaces `path` only once complete, so an error or a
    cancel midway (raised by `pieces`) leaves the old file as it was. `expect` is `file_state(path)`
    from when the export began; if the file changed since, nothing is written. Returns False when
    the file already held exactly these bytes (it is left untouched)."""
    def fill(out: BinaryIO, tmp: Path) -> bool:
        for piece in pieces:
            out.write(piece)
        out.flush()
        if file_state(path) != expect:
            raise ChangedMeanwhile(f"{path.name} changed while exporting")
        return expect is None or expect[0] != out.tell() or not filecmp.cmp(tmp, path, shallow=False)

    return _replace(path, fill, replacing=expect is not None)


def _replace(path: Path, fill: Callable[[BinaryIO, Path], bool], replacing: bool) -> bool:
    """A temporary file beside `path`, written by `fill` (given the open file and its path), renamed
    over `path`; False (and `path` untouched) when `fill` says the old file already holds it. An
    error leaves no temporary file."""
    tmp = path.parent / f".paperdesk-{secrets.token_hex(8)}.tmp"
    # os.open with 0o666 lets the umask decide the mode, as for any new file the user creates
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            if not fill(out, tmp):
                tmp.unlink()
                return False
            out.flush()
            if replacing:
                # Replacing a file that may hold the user's text: make the new bytes durable before
                # the rename. A new file skips this (5x faster first exports); if power fails, a
                # truncated new file is reported as unmergeable by the next export, never overwritten.
                os.fsync(out.fileno())
        if replacing:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


@dataclass
class Manifest:
    """`.paperdesk-export.json`: which file holds which paper, and a digest of every managed block
    as last written (so an edit the user made inside a block is noticed instead of overwritten)."""

    papers: dict[str, dict] = field(default_factory=dict)  # id -> {"file", "blocks", "front"}
    lists: dict[str, dict] = field(default_factory=dict)  # file name -> {"blocks", "front"}
    problem: str | None = None

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError) as exc:
            return cls(problem=f"{MANIFEST_NAME} could not be read ({exc}); it will be rewritten")
        try:
            data = json.loads(text)
            papers, lists = dict(data["papers"]), dict(data.get("lists", {}))
        except (ValueError, KeyError, TypeError):
            return cls(problem=f"{MANIFEST_NAME} is damaged; it will be rewritten")
        return cls(papers=papers, lists=lists)

    def file_of(self, paper_id: str) -> str | None:
        entry = self.papers.get(paper_id)
        name = entry.get("file") if isinstance(entry, dict) else None
        return name if isinstance(name, str) else None

    def blocks_of(self, entry: dict | None) -> dict[str, str]:
        blocks = entry.get("blocks") if isinstance(entry, dict) else None
        return {k: v for k, v in blocks.items() if isinstance(v, str)} if isinstance(blocks, dict) else {}

    def front_of(self, entry: dict | None) -> dict[str, str]:
        """Fingerprints of PaperDesk's front-matter values as last written (see markdown.merge)."""
        front = entry.get("front") if isinstance(entry, dict) else None
        return {k: v for k, v in front.items() if isinstance(v, str)} if isinstance(front, dict) else {}

    def text(self) -> str:
        return b"".join(self.pieces()).decode("utf-8")

    def pieces(self) -> Iterator[bytes]:
        """The manifest's JSON a few hundred entries at a time: json.dumps of a whole export's
        manifest held ~10 times its size at once (a 7 MB manifest of 10k papers: 70 MB)."""
        data = {"version": 1, "papers": dict(sorted(self.papers.items())),
                "lists": dict(sorted(self.lists.items()))}
        chunks: list[str] = []
        for chunk in json.JSONEncoder(ensure_ascii=False, indent=1).iterencode(data):
            chunks.append(chunk)
            if len(chunks) >= 4096:
                yield "".join(chunks).encode("utf-8")
                chunks.clear()
        yield ("".join(chunks) + "\n").encode("utf-8")

    def save(self, folder: Path) -> None:
        """Write the manifest unless the file already holds exactly it (see atomic_write_pieces)."""
        path = folder / MANIFEST_NAME
        atomic_write_pieces(path, self.pieces(), file_state(path))


@dataclass
class FolderIndex:
    """The folder as it is: every name in it, and which Markdown file holds which paper id."""

    names: set[str] = field(default_factory=set)  # exact names
    by_id: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def scan(cls, folder: Path) -> FolderIndex:
        index = cls()
        if not folder.is_dir():
            return index
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise ExportError(f"cannot list {folder}: {exc.strerror}") from None
        for entry in sorted(entries, key=lambda e: e.name):
            index.names.add(entry.name)
            if not entry.name.endswith(".md") or entry.name.startswith("."):
                continue
            pid = read_paper_id(Path(entry.path))
            if pid is not None:
                index.by_id.setdefault(pid, []).append(entry.name)
        return index


def read_paper_id(path: Path) -> str | None:
    """The `id` in a Markdown file's front matter, if it is a readable PaperDesk paper file."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_NOTE_BYTES:
            return None
        text = path.read_bytes().decode("utf-8")
        if "paperdesk:begin" not in text:
            return None
        value = split_document(text).value("id")
    except (OSError, UnicodeDecodeError, FrontMatterError):
        return None
    return value if isinstance(value, str) else None
