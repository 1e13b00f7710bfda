"""Grid spec §8, the classic worked examples, number for number.

Exact emitted orders come from ``run_strategy`` (orders acknowledged, never filled); fills come
from the real engine and the paper exchange on hand-made candles that follow the example's
story (start at 100.7, dip to 98, back to 100, run to 112). Expected values are the spec's.
"""

from __future__ import annotations

import sys
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from classic_kit import (
    EXAMPLE_SPOT,
    EXAMPLE_SWAP,
    TEST_ACCOUNT,
    TEST_BOT,
    backtest,
    bars,
    cid,
    flat,
    run,
    settings,
)

from tb_strategy_grid.strategy import Grid
from tbsdk.commands import SetLeverage
from tbsdk.model import (
    Fill,
    FillEvent,
    MarginMode,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
)
from tbsdk.testing import Submit, dispatch

D = Decimal
SYM = EXAMPLE_SPOT.symbol
LEVELS = [D(90 + 2 * i) for i in range(11)]  # step (110 - 90) / 10 = 2
Q = D("0.993")  # floor_to(1000 / (10 · 100.7), 0.001)


def _id(seq: int, letter: str, level: int, symbol: str = SYM, rev: int = 0) -> str:
    return cid(symbol, seq, letter, level, rev, account=TEST_ACCOUNT, bot=TEST_BOT)


def _limit(seq: int, side: OrderSide, level: int, qty: Decimal, symbol: str = SYM) -> OrderIntent:
    letter = "b" if side is OrderSide.BUY else "s"
    return OrderIntent(
        client_order_id=_id(seq, letter, level, symbol), symbol=symbol, side=side,
        type=OrderType.LIMIT, qty=qty, price=LEVELS[level], tag=f"grid_{side.value}",
    )  # fmt: skip


def test_the_quantity_is_the_spec_floor() -> None:
    raw = D(1000) / (10 * D("100.7"))
    assert (raw / D("0.001")).to_integral_value(ROUND_FLOOR) * D("0.001") == Q


# -- arithmetic, spot, long ---------------------------------------------------------------------
def test_arithmetic_start_sends_the_market_buy_then_the_buys() -> None:
    result = run(settings(), flat(100.7), EXAMPLE_SPOT)
    sent = [c.intent for c in result.commands if isinstance(c, Submit)]
    market = OrderIntent(
        client_order_id=_id(1, "i", 5), symbol=SYM, side=OrderSide.BUY, type=OrderType.MARKET,
        qty=5 * Q, tag="grid_initial",
    )  # fmt: skip
    assert D("4.965") == 5 * Q
    buys = [_limit(2 + i, OrderSide.BUY, i, Q) for i in range(5)]  # 90 .. 98
    assert sent == [market, *buys]
    state = result.state["symbols"][SYM]
    assert [D(x) for x in state["levels"]] == LEVELS
    assert state["empty"] == 5  # 100 is nearest to 100.7
    assert [D(x) for x in state["qtys"]] == [Q] * 10
    # The sells wait for the inventory the market buy brings.
    assert [s["status"] for s in state["slots"][6:]] == ["waiting"] * 5
    # Reserve of the buys: 0.993 · (90 + 92 + 94 + 96 + 98) = 466.71 (spec).
    assert sum(b.qty * b.price for b in buys if b.price) == D("466.71")


def test_arithmetic_sells_follow_the_initial_fill() -> None:
    result = run(settings(), flat(100.7), EXAMPLE_SPOT)
    ctx = result.ctx
    initial = ctx.order(_id(1, "i", 5))
    assert initial is not None
    fill = Fill(
        client_order_id=initial.client_order_id, trade_id="t1", symbol=SYM, side=OrderSide.BUY,
        qty=D("4.965"), price=D("100.7"), fee=D("0.4999755"), ts=ctx.now(),
    )  # fmt: skip
    before = len(ctx.commands)
    grid = Grid.from_settings(settings())
    grid.load_state(result.state)
    grid.on_start(ctx)
    dispatch(grid, ctx, FillEvent(fill=fill, order=initial.apply_fill(fill)))
    sent = [c.intent for c in ctx.commands[before:] if isinstance(c, Submit)]
    assert sent == [_limit(7 + k, OrderSide.SELL, 6 + k, Q) for k in range(5)]  # 102 .. 110


_STORY = [
    (100.7, 100.7, 100.7, 100.7),  # start: p0 = 100.7
    (100.7, 100.7, 100.7, 100.7),  # the market buy fills at this open; sells placed after
    (100.7, 100.7, 98.0, 98.5),  # dips to 98: the buy at 98 fills
    (98.5, 100.0, 98.5, 99.5),  # back to 100: the sell at 100 fills
    (99.5, 112.0, 99.5, 112.0),  # runs to 112: every sell fills
    (112.0, 112.0, 112.0, 112.0),
]


def _story(**over: object) -> tuple[dict[str, object], list[tuple[str, OrderSide, Decimal]]]:
    result = backtest(settings(**over), bars(_STORY), EXAMPLE_SPOT, "1m")
    state = result.strategy_state["symbols"][SYM]
    fills = [(f.fill.client_order_id, f.fill.side, f.fill.price) for f in result.fills]
    return {"state": state, "result": result}, fills


def _bid(seq: int, letter: str, level: int, rev: int = 0) -> str:
    return cid(SYM, seq, letter, level, rev)


def test_arithmetic_dip_and_return_makes_the_spec_grid_profit() -> None:
    out, fills = _story(trailing_up=False)
    assert fills[:3] == [
        (_bid(1, "i", 5), OrderSide.BUY, D("100.7")),
        (_bid(6, "b", 4), OrderSide.BUY, D(98)),  # the dip
        (_bid(12, "s", 5), OrderSide.SELL, D(100)),  # its counter-sell at 100
    ]
    fee = D("0.001")
    profit = (D(100) - D(98)) * Q - (D(98) * Q * fee + D(100) * Q * fee)
    assert profit.quantize(D("0.0001")) == D("1.7894")  # spec, rounded
    state = out["state"]
    assert isinstance(state, dict)
    assert D(state["grid_profit"]) == profit
    assert state["pair_count"] == 1  # only 98 -> 100 closed: the other fills opened legs


def test_arithmetic_counter_orders_after_the_dip_and_return() -> None:
    out, _ = _story(trailing_up=False)
    result = out["result"]
    orders = {o.client_order_id: o for o in result.orders}  # type: ignore[attr-defined]
    counter_sell = orders[_bid(12, "s", 5)].intent
    assert (counter_sell.side, counter_sell.price, counter_sell.qty) == (OrderSide.SELL, D(100), Q)
    rebuy = orders[_bid(13, "b", 4)]
    assert (rebuy.intent.side, rebuy.intent.price, rebuy.intent.qty) == (OrderSide.BUY, D(98), Q)
    assert rebuy.status is OrderStatus.OPEN  # 98 rests again; 100 is the empty level


def test_trailing_up_to_112_moves_the_grid_without_a_market_order() -> None:
    out, fills = _story(trailing_up=True)
    result = out["result"]
    state = out["state"]
    assert isinstance(state, dict)
    # Every sell 102 .. 110 filled on the run up, 110 became empty, then the grid moved.
    sells = [f for f in fills if f[1] is OrderSide.SELL]
    assert [p for _, _, p in sells] == [D(100), D(102), D(104), D(106), D(108), D(110)]
    orders = {o.client_order_id: o for o in result.orders}  # type: ignore[attr-defined]
    assert orders[_bid(2, "b", 0)].status is OrderStatus.CANCELED  # the buy at 90
    assert [D(x) for x in state["levels"]] == [D(92 + 2 * i) for i in range(11)]
    assert state["empty"] == 10  # 112
    assert state["trailing_shifts"] == 1
    new_buy = orders[_bid(19, "b", 9)]  # seq 14..18: counter-buys at 100..108 after the sells
    assert (new_buy.intent.side, new_buy.intent.price, new_buy.intent.qty) == (
        OrderSide.BUY, D(110), Q,
    )  # fmt: skip
    assert new_buy.status is OrderStatus.OPEN
    markets = [o for o in result.orders if o.intent.type is OrderType.MARKET]  # type: ignore[attr-defined]
    assert [m.client_order_id for m in markets] == [_bid(1, "i", 5)]
    live = sorted(o.intent.price for o in result.orders if o.status.is_live)  # type: ignore[attr-defined]
    assert live == [D(92 + 2 * i) for i in range(10)]  # a buy on every level but the top


# -- geometric --------------------------------------------------------------------------------
GEOMETRIC = [
    "90.000", "91.824", "93.686", "95.585", "97.522", "99.499", "101.516", "103.573",
    "105.673", "107.815", "110.000",
]  # fmt: skip


def test_geometric_levels_and_empty_level() -> None:
    result = run(settings(mode="geometric"), flat(100.7), EXAMPLE_SPOT)
    state = result.state["symbols"][SYM]
    assert state["levels"] == GEOMETRIC
    assert state["empty"] == 6  # 101.516: 0.816 away, against 1.201 for 99.499
    sent = [c.intent for c in result.commands if isinstance(c, Submit)]
    assert [i.price for i in sent[1:]] == [D(x) for x in GEOMETRIC[:6]]
    assert sent[0].type is OrderType.MARKET
    assert sent[0].qty == 4 * Q  # the four sells at 103.573 .. 110.000


# -- futures, neutral ---------------------------------------------------------------------------
NEUTRAL = settings(symbol=EXAMPLE_SWAP.symbol, direction="neutral", leverage=3)
Q3 = D("2.979")  # floor_to(3000 / (10 · 100.7), 0.001)


def test_futures_neutral_places_no_initial_order_and_nothing_reduce_only() -> None:
    result = run(NEUTRAL, flat(100.7), EXAMPLE_SWAP)
    # The leverage the sizes assume is set on the venue first (grid spec §3).
    assert result.commands[0] == SetLeverage(EXAMPLE_SWAP.symbol, D(3), MarginMode.ISOLATED, 0)
    sent = [c.intent for c in result.commands if isinstance(c, Submit)]
    sym = EXAMPLE_SWAP.symbol
    buys = [_limit(1 + i, OrderSide.BUY, i, Q3, sym) for i in range(5)]  # 90 .. 98
    sells = [_limit(i, OrderSide.SELL, i, Q3, sym) for i in range(6, 11)]  # 102 .. 110
    assert sent == [*buys, *sells]
    assert all(not i.reduce_only and i.position_side is PositionSide.NET for i in sent)


def test_futures_neutral_sell_at_102_leaves_a_short_and_a_buy_at_100() -> None:
    candles = bars([(100.7, 100.7, 100.7, 100.7), (100.7, 102.0, 100.7, 101.5),
                    (101.5, 101.5, 101.5, 101.5)])  # fmt: skip
    result = backtest(NEUTRAL, candles, EXAMPLE_SWAP, "1m")
    sym = EXAMPLE_SWAP.symbol
    assert [(f.fill.client_order_id, f.fill.price) for f in result.fills] == [
        (cid(sym, 6, "s", 6), D(102)),
    ]
    state = result.strategy_state["symbols"][sym]
    assert D(state["inventory"]) == -Q3  # net position −2.979
    live = [o for o in result.orders if o.status.is_live and o.intent.price == D(100)]
    assert len(live) == 1
    buy = live[0].intent
    assert (buy.client_order_id, buy.side, buy.qty, buy.reduce_only) == (
        cid(sym, 11, "b", 5), OrderSide.BUY, Q3, False,
    )  # fmt: skip


def test_geometric_trailing_extends_the_ratio() -> None:
    # Same story as the arithmetic one, run up to 113: the next level above 110 is
    # 90·(110/90)^(11/10) = 112.2297.. -> 112.230; equal_quote sizes the new interval
    # [110, 112.230] at floor_to(1000 / (10 · 110), 0.001) = 0.909.
    story = [*_STORY[:4], (99.5, 113.0, 99.5, 113.0), (113.0, 113.0, 113.0, 113.0)]
    config = settings(mode="geometric", trailing_up=True, order_size_mode="equal_quote")
    result = backtest(config, bars(story), EXAMPLE_SPOT, "1m")
    state = result.strategy_state["symbols"][SYM]
    assert state["levels"] == [*GEOMETRIC[1:], "112.230"]
    assert state["qtys"][-1] == "0.909"
    top_buy = [o for o in result.orders if o.intent.price == D(110) and o.status.is_live]
    assert [(o.intent.side, o.intent.qty) for o in top_buy] == [(OrderSide.BUY, D("0.909"))]
