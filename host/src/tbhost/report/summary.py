"""The numbers a trader reads first after a backtest."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from ..engine.backtest import BacktestResult


@dataclass(frozen=True)
class Summary:
    strategy: str
    symbol: str
    timeframe: str
    start: str
    end: str
    candles: int
    start_equity: Decimal
    end_equity: Decimal
    net_pnl: Decimal
    return_pct: float
    buy_and_hold_pct: float
    max_drawdown_pct: float
    trades: int
    wins: int
    win_rate_pct: float
    profit_factor: float | None
    fees: Decimal
    best_trade: Decimal | None
    worst_trade: Decimal | None
    state: str
    fault: str | None

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}

    def to_text(self) -> str:
        money = self.start_equity.as_tuple().exponent
        places = max(2, -money if isinstance(money, int) else 2)

        def m(v: Decimal | None) -> str:
            return "-" if v is None else f"{v:,.{places}f}"

        pf = "-" if self.profit_factor is None else f"{self.profit_factor:.2f}"
        rows = [
            ("Strategy", f"{self.strategy} on {self.symbol} {self.timeframe}"),
            ("Period", f"{self.start} -> {self.end} ({self.candles:,} candles)"),
            ("Equity", f"{m(self.start_equity)} -> {m(self.end_equity)}"),
            ("Net PnL", f"{m(self.net_pnl)} ({self.return_pct:+.2f} %)"),
            ("Buy and hold", f"{self.buy_and_hold_pct:+.2f} %"),
            ("Max drawdown", f"{self.max_drawdown_pct:.2f} %"),
            ("Trades", f"{self.trades} ({self.wins} won, {self.win_rate_pct:.1f} %)"),
            ("Profit factor", pf),
            ("Fees paid", m(self.fees)),
            ("Best / worst", f"{m(self.best_trade)} / {m(self.worst_trade)}"),
            ("Bot state", self.state + (f": {self.fault}" if self.fault else "")),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def summarize(result: BacktestResult) -> Summary:
    equity = result.equity
    peak = np.maximum.accumulate(equity)
    drawdown = float(((peak - equity) / peak).max() * 100) if len(equity) else 0.0
    pnls = [t.pnl for t in result.trades]
    gains = sum((p for p in pnls if p > 0), Decimal(0))
    losses = -sum((p for p in pnls if p < 0), Decimal(0))
    close = result.candles.close
    net = result.end_equity - result.start_equity
    return Summary(
        strategy=result.bot.strategy,
        symbol=result.instrument.symbol,
        timeframe=result.bot.timeframe,
        start=_when(int(result.candles.ts[0])),
        end=_when(int(result.candles.ts[-1])),
        candles=len(result.candles),
        start_equity=result.start_equity,
        end_equity=result.end_equity,
        net_pnl=net,
        return_pct=float(net / result.start_equity * 100) if result.start_equity else 0.0,
        buy_and_hold_pct=float((close[-1] / close[0] - 1) * 100),
        max_drawdown_pct=drawdown,
        trades=len(pnls),
        wins=sum(p > 0 for p in pnls),
        win_rate_pct=100 * sum(p > 0 for p in pnls) / len(pnls) if pnls else 0.0,
        profit_factor=float(gains / losses) if losses else None,
        fees=sum((t.fees for t in result.trades), Decimal(0)),
        best_trade=max(pnls) if pnls else None,
        worst_trade=min(pnls) if pnls else None,
        state=str(result.state),
        fault=result.fault,
    )
