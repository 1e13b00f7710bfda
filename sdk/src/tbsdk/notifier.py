"""The notifier contract: how operators hear about entries, exits, stop moves and errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from .model._base import FrozenModel

__all__ = ["Notification", "NotificationLevel", "Notifier", "NotifierConfig"]


class NotificationLevel(StrEnum):
    """How urgent a notification is."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Notification(FrozenModel):
    """One message for the operator."""

    kind: str = Field(description="What happened: 'entry', 'dca', 'tp', 'stop_moved', 'error'...")
    message: str
    level: NotificationLevel = NotificationLevel.INFO
    bot_id: str | None = None
    ts: int
    data: dict[str, Any] = Field(default_factory=dict)


class NotifierConfig(FrozenModel):
    """Base of a notifier's settings."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class Notifier(ABC):
    """Base class of notifier plugins, registered under ``tbhost.notifiers``.

    ``send`` may fail (network down); the host logs the failure and never lets it reach the bot.
    """

    name: ClassVar[str]
    api_version: ClassVar[str]
    config_class: ClassVar[type[NotifierConfig]] = NotifierConfig

    def __init__(self, config: NotifierConfig | None = None) -> None:
        self.config = config or self.config_class()

    @abstractmethod
    async def send(self, notification: Notification) -> None:
        """Deliver ``notification``."""
