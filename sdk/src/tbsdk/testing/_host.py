"""``InMemoryHost``: the tbsdk hook specs on a pluggy manager, with discovery off.

It applies the same rules as the real host where a plugin author can trip over them: a plugin
must declare a compatible ``TB_API_VERSION``, may only implement known ``tb_*`` hooks and may not
use hook wrappers; ``tb_check_order`` fails closed (an exception or a time-out is a veto). Unlike
the real host, an observer hook that raises is *not* swallowed here: the exception reaches the
test, because a test wants to see the bug.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pluggy

from .. import hookspecs
from .._version import check_api_version
from ..errors import IncompatiblePlugin
from ..info import BotInfo
from ..model import Instrument, OrderIntent

__all__ = ["OBSERVER_HOOKS", "InMemoryHost"]

P = TypeVar("P")

OBSERVER_HOOKS: frozenset[str] = frozenset(
    {
        "tb_startup",
        "tb_shutdown",
        "tb_bot_started",
        "tb_bot_stopped",
        "tb_order_updated",
        "tb_fill",
        "tb_position_changed",
        "tb_signal",
        "tb_register_cli",
        "tb_register_graphql",
        "tb_register_telegram",
        "tb_register_indicators",
    }
)
"""Hooks :meth:`InMemoryHost.fire` may call (every hook except ``tb_check_order``)."""


class InMemoryHost:
    """A plugin manager holding only what the test registers; entry points are never read.

    Use :meth:`registered` to add a hook plugin for the duration of a ``with`` block, then
    :meth:`fire` (observer and registration hooks) or :meth:`check_order` (pre-trade vetoes).
    """

    def __init__(self, *, check_timeout_s: float = 2.0) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        """The underlying pluggy manager, for assertions; register through :meth:`registered`."""
        self.pm.add_hookspecs(hookspecs)
        self.check_timeout_s = check_timeout_s

    # -- registration ------------------------------------------------------------------------
    @contextmanager
    def registered(self, plugin: P, name: str, *, api_version: str | None = None) -> Iterator[P]:
        """Register ``plugin`` (a module or object with ``@hookimpl`` functions) as ``name``.

        The plugin is unregistered when the block ends, also when it ends with an exception.
        ``api_version`` defaults to the plugin's ``TB_API_VERSION``; an incompatible or missing
        one raises :class:`~tbsdk.errors.IncompatiblePlugin`, as the real host would refuse it.
        An unknown ``tb_*`` hook or a hook wrapper raises ``pluggy.PluginValidationError``.
        """
        version = api_version or getattr(plugin, "TB_API_VERSION", None)
        if problem := check_api_version(f"plugin {name!r}", version):
            raise IncompatiblePlugin(problem)
        self.pm.register(plugin, name=name)
        try:
            self._validate(plugin, name)
            yield plugin
        finally:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin, name)

    def _validate(self, plugin: object, name: str) -> None:
        for caller in self.pm.get_hookcallers(plugin) or []:
            if not caller.has_spec():
                known = ", ".join(sorted(n for n in dir(self.pm.hook) if n.startswith("tb_")))
                raise pluggy.PluginValidationError(
                    plugin, f"plugin {name!r}: unknown hook {caller.name}; known hooks: {known}"
                )
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                    raise pluggy.PluginValidationError(
                        plugin, f"plugin {name!r}: hook wrappers are not supported ({caller.name})"
                    )

    @property
    def plugin_names(self) -> list[str]:
        """Names of the plugins registered right now."""
        return sorted(name for name, _ in self.pm.list_name_plugin())

    # -- calling -----------------------------------------------------------------------------
    def _impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        caller: pluggy.HookCaller | None = getattr(self.pm.hook, hook_name, None)
        if caller is None or not caller.has_spec():
            raise ValueError(f"{hook_name!r} is not a tbsdk hook")
        return list(reversed(caller.get_hookimpls()))  # pluggy's own call order

    def _kwargs(self, hook_name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        caller: pluggy.HookCaller = getattr(self.pm.hook, hook_name)
        assert caller.spec is not None
        expected = set(caller.spec.argnames)
        if set(kwargs) != expected:
            raise TypeError(
                f"{hook_name} takes {sorted(expected)}, got {sorted(kwargs)}: pass every "
                "argument of the spec by name"
            )
        return kwargs

    async def fire(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call every implementation of an observer or registration hook, awaiting async ones.

        Returns the results in call order. Exceptions propagate (see the module docstring).
        """
        if hook_name not in OBSERVER_HOOKS:
            raise ValueError(f"{hook_name!r} is not an observer hook; use check_order")
        kwargs = self._kwargs(hook_name, kwargs)
        results: list[Any] = []
        for impl in self._impls(hook_name):
            result = impl.function(*(kwargs[arg] for arg in impl.argnames))
            if inspect.isawaitable(result):
                result = await result
            results.append(result)
        return results

    def fire_sync(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """:meth:`fire` for synchronous tests; cannot be used inside a running event loop."""
        results: list[Any] = _run(self.fire(hook_name, **kwargs))
        return results

    async def check_order(
        self, bot: BotInfo, intent: OrderIntent, instrument: Instrument
    ) -> str | None:
        """Ask every ``tb_check_order`` like the real host: ``None`` allows, else the vetoes.

        Every implementation is asked. A returned reason, an exception or exceeding
        ``check_timeout_s`` is a veto, reported as ``"<plugin>: <reason>"``; several are joined
        with ``"; "``. Money is at stake, so a broken check refuses the order (fail closed).
        """
        kwargs = {"bot": bot, "intent": intent, "instrument": instrument}
        vetoes: list[str] = []
        for impl in self._impls("tb_check_order"):
            name = impl.plugin_name
            try:
                verdict = await asyncio.wait_for(self._check(impl, kwargs), self.check_timeout_s)
            except TimeoutError:
                vetoes.append(f"{name}: check timed out after {self.check_timeout_s}s")
            except Exception as exc:  # noqa: BLE001 - isolation: a failing check is a veto
                vetoes.append(f"{name}: check failed ({type(exc).__name__}: {exc})")
            else:
                if verdict is not None:
                    vetoes.append(f"{name}: {verdict or 'vetoed without a reason'}")
        return "; ".join(vetoes) or None

    def check_order_sync(
        self, bot: BotInfo, intent: OrderIntent, instrument: Instrument
    ) -> str | None:
        """:meth:`check_order` for synchronous tests; cannot be used inside a running loop."""
        verdict: str | None = _run(self.check_order(bot, intent, instrument))
        return verdict

    @staticmethod
    async def _check(impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> Any:
        args = [kwargs[arg] for arg in impl.argnames]
        if inspect.iscoroutinefunction(impl.function):
            return await impl.function(*args)
        # A synchronous check may block; in a thread the time limit still applies.
        return await asyncio.to_thread(impl.function, *args)


def _run(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError("an event loop is running: use 'await host.fire(...)' / check_order")
