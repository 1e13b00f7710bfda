"""Two-step timers: a long wait is cut 0.2 % short (at most 0.2 s) and finished by a short one,
so the kernel's overshoot of a long poll (0.1 % of its timeout) does not delay the wake."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tbhost.engine.precise_timers import call_precisely_at, early_by, wait_until


class StubLoop:
    """Records ``call_at`` and runs the timers when told to."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.timers: list[tuple[float, Callable[..., object], tuple[Any, ...]]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> None:
        self.timers.append((when, callback, args))

    def run_next(self) -> None:
        when, callback, args = self.timers.pop(0)
        self.now = when
        callback(*args)


def test_a_long_wait_is_cut_short_then_finished_at_the_exact_time() -> None:
    loop, fired = StubLoop(100.0), []
    call_precisely_at(loop, 105.0, fired.append, "candle")
    assert [w for w, _, _ in loop.timers] == [pytest.approx(104.99)]  # 5 s * 0.2 % early
    loop.run_next()
    assert fired == []
    assert [w for w, _, _ in loop.timers] == [105.0]  # then exactly at the due time
    loop.run_next()
    assert fired == ["candle"]


def test_short_waits_are_one_step_and_the_early_part_is_capped() -> None:
    loop, fired = StubLoop(0.0), []
    call_precisely_at(loop, 0.3, fired.append, 1)
    assert [w for w, _, _ in loop.timers] == [0.3]
    assert early_by(0.5) == 0.0
    assert early_by(60.0) == pytest.approx(0.12)
    assert early_by(3600.0) == 0.2


async def test_wait_until_never_wakes_early_and_stops_at_once() -> None:
    loop = asyncio.get_running_loop()
    when = loop.time() + 0.6
    assert await wait_until(when) is False
    assert loop.time() >= when
    stop = asyncio.Event()
    loop.call_later(0.05, stop.set)
    begun = loop.time()
    assert await wait_until(begun + 30, stop) is True
    assert loop.time() - begun < 5
    assert await wait_until(loop.time() - 1, stop) is True  # already due, stop set
    assert await wait_until(loop.time() - 1) is False
