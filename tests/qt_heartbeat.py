"""An event-loop heartbeat: a Qt timer every few ms, recording the gaps between its beats.

The longest gap is the longest time the GUI thread could not react (the "stall" of the issues).
"""

from __future__ import annotations

from paperdesk.gui.qt import QElapsedTimer, QTimer


class Heartbeat:
    def __init__(self, interval_ms: int = 5):
        self.gaps: list[float] = []  # ms between beats
        self._clock = QElapsedTimer()
        self._last = 0
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def start(self) -> None:
        self._clock.start()
        self._last = self._clock.nsecsElapsed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def longest(self) -> float:
        return max(self.gaps, default=0.0)

    def late(self) -> tuple[int, float]:
        """(The last beat, as a stamp; ms since it): from any thread, to catch a stall under way."""
        last = self._last
        return last, (self._clock.nsecsElapsed() - last) / 1e6

    def _beat(self) -> None:
        now = self._clock.nsecsElapsed()
        self.gaps.append((now - self._last) / 1e6)
        self._last = now
