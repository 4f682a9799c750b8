"""YAML front matter, the small subset PaperDesk needs: flat keys whose values are scalars or lists.

Parsing splits the front matter into entries (one per top-level key, plus standalone blank and
comment lines) and keeps each entry's raw lines, so keys PaperDesk does not manage are written back
byte for byte. Only values PaperDesk reads (its own keys) are interpreted; anything the splitter
cannot place (a top-level line that is not a key, a duplicated key) makes the front matter
unmergeable rather than guessed at.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

Scalar = str | int | bool | None
Value = Scalar | list[Scalar]

_KEY_LINE = re.compile(r"(?P<key>[^\s#\-:?'\"][^:]*?|\"[^\"]+\"|'[^']+')[ \t]*:(?:[ \t]+(?P<rest>.*))?$")
_FENCE = re.compile(r"---[ \t]*$")
_END_FENCE = re.compile(r"(?:---|\.\.\.)[ \t]*$")
_PLAIN_SAFE = re.compile(r"[^\W\d_][\w .,/+()'&-]*|\d{4}-\d{2}-\d{2}", re.UNICODE)
_SPECIAL_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}
_NULL_WORDS = {"", "~", "null", "Null", "NULL"}
_INT = re.compile(r"[-+]?\d+")


class FrontMatterError(ValueError):
    """The front matter cannot be split or read safely; the message says where."""


@dataclass
class Entry:
    key: str | None  # None: a blank or comment line outside any key
    lines: list[str]  # raw lines without their line ending


@dataclass
class Document:
    bom: str  # "\ufeff" or ""
    newline: str  # the file's line ending
    opening: str  # the opening fence line as written
    entries: list[Entry]
    closing: str  # the closing fence line with its line ending, as written
    body: str  # everything after the closing fence line, untouched

    def text(self, entry_lines: list[str] | None = None) -> str:
        """The document again; with `entry_lines`, those replace the front matter's lines."""
        if entry_lines is None:
            entry_lines = [line for e in self.entries for line in e.lines]
        nl = self.newline
        inner = "".join(line + nl for line in entry_lines)
        return f"{self.bom}{self.opening}{nl}{inner}{self.closing}{self.body}"

    def entry(self, key: str) -> Entry | None:
        return next((e for e in self.entries if e.key == key), None)

    def value(self, key: str) -> Value:
        entry = self.entry(key)
        return parse_value(entry) if entry else None


def detect_newline(text: str) -> str:
    match = re.search(r"\r\n|\n|\r", text)
    return match.group(0) if match else "\n"


def split_document(text: str) -> Document:
    """Split `text` into front matter entries and body; raise FrontMatterError if there is none."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom):]
    newline = detect_newline(text)
    lines = text.split(newline)
    if not lines or not _FENCE.match(lines[0]):
        raise FrontMatterError("the file no longer starts with front matter (---)")
    for end in range(1, len(lines)):
        if _END_FENCE.match(lines[end]):
            break
    else:
        raise FrontMatterError("the front matter has no closing ---")
    entries = split_entries(lines[1:end])
    closing = lines[end] + (newline if end + 1 < len(lines) else "")
    body = newline.join(lines[end + 1:])  # everything after the closing fence, byte for byte
    return Document(bom, newline, lines[0], entries, closing, body)


def split_entries(lines: list[str]) -> list[Entry]:
    entries: list[Entry] = []
    seen: set[str] = set()
    current: Entry | None = None
    blanks: list[Entry] = []  # blank lines after `current`: its own if an indented line follows
    for number, line in enumerate(lines, 2):
        if not line.strip() or line.startswith("#"):
            # column-0 comments and blank lines stand alone, so replacing a key keeps them
            entries.append(Entry(None, [line]))
            if line.startswith("#"):
                current = None
            else:
                blanks.append(entries[-1])
            continue
        if line[0] in " \t" or line.startswith("- ") or line == "-":
            if current is None:
                raise FrontMatterError(f"front matter line {number} does not belong to any key")
            if blanks:  # blank lines inside a block scalar or list: they are the last entries
                del entries[-len(blanks):]
                current.lines += [blank.lines[0] for blank in blanks]
                blanks = []
            current.lines.append(line)
            continue
        blanks = []
        match = _KEY_LINE.match(line)
        if not match:
            raise FrontMatterError(f"front matter line {number} is not a 'key: value' line")
        key = match.group("key").strip()
        if key[0] in "\"'":
            key = key[1:-1]
        if key in seen:
            raise FrontMatterError(f"front matter key {key!r} appears twice")
        seen.add(key)
        current = Entry(key, [line])
        entries.append(current)
    return entries


# -- reading values -------------------------------------------------------------------------------

def parse_value(entry: Entry) -> Value:
    """The value of a flat entry: a scalar, a flow list or a block list of scalars."""
    match = _KEY_LINE.match(entry.lines[0])
    rest = (match.group("rest") or "").strip() if match else ""
    extra = [ln for ln in entry.lines[1:] if ln.strip() and not ln.strip().startswith("#")]
    if not rest:
        if not extra:
            return None
        items = []
        for ln in extra:
            item = re.fullmatch(r"[ \t]*-(?:[ \t]+(.*))?", ln)
            if not item:
                raise FrontMatterError(f"front matter key {entry.key!r} holds more than a list")
            items.append(parse_scalar((item.group(1) or "").strip()))
        return items
    if extra:
        raise FrontMatterError(f"front matter key {entry.key!r} spans several lines")
    if rest.startswith("["):
        return parse_flow_list(rest, entry.key)
    if rest[0] in "|>{&*!":
        raise FrontMatterError(f"front matter key {entry.key!r} uses YAML this reader does not handle")
    return parse_scalar(rest)


def parse_flow_list(text: str, key: str | None) -> list[Scalar]:
    text = _strip_comment(text)
    if not text.endswith("]"):
        raise FrontMatterError(f"front matter key {key!r}: unclosed [ list")
    inner = text[1:-1].strip()
    if not inner:
        return []
    items, buf, quote = [], "", ""
    for ch in inner:
        if quote:
            buf += ch
            if ch == quote and not (quote == '"' and buf.endswith('\\"') and not buf.endswith('\\\\"')):
                quote = ""
        elif ch in "\"'":
            quote, buf = ch, buf + ch
        elif ch == ",":
            items.append(buf.strip())
            buf = ""
        else:
            buf += ch
    items.append(buf.strip())
    return [parse_scalar(item) for item in items]


def parse_scalar(text: str) -> Scalar:
    if text.startswith('"'):
        return _double_quoted(text)
    if text.startswith("'"):
        if not text.endswith("'") or len(text) < 2:
            raise FrontMatterError(f"unterminated quoted value {text!r}")
        return text[1:-1].replace("''", "'")
    text = _strip_comment(text)
    if text in _NULL_WORDS:
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.fullmatch(text):
        return int(text)
    return text


def _strip_comment(text: str) -> str:
    return re.split(r"[ \t]#", text, maxsplit=1)[0].rstrip()


_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
            "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
            "_": "\xa0", "L": "\u2028", "P": "\u2029"}


def _double_quoted(text: str) -> str:
    out, i = [], 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            if _strip_comment(text[i + 1:]).strip():
                raise FrontMatterError(f"text after a quoted value: {text!r}")
            return "".join(out)
        if ch == "\\":
            code = text[i + 1:i + 2]
            if code in _ESCAPES:
                out.append(_ESCAPES[code])
                i += 2
                continue
            width = {"x": 2, "u": 4, "U": 8}.get(code)
            digits = text[i + 2:i + 2 + width] if width else ""
            if not width or not re.fullmatch(r"[0-9a-fA-F]+", digits) or len(digits) != width:
                raise FrontMatterError(f"bad escape in quoted value {text!r}")
            out.append(chr(int(digits, 16)))
            i += 2 + width
            continue
        out.append(ch)
        i += 1
    raise FrontMatterError(f"unterminated quoted value {text!r}")


# -- writing values -------------------------------------------------------------------------------

def emit_entry(key: str, value: Value) -> list[str]:
    """Lines (without line endings) for one key, in the block style Obsidian writes itself."""
    if isinstance(value, list):
        if not value:
            return [f"{key}: []"]
        return [f"{key}:"] + [f"  - {emit_scalar(item)}" for item in value]
    text = emit_scalar(value)
    return [f"{key}: {text}" if text else f"{key}:"]


def emit_scalar(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if (_PLAIN_SAFE.fullmatch(text) and text == text.strip() and text.lower() not in _SPECIAL_WORDS
            and ": " not in text and " #" not in text):
        return text
    return _quote(text)


def _quote(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            # control, bidi and zero-width characters are spelled out so they stay visible
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def emit_front_matter(values: dict[str, Value], newline: str = "\n") -> str:
    lines = ["---"]
    for key, value in values.items():
        lines += emit_entry(key, value)
    lines.append("---")
    return newline.join(lines) + newline


def merge_front_matter(doc: Document, values: dict[str, Value]) -> list[str]:
    """Entry lines with PaperDesk's keys set to `values`; every other line kept as it was.

    A managed key the user deleted is added back at the end: those keys belong to PaperDesk.
    """
    lines: list[str] = []
    done: set[str] = set()
    for entry in doc.entries:
        if entry.key in values:
            new = emit_entry(entry.key, values[entry.key])
            # keep the user's exact spelling when the value is unchanged (no churn from style)
            try:
                same = parse_value(entry) == values[entry.key]
            except FrontMatterError:
                same = False
            lines += entry.lines if same else new
            done.add(entry.key)
        else:
            lines += entry.lines
    for key, value in values.items():
        if key not in done:
            lines += emit_entry(key, value)
    return lines
