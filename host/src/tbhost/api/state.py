"""``ApiServices``: everything the API's resolvers and routes share, built once per app."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..plugins import PluginHost
from ..services import AccountService, AuditService, BotService, QueryService, UserService
from ..settings import Settings
from ..storage import Database
from .auth import TokenCache
from .jobs import BacktestJobs
from .limits import RateLimiter
from .metrics import ApiMetrics
from .sqlite_reads import SqliteReads

__all__ = ["ApiServices"]


@dataclass
class ApiServices:
    settings: Settings
    db: Database
    plugins: PluginHost
    bots: BotService
    accounts: AccountService
    users: UserService
    queries: QueryService
    audit: AuditService
    jobs: BacktestJobs
    limiter: RateLimiter
    tokens: TokenCache
    metrics: ApiMetrics = field(default_factory=ApiMetrics)
    sqlite_reads: SqliteReads | None = None

    @classmethod
    def build(cls, settings: Settings, db: Database, plugins: PluginHost) -> ApiServices:
        users = UserService(db)
        sqlite_reads = SqliteReads.for_database(db)
        return cls(
            settings=settings,
            db=db,
            plugins=plugins,
            bots=BotService(db, plugins.strategy_class),
            accounts=AccountService(db, settings.secrets_key),
            users=users,
            queries=QueryService(db, sqlite_reads),
            audit=AuditService(db),
            jobs=BacktestJobs(settings.api_backtest_workers),
            limiter=RateLimiter(settings.api_rate_limit_per_minute),
            tokens=TokenCache(users, settings.api_token_cache_s),
            sqlite_reads=sqlite_reads,
        )

    def close(self) -> None:
        """Stop what the services run in the background: backtest jobs, reader threads."""
        self.jobs.shutdown()
        if self.sqlite_reads is not None:
            self.sqlite_reads.close()
