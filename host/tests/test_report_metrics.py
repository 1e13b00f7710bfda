"""Every summary metric against a hand computation on a small, hand-made backtest.

Daily candles, so a year is 365 of them. The equity curve is the start equity at the first
open, then one value per close:

    k      0     1     2    3     4     5     6
    E   1000  1010   990  1000  1030  1020  1040

Four round trips (D = one day): T1 long held [1D, 3D), T2 short [3D, 4D), T3 long inside
candle 4, T4 short inside candle 2 (overlapping T1), exactly breakeven. Positions are open
after the closes of candles 0, 1 and 2 (``HELD``), so candles 1, 2 and 3 carry one. Fills paid
the trades' fees (1.1) and 0.4 more for a long of 0.5 still open at the end.
"""

from __future__ import annotations

import json
import math
import statistics
from decimal import Decimal

import numpy as np
import pytest

from tbhost.engine.backtest import BacktestResult
from tbhost.engine.instruments import backtest_instrument
from tbhost.engine.runner import BotState
from tbhost.report import summarize
from tbhost.report.metrics import exposure_pct, max_drawdown, sharpe, sortino
from tbsdk import BotInfo
from tbsdk.model import (
    CandleArrays,
    Direction,
    Fill,
    FillEvent,
    Order,
    OrderIntent,
    OrderSide,
    OrderType,
    Position,
    Trade,
)

D = 86_400_000
H = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
CURVE = [1000.0, 1010.0, 990.0, 1000.0, 1030.0, 1020.0, 1040.0]


def trade(
    direction: str, qty: str, entry: str, exit_: str, opened: int, closed: int, pnl: str, fees: str
) -> Trade:
    return Trade(
        symbol="BTC/USDT",
        direction=Direction(direction),
        qty=Decimal(qty),
        entry_price=Decimal(entry),
        exit_price=Decimal(exit_),
        opened_at=T0 + opened,
        closed_at=T0 + closed,
        pnl=Decimal(pnl),
        fees=Decimal(fees),
        exit_reason="signal",
    )


HELD = [True, True, True, False, False, False]
OPEN = Position(symbol="BTC/USDT", size=Decimal("0.5"), entry_price=Decimal("115"))


def fill(n: int, fee: str) -> FillEvent:
    intent = OrderIntent(
        client_order_id=f"f{n}",
        symbol="BTC/USDT",
        side=OrderSide.BUY,
        type=OrderType.MARKET,
        qty=Decimal(1),
    )
    return FillEvent(
        fill=Fill(
            client_order_id=intent.client_order_id,
            trade_id=intent.client_order_id,
            symbol="BTC/USDT",
            side=OrderSide.BUY,
            qty=Decimal(1),
            price=Decimal(100),
            fee=Decimal(fee),
            ts=T0,
        ),
        order=Order(intent=intent),
    )


FILLS = [fill(n, fee) for n, fee in enumerate(("0.2", "0.5", "0.1", "0.3", "0.4"))]

TRADES = [
    trade("long", "1", "100", "110", 1 * D, 3 * D, "9.8", "0.2"),
    trade("short", "2", "105", "107", 3 * D, 4 * D, "-4.5", "0.5"),
    trade("long", "0.5", "108", "104", 4 * D + 6 * H, 4 * D + 12 * H, "-2.1", "0.1"),
    trade("short", "1", "109", "108.7", 2 * D + H, 2 * D + 2 * H, "0", "0.3"),
]


def make_result(
    curve: list[float],
    trades: list[Trade],
    *,
    held: list[bool] | None = None,
    fills: list[FillEvent] | None = None,
    open_positions: list[Position] | None = None,
    opens: float = 100.0,
    last_close: float = 120.0,
) -> BacktestResult:
    n = len(curve) - 1
    ts = np.array([T0 + i * D for i in range(n)], dtype=np.int64)
    close = np.linspace(opens, last_close, n)
    candles = CandleArrays(ts, np.full(n, opens), close + 1, close - 1, close, np.ones(n))
    return BacktestResult(
        bot=BotInfo(
            bot_id="t", strategy="hand", exchange="paper", account_id="paper", timeframe="1d"
        ),
        instrument=backtest_instrument("paper", "BTC/USDT"),
        candles=candles,
        start_equity=Decimal(f"{curve[0]:g}"),
        end_equity=Decimal(f"{curve[-1]:g}"),
        equity=np.array(curve[1:], dtype=np.float64),
        held=np.array(held if held is not None else [False] * n, dtype=np.bool_),
        trades=trades,
        orders=[],
        fills=fills or [],
        open_positions=open_positions or [],
        state=BotState.STOPPED,
    )


def hand_result() -> BacktestResult:
    return make_result(CURVE, TRADES, held=HELD, fills=FILLS, open_positions=[OPEN])


def test_every_metric_by_hand() -> None:
    s = summarize(hand_result())
    assert (s.start, s.end, s.candles, s.period_days) == (
        "2024-01-01 00:00",
        "2024-01-06 00:00",
        6,
        6.0,
    )
    # Money from Decimals is exact.
    assert (s.start_equity, s.end_equity, s.net_pnl) == (Decimal(1000), Decimal(1040), Decimal(40))
    assert s.return_pct == pytest.approx(4.0, rel=1e-12)
    assert s.cagr_pct == pytest.approx((1.04 ** (365 / 6) - 1) * 100, rel=1e-12)
    assert s.buy_and_hold_pct == pytest.approx(20.0, rel=1e-12)  # open 100 -> last close 120
    # Worst fall: from the 1010 peak to 990; under that peak from k=1 until 1030 at k=4.
    assert s.max_drawdown == pytest.approx(20.0, rel=1e-12)
    assert s.max_drawdown_pct == pytest.approx(20 / 1010 * 100, rel=1e-12)
    assert (s.max_drawdown_candles, s.max_drawdown_days) == (3, 3.0)
    r = [CURVE[k] / CURVE[k - 1] - 1 for k in range(1, len(CURVE))]
    assert s.sharpe == pytest.approx(statistics.mean(r) / statistics.stdev(r) * math.sqrt(365))
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in r) / len(r))
    assert s.sortino == pytest.approx(statistics.mean(r) / downside * math.sqrt(365))
    assert s.calmar == pytest.approx((1.04 ** (365 / 6) - 1) * 100 / (20 / 1010 * 100))
    # Candles 1, 2 and 3 of 0..5: a position was open after the close before each.
    assert s.exposure_pct == 50.0
    assert (s.trades, s.wins, s.losses) == (4, 1, 2)  # the breakeven trade is neither
    assert s.win_rate_pct == 25.0
    assert s.profit_factor == pytest.approx(9.8 / 6.6, rel=1e-12)
    assert s.expectancy == Decimal("0.8")  # (9.8 - 4.5 - 2.1 + 0) / 4
    assert s.avg_win == Decimal("9.8")
    assert s.avg_loss == Decimal("-3.3")
    assert s.expectancy_r == pytest.approx(0.8 / 3.3, rel=1e-12)
    assert s.avg_holding_hours == (48 + 24 + 6 + 1) / 4
    assert s.fees == Decimal("1.5")  # every fill's fee, the open position's included
    assert (s.best_trade, s.worst_trade) == (Decimal("9.8"), Decimal("-4.5"))
    # Marked at the last close, 120: (120 - 115) * 0.5.
    assert [(p.symbol, p.direction, p.size, p.unrealized_pnl) for p in s.open_positions] == [
        ("BTC/USDT", "long", Decimal("0.5"), Decimal("2.5"))
    ]
    assert (s.state, s.fault) == ("stopped", None)


def test_no_trades_and_flat_equity() -> None:
    s = summarize(make_result([1000.0] * 5, []))
    assert (s.net_pnl, s.return_pct, s.cagr_pct) == (0, 0.0, 0.0)
    assert (s.max_drawdown, s.max_drawdown_pct, s.max_drawdown_candles) == (0.0, 0.0, 0)
    # Flat equity: every return is 0, so the standard deviation is 0 and Sharpe is undefined.
    # It is None (shown as "-"), neither 0 nor infinite; so are Sortino and Calmar.
    assert (s.sharpe, s.sortino, s.calmar) == (None, None, None)
    assert (s.trades, s.wins, s.losses, s.exposure_pct) == (0, 0, 0, 0.0)
    assert (s.win_rate_pct, s.profit_factor, s.expectancy, s.expectancy_r) == (None,) * 4
    assert (s.avg_win, s.avg_loss, s.avg_holding_hours) == (None, None, None)
    assert (s.fees, s.best_trade, s.worst_trade) == (Decimal(0), None, None)
    assert s.open_positions == ()
    rows = dict(s.rows())
    assert rows["Open at end"] == "nothing"
    assert rows["Sharpe"] == rows["Profit factor"] == rows["Win rate"] == "-"
    assert json.loads(json.dumps(s.to_dict()))["sharpe"] is None


def test_all_wins_has_no_profit_factor() -> None:
    wins = [
        trade("long", "1", "100", "102", 0, D, "1.5", "0.2"),
        trade("short", "1", "102", "100", D, 2 * D, "1.75", "0.25"),
    ]
    s = summarize(make_result([1000.0, 1001.5, 1003.25], wins, held=[True, False]))
    assert (s.wins, s.losses, s.win_rate_pct) == (2, 0, 100.0)
    assert s.profit_factor is None  # nothing lost: gross profit / 0 is undefined
    assert (s.avg_loss, s.expectancy_r) == (None, None)
    assert s.expectancy == Decimal("1.625")
    assert s.sortino is None  # no candle lost money: no downside deviation
    assert s.sharpe is not None
    assert (s.max_drawdown_pct, s.calmar) == (0.0, None)
    assert s.exposure_pct == 50.0  # candle 1 of 0..1: nothing can be open before candle 0


def test_drawdown_still_open_at_the_end_lasts_to_the_last_point() -> None:
    times = np.array([0, D, 2 * D, 3 * D, 4 * D, 5 * D], dtype=np.int64)
    dd = max_drawdown(times, np.array([100.0, 120, 90, 110, 100, 115]))
    # Peak 120 at k=1, never reached again: under water until k=5.
    assert (dd.candles, dd.days) == (4, 4.0)
    assert dd.value == 30.0
    assert dd.pct == pytest.approx(25.0, rel=1e-12)
    # A new high right after a peak is no drawdown at all.
    rising = max_drawdown(times[:3], np.array([100.0, 101, 102]))
    assert (rising.value, rising.pct, rising.candles, rising.days) == (0.0, 0.0, 0, 0.0)


def test_drawdown_duration_is_measured_in_time_across_missing_candles() -> None:
    # Under water for 3 candles (3 days), then for 2 candles that span a 6-day gap in the data:
    # the longer in time wins.
    times = np.array([0, D, 2 * D, 3 * D, 9 * D, 10 * D], dtype=np.int64)
    dd = max_drawdown(times, np.array([100.0, 90, 95, 100, 99, 101]))
    assert (dd.candles, dd.days) == (2, 7.0)


def test_ratios_need_two_finite_returns() -> None:
    assert sharpe(np.array([0.01]), 365) is None
    assert sortino(np.array([-0.01]), 365) is None
    assert sharpe(np.array([0.01, np.nan]), 365) is None


def test_exposure_counts_the_candles_after_each_close_with_a_position_open() -> None:
    # Opened and closed at the same close: open after no close, so no candle counts.
    assert exposure_pct(np.array([False] * 4)) == 0.0
    # Opened at the close of candle 0, closed at the close of candle 2: candles 1 and 2.
    assert exposure_pct(np.array([True, True, False, False])) == 50.0
    # Opened at the close of candle 1 and still open at the end: candles 2 and 3.
    assert exposure_pct(np.array([False, True, True, True])) == 50.0
    assert exposure_pct(np.array([], dtype=np.bool_)) == 0.0


def test_text_table_is_aligned_and_json_keeps_decimals_exact() -> None:
    s = summarize(hand_result())
    lines = s.to_text().splitlines()
    column = len("Max DD duration") + 2
    assert all(line[column - 2 : column] == "  " and line[column] != " " for line in lines)
    rows = dict(s.rows())
    assert rows["Net profit"] == "40.00 (+4.00 %)"
    assert rows["Max drawdown"] == "20.00 (1.98 %)"
    assert rows["Max DD duration"] == "3.0 days (3 candles)"
    assert rows["Expectancy"] == "0.80 / trade (+0.24 R)"
    assert rows["Exposure"] == "50.0 %"
    assert rows["Trades"] == "4 (1 won, 2 lost)"
    assert rows["Fees paid"] == "1.50"
    assert rows["Open at end"] == "long 0.5 BTC/USDT from 115.00, unrealised +2.50"
    data = json.loads(json.dumps(s.to_dict()))
    assert (data["net_pnl"], data["expectancy"], data["fees"]) == ("40", "0.8", "1.5")
    assert data["open_positions"][0]["unrealized_pnl"] == "2.50"
    assert (data["avg_loss"], data["best_trade"]) == ("-3.3", "9.8")
    assert (data["max_drawdown_candles"], data["profit_factor"]) == (3, s.profit_factor)
