"""Parsing fetched bytes (feeds, arXiv, HF JSON), sanitising feed HTML, OPML, intervals and backoff."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re

import feedparser
import pytest
from test_feeds_refresh import CORPUS, corpus

from paperdesk.core.feeds.fetch import parse_retry_after
from paperdesk.core.feeds.opml import OpmlFeed, read_opml, write_opml
from paperdesk.core.feeds.parse import _authors, parse_document
from paperdesk.core.feeds.refresh import backoff_seconds
from paperdesk.core.feeds.sanitize import html_to_text, plain_to_text
from paperdesk.core.feeds.subscriptions import FeedError, parse_interval
from paperdesk.core.records import RejectedInput

URL = "http://127.0.0.1/feed"
DANGER = re.compile(r"<\s*/?\s*(script|iframe|img|a|object|style)\b|\bon(error|load|mouseover)\s*=|"
                    r"javascript:|alert\(", re.I)


def parse(rel: str, content_type: str | None = None):
    return parse_document(corpus(rel), url=URL, name="test", content_type=content_type)


# -- sanitising --------------------------------------------------------------------------------------
def test_sanitize_corpus_no_script_or_handler_survives():
    files = sorted((CORPUS / "feeds/wellformed/sanitize").glob("*.xml"))
    assert len(files) == 10
    dangerous_inputs = 0
    for path in files:
        raw = feedparser.parse(io.BytesIO(path.read_bytes()), sanitize_html=False)
        raw_text = json.dumps(raw.entries, default=str) + raw.feed.get("title", "")
        dangerous_inputs += bool(DANGER.search(raw_text))
        parsed = parse_document(path.read_bytes(), url=URL, name="")
        texts = [parsed.title] + [t for p in parsed.batch.papers for t in (p.title, p.abstract, *p.authors)]
        for text in texts:
            assert not DANGER.search(text), (path.name, text[:200])
            assert "<" not in text or path.name.endswith("nested_cdata.xml"), (path.name, text[:200])
    assert dangerous_inputs >= 8  # the inputs really were hostile: nh3, not feedparser, cleaned them
    crazy = parse("feeds/wellformed/sanitize/item_description_crazy.xml").batch.papers[0]
    assert crazy.abstract == "Did The Javascript Execute?\nI will execute here, too, if you mouse over me"
    assert parse("feeds/wellformed/sanitize/feed_title_unacceptable_uri.xml").title == "safe"
    russian = parse("feeds/wellformed/sanitize/large_atom_feed_that_needs_css_sanitisation.xml")
    assert russian.items == 15 and len(russian.batch.papers) == 15
    assert all("style" not in p.abstract and "&nbsp;" not in p.abstract for p in russian.batch.papers)


def test_html_and_plain_text_rules():
    assert html_to_text("<p>A &amp;amp; B</p><p>C<br>D</p>") == "A &amp; B\nC\nD"
    assert html_to_text("one\n  two <b onclick='x()'>three</b>", single_line=True) == "one two three"
    text = "x < y and <T> tokens\nwrapped line\n\nnext"
    assert plain_to_text(text) == "x < y and <T> tokens wrapped line\n\nnext"
    assert html_to_text(None) == plain_to_text("") == ""


# -- RSS / Atom / arXiv --------------------------------------------------------------------------------
@pytest.mark.parametrize("rel, title, kind", [
    ("feeds/wellformed/rdf/rss090_item_title.xml", "Item title", "feed"),
    ("feeds/wellformed/namespace/rss1.0withModules.xml", "Test Item - RSS 1.0", "feed"),
    ("feeds/wellformed/namespace/rss2.0withAtomNS.xml", "rsync and vfat | Geek at Play", "feed"),
    ("feeds/wellformed/namespace/atomthreadingwithentry.xml", "bloffo bliff by te...", "feed"),
])
def test_rss_09x_10_20_and_atom(rel, title, kind):
    parsed = parse(rel)
    assert parsed.batch.kind == kind and parsed.batch.papers[0].title == title
    assert parsed.batch.origin == URL and len(parsed.batch.content_hash) == 64


def test_entry_fields_authors_dates_links():
    def entry(rel: str):
        return feedparser.parse(io.BytesIO(corpus(rel)), sanitize_html=False).entries[0]

    assert len(_authors(entry("feeds/wellformed/rss/item_multiple_dc_creator.xml"), "feed")) == 2
    assert len(_authors(entry("feeds/wellformed/atom10/entry_authors_name.xml"), "feed")) == 2
    hugh = parse("feeds/wellformed/namespace/rss2.0withAtomNS.xml").batch.papers[0]
    assert hugh.authors == ["wearehugh"] and hugh.url.startswith("http")
    dated = parse("feeds/wellformed/rss/item_pubDate_map_updated_parsed.xml")
    assert dated.items == 1 and dated.batch.papers == []  # an item with neither title nor text
    assert parse("feeds/wellformed/namespace/atomthreadingwithentry.xml").batch.papers[0].published


def test_arxiv_api_ids_old_and_new_authors_and_abstracts():
    parsed = parse("arxiv/arxiv-api-2016_search_au_del_maestro.xml")
    assert parsed.batch.kind == "arxiv" and parsed.items == 10
    ids = [p.arxiv_id for p in parsed.batch.papers]
    assert "1201.4869" in ids and "cond-mat/0603029" in ids and all(ids)
    first = parsed.batch.papers[0]
    assert first.authors == ["Adrian Del Maestro"] and first.published == "2012-01-23"
    assert "\n" not in first.abstract and first.abstract.startswith("As helium-4 is cooled")
    new = parse("arxiv/arxiv-api-2026_search_all_transformer_AND_cat_cs.LG.xml").batch
    assert [p.arxiv_id for p in new.papers][:2] == ["2606.13677", "2606.13591"]
    assert all(p.authors for p in new.papers) and max(len(p.authors) for p in new.papers) >= 3
    recorded = json.loads(corpus("arxiv/arxiv-api-2026_recorded_q_testing_s0_m10.json"))
    api = parse_document(recorded["body"].encode("latin-1"), url=recorded["url"], name="")
    assert api.batch.kind == "arxiv" and len(api.batch.papers) == 10
    assert api.batch.papers[0].arxiv_id == "2202.12139"


def test_arxiv_listing_rss_empty_weekend_and_announce_prefix():
    weekend = parse("arxiv/arxiv-rss-2026_cs.CL_weekend_empty.xml")
    assert weekend.batch.kind == "arxiv" and weekend.batch.papers == [] and weekend.items == 0
    # The shape of a current rss.arxiv.org item (the corpus only has an empty weekend listing).
    item = (b'<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            b"<channel><title>cs.CL updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.CL</link>"
            b"<item><title>A Paper</title><link>https://arxiv.org/abs/2608.01234</link>"
            b"<description>arXiv:2608.01234v1 Announce Type: new \nAbstract: We study things.</description>"
            b"<dc:creator>Ada Lovelace, Alan Turing and Grace Hopper</dc:creator></item></channel></rss>")
    paper = parse_document(item, url="https://rss.arxiv.org/rss/cs.CL", name="").batch.papers[0]
    assert (paper.arxiv_id, paper.abstract) == ("2608.01234", "We study things.")
    assert paper.authors == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]


def test_encodings_from_the_http_header_and_the_document():
    cp1252 = parse("feeds/encoding/http_text_xml_charset_2.xml", "text/xml; charset=windows-1252")
    assert cp1252.batch.papers[0].abstract == "This is a \xa3\u201ctest.\u201d"
    korean = parse("feeds/encoding/euc-kr-item.xml", "text/xml").batch.papers[0]
    assert any("\uac00" <= ch <= "\ud7a3" for ch in korean.title)
    assert parse("feeds/encoding/utf-8-bom.xml").batch.papers == []


@pytest.mark.parametrize("body, words", [
    (corpus("feeds/illformed/aaa_illformed.xml"), "broken XML"),
    (corpus("feeds/illformed/rss_empty_document.xml"), "not a valid feed"),
    (b"<!doctype html><html><body>Hello</body></html>", "web page, not a feed"),
    (b"", "empty document"),
    (b"/etc/passwd", "not a valid feed"),  # never read as a path (feedparser would, given bytes)
    (b'[{"nothing": 1}]', "no entry has a paper title"),
    (b'{"error": "rate limited"}', "expected a list of papers"),
    (b"[{broken", "not valid JSON"),
])
def test_rejected_documents_say_why(body, words):
    with pytest.raises(RejectedInput, match=re.escape(words)):
        parse_document(body, url=URL, name="")


# -- Hugging Face --------------------------------------------------------------------------------------
def test_hf_daily_papers_json_three_real_files():
    big = parse("hf/sotawhat_hf_daily_papers_2026-06-12.json").batch
    assert big.kind == "hf" and len(big.papers) == 30 and big.date == "2026-06-12"
    first = big.papers[0]
    assert (first.arxiv_id, first.upvotes, first.published) == ("2606.00467", 0, "2026-05-30")
    assert first.url == "https://huggingface.co/papers/2606.00467"
    assert first.authors_count == len(first.authors) == 3
    small = parse("hf/all-news-ai_hf_daily_papers_2026-07-31.json").batch
    assert any(p.title.startswith("Σ-Mem") for p in small.papers)
    oxford = parse("hf/newsassistant_hf_daily_papers_2026-08-03.json").batch.papers[0]
    assert oxford.organization == "University of Oxford" and oxford.upvotes == 3


def test_content_hash_tracks_the_items():
    a = parse("hf/all-news-ai_hf_daily_papers_2026-07-31.json").batch
    b = parse("hf/all-news-ai_hf_daily_papers_2026-07-31.json").batch
    assert a.content_hash == b.content_hash
    data = json.loads(corpus("hf/all-news-ai_hf_daily_papers_2026-07-31.json"))
    data[0]["paper"]["upvotes"] += 1
    changed = parse_document(json.dumps(data).encode(), url=URL, name="").batch
    assert changed.content_hash != a.content_hash
    elsewhere = parse_document(corpus("hf/all-news-ai_hf_daily_papers_2026-07-31.json"), url=URL + "2",
                               name="")
    assert elsewhere.batch.content_hash != a.content_hash  # two feeds, two provenances


# -- OPML ---------------------------------------------------------------------------------------------
def test_opml_real_files_nested_miscapitalised_and_not_well_formed():
    assert read_opml(corpus("opml/listparser_hier-2-nested.xml")) == [
        OpmlFeed("http://domain/feed", "feedname", "grouping1/grouping2")]
    assert read_opml(corpus("opml/listparser_outline_xmlUrl-miscapitalized.xml"))[0].url == "http://domain/feed"
    science = read_opml(corpus("opml/plenary_recommended_Science.opml"))  # raw '&' and '<br>' inside
    assert len(science) == 24 and {f.group for f in science} == {"Science"}
    assert science[1].name == "BBC News - Science & Environment"
    iran = read_opml(corpus("opml/plenary_countries_Iran.opml"))
    assert len(iran) == 7 and all(f.group == "Iran" for f in iran)
    with pytest.raises(RejectedInput, match="not an OPML"):
        read_opml(b"<rss></rss>")


def test_opml_write_read_round_trip_keeps_groups():
    feeds = [OpmlFeed("http://a/1", "One & <Only>", "Science/Physics/Quantum"),
             OpmlFeed("http://a/2", "Two", "Science"), OpmlFeed("http://a/3", "Three", ""),
             *read_opml(corpus("opml/plenary_countries_Iran.opml"))]
    back = read_opml(write_opml(feeds))
    assert sorted(back, key=lambda f: f.url) == sorted(feeds, key=lambda f: f.url)


# -- intervals, backoff, Retry-After -------------------------------------------------------------------
def test_intervals():
    assert [parse_interval(t) for t in ("6h", "30m", "1d", "900", "1.5h", "2w")] == [
        21600, 1800, 86400, 900, 5400, 1209600]
    for bad in ("soon", "1m", "90d", "", "6 parsecs"):
        with pytest.raises(FeedError):
            parse_interval(bad)


def test_backoff_grows_with_jitter_and_honours_retry_after():
    rng = random.Random(1)
    delays = [backoff_seconds(n, 21600, rng=rng) for n in range(1, 9)]
    for n, delay in enumerate(delays, 1):
        expected = min(900 * 2 ** (n - 1), 86400)
        assert 0.8 * expected <= delay <= 1.2 * expected
    assert len({round(d) for d in delays}) == len(delays)
    assert backoff_seconds(1, 21600, retry_after=7200, rng=rng) == 7200
    assert backoff_seconds(30, 7 * 86400, rng=rng) <= 1.2 * 7 * 86400
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Thu, 01 Jan 2026 00:10:00 GMT", now) == 600
    assert parse_retry_after("soon") is None
