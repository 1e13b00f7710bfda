"""The ``Subscription`` type (graphql-transport-ws): order updates, fills, position changes,
bot state changes, notifications and backtest progress.

Each subscription polls the database every ``api_subscription_poll_s`` for rows with a higher
id than the last one it delivered, so events arrive in the order they were stored, also when
the trading host is another process. ``after`` resumes from a cursor (an id delivered before;
``"0"`` replays from the start); without it, a subscription starts with what comes next.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from tbsdk.model import Position as SdkPosition

from ..services import Action, Actor, Item, authorize
from ..storage.models import NotificationRow, OrderEventRow
from ..storage.repos import orders as order_repo
from ._fields import subscription
from .args import after_id
from .context import ApiContext, actor_of, services_of
from .errors import ApiError, Code
from .events import BacktestJob, BotStateChange, Notification, OrderUpdate
from .scalars import JSON, Long
from .state import ApiServices
from .tail import latest_id, new_notifications, new_order_events
from .types import Fill, Order, Position

__all__ = ["Subscription"]

Ctx = Info[ApiContext, None]
_BATCH = 200
_BOT_ACTIONS = ("bot.create", "bot.delete")


async def _bot_id(services: ApiServices, actor: Actor, ref: str | None) -> str | None:
    return None if ref is None else (await services.bots.get(actor, ref)).id


def _poll(services: ApiServices) -> float:
    return services.settings.api_subscription_poll_s


@strawberry.type
class Subscription:
    @subscription(description="Every status transition of orders, in stored order.")
    async def order_updates(
        self,
        info: Ctx,
        bot: str | None = None,
        symbol: str | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[OrderUpdate, None]:
        actor, services = actor_of(info), services_of(info)
        db = services.db
        bot_id = await _bot_id(services, actor, bot)
        last = after_id(after)
        if last is None:
            last = await latest_id(db, actor, OrderEventRow)
        while True:
            rows = await new_order_events(
                db, actor, after_id=last, bot_id=bot_id, symbol=symbol, limit=_BATCH
            )
            for event, row in rows:
                last = event.id
                item = Item(row.id, row.bot_id, row.account_id, order_repo.to_order(row))
                yield OrderUpdate(
                    event_id=Long(event.id),
                    seq=event.seq,
                    from_status=event.from_status,
                    to_status=event.to_status,
                    filled_qty=event.filled_qty,
                    reason=event.reason,
                    at=Long(event.at),
                    order=Order.of(item),
                )
            if len(rows) < _BATCH:
                await asyncio.sleep(_poll(services))

    @subscription(description="Fills as they are stored.")
    async def fills(
        self,
        info: Ctx,
        bot: str | None = None,
        symbol: str | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[Fill, None]:
        actor, services = actor_of(info), services_of(info)
        queries = services.queries
        last = after_id(after)
        if last is None:
            newest = await queries.fills(actor, bot_id=bot, limit=1, newest_first=True)
            last = newest.items[0].id if newest.items else 0
        while True:
            page = await queries.fills(
                actor, bot_id=bot, symbol=symbol, after_id=last, limit=_BATCH
            )
            for item in page.items:
                last = item.id
                yield Fill.of(item)
            if page.next_after is None:
                await asyncio.sleep(_poll(services))

    @subscription(
        description="Positions whose stored state changed (a closed one arrives with size 0)."
    )
    async def position_changes(
        self, info: Ctx, bot: str | None = None, symbol: str | None = None
    ) -> AsyncGenerator[Position, None]:
        actor, services = actor_of(info), services_of(info)
        queries = services.queries

        def wanted(item: Item[SdkPosition]) -> bool:
            return symbol is None or item.value.symbol == symbol

        start = await queries.positions(actor, bot_id=bot, open_only=False)
        seen: dict[int, SdkPosition] = {p.id: p.value for p in start if wanted(p)}
        while True:
            await asyncio.sleep(_poll(services))
            current = await queries.positions(actor, bot_id=bot, open_only=False)
            changed = [p for p in current if wanted(p) and seen.get(p.id) != p.value]
            for item in sorted(changed, key=lambda p: (p.value.updated_at, p.id)):
                seen[item.id] = item.value
                yield Position.of(item)

    @subscription(description="Bot state changes from the audit log, in order.")
    async def bot_state_changes(
        self, info: Ctx, bot: str | None = None, after: str | None = None
    ) -> AsyncGenerator[BotStateChange, None]:
        actor, services = actor_of(info), services_of(info)
        audit = services.audit
        bot_id = await _bot_id(services, actor, bot)
        last = after_id(after)
        if last is None:
            newest = await audit.list(actor, target_type="bot", limit=1, newest_first=True)
            last = newest.items[0].id if newest.items else 0
        while True:
            page = await audit.list(
                actor,
                target_type="bot",
                target_id=bot_id,
                after_id=last,
                limit=_BATCH,
                newest_first=False,
            )
            for entry in page.items:
                last = entry.id
                d = entry.details
                if "to" not in d and entry.action not in _BOT_ACTIONS:
                    continue  # a settings change or a close request: no state change
                yield BotStateChange(
                    audit_id=Long(entry.id),
                    bot_id=entry.target_id or "",
                    name=_text(d.get("name")),
                    action=entry.action,
                    from_state=_text(d.get("from")),
                    to_state=_text(d.get("to"))
                    or ("created" if entry.action == "bot.create" else None),
                    reason=_text(d.get("reason")),
                    actor=entry.actor,
                    at=Long(entry.at),
                )
            if page.next_after is None:
                await asyncio.sleep(_poll(services))

    @subscription(description="Notifications for operators, as they are stored.")
    async def notifications(
        self,
        info: Ctx,
        bot: str | None = None,
        kind: str | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[Notification, None]:
        actor, services = actor_of(info), services_of(info)
        db = services.db
        bot_id = await _bot_id(services, actor, bot)
        last = after_id(after)
        if last is None:
            last = await latest_id(db, actor, NotificationRow)
        while True:
            rows = await new_notifications(
                db, actor, after_id=last, bot_id=bot_id, kind=kind, limit=_BATCH
            )
            for row in rows:
                last = row.id
                yield Notification(
                    id=Long(row.id),
                    bot_id=row.bot_id,
                    kind=row.kind,
                    message=row.message,
                    data=JSON(row.data),
                    created_at=Long(row.created_at),
                )
            if len(rows) < _BATCH:
                await asyncio.sleep(_poll(services))

    @subscription(
        description="A backtest job on every change of its progress, until it has finished."
    )
    async def backtest_progress(self, info: Ctx, job_id: str) -> AsyncGenerator[BacktestJob, None]:
        actor, services = actor_of(info), services_of(info)
        authorize(actor, Action.TRADING_READ)
        version = -1
        while True:
            job = services.jobs.get(job_id)
            if job is None:
                raise ApiError(Code.NOT_FOUND, f"jobId: no backtest job {job_id!r}")
            if job.version != version:
                version = job.version
                yield BacktestJob.of(job)
            if job.status.finished:
                return
            await asyncio.sleep(min(0.1, _poll(services)))


def _text(value: object) -> str | None:
    return None if value is None else str(value)
