"""core/reader_html: the exact page the reader shows (and `paperdesk show ID --html` prints)."""

from __future__ import annotations

import re

from paperdesk.core.reader_html import display_map, paper_html, paragraphs, raw_span, shown_span
from paperdesk.core.records import IncomingPaper, SourceBatch


def add(lib, **fields) -> str:
    lib.import_batch(SourceBatch("digest", "d", "/d", "2025-11-05", str(fields), [IncomingPaper(**fields)]))
    return next(r["id"] for r in lib.papers() if r["title"] == fields["title"])


def test_display_map_relates_shown_and_raw_offsets():
    raw = 'Schr\\"odinger and {\\ss} here'
    shown, starts = display_map(raw)
    assert shown == "Schrödinger and ß here"
    a = shown.index("and")
    assert raw[slice(*raw_span(starts, a, a + 3))] == "and"
    assert raw[slice(*raw_span(starts, 0, 11))] == 'Schr\\"odinger'
    assert shown_span(starts, raw.index("here"), len(raw)) == (shown.index("here"), len(shown))
    assert paragraphs("one\n\n  \n\ntwo\nlines") == [(0, 3), (9, 18)]


def test_page_has_marks_note_markdown_and_links(lib):
    other = add(lib, title="Linked target", arxiv_id="2501.00002")
    pid = add(lib, title="Main", abstract="Alpha beta gamma.\n\nDelta <b>epsilon</b>.")
    lib.notes.set(pid, "**bold** see [[2501.00002]] and [[nowhere]]")
    lib.highlights.add_quote(pid, "beta", color="green", comment="why <i>")
    html = paper_html(lib, lib.get(pid))
    assert '<span class="hl hl-green" title="why &lt;i&gt;">beta</span>' in html
    assert "<strong>bold</strong>" in html
    assert f'href="paperdesk://paper/{other}"' in html and "broken-link" in html
    assert "Delta &lt;b&gt;epsilon&lt;/b&gt;." in html  # abstract text is text
    assert html.count('<p class="abstract">') == 2
    assert "Highlights" in html and "why &lt;i&gt;" in html


def test_overlapping_highlights_paint_each_character_once(lib):
    pid = add(lib, title="T", abstract="one two three four")
    lib.highlights.add_quote(pid, "one two three", color="yellow")
    lib.highlights.add_quote(pid, "two three four", color="blue")
    html = paper_html(lib, lib.get(pid))
    abstract = re.search(r'<p class="abstract">(.*?)</p>', html).group(1)
    assert abstract == ('<span class="hl hl-yellow">one </span><span class="hl hl-blue">two three</span>'
                        '<span class="hl hl-blue"> four</span>')


def test_hostile_title_abstract_and_url_are_inert(lib):
    pid = add(lib, title='<script>x()</script><img src=x onerror=alert(1)>',
              abstract="<iframe src=http://e></iframe>", url="javascript:alert(1)")
    html = paper_html(lib, lib.get(pid))
    assert not re.search(r"<\s*(script|img|iframe)\b", html, re.I)
    assert "javascript:" not in html and "onerror=" not in html.replace("onerror=alert", "")
