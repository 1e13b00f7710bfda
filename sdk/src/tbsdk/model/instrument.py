"""Instruments (markets) and the exchange rules an order must respect."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import Field, model_validator

from ..errors import InvalidOrder
from ..money import ceil_to, floor_to
from ._base import FrozenModel
from .enums import MarketType

__all__ = ["Instrument", "PriceBand"]


class PriceBand(FrozenModel):
    """From ``min_price`` upward the tick is ``tick_size`` (banded ticks, e.g. KRW markets)."""

    min_price: Decimal = Field(ge=0)
    tick_size: Decimal = Field(gt=0)


class Instrument(FrozenModel):
    """A tradable market with the rules the venue enforces on its orders.

    Sizes are in contracts; one contract is ``contract_size`` units of the base asset (1 on spot).
    """

    exchange: str = Field(description="Entry-point name of the exchange plugin, e.g. 'okx'.")
    symbol: str = Field(description="ccxt unified symbol, e.g. 'BTC/USDT' or 'BTC/USDT:USDT'.")
    base: str
    quote: str
    settle: str | None = Field(default=None, description="Settlement currency; None on spot.")
    type: MarketType = MarketType.SPOT
    contract_size: Decimal = Field(default=Decimal(1), gt=0)
    tick_size: Decimal = Field(gt=0, description="Price increment (below the first price band).")
    price_bands: tuple[PriceBand, ...] = Field(
        default=(), description="Price-dependent ticks, ascending by min_price; empty if fixed."
    )
    lot_step: Decimal = Field(gt=0, description="Size increment, in contracts.")
    min_size: Decimal = Field(default=Decimal(0), ge=0, description="Smallest order, contracts.")
    max_size: Decimal | None = Field(default=None, gt=0)
    min_notional: Decimal = Field(default=Decimal(0), ge=0, description="In quote currency.")
    max_leverage: Decimal | None = Field(default=None, gt=0)
    maker_fee: Decimal = Decimal(0)
    taker_fee: Decimal = Decimal(0)

    @model_validator(mode="after")
    def _check(self) -> Instrument:
        mins = [band.min_price for band in self.price_bands]
        if mins != sorted(mins):
            raise ValueError("price_bands must be sorted by min_price")
        if self.type is not MarketType.SPOT and self.settle is None:
            raise ValueError(f"{self.symbol}: a {self.type} market needs a settle currency")
        return self

    @property
    def is_derivative(self) -> bool:
        return self.type is not MarketType.SPOT

    def tick(self, price: Decimal) -> Decimal:
        """The price increment that applies at ``price``."""
        tick = self.tick_size
        for band in self.price_bands:
            if price >= band.min_price:
                tick = band.tick_size
        return tick

    def floor_price(self, price: Decimal) -> Decimal:
        return floor_to(price, self.tick(price))

    def ceil_price(self, price: Decimal) -> Decimal:
        return ceil_to(price, self.tick(price))

    def floor_size(self, qty: Decimal) -> Decimal:
        return floor_to(qty, self.lot_step)

    def notional(self, qty: Decimal, price: Decimal) -> Decimal:
        """Quote value of ``qty`` contracts at ``price``."""
        return qty * self.contract_size * price

    def check_order(self, qty: Decimal, price: Decimal | None, *, priced: bool = True) -> None:
        """Raise :class:`InvalidOrder` naming the rule when an order would break one.

        ``price`` is the limit or trigger price; for a market order (``priced=False``) it is
        the reference price, used for the minimum notional only (it need not sit on the tick).
        """
        if qty <= 0:
            raise self._invalid(f"order size must be positive, got {qty}")
        if self.max_size is not None and qty > self.max_size:
            raise self._invalid(f"size {qty} is above the maximum size {self.max_size}")
        if not _is_multiple(qty, self.lot_step):
            raise self._invalid(
                f"size {qty} is not a multiple of the lot step {self.lot_step}; "
                f"round it down to {self.floor_size(qty)}"
            )
        if qty < self.min_size:
            raise self._invalid(f"size {qty} is below the minimum size {self.min_size}")
        if price is None:
            return
        if price <= 0:
            raise self._invalid(f"price must be positive, got {price}")
        tick = self.tick(price)
        if priced and not _is_multiple(price, tick):
            raise self._invalid(
                f"price {price} is not on the tick grid {tick}; use "
                f"{floor_to(price, tick)} or {ceil_to(price, tick)}"
            )
        notional = self.notional(qty, price)
        if notional < self.min_notional:
            raise self._invalid(
                f"order value {notional} {self.quote} is below the minimum "
                f"{self.min_notional} {self.quote}"
            )

    def _invalid(self, problem: str) -> InvalidOrder:
        # The market's name is formatted only for a refusal: check_order runs for every order.
        return InvalidOrder(f"{self.exchange} {self.symbol}: {problem}")


def _is_multiple(value: Decimal, step: Decimal) -> bool:
    """``value`` is a whole number of ``step``; False (not an exception) when the quotient is
    too large for the decimal context, as for an absurd size like 1E+40."""
    try:
        return value % step == 0
    except InvalidOperation:
        return False
