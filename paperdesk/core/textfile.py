"""Reading a text file of unknown encoding safely, refusing what is not text."""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
from pathlib import Path

from paperdesk.core.records import RejectedInput

MAX_TEXT_BYTES = 20 * 1024 * 1024  # real digests are < 1 MB; refuse anything absurd

_MAGIC = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"RIFF", "a RIFF media file"),
    (b"\x7fELF", "an executable"),
]


def read_text(path: Path) -> tuple[str, str]:
    """Return (text, sha256 of the decoded text) or raise RejectedInput."""
    data = read_regular_file(path, MAX_TEXT_BYTES, "digests")
    text = decode_text(data)
    return text, content_hash(text)


def read_regular_file(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or RejectedInput.

    Anything else is refused before it is read: a FIFO would block for ever, /dev/zero never ends.
    The file is opened without blocking and checked again (it may have been swapped since), and
    never read past the limit (it may be growing)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise RejectedInput("no such file") from None
    except PermissionError:
        raise RejectedInput("permission denied") from None
    except OSError as exc:
        raise RejectedInput(f"cannot be read ({exc.strerror or exc})") from None
    _check_regular(info.st_mode, info.st_size, limit, what)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            _check_regular(info.st_mode, info.st_size, limit, what)
            data = f.read(limit + 1)
    except PermissionError:
        raise RejectedInput("permission denied") from None
    except OSError as exc:
        raise RejectedInput(f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise RejectedInput(f"file grew past {limit // 1024 // 1024} MB while being read; refused")
    return data


def _check_regular(mode: int, size: int, limit: int, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise RejectedInput("is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise RejectedInput(f"is {_file_kind(mode)}, not a regular file; refused")
    if size > limit:
        raise RejectedInput(
            f"file is {size / 1024 / 1024:.1f} MB; {what} over {limit // 1024 // 1024} MB are refused"
        )


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def content_hash(text: str) -> str:
    """Identifies content regardless of encoding, line endings and trailing blanks."""
    lines = [line.rstrip() for line in re.split(r"\r\n|\r|\n", text)]
    return hashlib.sha256("\n".join(lines).strip().encode("utf-8")).hexdigest()


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (BOM optional), UTF-16 with BOM, or cp1252; refuse binary data."""
    if not data.strip():
        raise RejectedInput("file is empty")
    for magic, what in _MAGIC:
        if what and data.startswith(magic):
            raise RejectedInput(f"is {what}, not a text digest")
    if data.startswith(codecs.BOM_UTF8):
        text = _decode(data[len(codecs.BOM_UTF8):], "utf-8")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode(data, "utf-16")
    else:
        if b"\x00" in data:
            raise RejectedInput("is binary data, not a text digest")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode(data, "cp1252")
    if _control_ratio(text) > 0.01:
        raise RejectedInput("is binary data, not a text digest")
    return text


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise RejectedInput(f"is not valid {encoding} text") from None


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")  # below space, except \t \n \v \f \r


def _control_ratio(text: str) -> float:
    sample = text[:65536]
    return len(_CONTROL.findall(sample)) / max(1, len(sample))  # in C: a char loop cost 18 ms a file
