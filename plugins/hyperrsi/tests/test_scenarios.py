"""Scenarios on real candles through the engine and the paper exchange, each compared order by
order (id, side, type, size, prices, reduce-only, status, fill price) with an independent
reading of the spec.

The reading is :class:`Oracle`: a small second implementation of the bar-close rules written
from the spec text (§6 signals, §9 sizing, §10 DCA, §11 TPs, §12 stops / break-even /
trailing, §13 trend exit, §14 cooldowns) and of the paper exchange's fill rules (market orders
at the next open; limits on touch at their price; stops at their trigger, or the open when the
bar gaps past it; a stop before a take-profit in the same bar). It shares no code with the
plugin: only the RSI and trend series come from their libraries. It refuses windows with
situations it does not model (a stop refused because the price is already through it, partial
fills), so a scenario cannot silently test less than it says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import numpy as np
import pytest

from tb_strategy_hyperrsi.trend import TrendSettings, trend_series, trend_timeframes
from tbsdk.indicators import resample, rsi_with_flat
from tbsdk.model import CandleArrays, OrderStatus
from tbsdk.timeframes import timeframe_ms

D = Decimal
TICK, LOT, CT = D("0.1"), D("0.01"), D("0.01")
HOURLY = "BINANCE_BTC-USDT_1h_2019-2020.csv.gz"
FIVE = "BINANCE_BTC-USDT_5m_2024-04.csv.gz"


def _floor(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(ROUND_FLOOR) * step


def _ceil(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(ROUND_CEILING) * step


def _dec(x: float) -> Decimal:
    return D(repr(float(x)))


def signals(close: np.ndarray, option: str, lo: float = 30.0, hi: float = 70.0) -> Any:
    """§6 long / short signal per bar, from RSI(14) and its flat flags, written out."""
    r, flat = rsi_with_flat(close, 14)
    n = len(close)
    long, short = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for i in range(1, n):
        p, c = float(r[i - 1]), float(r[i])
        if flat[i - 1] or flat[i] or math.isnan(p) or math.isnan(c):
            continue
        if option == "breakout":
            long[i], short[i] = p > lo and c <= lo, p < hi and c >= hi
        elif option == "inflection":
            long[i] = (p < lo or c < lo) and c > p
            short[i] = (p > hi or c > hi) and c < p
        elif option == "inflection_breakout":
            long[i], short[i] = p < lo and c >= lo, p > hi and c <= hi
        else:  # exceed
            long[i], short[i] = c < lo, c > hi
    return long, short


def trend_of(candles: CandleArrays, timeframe: str) -> tuple[np.ndarray, np.ndarray]:
    """The trend state per chart bar from the trend module, on resampled candles."""
    settings = TrendSettings(chart_timeframe=timeframe)
    c = candles
    htf = {}
    for tf in trend_timeframes(settings).all():
        r = resample(c.ts, c.open, c.high, c.low, c.close, c.volume, timeframe, tf)
        htf[tf] = CandleArrays(r.open_time, r.open, r.high, r.low, r.close, r.volume)
    series = trend_series(settings, c.ts, htf)
    return np.asarray(series.state), np.asarray(series.ready)


@dataclass
class Order:
    """An expected order: the compared fields, then its outcome."""

    cid: str
    side: str
    kind: str
    qty: Decimal
    price: Decimal | None = None
    trigger: Decimal | None = None
    reduce: bool = True
    status: OrderStatus = OrderStatus.OPEN
    fill: Decimal | None = None
    queued: bool = False

    def row(self) -> tuple[Any, ...]:
        return (self.cid, self.side, self.kind, self.qty, self.price, self.trigger, self.reduce,
                self.status, self.fill)  # fmt: skip


@dataclass
class Oracle:
    """The spec's bar-close rules for one symbol, one position at a time (no hedge)."""

    c: CandleArrays
    timeframe: str
    bot6: str
    option: str = "breakout"
    use_sl: bool = False
    sl_pct: Decimal = Decimal(5)
    dca_pct: Decimal = Decimal(3)
    limit: int = 4
    trend: np.ndarray | None = None
    trend_ready: np.ndarray | None = None
    trend_close: bool = False
    cooldown_s: int = 300
    orders: list[Order] = field(default_factory=list)
    log: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.c)
        self.period = timeframe_ms(self.timeframe)
        self.close_ts = self.c.ts + self.period
        self.long_sig, self.short_sig = signals(self.c.close, self.option)
        self.ready = np.arange(n) >= 139  # RSI / ATR warm: 10 x 14 bars (IND §8)
        if self.trend is None:
            self.trend = np.zeros(n, dtype=np.int64)
        if self.trend_ready is not None:
            self.ready &= self.trend_ready
        self.seq = 0
        self.cooldown = {1: 0, -1: 0}
        self._flat()

    # -- bookkeeping ---------------------------------------------------------------------------
    def _flat(self) -> None:
        self.m = 0
        self.size = D(0)
        self.cost = D(0)
        self.count = 0
        self.tps: dict[int, Order] = {}
        self.tp_price: dict[int, Decimal] = {}
        self.stop: Order | None = None
        self.sl: Decimal | None = None
        self.be: Decimal | None = None
        self.trail: Decimal | None = None
        self.x: Decimal | None = None
        self.offset: Decimal | None = None
        self.l1: Decimal | None = None
        self.pending: Order | None = None
        self.revs: dict[str, int] = {}

    def _cid(self, tag: str) -> str:
        rev = self.revs.get(tag, 0)
        self.revs[tag] = rev + 1
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"
        seq, s = self.seq, ""
        while seq:
            seq, r = divmod(seq, 36)
            s = digits[r] + s
        return f"h{self.bot6}{s.rjust(5, '0')}{tag}{digits[rev // 36]}{digits[rev % 36]}"

    def _send(self, tag: str, side: str, kind: str, qty: Decimal, **kw: Any) -> Order:
        order = Order(self._cid(tag), side, kind, qty, **kw)
        self.orders.append(order)
        return order

    @property
    def avg(self) -> Decimal:
        return self.cost / self.size

    def _best(self, *prices: Decimal | None) -> Decimal | None:
        ok = [p for p in prices if p is not None]
        if not ok:
            return None
        return max(ok) if self.m > 0 else min(ok)

    def _round(self, x: Decimal, toward_up: bool) -> Decimal:
        return _ceil(x, TICK) if toward_up else _floor(x, TICK)

    # -- the rules -----------------------------------------------------------------------------
    def run(self) -> list[Order]:
        c = self.c
        for i in range(len(c)):
            exited = self._venue(i)
            self._close(i, exited)
        return self.orders

    def _venue(self, i: int) -> bool:
        """What the paper venue does inside bar ``i``; True if the position closed."""
        c = self.c
        o, h, lo = _dec(c.open[i]), _dec(c.high[i]), _dec(c.low[i])
        ts = int(self.close_ts[i])
        if self.pending is not None:
            # The venue matches the whole bar with the orders resting at its start; what the
            # strategy places in answer to this fill works from the next bar on.
            resting = [t for t in (self.stop, *self.tps.values())
                       if t is not None and t.status is OrderStatus.OPEN]  # fmt: skip
            for t in resting:
                level = t.trigger if t.trigger is not None else t.price
                assert level is not None
                up = (t.side == "sell") == (t.kind == "limit")
                if (h >= level) if up else (lo <= level):
                    raise AssertionError(f"window not modelled: {t.cid} executes in bar {i}")
            order, self.pending = self.pending, None
            order.status, order.fill = OrderStatus.FILLED, o
            if order.cid[12:15] in ("ent", "d01", "d02", "d03", "d04"):
                self._added(o, order.qty, i, ts, order.cid[12:15])
                return False
            return self._closed(i, ts, "market")
        if self.m == 0:
            return False
        queued = [k for k, t in sorted(self.tps.items()) if t.status is OrderStatus.OPEN
                  and t.queued]  # fmt: skip
        for k in queued:
            # A limit already through the price when placed takes at the next open, never
            # beyond its limit (the paper venue's rule).
            tp = self.tps[k]
            assert tp.price is not None
            tp.status, tp.fill = (
                OrderStatus.FILLED,
                max(o, tp.price) if self.m > 0 else min(o, tp.price),
            )
            self.size -= tp.qty
            self.cost = self.avg_at_entry * self.size
            self.log.append((f"tp{k}_at_open", i))
            self._reached(k)
        if queued:
            if self.size == 0:
                return self._closed(i, ts, "tp")
            self._restop(i)
        stop = self.stop
        hit_stop = stop is not None and (lo <= stop.trigger if self.m > 0 else h >= stop.trigger)
        if hit_stop:
            assert stop is not None
            assert stop.trigger is not None
            gapped = o <= stop.trigger if self.m > 0 else o >= stop.trigger
            stop.status, stop.fill = OrderStatus.FILLED, o if gapped else stop.trigger
            self.log.append(("stop_fill", i))
            if stop.trigger == self.sl:
                self.log.append(("stop_loss", i))
            return self._closed(i, ts, "stop")
        filled = [k for k, t in sorted(self.tps.items())
                  if t.status is OrderStatus.OPEN
                  and (h >= t.price if self.m > 0 else lo <= t.price)]  # fmt: skip
        for k in filled:
            tp = self.tps[k]
            tp.status, tp.fill = OrderStatus.FILLED, tp.price
            self.size -= tp.qty
            self.cost = self.avg_at_entry * self.size
            self.log.append((f"tp{k}", i))
            self._reached(k)
        if filled:
            if self.size == 0:
                return self._closed(i, ts, "tp")
            self._restop(i)
        return False

    def _added(self, price: Decimal, qty: Decimal, i: int, ts: int, tag: str) -> None:
        self.size += qty
        self.cost += price * qty
        self.avg_at_entry = self.avg
        self.count += 1
        self.cooldown[self.m] = ts + self.cooldown_s * 1000
        self.log.append((tag, i))
        avg = self.avg
        self.l1 = avg * (1 - self.m * self.dca_pct / 100) if self.count < self.limit else None
        rungs = [avg]
        for _ in range(self.limit - self.count):
            rungs.append(rungs[-1] * (1 - self.m * self.dca_pct / 100))
        self.tp_price = {
            k: self._round(max(avg * (1 + self.m * v / 100), avg * (1 + self.m * D("0.0001")),
                               price * (1 + self.m * D("0.0001")))
                           if self.m > 0 else
                           min(avg * (1 + self.m * v / 100), avg * (1 + self.m * D("0.0001")),
                               price * (1 + self.m * D("0.0001"))), self.m > 0)
            for k, v in ((1, D(2)), (2, D(3)), (3, D(4)))
        }  # fmt: skip
        close_side = "sell" if self.m > 0 else "buy"
        for k in (1, 2):  # default trailing from TP3: TP3 is never placed (§11)
            old = self.tps.get(k)
            if old is not None and old.status is OrderStatus.OPEN:
                old.status = OrderStatus.CANCELED
            qty = _floor(self.size * D("0.3"), LOT)
            self.tps[k] = self._send(f"tp{k}", close_side, "limit", qty, price=self.tp_price[k])
            bar_close = _dec(self.c.close[i])
            self.tps[k].queued = (
                bar_close >= self.tp_price[k] if self.m > 0 else bar_close <= self.tp_price[k]
            )
        self.be, self.trail, self.x, self.offset = None, None, None, None
        self.be_levels: set[int] = set()
        if self.use_sl:
            self.sl = self._round(avg * (1 - self.m * self.sl_pct / 100), self.m < 0)
        self._restop(i, new_phase=True)

    def _reached(self, k: int) -> None:
        if k in self.be_levels:
            return
        self.be_levels.add(k)
        target = {1: self.avg_at_entry, 2: self.tp_price[1], 3: self.tp_price[2]}[k]
        self.be = self._best(self.be, self._round(target, self.m > 0))

    def _restop(self, i: int, new_phase: bool = False) -> None:
        price = self._best(self.sl, self.be, self.trail)
        live = self.stop is not None and self.stop.status is OrderStatus.OPEN
        if price is not None and live and not new_phase:
            assert self.stop is not None
            price = self._best(price, self.stop.trigger)
        if price is None:
            if live:
                assert self.stop is not None
                self.stop.status = OrderStatus.CANCELED
                self.stop = None
            return
        if live and self.stop is not None and self.stop.trigger == price:
            return
        close = _dec(self.c.close[i])
        if close <= price if self.m > 0 else close >= price:
            raise AssertionError(f"window not modelled: stop {price} refused at bar {i}")
        new = self._send("stp", "sell" if self.m > 0 else "buy", "stop_market", D(0),
                         trigger=price)  # fmt: skip
        if live and self.stop is not None:
            self.stop.status = OrderStatus.CANCELED
        self.stop = new

    def _closed(self, i: int, ts: int, why: str) -> bool:
        for order in (*self.tps.values(), self.stop):
            if order is not None and order.status is OrderStatus.OPEN:
                order.status = OrderStatus.CANCELED
        self.cooldown[self.m] = ts + self.cooldown_s * 1000
        self.log.append((f"closed_{why}", i))
        self._flat()
        return True

    def _close(self, i: int, exited: bool) -> None:
        """§8.3 at the close of bar ``i``."""
        c = self.c
        h, lo, close = _dec(c.high[i]), _dec(c.low[i]), _dec(c.close[i])
        now = int(self.close_ts[i])
        closing = "sell" if self.m > 0 else "buy"
        if self.m != 0 and self.pending is None:
            reach = h >= self.tp_price[3] if self.m > 0 else lo <= self.tp_price[3]
            if self.x is None and reach:
                self._reached(3)
                self.x = h if self.m > 0 else lo
                self.offset = max(self.tp_price[3] * D("0.005"), self.tp_price[3] * D("0.001"))
                self.log.append(("trailing", i))
            if self.x is not None:
                assert self.offset is not None
                self.x = max(self.x, h) if self.m > 0 else min(self.x, lo)
                ts_price = self._round(self.x - self.m * self.offset, self.m < 0)
                self.trail = self._best(self.trail, ts_price)
                target = self._best(self.sl, self.be, self.trail,
                                    self.stop.trigger if self.stop else None)  # fmt: skip
                assert target is not None
                if close <= target if self.m > 0 else close >= target:
                    self._exit(i, "xtr", closing)
                    return
                self._restop(i)
            if self.trend_close and self.ready[i] and self.trend[i] == -2 * self.m:
                self._exit(i, "xtc", closing)
                return
            self._dca(i, close, now)
        if self.m == 0 and not exited and self.pending is None:
            self._enter(i, close, now)

    def _exit(self, i: int, tag: str, side: str) -> None:
        for k in (1, 2):
            if self.tps[k].status is OrderStatus.OPEN:
                self.tps[k].status = OrderStatus.CANCELED
        self.pending = self._send(tag, side, "market", self.size)
        self.log.append((tag, i))

    def _dca(self, i: int, close: Decimal, now: int) -> None:
        sig = self.long_sig[i] if self.m > 0 else self.short_sig[i]
        if self.x is not None or self.count >= self.limit or self.l1 is None or not self.ready[i]:
            return
        if close <= self.l1 if self.m > 0 else close >= self.l1:
            if sig and now < self.cooldown[self.m]:
                self.log.append(("dca_in_cooldown", i))
                return
            if sig and self.trend[i] != -2 * self.m:
                qty = _floor(D(200) / (close * CT), LOT)
                side = "buy" if self.m > 0 else "sell"
                self.pending = self._send(f"d0{self.count}", side, "market", qty, reduce=False)

    def _enter(self, i: int, close: Decimal, now: int) -> None:
        if not self.ready[i]:
            return
        for m, sig in ((1, self.long_sig[i]), (-1, self.short_sig[i])):
            if not sig:
                continue
            if now < self.cooldown[m]:
                self.log.append(("entry_in_cooldown", i))
                continue
            if self.trend[i] == -2 * m:
                continue
            self.seq += 1
            self.revs = {}
            self.m = m
            qty = _floor(D(200) / (close * CT), LOT)
            side = "buy" if m > 0 else "sell"
            self.pending = self._send("ent", side, "market", qty, reduce=False)
            return


def _engine_rows(hr: Any, result: Any) -> list[tuple[Any, ...]]:
    rows = []
    for o in result.orders:
        i = o.intent
        rows.append((i.client_order_id, str(i.side), str(i.type), i.qty, i.price,
                     i.trigger_price, i.reduce_only, o.status, o.avg_fill_price))  # fmt: skip
    return rows


def _compare(hr: Any, result: Any, oracle: Oracle) -> None:
    expected = [o.row() for o in oracle.orders]
    got = _engine_rows(hr, result)
    assert got == expected


def _events(oracle: Oracle) -> set[str]:
    return {name for name, _ in oracle.log}


# -- the scenarios -------------------------------------------------------------------------
def test_long_with_three_dcas_tp1_tp2_break_even_and_trailing_exit(hr: Any) -> None:
    """Hourly 2019-12: a long that averages down three times (the ladder is then full), takes
    TP1 and TP2 (stop to the average, then to TP1), touches the unplaced TP3 (trailing starts
    at that high) and leaves by the trailing stop. Then a short that takes TP1 and leaves at
    break-even."""
    c = hr.candles(HOURLY).slice(0, 700)
    settings = {"use_trend_logic": False, "use_trend_close": False}
    result = hr.run(c, "1h", settings)
    oracle = Oracle(c, "1h", hr.bot6)
    oracle.run()
    events = [name for name, _ in oracle.log]
    assert events[:9] == ["ent", "d01", "d02", "d03", "tp1", "tp2", "trailing", "stop_fill",
                          "closed_stop"]  # fmt: skip
    assert events[9:13] == ["ent", "tp1", "stop_fill", "closed_stop"]
    _compare(hr, result, oracle)
    assert [t.exit_reason for t in result.trades][:2] == ["stop", "stop"]


def test_stop_loss_and_dca_on_five_minute_candles(hr: Any) -> None:
    """5m 2024-04 with a 0.5 % DCA distance and a 2 % stop-loss, placed at the entry fill and
    re-priced from the new average at every DCA; one position leaves at its stop-loss."""
    c = hr.candles(FIVE)
    settings = {"use_trend_logic": False, "use_trend_close": False, "use_sl": True,
                "sl_value": "2", "pyramiding_value": "0.5"}  # fmt: skip
    result = hr.run(c, "5m", settings)
    oracle = Oracle(c, "5m", hr.bot6, use_sl=True, sl_pct=D(2), dca_pct=D("0.5"))
    oracle.run()
    assert {"d01", "stop_loss", "tp1"} <= _events(oracle)
    _compare(hr, result, oracle)


@pytest.mark.parametrize("option", ["breakout", "inflection", "inflection_breakout", "exceed"])
def test_entry_options(hr: Any, option: str) -> None:
    """Every §6 variant decides the entries (and DCAs) on real 5m candles."""
    c = hr.candles(FIVE)
    settings = {"use_trend_logic": False, "use_trend_close": False, "entry_option": option}
    result = hr.run(c, "5m", settings)
    oracle = Oracle(c, "5m", hr.bot6, option=option)
    oracle.run()
    assert "ent" in _events(oracle)
    _compare(hr, result, oracle)


def test_trend_veto_and_trend_exit(hr: Any) -> None:
    """Defaults on hourly candles: entries against an extreme trend are vetoed (§7.6) and an
    open position is closed at market when the trend reaches the opposite extreme (§13)."""
    c = hr.candles(HOURLY).slice(0, 700)
    trend, ready = trend_of(c, "1h")
    result = hr.run(c, "1h", {})
    oracle = Oracle(c, "1h", hr.bot6, trend=trend, trend_ready=ready, trend_close=True)
    oracle.run()
    assert "xtc" in _events(oracle)
    _compare(hr, result, oracle)
    assert "exit_trend" in {t.exit_reason for t in result.trades}
    # The veto did something here: a signal the trend blocked exists in the window.
    blocked = (oracle.long_sig & (trend == -2)) | (oracle.short_sig & (trend == 2))
    assert bool(np.any(blocked & oracle.ready))


def test_cooldown_blocks_entries_and_dcas(hr: Any) -> None:
    """§14.1 with a 3000 s cooldown on 5m candles: signals within 50 minutes of an entry, DCA
    or exit of that side are skipped; the cooldowns are timestamps, checked at bar closes."""
    c = hr.candles(FIVE)
    settings = {"use_trend_logic": False, "use_trend_close": False, "cooldown_time": 3000,
                "pyramiding_value": "0.3", "entry_option": "inflection"}  # fmt: skip
    result = hr.run(c, "5m", settings)
    oracle = Oracle(c, "5m", hr.bot6, option="inflection", dca_pct=D("0.3"), cooldown_s=3000)
    oracle.run()
    assert {"entry_in_cooldown", "dca_in_cooldown"} <= _events(oracle)
    _compare(hr, result, oracle)
    # Restarts inside cooldowns keep them (they are part of the state).
    points = sorted({i + 1 for name, i in oracle.log if name in ("d01", "closed_stop")})[:20]
    restarted = hr.run(c, "5m", settings, restart_at=points)
    assert _engine_rows(hr, restarted) == _engine_rows(hr, result)
