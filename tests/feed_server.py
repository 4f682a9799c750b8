"""A real HTTP server on 127.0.0.1 serving a folder of feed files, for tests and benchmarks.

It runs in a child process, so it never competes for the GIL of a process whose GUI heartbeat is
being measured. Files answer 200 with an ETag (304 when it matches), missing ones 404.
`?trickle=S` sends the body one byte every S seconds (a slow server; it stops when the client
hangs up or the body ends); `?wait=S` waits S seconds before answering at all. Other query strings
are ignored. `.pdf` files are served as
application/pdf (whatever they hold), the rest as RSS. A missing NAME with a file NAME.redirect
holding "STATUS LOCATION" (e.g. "301 /new.xml") answers that redirect.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER = r"""
import hashlib, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
root = Path(sys.argv[1])
log = Path(sys.argv[2]) if len(sys.argv) > 2 else None
TYPES = {".pdf": "application/pdf", ".html": "text/html; charset=utf-8"}
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if log is not None:
            with log.open("a") as f:
                f.write(f"{time.monotonic():.3f} {self.path} {self.headers.get('User-Agent')}\n")
        url = urlsplit(self.path)
        trickle = float(parse_qs(url.query).get("trickle", ["0"])[0])
        time.sleep(float(parse_qs(url.query).get("wait", ["0"])[0]))
        path = root / url.path.lstrip("/")
        moved = path.with_name(path.name + ".redirect")
        if not path.is_file() and moved.is_file():
            status, location = moved.read_text().split()
            self.send_response(int(status)); self.send_header("Location", location)
            self.send_header("Content-Length", "0"); self.end_headers(); return
        if not path.is_file():
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        body = path.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304); self.end_headers(); return
        self.send_response(200)
        self.send_header("Content-Type", TYPES.get(path.suffix, "application/rss+xml; charset=utf-8"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        try:
            if not trickle:
                self.wfile.write(body)
            for i in range(len(body) if trickle else 0):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(trickle)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up
    def log_message(self, *a): pass
ThreadingHTTPServer.daemon_threads = True
srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_port, flush=True)
srv.serve_forever()
"""


def feed_xml(feed: int, items: int, first: int = 0) -> bytes:
    """An RSS 2.0 feed of `items` papers, numbered from `first`."""
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
             f"<title>Test feed {feed}</title><link>http://test.local/{feed}</link>"]
    for i in range(first, first + items):
        parts.append(f"<item><title>Feed {feed} paper {i} about sparse attention</title>"
                     f"<link>http://test.local/{feed}/{i}</link><guid>f{feed}-{i}</guid>"
                     f"<description>Abstract of paper {i} in feed {feed}.</description>"
                     "<pubDate>Wed, 05 Nov 2025 10:00:00 GMT</pubDate></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


@contextmanager
def serve_folder(root: Path, log: Path | None = None) -> Iterator[str]:
    """Serve `root` until the block ends; yields the base URL. With `log`, each request is
    appended to it as "<monotonic time> <path> <User-Agent>"."""
    args = [sys.executable, "-c", SERVER, str(root)] + ([str(log)] if log else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
