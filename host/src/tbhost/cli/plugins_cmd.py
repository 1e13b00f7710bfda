"""``tbhost plugins``: what is installed, and why anything is not running."""

from __future__ import annotations

import json

import click

from .context import plugin_host


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list for scripts.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List every strategy, exchange, notifier and hook plugin found through entry points.

    STATUS is ok, failed (import or validation error), incompatible (built for another SDK API
    version), blocked (by plugins_allow / plugins_block) or quarantined (a hook kept failing).
    A plugin that is not ok never stops the others; the command exits 0.
    """
    records = plugin_host(ctx).records
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in records], indent=2))
        return
    if not records:
        click.echo("No plugins installed.")
        return
    header = ("NAME", "GROUP", "DISTRIBUTION", "VERSION", "API", "STATUS")
    rows = [
        (
            r.name,
            r.group,
            r.distribution or "-",
            r.version or "-",
            r.api_version or "-",
            str(r.status),
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    problems = [r for r in records if r.reason]
    if problems:
        click.echo("")
        for r in problems:
            click.echo(f"{r.key} ({r.status}): {r.reason}")
    ok = sum(r.status == "ok" for r in records)
    click.echo(f"\n{ok} of {len(records)} plugins ok.")
