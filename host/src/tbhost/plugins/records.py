"""What the host knows about each plugin it found, including why one is not running."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PluginStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    INCOMPATIBLE = "incompatible"
    BLOCKED = "blocked"
    QUARANTINED = "quarantined"


@dataclass
class PluginRecord:
    """One entry point in one group. ``obj`` is the loaded class or module when status is ok."""

    name: str
    group: str
    target: str
    distribution: str | None = None
    version: str | None = None
    api_version: str | None = None
    status: PluginStatus = PluginStatus.OK
    reason: str | None = None
    obj: Any = None

    @property
    def key(self) -> str:
        return f"{self.group}:{self.name}"

    def fail(self, status: PluginStatus, reason: str) -> None:
        self.status, self.reason, self.obj = status, reason, None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.group,
            "target": self.target,
            "distribution": self.distribution,
            "version": self.version,
            "api_version": self.api_version,
            "status": str(self.status),
            "reason": self.reason,
        }
