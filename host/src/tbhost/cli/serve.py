"""The service layer from the local command line: every service command runs through here.

The local CLI acts as the built-in system administrator (it runs with the database's own
credentials); every change it makes is audited as ``system``, like the host's own. Errors
of the services (unknown bot, refused move, invalid settings, ...) become one line on stderr
and exit code 1; the services change nothing when they refuse.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .context import plugin_host, settings

if TYPE_CHECKING:
    from tbsdk import Strategy

    from ..services import AccountService, AuditService, BotService, QueryService, UserService

__all__ = ["Services", "serve"]

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """The services on one open database, for one command."""

    bots: BotService
    accounts: AccountService
    users: UserService
    queries: QueryService
    audit: AuditService


def serve(ctx: click.Context, action: Callable[[Services], Awaitable[T]]) -> T:
    """Run ``action`` with the services on the configured database; errors become one line."""
    from tbsdk.errors import TbError

    from ..services import AccountService, AuditService, BotService, QueryService, UserService
    from ..storage import open_database

    conf = settings(ctx)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its schema check chatters at INFO

    def strategy_class(name: str) -> type[Strategy[Any]]:
        # Plugins are discovered only by the commands that validate strategy settings.
        return plugin_host(ctx).strategy_class(name)

    async def main() -> T:
        db = await open_database(conf)
        try:
            services = Services(
                bots=BotService(db, strategy_class),
                accounts=AccountService(db, conf.secrets_key),
                users=UserService(db),
                queries=QueryService(db),
                audit=AuditService(db),
            )
            return await action(services)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except TbError as exc:
        raise click.ClickException(exc.message) from None
