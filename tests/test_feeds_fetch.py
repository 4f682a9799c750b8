"""fetch() against real servers on 127.0.0.1: slow bodies, Cancel in flight, redirect hops."""

from __future__ import annotations

import threading
from pathlib import Path

from feed_server import feed_xml, serve_folder
from test_feeds_refresh import FeedServer

from paperdesk.core.feeds.fetch import FetchLimits, FetchResult, fetch, make_client

BOUND_S = 10  # generous on a loaded machine; without the fix these fetches run for minutes


def fetch_in_thread(url: str, limits: FetchLimits, cancelled=None) -> tuple[threading.Event, list]:
    done, out = threading.Event(), []

    def run() -> None:
        with make_client(limits) as client:
            out.append(fetch(client, url, limits=limits, cancelled=cancelled))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done, out


def test_a_body_trickled_byte_by_byte_stops_at_the_total_deadline(tmp_path: Path):
    (tmp_path / "feed.xml").write_bytes(feed_xml(1, 20))  # ~3 KB: 10 minutes at 0.2 s a byte
    # Each byte comes well within the read timeout: only the whole-download deadline can stop it.
    limits = FetchLimits(timeout=2.0, total_timeout=1.0)
    with serve_folder(tmp_path) as base:
        done, out = fetch_in_thread(f"{base}/feed.xml?trickle=0.2", limits)
        assert done.wait(BOUND_S), "the download ran past its deadline"
    result: FetchResult = out[0]
    assert result.status == "error" and not result.body
    assert result.error == "timed out: the download took longer than 1 s"


def test_cancel_interrupts_a_read_that_waits_for_bytes(tmp_path: Path):
    (tmp_path / "feed.xml").write_bytes(feed_xml(1, 20))
    limits = FetchLimits(timeout=30.0, total_timeout=60.0)
    stop, reading = threading.Event(), threading.Event()
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        if len(calls) > 1:  # asked again past the request's start: the body is being read
            reading.set()
        return stop.is_set()

    with serve_folder(tmp_path) as base:
        # One byte every 30 s: a cancel honoured only between chunks would wait that long.
        done, out = fetch_in_thread(f"{base}/feed.xml?trickle=30", limits, cancelled)
        assert reading.wait(BOUND_S)
        stop.set()
        assert done.wait(5), "Cancel waited for the next chunk"
    assert out[0].status == "error" and out[0].error == "cancelled"


def test_cancel_interrupts_a_request_that_waits_for_its_headers(tmp_path: Path):
    (tmp_path / "feed.xml").write_bytes(feed_xml(1, 2))
    limits = FetchLimits(timeout=30.0, total_timeout=60.0)
    stop, asked = threading.Event(), threading.Event()

    def cancelled() -> bool:
        asked.set()
        return stop.is_set()

    with serve_folder(tmp_path) as base:
        # The server says nothing for 30 s: only a cut of the socket can end the wait sooner.
        done, out = fetch_in_thread(f"{base}/feed.xml?wait=30", limits, cancelled)
        assert asked.wait(BOUND_S)
        stop.set()
        assert done.wait(5), "Cancel waited for the headers"
    assert out[0].status == "error" and out[0].error == "cancelled"


def test_every_redirect_hop_gets_the_checks_of_the_first_address():
    with FeedServer() as origin, FeedServer() as other_port:
        other_port.add("/feed", body=feed_xml(1, 2))
        origin.add("/feed", body=feed_xml(1, 2))
        origin.redirect("/elsewhere", other_port.url("/feed"))
        origin.redirect("/same-port", "/feed")
        origin.redirect("/to-file", "file:///etc/passwd")
        limits = FetchLimits(timeout=2.0, total_timeout=5.0)
        with make_client(limits) as client:
            moved = fetch(client, origin.url("/elsewhere"), limits=limits)
            kept = fetch(client, origin.url("/same-port"), limits=limits)
            to_file = fetch(client, origin.url("/to-file"), limits=limits)
        assert moved.status == "error"
        refused = "refused a redirect to another port of the same host"
        assert moved.error == f"{refused}: {other_port.url('/feed')}"
        assert not other_port.requests  # never asked
        assert kept.status == "ok" and kept.final_url == origin.url("/feed")
        assert to_file.status == "error" and to_file.error == "not a web address: file:///etc/passwd"
