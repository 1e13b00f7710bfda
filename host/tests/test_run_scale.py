"""What lets one host run a thousand paper bots: their writes committed in groups (on SQLite and
PostgreSQL), bulk records equal to the one-by-one path, one replay clock for bots started
together, and a paper venue that logs quiet candles lazily yet comes back exactly after a kill.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from tb_exchange_paper import PaperConfig, PaperExchange
from tbhost.engine.instruments import backtest_instrument
from tbhost.live import DurableVenue
from tbhost.live.feed_clock import FeedClock
from tbhost.orders import OrderManager
from tbhost.orders.group_commit import GroupCommit
from tbhost.orders.records import FillReport, OrderReport, PositionReport, StateSnapshot
from tbhost.storage import Database
from tbhost.storage.errors import NotFound
from tbhost.storage.repos import accounts, bots, orders, portfolio, states
from tbsdk.model import (
    Direction,
    Fill,
    Liquidity,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
)

S = OrderStatus
SYMBOL = "BTC/USDT"


async def _bot(db: Database, name: str) -> tuple[str, str]:
    async with db.transaction() as s:
        account = await accounts.create_account(s, exchange="paper", label=f"acct-{name}")
        bot = await bots.create_bot(
            s,
            name=name,
            strategy="rsi_reversal",
            account_id=account.id,
            symbols=[SYMBOL],
            timeframe="1m",
            config={},
        )
    return account.id, bot.id


def _intent(cid: str, qty: str = "2") -> OrderIntent:
    return OrderIntent(
        client_order_id=cid,
        symbol=SYMBOL,
        side=OrderSide.BUY,
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D("100"),
        tag="entry",
    )


def _fill(order: Order, trade: str, qty: str, at: int) -> tuple[Fill, Order]:
    fill = Fill(
        client_order_id=order.client_order_id,
        exchange_order_id=order.exchange_order_id,
        trade_id=trade,
        symbol=SYMBOL,
        side=OrderSide.BUY,
        qty=D(qty),
        price=D("100"),
        fee=D("0.01"),
        fee_currency="USDT",
        liquidity=Liquidity.MAKER,
        ts=at,
    )
    return fill, order.apply_fill(fill)


async def test_concurrent_intents_share_one_commit(db: Database) -> None:
    group = GroupCommit(db)
    owners = [await _bot(db, f"b{n}") for n in range(12)]
    made = await asyncio.gather(
        *(group.store_intent(a, b, _intent(f"x{n}ent")) for n, (a, b) in enumerate(owners))
    )
    assert made == [True] * 12
    assert group.commits == 1
    again = await asyncio.gather(
        group.store_intent(owners[0][0], owners[0][1], _intent("x0ent", qty="9")),
        group.store_intent(owners[1][0], owners[1][1], _intent("x1new")),
    )
    assert again == [False, True]  # stored already (and left as it was), stored now
    assert group.commits == 2
    async with db.transaction() as s:
        for n, (account, bot) in enumerate(owners):
            row = await orders.require_order(s, account, f"x{n}ent")
            assert (row.bot_id, row.status, row.qty, row.price) == (bot, S.NEW, D(2), D(100))
            events = await orders.order_events(s, row.id)
            assert [(e.seq, e.from_status, e.to_status) for e in events] == [(1, None, S.NEW)]


async def test_a_failing_write_fails_only_its_own_caller(db: Database) -> None:
    group = GroupCommit(db)
    account, bot = await _bot(db, "ok")
    await group.store_intent(account, bot, _intent("xok"))
    sent = (
        Order(intent=_intent("xok"), created_at=1, updated_at=1)
        .transition(S.SUBMITTED, at=2, exchange_order_id="e1")
        .transition(S.OPEN, at=2)
    )
    never = Order(intent=_intent("xnever"), created_at=1, updated_at=1)
    results = await asyncio.gather(
        group.write_records([OrderReport(account, sent, "create")]),
        group.write_records([OrderReport(account, never, "update")]),
        group.write_records([StateSnapshot(bot, {"n": 1}, feed_ts=60_000)]),
        return_exceptions=True,
    )
    assert results[0] is None
    assert results[2] is None
    assert isinstance(results[1], NotFound)
    async with db.transaction() as s:
        assert (await orders.require_order(s, account, "xok")).status is S.OPEN
        saved = await states.latest_state(s, bot)
    assert saved is not None
    assert (saved.seq, saved.state, saved.feed_ts) == (1, {"n": 1}, 60_000)


async def test_bulk_records_store_what_the_one_by_one_path_stores(db: Database) -> None:
    """The same reports (answers, partial fills, a fill delivered twice, a report behind the
    stored state, a position) through ``write_records`` in one call and through the order
    manager's own ``record`` / ``record_fill`` one by one: the same rows."""
    bulk_account, bulk_bot = await _bot(db, "bulk")
    one_account, one_bot = await _bot(db, "one")
    new = Order(intent=_intent("xo1"), created_at=1, updated_at=1)
    # The venue's answer to a stored ``new`` order: open, so ``submitted`` is stored on the way.
    opened = new.transition(S.SUBMITTED, at=2, exchange_order_id="e1").transition(S.OPEN, at=2)
    fill1, part = _fill(opened, "t1", "0.5", 3)
    fill2, done = _fill(part, "t2", "1.5", 4)
    position = Position(
        symbol=SYMBOL,
        direction=Direction.LONG,
        size=D(2),
        entry_price=D(100),
        updated_at=4,
    )
    reports = [("create", opened), ("fill", fill1, part), ("fill", fill2, done)]
    reports += [("fill", fill1, part), ("update", opened)]  # again, and behind

    for account, bot in ((bulk_account, bulk_bot), (one_account, one_bot)):
        async with db.transaction() as s:
            await orders.add_order(s, account_id=account, intent=new.intent, bot_id=bot, at=1)

    records: list[OrderReport | FillReport | PositionReport | StateSnapshot] = []
    for via, *rest in reports:
        if via == "fill":
            records.append(FillReport(bulk_account, rest[0], rest[1]))  # type: ignore[arg-type]
        else:
            records.append(OrderReport(bulk_account, rest[0], via))  # type: ignore[arg-type]
    records.append(PositionReport(bulk_bot, bulk_account, position))
    records.append(StateSnapshot(bulk_bot, {"seq": 1}, feed_ts=5))
    async with db.transaction() as s:
        from tbhost.orders.records import write_records

        await write_records(s, records)

    manager = OrderManager(db, PaperExchange(PaperConfig()), one_account, one_bot, "x")
    for via, *rest in reports:
        if via == "fill":
            await manager.record_fill(rest[0], rest[1])  # type: ignore[arg-type]
        else:
            await manager.record(rest[0], via=via)  # type: ignore[arg-type]
    async with db.transaction() as s:
        await portfolio.save_position(s, bot_id=one_bot, account_id=one_account, position=position)
        await states.save_state(s, one_bot, {"seq": 1}, feed_ts=5)

    async def stored(account: str, bot: str) -> object:
        async with db.transaction() as s:
            row = await orders.require_order(s, account, "xo1")
            events = [
                (e.seq, e.from_status, e.to_status, e.at, e.filled_qty, e.reason, e.payload)
                for e in await orders.order_events(s, row.id)
            ]
            fills = [
                (f.trade_id, f.qty, f.price, f.fee, f.ts)
                for f in await orders.list_fills(s, order_id=row.id)
            ]
            kept = [portfolio.to_position(p) for p in await portfolio.list_positions(s, bot_id=bot)]
            saved = await states.latest_state(s, bot)
        assert saved is not None
        order = (row.status, row.exchange_order_id, row.filled_qty, row.avg_fill_price, row.fee)
        return order, events, fills, kept, (saved.seq, saved.state, saved.feed_ts)

    bulk, one = await stored(bulk_account, bulk_bot), await stored(one_account, one_bot)
    assert bulk == one
    order, events, fills, _, _ = bulk  # type: ignore[misc]
    assert order[:3] == (S.FILLED, "e1", D(2))
    assert [e[2] for e in events] == [S.NEW, S.SUBMITTED, S.OPEN, S.PARTIALLY_FILLED, S.FILLED]
    assert [f[0] for f in fills] == ["t1", "t2"]


async def test_bots_started_together_share_one_clock() -> None:
    """Nobody's first candle is due before every bot of the batch is ready; then each close is
    due at its offset from the earliest first candle; a stop wakes a waiting bot at once."""
    clock = FeedClock(speed=60_000.0)  # a minute of candles per millisecond
    early, late, gone = clock.pacer(), clock.pacer(), clock.pacer()
    loop = asyncio.get_running_loop()
    woke: dict[str, float] = {}

    async def run(name: str, pacer: object, close: int) -> None:
        assert not await pacer.until(close, None)  # type: ignore[attr-defined]
        woke[name] = loop.time()

    first = asyncio.create_task(run("early", early, 60_000))
    await asyncio.sleep(0.01)
    assert not woke  # waiting for the others
    assert clock.origin is None
    second = asyncio.create_task(run("late", late, 60_000 * 101))  # 100 minutes on: 100 ms
    await asyncio.sleep(0)
    gone.leave()  # faulted before its first candle: never waited for
    await asyncio.gather(first, second)
    assert clock.origin is not None
    start = clock.origin[0]
    assert woke["early"] - start < 0.05
    assert 0.1 <= woke["late"] - start < 0.3

    stop = asyncio.Event()
    waiting = asyncio.create_task(late.until(60_000 * 100_000, stop))  # due in 100 s
    await asyncio.sleep(0.01)
    stop.set()
    clock.interrupt()
    assert await asyncio.wait_for(waiting, 1.0) is True


def _venue(directory: Path) -> DurableVenue:
    instrument = backtest_instrument("paper", SYMBOL)
    inner = PaperExchange(PaperConfig(instruments=(instrument,), balances={"USDT": D(10_000)}))
    venue = DurableVenue(inner, directory)
    venue.load()
    return venue


CANDLES = [  # (close time, open, high, low, close): a buy limit at 95,000 fills on the 3rd
    (60_000, 100_000.0, 101_000.0, 99_000.0, 100_000.0),
    (120_000, 100_000.0, 102_000.0, 98_000.0, 99_000.0),
    (180_000, 99_000.0, 99_500.0, 94_000.0, 96_000.0),
    (240_000, 96_000.0, 97_000.0, 95_500.0, 96_500.0),
    (300_000, 96_500.0, 98_000.0, 96_000.0, 97_000.0),
    (360_000, 97_000.0, 97_500.0, 96_200.0, 97_200.0),
    (420_000, 97_200.0, 99_000.0, 97_000.0, 98_000.0),
]


def _limit(cid: str, price: str) -> OrderIntent:
    return OrderIntent(
        client_order_id=cid,
        symbol=SYMBOL,
        side=OrderSide.BUY,
        type=OrderType.LIMIT,
        qty=D("0.01"),
        price=D(price),
        tag="entry",
    )


def _log(venue: DurableVenue) -> list[dict[str, object]]:
    return [json.loads(line) for line in venue.log_path.read_text().splitlines()]


@pytest.mark.parametrize("killed_after", [1, 2, 4, 6])
async def test_a_venue_killed_after_quiet_candles_comes_back_to_the_same_state(
    tmp_path: Path, killed_after: int
) -> None:
    """Quiet candles are not logged until something follows them; a venue killed after some
    is behind by them, and matching them again brings it exactly where the uninterrupted
    venue is (the host feeds them again: its checkpoint is never after the venue's log)."""
    whole = _venue(tmp_path / "whole")
    await whole.create_order(_limit("xa", "95000"))
    for candle in CANDLES:
        whole.process_candle(SYMBOL, *candle)
    await whole.create_order(_limit("xb", "90000"))
    expected = whole.save_state()
    assert [op["op"] for op in _log(whole)] == ["create", "skip", "candle", "skip", "create"]

    killed = _venue(tmp_path / "killed")
    await killed.create_order(_limit("xa", "95000"))
    events = [killed.process_candle(SYMBOL, *c) for c in CANDLES[: killed_after + 1]]
    assert bool(sum(map(len, events))) == (killed_after >= 2)  # the third candle fills xa
    del killed  # SIGKILL: nothing closed, nothing synced

    again = _venue(tmp_path / "killed")
    matched_to = again.last_close or 0
    assert matched_to == (CANDLES[2][0] if killed_after >= 2 else 0)  # its last logged candle
    for candle in CANDLES:
        if candle[0] > matched_to:
            again.process_candle(SYMBOL, *candle)
    await again.create_order(_limit("xb", "90000"))
    assert again.save_state() == expected
    assert [o.client_order_id for o in await again.fetch_open_orders(SYMBOL)] == ["xb"]


async def test_sync_logs_the_pending_quiet_candle(tmp_path: Path) -> None:
    venue = _venue(tmp_path / "v")
    venue.process_candle(SYMBOL, *CANDLES[0])
    venue.process_candle(SYMBOL, *CANDLES[1])
    assert not venue.log_path.exists()  # nothing rests: nothing to log yet
    venue.sync()
    assert _log(venue) == [{"op": "skip", "symbol": SYMBOL, "ts": 120_000, "c": 99_000.0, "n": 1}]
    venue.close_files()
    reloaded = _venue(tmp_path / "v")
    assert reloaded.last_close == 120_000
    assert reloaded.save_state() == venue.save_state()


async def test_an_intent_is_stored_only_once_the_venue_logged_every_candle(
    db: Database, tmp_path: Path
) -> None:
    """Killed between storing an intent and sending it, the host's reconciliation sends it at
    restart: the venue must then stand at the candle the bot decided it on, so the quiet
    candles before it are logged before the intent is stored."""
    account, bot = await _bot(db, "sync")
    venue = _venue(tmp_path / "v")
    manager = OrderManager(
        db, venue, account, bot, "x", buffered=True, writer=GroupCommit(db), before_store=venue.sync
    )
    for candle in CANDLES[:3]:
        venue.process_candle(SYMBOL, *candle)  # quiet: nothing rests
    await manager.before_submit(_limit("xc", "95000"))
    del venue  # SIGKILL before the send

    again = _venue(tmp_path / "v")
    assert again.last_close == CANDLES[2][0]
    restarted = OrderManager(db, again, account, bot, "x")
    report = await restarted.reconcile([SYMBOL])
    assert report.resent == ["xc"]
    assert (await restarted.get("xc")).status is S.OPEN  # type: ignore[union-attr]
