"""ExchangeConformance against a minimal in-memory exchange (test-only), and proof that the
checks fail on adapters that break the contract."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from tbsdk import Exchange, ExchangeCapabilities, ExchangeConfig
from tbsdk.errors import ExchangeError, InvalidOrder, OrderNotFound
from tbsdk.model import (
    Balance,
    CandleArrays,
    Instrument,
    Order,
    OrderIntent,
    OrderStatus,
    Position,
    Ticker,
)
from tbsdk.testing import ExchangeConformance, load_candles, spot_instrument
from tbsdk.timeframes import timeframe_ms

pytest_plugins = ["tbsdk.testing"]

SYMBOL = "BTC/USDT"


class MemoryExchange(Exchange):
    """Serves the bundled BTC/USDT 1m candles 500 per request and keeps orders in a dict."""

    name = "memx"
    api_version = "1.0"
    capabilities = ExchangeCapabilities(max_candles_per_request=500)

    def __init__(self) -> None:
        super().__init__(ExchangeConfig())
        self.market: Instrument = spot_instrument(SYMBOL, exchange="memx")
        self.data = load_candles("BINANCE_BTC-USDT_1m")
        self.orders: dict[str, Order] = {}
        self.requests = 0
        self.closed = False

    async def load_markets(self) -> dict[str, Instrument]:
        return {SYMBOL: self.market}

    async def _page(self, since: int, until: int) -> CandleArrays:
        self.requests += 1
        ts = self.data.ts
        rows = [i for i in range(len(ts)) if since <= ts[i] < until][
            : self.capabilities.max_candles_per_request
        ]
        return self.data.slice(rows[0], rows[-1] + 1) if rows else CandleArrays.empty()

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: int, until: int | None = None
    ) -> CandleArrays:
        if symbol != SYMBOL or timeframe != "1m":
            raise ExchangeError(f"memx has no {symbol} {timeframe} candles")
        end = until if until is not None else 2**62
        pages: list[CandleArrays] = []
        while (page := await self._page(since, end)) and len(page):
            pages.append(page)
            since = int(page.ts[-1]) + timeframe_ms(timeframe)
        first, last = pages[0], pages[-1]
        start = int((self.data.ts == first.ts[0]).argmax())
        stop = int((self.data.ts == last.ts[-1]).argmax()) + 1
        return self.data.slice(start, stop)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return Ticker(symbol=symbol, ts=int(self.data.ts[-1]), last=Decimal("68962.01"))

    async def fetch_balances(self) -> dict[str, Balance]:
        return {}

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        return []

    async def create_order(self, intent: OrderIntent) -> Order:
        if intent.client_order_id in self.orders:
            raise InvalidOrder(f"duplicate client order id {intent.client_order_id}")
        self.market.check_order(intent.qty, intent.price)
        order = Order(intent=intent).transition(OrderStatus.SUBMITTED, at=0)
        self.orders[intent.client_order_id] = order.transition(OrderStatus.OPEN, at=0)
        return self.orders[intent.client_order_id]

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        if client_order_id not in self.orders:
            raise OrderNotFound(f"no order {client_order_id}")
        return self.orders[client_order_id]

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        order = await self.fetch_order(symbol, client_order_id)
        self.orders[client_order_id] = order.transition(OrderStatus.CANCELED, at=0)
        return self.orders[client_order_id]

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if o.status.is_live]

    async def close(self) -> None:
        self.closed = True


Factory = Callable[[], Awaitable[Exchange]]


class TestMemoryExchangeConformance(ExchangeConformance):
    @pytest.fixture
    def exchange_factory(self) -> Factory:
        async def make() -> Exchange:
            return MemoryExchange()

        return make

    @pytest.fixture
    def exchange_symbol(self) -> str:
        return SYMBOL


async def test_fetch_candles_used_several_requests() -> None:
    exchange = MemoryExchange()
    since = int(exchange.data.ts[0])
    candles = await exchange.fetch_candles(SYMBOL, "1m", since, since + 1010 * 60_000)
    assert len(candles) == 1010
    assert exchange.requests == 4  # 500 + 500 + 10 + the empty answer that ends paging


async def test_exchange_fixture_closes_the_adapter() -> None:
    made: list[MemoryExchange] = []

    async def make() -> Exchange:
        made.append(MemoryExchange())
        return made[-1]

    fixture = ExchangeConformance.exchange.__wrapped__  # type: ignore[attr-defined]
    gen = fixture(ExchangeConformance(), make)
    adapter = await gen.__anext__()
    assert adapter is made[0]
    assert not made[0].closed
    with pytest.raises(StopAsyncIteration):
        await gen.__anext__()
    assert made[0].closed


# -- each check fails on an adapter that breaks its rule -----------------------------------------


class DoublingExchange(MemoryExchange):
    """Accepts a duplicate client id as a second order."""

    async def create_order(self, intent: OrderIntent) -> Order:
        if intent.client_order_id in self.orders:
            self.orders[intent.client_order_id + "dup"] = self.orders[intent.client_order_id]
            return self.orders[intent.client_order_id]
        return await super().create_order(intent)


class OnePageExchange(MemoryExchange):
    async def fetch_candles(
        self, symbol: str, timeframe: str, since: int, until: int | None = None
    ) -> CandleArrays:
        return await self._page(since, until or 2**62)


class SloppyErrorsExchange(MemoryExchange):
    """Unknown ids raise KeyError; malformed orders are flagged retryable."""

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        return self.orders[client_order_id]

    async def create_order(self, intent: OrderIntent) -> Order:
        try:
            return await super().create_order(intent)
        except InvalidOrder as exc:
            raise InvalidOrder(exc.message, retryable=True) from exc


class NoMinimumCheckExchange(MemoryExchange):
    async def create_order(self, intent: OrderIntent) -> Order:
        self.orders[intent.client_order_id] = Order(intent=intent)
        return self.orders[intent.client_order_id]


SUITE = ExchangeConformance()
WINDOW = ("1m", 1_712_016_000_000, 1_712_016_000_000 + 1010 * 60_000)


async def test_duplicate_order_fails_the_idempotency_check() -> None:
    ex = DoublingExchange()
    with pytest.raises(AssertionError, match="2 orders with client id"):
        await SUITE.test_same_client_order_id_creates_no_second_order(ex, ex.market)


async def test_missing_paging_fails_the_candle_check() -> None:
    with pytest.raises(AssertionError, match="paging beyond 500 is missing"):
        await SUITE.test_fetch_candles_pages_and_returns_closed_candles(
            OnePageExchange(), SYMBOL, WINDOW
        )


async def test_window_of_one_page_is_reported_as_a_bad_fixture() -> None:
    with pytest.raises(AssertionError, match="more than one page"):
        await SUITE.test_fetch_candles_pages_and_returns_closed_candles(
            MemoryExchange(), SYMBOL, ("1m", WINDOW[1], WINDOW[1] + 100 * 60_000)
        )


async def test_wrong_error_types_fail_the_error_checks() -> None:
    ex = SloppyErrorsExchange()
    with pytest.raises(KeyError):
        await SUITE.test_unknown_order_raises_order_not_found(ex, SYMBOL)
    with pytest.raises(AssertionError, match="not retryable"):
        await SUITE.test_order_off_the_tick_grid_raises_invalid_order(ex, ex.market)


async def test_accepting_malformed_orders_fails() -> None:
    ex = NoMinimumCheckExchange()
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        await SUITE.test_order_below_minimum_size_raises_invalid_order(ex, ex.market)
