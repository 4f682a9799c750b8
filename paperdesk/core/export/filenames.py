"""File names from paper titles that are valid on Windows, macOS and Linux, and stay in their folder."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

# Characters Windows forbids, plus those that break Obsidian wiki links ([[...]], # and ^ anchors).
_FORBIDDEN = re.compile(r'[/\\:*?"<>|\[\]#^]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"} | {
    f"{dev}{n}" for dev in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]
}
MAX_STEM_CHARS = 100  # leaves room for " (id)" and ".md" under every system's 255 limit
MAX_STEM_BYTES = 180  # UTF-8 bytes (Linux counts bytes; CJK and emoji take 3-4 each)


class UnsafePath(ValueError):
    """A path would leave the export folder."""


def safe_stem(title: str, fallback: str = "untitled") -> str:
    """A file-name stem for `title`: no separators, reserved names, control or bidi characters."""
    text = unicodedata.normalize("NFC", title)
    # control, format (bidi, zero-width), separator and private-use characters go
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    text = _FORBIDDEN.sub(" ", text)
    text = " ".join(text.split())
    text = _truncate(text)
    text = text.strip(" .")  # no hidden files, no trailing dots or spaces (Windows drops them)
    if not text:
        return fallback
    if text.split(".")[0].strip().upper() in _RESERVED:
        text = f"_{text}"
    return text


def _truncate(text: str) -> str:
    if len(text) <= MAX_STEM_CHARS and len(text.encode("utf-8")) <= MAX_STEM_BYTES:
        return text
    cut = text[:MAX_STEM_CHARS]
    while len(cut.encode("utf-8")) > MAX_STEM_BYTES:
        cut = cut[:-1]
    while cut and unicodedata.combining(cut[-1]):  # do not leave an accent without its letter
        cut = cut[:-1]
    # prefer to cut at a word boundary when one is near
    space = cut.rfind(" ")
    return cut[:space] if space > len(cut) * 0.6 else cut


def short_id(paper_id: str) -> str:
    """A short, file-name-safe tag for a paper id (a hex id's head, or a hash for arXiv ids)."""
    if re.fullmatch(r"[0-9a-f]{12}", paper_id):
        return paper_id[:8]
    return hashlib.sha1(paper_id.encode("utf-8")).hexdigest()[:8]


def name_key(name: str) -> str:
    """How file systems compare names: case-insensitive (Windows, macOS) and Unicode-normalised (macOS)."""
    return unicodedata.normalize("NFC", name).casefold()


def contained(folder: Path, name: str) -> Path:
    """`folder / name`, refusing anything that would resolve outside `folder`."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise UnsafePath(f"{name!r} is not a plain file name")
    root = folder.resolve()
    target = root / name
    if target.is_symlink():
        raise UnsafePath(f"{name} is a symbolic link")
    if target.resolve().parent != root:
        raise UnsafePath(f"{name} would be written outside {root}")
    return target
