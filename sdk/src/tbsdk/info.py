"""Descriptions of host objects that hooks receive. Read-only snapshots, never live handles."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .model._base import FrozenModel

__all__ = ["BotInfo", "HostInfo", "RunMode"]


class RunMode(StrEnum):
    """How a bot runs: the same engine with a different clock and exchange."""

    BACKTEST = "backtest"
    PAPER = "paper"
    LIVE = "live"


class BotInfo(FrozenModel):
    """Who is trading: one strategy instance on one account."""

    bot_id: str
    name: str = ""
    strategy: str = Field(description="Strategy entry-point name.")
    exchange: str = Field(description="Exchange entry-point name.")
    account_id: str
    symbols: tuple[str, ...] = ()
    timeframe: str = "1h"
    mode: RunMode = RunMode.BACKTEST


class HostInfo(FrozenModel):
    """The running host, as lifecycle hooks see it."""

    version: str
    api_version: str
    data_dir: str
