"""``tbhost orders|fills|positions|trades|pnl``: what the bots did, through ``QueryService``.

Lists page by row id, oldest first: when there is more, the last line says which
``--cursor`` gets the next page (``next_cursor`` in JSON, ``null`` on the last page).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tbsdk.model import OrderStatus

from .output import TIME, Column, echo_json, table, when
from .serve import Services, serve
from .views import item_record, page_record, pnl_record

if TYPE_CHECKING:
    from pydantic import BaseModel

    from tbsdk.model import Fill, Order, Position, Trade

    from ..services import Item, Page, PnlSummary

__all__ = ["fills", "orders", "pnl", "positions", "trades"]

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound="BaseModel")


def _right(header: str) -> Column:
    """A column of numbers: right-justified, so digits line up."""
    return (header, "right")


_PAGED = (
    "Oldest first. A full page ends with `more: add --cursor N`: run the same command with "
    "--cursor N for the next page (JSON: next_cursor, null on the last page). Amounts are "
    "exact decimals, times UTC ISO 8601."
)


def _bot_option(f: F) -> F:
    return click.option("--bot", help="Only this bot (id or name; deleted bots too).")(f)


def _window_options(f: F) -> F:
    for option in reversed(
        [
            click.option("--symbol", help="Only this symbol, e.g. BTC/USDT:USDT."),
            click.option("--since", type=TIME, help="From this time (UTC; or 7d = 7 days ago)."),
            click.option("--until", type=TIME, help="Before this time (excluded)."),
        ]
    ):
        f = option(f)
    return f


def _page_options(f: F) -> F:
    for option in reversed(
        [
            click.option(
                "--limit",
                type=click.IntRange(1, 1000),
                default=50,
                show_default=True,
                help="Rows per page.",
            ),
            click.option(
                "--cursor",
                type=click.IntRange(min=0),
                help="Start after this row id (the cursor the previous page printed).",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print the page as JSON."),
        ]
    ):
        f = option(f)
    return f


async def _bot_names(s: Services) -> dict[str, str]:
    """Bot names by id, for the tables (deleted bots are shown by id)."""
    from ..services import SYSTEM

    return {b.id: b.name for b in await s.bots.list(SYSTEM)}


def _listing(
    ctx: click.Context,
    read: Callable[[Services], Awaitable[Page[Item[M]]]],
    as_json: bool,
    what: str,
    columns: Sequence[Column | str],
    row: Callable[[Item[M], str], Sequence[Any]],
) -> None:
    """Read one page and print it, with the names of the bots it mentions."""

    async def both(s: Services) -> tuple[Page[Item[M]], dict[str, str]]:
        return await read(s), await _bot_names(s)

    page, names = serve(ctx, both)
    if as_json:
        echo_json(page_record(page, item_record))
        return
    if not page.items:
        click.echo(f"no {what}")
        return
    table(columns, [row(i, names.get(i.bot_id or "", i.bot_id or "-")) for i in page.items])
    if page.next_after is not None:
        click.echo(f"more: add --cursor {page.next_after}")


@click.command(epilog=_PAGED)
@_bot_option
@_window_options
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in OrderStatus]),
    help="Only orders in this status (repeatable).",
)
@_page_options
@click.pass_context
def orders(
    ctx: click.Context,
    bot: str | None,
    symbol: str | None,
    since: int | None,
    until: int | None,
    statuses: tuple[str, ...],
    limit: int,
    cursor: int | None,
    as_json: bool,
) -> None:
    """List stored orders (by creation time) with their status, fills and purpose."""
    from ..services import SYSTEM

    wanted = [OrderStatus(s) for s in statuses] or None

    def read(s: Services) -> Awaitable[Page[Item[Order]]]:
        return s.queries.orders(
            SYSTEM,
            bot_id=bot,
            symbol=symbol,
            statuses=wanted,
            since=since,
            until=until,
            after_id=cursor,
            limit=limit,
        )

    def row(i: Item[Order], name: str) -> Sequence[Any]:
        o = i.value
        return (
            i.id, when(o.created_at), name, o.intent.symbol, o.intent.side, o.intent.type,
            o.intent.qty, o.intent.price, o.intent.trigger_price, o.filled_qty, o.avg_fill_price,
            o.status, o.intent.tag, o.intent.client_order_id,
        )  # fmt: skip

    columns: list[Column | str] = [
        _right("ID"), "CREATED", "BOT", "SYMBOL", "SIDE", "TYPE", _right("QTY"), _right("PRICE"),
        _right("TRIGGER"), _right("FILLED"), _right("AVG PRICE"), "STATUS", "TAG",
        "CLIENT ORDER ID",
    ]  # fmt: skip
    _listing(ctx, read, as_json, "orders", columns, row)


@click.command(epilog=_PAGED)
@_bot_option
@_window_options
@_page_options
@click.pass_context
def fills(
    ctx: click.Context,
    bot: str | None,
    symbol: str | None,
    since: int | None,
    until: int | None,
    limit: int,
    cursor: int | None,
    as_json: bool,
) -> None:
    """List stored fills (executions) by time."""
    from ..services import SYSTEM

    def read(s: Services) -> Awaitable[Page[Item[Fill]]]:
        return s.queries.fills(
            SYSTEM,
            bot_id=bot,
            symbol=symbol,
            since=since,
            until=until,
            after_id=cursor,
            limit=limit,
        )

    def row(i: Item[Fill], name: str) -> Sequence[Any]:
        f = i.value
        return (
            i.id, when(f.ts), name, f.symbol, f.side, f.qty, f.price, f.fee, f.fee_currency,
            f.liquidity, f.client_order_id, f.trade_id,
        )  # fmt: skip

    columns: list[Column | str] = [
        _right("ID"), "TIME", "BOT", "SYMBOL", "SIDE", _right("QTY"), _right("PRICE"),
        _right("FEE"), "FEE CCY", "LIQUIDITY", "CLIENT ORDER ID", "TRADE ID",
    ]  # fmt: skip
    _listing(ctx, read, as_json, "fills", columns, row)


@click.command()
@_bot_option
@click.option("--symbol", help="Only this symbol.")
@click.option("--all", "everything", is_flag=True, help="Include flat positions.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def positions(
    ctx: click.Context, bot: str | None, symbol: str | None, everything: bool, as_json: bool
) -> None:
    """List the bots' open positions as last stored (one per bot, symbol and book)."""
    from ..services import SYSTEM

    async def read(s: Services) -> tuple[list[Item[Position]], dict[str, str]]:
        found = await s.queries.positions(SYSTEM, bot_id=bot, open_only=not everything)
        return [p for p in found if symbol is None or p.value.symbol == symbol], await _bot_names(s)

    found, names = serve(ctx, read)
    if as_json:
        echo_json([item_record(p) for p in found])
        return
    if not found:
        click.echo("no positions" if everything else "no open positions")
        return
    table(
        [
            _right("ID"), "BOT", "SYMBOL", "BOOK", "DIRECTION", _right("SIZE"), _right("ENTRY"),
            _right("UNREALIZED"), _right("REALIZED"), _right("LEVERAGE"), "MARGIN",
            _right("LIQ PRICE"), "UPDATED",
        ],
        [
            (
                p.id, names.get(p.bot_id or "", p.bot_id or "-"), v.symbol, v.position_side,
                v.direction, v.size, v.entry_price, v.unrealized_pnl, v.realized_pnl, v.leverage,
                v.margin_mode, v.liquidation_price, when(v.updated_at),
            )
            for p in found
            for v in (p.value,)
        ],
    )  # fmt: skip


@click.command(epilog=_PAGED)
@_bot_option
@_window_options
@_page_options
@click.pass_context
def trades(
    ctx: click.Context,
    bot: str | None,
    symbol: str | None,
    since: int | None,
    until: int | None,
    limit: int,
    cursor: int | None,
    as_json: bool,
) -> None:
    """List closed round-trip trades (by close time window) with their net PnL."""
    from ..services import SYSTEM

    def read(s: Services) -> Awaitable[Page[Item[Trade]]]:
        return s.queries.trades(
            SYSTEM,
            bot_id=bot,
            symbol=symbol,
            since=since,
            until=until,
            after_id=cursor,
            limit=limit,
        )

    def row(i: Item[Trade], name: str) -> Sequence[Any]:
        t = i.value
        return (
            i.id, name, t.symbol, t.direction, t.qty, t.entry_price, t.exit_price,
            when(t.opened_at), when(t.closed_at), t.pnl, t.fees, t.exit_reason,
        )  # fmt: skip

    columns: list[Column | str] = [
        _right("ID"), "BOT", "SYMBOL", "DIRECTION", _right("QTY"), _right("ENTRY"),
        _right("EXIT"), "OPENED", "CLOSED", _right("PNL"), _right("FEES"), "EXIT REASON",
    ]  # fmt: skip
    _listing(ctx, read, as_json, "trades", columns, row)


@click.command()
@_bot_option
@click.option("--since", type=TIME, help="Trades closed from this time (UTC; or 7d).")
@click.option("--until", type=TIME, help="Trades closed before this time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def pnl(
    ctx: click.Context, bot: str | None, since: int | None, until: int | None, as_json: bool
) -> None:
    """Realised PnL per bot, summed exactly from its closed trades (net = after fees)."""
    from ..services import SYSTEM

    async def read(s: Services) -> tuple[list[PnlSummary], dict[str, str]]:
        found = await s.queries.pnl(SYSTEM, bot_id=bot, since=since, until=until)
        return found, await _bot_names(s)

    found, names = serve(ctx, read)
    if as_json:
        echo_json([pnl_record(x) for x in found])
        return
    if not found:
        click.echo("no trades")
        return
    table(
        ["BOT", _right("TRADES"), _right("WINS"), _right("LOSSES"), _right("GROSS"),
         _right("FEES"), _right("NET")],
        [
            (names.get(x.bot_id, x.bot_id), x.trades, x.wins, x.losses, x.gross_pnl, x.fees,
             x.net_pnl)
            for x in found
        ],
    )  # fmt: skip
