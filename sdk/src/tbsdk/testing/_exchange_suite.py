"""``ExchangeConformance``: the checks every exchange plugin runs in its own tests.

Subclass it and provide ``exchange_factory`` (an async callable returning a connected adapter,
e.g. pointed at a local server speaking the venue's dialect) and ``exchange_symbol``::

    class TestMyExchange(ExchangeConformance):
        @pytest.fixture
        def exchange_factory(self) -> Callable[[], Awaitable[Exchange]]:
            async def make() -> Exchange:
                return MyExchange(MyExchange.config_class(base_url=server.url))
            return make

        @pytest.fixture
        def exchange_symbol(self) -> str:
            return "BTC/USDT"

The tests are async and need pytest-asyncio (``pip install tbsdk[testing]``); they carry the
``asyncio`` mark, so they run in both its ``strict`` and ``auto`` modes. Override
``candle_window`` to ask for candles your server holds: by default 2 pages + 10 one-minute
candles from 2024-04-02 00:00 UTC, the start of the bundled BTC/USDT 1m data. Orders are placed
at half the last price (never filled) and cancelled at the end of each test.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import numpy as np
import pytest
import pytest_asyncio

from .._version import check_api_version
from ..errors import ExchangeError, InvalidOrder, OrderNotFound, TbError
from ..exchange import Exchange, ExchangeCapabilities
from ..model import CandleArrays, Instrument, Order, OrderIntent, OrderSide, OrderStatus, OrderType
from ..money import ceil_to
from ..timeframes import bucket_start, timeframe_ms

__all__ = ["ExchangeConformance"]

_DEFAULT_SINCE = 1_712_016_000_000  # 2024-04-02 00:00 UTC


def _new_client_id() -> str:
    return "tbc" + uuid.uuid4().hex[:24]


def _assert_refused(exc: TbError) -> None:
    assert isinstance(exc, ExchangeError), f"{type(exc).__name__} must derive from ExchangeError"
    assert exc.retryable is False, f"{type(exc).__name__} for a malformed request is not retryable"
    assert str(exc).strip(), "the error needs a message saying what was wrong"


@pytest.mark.asyncio
class ExchangeConformance:
    """Base test class: subclass it (name starting with ``Test``) to run the checks."""

    # -- fixtures ----------------------------------------------------------------------------
    @pytest_asyncio.fixture
    async def exchange(
        self, exchange_factory: Callable[[], Awaitable[Exchange]]
    ) -> AsyncIterator[Exchange]:
        """A connected adapter from ``exchange_factory``, closed after the test."""
        adapter = await exchange_factory()
        try:
            yield adapter
        finally:
            await adapter.close()

    @pytest.fixture
    def candle_window(self, exchange: Exchange) -> tuple[str, int, int]:
        """``(timeframe, since, until)`` spanning more than one page of candles."""
        count = 2 * type(exchange).capabilities.max_candles_per_request + 10
        return "1m", _DEFAULT_SINCE, _DEFAULT_SINCE + count * 60_000

    @pytest_asyncio.fixture
    async def exchange_instrument(self, exchange: Exchange, exchange_symbol: str) -> Instrument:
        """The market of ``exchange_symbol`` as ``load_markets`` reports it."""
        markets = await exchange.load_markets()
        return markets[exchange_symbol]

    async def _far_limit(
        self, exchange: Exchange, instrument: Instrument, *, client_order_id: str | None = None
    ) -> OrderIntent:
        """A buy limit at half the last price, large enough for every minimum: never fills."""
        ticker = await exchange.fetch_ticker(instrument.symbol)
        price = instrument.floor_price(ticker.last / 2)
        # 10 % above the minimum notional so rounding never drops below it.
        wanted = instrument.min_notional * Decimal("1.1") / (price * instrument.contract_size)
        qty = ceil_to(max(wanted, instrument.min_size, instrument.lot_step), instrument.lot_step)
        return OrderIntent(
            client_order_id=client_order_id or _new_client_id(),
            symbol=instrument.symbol,
            side=OrderSide.BUY,
            type=OrderType.LIMIT,
            qty=qty,
            price=price,
        )

    @staticmethod
    async def _cleanup(exchange: Exchange, symbol: str, client_order_id: str) -> None:
        # Best effort, and never allowed to hide the test's own outcome: other tests check how
        # cancel_order reports an unknown id.
        with contextlib.suppress(Exception):
            await exchange.cancel_order(symbol, client_order_id)

    # -- declaration and data ----------------------------------------------------------------
    async def test_declares_name_version_and_capabilities(self, exchange: Exchange) -> None:
        cls = type(exchange)
        assert isinstance(getattr(cls, "name", None), str), "set name = '<venue>' on the class"
        assert cls.name, "name must not be empty"
        problem = check_api_version(f"exchange {cls.__name__}", getattr(cls, "api_version", None))
        assert problem is None, problem
        caps = getattr(cls, "capabilities", None)
        assert isinstance(caps, ExchangeCapabilities), "set capabilities = ExchangeCapabilities()"
        assert caps.max_candles_per_request > 0

    async def test_load_markets_holds_the_symbol(
        self, exchange: Exchange, exchange_symbol: str
    ) -> None:
        markets = await exchange.load_markets()
        assert exchange_symbol in markets, f"{exchange_symbol} missing from load_markets()"
        for symbol, market in markets.items():
            assert isinstance(market, Instrument), f"{symbol}: {type(market).__name__}"
            assert market.symbol == symbol, f"market under {symbol} says {market.symbol}"
            assert market.exchange == type(exchange).name

    async def test_fetch_candles_pages_and_returns_closed_candles(
        self, exchange: Exchange, exchange_symbol: str, candle_window: tuple[str, int, int]
    ) -> None:
        timeframe, since, until = candle_window
        tf_ms = timeframe_ms(timeframe)
        page = type(exchange).capabilities.max_candles_per_request
        assert (until - since) // tf_ms > page, "candle_window must span more than one page"
        candles = await exchange.fetch_candles(exchange_symbol, timeframe, since, until)
        assert isinstance(candles, CandleArrays)
        assert len(candles) > page, f"got {len(candles)} candles: paging beyond {page} is missing"
        ts = candles.ts
        assert bool(np.all(np.diff(ts) > 0)), "timestamps must be strictly ascending"
        assert ts[0] >= since, f"first candle {ts[0]} before since={since}"
        assert ts[-1] < until, f"last candle {ts[-1]} not before until={until}"
        assert all(bucket_start(int(t), timeframe) == t for t in ts), "open times off the grid"
        assert int(ts[-1]) + tf_ms <= time.time() * 1000, "the last candle has not closed yet"
        assert bool(np.all(candles.high >= np.maximum(candles.open, candles.close)))
        assert bool(np.all(candles.low <= np.minimum(candles.open, candles.close)))
        assert bool(np.all(candles.volume >= 0))

    # -- orders ------------------------------------------------------------------------------
    async def test_far_limit_order_rests_open(
        self, exchange: Exchange, exchange_instrument: Instrument
    ) -> None:
        instrument = exchange_instrument
        intent = await self._far_limit(exchange, instrument)
        try:
            created = await exchange.create_order(intent)
            assert isinstance(created, Order)
            assert created.client_order_id == intent.client_order_id
            assert created.status in (OrderStatus.SUBMITTED, OrderStatus.OPEN), created.status
            assert (created.intent.side, created.intent.qty, created.intent.price) == (
                intent.side,
                intent.qty,
                intent.price,
            )
            fetched = await exchange.fetch_order(intent.symbol, intent.client_order_id)
            assert fetched.client_order_id == intent.client_order_id
            assert fetched.status is OrderStatus.OPEN, fetched.status
            open_ids = [o.client_order_id for o in await exchange.fetch_open_orders(intent.symbol)]
            assert intent.client_order_id in open_ids
        finally:
            await self._cleanup(exchange, intent.symbol, intent.client_order_id)

    async def test_same_client_order_id_creates_no_second_order(
        self, exchange: Exchange, exchange_instrument: Instrument
    ) -> None:
        instrument = exchange_instrument
        intent = await self._far_limit(exchange, instrument)
        try:
            await exchange.create_order(intent)
            try:
                again = await exchange.create_order(intent)
            except InvalidOrder:
                pass  # refusing the duplicate is one of the two allowed answers
            else:
                assert again.client_order_id == intent.client_order_id
            open_orders = await exchange.fetch_open_orders(intent.symbol)
            same = [o for o in open_orders if o.client_order_id == intent.client_order_id]
            assert len(same) == 1, f"{len(same)} orders with client id {intent.client_order_id}"
        finally:
            await self._cleanup(exchange, intent.symbol, intent.client_order_id)

    async def test_cancel_moves_the_order_to_canceled(
        self, exchange: Exchange, exchange_instrument: Instrument
    ) -> None:
        instrument = exchange_instrument
        intent = await self._far_limit(exchange, instrument)
        await exchange.create_order(intent)
        canceled = await exchange.cancel_order(intent.symbol, intent.client_order_id)
        assert canceled.client_order_id == intent.client_order_id
        assert canceled.status is OrderStatus.CANCELED, canceled.status
        fetched = await exchange.fetch_order(intent.symbol, intent.client_order_id)
        assert fetched.status is OrderStatus.CANCELED, fetched.status
        open_ids = [o.client_order_id for o in await exchange.fetch_open_orders(intent.symbol)]
        assert intent.client_order_id not in open_ids

    async def test_unknown_order_raises_order_not_found(
        self, exchange: Exchange, exchange_symbol: str
    ) -> None:
        unknown = _new_client_id()
        with pytest.raises(OrderNotFound) as cancel_info:
            await exchange.cancel_order(exchange_symbol, unknown)
        _assert_refused(cancel_info.value)
        with pytest.raises(OrderNotFound) as fetch_info:
            await exchange.fetch_order(exchange_symbol, unknown)
        _assert_refused(fetch_info.value)

    async def test_order_below_minimum_size_raises_invalid_order(
        self, exchange: Exchange, exchange_instrument: Instrument
    ) -> None:
        instrument = exchange_instrument
        valid = await self._far_limit(exchange, instrument)
        # Below the minimum when there is one, else off the lot step: both are malformed.
        small = instrument.min_size - instrument.lot_step
        qty = small if small > 0 else instrument.lot_step / 2
        intent = valid.model_copy(update={"qty": qty})
        try:
            with pytest.raises(InvalidOrder) as info:
                await exchange.create_order(intent)
            _assert_refused(info.value)
        finally:
            await self._cleanup(exchange, intent.symbol, intent.client_order_id)

    async def test_order_off_the_tick_grid_raises_invalid_order(
        self, exchange: Exchange, exchange_instrument: Instrument
    ) -> None:
        instrument = exchange_instrument
        valid = await self._far_limit(exchange, instrument)
        assert valid.price is not None
        intent = valid.model_copy(update={"price": valid.price + instrument.tick(valid.price) / 2})
        try:
            with pytest.raises(InvalidOrder) as info:
                await exchange.create_order(intent)
            _assert_refused(info.value)
        finally:
            await self._cleanup(exchange, intent.symbol, intent.client_order_id)
