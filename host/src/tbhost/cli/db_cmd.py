"""``tbhost db``: migrate and check the SQL database."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .context import settings

if TYPE_CHECKING:
    from ..storage import Database

T = TypeVar("T")


def _run(ctx: click.Context, action: Callable[[Database], Awaitable[T]]) -> T:
    """Open the configured database, run ``action`` on it, close it; storage errors become
    one clear line and exit status 1."""
    from tbsdk.errors import TbError

    from ..storage import Database

    conf = settings(ctx)
    if conf.log_level != "DEBUG":
        # Our own output says what happened; Alembic's INFO lines would repeat it.
        logging.getLogger("alembic").setLevel(logging.WARNING)

    async def main() -> T:
        async with Database.from_settings(conf) as db:
            return await action(db)

    try:
        return asyncio.run(main())
    except TbError as exc:
        raise click.ClickException(exc.message) from None


def _echo(as_json: bool, data: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(data, indent=2) if as_json else text)


@click.group()
@click.option(
    "--url",
    "database_url",
    metavar="URL",
    help="Database URL for this command (default: the database_url setting, else SQLite "
    "under the data directory).",
)
@click.pass_context
def db(ctx: click.Context, database_url: str | None) -> None:
    """Migrate and check the SQL database (SQLite file by default, PostgreSQL through
    TBHOST_DATABASE_URL=postgresql+asyncpg://...)."""
    if database_url is not None:
        ctx.find_root().meta.setdefault("tbhost.flags", {})["database_url"] = database_url


@db.command()
@click.option("--revision", default="head", show_default=True, help="Revision to upgrade to.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def upgrade(ctx: click.Context, revision: str, as_json: bool) -> None:
    """Create or migrate the tables (safe to run again)."""

    async def action(db: Database) -> dict[str, Any]:
        before = await db.current_revision()
        after = await db.upgrade(revision)
        return {**(await db.status()).as_dict(), "before": before, "current": after}

    data = _run(ctx, action)
    if data["before"] == data["current"]:
        text = f"{data['url']}: already at revision {data['current']}"
    else:
        text = f"{data['url']}: upgraded from {data['before'] or 'empty'} to {data['current']}"
    _echo(as_json, data, text)


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def current(ctx: click.Context, as_json: bool) -> None:
    """Show the database's revision and the one this host needs."""

    async def action(db: Database) -> dict[str, Any]:
        return (await db.status()).as_dict()

    data = _run(ctx, action)
    shown = data["current"] or "empty (no migrations run)"
    _echo(as_json, data, f"{data['url']}: revision {shown}, host needs {data['head']}")


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def check(ctx: click.Context, as_json: bool) -> None:
    """Exit 0 when at the migration head, else 1 and the reason."""
    from ..storage import SchemaOutdated

    async def action(db: Database) -> tuple[dict[str, Any], str | None]:
        try:
            return (await db.check()).as_dict(), None
        except SchemaOutdated as exc:
            return (await db.status()).as_dict(), exc.message

    data, problem = _run(ctx, action)
    if problem is None:
        _echo(as_json, data, f"{data['url']}: ok, at revision {data['current']}")
        return
    if as_json:
        click.echo(json.dumps(data, indent=2))
    raise click.ClickException(problem)
