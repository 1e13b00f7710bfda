"""``tbhost run`` closes the positions of a bot that is not running: paused, faulted, or never
run, on both backends; a close-out killed in the middle and carried out again sends no order
twice; a close-out that cannot be done leaves the bot and its orders as they were.

As in ``test_run_host``: real storage, the bots' durable paper venues on disk, the bundled
candles replayed. The strategies here buy 0.01 BTC at the first candle and rest a protective
stop far below; one of them then raises."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import URL

from tb_strategy_example import RsiReversal
from tbhost.candles import CandleStore, replay_candles
from tbhost.live import Host
from tbhost.plugins import PluginHost
from tbhost.plugins.records import PluginRecord
from tbhost.services import SYSTEM, AccountService, Bot, BotService, CloseRequest
from tbhost.services.commands import pending_close_requests
from tbhost.storage import Database, generate_key
from tbhost.storage.models import AuditRow, BotStatus, FillRow, OrderRow
from tbhost.storage.repos import bots as bot_repo
from tbhost.storage.repos import orders as order_repo
from tbhost.storage.repos import portfolio
from tbsdk import Strategy, StrategyContext
from tbsdk.groups import STRATEGIES
from tbsdk.ids import base36, bot_key
from tbsdk.model import (
    CandleClosed,
    OrderSide,
    OrderStatus,
    OrderType,
)

from .test_run_kit import END, START, SWAP, Holds, locked_retry, ms, settings_for, venue

QTY = Decimal("0.01")
FAULT_AT = "2023-01-05"


class _HoldsWithStop(Holds):
    """Buys ``QTY`` at the first candle with a sell stop far below, then does nothing."""

    qty = QTY
    rest = "stop"


class _FaultsHolding(_HoldsWithStop):
    """As :class:`_HoldsWithStop`, and raises from ``FAULT_AT`` on (its entry filled long
    before)."""

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        if event.candle.ts >= ms(FAULT_AT):
            raise RuntimeError("the strategy broke")
        super().on_candle(ctx, event)


class _Quiet(RsiReversal):
    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        pass


STRATEGY_CLASSES: dict[str, type[Strategy[Any]]] = {
    "holds_with_stop": _HoldsWithStop,
    "faults_holding": _FaultsHolding,
    "quiet": _Quiet,
}


def _lookup(name: str) -> type[Strategy[Any]]:
    return STRATEGY_CLASSES[name]


def _plugins() -> PluginHost:
    plugins = PluginHost.discover()
    for name, cls in STRATEGY_CLASSES.items():
        plugins.add_record(PluginRecord(name, STRATEGIES, "tests", obj=cls))
    return plugins


async def _running_bot(
    db: Database, name: str, strategy: str, symbols: tuple[str, ...] = (SWAP,)
) -> Bot:
    """A bot on a paper account of its own, created and started by the system actor."""
    account = await AccountService(db, SecretStr(generate_key())).add(
        SYSTEM, "paper", f"acct-{name}"
    )
    service = BotService(db, _lookup)
    bot = await service.create(SYSTEM, name, strategy, account.id, list(symbols), "1h", {})
    return await service.start(SYSTEM, bot.id)


def _host(data: Path, db_url: URL | str, end: str = END, **kw: Any) -> Host:
    options: dict[str, Any] = {"speed": float("inf"), "once": True, "plugins": _plugins()}
    options.update(kw)
    return Host(settings_for(data, db_url), start=ms(START), end=ms(end), **options)


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(60):
        while not await check():  # noqa: ASYNC110 - storage or a dict, no event to wait on
            await asyncio.sleep(0.02)


async def _state(db: Database, bot_id: str) -> tuple[BotStatus, str | None]:
    async with db.transaction() as s:
        row = await bot_repo.require_bot(s, bot_id)
        return row.state, row.fault_reason


async def _audited(db: Database, bot_id: str, action: str) -> list[dict[str, Any]]:
    """The details of the bot's audit entries of ``action``, oldest first."""
    async with db.transaction() as s:
        rows = await s.scalars(
            select(AuditRow)
            .where(AuditRow.action == action, AuditRow.target_id == bot_id)
            .order_by(AuditRow.id)
        )
        return [row.details for row in rows]


async def _completions(db: Database, bot_id: str) -> list[dict[str, Any]]:
    return await _audited(db, bot_id, "bot.close_positions.done")


async def _stops(db: Database, bot_id: str) -> list[dict[str, Any]]:
    return await _audited(db, bot_id, "bot.stop")


def _closing_id(bot: Bot, request: CloseRequest) -> str:
    return f"c{bot_key(bot.account_id, bot.id)}{base36(request.request_id, 8)}00"


def _next_open(data: Path, last_close: int) -> Decimal:
    """The open of the first candle after the venue's last matched one: where a market order
    sent after it fills (the paper account has no slippage)."""
    candles = replay_candles(CandleStore(data / "candles"), "binance", SWAP, "1h", ms(START))
    [i] = [i for i, ts in enumerate(candles.ts) if int(ts) == last_close]
    return Decimal(repr(float(candles.open[i])))


async def _assert_closed_through_the_manager(
    db: Database, data: Path, bot: Bot, request: CloseRequest, fill_price: Decimal | None
) -> None:
    """The position is closed on the venue and in storage by one reduce-only market order with
    the request's deterministic id, stored before it was sent; the stop was cancelled."""
    key = bot_key(bot.account_id, bot.id)
    cid = _closing_id(bot, request)
    paper = venue(data, bot.id)
    assert await paper.fetch_positions() == []
    assert await paper.fetch_open_orders() == []
    closing = await paper.fetch_order(SWAP, cid)
    assert (closing.status, closing.filled_qty, closing.intent.side) == (
        OrderStatus.FILLED,
        QTY,
        OrderSide.SELL,
    )
    assert (closing.intent.type, closing.intent.reduce_only) == (OrderType.MARKET, True)
    if fill_price is not None:
        assert closing.avg_fill_price == fill_price
    assert (await paper.fetch_order(SWAP, f"x{key}stop")).status is OrderStatus.CANCELED
    venue_ids = [o["intent"]["client_order_id"] for o in paper.save_state()["orders"]]
    assert sorted(venue_ids) == sorted([f"x{key}hold", f"x{key}stop", cid])  # nothing doubled
    async with db.transaction() as s:
        row = await order_repo.require_order(s, bot.account_id, cid)
        assert (row.bot_id, row.status, row.filled_qty, row.tag) == (
            bot.id,
            OrderStatus.FILLED,
            QTY,
            "close",
        )
        events = await order_repo.order_events(s, row.id)
        assert events[0].from_status is None
        assert events[0].to_status is OrderStatus.NEW  # stored before it was sent
        assert events[-1].to_status is OrderStatus.FILLED
        stop = await order_repo.require_order(s, bot.account_id, f"x{key}stop")
        assert stop.status is OrderStatus.CANCELED
        fills = list(await s.scalars(select(FillRow).where(FillRow.client_order_id == cid)))
        assert [f.qty for f in fills] == [QTY]
        assert await portfolio.list_positions(s, bot_id=bot.id, open_only=True) == []
        assert await pending_close_requests(s, bot.id) == []
        # The round trip the close ended is stored, as the venue records it.
        stored = [portfolio.to_trade(t) for t in await portfolio.list_trades(s, bot_id=bot.id)]
    assert stored == paper.trades()
    assert [t.exit_reason for t in stored] == ["close"]


async def _completed_closed(
    db: Database, bot: Bot, request: CloseRequest, was: BotStatus, *, cancelled: bool = True
) -> None:
    """The request is completed once, ``closed`` (having cancelled the stop, if ``cancelled``),
    and the bot stored as stopped from ``was`` with the same reason as a running bot gets."""
    key = bot_key(bot.account_id, bot.id)
    assert await _completions(db, bot.id) == [
        {
            "cancelled": [f"x{key}stop"] if cancelled else [],
            "orders": [_closing_id(bot, request)],
            "flat": True,
            "request_id": request.request_id,
            "outcome": "closed",
        }
    ]
    assert await _state(db, bot.id) == (BotStatus.STOPPED, None)
    reason = f"its positions were closed on request {request.request_id} (closed)"
    assert (await _stops(db, bot.id))[-1] == {
        "name": bot.name,
        "from": was.value,
        "to": "stopped",
        "reason": reason,
    }


async def _holding(db: Database, bot_id: str) -> bool:
    async with db.transaction() as s:
        return bool(await portfolio.list_positions(s, bot_id=bot_id, open_only=True))


async def test_a_paused_bot_is_closed_by_the_running_host(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    """The host keeps running: the bot is paused once it holds its position, then its
    positions are asked closed; the host closes it without starting it."""
    data = tmp_path / "data"
    bot = await _running_bot(db, "holder", "holds_with_stop")
    host = _host(data, db_url, speed=3600 * 100, once=False, poll_s=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(host.run(stop))
    try:
        await _until(lambda: _holding(db, bot.id))
        await locked_retry(lambda: BotService(db, _lookup).pause(SYSTEM, bot.id))

        async def stopped() -> bool:
            return bot.id in host.outcomes

        await _until(stopped)
        paused = host.outcomes[bot.id]
        assert paused.status == "stopped"
        last_close = venue(data, paused.bot_id).last_close  # the venue as the bot left it
        assert last_close is not None
        request = await locked_retry(
            lambda: BotService(db, _lookup).close_positions(SYSTEM, bot.id)
        )

        async def completed() -> bool:
            return bool(await _completions(db, bot.id))

        async def reaped() -> bool:
            return host.outcomes[bot.id].status == "closed"

        await _until(completed)
        await _until(reaped)
    finally:
        stop.set()
        outcomes = await running
    assert outcomes[bot.id].status == "closed"
    await _completed_closed(db, bot, request, BotStatus.PAUSED)
    await _assert_closed_through_the_manager(db, data, bot, request, _next_open(data, last_close))
    async with db.transaction() as s:
        actions = [
            a.action
            for a in await s.scalars(
                select(AuditRow).where(AuditRow.target_id == bot.id).order_by(AuditRow.id)
            )
        ]
    assert actions == [
        "bot.create",
        "bot.start",
        "bot.pause",
        "bot.close_positions",
        "bot.close_positions.done",
        "bot.stop",
    ]


async def _faulted_holding_bot(db: Database, data: Path, db_url: URL | str) -> Bot:
    """A bot that bought, rested its stop and then faulted: the stop is still on the venue."""
    bot = await _running_bot(db, "breaks", "faults_holding")
    outcome = (await _host(data, db_url).run())[bot.id]
    assert outcome.status == "faulted"
    state, reason = await _state(db, bot.id)
    assert state is BotStatus.FAULTED
    assert reason is not None
    assert "the strategy broke" in reason
    key = bot_key(bot.account_id, bot.id)
    paper = venue(data, bot.id)
    assert [o.client_order_id for o in await paper.fetch_open_orders()] == [f"x{key}stop"]
    assert [p.signed_size for p in await paper.fetch_positions()] == [QTY]
    return bot


async def test_a_faulted_bot_is_closed_and_its_stop_cancelled(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    bot = await _faulted_holding_bot(db, data, db_url)
    last_close = venue(data, bot.id).last_close
    assert last_close is not None
    request = await BotService(db, _lookup).close_positions(SYSTEM, bot.id)
    outcome = (await _host(data, db_url).run())[bot.id]  # a host started after the request
    assert outcome.status == "closed"
    await _completed_closed(db, bot, request, BotStatus.FAULTED)
    await _assert_closed_through_the_manager(db, data, bot, request, _next_open(data, last_close))


async def test_a_close_out_without_a_candle_to_fill_at_touches_nothing(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    """A host whose replay window ends before the venue's clock cannot close: the request is
    completed as failed with the reason, the faulted bot keeps its fault, its position and its
    stop. Asked again, a host with candles closes it."""
    data = tmp_path / "data"
    bot = await _faulted_holding_bot(db, data, db_url)
    _, fault = await _state(db, bot.id)
    first = await BotService(db, _lookup).close_positions(SYSTEM, bot.id)
    outcome = (await _host(data, db_url, end="2023-01-03").run())[bot.id]
    assert outcome.status == "closed"  # the request was carried out, with outcome failed
    [done] = await _completions(db, bot.id)
    assert done["outcome"] == "failed"
    assert done["flat"] is False
    assert (done["cancelled"], done["orders"]) == ([], [])
    assert done["reason"] == (
        "no candle left to fill a closing order at "
        "(the replay window ends at 2023-01-03T00:00:00+00:00)"
    )
    assert await _state(db, bot.id) == (BotStatus.FAULTED, fault)
    key = bot_key(bot.account_id, bot.id)
    paper = venue(data, bot.id)
    assert [o.client_order_id for o in await paper.fetch_open_orders()] == [f"x{key}stop"]
    assert [p.signed_size for p in await paper.fetch_positions()] == [QTY]
    async with db.transaction() as s:
        assert await pending_close_requests(s, bot.id) == []  # not tried again at every poll

    second = await BotService(db, _lookup).close_positions(SYSTEM, bot.id)
    assert second.request_id != first.request_id
    assert (await _host(data, db_url).run())[bot.id].status == "closed"
    assert [d["outcome"] for d in await _completions(db, bot.id)] == ["failed", "closed"]
    assert await _state(db, bot.id) == (BotStatus.STOPPED, None)
    await _assert_closed_through_the_manager(db, data, bot, second, None)


async def test_a_paused_bot_with_nothing_open_is_stopped(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    """Paused before it ever ran: nothing to close, and the bot is stopped all the same, as a
    running bot is after a close request."""
    data = tmp_path / "data"
    bot = await _running_bot(db, "idle", "quiet")
    await BotService(db, _lookup).pause(SYSTEM, bot.id)
    request = await BotService(db, _lookup).close_positions(SYSTEM, bot.id)
    outcome = (await _host(data, db_url).run())[bot.id]
    assert outcome.status == "closed"
    assert await _completions(db, bot.id) == [
        {
            "cancelled": [],
            "orders": [],
            "flat": True,
            "request_id": request.request_id,
            "outcome": "nothing_open",
        }
    ]
    assert await _state(db, bot.id) == (BotStatus.STOPPED, None)
    assert [d["reason"] for d in await _stops(db, bot.id)] == [
        f"its positions were closed on request {request.request_id} (nothing_open)"
    ]


async def test_a_stopped_bot_stays_stopped_and_a_failing_close_out_stops_nothing(
    db: Database, db_url: URL, tmp_path: Path
) -> None:
    """A stopped bot's request is carried out and the bot left stopped. A close-out that
    raises (here: a bot with two symbols, which the replay host cannot open) completes its
    request as failed with the reason; the bot stays paused and the host carries on."""
    data = tmp_path / "data"
    stopped = await _running_bot(db, "stopped", "quiet")
    await BotService(db, _lookup).stop(SYSTEM, stopped.id)
    twice = await _running_bot(db, "twice", "quiet", symbols=(SWAP, "ETH/USDT:USDT"))
    await BotService(db, _lookup).pause(SYSTEM, twice.id)
    for bot in (stopped, twice):
        await BotService(db, _lookup).close_positions(SYSTEM, bot.id)
    outcomes = await _host(data, db_url).run()
    assert outcomes[stopped.id].status == "closed"
    assert [d["outcome"] for d in await _completions(db, stopped.id)] == ["nothing_open"]
    assert await _state(db, stopped.id) == (BotStatus.STOPPED, None)
    assert [d.get("reason") for d in await _stops(db, stopped.id)] == [None]  # the command's

    failed = outcomes[twice.id]
    reason = (
        "the replay host runs one symbol per bot; bot 'twice' has 2 (BTC/USDT:USDT, ETH/USDT:USDT)"
    )
    assert (failed.status, failed.fault) == ("close_failed", reason)
    [done] = await _completions(db, twice.id)
    assert (done["outcome"], done["reason"]) == ("failed", reason)
    assert await _state(db, twice.id) == (BotStatus.PAUSED, None)


async def test_a_resume_during_the_close_out_waits_for_it_and_wins(
    db: Database, db_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot resumed while its close-out runs is not started until the close-out is over;
    then it stays running (the later command wins) and the host starts it."""
    import tbhost.live.host as host_module

    real = host_module.close_idle
    entered, gate = asyncio.Event(), asyncio.Event()

    async def held(bot: Any, request_id: int) -> Any:
        entered.set()
        await gate.wait()
        return await real(bot, request_id)

    monkeypatch.setattr(host_module, "close_idle", held)
    data = tmp_path / "data"
    bot = await _running_bot(db, "resumed", "holds_with_stop")
    service = BotService(db, _lookup)
    await service.pause(SYSTEM, bot.id)  # before it ever ran: nothing open
    request = await service.close_positions(SYSTEM, bot.id)
    host = _host(data, db_url, speed=3600 * 100, once=False, poll_s=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(host.run(stop))
    key = bot_key(bot.account_id, bot.id)

    async def entry_stored() -> bool:
        async with db.transaction() as s:
            return await order_repo.get_order(s, bot.account_id, f"x{key}hold") is not None

    try:
        async with asyncio.timeout(30):
            await entered.wait()
        await locked_retry(lambda: service.resume(SYSTEM, bot.id))
        await asyncio.sleep(0.5)  # ten polls
        assert not await entry_stored()  # the strategy has not run
        gate.set()
        await _until(entry_stored)  # started once the close-out was over
    finally:
        gate.set()
        stop.set()
        await running
    assert [d["outcome"] for d in await _completions(db, bot.id)] == ["nothing_open"]
    assert [d["request_id"] for d in await _completions(db, bot.id)] == [request.request_id]
    assert await _stops(db, bot.id) == []
    assert await _state(db, bot.id) == (BotStatus.RUNNING, None)


# -- a close-out killed in the middle -----------------------------------------------------------


def _tbhost_once(data: Path, failpoints: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TBHOST_CONFIG", "TBHOST_FAILPOINTS")}
    if failpoints:
        env["TBHOST_FAILPOINTS"] = failpoints
    command = [sys.executable, "-m", "tbhost", "--data-dir", str(data), "--log-level", "WARNING"]
    command += ["run", "--once", "--speed", "inf", "--from", START, "--to", END]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # three processes of ~4 s
async def test_a_close_out_killed_twice_sends_one_closing_order(tmp_path: Path) -> None:
    """``tbhost run --once`` (a process of its own, without the test's strategies: closing
    needs none) is killed once after the venue accepted the closing order but before the
    answer was stored, then once after the venue filled it but before the fill was stored;
    the third run completes the request, once, with the one closing order."""
    data = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{data / 'tbhost.db'}"
    data.mkdir()
    async with Database(url) as db:
        await db.upgrade()
        bot = await _faulted_holding_bot(db, data, url)
        request = await BotService(db, _lookup).close_positions(SYSTEM, bot.id)
    # venue.accepted: 1 the stop's cancel, 2 the closing order; venue.candle: 1 its fill.
    for failpoint in ("venue.accepted=2", "venue.candle=1"):
        killed = await asyncio.to_thread(_tbhost_once, data, failpoint)
        assert killed.returncode == -signal.SIGKILL, (failpoint, killed.stderr[-3000:])
    done = await asyncio.to_thread(_tbhost_once, data, None)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"breaks ({bot.id}): closed" in done.stdout
    async with Database(url) as db:
        # The completion lists what its own attempt did: the first, killed, cancelled the stop.
        await _completed_closed(db, bot, request, BotStatus.FAULTED, cancelled=False)
        await _assert_closed_through_the_manager(db, data, bot, request, None)
        async with db.transaction() as s:
            cid = _closing_id(bot, request)
            rows = await s.scalars(select(OrderRow).where(OrderRow.client_order_id.like("c%")))
            assert [r.client_order_id for r in rows] == [cid]
