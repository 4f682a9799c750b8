"""BibTeX export: @article/@misc entries, stable citation keys, TeX-safe field values.

Keys follow a pattern (default "{auth}{year}{word}": first author's surname, or the organisation,
or "anon"; the year; the first significant title word), folded to ASCII. Papers that would share a
key all get a suffix a, b, c... in paper-id order, so the same selection always gets the same keys.
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from paperdesk.core.export.files import ChangedMeanwhile, atomic_write_pieces, file_state
from paperdesk.core.export.links import paper_url
from paperdesk.core.export.report import BibtexReport, ExportError
from paperdesk.core.idlist import ID_ROWS, IDS, id_array

if TYPE_CHECKING:
    from paperdesk.core.library import Library, Progress

HEADER = ("% BibTeX written by PaperDesk. It is rewritten on every export: "
          "keep your own entries in another file.\n")
DEFAULT_PATTERN = "{auth}{year}{word}"
BLOCK = 2000  # records read and written at a time, so memory stays bounded however many are exported
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
                  key_pattern: str | None = None, progress: Progress | None = None,
                  cancelled: Callable[[], bool] | None = None) -> BibtexReport:
    """Write the papers `ids` to the BibTeX file `path` (atomically).

    An existing file is replaced only if PaperDesk wrote it (it starts with PaperDesk's header), so a
    hand-kept .bib file is never overwritten. Records are read BLOCK at a time, twice: first the
    fields citation keys are made of (a key's suffix depends on every paper), then whole records as
    their entries are written; a cancel or an error midway leaves the old file as it was.
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
        state = file_state(path)
        foreign = state is not None and not _ours_or_blank(path)
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror}") from None
    if foreign:
        raise ExportError(f"{path} exists and was not written by PaperDesk; choose another file name")
    ids = list(dict.fromkeys(ids))
    blocks = [ids[i:i + BLOCK] for i in range(0, len(ids), BLOCK)]
    steps = 2 * len(blocks)

    def step(done: int) -> None:
        if cancelled and cancelled():
            raise ExportError("export cancelled; nothing was written")
        if progress:
            progress(done, steps, "")

    base: dict[str, str] = {}
    for n, block in enumerate(blocks):
        step(n)
        given = {pid: pid for pid in block}  # keys are the caller's id strings, not copies read back
        base.update((given[r["id"]], base_key(r, pattern)) for r in key_records(lib, block))
    keys = unique_keys(base)
    del base
    report = BibtexReport(path=str(path), entries=len(keys), keys=keys)
    latex = unicode == "latex"
    unconverted: set[str] = set()

    def pieces() -> Iterator[bytes]:
        yield HEADER.encode("utf-8")
        for n, block in enumerate(blocks):
            step(len(blocks) + n)
            yield "".join("\n" + entry(r, keys[r["id"]], latex, unconverted)
                          for r in lib.records(block)).encode("utf-8")

    try:
        report.written = atomic_write_pieces(path, pieces(), state)
    except (OSError, ChangedMeanwhile) as exc:
        raise ExportError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if unconverted:
        report.warnings.append("kept as Unicode (no LaTeX form known): " + "".join(sorted(unconverted)))
    if progress:
        progress(steps, steps, "")
    return report


def _ours_or_blank(path: Path) -> bool:
    """Whether the file at `path` starts with PaperDesk's header or holds only white space (read
    a piece at a time: the file may hold a million entries)."""
    header = HEADER.encode("utf-8")
    with path.open("rb") as file:
        head = file.read(len(header))
        if head == header:
            return True
        while head:
            if head.strip():
                return False
            head = file.read(1 << 16)
    return True


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


def key_records(lib: Library, ids: Sequence[str]) -> list[dict]:
    """What `key_parts` reads of each paper of `ids` (in their order; unknown ids left out), without
    the abstract, tags and notes a whole record carries: the light first pass of an export."""
    cur = lib.conn.execute(
        f"SELECT p.id, p.title, p.authors, p.organization, p.published, p.arxiv_id, p.added_at "
        f"FROM {ID_ROWS} CROSS JOIN papers AS p ON p.id = j.value ORDER BY j.key", (id_array(ids),))
    records = [{"id": pid, "title": title, "authors": json.loads(authors or "[]"), "organization": org,
                "published": published, "arxiv_id": arxiv_id, "added": added, "sources": []}
               for pid, title, authors, org, published, arxiv_id, added in cur]
    undated = {r["id"]: r for r in records if not re.match(r"\d{4}", r["published"] or "")}
    if undated:  # citation_year falls back to the first dated digest or feed that listed the paper
        for pid, date in lib.conn.execute(
                f"SELECT v.paper_id, s.date FROM provenance v JOIN sources s ON s.id = v.source_id "
                f"WHERE v.paper_id IN {IDS}", (id_array(undated),)):
            undated[pid]["sources"].append({"date": date})
    return records


def base_key(record: dict, pattern: str = DEFAULT_PATTERN) -> str:
    """The paper's key before a suffix tells it from papers with the same key."""
    key = re.sub(r"[^A-Za-z0-9_:.\-]", "", pattern.format(**key_parts(record)))
    return key if re.match(r"[A-Za-z]", key) else f"p{key}"


def citation_keys(records: list[dict], pattern: str = DEFAULT_PATTERN) -> dict[str, str]:
    """A unique key per paper id. Keys are compared case-insensitively, as BibTeX does."""
    return unique_keys({record["id"]: base_key(record, pattern) for record in records})


def unique_keys(base: dict[str, str]) -> dict[str, str]:
    """Each paper's base key, with a suffix (a, b, ... in paper-id order) for papers whose keys
    collide (case-insensitively); `base` is in export order, which orders the result."""
    counts = Counter(map(_folded, base.values()))
    keys = {pid: key for pid, key in base.items() if counts[key.lower()] == 1}
    collided: dict[str, list[str]] = {}
    for pid, key in base.items():
        if counts[key.lower()] > 1:
            collided.setdefault(key.lower(), []).append(pid)
    taken: set[str] = set()  # suffixed keys given so far (a key seen once is taken too)
    for ids in collided.values():
        counter = 0
        for pid in sorted(ids):
            while True:
                candidate = base[pid] + _suffix(counter)
                counter += 1
                if counts.get(candidate.lower()) != 1 and candidate.lower() not in taken:
                    break
            taken.add(candidate.lower())
            keys[pid] = candidate
    return keys


def _folded(key: str) -> str:
    """`key` in lower case, the same string object when it is already (most keys: no second copy)."""
    low = key.lower()
    return key if low == key else low


def _suffix(n: int) -> str:
    """a, b, ..., z, aa, ab, ... (bijective base 26)."""
    out = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("a") + rem) + out
    return out
