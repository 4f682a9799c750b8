"""`paperdesk feeds ...` end to end, in a subprocess, against a real local HTTP server."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest
from samples import FEED_DATA, feed_data
from test_feeds_refresh import FeedServer


def run(library, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "paperdesk", "--library", str(library), "feeds", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONWARNINGS": "error"})


def test_add_list_refresh_json_and_exit_codes(tmp_path):
    lib = tmp_path / "lib"
    with FeedServer() as server:
        good = server.add("/arxiv", body=feed_data("arxiv_api_search.xml"), etag='"1"')
        page = server.add("/", body=b'<html><head><link rel="alternate" type="application/atom+xml" '
                                   b'href="/arxiv"></head></html>', content_type="text/html")
        added = run(lib, "add", page, "--every", "2h", "--group", "Physics/Cond-mat")
        assert added.returncode == 0, added.stderr
        assert "added feed 1: ArXiv Query" in added.stdout and good in added.stdout
        assert run(lib, "add", good).returncode == 1  # already subscribed
        assert run(lib, "add", server.url("/nothing")).returncode == 1
        flaky = server.add("/flaky", body=feed_data("arxiv_api_2607.00001.xml"))
        assert run(lib, "add", flaky, "--name", "Flaky").returncode == 0
        assert run(lib, "add", good, "--every", "soon").returncode == 2

        first = run(lib, "refresh", "--json")
        assert first.returncode == 0, first.stderr
        results = {r["feed_id"]: r for r in json.loads(first.stdout)}
        assert (results[1]["status"], results[1]["new"]) == ("ok", 3) and results[2]["new"] == 1
        assert json.loads(run(lib, "refresh", "--json").stdout) == []  # nothing due yet

        server.routes["/flaky"].status = 500
        second = run(lib, "refresh", "--all", "--json")
        assert second.returncode == 1  # one feed failed: cron sees it
        statuses = {r["feed_id"]: (r["status"], r["error"]) for r in json.loads(second.stdout)}
        assert statuses[1] == ("not-modified", None)
        assert statuses[2][0] == "error" and "HTTP 500" in statuses[2][1]

        listed = json.loads(run(lib, "list", "--json").stdout)
    assert [f["group"] for f in listed] == ["", "Physics/Cond-mat"]
    flaky_row, arxiv_row = listed
    assert flaky_row["health"] == "failing" and flaky_row["failures"] == 1
    assert "HTTP 500" in flaky_row["last_error"]
    assert (arxiv_row["health"], arxiv_row["every_seconds"], arxiv_row["items_seen"]) == ("ok", 7200, 3)
    text = run(lib, "list").stdout
    assert "last error (1x): the server had an internal error (HTTP 500)" in text


def test_rename_pause_resume_rm_interval_and_usage_errors(tmp_path):
    lib = tmp_path / "lib"
    assert run(lib, "add", "http://127.0.0.1:9/feed", "--no-check", "--name", "Dead").returncode == 0
    assert run(lib, "rename", "1", "Alive").returncode == 0
    assert run(lib, "pause", "1").returncode == 0
    assert run(lib, "interval", "1", "1d").returncode == 0
    feed = json.loads(run(lib, "list", "--json").stdout)[0]
    assert (feed["name"], feed["paused"], feed["every_seconds"]) == ("Alive", True, 86400)
    assert run(lib, "resume", "1").returncode == 0
    assert run(lib, "rename", "7", "x").returncode == 1
    missing = run(lib, "rm", "7")
    assert missing.returncode == 1 and "no feed with id 7" in missing.stderr
    assert run(lib, "rm", "one").returncode == 2
    assert run(lib, "rm", "1").returncode == 0
    assert json.loads(run(lib, "list", "--json").stdout) == []


def test_opml_import_export_round_trip_keeps_nested_groups(tmp_path):
    lib = tmp_path / "lib"
    nested = run(lib, "import-opml", str(FEED_DATA / "opml_nested.opml"))
    assert nested.returncode == 0 and "added 2 feeds" in nested.stdout
    science = run(lib, "import-opml", str(FEED_DATA / "opml_not_well_formed.opml"))
    assert "added 3 feeds" in science.stdout
    again = run(lib, "import-opml", str(FEED_DATA / "opml_not_well_formed.opml"))
    assert "added 0 feeds, 3 already subscribed" in again.stdout
    bad = tmp_path / "bad.opml"
    bad.write_text("just text", encoding="utf-8")
    assert run(lib, "import-opml", str(bad)).returncode == 1
    assert run(lib, "import-opml", str(tmp_path / "missing.opml")).returncode == 1
    out = tmp_path / "out.opml"
    assert run(lib, "export-opml", str(out)).returncode == 0
    def undated(text: str) -> list[str]:  # dateCreated may tick over a second between the two runs
        return [line for line in text.splitlines() if "dateCreated" not in line]

    assert undated(run(lib, "export-opml").stdout) == undated(out.read_text(encoding="utf-8"))

    other = tmp_path / "other"
    assert "added 5 feeds" in run(other, "import-opml", str(out)).stdout
    first = {(f["url"], f["name"], f["group"]) for f in json.loads(run(lib, "list", "--json").stdout)}
    second = {(f["url"], f["name"], f["group"]) for f in json.loads(run(other, "list", "--json").stdout)}
    assert first == second and ("http://domain/feed", "feedname", "grouping1/grouping2") in first


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX only")
def test_import_opml_refuses_a_fifo(tmp_path):
    fifo = tmp_path / "feeds.opml"
    os.mkfifo(fifo)  # read_bytes() on it blocked for ever
    proc = run(tmp_path / "lib", "import-opml", str(fifo))
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"paperdesk: cannot read {fifo}: is a named pipe (FIFO), "
                                   "not a regular file; refused")


def test_refresh_all_goes_past_a_feed_that_breaks_the_import(tmp_path):
    lib = tmp_path / "lib"
    with FeedServer() as server:
        # The library refuses this feed's paper (a trigger stands in for any failure to store it;
        # 10**30 upvotes did that until the parser and the store dropped such numbers).
        broken = server.add("/broken", body=json.dumps([{"paper": {
            "id": "2601.00001", "title": "A paper the library refuses"}}]).encode(),
            content_type="application/json")
        good = server.add("/good", body=feed_data("hf_daily_papers.json"),
                          content_type="application/json")
        assert run(lib, "add", broken, "--name", "Broken", "--no-check").returncode == 0
        assert run(lib, "add", good, "--name", "Good", "--no-check").returncode == 0
        conn = sqlite3.connect(lib / "library.sqlite3")
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON papers WHEN NEW.title LIKE '%refuses%' "
                     "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END")
        conn.commit()
        conn.close()
        done = run(lib, "refresh", "--all")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1 and "Broken" in errors[0] and "could not save the items" in errors[0]
    assert "3 items, 3 new" in done.stdout  # the feed after the broken one was refreshed
    listed = {f["name"]: f for f in json.loads(run(lib, "list", "--json").stdout)}
    assert listed["Broken"]["failures"] == 1 and "could not save" in listed["Broken"]["last_error"]
    assert listed["Broken"]["next_refresh"]  # backs off
    assert listed["Good"]["failures"] == 0


def test_refresh_says_once_that_a_feed_moved_and_lists_its_new_address(tmp_path):
    lib = tmp_path / "lib"
    with FeedServer() as server:
        new = server.add("/new", body=feed_data("arxiv_api_search.xml"))
        old = server.redirect("/old", "/new", 301)
        assert run(lib, "add", old, "--name", "Moved", "--no-check").returncode == 0
        first = run(lib, "refresh", "--all")
        second = run(lib, "refresh", "--all")
        listed = run(lib, "list").stdout
    assert first.returncode == 0, first.stderr
    said = f"1 ok           Moved: 3 items, 3 new; moved permanently to {new}: address updated"
    assert first.stdout.strip() == said
    assert second.returncode == 0 and "moved" not in second.stdout  # said once
    assert new in listed and old not in listed
