"""Small wording helpers shared by the CLI, the reader and the desk, so they say things alike."""

from __future__ import annotations


def count_of(count: int, noun: str, plural: str | None = None) -> str:
    """`1 author`, `3 authors` (`plural` for nouns that do not just take an s)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def shorten(text: str, width: int = 48) -> str:
    """One line of at most `width` characters, cut at a word with "…" when longer."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut[width // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"
