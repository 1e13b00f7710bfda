"""tbsdk: the stable contract between the TradingBoost host and its plugins.

Plugins import from here only. See ``docs/plugins/`` for how to write a strategy or an exchange.
"""

from __future__ import annotations

from ._version import API_VERSION, check_api_version, is_compatible
from .credentials import Credentials
from .errors import (
    AuthenticationError,
    ConfigError,
    ExchangeError,
    ExchangeUnavailable,
    IllegalTransition,
    IncompatiblePlugin,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    OrderVetoed,
    RateLimited,
    TbError,
)
from .exchange import Exchange, ExchangeCapabilities, ExchangeConfig
from .hookspecs import hookimpl
from .info import BotInfo, HostInfo, RunMode
from .notifier import Notification, NotificationLevel, Notifier, NotifierConfig
from .strategy import JsonState, Strategy, StrategyConfig, StrategyContext

__all__ = [
    "API_VERSION",
    "AuthenticationError",
    "BotInfo",
    "ConfigError",
    "Credentials",
    "Exchange",
    "ExchangeCapabilities",
    "ExchangeConfig",
    "ExchangeError",
    "ExchangeUnavailable",
    "HostInfo",
    "IllegalTransition",
    "IncompatiblePlugin",
    "InsufficientFunds",
    "InvalidOrder",
    "JsonState",
    "Notification",
    "NotificationLevel",
    "Notifier",
    "NotifierConfig",
    "OrderNotFound",
    "OrderVetoed",
    "RateLimited",
    "RunMode",
    "Strategy",
    "StrategyConfig",
    "StrategyContext",
    "TbError",
    "check_api_version",
    "hookimpl",
    "is_compatible",
]
