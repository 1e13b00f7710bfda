"""The mutable state of one paper venue, shared by order entry, matching and persistence."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tbsdk.ids import base36
from tbsdk.model import (
    FillEvent,
    Instrument,
    MarginMode,
    Order,
    OrderIntent,
    OrderSide,
    OrderUpdate,
    PositionChanged,
    PositionMode,
    PositionSide,
)

from .accounts import Accounts
from .book import SymbolBook
from .errors import PaperInvalidOrder
from .settings import PaperConfig

__all__ = ["EngineEvent", "EngineState"]

EngineEvent = OrderUpdate | FillEvent | PositionChanged
"""What the engine reports, in the order it happened."""


@dataclass(slots=True)
class EngineState:
    """Books, account and every order ever accepted (so client ids are never reused)."""

    config: PaperConfig
    books: dict[str, SymbolBook]
    accounts: Accounts
    position_mode: PositionMode
    orders: dict[str, Order] = field(default_factory=dict)
    leverage: dict[str, tuple[Decimal, MarginMode]] = field(default_factory=dict)
    now: int = 0
    seq: int = 0
    fills: int = 0
    liquidations: int = 0
    outbox: list[tuple[Order, bool]] = field(default_factory=list)
    """Orders changed by calls (placed, amended, canceled) and whether the change was asked
    for, until drained: the update events are built only if someone drains them (a backtest
    never does)."""

    @classmethod
    def fresh(cls, config: PaperConfig) -> EngineState:
        accounts = Accounts(maintenance_margin_rate=config.maintenance_margin_rate)
        for currency, amount in config.balances.items():
            accounts.credit(currency, amount)
        return cls(
            config=config,
            books={inst.symbol: SymbolBook(inst) for inst in config.instruments},
            accounts=accounts,
            position_mode=config.position_mode,
        )

    # -- lookups ---------------------------------------------------------------------------

    def book(self, symbol: str) -> SymbolBook:
        try:
            return self.books[symbol]
        except KeyError:
            raise PaperInvalidOrder(
                f"paper: unknown symbol {symbol!r}; configured: {', '.join(self.books) or 'none'}"
            ) from None

    def mark(self, symbol: str) -> Decimal | None:
        sb = self.books.get(symbol)
        return sb.mark() if sb is not None else None

    def leverage_of(self, inst: Instrument) -> tuple[Decimal, MarginMode]:
        if not inst.is_derivative:
            return Decimal(1), MarginMode.CROSS
        return self.leverage.get(
            inst.symbol, (self.config.default_leverage, self.config.default_margin_mode)
        )

    def fee_rate(self, inst: Instrument, taker: bool) -> Decimal:
        if taker:
            return self.config.taker_fee if self.config.taker_fee is not None else inst.taker_fee
        return self.config.maker_fee if self.config.maker_fee is not None else inst.maker_fee

    def position_book(self, inst: Instrument, intent: OrderIntent) -> PositionSide:
        """The position book an order trades, checked against the account's position mode."""
        side = intent.position_side
        hedge = self.position_mode is PositionMode.HEDGE and inst.is_derivative
        if hedge and side is PositionSide.NET:
            raise PaperInvalidOrder(
                f"paper {inst.symbol}: the account is in hedge mode; set position_side to "
                "'long' or 'short'"
            )
        if not hedge and side is not PositionSide.NET:
            raise PaperInvalidOrder(
                f"paper {inst.symbol}: position_side {side} needs a hedge-mode derivatives "
                "account; use 'net'"
            )
        return side

    def is_reducing(self, intent: OrderIntent, book: PositionSide) -> bool:
        """Reduce-only, close-position, or the closing side of a hedge book (sell on long, buy
        on short), which hedge-mode venues treat as reduce-only."""
        if intent.reduce_only or intent.close_position:
            return True
        if book is PositionSide.LONG:
            return intent.side is OrderSide.SELL
        if book is PositionSide.SHORT:
            return intent.side is OrderSide.BUY
        return False

    # -- ids -------------------------------------------------------------------------------

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def next_trade_id(self) -> str:
        self.fills += 1
        return f"t{self.config.id_prefix}{base36(self.fills)}"

    def next_liquidation_id(self) -> str:
        # Skip ids a client happened to use: a liquidation must never overwrite an order.
        while True:
            self.liquidations += 1
            cid = f"liq{self.config.id_prefix}{base36(self.liquidations)}"
            if cid not in self.orders:
                return cid

    def exchange_order_id(self, seq: int) -> str:
        return f"p{self.config.id_prefix}{base36(seq)}"
