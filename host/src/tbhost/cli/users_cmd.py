"""``tbhost users`` and ``tbhost tokens``: who may use the API and the Telegram bot, and as
which role, through ``UserService``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from .output import DURATION, echo_json, iso, table, when
from .serve import Services, serve
from .views import token_record, user_record

if TYPE_CHECKING:
    from ..services import IssuedToken, Token, User

__all__ = ["tokens", "users"]

ROLES = ["admin", "trader", "viewer"]


def _now_ms() -> int:
    return int(time.time() * 1000)


@click.group()
def users() -> None:
    """Users and their roles: viewers look, traders run bots, admins also manage users,
    tokens and accounts.

    NAME is a username (or a user id). Users are never deleted, only disabled, so the audit
    log keeps naming who did what. Every change is audited as `system` (`tbhost audit`).
    """


def _status(user: User) -> str:
    return "active" if user.disabled_at is None else f"disabled {when(user.disabled_at)}"


def _echo_user(user: User, as_json: bool, said: str) -> None:
    if as_json:
        echo_json(user_record(user))
    else:
        click.echo(f"user {user.username} ({user.role}, {user.id}) {said}")


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option("--json", "as_json", is_flag=True, help="Print the user as JSON.")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, as_json: bool) -> None:
    """Add user NAME with a role; `tbhost tokens create NAME` then gives them API access."""
    from ..services import SYSTEM

    user = serve(ctx, lambda s: s.users.create(SYSTEM, name, role))
    _echo_user(user, as_json, "added")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List users (disabled ones too) with their roles."""
    from ..services import SYSTEM

    found = serve(ctx, lambda s: s.users.list(SYSTEM))
    if as_json:
        echo_json([user_record(u) for u in found])
    elif not found:
        click.echo("no users")
    else:
        table(
            ["USERNAME", "ROLE", "STATUS", "ID", "CREATED", "TELEGRAM CHAT"],
            [
                (u.username, u.role, _status(u), u.id, when(u.created_at), u.telegram_chat_id)
                for u in found
            ],
        )


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--json", "as_json", is_flag=True, help="Print the user as JSON.")
@click.pass_context
def users_role(ctx: click.Context, name: str, role: str, as_json: bool) -> None:
    """Give user NAME the role ROLE (the last active admin stays an admin)."""
    from ..services import SYSTEM

    async def change(s: Services) -> tuple[User, User]:
        before = await s.users.get(SYSTEM, name)
        return before, await s.users.set_role(SYSTEM, before.id, role)

    before, after = serve(ctx, change)
    _echo_user(after, as_json, f"changed role from {before.role} to {after.role}")


@users.command("disable")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the user as JSON.")
@click.pass_context
def users_disable(ctx: click.Context, name: str, as_json: bool) -> None:
    """Disable user NAME: their tokens and Telegram chat stop working at once (the last
    active admin cannot be disabled)."""
    from ..services import SYSTEM

    async def disable(s: Services) -> User:
        found = await s.users.get(SYSTEM, name)
        return await s.users.disable(SYSTEM, found.id)

    _echo_user(serve(ctx, disable), as_json, "disabled")


@click.group()
def tokens() -> None:
    """API tokens: how a user authenticates to the API. A token's secret is shown once, when
    it is created; only its hash is stored.

    USER is a username (or a user id). Every change is audited as `system` (`tbhost audit`).
    """


_ONCE = "store this token now: it is not shown again (only its hash is stored)"


@tokens.command("create")
@click.argument("user")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option(
    "--expires-in", "expires_in", type=DURATION, help="Lifetime, e.g. 30d, 12h, 2w (default: none)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the token, secret included, as JSON.")
@click.pass_context
def tokens_create(
    ctx: click.Context, user: str, name: str, expires_in: int | None, as_json: bool
) -> None:
    """Create an API token for USER and print its secret, once.

    The secret alone goes to stdout (so `TOKEN=$(tbhost tokens create alice)` works); what
    it is and the warning go to stderr.
    """
    from ..services import SYSTEM

    expires_at = None if expires_in is None else _now_ms() + expires_in

    async def issue(s: Services) -> tuple[User, IssuedToken]:
        found = await s.users.get(SYSTEM, user)
        return found, await s.users.issue_token(SYSTEM, found.id, name, expires_at=expires_at)

    owner, issued = serve(ctx, issue)
    if as_json:
        echo_json({**token_record(issued.info), "token": issued.token, "warning": _ONCE})
        return
    info = issued.info
    until = f"expires {iso(info.expires_at)}" if info.expires_at is not None else "never expires"
    click.echo(
        f"token {info.id} ({info.name!r}, prefix {info.prefix}) for {owner.username} "
        f"({owner.role}), {until}:",
        err=True,
    )
    click.echo(issued.token)
    click.echo(f"warning: {_ONCE}", err=True)


def _token_status(token: Token, now: int) -> str:
    if token.revoked_at is not None:
        return f"revoked {when(token.revoked_at)}"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


@tokens.command("list")
@click.argument("user")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (never a secret).")
@click.pass_context
def tokens_list(ctx: click.Context, user: str, as_json: bool) -> None:
    """List USER's tokens (never their secrets)."""
    from ..services import SYSTEM

    async def read(s: Services) -> list[Token]:
        found = await s.users.get(SYSTEM, user)
        return await s.users.list_tokens(SYSTEM, found.id)

    found = serve(ctx, read)
    if as_json:
        echo_json([token_record(t) for t in found])
        return
    if not found:
        click.echo(f"no tokens for {user}")
        return
    now = _now_ms()
    table(
        ["ID", "NAME", "PREFIX", "STATUS", "CREATED", "EXPIRES", "LAST USED"],
        [
            (
                t.id,
                t.name,
                t.prefix,
                _token_status(t, now),
                when(t.created_at),
                when(t.expires_at),
                when(t.last_used_at),
            )
            for t in found
        ],
    )


@tokens.command("revoke")
@click.argument("token_id")
@click.option("--json", "as_json", is_flag=True, help="Print the revoked token as JSON.")
@click.pass_context
def tokens_revoke(ctx: click.Context, token_id: str, as_json: bool) -> None:
    """Revoke the token TOKEN_ID (`tbhost tokens list USER` shows ids): it stops working
    at once."""
    from ..services import SYSTEM

    token = serve(ctx, lambda s: s.users.revoke_token(SYSTEM, token_id))
    if as_json:
        echo_json(token_record(token))
    else:
        click.echo(f"token {token.id} ({token.name!r}, prefix {token.prefix}) revoked")
