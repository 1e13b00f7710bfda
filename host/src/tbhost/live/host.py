"""``Host``: opens storage, runs every bot whose stored state is ``running`` as an asyncio task
on the wall clock, follows the stored wanted state, and stops gracefully.

Each bot today is a paper bot on a replay feed (:func:`tbhost.engine.paper.run_paper`):

* **Market data**: the stored candles of the bot's symbol and timeframe (exchange
  ``data_exchange``, default ``binance``; bundled series are imported on first use; a swap
  without candles of its own replays its spot pair), optionally narrowed to ``[start, end)``,
  delivered at ``speed`` times the wall clock.
* **Venue**: one paper exchange per bot (a simplification: bots sharing a paper account do not
  share its balance), configured from the account's ``options`` (balances, slippage, ...) and
  position mode, listing one instrument built by
  :func:`~tbhost.engine.instruments.backtest_instrument` for the bot's symbol. It keeps its own
  state on disk like a real venue (:class:`~.durable_venue.DurableVenue`, under
  ``data_dir/paper/<bot_id>/``): whatever happens to the host, the venue keeps every order it
  accepted and every fill it made.
* **Orders**: an :class:`~tbhost.orders.OrderManager` per bot stores every intent before it is
  sent and every answer, fill and position after; at start-up (and every
  ``reconcile_every_s`` between candles) it reconciles storage with the venue by client order
  id: intents the venue never received are sent, orders it moved on are brought up to date,
  orders of this bot (``[a-z]`` + the bot's key, :func:`tbsdk.ids.bot_key`) that storage never
  saw are adopted.
* **Clock and storage**: the bots started together share one replay clock
  (:class:`~.feed_clock.FeedClock`): their candles close at the same instant. Their writes go
  through one :class:`~tbhost.orders.group_commit.GroupCommit`: the intents and the
  checkpoints of everyone's candle are committed in a few bulk transactions, each bot still
  waiting for its own.
* **Strategy**: the bot's strategy class (from the plugins) built from the stored config
  snapshot, with the ``symbol`` and ``timeframe`` settings (where the config has them) taken
  from the bot. After every candle that changed anything, and before the next one, its state
  and the feed position are committed to ``strategy_states``; a restarted bot loads the latest
  and is fed again from there. The venue may have matched the one candle after it (its fills
  not yet seen): the venue answers that candle with the events it logged, and the strategy's
  re-decided orders carry the same client ids, so the venue refuses doubles and the runner
  takes the venue's order for its own.

A bot that faults (the strategy raises, its config no longer validates, its strategy plugin is
gone, no candles, ...) is stored as ``faulted`` with the reason (audit action ``bot.fault``, by
the system) and keeps its last good strategy state; the others go on. A bot whose replay
reaches the end of the candles is stored as ``stopped``. A bot stopped because the host stops
stays ``running`` in storage, and the next host resumes it where it was. Without ``once`` the
host polls storage: bots started later are picked up, bots paused or stopped by a command are
stopped (their stored state is never overwritten by the host).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import sys
import time
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from tbsdk.errors import ConfigError, TbError
from tbsdk.exchange import SimulatedVenue
from tbsdk.ids import bot_key

from ..cancellation import raise_if_cancelling
from ..candles import CandleStore, replay_candles
from ..engine.instruments import backtest_instrument
from ..engine.paper import PaperCheckpoint, PaperRun, run_paper
from ..engine.runner import BotState
from ..faults import failpoint
from ..orders import OrderManager, ReconcileReport
from ..orders.group_commit import GroupCommit
from ..orders.records import StateSnapshot
from ..services.commands import complete_close_request, pending_close_requests
from ..storage import Database, open_database
from ..storage.models import SYSTEM_ACTOR, AccountRow, BotRow, BotStatus
from ..storage.repos import audit, bots, portfolio, states
from ..storage.repos.neighbours import symbols_of_other_bots
from .close_out import CloseOut, close_out
from .durable_venue import DurableVenue, venue_dir
from .feed_clock import FeedClock, Pacer
from .idle_close import close_idle, complete_failed, stop_from
from .opened_bot import OpenedBot

if TYPE_CHECKING:
    from tbsdk import Exchange, Strategy
    from tbsdk.model import CandleArrays, Instrument

    from ..plugins import PluginHost
    from ..services import CloseRequest
    from ..settings import Settings
    from ..storage.repos.states import SavedState

__all__ = ["BotOutcome", "Host", "describe"]

log = logging.getLogger("tbhost.host")

KEEP_STATES = 10
"""Strategy state snapshots kept per bot in the database (older ones are pruned every
``KEEP_STATES`` snapshots, so between 10 and 19 are kept)."""


SWITCH_INTERVAL_S = 0.0005
"""The interpreter's thread switch interval while the host runs (Python's default is 5 ms).
The database driver runs each statement in a thread of its own, and plugin checks run in
threads too: while a thousand bots keep the event loop busy, each of them waits up to the
switch interval for the interpreter lock at every statement. With a tenth of the default, 62
bots' orders of one candle reached the venue in 20 ms instead of 80 ms (100 bots, traced)."""


@dataclass
class BotOutcome:
    """How one bot's run in this host ended."""

    bot_id: str
    name: str
    status: str
    """``finished`` (replay ended; stored as stopped), ``stopped`` (the host or a command
    stopped it; resumable), ``faulted``, ``closed`` (a close request was carried out: see its
    completion in the audit log), or ``close_failed`` (carrying one out for a bot that was not
    running raised; the request is completed as failed, the bot's state left alone)."""
    fault: str | None = None
    resumed_at: int | None = None
    """Candle index the bot resumed at, or None for a fresh start."""
    next_index: int = 0
    candles: int = 0
    venue: SimulatedVenue | None = None
    run: PaperRun | None = None
    reconciled: ReconcileReport | None = None
    """What the start-up reconciliation found and did."""


class Host:
    """The long-running host. ``await host.run(stop)`` returns when ``stop`` is set (every bot
    is then stopped gracefully) or, with ``once``, when every bot's replay has ended."""

    def __init__(
        self,
        settings: Settings,
        plugins: PluginHost | None = None,
        *,
        speed: float = 60.0,
        bot_refs: Sequence[str] = (),
        start: int | None = None,
        end: int | None = None,
        data_exchange: str = "binance",
        once: bool = False,
        poll_s: float = 2.0,
        reconcile_every_s: float = 60.0,
    ) -> None:
        if speed <= 0:
            raise ConfigError(f"speed must be positive, got {speed}")
        self.settings = settings
        self.speed = speed
        self.bot_refs = tuple(bot_refs)
        self.start, self.end = start, end
        self.data_exchange = data_exchange
        self.once = once
        self.poll_s = poll_s
        self.reconcile_every_s = reconcile_every_s
        self.outcomes: dict[str, BotOutcome] = {}
        self._plugins = plugins
        self._db: Database | None = None
        self._tasks: dict[str, asyncio.Task[BotOutcome]] = {}
        self._stops: dict[str, asyncio.Event] = {}
        self._store = CandleStore(settings.data_dir / "candles")
        self._closing: dict[str, CloseRequest] = {}
        self._other_bots: dict[str, frozenset[str]] = {}
        """Per running bot: the symbols the other bots on its account trade (rotations)."""
        """Close requests being carried out, by bot id (the bot is stopping for them)."""
        self._writer: GroupCommit | None = None
        self._clocks: list[FeedClock] = []
        self._replayed: dict[tuple[str, str], CandleArrays] = {}
        self._froze = False

    @property
    def plugins(self) -> PluginHost:
        if self._plugins is None:
            from ..plugins import PluginHost

            conf = self.settings
            self._plugins = PluginHost.discover(
                conf.plugins_allow,
                conf.plugins_block,
                failure_limit=conf.hook_failure_limit,
                check_timeout_s=conf.check_order_timeout_s,
            )
        return self._plugins

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the host is not running")
        return self._db

    async def run(self, stop: asyncio.Event | None = None) -> dict[str, BotOutcome]:
        """Run until ``stop`` is set (or, with ``once``, until every bot's replay ends);
        returns how each bot's run ended. The database is opened (upgraded first when
        ``database_auto_upgrade`` is set, else checked to be at the head) and closed here."""
        stop = stop if stop is not None else asyncio.Event()
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(switch_interval, SWITCH_INTERVAL_S))
        try:
            return await self._run(stop)
        finally:
            sys.setswitchinterval(switch_interval)
            if self._froze:
                gc.unfreeze()
                self._froze = False

    async def _run(self, stop: asyncio.Event) -> dict[str, BotOutcome]:
        self._db = await open_database(self.settings)
        self._writer = GroupCommit(self._db)
        log.info("host started: database %s, replay speed %s", self._db.display_url, self.speed)
        try:
            _ = self.plugins
            await self._follow_storage()
            if not self._tasks:
                log.info("no running bots%s", " to run" if self.once else "; waiting for some")
            while not stop.is_set():
                if self.once and not self._tasks:
                    break
                waiting: set[asyncio.Future[Any]] = {asyncio.ensure_future(stop.wait())}
                waiting |= set(self._tasks.values())
                timeout = None if self.once else self.poll_s
                done, _ = await asyncio.wait(
                    waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                for f in waiting - done:
                    if f not in self._tasks.values():
                        f.cancel()
                self._reap()
                if not stop.is_set() and not self.once:
                    try:
                        await self._follow_storage()
                    except Exception:  # the database may be back at the next poll
                        raise_if_cancelling()
                        log.exception("reading the bots' wanted states failed")
        finally:
            try:
                await self._stop_all()
            finally:
                await self._db.dispose()
                self._db, self._writer = None, None
        log.info("host stopped")
        return self.outcomes

    def _reap(self) -> None:
        for bot_id, task in list(self._tasks.items()):
            if task.done():
                del self._tasks[bot_id]
                self._stops.pop(bot_id, None)  # a close-out of an idle bot has none
                self._closing.pop(bot_id, None)  # a bot that ended before its close-out
                if not task.cancelled() and task.exception() is None:
                    self.outcomes[bot_id] = task.result()

    async def _stop_all(self) -> None:
        if self._tasks:
            log.info("stopping %d bot(s)", len(self._tasks))
        for event in self._stops.values():
            event.set()
        self._wake_clocks()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._reap()

    def _wanted(self, bot_id: str, name: str) -> bool:
        return not self.bot_refs or bot_id in self.bot_refs or name in self.bot_refs

    async def _follow_storage(self) -> None:
        """Start the bots stored as running that are not running here; stop the ones running
        here that are no longer stored as running (paused or stopped by a command). Carry out
        the pending close requests: a bot running here is stopped for its close-out; any other
        bot this host serves is closed out without being started (:mod:`.idle_close`)."""
        async with self.db.transaction() as s:
            running = {i for i, n in await bots.running_bot_names(s) if self._wanted(i, n)}
            requests = await pending_close_requests(s)
            idle = await self._idle_requests(s, requests)
            self._other_bots = await symbols_of_other_bots(s, sorted(running))
            # Whole rows only for the bots to start (none, in most polls).
            candidates = await bots.get_bots(s, [i for i in running if i not in self._tasks])
        for row, request in idle:
            # Registered as the bot's task: the bot is not started (by a resume, say) until
            # its close-out is over and the task reaped.
            self._tasks[row.id] = asyncio.create_task(
                self._close_idle(row, request), name=f"close-{row.name}"
            )
        for request in requests:
            if request.bot_id in self._stops and request.bot_id not in self._closing:
                log.info(
                    "bot %s: closing its positions (request %d)", request.bot_id, request.request_id
                )
                self._closing[request.bot_id] = request
                self._stops[request.bot_id].set()
        for bot_id, event in self._stops.items():
            if bot_id not in running and not event.is_set():
                log.info("bot %s is no longer running in storage: stopping it", bot_id)
                event.set()
        self._wake_clocks()
        new = [row for row in candidates if row.id not in self._tasks]
        if new:
            self._replayed.clear()  # a later batch reads the stored candles afresh
        # The bots started together share one replay clock: their candles close together.
        clock = (
            FeedClock(self.speed, on_start=self._freeze_objects)
            if new and self.speed != float("inf")
            else None
        )
        if clock is not None:
            self._clocks = [c for c in self._clocks if c.waiting] + [clock]
        for row in new:
            self._stops[row.id] = asyncio.Event()
            pacer = clock.pacer() if clock is not None else None
            self._tasks[row.id] = asyncio.create_task(
                self._run_bot(row, self._stops[row.id], pacer), name=f"bot-{row.name}"
            )

    async def _idle_requests(
        self, s: AsyncSession, requests: Sequence[CloseRequest]
    ) -> list[tuple[BotRow, CloseRequest]]:
        """The pending requests (the oldest per bot) for the bots this host serves that have no
        task here: neither running nor closing out."""
        found: dict[str, tuple[BotRow, CloseRequest]] = {}
        for request in requests:
            if request.bot_id in self._tasks or request.bot_id in found:
                continue
            row = await bots.get_bot(s, request.bot_id)
            if row is not None and self._wanted(row.id, row.name):
                found[row.id] = (row, request)
        return list(found.values())

    def _freeze_objects(self) -> None:
        """Move every object alive now (the bots' strategies, venues, candles, the ORM's
        metadata: hundreds of thousands with a thousand bots) out of the garbage collector's
        scans until the host stops. They live as long as the bots; without this each full
        collection walks them all, 200-300 ms with a thousand bots, stalling every bot's
        candle it falls on."""
        gc.freeze()
        self._froze = True

    def _wake_clocks(self) -> None:
        """Let bots waiting for a candle see that their stop event was set."""
        for clock in self._clocks:
            clock.interrupt()

    async def _run_bot(
        self, row: BotRow, stop: asyncio.Event, pacer: Pacer | None = None
    ) -> BotOutcome:
        outcome = BotOutcome(row.id, row.name, "faulted")
        try:
            await self._drive(row, stop, outcome, pacer)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = exc.message if isinstance(exc, TbError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, TbError):
                log.exception("bot %s (%s) failed", row.name, row.id)
            outcome.status, outcome.fault = "faulted", reason
        finally:
            if pacer is not None:
                pacer.leave()
        if outcome.status == "faulted":
            log.error("bot %s (%s) faulted: %s", row.name, row.id, outcome.fault)
            await self._record(row.id, BotStatus.FAULTED, "bot.fault", outcome.fault)
        return outcome

    async def _drive(
        self, row: BotRow, stop: asyncio.Event, outcome: BotOutcome, pacer: Pacer | None
    ) -> None:
        strategy = self._strategy(row, self._symbol(row), row.timeframe)
        async with self._opened(row, outcome) as bot:
            await self._run_on(bot, strategy, stop, outcome, pacer)

    @asynccontextmanager
    async def _opened(self, row: BotRow, outcome: BotOutcome) -> AsyncIterator[OpenedBot]:
        """The bot's records, candles, durable paper venue and order manager, reconciled with
        the venue (the report and the venue go on ``outcome``); the venue is closed after. What
        running a bot and closing the positions of an idle one both start from."""
        async with self.db.transaction() as s:
            info = await bots.bot_info(s, row.id)
            account = await s.get(AccountRow, row.account_id)
            saved = await states.latest_state(s, row.id)
            trades_stored = await portfolio.count_trades(s, row.id)
        assert account is not None, "bots.account_id is a foreign key"
        symbol, timeframe = self._symbol(row), info.timeframe
        instrument = backtest_instrument("paper", symbol)
        candles = self._candles(symbol, timeframe)
        if len(candles) == 0:
            raise ConfigError(
                f"no {timeframe} candles of {symbol} on {self.data_exchange} in the replay window"
            )
        key = bot_key(row.account_id, row.id)
        venue = self._durable(self._venue(account, instrument, key), row.id)
        try:
            venue.load()
            outcome.venue, outcome.candles = venue, len(candles)
            manager = OrderManager(
                self.db,
                venue,
                row.account_id,
                row.id,
                re.compile(rf"[a-z]{key}"),
                adopt_pattern=rf"[a-z]{key}[0-9a-z]*",
                buffered=True,
                writer=self._writer,
                before_store=venue.sync,
            )
            outcome.reconciled = await manager.reconcile([symbol])
            yield OpenedBot(
                row,
                info,
                saved,
                instrument,
                candles,
                venue,
                manager,
                outcome.reconciled,
                trades_stored,
            )
        finally:
            await venue.close()

    @staticmethod
    def _symbol(row: BotRow) -> str:
        if len(row.symbols) != 1:
            raise ConfigError(
                f"the replay host runs one symbol per bot; bot {row.name!r} has "
                f"{len(row.symbols)} ({', '.join(row.symbols)})"
            )
        return str(row.symbols[0])

    async def _run_on(
        self,
        bot: OpenedBot,
        strategy: Strategy[Any],
        stop: asyncio.Event,
        outcome: BotOutcome,
        pacer: Pacer | None = None,
    ) -> None:
        row, venue, manager, candles = bot.row, bot.venue, bot.manager, bot.candles
        saved = bot.saved
        symbol, timeframe = bot.symbol, bot.timeframe
        resume = self._resume_point(row, venue, candles, saved)
        seen_all = saved is not None and (saved.feed_ts or 0) >= (venue.last_close or 0)
        if resume is not None:
            outcome.resumed_at = resume.next_index
            log.info(
                "bot %s (%s) resumed at candle %d of %d",
                row.name,
                row.id,
                resume.next_index,
                len(candles),
            )
        else:
            log.info("bot %s (%s) started at candle 0 of %d", row.name, row.id, len(candles))
        close_ts = bot.close_ts

        def feed_ts(i: int) -> int:
            return int(candles.ts[i]) if i < len(candles) else int(close_ts[-1])

        last_reconcile = [time.monotonic()]

        async def checkpoint(point: PaperCheckpoint) -> None:
            # The candle's order records and the state after it, in one transaction (shared
            # with the other bots' checkpoints); a faulted strategy's last good state stays
            # the one to resume from. The venue's log first holds every candle it matched.
            venue.sync()
            state = StateSnapshot(
                row.id, point.strategy_state, feed_ts(point.next_index), keep=KEEP_STATES
            )
            await bot.record_trades()
            await manager.flush(None if point.faulted else state)
            failpoint("state.saved")
            if time.monotonic() - last_reconcile[0] >= self.reconcile_every_s:
                last_reconcile[0] = time.monotonic()
                await manager.reconcile([symbol])

        run = await run_paper(
            strategy,
            venue,
            bot.instrument,
            candles,
            timeframe,
            bot=bot.info,
            speed=self.speed,
            resume=resume,
            stop=stop,
            checkpoint=checkpoint,
            journal=manager,
            save_venue=False,
            known_venue=None if seen_all else venue.before_last_candle(),
            plugins=self.plugins,
            pace=pacer,
            other_bots=lambda: self._other_bots.get(row.id, frozenset()),
        )
        outcome.run, outcome.next_index = run, run.checkpoint.next_index
        where = f"candle {run.checkpoint.next_index} of {len(candles)}"
        request = self._closing.pop(row.id, None)
        if request is not None:
            done = await close_out(bot, run.checkpoint.next_index, request_id=request.request_id)
            outcome.status = "closed"
            await self._complete_close(row, request, done, {BotStatus.RUNNING})
            return
        if run.state is BotState.FAULTED:
            outcome.status, outcome.fault = "faulted", run.fault or "the strategy faulted"
        elif run.finished:
            outcome.status = "finished"
            log.info(
                "bot %s (%s) finished its replay (%s); stored as stopped", row.name, row.id, where
            )
            await self._record(row.id, BotStatus.STOPPED, "bot.stop", "the replay feed ended")
        else:
            outcome.status = "stopped"
            log.info("bot %s (%s) stopped at %s; it resumes there", row.name, row.id, where)

    def _resume_point(
        self, row: BotRow, venue: DurableVenue, candles: CandleArrays, saved: SavedState | None
    ) -> PaperCheckpoint | None:
        """Where the bot's feed resumes: after the last candle its saved state had handled; from
        the first candle, afresh, when it has no saved state with a feed position (the venue
        answers the candles it had already matched from its log, so none is matched twice)."""
        if saved is not None and saved.feed_ts is not None:
            index = int(np.searchsorted(candles.ts, saved.feed_ts, "left"))
            return PaperCheckpoint(index, saved.state, None)
        if venue.last_close is not None:
            log.warning(
                "bot %s (%s): no saved strategy state with a feed position, yet its venue has "
                "matched candles up to %d: the strategy starts afresh from the first candle",
                row.name,
                row.id,
                venue.last_close,
            )
        return None

    def _strategy(self, row: BotRow, symbol: str, timeframe: str) -> Strategy[Any]:
        cls = self.plugins.strategy_class(row.strategy)
        values = dict(row.config)
        fields = cls.config_class.model_fields
        for key, value in (("symbol", symbol), ("timeframe", timeframe)):
            if key in fields:
                values[key] = value
        from pydantic import ValidationError

        try:
            return cls.from_settings(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(
                f"the stored config of strategy {row.strategy!r} is invalid: {problems}"
            ) from None

    def _venue(self, account: AccountRow, instrument: Instrument, key: str) -> Exchange:
        """The bot's simulated venue; the ids it makes up itself carry the bot's ``key``,
        where it takes an ``id_prefix`` (the paper venue does), as each bot has a venue of its
        own while their orders share the account's records."""
        cls = self.plugins.exchange_class(account.exchange)
        options = dict(account.options or {})
        options.update(instruments=[instrument], position_mode=account.position_mode.value)
        if "id_prefix" in cls.config_class.model_fields:
            options["id_prefix"] = key
        venue = cls(cls.config_class.model_validate(options))
        if not isinstance(venue, SimulatedVenue):
            raise ConfigError(
                f"account {account.label!r} is on {account.exchange!r}: live exchanges are not "
                "run yet, only simulated venues (paper) on a replay feed"
            )
        return venue

    def _durable(self, venue: Exchange, bot_id: str) -> DurableVenue:
        """The bot's paper venue made durable under ``data_dir/paper/<bot_id>/``."""
        return DurableVenue(
            venue, venue_dir(self.settings.data_dir, bot_id), fsync=self.settings.paper_fsync
        )

    def _candles(self, symbol: str, timeframe: str) -> CandleArrays:
        """The stored candles to replay, found as ``tbhost backtest`` finds them; read once
        per symbol and timeframe for the bots started together, and shared by them (the
        arrays are read-only)."""
        key = (symbol, timeframe)
        found = self._replayed.get(key)
        if found is None:
            found = self._replayed[key] = replay_candles(
                self._store, self.data_exchange, symbol, timeframe, self.start, self.end
            )
        return found

    async def _close_idle(self, row: BotRow, request: CloseRequest) -> BotOutcome:
        """Carry out a close request for a bot with no task here, without its strategy (see
        :mod:`.idle_close`). A failure is the request's, never the host's nor the bot's: the
        request is completed as failed with the reason and the bot's state is left alone."""
        outcome = BotOutcome(row.id, row.name, "closed")
        try:
            async with self._opened(row, outcome) as bot:
                done = await close_idle(bot, request.request_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # isolation: one bot's close-out must not stop the host
            reason = exc.message if isinstance(exc, TbError) else f"{type(exc).__name__}: {exc}"
            log.error(
                "bot %s (%s): close request %d failed: %s",
                row.name,
                row.id,
                request.request_id,
                reason,
                exc_info=not isinstance(exc, TbError),
            )
            outcome.status, outcome.fault = "close_failed", reason
            await complete_failed(self.db, request, reason)
            return outcome
        outcome.next_index = done.next_index
        try:
            await self._complete_close(row, request, done, stop_from(row.state, done))
        except Exception:  # the close-out is repeatable: the next poll finds its orders
            log.exception("bot %s: storing the outcome of its close request failed", row.id)
        return outcome

    async def _complete_close(
        self,
        row: BotRow,
        request: CloseRequest,
        done: CloseOut,
        stop_from: Collection[BotStatus],
    ) -> None:
        """Store the close-out's outcome on its request, and the bot as stopped if its stored
        state is one of ``stop_from``."""
        async with self.db.transaction() as s:
            await complete_close_request(
                s, request.request_id, outcome=done.outcome, details=done.details()
            )
        log.info(
            "bot %s (%s): close request %d %s", row.name, row.id, request.request_id, done.outcome
        )
        if stop_from:
            reason = f"its positions were closed on request {request.request_id} ({done.outcome})"
            await self._record(row.id, BotStatus.STOPPED, "bot.stop", reason, stop_from)

    async def _record(
        self,
        bot_id: str,
        target: BotStatus,
        action: str,
        reason: str | None,
        only_from: Collection[BotStatus] = (BotStatus.RUNNING,),
    ) -> None:
        """Store the bot's new state with an audit entry by the system, if its stored state is
        one of ``only_from``: not if a command moved it meanwhile (the stored state is the
        wanted one: never overwritten here)."""

        async def store(s: AsyncSession) -> None:
            row = await bots.get_bot(s, bot_id)
            if row is None or row.state not in only_from:
                return
            was = row.state.value
            await bots.set_state(s, bot_id, target, reason=reason)
            await audit.record(
                s,
                actor=SYSTEM_ACTOR,
                action=action,
                target_type="bot",
                target_id=bot_id,
                details={"name": row.name, "from": was, "to": target.value, "reason": reason},
            )

        try:
            if self._writer is not None:
                await self._writer.write(store)  # with the other bots' writes
            else:
                async with self.db.transaction() as s:
                    await store(s)
        except Exception:
            log.exception("bot %s: storing its state %s failed", bot_id, target.value)


def describe(outcome: BotOutcome) -> str:
    """One line for the CLI."""
    text = f"{outcome.name} ({outcome.bot_id}): {outcome.status}"
    if outcome.candles:
        text += f" at candle {outcome.next_index} of {outcome.candles}"
    if outcome.venue is not None and outcome.status != "faulted":
        text += f", {len(outcome.venue.trades())} trades"
    if outcome.run is not None and outcome.run.report:
        text += "; " + "; ".join(f"{k} {v}" for k, v in outcome.run.report.items())
    if outcome.fault:
        text += f": {outcome.fault}"
    return text
