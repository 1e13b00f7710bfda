"""The numbers a trader reads first after a backtest; formulas are in :mod:`.metrics`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from tbsdk.model import Instrument, OrderStatus, Position
from tbsdk.timeframes import timeframe_ms

from ..engine.backtest import BacktestResult
from . import metrics

__all__ = ["OpenPosition", "Summary", "equity_curve", "summarize"]


@dataclass(frozen=True)
class OpenPosition:
    """A position still open when the backtest ended, marked at the last close: its round
    trip is not among the trades."""

    symbol: str
    direction: str
    position_side: str
    size: Decimal
    entry_price: Decimal | None
    """Exact average entry price."""
    entry_shown: str
    """The entry price on the instrument's tick, for people."""
    unrealized_pnl: Decimal

    def text(self, money: Callable[[Decimal], str]) -> str:
        entry = f" from {self.entry_shown}" if self.entry_shown else ""
        book = "" if self.position_side == "net" else f" ({self.position_side} side)"
        return (
            f"{self.direction} {self.size} {self.symbol}{book}{entry}, "
            f"unrealised {money(self.unrealized_pnl)}"
        )


@dataclass(frozen=True)
class Summary:
    """Headline metrics of one backtest. Money is an exact Decimal where it comes from trades
    or the venue's balances, a float where it comes from the float equity curve."""

    strategy: str
    symbol: str
    timeframe: str
    start: str
    end: str
    candles: int
    period_days: float
    start_equity: Decimal
    end_equity: Decimal
    net_pnl: Decimal
    return_pct: float
    cagr_pct: float | None
    buy_and_hold_pct: float
    max_drawdown: float
    max_drawdown_pct: float
    max_drawdown_days: float
    max_drawdown_candles: int
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    exposure_pct: float
    trades: int
    wins: int
    losses: int
    win_rate_pct: float | None
    profit_factor: float | None
    expectancy: Decimal | None
    expectancy_r: float | None
    avg_win: Decimal | None
    avg_loss: Decimal | None
    avg_holding_hours: float | None
    fees: Decimal
    """Every fee paid, open positions' included (a round trip's own are in the trade list)."""
    best_trade: Decimal | None
    worst_trade: Decimal | None
    orders: int
    rejected_orders: int
    fills: int
    open_positions: tuple[OpenPosition, ...]
    strategy_report: dict[str, str]
    """The strategy's own results (``Strategy.report``), label -> text."""
    state: str
    fault: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: Decimals as exact strings, undefined ratios as ``None``."""
        return {k: _jsonable(v) for k, v in asdict(self).items()}

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs, formatted for people; the text and HTML reports show these."""
        money = self.start_equity.as_tuple().exponent
        places = max(2, -money if isinstance(money, int) else 2)

        def m(v: Decimal | float | None) -> str:
            return "-" if v is None else f"{v:,.{places}f}"

        def signed(v: Decimal) -> str:
            return f"{v:+,.{places}f}"

        def f(v: float | None, spec: str = ".2f", unit: str = "") -> str:
            return "-" if v is None else f"{v:{spec}}{unit}"

        r = "-" if self.expectancy_r is None else f"{self.expectancy_r:+.2f} R"
        why = "; `tbhost --log-level DEBUG` logs why" if self.rejected_orders else ""
        return [
            ("Strategy", f"{self.strategy} on {self.symbol} {self.timeframe}"),
            ("Period", f"{self.start} -> {self.end} ({self.candles:,} candles)"),
            ("Equity", f"{m(self.start_equity)} -> {m(self.end_equity)}"),
            ("Net profit", f"{m(self.net_pnl)} ({self.return_pct:+.2f} %)"),
            ("CAGR", f(self.cagr_pct, "+.2f", " %")),
            ("Buy and hold", f"{self.buy_and_hold_pct:+.2f} %"),
            ("Max drawdown", f"{m(self.max_drawdown)} ({self.max_drawdown_pct:.2f} %)"),
            (
                "Max DD duration",
                f"{self.max_drawdown_days:.1f} days ({self.max_drawdown_candles:,} candles)",
            ),
            ("Sharpe", f(self.sharpe)),
            ("Sortino", f(self.sortino)),
            ("Calmar", f(self.calmar)),
            ("Exposure", f"{self.exposure_pct:.1f} %"),
            ("Trades", f"{self.trades} ({self.wins} won, {self.losses} lost)"),
            ("Win rate", f(self.win_rate_pct, ".1f", " %")),
            ("Profit factor", f(self.profit_factor)),
            ("Expectancy", f"{m(self.expectancy)} / trade ({r})"),
            ("Avg win / loss", f"{m(self.avg_win)} / {m(self.avg_loss)}"),
            ("Avg holding", f(self.avg_holding_hours, ".1f", " h")),
            ("Fees paid", m(self.fees)),
            ("Best / worst", f"{m(self.best_trade)} / {m(self.worst_trade)}"),
            ("Orders", f"{self.orders:,} ({self.rejected_orders:,} rejected{why})"),
            ("Fills", f"{self.fills:,}"),
            # Grids and other strategies that hold a position close few round trips: what is
            # still open shows what the trade statistics leave out.
            (
                "Open at end",
                "; ".join(p.text(signed) for p in self.open_positions) or "nothing",
            ),
            *self.strategy_report.items(),
            ("Bot state", self.state + (f": {self.fault}" if self.fault else "")),
        ]

    def to_text(self) -> str:
        """An aligned two-column table."""
        rows = self.rows()
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def decimal_text(value: Decimal) -> str:
    """``value`` exactly, in fixed-point notation (never ``1E+1``)."""
    return format(value, "f")


def _open(position: Position, last_close: Decimal, instrument: Instrument) -> OpenPosition:
    entry = position.entry_price
    return OpenPosition(
        symbol=position.symbol,
        direction=str(position.direction),
        position_side=str(position.position_side),
        size=position.size,
        entry_price=entry,
        entry_shown="" if entry is None else str(entry.quantize(instrument.tick(entry))),
        unrealized_pnl=position.pnl_at(last_close),
    )


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def equity_curve(
    result: BacktestResult,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(times in ms, equity): the start equity at the first open, then each candle's close."""
    tf = timeframe_ms(result.bot.timeframe)
    ts = result.candles.ts.astype(np.int64)
    times = np.concatenate(([ts[0]], ts + tf)).astype(np.int64)
    values = np.concatenate(([float(result.start_equity)], result.equity)).astype(np.float64)
    return times, values


def summarize(result: BacktestResult) -> Summary:
    """Compute every metric of ``result`` (which has at least one candle)."""
    tf = timeframe_ms(result.bot.timeframe)
    times, values = equity_curve(result)
    span = int(times[-1] - times[0])
    per_year = metrics.periods_per_year(tf)
    r = metrics.returns(values)
    dd = metrics.max_drawdown(times, values)
    stats = metrics.trade_stats(result.trades)
    net = result.end_equity - result.start_equity
    cagr = metrics.cagr_pct(result.start_equity, result.end_equity, span)
    candles = result.candles
    last_close = Decimal(repr(float(candles.close[-1])))
    return Summary(
        strategy=result.bot.strategy,
        symbol=result.instrument.symbol,
        timeframe=result.bot.timeframe,
        start=_when(int(candles.ts[0])),
        end=_when(int(candles.ts[-1])),
        candles=len(candles),
        period_days=span / metrics.DAY_MS,
        start_equity=result.start_equity,
        end_equity=result.end_equity,
        net_pnl=net,
        return_pct=float(net / result.start_equity * 100) if result.start_equity else 0.0,
        cagr_pct=cagr,
        # Bought at the first open, the moment the backtest's equity curve starts.
        buy_and_hold_pct=float((candles.close[-1] / candles.open[0] - 1) * 100),
        max_drawdown=dd.value,
        max_drawdown_pct=dd.pct,
        max_drawdown_days=dd.days,
        max_drawdown_candles=dd.candles,
        sharpe=metrics.sharpe(r, per_year),
        sortino=metrics.sortino(r, per_year),
        calmar=cagr / dd.pct if cagr is not None and dd.pct > 0 else None,
        exposure_pct=metrics.exposure_pct(result.held),
        trades=stats.trades,
        wins=stats.wins,
        losses=stats.losses,
        win_rate_pct=stats.win_rate_pct,
        profit_factor=stats.profit_factor,
        expectancy=stats.expectancy,
        expectancy_r=stats.expectancy_r,
        avg_win=stats.avg_win,
        avg_loss=stats.avg_loss,
        avg_holding_hours=stats.avg_holding_hours,
        fees=sum((f.fill.fee for f in result.fills), Decimal(0)),
        best_trade=stats.best,
        worst_trade=stats.worst,
        orders=len(result.orders),
        rejected_orders=sum(o.status is OrderStatus.REJECTED for o in result.orders),
        fills=len(result.fills),
        open_positions=tuple(
            _open(p, last_close, result.instrument) for p in result.open_positions
        ),
        strategy_report=dict(result.strategy_report),
        state=str(result.state),
        fault=result.fault,
    )
