"""Managed blocks: the parts of a Markdown body that PaperDesk owns and rewrites on re-export.

    <!-- paperdesk:begin abstract -->
    ...PaperDesk's text...
    <!-- paperdesk:end abstract -->

Everything outside the markers belongs to the user and is never touched. A body whose markers were
deleted, damaged, duplicated or nested cannot be merged safely, so it is reported instead.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MARKER = re.compile(r"<!--[ \t]*paperdesk:(begin|end)[ \t]+([A-Za-z0-9_.-]+)[ \t]*-->")
_ANY_MARKER = re.compile(r"paperdesk:(?:begin|end)\b", re.IGNORECASE)


class BlockError(ValueError):
    """The managed blocks of a body are damaged; the message says how."""


@dataclass(frozen=True)
class Block:
    name: str
    start: int  # offset of the content (just after the begin marker)
    end: int  # offset just before the end marker


def find_blocks(body: str) -> dict[str, Block]:
    """The managed blocks of `body` by name, in order; raise BlockError if they are damaged."""
    markers = list(MARKER.finditer(body))
    if len(markers) != len(_ANY_MARKER.findall(body)):
        raise BlockError("a paperdesk:begin/end marker was changed or damaged")
    blocks: dict[str, Block] = {}
    open_marker: re.Match[str] | None = None
    for marker in markers:
        kind, name = marker.group(1), marker.group(2)
        if kind == "begin":
            if open_marker is not None:
                raise BlockError(f"block {open_marker.group(2)!r} has no end marker")
            if name in blocks:
                raise BlockError(f"block {name!r} appears twice")
            open_marker = marker
        else:
            if open_marker is None or open_marker.group(2) != name:
                raise BlockError(f"end marker of block {name!r} without its begin marker")
            blocks[name] = Block(name, open_marker.end(), marker.start())
            open_marker = None
    if open_marker is not None:
        raise BlockError(f"block {open_marker.group(2)!r} has no end marker")
    return blocks


def contents(body: str) -> dict[str, str]:
    return {name: body[b.start:b.end] for name, b in find_blocks(body).items()}


def normalized(text: str) -> str:
    """Block text as compared across exports: line endings and trailing blanks do not count
    (editors change those on save)."""
    lines = [line.rstrip() for line in re.split(r"\r\n|\r|\n", text)]
    return "\n".join(lines).strip("\n")


def digest(text: str) -> str:
    return hashlib.sha256(normalized(text).encode("utf-8")).hexdigest()[:16]


def replace_blocks(body: str, new: dict[str, str], newline: str) -> str:
    """`body` with each named block's content replaced; text outside the markers is kept as is."""
    out, pos = [], 0
    for name, block in find_blocks(body).items():
        if name not in new:
            continue
        out.append(body[pos:block.start])
        out.append(re.sub(r"\r\n|\r|\n", newline, new[name]))
        pos = block.end
    out.append(body[pos:])
    return "".join(out)


def neutralize(text: str) -> str:
    """Library text (a title, an abstract, a note) cannot open or close a managed block or an HTML
    comment: `<!--`, `-->` and the marker words become entities, which Markdown renders the same."""
    text = text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")
    return re.sub(r"(?i)(paperdesk):(begin|end)", r"\1&#58;\2", text)
