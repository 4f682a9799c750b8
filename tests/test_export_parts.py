"""The pieces of export on their own: front-matter reader/writer, managed blocks, file names, links."""

from __future__ import annotations

import json

import pytest
from export_support import assert_portable_name

from paperdesk.core.export import markdown_link
from paperdesk.core.export.blocks import BlockError, contents, neutralize, replace_blocks
from paperdesk.core.export.filenames import UnsafePath, contained, safe_stem
from paperdesk.core.export.frontmatter import (
    FrontMatterError,
    emit_entry,
    emit_front_matter,
    merge_front_matter,
    split_document,
)
from paperdesk.core.export.manifest import MANIFEST_NAME, OLD_MANIFEST_NAME, Entry, Manifest


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


def test_the_manifest_is_a_sqlite_file_made_when_the_first_file_is_recorded(tmp_path):
    manifest = Manifest.open(tmp_path)
    assert manifest.papers(["a"]) == {} and manifest.problem is None
    assert not (tmp_path / MANIFEST_NAME).exists()  # nothing recorded, nothing written
    manifest.record_paper("a", Entry("Gödel.md", {"abstract": "0f"}, {"tags": "ab"}), None)
    manifest.close()
    assert [p.name for p in tmp_path.iterdir()] == [MANIFEST_NAME]  # no temporary file left
    again = Manifest.open(tmp_path)
    assert again.papers(["b", "a"]) == {"a": Entry("Gödel.md", {"abstract": "0f"}, {"tags": "ab"})}
    assert list(again.files()) == [("a", "Gödel.md")]
    again.close()
    # a damaged one reads as empty, says so, and is replaced when the next file is recorded
    (tmp_path / MANIFEST_NAME).write_bytes(b"not a database, " * 100)
    damaged = Manifest.open(tmp_path)
    assert "is damaged" in damaged.problem and damaged.papers(["a"]) == {}
    damaged.record_list(Entry("Week.md", {}, {"papers": "00"}), None)
    damaged.close()
    assert Manifest.open(tmp_path).list_entry("Week.md") == Entry("Week.md", {}, {"papers": "00"})


def test_an_old_json_manifest_keeps_what_is_text_and_is_removed_once_converted(tmp_path):
    old = {"version": 1, "papers": {"a": {"file": "A.md", "blocks": {"x": 1, "note": "0f"}, "front": ["?"]},
                                    "b": "junk", "c": {"file": 3}},
           "lists": {"Week.md": {"blocks": {}, "front": {"papers": "00"}}}}
    (tmp_path / OLD_MANIFEST_NAME).write_text(json.dumps(old), encoding="utf-8")
    manifest = Manifest.open(tmp_path)
    assert manifest.papers(["a", "b", "c"]) == {"a": Entry("A.md", {"note": "0f"}, {})}
    manifest.close()  # nothing recorded: the old one stays as it was
    assert (tmp_path / OLD_MANIFEST_NAME).exists() and not (tmp_path / MANIFEST_NAME).exists()
    manifest = Manifest.open(tmp_path)
    manifest.record_paper("d", Entry("D.md"), None)
    manifest.close()
    assert [p.name for p in tmp_path.iterdir()] == [MANIFEST_NAME]
    converted = Manifest.open(tmp_path)
    assert set(converted.papers(["a", "d"])) == {"a", "d"} and converted.list_entry("Week.md")
    (tmp_path / OLD_MANIFEST_NAME).write_text("{broken", encoding="utf-8")  # ignored: the new one rules
    assert Manifest.open(tmp_path).problem is None

