"""Which chart candles a backtest must deliver while a position is open (the dynamic half of
``candle_filter``; hyperrsi spec §8.3 step 3).

The static mask holds the bars where an RSI signal or a trend change may make the strategy act.
What depends on the position cannot be known when the mask is built: the touch of an unplaced
trailing start level (§12.4), an opposite trend state while a position is open (§13), a DCA
price rung when DCAs do not need a signal (§10), an active trailing stop, an exit in flight.
While the table is available (backtests), the strategy answers from it after every event:

* an exit in flight → ``deliver_every_candle``;
* everything else → the first later bar where a rule could fire, searched in the table, is
  armed as the ``wake`` timer: a high or low reaching a price (a new extreme beyond an active
  trailing stop's ``X``, its stop, an unplaced start level), an opposite trend state while a
  position is open, a DCA rung when DCAs need no signal. The timer only makes the engine stop
  at that bar; ``on_timer`` then asks for that bar's candle. Searches are cached (the table
  never changes), so planning after every event stays cheap; ``watch_price`` would make the
  engine rescan on every step instead.

The decision itself is always taken in ``on_candle`` from the bar's values, as in a run that
sees every candle.

The float comparisons here are never stricter than the Decimal ones of the decision (a float
is what the Decimal of its shortest repr rounds back to), so a wake-up can come early but never
late: extra candles are harmless, missing ones are not.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from tbsdk import RunMode, StrategyContext
from tbsdk.reach import first_reach

from .feed import BarTable
from .protection import start_level_unplaced
from .runtime import Runtime

__all__ = ["WAKE_TIMER", "Wakeups", "first_from"]

WAKE_TIMER = "wake"

FloatArray = npt.NDArray[np.float64]
Test = Callable[[npt.NDArray[Any]], npt.NDArray[np.bool_]]


def first_from(values: npt.NDArray[Any], start: int, test: Test) -> int | None:
    """The first index ``>= start`` where ``test`` holds, scanning in growing chunks (most
    answers are near)."""
    n, step, i = len(values), 256, start
    while i < n:
        j = min(n, i + step)
        hits = np.flatnonzero(test(values[i:j]))
        if len(hits):
            return i + int(hits[0])
        i, step = j, step * 4
    return None


class Wakeups:
    """Plans candle delivery after each event, in backtests with a candle table only."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.last_index: int | None = None
        """Table index of the last chart bar ``on_candle`` processed."""
        self._cache: dict[tuple[object, ...], tuple[int, int | None]] = {}
        self._armed = True  # until the first plan, a request may be standing (restarts)

    def seen(self, ts: int) -> None:
        table = self.rt.feed.table
        if table is not None:
            self.last_index = table.index(ts)

    def plan(self, ctx: StrategyContext) -> None:
        rt = self.rt
        table = rt.feed.table
        if table is None or ctx.mode is not RunMode.BACKTEST:
            return
        if rt.state.phase in ("flat", "entering"):
            # Nothing depends on a position: the mask and the venue's own activity suffice.
            if self._armed:
                cfg = rt.cfg
                ctx.deliver_every_candle(cfg.symbol, cfg.timeframe, False)
                ctx.cancel_timer(WAKE_TIMER)
                self._armed = False
            return
        self._armed = True
        nb = int(np.searchsorted(table.close_ts, ctx.now(), "left"))
        if self.last_index is not None:
            nb = max(nb, self.last_index + 1)
        cfg = rt.cfg
        every, wake = self._needs(table, nb)
        ctx.deliver_every_candle(cfg.symbol, cfg.timeframe, every or wake == nb)
        if wake is not None and wake > nb:
            ctx.set_timer(WAKE_TIMER, int(table.close_ts[wake]))
        else:
            ctx.cancel_timer(WAKE_TIMER)

    def _price_levels(self) -> tuple[Decimal | None, Decimal | None]:
        """``(ahead, behind)``: prices whose reach changes something at a bar close (§12.4).
        An active trailing stop moves only on a new extreme beyond ``X`` and exits only at its
        stop; an unplaced start level activates on touch."""
        st = self.rt.state
        tr = st.trailing
        if tr.active:
            return tr.extreme, st.stop.price
        level = start_level_unplaced(self.rt)
        return (level.price if level is not None else None), None

    def _needs(self, table: BarTable, nb: int) -> tuple[bool, int | None]:
        rt = self.rt
        st, cfg = rt.state, rt.cfg
        if st.phase == "closing":
            return True, None
        if st.phase != "open" or st.position.side is None or nb >= len(table.ts):
            return False, None
        long = st.position.m > 0
        found: list[int | None] = []
        ahead, behind = self._price_levels()
        if ahead is not None or behind is not None:
            found.append(self._reach(table, nb, long, ahead, behind))
        if cfg.use_trend_close:
            against = -2 if long else 2
            found.append(self._first("trend", against, table.trend, nb, lambda t: t == against))
        pos = st.position
        dca_open = (
            pos.entry_count < cfg.pyramiding_limit
            and not st.entries_paused
            and not st.trailing.active
        )
        if dca_open and not cfg.use_rsi_with_pyramiding:
            if not cfg.use_check_dca_with_price:
                found.append(nb)
            elif pos.ladder:
                rung = float(pos.ladder[0])
                if long:
                    found.append(self._first("dcal", rung, table.close, nb, lambda c: c <= rung))
                else:
                    found.append(self._first("dcas", rung, table.close, nb, lambda c: c >= rung))
        hits = [i for i in found if i is not None]
        return False, min(hits) if hits else None

    def _reach(
        self,
        table: BarTable,
        start: int,
        long: bool,
        ahead: Decimal | None,
        behind: Decimal | None,
    ) -> int | None:
        """First bar whose extreme reaches ``ahead`` (a long's high / a short's low) or
        ``behind`` (the other side)."""
        near, far = (ahead, behind) if long else (behind, ahead)
        up = float(near) if near is not None else math.inf
        down = float(far) if far is not None else -math.inf
        return self._cached(
            ("reach", up, down),
            start,
            lambda s: _none_at_end(first_reach(table.high, table.low, s, up, down), table),
        )

    def _first(
        self, kind: str, key: float, values: npt.NDArray[Any], start: int, test: Test
    ) -> int | None:
        return self._cached((kind, key), start, lambda s: first_from(values, s, test))

    def _cached(
        self, key: tuple[object, ...], start: int, search: Callable[[int], int | None]
    ) -> int | None:
        # The arrays never change, so an answer found from ``s0`` holds for any later start
        # up to it.
        cached = self._cache.get(key)
        if cached is not None:
            s0, hit = cached
            if s0 <= start and (hit is None or start <= hit):
                return hit
        hit = search(start)
        self._cache[key] = (start, hit)
        return hit


def _none_at_end(index: int, table: BarTable) -> int | None:
    return index if index < len(table.ts) else None
