"""SQLAlchemy models of everything the host stores. Importing this fills ``Base.metadata``."""

from __future__ import annotations

from ._base import Base
from .accounts import AccountRow
from .audit import SYSTEM_ACTOR, AuditRow
from .bots import BotRow, BotStatus, StrategyStateRow
from .identity import ApiTokenRow, Role, UserRow
from .notifications import NotificationRow
from .orders import FillRow, OrderEventRow, OrderRow
from .portfolio import PositionRow, TradeRow

__all__ = [
    "SYSTEM_ACTOR",
    "AccountRow",
    "ApiTokenRow",
    "AuditRow",
    "Base",
    "BotRow",
    "BotStatus",
    "FillRow",
    "NotificationRow",
    "OrderEventRow",
    "OrderRow",
    "PositionRow",
    "Role",
    "StrategyStateRow",
    "TradeRow",
    "UserRow",
]
