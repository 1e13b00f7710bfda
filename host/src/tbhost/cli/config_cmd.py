"""``tbhost config``: inspect settings."""

from __future__ import annotations

import json
from typing import Any

import click

from .context import settings


@click.group()
def config() -> None:
    """Inspect the effective settings."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def show(ctx: click.Context, as_json: bool) -> None:
    """Show every setting with its effective value; secrets are masked."""
    conf = settings(ctx)
    # mode="json" renders SecretStr as '**********', so no secret can leak from here.
    values: dict[str, Any] = conf.model_dump(mode="json")
    values["effective_database_url"] = conf.effective_database_url
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    fields = type(conf).model_fields
    for key, value in values.items():
        shown = "-" if value is None else value
        desc = fields[key].description if key in fields else "derived from data_dir"
        click.echo(f"{key} = {shown}\n    {desc}")
