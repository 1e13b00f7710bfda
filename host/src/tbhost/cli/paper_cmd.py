"""``tbhost paper``: a paper bot on the wall clock, fed by a replay of stored candles."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .simulation import build_simulation, simulation_options

if TYPE_CHECKING:
    from ..engine.paper import PaperCheckpoint

log = logging.getLogger("tbhost.paper")


def _fingerprint(strategy: str, settings: dict[str, Any], opts: dict[str, Any]) -> str:
    """What a checkpoint belongs to: resuming it with other inputs would not be the same run."""
    shown = {k: v for k, v in opts.items() if k not in ("speed", "state_path", "as_json")}
    text = json.dumps([strategy, settings, shown], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@click.command()
@click.argument("strategy")
@simulation_options
@click.option(
    "--speed",
    type=float,
    default=60.0,
    show_default=True,
    help="Replay speed: candle time per wall-clock time (3600 plays an hour a second; "
    "'inf' does not wait).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Checkpoint file: written after every candle that changed anything, and resumed "
    "from when it exists, so a stopped or killed bot continues where it was.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the final state as JSON.")
@click.pass_context
def paper(
    ctx: click.Context,
    /,
    strategy: str,
    speed: float,
    state_path: Path | None,
    as_json: bool,
    **opts: Any,
) -> None:
    """Run STRATEGY as a paper bot: the replayed candles arrive on the wall clock at --speed,
    through the same engine and paper exchange as a live bot (no candle skipping).

    Ctrl-C (SIGINT) or SIGTERM stops it gracefully: the strategy's on_stop runs, orders stay
    on the paper account, and the checkpoint (--state) is written; run the same command again
    to resume. Orders, fills and notifications are logged as they happen.

    \b
    Example:
      tbhost paper rsi_reversal --symbol BTC/USDT --timeframe 1h --from 2024-01-01 \\
          --speed 3600 --state .tbhost/paper-rsi.json
    """
    from tbsdk import BotInfo

    from ..engine.paper import run_paper

    sim = build_simulation(ctx, strategy, opts, quiet=False)
    fingerprint = _fingerprint(strategy, sim.settings, opts)
    resume = _load_checkpoint(state_path, fingerprint)
    bot = BotInfo(
        bot_id=f"paper-{fingerprint[:8]}",
        strategy=strategy,
        exchange="paper",
        account_id="paper",
        symbols=(sim.instrument.symbol,),
        timeframe=sim.timeframe,
    )

    from ..files import write_atomic

    def save(point: PaperCheckpoint) -> None:
        if state_path is not None:
            data = json.loads(point.to_json())
            write_atomic(state_path, json.dumps({"fingerprint": fingerprint, **data}))

    async def main() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            return await run_paper(
                sim.strategy,
                sim.exchange,
                sim.instrument,
                sim.candles,
                sim.timeframe,
                bot=bot,
                speed=speed,
                resume=resume,
                stop=stop,
                checkpoint=save,
            )
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    if resume is not None:
        log.info("resuming %s at candle %d of %d", bot.bot_id, resume.next_index, len(sim.candles))
    run = asyncio.run(main())
    venue = sim.venue
    trades = venue.trades()
    currency = sim.instrument.settle or sim.instrument.quote
    report = {
        "bot": bot.bot_id,
        "state": str(run.state),
        "fault": run.fault,
        "finished": run.finished,
        "next_candle": run.checkpoint.next_index,
        "candles": len(sim.candles),
        "equity": str(venue.equity(currency)),
        "trades": [t.model_dump(mode="json") for t in trades],
        "strategy_report": run.report,
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        done = "finished" if run.finished else "stopped"
        click.echo(
            f"{bot.bot_id} {done} at candle {run.checkpoint.next_index} of {len(sim.candles)}: "
            f"state {run.state}, {len(trades)} trades, equity {report['equity']} {currency}"
        )
        for label, value in run.report.items():
            click.echo(f"{label}: {value}")
        if run.fault:
            click.echo(f"fault: {run.fault}")
        if not run.finished and state_path is not None:
            click.echo(f"resume with the same command (checkpoint {state_path})")
    if run.fault:
        ctx.exit(1)


def _load_checkpoint(path: Path | None, fingerprint: str) -> PaperCheckpoint | None:
    from ..engine.paper import PaperCheckpoint

    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"cannot read the checkpoint {path}: {exc}") from None
    if data.pop("fingerprint", None) != fingerprint:
        raise click.ClickException(
            f"{path} is the checkpoint of a different run (strategy, settings, market or "
            "candles differ); use another --state file or delete it to start over"
        )
    return PaperCheckpoint.from_json(json.dumps(data))
