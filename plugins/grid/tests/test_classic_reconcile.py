"""Restart and reconciliation (grid spec §2, §6): a restarted grid resumes from its state,
re-sends only what the venue never received (same ids), takes in fills that happened while it
was down, retries orders the venue ended, and cancels unknown orders carrying its prefix."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from classic_kit import EXAMPLE_SPOT, TEST_ACCOUNT, TEST_BOT, cid, flat, run, settings

from tb_strategy_grid.config import GridConfig
from tb_strategy_grid.strategy import Grid
from tbsdk.model import (
    CandleClosed,
    Fill,
    FillEvent,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
)
from tbsdk.testing import Cancel, MemoryContext, Submit, dispatch

D = Decimal
SYM = EXAMPLE_SPOT.symbol
Q = D("0.993")


def _id(seq: int, letter: str, level: int, rev: int = 0) -> str:
    return cid(SYM, seq, letter, level, rev, account=TEST_ACCOUNT, bot=TEST_BOT)


def _running() -> tuple[dict[str, Any], MemoryContext]:
    """A §8 grid started at 100.7 whose initial buy filled; its state and its venue."""
    ctx = MemoryContext(EXAMPLE_SPOT, now=0)
    first = run(settings(), flat(100.7), EXAMPLE_SPOT, ctx=ctx)
    grid = Grid(GridConfig.model_validate(settings()))
    grid.load_state(first.state)
    grid.on_start(ctx)
    _fill_on_venue(ctx, _id(1, "i", 5), D("100.7"))
    order = ctx.order(_id(1, "i", 5))
    assert order is not None
    dispatch(grid, ctx, FillEvent(fill=_fill(order, D("100.7"), ctx.now()), order=order))
    return grid.save_state(), ctx


def _fill(order: Order, price: Decimal, ts: int) -> Fill:
    return Fill(
        client_order_id=order.client_order_id, trade_id=f"t{order.client_order_id}",
        symbol=SYM, side=order.intent.side, qty=order.intent.qty, price=price, ts=ts,
    )  # fmt: skip


def _fill_on_venue(ctx: MemoryContext, client_id: str, price: Decimal) -> None:
    order = ctx.order(client_id)
    assert order is not None
    ctx.put_order(order.apply_fill(_fill(order, price, ctx.now())))


def _restart(state: dict[str, Any], ctx: MemoryContext) -> tuple[Grid, list[Any]]:
    mark = len(ctx.commands)
    grid = Grid(GridConfig.model_validate(settings()))
    grid.load_state(state)
    grid.on_start(ctx)
    return grid, ctx.commands[mark:]


def test_a_restart_against_an_unchanged_venue_sends_nothing() -> None:
    state, ctx = _running()
    grid, sent = _restart(state, ctx)
    assert sent == []
    assert grid.save_state() == state


def test_orders_the_venue_never_received_are_sent_again_unchanged() -> None:
    state, ctx = _running()
    submitted = [c.intent for c in ctx.commands if isinstance(c, Submit)]
    live = [i for i in submitted if i.type is OrderType.LIMIT]
    fresh = MemoryContext(EXAMPLE_SPOT, now=ctx.now())  # the venue lost them all
    _, sent = _restart(state, fresh)
    assert sorted(
        (c.intent for c in sent if isinstance(c, Submit)), key=lambda i: i.client_order_id
    ) == sorted(live, key=lambda i: i.client_order_id)
    assert len(sent) == len(live)


def test_a_fill_while_down_is_answered_on_restart() -> None:
    state, ctx = _running()
    _fill_on_venue(ctx, _id(6, "b", 4), D(98))  # the buy at 98 filled while the bot was down
    grid, sent = _restart(state, ctx)
    assert [c.intent for c in sent] == [
        OrderIntent(
            client_order_id=_id(12, "s", 5), symbol=SYM, side=OrderSide.SELL,
            type=OrderType.LIMIT, qty=Q, price=D(100), tag="grid_sell",
        )
    ]  # fmt: skip
    assert grid.save_state()["symbols"][SYM]["empty"] == 4


def test_unknown_orders_with_the_instance_prefix_are_canceled() -> None:
    state, ctx = _running()
    stray = OrderIntent(
        client_order_id=_id(900, "b", 1), symbol=SYM, side=OrderSide.BUY,
        type=OrderType.LIMIT, qty=Q, price=D(92),
    )  # fmt: skip
    foreign = stray.model_copy(update={"client_order_id": "hsomeoneelse00001"})
    for intent in (stray, foreign):
        order = Order(intent=intent).transition(OrderStatus.SUBMITTED, at=0)
        ctx.put_order(order.transition(OrderStatus.OPEN, at=0))
    _, sent = _restart(state, ctx)
    assert sent == [Cancel(stray.client_order_id, ctx.now())]


def test_an_order_the_venue_ended_while_down_is_retried() -> None:
    state, ctx = _running()
    buy96 = ctx.order(_id(5, "b", 3))
    assert buy96 is not None
    ctx.put_order(buy96.transition(OrderStatus.CANCELED, at=ctx.now(), reason="venue"))
    grid, sent = _restart(state, ctx)
    assert sent == []  # retried at the next evaluation, not in on_start
    ctx.set_time(ctx.now() + 60_000)
    candle = flat(100.5).candle(0).model_copy(update={"ts": ctx.now() - 60_000})
    mark = len(ctx.commands)
    dispatch(grid, ctx, CandleClosed(symbol=SYM, timeframe="1m", candle=candle))
    sent = ctx.commands[mark:]
    assert [c.intent.client_order_id for c in sent if isinstance(c, Submit)] == [
        _id(5, "b", 3, rev=1)
    ]
    assert len(sent) == 1
