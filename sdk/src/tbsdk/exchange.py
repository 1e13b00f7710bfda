"""The exchange contract: capability flags and the async calls a bot needs.

Adapters map every venue error onto the :mod:`tbsdk.errors` taxonomy (authentication, insufficient
funds, invalid order, order not found, rate limited, unavailable), each with its ``retryable``
flag, so the host's retry and reconciliation logic never parses venue messages.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from pydantic import ConfigDict

from .credentials import Credentials
from .errors import InvalidOrder
from .model import (
    Balance,
    CandleArrays,
    Event,
    Instrument,
    MarginMode,
    Order,
    OrderIntent,
    Position,
    PositionMode,
    Ticker,
    Trade,
)
from .model._base import FrozenModel

__all__ = ["Exchange", "ExchangeCapabilities", "ExchangeConfig", "SimulatedVenue"]


class ExchangeCapabilities(FrozenModel):
    """What a venue supports natively. The host emulates what is missing (e.g. stops)."""

    hedge_mode: bool = False
    stop_orders: bool = False
    take_profit_orders: bool = False
    reduce_only: bool = False
    post_only: bool = False
    amend: bool = False
    close_position: bool = False
    websocket: bool = False
    max_candles_per_request: int = 500


class ExchangeConfig(FrozenModel):
    """Base of an exchange plugin's settings (sandbox flag, base URL override, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class Exchange(ABC):
    """Base class of every exchange plugin, registered under ``tbhost.exchanges``."""

    name: ClassVar[str]
    """Entry-point name, e.g. ``"okx"``."""
    api_version: ClassVar[str]
    """SDK API version this adapter targets; checked by the host at load."""
    capabilities: ClassVar[ExchangeCapabilities]
    config_class: ClassVar[type[ExchangeConfig]] = ExchangeConfig

    def __init__(self, config: ExchangeConfig, credentials: Credentials | None = None) -> None:
        self.config = config
        self.credentials = credentials

    @abstractmethod
    async def load_markets(self) -> dict[str, Instrument]:
        """All markets by ccxt unified symbol, with tick, lot step, minimums and fees."""

    @abstractmethod
    async def fetch_candles(
        self, symbol: str, timeframe: str, since: int, until: int | None = None
    ) -> CandleArrays:
        """Closed candles with open time in ``[since, until)``, paging as the venue requires."""

    @abstractmethod
    async def fetch_ticker(self, symbol: str) -> Ticker:
        """Last, bid and ask."""

    @abstractmethod
    async def fetch_balances(self) -> dict[str, Balance]:
        """Balances by currency."""

    @abstractmethod
    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        """Open positions (non-zero), optionally of some symbols."""

    @abstractmethod
    async def create_order(self, intent: OrderIntent) -> Order:
        """Send an order. A duplicate ``client_order_id`` must not create a second order: raise
        :class:`~tbsdk.errors.InvalidOrder` or return the existing order."""

    @abstractmethod
    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel by client id; raise :class:`~tbsdk.errors.OrderNotFound` if unknown."""

    @abstractmethod
    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        """Current state of an order by client id (open or finished)."""

    @abstractmethod
    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Resting orders, optionally of one symbol."""

    async def amend_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Order:
        """Change a resting order in place (only when ``capabilities.amend``)."""
        raise InvalidOrder(f"{self.name} cannot amend orders; cancel and place a new one")

    async def set_leverage(
        self, symbol: str, leverage: Decimal, margin_mode: MarginMode = MarginMode.CROSS
    ) -> None:
        """Set leverage and margin mode for ``symbol`` (derivatives only)."""
        raise InvalidOrder(f"{self.name} does not support leverage")

    async def set_position_mode(self, mode: PositionMode) -> None:
        """Switch between one-way and hedge mode (only when ``capabilities.hedge_mode``)."""
        if mode is not PositionMode.ONE_WAY:
            raise InvalidOrder(f"{self.name} supports one-way positions only")

    async def close(self) -> None:
        """Release connections. Called once when the host is done with the adapter."""


@runtime_checkable
class SimulatedVenue(Protocol):
    """An exchange the host can drive candle by candle: what a backtest needs beyond
    :class:`Exchange`. The paper exchange implements it."""

    def process_candle(
        self, symbol: str, ts: int, open: float, high: float, low: float, close: float
    ) -> Sequence[Event]:
        """Match resting orders against one candle; return the events it caused, in order,
        each stamped ``ts`` (the host passes the candle's close time)."""
        ...

    def next_active_candle(
        self, symbol: str, high: npt.NDArray[np.float64], low: npt.NDArray[np.float64], start: int
    ) -> int:
        """Index of the first candle at or after ``start`` (of the ``high``/``low`` series about
        to be replayed) that could fill, trigger or liquidate anything; ``len(high)`` if none.
        It may name a candle where nothing ends up happening, never skip one where something
        would."""
        ...

    def skip_candles(self, symbol: str, ts: int, close: float) -> None:
        """Advance over candles proved quiet: the clock to ``ts`` and the last price to
        ``close``, as matching them one by one would have left them."""
        ...

    def equity(self, currency: str) -> Decimal:
        """Account value in ``currency``, unrealised PnL at the last price included."""
        ...

    def balance(self, currency: str) -> Balance:
        """Holdings of ``currency`` now (zero if none): what ``fetch_balances`` would report."""
        ...

    @property
    def position_mode(self) -> PositionMode:
        """The account's position mode, which bots see as ``ctx.position_mode``."""
        ...

    def save_state(self) -> dict[str, Any]:
        """The whole venue (balances, positions, orders, trades, clock) as JSON-ready data, so
        a paper account outlives the process like a real venue's does."""
        ...

    def restore_state(self, data: dict[str, Any]) -> None:
        """Continue from :meth:`save_state` data (a venue built with the same config)."""
        ...

    def trades(self) -> list[Trade]:
        """Round trips closed so far."""
        ...
