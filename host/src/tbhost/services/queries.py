"""``QueryService``: orders, fills, positions, trades and PnL, read as any role may."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Sequence
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from tbsdk.model import Fill, Order, OrderStatus, Position, Trade

from ..storage import Database
from ..storage.models import BotRow, BotStatus, PositionRow, TradeRow
from ..storage.repos import orders, portfolio, states
from ..storage.repos._common import MAX_LIMIT
from ._common import require_bot
from .access import Action, Actor, authorize
from .errors import NotFound
from .views import Bot, Item, Page, PnlSummary, StrategySnapshot

__all__ = ["QueryService", "ReadSnapshot", "SyncReads"]

T = TypeVar("T")


class _Row(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=_Row)


class _ListedRow(_Row, Protocol):
    @property
    def bot_id(self) -> str | None: ...

    @property
    def account_id(self) -> str: ...


def _page(rows: Sequence[R], items: list[T], limit: int) -> Page[T]:
    # A full page may have a next one; a short page is the last.
    return Page(items, rows[-1].id if rows and len(rows) == limit else None)


async def _bot_id(session: AsyncSession, bot: str | None) -> str | None:
    if bot is None:
        return None
    return (await require_bot(session, bot, include_deleted=True)).id


# The snapshot's reads select Core rows, not ORM objects: a row has the same attributes and
# typed values as the mapped object, without the identity map's per-object bookkeeping (most
# of the cost of a short list).
_BOTS = BotRow.__table__
_POSITIONS = PositionRow.__table__


class SyncReads(Protocol):
    """Runs a function of a (sync) session in one read transaction, whole: on SQLite one
    step instead of one hop to aiosqlite's thread per cursor call (see
    ``tbhost.api.sqlite_reads``). The function only reads and may be run more than once."""

    async def run(self, fn: Callable[[Session], T]) -> T: ...


class ReadSnapshot:
    """Several reads in one read transaction, so they see one moment of the database and
    cost one transaction: a dashboard asks for bots and positions together, every few
    seconds. Plain (sync) code on a session :meth:`QueryService.snapshot` opens. Each read
    takes the actor first and checks its role as the service method of the same name does
    (:meth:`BotService.list`, :meth:`QueryService.positions`); a refused or failed read
    raises and leaves the snapshot usable for the next."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def bots(
        self,
        actor: Actor,
        *,
        account_id: str | None = None,
        state: BotStatus | str | None = None,
        strategy: str | None = None,
        symbol: str | None = None,
    ) -> list[Bot]:
        """Live bots by name, narrowed by every filter given (as :meth:`BotService.list`)."""
        authorize(actor, Action.BOT_READ)
        stmt = select(_BOTS).where(_BOTS.c.deleted_at.is_(None)).order_by(_BOTS.c.name)
        if account_id is not None:
            stmt = stmt.where(_BOTS.c.account_id == account_id)
        if state is not None:
            stmt = stmt.where(_BOTS.c.state == BotStatus(state))
        rows = self._session.execute(stmt).all()
        return [
            Bot.of(r)
            for r in rows
            if (strategy is None or r.strategy == strategy)
            and (symbol is None or symbol in r.symbols)
        ]

    def positions(
        self,
        actor: Actor,
        *,
        bot_id: str | None = None,
        account_id: str | None = None,
        open_only: bool = True,
    ) -> list[Item[Position]]:
        """The latest position per bot, symbol and book (open ones only, by default); ``bot_id``
        may be an id or a name, of a deleted bot too."""
        authorize(actor, Action.TRADING_READ)
        stmt = select(_POSITIONS).order_by(_POSITIONS.c.id)
        if bot_id is not None:
            stmt = stmt.where(_POSITIONS.c.bot_id == self._bot_id(bot_id))
        if account_id is not None:
            stmt = stmt.where(_POSITIONS.c.account_id == account_id)
        rows = self._session.execute(stmt).all()
        # Sizes are text on SQLite, so "not flat" is decided here rather than in SQL.
        return [
            Item(r.id, r.bot_id, r.account_id, portfolio.to_position(r))
            for r in rows
            if not open_only or r.size != 0
        ]

    def _bot_id(self, ref: str) -> str:
        """As ``require_bot(..., include_deleted=True)``: by id, else by name."""
        row = self._session.get(BotRow, ref)
        if row is None:
            row = self._session.scalar(select(BotRow).where(BotRow.name == ref))
        if row is None:
            raise NotFound(f"no bot {ref!r}")
        return row.id


class QueryService:
    """Reads for every surface. Lists page by row id: pass a page's ``next_after`` as
    ``after_id`` (the storage repositories' keyset cursor, passed through)."""

    def __init__(self, db: Database, sync_reads: SyncReads | None = None) -> None:
        self._db = db
        self._sync_reads = sync_reads

    async def _listed(
        self,
        actor: Actor,
        lister: Callable[..., Awaitable[Sequence[_ListedRow]]],
        convert: Callable[[Any], T],
        bot: str | None,
        limit: int,
        **filters: Any,
    ) -> Page[Item[T]]:
        """One page of a storage listing, as ``Item``s, for a caller allowed to read trading
        data; ``bot`` may be an id or a name."""
        authorize(actor, Action.TRADING_READ)
        async with self._db.read() as s:
            rows = await lister(s, bot_id=await _bot_id(s, bot), limit=limit, **filters)
        items = [Item(r.id, r.bot_id, r.account_id, convert(r)) for r in rows]
        return _page(rows, items, limit)

    async def orders(
        self,
        actor: Actor,
        *,
        bot_id: str | None = None,
        account_id: str | None = None,
        symbol: str | None = None,
        statuses: Collection[OrderStatus] | None = None,
        since: int | None = None,
        until: int | None = None,
        after_id: int | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Page[Item[Order]]:
        return await self._listed(
            actor,
            orders.list_orders,
            orders.to_order,
            bot_id,
            limit,
            account_id=account_id,
            symbol=symbol,
            statuses=statuses,
            since=since,
            until=until,
            after_id=after_id,
            newest_first=newest_first,
        )

    async def fills(
        self,
        actor: Actor,
        *,
        bot_id: str | None = None,
        account_id: str | None = None,
        symbol: str | None = None,
        since: int | None = None,
        until: int | None = None,
        after_id: int | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Page[Item[Fill]]:
        return await self._listed(
            actor,
            orders.list_fills,
            orders.to_fill,
            bot_id,
            limit,
            account_id=account_id,
            symbol=symbol,
            since=since,
            until=until,
            after_id=after_id,
            newest_first=newest_first,
        )

    async def positions(
        self,
        actor: Actor,
        *,
        bot_id: str | None = None,
        account_id: str | None = None,
        open_only: bool = True,
    ) -> list[Item[Position]]:
        """The latest position per bot, symbol and book (open ones only, by default)."""
        return await self.snapshot(
            lambda s: s.positions(actor, bot_id=bot_id, account_id=account_id, open_only=open_only)
        )

    async def snapshot(self, reads: Callable[[ReadSnapshot], T]) -> T:
        """``reads`` run on a :class:`ReadSnapshot`: one read transaction for all the reads it
        makes (each checks the role of the actor it is given). ``reads`` is plain code: it
        may run in a worker thread, so it must only read through the snapshot."""
        if self._sync_reads is not None:
            return await self._sync_reads.run(lambda session: reads(ReadSnapshot(session)))
        async with self._db.read() as s:
            return await s.run_sync(lambda session: reads(ReadSnapshot(session)))

    async def trades(
        self,
        actor: Actor,
        *,
        bot_id: str | None = None,
        account_id: str | None = None,
        symbol: str | None = None,
        since: int | None = None,
        until: int | None = None,
        after_id: int | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Page[Item[Trade]]:
        return await self._listed(
            actor,
            portfolio.list_trades,
            portfolio.to_trade,
            bot_id,
            limit,
            account_id=account_id,
            symbol=symbol,
            since=since,
            until=until,
            after_id=after_id,
            newest_first=newest_first,
        )

    async def pnl(
        self,
        actor: Actor,
        *,
        bot_id: str | None = None,
        account_id: str | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[PnlSummary]:
        """Realised PnL per bot from its stored trades (closed in ``[since, until)``), summed
        exactly in Python: amounts are text on SQLite, so SQL's SUM would be wrong there."""
        authorize(actor, Action.TRADING_READ)
        by_bot: defaultdict[str, list[TradeRow]] = defaultdict(list)
        async with self._db.read() as s:
            wanted = await _bot_id(s, bot_id)
            after: int | None = None
            while True:
                page = await portfolio.list_trades(
                    s,
                    bot_id=wanted,
                    account_id=account_id,
                    since=since,
                    until=until,
                    after_id=after,
                    limit=MAX_LIMIT,
                )
                for row in page:
                    by_bot[row.bot_id].append(row)
                if len(page) < MAX_LIMIT:
                    break
                after = page[-1].id
        if wanted is not None and wanted not in by_bot:
            by_bot[wanted] = []
        return [_summary(bot, rows) for bot, rows in sorted(by_bot.items())]

    async def strategy_state(self, actor: Actor, bot: str) -> StrategySnapshot | None:
        """The bot's latest saved strategy state (``bot``: id or name, deleted bots too);
        ``None`` when it never saved one (it has not run yet)."""
        authorize(actor, Action.TRADING_READ)
        async with self._db.read() as s:
            row = await require_bot(s, bot, include_deleted=True)
            saved = await states.latest_state(s, row.id)
        if saved is None:
            return None
        return StrategySnapshot(row.id, saved.seq, saved.created_at, saved.feed_ts, saved.state)


def _summary(bot_id: str, rows: list[TradeRow]) -> PnlSummary:
    return PnlSummary(
        bot_id=bot_id,
        trades=len(rows),
        wins=sum(1 for r in rows if r.pnl > 0),
        losses=sum(1 for r in rows if r.pnl < 0),
        net_pnl=sum((r.pnl for r in rows), Decimal(0)),
        fees=sum((r.fees for r in rows), Decimal(0)),
    )
