"""``tbhost run``: the long-running host for the bots stored as running."""

from __future__ import annotations

import asyncio
import signal

import click

from .context import plugin_host, settings
from .simulation import _date_ms


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
) -> None:
    """Run every bot stored as running, on the wall clock, until Ctrl-C or SIGTERM.

    Until exchange plugins bring live market data, each bot is a paper bot: its candles are a
    replay of stored candles at --speed, and its paper venue keeps its state in
    DATA_DIR/paper/BOT_ID/, so a stopped or crashed host resumes each bot where it was.
    A bot that faults is stored as faulted with the reason; the others go on. Bots started
    later (e.g. through the API) are picked up within seconds; a bot paused or stopped in
    storage is stopped.

    SIGINT/SIGTERM stop gracefully: every bot's on_stop runs and its state is saved.

    \b
    Examples:
      tbhost run --demo
      tbhost run --speed 3600 --from 2024-01-01
    """
    from tbsdk.errors import TbError

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

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await host.run(stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    try:
        asyncio.run(main())
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
