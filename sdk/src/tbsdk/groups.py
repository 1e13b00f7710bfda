"""Entry-point groups the host reads. A plugin distribution declares its components under these.

Example, in a plugin's ``pyproject.toml``::

    [project.entry-points."tbhost.strategies"]
    mystrat = "my_package.strategy:MyStrategy"
"""

from __future__ import annotations

__all__ = ["ENTRY_POINT_GROUPS", "EXCHANGES", "NOTIFIERS", "PLUGINS", "STRATEGIES"]

STRATEGIES = "tbhost.strategies"
"""Strategy classes (subclasses of :class:`tbsdk.Strategy`), chosen by name in a bot's config."""

EXCHANGES = "tbhost.exchanges"
"""Exchange classes (subclasses of :class:`tbsdk.Exchange`), chosen by name in an account."""

NOTIFIERS = "tbhost.notifiers"
"""Notifier classes (subclasses of :class:`tbsdk.Notifier`), chosen by name in settings."""

PLUGINS = "tbhost.plugins"
"""Modules (or objects) holding ``@hookimpl`` functions that react to host events."""

ENTRY_POINT_GROUPS: tuple[str, ...] = (STRATEGIES, EXCHANGES, NOTIFIERS, PLUGINS)
"""Every group, in the order the host loads them."""
