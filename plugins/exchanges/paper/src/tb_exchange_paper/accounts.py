"""Balances, positions, margin and PnL of the paper account. All money math is Decimal.

Conventions (see the README for the full rules):

* Sizes are contracts; a contract is ``contract_size`` base units (1 on spot). Linear contracts
  only: PnL of ``q`` contracts from entry ``E`` to price ``P`` is ``(P - E) * q * contract_size``
  for a long and the negative for a short, in the settle (derivatives) or quote (spot) currency.
* Fees are always charged in the quote / settle currency and subtracted from the wallet.
* ``wallet`` is cash: deposits + realised PnL - fees (+ spot base holdings in their currency).
  A balance reports ``total = wallet + unrealised PnL of derivative positions``,
  ``used = initial margins + isolated unrealised PnL + order reservations`` and
  ``free = total - used``: cross positions lend their unrealised PnL to free margin, isolated
  ones do not (venue behaviour).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from tbsdk.model import (
    Balance,
    Direction,
    Instrument,
    MarginMode,
    OrderSide,
    Position,
    PositionSide,
    Trade,
)

from .errors import PaperInsufficientFunds

__all__ = ["Accounts", "PositionState"]

_ZERO = Decimal(0)
_EXACT = decimal.Context(prec=120)
_ONE = Decimal(1)

MarkFn = Callable[[str], Decimal | None]
"""Mark price of a symbol (the last traded price), or None before any price is known."""


@dataclass(slots=True)
class PositionState:
    """Mutable position of one (symbol, book), plus the round trip it belongs to."""

    symbol: str
    book: PositionSide
    contract_size: Decimal
    settle: str
    derivative: bool
    direction: Direction = Direction.LONG
    size: Decimal = _ZERO
    entry: Decimal = _ZERO
    margin: Decimal = _ZERO
    """Initial margin held: entry notional / leverage (isolated: the isolated margin)."""
    leverage: Decimal = _ONE
    margin_mode: MarginMode = MarginMode.CROSS
    liquidation: Decimal | None = None
    liquidation_f: float | None = None
    """Float copy of ``liquidation`` for the per-candle comparison (no Decimal on hot paths)."""
    realized: Decimal = _ZERO
    """Gross realised PnL of the current round trip (fees excluded)."""
    updated_at: int = 0
    trip_opened_at: int = 0
    trip_peak: Decimal = _ZERO
    trip_entry_value: Decimal = _ZERO
    trip_entry_qty: Decimal = _ZERO
    trip_exit_value: Decimal = _ZERO
    trip_exit_qty: Decimal = _ZERO
    trip_fees: Decimal = _ZERO

    @property
    def sign(self) -> int:
        return 1 if self.direction is Direction.LONG else -1

    def unrealized(self, mark: Decimal | None) -> Decimal:
        if mark is None or self.size == 0:
            return _ZERO
        return (mark - self.entry) * self.size * self.contract_size * self.sign

    def snapshot(self, mark: Decimal | None) -> Position:
        """The SDK value of this position, unrealised PnL marked at ``mark``.

        Built without validation: every value is already of its field's type and within its
        range (sizes never negative, contract size and leverage positive)."""
        return Position.model_construct(
            symbol=self.symbol,
            position_side=self.book,
            direction=self.direction,
            size=self.size,
            entry_price=self.entry if self.size else None,
            contract_size=self.contract_size,
            realized_pnl=self.realized,
            unrealized_pnl=self.unrealized(mark),
            leverage=self.leverage,
            margin_mode=self.margin_mode,
            liquidation_price=self.liquidation,
            updated_at=self.updated_at,
        )


def _side_direction(side: OrderSide) -> Direction:
    return Direction.LONG if side is OrderSide.BUY else Direction.SHORT


@dataclass(slots=True)
class Accounts:
    """Wallets, reservations, positions and finished round trips of one paper account."""

    maintenance_margin_rate: Decimal
    wallet: dict[str, Decimal] = field(default_factory=dict)
    reserved: dict[str, Decimal] = field(default_factory=dict)
    positions: dict[tuple[str, PositionSide], PositionState] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    fees_paid: dict[str, Decimal] = field(default_factory=dict)
    realized_total: dict[str, Decimal] = field(default_factory=dict)

    # -- positions -------------------------------------------------------------------------

    def position(self, inst: Instrument, book: PositionSide) -> PositionState:
        """The (possibly flat) position of ``inst`` in ``book``, created on first use."""
        key = (inst.symbol, book)
        pos = self.positions.get(key)
        if pos is None:
            pos = PositionState(
                symbol=inst.symbol,
                book=book,
                contract_size=inst.contract_size,
                settle=inst.settle or inst.quote,
                derivative=inst.is_derivative,
                direction=Direction.SHORT if book is PositionSide.SHORT else Direction.LONG,
            )
            self.positions[key] = pos
        return pos

    def open_positions(self) -> Iterator[PositionState]:
        return (p for p in self.positions.values() if p.size)

    def reducible(self, inst: Instrument, book: PositionSide, side: OrderSide) -> Decimal:
        """How much of ``side`` would reduce the position of ``book`` (0 if it would add)."""
        pos = self.positions.get((inst.symbol, book))
        if pos is None or pos.size == 0 or pos.direction is _side_direction(side):
            return _ZERO
        return pos.size

    # -- cash ------------------------------------------------------------------------------

    def credit(self, currency: str, amount: Decimal) -> None:
        self.wallet[currency] = self.wallet.get(currency, _ZERO) + amount

    def reserve(self, currency: str, amount: Decimal) -> None:
        self.reserved[currency] = self.reserved.get(currency, _ZERO) + amount

    def release(self, currency: str, amount: Decimal) -> None:
        self.reserved[currency] = self.reserved.get(currency, _ZERO) - amount

    def balance(self, currency: str, mark: MarkFn) -> Balance:
        """Balance of ``currency`` with positions marked by ``mark`` (see module docs)."""
        total, free, used = self._balance(currency, mark)
        return Balance.model_construct(currency=currency, total=total, free=free, used=used)

    def _balance(self, currency: str, mark: MarkFn) -> tuple[Decimal, Decimal, Decimal]:
        """Total, free and used of ``currency``: :meth:`balance` without the model."""
        wallet = self.wallet.get(currency, _ZERO)
        unrealized = _ZERO
        used = self.reserved.get(currency, _ZERO)
        for pos in self.open_positions():
            if not pos.derivative or pos.settle != currency:
                continue
            pnl = pos.unrealized(mark(pos.symbol))
            unrealized += pnl
            used += pos.margin
            if pos.margin_mode is MarginMode.ISOLATED:
                # Isolated PnL belongs to its position; it never funds other orders.
                used += pnl
        total = wallet + unrealized
        # Subtract exactly (wide context), so that free + used == total holds to the last digit
        # even when margins carry the full 28 digits of a division.
        free = _EXACT.subtract(total, used)
        return total, free, used

    def free(self, currency: str, mark: MarkFn) -> Decimal:
        return self._balance(currency, mark)[1]

    def equity(self, currency: str, mark: MarkFn) -> Decimal:
        """Wallet plus unrealised PnL of derivative positions settled in ``currency``, plus the
        marked value of spot positions quoted in it (base bought by trading; base held from the
        start is not counted)."""
        extra = _ZERO
        for pos in self.open_positions():
            if pos.settle != currency:
                continue
            price = mark(pos.symbol)
            if pos.derivative:
                extra += pos.unrealized(price)
            else:
                extra += pos.size * pos.contract_size * (pos.entry if price is None else price)
        # Same summation order as balance(): equity and Balance.total agree to the last digit.
        return self.wallet.get(currency, _ZERO) + extra

    # -- margin checks ---------------------------------------------------------------------

    def check_fill(
        self,
        inst: Instrument,
        book: PositionSide,
        side: OrderSide,
        qty: Decimal,
        price: Decimal,
        fee: Decimal,
        leverage: Decimal,
        mark: MarkFn,
        reducing: bool = False,
    ) -> None:
        """Raise :class:`PaperInsufficientFunds` if the fill cannot be paid for.

        Only the part of a fill that opens exposure needs funds: a reduction is never blocked,
        because refusing to close a position would leave the account more at risk, not less.
        """
        if inst.is_derivative:
            opening = qty - min(qty, self.reducible(inst, book, side))
            if opening == 0:
                return
            need = inst.notional(opening, price) / leverage + fee
            currency = inst.settle or inst.quote
        elif side is OrderSide.BUY:
            need = inst.notional(qty, price) + fee
            currency = inst.quote
        else:
            need = qty
            currency = inst.base
            if reducing:
                # A reduce-only spot sell (a stop beside a take-profit) may sell base another
                # resting reduce-only sell holds: both close the same holding, and whichever
                # fills second is capped by the reduce-only rule. Only the holding itself counts.
                have = self._balance(currency, mark)[0]
                if need > have:
                    raise PaperInsufficientFunds(
                        f"paper {inst.symbol}: needs {need} {currency}, only {have} held"
                    )
                return
        have = self.free(currency, mark)
        if need > have:
            raise PaperInsufficientFunds(
                f"paper {inst.symbol}: needs {need} {currency}, only {have} {currency} free"
            )

    # -- fills -----------------------------------------------------------------------------

    def apply_fill(
        self,
        inst: Instrument,
        book: PositionSide,
        side: OrderSide,
        qty: Decimal,
        price: Decimal,
        fee: Decimal,
        ts: int,
        leverage: Decimal,
        margin_mode: MarginMode,
        tag: str,
    ) -> PositionState:
        """Book a fill into cash and the position of ``book``; return that position."""
        pos = self.position(inst, book)
        ccy = inst.settle or inst.quote
        self.credit(ccy, -fee)
        self.fees_paid[ccy] = self.fees_paid.get(ccy, _ZERO) + fee
        if not inst.is_derivative:
            # Spot: cash moves in both currencies; the position tracks bought base only.
            value = qty * price
            self.credit(inst.quote, -value if side is OrderSide.BUY else value)
            self.credit(inst.base, qty if side is OrderSide.BUY else -qty)
        closing = min(qty, self.reducible(inst, book, side))
        # The fee is shared between the closing and the opening part of a flip in proportion
        # to size, so each round trip carries exactly its own fees.
        close_fee = fee * closing / qty
        if closing:
            self._reduce(pos, closing, price, close_fee, ts, tag)
        opening = qty - closing
        if opening and (inst.is_derivative or side is OrderSide.BUY):
            self._increase(pos, side, opening, price, fee - close_fee, ts, leverage, margin_mode)
        elif opening and pos.size:
            pos.trip_fees += fee - close_fee
        pos.updated_at = ts
        self._update_liquidation(pos)
        return pos

    def _increase(
        self,
        pos: PositionState,
        side: OrderSide,
        qty: Decimal,
        price: Decimal,
        fee: Decimal,
        ts: int,
        leverage: Decimal,
        margin_mode: MarginMode,
    ) -> None:
        if pos.size == 0:
            pos.direction = _side_direction(side)
            pos.entry = price
            pos.realized = _ZERO
            pos.trip_opened_at = ts
            pos.trip_peak = _ZERO
            pos.trip_entry_value = pos.trip_entry_qty = _ZERO
            pos.trip_exit_value = pos.trip_exit_qty = pos.trip_fees = _ZERO
            pos.margin = _ZERO
            pos.leverage = leverage if pos.derivative else _ONE
            pos.margin_mode = margin_mode if pos.derivative else MarginMode.CROSS
        else:
            pos.entry = (pos.entry * pos.size + price * qty) / (pos.size + qty)
        pos.size += qty
        if pos.derivative:
            pos.margin += qty * pos.contract_size * price / pos.leverage
        pos.trip_peak = max(pos.trip_peak, pos.size)
        pos.trip_entry_value += price * qty
        pos.trip_entry_qty += qty
        pos.trip_fees += fee

    def _reduce(
        self, pos: PositionState, qty: Decimal, price: Decimal, fee: Decimal, ts: int, tag: str
    ) -> None:
        pnl = (price - pos.entry) * qty * pos.contract_size * pos.sign
        self._book_close(pos, qty, price, pnl, fee, ts, tag)

    def liquidate(self, pos: PositionState, price: Decimal, ts: int) -> Decimal:
        """Close an isolated position at ``price``; return the realised loss.

        The whole isolated margin is forfeited (what remains of the maintenance margin pays the
        venue's liquidation fee / insurance fund), so the loss is exactly ``-margin`` even when
        the price gapped beyond the liquidation price: isolated risk is capped at its margin.
        """
        pnl = -pos.margin
        self._book_close(pos, pos.size, price, pnl, _ZERO, ts, "liquidation")
        pos.updated_at = ts
        return pnl

    def _book_close(
        self,
        pos: PositionState,
        qty: Decimal,
        price: Decimal,
        pnl: Decimal,
        fee: Decimal,
        ts: int,
        tag: str,
    ) -> None:
        ccy = pos.settle
        if pos.derivative:
            self.credit(ccy, pnl)  # spot already moved the cash in apply_fill
            pos.margin -= pos.margin * qty / pos.size
        self.realized_total[ccy] = self.realized_total.get(ccy, _ZERO) + pnl
        pos.realized += pnl
        pos.trip_exit_value += price * qty
        pos.trip_exit_qty += qty
        pos.trip_fees += fee
        pos.size -= qty
        if pos.size == 0:
            pos.margin = _ZERO
            pos.liquidation = None
            pos.liquidation_f = None
            self.trades.append(
                Trade(
                    symbol=pos.symbol,
                    direction=pos.direction,
                    qty=pos.trip_peak,
                    entry_price=pos.trip_entry_value / pos.trip_entry_qty,
                    exit_price=pos.trip_exit_value / pos.trip_exit_qty,
                    opened_at=pos.trip_opened_at,
                    closed_at=ts,
                    pnl=pos.realized - pos.trip_fees,
                    fees=pos.trip_fees,
                    exit_reason=tag,
                )
            )

    def _update_liquidation(self, pos: PositionState) -> None:
        """Recompute the isolated liquidation price after a change of the position.

        Liquidation when margin + unrealised PnL <= mmr * notional at the mark price P:
        long  P_liq = (E*q*ct - M) / (q*ct*(1 - mmr));
        short P_liq = (E*q*ct + M) / (q*ct*(1 + mmr)).
        """
        if not pos.derivative or pos.margin_mode is not MarginMode.ISOLATED or pos.size == 0:
            pos.liquidation = None
            pos.liquidation_f = None
            return
        units = pos.size * pos.contract_size
        mmr = self.maintenance_margin_rate
        if pos.direction is Direction.LONG:
            liq = (pos.entry * units - pos.margin) / (units * (_ONE - mmr))
        else:
            liq = (pos.entry * units + pos.margin) / (units * (_ONE + mmr))
        if liq <= 0:
            pos.liquidation = None
            pos.liquidation_f = None
        else:
            pos.liquidation = liq
            pos.liquidation_f = float(liq)
