"""BibTeX export: @article/@misc entries, stable citation keys, TeX-safe field values.

Keys follow a pattern (default "{auth}{year}{word}": first author's surname, or the organisation,
or "anon"; the year; the first significant title word), folded to ASCII. Papers that would share a
key all get a suffix a, b, c... in paper-id order, so the same selection always gets the same keys.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from paperdesk.core.export.files import ChangedMeanwhile, atomic_write
from paperdesk.core.export.links import paper_url
from paperdesk.core.export.report import BibtexReport, ExportError

if TYPE_CHECKING:
    from paperdesk.core.library import Library

HEADER = ("% BibTeX written by PaperDesk. It is rewritten on every export: "
          "keep your own entries in another file.\n")
DEFAULT_PATTERN = "{auth}{year}{word}"
PLACEHOLDERS = {"auth", "Auth", "year", "word", "Word", "id"}
UNICODE_MODES = ("keep", "latex")
STOPWORDS = {"a", "an", "the", "on", "of", "for", "in", "to", "towards", "toward", "with", "and", "from",
             "by", "via", "is", "are", "at", "as", "do", "does", "how", "what", "when", "why", "can"}

# Braces are spelled as commands: biber (btparse) counts a brace even after a backslash, so one
# unbalanced "\{" in a title would swallow the entries after it.
_TEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\textbraceleft{}", "}": r"\textbraceright{}",
                "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}
_ACCENTS = {"\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
            "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0327": "c",
            "\u0328": "k", "\u0323": "d", "\u0331": "b"}
_LETTERS = {"ß": r"\ss", "æ": r"\ae", "Æ": r"\AE", "œ": r"\oe", "Œ": r"\OE", "ø": r"\o", "Ø": r"\O",
            "ł": r"\l", "Ł": r"\L", "ı": r"\i", "ȷ": r"\j", "å": r"\aa", "Å": r"\AA", "đ": r"\dj",
            "Đ": r"\DJ", "þ": r"\th", "Þ": r"\TH", "ð": r"\dh", "Ð": r"\DH"}
_SYMBOLS = {"–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}",
            "\u00a0": "~", "«": r"\guillemotleft{}", "»": r"\guillemotright{}", "€": r"\texteuro{}",
            "£": r"\pounds{}", "©": r"\textcopyright{}", "®": r"\textregistered{}", "°": r"\textdegree{}",
            "±": r"$\pm$", "×": r"$\times$", "÷": r"$\div$", "→": r"$\rightarrow$", "←": r"$\leftarrow$",
            "≤": r"$\leq$", "≥": r"$\geq$", "≈": r"$\approx$", "≠": r"$\neq$", "∞": r"$\infty$",
            "·": r"$\cdot$", "•": r"\textbullet{}", "§": r"\S{}", "¶": r"\P{}", "†": r"\dag{}"}
_GREEK = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
          "mu", "nu", "xi", "omicron", "pi", "rho", "varsigma", "sigma", "tau", "upsilon", "phi", "chi",
          "psi", "omega"]


def export_bibtex(lib: Library, ids: Sequence[str], path: str | Path, *, unicode: str = "keep",
                  key_pattern: str | None = None) -> BibtexReport:
    """Write the papers `ids` to the BibTeX file `path` (atomically).

    An existing file is replaced only if PaperDesk wrote it (it starts with PaperDesk's header), so a
    hand-kept .bib file is never overwritten.
    """
    if unicode not in UNICODE_MODES:
        raise ExportError(f"unknown unicode mode {unicode!r} (use keep or latex)")
    pattern = key_pattern or DEFAULT_PATTERN
    check_pattern(pattern)
    path = Path(path).expanduser()
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name such as {path / 'papers.bib'}")
    if not path.parent.is_dir():
        raise ExportError(f"folder {path.parent} does not exist")
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror}") from None
    if old is not None and old.strip() and not old.startswith(HEADER.encode("utf-8")):
        raise ExportError(f"{path} exists and was not written by PaperDesk; choose another file name")
    records = lib.records(list(dict.fromkeys(ids)))
    keys = citation_keys(records, pattern)
    report = BibtexReport(path=str(path), entries=len(records), keys=keys)
    latex = unicode == "latex"
    unconverted: set[str] = set()
    text = HEADER + "".join("\n" + entry(r, keys[r["id"]], latex, unconverted) for r in records)
    if unconverted:
        report.warnings.append("kept as Unicode (no LaTeX form known): " + "".join(sorted(unconverted)))
    data = text.encode("utf-8")
    if data == old:
        return report
    try:
        atomic_write(path, data, old)
    except (OSError, ChangedMeanwhile) as exc:
        raise ExportError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from None
    report.written = True
    return report


def entry(record: dict, key: str, latex: bool = False, unconverted: set[str] | None = None) -> str:
    """One BibTeX entry: @article with journal details when known, else @misc (arXiv eprint fields)."""
    unconverted = set() if unconverted is None else unconverted

    def tex(text: str) -> str:
        return tex_escape(text, latex, unconverted).strip()

    title = protect_case(" ".join(record["title"].split()), lambda t: tex_escape(t, latex, unconverted))
    fields: list[tuple[str, str]] = [("title", title)]
    authors = [a for a in record.get("authors") or [] if a.strip()]
    if authors:
        fields.append(("author", " and ".join(tex(a) for a in authors)))
    elif record.get("organization"):
        fields.append(("author", "{" + tex(record["organization"]) + "}"))  # a corporate author
    journal = record.get("journal")
    if journal:
        fields.append(("journal", tex(journal)))
        for name in ("volume", "number", "pages"):
            if record.get(name):
                fields.append((name, tex(str(record[name]))))
    published = record.get("published") or ""
    if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", published):
        fields.append(("year", published[:4]))
        fields.append(("date", published))
    elif year := citation_year(record):  # biblatex requires a year; digests often give none
        fields.append(("year", year))
    arxiv = record.get("arxiv_id")
    if arxiv:
        fields.append(("eprint", arxiv))
        fields.append(("archivePrefix", "arXiv"))
        primary = record.get("primary_category")
        if primary:  # from the arXiv snapshot (core/arxiv_snapshot.py)
            fields.append(("primaryClass", primary))
        elif "/" in arxiv:  # old-style ids name their archive: cond-mat/0603029
            fields.append(("primaryClass", arxiv.split("/")[0]))
    url = paper_url(record)
    if url:
        fields.append(("url", url_escape(url)))
    if record.get("tags"):
        fields.append(("keywords", ", ".join(tex(t) for t in record["tags"])))
    kind = "article" if journal else "misc"
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key},\n{body}\n}}\n"


def tex_escape(text: str, latex: bool = False, unconverted: set[str] | None = None) -> str:
    """Escape TeX's special characters; with `latex`, also spell non-ASCII characters as LaTeX."""
    out = []
    for ch in unicodedata.normalize("NFC", re.sub(r"\s+", " ", text)):
        if ch in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[ch])
        elif unicodedata.category(ch)[0] == "C":
            continue  # control, format and bidi characters have no place in a citation
        elif ord(ch) < 128:
            out.append(ch)
        elif latex:
            out.append(_latex_char(ch, unconverted))
        else:
            out.append(ch)
    return "".join(out)


def _latex_char(ch: str, unconverted: set[str] | None) -> str:
    if ch in _LETTERS:
        return "{" + _LETTERS[ch] + "}"
    if ch in _SYMBOLS:
        return _SYMBOLS[ch]
    name = unicodedata.name(ch, "")
    greek = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER (\w+)", name)
    if greek:
        letter = greek.group(2).lower()
        letter = {"lamda": "lambda", "final": "varsigma"}.get(letter, letter)
        if letter in _GREEK:
            command = letter if greek.group(1) == "SMALL" else letter.capitalize()
            if greek.group(1) == "SMALL" or command in ("Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi",
                                                        "Sigma", "Upsilon", "Phi", "Psi", "Omega"):
                return f"$\\{command}$"
    decomposed = unicodedata.normalize("NFD", ch)
    if len(decomposed) >= 2 and ord(decomposed[0]) < 128 and all(c in _ACCENTS for c in decomposed[1:]):
        text = decomposed[0] if decomposed[0] not in "ij" else "\\" + decomposed[0]
        for mark in decomposed[1:]:
            accent = _ACCENTS[mark]
            text = f"\\{accent}{{{text}}}" if accent.isalpha() else f"\\{accent}{text}"
        return "{" + text + "}"
    if unconverted is not None:
        unconverted.add(ch)
    return ch


def protect_case(title: str, escape: Callable[[str], str] = tex_escape) -> str:
    """Escape `title`, bracing words whose capitals matter (LLMs, AMO-Bench, GPT-4, Gödel-Net) so
    bibliography styles that lower-case titles keep them."""
    out, pos = [], 0
    for match in re.finditer(r"[^\s:;,.!?()\[\]{}]+", title):
        out.append(escape(title[pos:match.start()]))
        word = escape(match.group(0))
        out.append("{" + word + "}" if re.search(r".[A-Z]", match.group(0)) else word)
        pos = match.end()
    out.append(escape(title[pos:]))
    return "".join(out)


def url_escape(url: str) -> str:
    # url fields are verbatim in biblatex, but braces must balance and a backslash would start a command
    return url.replace("{", "%7B").replace("}", "%7D").replace("\\", "%5C")


# -- citation keys --------------------------------------------------------------------------------

def check_pattern(pattern: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        raise ExportError(f"bad key pattern {pattern!r}: {exc}") from None
    unknown = names - PLACEHOLDERS
    if unknown or not names:
        raise ExportError(f"bad key pattern {pattern!r}: use placeholders "
                          + ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS)))


def ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]", "", folded)


_ARXIV_YYMM = re.compile(r"(?:[a-z\-]+(?:\.[A-Z]{2})?/)?(\d{2})(\d{2})[.\d]*(?:v\d+)?")


def citation_year(record: dict) -> str:
    """The year to cite: the published date's; else the arXiv id's (2508.01234 is from 2025,
    cond-mat/0603029 from 2006); else that of the first dated digest or feed that listed the paper;
    else the year it came into the library."""
    published = record.get("published") or ""
    if re.match(r"\d{4}", published):
        return published[:4]
    found = _ARXIV_YYMM.fullmatch(record.get("arxiv_id") or "")
    if found and 1 <= int(found[2]) <= 12:
        yy = int(found[1])
        return str(1900 + yy if yy >= 91 else 2000 + yy)
    seen = sorted(s["date"] for s in record.get("sources") or [] if re.match(r"\d{4}", s.get("date") or ""))
    return seen[0][:4] if seen else (record.get("added") or "")[:4]


def key_parts(record: dict) -> dict[str, str]:
    authors = [a for a in record.get("authors") or [] if a.strip()]
    if authors:
        first = authors[0]
        surname = first.split(",")[0] if "," in first else first.split()[-1]
        auth = ascii_word(surname)
    else:
        auth = ascii_word(record.get("organization") or "")
    auth = auth or "anon"
    words = [ascii_word(w) for w in re.split(r"[\s\-:/]+", record.get("title") or "")]
    words = [w for w in words if w]
    word = next((w for w in words if w.lower() not in STOPWORDS), words[0] if words else "paper")
    year = citation_year(record)
    return {"auth": auth.lower(), "Auth": auth[:1].upper() + auth[1:], "year": year,
            "word": word.lower(), "Word": word[:1].upper() + word[1:].lower(),
            "id": re.sub(r"[^A-Za-z0-9]", "", record["id"])}


def citation_keys(records: list[dict], pattern: str = DEFAULT_PATTERN) -> dict[str, str]:
    """A unique key per paper id. Keys are compared case-insensitively, as BibTeX does."""
    base: dict[str, str] = {}
    for record in records:
        key = re.sub(r"[^A-Za-z0-9_:.\-]", "", pattern.format(**key_parts(record)))
        base[record["id"]] = key if re.match(r"[A-Za-z]", key) else f"p{key}"
    groups: dict[str, list[str]] = {}
    for pid, key in base.items():
        groups.setdefault(key.lower(), []).append(pid)
    used = {k for k, ids in groups.items() if len(ids) == 1}
    keys = {ids[0]: base[ids[0]] for ids in groups.values() if len(ids) == 1}
    for ids in groups.values():
        if len(ids) == 1:
            continue
        counter = 0
        for pid in sorted(ids):
            while True:
                candidate = base[pid] + _suffix(counter)
                counter += 1
                if candidate.lower() not in used:
                    break
            used.add(candidate.lower())
            keys[pid] = candidate
    return keys


def _suffix(n: int) -> str:
    """a, b, ..., z, aa, ab, ... (bijective base 26)."""
    out = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("a") + rem) + out
    return out
