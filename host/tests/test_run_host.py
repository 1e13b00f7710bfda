"""``tbhost.live.Host`` on both backends: running bots replayed to the end trade exactly like
the backtest, a stopped host resumes each bot where it was, and a faulting bot is stored as
faulted while the others run on."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.engine import URL

from tb_strategy_example import RsiReversal
from tbhost.live import Host, venue_dir
from tbhost.plugins import PluginHost
from tbhost.plugins.records import PluginRecord
from tbhost.services import SYSTEM, BotService
from tbhost.storage import Database
from tbhost.storage.models import AuditRow, BotStatus
from tbhost.storage.repos import bots as bot_repo
from tbhost.storage.repos import states
from tbsdk import BotInfo, StrategyContext, hookimpl
from tbsdk.groups import STRATEGIES
from tbsdk.ids import bot_key
from tbsdk.model import (
    CandleClosed,
    Fill,
    Instrument,
    Order,
    OrderIntent,
    OrderStatus,
)

from .test_run_kit import (
    END,
    GONE,
    START,
    SWAP,
    Holds,
    backtest_trades,
    locked_retry,
    lookup,
    ms,
    running_bot,
    settings_for,
    stored_trades,
    venue_trades,
)


def _host(tmp_path: Path, db_url: URL, speed: float = math.inf, **kw: object) -> Host:
    return Host(
        settings_for(tmp_path / "data", db_url),
        speed=speed,
        start=ms(START),
        end=ms(END),
        **{"once": True, **kw},  # type: ignore[arg-type]
    )


async def _row(db: Database, bot_id: str) -> tuple[BotStatus, str | None]:
    async with db.transaction() as s:
        row = await bot_repo.require_bot(s, bot_id)
        return row.state, row.fault_reason


async def test_a_running_bot_replays_to_the_end_like_the_backtest(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    bot, _ = await running_bot(db, "rsi")
    outcomes = await _host(tmp_path, db_url).run()
    outcome = outcomes[bot.id]
    assert (outcome.status, outcome.fault, outcome.resumed_at) == ("finished", None, None)
    assert outcome.next_index == outcome.candles > 2000
    expected = await asyncio.to_thread(backtest_trades, tmp_path / "data")
    assert len(expected) > 5
    assert outcome.venue is not None
    assert outcome.venue.trades() == expected
    assert venue_trades(tmp_path / "data", bot.id) == expected  # the venue's own record
    assert await stored_trades(db, bot.id) == expected  # what `tbhost trades` and the API list
    assert await _row(db, bot.id) == (BotStatus.STOPPED, None)  # the feed ended
    async with db.transaction() as s:
        saved = await states.latest_state(s, bot.id)
        audit = list(await s.scalars(select(AuditRow).where(AuditRow.target_id == bot.id)))
    assert saved is not None
    assert saved.state
    assert [a.action for a in audit][-1] == "bot.stop"
    assert audit[-1].details["reason"] == "the replay feed ended"


async def test_a_stopped_host_resumes_each_bot_where_it_was(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    bot, _ = await running_bot(db, "rsi")
    path = venue_dir(tmp_path / "data", bot.id) / "ops.jsonl"
    stop = asyncio.Event()

    async def stop_mid_run() -> None:
        while not path.is_file():  # noqa: ASYNC110 - a file, no event to wait on
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.2)
        stop.set()

    stopper = asyncio.create_task(stop_mid_run())
    first = await _host(tmp_path, db_url, speed=3600 * 3000).run(stop)  # ~3000 candles/s
    await stopper
    part = first[bot.id]
    assert part.status == "stopped"
    assert 0 < part.next_index < part.candles
    assert await _row(db, bot.id) == (BotStatus.RUNNING, None)  # wanted running: resumed next
    async with db.transaction() as s:
        assert await states.latest_state(s, bot.id) is not None

    second = (await _host(tmp_path, db_url).run())[bot.id]
    assert second.status == "finished"
    assert second.resumed_at == part.next_index
    expected = await asyncio.to_thread(backtest_trades, tmp_path / "data")
    assert second.venue is not None
    assert second.venue.trades() == expected
    assert await stored_trades(db, bot.id) == expected  # each stored once across the restart
    assert await _row(db, bot.id) == (BotStatus.STOPPED, None)


async def test_a_faulting_bot_is_stored_as_faulted_while_the_others_run(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    good, account = await running_bot(db, "good")
    gone, _ = await running_bot(db, "gone", strategy=GONE, symbol="ETH/USDT", account_id=account)
    no_data, _ = await running_bot(db, "nodata", symbol="XRP/USDT", account_id=account)
    outcomes = await _host(tmp_path, db_url).run()
    assert outcomes[good.id].status == "finished"
    for bot, words in ((gone, GONE), (no_data, "no 1h candles stored for XRP/USDT")):
        assert outcomes[bot.id].status == "faulted"
        state, reason = await _row(db, bot.id)
        assert state is BotStatus.FAULTED
        assert reason is not None
        assert words in reason
    async with db.transaction() as s:
        faults = list(await s.scalars(select(AuditRow).where(AuditRow.action == "bot.fault")))
    assert sorted(a.target_id or "" for a in faults) == sorted([gone.id, no_data.id])
    expected = await asyncio.to_thread(backtest_trades, tmp_path / "data")
    assert venue_trades(tmp_path / "data", good.id) == expected


async def test_only_the_named_bots_run(db: Database, db_url: URL, tmp_path: Path) -> None:
    one, account = await running_bot(db, "one")
    two, _ = await running_bot(db, "two", symbol="BTC/USDT", account_id=account)
    outcomes = await _host(tmp_path, db_url, bot_refs=["two"]).run()
    assert list(outcomes) == [two.id]
    assert await _row(db, one.id) == (BotStatus.RUNNING, None)


async def test_the_host_follows_the_stored_wanted_state(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    """Without ``once`` the host keeps polling storage: a bot stopped by a command stops, a
    bot started later starts; neither's stored state is overwritten by the host."""
    first, account = await running_bot(db, "first")
    host = Host(
        settings_for(tmp_path / "data", db_url),
        speed=3600 * 200,  # 200 candles a second: the replay outlasts the test
        start=ms(START),
        end=ms(END),
        poll_s=0.05,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(host.run(stop))

    async def until(check: Callable[[], bool]) -> None:
        async with asyncio.timeout(30):
            while not check():  # noqa: ASYNC110 - a file or a dict, no event to wait on
                await asyncio.sleep(0.01)

    await until((venue_dir(tmp_path / "data", first.id) / "ops.jsonl").is_file)
    await locked_retry(lambda: BotService(db, lookup).stop(SYSTEM, first.id))
    await until(lambda: first.id in host.outcomes)
    assert host.outcomes[first.id].status == "stopped"

    second, _ = await locked_retry(
        lambda: running_bot(db, "second", symbol="BTC/USDT", account_id=account)
    )
    await until((venue_dir(tmp_path / "data", second.id) / "ops.jsonl").is_file)
    stop.set()
    outcomes = await running
    assert outcomes[second.id].status == "stopped"
    assert await _row(db, first.id) == (BotStatus.STOPPED, None)
    assert await _row(db, second.id) == (BotStatus.RUNNING, None)


class _FaultsLate(RsiReversal):
    """rsi_reversal until the candle after 2023-02-01 opens, then it raises."""

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        if event.candle.ts >= ms("2023-02-01"):
            raise RuntimeError("the strategy broke")
        super().on_candle(ctx, event)


async def test_a_strategy_that_raises_faults_its_bot_and_keeps_its_last_good_state(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    plugins = PluginHost.discover()
    plugins.add_record(PluginRecord("faults_late", STRATEGIES, "tests", obj=_FaultsLate))
    broken, account = await running_bot(db, "broken", strategy="faults_late")
    good, _ = await running_bot(db, "good", symbol="BTC/USDT", account_id=account)
    outcomes = await _host(tmp_path, db_url, plugins=plugins).run()
    assert outcomes[good.id].status == "finished"
    assert outcomes[broken.id].status == "faulted"
    state, reason = await _row(db, broken.id)
    assert state is BotStatus.FAULTED
    assert reason is not None
    assert "the strategy broke" in reason
    async with db.transaction() as s:
        saved = await states.latest_state(s, broken.id)
    assert saved is not None
    assert saved.state  # not the {} a faulted strategy leaves
    assert saved.feed_ts is not None
    assert saved.feed_ts <= ms("2023-02-01")  # from before the candle that raised


class _Watcher:
    """A hook plugin that records what the host tells it and vetoes large orders."""

    TB_API_VERSION = "1.0"

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def tb_bot_started(self, bot: BotInfo) -> None:
        self.calls.append(f"started {bot.name}")

    @hookimpl
    def tb_bot_stopped(self, bot: BotInfo, reason: str) -> None:
        self.calls.append(f"stopped {bot.name} {reason}")

    @hookimpl
    def tb_fill(self, bot: BotInfo, fill: Fill, order: Order) -> None:
        self.calls.append("fill")

    @hookimpl
    def tb_check_order(
        self, bot: BotInfo, intent: OrderIntent, instrument: Instrument
    ) -> str | None:
        self.calls.append("check")
        return None


async def test_the_host_tells_hook_plugins_about_its_bots(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    plugins = PluginHost.discover()
    watcher = _Watcher()
    plugins.register(watcher, "watcher")
    bot, _ = await running_bot(db, "rsi")
    outcome = (await _host(tmp_path, db_url, plugins=plugins).run())[bot.id]
    assert outcome.status == "finished"
    assert watcher.calls[0] == "started rsi"
    assert watcher.calls[-1] == "stopped rsi finished"
    assert outcome.venue is not None
    fills = sum(1 for t in outcome.venue.trades()) * 2  # each round trip: an entry and an exit
    assert watcher.calls.count("fill") == fills
    assert watcher.calls.count("check") >= fills  # every order was checked before it went out


async def test_a_close_request_stops_the_bot_and_closes_its_position(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    """While the bot holds a position, ``close_positions`` is asked through the services: the
    host stops the bot, cancels its orders, closes the position at the next candle's open and
    completes the request in the audit log."""
    from tbhost.services.commands import pending_close_requests
    from tbhost.storage.repos import portfolio

    plugins = PluginHost.discover()
    plugins.add_record(PluginRecord("holds", STRATEGIES, "tests", obj=Holds))
    bot, _ = await running_bot(db, "holder", strategy="holds")
    stop = asyncio.Event()
    host = _host(tmp_path, db_url, speed=3600 * 100, once=False, poll_s=0.05, plugins=plugins)

    async def close_when_open() -> None:
        while True:
            async with db.transaction() as s:
                held = await portfolio.list_positions(s, bot_id=bot.id, open_only=True)
            if held:
                break
            await asyncio.sleep(0.01)
        await BotService(db, lookup).close_positions(SYSTEM, bot.id)
        while (await _row(db, bot.id))[0] is BotStatus.RUNNING:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        stop.set()

    closer = asyncio.create_task(close_when_open())
    outcome = (await host.run(stop))[bot.id]
    await closer
    assert outcome.status == "closed"
    assert outcome.venue is not None
    assert await outcome.venue.fetch_positions() == []
    assert await outcome.venue.fetch_open_orders() == []
    key = bot_key(bot.account_id, bot.id)
    async with db.transaction() as s:
        [done] = list(
            await s.scalars(select(AuditRow).where(AuditRow.action == "bot.close_positions.done"))
        )
    closing = await outcome.venue.fetch_order(SWAP, done.details["orders"][0])
    assert closing.client_order_id == f"c{key}{done.details['request_id']:08d}00"
    assert (closing.status, closing.filled_qty, closing.intent.reduce_only) == (
        OrderStatus.FILLED,
        Decimal("0.01"),
        True,
    )
    assert (await _row(db, bot.id))[0] is BotStatus.STOPPED
    async with db.transaction() as s:
        assert await pending_close_requests(s, bot.id) == []
        stopped = list(await s.scalars(select(AuditRow).where(AuditRow.action == "bot.stop")))
        assert [a.details["reason"] for a in stopped] == [
            f"its positions were closed on request {done.details['request_id']} (closed)"
        ]
        assert await portfolio.list_positions(s, bot_id=bot.id, open_only=True) == []
    assert done.details["outcome"] == "closed"
    assert done.details["flat"] is True
    assert done.details["cancelled"] == [f"x{key}far"]
    assert done.details["orders"] == [closing.client_order_id]


class _LooksAround(RsiReversal):
    """Records what ``ctx.symbols_of_other_bots()`` says at each candle."""

    seen: ClassVar[list[frozenset[str]]] = []

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        _LooksAround.seen.append(ctx.symbols_of_other_bots())


async def test_a_bot_sees_the_symbols_of_the_other_bots_on_its_account(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    plugins = PluginHost.discover()
    plugins.add_record(PluginRecord("looks_around", STRATEGIES, "tests", obj=_LooksAround))
    _LooksAround.seen = []
    looking, account = await running_bot(db, "looking", strategy="looks_around")
    await running_bot(db, "neighbour", symbol="BTC/USDT", account_id=account)
    await running_bot(db, "elsewhere", symbol="BTC/USDT")  # on another account
    outcomes = await _host(tmp_path, db_url, plugins=plugins).run()
    assert outcomes[looking.id].status == "finished"
    assert _LooksAround.seen
    assert set(_LooksAround.seen) == {frozenset({"BTC/USDT"})}
