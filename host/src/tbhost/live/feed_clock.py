"""``FeedClock``: one replay clock for the bots a host starts together.

A live feed closes a candle for every bot at the same instant. A replay feed does the same
here: the bots started together share one mapping from candle close time to wall time, and
all bots waiting for the same close wait on one timer and wake together (instead of a
thousand timers of their own, each started when its bot happened to be ready).

The clock starts when every bot of its batch is ready for its first candle (or gone: faulted,
stopped, finished): that candle, the earliest first candle among them, is due at once, and
every later close ``c`` at ``start + (c - first) / speed``. A bot whose first candle is later
(it resumed further on) waits until its candle is due; one behind catches up at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..engine.precise_timers import call_precisely_at

__all__ = ["FeedClock", "Pacer"]


class FeedClock:
    """The shared clock of one batch of bots; :meth:`pacer` gives each bot its handle."""

    def __init__(self, speed: float, on_start: Callable[[], None] | None = None) -> None:
        self.speed = speed
        self.on_start = on_start
        """Called once every bot is ready, just before the first candle is due."""
        self.origin: tuple[float, int] | None = None
        """(event loop time, candle close time) of the start, once every bot is ready."""
        self._expected = 0
        self._arrived = 0
        self._gone = 0
        self._first: int | None = None
        self._wakes: dict[float | None, asyncio.Future[None]] = {}
        """Shared waits, by wall time due (None: the start)."""

    def pacer(self) -> Pacer:
        """A handle for one more bot of the batch (the clock waits for it to start)."""
        self._expected += 1
        return Pacer(self)

    @property
    def waiting(self) -> bool:
        """Whether any bot of the batch is still running on this clock."""
        return self._gone < self._expected

    def interrupt(self) -> None:
        """Wake every waiting bot so it checks its stop event."""
        wakes, self._wakes = self._wakes, {}
        for future in wakes.values():
            if not future.done():
                future.set_result(None)

    def _arrive(self, first_close: int | None) -> None:
        self._arrived += 1
        if first_close is not None:
            self._first = first_close if self._first is None else min(self._first, first_close)
        if self.origin is None and self._arrived >= self._expected and self._first is not None:
            if self.on_start is not None:
                self.on_start()
            self.origin = (asyncio.get_running_loop().time(), self._first)
            start = self._wakes.pop(None, None)
            if start is not None and not start.done():
                start.set_result(None)

    def _due(self, close: int) -> float:
        assert self.origin is not None
        wall0, first = self.origin
        return wall0 + (close - first) / 1000 / self.speed

    def _wait(self, due: float | None) -> asyncio.Future[None]:
        future = self._wakes.get(due)
        if future is None or future.done():
            loop = asyncio.get_running_loop()
            future = self._wakes[due] = loop.create_future()
            if due is not None:
                call_precisely_at(loop, due, _wake, self._wakes, due, future)
        return future


def _wake(
    wakes: dict[float | None, asyncio.Future[None]], due: float, future: asyncio.Future[None]
) -> None:
    if wakes.get(due) is future:
        del wakes[due]
    if not future.done():
        future.set_result(None)


class Pacer:
    """One bot's handle on a :class:`FeedClock`."""

    def __init__(self, clock: FeedClock) -> None:
        self.clock = clock
        self._arrived = False
        self._left = False

    async def until(self, close: int, stop: asyncio.Event | None) -> bool:
        """Wait until the candle closing at ``close`` is due; True if ``stop`` was set first."""
        clock = self.clock
        if not self._arrived:
            self._arrived = True
            clock._arrive(close)
        while clock.origin is None:
            if stop is not None and stop.is_set():
                return True
            await clock._wait(None)
        due = clock._due(close)
        while True:
            if stop is not None and stop.is_set():
                return True
            if asyncio.get_running_loop().time() >= due:
                return False
            await clock._wait(due)

    def leave(self) -> None:
        """The bot is gone (ended before its first candle, or after): never wait for it."""
        if self._left:
            return
        self._left = True
        self.clock._gone += 1
        if not self._arrived:
            self._arrived = True
            self.clock._arrive(None)
