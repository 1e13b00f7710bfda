"""Which chart candles a backtest must deliver (hyperrsi spec §8.3): all of them are asked for
here, after every event, from the state the strategy is in.

A static ``candle_filter`` mask cannot know the state: a signal bar while a position is open,
in a cooldown or after the ladder is full decides nothing, and those were most of the candles
a backtest processed. So the mask is empty and, while the table is available (backtests), the
strategy plans after each event the first later chart bar where a rule could fire and arms it
as the ``wake`` timer (the timer only makes the engine stop at that bar; the plan made then asks
for that bar's candle). A bar is planned when, in the current state,

* **flat**: a side the settings allow has its entry signal, the bar is warm, the trend does not
  veto that side (§6, §7.4) and the side's cooldown is over (§14.1);
* **open**: a DCA is possible: the ladder is not full, no DCA in flight, cooldown over, warm, no
  trend veto, the signal when ``use_rsi_with_pyramiding``, the close at or beyond the first
  rung when ``use_check_dca_with_price`` (§10); the trend state is the opposite extreme (§13);
  a high or low reaches a price that matters (§12.4: a new extreme beyond an active trailing
  stop's ``X``, its stop, an unplaced start level); a refused TP waits for its retry (§8.5);
* **with a hedge**: the close reaches the hedge's take-profit (§15.3 closes it at market).

An exit or entry in flight needs no candle: its fill comes from the venue. The decision itself
is always taken in ``on_candle`` from the bar's values, as in a run that sees every candle.

The candidate bars of each rule are precomputed once (:class:`WakeIndex`, sorted indices), so
a plan is a few binary searches; the scans that depend on a price (a DCA rung, a trailing
level) are cached per price, since the arrays never change.

The float comparisons here are never stricter than the Decimal ones of the decision (a float
is what the Decimal of its shortest repr rounds back to), so a wake-up can come early but never
late: extra candles are harmless, missing ones are not. ``signal_blocked_by_trend`` (§19, a
notice) is not sent for the vetoed signal bars a backtest skips.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from tbsdk import RunMode, StrategyContext
from tbsdk.reach import first_reach

from .config import HyperRsiConfig
from .feed import BarTable
from .protection import start_level_unplaced
from .runtime import Runtime
from .signals import signal_arrays

__all__ = ["WAKE_TIMER", "WakeIndex", "Wakeups", "first_from"]

WAKE_TIMER = "wake"

IntArray = npt.NDArray[np.int64]
Test = Callable[[npt.NDArray[Any]], npt.NDArray[np.bool_]]
Scan = Callable[[int, int], int | None]
SIDES = ("long", "short")


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


@dataclass(frozen=True, slots=True)
class Candidates:
    """Sorted indices of the chart bars where a rule can fire, with their closes, and the
    same bars as runs of consecutive indices (a sticky trend state is a few long runs) for
    cheap look-ups."""

    at: IntArray
    close: npt.NDArray[np.float64]
    run_start: list[int]
    run_end: list[int]
    """Run ``k`` is the bars ``run_start[k] .. run_end[k] - 1``."""

    @classmethod
    def of(cls, mask: npt.NDArray[np.bool_], close: npt.NDArray[np.float64]) -> Candidates:
        at = np.flatnonzero(mask).astype(np.int64)
        breaks = np.flatnonzero(np.diff(at) != 1)
        starts = at[np.concatenate(([0], breaks + 1))] if len(at) else at
        ends = at[np.concatenate((breaks, [len(at) - 1]))] + 1 if len(at) else at
        return cls(at, np.ascontiguousarray(close[at]), starts.tolist(), ends.tolist())

    def first(self, start: int) -> int | None:
        """The first candidate bar at or after ``start``."""
        k = bisect_right(self.run_end, start)
        return max(self.run_start[k], start) if k < len(self.run_end) else None

    def position(self, start: int) -> int:
        """Position in ``at`` of the first candidate bar at or after ``start``."""
        return int(np.searchsorted(self.at, start, "left"))


@dataclass(frozen=True, slots=True)
class WakeIndex:
    """The bars each rule can fire on, from the table and the settings (never the state)."""

    entry: dict[str, Candidates]
    """Per side: signal, warm, no trend veto, and the side allowed by ``direction``."""
    dca: dict[str, Candidates]
    """Per side: warm, no trend veto, and the signal when ``use_rsi_with_pyramiding``."""
    against: dict[str, Candidates]
    """Per position side: warm bars with the opposite extreme trend state (§13)."""

    @classmethod
    def build(cls, cfg: HyperRsiConfig, table: BarTable) -> WakeIndex:
        long, short = signal_arrays(
            cfg.entry_option, table.rsi, table.flat, cfg.rsi_oversold, cfg.rsi_overbought
        )
        ready, trend, close = table.ready, table.trend, table.close
        no_veto = {"long": ready, "short": ready}
        if cfg.use_trend_logic:
            no_veto = {"long": ready & (trend != -2), "short": ready & (trend != 2)}
        signal = {"long": long, "short": short}
        entry, dca, against = {}, {}, {}
        for side in SIDES:
            allowed = cfg.direction in (side, "both")
            entry_mask = no_veto[side] & signal[side]
            entry[side] = Candidates.of(entry_mask if allowed else np.zeros_like(ready), close)
            dca[side] = (
                Candidates.of(entry_mask, close)
                if cfg.use_rsi_with_pyramiding
                else Candidates.of(no_veto[side], close)
            )
            turned = (trend == (-2 if side == "long" else 2)) & ready
            if not cfg.use_trend_close:
                turned = np.zeros_like(ready)
            against[side] = Candidates.of(turned, close)
        return cls(entry, dca, against)


class Wakeups:
    """Plans candle delivery after each event, in backtests with a candle table only."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.index: WakeIndex | None = None
        self.last_index: int | None = None
        """Table index of the last chart bar ``on_candle`` processed."""
        self._cache: dict[tuple[object, ...], tuple[int, int, int | None]] = {}
        self._every: bool | None = None  # what was last asked of the engine (None: unknown)
        self._timer: int | None = None
        self._now = (-1, 0)  # (now, index of the first bar closing at or after it)
        self._cooled: dict[int, int] = {}  # cooldown end -> first bar closing at or after it
        self._seq = -1  # position whose price scans ``_cache`` holds

    def use_table(self, table: BarTable) -> None:
        """The table was (re)built: index its candidate bars."""
        self.index = WakeIndex.build(self.rt.cfg, table)
        self._cache.clear()
        self._cooled.clear()
        self._now = (-1, 0)

    def seen(self, ts: int) -> None:
        table = self.rt.feed.table
        if table is not None:
            self.last_index = table.index(ts)

    def deliver_all(self, ctx: StrategyContext) -> None:
        """Every candle until the first plan (at start: the table is built after
        ``on_start``; after a restart the engine forgot what the previous instance asked)."""
        cfg = self.rt.cfg
        ctx.deliver_every_candle(cfg.symbol, cfg.timeframe, True)
        self._every = True

    def fired(self) -> None:
        """The wake timer fired: the engine no longer holds it."""
        self._timer = None

    def plan(self, ctx: StrategyContext) -> None:
        table, index = self.rt.feed.table, self.index
        if table is None or index is None or ctx.mode is not RunMode.BACKTEST:
            return
        now = ctx.now()
        if now != self._now[0]:
            self._now = (now, int(np.searchsorted(table.close_ts, now, "left")))
        nb = self._now[1]
        if self.rt.state.seq != self._seq:
            # The levels of a closed position never come back: keep the caches small.
            self._seq = self.rt.state.seq
            self._cache.clear()
            self._cooled.clear()
        if self.last_index is not None:
            nb = max(nb, self.last_index + 1)
        wake = self._next(table, index, nb) if nb < len(table.ts) else None
        every = wake == nb
        if every != self._every:
            cfg = self.rt.cfg
            ctx.deliver_every_candle(cfg.symbol, cfg.timeframe, every)
            self._every = every
        at = int(table.close_ts[wake]) if wake is not None and wake > nb else None
        if at != self._timer:
            if at is None:
                ctx.cancel_timer(WAKE_TIMER)
            else:
                ctx.set_timer(WAKE_TIMER, at)
            self._timer = at

    # -- the rules -----------------------------------------------------------------------------
    def _next(self, table: BarTable, index: WakeIndex, nb: int) -> int | None:
        """The first bar at or after ``nb`` where a rule of the current state can fire. The
        rules found by binary search go first; the price scans then stop at the best bar so
        far (a level far away is never scanned beyond the bar that wakes the strategy anyway).
        """
        st = self.rt.state
        best = len(table.ts)
        if st.phase == "flat" and not st.entries_paused:
            for side in SIDES:
                hit = index.entry[side].first(self._after_cooldown(table, side, nb))
                best = min(best, hit) if hit is not None else best
        elif st.phase == "open" and st.position.side is not None:
            best = self._open(table, index, nb, best)
        hedge = st.hedge
        if hedge.size > 0 and hedge.tp_price is not None and hedge.side is not None and nb < best:
            tp = float(hedge.tp_price)
            if hedge.side == "long":
                hit = self._first(("htpl", tp), table.close, nb, best, lambda c: c >= tp)
            else:
                hit = self._first(("htps", tp), table.close, nb, best, lambda c: c <= tp)
            best = hit if hit is not None else best
        return best if best < len(table.ts) else None

    def _open(self, table: BarTable, index: WakeIndex, nb: int, best: int) -> int:
        rt = self.rt
        st, cfg = rt.state, rt.cfg
        pos = st.position
        side = pos.side
        assert side is not None
        long = side == "long"
        if any(lvl.placed and lvl.status == "pending" for lvl in st.tps):
            return nb  # a refused TP is retried at the next event (§8.5)
        hit = index.against[side].first(nb)
        best = min(best, hit) if hit is not None else best
        if (
            pos.entry_count < cfg.pyramiding_limit
            and not st.entries_paused
            and not st.trailing.active
            and not rt.desk.any_live(("d0",))
        ):
            start = self._after_cooldown(table, side, nb)
            if start < best:
                hit = self._dca(index.dca[side], start, best, long)
                best = hit if hit is not None else best
        ahead, behind = self._price_levels()
        if (ahead is not None or behind is not None) and nb < best:
            hit = self._reach(table, nb, best, long, ahead, behind)
            best = hit if hit is not None else best
        return best

    def _after_cooldown(self, table: BarTable, side: str, nb: int) -> int:
        """The first bar at or after ``nb`` whose close is out of ``side``'s cooldown."""
        until = self.rt.state.cooldown_until.get(side, 0) if self.rt.cfg.use_cooldown else 0
        if until <= int(table.close_ts[nb]):
            return nb
        first = self._cooled.get(until)
        if first is None:
            first = self._cooled[until] = int(np.searchsorted(table.close_ts, until, "left"))
        return max(first, nb)

    def _dca(self, cands: Candidates, start: int, limit: int, long: bool) -> int | None:
        """The first candidate bar in ``[start, limit)`` where a DCA can fire."""
        pos = self.rt.state.position
        if not self.rt.cfg.use_check_dca_with_price:
            hit = cands.first(start)
            return hit if hit is not None and hit < limit else None
        if not pos.ladder:
            return None
        rung = float(pos.ladder[0])
        k0, k1 = cands.position(start), cands.position(limit)
        key = ("dcal" if long else "dcas", rung, id(cands))
        if long:
            k = self._first(key, cands.close, k0, k1, lambda c: c <= rung)
        else:
            k = self._first(key, cands.close, k0, k1, lambda c: c >= rung)
        return int(cands.at[k]) if k is not None else None

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

    def _reach(
        self,
        table: BarTable,
        start: int,
        limit: int,
        long: bool,
        ahead: Decimal | None,
        behind: Decimal | None,
    ) -> int | None:
        """First bar in ``[start, limit)`` whose extreme reaches ``ahead`` (a long's high / a
        short's low) or ``behind`` (the other side)."""
        near, far = (ahead, behind) if long else (behind, ahead)
        up = float(near) if near is not None else math.inf
        down = float(far) if far is not None else -math.inf
        high, low = table.high, table.low

        def scan(s: int, e: int) -> int | None:
            hit = first_reach(high[:e], low[:e], s, up, down)
            return hit if hit < e else None

        return self._search(("reach", up, down), start, limit, scan)

    def _first(
        self, key: tuple[object, ...], values: npt.NDArray[Any], start: int, limit: int, test: Test
    ) -> int | None:
        return self._search(key, start, limit, lambda s, e: first_from(values[:e], s, test))

    def _search(self, key: tuple[object, ...], start: int, limit: int, scan: Scan) -> int | None:
        """``scan(start, limit)``: the first hit in ``[start, limit)``, remembering what was
        scanned per key. The arrays never change, so a range scanned once is known for good:
        a cached ``(s0, e0, hit)`` says ``hit`` is the first hit in ``[s0, e0)`` (``e0`` is
        ``hit + 1`` when there is one) and only the part beyond ``e0`` is ever scanned again.
        """
        cached = self._cache.get(key)
        if cached is not None and cached[0] <= start <= cached[1]:
            s0, e0, hit = cached
            if hit is not None:
                if start <= hit:
                    return hit if hit < limit else None
                s0 = start  # just past the old hit (``start == e0``): nothing known before it
            if limit <= e0:
                return None
            hit = scan(e0, limit)
        else:
            s0, hit = start, scan(start, limit)
        self._cache[key] = (s0, hit + 1 if hit is not None else limit, hit)
        return hit
