"""`tbhost audit`: every change made from the command line is in the log, as `system`, and
the log filters and pages like the other listings."""

from __future__ import annotations

from .test_cli_kit import Cli, rows, tb_fixture  # noqa: F401 - the fixture


def test_every_change_from_the_cli_appears_in_the_audit_log(tb: Cli) -> None:
    account_id = tb.account()
    spare = tb.account("spare")
    bot = tb.bot("rsi", account_id)
    tb.ok("bots", "configure", "rsi", "--set", "rsi_length=21")
    tb.ok("bots", "start", "rsi")
    tb.ok("bots", "close", "rsi")
    tb.ok("bots", "pause", "rsi")
    tb.ok("bots", "resume", "rsi")
    tb.ok("bots", "stop", "rsi")
    tb.ok("bots", "delete", "rsi")
    tb.ok("accounts", "remove", spare)
    user = tb.json("users", "add", "alice", "--role", "viewer")
    tb.ok("users", "role", "alice", "trader")
    token = tb.json("tokens", "create", "alice")
    tb.ok("tokens", "revoke", token["id"])
    tb.ok("users", "disable", "alice")

    entries = tb.audit()
    assert [(e["action"], e["target_type"], e["target_id"]) for e in entries] == [
        ("account.add", "account", account_id),
        ("account.add", "account", spare),
        ("bot.create", "bot", bot["id"]),
        ("bot.configure", "bot", bot["id"]),
        ("bot.start", "bot", bot["id"]),
        ("bot.close_positions", "bot", bot["id"]),
        ("bot.pause", "bot", bot["id"]),
        ("bot.resume", "bot", bot["id"]),
        ("bot.stop", "bot", bot["id"]),
        ("bot.delete", "bot", bot["id"]),
        ("account.remove", "account", spare),
        ("user.create", "user", user["id"]),
        ("user.set_role", "user", user["id"]),
        ("token.issue", "token", token["id"]),
        ("token.revoke", "token", token["id"]),
        ("user.disable", "user", user["id"]),
    ]
    assert {e["actor"] for e in entries} == {"system"}
    assert all(e["at"].endswith("Z") for e in entries)
    assert [e["id"] for e in entries] == list(range(1, 17))

    # Reads change nothing.
    for read in (["bots", "list"], ["accounts", "list"], ["users", "list"], ["orders"],
                 ["fills"], ["positions"], ["trades"], ["pnl"], ["audit"]):  # fmt: skip
        tb.ok(*read)
    assert tb.audit() == entries


def test_audit_filters_and_pages_newest_first(tb: Cli) -> None:
    account_id = tb.account()
    bot = tb.bot("rsi", account_id)
    tb.ok("bots", "start", "rsi")
    tb.ok("bots", "stop", "rsi")
    tb.ok("users", "add", "alice", "--role", "admin")

    def actions(*args: str) -> list[str]:
        page = tb.json("audit", *args)
        assert page["next_cursor"] is None
        return [e["action"] for e in page["items"]]

    assert actions("--target", bot["id"]) == ["bot.stop", "bot.start", "bot.create"]
    assert actions("--action", "bot.start") == ["bot.start"]
    assert actions("--type", "user") == ["user.create"]
    assert actions("--actor", "system", "--type", "account") == ["account.add"]
    assert actions("--actor", "alice") == []  # alice made no change: the CLI acts as system
    assert actions("--since", "1d") == actions()
    assert actions("--until", "2000-01-01") == []

    first = tb.json("audit", "--limit", "2")
    assert [e["action"] for e in first["items"]] == ["user.create", "bot.stop"]
    assert first["next_cursor"] == 4
    rest = tb.json("audit", "--limit", "2", "--cursor", "4")
    assert [e["action"] for e in rest["items"]] == ["bot.start", "bot.create"]
    last = tb.json("audit", "--limit", "2", "--cursor", "2")
    assert (last["items"][0]["action"], last["next_cursor"]) == ("account.add", None)

    out = tb.ok("audit", "--action", "bot.start")
    [row] = rows(out)
    assert row[0] == "3"
    assert row[2:5] == ["system", "bot.start", f"bot {bot['id']}"]
    assert row[5] == '{"from": "created", "name": "rsi", "to": "running"}'
    assert tb.ok("audit", "--limit", "1").splitlines()[-1] == "more: add --cursor 5"
    assert tb.fail("audit", "--actor", "ghost") == "no user 'ghost'"
