"""Timers that fire on time although Linux lets a long poll overshoot.

Linux lets a poll with a timeout (the event loop's ``epoll_wait``) end late by 0.1 % of the
timeout, up to 100 ms (``select_estimate_accuracy``): a candle due in 5 s woke the bots ~5 ms
late, one due in a minute would wake them up to 60 ms late, whatever ran. Here a long wait is
cut 0.2 % short and the rest waited out in a second, short wait whose overshoot is a few
microseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["call_precisely_at", "early_by", "wait_until"]

MAX_EARLY_S = 0.2


class _Loop(Protocol):
    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> object: ...


def early_by(left: float) -> float:
    """How much sooner than ``left`` seconds from now the first wait of a two-step wait ends
    (none for waits too short to overshoot by a millisecond)."""
    return min(MAX_EARLY_S, left * 0.002) if left > 0.5 else 0.0


def call_precisely_at(
    loop: _Loop, when: float, callback: Callable[..., object], *args: Any
) -> None:
    """``loop.call_at(when, callback, *args)``, in two steps when the wait is long."""
    early = early_by(when - loop.time())
    if early:
        loop.call_at(when - early, loop.call_at, when, callback, *args)
    else:
        loop.call_at(when, callback, *args)


async def wait_until(when: float, stop: asyncio.Event | None = None) -> bool:
    """Sleep until event-loop time ``when``; True as soon as ``stop`` is set."""
    loop = asyncio.get_running_loop()
    while (left := when - loop.time()) > 0:
        step = left - early_by(left)
        if stop is None:
            await asyncio.sleep(step)
            continue
        try:
            await asyncio.wait_for(stop.wait(), step)
        except TimeoutError:
            continue
        return True
    return stop is not None and stop.is_set()
