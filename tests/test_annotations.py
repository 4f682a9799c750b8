"""Notes with revisions, highlights by quote and position, both undoable; the Markdown sanitiser."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from paperdesk.core import LibraryError, annotations
from paperdesk.core.markup import ALLOWED_TAGS, render_markdown, sanitize


@pytest.fixture
def pid(seeded):
    return seeded.paper_ids(limit=1)[0]


def test_note_set_revisions_and_undo(seeded, pid):
    seeded.notes.set(pid, "first")
    seeded.notes.set(pid, "second")
    assert seeded.notes.get(pid) == "second"
    assert seeded.get(pid)["note"] == "second"
    assert [r.body for r in seeded.notes.history(pid)] == ["second", "first"]
    seeded.undo()
    assert seeded.notes.get(pid) == "first"
    seeded.redo()
    assert seeded.notes.get(pid) == "second"
    first = seeded.notes.history(pid)[-1]
    seeded.notes.restore(pid, first.id)
    assert seeded.notes.get(pid) == "first"


def test_autosaves_of_one_session_are_one_undo_step(seeded, pid):
    seeded.notes.set(pid, "keep me")
    for text in ["a", "ab", "abc"]:
        seeded.notes.set(pid, text, autosave=True)
    assert len(seeded.notes.history(pid)) == 4
    seeded.undo()
    assert seeded.notes.get(pid) == "keep me"


def test_note_of_unknown_paper(seeded):
    with pytest.raises(LibraryError, match="no paper with id nope"):
        seeded.notes.set("nope", "x")


def test_highlight_add_locate_after_rewrap_and_undo(seeded, pid):
    abstract = seeded.get(pid)["abstract"]
    words = abstract.split()[3:7]
    hid, changes = seeded.highlights.add_quote(pid, " ".join(words), comment="key idea")
    assert pid in changes.papers
    (h,) = seeded.highlights.of(pid)
    assert h.id == hid and h.comment == "key idea"
    assert abstract[h.start:h.end] == h.quote
    # A re-import that re-wraps whitespace: the quote is still found near its old place.
    rewrapped = "  " + abstract.replace(" ", "\n", 6)
    start, end = annotations.locate(rewrapped, h.quote, h.start)
    assert " ".join(rewrapped[start:end].split()) == " ".join(h.quote.split())
    assert annotations.locate("unrelated text", h.quote, h.start) is None
    seeded.highlights.update(hid, color="green")
    assert seeded.highlights.of(pid)[0].color == "green"
    seeded.undo()
    assert seeded.highlights.of(pid)[0].color == "yellow"
    seeded.undo()
    assert seeded.highlights.of(pid) == []


def test_highlight_rejects_bad_ranges(seeded, pid):
    with pytest.raises(LibraryError, match="select some text"):
        seeded.highlights.add(pid, 5, 5)
    with pytest.raises(LibraryError, match="does not contain"):
        seeded.highlights.add_quote(pid, "zzzz not in the abstract zzzz")
    with pytest.raises(LibraryError, match="unknown colour"):
        seeded.highlights.add(pid, 0, 5, color="ultraviolet")


def test_wiki_links_resolve_to_papers(seeded, pid):
    title = seeded.get(pid)["title"]
    html = render_markdown(f"See [[{title.upper()}]] and [[no such paper]].",
                           lambda t: seeded.notes.resolve_link(t))
    assert f'href="paperdesk://paper/{pid}"' in html
    assert "broken-link" in html


HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(https://evil.example/x.png)">x</div>',
    "<style>body{background:url(https://evil.example)}</style>",
    '<p onclick="alert(1)" onmouseover="alert(2)">x</p>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<a href="  javascript:alert(1)">x</a>',
    "<img src=https://evil.example/track.png>",
    "<object data=x></object><embed src=x>",
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    "<!--<script>alert(1)</script>-->",
    '<form action="https://evil"><input name=x></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil">',
    '<base href="https://evil/">',
    '<link rel=stylesheet href="https://evil/x.css">',
    "[x](javascript:alert(1))",
    "![tracker](https://evil.example/pixel.png)",
]


class _Audit(HTMLParser):
    """Collects every tag and attribute that a browser would act on."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs += [(name, value or "") for name, value in attrs]


@pytest.mark.parametrize("payload", HOSTILE)
def test_sanitiser_leaves_nothing_executable(payload):
    for html in (sanitize(payload), render_markdown(payload)):
        audit = _Audit()
        audit.feed(html)
        assert audit.tags <= ALLOWED_TAGS, html
        for name, value in audit.attrs:
            assert not name.startswith("on") and name not in ("style", "src"), html
            if name == "href":
                scheme = value.strip().split(":", 1)[0].lower() if ":" in value else ""
                assert scheme in ("", "http", "https", "mailto", "paperdesk"), html


def test_note_cli(tmp_path):
    from samples import DIGEST_PLAIN

    def run(*args, stdin=None):
        return subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(tmp_path), *args],
                              capture_output=True, text=True, input=stdin, timeout=60)

    run("import", str(DIGEST_PLAIN))
    pid = json.loads(run("list", "--json", "--limit", "1").stdout)[0]["id"]
    assert run("note", pid, "--set", "# Title\n\nbody").returncode == 0
    assert run("note", pid).stdout == "# Title\n\nbody\n"
    assert run("note", pid, "-", stdin="from stdin").returncode == 0
    note_file = tmp_path / "n.md"
    note_file.write_text("from file", encoding="utf-8")
    assert run("note", pid, "--file", str(note_file)).returncode == 0
    history = json.loads(run("note", pid, "--history", "--json").stdout)
    assert [h["body"] for h in history] == ["from file", "from stdin", "# Title\n\nbody"]
    assert run("undo", "--yes").returncode == 0
    assert run("note", pid).stdout == "from stdin\n"
    proc = run("note", "nope", "--set", "x")
    assert proc.returncode == 1 and "no paper with id nope" in proc.stderr
    abstract = json.loads(run("show", pid, "--json").stdout)["abstract"]
    quote = " ".join(abstract.split()[:4])
    assert run("highlight", pid, quote, "--comment", "c").returncode == 0
    (h,) = json.loads(run("highlights", "--json").stdout)
    assert h["paper_id"] == pid and h["comment"] == "c"


def test_undoing_a_highlight_reports_and_requeues_its_paper(seeded, pid):
    abstract = seeded.get(pid)["abstract"]
    seeded.highlights.add(pid, 0, 20)
    seeded.conn.execute("DELETE FROM index_queue")
    _op, changes = seeded.undo()
    assert pid in changes.papers and changes.notes
    assert [r[0] for r in seeded.conn.execute("SELECT paper_id FROM index_queue")] == [pid]
    assert abstract  # the highlight was on real text


def test_show_html_is_the_reader_html(tmp_path):
    from samples import DIGEST_BLOCKS

    from paperdesk.core import Library
    from paperdesk.core.reader_html import paper_html

    folder = tmp_path / "lib"
    with Library.open(folder) as lib:
        lib.import_paths([DIGEST_BLOCKS])
        pid = lib.paper_ids(limit=1)[0]
        lib.notes.set(pid, "**bold** <script>alert(1)</script> [x](javascript:alert(1))")
        expected = paper_html(lib, lib.get(pid))
    proc = subprocess.run(
        [sys.executable, "-m", "paperdesk", "--library", str(folder), "show", pid, "--html"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected + "\n"
    assert "<strong>bold</strong>" in proc.stdout
    assert "<script" not in proc.stdout.lower() and "javascript:" not in proc.stdout.lower()
