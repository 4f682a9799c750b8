"""BibTeX export: parseable by bibtexparser, unique stable keys, TeX specials escaped, Unicode options."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import bibtexparser
import pytest
from export_support import add_papers

from paperdesk.core.export import ExportError, bibtex, export_bibtex
from paperdesk.core.export.bibtex import HEADER, citation_keys, citation_year, entry, tex_escape
from paperdesk.core.records import IncomingPaper

SPECIALS = r"Costs & 50% of $5 # a_b {x} ~y ^z \w"


def parse(path):
    library = bibtexparser.parse_string(path.read_text(encoding="utf-8"))
    assert library.failed_blocks == []
    return library


@pytest.mark.parametrize("mode", ["keep", "latex"])
def test_sample_digests_parse_with_unique_keys(seeded, tmp_path, mode):
    ids = seeded.paper_ids()
    path = tmp_path / "papers.bib"
    report = export_bibtex(seeded, ids, path, unicode=mode)
    assert report.written and report.entries == len(ids) == 397
    library = parse(path)
    assert len(library.entries) == 397
    keys = [e.key for e in library.entries]
    assert len({k.lower() for k in keys}) == 397
    assert sorted(keys) == sorted(report.keys.values())
    by_key = {e.key: e for e in library.entries}
    amo = by_key[report.keys["331074d4ff21"]]
    assert amo.key == "longcat2026amo" and amo.entry_type == "misc"
    assert amo.fields_dict["author"].value == "{LongCat}"
    assert amo.fields_dict["year"].value == "2026"
    godel = by_key[report.keys["0888f3593f9c"]]
    title = godel.fields_dict["title"].value
    assert ("Gödel" in title) == (mode == "keep") and ('G{\\"o}del' in title) == (mode == "latex")
    if mode == "latex":
        assert all(ord(ch) < 128 for ch in path.read_text(encoding="utf-8"))
    if shutil.which("biber") or os.environ.get("CI"):  # biber reads all 397 entries back
        checked = assert_biber_reads(path)
        assert sum(line.startswith("@") for line in checked.splitlines()) == 397
    # the same selection gives the same file: the second export does not rewrite it
    again = export_bibtex(seeded, ids, path, unicode=mode)
    assert not again.written and again.keys == report.keys


def test_fields_arxiv_specials_and_biber(lib, tmp_path):
    ids = add_papers(lib, [
        IncomingPaper(title=SPECIALS, authors=["Jörg Müller", "Ada Lovelace"], published="2023-02-03",
                      arxiv_id="2302.01234"),
        IncomingPaper(title="Old style", authors=["Smith, John"], arxiv_id="cond-mat/0603029"),
        IncomingPaper(title="\u202eNo one\u202c wrote this"),
    ])
    lib.tag([ids[0]], ["to_read", "R&D"])
    path = tmp_path / "out.bib"
    report = export_bibtex(lib, ids, path)
    library = parse(path)
    first, old, anon = library.entries
    assert first.entry_type == "misc" and first.key == "muller2023costs"
    fields = {k: f.value for k, f in first.fields_dict.items()}
    assert fields["eprint"] == "2302.01234" and fields["archivePrefix"] == "arXiv"
    assert fields["url"] == "https://arxiv.org/abs/2302.01234"
    assert fields["author"] == "Jörg Müller and Ada Lovelace"
    assert fields["title"] == (r"Costs \& 50\% of \$5 \# a\_b \textbraceleft{}x\textbraceright{} "
                               r"\textasciitilde{}y \textasciicircum{}z \textbackslash{}w")
    assert fields["keywords"] == r"R\&D, to\_read"
    assert old.key == "smith2006old" and old.fields_dict["primaryClass"].value == "cond-mat"  # arXiv id year
    # no date, no arXiv id: the year of the digest that listed it (biblatex requires a year)
    assert anon.key == "anon2026no" and anon.fields_dict["year"].value == "2026"
    assert "date" not in anon.fields_dict
    assert "\u202e" not in anon.fields_dict["title"].value
    assert report.keys == {ids[0]: first.key, ids[1]: old.key, ids[2]: anon.key}
    if shutil.which("biber") or os.environ.get("CI"):  # CI installs it (packaging/dev.sh)
        assert_biber_reads(path)


def assert_biber_reads(path):
    """biber's own parser and data model, in tool mode: no error, no warning, every entry read."""
    proc = subprocess.run(["biber", "--tool", "--validate-datamodel", "--output-file", "checked.bib",
                           str(path)], cwd=path.parent, capture_output=True, text=True, timeout=120)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "ERROR" not in log and "WARN" not in log, log
    return (path.parent / "checked.bib").read_text(encoding="utf-8")


@pytest.mark.parametrize(("record", "year"), [
    ({"published": "2023-02-03", "arxiv_id": "2508.01234"}, "2023"),
    ({"arxiv_id": "2508.01234v2"}, "2025"),
    ({"arxiv_id": "cond-mat/0603029"}, "2006"),
    ({"arxiv_id": "hep-th/9901001"}, "1999"),
    ({"sources": [{"date": "2025-11-05"}, {"date": None}, {"date": "2024-03-01"}]}, "2024"),
    ({"sources": [{"date": None}], "added": "2026-11-23T10:00:00"}, "2026"),
    ({}, ""),
])
def test_citation_year_falls_back_from_date_to_arxiv_id_to_digest_to_import(record, year):
    assert citation_year(record) == year


def test_colliding_keys_get_deterministic_suffixes():
    records = [{"id": f"id{n}", "title": "Scaling laws", "authors": [], "organization": "Acme",
                "published": "2024-01-01"} for n in (3, 1, 2)]
    records.append({"id": "id9", "title": "Other", "authors": [], "organization": "Acme",
                    "published": "2024-01-01"})
    records.append({"id": "id0", "title": "Scaling laws A", "authors": [], "organization": "Acme",
                    "published": "2024", "x": 1})
    keys = citation_keys(records)
    assert [keys[f"id{n}"] for n in range(4)] == [f"acme2024scaling{s}" for s in "abcd"]
    assert keys["id9"] == "acme2024other"
    assert citation_keys(list(reversed(records))) == keys
    assert citation_keys(records, "{Auth}_{Word}_{year}")["id9"] == "Acme_Other_2024"


def test_article_when_journal_known_and_latex_conversion():
    text = entry({"id": "x", "title": "Naïve φ-nets — a review", "authors": ["Øystein Ørè"],
                  "journal": "J. Stuff & Things", "volume": 3, "pages": "1--9", "published": "2020-01-01"},
                 "ore2020naive", latex=True)
    assert text.startswith("@article{ore2020naive,")
    assert r"journal = {J. Stuff \& Things}" in text and "volume = {3}" in text
    assert r"Na{\"\i}ve $\phi$-nets --- a review" in text and r"{\O}ystein {\O}r{\`e}" in text
    unknown: set[str] = set()
    assert tex_escape("漢字 ok", latex=True, unconverted=unknown) == "漢字 ok" and unknown == {"漢", "字"}


def test_bad_options_and_foreign_files_are_refused(seeded, tmp_path):
    ids = seeded.paper_ids(limit=3)
    mine = tmp_path / "refs.bib"
    mine.write_text("@misc{mine, title={Mine}}\n", encoding="utf-8")
    with pytest.raises(ExportError, match="not written by PaperDesk"):
        export_bibtex(seeded, ids, mine)
    assert mine.read_text(encoding="utf-8") == "@misc{mine, title={Mine}}\n"
    with pytest.raises(ExportError, match="unicode"):
        export_bibtex(seeded, ids, tmp_path / "a.bib", unicode="ascii")
    with pytest.raises(ExportError, match="bad key pattern"):
        export_bibtex(seeded, ids, tmp_path / "a.bib", key_pattern="{author}")
    with pytest.raises(ExportError, match="is a folder"):
        export_bibtex(seeded, ids, tmp_path)
    with pytest.raises(ExportError, match="does not exist"):
        export_bibtex(seeded, ids, tmp_path / "nope" / "a.bib")
    assert not (tmp_path / "a.bib").exists()
    ours = tmp_path / "ours.bib"
    export_bibtex(seeded, ids, ours)
    assert ours.read_text(encoding="utf-8").startswith(HEADER)
    assert export_bibtex(seeded, ids[:1], ours).written  # PaperDesk's own file is replaced
    assert len(parse(ours).entries) == 1


# -- streamed in blocks ---------------------------------------------------------------------------

def one_pass_bibtex(lib, ids, unicode="keep"):
    """The file as written before the export streamed: every record read at once, keys from them."""
    records = lib.records(list(dict.fromkeys(ids)))
    keys = citation_keys(records)
    return (HEADER + "".join("\n" + entry(r, keys[r["id"]], unicode == "latex") for r in records)).encode()


@pytest.mark.parametrize("block", [1, 2, 3, 2000])
@pytest.mark.parametrize("mode", ["keep", "latex"])
def test_streamed_blocks_write_the_one_pass_file(seeded, tmp_path, monkeypatch, block, mode):
    monkeypatch.setattr(bibtex, "BLOCK", block)
    ids = seeded.paper_ids()
    ids = ids[5:] + ids[:5] + ids[:2]  # not the library's order, and with repeats
    path = tmp_path / "papers.bib"
    steps = []
    report = export_bibtex(seeded, ids, path, unicode=mode, progress=lambda d, t, _w: steps.append((d, t)))
    assert path.read_bytes() == one_pass_bibtex(seeded, ids, mode)
    assert report.keys == citation_keys(seeded.records(list(dict.fromkeys(ids))))
    blocks = -(-397 // block)
    assert steps[-1] == (2 * blocks, 2 * blocks) and len(steps) == 2 * blocks + 1
    assert not export_bibtex(seeded, ids, path, unicode=mode).written  # same bytes: left untouched


def test_keys_stay_unique_across_blocks(lib, tmp_path, monkeypatch):
    """Same first author and year in different blocks: suffixes as if all were read at once, and a
    paper whose own key is a suffixed one (smith2023learninga) is not given that key twice."""
    monkeypatch.setattr(bibtex, "BLOCK", 2)
    papers = [IncomingPaper(title=f"Learning {w}", authors=["Ann Smith"], published="2023-05-01")
              for w in ("fast", "slow", "more", "less", "again")]
    papers.insert(3, IncomingPaper(title="Learninga", authors=["Bob Smith"], published="2023-02-01"))
    papers.append(IncomingPaper(title="Undated learning", authors=["Smith, Cy"]))  # the digest's year
    ids = add_papers(lib, papers)
    path = tmp_path / "papers.bib"
    report = export_bibtex(lib, ids, path)
    assert path.read_bytes() == one_pass_bibtex(lib, ids)
    keys = [report.keys[i] for i in ids]
    assert len({k.lower() for k in keys}) == len(keys) == 7
    assert keys[3] == "smith2023learninga" and keys[6] == "smith2026undated"
    suffixed = {k for k in keys if k.startswith("smith2023learning") and k != "smith2023learninga"}
    assert suffixed == {f"smith2023learning{s}" for s in "bcdef"}
    assert [e.key for e in parse(path).entries] == keys


def _exported_once(seeded, tmp_path, monkeypatch, block: int) -> tuple[list[str], Path, Path]:
    """The library's ids, an export folder (beside the library in tmp_path) and a file in it that
    PaperDesk wrote, exporting `block` records at a time."""
    monkeypatch.setattr(bibtex, "BLOCK", block)
    out = tmp_path / "out"
    out.mkdir()
    export_bibtex(seeded, seeded.paper_ids()[:3], out / "papers.bib")
    return seeded.paper_ids(), out, out / "papers.bib"


def test_cancel_or_failure_midway_leaves_the_old_file(seeded, tmp_path, monkeypatch):
    ids, out, path = _exported_once(seeded, tmp_path, monkeypatch, 50)
    before = path.read_bytes()
    asked = []

    def cancel_in_writing() -> bool:  # 8 blocks: keys, then entries; cancel during the entries
        asked.append(1)
        return len(asked) > 11

    with pytest.raises(ExportError, match="cancelled; nothing was written"):
        export_bibtex(seeded, ids, path, cancelled=cancel_in_writing)
    assert path.read_bytes() == before and os.listdir(out) == ["papers.bib"]

    real_entry = bibtex.entry
    monkeypatch.setattr(bibtex, "entry", lambda r, *a: real_entry(r, *a) if r["id"] != ids[200]
                        else 1 / 0)
    with pytest.raises(ZeroDivisionError):
        export_bibtex(seeded, ids, path)
    assert path.read_bytes() == before and os.listdir(out) == ["papers.bib"]
    with pytest.raises(ZeroDivisionError):
        export_bibtex(seeded, ids, out / "new.bib")
    assert os.listdir(out) == ["papers.bib"]  # no half file where there was none


def test_a_file_changed_while_exporting_is_not_replaced(seeded, tmp_path, monkeypatch):
    ids, out, path = _exported_once(seeded, tmp_path, monkeypatch, 100)
    edited = HEADER.encode() + b"\n@misc{saved, title = {Saved by an editor meanwhile}}\n"

    def editor_saves(done: int, _total: int, _what: str) -> None:
        if done == 5:
            path.write_bytes(edited)

    with pytest.raises(ExportError, match="changed while exporting"):
        export_bibtex(seeded, ids, path, progress=editor_saves)
    assert path.read_bytes() == edited and os.listdir(out) == ["papers.bib"]
