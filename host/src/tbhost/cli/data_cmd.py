"""``tbhost data``: import and inspect stored candles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tbsdk.timeframes import timeframe_ms

from .context import settings

if TYPE_CHECKING:
    from tbsdk.model import CandleArrays

    from ..candles import CandleStore, StoredSeries


def _store(ctx: click.Context) -> CandleStore:
    from ..candles import CandleStore

    return CandleStore(settings(ctx).data_dir / "candles")


def _when(ms: int | None) -> str:
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _as_dict(series: StoredSeries) -> dict[str, Any]:
    return {
        "exchange": series.exchange,
        "symbol": series.symbol,
        "timeframe": series.timeframe,
        "rows": series.rows,
        "first": series.first,
        "last": series.last,
        "missing": series.missing,
        "gaps": [{"after": g.after, "before": g.before, "missing": g.missing} for g in series.gaps],
    }


def load_or_import(
    ctx: click.Context,
    exchange: str,
    symbol: str,
    timeframe: str,
    start: int | None = None,
    end: int | None = None,
) -> CandleArrays:
    """Stored candles of the series; a bundled series not yet stored is imported first, and
    a swap without candles of its own replays its spot pair's (said on stderr)."""
    from ..candles import replay_candles

    return replay_candles(
        _store(ctx),
        exchange,
        symbol,
        timeframe,
        start,
        end,
        on_substitute=lambda message: click.echo(f"note: {message}", err=True),
    )


@click.group()
def data() -> None:
    """Import and inspect candle data (Parquet files under the data directory)."""


@data.command("import")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.option("--exchange", help="Exchange name the candles belong to, e.g. binance.")
@click.option("--symbol", help="ccxt unified symbol, e.g. BTC/USDT or BTC/USDT:USDT.")
@click.option("--timeframe", help="Candle timeframe, e.g. 1m, 1h, 1d.")
@click.option("--bundled", is_flag=True, help="Import the real candles shipped with the host.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def import_(
    ctx: click.Context,
    file: Path | None,
    exchange: str | None,
    symbol: str | None,
    timeframe: str | None,
    bundled: bool,
    as_json: bool,
) -> None:
    """Import FILE: CSV (optionally .gz) with header timestamp,open,high,low,close,volume,
    timestamp = candle open time in UTC milliseconds.

    The file is checked whole (sorted, no duplicates, high >= max(open, close),
    low <= min(open, close), positive prices, aligned timestamps). Any bad row refuses the
    file with its line number and nothing is written. Gaps are reported, not filled.
    """
    from tbsdk.errors import TbError

    from ..candles import read_candle_csv
    from ..datasets import BUNDLED

    if bundled:
        jobs = [(d.path, d.exchange, d.symbol, d.timeframe) for d in BUNDLED]
    elif file and exchange and symbol and timeframe:
        jobs = [(file, exchange, symbol, timeframe)]
    else:
        raise click.UsageError("give FILE with --exchange, --symbol and --timeframe, or --bundled")
    store = _store(ctx)
    results = []
    for path, ex, sym, tf in jobs:
        try:
            arrays = read_candle_csv(path, timeframe_ms(tf))
            results.append(store.write(ex, sym, tf, arrays))
        except (TbError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([_as_dict(s) for s in results], indent=2))
        return
    for s in results:
        click.echo(
            f"{s.exchange} {s.symbol} {s.timeframe}: {s.rows} candles stored, "
            f"{_when(s.first)} -> {_when(s.last)}, "
            f"{s.missing} missing in {len(s.gaps)} gap(s)"
        )


@data.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Show every stored series: span, rows and gaps."""
    series = _store(ctx).list()
    if as_json:
        click.echo(json.dumps([_as_dict(s) for s in series], indent=2))
        return
    if not series:
        click.echo("No candles stored. Import some with `tbhost data import --bundled`.")
        return
    click.echo(
        f"{'EXCHANGE':10} {'SYMBOL':16} {'TF':4} {'ROWS':>9}  {'FIRST':16}  {'LAST':16}  GAPS"
    )
    for s in series:
        click.echo(
            f"{s.exchange:10} {s.symbol:16} {s.timeframe:4} {s.rows:>9}  "
            f"{_when(s.first):16}  {_when(s.last):16}  "
            f"{s.missing} missing in {len(s.gaps)}"
        )
