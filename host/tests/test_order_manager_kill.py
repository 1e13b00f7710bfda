"""kill -9 of a real host process at the dangerous instants: after an intent is stored and
before it is sent, and after the venue accepted it but before the answer was stored. The paper
venue outlives the process (its state is saved after every order it accepts). After the kill,
a restarted process reconciles and submits the same deterministic intents again: every intent
ends on the venue exactly once and storage agrees with the venue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from tb_exchange_paper import PaperConfig, PaperExchange
from tbhost.orders import OrderManager
from tbhost.storage import Database
from tbhost.storage.repos import accounts, bots, orders
from tbsdk.model import Instrument, MarketType, OrderStatus

SYMBOL = "BTC/USDT:USDT"
N_ORDERS = 3

CHILD = textwrap.dedent(
    """
    import asyncio, json, os, signal, sys
    from decimal import Decimal as D
    from pathlib import Path

    from tb_exchange_paper import PaperConfig, PaperExchange
    from tbhost.orders import OrderManager
    from tbhost.storage import Database
    from tbsdk.model import Instrument, OrderIntent, OrderSide, OrderType

    args = json.loads(sys.argv[1])
    state = Path(args["state"])
    config = PaperConfig(instruments=(Instrument.model_validate(args["instrument"]),))


    class DurableVenue(PaperExchange):
        # The real paper venue; it survives the host because it saves every accepted order.
        sent = 0

        async def create_order(self, intent):
            self.sent += 1
            if args["kill"] == f"before-send-{self.sent}":
                os.kill(os.getpid(), signal.SIGKILL)
            order = await super().create_order(intent)
            tmp = state.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.save_state()))
            os.replace(tmp, state)
            if args["kill"] == f"after-send-{self.sent}":
                os.kill(os.getpid(), signal.SIGKILL)
            return order


    async def main():
        venue = DurableVenue(config)
        if state.exists():
            venue.restore_state(json.loads(state.read_text()))
        db = Database(args["url"])
        try:
            manager = OrderManager(db, venue, args["account"], args["bot"], args["prefix"])
            await manager.reconcile([args["symbol"]])
            for i in range(args["n"]):
                intent = OrderIntent(
                    client_order_id=f"{args['prefix']}{i:05d}ent00",
                    symbol=args["symbol"],
                    side=OrderSide.BUY,
                    type=OrderType.LIMIT,
                    qty=D(2),
                    price=D(100 - i),
                    tag="ent",
                )
                await manager.submit(intent)
        finally:
            await db.dispose()


    asyncio.run(main())
    """
)

SWAP = Instrument(
    exchange="paper",
    symbol=SYMBOL,
    base="BTC",
    quote="USDT",
    settle="USDT",
    type=MarketType.SWAP,
    contract_size=D("0.1"),
    tick_size=D("0.1"),
    lot_step=D(1),
    min_size=D(1),
)


def _run_host(args: dict[str, object], kill: str | None) -> int:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps({**args, "kill": kill})],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode not in (0, -signal.SIGKILL):
        pytest.fail(f"host process failed ({done.returncode}):\n{done.stderr}")
    return done.returncode


@pytest.mark.parametrize("kill", ["before-send-1", "before-send-2", "after-send-3"])
async def test_kill_9_loses_nothing_and_doubles_nothing(
    db: Database, db_url: URL, tmp_path: Path, kill: str
) -> None:
    async with db.transaction() as s:
        account = await accounts.create_account(s, exchange="paper", label="paper")
        bot = await bots.create_bot(
            s,
            name="k9",
            strategy="hyperrsi",
            account_id=account.id,
            symbols=[SYMBOL],
            timeframe="1h",
            config={},
        )
    prefix = "hk9"
    args: dict[str, object] = {
        "url": db_url.render_as_string(hide_password=False),
        "account": account.id,
        "bot": bot.id,
        "prefix": prefix,
        "symbol": SYMBOL,
        "n": N_ORDERS,
        "state": str(tmp_path / "venue.json"),
        "instrument": SWAP.model_dump(mode="json"),
    }

    assert _run_host(args, kill) == -signal.SIGKILL
    killed_at = int(kill.rsplit("-", 1)[1])
    async with db.transaction() as s:
        stored_after_kill = {r.client_order_id: r.status for r in await orders.list_orders(s)}
    # Stored before sent: the order being sent when the process died is stored, still `new`.
    assert len(stored_after_kill) == killed_at
    assert stored_after_kill[f"{prefix}{killed_at - 1:05d}ent00"] is OrderStatus.NEW

    assert _run_host(args, None) == 0  # the restart: reconcile, then the same intents again

    venue = PaperExchange(PaperConfig(instruments=(SWAP,)))
    venue.restore_state(json.loads((tmp_path / "venue.json").read_text()))
    on_venue = [o.client_order_id for o in await venue.fetch_open_orders(SYMBOL)]
    expected = [f"{prefix}{i:05d}ent00" for i in range(N_ORDERS)]
    assert sorted(on_venue) == expected  # each exactly once
    assert len(venue.save_state()["orders"]) == N_ORDERS  # nothing else ever placed
    async with db.transaction() as s:
        rows = await orders.list_orders(s)
        assert sorted(r.client_order_id for r in rows) == expected
        assert {r.status for r in rows} == {OrderStatus.OPEN}
        for r in rows:
            history = [e.to_status for e in await orders.order_events(s, r.id)]
            assert history == [OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.OPEN]
    manager = OrderManager(db, venue, account.id, bot.id, prefix)
    assert (await manager.reconcile([SYMBOL])).clean
