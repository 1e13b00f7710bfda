"""What the service-command CLI tests share (no tests here): the real ``tbhost`` command run
in-process by click's runner on a migrated SQLite database in a temporary data directory,
and direct access to that database for rows the order manager would write."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession

from tbhost.cli.main import cli
from tbhost.storage import Database

T = TypeVar("T")

MARCH_1 = 1_709_251_200_000
"""2024-03-01T00:00:00Z in UTC milliseconds."""
HOUR = 3_600_000


def rows(table: str) -> list[list[str]]:
    """The cells of a printed table's rows (header and rule excluded): columns are at least
    two spaces apart, cells never hold two spaces in a row."""
    lines = [line for line in table.splitlines() if line.strip()]
    body = [line for line in lines if not set(line.strip()) <= {"─", " "}]
    return [re.split(r"\s{2,}", line.strip()) for line in body[1:]]


@dataclass
class Cli:
    data_dir: Path

    def run(self, *args: str) -> Result:
        env: dict[str, str | None] = {"TBHOST_DATA_DIR": str(self.data_dir), "TBHOST_CONFIG": None}
        return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.exit_code == 0, done.output
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def fail(self, *args: str) -> str:
        """The one-line error of a refused command (exit code 1, no traceback)."""
        done = self.run(*args)
        assert done.exit_code == 1, done.output
        assert "Traceback" not in done.output
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("Error: ")
        return line.removeprefix("Error: ")

    def store(self, write: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``write`` in one transaction on the CLI's database (as the host would)."""

        async def main() -> T:
            db = Database(f"sqlite+aiosqlite:///{self.data_dir / 'tbhost.db'}")
            try:
                async with db.transaction() as s:
                    return await write(s)
            finally:
                await db.dispose()

        return asyncio.run(main())

    def audit(self) -> list[dict[str, Any]]:
        """Every audit entry, oldest first."""
        page = self.json("audit", "--limit", "1000")
        assert page["next_cursor"] is None
        return list(reversed(page["items"]))

    def account(self, label: str = "main") -> str:
        return str(self.json("accounts", "add", label)["id"])

    def bot(self, name: str, account_id: str, symbol: str = "BTC/USDT:USDT", *more: str) -> Any:
        return self.json(
            "bots", "create", name, "--strategy", "rsi_reversal", "--account", account_id,
            "--symbol", symbol, "--timeframe", "1h", *more,
        )  # fmt: skip


@pytest.fixture(name="tb")
def tb_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # no tbhost.toml from wherever the tests run
    tool = Cli(tmp_path)
    tool.ok("db", "upgrade")
    return tool
