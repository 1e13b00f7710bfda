"""The order manager on SQLite and PostgreSQL against the real paper matching engine: intents
stored before they are sent, every transition recorded, fills once, and crashes at each step
resolved by reconciliation with nothing lost and nothing doubled."""

from __future__ import annotations

import re
from decimal import Decimal as D
from typing import Literal

import pytest

from tb_exchange_paper import PaperConfig, PaperExchange
from tbhost.orders import OrderManager
from tbhost.storage import Database
from tbhost.storage.repos import accounts, bots, orders, portfolio
from tbsdk.errors import ExchangeUnavailable
from tbsdk.ids import bot_key
from tbsdk.model import (
    Fill,
    FillEvent,
    Instrument,
    MarginMode,
    MarketType,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
)

S = OrderStatus
SYMBOL = "BTC/USDT:USDT"
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
    maker_fee=D("0.0002"),
    taker_fee=D("0.0005"),
)
CONFIG = PaperConfig(instruments=(SWAP,))
HOUR = 3_600_000


class Ids:
    """The strategy's id scheme, as in the hyperrsi spec: h + bot6 + seq5 + tag3 + rev2."""

    def __init__(self, account_id: str, bot_id: str) -> None:
        self.prefix = "h" + bot_key(account_id, bot_id)
        self.pattern = re.compile(re.escape(self.prefix) + r"[0-9a-z]{5}[0-9a-z]{3}[0-9a-z]{2}")

    def __call__(self, seq: int, tag: str, rev: int = 0) -> str:
        return f"{self.prefix}{seq:05d}{tag}{rev:02d}"


async def _setup(db: Database) -> tuple[str, str, Ids]:
    async with db.transaction() as s:
        account = await accounts.create_account(s, exchange="paper", label="paper-main")
        bot = await bots.create_bot(
            s,
            name="rsi",
            strategy="hyperrsi",
            account_id=account.id,
            symbols=[SYMBOL],
            timeframe="1h",
            config={},
        )
    return account.id, bot.id, Ids(account.id, bot.id)


def _limit(cid: str, price: str = "100", qty: int = 2, side: str = "buy") -> OrderIntent:
    return OrderIntent(
        client_order_id=cid,
        symbol=SYMBOL,
        side=OrderSide(side),
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D(price),
        tag="ent",
    )


def _stop(cid: str, trigger: str = "90") -> OrderIntent:
    return OrderIntent(
        client_order_id=cid,
        symbol=SYMBOL,
        side=OrderSide.SELL,
        type=OrderType.STOP_MARKET,
        qty=D(0),
        trigger_price=D(trigger),
        reduce_only=True,
        close_position=True,
        tag="stp",
    )


async def _stored(db: Database, account_id: str, cid: str) -> tuple[S, list[S], int]:
    """Stored status, every recorded status in order, number of fills."""
    async with db.transaction() as s:
        row = await orders.require_order(s, account_id, cid)
        events = await orders.order_events(s, row.id)
        fills = await orders.list_fills(s, order_id=row.id)
        return row.status, [e.to_status for e in events], len(fills)


class CheckingVenue(PaperExchange):
    """The real paper venue, asserting the intent is stored (status new) whenever it is sent."""

    def __init__(self, db: Database, account_id: str) -> None:
        super().__init__(CONFIG)
        self.db, self.account_id = db, account_id
        self.seen: list[str] = []

    async def create_order(self, intent: OrderIntent) -> Order:
        async with self.db.transaction() as s:
            row = await orders.get_order(s, self.account_id, intent.client_order_id)
        assert row is not None, f"{intent.client_order_id} sent before it was stored"
        assert row.status is S.NEW
        self.seen.append(intent.client_order_id)
        return await super().create_order(intent)


class FlakyVenue(PaperExchange):
    """The real paper venue whose next create_order times out before or after it arrives."""

    fail: Literal["before", "after"] | None = None

    async def create_order(self, intent: OrderIntent) -> Order:
        fail, self.fail = self.fail, None
        if fail == "before":
            raise ExchangeUnavailable("paper: connection reset before the request was sent")
        order = await super().create_order(intent)
        if fail == "after":
            raise ExchangeUnavailable("paper: timed out waiting for the answer")
        return order


def _survive(venue: PaperExchange) -> PaperExchange:
    """The venue outlives the host: a fresh adapter on the same state."""
    twin = PaperExchange(CONFIG)
    twin.restore_state(venue.save_state())
    return twin


async def _feed(venue: PaperExchange, manager: OrderManager, *candle: float) -> None:
    """One candle on the venue; every update and fill it causes goes to the manager."""
    for event in venue.process_candle(SYMBOL, HOUR, *candle):
        if isinstance(event, FillEvent):
            await manager.record_fill(event.fill, event.order)
        elif isinstance(event, OrderUpdate):
            await manager.record(event.order)


async def _open(venue: PaperExchange) -> list[str]:
    return [o.client_order_id for o in await venue.fetch_open_orders(SYMBOL)]


async def test_intent_is_stored_before_the_venue_sees_it(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = CheckingVenue(db, account_id)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)

    order = await manager.submit(_limit(cid(1, "ent")))

    assert venue.seen == [cid(1, "ent")]
    assert order.status is S.OPEN
    assert order.exchange_order_id is not None
    status, history, _ = await _stored(db, account_id, cid(1, "ent"))
    assert (status, history) == (S.OPEN, [S.NEW, S.SUBMITTED, S.OPEN])
    async with db.transaction() as s:
        row = await orders.require_order(s, account_id, cid(1, "ent"))
        assert (row.bot_id, row.tag, row.exchange_order_id) == (
            bot_id,
            "ent",
            order.exchange_order_id,
        )


async def test_a_stored_intent_is_never_sent_twice_by_submit(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = CheckingVenue(db, account_id)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    await manager.submit(_limit(cid(1, "ent")))
    again = await manager.submit(_limit(cid(1, "ent")))
    assert again.status is S.OPEN
    assert venue.seen == [cid(1, "ent")]


async def test_every_transition_in_order_and_fills_once(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    opened = await manager.submit(_limit(cid(1, "ent")))

    events = list(venue.process_candle(SYMBOL, HOUR, 101, 102, 98, 99))  # trades through 100
    fills = [e for e in events if isinstance(e, FillEvent)]
    assert fills
    for event in events:
        if isinstance(event, FillEvent):
            await manager.record_fill(event.fill, event.order)
        elif isinstance(event, OrderUpdate):
            await manager.record(event.order)
    # Delivered again after a reconnect, and a stale snapshot arriving late: no effect.
    for fill_event in fills:
        await manager.record_fill(fill_event.fill, fill_event.order)
    stale = await manager.record(opened)

    assert stale.status is S.FILLED
    status, history, n_fills = await _stored(db, account_id, cid(1, "ent"))
    assert status is S.FILLED
    assert history == [S.NEW, S.SUBMITTED, S.OPEN, S.FILLED]
    assert n_fills == len(fills)
    stored = await manager.get(cid(1, "ent"))
    assert stored is not None
    assert stored.filled_qty == D(2)


async def test_partial_fills_are_transitions_and_count_once(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    opened = await manager.submit(_limit(cid(1, "ent"), qty=3))
    assert opened.exchange_order_id is not None

    def fill(n: int, qty: int) -> Fill:
        return Fill(
            client_order_id=cid(1, "ent"),
            exchange_order_id=opened.exchange_order_id,
            trade_id=f"t{n}",
            symbol=SYMBOL,
            side=OrderSide.BUY,
            qty=D(qty),
            price=D(100),
            ts=HOUR * n,
        )

    first = opened.apply_fill(fill(1, 1))
    second = first.apply_fill(fill(2, 2))
    await manager.record_fill(fill(1, 1), first)
    await manager.record_fill(fill(1, 1), first)  # repeated
    await manager.record_fill(fill(2, 2), second)
    await manager.record_fill(fill(1, 1), first)  # repeated late: not backwards

    status, history, n_fills = await _stored(db, account_id, cid(1, "ent"))
    assert (status, n_fills) == (S.FILLED, 2)
    assert history == [S.NEW, S.SUBMITTED, S.OPEN, S.PARTIALLY_FILLED, S.FILLED]


async def test_a_refusal_is_stored_as_rejected_with_its_reason(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    # 0.4 BTC-contracts of 0.1 at 10 = 0.4 USDT notional, below the 5 USDT minimum.
    order = await manager.submit(_limit(cid(1, "ent"), price="10", qty=1))
    assert order.status is S.REJECTED
    assert order.reason is not None
    status, history, _ = await _stored(db, account_id, cid(1, "ent"))
    assert (status, history) == (S.REJECTED, [S.NEW, S.REJECTED])
    assert await _open(venue) == []
    # A rejected order is finished: reconciliation leaves it alone.
    assert (await manager.reconcile([SYMBOL])).clean


async def test_crash_between_store_and_send_is_resent_once(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    before = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    await before.before_submit(_limit(cid(1, "ent")))  # stored ... and the process dies

    after = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    report = await after.reconcile([SYMBOL])

    assert report.resent == [cid(1, "ent")]
    assert (report.updated, report.adopted, report.cancelled) == ([], [], [])
    assert await _open(venue) == [cid(1, "ent")]
    status, history, _ = await _stored(db, account_id, cid(1, "ent"))
    assert (status, history) == (S.OPEN, [S.NEW, S.SUBMITTED, S.OPEN])
    # Reconciling again changes nothing and sends nothing.
    assert (await after.reconcile([SYMBOL])).clean
    assert await _open(venue) == [cid(1, "ent")]


async def test_a_protective_stop_never_received_is_recreated(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    await manager.submit(_limit(cid(1, "ent")))
    await _feed(venue, manager, 101, 102, 98, 99)  # the entry fills
    assert [p.size for p in await venue.fetch_positions([SYMBOL])] == [D(2)]
    await manager.before_submit(_stop(cid(1, "stp")))  # crash before the stop went out

    restarted = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    report = await restarted.reconcile([SYMBOL])

    assert report.resent == [cid(1, "stp")]
    assert await _open(venue) == [cid(1, "stp")]
    status, _, _ = await _stored(db, account_id, cid(1, "stp"))
    assert status is S.OPEN
    # The venue holds a position storage has no record of: reported, not hidden.
    assert [(d.symbol, d.stored_size, d.venue_size) for d in report.position_diffs] == [
        (SYMBOL, D(0), D(2))
    ]


async def test_crash_after_send_before_the_answer_is_found_not_resent(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    before = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    await before.before_submit(_limit(cid(1, "ent")))
    await venue.create_order(_limit(cid(1, "ent")))  # sent; the process dies before storing
    venue = _survive(venue)

    after = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    report = await after.reconcile([SYMBOL])

    assert (report.resent, report.updated) == ([], [cid(1, "ent")])
    assert await _open(venue) == [cid(1, "ent")]
    status, history, _ = await _stored(db, account_id, cid(1, "ent"))
    assert (status, history) == (S.OPEN, [S.NEW, S.SUBMITTED, S.OPEN])


async def test_crash_after_send_while_it_filled_stores_the_fill_state(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    before = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    await before.before_submit(_limit(cid(1, "ent")))
    await venue.create_order(_limit(cid(1, "ent")))
    venue.process_candle(SYMBOL, HOUR, 101, 102, 98, 99)  # filled while the host was down
    venue = _survive(venue)

    report = await OrderManager(db, venue, account_id, bot_id, cid.prefix).reconcile([SYMBOL])

    assert (report.resent, report.updated) == ([], [cid(1, "ent")])
    assert await _open(venue) == []
    status, history, _ = await _stored(db, account_id, cid(1, "ent"))
    assert (status, history) == (S.FILLED, [S.NEW, S.SUBMITTED, S.FILLED])
    stored = await OrderManager(db, venue, account_id, bot_id, cid.prefix).get(cid(1, "ent"))
    assert stored is not None
    assert stored.filled_qty == D(2)


@pytest.mark.parametrize("when", ["before", "after"])
async def test_a_timeout_leaves_it_new_and_reconcile_resolves_it(
    db: Database, when: Literal["before", "after"]
) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = FlakyVenue(CONFIG)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    venue.fail = when

    order = await manager.submit(_limit(cid(1, "ent")))

    assert order.status is S.NEW  # outcome unknown; not resent blindly
    assert await _open(venue) == ([] if when == "before" else [cid(1, "ent")])
    report = await manager.reconcile([SYMBOL])
    assert report.resent == ([cid(1, "ent")] if when == "before" else [])
    assert report.updated == ([] if when == "before" else [cid(1, "ent")])
    assert await _open(venue) == [cid(1, "ent")]
    status, history, _ = await _stored(db, account_id, cid(1, "ent"))
    assert (status, history) == (S.OPEN, [S.NEW, S.SUBMITTED, S.OPEN])


async def test_duplicate_client_id_is_resolved_by_fetching_it(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    existing = await venue.create_order(_limit(cid(1, "ent")))  # an earlier, unrecorded send
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)

    order = await manager.submit(_limit(cid(1, "ent")))

    assert order.status is S.OPEN
    assert order.exchange_order_id == existing.exchange_order_id
    assert await _open(venue) == [cid(1, "ent")]
    status, history, _ = await _stored(db, account_id, cid(1, "ent"))
    assert (status, history) == (S.OPEN, [S.NEW, S.SUBMITTED, S.OPEN])


async def test_unknown_orders_adopted_cancelled_or_left_alone(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix, adopt_pattern=cid.pattern)
    await manager.submit(_limit(cid(1, "ent"), price="95"))  # known
    ours = cid(2, "ent")  # our scheme, unknown to storage (e.g. a restored backup)
    stray = cid.prefix + "zz"  # our prefix, not our scheme
    foreign = "g123456000010ent00"  # another bot's
    for other in (ours, stray, foreign):
        await venue.create_order(_limit(other))

    report = await manager.reconcile([SYMBOL])

    assert (report.adopted, report.cancelled, report.resent) == ([ours], [stray], [])
    assert sorted(await _open(venue)) == sorted([cid(1, "ent"), ours, foreign])
    status, history, _ = await _stored(db, account_id, ours)
    assert (status, history) == (S.OPEN, [S.NEW, S.SUBMITTED, S.OPEN])
    status, history, _ = await _stored(db, account_id, stray)
    assert (status, history) == (S.CANCELED, [S.NEW, S.SUBMITTED, S.CANCELED])
    async with db.transaction() as s:
        assert await orders.get_order(s, account_id, foreign) is None
        adopted = await orders.require_order(s, account_id, ours)
        assert adopted.bot_id == bot_id
    # Adopted orders are tracked from now on like any other.
    assert (await manager.reconcile([SYMBOL])).clean


async def test_without_a_scheme_every_unknown_order_with_our_prefix_is_cancelled(
    db: Database,
) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    await venue.create_order(_limit(cid(7, "ent")))
    report = await manager.reconcile([SYMBOL])
    assert report.cancelled == [cid(7, "ent")]
    assert await _open(venue) == []


async def test_cancel_stores_the_outcome_and_drops_a_never_sent_intent(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    await manager.submit(_limit(cid(1, "ent")))
    cancelled = await manager.cancel(SYMBOL, cid(1, "ent"))
    assert cancelled.status is S.CANCELED
    assert (await _stored(db, account_id, cid(1, "ent")))[1] == [
        S.NEW,
        S.SUBMITTED,
        S.OPEN,
        S.CANCELED,
    ]
    # Stored, never sent, then cancelled: the venue never sees it, reconciliation won't send it.
    await manager.before_submit(_limit(cid(2, "ent")))
    dropped = await manager.cancel(SYMBOL, cid(2, "ent"))
    assert dropped.status is S.CANCELED
    assert (await _stored(db, account_id, cid(2, "ent")))[1] == [S.NEW, S.CANCELED]
    assert (await manager.reconcile([SYMBOL])).resent == []
    assert await _open(venue) == []


async def test_positions_are_reported_next_to_the_stored_ones(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    await manager.submit(_limit(cid(1, "ent")))
    await _feed(venue, manager, 101, 102, 98, 99)
    [position] = await venue.fetch_positions([SYMBOL])
    async with db.transaction() as s:
        await portfolio.save_position(s, bot_id=bot_id, account_id=account_id, position=position)

    report = await manager.reconcile([SYMBOL])
    assert report.position_diffs == []
    assert [p.size for p in report.venue_positions] == [D(2)]
    assert [p.size for p in report.stored_positions] == [D(2)]


async def test_a_resend_the_venue_refuses_is_reported_and_stored_rejected(db: Database) -> None:
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    await manager.before_submit(_stop(cid(1, "stp"), trigger="90"))  # crash before sending
    venue.process_candle(SYMBOL, HOUR, 95, 95, 85, 88)  # meanwhile the price fell through it

    report = await manager.reconcile([SYMBOL])

    assert (report.resent, report.rejected) == ([], [cid(1, "stp")])
    status, history, _ = await _stored(db, account_id, cid(1, "stp"))
    assert (status, history) == (S.REJECTED, [S.NEW, S.REJECTED])


async def test_a_liquidation_the_venue_made_is_stored_as_the_bots_order(db: Database) -> None:
    """The venue's own liquidation order reaches the manager as a fill of an order nobody
    stored: it is stored under the bot (not a failure that faults it), with its fill and the
    flat position; the venue's id carries the bot's prefix so two bots' venues on one account
    never make the same one."""
    account_id, bot_id, cid = await _setup(db)
    venue = PaperExchange(CONFIG.model_copy(update={"id_prefix": "k7"}))
    await venue.set_leverage(SYMBOL, D(50), MarginMode.ISOLATED)
    manager = OrderManager(db, venue, account_id, bot_id, cid.prefix)
    venue.process_candle(SYMBOL, HOUR, 100, 100, 100, 100)  # a last price for the market order
    market = OrderIntent(
        client_order_id=cid(1, "ent"),
        symbol=SYMBOL,
        side=OrderSide.BUY,
        type=OrderType.MARKET,
        qty=D(10),
    )
    await manager.submit(market)
    crash = [*venue.process_candle(SYMBOL, 2 * HOUR, 100, 100, 99.9, 100)]
    crash += venue.process_candle(SYMBOL, 3 * HOUR, 100, 100, 90, 91)  # 50x: gone below 98.5
    await manager.on_events(crash)
    liquidation = next(
        e.order for e in crash if isinstance(e, FillEvent) and e.order.intent.tag == "liquidation"
    )
    assert liquidation.client_order_id == "liqk71"
    status, history, n_fills = await _stored(db, account_id, "liqk71")
    assert (status, history, n_fills) == (S.FILLED, [S.NEW, S.SUBMITTED, S.FILLED], 1)
    async with db.transaction() as s:
        row = await orders.require_order(s, account_id, "liqk71")
        assert (row.bot_id, row.tag, row.reduce_only) == (bot_id, "liquidation", True)
        [position] = await portfolio.list_positions(s, bot_id=bot_id)
        assert position.size == 0
