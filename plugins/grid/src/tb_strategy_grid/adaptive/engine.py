"""``AdaptiveEngine``: the adaptive ladder of one symbol (grid spec §4, event table §4.11).

| Event | Action |
|---|---|
| 4h close | regime; on a transition to ±2, close that side's lots at market (§4.4) |
| 15m close | level table; full rebalance (§4.6) at the close |
| eval close / tick | spot stop check; partial rebalance |
| entry filled | lot, its take-profit, the side stop; partial rebalance at the fill price |
| take-profit / exit filled | close the lot; the side stop; partial rebalance |
| rejections | retry at the next evaluation (``insufficient_margin``: no entries until 15m) |
| timers | inactivity stop; reconciliation (paper and live) |

**Backtest speed.** ``candle_filter`` builds the level table and the regime of the whole series
once (looked up by candle time afterwards; paper and live stream them from ``ctx.history``, same
bits) and marks the evaluation candles where the rung under the price moves (:mod:`.mask`). While
the state needs every evaluation (a fill or refusal since the last one, an entry held back by a
price-dependent cap, a retry, a spot stop to watch) the engine asks for every candle with
``ctx.deliver_every_candle``; on all other candles an evaluation would do nothing.
"""

from __future__ import annotations

import logging
import math
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from tbsdk import JsonState, StrategyContext
from tbsdk.info import RunMode
from tbsdk.model import (
    CandleArrays,
    CandleClosed,
    FillEvent,
    OrderUpdate,
    PositionChanged,
    PositionSide,
    StopReason,
    Tick,
    TimerFired,
)

from ..config import GridConfig, OnStopAction, SignalMode
from ..engine import SymbolEngine, money_text
from ..ids import instance_prefix, symbol_key
from ..market_rules import check_market
from . import order_events
from .books import OrderState, Side
from .desk import Desk
from .market import LEVELS_TF, REGIME_TF, Market, level_feed, regime_feed
from .mask import eval_mask
from .orders import OrderMaker
from .reconcile import reconcile
from .state import load_engine_state, save_engine_state

__all__ = ["AdaptiveEngine"]

_log = logging.getLogger(__name__)

MINUTE = 60_000
RECONCILE_EVERY = 60_000


class AdaptiveEngine(SymbolEngine):
    """The adaptive grid of one symbol."""

    def __init__(self, config: GridConfig, symbol: str, bot6: str) -> None:
        self.config, self.symbol, self.bot6 = config, symbol, bot6
        self.sym3 = symbol_key(symbol)
        self.prefix = instance_prefix(bot6, self.sym3)
        self.eval_tf = config.eval_timeframe.value
        self.completed = False
        self.completion: str | None = None
        """Why the symbol completes (``stop_loss``, ``inactivity``, ``manual``) once it does."""
        self.levels = level_feed(config)
        self.regimes = regime_feed()
        self.market = Market()
        self.desk = Desk(config)
        self.start_ts: int | None = None
        self.last_entry_fill: int | None = None
        self.resync = False
        """Something changed since the last evaluation at a close: evaluate the next one."""
        self._every_on = False  # what we last asked of deliver_every_candle (hosts forget it)

    # -- subscriptions and backtest masks ------------------------------------------------------
    def subscriptions(self) -> list[tuple[str, int]]:
        warmup = self.config.warmup_bars
        subs = [(LEVELS_TF, warmup), (REGIME_TF, warmup)]
        if self.eval_tf != LEVELS_TF:
            subs.append((self.eval_tf, warmup))
        return subs

    def candle_filter(self, timeframe: str, candles: CandleArrays) -> npt.NDArray[np.bool_] | None:
        every = np.ones(len(candles), dtype=np.bool_)
        if timeframe == LEVELS_TF:
            self.levels.use_series(candles)
            return every  # each 15m close is a full rebalance
        if timeframe == REGIME_TF:
            self.regimes.use_series(candles)
            return every
        if timeframe == self.eval_tf:
            table = self.levels.table
            if table is None:  # the 15m table is not built (yet): deliver everything
                return every
            return eval_mask(candles, timeframe, table[0], table[1], LEVELS_TF)
        return None

    # -- lifecycle ---------------------------------------------------------------------------
    def on_start(self, ctx: StrategyContext) -> None:
        """Check the market, reconcile the books with the venue, catch up with the candles
        closed while stopped, arm the timers. The strategy has subscribed :meth:`subscriptions`
        (and ticks for ``signal_mode = intrabar``) before."""
        inst = ctx.instrument(self.symbol)
        check_market(self.config, inst, ctx.position_mode)
        self.desk.maker = OrderMaker(
            inst, self.bot6, self.sym3, ctx.position_mode, self.config.post_only
        )
        if self.start_ts is None:  # the first start of this symbol
            self.start_ts = ctx.now()
            if inst.is_derivative:
                # Before any order: sizes and exposure caps assume this leverage (grid spec §3).
                ctx.set_leverage(
                    self.symbol, Decimal(self.config.leverage), self.config.margin_mode
                )
        reconcile(self, ctx)
        if self._catch_up(ctx, regime=True, levels=True):
            self.resync = True
        self.arm_inactivity(ctx)
        if ctx.mode is not RunMode.BACKTEST:
            # A simulated venue cannot drift from the books; a real one can (grid spec §2).
            ctx.set_timer(self._timer("reconcile"), ctx.now() + RECONCILE_EVERY)
        self._every_on = False
        self._sync(ctx)

    def on_stop(self, ctx: StrategyContext, reason: StopReason) -> None:
        """Operator stop or removal: ``on_stop_action`` (cancel the grid's orders, and with
        ``close_all`` close the lots at market). Restarts and faults leave the venue as it is."""
        if reason not in (StopReason.OPERATOR, StopReason.REMOVED):
            return
        self.desk.cancel_all(ctx)
        if self.config.on_stop_action is OnStopAction.CLOSE_ALL:
            for side, lot in self.desk.lots():
                if not lot.exiting:
                    self.desk.exit_lot(ctx, side, lot, "close_all")

    def _catch_up(self, ctx: StrategyContext, *, regime: bool, levels: bool) -> bool:
        """Bring the regime / table to the latest closed 4h / 15m candle in the history: at
        start (candles closed while stopped) and before an evaluation, so that it sees the
        newest values (§2) even where their own candle event has not come (yet)."""
        changed = False
        for wanted, feed, seen, apply in (
            (regime, self.regimes, self.market.regime_ts, self._on_regime),
            (levels, self.levels, self.market.table_ts, self._on_levels),
        ):
            latest = feed.latest_closed(ctx, self.symbol) if wanted else None
            if latest is not None and (seen is None or latest > seen):
                apply(ctx, latest)
                changed = True
        return changed

    # -- candles and ticks -------------------------------------------------------------------
    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        if event.symbol != self.symbol:
            return
        tf, candle = event.timeframe, event.candle
        if tf == REGIME_TF:
            self._on_regime(ctx, candle.ts)
        elif tf in (LEVELS_TF, self.eval_tf):
            self._catch_up(ctx, regime=True, levels=tf != LEVELS_TF)
        if tf == LEVELS_TF:
            self._on_levels(ctx, candle.ts)
        # A replayed candle is stale: it updates the indicators but places nothing.
        if tf in (LEVELS_TF, self.eval_tf) and not event.replay:
            self._evaluate(ctx, candle.close, full=tf == LEVELS_TF)
        self._sync(ctx)

    def on_tick(self, ctx: StrategyContext, event: Tick) -> None:
        if event.symbol == self.symbol and self.config.signal_mode is SignalMode.INTRABAR:
            self._catch_up(ctx, regime=True, levels=True)
            self._evaluate(ctx, event.price, full=False)
            self._sync(ctx)

    def _on_regime(self, ctx: StrategyContext, ts: int) -> None:
        row = self.regimes.at(ctx, self.symbol, ts)
        if row is None:
            return
        market = self.market
        before = market.regime
        market.regime, market.regime_ts = int(row[0]), ts
        market.adx_defined = not math.isnan(float(row[1]))
        for side in (Side.LONG, Side.SHORT):
            strong = -2 * side.sign  # −2 ends the long side, +2 the short side
            if market.regime == strong and before != strong and self.completion is None:
                self._regime_exit(ctx, side)

    def _on_levels(self, ctx: StrategyContext, ts: int) -> None:
        row = self.levels.at(ctx, self.symbol, ts)
        if row is None:
            return
        self.market.set_table(ts, [float(v) for v in row])
        self.desk.margin_blocked = False
        if self.market.table is not None:
            ctx.chart_levels(f"grid {self.symbol}", self.market.table)

    def _evaluate(self, ctx: StrategyContext, price: Decimal, *, full: bool) -> None:
        """One evaluation at ``price``: the spot stop, retries, then the rebalance."""
        if self.completion is None and self.desk.spot_stop_hit(price):
            self.complete(ctx, "stop_loss")
        self._retry(ctx, price)
        if self.completion is not None:
            return
        table = self.market.table
        if table is not None and self.market.ready:
            self.desk.rebalance(ctx, table, self.market.regime, price, full=full)
        self.resync = False

    def _retry(self, ctx: StrategyContext, price: Decimal) -> None:
        table = self.market.table
        for side, lot in self.desk.lots():
            if lot.exit_state is OrderState.RETRY:
                self.desk.exit_lot(ctx, side, lot, self.completion or "exit")
            elif lot.tp_state is OrderState.RETRY and not lot.exiting and table is not None:
                self.desk.place_tp(ctx, side, lot, table, price)
        for side, book in self.desk.books.items():
            if book.stop is not None and book.stop.state is OrderState.RETRY:
                self.desk.update_stop(ctx, side)

    # -- fills and order updates ---------------------------------------------------------------
    def on_fill(self, ctx: StrategyContext, event: FillEvent) -> None:
        order_events.on_fill(self, ctx, event)
        self._sync(ctx)

    def on_order_update(self, ctx: StrategyContext, event: OrderUpdate) -> None:
        order_events.on_order_update(self, ctx, event)
        self._sync(ctx)

    # -- regime exit, completion, position changes --------------------------------------------
    def _regime_exit(self, ctx: StrategyContext, side: Side) -> None:
        """§4.4: at the 4h close where the regime turns against a side, its lots go at market
        and its entries are canceled."""
        book = self.desk.books[side]
        if not book.lots and not book.entries:
            return
        self.desk.cancel_entries(ctx, side)
        for lot in book.lots:
            if not lot.exiting:
                self.desk.exit_lot(ctx, side, lot, "regime_exit")
        ctx.notify(
            "grid_regime_exit",
            f"{self.symbol}: regime {self.market.regime}, {side.value} lots closed",
            symbol=self.symbol,
            side=side.value,
        )

    def complete(self, ctx: StrategyContext, reason: str) -> None:
        """§4.9 completion: cancel every order, close every lot at market, stop trading."""
        if self.completion is not None:
            return
        self.completion = reason
        self.desk.cancel_all(ctx)
        for side, lot in self.desk.lots():
            if not lot.exiting:
                self.desk.exit_lot(ctx, side, lot, reason)
        ctx.cancel_timer(self._timer("inactivity"))
        self.completed = not self.desk.lots()
        ctx.notify(
            "grid_completed",
            f"{self.symbol}: completed ({reason})",
            symbol=self.symbol,
            reason=reason,
            realised_pnl=str(self.desk.realised),
        )

    def on_position_changed(self, ctx: StrategyContext, event: PositionChanged) -> None:
        """A flat futures book while lots are open means they were closed outside the grid
        (by hand, or liquidated): the books follow the venue (grid spec §2)."""
        pos = event.position
        if pos.symbol != self.symbol or not pos.is_flat or not self.desk.inst.is_derivative:
            return
        if pos.position_side is PositionSide.NET:
            sides = [s for s in (Side.LONG, Side.SHORT) if self.desk.trades(s)]
        else:
            sides = [Side.LONG if pos.position_side is PositionSide.LONG else Side.SHORT]
        for side in sides:
            if self.desk.books[side].lots:
                self.drop_lots(ctx, side)
        self._sync(ctx)

    def drop_lots(self, ctx: StrategyContext, side: Side) -> None:
        """The venue holds no position for the side's lots: forget them (no PnL is booked:
        the exit price is unknown) and cancel their take-profits and stop."""
        book = self.desk.books[side]
        ctx.log.warning(
            "%s %s: position closed outside the grid; dropping %s lots",
            self.symbol, side.value, len(book.lots),
        )  # fmt: skip
        for lot in book.lots:
            self.desk.retire_tp(ctx, side, lot)
        book.lots.clear()
        self.desk.update_stop(ctx, side)
        self.resync = True

    # -- timers ------------------------------------------------------------------------------
    def _timer(self, what: str) -> str:
        return f"{self.sym3}:{what}"

    def _inactivity_due(self) -> int | None:
        minutes = self.config.custom_stop_minutes
        if minutes is None or self.start_ts is None:
            return None
        return max(self.start_ts, self.last_entry_fill or self.start_ts) + minutes * MINUTE

    def arm_inactivity(self, ctx: StrategyContext) -> None:
        due = self._inactivity_due()
        if due is not None and self.completion is None:
            ctx.set_timer(self._timer("inactivity"), due)

    def on_timer(self, ctx: StrategyContext, event: TimerFired) -> None:
        if event.name == self._timer("inactivity"):
            due = self._inactivity_due()
            if due is not None and self.completion is None:
                if ctx.now() >= due:
                    self.complete(ctx, "inactivity")
                else:
                    self.arm_inactivity(ctx)
        elif event.name == self._timer("reconcile"):
            reconcile(self, ctx)
            ctx.set_timer(self._timer("reconcile"), ctx.now() + RECONCILE_EVERY)
        self._sync(ctx)

    # -- delivery of evaluation candles ----------------------------------------------------------
    def needs_every_candle(self) -> bool:
        """Whether the next evaluation may act although the rung under the price did not move."""
        desk = self.desk
        if self.resync or desk.price_sensitive:
            return True
        for _, lot in desk.lots():
            if OrderState.RETRY in (lot.tp_state, lot.exit_state):
                return True
        if any(
            b.stop is not None and b.stop.state is OrderState.RETRY for b in desk.books.values()
        ):
            return True
        # Spot stops are checked by the strategy at every evaluation (no venue stop on spot).
        spot_stop = desk.config.stop_loss_pct is not None and not desk.inst.is_derivative
        return spot_stop and bool(desk.books[Side.LONG].lots) and self.completion is None

    def _sync(self, ctx: StrategyContext) -> None:
        want = self.needs_every_candle()
        if want != self._every_on:
            ctx.deliver_every_candle(self.symbol, self.eval_tf, want)
            self._every_on = want

    def report(self) -> dict[str, str]:
        desk = self.desk
        return {
            "Closed lots": f"{money_text(desk.realised)} after {money_text(desk.fees)[1:]} fees"
        }

    # -- persistence -------------------------------------------------------------------------
    def save_state(self) -> JsonState:
        return save_engine_state(self)

    def load_state(self, state: JsonState) -> None:
        load_engine_state(self, state, _log.warning)
