"""Prometheus metrics of one API app, in a registry of its own (not the global one, so tests
and benchmarks can build several apps in one process).

Trading gauges (orders by status and venue, fills, open positions, bot states) are read from
storage at scrape time, so they are right whichever process trades. Exchange latency and
errors are counters and histograms the host increments through :meth:`ApiMetrics.exchange_call`
and :meth:`ApiMetrics.exchange_error`.
"""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from ..storage import Database
from ..storage.models import AccountRow, BotRow, BotStatus, FillRow, OrderRow, PositionRow

__all__ = ["CONTENT_TYPE", "ApiMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.api_request_seconds = Histogram(
            "tbhost_api_request_duration_seconds",
            "Time to answer an API request.",
            ["method", "path", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.exchange_request_seconds = Histogram(
            "tbhost_exchange_request_duration_seconds",
            "Time an exchange took to answer a call.",
            ["exchange", "operation"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.exchange_errors = Counter(
            "tbhost_exchange_errors",
            "Exchange calls that failed, by kind of failure.",
            ["exchange", "kind"],
            registry=r,
        )
        self.orders = Gauge(
            "tbhost_orders", "Stored orders by status and venue.", ["status", "venue"], registry=r
        )
        self.fills = Gauge("tbhost_fills", "Stored fills by venue.", ["venue"], registry=r)
        self.open_positions = Gauge(
            "tbhost_open_positions", "Positions not flat, by venue.", ["venue"], registry=r
        )
        self.bots = Gauge("tbhost_bots", "Live (not deleted) bots by state.", ["state"], registry=r)

    def exchange_call(self, exchange: str, operation: str, seconds: float) -> None:
        self.exchange_request_seconds.labels(exchange, operation).observe(seconds)

    def exchange_error(self, exchange: str, kind: str) -> None:
        self.exchange_errors.labels(exchange, kind).inc()

    async def refresh(self, db: Database) -> None:
        """Read the trading gauges from storage (one short transaction)."""
        async with db.transaction() as s:
            orders = (
                await s.execute(
                    select(OrderRow.status, AccountRow.exchange, func.count())
                    .select_from(OrderRow)
                    .join(AccountRow, AccountRow.id == OrderRow.account_id)
                    .group_by(OrderRow.status, AccountRow.exchange)
                )
            ).all()
            fills = (
                await s.execute(
                    select(AccountRow.exchange, func.count())
                    .select_from(FillRow)
                    .join(AccountRow, AccountRow.id == FillRow.account_id)
                    .group_by(AccountRow.exchange)
                )
            ).all()
            # Sizes are exact text on SQLite: "not flat" is decided in Python.
            positions = (
                await s.execute(
                    select(AccountRow.exchange, PositionRow.size)
                    .select_from(PositionRow)
                    .join(AccountRow, AccountRow.id == PositionRow.account_id)
                )
            ).all()
            states = (
                await s.execute(
                    select(BotRow.state, func.count())
                    .where(BotRow.deleted_at.is_(None))
                    .group_by(BotRow.state)
                )
            ).all()
        self.orders.clear()
        for status, venue, count in orders:
            self.orders.labels(str(status), venue).set(count)
        self.fills.clear()
        for venue, count in fills:
            self.fills.labels(venue).set(count)
        self.open_positions.clear()
        open_by_venue = Tally(venue for venue, size in positions if size != 0)
        for venue in {venue for venue, _ in positions}:
            self.open_positions.labels(venue).set(open_by_venue[venue])
        by_state = dict(states)
        for state in BotStatus:
            self.bots.labels(state.value).set(by_state.get(state, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
