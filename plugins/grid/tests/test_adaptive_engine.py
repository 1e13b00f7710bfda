"""The adaptive engine's rules one at a time, on the §7 market (C = 100, step 0.675, neutral,
hedge mode, 10 × 5 per rung, G = 1000): exposure caps, partial fills, refusals and retries,
inactivity, restarts, reconciliation, operator stops and stop-loss races. Each expected order is
worked out in the comments from the spec (grid spec §4.5–§4.9, §4.11, §2, §6)."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from test_adaptive_kit import (
    EXAMPLE_SETTINGS,
    EXAMPLE_SWAP,
    H4,
    KEY,
    M1,
    M15,
    MAKER,
    SYM3,
    SYMBOL,
    T0,
    ExampleBot,
    buy,
    eid,
    ethbtc_5m,
    filled,
    limit,
    sell,
    spec_table,
    tick_candle,
)

from tb_strategy_grid.adaptive.books import Entry, Lot, OrderState, Side
from tb_strategy_grid.config import GridConfig
from tb_strategy_grid.ids import grid_client_id
from tb_strategy_grid.strategy import Grid
from tbsdk import Strategy
from tbsdk.indicators import resample
from tbsdk.model import (
    CandleArrays,
    Instrument,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    PositionChanged,
    PositionMode,
    PositionSide,
    RejectReason,
    StopReason,
    Tick,
    TimerFired,
)
from tbsdk.testing import (
    Cancel,
    MemoryContext,
    Replace,
    RunResult,
    StrategyConformance,
    Submit,
    run_strategy,
    spot_instrument,
)

D = Decimal
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT


def _refused(intent: OrderIntent, at: int) -> Order:
    return Order(intent=intent, created_at=at, updated_at=at).transition(
        OrderStatus.REJECTED, at=at, reason="refused"
    )


def _exit(
    seq: int, rung: int, side: OrderSide, qty: str, book: PositionSide, tag: str
) -> OrderIntent:
    return OrderIntent(
        client_order_id=eid(seq, "x", rung), symbol=SYMBOL, side=side, type=OrderType.MARKET,
        qty=D(qty), position_side=book, reduce_only=True, tag=tag,
    )  # fmt: skip


def _stop(seq: int, trigger: str) -> OrderIntent:
    return OrderIntent(
        client_order_id=eid(seq, "k", 0), symbol=SYMBOL, side=OrderSide.SELL,
        type=OrderType.STOP_MARKET, qty=D(0), trigger_price=D(trigger), position_side=LONG,
        reduce_only=True, close_position=True, tag="stop",
    )  # fmt: skip


# -- exposure (§4.8) -----------------------------------------------------------------------------
def test_overbought_and_the_order_cap_hold_long_entries_back() -> None:
    bot = ExampleBot()
    desk = bot.engine.desk
    book = desk.books[Side.LONG]
    # Three lots of 3.2 at rungs 1-3. At 99.800 their take-profits are below the price, so §4.7
    # bumps them to 99.8 · 1.005 = 100.299 (set so, nothing to re-target).
    for seq, rung, price in ((1, 1, "93.250"), (2, 2, "93.925"), (3, 3, "94.600")):
        book.lots.append(
            Lot(seq, rung, D("3.2"), D(price), T0, D(0), tp_price=D("100.299"),
                tp_cid=eid(seq, "t", rung), tp_rev=0, tp_state=OrderState.OPEN)
        )  # fmt: skip
    desk.seq = 3
    # 9.6 · 99.8 = 958.08 >= 0.95 · 1000: overbought, no long entry; the shorts go on.
    assert bot.step1() == [
        Submit(sell(4, 12, "0.49", "100.675"), T0),
        Submit(sell(5, 13, "0.49", "101.350"), T0),
    ]
    assert bot.engine.needs_every_candle()  # a lower price may lift it
    # A resting long entry at rung 4 (0.52 @ 95.275 = 49.543). At 98.900: 9.6 · 98.9 = 949.44 <
    # 950; rung 8: 949.44 + 49.543 + 0.51 · 97.975 (49.96725) = 1048.95 <= 1050, placed;
    # rung 7: + 0.51 · 97.3 = 1098.57 > 1050, held back. Shorts: k' = 10 -> 11 is new, 12 rests.
    book.entries.append(Entry(6, 4, D("95.275"), D("0.52"), eid(6, "b", 4), OrderState.OPEN))
    desk.seq = 6
    at = T0 + M1
    assert bot.send(tick_candle("1m", T0, "98.900"), at) == [
        Submit(buy(7, 8, "0.51", "97.975"), at),
        Submit(sell(8, 11, "0.50", "100.000"), at),
    ]
    assert bot.engine.needs_every_candle()
    # Back at 99.900 (959.04): overbought again; both short candidates (12, 13) rest already.
    assert bot.send(tick_candle("1m", T0 + M1, "99.900"), T0 + 2 * M1) == []


def test_oversold_holds_short_entries_back() -> None:
    bot = ExampleBot()
    desk = bot.engine.desk
    # A short lot of 9.5 at rung 20 (106.075), its TP bumped below the price: 99.8 · 0.995 =
    # 99.301. 9.5 · 99.8 = 948.1 < 950: the shorts are placed; at 100.1, 950.95: oversold.
    desk.books[Side.SHORT].lots.append(
        Lot(1, 20, D("9.5"), D("106.075"), T0, D(0), tp_price=D("99.301"), tp_cid=eid(1, "t", 20),
            tp_rev=0, tp_state=OrderState.OPEN)
    )  # fmt: skip
    desk.seq = 1
    step = bot.step1()
    assert [c.intent.side for c in step if isinstance(c, Submit)] == [OrderSide.BUY] * 2 + [
        OrderSide.SELL
    ] * 2
    # 100.1: k' = 12 (100.675) -> 13 rests, 14 (102.025) would be new, but 9.5 · 100.1 >= 950.
    # The long side goes on: k* = 11 -> 9 rests, 10 is new (50/99.325 -> 0.50).
    at = T0 + M1
    assert bot.send(tick_candle("1m", T0, "100.100"), at) == [
        Submit(buy(6, 10, "0.50", "99.325"), at)
    ]
    assert bot.engine.needs_every_candle()


# -- prices (§4.6) --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("price", "expected"),
    [
        # 120: k* = 21 -> buys at 20 and 19, both more than 10 % below: half-way, floored.
        # (120 + 106.075)/2 = 113.0375 -> 113.037 (50/113.037 -> 0.44); (120 + 105.4)/2 = 112.7.
        # No level is at or above 120: no short entry.
        ("120.000", [buy(1, 20, "0.44", "113.037"), buy(2, 19, "0.44", "112.700")]),
        # 80: no level below; k' = 0 -> sells at 1 and 2, more than 10 % above: half-way, ceiled.
        # (80 + 93.25)/2 = 86.625 (0.5772 -> 0.57); (80 + 93.925)/2 = 86.9625 -> 86.963 (0.57).
        ("80.000", [sell(1, 1, "0.57", "86.625"), sell(2, 2, "0.57", "86.963")]),
    ],
)
def test_far_rungs_are_placed_half_way(price: str, expected: list[OrderIntent]) -> None:
    bot = ExampleBot()
    bot.send(tick_candle("4h", T0 - H4, price), T0)
    assert bot.send(tick_candle("15m", T0 - M15, price), T0) == [Submit(i, T0) for i in expected]


def test_intrabar_ticks_are_evaluations() -> None:
    bot = ExampleBot(signal_mode="intrabar")
    bot.step1()
    # A tick at 98.900: k* = 9 -> 8 rests, 7 is new; k' = 10 -> 11 is new, 12 rests.
    at = T0 + 20_000
    assert bot.send(Tick(symbol=SYMBOL, price=D("98.900"), ts=at), at) == [
        Submit(buy(5, 7, "0.51", "97.300"), at),
        Submit(sell(6, 11, "0.50", "100.000"), at),
    ]


# -- partial fills and refusals (§4.5, §4.11) -----------------------------------------------------
def test_a_partly_filled_entry_that_is_canceled_becomes_a_lot() -> None:
    bot = ExampleBot()
    bot.step1()
    at = T0 + 5 * M1
    bot.ctx.set_time(at)
    part = filled(bot.ctx, eid(1, "b", 9), "98.650", MAKER, qty="0.20")
    assert part.order.status is OrderStatus.PARTIALLY_FILLED
    assert bot.send(part, at) == []  # a lot exists once the entry is done
    gone = part.order.transition(OrderStatus.EXPIRED, at=at, reason="expired")
    step = bot.send(OrderUpdate(order=gone), at)
    # A lot of the 0.20 filled, its TP at L_10 = 99.325; then the rebalance of §7 step 2.
    assert step == [
        Submit(limit(eid(1, "t", 9), OrderSide.SELL, "0.20", "99.325", LONG, tp=True), at),
        Submit(buy(5, 7, "0.51", "97.300"), at),
        Submit(buy(6, 6, "0.51", "96.625"), at),
        Submit(sell(7, 10, "0.50", "99.325"), at),
        Submit(sell(8, 11, "0.50", "100.000"), at),
    ]
    (lot,) = bot.engine.desk.books[Side.LONG].lots
    assert (lot.qty, lot.price, lot.rung) == (D("0.20"), D("98.650"), 9)


def test_a_margin_refusal_pauses_entries_until_the_next_quarter_hour() -> None:
    bot = ExampleBot()
    bot.step1()
    intent = buy(2, 8, "0.51", "97.975")
    refusal = OrderUpdate(
        order=_refused(intent, T0), reject_reason=RejectReason.INSUFFICIENT_MARGIN
    )
    assert bot.send(refusal, T0) == []
    assert bot.send(tick_candle("1m", T0, "99.800"), T0 + M1) == []  # rung 8 stays empty
    # The next 15m close (same table): entries again, rung 8 with a new seq.
    bot.engine.levels.use_table([T0 - M15, T0], np.array([spec_table(), spec_table()]))
    at = T0 + M15
    assert bot.send(tick_candle("15m", T0, "99.800"), at) == [
        Submit(buy(5, 8, "0.51", "97.975"), at)
    ]


def test_another_refusal_places_the_entry_again_at_the_next_evaluation() -> None:
    bot = ExampleBot(post_only=True)
    bot.step1()
    intent = bot.ctx.order(eid(2, "b", 8))
    assert intent is not None
    assert intent.intent.post_only
    assert (
        bot.send(
            OrderUpdate(order=_refused(intent.intent, T0), reject_reason=RejectReason.OTHER), T0
        )
        == []
    )
    at = T0 + M1
    again = OrderIntent.model_validate(
        {**buy(5, 8, "0.51", "97.975").model_dump(), "post_only": True}
    )
    assert bot.send(tick_candle("1m", T0, "99.800"), at) == [Submit(again, at)]


def test_a_refused_take_profit_is_placed_again_at_the_next_evaluation() -> None:
    bot = ExampleBot()
    bot.step1()
    t2 = T0 + 5 * M1
    bot.fill(eid(1, "b", 9), "98.650", t2)
    tp = limit(eid(1, "t", 9), OrderSide.SELL, "0.50", "99.325", LONG, tp=True)
    assert bot.send(OrderUpdate(order=_refused(tp, t2), reject_reason=RejectReason.OTHER), t2) == []
    assert bot.engine.needs_every_candle()
    # At 98.700 the target is still min(max(99.0446, 99.325), 106.542) = 99.325; next revision.
    # Nothing else is missing: rungs 8, 7 (long) and 11, 12 (short) rest.
    at = t2 + M1
    assert bot.send(tick_candle("1m", t2, "98.700"), at) == [
        Submit(limit(eid(1, "t", 9, 1), OrderSide.SELL, "0.50", "99.325", LONG, tp=True), at)
    ]


# -- inactivity (§4.9) ----------------------------------------------------------------------------
def test_inactivity_counts_from_the_later_of_start_and_the_last_entry_fill() -> None:
    bot = ExampleBot(custom_stop_minutes=60)
    name = f"{SYM3}:inactivity"
    assert bot.ctx.timers == {name: T0 + 60 * M1}  # from the start
    bot.step1()
    t2 = T0 + 5 * M1
    bot.fill(eid(1, "b", 9), "98.650", t2)
    due = t2 + 60 * M1
    assert bot.ctx.timers == {name: due}  # from the entry fill
    del bot.ctx.timers[name]
    step = bot.send(TimerFired(name=name, ts=due), due)
    # Completion: every order canceled, the lot closed at market.
    assert step == [
        Cancel(eid(2, "b", 8), due), Cancel(eid(5, "b", 7), due), Cancel(eid(6, "b", 6), due),
        Cancel(eid(1, "t", 9), due),
        Cancel(eid(3, "s", 12), due), Cancel(eid(4, "s", 13), due), Cancel(eid(7, "s", 10), due),
        Cancel(eid(8, "s", 11), due),
        Submit(_exit(1, 9, OrderSide.SELL, "0.50", LONG, "inactivity"), due),
    ]  # fmt: skip
    assert [(n.kind, n.data["reason"]) for n in bot.ctx.notifications] == [
        ("grid_completed", "inactivity")
    ]
    assert not bot.engine.completed  # until the lot is closed
    bot.fill(eid(1, "x", 9), "98.500", due + M1)
    assert bot.engine.completed
    assert bot.send(tick_candle("1m", due, "97.000"), due + 2 * M1) == []
    # (98.5 − 98.65) · 0.5 = −0.075, fees 0.02 % of 49.325 and of 49.25
    assert bot.engine.desk.realised == D("-0.075") - D("0.009865") - D("0.00985")


# -- restarts and reconciliation (§2, §6) ---------------------------------------------------------
def _through_step3(bot: ExampleBot, *, restart: bool) -> tuple[ExampleBot, list[object]]:
    bot.step1()
    bot.fill(eid(1, "b", 9), "98.650", T0 + 5 * M1)
    if restart:
        # The venue holds the lot's position (MemoryContext reports what it is told).
        bot.ctx.set_position(Position(symbol=SYMBOL, position_side=LONG, size=D("0.50")))
        state = json.loads(json.dumps(bot.strategy.save_state(), allow_nan=False))
        before = len(bot.ctx.commands)
        bot.strategy.on_stop(bot.ctx, StopReason.SHUTDOWN)
        bot.strategy = Grid(GridConfig.model_validate(EXAMPLE_SETTINGS))
        bot.strategy.load_state(state)
        bot.strategy.on_start(bot.ctx)
        assert bot.ctx.commands[before:] == []  # nothing to redo: the venue has every order
        engine = bot.strategy.engines[SYMBOL]
        # (A backtest calls candle_filter again after a restart; here the tables are handed in.)
        engine.levels.use_table(
            [T0 - M15, T0 + M15], np.array([spec_table(), spec_table("100.275")])
        )
        bot.engine = engine  # type: ignore[assignment]
    after = bot.send(tick_candle("15m", T0 + M15, "98.900"), T0 + 2 * M15)
    return bot, after + bot.fill(eid(9, "b", 7), "97.575", T0 + 2 * M15 + 3 * M1)


def test_a_restart_continues_exactly() -> None:
    whole, expected = _through_step3(ExampleBot(), restart=False)
    restarted, got = _through_step3(ExampleBot(), restart=True)
    assert len(expected) == 17
    assert got == expected
    assert restarted.strategy.save_state()["symbols"] == whole.strategy.save_state()["symbols"]


def test_reconciliation_at_start() -> None:
    bot = ExampleBot()
    bot.step1()
    state = json.loads(json.dumps(bot.strategy.save_state()))
    # The state as persisted just before the host sent s12: its id is pending_submit.
    (s12,) = [e for e in state["symbols"][SYMBOL]["books"]["short"]["entries"] if e["rung"] == 12]
    s12["state"] = "pending_submit"
    # Meanwhile on the venue: b09 rests, b08 filled (0.51 @ 97.975), s13 was canceled, s12 never
    # arrived (it was still pending_submit), and an order of this grid the books do not know.
    at = T0 + 10 * M1
    ctx = MemoryContext(EXAMPLE_SWAP, position_mode=PositionMode.HEDGE, now=at)
    for tf in ("1m", "15m", "4h"):
        ctx.add_candles(SYMBOL, tf, CandleArrays.empty())
    old = bot.ctx
    for seq, rung, letter in ((1, 9, "b"), (2, 8, "b"), (4, 13, "s")):
        order = old.order(eid(seq, letter, rung))
        assert order is not None
        ctx.put_order(order)
    ctx.put_order(filled(old, eid(2, "b", 8), "97.975", MAKER).order)
    b8 = ctx.order(eid(2, "b", 8))
    assert b8 is not None
    assert b8.status is OrderStatus.FILLED
    s13 = ctx.order(eid(4, "s", 13))
    assert s13 is not None
    ctx.put_order(s13.transition(OrderStatus.CANCELED, at=at, reason="venue"))
    stranger = buy(99, 5, "0.51", "95.950")
    ctx.put_order(
        Order(intent=stranger)
        .transition(OrderStatus.SUBMITTED, at=at)
        .transition(OrderStatus.OPEN, at=at)
    )
    ctx.set_position(Position(symbol=SYMBOL, position_side=LONG, size=D("0.51")))

    strategy = Grid(GridConfig.model_validate(EXAMPLE_SETTINGS))
    strategy.load_state(state)
    strategy.on_start(ctx)
    # s12 again under its id; the lot of b08 gets its TP at L_9 (98.650) and a rebalance at its
    # fill price 97.975: k* = 7 -> buys at 6 (96.625, 0.51) and 5 (95.950, 50/95.95 -> 0.52);
    # k' = 8 -> sells at 9 (98.650, 0.50) and 10 (99.325, 0.50); the stranger is canceled.
    assert ctx.commands == [
        Submit(sell(3, 12, "0.49", "100.675"), at),
        Submit(limit(eid(2, "t", 8), OrderSide.SELL, "0.51", "98.650", LONG, tp=True), at),
        Submit(buy(5, 6, "0.51", "96.625"), at),
        Submit(buy(6, 5, "0.52", "95.950"), at),
        Submit(sell(7, 9, "0.50", "98.650"), at),
        Submit(sell(8, 10, "0.50", "99.325"), at),
        Cancel(stranger.client_order_id, at),
    ]
    assert stranger.client_order_id == grid_client_id(KEY, SYM3, 99, "b", 5, 0)


def test_an_externally_closed_position_clears_the_lots() -> None:
    bot = ExampleBot()
    bot.step1()
    t2 = T0 + 5 * M1
    bot.fill(eid(1, "b", 9), "98.650", t2)
    flat = PositionChanged(position=Position(symbol=SYMBOL, position_side=LONG))
    assert bot.send(flat, t2 + M1) == [Cancel(eid(1, "t", 9), t2 + M1)]
    assert bot.engine.desk.books[Side.LONG].lots == []


# -- operator stops (§3) --------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["cancel_orders", "close_all"])
def test_an_operator_stop(action: str) -> None:
    bot = ExampleBot(on_stop_action=action)
    bot.step1()
    t2 = T0 + 5 * M1
    bot.fill(eid(1, "b", 9), "98.650", t2)
    before = len(bot.ctx.commands)
    bot.strategy.on_stop(bot.ctx, StopReason.OPERATOR)
    expected: list[object] = [
        Cancel(eid(2, "b", 8), t2), Cancel(eid(5, "b", 7), t2), Cancel(eid(6, "b", 6), t2),
        Cancel(eid(1, "t", 9), t2),
        Cancel(eid(3, "s", 12), t2), Cancel(eid(4, "s", 13), t2), Cancel(eid(7, "s", 10), t2),
        Cancel(eid(8, "s", 11), t2),
    ]  # fmt: skip
    if action == "close_all":
        expected.append(Submit(_exit(1, 9, OrderSide.SELL, "0.50", LONG, "close_all"), t2))
    assert bot.ctx.commands[before:] == expected
    # A restart (shutdown) leaves everything on the venue.
    again = ExampleBot()
    again.step1()
    before = len(again.ctx.commands)
    again.strategy.on_stop(again.ctx, StopReason.SHUTDOWN)
    assert again.ctx.commands[before:] == []


def test_after_an_operator_stop_a_restart_resumes_the_grid() -> None:
    bot = ExampleBot()
    bot.step1()
    t2 = T0 + 5 * M1
    bot.fill(eid(1, "b", 9), "98.650", t2)
    bot.strategy.on_stop(bot.ctx, StopReason.OPERATOR)
    for update in bot.ctx.take_updates():  # the venue confirms the cancels
        bot.send(update, t2)
    bot.ctx.set_position(Position(symbol=SYMBOL, position_side=LONG, size=D("0.50")))
    state = json.loads(json.dumps(bot.strategy.save_state()))
    bot.strategy = Grid(GridConfig.model_validate(EXAMPLE_SETTINGS))
    bot.strategy.load_state(state)
    before = len(bot.ctx.commands)
    bot.strategy.on_start(bot.ctx)
    assert bot.ctx.commands[before:] == []
    # The next evaluation (98.700) places the lot's take-profit again (next revision, target
    # 99.325) and the entries: k* = 9 -> buys at 8, 7; k' = 10 -> sells at 11, 12.
    at = t2 + M1
    assert bot.send(tick_candle("1m", t2, "98.700"), at) == [
        Submit(limit(eid(1, "t", 9, 1), OrderSide.SELL, "0.50", "99.325", LONG, tp=True), at),
        Submit(buy(9, 8, "0.51", "97.975"), at),
        Submit(buy(10, 7, "0.51", "97.300"), at),
        Submit(sell(11, 11, "0.50", "100.000"), at),
        Submit(sell(12, 12, "0.49", "100.675"), at),
    ]


# -- stop-loss (§4.9) -----------------------------------------------------------------------------
def test_the_side_stop_follows_the_lots_and_a_replaced_stop_that_fills_is_booked() -> None:
    bot = ExampleBot(stop_loss_pct="1")
    bot.step1()
    t2 = T0 + 5 * M1
    step2 = bot.fill(eid(1, "b", 9), "98.650", t2)
    # After the TP: a stop at 98.65 · 0.99 = 97.6635 -> 97.663 (down: away from the long), seq 5.
    assert step2[:2] == [
        Submit(limit(eid(1, "t", 9), OrderSide.SELL, "0.50", "99.325", LONG, tp=True), t2),
        Submit(_stop(5, "97.663"), t2),
    ]
    old_stop = bot.ctx.order(eid(5, "k", 0))
    assert old_stop is not None
    # The second lot moves it: avg (0.50·98.65 + 0.51·97.975)/1.01 = 98.30916... · 0.99 =
    # 97.32607... -> 97.326, placed before the old one is canceled.
    bot.ctx.ack_orders = False  # the cancel of the old stop will not arrive: it fills first
    t3 = t2 + 10 * M1
    step3 = bot.fill(eid(2, "b", 8), "97.975", t3)
    assert step3[:2] == [
        Submit(limit(eid(2, "t", 8), OrderSide.SELL, "0.51", "98.650", LONG, tp=True), t3),
        Replace(eid(5, "k", 0), _stop(10, "97.326"), t3),
    ]
    # The old stop fills at 97.663 for the whole book (1.01), taker 0.05 %.
    t4 = t3 + M1
    bot.ctx.set_time(t4)
    stop_fill = filled(bot.ctx, eid(5, "k", 0), "97.663", D("0.0005"), qty="1.01", order=old_stop)
    step4 = bot.send(stop_fill, t4)
    assert step4[:3] == [
        Cancel(eid(10, "k", 0), t4),
        Cancel(eid(1, "t", 9), t4),
        Cancel(eid(2, "t", 8), t4),
    ]
    assert not [c for c in step4 if isinstance(c, Submit)]  # nothing left to close
    desk = bot.engine.desk
    assert desk.books[Side.LONG].lots == []
    assert bot.engine.completed
    assert bot.engine.completion == "stop_loss"
    gross = (D("97.663") - D("98.65")) * D("0.50") + (D("97.663") - D("97.975")) * D("0.51")
    fees = D("0.009865") + D("97.975") * D("0.51") * MAKER + D("97.663") * D("1.01") * D("0.0005")
    assert desk.realised == gross - fees


def test_a_stop_refused_as_already_crossed_completes_the_symbol() -> None:
    bot = ExampleBot(stop_loss_pct="1")
    bot.step1()
    t2 = T0 + 5 * M1
    bot.fill(eid(1, "b", 9), "98.650", t2)
    refusal = OrderUpdate(
        order=_refused(_stop(5, "97.663"), t2), reject_reason=RejectReason.WOULD_TRIGGER_IMMEDIATELY
    )
    step = bot.send(refusal, t2)
    assert step[-1] == Submit(_exit(1, 9, OrderSide.SELL, "0.50", LONG, "stop_loss"), t2)
    assert Cancel(eid(5, "k", 0), t2) not in step  # it is not on the venue
    assert bot.engine.completion == "stop_loss"


# -- the SDK's conformance suite, on 20 days of ETH/BTC ------------------------------------------
class TestAdaptiveConformance(StrategyConformance):
    @pytest.fixture
    def strategy_class(self) -> type[Strategy[Any]]:
        return Grid

    @pytest.fixture
    def strategy_settings(self) -> dict[str, Any]:
        return {
            "mode": "adaptive", "symbols": ["ETH/BTC"], "level_capital": ["1"],
            "eval_timeframe": "5m", "warmup_bars": 200,
        }  # fmt: skip

    @pytest.fixture
    def conformance_candles(self) -> CandleArrays:
        return ethbtc_5m()

    @pytest.fixture
    def conformance_symbol(self) -> str:
        return "ETH/BTC"

    @pytest.fixture
    def conformance_run(
        self,
        strategy_settings: dict[str, Any],
        conformance_candles: CandleArrays,
        conformance_instrument: Instrument,
    ) -> Any:
        # The harness delivers the chart timeframe only; the 15m and 4h candles are history,
        # which the engine reads before every evaluation.
        c = conformance_candles
        extra = {
            ("ETH/BTC", tf): CandleArrays(h.open_time, h.open, h.high, h.low, h.close, h.volume)
            for tf in ("15m", "4h")
            for h in [resample(c.ts, c.open, c.high, c.low, c.close, c.volume, "5m", tf)]
        }

        def run() -> RunResult:
            return run_strategy(
                Grid.from_settings(strategy_settings), c, "ETH/BTC", "5m", conformance_instrument,
                extra_candles=extra,
            )  # fmt: skip

        return run

    def test_the_instrument_is_the_bundled_ethbtc(self, conformance_instrument: Instrument) -> None:
        assert conformance_instrument == spot_instrument("ETH/BTC")


def test_unusable_indicator_state_is_rewarmed_from_history(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = ExampleBot()
    bot.step1()
    state = json.loads(json.dumps(bot.strategy.save_state()))
    engine_state = state["symbols"][SYMBOL]
    engine_state["indicators"] = {"levels": {"stream": {"indicator": "other"}, "ts": 1}}
    restored = Grid(GridConfig.model_validate(EXAMPLE_SETTINGS))
    restored.load_state(state)
    with caplog.at_level("WARNING"):
        restored.on_start(bot.ctx)
    assert "re-warming from history" in caplog.text
    engine = restored.engines[SYMBOL]
    # The books, the table and the regime came through; only the indicator streams start over.
    assert engine.save_state()["books"] == engine_state["books"]
    assert engine.save_state()["market"] == engine_state["market"]
    assert engine.save_state()["indicators"]["levels"]["ts"] is None
