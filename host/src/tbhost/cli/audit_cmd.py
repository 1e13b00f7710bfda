"""``tbhost audit``: the append-only log of every change and who made it, via ``AuditService``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from .output import TIME, echo_json, table, when
from .serve import Services, serve
from .views import audit_record, page_record

if TYPE_CHECKING:
    from ..services import AuditEntry, Page

__all__ = ["audit"]

SYSTEM_NAME = "system"


@click.command(
    epilog="Newest first. A full page ends with `more: add --cursor N`: run the same command "
    "with --cursor N for older entries (JSON: next_cursor, null on the last page)."
)
@click.option("--actor", help="Only changes made by this user (name or id), or `system`.")
@click.option("--action", help="Only this action, e.g. bot.start or user.create.")
@click.option("--target", help="Only changes to this bot, account, user or token id.")
@click.option("--type", "target_type", help="Only changes to this kind: bot, account, user...")
@click.option("--since", type=TIME, help="From this time (UTC; or 7d = 7 days ago).")
@click.option("--until", type=TIME, help="Before this time (excluded).")
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="Rows per page."
)
@click.option(
    "--cursor",
    type=click.IntRange(min=0),
    help="Continue after this entry id (the cursor the previous page printed).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the page as JSON.")
@click.pass_context
def audit(
    ctx: click.Context,
    actor: str | None,
    action: str | None,
    target: str | None,
    target_type: str | None,
    since: int | None,
    until: int | None,
    limit: int,
    cursor: int | None,
    as_json: bool,
) -> None:
    """List the audit log, newest first: every change, who made it (a user id, or `system`
    for the host and this CLI), what it touched and the details."""
    from ..services import SYSTEM

    async def read(s: Services) -> tuple[Page[AuditEntry], dict[str, str]]:
        names = {u.id: u.username for u in await s.users.list(SYSTEM)}
        actor_id = actor
        if actor is not None and actor != SYSTEM_NAME:
            actor_id = (await s.users.get(SYSTEM, actor)).id
        page = await s.audit.list(
            SYSTEM,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target,
            since=since,
            until=until,
            after_id=cursor,
            limit=limit,
        )
        return page, names

    page, names = serve(ctx, read)
    if as_json:
        echo_json(page_record(page, audit_record))
        return
    if not page.items:
        click.echo("no audit entries")
        return
    table(
        [("ID", "right"), "AT", "ACTOR", "ACTION", "TARGET", "DETAILS"],
        [
            (
                e.id,
                when(e.at),
                names.get(e.actor, e.actor),
                e.action,
                f"{e.target_type} {e.target_id or ''}".strip(),
                json.dumps(e.details, sort_keys=True, ensure_ascii=False),
            )
            for e in page.items
        ],
    )
    if page.next_after is not None:
        click.echo(f"more: add --cursor {page.next_after}")
