"""``tbhost run`` killed with SIGKILL 25 times and restarted each time: nothing lost, nothing
doubled, strategy state continuous.

Three paper bots (rsi_reversal, HYPERRSI and a 30-level GRID) replay the bundled 1-minute
candles as fast as they can. Ten kills land exactly where a random kill rarely would, through
the host's fail points (an intent stored but not sent; an order accepted by the venue but not
recorded; a candle matched by the venue but its fills unseen; an answer recorded; a checkpoint
committed); fifteen land at random moments. After the last restart runs to the end:

* each bot's venue holds exactly the orders and trades of an uninterrupted run of the same
  bots (so no order was lost or sent twice, and each strategy carried on as if never stopped);
* the host's database holds exactly the venue's orders (same client ids, statuses and filled
  quantities), one fill per venue fill adding up to each order's filled quantity, and the
  venue's positions.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from tb_exchange_paper import PaperConfig, PaperExchange
from tbhost.engine.instruments import backtest_instrument
from tbhost.live import DurableVenue, venue_dir
from tbhost.plugins import PluginHost
from tbhost.services import SYSTEM, AccountService, BotService
from tbhost.storage import Database, generate_key
from tbhost.storage.models import FillRow, OrderRow
from tbhost.storage.repos import orders as order_repo
from tbhost.storage.repos import portfolio
from tbsdk.ids import bot_key

pytestmark = pytest.mark.slow

WINDOW = ("--from", "2024-04-03", "--to", "2024-04-05")  # 2,880 one-minute candles
BOTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("rsi", "rsi_reversal", "BTC/USDT:USDT", {}),
    ("hyper", "hyperrsi", "BTC/USDT:USDT", {}),
    (
        "grid",
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
]
FAILPOINTS = [
    "orders.stored",
    "orders.stored",
    "orders.stored",
    "venue.accepted",
    "venue.accepted",
    "venue.accepted",
    "venue.candle",
    "venue.candle",
    "orders.recorded",
    "state.saved",
]
RANDOM_KILLS = 15


def _db(data: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{data / 'tbhost.db'}")


def _prepare(data: Path) -> dict[str, tuple[str, str]]:
    """A migrated database with the three bots, each on its own paper account, running; their
    (bot id, account id) by name."""

    async def go() -> dict[str, tuple[str, str]]:
        async with _db(data) as db:
            await db.upgrade()
            plugins = PluginHost.discover()
            accounts = AccountService(db, SecretStr(generate_key()))
            service = BotService(db, plugins.strategy_class)
            ids = {}
            for name, strategy, symbol, settings in BOTS:
                account = await accounts.add(SYSTEM, "paper", f"acct-{name}")
                bot = await service.create(
                    SYSTEM, name, strategy, account.id, [symbol], "1m", settings
                )
                ids[name] = ((await service.start(SYSTEM, bot.id)).id, account.id)
            return ids

    return asyncio.run(go())


def _command(data: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tbhost",
        "--data-dir",
        str(data),
        "--log-level",
        "WARNING",
        "run",
        "--once",
        "--speed",
        "inf",
        *WINDOW,
    ]


def _env(failpoints: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TBHOST_CONFIG", "TBHOST_FAILPOINTS")}
    if failpoints:
        env["TBHOST_FAILPOINTS"] = failpoints
    return env


def _run_to_end(data: Path) -> None:
    done = subprocess.run(_command(data), env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "finished at candle 2880 of 2880" in done.stdout, done.stdout


def _killed_at_failpoint(data: Path, name: str, hit: int) -> bool:
    """Run until the fail point kills the host; False if the run ended first."""
    done = subprocess.run(
        _command(data), env=_env(f"{name}={hit}"), capture_output=True, text=True, timeout=600
    )
    if done.returncode == -signal.SIGKILL:
        return True
    assert done.returncode == 0, done.stderr[-3000:]
    return False


def _killed_at_random(data: Path, after_s: float) -> bool:
    proc = subprocess.Popen(
        _command(data), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _, err = proc.communicate(timeout=after_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return True
    assert proc.returncode == 0, err[-3000:]
    return False


def _venue(data: Path, bot_id: str, symbol: str) -> DurableVenue:
    exchange = PaperExchange(PaperConfig(instruments=(backtest_instrument("paper", symbol),)))
    venue = DurableVenue(exchange, venue_dir(data, bot_id))
    venue.load()
    return venue


def _venue_record(data: Path, bot: tuple[str, str], symbol: str) -> dict[str, Any]:
    """The venue's orders (client id with the bot's key as ``*``: status, filled), trades
    and number of fills."""
    venue = _venue(data, bot[0], symbol)
    state = venue.save_state()
    key = bot_key(bot[1], bot[0])
    orders = {
        o["intent"]["client_order_id"].replace(key, "*"): (o["status"], Decimal(o["filled_qty"]))
        for o in state["orders"]
    }
    return {"orders": orders, "trades": venue.trades(), "fills": state["fills"]}


def _stored_record(data: Path, bot: tuple[str, str]) -> dict[str, Any]:
    bot_id, key = bot[0], bot_key(bot[1], bot[0])

    async def go() -> dict[str, Any]:
        async with _db(data) as db, db.transaction() as s:
            rows = list(await s.scalars(select(OrderRow).where(OrderRow.bot_id == bot_id)))
            fills = list(await s.scalars(select(FillRow).where(FillRow.bot_id == bot_id)))
            positions = await portfolio.list_positions(s, bot_id=bot_id)
            trades = await portfolio.list_trades(s, bot_id=bot_id, limit=1000)
            return {
                "orders": {
                    r.client_order_id.replace(key, "*"): (str(r.status), r.filled_qty) for r in rows
                },
                "fills": [order_repo.to_fill(f) for f in fills],
                "positions": [portfolio.to_position(p) for p in positions],
                "trades": [portfolio.to_trade(t) for t in trades],
            }

    return asyncio.run(go())


def test_25_kills_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    ref_ids = _prepare(reference)
    ids = _prepare(crashed)
    _run_to_end(reference)

    rng = random.Random(20261124)
    plan: list[tuple[str, Any]] = [("failpoint", name) for name in FAILPOINTS]
    plan += [("random", None)] * RANDOM_KILLS
    rng.shuffle(plan)
    kills: list[str] = []
    started = time.monotonic()
    for kind, name in plan:
        if kind == "failpoint":
            hit = rng.randint(1, 25)
            if _killed_at_failpoint(crashed, name, hit):
                kills.append(f"{name}#{hit}")
        elif _killed_at_random(crashed, rng.uniform(1.5, 4.0)):
            kills.append("random")
    assert len(kills) == 25, f"only {len(kills)} kills landed before the replay ended: {kills}"
    _run_to_end(crashed)
    assert time.monotonic() - started < 900

    for name, _strategy, symbol, _settings in BOTS:
        expected = _venue_record(reference, ref_ids[name], symbol)
        venue = _venue_record(crashed, ids[name], symbol)
        assert venue["orders"] == expected["orders"], name  # none lost, none doubled
        assert venue["trades"] == expected["trades"], name  # the strategy carried on exactly
        assert venue["fills"] == expected["fills"], name
        assert len(expected["orders"]) > 10, name

        stored = _stored_record(crashed, ids[name])
        assert stored["orders"] == venue["orders"], name
        assert stored["trades"] == venue["trades"], name  # each round trip stored once
        assert len(stored["fills"]) == venue["fills"], name
        assert len({f.trade_id for f in stored["fills"]}) == len(stored["fills"]), name
        filled: dict[str, Decimal] = {}
        for fill in stored["fills"]:
            cid = fill.client_order_id.replace(bot_key(ids[name][1], ids[name][0]), "*")
            filled[cid] = filled.get(cid, Decimal(0)) + fill.qty
        for cid, (_status, qty) in venue["orders"].items():
            assert filled.get(cid, Decimal(0)) == qty, (name, cid)

        held = asyncio.run(_venue(crashed, ids[name][0], symbol).fetch_positions())
        open_stored = [p for p in stored["positions"] if not p.is_flat]
        assert {(p.symbol, p.position_side, p.signed_size) for p in open_stored} == {
            (p.symbol, p.position_side, p.signed_size) for p in held
        }, name
