"""``tbhost bots``: create, configure, run, inspect and delete bots, through ``BotService``.

Every change is audited as ``system`` (see :mod:`.serve`); ``tbhost run`` runs the bots
stored as running.
"""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .accounts_cmd import find_account
from .output import echo_json, table, text, when
from .serve import Services, serve
from .views import (
    account_record,
    bot_record,
    close_record,
    item_record,
    pnl_record,
    snapshot_record,
)

if TYPE_CHECKING:
    from tbsdk.model import Position

    from ..services import (
        Account,
        Bot,
        CloseRequest,
        Item,
        PnlSummary,
        StrategySnapshot,
    )

__all__ = ["bots", "strategy_settings"]


def _value(raw: str) -> Any:
    """A ``--set`` value: JSON when it parses (numbers kept exact as Decimal), else text."""
    try:
        return json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError:
        return raw


def strategy_settings(file: str | None, pairs: tuple[str, ...]) -> dict[str, Any]:
    """Settings from a TOML or JSON file, then ``KEY=VALUE`` pairs (later wins). Fractional
    numbers are read as Decimal, never float, so ``qty=0.123456789012345678`` stays exact."""
    values: dict[str, Any] = {}
    if file is not None:
        path = Path(file)
        raw = path.read_text()
        try:
            loaded = (
                tomllib.loads(raw, parse_float=Decimal)
                if path.suffix == ".toml"
                else json.loads(raw, parse_float=Decimal)
            )
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise click.BadParameter(f"{file}: {exc}", param_hint="--config") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter(f"{file} must hold a table of settings", param_hint="--config")
        values.update(loaded)
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--set")
        values[key.strip()] = _value(raw.strip())
    return values


def _setting(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


_CONFIG = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Strategy settings file (TOML, or JSON by any other suffix).",
)
_SET = click.option(
    "--set",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="One setting (repeatable); the value is read as JSON when it parses, else as text.",
)


@click.group()
def bots() -> None:
    """Create and control bots; `tbhost run` runs the ones that are running.

    BOT is a bot's id or name. Every change is audited as `system` (`tbhost audit`).
    """


@bots.command("create")
@click.argument("name")
@click.option("--strategy", required=True, help="Strategy plugin name, e.g. hyperrsi.")
@click.option(
    "--account", "account_ref", required=True, help="Account id or label (`tbhost accounts`)."
)
@click.option("--symbol", required=True, help="ccxt unified symbol, e.g. BTC/USDT:USDT.")
@click.option("--timeframe", required=True, help="Chart timeframe, e.g. 1h.")
@_CONFIG
@_SET
@click.option("--json", "as_json", is_flag=True, help="Print the bot as JSON.")
@click.pass_context
def bots_create(
    ctx: click.Context,
    name: str,
    strategy: str,
    account_ref: str,
    symbol: str,
    timeframe: str,
    config_file: str | None,
    pairs: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create bot NAME (validated against the strategy's settings; not started)."""
    from ..services import SYSTEM

    # The service puts the bot's symbol and timeframe into the settings that declare them.
    values = strategy_settings(config_file, pairs)

    async def create(s: Services) -> Bot:
        account = await find_account(s, account_ref)
        return await s.bots.create(SYSTEM, name, strategy, account.id, [symbol], timeframe, values)

    bot = serve(ctx, create)
    if as_json:
        echo_json(bot_record(bot))
    else:
        click.echo(f"bot {bot.id} ({name}, {strategy}) created: {bot.state}")


@bots.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def bots_list(ctx: click.Context, as_json: bool) -> None:
    """List bots (not deleted ones) with their state."""
    from ..services import SYSTEM

    found = serve(ctx, lambda s: s.bots.list(SYSTEM))
    if as_json:
        echo_json([bot_record(b) for b in found])
    elif not found:
        click.echo("no bots")
    else:
        table(
            ["ID", "NAME", "STRATEGY", "SYMBOLS", "TF", "STATE", "REASON"],
            [
                (
                    b.id,
                    b.name,
                    b.strategy,
                    ",".join(b.symbols),
                    b.timeframe,
                    b.state,
                    b.fault_reason,
                )
                for b in found
            ],
        )  # fmt: skip


class _Shown:
    """Everything ``bots show`` prints, read through the services."""

    def __init__(
        self,
        bot: Bot,
        account: Account,
        snapshot: StrategySnapshot | None,
        positions: list[Item[Position]],
        pnl: PnlSummary,
    ) -> None:
        self.bot, self.account, self.snapshot = bot, account, snapshot
        self.positions, self.pnl = positions, pnl

    @classmethod
    async def read(cls, s: Services, ref: str) -> _Shown:
        from ..services import SYSTEM

        bot = await s.bots.get(SYSTEM, ref)
        [pnl] = await s.queries.pnl(SYSTEM, bot_id=bot.id)
        return cls(
            bot,
            await s.accounts.get(SYSTEM, bot.account_id),
            await s.queries.strategy_state(SYSTEM, bot.id),
            await s.queries.positions(SYSTEM, bot_id=bot.id),
            pnl,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            **bot_record(self.bot),
            "account": account_record(self.account),
            "strategy_state": snapshot_record(self.snapshot),
            "positions": [item_record(p) for p in self.positions],
            "pnl": pnl_record(self.pnl),
        }

    def echo(self) -> None:
        b, a, snap, pnl = self.bot, self.account, self.snapshot, self.pnl
        state = f"{b.state}: {b.fault_reason}" if b.fault_reason else str(b.state)
        saved = "none saved yet"
        if snap is not None:
            feed = f", feed at {when(snap.feed_ts)}" if snap.feed_ts is not None else ""
            keys = ", ".join(sorted(snap.state)) or "empty"
            saved = f"#{snap.seq} saved {when(snap.saved_at)}{feed} ({keys})"
        facts = [
            ("bot", f"{b.name} ({b.id})"),
            ("strategy", b.strategy),
            ("account", f"{a.label} ({a.exchange}, {a.id})"),
            ("symbols", ", ".join(b.symbols)),
            ("timeframe", b.timeframe),
            ("mode", b.mode),
            ("state", state),
            ("created", f"{when(b.created_at)} by {b.created_by or 'system'}"),
            ("updated", when(b.updated_at)),
            ("started", when(b.started_at)),
            ("stopped", when(b.stopped_at)),
            ("config hash", b.config_hash),
            ("strategy state", saved),
            (
                "pnl",
                f"net {text(pnl.net_pnl)} (gross {text(pnl.gross_pnl)}, fees {text(pnl.fees)}) "
                f"over {pnl.trades} trades: {pnl.wins} won, {pnl.losses} lost",
            ),
        ]
        table(["", ""], facts)
        click.echo("")
        table(["SETTING", "VALUE"], [(k, _setting(v)) for k, v in sorted(b.config.items())])
        click.echo("")
        if not self.positions:
            click.echo("no open positions")
            return
        table(
            ["SYMBOL", "BOOK", "DIRECTION", ("SIZE", "right"), ("ENTRY", "right"),
             ("UNREALIZED", "right"), ("REALIZED", "right"), "UPDATED"],
            [
                (p.value.symbol, p.value.position_side, p.value.direction, p.value.size,
                 p.value.entry_price, p.value.unrealized_pnl, p.value.realized_pnl,
                 when(p.value.updated_at))
                for p in self.positions
            ],
            title="open positions",
        )  # fmt: skip


@bots.command("show")
@click.argument("bot")
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
@click.pass_context
def bots_show(ctx: click.Context, bot: str, as_json: bool) -> None:
    """Show BOT: its settings, account, market, state (and why, when faulted), times, the
    strategy state it would resume from, its open positions and its realised PnL."""
    shown = serve(ctx, lambda s: _Shown.read(s, bot))
    if as_json:
        echo_json(shown.as_json())
    else:
        shown.echo()


@bots.command("configure")
@click.argument("bot")
@_CONFIG
@_SET
@click.option(
    "--symbol", "symbols", multiple=True, help="Trade these symbols instead (repeatable)."
)
@click.option("--timeframe", help="Use this chart timeframe instead.")
@click.option(
    "--replace",
    is_flag=True,
    help="Replace all settings by the given ones (defaults for the rest), not merge them.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the configured bot as JSON.")
@click.pass_context
def bots_configure(
    ctx: click.Context,
    bot: str,
    config_file: str | None,
    pairs: tuple[str, ...],
    symbols: tuple[str, ...],
    timeframe: str | None,
    replace: bool,
    as_json: bool,
) -> None:
    """Change BOT's strategy settings, symbols or timeframe, in any state.

    New settings are merged over the stored ones and validated by the strategy: an invalid
    value is refused naming the setting and the allowed range, and nothing changes. A
    running bot takes the new settings at its next evaluation.
    """
    from ..services import SYSTEM

    if not (config_file or pairs or symbols or timeframe or replace):
        raise click.UsageError("nothing to change: give --set, --config, --symbol or --timeframe")
    values = strategy_settings(config_file, pairs)

    async def configure(s: Services) -> tuple[Bot, Bot]:
        before = await s.bots.get(SYSTEM, bot)
        after = await s.bots.configure(
            SYSTEM,
            before.id,
            settings=values,
            symbols=list(symbols) if symbols else None,
            timeframe=timeframe,
            replace=replace,
        )
        return before, after

    before, after = serve(ctx, configure)
    if as_json:
        echo_json(bot_record(after))
        return
    changes = [
        (key, _setting(before.config[key]) if key in before.config else "-", _setting(value))
        for key, value in sorted(after.config.items())
        if before.config.get(key) != value
    ]
    if before.symbols != after.symbols:
        changes.append(("symbols", ", ".join(before.symbols), ", ".join(after.symbols)))
    if before.timeframe != after.timeframe:
        changes.append(("timeframe", before.timeframe, after.timeframe))
    if not changes:
        click.echo(f"bot {after.name}: nothing changed")
        return
    click.echo(f"bot {after.name} configured ({after.state}):")
    table(["SETTING", "WAS", "NOW"], changes)


@bots.command("close")
@click.argument("bot")
@click.option("--json", "as_json", is_flag=True, help="Print the request as JSON.")
@click.pass_context
def bots_close(ctx: click.Context, bot: str, as_json: bool) -> None:
    """Ask the host to close every position of BOT.

    This stores a request; the host (`tbhost run`) carries it out within seconds: it stops the
    bot if it runs, cancels its orders, closes each position with a reduce-only market order,
    stores the bot as stopped and records the outcome in the audit log. A paused or faulted bot
    is closed without being started and stored as stopped too (a stopped one stays stopped);
    if its positions cannot be closed it keeps its state and the outcome says why. Asking
    again while a request is pending returns that request.
    """
    from ..services import SYSTEM, Action

    async def close(s: Services) -> tuple[Bot, CloseRequest, bool, list[Item[Position]]]:
        found = await s.bots.get(SYSTEM, bot)
        newest = await s.audit.list(
            SYSTEM, action=Action.BOT_CLOSE_POSITIONS.value, target_id=found.id, limit=1
        )
        request = await s.bots.close_positions(SYSTEM, found.id)
        again = any(e.id == request.request_id for e in newest.items)
        return found, request, again, await s.queries.positions(SYSTEM, bot_id=found.id)

    found, request, again, positions = serve(ctx, close)
    if as_json:
        echo_json(
            {
                **close_record(request),
                "already_pending": again,
                "positions": [item_record(p) for p in positions],
            }
        )
        return
    said = "was already requested" if again else "requested"
    click.echo(
        f"closing the positions of bot {found.name} {said}: request {request.request_id} "
        f"by {request.requested_by} at {when(request.requested_at)}"
    )
    if positions:
        table(
            ["SYMBOL", "BOOK", "DIRECTION", ("SIZE", "right"), ("ENTRY", "right")],
            [
                (p.value.symbol, p.value.position_side, p.value.direction, p.value.size,
                 p.value.entry_price)
                for p in positions
            ],
            title="open positions stored now",
        )  # fmt: skip
    else:
        click.echo("no open positions are stored for it now")
    click.echo("the running host (`tbhost run`) closes them and records the outcome")


def _lifecycle(verb: str, summary: str) -> click.Command:
    @click.command(verb, help=f"{summary}\n\nBOT is the bot's id or name.")
    @click.argument("bot")
    @click.option("--json", "as_json", is_flag=True, help="Print the bot as JSON.")
    @click.pass_context
    def command(ctx: click.Context, bot: str, as_json: bool) -> None:
        from ..services import SYSTEM

        async def move(s: Services) -> Bot:
            if verb != "delete":
                moved: Bot = await getattr(s.bots, verb)(SYSTEM, bot)
                return moved
            found = await s.bots.get(SYSTEM, bot)
            await s.bots.delete(SYSTEM, found.id)
            return found

        moved = serve(ctx, move)
        if as_json:
            shown = bot_record(moved)
            echo_json({**shown, "deleted": True} if verb == "delete" else shown)
        elif verb == "delete":
            click.echo(f"bot {moved.name} deleted")
        else:
            click.echo(f"bot {moved.name} is {moved.state}")

    return command


for _verb, _summary in (
    ("start", "Start a created or stopped BOT: `tbhost run` runs it."),
    ("pause", "Pause a running BOT; `resume` continues it."),
    ("resume", "Resume a paused BOT."),
    ("stop", "Stop a running, paused or faulted BOT; its positions stay open (see `close`)."),
    ("delete", "Delete a created or stopped BOT: it leaves every list; its history stays."),
):
    bots.add_command(_lifecycle(_verb, _summary))
