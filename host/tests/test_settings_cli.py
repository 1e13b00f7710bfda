"""Settings precedence (environment < tbhost.toml < flags) and what ``config show`` reveals."""

from __future__ import annotations

import json
from pathlib import Path

from .distributions import run_tbhost


def _show(tmp_path: Path, *args: str, **env: str) -> dict[str, object]:
    result = run_tbhost(*args, "config", "show", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown: dict[str, object] = json.loads(result.stdout)
    return shown


def test_precedence_env_then_toml_then_flags(tmp_path: Path) -> None:
    env = {"TBHOST_LOG_LEVEL": "ERROR", "TBHOST_API_PORT": "9001", "TBHOST_DATA_DIR": "/env"}
    assert _show(tmp_path, **env)["api_port"] == 9001

    (tmp_path / "tbhost.toml").write_text('api_port = 9002\ndata_dir = "/toml"\n')
    shown = _show(tmp_path, **env)
    assert (shown["api_port"], shown["data_dir"], shown["log_level"]) == (9002, "/toml", "ERROR")

    shown = _show(tmp_path, "--data-dir", "/flag", **env)
    assert (shown["api_port"], shown["data_dir"]) == (9002, "/flag")
    assert shown["effective_database_url"] == "sqlite+aiosqlite:////flag/tbhost.db"


def test_secrets_are_masked_everywhere(tmp_path: Path) -> None:
    token = "123456:telegram-secret-token"
    shown = _show(tmp_path, TBHOST_TELEGRAM_TOKEN=token, TBHOST_SECRETS_KEY="k3y-material")
    assert shown["telegram_token"] == "**********"
    assert shown["secrets_key"] == "**********"
    text = run_tbhost("config", "show", env={"TBHOST_TELEGRAM_TOKEN": token}, cwd=tmp_path)
    assert token not in text.stdout + text.stderr
    assert "telegram_token = **********" in text.stdout


def test_invalid_setting_names_the_field(tmp_path: Path) -> None:
    result = run_tbhost("config", "show", env={"TBHOST_API_PORT": "70000"}, cwd=tmp_path)
    assert result.returncode == 1
    assert "invalid settings: api_port: Input should be less than or equal to 65535" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_tbhost("--config", str(tmp_path / "nope.toml"), "config", "show", cwd=tmp_path)
    assert result.returncode == 1
    assert f"config file {tmp_path / 'nope.toml'} does not exist" in result.stderr


def test_version_and_help(tmp_path: Path) -> None:
    version = run_tbhost("--version", cwd=tmp_path)
    assert version.stdout.strip() == "tbhost 0.1.0 (tbsdk API 1.0)"
    help_text = run_tbhost("--help", cwd=tmp_path).stdout
    for command in ("plugins", "config"):
        assert f"  {command} " in help_text


def test_unknown_command_is_reported(tmp_path: Path) -> None:
    result = run_tbhost("frobnicate", cwd=tmp_path)
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr
