"""``tbhost api``: the GraphQL API on its own, and its schema."""

from __future__ import annotations

from pathlib import Path

import click

from .context import plugin_host, settings

DEFAULT_SCHEMA_FILE = Path("docs/api/schema.graphql")


@click.group()
def api() -> None:
    """The GraphQL control API (`tbhost run` serves it too, next to the bots)."""


@api.command()
@click.option(
    "--write",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Write the SDL to FILE (the repository keeps it in {DEFAULT_SCHEMA_FILE}).",
)
@click.pass_context
def schema(ctx: click.Context, path: Path | None) -> None:
    """Print the GraphQL schema (SDL), with what installed plugins add to it.

    \b
    Example:
      tbhost api schema --write docs/api/schema.graphql
    """
    from ..api import build_schema, schema_sdl

    text = schema_sdl(build_schema(settings(ctx), plugin_host(ctx)))
    if path is None:
        click.echo(text, nl=False)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    click.echo(f"schema written to {path}")


@api.command()
@click.option("--host", "bind", help="Bind address (default: the api_host setting).")
@click.option("--port", type=int, help="Port (default: the api_port setting).")
@click.pass_context
def serve(ctx: click.Context, bind: str | None, port: int | None) -> None:
    """Serve the API alone, without running bots, until Ctrl-C or SIGTERM.

    Bots started through the API are run by a `tbhost run` (this or another machine)
    sharing the database.
    """
    import asyncio
    import signal

    from tbsdk.errors import TbError

    from .. import event_loop
    from ..api import serve_api
    from ..storage import open_database

    conf = settings(ctx)
    if bind is not None or port is not None:
        conf = conf.model_copy(
            update={"api_host": bind or conf.api_host, "api_port": port or conf.api_port}
        )
    plugins = plugin_host(ctx)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        db = await open_database(conf)
        try:
            await serve_api(conf, db, plugins, stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await db.dispose()

    try:
        event_loop.run(main())
    except (TbError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
