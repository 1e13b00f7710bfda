"""Types of what changes over time: order transitions, bot state changes, notifications and
backtest jobs (the subscriptions deliver these)."""

from __future__ import annotations

import math
from decimal import Decimal

import strawberry

from tbsdk.model import OrderStatus

from .jobs import JobSnapshot, JobStatus
from .scalars import JSON, Long
from .types import Order

strawberry.enum(JobStatus, name="BacktestJobStatus")


@strawberry.type(description="One status transition of an order, and the order after it.")
class OrderUpdate:
    event_id: Long = strawberry.field(description="Increases with every transition stored.")
    seq: int = strawberry.field(description="The transition's number within its order, from 1.")
    from_status: OrderStatus | None
    to_status: OrderStatus
    filled_qty: Decimal = strawberry.field(description="Filled quantity after the transition.")
    reason: str | None
    at: Long
    order: Order = strawberry.field(description="The order as stored now.")


@strawberry.type(description="A bot's state changed (by a command or by the host).")
class BotStateChange:
    audit_id: Long
    bot_id: str
    name: str | None
    action: str = strawberry.field(description="The audit verb, e.g. bot.start, bot.fault.")
    from_state: str | None
    to_state: str | None
    reason: str | None
    actor: str
    at: Long


@strawberry.type(description="A notification for operators.")
class Notification:
    id: Long
    bot_id: str | None
    kind: str
    message: str
    data: JSON
    created_at: Long


@strawberry.type(description="Settings of a backtest job as requested.")
class BacktestParams:
    strategy: str
    symbol: str
    timeframe: str
    data_exchange: str
    start: Long | None
    end: Long | None
    settings: JSON
    balance: Decimal


@strawberry.type(description="Headline metrics of a finished backtest (all of them in `metrics`).")
class BacktestSummary:
    net_pnl: Decimal
    return_pct: float
    start_equity: Decimal
    end_equity: Decimal
    max_drawdown_pct: float
    sharpe: float | None
    trades: int
    wins: int
    losses: int
    win_rate_pct: float | None
    profit_factor: float | None
    fees: Decimal
    candles: int
    start: str
    end: str
    state: str
    fault: str | None
    metrics: JSON = strawberry.field(description="Every metric of the report, Decimals as text.")


@strawberry.type(description="A backtest the API runs in the background.")
class BacktestJob:
    id: str
    status: JobStatus
    requested_by: str
    params: BacktestParams
    created_at: Long
    started_at: Long | None
    finished_at: Long | None
    candles_total: int | None
    candles_done: int
    progress: float = strawberry.field(description="0 to 1.")
    error: str | None
    summary: BacktestSummary | None

    @classmethod
    def of(cls, job: JobSnapshot) -> BacktestJob:
        r = job.request
        total = job.candles_total
        if job.status is JobStatus.SUCCEEDED:
            progress = 1.0
        elif total:
            progress = min(1.0, job.candles_done / total)
        else:
            progress = 0.0
        return cls(
            id=job.id,
            status=job.status,
            requested_by=job.requested_by,
            params=BacktestParams(
                strategy=r.strategy,
                symbol=r.symbol,
                timeframe=r.timeframe,
                data_exchange=r.data_exchange,
                start=None if r.start is None else Long(r.start),
                end=None if r.end is None else Long(r.end),
                settings=JSON(r.settings),
                balance=r.balance,
            ),
            created_at=Long(job.created_at),
            started_at=None if job.started_at is None else Long(job.started_at),
            finished_at=None if job.finished_at is None else Long(job.finished_at),
            candles_total=total,
            candles_done=job.candles_done,
            progress=progress,
            error=job.error,
            summary=None if job.summary is None else _summary(job.summary),
        )


def _summary(m: dict[str, object]) -> BacktestSummary:
    def dec(key: str) -> Decimal:
        return Decimal(str(m[key]))

    def opt(key: str) -> float | None:
        # JSON has no NaN or infinity: an undefined ratio is null.
        value = m.get(key)
        number = None if value is None else float(str(value))
        return number if number is not None and math.isfinite(number) else None

    return BacktestSummary(
        net_pnl=dec("net_pnl"),
        return_pct=opt("return_pct") or 0.0,
        start_equity=dec("start_equity"),
        end_equity=dec("end_equity"),
        max_drawdown_pct=opt("max_drawdown_pct") or 0.0,
        sharpe=opt("sharpe"),
        trades=int(str(m["trades"])),
        wins=int(str(m["wins"])),
        losses=int(str(m["losses"])),
        win_rate_pct=opt("win_rate_pct"),
        profit_factor=opt("profit_factor"),
        fees=dec("fees"),
        candles=int(str(m["candles"])),
        start=str(m["start"]),
        end=str(m["end"]),
        state=str(m["state"]),
        fault=None if m.get("fault") is None else str(m["fault"]),
        metrics=JSON(m),
    )
