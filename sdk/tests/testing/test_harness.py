from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from pydantic import Field

from tbsdk import Strategy, StrategyConfig, StrategyContext
from tbsdk.model import (
    Balance,
    CandleArrays,
    CandleClosed,
    Fill,
    FillEvent,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    PositionChanged,
    PositionSide,
    StopReason,
    TimerFired,
)
from tbsdk.model.portfolio import Direction
from tbsdk.testing import (
    Cancel,
    MemoryContext,
    Replace,
    Submit,
    dispatch,
    run_strategy,
    spot_instrument,
)

pytest_plugins = ["tbsdk.testing"]

SYMBOL = "BTC/USDT"
MIN = 60_000


class ProbeConfig(StrategyConfig):
    warmup: int = Field(default=0, ge=0, description="Candles of history before events.")
    every: int = Field(default=10, ge=1, description="Submit an order every N candles.")


class Probe(Strategy[ProbeConfig]):
    """Records what it sees; every N candles replaces its resting order by a new one."""

    name = "probe"
    api_version = "1.0"
    config_class = ProbeConfig

    def __init__(self, config: ProbeConfig) -> None:
        super().__init__(config)
        self.events: list[tuple[str, int, int]] = []  # (kind, event ts, ctx.now())
        self.history_checks: list[tuple[int, int, int]] = []  # (len, last ts, candle ts)
        self.updates: list[tuple[str, OrderStatus, bool]] = []
        self.loaded: dict[str, Any] | None = None
        self.count = 0
        self.stopped: StopReason | None = None

    def load_state(self, state: dict[str, Any]) -> None:
        self.loaded = state
        self.count = int(state["count"])

    def save_state(self) -> dict[str, Any]:
        return {"count": self.count}

    def on_start(self, ctx: StrategyContext) -> None:
        self.events.append(("start", 0, ctx.now()))
        ctx.subscribe(SYMBOL, "1m", warmup=self.config.warmup)
        ctx.set_timer("t", ctx.now() + 2 * MIN)  # due exactly at a candle close

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        self.events.append(("candle", event.candle.ts, ctx.now()))
        hist = ctx.history(SYMBOL, "1m")
        self.history_checks.append((len(hist), int(hist.ts[-1]), event.candle.ts))
        self.count += 1
        if self.count % self.config.every:
            return
        price = ctx.instrument(SYMBOL).floor_price(event.candle.close * Decimal("0.9"))
        new = OrderIntent(
            client_order_id=f"probe{self.count}",
            symbol=SYMBOL,
            side=OrderSide.BUY,
            type=OrderType.LIMIT,
            qty=Decimal("0.001"),
            price=price,
        )
        live = ctx.open_orders(SYMBOL)
        if live:
            ctx.replace(live[0].client_order_id, new)
        else:
            ctx.submit(new)

    def on_timer(self, ctx: StrategyContext, event: TimerFired) -> None:
        self.events.append(("timer", event.ts, ctx.now()))
        if event.name == "t":
            ctx.set_timer("u", event.ts + 30_000)  # between two closes
            ctx.signal("tick", at=event.ts)
            ctx.notify("timer", "fired", name=event.name)

    def on_order_update(self, ctx: StrategyContext, event: OrderUpdate) -> None:
        self.updates.append((event.order.client_order_id, event.order.status, event.by_strategy))

    def on_stop(self, ctx: StrategyContext, reason: StopReason) -> None:
        self.stopped = reason


def _probe(**settings: Any) -> Probe:
    strategy = Probe.from_settings(settings)
    assert isinstance(strategy, Probe)
    return strategy


def test_candles_arrive_in_order_at_close_with_closed_history_only(btc_1m: CandleArrays) -> None:
    candles = btc_1m.slice(0, 50)
    probe = _probe(warmup=5)
    result = run_strategy(probe, candles, SYMBOL, "1m", spot_instrument())
    assert result.candles_delivered == 45
    assert probe.events[0] == ("start", 0, int(candles.ts[0]))
    candle_events = [e for e in probe.events if e[0] == "candle"]
    assert [ts for _, ts, _ in candle_events] == candles.ts[5:].tolist()
    assert all(now == ts + MIN for _, ts, now in candle_events)
    # History ends at the candle just closed and never shows a later one.
    for n, (length, last_ts, candle_ts) in enumerate(probe.history_checks):
        assert last_ts == candle_ts
        assert length == 5 + n + 1
    assert probe.stopped is StopReason.FINISHED


def test_history_count_and_instant_before_first_close(btc_1m: CandleArrays) -> None:
    ctx = MemoryContext(spot_instrument(), now=int(btc_1m.ts[0]))
    ctx.add_candles(SYMBOL, "1m", btc_1m)
    assert len(ctx.history(SYMBOL, "1m")) == 0  # the first candle is still open
    ctx.set_time(int(btc_1m.ts[10]) + MIN - 1)
    assert len(ctx.history(SYMBOL, "1m")) == 10
    ctx.set_time(int(btc_1m.ts[10]) + MIN)
    hist = ctx.history(SYMBOL, "1m", count=3)
    assert hist.ts.tolist() == btc_1m.ts[8:11].tolist()
    np.testing.assert_array_equal(hist.close, btc_1m.close[8:11])


def test_history_is_read_only_and_unknown_series_is_an_error(btc_1m: CandleArrays) -> None:
    ctx = MemoryContext(spot_instrument(), now=int(btc_1m.ts[-1]) + MIN)
    ctx.add_candles(SYMBOL, "1m", btc_1m)
    hist = ctx.history(SYMBOL, "1m")
    with pytest.raises(ValueError, match="read-only"):
        hist.close[0] = 1.0
    btc_1m.close[0] = 1.0  # the caller's arrays were copied
    assert ctx.history(SYMBOL, "1m").close[0] != 1.0
    with pytest.raises(LookupError, match="ETH/USDT 1m"):
        ctx.history("ETH/USDT", "1m")
    with pytest.raises(LookupError, match="no instrument"):
        ctx.instrument("ETH/USDT")


def test_clock_never_goes_back() -> None:
    ctx = MemoryContext(spot_instrument(), now=100)
    with pytest.raises(ValueError, match="cannot go back"):
        ctx.set_time(99)


def test_timers_fire_in_time_order_before_the_candle(btc_1m: CandleArrays) -> None:
    candles = btc_1m.slice(0, 5)
    t0 = int(candles.ts[0])
    probe = _probe()
    result = run_strategy(probe, candles, SYMBOL, "1m", spot_instrument())
    kinds = [(k, ts - t0, now - t0) for k, ts, now in probe.events]
    assert kinds == [
        ("start", -t0, 0),
        ("candle", 0, MIN),
        ("timer", 2 * MIN, 2 * MIN),  # due exactly at the close of candle 1: fires first
        ("candle", MIN, 2 * MIN),
        ("timer", 2 * MIN + 30_000, 2 * MIN + 30_000),
        ("candle", 2 * MIN, 3 * MIN),
        ("candle", 3 * MIN, 4 * MIN),
        ("candle", 4 * MIN, 5 * MIN),
    ]
    assert [t.name for t in result.timers_fired] == ["t", "u"]
    assert result.ctx.timers == {}
    assert [s.name for s in result.signals] == ["tick"]
    assert result.signals[0].data == {"at": t0 + 2 * MIN}
    assert [(n.kind, n.data, n.ts, n.bot_id) for n in result.notifications] == [
        ("timer", {"name": "t"}, t0 + 2 * MIN, "testbot")
    ]


def test_commands_are_recorded_and_acknowledged_without_fills(btc_1m: CandleArrays) -> None:
    candles = btc_1m.slice(0, 30)
    probe = _probe(every=10)
    result = run_strategy(probe, candles, SYMBOL, "1m", spot_instrument())
    t = [int(candles.ts[i]) + MIN for i in (9, 19, 29)]
    kinds = [type(c) for c in result.commands]
    assert kinds == [Submit, Replace, Replace]
    first, second, _ = result.commands
    assert isinstance(first, Submit)
    assert (first.intent.client_order_id, first.ts) == ("probe10", t[0])
    assert isinstance(second, Replace)
    assert (second.old_client_order_id, second.new.client_order_id) == ("probe10", "probe20")
    assert second.ts == t[1]
    assert [o.client_order_id for o in result.ctx.open_orders()] == ["probe30"]
    assert result.ctx.open_orders("ETH/USDT") == []
    old = result.ctx.order("probe10")
    assert old is not None
    assert old.status is OrderStatus.CANCELED
    assert old.filled_qty == 0
    assert probe.updates == [
        ("probe10", OrderStatus.OPEN, False),
        ("probe10", OrderStatus.CANCELED, True),
        ("probe20", OrderStatus.OPEN, False),
        ("probe20", OrderStatus.CANCELED, True),
        ("probe30", OrderStatus.OPEN, False),
    ]
    assert result.state == {"count": 30}


def test_duplicate_submit_is_recorded_but_opens_no_second_order() -> None:
    ctx = MemoryContext(spot_instrument())
    intent = OrderIntent(
        client_order_id="dup1",
        symbol=SYMBOL,
        side=OrderSide.SELL,
        type=OrderType.MARKET,
        qty=Decimal("0.01"),
    )
    ctx.submit(intent)
    ctx.submit(intent)
    ctx.cancel("unknown")
    assert ctx.commands == [Submit(intent, 0), Submit(intent, 0), Cancel("unknown", 0)]
    assert len(ctx.open_orders()) == 1
    assert [u.order.status for u in ctx.take_updates()] == [OrderStatus.OPEN]
    assert ctx.take_updates() == []


def test_ack_orders_off_keeps_the_book_empty() -> None:
    ctx = MemoryContext(spot_instrument(), ack_orders=False)
    ctx.submit(
        OrderIntent(client_order_id="a1", symbol=SYMBOL, side="buy", type="market", qty=Decimal(1))
    )
    assert len(ctx.commands) == 1
    assert ctx.open_orders() == []
    assert ctx.order("a1") is None


def test_state_is_loaded_before_start_and_missing_subscription_is_an_error(
    btc_1m: CandleArrays,
) -> None:
    probe = _probe()
    result = run_strategy(
        probe, btc_1m.slice(0, 3), SYMBOL, "1m", spot_instrument(), state={"count": 7}
    )
    assert probe.loaded == {"count": 7}
    assert result.state == {"count": 10}

    class Deaf(Probe):
        def on_start(self, ctx: StrategyContext) -> None:
            ctx.subscribe("ETH/USDT", "1m")

    with pytest.raises(ValueError, match="did not subscribe to BTC/USDT 1m"):
        run_strategy(Deaf(ProbeConfig()), btc_1m.slice(0, 3), SYMBOL, "1m", spot_instrument())


def test_account_defaults_and_test_set_values() -> None:
    ctx = MemoryContext(spot_instrument(), equity=Decimal(5))
    flat = ctx.position(SYMBOL, PositionSide.LONG)
    assert (flat.size, flat.position_side) == (Decimal(0), PositionSide.LONG)
    assert ctx.balance("USDT").total == 0
    assert ctx.equity() == Decimal(5)
    long = Position(symbol=SYMBOL, size=Decimal("0.5"), entry_price=Decimal(60000))
    ctx.set_position(long)
    ctx.set_balance(
        Balance(currency="USDT", total=Decimal(100), free=Decimal(60), used=Decimal(40))
    )
    ctx.set_equity(Decimal(123))
    assert ctx.position(SYMBOL) == long
    assert ctx.balance("USDT").used == Decimal(40)
    assert ctx.equity() == Decimal(123)
    assert ctx.bot.symbols == (SYMBOL,)


def test_run_strategy_funds_a_fresh_context(btc_1m: CandleArrays) -> None:
    result = run_strategy(
        _probe(), btc_1m.slice(0, 2), SYMBOL, "1m", spot_instrument(), equity=Decimal(777)
    )
    assert result.ctx.equity() == Decimal(777)
    assert result.ctx.balance("USDT").free == Decimal(777)


def test_dispatch_keeps_the_context_in_step() -> None:
    ctx = MemoryContext(spot_instrument())
    probe = _probe()
    intent = OrderIntent(
        client_order_id="f1", symbol=SYMBOL, side="buy", type="market", qty=Decimal("0.002")
    )
    order = Order(intent=intent).transition(OrderStatus.SUBMITTED, at=1)
    fill = Fill(
        client_order_id="f1",
        trade_id="t1",
        symbol=SYMBOL,
        side=OrderSide.BUY,
        qty=Decimal("0.002"),
        price=Decimal(60000),
        ts=2,
    )
    filled = order.apply_fill(fill)
    dispatch(probe, ctx, FillEvent(fill=fill, order=filled))
    assert ctx.order("f1") == filled
    pos = Position(symbol=SYMBOL, direction=Direction.LONG, size=Decimal("0.002"))
    dispatch(probe, ctx, PositionChanged(position=pos))
    assert ctx.position(SYMBOL) == pos
