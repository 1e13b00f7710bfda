"""Host settings from ``TBHOST_*`` variables, ``tbhost.toml`` and command-line flags.

Precedence, low to high: environment, the TOML file, flags (DESIGN.md §4). Secrets are
``SecretStr`` so they never appear in logs, ``repr`` or ``config show``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Settings", "config_path", "load_settings"]

CONFIG_ENV = "TBHOST_CONFIG"


def config_path(explicit: str | Path | None = None) -> Path:
    """The TOML file to read: the flag, else ``$TBHOST_CONFIG``, else ``./tbhost.toml``."""
    return Path(explicit or os.environ.get(CONFIG_ENV) or "tbhost.toml")


class Settings(BaseSettings):
    """Everything an operator can set. Field descriptions are what ``config show`` explains."""

    model_config = SettingsConfigDict(env_prefix="TBHOST_", extra="forbid", frozen=True)

    data_dir: Path = Field(
        default=Path.home() / ".tbhost",
        description="Where the SQLite database, candle files and state live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means SQLite under data_dir.",
    )
    database_auto_upgrade: bool = Field(
        default=False,
        description="Run the database migrations when the host starts (else `tbhost db upgrade`).",
    )
    redis_url: str | None = Field(
        default=None, description="Redis for bus, locks and workers; empty means in-process."
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    plugins_allow: list[str] | None = Field(
        default=None,
        description="If set, only these plugins load (entry-point or distribution names); "
        "the host's own built-ins are always allowed.",
    )
    plugins_block: list[str] = Field(
        default_factory=list,
        description="Plugins never imported (entry-point or distribution names).",
    )
    hook_failure_limit: int = Field(
        default=3, ge=1, description="Consecutive observer-hook failures before quarantine."
    )
    check_order_timeout_s: float = Field(
        default=2.0, gt=0, description="Time a pre-trade check may take before it counts as veto."
    )
    paper_fsync: bool = Field(
        default=False,
        description="Paper venues fsync every accepted operation (survives a power cut, not only "
        "a killed host; costs a disk flush per order and candle).",
    )
    api_host: str = Field(default="127.0.0.1", description="GraphQL API bind address.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="GraphQL API port.")
    api_cors_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (CORS); empty means CORS is off.",
    )
    api_rate_limit_per_minute: int = Field(
        default=600,
        ge=1,
        description="GraphQL requests one API token may make per minute (a token bucket that "
        "allows bursts of this size); more are refused with RATE_LIMITED.",
    )
    api_max_depth: int = Field(
        default=10, ge=1, description="Deepest nesting of fields one GraphQL query may ask for."
    )
    api_max_complexity: int = Field(
        default=500,
        ge=10,
        description="Most fields one GraphQL request may select (fragments expanded).",
    )
    api_max_aliases: int = Field(
        default=30, ge=1, description="Most field aliases one GraphQL request may use."
    )
    api_token_cache_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="How long the API trusts a token it has checked, in seconds (0: check "
        "every request). Revoking a token or disabling a user through this API takes effect "
        "at once; done elsewhere (CLI, another host), within this time.",
    )
    api_subscription_poll_s: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="How often subscriptions look for new orders, fills, positions and bot "
        "states in the database (the trading host may be another process).",
    )
    api_backtest_workers: int = Field(
        default=1, ge=1, le=16, description="Backtests the API runs at the same time."
    )
    telegram_token: SecretStr | None = Field(default=None, description="Telegram bot token.")
    secrets_key: SecretStr | None = Field(
        default=None, description="Key that encrypts exchange credentials at rest."
    )

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"log_level must be DEBUG, INFO, WARNING or ERROR, not {value!r}")
        return level

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'tbhost.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First wins: flags (init), then the TOML file, then the environment.
        return (init_settings, TomlConfigSettingsSource(settings_cls), env_settings)


def load_settings(config_file: str | Path | None = None, **flags: Any) -> Settings:
    """Build settings; ``flags`` are command-line values (``None`` means not given)."""
    path = config_path(config_file)
    if config_file is not None and not path.is_file():
        from tbsdk.errors import ConfigError

        raise ConfigError(f"config file {path} does not exist; pass an existing --config file")

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    return FileSettings(**{k: v for k, v in flags.items() if v is not None})
