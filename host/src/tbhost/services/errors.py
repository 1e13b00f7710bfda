"""Errors of the service layer, one per answer an API maps to a code.

``Forbidden`` → 403, ``NotFound`` → 404, ``Conflict`` → 409, ``InvalidConfig`` → 422. Each also
derives from the storage or SDK error it stands for, so code that already catches those still
catches these.
"""

from __future__ import annotations

from collections.abc import Sequence

from tbsdk.errors import ConfigError, TbError

from ..storage.errors import AlreadyExists
from ..storage.errors import NotFound as StorageNotFound

__all__ = ["Conflict", "Forbidden", "InvalidConfig", "NotFound", "ServiceError"]


class ServiceError(TbError):
    """Base of every error the service layer raises on purpose."""


class Forbidden(ServiceError):
    """The actor's role does not allow the action; the message names both."""

    def __init__(self, action: str, role: str, *, who: str | None = None) -> None:
        subject = f"{who} (role {role})" if who else f"role {role}"
        super().__init__(f"{subject} may not {action}")
        self.action = action
        self.role = role


class NotFound(ServiceError, StorageNotFound):
    """The bot, account, user or token named does not exist (or was deleted)."""


class Conflict(ServiceError, AlreadyExists):
    """The call contradicts what is stored: a duplicate, or an illegal lifecycle move."""


class InvalidConfig(ServiceError, ConfigError):
    """Strategy settings (or the strategy name) are invalid; ``fields`` lists the bad ones."""

    def __init__(self, message: str, fields: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.fields = tuple(fields)
