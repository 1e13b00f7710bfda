"""``tbhost run``: the long-running host for the bots stored as running."""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING

import click

from .context import plugin_host, settings
from .simulation import _date_ms

if TYPE_CHECKING:
    from ..plugins import PluginHost
    from ..settings import Settings


@click.command()
@click.option(
    "--speed",
    type=float,
    default=60.0,
    show_default=True,
    help="Replay speed of the candle feed: candle time per wall-clock time (3600 plays an "
    "hour a second; 'inf' does not wait).",
)
@click.option(
    "--bot",
    "bot_refs",
    multiple=True,
    metavar="ID",
    help="Run only this bot (id or name; repeatable). Default: every bot stored as running.",
)
@click.option(
    "--once",
    is_flag=True,
    help="Exit when every bot's replay has ended, instead of waiting for more bots.",
)
@click.option(
    "--data-exchange",
    default="binance",
    show_default=True,
    help="Exchange whose stored candles the replay feed plays.",
)
@click.option("--from", "start", help="Replay window start (UTC date or datetime).")
@click.option("--to", "end", help="Replay window end, exclusive (UTC date or datetime).")
@click.option(
    "--demo",
    is_flag=True,
    help="Nothing to set up: rebuild a demo database under DATA_DIR/demo with a paper account, "
    "a HYPERRSI and a GRID bot, replay the bundled real BTC/USDT 1m candles to the end (unless "
    "--speed is given) and print what happened.",
)
@click.option(
    "--api/--no-api",
    default=None,
    help="Serve the GraphQL API (/graphql, /healthz, /readyz, /metrics) on the settings' "
    "api_host:api_port, 127.0.0.1:8000 by default. Default: on, except with --once or --demo.",
)
@click.pass_context
def run(
    ctx: click.Context,
    /,
    speed: float,
    bot_refs: tuple[str, ...],
    once: bool,
    data_exchange: str,
    start: str | None,
    end: str | None,
    demo: bool,
    api: bool | None,
) -> None:
    """Run every bot stored as running, on the wall clock, until Ctrl-C or SIGTERM.

    Until exchange plugins bring live market data, each bot is a paper bot: its candles are a
    replay of stored candles at --speed, and its paper venue keeps its state in
    DATA_DIR/paper/BOT_ID/, so a stopped or crashed host resumes each bot where it was.
    A bot that faults is stored as faulted with the reason; the others go on. Bots started
    later (e.g. through the API) are picked up within seconds; a bot paused or stopped in
    storage is stopped. Requests to close a bot's positions (`tbhost bots close`) are carried
    out too, for a paused, stopped or faulted bot without starting it.

    SIGINT/SIGTERM stop gracefully: every bot's on_stop runs and its state is saved.

    \b
    Examples:
      tbhost run --demo
      tbhost run --speed 3600 --from 2024-01-01
    """
    from tbsdk.errors import TbError

    from .. import event_loop
    from ..live import Host
    from ..live.host import describe

    conf = settings(ctx)
    if demo:
        from ..live.demo import demo_settings, prepare_demo

        conf = demo_settings(conf)
        if ctx.get_parameter_source("speed") is click.core.ParameterSource.DEFAULT:
            speed, once = float("inf"), True
        click.echo(f"demo: a new database and paper venues under {conf.data_dir}", err=True)
        try:
            asyncio.run(prepare_demo(conf, plugin_host(ctx)))
        except TbError as exc:
            raise click.ClickException(exc.message) from None
    try:
        host = Host(
            conf,
            plugin_host(ctx),
            speed=speed,
            bot_refs=bot_refs,
            start=_date_ms(start, "--from"),
            end=_date_ms(end, "--to"),
            data_exchange=data_exchange,
            once=once,
        )
    except TbError as exc:
        raise click.ClickException(exc.message) from None

    serve = api if api is not None else not (once or demo)
    plugins = plugin_host(ctx)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        api_task = asyncio.create_task(_serve_api(conf, plugins, stop)) if serve else None
        try:
            await host.run(stop)
        finally:
            stop.set()
            if api_task is not None:
                await api_task
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    try:
        event_loop.run(main())
    except TbError as exc:
        raise click.ClickException(exc.message) from None
    for outcome in host.outcomes.values():
        click.echo(describe(outcome))
    if demo:
        from ..live.demo import summary_rows
        from .output import table

        columns = ["bot", "status", "candles", "orders", "fills", "round trips", "fees", "equity"]
        table(columns, summary_rows(host.outcomes), title="Demo summary (USDT)")
        click.echo(
            f"Stored in {conf.data_dir / 'tbhost.db'}: e.g. tbhost --data-dir {conf.data_dir} "
            "orders --bot grid-btc-spot"
        )


async def _serve_api(conf: Settings, plugins: PluginHost, stop: asyncio.Event) -> None:
    """The API beside the bots, on its own database connection pool. If it cannot start (the
    port is taken, ...), the error is logged and the bots trade on without it."""
    import logging

    from ..api.server import serve_api
    from ..storage import open_database

    log = logging.getLogger("tbhost.api")
    try:
        db = await open_database(conf)
    except Exception:
        log.exception("the API is not served: its database could not be opened")
        return
    try:
        ready = asyncio.Event()
        serving = asyncio.create_task(serve_api(conf, db, plugins, stop, ready))
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if ready.is_set():
            log.info("API on http://%s:%s/graphql", conf.api_host, conf.api_port)
        else:
            waiting.cancel()
        await serving
    except Exception:
        log.exception("the API stopped; the bots go on without it")
    finally:
        await db.dispose()
