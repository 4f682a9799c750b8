"""Export fixes (issue 18.9, 18.10, 21.19, 21.24): the user's front-matter edits, `!` titles, HTML
from feeds, braces for biber, limits on user templates, words, nested note headings, tags."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from export_support import add_papers, set_note, snapshot
from test_export_bibtex import assert_biber_reads

from paperdesk.core.export import ExportError, export_bibtex, export_markdown
from paperdesk.core.export.frontmatter import split_document
from paperdesk.core.export.report import BibtexReport
from paperdesk.core.feeds.parse import parse_document
from paperdesk.core.records import IncomingPaper


@pytest.fixture
def paper(lib):
    (pid,) = add_papers(lib, [IncomingPaper(title="Scaling Laws", abstract="We study scaling.")])
    lib.tag([pid], ["llm"])
    return pid


def front(path):
    doc = split_document(path.read_text(encoding="utf-8"))
    return {key: doc.value(key) for key in ("tags", "status", "title")}


# -- 18.9a: PaperDesk's own front-matter keys edited by the user ---------------------------------
def test_a_front_matter_key_changed_on_both_sides_keeps_the_users_value_and_says_so(lib, paper, tmp_path):
    out = tmp_path / "vault"
    (item,) = export_markdown(lib, out, [paper]).written
    path = out / item.file
    path.write_text(path.read_text(encoding="utf-8").replace("status: inbox", "status: reading"),
                    encoding="utf-8")
    lib.archive([paper])  # the library's value changes too
    report = export_markdown(lib, out, [paper])
    assert front(path)["status"] == "reading"
    (warning,) = report.warnings
    assert warning.startswith(f"{item.file}: front matter status was changed in the file and in the library")
    assert "kept the file's 'reading'" in warning and "'archived'" in warning
    # Reported again on the next export: the conflict is still there until the user settles it.
    assert len(export_markdown(lib, out, [paper]).warnings) == 1
    # Deleting the line takes the library's value, and the conflict is over.
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("status: reading\n", ""), encoding="utf-8")
    report = export_markdown(lib, out, [paper])
    assert front(path)["status"] == "archived" and report.warnings == []


def test_a_key_changed_only_in_the_file_is_kept_quietly(lib, paper, tmp_path):
    out = tmp_path / "vault"
    (item,) = export_markdown(lib, out, [paper]).written
    path = out / item.file
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("tags:\n  - llm", "tags:\n  - llm\n  - mine"), encoding="utf-8")
    lib.star([paper])  # another key changes in the library: that one is updated
    report = export_markdown(lib, out, [paper])
    assert report.warnings == []
    assert front(path)["tags"] == ["llm", "mine"]
    assert "starred: true" in path.read_text(encoding="utf-8")
    lib.tag([paper], ["mine"])  # the library catches up with the file: in step, nothing to report
    assert export_markdown(lib, out, [paper]).warnings == []
    lib.tag([paper], ["more"])  # and from then on the library's changes arrive again
    export_markdown(lib, out, [paper])
    assert front(path)["tags"] == ["llm", "mine", "more"]


# -- 18.9b: a file name starting with "!" --------------------------------------------------------
def test_a_title_starting_with_an_exclamation_mark_is_exported(lib, tmp_path):
    ids = add_papers(lib, [IncomingPaper(title="!Important: read me"), IncomingPaper(title="!!! Breaking")])
    report = export_markdown(lib, tmp_path / "vault", ids)
    assert sorted(i.file for i in report.written) == ["!!! Breaking.md", "!Important read me.md"]
    assert report.skipped == []
    assert export_markdown(lib, tmp_path / "vault", ids).unchanged  # and found again next time


# -- 18.9c: HTML from feeds -------------------------------------------------------------------
HOSTILE_RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>&lt;script&gt;alert(1)&lt;/script&gt; Attention</title><link>http://x.test/1</link>
<description>&lt;b onmouseover=alert(1)&gt;bold&lt;/b&gt; &amp;lt;img src=x onerror=alert(2)&amp;gt;
</description></item></channel></rss>"""


def test_html_in_feed_text_is_escaped_in_markdown_files(lib, tmp_path):
    batch = parse_document(HOSTILE_RSS, url="http://x.test/feed", name="Hostile").batch
    lib.import_batch(batch)
    ids = lib.paper_ids()
    for one_file in (None, "list.md"):
        report = export_markdown(lib, tmp_path / str(one_file), ids, one_file=one_file)
        (item,) = report.written
        text = (tmp_path / str(one_file) / item.file).read_text(encoding="utf-8")
        body = text.split("\n---\n", 1)[1]
        assert "<script" not in body and "<b " not in body and "<img" not in body
        assert "&lt;script&gt;" in body and "&lt;img src=x onerror=alert(2)&gt;" in body  # as text


# -- 18.9d: braces for biber ---------------------------------------------------------------------
def test_an_unbalanced_brace_in_a_title_does_not_swallow_the_next_entry(lib, tmp_path):
    ids = add_papers(lib, [IncomingPaper(title="Unbalanced { brace", published="2024-01-01"),
                           IncomingPaper(title="Closing } first", published="2024-01-02"),
                           IncomingPaper(title="The next paper", published="2024-01-03")])
    path = tmp_path / "refs.bib"
    report = export_bibtex(lib, ids, path)
    text = path.read_text(encoding="utf-8")
    assert text.count("{") == text.count("}")  # braces balance as biber counts them
    assert "\\{" not in text and "\\textbraceleft{}" in text
    assert report.summary() == f"wrote 3 entries to {path}"
    if shutil.which("biber") or os.environ.get("CI"):
        checked = assert_biber_reads(path)
        assert checked.count("@MISC{") == 3 and "TITLE = {The next paper}" in checked


def test_entry_counts_are_worded_right():
    assert BibtexReport("r.bib", entries=1, written=True).summary() == "wrote 1 entry to r.bib"
    assert BibtexReport("r.bib", entries=1).summary() == "r.bib already holds this entry"
    assert BibtexReport("r.bib", entries=2).summary() == "r.bib already holds these 2 entries"


# -- 21.24: note headings nest below "## Note"; tags Obsidian can hold --------------------------
def test_note_headings_nest_and_tags_with_spaces_become_obsidian_tags(lib, paper, tmp_path):
    set_note(lib, paper, "# My view\n\nIt scales.\n\n## Details\n\n```\n# a comment in code\n```\n")
    lib.tag([paper], ["multi word"])
    (item,) = export_markdown(lib, tmp_path / "a", [paper]).written
    text = (tmp_path / "a" / item.file).read_text(encoding="utf-8")
    assert "## Note\n" in text and "\n### My view\n" in text and "\n#### Details\n" in text
    assert "\n# My view" not in text and "\n# a comment in code\n" in text  # code stays as it is
    assert front(tmp_path / "a" / item.file)["tags"] == ["llm", "multi-word"]
    (listed,) = export_markdown(lib, tmp_path / "b", [paper], one_file="list").written
    text = (tmp_path / "b" / listed.file).read_text(encoding="utf-8")
    assert "#multi-word" in text and "#multi word" not in text
    assert "\n### My view\n" in text


# -- 18.10: limits on a user's template ----------------------------------------------------------
@pytest.mark.parametrize(("source", "message"), [
    ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
     "took more than 5 s for one file"),
    ('{% set big = "x" * 2000000000 %}{{ big | length }}', "more than 1 GB of memory"),
    ('{% for i in range(20) %}{{ "x" * 1000000 }}{% endfor %}', "writes more than 16 MB"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "calls itself without end"),
])
def test_a_runaway_template_is_stopped_with_one_line(lib, paper, tmp_path, source, message):
    template = tmp_path / "runaway.md.j2"
    template.write_text("<!-- paperdesk:begin x -->\n" + source + "\n<!-- paperdesk:end x -->\n",
                        encoding="utf-8")
    out = tmp_path / "vault"
    out.mkdir()
    started = time.monotonic()
    with pytest.raises(ExportError) as caught:
        export_markdown(lib, out, [paper], template=str(template))
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"template {template}")
    assert time.monotonic() - started < 60  # stopped, not run to its end
    assert snapshot(out) == {}  # nothing written


def test_a_user_template_still_renders_every_paper(lib, tmp_path):
    ids = add_papers(lib, [IncomingPaper(title=f"Paper {n}") for n in range(30)])
    template = tmp_path / "mine.md.j2"
    template.write_text("<!-- paperdesk:begin t -->\n{{ paper.title }}!\n<!-- paperdesk:end t -->\n",
                        encoding="utf-8")
    report = export_markdown(lib, tmp_path / "vault", ids, template=str(template))
    assert len(report.written) == 30
    texts = {(tmp_path / "vault" / i.file).read_text(encoding="utf-8").split("---\n")[-1]
             for i in report.written}
    assert "\n<!-- paperdesk:begin t -->\nPaper 7!\n<!-- paperdesk:end t -->\n" in texts


def test_cancel_stops_a_user_template_at_once(lib, paper, tmp_path):
    template = tmp_path / "slow.md.j2"
    template.write_text("<!-- paperdesk:begin x -->\n{% for a in range(100000) %}{% for b in range(100000) %}"
                        "{% endfor %}{% endfor %}\n<!-- paperdesk:end x -->\n", encoding="utf-8")
    started = time.monotonic()
    report = export_markdown(lib, tmp_path / "vault", [paper], template=str(template),
                             cancelled=lambda: time.monotonic() - started > 0.5)
    # Cancelled, not stopped by the 5 s limit (that would raise ExportError): no wall-clock bound,
    # which a loaded machine could break.
    assert report.cancelled and report.written == []
    assert not (tmp_path / "vault").exists()
