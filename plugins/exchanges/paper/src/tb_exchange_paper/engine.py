"""The synchronous matching engine: what a backtest drives candle by candle.

:class:`PaperEngine` is the one object that owns the venue state. The async
:class:`~tb_exchange_paper.PaperExchange` and a backtest loop operate on the same instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from tbsdk.errors import ExchangeError
from tbsdk.model import (
    Balance,
    Instrument,
    MarginMode,
    Order,
    OrderIntent,
    OrderUpdate,
    Position,
    PositionMode,
    Trade,
)

from . import orders, scan
from .execution import process_candle
from .persistence import dump_state, load_state
from .settings import PaperConfig
from .state import EngineEvent, EngineState

__all__ = ["PaperEngine"]


class PaperEngine:
    """Matching engine of the paper venue: books, fills, balances, positions, round trips.

    Prices passed to :meth:`process_candle` may be floats (straight from
    :class:`~tbsdk.model.CandleArrays`) or Decimals. Decisions compare floats; a price that
    becomes a fill is converted to Decimal by shortest repr, and all money math is Decimal.
    """

    def __init__(self, config: PaperConfig) -> None:
        self.config = config
        self._st = EngineState.fresh(config)

    # -- driving ---------------------------------------------------------------------------

    def process_candle(
        self,
        symbol: str,
        ts: int,
        open_: float | Decimal,
        high: float | Decimal,
        low: float | Decimal,
        close: float | Decimal,
    ) -> Sequence[EngineEvent]:
        """Match one candle of ``symbol`` and return the fills (each followed by the position
        it produced) and order updates, in the order they happened.

        ``ts`` stamps everything produced inside the candle and becomes the engine clock; a
        backtest passes the candle's close time so these events sort before its close event.
        Returns an empty tuple, creating nothing, when nothing rests or triggers.
        """
        return process_candle(self._st, symbol, ts, open_, high, low, close)

    def process_tick(self, symbol: str, ts: int, price: float | Decimal) -> Sequence[EngineEvent]:
        """A last-trade price (paper trading on live data).

        Matched as a move from the previous last price to ``price``: a candle opening at the
        previous price and closing at ``price``, so levels crossed in between fill at their own
        price (a limit at its limit, a stop at its trigger), not at the tick's price.
        """
        prev = self._st.book(symbol).last_raw
        if prev is None:
            return process_candle(self._st, symbol, ts, price, price, price, price)
        high, low = (prev, price) if prev >= price else (price, prev)
        return process_candle(self._st, symbol, ts, prev, high, low, price)

    def next_active(
        self, symbol: str, high: npt.NDArray[np.float64], low: npt.NDArray[np.float64], start: int
    ) -> int:
        """First candle index >= ``start`` that can change anything on ``symbol``."""
        return scan.next_active(self._st, symbol, high, low, start)

    def skip(self, symbol: str, ts: int, close: float) -> None:
        """Pass over candles :meth:`next_active` proved quiet (clock and last price only)."""
        scan.skip(self._st, symbol, ts, close)

    def drain(self) -> list[EngineEvent]:
        """Order updates produced by calls (placed, amended, canceled) since the last drain."""
        changed, self._st.outbox = self._st.outbox, []
        return [OrderUpdate(order=order, by_strategy=asked) for order, asked in changed]

    @property
    def now(self) -> int:
        """Time of the last candle or tick (UTC ms); stamps orders placed now."""
        return self._st.now

    @now.setter
    def now(self, ts: int) -> None:
        self._st.now = ts

    # -- orders ----------------------------------------------------------------------------

    def submit(self, intent: OrderIntent) -> Order:
        """Place an order (see :func:`tb_exchange_paper.orders.submit`)."""
        return orders.submit(self._st, intent)

    def cancel(self, symbol: str, client_order_id: str) -> Order:
        """Cancel a live order by client id."""
        return orders.cancel(self._st, symbol, client_order_id)

    def amend(
        self,
        symbol: str,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Order:
        """Change size, limit or trigger of a resting order in place."""
        return orders.amend(self._st, symbol, client_order_id, qty, price, trigger_price)

    def order(self, symbol: str, client_order_id: str) -> Order:
        """Current state of any order ever accepted."""
        return orders._live_entry(self._st, symbol, client_order_id)[2]

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Live orders (resting and waiting for the next open), in submission order."""
        books = [self._st.book(symbol)] if symbol else list(self._st.books.values())
        entries = [e for sb in books for e in (*sb.pending, *sb.resting)]
        return [e.order for e in sorted(entries, key=lambda e: e.seq)]

    def set_leverage(self, symbol: str, leverage: Decimal, margin_mode: MarginMode) -> None:
        """Set leverage and margin mode of a derivatives symbol (no open position allowed)."""
        orders.set_leverage(self._st, symbol, leverage, margin_mode)

    def set_position_mode(self, mode: PositionMode) -> None:
        """Switch one-way / hedge mode (no open position or live order allowed)."""
        orders.set_position_mode(self._st, mode)

    @property
    def position_mode(self) -> PositionMode:
        return self._st.position_mode

    # -- account ---------------------------------------------------------------------------

    @property
    def instruments(self) -> dict[str, Instrument]:
        return {s: sb.instrument for s, sb in self._st.books.items()}

    def mark(self, symbol: str) -> Decimal | None:
        """Last price of ``symbol`` (None before the first candle)."""
        return self._st.book(symbol).mark()

    def last_price(self, symbol: str) -> Decimal:
        price = self.mark(symbol)
        if price is None:
            raise ExchangeError(f"paper {symbol}: no price yet; process a candle first")
        return price

    def balance(self, currency: str) -> Balance:
        """Holdings of ``currency`` (zero if none)."""
        return self._st.accounts.balance(currency, self._st.mark)

    def balances(self) -> dict[str, Balance]:
        """Balances of every currency held or reserved."""
        acc = self._st.accounts
        currencies = sorted({*acc.wallet, *acc.reserved})
        return {c: acc.balance(c, self._st.mark) for c in currencies}

    def equity(self, currency: str) -> Decimal:
        """Wallet + unrealised PnL (derivatives) + marked value of spot positions."""
        return self._st.accounts.equity(currency, self._st.mark)

    def positions(self, symbols: list[str] | None = None) -> list[Position]:
        """Open positions, unrealised PnL at the last price."""
        return [
            p.snapshot(self._st.mark(p.symbol))
            for p in self._st.accounts.open_positions()
            if symbols is None or p.symbol in symbols
        ]

    @property
    def trades(self) -> list[Trade]:
        """Finished round trips, oldest first."""
        return list(self._st.accounts.trades)

    def fees_paid(self, currency: str) -> Decimal:
        return self._st.accounts.fees_paid.get(currency, Decimal(0))

    def realized_pnl(self, currency: str) -> Decimal:
        """Gross realised PnL (fees excluded) since the start."""
        return self._st.accounts.realized_total.get(currency, Decimal(0))

    # -- persistence -----------------------------------------------------------------------

    def save(self) -> dict[str, Any]:
        """The whole state as JSON-serialisable data (Decimals as strings)."""
        return dump_state(self._st)

    def restore(self, data: dict[str, Any]) -> None:
        """Replace the state with one from :meth:`save` (same config expected)."""
        self._st = load_state(self.config, data)
