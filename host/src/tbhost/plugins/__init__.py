"""Plugin discovery, isolation and the typed facade over pluggy."""

from __future__ import annotations

from .discovery import discover
from .manager import PluginHost
from .records import PluginRecord, PluginStatus

__all__ = ["PluginHost", "PluginRecord", "PluginStatus", "discover"]
