"""The service layer: one command model that the CLI, the GraphQL API and the Telegram bot call.

Every method takes the :class:`Actor` making the call first and checks its role here
(:mod:`.access` holds the only table of role rules). Every state-changing method writes its
change and one audit entry in the same transaction, so either both are stored or neither.
Errors are typed for the surfaces to map: :class:`Forbidden`, :class:`NotFound`,
:class:`Conflict`, :class:`InvalidConfig`.
"""

from __future__ import annotations

from .access import ROLE_ACTIONS, SYSTEM, Action, Actor, authorize
from .accounts import AccountService
from .audit import AuditService
from .bots import BotService, StrategyLookup, validate_settings
from .commands import CLOSE_DONE, complete_close_request, pending_close_requests
from .errors import Conflict, Forbidden, InvalidConfig, NotFound, ServiceError
from .lifecycle import DELETABLE, MOVES, check_move
from .queries import QueryService
from .users import UserService
from .views import (
    Account,
    AuditEntry,
    Bot,
    CloseRequest,
    IssuedToken,
    Item,
    Page,
    PnlSummary,
    StrategySnapshot,
    Token,
    User,
)

__all__ = [
    "CLOSE_DONE",
    "DELETABLE",
    "MOVES",
    "ROLE_ACTIONS",
    "SYSTEM",
    "Account",
    "AccountService",
    "Action",
    "Actor",
    "AuditEntry",
    "AuditService",
    "Bot",
    "BotService",
    "CloseRequest",
    "Conflict",
    "Forbidden",
    "InvalidConfig",
    "IssuedToken",
    "Item",
    "NotFound",
    "Page",
    "PnlSummary",
    "QueryService",
    "ServiceError",
    "StrategyLookup",
    "StrategySnapshot",
    "Token",
    "User",
    "UserService",
    "authorize",
    "check_move",
    "complete_close_request",
    "pending_close_requests",
    "validate_settings",
]
