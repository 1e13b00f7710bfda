"""``PaperExchange``: the async :class:`tbsdk.Exchange` facade over :class:`PaperEngine`."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from tbsdk import Credentials, Exchange, ExchangeCapabilities, ExchangeConfig
from tbsdk.errors import ConfigError, InvalidOrder
from tbsdk.model import (
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

from .engine import PaperEngine
from .settings import PaperConfig

__all__ = ["PaperExchange"]


class PaperExchange(Exchange):
    """A simulated venue. Every call operates on :attr:`engine`, which a backtest also drives.

    Candles for :meth:`fetch_candles` come from ``candles`` (by ``(symbol, timeframe)``) or
    :meth:`add_candles`; the venue never downloads anything.
    """

    name: ClassVar[str] = "paper"
    api_version: ClassVar[str] = "1.0"
    capabilities: ClassVar[ExchangeCapabilities] = ExchangeCapabilities(
        hedge_mode=True,
        stop_orders=True,
        take_profit_orders=True,
        reduce_only=True,
        post_only=True,
        amend=True,
        close_position=True,
        websocket=False,
        max_candles_per_request=1000,
    )
    config_class: ClassVar[type[ExchangeConfig]] = PaperConfig

    def __init__(
        self,
        config: ExchangeConfig,
        credentials: Credentials | None = None,
        *,
        candles: Mapping[tuple[str, str], CandleArrays] | None = None,
    ) -> None:
        if not isinstance(config, PaperConfig):
            raise ConfigError("the paper exchange needs a PaperConfig")
        super().__init__(config, credentials)
        self.engine = PaperEngine(config)
        self._candles: dict[tuple[str, str], CandleArrays] = dict(candles or {})

    def add_candles(self, symbol: str, timeframe: str, candles: CandleArrays) -> None:
        """Provide the candle series :meth:`fetch_candles` serves for ``(symbol, timeframe)``."""
        self._candles[(symbol, timeframe)] = candles

    # -- SimulatedVenue: what a backtest drives ---------------------------------------------
    def process_candle(
        self, symbol: str, ts: int, open: float, high: float, low: float, close: float
    ) -> Sequence[Event]:
        return self.engine.process_candle(symbol, ts, open, high, low, close)

    def next_active_candle(
        self, symbol: str, high: npt.NDArray[np.float64], low: npt.NDArray[np.float64], start: int
    ) -> int:
        return self.engine.next_active(symbol, high, low, start)

    def skip_candles(self, symbol: str, ts: int, close: float) -> None:
        self.engine.skip(symbol, ts, close)

    def equity(self, currency: str) -> Decimal:
        return self.engine.equity(currency)

    def trades(self) -> list[Trade]:
        return self.engine.trades

    def balance(self, currency: str) -> Balance:
        return self.engine.balance(currency)

    @property
    def position_mode(self) -> PositionMode:
        return self.engine.position_mode

    def save_state(self) -> dict[str, Any]:
        return self.engine.save()

    def restore_state(self, data: dict[str, Any]) -> None:
        self.engine.restore(data)

    async def load_markets(self) -> dict[str, Instrument]:
        return self.engine.instruments

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: int, until: int | None = None
    ) -> CandleArrays:
        if symbol not in self.engine.instruments:
            raise InvalidOrder(f"paper: unknown symbol {symbol!r}")
        series = self._candles.get((symbol, timeframe))
        if series is None:
            return CandleArrays.empty()
        # Binary search over the ascending open times; the result is a view, not a copy.
        start = bisect_left(series.ts, since)
        stop = len(series) if until is None else bisect_left(series.ts, until)
        return series.slice(start, stop)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return Ticker(symbol=symbol, ts=self.engine.now, last=self.engine.last_price(symbol))

    async def fetch_balances(self) -> dict[str, Balance]:
        return self.engine.balances()

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        return self.engine.positions(symbols)

    async def create_order(self, intent: OrderIntent) -> Order:
        return self.engine.submit(intent)

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        return self.engine.cancel(symbol, client_order_id)

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        return self.engine.order(symbol, client_order_id)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return self.engine.open_orders(symbol)

    async def amend_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Order:
        return self.engine.amend(
            symbol, client_order_id, qty=qty, price=price, trigger_price=trigger_price
        )

    async def set_leverage(
        self, symbol: str, leverage: Decimal, margin_mode: MarginMode = MarginMode.CROSS
    ) -> None:
        self.engine.set_leverage(symbol, leverage, margin_mode)

    async def set_position_mode(self, mode: PositionMode) -> None:
        self.engine.set_position_mode(mode)
