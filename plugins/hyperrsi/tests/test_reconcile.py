"""Reconciliation with the venue (hyperrsi spec §16): an external close (here the paper venue's
liquidation of an isolated position), orders left from before a restart, orphans, a position
found at start."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from tb_strategy_hyperrsi import HyperRsi
from tbsdk import RunMode
from tbsdk.model import (
    Direction,
    MarginMode,
    MarketType,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
)
from tbsdk.testing import MemoryContext

D = Decimal
HOURLY = "BINANCE_BTC-USDT_1h_2019-2020.csv.gz"


def test_liquidation_is_an_external_close(hr: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A long averaged down once (the ladder is then full at ``pyramiding_limit = 2``) and
    without a stop-loss is liquidated by the venue: the strategy cancels its TPs, starts the
    long cooldown, reports ``external_close`` and trades on with the next position."""
    c = hr.candles(HOURLY).slice(0, 450)
    settings = {"use_trend_logic": False, "use_trend_close": False, "pyramiding_limit": 2}
    with caplog.at_level(logging.INFO, logger="tbhost.bot.backtest"):
        result = hr.run(c, "1h", settings)
    liquidation = result.trades[0]
    assert liquidation.exit_reason == "liquidation"
    first = [o for o in result.orders if o.intent.client_order_id[7:12] == "00001"]
    open_tps = [o for o in first if o.intent.client_order_id[12:15] in ("tp1", "tp2")][-2:]
    for tp in open_tps:
        assert tp.status is OrderStatus.CANCELED
        assert tp.updated_at == liquidation.closed_at
    messages = [r.getMessage() for r in caplog.records if r.name == "tbhost.bot.backtest"]
    assert any(m.startswith("external_close:") for m in messages)
    assert any(m.startswith("position_closed:") and "(external)" in m for m in messages)
    second = [o for o in result.orders if o.intent.client_order_id[7:12] == "00002"]
    assert second
    assert second[0].intent.client_order_id[12:17] == "ent00"


def _ctx(hr: Any, **kw: Any) -> MemoryContext:
    c = hr.candles(HOURLY).slice(0, 300)
    ctx = MemoryContext(hr.instrument(), mode=RunMode.PAPER, now=int(c.ts[-1]) + 3_600_000, **kw)
    ctx.add_candles(hr.swap, "1h", c)
    ctx.set_equity(D(10_000))
    return ctx


SETTINGS = {"use_trend_logic": False, "use_trend_close": False}


def test_pending_orders_are_resent_with_the_same_id_and_orphans_canceled(hr: Any) -> None:
    """§3.3 / §16 at start: an intent saved before it reached the venue goes out again with
    the same id; an order with this bot's prefix that the state does not know is canceled."""
    first = hr.strategy("1h", **SETTINGS)
    ctx = _ctx(hr)
    first.on_start(ctx)
    bot6 = first.state.bot6
    intent = OrderIntent(
        client_order_id=f"h{bot6}00001ent00", symbol=hr.swap, side=OrderSide.BUY,
        type=OrderType.MARKET, qty=D("0.3"), tag="entry",
    )  # fmt: skip
    first.rt.desk.submit(ctx, intent, "ent")  # recorded, then "the process dies"
    first.state.seq, first.state.phase = 1, "entering"
    first.state.position.side = "long"
    saved = first.save_state()

    orphan = OrderIntent(
        client_order_id=f"h{bot6}00009tp100", symbol=hr.swap, side=OrderSide.SELL,
        type=OrderType.LIMIT, qty=D("0.1"), price=D(9000), reduce_only=True, tag="tp1",
    )  # fmt: skip
    restarted_ctx = _ctx(hr)
    restarted_ctx.put_order(
        Order(intent=orphan)
        .transition(OrderStatus.SUBMITTED, at=0)
        .transition(OrderStatus.OPEN, at=0)
    )
    second = hr.strategy("1h", **SETTINGS)
    second.load_state(saved)
    second.on_start(restarted_ctx)
    sent = [(type(c).__name__, getattr(c, "intent", None)) for c in restarted_ctx.commands]
    assert ("Submit", intent) in sent
    assert any(
        type(c).__name__ == "Cancel" and c.client_order_id == orphan.client_order_id
        for c in restarted_ctx.commands
    )
    assert restarted_ctx.timers["reconcile"] == restarted_ctx.now() + 60_000


def test_a_position_found_at_start_is_adopted(hr: Any) -> None:
    """§16: a venue position with no state is managed as a first entry: TPs and ladder from
    its average, base margin from its notional / leverage."""
    ctx = _ctx(hr)
    ctx.set_position(
        Position(
            symbol=hr.swap, position_side=PositionSide.NET, direction=Direction.SHORT,
            size=D("2.00"), entry_price=D("7500.0"), contract_size=D("0.01"),
            leverage=D(10), margin_mode=MarginMode.ISOLATED,
        )
    )  # fmt: skip
    strategy: HyperRsi = hr.strategy("1h", **SETTINGS)
    strategy.on_start(ctx)
    st = strategy.state
    assert (st.phase, st.position.side, st.position.size, st.position.entry_count) == (
        "open", "short", D("2.00"), 1,
    )  # fmt: skip
    assert st.position.base_margin == D("2.00") * D("0.01") * D("7500.0") / 10
    placed = {i.client_order_id[12:17]: i for i in ctx.submitted}
    # Short TPs below the average, floored: 7500 x 0.98 = 7350, x 0.97 = 7275.
    assert (placed["tp100"].price, placed["tp100"].qty) == (D("7350.0"), D("0.60"))
    assert (placed["tp200"].price, placed["tp200"].qty) == (D("7275.0"), D("0.60"))
    assert str(placed["tp100"].side) == "buy"
    assert st.position.ladder[0] == D("7500.0") * D("1.03")
    assert any(n.kind == "reconciled_adjustment" for n in ctx.notifications)


def test_instrument_must_be_a_linear_derivative(hr: Any) -> None:
    spot = hr.instrument().model_copy(update={"type": MarketType.SPOT, "settle": None})
    ctx = MemoryContext(spot, mode=RunMode.PAPER)
    from tbsdk import ConfigError

    with pytest.raises(ConfigError, match="linear"):
        hr.strategy("1h", **SETTINGS).on_start(ctx)
