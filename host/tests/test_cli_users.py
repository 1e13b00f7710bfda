"""`tbhost users`, `tbhost tokens` and `tbhost accounts remove`: users named by username,
a token's secret printed once and working until revoked, refusals that change nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tbhost.storage.repos import tokens

from .test_cli_kit import Cli, rows, tb_fixture  # noqa: F401 - the fixture

DAY_MS = 86_400_000


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def _user_of(tb: Cli, secret: str) -> str | None:
    async def check(s: AsyncSession) -> str | None:
        user = await tokens.authenticate(s, secret, touch=False)
        return None if user is None else user.username

    return tb.store(check)


def test_users_add_list_role_and_disable(tb: Cli) -> None:
    alice = tb.json("users", "add", "alice", "--role", "admin")
    assert set(alice) == {"id", "username", "role", "telegram_chat_id", "created_at", "disabled_at"}
    assert (alice["username"], alice["role"], alice["disabled_at"]) == ("alice", "admin", None)
    assert tb.ok("users", "add", "bob", "--role", "viewer").startswith("user bob (viewer, ")
    assert [u["username"] for u in tb.json("users", "list")] == ["alice", "bob"]

    audit = tb.audit()
    assert tb.fail("users", "add", "bob", "--role", "admin") == "a user named 'bob' already exists"
    assert tb.fail("users", "role", "ghost", "trader") == "no user 'ghost'"
    assert tb.fail("users", "role", "alice", "viewer") == (
        "cannot demote 'alice': it is the last active admin"
    )
    assert tb.fail("users", "disable", "alice") == (
        "cannot disable 'alice': it is the last active admin"
    )
    assert tb.run("users", "add", "carl", "--role", "root").exit_code == 2
    assert tb.audit() == audit

    out = tb.ok("users", "role", "bob", "trader")
    assert out.endswith("changed role from viewer to trader\n")
    bob = tb.json("users", "disable", "bob")
    assert (bob["role"], bob["disabled_at"] is not None) == ("trader", True)
    listed = rows(tb.ok("users", "list"))
    assert [r[:2] for r in listed] == [["alice", "admin"], ["bob", "trader"]]
    assert listed[0][2] == "active"
    assert listed[1][2] == f"disabled {bob['disabled_at'].replace('.000Z', 'Z')}"
    assert [(e["action"], e["details"]) for e in tb.audit()[-2:]] == [
        ("user.set_role", {"username": "bob", "from": "viewer", "to": "trader"}),
        ("user.disable", {"username": "bob"}),
    ]


def test_a_token_secret_is_printed_once_and_works_until_revoked(tb: Cli) -> None:
    tb.ok("users", "add", "alice", "--role", "trader")
    done = tb.run("tokens", "create", "alice", "--name", "ci", "--expires-in", "30d")
    assert done.exit_code == 0, done.output
    secret = done.stdout.strip()
    assert secret.startswith("tbh_")
    assert "\n" not in secret  # the secret alone on stdout
    assert "for alice (trader), expires 20" in done.stderr
    assert "warning: store this token now: it is not shown again" in done.stderr
    assert _user_of(tb, secret) == "alice"

    [listed] = tb.json("tokens", "list", "alice")
    assert set(listed) == {
        "id", "user_id", "name", "prefix", "created_at", "expires_at", "revoked_at",
        "last_used_at",
    }  # fmt: skip
    assert listed["name"] == "ci"
    assert secret.startswith(f"tbh_{listed['prefix']}_")
    lifetime = _ms(listed["expires_at"]) - _ms(listed["created_at"])
    assert 30 * DAY_MS - 60_000 < lifetime <= 30 * DAY_MS
    # The secret appears nowhere else: not in listings, not in the audit log.
    assert secret not in tb.ok("tokens", "list", "alice", "--json")
    assert secret not in tb.ok("tokens", "list", "alice")
    assert secret not in str(tb.audit())
    [row] = rows(tb.ok("tokens", "list", "alice"))
    assert row[:4] == [listed["id"], "ci", listed["prefix"], "active"]

    second = tb.json("tokens", "create", "alice")
    assert (second["name"], second["expires_at"]) == ("cli", None)
    assert second["warning"].startswith("store this token now")
    assert _user_of(tb, second["token"]) == "alice"

    assert tb.ok("tokens", "revoke", listed["id"]) == (
        f"token {listed['id']} ('ci', prefix {listed['prefix']}) revoked\n"
    )
    assert _user_of(tb, secret) is None
    assert _user_of(tb, second["token"]) == "alice"
    statuses = {t["name"]: t["revoked_at"] is not None for t in tb.json("tokens", "list", "alice")}
    assert statuses == {"ci": True, "cli": False}

    audit = tb.audit()
    assert tb.fail("tokens", "revoke", "nope") == "no API token with id nope"
    assert tb.fail("tokens", "create", "ghost") == "no user 'ghost'"
    assert tb.fail("tokens", "list", "ghost") == "no user 'ghost'"
    assert tb.run("tokens", "create", "alice", "--expires-in", "soon").exit_code == 2
    assert tb.audit() == audit
    assert [e["action"] for e in audit[-3:]] == ["token.issue", "token.issue", "token.revoke"]


def test_accounts_remove_is_refused_while_a_bot_uses_the_account(tb: Cli) -> None:
    used = tb.account("used")
    spare = tb.json("accounts", "add", "spare")
    tb.bot("rsi", used)
    audit = tb.audit()
    assert tb.fail("accounts", "remove", "used") == (
        "account 'used' is used by 1 bot(s), deleted ones included, whose history refers to "
        "it; it cannot be removed"
    )
    assert tb.fail("accounts", "remove", "ghost") == "no exchange account 'ghost' (by id or label)"
    assert tb.audit() == audit
    assert [a["label"] for a in tb.json("accounts", "list")] == ["spare", "used"]  # by label

    assert tb.json("accounts", "remove", spare["id"]) == spare
    assert [a["id"] for a in tb.json("accounts", "list")] == [used]
    [entry] = tb.audit()[len(audit) :]
    assert (entry["action"], entry["target_id"], entry["details"]) == (
        "account.remove",
        spare["id"],
        {"label": "spare"},
    )
    extra = tb.account("extra")
    assert tb.ok("accounts", "remove", "extra") == f"account {extra} (paper, extra) removed\n"
