"""The indicator registry: built-ins by name, plus what plugins add through a registrar.

:class:`IndicatorRegistry` implements :class:`tbsdk.registrars.IndicatorRegistrar`. The host
hands each plugin :meth:`IndicatorRegistry.registrar_for` with the plugin's name, so every entry
records its owner and a clash names who registered the name first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..registrars import IndicatorRegistrar

__all__ = ["BUILTIN_OWNER", "IndicatorRegistry", "IndicatorSpec"]

BUILTIN_OWNER = "tbsdk"
"""Owner recorded for the indicators that ship with the SDK."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One registered indicator: both API forms, a description and who registered it."""

    name: str
    vectorised: Callable[..., Any]
    streaming: type
    description: str
    owner: str


class IndicatorRegistry:
    """Indicators by name. Built-ins are registered under the owner ``"tbsdk"`` at creation
    (unless ``builtins=False``); names are lower-case identifiers and never replaced."""

    def __init__(self, *, builtins: bool = True) -> None:
        self._specs: dict[str, IndicatorSpec] = {}
        if builtins:
            from ._builtins import register_builtins

            register_builtins(self.registrar_for(BUILTIN_OWNER))

    def add_indicator(
        self,
        name: str,
        vectorised: Callable[..., Any],
        streaming: type,
        description: str = "",
        *,
        owner: str = "unknown",
    ) -> None:
        """Register ``name``; refuses a malformed name, a non-callable or a clash.

        Prefer :meth:`registrar_for`, which fills in ``owner``.
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(
                f"indicator name {name!r} (from {owner!r}) must be a lower-case identifier"
            )
        if not callable(vectorised):
            raise ConfigError(f"indicator {name!r} (from {owner!r}): vectorised is not callable")
        if not isinstance(streaming, type):
            raise ConfigError(f"indicator {name!r} (from {owner!r}): streaming must be a class")
        existing = self._specs.get(name)
        if existing is not None:
            raise ConfigError(
                f"indicator {name!r} is already registered by {existing.owner!r}; "
                f"{owner!r} cannot register it again (choose another name)"
            )
        self._specs[name] = IndicatorSpec(name, vectorised, streaming, description, owner)

    def registrar_for(self, owner: str) -> IndicatorRegistrar:
        """A registrar that records ``owner`` on everything added through it."""
        return _OwnedRegistrar(self, owner)

    def get(self, name: str) -> IndicatorSpec:
        """The spec registered as ``name``; ``KeyError`` listing the known names otherwise."""
        try:
            return self._specs[name]
        except KeyError:
            raise KeyError(
                f"no indicator {name!r}; known: {', '.join(sorted(self._specs))}"
            ) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[IndicatorSpec]:
        return iter([self._specs[k] for k in sorted(self._specs)])

    def __len__(self) -> int:
        return len(self._specs)


class _OwnedRegistrar:
    """The narrow object a plugin receives: ``add_indicator`` with the owner filled in."""

    def __init__(self, registry: IndicatorRegistry, owner: str) -> None:
        self._registry = registry
        self._owner = owner

    def add_indicator(
        self, name: str, vectorised: Callable[..., Any], streaming: type, description: str = ""
    ) -> None:
        """Register ``name`` with this registrar's owner recorded."""
        self._registry.add_indicator(name, vectorised, streaming, description, owner=self._owner)
