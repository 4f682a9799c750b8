"""Refreshing feeds against a real HTTP server on 127.0.0.1 (one per test, scenario handlers below)."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from samples import feed_data

from paperdesk.core.feeds.discover import ProbeError, probe
from paperdesk.core.feeds.fetch import USER_AGENT, FetchLimits
from paperdesk.core.feeds.refresh import refresh_feeds

LIMITS = FetchLimits(timeout=0.5, total_timeout=5, max_bytes=256 * 1024, max_redirects=5)


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/xml"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # answer 304 when the client sends it back
    stall: bool = False  # wait until the test ends, sending nothing
    gzip: bool = False  # body is already gzip-compressed


class FeedServer:
    """A real threaded HTTP server; `routes` maps a path to what to answer."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.stall:
                    server.release.wait()
                    return
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.gzip:
                    self.send_header("Content-Encoding", "gzip")
                for key, value in route.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (size cap): that is the point of the test

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def add(self, path: str, route: Route | None = None, **kwargs: object) -> str:
        self.routes[path] = route or Route(**kwargs)  # type: ignore[arg-type]
        return self.url(path)

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        return self.add(path, status=status, headers={"Location": to})

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()  # ends any stalled handler
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server():
    with FeedServer() as srv:
        yield srv


def refresh(lib, ids=None, **kwargs):
    kwargs.setdefault("due_only", False)
    return {r.feed_id: r for r in refresh_feeds(lib, ids, limits=LIMITS, **kwargs)}


# -- the happy path and conditional GET ----------------------------------------------------------------
def test_200_then_304_adds_nothing_and_sends_validators(lib, server):
    url = server.add("/api", body=feed_data("arxiv_api_search.xml"), etag='"v1"',
                     content_type="application/atom+xml")
    feed = lib.feeds.add(url, "del Maestro")
    first = refresh(lib)[feed.id]
    assert (first.status, first.new, first.items) == ("ok", 3, 3)
    assert lib.get("cond-mat/0412498")["authors"] == ["Dana Invented", "Eli Fictional"]
    assert lib.get("1201.0001")["sources"][0]["kind"] == "arxiv"
    second = refresh(lib)[feed.id]
    assert (second.status, second.new, second.items) == ("not-modified", 0, 3)
    path, headers = server.requests[-1]
    assert path == "/api"
    assert headers["if-none-match"] == '"v1"' and headers["user-agent"] == USER_AGENT
    assert "gzip" in headers["accept-encoding"]
    health = lib.feeds.get(feed.id)
    assert health.last_error is None and health.items_seen == 3 and health.last_success
    assert health.next_refresh > health.last_success
    assert lib.stats()["sources"] == 1


def test_unchanged_body_without_validators_adds_no_source(lib, server):
    url = server.add("/plain", body=feed_data("arxiv_api_search.xml"))
    feed = lib.feeds.add(url)
    assert refresh(lib)[feed.id].new == 3
    again = refresh(lib)[feed.id]
    assert (again.status, again.new) == ("ok", 0)
    assert lib.stats()["sources"] == 1  # same content hash: nothing added


def test_last_modified_validator_gives_304(lib, server):
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"

    url = server.add("/lm", body=feed_data("rss2_atom_ns.xml"),
                     headers={"Last-Modified": stamp})
    feed = lib.feeds.add(url)
    assert refresh(lib)[feed.id].status == "ok"
    assert lib.feeds.get(feed.id).last_modified == stamp
    refresh(lib)
    assert server.requests[-1][1]["if-modified-since"] == stamp


def test_gzip_body_is_decoded(lib, server):
    body = gzip.compress(feed_data("arxiv_api_search.xml"))
    feed = lib.feeds.add(server.add("/gz", body=body, gzip=True))
    assert refresh(lib)[feed.id].new == 3


# -- every failure ends with a clear status, and the others still refresh ------------------------------
def test_failures_each_get_a_clear_status_and_do_not_stop_the_others(lib, server):
    good = server.add("/good", body=feed_data("arxiv_api_search.xml"))
    end = server.add("/end", body=feed_data("arxiv_api_2607.00001.xml"))
    server.redirect("/r1", "/r2", 301)
    server.redirect("/r2", end, 302)
    server.redirect("/loop-a", "/loop-b")
    server.redirect("/loop-b", "/loop-a")
    for n in range(7):
        server.redirect(f"/hop{n}", f"/hop{n + 1}")
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024), 9)
    assert len(bomb) < LIMITS.max_bytes  # small on the wire, huge once unpacked
    html_page = b"<!DOCTYPE html><html><head><title>Blog</title></head><body>hi</body></html>"
    cases = {
        "chain": (server.url("/r1"), "ok", None),
        "loop": (server.url("/loop-a"), "error", "redirect loop"),
        "hops": (server.url("/hop0"), "error", "too many redirects"),
        "missing": (server.url("/nothing-here"), "error", "not found (HTTP 404)"),
        "broken": (server.add("/500", status=500, body=b"oops"), "error", "internal error (HTTP 500)"),
        "busy": (server.add("/503", status=503, headers={"Retry-After": "7200"}), "error",
                 "temporarily unavailable (HTTP 503); it asks to retry in 2 h"),
        "stall": (server.add("/stall", stall=True), "error", "timed out"),
        "big": (server.add("/big", body=b"<rss>" + b" " * (LIMITS.max_bytes + 10)), "error",
                "larger than the 256 KB limit"),
        "bomb": (server.add("/bomb", body=bomb, gzip=True), "error", "unpacks to more than the 256 KB"),
        "invalid": (server.add("/invalid", body=feed_data("broken.xml")), "error",
                    "broken XML"),
        "webpage": (server.add("/page", body=html_page, content_type="text/html"), "error",
                    "web page, not a feed"),
        "good": (good, "ok", None),
    }
    ids = {key: lib.feeds.add(url, key).id for key, (url, _, _) in cases.items()}
    results = refresh(lib)
    assert len(results) == len(cases)
    for key, (_, status, words) in cases.items():
        result = results[ids[key]]
        assert result.status == status, (key, result)
        if words:
            assert words in result.error, (key, result.error)
            feed = lib.feeds.get(ids[key])
            assert feed.last_error == result.error and feed.failures == 1 and feed.last_success is None
    assert results[ids["good"]].new == 3 and results[ids["chain"]].new == 1
    busy = lib.feeds.get(ids["busy"])
    assert busy.next_refresh >= _plus(busy.last_attempt, 7200)  # Retry-After honoured


# -- a feed that moved: a permanent redirect updates the stored address, a temporary one does not ---
@pytest.mark.parametrize("status", [301, 308])
def test_a_permanent_redirect_updates_the_address_once_and_is_undoable(lib, server, status):
    new = server.add("/new", body=feed_data("arxiv_api_search.xml"))
    old = server.redirect("/old", "/new", status)
    feed = lib.feeds.add(old, "Moved")
    result = refresh(lib)[feed.id]
    assert (result.status, result.new, result.moved_to) == ("ok", 3, new)
    assert result.summary() == f"3 items, 3 new; moved permanently to {new}: address updated"
    assert lib.feeds.get(feed.id).url == new
    move = lib.last_undoable()
    assert move.kind == "feed-move" and new in move.label and move.origin.startswith("refresh:")
    server.requests.clear()
    again = refresh(lib)[feed.id]
    assert [path for path, _ in server.requests] == ["/new"]  # straight there: no redirect paid
    assert again.moved_to is None and "moved" not in again.summary()
    lib.undo(move.id)  # the move is in the log and undoable; the feed's health stays as it is
    moved_back = lib.feeds.get(feed.id)
    assert moved_back.url == old and moved_back.last_success and moved_back.items_seen == 3


def test_undoing_a_move_whose_old_address_another_feed_took_is_refused_in_one_line(lib, server):
    """An undo that would break a uniqueness rule (two feeds, one address) said 'UNIQUE constraint
    failed' as a raw sqlite3 error; now one LibraryError, and nothing changes."""
    from paperdesk.core.library import LibraryError

    new = server.add("/new", body=feed_data("arxiv_api_search.xml"))
    old = server.redirect("/old", "/new", 301)
    feed = lib.feeds.add(old, "Moved")
    refresh(lib)
    move = lib.last_undoable()
    other = lib.feeds.add(old, "Took the old address")
    operations = len(lib.history())
    with pytest.raises(LibraryError, match=r"cannot undo .*clashes with .* feeds\.url") as refused:
        lib.undo(move.id)
    assert "\n" not in str(refused.value)
    assert lib.feeds.get(feed.id).url == new and lib.feeds.get(other.id).url == old
    assert len(lib.history()) == operations and not lib.history()[0].undone


@pytest.mark.parametrize("status", [302, 303, 307])
def test_a_temporary_redirect_keeps_the_address(lib, server, status):
    server.add("/elsewhere", body=feed_data("arxiv_api_search.xml"))
    old = server.redirect("/feed", "/elsewhere", status)
    feed = lib.feeds.add(old)
    operations = len(lib.history())
    for _ in range(2):
        result = refresh(lib)[feed.id]
        assert result.status in ("ok", "not-modified") and result.moved_to is None
        assert "moved" not in result.summary()
    assert lib.feeds.get(feed.id).url == old
    assert [path for path, _ in server.requests] == ["/feed", "/elsewhere"] * 2
    assert len(lib.history()) == operations + 1  # the first refresh's import only


def test_a_redirect_chain_stores_the_last_address_reached_by_permanent_hops_only(lib, server):
    end = server.add("/end", body=feed_data("arxiv_api_search.xml"))
    server.redirect("/a", "/b", 301)
    middle = server.redirect("/b", "/c", 308)
    server.redirect("/c", "/end", 302)  # temporary: /b moved to /c for good, /c is only borrowing /end
    server.redirect("/x", "/y", 301)
    server.redirect("/y", "/end", 301)
    mixed = lib.feeds.add(server.url("/a"), "mixed")
    permanent = lib.feeds.add(server.url("/x"), "permanent")
    results = refresh(lib)
    assert results[mixed.id].moved_to == server.url("/c") and middle == server.url("/b")
    assert lib.feeds.get(mixed.id).url == server.url("/c")
    assert lib.feeds.get(permanent.id).url == end


def test_a_move_not_modified_is_stored_and_one_to_a_subscribed_address_is_kept(lib, server):
    body = feed_data("arxiv_api_search.xml")
    first = server.add("/v1", body=body, etag='"e"')
    feed = lib.feeds.add(first)
    refresh(lib)
    server.redirect("/v1", "/v2", 301)
    second = server.add("/v2", body=body, etag='"e"')
    result = refresh(lib)[feed.id]
    assert (result.status, result.moved_to) == ("not-modified", second)
    assert result.summary() == f"unchanged; moved permanently to {second}: address updated"
    assert lib.feeds.get(feed.id).url == second

    other = lib.feeds.add(server.add("/other", body=feed_data("rss2_atom_ns.xml")), "Other")
    server.redirect("/other", "/v2", 301)  # now moved to an address feed 1 already follows
    kept = refresh(lib)[other.id]
    assert kept.status == "ok" and kept.moved_to == second
    assert kept.summary().endswith(
        f"moved permanently to {second}: address kept, feed {feed.id} ({feed.name}) already has that address")
    assert lib.feeds.get(other.id).url == server.url("/other")
    assert lib.feeds.get(feed.id).url == second


def test_a_moved_feed_that_then_fails_changes_nothing(lib, server):
    port = server.httpd.server_port
    server.redirect("/loop-a", "/loop-b", 301)
    server.redirect("/loop-b", "/loop-a", 301)
    # 127.0.0.2 is this machine too, but the server listens on 127.0.0.1 only: a dead host.
    server.redirect("/dead", f"http://127.0.0.2:{port}/feed", 301)
    server.redirect("/page", "/page.html", 308)
    server.add("/page.html", body=b"<html><body>we moved</body></html>", content_type="text/html")
    cases = {"/loop-a": "redirect loop: ", "/dead": "could not connect to 127.0.0.2",
             "/page": "web page, not a feed"}
    ids = {path: lib.feeds.add(server.url(path), path).id for path in cases}
    operations = len(lib.history())
    results = refresh(lib)
    for path, words in cases.items():
        result = results[ids[path]]
        assert result.status == "error" and words in result.error and result.moved_to is None, result
        assert result.summary() == result.error  # one line, the problem's
        feed = lib.feeds.get(ids[path])
        assert feed.url == server.url(path) and feed.last_error == result.error
    assert len(lib.history()) == operations


def test_a_failing_refresh_loses_nothing_and_backs_off(lib, server):
    url = server.add("/feed", body=feed_data("arxiv_api_search.xml"))
    feed = lib.feeds.add(url)
    refresh(lib)
    before = lib.stats()
    for failures, words in ((1, "broken XML"), (2, "HTTP 500"), (3, "web page")):
        server.routes["/feed"] = {
            1: Route(body=feed_data("broken.xml")),
            2: Route(status=500),
            3: Route(body=b"<html><body>maintenance</body></html>", content_type="text/html"),
        }[failures]
        result = refresh(lib)[feed.id]
        assert result.status == "error" and words in result.error
        health = lib.feeds.get(feed.id)
        assert health.failures == failures and health.items_seen == 3
        delay = _seconds(health.last_attempt, health.next_refresh)
        assert 0.8 * 900 * 2 ** (failures - 1) - 1 <= delay <= 1.2 * 900 * 2 ** (failures - 1) + 1
    assert lib.stats() == before
    server.routes["/feed"] = Route(body=feed_data("arxiv_api_search.xml"))
    healed = refresh(lib)[feed.id]
    assert healed.status == "ok" and lib.feeds.get(feed.id).failures == 0
    assert lib.feeds.get(feed.id).last_error is None


def test_wrong_content_type_and_non_utf8_encodings(lib, server):
    octets = server.add("/octets", body=feed_data("rss2_atom_ns.xml"),
                        content_type="application/octet-stream")
    cp1252 = server.add("/cp1252", body=feed_data("cp1252_item.xml"),
                        content_type="text/xml; charset=windows-1252")
    euckr = server.add("/euckr", body=feed_data("euc_kr_item.xml"), content_type="text/xml")
    ids = [lib.feeds.add(u).id for u in (octets, cp1252, euckr)]
    results = refresh(lib)
    assert [results[i].status for i in ids] == ["ok", "ok", "ok"]
    foo = lib.records(lib.paper_ids())
    by_title = {r["title"]: r for r in foo}
    assert by_title["Pound sign"]["abstract"] == "This costs \xa3\u201cfive.\u201d"
    assert "Notes on sparse attention" in by_title
    korean = [r for r in foo if r["title"] not in ("Pound sign", "Notes on sparse attention")]
    assert korean and any("\uac00" <= ch <= "\ud7a3" for ch in korean[0]["title"])


def test_due_only_and_paused_feeds_are_skipped(lib, server):
    a = lib.feeds.add(server.add("/a", body=feed_data("arxiv_api_2607.00001.xml")))
    b = lib.feeds.add(server.add("/b", body=feed_data("arxiv_api_search.xml")))
    lib.feeds.set_paused(b.id, True)
    assert [r.feed_id for r in refresh_feeds(lib, limits=LIMITS)] == [a.id]
    assert refresh_feeds(lib, limits=LIMITS) == []  # a is not due again for 6 hours
    named = refresh_feeds(lib, [b.id], due_only=False, limits=LIMITS)  # named: refreshed though paused
    assert [(r.feed_id, r.status) for r in named] == [(b.id, "ok")]


def test_progress_and_cancel_on_the_callers_thread(lib, server):
    body = feed_data("arxiv_api_2607.00001.xml")
    fast = [lib.feeds.add(server.add(f"/f{n}", body=body)).id for n in range(2)]
    slow = [lib.feeds.add(server.add(f"/s{n}", stall=True)).id for n in range(4)]
    seen: list[tuple[int, int, str, str]] = []
    caller = threading.current_thread().name

    def progress(done: int, total: int, name: str) -> None:
        seen.append((done, total, name, threading.current_thread().name))

    results = refresh_feeds(lib, due_only=False, progress=progress, limits=LIMITS,
                            cancelled=lambda: len(seen) >= 3)  # after the two fast feeds
    assert seen[0][:2] == (0, 6) and {s[3] for s in seen} == {caller}
    assert [r.status for r in results] == ["ok", "ok"] + ["cancelled"] * 4
    assert [r.feed_id for r in results] == fast + slow
    for feed_id in slow:
        feed = lib.feeds.get(feed_id)
        assert feed.last_attempt is None and feed.failures == 0  # untouched, still due


def test_at_most_four_requests_at_once(lib, server):
    active = {"now": 0, "max": 0}
    lock = threading.Lock()
    gate = threading.Event()
    body = feed_data("arxiv_api_2607.00001.xml")

    original = server.httpd.RequestHandlerClass.do_GET

    def counting(handler):  # count concurrent requests; release once four are in flight
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
            if active["now"] >= 4:
                gate.set()
        gate.wait(2)
        try:
            original(handler)
        finally:
            with lock:
                active["now"] -= 1

    server.httpd.RequestHandlerClass.do_GET = counting
    for n in range(10):
        lib.feeds.add(server.add(f"/c{n}", body=body))
    results = refresh(lib)
    assert all(r.status == "ok" for r in results.values())
    assert active["max"] == 4


# -- sources: HF JSON, arXiv, folders; one record per paper ---------------------------------------------
def test_hf_json_and_arxiv_feed_make_one_record_with_both_provenances(lib, server):
    hf = server.add("/api/daily_papers", body=feed_data("hf_daily_papers.json"),
                    content_type="application/json")
    ax = server.add("/arxiv", body=feed_data("arxiv_api_2607.00001.xml"),
                    content_type="application/atom+xml")
    hf_feed, ax_feed = lib.feeds.add(hf, "HF daily"), lib.feeds.add(ax, "arXiv search")
    assert refresh(lib, [hf_feed.id])[hf_feed.id].new == 3
    assert refresh(lib, [ax_feed.id])[ax_feed.id].new == 0
    record = lib.get("2607.00001")
    assert sorted(s["kind"] for s in record["sources"]) == ["arxiv", "hf"]
    assert record["upvotes"] == 0 and record["organization"] == "Example University"
    assert record["authors"][:2] == ["Gia Example", "Hal Sample"]
    assert record["published"] == "2026-07-01"
    assert lib.stats()["papers"] == 3
    upvoted = max(lib.records(lib.paper_ids()), key=lambda r: r["upvotes"] or 0)
    assert upvoted["upvotes"] > 0


def test_watched_folder_of_digests(lib, tmp_path):
    from samples import DIGEST_BLOCKS, DIGEST_PLAIN, TODAY

    folder = tmp_path / "digests"
    folder.mkdir()
    (folder / DIGEST_PLAIN.name).write_bytes(DIGEST_PLAIN.read_bytes())
    (folder / "notes.txt").write_text("just a shopping list\n", encoding="utf-8")
    feed = lib.feeds.add(str(folder))
    assert feed.is_folder and feed.name == "digests"
    first = refresh(lib, today=TODAY)[feed.id]
    assert first.status == "ok" and first.new == 79 and len(first.skipped) == 1
    (folder / DIGEST_BLOCKS.name).write_bytes(DIGEST_BLOCKS.read_bytes())
    second = refresh(lib, today=TODAY)[feed.id]
    assert second.new == lib.stats()["papers"] - 79 and second.new > 50 and lib.stats()["digests"] == 2
    folder.rename(tmp_path / "gone")
    gone = refresh(lib, today=TODAY)[feed.id]
    assert gone.status == "error" and "missing" in gone.error


# -- subscriptions -----------------------------------------------------------------------------------
def test_add_by_page_link_rename_pause_remove_and_undo(lib, server):
    feed_url = server.add("/feed.xml", body=feed_data("rss2_atom_ns.xml"))
    page = (b'<html><head><link rel="stylesheet" href="/s.css">'
            b'<link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml"></head></html>')
    page_url = server.add("/blog/", body=page, content_type="text/html; charset=utf-8")
    found = probe(page_url, limits=LIMITS)
    assert found.url == feed_url and found.title == "Example Lab notes"
    with pytest.raises(ProbeError, match="links no feed"):
        probe(server.add("/plain", body=b"<html><body>no feeds</body></html>", content_type="text/html"),
              limits=LIMITS)
    feed = lib.feeds.add(found.url, found.title, group="Blogs/Tech")
    assert feed.feed_group == "Blogs/Tech" and feed.health == "new"
    with pytest.raises(Exception, match="already subscribed"):
        lib.feeds.add(feed_url)
    lib.feeds.rename(feed.id, "Hugh")
    lib.feeds.set_paused(feed.id, True)
    assert lib.feeds.get(feed.id).health == "paused"
    lib.feeds.remove(feed.id)
    assert lib.feeds.all() == []
    lib.undo()
    assert lib.feeds.get(feed.id).paused is True
    lib.undo()
    lib.undo()
    assert lib.feeds.get(feed.id).name == "Example Lab notes"
    lib.undo()
    assert lib.feeds.all() == []


def _titles(lib) -> list[str]:
    return [r["title"] for r in lib.rows(lib.paper_ids())]


def _seconds(start: str, end: str) -> float:
    import datetime as dt

    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()


def _plus(stamp: str, seconds: float) -> str:
    import datetime as dt

    return (dt.datetime.fromisoformat(stamp) + dt.timedelta(seconds=seconds)).isoformat()
