"""The classic grid engine: fixed-range arithmetic and geometric grids (grid spec §5).

One resting order per level, the level nearest the start price empty; every complete fill is
answered by the opposite order on the neighbouring level (§5.5), so exactly one level stays
empty and it is the level of the last fill. Optional trailing-up (§5.6) and range exits (§5.7).

Backtest speed (``candle_filter``): the engine acts on an evaluation candle only to start (close
inside the range while waiting), to exit (close beyond an exit price), to trail (close at or
above the next level over the top), or to retry a refused order. The first three are price
tests the mask answers for the whole series; retries switch ``deliver_every_candle`` on until
they are placed. Fills come from the venue and need no candle.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from tbsdk import RunMode, StrategyContext
from tbsdk.errors import ConfigError
from tbsdk.model import (
    CandleArrays,
    CandleClosed,
    Order,
    OrderSide,
    StopReason,
    Tick,
)
from tbsdk.money import floor_to

from .classic_base import RECONCILE_INTERVAL_MS, ClassicBase
from .classic_levels import check_intervals, thin_interval_warning
from .classic_orders import OrderFactory
from .classic_sizing import interval_quantities, interval_quantity
from .classic_state import Leg, OrderSlot, Phase, SlotStatus
from .config import GridDirection, OnStopAction, RangeExitAction
from .market_rules import check_market

__all__ = ["ClassicEngine"]

_TOL = 1e-9  # relative widening of the float mask tests: a superset of the Decimal tests


class ClassicEngine(ClassicBase):
    """A classic grid on one symbol (``mode`` arithmetic or geometric)."""

    def on_start(self, ctx: StrategyContext) -> None:
        inst = ctx.instrument(self.symbol)
        check_market(self.config, inst, ctx.position_mode)
        self._inst = inst
        self._orders = OrderFactory(self.config, inst, ctx.position_mode, self.bot6, self.sym3)
        st = self.state
        if not st.levels:
            self._configure(ctx)
        else:
            self._reconcile(ctx)
        ctx.chart_levels("grid", st.levels if st.phase is not Phase.STOPPED else [])
        self._sync_every_candle(ctx)
        if ctx.mode is not RunMode.BACKTEST:
            # Backtest venues cannot drift from the host's view; a timer would only stop the
            # engine from skipping quiet candles.
            ctx.set_timer(self._timer_name(), ctx.now() + RECONCILE_INTERVAL_MS)

    def _configure(self, ctx: StrategyContext) -> None:
        """Levels and their checks, before any order (grid spec §5.1, §5.2)."""
        st, inst = self.state, self.inst
        levels = self.geometry().levels(inst)
        try:
            check_intervals(levels, inst)
        except ConfigError as exc:
            ctx.notify("error", f"{self.symbol}: grid refused: {exc.message}")
            raise
        warning = thin_interval_warning(levels, inst.taker_fee)
        if warning is not None:
            ctx.log.warning("%s: %s", self.symbol, warning)
            ctx.notify("warning", f"{self.symbol}: {warning}")
        st.levels = levels
        st.slots = [None] * len(levels)
        if inst.is_derivative:
            # Before any order: the sizes assume this leverage (grid spec §3).
            ctx.set_leverage(self.symbol, Decimal(self.config.leverage), self.config.margin_mode)
        ctx.notify(
            "grid_waiting",
            f"{self.symbol}: {self.config.mode.value} grid of {len(levels)} levels "
            f"{levels[0]} .. {levels[-1]}; it starts at the first evaluation price inside the "
            "range",
            lower=str(levels[0]),
            upper=str(levels[-1]),
        )

    def candle_filter(self, timeframe: str, candles: CandleArrays) -> npt.NDArray[np.bool_] | None:
        st, cfg = self.state, self.config
        if timeframe != self.timeframe or not st.levels:
            return None
        close = candles.close
        mask = np.zeros(len(close), dtype=np.bool_)
        if st.phase in (Phase.EXITING, Phase.STOPPED):
            return mask
        if st.phase is Phase.WAITING:
            mask |= _start_candles(close, float(st.levels[0]), float(st.levels[-1]))
        if cfg.exit_lower_price is not None:
            mask |= close <= float(cfg.exit_lower_price) * (1 + _TOL)
        if cfg.exit_upper_price is not None:
            mask |= close >= float(cfg.exit_upper_price) * (1 - _TOL)
        if cfg.trailing_up:
            # The trailing threshold only rises with each shift: today's is a lower bound.
            mask |= close >= float(self._next_top()) * (1 - _TOL)
        return mask

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        if event.timeframe == self.timeframe:
            self._evaluate(ctx, event.candle.close, replay=event.replay)

    def on_tick(self, ctx: StrategyContext, event: Tick) -> None:
        self._evaluate(ctx, event.price, replay=False)

    def _evaluate(self, ctx: StrategyContext, price: Decimal, *, replay: bool) -> None:
        """One evaluation at ``price`` (grid spec §5.4, §5.6, §5.7). Stale (replayed) prices
        never start or move the grid; an exit acts on them, being protective."""
        st, cfg = self.state, self.config
        if st.phase is Phase.WAITING:
            if not replay and st.levels[0] < price < st.levels[-1]:
                self._start(ctx, price)
            return
        if st.phase in (Phase.STARTING, Phase.RUNNING):
            reason = self._exit_trigger(price)
            if reason is not None:
                close = cfg.range_exit_action is RangeExitAction.CLOSE_AND_STOP
                self._stop_grid(ctx, reason, close=close, price=price)
                return
        if st.phase is Phase.RUNNING and cfg.trailing_up and not replay:
            self._trail(ctx, price)
        self._retry(ctx)

    def _start(self, ctx: StrategyContext, p0: Decimal) -> None:
        st, cfg, inst = self.state, self.config, self.inst
        assert cfg.investment is not None  # validated for classic modes
        try:
            sizing = interval_quantities(
                cfg.order_size_mode, cfg.investment, cfg.leverage, st.levels, p0, inst
            )
        except ConfigError as exc:
            ctx.notify("error", f"{self.symbol}: grid refused: {exc.message}")
            raise
        for note in sizing.raised:
            ctx.log.warning("%s: minimum size rule: %s", self.symbol, note)
        if sizing.raised:
            ctx.notify(
                "warning",
                f"{self.symbol}: exchange minimums raised sizes: {'; '.join(sizing.raised)}",
            )
        n = len(st.levels) - 1
        e = min(range(n + 1), key=lambda i: (abs(st.levels[i] - p0), i))
        st.qtys, st.p0, st.empty, st.waiting_for_range = sizing.qtys, p0, e, False
        direction = cfg.direction
        initial = Decimal(0)
        if direction is GridDirection.LONG:
            initial = sum((sizing.qtys[i - 1] for i in range(e + 1, n + 1)), Decimal(0))
        elif direction is GridDirection.SHORT:
            initial = sum((sizing.qtys[i] for i in range(e)), Decimal(0))
        if initial > 0:
            side = OrderSide.BUY if direction is GridDirection.LONG else OrderSide.SELL
            st.initial = OrderSlot(side, initial, st.next_seq(), "i", e)
        for i in range(n + 1):
            if i == e:
                continue
            side = OrderSide.BUY if i < e else OrderSide.SELL
            qty = sizing.qtys[i] if i < e else sizing.qtys[i - 1]
            slot = OrderSlot(side, qty, st.next_seq(), "b" if i < e else "s", i)
            # The orders that sell (long) or buy back (short) the initial inventory wait for it:
            # a spot sell needs the base, a reduce-only order needs the position.
            if initial > 0 and self.orders.closes_inventory(side):
                slot.status = SlotStatus.WAITING
            st.slots[i] = slot
        if st.initial is not None:
            self._set_phase(Phase.STARTING)
            ctx.submit(self.orders.market_order(st.initial, reduce_only=False, tag="grid_initial"))
        else:
            self._set_phase(Phase.RUNNING)
        self._submit_levels(ctx, SlotStatus.PENDING_SUBMIT)
        ctx.notify(
            "grid_started",
            f"{self.symbol}: grid started at {p0}: levels {st.levels[0]} .. {st.levels[-1]}, "
            f"empty level {st.levels[e]}, initial {direction.value} order {initial}",
            p0=str(p0),
            empty_level=str(st.levels[e]),
            initial_qty=str(initial),
            qtys=[str(q) for q in st.qtys],
        )

    def _apply(self, ctx: StrategyContext, order: Order) -> None:
        """Book the cumulative fills of ``order`` and act on a complete one."""
        found = self._find(order.client_order_id)
        if found is None:
            return  # an order of an earlier grid state (already processed or dropped)
        where, slot = found
        self._sync_fill(slot, order)
        if not slot.complete:
            return  # partial fills wait for completion (§5.5)
        slot.status = SlotStatus.DONE
        phase = self.state.phase
        if where == "initial":
            if phase is Phase.STARTING:  # not once the grid was stopped meanwhile
                self._initial_filled(ctx)
        elif where == "exit":
            if phase is Phase.EXITING:
                self._set_phase(Phase.STOPPED)
                self._report_stop(ctx)
        else:
            self._level_filled(ctx, int(where))

    def _level_filled(self, ctx: StrategyContext, i: int) -> None:
        """Answer the complete fill at level ``i`` with the opposite order next to it (§5.5)."""
        st = self.state
        slot = st.slots[i]
        assert slot is not None
        st.slots[i] = None
        buy = slot.side is OrderSide.BUY
        interval = i if buy else i - 1
        self._record_leg(ctx, interval, slot)
        target = i + 1 if buy else i - 1
        side = OrderSide.SELL if buy else OrderSide.BUY
        counter = OrderSlot(side, st.qtys[interval], st.next_seq(), side.value[0], target)
        if st.slots[target] is None:
            st.slots[target] = counter
            ctx.submit(self.orders.level_order(counter, st.levels[target]))
        elif target not in st.deferred:
            # A candle crossed two levels before the counter-order of the first fill could
            # rest (it was placed after the candle): the target still holds that order. The
            # price went through it, so it fills next; this counter follows it there.
            counter.status = SlotStatus.WAITING
            st.deferred[target] = counter
        else:
            ctx.log.error("%s: level %s is already owed an order; none added", self.symbol, target)
            ctx.notify("error", f"{self.symbol}: grid out of step at level {st.levels[target]}")
        owed = st.deferred.pop(i, None)
        if owed is not None:
            owed.status = SlotStatus.PENDING_SUBMIT
            st.slots[i] = owed
            ctx.submit(self.orders.level_order(owed, st.levels[i]))
        free = [k for k, s in enumerate(st.slots) if s is None]
        st.empty = free[0] if len(free) == 1 else i

    def _record_leg(self, ctx: StrategyContext, interval: int, slot: OrderSlot) -> None:
        """Open an interval's leg, or close it into grid profit (§5.5)."""
        st = self.state
        key = st.trailing_shifts + interval
        mine = Leg(slot.side, slot.avg_price, slot.filled, slot.fee)
        leg = st.legs.pop(key, None)
        if leg is None or leg.side is slot.side:
            st.legs[key] = mine
            return
        buy, sell = (leg, mine) if leg.side is OrderSide.BUY else (mine, leg)
        qty = min(buy.qty, sell.qty)
        profit = (sell.price - buy.price) * qty * self.inst.contract_size - buy.fee - sell.fee
        st.grid_profit += profit
        st.pair_count += 1
        ctx.notify(
            "grid_pair",
            f"{self.symbol}: pair {buy.price} -> {sell.price} x {qty}: {profit:+.8f}; grid profit "
            f"{st.grid_profit:.8f} over {st.pair_count} pairs",
            profit=str(profit),
            grid_profit=str(st.grid_profit),
            pair_count=st.pair_count,
        )

    def _initial_filled(self, ctx: StrategyContext) -> None:
        st = self.state
        assert st.initial is not None
        st.initial_qty = st.initial.filled
        self._set_phase(Phase.RUNNING)
        self._submit_levels(ctx, SlotStatus.WAITING)

    def _initial_failed(self, ctx: StrategyContext, order: Order) -> None:
        # Without its inventory the grid cannot run as configured: stop it, keep what was bought.
        st = self.state
        st.initial_qty = st.initial.filled if st.initial is not None else Decimal(0)
        ctx.notify(
            "error",
            f"{self.symbol}: initial order {order.client_order_id} {order.status.value} "
            f"({order.reason}) after filling {order.filled_qty}; the grid stops, its orders are "
            "canceled and any position is kept",
        )
        self._stop_grid(ctx, "initial_order_failed", close=False, price=None)

    def _next_top(self) -> Decimal:
        st = self.state
        return self.geometry().level(st.trailing_shifts + len(st.levels), self.inst)

    def _trail(self, ctx: StrategyContext, price: Decimal) -> None:
        st, cfg = self.state, self.config
        assert cfg.investment is not None
        assert st.p0 is not None
        n = len(st.levels) - 1
        limit = cfg.trailing_up_limit_price
        shifted = 0
        while st.empty == n and not st.deferred:
            top = self._next_top()
            if price < top or (limit is not None and top > limit):
                break
            bottom = st.slots[0]
            if bottom is not None and bottom.filled > 0:
                break  # a partly filled buy at the bottom: let it finish first
            if bottom is not None:
                self._cancel(ctx, bottom)
            st.legs.pop(st.trailing_shifts, None)
            st.levels = [*st.levels[1:], top]
            st.slots = [*st.slots[1:], None]
            qty, note = interval_quantity(
                cfg.order_size_mode, cfg.investment, cfg.leverage, n, st.p0, st.levels[n - 1],
                self.inst,
            )  # fmt: skip
            if note is not None:
                ctx.log.warning("%s: minimum size rule: %s", self.symbol, note)
            st.qtys = [*st.qtys[1:], qty]
            st.trailing_shifts += 1
            buy = OrderSlot(OrderSide.BUY, qty, st.next_seq(), "b", n - 1)
            st.slots[n - 1] = buy
            st.empty = n
            ctx.submit(self.orders.level_order(buy, st.levels[n - 1]))
            shifted += 1
        if shifted:
            ctx.chart_levels("grid", st.levels)
            ctx.notify(
                "grid_trailing",
                f"{self.symbol}: grid moved up {shifted} level(s) to {st.levels[0]} .. "
                f"{st.levels[-1]} ({st.trailing_shifts} shifts in all)",
                lower=str(st.levels[0]),
                upper=str(st.levels[-1]),
                trailing_shifts=st.trailing_shifts,
            )

    def _exit_trigger(self, price: Decimal) -> str | None:
        cfg = self.config
        if cfg.exit_lower_price is not None and price <= cfg.exit_lower_price:
            return "exit_lower_price"
        if cfg.exit_upper_price is not None and price >= cfg.exit_upper_price:
            return "exit_upper_price"
        return None

    def on_stop(self, ctx: StrategyContext, reason: StopReason) -> None:
        # A shutdown (host restart) or the end of a backtest keeps the grid resting: the saved
        # state resumes it. Only the operator stopping or removing the bot ends the grid.
        if reason not in (StopReason.OPERATOR, StopReason.REMOVED):
            return
        if self.state.phase in (Phase.EXITING, Phase.STOPPED):
            return
        close = self.config.on_stop_action is OnStopAction.CLOSE_ALL
        self._stop_grid(ctx, f"bot_{reason.value}", close=close, price=None)

    def _stop_grid(
        self, ctx: StrategyContext, reason: str, *, close: bool, price: Decimal | None
    ) -> None:
        """Cancel every grid order; with ``close`` also close the position at market."""
        st = self.state
        for slot in st.slots:
            if slot is not None:
                self._cancel(ctx, slot)
        if st.initial is not None and st.initial.status in (
            SlotStatus.PENDING_SUBMIT,
            SlotStatus.OPEN,
        ):
            # Its cancel must not read as a venue refusal later (which would stop us again).
            self._cancel(ctx, st.initial)
            st.initial.status = SlotStatus.FAILED
        st.slots = [None] * len(st.levels)
        st.deferred.clear()
        st.exit_reason = reason
        closing = self._closing_order(ctx) if close else None
        if closing is not None:
            side, qty = closing
            st.exit = OrderSlot(side, qty, st.next_seq(), "x", 0)
            self._set_phase(Phase.EXITING)
            ctx.submit(self.orders.market_order(st.exit, reduce_only=True, tag="grid_exit"))
        else:
            self._set_phase(Phase.STOPPED)
        ctx.chart_levels("grid", [])
        at = f" at {price}" if price is not None else ""
        ctx.notify(
            "grid_exit",
            f"{self.symbol}: grid stopped ({reason}){at}; orders canceled"
            + (f", closing {closing[1]} at market" if closing else ", position kept"),
            reason=reason,
            grid_profit=str(st.grid_profit),
            pair_count=st.pair_count,
        )
        if st.phase is Phase.STOPPED:
            self._report_stop(ctx)

    def _closing_order(self, ctx: StrategyContext) -> tuple[OrderSide, Decimal] | None:
        inst = self.inst
        if inst.is_derivative:
            pos = ctx.position(self.symbol, self.orders.position_side)
            if pos.is_flat:
                return None
            return (OrderSide.SELL if pos.signed_size > 0 else OrderSide.BUY), pos.size
        qty = floor_to(self.state.inventory, inst.lot_step)  # spot: sell the grid's inventory
        if qty <= 0 or qty < inst.min_size:
            return None
        return OrderSide.SELL, qty

    def _report_stop(self, ctx: StrategyContext) -> None:
        st = self.state
        ctx.notify(
            "grid_stopped",
            f"{self.symbol}: grid finished ({st.exit_reason}): grid profit "
            f"{st.grid_profit:.8f} over {st.pair_count} pairs",
            reason=st.exit_reason,
            grid_profit=str(st.grid_profit),
            pair_count=st.pair_count,
        )


def _start_candles(
    close: npt.NDArray[np.float64], low: float, high: float
) -> npt.NDArray[np.bool_]:
    """The candles where a waiting grid may start (§5.4): it starts at the first close strictly
    inside the range and never waits again, so only the candles from the first close that may be
    inside (float tolerance) to the first that surely is, both included."""
    mask = np.zeros(len(close), dtype=np.bool_)
    maybe = np.flatnonzero((close > low * (1 - _TOL)) & (close < high * (1 + _TOL)))
    if maybe.size == 0:
        return mask
    first = int(maybe[0])
    rest = close[first:]
    surely = np.flatnonzero((rest > low * (1 + _TOL)) & (rest < high * (1 - _TOL)))
    last = first + int(surely[0]) if surely.size else len(close) - 1
    mask[first : last + 1] = (close[first : last + 1] > low * (1 - _TOL)) & (
        close[first : last + 1] < high * (1 + _TOL)
    )
    return mask
