"""The ``log`` notifier: writes every notification to the host log."""

from __future__ import annotations

import logging
from typing import ClassVar

from tbsdk import Notification, NotificationLevel, Notifier

log = logging.getLogger("tbhost.notifications")

_LEVELS = {
    NotificationLevel.INFO: logging.INFO,
    NotificationLevel.WARNING: logging.WARNING,
    NotificationLevel.ERROR: logging.ERROR,
}


class LogNotifier(Notifier):
    name: ClassVar[str] = "log"
    api_version: ClassVar[str] = "1.0"

    async def send(self, notification: Notification) -> None:
        bot = f"[{notification.bot_id}] " if notification.bot_id else ""
        log.log(
            _LEVELS[notification.level], "%s%s: %s", bot, notification.kind, notification.message
        )
