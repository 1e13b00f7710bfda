"""The ``Query`` type: every read goes through the service layer, as the caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from tbsdk.model import OrderStatus

from ..services import Action, authorize
from ..storage.models import BotStatus
from . import catalog
from ._fields import field
from .args import after_id, page_size, time_range
from .context import ApiContext, actor_of, services_of
from .errors import ApiError, Code
from .events import BacktestJob
from .scalars import Long
from .types import (
    Account,
    AuditEntry,
    Bot,
    EquityPoint,
    Fill,
    Me,
    Order,
    Page,
    Plugin,
    Pnl,
    Position,
    Strategy,
    Token,
    Trade,
    User,
    cursor,
)

T = TypeVar("T")

__all__ = ["Query"]

Ctx = Info[ApiContext, None]


@strawberry.type
class Query:
    """Root fields. ``bots`` and ``positions`` read through the request's
    :class:`~.reads.SnapshotReads`: asked for together, they cost one read transaction."""

    @field(description="The caller: who the token belongs to, and their role.")
    def me(self, info: Ctx) -> Me:
        actor = actor_of(info)
        return Me(id=actor.user_id, username=actor.username, role=actor.role)

    @field(description="Every installed plugin, with its status and the reason.")
    def plugins(self, info: Ctx) -> list[Plugin]:
        authorize(actor_of(info), Action.BOT_READ)
        return catalog.plugins(services_of(info).plugins)

    @field(description="Installed strategies with their config schema.")
    def strategies(self, info: Ctx) -> list[Strategy]:
        authorize(actor_of(info), Action.BOT_READ)
        return catalog.strategies(services_of(info).plugins)

    @field(description="Exchange accounts (never their credentials).")
    async def accounts(self, info: Ctx) -> list[Account]:
        found = await services_of(info).accounts.list(actor_of(info))
        return [Account.of(a) for a in found]

    @field()
    async def account(self, info: Ctx, id: str) -> Account:
        return Account.of(await services_of(info).accounts.get(actor_of(info), id))

    @field(description="Live bots by name, narrowed by every filter given.")
    async def bots(
        self,
        info: Ctx,
        state: BotStatus | None = None,
        strategy: str | None = None,
        symbol: str | None = None,
        account_id: str | None = None,
    ) -> list[Bot]:
        actor = actor_of(info)
        found = await info.context.reads.read(
            lambda snapshot: snapshot.bots(
                actor, account_id=account_id, state=state, strategy=strategy, symbol=symbol
            )
        )
        return [Bot.of(b) for b in found]

    @field(description="A bot by id or name (deleted bots are not found).")
    async def bot(self, info: Ctx, ref: str) -> Bot:
        return Bot.of(await services_of(info).bots.get(actor_of(info), ref))

    @field(description="Orders, oldest first unless newestFirst; `bot` is id or name.")
    async def orders(
        self,
        info: Ctx,
        bot: str | None = None,
        account_id: str | None = None,
        symbol: str | None = None,
        status: list[OrderStatus] | None = None,
        since: Long | None = None,
        until: Long | None = None,
        after: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Page[Order]:
        listing = services_of(info).queries.orders
        filters = {"bot_id": bot, "account_id": account_id, "symbol": symbol, "statuses": status}
        window = Window(since, until, after, limit, newest_first)
        return await _page(info, listing, Order.of, window, **filters)

    @field(description="Fills (executions), oldest first unless newestFirst.")
    async def fills(
        self,
        info: Ctx,
        bot: str | None = None,
        account_id: str | None = None,
        symbol: str | None = None,
        since: Long | None = None,
        until: Long | None = None,
        after: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Page[Fill]:
        listing = services_of(info).queries.fills
        filters = {"bot_id": bot, "account_id": account_id, "symbol": symbol}
        window = Window(since, until, after, limit, newest_first)
        return await _page(info, listing, Fill.of, window, **filters)

    @field(description="The latest position per bot, symbol and book.")
    async def positions(
        self,
        info: Ctx,
        bot: str | None = None,
        account_id: str | None = None,
        symbol: str | None = None,
        open_only: bool = True,
    ) -> list[Position]:
        actor = actor_of(info)
        found = await info.context.reads.read(
            lambda snapshot: snapshot.positions(
                actor, bot_id=bot, account_id=account_id, open_only=open_only
            )
        )
        return [Position.of(p) for p in found if symbol is None or p.value.symbol == symbol]

    @field(description="Closed round trips, by close time.")
    async def trades(
        self,
        info: Ctx,
        bot: str | None = None,
        account_id: str | None = None,
        symbol: str | None = None,
        since: Long | None = None,
        until: Long | None = None,
        after: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Page[Trade]:
        listing = services_of(info).queries.trades
        filters = {"bot_id": bot, "account_id": account_id, "symbol": symbol}
        window = Window(since, until, after, limit, newest_first)
        return await _page(info, listing, Trade.of, window, **filters)

    @field(description="Realised PnL per bot, from trades closed in [since, until).")
    async def pnl(
        self,
        info: Ctx,
        bot: str | None = None,
        account_id: str | None = None,
        since: Long | None = None,
        until: Long | None = None,
    ) -> list[Pnl]:
        time_range(since, until)
        found = await services_of(info).queries.pnl(
            actor_of(info), bot_id=bot, account_id=account_id, since=since, until=until
        )
        return [Pnl.of(p) for p in found]

    @field(
        description="Cumulative realised PnL over time: one point per trade closed in "
        "[since, until), oldest first (at most `limit` points)."
    )
    async def equity(
        self,
        info: Ctx,
        bot: str | None = None,
        account_id: str | None = None,
        since: Long | None = None,
        until: Long | None = None,
        limit: int = 500,
    ) -> list[EquityPoint]:
        time_range(since, until)
        page = await services_of(info).queries.trades(
            actor_of(info),
            bot_id=bot,
            account_id=account_id,
            since=since,
            until=until,
            limit=page_size(limit),
        )
        total = Decimal(0)
        points: list[EquityPoint] = []
        for item in sorted(page.items, key=lambda i: (i.value.closed_at, i.id)):
            total += item.value.pnl
            points.append(
                EquityPoint(
                    at=Long(item.value.closed_at),
                    trade_id=Long(item.id),
                    pnl=item.value.pnl,
                    cumulative_pnl=total,
                )
            )
        return points

    @field(description="The audit log, newest first unless newestFirst is false.")
    async def audit_log(
        self,
        info: Ctx,
        actor_id: str | None = None,
        action: str | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        since: Long | None = None,
        until: Long | None = None,
        after: str | None = None,
        limit: int = 100,
        newest_first: bool = True,
    ) -> Page[AuditEntry]:
        time_range(since, until)
        page = await services_of(info).audit.list(
            actor_of(info),
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            since=since,
            until=until,
            after_id=after_id(after),
            limit=page_size(limit),
            newest_first=newest_first,
        )
        return Page(
            items=[AuditEntry.of(e) for e in page.items], next_cursor=cursor(page.next_after)
        )

    @field(description="Users (admins only).")
    async def users(self, info: Ctx) -> list[User]:
        return [User.of(u) for u in await services_of(info).users.list(actor_of(info))]

    @field(description="A user's API tokens, never their secrets (admins only).")
    async def tokens(self, info: Ctx, user_id: str) -> list[Token]:
        found = await services_of(info).users.list_tokens(actor_of(info), user_id)
        return [Token.of(t) for t in found]

    @field(description="A backtest job and, once finished, its result.")
    def backtest_job(self, info: Ctx, id: str) -> BacktestJob:
        authorize(actor_of(info), Action.TRADING_READ)
        job = services_of(info).jobs.get(id)
        if job is None:
            raise ApiError(Code.NOT_FOUND, f"id: no backtest job {id!r} (jobs live in memory)")
        return BacktestJob.of(job)

    @field(description="Backtest jobs of this API process, newest first.")
    def backtest_jobs(self, info: Ctx) -> list[BacktestJob]:
        authorize(actor_of(info), Action.TRADING_READ)
        return [BacktestJob.of(j) for j in services_of(info).jobs.list()]


@dataclass(frozen=True)
class Window:
    """The paging and time arguments every listing takes."""

    since: int | None
    until: int | None
    after: str | None
    limit: int
    newest_first: bool


async def _page(
    info: Ctx,
    listing: Callable[..., Awaitable[Any]],
    convert: Callable[[Any], T],
    window: Window,
    **filters: Any,
) -> Page[T]:
    """One page of a service listing, its items converted to API types."""
    time_range(window.since, window.until)
    page = await listing(
        actor_of(info),
        since=window.since,
        until=window.until,
        after_id=after_id(window.after),
        limit=page_size(window.limit),
        newest_first=window.newest_first,
        **filters,
    )
    return Page(items=[convert(i) for i in page.items], next_cursor=cursor(page.next_after))
