"""TeX accent escapes (`Schr\\"odinger`, `\\'e`, `\\~n`, `{\\ss}`) turned into the letters they mean.

Only well-formed accent commands are converted; anything else (`\\%`, `\\Re`, `$\\alpha$`) is left as written.
"""

from __future__ import annotations

import re
import unicodedata

# Symbol accents may touch their letter: \"o, \'{e}, {\~n}.
_SYMBOL_ACCENTS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304",
    ".": "\u0307",
}
# Letter accents need braces or a space, or `\cite` would read as a cedilla on "ite".
_LETTER_ACCENTS = {
    "c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b", "k": "\u0328", "r": "\u030a",
}
_SPECIALS = {
    "ss": "ß", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
    "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
}
_BASE = r"(?:\\i|\\j|[A-Za-z])"
_SYMBOL_RE = re.compile(
    r"(\{)?\\([\"'`^~=.])\s*(?:\{\s*(" + _BASE + r")\s*\}|(" + _BASE + r"))(?(1)\})"
)
_LETTER_RE = re.compile(
    r"(\{)?\\([cvuHkr])(?:\s*\{\s*(" + _BASE + r")\s*\}|\s+(" + _BASE + r"))(?(1)\})"
)
_SPECIAL_RE = re.compile(
    r"\{\\(" + "|".join(sorted(_SPECIALS, key=len, reverse=True)) + r")\}"
    r"|\\(" + "|".join(sorted(_SPECIALS, key=len, reverse=True)) + r")(?:\{\}|(?![A-Za-z]))"
)


def _base_letter(text: str) -> str:
    return {"\\i": "i", "\\j": "j"}.get(text, text)


def _accent(marks: dict[str, str]):
    def replace(match: re.Match) -> str:
        base = _base_letter(match.group(3) or match.group(4))
        return unicodedata.normalize("NFC", base + marks[match.group(2)])
    return replace


def tex_to_unicode(text: str) -> str:
    """`Schr\\"odinger` -> `Schrödinger`; unknown or malformed commands are kept verbatim."""
    if "\\" not in text:
        return text
    text = _SYMBOL_RE.sub(_accent(_SYMBOL_ACCENTS), text)
    text = _LETTER_RE.sub(_accent(_LETTER_ACCENTS), text)
    return _SPECIAL_RE.sub(lambda m: _SPECIALS[m.group(1) or m.group(2)], text)
