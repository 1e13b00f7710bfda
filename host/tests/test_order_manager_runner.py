"""A paper bot's runner records through the order manager: every intent stored before the
venue sees it (vetoed ones included), every answer, update and fill after; a restart's
reconciliation finds nothing to fix."""

from __future__ import annotations

from decimal import Decimal as D
from typing import ClassVar

from tb_exchange_paper import PaperConfig, PaperExchange
from tbhost.engine.context import BotContext
from tbhost.engine.market_data import StoredMarketData
from tbhost.engine.replay import Clock
from tbhost.engine.risk import RiskLimits
from tbhost.engine.runner import BotRunner, BotState
from tbhost.orders import OrderManager
from tbhost.storage import Database
from tbhost.storage.repos import accounts, bots, orders
from tbsdk import BotInfo, RunMode, Strategy, StrategyConfig, StrategyContext
from tbsdk.model import (
    Candle,
    CandleArrays,
    CandleClosed,
    FillEvent,
    Instrument,
    MarketType,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
)

S = OrderStatus
SYMBOL = "BTC/USDT:USDT"
HOUR = 3_600_000
SWAP = Instrument(
    exchange="paper",
    symbol=SYMBOL,
    base="BTC",
    quote="USDT",
    settle="USDT",
    type=MarketType.SWAP,
    contract_size=D("0.1"),
    tick_size=D("0.1"),
    lot_step=D(1),
    min_size=D(1),
    min_notional=D(5),
    max_leverage=D(100),
)


class EntryThenStop(Strategy[StrategyConfig]):
    """Candle 1: a limit entry and an oversized order (vetoed). On the fill: a stop.
    Candle 2: cancel the stop."""

    name: ClassVar[str] = "entrystop"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        if ctx.order("hent") is None:
            ctx.submit(_limit("hent", 2))
            ctx.submit(_limit("hbig", 50))
        elif ctx.order("hstp") is not None:
            ctx.cancel("hstp")

    def on_fill(self, ctx: StrategyContext, event: FillEvent) -> None:
        ctx.submit(
            OrderIntent(
                client_order_id="hstp",
                symbol=SYMBOL,
                side=OrderSide.SELL,
                type=OrderType.STOP_MARKET,
                qty=D(0),
                trigger_price=D(90),
                reduce_only=True,
                close_position=True,
                tag="stp",
            )
        )


def _limit(cid: str, qty: int) -> OrderIntent:
    return OrderIntent(
        client_order_id=cid,
        symbol=SYMBOL,
        side=OrderSide.BUY,
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D(100),
        tag="ent",
    )


class CheckingVenue(PaperExchange):
    """The real paper venue, asserting each intent is stored (status new) when it arrives."""

    def __init__(self, db: Database, account_id: str) -> None:
        super().__init__(PaperConfig(instruments=(SWAP,)))
        self.db, self.account_id = db, account_id
        self.seen: list[str] = []

    async def create_order(self, intent: OrderIntent) -> Order:
        async with self.db.transaction() as s:
            row = await orders.get_order(s, self.account_id, intent.client_order_id)
        assert row is not None
        assert row.status is S.NEW
        self.seen.append(intent.client_order_id)
        return await super().create_order(intent)


def _closed(ts: int, o: float, h: float, lo: float, c: float) -> CandleClosed:
    candle = Candle(ts=ts, open=D(o), high=D(h), low=D(lo), close=D(c), volume=D(1))
    return CandleClosed(symbol=SYMBOL, timeframe="1h", candle=candle)


async def test_the_runner_journals_every_order_through_the_manager(db: Database) -> None:
    async with db.transaction() as s:
        account = await accounts.create_account(s, exchange="paper", label="paper")
        row = await bots.create_bot(
            s,
            name="es",
            strategy="entrystop",
            account_id=account.id,
            symbols=[SYMBOL],
            timeframe="1h",
            config={},
        )
    account_id, bot_id = account.id, row.id
    venue = CheckingVenue(db, account_id)
    manager = OrderManager(db, venue, account_id, bot_id, "h")
    info = BotInfo(
        bot_id=bot_id,
        strategy="entrystop",
        exchange="paper",
        account_id=account_id,
        symbols=(SYMBOL,),
        mode=RunMode.PAPER,
    )
    clock = Clock(0)
    market = StoredMarketData("1h", {SYMBOL: CandleArrays.empty()})
    ctx = BotContext(info, RunMode.PAPER, clock, market, {SYMBOL: SWAP})
    ctx.equity_value = D(10_000)
    runner = BotRunner(
        EntryThenStop(StrategyConfig()),
        ctx,
        venue,
        limits=RiskLimits(max_position=D(10)),
        journal=manager,
    )
    await runner.start()

    clock.now = HOUR
    await runner.deliver(_closed(0, 101, 101, 101, 101))
    clock.now = 2 * HOUR
    for event in venue.process_candle(SYMBOL, 2 * HOUR, 101, 102, 98, 99):
        await runner.deliver(event)
    clock.now = 3 * HOUR
    await runner.deliver(_closed(2 * HOUR, 99, 99, 99, 99))
    assert runner.state is BotState.RUNNING

    assert venue.seen == ["hent", "hstp"]  # the vetoed one never reached the venue
    async with db.transaction() as s:
        history = {}
        for cid in ("hent", "hbig", "hstp"):
            stored = await orders.require_order(s, account_id, cid)
            history[cid] = [e.to_status for e in await orders.order_events(s, stored.id)]
        fills = await orders.list_fills(s, account_id=account_id)
    assert history == {
        "hent": [S.NEW, S.SUBMITTED, S.OPEN, S.FILLED],
        "hbig": [S.NEW, S.REJECTED],
        "hstp": [S.NEW, S.SUBMITTED, S.OPEN, S.CANCELED],
    }
    assert [f.client_order_id for f in fills] == ["hent"]

    # A restart finds storage and venue in agreement about the orders.
    report = await OrderManager(db, venue, account_id, bot_id, "h").reconcile([SYMBOL])
    assert (report.resent, report.updated, report.adopted, report.cancelled) == ([], [], [], [])


class Resubmits(Strategy[StrategyConfig]):
    """Submits the same deterministic entry on every start, as a restarted strategy would."""

    name: ClassVar[str] = "resubmits"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        if ctx.order("hent") is None:
            ctx.submit(_limit("hent", 2))


async def test_a_duplicate_refusal_in_the_runner_stores_what_the_venue_has(
    db: Database,
) -> None:
    async with db.transaction() as s:
        account = await accounts.create_account(s, exchange="paper", label="paper")
        row = await bots.create_bot(
            s,
            name="rs",
            strategy="resubmits",
            account_id=account.id,
            symbols=[SYMBOL],
            timeframe="1h",
            config={},
        )
    account_id, bot_id = account.id, row.id
    venue = PaperExchange(PaperConfig(instruments=(SWAP,)))
    before = OrderManager(db, venue, account_id, bot_id, "h")
    await before.before_submit(_limit("hent", 2))
    sent = await venue.create_order(_limit("hent", 2))  # ... and the host died here

    info = BotInfo(bot_id=bot_id, strategy="resubmits", exchange="paper", account_id=account_id)
    clock = Clock(HOUR)
    market = StoredMarketData("1h", {SYMBOL: CandleArrays.empty()})
    ctx = BotContext(info, RunMode.PAPER, clock, market, {SYMBOL: SWAP})
    ctx.equity_value = D(10_000)
    manager = OrderManager(db, venue, account_id, bot_id, "h")
    runner = BotRunner(Resubmits(StrategyConfig()), ctx, venue, journal=manager)
    await runner.start()  # no reconciliation first: the venue refuses the duplicate
    await runner.deliver(_closed(0, 101, 101, 101, 101))

    stored = await manager.get("hent")
    assert stored is not None
    assert stored.status is S.OPEN
    assert stored.exchange_order_id == sent.exchange_order_id
    assert [o.client_order_id for o in await venue.fetch_open_orders(SYMBOL)] == ["hent"]
