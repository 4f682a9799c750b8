"""Parsing fetched bytes (feeds, arXiv, HF JSON), sanitising feed HTML, OPML, intervals and backoff.

Each behaviour is tested on small files made for the project (tests/data/feeds, see its README); the
`corpus` tests run the same checks on the real-world files of the optional conformance corpus
(../shared/corpus) and skip, saying so, where it is absent.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re

import feedparser
import pytest
from samples import feed_data

from paperdesk.core.feeds.fetch import parse_retry_after
from paperdesk.core.feeds.opml import OpmlFeed, read_opml, write_opml
from paperdesk.core.feeds.parse import parse_document
from paperdesk.core.feeds.refresh import backoff_seconds
from paperdesk.core.feeds.sanitize import html_to_text, plain_to_text
from paperdesk.core.feeds.subscriptions import FeedError, parse_interval
from paperdesk.core.records import RejectedInput

URL = "http://127.0.0.1/feed"
DANGER = re.compile(r"<\s*/?\s*(script|iframe|img|a|object|style)\b|\bon(error|load|mouseover)\s*=|"
                    r"javascript:|alert\(", re.I)


def parse(body: bytes, content_type: str | None = None):
    return parse_document(body, url=URL, name="test", content_type=content_type)


# -- sanitising --------------------------------------------------------------------------------------
def test_sanitize_corpus_no_script_or_handler_survives(corpus):
    files = sorted(corpus.dir.joinpath("feeds/wellformed/sanitize").glob("*.xml"))
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
    crazy = parse(corpus("feeds/wellformed/sanitize/item_description_crazy.xml")).batch.papers[0]
    assert crazy.abstract == "Did The Javascript Execute?\nI will execute here, too, if you mouse over me"
    assert parse(corpus("feeds/wellformed/sanitize/feed_title_unacceptable_uri.xml")).title == "safe"
    russian = parse(corpus("feeds/wellformed/sanitize/large_atom_feed_that_needs_css_sanitisation.xml"))
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
def test_rss_09x_10_20_and_atom(corpus, rel, title, kind):
    parsed = parse(corpus(rel))
    assert parsed.batch.kind == kind and parsed.batch.papers[0].title == title
    assert parsed.batch.origin == URL and len(parsed.batch.content_hash) == 64


def test_entry_fields_authors_dates_links(corpus):
    def authors(rel: str, item: bytes) -> list[str]:  # these items have only authors: titled, they are kept
        return parse(corpus(rel).replace(item, item + b"<title>T</title>", 1)).batch.papers[0].authors

    assert authors("feeds/wellformed/rss/item_multiple_dc_creator.xml", b"<item>") == \
        ["First Author", "Second Author"]
    assert authors("feeds/wellformed/atom10/entry_authors_name.xml", b"<entry>") == ["one", "two"]
    hugh = parse(corpus("feeds/wellformed/namespace/rss2.0withAtomNS.xml")).batch.papers[0]
    assert hugh.authors == ["wearehugh"] and hugh.url.startswith("http")
    dated = parse(corpus("feeds/wellformed/rss/item_pubDate_map_updated_parsed.xml"))
    assert dated.items == 1 and dated.batch.papers == []  # an item with neither title nor text
    assert parse(corpus("feeds/wellformed/namespace/atomthreadingwithentry.xml")).batch.papers[0].published


def test_arxiv_api_ids_old_and_new_authors_and_abstracts(corpus):
    parsed = parse(corpus("arxiv/arxiv-api-2016_search_au_del_maestro.xml"))
    assert parsed.batch.kind == "arxiv" and parsed.items == 10
    ids = [p.arxiv_id for p in parsed.batch.papers]
    assert "1201.4869" in ids and "cond-mat/0603029" in ids and all(ids)
    first = parsed.batch.papers[0]
    assert first.authors == ["Adrian Del Maestro"] and first.published == "2012-01-23"
    assert "\n" not in first.abstract and first.abstract.startswith("As helium-4 is cooled")
    new = parse(corpus("arxiv/arxiv-api-2026_search_all_transformer_AND_cat_cs.LG.xml")).batch
    assert [p.arxiv_id for p in new.papers][:2] == ["2606.13677", "2606.13591"]
    assert all(p.authors for p in new.papers) and max(len(p.authors) for p in new.papers) >= 3
    recorded = json.loads(corpus("arxiv/arxiv-api-2026_recorded_q_testing_s0_m10.json"))
    api = parse_document(recorded["body"].encode("latin-1"), url=recorded["url"], name="")
    assert api.batch.kind == "arxiv" and len(api.batch.papers) == 10
    assert api.batch.papers[0].arxiv_id == "2202.12139"


def test_arxiv_listing_rss_empty_weekend(corpus):
    weekend = parse(corpus("arxiv/arxiv-rss-2026_cs.CL_weekend_empty.xml"))
    assert weekend.batch.kind == "arxiv" and weekend.batch.papers == [] and weekend.items == 0



def test_arxiv_listing_rss_empty_day_and_announce_prefix():
    empty = parse_document(feed_data("arxiv_rss_empty.xml"), url="https://rss.arxiv.org/rss/cs.CL", name="")
    assert empty.batch.kind == "arxiv" and empty.batch.papers == [] and empty.items == 0
    # The shape of a current rss.arxiv.org item.
    item = (b'<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            b"<channel><title>cs.CL updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.CL</link>"
            b"<item><title>A Paper</title><link>https://arxiv.org/abs/2608.01234</link>"
            b"<description>arXiv:2608.01234v1 Announce Type: new \nAbstract: We study things.</description>"
            b"<dc:creator>Ada Lovelace, Alan Turing and Grace Hopper</dc:creator></item></channel></rss>")
    paper = parse_document(item, url="https://rss.arxiv.org/rss/cs.CL", name="").batch.papers[0]
    assert (paper.arxiv_id, paper.abstract) == ("2608.01234", "We study things.")
    assert paper.authors == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]


def test_encodings_from_the_http_header_and_the_document(corpus):
    cp1252 = parse(corpus("feeds/encoding/http_text_xml_charset_2.xml"), "text/xml; charset=windows-1252")
    assert cp1252.batch.papers[0].abstract == "This is a \xa3\u201ctest.\u201d"
    korean = parse(corpus("feeds/encoding/euc-kr-item.xml"), "text/xml").batch.papers[0]
    assert any("\uac00" <= ch <= "\ud7a3" for ch in korean.title)
    assert parse(corpus("feeds/encoding/utf-8-bom.xml")).batch.papers == []


@pytest.mark.parametrize("body, words", [
    (feed_data("broken.xml"), "broken XML"),
    (b"<!-- only a comment, no element -->\n", "not a valid feed"),
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


def test_rejected_corpus_documents_say_why(corpus):
    for rel, words in (("feeds/illformed/aaa_illformed.xml", "broken XML"),
                       ("feeds/illformed/rss_empty_document.xml", "not a valid feed")):
        with pytest.raises(RejectedInput, match=re.escape(words)):
            parse_document(corpus(rel), url=URL, name="")


# -- Hugging Face --------------------------------------------------------------------------------------
def test_hf_daily_papers_json_three_real_files(corpus):
    big = parse(corpus("hf/sotawhat_hf_daily_papers_2026-06-12.json")).batch
    assert big.kind == "hf" and len(big.papers) == 30 and big.date == "2026-06-12"
    first = big.papers[0]
    assert (first.arxiv_id, first.upvotes, first.published) == ("2606.00467", 0, "2026-05-30")
    assert first.url == "https://huggingface.co/papers/2606.00467"
    assert first.authors_count == len(first.authors) == 3
    small = parse(corpus("hf/all-news-ai_hf_daily_papers_2026-07-31.json")).batch
    assert any(p.title.startswith("Σ-Mem") for p in small.papers)
    oxford = parse(corpus("hf/newsassistant_hf_daily_papers_2026-08-03.json")).batch.papers[0]
    assert oxford.organization == "University of Oxford" and oxford.upvotes == 3


def test_content_hash_tracks_the_items(corpus):
    a = parse(corpus("hf/all-news-ai_hf_daily_papers_2026-07-31.json")).batch
    b = parse(corpus("hf/all-news-ai_hf_daily_papers_2026-07-31.json")).batch
    assert a.content_hash == b.content_hash
    data = json.loads(corpus("hf/all-news-ai_hf_daily_papers_2026-07-31.json"))
    data[0]["paper"]["upvotes"] += 1
    changed = parse_document(json.dumps(data).encode(), url=URL, name="").batch
    assert changed.content_hash != a.content_hash
    elsewhere = parse_document(corpus("hf/all-news-ai_hf_daily_papers_2026-07-31.json"), url=URL + "2",
                               name="")
    assert elsewhere.batch.content_hash != a.content_hash  # two feeds, two provenances


# -- OPML ---------------------------------------------------------------------------------------------
def test_opml_real_files_nested_miscapitalised_and_not_well_formed(corpus):
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
             *read_opml(feed_data("opml_not_well_formed.opml"))]
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


# -- the same behaviours on files made for the project (tests/data/feeds) -------------------------------
def test_made_hostile_feed_no_script_or_handler_survives():
    body = feed_data("hostile.xml")
    raw = feedparser.parse(io.BytesIO(body), sanitize_html=False)
    assert all(DANGER.search(json.dumps(e, default=str)) for e in raw.entries)  # each item is hostile
    parsed = parse(body)
    texts = [parsed.title] + [t for p in parsed.batch.papers for t in (p.title, p.abstract, *p.authors)]
    assert texts and not any(DANGER.search(t) or "<" in t for t in texts), texts
    assert [p.abstract for p in parsed.batch.papers] == ["Text kept", "click and words", "styled text"]
    assert parsed.batch.papers[0].title == "Did this run?"


@pytest.mark.parametrize("name, title", [
    ("rss090.xml", "Item title"), ("rss10.xml", "Test Item - RSS 1.0"),
    ("rss2_atom_ns.xml", "Notes on sparse attention"), ("atom10.xml", "Two authors wrote this"),
])
def test_made_rss_09x_10_20_and_atom(name, title):
    parsed = parse(feed_data(name))
    assert parsed.batch.kind == "feed" and parsed.batch.papers[0].title == title
    assert parsed.batch.origin == URL and len(parsed.batch.content_hash) == 64


def test_made_entry_fields_authors_dates_links():
    items = parse(feed_data("rss20_items.xml"))
    two, described = items.batch.papers
    assert items.items == 3  # the third has neither title nor text: dropped
    assert two.authors == ["Nia Example", "Oz Sample"] and two.published == "2026-02-03"
    assert described.title.startswith("Only a description") and described.url is None
    atom = parse(feed_data("atom10.xml")).batch.papers[0]
    assert atom.authors == ["Lee Example", "Max Sample"] and atom.published == "2026-02-28"
    assert atom.abstract == "An HTML summary." and atom.url == "http://example.org/atom/1"
    rdf = parse(feed_data("rss10.xml")).batch.papers[0]
    assert rdf.authors == ["Kim Example"] and rdf.published == "2026-02-03"


def test_made_arxiv_api_ids_old_and_new_authors_and_abstracts():
    parsed = parse(feed_data("arxiv_api_search.xml"))
    assert parsed.batch.kind == "arxiv" and parsed.items == 3
    assert [p.arxiv_id for p in parsed.batch.papers] == ["2601.01234", "cond-mat/0412498", "1201.0001"]
    first = parsed.batch.papers[0]
    assert first.title == "Sparse Attention for Long Documents"  # the API wraps titles too
    assert first.authors == ["Ada Example", "Ben Sample", "Chen Placeholder"]
    assert first.published == "2026-01-05" and "\n" not in first.abstract
    assert first.abstract.startswith("We study sparse attention")


def test_made_encodings_from_the_http_header_and_the_document():
    cp1252 = parse(feed_data("cp1252_item.xml"), "text/xml; charset=windows-1252")
    assert cp1252.batch.papers[0].abstract == "This costs \xa3\u201cfive.\u201d"
    korean = parse(feed_data("euc_kr_item.xml"), "text/xml").batch.papers[0]
    assert korean.title == "한국어 논문 제목"
    bom = b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel></channel></rss>'
    assert parse(bom).batch.papers == []


def test_made_hf_daily_papers_json():
    batch = parse(feed_data("hf_daily_papers.json")).batch
    assert batch.kind == "hf" and len(batch.papers) == 3 and batch.date == "2026-07-03"
    first = batch.papers[0]
    assert (first.arxiv_id, first.upvotes, first.published) == ("2607.00001", 0, "2026-07-01")
    assert first.url == "https://huggingface.co/papers/2607.00001"
    assert first.authors_count == len(first.authors) == 3 and first.organization == "Example University"
    assert first.abstract == "We ask language models to count sheep and report how far they get."
    assert batch.papers[1].title.startswith("Σ-Mem") and batch.papers[1].upvotes == 12
    assert batch.papers[2].authors == [] and batch.papers[2].authors_count is None


def test_made_content_hash_tracks_the_items():
    body = feed_data("hf_daily_papers.json")
    a, b = parse(body).batch, parse(body).batch
    assert a.content_hash == b.content_hash
    data = json.loads(body)
    data[0]["paper"]["upvotes"] += 1
    assert parse_document(json.dumps(data).encode(), url=URL, name="").batch.content_hash != a.content_hash
    assert parse_document(body, url=URL + "2", name="").batch.content_hash != a.content_hash


def test_made_opml_nested_miscapitalised_and_not_well_formed():
    assert read_opml(feed_data("opml_nested.opml")) == [
        OpmlFeed("http://domain/feed", "feedname", "grouping1/grouping2"),
        OpmlFeed("http://domain/other-feed", "miscapitalised", "")]
    loose = read_opml(feed_data("opml_not_well_formed.opml"))  # raw '&' and '<br>' inside
    assert len(loose) == 3 and {f.group for f in loose} == {"Science"}
    assert loose[1].name == "News - Science & Environment"
