"""``tbhost accounts``: the exchange accounts bots trade on, through ``AccountService``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .output import echo_json, table, when
from .serve import Services, serve
from .views import account_record

if TYPE_CHECKING:
    from ..services import Account

__all__ = ["accounts", "find_account"]


async def find_account(s: Services, ref: str) -> Account:
    """An account by id or, failing that, by label."""
    from ..services import SYSTEM, NotFound

    found = await s.accounts.list(SYSTEM)
    for account in found:
        if account.id == ref:
            return account
    labelled = [a for a in found if a.label == ref]
    if len(labelled) == 1:
        return labelled[0]
    if labelled:
        raise NotFound(f"{len(labelled)} accounts are labelled {ref!r}: name one by its id")
    raise NotFound(f"no exchange account {ref!r} (by id or label)")


@click.group()
def accounts() -> None:
    """Exchange accounts bots trade on (paper accounts until exchange plugins arrive).

    Credentials are stored encrypted and never shown. Every change is audited as `system`
    (`tbhost audit`).
    """


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
    from ..services import SYSTEM

    options = {"balances": {"USDT": balance}} if exchange == "paper" else {}
    account = serve(
        ctx,
        lambda s: s.accounts.add(
            SYSTEM, exchange, label, position_mode=position_mode, options=options
        ),
    )
    if as_json:
        echo_json(account_record(account))
    else:
        click.echo(f"account {account.id} ({exchange}, {label}) added")


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (never any secret).")
@click.pass_context
def accounts_list(ctx: click.Context, as_json: bool) -> None:
    """List accounts (credentials are never shown, only whether some are stored)."""
    from ..services import SYSTEM

    found = serve(ctx, lambda s: s.accounts.list(SYSTEM))
    if as_json:
        echo_json([account_record(a) for a in found])
    elif not found:
        click.echo("no accounts")
    else:
        table(
            ["ID", "LABEL", "EXCHANGE", "MODE", "KEYS", "CREATED"],
            [
                (a.id, a.label, a.exchange, a.position_mode, a.has_credentials, when(a.created_at))
                for a in found
            ],
        )


@accounts.command("remove")
@click.argument("account")
@click.option("--json", "as_json", is_flag=True, help="Print the removed account as JSON.")
@click.pass_context
def accounts_remove(ctx: click.Context, account: str, as_json: bool) -> None:
    """Remove ACCOUNT (id or label).

    Refused while any bot refers to it (deleted bots too: their history names it) or any
    order is stored for it.
    """
    from ..services import SYSTEM

    async def remove(s: Services) -> Account:
        found = await find_account(s, account)
        await s.accounts.remove(SYSTEM, found.id)
        return found

    removed = serve(ctx, remove)
    if as_json:
        echo_json(account_record(removed))
    else:
        click.echo(f"account {removed.id} ({removed.exchange}, {removed.label}) removed")
