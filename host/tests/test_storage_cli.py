"""``tbhost db``: upgrade, current and check, with clear errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import URL

from tbhost.cli.main import cli
from tbhost.storage._migrate import head_revision

from .distributions import run_tbhost


def _invoke(*args: str) -> Result:
    return CliRunner(env={"TBHOST_DATABASE_URL": None, "TBHOST_CONFIG": None}).invoke(cli, args)


def test_db_upgrade_on_a_temp_sqlite_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = run_tbhost("--data-dir", str(data_dir), "db", "upgrade", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown == {
        "url": f"sqlite+aiosqlite:///{data_dir / 'tbhost.db'}",
        "backend": "sqlite",
        "before": None,
        "current": head_revision(),
        "head": head_revision(),
        "at_head": True,
    }
    assert (data_dir / "tbhost.db").is_file()


def test_check_current_and_upgrade_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    where = ["--data-dir", str(tmp_path)]
    url = f"sqlite+aiosqlite:///{tmp_path / 'tbhost.db'}"
    head = head_revision()

    result = _invoke(*where, "db", "check")
    assert result.exit_code == 1
    assert "is at revision empty (no migrations run), this host needs" in result.output
    assert "run `tbhost db upgrade`" in result.output

    result = _invoke(*where, "db", "current")
    assert result.output.strip() == f"{url}: revision empty (no migrations run), host needs {head}"

    result = _invoke(*where, "db", "upgrade")
    assert (result.exit_code, result.output.strip()) == (0, f"{url}: upgraded from empty to {head}")
    result = _invoke(*where, "db", "upgrade")
    assert result.output.strip() == f"{url}: already at revision {head}"

    result = _invoke(*where, "db", "check", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output)["at_head"] is True
    assert _invoke(*where, "db", "check").output.strip() == f"{url}: ok, at revision {head}"


def test_upgrade_through_the_cli_on_both_backends(
    db_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = db_url.render_as_string(hide_password=False)
    result = _invoke("db", "--url", url, "upgrade", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["current"] == head_revision()
    assert _invoke("db", "--url", url, "check").exit_code == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:p@h/db", "database URL scheme 'mysql' is not supported"),
        ("postgresql://tb:pw-hidden@127.0.0.1:1/tb", "cannot connect to the database at"),
    ],
)
def test_bad_or_unreachable_database_is_one_clear_line(
    url: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _invoke("db", "--url", url, "check")
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert "pw-hidden" not in result.output
