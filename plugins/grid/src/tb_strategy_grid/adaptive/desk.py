"""The order-level work of one symbol: entries (the rebalance), take-profits, exits and stops
(grid spec §4.6–§4.9). The engine decides *when*; the desk decides *what* and issues commands.

Every command is preceded by the book change that names it, so the id is in the saved state
(``pending_submit``) before the host sends it (grid spec §2).
"""

from __future__ import annotations

from decimal import Decimal

from tbsdk import StrategyContext
from tbsdk.model import Instrument, Order, OrderSide

from ..config import GridConfig, GridDirection
from ..rounding import order_size
from . import ladder
from .books import Book, Entry, Lot, OrderState, Side, Stop
from .orders import OrderMaker

__all__ = ["Desk"]

OVERBOUGHT = Decimal("0.95")
ORDER_CAP = Decimal("1.05")
_MAX_REV = 36**2 - 1  # rev2 holds two base-36 digits


class Desk:
    """Books of both sides and the commands that change them."""

    def __init__(self, config: GridConfig) -> None:
        self.config = config
        self.books = {Side.LONG: Book(Side.LONG), Side.SHORT: Book(Side.SHORT)}
        self.seq = 0
        self.realised = Decimal(0)
        """Net PnL of closed lots, fees deducted."""
        self.fees = Decimal(0)
        """Fees of closed lots (entry and exit fills)."""
        self.closed_lots = 0
        self.price_sensitive = False
        """The last rebalance skipped an entry for a reason the price alone can lift."""
        self.margin_blocked = False
        """An entry was refused for margin: no new entries until the next 15m close (§4.11)."""
        self.maker: OrderMaker | None = None
        self.retired: dict[str, tuple[Side, str, int]] = {}
        """Take-profits and stops replaced or canceled but not yet confirmed gone, by id:
        ``(side, "tp" / "stop", lot seq)``. One may still fill (it may already have, inside the
        candle that also filled what made us replace it), and that fill must be booked."""
        leverage = Decimal(config.leverage)
        self.grid_notional = sum(
            (config.capital_of_rung(j) * leverage for j in range(1, config.grid_num + 1)),
            Decimal(0),
        )
        """``G`` of §4.8: total grid notional."""

    # -- helpers -----------------------------------------------------------------------------
    @property
    def orders(self) -> OrderMaker:
        if self.maker is None:
            raise RuntimeError("the adaptive desk is used before on_start")
        return self.maker

    @property
    def inst(self) -> Instrument:
        return self.orders.inst

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def trades(self, side: Side) -> bool:
        """Whether ``direction`` trades this side."""
        direction = self.config.direction
        if side is Side.LONG:
            return direction in (GridDirection.LONG, GridDirection.NEUTRAL)
        return direction in (GridDirection.SHORT, GridDirection.NEUTRAL)

    def lots(self) -> list[tuple[Side, Lot]]:
        return [(side, lot) for side, book in self.books.items() for lot in book.lots]

    # -- rebalance (§4.6) ----------------------------------------------------------------------
    def rebalance(
        self,
        ctx: StrategyContext,
        table: ladder.Table,
        regime: int,
        price: Decimal,
        *,
        full: bool,
    ) -> None:
        """Partial rebalance: add missing entries. Full: first cancel entries off the current
        candidates or off their recomputed price, and re-target every take-profit."""
        self.price_sensitive = False
        if full:
            for side, book in self.books.items():
                self._cancel_stale(ctx, book, self._candidates(side, table, price), table, price)
            self.retarget(ctx, table, price)
        for side in (Side.LONG, Side.SHORT):
            self._place_side(ctx, side, table, regime, price)

    @staticmethod
    def _candidates(side: Side, table: ladder.Table, price: Decimal) -> list[int]:
        if side is Side.LONG:
            return ladder.long_candidates(table, float(price))
        return ladder.short_candidates(table, float(price))

    def _cancel_stale(
        self,
        ctx: StrategyContext,
        book: Book,
        candidates: list[int],
        table: ladder.Table,
        price: Decimal,
    ) -> None:
        opening = OrderSide.BUY if book.side is Side.LONG else OrderSide.SELL
        for entry in book.entries:
            if not entry.occupies:
                continue
            if entry.rung in candidates:
                wanted = ladder.entry_price(self.inst, opening, table, entry.rung, price)
                if abs(wanted - entry.price) < self.inst.tick(entry.price):
                    continue
            self.cancel_entry(ctx, entry)

    def _place_side(
        self, ctx: StrategyContext, side: Side, table: ladder.Table, regime: int, price: Decimal
    ) -> None:
        if not self.trades(side) or self.margin_blocked:
            return
        if regime == -2 * side.sign:  # long entries wait out regime −2, shorts +2 (§4.4)
            return
        book, inst, cap = self.books[side], self.inst, self.grid_notional
        held = book.lot_notional(inst, price)
        if held >= OVERBOUGHT * cap:
            self.price_sensitive = True  # overbought / oversold lifts as the price moves
            return
        opening = OrderSide.BUY if side is Side.LONG else OrderSide.SELL
        for rung in self._candidates(side, table, price):
            if book.blocked(rung):
                continue
            limit = ladder.entry_price(inst, opening, table, rung, price)
            margin = self.config.capital_of_rung(rung) * self.config.leverage
            sized = order_size(inst, margin / (limit * inst.contract_size), limit)
            if sized.raised:
                ctx.log.info(
                    "%s rung %s: size raised to the exchange minimum %s", inst.symbol, rung,
                    sized.qty,
                )  # fmt: skip
            if book.too_close(limit):
                self.price_sensitive = True
                continue
            total = held + book.resting_notional(inst) + inst.notional(sized.qty, limit)
            if total > ORDER_CAP * cap:
                self.price_sensitive = True
                continue
            seq = self.next_seq()
            entry = Entry(seq, rung, limit, sized.qty, self.orders.entry_id(side, seq, rung))
            book.entries.append(entry)
            ctx.submit(self.orders.entry(side, entry.cid, entry.price, entry.qty))

    def cancel_entry(self, ctx: StrategyContext, entry: Entry) -> None:
        entry.state = OrderState.CANCEL_PENDING
        ctx.cancel(entry.cid)

    def cancel_entries(self, ctx: StrategyContext, side: Side) -> None:
        for entry in self.books[side].entries:
            if entry.occupies:
                self.cancel_entry(ctx, entry)

    # -- lots and take-profits (§4.5, §4.7) -------------------------------------------------------
    def open_lot(self, side: Side, entry: Entry, order: Order, ts: int) -> Lot:
        """Turn a (fully, or partly then canceled) filled entry into a lot."""
        book = self.books[side]
        book.entries.remove(entry)
        assert order.avg_fill_price is not None  # a filled quantity has a price
        lot = Lot(entry.seq, entry.rung, order.filled_qty, order.avg_fill_price, ts, order.fee)
        book.lots.append(lot)
        return lot

    def _order_rev(self, lot: Lot, rev: int) -> int:
        """The next revision of the lot's TP / exit ids; past two base-36 digits the lot's
        orders move to a fresh seq (a long-lived lot is re-targeted every quarter hour)."""
        if rev + 1 <= _MAX_REV:
            return rev + 1
        lot.order_seq = self.next_seq()
        lot.tp_rev = lot.exit_rev = -1
        return 0

    def place_tp(
        self, ctx: StrategyContext, side: Side, lot: Lot, table: ladder.Table, price: Decimal
    ) -> None:
        """Place (or re-place) the lot's take-profit at its §4.7 target."""
        target = ladder.tp_target(self.inst, side is Side.LONG, table, lot.rung, lot.price, price)
        old = lot.tp_cid if lot.tp_state in (OrderState.OPEN, OrderState.PENDING_SUBMIT) else None
        lot.tp_rev = self._order_rev(lot, lot.tp_rev)
        lot.tp_cid = self.orders.cid(lot.order_seq, "t", lot.rung, lot.tp_rev)
        lot.tp_price, lot.tp_state = target, OrderState.PENDING_SUBMIT
        intent = self.orders.take_profit(side, lot)
        if old is None:
            ctx.submit(intent)
        else:
            self.retired[old] = (side, "tp", lot.seq)
            ctx.replace(old, intent)

    def retire_tp(self, ctx: StrategyContext, side: Side, lot: Lot) -> None:
        """Cancel the lot's take-profit, if one is live."""
        if lot.tp_state in (OrderState.OPEN, OrderState.PENDING_SUBMIT) and lot.tp_cid:
            self.retired[lot.tp_cid] = (side, "tp", lot.seq)
            ctx.cancel(lot.tp_cid)
        lot.tp_state = OrderState.CANCEL_PENDING

    def retire_stop(self, ctx: StrategyContext, side: Side, stop: Stop) -> None:
        """Cancel a stop that is live (or may be)."""
        if stop.state is not OrderState.RETRY:
            self.retired[stop.cid] = (side, "stop", 0)
            ctx.cancel(stop.cid)

    def retarget(self, ctx: StrategyContext, table: ladder.Table, price: Decimal) -> None:
        """Move every take-profit whose target changed by a tick or more; place missing ones."""
        for side, lot in self.lots():
            if lot.exiting:
                continue
            if lot.tp_state is OrderState.RETRY or lot.tp_price is None:
                self.place_tp(ctx, side, lot, table, price)
                continue
            target = ladder.tp_target(
                self.inst, side is Side.LONG, table, lot.rung, lot.price, price
            )
            if abs(target - lot.tp_price) >= self.inst.tick(lot.tp_price):
                self.place_tp(ctx, side, lot, table, price)

    def close_part(self, side: Side, lot: Lot, qty: Decimal, price: Decimal, fee: Decimal) -> None:
        """Book a closing fill (take-profit, exit or stop) of ``qty`` at ``price`` against the
        lot."""
        qty = min(qty, lot.qty)
        lot.gross += (price - lot.price) * qty * self.inst.contract_size * side.sign
        lot.fees += fee
        lot.qty -= qty

    def finish_lot(self, side: Side, lot: Lot) -> None:
        """The lot is closed: ``(exit − p)·qty·ct·m − fees`` goes to the realised PnL."""
        self.books[side].lots.remove(lot)
        self.realised += lot.gross - lot.fees
        self.fees += lot.fees
        self.closed_lots += 1

    # -- exits and stops (§4.4, §4.9) -----------------------------------------------------------
    def exit_lot(self, ctx: StrategyContext, side: Side, lot: Lot, tag: str) -> None:
        """Close the lot at market, canceling its take-profit first (on spot the take-profit
        holds the base the market sell needs)."""
        self.retire_tp(ctx, side, lot)
        lot.exit_rev = self._order_rev(lot, lot.exit_rev)
        lot.exit_cid = self.orders.cid(lot.order_seq, "x", lot.rung, lot.exit_rev)
        lot.exit_state = OrderState.PENDING_SUBMIT
        ctx.submit(self.orders.exit(side, lot, tag))

    def update_stop(self, ctx: StrategyContext, side: Side) -> None:
        """Futures: keep the side's resting stop at ``avg·(1 − m·stop_loss_pct/100)``."""
        pct = self.config.stop_loss_pct
        if pct is None or not self.inst.is_derivative:
            return
        book = self.books[side]
        want = book.stop_price(self.inst, pct)
        old = book.stop
        if want is None:
            if old is not None:
                book.stop = None
                self.retire_stop(ctx, side, old)
            return
        if old is not None and old.price == want and old.state is not OrderState.RETRY:
            return
        seq = self.next_seq()
        book.stop = Stop(seq, want, self.orders.stop_id(side, seq))
        intent = self.orders.stop(side, book.stop.cid, want)
        if old is None or old.state is OrderState.RETRY:
            ctx.submit(intent)
        else:
            self.retired[old.cid] = (side, "stop", 0)
            ctx.replace(old.cid, intent)  # place-then-cancel: never a moment without a stop

    def spot_stop_hit(self, price: Decimal) -> bool:
        """Spot: the evaluation price is at or below the long side's stop price (§4.9)."""
        pct = self.config.stop_loss_pct
        if pct is None or self.inst.is_derivative:
            return False
        trigger = self.books[Side.LONG].stop_price(self.inst, pct)
        return trigger is not None and price <= trigger

    def cancel_all(self, ctx: StrategyContext) -> None:
        """Cancel every live order of both books (entries, take-profits, stops)."""
        for side, book in self.books.items():
            self.cancel_entries(ctx, side)
            for lot in book.lots:
                self.retire_tp(ctx, side, lot)
            if book.stop is not None:
                self.retire_stop(ctx, side, book.stop)
                book.stop = None
