"""Classic grids on real candles (Binance BTC/USDT 5m, tests/data) through the real engine and
the paper exchange: spot and futures, long / short / neutral, arithmetic and geometric.

Each scenario checks the level table against an independent computation, the start orders
against the spec's formulas, that every fill was answered by the right counter-order, that grid
profit equals a recomputation from the fills, and that the position matches the grid's books.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from classic_kit import (
    BTC_SPOT,
    BTC_SWAP,
    arithmetic_levels,
    assert_counter_orders,
    backtest,
    btc_5m,
    cid,
    floor_lot,
    geometric_levels,
    net_filled,
    pair_profit,
)

from tb_strategy_grid.engine import money_text
from tb_strategy_grid.strategy import Grid
from tbhost.engine.backtest import BacktestResult
from tbhost.report import summarize
from tbsdk import StrategyContext
from tbsdk.model import CandleClosed, Instrument, OrderSide, OrderType, PositionMode, PositionSide

D = Decimal
CANDLES = btc_5m()
P0 = D(repr(float(CANDLES.close[0])))  # the first close is inside every range below: 69609.03


def _settings(inst: Instrument, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "mode": "arithmetic", "symbol": inst.symbol, "lower_price": "64000",
        "upper_price": "70000", "grid_count": 12, "investment": "5000", "eval_timeframe": "5m",
    }  # fmt: skip
    base.update(over)
    return base


def _state(result: BacktestResult) -> dict[str, Any]:
    state: dict[str, Any] = result.strategy_state["symbols"][result.instrument.symbol]
    return state


def _position(result: BacktestResult, book: PositionSide = PositionSide.NET) -> Decimal:
    """Signed venue position at the end, from the fills (the paper's own report)."""
    return net_filled(result)


@pytest.mark.parametrize(
    ("mode", "levels"),
    [
        ("arithmetic", arithmetic_levels("64000", "70000", 12, "0.01")),
        ("geometric", geometric_levels("64000", "70000", 12, "0.01")),
    ],
)
def test_spot_long(mode: str, levels: list[Decimal]) -> None:
    config = _settings(BTC_SPOT, mode=mode)
    result = backtest(config, CANDLES, BTC_SPOT, "5m")
    state = _state(result)
    assert [D(x) for x in state["levels"]] == levels
    q = floor_lot(D(5000) / (12 * P0), BTC_SPOT.lot_step)
    assert [D(x) for x in state["qtys"]] == [q] * 12
    e = min(range(13), key=lambda i: (abs(levels[i] - P0), i))
    assert state["empty"] is not None
    first = result.orders[0].intent
    assert (first.client_order_id, first.type, first.side, first.qty) == (
        cid(BTC_SPOT.symbol, 1, "i", e), OrderType.MARKET, OrderSide.BUY, (12 - e) * q,
    )  # fmt: skip
    # Spot: nothing is reduce-only; every level order is a plain GTC limit at its level.
    limits = [o.intent for o in result.orders if o.intent.type is OrderType.LIMIT]
    assert all(not i.reduce_only and i.price in levels for i in limits)
    assert assert_counter_orders(result, levels, lambda j: q) > 20
    profit, pairs = pair_profit(result, levels)
    assert (D(state["grid_profit"]), state["pair_count"]) == (profit, pairs)
    assert pairs > 10
    # The report shows it: the position never closes, so no round trip would.
    line = ("Grid profit", f"{money_text(profit)} over {pairs} completed pairs")
    assert result.strategy_report == dict([line])
    assert line in summarize(result).rows()
    # The grid's inventory is the base the account bought: initial + buys − sells.
    assert D(state["inventory"]) == _position(result)
    live = [o for o in result.orders if o.status.is_live]
    assert len(live) == 12  # one order per level but the empty one
    assert len({o.intent.price for o in live}) == 12


class _Counting(Grid):
    """Counts the candles the engine delivers."""

    delivered = 0

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        type(self).delivered += 1
        super().on_candle(ctx, event)


@pytest.mark.parametrize(
    ("inst", "over"),
    [
        (BTC_SPOT, {"mode": "geometric", "lower_price": "65000", "exit_lower_price": "64600"}),
        (BTC_SPOT, {"lower_price": "64400", "upper_price": "66000", "grid_count": 8,
                    "trailing_up": True, "trailing_up_limit_price": "68000"}),
        (BTC_SWAP, {"direction": "short", "upper_price": "67000", "exit_upper_price": "67500"}),
    ],
)  # fmt: skip
def test_candle_filter_changes_nothing(inst: Instrument, over: dict[str, Any]) -> None:
    config = _settings(inst, **over)
    fast = backtest(config, CANDLES, inst, "5m")
    slow = backtest(config, CANDLES, inst, "5m", use_filter=False)
    assert [(o.intent, o.status) for o in fast.orders] == [
        (o.intent, o.status) for o in slow.orders
    ]
    assert [f.fill for f in fast.fills] == [f.fill for f in slow.fills]
    assert fast.strategy_state == slow.strategy_state
    assert len(fast.fills) > 10


def test_futures_short_arithmetic() -> None:
    config = _settings(BTC_SWAP, direction="short", leverage=2)
    result = backtest(config, CANDLES, BTC_SWAP, "5m")
    state = _state(result)
    levels = arithmetic_levels("64000", "70000", 12, "0.1")
    q = floor_lot(D(5000) * 2 / (12 * P0), BTC_SWAP.lot_step)
    assert [D(x) for x in state["qtys"]] == [q] * 12
    e = min(range(13), key=lambda i: (abs(levels[i] - P0), i))
    first = result.orders[0].intent
    # Short: a market sell of the inventory the buys below will buy back (Σ_{i<e} q_i).
    assert (first.type, first.side, first.qty, first.reduce_only) == (
        OrderType.MARKET, OrderSide.SELL, e * q, False,
    )  # fmt: skip
    limits = [o.intent for o in result.orders if o.intent.type is OrderType.LIMIT]
    assert all(i.reduce_only == (i.side is OrderSide.BUY) for i in limits)
    # The buys wait for the short they reduce: all are created after the initial fill.
    initial_fill = result.fills[0]
    assert initial_fill.fill.client_order_id == first.client_order_id
    buys = [o for o in result.orders if o.intent.side is OrderSide.BUY]
    assert min(o.created_at for o in buys) == initial_fill.fill.ts
    assert assert_counter_orders(result, levels, lambda j: q) > 20
    profit, pairs = pair_profit(result, levels)
    assert (D(state["grid_profit"]), state["pair_count"]) == (profit, pairs)
    assert D(state["inventory"]) == _position(result) < 0


def test_futures_neutral_geometric_nets_in_one_way_mode() -> None:
    config = _settings(BTC_SWAP, mode="geometric", direction="neutral", leverage=3)
    result = backtest(config, CANDLES, BTC_SWAP, "5m")
    state = _state(result)
    levels = geometric_levels("64000", "70000", 12, "0.1")
    assert [D(x) for x in state["levels"]] == levels
    q = floor_lot(D(5000) * 3 / (12 * P0), BTC_SWAP.lot_step)
    assert all(o.intent.type is OrderType.LIMIT for o in result.orders)  # no initial order
    assert all(not o.intent.reduce_only for o in result.orders)
    assert assert_counter_orders(result, levels, lambda j: q) > 20
    profit, pairs = pair_profit(result, levels)
    assert (D(state["grid_profit"]), state["pair_count"]) == (profit, pairs)
    assert D(state["inventory"]) == _position(result)


def test_futures_long_equal_quote_in_hedge_mode() -> None:
    config = _settings(BTC_SWAP, order_size_mode="equal_quote", leverage=2)
    result = backtest(config, CANDLES, BTC_SWAP, "5m", position_mode=PositionMode.HEDGE)
    state = _state(result)
    levels = arithmetic_levels("64000", "70000", 12, "0.1")
    qtys = [floor_lot(D(10_000) / (12 * levels[j]), BTC_SWAP.lot_step) for j in range(12)]
    assert [D(x) for x in state["qtys"]] == qtys
    assert all(o.intent.position_side is PositionSide.LONG for o in result.orders)
    limits = [o.intent for o in result.orders if o.intent.type is OrderType.LIMIT]
    assert all(i.reduce_only == (i.side is OrderSide.SELL) for i in limits)
    assert assert_counter_orders(result, levels, lambda j: qtys[j]) > 20
    profit, pairs = pair_profit(result, levels)
    assert (D(state["grid_profit"]), state["pair_count"]) == (profit, pairs)


def test_waits_for_the_range_then_starts_at_the_first_close_inside() -> None:
    config = _settings(BTC_SPOT, lower_price="64400", upper_price="66000", grid_count=8)
    result = backtest(config, CANDLES, BTC_SPOT, "5m")
    inside = np.flatnonzero((CANDLES.close > 64400) & (CANDLES.close < 66000))
    start = int(inside[0])
    assert start > 0
    close_time = int(CANDLES.ts[start]) + 300_000
    assert min(o.created_at for o in result.orders) == close_time
    p0 = D(repr(float(CANDLES.close[start])))
    q = floor_lot(D(5000) / (8 * p0), BTC_SPOT.lot_step)
    assert _state(result)["p0"] == str(p0)
    assert D(_state(result)["qtys"][0]) == q


def test_trailing_up_follows_the_rise_to_the_limit() -> None:
    config = _settings(
        BTC_SPOT, lower_price="64400", upper_price="66000", grid_count=8, trailing_up=True,
        trailing_up_limit_price="68000",
    )  # fmt: skip
    result = backtest(config, CANDLES, BTC_SPOT, "5m")
    state = _state(result)
    sequence = arithmetic_levels("64400", "66000", 8, "0.01", count=19)  # up to 68000
    assert sequence[-1] == D(68000)
    assert state["trailing_shifts"] == 10  # (68000 − 66000) / 200: stopped by the limit
    assert [D(x) for x in state["levels"]] == sequence[10:]
    # Each shift canceled the buy at the bottom level, lowest first, and bought nothing.
    canceled = [o for o in result.orders if o.status.value == "canceled"]
    assert [(o.intent.side, o.intent.price) for o in canceled] == [
        (OrderSide.BUY, p) for p in sequence[:10]
    ]
    markets = [o for o in result.orders if o.intent.type is OrderType.MARKET]
    assert len(markets) == 1  # the initial buy only
    # Shift k (levels sequence[k .. k+8]) happened at a close at or above the new top
    # sequence[k+9]: the buy at the bottom was canceled and a buy placed at the old top.
    q = D(state["qtys"][0])
    for k, bottom in enumerate(canceled):
        at = bottom.updated_at
        close = D(repr(float(CANDLES.close[int(np.searchsorted(CANDLES.ts, at - 300_000))])))
        assert close >= sequence[k + 9]
        placed = [o.intent for o in result.orders if o.created_at == at]
        assert any((i.side, i.price, i.qty) == (OrderSide.BUY, sequence[k + 8], q) for i in placed)
    assert all((o.intent.price or 0) <= D(68000) for o in result.orders)
    assert assert_counter_orders(result, sequence, lambda j: q) > 10
    profit, pairs = pair_profit(result, sequence)
    assert (D(state["grid_profit"]), state["pair_count"]) == (profit, pairs)


def test_report_amounts_are_exact_to_eight_decimals_with_at_least_two() -> None:
    assert money_text(D("36.93022070")) == "+36.9302207"
    assert money_text(D("-1.5")) == "-1.50"
    assert money_text(D(0)) == "+0.00"
    assert money_text(D("1.123456785")) == "+1.12345678"  # half to even
    assert money_text(D("12345")) == "+12345.00"
