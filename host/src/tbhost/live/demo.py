"""``tbhost run --demo``: the host on embedded defaults with nothing to set up.

A demo database of its own (SQLite under ``DATA_DIR/demo``, rebuilt on every demo run so the
demo is the same each time and never touches the user's own bots), one paper account with
10,000 USDT, and two bots on the bundled real Binance BTC/USDT one-minute candles (2024-04-02
to 2024-04-07): HYPERRSI with its default settings on the BTC/USDT:USDT swap, and a 30-level
arithmetic GRID between 64,000 and 70,000 on the spot pair. The host then runs them exactly as
``tbhost run`` runs any bot (order manager, durable paper venues, checkpoints), and the
strategies' notifications are logged as they happen.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from ..services import SYSTEM, AccountService, BotService
from ..storage import Database, generate_key

if TYPE_CHECKING:
    from ..plugins import PluginHost
    from ..settings import Settings
    from .host import BotOutcome

__all__ = ["DEMO_BOTS", "DemoBot", "demo_settings", "prepare_demo", "summary_rows"]

log = logging.getLogger("tbhost.demo")


@dataclass(frozen=True)
class DemoBot:
    name: str
    strategy: str
    symbol: str
    settings: dict[str, Any]


DEMO_BOTS = (
    DemoBot("hyperrsi-btc-swap", "hyperrsi", "BTC/USDT:USDT", {}),
    DemoBot(
        "grid-btc-spot",
        "grid",
        "BTC/USDT",
        {
            "mode": "arithmetic",
            "lower_price": "64000",
            "upper_price": "70000",
            "grid_count": 30,
            "investment": "5000",
        },
    ),
)
TIMEFRAME = "1m"
BALANCE = Decimal(10_000)


def demo_settings(settings: Settings) -> Settings:
    """The user's settings with the demo's own data directory and SQLite database."""
    return settings.model_copy(
        update={
            "data_dir": settings.data_dir / "demo",
            "database_url": None,
            "database_auto_upgrade": True,
        }
    )


async def prepare_demo(settings: Settings, plugins: PluginHost) -> list[str]:
    """Rebuild the demo's data directory: database, account and running bots; their ids."""
    folder = settings.data_dir
    for part in ("tbhost.db", "tbhost.db-wal", "tbhost.db-shm", "paper"):
        path = folder / part
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    db = Database.from_settings(settings)
    try:
        await db.upgrade()
        accounts = AccountService(db, SecretStr(generate_key()))
        account = await accounts.add(
            SYSTEM, "paper", "demo", options={"balances": {"USDT": str(BALANCE)}}
        )
        bots = BotService(db, plugins.strategy_class)
        ids = []
        for spec in DEMO_BOTS:
            bot = await bots.create(
                SYSTEM,
                spec.name,
                spec.strategy,
                account.id,
                [spec.symbol],
                TIMEFRAME,
                spec.settings,
            )
            ids.append((await bots.start(SYSTEM, bot.id)).id)
            log.info("demo bot %s: %s on %s %s", spec.name, spec.strategy, spec.symbol, TIMEFRAME)
        return ids
    finally:
        await db.dispose()


def summary_rows(outcomes: dict[str, BotOutcome]) -> list[tuple[str, ...]]:
    """One row per bot: name, status, candles, orders, fills, closed round trips, fees paid
    and the change of its account's equity (marked to the last price), in USDT."""
    rows = []
    for outcome in outcomes.values():
        venue = outcome.venue
        if venue is None:
            rows.append((outcome.name, f"{outcome.status}: {outcome.fault}", *["-"] * 6))
            continue
        state = venue.save_state()
        fees = sum((Decimal(v) for v in state.get("fees_paid", {}).values()), Decimal(0))
        change = venue.equity("USDT") - BALANCE
        rows.append(
            (
                outcome.name,
                outcome.status if not outcome.fault else f"{outcome.status}: {outcome.fault}",
                f"{outcome.next_index}/{outcome.candles}",
                str(len(state.get("orders", []))),
                str(state.get("fills", 0)),
                str(len(venue.trades())),
                f"{fees:.2f}",
                f"{change:+.2f}",
            )
        )
    return rows
