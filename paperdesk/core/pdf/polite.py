"""Politeness towards servers: one request at a time per host, and a pause between two requests.

One gate serves the whole process, so the resolver, a PDF download and a desk job never talk to
arXiv at the same time, whoever asks.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit


class Cancelled(Exception):
    """The caller cancelled while waiting for its turn."""


class HostGate:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._last: dict[str, float] = {}  # host -> when its last request ended (monotonic)

    @contextlib.contextmanager
    def turn(self, url: str, interval: float,
             cancelled: Callable[[], bool] | None = None) -> Iterator[None]:
        """Hold the host of `url` for one request, `interval` seconds after its previous one ended."""
        host = urlsplit(url).netloc.lower()
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        while not lock.acquire(timeout=0.05):
            if cancelled and cancelled():
                raise Cancelled
        try:
            while (wait := self._last.get(host, -1e9) + interval - time.monotonic()) > 0:
                if cancelled and cancelled():
                    raise Cancelled
                time.sleep(min(wait, 0.05))
            try:
                yield
            finally:
                self._last[host] = time.monotonic()
        finally:
            lock.release()


GATE = HostGate()
