"""The async Exchange facade operates on the engine's state."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import numpy as np
import pytest

from tb_exchange_paper import PaperConfig, PaperExchange
from tbsdk.errors import ExchangeError, InvalidOrder, OrderNotFound
from tbsdk.model import (
    CandleArrays,
    MarginMode,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMode,
)


def _arrays(n: int) -> CandleArrays:
    ts = np.arange(n, dtype=np.int64) * 60_000
    px = np.full(n, 100.0)
    return CandleArrays(ts, px, px + 1, px - 1, px, np.ones(n))


async def test_exchange_calls_share_the_engine(swap: Any, spot: Any) -> None:
    ex = PaperExchange(
        PaperConfig(instruments=(swap, spot)), candles={(swap.symbol, "1m"): _arrays(10)}
    )
    caps = PaperExchange.capabilities
    assert all(
        (
            caps.hedge_mode,
            caps.stop_orders,
            caps.take_profit_orders,
            caps.reduce_only,
            caps.post_only,
            caps.amend,
            caps.close_position,
        )
    )
    assert set(await ex.load_markets()) == {swap.symbol, spot.symbol}
    got = await ex.fetch_candles(swap.symbol, "1m", 120_000, 300_000)
    assert got.ts.tolist() == [120_000, 180_000, 240_000]
    assert len(await ex.fetch_candles(swap.symbol, "1m", 0)) == 10
    assert len(await ex.fetch_candles(swap.symbol, "5m", 0)) == 0
    with pytest.raises(ExchangeError, match="no price"):
        await ex.fetch_ticker(swap.symbol)

    await ex.set_position_mode(PositionMode.ONE_WAY)
    await ex.set_leverage(swap.symbol, D(3), MarginMode.CROSS)
    ex.engine.process_candle(swap.symbol, 60_000, 100.0, 100.0, 100.0, 100.0)
    assert (await ex.fetch_ticker(swap.symbol)).last == D(100)

    intent = OrderIntent(
        client_order_id="x1",
        symbol=swap.symbol,
        side=OrderSide.BUY,
        type=OrderType.LIMIT,
        qty=D(30),
        price=D(99),
    )
    assert (await ex.create_order(intent)).status is OrderStatus.OPEN
    assert [o.client_order_id for o in await ex.fetch_open_orders(swap.symbol)] == ["x1"]
    assert await ex.fetch_open_orders(spot.symbol) == []
    amended = await ex.amend_order(swap.symbol, "x1", price=D("98.5"))
    assert amended.intent.price == D("98.5")
    ex.engine.process_candle(swap.symbol, 120_000, 99.0, 99.0, 98.0, 98.6)
    assert (await ex.fetch_order(swap.symbol, "x1")).status is OrderStatus.FILLED
    [pos] = await ex.fetch_positions()
    assert (pos.size, pos.entry_price, pos.leverage) == (D(30), D("98.5"), D(3))
    assert await ex.fetch_positions([spot.symbol]) == []
    bal = (await ex.fetch_balances())["USDT"]
    assert bal.used == D("98.5")  # 30 x 0.1 x 98.5 / 3
    with pytest.raises(OrderNotFound):
        await ex.cancel_order(spot.symbol, "x1")  # ids are looked up within their symbol
    with pytest.raises(InvalidOrder, match="unknown symbol"):
        await ex.fetch_candles("DOGE/USDT", "1m", 0)
    await ex.close()


def test_entry_point_is_declared() -> None:
    from importlib.metadata import entry_points

    [ep] = [e for e in entry_points(group="tbhost.exchanges") if e.name == "paper"]
    assert ep.load() is PaperExchange
