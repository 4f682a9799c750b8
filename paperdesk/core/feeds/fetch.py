"""One polite, bounded HTTP GET of a feed (no database; safe to run in a worker thread).

Conditional GET (ETag / Last-Modified), gzip, a connect/read timeout plus a whole-download
deadline, a cap on the decoded size (the body is decompressed here, chunk by chunk with a
bounded output, so a gzip bomb costs at most the cap), manual redirects with a limit and loop
detection (every hop gets the checks the first address gets), and a descriptive User-Agent.

The deadline and Cancel hold while a read waits for bytes: a watchdog thread shuts the socket
down when either comes, which wakes the blocked read (a server sending one byte a second would
otherwise reset the read timeout forever).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from paperdesk import __version__

if TYPE_CHECKING:  # imported by the functions that use it: the desk starts without it (~70 ms)
    import httpx

USER_AGENT = f"PaperDesk/{__version__} (+https://github.com/paperdesk)"
ACCEPT = ("application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, "
          "text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5, */*;q=0.1")
_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}
_MAX_RETRY_AFTER = 7 * 24 * 3600.0
_STATUS_WORDS = {
    400: "the server rejected the request",
    401: "the feed needs a login",
    403: "access to the feed is forbidden",
    404: "the feed was not found",
    410: "the feed was removed for good",
    429: "too many requests: the server asks us to slow down",
    500: "the server had an internal error",
    502: "the server's gateway failed",
    503: "the server is temporarily unavailable",
    504: "the server's gateway timed out",
}


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 20.0  # seconds to connect, and between two reads
    total_timeout: float = 60.0  # seconds for the whole download
    max_bytes: int = 10 * 1024 * 1024  # decoded body size
    max_redirects: int = 5
    what: str = "feed"  # what is fetched, for messages ("the PDF is larger than ...")


DEFAULT_LIMITS = FetchLimits()


@dataclass
class FetchResult:
    url: str
    status: str  # "ok" | "not-modified" | "error"
    final_url: str = ""
    http_status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None  # plain words, for people
    retry_after: float | None = None  # seconds the server asked us to wait
    # Where the address has moved for good: the last hop reached from it by permanent redirects
    # only (301/308); a temporary hop (302/303/307) ends what may be stored.
    moved_to: str | None = None


class _Abort(Exception):
    """Stop reading this response; the message is the plain-words reason."""


CANCEL_POLL_S = 0.05  # how soon the watchdog notices Cancel


class _Watchdog:
    """Cuts a request off at the deadline or on Cancel, even while a read is blocked: waiting for
    the headers or for the body's next bytes. It learns the connection's socket from httpcore's
    trace events (`trace`), so it can cut before there is a response."""

    def __init__(self, deadline: float, limits: FetchLimits, cancelled: Callable[[], bool] | None):
        self.reason: str | None = None
        self._stream: object | None = None
        self._deadline = deadline
        self._limits = limits
        self._cancelled = cancelled
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="paperdesk-fetch-watchdog", daemon=True)

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while True:
            left = self._deadline - time.monotonic()
            if left <= 0:
                self.reason = f"timed out: the download took longer than {self._limits.total_timeout:g} s"
                break
            if self._cancelled and self._cancelled():
                self.reason = "cancelled"
                break
            if self._done.wait(min(left, CANCEL_POLL_S) if self._cancelled else left):
                return
        self._cut()

    def trace(self, event: str, info: dict) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self._stream = info.get("return_value")
            if self.reason:  # cut before the connection existed: cut it now
                self._cut()

    def _cut(self) -> None:
        # close() alone does not wake a recv() blocked in another thread; shutdown() does.
        stream = self._stream
        sock = stream.get_extra_info("socket") if stream is not None else None  # type: ignore[attr-defined]
        if isinstance(sock, socket.socket):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the reader


def make_client(limits: FetchLimits = DEFAULT_LIMITS, accept: str = ACCEPT) -> httpx.Client:
    import httpx

    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(limits.timeout),
        # A new connection per request: the watchdog learns each one's socket as it is made, so
        # Cancel can cut a request that still waits for its headers (a kept-alive one it could not).
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip, deflate"},
    )


def fetch(client: httpx.Client, url: str, *, etag: str | None = None, last_modified: str | None = None,
          limits: FetchLimits = DEFAULT_LIMITS,
          cancelled: Callable[[], bool] | None = None) -> FetchResult:
    """GET `url`; never raises for network or HTTP trouble (it becomes status "error")."""
    import httpx

    deadline = time.monotonic() + limits.total_timeout
    conditional = {}
    if etag:
        conditional["If-None-Match"] = etag
    if last_modified:
        conditional["If-Modified-Since"] = last_modified
    chain = [url]
    current = url
    moved_to: str | None = None
    permanent = True  # every hop so far was a permanent redirect
    watchdog: _Watchdog | None = None
    try:
        while True:
            _check_hop(url, current)
            if cancelled and cancelled():
                raise _Abort("cancelled")
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Abort(f"timed out: the download took longer than {limits.total_timeout:g} s")
            # Connecting and waiting for the headers count against the whole deadline too.
            timeout = httpx.Timeout(min(limits.timeout, left))
            watchdog = _Watchdog(deadline, limits, cancelled)
            with watchdog, client.stream("GET", current, headers=conditional, timeout=timeout,
                                         extensions={"trace": watchdog.trace}) as response:
                code = response.status_code
                if code in _REDIRECTS and "location" in response.headers:
                    target = urljoin(current, response.headers["location"])
                    if target in chain:
                        raise _Abort("redirect loop: " + " → ".join([*chain, target]))
                    if len(chain) > limits.max_redirects:
                        raise _Abort(f"too many redirects (more than {limits.max_redirects})")
                    permanent = permanent and code in _PERMANENT
                    if permanent:
                        moved_to = target
                    chain.append(target)
                    current = target
                    continue
                result = FetchResult(url=url, status="error", final_url=current, http_status=code,
                                     content_type=response.headers.get("content-type"), moved_to=moved_to)
                if code == 304:
                    result.status = "not-modified"
                    result.etag = response.headers.get("etag") or etag
                    result.last_modified = response.headers.get("last-modified") or last_modified
                    return result
                if code != 200:
                    result.error = _status_error(code)
                    if code in (429, 503) or "retry-after" in response.headers:
                        result.retry_after = parse_retry_after(response.headers.get("retry-after"))
                        if result.retry_after is not None:
                            result.error += f"; it asks to retry in {_duration(result.retry_after)}"
                    return result
                result.body = _read_body(response, limits)
                if watchdog.reason:  # cut between two reads: the body may look complete
                    raise _Abort(watchdog.reason)
                result.status = "ok"
                result.etag = response.headers.get("etag")
                result.last_modified = response.headers.get("last-modified")
                return result
    except _Abort as exc:
        return FetchResult(url=url, status="error", final_url=current, error=str(exc))
    except httpx.HTTPError as exc:
        if watchdog is not None and watchdog.reason:  # the watchdog's cut is what broke the request
            return FetchResult(url=url, status="error", final_url=current, error=watchdog.reason)
        return _network_error(exc, url, current, limits)


def _network_error(exc: httpx.HTTPError, url: str, current: str, limits: FetchLimits) -> FetchResult:
    """A network failure in plain words."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        error = f"timed out: no answer from the server within {limits.timeout:g} s"
    elif isinstance(exc, httpx.ConnectError):
        error = f"could not connect to {urlsplit(current).netloc} ({_reason(exc)})"
    elif isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        error = f"the connection broke off ({_reason(exc)})"
    elif isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        error = f"not a valid web address: {current}"
    else:
        error = f"network error ({_reason(exc)})"
    return FetchResult(url=url, status="error", final_url=current, error=error)


def _check_hop(first: str, current: str) -> None:
    """The checks every address of a redirect chain gets, the first one included: a web address
    with a host. A hop also keeps to the ports the user chose: on the first address's host only
    its port (or https on 443), on another host only that port or a standard one. A feed must not
    send the client on to another service (a database, an admin page) of a host it can reach."""
    parts = urlsplit(current)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Abort(f"not a web address: {current}")
    if current == first:
        return
    origin = urlsplit(first)
    try:
        port, first_port = _port(parts), _port(origin)
    except ValueError:
        raise _Abort(f"not a valid web address: {current}") from None
    if port == first_port or (parts.scheme == "https" and port == 443):
        return
    if (parts.hostname or "").lower() == (origin.hostname or "").lower():
        raise _Abort(f"refused a redirect to another port of the same host: {current}")
    if port != 80:
        raise _Abort(f"refused a redirect to a non-standard port: {current}")


def _port(parts) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def _read_body(response: httpx.Response, limits: FetchLimits) -> bytes:
    cap = limits.max_bytes
    too_big = f"the {limits.what} is larger than the {_size(cap)} limit"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _Abort(too_big)
    decoder = _decoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    size = 0
    try:
        for raw in response.iter_raw(chunk_size=64 * 1024):
            pending = raw
            while pending:
                if decoder is None:
                    out, pending = pending, b""
                else:
                    # max_length bounds memory: a bomb is stopped one byte past the cap.
                    out = decoder.decompress(pending, cap - size + 1)
                    pending = decoder.unconsumed_tail
                size += len(out)
                if size > cap:
                    if decoder is not None:
                        raise _Abort(f"the {limits.what} unpacks to more than the {_size(cap)} limit")
                    raise _Abort(too_big)
                parts.append(out)
    except zlib.error:
        raise _Abort("the server sent corrupt compressed data") from None
    return b"".join(parts)


def _decoder(encoding: str):  # -> zlib decompress object or None
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header, detected
    raise _Abort(f"the server used an unsupported compression ({encoding})")


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


def _status_error(code: int) -> str:
    words = _STATUS_WORDS.get(code)
    if words is None:
        words = "the server had an error" if code >= 500 else "the server refused the request"
    return f"{words} (HTTP {code})"


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.removeprefix("[Errno 111] ").lower() if "Errno 111" in text else text


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f}".removesuffix(".0") + " h"
