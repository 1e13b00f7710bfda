"""``tbhost accounts`` and ``tbhost bots``: the service layer from the local command line.

The local CLI acts as the built-in system administrator (it runs with the database's own
credentials); every change it makes is audited as ``system``, like the host's own.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .context import plugin_host, settings
from .simulation import _strategy_settings

if TYPE_CHECKING:
    from ..services import AccountService, BotService

T = TypeVar("T")


def _serve(ctx: click.Context, action: Callable[[BotService, AccountService], Awaitable[T]]) -> T:
    """Run ``action`` with the services on the configured database; errors become one line."""
    from tbsdk.errors import TbError

    from ..services import AccountService, BotService
    from ..storage import open_database

    host, conf = plugin_host(ctx), settings(ctx)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its schema check chatters at INFO

    async def main() -> T:
        db = await open_database(conf)
        try:
            services = BotService(db, host.strategy_class), AccountService(db, conf.secrets_key)
            return await action(*services)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except TbError as exc:
        raise click.ClickException(exc.message) from None


def _show(value: Any, as_json: bool, text: str) -> None:
    if as_json:
        click.echo(json.dumps(value, indent=2, default=str))
    else:
        click.echo(text)


def _plain(obj: Any) -> dict[str, Any]:
    return {k: (str(v) if hasattr(v, "value") else v) for k, v in asdict(obj).items()}


@click.group()
def accounts() -> None:
    """Exchange accounts bots trade on (paper accounts until exchange plugins arrive)."""


@accounts.command("add")
@click.argument("label")
@click.option("--exchange", default="paper", show_default=True, help="Exchange plugin name.")
@click.option(
    "--position-mode", type=click.Choice(["one_way", "hedge"]), default="one_way", show_default=True
)
@click.option("--balance", default="10000", show_default=True, help="Paper: starting USDT.")
@click.option("--json", "as_json", is_flag=True, help="Print the account as JSON.")
@click.pass_context
def accounts_add(
    ctx: click.Context, label: str, exchange: str, position_mode: str, balance: str, as_json: bool
) -> None:
    """Add an account named LABEL."""
    from ..services.access import SYSTEM

    options = {"balances": {"USDT": balance}} if exchange == "paper" else {}
    account = _serve(
        ctx,
        lambda _bots, accs: accs.add(
            SYSTEM, exchange, label, position_mode=position_mode, options=options
        ),
    )
    _show(_plain(account), as_json, f"account {account.id} ({exchange}, {label}) added")


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (never any secret).")
@click.pass_context
def accounts_list(ctx: click.Context, as_json: bool) -> None:
    """List accounts (credentials are never shown)."""
    from ..services.access import SYSTEM

    found = _serve(ctx, lambda _bots, accs: accs.list(SYSTEM))
    lines = [f"{a.id}  {a.exchange:<8} {a.label}  {a.position_mode}" for a in found]
    _show([_plain(a) for a in found], as_json, "\n".join(lines) or "no accounts")


@click.group()
def bots() -> None:
    """Create and control bots; `tbhost run` runs the ones that are running."""


@bots.command("create")
@click.argument("name")
@click.option("--strategy", required=True, help="Strategy plugin name, e.g. hyperrsi.")
@click.option("--account", "account_id", required=True, help="Account id (`tbhost accounts`).")
@click.option("--symbol", required=True, help="ccxt unified symbol, e.g. BTC/USDT:USDT.")
@click.option("--timeframe", required=True, help="Chart timeframe, e.g. 1h.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Strategy settings file (TOML or JSON).",
)
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="One setting.")
@click.option("--json", "as_json", is_flag=True, help="Print the bot as JSON.")
@click.pass_context
def bots_create(
    ctx: click.Context,
    name: str,
    strategy: str,
    account_id: str,
    symbol: str,
    timeframe: str,
    config_file: str | None,
    pairs: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create bot NAME (validated against the strategy's settings; not started)."""
    from pathlib import Path

    from ..services.access import SYSTEM

    values = _strategy_settings(Path(config_file) if config_file else None, pairs)
    values.setdefault("symbol", symbol)
    values.setdefault("timeframe", timeframe)
    bot = _serve(
        ctx,
        lambda b, _a: b.create(SYSTEM, name, strategy, account_id, [symbol], timeframe, values),
    )
    _show(_plain(bot), as_json, f"bot {bot.id} ({name}, {strategy}) created: {bot.state}")


@bots.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def bots_list(ctx: click.Context, as_json: bool) -> None:
    """List bots with their state."""
    from ..services.access import SYSTEM

    found = _serve(ctx, lambda b, _a: b.list(SYSTEM))
    lines = [
        f"{b.id}  {b.name:<16} {b.strategy:<12} {','.join(b.symbols):<16} {b.timeframe:<4} "
        f"{b.state}" + (f" ({b.fault_reason})" if b.fault_reason else "")
        for b in found
    ]
    _show([_plain(b) for b in found], as_json, "\n".join(lines) or "no bots")


def _lifecycle(verb: str) -> click.Command:
    @click.command(verb, help=f"{verb.capitalize()} bot BOT (id or name).")
    @click.argument("bot")
    @click.pass_context
    def command(ctx: click.Context, bot: str) -> None:
        from ..services.access import SYSTEM

        if verb == "delete":
            _serve(ctx, lambda b, _a: b.delete(SYSTEM, bot))
            click.echo(f"bot {bot} deleted")
            return
        moved = _serve(ctx, lambda b, _a: getattr(b, verb)(SYSTEM, bot))
        click.echo(f"bot {moved.name} is {moved.state}")

    return command


for _verb in ("start", "pause", "resume", "stop", "delete"):
    bots.add_command(_lifecycle(_verb))
