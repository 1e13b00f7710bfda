"""`tbhost bots show|configure|close` and the lifecycle verbs, on a real SQLite database:
exact JSON, table rows, one-line errors that change nothing, and an audit entry per change."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tbhost.storage.repos import portfolio, states
from tbsdk.model import Direction, Position, Trade

from .test_cli_kit import HOUR, MARCH_1, Cli, rows, tb_fixture  # noqa: F401 - the fixture

SYMBOL = "BTC/USDT:USDT"


def _line(out: str, label: str) -> str:
    """The value of one fact of ``bots show``."""
    [found] = re.findall(rf"^{re.escape(label)}\s{{2,}}(.+)$", out, re.M)
    return str(found)


def _trade(pnl: str, fees: str, closed_at: int) -> Trade:
    return Trade(
        symbol=SYMBOL,
        direction=Direction.LONG,
        qty=Decimal("0.01"),
        entry_price=Decimal("64000.1"),
        exit_price=Decimal("64100.2"),
        opened_at=closed_at - HOUR,
        closed_at=closed_at,
        pnl=Decimal(pnl),
        fees=Decimal(fees),
        exit_reason="tp1",
    )


def test_show_prints_settings_account_state_positions_and_exact_pnl(tb: Cli) -> None:
    account_id = tb.account()
    bot = tb.bot("rsi", account_id)

    async def history(s: AsyncSession) -> None:
        saved = {"seq": 7, "orders": {}, "rsi": {"avg_gain": "1.5"}}
        await states.save_state(s, bot["id"], saved, at=MARCH_1, feed_ts=MARCH_1 + HOUR)
        position = Position(
            symbol=SYMBOL,
            direction=Direction.LONG,
            size=Decimal("0.123456789012345678"),
            entry_price=Decimal("64000.1"),
            unrealized_pnl=Decimal("-1.5"),
            updated_at=MARCH_1,
        )
        await portfolio.save_position(s, bot_id=bot["id"], account_id=account_id, position=position)
        for trade in (
            _trade("12.345678901234567891", "0.100000000000000001", MARCH_1),
            _trade("-3.000000000000000007", "0.05", MARCH_1 + HOUR),
        ):
            await portfolio.add_trade(s, bot_id=bot["id"], account_id=account_id, trade=trade)

    tb.store(history)
    shown = tb.json("bots", "show", "rsi")
    listed = tb.json("accounts", "list")
    assert {k: shown[k] for k in bot} == bot  # a superset of what `bots create` printed
    assert shown["account"] == listed[0]
    assert shown["strategy_state"] == {
        "bot_id": bot["id"],
        "seq": 1,
        "saved_at": "2024-03-01T00:00:00.000Z",
        "feed_ts": "2024-03-01T01:00:00.000Z",
        "state": {"seq": 7, "orders": {}, "rsi": {"avg_gain": "1.5"}},
    }
    assert shown["positions"] == [
        {
            "id": 1,
            "bot_id": bot["id"],
            "account_id": account_id,
            "symbol": SYMBOL,
            "position_side": "net",
            "direction": "long",
            "size": "0.123456789012345678",
            "entry_price": "64000.1",
            "contract_size": "1",
            "realized_pnl": "0",
            "unrealized_pnl": "-1.5",
            "leverage": "1",
            "margin_mode": "cross",
            "liquidation_price": None,
            "updated_at": "2024-03-01T00:00:00.000Z",
        }
    ]
    assert shown["pnl"] == {
        "bot_id": bot["id"],
        "trades": 2,
        "wins": 1,
        "losses": 1,
        "net_pnl": "9.345678901234567884",
        "fees": "0.150000000000000001",
        "gross_pnl": "9.495678901234567885",
    }

    out = tb.ok("bots", "show", bot["id"])  # by id as well as by name
    assert _line(out, "bot") == f"rsi ({bot['id']})"
    assert _line(out, "account") == f"main (paper, {account_id})"
    assert _line(out, "state") == "created"
    assert _line(out, "created") == f"{bot['created_at']} by system"
    assert _line(out, "started") == "-"
    assert _line(out, "strategy state") == (
        "#1 saved 2024-03-01T00:00:00Z, feed at 2024-03-01T01:00:00Z (orders, rsi, seq)"
    )
    assert _line(out, "pnl") == (
        "net 9.345678901234567884 (gross 9.495678901234567885, fees 0.150000000000000001) "
        "over 2 trades: 1 won, 1 lost"
    )
    assert _line(out, "rsi_length") == "14"
    assert _line(out, "qty") == bot["config"]["qty"]
    positions = out.split("open positions", 1)[1]
    assert rows(positions) == [
        [SYMBOL, "net", "long", "0.123456789012345678", "64000.1", "-1.5", "0",
         "2024-03-01T00:00:00Z"],
    ]  # fmt: skip


def test_show_of_an_unknown_bot_is_one_clear_line(tb: Cli) -> None:
    assert tb.fail("bots", "show", "nope") == "no bot 'nope'"


def test_configure_merges_validated_settings_exactly_and_audits_the_change(tb: Cli) -> None:
    bot = tb.bot("rsi", tb.account())
    out = tb.ok("bots", "configure", "rsi", "--set", "rsi_length=21", "--set",
                "qty=0.123456789012345678")  # fmt: skip
    assert out.splitlines()[0] == "bot rsi configured (created):"
    assert rows(out.split("\n", 1)[1]) == [
        ["qty", bot["config"]["qty"], "0.123456789012345678"],
        ["rsi_length", "14", "21"],
    ]
    after = tb.json("bots", "show", "rsi")
    # A Decimal setting keeps every digit: the value is never read as a float.
    assert after["config"] == {**bot["config"], "rsi_length": 21, "qty": "0.123456789012345678"}
    assert after["config_hash"] != bot["config_hash"]
    entry = tb.audit()[-1]
    assert (entry["actor"], entry["action"], entry["target_id"]) == (
        "system",
        "bot.configure",
        bot["id"],
    )
    assert entry["details"]["settings"] == {"rsi_length": 21, "qty": "0.123456789012345678"}
    assert entry["details"]["config_hash"] == {
        "from": bot["config_hash"],
        "to": after["config_hash"],
    }

    again = tb.json("bots", "configure", "rsi", "--timeframe", "4h")
    assert (again["timeframe"], again["config"]["rsi_length"]) == ("4h", 21)
    assert tb.ok("bots", "configure", "rsi", "--set", "rsi_length=21") == (
        "bot rsi: nothing changed\n"
    )


def test_invalid_configure_names_field_and_range_and_changes_nothing(tb: Cli) -> None:
    tb.bot("rsi", tb.account())
    before, audit = tb.json("bots", "show", "rsi"), tb.audit()
    assert tb.fail("bots", "configure", "rsi", "--set", "rsi_length=1") == (
        "invalid settings for strategy 'rsi_reversal': "
        "rsi_length: Input should be greater than or equal to 2"
    )
    assert tb.fail("bots", "configure", "rsi", "--set", "rsi_lenght=21") == (
        "invalid settings for strategy 'rsi_reversal': rsi_lenght: Extra inputs are not permitted"
    )
    assert tb.fail("bots", "configure", "rsi", "--timeframe", "7m").startswith(
        "unknown timeframe '7m'; use one of "
    )
    assert tb.fail("bots", "configure", "ghost", "--set", "rsi_length=21") == "no bot 'ghost'"
    assert tb.json("bots", "show", "rsi") == before
    assert tb.audit() == audit
    usage = tb.run("bots", "configure", "rsi")
    assert usage.exit_code == 2
    assert "nothing to change" in usage.stderr


def test_lifecycle_moves_and_refused_moves(tb: Cli) -> None:
    bot = tb.bot("rsi", tb.account())
    assert tb.ok("bots", "start", "rsi") == "bot rsi is running\n"
    audit = tb.audit()
    assert tb.fail("bots", "start", "rsi") == (
        "cannot start bot 'rsi': it is running; start works only from created, stopped"
    )
    assert tb.fail("bots", "delete", "rsi") == (
        "cannot delete bot 'rsi': it is running; delete works only from created, stopped"
    )
    assert tb.fail("bots", "resume", "rsi") == (
        "cannot resume bot 'rsi': it is running; resume works only from paused"
    )
    assert tb.fail("bots", "stop", "nope") == "no bot 'nope'"
    assert tb.audit() == audit
    assert tb.json("bots", "show", "rsi")["state"] == "running"

    paused = tb.json("bots", "pause", bot["id"])
    assert (paused["id"], paused["state"]) == (bot["id"], "paused")
    assert tb.ok("bots", "resume", "rsi") == "bot rsi is running\n"
    assert tb.ok("bots", "stop", "rsi") == "bot rsi is stopped\n"
    deleted = tb.json("bots", "delete", "rsi")
    assert (deleted["id"], deleted["state"], deleted["deleted"]) == (bot["id"], "stopped", True)
    assert tb.json("bots", "list") == []
    moves = [(e["action"], e["details"].get("from"), e["details"].get("to")) for e in tb.audit()]
    assert moves == [
        ("account.add", None, None),
        ("bot.create", None, None),
        ("bot.start", "created", "running"),
        ("bot.pause", "running", "paused"),
        ("bot.resume", "paused", "running"),
        ("bot.stop", "running", "stopped"),
        ("bot.delete", None, None),
    ]


def test_close_stores_one_request_until_the_host_completes_it(tb: Cli) -> None:
    account_id = tb.account()
    bot = tb.bot("rsi", account_id)
    assert tb.fail("bots", "close", "rsi") == (
        "bot 'rsi' has never run: it holds no positions to close"
    )
    tb.ok("bots", "start", "rsi")

    async def position(s: AsyncSession) -> None:
        held = Position(symbol=SYMBOL, size=Decimal("0.5"), entry_price=Decimal("64000"))
        await portfolio.save_position(s, bot_id=bot["id"], account_id=account_id, position=held)

    tb.store(position)
    out = tb.ok("bots", "close", "rsi")
    [request] = [e for e in tb.audit() if e["action"] == "bot.close_positions"]
    first = out.splitlines()[0]
    assert first == (
        f"closing the positions of bot rsi requested: request {request['id']} by system at "
        f"{request['at'].replace('.000Z', 'Z')}"
    )
    assert rows(out.split("open positions stored now", 1)[1].rsplit("\n", 2)[0]) == [
        [SYMBOL, "net", "long", "0.5", "64000"]
    ]
    again: dict[str, Any] = tb.json("bots", "close", "rsi")
    assert again == {
        "request_id": request["id"],
        "bot_id": bot["id"],
        "requested_by": "system",
        "requested_at": request["at"],
        "already_pending": True,
        "positions": tb.json("positions", "--bot", "rsi"),
    }
    assert [e["action"] for e in tb.audit()].count("bot.close_positions") == 1


def test_create_refuses_unknown_strategies_accounts_and_settings_changing_nothing(
    tb: Cli,
) -> None:
    tb.account("main")
    audit = tb.audit()
    market = ["--symbol", SYMBOL, "--timeframe", "1h"]
    assert tb.fail(
        "bots", "create", "x", "--strategy", "nope", "--account", "main", *market
    ).startswith("no tbhost.strategies plugin named 'nope'; available: ")
    assert tb.fail(
        "bots", "create", "x", "--strategy", "rsi_reversal", "--account", "ghost", *market
    ) == ("no exchange account 'ghost' (by id or label)")
    bad_qty = ["--strategy", "rsi_reversal", "--account", "main", *market, "--set", "qty=-1"]
    assert tb.fail("bots", "create", "x", *bad_qty) == (
        "invalid settings for strategy 'rsi_reversal': qty: Input should be greater than 0"
    )
    assert tb.audit() == audit
    assert tb.json("bots", "list") == []
    made = tb.bot("x", "main")  # the account by its label
    assert made["account_id"] == tb.json("accounts", "list")[0]["id"]


def test_create_fills_symbol_and_timeframe_only_into_settings_that_declare_them(tb: Cli) -> None:
    # GRID's settings have a symbol but no timeframe (it evaluates on eval_timeframe): the
    # chart timeframe must not be forced on them.
    tb.account("main")
    grid = tb.json(
        "bots", "create", "g", "--strategy", "grid", "--account", "main",
        "--symbol", "BTC/USDT", "--timeframe", "1m", "--set", "mode=arithmetic",
        "--set", "lower_price=64000", "--set", "upper_price=70000", "--set", "investment=5000",
    )  # fmt: skip
    assert (grid["symbols"], grid["timeframe"]) == (["BTC/USDT"], "1m")
    assert grid["config"]["symbol"] == "BTC/USDT"
    assert "timeframe" not in grid["config"]
    rsi = tb.bot("r", "main", "ETH/USDT")
    assert (rsi["config"]["symbol"], rsi["config"]["timeframe"]) == ("ETH/USDT", "1h")
