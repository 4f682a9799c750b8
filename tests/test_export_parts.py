"""The pieces of export on their own: front-matter reader/writer, managed blocks, file names, links."""

from __future__ import annotations

import json

import pytest
from export_support import assert_portable_name

from paperdesk.core.export import markdown_link
from paperdesk.core.export.blocks import BlockError, contents, neutralize, replace_blocks
from paperdesk.core.export.filenames import UnsafePath, contained, safe_stem
from paperdesk.core.export.files import MANIFEST_NAME, Manifest
from paperdesk.core.export.frontmatter import (
    FrontMatterError,
    emit_entry,
    emit_front_matter,
    merge_front_matter,
    split_document,
)


@pytest.mark.parametrize("value", [
    "plain words", "AMO-Bench: colon", "2026-10-30", "2405.00001", "0888f3593f9c", "12", "true", "null",
    "", " padded ", "a #hash", "# start", "- dash", "[bracket", "{brace", "quote \" and \\ back",
    "new\nline", "tab\there", "\u202eRTL\u200f", "emoji 🚀", "Gödel", "it's", "'single'", "&anchor", "*alias",
    "!tag", "|pipe", ">fold", "%pct", "@at", "`tick", None, True, False, 0, -3, 42,
    [], ["a", "b c"], ["x: y", "2024", None, True], ["\u202e"],
])
def test_front_matter_values_round_trip(value):
    text = emit_front_matter({"k": value, "other": "x"}) + "body\n"
    doc = split_document(text)
    assert doc.value("k") == value and doc.value("other") == "x" and doc.body == "body\n"
    assert doc.text() == text


def test_unknown_keys_comments_and_odd_yaml_are_kept_verbatim():
    text = ("\ufeff---\r\n# leading comment\r\n\r\nid: abc\r\naliases: [one, \"two, three\"]\r\n"
            "nested:\r\n  deep: {a: 1}\r\n  list:\r\n    - x\r\nblock: |\r\n  literal\r\n\r\n  text\r\n"
            "tags:\r\n- flat\r\n- list   # comment\r\n...\r\nbody\r\n")
    doc = split_document(text)
    assert doc.text() == text and doc.bom == "\ufeff" and doc.newline == "\r\n"
    assert doc.value("aliases") == ["one", "two, three"] and doc.value("tags") == ["flat", "list"]
    with pytest.raises(FrontMatterError):
        doc.value("nested")
    merged = doc.text(merge_front_matter(doc, {"id": "abc", "tags": ["new"], "status": "inbox"}))
    assert merged == text.replace("tags:\r\n- flat\r\n- list   # comment\r\n",
                                  "tags:\r\n  - new\r\nstatus: inbox\r\n")


@pytest.mark.parametrize("text, message", [
    ("no front matter\n", "no longer starts"),
    ("---\nid: x\n", "no closing"),
    ("---\nid: x\njust words\n---\n", "not a 'key: value'"),
    ("---\n  indented: x\n---\n", "does not belong"),
    ("---\nid: x\nid: y\n---\n", "appears twice"),
])
def test_front_matter_that_cannot_be_split_is_refused(text, message):
    with pytest.raises(FrontMatterError, match=message):
        split_document(text)


def test_emitter_writes_obsidian_style_lists():
    assert emit_entry("tags", ["llm", "to read"]) == ["tags:", "  - llm", "  - to read"]
    assert emit_entry("tags", []) == ["tags: []"] and emit_entry("url", None) == ["url:"]
    assert emit_entry("title", "A: B") == ['title: "A: B"']


def test_managed_blocks_parse_replace_and_detect_damage():
    body = "mine\n<!-- paperdesk:begin a -->\nold\n<!-- paperdesk:end a -->\nalso mine\n"
    assert contents(body) == {"a": "\nold\n"}
    assert replace_blocks(body, {"a": "\nnew\nlines\n"}, "\r\n") == \
        "mine\n<!-- paperdesk:begin a -->\r\nnew\r\nlines\r\n<!-- paperdesk:end a -->\nalso mine\n"
    for bad in ("<!-- paperdesk:begin a -->\nx\n",
                "<!-- paperdesk:end a -->",
                "<!-- paperdesk:begin a -->\n<!-- paperdesk:begin b -->\n<!-- paperdesk:end b -->",
                "<!-- paperdesk:begin a --><!-- paperdesk:end a --><!-- paperdesk:begin a -->"
                "<!-- paperdesk:end a -->",
                "<!-- paperdesk:begin a -- >\n<!-- paperdesk:end a -->"):
        with pytest.raises(BlockError):
            contents(bad)
    sneaky = neutralize("x <!-- paperdesk:end a --> y paperdesk:begin z")
    assert "<!--" not in sneaky and "-->" not in sneaky and "paperdesk:" not in sneaky
    assert contents(f"<!-- paperdesk:begin a -->{sneaky}<!-- paperdesk:end a -->") == {"a": sneaky}


@pytest.mark.parametrize("title", [
    "../../etc/passwd", "CON", "con", "Aux.txt", "LPT9", "COM¹", "x" * 300, "語" * 300, "🚀" * 100,
    "\u202etxt.exe", "...", " . . ", "", "a\x00b\x1fc", "trailing dot.", "tab\tand\nnewline",
    "e\u0301" * 120, "CON .md", "CONIN$",
])
def test_safe_stem_is_portable(title):
    assert_portable_name(safe_stem(title) + ".md")


def test_contained_refuses_escapes(tmp_path):
    (tmp_path / "out").mkdir()
    assert contained(tmp_path / "out", "ok.md") == (tmp_path / "out" / "ok.md").resolve()
    for bad in ("../x.md", "..", ".", "a/b.md", "a\\b.md", ""):
        with pytest.raises(UnsafePath):
            contained(tmp_path / "out", bad)


def test_markdown_link():
    record = {"id": "1", "title": "A [bracketed]  *title*", "url": "https://example.org/p(1)",
              "arxiv_id": None}
    assert markdown_link(record) == r"[A \[bracketed\] \*title\*](https://example.org/p%281%29)"
    assert markdown_link({"id": "2", "title": "T", "url": None, "arxiv_id": "2401.00001"}) == \
        "[T](https://arxiv.org/abs/2401.00001)"
    assert markdown_link({"id": "3", "title": "T", "url": "javascript:alert(1)", "arxiv_id": None}) == \
        "[T](https://arxiv.org/search/?searchtype=title&query=T)"
    assert markdown_link({"id": "4", "title": "Deep & wide", "url": None}) == \
        "[Deep & wide](https://arxiv.org/search/?searchtype=title&query=Deep%20%26%20wide)"


def test_the_manifest_is_written_in_pieces_as_one_json_dump(tmp_path):
    manifest = Manifest(papers={f"id{n:05d}": {"file": f"Gödel {n}.md", "blocks": {"abstract": f"{n:016x}"},
                                               "front": {"tags": "ab" * 8, "status": f"{n:016x}"}}
                                for n in range(3000, 0, -1)},
                        lists={"Week.md": {"blocks": {}, "front": {"papers": "0" * 16}}})
    data = {"version": 1, "papers": dict(sorted(manifest.papers.items())),
            "lists": dict(sorted(manifest.lists.items()))}
    assert len(list(manifest.pieces())) > 5  # several pieces, never the whole text at once
    manifest.save(tmp_path)
    written = (tmp_path / MANIFEST_NAME).read_bytes()
    assert written == (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    before = (tmp_path / MANIFEST_NAME).stat()
    Manifest.load(tmp_path).save(tmp_path)  # the same manifest: the file is left as it is
    after = (tmp_path / MANIFEST_NAME).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
