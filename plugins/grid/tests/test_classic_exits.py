"""Range exits (grid spec §5.7) on real candles through the engine and the paper exchange:
stop-loss and take-profit exits that close at market, and cancel-only exits."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from classic_kit import BTC_SPOT, BTC_SWAP, backtest, btc_5m, cid, net_filled

from tbhost.engine.backtest import BacktestResult
from tbsdk.model import Instrument, OrderSide, OrderStatus, OrderType

D = Decimal
CANDLES = btc_5m()
FIVE_MIN = 300_000


def _settings(inst: Instrument, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "mode": "arithmetic", "symbol": inst.symbol, "lower_price": "65000",
        "upper_price": "70000", "grid_count": 10, "investment": "5000", "eval_timeframe": "5m",
    }  # fmt: skip
    base.update(over)
    return base


def _first_close(condition: np.ndarray) -> tuple[int, int]:
    """Index and close time of the first candle meeting ``condition``."""
    i = int(np.flatnonzero(condition)[0])
    return i, int(CANDLES.ts[i]) + FIVE_MIN


def _assert_stopped_at(result: BacktestResult, at: int, exit_cid: str | None) -> None:
    # Every grid order still live at the exit was canceled then; nothing was placed after it
    # except the closing market order.
    later = [o for o in result.orders if o.created_at > at]
    assert later == []
    for order in result.orders:
        if order.client_order_id == exit_cid:
            continue
        assert order.status in (OrderStatus.FILLED, OrderStatus.CANCELED)
        if order.status is OrderStatus.CANCELED:
            assert order.updated_at == at
    state = result.strategy_state["symbols"][result.instrument.symbol]
    assert state["phase"] == "stopped"


def test_spot_long_stop_loss_sells_the_grid_inventory() -> None:
    config = _settings(BTC_SPOT, exit_lower_price="64800")
    result = backtest(config, CANDLES, BTC_SPOT, "5m")
    i, at = _first_close(CANDLES.close <= 64800)
    held = net_filled(result, until=at)
    exits = [o for o in result.orders if o.intent.type is OrderType.MARKET and o.created_at == at]
    assert len(exits) == 1
    intent = exits[0].intent
    state = result.strategy_state["symbols"][BTC_SPOT.symbol]
    assert (intent.client_order_id, intent.side, intent.qty, intent.reduce_only) == (
        cid(BTC_SPOT.symbol, state["seq"], "x", 0), OrderSide.SELL, held, False,
    )  # fmt: skip
    assert held > 0
    assert exits[0].status is OrderStatus.FILLED
    # It filled at the next open: the account holds no grid base any more.
    assert net_filled(result) == 0
    assert result.fills[-1].fill.ts == int(CANDLES.ts[i + 1]) + FIVE_MIN
    assert state["exit_reason"] == "exit_lower_price"
    _assert_stopped_at(result, at, intent.client_order_id)


def test_futures_long_stop_loss_closes_the_position_reduce_only() -> None:
    config = _settings(BTC_SWAP, exit_lower_price="64800", leverage=2)
    result = backtest(config, CANDLES, BTC_SWAP, "5m")
    _, at = _first_close(CANDLES.close <= 64800)
    held = net_filled(result, until=at)
    exit_order = next(o for o in result.orders if o.created_at == at)
    assert (exit_order.intent.type, exit_order.intent.side, exit_order.intent.qty) == (
        OrderType.MARKET, OrderSide.SELL, held,
    )  # fmt: skip
    assert exit_order.intent.reduce_only
    assert net_filled(result) == 0
    assert len(result.trades) == 1  # one round trip: the grid's position, opened and closed
    _assert_stopped_at(result, at, exit_order.client_order_id)


def test_futures_short_exit_upper_is_its_stop() -> None:
    config = _settings(
        BTC_SWAP, direction="short", lower_price="64000", upper_price="67000",
        exit_upper_price="67500",
    )  # fmt: skip
    result = backtest(config, CANDLES, BTC_SWAP, "5m")
    start = int(np.flatnonzero(CANDLES.close < 67000)[0])
    _, at = _first_close((np.arange(len(CANDLES)) > start) & (CANDLES.close >= 67500))
    held = net_filled(result, until=at)
    assert held < 0
    exit_order = next(o for o in result.orders if o.created_at == at)
    assert (exit_order.intent.type, exit_order.intent.side, exit_order.intent.qty) == (
        OrderType.MARKET, OrderSide.BUY, -held,
    )  # fmt: skip
    assert exit_order.intent.reduce_only
    assert net_filled(result) == 0
    _assert_stopped_at(result, at, exit_order.client_order_id)


def test_cancel_and_stop_keeps_the_position() -> None:
    config = _settings(
        BTC_SWAP, direction="neutral", exit_lower_price="64800",
        range_exit_action="cancel_and_stop",
    )  # fmt: skip
    result = backtest(config, CANDLES, BTC_SWAP, "5m")
    _, at = _first_close(CANDLES.close <= 64800)
    held = net_filled(result, until=at)
    assert held != 0
    assert not [o for o in result.orders if o.intent.type is OrderType.MARKET]
    assert net_filled(result) == held  # the position stays
    _assert_stopped_at(result, at, None)


def test_without_exit_prices_the_orders_keep_resting_outside_the_range() -> None:
    config = _settings(BTC_SPOT)  # the price leaves 65000 .. 70000 below, for hours
    result = backtest(config, CANDLES, BTC_SPOT, "5m")
    assert (CANDLES.close < 65000).any()
    assert not [o for o in result.orders if o.status is OrderStatus.CANCELED]
    state = result.strategy_state["symbols"][BTC_SPOT.symbol]
    assert state["phase"] == "running"
