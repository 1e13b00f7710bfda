"""Hyperrsi spec §20 (worked example), reproduced to the cent through the real engine and the
paper exchange: the same orders (ids, types, prices, sizes, reduce-only), fills, PnL and fees.

The candles are hand-made (``hr.worked_example()`` in ``conftest.py``): their closes make
Wilder RSI(14) cross down through
30 exactly at the entry bar (close 60 000.0) and at the DCA bar (close 58 150.0), which the test
re-checks with ``tbsdk.indicators.rsi``; every other price is the spec's. Settings: defaults
except ``use_sl`` and ``trailing_start_point = tp2``; the trend state is switched off
(``use_trend_logic`` / ``use_trend_close`` false), which is what the example's "trend state 0"
amounts to: it vetoes nothing and never exits. Paper rules: market orders fill at the next open,
limits on touch (the example's TPs fill at their prices on bars that reach them exactly), stops
at their trigger.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from tbsdk.indicators import rsi
from tbsdk.model import CandleArrays, OrderStatus

SETTINGS: dict[str, Any] = {
    "use_sl": True,
    "trailing_start_point": "tp2",
    "use_trend_logic": False,
    "use_trend_close": False,
}
D = Decimal


def test_the_candles_make_the_example_rsi_signals(hr: Any) -> None:
    bars, marks = hr.worked_example()
    r = rsi(bars.close, 14)
    breakout = np.zeros(len(r), dtype=bool)
    breakout[1:] = (r[:-1] > 30) & (r[1:] <= 30)
    ready = np.arange(len(r)) >= 139  # RSI and ATR warm after 10 x 14 bars (IND §8)
    assert list(np.flatnonzero(breakout & ready)) == [marks["entry"], marks["dca"]]
    assert bars.close[marks["entry"]] == 60_000.0
    assert bars.close[marks["dca"]] == 58_150.0
    assert not np.any(
        (r[1:] >= 70) & (r[:-1] < 70) & ready[1:] & (np.arange(1, len(r)) < marks["entry"])
    )


def _expected_orders(hr: Any) -> list[tuple[Any, ...]]:
    """Every order of §20 in submission order, spelled out from the spec's text."""

    def order(tag: str, rev: int, side: str, kind: str, qty: str, price: str | None = None,
              trigger: str | None = None, reduce: bool = True) -> tuple[Any, ...]:  # fmt: skip
        return (
            hr.cid(1, tag, rev), side, kind, D(qty), None if price is None else D(price),
            None if trigger is None else D(trigger), reduce, kind == "stop_market", "net",
        )  # fmt: skip

    return [
        order("ent", 0, "buy", "market", "0.33", reduce=False),  # step 1
        order("tp1", 0, "sell", "limit", "0.09", price="61210.2"),
        order("tp2", 0, "sell", "limit", "0.09", price="61810.3"),  # TP3 62 410.4 not placed
        order("stp", 0, "sell", "stop_market", "0", trigger="57009.5"),
        order("d01", 0, "buy", "market", "0.34", reduce=False),  # step 2
        order("tp1", 1, "sell", "limit", "0.20", price="60250.1"),
        order("tp2", 1, "sell", "limit", "0.20", price="60840.8"),
        order("stp", 1, "sell", "stop_market", "0", trigger="56115.2"),
        order("stp", 2, "sell", "stop_market", "0", trigger="59068.7"),  # step 3: break-even
        order("stp", 3, "sell", "stop_market", "0", trigger="60536.5"),  # step 4: trailing
        order("stp", 4, "sell", "stop_market", "0", trigger="60995.7"),  # step 5
        order("stp", 5, "sell", "stop_market", "0", trigger="61115.7"),
    ]


def test_worked_example_orders_fills_and_pnl(hr: Any) -> None:
    bars, marks = hr.worked_example()
    result = hr.run(bars, "5m", SETTINGS)
    assert [hr.shape(o) for o in result.orders] == _expected_orders(hr)
    status = [(o.status, o.avg_fill_price) for o in result.orders]
    filled, canceled = OrderStatus.FILLED, OrderStatus.CANCELED
    assert status == [
        (filled, D("60010.0")), (canceled, None), (canceled, None), (canceled, None),
        (filled, D("58155.0")), (filled, D("60250.1")), (filled, D("60840.8")),
        (canceled, None), (canceled, None), (canceled, None), (canceled, None),
        (filled, D("61115.7")),
    ]  # fmt: skip
    # Each order went out at the close of the bar the spec names.
    close = bars.ts + 300_000
    sent = [o.created_at for o in result.orders]
    assert sent[0] == close[marks["entry"]]
    assert sent[1:4] == [close[marks["entry"] + 1]] * 3  # after the entry filled at that open
    assert sent[4] == close[marks["dca"]]
    assert sent[5:8] == [close[marks["dca"] + 1]] * 3
    assert sent[8:] == [close[marks[k]] for k in ("tp1", "tp2", "trail1", "trail2")]

    (trade,) = result.trades
    fees = trade.fees
    gross = trade.pnl + fees
    assert gross.quantize(D("0.0001")) == D("11.4342")
    assert fees.quantize(D("0.0001")) == D("0.3288")
    assert trade.pnl.quantize(D("0.0001")) == D("11.1054")
    # The parts, as the spec lists them (exact avg = (60010 x 0.33 + 58155 x 0.34) / 0.67).
    avg = (D("60010.0") * D("0.33") + D("58155.0") * D("0.34")) / D("0.67")
    assert str(avg)[:10] == "59068.6567"
    parts = [(D("60250.1") - avg) * D("0.20"), (D("60840.8") - avg) * D("0.20"),
             (D("61115.7") - avg) * D("0.27")]  # fmt: skip
    assert [(p * D("0.01")).quantize(D("0.0001")) for p in parts] == [
        D("2.3629"), D("3.5443"), D("5.5270"),
    ]  # fmt: skip
    assert gross == sum(p * D("0.01") for p in parts)
    fee_parts = [f.fill.fee for f in result.fills]
    assert [f.quantize(D("0.0001")) for f in fee_parts] == [
        D("0.0990"), D("0.0989"), D("0.0241"), D("0.0243"), D("0.0825"),
    ]  # fmt: skip
    assert trade.exit_reason == "stop"
    assert trade.qty == D("0.67")
    # The strategy's own books agree with the venue's, and it is flat with a long cooldown.
    state = result.strategy_state
    assert state["phase"] == "flat"
    assert state["cooldown_until"]["long"] == int(close[marks["exit"]]) + 300_000
    assert state["trades_closed"] == 1


def test_worked_example_notifications(hr: Any, caplog: pytest.LogCaptureFixture) -> None:
    """§19 events of the example, in order (the engine logs every ``ctx.notify``)."""
    bars, _ = hr.worked_example()
    with caplog.at_level(logging.INFO, logger="tbhost.bot.backtest"):
        hr.run(bars, "5m", SETTINGS)
    kinds = [
        r.getMessage().split(":")[0]
        for r in caplog.records
        if r.name == "tbhost.bot.backtest" and r.levelno == logging.INFO
    ]
    kinds = [k for k in kinds if k in _NOTIFY_KINDS]
    assert kinds == [
        "settings_applied", "entry", "dca", "tp_filled", "break_even_moved", "tp_filled",
        "break_even_moved", "trailing_activated", "position_closed",
    ]  # fmt: skip
    closed = next(r.getMessage() for r in caplog.records if "position_closed" in r.getMessage())
    assert "(trailing_stop)" in closed


_NOTIFY_KINDS = {
    "settings_applied", "entry", "dca", "tp_filled", "break_even_moved", "trailing_activated",
    "position_closed", "signal_blocked_by_trend", "entries_paused", "protective_stop_failed",
    "position_unprotected", "reconciled_adjustment", "external_close", "hedge_opened",
    "hedge_closed",
}  # fmt: skip


def test_default_start_level_tp3_trails_on_touch(hr: Any) -> None:
    """The last paragraph of §20: with the default ``trailing_start_point = tp3`` the same
    trade places TP1 and TP2 (0.20 each), no TP3 order; a bar whose high reaches TP3
    (61 431.5) activates trailing with X = that high and offset 61 431.5 x 0.5 % = 307.1575."""
    bars, marks = hr.worked_example()
    # Raise the second trailing bar's high through TP3.
    high = bars.high.copy()
    high[marks["trail2"]] = 61_500.0
    bars = CandleArrays(bars.ts, bars.open, high, bars.low, bars.close, bars.volume)
    settings = {**SETTINGS, "trailing_start_point": "tp3"}
    result = hr.run(bars, "5m", settings)
    shapes = [hr.shape(o) for o in result.orders]
    tags = [s[0][12:17] for s in shapes]
    assert "tp300" not in tags
    assert "tp301" not in tags
    placed = [s for s in shapes if s[0][12:15] in ("tp1", "tp2") and s[0].endswith("01")]
    assert [(s[3], s[4]) for s in placed] == [(D("0.20"), D("60250.1")), (D("0.20"), D("60840.8"))]
    # TP3 of the rebuilt ladder: ceil(59 068.6567 x 1.04) = 61 431.5. Touched by a 61 500 high:
    # break-even TP3 (stop to TP2 = 60 840.8) and trailing 61 500 - 307.1575 -> 61 192.8.
    stops = [s[5] for s in shapes if s[0][12:15] == "stp"]
    assert stops[-1] == D("61192.8")
    assert D("61431.5") * D("0.005") == D("307.1575")
    assert (D("61500.0") - D("307.1575")).quantize(D("0.1"), rounding="ROUND_FLOOR") == D("61192.8")


def test_worked_example_same_without_the_table_and_across_restarts(hr: Any) -> None:
    """Streaming indicators (every candle delivered) and a restart before every bar of the
    trade give the same orders as the table run."""
    bars, marks = hr.worked_example()
    table = hr.run(bars, "5m", SETTINGS)
    stream = hr.run(bars, "5m", SETTINGS, use_filter=False)
    restarts = list(range(marks["entry"] - 2, marks["exit"] + 2))
    restarted = hr.run(bars, "5m", SETTINGS, restart_at=restarts)
    restarted_stream = hr.run(bars, "5m", SETTINGS, restart_at=restarts[::3], use_filter=False)
    for other in (stream, restarted, restarted_stream):
        assert [hr.shape(o) for o in other.orders] == [hr.shape(o) for o in table.orders]
        assert [(o.status, o.avg_fill_price) for o in other.orders] == [
            (o.status, o.avg_fill_price) for o in table.orders
        ]
        assert other.trades == table.trades
