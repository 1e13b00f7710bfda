"""Reconciliation after a position change looks only at the orders whose record changed since
the last one (``ctx.order_changes``), and decides exactly what a pass over every order would:
the same runs on real candles, and unseen fills and stray orders are still caught mid-run."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from classic_kit import BTC_SPOT, BTC_SWAP, backtest, btc_5m, btc_range, run_record, settings
from test_classic_reconcile import SYM, _fill_on_venue, _id, _running

from tb_strategy_grid.config import GridConfig
from tb_strategy_grid.strategy import Grid
from tbhost.engine.context import BotContext
from tbsdk.model import (
    Instrument,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    PositionChanged,
)
from tbsdk.testing import Cancel, MemoryContext, Submit, dispatch

D = Decimal
CANDLES = btc_5m()


@pytest.mark.parametrize(
    ("inst", "over"),
    [
        (BTC_SPOT, {"trailing_up": True, "trailing_up_limit_price": "68000"}),
        (BTC_SWAP, {"mode": "geometric", "direction": "short", "upper_price": "67000",
                    "exit_upper_price": "67500"}),
        (BTC_SWAP, {"direction": "neutral", "order_size_mode": "equal_quote", "leverage": 2}),
        (BTC_SPOT, {"grid_count": 40, "lower_price": "63000", "upper_price": "67000"}),
    ],
)  # fmt: skip
def test_reconciling_what_changed_gives_the_run_of_reconciling_everything(
    inst: Instrument, over: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = btc_range(inst, **over)
    answers: list[frozenset[str] | None] = []
    changes = BotContext.order_changes

    def counted(self: BotContext, since: int | None) -> tuple[int, frozenset[str] | None]:
        mark, ids = changes(self, since)
        answers.append(ids)
        return mark, ids

    monkeypatch.setattr(BotContext, "order_changes", counted)
    incremental = backtest(config, CANDLES, inst, "5m")
    monkeypatch.setattr(BotContext, "order_changes", lambda self, since: (0, None))
    everything = backtest(config, CANDLES, inst, "5m")

    assert len(incremental.fills) > 20
    assert run_record(incremental) == run_record(everything)
    narrowed = [ids for ids in answers if ids is not None]
    assert len(narrowed) >= len(incremental.fills) - 1  # every fill's position change
    assert max(len(ids) for ids in narrowed) < len(incremental.orders)


def test_a_fill_the_grid_never_heard_of_is_answered_at_the_next_position_change() -> None:
    state, ctx = _running()
    grid = Grid(GridConfig.model_validate(settings()))
    grid.load_state(state)
    grid.on_start(ctx)  # reconciles everything and marks the order records
    _fill_on_venue(ctx, _id(6, "b", 4), D(98))  # filled, but no fill event reached the grid
    mark = len(ctx.commands)
    dispatch(grid, ctx, PositionChanged(position=Position(symbol=SYM, size=D(1))))
    assert [c.intent for c in ctx.commands[mark:] if isinstance(c, Submit)] == [
        OrderIntent(
            client_order_id=_id(12, "s", 5), symbol=SYM, side=OrderSide.SELL,
            type=OrderType.LIMIT, qty=D("0.993"), price=D(100), tag="grid_sell",
        )
    ]  # fmt: skip
    assert grid.save_state()["symbols"][SYM]["empty"] == 4


def test_a_stray_order_with_the_prefix_is_canceled_at_the_next_position_change() -> None:
    state, ctx = _running()
    grid = Grid(GridConfig.model_validate(settings()))
    grid.load_state(state)
    grid.on_start(ctx)
    stray = OrderIntent(
        client_order_id=_id(900, "b", 1), symbol=SYM, side=OrderSide.BUY,
        type=OrderType.LIMIT, qty=D("0.993"), price=D(92),
    )  # fmt: skip
    foreign = stray.model_copy(update={"client_order_id": "hsomeoneelse00001"})
    for intent in (stray, foreign):
        ctx.put_order(Order(intent=intent).transition(OrderStatus.SUBMITTED, at=0))
    mark = len(ctx.commands)
    dispatch(grid, ctx, PositionChanged(position=Position(symbol=SYM, size=D(1))))
    assert ctx.commands[mark:] == [Cancel(stray.client_order_id, ctx.now())]


def test_the_memory_context_reports_the_orders_recorded_since_a_mark() -> None:
    ctx = MemoryContext(BTC_SPOT, now=0)
    assert ctx.order_changes(None) == (0, None)
    intent = OrderIntent(
        client_order_id="x1", symbol=BTC_SPOT.symbol, side=OrderSide.BUY,
        type=OrderType.LIMIT, qty=D("0.001"), price=D(60000),
    )  # fmt: skip
    ctx.submit(intent)
    ctx.submit(intent.model_copy(update={"client_order_id": "x2"}))
    assert ctx.order_changes(0) == (2, frozenset({"x1", "x2"}))
    ctx.cancel("x1")
    assert ctx.order_changes(2) == (3, frozenset({"x1"}))
    assert ctx.order_changes(3) == (3, frozenset())
    assert ctx.order_changes(4) == (3, None)  # a mark from elsewhere: look at everything
