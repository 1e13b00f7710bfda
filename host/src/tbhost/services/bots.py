"""``BotService``: create, configure, run and delete bots, as an actor, with an audit entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tbsdk import Strategy
from tbsdk.errors import ConfigError
from tbsdk.info import RunMode
from tbsdk.timeframes import TIMEFRAMES

from ..storage import Database
from ..storage.models import AccountRow, BotStatus
from ..storage.repos import bots
from ._common import record, require_bot, translated
from .access import Action, Actor, authorize
from .commands import pending_close_requests
from .errors import Conflict, InvalidConfig, NotFound
from .lifecycle import check_move
from .views import Bot, CloseRequest

__all__ = ["BotService", "StrategyLookup", "validate_settings"]

StrategyLookup = Callable[[str], type[Strategy[Any]]]
"""Finds a strategy class by entry-point name (``PluginHost.strategy_class``); raises
``ConfigError`` for an unknown name."""


def validate_settings(
    lookup: StrategyLookup,
    strategy: str,
    settings: Mapping[str, Any],
    *,
    symbols: Sequence[str] = (),
    timeframe: str | None = None,
) -> dict[str, Any]:
    """The strategy's config validated from ``settings``, as the JSON snapshot to store
    (defaults filled in, so every later decision uses exactly what was validated).

    A one-symbol bot's ``symbols`` and ``timeframe`` fill the config's ``symbol`` and
    ``timeframe`` fields where it has them, as the host does when it runs the bot: the bot's
    own values win over the settings'."""
    try:
        cls = lookup(strategy)
    except ConfigError as exc:
        raise InvalidConfig(exc.message, ("strategy",)) from exc
    values = dict(settings)
    declared = cls.config_class.model_fields
    if len(symbols) == 1 and "symbol" in declared:
        values["symbol"] = symbols[0]
    if timeframe is not None and "timeframe" in declared:
        values["timeframe"] = timeframe
    try:
        config = cls.config_class.model_validate(values)
    except ValidationError as exc:
        fields: list[str] = []
        problems: list[str] = []
        for err in exc.errors():
            # A model-level rule has no location; its message names the fields it compares.
            where = ".".join(str(part) for part in err["loc"]) or "settings"
            fields.append(where)
            # err["msg"] only: the input is not repeated, in case it was a mistyped secret.
            problems.append(f"{where}: {err['msg']}")
        raise InvalidConfig(
            f"invalid settings for strategy {strategy!r}: {'; '.join(problems)}", fields
        ) from None
    return config.model_dump(mode="json")


def _check_shape(symbols: Sequence[str], timeframe: str) -> list[str]:
    if isinstance(symbols, str):
        symbols = [symbols]  # one symbol passed bare, not its characters
    wanted = list(dict.fromkeys(s.strip() for s in symbols))
    if not wanted or any(not s for s in wanted):
        raise InvalidConfig("a bot needs at least one symbol, none of them empty", ("symbols",))
    if timeframe not in TIMEFRAMES:
        raise InvalidConfig(
            f"unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}",
            ("timeframe",),
        )
    return wanted


async def _claim_symbols(
    session: AsyncSession, account_id: str, symbols: Sequence[str], *, bot_id: str | None
) -> None:
    """Refuse a second bot on the same (account, symbol), whatever its strategy or state."""
    # Lock the account row (PostgreSQL; SQLite serialises writers anyway), so two concurrent
    # creates on one account take turns and the second sees the first's claim.
    account = await session.scalar(
        select(AccountRow).where(AccountRow.id == account_id).with_for_update()
    )
    if account is None:
        raise NotFound(f"no exchange account with id {account_id}")
    for other in await bots.list_bots(session, account_id=account_id):
        taken = sorted(set(other.symbols) & set(symbols))
        if other.id != bot_id and taken:
            raise Conflict(
                f"bot {other.name!r} already trades {', '.join(taken)} on account "
                f"{account.label!r}: one bot per (account, symbol); stop and delete it first"
            )


class BotService:
    """Bots as commands: each method takes the :class:`Actor` first, checks the role, and
    writes the change and its audit entry in one transaction."""

    def __init__(self, db: Database, strategy_lookup: StrategyLookup) -> None:
        self._db = db
        self._lookup = strategy_lookup

    async def create(
        self,
        actor: Actor,
        name: str,
        strategy: str,
        account_id: str,
        symbols: Sequence[str],
        timeframe: str,
        settings: Mapping[str, Any],
        *,
        mode: RunMode | str = RunMode.PAPER,
    ) -> Bot:
        authorize(actor, Action.BOT_CREATE)
        wanted = _check_shape(symbols, timeframe)
        if not name.strip():
            raise InvalidConfig("a bot needs a name", ("name",))
        config = validate_settings(
            self._lookup, strategy, settings, symbols=wanted, timeframe=timeframe
        )
        async with self._db.transaction() as s:
            await _claim_symbols(s, account_id, wanted, bot_id=None)
            with translated():
                row = await bots.create_bot(
                    s,
                    name=name.strip(),
                    strategy=strategy,
                    account_id=account_id,
                    symbols=wanted,
                    timeframe=timeframe,
                    config=config,
                    mode=mode,
                    created_by=actor.user_ref,
                )
            await record(
                s,
                actor,
                Action.BOT_CREATE,
                "bot",
                row.id,
                {
                    "name": row.name,
                    "strategy": strategy,
                    "account_id": account_id,
                    "symbols": wanted,
                    "timeframe": timeframe,
                    "mode": row.mode.value,
                    "config_hash": row.config_hash,
                },
            )
            return Bot.of(row)

    async def configure(
        self,
        actor: Actor,
        bot: str,
        *,
        settings: Mapping[str, Any] | None = None,
        symbols: Sequence[str] | None = None,
        timeframe: str | None = None,
        replace: bool = False,
    ) -> Bot:
        """Change settings (merged over the stored ones unless ``replace``), symbols or
        timeframe, in any state: a running bot takes them at its next evaluation."""
        authorize(actor, Action.BOT_CONFIGURE)
        async with self._db.transaction() as s:
            row = await require_bot(s, bot)
            wanted = _check_shape(
                symbols if symbols is not None else row.symbols, timeframe or row.timeframe
            )
            base: dict[str, Any] = {} if replace else dict(row.config)
            config = validate_settings(
                self._lookup,
                row.strategy,
                {**base, **(settings or {})},
                symbols=wanted,
                timeframe=timeframe or row.timeframe,
            )
            if symbols is not None:
                await _claim_symbols(s, row.account_id, wanted, bot_id=row.id)
            before = row.config_hash
            with translated():
                row = await bots.update_config(
                    s,
                    row.id,
                    config,
                    symbols=wanted if symbols is not None else None,
                    timeframe=timeframe,
                )
            changed = config if replace else {k: v for k, v in config.items() if base.get(k) != v}
            await record(
                s,
                actor,
                Action.BOT_CONFIGURE,
                "bot",
                row.id,
                {
                    "name": row.name,
                    "settings": changed,
                    "symbols": list(row.symbols),
                    "timeframe": row.timeframe,
                    "config_hash": {"from": before, "to": row.config_hash},
                },
            )
            return Bot.of(row)

    async def _move(self, actor: Actor, bot: str, action: Action) -> Bot:
        authorize(actor, action)
        async with self._db.transaction() as s:
            row = await require_bot(s, bot)
            before = row.state
            target = check_move(action, row.name, before)
            with translated():
                row = await bots.set_state(s, row.id, target)
            await record(
                s,
                actor,
                action,
                "bot",
                row.id,
                {"name": row.name, "from": before.value, "to": target.value},
            )
            return Bot.of(row)

    async def start(self, actor: Actor, bot: str) -> Bot:
        return await self._move(actor, bot, Action.BOT_START)

    async def pause(self, actor: Actor, bot: str) -> Bot:
        return await self._move(actor, bot, Action.BOT_PAUSE)

    async def resume(self, actor: Actor, bot: str) -> Bot:
        return await self._move(actor, bot, Action.BOT_RESUME)

    async def stop(self, actor: Actor, bot: str) -> Bot:
        return await self._move(actor, bot, Action.BOT_STOP)

    async def delete(self, actor: Actor, bot: str) -> None:
        """Soft delete: the bot leaves every list, its orders and trades stay referenced."""
        authorize(actor, Action.BOT_DELETE)
        async with self._db.transaction() as s:
            row = await require_bot(s, bot)
            check_move(Action.BOT_DELETE, row.name, row.state)
            with translated():
                await bots.mark_deleted(s, row.id)
            await record(
                s,
                actor,
                Action.BOT_DELETE,
                "bot",
                row.id,
                {"name": row.name, "state": row.state.value},
            )

    async def close_positions(self, actor: Actor, bot: str) -> CloseRequest:
        """Ask the host to close every position of the bot (see :mod:`.commands`). Asking
        again while a request is pending returns that request and writes nothing."""
        authorize(actor, Action.BOT_CLOSE_POSITIONS)
        async with self._db.transaction() as s:
            row = await require_bot(s, bot)
            if row.state is BotStatus.CREATED:
                raise Conflict(f"bot {row.name!r} has never run: it holds no positions to close")
            pending = await pending_close_requests(s, row.id)
            if pending:
                return pending[0]
            entry = await record(
                s,
                actor,
                Action.BOT_CLOSE_POSITIONS,
                "bot",
                row.id,
                {"name": row.name, "state": row.state.value, "symbols": list(row.symbols)},
            )
            return CloseRequest(entry.id, row.id, entry.actor, entry.at)

    async def get(self, actor: Actor, bot: str) -> Bot:
        authorize(actor, Action.BOT_READ)
        async with self._db.read() as s:
            return Bot.of(await require_bot(s, bot))

    async def list(
        self,
        actor: Actor,
        *,
        account_id: str | None = None,
        state: BotStatus | str | None = None,
        strategy: str | None = None,
        symbol: str | None = None,
    ) -> list[Bot]:
        """Live bots by name, narrowed by every filter given."""
        authorize(actor, Action.BOT_READ)
        async with self._db.read() as s:
            rows = await bots.list_bots(s, account_id=account_id, state=state)
        return [
            Bot.of(r)
            for r in rows
            if (strategy is None or r.strategy == strategy)
            and (symbol is None or symbol in r.symbols)
        ]
