"""``BotRunner``: delivers events to one strategy and carries out what it asks for.

The same runner serves backtest, paper and live bots; only the clock, the market data and the
exchange it is given differ. Each handler's commands run after the handler returns, and the
events they cause are delivered before the next outside event, so a strategy always sees the
consequence of its last command first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tbsdk import Exchange, Strategy
from tbsdk.commands import Cancel, Command, RequestBacktest, SetLeverage, Submit
from tbsdk.errors import InsufficientFunds, InvalidOrder, OrderNotFound, TbError
from tbsdk.model import (
    BacktestDone,
    CandleClosed,
    Event,
    FillEvent,
    Order,
    OrderIntent,
    OrderStatus,
    OrderUpdate,
    PositionChanged,
    RejectReason,
    StopReason,
    Tick,
    TimerFired,
)

from .context import BotContext
from .risk import RiskLimits, check_limits

if TYPE_CHECKING:
    from ..orders.journal import OrderJournal
    from ..plugins import PluginHost
    from .ranking import BacktestService

log = logging.getLogger(__name__)

MAX_CASCADE = 10_000  # events caused by one outside event; more means a strategy loops


class BotState(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    FAULTED = "faulted"
    STOPPED = "stopped"


class BotRunner:
    def __init__(
        self,
        strategy: Strategy[Any],
        ctx: BotContext,
        exchange: Exchange,
        plugins: PluginHost | None = None,
        limits: RiskLimits | None = None,
        journal: OrderJournal | None = None,
    ) -> None:
        self.strategy, self.ctx, self.exchange = strategy, ctx, exchange
        self.plugins = plugins
        self.journal = journal
        """Durable order record (paper and live): every intent is stored before it is sent,
        every answer and report after. None (backtests) records nothing."""
        self.limits = limits or RiskLimits()
        self.state = BotState.CREATED
        self.fault: str | None = None
        self.last_price: dict[str, Decimal] = {}
        self._pending: deque[Event | BacktestDone] = deque()
        self.commands_run = 0
        """Commands carried out so far: a replay checkpoints after a candle that ran any."""
        self.backtests: BacktestService | None = None
        """Runs ``ctx.request_backtest`` (:mod:`.ranking`); built at the first request."""
        self._stored: dict[str, asyncio.Future[str | None]] = {}
        """Intents stored ahead by :meth:`_store_ahead`, not yet sent: their checks, by id."""

    @property
    def active(self) -> bool:
        return self.state is BotState.RUNNING

    async def start(self, saved_state: dict[str, Any] | None = None) -> None:
        self.state = BotState.RUNNING
        if saved_state is not None and not self._call(self.strategy.load_state, saved_state):
            return
        if self._call(self.strategy.on_start, self.ctx):
            await self._settle()
        if self.plugins is not None and self.active:
            await self.plugins.bot_started(self.ctx.bot)

    async def stop(self, reason: StopReason) -> None:
        if self.state is BotState.RUNNING:
            self._call(self.strategy.on_stop, self.ctx, reason)
            await self._settle()
            self.state = BotState.STOPPED
        if self.plugins is not None:
            await self.plugins.bot_stopped(self.ctx.bot, str(reason))

    def report(self) -> dict[str, str]:
        """``Strategy.report`` once the run has ended: empty for a faulted bot, and left out
        with a warning if it raises (the run's results stand without it)."""
        if self.state is BotState.FAULTED:
            return {}
        try:
            return {str(k): str(v) for k, v in self.strategy.report().items()}
        except Exception as exc:  # noqa: BLE001 - isolation, as for the handlers
            name = type(self.strategy).__name__
            self.ctx.log.warning("%s.report raised %s: %s", name, type(exc).__name__, exc)
            return {}

    async def deliver(self, event: Event) -> None:
        """An outside event (candle, tick, timer, exchange report) for this bot."""
        if not self.active:
            return
        self._pending.append(event)
        await self._settle()

    # -- internals ---------------------------------------------------------------------------
    def _call(self, handler: Any, *args: Any) -> bool:
        try:
            handler(*args)
        except Exception as exc:  # noqa: BLE001 - isolation: a strategy bug faults its bot only
            where = f"{type(self.strategy).__name__}.{handler.__name__}"
            self._fault(f"{where} raised {type(exc).__name__}: {exc}", exc)
            return False
        return True

    def _fault(self, reason: str, exc: BaseException | None = None) -> None:
        # Resting orders (stops, take-profits) are left on the venue on purpose: a faulted bot
        # must not leave its position unprotected.
        self.state = BotState.FAULTED
        self.fault = reason
        self.ctx.log.error("bot faulted: %s", reason, exc_info=exc)
        self.ctx.commands.clear()

    async def _settle(self) -> None:
        steps, ctx = 0, self.ctx
        while self.active:
            if ctx.commands:
                commands = ctx.take_commands()
                if self.journal is not None and len(commands) > 1:
                    await self._store_ahead(commands)
                for command in commands:
                    if self.state is not BotState.RUNNING:
                        break  # a command faulted the bot: the rest of its commands must not run
                    await self._execute(command)
            if not self._pending:
                return
            steps += 1
            if steps > MAX_CASCADE:
                self._fault(f"more than {MAX_CASCADE} events from one outside event")
                return
            await self._dispatch(self._pending.popleft())

    async def _store_ahead(self, commands: list[Command]) -> None:
        """Store the intents of the batch's leading run of submits together (one commit when
        the journal groups its writes, instead of one per order), before any is sent: each is
        still stored before it is sent, and a crash between leaves intents the uninterrupted
        run would have sent all the same. The run stops at the first other command (a cancel
        that must reach the venue first, a leverage change that may fault the bot)."""
        ctx, journal = self.ctx, self.journal
        assert journal is not None
        intents: list[OrderIntent] = []
        for command in commands:
            if not isinstance(command, Submit):
                break
            cid = command.intent.client_order_id
            if cid not in ctx.orders and cid not in self._stored:
                intents.append(command.intent)
        if len(intents) < 2:
            return
        # Their checks run meanwhile: nothing they read (position, equity, last price) moves
        # before the batch's events are delivered, after its last command.
        checks = {i.client_order_id: asyncio.ensure_future(self._veto(i)) for i in intents}
        try:
            await asyncio.gather(*(journal.before_submit(intent) for intent in intents))
        except BaseException:
            for check in checks.values():
                check.cancel()
            raise
        self._stored.update(checks)

    async def _dispatch(self, event: Event | BacktestDone) -> None:
        ctx, strat = self.ctx, self.strategy
        if isinstance(event, CandleClosed):
            self.last_price[event.symbol] = event.candle.close
            self._call(strat.on_candle, ctx, event)
        elif isinstance(event, FillEvent):
            if self.journal is not None:
                await self.journal.on_fill(event.fill, event.order)
            ctx.record_order(event.order)
            self.last_price[event.fill.symbol] = event.fill.price
            if self._call(strat.on_fill, ctx, event) and self.plugins is not None:
                await self.plugins.fill(ctx.bot, event.fill, event.order)
        elif isinstance(event, OrderUpdate):
            if self.journal is not None:
                await self.journal.on_update(event.order)
            ctx.record_order(event.order)
            if self._call(strat.on_order_update, ctx, event) and self.plugins is not None:
                await self.plugins.order_updated(ctx.bot, event.order)
        elif isinstance(event, PositionChanged):
            pos = event.position
            if self.journal is not None:
                await self.journal.on_position(pos)
            ctx.positions[(pos.symbol, pos.position_side)] = pos
            if self._call(strat.on_position_changed, ctx, event) and self.plugins is not None:
                await self.plugins.position_changed(ctx.bot, pos)
        elif isinstance(event, TimerFired):
            self._call(strat.on_timer, ctx, event)
        elif isinstance(event, Tick):
            self.last_price[event.symbol] = event.price
            self._call(strat.on_tick, ctx, event)
        elif isinstance(event, BacktestDone):
            self._call(strat.on_backtest_done, ctx, event)

    async def _execute(self, command: Command) -> None:
        self.commands_run += 1
        if isinstance(command, Submit):
            await self._submit(command.intent)
        elif isinstance(command, Cancel):
            await self._cancel(command.client_order_id)
        elif isinstance(command, SetLeverage):
            await self._set_leverage(command)
        elif isinstance(command, RequestBacktest):
            # Answered by a BacktestDone: at once in a backtest, when done in paper and live.
            if self.backtests is None:
                from .ranking import BacktestService  # it runs backtests: imports this module

                self.backtests = BacktestService.for_bot(
                    self.strategy, ctx=self.ctx, exchange=self.exchange
                )
            await self.backtests.run(command, self._pending.append)
        elif command.new.type.is_trigger:
            # A protective stop is replaced place-then-cancel: never a moment without one.
            if await self._submit(command.new):
                await self._cancel(command.old_client_order_id)
        else:
            # Limits are cancel-then-place so reduce-only size never exceeds the position.
            await self._cancel(command.old_client_order_id)
            await self._submit(command.new)

    async def _set_leverage(self, command: SetLeverage) -> None:
        try:
            await self.exchange.set_leverage(command.symbol, command.leverage, command.margin_mode)
        except TbError as exc:
            # Orders sized for this leverage must not go out at another one.
            self._fault(
                f"{self.exchange.name} refused leverage {command.leverage} "
                f"({command.margin_mode}) for {command.symbol}: {exc}"
            )

    async def _submit(self, intent: OrderIntent) -> bool:
        ctx = self.ctx
        known = ctx.orders.get(intent.client_order_id)
        if known is not None:
            # The id already exists: sending it again could only double the order. A resumed
            # bot re-deciding its last candle asks again for orders the venue already has.
            ctx.log.warning("intent %s already submitted; not sent again", intent.client_order_id)
            return known.status not in (OrderStatus.REJECTED, OrderStatus.CANCELED)
        check = self._stored.pop(intent.client_order_id, None)
        if check is not None:
            veto = await check  # stored ahead, with its batch
        elif self.journal is not None:
            # Stored before anything else happens to it, a vetoed intent included; the checks
            # (which may wait for a plugin) run meanwhile: only the sending waits for both.
            stored = asyncio.ensure_future(self.journal.before_submit(intent))
            try:
                veto = await self._veto(intent)
            finally:
                await stored
        else:
            veto = await self._veto(intent)
        if veto is not None:
            self._reject(intent, veto, RejectReason.VETOED)
            return False
        try:
            order = await self.exchange.create_order(intent)
        except (InvalidOrder, InsufficientFunds) as exc:
            reason = getattr(exc, "reject_reason", None)  # normalised by the adapter, if it can
            sent = None
            if reason is RejectReason.DUPLICATE_CLIENT_ID:
                # Sent before a restart: the venue's order is this intent's order.
                sent = await self._lookup(intent.symbol, intent.client_order_id)
            if sent is None:
                self._reject(
                    intent,
                    exc.message,
                    reason
                    if isinstance(reason, RejectReason)
                    else (
                        RejectReason.INSUFFICIENT_MARGIN
                        if isinstance(exc, InsufficientFunds)
                        else RejectReason.OTHER
                    ),
                )
                return False
            order = sent
        if self.journal is not None:
            await self.journal.after_submit(order)
        ctx.record_order(order)
        if self.plugins is not None:
            await self.plugins.order_updated(ctx.bot, order)
        return True

    async def _veto(self, intent: OrderIntent) -> str | None:
        ctx = self.ctx
        inst = ctx.instrument(intent.symbol)
        ref = intent.price or intent.trigger_price or self.last_price.get(intent.symbol)
        if ref is None:
            return f"no price known for {intent.symbol} yet; wait for the first candle"
        problem = None
        if self.limits.has_limits:
            position = ctx.position(intent.symbol, intent.position_side)
            problem = check_limits(self.limits, intent, inst, position, ref, ctx.equity())
        if problem is None and self.plugins is not None:
            problem = await self.plugins.check_order(ctx.bot, intent, inst)
        return problem

    def _reject(self, intent: OrderIntent, message: str, reason: RejectReason) -> None:
        now = self.ctx.now()
        order = Order(intent=intent, created_at=now, updated_at=now).transition(
            OrderStatus.REJECTED, at=now, reason=message
        )
        self.ctx.record_order(order)
        self.ctx.log.warning("order %s rejected: %s", intent.client_order_id, message)
        self._pending.append(OrderUpdate(order=order, reject_reason=reason))

    async def _lookup(self, symbol: str, client_order_id: str) -> Order | None:
        try:
            return await self.exchange.fetch_order(symbol, client_order_id)
        except TbError:
            return None

    async def _from_before(self, client_order_id: str) -> Order | None:
        """An order this bot placed before a restart and that has finished since, as the venue
        knows it; a cancel it had asked for is confirmed to the strategy again."""
        for symbol in self.ctx.bot.symbols:
            order = await self._lookup(symbol, client_order_id)
            if order is not None:
                self.ctx.record_order(order)
                if order.status is OrderStatus.CANCELED:
                    self._pending.append(OrderUpdate(order=order, by_strategy=True))
                return order
        return None

    async def _cancel(self, client_order_id: str) -> None:
        known = self.ctx.orders.get(client_order_id) or await self._from_before(client_order_id)
        if known is None or known.status.is_terminal:
            return
        try:
            order = await self.exchange.cancel_order(known.intent.symbol, client_order_id)
        except OrderNotFound:
            order = await self.exchange.fetch_order(known.intent.symbol, client_order_id)
        except TbError as exc:
            self.ctx.log.error("cancel of %s failed: %s", client_order_id, exc)
            return
        if self.journal is not None:
            await self.journal.on_update(order)
        self.ctx.record_order(order)
        if order.status is OrderStatus.CANCELED:
            self._pending.append(OrderUpdate(order=order, by_strategy=True))
