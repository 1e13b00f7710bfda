"""Event handling that a backtest rarely or never produces, driven through the handlers with
``tbsdk.testing.MemoryContext`` (paper mode: streaming indicators, orders acknowledged, fills
and refusals injected by the test): §8.5 refusals, §8.8 ``on_stop``, §14.3 the pause after
failures, §14.4 residuals, §5.2 intrabar, §17 / §18 state and settings changes.

The candles are the worked example's (spec §20): the long entry is decided at the close of the
``entry`` bar (60 000.0) and fills at the next open, 60 010.0.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tb_strategy_hyperrsi import HyperRsi
from tbsdk import RunMode
from tbsdk.model import (
    CandleClosed,
    Direction,
    Fill,
    FillEvent,
    Liquidity,
    Order,
    OrderStatus,
    OrderUpdate,
    Position,
    PositionMode,
    RejectReason,
    StopReason,
    Tick,
    TimerFired,
)
from tbsdk.testing import Cancel, MemoryContext, Replace, Submit, dispatch

D = Decimal
P = 300_000
BASE: dict[str, Any] = {"use_trend_logic": False, "use_trend_close": False}


class Driver:
    """The strategy in a MemoryContext over the worked example's candles."""

    def __init__(self, hr: Any, *, hedge: bool = False, **settings: Any) -> None:
        self.hr = hr
        self.candles, self.marks = hr.worked_example()
        self.strategy: HyperRsi = hr.strategy("5m", **{**BASE, **settings})
        self.ctx = MemoryContext(
            hr.instrument(),
            mode=RunMode.PAPER,
            now=int(self.candles.ts[0]),
            position_mode=PositionMode.HEDGE if hedge else PositionMode.ONE_WAY,
        )
        self.ctx.add_candles(hr.swap, "5m", self.candles)
        self.ctx.set_equity(D(10_000))
        self.strategy.on_start(self.ctx)
        self.next = 0
        self._trade = 0

    def bars(self, until: int) -> None:
        """Deliver chart bars up to and including ``until``."""
        for i in range(self.next, until + 1):
            close_time = int(self.candles.ts[i]) + P
            self.ctx.set_time(close_time)
            event = CandleClosed(symbol=self.hr.swap, timeframe="5m", candle=self.candles.candle(i))
            dispatch(self.strategy, self.ctx, event)
        self.next = until + 1

    def tag(self, tag: str) -> str:
        return next(
            i.client_order_id
            for i in reversed(self.ctx.submitted)
            if i.client_order_id[12:17] == tag
        )

    def fill(
        self, cid: str, price: str, qty: str | None = None, order: Order | None = None
    ) -> None:
        order = order or self.ctx.order(cid)
        assert order is not None
        self._trade += 1
        q = D(qty) if qty is not None else order.remaining_qty
        fill = Fill(
            client_order_id=cid, trade_id=f"t{self._trade}", symbol=self.hr.swap,
            side=order.intent.side, qty=q, price=D(price), fee=D(0),
            liquidity=Liquidity.TAKER, ts=self.ctx.now(),
        )  # fmt: skip
        # The venue's position first (a MemoryContext has none of its own), then the fill.
        pos = self.strategy.state.position
        sign = 1 if order.intent.side.value == "buy" else -1
        signed = (pos.size if pos.m > 0 else -pos.size) + sign * q
        self.ctx.set_position(
            Position(
                symbol=self.hr.swap,
                direction=Direction.LONG if signed >= 0 else Direction.SHORT,
                size=abs(signed),
                entry_price=(pos.avg or D(price)) if signed else None,
                contract_size=D("0.01"),
            )
        )
        dispatch(self.strategy, self.ctx, FillEvent(fill=fill, order=order.apply_fill(fill)))

    def refuse(self, cid: str, reason: RejectReason) -> None:
        order = self.ctx.order(cid)
        assert order is not None
        intent = order.intent
        refused = Order(intent=intent).transition(
            OrderStatus.REJECTED, at=self.ctx.now(), reason=str(reason)
        )
        dispatch(self.strategy, self.ctx, OrderUpdate(order=refused, reject_reason=reason))

    def enter(self) -> str:
        """Run to the entry, fill it at the next open (60 010.0); return the entry id."""
        self.bars(self.marks["entry"])
        cid = self.tag("ent00")
        self.ctx.set_time(int(self.candles.ts[self.marks["entry"] + 1]) + P)
        self.fill(cid, "60010.0")
        return cid

    def commands_since(self, k: int) -> list[Any]:
        return self.ctx.commands[k:]


def test_on_stop_close_position_cancels_and_closes_at_market(hr: Any) -> None:
    d = Driver(hr, use_sl=True, on_stop_action="close_position")
    d.enter()
    k = len(d.ctx.commands)
    d.strategy.on_stop(d.ctx, StopReason.OPERATOR)
    after = d.commands_since(k)
    canceled = {c.client_order_id[12:17] for c in after if isinstance(c, Cancel)}
    assert canceled == {"tp100", "tp200", "stp00"}
    (exit_,) = [c.intent for c in after if isinstance(c, Submit)]
    assert (exit_.client_order_id[12:17], str(exit_.side), str(exit_.type), exit_.qty) == (
        "xmn00", "sell", "market", D("0.33"),
    )  # fmt: skip
    assert exit_.reduce_only


def test_on_stop_keep_position_leaves_tps_and_stop(hr: Any) -> None:
    d = Driver(hr, use_sl=True)
    d.enter()
    k = len(d.ctx.commands)
    d.strategy.on_stop(d.ctx, StopReason.OPERATOR)
    assert d.commands_since(k) == []
    # A host shutdown changes nothing either: the saved state resumes management.
    d.strategy.on_stop(d.ctx, StopReason.SHUTDOWN)
    assert d.commands_since(k) == []


def test_entries_pause_after_consecutive_failures_and_resume(hr: Any) -> None:
    d = Driver(hr, max_consecutive_entry_failures=1)
    d.bars(d.marks["entry"])
    d.refuse(d.tag("ent00"), RejectReason.INSUFFICIENT_MARGIN)
    st = d.strategy.state
    assert (st.entries_paused, st.consecutive_failures, st.phase) == (True, 1, "flat")
    assert [n.kind for n in d.ctx.notifications if n.kind == "entries_paused"] == ["entries_paused"]
    assert st.bar_lock["long"] == int(d.candles.ts[d.marks["entry"]])
    # Paused: the DCA bar's signal opens nothing.
    k = len(d.ctx.commands)
    d.bars(d.marks["dca"])
    assert d.commands_since(k) == []
    # An operator stop and start resumes entries.
    d.strategy.on_stop(d.ctx, StopReason.OPERATOR)
    saved = d.strategy.save_state()
    again: HyperRsi = hr.strategy("5m", **BASE, max_consecutive_entry_failures=1)
    again.load_state(saved)
    again.on_start(d.ctx)
    assert not again.state.entries_paused


def test_refused_tp_is_retried_then_marked_failed(hr: Any) -> None:
    d = Driver(hr)
    d.enter()
    for rev in range(3):
        cid = d.tag(f"tp10{rev}")
        d.refuse(cid, RejectReason.OTHER)
        level = d.strategy.state.tps[0]
        if rev < 2:
            # Held for this event, re-sent (next revision) at the next one.
            assert level.status == "pending"
            dispatch(d.strategy, d.ctx, TimerFired(name="next_event", ts=d.ctx.now()))
            assert d.tag(f"tp10{rev + 1}")
    assert d.strategy.state.tps[0].status == "failed"
    assert any(n.kind == "tp_failed" for n in d.ctx.notifications)


def test_a_refused_hedge_tp_waits_for_a_later_moment_and_is_given_up_after_three(
    hr: Any,
) -> None:
    d = Driver(hr, hedge=True, use_dual_side_entry=True, dual_side_entry_tp_trigger_type="percent")
    d.enter()
    hedge = d.strategy.state.hedge  # a short hedge of 0.10 at 60 000 (as after §15.2)
    hedge.side, hedge.size, hedge.cost, hedge.entries = "short", D("0.10"), D(6000), 1

    def next_event(after_ms: int) -> list[Any]:
        d.ctx.set_time(d.ctx.now() + after_ms)
        k = len(d.ctx.commands)
        dispatch(d.strategy, d.ctx, TimerFired(name="next_event", ts=d.ctx.now()))
        return [c.intent.client_order_id[12:] for c in d.commands_since(k) if isinstance(c, Submit)]

    assert next_event(0) == ["htp00"]
    tp = d.ctx.order(d.tag("htp00"))
    assert tp is not None
    assert tp.intent.price == D("59820.0")  # 60 000 - 0.3 %
    for rev in range(3):
        k = len(d.ctx.commands)
        d.refuse(d.tag(f"htp0{rev}"), RejectReason.OTHER)
        assert d.commands_since(k) == []  # not again at the moment of the refusal
        assert next_event(0) == []
        sent = next_event(1_000)  # a later moment
        assert sent == ([f"htp0{rev + 1}"] if rev < 2 else [])
    assert [n.kind for n in d.ctx.notifications].count("hedge_order_failed") == 1
    assert hedge.tp_id is None
    assert next_event(60_000) == []


def test_stop_that_would_trigger_immediately_exits_at_market(hr: Any) -> None:
    """§12.3 / §8.5: the break-even stop after TP1 is refused as already crossed: the position
    leaves at market (``xmn``) with the stop's reason, the old stop being kept meanwhile."""
    d = Driver(hr, use_sl=True)
    d.enter()
    d.fill(d.tag("tp100"), "61210.2")  # TP1: 0.09 of 0.33
    be = d.tag("stp01")
    assert d.ctx.order(be) is not None
    k = len(d.ctx.commands)
    d.refuse(be, RejectReason.WOULD_TRIGGER_IMMEDIATELY)
    (exit_,) = [c.intent for c in d.commands_since(k) if isinstance(c, Submit)]
    assert (exit_.client_order_id[12:17], exit_.qty, exit_.reduce_only) == (
        "xmn00",
        D("0.24"),
        True,
    )
    st = d.strategy.state
    assert st.phase == "closing"
    assert st.position.exit_reason == "break_even"
    # The exit fills: everything of the position is canceled, the long cooldown starts.
    d.fill(exit_.client_order_id, "60900.0")
    assert st.phase == "flat"
    assert st.cooldown_until["long"] == d.ctx.now() + 300_000


def test_other_stop_refusals_are_retried_every_10_s(hr: Any) -> None:
    d = Driver(hr, use_sl=True)
    d.enter()
    stop = d.tag("stp00")
    d.refuse(stop, RejectReason.OTHER)
    st = d.strategy.state
    assert st.stop.retry_at == d.ctx.now() + 10_000
    assert d.ctx.timers["protect_retry"] == st.stop.retry_at
    assert {"protective_stop_failed", "position_unprotected"} <= {
        n.kind for n in d.ctx.notifications
    }
    d.ctx.set_time(st.stop.retry_at)
    k = len(d.ctx.commands)
    dispatch(d.strategy, d.ctx, TimerFired(name="protect_retry", ts=st.stop.retry_at))
    (retry,) = [c.intent for c in d.commands_since(k) if isinstance(c, Submit)]
    assert (retry.client_order_id[12:17], retry.trigger_price) == ("stp01", D("57009.5"))


def test_residual_below_one_percent_of_the_peak_is_closed(hr: Any) -> None:
    d = Driver(hr, trailing_stop_active=False, tp1_ratio=99, tp2_ratio="0.5", tp3_ratio="0.5")
    d.enter()
    # TP1 takes floor(0.33 x 0.99) = 0.32; the 0.01 left is not below max(min 0.01,
    # 1 % of 0.33): it stays and trails.
    d.fill(d.tag("tp100"), "61210.2", "0.32")
    st = d.strategy.state
    assert st.position.size == D("0.01")
    assert st.phase == "open"
    d2 = Driver(hr, trailing_stop_active=False, investment=200, tp1_ratio=99, tp2_ratio="0.5",
                tp3_ratio="0.5")  # fmt: skip
    d2.enter()  # 3.33 contracts
    first = d2.tag("tp100")
    k = len(d2.ctx.commands)
    d2.fill(first, "61210.2", str(d2.ctx.order(first).intent.qty))  # type: ignore[union-attr]
    # 3.33 - 3.29 = 0.04 >= max(0.01, 0.0333): kept. Take one more lot off through TP2.
    assert d2.strategy.state.position.size == D("0.04")
    d2.fill(d2.tag("tp200"), "61810.3", "0.01")
    (residual,) = [c.intent for c in d2.commands_since(k) if isinstance(c, Submit)
                   and c.intent.client_order_id[12:15] == "xrs"]  # fmt: skip
    assert (residual.qty, residual.reduce_only, str(residual.type)) == (D("0.03"), True, "market")


def test_intrabar_entry_on_a_provisional_rsi(hr: Any) -> None:
    """§5.2: in intrabar mode a tick evaluates the entry with the RSI stepped once with the tick
    price (not committed); the bar lock then prevents a second entry in that bar."""
    d = Driver(hr, signal_mode="intrabar")
    entry = d.marks["entry"]
    d.bars(entry - 1)
    assert d.ctx.subscriptions[-1].timeframe is None  # ticks subscribed
    tick_ts = int(d.candles.ts[entry]) + 60_000
    d.ctx.set_time(tick_ts)
    k = len(d.ctx.commands)
    # The entry bar's close (60 000.0) as a tick: the same provisional RSI as the bar's.
    dispatch(d.strategy, d.ctx, Tick(symbol=hr.swap, price=D("60000.0"), ts=tick_ts))
    (entry_order,) = [c.intent for c in d.commands_since(k) if isinstance(c, Submit)]
    assert entry_order.client_order_id[12:17] == "ent00"
    assert entry_order.qty == D("0.33")
    assert d.strategy.state.bar_lock["long"] == int(d.candles.ts[entry])
    k = len(d.ctx.commands)
    dispatch(d.strategy, d.ctx, Tick(symbol=hr.swap, price=D("59990.0"), ts=tick_ts + 5_000))
    assert d.commands_since(k) == []


def test_state_of_another_schema_is_not_loaded(hr: Any) -> None:
    d = Driver(hr)
    d.enter()
    saved = d.strategy.save_state()
    fresh: HyperRsi = hr.strategy("5m", **BASE)
    fresh.load_state({**saved, "schema_version": 99})
    assert fresh.state.phase == "flat"
    assert fresh.state.seq == 0


def test_changed_settings_reprice_the_open_position(hr: Any) -> None:
    """§18: TP changes rebuild the open position's ladder when no level has filled."""
    d = Driver(hr)
    d.enter()
    saved = d.strategy.save_state()
    changed: HyperRsi = hr.strategy("5m", **BASE, tp1_value="1.5")
    changed.load_state(saved)
    k = len(d.ctx.commands)
    changed.on_start(d.ctx)
    replaced = [c for c in d.commands_since(k) if isinstance(c, Replace)]
    tp1 = next(c.new for c in replaced if c.new.client_order_id[12:15] == "tp1")
    assert tp1.price == D("60910.2")  # ceil(60 010 x 1.015)
    assert any(n.kind == "settings_applied" and n.data.get("changed") for n in d.ctx.notifications)


@pytest.mark.parametrize("mode", [RunMode.PAPER, RunMode.LIVE])
def test_reconcile_timer_in_paper_and_live_only(hr: Any, mode: RunMode) -> None:
    ctx = MemoryContext(hr.instrument(), mode=mode, now=1_000)
    hr.strategy("5m", **BASE).on_start(ctx)
    assert ctx.timers == {"reconcile": 61_000}
    backtest = MemoryContext(hr.instrument(), mode=RunMode.BACKTEST, now=1_000)
    hr.strategy("5m", **BASE).on_start(backtest)
    assert backtest.timers == {}


def test_a_dca_that_fills_after_the_close_is_closed_again(hr: Any) -> None:
    """A DCA whose cancel lost the race against the position's close: what it opened is
    closed at market at once (reduce-only), never left unmanaged."""
    d = Driver(hr, use_sl=True)
    d.enter()
    d.bars(d.marks["dca"])
    dca = d.tag("d0100")
    sent = d.ctx.order(dca)
    d.ctx.ack_orders = False  # the venue has not answered the cancel yet
    d.fill(d.tag("stp00"), "57009.5", "0.33")  # the stop closes the position first
    assert d.strategy.state.phase == "flat"
    assert isinstance(d.ctx.commands[-1], Cancel)
    k = len(d.ctx.commands)
    d.fill(dca, "58155.0", order=sent)
    (close,) = [c.intent for c in d.commands_since(k) if isinstance(c, Submit)]
    assert (close.client_order_id[12:17], close.qty, close.reduce_only) == (
        "xmn00",
        D("0.34"),
        True,
    )


def test_changed_indicator_settings_rewarm_from_history(hr: Any) -> None:
    """§18: a new ``rsi_length`` discards the saved RSI state; the stream is rebuilt from the
    history at the next bar (the saved position is kept)."""
    d = Driver(hr)
    d.enter()
    saved = d.strategy.save_state()
    assert saved["indicators"], "a paper-mode feed saves its stream states"
    other: HyperRsi = hr.strategy("5m", **BASE, rsi_length=10)
    other.load_state(saved)
    assert other.state.position.size == D("0.33")
    assert other.feed.get_state() == {}
    same: HyperRsi = hr.strategy("5m", **BASE)
    same.load_state(saved)
    assert same.feed.get_state() == saved["indicators"]
