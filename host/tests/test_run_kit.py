"""What the ``tbhost run`` tests share (no tests here): settings on a temporary data directory
and a database, a paper account, bots created and started through ``BotService`` by the
system actor, and the backtest of the same candles to compare with."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import SecretStr
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from tb_exchange_paper import PaperConfig, PaperExchange
from tb_strategy_example import RsiReversal
from tbhost.candles import CandleStore
from tbhost.engine.backtest import run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbhost.live import DurableVenue, venue_dir
from tbhost.services import SYSTEM, AccountService, Bot, BotService
from tbhost.settings import Settings
from tbhost.storage import Database, generate_key
from tbhost.storage.repos import portfolio
from tbsdk import Strategy, StrategyContext
from tbsdk.errors import ConfigError
from tbsdk.ids import bot_key
from tbsdk.model import CandleClosed, OrderIntent, OrderSide, OrderType, Trade

SWAP = "BTC/USDT:USDT"
GONE = "a_strategy_since_uninstalled"
START = "2023-01-01"
END = "2023-04-01"  # 2160 hourly candles


def ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)


def lookup(name: str) -> type[Strategy[Any]]:
    """Strategies as the services saw them when the bots were created: ``GONE`` existed then."""
    if name in ("rsi_reversal", GONE, "faults_late", "holds", "looks_around"):
        return RsiReversal
    raise ConfigError(f"no strategies plugin named {name!r}")


def settings_for(data_dir: Path, url: URL | str) -> Settings:
    text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    return Settings(data_dir=data_dir, database_url=text)


async def running_bot(
    db: Database,
    name: str,
    *,
    strategy: str = "rsi_reversal",
    symbol: str = SWAP,
    account_id: str | None = None,
) -> tuple[Bot, str]:
    """A bot created and started through the services by the system actor; returns the bot
    and its account id (a new paper account unless one is given)."""
    if account_id is None:
        accounts = AccountService(db, SecretStr(generate_key()))
        account_id = (await accounts.add(SYSTEM, "paper", f"acct-{name}")).id
    service = BotService(db, lookup)
    bot = await service.create(SYSTEM, name, strategy, account_id, [symbol], "1h", {})
    return await service.start(SYSTEM, bot.id), account_id


def backtest_trades(data_dir: Path) -> list[Trade]:
    """The trades of a backtest of rsi_reversal on the swap over the replay window."""
    candles = CandleStore(data_dir / "candles").read(
        "binance", "BTC/USDT", "1h", ms(START), ms(END)
    )
    instrument = backtest_instrument("paper", SWAP)
    exchange = PaperExchange(
        PaperConfig(instruments=(instrument,), balances={"USDT": Decimal(10_000)})
    )
    strategy = RsiReversal.from_settings({"symbol": SWAP, "timeframe": "1h"})
    result = asyncio.run(run_backtest(strategy, exchange, instrument, candles, "1h"))
    return result.trades


def venue(data_dir: Path, bot_id: str, symbol: str = SWAP) -> DurableVenue:
    """The bot's paper venue loaded from its files, as a restarted host loads it."""
    instrument = backtest_instrument("paper", symbol)
    exchange = PaperExchange(PaperConfig(instruments=(instrument,)))
    durable = DurableVenue(exchange, venue_dir(data_dir, bot_id))
    assert durable.exists
    durable.load()
    return durable


async def stored_trades(db: Database, bot_id: str) -> list[Trade]:
    """The bot's round trips as the host stored them, oldest first."""
    async with db.transaction() as s:
        rows = await portfolio.list_trades(s, bot_id=bot_id, limit=1000)
    return [portfolio.to_trade(r) for r in rows]


def venue_trades(data_dir: Path, bot_id: str) -> list[Trade]:
    """The trades the bot's paper venue holds, as a restarted venue sees them."""
    return venue(data_dir, bot_id).trades()


class Holds(RsiReversal):
    """Buys ``qty`` at market at the first candle and rests one sell far from the price, a
    limit above (``x<key>far``) or a stop below (``x<key>stop``, by ``rest``), then does
    nothing."""

    qty: ClassVar[Decimal] = Decimal("0.01")
    rest: ClassVar[Literal["limit", "stop"]] = "limit"

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        key = bot_key(ctx.bot.account_id, ctx.bot.bot_id)
        if ctx.order(f"x{key}hold") is not None:
            return
        buy = OrderIntent(
            client_order_id=f"x{key}hold",
            symbol=event.symbol,
            side=OrderSide.BUY,
            type=OrderType.MARKET,
            qty=self.qty,
        )
        ctx.submit(buy)
        far: dict[str, Any] = (
            {"type": OrderType.STOP_MARKET, "trigger_price": Decimal(1000), "reduce_only": True}
            if self.rest == "stop"
            else {"type": OrderType.LIMIT, "price": Decimal(100_000)}
        )
        name = "stop" if self.rest == "stop" else "far"
        ctx.submit(
            OrderIntent(
                client_order_id=f"x{key}{name}",
                symbol=event.symbol,
                side=OrderSide.SELL,
                qty=self.qty,
                **far,
            )
        )


T = TypeVar("T")


async def locked_retry(call: Callable[[], Awaitable[T]]) -> T:
    """A service call made while the host writes. On SQLite the services' transactions begin
    deferred: one that read before the host committed is refused ("database is locked", at
    once, whatever the busy timeout) when it then writes; the caller retries."""
    for _ in range(50):
        try:
            return await call()
        except OperationalError as exc:
            if "database is locked" not in str(exc):
                raise
            await asyncio.sleep(0.02)
    return await call()
