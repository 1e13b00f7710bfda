"""Fill handling of the classic grid (grid spec §5.5), refusals and retries, the deferred
counter-order of a candle that crosses two levels, and ``on_stop_action`` (§3).

Driven through ``run_strategy`` / ``MemoryContext`` with fills and refusals delivered by hand,
so every emitted order can be asserted exactly; the two-level candle runs on the paper venue.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

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

from tb_strategy_grid.classic_base import MAX_REJECTS
from tb_strategy_grid.config import GridConfig
from tb_strategy_grid.strategy import Grid
from tbsdk.model import (
    CandleClosed,
    Direction,
    Fill,
    FillEvent,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    RejectReason,
    StopReason,
    Tick,
)
from tbsdk.testing import Cancel, MemoryContext, Submit, dispatch

D = Decimal
SYM = EXAMPLE_SPOT.symbol
Q = D("0.993")


class _Ctx(MemoryContext):
    """Records ``deliver_every_candle`` requests."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.every: list[bool] = []

    def deliver_every_candle(self, symbol: str, timeframe: str, on: bool = True) -> None:
        self.every.append(on)


def _id(seq: int, letter: str, level: int, rev: int = 0, symbol: str = SYM) -> str:
    return cid(symbol, seq, letter, level, rev, account=TEST_ACCOUNT, bot=TEST_BOT)


def _started(config: dict[str, Any] | None = None) -> tuple[Grid, _Ctx]:
    """A started §8 grid (spot long at 100.7) whose initial buy has filled."""
    ctx = _Ctx(EXAMPLE_SPOT, now=0)
    result = run(config or settings(), flat(100.7), EXAMPLE_SPOT, ctx=ctx)
    grid = Grid(GridConfig.model_validate(config or settings()))
    grid.load_state(result.state)
    grid.on_start(ctx)
    _fill(grid, ctx, _id(1, "i", 5), D("4.965"), D("100.7"))
    return grid, ctx


def _fill(
    grid: Grid, ctx: MemoryContext, client_id: str, qty: Decimal, price: Decimal,
    order: Order | None = None,
) -> None:  # fmt: skip
    order = order or ctx.order(client_id)
    assert order is not None, client_id
    fill = Fill(
        client_order_id=client_id, trade_id=f"t{ctx.now()}{client_id}", symbol=order.intent.symbol,
        side=order.intent.side, qty=qty, price=price, fee=qty * price * D("0.001"), ts=ctx.now(),
    )  # fmt: skip
    dispatch(grid, ctx, FillEvent(fill=fill, order=order.apply_fill(fill)))


def _end(grid: Grid, ctx: MemoryContext, client_id: str, status: OrderStatus,
         reason: RejectReason | None = None) -> None:  # fmt: skip
    # A refusal happens before the venue opens the order; a cancel after.
    intent = next(i for i in ctx.submitted if i.client_order_id == client_id)
    order = ctx.order(client_id) if status is OrderStatus.CANCELED else None
    ended = (order or Order(intent=intent)).transition(status, at=ctx.now(), reason="test")
    ctx.put_order(ended)
    dispatch(grid, ctx, OrderUpdate(order=ended, reject_reason=reason))


def _candle(grid: Grid, ctx: MemoryContext, close: float) -> None:
    ctx.set_time(ctx.now() + 60_000)
    candle = flat(close).candle(0).model_copy(update={"ts": ctx.now() - 60_000})
    dispatch(grid, ctx, CandleClosed(symbol=SYM, timeframe="1m", candle=candle))


def _sent_since(ctx: MemoryContext, mark: int) -> list[Any]:
    return ctx.commands[mark:]


def _state(grid: Grid) -> dict[str, Any]:
    state: dict[str, Any] = grid.save_state()["symbols"][SYM]
    return state


def _limit(seq: int, side: OrderSide, level: int, qty: Decimal = Q, rev: int = 0) -> OrderIntent:
    letter = "b" if side is OrderSide.BUY else "s"
    return OrderIntent(
        client_order_id=_id(seq, letter, level, rev), symbol=SYM, side=side, type=OrderType.LIMIT,
        qty=qty, price=D(90 + 2 * level), tag=f"grid_{side.value}",
    )  # fmt: skip


def test_partial_fills_wait_for_completion() -> None:
    grid, ctx = _started()
    mark = len(ctx.commands)
    buy98 = _id(6, "b", 4)
    _fill(grid, ctx, buy98, D("0.5"), D(98))
    assert _sent_since(ctx, mark) == []
    assert D(_state(grid)["inventory"]) == D("4.965") + D("0.5")
    _fill(grid, ctx, buy98, D("0.493"), D(98))
    assert [c.intent for c in _sent_since(ctx, mark)] == [_limit(12, OrderSide.SELL, 5)]
    assert _state(grid)["empty"] == 4


def test_a_refused_order_is_retried_at_the_next_evaluation_as_a_new_revision() -> None:
    grid, ctx = _started(settings(post_only=True))
    buy96 = _id(5, "b", 3)
    _end(grid, ctx, buy96, OrderStatus.REJECTED, RejectReason.OTHER)  # e.g. post-only crossing
    assert ctx.every == [True]  # the next candles must reach the strategy, whatever the mask
    mark = len(ctx.commands)
    _candle(grid, ctx, 100.5)
    retry = _limit(5, OrderSide.BUY, 3, rev=1).model_copy(update={"post_only": True})
    assert [c.intent for c in _sent_since(ctx, mark)] == [retry]
    assert ctx.every == [True, False]


def test_repeated_refusals_mark_the_level_failed_and_tell_the_operator() -> None:
    grid, ctx = _started()
    for rev in range(MAX_REJECTS):
        _end(grid, ctx, _id(5, "b", 3, rev), OrderStatus.REJECTED, RejectReason.INSUFFICIENT_MARGIN)
        _candle(grid, ctx, 100.5)
    slot = _state(grid)["slots"][3]
    assert (slot["status"], slot["rev"], slot["rejects"]) == ("failed", MAX_REJECTS - 1, 5)
    assert ctx.notifications[-1].kind == "error"
    assert "refused 5 times in a row" in ctx.notifications[-1].message


def test_a_duplicate_id_refusal_is_not_retried() -> None:
    grid, ctx = _started()
    _end(grid, ctx, _id(5, "b", 3), OrderStatus.REJECTED, RejectReason.DUPLICATE_CLIENT_ID)
    mark = len(ctx.commands)
    _candle(grid, ctx, 100.5)
    assert _sent_since(ctx, mark) == []
    assert _state(grid)["slots"][3]["status"] == "open"


def test_a_refused_initial_order_stops_the_grid() -> None:
    ctx = _Ctx(EXAMPLE_SPOT, now=0)
    result = run(settings(), flat(100.7), EXAMPLE_SPOT, ctx=ctx)
    grid = Grid(GridConfig.model_validate(settings()))
    grid.load_state(result.state)
    grid.on_start(ctx)
    mark = len(ctx.commands)
    _end(grid, ctx, _id(1, "i", 5), OrderStatus.CANCELED, None)
    cancels = [c.client_order_id for c in _sent_since(ctx, mark) if isinstance(c, Cancel)]
    assert cancels == [_id(2 + i, "b", i) for i in range(5)]
    assert not [c for c in _sent_since(ctx, mark) if isinstance(c, Submit)]
    assert _state(grid)["phase"] == "stopped"
    assert any(n.kind == "error" and "initial order" in n.message for n in ctx.notifications)


def test_operator_stop_cancels_orders_and_keeps_inventory() -> None:
    grid, ctx = _started()
    mark = len(ctx.commands)
    grid.on_stop(ctx, StopReason.OPERATOR)
    sent = _sent_since(ctx, mark)
    assert all(isinstance(c, Cancel) for c in sent)
    assert len(sent) == 10  # five buys, five sells
    assert _state(grid)["phase"] == "stopped"


def test_operator_stop_with_close_all_also_sells_the_inventory() -> None:
    grid, ctx = _started(settings(on_stop_action="close_all"))
    mark = len(ctx.commands)
    grid.on_stop(ctx, StopReason.OPERATOR)
    sent = _sent_since(ctx, mark)
    assert [type(c) for c in sent] == [Cancel] * 10 + [Submit]
    assert sent[-1].intent == OrderIntent(
        client_order_id=_id(12, "x", 0), symbol=SYM, side=OrderSide.SELL, type=OrderType.MARKET,
        qty=D("4.965"), tag="grid_exit",
    )  # fmt: skip


def test_a_shutdown_leaves_everything_resting() -> None:
    grid, ctx = _started(settings(on_stop_action="close_all"))
    mark = len(ctx.commands)
    grid.on_stop(ctx, StopReason.SHUTDOWN)
    grid.on_stop(ctx, StopReason.FINISHED)
    assert _sent_since(ctx, mark) == []
    assert _state(grid)["phase"] == "running"


def test_futures_close_all_uses_the_venue_position_reduce_only() -> None:
    config = settings(symbol=EXAMPLE_SWAP.symbol, on_stop_action="close_all")
    ctx = _Ctx(EXAMPLE_SWAP, now=0)
    result = run(config, flat(100.7), EXAMPLE_SWAP, ctx=ctx)
    grid = Grid(GridConfig.model_validate(config))
    grid.load_state(result.state)
    grid.on_start(ctx)
    ctx.set_position(Position(symbol=EXAMPLE_SWAP.symbol, direction=Direction.LONG, size=D(7)))
    grid.on_stop(ctx, StopReason.REMOVED)
    last = ctx.submitted[-1]
    assert (last.type, last.side, last.qty, last.reduce_only) == (
        OrderType.MARKET, OrderSide.SELL, D(7), True,
    )  # fmt: skip


# A candle that crosses two levels: up through 102, then down through 98 (o -> h -> l -> c).
_CROSS = [
    (100.7, 100.7, 100.7, 100.7),  # start
    (100.7, 100.7, 100.7, 100.7),  # initial fill; sells placed
    (100.7, 102.0, 97.5, 97.9),  # sell 102 fills, then buy 98 fills; 100 gets the buy first
    (97.9, 97.9, 97.9, 97.9),  # that buy at 100 is marketable: it fills at this open
    (97.9, 97.9, 97.9, 97.9),
]


def test_a_candle_crossing_two_levels_defers_the_second_counter_order() -> None:
    result = backtest(settings(), bars(_CROSS), EXAMPLE_SPOT, "1m")
    sym = SYM
    fills = [(f.fill.client_order_id, f.fill.price) for f in result.fills]
    assert fills == [
        (cid(sym, 1, "i", 5), D("100.7")),
        (cid(sym, 7, "s", 6), D(102)),  # counter: buy at 100 (seq 12)
        (cid(sym, 6, "b", 4), D(98)),  # counter owed to 100: a sell (seq 13), deferred
        (cid(sym, 12, "b", 5), D("97.9")),  # the buy at 100, taken at the open
    ]
    by_id = {o.client_order_id: o for o in result.orders}
    deferred = by_id[cid(sym, 13, "s", 5)]
    assert (deferred.intent.side, deferred.intent.price, deferred.intent.qty) == (
        OrderSide.SELL, D(100), Q,
    )  # fmt: skip
    assert deferred.created_at == result.fills[-1].fill.ts  # placed when 100 became free
    again = by_id[cid(sym, 14, "s", 6)]  # the buy at 100's own counter, back at 102
    assert (again.intent.price, again.created_at) == (D(102), result.fills[-1].fill.ts)
    state = result.strategy_state["symbols"][sym]
    assert state["empty"] == 4  # 98: exactly one level without an order again
    assert [s is None for s in state["slots"]] == [i == 4 for i in range(11)]
    assert state["deferred"] == {}


def test_an_initial_fill_after_the_grid_stopped_places_nothing() -> None:
    ctx = _Ctx(EXAMPLE_SPOT, now=0)
    result = run(settings(), flat(100.7), EXAMPLE_SPOT, ctx=ctx)
    grid = Grid(GridConfig.model_validate(settings()))
    grid.load_state(result.state)
    grid.on_start(ctx)
    live = ctx.order(_id(1, "i", 5))
    grid.on_stop(ctx, StopReason.OPERATOR)  # cancels the initial buy too...
    mark = len(ctx.commands)
    _fill(grid, ctx, _id(1, "i", 5), D("4.965"), D("100.7"), live)  # ...but it had filled
    assert _sent_since(ctx, mark) == []
    state = _state(grid)
    assert (state["phase"], D(state["inventory"])) == ("stopped", D("4.965"))


def test_intrabar_ticks_evaluate_too() -> None:
    config = settings(signal_mode="intrabar")
    ctx = _Ctx(EXAMPLE_SPOT, now=0)
    ctx.add_candles(SYM, "1m", flat(100.7))
    grid = Grid(GridConfig.model_validate(config))
    grid.on_start(ctx)
    assert any(s.timeframe is None and s.min_interval_s == 5.0 for s in ctx.subscriptions)
    dispatch(grid, ctx, Tick(symbol=SYM, price=D("100.7"), ts=1_000))
    assert _state(grid)["p0"] == "100.7"
    assert ctx.submitted[0].type is OrderType.MARKET
