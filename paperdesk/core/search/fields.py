"""What the index and its build workers share: the index's folder name and version, its Whoosh
schema and how a paper's document fills it (a leaf: index.py and parallel.py both import it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

INDEX_DIRNAME = "index"
# Bump when fields change: an index of another version is rebuilt at open.
INDEX_VERSION = "16"  # 2: abstracts without positions, id column; 3: FastStemAnalyzer; 4: fulltext;
# 5: date words in source (digest:nov); 6: arXiv categories, is:updated; 7: fulltext's word order;
# 8: no triage decisions (starred, status, updated) in the document; 9: every segment has its word
# order file (merges keep them), the only way phrases in abstracts and PDF texts are found;
# 10: every posting list in the postings files (the only postings the evaluator reads);
# 11: Arabic/Hebrew vowel marks dropped from words, right-to-left PDF text in logical order;
# 12: postings files keep counts in 1-2 bytes, word order files keep places only (no sequence);
# 13: lean segments: no Whoosh postings for fields the evaluator reads from the postings files,
# nor for spelling words; numbers not indexed as terms; title n-grams and PDF texts in the postings
# files only (whoosh_internals.LEAN); an arXiv id equal to the paper's id not indexed twice;
# 14: word order places in two bytes (runs per 2^16 places), files' parts aligned to 8 bytes;
# 15: postings files keep docnums in two bytes (runs per 2^16 documents); 16: word order files keep
# their vocabularies as arrays read in place (was a pickled dict in the header)


def make_schema(stock: bool = False) -> Any:
    """The index's fields. `stock`: for Whoosh's own writer and matchers (whoosh_internals.py),
    which have no word order files: abstracts and PDF texts keep positions for their phrases."""
    from whoosh import analysis, fields

    from paperdesk.core.search.analysis import FastStemAnalyzer

    stem = FastStemAnalyzer()  # StemmingAnalyzer in one loop: lowercase, stop words, Porter stems
    plain = analysis.StandardAnalyzer(stoplist=None, minsize=1)
    parts = analysis.RegexTokenizer(r"[^\W_]+") | analysis.LowercaseFilter()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True, sortable=True),  # a column: docnum -> id cheaply
        sig=fields.STORED(),
        title=fields.TEXT(analyzer=stem, spelling=True),
        # Word starts of titles: answers a 1-10 letter prefix with one term (search as you type).
        title_ng=fields.NGRAMWORDS(minsize=1, maxsize=10, at="start"),
        # No positions: every word query reads abstract postings 3x faster; phrases are found in
        # the word order files (word_order.py).
        abstract=fields.TEXT(analyzer=stem, phrase=stock),
        note=fields.TEXT(analyzer=stem),
        # PDFs' text: no positions (8,000 words a paper); phrases as the abstract's.
        fulltext=fields.TEXT(analyzer=stem, phrase=stock),
        tags=fields.KEYWORD(lowercase=True, commas=True, scorable=True),
        author=fields.TEXT(analyzer=plain),
        org=fields.TEXT(analyzer=plain),
        source=fields.TEXT(analyzer=parts),
        arxiv=fields.ID(),
        categories=fields.KEYWORD(lowercase=True),  # cat:cs.CL, cat:cs.*
        flags=fields.KEYWORD(),  # has:note, has:highlight, has:tag, has:pdf
        upvotes=fields.NUMERIC(int, bits=32, signed=True, sortable=True),
        published=fields.NUMERIC(int, bits=32, signed=True, sortable=True),  # unsigned ranges are buggy
    )


def to_fields(doc: dict) -> dict:
    """A document from `load_documents` as Whoosh field values."""
    values = {
        "id": doc["id"], "sig": doc["sig"], "title": doc["title"], "title_ng": doc["title"],
        "abstract": doc["abstract"], "note": "\n".join(doc["note"]), "tags": ",".join(doc["tags"]),
        "author": doc["author"], "org": doc["org"], "source": "\n".join(doc["source"]),
        # An arXiv paper's id is its arXiv id: once is enough (queries read `id` and `arxiv`
        # together; ~180 bytes a paper of an arXiv snapshot's index).
        "arxiv": doc["arxiv"] if doc["arxiv"] != doc["id"] else "",
        "flags": " ".join(doc["flags"]), "fulltext": doc.get("fulltext", ""),
        "categories": doc["categories"],
        "upvotes": doc["upvotes"], "published": doc["published"],
    }
    return {k: v for k, v in values.items() if v not in (None, "")}


def open_index(folder: Path | str) -> Any:
    """The Whoosh index in `folder`, read through plain file reads: with mmap, whoosh-reloaded
    copies each mapped segment part into memory for every reader (~140 MB at 100k papers, one long
    C call holding the GIL); the OS caches the files anyway."""
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(str(folder), supports_mmap=False).open_index()
