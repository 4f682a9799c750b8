"""One polite, bounded HTTP GET of a feed (no database; safe to run in a worker thread).

Conditional GET (ETag / Last-Modified), gzip, a connect/read timeout plus a whole-download
deadline, a cap on the decoded size (the body is decompressed here, chunk by chunk with a
bounded output, so a gzip bomb costs at most the cap), manual redirects with a limit and loop
detection, and a descriptive User-Agent.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from paperdesk import __version__

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
    permanent_redirect: str | None = None  # where the feed moved, if every hop was permanent


class _Abort(Exception):
    """Stop reading this response; the message is the plain-words reason."""


def make_client(limits: FetchLimits = DEFAULT_LIMITS) -> httpx.Client:
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(limits.timeout),
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
    )


def fetch(client: httpx.Client, url: str, *, etag: str | None = None, last_modified: str | None = None,
          limits: FetchLimits = DEFAULT_LIMITS,
          cancelled: Callable[[], bool] | None = None) -> FetchResult:
    """GET `url`; never raises for network or HTTP trouble (it becomes status "error")."""
    deadline = time.monotonic() + limits.total_timeout
    conditional = {}
    if etag:
        conditional["If-None-Match"] = etag
    if last_modified:
        conditional["If-Modified-Since"] = last_modified
    chain = [url]
    permanent = True
    current = url
    try:
        while True:
            if urlsplit(current).scheme not in ("http", "https"):
                raise _Abort(f"not a web address: {current}")
            with client.stream("GET", current, headers=conditional) as response:
                code = response.status_code
                if code in _REDIRECTS and "location" in response.headers:
                    target = urljoin(current, response.headers["location"])
                    permanent = permanent and code in _PERMANENT
                    if target in chain:
                        raise _Abort("redirect loop: " + " → ".join([*chain, target]))
                    if len(chain) > limits.max_redirects:
                        raise _Abort(f"too many redirects (more than {limits.max_redirects})")
                    chain.append(target)
                    current = target
                    continue
                result = FetchResult(url=url, status="error", final_url=current, http_status=code,
                                     content_type=response.headers.get("content-type"))
                if len(chain) > 1 and permanent:
                    result.permanent_redirect = current
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
                result.body = _read_body(response, limits, deadline, cancelled)
                result.status = "ok"
                result.etag = response.headers.get("etag")
                result.last_modified = response.headers.get("last-modified")
                return result
    except _Abort as exc:
        return FetchResult(url=url, status="error", final_url=current, error=str(exc))
    except httpx.TimeoutException:
        return FetchResult(url=url, status="error", final_url=current,
                           error=f"timed out: no answer from the server within {limits.timeout:g} s")
    except httpx.ConnectError as exc:
        host = urlsplit(current).netloc
        return FetchResult(url=url, status="error", final_url=current,
                           error=f"could not connect to {host} ({_reason(exc)})")
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        return FetchResult(url=url, status="error", final_url=current,
                           error=f"the connection broke off ({_reason(exc)})")
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        return FetchResult(url=url, status="error", final_url=current,
                           error=f"not a valid web address: {current}")
    except httpx.HTTPError as exc:
        return FetchResult(url=url, status="error", final_url=current,
                           error=f"network error ({_reason(exc)})")


def _read_body(response: httpx.Response, limits: FetchLimits, deadline: float,
               cancelled: Callable[[], bool] | None) -> bytes:
    cap = limits.max_bytes
    too_big = f"the feed is larger than the {_size(cap)} limit"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _Abort(too_big)
    decoder = _decoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    size = 0
    try:
        for raw in response.iter_raw(chunk_size=64 * 1024):
            if cancelled and cancelled():
                raise _Abort("cancelled")
            if time.monotonic() > deadline:
                raise _Abort(f"timed out: the download took longer than {limits.total_timeout:g} s")
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
                        raise _Abort(f"the feed unpacks to more than the {_size(cap)} limit")
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
